"""Batched greedy generation on CPU or GPU.

Prompts are sorted by length and cut into batches (little padding), left-padded, decoded
greedily with the KV cache (finished rows are dropped from the batch and its cache, so a batch
costs what its live rows cost), and returned in the caller's order.

>>> new_ids = greedy_generate(model, [[2, 651, 6037], [2, 9259]], pad_id=0, stop_ids=[1], max_new_tokens=32)
"""

from __future__ import annotations

import inspect

import torch
from rich.progress import Progress
from transformers import DynamicCache, PreTrainedModel

from qrdistill.students.encoding import left_pad


def length_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length, longest first (the peak memory shows at once).

    >>> length_batches([3, 9, 5, 8], 2)
    [[1, 3], [2, 0]]
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def cut_at_stop(ids: list[int], stop_ids: set[int]) -> list[int]:
    """The tokens before the first stop token (the whole list if none)."""
    for i, tok in enumerate(ids):
        if tok in stop_ids:
            return ids[:i]
    return ids


def _cache_kwarg(model: PreTrainedModel) -> str:
    """``cache`` in recent transformers, ``past_key_values`` before the rename."""
    return "cache" if "cache" in inspect.signature(type(model).forward).parameters else "past_key_values"


def greedy_batch(
    model: PreTrainedModel,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    stop_ids: list[int],
    max_new_tokens: int,
) -> list[list[int]]:
    """Greedy decoding of one left-padded batch with a KV cache; finished rows leave the batch at once.

    Position ids count real tokens only, so a left-padded row decodes exactly as it would alone.
    """
    rows = input_ids.shape[0]
    out: list[list[int]] = [[] for _ in range(rows)]
    if max_new_tokens <= 0:
        return out
    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    kv = DynamicCache(config=causal_lm.config)
    cache = {_cache_kwarg(causal_lm): kv}
    stops = torch.tensor(stop_ids, device=input_ids.device)
    positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    logits = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=positions,
                   use_cache=True, logits_to_keep=1, **cache).logits[:, -1]
    alive = torch.arange(rows)
    next_pos = positions[:, -1:] + 1
    for step in range(max_new_tokens):
        tokens = logits.argmax(-1)
        done = torch.isin(tokens, stops)
        for row, tok, finished in zip(alive.tolist(), tokens.tolist(), done.tolist()):
            if not finished:
                out[row].append(tok)
        if step == max_new_tokens - 1 or bool(done.all()):
            break
        if bool(done.any()):
            keep = (~done).nonzero().squeeze(1)
            kv.batch_select_indices(keep)
            alive, tokens, attention_mask, next_pos = alive[keep.cpu()], tokens[keep], attention_mask[keep], next_pos[keep]
        attention_mask = torch.cat([attention_mask, attention_mask.new_ones(len(alive), 1)], dim=1)
        logits = model(input_ids=tokens[:, None], attention_mask=attention_mask, position_ids=next_pos,
                       use_cache=True, **cache).logits[:, -1]
        next_pos = next_pos + 1
    return out


def greedy_generate(
    model: PreTrainedModel,
    rows: list[list[int]],
    pad_id: int,
    stop_ids: list[int],
    max_new_tokens: int,
    batch_size: int = 16,
    progress: bool = True,
) -> list[list[int]]:
    """Greedy continuations (new token ids, stop token excluded) of each prompt in ``rows``, in input order."""
    out: list[list[int]] = [[] for _ in rows]
    device = next(model.parameters()).device
    with Progress(transient=True, disable=not progress) as bar, torch.inference_mode():
        task = bar.add_task("generating", total=len(rows))
        for batch in length_batches([len(r) for r in rows], batch_size):
            input_ids, attention_mask = left_pad([rows[i] for i in batch], pad_id)
            new = greedy_batch(model, input_ids.to(device), attention_mask.to(device), stop_ids, max_new_tokens)
            for i, ids in zip(batch, new):
                out[i] = ids
            bar.advance(task, len(batch))
    return out
