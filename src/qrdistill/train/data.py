"""The batch order of one epoch: shuffled, mixed across styles, length-bucketed, every batch full.

>>> order = epoch_batches([e.length for e in examples], global_batch=8, seed=0, epoch=0,
...                       strata=[e.path.style for e in examples])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _interleave(strata: Sequence[str], order: list[int], rng: np.random.Generator) -> list[int]:
    """``order`` rearranged so that consecutive positions cycle through the strata (each stratum keeps
    its shuffled order; strata visited in a random order per round, larger ones spread evenly)."""
    groups: dict[str, list[int]] = {}
    for i in order:
        groups.setdefault(strata[i], []).append(i)
    # position of each item = its rank within its stratum, scaled to the stratum's size, plus jitter
    keyed = [((rank + rng.random()) / len(items), i) for items in groups.values() for rank, i in enumerate(items)]
    return [i for _, i in sorted(keyed)]


MIXED_BUCKET = 2
"""Batches per length-sorted group when the paths come from several strata: batches stay mixed."""
SORTED_BUCKET = 64
"""Batches per length-sorted group when every path is of one stratum: nothing to mix, less padding."""


def epoch_batches(lengths: Sequence[int], global_batch: int, seed: int, epoch: int, bucket_size: int | None = None,
                  strata: Sequence[str] | None = None) -> list[list[int]]:
    """Index batches for one epoch: shuffled, mixed across ``strata`` (e.g. styles), length-bucketed,
    every batch full.

    Indices are shuffled with (seed, epoch); with ``strata`` they are interleaved so that consecutive
    positions come from different strata; within groups of ``bucket_size`` batches they are sorted by
    length (less padding); batch order is shuffled again. Small groups keep each batch mixed: a group
    of 2 batches holds about 2 x global_batch consecutive, interleaved paths. The last batch is filled
    from the start of the permutation (as DistributedSampler does), so every process always gets the
    same number of examples. ``bucket_size`` None: ``MIXED_BUCKET`` with several strata, else
    ``SORTED_BUCKET``.

    >>> epoch_batches([5, 1, 9, 3], global_batch=2, seed=0, epoch=0)
    [[3, 1], [2, 0]]
    """
    if bucket_size is None:
        bucket_size = MIXED_BUCKET if strata is not None and len(set(strata)) > 1 else SORTED_BUCKET
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths)).tolist()
    if strata is not None:
        order = _interleave(strata, order, rng)
    n_batches = -(-len(order) // global_batch)
    order += order[: n_batches * global_batch - len(order)]
    group = global_batch * bucket_size
    batches = []
    for start in range(0, len(order), group):
        chunk = sorted(order[start : start + group], key=lambda i: -lengths[i])
        batches += [chunk[i : i + global_batch] for i in range(0, len(chunk), global_batch)]
    return [batches[i] for i in rng.permutation(len(batches))]
