"""Gates: which of the S students each path of a batch goes to (hard 0/1, at least one per path).

Learned routing samples independent per-student gates from the router's logits as hard
binary-concrete (Gumbel-sigmoid) variables, i.e. gate_js ~ Bernoulli(sigmoid(logit_js)); a path
whose gates all come out 0 goes to a student drawn uniformly at random, so every kept path reaches a
student and no student is a fixed favourite. No relaxed gate is kept: the router learns from
``objective.py``, not through the gates.

The random-routing ablation draws each path's set of students from the frequencies of the sets a
learned router realised (``pattern_gates``), so it matches the per-student rates and their overlap
while ignoring the path. Sets of students are written ``a+b`` (``pattern_key``) in logs and configs.

>>> gates = sample_gates(logits)                       # Gates(hard=..., prob=...)
>>> gates = pattern_gates(8, {(0,): 0.3, (1,): 0.2, (0, 1): 0.5}, n_students=2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch


@dataclass
class Gates:
    """Sampled gates for a batch: hard 0/1 decisions and the rate they were drawn with."""

    hard: torch.Tensor
    """[B, S] 0/1, every row has at least one 1."""
    prob: torch.Tensor
    """[B, S] sigmoid(logits): the expected gate rate, used by the rate regulariser."""


def ensure_coverage(hard: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """Turn on the highest-scoring student of every row of ``hard`` that has no 1 (callers pass
    random scores: an unclaimed path goes to a random student).

    >>> ensure_coverage(torch.tensor([[0., 0.], [1., 0.]]), torch.tensor([[0., 3.], [0., 3.]]))
    tensor([[0., 1.],
            [1., 0.]])
    """
    empty = hard.sum(dim=1) == 0
    forced = torch.zeros_like(hard).scatter(1, scores.argmax(dim=1, keepdim=True), 1.0)
    return torch.where(empty[:, None], forced, hard)


def sample_gates(logits: torch.Tensor, generator: torch.Generator | None = None) -> Gates:
    """hard_js = [logit_js + logistic noise > 0] = Bernoulli(sigmoid(logit_js)) (a hard Gumbel-sigmoid
    sample), then coverage by a random student for a row without any gate."""
    # noise drawn on the CPU generator, then moved: same gates on every device, resumable state
    u = torch.rand(logits.shape, generator=generator).to(logits.device).clamp(1e-6, 1 - 1e-6)
    hard = ((logits.detach() + torch.log(u) - torch.log1p(-u)) > 0).float()
    hard = ensure_coverage(hard, torch.rand(logits.shape, generator=generator).to(logits.device))
    return Gates(hard=hard, prob=torch.sigmoid(logits))


def fixed_gates(batch: int, n_students: int, device: torch.device | str = "cpu") -> Gates:
    """Every path to every student (no routing)."""
    ones = torch.ones(batch, n_students, device=device)
    return Gates(hard=ones, prob=ones)


def random_gates(batch: int, n_students: int, rate: float, generator: torch.Generator | None = None, device: torch.device | str = "cpu") -> Gates:
    """Bernoulli(rate) gates with coverage (a random student for an empty row): the random-routing ablation."""
    hard = (torch.rand(batch, n_students, generator=generator) < rate).float().to(device)
    hard = ensure_coverage(hard, torch.rand(batch, n_students, generator=generator).to(device))
    return Gates(hard=hard, prob=torch.full_like(hard, rate))


def pattern_gates(batch: int, patterns: Mapping[tuple[int, ...], float], n_students: int,
                  generator: torch.Generator | None = None, device: torch.device | str = "cpu") -> Gates:
    """Each path's set of students drawn from ``patterns`` (set of student indices -> frequency, e.g. the
    sets a learned router realised), whatever the path: random routing at a matched rate and overlap.

    >>> pattern_gates(4, {(0,): 1.0}, n_students=2).hard.tolist()
    [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]
    """
    sets = [tuple(p) for p in patterns if p]
    if not sets:
        raise ValueError("pattern_gates: no non-empty set of students to draw from")
    weights = torch.tensor([float(patterns[p]) for p in sets])
    masks = torch.zeros(len(sets), n_students)
    for row, members in enumerate(sets):
        masks[row, list(members)] = 1.0
    freq = weights / weights.sum()
    hard = masks[torch.multinomial(freq, batch, replacement=True, generator=generator)].to(device)
    rate = (freq @ masks).to(device)  # expected share of paths each student gets
    return Gates(hard=hard, prob=rate.expand_as(hard))


def pattern_key(members: Sequence[str]) -> str:
    """How a set of students is written in logs and configs: their names joined by ``+``.

    >>> pattern_key(["smollm2", "gemma3"])
    'smollm2+gemma3'
    """
    return "+".join(members)


def patterns_by_index(patterns: Mapping[str, float], names: Sequence[str]) -> dict[tuple[int, ...], float]:
    """``{"a+b": share}`` (``pattern_key``s of student names) -> ``{(0, 1): share}`` for ``pattern_gates``;
    a name that is not a student is an error naming the students.

    >>> patterns_by_index({"gemma3": 0.4, "smollm2+gemma3": 0.6}, ["smollm2", "gemma3"])
    {(1,): 0.4, (0, 1): 0.6}
    """
    out = {}
    for key, freq in patterns.items():
        members = key.split("+")
        unknown = [m for m in members if m not in names]
        if unknown:
            raise ValueError(f"random_patterns: {key!r} names unknown student(s) {unknown}; the students are {list(names)}")
        out[tuple(sorted(names.index(m) for m in members))] = freq
    return out
