"""Registration of the `samurai` model (the `samurai` entry point of the `litcore` group)."""

from __future__ import annotations

from typing import Any

from litcore.hookspecs import hookimpl

PREDICTOR = "litcore_vos_samurai.predictor.SamuraiPredictor"


def default_kf_score_weight(config: str | None, hf_model_id: str | None = None) -> float:
    """SAMURAI's alpha: 0.15 for the large model (its ablation), 0.25 for t/s/b+ (its configs)."""
    name = f"{config or ''} {hf_model_id or ''}".lower()
    return 0.15 if ("hiera_l" in name or "hiera-large" in name or "hiera_large" in name) else 0.25


def samurai_model(config: str | None = "default", hf_model_id: str | None = None,
                  kf_score_weight: float | None = None, **options: Any):
    """SAM2 task model whose predictor is SAMURAI; SAMURAI keys pass through `options`.

    Keys (SAMURAI's names and defaults): kf_score_weight (None = by model size),
    stable_frames_threshold 15, stable_ious_threshold 0.3, min_obj_score_logits -1,
    memory_bank_iou_threshold 0.5, memory_bank_obj_score_threshold 0,
    memory_bank_kf_score_threshold 0, exclude_frames_0_1 False (the original's
    off-by-one, kept only as an opt-in).
    """
    from litcore_vos_sam2.plugin import sam2_model

    if kf_score_weight is None:
        kf_score_weight = default_kf_score_weight(config, hf_model_id)
    model = sam2_model(config=config, hf_model_id=hf_model_id, predictor_class=PREDICTOR,
                       kf_score_weight=float(kf_score_weight), **options)
    model.name = "samurai"
    return model


@hookimpl
def litcore_register_models(register):
    register("samurai", samurai_model, task="vos", prediction="binary-mask",
             description="SAMURAI over pip sam2 (Kalman mask choice, motion-aware memory); LIT-LoRA on the mask decoder")
