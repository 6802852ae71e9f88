"""Trial t51 (linear-tune): ltr tune of the linear ranker on ERR trains the ERR it scores (it trained grade 4 under
--max-grade 2), --normalize / --objective that the space searches are said, ltr info tells a per-query normaliser
from a global one, search spaces that ended mid-run or ran without end are refused, a linear model whose scores
overflow is refused rather than written as inf, an integer range for a real-valued setting is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ltr
import ltr.rankers.linear as linear
from ltr.cli import main
from ltr.io import write_letor

TUNE = ["--trials", "1", "--outer-folds", "2", "--inner-folds", "2", "--quiet", "--format", "json"]


@pytest.fixture()
def data(tmp_path):
    d = ltr.make_ranking(24, (5, 9), 4, random_state=3)
    d = ltr.RankingDataset(d.X, np.minimum(d.y, 2.0), d.qid, d.group_ptr)  # grades 0..2
    assert d.y.max() == 2
    path = tmp_path / "d.letor"
    write_letor(path, d)
    return path


@pytest.fixture()
def grades(monkeypatch):
    """The (metric, max_grade) of every coordinate-ascent target built."""
    seen = []
    original = linear.MetricTarget.__init__

    def spy(self, *args, max_grade=4.0, **kwargs):
        seen.append((args[3] if len(args) > 3 else kwargs.get("metric"), max_grade))
        return original(self, *args, max_grade=max_grade, **kwargs)

    monkeypatch.setattr(linear.MetricTarget, "__init__", spy)
    return seen


def test_tuning_the_linear_ranker_on_err_trains_the_err_it_scores(data, tmp_path, grades, capsys):
    """Every inner and outer score was ERR at grade 2, every trial trained ERR at grade 4 (the engine's default)."""
    assert main(["tune", str(data), "--engine", "linear", "--metric", "err@10", "--max-grade", "2", *TUNE,
                 "--out", str(tmp_path / "t.json")]) == 0
    assert grades and set(grades) == {("err@10", 2.0)}
    grades.clear()
    from ltr.tuning import tune

    tune(str(data), engine="linear", metric="err@10", max_grade=2, n_trials=1, outer_folds=2, inner_folds=2)
    assert grades and set(grades) == {("err@10", 2.0)}
    with pytest.raises(ValueError, match=r"engine_params max_grade=3\.0 is not the max_grade the folds are scored "
                                         r"with \(max_grade=2\.0\): give tune's max_grade=3\.0 \(ltr tune "
                                         r"--max-grade 3\.0\), which sets both"):
        tune(str(data), estimator=ltr.Ranker(engine="linear", engine_params={"max_grade": 3.0}), metric="err@10",
             max_grade=2, n_trials=1, outer_folds=2, inner_folds=2)


def test_normalize_and_objective_the_space_searches_are_said(data, tmp_path, capsys):
    """--normalize sum with the default linear space (which searches normalize) was dropped unsaid."""
    assert main(["tune", str(data), "--engine", "linear", "--normalize", "sum", "--metric", "map", "--trials", "1",
                 "--outer-folds", "2", "--inner-folds", "2", "--out", str(tmp_path / "t.json")]) == 0
    assert "note: the space searches --normalize (the space's normalize): the value given is not used" in \
        capsys.readouterr().err


def test_info_tells_a_per_query_normaliser_from_a_global_one(data, tmp_path, capsys):
    for normalize, shown in (("zscore", "zscore (per query)"), ("global-zscore", "global-zscore")):
        model = tmp_path / f"{normalize}.json"
        assert main(["train", str(data), "--engine", "linear", "--normalize", normalize, "--out", str(model),
                     "--quiet"]) == 0
        capsys.readouterr()
        assert main(["info", str(model)]) == 0
        line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("normaliser"))
        assert line.split(None, 1)[1] == shown


@pytest.mark.parametrize("space, message", [
    ("[engine_params.max_grade]\nchoices = [1, 2]\n", r"the linear ranker's max_grade is the tuned metric's own"),
    ("[engine_params.gain]\nchoices = [\"exp2\", \"linear\"]\n", r"the linear ranker's gain is the tuned metric's own"),
    ("[engine_params.n_restarts]\nlow = 1\nhigh = 100000000000\nlog = true\n",
     r"n_restarts must be an integer >= 1 and <= 1000"),
    ("[engine_params.max_passes]\nlow = 1\nhigh = 5000\n", r"max_passes must be an integer >= 1 and <= 1000"),
    ("[engine_params.reg]\nlow = 0\nhigh = 1\n", r"low = 0 and high = 1 are integers, which makes this an integer "
                                                 r"range .* reg is a real number: write low = 0\.0, high = 1\.0"),
])
def test_linear_spaces_that_would_fail_mid_run_run_for_ever_or_search_two_values_are_refused(data, tmp_path, capsys,
                                                                                           space, message):
    (tmp_path / "s.toml").write_text(space)
    assert main(["tune", str(data), "--engine", "linear", "--metric", "err@10", "--max-grade", "2", "--space",
                 str(tmp_path / "s.toml"), *TUNE, "--out", str(tmp_path / "t.json")]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ltr tune: error: {tmp_path / 's.toml'}:1: "), err
    import re

    assert re.search(message, err), err
    assert not (tmp_path / "t.json").exists()


def test_a_folder_given_as_the_space_is_said_to_be_one(data, tmp_path, capsys):
    assert main(["tune", str(data), "--space", str(tmp_path), *TUNE]) == 2
    assert capsys.readouterr().err == f"ltr tune: error: --space {tmp_path}: is a folder, not a search-space file\n"


@pytest.mark.parametrize("sparse", [False, True])
def test_a_linear_model_whose_scores_overflow_is_refused_not_written_as_inf(data, tmp_path, capsys, sparse):
    """A hand-edited weight of 1e308 wrote 819 inf scores, exit 0 (dense); sparse said X had an infinite value."""
    assert main(["train", str(data), "--engine", "linear", "--out", str(tmp_path / "m.json"), "--quiet"]) == 0
    model = json.loads((tmp_path / "m.json").read_text())
    model["weights"][1] = 1e308
    (tmp_path / "inf.json").write_text(json.dumps(model))  # no sidecar: a plain linear model
    out = tmp_path / "s.txt"
    code = main(["predict", str(tmp_path / "inf.json"), str(data), "--out", str(out), "--quiet",
                 *(["--sparse"] if sparse else [])])
    assert code == 1 and not out.exists()
    last = capsys.readouterr().err.splitlines()[-1]  # (after the plain model's warning)
    assert last.startswith("ltr predict: error: the linear model's score of row ") and "overflows to " in last, last
    assert last.endswith("its weights are too large (weight 2 is 1e+308)"), last


def test_a_gain_set_for_a_metric_that_reads_none_is_left_alone(data):
    """The review of t51: engine_params gain='linear' with MAP tuned was refused ('disagree'), though MAP reads no
    gain."""
    from ltr.tuning import tune

    result = tune(str(data), estimator=ltr.Ranker(engine="linear", engine_params={"gain": "linear"}), metric="map",
                  n_trials=1, outer_folds=2, inner_folds=2)
    models = result.best_estimators()
    assert len(models) == 2 and all(m.get_params()["engine_params"]["gain"] == "linear" for m in models)
