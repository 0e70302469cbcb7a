"""Build SAM 2 predictors from a yaml file or a sam2 config name, and load/save Meta checkpoints.

`sam2.build_sam` always turns SAM 2's post-processing on and reports bad
checkpoints with a bare RuntimeError; the LIT protocol needs raw model outputs
and our users need to know *which* file and *which* keys are wrong, so the
plugin builds models through here instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
from pathlib import Path
from typing import Iterable

import torch
import yaml
from omegaconf import OmegaConf

from litcore.errors import LitcoreError
from litcore.weights import CheckpointError as WeightsError
from litcore.weights import load_weights

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


class CheckpointError(WeightsError, RuntimeError):
    """A checkpoint that is unreadable or unsafe, does not fit the model, or is not a Meta checkpoint."""


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


class ConfigError(LitcoreError, ValueError):
    """A model config that is missing, unreadable, or refused because it is not trusted."""


def trusted_config_dirs() -> list[Path]:
    """Folders whose yaml files may be instantiated without `trust_config`: ours and the sam2 package's."""
    dirs = [_PACKAGE_DIR / "configs"]
    spec = importlib.util.find_spec("sam2")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        dirs.append(Path(location) / "configs")
    return [d.resolve() for d in dirs]


def _check_trusted(path: Path, trust: bool) -> None:
    """Hydra instantiates any `_target_` it finds, i.e. runs arbitrary Python: only known folders by default."""
    if trust or any(path.resolve().is_relative_to(d) for d in trusted_config_dirs()):
        return
    raise ConfigError(
        f"SAM 2 config {path} is outside the trusted config folders (litcore_vos_sam2/configs/, sam2/configs/); "
        "a Hydra config can instantiate any Python object (_target_), so it is refused: pass "
        "--model-opt trust_config=true if you trust the file")


def _check_overrides(overrides: Iterable[str], trust: bool) -> None:
    for o in overrides:
        if "_target_" in o.split("=", 1)[0] and not trust:
            raise ConfigError(f"override {o!r} sets a Hydra _target_ (the Python object to instantiate); "
                              "refused without --model-opt trust_config=true")


def _read_config(config: str | Path, trust: bool = False):
    """Unresolved config: a yaml path (OmegaConf) or a sam2 config name (Hydra compose)."""
    path = Path(config)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        _check_trusted(path, trust)
        try:
            return OmegaConf.load(path)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1}: {getattr(exc, 'problem', '')})" if mark else ""
            raise ConfigError(f"SAM 2 config {path} is not valid YAML{where}") from exc
    if str(config).startswith("configs/"):
        import sam2  # noqa: F401  (initialises sam2's Hydra config module)
        from hydra import compose
        from hydra.errors import MissingConfigException

        try:
            cfg = compose(config_name=str(config))
        except MissingConfigException as exc:
            raise ConfigError(f"SAM 2 config name {config} is not in the sam2 package "
                              "(e.g. configs/sam2.1/sam2.1_hiera_b+.yaml)") from exc
        OmegaConf.set_struct(cfg, False)  # Hydra locks keys; the builder adds predictor flags
        return cfg
    raise FileNotFoundError(f"SAM 2 config not found: {config} (neither a yaml file nor a sam2 'configs/...' name)")


def _apply(cfg, overrides: Iterable[str]):
    """Dotlist overrides (`model.image_size=64`; Hydra's leading `+`/`++` are accepted and ignored)."""
    overrides = [o.lstrip("+") for o in overrides]
    return OmegaConf.merge(cfg, OmegaConf.from_dotlist(overrides)) if overrides else cfg


def load_config(config: str | Path, overrides: Iterable[str] = (), trust: bool = False):
    """Resolved model config from a yaml path or a sam2 config name, with dotlist overrides."""
    cfg = _apply(_read_config(config, trust), overrides)
    OmegaConf.resolve(cfg)
    return cfg


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointNotFoundError(f"SAM 2 checkpoint {path} not found")
    payload = load_weights(path, "SAM 2 checkpoint", error=CheckpointError)
    if not isinstance(payload, dict) or not isinstance(payload.get("model"), dict):
        raise CheckpointError(f"SAM 2 checkpoint {path} is not a Meta SAM 2 checkpoint "
                              "(expected a dict with a 'model' state dict)")
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
        raise CheckpointError(f"SAM 2 checkpoint {path} does not match the model config; " + "; ".join(parts)
                              + " (saved for another model size? pass its --model-opt config=...)")
    cast = {}
    for key, value in state.items():
        target = own[key]
        if value.shape != target.shape:
            raise CheckpointError(f"SAM 2 checkpoint {path}: {key} has shape {tuple(value.shape)}, "
                                  f"the model expects {tuple(target.shape)}")
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
    except Exception as exc:  # offline, no such file, network: the hub's messages are pages long
        raise CheckpointError(
            f"could not download {filename} for {model_id!r} from the Hugging Face hub ({type(exc).__name__}); "
            f"offline, download it elsewhere and pass --model-opt checkpoint=<local {filename}> "
            f"(with --model-opt hf_model_id={model_id} for its config)"
        ) from exc


def build_predictor(
    config: str | Path | None,
    checkpoint: str | Path | None = None,
    *,
    device: str | torch.device = "cpu",
    predictor_class: str = DEFAULT_PREDICTOR,
    overrides: Iterable[str] = (),
    hf_model_id: str | None = None,
    trust_config: bool = False,
) -> torch.nn.Module:
    """Instantiate `predictor_class` from `config`, load `checkpoint` strictly, return it in eval mode.

    With `hf_model_id`, the config defaults to the hub model's and, when no local
    `checkpoint` is given, the weights are downloaded (the only network access).
    A yaml file outside `trusted_config_dirs()`, or an override naming a
    `_target_`, is refused unless `trust_config`: Hydra would instantiate
    whatever Python object the file names.
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

    overrides = list(overrides)
    _check_overrides(overrides, trust_config)
    cfg = _read_config(config, trust_config)
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
