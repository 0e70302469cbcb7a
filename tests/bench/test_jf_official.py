"""The J&F litcore reports equals J&F recomputed from the exported palette PNGs, as the DAVIS evaluator reads them.

The recomputation below is written from the DAVIS-2017 definition, not from
litcore.vos.jf: J = |P & G| / |P | G| (1 when both are empty); F = boundary
F-measure, a boundary pixel being one that differs from its right, lower or
lower-right neighbour (seg2bmap), matched within a disk of radius
ceil(0.008 * image diagonal) (bound_th = 0.008).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import binary_dilation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "errors"))


def davis_j(pred: np.ndarray, gt: np.ndarray) -> float:
    inter, union = np.logical_and(pred, gt).sum(), np.logical_or(pred, gt).sum()
    return 1.0 if union == 0 else inter / union


def seg2bmap(seg: np.ndarray) -> np.ndarray:
    h, w = seg.shape
    e, s, se = np.zeros_like(seg), np.zeros_like(seg), np.zeros_like(seg)
    e[:, : w - 1] = seg[:, 1:]
    s[: h - 1, :] = seg[1:, :]
    se[: h - 1, : w - 1] = seg[1:, 1:]
    b = (seg ^ e) | (seg ^ s) | (seg ^ se)
    b[h - 1, :] = seg[h - 1, :] ^ e[h - 1, :]
    b[:, w - 1] = seg[:, w - 1] ^ s[:, w - 1]
    b[h - 1, w - 1] = False
    return b


def davis_f(pred: np.ndarray, gt: np.ndarray, bound_th: float = 0.008) -> float:
    r = int(math.ceil(bound_th * np.linalg.norm(pred.shape)))
    yy, xx = np.ogrid[-r:r + 1, -r:r + 1]
    disk = xx * xx + yy * yy <= r * r
    pb, gb = seg2bmap(pred.astype(bool)), seg2bmap(gt.astype(bool))
    n_p, n_g = pb.sum(), gb.sum()
    if n_p == 0 and n_g == 0:
        return 1.0
    if n_p == 0 or n_g == 0:
        return 0.0
    precision = (pb & binary_dilation(gb, disk)).sum() / n_p
    recall = (gb & binary_dilation(pb, disk)).sum() / n_g
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def from_exported_pngs(run: Path, gt_of, steps: list[dict]) -> dict[str, tuple[float, float]]:
    """Per episode: mean J and F over its checked frames, read from `run/masks/<video>/<frame>.png`."""
    out: dict[str, tuple[list, list]] = {}
    for s in steps:
        if s.get("kind") == "episode" or not s["checked"]:
            continue
        obj = int(s["episode_id"].rsplit("/", 1)[1])
        pred = np.asarray(Image.open(run / "masks" / s["group"] / f"{s['name']}.png")) == obj
        gt = gt_of(s["group"], s["index"], obj) == 1
        js, fs = out.setdefault(s["episode_id"], ([], []))
        js.append(davis_j(pred, gt))
        fs.append(davis_f(pred, gt))
    return {k: (float(np.mean(j)), float(np.mean(f))) for k, (j, f) in out.items()}


class _Rec:
    def __init__(self, episode_id, index, name, output=None, checked=True, kind="step"):
        self.episode_id, self.group = episode_id, episode_id.split("/")[0]
        self.index, self.name, self.output, self.checked, self.kind = index, name, output, checked, kind


def test_reported_jf_is_the_jf_of_the_exported_overlapping_palette(tmp_path):
    """Object 1's kept masks cover part of object 2: the palette gives those pixels to 1, and so does J&F."""
    from cases import davis_tree, labels

    from litcore.vos.davis import DavisDataset
    from litcore.vos.exports import MaskWriter
    from litcore.vos.jf import JFWriter

    video = DavisDataset(davis_tree(tmp_path)).video("v")
    run = tmp_path / "run"
    writers = [MaskWriter(run, ["palette"], video_of=lambda n: video), JFWriter(run, lambda n: video)]
    steps = []
    for obj in (1, 2):
        for t, name in enumerate(video.frame_names):
            kept = labels(t) == obj
            if obj == 1 and t > 0:
                kept = kept | (np.indices(kept.shape)[0] > 16 - 2 * t)  # spills over object 2
            steps.append(_Rec(f"v/{obj}", t, name, kept, checked=t > 0))
        steps.append(_Rec(f"v/{obj}", 0, "", kind="episode"))
    for rec in steps:
        for w in writers:
            w.write(rec)
    for w in writers:
        w.close()
    reported = {o["episode_id"]: o for o in json.loads((run / "jf.json").read_text())["objects"]}
    recomputed = from_exported_pngs(run, lambda g, i, o: video.object_mask(i, o),
                                    [{"episode_id": r.episode_id, "group": r.group, "index": r.index,
                                      "name": r.name, "checked": r.checked, "kind": r.kind} for r in steps])
    for ep, (j, f) in recomputed.items():
        assert reported[ep]["J"] == pytest.approx(j, abs=1e-9)
        assert reported[ep]["F"] == pytest.approx(f, abs=1e-9)
    # the overlap is real: object 2 loses pixels in the palette, so its unmerged score is higher
    assert reported["v/2"]["J_unmerged"] > reported["v/2"]["J"] + 0.05
    assert reported["v/1"]["J_unmerged"] == pytest.approx(reported["v/1"]["J"])


@pytest.mark.slow
def test_lit_run_jf_matches_the_palette_it_exports(tmp_path, capsys):
    """End to end: the embedded SAM2 without corrections on two objects, `--save-masks palette --jf`."""
    from cases import davis_tree

    from litcore.cli import main
    from litcore.vos.davis import DavisDataset

    data = davis_tree(tmp_path)
    run = tmp_path / "run"
    assert main(["run", "--model", "sam2", "--dataset", "davis", "--root", str(data), "--out", str(run), "--quiet",
                 "--max-corrections", "0", "--save-masks", "palette", "--jf"]) == 0
    video = DavisDataset(data).video("v")
    steps = [json.loads(line) for line in (run / "steps.jsonl").read_text().splitlines()]
    recomputed = from_exported_pngs(run, lambda g, i, o: video.object_mask(i, o), steps)
    reported = {o["episode_id"]: o for o in json.loads((run / "jf.json").read_text())["objects"]}
    assert set(recomputed) == set(reported) == {"v/1", "v/2"}
    for ep, (j, f) in recomputed.items():
        assert reported[ep]["J"] == pytest.approx(j, abs=1e-9) and reported[ep]["F"] == pytest.approx(f, abs=1e-9)


def test_per_object_datasets_are_scored_on_each_objects_own_mask(tmp_path):
    """SA-V layout: the evaluator reads one PNG per object, so an overlap costs neither object anything."""
    from cases import STEMS, davis_tree, labels

    from litcore.vos.davis import DavisDataset
    from litcore.vos.jf import JFWriter
    from litcore.vos.masks import write_label_png

    data = davis_tree(tmp_path)
    ann = data / "Annotations" / "v"
    for t, stem in enumerate(STEMS):
        (ann / f"{stem}.png").unlink()
        for obj in (1, 2):
            write_label_png(ann / f"{obj:03d}" / f"{stem}.png", (labels(t) == obj).astype(np.uint8))
    video = DavisDataset(data).video("v")
    assert video.per_object
    run = tmp_path / "run"
    jf = JFWriter(run, lambda n: video)
    for obj in (1, 2):
        for t, name in enumerate(video.frame_names):
            kept = (labels(t) == obj) | ((np.indices((32, 32))[0] > 12) if obj == 1 else False)
            jf.write(_Rec(f"v/{obj}", t, name, kept, checked=t > 0))
        jf.write(_Rec(f"v/{obj}", 0, "", kind="episode"))
    jf.close()
    result = json.loads((run / "jf.json").read_text())
    objects = {o["episode_id"]: o for o in result["objects"]}
    assert objects["v/2"]["J"] == pytest.approx(1.0) and objects["v/2"]["J_unmerged"] == pytest.approx(1.0)
    assert objects["v/1"]["J"] == pytest.approx(objects["v/1"]["J_unmerged"]) and objects["v/1"]["J"] < 0.9
    assert result["settings"]["masks"].startswith("per object")
