"""CLIP as a LIT task model: class-stream sessions, the LoRA targets and the learner.

The base model is a frozen zero-shot classifier (image features against the
class-prompt embeddings). The adapter trains a copy of the vision tower; on a
failing image its prediction is offered first and accepted if correct (the
loop's `revise`), exactly as the adapted decoder is in the video task.

Early-stopping score: the softmax probability of the true class. It is the
analogue of IoU in [0, 1]: the paper's rule "stop when no improvement for 10
steps and best > 0.6" then means "stop once the image is classified
confidently and training has plateaued", and "stop at step 10 if best is 0"
never fires (a probability is never exactly 0; there is no gated head here
that can block the gradient, which is why that rule exists for SAM2). A 0/1
"correct" score (option ``score=correct``) would stop at step 10 whenever the
image is still misclassified, and after 11 steps whenever it is right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F

from litcore.task import Episode, Session, TaskModel
from litcore.types import Action, Item, LabelAction
from litcore_cls_clip.build import LoadedClip
from litcore_cls_clip.data import ClassStream, check_templates
from litcore_cls_clip.prompts import text_classifier

ATTN_LAYERS = ("q_proj", "k_proj", "v_proj", "out_proj")
MLP_LAYERS = ("c_fc", "c_proj")
DEFAULT_LORA_LAYERS = ATTN_LAYERS + MLP_LAYERS
DEFAULT_LORA_BLOCKS = 2
SCORES = ("prob", "correct")


def block_targets(num_blocks: int, last: int | str, layers: Sequence[str] | None = None) -> str:
    """Regex over the vision tower's module names: `layers` of its `last` N residual blocks."""
    n = num_blocks if last == "all" else int(last)
    if not 1 <= n <= num_blocks:
        raise ValueError(f"lora_blocks must be between 1 and {num_blocks} (or 'all'), got {last!r}")
    blocks = "|".join(str(i) for i in range(num_blocks - n, num_blocks))
    if layers is None:
        return rf"transformer\.resblocks\.({blocks})"
    unknown = sorted(set(layers) - set(DEFAULT_LORA_LAYERS))
    if unknown or not layers:
        raise ValueError(f"lora_layers must be among {', '.join(DEFAULT_LORA_LAYERS)}, got {list(layers)}")
    return rf"transformer\.resblocks\.({blocks})\.(attn|mlp)\.({'|'.join(layers)})"


@dataclass
class Sample:
    """One corrected image: its preprocessed tensor, true label and the stream's class embeddings."""

    image: torch.Tensor   # (1, 3, H, W)
    label: int
    text: torch.Tensor    # (num_classes, embed_dim)


class ClipSession(Session):
    def __init__(self, model: "ClipClassifier", episode: Episode) -> None:
        stream: ClassStream = episode.payload
        self.model, self.stream = model, stream
        self.text = model.text_features(stream.classes, model.templates or stream.templates)
        self._images: dict[int, torch.Tensor] = {}
        self._visual, self._version = model.clip.visual, 0   # "replace" mode installs the adapted tower

    def items(self) -> Iterator[Item]:
        """Base predictions, batched; items after an `install` are re-predicted by the new tower."""
        refs, bs = self.stream.images, self.model.batch_size
        for start in range(0, len(refs), bs):
            chunk = refs[start:start + bs]
            x = torch.stack([self.model.preprocess(r.load()) for r in chunk]).to(self.model.device)
            probs, offset, version = None, 0, None
            for j, ref in enumerate(chunk):
                if version != self._version:
                    self._visual.eval()
                    with torch.no_grad():
                        probs = self.model.logits(self._visual, x[j:], self.text).softmax(-1)
                    offset, version = j, self._version
                self._images = {start + j: x[j:j + 1]}
                conf, pred = probs[j - offset].max(dim=0)
                yield Item(start + j, ref.name, int(pred), int(ref.label), confidence=float(conf))

    def apply(self, item: Item, action: Action) -> int:
        if not isinstance(action, LabelAction):
            raise TypeError(f"classification sessions take labels, not {type(action).__name__}")
        return int(action.label)

    def revise(self, item: Item, module: Any) -> int:
        module.eval()
        with torch.no_grad():
            return int(self.model.logits(module, self._images[item.index], self.text).argmax(-1))

    def install(self, module: Any) -> None:
        self._visual, self._version = module, self._version + 1

    def training_sample(self, item: Item) -> Sample:
        return Sample(self._images[item.index].clone(), int(item.target), self.text)

    def close(self) -> None:
        self._images = {}


class ClipClassifier(TaskModel):
    """open_clip model + zero-shot head + LIT learner (cross-entropy over prompt logits)."""

    task = "classification"
    default_oracle = "cls-label"
    group_noun = "stream"
    score_name = "accuracy"
    prediction_kind = "label"
    name = "clip"

    def __init__(self, loaded: LoadedClip, *, templates: Sequence[str] | None = None,
                 lora_blocks: int | str = DEFAULT_LORA_BLOCKS, lora_layers: Sequence[str] = DEFAULT_LORA_LAYERS,
                 score: str = "prob", batch_size: int = 32) -> None:
        if score not in SCORES:
            raise ValueError(f"unknown score {score!r}; choose from {', '.join(SCORES)}")
        self.clip, self.tokenizer, self.preprocess = loaded.model, loaded.tokenizer, loaded.preprocess
        self.device = next(self.clip.parameters()).device
        self.templates = None if templates is None else check_templates(templates)
        self.num_blocks = len(self.clip.visual.transformer.resblocks)
        self.lora_blocks, self.lora_layers = lora_blocks, tuple(lora_layers)
        self._lora = block_targets(self.num_blocks, lora_blocks, self.lora_layers)
        self._full = block_targets(self.num_blocks, lora_blocks)
        self.score_kind, self.batch_size = score, int(batch_size)
        self._description = loaded.description
        self._text: dict[tuple, torch.Tensor] = {}
        self.logit_scale = float(self.clip.logit_scale.exp())

    def text_features(self, classes: Sequence[str], templates: Sequence[str]) -> torch.Tensor:
        """Class embeddings, computed once per (class names, templates) and cached."""
        key = (tuple(classes), tuple(templates))
        if key not in self._text:
            self._text[key] = text_classifier(self.clip, self.tokenizer, classes, templates)
        return self._text[key]

    def session(self, episode: Episode) -> Session:
        return ClipSession(self, episode)

    def adaptable_module(self) -> torch.nn.Module:
        return self.clip.visual

    def adapter_targets(self, adapter: str) -> str | None:
        return {"lora": self._lora, "full": self._full}.get(adapter)

    def logits(self, visual: torch.nn.Module, images: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Scaled cosine similarities between image features and class embeddings."""
        feats = F.normalize(visual(images).float(), dim=-1)
        return self.logit_scale * feats @ text.t()

    def loss(self, module, samples: list[Sample]) -> torch.Tensor:
        images = torch.cat([s.image for s in samples])
        labels = torch.tensor([s.label for s in samples], device=images.device)
        return F.cross_entropy(self.logits(module, images, samples[0].text), labels)

    def score(self, module, sample: Sample) -> float:
        probs = self.logits(module, sample.image, sample.text).softmax(-1)[0]
        if self.score_kind == "correct":
            return float(int(probs.argmax()) == sample.label)
        return float(probs[sample.label])

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "device": str(self.device), "logit_scale": self.logit_scale,
                "vision_blocks": self.num_blocks, "lora_blocks": self.lora_blocks,
                "lora_layers": list(self.lora_layers), "score": self.score_kind,
                "templates": list(self.templates) if self.templates else "dataset default", **self._description}
