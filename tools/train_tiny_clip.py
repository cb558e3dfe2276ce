#!/usr/bin/env python3
"""Train a tiny CLIP on generated shape images and export it in the transformers.js layout.

    python tools/train_tiny_clip.py --out test/fixtures/tiny-clip --fixtures test/fixtures/images

What it makes (all committed as test fixtures; CI never retrains):
  <out>/config.json, preprocessor_config.json, tokenizer.json, tokenizer_config.json,
  special_tokens_map.json, onnx/text_model.onnx, onnx/vision_model.onnx and their
  *_quantized.onnx twins (dynamic int8, made the way transformers.js makes them), and
  <fixtures>/: one held-out image per (colour, shape) plus a few near-copies.

The model is a real CLIP, only small: a ViT image tower and a causal text transformer with
projection heads and a learned temperature, trained with the symmetric InfoNCE loss over
cosine similarities (transformers' CLIPModel with return_loss=True). Its tokenizer is a
byte-level BPE trained on the captions, laid out like OpenAI's (256 bytes, 256 bytes+</w>,
merges, then <|startoftext|> and <|endoftext|> as the two highest ids, so that pooling at
the end-of-text token works both by argmax and by eos id).

Needs torch, transformers, tokenizers, onnx, onnxruntime, pillow, numpy (pip's local mirror).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 170, 40),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 20),
    "purple": (140, 40, 180),
    "orange": (250, 140, 10),
}
SHAPES = ["circle", "square", "triangle", "star", "cross"]
BACKGROUNDS = {"white": (250, 250, 250), "black": (10, 10, 10), "gray": (128, 128, 128)}
SIZES = ["small", "large"]
POSITIONS = ["in the center", "on the left", "on the right", "at the top", "at the bottom"]

IMAGE_SIZE = 64  # the tiny model's input (preprocessor_config.json says so, not the code)
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
CONTEXT = 32


# ----------------------------------------------------------------------------- images

def shape_points(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    if shape == "triangle":
        return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    if shape == "star":
        pts = []
        for i in range(10):
            a = -math.pi / 2 + i * math.pi / 5
            rr = r if i % 2 == 0 else r * 0.45
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        return pts
    if shape == "cross":
        t = r * 0.35
        return [(cx - t, cy - r), (cx + t, cy - r), (cx + t, cy - t), (cx + r, cy - t), (cx + r, cy + t),
                (cx + t, cy + t), (cx + t, cy + r), (cx - t, cy + r), (cx - t, cy + t), (cx - r, cy + t),
                (cx - r, cy - t), (cx - t, cy - t)]
    raise ValueError(shape)


def draw_image(rng: random.Random, colour: str, shape: str, bg: str, size: str, pos: str,
               width: int | None = None, height: int | None = None) -> Image.Image:
    """A shape on a background; drawn inside the central square so a centre crop keeps it."""
    w = width or rng.randint(72, 160)
    h = height or max(64, int(w * rng.uniform(0.7, 1.4)))
    jitter = lambda c: tuple(max(0, min(255, v + rng.randint(-18, 18))) for v in c)
    img = Image.new("RGB", (w, h), jitter(BACKGROUNDS[bg]))
    d = ImageDraw.Draw(img)
    s = min(w, h)
    ox, oy = (w - s) / 2, (h - s) / 2
    r = s * (rng.uniform(0.10, 0.15) if size == "small" else rng.uniform(0.25, 0.32))
    off = s * 0.24
    dx, dy = {"in the center": (0, 0), "on the left": (-off, 0), "on the right": (off, 0),
              "at the top": (0, -off), "at the bottom": (0, off)}[pos]
    cx = ox + s / 2 + dx + rng.uniform(-2, 2)
    cy = oy + s / 2 + dy + rng.uniform(-2, 2)
    fill = jitter(COLOURS[colour])
    if shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "square":
        q = r * 0.85
        d.rectangle([cx - q, cy - q, cx + q, cy + q], fill=fill)
    else:
        d.polygon(shape_points(shape, cx, cy, r), fill=fill)
    return img


def caption(rng: random.Random, colour: str, shape: str, bg: str, size: str, pos: str) -> str:
    """Captions name the colour and shape always, other attributes sometimes, in varied words."""
    parts = []
    if rng.random() < 0.4:
        parts.append(size)
    parts += [colour, shape]
    text = " ".join(parts)
    if rng.random() < 0.4:
        text += " " + pos
    if rng.random() < 0.4:
        text += f" on a {bg} background"
    prefix = rng.choice(["a ", "a photo of a ", "an image of a ", "a picture of a ", "an icon of a ", ""])
    return prefix + text


def preprocess(img: Image.Image) -> np.ndarray:
    """HF CLIPImageProcessor's steps: shortest side to IMAGE_SIZE (bicubic), centre crop; uint8 HWC."""
    w, h = img.size
    if w <= h:
        nw, nh = IMAGE_SIZE, int(IMAGE_SIZE * h / w)
    else:
        nw, nh = int(IMAGE_SIZE * w / h), IMAGE_SIZE
    img = img.resize((nw, nh), Image.BICUBIC)
    left, top = (nw - IMAGE_SIZE) // 2, (nh - IMAGE_SIZE) // 2
    return np.asarray(img.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE)), dtype=np.uint8)


def sample(rng: random.Random):
    return (rng.choice(list(COLOURS)), rng.choice(SHAPES), rng.choice(list(BACKGROUNDS)),
            rng.choice(SIZES), rng.choice(POSITIONS))


# ----------------------------------------------------------------------------- tokenizer

def train_tokenizer(texts: list[str], merges_wanted: int):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    def pipeline(tok):
        tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "),
                                               normalizers.Lowercase()])
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(r"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"),
                                 behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
        tok.decoder = decoders.ByteLevel()

    probe = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    pipeline(probe)
    trainer = trainers.BpeTrainer(vocab_size=512 + merges_wanted, end_of_word_suffix="</w>",
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    probe.train_from_iterator(texts, trainer)
    merges = json.loads(probe.to_str())["model"]["merges"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in merges][:merges_wanted]

    # Rebuild the vocabulary in OpenAI's layout: bytes, bytes + </w>, one token per merge, specials last.
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet(), key=lambda c: ord(c))
    vocab: dict[str, int] = {}
    for c in alphabet:
        vocab[c] = len(vocab)
    for c in alphabet:
        vocab[c + "</w>"] = len(vocab)
    kept = []
    for a, b in merges:
        if a in vocab and b in vocab and a + b not in vocab:
            vocab[a + b] = len(vocab)
            kept.append((a, b))
    bos, eos = "<|startoftext|>", "<|endoftext|>"
    vocab[bos] = len(vocab)
    vocab[eos] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=kept, unk_token=eos, end_of_word_suffix="</w>",
                               continuing_subword_prefix="", fuse_unk=False))
    pipeline(tok)
    from tokenizers import AddedToken
    tok.add_special_tokens([AddedToken(bos, special=True, normalized=True),
                            AddedToken(eos, special=True, normalized=True)])
    tok.post_processor = processors.RobertaProcessing((eos, vocab[eos]), (bos, vocab[bos]),
                                                      trim_offsets=False, add_prefix_space=False)
    return tok, vocab[bos], vocab[eos]


def encode_batch(tok, texts: list[str], bos: int, eos: int) -> torch.Tensor:
    """Like clip.tokenize(truncate=True): bos, first CONTEXT-2 ids, eos; padded with eos."""
    out = torch.full((len(texts), CONTEXT), eos, dtype=torch.long)
    for i, t in enumerate(texts):
        ids = tok.encode(t, add_special_tokens=False).ids[: CONTEXT - 2]
        row = [bos] + ids + [eos]
        out[i, : len(row)] = torch.tensor(row)
    return out


# ----------------------------------------------------------------------------- export

class TextTower(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids=input_ids).text_embeds


class VisionTower(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        return self.model(pixel_values=pixel_values).image_embeds


def split_towers(model):
    """CLIPModel → (CLIPTextModelWithProjection, CLIPVisionModelWithProjection) with its weights, in eval mode."""
    from transformers import CLIPTextModelWithProjection, CLIPVisionModelWithProjection
    text = CLIPTextModelWithProjection(model.config.text_config)
    text.text_model.load_state_dict(model.text_model.state_dict())
    text.text_projection.load_state_dict(model.text_projection.state_dict())
    vision = CLIPVisionModelWithProjection(model.config.vision_config)
    vision.vision_model.load_state_dict(model.vision_model.state_dict())
    vision.visual_projection.load_state_dict(model.visual_projection.state_dict())
    return text.eval(), vision.eval()


def export_towers(text, vision, onnx_dir: Path, ids: torch.Tensor, px: torch.Tensor, fixed_sequence: bool = False):
    """The two towers as transformers.js lays them out: text_embeds from input_ids, image_embeds from
    pixel_values (`text` and `vision` return those tensors: TextTower/VisionTower around transformers'
    models). `fixed_sequence`: only the batch is dynamic in the text graph (MobileCLIP's export)."""
    onnx_dir.mkdir(parents=True, exist_ok=True)
    ids_axes = {0: "batch_size"} if fixed_sequence else {0: "batch_size", 1: "sequence_length"}
    with torch.no_grad():
        torch.onnx.export(text, (ids,), str(onnx_dir / "text_model.onnx"), input_names=["input_ids"],
                          output_names=["text_embeds"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": ids_axes, "text_embeds": {0: "batch_size"}})
        torch.onnx.export(vision, (px,), str(onnx_dir / "vision_model.onnx"), input_names=["pixel_values"], output_names=["image_embeds"],
                          opset_version=17, dynamo=False,
                          dynamic_axes={"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"}})


def quantize_twins(onnx_dir: Path):
    # [Note: quantised twins] transformers.js makes *_quantized.onnx with dynamic quantisation,
    # per channel, reduce_range, QUInt8 weights for vision models and QInt8 for text ones.
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(str(onnx_dir / "text_model.onnx"), str(onnx_dir / "text_model_quantized.onnx"),
                     per_channel=True, reduce_range=True, weight_type=QuantType.QInt8)
    quantize_dynamic(str(onnx_dir / "vision_model.onnx"), str(onnx_dir / "vision_model_quantized.onnx"),
                     per_channel=True, reduce_range=True, weight_type=QuantType.QUInt8)


def export(model, out: Path, vocab_size: int):
    text, vision = split_towers(model)
    ids = torch.randint(0, vocab_size, (2, CONTEXT))
    px = torch.randn(2, 3, IMAGE_SIZE, IMAGE_SIZE)
    export_towers(TextTower(text), VisionTower(vision), out / "onnx", ids, px)
    quantize_twins(out / "onnx")


# ----------------------------------------------------------------------------- training (shared)

def tiny_config(vocab_size: int, bos: int, eos: int):
    """The tiny CLIP both fixture models share: 64-d towers, 32-d embeddings, 64 px input, context 32."""
    from transformers import CLIPConfig
    return CLIPConfig(
        text_config=dict(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=CONTEXT, bos_token_id=bos, projection_dim=32,
                         eos_token_id=eos, pad_token_id=eos),
        vision_config=dict(image_size=IMAGE_SIZE, patch_size=8, hidden_size=64, intermediate_size=128,
                           num_hidden_layers=3, num_attention_heads=2, projection_dim=32),
        projection_dim=32,
    )


def to_input(arr: np.ndarray) -> torch.Tensor:
    """uint8 N, H, W, 3 (preprocess()'s output) -> the normalised N, 3, H, W the model takes."""
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 255.0 - mean) / std


def train(model, pixels: np.ndarray, captions, tok, bos: int, eos: int, steps: int, batch: int, t0: float):
    """Symmetric InfoNCE (CLIPModel's loss) with AdamW and a one-cycle schedule; `captions(idx)` gives the
    texts of a batch's images (drawn afresh each step, so captions vary)."""
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    model.train()
    for step in range(steps):
        idx = np.random.default_rng(step).choice(len(pixels), batch, replace=False)
        out = model(input_ids=encode_batch(tok, captions(idx), bos, eos), pixel_values=to_input(pixels[idx]),
                    return_loss=True)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == steps - 1:
            print(f"step {step:5d} loss {out.loss.item():.3f} logit_scale {model.logit_scale.exp().item():.1f}"
                  f" ({time.time() - t0:.0f}s)", flush=True)
    model.eval()


def write_model_json(out: Path, config, model, tok):
    """config.json (with the trained temperature), preprocessor_config.json, tokenizer.json and
    tokenizer_config.json: the transformers.js layout beside onnx/."""
    cfg = config.to_dict()
    cfg["architectures"] = ["CLIPModel"]
    # [Note: logit scale] config.json's logit_scale_init_value is the value before training; the
    # trained temperature lives in the weights. We record the trained one (as a log, like the
    # parameter) under "logit_scale" so that labelling uses the model's real temperature.
    cfg["logit_scale"] = float(model.logit_scale.item())
    (out / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    (out / "preprocessor_config.json").write_text(json.dumps({
        "crop_size": {"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        "do_center_crop": True, "do_convert_rgb": True, "do_normalize": True, "do_rescale": True,
        "do_resize": True, "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": MEAN,
        "image_processor_type": "CLIPImageProcessor", "image_std": STD, "resample": 3,
        "rescale_factor": 1 / 255, "size": {"shortest_edge": IMAGE_SIZE},
    }, indent=2) + "\n")
    tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "add_prefix_space": False, "bos_token": "<|startoftext|>", "clean_up_tokenization_spaces": True,
        "do_lower_case": True, "eos_token": "<|endoftext|>", "errors": "replace",
        "model_max_length": CONTEXT, "pad_token": "<|endoftext|>", "tokenizer_class": "CLIPTokenizer",
        "unk_token": "<|endoftext|>",
    }, indent=2) + "\n")


# ----------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("test/fixtures/tiny-clip"))
    ap.add_argument("--fixtures", type=Path, default=Path("test/fixtures/images"))
    ap.add_argument("--train-images", type=int, default=12000)
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()

    from transformers import CLIPModel
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    t0 = time.time()

    # Tokenizer first: trained on a sample of the captions it will see.
    cap_rng = random.Random(args.seed + 1)
    tok, bos, eos = train_tokenizer([caption(cap_rng, *sample(cap_rng)) for _ in range(5000)], 300)
    vocab_size = tok.get_vocab_size()

    attrs = [sample(rng) for _ in range(args.train_images)]
    pixels = np.stack([preprocess(draw_image(rng, *a)) for a in attrs])  # N, H, W, 3 uint8
    print(f"generated {len(attrs)} training images in {time.time() - t0:.1f}s; vocab {vocab_size}")

    config = tiny_config(vocab_size, bos, eos)
    model = CLIPModel(config)
    train(model, pixels, lambda idx: [caption(rng, *attrs[i]) for i in idx], tok, bos, eos, args.steps, args.batch, t0)

    # Held-out fixtures: one image per (colour, shape), new random sizes/backgrounds/positions.
    fx_rng = random.Random(args.seed + 99)
    if args.fixtures.exists():
        shutil.rmtree(args.fixtures)
    args.fixtures.mkdir(parents=True)
    fixtures = []
    for colour in COLOURS:
        for shape in SHAPES:
            bg = fx_rng.choice(list(BACKGROUNDS))
            size, pos = fx_rng.choice(SIZES), fx_rng.choice(POSITIONS)
            img = draw_image(fx_rng, colour, shape, bg, "large" if size == "large" else "small", pos)
            name = f"{colour}-{shape}.png"
            img.save(args.fixtures / name)
            fixtures.append((name, img, colour, shape))
    # Near-copies for similar-image search: a JPEG re-encode and a resized copy, in a subfolder.
    near = args.fixtures / "copies"
    near.mkdir()
    fixtures[0][1].save(near / "red-circle-copy.jpg", quality=90)
    fixtures[7][1].resize((fixtures[7][1].width * 2, fixtures[7][1].height * 2), Image.BICUBIC).save(
        near / "green-triangle-big.png")

    # Held-out check with the exported preprocessing (same steps as the product).
    with torch.no_grad():
        imgs = to_input(np.stack([preprocess(f[1]) for f in fixtures]))
        queries = [f"a photo of a {f[2]} {f[3]}" for f in fixtures]
        both = model(input_ids=encode_batch(tok, queries, bos, eos), pixel_values=imgs)
        ie, te = both.image_embeds, both.text_embeds  # already L2-normalised by CLIPModel
        r1 = (te @ ie.T).argmax(dim=1).eq(torch.arange(len(fixtures))).float().mean().item()
    print(f"held-out recall@1 (text -> image, {len(fixtures)} images): {r1:.3f}")

    # Export.
    out = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    export(model, out, vocab_size)
    write_model_json(out, config, model, tok)
    (out / "special_tokens_map.json").write_text(json.dumps({
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>"}, indent=2) + "\n")
    (out / "README.md").write_text(
        "# tiny-clip\n\nA tiny CLIP trained by `tools/train_tiny_clip.py` on generated shapes "
        "(colours: " + ", ".join(COLOURS) + "; shapes: " + ", ".join(SHAPES) + "), in the transformers.js "
        f"layout. Input {IMAGE_SIZE}x{IMAGE_SIZE}, context {CONTEXT}, embedding 32. Held-out recall@1 "
        f"at export: {r1:.3f}. A test fixture, not a useful model.\n")
    print(f"done in {time.time() - t0:.0f}s -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
