"""``ltr tune`` and :func:`ltr.tuning.tune` say how far they are when standard error is not a terminal (a script, CI,
``nohup``): rate-limited lines instead of tqdm's bar, nothing with ``--quiet``, standard output left to the result;
and ``--help`` says what a search costs."""

from __future__ import annotations

import io
import json
import re

import pytest

from ltr import Ranker, make_ranking
from ltr._shared import import_reference
from ltr.cli import main
from ltr.tuning import tune
from ltr.tuning.progress import TuneProgress

import_reference("optuna")  # the tune extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1

FAST = dict(n_estimators=5, min_child_samples=2, n_jobs=1)
SPACE = {"num_leaves": {"low": 2, "high": 6}}
TRIAL = re.compile(r"^tune (.+): outer fold (\d)/2, trial (\d)/3, best inner ndcg@10 (\d\.\d{4}), "
                   r"[\dhms]+ elapsed$")
FOLD = re.compile(r"^tune .+: outer fold (\d)/2 done: 3 trials, best inner ndcg@10 (\d\.\d{4}), outer test "
                  r"ndcg@10 \d\.\d{4}, [\dhms]+ elapsed$")


@pytest.fixture(scope="module")
def data():
    return make_ranking(20, (4, 8), 5, random_state=0)


@pytest.fixture()
def letor(data, tune_argv):
    return tune_argv(data, trials=3)


def test_tune_off_a_terminal_prints_the_cost_then_trial_and_fold_lines_on_standard_error(data, capsys):
    result = tune(data, estimator=Ranker(**FAST), space=SPACE, n_trials=3, outer_folds=2, inner_folds=2)
    out, err = capsys.readouterr()  # pytest's capture is not a terminal: tqdm draws nothing there
    lines = err.splitlines()
    assert out == ""
    assert lines[0] == "tune lightgbm tuned: 2 outer folds x 3 trials x 2 inner folds = 12 fits, plus 2 outer refits"
    first = TRIAL.match(lines[1])  # the first trial always shows; the rest at most one every few seconds
    assert first and first.group(2, 3) == ("1", "1")
    assert float(first.group(4)) == pytest.approx(result.trials[0][0]["value"], abs=5e-5)
    folds = [FOLD.match(line) for line in lines if "done:" in line]
    assert [m.group(1) for m in folds] == ["1", "2"]
    assert [float(m.group(2)) for m in folds] == pytest.approx(result.best_inner, abs=5e-5)
    assert all(TRIAL.match(line) or FOLD.match(line) for line in lines[1:])


def test_tune_without_progress_prints_nothing(data, capsys):
    tune(data, estimator=Ranker(**FAST), space=SPACE, n_trials=1, outer_folds=2, inner_folds=2, progress=False)
    assert capsys.readouterr() == ("", "")


def test_trial_lines_come_at_most_one_every_interval_and_fold_lines_always():
    now = [0.0]
    out = io.StringIO()
    p = TuneProgress("x", 2, 9, 3, "map", file=out, interval=5.0, clock=lambda: now[0])
    for t, done in ((0.0, 1), (1.0, 2), (4.9, 3), (5.0, 4), (7.0, 5), (10.5, 6)):
        now[0] = t
        p.trial(0, done, 0.25)
    now[0] = 11.0
    p.fold_done(0, 9, 0.3, 0.2)
    now[0] = 12.0
    p.trial(1, 1, 0.5)  # within the interval of the fold line
    p.close()
    lines = out.getvalue().splitlines()
    assert lines == ["tune x: 2 outer folds x 9 trials x 3 inner folds = 54 fits, plus 2 outer refits",
                     "tune x: outer fold 1/2, trial 1/9, best inner map 0.2500, 0s elapsed",
                     "tune x: outer fold 1/2, trial 4/9, best inner map 0.2500, 5s elapsed",
                     "tune x: outer fold 1/2, trial 6/9, best inner map 0.2500, 10s elapsed",
                     "tune x: outer fold 1/2 done: 9 trials, best inner map 0.3000, outer test map 0.2000, 11s elapsed"]


def test_on_a_terminal_the_bar_shows_and_no_lines():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    p = TuneProgress("x", 2, 3, 2, "map", file=out, clock=lambda: 0.0)
    p.trial(0, 1, 0.5)
    p.fold_done(0, 3, 0.5, 0.4)
    p.close()
    text = out.getvalue()
    assert "tune x:" in text and "trial" in text and "|" in text  # tqdm's bar: "tune x:  33%|###  | 2/6 ..."
    assert "outer fold" not in text and "fits" not in text


def test_ltr_tune_json_keeps_standard_output_pure_and_progress_on_standard_error(letor, capsys):
    assert main([*letor, "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert len(json.loads(out)["folds"]) == 2  # the whole of standard output is one JSON document
    assert "2 outer folds x 3 trials x 2 inner folds = 12 fits, plus 2 outer refits" in err
    assert any(TRIAL.match(line) for line in err.splitlines())
    assert sum(1 for line in err.splitlines() if FOLD.match(line)) == 2


def test_ltr_tune_quiet_prints_no_progress(letor, capsys):
    assert main([*letor, "--format", "json", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert len(json.loads(out)["folds"]) == 2
    assert err == ""


def test_ltr_tune_help_gives_the_cost_of_a_search(capsys):
    assert main(["tune", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Cost: TRIALS x OUTER x INNER fits" in text and "plus one refit per outer fold" in text
    assert "30 x 5 x 3 = 450 fits + 5" in text and "--timeout" in text and "--quiet silences it" in text
    assert "TRIALS x OUTER x INNER (x REPEATS) fits in all" in text  # --trials' own help


def test_markdown_prints_both_tables_as_markdown(tune_argv, capsys):
    """The table of the parameters chosen per fold, the point of tuning, came out in the terminal layout."""
    data = make_ranking(20, (4, 8), 5, random_state=0)
    assert main([*tune_argv(data, 2), "--format", "markdown", "--quiet"]) == 0
    out = capsys.readouterr().out.split("\n\n")
    assert out[0].splitlines()[:2] == ["| fold | ndcg@1 | ndcg@3 | ndcg@5 | ndcg@10 | map | rounds | seconds |",
                                       "|---|---:|---:|---:|---:|---:|---:|---:|"]
    chosen = out[1].splitlines()
    assert chosen[:2] == ["| fold | inner ndcg@10 | num_leaves |", "|---|---:|---:|"]
    assert [line.split(" | ")[0] for line in chosen[2:]] == ["| Fold1", "| Fold2"]
    assert re.fullmatch(r"\| Fold1 \| 0\.\d{4} \| [2-6] \|", chosen[2])
    assert out[2].startswith("gain exp2 (2^rel - 1); ")


def test_tunes_mean_is_said_to_be_over_folds_and_its_json_summary_is_named_when_given_to_compare(tune_argv, tmp_path,
                                                                                               capsys):
    # the footer said "each fold's mean over its test queries (N in all)" beside the mean of the folds' means, which
    # ltr compare (a mean over queries) then showed otherwise; the --format json summary given to compare was "cut
    # short, or another tool's" (trial t47/tune)
    argv = tune_argv(make_ranking(30, 6, 4, random_state=0), 2)
    assert main([*argv, "--quiet", "--format", "json"]) == 0
    summary = tmp_path / "summary.json"
    summary.write_text(capsys.readouterr().out)
    assert "; mean and std over 2 folds (ltr compare and ltr report average the queries); " in \
        json.loads(summary.read_text())["conventions"]
    assert main(["compare", str(summary), str(summary)]) == 2
    assert capsys.readouterr().err == (f"ltr compare: error: {summary}: ltr tune's --format json summary (its folds' "
                                       "choices), not its result: the result file is ltr tune's --out FILE, which "
                                       "compare takes\n")
