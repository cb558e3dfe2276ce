#!/usr/bin/env python3
"""Reference embeddings of the tiny test model, made the Hugging Face way, for the encoder parity test.

    python tools/make_reference_embeddings.py

Images go through transformers' CLIPImageProcessor (the model folder's preprocessor_config.json)
and texts through the `tokenizers` library with OpenAI's truncation; both through onnxruntime's
Python API on the model's ONNX files. Writes test/fixtures/tiny-clip-reference.json.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "test/fixtures/tiny-clip"
IMAGES = ROOT / "test/fixtures/images"
TEXTS = ["a photo of a red circle", "blue square on the left", "an icon of a large yellow star",
         "green cross at the top on a black background", "purple triangle"]


def main() -> int:
    from transformers import CLIPImageProcessor
    pre = json.loads((MODEL / "preprocessor_config.json").read_text())
    proc = CLIPImageProcessor(**{k: v for k, v in pre.items() if k not in ("image_processor_type", "feature_extractor_type")})
    cfg = json.loads((MODEL / "config.json").read_text())
    ctx = cfg["text_config"]["max_position_embeddings"]
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    bos, eos = tok.token_to_id("<|startoftext|>"), tok.token_to_id("<|endoftext|>")
    vision = ort.InferenceSession(str(MODEL / "onnx/vision_model.onnx"))
    text = ort.InferenceSession(str(MODEL / "onnx/text_model.onnx"))
    out = {"images": {}, "texts": {}}
    names = sorted(p.name for p in IMAGES.glob("*.png"))[:12]
    for name in names:
        px = proc(images=Image.open(IMAGES / name).convert("RGB"), return_tensors="np")["pixel_values"]
        v = vision.run(["image_embeds"], {"pixel_values": px.astype(np.float32)})[0][0]
        out["images"][name] = (v / np.linalg.norm(v)).round(6).tolist()
    for t in TEXTS:
        ids = [bos] + tok.encode(t, add_special_tokens=False).ids[: ctx - 2] + [eos]
        v = text.run(["text_embeds"], {"input_ids": np.array([ids], dtype=np.int64)})[0][0]
        out["texts"][t] = {"ids": ids, "vector": (v / np.linalg.norm(v)).round(6).tolist()}
    (ROOT / "test/fixtures/tiny-clip-reference.json").write_text(json.dumps(out) + "\n")
    print(f"{len(out['images'])} images, {len(out['texts'])} texts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
