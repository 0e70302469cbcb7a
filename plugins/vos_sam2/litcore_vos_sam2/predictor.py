"""SAM2's video predictor, extended with what the LIT loop needs.

Over pip `sam2` 1.1.0 (subclass, nothing vendored):
- frames come from any :class:`litcore.vos.video.Video` (lazy, any frame names);
- the memory-conditioned features fed to the mask decoder are captured per
  frame (into the inference state, never onto the model) so an adapted decoder
  can re-decode the frame and be trained on it;
- a propagation generator that steps one object frame by frame and leaves
  inference mode between frames, so corrections can be applied mid-video;
- corrections: a click (newest point only, previous logits as dense prompt),
  a full mask that becomes a conditioning frame, and writing an accepted
  adapter mask into the memory bank as the frame's output.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from sam2.sam2_video_predictor import SAM2VideoPredictor

from litcore.vos.video import Video

IMG_MEAN = (0.485, 0.456, 0.406)
IMG_STD = (0.229, 0.224, 0.225)


class VideoFrames:
    """Indexable, lazily loaded model inputs (3, S, S), as `inference_state['images']` expects."""

    def __init__(self, video: Video, image_size: int) -> None:
        self.video, self.image_size = video, image_size
        self.mean = torch.tensor(IMG_MEAN)[:, None, None]
        self.std = torch.tensor(IMG_STD)[:, None, None]

    def __len__(self) -> int:
        return len(self.video)

    def __getitem__(self, index: int) -> torch.Tensor:
        img = Image.fromarray(self.video.image(index)).convert("RGB")
        img = img.resize((self.image_size, self.image_size), Image.BICUBIC)
        x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
        return (x - self.mean) / self.std


def _memory_key(frame_idx, is_init, feats, pos, output_dict, num_frames, reverse, training, reach) -> tuple:
    """Everything stock SAM2's memory attention for `frame_idx` reads, as objects (not copies).

    Conditioning records count whole (the frame itself may be one); of the
    other records, those within `reach` frames, but not the frame's own (SAM2
    reads a few frames before it only), so the key costs O(reach), not
    O(video length), per frame. Tensors come with their in-place version counters.
    """
    def rec(out: dict) -> tuple:  # a record's memory tensors, as the very objects stored
        items = [out, out.get("maskmem_features"), out.get("obj_ptr")]
        pe = out.get("maskmem_pos_enc")
        items += [pe, *(pe or [])]
        return tuple(items) + tuple(_version(x) for x in items)

    cond = tuple((t, rec(o)) for t, o in output_dict["cond_frame_outputs"].items())
    non_cond = output_dict["non_cond_frame_outputs"]
    near = (t for t in range(frame_idx - reach, frame_idx + reach + 1) if t != frame_idx and t in non_cond)
    other = tuple((t, rec(non_cond[t])) for t in near)
    # the frame's image features are rebuilt (new tensor objects) on every call, from the frame alone
    vision = tuple((tuple(x.shape), str(x.dtype), str(x.device)) for x in (*feats, *pos))
    return (frame_idx, bool(is_init), num_frames, bool(reverse), bool(training), vision, cond, other)


def _version(x) -> int | None:
    """A tensor's in-place version counter; None for non-tensors and inference tensors (which keep none:
    pip sam2 never changes a stored memory tensor in place, it assigns new ones). Asked first, not caught:
    reading `_version` of an inference tensor raises, and building that error cost 3% of tracking."""
    if not isinstance(x, torch.Tensor) or x.is_inference():
        return None
    return x._version


def _same_key(a, b) -> bool:
    """Equal structure, the same objects (`is`), the same numbers: never a stale hit through a reused id."""
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(_same_key(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float, bool, str, type(None))):
        return a == b and type(a) is type(b)
    return a is b


class LitSam2Predictor(SAM2VideoPredictor):
    """`SAM2VideoPredictor` plus feature capture, stepping and correction entry points."""

    # -- state -------------------------------------------------------------
    @torch.inference_mode()
    def init_video_state(self, video: Video, offload_state_to_cpu: bool = False) -> dict:
        """Like `init_state`, but from a Video instead of a folder of integer-named JPEGs."""
        h, w = video.size
        device = self.device
        state: dict = {
            "images": VideoFrames(video, self.image_size), "num_frames": len(video),
            "offload_video_to_cpu": True, "offload_state_to_cpu": offload_state_to_cpu,
            "video_height": h, "video_width": w, "device": device,
            "storage_device": torch.device("cpu") if offload_state_to_cpu else device,
            "point_inputs_per_obj": {}, "mask_inputs_per_obj": {}, "cached_features": {},
            "constants": {}, "obj_id_to_idx": OrderedDict(), "obj_idx_to_id": OrderedDict(),
            "obj_ids": [], "output_dict_per_obj": {}, "temp_output_dict_per_obj": {},
            "frames_tracked_per_obj": {},
            # LIT: decoder inputs of the most recently decoded frame, per object index
            "lit_features": {},
        }
        return state

    # -- capture -----------------------------------------------------------
    def _run_single_frame_inference(self, inference_state, output_dict, frame_idx, batch_size,
                                    is_init_cond_frame, point_inputs, mask_inputs, reverse,
                                    run_mem_encoder, prev_sam_mask_logits=None):
        obj_idx = next((i for i, d in inference_state["output_dict_per_obj"].items() if d is output_dict), None)
        self._lit_ctx = (inference_state, obj_idx, frame_idx)
        dtype = getattr(self, "lit_autocast", None)  # model option `autocast` (bf16 tracking)
        try:
            with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
                return super()._run_single_frame_inference(
                    inference_state, output_dict, frame_idx, batch_size, is_init_cond_frame, point_inputs,
                    mask_inputs, reverse, run_mem_encoder, prev_sam_mask_logits)
        finally:
            self._lit_ctx = None

    def _prepare_memory_conditioned_features(self, frame_idx, is_init_cond_frame, current_vision_feats,
                                             current_vision_pos_embeds, feat_sizes, output_dict, num_frames,
                                             track_in_reverse=False):
        """SAM2's memory attention, computed once per frame and memory bank (`memory_cache`).

        A correction re-decodes its frame once per click, and stock SAM2 runs
        the memory attention again each time (over half of a tiny-model
        click), although its result cannot change: the frame's own output is
        never in its own memory (only frames before it and conditioning
        frames are), and the rest of the bank is the same objects. The key
        holds those very objects (compared by identity and version), so a
        hit is exact: bit-identical features (tests/sam2/test_memory_cache.py).
        """
        ctx = getattr(self, "_lit_ctx", None)
        if ctx is None or not getattr(self, "memory_cache", True) or type(self)._prepare_memory_conditioned_features \
                is not LitSam2Predictor._prepare_memory_conditioned_features:
            return super()._prepare_memory_conditioned_features(
                frame_idx, is_init_cond_frame, current_vision_feats, current_vision_pos_embeds, feat_sizes,
                output_dict, num_frames, track_in_reverse)
        # the farthest non-conditioning frame SAM2 reads: its spatial memories (every stride-th frame)
        # and its object pointers, with margin
        reach = self.num_maskmem * max(1, self.memory_temporal_stride_for_eval) + self.max_obj_ptrs_in_encoder + 2
        key = _memory_key(frame_idx, is_init_cond_frame, current_vision_feats, current_vision_pos_embeds,
                          output_dict, num_frames, track_in_reverse, self.training, reach)
        cache = ctx[0].setdefault("lit_memory_cache", {})
        hit = cache.get(id(output_dict))
        if hit is not None and hit[0] is output_dict and _same_key(hit[1], key) and _version(hit[2]) == hit[3]:
            return hit[2]
        out = super()._prepare_memory_conditioned_features(
            frame_idx, is_init_cond_frame, current_vision_feats, current_vision_pos_embeds, feat_sizes,
            output_dict, num_frames, track_in_reverse)
        cache[id(output_dict)] = (output_dict, key, out, _version(out))
        return out

    def _use_mask_as_output(self, backbone_features, high_res_features, mask_inputs):
        # a mask prompt decodes raw (memory-free) features: not what the adapter sees
        self._lit_mask_path = True
        try:
            return super()._use_mask_as_output(backbone_features, high_res_features, mask_inputs)
        finally:
            self._lit_mask_path = False

    def _forward_sam_heads(self, backbone_features, point_inputs=None, mask_inputs=None,
                           high_res_features=None, multimask_output=False):
        out = self._sam_heads(backbone_features, point_inputs, mask_inputs, high_res_features, multimask_output)
        ctx = getattr(self, "_lit_ctx", None)
        if ctx is not None and not getattr(self, "_lit_mask_path", False) and ctx[1] is not None:
            state, obj_idx, frame_idx = ctx
            ious = out[2]
            state["lit_features"][obj_idx] = {
                "frame_idx": frame_idx,
                "pix_feat_with_mem": backbone_features,
                "high_res_features": list(high_res_features) if high_res_features is not None else None,
                "pred_iou": float(ious.max()),
            }
        return out

    def _sam_heads(self, backbone_features, point_inputs, mask_inputs, high_res_features, multimask_output):
        """The decoder step itself; trackers (SAMURAI) replace it, the LIT capture above stays."""
        return super()._forward_sam_heads(backbone_features, point_inputs, mask_inputs,
                                          high_res_features, multimask_output)

    def captured(self, state: dict, obj_id: int, frame_idx: int) -> dict | None:
        """Decoder inputs captured for this object on `frame_idx` (None if another frame was decoded last)."""
        cap = state["lit_features"].get(self._obj_id_to_idx(state, obj_id))
        return cap if cap is not None and cap["frame_idx"] == frame_idx else None

    # -- stepping ----------------------------------------------------------
    def frames(self, state: dict, obj_id: int, start: int, reverse: bool = False) -> Iterator[tuple[int, torch.Tensor]]:
        """Track one object from `start`, yielding (frame, video-res logits (H, W)).

        Outside inference mode between frames, so the caller can correct the
        yielded frame before the next one reads the memory bank.
        """
        self.propagate_in_video_preflight(state)
        n = state["num_frames"]
        order = range(start, -1, -1) if reverse else range(start, n)
        for t in order:
            yield t, self._track_frame(state, obj_id, t, reverse)

    @torch.inference_mode()
    def _track_frame(self, state: dict, obj_id: int, t: int, reverse: bool) -> torch.Tensor:
        obj_idx = self._obj_id_to_idx(state, obj_id)
        out_dict = state["output_dict_per_obj"][obj_idx]
        if t in out_dict["cond_frame_outputs"]:
            pred = out_dict["cond_frame_outputs"][t]["pred_masks"].to(state["device"])
        else:
            current, pred = self._run_single_frame_inference(
                inference_state=state, output_dict=out_dict, frame_idx=t, batch_size=1,
                is_init_cond_frame=False, point_inputs=None, mask_inputs=None, reverse=reverse,
                run_mem_encoder=True)
            out_dict["non_cond_frame_outputs"][t] = current
        state["frames_tracked_per_obj"][obj_idx][t] = {"reverse": reverse}
        _, video_res = self._get_orig_video_res_output(state, pred)
        return video_res[0, 0]

    # -- corrections -------------------------------------------------------
    def click(self, state: dict, obj_id: int, t: int, x: int, y: int, positive: bool) -> torch.Tensor:
        """One corrective click: it replaces earlier clicks, the previous logits are the dense prompt.

        The result is consolidated into the memory bank right away (as a
        non-conditioning frame), as the LIT harness does after a point correction.
        """
        _, _, masks = self.add_new_points_or_box(state, frame_idx=t, obj_id=obj_id, points=[[x, y]],
                                                 labels=[1 if positive else 0], clear_old_points=True)
        self.propagate_in_video_preflight(state)
        return masks[self._obj_id_to_idx(state, obj_id), 0]

    def correct_with_mask(self, state: dict, obj_id: int, t: int, mask: np.ndarray) -> torch.Tensor:
        """The full-mask fallback: the frame becomes a conditioning frame (permanent memory)."""
        previous = self.add_all_frames_to_correct_as_cond
        self.add_all_frames_to_correct_as_cond = True
        try:
            _, _, masks = self.add_new_mask(state, frame_idx=t, obj_id=obj_id, mask=torch.as_tensor(mask, dtype=torch.bool))
        finally:
            self.add_all_frames_to_correct_as_cond = previous
        self.propagate_in_video_preflight(state)
        return masks[self._obj_id_to_idx(state, obj_id), 0]

    @torch.inference_mode()
    def write_output(self, state: dict, obj_id: int, t: int, low_res_logits: torch.Tensor,
                     object_score_logits: torch.Tensor) -> None:
        """Make `low_res_logits` (1, 1, h, w) frame t's output and memory; keep its object pointer."""
        obj_idx = self._obj_id_to_idx(state, obj_id)
        store = state["output_dict_per_obj"][obj_idx]
        key = "cond_frame_outputs" if t in store["cond_frame_outputs"] else "non_cond_frame_outputs"
        out = dict(store[key][t])
        low = low_res_logits.detach().to(state["device"]).float()
        high = F.interpolate(low, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        feats, pos = self._run_memory_encoder(state, t, 1, high, object_score_logits.detach().to(state["device"]),
                                              is_mask_from_pts=False)
        out.update(maskmem_features=feats, maskmem_pos_enc=pos,
                   pred_masks=low.to(state["storage_device"]),
                   object_score_logits=object_score_logits.detach().to(state["device"]))
        store[key][t] = out
