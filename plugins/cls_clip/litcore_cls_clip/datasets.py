"""Loaders for CUB-200-2011, Stanford Cars, SUN397 and the embedded synthetic birds.

Each reads the dataset's own files exactly as distributed (layouts in
``shared/reference/datasets.md`` section 4) and returns a
:class:`~litcore_cls_clip.data.ClassificationDataset`. Missing files raise a
:class:`litcore.errors.DataError` that names the file, because a half-copied
dataset is the usual failure.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from litcore.errors import DataError
from litcore_cls_clip import synth
from litcore_cls_clip.data import ClassificationDataset, ImageRef, read_lines, require_file

CUB_TEMPLATES = ("a photo of a {}, a type of bird.",)
CARS_TEMPLATES = ("a photo of a {}.", "a photo of a {}, a type of car.")
SUN_TEMPLATES = ("a photo of a {}.", "a photo of the {}.")
SPLITS = ("train", "test")


def _base(root: str | Path | None, folder: str, marker: str) -> Path:
    """The dataset folder: `root` itself if it holds `marker`, else root/folder."""
    if root is None:
        raise ValueError("this dataset needs --root (the folder you extracted it to)")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"dataset root {root} is not a directory")
    return root if (root / marker).exists() else root / folder


def _split(split: str, allowed=SPLITS) -> str:
    if split not in allowed:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(allowed)}")
    return split


def _table(path: Path, columns: int = 2) -> dict[int, list[str]]:
    """``<id> <value...>`` lines keyed by the integer id."""
    out: dict[int, list[str]] = {}
    for n, line in enumerate(read_lines(path), 1):
        parts = line.split(maxsplit=columns - 1)
        if len(parts) < columns or not parts[0].isdigit():
            raise DataError(f"{path}, line {n}: expected '<id> <value>', got {line!r}")
        out[int(parts[0])] = parts[1:]
    return out


def cub(root: str | Path | None = None, split: str = "test", templates=CUB_TEMPLATES, **options: Any):
    """CUB-200-2011: the official train/test split of train_test_split.txt; labels 1-based on disk."""
    base = _base(root, "CUB_200_2011", "images.txt")
    split = _split(split)
    classes_txt = _table(base / "classes.txt")
    names = [classes_txt[k][0] for k in sorted(classes_txt)]
    readable = [re.sub(r"^\d+\.", "", n).replace("_", " ") for n in names]
    images = _table(base / "images.txt")
    labels = _table(base / "image_class_labels.txt")
    is_train = _table(base / "train_test_split.txt")
    refs = []
    for image_id, (rel,) in sorted(images.items()):
        if image_id not in labels or image_id not in is_train:
            missing = "image_class_labels.txt" if image_id not in labels else "train_test_split.txt"
            raise DataError(f"{base / missing}: no entry for image id {image_id} ({rel})")
        if (is_train[image_id][0] == "1") != (split == "train"):
            continue
        label = int(labels[image_id][0]) - 1
        if not 0 <= label < len(names):
            raise DataError(f"{base / 'image_class_labels.txt'}: image {image_id} has class {label + 1}, "
                            "which classes.txt does not list")
        refs.append(ImageRef(rel, label, base / "images" / rel))
    return ClassificationDataset("cub", readable, refs, templates, **options)


def _year_first(name: str) -> str:
    """'AM General Hummer SUV 2000' -> '2000 AM General Hummer SUV' (CLIP's and CoOp's naming)."""
    words = name.split()
    return " ".join([words[-1], *words[:-1]]) if len(words) > 1 and re.fullmatch(r"\d{4}", words[-1]) else name


def cars(root: str | Path | None = None, split: str = "test", templates=CARS_TEMPLATES, year_first: bool = True,
         **options: Any):
    """Stanford Cars in the layout torchvision's ``StanfordCars`` reads (devkit/ .mat files)."""
    from scipy.io import loadmat

    base = _base(root, "stanford_cars", "devkit")
    split = _split(split)
    meta = require_file(base / "devkit" / "cars_meta.mat")
    annos = require_file(base / "devkit" / "cars_train_annos.mat" if split == "train"
                         else base / "cars_test_annos_withlabels.mat")
    images_dir = base / ("cars_train" if split == "train" else "cars_test")
    if not images_dir.is_dir():
        raise DataError(f"image folder {images_dir} not found")
    try:
        names = [str(n) for n in np.atleast_1d(loadmat(meta, squeeze_me=True)["class_names"]).tolist()]
        records = np.atleast_1d(loadmat(annos, squeeze_me=True)["annotations"])
    except (KeyError, ValueError, OSError) as exc:
        raise DataError(f"cannot read {meta} / {annos}: {exc}") from exc
    readable = [_year_first(n) if year_first else n for n in names]
    refs = []
    for rec in records:
        label = int(rec["class"]) - 1
        if not 0 <= label < len(names):
            raise DataError(f"{annos}: {rec['fname']} has class {label + 1}, cars_meta.mat has {len(names)}")
        refs.append(ImageRef(str(rec["fname"]), label, images_dir / str(rec["fname"])))
    return ClassificationDataset("cars", readable, refs, templates, **options)


def _find(base: Path, name: str) -> Path:
    """A SUN397 partition file: next to SUN397/ (CoOp), in Partitions/ or inside SUN397/."""
    tried = [base / name, base / "Partitions" / name, base / "SUN397" / name]
    for path in tried:
        if path.is_file():
            return path
    raise DataError(f"SUN397 partition file {name} not found (looked for {', '.join(str(p) for p in tried)})")


def sun397(root: str | Path | None = None, split: str = "test", partition: str = "official", fold: int = 1,
           templates=SUN_TEMPLATES, **options: Any):
    """SUN397 with the official Training_0k/Testing_0k partition, or the CoOp split.

    CoOp's test set is Testing_01 either way; its train/val come from
    ``split_zhou_SUN397.json`` when present, else from a seeded 80/20 per-class
    split of Training_01 (CoOp's recipe, not its exact random draw).
    """
    root_path = Path(root).expanduser() if root is not None else None
    base = root_path.parent if root_path is not None and root_path.name == "SUN397" else _base(root, ".", "SUN397")
    keys = read_lines(_find(base, "ClassName.txt"))
    index = {k: i for i, k in enumerate(keys)}
    readable = [" ".join(reversed(k.strip("/").split("/")[1:])).replace("_", " ") for k in keys]
    images_dir = base / "SUN397"
    if partition == "coop":
        split = _split(split, ("train", "val", "test"))
        json_path = base / "split_zhou_SUN397.json"
        if json_path.is_file():
            entries = json.loads(json_path.read_text())[split]
            refs = [ImageRef(rel, int(label), images_dir / rel) for rel, label, *_ in entries]
            return ClassificationDataset("sun397", readable, refs, templates, **options)
        fold, source = 1, "test" if split == "test" else "train"
    elif partition == "official":
        source = _split(split)
    else:
        raise ValueError(f"unknown SUN397 partition {partition!r}; choose official or coop")
    path = _find(base, f"{'Testing' if source == 'test' else 'Training'}_{int(fold):02d}.txt")
    refs = []
    for n, line in enumerate(read_lines(path), 1):
        key = line.rsplit("/", 1)[0]
        if key not in index:
            raise DataError(f"{path}, line {n}: class {key!r} is not in ClassName.txt")
        refs.append(ImageRef(line.lstrip("/"), index[key], images_dir / line.lstrip("/")))
    if partition == "coop" and split != "test":
        rng = np.random.default_rng(int(options.get("seed", 0)))
        keep = []
        for label in range(len(keys)):
            own = [r for r in refs if r.label == label]
            n_val = int(round(0.2 * len(own)))
            order = rng.permutation(len(own))
            chosen = order[:n_val] if split == "val" else order[n_val:]
            keep += [own[i] for i in sorted(chosen)]
        refs = keep
    return ClassificationDataset("sun397", readable, refs, templates, **options)


def synth_birds(root: str | Path | None = None, split: str = "test", per_class: int = 30, data_seed: int = 0,
                size: int = 64, templates=synth.TEMPLATES, **options: Any):
    """The embedded synthetic birds (27 classes), drawn on the fly; `root` is ignored."""
    refs = [ImageRef(f"{split}/{label:02d}_{i:04d}", label,
                     make=lambda label=label, i=i: synth.make_image(label, split, i, int(data_seed), int(size)))
            for label, i in synth.split_items(split, int(per_class), int(data_seed))]
    return ClassificationDataset("synth-cls", synth.class_names(), refs, templates, **options)
