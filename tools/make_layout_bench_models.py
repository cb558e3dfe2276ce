#!/usr/bin/env python3
"""Real-size, random-weight models in the Immich and rclip layouts, for the speed figures of `npm run bench`.

    python tools/make_layout_bench_models.py --out <dir> --model immich-b32|rclip-b32-256|immich-siglip2-b32-256

Each is exported the way tools/make_layout_models.py exports the fixtures (that is, the way Immich's
exporter and rclip's convert_model.py do), from OpenCLIP's own configuration of the published model:
  immich-b32              ViT-B-32 (immich-app/ViT-B-32__openai and __laion2b-s34b-b79k): 224 px, batch 1
  rclip-b32-256           ViT-B-32-256 (rclip's ViT-B-32-256-datacomp_s34b_b86k): 256 px, any batch
  immich-siglip2-b32-256  ViT-B-32-SigLIP2-256 (immich-app/ViT-B-32-SigLIP2-256__webli): 256 px, batch 1
One difference, said in the bench's output: the SigLIP 2 text tower gets a 32,000-token vocabulary
instead of Gemma's 256,000 (a lookup table: the time per query is unchanged, the file smaller), with
the tiny fixture's Gemma-style tokenizer. The CLIP tokenizers are the real ones from ../shared.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_layout_models as layouts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", required=True, choices=["immich-b32", "rclip-b32-256", "immich-siglip2-b32-256"])
    ap.add_argument("--clip-tokenizer-dir", type=Path, default=layouts.DEFAULT_CLIP_TOKENIZER_DIR)
    args = ap.parse_args()
    import torch
    torch.manual_seed(layouts.SEED)
    open_clip = layouts.import_open_clip()
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    vocab = layouts.ClipVocab(args.clip_tokenizer_dir, layouts.CLIP_MERGES_FULL)
    if args.model == "immich-b32":
        pcfg = {k: v for k, v in open_clip.get_pretrained_cfg("ViT-B-32", "openai").items()
                if k in ("mean", "std", "interpolation", "resize_mode")}
        layouts.immich_export(open_clip, "ViT-B-32", out, pcfg, layouts.SEED)
        layouts.write_immich_clip_tokenizer(vocab, out / "textual")
    elif args.model == "immich-siglip2-b32-256":
        cfg = json.loads(json.dumps(open_clip.get_model_config("ViT-B-32-SigLIP2-256")))
        cfg["text_cfg"]["vocab_size"] = 32000
        name = "ViT-B-32-SigLIP2-256-Bench"
        layouts.register_config(open_clip, name, cfg)
        pcfg = {k: v for k, v in open_clip.get_pretrained_cfg("ViT-B-32-SigLIP2-256", "webli").items()
                if k in ("mean", "std", "interpolation", "resize_mode")}
        layouts.immich_export(open_clip, name, out, pcfg, layouts.SEED + 1)
        tiny = ROOT / "test" / "fixtures" / "tiny-immich-siglip2" / "textual"
        for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            shutil.copyfile(tiny / f, out / "textual" / f)
    else:
        model = open_clip.create_model("ViT-B-32-256", pretrained=None)
        layouts.randomise(model, layouts.SEED + 2)
        model.eval()
        torch.backends.mha.set_fastpath_enabled(False)
        layouts.rclip_export(model, out / layouts.RCLIP_MODEL_SUBDIR)
        vocab.write_bpe_gz(out / "tokenizer" / "bpe_simple_vocab_16e6.txt.gz")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{args.model}: {size / 1e6:.0f} MB in {out}")


if __name__ == "__main__":
    main()
