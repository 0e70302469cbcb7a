"""Format-faithful tiny copies of CUB-200-2011, Stanford Cars and SUN397 (written per test).

Layouts follow shared/reference/datasets.md section 4; the real datasets are
never downloaded or committed (licences, size).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image


def write_jpeg(path: Path, seed: int, size: int = 40) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(path, quality=90)
    return path


CUB_CLASSES = ["001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross"]


def write_cub(root: Path, train: int = 2, test: int = 3) -> Path:
    """CUB_200_2011/ with 3 classes, `train` + `test` images each (ids interleaved like the real files)."""
    base = root / "CUB_200_2011"
    lines = {"images.txt": [], "image_class_labels.txt": [], "train_test_split.txt": []}
    image_id = 0
    for c, folder in enumerate(CUB_CLASSES, 1):
        for k in range(train + test):
            image_id += 1
            rel = f"{folder}/{folder.split('.', 1)[1]}_{k:04d}_{image_id}.jpg"
            write_jpeg(base / "images" / rel, image_id)
            lines["images.txt"].append(f"{image_id} {rel}")
            lines["image_class_labels.txt"].append(f"{image_id} {c}")
            lines["train_test_split.txt"].append(f"{image_id} {1 if k < train else 0}")
    lines["classes.txt"] = [f"{i} {name}" for i, name in enumerate(CUB_CLASSES, 1)]
    for name, rows in lines.items():
        (base / name).write_text("\n".join(rows) + "\n")
    return base


CAR_CLASSES = ["AM General Hummer SUV 2000", "Acura RL Sedan 2012", "Tesla Model S Sedan 2012"]


def _annotations(records: list[tuple[str, int]], with_class: bool = True) -> np.ndarray:
    fields = ["bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2"] + (["class"] if with_class else []) + ["fname"]
    arr = np.zeros((1, len(records)), dtype=[(f, "O") for f in fields])
    for i, (fname, cls) in enumerate(records):
        values = [np.array([[1]]), np.array([[2]]), np.array([[30]]), np.array([[20]])]
        if with_class:
            values.append(np.array([[cls]], dtype=np.uint8))
        arr[0, i] = tuple(values + [np.array([fname])])
    return arr


def write_cars(root: Path, per_class: int = 2) -> Path:
    """stanford_cars/ as torchvision 0.29's StanfordCars reads it (devkit .mat files via scipy.io.savemat)."""
    from scipy.io import savemat

    base = root / "stanford_cars"
    (base / "devkit").mkdir(parents=True)
    names = np.empty((1, len(CAR_CLASSES)), dtype=object)
    for i, n in enumerate(CAR_CLASSES):
        names[0, i] = np.array([n])
    savemat(base / "devkit" / "cars_meta.mat", {"class_names": names})
    for split, annos in (("train", base / "devkit" / "cars_train_annos.mat"),
                         ("test", base / "cars_test_annos_withlabels.mat")):
        records = []
        for c in range(len(CAR_CLASSES)):
            for k in range(per_class):
                fname = f"{len(records) + 1:05d}.jpg"
                write_jpeg(base / f"cars_{split}" / fname, 100 * c + k + (0 if split == "train" else 50))
                records.append((fname, c + 1))
        savemat(annos, {"annotations": _annotations(records)})
    savemat(base / "devkit" / "cars_test_annos.mat", {"annotations": _annotations([("00001.jpg", 0)] * 2, False)})
    return base


SUN_KEYS = ["/a/abbey", "/b/balcony/exterior", "/b/balcony/interior"]


def _sun_name(seed: int) -> str:
    rng = np.random.default_rng(seed)
    return "sun_" + "".join(chr(97 + int(v)) for v in rng.integers(0, 26, 16)) + ".jpg"


def write_sun397(root: Path, per_split: int = 2, where: str = "root", coop_json: bool = False) -> Path:
    """sun397/{SUN397/<letter>/<class>/sun_*.jpg, ClassName.txt, Training_01.txt, Testing_01.txt}.

    `where` puts the partition files next to SUN397/ (CoOp, "root") or in Partitions/.
    """
    images = root / "SUN397"
    (images).mkdir(parents=True)
    (images / "ClassName.txt").write_text("\n".join(SUN_KEYS) + "\n")
    parts = {"Training_01.txt": [], "Testing_01.txt": []}
    seed = 0
    for key in SUN_KEYS:
        for split in parts:
            for _ in range(per_split):
                seed += 1
                line = f"{key}/{_sun_name(seed)}"
                write_jpeg(images / line.lstrip("/"), seed)
                parts[split].append(line)
    folder = root if where == "root" else root / "Partitions"
    folder.mkdir(exist_ok=True)
    for name, rows in parts.items():
        (folder / name).write_text("\n".join(rows) + "\n")
    if coop_json:
        def entries(rows):
            return [[r.lstrip("/"), SUN_KEYS.index(r.rsplit("/", 1)[0]), "x"] for r in rows]
        train = entries(parts["Training_01.txt"])
        split = {"train": train[1:], "val": train[:1], "test": entries(parts["Testing_01.txt"])}
        (root / "split_zhou_SUN397.json").write_text(json.dumps(split))
    return root
