"""Building CLIP models: random tiny configs, our compact checkpoints, open_clip names.

Three sources, one result (model, tokenizer, preprocessing):

- ``model_cfg`` dict (or the embedded tiny config) with random, seeded weights: tests;
- a local file: our self-describing ``.pt`` (config inside) or, with
  ``model_name``, any open_clip checkpoint of that architecture;
- ``model_name`` + ``pretrained`` tag: open_clip downloads it, online only.

Our checkpoints keep only the token-embedding rows of tokens seen in training
(the other 49k rows are random and never trained), which is what keeps the
embedded model under 10 MB; loading puts zeros in the other rows.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from litcore.errors import LitcoreError
from litcore.weights import load_weights
from litcore_cls_clip.attention import split_attention

FORMAT = "litcore-clip-v1"
CHECKPOINT_NAME = "clip_tiny_birds.pt"
TRAIN_COMMAND = ("python plugins/cls_clip/training/train_tiny_clip.py --out plugins/cls_clip/training/runs/tiny "
                 "--max-minutes 55 --export plugins/cls_clip/litcore_cls_clip/checkpoints/" + CHECKPOINT_NAME
                 + " --card docs/model-card-clip-tiny.md")

# the embedded model: a 4-block ViT on 64-px images (8-px patches) and a 3-block text tower
TINY_CONFIG: dict[str, Any] = {
    "embed_dim": 128,
    "vision_cfg": {"image_size": 64, "patch_size": 8, "width": 128, "layers": 4, "head_width": 32, "mlp_ratio": 4.0},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 128, "heads": 4, "layers": 3},
}
MICRO_CONFIG: dict[str, Any] = {  # the smallest useful CLIP, for tests and quick checks
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 32, "layers": 2, "head_width": 16, "mlp_ratio": 2.0},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
CONFIGS = {"tiny": TINY_CONFIG, "micro": MICRO_CONFIG}


class ModelLoadError(LitcoreError):
    """A checkpoint that is missing or unreadable, or weights that cannot be fetched."""


@dataclass
class LoadedClip:
    model: torch.nn.Module
    tokenizer: Callable[[list[str]], torch.Tensor]
    preprocess: Callable[[Any], torch.Tensor]
    description: dict[str, Any] = field(default_factory=dict)


def default_checkpoint_path() -> Path:
    return Path(__file__).resolve().parent / "checkpoints" / CHECKPOINT_NAME


def build_clip(model_cfg: dict[str, Any], seed: int = 0) -> torch.nn.Module:
    """A CLIP of the given config with random weights (seeded)."""
    import open_clip

    torch.manual_seed(seed)
    cfg = copy.deepcopy(model_cfg)
    return open_clip.CLIP(cfg.pop("embed_dim"), cfg.pop("vision_cfg"), cfg.pop("text_cfg"), **cfg)


def save_checkpoint(model: torch.nn.Module, path: str | Path, model_cfg: dict[str, Any],
                    token_ids: list[int] | torch.Tensor, meta: dict[str, Any] | None = None) -> Path:
    """Write our compact format: the config, the weights, only the used token-embedding rows."""
    ids = torch.as_tensor(sorted(set(int(i) for i in torch.as_tensor(token_ids).flatten().tolist())), dtype=torch.long)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items() if k != "token_embedding.weight"}
    rows = model.token_embedding.weight.detach().cpu()[ids].clone()
    blob = {"format": FORMAT, "model_cfg": model_cfg, "state_dict": state, "token_ids": ids,
            "token_rows": rows, "meta": dict(meta or {})}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(blob, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(path: str | Path) -> tuple[torch.nn.Module, dict[str, Any], dict[str, Any]]:
    """(model, config, meta) from one of our checkpoints."""
    path = Path(path)
    blob = load_weights(path, "CLIP checkpoint", error=ModelLoadError)
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ModelLoadError(f"CLIP checkpoint {path} is not a {FORMAT} checkpoint; for an open_clip checkpoint "
                             "also pass --model-opt model_name=<open_clip architecture, e.g. ViT-B-16>")
    try:
        model = build_clip(blob["model_cfg"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"CLIP checkpoint {path}: its model_cfg does not describe a CLIP ({type(exc).__name__}: {exc})") from exc
    own = model.state_dict()
    state = blob.get("state_dict") if isinstance(blob.get("state_dict"), dict) else {}
    missing = sorted(set(own) - set(state) - {"token_embedding.weight"})
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected or not state:
        raise ModelLoadError(f"CLIP checkpoint {path}: weights do not fit its config "
                             f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    rows, ids = blob.get("token_rows"), blob.get("token_ids")
    if not isinstance(rows, torch.Tensor) or not isinstance(ids, torch.Tensor):
        raise ModelLoadError(f"CLIP checkpoint {path}: token_ids/token_rows are missing, so its token embedding cannot be rebuilt")
    for key, value in [*state.items(), ("token_rows", rows)]:
        want = own[key].shape if key != "token_rows" else (len(ids), own["token_embedding.weight"].shape[1])
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != tuple(want):
            got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise ModelLoadError(f"CLIP checkpoint {path}: {key} has shape {got}, its config expects {tuple(want)}")
    with torch.no_grad():
        emb = torch.zeros_like(model.token_embedding.weight)
        emb[ids] = rows
        model.token_embedding.weight.copy_(emb)
    model.load_state_dict(state, strict=False)
    return model, blob["model_cfg"], blob.get("meta", {})


def preprocess_for(model: torch.nn.Module) -> Callable[[Any], torch.Tensor]:
    """open_clip's eval transform for the model's input size and normalisation."""
    import open_clip

    cfg = open_clip.get_model_preprocess_cfg(model)
    size = cfg.get("size", model.visual.image_size)
    return open_clip.image_transform(size, is_train=False, mean=cfg.get("mean"), std=cfg.get("std"),
                                     interpolation=cfg.get("interpolation"), resize_mode=cfg.get("resize_mode"))


def load_model(*, model_name: str | None = None, pretrained: str | None = None, checkpoint: str | None = "default",
               model_cfg: dict[str, Any] | None = None, seed: int = 0, device: str = "cpu") -> LoadedClip:
    """Resolve the options of ``lit run --model clip`` into a ready model (eval mode, split attention)."""
    import open_clip

    desc: dict[str, Any] = {"model_name": model_name, "pretrained": pretrained}
    if model_name is not None:
        source = pretrained  # a tag ("openai", "laion2b_s34b_b88k") or a file; open_clip takes both
        if source is None and checkpoint not in (None, "default"):
            if not Path(checkpoint).is_file():
                raise ModelLoadError(f"open_clip checkpoint {checkpoint} not found")
            source = checkpoint
        try:
            model = open_clip.create_model(model_name, pretrained=source)
        except Exception as exc:  # noqa: BLE001 - open_clip raises RuntimeError for any fetch failure
            raise ModelLoadError(
                f"cannot build open_clip model {model_name!r} with pretrained={source!r}: {exc}. Pretrained tags are "
                "downloaded only when online; offline, pass --model-opt checkpoint=<local file> with model_name") from exc
        tokenizer = open_clip.get_tokenizer(model_name)
        desc["weights"] = str(source) if source else f"random(seed={seed})"
    else:
        if checkpoint == "default":
            checkpoint = str(default_checkpoint_path())
            if not Path(checkpoint).is_file():
                raise ModelLoadError(f"the embedded CLIP checkpoint {checkpoint} is missing; train it with\n  "
                                     f"{TRAIN_COMMAND}\nor pass checkpoint=<file> (checkpoint=null: random weights)")
        if checkpoint is not None:
            model, model_cfg, meta = load_checkpoint(checkpoint)
            desc.update(checkpoint=str(checkpoint), checkpoint_bytes=Path(checkpoint).stat().st_size,
                        weights="checkpoint", trained=meta)
        else:
            model_cfg = model_cfg or TINY_CONFIG
            model = build_clip(model_cfg, seed)
            desc["weights"] = f"random(seed={seed})"
        tokenizer = open_clip.SimpleTokenizer(context_length=model_cfg["text_cfg"].get("context_length", 77))
        desc["model_cfg"] = model_cfg
    desc["split_attention_layers"] = split_attention(model.visual)
    model = model.to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedClip(model, tokenizer, preprocess_for(model), desc)
