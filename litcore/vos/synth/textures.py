"""Procedural textures: the appearance that makes a synthetic object *that* object.

LIT only helps when a target's look is consistent within a video yet distinct
from look-alikes, so a texture is a small frozen spec (family, two colours,
frequency, angle, noise seed) that renders identically wherever it is
evaluated. `lookalike` derives a near-copy (same family, nudged colours and
frequency, different noise) for camouflage distractors, and `hue_shifted`
gives the end point of an appearance drift. Everything is plain numpy.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, replace

import numpy as np

FAMILIES = ("noise", "stripes", "spots", "checker", "rings", "gradient")
_LATTICE = 64  # value-noise lattice period; large enough not to repeat visibly

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class TextureSpec:
    """Everything needed to re-render a texture bit-identically."""

    family: str
    color_a: RGB
    color_b: RGB
    freq: float  # cycles per coordinate unit
    angle: float  # radians, orientation of stripes / checkers / gradient
    seed: int  # noise lattice seed
    grain: float = 0.12  # relative brightness noise, keeps flat areas from being featureless

    def to_json(self) -> dict:
        return {"family": self.family, "color_a": [round(c, 1) for c in self.color_a],
                "color_b": [round(c, 1) for c in self.color_b], "freq": round(self.freq, 3),
                "angle": round(self.angle, 3), "seed": self.seed}


def hsv_color(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, float(np.clip(s, 0, 1)), float(np.clip(v, 0, 1)))
    return (255.0 * r, 255.0 * g, 255.0 * b)


def _lattice(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((_LATTICE, _LATTICE), dtype=np.float32)


def value_noise(x: np.ndarray, y: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Smooth noise in [0, 1] at arbitrary coordinates (one lattice cell per unit)."""
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    fx = fx * fx * (3.0 - 2.0 * fx)
    fy = fy * fy * (3.0 - 2.0 * fy)
    xi = x0.astype(np.int64) % _LATTICE
    yi = y0.astype(np.int64) % _LATTICE
    x1, y1 = (xi + 1) % _LATTICE, (yi + 1) % _LATTICE
    a, b, c, d = table[yi, xi], table[yi, x1], table[y1, xi], table[y1, x1]
    return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy


def fbm(x: np.ndarray, y: np.ndarray, seed: int, octaves: int = 3) -> np.ndarray:
    """Fractal value noise, mean ~0.5; sums octaves so patterns have detail at every scale."""
    table = _lattice(seed)
    total = np.zeros(np.shape(x), dtype=np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        f = 2.0 ** o
        total += amp * value_noise(x * f + 17.3 * o, y * f + 9.1 * o, table)
        norm += amp
        amp *= 0.5
    return total / norm


def _sharpen(w: np.ndarray, k: float) -> np.ndarray:
    return np.clip((w - 0.5) * k + 0.5, 0.0, 1.0)


def mix_weight(spec: TextureSpec, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-point weight of `color_b` over `color_a` for the spec's family."""
    f, ca, sa = spec.freq, np.cos(spec.angle), np.sin(spec.angle)
    along = x * ca + y * sa
    across = -x * sa + y * ca
    if spec.family == "noise":
        return _sharpen(fbm(x * f, y * f, spec.seed), 3.0)
    if spec.family == "stripes":
        return _sharpen(0.5 + 0.5 * np.sin(2 * np.pi * f * along), 2.5)
    if spec.family == "checker":
        return _sharpen(0.5 + 0.5 * np.sign(np.sin(2 * np.pi * f * along) * np.sin(2 * np.pi * f * across))
                        * 0.9, 1.0)
    if spec.family == "rings":
        rho = np.hypot(x - 0.3 * ca, y - 0.3 * sa)
        return _sharpen(0.5 + 0.5 * np.sin(2 * np.pi * f * rho), 2.0)
    if spec.family == "spots":
        table = _lattice(spec.seed + 1)
        gx, gy = along * f, across * f
        cx, cy = np.floor(gx), np.floor(gy)
        xi, yi = cx.astype(np.int64) % _LATTICE, cy.astype(np.int64) % _LATTICE
        jx = 0.3 + 0.4 * table[yi, xi]
        jy = 0.3 + 0.4 * table[xi, yi]
        d = np.hypot(gx - cx - jx, gy - cy - jy)
        return np.clip((0.27 - d) * 10.0 + 0.5, 0.0, 1.0)
    if spec.family == "gradient":
        n = fbm(x * 2.0, y * 2.0, spec.seed)
        return np.clip(0.5 + 0.45 * np.tanh(along * f) + 0.4 * (n - 0.5), 0.0, 1.0)
    raise ValueError(f"unknown texture family {spec.family!r}; known: {', '.join(FAMILIES)}")


def render(spec: TextureSpec, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """RGB float32 (..., 3) in [0, 255] of the texture at coordinates (x, y)."""
    w = mix_weight(spec, x, y)[..., None]
    a = np.asarray(spec.color_a, dtype=np.float32)
    b = np.asarray(spec.color_b, dtype=np.float32)
    rgb = a * (1.0 - w) + b * w
    grain = fbm(x * 6.0, y * 6.0, spec.seed + 7, octaves=2)[..., None]
    rgb = rgb * (1.0 + spec.grain * 2.0 * (grain - 0.5))
    return np.clip(rgb, 0.0, 255.0).astype(np.float32)


def render_patch(spec: TextureSpec, n: int, extent: float) -> np.ndarray:
    """The texture on an n x n grid over [-extent, extent]^2 (object-local coordinates)."""
    c = np.linspace(-extent, extent, n, dtype=np.float32)
    x, y = np.meshgrid(c, c)
    return render(spec, x, y)


def sample_patch(patch: np.ndarray, u: np.ndarray, v: np.ndarray, extent: float) -> np.ndarray:
    """Bilinear lookup of a rendered patch at local coordinates (clamped at its border)."""
    n = patch.shape[0]
    fx = np.clip((u + extent) * ((n - 1) / (2 * extent)), 0.0, n - 1.001)
    fy = np.clip((v + extent) * ((n - 1) / (2 * extent)), 0.0, n - 1.001)
    x0, y0 = fx.astype(np.int64), fy.astype(np.int64)
    wx, wy = (fx - x0)[..., None], (fy - y0)[..., None]
    top = patch[y0, x0] * (1 - wx) + patch[y0, x0 + 1] * wx
    bot = patch[y0 + 1, x0] * (1 - wx) + patch[y0 + 1, x0 + 1] * wx
    return top * (1 - wy) + bot * wy


def random_texture(rng: np.random.Generator, *, family: str | None = None, saturated: bool = True,
                   hue: float | None = None) -> TextureSpec:
    """A random object (saturated) or background (muted) texture."""
    family = family or str(rng.choice(FAMILIES))
    h = float(rng.random()) if hue is None else hue
    if saturated:
        s, v = rng.uniform(0.55, 0.95), rng.uniform(0.6, 0.95)
        h2, s2, v2 = h + rng.uniform(-0.12, 0.12), s * rng.uniform(0.4, 1.0), v * rng.uniform(0.35, 0.7)
    else:
        s, v = rng.uniform(0.05, 0.4), rng.uniform(0.3, 0.75)
        h2, s2, v2 = h + rng.uniform(-0.2, 0.2), s * rng.uniform(0.5, 1.2), v * rng.uniform(0.55, 0.9)
    freq = {"noise": 1.2, "stripes": 1.1, "spots": 1.6, "checker": 0.9, "rings": 1.3, "gradient": 1.0}[family]
    return TextureSpec(family, hsv_color(h, s, v), hsv_color(h2, s2, v2),
                       freq * float(rng.uniform(0.7, 1.4)), float(rng.uniform(0, np.pi)),
                       int(rng.integers(0, 2**31 - 1)))


def _nudge(color: RGB, delta: np.ndarray) -> RGB:
    return tuple(float(np.clip(c + d, 0, 255)) for c, d in zip(color, delta))  # type: ignore[return-value]


def lookalike(spec: TextureSpec, rng: np.random.Generator, color_shift: tuple[float, float] = (16.0, 28.0)
              ) -> TextureSpec:
    """A near-copy for a camouflage distractor: same family, colours moved by a small RGB step.

    The step is small enough to confuse a generic tracker but big enough for an
    adapter trained on this video to separate the two once corrected.
    """
    direction = rng.normal(size=3)
    delta = direction / np.linalg.norm(direction) * rng.uniform(*color_shift)
    return replace(spec, color_a=_nudge(spec.color_a, delta), color_b=_nudge(spec.color_b, delta),
                   freq=spec.freq * float(rng.uniform(0.85, 1.15)),
                   angle=spec.angle + float(rng.uniform(-0.35, 0.35)),
                   seed=int(rng.integers(0, 2**31 - 1)))


def hue_shifted(spec: TextureSpec, turns: float, value_scale: float = 1.0) -> TextureSpec:
    """The same pattern with both colours rotated in hue: the end point of an appearance drift."""
    def shift(c: RGB) -> RGB:
        h, s, v = colorsys.rgb_to_hsv(*(x / 255.0 for x in c))
        return hsv_color(h + turns, max(s, 0.35), v * value_scale)
    return replace(spec, color_a=shift(spec.color_a), color_b=shift(spec.color_b))
