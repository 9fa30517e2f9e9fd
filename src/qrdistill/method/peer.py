"""Cooperative peer teaching (Stage D, paper Eq. 5-8) on text-aligned span representations.

For the spans n of a batch (see ``alignment``), student s has pooled hidden states p_s[n]:

    z~_s[n]  = normalise(Proj_s(p_s[n]))                         shared d-dim space, unit norm
    gamma_js = softmax_s(w_s . sg(mean_{n in j} z~_s[n]) + b_s)    competence of s on path j (Eq. 6)
    z_ens[n] = sum_s gamma_{j(n)s} z~_s[n]                         soft ensemble (Eq. 7)
    L_align  = mean_n sum_s (1 - cos(z~_s[n], sg(z_ens[n])))       = half of ||z~_s - z_ens/|z_ens| ||^2 (Eq. 8)
    L_spread = sum_s mean_k relu(c/sqrt(d) - std_n z~_s[n, k])      no collapse to one point
    L_comp   = mean_j CE(softmax_s(-bpc_js / T), gamma_j)           competence follows who models j best
    L_mutual = L_align + L_spread + L_comp

What trains what: L_align moves each student (through its hidden states) and its projection
toward the stop-gradient ensemble; unit norm rules out collapse to zero and L_spread (a VICReg
variance hinge, zero for well-spread codes) rules out collapse of all spans to one point.
gamma gets its gradient from L_comp only: it learns to predict which student currently has the
lowest loss per character on the path (per character, so different tokenizers compare).

>>> peer = PeerTeacher(hidden_sizes=[576, 640], shared_dim=64)
>>> z = peer.project([pooled_a, pooled_b])                    # [S, N, d]
>>> logits = peer.competence_logits(z, span_path, n_paths)     # [P, S]
>>> terms = peer_losses(z, logits, span_path, nats_per_char)   # PeerLosses(align, spread, comp)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

SPREAD_FRACTION = 0.5
"""Hinge target: per-dimension std of at least half that of codes spread evenly on the sphere."""


class PeerTeacher(nn.Module):
    """Per-student projections into the shared space and per-student competence weights."""

    def __init__(self, hidden_sizes: Sequence[int], shared_dim: int) -> None:
        super().__init__()
        self.proj = nn.ModuleList(nn.Linear(h, shared_dim) for h in hidden_sizes)
        self.competence = nn.Parameter(torch.zeros(len(hidden_sizes), shared_dim))
        self.competence_bias = nn.Parameter(torch.zeros(len(hidden_sizes)))

    def project(self, pooled: Sequence[torch.Tensor]) -> torch.Tensor:
        """Unit-norm shared codes [S, N, d] from each student's pooled span states [N, H_s]."""
        return torch.stack([F.normalize(p(x.float()), dim=-1) for p, x in zip(self.proj, pooled)])

    def competence_logits(self, z: torch.Tensor, span_path: torch.Tensor, n_paths: int) -> torch.Tensor:
        """Competence logits [P, S]: w_s . (mean of s's codes over path j's spans) + b_s.

        Codes are detached: competence learns from L_comp and does not move the students.
        """
        counts = torch.zeros(n_paths, device=z.device).index_add(0, span_path, torch.ones_like(span_path, dtype=z.dtype))
        means = torch.zeros(z.shape[0], n_paths, z.shape[2], device=z.device).index_add(1, span_path, z.detach())
        means = means / counts.clamp_min(1.0)[None, :, None]
        return torch.einsum("spd,sd->ps", means, self.competence) + self.competence_bias


@dataclass
class PeerLosses:
    """The three peer-teaching terms; ``total`` is L_mutual."""

    align: torch.Tensor
    spread: torch.Tensor
    comp: torch.Tensor
    gamma: torch.Tensor
    """[P, S] competence weights used for the ensemble (detached)."""

    @property
    def total(self) -> torch.Tensor:
        return self.align + self.spread + self.comp


def align_loss(z: torch.Tensor, gamma_per_span: torch.Tensor) -> torch.Tensor:
    """sum_s mean_n (1 - cos(z[s,n], sg(z_ens[n]))), z_ens = sum_s gamma[n,s] z[s,n].

    >>> align_loss(torch.ones(2, 3, 4) / 2, torch.full((3, 2), 0.5))
    tensor(0.)
    """
    ensemble = torch.einsum("ns,snd->nd", gamma_per_span, z).detach()
    return (1.0 - F.cosine_similarity(z, ensemble[None], dim=-1)).mean(dim=1).sum()


def spread_loss(z: torch.Tensor) -> torch.Tensor:
    """sum_s mean_k relu(c / sqrt(d) - std_n z[s, n, k]): positive when codes bunch together."""
    if z.shape[1] < 2:
        return z.sum() * 0.0
    target = SPREAD_FRACTION / math.sqrt(z.shape[2])
    return F.relu(target - z.std(dim=1)).mean(dim=1).sum()


def competence_loss(logits: torch.Tensor, nats_per_char: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Cross-entropy of gamma = softmax(logits) [P,S] against softmax(-nats_per_char / T)."""
    target = F.softmax(-nats_per_char.detach() / temperature, dim=-1)
    return -(target * F.log_softmax(logits, dim=-1)).sum(dim=-1).mean()


def peer_losses(z: torch.Tensor, logits: torch.Tensor, span_path: torch.Tensor, nats_per_char: torch.Tensor) -> PeerLosses:
    """All peer terms for codes ``z`` [S,N,d], competence ``logits`` [P,S], the path of each span
    [N] and each student's loss per character on each path [P,S]."""
    gamma = F.softmax(logits, dim=-1)
    return PeerLosses(
        align=align_loss(z, gamma.detach()[span_path]),
        spread=spread_loss(z),
        comp=competence_loss(logits, nats_per_char),
        gamma=gamma.detach(),
    )
