"""Procedurally generated fine-grained "birds": the embedded classification data.

Why: real fine-grained sets (CUB, Cars) cannot ship with the repository, and
the demo must show LIT on data where a small CLIP is moderately accurate.
Classes differ only in parts (cap colour, wing colour, tail shape) while
size, body colour, background, clutter and occluding leaves vary, so a tiny
model confuses sibling classes the way CLIP confuses warblers. (Counting wing
bars was tried first: the tiny ViT stayed at the cap colour's 1/9 accuracy
for 800 steps, too slow for a one-hour CPU budget.)
Every image is a pure function of (seed, split, index): no files, no drift.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CAPS = {"red": (205, 40, 35), "blue": (45, 85, 210), "yellow": (225, 200, 40)}
WINGS = {"white": (225, 222, 210), "black": (40, 36, 34), "orange": (215, 120, 45)}
TAILS = {"forked": "forktail", "round": "roundtail", "pointed": "spiketail"}
BODY = [(120, 90, 60), (110, 110, 105), (95, 110, 70), (150, 120, 90), (80, 70, 65), (170, 160, 140)]
SPLITS = {"train": 0, "val": 1, "test": 2}
TEMPLATES = ("a photo of a {}, a type of bird.", "a blurry photo of a {}.", "a {} perched on a branch.")


@dataclass(frozen=True)
class BirdClass:
    cap: str
    wing: str
    tail: str

    @property
    def name(self) -> str:
        """Readable name used in prompts: each word names one distinguishing part."""
        return f"{self.cap}-capped {self.wing}-winged {TAILS[self.tail]}"


@lru_cache(maxsize=None)
def bird_classes() -> tuple[BirdClass, ...]:
    """The 27 classes (3 caps x 3 wing colours x 3 tails), in a fixed order."""
    return tuple(BirdClass(c, w, t) for c in CAPS for w in WINGS for t in TAILS)


def class_names() -> list[str]:
    return [c.name for c in bird_classes()]


def _rng(seed: int, split: str, index: int) -> np.random.Generator:
    if split not in SPLITS:
        raise ValueError(f"unknown synthetic split {split!r}; choose from {', '.join(SPLITS)}")
    key = hashlib.sha256(f"birds:{seed}:{split}:{index}".encode()).digest()
    return np.random.default_rng(int.from_bytes(key[:8], "little"))


def _shade(rgb, f: float) -> tuple[int, int, int]:
    return tuple(int(max(0, min(255, c * f))) for c in rgb)


def _jitter(rgb, rng, amount: float) -> tuple[int, int, int]:
    return tuple(int(np.clip(c + rng.normal(0, amount), 0, 255)) for c in rgb)


def _leaf(draw: ImageDraw.ImageDraw, rng, size: int, scale: float) -> None:
    cx, cy = rng.uniform(0, size, 2)
    r = rng.uniform(0.05, 0.12) * size * scale
    green = _jitter((60, 120, 50), rng, 25)
    draw.ellipse([cx - r, cy - r * 0.5, cx + r, cy + r * 0.5], fill=green)


def render(cls: BirdClass, rng: np.random.Generator, size: int = 64, ss: int = 2) -> Image.Image:
    """Draw one bird of `cls` at `size` px (drawn at ss x size, then downsampled)."""
    S = size * ss
    top, bottom = _jitter((150, 185, 215), rng, 35), _jitter((120, 150, 110), rng, 35)
    grad = np.linspace(0, 1, S)[:, None, None]
    bg = (np.array(top) * (1 - grad) + np.array(bottom) * grad).repeat(S, axis=1).astype(np.uint8)
    img = Image.fromarray(bg)
    d = ImageDraw.Draw(img)
    for _ in range(rng.integers(0, 5)):  # background clutter
        _leaf(d, rng, S, 1.0)
    scale = rng.uniform(0.9, 1.05)
    cx, cy = S * rng.uniform(0.46, 0.54), S * rng.uniform(0.46, 0.54)
    bw, bh = 0.42 * S * scale, 0.24 * S * scale
    body = _jitter(BODY[rng.integers(len(BODY))], rng, 12)
    # branch and legs
    y_feet = cy + bh * 0.7
    d.line([0, y_feet + rng.uniform(-3, 3) * ss, S, y_feet + rng.uniform(-3, 3) * ss],
           fill=_jitter((90, 65, 40), rng, 10), width=max(2, int(3 * ss * scale)))
    for dx in (-0.08, 0.05):
        d.line([cx + dx * bw, cy + bh * 0.3, cx + dx * bw, y_feet], fill=(60, 50, 40), width=max(1, ss))
    # tail (behind the body, on the left; the image is flipped later for right-facing birds)
    tx, ty, tl = cx - bw * 0.45, cy - bh * 0.05, bw * 0.5
    tail_col = _shade(body, 0.8)
    if cls.tail == "forked":
        d.polygon([(tx, ty - bh * 0.12), (tx - tl, ty - bh * 0.45), (tx - tl * 0.6, ty),
                   (tx - tl, ty + bh * 0.45), (tx, ty + bh * 0.12)], fill=tail_col)
    elif cls.tail == "round":
        d.ellipse([tx - tl * 0.95, ty - bh * 0.3, tx + tl * 0.4, ty + bh * 0.3], fill=tail_col)
    else:
        d.polygon([(tx, ty - bh * 0.15), (tx - tl * 1.15, ty + bh * 0.05), (tx, ty + bh * 0.15)], fill=tail_col)
    d.ellipse([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], fill=body)
    # wing patch in the class's wing colour, with a darker edge
    wx0, wy0, wx1, wy1 = cx - bw * 0.3, cy - bh * 0.28, cx + bw * 0.15, cy + bh * 0.22
    d.ellipse([wx0, wy0, wx1, wy1], fill=_jitter(WINGS[cls.wing], rng, 18), outline=_shade(body, 0.6), width=ss)
    # head, cap, eye, beak
    hr = bh * 0.42
    hx, hy = cx + bw * 0.48, cy - bh * 0.42
    d.ellipse([hx - hr, hy - hr, hx + hr, hy + hr], fill=body)
    d.chord([hx - hr, hy - hr, hx + hr, hy + hr], 190, 350, fill=_jitter(CAPS[cls.cap], rng, 18))
    d.ellipse([hx + hr * 0.2, hy - hr * 0.05, hx + hr * 0.45, hy + hr * 0.2], fill=(15, 15, 15))
    d.polygon([(hx + hr * 0.8, hy - hr * 0.15), (hx + hr * 1.7, hy + hr * 0.1), (hx + hr * 0.8, hy + hr * 0.3)],
              fill=_jitter((80, 70, 50), rng, 15))
    for _ in range(rng.integers(0, 3) if rng.random() < 0.35 else 0):  # occluding leaves in front
        _leaf(d, rng, S, 0.9)
    img = img.rotate(float(rng.uniform(-6, 6)), resample=Image.BILINEAR, fillcolor=top)
    if rng.random() < 0.5:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    img = img.resize((size, size), Image.BOX)
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 0.8))))
    arr = np.asarray(img).astype(np.float32)
    arr = arr * rng.uniform(0.8, 1.2) + rng.normal(0, 6, arr.shape) + rng.uniform(-15, 15)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def make_image(label: int, split: str, index: int, seed: int = 0, size: int = 64) -> Image.Image:
    """Image `index` of class `label` in `split`; identical on every call and machine."""
    classes = bird_classes()
    return render(classes[label], _rng(seed, split, label * 1_000_003 + index), size=size)


def split_items(split: str, per_class: int, seed: int = 0) -> list[tuple[int, int]]:
    """(label, index) pairs of a split: `per_class` images for each class."""
    _rng(seed, split, 0)  # validates the split name
    return [(label, i) for label in range(len(bird_classes())) for i in range(per_class)]


def contact_sheet(per_class: int = 4, seed: int = 0, size: int = 64) -> Image.Image:
    """All classes, one row each (for the docs and for eyeballing the difficulty)."""
    n = len(bird_classes())
    sheet = Image.new("RGB", (per_class * size, n * size))
    for label in range(n):
        for i in range(per_class):
            sheet.paste(make_image(label, "test", i, seed, size), (i * size, label * size))
    return sheet

