#!/usr/bin/env python3
"""Make reference tensors for the preprocessing parity test, with Hugging Face's CLIPImageProcessor.

    python tools/make_preprocess_reference.py --out test/fixtures/preprocess

Writes into <out>:
  preprocessor_config.json   OpenAI CLIP ViT-B/32's preprocessing (224, bicubic, CLIP mean/std)
  <name>.<ext>               input images: a photo-like JPEG, a portrait PNG, a tiny PNG (upsampled),
                             a grey PNG, and an EXIF-rotated JPEG
  <name>.ref.png             CLIPImageProcessor's output tensor, stored losslessly: the processor's
                             float output is (u8 / 255 - mean) / std of an 8-bit image, so the 8-bit
                             image is recovered exactly and the test rebuilds the float tensor from it.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CONFIG = {
    "crop_size": {"height": 224, "width": 224},
    "do_center_crop": True,
    "do_convert_rgb": True,
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_processor_type": "CLIPImageProcessor",
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "resample": 3,
    "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 224},
}


def photo_like(w: int, h: int, seed: int) -> Image.Image:
    """Smooth gradients, shapes and texture: detail at many scales, like a photograph."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([
        128 + 100 * np.sin(x / 37.0 + seed) * np.cos(y / 53.0),
        128 + 90 * np.cos(x / 71.0) * np.sin(y / 29.0 + seed),
        128 + 80 * np.sin((x + y) / 47.0),
    ], axis=-1)
    base += rng.normal(0, 12, size=base.shape)
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    for _ in range(25):
        cx, cy, r = rng.integers(0, w), rng.integers(0, h), rng.integers(5, max(6, min(w, h) // 6))
        col = tuple(int(c) for c in rng.integers(0, 255, 3))
        if rng.random() < 0.5:
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
        else:
            d.rectangle([cx - r, cy - r, cx + r, cy + r // 2], outline=col, width=3)
    return img.filter(ImageFilter.GaussianBlur(0.6))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("test/fixtures/preprocess"))
    args = ap.parse_args()
    from transformers import CLIPImageProcessor

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "preprocessor_config.json").write_text(json.dumps(CONFIG, indent=2) + "\n")
    proc = CLIPImageProcessor(**{k: v for k, v in CONFIG.items() if k != "image_processor_type"})

    inputs = {}
    photo_like(640, 427, 1).save(out / "photo.jpg", quality=92)
    inputs["photo"] = "photo.jpg"
    photo_like(300, 500, 2).save(out / "portrait.png")
    inputs["portrait"] = "portrait.png"
    photo_like(50, 40, 3).save(out / "tiny.png")
    inputs["tiny"] = "tiny.png"
    photo_like(333, 256, 4).convert("L").save(out / "grey.png")
    inputs["grey"] = "grey.png"
    # EXIF orientation 6 (rotate 90° clockwise to display): stored sideways.
    upright = photo_like(400, 260, 5)
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(out / "exif-rotated.jpg", quality=95, exif=exif.tobytes())
    inputs["exif-rotated"] = "exif-rotated.jpg"

    mean = np.array(CONFIG["image_mean"], dtype=np.float32).reshape(3, 1, 1)
    std = np.array(CONFIG["image_std"], dtype=np.float32).reshape(3, 1, 1)
    from PIL import ImageOps
    for name, file in inputs.items():
        img = Image.open(out / file)
        # transformers applies no EXIF orientation; a viewer (and our product) does, so the
        # reference is made from the image as displayed.
        img = ImageOps.exif_transpose(img)
        tensor = proc(images=img, return_tensors="np")["pixel_values"][0]  # 3, H, W float32
        u8 = np.rint((tensor * std + mean) * 255.0)
        assert np.abs(u8 - (tensor * std + mean) * 255.0).max() < 1e-2, name
        Image.fromarray(np.clip(u8, 0, 255).astype(np.uint8).transpose(1, 2, 0)).save(out / f"{name}.ref.png")
        print(f"{name}: {img.size} -> {tensor.shape}")
    (out / "inputs.json").write_text(json.dumps(inputs, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
