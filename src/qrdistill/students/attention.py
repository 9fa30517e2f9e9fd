"""Attention for greedy decoding: grouped-query attention without copying the KV cache.

transformers' eager attention expands the cache of each key/value head to every query head of
its group (``repeat_kv``: a full copy of the cache per layer and per decoded token), and the CPU
SDPA kernel spends milliseconds per call on a single query token; on a 2-core CPU each took
about 40% of a SmolLM2 decoding step at batch 32. Here the query heads of a group are stacked
along the query axis instead, so one matmul per group reads the cache in place. Same math as
eager attention (softmax in float32; Gemma's attention soft-capping; the additive masks of
``eager``, sliding windows included).

>>> with decoding_attention(student.causal_lm):
...     logits = student.model(input_ids=ids, attention_mask=mask, cache=kv).logits
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from transformers import AttentionInterface, PreTrainedModel
from transformers.masking_utils import AttentionMaskInterface, eager_mask

NAME = "qrdistill_grouped"


def grouped_attention(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                      attention_mask: torch.Tensor | None, scaling: float | None = None, dropout: float = 0.0,
                      softcap: float | None = None, **kwargs) -> tuple[torch.Tensor, None]:
    """Attention of ``query`` [B, H, q, d] over ``key``/``value`` [B, H_kv, T, d]; returns [B, q, H, d]."""
    batch, heads, q_len, dim = query.shape
    kv_heads = key.shape[1]
    group = heads // kv_heads
    # query head h reads key/value head h // group (transformers' repeat_kv order)
    grouped = query.reshape(batch, kv_heads, group * q_len, dim)
    scores = torch.matmul(grouped, key.transpose(2, 3)) * (scaling if scaling is not None else dim**-0.5)
    if softcap is not None:
        scores = torch.tanh(scores / softcap) * softcap
    if attention_mask is not None:  # [B, 1, q, T]: the same for every head
        scores = (scores.view(batch, kv_heads, group, q_len, -1) + attention_mask[:, :, None, :, : key.shape[2]]).view_as(scores)
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    out = torch.matmul(probs, value).view(batch, heads, q_len, dim)
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register(NAME, grouped_attention)
AttentionMaskInterface.register(NAME, eager_mask)


@contextlib.contextmanager
def decoding_attention(model: PreTrainedModel) -> Iterator[None]:
    """Run ``model`` (a transformers model, not a PEFT wrapper) with ``grouped_attention`` inside the block."""
    before = model.config._attn_implementation
    model.set_attn_implementation(NAME)
    try:
        yield
    finally:
        model.set_attn_implementation(before)
