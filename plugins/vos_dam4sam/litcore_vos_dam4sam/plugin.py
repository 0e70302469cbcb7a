"""Registration of the `dam4sam` model (the `dam4sam` entry point of the `litcore` group)."""

from __future__ import annotations

from typing import Any

from litcore.hookspecs import hookimpl

PREDICTOR = "litcore_vos_dam4sam.predictor.Dam4SamPredictor"

# DAM4SAM's predictor settings (its sam21pp configs): corrected frames become anchors,
# and a 2-3 point prompt (a box) gives a best-of-3 mask.
DAM_DEFAULTS = {"add_all_frames_to_correct_as_cond": True, "multimask_max_pt_num": 3}


def dam4sam_model(**options: Any):
    """SAM2 task model whose predictor is DAM4SAM; DAM keys pass through `options`.

    Keys (own names, DAM4SAM's values): ram_stride 5, max_anchors 4 (the initial
    prompt + 3), drm_iou_gate 0.8, drm_area_min 0.8, drm_area_max 1.2,
    drm_min_gap 5, drm_bbox_iou_thresh 0.7, size_median_window 10,
    size_history 300, add_all_frames_to_correct_as_cond True,
    multimask_max_pt_num 3.
    """
    from litcore_vos_sam2.plugin import sam2_model

    model = sam2_model(predictor_class=PREDICTOR, **{**DAM_DEFAULTS, **options})
    model.name = "dam4sam"
    return model


@hookimpl
def litcore_register_models(register):
    register("dam4sam", dam4sam_model, task="vos", prediction="binary-mask",
             description="DAM4SAM over pip sam2 (recent-appearance + distractor-resolving memory); "
                         "LIT-LoRA on the mask decoder")
