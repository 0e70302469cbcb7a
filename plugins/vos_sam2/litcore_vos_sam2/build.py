"""Build SAM 2 predictors from a yaml file or a sam2 config name, and load/save Meta checkpoints.

`sam2.build_sam` always turns SAM 2's post-processing on and reports bad
checkpoints with a bare RuntimeError; the LIT protocol needs raw model outputs
and our users need to know *which* file and *which* keys are wrong, so the
plugin builds models through here instead.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from pathlib import Path
from typing import Iterable

import torch
from omegaconf import OmegaConf

logger = logging.getLogger(__name__)

DEFAULT_PREDICTOR = "sam2.sam2_video_predictor.SAM2VideoPredictor"
_PACKAGE_DIR = Path(__file__).resolve().parent

# Same table as sam2.build_sam.HF_MODEL_ID_TO_FILENAMES (kept here so an unknown id fails early).
HF_MODEL_ID_TO_FILENAMES = {
    "facebook/sam2-hiera-tiny": ("configs/sam2/sam2_hiera_t.yaml", "sam2_hiera_tiny.pt"),
    "facebook/sam2-hiera-small": ("configs/sam2/sam2_hiera_s.yaml", "sam2_hiera_small.pt"),
    "facebook/sam2-hiera-base-plus": ("configs/sam2/sam2_hiera_b+.yaml", "sam2_hiera_base_plus.pt"),
    "facebook/sam2-hiera-large": ("configs/sam2/sam2_hiera_l.yaml", "sam2_hiera_large.pt"),
    "facebook/sam2.1-hiera-tiny": ("configs/sam2.1/sam2.1_hiera_t.yaml", "sam2.1_hiera_tiny.pt"),
    "facebook/sam2.1-hiera-small": ("configs/sam2.1/sam2.1_hiera_s.yaml", "sam2.1_hiera_small.pt"),
    "facebook/sam2.1-hiera-base-plus": ("configs/sam2.1/sam2.1_hiera_b+.yaml", "sam2.1_hiera_base_plus.pt"),
    "facebook/sam2.1-hiera-large": ("configs/sam2.1/sam2.1_hiera_l.yaml", "sam2.1_hiera_large.pt"),
}

# SAM 2's optional post-processing, forced off: LIT measures the raw model.
_NO_POSTPROCESSING = {
    "sam_mask_decoder_extra_args": {"dynamic_multimask_via_stability": False},
    "binarize_mask_from_pts_for_mem_enc": False,
}

# Lets the tiny yaml derive RoPE grid sizes from model.image_size.
OmegaConf.register_new_resolver("litcore_div", lambda a, b: int(a) // int(b), replace=True)


class CheckpointError(RuntimeError):
    """A checkpoint that exists but does not fit the model (or is not a Meta checkpoint)."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint path does not exist (also a FileNotFoundError for generic handlers)."""


def default_config_path() -> Path:
    """The CPU-sized config shipped with the plugin."""
    return _PACKAGE_DIR / "configs" / "sam2_tiny.yaml"


def default_checkpoint_path() -> Path:
    """Weights for `default_config_path()`, trained on the synthetic `train` split."""
    return _PACKAGE_DIR / "checkpoints" / "sam2_tiny_synth.pt"


def _accepts_kwarg(cls: type, name: str) -> bool:
    """Whether any __init__ along the MRO names `name` (subclasses often forward **kwargs)."""
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None and name in inspect.signature(init).parameters:
            return True
    return False


def _locate(dotted: str) -> type:
    module, _, name = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"predictor class {dotted!r} cannot be imported: {exc}") from exc


def _read_config(config: str | Path):
    """Unresolved config: a yaml path (OmegaConf) or a sam2 config name (Hydra compose)."""
    path = Path(config)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return OmegaConf.load(path)
    if str(config).startswith("configs/"):
        import sam2  # noqa: F401  (initialises sam2's Hydra config module)
        from hydra import compose

        cfg = compose(config_name=str(config))
        OmegaConf.set_struct(cfg, False)  # Hydra locks keys; the builder adds predictor flags
        return cfg
    raise FileNotFoundError(f"SAM 2 config not found: {config} (neither a yaml file nor a sam2 'configs/...' name)")


def _apply(cfg, overrides: Iterable[str]):
    """Dotlist overrides (`model.image_size=64`; Hydra's leading `+`/`++` are accepted and ignored)."""
    overrides = [o.lstrip("+") for o in overrides]
    return OmegaConf.merge(cfg, OmegaConf.from_dotlist(overrides)) if overrides else cfg


def load_config(config: str | Path, overrides: Iterable[str] = ()):
    """Resolved model config from a yaml path or a sam2 config name, with dotlist overrides."""
    cfg = _apply(_read_config(config), overrides)
    OmegaConf.resolve(cfg)
    return cfg


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointNotFoundError(f"SAM 2 checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and torch errors all mean "not a checkpoint"
        raise CheckpointError(f"{path}: cannot be read as a torch checkpoint ({exc})") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("model"), dict):
        raise CheckpointError(f"{path}: not a Meta SAM 2 checkpoint (expected a dict with a 'model' state dict)")
    return payload["model"]


def _few(keys: list[str], n: int = 5) -> str:
    shown = ", ".join(keys[:n])
    return shown + (f", ... ({len(keys)} in all)" if len(keys) > n else "")


def load_checkpoint(model: torch.nn.Module, path: str | Path) -> None:
    """Strictly load Meta's `{"model": state_dict}`, casting fp16 tensors back to the model's dtype."""
    path = Path(path)
    state = _read_state_dict(path)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys: {_few(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {_few(unexpected)}")
        raise CheckpointError(f"{path} does not match the model config; " + "; ".join(parts))
    cast = {}
    for key, value in state.items():
        target = own[key]
        if value.shape != target.shape:
            raise CheckpointError(f"{path}: {key} has shape {tuple(value.shape)}, model expects {tuple(target.shape)}")
        cast[key] = value.to(target.dtype) if value.is_floating_point() else value
    model.load_state_dict(cast, strict=True)


def save_checkpoint(model: torch.nn.Module, path: str | Path, *, half: bool = False, extra: dict | None = None) -> Path:
    """Write `{"model": state_dict, **extra}` (Meta's layout); `half` stores floats as fp16."""
    path = Path(path)
    state = {}
    for key, value in model.state_dict().items():
        value = value.detach().cpu()
        if half and value.is_floating_point():
            value = value.half()
        state[key] = value.clone()
    payload = {"model": state, **(extra or {})}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # never leave a half-written checkpoint under the real name
    return path


def _hf_download(model_id: str) -> tuple[str, str]:
    if model_id not in HF_MODEL_ID_TO_FILENAMES:
        raise ValueError(f"unknown SAM 2 model id {model_id!r}; known: {', '.join(HF_MODEL_ID_TO_FILENAMES)}")
    config_name, filename = HF_MODEL_ID_TO_FILENAMES[model_id]
    try:
        from huggingface_hub import hf_hub_download

        return config_name, hf_hub_download(repo_id=model_id, filename=filename)
    except Exception as exc:
        raise CheckpointError(
            f"could not download {filename} for {model_id!r} from the Hugging Face hub ({exc}); "
            f"download it elsewhere and pass --checkpoint with the local file"
        ) from exc


def build_predictor(
    config: str | Path | None,
    checkpoint: str | Path | None = None,
    *,
    device: str | torch.device = "cpu",
    predictor_class: str = DEFAULT_PREDICTOR,
    overrides: Iterable[str] = (),
    hf_model_id: str | None = None,
) -> torch.nn.Module:
    """Instantiate `predictor_class` from `config`, load `checkpoint` strictly, return it in eval mode.

    With `hf_model_id`, the config defaults to the hub model's and, when no local
    `checkpoint` is given, the weights are downloaded (the only network access).
    """
    if hf_model_id is not None:
        if hf_model_id not in HF_MODEL_ID_TO_FILENAMES:
            raise ValueError(f"unknown SAM 2 model id {hf_model_id!r}; known: {', '.join(HF_MODEL_ID_TO_FILENAMES)}")
        if config is None:
            config = HF_MODEL_ID_TO_FILENAMES[hf_model_id][0]
        if checkpoint is None:
            _, checkpoint = _hf_download(hf_model_id)
    if config is None:
        raise ValueError("build_predictor needs a config (yaml path or sam2 config name) or an hf_model_id")

    cfg = _read_config(config)
    cls = _locate(predictor_class)
    # post-processing off by default; explicit `overrides` still win (they are applied last)
    defaults = {"_target_": predictor_class, **_NO_POSTPROCESSING}
    if _accepts_kwarg(cls, "fill_hole_area"):
        defaults["fill_hole_area"] = 0
    cfg.model = OmegaConf.merge(cfg.model, defaults)
    cfg = _apply(cfg, overrides)
    OmegaConf.resolve(cfg)

    from hydra.utils import instantiate

    model = instantiate(cfg.model, _recursive_=True)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint)
    else:
        logger.warning("SAM 2 built from %s with random weights (no checkpoint given)", config)
    return model.to(device).eval()
