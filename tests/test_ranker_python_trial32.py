"""Findings of a researcher's trial of the Python API (trial 32): the engines' own evaluation in ``engine_params``,
the engine's thread count, pickling a RankingDataset, a fit without query ids inside scikit-learn, options another
engine has no use for, notebook reprs, feature names of a dataset, and what editors and type checkers can see."""

from __future__ import annotations

import ast
import copy
import pickle
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import ltr
from ltr.datasets import make_ranking
from ltr.evaluation import CVResult, compare, cross_validate
from ltr.evaluation.results import FoldResult
from ltr.exceptions import OptionError, ParameterValueError
from ltr.io import read_letor

ROOT = Path(__file__).resolve().parents[1]


def small(**kw):
    return ltr.Ranker(**{"n_estimators": 3, "preset": None, "min_child_samples": 2, "n_jobs": 1, **kw})


@pytest.fixture(scope="module")
def data():
    return make_ranking(30, 8, 5, random_state=0)


# -- the engines' own evaluation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine, params, key", [
    ("lightgbm", {"metric": ["map", "ndcg"], "eval_at": [3, 5]}, "metric"),
    ("lightgbm", {"metrics": "ndcg"}, "metrics"),  # an alias
    ("lightgbm", {"ndcg_eval_at": [5]}, "ndcg_eval_at"),
    ("xgboost", {"eval_metric": "ndcg@10"}, "eval_metric"),
])
def test_the_engines_own_evaluation_is_refused_by_name(data, engine, params, key):
    # LightGBM's map@3 and ndcg@5 (a query without a relevant document scores 1) were recorded in evals_result_
    # beside ltr's ndcg@10 (it scores 0) under the same kind of names, with nothing to tell them apart
    with pytest.raises(ParameterValueError, match=rf"engine_params: {key}=.*{engine}'s own metrics: the ranker "
                                                  r"records and stops on ltr\.metrics', and the engine's") as e:
        small(engine=engine, engine_params=params).fit(data, eval_set=[data])
    assert e.value.key == key
    if "eval_at" in key:
        assert "eval_at= for the NDCG cut-offs recorded" in str(e.value)
    else:
        assert "early_stopping_metric=" in str(e.value)
    assert ("eval_params={'convention': 'lightgbm'}" in str(e.value)) == (engine == "lightgbm")


@pytest.mark.parametrize("metric", ["None", "na", "NULL", ["None"]])
def test_a_metric_that_computes_nothing_is_taken_and_only_ltr_metrics_are_recorded(data, metric):
    m = small(engine_params={"metric": metric}, eval_at=(1, 3, 10)).fit(data, eval_set=[data])
    assert {k: len(v) for k, v in m.evals_result_["valid_0"].items()} == {"ndcg@1": 3, "ndcg@3": 3, "ndcg@10": 3}


@pytest.mark.parametrize("metric", ["", None])
def test_the_objectives_default_metric_is_refused_too(data, metric):
    # LightGBM's "" (or no value) is the objective's metric, NDCG@1..5: taken for "none", its values went into the
    # ndcg@1 and ndcg@3 lists beside ltr's, twice as long
    with pytest.raises(ParameterValueError, match=r"engine_params: metric=.*lightgbm's own metrics"):
        small(engine_params={"metric": metric}, eval_at=(1, 3, 10)).fit(data, eval_set=[data])


def test_a_config_file_gets_the_command_lines_words(tmp_path, capsys):
    from ltr.cli import main
    from ltr.io import write_letor

    write_letor(tmp_path / "d.txt", make_ranking(20, 5, 3, random_state=0))
    for body, said in (
            ('[params]\nmetric = "ndcg"\n', "[params] metric: lightgbm's own metrics: the ranker records and stops on "
                                            "ltr.metrics', and the engine's (other conventions under the same names) "
                                            "would be mixed in; give --metrics for what is reported and "
                                            "--early-stopping-metric for what stops training, and --convention "
                                            "lightgbm for LightGBM's conventions"),
            ('n-jobs = 2\n[params]\nnum_threads = 1\n', "[params] num_threads: sets what n-jobs = 2 sets in "
                                                         "lightgbm: give one of the two"),  # both the file's
            ('[params]\nobjective = "rank_xendcg"\n', "[params] objective: the objective is the ranker's own: give "
                                                      "--objective xendcg")):
        (tmp_path / "c.toml").write_text("rounds = 2\n" + body)
        assert main(["train", str(tmp_path / "d.txt"), "--config", str(tmp_path / "c.toml"), "--quiet"]) == 2
        assert capsys.readouterr().err == f"ltr train: error: --config {tmp_path / 'c.toml'}: {said}\n"


# -- threads --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine, key", [("lightgbm", "num_threads"), ("lightgbm", "num_thread"),
                                         ("xgboost", "nthread")])
def test_the_engine_thread_count_is_what_n_threads_reports_and_is_refused_beside_n_jobs(data, engine, key):
    m = small(engine=engine, n_jobs=None, engine_params={key: 2}).fit(data)
    assert m.n_threads_ == 2  # it said what n_jobs=None resolved to (1 on data this small)
    if engine == "lightgbm":
        assert "[num_threads: 2]" in m.booster_.model_to_string()
    with pytest.raises(ParameterValueError, match=rf"engine_params: {key}=2 sets what n_jobs=1 sets in {engine}"):
        small(engine=engine, n_jobs=1, engine_params={key: 2}).fit(data)


def test_cross_validation_leaves_an_engine_thread_count_alone(data, monkeypatch):
    # parallel folds give each fold's model n_jobs when it has none: beside num_threads that would be refused
    import ltr.evaluation.cv as cv

    monkeypatch.setattr(cv, "cpu_count", lambda: 4)  # two folds at once on any runner, one core or more
    res = cross_validate(small(n_jobs=None, engine_params={"num_threads": 1}), data, n_splits=2, n_jobs=2,
                         backend="threading")
    assert len(res.folds) == 2 and res.settings["n_jobs"] == 2


def test_zero_engine_threads_are_openmps_default(data, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert small(n_jobs=None, engine_params={"num_threads": 0}).fit(data).n_threads_ == 3  # cpu_count() before
    monkeypatch.delenv("OMP_NUM_THREADS")
    from ltr.threads import cpu_count

    assert small(n_jobs=None, engine_params={"num_threads": -1}).fit(data).n_threads_ == cpu_count()


# -- pickling a dataset ---------------------------------------------------------------------------------------------
def test_a_dataset_pickles_and_copies_whole(shared_file):
    d = read_letor(shared_file("mq2008/Fold1/vali.txt.gz"))
    d = replace(d, weight=np.repeat(np.arange(1.0, d.n_queries + 1), np.diff(d.group_ptr)),
                feature_set={"features": [{"scorer": "bm25"}]})
    for copied in (pickle.loads(pickle.dumps(d)), copy.deepcopy(d), copy.copy(d)):
        assert copied.equals(d)  # TypeError: cannot pickle 'mappingproxy' object before
        assert dict(copied.sources) == dict(d.sources) and copied.feature_set == d.feature_set
        assert list(copied.doc_ids) == list(d.doc_ids) and np.array_equal(copied.weight, d.weight)
        assert not copied.X.flags.writeable  # checked and frozen again as any new dataset
    sparse = read_letor(shared_file("mq2008/Fold1/vali.txt.gz"), sparse=True)
    assert pickle.loads(pickle.dumps(sparse)).equals(sparse)


# -- scikit-learn without metadata routing --------------------------------------------------------------------------
def test_a_fit_without_query_ids_says_how_scikit_learn_passes_them(data):
    with pytest.raises(ValueError, match=r"got neither\. Inside scikit-learn's cross_val_score or GridSearchCV, qid "
                                         r"reaches fit through metadata routing: .*set_fit_request\(qid=True\).*"
                                         r"see ltr\.evaluation\.scoring"):
        small().fit(data.X, data.y)


# -- an option the engine has no use for ----------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["xgboost", "linear"])
def test_a_dataset_cache_is_refused_for_an_engine_without_one(data, tmp_path, engine):
    with pytest.raises(OptionError, match=rf"dataset_cache=.*LightGBM's binned Dataset files, and engine "
                                          rf"'{engine}' has none: leave it None"):
        ltr.Ranker(engine=engine, dataset_cache=str(tmp_path / "c")).fit(data)
    assert not (tmp_path / "c").exists()


def test_the_command_line_names_the_flag_of_a_dataset_cache_it_refuses(tmp_path, capsys, shared_file):
    from ltr.cli import main

    assert main(["train", str(shared_file("mq2008/Fold1/vali.txt.gz")), "--engine", "xgboost", "--dataset-cache",
                 str(tmp_path / "c"), "--out", str(tmp_path / "m.json")]) == 2
    assert capsys.readouterr().err.endswith(f"--dataset-cache {tmp_path / 'c'}: it keeps LightGBM's binned Dataset "
                                            "files, and engine 'xgboost' has none: leave it out\n")
    assert not (tmp_path / "m.json").exists()


# -- notebook reprs -------------------------------------------------------------------------------------------------
def test_results_have_short_reprs(data):
    res = cross_validate(small(), data, n_splits=3)
    other = cross_validate(small(n_estimators=6), data, n_splits=3)
    other.name = "six"
    text = repr(res)
    mean = ", ".join(f"{m} {v:.4f}" for m, v in res.mean().items())  # ndcg@1, 3, 5, 10 and map
    assert text == f"<CVResult 'lambdarank': 3 fold(s), 30 test queries; mean {mean}; .format() for the table>"
    assert len(text) < 200  # every per-query value, score and document id before (~160 KB for MQ2008 S4)
    assert repr(res.folds[0]).startswith(f"<FoldResult 'Fold1': {len(res.folds[0].qids)} test queries; ndcg@1 ")
    c = compare({"a": res.per_query(), "six": other.per_query()})
    # every column of the frames is compared (ndcg@1..10 were taken for a curve's and left out: map alone)
    assert repr(c) == ("<Comparison of 'six' against 'a' on 30 queries; metrics ndcg@1, ndcg@3, ndcg@5, ndcg@10, map; "
                       "tests t, wilcoxon, randomization (holm); .format() for the table>")
    assert repr(CVResult.from_dict(res.to_dict())) == text


def test_reprs_of_results_read_back_with_null_or_missing_metrics_do_not_raise():
    f1 = FoldResult("Fold1", {"ndcg@10": None, "map": float("nan")}, ["1"], {}, [], 1.0, 3)  # null in a result file
    f2 = FoldResult("Fold2", {"ndcg@10": 0.5}, ["2", "3"], {}, [], 1.0, 3)  # map missing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repr(f1) == "<FoldResult 'Fold1': 1 test queries; ndcg@10 nan, map nan>"
        # the mean over the folds that have a value (a fold without a relevant test query has none: t54)
        assert repr(CVResult("x", ["ndcg@10", "map"], [f1, f2])) == (
            "<CVResult 'x': 2 fold(s), 3 test queries; mean ndcg@10 0.5000, map nan; .format() for the table>")
        assert repr(CVResult("x", ["ndcg@10"], [])) == (
            "<CVResult 'x': 0 fold(s), 0 test queries; mean ndcg@10 nan; .format() for the table>")


# -- feature names of a dataset -------------------------------------------------------------------------------------
def test_a_dataset_named_otherwise_is_scored_with_a_warning(data):
    named = replace(data, feature_names=tuple(f"feat_{i}" for i in range(data.n_features)))
    model = small().fit(named)
    other = replace(data, feature_names=tuple(f"other_{i}" for i in range(data.n_features)))
    with pytest.warns(UserWarning, match=r"X's feature names differ from the model's \(column 0 counting from 0: "
                                         r"'other_0', the model's 'feat_0'\): scored by column position") as w:
        scores = model.predict(other)
    assert w[0].filename == __file__  # pointed at the caller, through predict's own calls
    assert np.array_equal(scores, model.predict(named))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(named)
        model.predict(replace(data, feature_names=None))  # no names: nothing to compare
        assert data.feature_names[:2] == ("f1", "f2")
        model.predict(data)  # make_ranking's names only number the columns
        narrower = replace(data, feature_names=named.feature_names[:3] + ("x",) * (data.n_features - 3))
        with pytest.warns(UserWarning, match="column 3 counting from 0: 'x'"):
            model.predict(narrower)


def test_a_plain_engine_models_placeholder_names_are_no_names(data, tmp_path):
    import lightgbm as lgb

    named = replace(data, feature_names=tuple(f"bm25_{i}" for i in range(data.n_features)))
    booster = lgb.train({"objective": "lambdarank", "verbosity": -1, "min_data_in_leaf": 2},
                        lgb.Dataset(np.asarray(data.X), data.y, group=np.diff(data.group_ptr)), 3)
    booster.save_model(tmp_path / "plain.txt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ltr.rankers.PlainModelWarning)
        model = ltr.load_model(tmp_path / "plain.txt")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # LightGBM's Column_0, ... were taken for the model's names
        assert np.array_equal(model.predict(named), booster.predict(np.asarray(data.X), raw_score=True))


# -- what editors and type checkers see -----------------------------------------------------------------------------
@pytest.mark.parametrize("module, lazy", [
    ("ltr/__init__.py", {"Ranker", "load_model", "RankingDataset", "make_ranking"}),
    ("ltr/rankers/__init__.py", {"EngineWarning", "PlainModelWarning", "Ranker", "ReadOptionsWarning", "load_model",
                                  "save_model"}),
    ("features/__init__.py", None),  # every name of _EXPORTS
])
def test_the_lazily_loaded_names_are_imported_for_type_checkers(module, lazy):
    tree = ast.parse((ROOT / module).read_text())
    checked = {alias.asname or alias.name for node in tree.body if isinstance(node, ast.If)
               and getattr(node.test, "id", None) == "TYPE_CHECKING" for imp in node.body for alias in imp.names}
    if lazy is None:
        import features

        lazy = set(features._EXPORTS)
    assert checked == lazy  # jedi and mypy saw Any for ltr.Ranker: completion of ltr.Ranker().fi was empty
    assert (ROOT / "features" / "py.typed").is_file() and (ROOT / "ltr" / "py.typed").is_file()


def test_lightgbm_categorical_features_are_refused_before_training_not_after_saving(tmp_path):
    # a trial's plain categorical model was refused by ltr predict; ltrkit itself trained one with
    # engine_params={'categorical_feature': [0]}, saved it, and then load_model refused it ("num_cat=1")
    d = make_ranking(200, 10, 4, random_state=0)
    X = d.X.copy()
    codes = np.random.RandomState(0).randint(0, 8, X.shape[0])
    X[:, 0] = codes
    y = np.where(np.isin(codes, [1, 4, 6]), 3.0, 0.0)
    params = {"categorical_feature": [0], "min_data_per_group": 5, "cat_smooth": 1}
    import lightgbm as lgb  # the reference: LightGBM does grow categorical splits on these rows

    sizes = np.diff(d.group_ptr)
    booster = lgb.train({"objective": "lambdarank", "verbosity": -1, "min_data_in_leaf": 5, **params},
                        lgb.Dataset(X, y, group=sizes), 3)
    assert "num_cat=1" in booster.model_to_string()
    for key in ("categorical_feature", "cat_feature", "categorical_column"):
        with pytest.raises(ParameterValueError, match=rf"{key}=\[0\]: categorical splits are not supported"):
            ltr.Ranker(n_estimators=3, preset=None, engine_params={key: [0], "min_data_per_group": 5}).fit(
                X, y, qid=d.qid)
    ltr.Ranker(n_estimators=3, preset=None, engine_params={"categorical_feature": ""}).fit(X, y, qid=d.qid)
