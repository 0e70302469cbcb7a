"""`make_video`: deterministic synthetic VOS clips with measured failure-mode metadata.

Each (split, index) has its own seed; splits use different entropy words, so
no train clip can reproduce an evaluation clip. A draw whose claimed failure
modes did not actually happen on screen (the occluder missed, the split is
hidden) is rejected and redrawn from the next attempt seed, so the metadata
is a measured fact that tests and the demo can rely on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from litcore.vos.synth import measure
from litcore.vos.synth.render import Rendered, Scene, render_scene
from litcore.vos.synth.scenes import build_scene
from litcore.vos.video import ArrayVideo

# Entropy words per split: distinct constants make the seed streams disjoint.
SPLIT_ENTROPY = {"train": 0x7A11_0001, "easy": 0xEA57_0002, "hard": 0x4A3D_0003}
SPLITS = tuple(SPLIT_ENTROPY)
MAX_ATTEMPTS = 12
TARGET_ID = 1


@dataclass
class SynthVideo(ArrayVideo):
    """An in-memory synthetic clip plus `meta`: modes, events and per-frame target measurements."""

    meta: dict = field(default_factory=dict)


def video_seed(split: str, index: int, attempt: int = 0) -> np.random.SeedSequence:
    """The seed of one draw; raises ValueError for an unknown split."""
    if split not in SPLIT_ENTROPY:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    if index < 0:
        raise ValueError(f"video index must be >= 0, got {index}")
    return np.random.SeedSequence([SPLIT_ENTROPY[split], index, attempt])


def default_frames(split: str, rng: np.random.Generator) -> int:
    return {"train": int(rng.integers(16, 25)), "easy": 24, "hard": 48}[split]


def _measure(scene: Scene, out: Rendered, modes: tuple[str, ...], claimed: dict) -> dict:
    """Per-frame target facts and one entry per realised event."""
    T, unit2 = scene.frames, (min(scene.height, scene.width) / 128.0) ** 2
    tgt_full = out.full_masks[0]
    full_area = tgt_full.reshape(T, -1).sum(1)
    vis_area = np.array([(lab == TARGET_ID).sum() for lab in out.labels])
    ratio = vis_area / np.maximum(full_area, 1)
    cents = [measure.centroid(m) for m in tgt_full]
    steps = [0.0] + [float(np.hypot(a[0] - b[0], a[1] - b[1])) if a and b else 0.0
                     for a, b in zip(cents[1:], cents[:-1])]
    events: dict = {}
    roles = {o.role: i for i, o in enumerate(scene.objects)}
    if "occlusion" in modes:
        occ = [t for t in range(T) if ratio[t] < 0.5]
        events["occlusion"] = dict(claimed["occlusion"], occluded_frames=occ, runs=measure.runs(occ))
    if "camouflage" in modes:
        d_full = out.full_masks[roles["distractor"]]
        d_vis0 = d_full[0] & (out.labels[0] == claimed["camouflage"]["distractor_id"])
        t_vis0 = tgt_full[0] & (out.labels[0] == TARGET_ID)
        close = [t for t in range(T) if (measure.dilate(tgt_full[t], 3) & d_full[t]).any()]
        bg = out.labels[0] == 0
        for i in range(len(scene.objects)):
            bg &= ~out.full_masks[i][0]
        events["camouflage"] = dict(
            claimed["camouflage"], close_frames=close, encounters=len(measure.runs(close)),
            appearance_distance=round(measure.appearance_distance(out.frames[0], t_vis0, d_vis0), 2),
            background_distance=round(measure.appearance_distance(out.frames[0], t_vis0, bg), 2))
    if "separation" in modes:
        sep = [t for t in range(T) if measure.count_components(tgt_full[t], max(8, int(10 * unit2))) >= 2]
        events["separation"] = dict(claimed["separation"], separated_frames=sep)
    if "deformation" in modes:
        tgt = scene.objects[0]
        events["deformation"] = {"area_ratio": round(float(full_area.max() / max(full_area.min(), 1)), 3),
                                 "scale_px": [round(float(s), 2) for s in tgt.scale],
                                 "aspect": [round(float(a), 3) for a in tgt.aspect]}
    if "drift" in modes:
        first = measure.appearance(out.frames[0], tgt_full[0] & (out.labels[0] == TARGET_ID))[:3]
        last = measure.appearance(out.frames[-1], tgt_full[-1] & (out.labels[-1] == TARGET_ID))[:3]
        events["drift"] = dict(claimed["drift"], start_rgb=[round(float(c), 1) for c in first],
                               end_rgb=[round(float(c), 1) for c in last],
                               color_change=round(float(np.linalg.norm(first - last)), 2))
    if "fast_motion" in modes:
        jump = 0.12 * min(scene.height, scene.width)
        events["fast_motion"] = {"jump_frames": [t for t in range(T) if steps[t] >= jump],
                                 "min_jump_px": round(jump, 2)}
    return {
        "target_area": [int(a) for a in vis_area],
        "target_area_unoccluded": [int(a) for a in full_area],
        "occluded_frames": [t for t in range(T) if ratio[t] < 0.5],
        "target_step_px": [round(s, 2) for s in steps],
        "events": events,
    }


def _problems(split: str, facts: dict, scene: Scene) -> dict[str, str]:
    """Why a draw falls short, keyed by failure mode ('frame0' for the one fatal problem)."""
    need = 2 if split == "hard" and scene.frames >= 24 else 1  # hard failures recur
    floor = 150 * scene.height * scene.width / 128 ** 2
    bad: dict[str, str] = {}
    a0, f0 = facts["target_area"][0], facts["target_area_unoccluded"][0]
    if a0 < floor or a0 < 0.9 * f0:
        bad["frame0"] = f"frame-0 target area {a0} (unoccluded {f0}) below floor {floor:.0f}"
    ev, T = facts["events"], scene.frames
    if "occlusion" in ev:
        runs = ev["occlusion"]["runs"]
        vis = np.array(facts["target_area"]) / np.maximum(facts["target_area_unoccluded"], 1)
        recovered = all(any(vis[t] >= 0.8 for t in range(r[1] + 1, T)) for r in runs)
        if len(runs) < need or not recovered:
            bad["occlusion"] = f"{len(runs)} occlusions, re-emerges after each: {recovered}"
    if "camouflage" in ev:
        c = ev["camouflage"]
        if c["encounters"] < need or 0 in c["close_frames"] or \
                c["appearance_distance"] > 0.5 * c["background_distance"]:
            bad["camouflage"] = (f"{c['encounters']} encounters, distance {c['appearance_distance']}"
                                 f" vs background {c['background_distance']}")
    if "separation" in ev:
        late = range(T - max(3, T // 4), T)
        if not all(t in ev["separation"]["separated_frames"] for t in late):
            bad["separation"] = "target not in >= 2 pieces on the last quarter of frames"
    if "deformation" in ev and ev["deformation"]["area_ratio"] < 2.0:
        bad["deformation"] = f"area ratio {ev['deformation']['area_ratio']} < 2"
    if "drift" in ev and not ev["drift"]["color_change"] >= 40:
        bad["drift"] = f"colour change {ev['drift']['color_change']} < 40"
    if "fast_motion" in ev and len(ev["fast_motion"]["jump_frames"]) < need:
        bad["fast_motion"] = f"{len(ev['fast_motion']['jump_frames'])} jumps"
    return bad


def make_video(split: str, index: int, *, height: int = 128, width: int = 128,
               num_frames: int | None = None) -> SynthVideo:
    """The `index`-th video of `split` ('train', 'easy' or 'hard'), identical on every call.

    The target is object id 1 and every frame carries a full label map. If no
    draw realises every mode (only plausible for unusually short or small
    clips), the best draw is kept with the missing modes moved from `modes`
    to `unrealised_modes`; RuntimeError if not even frame 0 can be satisfied.
    """
    video_seed(split, index)  # validates split and index
    if num_frames is not None and num_frames < 2:
        raise ValueError(f"num_frames must be >= 2, got {num_frames}")
    if min(height, width) < 48:
        raise ValueError(f"frames must be at least 48x48 pixels, got {height}x{width}")
    best = None
    for attempt in range(MAX_ATTEMPTS):
        scene_rng, noise_rng = (np.random.default_rng(s) for s in video_seed(split, index, attempt).spawn(2))
        T = num_frames if num_frames is not None else default_frames(split, scene_rng)
        scene, modes, claimed = build_scene(scene_rng, split, index, T, height, width)
        out = render_scene(scene, noise_rng)
        facts = _measure(scene, out, modes, claimed)
        problems = _problems(split, facts, scene)
        if "frame0" not in problems and (best is None or len(problems) < len(best[-1])):
            best = (attempt, scene, modes, out, facts, problems)
        if not problems:
            break
    if best is None:
        raise RuntimeError(f"{split}_{index:04d}: no draw in {MAX_ATTEMPTS} attempts shows the target on frame 0")
    attempt, scene, modes, out, facts, problems = best
    name = f"{split}_{index:04d}"
    objects = [{"id": o.obj_id, "role": o.role, "labelled": o.obj_id != 0, "layer": o.layer,
                "shape": o.shape.to_json(), "texture": o.texture.to_json()} for o in scene.objects]
    facts["events"] = {k: v for k, v in facts["events"].items() if k not in problems}
    meta = {"name": name, "split": split, "index": index, "attempt": attempt,
            "size": [height, width], "num_frames": scene.frames,
            "modes": [m for m in modes if m not in problems], "unrealised_modes": problems,
            "target_id": TARGET_ID, "objects": objects, **facts}
    return SynthVideo(name, out.frames, out.labels, meta=meta)
