"""SAM 2's training losses, re-derived for one prediction step of a batch of objects.

Weights follow SAM 2.1's trainer (mask focal 20, dice 1, IoU prediction 1,
object-score BCE 1). With several candidate masks only the best one (lowest
focal+dice) is supervised, so the heads can specialise on ambiguous prompts;
the IoU head learns on every candidate. Mask terms vanish on frames where the
object is absent, leaving only the object-score term there.

Three deliberate departures, all found by watching from-scratch runs stall.
The mask focal loss is unweighted (SAM 2: alpha 0.25): a 3:1 weight on
background makes every uncertain pixel cheaper as background, and from random
weights the masks shrank to nothing instead of sharpening.
Tracked frames (no prompt) supervise *every* candidate: there is nothing
ambiguous to specialise on, and winner-take-all let a different slot win per
video, leaving the tracker's output to an IoU head that had not learned yet.
And: SAM 2 regresses its sigmoid IoU head with L1, which
is fine when fine-tuning SAM but, from scratch, the head saturates near 0 and
L1's gradient (scaled by sigmoid') dies; the unused candidates then win the
argmax at inference. BCE on the sigmoid output has gradient p - y on the logit,
so it cannot get stuck. `iou_l1` is still logged to compare with SAM 2.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

WEIGHTS = {"focal": 20.0, "dice": 1.0, "iou": 1.0, "obj": 1.0}  # "iou" is the BCE IoU term
FOCAL_ALPHA = -1.0  # no class weighting (SAM 2 uses 0.25, see above)


def _focal(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor, alpha=FOCAL_ALPHA, gamma=2.0
           ) -> torch.Tensor:
    """Per-mask sigmoid focal loss averaged over valid pixels: (B, M, H, W) -> (B, M)."""
    prob = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = prob * target + (1 - prob) * (1 - target)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = loss * (alpha * target + (1 - alpha) * (1 - target))
    return (loss * valid).flatten(2).sum(-1) / valid.flatten(2).sum(-1).clamp(min=1)


def _dice(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    prob = logits.sigmoid() * valid
    t = target * valid
    inter = (prob * t).flatten(2).sum(-1)
    return 1 - (2 * inter + 1) / (prob.flatten(2).sum(-1) + t.flatten(2).sum(-1) + 1)


def _actual_iou(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    pred = (logits > 0).float() * valid
    t = target * valid
    inter = (pred * t).flatten(2).sum(-1)
    union = (pred + t - pred * t).flatten(2).sum(-1)
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(inter))


def step_losses(sam_outputs: tuple, target: np.ndarray, supervise_all: bool = False) -> dict[str, torch.Tensor]:
    """Loss terms of one `_track_step` output against uint8 targets (B, H, W) in {0, 1, 255}.

    `supervise_all` trains every candidate mask instead of only the best one.
    `sam_outputs` is SAM2Base._forward_sam_heads' tuple; its high-res masks are at
    the model's image size, which must equal the target size.
    """
    masks, ious, obj_logits = sam_outputs[1], sam_outputs[2], sam_outputs[6]
    tgt = torch.from_numpy(target).to(masks.device)
    if masks.shape[-2:] != tgt.shape[-2:]:
        raise ValueError(f"prediction {tuple(masks.shape[-2:])} vs target {tuple(tgt.shape[-2:])}: render at image_size")
    valid = (tgt != 255).float()[:, None]
    t = (tgt == 1).float()[:, None]
    present = (t.flatten(1).sum(-1) > 0).float()  # (B,)

    focal = _focal(masks, t.expand_as(masks), valid.expand_as(masks))  # (B, M)
    dice = _dice(masks, t.expand_as(masks), valid.expand_as(masks))
    combo = WEIGHTS["focal"] * focal + WEIGHTS["dice"] * dice
    best = combo.argmin(dim=1, keepdim=True)  # best candidate per object
    focal_b, dice_b = focal.gather(1, best)[:, 0], dice.gather(1, best)[:, 0]
    if supervise_all:
        focal_b, dice_b = focal.mean(dim=1), dice.mean(dim=1)
    with torch.no_grad():
        real_iou = _actual_iou(masks, t.expand_as(masks), valid.expand_as(masks))
    iou_l1 = (ious - real_iou).abs().mean(dim=1)
    iou_bce = F.binary_cross_entropy(ious.float(), real_iou, reduction="none").mean(dim=1)
    obj = F.binary_cross_entropy_with_logits(obj_logits[:, 0], present, reduction="none")

    denom = max(1, len(target))
    out = {
        "focal": (focal_b * present).sum() / denom,
        "dice": (dice_b * present).sum() / denom,
        "iou": (iou_bce * present).sum() / denom,
        "obj": obj.sum() / denom,
    }
    out["total"] = sum(WEIGHTS[k] * out[k] for k in WEIGHTS)
    out["iou_l1"] = ((iou_l1 * present).sum() / denom).detach()
    return out


def mean_iou(pred_logits: torch.Tensor, target: np.ndarray) -> float:
    """Mean IoU of binarised predictions (B, 1, H, W) vs targets; empty-vs-empty scores 1 (as litcore)."""
    tgt = torch.from_numpy(target).to(pred_logits.device)
    valid = (tgt != 255)[:, None]
    pred = (pred_logits > 0) & valid
    t = (tgt == 1)[:, None] & valid
    inter = (pred & t).flatten(1).sum(-1).float()
    union = (pred | t).flatten(1).sum(-1).float()
    return float(torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(inter)).mean())
