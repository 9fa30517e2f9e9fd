import math

import pytest

import numpy as np

from qrdistill.evaluate.stats import Z95, mean_std, paired_difference, wilson_interval


@pytest.mark.parametrize("k,n", [(0, 20), (1, 3), (8, 10), (37, 50), (50, 50), (123, 1000)])
def test_wilson_bounds_solve_the_score_equation(k, n):
    # Wilson bounds are the p where the score test is exactly at z: (phat - p)^2 = z^2 p (1 - p) / n.
    phat = k / n
    for p in wilson_interval(k, n):
        assert (phat - p) ** 2 == pytest.approx(Z95**2 * p * (1 - p) / n, abs=1e-12)


def test_wilson_known_values_and_edges():
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(20, 20)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
    narrow, wide = wilson_interval(500, 1000), wilson_interval(5, 10)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]
    with pytest.raises(ValueError, match="correct=11, n=10"):
        wilson_interval(11, 10)


def test_mean_std_is_sample_std():
    mean, std = mean_std([0.2, 0.4, 0.9])
    assert mean == pytest.approx(0.5)
    assert std == pytest.approx(math.sqrt(((0.3**2) + (0.1**2) + (0.4**2)) / 2))
    assert mean_std([0.7]) == (0.7, 0.0)
    with pytest.raises(ValueError):
        mean_std([])


def test_paired_difference_matches_hand_computed_bootstraps():
    # one seed, per-question differences (1, 0): a resample's mean is 0 (1/4), 0.5 (1/2) or 1 (1/4),
    # so the 2.5% and 97.5% percentiles are exactly 0 and 1
    r = paired_difference([[1, 0]], [[0, 0]], resamples=20_000)
    assert (r.diff, r.lo, r.hi, r.n) == (0.5, 0.0, 1.0, 2)
    # every pair differs by +1: no resample can change the mean
    r = paired_difference(np.ones((3, 50)), np.zeros((3, 50)))
    assert (r.diff, r.lo, r.hi, r.n) == (1.0, 1.0, 1.0, 150)
    # two seeds, one always +1, one always 0: resampling questions changes nothing, resampling the
    # seeds gives means 1 (1/4), 0.5 (1/2), 0 (1/4) -> the interval spans the seed disagreement
    a = np.array([[1] * 40, [0] * 40])
    r = paired_difference(a, np.zeros((2, 40)), resamples=20_000)
    assert (r.diff, r.lo, r.hi) == (0.5, 0.0, 1.0)


def test_paired_difference_is_narrower_than_the_unpaired_view():
    # both methods get the hard half wrong and the easy half right, b loses 10 easy ones: the pairing
    # removes the shared difficulty, so the interval is tight around -10/200 and excludes 0
    rng = np.random.default_rng(1)
    a = np.tile(np.r_[np.ones(100), np.zeros(100)], (3, 1))
    b = a.copy()
    for s in range(3):
        b[s, rng.choice(100, 10, replace=False)] = 0
    r = paired_difference(a, b)
    assert r.diff == pytest.approx(0.05)
    assert 0.0 < r.lo < 0.05 < r.hi < 0.08
    with pytest.raises(ValueError, match="seeds, questions"):
        paired_difference([1, 0], [0, 0])
