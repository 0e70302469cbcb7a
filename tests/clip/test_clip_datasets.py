"""Loaders on format-faithful fixtures: CUB-200-2011, Stanford Cars, SUN397, synthetic birds."""

from __future__ import annotations

import pytest
from clip_fixtures import CAR_CLASSES, SUN_KEYS, write_cars, write_cub, write_sun397

from litcore.errors import DataError
from litcore_cls_clip import datasets, synth
from litcore_cls_clip.data import stream_id


def labels_by_stream(ds) -> dict[str, list[int]]:
    return {ep.group: [r.label for r in ep.payload.images] for ep in ds.episodes()}


def test_cub_official_split_readable_names_and_class_streams(tmp_path):
    base = write_cub(tmp_path)
    test = datasets.cub(tmp_path)
    assert test.classes == ["Black footed Albatross", "Laysan Albatross", "Sooty Albatross"]
    assert test.groups() == ["001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross"]
    streams = labels_by_stream(test)
    assert {g: len(v) for g, v in streams.items()} == {g: 3 for g in test.groups()}  # the 3 test images per class
    assert all(set(v) == {i} for i, v in enumerate(streams.values()))
    train = datasets.cub(base, split="train")  # the CUB_200_2011 folder itself works as root too
    assert len(train.images) == 6 and {r.name.rsplit("_", 1)[0][-4:] for r in train.images} == {"0000", "0001"}
    assert train.images[0].load().size == (40, 40)


@pytest.mark.parametrize("name", ["images.txt", "image_class_labels.txt", "train_test_split.txt", "classes.txt"])
def test_cub_missing_file_is_named(tmp_path, name):
    base = write_cub(tmp_path)
    (base / name).unlink()
    with pytest.raises(DataError, match=name):
        datasets.cub(tmp_path)


def test_cub_missing_image_is_named_when_loaded(tmp_path):
    base = write_cub(tmp_path)
    ref = datasets.cub(tmp_path).images[0]
    (base / "images" / ref.name).unlink()
    with pytest.raises(DataError, match=ref.path.name):
        ref.load()


def test_stream_order_is_seeded_per_stream_and_all_stream_covers_the_test_set(tmp_path):
    write_cub(tmp_path, test=8)
    names = lambda ds: {ep.group: [r.name for r in ep.payload.images] for ep in ds.episodes()}  # noqa: E731
    a, b = names(datasets.cub(tmp_path, seed=0)), names(datasets.cub(tmp_path, seed=0))
    c = names(datasets.cub(tmp_path, seed=1))
    assert a == b and a != c and any(v != sorted(v) for v in a.values())  # shuffled, reproducibly
    ds = datasets.cub(tmp_path, seed=0)
    (alone,) = ds.episodes(groups=["002.Laysan_Albatross"])  # running one stream alone keeps its order
    assert [r.name for r in alone.payload.images] == a["002.Laysan_Albatross"]
    whole = datasets.cub(tmp_path, stream="all")
    assert whole.groups() == ["all"]
    (ep,) = list(whole.episodes())
    assert sorted(r.name for r in ep.payload.images) == sorted(r.name for r in whole.images)
    assert len(ep.payload.images) == 24
    assert len(next(datasets.cub(tmp_path, max_per_stream=2).episodes()).payload.images) == 2
    with pytest.raises(KeyError, match="unknown class stream"):
        list(ds.episodes(groups=["nope"]))
    with pytest.raises(ValueError, match="no objects"):
        list(ds.episodes(objects=["1"]))


def test_cars_matches_torchvision_stanford_cars(tmp_path):
    from torchvision.datasets import StanfordCars

    write_cars(tmp_path)
    ours = datasets.cars(tmp_path, split="test")
    tv = StanfordCars(str(tmp_path), split="test")
    assert [(str(r.path), r.label) for r in ours.images] == [(str(p), y) for p, y in tv._samples]
    assert [r.label for r in ours.images] == [tv[i][1] for i in range(len(tv))]
    assert tv.classes == CAR_CLASSES
    assert ours.classes[0] == "2000 AM General Hummer SUV"  # the year moves to the front, as CLIP/CoOp name cars
    assert datasets.cars(tmp_path, year_first=False).classes == CAR_CLASSES
    assert len(datasets.cars(tmp_path / "stanford_cars", split="train").images) == 6


@pytest.mark.parametrize("missing", ["devkit/cars_meta.mat", "cars_test_annos_withlabels.mat"])
def test_cars_missing_file_is_named(tmp_path, missing):
    base = write_cars(tmp_path)
    (base / missing).unlink()
    with pytest.raises(DataError, match=missing.rsplit("/", 1)[-1]):
        datasets.cars(tmp_path)


def test_sun397_official_partition_and_names(tmp_path):
    write_sun397(tmp_path)
    ds = datasets.sun397(tmp_path)
    assert ds.classes == ["abbey", "exterior balcony", "interior balcony"]
    assert len(ds.images) == 6 and all(r.path.is_file() for r in ds.images)
    assert [r.label for r in ds.images] == [0, 0, 1, 1, 2, 2]
    expected = [ln.lstrip("/") for ln in (tmp_path / "Testing_01.txt").read_text().split()]
    assert [r.name for r in ds.images] == expected
    assert {r.name for r in datasets.sun397(tmp_path / "SUN397", split="train").images}.isdisjoint(expected)


def test_sun397_partitions_folder_and_missing_partition_file(tmp_path):
    write_sun397(tmp_path, where="partitions")
    assert len(datasets.sun397(tmp_path).images) == 6
    (tmp_path / "Partitions" / "Testing_01.txt").unlink()
    with pytest.raises(DataError, match="Testing_01.txt"):
        datasets.sun397(tmp_path)
    with pytest.raises(DataError, match="Testing_02.txt"):
        datasets.sun397(tmp_path, fold=2)


def test_sun397_coop_split_with_and_without_its_json(tmp_path):
    write_sun397(tmp_path / "a", per_split=5)
    test = datasets.sun397(tmp_path / "a", partition="coop")
    assert [r.name for r in test.images] == [r.name for r in datasets.sun397(tmp_path / "a").images]
    train = datasets.sun397(tmp_path / "a", partition="coop", split="train")
    val = datasets.sun397(tmp_path / "a", partition="coop", split="val")
    assert [len([r for r in val.images if r.label == c]) for c in range(3)] == [1, 1, 1]  # 20% of 5 per class
    assert len(train.images) == 12 and {r.name for r in train.images}.isdisjoint(r.name for r in val.images)
    write_sun397(tmp_path / "b", coop_json=True)
    val_json = datasets.sun397(tmp_path / "b", partition="coop", split="val")
    assert [r.name for r in val_json.images] == [SUN_KEYS[0].lstrip("/") + "/" + val_json.images[0].path.name]
    with pytest.raises(ValueError, match="val"):
        datasets.sun397(tmp_path / "b", split="val")  # the official partition has no val split


def test_synthetic_birds_are_deterministic_and_distinct():
    names = synth.class_names()
    assert len(names) == 27 == len(set(names))
    ds = datasets.synth_birds(per_class=2)
    assert ds.groups()[0] == stream_id(0, names[0]) == "001.red_capped_white_winged_forktail"
    a = ds.images[0].load()
    assert a.size == (64, 64)
    assert a.tobytes() == synth.make_image(0, "test", 0).tobytes()
    assert a.tobytes() != synth.make_image(0, "train", 0).tobytes()
    assert a.tobytes() != synth.make_image(0, "test", 0, seed=1).tobytes()
    with pytest.raises(ValueError, match="split"):
        synth.make_image(0, "nope", 0)
