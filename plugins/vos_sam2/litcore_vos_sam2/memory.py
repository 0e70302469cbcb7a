"""SAM2 with its memory assembled by our own code from a replaceable selection policy.

Why: SAMURAI and DAM4SAM change *which* past frames SAM2 attends to (SAMURAI
also *which* decoder candidate becomes the output). Stock SAM2 hard-codes both
inside `_prepare_memory_conditioned_features` / `_forward_sam_heads`; this
base splits them into hooks (`_select_memory`, `_recent_memory`,
`_tracking_heads`, `_after_frame`, `_output_replaced`) and keeps every LIT
capture of :class:`LitSam2Predictor`.

Tracker state never lives on the model: each hook reads and writes extra keys
of the per-frame output records (``output_dict_per_obj[i][...][t]``), which
pip sam2 keeps per object, overwrites on re-tracking and moves on
`remove_object`. That is what makes several objects, prompts on any frame,
corrections, re-propagation and reverse tracking work without leaks.

With the default policy the result equals stock SAM2 (tests/trackers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from sam2.modeling.sam2_utils import get_1d_sine_pe, select_closest_cond_frames

from litcore_vos_sam2.predictor import LitSam2Predictor


@dataclass
class FrameContext:
    """What the hooks of one `_run_single_frame_inference` call may read; transient."""

    state: dict
    output_dict: dict
    obj_idx: int | None
    frame_idx: int
    reverse: bool
    tracking: bool  # a propagated frame: no points, no mask, not an initial prompt
    extras: dict = field(default_factory=dict)  # merged into the frame's stored record
    heads: tuple | None = None  # the decoder's 7-tuple on tracking frames


@dataclass
class MemorySelection:
    """What one frame attends to: spatial memories and object pointers."""

    spatial: list[tuple[int, dict]]  # (index into maskmem_tpos_enc, frame record)
    pointers: list[tuple[int, dict]]  # (temporal distance to encode, frame record)


def record(output_dict: dict, t: int) -> dict | None:
    """Frame t's stored output (conditioning first) or None: every scan is `.get`-safe."""
    out = output_dict["cond_frame_outputs"].get(t)
    return out if out is not None else output_dict["non_cond_frame_outputs"].get(t)


class MemoryPolicyPredictor(LitSam2Predictor):
    """`LitSam2Predictor` whose memory comes from `_select_memory` (default: SAM2's own rule)."""

    _ctx: FrameContext | None = None

    def tracker_config(self) -> dict[str, Any]:
        """Tracker settings recorded in run manifests (subclasses add theirs)."""
        return {"policy": "sam2-default"}

    # -- context hook --------------------------------------------------------
    def _run_single_frame_inference(self, inference_state, output_dict, frame_idx, batch_size,
                                    is_init_cond_frame, point_inputs, mask_inputs, reverse,
                                    run_mem_encoder, prev_sam_mask_logits=None):
        obj_idx = next((i for i, d in inference_state["output_dict_per_obj"].items() if d is output_dict), None)
        tracking = point_inputs is None and mask_inputs is None and not is_init_cond_frame
        ctx = FrameContext(inference_state, output_dict, obj_idx, frame_idx, bool(reverse), tracking)
        if is_init_cond_frame:
            ctx.extras["init_cond"] = True  # DAM keeps the initial prompt as a permanent anchor
        self._ctx = ctx
        try:
            out, pred = super()._run_single_frame_inference(
                inference_state, output_dict, frame_idx, batch_size, is_init_cond_frame, point_inputs,
                mask_inputs, reverse, run_mem_encoder, prev_sam_mask_logits)
        finally:
            self._ctx = None
        out.update(ctx.extras)
        if tracking and ctx.heads is not None:
            self._after_frame(ctx, out)
            best = out.get("best_iou")
            cap = inference_state.get("lit_features", {}).get(obj_idx)
            if best is not None and cap is not None and cap["frame_idx"] == frame_idx:
                cap["pred_iou"] = float(best)  # the chosen candidate's IoU, not the max
        return out, pred

    def _sam_heads(self, backbone_features, point_inputs, mask_inputs, high_res_features, multimask_output):
        ctx = self._ctx
        tracking = ctx is not None and ctx.tracking and not getattr(self, "_lit_mask_path", False)
        out = None
        if tracking and multimask_output and backbone_features.size(0) == 1:
            out = self._tracking_heads(ctx, backbone_features, high_res_features)
        if out is None:
            out = super()._sam_heads(backbone_features, point_inputs, mask_inputs, high_res_features, multimask_output)
        if tracking:
            ctx.heads = out
        return out

    # -- hooks for trackers ----------------------------------------------------
    def _tracking_heads(self, ctx: FrameContext, backbone_features, high_res_features):
        """Replace the decoder step on tracking frames; None = stock SAM2 (argmax predicted IoU)."""
        return None

    def _after_frame(self, ctx: FrameContext, out: dict) -> None:
        """Inspect a tracked frame's decoder outputs (`ctx.heads`) and annotate its record `out`."""

    def _output_replaced(self, state: dict, out: dict) -> None:
        """A frame's output was overwritten by an accepted adapter proposal: refresh its record."""

    def write_output(self, state, obj_id, t, low_res_logits, object_score_logits):
        super().write_output(state, obj_id, t, low_res_logits, object_score_logits)
        self._output_replaced(state, record(state["output_dict_per_obj"][self._obj_id_to_idx(state, obj_id)], t))

    # -- memory selection (default = SAM2's rule) --------------------------------
    def _select_memory(self, frame_idx: int, output_dict: dict, num_frames: int, reverse: bool) -> MemorySelection:
        selected, unselected = select_closest_cond_frames(
            frame_idx, output_dict["cond_frame_outputs"], self.max_cond_frames_in_attn)
        spatial = [(self.num_maskmem - 1, out) for out in selected.values()]
        spatial += self._recent_memory(frame_idx, output_dict, unselected, num_frames, reverse)
        return MemorySelection(spatial, self._default_pointers(frame_idx, output_dict, selected, unselected,
                                                               num_frames, reverse))

    def _recent_memory(self, frame_idx, output_dict, unselected, num_frames, reverse) -> list[tuple[int, dict]]:
        """SAM2: the previous frame, then every stride-th frame; k-th back gets index k-1 (oldest first)."""
        stride = 1 if self.training else self.memory_temporal_stride_for_eval
        non_cond = output_dict["non_cond_frame_outputs"]
        chosen = []
        for k in range(self.num_maskmem - 1, 0, -1):
            if k == 1:
                t = frame_idx + 1 if reverse else frame_idx - 1
            elif reverse:
                t = -(-(frame_idx + 2) // stride) * stride + (k - 2) * stride
            else:
                t = ((frame_idx - 2) // stride) * stride - (k - 2) * stride
            out = non_cond.get(t, unselected.get(t))
            if out is not None:
                chosen.append((k - 1, out))
        return chosen

    def _default_pointers(self, frame_idx, output_dict, selected, unselected, num_frames, reverse):
        """SAM2: pointers of (past) selected cond frames, then of the frames 1..max_ptr-1 back."""
        past_only = not self.training and self.only_obj_ptrs_in_the_past_for_eval
        sign = -1 if reverse else 1
        pointers = []
        for t, out in selected.items():
            if past_only and not (t >= frame_idx if reverse else t <= frame_idx):
                continue
            dist = (frame_idx - t) * sign if self.use_signed_tpos_enc_to_obj_ptrs else abs(frame_idx - t)
            pointers.append((dist, out))
        for d in range(1, min(num_frames, self.max_obj_ptrs_in_encoder)):
            t = frame_idx - sign * d
            if t < 0 or t >= num_frames:
                break
            out = output_dict["non_cond_frame_outputs"].get(t, unselected.get(t))
            if out is not None:
                pointers.append((d, out))
        return pointers

    # -- generic assembler -----------------------------------------------------
    def _prepare_memory_conditioned_features(self, frame_idx, is_init_cond_frame, current_vision_feats,
                                             current_vision_pos_embeds, feat_sizes, output_dict, num_frames,
                                             track_in_reverse=False):
        if self.num_maskmem == 0 or (is_init_cond_frame and not self.directly_add_no_mem_embed):
            return super()._prepare_memory_conditioned_features(
                frame_idx, is_init_cond_frame, current_vision_feats, current_vision_pos_embeds, feat_sizes,
                output_dict, num_frames, track_in_reverse)
        B, C = current_vision_feats[-1].size(1), self.hidden_dim
        H, W = feat_sizes[-1]
        if is_init_cond_frame:  # SAM2's directly_add_no_mem_embed path
            return (current_vision_feats[-1] + self.no_mem_embed).permute(1, 2, 0).view(B, C, H, W)
        device = current_vision_feats[-1].device
        sel = self._select_memory(frame_idx, output_dict, num_frames, bool(track_in_reverse))
        memory, memory_pos = [], []
        for tpos, out in sel.spatial:
            memory.append(out["maskmem_features"].to(device, non_blocking=True).flatten(2).permute(2, 0, 1))
            pos = out["maskmem_pos_enc"][-1].to(device).flatten(2).permute(2, 0, 1)
            memory_pos.append(pos + self.maskmem_tpos_enc[tpos])
        num_ptr_tokens = 0
        if self.use_obj_ptrs_in_encoder and sel.pointers:
            dists = [d for d, _ in sel.pointers]
            ptrs = torch.stack([out["obj_ptr"] for _, out in sel.pointers], dim=0)
            if self.add_tpos_enc_to_obj_ptrs:
                max_ptr = min(num_frames, self.max_obj_ptrs_in_encoder)
                dim = C if self.proj_tpos_enc_in_obj_ptrs else self.mem_dim
                pe = get_1d_sine_pe(torch.tensor(dists, device=device) / (max_ptr - 1), dim=dim)
                pe = self.obj_ptr_tpos_proj(pe).unsqueeze(1).expand(-1, B, self.mem_dim)
            else:
                pe = ptrs.new_zeros(len(dists), B, self.mem_dim)
            if self.mem_dim < C:  # a C-dim pointer becomes C // mem_dim tokens
                ptrs = ptrs.reshape(-1, B, C // self.mem_dim, self.mem_dim).permute(0, 2, 1, 3).flatten(0, 1)
                pe = pe.repeat_interleave(C // self.mem_dim, dim=0)
            memory.append(ptrs)
            memory_pos.append(pe)
            num_ptr_tokens = ptrs.shape[0]
        if not memory:  # nothing selected: attend to the learned "no memory" token
            memory = [self.no_mem_embed.expand(1, B, self.mem_dim)]
            memory_pos = [self.no_mem_pos_enc.expand(1, B, self.mem_dim)]
        memory_pos = torch.cat(memory_pos, dim=0)
        # stored memories are bf16; SAM2 relies on the fp32 pointers to promote the concatenation,
        # which crashes on CPU when no pointer is selected (an object tracked before its prompt)
        memory = torch.cat(memory, dim=0).to(memory_pos.dtype)
        out = self.memory_attention(curr=current_vision_feats, curr_pos=current_vision_pos_embeds,
                                    memory=memory, memory_pos=memory_pos, num_obj_ptr_tokens=num_ptr_tokens)
        return out.permute(1, 2, 0).view(B, C, H, W)
