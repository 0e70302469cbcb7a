"""DAM4SAM (CVPR 2025, arXiv 2411.17576) re-expressed over pip sam2 1.1.0 and the LIT predictor.

Mask choice stays SAM2's. Memory becomes:
- anchors (no temporal encoding): the initial prompt always, then the
  conditioning frames (user prompts/corrections) and DRM frames nearest to t,
  excluding t-1, up to `max_anchors` in all;
- RAM (rank temporal encoding): the newest visible frame before t, then
  every `ram_stride`-th visible non-anchor frame, filling `num_maskmem` slots;
- object pointers: past anchors (unsigned distance) and visible recent frames.

Why records instead of DAM's cond-frame promotion: a DRM frame is a normal
tracked frame whose record says `drm=True`, so the DRM set, the size history
and the "last admission" are all re-derived from records; re-propagation
overwrites them and nothing is shared between objects or videos.
"""

from __future__ import annotations

import torch.nn.functional as F

from litcore_vos_sam2.memory import FrameContext, MemoryPolicyPredictor, MemorySelection, record

from litcore_vos_dam4sam import drm
from litcore_vos_dam4sam.drm import DrmRule, passes_gate


def visible(out: dict) -> bool:
    """The target shows on this frame (DAM's n_pixels_pos >= 1, on the low-res mask)."""
    n = out.get("n_pix")
    return (int((out["pred_masks"] > 0).sum()) if n is None else n) >= 1


class Dam4SamPredictor(MemoryPolicyPredictor):
    """SAM2 + DAM4SAM's recent-appearance and distractor-resolving memories."""

    def __init__(self, ram_stride: int = 5, max_anchors: int = 4, drm_iou_gate: float = 0.8,
                 drm_area_min: float = 0.8, drm_area_max: float = 1.2, drm_min_gap: int = 5,
                 drm_bbox_iou_thresh: float = 0.7, size_median_window: int = 10, size_history: int = 300,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.ram_stride, self.max_anchors = int(ram_stride), max(1, int(max_anchors))
        self.rule = DrmRule(float(drm_iou_gate), float(drm_area_min), float(drm_area_max), int(drm_min_gap),
                            float(drm_bbox_iou_thresh), int(size_median_window), int(size_history))

    def tracker_config(self) -> dict:
        r = self.rule
        return {"policy": "dam4sam", "ram_stride": self.ram_stride, "max_anchors": self.max_anchors,
                "drm_iou_gate": r.iou_gate, "drm_area_min": r.area_min, "drm_area_max": r.area_max,
                "drm_min_gap": r.min_gap, "drm_bbox_iou_thresh": r.bbox_iou_thresh,
                "size_median_window": r.median_window, "size_history": r.history,
                "add_all_frames_to_correct_as_cond": self.add_all_frames_to_correct_as_cond,
                "multimask_max_pt_num": self.multimask_max_pt_num}

    # -- DRM admission -----------------------------------------------------------
    def _after_frame(self, ctx: FrameContext, out: dict) -> None:
        low_multi, _, ious = ctx.heads[:3]
        k = int(ious[0].argmax())
        size = (ctx.state["video_height"], ctx.state["video_width"])
        at_video_res = lambda i: (F.interpolate(low_multi[:, i:i + 1].float(), size=size, mode="bilinear",
                                                align_corners=False)[0, 0] > 0).cpu().numpy()
        chosen = at_video_res(k)
        out.update(n_pix=int((out["pred_masks"] > 0).sum()), area=int(chosen.sum()), drm=False)
        sign = -1 if ctx.reverse else 1
        recs = [record(ctx.output_dict, ctx.frame_idx - sign * d) for d in range(1, self.rule.history)]
        history = [r["area"] for r in reversed(recs) if r is not None and "area" in r] + [out["area"]]
        since = next((d for d, r in enumerate(recs[:self.rule.min_gap], 1) if r is not None and r.get("drm")), None)
        if low_multi.size(1) < 2 or not passes_gate(float(ious[0, k]), out["area"], history, since, self.rule):
            return  # the cheap gate first: alternatives are resized and labelled only for candidates
        alternatives = [at_video_res(i) for i in range(low_multi.size(1)) if i != k]
        out["drm"] = drm.distractor_present(chosen, alternatives, self.rule)

    def _output_replaced(self, state: dict, out: dict) -> None:
        # the accepted proposal replaces the judged candidates: not a DRM anchor, size from the new mask
        h, w = state["video_height"], state["video_width"]
        out.update(drm=False, n_pix=int((out["pred_masks"] > 0).sum()))
        out["area"] = int((F.interpolate(out["pred_masks"].float(), size=(h, w), mode="bilinear",
                                         align_corners=False) > 0).sum())

    # -- RAM + DRM memory ----------------------------------------------------------
    def _select_memory(self, frame_idx, output_dict, num_frames, reverse) -> MemorySelection:
        sign = -1 if reverse else 1
        cond, non_cond = output_dict["cond_frame_outputs"], output_dict["non_cond_frame_outputs"]
        prev = frame_idx - sign
        in_past = (lambda t: t > frame_idx) if reverse else (lambda t: t < frame_idx)
        init = [t for t, o in cond.items() if o.get("init_cond")] or ([min(cond)] if cond else [])
        others = [t for t in cond if t not in init and t != prev]
        others += [t for t, o in non_cond.items() if o.get("drm") and in_past(t) and t != prev]
        others.sort(key=lambda t: (abs(frame_idx - t), t))
        anchors = (init + others)[:max(self.max_anchors, len(init))]
        anchor_set = set(anchors)

        def rec(t):
            return non_cond.get(t) if t in non_cond else (cond.get(t) if t not in anchor_set else None)

        ram = []
        slots = max(self.num_maskmem - len(anchors), 0)
        t = prev
        while slots and 0 <= t < num_frames:  # slot 1: the newest visible non-anchor frame
            if t not in anchor_set and rec(t) is not None and visible(rec(t)):
                ram.append(t)
                break
            t -= sign
        s = self.ram_stride
        while ram and len(ram) < slots:  # then every s-th frame, skipping anchors, DRM and invisible ones
            t = (ram[-1] // s + 1) * s if reverse else ((ram[-1] - 1) // s) * s
            while 0 <= t < num_frames:
                out = non_cond.get(t)
                if out is not None and t not in anchor_set and not out.get("drm") and visible(out):
                    break
                t -= sign * s
            if not 0 <= t < num_frames:
                break
            ram.append(t)

        spatial = [(self.num_maskmem - 1, record(output_dict, t)) for t in anchors]
        spatial += [(rank, rec(t)) for rank, t in reversed(list(enumerate(ram)))]
        pointers = [(abs(frame_idx - t), record(output_dict, t)) for t in anchors if in_past(t) or t == frame_idx]
        for d in range(1, min(num_frames, self.max_obj_ptrs_in_encoder)):
            t = frame_idx - sign * d
            if not 0 <= t < num_frames:
                break
            out = None if t in anchor_set else rec(t)
            if out is not None and visible(out):
                pointers.append((d, out))
        return MemorySelection(spatial, pointers)
