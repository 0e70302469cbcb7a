"""Star-convex shapes in object-local coordinates, with soft (anti-aliased) edges.

A shape is a radius function r(theta) = superellipse(theta) * (1 + sum of
harmonics); `wobble` scales the harmonics and `morph` slides their phases, so
one spec can keep changing shape over a video (the deformation failure mode)
without ever becoming a different object. Separation cuts the shape into
pie-slice parts (`sectors`) that can be pushed apart along their bisectors,
each carrying its own piece of the texture like cards sliding apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("ellipse", "blob", "rounded", "star")


@dataclass(frozen=True)
class ShapeSpec:
    """Radius function parameters; local radius ~1 means `scale` pixels on screen."""

    kind: str
    squareness: float = 2.0  # superellipse exponent: 2 is an ellipse, larger is boxier
    harmonics: tuple[tuple[int, float, float], ...] = ()  # (order k, amplitude, phase)

    def radius(self, theta: np.ndarray, wobble: float = 1.0, morph: float = 0.0) -> np.ndarray:
        n = self.squareness
        r = (np.abs(np.cos(theta)) ** n + np.abs(np.sin(theta)) ** n) ** (-1.0 / n)
        if self.harmonics:
            h = np.ones_like(theta)
            for i, (k, amp, phase) in enumerate(self.harmonics):
                sign = 1.0 if i % 2 == 0 else -1.0  # neighbouring orders drift opposite ways
                h = h + wobble * amp * np.cos(k * theta + phase + sign * morph)
            r = r * h
        return r

    def max_radius(self, wobble: float = 1.0) -> float:
        """Upper bound of r(theta), used for bounding boxes and border margins."""
        box = 2.0 ** (0.5 - 1.0 / self.squareness) if self.squareness > 2 else 1.0
        return box * (1.0 + abs(wobble) * sum(abs(a) for _, a, _ in self.harmonics))

    def to_json(self) -> dict:
        return {"kind": self.kind, "squareness": round(self.squareness, 2),
                "harmonics": [[k, round(a, 3), round(p, 3)] for k, a, p in self.harmonics]}


def random_shape(rng: np.random.Generator, kind: str | None = None, bumpiness: float = 1.0) -> ShapeSpec:
    """A random shape of `kind`; `bumpiness` scales the harmonic amplitudes."""
    kind = kind or str(rng.choice(KINDS))
    if kind == "ellipse":
        return ShapeSpec(kind, 2.0, ((3, 0.04 * bumpiness, float(rng.uniform(0, 6.3))),))
    if kind == "rounded":
        return ShapeSpec(kind, float(rng.uniform(3.0, 5.0)), ((2, 0.05 * bumpiness, float(rng.uniform(0, 6.3))),))
    if kind == "star":
        k = int(rng.integers(4, 7))
        return ShapeSpec(kind, 2.0, ((k, float(rng.uniform(0.15, 0.25)) * bumpiness, float(rng.uniform(0, 6.3))),))
    if kind == "blob":
        orders = rng.choice([2, 3, 4, 5], size=3, replace=False)
        harm = tuple((int(k), float(rng.uniform(0.05, 0.12)) * bumpiness, float(rng.uniform(0, 6.3)))
                     for k in sorted(orders))
        return ShapeSpec(kind, 2.0, harm)
    raise ValueError(f"unknown shape kind {kind!r}; known: {', '.join(KINDS)}")


def perturbed(shape: ShapeSpec, rng: np.random.Generator, amount: float = 0.25) -> ShapeSpec:
    """Same kind, slightly different harmonics: a look-alike's outline."""
    harm = tuple((k, a * float(rng.uniform(1 - amount, 1 + amount)), p + float(rng.uniform(-1, 1)))
                 for k, a, p in shape.harmonics)
    return ShapeSpec(shape.kind, shape.squareness, harm)


def bar_shape() -> ShapeSpec:
    """A rounded rectangle; with a strong aspect ratio it makes a pole or plank occluder."""
    return ShapeSpec("bar", 8.0, ())


def soft_alpha(shape: ShapeSpec, u: np.ndarray, v: np.ndarray, px_per_unit: float,
               wobble: float = 1.0, morph: float = 0.0) -> np.ndarray:
    """Coverage in [0, 1]: 1 inside, 0 outside, a one-pixel ramp across the edge."""
    rho = np.hypot(u, v)
    theta = np.arctan2(v, u)
    d_px = (rho - shape.radius(theta, wobble, morph)) * px_per_unit
    return np.clip(0.5 - d_px, 0.0, 1.0)


@dataclass(frozen=True)
class Sector:
    """One pie slice of a separated shape: its outward direction and two inward edge normals."""

    bisector: tuple[float, float]
    n1: tuple[float, float]
    n2: tuple[float, float]
    single: bool  # a half-plane: both normals equal


def sectors(parts: int, base_angle: float) -> list[Sector]:
    """`parts` equal pie slices (2 = halves, 3 = thirds) starting at `base_angle`."""
    if parts < 2:
        raise ValueError(f"a separation needs at least 2 parts, got {parts}")
    half = np.pi / parts
    out = []
    for j in range(parts):
        b = base_angle + 2 * np.pi * j / parts
        n1 = (float(np.sin(b + half)), float(-np.cos(b + half)))
        n2 = (float(-np.sin(b - half)), float(np.cos(b - half)))
        out.append(Sector((float(np.cos(b)), float(np.sin(b))), n1, n2, parts == 2))
    return out


def sector_alpha(sector: Sector, u: np.ndarray, v: np.ndarray, px_per_unit: float) -> np.ndarray:
    """Soft membership of points in a pie slice (intersection of two half-planes)."""
    d = u * sector.n1[0] + v * sector.n1[1]
    if not sector.single:
        d = np.minimum(d, u * sector.n2[0] + v * sector.n2[1])
    return np.clip(0.5 + d * px_per_unit, 0.0, 1.0)
