import contextlib
import json
import re

import numpy as np
import pytest
from sklearn.base import clone

import ltr
from ltr import ModelFormatError, make_ranking
from ltr._shared import tiny_ranker
from ltr.metrics import evaluate
from ltr.rankers import Ranker, load_model


@pytest.fixture(scope="module")
def data():
    return make_ranking(120, (5, 25), 12, random_state=0), make_ranking(60, (5, 25), 12, random_state=1)


def _fast(**kw):
    return tiny_ranker(**{"n_estimators": 20, "min_child_samples": 5, **kw})


def test_ranker_is_exported_at_top_level():
    assert ltr.Ranker is Ranker and ltr.load_model is load_model


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_native_lambdarank_learns_the_synthetic_signal(data, engine):
    train, test = data
    model = _fast(engine=engine, n_estimators=40).fit(train.X, train.y, qid=train.qid)
    learned = model.score(test.X, test.y, qid=test.qid)
    shuffled = evaluate(test.y, np.random.default_rng(0).random(test.n_rows), group_ptr=test.group_ptr,
                        metrics=["ndcg@10"])["ndcg@10"]
    assert learned > shuffled + 0.15


def test_fit_accepts_a_dataset_and_keeps_its_feature_names(data):
    train, _ = data
    model = _fast().fit(train)
    assert list(model.feature_names_in_) == list(train.feature_names)
    assert model.n_features_in_ == train.n_features


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost", "linear"])
def test_a_dataframes_columns_name_the_features_and_a_reordered_frame_is_refused(data, engine, tmp_path):
    import pandas as pd

    train, test = data
    cols = [f"c{j}" for j in range(train.n_features)]
    frame, later = pd.DataFrame(train.X, columns=cols), pd.DataFrame(test.X, columns=cols)
    model = (Ranker(engine="linear", n_jobs=1) if engine == "linear" else _fast(engine=engine)).fit(
        frame, train.y, qid=train.qid)
    assert list(model.feature_names_in_) == cols  # as scikit-learn sets it from string columns
    with pytest.warns(UserWarning, match="X does not have valid feature names, but Ranker was fitted with feature"):
        unnamed = model.predict(np.asarray(test.X))  # scikit-learn's warning, and the same scores
    np.testing.assert_array_equal(model.predict(later), unnamed)
    # the engines read columns by position: scikit-learn and XGBoost refuse such a frame, and so does this
    with pytest.raises(ValueError, match=r"X's columns are the model's features in another order "
                                         r"\(column 0 counting from 0: 'c11', the model's 'c0'\)"):
        model.predict(later[cols[::-1]])
    with pytest.raises(ValueError, match=r"column names differ from the model's features .*missing: \['c0'\]"):
        model.predict(later.rename(columns={"c0": "other"}))
    np.testing.assert_array_equal(model.predict(later[cols[::-1]][model.feature_names_in_]), model.predict(later))
    with pytest.raises(ValueError, match="in another order"):  # score goes through the same check
        model.score(later[cols[::-1]], test.y, qid=test.qid)
    model.save(tmp_path / "m.json")
    with pytest.raises(ValueError, match="in another order"):  # the names travel with the saved model
        load_model(tmp_path / "m.json").predict(later[cols[::-1]])


def test_a_dataframes_columns_named_like_placeholders_are_its_users_names(data, tmp_path):
    # a frame's f0..fN are names its user gave (scikit-learn refuses g0..gN then): not the f1.. of a LETOR file's
    # unnamed columns, by which a frame is scored by position; was accepted, warning "fitted without feature names"
    import pandas as pd

    train, test = data
    cols = [f"f{j}" for j in range(train.n_features)]
    model = _fast().fit(pd.DataFrame(train.X, columns=cols), train.y, qid=train.qid)
    other = pd.DataFrame(test.X, columns=[f"g{j}" for j in range(train.n_features)])
    for m in (model, model.save(tmp_path / "m.txt") or load_model(tmp_path / "m.txt")):
        with pytest.raises(ValueError, match=r"column names differ from the model's features .*missing: \['f0'"):
            m.predict(other)
    letor = _fast().fit(train)  # unnamed LETOR columns (f1..): a named frame is scored by position, as before
    with pytest.warns(UserWarning, match="the model was fitted without feature names"):
        assert letor.predict(other).shape == (test.n_rows,)


def test_a_dataframe_naming_a_column_twice_is_refused(data):
    import pandas as pd

    train, _ = data
    cols = [f"c{j}" for j in range(train.n_features)]
    cols[1] = "c0"  # a swap of the two could not be told
    with pytest.raises(ValueError, match="X has the column name 'c0' twice"):
        _fast().fit(pd.DataFrame(train.X, columns=cols), train.y, qid=train.qid)


def test_feature_names_that_contradict_a_dataframes_columns_are_refused(data):
    import pandas as pd

    train, _ = data
    frame = pd.DataFrame(train.X, columns=[f"c{j}" for j in range(train.n_features)])
    with pytest.raises(ValueError, match="feature_names differ from X's column names"):
        _fast().fit(frame, train.y, qid=train.qid, feature_names=[f"g{j}" for j in range(train.n_features)])
    with pytest.raises(ValueError, match=r"eval_set\[0\]'s columns are the model's features in another order"):
        _fast().fit(frame, train.y, qid=train.qid, eval_set=[(frame[frame.columns[::-1]], train.y, train.qid)])


def test_score_without_query_ids_says_how_scikit_learn_passes_them(data):
    from sklearn.model_selection import GroupKFold, cross_val_score

    train, _ = data
    model = _fast().fit(train)
    with pytest.raises(ValueError, match=r"score got no query ids: .*enable metadata routing"):
        model.score(np.asarray(train.X), train.y)
    # the way the message gives: routing on, ndcg_scorer, qid routed to fit and to the scorer
    import sklearn

    from ltr.evaluation import ndcg_scorer

    qid = np.asarray(train.qid)
    with sklearn.config_context(enable_metadata_routing=True):
        got = cross_val_score(_fast().set_fit_request(qid=True), np.asarray(train.X), train.y, cv=GroupKFold(3),
                              scoring=ndcg_scorer(10), params={"qid": qid, "groups": qid})
    assert np.isfinite(got).all() and got.shape == (3,)


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_negative_or_non_finite_sample_weights_are_refused_naming_the_row(data, bad):
    train, _ = data
    w = np.ones(train.n_rows)
    w[7] = bad
    with pytest.raises(ValueError, match=rf"sample_weight must be finite and >= 0, got {bad!r} at row 7"):
        _fast().fit(train.X, train.y, qid=train.qid, sample_weight=w)


def test_fit_needs_exactly_one_of_qid_and_group(data):
    train, _ = data
    with pytest.raises(ValueError, match="exactly one of qid"):
        _fast().fit(train.X, train.y)
    with pytest.raises(ValueError, match="both"):
        _fast().fit(train.X, train.y, qid=train.qid, group=train.group_sizes)


def test_group_and_qid_give_the_same_model(data):
    train, test = data
    a = _fast().fit(train.X, train.y, qid=train.qid).predict(test.X)
    b = _fast().fit(train.X, train.y, group=train.group_sizes).predict(test.X)
    np.testing.assert_array_equal(a, b)


def test_predict_checks_the_feature_count(data):
    train, _ = data
    model = _fast().fit(train)
    with pytest.raises(ValueError, match=r"X has 11 features but the model was trained on 12.*n_features=12"):
        model.predict(train.X[:, :11])


def test_unknown_engine_objective_kernel_list_the_valid_ones(data):
    train, _ = data
    with pytest.raises(ValueError, match=r"unknown engine 'catboost'.*lightgbm.*xgboost"):
        _fast(engine="catboost").fit(train)
    with pytest.raises(ValueError, match=r"unknown objective 'softrank'.*lambdarank"):
        _fast(objective="softrank").fit(train)
    with pytest.raises(ValueError, match=r"unknown kernel 'cuda'"):
        _fast(kernel="cuda").fit(train)
    with pytest.raises(ValueError, match="lightgbm has no native 'listnet'.*kernel='numba'"):
        _fast(objective="listnet").fit(train)


def test_nan_labels_are_an_error_and_nan_features_are_passed_to_the_engine(data):
    train, _ = data
    y = train.y.copy()
    y[3] = np.nan
    with pytest.raises(ValueError, match="NaN labels.*row 3"):
        _fast().fit(train.X, y, qid=train.qid)
    X = train.X.copy()
    X[::7, 0] = np.nan
    assert np.isfinite(_fast().fit(X, train.y, qid=train.qid).predict(X)).all()


def test_train_valid_feature_mismatch_is_a_clear_error(data):
    train, test = data
    with pytest.raises(ValueError, match="eval_set\\[0\\] has 11 features but the training data has 12"):
        _fast().fit(train, eval_set=[(test.X[:, :11], test.y, test.qid)])


def test_clone_and_params_round_trip_without_mutating_dicts():
    params = {"lambdarank_truncation_level": 10}
    model = _fast(objective_params=params, engine_params={"max_bin": 63})
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    copy.set_params(num_leaves=15)
    assert model.num_leaves == 7
    assert params == {"lambdarank_truncation_level": 10}


def test_engine_params_are_copied_not_mutated(data):
    train, _ = data
    eng = {"max_bin": 63}
    _fast(engine_params=eng).fit(train)
    assert eng == {"max_bin": 63}


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_early_stopping_records_rounds_and_predicts_with_the_best(data, engine):
    train, valid = data
    model = _fast(engine=engine, n_estimators=200, learning_rate=0.3, early_stopping_rounds=5, eval_at=(10, 5))
    model.fit(train, eval_set=[valid])
    curve = model.evals_result_["valid_0"]["ndcg@10"]
    assert set(model.evals_result_["valid_0"]) == {"ndcg@10", "ndcg@5"}
    assert model.best_iteration_ < 200 and len(curve) == model.best_iteration_ + 5
    assert curve[model.best_iteration_ - 1] == pytest.approx(max(curve), abs=0)
    # The logged metric is ltr.metrics' NDCG of the model's predictions at the best round.
    got = evaluate(valid.y, model.predict(valid), group_ptr=valid.group_ptr, metrics=["ndcg@10"])["ndcg@10"]
    assert got == pytest.approx(curve[model.best_iteration_ - 1], abs=1e-12)


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_saved_model_predicts_identically_after_loading(data, tmp_path, engine):
    train, test = data
    model = _fast(engine=engine).fit(train)
    path = tmp_path / "model.txt"
    model.save(path)
    meta = json.loads((tmp_path / "model.txt.meta.json").read_text())
    assert meta["params"]["engine"] == engine and meta["n_features"] == 12
    assert meta["feature_names"] == list(train.feature_names)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(test), model.predict(test))
    assert loaded.get_params() == model.get_params()


def test_truncated_edited_or_missing_model_files_are_refused(data, tmp_path):
    train, _ = data
    path = tmp_path / "model.txt"
    _fast().fit(train).save(path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ModelFormatError, match="truncated or edited"):
        load_model(path)
    path.write_text(text.replace("num_leaves=7", "num_leaves=8", 1))
    with pytest.raises(ModelFormatError, match="truncated or edited"):
        load_model(path)
    meta = (tmp_path / "model.txt.meta.json").read_text()
    (tmp_path / "model.txt.meta.json").write_text(meta.replace('"learning_rate": 0.05', '"learning_rate": NaN'))
    with pytest.raises(ModelFormatError, match=r"model\.txt\.meta\.json: not valid JSON \(NaN is not a JSON value\)"):
        load_model(path)
    (tmp_path / "model.txt.meta.json").write_text("{not json")
    with pytest.raises(ModelFormatError, match="not valid JSON"):
        load_model(path)
    (tmp_path / "model.txt.meta.json").unlink()
    # Without its sidecar the file is read as a plain LightGBM model: the edit is caught by the structure check
    # before LightGBM sees the text.
    with pytest.raises(ModelFormatError, match=r"model.txt:\d+: tree 0: .* entries, expected"):
        load_model(path)
    path.unlink()
    with pytest.raises(FileNotFoundError, match="model file not found"):  # as open() and read_letor raise
        load_model(path)


def test_unfitted_model_says_so():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted"):
        Ranker().predict(np.zeros((1, 2)))


def test_feature_importances_point_at_the_informative_features(data):
    train, _ = data
    imp = _fast(n_estimators=40).fit(train).feature_importances_
    assert imp.shape == (12,) and imp.sum() == pytest.approx(1.0)
    assert imp[:5].sum() > 0.7  # make_ranking's signal lives in the first five features


def test_xgboost_native_ranker_requires_one_weight_per_query(data):
    train, _ = data
    w = np.ones(train.n_rows)
    w[1] = 2.0
    with pytest.raises(ValueError, match="one weight per query"):
        _fast(engine="xgboost").fit(train.X, train.y, qid=train.qid, sample_weight=w)


@pytest.mark.parametrize("engine, kernel", [("lightgbm", "native"), ("xgboost", "native"), ("lightgbm", "numba")])
def test_the_documented_logistic_objective_trains_on_binary_relevance(data, engine, kernel):
    """Ranker(objective='logistic') is documented and used to raise: graded labels count as relevant at >= 1."""
    train, test = data
    model = _fast(objective="logistic", engine=engine, kernel=kernel, n_estimators=30).fit(train)
    learned = model.score(test)
    shuffled = evaluate(test.y, np.random.default_rng(0).random(test.n_rows), group_ptr=test.group_ptr,
                        metrics=["ndcg@10"])["ndcg@10"]
    assert learned > shuffled + 0.1


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_log_period_prints_every_period_and_the_last_round_with_the_recorded_values(data, engine, capsys):
    train, valid = data
    model = _fast(engine=engine, n_estimators=25, early_stopping_rounds=50)
    model.fit(train, eval_set=[valid], log_period=10)
    lines = capsys.readouterr().err.strip().splitlines()
    rounds = [int(line[1:line.index("]")]) for line in lines]
    assert rounds == [10, 20, 25]
    curve = model.evals_result_["valid_0"]["ndcg@10"]
    for r, line in zip(rounds, lines):
        assert float(line.rsplit(":", 1)[1]) == pytest.approx(curve[r - 1], rel=1e-5)  # printed with 6 digits


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_log_period_without_an_eval_set_prints_the_rounds(data, engine, capsys):
    """A trial (t45): a long `ltr train` without --valid wrote nothing to a log file until it ended."""
    train, _ = data
    _fast(engine=engine, n_estimators=25, early_stopping_rounds=None).fit(train, log_period=10)
    assert capsys.readouterr().err.strip().splitlines() == ["[10] of 25 rounds", "[20] of 25 rounds",
                                                            "[25] of 25 rounds"]


def test_the_linear_engines_pass_log_without_an_eval_set_ends_with_its_objective(data, capsys):
    train, _ = data
    ltr_linear = Ranker(engine="linear", preset=None, engine_params={"n_restarts": 2})
    ltr_linear.fit(train, log_period=1)
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(re.fullmatch(r"\[\d+\] restart \d+ pass \d+ objective [-+.\de]+", line) for line in lines)


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_eval_group_and_eval_qid_describe_the_eval_set_as_a_dataset_does(data, engine):
    train, valid = data
    sizes = np.diff(valid.group_ptr)
    curves = []
    for kw in ({"eval_set": [valid]}, {"eval_set": [(valid.X, valid.y)], "eval_group": [sizes]},
               {"eval_set": [(valid.X, valid.y)], "eval_qid": [np.repeat(np.arange(sizes.size), sizes)]},
               {"eval_set": [(valid.X, valid.y, valid.qid)]}):
        model = _fast(engine=engine, n_estimators=30, early_stopping_rounds=5).fit(train, **kw)
        curves.append((model.best_iteration_, model.evals_result_["valid_0"]["ndcg@10"]))
    assert all(c == curves[0] for c in curves[1:])
    with pytest.raises(ValueError, match="not both"):
        _fast(engine=engine).fit(train, eval_set=[(valid.X, valid.y)], eval_group=[sizes],
                                 eval_qid=[np.zeros(valid.y.size)])
    with pytest.raises(ValueError, match="entries for"):
        _fast(engine=engine).fit(train, eval_set=[(valid.X, valid.y)], eval_group=[sizes, sizes])


@pytest.mark.parametrize("engine, kernel", [("lightgbm", "numba"), ("xgboost", "numba"), ("linear", "native")])
def test_eval_params_set_the_conventions_of_the_recorded_metrics(engine, kernel):
    """Order labels (MQ2007/8-list) are beyond the exp2 gain: with eval_params={"gain": "linear"} the validation
    curve is linear-gain NDCG, each round equal to ltr.metrics.evaluate of that round's predictions."""
    from ltr.datasets import RankingDataset

    d = make_ranking(30, (6, 6), 4, random_state=3)
    order = RankingDataset(d.X, (d.y * 400 + np.arange(d.y.size) % 7).astype(np.float64), d.qid, d.group_ptr)
    objective = "ndcg@10" if engine == "linear" else "listnet"
    extra = {"engine_params": {"gain": "linear"}} if engine == "linear" else {"n_estimators": 4, "preset": None}
    stops = pytest.warns(UserWarning, match="every eval_set entry is the training data") if engine != "linear" \
        else contextlib.nullcontext()  # early stopping on by default, and only the training data to watch
    with pytest.raises(ValueError, match="is beyond the exp2 gain"), stops:
        Ranker(objective=objective, engine=engine, kernel=kernel, n_jobs=1, **extra).fit(order, eval_set=[order])
    model = Ranker(objective=objective, engine=engine, kernel=kernel, n_jobs=1, early_stopping_rounds=None,
                   eval_params={"gain": "linear"}, **extra).fit(order, eval_set=[order])
    curve = model.evals_result_["valid_0"]["ndcg@10"]
    assert np.isfinite(curve).all()
    if engine != "linear":  # a boosting round per entry: the curve's last value is the final model's
        want = evaluate(order.y, model.predict(order), group_ptr=order.group_ptr, metrics=["ndcg@10"], gain="linear")
        assert curve[-1] == pytest.approx(want["ndcg@10"])
    with pytest.raises(ValueError, match=r"eval_params has unknown key\(s\) \['gainn'\]; known: \['gain', 'ties'"):
        Ranker(engine=engine, kernel=kernel, eval_params={"gainn": "linear"}, **extra).fit(order)


def test_xgboost_parity_kernel_with_query_weights_grows_natives_trees():
    """mode='xgboost' is rank:ndcg's gradients: with query weights the kernel path gave XGBoost no weights, so its
    quantile sketch was unweighted and the trees other than native's (0.038 apart with a zero-weight query, the
    numerics trial). Reference: XGBoost's native rank:ndcg with the same weights; the two agree to float32 rounding
    as they do without weights."""
    rng = np.random.default_rng(0)
    X, y, sizes = rng.normal(size=(60, 4)), rng.integers(0, 3, 60).astype(float), [20, 20, 20]
    for w in (np.r_[np.zeros(20), np.ones(40)], np.repeat([0.5, 3.0, 1.0], 20), None):
        kw = dict(n_estimators=5, early_stopping_rounds=None, engine="xgboost", objective="lambdarank", preset=None)
        native = Ranker(**kw).fit(X, y, group=sizes, sample_weight=w).predict(X)
        kernel = Ranker(**kw, kernel="numba", objective_params={"mode": "xgboost"}).fit(
            X, y, group=sizes, sample_weight=w).predict(X)
        assert np.abs(native - kernel).max() < 1e-7, w
