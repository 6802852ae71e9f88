"""Tuning by query groups (``ltr.tuning``, ``ltr tune``): search spaces and their errors, nested CV that never
looks at an outer test fold, seeded and resumable Optuna studies, and result files that ltr compare reads."""

from __future__ import annotations

import contextlib
import json
import re

import numpy as np
import pytest

from ltr import Ranker, make_ranking
from ltr._shared import import_reference
from ltr.cli import main
from ltr.evaluation import cross_validate, read_result
from ltr.exceptions import FileFormatError
from ltr.io import write_letor
from ltr.metrics import evaluate_per_query
from ltr.tuning import default_space_path, inner_score, load_space, select_by_nested_cv, tune

import_reference("optuna")  # the tune extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1

FAST = dict(n_estimators=8, min_child_samples=2, n_jobs=1)
SMALL_SPACE = {"num_leaves": {"low": 2, "high": 8}, "learning_rate": {"low": 0.05, "high": 0.3, "log": True}}


@pytest.fixture(scope="module")
def data():
    return make_ranking(30, (4, 10), 5, random_state=0)


# -- spaces ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["lightgbm", "xgboost", "linear"])
def test_every_engine_has_a_default_space_that_passes_the_rankers_own_checks(engine):
    space = load_space(None, Ranker(engine=engine))
    assert space.source == str(default_space_path(engine)) and space.params


def test_a_space_file_reads_ranges_choices_and_engine_parameters(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text('[num_leaves]\nlow = 2\nhigh = 31\nlog = true\n\n[subsample]\nlow = 0.5\nhigh = 1\n\n'
                    '[n_estimators]\nlow = 10\nhigh = 100\nstep = 10\n\n[normalize]\nchoices = ["none", "zscore"]\n\n'
                    '[engine_params.lambdarank_truncation_level]\nchoices = [10, 20]\n')
    space = {p.name: p for p in load_space(path, Ranker()).params}
    assert (space["num_leaves"].kind, space["num_leaves"].log) == ("int", True)
    assert space["subsample"].kind == "float"  # 1 is an integer, 0.5 is not
    assert space["n_estimators"].step == 10
    assert space["normalize"].choices == ("none", "zscore")
    assert space["engine_params.lambdarank_truncation_level"].kind == "categorical"


@pytest.mark.parametrize("text, line, match", [
    ("[num_leaves]\nlow = 2\nhigh = 8\n\n[num_leafs]\nlow = 2\nhigh = 9\n", 5,
     "unknown parameter 'num_leafs' (did you mean 'num_leaves'?)"),
    # a key's fault names the key's own line (trial t69: the table's)
    ("[learning_rate]\nlow = 0.1\nhigh = 0.1\n", 2,
     "empty range: low 0.1 must be below high 0.1 (use choices = [0.1] for one value)"),
    ("[learning_rate]\nlow = 0.3\nhigh = 0.1\n", 2, "empty range: low 0.3 must be below high 0.1 (swap them)"),
    ("learning_rate = {low = 0.3, high = 0.1}\n", 1, "empty range: low 0.3 must be below high 0.1 (swap them)"),
    ("[reg_lambda]\nhigh = 1.0\nlow = 0.0\nlog = true\n", 3, "a log range needs low > 0"),
    ("[num_leaves]\nlow = 2\nhgh = 8\n", 3, "unknown key(s) ['hgh']"),
    ("[num_leaves]\nlow = 2\nhigh = 'eight'\n\n[learning_rate]\nlow = 0.1\nhigh = 0.2\n", 3,
     "low and high must be finite numbers, got 2 and 'eight'"),
    ("[normalize]\n# the normalisations\nchoices = []\n", 3, "choices must be a non-empty list"),
    ("[num_leaves]\nlow = 1\nhigh = 8\n", 1, "the ranker refuses 1: num_leaves must be an integer >= 2"),
    # above LightGBM's limit: the trial that drew it failed, and every resume drew it again (trial t50)
    ("[num_leaves]\nlow = 2\nhigh = 200000\nlog = true\n", 1,
     "the ranker refuses 200000: num_leaves must be at most 131072 (LightGBM's limit)"),
    ("\n\n[engine_params.bagging_by_quer]\nchoices = [true]\n", 3,
     "lightgbm has no parameter 'bagging_by_quer' (did you mean 'bagging_by_query'?)"),
    ("[engine]\nchoices = ['xgboost']\n", 1, "engine is not searched"),
    ("[n_estimators]\nlow = 10\nhigh = 30\nstep = 7\n", 4,
     "step 7 does not divide the range 10..30 (its last value would be 24); make high 24, or take a step"),
    ("[dataset_cache]\nchoices = ['x']\n", 1, "dataset_cache is not searched"),
])
def test_a_bad_space_file_names_the_file_the_line_and_the_parameter(tmp_path, text, line, match):
    path = tmp_path / "space.toml"
    path.write_text(text)
    with pytest.raises(FileFormatError, match=re.escape(match)) as info:
        load_space(path, Ranker())
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_invalid_toml_and_an_empty_space_are_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[num_leaves\nlow = 2\n")
    with pytest.raises(FileFormatError, match=f"^{bad}:1: not valid TOML"):
        load_space(bad, Ranker())
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing\n")
    with pytest.raises(FileFormatError, match="names no parameter"):
        load_space(empty, Ranker())


def test_a_linear_space_takes_coordinate_ascent_settings_and_refuses_tree_ones():
    load_space({"engine_params": {"n_restarts": {"low": 1, "high": 4}}}, Ranker(engine="linear"))
    with pytest.raises(ValueError, match="did you mean 'n_restarts'"):
        load_space({"engine_params": {"restarts": {"low": 1, "high": 4}}}, Ranker(engine="linear"))
    with pytest.raises(ValueError, match="num_leaves is a tree parameter: engine='linear' does not use it"):
        load_space({"num_leaves": {"low": 2, "high": 8}}, Ranker(engine="linear"))
    # at its default value too: it was accepted and shown as a tuned column that changed nothing (trial t49)
    for name, choices in (("learning_rate", [0.05]), ("n_estimators", [300])):
        with pytest.raises(ValueError, match=f"{name} is a tree parameter: engine='linear' does not use it"):
            load_space({name: {"choices": choices}}, Ranker(engine="linear"))


# -- nested cross-validation ------------------------------------------------------------------------------------------
class _Spy(Ranker):
    """A Ranker that records the queries of every training set it sees."""

    seen: list[set] = []

    def fit(self, X, y=None, **kw):
        _Spy.seen.append({int(q) for q in X.query_ids})
        return super().fit(X, y, **kw)


def test_no_choice_ever_sees_an_outer_test_query(data):
    _Spy.seen = []
    n_trials, inner = 3, 2
    result = tune(data, estimator=_Spy(**FAST), space=SMALL_SPACE, n_trials=n_trials, outer_folds=3,
                  inner_folds=inner, progress=False)
    per_fold = n_trials * inner + 1  # the trials' inner fits, then the chosen parameters on the training part
    assert len(_Spy.seen) == 3 * per_fold
    for i, fold in enumerate(result.cv.folds):
        test = {int(q) for q in fold.qids}
        for seen in _Spy.seen[i * per_fold:(i + 1) * per_fold]:
            assert not seen & test
        assert _Spy.seen[(i + 1) * per_fold - 1] | test == {int(q) for q in data.query_ids}


def test_outer_folds_test_the_queries_of_ltr_cv_and_their_values_are_the_chosen_models(data):
    result = tune(data, estimator=Ranker(**FAST), space=SMALL_SPACE, n_trials=2, outer_folds=3, inner_folds=2,
                  random_state=4, progress=False, metrics=["ndcg@5", "map"])
    plain = cross_validate(Ranker(**FAST), data, n_splits=3, random_state=4, progress=False, metrics=["map"])
    assert [f.qids for f in result.cv.folds] == [f.qids for f in plain.folds]
    assert result.cv.metrics == ["ndcg@10", "ndcg@5", "map"]
    from ltr.evaluation import query_kfold
    from ltr.tuning.space import apply_params

    fold = query_kfold(data, 3, validation=False, random_state=4)[1]
    model = apply_params(Ranker(**FAST), result.best_params[1]).fit(fold.train)
    ref = evaluate_per_query(fold.test.y, model.predict(fold.test), group_ptr=fold.test.group_ptr, metrics=["map"])
    np.testing.assert_allclose(result.cv.folds[1].per_query["map"], ref["map"], rtol=0, atol=1e-12)
    assert result.best_inner[1] == pytest.approx(inner_score(model, fold.train, n_folds=2, random_state=4 + 1 + 1))


@pytest.mark.slow
def test_the_same_seed_draws_the_same_trials_and_an_interrupted_run_resumes_to_the_same_result(data, tmp_path,
                                                                                              monkeypatch):
    kw = dict(estimator=Ranker(**FAST), space=SMALL_SPACE, n_trials=3, outer_folds=3, inner_folds=2, progress=False)
    reference = tune(data, **kw)
    assert tune(data, **kw).best_params == reference.best_params

    from ltr.tuning import nested

    calls = {"n": 0}
    real = nested.inner_score

    def interrupted(*a, **k):
        calls["n"] += 1
        if calls["n"] == 5:  # the second trial of outer fold 2
            raise KeyboardInterrupt
        return real(*a, **k)

    db = tmp_path / "trials.db"
    monkeypatch.setattr(nested, "inner_score", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tune(data, storage=db, **kw)
    monkeypatch.setattr(nested, "inner_score", real)
    resumed = tune(data, storage=db, **kw)
    assert resumed.best_params == reference.best_params and resumed.best_inner == reference.best_inner
    assert resumed.cv.mean() == reference.cv.mean()
    import optuna

    studies = optuna.get_all_study_summaries(f"sqlite:///{db}")
    assert sorted(s.n_trials for s in studies) == [3, 3, 4]  # one failed trial, drawn again


def test_a_study_extended_to_more_trials_draws_what_a_longer_run_draws_and_fewer_use_the_first(data, tmp_path):
    import optuna

    kw = dict(estimator=Ranker(**FAST), space=SMALL_SPACE, outer_folds=2, inner_folds=2, progress=False)
    straight = tune(data, n_trials=4, **kw)
    db = tmp_path / "trials.db"
    first = tune(data, n_trials=2, storage=db, **kw)
    assert first.resumed == 0 and first.cv.settings["tuning"]["trials_run"] == [2, 2]
    extended = tune(data, n_trials=4, storage=db, **kw)  # 2 kept per fold, 2 more drawn
    assert extended.resumed == 4
    assert extended.trials == straight.trials and extended.best_params == straight.best_params
    again = tune(data, n_trials=2, storage=db, **kw)  # the study holds 4: the choice is among the first 2
    assert again.trials == first.trials and again.best_inner == first.best_inner
    assert [len(t) for t in again.trials] == [2, 2] and again.cv.settings["tuning"]["n_trials"] == 2
    assert again.other_setups == 0
    other = tune(data, n_trials=2, storage=db, **{**kw, "estimator": Ranker(**{**FAST, "n_jobs": 2})})
    assert other.resumed == 0 and other.other_setups == 2  # another set-up: new studies beside the kept ones
    assert len(optuna.get_all_study_summaries(f"sqlite:///{db}")) == 4


def test_a_timeout_is_shared_by_the_outer_folds_each_running_at_least_one_trial(data, monkeypatch):
    from ltr.tuning import nested

    real = nested.inner_score
    seen = []

    def slow(*a, **k):  # the clock moves 10 s a trial
        seen.append(1)
        clock["now"] += 10.0
        return real(*a, **k)

    import time as time_module

    clock = {"now": 1000.0}
    monkeypatch.setattr(time_module, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(nested, "inner_score", slow)
    result = tune(data, estimator=Ranker(**FAST), space=SMALL_SPACE, n_trials=5, outer_folds=3, inner_folds=2,
                  progress=False, timeout=45)
    # 45 s over 3 folds: fold 1 may start trials until 15 s (2 trials: it starts one at 10 s), fold 2 its share of
    # the 25 s left (12.5 s: 2 trials), fold 3 the rest (5 s: 1 trial, as every fold runs one)
    assert result.cv.settings["tuning"]["trials_run"] == [2, 2, 1] and len(seen) == 5
    assert len(result.cv.folds) == 3


def test_a_tune_report_lists_the_parameters_each_outer_fold_chose(data, tmp_path):
    import_reference("matplotlib")  # the report's figures (the plot extra, in dev)
    from ltr.evaluation import render_report

    result = tune(data, estimator=Ranker(**FAST), space=SMALL_SPACE, n_trials=2, outer_folds=2, inner_folds=2,
                  progress=False)
    md = render_report(result.cv.to_dict(), tmp_path, formats=["md"])["md"].read_text()
    section = md.split("Tuning: the parameters chosen in each outer fold", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| Fold")]
    assert len(rows) == 2
    for row, params, inner in zip(rows, result.best_params, result.best_inner):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == f"{inner:.4f}" and cells[2] == "2"
        assert cells[3:] == [json.dumps(params[k]) for k in sorted(params)]


def test_a_linear_ranker_is_tuned_on_the_metric_it_optimises(data):
    result = tune(data, engine="linear", n_trials=2, outer_folds=3, inner_folds=2, metric="map", progress=False,
                  space={"engine_params": {"n_restarts": {"low": 1, "high": 2}}})
    assert result.cv.params["objective"] == "map"
    with pytest.raises(ValueError, match="cannot optimise 'bpref'"):
        tune(data, engine="linear", n_trials=1, outer_folds=3, inner_folds=2, metric="bpref", progress=False)


@pytest.mark.parametrize("kw, match", [
    (dict(outer_folds=40), "30 queries, fewer than the 40 outer folds"),
    (dict(outer_folds=3, inner_folds=25), "outer training part has 20 queries, fewer than the 25 inner folds"),
    (dict(n_trials=0), "n_trials must be a positive integer"),
    (dict(engine="xgboost", estimator=Ranker()), "engine='xgboost' but the estimator's engine is 'lightgbm'"),
])
def test_bad_tuning_arguments_are_refused_naming_the_cause(data, kw, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        tune(data, space=SMALL_SPACE, progress=False, **kw)


def test_nested_selection_picks_the_best_inner_score_in_every_fold(data):
    candidates = {"stumps": Ranker(num_leaves=2, **FAST), "deeper": Ranker(num_leaves=8, **FAST)}
    sel = select_by_nested_cv(candidates, data, outer_folds=3, inner_folds=2)
    assert len(sel.inner) == len(sel.chosen) == len(sel.selected.folds) == 3  # one record per outer fold
    assert all(set(scores) == set(candidates) for scores in sel.inner)
    for scores, chosen, fold in zip(sel.inner, sel.chosen, sel.selected.folds):
        assert chosen == max(scores, key=scores.get)
        assert fold.per_query == next(f for f in sel.candidates[chosen].folds if f.name == fold.name).per_query


# -- the command line -------------------------------------------------------------------------------------------------
def test_ltr_tune_writes_a_result_that_ltr_compare_pairs_with_ltr_cv(data, tmp_path, capsys):
    path = tmp_path / "train.txt"
    write_letor(path, data)
    space = tmp_path / "space.toml"
    space.write_text("[num_leaves]\nlow = 2\nhigh = 6\n")
    out, cv_out = tmp_path / "tuned.json", tmp_path / "cv.json"
    args = ["tune", str(path), "--space", str(space), "--trials", "2", "--outer-folds", "3", "--inner-folds", "2",
            "--rounds", "8", "--min-child-samples", "2", "--n-jobs", "1", "--quiet"]
    assert main([*args, "--out", str(out), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(printed["folds"]) == 3 and set(printed["folds"][0]["params"]) == {"num_leaves"}
    assert read_result(out)["kind"] == "cv"
    assert (tmp_path / "tuned.json.optuna.db").is_file()
    assert main(["cv", str(path), "--folds", "3", "--rounds", "8", "--min-child-samples", "2", "--quiet",
                 "--out", str(cv_out)]) == 0
    capsys.readouterr()
    assert main(["compare", str(cv_out), str(out), "--format", "json", "--tests", "t"]) == 0


def test_ltr_tune_csv_is_one_table_and_a_resumed_run_says_so(data, tmp_path, capsys, caplog):
    import csv
    import io

    path = tmp_path / "train.txt"
    write_letor(path, data)
    args = ["tune", str(path), "--trials", "2", "--outer-folds", "3", "--inner-folds", "2", "--rounds", "8",
            "--min-child-samples", "2", "--n-jobs", "1", "--out", str(tmp_path / "t.json"), "--format", "csv"]
    assert main(args) == 0
    first = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(first.out)))
    assert len({len(r) for r in rows}) == 1 and [r[0] for r in rows] == ["fold", "Fold1", "Fold2", "Fold3", "mean",
                                                                         "std"]
    assert rows[0][:2] == ["fold", "ndcg@1"] and "inner ndcg@10" in rows[0] and "num_leaves" in rows[0]
    assert rows[1][rows[0].index("inner ndcg@10")] != "" and rows[4][rows[0].index("inner ndcg@10")] == ""
    assert "resumed" not in first.err
    # said with the results: a search of 10 trials or fewer never leaves TPE's random start-up (trial t69)
    assert ("note: --trials 2: TPE draws its first 10 trials at random, so this search was a random search (TPE "
            "models the space from trial 11 on)") in first.err
    assert main(args) == 0
    assert "resumed 6 trials kept in" in capsys.readouterr().err
    assert main([*args, "--n-jobs", "2"]) == 0
    assert "also holds 3 studies of another set-up" in capsys.readouterr().err
    # said before the search too, which may run for hours (it came only at the end: trial t48/experiments)
    said = [r.getMessage() for r in caplog.records if r.name == "ltr.tuning.nested" and r.levelname == "WARNING"]
    assert len(said) == 1 and said[0].endswith("holds 3 studies of another set-up (the data, the fixed ranker "
                                               "options, n_jobs among them, the space, the metric, the folds, "
                                               "inner_repeats or the seed differ): this search does not use their "
                                               "trials")


def test_ltr_tune_out_to_standard_output_is_the_result_alone_and_keeps_no_storage_named_after_it(data, tmp_path,
                                                                                                capsys, monkeypatch):
    path = tmp_path / "train.txt"
    write_letor(path, data)
    monkeypatch.chdir(tmp_path)
    assert main(["tune", str(path), "--trials", "1", "--outer-folds", "2", "--inner-folds", "2", "--rounds", "5",
                 "--min-child-samples", "2", "--n-jobs", "1", "--out", "-", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["kind"] == "cv"  # one document: the result file; the table went to stderr
    assert '"folds"' in captured.err and "wrote -" not in captured.err
    assert not list(tmp_path.glob("-*"))  # no "-.optuna.db" to be resumed by another data set's run


def test_ltr_tune_says_which_model_options_given_the_space_searches(data, tmp_path, capsys):
    path = tmp_path / "train.txt"
    write_letor(path, data)
    space = tmp_path / "space.toml"
    space.write_text("[num_leaves]\nlow = 2\nhigh = 6\n")
    args = ["tune", str(path), "--space", str(space), "--trials", "1", "--outer-folds", "2", "--inner-folds", "2",
            "--min-child-samples", "2", "--n-jobs", "1", "--format", "csv"]
    assert main([*args, "--rounds", "5", "--leaves", "4"]) == 0
    err = capsys.readouterr().err
    assert "the space searches --leaves (the space's num_leaves): the value given is not used" in err
    assert "--rounds" not in err.split("searches", 1)[1].split("\n")[0]  # not in the space: fixed at 5


@pytest.mark.parametrize("extra, code, match", [
    (["--outer-folds", "50"], 1, "fewer than the 50 outer folds"),
    (["--trials", "0"], 2, "--trials must be at least 1"),
    (["--engine", "linear", "--metric", "bpref"], 2, "cannot optimise 'bpref'"),
    (["--metric", "ndcgg@10"], 2, "unknown metric"),
])
def test_ltr_tune_errors_are_one_line_with_the_cause(data, tmp_path, capsys, extra, code, match):
    path = tmp_path / "train.txt"
    write_letor(path, data)
    assert main(["tune", str(path), "--trials", "1", "--quiet", *extra]) == code
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1


def test_ltr_tune_reports_a_bad_space_file_with_its_line(data, tmp_path, capsys):
    path = tmp_path / "train.txt"
    write_letor(path, data)
    space = tmp_path / "space.toml"
    space.write_text("[learning_rate]\nlow = 0.2\nhigh = 0.1\n")
    assert main(["tune", str(path), "--space", str(space), "--quiet"]) == 1
    assert f"{space}:2: empty range" in capsys.readouterr().err


def test_a_sampled_value_equal_to_a_default_is_trained_as_sampled_under_the_preset():
    from ltr.tuning.space import apply_params

    few = make_ranking(60, (4, 10), 5, random_state=0)  # "auto" applies the small-data preset
    model = apply_params(Ranker(n_estimators=3, n_jobs=1), {"num_leaves": 31, "min_child_samples": 20,
                                                            "engine_params.bagging_by_query": False})
    assert model.preset_keep == ("num_leaves", "min_child_samples")
    p = model.fit(few).booster_.params
    assert (p["num_leaves"], p["min_data_in_leaf"], p["bagging_by_query"]) == (31, 20, False)
    assert p["learning_rate"] == 0.02  # not sampled: the preset's


# -- a trial storage that cannot be written -------------------------------------------------------------------------
@contextlib.contextmanager
def _sqlite_pages(limit=None):
    """Every SQLite database opened meanwhile gets 512-byte pages (when new) and, with ``limit``, at most that many
    pages: SQLite's own SQLITE_FULL ("database or disk is full") once a write needs one more, as on a full disk."""
    import sqlalchemy
    from sqlalchemy import event

    def pages(dbapi_connection, record):
        dbapi_connection.execute("PRAGMA page_size = 512")
        if limit is not None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {int(limit)}")

    event.listen(sqlalchemy.engine.Engine, "connect", pages)
    try:
        yield
    finally:
        event.remove(sqlalchemy.engine.Engine, "connect", pages)


def _page_count(path) -> int:
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as con:
        return con.execute("PRAGMA page_count").fetchone()[0]


def test_a_storage_that_fills_up_while_trials_are_stored_fails_naming_it_and_the_same_call_resumes(data, tmp_path):
    import optuna

    from ltr.exceptions import OutputPathError

    kw = dict(estimator=Ranker(**FAST), space=SMALL_SPACE, outer_folds=2, inner_folds=2, progress=False)
    reference = tune(data, n_trials=6, **kw)  # in memory, never interrupted
    db = tmp_path / "trials.db"
    with _sqlite_pages():
        tune(data, n_trials=1, storage=db, **kw)
    with _sqlite_pages(limit=_page_count(db)), pytest.raises(OutputPathError) as exc:  # full from now on
        tune(data, n_trials=6, storage=db, **kw)
    assert str(exc.value) == f"{db}: cannot write: no space left on device"
    kept = sum(s.n_trials for s in optuna.get_all_study_summaries(f"sqlite:///{db}"))
    assert kept >= 2  # the storage stays as it was: the trials stored before the disk filled up are kept
    resumed = tune(data, n_trials=6, storage=db, **kw)  # space freed: the same call resumes
    assert resumed.resumed >= 2
    assert resumed.best_params == reference.best_params and resumed.best_inner == reference.best_inner


def test_ltr_tune_with_a_full_or_foreign_storage_says_so_in_one_line_naming_the_file_and_option(data, tmp_path,
                                                                                               capsys):
    path = tmp_path / "train.txt"
    write_letor(path, data)
    out = tmp_path / "t.json"
    args = ["tune", str(path), "--trials", "1", "--outer-folds", "2", "--inner-folds", "2", "--rounds", "5",
            "--min-child-samples", "2", "--n-jobs", "1", "--quiet", "--format", "csv"]
    with _sqlite_pages(limit=2):  # full before the storage's tables are made
        assert main([*args, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == (f"ltr tune: error: {out}.optuna.db (the --storage default, beside --out): cannot write: no space "
                   "left on device; the trials stored so far stay in it: the same command resumes there\n")
    assert (tmp_path / "t.json.optuna.db").is_file() and not out.exists()
    assert main([*args, "--out", str(out)]) == 0  # space freed: the same command runs from the file it left
    assert out.is_file()
    capsys.readouterr()
    foreign = tmp_path / "notes.db"
    foreign.write_text("not a database of trials, just some text that happens to end in .db\n")
    assert main([*args, "--storage", str(foreign)]) == 1
    assert capsys.readouterr().err == (
        f"ltr tune: error: {foreign} (--storage): not an SQLite database of trials, or a damaged one; give another "
        "--storage, or move this file away to start afresh\n")
    assert foreign.read_text().startswith("not a database")  # left as it was


def test_none_in_a_space_is_max_depths_no_limit():
    """'none' stood for None only where the default is None: [max_depth] choices = ["none", 4] was refused as
    "max_depth must be ... -1/None", advice TOML cannot follow (trial t50/experiments)."""
    from ltr.tuning.space import apply_params

    assert apply_params(Ranker(), {"max_depth": "none"}).max_depth is None
    assert apply_params(Ranker(), {"normalize": "none"}).normalize is None
    assert apply_params(Ranker(), {"objective": "lambdarank"}).objective == "lambdarank"


def test_tuning_weighted_data_says_its_metrics_count_each_query_once():
    """The weights train every model but the inner and outer metrics count each query once: unsaid (the review of
    t50, beside ltr cv's test parts)."""
    import dataclasses

    data = make_ranking(24, (4, 8), 3, random_state=0)
    weighted = dataclasses.replace(data, weight=np.linspace(0.5, 2.0, data.y.size))
    with pytest.warns(UserWarning, match=r"the row weights of the test parts \(the data's weights\) are not used by "
                                         "the test metrics"):
        tune(weighted, estimator=Ranker(**FAST), space=SMALL_SPACE, n_trials=1, outer_folds=2, inner_folds=2,
             progress=False)
    with pytest.warns(UserWarning, match="the row weights of the data train every model but are not used by the "
                                         "inner and outer metrics"):
        select_by_nested_cv({"a": Ranker(**FAST), "b": Ranker(**{**FAST, "num_leaves": 3})}, weighted, outer_folds=2,
                            inner_folds=2)
