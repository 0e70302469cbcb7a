"""Helpers for tests of SAM2-based plugins (random-weight models)."""

from __future__ import annotations

import torch


def force_objects_present(model, logit: float = 5.0):
    """Bias the object-score head so a random-weight model always says "object present".

    Random weights give arbitrary object scores, and LIT gates masks by that
    score: a negative one would block every gradient in mechanics tests.
    """
    head = model.predictor.sam_mask_decoder.pred_obj_score_head
    last = head.layers[-1] if hasattr(head, "layers") else head
    with torch.no_grad():
        last.bias.fill_(logit)
    return model
