"""Paired tests, corrections and effect sizes: hand-computed cases, SciPy on the same vectors, exact enumeration."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ltr.evaluation.significance import (
    bonferroni,
    correct,
    effect_size,
    holm,
    paired_test,
    paired_ttest,
    randomization_test,
    wilcoxon_test,
    win_tie_loss,
)

A3 = [0.6, 0.7, 0.9]
B3 = [0.5, 0.5, 0.5]  # differences .1, .2, .4


def exact_randomization_p(d):
    """Share of the 2**n sign assignments s with |mean(s * d)| >= |mean(d)| (the test's definition)."""
    d = np.asarray(d, dtype=np.float64)
    observed = abs(d.mean())
    hits = 0
    for signs in itertools.product((1.0, -1.0), repeat=d.size):
        hits += abs(np.mean(np.asarray(signs) * d)) >= observed - 1e-12
    return hits / 2 ** d.size


# -- t-test ------------------------------------------------------------------------------------------------------
def test_paired_t_matches_the_closed_form_with_two_degrees_of_freedom():
    # d = .1, .2, .4: mean 7/30, sd sqrt(0.07/3), so t = sqrt(7); with 2 df, P(|T| > t) = 1 - t / sqrt(2 + t^2).
    r = paired_ttest(A3, B3)
    assert r.statistic == pytest.approx(math.sqrt(7), rel=1e-12)
    assert r.pvalue == pytest.approx(1 - math.sqrt(7) / 3, rel=1e-12)
    assert r.n == 3


def test_paired_t_agrees_with_scipy_on_random_vectors():
    rng = np.random.default_rng(1)
    a, b = rng.random(40), rng.random(40)
    r = paired_ttest(a, b)
    ref = stats.ttest_rel(a, b)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-12)


def test_identical_systems_give_p_one_for_every_test():
    a = [0.3, 0.5, 0.7, 0.1]
    for test in ("t", "wilcoxon", "randomization"):
        r = paired_test(a, a, test)
        assert r.pvalue == 1.0 and r.statistic == 0.0


def test_constant_nonzero_difference_gives_infinite_t_and_p_zero():
    r = paired_ttest([0.6, 0.7, 0.8], [0.5, 0.6, 0.7])
    assert r.statistic == math.inf and r.pvalue == 0.0
    assert effect_size([0.5, 0.6], [0.6, 0.7]) == -math.inf


# -- Wilcoxon ----------------------------------------------------------------------------------------------------
def test_wilcoxon_all_positive_differences_is_two_over_two_to_the_n():
    r = wilcoxon_test([0.6, 0.7, 0.9, 0.8], [0.5, 0.5, 0.5, 0.5])
    assert r.statistic == 0.0 and r.pvalue == pytest.approx(2 / 16)


def test_wilcoxon_mixed_signs_hand_count():
    # d = 1, -2, 3, 4, 5: ranks 1..5, W- = 2; subsets of {1..5} summing to <= 2: {}, {1}, {2}: p = 2 * 3 / 32.
    r = wilcoxon_test([1, -2, 3, 4, 5], [0, 0, 0, 0, 0])
    assert r.statistic == 2.0
    assert r.pvalue == pytest.approx(2 * 3 / 32)


def test_wilcoxon_ties_differences_that_float_sums_make_unequal_as_exact_arithmetic_does():
    # P@10 of 30 queries: 0.7 - 0.4, 0.5 - 0.2 and 0.9 - 0.6 are three floats for one difference; the reference is
    # SciPy on the hit counts' integer differences, where the ties are exact (it gave p 0.043 against 0.062 here)
    rng = np.random.default_rng(3)
    for _ in range(20):
        hits_a, hits_b = rng.integers(0, 11, 30), rng.integers(0, 11, 30)
        got = wilcoxon_test(hits_a / 10, hits_b / 10)
        want = stats.wilcoxon(hits_a - hits_b, zero_method="wilcox")
        assert got.statistic == want.statistic  # a sum of ranks: the same for d and 10 d
        assert got.pvalue == pytest.approx(want.pvalue, rel=1e-12)
    a = [0.1, 0.0, 0.1, 0.4, 0.1, 0.0, 0.2, 0.7, 0.5, 0.3, 1.0, 0.7, 0.6, 1.0, 0.8, 0.1, 0.0, 0.9, 0.4, 0.0, 0.5, 0.4,
         0.4, 0.4, 0.3, 0.5, 0.5, 1.0, 0.7, 0.8]
    b = [0.3, 0.1, 0.0, 0.5, 0.0, 0.0, 0.1, 0.4, 0.7, 0.2, 0.9, 0.7, 0.5, 0.7, 0.6, 0.2, 0.2, 1.0, 0.5, 0.0, 0.6, 0.2,
         0.5, 0.2, 0.2, 0.2, 0.4, 0.7, 0.4, 0.6]
    hits = np.round(np.array(a) * 10).astype(int) - np.round(np.array(b) * 10).astype(int)
    assert wilcoxon_test(a, b).pvalue == pytest.approx(stats.wilcoxon(hits).pvalue, rel=1e-12)  # 0.0616, not 0.0434


def test_wilcoxon_drops_zero_differences_and_agrees_with_scipy():
    rng = np.random.default_rng(2)
    a = np.round(rng.random(60), 2)
    b = np.where(rng.random(60) < 0.2, a, np.round(rng.random(60), 2))  # about 20% ties
    r = wilcoxon_test(a, b)
    # the reference in exact arithmetic: hundredths as integers (SciPy on the float a - b ranks one difference
    # reached by two sums as two: W 436.5 there)
    ref = stats.wilcoxon(np.round(a * 100).astype(int) - np.round(b * 100).astype(int), zero_method="wilcox")
    assert r.statistic == ref.statistic and r.pvalue == pytest.approx(ref.pvalue, rel=1e-12)


# -- randomisation -------------------------------------------------------------------------------------------------
def test_randomization_three_queries_by_hand():
    # 8 sign assignments; only all-plus and all-minus reach |mean| = 7/30.
    assert randomization_test(A3, B3).pvalue == pytest.approx(2 / 8)


def test_randomization_is_exact_enumeration_when_permutations_cover_all_assignments():
    rng = np.random.default_rng(3)
    a, b = rng.random(10), rng.random(10)
    r = randomization_test(a, b, n_permutations=2 ** 10)
    assert r.pvalue == pytest.approx(exact_randomization_p(a - b), abs=1e-12)
    assert r.statistic == pytest.approx(abs(np.mean(a - b)))


def test_randomization_sampled_p_is_close_to_the_exact_one():
    rng = np.random.default_rng(4)
    a = rng.random(16)
    b = a - 0.08 + rng.normal(0, 0.2, 16)
    exact = exact_randomization_p(a - b)
    n = 20_000
    r = randomization_test(a, b, n_permutations=n, seed=7)
    sd = math.sqrt(exact * (1 - exact) / n)
    assert 0.01 < exact < 0.99
    assert abs(r.pvalue - exact) < 5 * sd + 1 / n


def test_randomization_is_reproducible_with_a_seed_and_varies_without_the_same_one():
    rng = np.random.default_rng(5)
    a, b = rng.random(30), rng.random(30)
    p1 = randomization_test(a, b, n_permutations=2000, seed=11).pvalue
    assert randomization_test(a, b, n_permutations=2000, seed=11).pvalue == p1
    others = {randomization_test(a, b, n_permutations=2000, seed=s).pvalue for s in range(5)}
    assert len(others) > 1


def test_randomization_sampled_p_is_never_zero():
    a = np.linspace(0.5, 0.9, 30)
    r = randomization_test(a, a - 0.3, n_permutations=999)
    assert r.pvalue == pytest.approx(1 / 1000)


# -- corrections ---------------------------------------------------------------------------------------------------
def test_holm_hand_computed():
    # sorted .01, .03, .04 -> 3 * .01, 2 * .03, max(.06, 1 * .04), returned in input order.
    assert holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.6]).tolist() == [1.0, 1.0]
    assert holm([0.2]).tolist() == [0.2]


def test_bonferroni_hand_computed_and_capped():
    assert bonferroni([0.01, 0.04, 0.3, 0.5]).tolist() == pytest.approx([0.04, 0.16, 1.0, 1.0])
    assert correct([0.01, 0.02], "none").tolist() == [0.01, 0.02]
    with pytest.raises(ValueError, match="unknown correction"):
        correct([0.1], "bh")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.1, 1.5])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=8), st.sampled_from([0.01, 0.05, 0.1]))
def test_holm_rejects_exactly_what_the_step_down_procedure_rejects(p, alpha):
    # Holm's procedure by its definition: walk the sorted p-values, reject H_(j) while (m - j + 1) p_(j) <= alpha
    # (the same inequality as p_(j) <= alpha / (m - j + 1), written without a division to avoid rounding ties).
    p = np.asarray(p)
    m = p.size
    rejected = np.zeros(m, dtype=bool)
    for j, i in enumerate(np.argsort(p, kind="stable")):
        if p[i] * (m - j) <= alpha:
            rejected[i] = True
        else:
            break
    adjusted = holm(p)
    assert np.array_equal(adjusted <= alpha, rejected)
    assert np.all(adjusted >= p) and np.all(adjusted <= 1.0)
    assert np.all(bonferroni(p) >= adjusted)  # Holm is never more conservative than Bonferroni


# -- effect size, win/tie/loss, bad input ----------------------------------------------------------------------------
def test_effect_size_is_mean_over_sample_sd_of_differences():
    assert effect_size(A3, B3) == pytest.approx((7 / 30) / math.sqrt(0.07 / 3), rel=1e-12)
    assert effect_size([0.1, 0.2], [0.1, 0.2]) == 0.0


def test_win_tie_loss_counts_and_tolerance():
    assert win_tie_loss([0.5, 0.2, 0.3, 0.4], [0.1, 0.2, 0.4, 0.4 + 1e-15]) == (1, 2, 1)


@pytest.mark.parametrize("test", ["t", "wilcoxon", "randomization"])
def test_fewer_than_two_queries_is_a_clear_refusal(test):
    with pytest.raises(ValueError, match="at least two queries"):
        paired_test([0.5], [0.4], test)
    with pytest.raises(ValueError, match="at least two queries"):
        paired_test([], [], test)


def test_mismatched_lengths_nan_and_unknown_test_are_refused():
    with pytest.raises(ValueError, match="one value per query"):
        paired_ttest([0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN at query position 1"):
        paired_ttest([0.1, float("nan"), 0.3], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="unknown test"):
        paired_test([0.1, 0.2], [0.2, 0.1], "sign")
    with pytest.raises(ValueError, match="n_permutations"):
        randomization_test([0.1, 0.2], [0.2, 0.1], n_permutations=0)
