"""Builders of the bad inputs listed in docs/bad-input.md: each writes its files and returns the `lit` argv.

Every case starts from a small valid DAVIS tree (one 3-frame 32x32 video `v`
with objects 1 and 2) or from the embedded checkpoints, and breaks exactly one
thing, so the message must name that thing.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from litcore.vos.masks import write_label_png

H = W = 32
STEMS = ("00000", "00001", "00002")


def labels(t: int) -> np.ndarray:
    lab = np.zeros((H, W), np.uint8)
    lab[4:14, 3 + t:13 + t] = 1
    lab[18:28, 16:28] = 2
    return lab


def davis_tree(root: Path, masks: Callable[[int], np.ndarray] = labels) -> Path:
    """`root/data` with JPEGImages/v/0000{0,1,2}.jpg and palette masks from `masks(t)`."""
    data = root / "data"
    for t, stem in enumerate(STEMS):
        img = np.full((H, W, 3), 40, np.uint8)
        img[labels(t) == 1] = (200, 40, 40)
        img[labels(t) == 2] = (40, 200, 40)
        (data / "JPEGImages" / "v").mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(data / "JPEGImages" / "v" / f"{stem}.jpg", quality=95)
        write_label_png(data / "Annotations" / "v" / f"{stem}.png", masks(t))
    return data


def run(root: Path, *extra: str, model: str = "sam2", dataset: str = "davis") -> list[str]:
    args = ["run", "--model", model, "--dataset", dataset, "--out", str(root / "out"), "--quiet", *extra]
    if dataset == "davis" and "--root" not in extra:
        args += ["--root", str(root / "data")]
    return args


def frame(root: Path, stem: str) -> Path:
    return root / "data" / "JPEGImages" / "v" / f"{stem}.jpg"


def mask(root: Path, stem: str) -> Path:
    return root / "data" / "Annotations" / "v" / f"{stem}.png"


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def embedded_sam2() -> Path:
    from litcore_vos_sam2.build import default_checkpoint_path

    return default_checkpoint_path()


def embedded_clip() -> Path:
    from litcore_cls_clip.build import default_checkpoint_path

    return default_checkpoint_path()


class RunsCode:
    """What a malicious checkpoint holds: unpickling it would call os.system."""

    def __reduce__(self):
        return (os.system, ("echo this should never run",))


def _sam2_ckpt(root: Path, payload) -> list[str]:
    import torch

    path = root / "ckpt.pt"
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    else:
        torch.save(payload, path)
    davis_tree(root)
    return run(root, "--model-opt", f"checkpoint={path}")


def _sam2_state(edit: Callable[[dict], None]) -> dict:
    import torch

    blob = torch.load(embedded_sam2(), map_location="cpu", weights_only=True)
    edit(blob["model"])
    return blob


def _clip_ckpt(root: Path, payload) -> list[str]:
    import torch

    path = root / "clip.pt"
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    else:
        torch.save(payload, path)
    return run(root, "--model-opt", f"checkpoint={path}", model="clip", dataset="synth-cls")


def _clip_state(edit: Callable[[dict], None]) -> dict:
    import torch

    blob = torch.load(embedded_clip(), map_location="cpu", weights_only=True)
    edit(blob["state_dict"])
    return blob


def _drop_and_add(state: dict) -> None:
    state.pop("no_mem_embed")
    state["extra.weight"] = state["no_obj_ptr"].clone()


def _reshape(state: dict, key: str) -> None:
    import torch

    state[key] = torch.zeros(*(s + 1 for s in state[key].shape))


CASES: dict[str, Callable[[Path], list[str]]] = {}


def case(fn: Callable[[Path], list[str]]) -> Callable[[Path], list[str]]:
    """Register a builder under its table id (the function name with dashes)."""
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


# ---- the cases, by id (the ids of the table in docs/bad-input.md) ----------------------------

@case
def frame_empty(root):
    davis_tree(root)
    frame(root, "00000").write_bytes(b"")
    return run(root)


@case
def frame_not_an_image(root):
    davis_tree(root)
    frame(root, "00002").write_bytes(b"this is not a JPEG at all" * 10)
    return run(root)


@case
def frame_truncated(root):
    davis_tree(root)
    truncate(frame(root, "00001"))
    return run(root)


@case
def frame_size(root):
    davis_tree(root)
    Image.new("RGB", (W, H + 8)).save(frame(root, "00001"))
    write_label_png(mask(root, "00001"), np.pad(labels(1), ((0, 8), (0, 0))))  # the mask fits its own frame
    return run(root)


@case
def frame_name_not_numeric(root):
    davis_tree(root)
    frame(root, "00002").rename(frame(root, "00002").with_name("last.jpg"))
    return run(root)


@case
def frame_missing(root):
    davis_tree(root)
    frame(root, "00001").unlink()
    return run(root)


@case
def mask_empty(root):
    davis_tree(root)
    mask(root, "00000").write_bytes(b"")
    return run(root)


@case
def mask_not_an_image(root):
    davis_tree(root)
    mask(root, "00001").write_bytes(b"GIF? no." * 20)
    return run(root)


@case
def mask_truncated(root):
    davis_tree(root)
    truncate(mask(root, "00001"))
    return run(root)


@case
def mask_rgb(root):
    davis_tree(root)
    Image.fromarray(np.stack([labels(1) * 100] * 3, -1)).save(mask(root, "00001"))
    return run(root)


@case
def mask_size(root):
    davis_tree(root)
    write_label_png(mask(root, "00001"), np.zeros((H // 2, W), np.uint8))
    return run(root)


@case
def masks_all_background(root):
    davis_tree(root, lambda t: np.zeros((H, W), np.uint8))
    return run(root)


@case
def masks_all_void(root):
    davis_tree(root, lambda t: np.full((H, W), 255, np.uint8))
    return run(root)


@case
def masks_grey_0_255(root):
    davis_tree(root)
    for t, stem in enumerate(STEMS):  # binary masks saved as greyscale 0/255 PNGs
        Image.fromarray(((labels(t) == 1) * 255).astype(np.uint8), mode="L").save(mask(root, stem))
    return run(root)


@case
def annotations_empty(root):
    davis_tree(root)
    for stem in STEMS:
        mask(root, stem).unlink()
    return run(root)


@case
def per_object_all_empty(root):
    davis_tree(root)
    for stem in STEMS:
        mask(root, stem).unlink()
        write_label_png(root / "data" / "Annotations" / "v" / "001" / f"{stem}.png", np.zeros((H, W), np.uint8))
    return run(root)


@case
def objects_unknown(root):
    davis_tree(root)
    return run(root, "--objects", "42")


@case
def objects_pair_unknown(root):
    davis_tree(root)
    return run(root, "--objects", "v/7")


@case
def groups_unknown(root):
    davis_tree(root)
    return run(root, "--groups", "w")


@case
def root_missing(root):
    return run(root, "--root", str(root / "nowhere"))


@case
def root_option_missing(root):
    return ["run", "--model", "sam2", "--dataset", "davis", "--out", str(root / "out")]


@case
def out_is_a_file(root):
    davis_tree(root)
    (root / "results.txt").write_text("not a folder")
    args = run(root)
    args[args.index("--out") + 1] = str(root / "results.txt")
    return args


@case
def max_corrections_negative(root):
    davis_tree(root)
    return run(root, "--max-corrections", "-1")


@case
def toml_malformed(root):
    (root / "bench.toml").write_text('out = "x"\nmethods = [baseline\n')
    return ["bench", "--config", str(root / "bench.toml")]


@case
def ckpt_missing(root):
    davis_tree(root)
    return run(root, "--model-opt", f"checkpoint={root / 'nope.pt'}")


@case
def ckpt_empty(root):
    return _sam2_ckpt(root, b"")


@case
def ckpt_garbage(root):
    return _sam2_ckpt(root, b"definitely not a checkpoint\n" * 40)


@case
def ckpt_truncated(root):
    data = embedded_sam2().read_bytes()
    return _sam2_ckpt(root, data[: len(data) // 2])


@case
def ckpt_malicious(root):
    return _sam2_ckpt(root, {"model": RunsCode()})


@case
def ckpt_raw_pickle(root):
    return _sam2_ckpt(root, pickle.dumps({"model": RunsCode()}))


@case
def ckpt_other_architecture(root):
    return _sam2_ckpt(root, embedded_clip().read_bytes())


@case
def ckpt_other_config(root):
    return _sam2_ckpt(root, _sam2_state(_drop_and_add))


@case
def ckpt_wrong_shapes(root):
    return _sam2_ckpt(root, _sam2_state(lambda s: _reshape(s, "no_obj_ptr")))


@case
def hf_offline(root):
    davis_tree(root)
    return run(root, "--model-opt", "hf_model_id=facebook/sam2.1-hiera-tiny")


@case
def config_untrusted(root):
    from litcore_vos_sam2.build import default_config_path

    path = root / "mine.yaml"
    path.write_text(default_config_path().read_text())
    davis_tree(root)
    return run(root, "--model-opt", f"config={path}", "--model-opt", "checkpoint=null")


@case
def config_target_override(root):
    davis_tree(root)
    return run(root, "--model-opt", "checkpoint=null", "--model-opt", "overrides=[\"model._target_=os.system\"]")


@case
def config_bad_yaml(root):
    path = root / "broken.yaml"
    path.write_text("model:\n  image_size: [64\n")
    davis_tree(root)
    return run(root, "--model-opt", f"config={path}", "--model-opt", "trust_config=true")


@case
def clip_ckpt_garbage(root):
    return _clip_ckpt(root, b"\x00\x01garbage" * 50)


@case
def clip_ckpt_malicious(root):
    return _clip_ckpt(root, {"format": "litcore-clip-v1", "model_cfg": RunsCode()})


@case
def clip_ckpt_other_architecture(root):
    return _clip_ckpt(root, embedded_sam2().read_bytes())


@case
def clip_ckpt_wrong_shapes(root):
    return _clip_ckpt(root, _clip_state(lambda s: _reshape(s, "positional_embedding")))


@case
def policy_search_steps_negative(root):
    davis_tree(root)
    return run(root, "--method", "lit-auto", "--policy-opt", "search_steps=-1")


@case
def policy_pick_unknown(root):
    davis_tree(root)
    return run(root, "--method", "lit-auto", "--policy-opt", "pick=worst")
