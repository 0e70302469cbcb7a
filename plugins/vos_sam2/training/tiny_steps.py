"""The two kinds of training step, run through SAM2Base's own tracking internals.

We call `_track_step` (not `track_step`) because the public method drops the
candidate masks, IoU predictions and object scores that the losses need;
memories are then encoded with `_encode_memory_in_output` exactly as
`track_step` would, so training and SAM2VideoPredictor share one code path.
"""

from __future__ import annotations

import numpy as np
import torch

from tiny_data import Clip, add_corrections, initial_prompts
from tiny_losses import mean_iou, step_losses

# Object-pointer positions are normalised by min(num_frames, 16) - 1; evaluation
# videos are >= 16 frames long, so clips pretend to be at least that long too.
MIN_NUM_FRAMES = 16


def _features(model, images: torch.Tensor):
    """Backbone features of all T*B frames in one batch, split back per frame."""
    T, B = images.shape[:2]
    out = model.forward_image(images.flatten(0, 1).to(model.device))
    _, feats, pos, sizes = model._prepare_backbone_features(out)
    frames = [([x[:, t * B:(t + 1) * B] for x in feats], [x[:, t * B:(t + 1) * B] for x in pos]) for t in range(T)]
    return frames, sizes


def _run(model, t, is_init, feats, pos, sizes, points, masks, output_dict, prev_logits=None):
    if points is not None:  # prompts are built on the CPU from numpy; the caller keeps its CPU copy
        points = {k: v.to(model.device) for k, v in points.items()}
    if masks is not None:
        masks = masks.to(model.device)
    current, sam_outputs, _, _ = model._track_step(
        t, is_init, feats, pos, sizes, points, masks, output_dict, MIN_NUM_FRAMES, False, prev_logits
    )
    return current, sam_outputs


def _store(model, t, feats, sizes, points, current, sam_outputs, output_dict, cond: bool) -> None:
    """Finish `current` as track_step does (pointer + memory) and file it as memory for later frames."""
    current["pred_masks"], current["pred_masks_high_res"], current["obj_ptr"] = sam_outputs[3:6]
    model._encode_memory_in_output(feats, sizes, points, True, sam_outputs[4], sam_outputs[6], current)
    output_dict["cond_frame_outputs" if cond else "non_cond_frame_outputs"][t] = current


def _binary(sam_outputs) -> np.ndarray:
    return (sam_outputs[4][:, 0] > 0).detach().cpu().numpy()


class _Sum:
    """Running sum of loss dicts plus the number of supervised predictions."""

    def __init__(self) -> None:
        self.terms: dict[str, torch.Tensor] = {}
        self.count = 0

    def add(self, terms: dict) -> None:
        for k, v in terms.items():
            self.terms[k] = self.terms.get(k, 0.0) + v
        self.count += 1

    def mean(self) -> dict:
        return {k: v / max(1, self.count) for k, v in self.terms.items()}


def _interact(model, rng, t, is_init, feats, pos, sizes, target, points, output_dict, first, losses, corrections):
    """Run `corrections` rounds of click-and-rerun on one frame (previous logits fed back, as in the demo)."""
    current, sam_outputs = first
    for _ in range(corrections):
        points = add_corrections(rng, points, _binary(sam_outputs), target)
        current, sam_outputs = _run(model, t, is_init, feats, pos, sizes, points, None, output_dict,
                                    prev_logits=sam_outputs[3].detach())
        losses.add(step_losses(sam_outputs, target))
    return points, current, sam_outputs


def image_step(model, clip: Clip, rng: np.random.Generator) -> tuple[dict, dict]:
    """Interactive segmentation of single frames: a click or a box, then 0-2 correction clicks."""
    frames, sizes = _features(model, clip.images)
    feats, pos = frames[0]
    target = clip.targets[0]
    kind = "click" if rng.random() < 0.6 else "box"
    points = initial_prompts(rng, target, kind)
    output_dict = {"cond_frame_outputs": {}, "non_cond_frame_outputs": {}}
    losses = _Sum()
    first = _run(model, 0, True, feats, pos, sizes, points, None, output_dict)
    losses.add(step_losses(first[1], target))
    j0 = mean_iou(first[1][4], target)
    _, _, last = _interact(model, rng, 0, True, feats, pos, sizes, target, points, output_dict, first,
                           losses, int(rng.integers(0, 3)))
    return losses.mean(), {"j_prompt": j0, "j_final": mean_iou(last[4], target)}


def clip_step(model, clip: Clip, rng: np.random.Generator) -> tuple[dict, dict]:
    """Semi-supervised tracking: frame 0 conditioned (mostly on the GT mask), later frames from memory.

    Half the clips also get one correction click on a random later frame, so the
    decoder learns to fix a tracked mask with memory and previous logits present.
    """
    frames, sizes = _features(model, clip.images)
    T = len(frames)
    output_dict = {"cond_frame_outputs": {}, "non_cond_frame_outputs": {}}
    losses = _Sum()
    u = rng.random()
    first_kind = "mask" if u < 0.7 else ("click" if u < 0.85 else "box")
    fix_frame = int(rng.integers(1, T)) if T > 1 and rng.random() < 0.5 else -1
    tracked_j = []
    for t, (feats, pos) in enumerate(frames):
        target = clip.targets[t]
        points = None
        if t == 0 and first_kind == "mask":
            masks = torch.from_numpy(target == 1).float()[:, None]
            current, sam_outputs = _run(model, 0, True, feats, pos, sizes, None, masks, output_dict)
        elif t == 0:
            points = initial_prompts(rng, target, first_kind)
            current, sam_outputs = _run(model, 0, True, feats, pos, sizes, points, None, output_dict)
            losses.add(step_losses(sam_outputs, target))
        else:
            current, sam_outputs = _run(model, t, False, feats, pos, sizes, None, None, output_dict)
            losses.add(step_losses(sam_outputs, target, supervise_all=True))
            tracked_j.append(mean_iou(sam_outputs[4], target))
            if t == fix_frame:
                points, current, sam_outputs = _interact(model, rng, t, False, feats, pos, sizes, target, None,
                                                         output_dict, (current, sam_outputs), losses, 1)
        _store(model, t, feats, sizes, points, current, sam_outputs, output_dict, cond=(t == 0))
    return losses.mean(), {"j_track": float(np.mean(tracked_j)) if tracked_j else float("nan")}
