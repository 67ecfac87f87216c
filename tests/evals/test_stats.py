"""The evaluation's statistics (museapp/evals/stats.py) against known values."""

import pytest

from museapp.evals.stats import mcnemar_p, paired_interval, percentile, wilson


def test_wilson_matches_the_textbook_value():
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)


@pytest.mark.parametrize(("first", "second", "p"), [
    (0, 0, 1.0),
    (2, 0, 0.5),
    (2, 1, 1.0),
    (10, 0, 2 / 1024),
    (9, 1, 22 / 1024),
])
def test_mcnemar_exact_p_values(first, second, p):
    assert mcnemar_p(first, second) == pytest.approx(p)
    assert mcnemar_p(second, first) == pytest.approx(p)


def test_the_paired_interval_holds_the_mean_and_is_reproducible():
    differences = [1] * 30 + [0] * 60 + [-1] * 10
    interval = paired_interval(differences, seed=4)
    assert interval == paired_interval(differences, seed=4)
    assert interval[0] < 0.2 < interval[1]
    assert interval[0] > 0, "thirty wins against ten losses in a hundred is a real gain"


def test_no_difference_has_a_zero_width_interval_and_none_has_no_interval():
    assert paired_interval([0] * 20) == (0.0, 0.0)
    assert paired_interval([]) is None


def test_percentiles_interpolate_like_postgresql():
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([1, 2, 3, 4], 0.95) == pytest.approx(3.85)
    assert percentile([], 0.5) is None
