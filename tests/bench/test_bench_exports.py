"""Mask exports: COCO RLE round trip, palette merge order, per-object folders read back by the DAVIS loader."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from litcore.cli import main
from litcore.vos.davis import DavisDataset
from litcore.vos.exports import (COCO_FILE, CocoBuilder, EpisodeMasks, MaskWriter, decode_annotation, export_run,
                                 merge_labels, write_per_object)
from litcore.vos.masks import read_label_png



def _episode(video, obj, masks, frames=None, label=None):
    h, w = masks[0].shape
    ep = EpisodeMasks(video, obj, label or f"{obj:03d}", (h, w))
    for i, m in enumerate(masks):
        ep.add((frames or [f"{t:05d}" for t in range(len(masks))])[i], m)
    return ep


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 17).flatmap(lambda h: st.integers(1, 19).flatmap(
    lambda w: st.lists(arrays(bool, (h, w)), min_size=1, max_size=3))))
def test_coco_rle_round_trip(masks):
    coco = CocoBuilder()
    coco.add_video([_episode("v", 1, masks)])
    data = json.loads(json.dumps(coco.to_json()))  # what lands on disk
    assert len(data["images"]) == len(masks)
    anns = {a["image_id"]: a for a in data["annotations"]}
    for image, m in zip(data["images"], masks):
        if not m.any():
            assert image["id"] not in anns  # absent object: no annotation
            continue
        ann = anns[image["id"]]
        assert np.array_equal(decode_annotation(ann), m)
        assert ann["area"] == int(m.sum())
        ys, xs = np.nonzero(m)
        assert ann["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]


@settings(max_examples=40, deadline=None)
@given(st.lists(arrays(bool, (6, 7)), min_size=1, max_size=4), st.permutations([1, 2, 3, 4]))
def test_palette_merge_lower_id_wins(masks, ids):
    ids = ids[:len(masks)]
    eps = [_episode("v", obj, [m]) for obj, m in zip(ids, masks)]
    lab = merge_labels(eps, "00000", (6, 7))
    expected = np.zeros((6, 7), np.uint8)
    for y in range(6):
        for x in range(7):
            covering = [obj for obj, m in zip(ids, masks) if m[y, x]]
            expected[y, x] = min(covering) if covering else 0
    assert np.array_equal(lab, expected)


@settings(max_examples=8, deadline=None)
@given(st.lists(arrays(bool, (5, 6)), min_size=2, max_size=2), st.lists(arrays(bool, (5, 6)), min_size=2, max_size=2))
def test_per_object_round_trip_through_davis_loader(tmp_path_factory, obj0, obj1):
    root = tmp_path_factory.mktemp("po")
    frames = ["00000", "00004"]
    for name in frames:  # frames the loader can match the masks to
        (root / "JPEGImages" / "vid").mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((5, 6, 3), np.uint8)).save(root / "JPEGImages" / "vid" / f"{name}.jpg")
    for obj, masks in ((1, obj0), (2, obj1)):  # SA-V style labels 000, 001
        write_per_object(_episode("vid", obj, masks, frames, label=f"{obj - 1:03d}"), root / "Annotations")
    v = DavisDataset(root).video("vid")
    assert v.id_map == {1: 0, 2: 1}
    for t in range(2):
        assert np.array_equal(v.object_mask(t, 1) == 1, obj0[t])
        assert np.array_equal(v.object_mask(t, 2) == 1, obj1[t])


def _rec(episode_id, index, name, output, kind="step"):
    return SimpleNamespace(episode_id=episode_id, group=episode_id.split("/")[0], index=index, name=name,
                           output=output, checked=True, kind=kind)


def _end(episode_id):
    return _rec(episode_id, -1, "", None, kind="episode")


def test_writer_streams_then_export_rebuilds_the_same_files(tmp_path):
    rng = np.random.default_rng(0)
    m = {k: rng.random((8, 10)) > 0.5 for k in range(6)}
    video = SimpleNamespace(name="vid", frame_names=["a0", "a1", "a2"], id_map={})
    records = [_rec("vid/2", 0, "a0", m[0]), _rec("vid/2", 1, "a1", m[1]), _rec("vid/2", 2, "a2", m[2]), _end("vid/2"),
               _rec("vid/1", 1, "a1", m[3]), _rec("vid/1", 2, "a2", m[4]), _end("vid/1"),  # starts on frame a1
               _rec("zed/1", 0, "z0", m[5])]  # an episode that never finishes: dropped
    w = MaskWriter(tmp_path / "run", ["npz", "palette", "per-object", "coco"],
                   video_of=lambda name: video if name == "vid" else None)
    for r in records:
        w.write(r)
    w.close()
    run = tmp_path / "run"
    assert sorted(p.name for p in (run / "masks" / "vid").iterdir()) == ["a0.png", "a1.png", "a2.png"]
    assert not (run / "masks" / "zed").exists()
    a1 = read_label_png(run / "masks" / "vid" / "a1.png")
    assert np.array_equal(a1, np.where(m[3], 1, np.where(m[1], 2, 0)))
    # object 1 starts on a1: its a0 file exists and is empty
    assert not read_label_png(run / "masks_per_object" / "vid" / "001" / "a0.png").any()
    assert np.array_equal(read_label_png(run / "masks_per_object" / "vid" / "001" / "a2.png") > 0, m[4])
    coco = json.loads((run / COCO_FILE).read_text())
    assert [i["frame"] for i in coco["images"]] == ["a0", "a1", "a2"]
    assert {(a["track_id"], a["image_id"]) for a in coco["annotations"]} == {(1, 2), (1, 3), (2, 1), (2, 2), (2, 3)}
    ep = EpisodeMasks.load(run / "saved_masks" / "vid" / "1.npz")
    assert ep.frames == ["a1", "a2"] and ep.all_frames == ["a0", "a1", "a2"]
    assert np.array_equal(ep.mask(0), m[3])

    again = export_run(run, ["palette", "per-object", "coco"], tmp_path / "again")
    for sub in ("masks/vid/a0.png", "masks/vid/a1.png", "masks_per_object/vid/002/a2.png",
                "masks_per_object/vid/001/a0.png"):
        assert np.array_equal(read_label_png(again / sub), read_label_png(run / sub)), sub
    assert json.loads((again / COCO_FILE).read_text())["annotations"] == coco["annotations"]


def test_export_command_without_saved_masks_fails_clearly(tmp_path, capsys):
    assert main(["export", str(tmp_path), "--format", "palette"]) == 2
    assert "saved_masks" in capsys.readouterr().err
