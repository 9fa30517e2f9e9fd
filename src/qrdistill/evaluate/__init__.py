"""Evaluation: each student alone on held-out questions, confidence intervals, ensembles,
the comparison grid, results.json, report.md and plots.

>>> from qrdistill.evaluate import wilson_interval, majority_vote
"""

from __future__ import annotations

from qrdistill.evaluate.ensemble import choose_by_logprob, majority_vote, normalised_logprob
from qrdistill.evaluate.stats import mean_std, wilson_interval

__all__ = ["choose_by_logprob", "majority_vote", "mean_std", "normalised_logprob", "wilson_interval"]
