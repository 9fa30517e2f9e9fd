"""The router's objective: a real gradient from the students' state, plus the rate regulariser.

    c_js     = (log(l_js / m_s) - log rho)^2 - b_s        cost of sending path j to student s
    L_route  = (1/B) sum_j sum_s g_js c_js                 g = straight-through gates
    abar     = mean_js sigmoid(logit_js)                   expected gate rate
    L_rate   = -H(abar) = abar log abar + (1 - abar) log(1 - abar)

l_js is student s's current loss per character on path j (detached), m_s its running mean
and b_s the running mean of the cost (a baseline, so that the sign of c tells whether a path
suits s better or worse than usual). Paths flow to the students for which they are learnable
but not learned: near the student's current loss level (rho = 1 by default). Much lower loss
means already learned, much higher means out of reach or noisy for that student.
Minimising -H pushes abar toward 1/2: it penalises the trivial all-on / all-off routers
(the paper's "maximise the entropy"); its gradient is zero at abar = 1/2.

>>> costs = route_costs(ratio, target=1.0)
>>> loss = router_objective(gates.st, costs, state.baseline) + lambda_entropy * rate_regulariser(gates.prob)
"""

from __future__ import annotations

import math

import torch

EPS = 1e-6


def route_costs(ratio: torch.Tensor, target: float = 1.0) -> torch.Tensor:
    """Raw costs (log ratio_js - log target)^2 [B,S], detached; ratio = l_js / m_s.

    >>> route_costs(torch.tensor([[1.0, math.e]]))
    tensor([[0., 1.]])
    """
    return ((ratio.detach().clamp_min(EPS).log() - math.log(target)) ** 2).detach()


def router_objective(gates_st: torch.Tensor, costs: torch.Tensor, baseline: torch.Tensor) -> torch.Tensor:
    """L_route = (1/B) sum_j sum_s g_js (c_js - b_s)."""
    return (gates_st * (costs - baseline)).sum() / gates_st.shape[0]


def rate_entropy(prob: torch.Tensor) -> torch.Tensor:
    """H(abar) of the mean gate rate abar = mean(prob), in nats (max log 2 at abar = 1/2).

    >>> round(float(rate_entropy(torch.tensor([[0.5, 0.5]]))), 4)
    0.6931
    """
    abar = prob.mean().clamp(EPS, 1 - EPS)
    return -(abar * abar.log() + (1 - abar) * (1 - abar).log())


def rate_regulariser(prob: torch.Tensor) -> torch.Tensor:
    """L_rate = -H(abar): minimising it maximises the entropy and keeps the rate away from 0 and 1."""
    return -rate_entropy(prob)
