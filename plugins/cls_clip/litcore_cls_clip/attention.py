"""Exact replacement of ``nn.MultiheadAttention`` with four ``nn.Linear`` projections.

Why: open_clip's ViT blocks use ``nn.MultiheadAttention``, whose q/k/v live in
one ``in_proj_weight`` parameter (not a module) and whose ``out_proj`` is read
as a bare weight inside ``F.multi_head_attention_forward``. LoRA injected by
peft on ``attn.out_proj`` would therefore be *silently ignored*, and q/k/v
could not be targeted at all. Splitting the attention into q_proj/k_proj/v_proj/
out_proj Linears (weights copied, numerically the same function) lets the
core's generic LoRA adapter target the projections the LIT paper adapts, for
the tiny model and for any real open_clip ViT checkpoint alike.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SplitAttention(nn.Module):
    """Multi-head attention with separate q/k/v/out Linear layers (MHA's call signature)."""

    def __init__(self, dim: int, heads: int, *, bias: bool = True, batch_first: bool = True,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.dim, self.heads, self.batch_first, self.dropout = dim, heads, batch_first, dropout
        self.q_proj = nn.Linear(dim, dim, bias=bias)
        self.k_proj = nn.Linear(dim, dim, bias=bias)
        self.v_proj = nn.Linear(dim, dim, bias=bias)
        self.out_proj = nn.Linear(dim, dim, bias=True)

    @classmethod
    def from_mha(cls, mha: nn.MultiheadAttention) -> "SplitAttention":
        """Copy the weights of a self-attention ``nn.MultiheadAttention``."""
        if not mha._qkv_same_embed_dim or mha.bias_k is not None or mha.add_zero_attn:
            raise ValueError("only plain self-attention nn.MultiheadAttention can be split")
        dim = mha.embed_dim
        new = cls(dim, mha.num_heads, bias=mha.in_proj_bias is not None, batch_first=mha.batch_first,
                  dropout=float(mha.dropout))
        with torch.no_grad():
            for i, proj in enumerate((new.q_proj, new.k_proj, new.v_proj)):
                proj.weight.copy_(mha.in_proj_weight[i * dim:(i + 1) * dim])
                if mha.in_proj_bias is not None:
                    proj.bias.copy_(mha.in_proj_bias[i * dim:(i + 1) * dim])
            new.out_proj.weight.copy_(mha.out_proj.weight)
            new.out_proj.bias.copy_(mha.out_proj.bias)
        return new.to(device=mha.in_proj_weight.device, dtype=mha.in_proj_weight.dtype)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, need_weights: bool = False,
                attn_mask: torch.Tensor | None = None, **_: object) -> tuple[torch.Tensor, None]:
        if not self.batch_first:  # (L, N, D) -> (N, L, D)
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        n, lq, _ = query.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(n, -1, self.heads, self.dim // self.heads).transpose(1, 2)

        q, k, v = heads(self.q_proj(query)), heads(self.k_proj(key)), heads(self.v_proj(value))
        if attn_mask is not None and attn_mask.dtype == torch.bool:
            # nn.MultiheadAttention: True = masked out; SDPA: True = attend. Use an additive mask.
            attn_mask = torch.zeros_like(attn_mask, dtype=q.dtype).masked_fill(attn_mask, float("-inf"))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask,
                                             dropout_p=self.dropout if self.training else 0.0)
        out = self.out_proj(out.transpose(1, 2).reshape(n, lq, self.dim))
        if not self.batch_first:
            out = out.transpose(0, 1)
        return out, None


def split_attention(module: nn.Module) -> int:
    """Replace every ``nn.MultiheadAttention`` under `module` in place; return how many."""
    count = 0
    for _, child in list(module.named_modules()):
        for attr, sub in list(child.named_children()):
            if isinstance(sub, nn.MultiheadAttention):
                setattr(child, attr, SplitAttention.from_mha(sub))
                count += 1
    return count
