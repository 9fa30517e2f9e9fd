"""Accuracy statistics: Wilson 95% interval for one run, mean ± std over seeds, and the paired
difference of two methods answering the same questions with the same seeds.

>>> wilson_interval(8, 10)
(0.4901..., 0.9433...)
>>> mean_std([0.5, 0.7])
(0.6, 0.1414...)
>>> paired_difference([[1, 1, 0]], [[1, 0, 0]])       # 1 seed x 3 questions, correct 0/1
PairedDifference(diff=0.333..., lo=0.0, hi=1.0, n=3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
"""Two-sided 95% quantile of the standard normal."""


def wilson_interval(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``correct / n``.

    Unlike the normal ("Wald") interval it stays inside [0, 1] and is sane at 0/n and n/n,
    which matters for small held-out sets. ``n == 0`` gives the uninformative (0, 1).

    >>> wilson_interval(0, 20)[0]
    0.0
    """
    if n < 0 or correct < 0 or correct > n:
        raise ValueError(f"wilson_interval: need 0 <= correct <= n, got correct={correct}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0.0 for a single value).

    >>> mean_std([0.4])
    (0.4, 0.0)
    """
    if not values:
        raise ValueError("mean_std: no values")
    mean = sum(values) / len(values)
    if len(values) == 1:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var)


@dataclass(frozen=True)
class PairedDifference:
    """Mean of a - b over paired answers with its 95% bootstrap interval (fractions, not points)."""

    diff: float
    lo: float
    hi: float
    n: int
    """Paired answers: seeds x questions."""


def paired_difference(
    a: Sequence[Sequence[float]] | np.ndarray,
    b: Sequence[Sequence[float]] | np.ndarray,
    resamples: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
) -> PairedDifference:
    """Mean difference of two methods' correctness ``a``, ``b`` [seeds, questions] (same questions,
    same seed index) and its percentile interval from a two-way bootstrap: each resample draws the
    seeds and, independently, the questions with replacement, and averages a - b over that grid.

    Resampling questions covers the choice of test set, resampling seeds the training noise; the
    pairing removes the question difficulty both methods share. With one seed only questions vary.

    >>> paired_difference([[1, 0]], [[0, 0]], resamples=20_000)   # diffs 1, 0: resample means 0, .5, 1
    PairedDifference(diff=0.5, lo=0.0, hi=1.0, n=2)
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.ndim != 2 or d.size == 0:
        raise ValueError(f"paired_difference: need two equal [seeds, questions] arrays, got shapes {np.shape(a)} and {np.shape(b)}")
    seeds, questions = d.shape
    rng = np.random.default_rng(seed)
    seed_weights = np.stack([np.bincount(rng.integers(0, seeds, seeds), minlength=seeds) for _ in range(resamples)])
    question_weights = np.stack([np.bincount(rng.integers(0, questions, questions), minlength=questions) for _ in range(resamples)])
    means = np.einsum("rs,sq,rq->r", seed_weights, d, question_weights) / (seeds * questions)
    tail = (1 - level) / 2
    lo, hi = np.quantile(means, [tail, 1 - tail])
    return PairedDifference(diff=float(d.mean()), lo=float(lo), hi=float(hi), n=int(d.size))
