"""``ltr.trees``: the ensemble record, its parsers and its scorer, checked against the engines themselves.

References: ``lightgbm.Booster.predict(raw_score=True)`` and XGBoost's ``inplace_predict(predict_type="margin")``
on models trained here on MQ2008 and the MSLR sample, with NaNs injected and rows placed exactly on thresholds
(equality is asserted with ``np.array_equal``: both engines' arithmetic is reproduced, so there is no tolerance);
hand-built stumps whose scores are written out by hand; and the node-by-node reference walk, against which the
fast kernel is checked on random trees.
"""

from __future__ import annotations

import json
import platform
import re

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from ltr._shared import import_reference, sklearn_letor, with_nans
from ltr.exceptions import ModelFormatError
from ltr.trees import (
    TreeEnsemble,
    _layout,
    _score,
    from_booster,
    from_lightgbm_text,
    from_model_text,
    from_xgboost_json,
    load,
)
from ltr.trees.xgboost_json import base_margin

MQ_TRAIN, MQ_TEST = "mq2008/Fold1/vali.txt.gz", "mq2008/Fold1/test.txt.gz"

# XGBoost 3.1's inplace_predict, the reference of the frame tests, does not take pandas 3 DataFrames (3.2 does).
_XGB_VERSION = tuple(int(p) for p in xgb.__version__.split(".")[:2])
xgboost_reads_these_frames = pytest.mark.skipif(
    _XGB_VERSION < (3, 2) and int(pd.__version__.split(".")[0]) >= 3,
    reason="XGBoost before 3.2 cannot predict on a pandas 3 DataFrame, the reference of this test")

MSLR_TRAIN, MSLR_TEST = "mslr_sample/mslr_fold1_valid_sample.txt.gz", "mslr_sample/mslr_fold1_test_sample.txt.gz"
LGB = {"objective": "lambdarank", "num_leaves": 31, "min_data_in_leaf": 5, "learning_rate": 0.1, "num_threads": 1,
       "verbose": -1, "seed": 0}




def probe_rows(model: TreeEnsemble, X, seed=0):
    """Test rows with NaNs, zeros, values below LightGBM's zero threshold, and values exactly on thresholds."""
    rng = np.random.default_rng(seed)
    X = with_nans(X, 0.05, seed)
    n = X.shape[0]
    for i in range(n):
        k = rng.integers(model.feature.size, size=3)
        f = model.feature[k]
        X[i, f[0]] = np.float32(model.threshold[k[0]])  # on the (float32-rounded) threshold
        X[i, f[1]] = np.nextafter(np.float32(model.threshold[k[1]]), np.float32(np.inf * (-1) ** i))
        X[i, f[2]] = (0.0, -0.0, 1e-38, np.nan)[i % 4]
    return X


@pytest.fixture(scope="module")
def mq2008(shared_file):
    train = sklearn_letor(shared_file(MQ_TRAIN), 46)
    test = sklearn_letor(shared_file(MQ_TEST), 46)
    return train, test[0][:200]


@pytest.fixture(scope="module")
def mslr(shared_file):
    train = sklearn_letor(shared_file(MSLR_TRAIN), 136)
    test = sklearn_letor(shared_file(MSLR_TEST), 136)
    return train, test[0][:200]


@pytest.fixture(params=["mq2008", "mslr"])
def data(request):
    return request.getfixturevalue(request.param)


def lgb_booster(train, rounds=20, nan_rate=0.05, **params):
    X, y, group = train
    return lgb.train(dict(LGB, **params), lgb.Dataset(with_nans(X, nan_rate, 1), y, group=group), rounds)


def xgb_booster(train, rounds=20, nan_rate=0.05, **params):
    X, y, group = train
    p = {"objective": "rank:ndcg", "max_depth": 6, "eta": 0.1, "nthread": 1, "tree_method": "hist", "seed": 0}
    p.update(params)
    labels = (y > 0).astype(float) if p["objective"].startswith(("binary", "reg:logistic")) else y
    dm = xgb.DMatrix(with_nans(X, nan_rate, 1), labels, group=group if p["objective"].startswith("rank") else None)
    return xgb.train(p, dm, rounds)


def lgb_margin(booster, X, n_iter=None):
    return booster.predict(X, raw_score=True, num_iteration=n_iter, num_threads=1)


def xgb_margin(booster, X, n_iter=None):
    rng = (0, n_iter) if n_iter else (0, 0)
    return booster.inplace_predict(X, iteration_range=rng, predict_type="margin").astype(np.float64)


def assert_same(model, ref, X, n_iter=None):
    want = ref(X, n_iter)
    for method in ("fast", "reference"):
        got = model.predict(X, n_iter=n_iter, method=method)
        assert got.dtype == np.float64
        assert np.array_equal(got, want), (method, np.flatnonzero(got != want)[:5], np.abs(got - want).max())
    for i in range(min(X.shape[0], 60)):  # one and two rows are walked down the trees (WALK_MAX_ROWS)
        for rows in (X[i:i + 1], X[i:i + 2]):
            got = model.predict(rows, n_iter=n_iter)
            assert np.array_equal(got, want[i:i + rows.shape[0]]), (i, got, want[i:i + rows.shape[0]])


# ------------------------------------------------------------------------------------------------------------------
# Exactly the engines' own margins on real data
# ------------------------------------------------------------------------------------------------------------------
LGB_MISSING = {
    "nan-missing-type": {},  # trained with NaNs: LightGBM's missing type NaN, both default directions
    "zero-as-missing": {"zero_as_missing": True},
    "no-missing": {"use_missing": False},
}


@pytest.mark.parametrize("missing", sorted(LGB_MISSING))
def test_lightgbm_margins_are_bit_for_bit_the_engines(data, missing):
    train, test = data
    booster = lgb_booster(train, **LGB_MISSING[missing])
    model = from_booster(booster)
    ref = lambda Z, n: lgb_margin(booster, Z, n)  # noqa: E731
    X = probe_rows(model, test)
    for Z in (X, X.astype(np.float64), np.asfortranarray(X)):
        assert_same(model, ref, Z)
        assert_same(model, ref, Z, n_iter=11)  # the best iteration
    # float64 input is compared in float64: values between float32 neighbours of a threshold must still agree
    X64 = X.astype(np.float64)
    k = np.random.default_rng(2).integers(model.feature.size, size=X64.shape[0])
    X64[np.arange(X64.shape[0]), model.feature[k]] = model.threshold[k]
    assert_same(model, ref, X64)


def test_one_leaf_trees_are_the_engines(mq2008, tmp_path):
    """Trees that found no split (a leaf size no node can meet). LightGBM then keeps one tree of one leaf and stops,
    and writes it with an empty ``leaf_weight=`` line, which its parser skips (a ranker trained on a handful of rows
    through ``ltr features`` -> ``ltr train`` -> ``ltr rerank`` was refused for it); XGBoost keeps adding such
    trees after split ones. Both engines' margins, bit for bit."""
    X, y, group = mq2008[0]
    for objective in ("lambdarank", "regression"):  # leaf 0, and the label mean (boost_from_average)
        booster = lgb.train(dict(LGB, objective=objective, min_data_in_leaf=10**6), lgb.Dataset(X, y, group=group),
                            3)
        text = booster.model_to_string()
        assert "num_leaves=1\nnum_cat=0\n" in text and "leaf_weight=\n" in text
        model = from_lightgbm_text(text)
        assert model.n_trees == 1 and model.feature.size == 0
        assert_same(model, lambda X, n, b=booster: lgb_margin(b, X, n), with_nans(mq2008[1], 0.05, 0))
        path = tmp_path / "m.txt"
        booster.save_model(str(path))
        assert np.array_equal(load(path).predict(mq2008[1]), lgb_margin(booster, mq2008[1]))

    xb = xgb_booster(mq2008[0], rounds=5)
    dm = xgb.DMatrix(X, y, group=group)
    xb = xgb.train({"objective": "rank:ndcg", "nthread": 1, "min_child_weight": 1e12}, dm, 3, xgb_model=xb)
    xmodel = from_booster(xb)
    assert xmodel.n_trees == 8 and (np.diff(xmodel.tree_ptr)[5:] == 0).all()  # three trees of one leaf each
    assert_same(xmodel, lambda X, n: xgb_margin(xb, X, n), probe_rows(xmodel, mq2008[1]))


def test_lightgbm_missing_types_are_all_exercised(mq2008):
    types = {name: set(from_booster(lgb_booster(mq2008[0], rounds=10, **p)).missing_type.tolist())
             for name, p in LGB_MISSING.items()}
    assert types == {"nan-missing-type": {2}, "zero-as-missing": {1}, "no-missing": {0}}
    nan_model = from_booster(lgb_booster(mq2008[0], rounds=10))
    assert set(nan_model.default_left.tolist()) == {False, True}
    assert np.isinf(nan_model.threshold).any()  # "missing vs the rest" splits: threshold inf (see the flag column)


def test_n_iter_zero_is_every_round_as_lightgbm_reads_its_best_iteration_without_early_stopping(mq2008):
    booster = lgb_booster(mq2008[0], rounds=6)
    assert booster.best_iteration == 0  # no early stopping
    model = from_booster(booster)
    X = probe_rows(model, mq2008[1])
    assert np.array_equal(model.predict(X, n_iter=booster.best_iteration), lgb_margin(booster, X, 0))
    assert np.array_equal(model.predict(X, n_iter=0), model.predict(X))
    assert np.array_equal(model.predict(X, n_iter=-1), lgb_margin(booster, X, -1))  # LightGBM: <= 0 is all
    with pytest.raises(ValueError, match="n_iter must be an integer or None, got 1.5"):
        model.predict(X, n_iter=1.5)


def test_lightgbm_integer_input_is_read_as_float32_like_the_engine(mq2008):
    booster = lgb_booster(mq2008[0], rounds=10, nan_rate=0.0)
    X = (mq2008[1] * 3).astype(np.int64)
    assert np.array_equal(from_booster(booster).predict(X), lgb_margin(booster, X))


XGB_KINDS = {
    "ndcg-depth6": {},
    "pairwise-depth8": {"objective": "rank:pairwise", "max_depth": 8},  # up to 256 leaves: several bit words
    "lossguide-255-leaves": {"objective": "rank:pairwise", "grow_policy": "lossguide", "max_leaves": 255,
                             "max_depth": 0, "rounds": 8},
}


@pytest.mark.parametrize("kind", sorted(XGB_KINDS))
def test_xgboost_margins_are_bit_for_bit_the_engines(data, kind):
    train, test = data
    booster = xgb_booster(train, **XGB_KINDS[kind])
    model = from_booster(booster)
    ref = lambda Z, n: xgb_margin(booster, Z, n)  # noqa: E731
    X = probe_rows(model, test)
    for Z in (X, X.astype(np.float64)):
        assert_same(model, ref, Z)
        assert_same(model, ref, Z, n_iter=7)
    # float64 values that round to a float32 threshold from either side (XGBoost casts before comparing)
    X64 = X.astype(np.float64)
    k = np.random.default_rng(3).integers(model.feature.size, size=X64.shape[0])
    X64[np.arange(X64.shape[0]), model.feature[k]] = model.threshold[k] * (1 + 1e-9 * (-1) ** np.arange(k.size))
    assert_same(model, ref, X64)


@pytest.mark.parametrize(("objective", "params"), [
    ("binary:logistic", {}),  # estimated base_score in probability space, logit link
    ("reg:logistic", {"base_score": 0.3}),
    ("count:poisson", {"base_score": 1.7}),  # log link
    ("reg:squarederror", {"base_score": 0.3}),  # identity
    ("rank:ndcg", {"base_score": 0.25}),
])
def test_xgboost_base_score_becomes_the_engines_starting_margin(mq2008, objective, params):
    booster = xgb_booster(mq2008[0], rounds=5, objective=objective, **params)
    stored = json.loads(booster.save_raw("json"))["learner"]["learner_model_param"]["base_score"]
    # XGBoost >= 3.1 stores a vector in output space, earlier versions a scalar string: both are read
    assert stored.startswith("[") is (_XGB_VERSION >= (3, 1))
    model = from_booster(booster)
    X = probe_rows(model, mq2008[1])
    assert_same(model, lambda Z, n: xgb_margin(booster, Z, n), X)
    # n_iter=0 is every round, as XGBoost's iteration_range=(0, 0) (and LightGBM's num_iteration=0) reads it
    assert np.array_equal(model.predict(X[:3], n_iter=0),
                          booster.inplace_predict(X[:3], iteration_range=(0, 0), predict_type="margin"))


def test_xgboost_old_scalar_base_score_string_is_read():
    assert float(base_margin(float("5E-1"), "rank:pairwise")) == 0.5
    # logit(0.25) in float32: -logf(1/0.25 - 1) = -log(3)
    assert base_margin(0.25, "binary:logistic") == -np.float32(np.log(np.float32(3.0)))
    assert base_margin(0.0, "binary:logistic") == -np.float32(np.log(np.float32(1.0) / np.float32(1e-6) - 1))


@pytest.mark.parametrize("text", ["2_5E-1", "[2_5E-1]", "0.2_5", " 0.5", ".25", "+0.25", "[\u0665E-1]"])
def test_xgboost_base_score_text_xgboost_would_read_otherwise_is_refused(text):
    """Python's float() read '2_5E-1' as 2.5 where XGBoost reads 2: ltr.trees scored every row 0.5 above the engine,
    silently (trial t50/trees); other forms XGBoost refuses were taken too. A base score as XGBoost writes it is
    read: '5E-1', '[5E-1]', '0.5'."""
    X = np.random.default_rng(0).normal(size=(40, 3))
    booster = xgb.train({"objective": "reg:squarederror", "base_score": 0.5}, xgb.DMatrix(X, label=X[:, 0]), 2)
    doc = json.loads(booster.save_raw("json"))
    for good in ("5E-1", "[5E-1]", "0.5"):
        doc["learner"]["learner_model_param"]["base_score"] = good
        assert from_model_text(json.dumps(doc)).base_score == 0.5
    doc["learner"]["learner_model_param"]["base_score"] = text
    with pytest.raises(ModelFormatError, match=re.escape(f"base_score: is not a number as XGBoost writes one: "
                                                         f"{text!r}")):
        from_model_text(json.dumps(doc))


def test_ubjson_bytes_are_read_by_from_model_text():
    """Booster.save_raw() gives UBJSON by default: from_model_text refused it, advising ltr.trees.load, said to go
    through XGBoost, which the toolkit's own UBJSON reader has replaced (trial t50/trees)."""
    X = np.random.default_rng(0).normal(size=(50, 3))
    booster = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(X, label=X[:, 0]), 3)
    got = from_model_text(booster.save_raw())
    assert np.array_equal(got.predict(X).astype(np.float32), booster.predict(xgb.DMatrix(X), output_margin=True))


def test_lightgbm_numbers_in_other_scripts_digits_are_refused():
    """'\u0661.\u0665' (Arabic-Indic 1.5) was read as 1.5 where LightGBM stops ('no conversion to double')."""
    X = np.random.default_rng(0).normal(size=(60, 3))
    text = lgb.train({"verbose": -1, "num_leaves": 2}, lgb.Dataset(X, X[:, 0]), 1).model_to_string()
    line = next(ln for ln in text.splitlines() if ln.startswith("leaf_value="))
    first = line.split("=")[1].split(" ")[0]
    with pytest.raises(ModelFormatError, match="leaf_value must be numbers separated by single spaces"):
        from_model_text(text.replace(line, line.replace(first, "\u0661.\u0665", 1)))


@pytest.mark.slow  # compiles the parallel kernel (about 10 s on a cold Numba cache)
def test_parallel_scoring_equals_one_thread(mslr):
    booster = lgb_booster(mslr[0], rounds=20)
    model = from_booster(booster)
    X = probe_rows(model, np.vstack([mslr[1]] * 3))
    assert np.array_equal(model.predict(X, n_jobs=2), model.predict(X))
    assert np.array_equal(model.predict(X, n_jobs=-1), lgb_margin(booster, X))


def test_model_files_and_wrappers_load(mq2008, tmp_path):
    X = mq2008[1]
    lgb_b = lgb_booster(mq2008[0], rounds=5)
    xgb_b = xgb_booster(mq2008[0], rounds=5)
    lgb_b.save_model(tmp_path / "m.txt")
    xgb_b.save_model(tmp_path / "m.json")
    assert np.array_equal(load(tmp_path / "m.txt").predict(X), lgb_margin(lgb_b, X))
    assert np.array_equal(load(tmp_path / "m.json").predict(X), xgb_margin(xgb_b, X))
    assert load(tmp_path / "m.txt").source == str(tmp_path / "m.txt")
    ranker = lgb.LGBMRanker(n_estimators=3, num_leaves=7, verbose=-1, n_jobs=1)
    ranker.fit(mq2008[0][0], mq2008[0][1], group=mq2008[0][2])
    assert np.array_equal(from_booster(ranker).predict(X), ranker.predict(X, raw_score=True))
    xr = xgb.XGBRanker(n_estimators=3, max_depth=3, n_jobs=1)
    xr.fit(mq2008[0][0], mq2008[0][1], group=mq2008[0][2])
    assert np.array_equal(from_booster(xr).predict(X), xgb_margin(xr.get_booster(), X))
    with pytest.raises(ModelFormatError, match="neither LightGBM"):
        from_model_text("hello", source="x.bin")
    with pytest.raises(ModelFormatError, match="cannot read"):
        load(tmp_path / "missing.txt")
    with pytest.raises(TypeError, match="booster"):
        from_booster(object())


# ------------------------------------------------------------------------------------------------------------------
# Hand-computed stumps: each engine's rule, written out
# ------------------------------------------------------------------------------------------------------------------
def lgb_stump(threshold=0.5, default_left=True, missing_type=0):
    return TreeEnsemble(engine="lightgbm", n_features=1, tree_ptr=[0, 1], leaf_ptr=[0, 2], feature=[0],
                        threshold=[threshold], left=[-1], right=[-2], default_left=[default_left],
                        missing_type=[missing_type], leaf_value=[-1.0, 2.0])


NAN, TINY = np.nan, 1e-36  # TINY is below LightGBM's zero threshold 1e-35


@pytest.mark.parametrize(("stump", "x", "want"), [
    # missing type None: NaN and tiny values read as 0; x <= 0.5 goes left (-1), else right (2)
    (lgb_stump(), [0.5, 0.5000001, NAN, TINY, -np.inf, np.inf], [-1, 2, -1, -1, -1, 2]),
    # missing type Zero, default right: 0, tiny and NaN go right whatever the threshold says
    (lgb_stump(default_left=False, missing_type=1), [0.0, -0.0, TINY, NAN, 0.25, 0.75], [2, 2, 2, 2, -1, 2]),
    # missing type Zero, default left, threshold below zero: 0 still goes left
    (lgb_stump(-0.5, True, 1), [0.0, NAN, -0.25, -0.75], [-1, -1, 2, -1]),
    # missing type NaN, default right: NaN right; 0 and tiny compare as 0
    (lgb_stump(default_left=False, missing_type=2), [NAN, 0.0, TINY, 0.75], [2, -1, -1, 2]),
    # threshold +inf (LightGBM's "missing vs the rest" split): present values left, NaN right, inf itself left
    (lgb_stump(np.inf, False, 2), [NAN, 1e30, np.inf, -np.inf], [2, -1, -1, -1]),
    (lgb_stump(np.inf, False, 1), [NAN, 0.0, 1e30, np.inf], [2, 2, -1, -1]),
])
def test_lightgbm_stumps_follow_the_engines_rule(stump, x, want):
    X = np.array(x, dtype=np.float64)[:, None]
    for Z in (X, X.astype(np.float32)):
        assert stump.predict(Z).tolist() == want
        assert stump.predict(Z, method="reference").tolist() == want


def test_lightgbm_float32_input_is_compared_after_widening():
    # threshold between two float32 neighbours: the upper one goes right, the lower one left (float64 compare)
    lo = np.float32(0.1)
    hi = np.nextafter(lo, np.float32(1))
    stump = lgb_stump(threshold=(float(lo) + float(hi)) / 2)
    assert stump.predict(np.array([[lo], [hi]], dtype=np.float32)).tolist() == [-1, 2]


def xgb_stump(threshold=0.5, default_left=True, base=0.0):
    return TreeEnsemble(engine="xgboost", n_features=1, tree_ptr=[0, 1], leaf_ptr=[0, 2], feature=[0],
                        threshold=[threshold], left=[-1], right=[-2], default_left=[default_left], missing_type=[2],
                        leaf_value=[-1.0, 2.0], base_score=base)


def test_xgboost_stumps_compare_in_float32_with_less_than():
    below = float(np.nextafter(np.float32(0.5), np.float32(0)))
    X = np.array([[0.5], [below], [0.49999999999], [0.5000000001], [NAN]])  # float64 input, cast to float32
    # 0.49999999999 rounds to float32 0.5, so it goes right like 0.5 itself
    assert xgb_stump().predict(X).tolist() == [2, -1, 2, 2, -1]
    assert xgb_stump(default_left=False, base=0.5).predict(X).tolist() == [2.5, -0.5, 2.5, 2.5, 2.5]


def test_xgboost_sums_in_float32_from_the_base_score():
    # 1e8 + 3 is not a float32: a float32 sum rounds it away, a float64 sum would not
    model = TreeEnsemble(engine="xgboost", n_features=1, tree_ptr=[0, 0], leaf_ptr=[0, 1], feature=[],
                         threshold=[], left=[], right=[], default_left=[], missing_type=[], leaf_value=[3.0],
                         base_score=1e8)
    assert model.predict(np.zeros((1, 1))).tolist() == [float(np.float32(1e8) + np.float32(3.0))] == [1e8]


def chain_tree(n_leaves, engine="lightgbm"):
    """A right-leaning chain: node i sends x <= i left to leaf i, else on; the last node's right is the last leaf."""
    n = n_leaves - 1
    left = [-(i + 1) for i in range(n)]
    right = [i + 1 for i in range(n - 1)] + [-n_leaves]
    return TreeEnsemble(engine=engine, n_features=1, tree_ptr=[0, n], leaf_ptr=[0, n_leaves], feature=[0] * n,
                        threshold=[i + 0.5 for i in range(n)], left=left, right=right, default_left=[True] * n,
                        missing_type=[2] * n, leaf_value=[float(i) for i in range(n_leaves)])


@pytest.mark.parametrize("n_leaves", [2, 3, 31, 32, 33, 64, 65, 100, 255, 256, 257, 300, 1025])
def test_deep_trees_find_their_leaf_whatever_the_width_of_their_leaf_codes(n_leaves):
    model = chain_tree(n_leaves)
    X = np.arange(-1, n_leaves + 1, dtype=np.float32)[:, None]
    want = np.clip(np.arange(-1, n_leaves + 1), 0, n_leaves - 1)  # x <= i + 0.5 first at i = x
    assert model.predict(X).tolist() == want.tolist()
    assert model.predict(X, method="reference").tolist() == want.tolist()


def test_an_ensemble_without_trees_or_rows_predicts_the_base():
    empty = TreeEnsemble(engine="xgboost", n_features=2, tree_ptr=[0], leaf_ptr=[0], feature=[], threshold=[],
                         left=[], right=[], default_left=[], missing_type=[], leaf_value=[], base_score=0.5)
    assert empty.predict(np.ones((3, 2))).tolist() == [0.5] * 3
    assert empty.predict(np.ones((1, 2))).tolist() == [0.5]  # walked
    assert chain_tree(5).predict(np.empty((0, 1))).shape == (0,)


# ------------------------------------------------------------------------------------------------------------------
# The fast kernel against the reference walk on random trees
# ------------------------------------------------------------------------------------------------------------------
def grow_tree(rng, n_leaves):
    """A random tree's ``left`` and ``right`` child lists (a split node's number, or ``~i`` for leaf ``i``), grown
    from one leaf by splitting a random leaf ``n_leaves - 1`` times."""
    left, right = [], []
    slots = [None]  # where each current leaf hangs: (node, side), None = the root
    for node in range(n_leaves - 1):
        parent = slots.pop(int(rng.integers(len(slots))))
        if parent is not None:
            (left if parent[1] == 0 else right)[parent[0]] = node
        left.append(None)
        right.append(None)
        slots += [(node, 0), (node, 1)]
    for i, (node, side) in enumerate(s for s in slots if s is not None):
        (left if side == 0 else right)[node] = ~i
    return left, right


@st.composite
def ensembles(draw):
    engine = draw(st.sampled_from(["lightgbm", "xgboost"]))
    n_features = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_trees = draw(st.integers(0, 6))
    parts = {k: [] for k in ("feature", "threshold", "left", "right", "default_left", "missing_type", "leaf_value")}
    tree_ptr, leaf_ptr = [0], [0]
    for _ in range(n_trees):
        n_leaves = int(rng.integers(1, 80))
        left, right = grow_tree(rng, n_leaves)
        k = n_leaves - 1
        parts["feature"] += rng.integers(n_features, size=k).tolist()
        parts["threshold"] += np.float32(rng.choice([-1.0, 0.0, 0.25, 0.5, 1.0, np.inf], size=k)).tolist() \
            if engine == "lightgbm" else np.float32(rng.choice([-1.0, 0.0, 0.25, 0.5, 1.0], size=k)).tolist()
        parts["left"] += left
        parts["right"] += right
        parts["default_left"] += rng.integers(2, size=k).astype(bool).tolist()
        parts["missing_type"] += (rng.integers(3, size=k) if engine == "lightgbm" else np.full(k, 2)).tolist()
        parts["leaf_value"] += np.float32(rng.normal(size=n_leaves)).astype(np.float64).tolist()
        tree_ptr.append(tree_ptr[-1] + k)
        leaf_ptr.append(leaf_ptr[-1] + n_leaves)
    base = float(np.float32(rng.normal())) if engine == "xgboost" else 0.0
    model = TreeEnsemble(engine=engine, n_features=n_features, tree_ptr=tree_ptr, leaf_ptr=leaf_ptr,
                         base_score=base, **parts)
    values = np.array([np.nan, 0.0, -0.0, 1e-36, 0.25, 0.5, np.nextafter(0.5, 1), 1.0, -1.0, 3.0, np.inf, -np.inf])
    X = rng.choice(values, size=(int(rng.integers(0, 70)), n_features))
    return model, X


@settings(max_examples=60, deadline=None)
@given(ensembles())
def test_fast_kernel_equals_the_reference_walk(case):
    model, X = case
    for Z in (X, X.astype(np.float32)):
        want = model.predict(Z, method="reference")
        assert np.array_equal(model.predict(Z), want)
        for i in range(min(Z.shape[0], 8)):  # walked: one row, two rows
            assert np.array_equal(model.predict(Z[i:i + 1]), want[i:i + 1])
            assert np.array_equal(model.predict(Z[i:i + 2]), want[i:i + 2])
        if model.n_trees:
            assert np.array_equal(model.predict(Z, n_iter=1), model.predict(Z, n_iter=1, method="reference"))


def test_kernels_equal_their_python_twins():
    model = chain_tree(40)
    X = np.array([[-1.0], [0.5], [7.0], [np.nan], [39.0], [100.0]])
    out_jit, out_py = np.empty(6), np.empty(6)
    args = (model.tree_ptr, model.leaf_ptr, model.feature, model.threshold, model.left, model.right,
            model.default_left, model.missing_type, model.leaf_value, 1)
    _score.walk_lightgbm(X, *args, out_jit)
    _score.walk_lightgbm.py_func(X, *args, out_py)
    assert out_jit.tolist() == out_py.tolist() == [0, 0, 7, 0, 39, 39]
    plan = _layout.build_plan(model, np.float64)
    fast_py = np.empty(6)
    _score.predict_fast.py_func(X, plan.arrays, 1, plan.base, 4, fast_py)
    assert fast_py.tolist() == out_jit.tolist()
    walk_jit, walk_py = np.empty(6), np.empty(6)
    walk = (plan.walk_cols, plan.walk_thresholds, plan.walk_left, plan.walk_right)
    _score.predict_walk(X, plan.arrays, *walk, 1, plan.base, walk_jit)
    _score.predict_walk.py_func(X, plan.arrays, *walk, 1, plan.base, walk_py)
    assert walk_jit.tolist() == walk_py.tolist() == out_jit.tolist()
    pos, pos2 = np.empty(40, np.int64), np.empty(40, np.int64)
    _layout.leaf_order(model.tree_ptr, model.leaf_ptr, model.left, model.right, pos)
    _layout.leaf_order.py_func(model.tree_ptr, model.leaf_ptr, model.left, model.right, pos2)
    assert pos.tolist() == pos2.tolist() == list(range(40))  # the chain's leaf i is its i-th from the left



@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="reads x86-64 assembly")
def test_the_leaf_prefetch_reaches_the_machine_code_and_changes_nothing():
    """``prefetch_span`` is a hint the scorer gives for the next tree's leaves: it must reach the machine code (an
    intrinsic LLVM did not know would be dropped without a word), and change nothing, at an array's end too."""

    @njit
    def span(a, start, stop):
        _score.prefetch_span(a, start, stop)

    for dtype in (np.float64, np.float32):
        a = np.arange(100, dtype=dtype)
        span(a, 0, 100)
        span(a, 99, 100)
        span(a, 40, 40)
        assert a.tolist() == list(range(100))
        assert "prefetcht0" in span.inspect_asm(span.signatures[-1]), "no prefetch instruction in the compiled code"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_leaves", [70, 300])
@pytest.mark.parametrize("n_rows", [5, 64, 100, 128])
def test_the_vector_kernels_equal_their_python_twins(dtype, n_leaves, n_rows):
    """``compare_tests`` and ``tree_codes`` are LLVM vector code in jitted kernels and NumPy in ``.py_func``: the
    same test bits (NaN included), the same reach masks and leaf codes; 300 leaves take two bytes of code a row (and
    trees of more than 256 leaves keep the left-to-right numbering, so many covers a bit)."""
    model = chain_tree(n_leaves)  # node i: x <= i + 0.5 goes left to leaf i
    rng = np.random.default_rng(n_leaves + n_rows)
    special = [np.nan, np.inf, -np.inf, 0.5, 31.5, n_leaves - 1.5]
    X = np.concatenate([special, rng.integers(-1, n_leaves + 2, size=n_rows)])[:n_rows].astype(dtype)[:, None]
    want = model.predict(X, method="reference")
    plan = _layout.build_plan(model, dtype)
    nbp = (n_rows + _score.LANES - 1) // _score.LANES * _score.LANES
    tiles = nbp // _score.LANES
    xf, xt, K, R, planes, codes, acc = _score._scratch(X, plan.arrays)
    _score._fill_block(X, 0, n_rows, nbp, plan.cols, plan.prepare, xf, xt)
    n_tests = plan.tests_needed[1]
    assert n_tests == plan.test_cols.size == n_leaves - 1  # one test per node: the thresholds differ
    acc[:] = 0
    _score._score_block(xt, nbp, 1, plan.arrays, K, R, planes, codes, acc)
    assert acc[:n_rows].tolist() == want.tolist()

    K_py = np.zeros_like(K)
    _score.compare_tests(xt, K_py, tiles, plan.test_runs, plan.run_cols, plan.test_order, plan.run_thresholds, n_tests)
    assert K[:, :tiles].tolist() == K_py[:, :tiles].tolist()
    rows = np.arange(nbp)
    for u in (0, 31, n_leaves - 2):  # a test's bits are its compare, row by row (NaN never passes)
        hit = (K_py[u, rows // _score.LANES].astype(np.int64) >> (rows % _score.LANES)) & 1
        assert hit.tolist() == (xt[plan.test_cols[u], :nbp] > plan.test_thresholds[u]).astype(int).tolist()

    R_py, planes_py, codes_py = np.zeros_like(R), np.zeros_like(planes), np.zeros_like(codes)
    R_py[0] = [(1 << min(nbp, 64)) - 1, (1 << max(nbp - 64, 0)) - 1]  # the block's rows reach the root
    b0, b1 = plan.trees[0, 1], plan.trees[1, 1]
    _score.tree_codes(K_py, R_py, plan.nodes, plan.trees[0, 0], plan.trees[1, 0], plan.covers, plan.cover_bits,
                      plan.bit_covers[b0] // _score.COVER_GROUP, plan.bit_covers[b1] // _score.COVER_GROUP, b1 - b0,
                      planes_py, codes_py)
    n_bytes = ((n_leaves - 1).bit_length() + 7) // 8
    assert n_bytes == codes.shape[0]
    assert R.tolist() == R_py.tolist()
    assert codes[:, :nbp].tolist() == codes_py[:, :nbp].tolist()
    code = sum(codes_py[q, :n_rows].astype(np.int64) << (8 * q) for q in range(n_bytes))
    assert plan.leaves[code].tolist() == want.tolist()  # a row's code numbers its exit leaf in the plan's leaves


def _covers_by_definition(left, right, code):
    """How many masks the kernel ORs for one tree whose leaf ``i`` has the code ``code[i]``, counted from the
    definition: for each bit of the codes, the subtrees whose leaves all have it set and whose parent's do not."""
    below = {}

    def leaves(c):
        if c not in below:
            below[c] = [~c] if c < 0 else leaves(left[c]) + leaves(right[c])
        return below[c]

    count = 0
    for b in range((len(code) - 1).bit_length()):
        todo = [(0 if left else ~0, False)]
        while todo:
            c, parent_set = todo.pop()
            here = all(code[i] >> b & 1 for i in leaves(c))
            count += here and not parent_set
            if c >= 0:
                todo += [(left[c], here), (right[c], here)]
    return count


def _numbered(left, right, swapped):
    """Leaf codes left to right, with the children of the split nodes in ``swapped`` taken right first."""
    code, todo = {}, [0 if left else ~0]
    while todo:
        c = todo.pop()
        if c < 0:
            code[~c] = len(code)
        else:
            first, second = (right[c], left[c]) if c in swapped else (left[c], right[c])
            todo += [second, first]
    return [code[i] for i in range(len(code))]


@pytest.mark.parametrize("seed", range(12))
def test_the_leaf_numbering_swaps_children_for_the_fewest_covers(seed):
    """Against every way of swapping children (small trees): the plan's numbering is one of them, and no other needs
    fewer masks; the plan's covers are that many."""
    rng = np.random.default_rng(seed)
    n_leaves = [int(rng.integers(2, 11)) for _ in range(4)]
    shapes = [grow_tree(rng, n) for n in n_leaves]
    model = TreeEnsemble(engine="lightgbm", n_features=1, tree_ptr=np.cumsum([0] + [n - 1 for n in n_leaves]),
                         leaf_ptr=np.cumsum([0] + n_leaves), feature=[0] * sum(n - 1 for n in n_leaves),
                         threshold=np.arange(sum(n - 1 for n in n_leaves)) + 0.5,
                         left=[c for a, _ in shapes for c in a], right=[c for _, b in shapes for c in b],
                         default_left=[True] * sum(n - 1 for n in n_leaves),
                         missing_type=[2] * sum(n - 1 for n in n_leaves), leaf_value=np.arange(sum(n_leaves)) * 1.0)
    plan = _layout.build_plan(model, np.float64)
    pos = np.empty(sum(n_leaves), dtype=np.int64)
    _layout.leaf_order(model.tree_ptr, model.leaf_ptr, model.left, model.right, pos)
    _layout.fewest_covers(model.tree_ptr, model.leaf_ptr, model.left, model.right, pos)
    for t, ((left, right), n) in enumerate(zip(shapes, n_leaves)):
        ours = pos[model.leaf_ptr[t]:model.leaf_ptr[t + 1]].tolist()
        every = {tuple(_numbered(left, right, {v for v in range(n - 1) if m >> v & 1})) for m in range(2 ** (n - 1))}
        assert tuple(ours) in every
        fewest = min(_covers_by_definition(left, right, c) for c in every)
        assert _covers_by_definition(left, right, ours) == fewest
        b0, b1 = plan.trees[t, 1], plan.trees[t + 1, 1]
        covers = [plan.covers[plan.bit_covers[b]:plan.bit_covers[b + 1]] for b in range(b0, b1)]
        assert sum(len(set(c.tolist())) for c in covers) == fewest  # each bit's list padded with its last cover
        assert all(c.size % _score.COVER_GROUP == 0 and c.size - len(set(c.tolist())) < _score.COVER_GROUP
                   and set(c[len(set(c.tolist())):].tolist()) <= {c[len(set(c.tolist())) - 1]} for c in covers)
        groups = plan.cover_bits[plan.bit_covers[b0] // _score.COVER_GROUP:plan.bit_covers[b1] // _score.COVER_GROUP]
        assert groups.tolist() == [b - b0 + 0x80 * (i == 0) for b, c in zip(range(b0, b1), covers)
                                   for i in range(c.size // _score.COVER_GROUP)]
    X = np.arange(-1.0, sum(n_leaves) + 1)[:, None]
    assert np.array_equal(model.predict(X), model.predict(X, method="reference"))


def _prepared_by_the_table(x, kind):
    """A prepared column as the module table of ``ltr.trees._score`` defines each kind (written from the table)."""
    tiny, nan = np.abs(x) <= _score.K_ZERO, np.isnan(x)
    if kind == _score.KIND_XGB_LEFT:
        return x
    if kind == _score.KIND_XGB_RIGHT:
        return np.where(nan, np.inf, x)
    if kind == _score.KIND_LGB_NONE:
        return np.where(tiny | nan, 0.0, x)
    if kind == _score.KIND_LGB_NAN_LEFT:
        return np.where(tiny, 0.0, x)
    if kind == _score.KIND_LGB_NAN_RIGHT:
        return np.where(tiny, 0.0, np.where(nan, np.inf, x))
    if kind == _score.KIND_LGB_ZERO_LEFT:
        return np.where(tiny | nan, np.nan, x)
    if kind == _score.KIND_LGB_ZERO_RIGHT:
        return np.where(tiny | nan, np.inf, x)
    if kind == _score.KIND_LGB_NAN_FLAG:
        return nan.astype(x.dtype)
    assert kind == _score.KIND_LGB_ZERO_FLAG
    return (tiny | nan).astype(x.dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_features", [1, 7, 16, 17, 40])
@pytest.mark.parametrize("nb", [1, 15, 37])
@pytest.mark.parametrize("used", ["all", "few"])
def test_prepared_columns_follow_the_kinds_and_equal_the_python_twins(dtype, n_features, nb, used):
    """``_fill_block`` (a vector transposition of 16 x 16 tiles, then each column's rule from ``PREPARE``) against
    each kind as the module table defines it, and against its NumPy twins (``.py_func``): the same bits, NaN and
    the signs of zeros included; the padding rows repeat the last row. ``few``: columns of some features only,
    whole blocks of 16 features unused."""
    rng = np.random.default_rng(n_features * 100 + nb)
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-36, -1e-36, 1e-35, -1e-35, 2e-35, 1.5, -3.25])
    X = np.where(rng.random((nb, n_features)) < 0.5, rng.choice(special, (nb, n_features)),
                 rng.normal(0, 10, (nb, n_features))).astype(dtype)
    kinds = np.arange(9)
    feats = np.arange(n_features) if used == "all" else np.arange(n_features)[np.arange(n_features) % 35 == 0]
    cols = np.array(sorted({(int(f), int(k)) for f in feats for k in kinds if (f + k) % 3 == 0 or f < 2}),
                    dtype=np.int64)
    prepare = _score.PREPARE[cols[:, 1]].astype(dtype)
    nbp = (nb + _score.LANES - 1) // _score.LANES * _score.LANES
    xt_jit, xt_py = (np.full((cols.shape[0], nbp), 7.0, dtype=dtype) for _ in range(2))
    _score._fill_block(X, 0, nb, nbp, cols, prepare, np.empty((_score.LANES, nbp), dtype=dtype), xt_jit)
    _score._fill_block.py_func(X, 0, nb, nbp, cols, prepare, np.empty((_score.LANES, nbp), dtype=dtype), xt_py)
    assert xt_jit.tobytes() == xt_py.tobytes()
    for c, (f, kind) in enumerate(cols):
        want = _prepared_by_the_table(X[:, f], kind).astype(dtype)
        assert xt_jit[c, :nb].tobytes() == want.tobytes(), (f, kind)
        assert xt_jit[c, nb:].tobytes() == np.repeat(want[-1:], nbp - nb).tobytes()


# ------------------------------------------------------------------------------------------------------------------
# pandas input, read as each engine reads it
# ------------------------------------------------------------------------------------------------------------------
def test_a_wide_xgboost_model_equals_the_engine():
    """300 features (19 blocks of 16, the last overlapping): the transposition's block arithmetic at a width no
    shared data set has."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(600, 300)).astype(np.float32)
    X[rng.random(X.shape) < 0.05] = np.nan
    y = X[:, ::7].sum(axis=1, where=~np.isnan(X[:, ::7]))
    booster = xgb.train({"max_depth": 5, "base_score": 0.37, "nthread": 1}, xgb.DMatrix(X, y), 20)
    want = booster.inplace_predict(X[:129], predict_type="margin")
    assert np.array_equal(from_booster(booster).predict(X[:129]), want)


@pytest.fixture(scope="module")
def frame_models():
    import pandas as pd
    rng = np.random.default_rng(1)
    X = rng.integers(16_777_200, 16_777_240, size=(2000, 3)).astype(np.int64)  # above 2**24: float32 rounds them
    y = (X[:, 0] > 16_777_217) + rng.random(2000) * 0.1
    cols = ["f0", "f1", "f2"]
    df = pd.DataFrame(X, columns=cols)
    lg = lgb.train({"objective": "regression", "verbose": -1, "num_leaves": 8, "min_data_in_leaf": 5,
                    "num_threads": 1}, lgb.Dataset(df.astype(np.float64), y), 5)
    xg = xgb.train({"max_depth": 3, "nthread": 1}, xgb.DMatrix(df.astype(np.float64), y), 5)
    return pd, df, lg, xg


@xgboost_reads_these_frames
def test_an_integer_frame_is_read_as_each_engine_reads_it(frame_models):
    """LightGBM reads an integer DataFrame as float64 (an integer array as float32); XGBoost reads float32."""
    pd, df, lg, xg = frame_models
    assert np.array_equal(from_booster(lg).predict(df), lg.predict(df, raw_score=True))
    assert np.array_equal(from_booster(xg).predict(df), xg.inplace_predict(df, predict_type="margin"))
    assert np.array_equal(from_booster(lg).predict(df.to_numpy()), lg.predict(df.to_numpy(), raw_score=True))


@xgboost_reads_these_frames
def test_nullable_and_boolean_columns_are_read_as_the_engines_read_them(frame_models):
    pd, df, lg, xg = frame_models
    nullable = df.astype("Float64")
    nullable.iloc[3, 1] = pd.NA
    mixed = df.astype(np.float64)
    mixed["f2"] = df["f2"] > 16_777_220
    for frame in (nullable, mixed):
        assert np.array_equal(from_booster(lg).predict(frame), lg.predict(frame, raw_score=True))
        assert np.array_equal(from_booster(xg).predict(frame), xg.inplace_predict(frame, predict_type="margin"))


@xgboost_reads_these_frames
def test_reordered_columns_and_category_columns_are_refused(frame_models):
    pd, df, lg, xg = frame_models
    reordered = df[["f2", "f0", "f1"]]
    with pytest.raises(ValueError, match="feature_names mismatch"):  # XGBoost's own refusal, the reference
        xg.inplace_predict(reordered, predict_type="margin")
    for booster in (lg, xg):
        with pytest.raises(ValueError, match=r"another order \(column 0 counting from 0: 'f2', the model's 'f0'\); "
                                             r"select them in the model's order: X\[model.feature_names\]"):
            from_booster(booster).predict(reordered)
    renamed = df.set_axis(["a", "b", "c"], axis=1)
    with pytest.warns(UserWarning, match="the model was fitted without feature names"):  # LightGBM's f0.. as
        assert np.array_equal(from_booster(lg).predict(renamed), lg.predict(renamed, raw_score=True))  # ltrkit's f1..
    with pytest.raises(ValueError, match="feature_names mismatch"):  # XGBoost keeps only the names its user gave
        xg.inplace_predict(renamed, predict_type="margin")
    with pytest.raises(ValueError, match=r"X's column names differ from the model's features .*\(the model: "):
        from_booster(xg).predict(renamed)
    with pytest.raises(TypeError, match="column 'f1' is a pandas category"):
        from_booster(lg).predict(df.astype({"f1": "category"}))
    with pytest.raises(TypeError, match="column 'f1' has dtype .*; X must hold real numbers"):
        from_booster(lg).predict(df.astype({"f1": str}))


def test_frames_of_other_names_are_refused_as_xgboost_refuses_them():
    """Other names, or two columns swapped and a third renamed: refused, as XGBoost and ltr.load_model's rankers
    refuse them (ltr.trees scored them by position, as LightGBM does; trial t58)."""
    import pandas as pd

    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.normal(size=(300, 3)), columns=["bm25", "tfidf", "doclen"])
    y = df["bm25"] - 2 * df["tfidf"] + df["doclen"] ** 2
    lg = lgb.train({"objective": "regression", "verbose": -1, "num_leaves": 8, "num_threads": 1},
                   lgb.Dataset(df, y), 5)
    xg = xgb.train({"max_depth": 3, "nthread": 1}, xgb.DMatrix(df, y), 5)
    for frame in (df.set_axis(["pagerank", "urllen", "inlinks"], axis=1),
                  df[["tfidf", "bm25", "doclen"]].set_axis(["tfidf", "bm25", "doc_len"], axis=1)):
        with pytest.raises(ValueError, match="feature_names mismatch"):
            xg.inplace_predict(frame, predict_type="margin")
        for booster in (lg, xg):
            with pytest.raises(ValueError, match=r"X's column names differ from the model's features \(3 columns, "
                                                 r"3 features; not in the model: \["):
                from_booster(booster).predict(frame)
    for booster in (lg, xg):
        assert np.array_equal(from_booster(booster).predict(df), booster.predict(xgb.DMatrix(df), output_margin=True)
                              if booster is xg else lg.predict(df, raw_score=True))


def test_integer_column_names_and_other_libraries_frames_are_read_by_name():
    """pd.DataFrame(X)'s columns 0, 1, 2 are the engines' '0', '1', '2': a reordered one was scored by position once
    the check read only string names; a pyarrow Table of swapped columns was never checked (review of trial t58)."""
    import pandas as pd

    rng = np.random.default_rng(4)
    df = pd.DataFrame(rng.normal(size=(300, 3)))
    y = df[0] - 2 * df[1] + df[2] ** 2
    xg = xgb.train({"max_depth": 3, "nthread": 1}, xgb.DMatrix(df, y), 5)
    lg = lgb.train({"objective": "regression", "verbose": -1, "num_leaves": 8, "num_threads": 1}, lgb.Dataset(df, y), 5)
    with pytest.raises(ValueError, match="feature_names mismatch"):
        xg.inplace_predict(df[[2, 1, 0]], predict_type="margin")
    for booster in (lg, xg):
        ens = from_booster(booster)
        with pytest.raises(ValueError, match=r"another order \(column 0 counting from 0: '2', the model's '0'\)"):
            ens.predict(df[[2, 1, 0]])
        want = ens.predict(df.to_numpy())
        assert np.array_equal(ens.predict(df), want)
    pa = import_reference("pyarrow")
    named = df.set_axis(["bm25", "tfidf", "len"], axis=1)
    ens = from_booster(xgb.train({"max_depth": 3, "nthread": 1}, xgb.DMatrix(named, y), 5))
    table = pa.Table.from_pandas(named[["tfidf", "bm25", "len"]], preserve_index=False)
    with pytest.raises(ValueError, match=r"another order \(column 0 counting from 0: 'tfidf', the model's 'bm25'\)"):
        ens.predict(table)
    assert np.array_equal(ens.predict(pa.Table.from_pandas(named, preserve_index=False)), ens.predict(named))


def test_a_frame_of_unnamed_columns_scores_an_unnamed_model_without_a_warning():
    """pd.DataFrame(X) (columns 0, 1, 2) given to a model trained on an array (LightGBM's Column_0..): neither has
    names, so no 'fitted without feature names' warning (as_text read the frame's 0, 1, 2 as names)."""
    import warnings

    X = np.random.default_rng(6).normal(size=(200, 3))
    booster = lgb.train({"objective": "regression", "verbose": -1, "num_threads": 1}, lgb.Dataset(X, X[:, 0]), 3)
    assert booster.feature_name()[0] == "Column_0"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = from_booster(booster).predict(pd.DataFrame(X))
    assert np.array_equal(got, booster.predict(X, raw_score=True))


def test_lightgbm_names_with_spaces_are_read_as_lightgbm_spells_them():
    """LightGBM saves a feature 'tf idf' as tf_idf: a frame of the user's own names scores, one of them reordered is
    refused (it was scored by position: the check compared the frame's names with the saved spelling; trial t58)."""
    import pandas as pd

    rng = np.random.default_rng(2)
    df = pd.DataFrame(rng.normal(size=(400, 3)), columns=["bm25 title", "tf idf", "doc len"])
    booster = lgb.train({"objective": "regression", "verbose": -1, "num_leaves": 8, "num_threads": 1},
                        lgb.Dataset(df, df["bm25 title"] - 2 * df["tf idf"]), 5)
    assert booster.feature_name() == ["bm25_title", "tf_idf", "doc_len"]
    ens = from_booster(booster)
    assert np.array_equal(ens.predict(df), booster.predict(df, raw_score=True))
    with pytest.raises(ValueError, match=r"another order \(column 0 counting from 0: 'tf idf', the model's "
                                         r"'bm25_title'\)"):
        ens.predict(df[["tf idf", "bm25 title", "doc len"]])


def test_n_iter_at_most_zero_is_every_round_and_overflow_is_quiet(frame_models):
    import warnings

    pd, df, lg, xg = frame_models
    ens = from_booster(xg)
    X = np.array(df, dtype=np.float64)
    assert np.array_equal(ens.predict(X, n_iter=-1), ens.predict(X))
    assert np.array_equal(from_booster(lg).predict(X, n_iter=-1), lg.predict(X, raw_score=True, num_iteration=-1))
    X[0, 0] = 1e300  # +inf in float32, as XGBoost's C cast makes it, without NumPy's overflow warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ens.predict(X)
    assert np.array_equal(got, xg.inplace_predict(X, predict_type="margin"))


# ------------------------------------------------------------------------------------------------------------------
# Bad input: one clear error each
# ------------------------------------------------------------------------------------------------------------------
def test_predict_refuses_inputs_that_do_not_fit():
    model = chain_tree(4)
    with pytest.raises(ValueError, match="X has 2 features, but the model .* expects 1"):
        model.predict(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="dense array"):
        import scipy.sparse as sp

        model.predict(sp.csr_matrix(np.zeros((3, 1))))
    with pytest.raises(ValueError, match="n_iter=2 is more than the model's 1"):
        model.predict(np.zeros((3, 1)), n_iter=2)
    with pytest.raises(ValueError, match="method must be"):
        model.predict(np.zeros((3, 1)), method="quick")
    with pytest.raises(ValueError, match="n_jobs"):
        model.predict(np.zeros((3, 1)), n_jobs=0)


def record(**change):
    fields = {"engine": "lightgbm", "n_features": 2, "tree_ptr": [0, 2], "leaf_ptr": [0, 3], "feature": [0, 1],
              "threshold": [0.5, 0.5], "left": [1, -1], "right": [-3, -2], "default_left": [True, True],
              "missing_type": [0, 0], "leaf_value": [1.0, 2.0, 3.0], "source": "m.txt"}
    fields.update(change)
    return TreeEnsemble(**fields)


@pytest.mark.parametrize(("change", "message"), [
    ({"left": [5, -1]}, r"m.txt: tree 0: node 0 has left child 5, outside the tree's 2 split nodes"),
    ({"right": [-3, -4]}, r"tree 0: node 1 has right child -4, outside"),
    ({"left": [1, 1], "right": [-3, -2]}, r"tree 0: split node 1: is the child of 2 nodes"),
    ({"left": [1, -1], "right": [0, -2]}, r"the root is some node's child"),
    ({"left": [-1, 1], "right": [-3, -2]}, r"leaf 1 is the child of 0 nodes|split node 1 is on a cycle|child of 2"),
    ({"feature": [0, 2]}, r"tree 0: node 1 splits on feature 2, but the model has 2 features"),
    ({"threshold": [np.nan, 0.5]}, r"node 0 has threshold nan, not a number"),
    ({"leaf_value": [1.0, np.inf, 3.0]}, r"tree 0: leaf 1 has value inf, not a finite float64"),
    ({"missing_type": [0, 3]}, r"node 1 has unknown missing type 3"),
    ({"leaf_ptr": [0, 4], "leaf_value": [1.0] * 4}, r"4 leaves for 2 split nodes"),
    ({"feature": [0.5, 1]}, r"feature holds values that are not int32"),
    ({"engine": "catboost"}, r"engine must be one of"),
    ({"trees_per_iteration": 2}, r"1 trees are not whole rounds of 2"),
])
def test_record_validation_names_the_source_tree_and_fault(change, message):
    with pytest.raises(ModelFormatError, match=message):
        record(**change)


def test_a_detached_cycle_is_refused():
    # node 1 and node 2 point at each other; the root's children are two leaves: every count is right, but
    # nodes 1 and 2 are unreachable
    with pytest.raises(ModelFormatError, match="tree 0: split node 1 is on a cycle"):
        record(tree_ptr=[0, 3], leaf_ptr=[0, 4], feature=[0, 0, 0], threshold=[0.5] * 3, left=[-1, 2, 1],
               right=[-2, -3, -4], default_left=[True] * 3, missing_type=[0] * 3, leaf_value=[1.0] * 4)


@pytest.fixture(scope="module")
def lgb_text(mq2008):
    return lgb_booster(mq2008[0], rounds=3, num_leaves=7).model_to_string()


def edit(text, old, new, count=1):
    assert old in text, old
    return text.replace(old, new, count)


def line_of(text, prefix, tree=0):
    block = text[text.index(f"Tree={tree}\n"):]
    return next(line for line in block.split("\n") if line.startswith(prefix))


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda t: t[:t.index("Tree=2")], r"m.txt: the text ends after 2 trees without an 'end of trees' line"),
    (lambda t: t[:t.index("threshold=", t.index("Tree=1"))], r"m.txt: tree 1: the text ends inside a tree"),
    (lambda t: t[:t.index("Tree=1") + 40], r"m.txt:\d+: tree 1: a tree line must be key=value"),
    (lambda t: edit(t, "Tree=1\n", "Tree=2\n"), r"m.txt:\d+: trees must be numbered in order: expected Tree=1"),
    (lambda t: edit(t, "version=v4", "version=v9"), r"m.txt:2: unknown LightGBM model version"),
    (lambda t: edit(t, "num_class=1", "num_class=3"), r"multiclass models \(num_class=3\) are not supported"),
    (lambda t: edit(t, "feature_names=Column_0 ", "feature_names="), r"feature_names must list 46 names"),
    (lambda t: edit(t, "\ntree_sizes=", "\ntree_sizes=1 "), r"tree_sizes lists 4 trees, the text has 3"),
    (lambda t: edit(t, "num_leaves=7\n", "num_leaves=07\n"),
     r"tree_sizes says tree 0 is \d+ bytes, its block is \d+ bytes"),
    (lambda t: edit(t, "num_cat=0\n", "num_cat0\n"), r"tree 0: a tree line must be key=value"),
    (lambda t: edit(t, "num_cat=0\n", "num_cat=2\n"), r"tree 0: categorical splits \(num_cat=2\) are not supported"),
    (lambda t: edit(t, "is_linear=0", "is_linear=1"), r"tree 0: linear trees \(linear_tree=true\) are not supported"),
    (lambda t: edit(t, line_of(t, "decision_type="), "decision_type=" + " ".join(["3"] * 6)),
     r"tree 0: node 0 \(feature 'Column_\d+'\) is a categorical split"),
    (lambda t: edit(t, line_of(t, "decision_type="), "decision_type=" + " ".join(["12"] * 6)),
     r"tree 0: node 0 has unknown missing type 3"),
    (lambda t: edit(t, line_of(t, "leaf_value="), "leaf_value=1 2"), r"tree 0: leaf_value has 2 entries, expected 7"),
    (lambda t: edit(t, line_of(t, "threshold="), "threshold=0.5 x 1 1 1 1"),
     r"tree 0: threshold must be numbers separated by single spaces \(token 'x'\)"),
    (lambda t: edit(t, line_of(t, "left_child="), "left_child=1 2 3 4 5 0"), r"tree 0: .*(cycle|root|child of)"),
    (lambda t: edit(t, line_of(t, "split_feature="), "split_feature=0 1 2 3 4 46"),
     r"tree 0: node 5 splits on feature 46, but the model has 46 features"),
    (lambda t: edit(t, "average_output", "average_output") if "average_output" in t
     else edit(t, "feature_names=", "average_output\nfeature_names="), r"random-forest models \(average_output\)"),
    (lambda t: "hello\n" + t, r"m.txt:1: not a LightGBM model text"),
])
def test_bad_lightgbm_texts_are_refused_with_file_line_and_tree(lgb_text, mutate, message):
    with pytest.raises(ModelFormatError, match=message):
        from_lightgbm_text(mutate(lgb_text), source="m.txt")


def test_a_lightgbm_text_without_tree_sizes_or_with_crlf_lines_still_loads(lgb_text, mq2008):
    no_sizes = "\n".join(line for line in lgb_text.split("\n") if not line.startswith("tree_sizes="))
    assert np.array_equal(from_lightgbm_text(no_sizes).predict(mq2008[1]), from_lightgbm_text(lgb_text).predict(
        mq2008[1]))
    crlf = no_sizes.replace("\n", "\r\n")
    assert from_lightgbm_text(crlf).n_trees == 3
    # old-Mac line ends, CR alone, LightGBM reads as line ends too; they take a byte as LF does, so tree_sizes holds
    assert np.array_equal(from_lightgbm_text(lgb_text.replace("\n", "\r")).predict(mq2008[1]),
                          from_lightgbm_text(lgb_text).predict(mq2008[1]))
    with pytest.raises(ModelFormatError, match=r"tree_sizes says tree 0 .*; the file has Windows line ends \(CRLF\)"
                                               r", one more byte a line than LightGBM wrote"):  # sizes in bytes
        from_lightgbm_text(lgb_text.replace("\n", "\r\n"))
    with pytest.raises(ModelFormatError, match=r"wrong offsets\)$"):  # sizes edited, no CRLF: not said
        from_lightgbm_text(re.sub(r"tree_sizes=(\d+)", lambda m: f"tree_sizes={int(m.group(1)) + 5}", lgb_text))


@pytest.fixture(scope="module")
def xgb_doc(mq2008):
    return json.loads(xgb_booster(mq2008[0], rounds=3, max_depth=3).save_raw("json"))


def xgb_edit(doc, path, value):
    doc = json.loads(json.dumps(doc))
    *head, last = path
    node = doc
    for k in head:
        node = node[k]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value(node[last]) if callable(value) else value
    return doc


M = ["learner", "gradient_booster", "model"]
T0 = M + ["trees", 0]


@pytest.mark.parametrize(("path", "value", "message"), [
    # (a DART booster is read, its weight_drop folded in: tests/test_fix66_b.py; one without its gbtree is refused)
    (["learner", "gradient_booster", "name"], "dart", r"gbtree: is missing: a DART booster holds its trees there"),
    (["learner", "gradient_booster", "name"], "gblinear", r"linear boosters are not supported"),
    (["learner", "objective", "name"], "reg:made-up", r"unknown XGBoost objective 'reg:made-up'"),
    (["learner", "learner_model_param", "num_class"], "3", r"multiclass models \(3 classes\)"),
    (["learner", "learner_model_param", "base_score"], "[1E0,2E0]", r"has 2 values"),
    (["learner", "learner_model_param", "base_score"], "[x]", r"is not a number"),
    (M + ["gbtree_model_param", "num_trees"], "4", r"num_trees: does not match the 3 trees listed"),
    (M + ["trees"], lambda t: t[:2], r"num_trees: does not match the 2 trees"),
    (M + ["iteration_indptr"], [0, 1, 3, 3], r"iteration_indptr: must be 0, 1, \.\.\., 3"),
    (T0 + ["left_children"], lambda a: [a[0] + 1] + a[1:], r"tree 0: .*node 0 has right child 2, not left child \+ 1"),
    (T0 + ["left_children"], lambda a: [99] + a[1:], r"tree 0: .*node 0 has left child 99, outside 1\.\.\d+"),
    (T0 + ["left_children"], lambda a: a[:-1], r"tree 0: .*left_children: has \d+ entries, expected \d+"),
    (T0 + ["split_indices"], lambda a: [46] + a[1:], r"tree 0: .*node 0 splits on feature 46, but the model has 46"),
    (T0 + ["split_conditions"], lambda a: ["x"] + a[1:], r"split_conditions: must be a list of numbers"),
    # (+inf is XGBoost's own split of float32's largest value from +inf: read, test_an_xgboost_split_at_plus_infinity;
    # -inf at a split its exact method's, read too: tests/test_trial68.py; at a leaf, a value, it is refused)
    (T0 + ["split_conditions"], lambda a: a[:-1] + [-1e39], r"node \d+ has split_conditions -inf, not a finite "
                                                            r"float32 \(a leaf's value"),
    (T0 + ["split_type"], lambda a: [1] + a[1:], r"tree 0: .*node 0 \(feature \d+\) is a categorical split, which is "
                                                 r"not supported"),
    (T0 + ["parents"], lambda a: a[:1] + [5] + a[2:], r"tree 0: .*node 1 has parent 5, but node 0 names it"),
    (T0 + ["tree_param", "num_deleted"], "1", r"tree 0: .*0 nodes are not reachable .* num_deleted is 1"),
    (T0 + ["tree_param", "size_leaf_vector"], "2", r"multi-target trees are not supported"),
    (T0 + ["default_left"], lambda a: [2] + a[1:], r"default_left: must hold 0 or 1"),
    (T0 + ["id"], 7, r"tree 0: .*id: is 7, expected 0"),
    (["learner", "gradient_booster", "model"], KeyError, r"learner.gradient_booster.model: is missing"),
])
def test_bad_xgboost_models_are_refused_with_path_and_tree(xgb_doc, path, value, message):
    with pytest.raises(ModelFormatError, match=message):
        from_xgboost_json(xgb_edit(xgb_doc, path, value), source="m.json")


def test_xgboost_pruned_trees_with_deleted_nodes_load(mq2008):
    booster = xgb_booster(mq2008[0], rounds=10, tree_method="exact", gamma=2.0, max_depth=5, nan_rate=0.0)
    doc = json.loads(booster.save_raw("json"))
    deleted = [int(t["tree_param"]["num_deleted"]) for t in doc["learner"]["gradient_booster"]["model"]["trees"]]
    model = from_xgboost_json(doc)
    X = probe_rows(model, mq2008[1])
    assert np.array_equal(model.predict(X), xgb_margin(booster, X))
    if not any(deleted):
        pytest.skip("XGBoost pruned no node in this run")


def test_bad_json_text_names_line_and_column():
    with pytest.raises(ModelFormatError, match=r"m.json:2:\d+: not valid JSON"):
        from_xgboost_json('{"learner":\n  nope}', source="m.json")
    with pytest.raises(ModelFormatError, match=r"give UBJSON bytes \(Booster.save_raw\(\)\) to ltr.trees.from_model"):
        from_xgboost_json(b"{\xff\x00", source="m.ubj")


def test_a_ubjson_model_file_loads_as_its_json(mq2008, tmp_path):
    booster = xgb_booster(mq2008[0], rounds=4)
    booster.save_model(str(tmp_path / "m.ubj"))  # UBJSON: XGBoost's format for any name but .json
    assert (tmp_path / "m.ubj").read_bytes()[:1] == b"{"
    model = load(tmp_path / "m.ubj")
    X = probe_rows(model, mq2008[1])
    assert np.array_equal(model.predict(X), xgb_margin(booster, X))
    (tmp_path / "bad.ubj").write_bytes(b"{\xff\x00garbage")
    with pytest.raises(ModelFormatError, match=r"bad.ubj: not JSON text"):
        load(tmp_path / "bad.ubj")


def test_an_xgboost_split_at_plus_infinity_is_read_and_scored_as_xgboost_scores_it():
    """XGBoost writes split_conditions +inf for a feature that reaches float32's largest value and has missing
    values (ltr train --engine xgboost --overflow clip --missing nan makes one), and ltr.trees refused its own
    model as malformed (trial t48/trees)."""
    rng = np.random.default_rng(1)
    X = np.empty((2000, 2), dtype=np.float32)
    X[:, 0] = np.finfo(np.float32).max
    X[rng.random(2000) < 0.5, 0] = np.nan
    X[:, 1] = rng.normal(size=2000)
    y = np.isnan(X[:, 0]) * 3.0 + X[:, 1] * 0.1
    b = xgb.train({"nthread": 1, "max_depth": 2, "base_score": 0.5}, xgb.DMatrix(X, y), 3)
    ens = from_booster(b)
    assert np.isposinf(ens.threshold).any()
    edges = np.array([[np.finfo(np.float32).max, 0.1], [np.nan, -0.3], [1.0, 2.0]], dtype=np.float32)
    rows = np.vstack([X[:300], edges])
    want = b.predict(xgb.DMatrix(rows), output_margin=True)
    for method in ("fast", "reference"):
        assert np.array_equal(ens.predict(rows, method=method).astype(np.float32), want)
    assert np.array_equal(ens.predict(rows[-3:]).astype(np.float32), want[-3:])  # the walk of a few rows
    # XGBoost refuses infinite input; +inf at the +inf split goes right (inf < inf is false) in both kernels
    inf = np.array([[np.inf, 0.1], [-np.inf, 0.0]] * 20, dtype=np.float32)
    assert np.array_equal(ens.predict(inf), ens.predict(inf, method="reference"))


def test_an_xgboost_split_at_nan_is_refused_and_at_minus_infinity_scored_as_xgboost_scores_it():
    """-inf was refused with NaN; XGBoost's exact method writes it (an overflowed midpoint) and XGBoost scores it:
    every present value right (tests/test_trial68.py, trial t68)."""
    b = xgb.train({"nthread": 1, "max_depth": 1}, xgb.DMatrix(np.arange(8.0).reshape(4, 2), np.arange(4.0)), 1)
    doc = json.loads(b.save_raw(raw_format="json"))
    tree = doc["learner"]["gradient_booster"]["model"]["trees"][0]
    tree["split_conditions"][0] = float("NaN")
    with pytest.raises(ModelFormatError, match="split_conditions"):
        from_xgboost_json(json.dumps(doc))
    tree["split_conditions"][0] = float("-Infinity")
    X = np.array([[-np.inf, 0.0], [0.0, 1.0], [np.nan, 2.0], [3.0, np.inf]], dtype=np.float32)
    engine = xgb.Booster()
    engine.load_model(bytearray(json.dumps(doc).encode()))
    assert np.array_equal(from_xgboost_json(json.dumps(doc)).predict(X),
                          engine.inplace_predict(X, predict_type="margin").astype(np.float64))
