"""The distill kernel: hand arithmetic, finite differences, an independent autograd implementation (torch, when
installed), properties, the Python twins, bad input, and both engines through the adapters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltr._shared import import_neural
from ltr.kernels import distill, get_kernel, lambdarank

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_queries(rng, n_queries=12, max_size=15):
    sizes = rng.integers(1, max_size, n_queries)
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(ptr[-1])
    return rng.normal(size=n), rng.normal(scale=2.0, size=n), rng.integers(0, 4, n).astype(np.float64), ptr


# ------------------------------------------------------------------------------------------------------------------
# By hand
# ------------------------------------------------------------------------------------------------------------------
def test_soft_targets_at_temperature_one_and_two_by_hand():
    t = [math.log(3.0), 0.0]  # softmax(t) = (3/4, 1/4)
    g, h = distill.grad_hess([0.0, 0.0], [0, 0], [0, 2], teacher=t)
    np.testing.assert_allclose(g, [0.5 - 0.75, 0.5 - 0.25], rtol=1e-15)
    np.testing.assert_allclose(h, [0.5 * 0.5, 0.5 * 0.5], rtol=1e-15)
    # T = 2: q = (sqrt 3, 1) / (sqrt 3 + 1); g = T (p - q); h = p (1 - p) whatever T (the T^2 convention)
    q0 = math.sqrt(3.0) / (math.sqrt(3.0) + 1.0)
    g, h = distill.grad_hess([0.0, 0.0], [0, 0], [0, 2], teacher=t, temperature=2.0)
    np.testing.assert_allclose(g, [2.0 * (0.5 - q0), 2.0 * (q0 - 0.5)], rtol=1e-14)
    np.testing.assert_allclose(h, [0.25, 0.25], rtol=1e-15)


def test_margin_mse_over_one_pair_by_hand():
    # s = (1, 0), t = (0, 0): one pair, margin 1 against 0: loss (1 - 0)^2, gradient +-2 (1), hessian 2.
    # The soft-target part: p = (e, 1) / (e + 1), q = (1/2, 1/2).
    p0 = math.e / (math.e + 1.0)
    g, h = distill.grad_hess([1.0, 0.0], [0, 0], [0, 2], teacher=[0.0, 0.0], margin_weight=0.5)
    np.testing.assert_allclose(g, [(p0 - 0.5) + 0.5 * 2.0, (0.5 - p0) - 0.5 * 2.0], rtol=1e-14)
    np.testing.assert_allclose(h, [p0 * (1 - p0) + 0.5 * 2.0] * 2, rtol=1e-14)


def test_margin_mse_over_pairs_with_different_labels_by_hand():
    # y = (1, 0, 0): pairs (0, 1) and (0, 2), |P| = 2; d = s - t = (0.5, 0, 0)
    # loss = (0.5^2 + 0.5^2) / 2; dL/ds0 = (2 * 0.5 + 2 * 0.5) / 2 = 1, dL/ds1 = dL/ds2 = -0.5; hessians 2, 1, 1.
    s, t, y = np.array([0.5, 0.0, 0.0]), np.zeros(3), np.array([1.0, 0.0, 0.0])
    g0, h0 = distill.grad_hess(s, y, [0, 3], teacher=t)
    g, h = distill.grad_hess(s, y, [0, 3], teacher=t, margin_weight=1.0, margin_pairs="labels")
    np.testing.assert_allclose(g - g0, [1.0, -0.5, -0.5], rtol=1e-14)
    np.testing.assert_allclose(h - h0, [2.0, 1.0, 1.0], rtol=1e-14)
    assert distill.loss(s, y, [0, 3], teacher=t, margin_weight=1.0, margin_pairs="labels") == pytest.approx(
        distill.loss(s, y, [0, 3], teacher=t) + (0.25 + 0.25) / 2, rel=1e-14)


def test_alpha_mixes_the_lambdas_with_the_teacher_terms():
    rng = np.random.default_rng(1)
    s, t, y, ptr = random_queries(rng)
    g_lam, h_lam = lambdarank.grad_hess(s, y, ptr)
    g_t, h_t = distill.grad_hess(s, y, ptr, teacher=t, temperature=1.5, margin_weight=0.3)
    g, h = distill.grad_hess(s, y, ptr, teacher=t, temperature=1.5, margin_weight=0.3, alpha=0.25)
    np.testing.assert_allclose(g, 0.25 * g_lam + 0.75 * g_t, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h, 0.25 * h_lam + 0.75 * h_t, rtol=1e-12, atol=1e-15)


def test_at_high_temperature_the_gradient_is_the_centred_score_difference_over_n():
    # Hinton et al.: with the T^2 factor, as T grows g_i -> ((s_i - t_i) - mean(s - t)) / n, independent of T.
    s, t = np.array([0.3, -0.2, 1.1, 0.0]), np.array([1.0, 0.5, -0.4, 0.2])
    d = s - t
    for temperature in (1e3, 1e4):
        g, h = distill.grad_hess(s, np.zeros(4), [0, 4], teacher=t, temperature=temperature)
        np.testing.assert_allclose(g, (d - d.mean()) / 4, rtol=5 / temperature)
        np.testing.assert_allclose(h, np.full(4, 0.25 * 0.75), rtol=5 / temperature)


# ------------------------------------------------------------------------------------------------------------------
# Finite differences and an independent implementation
# ------------------------------------------------------------------------------------------------------------------
OPTIONS = [
    pytest.param({}, id="ce"),
    pytest.param({"temperature": 0.5}, id="ce-T0.5"),
    pytest.param({"temperature": 3.0, "margin_weight": 0.7}, id="ce-margin-all-T3"),
    pytest.param({"margin_weight": 2.0, "margin_pairs": "labels"}, id="ce-margin-labels"),
]


@pytest.mark.parametrize("options", OPTIONS)
def test_gradient_and_hessian_diagonal_match_finite_differences_of_the_loss(options):
    rng = np.random.default_rng(2)
    s, t, y, ptr = random_queries(rng, n_queries=5, max_size=8)
    w = rng.uniform(0.5, 2.0, ptr.size - 1)
    g, h = distill.grad_hess(s, y, ptr, teacher=t, weight=w, **options)
    eps = 1e-4
    fd_g, fd_h = np.empty_like(s), np.empty_like(s)
    base = distill.loss(s, y, ptr, teacher=t, weight=w, **options)
    for i in range(s.size):
        e = np.zeros_like(s)
        e[i] = eps
        up = distill.loss(s + e, y, ptr, teacher=t, weight=w, **options)
        down = distill.loss(s - e, y, ptr, teacher=t, weight=w, **options)
        fd_g[i] = (up - down) / (2 * eps)
        fd_h[i] = (up - 2 * base + down) / eps**2
    np.testing.assert_allclose(g, fd_g, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(h, fd_h, rtol=1e-4, atol=1e-5)


def _torch_loss(torch, s, t, y, temperature, margin_weight, pairs):
    """One query's loss written from the definitions: T^2 CE(softmax(t/T), softmax(s/T)) + beta MarginMSE."""
    log_p = torch.log_softmax(s / temperature, dim=0)
    q = torch.softmax(t / temperature, dim=0)
    value = -(temperature**2) * (q * log_p).sum()
    if margin_weight:
        terms = []
        for i in range(len(y)):
            for j in range(i + 1, len(y)):
                if pairs == "all" or y[i] != y[j]:
                    terms.append(((s[i] - s[j]) - (t[i] - t[j])) ** 2)
        if terms:
            value = value + margin_weight * torch.stack(terms).mean()
    return value


@pytest.mark.parametrize("options", OPTIONS)
def test_gradient_and_hessian_diagonal_equal_torch_autograd(options):
    torch = import_neural("torch")
    rng = np.random.default_rng(3)
    s, t, y, ptr = random_queries(rng, n_queries=6, max_size=9)
    g, h = distill.grad_hess(s, y, ptr, teacher=t, **options)
    temperature = options.get("temperature", 1.0)
    for q in range(ptr.size - 1):
        a, e = ptr[q], ptr[q + 1]
        tt = torch.tensor(t[a:e], dtype=torch.float64)
        yq = y[a:e].tolist()

        def f(x, tt=tt, yq=yq):
            return _torch_loss(torch, x, tt, yq, temperature, options.get("margin_weight", 0.0),
                               options.get("margin_pairs", "all"))

        x = torch.tensor(s[a:e], dtype=torch.float64)
        grad = torch.autograd.functional.jacobian(f, x).numpy()
        hess = torch.autograd.functional.hessian(f, x).numpy()
        np.testing.assert_allclose(g[a:e], grad, rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(h[a:e], np.diag(hess), rtol=1e-11, atol=1e-14)
        assert distill.loss(s[a:e], y[a:e], [0, e - a], teacher=t[a:e], **options) == pytest.approx(
            float(f(x)), rel=1e-12)


# ------------------------------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------------------------------
@st.composite
def queries(draw, min_size=1, max_size=10, max_queries=4):
    sizes = draw(st.lists(st.integers(min_size, max_size), min_size=1, max_size=max_queries))
    n = sum(sizes)
    labels = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    grid = draw(st.booleans())
    score = st.sampled_from([-1.0, 0.0, 0.5, 2.0]) if grid else st.floats(-8, 8, allow_nan=False, width=32)
    scores = draw(st.lists(score, min_size=n, max_size=n))
    teacher = draw(st.lists(score, min_size=n, max_size=n))
    return (np.array(scores, dtype=np.float64), np.array(teacher, dtype=np.float64),
            np.array(labels, dtype=np.float64), np.cumsum([0, *sizes]))


TEACHER_OPTIONS = st.fixed_dictionaries({
    "temperature": st.sampled_from([0.25, 1.0, 4.0]),
    "margin_weight": st.sampled_from([0.0, 1.0]),
    "margin_pairs": st.sampled_from(["all", "labels"]),
})


@SETTINGS
@given(data=queries(), options=TEACHER_OPTIONS)
def test_teacher_gradients_sum_to_zero_per_query(data, options):
    s, t, y, ptr = data
    g, h = distill.grad_hess(s, y, ptr, teacher=t, **options)
    assert np.isfinite(g).all() and np.isfinite(h).all() and (h >= 0).all()
    scale = np.abs(g).max() + 1.0
    for q in range(ptr.size - 1):
        assert abs(g[ptr[q]:ptr[q + 1]].sum()) <= 1e-12 * scale * (ptr[q + 1] - ptr[q])


@SETTINGS
@given(data=queries(), options=TEACHER_OPTIONS)
def test_a_student_equal_to_its_teacher_gets_zero_teacher_gradients(data, options):
    s, _, y, ptr = data
    g, _ = distill.grad_hess(s, y, ptr, teacher=s.copy(), **options)
    assert not g.any()


@SETTINGS
@given(data=queries(), mode=st.sampled_from(["exact", "lightgbm", "xgboost"]), norm=st.booleans())
def test_alpha_one_is_the_lambdarank_kernel_exactly(data, mode, norm):
    s, t, y, ptr = data
    g, h = distill.grad_hess(s, y, ptr, teacher=t, alpha=1.0, mode=mode, norm=norm, temperature=3.0,
                             margin_weight=1.0)
    g_ref, h_ref = lambdarank.grad_hess(s, y, ptr, mode=mode, norm=norm)
    assert np.array_equal(g, g_ref) and np.array_equal(h, h_ref)
    g, h = distill.grad_hess(s, y, ptr, alpha=1.0, mode=mode, norm=norm)  # no teacher needed
    assert np.array_equal(g, g_ref) and np.array_equal(h, h_ref)


@SETTINGS
@given(data=queries(min_size=1, max_size=1), options=TEACHER_OPTIONS)
def test_one_document_queries_get_zero_teacher_gradients(data, options):
    s, t, y, ptr = data
    g, h = distill.grad_hess(s, y, ptr, teacher=t, **options)
    assert not g.any() and not h.any()


@SETTINGS
@given(data=queries(), options=TEACHER_OPTIONS)
def test_scoring_queries_together_equals_scoring_them_one_by_one(data, options):
    s, t, y, ptr = data
    g, h = distill.grad_hess(s, y, ptr, teacher=t, **options)
    for q in range(ptr.size - 1):
        a, e = ptr[q], ptr[q + 1]
        gq, hq = distill.grad_hess(s[a:e], y[a:e], [0, e - a], teacher=t[a:e], **options)
        assert np.array_equal(g[a:e], gq) and np.array_equal(h[a:e], hq)


def test_labels_are_not_read_with_alpha_zero_and_all_pairs():
    rng = np.random.default_rng(4)
    s, t, y, ptr = random_queries(rng)
    g1, h1 = distill.grad_hess(s, y, ptr, teacher=t, margin_weight=1.0)
    g2, h2 = distill.grad_hess(s, np.zeros_like(y), ptr, teacher=t, margin_weight=1.0)  # an unjudged query
    assert np.array_equal(g1, g2) and np.array_equal(h1, h2)
    distill.grad_hess(s, y + 0.5, ptr, teacher=t)  # fractional labels are fine without the lambdarank term


def test_row_and_query_weights_multiply_the_teacher_terms():
    rng = np.random.default_rng(5)
    s, t, y, ptr = random_queries(rng)
    wq = rng.uniform(0.5, 2.0, ptr.size - 1)
    g, h = distill.grad_hess(s, y, ptr, teacher=t, margin_weight=0.5)
    gw, hw = distill.grad_hess(s, y, ptr, teacher=t, margin_weight=0.5, weight=wq)
    w = np.repeat(wq, np.diff(ptr))
    np.testing.assert_allclose(gw, g * w, rtol=1e-15)
    np.testing.assert_allclose(hw, h * w, rtol=1e-15)
    gr, _ = distill.grad_hess(s, y, ptr, teacher=t, margin_weight=0.5, weight=w)
    assert np.array_equal(gr, gw)


def test_py_func_twins_match_the_jitted_kernels():
    rng = np.random.default_rng(6)
    s, t, y, ptr = random_queries(rng)
    for pairs in (0, 1):
        obj = distill.prepare(y, ptr, teacher=t, temperature=1.7, margin_weight=0.4,
                              margin_pairs=("all", "labels")[pairs], weight=rng.uniform(0.5, 2, ptr.size - 1))
        out = []
        for fn in (distill._grad_hess, distill._grad_hess.py_func):
            g, h = np.empty(s.size), np.empty(s.size)
            fn(s, obj.teacher, obj.labels, obj.group_ptr, obj.weight, obj.blocks, obj.max_n, obj.temperature, 0.0,
               obj.margin_weight, obj.pairs, False, g, h)
            out.append(np.concatenate([g, h]))
        np.testing.assert_allclose(out[0], out[1], rtol=1e-13, atol=1e-16)


# ------------------------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------------------------
def test_a_teacher_with_nan_names_the_row_and_its_query():
    t = np.array([0.1, 0.2, 0.3, np.nan, 0.5])
    with pytest.raises(ValueError, match=r"row 3 is nan \(query 1, document 1 of that query's rows\)"):
        distill.grad_hess(np.zeros(5), np.zeros(5), [0, 2, 5], teacher=t)
    with pytest.raises(ValueError, match="row 0 is inf"):
        distill.grad_hess(np.zeros(2), np.zeros(2), [0, 2], teacher=[np.inf, 0.0])


@pytest.mark.parametrize(("options", "match"), [
    ({}, "needs teacher= scores"),
    ({"teacher": [0.0, 1.0, 2.0]}, r"one score per row \(2\)"),
    ({"teacher": [0.0, 1.0], "temperature": 0.0}, "temperature must be a finite number > 0"),
    ({"teacher": [0.0, 1.0], "temperature": float("nan")}, "temperature"),
    ({"teacher": [0.0, 1.0], "alpha": 1.5}, r"alpha must be a number in \[0, 1\]"),
    ({"teacher": [0.0, 1.0], "margin_weight": -1.0}, "margin_weight must be a finite number >= 0"),
    ({"teacher": [0.0, 1.0], "margin_pairs": "random"}, "margin_pairs must be one of"),
    ({"teacher": [0.0, 1.0], "alpha": 0.5, "mode": "fast"}, "mode must be one of"),
])
def test_bad_options_raise_value_errors_naming_the_option(options, match):
    with pytest.raises(ValueError, match=match):
        distill.grad_hess([0.0, 1.0], [0, 1], [0, 2], **options)


def test_lambdarank_label_checks_apply_only_when_alpha_is_positive():
    with pytest.raises(ValueError, match="integer relevance labels"):
        distill.grad_hess([0.0, 1.0], [0.5, 1.0], [0, 2], teacher=[0.0, 1.0], alpha=0.5)
    with pytest.raises(ValueError, match=">= 0"):
        distill.grad_hess([0.0, 1.0], [-1.0, 1.0], [0, 2], teacher=[0.0, 1.0])


def test_loss_refuses_a_mixed_objective():
    with pytest.raises(ValueError, match="alpha=0 only"):
        distill.loss([0.0, 1.0], [0, 1], [0, 2], teacher=[0.0, 1.0], alpha=0.5)


def test_registry_entry():
    k = get_kernel("distill")
    assert k.module is distill and k.loss is distill.loss and "teacher" in k.summary


# ------------------------------------------------------------------------------------------------------------------
# Engines
# ------------------------------------------------------------------------------------------------------------------
def test_both_engines_train_with_the_kernel_and_get_its_gradients():
    import lightgbm as lgb
    import xgboost as xgb

    from ltr import make_ranking
    from ltr.objectives import lightgbm_objective, xgboost_objective

    d = make_ranking(30, (2, 20), 6, random_state=0)
    X, y, ptr = np.asarray(d.X), np.asarray(d.y), np.asarray(d.group_ptr)
    t = X @ np.arange(1.0, 7.0)  # a teacher the trees can learn
    opts = {"teacher": t, "temperature": 2.0, "alpha": 0.3, "margin_weight": 0.1}
    fobj = lightgbm_objective("distill", ptr, **opts)
    ds = lgb.Dataset(X, y, group=np.diff(ptr), free_raw_data=False)
    booster = lgb.train({"objective": fobj, "num_leaves": 7, "verbose": -1, "num_threads": 1,
                         "min_data_in_leaf": 5}, ds, 20)
    scores = booster.predict(X)
    g, h = fobj(scores, ds)
    g_ref, h_ref = distill.grad_hess(scores, y, ptr, **opts)
    assert np.array_equal(g, g_ref) and np.array_equal(h, h_ref)
    obj = xgboost_objective("distill", ptr, **opts)
    dm = xgb.DMatrix(X, y)
    dm.set_group(np.diff(ptr))
    xb = xgb.train({"base_score": 0.0, "max_depth": 3, "nthread": 1}, dm, 20, obj=obj)
    xs = xb.predict(dm, output_margin=True)
    g, _ = obj(xs, dm)
    assert np.array_equal(g, distill.grad_hess(xs.astype(np.float64), y, ptr, **opts)[0])
    # both students moved toward the teacher: the teacher loss fell from its value at zero scores
    zero = distill.loss(np.zeros_like(t), y, ptr, teacher=t, temperature=2.0)
    for student in (scores, xs.astype(np.float64)):
        assert distill.loss(student, y, ptr, teacher=t, temperature=2.0) < 0.5 * zero
