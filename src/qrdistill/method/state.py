"""Each student's learning state, as the router sees it.

Two running statistics per student s, overall and per style k (exponential moving averages):

- its loss per character ℓ (geometric mean m_s, m_{s,k}): per character so that students with
  different tokenizers are on one scale, geometric because the router works with log ratios;
- its answer gain (``reward.py``; arithmetic mean and variance μ_s, v_s, and the credit μ_{s,k}
  of each style): what paths have been worth to it lately.

    f_js = [log(ℓ_js / m_s),  log(m_{s,k(j)} / m_s),  (μ_{s,k(j)} - μ_s) / sqrt(v_s)]

The first feature says how hard this path is for s right now, the second how hard its style is,
the third how much the style has been worth to s compared with its other paths.

>>> state = StudentState(n_students=2, styles=["cot", "pot"], momentum=0.9)
>>> feats = state.features(losses, style_ids)            # losses [B, S] -> [B, S, 3]
>>> state.update(losses, style_ids, gains, known)         # gains [B, S], known: gain defined
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

N_FEATURES = 3
MIN_GAIN_STD = 0.25
"""Floor of sqrt(v_s) in nats, so that a student whose paths all gain alike is not scaled to noise."""


class StudentState(nn.Module):
    """EMA statistics per student (buffers, so they are saved with checkpoints)."""

    def __init__(self, n_students: int, styles: Sequence[str], momentum: float = 0.9) -> None:
        super().__init__()
        self.momentum = momentum
        k = len(styles)
        self.register_buffer("log_mean", torch.zeros(n_students))
        self.register_buffer("style_log_mean", torch.zeros(n_students, k))
        self.register_buffer("style_seen", torch.zeros(n_students, k, dtype=torch.bool))
        self.register_buffer("gain_mean", torch.zeros(n_students))
        self.register_buffer("gain_var", torch.ones(n_students))
        self.register_buffer("gain_seen", torch.zeros(n_students, dtype=torch.bool))
        self.register_buffer("style_gain", torch.zeros(n_students, k))
        self.register_buffer("style_gain_seen", torch.zeros(n_students, k, dtype=torch.bool))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    @property
    def gain_std(self) -> torch.Tensor:
        """[S] running standard deviation of each student's answer gain (at least MIN_GAIN_STD)."""
        return self.gain_var.sqrt().clamp_min(MIN_GAIN_STD)

    def gain_reference(self, gains: torch.Tensor, known: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ_s, σ_s) [S] a batch of gains [B, S] is compared with: the running statistics, or before a
        student's first update the batch's own mean and std of its known gains."""
        weight = known.float()
        count = weight.sum(dim=0).clamp_min(1.0)
        batch_mean = (gains * weight).sum(dim=0) / count
        batch_std = (((gains - batch_mean) ** 2 * weight).sum(dim=0) / count).sqrt().clamp_min(MIN_GAIN_STD)
        return torch.where(self.gain_seen, self.gain_mean, batch_mean), torch.where(self.gain_seen, self.gain_std, batch_std)

    def credits(self) -> torch.Tensor:
        """[S, K] running mean answer gain per student and style (NaN for a style not seen yet)."""
        return torch.where(self.style_gain_seen, self.style_gain, torch.full_like(self.style_gain, float("nan")))

    def features(self, losses: torch.Tensor, style_ids: torch.Tensor) -> torch.Tensor:
        """Router features [B, S, 3] for losses per character [B, S] of paths of styles ``style_ids`` [B].

        Before the first update, m_s is the batch's own geometric mean loss and every credit is 0."""
        logs = losses.detach().clamp_min(1e-6).log()
        log_mean = self.log_mean if self.steps > 0 else logs.mean(dim=0)
        style_log_mean = torch.where(self.style_seen, self.style_log_mean, log_mean[:, None])[:, style_ids].T
        credit = torch.where(self.style_gain_seen, self.style_gain, self.gain_mean[:, None])[:, style_ids].T
        return torch.stack([logs - log_mean, style_log_mean - log_mean, (credit - self.gain_mean) / self.gain_std], dim=-1)

    @torch.no_grad()
    def update(self, losses: torch.Tensor, style_ids: torch.Tensor, gains: torch.Tensor, known: torch.Tensor) -> None:
        """Fold a batch in: losses per character [B, S], answer gains [B, S] where ``known`` [B, S]
        (a path that never states the gold answer has no gain)."""
        logs = losses.clamp_min(1e-6).log()
        m = self.momentum if self.steps > 0 else 0.0
        self.log_mean.mul_(m).add_((1 - m) * logs.mean(dim=0))
        for style in style_ids.unique():
            rows = style_ids == style
            _blend_(self.style_log_mean[:, style], self.style_seen[:, style], logs[rows].mean(dim=0), self.momentum)
            self.style_seen[:, style] = True
        known = known.bool()
        for s in range(gains.shape[1]):
            mine = gains[known[:, s], s]
            if mine.numel() == 0:
                continue
            keep = self.momentum if bool(self.gain_seen[s]) else 0.0
            delta = mine.mean() - self.gain_mean[s]
            self.gain_mean[s] += (1 - keep) * delta
            batch_var = ((mine - self.gain_mean[s]) ** 2).mean()
            self.gain_var[s] = keep * self.gain_var[s] + (1 - keep) * batch_var if bool(self.gain_seen[s]) else batch_var
            self.gain_seen[s] = True
            for style in style_ids[known[:, s]].unique():
                rows = (style_ids == style) & known[:, s]
                seen = self.style_gain_seen[s, style : style + 1]
                _blend_(self.style_gain[s, style : style + 1], seen, gains[rows, s].mean().reshape(1), self.momentum)
                self.style_gain_seen[s, style] = True
        self.steps += 1


def _blend_(running: torch.Tensor, seen: torch.Tensor, batch: torch.Tensor, momentum: float) -> None:
    """running <- momentum * running + (1 - momentum) * batch where seen, else batch (in place)."""
    running.copy_(torch.where(seen, momentum * running + (1 - momentum) * batch, batch))
