"""Batched greedy generation and completion scoring on CPU or GPU.

Prompts are sorted by length and cut into batches (little padding), left-padded, decoded
greedily with the KV cache, and returned in the caller's order.

>>> new_ids = greedy_generate(model, [[2, 651, 6037], [2, 9259]], pad_id=0, stop_ids=[1], max_new_tokens=32)
"""

from __future__ import annotations

import torch
from rich.progress import Progress
from transformers import GenerationConfig, PreTrainedModel

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
    config = GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=False,
        num_beams=1,
        eos_token_id=list(stop_ids),
        pad_token_id=pad_id,
        use_cache=True,
    )
    out: list[list[int]] = [[] for _ in rows]
    batches = length_batches([len(r) for r in rows], batch_size)
    with Progress(transient=True, disable=not progress) as bar, torch.inference_mode():
        task = bar.add_task("generating", total=len(rows))
        for batch in batches:
            input_ids, attention_mask = left_pad([rows[i] for i in batch], pad_id)
            device = next(model.parameters()).device
            result = model.generate(
                input_ids=input_ids.to(device),
                attention_mask=attention_mask.to(device),
                generation_config=config,
            )
            new = result[:, input_ids.shape[1] :].tolist()
            for i, ids in zip(batch, new):
                out[i] = cut_at_stop(ids, set(stop_ids))
            bar.advance(task, len(batch))
    return out
