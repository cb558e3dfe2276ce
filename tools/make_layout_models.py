#!/usr/bin/env python3
"""Tiny random-weight models in the Immich and rclip folder layouts, with reference outputs computed the
way each of those runtimes computes them (issue 30).

    python tools/make_layout_models.py --out test/fixtures            # all three
    python tools/make_layout_models.py --out /tmp/x --only rclip --full-vocab

Makes, under --out:

  tiny-immich-clip/       like Hugging Face immich-app/ViT-B-32__openai (OpenCLIP ViT, OpenAI-style BPE):
                          config.json (the OpenCLIP model config), visual/model.onnx + visual/preprocess_cfg.json,
                          textual/model.onnx + textual/{tokenizer.json, tokenizer_config.json,
                          special_tokens_map.json, vocab.json, merges.txt}; graphs exported as the immich-app/ml-models
                          exporter does (encode_*(normalize=True), inputs `image` float32 [1,3,S,S] and `text` int32
                          [1,77], output `embedding`, batch fixed at 1, opset 19); plus, unless --no-decoys, the
                          kinds of files newer revisions add and a loader must ignore (*.armnn, fp16/, rknpu/*.rknn).
  tiny-immich-siglip2/    like immich-app/ViT-B-16-SigLIP2__webli: a timm ViT with MAP pooling and no class token
                          (SigLIP's vision tower, shrunk and registered with timm under a fixture name), OpenCLIP's
                          TextTransformer with pool_type "last" and no causal mask, context length 64,
                          a Gemma-style tokenizer (pad "<pad>" = 0, "$A <eos>"), preprocess_cfg from OpenCLIP's
                          `webli` tag for SigLIP 2 (mean/std 0.5, bicubic, resize_mode "squash").
  tiny-rclip/             like yurijmikhalevich/rclip-models: ViT-B-32-256-datacomp_s34b_b86k/{visual,textual}.onnx
                          exported as rclip's scripts/convert_model.py does (model.visual and encode_text without
                          normalisation, inputs `input` float32 [batch,3,256,256] / int64 [batch,77], output
                          `output`, dynamic batch, opset 18), tokenizer/bpe_simple_vocab_16e6.txt.gz, and
                          placeholders for LICENSE, OPENAI-CLIP-MIT.txt, README.md, THIRD_PARTY_NOTICES.md (and,
                          unless --no-decoys, a stand-in for the Core ML visual.mlpackage/).
  tiny-<name>-python.json reference: for each fixture image and text, the exact inputs the runtime feeds (token ids in
                          full; image tensors as shape, crop box, per-channel statistics and sampled values) and the
                          embeddings onnxruntime gives for them (L2-normalised; for rclip also the raw norm).
  tiny-<name>-refs/       the preprocessed images as 8-bit PNGs (the float tensor is (u8/255 - mean)/std of them,
                          so a test rebuilds the exact tensor from them, as test/fixtures/preprocess/*.ref.png).
  layout-images/          three small images with alpha (RGBA, palette + tRNS, LA) used as extra inputs.

Vocabularies. The CLIP BPE is 1.3 MB gzipped and its embedding table would dominate the fixtures, so by default the
CLIP-tokenizer fixtures use the first --merges (2000) of OpenAI's 48894 merges, read from
../shared/clip-tokenizer beside the checkout (or --clip-tokenizer-dir). A prefix of the merge list is itself a valid BPE: every id
below 512 + merges is the real CLIP id, and the two specials move to the end (start = 512 + merges, end = start + 1),
exactly where rclip's SimpleTokenizer and a truncated tokenizer.json put them. The reference JSON also has, for every
text, the ids the real 49408-entry vocabulary gives under the same runtime rules (`ids_real_vocab`). --full-vocab uses
the whole vocabulary instead (a bigger fixture; for local checks, not for committing).

Weights are random (seeded), so only the I/O, tokenizers and preprocessing carry meaning. Needs torch, open_clip_torch,
timm, onnx, onnxruntime, tokenizers, transformers, pillow, numpy, ftfy, regex (pip's local mirror). Where the
installed torchvision wheel cannot load its compiled operators (a CUDA build next to CPU torch), the two operator
schemas it registers fake kernels for are defined first so that `import open_clip` works; nothing here uses them.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import io
import json
import math
import shutil
import string
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CLIP_TOKENIZER_DIR = Path(__file__).resolve().parents[2] / "shared" / "clip-tokenizer"
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
CLIP_MERGES_FULL = 49152 - 256 - 2  # 48894: how many merges OpenAI's tokenizer (and rclip's copy) reads
RCLIP_MODEL_SUBDIR = "ViT-B-32-256-datacomp_s34b_b86k"
RCLIP_LEGAL_FILES = ("LICENSE", "OPENAI-CLIP-MIT.txt", "README.md", "THIRD_PARTY_NOTICES.md")
RCLIP_IMAGE_SIZE = 256  # rclip/utils/preprocess.py: IMAGE_SIZE = 256, not read from any file
SEED = 30

# Fixture images: the preprocessing fixtures (a photo, a portrait, a tiny image, a grey one, an EXIF-rotated JPEG)
# and the alpha images this tool writes into layout-images/.
IMAGES = [
    "preprocess/photo.jpg",
    "preprocess/portrait.png",
    "preprocess/tiny.png",
    "preprocess/grey.png",
    "preprocess/exif-rotated.jpg",
    "layout-images/alpha-rgba.png",
    "layout-images/alpha-palette.png",
    "layout-images/alpha-la.png",
]

TEXTS = [
    "a photo of a dog",
    "A Photo Of A DOG!",
    "  several   spaces\tand a\nnewline  ",
    "rock &amp; roll & jazz",
    "don\u2019t stop",
    "na\u00efve caf\u00e9",
    "ein Hund im Schnee",
    "snake_case-and punctuation: yes/no?",
    "emoji \U0001F436 test",
    "<|endoftext|> and <end_of_text> literals",
    "",
    " ".join(["a very long caption about a red bicycle leaning on a wall"] * 8),
]


# ----------------------------------------------------------------------------- environment

def import_open_clip():
    """open_clip imports torchvision; a torchvision whose compiled ops cannot load fails at import. Work around that."""
    import torch
    try:
        import torchvision  # noqa: F401
    except RuntimeError as err:
        if "torchvision::nms" not in str(err):
            raise
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        lib = torch.library.Library("torchvision", "DEF")  # kept alive below
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        import_open_clip._lib = lib  # type: ignore[attr-defined]
        import torchvision  # noqa: F401
    import open_clip
    return open_clip


def versions() -> dict:
    import onnx
    import onnxruntime
    import PIL
    import timm
    import tokenizers
    import torch
    open_clip = import_open_clip()
    return {"python": sys.version.split()[0], "torch": torch.__version__, "open_clip": open_clip.__version__,
            "timm": timm.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__,
            "tokenizers": tokenizers.__version__, "pillow": PIL.__version__, "numpy": np.__version__}


def write_json(path: Path, value, compact: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if compact:
        path.write_text(json.dumps(value))
    else:
        path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


_CONFIG_DIR = tempfile.TemporaryDirectory(prefix="layout-model-configs-")


def register_config(open_clip, name: str, cfg: dict) -> None:
    """Make `name` an OpenCLIP model name, so create_model/get_model_config work on it as on a built-in one."""
    p = Path(_CONFIG_DIR.name) / f"{name}.json"
    p.write_text(json.dumps(cfg))
    open_clip.add_model_config(p)


def randomise(model, seed: int) -> None:
    """Random weights with some spread, so that the embeddings of different inputs differ clearly."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 0:
                continue
            if name.endswith("bias") or "ln" in name or "norm" in name:
                p.add_(torch.randn(p.shape, generator=g) * 0.02)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 / math.sqrt(max(1, p.shape[-1]))))


# ----------------------------------------------------------------------------- CLIP BPE (full or a prefix of it)

class ClipVocab:
    """OpenAI's merge list, cut to its first `merges` entries (all 48894 for the real vocabulary)."""

    def __init__(self, tokenizer_dir: Path, merges: int):
        self.dir = tokenizer_dir
        lines = gzip.open(tokenizer_dir / "bpe_simple_vocab_16e6.txt.gz").read().decode("utf-8").split("\n")
        self.header = lines[0]
        self.merge_lines = lines[1:1 + merges]
        self.n_merges = len(self.merge_lines)
        self.sot = 512 + self.n_merges
        self.eot = self.sot + 1
        self.size = self.eot + 1

    def write_bpe_gz(self, path: Path) -> None:
        """The merge file as rclip ships it; no trailing newline, or a short file would yield an extra '' token."""
        path.parent.mkdir(parents=True, exist_ok=True)
        data = "\n".join([self.header, *self.merge_lines]).encode("utf-8")
        with open(path, "wb") as f, gzip.GzipFile(filename="bpe_simple_vocab_16e6.txt", mode="wb", fileobj=f,
                                                   mtime=0) as gz:
            gz.write(data)

    def hf_tokenizer_json(self) -> dict:
        """The shared tokenizer.json (what CLIPTokenizerFast writes) with the vocabulary cut and the specials moved."""
        spec = json.loads((self.dir / "tokenizer.json").read_text())
        keep = 512 + self.n_merges
        vocab = {tok: i for tok, i in spec["model"]["vocab"].items() if i < keep}
        vocab["<|startoftext|>"] = self.sot
        vocab["<|endoftext|>"] = self.eot
        spec["model"]["vocab"] = vocab
        spec["model"]["merges"] = spec["model"]["merges"][: self.n_merges]
        for t in spec["added_tokens"]:
            t["id"] = self.sot if t["content"] == "<|startoftext|>" else self.eot
        spec["post_processor"]["cls"] = ["<|startoftext|>", self.sot]
        spec["post_processor"]["sep"] = ["<|endoftext|>", self.eot]
        return spec


def write_immich_clip_tokenizer(vocab: ClipVocab, textual: Path) -> None:
    """textual/ as AutoTokenizer(openai/clip-vit-base-patch32).save_pretrained() leaves it (transformers 4.x)."""
    spec = vocab.hf_tokenizer_json()
    (textual / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False))
    ordered = sorted(spec["model"]["vocab"].items(), key=lambda kv: kv[1])
    (textual / "vocab.json").write_text(json.dumps(dict(ordered), ensure_ascii=False))
    (textual / "merges.txt").write_text("#version: 0.2\n" + "\n".join(spec["model"]["merges"]) + "\n")
    added = {str(vocab.sot): "<|startoftext|>", str(vocab.eot): "<|endoftext|>"}
    write_json(textual / "tokenizer_config.json", {
        "add_prefix_space": False,
        "added_tokens_decoder": {i: {"content": c, "lstrip": False, "normalized": True, "rstrip": False,
                                     "single_word": False, "special": True} for i, c in added.items()},
        "bos_token": "<|startoftext|>", "clean_up_tokenization_spaces": True, "do_lower_case": True,
        "eos_token": "<|endoftext|>", "errors": "replace", "model_max_length": 77,
        "pad_token": "<|endoftext|>", "tokenizer_class": "CLIPTokenizer", "unk_token": "<|endoftext|>"})
    shutil.copyfile(vocab.dir / "special_tokens_map.json", textual / "special_tokens_map.json")


# ----------------------------------------------------------------------------- the runtimes, restated

class Immich:
    """immich-app/immich machine-learning/immich_ml: models/transforms.py, models/clip/{visual,textual}.py."""

    PUNCT = str.maketrans("", "", string.punctuation)

    @staticmethod
    def decode(path: Path) -> Image.Image:
        # decode_pil: Image.open, load, convert("RGB") unless already RGB. No EXIF transpose, no alpha compositing.
        img = Image.open(path)
        img.load()
        return img if img.mode == "RGB" else img.convert("RGB")

    @staticmethod
    def resize_shortest(img: Image.Image, size: int, resample) -> Image.Image:
        # resize_pil: the short side becomes `size`, the long side int(long / short * size)
        if img.width < img.height:
            return img.resize((size, int((img.height / img.width) * size)), resample=resample)
        return img.resize((int((img.width / img.height) * size), size), resample=resample)

    @staticmethod
    def crop_box(img: Image.Image, size: int) -> tuple[int, int, int, int]:
        # crop_pil: left = int(w / 2 - size / 2), top likewise (truncation toward zero)
        left = int((img.size[0] / 2) - (size / 2))
        top = int((img.size[1] / 2) - (size / 2))
        return left, top, left + size, top + size

    @classmethod
    def image_input(cls, path: Path, pcfg: dict, honour_resize_mode: bool) -> tuple[np.ndarray, dict, Image.Image]:
        size = pcfg["size"][0] if isinstance(pcfg["size"], list) else pcfg["size"]
        resample = {r.name.lower(): r for r in Image.Resampling}[pcfg["interpolation"].lower()]
        mean = np.array(pcfg["mean"], dtype=np.float32)
        std = np.array(pcfg["std"], dtype=np.float32)
        img = cls.decode(path)
        info = {"decoded_mode": img.mode, "decoded_size": list(img.size)}
        mode = pcfg.get("resize_mode", "shortest") if honour_resize_mode else "shortest"
        if mode == "squash":
            out = img.resize((size, size), resample=resample)
            info.update(resize="squash", resized_size=[size, size], crop_box=None)
        else:
            resized = cls.resize_shortest(img, size, resample)
            box = cls.crop_box(resized, size)
            out = resized.crop(box)
            info.update(resize="shortest", resized_size=list(resized.size), crop_box=list(box))
        x = np.asarray(out if out.mode == "RGB" else out.convert("RGB"), dtype=np.float32) / 255.0
        x *= 1.0 / std  # normalize(): the runtime's order of operations, kept for bit-identical floats
        x -= mean / std
        return x.transpose(2, 0, 1)[None], info, out

    @classmethod
    def clean_text(cls, text: str, canonicalize: bool) -> str:
        text = " ".join(text.split())
        if canonicalize:
            text = text.translate(cls.PUNCT).lower()
        return text

    @staticmethod
    def tokenizer(tokenizer_json: Path, pad_token: str, context_length: int):
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(str(tokenizer_json))
        pad_id = tok.token_to_id(pad_token)
        tok.enable_padding(length=context_length, pad_token=pad_token, pad_id=pad_id)
        tok.enable_truncation(max_length=context_length)
        return tok

    @classmethod
    def text_input(cls, tok, text: str, canonicalize: bool) -> tuple[np.ndarray, str]:
        cleaned = cls.clean_text(text, canonicalize)
        return np.array([tok.encode(cleaned).ids], dtype=np.int32), cleaned


class RClip:
    """yurijmikhalevich/rclip: rclip/utils/preprocess.py, rclip/utils/tokenizer.py, rclip/model.py (3.3.0)."""

    MEAN = np.array(OPENAI_MEAN, dtype=np.float32)
    STD = np.array(OPENAI_STD, dtype=np.float32)

    @classmethod
    def image_input(cls, path: Path) -> tuple[np.ndarray, dict, Image.Image]:
        img = Image.open(path).convert("RGB")  # helpers.read_image + preprocess: no EXIF transpose, alpha dropped
        info = {"decoded_mode": "RGB", "decoded_size": list(img.size)}
        w, h = img.size
        s = RCLIP_IMAGE_SIZE
        if w < h:
            rw, rh = s, int(h * s / w)
        else:
            rw, rh = int(w * s / h), s
        img = img.resize((rw, rh), Image.Resampling.BICUBIC)
        left = round((rw - s) / 2.0)  # Python's round: halves go to the even neighbour
        top = round((rh - s) / 2.0)
        box = (left, top, left + s, top + s)
        out = img.crop(box)
        info.update(resize="shortest", resized_size=[rw, rh], crop_box=list(box))
        x = (np.array(out, dtype=np.float32) / 255.0 - cls.MEAN) / cls.STD
        return x.transpose(2, 0, 1)[None], info, out

    class Tokenizer:
        """OpenAI's SimpleTokenizer as rclip vendors it, written again here (same rules, own code)."""

        def __init__(self, bpe_gz: Path):
            import regex
            byte_values = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
                list(range(ord("®"), ord("ÿ") + 1))
            chars = byte_values[:]
            extra = 0
            for b in range(256):
                if b not in byte_values:
                    byte_values.append(b)
                    chars.append(256 + extra)
                    extra += 1
            self.byte_encoder = {b: chr(c) for b, c in zip(byte_values, chars)}
            lines = gzip.open(bpe_gz).read().decode("utf-8").split("\n")
            merges = [tuple(m.split()) for m in lines[1:CLIP_MERGES_FULL + 1]]
            vocab = list(self.byte_encoder.values())
            vocab += [v + "</w>" for v in vocab]
            vocab += ["".join(m) for m in merges]
            specials = ["<start_of_text>", "<end_of_text>"]
            vocab += specials
            self.encoder = {t: i for i, t in enumerate(vocab)}
            self.ranks = {m: i for i, m in enumerate(merges)}
            self.cache = {t: t for t in specials}
            self.pattern = regex.compile(
                "|".join(regex.escape(t) for t in specials) + r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
                regex.IGNORECASE)
            self.sot = self.encoder["<start_of_text>"]
            self.eot = self.encoder["<end_of_text>"]

        def bpe(self, token: str) -> str:
            if token in self.cache:
                return self.cache[token]
            word = list(token[:-1]) + [token[-1] + "</w>"]
            while len(word) > 1:
                pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
                best = min(pairs, key=lambda p: self.ranks.get(p, math.inf))
                if best not in self.ranks:
                    break
                merged, i = [], 0
                while i < len(word):
                    if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                        merged.append(word[i] + word[i + 1])
                        i += 2
                    else:
                        merged.append(word[i])
                        i += 1
                word = merged
            out = " ".join(word)
            self.cache[token] = out
            return out

        @staticmethod
        def clean(text: str) -> str:
            import ftfy
            text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
            return " ".join(text.split()).strip().lower()

        def encode(self, text: str) -> list[int]:
            import regex
            ids = []
            for token in regex.findall(self.pattern, self.clean(text)):
                token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
                ids.extend(self.encoder[t] for t in self.bpe(token).split(" "))
            return ids

        def __call__(self, text: str, context_length: int = 77) -> np.ndarray:
            ids = [self.sot] + self.encode(text) + [self.eot]
            if len(ids) > context_length:
                ids = ids[:context_length]
                ids[-1] = self.eot
            out = np.zeros((1, context_length), dtype=np.int64)
            out[0, :len(ids)] = ids
            return out


# ----------------------------------------------------------------------------- inputs and statistics

def make_alpha_images(dest: Path) -> None:
    """Three small images with transparency; the colour under transparent pixels is not black, on purpose."""
    dest.mkdir(parents=True, exist_ok=True)
    w, h = 96, 64
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([(x * 255 // (w - 1)), (y * 255 // (h - 1)), ((x + y) * 3) % 256], axis=-1).astype(np.uint8)
    alpha = np.where((x - w / 2) ** 2 + (y - h / 2) ** 2 < (h / 2.5) ** 2, 255, 0).astype(np.uint8)
    alpha[:, : w // 6] = 128  # a half-transparent band
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(dest / "alpha-rgba.png", optimize=True)
    pal = Image.new("P", (64, 80), 0)
    pal.putpalette([0, 200, 0, 255, 0, 0, 0, 0, 255, 250, 250, 0] + [0, 0, 0] * 252)
    d = ImageDraw.Draw(pal)
    d.rectangle([8, 8, 40, 60], fill=1)
    d.ellipse([20, 30, 60, 76], fill=2)
    d.line([0, 79, 63, 0], fill=3, width=3)
    pal.info["transparency"] = 0  # index 0 (green) is transparent
    pal.save(dest / "alpha-palette.png", transparency=0, optimize=True)
    grey = ((x * 2 + y) % 256).astype(np.uint8)
    la_alpha = np.where(y < h // 2, 255, 40).astype(np.uint8)
    Image.fromarray(np.dstack([grey, la_alpha]), "LA").save(dest / "alpha-la.png", optimize=True)


def tensor_summary(x: np.ndarray) -> dict:
    """Shape, per-channel statistics and a fixed set of sampled values of a [1,3,H,W] float32 tensor."""
    _, c, h, w = x.shape
    pts = [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1), (h // 2, w // 2), (h // 4, 3 * w // 4),
           (3 * h // 4, w // 4), (1, w // 2), (h // 2, 1)]
    return {
        "shape": list(x.shape), "dtype": str(x.dtype),
        "channel_mean": [float(x[0, i].mean()) for i in range(c)],
        "channel_std": [float(x[0, i].std()) for i in range(c)],
        "min": float(x.min()), "max": float(x.max()),
        "samples": [[ch, yy, xx, float(x[0, ch, yy, xx])] for (yy, xx) in pts for ch in range(c)],
        "sha256_float32_le": hashlib.sha256(np.ascontiguousarray(x, dtype="<f4").tobytes()).hexdigest(),
    }


def exif_orientation(path: Path) -> int | None:
    with Image.open(path) as im:
        return im.getexif().get(274)


def source_info(path: Path) -> dict:
    with Image.open(path) as im:
        return {"format": im.format, "mode": im.mode, "size": list(im.size), "exif_orientation": exif_orientation(path),
                "has_transparency": im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info}


def rounded(v, nd: int = 7) -> list[float]:
    return [round(float(a), nd) for a in np.asarray(v).ravel()]


def graph_io(path: Path) -> dict:
    import onnx
    m = onnx.load(str(path), load_external_data=False)

    def desc(vi):
        t = vi.type.tensor_type
        return {"name": vi.name, "dtype": onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name,
                "shape": [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]}
    inits = {i.name for i in m.graph.initializer}
    return {"file": path.name, "bytes": path.stat().st_size, "opset": max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")),
            "inputs": [desc(v) for v in m.graph.input if v.name not in inits], "outputs": [desc(v) for v in m.graph.output]}


def ort_session(path: Path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])


def save_ref_png(img: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.convert("RGB").save(path, optimize=True)


# ----------------------------------------------------------------------------- exports (the exporters' recipes)

def onnx_export(module, args, path: Path, input_names, output_names, opset: int, dynamic_axes=None) -> None:
    """torch.onnx.export with the TorchScript exporter: the exporters predate torch's switch of the default to dynamo."""
    import warnings
    import torch
    path.parent.mkdir(parents=True, exist_ok=True)
    kw = {"dynamic_axes": dynamic_axes} if dynamic_axes else {}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(path), input_names=input_names, output_names=output_names,
                          opset_version=opset, dynamo=False, **kw)


def immich_export(open_clip, name: str, out: Path, force_pcfg: dict, seed: int):
    """immich_model_exporter/exporters/onnx/models/openclip.py: to_onnx, _export_image_encoder, _export_text_encoder."""
    import torch
    torch.backends.mha.set_fastpath_enabled(False)
    model = open_clip.create_model(name, pretrained=None, force_preprocess_cfg=force_pcfg)
    randomise(model, seed)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    cfg = open_clip.get_model_config(name)
    (out / "visual").mkdir(parents=True, exist_ok=True)
    (out / "textual").mkdir(parents=True, exist_ok=True)
    write_json(out / "visual" / "preprocess_cfg.json", open_clip.get_model_preprocess_cfg(model), compact=True)
    write_json(out / "config.json", cfg, compact=True)
    image_size = cfg["vision_cfg"]["image_size"]
    context_length = cfg["text_cfg"].get("context_length", 77)

    model.forward = lambda image: model.encode_image(image, normalize=True)
    onnx_export(model, (torch.randn(1, 3, image_size, image_size),), out / "visual" / "model.onnx",
                ["image"], ["embedding"], 19)
    model.forward = lambda text: model.encode_text(text, normalize=True)
    onnx_export(model, (torch.ones(1, context_length, dtype=torch.int32),), out / "textual" / "model.onnx",
                ["text"], ["embedding"], 19)
    del model.forward
    return model, cfg


def write_decoys(out: Path) -> list[str]:
    """What newer immich-app revisions carry besides the ONNX files (Arm NN and RKNN builds): never models to load."""
    decoys = ["visual/model.armnn", "visual/fp16/model.armnn", "textual/model.armnn", "textual/fp16/model.armnn",
              "visual/rknpu/rk3588/model.rknn", "textual/rknpu/rk3588/model.rknn"]
    for d in decoys:
        p = out / d
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"fixture decoy: not a model; a loader of the ONNX layout must ignore this file\n")
    return decoys


# ----------------------------------------------------------------------------- the three fixtures

def tiny_clip_cfg(image_size: int, patch: int, vocab: int, width: int = 32) -> dict:
    return {
        "embed_dim": 32,
        "vision_cfg": {"image_size": image_size, "layers": 2, "width": width, "head_width": 16, "patch_size": patch},
        "text_cfg": {"context_length": 77, "vocab_size": vocab, "width": width, "heads": 2, "layers": 2},
    }


def parity(model_fn, sess, feed: dict, torch_args) -> float:
    import torch
    with torch.no_grad():
        ref = model_fn(*torch_args).numpy()
    got = sess.run(None, feed)[0]
    return float(np.abs(ref - got).max())


def make_immich_clip(open_clip, fixtures: Path, vocab: ClipVocab, real: ClipVocab, decoys: bool) -> dict:
    import torch
    name = "ViT-Tiny-ImmichFixture"
    register_config(open_clip, name, tiny_clip_cfg(64, 16, vocab.size))
    out = fixtures / "tiny-immich-clip"
    shutil.rmtree(out, ignore_errors=True)
    pcfg = {k: v for k, v in open_clip.get_pretrained_cfg("ViT-B-32", "openai").items()
            if k in ("mean", "std", "interpolation", "resize_mode")}
    model, cfg = immich_export(open_clip, name, out, pcfg, SEED)
    write_immich_clip_tokenizer(vocab, out / "textual")
    decoy_list = write_decoys(out) if decoys else []
    write_readme(out, "tiny-immich-clip", "immich-app/ViT-B-32__openai")
    ref = reference_immich(open_clip, fixtures, out, model, cfg, real, "tiny-immich-clip")
    ref["decoys"] = decoy_list
    ref["model"].update({"start_id": vocab.sot, "end_id": vocab.eot, "pad_id": vocab.eot, "merges": vocab.n_merges})
    return ref


def register_tiny_siglip_vit() -> str:
    """SigLIP's timm vision tower (no class token, MAP pooling), at fixture size, under a name of its own."""
    import timm
    from timm.models import register_model
    from timm.models.vision_transformer import _create_vision_transformer
    name = "vit_fixture_patch16_siglip"
    if name in timm.list_models(name):
        return name

    def vit_fixture_patch16_siglip(pretrained=False, **kwargs):
        args = dict(img_size=64, patch_size=16, embed_dim=32, depth=2, num_heads=2, class_token=False, global_pool="map")
        return _create_vision_transformer(name, pretrained=pretrained, **dict(args, **kwargs))
    vit_fixture_patch16_siglip.__name__ = name
    register_model(vit_fixture_patch16_siglip)
    return name


def make_immich_siglip2(open_clip, fixtures: Path, decoys: bool) -> dict:
    sys.path.insert(0, str(ROOT / "tools"))
    from make_family_models import gemma_style_tokenizer  # the repo's tiny Gemma-style tokenizer (BPE, byte fallback)
    out = fixtures / "tiny-immich-siglip2"
    shutil.rmtree(out, ignore_errors=True)
    textual = out / "textual"
    textual.mkdir(parents=True)
    vocab_size = gemma_style_tokenizer(textual)
    # the tokenizer_config that the repo's helper writes is transformers.js-flavoured; Immich reads only pad_token
    tcfg = json.loads((textual / "tokenizer_config.json").read_text())
    tcfg.update({"padding_side": "right", "model_max_length": 64})
    write_json(textual / "tokenizer_config.json", tcfg)
    timm_name = register_tiny_siglip_vit()
    base = open_clip.get_model_config("ViT-B-16-SigLIP2")
    cfg = json.loads(json.dumps(base))
    cfg["embed_dim"] = 32
    cfg["vision_cfg"].update({"image_size": 64, "timm_model_name": timm_name})
    cfg["text_cfg"].update({"vocab_size": vocab_size, "width": 32, "heads": 2, "layers": 2,
                            "hf_tokenizer_name": "timm/ViT-B-16-SigLIP2"})
    name = "ViT-Tiny-SigLIP2-ImmichFixture"
    register_config(open_clip, name, cfg)
    pcfg = {k: v for k, v in open_clip.get_pretrained_cfg("ViT-B-16-SigLIP2", "webli").items()
            if k in ("mean", "std", "interpolation", "resize_mode")}
    model, cfg = immich_export(open_clip, name, out, pcfg, SEED + 1)
    decoy_list = write_decoys(out) if decoys else []
    write_readme(out, "tiny-immich-siglip2", "immich-app/ViT-B-16-SigLIP2__webli")
    ref = reference_immich(open_clip, fixtures, out, model, cfg, None, "tiny-immich-siglip2")
    ref["decoys"] = decoy_list
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(textual / "tokenizer.json"))
    ref["model"].update({"pad_id": tok.token_to_id("<pad>"), "eos_id": tok.token_to_id("<eos>"),
                         "bos_id": tok.token_to_id("<bos>"), "timm_model": timm_name})
    return ref


def rclip_export(model, mdir: Path) -> None:
    """rclip's scripts/convert_model.py: export_visual_onnx and export_textual_onnx (dynamic batch, opset 18)."""
    import torch

    class Visual(torch.nn.Module):
        def __init__(self, visual):
            super().__init__()
            self.visual = visual

        def forward(self, inputs):
            return self.visual(inputs)

    class Textual(torch.nn.Module):
        def __init__(self, clip):
            super().__init__()
            self.clip_model = clip

        def forward(self, inputs):
            return self.clip_model.encode_text(inputs)

    dyn = {"input": {0: "batch"}, "output": {0: "batch"}}
    onnx_export(Visual(model.visual).eval(), (torch.randn(1, 3, RCLIP_IMAGE_SIZE, RCLIP_IMAGE_SIZE),),
                mdir / "visual.onnx", ["input"], ["output"], 18, dyn)
    onnx_export(Textual(model).eval(), (torch.zeros(1, 77, dtype=torch.long),), mdir / "textual.onnx",
                ["input"], ["output"], 18, dyn)


def make_rclip(open_clip, fixtures: Path, vocab: ClipVocab, real: ClipVocab, decoys: bool) -> dict:
    """rclip's scripts/convert_model.py: export_visual_onnx, export_textual_onnx, the vocab copy, the legal files."""
    import torch
    name = "ViT-Tiny-256-RclipFixture"
    register_config(open_clip, name, tiny_clip_cfg(RCLIP_IMAGE_SIZE, 32, vocab.size))
    out = fixtures / "tiny-rclip"
    shutil.rmtree(out, ignore_errors=True)
    torch.backends.mha.set_fastpath_enabled(False)
    model = open_clip.create_model(name, pretrained=None)
    randomise(model, SEED + 2)
    model.eval()

    mdir = out / RCLIP_MODEL_SUBDIR
    rclip_export(model, mdir)
    vocab.write_bpe_gz(out / "tokenizer" / "bpe_simple_vocab_16e6.txt.gz")
    if decoys:  # the Core ML package rclip uses on macOS (fixed batch 8): never an ONNX model to load
        p = mdir / "visual.mlpackage" / "Manifest.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text('{"fixture decoy": "stands in for the Core ML package; a loader of the ONNX files ignores it"}\n')
    for f in RCLIP_LEGAL_FILES:
        (out / f).write_text(f"Fixture placeholder for rclip-models' {f} (the real repository ships the MIT notices "
                             f"of OpenCLIP and OpenAI CLIP here). Random weights; not a trained model.\n")
    return reference_rclip(fixtures, out, model, real)


def write_readme(out: Path, fixture: str, like: str) -> None:
    (out / "README.md").write_text(
        f"# {fixture}\n\nTest fixture made by tools/make_layout_models.py: random weights in the folder layout of "
        f"Hugging Face `{like}`. Not a trained model.\n")


# ----------------------------------------------------------------------------- references

def reference_immich(open_clip, fixtures: Path, out: Path, model, cfg: dict, real: ClipVocab | None, fixture: str) -> dict:
    import torch
    pcfg = json.loads((out / "visual" / "preprocess_cfg.json").read_text())
    textual = out / "textual"
    tcfg = json.loads((textual / "tokenizer_config.json").read_text())
    ctx = cfg["text_cfg"].get("context_length", 77)
    canonicalize = (cfg["text_cfg"].get("tokenizer_kwargs") or {}).get("clean") == "canonicalize"
    tok = Immich.tokenizer(textual / "tokenizer.json", tcfg["pad_token"], ctx)
    real_tok = None
    if real is not None:
        real_tok = Immich.tokenizer(real.dir / "tokenizer.json", "<|endoftext|>", ctx)
    vis = ort_session(out / "visual" / "model.onnx")
    txt = ort_session(out / "textual" / "model.onnx")
    squash = pcfg.get("resize_mode") == "squash"
    refs_dir = fixtures / f"{fixture}-refs"
    shutil.rmtree(refs_dir, ignore_errors=True)
    images = []
    for rel in IMAGES:
        path = fixtures / rel
        entry = {"file": rel, "source": source_info(path)}
        x, info, img = Immich.image_input(path, pcfg, honour_resize_mode=True)
        emb = vis.run(None, {"image": x})[0][0]
        stem = Path(rel).stem
        save_ref_png(img, refs_dir / f"{stem}.ref.png")
        entry.update({"preprocess": info, "input": tensor_summary(x), "ref_png": f"{fixture}-refs/{stem}.ref.png",
                      "embedding": rounded(emb), "embedding_norm": float(np.linalg.norm(emb))})
        if squash:  # the released runtime ignores resize_mode: shortest side + centre crop for every model
            x2, info2, img2 = Immich.image_input(path, pcfg, honour_resize_mode=False)
            emb2 = vis.run(None, {"image": x2})[0][0]
            save_ref_png(img2, refs_dir / f"{stem}.crop.ref.png")
            entry["shortest_crop_variant"] = {"preprocess": info2, "input": tensor_summary(x2),
                                              "ref_png": f"{fixture}-refs/{stem}.crop.ref.png",
                                              "embedding": rounded(emb2)}
        images.append(entry)
    texts = []
    for t in TEXTS:
        ids, cleaned = Immich.text_input(tok, t, canonicalize)
        emb = txt.run(None, {"text": ids})[0][0]
        e = {"text": t, "cleaned": cleaned, "ids": ids[0].tolist(), "dtype": "int32", "shape": list(ids.shape),
             "embedding": rounded(emb), "embedding_norm": float(np.linalg.norm(emb))}
        if real_tok is not None:
            e["ids_real_vocab"] = np.array(real_tok.encode(cleaned).ids, dtype=np.int32).tolist()
        texts.append(e)
    # the ONNX graphs against the PyTorch model they came from
    x = torch.from_numpy(Immich.image_input(fixtures / IMAGES[0], pcfg, True)[0])
    ids = torch.from_numpy(np.array([texts[0]["ids"]], dtype=np.int32))
    export_parity = {
        "visual_max_abs_diff": parity(lambda a: model.encode_image(a, normalize=True), vis, {"image": x.numpy()}, (x,)),
        "textual_max_abs_diff": parity(lambda a: model.encode_text(a, normalize=True), txt, {"text": ids.numpy()}, (ids,)),
    }
    return {
        "fixture": fixture, "layout": "immich", "generator": "tools/make_layout_models.py", "seed": SEED,
        "runtime": "immich-app/immich machine-learning/immich_ml (models/transforms.py, models/clip/{visual,textual}.py)",
        "model": {"config": cfg, "context_length": ctx, "canonicalize": canonicalize,
                  "pad_token": tcfg["pad_token"], "pad_id": tok.token_to_id(tcfg["pad_token"])},
        "preprocess_cfg": pcfg,
        "notes": [
            "Outputs are L2-normalised inside the graphs; the embeddings here are the raw graph outputs.",
            "Images: Image.open, convert('RGB') (alpha dropped, no compositing; no EXIF transpose), "
            + ("resize to size x size ('squash') as the newer runtime does when preprocess_cfg says so; "
               "`shortest_crop_variant` is the released runtime's shortest-side resize and int() centre crop"
               if squash else "shortest side to size (long side int()), centre crop at int(w/2 - size/2)")
            + ", /255, x *= 1/std, x -= mean/std (float32).",
            "Text: ' '.join(text.split())" + (", punctuation removed, lower-cased" if canonicalize else "")
            + "; tokenizers' Tokenizer.from_file(textual/tokenizer.json) with padding to the context length by the "
            "tokenizer_config pad_token and truncation to it; int32 [1, context].",
        ],
        "graphs": {"visual": graph_io(out / "visual" / "model.onnx"), "textual": graph_io(out / "textual" / "model.onnx")},
        "export_parity": export_parity,
        "images": images, "texts": texts,
    }


def reference_rclip(fixtures: Path, out: Path, model, real: ClipVocab) -> dict:
    import torch
    mdir = out / RCLIP_MODEL_SUBDIR
    tok = RClip.Tokenizer(out / "tokenizer" / "bpe_simple_vocab_16e6.txt.gz")
    real_tok = RClip.Tokenizer(real.dir / "bpe_simple_vocab_16e6.txt.gz")
    vis = ort_session(mdir / "visual.onnx")
    txt = ort_session(mdir / "textual.onnx")
    refs_dir = fixtures / "tiny-rclip-refs"
    shutil.rmtree(refs_dir, ignore_errors=True)
    images, batch = [], []
    for rel in IMAGES:
        path = fixtures / rel
        x, info, img = RClip.image_input(path)
        raw = vis.run(None, {"input": x})[0][0]
        stem = Path(rel).stem
        save_ref_png(img, refs_dir / f"{stem}.ref.png")
        batch.append(x[0])
        images.append({"file": rel, "source": source_info(path), "preprocess": info, "input": tensor_summary(x),
                       "ref_png": f"tiny-rclip-refs/{stem}.ref.png", "raw_norm": float(np.linalg.norm(raw)),
                       "embedding": rounded(raw / np.linalg.norm(raw))})
    texts, id_rows = [], []
    for t in TEXTS:
        ids = tok(t)
        raw = txt.run(None, {"input": ids})[0][0]
        id_rows.append(ids[0])
        texts.append({"text": t, "cleaned": RClip.Tokenizer.clean(t), "ids": ids[0].tolist(), "dtype": "int64",
                      "shape": list(ids.shape), "raw_norm": float(np.linalg.norm(raw)),
                      "embedding": rounded(raw / np.linalg.norm(raw)), "ids_real_vocab": real_tok(t)[0].tolist()})
    # batching: rclip runs images 8 at a time and texts as one batch; the rows must not depend on the batch
    vb = vis.run(None, {"input": np.stack(batch)})[0]
    tb = txt.run(None, {"input": np.stack(id_rows)})[0]
    batch_diff = max(
        max(float(np.abs(vb[i] / np.linalg.norm(vb[i]) - np.array(images[i]["embedding"])).max()) for i in range(len(images))),
        max(float(np.abs(tb[i] / np.linalg.norm(tb[i]) - np.array(texts[i]["embedding"])).max()) for i in range(len(texts))))
    x = torch.from_numpy(RClip.image_input(fixtures / IMAGES[0])[0])
    ids = torch.from_numpy(np.array([texts[0]["ids"]], dtype=np.int64))
    export_parity = {
        "visual_max_abs_diff": parity(model.visual, vis, {"input": x.numpy()}, (x,)),
        "textual_max_abs_diff": parity(model.encode_text, txt, {"input": ids.numpy()}, (ids,)),
        "batched_vs_single_max_abs_diff": batch_diff,
    }
    return {
        "fixture": "tiny-rclip", "layout": "rclip", "generator": "tools/make_layout_models.py", "seed": SEED + 2,
        "runtime": "yurijmikhalevich/rclip 3.3.0 (rclip/utils/preprocess.py, rclip/utils/tokenizer.py, rclip/model.py)",
        "model": {"subdir": RCLIP_MODEL_SUBDIR, "image_size": RCLIP_IMAGE_SIZE, "context_length": 77,
                  "start_id": tok.sot, "end_id": tok.eot, "pad_id": 0, "merges": len(tok.ranks),
                  "vocab_size": len(tok.encoder), "real_vocab_start_id": real_tok.sot, "real_vocab_end_id": real_tok.eot},
        "notes": [
            "Outputs are NOT normalised by the graphs; `embedding` is output / ||output|| (rclip/model.py), "
            "`raw_norm` the norm before.",
            "Images: Image.open(path).convert('RGB') (alpha dropped; no EXIF transpose), bicubic resize of the short "
            "side to 256 (long side int(long*256/short)), crop at round((w-256)/2) (Python round, halves to even), "
            "/255, (x - mean)/std with OpenAI's mean/std, all hard-coded.",
            "Text: ftfy.fix_text, html.unescape twice, strip, whitespace collapsed, lower-cased; CLIP BPE; "
            "[start] + ids + [end], cut to 77 with the last id set to end; zero padding; int64 [N, 77].",
            "Special ids come from the merge file: start = 512 + merges, end = start + 1 (49406/49407 for the real file).",
        ],
        "graphs": {"visual": graph_io(mdir / "visual.onnx"), "textual": graph_io(mdir / "textual.onnx")},
        "export_parity": export_parity,
        "images": images, "texts": texts,
    }


# ----------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "test" / "fixtures")
    ap.add_argument("--only", default="immich-clip,immich-siglip2,rclip")
    ap.add_argument("--clip-tokenizer-dir", type=Path, default=DEFAULT_CLIP_TOKENIZER_DIR)
    ap.add_argument("--merges", type=int, default=2000, help="how many CLIP merges the fixture vocabulary keeps")
    ap.add_argument("--full-vocab", action="store_true", help="keep all 48894 merges (real CLIP ids; big fixtures)")
    ap.add_argument("--no-decoys", action="store_true", help="leave out the *.armnn / *.rknn stand-ins")
    args = ap.parse_args()
    import torch
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    open_clip = import_open_clip()
    fixtures = args.out.resolve()
    fixtures.mkdir(parents=True, exist_ok=True)
    # inputs: the repo's preprocessing images must be there; the alpha images are (re)made here
    if fixtures != (ROOT / "test" / "fixtures").resolve():
        shutil.copytree(ROOT / "test" / "fixtures" / "preprocess", fixtures / "preprocess", dirs_exist_ok=True)
    make_alpha_images(fixtures / "layout-images")
    vocab = ClipVocab(args.clip_tokenizer_dir, CLIP_MERGES_FULL if args.full_vocab else args.merges)
    real = ClipVocab(args.clip_tokenizer_dir, CLIP_MERGES_FULL)
    vers = versions()
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    made = {}
    if "immich-clip" in wanted:
        made["tiny-immich-clip"] = make_immich_clip(open_clip, fixtures, vocab, real, not args.no_decoys)
    if "immich-siglip2" in wanted:
        made["tiny-immich-siglip2"] = make_immich_siglip2(open_clip, fixtures, not args.no_decoys)
    if "rclip" in wanted:
        made["tiny-rclip"] = make_rclip(open_clip, fixtures, vocab, real, not args.no_decoys)
    for fixture, ref in made.items():
        ref["versions"] = vers
        write_json(fixtures / f"{fixture}-python.json", ref)
        size = sum(p.stat().st_size for p in (fixtures / fixture).rglob("*") if p.is_file())
        print(f"{fixture}: {size / 1024:.0f} KiB, parity {ref['export_parity']}")


if __name__ == "__main__":
    main()
