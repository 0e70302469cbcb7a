"""Registration of the SAM2 task model (the `sam2` entry point of the `litcore` group)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litcore.hookspecs import hookimpl

PREDICTOR = "litcore_vos_sam2.predictor.LitSam2Predictor"


def resolve_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def sam2_model(config: str | None = "default", checkpoint: str | None = "default", hf_model_id: str | None = None,
               device: str = "auto", image_size: int | None = None, overrides: list[str] | None = None,
               loss_size: int | str | None = None, seed: int = 0, predictor_class: str = PREDICTOR,
               object_score_loss: float = 0.0, autocast: str | None = None, vos_optimized: bool = False,
               trust_config: bool = False, memory_cache: bool = True, **predictor_kwargs: Any):
    """Build the SAM2 task model.

    `config`: a yaml path or a sam2 config name (``configs/sam2.1/sam2.1_hiera_b+.yaml``);
    "default" = the embedded tiny config. `checkpoint`: Meta-format ``.pt``;
    "default" = the embedded checkpoint, None = random weights (seeded; tests).
    `object_score_loss` > 0 adds that weight x BCE on the object score to the LIT
    loss (not in the paper's code; docs/protocol.md, "object-score gate").
    `hf_model_id` (e.g. ``facebook/sam2.1-hiera-base-plus``) downloads only when online.
    Tracking speed (docs/performance.md): `autocast="bf16"` (or "fp16") runs tracking and
    corrections under torch.autocast (the adapter still trains in fp32); `vos_optimized`
    compiles the tracking modules as sam2's `SAM2VideoPredictorVOS` does (GPU; not the mask
    decoder, which adapters copy). `memory_cache` reuses a frame's memory attention across
    the clicks of its correction (exact; false recomputes it as stock SAM2 does).
    `loss_size`: "image", "native" or pixels (task.py).
    Safety: a config is a Hydra file whose `_target_` entries are instantiated,
    i.e. it can run arbitrary Python; yaml files outside this plugin's
    `configs/` and the sam2 package's configs are refused unless
    `trust_config=true`.
    """
    import torch

    from litcore_vos_sam2.build import build_predictor, default_checkpoint_path, default_config_path
    from litcore_vos_sam2.task import Sam2VOS

    if hf_model_id is not None and config == "default":
        config = None
    if config == "default":
        config = str(default_config_path())
    if checkpoint == "default":
        if hf_model_id is not None:
            checkpoint = None
        else:
            path = default_checkpoint_path()
            if not path.is_file():
                raise FileNotFoundError(
                    f"the embedded SAM2 checkpoint {path} is missing; pass checkpoint=<file.pt> "
                    "(or checkpoint=null for random weights)")
            checkpoint = str(path)
    if predictor_kwargs and config is not None:
        _check_model_keys(config, predictor_kwargs, predictor_class, trust_config)
    ovr = list(overrides or [])
    if image_size is not None:
        ovr.append(f"model.image_size={int(image_size)}")
    ovr += [f"model.{k}={v}" for k, v in predictor_kwargs.items()]
    if autocast not in AUTOCAST:
        raise ValueError(f"model option autocast={autocast!r}: choose from {', '.join(str(k) for k in AUTOCAST)}")
    if vos_optimized:
        ovr.append("model.compile_image_encoder=true")
    torch.manual_seed(seed)  # random-weight builds are reproducible
    predictor = build_predictor(config, checkpoint, device=resolve_device(device), predictor_class=predictor_class,
                                overrides=ovr, hf_model_id=hf_model_id, trust_config=bool(trust_config))
    predictor.lit_autocast = AUTOCAST[autocast] and getattr(torch, AUTOCAST[autocast])
    predictor.memory_cache = bool(memory_cache)
    if vos_optimized:
        compile_tracking(predictor)
    desc = {"config": str(config), "checkpoint": str(checkpoint) if checkpoint else None,
            "autocast": autocast, "vos_optimized": bool(vos_optimized),
            "hf_model_id": hf_model_id, "weights": "checkpoint" if checkpoint or hf_model_id else f"random(seed={seed})"}
    if checkpoint and Path(checkpoint).is_file():
        desc["checkpoint_bytes"] = Path(checkpoint).stat().st_size
    return Sam2VOS(predictor, loss_size=loss_size, description=desc, object_score_loss=object_score_loss)


AUTOCAST = {None: None, "bf16": "bfloat16", "fp16": "float16"}


def compile_tracking(predictor) -> None:
    """sam2's `SAM2VideoPredictorVOS` compilation, minus the mask decoder.

    Adapters deep-copy the mask decoder; a compiled `forward` stored on the
    instance would be copied as a reference to the *original* decoder's
    compiled method, so the copy would silently run the base weights.
    """
    import torch

    for name, dynamic in (("memory_encoder", False), ("memory_attention", True), ("sam_prompt_encoder", False)):
        module = getattr(predictor, name)
        module.forward = torch.compile(module.forward, mode="max-autotune", fullgraph=True, dynamic=dynamic)


def _check_model_keys(config: str, keys: dict[str, Any], predictor_class: str = PREDICTOR,
                      trust: bool = False) -> None:
    """Extra options are keys of the config's `model` section or of the predictor class (SAMURAI's, DAM4SAM's);
    a misspelt one is named here, not by Hydra."""
    import inspect

    from litcore.options import OptionError
    from litcore_vos_sam2.build import _locate, load_config

    section = set(load_config(config, trust=trust).get("model", {}))
    for cls in _locate(predictor_class).__mro__:  # the tracker's own constructor keys
        if "__init__" in vars(cls):
            section |= set(inspect.signature(vars(cls)["__init__"]).parameters) - {"self", "kwargs"}
    unknown = [k for k in keys if k not in section]
    if unknown:
        named = [p for p in inspect.signature(sam2_model).parameters if p != "predictor_kwargs"]
        raise OptionError(f"model 'sam2': unknown option {unknown[0]!r}; valid options: {', '.join(named)}, "
                          f"or a key of the `model` section of {config}")


@hookimpl
def litcore_register_models(register):
    register("sam2", sam2_model, task="vos", prediction="binary-mask",
             description="SAM2 video predictor (pip sam2); LIT-LoRA on q/k/v of the mask decoder's transformer")


@hookimpl
def litcore_register_demos(register):
    from litcore_vos_sam2.demo import run_vos_demo

    register("vos", run_vos_demo, task="vos",
             description="SAM2 alone, + LIT-LoRA (paper update), + LIT-auto on 6 generated hard videos, --groups N for more (embedded tiny SAM2)")
