"""The router's objective: learn which paths are useful to which student, plus the rate regulariser.

Every student runs forward on every path of the batch (peer teaching and the state need it), so
the answer gain g_js (``reward.py``) is observed for every pair, routed or not: the router is
trained with full feedback, by supervised learning of usefulness rather than by a bandit.

    t_js    = sigmoid(κ · (g_js − μ_s) / σ_s)            target: is j worth more than s's usual path?
    L_route = mean over known (j,s) of BCE(logit_js, t_js)
    abar    = mean_js sigmoid(logit_js)                  expected gate rate
    L_rate  = −H(abar) = abar log abar + (1 − abar) log(1 − abar)

μ_s and σ_s are the running mean and std of s's gains (``state.StudentState``), so the target
compares a path with what that student's paths are usually worth, whatever the task's scale;
κ (``sharpness``) sets how soft the targets are. A pair whose gain is unknown (the path never
states the gold answer) gets no router loss. Minimising −H pushes abar toward 1/2: it penalises
the trivial all-on / all-off routers (the paper's "maximise the entropy"); its gradient is zero
at abar = 1/2.

>>> targets = usefulness_targets(gains, state.gain_mean, state.gain_std, sharpness=2.0)
>>> loss = router_loss(logits, targets, known) + lambda_entropy * rate_regulariser(gates.prob)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-6


def usefulness_targets(gains: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, sharpness: float = 2.0) -> torch.Tensor:
    """t_js = sigmoid(κ (g_js − μ_s) / σ_s) for gains [B, S] and per-student mean, std [S] (detached).

    >>> usefulness_targets(torch.tensor([[1.0, 0.0]]), torch.zeros(2), torch.ones(2), sharpness=1.0)
    tensor([[0.7311, 0.5000]])
    """
    return torch.sigmoid(sharpness * (gains.detach() - mean) / std).nan_to_num(0.5)


def router_loss(logits: torch.Tensor, targets: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of the gate logits [B, S] against the targets where ``known``."""
    weight = known.float()
    per_pair = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return (per_pair * weight).sum() / weight.sum().clamp_min(1.0)


def rate_entropy(prob: torch.Tensor) -> torch.Tensor:
    """H(abar) of the mean gate rate abar = mean(prob), in nats (max log 2 at abar = 1/2).

    >>> round(float(rate_entropy(torch.tensor([[0.5, 0.5]]))), 4)
    0.6931
    """
    abar = prob.mean().clamp(EPS, 1 - EPS)
    return -(abar * abar.log() + (1 - abar) * (1 - abar).log())


def rate_regulariser(prob: torch.Tensor) -> torch.Tensor:
    """L_rate = −H(abar): minimising it maximises the entropy and keeps the rate away from 0 and 1."""
    return -rate_entropy(prob)
