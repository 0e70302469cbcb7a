"""Scene recipes: which objects move how, for each split and failure mode.

The target (id 1) is built first because every companion is defined relative
to it: a look-alike distractor and an occluder both swing around a smoothed
copy of its path so their encounters happen a known number of times. Sizes
are in units of a 128-pixel frame so other resolutions look the same.
"""

from __future__ import annotations

import numpy as np

from litcore.vos.synth import motion
from litcore.vos.synth.render import Clutter, Scene, SceneObject
from litcore.vos.synth.shapes import bar_shape, perturbed, random_shape
from litcore.vos.synth.textures import FAMILIES, TextureSpec, hue_shifted, lookalike, random_texture

MODES = ("occlusion", "separation", "camouflage", "deformation", "drift", "fast_motion")

# Hard videos cycle through these so any 12 consecutive indices cover every
# pairing of interest; camouflage and occlusion dominate because they are the
# recurring confusions a per-video adapter can learn to resolve.
HARD_COMBOS: tuple[tuple[str, ...], ...] = (
    ("camouflage", "occlusion"),
    ("camouflage", "deformation"),
    ("occlusion", "fast_motion"),
    ("separation", "camouflage"),
    ("camouflage", "drift", "fast_motion"),
    ("occlusion", "deformation", "drift"),
    ("separation", "occlusion"),
    ("camouflage", "occlusion", "deformation"),
    ("deformation", "fast_motion", "drift"),
    ("separation", "deformation"),
    ("camouflage", "fast_motion"),
    ("occlusion", "camouflage", "drift"),
)


def _far_color(rng: np.random.Generator, bg: TextureSpec, **kw) -> TextureSpec:
    """An object texture whose mean colour stands out from the background's."""
    bg_mean = (np.array(bg.color_a) + np.array(bg.color_b)) / 2
    best, best_d = None, -1.0
    for _ in range(12):
        tex = random_texture(rng, **kw)
        d = float(np.linalg.norm((np.array(tex.color_a) + np.array(tex.color_b)) / 2 - bg_mean))
        if d > best_d:
            best, best_d = tex, d
        if d >= 80:
            break
    return best  # type: ignore[return-value]


def _const(frames: int, value: float) -> np.ndarray:
    return np.full(frames, float(value))


class SceneBuilder:
    """Builds one scene; methods add the target and each failure mode's companions."""

    def __init__(self, rng: np.random.Generator, frames: int, height: int, width: int) -> None:
        self.rng, self.T, self.H, self.W = rng, frames, height, width
        self.unit = min(height, width) / 128.0
        self.objects: list[SceneObject] = []
        self.next_id = 1
        self.meta: dict = {}

    # -- background ---------------------------------------------------------
    def background(self, pan_px: float, clutter: int) -> tuple[TextureSpec, np.ndarray, list[Clutter]]:
        rng, u = self.rng, self.unit
        tex = random_texture(rng, saturated=False)
        pan = motion.smooth_path(rng, self.T, (-pan_px, pan_px, -pan_px, pan_px), pan_px / 12 + 0.01,
                                 start=(0.0, 0.0))
        items = []
        for _ in range(clutter):
            ctex = random_texture(rng, saturated=False, family=str(rng.choice(FAMILIES)))
            items.append(Clutter(random_shape(rng), ctex, (rng.uniform(0, self.W), rng.uniform(0, self.H)),
                                 rng.uniform(6, 16) * u, rng.uniform(0.5, 2.0), rng.uniform(0, np.pi)))
        self.bg = tex
        return tex, np.rint(pan).astype(int), items

    # -- the target -----------------------------------------------------------
    def target(self, modes: tuple[str, ...], radius: float, speed: float) -> SceneObject:
        rng, T, u = self.rng, self.T, self.unit
        deform = "deformation" in modes
        shape = random_shape(rng, "blob" if deform else None, bumpiness=2.0 if deform else 1.0)
        tex = _far_color(rng, self.bg)
        r = radius * u
        scale, aspect = r * motion.log_oscillation(rng, T, 0.06, (0.5, 1.0)), motion.log_oscillation(
            rng, T, 0.1, (0.3, 0.8))
        wobble, morph = _const(T, 1.0), _const(T, 0.0)
        spin = rng.uniform(-0.03, 0.03)
        if deform:
            scale = r * motion.log_oscillation(rng, T, rng.uniform(0.32, 0.42), (1.1, 1.8))
            aspect = motion.log_oscillation(rng, T, rng.uniform(0.4, 0.6), (1.0, 2.0))
            wobble = 1.0 + 0.6 * np.sin(np.arange(T) * rng.uniform(0.15, 0.3))
            morph = np.arange(T) * rng.uniform(0.08, 0.16)
            spin = rng.choice([-1, 1]) * rng.uniform(0.03, 0.08)
        gap, parts, part_angle = _const(T, 0.0), 1, 0.0
        if "separation" in modes:
            parts = 2 if rng.random() < 0.7 else 3
            start = int(rng.uniform(0.12, 0.25) * T)
            g_max = rng.uniform(0.6, 0.9) * r
            wave = 0.8 + 0.2 * np.sin(np.arange(T) * rng.uniform(0.2, 0.4))
            gap = g_max * motion.ramp(T, start, max(3, T // 8)) * wave
            part_angle = float(rng.uniform(0, 2 * np.pi))
            self.meta["separation"] = {"num_parts": parts, "split_frame": start}
        angle = rng.uniform(0, 2 * np.pi) + spin * np.arange(T)
        obj = SceneObject(self.next_id, "target", shape, tex, 10, np.zeros((T, 2)), scale, aspect, angle,
                          wobble, morph, gap, parts, part_angle)
        self.next_id += 1
        margin = 0.85 * max(obj.bound_px(t) for t in range(T))
        box = motion.safe_box(self.H, self.W, margin)
        path = motion.smooth_path(rng, T, box, speed * u)
        if "fast_motion" in modes:
            n = 4 if T >= 40 else 2
            edge = 3 if T >= 12 else 1
            jumps = motion.pick_frames(rng, n, edge, T - edge, spacing=4 if T >= 12 else 2)
            path = motion.add_jumps(rng, path, box, jumps, (0.2 * min(self.H, self.W), 0.3 * min(self.H, self.W)))
        obj.center = path
        self.box = box
        self.objects.append(obj)
        return obj

    def _anchor(self) -> np.ndarray:
        return motion.moving_average(self.objects[0].center, 9)

    def _encounters(self) -> int:
        return 3 if self.T >= 40 else (2 if self.T >= 16 else 1)

    # -- failure modes ----------------------------------------------------------
    def camouflage(self, labelled: bool = True) -> SceneObject:
        """A look-alike of the target that swings across its path several times."""
        rng, T, tgt = self.rng, self.T, self.objects[0]
        r = float(np.median(tgt.scale)) * rng.uniform(0.85, 1.1)
        amp = rng.uniform(2.6, 3.2) * r
        side = rng.uniform(-0.5, 0.5) * r
        box = motion.safe_box(self.H, self.W, 0.8 * r * tgt.shape.max_radius())
        n, jitter, first = self._encounters(), rng.uniform(0.0, 0.3), rng.uniform(0, 2 * np.pi)
        best, best_out = None, np.inf
        for k in range(16):  # the swing direction that needs the least clamping at the borders
            off = motion.encounter_offsets(T, n, amp, first + k * np.pi / 8, side, jitter)
            centre = self._anchor() + off
            clamped = centre.copy()
            clamped[:, 0] = np.clip(centre[:, 0], box[0], box[1])
            clamped[:, 1] = np.clip(centre[:, 1], box[2], box[3])
            out = float(np.abs(clamped - centre).sum())
            if out < best_out - 1e-6:
                best, best_out = clamped, out
        centre = best
        oid = self.next_id if labelled else 0
        obj = SceneObject(oid, "distractor", perturbed(tgt.shape, rng), lookalike(tgt.texture, rng),
                          int(rng.choice([5, 15])), centre, r * motion.log_oscillation(rng, T, 0.06, (0.5, 1.0)),
                          motion.log_oscillation(rng, T, 0.1, (0.3, 0.8)),
                          rng.uniform(0, 2 * np.pi) + rng.uniform(-0.03, 0.03) * np.arange(T),
                          _const(T, 1.0), _const(T, 0.0), _const(T, 0.0))
        self.next_id += int(labelled)
        self.objects.append(obj)
        self.meta["camouflage"] = {"distractor_id": oid, "in_front": obj.layer > tgt.layer}
        return obj

    def occlusion(self, labelled: bool) -> SceneObject:
        """A plank wider than the target sweeping in front of it several times."""
        rng, T, tgt = self.rng, self.T, self.objects[0]
        # a typical (not the extreme) target size: a deforming target would otherwise get a wall
        r_max = float(np.percentile([tgt.bound_px(t) for t in range(T)], 75)) - 2
        half_w = rng.uniform(1.1, 1.3) * r_max  # along the sweep: wider than the target
        half_l = rng.uniform(2.5, 3.5) * r_max  # across it: a long plank covering the whole target
        direction = rng.uniform(0, 2 * np.pi)
        amp = half_w + r_max + rng.uniform(4, 10) * self.unit
        off = motion.encounter_offsets(T, self._encounters(), amp, direction, 0.0, rng.uniform(0.0, 0.3))
        fam = str(rng.choice([f for f in FAMILIES if f != tgt.texture.family]))
        oid = self.next_id if labelled else 0
        s = np.sqrt(half_w * half_l)
        obj = SceneObject(oid, "occluder", bar_shape(), _far_color(rng, self.bg, family=fam), 20,
                          self._anchor() + off, _const(T, s), _const(T, half_w / half_l),
                          direction + 0.05 * np.sin(np.arange(T) * 0.2), _const(T, 1.0), _const(T, 0.0),
                          _const(T, 0.0))
        self.next_id += int(labelled)
        self.objects.append(obj)
        self.meta["occlusion"] = {"occluder_id": oid, "labelled": labelled}
        return obj

    def drift(self) -> None:
        """Slowly rotate the target's colours (and a look-alike's, so it stays a look-alike)."""
        rng, T = self.rng, self.T
        turns = rng.choice([-1, 1]) * rng.uniform(0.15, 0.3)
        weight = np.linspace(0.0, 1.0, T)
        for obj in self.objects:
            if obj.role in ("target", "distractor"):
                obj.texture_end = hue_shifted(obj.texture, turns, rng.uniform(0.8, 1.1))
                obj.drift = weight
        self.meta["drift"] = {"hue_turns": round(float(turns), 3)}

    def extra(self, labelled: bool) -> SceneObject:
        """An unrelated object wandering around (general multi-object training data)."""
        rng, T, u = self.rng, self.T, self.unit
        r = rng.uniform(9, 17) * u
        box = motion.safe_box(self.H, self.W, r)
        obj = SceneObject(self.next_id if labelled else 0, "extra", random_shape(rng), _far_color(rng, self.bg),
                          int(rng.choice([3, 12, 18])), motion.smooth_path(rng, T, box, rng.uniform(0.5, 2.5) * u),
                          r * motion.log_oscillation(rng, T, 0.1, (0.3, 1.0)),
                          motion.log_oscillation(rng, T, 0.15, (0.3, 1.0)),
                          rng.uniform(0, 2 * np.pi) + rng.uniform(-0.05, 0.05) * np.arange(T),
                          _const(T, 1.0), _const(T, 0.0), _const(T, 0.0))
        self.next_id += int(labelled)
        self.objects.append(obj)
        return obj

    def labelled_count(self) -> int:
        return sum(1 for o in self.objects if o.obj_id)


def build_scene(rng: np.random.Generator, split: str, index: int, frames: int, height: int, width: int
                ) -> tuple[Scene, tuple[str, ...], dict]:
    """(scene, claimed modes, per-mode construction facts) for one draw of one video."""
    b = SceneBuilder(rng, frames, height, width)
    if split == "easy":
        modes: tuple[str, ...] = ()
        bg, pan, clutter = b.background(rng.uniform(0, 4) * b.unit, int(rng.integers(0, 3)))
        b.target(modes, rng.uniform(14, 20), rng.uniform(0.4, 1.0))
    else:
        if split == "hard":
            modes = HARD_COMBOS[index % len(HARD_COMBOS)]
        elif rng.random() < 0.3:
            modes = ()
        else:
            k = int(rng.choice([1, 2, 3], p=[0.4, 0.4, 0.2]))
            modes = tuple(str(m) for m in rng.choice(MODES, size=k, replace=False))
        bg, pan, clutter = b.background(rng.uniform(0, 10) * b.unit, int(rng.integers(0, 6)))
        b.target(modes, rng.uniform(12, 18), rng.uniform(0.5, 2.0))
        if "camouflage" in modes:
            b.camouflage(labelled=True)
        if "occlusion" in modes:
            b.occlusion(labelled=b.labelled_count() < 3 and rng.random() < 0.5)
        if "drift" in modes:
            b.drift()
        if split == "train":
            for _ in range(int(rng.integers(0, 3))):
                b.extra(labelled=b.labelled_count() < 3 and rng.random() < 0.8)
    scene = Scene(frames, height, width, bg, rng.uniform(20, 45) * b.unit, pan, b.objects, clutter,
                  float(rng.uniform(1.5, 3.5)))
    return scene, modes, b.meta
