#!/usr/bin/env python3
"""Build a real-size CLIP ViT-B/32 with random weights, exported exactly like transformers.js's
Xenova/clip-vit-base-patch32, for the speed benchmark (npm run bench).

    python tools/make_bench_model.py --out <dir> --tokenizer ../shared/clip-tokenizer

The architecture is OpenAI's ViT-B/32 (transformers' CLIPConfig defaults: vision 224 px, patch 32,
width 768, 12 layers; text width 512, 12 layers, context 77; projection 512), so inference costs
what the real model costs; the weights are random, so the embeddings mean nothing. int8 twins
are made as transformers.js makes its *_quantized.onnx (dynamic, per channel, reduce_range;
QUInt8 weights for vision, QInt8 for text). Also writes onnx/matmul.onnx (a 2048^3 fp32 MatMul)
for the GFLOP/s context figure.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--tokenizer", type=Path, required=True, help="folder with CLIP's tokenizer.json")
    args = ap.parse_args()
    import torch
    import onnx
    from onnx import TensorProto, helper
    from transformers import CLIPConfig, CLIPModel
    import train_tiny_clip as tiny

    torch.manual_seed(0)
    config = CLIPConfig()  # ViT-B/32
    model = CLIPModel(config).eval()
    out = args.out
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tiny.CONTEXT = config.text_config.max_position_embeddings
    tiny.IMAGE_SIZE = config.vision_config.image_size
    tiny.export(model, tmp, config.text_config.vocab_size)
    cfg = config.to_dict()
    cfg["architectures"] = ["CLIPModel"]
    (tmp / "config.json").write_text(json.dumps(cfg, indent=2))
    (tmp / "preprocessor_config.json").write_text(json.dumps({
        "crop_size": {"height": 224, "width": 224}, "do_center_crop": True, "do_convert_rgb": True,
        "do_normalize": True, "do_rescale": True, "do_resize": True,
        "feature_extractor_type": "CLIPFeatureExtractor", "image_processor_type": "CLIPImageProcessor",
        "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
        "resample": 3, "rescale_factor": 1 / 255, "size": {"shortest_edge": 224}}, indent=2))
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(args.tokenizer / name, tmp / name)
    n = 2048
    g = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])], "matmul",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n]), helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), str(tmp / "onnx" / "matmul.onnx"))
    (tmp / "README.md").write_text("Random-weight CLIP ViT-B/32 (real architecture) for npm run bench. Not a useful model.\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    print(f"bench model in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
