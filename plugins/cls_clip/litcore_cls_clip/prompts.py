"""Zero-shot classifier weights from class-name prompts (CLIP's prompt ensembling).

Each class's text embedding is the mean of its L2-normalised template
embeddings, re-normalised: averaging over templates smooths out the wording of
any single prompt, as in the CLIP paper.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from litcore_cls_clip.data import check_templates


def build_prompts(classes: Sequence[str], templates: Sequence[str] | str) -> list[list[str]]:
    """One list of prompts per class, in template order."""
    temps = check_templates(templates)
    return [[t.format(name) for t in temps] for name in classes]


@torch.no_grad()
def text_classifier(model: torch.nn.Module, tokenizer: Callable[[list[str]], torch.Tensor],
                    classes: Sequence[str], templates: Sequence[str] | str, *, batch: int = 256) -> torch.Tensor:
    """(num_classes, embed_dim) unit vectors, the zero-shot classifier's weights."""
    prompts = build_prompts(classes, templates)
    flat = [p for group in prompts for p in group]
    device = next(model.parameters()).device
    feats = []
    for i in range(0, len(flat), batch):
        tokens = tokenizer(flat[i:i + batch]).to(device)
        feats.append(F.normalize(model.encode_text(tokens).float(), dim=-1))
    per_class = torch.cat(feats).reshape(len(classes), len(prompts[0]), -1)
    return F.normalize(per_class.mean(dim=1), dim=-1)
