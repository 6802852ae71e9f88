"""Properties every ranking kernel must have, checked with Hypothesis on random queries (with ties)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltr.kernels import lambdarank, listnet, pointwise, ranknet

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (kernel module, options): the pairwise and listwise losses, and lambdarank in each arithmetic mode
PAIRWISE = [
    pytest.param(ranknet, {}, id="ranknet"),
    pytest.param(lambdarank, {"mode": "exact"}, id="lambdarank-exact"),
    pytest.param(lambdarank, {"mode": "lightgbm"}, id="lambdarank-lightgbm"),
    pytest.param(lambdarank, {"mode": "xgboost"}, id="lambdarank-xgboost"),
    pytest.param(lambdarank, {"norm": False, "truncation_level": 2}, id="lambdarank-nonorm-k2"),
]
LISTWISE = [pytest.param(listnet, {"target": "softmax"}, id="listnet-softmax"),
            pytest.param(listnet, {"target": "gain"}, id="listnet-gain")]
ALL = [*PAIRWISE, *LISTWISE, pytest.param(pointwise, {}, id="pointwise")]


@st.composite
def queries(draw, min_size=1, max_size=10, max_queries=5):
    """(scores, labels, group_ptr): scores drawn from a small grid half of the time, so that ties occur."""
    sizes = draw(st.lists(st.integers(min_size, max_size), min_size=1, max_size=max_queries))
    n = sum(sizes)
    labels = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    grid = draw(st.booleans())
    score = st.sampled_from([-1.0, 0.0, 0.5, 2.0]) if grid else st.floats(-8, 8, allow_nan=False, width=32)
    scores = draw(st.lists(score, min_size=n, max_size=n))
    return np.array(scores, dtype=np.float64), np.array(labels, dtype=np.float64), np.cumsum([0, *sizes])


@pytest.mark.parametrize(("module", "options"), PAIRWISE)
@SETTINGS
@given(data=queries())
def test_pairwise_gradients_sum_to_zero_per_query(module, options, data):
    s, y, ptr = data
    g, _ = module.grad_hess(s, y, ptr, **options)
    scale = np.abs(g).max() + 1.0
    for q in range(ptr.size - 1):
        # float32 modes round each row's sum separately: allow a few float32 ulps of the largest gradient
        tol = 1e-5 if options.get("mode") in ("lightgbm", "xgboost") else 1e-12
        assert abs(g[ptr[q]:ptr[q + 1]].sum()) <= tol * scale


@pytest.mark.parametrize(("module", "options"), ALL)
@SETTINGS
@given(data=queries())
def test_hessians_are_non_negative_and_everything_is_finite(module, options, data):
    s, y, ptr = data
    if module is pointwise:
        y = np.minimum(y, 1.0)
    g, h = module.grad_hess(s, y, ptr, **options)
    assert np.isfinite(g).all() and np.isfinite(h).all()
    assert (h >= 0).all()


@pytest.mark.parametrize(("module", "options"), PAIRWISE + LISTWISE)
@SETTINGS
@given(data=queries(), label=st.integers(0, 4))
def test_all_equal_labels_give_zero_gradients(module, options, data, label):
    s, y, ptr = data
    g, h = module.grad_hess(s, np.full_like(y, label), ptr, **options)
    assert not g.any() and not h.any()


@pytest.mark.parametrize(("module", "options"), PAIRWISE + LISTWISE)
@SETTINGS
@given(data=queries(min_size=1, max_size=1))
def test_one_document_queries_give_zero_gradients(module, options, data):
    s, y, ptr = data
    g, h = module.grad_hess(s, y, ptr, **options)
    assert not g.any() and not h.any()


@pytest.mark.parametrize(("module", "options"), ALL)
@SETTINGS
@given(data=queries(max_queries=6))
def test_scoring_queries_together_equals_scoring_them_one_by_one(module, options, data):
    s, y, ptr = data
    if module is pointwise:
        y = np.minimum(y, 1.0)
    g, h = module.grad_hess(s, y, ptr, **options)
    for q in range(ptr.size - 1):
        a, e = ptr[q], ptr[q + 1]
        gq, hq = module.grad_hess(s[a:e], y[a:e], [0, e - a], **options)
        np.testing.assert_array_equal(g[a:e], gq)
        np.testing.assert_array_equal(h[a:e], hq)


@SETTINGS
@given(data=queries(min_size=2, max_size=40))
def test_lambdarank_modes_agree_up_to_their_documented_arithmetic(data):
    s, y, ptr = data
    s = s.astype(np.float32).astype(np.float64)
    g, h = lambdarank.grad_hess(s, y, ptr, truncation_level=32)
    g_lgb, h_lgb = lambdarank.grad_hess(s, y, ptr, mode="lightgbm", truncation_level=32)
    g_xgb, h_xgb = lambdarank.grad_hess(s, y, ptr, mode="xgboost")
    scale = np.abs(g).max() + np.abs(h).max() + 1e-300
    assert np.abs(g_lgb - g).max() <= 1e-4 * scale and np.abs(h_lgb - h).max() <= 1e-4 * scale
    # XGBoost's sigmoid is float32: for a pair far apart, p is near 1 and 1 - p keeps only p's absolute precision
    # (2^-24), far more than 1e-5 of that pair's small lambda (scores 0 and -7: 6e-5). Per pair that is at most
    # 2^-23 * delta (delta <= 1, a change of NDCG) times the normalisation factor (<= 1/ln 2), added per row.
    slack = (np.diff(ptr).max() - 1) * 2.0**-23 / np.log(2)
    assert np.abs(g_xgb - g).max() <= 1e-5 * scale + slack
    assert np.abs(h_xgb - 2 * h).max() <= 2e-5 * scale + 2 * slack


@SETTINGS
@given(data=queries(), factor=st.floats(0.1, 10))
def test_row_weights_scale_each_rows_gradient(data, factor):
    s, y, ptr = data
    w = np.linspace(0.5, 2.0, y.size) * factor
    for module in (ranknet, listnet, lambdarank):
        g, h = module.grad_hess(s, y, ptr)
        gw, hw = module.grad_hess(s, y, ptr, weight=w)
        np.testing.assert_allclose(gw, g * w, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(hw, h * w, rtol=1e-12, atol=1e-300)
