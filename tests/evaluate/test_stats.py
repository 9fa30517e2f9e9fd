import math

import pytest

from qrdistill.evaluate.stats import Z95, mean_std, wilson_interval


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
