"""Batched greedy generation on CPU or GPU.

Prompts are sorted by length and cut into batches (little padding), left-padded, decoded
greedily with the KV cache (finished rows are dropped from the batch and its cache, so a batch
costs what its live rows cost), and returned in the caller's order. A row ends at a stop token,
at ``max_new_tokens``, or when the caller's ``stop_check`` (asked every ``check_every`` tokens)
says its text is done.

>>> first, second = greedy_generate(model, [[2, 651, 6037], [2, 9259]], pad_id=0, stop_ids=[1], max_new_tokens=32)
>>> first.ids, first.stop      # new token ids (stop token excluded); "eos", "answer" or "length"
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from rich.progress import Progress
from transformers import DynamicCache, PreTrainedModel

from qrdistill.students.encoding import left_pad


StopReason = Literal["eos", "answer", "length"]
"""What ended a row: a stop token, the caller's ``stop_check``, or ``max_new_tokens``."""
StopCheck = Callable[[int, list[int]], bool]
"""``stop_check(row, new_ids)``: whether the row (its index in the caller's list) is done."""


@dataclass(frozen=True)
class Continuation:
    """The new tokens of one row (stop token excluded) and what ended it."""

    ids: list[int]
    stop: StopReason


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
    stop_check: StopCheck | None = None,
    check_every: int = 4,
) -> list[Continuation]:
    """Greedy decoding of one left-padded batch with a KV cache; finished rows leave the batch at once.

    Position ids count real tokens only, so a left-padded row decodes exactly as it would alone.
    ``stop_check(row, ids)`` (row: index in this batch) is asked after every ``check_every``-th token.
    """
    rows = input_ids.shape[0]
    out: list[list[int]] = [[] for _ in range(rows)]
    ended: list[StopReason | None] = [None] * rows
    if max_new_tokens <= 0:
        return [Continuation(ids, "length") for ids in out]
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
        checking = stop_check is not None and (step + 1) % check_every == 0
        for row, tok, eos in zip(alive.tolist(), tokens.tolist(), torch.isin(tokens, stops).tolist()):
            if eos:
                ended[row] = "eos"
                continue
            out[row].append(tok)
            if checking and stop_check(row, out[row]):
                ended[row] = "answer"
        done = torch.tensor([ended[row] is not None for row in alive.tolist()], device=tokens.device)
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
    return [Continuation(ids, stop or "length") for ids, stop in zip(out, ended)]


def greedy_generate(
    model: PreTrainedModel,
    rows: list[list[int]],
    pad_id: int,
    stop_ids: list[int],
    max_new_tokens: int,
    batch_size: int = 16,
    progress: bool = True,
    stop_check: StopCheck | None = None,
    check_every: int = 4,
) -> list[Continuation]:
    """Greedy continuations of each prompt in ``rows``, in input order.

    ``stop_check(i, ids)`` ends row ``i`` early; it is asked after every ``check_every``-th new
    token of a row, so a row decodes the same whatever its batch.
    """
    out: list[Continuation] = [Continuation([], "length") for _ in rows]
    device = next(model.parameters()).device
    with Progress(transient=True, disable=not progress) as bar, torch.inference_mode():
        task = bar.add_task("generating", total=len(rows))
        for batch in length_batches([len(r) for r in rows], batch_size):
            input_ids, attention_mask = left_pad([rows[i] for i in batch], pad_id)
            check = None if stop_check is None else (lambda r, ids, batch=batch: stop_check(batch[r], ids))
            new = greedy_batch(model, input_ids.to(device), attention_mask.to(device), stop_ids, max_new_tokens,
                               check, check_every)
            for i, cont in zip(batch, new):
                out[i] = cont
            bar.advance(task, len(batch))
    return out
