#!/usr/bin/env python3
"""Train a second tiny CLIP, on varied scenes, for measuring classes taught by example.

    python tools/train_varied_clip.py --out test/fixtures/tiny-clip-varied

The test model (tools/train_tiny_clip.py) sees one shape on a plain background at five positions and
two sizes: on harder scenes its zero-shot labels are near chance, so examples could only help. This
one is trained the same way (the same tokenizer recipe, towers, InfoNCE loss and export) on scenes
like test/hardShapes.ts draws: eight shapes in near-miss colours, at any size and position, over
plain, gradient, noise or striped backgrounds, often with a second, smaller shape. Its captions name
the main shape always and its colour often, so words name shapes well and colour groups poorly.
Only the fp32 towers are exported (no int8 twins: the few-shot tests need the vectors, not speed).

Needs torch, transformers, tokenizers, onnx, pillow, numpy (pip's local mirror).
"""
from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from train_tiny_clip import CONTEXT, IMAGE_SIZE, encode_batch, export_towers, preprocess, split_towers, \
    TextTower, VisionTower, tiny_config, to_input, train, train_tokenizer, write_model_json

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 170, 40),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 20),
    "purple": (140, 40, 180),
    "orange": (250, 140, 10),
}
SHAPES = ["circle", "square", "triangle", "star", "cross", "diamond", "hexagon", "ring"]
BACKGROUNDS = ["plain", "gradient", "noise", "stripes"]


def clamp(c):
    return tuple(max(0, min(255, int(round(v)))) for v in c)


def near_miss(rng: random.Random, colour: str):
    other = COLOURS[rng.choice(list(COLOURS))]
    t = rng.uniform(0, 0.35)
    return clamp(a * (1 - t) + b * t + rng.uniform(-20, 20) for a, b in zip(COLOURS[colour], other))


def background(rng: random.Random, kind: str, w: int, h: int) -> Image.Image:
    grey = lambda: (lambda g: (g, g, g))(rng.choice([20, 128, 240]) + rng.uniform(-15, 15))
    pastel = lambda: tuple(rng.uniform(60, 240) for _ in range(3))
    if kind == "plain":
        return Image.new("RGB", (w, h), clamp(grey()))
    if kind == "gradient":
        a, b = np.array(pastel()), np.array(pastel())
        t = np.linspace(0, 1, h)[:, None, None]
        arr = np.broadcast_to(a * (1 - t) + b * t, (h, w, 3))
        return Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    if kind == "stripes":
        img = Image.new("RGB", (w * 3, h * 3), clamp(pastel()))
        d = ImageDraw.Draw(img)
        step = rng.randint(6, 15)
        for x in range(0, w * 3, 2 * step):
            d.rectangle([x, 0, x + step - 1, h * 3], fill=clamp(grey()))
        img = img.rotate(rng.uniform(0, 180))
        return img.crop((w, h, 2 * w, 2 * h))
    base = grey()[0]
    cell = rng.randint(4, 8)
    small = np.clip(base + np.array([[rng.uniform(-45, 45) for _ in range(w // cell + 1)] for _ in range(h // cell + 1)]), 0, 255)
    arr = np.repeat(np.repeat(small, cell, 0), cell, 1)[:h, :w]
    return Image.fromarray(np.stack([arr] * 3, -1).astype(np.uint8))


def polygon(shape: str, cx: float, cy: float, r: float):
    if shape == "triangle":
        return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    if shape == "star":
        return [(cx + (r if i % 2 == 0 else r * 0.45) * math.cos(-math.pi / 2 + i * math.pi / 5),
                 cy + (r if i % 2 == 0 else r * 0.45) * math.sin(-math.pi / 2 + i * math.pi / 5)) for i in range(10)]
    if shape == "diamond":
        return [(cx, cy - r), (cx + r * 0.7, cy), (cx, cy + r), (cx - r * 0.7, cy)]
    if shape == "hexagon":
        return [(cx + r * math.cos(i * math.pi / 3), cy + r * math.sin(i * math.pi / 3)) for i in range(6)]
    t = r * 0.35  # cross
    return [(cx - t, cy - r), (cx + t, cy - r), (cx + t, cy - t), (cx + r, cy - t), (cx + r, cy + t), (cx + t, cy + t),
            (cx + t, cy + r), (cx - t, cy + r), (cx - t, cy + t), (cx - r, cy + t), (cx - r, cy - t), (cx - t, cy - t)]


def draw_shape(d: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, fill):
    if shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "ring":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=fill, width=max(2, int(r * 0.35)))
    elif shape == "square":
        q = r * 0.85
        d.rectangle([cx - q, cy - q, cx + q, cy + q], fill=fill)
    else:
        d.polygon(polygon(shape, cx, cy, r), fill=fill)


def scene(rng: random.Random, colour: str, shape: str, bg: str, distractor: str | None) -> Image.Image:
    w = rng.randint(72, 160)
    h = max(64, int(w * rng.uniform(0.7, 1.4)))
    img = background(rng, bg, w, h)
    d = ImageDraw.Draw(img)
    s = min(w, h)
    ox, oy = (w - s) / 2, (h - s) / 2
    r = s * rng.uniform(0.16, 0.32)
    cx = ox + r + rng.uniform(0, s - 2 * r)
    cy = oy + r + rng.uniform(0, s - 2 * r)
    if distractor:
        r2 = r * rng.uniform(0.35, 0.6)
        dx = ox + s - r2 - 1 if cx < ox + s / 2 else ox + r2 + 1
        dy = oy + s - r2 - 1 if cy < oy + s / 2 else oy + r2 + 1
        draw_shape(d, distractor, dx, dy, r2, near_miss(rng, rng.choice(list(COLOURS))))
    draw_shape(d, shape, cx, cy, r, near_miss(rng, colour))
    return img


def sample(rng: random.Random):
    shape = rng.choice(SHAPES)
    distractor = rng.choice([s for s in SHAPES if s != shape]) if rng.random() < 0.4 else None
    return rng.choice(list(COLOURS)), shape, rng.choice(BACKGROUNDS), distractor


def caption(rng: random.Random, colour: str, shape: str, bg: str, distractor: str | None) -> str:
    words = f"{colour} {shape}" if rng.random() < 0.6 else shape
    prefix = rng.choice(["a ", "a photo of a ", "an image of a ", "a picture of a ", "an icon of a ", "a drawing of a ", ""])
    text = prefix + words
    if distractor and rng.random() < 0.3:
        text += f" and a small {distractor}"
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("test/fixtures/tiny-clip-varied"))
    ap.add_argument("--train-images", type=int, default=16000)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--seed", type=int, default=4321)
    args = ap.parse_args()

    from transformers import CLIPModel
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    t0 = time.time()
    cap_rng = random.Random(args.seed + 1)
    tok, bos, eos = train_tokenizer([caption(cap_rng, *sample(cap_rng)) for _ in range(5000)], 300)
    vocab_size = tok.get_vocab_size()
    attrs = [sample(rng) for _ in range(args.train_images)]
    pixels = np.stack([preprocess(scene(rng, *a)) for a in attrs])
    print(f"generated {len(attrs)} training images in {time.time() - t0:.1f}s; vocab {vocab_size}", flush=True)

    config = tiny_config(vocab_size, bos, eos)
    model = CLIPModel(config)
    train(model, pixels, lambda idx: [caption(rng, *attrs[i]) for i in idx], tok, bos, eos, args.steps, args.batch, t0)

    # Held-out zero-shot accuracy over the eight shapes, with the product's default prompts.
    test_rng = random.Random(args.seed + 99)
    held = [sample(test_rng) for _ in range(400)]
    prompts = [t.replace("{}", s) for s in SHAPES for t in ("a photo of a {}.", "an icon of a {}.", "a drawing of a {}.", "a picture of a {}.")]
    with torch.no_grad():
        both = model(input_ids=encode_batch(tok, prompts, bos, eos),
                     pixel_values=to_input(np.stack([preprocess(scene(test_rng, *a)) for a in held])))
        ie = both.image_embeds  # L2-normalised by CLIPModel
        te = both.text_embeds.view(len(SHAPES), 4, -1).mean(1)
        te = te / te.norm(dim=-1, keepdim=True)
        acc = (ie @ te.T).argmax(1).eq(torch.tensor([SHAPES.index(a[1]) for a in held])).float().mean().item()
    print(f"held-out zero-shot shape accuracy ({len(held)} scenes, {len(SHAPES)} shapes): {acc:.3f}")

    out = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    text, vision = split_towers(model)
    export_towers(TextTower(text), VisionTower(vision), out / "onnx", torch.randint(0, vocab_size, (2, CONTEXT)),
                  torch.randn(2, 3, IMAGE_SIZE, IMAGE_SIZE))
    write_model_json(out, config, model, tok)
    (out / "README.md").write_text(
        "# tiny-clip-varied\n\nA tiny CLIP trained by `tools/train_varied_clip.py` on varied scenes (shapes: "
        + ", ".join(SHAPES) + "; colours: " + ", ".join(COLOURS) + "; plain, gradient, noise and striped "
        f"backgrounds; distracting second shapes), fp32 only. Held-out zero-shot shape accuracy at export: {acc:.3f}. "
        "A test fixture for classes taught by example, not a useful model.\n")
    print(f"done in {time.time() - t0:.0f}s -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
