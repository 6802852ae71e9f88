"""The Python API as a scikit-learn / LightGBM / XGBoost notebook user writes it (trial t62, pyapi): models that are
not ltrkit's, the engines' rankers under cross-validation, inputs of the wrong kind, a DataFrame's column names."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import ltr
from ltr.evaluation import compare_models, cross_validate, permutation_importance, query_kfold
from ltr.metrics import evaluate


@pytest.fixture(scope="module")
def data():
    return ltr.make_ranking(40, 10, 5, random_state=0)


def _ndcg(d, scores):
    return evaluate(d.y, scores, group_ptr=d.group_ptr, metrics=["ndcg@10"])["ndcg@10"]


def test_a_subclass_of_lgbmranker_and_a_plain_class_are_given_the_rows(data):
    """compare_models and permutation_importance chose rows or dataset by the module a class was defined in: a
    subclass of LGBMRanker written in a notebook, or a user's own ``predict(X)``, got the RankingDataset and failed
    in numpy's words ("Expected 2D array, got scalar array")."""
    from lightgbm import LGBMRanker

    class MyRanker(LGBMRanker):
        pass

    class Linear:
        def __init__(self, w):
            self.w = np.asarray(w, dtype=np.float64)

        def predict(self, X):
            return np.asarray(X) @ self.w

    sub = MyRanker(n_estimators=10, min_child_samples=5, verbose=-1).fit(data.X, data.y, group=data.group_sizes)
    lin = Linear([1.0, 0.5, 0, 0, 0])
    c = compare_models({"sub": sub, "lin": lin}, data, metrics=["ndcg@10"], tests=["t"])
    assert c.row("lin", "ndcg@10")["baseline_mean"] == _ndcg(data, sub.predict(data.X))
    assert c.row("lin", "ndcg@10")["mean"] == _ndcg(data, data.X @ lin.w)
    assert permutation_importance(sub, data, n_repeats=1)["baseline"].iloc[0] == _ndcg(data, sub.predict(data.X))
    assert permutation_importance(lin, data, n_repeats=1)["baseline"].iloc[0] == _ndcg(data, data.X @ lin.w)


def test_ltrkits_own_tree_scorer_is_given_the_rows(data):
    """ltr.trees' TreeEnsemble takes rows, but its module (ltr) got it the dataset: "X must be 2-D ... shape ()"."""
    from ltr import trees

    m = ltr.Ranker(n_estimators=5, preset=None, min_child_samples=5, n_jobs=1).fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (from_booster's note on rounds)
        t = trees.from_booster(m.booster_)
    c = compare_models({"ranker": m, "trees": t}, data, metrics=["ndcg@10"], tests=["t"])
    assert c.row("trees", "ndcg@10")["mean"] == _ndcg(data, t.predict(data.X)) == _ndcg(data, m.predict(data))


def test_a_class_given_for_a_fitted_model_is_refused_naming_it(data):
    from lightgbm import LGBMRanker

    with pytest.raises(TypeError) as e:
        compare_models({"a": LGBMRanker}, data)
    assert str(e.value) == "models['a'] is the class LGBMRanker, not a fitted model: give a fitted instance"


def _manual_cv(make, d, **fit):
    """Each fold of cross_validate's cut fit as the engine's own scikit-learn API takes it: the reference."""
    values = []
    for f in query_kfold(d, 3, validation=False, random_state=0):
        m = make().fit(f.train.X, f.train.y, group=f.train.group_sizes)
        values.append(evaluate(f.test.y, m.predict(f.test.X), group_ptr=f.test.group_ptr, metrics=["ndcg@10", "map"]))
    return values


def test_cross_validate_trains_lgbmranker_on_rows_as_the_equivalent_ranker():
    """cross_validate(LGBMRanker()) failed with "fit() missing 1 required positional argument: 'y'"."""
    from lightgbm import LGBMRanker

    d = ltr.make_ranking(60, 10, 5, random_state=1)

    def make():
        return LGBMRanker(n_estimators=30, learning_rate=0.05, min_child_samples=5, verbose=-1, n_jobs=1)

    res = cross_validate(make(), d, n_splits=3, metrics=["ndcg@10", "map"], progress=False)
    assert res.settings["validation"] is False
    want = _manual_cv(make, d)
    assert [f.metrics for f in res.folds] == want
    ours = cross_validate(ltr.Ranker(n_estimators=30, preset=None, early_stopping_rounds=None, min_child_samples=5,
                                     n_jobs=1), d, n_splits=3, metrics=["ndcg@10", "map"], progress=False)
    assert [f.per_query for f in res.folds] == [f.per_query for f in ours.folds]


def test_cross_validate_trains_xgbranker_on_rows_and_stops_on_the_validation_part():
    import xgboost as xgb

    d = ltr.make_ranking(60, 10, 5, random_state=1)

    def make(**kw):
        return xgb.XGBRanker(n_estimators=20, learning_rate=0.1, max_depth=3, n_jobs=1, **kw)

    res = cross_validate(make(), d, n_splits=3, metrics=["ndcg@10", "map"], progress=False)
    assert [f.metrics for f in res.folds] == _manual_cv(make, d)
    stopping = cross_validate(make(early_stopping_rounds=3), d, n_splits=3, metrics=["ndcg@10"], progress=False)
    assert stopping.settings["validation"] is True
    for f in query_kfold(d, 3, validation=True, random_state=0):
        m = make(early_stopping_rounds=3).fit(f.train.X, f.train.y, group=f.train.group_sizes,
                                              eval_set=[(f.vali.X, f.vali.y)], eval_group=[f.vali.group_sizes])
        got = next(r for r in stopping.folds if r.name == f.name)
        assert got.metrics == evaluate(f.test.y, m.predict(f.test.X), group_ptr=f.test.group_ptr,
                                       metrics=["ndcg@10"])


def test_cross_validate_refuses_an_engines_ranker_on_weighted_rows(data):
    from dataclasses import replace

    from lightgbm import LGBMRanker

    weighted = replace(data, weight=np.ones(data.n_rows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the test weights' own warning)
        with pytest.raises(ValueError) as e:
            cross_validate(LGBMRanker(verbose=-1), weighted, n_splits=3, progress=False)
    assert str(e.value) == ("the training part carries row weights, which cross_validate gives to ltrkit's rankers "
                            "only (not to LightGBM's LGBMRanker): pass ltr.Ranker(engine='lightgbm') with the same "
                            "parameters")


WRAP = "wrap arrays as ltr.RankingDataset(X, y, qid, group_ptr)"


def test_arrays_a_tuple_a_path_or_a_list_are_refused_saying_what_to_pass(data):
    """Each answered with an AttributeError ('numpy.ndarray' object has no attribute 'y', 'str' object has no
    attribute 'query_ids', 'list' object has no attribute 'items') or a path error."""
    m = ltr.Ranker(n_estimators=3, preset=None, n_jobs=1).fit(data)
    with pytest.raises(TypeError) as e:
        permutation_importance(m, data.X)
    assert str(e.value) == f"data must be a RankingDataset (rows, labels and queries), got ndarray: {WRAP}"
    with pytest.raises(TypeError) as e:
        compare_models({"a": m, "b": m}, (data.X, data.y, data.qid))
    assert str(e.value) == f"data must be a RankingDataset (rows, labels and queries), got tuple: {WRAP}"
    with pytest.raises(TypeError) as e:
        compare_models({"a": m, "b": m}, "runs/test.txt")
    assert str(e.value) == ("data must be a RankingDataset (rows, labels and queries), got str: read the file first, "
                            "ltr.io.read_letor('runs/test.txt')")
    with pytest.raises(TypeError) as e:
        compare_models([m, m], data)
    assert str(e.value) == ("models must be a mapping of system names to fitted models, got list: e.g. "
                            "{'bm25': model_a, 'lambdamart': model_b}")
    with pytest.raises(TypeError) as e:
        cross_validate(ltr.Ranker(), (data.X, data.y, data.qid), progress=False)
    assert str(e.value) == ("data must be a RankingDataset, a LETOR file or fold directory, or a list of Fold, got "
                            f"tuple: {WRAP}")


def test_evaluate_refuses_no_scores_and_a_scalar_score(data):
    """y_score=None was read as one row of nan: "y_true has 400 rows but y_score has 1"."""
    with pytest.raises(TypeError) as e:
        evaluate(data.y, None, group=data.group_sizes)
    assert str(e.value) == "y_score must be a one-dimensional array of numbers, got None"
    with pytest.raises(ValueError) as e:
        evaluate(data.y, 0.5, group=data.group_sizes)
    assert str(e.value) == "y_score must be one-dimensional (rows sorted by query), got shape ()"


def test_render_report_takes_the_cv_result_itself(tmp_path, data):
    """render_report(cv_result) failed with "'CVResult' object is not iterable"; its to_dict() worked."""
    from ltr.evaluation import render_report

    res = cross_validate(ltr.Ranker(n_estimators=3, preset=None, n_jobs=1), data, n_splits=3, progress=False,
                         name="a")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (matplotlib missing: tables only, said by a warning)
        by_object = render_report(res, tmp_path / "object", formats=["md"])
        by_dict = render_report(res.to_dict(), tmp_path / "dict", formats=["md"])
    assert sorted(by_object) == sorted(by_dict)
    def text(path):  # (each to_dict() stamps the time it was called)
        return re.sub(r"\d{4}-\d\d-\d\dT[\d:]+Z", "TIME", path.read_text())

    assert text(by_object["md"]) == text(by_dict["md"])
    with pytest.raises(TypeError) as e:
        render_report(42, tmp_path / "x")
    assert str(e.value) == "result must be a CVResult, a Comparison, a result dict or a result file's path, got int"


def test_a_dataset_made_from_a_dataframe_keeps_its_column_names():
    """RankingDataset(df, ...) dropped the names: a model trained through it scored a reordered frame by position
    (max difference 1.59), where Ranker.fit(df) refuses it."""
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.random((300, 3))
    qid, ptr = np.repeat(np.arange(30), 10), np.arange(0, 301, 10)
    y = (X[:, 0] * 3).astype(int).astype(float)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    d = ltr.RankingDataset(df, y, qid, ptr)
    assert d.feature_names == ("a", "b", "c")
    assert ltr.RankingDataset(df, y, qid, ptr, feature_names=["a", "b", "c"]).feature_names == ("a", "b", "c")
    m = ltr.Ranker(n_estimators=5, preset=None, min_child_samples=5, n_jobs=1).fit(d)
    assert list(m.feature_names_in_) == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"^X's columns are the model's features in another order"):
        m.predict(df[["c", "b", "a"]])
    with pytest.raises(ValueError) as e:
        ltr.RankingDataset(df, y, qid, ptr, feature_names=["x", "y", "z"])
    assert str(e.value) == ("feature_names ['x', 'y', 'z'] differ from X's column names ['a', 'b', 'c']; give one of "
                            "them")


def test_permutation_importance_says_its_std_is_the_sample_sd():
    """Its std is ddof=1 where scikit-learn's importances_std is ddof=0: the docstring said only 'over repeats'."""
    doc = " ".join(permutation_importance.__doc__.split())
    assert "the sample standard deviation of the drops over the repeats, ``ddof=1``" in doc
    assert "scikit-learn's ``importances_std`` is ``ddof=0``" in doc
