"""Findings of a scikit-learn user's trial of ``ltr.Ranker`` against LGBMRanker / XGBRanker (trial 26): the training
data among the eval sets, sparse float64 input, XGBRanker's ``qid`` column, complex and 0-column X, and messages."""

from __future__ import annotations

import warnings

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
import xgboost as xgb
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold

import ltr
from ltr.evaluation import ndcg_scorer
from ltr.io import read_letor


def small(**kw):
    return ltr.Ranker(n_estimators=5, preset=None, min_child_samples=1, **kw)


@pytest.fixture
def toy():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 3)), rng.integers(0, 3, 40), [10] * 4


@pytest.fixture(scope="module")
def mq_split(request):
    shared_file = request.getfixturevalue("shared_file")
    a, b, te = (read_letor(shared_file(f"mq2008/{p}"), n_features=46)
                for p in ("Fold1/vali.txt.gz", "Fold2/test.txt.gz", "Fold1/test.txt.gz"))
    X = np.vstack([a.X, b.X])
    y = np.r_[a.y, b.y]
    g = np.r_[np.diff(a.group_ptr), np.diff(b.group_ptr)]
    return X, y, g, te.X, te.y, np.diff(te.group_ptr)


# -- 2. the training set among the eval sets never stops training ------------------------------------------------
@pytest.mark.shared
def test_training_set_first_in_eval_set_stops_where_lgbmranker_stops(mq_split):
    X, y, g, Xt, yt, gt = mq_split
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lightgbm 4.7 deprecates eval_set for eval_X / eval_y
        ref = lgb.LGBMRanker(n_estimators=300, learning_rate=0.1, verbose=-1).fit(
            X, y, group=g, eval_set=[(X, y), (Xt, yt)], eval_group=[g, gt], eval_at=[10],
            callbacks=[lgb.early_stopping(20, verbose=False)])
    ours = ltr.Ranker(n_estimators=300, learning_rate=0.1, preset=None, early_stopping_rounds=20,
                      eval_params={"convention": "lightgbm"}).fit(X, y, group=g, eval_set=[(X, y), (Xt, yt)],
                                                                   eval_group=[g, gt])
    assert list(ours.evals_result_) == list(ref.evals_result_) == ["training", "valid_1"]
    assert ours.best_iteration_ == ref.best_iteration_ == 16
    np.testing.assert_allclose(ours.evals_result_["valid_1"]["ndcg@10"], ref.evals_result_["valid_1"]["ndcg@10"],
                               rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
    # A copy of the training data (other objects) is a validation set like any other, as LGBMRanker takes it
    copy = ltr.Ranker(n_estimators=30, learning_rate=0.1, preset=None, early_stopping_rounds=20).fit(
        X, y, group=g, eval_set=[(X.copy(), y.copy()), (Xt, yt)], eval_group=[g, gt])
    assert list(copy.evals_result_) == ["valid_0", "valid_1"]


@pytest.mark.shared
def test_training_set_first_in_eval_set_xgboost_stops_on_the_validation_set(mq_split):
    X, y, g, Xt, yt, gt = mq_split
    ref = xgb.XGBRanker(n_estimators=300, learning_rate=0.1, tree_method="hist", grow_policy="lossguide",
                        max_leaves=31, max_depth=0, reg_lambda=0.0, random_state=0, lambdarank_pair_method="topk",
                        eval_metric="ndcg@10", early_stopping_rounds=20)
    ref.fit(X, y, group=g, eval_set=[(X, y), (Xt, yt)], eval_group=[g, gt], verbose=False)  # XGBoost: the last set
    ours = ltr.Ranker(engine="xgboost", n_estimators=300, learning_rate=0.1, preset=None, early_stopping_rounds=20,
                      eval_params={"no_relevant": 1.0}).fit(X, y, group=g, eval_set=[(X, y), (Xt, yt)],
                                                             eval_group=[g, gt])
    assert ours.best_iteration_ == ref.best_iteration + 1
    assert list(ours.evals_result_) == ["training", "valid_1"]


def test_only_the_training_set_warns_and_trains_every_round(toy):
    X, y, g = toy
    with pytest.warns(UserWarning, match="every eval_set entry is the training data"):
        m = small(early_stopping_rounds=1).fit(X, y, group=g, eval_set=[(X, y)], eval_group=[g])
    assert m.best_iteration_ == m.n_rounds_ == 5 and list(m.evals_result_) == ["valid_0"]


def test_eval_names_are_kept_and_order_of_evals_result_is_as_given(toy):
    X, y, g = toy
    rng = np.random.default_rng(1)
    Xv, yv = rng.normal(size=(40, 3)), rng.integers(0, 3, 40)
    m = small().fit(X, y, group=g, eval_set=[(X, y), (Xv, yv)], eval_group=[g, g], eval_names=["tr", "va"])
    assert list(m.evals_result_) == ["tr", "va"]


# -- 3. sparse float64 input keeps float64 -------------------------------------------------------------------------
def _fine_data():
    rng = np.random.default_rng(0)
    n = 3000
    X = rng.normal(size=(n, 6)) * 1e-3 + 1.0  # float64 values that float32 cannot all separate
    X[rng.random(X.shape) < 0.5] = 0.0
    return X, rng.integers(0, 3, n), [20] * (n // 20)


def test_sparse_float64_trains_the_dense_model_and_lgbmrankers():
    X, y, g = _fine_data()
    S = sp.csr_matrix(X)
    kw = dict(n_estimators=30, learning_rate=0.1)
    ref = lgb.LGBMRanker(**kw, verbose=-1).fit(S, y, group=g)
    sparse = ltr.Ranker(**kw, preset=None).fit(S, y, group=g)
    dense = ltr.Ranker(**kw, preset=None).fit(X, y, group=g)
    np.testing.assert_array_equal(sparse.predict(S), ref.predict(S))
    np.testing.assert_array_equal(dense.predict(X), sparse.predict(S))
    np.testing.assert_array_equal(dense.predict(X), dense.predict(S))  # one model, either container
    assert dense.engine_input(S).dtype == np.float64
    assert dense.engine_input(sp.csr_matrix(X.astype(np.float32))).dtype == np.float32


def test_sparse_float64_with_normaliser_and_linear_engine():
    X, y, g = _fine_data()
    S = sp.csr_matrix(X)
    m = ltr.Ranker(n_estimators=10, preset=None, normalize="zscore").fit(S, y, group=g,
                                                                          eval_set=[(S[:200], y[:200])],
                                                                          eval_group=[[20] * 10])
    np.testing.assert_array_equal(m.predict(S, group=g), m.predict(X, group=g))
    lin = ltr.Ranker(engine="linear", preset=None, engine_params={"n_restarts": 1}).fit(S, y, group=g)
    np.testing.assert_allclose(lin.predict(S), lin.predict(X), rtol=0, atol=1e-12)


# -- 6. XGBRanker's qid column ----------------------------------------------------------------------------------
def test_qid_column_is_named_in_the_error_and_warned_as_a_feature(toy):
    X, y, _ = toy
    frame = pd.DataFrame(X, columns=list("abc"))
    frame["qid"] = np.repeat(np.arange(4), 10)
    with pytest.raises(ValueError, match=r"X has a column 'qid'.*qid=X.pop\('qid'\)"):
        small().fit(frame, y)
    with pytest.warns(UserWarning, match="column 'qid', which trains as a feature"):
        m = small().fit(frame, y, qid=frame["qid"])
    assert list(m.feature_names_in_) == ["a", "b", "c", "qid"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small().fit(frame.drop(columns="qid"), y, qid=frame["qid"])


# -- 8, 9. complex X and X without columns ----------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["lightgbm", "linear"])
def test_complex_x_is_refused(toy, engine):
    X, y, g = toy
    model = small() if engine == "lightgbm" else ltr.Ranker(engine="linear", preset=None)
    with pytest.raises(ValueError, match="Complex data not supported: X has dtype complex128"):
        model.fit(X + 1j * X, y, group=g)
    with pytest.raises(ValueError, match="Complex data not supported"):
        model.fit(sp.csr_matrix(X + 1j * X), y, group=g)
    fitted = model.fit(X, y, group=g)
    with pytest.raises(ValueError, match="Complex data not supported"):
        fitted.predict(X + 1j * X)


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost", "linear"])
def test_x_without_feature_columns_is_refused(toy, engine):
    _, y, g = toy
    model = ltr.Ranker(engine="linear", preset=None) if engine == "linear" else small(engine=engine)
    with pytest.raises(ValueError, match=r"X has no feature columns \(shape \(40, 0\)\)"):
        model.fit(np.empty((40, 0)), y, group=g)


# -- 12, 13, 16, 19. messages --------------------------------------------------------------------------------------
def test_lightgbm_eval_x_eval_y_keywords_get_a_hint(toy):
    X, y, g = toy
    for key in ("eval_X", "eval_y"):
        with pytest.raises(TypeError, match=rf"'{key}'.*eval_set=\[\(X_val, y_val\)"):
            small().fit(X, y, group=g, **{key: [X]})


def test_per_query_sample_weight_message_says_weights_are_per_row(toy):
    X, y, g = toy
    with pytest.raises(ValueError, match=r"got \(4,\) \(4 = the number of queries.*np.repeat\(w, group\)"):
        small(engine="xgboost").fit(X, y, group=g, sample_weight=np.ones(4))
    with pytest.raises(ValueError, match=r"got \(7,\) \(one weight per row\)"):
        small().fit(X, y, group=g, sample_weight=np.ones(7))


def test_grid_over_one_engine_params_key(toy):
    base = ltr.Ranker(n_estimators=5, preset=None, engine_params={"min_data_in_bin": 3, "max_bin": 63})
    tuned = clone(base).set_params(engine_params__min_data_in_bin=5, num_leaves=7)
    assert tuned.engine_params == {"min_data_in_bin": 5, "max_bin": 63} and tuned.num_leaves == 7
    assert base.engine_params == {"min_data_in_bin": 3, "max_bin": 63}  # copied, never mutated
    d = ltr.make_ranking(30, 8, 5, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        gs = GridSearchCV(ltr.Ranker(n_estimators=5, preset=None, min_child_samples=5).set_fit_request(qid=True),
                          {"engine_params__min_data_in_bin": [3, 5]}, scoring=ndcg_scorer(10), cv=GroupKFold(3),
                          error_score="raise").fit(d.X, d.y, qid=d.qid, groups=d.qid)
    assert gs.best_estimator_.engine_params == {"min_data_in_bin": gs.best_params_["engine_params__min_data_in_bin"]}
    with pytest.raises(TypeError, match="engine_params must be a dict"):
        ltr.Ranker(engine_params=[1]).set_params(engine_params__x=1)


def test_frame_fitted_model_warns_on_unnamed_array_as_sklearn(toy):
    X, y, g = toy
    frame = pd.DataFrame(X, columns=list("abc"))
    m = small().fit(frame, y, group=g)
    sk = sklearn.preprocessing.StandardScaler().fit(frame)
    with pytest.warns(UserWarning) as caught:
        sk.transform(X)
    with pytest.warns(UserWarning, match="X does not have valid feature names, but Ranker was fitted with feature"):
        m.predict(X)
    assert "X does not have valid feature names" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.predict(frame)
        m.score(frame, y, group=g)
        small().fit(X, y, group=g).predict(X)


def test_a_teacher_fitted_on_a_dataframe_teaches_without_the_unnamed_array_warning():
    from ltr.rankers.teacher import TeacherModel

    d = ltr.make_ranking(20, (4, 6), 4, random_state=0)
    frame = pd.DataFrame(np.asarray(d.dense()), columns=[f"f{j}" for j in range(4)])
    teacher = ltr.Ranker(n_estimators=3, preset=None, min_child_samples=1).fit(frame, d.y, qid=d.qid)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the toolkit's own call to the teacher is not the user's array
        ltr.Ranker(objective="distill", kernel="numba", n_estimators=3, preset=None, min_child_samples=1,
                   objective_params={"teacher": TeacherModel(teacher)}).fit(frame, d.y, qid=d.qid)


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost", "linear"])
def test_the_scikit_learn_tags_say_what_fit_takes(toy, engine):
    """A trial (t45) found tags claiming no sparse input and no NaN, which meta-estimators and check_estimator read."""
    X, y, g = toy
    kw = {} if engine == "linear" else {"n_estimators": 5, "min_child_samples": 1}
    model = ltr.Ranker(engine=engine, preset=None, **kw)
    tags = model.__sklearn_tags__().input_tags
    assert tags.sparse
    clone(model).fit(sp.csr_matrix(X), y, group=g)
    with_nan = X.copy()
    with_nan[0, 0] = np.nan
    if engine == "linear":
        assert not tags.allow_nan
        with pytest.raises(ValueError, match="is nan"):
            clone(model).fit(with_nan, y, group=g)
    else:
        assert tags.allow_nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert np.isfinite(clone(model).fit(with_nan, y, group=g).predict(with_nan)).all()


def test_a_plain_lightgbm_model_scores_the_frames_lgbmranker_scores(tmp_path):
    """A trial (t45): LightGBM saves a column 'my feat' as my_feat, and a model trained on an array names its columns
    Column_0..; both refused the very frames LGBMRanker.predict scores."""
    rng = np.random.RandomState(0)
    X = rng.rand(300, 3)
    y = (X[:, 0] * 3).astype(int)
    g = [10] * 30
    frame = pd.DataFrame(X, columns=["my feat", "b", "c"])
    named = lgb.LGBMRanker(n_estimators=5, n_jobs=1, verbose=-1).fit(frame, y, group=g)
    named.booster_.save_model(str(tmp_path / "named.txt"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ltr.rankers.PlainModelWarning)
        model = ltr.load_model(tmp_path / "named.txt")
    np.testing.assert_array_equal(model.predict(frame), named.predict(frame))
    with pytest.raises(ValueError, match="column names differ"):  # other names are still refused
        model.predict(frame.rename(columns={"b": "x"}))
    # LightGBM's spelling is for LightGBM's plain models: a model of ltrkit's keeps its names as given
    own = ltr.Ranker(n_estimators=2, preset=None, min_child_samples=1, engine="xgboost").fit(
        frame.rename(columns={"my feat": "my_feat"}), y, group=g)
    with pytest.raises(ValueError, match="column names differ"):
        own.predict(frame)
    unnamed = lgb.LGBMRanker(n_estimators=5, n_jobs=1, verbose=-1).fit(X, y, group=g)
    unnamed.booster_.save_model(str(tmp_path / "unnamed.txt"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ltr.rankers.PlainModelWarning)
        model = ltr.load_model(tmp_path / "unnamed.txt")
    other = pd.DataFrame(X, columns=["x", "y", "z"])
    with pytest.warns(UserWarning, match="fitted without feature names"):
        got = model.predict(other)
    np.testing.assert_array_equal(got, unnamed.predict(other))


def test_errors_in_an_eval_set_or_in_y_name_them(toy):
    """A trial (t45): a short eval_group read 'X has 40 rows' (the training data's words), and text labels gave
    'could not convert string to float' naming no array."""
    X, y, g = toy
    with pytest.raises(ltr.GroupError, match=r"^eval_set\[0\]: group sizes add up to 30 but eval_set\[0\] has 40 rows"):
        small().fit(X, y, group=g, eval_set=[(X, y)], eval_group=[[10, 10, 10]])
    with pytest.raises(ltr.GroupError, match=r"^eval_set\[0\]: rows of query 0 are not contiguous"):
        small().fit(X, y, group=g, eval_set=[(X, y)], eval_qid=[np.tile([0, 1], 20)])
    with pytest.raises(ValueError, match=r"^y must hold numeric labels: could not convert"):
        small().fit(X, np.array(["a"] * 40), group=g)
    with pytest.raises(ValueError, match=r"^eval_set\[0\]'s y must hold numeric labels"):
        small().fit(X, y, group=g, eval_set=[(X, np.array(["a"] * 40))], eval_group=[g])
