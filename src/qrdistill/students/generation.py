"""Greedy generation with continuous batching, on CPU or GPU.

Up to ``batch_size`` prompts decode together with one KV cache. A row that ends (a stop token,
``max_new_tokens``, or the caller's ``stop_check``, asked every ``check_every`` tokens) leaves
the batch and its cache at once, and waiting prompts take the free slots: they are prefilled
together and joined to the running batch, so no slot waits for the longest row of its batch.
Prompts enter longest first; every row is left-padded to the batch's common time axis, with
position ids counting its real tokens only, so a row decodes as it would alone. Results come
back in the caller's order. Attention runs as ``attention.grouped_attention`` (no copy of the
cache per step).

>>> first, second = greedy_generate(model, [[2, 651, 6037], [2, 9259]], pad_id=0, stop_ids=[1], max_new_tokens=32)
>>> first.ids, first.stop      # new token ids (stop token excluded); "eos", "answer" or "length"
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from rich.progress import Progress
from transformers import DynamicCache, PreTrainedModel
from transformers.cache_utils import DynamicLayer, DynamicSlidingWindowLayer

from qrdistill.students.attention import decoding_attention
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


def cut_at_stop(ids: list[int], stop_ids: set[int]) -> list[int]:
    """The tokens before the first stop token (the whole list if none)."""
    for i, tok in enumerate(ids):
        if tok in stop_ids:
            return ids[:i]
    return ids


def _cache_kwarg(model: PreTrainedModel) -> str:
    """``cache`` in recent transformers, ``past_key_values`` before the rename."""
    return "cache" if "cache" in inspect.signature(type(model).forward).parameters else "past_key_values"


def _causal_lm(model: PreTrainedModel) -> PreTrainedModel:
    return model.get_base_model() if hasattr(model, "get_base_model") else model


# -- the KV cache along its time axis ---------------------------------------------------------
# Rows share one time axis of length T (left padding up to each row's first token). A full
# attention layer stores all T columns; a sliding-window layer the last min(T, window - 1) and
# counts T in ``cumulative_length`` (what the model reads as the number of past tokens).

class _Appending:
    """A cache layer that appends new keys/values in place into spare room (doubling when full), where
    transformers' dynamic layers concatenate the whole cache again for every decoded token."""

    _room: tuple[torch.Tensor, torch.Tensor] | None = None

    def _append(self, keys: torch.Tensor, values: torch.Tensor, keep: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Append to the stored columns; store the last ``keep`` (default: all) of them and return all of them (views)."""
        have, new = (self.keys.shape[2] if self.keys.dim() == 4 else 0), keys.shape[2]
        keep = have + new if keep is None else keep
        room = self._room
        if room is None or room[0].shape[:2] != keys.shape[:2] or have + new > room[0].shape[2] or room[0].data_ptr() != self.keys.data_ptr():
            size = max(2 * (have + new), 64)
            room = tuple(t.new_empty(*t.shape[:2], size, t.shape[3]) for t in (keys, values))
            if have:
                for buffer, old in zip(room, (self.keys, self.values)):
                    buffer[:, :, :have] = old
        for buffer, part in zip(room, (keys, values)):
            buffer[:, :, have : have + new] = part
        full = tuple(buffer[:, :, : have + new] for buffer in room)
        start = max(0, have + new - keep)
        if start:  # move the kept columns to the front so that they stay a prefix of the room
            room = tuple(t.new_empty(t.shape[0], t.shape[1], max(2 * keep, 64), t.shape[3]) for t in room)
            for buffer, old in zip(room, full):
                buffer[:, :, :keep] = old[:, :, start:]
        self._room = room
        self.keys, self.values = (buffer[:, :, : have + new - start] for buffer in room)
        return full


class _AppendingLayer(_Appending, DynamicLayer):
    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        return self._append(key_states, value_states)


class _AppendingSlidingLayer(_Appending, DynamicSlidingWindowLayer):
    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        self.cumulative_length += key_states.shape[-2]
        return self._append(key_states, value_states, keep=self.sliding_window - 1)


def _appending_cache(config) -> DynamicCache:
    """A ``DynamicCache`` for ``config`` whose plain and sliding-window layers append in place."""
    kv = DynamicCache(config=config)
    kv.layers = [_AppendingLayer() if type(layer) is DynamicLayer
                 else _AppendingSlidingLayer(sliding_window=layer.sliding_window) if type(layer) is DynamicSlidingWindowLayer
                 else layer for layer in kv.layers]
    return kv


def _joinable(kv: DynamicCache) -> bool:
    """Whether rows can be added to and removed from ``kv`` along its time axis (plain and sliding layers)."""
    return all(isinstance(layer, (_AppendingLayer, _AppendingSlidingLayer)) and layer.is_initialized for layer in kv.layers)


def _stored(layer: DynamicLayer, time: int) -> int:
    """Columns ``layer`` keeps of a time axis of length ``time``."""
    return min(time, layer.sliding_window - 1) if isinstance(layer, DynamicSlidingWindowLayer) else time


def _set_time(kv: DynamicCache, old: int, new: int) -> None:
    """Grow (zero columns on the left, masked) or cut (oldest columns) every layer's time axis from ``old`` to ``new``."""
    for layer in kv.layers:
        have, want = _stored(layer, old), _stored(layer, new)
        if want > have:
            layer.keys, layer.values = (F.pad(t, (0, 0, want - have, 0)) for t in (layer.keys, layer.values))
        else:
            layer.keys, layer.values = layer.keys[:, :, have - want :], layer.values[:, :, have - want :]
        if isinstance(layer, DynamicSlidingWindowLayer):
            layer.cumulative_length = new


@dataclass
class _Live:
    """The rows decoding together: the caller's index of each, their cache, mask, next positions and logits."""

    rows: list[int]
    kv: DynamicCache
    mask: torch.Tensor
    """[b, T] attention mask over the time axis (0 on left padding)."""
    next_pos: torch.Tensor
    """[b, 1] position id of each row's next token."""
    logits: torch.Tensor
    """[b, V] logits of each row's next token."""

    def join(self, other: _Live) -> None:
        """Append ``other``'s rows, first padding the shorter time axis on the left."""
        old, new = self.mask.shape[1], other.mask.shape[1]
        time = max(old, new)
        for live, length in ((self, old), (other, new)):
            _set_time(live.kv, length, time)
            live.mask = F.pad(live.mask, (time - length, 0))
        for mine, theirs in zip(self.kv.layers, other.kv.layers):
            mine.keys, mine.values = torch.cat([mine.keys, theirs.keys]), torch.cat([mine.values, theirs.values])
        self.rows += other.rows
        self.mask, self.next_pos = torch.cat([self.mask, other.mask]), torch.cat([self.next_pos, other.next_pos])
        self.logits = torch.cat([self.logits, other.logits])

    def keep(self, keep: torch.Tensor) -> None:
        """Keep the rows at indices ``keep``; drop time columns that are padding in every remaining row."""
        self.kv.batch_select_indices(keep)
        self.rows = [self.rows[i] for i in keep.tolist()]
        self.mask, self.next_pos, self.logits = self.mask[keep], self.next_pos[keep], self.logits[keep]
        padding = int(self.mask.argmax(dim=1).min())  # every row has a real token, so argmax finds its first
        if padding:
            _set_time(self.kv, self.mask.shape[1], self.mask.shape[1] - padding)
            self.mask = self.mask[:, padding:]


def _prefill(model: PreTrainedModel, prompts: list[list[int]], rows: list[int], pad_id: int, device: torch.device) -> _Live:
    """Run left-padded ``prompts`` through ``model`` into a fresh cache; logits of each row's next token."""
    input_ids, mask = (t.to(device) for t in left_pad(prompts, pad_id))
    causal_lm = _causal_lm(model)
    kv = _appending_cache(causal_lm.config)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    # the last position as an index tensor, not logits_to_keep=1: the slice would reach the LM head as a
    # non-contiguous [B, 1, H] view, which torch multiplies by copying the head's weight once per row
    last = torch.tensor([input_ids.shape[1] - 1], device=device)
    logits = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=last,
                   **{_cache_kwarg(causal_lm): kv}).logits[:, -1]
    return _Live(list(rows), kv, mask, positions[:, -1:] + 1, logits)


def _decode(model: PreTrainedModel, live: _Live, tokens: torch.Tensor) -> None:
    """Feed each live row its next token; ``live.logits`` becomes the logits of the token after."""
    live.mask = torch.cat([live.mask, live.mask.new_ones(len(live.rows), 1)], dim=1)
    live.logits = model(input_ids=tokens[:, None], attention_mask=live.mask, position_ids=live.next_pos, use_cache=True,
                        **{_cache_kwarg(_causal_lm(model)): live.kv}).logits[:, -1]
    live.next_pos = live.next_pos + 1


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
    refill: int | None = None,
) -> list[Continuation]:
    """Greedy continuations of each prompt in ``rows``, in input order, ``batch_size`` rows at a time.

    ``stop_check(i, ids)`` ends row ``i`` early; it is asked after every ``check_every``-th new
    token of a row, so a row decodes the same whatever its batch. Waiting prompts join once
    ``refill`` slots are free (default: a quarter of ``batch_size``; each join costs one more
    forward call).
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    out: list[list[int]] = [[] for _ in rows]
    ended: list[StopReason | None] = [None] * len(rows)
    if max_new_tokens <= 0:
        return [Continuation(ids, "length") for ids in out]
    refill = refill or max(1, batch_size // 4)
    device = next(model.parameters()).device
    stops = torch.tensor(stop_ids, device=device)
    waiting = deque(sorted(range(len(rows)), key=lambda i: (-len(rows[i]), i)))
    live: _Live | None = None
    with (Progress(transient=True, disable=not progress) as bar, torch.inference_mode(),
          decoding_attention(_causal_lm(model))):
        task = bar.add_task("generating", total=len(rows))
        while waiting or live is not None:
            free = batch_size - (len(live.rows) if live is not None else 0)
            if waiting and (live is None or (free >= min(refill, len(waiting)) and _joinable(live.kv))):
                group = [waiting.popleft() for _ in range(min(free, len(waiting)))]
                joining = _prefill(model, [rows[i] for i in group], group, pad_id, device)
                if live is None:
                    live = joining
                else:
                    live.join(joining)
            tokens = live.logits.argmax(-1)
            for row, tok, eos in zip(live.rows, tokens.tolist(), torch.isin(tokens, stops).tolist()):
                if eos:
                    ended[row] = "eos"
                    continue
                out[row].append(tok)
                if stop_check is not None and len(out[row]) % check_every == 0 and stop_check(row, out[row]):
                    ended[row] = "answer"
                elif len(out[row]) == max_new_tokens:
                    ended[row] = "length"
            going = torch.tensor([ended[row] is None for row in live.rows], device=device)
            bar.advance(task, len(live.rows) - int(going.sum()))
            if not bool(going.any()):
                live = None
                continue
            if not bool(going.all()):
                keep = going.nonzero().squeeze(1)
                live.keep(keep)
                tokens = tokens[keep]
            _decode(model, live, tokens)
    return [Continuation(ids, stop or "length") for ids, stop in zip(out, ended)]
