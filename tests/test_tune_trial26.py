"""``ltr tune`` after a researcher's trial: a tune result says which parameters each outer fold was fitted with,
a space's every choice is checked before the first trial, one run uses a trial storage at a time, a missing storage
folder and a seed scikit-learn refuses are named before any work, and a comparison's tables say what "mean" is."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ltr import Ranker, make_ranking
from ltr._shared import import_reference
from ltr.cli import main
from ltr.evaluation import query_kfold, read_result
from ltr.evaluation.report import render_markdown
from ltr.exceptions import FileFormatError, OutputPathError
from ltr.io import write_letor
from ltr.tuning import load_space, tune
from ltr.tuning.nested import StorageInUseError

import_reference("optuna")  # the tune extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1

FAST = dict(n_estimators=4, min_child_samples=2, n_jobs=1)
SPACE = {"num_leaves": {"low": 2, "high": 6}, "engine_params.bagging_by_query": {"choices": [True, False]}}
KW = dict(space=SPACE, n_trials=1, outer_folds=2, inner_folds=2, progress=False)


@pytest.fixture(scope="module")
def data():
    return make_ranking(20, (4, 8), 5, random_state=0)


@pytest.fixture(scope="module")
def tuned(data):
    # engine_params given with the searched entry: the search's value, not this one, is what the folds used
    base = Ranker(**FAST, engine_params={"bagging_by_query": False, "min_data_in_bin": 2})
    return tune(data, estimator=base, **{**KW, "outer_folds": 3})


@pytest.fixture()
def letor(data, tmp_path):
    path = tmp_path / "train.txt"
    write_letor(path, data)
    return ["tune", str(path), "--trials", "1", "--outer-folds", "2", "--inner-folds", "2", "--rounds", "4",
            "--min-child-samples", "2", "--n-jobs", "1", "--quiet", "--format", "csv"]


def _table(md: str, title: str) -> dict[str, list[str]]:
    """The rows of a Markdown report's table ``## title``, by their first cell."""
    section = md.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| parameter") and not line.startswith("| system")]
    return {r[0]: r[1:] for r in rows}


def _note(md: str, title: str) -> str:
    section = md.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line and not line.startswith("|")][-1]


# -- 1. the parameters a tune result says its folds were fitted with -------------------------------------------------
def test_a_tune_result_records_each_searched_parameter_per_fold_and_the_fixed_ones_as_the_base_holds_them(tuned):
    params = tuned.cv.params
    names = [f.name for f in tuned.cv.folds]
    for key in SPACE:
        assert params[key] == {"per_fold": {n: p[key] for n, p in zip(names, tuned.best_params)}}
    assert "num_leaves" in params and params["num_leaves"] != 31  # never the base's default
    # what each fold was fitted with (the ranker the fold's choice configures) is what the record says
    for i, name in enumerate(names):
        model = tuned.best_estimator(i)
        assert model.num_leaves == params["num_leaves"]["per_fold"][name]
        assert model.engine_params["bagging_by_query"] == params["engine_params.bagging_by_query"]["per_fold"][name]
    assert params["n_estimators"] == 4 and params["min_child_samples"] == 2  # fixed: the base's
    assert params["engine_params"] == {"min_data_in_bin": 2}  # the searched entry left the fixed ones
    written = json.loads(json.dumps(tuned.cv.to_dict()))["systems"][0]["params"]  # the result file's record
    assert {k: written[k] for k in SPACE} == {k: params[k] for k in SPACE} and written["num_leaves"] != 31


def test_the_report_of_a_tune_result_shows_searched_parameters_per_fold_not_the_base_defaults(tuned):
    d = tuned.cv.to_dict()
    names = [f.name for f in tuned.cv.folds]
    expected = "per fold: " + "; ".join(f"{n}: {p['num_leaves']}" for n, p in zip(names, tuned.best_params))
    old = json.loads(json.dumps(d))  # a file written before: the base ranker's values under the searched names
    old["systems"][0]["params"] = {k: v for k, v in old["systems"][0]["params"].items() if k not in SPACE}
    old["systems"][0]["params"].update(num_leaves=31, engine_params={"bagging_by_query": False, "min_data_in_bin": 2})
    for record in (d, old):
        md = render_markdown(record, [], "figures")
        rows = _table(md, "Parameters: lightgbm tuned")
        assert rows["num_leaves"] == [expected, ""]
        bagging = "; ".join(f"{n}: {json.dumps(p['engine_params.bagging_by_query'])}"
                            for n, p in zip(names, tuned.best_params))
        assert rows["engine_params.bagging_by_query"] == [f"per fold: {bagging}", ""]
        assert "bagging_by_query" not in rows["engine_params"][0]  # the fixed engine parameters only
        assert rows["n_estimators"][0] == "4"
        assert "the Tuning table" in _note(md, "Parameters: lightgbm tuned")


def test_a_comparison_report_shows_a_tuned_systems_parameters_per_fold_with_its_tuning_table(data, tuned, tmp_path,
                                                                                           capsys):
    path, tuned_out, cv_out, cmp_out = (tmp_path / n for n in ("train.txt", "t.json", "cv.json", "cmp.json"))
    write_letor(path, data)
    tuned.save(tuned_out)
    assert main(["cv", str(path), "--folds", "3", "--rounds", "4", "--min-child-samples", "2", "--quiet",
                 "--out", str(cv_out)]) == 0
    assert main(["compare", str(tuned_out), str(cv_out), "--names", "tuned,plain", "--tests", "t",
                 "--metrics", "ndcg@10", "--quiet",
                 "--out", str(cmp_out)]) == 0
    capsys.readouterr()
    md = render_markdown(read_result(cmp_out), [], "figures")
    names = [f.name for f in tuned.cv.folds]
    rows = _table(md, "Parameters: tuned")
    assert rows["num_leaves"][0] == "per fold: " + "; ".join(f"{n}: {p['num_leaves']}"
                                                             for n, p in zip(names, tuned.best_params))
    assert "the table Tuning: tuned" in _note(md, "Parameters: tuned")
    chosen = _table(md, "Tuning: tuned: the parameters chosen in each outer fold")
    assert [chosen[n][-1] for n in names] == [str(p["num_leaves"]) for p in tuned.best_params]
    assert _table(md, "Parameters: plain")["num_leaves"][0] != ""  # a plain cv system: one value, as before
    assert "per fold" not in _table(md, "Parameters: plain")["num_leaves"][0]


# -- 2. every choice of a space checked before the first trial ------------------------------------------------------
def test_a_normalize_choice_the_ranker_does_not_know_is_refused_by_load_space_naming_file_line_and_key(tmp_path):
    space = tmp_path / "space.toml"
    space.write_text('[learning_rate]\nlow = 0.01\nhigh = 0.3\n\n[normalize]\nchoices = ["zscore", "bogus"]\n')
    with pytest.raises(FileFormatError) as exc:
        load_space(space, Ranker())
    message = str(exc.value)
    assert message.startswith(f"{space}:5: the ranker refuses 'bogus': unknown normalisation 'bogus'")
    assert message.endswith("(token 'normalize')")
    with pytest.raises(ValueError, match="search space 'normalize': the ranker refuses 'global-bogus'"):
        load_space({"normalize": {"choices": ["none", "global-bogus"]}}, Ranker())
    good = load_space({"normalize": {"choices": ["none", "zscore", "linear", "global-minmax"]}}, Ranker())
    assert good.params[0].choices == ("none", "zscore", "linear", "global-minmax")


def test_ltr_tune_refuses_a_bad_normalize_choice_before_any_trial_or_storage(letor, tmp_path, capsys):
    space = tmp_path / "space.toml"
    space.write_text('[normalize]\nchoices = ["zscore", "bogus"]\n')
    out = tmp_path / "bc.json"
    assert main([*letor, "--space", str(space), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ltr tune: error: {space}:1: the ranker refuses 'bogus'") and err.count("\n") == 1
    assert not (tmp_path / "bc.json.optuna.db").exists() and not out.exists()


# -- 3. one run per storage ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _held(lock):
    """``lock`` held as another run holds it (an flock of its own open file)."""
    import fcntl

    with open(lock, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fh.write("4242\n")
        fh.flush()
        yield


def test_a_storage_another_run_holds_is_refused_naming_it_before_any_trial(data, tmp_path):
    db = tmp_path / "trials.db"
    with _held(tmp_path / "trials.db.lock"), pytest.raises(StorageInUseError) as exc:
        tune(data, estimator=Ranker(**FAST), storage=db, **KW)
    assert str(exc.value) == (f"{db}: in use by another ltr tune run (process 4242): one run uses a trial storage "
                              "at a time; wait for it to end, or give another storage")
    assert isinstance(exc.value, OutputPathError)
    assert not db.exists()  # refused before the storage was opened
    result = tune(data, estimator=Ranker(**FAST), storage=db, **KW)  # released: the storage is free again
    assert result.cv.settings["tuning"]["trials_run"] == [1, 1]
    assert not (tmp_path / "trials.db.lock").exists()  # removed when the run ended


def test_ltr_tune_on_a_storage_in_use_says_so_in_one_line_naming_the_option(letor, tmp_path, capsys):
    db = tmp_path / "shared.db"
    with _held(tmp_path / "shared.db.lock"):
        assert main([*letor, "--storage", str(db)]) == 1
    assert capsys.readouterr().err == (
        f"ltr tune: error: {db} (--storage): in use by another ltr tune run (process 4242): one run uses a trial "
        "storage at a time; wait for it to end, or give another --storage\n")
    assert main(["tune", "--help"]) == 0
    assert "One run uses a storage at a time" in " ".join(capsys.readouterr().out.split())


def test_the_lock_a_killed_run_left_behind_blocks_no_later_run_and_an_interrupted_run_releases_its_own(
        data, tmp_path, monkeypatch):
    db, lock = tmp_path / "trials.db", tmp_path / "trials.db.lock"
    # a process that locks the file and dies without removing it (as a killed run would)
    code = ("import fcntl, os, sys; f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX); "
            "f.write(str(os.getpid())); f.flush(); os._exit(0)")
    subprocess.run([sys.executable, "-c", code, str(lock)], check=True, timeout=60)
    assert lock.exists()
    assert tune(data, estimator=Ranker(**FAST), storage=db, **KW).cv.settings["tuning"]["trials_run"] == [1, 1]
    from ltr.tuning import nested

    def interrupted(*a, **k):
        assert lock.exists()  # held while the trials run
        raise KeyboardInterrupt

    monkeypatch.setattr(nested, "inner_score", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tune(data, estimator=Ranker(**FAST), storage=db, **{**KW, "n_trials": 2})
    assert not lock.exists()


def test_an_optuna_error_about_the_stored_trials_names_the_storage(data, tmp_path, monkeypatch):
    import optuna

    db = tmp_path / "trials.db"

    def refused(self, *a, **k):  # what a trial another process finished gives
        raise ValueError("Cannot tell a FAIL trial.")

    monkeypatch.setattr(optuna.study.Study, "tell", refused)
    with pytest.raises(OutputPathError) as exc:
        tune(data, estimator=Ranker(**FAST), storage=db, **KW)
    assert str(exc.value) == f"{db}: the trial storage failed: Cannot tell a FAIL trial."


def test_an_error_of_a_fit_is_not_taken_for_a_storage_error(data, tmp_path, monkeypatch):
    from ltr.tuning import nested

    def broken(*a, **k):
        raise ValueError("a fit refused its data")

    monkeypatch.setattr(nested, "inner_score", broken)
    with pytest.raises(ValueError, match="^a fit refused its data$"):
        tune(data, estimator=Ranker(**FAST), storage=tmp_path / "trials.db", **KW)


# -- 4. a seed scikit-learn refuses ------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["tune", "--trials", "1", "--outer-folds", "2", "--inner-folds", "2"],
                                     ["cv", "--folds", "3"]])
def test_a_negative_split_seed_is_refused_naming_the_option_and_value(data, tmp_path, capsys, command):
    path = tmp_path / "train.txt"
    write_letor(path, data)
    assert main([command[0], str(path), *command[1:], "--split-seed", "-1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == (f"ltr {command[0]}: error: argument --split-seed: '-1': a seed, an integer from 0 to 2**32 - 1 "
                   f"(see ltr {command[0]} --help)\n")  # train's --seed words (trial t72)


def test_a_split_seed_whose_inner_folds_scikit_learn_would_refuse_is_refused_before_any_fit(data, tmp_path, capsys,
                                                                                          monkeypatch):
    from sklearn.model_selection import KFold

    with pytest.raises(ValueError):  # the reference: scikit-learn's range, 0 .. 2**32 - 1
        list(KFold(2, shuffle=True, random_state=2**32).split(np.arange(4)))
    from ltr.tuning import nested

    monkeypatch.setattr(nested, "inner_score", lambda *a, **k: pytest.fail("a trial ran"))
    with pytest.raises(ValueError, match=r"random_state must be an integer between 0 and 4294967293 .* got -1$"):
        tune(data, estimator=Ranker(**FAST), random_state=-1, **KW)
    # 2**32 - 2 cuts the outer folds, but outer fold 2's inner folds would shuffle with 2**32
    with pytest.raises(ValueError, match="got 4294967294$"):
        tune(data, estimator=Ranker(**FAST), random_state=2**32 - 2, **KW)
    with pytest.raises(ValueError, match=r"^random_state must be None or an integer between 0 and 2\*\*32 - 1, "
                                         r"got -1$"):
        query_kfold(data, 3, validation=False, random_state=-1)
    assert len(query_kfold(data, 3, validation=False, random_state=2**32 - 1)) == 3


# -- 5. which mean a comparison shows --------------------------------------------------------------------------------
def test_the_summary_and_differences_captions_say_their_means_are_over_queries_not_fold_means(data, tuned, tmp_path,
                                                                                              capsys):
    path, tuned_out, cv_out, cmp_out = (tmp_path / n for n in ("train.txt", "t.json", "cv.json", "cmp.json"))
    write_letor(path, data)
    tuned.save(tuned_out)  # 3 folds of 7, 7 and 6 queries: the two means differ
    assert main(["cv", str(path), "--folds", "3", "--rounds", "4", "--min-child-samples", "2", "--quiet",
                 "--out", str(cv_out)]) == 0
    assert main(["compare", str(tuned_out), str(cv_out), "--names", "tuned,plain", "--tests", "t",
                 "--metrics", "ndcg@10", "--quiet",
                 "--out", str(cmp_out)]) == 0
    capsys.readouterr()
    d = read_result(cmp_out)
    md = render_markdown(d, [], "figures")
    summary = _table(md, "Summary")
    pooled = np.mean(d["systems"][0]["per_query"]["ndcg@10"])  # every query once
    fold_means = np.mean([f.metrics["ndcg@10"] for f in tuned.cv.folds])  # LETOR's mean of fold means
    header = next(line for line in md.split("## Summary\n", 1)[1].splitlines() if line.startswith("| system"))
    column = [c.strip() for c in header.strip("|").split("|")].index("ndcg@10") - 1
    assert summary["tuned (baseline)"][column].strip("*") == f"{pooled:.4f}"
    assert f"{pooled:.4f}" != f"{fold_means:.4f}"
    assert "Means over the paired test queries, each query weighing once" in _note(md, "Summary")
    assert "mean of the folds' means" in _note(md, "Summary")
    assert _note(md, "Differences from the baseline").startswith(
        "delta: mean difference, over the paired test queries as every mean here (each query weighing once)")
    assert _table(md, "Cross-validation: tuned")["mean"][column] == f"{fold_means:.4f}"


# -- 6. a missing storage folder -------------------------------------------------------------------------------------
def test_a_storage_in_a_missing_folder_is_refused_naming_the_folder_and_makes_none(data, tmp_path, letor, capsys):
    missing = tmp_path / "missing" / "deeper"
    with pytest.raises(OutputPathError) as exc:
        tune(data, estimator=Ranker(**FAST), storage=missing / "x.db", **KW)
    assert str(exc.value) == f"{missing / 'x.db'}: cannot write: the folder {missing} does not exist"
    assert main([*letor, "--storage", str(missing / "x.db")]) == 1
    assert capsys.readouterr().err == (f"ltr tune: error: {missing / 'x.db'} (--storage): cannot write: the folder "
                                       f"{missing} does not exist\n")
    assert not (tmp_path / "missing").exists()
    assert os.path.isdir(tmp_path)


def test_a_storage_url_through_a_link_locks_the_file_it_names(data, tmp_path):
    # sqlite:///.../link.db locked link.db.lock while a run on real.db held real.db.lock: both ran on one database
    real = tmp_path / "real.db"
    real.touch()
    (tmp_path / "link.db").symlink_to(real)
    with _held(tmp_path / "real.db.lock"), pytest.raises(StorageInUseError):
        tune(data, estimator=Ranker(**FAST), storage=f"sqlite:///{tmp_path / 'link.db'}", **KW)
