#!/usr/bin/env python3
"""Real-size, random-weight models of the other families, for the speed figures of `npm run bench`.

    python tools/make_family_bench_models.py --out <dir> --family siglip2|siglip-multilingual|mobileclip-s2 \
        --clip-tokenizer ../shared/clip-tokenizer

The architectures are the published ones, so inference costs what the real models cost:
  siglip2              SigLIP 2 base, patch 16, 224 px (onnx-community/siglip2-base-patch16-224-ONNX):
                       ViT-B/16 vision (768 wide, 12 layers, MAP head), 12-layer 768-wide text, 64 tokens
  siglip-multilingual  SigLIP base, patch 16, 256 px, multilingual: the same towers at 256 px
  mobileclip-s2        MobileCLIP-S2 (Xenova/mobileclip_s2): timm's fastvit_mci2 image tower (35.7 M
                       parameters, re-parameterised for inference as Apple exports it) at 256 px, and a
                       12-layer 512-wide text transformer over a fixed 77-token input
One difference, said here and in the bench's output: the SigLIP text towers get a 32,000-token
vocabulary instead of 256,000 (Gemma) / 250,000 (multilingual). The embedding table is a lookup,
so the time per query is unchanged; only the file is smaller. Tokenizers come from the tiny fixtures
(the ids stay below 32,000) and ../shared's CLIP tokenizer. int8 twins as transformers.js makes them.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def tolerant_torchvision() -> None:
    """timm imports torchvision; the mirror's torchvision is a CUDA build whose native ops cannot
    load next to the CPU torch. Its fake-op registrations are then skipped (nothing here uses them)."""
    import torch.library as lib
    original = lib.register_fake

    def register_fake(op, func=None, /, **kw):
        def deco(f):
            try:
                return original(op, f, **kw)
            except Exception:
                return f
        return deco(func) if func is not None else deco

    lib.register_fake = register_fake


tolerant_torchvision()  # before transformers or timm import it


def siglip_folder(out: Path, image: int, tokenizer_from: str) -> None:
    import make_family_models as fam
    from transformers import SiglipConfig, SiglipModel
    torch.manual_seed(0)
    cfg = SiglipConfig(
        text_config={"vocab_size": 32000, "max_position_embeddings": 64, "pad_token_id": 0, "eos_token_id": 1},
        vision_config={"image_size": image, "patch_size": 16},
    )
    model = SiglipModel(cfg).eval()
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(ROOT / "test/fixtures" / tokenizer_from / name, out / name)
    cfg_json = json.loads(cfg.to_json_string())
    fam.write_json(out / "config.json", {"architectures": ["SiglipModel"], "model_type": "siglip",
                                         "text_config": cfg_json["text_config"], "vision_config": cfg_json["vision_config"],
                                         "logit_scale": 4.7244534, "logit_bias": -16.77})
    fam.write_json(out / "preprocessor_config.json", {
        "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
        "image_processor_type": "SiglipImageProcessor", "resample": 2, "rescale_factor": 0.00392156862745098,
        "size": {"height": image, "width": image}})
    onnx_dir = out / "onnx"
    fam.export_siglip_towers(model, onnx_dir, torch.ones(1, 64, dtype=torch.long), torch.rand(1, 3, image, image))
    fam.tiny.quantize_twins(onnx_dir)


def mobileclip_folder(out: Path, clip_tokenizer: Path) -> None:
    import make_family_models as fam
    import timm
    from timm.utils.model import reparameterize_model
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection
    torch.manual_seed(0)
    vision = reparameterize_model(timm.create_model("fastvit_mci2", num_classes=512).eval())
    text_cfg = CLIPTextConfig(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                              num_attention_heads=8, max_position_embeddings=77, projection_dim=512,
                              bos_token_id=49406, eos_token_id=49407)
    text = CLIPTextModelWithProjection(text_cfg).eval()
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (clip_tokenizer / name).exists():
            shutil.copy(clip_tokenizer / name, out / name)
    fam.write_json(out / "config.json", {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 512,
                                         "text_config": json.loads(text_cfg.to_json_string())})
    fam.write_json(out / "preprocessor_config.json", {
        "crop_size": {"height": 256, "width": 256}, "do_center_crop": True, "do_normalize": False, "do_rescale": True,
        "do_resize": True, "image_processor_type": "CLIPFeatureExtractor", "resample": 2,
        "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 256}})

    onnx_dir = out / "onnx"
    fam.tiny.export_towers(fam.tiny.TextTower(text), vision, onnx_dir, torch.ones(1, 77, dtype=torch.long),
                           torch.rand(1, 3, 256, 256), fixed_sequence=True)
    fam.tiny.quantize_twins(onnx_dir)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--family", required=True, choices=["siglip2", "siglip-multilingual", "mobileclip-s2"])
    ap.add_argument("--clip-tokenizer", type=Path, default=ROOT.parent / "shared/clip-tokenizer")
    args = ap.parse_args()
    tmp = args.out.with_name(args.out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if args.family == "siglip2":
        siglip_folder(tmp, 224, "tiny-siglip2")
    elif args.family == "siglip-multilingual":
        siglip_folder(tmp, 256, "tiny-siglip-multilingual")
    else:
        mobileclip_folder(tmp, args.clip_tokenizer)
    shutil.rmtree(args.out, ignore_errors=True)
    tmp.rename(args.out)
    print(args.out, sorted(p.name for p in (args.out / "onnx").iterdir()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
