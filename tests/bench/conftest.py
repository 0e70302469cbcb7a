"""Format-faithful fixtures of VOST, LVOS v2, MOSEv2 and SA-V, written by the tests (never downloaded).

Layouts follow the recipes of the project's dataset reference notes: mode-P
index PNGs, VOST's `frameNNNNN` names and void 255 with a split list lacking
its final newline, LVOS's 8-digit sparse names and meta JSON, MOSEv2's
DAVIS-like folders, SA-V's 24 fps frames with per-object 6 fps masks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from litcore.vos.masks import write_label_png

H, W = 48, 64


def _jpeg(path: Path, seed: int, lab: np.ndarray | None = None) -> None:
    rng = np.random.default_rng(seed)
    img = (rng.random((H, W, 3)) * 60).astype(np.uint8)
    if lab is not None:
        img[lab == 1] = (200, 40, 40)
        img[lab == 2] = (40, 200, 40)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path, quality=95)


def box(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def vost_tree(root: Path, name: str = "1_cut_blob", frames: int = 5, step: int = 6) -> dict[str, np.ndarray]:
    """Object 1 drifting right, a void rectangle, object 2 only from the third frame."""
    labs = {}
    stems = [f"frame{t * step:05d}" for t in range(frames)]
    for t in reversed(range(frames)):  # written out of order: the loader must sort
        lab = np.zeros((H, W), np.uint8)
        lab[box(8, 24, 6 + 3 * t, 26 + 3 * t)] = 1
        lab[box(40, 46, 0, 10)] = 255
        if t >= 2:
            lab[box(28, 38, 40, 56)] = 2
        _jpeg(root / "JPEGImages" / name / f"{stems[t]}.jpg", t, lab)
        write_label_png(root / "Annotations" / name / f"{stems[t]}.png", lab)
        labs[stems[t]] = lab
    (root / "ImageSets").mkdir(parents=True, exist_ok=True)
    (root / "ImageSets" / "val.txt").write_text(name)  # VOST's lists have no trailing newline
    return labs


def lvos_tree(root: Path, video: str = "abCD1234", split: str = "valid") -> dict[str, np.ndarray]:
    """Stems 00000001..00000026 step 5; object 2 appears at 00000011; 00000031 has no mask."""
    d = root / split
    labs = {}
    stems = [f"{n:08d}" for n in range(1, 27, 5)]
    for t, stem in enumerate(stems):
        lab = np.zeros((H, W), np.uint8)
        lab[box(6, 20, 4 + 2 * t, 20 + 2 * t)] = 1
        if stem >= "00000011":
            lab[box(26, 40, 30, 50)] = 2
        _jpeg(d / "JPEGImages" / video / f"{stem}.jpg", t, lab)
        write_label_png(d / "Annotations" / video / f"{stem}.png", lab)
        labs[stem] = lab
    _jpeg(d / "JPEGImages" / video / "00000031.jpg", 99)
    meta = {"videos": {video: {"objects": {"1": {"frame_range": {"start": 1, "end": 26, "frame_nums": 6}},
                                           "2": {"frame_range": {"start": 11, "end": 26, "frame_nums": 4}}}}}}
    (d / f"{split}_meta.json").write_text(json.dumps(meta))
    return labs


def mose_tree(root: Path, video: str = "vidA", split: str = "valid", full: bool = False,
              frames: int = 6) -> dict[str, np.ndarray]:
    """First-frame-only GT like the public valid split, or full GT (`full=True`, object 1 vanishes at 3)."""
    d = root / split
    labs = {}
    for t in range(frames):
        lab = np.zeros((H, W), np.uint8)
        if t != 3:
            lab[box(10, 26, 8 + 2 * t, 24 + 2 * t)] = 1
        lab[box(30, 44, 36, 52)] = 2
        _jpeg(d / "JPEGImages" / video / f"{t:05d}.jpg", t, lab)
        if full or t == 0:
            write_label_png(d / "Annotations" / video / f"{t:05d}.png", lab)
        labs[f"{t:05d}"] = lab
    n = len(labs) if full else 1
    meta = {"videos": {video: {"length": n, "height": H, "width": W, "objects": {"1": {}, "2": {}}}}}
    (root / f"meta_{split}.json").write_text(json.dumps(meta))
    return labs


def sav_tree(root: Path, video: str = "sav_000001", split: str = "val", frames: int = 14,
             missing: tuple[str, str] | None = None) -> dict[tuple[str, str], np.ndarray]:
    """24 fps frames 00000..000NN, per-object 0/1 PNGs every 4th frame in folders 000 and 001 (overlapping)."""
    d = root / f"sav_{split}"
    masks = {}
    for t in range(frames):
        a = box(8, 28, 6 + t, 30 + t)
        b = box(20, 40, 20, 44)  # overlaps object 000
        lab = np.zeros((H, W), np.uint8)
        lab[b] = 2
        lab[a] = 1
        _jpeg(d / "JPEGImages_24fps" / video / f"{t:05d}.jpg", t, lab)
        if t % 4:
            continue
        for obj, m in (("000", a), ("001", b)):
            if missing == (obj, f"{t:05d}"):
                continue
            write_label_png(d / "Annotations_6fps" / video / obj / f"{t:05d}.png", m.astype(np.uint8))
            masks[(obj, f"{t:05d}")] = m
    (d / f"sav_{split}.txt").write_text(video + "\n")
    return masks


@pytest.fixture(scope="session")
def trees():
    """The fixture writers, as one namespace (test modules import nothing from here)."""
    from types import SimpleNamespace

    return SimpleNamespace(vost=vost_tree, lvos=lvos_tree, mose=mose_tree, sav=sav_tree, box=box, H=H, W=W)
