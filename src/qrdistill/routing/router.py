"""The router: which students learn from which path (Stage C, paper Eq. 1-2, made conditional).

For path j and student s:

    logit_js = MLP([h_j ; e_style(j) ; e_student(s) ; f_js])

h_j is the frozen sentence embedding of the path text (MiniLM-L6, ``embed``), e_style and
e_student are learned embeddings and f_js is the student's current state on the path
(``state.StudentState.features``). Gates are independent per student (a path may go to 1..S
students) and sampled as hard binary-concrete (Gumbel-sigmoid) variables, i.e. gate_js ~
Bernoulli(sigmoid(logit_js)); a path whose gates all come out 0 goes to a student drawn uniformly at
random, so every kept path reaches a student and no student is a fixed favourite. The router learns
from its own objective (``objective.py``), not through the gates, so no relaxed gate is kept.

The random-routing ablation draws each path's set of students from the frequencies of the sets a
learned router realised (``pattern_gates``), so it matches the per-student rates and their overlap
while ignoring the path.

>>> router = Router(text_dim=384, styles=["cot", "pot"], n_students=2, n_features=3)
>>> logits = router(text_emb, style_ids, features)     # [B, S]
>>> gates = sample_gates(logits)                       # Gates(hard=..., prob=...)
>>> gates = pattern_gates(8, {(0,): 0.3, (1,): 0.2, (0, 1): 0.5}, n_students=2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn


class Router(nn.Module):
    """MLP over (path embedding, style, student, student state) -> one gate logit per student."""

    def __init__(self, text_dim: int, styles: Sequence[str], n_students: int, n_features: int, hidden: int = 128, embed_dim: int = 16) -> None:
        super().__init__()
        self.styles = list(styles)
        self.style = nn.Embedding(len(self.styles), embed_dim)
        self.student = nn.Embedding(n_students, embed_dim)
        self.mlp = nn.Sequential(
            nn.Linear(text_dim + 2 * embed_dim + n_features, hidden),
            nn.GELU(),
            nn.Linear(hidden, 1),
        )

    def style_ids(self, styles: Sequence[str]) -> torch.Tensor:
        """Indices of ``styles``; an unknown style is an error naming the known ones."""
        try:
            return torch.tensor([self.styles.index(s) for s in styles], dtype=torch.long, device=self.style.weight.device)
        except ValueError:
            unknown = sorted(set(styles) - set(self.styles))
            raise ValueError(f"router: unknown style(s) {unknown}; it was built for {self.styles}") from None

    def forward(self, text_emb: torch.Tensor, style_ids: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Gate logits [B, S] from text embeddings [B, D], style ids [B], features [B, S, F]."""
        batch, n_students, _ = features.shape
        students = self.student.weight[None].expand(batch, n_students, -1)
        path = torch.cat([text_emb, self.style(style_ids)], dim=-1)[:, None].expand(batch, n_students, -1)
        return self.mlp(torch.cat([path, students, features], dim=-1)).squeeze(-1)


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
