"""scikit-learn's conventions for a Ranker in a notebook: NumPy hyper-parameters (grids from np.arange), a refit
that forgets what described the earlier fit, score's sample_weight, pandas' nullable columns."""

import json

import numpy as np
import pandas as pd
import pytest

from ltr import make_ranking
from ltr.metrics import evaluate_per_query
from ltr.rankers import Ranker, load_model


@pytest.fixture(scope="module")
def data():
    return make_ranking(60, (5, 15), 6, random_state=0)


def _fast(**kw):
    return Ranker(**{"n_estimators": 5, "min_child_samples": 5, "preset": None, **kw})


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_numpy_hyper_parameters_train_and_save_as_their_python_values(data, engine, tmp_path):
    params = {"num_leaves": np.int64(7), "n_estimators": np.int32(5), "learning_rate": np.float32(0.25),
              "max_depth": np.int64(4), "subsample": np.float64(1.0), "random_state": np.int64(3),
              "eval_at": np.array([5, 10])}
    plain = {k: (v.tolist() if isinstance(v, np.ndarray) else v.item()) for k, v in params.items()}
    a = _fast(engine=engine, **params).fit(data)
    b = _fast(engine=engine, **plain).fit(data)
    np.testing.assert_array_equal(a.predict(data), b.predict(data))
    a.save(tmp_path / "m.txt")
    meta = json.loads((tmp_path / "m.txt.meta.json").read_text())
    assert {k: meta["params"][k] for k in params} == plain
    loaded = load_model(tmp_path / "m.txt")
    np.testing.assert_array_equal(loaded.predict(data), a.predict(data))
    # a single cut-off and engine parameters as NumPy scalars: probed, trained and saved as their Python values
    b = _fast(engine=engine, eval_at=np.int64(5), engine_params={"max_bin": np.int64(63)}).fit(data)
    b.save(tmp_path / "b.txt")
    meta = json.loads((tmp_path / "b.txt.meta.json").read_text())["params"]
    assert meta["eval_at"] == 5 and meta["engine_params"] == {"max_bin": 63}


def test_a_grid_of_numpy_values_runs_in_gridsearchcv(data):
    import sklearn
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from ltr.evaluation import ndcg_scorer

    def grid_search(values):
        with sklearn.config_context(enable_metadata_routing=True):
            search = GridSearchCV(_fast().set_fit_request(qid=True), {"num_leaves": values},
                                  scoring=ndcg_scorer(10), cv=GroupKFold(2), error_score="raise")
            return search.fit(data.X, data.y, qid=data.qid, groups=data.qid)

    search = grid_search(np.arange(3, 8, 4))  # np.int64(3), np.int64(7)
    assert search.best_params_["num_leaves"] in (3, 7)
    assert search.best_estimator_.num_leaves == search.best_params_["num_leaves"]
    assert search.best_estimator_.booster_.params["num_leaves"] == search.best_params_["num_leaves"]
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.isfinite(scores).all()
    assert scores[0] != scores[1]  # each value reached LightGBM: 3 and 7 leaves rank differently
    # the NumPy values train exactly as the same Python ints do
    np.testing.assert_array_equal(grid_search([3, 7]).cv_results_["mean_test_score"], scores)


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_every_integer_hyper_parameter_takes_a_whole_float_and_trains_as_the_integer(data, engine):
    # A search space or a TOML file may give 7.0; n_estimators and min_child_samples took it, num_leaves, max_depth
    # and random_state refused it, and the engines themselves refuse "7.0" for an integer (LightGBM: 'should be of
    # type int', XGBoost: 'expect int'): each is taken and given to the engine as the integer.
    valid = [(data.X, data.y)]
    whole = dict(num_leaves=7.0, max_depth=np.float64(4.0), random_state=3.0, n_estimators=6.0,
                 min_child_samples=5.0, early_stopping_rounds=2.0)
    ints = {k: int(v) for k, v in whole.items()}
    a = _fast(engine=engine, **whole).fit(data.X, data.y, qid=data.qid, eval_set=valid, eval_qid=[data.qid])
    b = _fast(engine=engine, **ints).fit(data.X, data.y, qid=data.qid, eval_set=valid, eval_qid=[data.qid])
    np.testing.assert_array_equal(a.predict(data), b.predict(data))


@pytest.mark.parametrize("value, message", [
    (np.random.RandomState(0), "random_state must be None or an integer seed"),
    (np.bool_(True), "num_leaves must be an integer >= 2"),
    (np.float64(7.5), "num_leaves must be an integer >= 2"),
])
def test_what_is_no_integer_is_still_refused_naming_the_parameter(data, value, message):
    key = "random_state" if isinstance(value, np.random.RandomState) else "num_leaves"
    with pytest.raises(ValueError, match=message):
        _fast(**{key: value}).fit(data)


def test_a_refit_without_names_forgets_the_earlier_fits_names_and_saves_a_loadable_model(data, tmp_path):
    frame = pd.DataFrame(data.X, columns=[f"f{i}" for i in range(data.X.shape[1])])
    model = _fast().fit(frame, data.y, qid=data.qid)
    assert list(model.feature_names_in_) == list(frame.columns)
    model.fit(data.X[:, :3], data.y, qid=data.qid)  # other data, no names
    assert model.n_features_in_ == 3 and not hasattr(model, "feature_names_in_")
    model.save(tmp_path / "m.txt")
    assert load_model(tmp_path / "m.txt").n_features_in_ == 3
    # a loaded model retrained: what described the file it came from (how its data was read) goes too
    loaded = load_model(tmp_path / "m.txt")
    loaded.read_options_ = {"zero_based": True}
    loaded.fit(frame, data.y, qid=data.qid)
    assert loaded.read_options_ is None and list(loaded.feature_names_in_) == list(frame.columns)


def test_score_weights_the_mean_over_queries_by_the_query_weights(data):
    model = _fast().fit(data)
    ptr = data.group_ptr
    per_query = evaluate_per_query(data.y, model.predict(data), group_ptr=ptr, metrics=["ndcg@10"])["ndcg@10"]
    query_weight = np.arange(ptr.size - 1) % 3  # 0, 1, 2, 0, ...: a third of the queries left out
    rows = np.repeat(query_weight, np.diff(ptr)).astype(float)
    expected = (per_query * query_weight).sum() / query_weight.sum()
    assert model.score(data, sample_weight=rows) == pytest.approx(expected, rel=1e-12)
    assert model.score(data, sample_weight=np.ones(len(rows))) == pytest.approx(per_query.mean(), rel=1e-12)
    uneven = rows.copy()
    uneven[ptr[1]] += 1.0  # the second query's first row differs from its others
    with pytest.raises(ValueError, match=r"equal within a query .*query 1 \(rows"):
        model.score(data, sample_weight=uneven)
    with pytest.raises(ValueError, match="one weight per row"):
        model.score(data, sample_weight=rows[:-1])
    with pytest.raises(ValueError, match="must be numbers"):
        model.score(data, sample_weight="nonsense")


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_pandas_nullable_columns_are_read_as_the_engines_read_them(data, engine):
    frame = pd.DataFrame(data.X.astype(np.float64), columns=[f"f{i}" for i in range(data.X.shape[1])])
    nullable = frame.astype("Float64")
    nullable.iloc[0, 0] = pd.NA  # a missing value, as NaN
    dense = frame.copy()
    dense.iloc[0, 0] = np.nan
    a = _fast(engine=engine).fit(nullable, data.y, qid=data.qid)
    b = _fast(engine=engine).fit(dense, data.y, qid=data.qid)
    np.testing.assert_array_equal(a.predict(nullable), b.predict(dense))
    with pytest.raises(TypeError, match=r"X must be numeric: column 'f1' has dtype category"):
        _fast(engine=engine).fit(frame.astype({"f1": "category"}), data.y, qid=data.qid)


def test_a_dataset_with_its_named_features_in_another_order_is_refused_as_a_frame_is(data):
    import dataclasses

    model = _fast().fit(data)
    order = np.arange(data.X.shape[1])[::-1]
    names = [data.feature_names[i] for i in order]
    reordered = dataclasses.replace(data, X=data.X[:, order], feature_names=names)
    for call in (model.predict, model.score, lambda d: _fast().fit(data, eval_set=[d])):
        with pytest.raises(ValueError, match=r"columns are the model's features in another order "
                                             rf"\(column 0 counting from 0: '{names[0]}', the model's 'f1'\)"):
            call(reordered)
    unnamed = dataclasses.replace(data, feature_names=None)  # a LETOR file without names: read by position
    np.testing.assert_array_equal(model.predict(unnamed), model.predict(data))


@pytest.mark.parametrize("alias, canonical, value", [
    ("min_child_samples", "min_data_in_leaf", 40), ("min_data", "min_data_in_leaf", 40),
    ("reg_lambda", "lambda_l2", 50.0), ("lambda", "lambda_l2", 50.0), ("num_leaf", "num_leaves", 3),
    ("max_leaves", "num_leaves", 3), ("random_state", "seed", 5),
])
def test_a_lightgbm_parameter_given_by_an_alias_trains_as_by_its_own_name(data, alias, canonical, value):
    """LightGBM resolves a parameter given twice in favour of its canonical name: the Ranker's own key (written for
    every fit) silently beat an alias in engine_params."""
    def fit(**kw):  # the ranker's own parameters at their defaults (given, they would be refused beside these)
        return Ranker(n_estimators=10, subsample=0.5, preset=None, **kw).fit(data)  # subsample: the seed matters

    by_alias, by_name, default = fit(engine_params={alias: value}), fit(engine_params={canonical: value}), fit()
    np.testing.assert_array_equal(by_alias.predict(data), by_name.predict(data))
    assert not np.array_equal(by_alias.predict(data), default.predict(data))
