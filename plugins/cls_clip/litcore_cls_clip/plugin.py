"""Registration of the CLIP task (the `clip` entry point of the `litcore` group)."""

from __future__ import annotations

from typing import Any

from litcore.hookspecs import hookimpl
from litcore.options import declare_options

def resolve_device(device: str = "auto") -> str:
    import torch

    return ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device


def clip_model(model_name: str | None = None, pretrained: str | None = None, checkpoint: str | None = "default",
               model_cfg: dict | str | None = None, seed: int = 0, device: str = "auto", **task_options: Any):
    """Build the CLIP task model.

    `checkpoint`: "default" = the embedded tiny model, a file (ours, or an
    open_clip one with `model_name`), or null = random weights of `model_cfg`
    ("tiny", "micro" or a dict). `model_name` + `pretrained` (e.g. ViT-B-16 +
    openai) downloads through open_clip, online only. `task_options`:
    templates, lora_blocks, lora_layers, score, batch_size.
    """
    from litcore_cls_clip.build import CONFIGS, load_model
    from litcore_cls_clip.task import ClipClassifier

    if isinstance(model_cfg, str):
        if model_cfg not in CONFIGS:
            raise ValueError(f"unknown model_cfg {model_cfg!r}; choose from {', '.join(CONFIGS)} or pass a dict")
        model_cfg = CONFIGS[model_cfg]
    loaded = load_model(model_name=model_name, pretrained=pretrained, checkpoint=checkpoint, model_cfg=model_cfg,
                        seed=int(seed), device=resolve_device(device))
    return ClipClassifier(loaded, **task_options)


def _oracle(**options: Any):
    from litcore_cls_clip.oracle import ClassLabelOracle

    return ClassLabelOracle(**options)


def _model_options():
    from litcore.options import merged_params
    from litcore_cls_clip.task import ClipClassifier

    return merged_params(clip_model, ClipClassifier, skip=("loaded",))


def _oracle_options():
    from litcore.options import merged_params
    from litcore_cls_clip.oracle import ClassLabelOracle

    return merged_params(ClassLabelOracle)


def _dataset(name: str):
    def factory(root=None, **options: Any):
        from litcore_cls_clip import datasets

        return getattr(datasets, name)(root, **options)

    def options():
        from litcore.options import merged_params
        from litcore_cls_clip import datasets
        from litcore_cls_clip.data import ClassificationDataset

        return {**merged_params(ClassificationDataset, skip=("name", "classes", "images", "templates")),
                **merged_params(getattr(datasets, name))}

    return declare_options(factory, lazy=options)


declare_options(clip_model, lazy=_model_options)
declare_options(_oracle, lazy=_oracle_options)


@hookimpl
def litcore_register_models(register):
    register("clip", clip_model, task="classification", prediction="label",
             description="open_clip zero-shot classifier; LIT-LoRA on the last 2 ViT blocks (q/k/v/out, MLP)")


@hookimpl
def litcore_register_datasets(register):
    register("cub", _dataset("cub"), task="classification", description="CUB-200-2011 (official split; class streams)")
    register("cars", _dataset("cars"), task="classification", description="Stanford Cars, torchvision layout")
    register("sun397", _dataset("sun397"), task="classification",
             description="SUN397, official Training/Testing_01 partition or CoOp split (partition=coop)")
    register("synth-cls", _dataset("synth_birds"), task="classification",
             description="embedded synthetic fine-grained birds (27 classes), generated on the fly")


@hookimpl
def litcore_register_oracles(register):
    register("cls-label", _oracle, task="classification", prediction="label",
             description="accepts the correct top-1 label; otherwise the user gives the true label (1 correction)")


@hookimpl
def litcore_register_demos(register):
    from litcore_cls_clip.demo import run_classification_demo

    register("classification", run_classification_demo, task="classification",
             description="tiny CLIP vs tiny CLIP + LIT-LoRA on synthetic bird class streams (embedded model)")
