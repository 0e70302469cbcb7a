"""SAMURAI (arXiv 2411.11922) re-expressed over pip sam2 1.1.0 and the LIT predictor.

Two changes to SAM2 on propagated frames:
- motion-aware mask choice: a box Kalman filter scores the decoder's three
  candidates (`kalman.motion_aware_choice`); the chosen candidate also gives
  the object pointer;
- motion-aware memory: the six most recent frames whose chosen mask was
  confident (predicted IoU, object score, KF-IoU) plus always the previous one.

Why per-frame records instead of SAMURAI's model-level filter: each frame's
record carries the filter as it was after that frame (`kf`), and frame t
restarts from the record of t-1 (t+1 in reverse). The filter is therefore per
object, rebuilt correctly after corrections and re-propagation, and never
carried into another object or video.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sam2.modeling.sam2_base import NO_OBJ_SCORE

from litcore_vos_sam2.memory import FrameContext, MemoryPolicyPredictor, record

from litcore_vos_samurai.kalman import BoxKalmanFilter, motion_aware_choice, observe


def mask_boxes(masks: torch.Tensor) -> np.ndarray:
    """Tight inclusive-pixel xyxy boxes of logits > 0 for (N, H, W) masks; empty -> zeros."""
    fg = masks > 0
    rows, cols = fg.any(dim=2), fg.any(dim=1)  # (N, H), (N, W)
    h, w = rows.shape[1], cols.shape[1]
    y1, x1 = rows.int().argmax(1), cols.int().argmax(1)
    y2, x2 = h - 1 - rows.flip(1).int().argmax(1), w - 1 - cols.flip(1).int().argmax(1)
    boxes = torch.stack([x1, y1, x2, y2], dim=1).cpu().numpy().astype(float)
    boxes[~rows.any(1).cpu().numpy()] = 0.0
    return boxes


class SamuraiPredictor(MemoryPolicyPredictor):
    """SAM2 + SAMURAI's Kalman-filter mask choice and confidence-filtered memory."""

    def __init__(self, kf_score_weight: float = 0.25, stable_frames_threshold: int = 15,
                 stable_ious_threshold: float = 0.3, min_obj_score_logits: float = -1.0,
                 memory_bank_iou_threshold: float = 0.5, memory_bank_obj_score_threshold: float = 0.0,
                 memory_bank_kf_score_threshold: float = 0.0, exclude_frames_0_1: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.kf_score_weight = float(kf_score_weight)
        self.stable_frames_threshold = int(stable_frames_threshold)
        self.stable_ious_threshold = float(stable_ious_threshold)
        self.min_obj_score_logits = float(min_obj_score_logits)
        self.memory_bank_iou_threshold = float(memory_bank_iou_threshold)
        self.memory_bank_obj_score_threshold = float(memory_bank_obj_score_threshold)
        self.memory_bank_kf_score_threshold = float(memory_bank_kf_score_threshold)
        self.exclude_frames_0_1 = bool(exclude_frames_0_1)
        self.kf = BoxKalmanFilter()  # stateless: the filter's numbers live in frame records

    def tracker_config(self) -> dict:
        keys = ("kf_score_weight", "stable_frames_threshold", "stable_ious_threshold", "min_obj_score_logits",
                "memory_bank_iou_threshold", "memory_bank_obj_score_threshold", "memory_bank_kf_score_threshold",
                "exclude_frames_0_1")
        return {"policy": "samurai", **{k: getattr(self, k) for k in keys}}

    # -- motion-aware mask choice ---------------------------------------------
    def _tracking_heads(self, ctx: FrameContext, backbone_features, high_res_features):
        dev = backbone_features.device
        pts = torch.zeros(1, 1, 2, device=dev)
        labels = -torch.ones(1, 1, dtype=torch.int32, device=dev)  # one padding point: no prompt
        sparse, dense = self.sam_prompt_encoder(points=(pts, labels), boxes=None, masks=None)
        low_multi, ious, tokens, obj_logits = self.sam_mask_decoder(
            image_embeddings=backbone_features, image_pe=self.sam_prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense, multimask_output=True,
            repeat_image=False, high_res_features=high_res_features)
        appear = obj_logits > self.min_obj_score_logits  # SAMURAI keeps masks down to logit -1
        if self.pred_obj_scores:
            low_multi = torch.where(appear[:, None, None], low_multi, NO_OBJ_SCORE)
        low_multi = low_multi.float()
        high_multi = F.interpolate(low_multi, size=(self.image_size, self.image_size), mode="bilinear",
                                   align_corners=False)

        prev = record(ctx.output_dict, ctx.frame_idx + (1 if ctx.reverse else -1))
        track = None if prev is None or prev.get("kf") is None else prev["kf"].facing(ctx.reverse)
        k, track, kf_iou = motion_aware_choice(
            track, mask_boxes(high_multi[0]), ious[0].float().cpu().numpy(), alpha=self.kf_score_weight,
            stable_frames=self.stable_frames_threshold, stable_iou=self.stable_ious_threshold,
            reverse=ctx.reverse, kf=self.kf)
        ctx.extras.update(kf=track, kf_iou=kf_iou, best_iou=float(ious[0, k]))

        token = tokens[:, k] if tokens.size(1) > 1 else tokens[:, 0]
        obj_ptr = self.obj_ptr_proj(token)
        if self.pred_obj_scores:  # SAM2's occlusion handling of the pointer, with SAMURAI's threshold
            lam = obj_logits.sigmoid() if self.soft_no_obj_ptr else appear.float()
            if self.fixed_no_obj_ptr:
                obj_ptr = lam * obj_ptr
            obj_ptr = obj_ptr + (1 - lam) * self.no_obj_ptr
        return (low_multi, high_multi, ious, low_multi[:, k:k + 1], high_multi[:, k:k + 1], obj_ptr, obj_logits)

    # -- user-made masks are measurements ----------------------------------------
    def _run_single_frame_inference(self, inference_state, output_dict, frame_idx, batch_size,
                                    is_init_cond_frame, point_inputs, mask_inputs, reverse,
                                    run_mem_encoder, prev_sam_mask_logits=None):
        out, pred = super()._run_single_frame_inference(
            inference_state, output_dict, frame_idx, batch_size, is_init_cond_frame, point_inputs,
            mask_inputs, reverse, run_mem_encoder, prev_sam_mask_logits)
        corrected = point_inputs is not None or mask_inputs is not None
        if corrected and not is_init_cond_frame and batch_size == 1:
            self._observe(output_dict, frame_idx, bool(reverse), out)
        return out, pred

    def _observe(self, output_dict: dict, t: int, reverse: bool, out: dict) -> None:
        """Frame t's mask was made by the user: fold its box into the filter of frame t-1 (t+1 reversed)."""
        prev = record(output_dict, t + (1 if reverse else -1))
        track = None if prev is None or prev.get("kf") is None else prev["kf"].facing(reverse)
        high = F.interpolate(out["pred_masks"][:1].float(), size=(self.image_size, self.image_size),
                             mode="bilinear", align_corners=False)
        track = observe(track, mask_boxes(high[0])[0], stable_frames=self.stable_frames_threshold,
                        reverse=reverse, kf=self.kf)
        for key in ("kf", "kf_iou", "best_iou"):  # user-made: trusted as memory, no candidate scores
            out.pop(key, None)
        if track is not None:
            out["kf"] = track

    def write_output(self, state, obj_id, t, low_res_logits, object_score_logits):
        # an accepted proposal is the user's choice: a measurement like a correction
        super().write_output(state, obj_id, t, low_res_logits, object_score_logits)
        obj_idx = self._obj_id_to_idx(state, obj_id)
        reverse = bool(state["frames_tracked_per_obj"][obj_idx].get(t, {}).get("reverse", False))
        store = state["output_dict_per_obj"][obj_idx]
        self._observe(store, t, reverse, record(store, t))

    # -- motion-aware memory ---------------------------------------------------
    def _good_memory(self, out: dict) -> bool:
        """A frame worth remembering; user/prompt outputs carry no scores and count as good."""
        iou, kf_iou = out.get("best_iou"), out.get("kf_iou")
        return ((iou is None or iou > self.memory_bank_iou_threshold)
                and float(out["object_score_logits"].max()) > self.memory_bank_obj_score_threshold
                and (kf_iou is None or kf_iou > self.memory_bank_kf_score_threshold))

    def _recent_memory(self, frame_idx, output_dict, unselected, num_frames, reverse):
        step = 1 if reverse else -1
        lowest = 2 if self.exclude_frames_0_1 and not reverse else 0  # SAMURAI's scan stops at frame 2
        non_cond = output_dict["non_cond_frame_outputs"]
        get = lambda t: non_cond.get(t, unselected.get(t))
        chosen = []
        prev = frame_idx + step
        if get(prev) is not None:
            chosen.append(get(prev))  # the previous frame always, even if it failed the test
        t = prev + step
        while lowest <= t < num_frames and len(chosen) < self.num_maskmem - 1:
            out = get(t)
            if out is not None and self._good_memory(out):
                chosen.append(out)
            t += step
        return [(rank, out) for rank, out in reversed(list(enumerate(chosen)))]  # rank = tpos index
