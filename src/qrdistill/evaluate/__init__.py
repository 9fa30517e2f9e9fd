"""Evaluation: each student alone on held-out questions (``grid``, ``generations``), ensembles
(``voting`` rules, ``ensemble`` rows), confidence intervals, results.json. The report is ``report/``.

>>> from qrdistill.evaluate import wilson_interval, majority_vote
"""

from __future__ import annotations

from qrdistill.evaluate.stats import mean_std, wilson_interval
from qrdistill.evaluate.voting import choose_by_logprob, majority_vote, normalised_logprob

__all__ = ["choose_by_logprob", "majority_vote", "mean_std", "normalised_logprob", "wilson_interval"]
