"""The lambdarank kernel: hand-computed values, an independent pure-Python reference, finite differences of the
fixed-ranking pair loss, the ``.py_func`` twins, the three arithmetic modes, edge cases and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltr.exceptions import GroupError
from ltr.kernels import lambdarank as L

LOG2_3 = math.log2(3.0)


# ------------------------------------------------------------------------------------------------------------------
# An independent reference, written from the algorithm's description with plain Python loops
# ------------------------------------------------------------------------------------------------------------------
def reference(scores, labels, group_ptr, *, sigma=1.0, k=30, norm=True, gains=None, weight=None):
    gains = [2.0**i - 1 for i in range(31)] if gains is None else list(gains)
    scores = [float(v) for v in scores]
    labels = [int(v) for v in labels]
    grad = [0.0] * len(scores)
    hess = [0.0] * len(scores)
    for q in range(len(group_ptr) - 1):
        a, e = int(group_ptr[q]), int(group_ptr[q + 1])
        s, y = scores[a:e], labels[a:e]
        n = e - a
        rank = sorted(range(n), key=lambda i: -s[i])  # Python's sort is stable
        ideal = sorted(y, reverse=True)[:k]
        idcg = sum(gains[lab] / math.log2(2 + r) for r, lab in enumerate(ideal))
        if idcg == 0:
            continue
        best = s[rank[0]]
        worst = s[rank[-2]] if n > 1 and s[rank[-1]] == -math.inf else s[rank[-1]]
        g, h, total = [0.0] * n, [0.0] * n, 0.0
        for i in range(min(n - 1, k)):
            for j in range(i + 1, n):
                u, v = rank[i], rank[j]
                if s[u] == -math.inf or s[v] == -math.inf or y[u] == y[v]:
                    continue
                hi, lo, rh, rl = (u, v, i, j) if y[u] > y[v] else (v, u, j, i)
                d = (gains[y[hi]] - gains[y[lo]]) * abs(1 / math.log2(2 + rh) - 1 / math.log2(2 + rl)) / idcg
                if norm and best != worst:
                    d /= 0.01 + abs(s[hi] - s[lo])
                p = 1.0 / (1.0 + math.exp(sigma * (s[hi] - s[lo])))
                lam = -sigma * d * p
                g[hi] += lam
                g[lo] -= lam
                h[hi] += sigma * sigma * d * p * (1 - p)
                h[lo] += sigma * sigma * d * p * (1 - p)
                total -= 2 * lam
        factor = math.log2(1 + total) / total if norm and total > 0 else 1.0
        for i in range(n):
            w = 1.0 if weight is None else float(weight[a + i])
            grad[a + i] = g[i] * factor * w
            hess[a + i] = h[i] * factor * w
    return np.array(grad), np.array(hess)


def fixed_rank_loss(scores, labels, group_ptr, rank_scores, *, sigma=1.0, k=30):
    """sum over the lambdarank pairs of Delta_hl * log(1 + exp(-sigma (s_h - s_l))), with the pairs and Delta
    frozen at the ranking of ``rank_scores``: without ``norm``, lambdarank's gradient is this loss's gradient."""
    total = 0.0
    for q in range(len(group_ptr) - 1):
        a, e = group_ptr[q], group_ptr[q + 1]
        s, y, r0 = scores[a:e], labels[a:e].astype(int), rank_scores[a:e]
        rank = sorted(range(e - a), key=lambda i: -r0[i])
        idcg = sum((2.0**lab - 1) / math.log2(2 + r) for r, lab in enumerate(sorted(y, reverse=True)[:k]))
        if idcg == 0:
            continue
        for i in range(min(e - a - 1, k)):
            for j in range(i + 1, e - a):
                u, v = rank[i], rank[j]
                if y[u] == y[v]:
                    continue
                hi, lo = (u, v) if y[u] > y[v] else (v, u)
                d = abs(2.0 ** y[u] - 2.0 ** y[v]) * (1 / math.log2(2 + i) - 1 / math.log2(2 + j)) / idcg
                total += d * math.log1p(math.exp(-sigma * (s[hi] - s[lo])))
    return total


def random_queries(rng, n_queries=6, max_docs=12, max_label=4):
    sizes = rng.integers(1, max_docs + 1, n_queries)
    ptr = np.concatenate(([0], np.cumsum(sizes)))
    labels = rng.integers(0, max_label + 1, ptr[-1]).astype(np.float64)
    scores = rng.normal(0, 1.5, ptr[-1]).astype(np.float32).astype(np.float64)  # float32-exact (XGBoost)
    return scores, labels, ptr


# ------------------------------------------------------------------------------------------------------------------
# Hand-computed values
# ------------------------------------------------------------------------------------------------------------------
def test_three_documents_match_the_hand_computed_lambdas():
    # Ranked 0-1-2 by score; only doc 1 is relevant (gain 1, IDCG = 1). Pair (1 over 0): Delta = 1 - 1/log2(3),
    # p = 1 / (1 + e^(0.2 - 0.3)); pair (1 over 2): Delta = 1/log2(3) - 1/2, p = 1 / (1 + e^(0.2 - 0.1)).
    g, h = L.grad_hess([0.3, 0.2, 0.1], [0, 1, 0], [0, 3], norm=False)
    d10, p10 = 1 - 1 / LOG2_3, 1 / (1 + math.exp(-0.1))
    d12, p12 = 1 / LOG2_3 - 0.5, 1 / (1 + math.exp(0.1))
    np.testing.assert_allclose(g, [d10 * p10, -d10 * p10 - d12 * p12, d12 * p12], rtol=1e-13)
    np.testing.assert_allclose(h, [d10 * p10 * (1 - p10), d10 * p10 * (1 - p10) + d12 * p12 * (1 - p12),
                                   d12 * p12 * (1 - p12)], rtol=1e-13)


def test_norm_divides_by_the_score_gap_and_rescales_by_log2_one_plus_s_over_s():
    # Two documents, the relevant one ranked second: Delta = (1 - 1/log2(3)) / 1, then / (0.01 + 1).
    g, h = L.grad_hess([1.0, 0.0], [0, 1], [0, 2])
    delta = (1 - 1 / LOG2_3) / 1.01
    p = 1 / (1 + math.exp(-1.0))
    lam = delta * p
    factor = math.log2(1 + 2 * lam) / (2 * lam)
    np.testing.assert_allclose(g, [lam * factor, -lam * factor], rtol=1e-13)
    np.testing.assert_allclose(h, [delta * p * (1 - p) * factor] * 2, rtol=1e-13)


def test_sigma_scales_the_sigmoid_the_gradient_and_the_hessian():
    g, h = L.grad_hess([0.0, 0.0], [1, 0], [0, 2], sigma=2.0, norm=False)
    # equal scores: p = 1/2; Delta = 1 - 1/log2(3); lambda = -2 Delta / 2, hessian = 4 Delta / 4
    delta = 1 - 1 / LOG2_3
    np.testing.assert_allclose(g, [-delta, delta], rtol=1e-13)
    np.testing.assert_allclose(h, [delta, delta], rtol=1e-13)


def test_custom_label_gain_and_row_weights():
    g1, h1 = L.grad_hess([0.0, 0.0], [2, 0], [0, 2], label_gain=[0.0, 1.0, 10.0], norm=False)
    g2, h2 = L.grad_hess([0.0, 0.0], [2, 0], [0, 2], label_gain=[0.0, 1.0, 10.0], norm=False, weight=[3.0, 0.5])
    # The gain cancels with IDCG (10 * D_0): Delta = D_0 - D_1 whatever the gain of label 2.
    np.testing.assert_allclose(g1, [-(1 - 1 / LOG2_3) / 2, (1 - 1 / LOG2_3) / 2], rtol=1e-13)
    np.testing.assert_allclose(g2, g1 * [3.0, 0.5], rtol=1e-15)
    np.testing.assert_allclose(h2, h1 * [3.0, 0.5], rtol=1e-15)


def test_truncation_level_limits_pairs_and_the_ideal_dcg():
    # k = 1: only pairs with the top-ranked document; IDCG@1 = gain of the best label.
    s, y = [0.4, 0.3, 0.2, 0.1], [0, 1, 2, 1]
    g, _ = L.grad_hess(s, y, [0, 4], truncation_level=1, norm=False)
    gr, _ = reference(s, y, [0, 4], k=1, norm=False)
    np.testing.assert_allclose(g, gr, rtol=1e-13)
    assert g[1] != 0 and g[3] != 0  # paired with the top document
    assert L.inverse_max_dcg(y, [0, 4], truncation_level=1)[0] == pytest.approx(1 / 3)


# ------------------------------------------------------------------------------------------------------------------
# The reference, finite differences, the modes
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("norm", [True, False])
@pytest.mark.parametrize("k", [1, 3, 30])
def test_exact_mode_equals_the_reference(norm, k):
    rng = np.random.default_rng(k + 10 * norm)
    for _ in range(5):
        s, y, ptr = random_queries(rng)
        w = rng.uniform(0.5, 2.0, y.size)
        tie = rng.random(s.size) < 0.3
        s[tie] = np.round(s[tie])  # some ties
        g, h = L.grad_hess(s, y, ptr, truncation_level=k, norm=norm, weight=w, sigma=1.3)
        gr, hr = reference(s, y, ptr, k=k, norm=norm, weight=w, sigma=1.3)
        np.testing.assert_allclose(g, gr, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(h, hr, rtol=1e-10, atol=1e-14)


def test_minus_infinity_scores_take_no_part():
    s = np.array([2.0, -np.inf, 0.5, 1.0, -np.inf])
    y = np.array([0, 2, 1, 2, 0], dtype=float)
    for mode in L.MODES:
        if mode == "xgboost":
            continue  # XGBoost never produces -inf scores and does not special-case them
        g, h = L.grad_hess(s, y, [0, 5], mode=mode)
        assert g[1] == g[4] == h[1] == h[4] == 0.0
        gr, _ = reference(s, y, [0, 5])
        np.testing.assert_allclose(g, gr, rtol=1e-4, atol=1e-7)


def test_gradient_is_the_derivative_of_the_fixed_ranking_pair_loss():
    rng = np.random.default_rng(3)
    s, y, ptr = random_queries(rng, n_queries=4, max_docs=9)
    g, h = L.grad_hess(s, y, ptr, norm=False, truncation_level=4, sigma=1.5)
    eps = 1e-6  # far below the smallest score gap, so the ranking does not change
    assert np.min(np.diff(np.sort(s))) > 100 * eps
    for i in range(s.size):
        e = np.zeros(s.size)
        e[i] = eps
        fd = (fixed_rank_loss(s + e, y, ptr, s, sigma=1.5, k=4) - fixed_rank_loss(s - e, y, ptr, s, sigma=1.5, k=4))
        assert g[i] == pytest.approx(fd / (2 * eps), rel=1e-6, abs=1e-9)
        gp, _ = L.grad_hess(s + e, y, ptr, norm=False, truncation_level=4, sigma=1.5)
        gm, _ = L.grad_hess(s - e, y, ptr, norm=False, truncation_level=4, sigma=1.5)
        assert h[i] == pytest.approx((gp[i] - gm[i]) / (2 * eps), rel=1e-5, abs=1e-9)


def test_lightgbm_mode_is_the_reference_up_to_its_sigmoid_table_and_float32():
    rng = np.random.default_rng(5)
    for _ in range(5):
        s, y, ptr = random_queries(rng)
        g, h = L.grad_hess(s, y, ptr, mode="lightgbm")
        gr, hr = reference(s, y, ptr)
        # table bins are 50 / 2**20 wide: p is off by at most ~1.2e-5; float32 adds ~6e-8 relative
        np.testing.assert_allclose(g, gr, rtol=1e-3, atol=2e-5)
        np.testing.assert_allclose(h, hr, rtol=1e-3, atol=2e-5)
        assert np.array_equal(g, g.astype(np.float32)), "LightGBM's gradients are float32 values"


def test_xgboost_mode_is_the_reference_with_k32_and_a_doubled_hessian():
    rng = np.random.default_rng(6)
    for _ in range(5):
        s, y, ptr = random_queries(rng, max_docs=40)
        g, h = L.grad_hess(s, y, ptr, mode="xgboost")
        gr, hr = reference(s, y, ptr, k=32)
        np.testing.assert_allclose(g, gr, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(h, 2 * hr, rtol=1e-4, atol=1e-6)


def test_xgboost_mode_rescales_query_weights_to_average_one():
    s, y, ptr = np.array([0.5, 0.0, 1.0, 0.0]), np.array([1.0, 0, 0, 1]), np.array([0, 2, 4])
    g1, h1 = L.grad_hess(s, y, ptr, mode="xgboost")
    g2, h2 = L.grad_hess(s, y, ptr, mode="xgboost", weight=[1.0, 3.0])  # mean 2: scaled by 0.5 and 1.5
    np.testing.assert_allclose(g2, g1 * [0.5, 0.5, 1.5, 1.5], rtol=1e-6)
    np.testing.assert_allclose(h2, h1 * [0.5, 0.5, 1.5, 1.5], rtol=1e-6)


def test_sigmoid_table_is_lightgbms_layout():
    table, lo, hi, factor = L.sigmoid_table(2.0)
    assert table.size == 2**20 and lo == -12.5 and hi == 12.5 and factor == 2**20 / 25.0
    i = 123456
    assert table[i] == 1.0 / (1.0 + math.exp((i / factor + lo) * 2.0))


# ------------------------------------------------------------------------------------------------------------------
# .py_func twins
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", list(L.MODES))
def test_driver_py_func_twin_matches_the_jitted_driver(mode):
    rng = np.random.default_rng(11)
    s, y, ptr = random_queries(rng, n_queries=5, max_docs=10)
    w = rng.uniform(0.5, 2, y.size)
    out = []
    for fn in (L._grad_hess, L._grad_hess.py_func):
        obj = L.prepare(y, ptr, mode=mode, weight=w)
        sc = s.astype(np.float32).astype(np.float64) if mode == "xgboost" else s
        g, h = np.empty(y.size), np.empty(y.size)
        fn(sc, obj.labels, obj.gains, obj.group_ptr, obj.order, obj.weight, obj.inv_max_dcg, obj.discount,
           obj.blocks, obj.max_n, obj.label_gain.size, obj.mode, obj.sigma, obj.truncation_level, obj.norm,
           obj.table, obj.t_min, obj.t_max, obj.t_factor, obj.w_norm, g, h)
        out.append((g, h))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("mode", list(L.MODES))
def test_per_query_py_func_twins_match(mode):
    rng = np.random.default_rng(12)
    s, y, _ = random_queries(rng, n_queries=1, max_docs=15)
    n = s.size
    obj = L.prepare(y, [0, n], mode=mode)
    results = []
    for twin in (False, True):
        order = np.arange(n, dtype=np.int32)
        f32 = np.float32 if mode != "exact" else np.float64
        rank = [np.empty(n), np.empty(n, np.int32), np.empty(n)]  # ss, ls, gs
        acc = [np.empty(n, f32), np.empty(n, f32)]  # ga, ha
        pairs = [np.empty((5, n), np.int32), np.empty(5, np.int32), np.empty(n, np.int32), np.empty(n, np.int32),
                 np.full(obj.label_gain.size, -1, np.int32), np.empty(5, np.int32)]
        g, h = np.empty(n), np.empty(n)
        w = np.zeros(0)
        if mode == "exact":
            fn = L._query_exact.py_func if twin else L._query_exact
            fn(s, obj.labels, obj.gains, order, w, obj.inv_max_dcg[0], obj.discount, 1.0, 30, True, *rank,
               np.empty(n), *acc, *pairs, g, h)
        elif mode == "lightgbm":
            fn = L._query_lightgbm.py_func if twin else L._query_lightgbm
            fn(s, obj.labels, obj.gains, order, w, obj.inv_max_dcg[0], obj.discount, 1.0, 30, True, obj.table,
               obj.t_min, obj.t_max, obj.t_factor, *rank, *acc, *pairs, g, h)
        else:
            fn = L._query_xgboost.py_func if twin else L._query_xgboost
            fn(s, obj.labels, obj.gains, order, w, obj.inv_max_dcg[0], obj.discount, 32, True, 1.0, *rank, *acc,
               *pairs, g, h)
        results.append((g, h))
        assert (pairs[4] == -1).all()  # the label -> list map is left clean for the next query
    assert results[0][0].any()
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6, atol=1e-12)


def test_partner_lists_hold_exactly_the_later_ranks_with_another_label():
    rng = np.random.default_rng(16)
    for _ in range(20):
        n = int(rng.integers(1, 30))
        ls = rng.integers(0, 4, n).astype(np.int32)
        m, n_i = n - int(rng.integers(0, 2)), min(n, int(rng.integers(1, 10)))
        n_i = min(n_i, m)
        for fn in (L._partners, L._partners.py_func):
            partners, plen, seen = np.empty((4, n), np.int32), np.empty(4, np.int32), np.empty(4, np.int32)
            row_of, start_of, slot = np.empty(n, np.int32), np.empty(n, np.int32), np.full(4, -1, np.int32)
            fn(ls, m, n_i, partners, plen, row_of, start_of, slot, seen)
            for i in range(n_i):
                got = partners[row_of[i], start_of[i]:plen[row_of[i]]].tolist()
                assert got == [j for j in range(i + 1, m) if ls[j] != ls[i]]
            assert (slot == -1).all()


def test_sort_py_func_twin_and_equivalence_with_a_stable_sort_from_any_start():
    rng = np.random.default_rng(13)
    for n in (1, 2, 5, 40, 300):
        s = rng.integers(0, 6, n).astype(np.float64)  # many ties
        expected = np.argsort(-s, kind="stable")
        for start in (np.arange(n), rng.permutation(n), expected[::-1].copy()):
            for fn in (L._sort_desc, L._sort_desc.py_func):
                order = start.astype(np.int32)
                fn(s, order)
                np.testing.assert_array_equal(order, expected)


def test_inverse_max_dcg_py_func_twin():
    rng = np.random.default_rng(14)
    _, y, ptr = random_queries(rng)
    args = (y.astype(np.int32), ptr, L.default_label_gain(), L.discounts(20), 5)
    np.testing.assert_array_equal(L._inverse_max_dcg(*args), L._inverse_max_dcg.py_func(*args))


# ------------------------------------------------------------------------------------------------------------------
# Reuse, edge cases, bad input
# ------------------------------------------------------------------------------------------------------------------
def test_prepared_object_gives_the_same_result_whatever_the_previous_round():
    rng = np.random.default_rng(15)
    s, y, ptr = random_queries(rng, max_docs=60)
    for mode in L.MODES:
        obj = L.prepare(y, ptr, mode=mode)
        g, h = np.empty(y.size), np.empty(y.size)
        obj.compute(rng.normal(size=y.size), g, h)  # leaves another ranking in the cache
        obj.compute(s, g, h)
        g2, h2 = L.grad_hess(s, y, ptr, mode=mode)
        np.testing.assert_array_equal(g, g2)
        np.testing.assert_array_equal(h, h2)


def test_queries_without_relevant_documents_and_single_documents_get_zero_gradients():
    g, h = L.grad_hess([0.1, 0.2, 0.3, 5.0, 1.0], [0, 0, 0, 3, 1], [0, 3, 4, 5])
    assert not g.any() and not h.any()


def test_inputs_are_not_modified():
    s, y = np.array([0.3, 0.1, 0.2]), np.array([1.0, 0.0, 2.0])
    s0, y0 = s.copy(), y.copy()
    L.grad_hess(s, y, [0, 3], mode="lightgbm")
    np.testing.assert_array_equal(s, s0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize(
    ("labels", "kwargs", "match"),
    [
        ([0, -1, 2], {}, ">= 0"),
        ([0, 1.5, 2], {}, "integer"),
        ([0, 31, 2], {}, "above the gain table"),
        ([0, 3, 2], {"label_gain": [0, 1, 3]}, "above the gain table"),
        ([0, np.nan, 2], {}, "finite"),
        ([0, 1, 2], {"mode": "fast"}, "mode"),
        ([0, 1, 2], {"sigma": 0.0}, "sigma"),
        ([0, 1, 2], {"sigma": 2.0, "mode": "xgboost"}, "sigma must be 1"),
        ([0, 1, 2], {"truncation_level": 0}, "truncation_level"),
        ([0, 1, 2], {"label_gain": [0, np.inf]}, "label_gain"),
        ([0, 1, 2], {"weight": [1.0, -1.0, 1.0]}, "weights"),
        ([0, 1, 2], {"weight": [1.0, 1.0]}, "one entry per row"),
    ],
)
def test_bad_input_raises_a_clear_value_error(labels, kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.grad_hess([0.1, 0.2, 0.3], labels, [0, 3], **kwargs)


def test_bad_scores_and_groups_raise():
    with pytest.raises(ValueError, match="NaN"):
        L.grad_hess([0.1, np.nan, 0.3], [0, 1, 2], [0, 3])
    with pytest.raises(ValueError, match="shape"):
        L.grad_hess([0.1, 0.3], [0, 1, 2], [0, 3])
    with pytest.raises(GroupError):
        L.grad_hess([0.1, 0.2, 0.3], [0, 1, 2], [0, 2])
