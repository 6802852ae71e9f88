"""Engine adapters: LightGBM and XGBoost custom objectives built from the kernels, weights, reuse, errors, and
the native objective names."""

from __future__ import annotations

import copy

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb

from ltr import make_ranking
from ltr.kernels import lambdarank, ranknet
from ltr.objectives import (
    KERNEL_ALIASES,
    KERNEL_OBJECTIVES,
    NATIVE,
    KernelObjective,
    lightgbm_objective,
    native_params,
    xgboost_objective,
)

LGB = {"num_leaves": 7, "learning_rate": 0.1, "verbose": -1, "num_threads": 1, "deterministic": True,
       "force_row_wise": True, "min_data_in_leaf": 5}
XGB = {"tree_method": "hist", "max_depth": 3, "eta": 0.1, "nthread": 1, "base_score": 0.0}


@pytest.fixture(scope="module")
def data():
    d = make_ranking(40, (2, 25), 8, random_state=3)
    return np.asarray(d.X), np.asarray(d.y), np.asarray(d.group_ptr)


def lgb_set(X, y, ptr, weight=None):
    return lgb.Dataset(X, y, group=np.diff(ptr), weight=weight, free_raw_data=False)


def xgb_set(X, y, ptr, weight=None):
    d = xgb.DMatrix(X, y, weight=weight)
    d.set_group(np.diff(ptr))
    return d


# Every objective with a kernel, except distill (it needs a per-row teacher: tests/test_kernels_distill.py trains
# both engines with it); "logistic" is the pointwise kernel's logistic loss on binary labels.
@pytest.mark.parametrize("name", [n for n in KERNEL_OBJECTIVES if n != "distill"])
def test_every_kernel_trains_with_both_engines_and_returns_the_kernels_gradients(name, data):
    X, y, ptr = data
    fixed = dict(KERNEL_ALIASES.get(name, (name, {}))[1])
    if name == "logistic":
        y = (y >= 1).astype(np.float64)
    fobj = lightgbm_objective(name, ptr)
    ds = lgb_set(X, y, ptr)
    booster = lgb.train(dict(LGB, objective=fobj), ds, 3)
    assert booster.num_trees() == 3 and fobj.n_rounds == 3
    scores = booster.predict(X)
    g, h = fobj(scores, ds)
    g_ref, h_ref = fobj.kernel.grad_hess(scores, y, ptr, **fixed)
    np.testing.assert_array_equal(g, g_ref)
    np.testing.assert_array_equal(h, h_ref)

    obj = xgboost_objective(name, ptr)
    dm = xgb_set(X, y, ptr)
    xb = xgb.train(XGB, dm, 3, obj=obj)
    assert xb.num_boosted_rounds() == 3 and obj.n_rounds == 3
    scores = xb.predict(dm, output_margin=True)
    g, _ = obj(scores, dm)
    np.testing.assert_array_equal(g, obj.kernel.grad_hess(scores.astype(np.float64), y, ptr, **fixed)[0])


def test_buffers_are_reused_and_scores_are_not_copied_for_lightgbm(data):
    X, y, ptr = data
    fobj = lightgbm_objective("lambdarank", ptr, labels=y)
    ds = lgb_set(X, y, ptr)
    preds = np.zeros(y.size)
    g1, h1 = fobj(preds, ds)
    g2, h2 = fobj(preds + 1.0, ds)
    assert g1 is g2 and h1 is h2 and g1.dtype == np.float64
    obj = xgboost_objective("lambdarank", ptr, labels=y)
    a, _ = obj(np.zeros(y.size, np.float32), xgb_set(X, y, ptr))
    b, _ = obj(np.ones(y.size, np.float32), xgb_set(X, y, ptr))
    assert a is b


def test_labels_and_weights_are_read_from_the_training_set_when_not_given(data):
    X, y, ptr = data
    w = np.random.default_rng(0).uniform(0.5, 2.0, y.size)
    s = np.random.default_rng(1).normal(size=y.size)
    g, h = lightgbm_objective("ranknet", ptr)(s, lgb_set(X, y, ptr, weight=w))
    g_ref, h_ref = ranknet.grad_hess(s, y, ptr, weight=w)
    np.testing.assert_allclose(g, g_ref, rtol=1e-6)  # LightGBM stores labels and weights as float32
    np.testing.assert_allclose(h, h_ref, rtol=1e-6)
    # XGBoost ranking weights are one per query
    wq = np.random.default_rng(2).uniform(0.5, 2.0, ptr.size - 1)
    g, _ = xgboost_objective("ranknet", ptr)(s.astype(np.float32), xgb_set(X, y, ptr, weight=wq))
    g_ref, _ = ranknet.grad_hess(s.astype(np.float32), y, ptr, weight=np.repeat(wq, np.diff(ptr)))
    np.testing.assert_allclose(g, g_ref, rtol=1e-6)


def test_explicit_weights_take_precedence_over_the_datasets(data):
    X, y, ptr = data
    s = np.linspace(-1, 1, y.size)
    g, _ = lightgbm_objective("listnet", ptr, weight=np.full(ptr.size - 1, 2.0))(
        s, lgb_set(X, y, ptr, weight=np.full(y.size, 5.0)))
    np.testing.assert_allclose(g, 2.0 * get_listnet(s, y, ptr), rtol=1e-6)


def get_listnet(s, y, ptr):
    from ltr.kernels import listnet

    return listnet.grad_hess(s, y, ptr)[0]


def test_options_reach_the_kernel(data):
    X, y, ptr = data
    s = np.random.default_rng(4).normal(size=y.size)
    fobj = lightgbm_objective("lambdarank", ptr, labels=y, sigma=2.0, truncation_level=5, mode="lightgbm")
    g, h = fobj(s, None)
    g_ref, h_ref = lambdarank.grad_hess(s, y, ptr, sigma=2.0, truncation_level=5, mode="lightgbm")
    np.testing.assert_array_equal(g, g_ref)
    np.testing.assert_array_equal(h, h_ref)


def test_n_jobs_does_not_change_results_and_restores_numbas_thread_count(data):
    import numba

    X, y, ptr = data
    s = np.random.default_rng(5).normal(size=y.size)
    before = numba.get_num_threads()
    g1 = lightgbm_objective("lambdarank", ptr, labels=y, n_jobs=1)(s, None)[0].copy()
    g2 = lightgbm_objective("lambdarank", ptr, labels=y)(s, None)[0]
    np.testing.assert_array_equal(g1, g2)
    assert numba.get_num_threads() == before


def test_deepcopy_returns_the_same_stateful_objective(data):
    _, y, ptr = data
    fobj = lightgbm_objective("lambdarank", ptr, labels=y)
    assert copy.deepcopy(fobj) is fobj and copy.copy(fobj) is fobj
    assert copy.deepcopy({"objective": fobj})["objective"] is fobj
    assert isinstance(fobj, KernelObjective) and "lambdarank" in repr(fobj)


ENGINE_RUNS = {  # kernel objective, native objective, training set, one run's scores of X
    "lightgbm": (lambda ptr: lightgbm_objective("lambdarank", ptr, mode="lightgbm"), "lambdarank", lgb_set,
                 lambda objective, train, X: lgb.train({**LGB, "objective": objective}, train, 5).predict(X)),
    "xgboost": (lambda ptr: xgboost_objective("lambdarank", ptr, mode="xgboost"), "rank:ndcg", xgb_set,
                lambda objective, train, X: (
                    xgb.train(XGB, train, 5, obj=objective) if callable(objective) else
                    xgb.train({**XGB, "objective": objective, "lambdarank_pair_method": "topk"}, train, 5)
                ).predict(xgb.DMatrix(X))),
}


@pytest.mark.parametrize("same_set", [False, True], ids=["new-training-set", "set_label"])
@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_an_objective_trained_again_on_other_labels_reads_them_as_the_native_ranker_does(engine, same_set, data):
    # the same callable in a loop over label columns: a new training set each time (or folds of the same groups),
    # or one set given set_label between runs; each run trains on its own labels, never the first run's (which it
    # kept silently before), as the engine's native ranker does
    X, y, ptr = data
    kernel, native, make_set, scores = ENGINE_RUNS[engine]
    objective, shared = kernel(ptr), make_set(X, y, ptr)
    got = []
    for labels in (y, np.ascontiguousarray(y[::-1]), y):
        if same_set:
            shared.set_label(labels)
        got.append(scores(objective, shared if same_set else make_set(X, labels, ptr), X))
    want = [scores(native, make_set(X, labels, ptr), X) for labels in (y, np.ascontiguousarray(y[::-1]))]
    for g, w in zip(got, [*want, want[0]]):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-6)
    assert np.abs(got[1] - got[0]).max() > 0.01  # the labels made a difference


def test_a_training_set_whose_labels_differ_from_the_labels_given_is_refused(data):
    X, y, ptr = data
    fobj = lightgbm_objective("lambdarank", ptr, labels=y)
    with pytest.raises(ValueError, match=r"the training set's labels differ from the labels= given .*\(row \d+: "):
        lgb.train({**LGB, "objective": fobj}, lgb_set(X, y[::-1].copy(), ptr), 2)
    assert lgb.train({**LGB, "objective": fobj}, lgb_set(X, y, ptr), 2).num_trees() == 2


def test_mismatched_training_set_and_bad_options_raise(data):
    X, y, ptr = data
    with pytest.raises(ValueError, match="scores but group_ptr covers"):
        lightgbm_objective("lambdarank", ptr)(np.zeros(y.size - 1), lgb_set(X[:-1], y[:-1], [0, y.size - 1]))
    used = lightgbm_objective("lambdarank", ptr)
    used(np.zeros(y.size), lgb_set(X, y, ptr).construct())  # LightGBM constructs the Dataset before any round
    with pytest.raises(ValueError, match="scores but group_ptr covers"):  # checked every round, not only the first
        used(np.zeros(y.size - 1), lgb_set(X[:-1], y[:-1], [0, y.size - 1]))
    other = np.array([0, y.size // 2, y.size])
    with pytest.raises(ValueError, match="query groups differ"):
        lightgbm_objective("lambdarank", other)(np.zeros(y.size), lgb_set(X, y, ptr))
    with pytest.raises(ValueError, match="query groups differ"):
        xgboost_objective("lambdarank", other)(np.zeros(y.size, np.float32), xgb_set(X, y, ptr))
    with pytest.raises(TypeError, match="unknown option"):
        lightgbm_objective("ranknet", ptr, truncation_level=3)
    with pytest.raises(ValueError, match="unknown kernel"):
        xgboost_objective("lambdamart", ptr)
    with pytest.raises(ValueError, match="labels but group_ptr"):
        lightgbm_objective("ranknet", ptr, labels=y[:-1])
    with pytest.raises(ValueError, match="integer"):  # validated at construction when labels are given
        lightgbm_objective("lambdarank", ptr, labels=y + 0.5)
    with pytest.raises(ValueError, match="n_jobs"):
        lightgbm_objective("ranknet", ptr, n_jobs=0)


@pytest.mark.parametrize(("engine", "name"), [(e, n) for e, t in NATIVE.items() for n in t])
def test_native_objective_names_are_accepted_by_the_engines(engine, name, data):
    X, y, ptr = data
    native = NATIVE[engine][name]
    if name == "logistic":  # binary relevance, as ltr.Ranker passes it (label >= 1)
        y = (y >= 1).astype(float)
    if engine == "lightgbm":
        booster = lgb.train(dict(LGB, objective=native), lgb_set(X, y, ptr), 2)
        assert booster.num_trees() == 2
    else:
        labels = (y > 1).astype(float) if native == "rank:map" else y
        params = dict(XGB, objective=native)
        if name == "logistic":  # a margin of 0 is base_score 0.5 in probability space (XGBoost < 3.2 refuses 0.0)
            params["base_score"] = 0.5
        booster = xgb.train(params, xgb_set(X, labels, ptr), 2)
        assert booster.num_boosted_rounds() == 2


def test_native_params_translate_kernel_options():
    assert native_params("lightgbm", "lambdarank", sigma=2.0, norm=False, label_gain=[0, 1, 2], mode="exact") == {
        "objective": "lambdarank", "label_gain": [0.0, 1.0, 2.0], "sigmoid": 2.0, "lambdarank_norm": False}
    assert native_params("xgboost", "lambdarank", label_gain=[0, 1, 2])["ndcg_exp_gain"] is False
    assert native_params("xgboost", "ranknet") == {"objective": "rank:pairwise"}
    with pytest.raises(ValueError, match="no sigma"):
        native_params("xgboost", "lambdarank", sigma=2.0)
    with pytest.raises(ValueError, match="only the gains"):
        native_params("xgboost", "lambdarank", label_gain=[0, 1, 5])
    with pytest.raises(ValueError, match="no native"):
        native_params("lightgbm", "listnet")
    with pytest.raises(ValueError, match="no lightgbm native counterpart"):
        native_params("lightgbm", "pointwise", loss="logistic")
    # a misspelt option is named as one, with the options there are, as the numba kernel's adapter names it
    with pytest.raises(TypeError, match=r"unknown option 'sigmaa' for objective 'lambdarank' \(did you mean "
                                        r"'sigma'\?\); with the native kernel it takes \['label_gain', 'mode', "
                                        r"'norm', 'sigma', 'truncation_level'\]"):
        native_params("lightgbm", "lambdarank", sigmaa=1.0)
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['sigmaa'\] for kernel 'lambdarank' \(did you mean "
                                        r"'sigma'\?\); it takes"):
        lightgbm_objective("lambdarank", [0, 2], sigmaa=1.0)
