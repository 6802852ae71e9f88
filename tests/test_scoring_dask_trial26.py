"""Trial 26 (a scikit-learn user's): the scorer with Pipelines and routing, the GridSearchCV example's preset, and
the engine of ltr.dask's distributed fits (DistributedRanker follows its Ranker's engine, and never changes it)."""

from __future__ import annotations

import re
import textwrap
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.metrics import ndcg_score
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ltr import Ranker, make_ranking
from ltr._shared import import_reference
from ltr.evaluation import ndcg_scorer, scoring


def _data():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 4)), rng.integers(0, 3, 300)
    return X, y, np.repeat(np.arange(30), 10)


def _zscore_ranker(**kw):
    return Ranker(n_estimators=5, preset=None, min_child_samples=1, normalize="zscore", **kw).set_fit_request(qid=True)


def test_a_pipeline_whose_ranker_normalises_per_query_is_scored_with_the_routed_qid():
    X, y, qid = _data()
    cv, params = GroupKFold(3), {"qid": qid, "groups": qid}
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("s", StandardScaler()), ("r", _zscore_ranker().set_predict_request(qid=True))])
        got = cross_val_score(pipe, X, y, params=params, cv=cv, scoring=ndcg_scorer(10), error_score="raise")
        bare = cross_val_score(_zscore_ranker(), X, y, params=params, cv=cv, scoring=ndcg_scorer(10),
                               error_score="raise")
    # per-query z-scores of standardised columns are the raw columns' z-scores: the same models, the same NDCG
    np.testing.assert_allclose(got, bare, atol=1e-6)
    # independent reference for the first fold: scikit-learn's ndcg_score per query with exp2 gains, averaged
    train, test = next(cv.split(X, y, qid))
    with sklearn.config_context(enable_metadata_routing=True):
        model = Pipeline([("s", StandardScaler()), ("r", _zscore_ranker().set_predict_request(qid=True))])
        scores = model.fit(X[train], y[train], qid=qid[train]).predict(X[test], qid=qid[test])
    per_query = [ndcg_score([2.0 ** y[test][qid[test] == q] - 1], [scores[qid[test] == q]], k=10)
                 for q in np.unique(qid[test])]
    assert got[0] == pytest.approx(np.mean(per_query), abs=1e-9)


def test_a_note_reaches_the_message_where_python_has_no_notes(monkeypatch):
    import ltr.evaluation.scoring as scoring

    e = ValueError("this model normalises features per query")
    scoring.add_note(e, "call set_predict_request(qid=True)")
    assert (str(e), e.__notes__) == ("this model normalises features per query", ["call set_predict_request(qid=True)"])
    monkeypatch.setattr(scoring, "_NOTES", False)  # Python 3.10: BaseException.add_note does not exist
    e = ValueError("this model normalises features per query")
    scoring.add_note(e, "call set_predict_request(qid=True)")
    assert str(e) == "this model normalises features per query (call set_predict_request(qid=True))"
    assert e.__notes__ == ["call set_predict_request(qid=True)"]


def test_a_pipeline_that_does_not_request_qid_says_what_to_call():
    X, y, qid = _data()
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("s", StandardScaler()), ("r", _zscore_ranker())])  # no set_predict_request
        with pytest.raises(ValueError, match="normalises features per query") as info:
            cross_val_score(pipe, X, y, params={"qid": qid, "groups": qid}, cv=GroupKFold(3), scoring=ndcg_scorer(10),
                            error_score="raise")
    assert "set_predict_request(qid=True)" in " ".join(getattr(info.value, "__notes__", []))
    # a pipeline whose Ranker needs no qid to predict is still scored (qid is not forced on an unrequesting predict)
    with sklearn.config_context(enable_metadata_routing=True):
        plain = Pipeline([("s", StandardScaler()), ("r", Ranker(n_estimators=5, preset=None, min_child_samples=1)
                                                     .set_fit_request(qid=True))])
        assert np.isfinite(cross_val_score(plain, X, y, params={"qid": qid, "groups": qid}, cv=GroupKFold(3),
                                           scoring=ndcg_scorer(10), error_score="raise")).all()


def test_no_query_ids_with_routing_enabled_says_the_caller_routes_none():
    from sklearn.inspection import permutation_importance

    d = make_ranking(60, 8, 5, random_state=0)
    model = Ranker(n_estimators=10, preset=None, min_child_samples=5).fit(d)
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(ValueError, match="although metadata routing is enabled") as info:
            permutation_importance(model, d.X, d.y, scoring=ndcg_scorer(10), n_repeats=2, random_state=0)
        assert "enable scikit-learn's metadata routing" not in str(info.value)
        assert "ltr.evaluation.permutation_importance" in str(info.value) and "not group=" in str(info.value)
        scorer = ndcg_scorer(10)  # the closure the message suggests works
        out = permutation_importance(model, d.X, d.y, scoring=lambda est, X, y: scorer(est, X, y, qid=d.qid),
                                     n_repeats=2, random_state=0)
        assert out.importances.shape == (d.n_features, 2)
    with pytest.raises(ValueError, match="enable scikit-learn's metadata routing"):  # routing off: the advice holds
        ndcg_scorer(10)(model, d.X, d.y)


def test_the_grid_search_example_cross_validates_the_model_it_refits():
    # the module's example: its Ranker must not switch to the small-data preset in the folds and not in the refit
    code = textwrap.dedent(re.search(r"::\n\n((?: {4}.*\n|\n)+)", scoring.__doc__).group(1))
    d = make_ranking(60, 8, 5, random_state=0)
    namespace = {"X": d.X, "y": d.y, "qid": d.qid}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(code.replace("n_estimators=50", "n_estimators=5"), namespace)  # noqa: S102 - the docstring's own code
    assert "preset=None" in code
    assert not [w for w in caught if type(w.message).__name__ == "PresetWarning"]
    assert namespace["search"].best_estimator_.preset_params_ == {}


# -- ltr.dask: the engine of a distributed fit ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    distributed = import_reference("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as c:
        yield c


def _small(**kw):
    return Ranker(n_estimators=3, preset=None, min_child_samples=2, early_stopping_rounds=None, **kw)


def test_distributed_ranker_trains_its_rankers_engine_and_leaves_it_unchanged(client):
    from ltr import dask as ld

    d = make_ranking(20, 5, 3, random_state=0)
    ranker = _small(engine="lightgbm")
    dr = ld.DistributedRanker(ranker).fit(d)
    assert dr.ranker_.engine == "lightgbm" and type(dr.booster_).__module__.startswith("lightgbm")
    assert ranker.engine == "lightgbm" and not hasattr(ranker, "booster_")
    dr = ld.DistributedRanker(_small(engine="xgboost")).fit(d)
    assert type(dr.booster_).__module__.startswith("xgboost")
    dr = ld.DistributedRanker(_small(), engine="xgboost").fit(d)  # an explicit engine over Ranker's default
    assert type(dr.booster_).__module__.startswith("xgboost")
    assert ld.DistributedRanker().get_params()["engine"] is None


def test_ltr_dask_fit_never_changes_the_callers_ranker(client):
    from ltr import dask as ld

    d = make_ranking(20, 5, 3, random_state=0)
    ranker = _small(engine="lightgbm")
    fitted = ld.fit(ranker, d, client=client, engine="lightgbm")
    assert fitted is not ranker and fitted.engine == "lightgbm"
    assert type(fitted.booster_).__module__.startswith("lightgbm")
    fitted = ld.fit(ranker, d, client=client)  # the documented default: xgboost.dask
    assert fitted.engine == "xgboost" and type(fitted.booster_).__module__.startswith("xgboost")
    assert ranker.engine == "lightgbm" and not hasattr(ranker, "booster_")


def test_a_contradicting_or_linear_engine_is_refused_by_name(client):
    from ltr import dask as ld

    d = make_ranking(20, 5, 3, random_state=0)
    with pytest.raises(ValueError, match=r"engine='lightgbm' contradicts the Ranker's engine='xgboost'"):
        ld.DistributedRanker(_small(engine="xgboost"), engine="lightgbm").fit(d)
    with pytest.raises(ValueError, match=r"engine='lightgbm' contradicts") as info:
        ld.fit(_small(engine="xgboost"), d, client=client, engine="lightgbm")
    assert info.value.cli_message() == "--dask-engine lightgbm contradicts --engine xgboost: pass one engine"
    with pytest.raises(ValueError, match=r"'linear'.*one process"):
        ld.DistributedRanker(Ranker(engine="linear")).fit(d)
    with pytest.raises(ValueError, match=r"'linear'.*one process"):
        ld.fit(Ranker(engine="linear"), d, client=client, engine="xgboost")
    with pytest.raises(ValueError, match=r"unknown distributed engine 'linear' \(the linear ranker"):
        ld.fit(Ranker(), d, client=client, engine="linear")
