"""What :func:`ltr.tuning.tune` hands back, used from a notebook: the chosen parameters as configured rankers (one
per outer fold), a strict-JSON ``to_dict``, and the documented way to one final configuration."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ltr import Ranker, make_ranking
from ltr._shared import import_reference
from ltr.evaluation import CVResult, query_kfold
from ltr.metrics import evaluate_per_query
from ltr.tuning import TuneResult, apply_params, inner_score, load_space, tune

optuna = import_reference("optuna")  # the tune extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1

FAST = dict(n_estimators=8, min_child_samples=2, n_jobs=1)
# a Ranker parameter and an engine parameter: the key format that set_params refuses
SPACE = {"num_leaves": {"low": 2, "high": 8}, "learning_rate": {"low": 0.05, "high": 0.3, "log": True},
         "engine_params": {"bagging_by_query": {"choices": [True, False]}}}


@pytest.fixture(scope="module")
def data():
    return make_ranking(30, (4, 10), 5, random_state=0)


@pytest.fixture(scope="module")
def result(data):
    return tune(data, estimator=Ranker(**FAST), space=SPACE, n_trials=3, outer_folds=3, inner_folds=2,
                random_state=2, progress=False, metrics=["map"])


def test_best_params_are_keyed_by_the_space_and_are_not_set_params_keywords(result):
    assert set(result.best_params[0]) == {"num_leaves", "learning_rate", "engine_params.bagging_by_query"}
    with pytest.raises(ValueError, match="Invalid parameter 'engine_params.bagging_by_query'"):
        Ranker().set_params(**result.best_params[0])  # why best_estimator exists (and the docstring says so)
    doc = TuneResult.__doc__
    assert "engine_params.NAME" in doc and "apply_params" in doc and "best_estimator" in doc


def test_best_estimator_is_the_fixed_ranker_set_to_each_folds_choice(result):
    models = result.best_estimators()
    assert len(models) == len(result.best_params) == 3
    for i, (model, chosen) in enumerate(zip(models, result.best_params)):
        p = model.get_params(deep=False)
        assert p["num_leaves"] == chosen["num_leaves"] and p["learning_rate"] == chosen["learning_rate"]
        assert p["engine_params"] == {"bagging_by_query": chosen["engine_params.bagging_by_query"]}
        assert (p["n_estimators"], p["min_child_samples"], p["n_jobs"]) == (8, 2, 1)  # the fixed options stay
        assert not hasattr(model, "model_") and model is not result.estimator  # unfitted, a clone each time
        assert result.best_estimator(i).get_params(deep=False) == p
    assert result.estimator.get_params(deep=False)["engine_params"] is None  # the base is left as it was


def _average_precision(scores, rel, tie_key):
    """AP from its definition (mean over the relevant documents of the precision at their rank), ranking by
    ``-scores`` and then ``tie_key`` among equal scores."""
    order = np.lexsort((tie_key, -scores))
    hit = rel[order]
    return float(np.sum(np.cumsum(hit)[hit] / (np.flatnonzero(hit) + 1)) / hit.sum()) if hit.any() else 0.0


def test_a_best_estimator_fitted_on_its_outer_training_queries_gives_the_folds_reported_results(data, result):
    # the reference: the fold's test queries ranked by hand, AP from its published definition (a query with tied
    # scores: between its AP with the relevant documents last among the ties and first)
    fold = query_kfold(data, 3, validation=False, random_state=2)[1]
    scores = result.best_estimator(1).fit(fold.train).predict(fold.test)
    gp, y = fold.test.group_ptr, fold.test.y
    reported = result.cv.folds[1].per_query["map"]
    exact = 0
    for q in range(len(gp) - 1):
        s, rel = scores[gp[q]:gp[q + 1]], y[gp[q]:gp[q + 1]] > 0
        low, high = _average_precision(s, rel, rel), _average_precision(s, rel, ~rel)
        assert low - 1e-12 <= reported[q] <= high + 1e-12
        if len(np.unique(s)) == len(s):
            exact += 1
            assert reported[q] == pytest.approx(low, abs=1e-12)
    assert exact >= len(gp) // 2  # most queries have no tie: the check is exact there


def test_best_estimator_refuses_a_fold_out_of_range_and_a_result_without_its_ranker(result):
    for bad in (-1, 3, 1.0, True, "Fold1"):
        with pytest.raises(ValueError, match=rf"^fold must be an outer fold's index, 0 to 2, got {bad!r}$"):
            result.best_estimator(bad)
    bare = TuneResult(result.cv, result.best_params, result.best_inner)
    with pytest.raises(ValueError, match="no estimator .*apply_params"):
        bare.best_estimator(0)
    assert apply_params(Ranker(**FAST), result.best_params[0]).get_params() == \
        result.best_estimator(0).get_params()  # the converter the message names gives the same ranker


def test_to_dict_is_strict_json_and_carries_every_field(result):
    d = result.to_dict()
    text = json.dumps(d, allow_nan=False)
    back = json.loads(text)
    assert back["best_params"] == result.best_params and back["best_inner"] == result.best_inner
    assert back["trials"] == result.trials and (back["resumed"], back["other_setups"]) == (0, 0)
    assert back["estimator"]["n_estimators"] == 8 and back["estimator"]["engine"] == "lightgbm"
    cv = CVResult.from_dict(back["cv"])  # the result file's content, as CVResult.to_dict writes it
    assert cv.mean() == pytest.approx(result.cv.mean(), abs=1e-12)


def test_to_dict_writes_nan_as_null_and_numpy_values_as_plain_ones(result):
    odd = TuneResult(result.cv, [{"num_leaves": np.int64(4), "learning_rate": np.float32(0.5),
                                  "engine_params.bagging_by_query": np.bool_(True)}],
                     [math.nan], [[{"number": 0, "params": {}, "value": math.inf}]])
    back = json.loads(json.dumps(odd.to_dict(), allow_nan=False))
    assert back["best_params"] == [{"num_leaves": 4, "learning_rate": 0.5, "engine_params.bagging_by_query": True}]
    assert back["best_inner"] == [None] and back["trials"][0][0]["value"] is None and back["estimator"] is None


def test_the_documented_way_to_one_final_configuration_runs(data, result):
    # TuneResult's docstring: no single choice comes out of nested CV; run the search once on every query
    base = result.estimator
    tuning = result.cv.settings["tuning"]
    space = load_space(tuning["space"], base)  # the space the search used
    assert [p.name for p in space.params] == [p.name for p in load_space(SPACE, base).params]
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    splits = list(range(tuning["inner_repeats"]))  # one seed per split of the queries
    study.optimize(lambda t: inner_score(apply_params(base, space.suggest(t)), data, metric=tuning["metric"],
                                         n_folds=tuning["inner_folds"], random_state=splits), n_trials=2)
    final = apply_params(base, study.best_params).fit(data)
    assert final.get_params()["num_leaves"] == study.best_params["num_leaves"]
    assert np.isfinite(evaluate_per_query(data.y, final.predict(data), group_ptr=data.group_ptr,
                                          metrics=["ndcg@10"])["ndcg@10"]).all()
