"""SAM2 as a LIT task model: sessions over (video, object) episodes, and the learner.

Protocol (docs/protocol.md): one object at a time with its own state; the
object's first ground-truth mask prompts SAM2, one forward pass follows and
every later annotated frame is checked. An adapted *copy* of the mask decoder
re-decodes a failing frame from its cached memory-conditioned features with no
prompt (single-mask output, gated by the object score).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from litcore.task import Episode, Session, TaskModel
from litcore.types import Action, Click, Item, MaskAction
from litcore.vos.episodes import VideoObject
from litcore.vos.masks import iou, target_to_bool
from litcore_vos_sam2.loss import lit_mask_loss

# q/k/v of every attention block of the decoder's two-way transformer (35,328 LoRA parameters at rank 4)
LORA_TARGETS = (r"transformer\.(layers\.\d+\.(self_attn|cross_attn_token_to_image|cross_attn_image_to_token)"
                r"|final_attn_token_to_image)\.(q_proj|k_proj|v_proj)")
FULL_TARGETS = r"transformer"
NO_OBJ_SCORE = -1024.0


@dataclass
class Sample:
    """One correction as training data (tensors cloned out of inference mode)."""

    feat: torch.Tensor                 # (1, 256, h, w) memory-conditioned image embedding
    high_res: list[torch.Tensor] | None
    target: torch.Tensor               # (1, 1, S, S) float, ground truth at the loss resolution
    valid: torch.Tensor                # (1, 1, S, S) float, 0 on void pixels
    gt: np.ndarray                     # uint8 (H, W) 0/1/255 at video resolution (for the score)


class Sam2Session(Session):
    def __init__(self, model: "Sam2VOS", episode: Episode) -> None:
        vo: VideoObject = episode.payload
        self.model, self.video, self.obj, self.start = model, vo.video, vo.obj_id, vo.start
        self.p = model.predictor
        self.state = self.p.init_video_state(self.video)
        first = self.video.object_mask(self.start, self.obj) == 1
        self.p.add_new_mask(self.state, frame_idx=self.start, obj_id=self.obj, mask=torch.as_tensor(first))
        self._proposal: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self._base_decoder = self.p.sam_mask_decoder

    def items(self) -> Iterator[Item]:
        for t, logits in self.p.frames(self.state, self.obj, self.start):
            cap = self.p.captured(self.state, self.obj, t)
            target = None if t == self.start else self.video.object_mask(t, self.obj)
            yield Item(t, self.video.frame_names[t], (logits > 0).cpu().numpy(), target,
                       confidence=None if cap is None else cap["pred_iou"])
            self._proposal.pop(t, None)

    def apply(self, item: Item, action: Action) -> np.ndarray:
        if isinstance(action, Click):
            logits = self.p.click(self.state, self.obj, item.index, action.x, action.y, action.positive)
        elif isinstance(action, MaskAction):
            painted = target_to_bool(np.asarray(action.mask))
            self.p.correct_with_mask(self.state, self.obj, item.index, painted)
            return painted  # the user's own mask is the frame's output (IoU 1, as in the paper)
        else:
            raise TypeError(f"SAM2 sessions take clicks and masks, not {type(action).__name__}")
        return (logits > 0).cpu().numpy()

    def revise(self, item: Item, module: Any) -> np.ndarray | None:
        cap = self.p.captured(self.state, self.obj, item.index)
        if cap is None:
            return None
        with torch.no_grad():
            module.eval()
            low, obj = self.model.decode(module, cap["pix_feat_with_mem"].float().clone(),
                                         _clone_list(cap["high_res_features"]))
        self._proposal[item.index] = (low, obj)
        h, w = self.video.size
        return (F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)[0, 0] > 0).cpu().numpy()

    def accept(self, item: Item, prediction: Any) -> None:
        low, obj = self._proposal.pop(item.index)
        self.p.write_output(self.state, self.obj, item.index, low, obj)

    def training_sample(self, item: Item) -> Sample:
        cap = self.p.captured(self.state, self.obj, item.index)
        if cap is None:
            raise RuntimeError(f"no captured features for frame {item.name} of {self.video.name}")
        dev = self.model.device
        target, valid = loss_targets(item.target, self.model.loss_size, dev)
        return Sample(cap["pix_feat_with_mem"].float().clone().to(dev), _clone_list(cap["high_res_features"]),
                      target, valid, item.target)

    def install(self, module: Any) -> None:
        """"Replace decoder" ablation: the adapted decoder tracks every later frame of this episode."""
        module.eval()
        self.p.sam_mask_decoder = module

    def close(self) -> None:
        self.p.sam_mask_decoder = self._base_decoder
        self.state.clear()


def loss_targets(gt: np.ndarray, size: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """(target, valid), each (1, 1, size, size) float 0/1, from a 0/1/255 mask (antialiased resize)."""
    valid = torch.from_numpy((gt != 255).astype(np.float32))[None, None]
    fg = torch.from_numpy((gt == 1).astype(np.float32))[None, None]

    def down(x: torch.Tensor) -> torch.Tensor:
        return (F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True) >= 0.5).float()

    return down(fg).to(device), down(valid).to(device)


def _mask_iou(low: torch.Tensor, gt: np.ndarray) -> float:
    """IoU of (1, 1, h, w) low-res logits, upsampled to the ground truth's size, against it."""
    h, w = gt.shape
    pred = F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)[0, 0] > 0
    return iou(pred.cpu().numpy(), gt)


def resolve_loss_size(loss_size: int | str | None, image_size: int) -> int:
    """Resolution of the training loss: "image" (the model's input size, the faithful setting),
    "native" (the decoder's own low-res output, image_size / 4: 16x fewer pixels) or a number."""
    if loss_size is None or loss_size == "image":
        return int(image_size)
    if loss_size == "native":
        return int(image_size) // 4
    try:
        size = int(loss_size)
    except (TypeError, ValueError):
        size = 0
    if size < 1:
        raise ValueError(f"loss_size must be 'image', 'native' or a positive number of pixels, got {loss_size!r}")
    return size


def _clone_list(xs: list[torch.Tensor] | None) -> list[torch.Tensor] | None:
    return None if xs is None else [x.float().clone() for x in xs]  # fp32 even after bf16 tracking


class Sam2VOS(TaskModel):
    """SAM2 video predictor + LIT learner (loss and score of an adapted mask decoder)."""

    task = "vos"
    default_oracle = "vos-clicks"
    group_noun = "video"
    score_name = "J"
    prediction_kind = "binary-mask"
    name = "sam2"

    def __init__(self, predictor, *, loss_size: int | str | None = None, description: dict | None = None,
                 object_score_loss: float = 0.0) -> None:
        self.predictor = predictor
        # The reference code gates the proposal by the object score and trains the mask only, so a
        # correction on a frame the model calls "object absent" gives no gradient at all; this
        # option (0 = reference) also trains the object score towards "present".
        self.object_score_loss = float(object_score_loss)
        self.device = predictor.device
        self.loss_size = resolve_loss_size(loss_size, predictor.image_size)
        self._description = description or {}
        with torch.no_grad():
            pe = predictor.sam_prompt_encoder
            pts = torch.zeros(1, 1, 2, device=self.device)
            lab = -torch.ones(1, 1, dtype=torch.int32, device=self.device)
            sparse, dense = pe(points=(pts, lab), boxes=None, masks=None)
            self._prompt = (pe.get_dense_pe().clone(), sparse.clone(), dense.clone())

    def session(self, episode: Episode) -> Session:
        return Sam2Session(self, episode)

    def adaptable_module(self) -> torch.nn.Module:
        return self.predictor.sam_mask_decoder

    def adapter_targets(self, adapter: str) -> str | None:
        return {"lora": LORA_TARGETS, "full": FULL_TARGETS}.get(adapter)

    def decode(self, module, feat: torch.Tensor, high_res: list[torch.Tensor] | None):
        """No-prompt single-mask decode, gated by the object score: (low-res logits, object score)."""
        pe, sparse, dense = self._prompt
        b = feat.shape[0]
        masks, _, _, obj = module(image_embeddings=feat, image_pe=pe, sparse_prompt_embeddings=sparse.expand(b, -1, -1),
                                  dense_prompt_embeddings=dense.expand(b, -1, -1, -1), multimask_output=False,
                                  repeat_image=False, high_res_features=high_res)
        masks = torch.where(obj[:, :, None, None] > 0, masks, torch.full_like(masks, NO_OBJ_SCORE))
        return masks.float(), obj

    def _forward_loss(self, module, samples: list[Sample]):
        feat = torch.cat([s.feat for s in samples])
        hr = None if samples[0].high_res is None else [torch.cat(x) for x in zip(*(s.high_res for s in samples))]
        low, obj = self.decode(module, feat, hr)
        logits = low
        if low.shape[-1] != self.loss_size or low.shape[-2] != self.loss_size:
            logits = F.interpolate(low, size=(self.loss_size, self.loss_size), mode="bilinear", align_corners=False)
        target = torch.cat([s.target for s in samples])
        valid = torch.cat([s.valid for s in samples])
        loss = lit_mask_loss(logits, target, valid)
        if self.object_score_loss > 0:
            present = ((target * valid).flatten(1).sum(-1, keepdim=True) > 0).float()
            loss = loss + self.object_score_loss * F.binary_cross_entropy_with_logits(obj.float(), present)
        return loss, low

    def loss(self, module, samples: list[Sample]) -> torch.Tensor:
        return self._forward_loss(module, samples)[0]

    def loss_and_score(self, module, samples: list[Sample]) -> tuple[torch.Tensor, float]:
        """The loss and the score of `samples[-1]` from one forward pass (the policy's one-pass step).

        The score is that of the weights the loss was computed with, i.e. before
        the optimiser step, and with the module in training mode (LoRA dropout).
        """
        loss, low = self._forward_loss(module, samples)
        return loss, _mask_iou(low[-1:].detach(), samples[-1].gt)

    def score(self, module, sample: Sample) -> float:
        low, _ = self.decode(module, sample.feat, sample.high_res)
        return _mask_iou(low, sample.gt)

    def describe(self) -> dict[str, Any]:
        desc = {"name": self.name, "image_size": self.predictor.image_size, "loss_size": self.loss_size,
                "device": str(self.device), "object_score_loss": self.object_score_loss, **self._description}
        if hasattr(self.predictor, "tracker_config"):  # SAMURAI / DAM4SAM settings
            desc["tracker"] = self.predictor.tracker_config()
        return desc
