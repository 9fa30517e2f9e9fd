"""Each student's learning state, as the router sees it.

Running geometric means (EMA of the log) of each student's loss per character, overall (m_s)
and per style (m_{s,style}), and the running mean of its routing cost (the baseline b_s).
Geometric, because the router works with log ratios and one huge loss must not move m_s far. Loss per character, not per token,
so that students with different tokenizers are on one scale.

    f_js = [log(l_js / m_s), log(m_{s,style(j)} / m_s)]      router features of path j, student s

>>> state = StudentState(n_students=2, styles=["cot", "pot"], momentum=0.9)
>>> feats, ratio = state.features(losses, style_ids)    # losses [B, S] -> [B, S, 2], [B, S]
>>> state.update(losses, style_ids, costs)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

N_FEATURES = 2


class StudentState(nn.Module):
    """EMA statistics per student (buffers, so they are saved with checkpoints)."""

    def __init__(self, n_students: int, styles: Sequence[str], momentum: float = 0.9) -> None:
        super().__init__()
        self.momentum = momentum
        self.register_buffer("log_mean", torch.zeros(n_students))
        self.register_buffer("style_log_mean", torch.zeros(n_students, len(styles)))
        self.register_buffer("style_seen", torch.zeros(n_students, len(styles), dtype=torch.bool))
        self.register_buffer("baseline", torch.zeros(n_students))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    def features(self, losses: torch.Tensor, style_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Router features [B, S, 2] and loss ratios l_js / m_s [B, S] for losses [B, S].

        Before the first update, m_s is the batch's own geometric mean loss."""
        logs = losses.detach().clamp_min(1e-6).log()
        log_mean = self.log_mean if self.steps > 0 else logs.mean(dim=0)
        style_log_mean = torch.where(self.style_seen, self.style_log_mean, log_mean[:, None])[:, style_ids].T
        log_ratio = logs - log_mean
        feats = torch.stack([log_ratio, style_log_mean - log_mean], dim=-1)
        return feats, log_ratio.exp()

    @torch.no_grad()
    def update(self, losses: torch.Tensor, style_ids: torch.Tensor, raw_costs: torch.Tensor) -> None:
        """Fold a batch of losses [B, S] and raw (pre-baseline) costs [B, S] into the running means."""
        logs = losses.clamp_min(1e-6).log()
        m = self.momentum if self.steps > 0 else 0.0
        self.log_mean.mul_(m).add_((1 - m) * logs.mean(dim=0))
        self.baseline.mul_(m).add_((1 - m) * raw_costs.mean(dim=0))
        for style in style_ids.unique():
            rows = style_ids == style
            batch_mean = logs[rows].mean(dim=0)
            seen = self.style_seen[:, style]
            blended = self.momentum * self.style_log_mean[:, style] + (1 - self.momentum) * batch_mean
            self.style_log_mean[:, style] = torch.where(seen, blended, batch_mean)
            self.style_seen[:, style] = True
        self.steps += 1
