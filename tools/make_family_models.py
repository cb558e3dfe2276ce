#!/usr/bin/env python3
"""Random-weight models of the other families, in exactly the published transformers.js layouts.

    python tools/make_family_models.py --out test/fixtures

Makes three small folders (committed as fixtures; CI never rebuilds them):

  tiny-siglip2/     like onnx-community/siglip2-base-patch16-224-ONNX: model_type "siglip", a Gemma-style
                    tokenizer (BPE with byte fallback, "▁" for spaces, "$A <eos>" template, <pad> = 0,
                    do_lower_case in tokenizer_config.json), squash resize with bilinear, mean/std 0.5,
                    split towers with `pooler_output`, and the combined onnx/model.onnx (logits_per_image)
  tiny-siglip-multilingual/  like google/siglip-base-patch16-256-multilingual in Xenova's layout: a
                    SentencePiece Unigram tokenizer (Metaspace, "$A </s>", pad = eos) with
                    tokenizer_class SiglipTokenizer, trained on English, German, French and Spanish captions
  tiny-mobileclip/  like Xenova/mobileclip_s2: CLIP I/O (`text_embeds` / `image_embeds`), a text graph with
                    a fixed sequence length of 77, bilinear resize + centre crop, no normalisation

Weights are random (seeded; the ONNX files come out the same on every run, but the Unigram trainer
is not deterministic, so re-run make_family_reference.mjs after rebuilding): the point is the I/O, the
tokenizers and the preprocessing, checked
against transformers.js on the same folders (tools/make_family_reference.mjs). Sizes are tiny.
Needs torch, transformers, tokenizers, onnx, onnxruntime (pip's local mirror).
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
import train_tiny_clip as tiny  # noqa: E402  (the CLIP tower export and the int8 twins)

CORPUS = [
    "a photo of a red circle", "a blue square on the left", "an icon of a large yellow star",
    "a screenshot of a login form", "a diagram with arrows", "a green cross at the top",
    "ein Foto von einem roten Kreis", "ein blaues Quadrat auf der linken Seite", "ein großer gelber Stern",
    "une photo d'un cercle rouge", "un carré bleu à gauche", "une grande étoile jaune",
    "una foto de un círculo rojo", "un cuadrado azul a la izquierda", "una estrella amarilla grande",
    "the cat sat on the mat", "dogs and cats playing in the garden", "a purple triangle on a black background",
    "Straße, Größe, Übersicht, Ärger", "naïve café déjà vu", "ñandú pingüino",
] * 3


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


# ----------------------------------------------------------------------------- tokenizers

def gemma_style_tokenizer(out: Path) -> int:
    """BPE with byte fallback, spaces as ▁, no pre-tokenizer, "$A <eos>" template: Gemma's shape."""
    from tokenizers import Tokenizer, decoders, models, normalizers, processors, trainers
    specials = ["<pad>", "<eos>", "<bos>", "<unk>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Replace(" ", "▁")
    trainer = trainers.BpeTrainer(vocab_size=420, special_tokens=specials, show_progress=False)
    tok.train_from_iterator([t.lower() for t in CORPUS], trainer)
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    for b in range(256):  # the byte tokens a byte-fallback vocabulary has
        vocab.setdefault(f"<0x{b:02X}>", len(vocab))
    spec["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<eos>", "type_id": 0}}],
        "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<eos>", "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "<eos>", "type_id": 0}}],
        "special_tokens": {"<eos>": {"id": "<eos>", "ids": [1], "tokens": ["<eos>"]}},
    }
    spec["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}]}
    (out / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False))
    write_json(out / "tokenizer_config.json", {
        "add_bos_token": False, "add_eos_token": True, "bos_token": "<bos>", "eos_token": "<eos>",
        "pad_token": "<pad>", "unk_token": "<unk>", "do_lower_case": True, "model_max_length": 64,
        "padding_side": "right", "tokenizer_class": "GemmaTokenizer"})
    write_json(out / "special_tokens_map.json", {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"})
    return len(vocab)


def unigram_tokenizer(out: Path) -> int:
    """SentencePiece Unigram (Metaspace), "$A </s>", pad = eos: SigLIP's (T5-style) tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=300, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>", show_progress=False)
    tok.train_from_iterator([t.lower() for t in CORPUS], trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)])
    tok.save(str(out / "tokenizer.json"))
    write_json(out / "tokenizer_config.json", {
        "eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>", "do_lower_case": True,
        "model_max_length": 64, "tokenizer_class": "SiglipTokenizer"})
    write_json(out / "special_tokens_map.json", {"eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"})
    return tok.get_vocab_size()


# ----------------------------------------------------------------------------- SigLIP

class Named(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        out = self.inner(x)
        return out.last_hidden_state, out.pooler_output


def export_siglip_towers(model, onnx_dir: Path, ids: torch.Tensor, px: torch.Tensor) -> None:
    """The split towers as the transformers.js exports lay them out: last_hidden_state and pooler_output."""
    onnx_dir.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(Named(model.text_model), (ids,), str(onnx_dir / "text_model.onnx"), input_names=["input_ids"],
                          output_names=["last_hidden_state", "pooler_output"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                        "last_hidden_state": {0: "batch_size", 1: "sequence_length"},
                                        "pooler_output": {0: "batch_size"}})
        torch.onnx.export(Named(model.vision_model), (px,), str(onnx_dir / "vision_model.onnx"), input_names=["pixel_values"],
                          output_names=["last_hidden_state", "pooler_output"], opset_version=17, dynamo=False,
                          dynamic_axes={"pixel_values": {0: "batch_size"}, "last_hidden_state": {0: "batch_size"},
                                        "pooler_output": {0: "batch_size"}})


def siglip(out: Path, vocab: int, image: int, seed: int) -> None:
    from transformers import SiglipConfig, SiglipModel
    torch.manual_seed(seed)
    cfg = SiglipConfig(
        text_config={"vocab_size": vocab, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                     "num_attention_heads": 2, "max_position_embeddings": 64, "pad_token_id": 1, "eos_token_id": 1},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "image_size": image, "patch_size": 8},
    )
    model = SiglipModel(cfg).eval()
    with torch.no_grad():  # trained-looking values, not the init ones
        model.logit_scale.fill_(4.7244534)
        model.logit_bias.fill_(-1.5)
        for p in model.parameters():
            if p.dim() >= 2:
                p.mul_(3.0)
    cfg_json = json.loads(cfg.to_json_string())
    cfg_json["model_type"] = "siglip"
    write_json(out / "config.json", {k: cfg_json[k] for k in ("architectures", "model_type", "text_config", "vision_config") if k in cfg_json}
               | {"architectures": ["SiglipModel"]})
    write_json(out / "preprocessor_config.json", {
        "do_convert_rgb": None, "do_normalize": True, "do_rescale": True, "do_resize": True,
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "image_processor_type": "SiglipImageProcessor",
        "processor_class": "SiglipProcessor", "resample": 2, "rescale_factor": 0.00392156862745098,
        "size": {"height": image, "width": image}})
    onnx_dir = out / "onnx"
    ids = torch.ones(2, 64, dtype=torch.long)
    px = torch.rand(2, 3, image, image)
    export_siglip_towers(model, onnx_dir, ids, px)
    with torch.no_grad():
        class Joint(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, input_ids, pixel_values):
                o = self.m(input_ids=input_ids, pixel_values=pixel_values)
                return o.logits_per_image, o.logits_per_text, o.text_embeds, o.image_embeds

        torch.onnx.export(Joint(model), (ids, px), str(onnx_dir / "model.onnx"), input_names=["input_ids", "pixel_values"],
                          output_names=["logits_per_image", "logits_per_text", "text_embeds", "image_embeds"],
                          opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "text_batch_size", 1: "sequence_length"},
                                        "pixel_values": {0: "image_batch_size"},
                                        "logits_per_image": {0: "image_batch_size", 1: "text_batch_size"},
                                        "logits_per_text": {0: "text_batch_size", 1: "image_batch_size"},
                                        "text_embeds": {0: "text_batch_size"}, "image_embeds": {0: "image_batch_size"}})
    tiny.quantize_twins(onnx_dir)


# ----------------------------------------------------------------------------- MobileCLIP (CLIP I/O)

def mobileclip(out: Path, seed: int) -> None:
    from transformers import CLIPConfig, CLIPModel
    clip_dir = ROOT / "test/fixtures/tiny-clip"
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(clip_dir / name, out / name)
    tc = json.loads((clip_dir / "tokenizer_config.json").read_text())
    tc["model_max_length"] = 77
    write_json(out / "tokenizer_config.json", tc)
    vocab = len(json.loads((clip_dir / "tokenizer.json").read_text())["model"]["vocab"])
    torch.manual_seed(seed)
    cfg = CLIPConfig(
        text_config={"vocab_size": vocab, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                     "num_attention_heads": 2, "max_position_embeddings": 77, "eos_token_id": vocab - 1, "bos_token_id": vocab - 2,
                     "projection_dim": 24},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "image_size": 32, "patch_size": 8, "projection_dim": 24},
        projection_dim=24,
    )
    model = CLIPModel(cfg).eval()
    cfg_json = json.loads(cfg.to_json_string())
    write_json(out / "config.json", {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 24,
                                     "text_config": cfg_json["text_config"], "vision_config": cfg_json["vision_config"]})
    write_json(out / "preprocessor_config.json", {
        "crop_size": {"height": 32, "width": 32}, "do_center_crop": True, "do_convert_rgb": True, "do_normalize": False,
        "do_rescale": True, "do_resize": True, "feature_extractor_type": "CLIPFeatureExtractor",
        "image_processor_type": "CLIPFeatureExtractor", "resample": 2, "rescale_factor": 0.00392156862745098,
        "size": {"shortest_edge": 40}})
    text, vision = tiny.split_towers(model)
    onnx_dir = out / "onnx"
    # MobileCLIP's exported text graph takes exactly 77 tokens: only the batch is dynamic.
    tiny.export_towers(tiny.TextTower(text), tiny.VisionTower(vision), onnx_dir, torch.ones(1, 77, dtype=torch.long),
                       torch.rand(1, 3, 32, 32), fixed_sequence=True)
    tiny.quantize_twins(onnx_dir)


IMAGES = ["blue-circle.png", "blue-star.png", "copies/green-triangle-big.png", "copies/red-circle-copy.jpg"]


def python_reference(d: Path) -> None:
    """The Python reference of the image side: transformers' image processor (PIL) and onnxruntime.

    transformers.js resizes with sharp's affine transform, which does not low-pass when it shrinks;
    PIL (and this product, through sharp's resize) does. Where they differ, Python is the reference.
    """
    import numpy as np
    import onnxruntime as ort
    from PIL import Image
    from transformers import CLIPImageProcessor, SiglipImageProcessor
    pre = json.loads((d / "preprocessor_config.json").read_text())
    cls = SiglipImageProcessor if pre.get("image_processor_type") == "SiglipImageProcessor" else CLIPImageProcessor
    proc = cls(**{k: v for k, v in pre.items() if k not in ("image_processor_type", "feature_extractor_type", "processor_class")})
    vision = ort.InferenceSession(str(d / "onnx/vision_model.onnx"))
    output = "pooler_output" if cls is SiglipImageProcessor else "image_embeds"
    out = {"images": IMAGES, "pixels": [], "image": []}
    for name in IMAGES:
        px = proc(images=Image.open(ROOT / "test/fixtures/images" / name).convert("RGB"), return_tensors="np")["pixel_values"].astype(np.float32)
        v = vision.run([output], {"pixel_values": px})[0][0]
        out["pixels"].append(px[0].reshape(-1).round(5).tolist())
        out["image"].append((v / np.linalg.norm(v)).round(6).tolist())
    (d.parent / f"{d.name}-python.json").write_text(json.dumps(out) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "test/fixtures"))
    ap.add_argument("--python-reference-only", action="store_true", help="keep the models, redo the Python reference values")
    args = ap.parse_args()
    base = Path(args.out)
    if args.python_reference_only:
        for name in ("tiny-siglip2", "tiny-siglip-multilingual", "tiny-mobileclip"):
            python_reference(base / name)
        return 0
    for name, make in (("tiny-siglip2", lambda d: siglip(d, gemma_style_tokenizer(d), 32, 1)),
                       ("tiny-siglip-multilingual", lambda d: siglip(d, unigram_tokenizer(d), 32, 2)),
                       ("tiny-mobileclip", lambda d: mobileclip(d, 3))):
        d = base / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        make(d)
        python_reference(d)
        print(name, sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
