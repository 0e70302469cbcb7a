"""The LIT training loss: 20 x sigmoid focal (alpha 0.25, gamma 2) + 1 x dice.

torchvision ships `sigmoid_focal_loss`, so the focal term uses it; dice is
three lines and no library we depend on exposes the exact SAM2 form.
"""

from __future__ import annotations

import torch
from torchvision.ops import sigmoid_focal_loss


def dice_loss(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None,
              smooth: float = 1.0) -> torch.Tensor:
    """1 - (2|P.T| + s) / (|P| + |T| + s) per sample, averaged over the batch."""
    p = logits.sigmoid().flatten(1)
    t = target.flatten(1)
    if weight is not None:
        w = weight.flatten(1)
        p, t = p * w, t * w
    num = 2 * (p * t).sum(-1) + smooth
    den = p.sum(-1) + t.sum(-1) + smooth
    return (1 - num / den).mean()


def focal_loss(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None,
               alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    """Sigmoid focal loss, mean over (valid) pixels, then over the batch."""
    per_pixel = sigmoid_focal_loss(logits, target, alpha=alpha, gamma=gamma, reduction="none").flatten(1)
    if weight is None:
        return per_pixel.mean()
    w = weight.flatten(1)
    return ((per_pixel * w).sum(-1) / w.sum(-1).clamp(min=1)).mean()


def lit_mask_loss(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None = None,
                  focal_weight: float = 20.0, dice_weight: float = 1.0) -> torch.Tensor:
    """`valid` (same shape, 0/1) excludes void pixels from both terms."""
    target = target.float()
    weight = None if valid is None else valid.float()
    return focal_weight * focal_loss(logits, target, weight) + dice_weight * dice_loss(logits, target, weight)
