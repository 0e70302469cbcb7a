"""Rasterise a scene: background canvas, textured objects back to front, label maps.

Besides frames and label maps the renderer returns each object's *unoccluded*
mask per frame; the generator needs it to measure occlusion (visible versus
full area) and separation honestly instead of trusting the schedules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from litcore.vos.synth.shapes import ShapeSpec, sector_alpha, sectors, soft_alpha
from litcore.vos.synth.textures import TextureSpec, render, render_patch, sample_patch


@dataclass
class SceneObject:
    """One moving object with per-frame pose arrays (all of length `frames`)."""

    obj_id: int  # value written into label maps; 0 = unlabelled (hides what is behind, not annotated)
    role: str  # target, distractor, occluder, extra
    shape: ShapeSpec
    texture: TextureSpec
    layer: int  # drawing order, higher is nearer the camera
    center: np.ndarray  # (T, 2) x, y in pixels
    scale: np.ndarray  # (T,) radius in pixels of local radius 1
    aspect: np.ndarray  # (T,) width / height stretch of the local frame
    angle: np.ndarray  # (T,) rotation in radians
    wobble: np.ndarray  # (T,) harmonic amplitude multiplier
    morph: np.ndarray  # (T,) harmonic phase slide
    gap: np.ndarray  # (T,) separation of parts in pixels (0 = whole)
    parts: int = 1
    part_angle: float = 0.0
    texture_end: TextureSpec | None = None  # drift target, blended in by `drift`
    drift: np.ndarray | None = None  # (T,) weight of texture_end

    def extent(self) -> float:
        """Bound on |local coordinate| of any textured point over the clip."""
        return max(self.shape.max_radius(float(w)) for w in np.unique(np.round(self.wobble, 3))) + 0.05

    def bound_px(self, t: int) -> float:
        """Radius in pixels of a disc that contains the object on frame t."""
        stretch = max(np.sqrt(self.aspect[t]), 1 / np.sqrt(self.aspect[t]))
        return self.shape.max_radius(float(self.wobble[t])) * self.scale[t] * stretch + self.gap[t] + 2


@dataclass
class Clutter:
    """A static decoration painted into the background (moves only with the camera)."""

    shape: ShapeSpec
    texture: TextureSpec
    center: tuple[float, float]
    scale: float
    aspect: float
    angle: float


@dataclass
class Scene:
    frames: int
    height: int
    width: int
    background: TextureSpec
    bg_period: float  # pixels per background texture unit
    pan: np.ndarray  # (T, 2) integer camera offsets, |offset| <= pan_max
    objects: list[SceneObject]
    clutter: list[Clutter] = field(default_factory=list)
    noise_sigma: float = 2.5


@dataclass
class Rendered:
    frames: list[np.ndarray]
    labels: list[np.ndarray]
    full_masks: list[np.ndarray]  # per object (same order as scene.objects): (T, H, W) bool, unoccluded


def _local(obj: SceneObject, t: int, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dx, dy = xs - obj.center[t, 0], ys - obj.center[t, 1]
    c, s = np.cos(obj.angle[t]), np.sin(obj.angle[t])
    sa = np.sqrt(obj.aspect[t])
    return (c * dx + s * dy) / (obj.scale[t] * sa), (-s * dx + c * dy) * sa / obj.scale[t]


def _object_layer(obj: SceneObject, t: int, xs: np.ndarray, ys: np.ndarray, patch: np.ndarray,
                  extent: float) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, rgb) of one object on the pixel grid (xs, ys)."""
    u, v = _local(obj, t, xs, ys)
    ppu = float(obj.scale[t]) * min(np.sqrt(obj.aspect[t]), 1 / np.sqrt(obj.aspect[t]))
    w, m = float(obj.wobble[t]), float(obj.morph[t])
    if obj.parts < 2 or obj.gap[t] <= 0:
        return soft_alpha(obj.shape, u, v, ppu, w, m), sample_patch(patch, u, v, extent)
    g = obj.gap[t] / 2 / obj.scale[t]  # each part moves half the gap, in local units
    alpha = np.zeros(u.shape, np.float32)
    rgb = np.zeros(u.shape + (3,), np.float32)
    for sec in sectors(obj.parts, obj.part_angle):
        pu, pv = u - g * sec.bisector[0], v - g * sec.bisector[1]
        a = np.minimum(soft_alpha(obj.shape, pu, pv, ppu, w, m), sector_alpha(sec, pu, pv, ppu))
        take = a > alpha
        alpha = np.where(take, a, alpha)
        if take.any():
            rgb[take] = sample_patch(patch, pu[take], pv[take], extent)
    return alpha, rgb


def _background(scene: Scene) -> tuple[np.ndarray, int]:
    pad = int(np.abs(scene.pan).max()) if len(scene.pan) else 0
    h, w = scene.height + 2 * pad, scene.width + 2 * pad
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    canvas = render(scene.background, xs / scene.bg_period, ys / scene.bg_period)
    for c in scene.clutter:
        dx, dy = xs - c.center[0] - pad, ys - c.center[1] - pad
        co, si, sa = np.cos(c.angle), np.sin(c.angle), np.sqrt(c.aspect)
        u, v = (co * dx + si * dy) / (c.scale * sa), (-si * dx + co * dy) * sa / c.scale
        a = soft_alpha(c.shape, u, v, c.scale * min(sa, 1 / sa))[..., None]
        canvas = canvas * (1 - a) + render(c.texture, u, v) * a
    return canvas, pad


def render_scene(scene: Scene, noise_rng: np.random.Generator) -> Rendered:
    """Frames (uint8 RGB), label maps (uint8) and unoccluded masks for every object."""
    T, H, W = scene.frames, scene.height, scene.width
    canvas, pad = _background(scene)
    order = sorted(range(len(scene.objects)), key=lambda i: scene.objects[i].layer)
    patches = {}
    for i, obj in enumerate(scene.objects):
        ext = obj.extent()
        n = int(np.clip(2 * ext * obj.scale.max() * np.sqrt(max(obj.aspect.max(), 1 / obj.aspect.min())), 64, 320))
        p0 = render_patch(obj.texture, n, ext)
        p1 = render_patch(obj.texture_end, n, ext) if obj.texture_end is not None else None
        patches[i] = (p0, p1, ext)
    full = [np.zeros((T, H, W), bool) for _ in scene.objects]
    frames, labels = [], []
    for t in range(T):
        ox, oy = int(scene.pan[t, 0]), int(scene.pan[t, 1])
        img = canvas[pad + oy: pad + oy + H, pad + ox: pad + ox + W].copy()
        lab = np.zeros((H, W), np.uint8)
        for i in order:
            obj = scene.objects[i]
            r = obj.bound_px(t)
            cx, cy = obj.center[t]
            x0, x1 = max(int(cx - r), 0), min(int(np.ceil(cx + r)) + 1, W)
            y0, y1 = max(int(cy - r), 0), min(int(np.ceil(cy + r)) + 1, H)
            if x0 >= x1 or y0 >= y1:
                continue
            ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
            p0, p1, ext = patches[i]
            patch = p0 if p1 is None else p0 * (1 - obj.drift[t]) + p1 * obj.drift[t]
            alpha, rgb = _object_layer(obj, t, xs, ys, patch, ext)
            a = alpha[..., None]
            img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - a) + rgb * a
            inside = alpha > 0.5
            full[i][t, y0:y1, x0:x1] = inside
            lab[y0:y1, x0:x1][inside] = obj.obj_id
        img = img + noise_rng.normal(0.0, scene.noise_sigma, img.shape)
        frames.append(np.clip(np.rint(img), 0, 255).astype(np.uint8))
        labels.append(lab)
    return Rendered(frames, labels, full)
