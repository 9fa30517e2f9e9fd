"""The router: which students learn from which path (Stage C, paper Eq. 1-2, made conditional).

For path j and student s:

    logit_js = MLP([h_j ; e_style(j) ; e_student(s) ; f_js])

h_j is the frozen sentence embedding of the path text (MiniLM-L6, ``embed``), e_style and
e_student are learned embeddings and f_js is the student's current state on the path
(``state.StudentState.features``). The logits become hard gates in ``gates.py``; the router learns
from its own objective (``objective.py``), not through the gates.

>>> router = Router(text_dim=384, styles=["cot", "pot"], n_students=2, n_features=3)
>>> logits = router(text_emb, router.style_ids(["cot", "pot"]), features)     # [B, S]
"""

from __future__ import annotations

from collections.abc import Sequence

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

    @classmethod
    def seeded(cls, seed: int, text_dim: int, styles: Sequence[str], n_students: int, n_features: int, **sizes: int) -> Router:
        """A router whose initial weights follow from ``seed`` alone: the global RNG is seeded right
        before it is built (training does this, and ``bench/real/inside.py`` rebuilds the exact start
        of a trained router this way). The global RNG is left where building the router leaves it."""
        torch.manual_seed(seed)
        return cls(text_dim, styles, n_students, n_features, **sizes)

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
