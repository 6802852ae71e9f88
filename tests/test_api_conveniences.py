"""Conveniences for users coming from LightGBM's and XGBoost's scikit-learn APIs: their fit keywords refused with
where each goes in ltr.Ranker (without disturbing scikit-learn's metadata routing), and significance results as
strict JSON."""

from __future__ import annotations

import inspect
import json
import math
import re

import numpy as np
import pytest
from scipy import stats

import ltr
from ltr.evaluation.significance import paired_ttest, randomization_test, wilcoxon_test


@pytest.fixture(scope="module")
def data():
    return ltr.make_ranking(30, 6, 4, random_state=0)


def small(**kw):
    return ltr.Ranker(n_estimators=3, min_child_samples=2, preset=None, n_jobs=1, random_state=0, **kw)


# ---------------------------------------------------------------- LightGBM's / XGBoost's fit keywords


@pytest.mark.parametrize(("keyword", "value", "pointer"), [
    ("eval_at", [5], "Ranker(eval_at="),
    ("early_stopping_rounds", 10, "Ranker(early_stopping_rounds="),
    ("eval_metric", "map", "Ranker(early_stopping_metric="),
    ("verbose", 1, "Ranker(verbose="),
    ("callbacks", [], "not supported"),
    ("init_model", "model.txt", "no warm start"),
    ("xgb_model", "model.json", "no warm start"),
    ("feature_name", ["a"], "fit(feature_names="),
])
def test_engine_fit_keywords_say_where_they_go(data, keyword, value, pointer):
    with pytest.raises(TypeError, match=re.escape(f"unexpected keyword argument {keyword!r}")) as e:
        small().fit(data, **{keyword: value})
    assert pointer in str(e.value)


def test_the_places_named_exist(data):
    # Each constructor parameter the messages name is one, and does what the engine's fit keyword did.
    params = small().get_params()
    assert {"eval_at", "early_stopping_rounds", "early_stopping_metric", "verbose"} <= set(params)
    assert {"log_period", "feature_names"} <= set(inspect.signature(ltr.Ranker.fit).parameters)
    with pytest.warns(UserWarning, match="every eval_set entry is the training data"):  # recorded, never a stop
        model = small(eval_at=(5,), early_stopping_metric="map").fit(data, eval_set=[data])
    assert sorted(model.evals_result_["valid_0"]) == ["map", "ndcg@5"]


def test_an_unknown_keyword_is_still_a_plain_type_error(data):
    with pytest.raises(TypeError, match=r"^Ranker\.fit\(\) got an unexpected keyword argument 'bogus'$"):
        small().fit(data, bogus=1)
    with pytest.raises(TypeError, match="'init_model'.*no warm start"):  # one with a pointer comes first
        small().fit(data, bogus=1, init_model="m.txt")


def test_metadata_routing_sees_only_the_named_parameters(data):
    import sklearn
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from ltr.evaluation.scoring import ndcg_scorer

    named = [n for n, p in inspect.signature(ltr.Ranker.fit).parameters.items()
             if p.kind is p.KEYWORD_ONLY]
    with sklearn.config_context(enable_metadata_routing=True):
        ranker = small().set_fit_request(qid=True)
        fit_requests = ranker.get_metadata_routing().fit.requests
        assert sorted(fit_requests) == sorted(named) and fit_requests["qid"] is True
        search = GridSearchCV(ranker, {"reg_lambda": [0.0, 1.0]}, scoring=ndcg_scorer(10), cv=GroupKFold(3))
        search.fit(data.X, data.y, qid=data.qid, groups=data.qid)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.n_features_in_ == data.X.shape[1]


# ---------------------------------------------------------------- significance results as JSON


def test_test_results_are_strict_json():
    rng = np.random.default_rng(0)
    a, b = rng.random(30), rng.random(30)
    t = paired_ttest(a, b)
    d = json.loads(json.dumps(t.to_dict(), allow_nan=False))
    ref = stats.ttest_rel(a, b)  # the reference: SciPy's paired t-test on the raw vectors
    assert d["test"] == "t" and d["n"] == 30
    assert math.isclose(d["statistic"], float(ref.statistic), rel_tol=1e-12)
    assert math.isclose(d["pvalue"], float(ref.pvalue), rel_tol=1e-12)
    for result in (wilcoxon_test(a, b), randomization_test(a, b, n_permutations=200)):
        out = result.to_dict()
        json.dumps(out, allow_nan=False)
        assert set(out) == {"test", "statistic", "pvalue", "n"}
        assert all(type(v) in (str, float, int) for v in out.values())


def test_an_infinite_statistic_becomes_null():
    # Constant non-zero differences: t is infinite (SciPy's limit), p = 0.
    d = paired_ttest([0.6, 0.7, 0.8], [0.5, 0.6, 0.7]).to_dict()
    assert json.dumps(d, allow_nan=False) == '{"test": "t", "statistic": null, "pvalue": 0.0, "n": 3}'


def test_an_engine_set_after_fit_is_named_at_predict_and_save(tmp_path):
    """set_params(engine=...) after fit made predict raise 'Cannot predict data for type DMatrix' and save an
    AttributeError (trial t48/pyapi): the model is the engine it was fitted with."""
    from ltr import Ranker, make_ranking

    d = make_ranking(10, 6, 3, random_state=0)
    m = Ranker(n_estimators=2, preset=None, n_jobs=1).fit(d)
    m.set_params(engine="xgboost")
    said = "fitted with engine='lightgbm', and its engine is now 'xgboost' (set_params after fit): fit it again"
    with pytest.raises(ValueError, match=re.escape(said)):
        m.predict(d.X)
    with pytest.raises(ValueError, match=re.escape(said)):
        m.save(tmp_path / "m.txt")
    assert not list(tmp_path.iterdir())
    from ltr.export import ExportError, export

    for engine in ("xgboost", "linear"):  # (as linear, export said 'this is a linear model': the review of t48)
        m.set_params(engine=engine)
        with pytest.raises(ExportError, match=re.escape(f"model: this Ranker's model was fitted with "
                                                        f"engine='lightgbm', and its engine is now {engine!r}")):
            export(m, "es-xgboost", feature_names=["a", "b", "c"])
    m.set_params(engine="lightgbm")
    assert np.isfinite(m.predict(d.X)).all()
