"""Trial t57 (tune): --n-features reads the data at that width, as ltr train and ltr cv read it."""

from __future__ import annotations

import json

from ltr import make_ranking
from ltr._shared import import_reference
from ltr.cli import main

import_reference("optuna")  # the tune extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1


def test_tune_and_cv_read_the_data_at_n_features(tune_argv, tmp_path, capsys):
    """ltr tune took --n-features and read the file at its own width (46-feature models for --n-features 40 or 50,
    exit 0); ltr cv refused a narrower one in words that named no file, line or token."""
    argv = tune_argv(make_ranking(16, 6, 5, random_state=0), 2)
    path = argv[1]
    with open(path) as f:  # without the header that names 5 features: a file that lists no trailing feature
        rows = [line for line in f if not line.startswith("#")]
    with open(path, "w") as f:
        f.writelines(rows)
    out = tmp_path / "tuned.json"
    assert main([*argv, "--n-features", "7", "--quiet", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["datasets"][0]["n_features"] == 7
    for command in (argv, ["cv", path, "--folds", "2", "--rounds", "2"]):
        assert main([*command, "--n-features", "3", "--quiet"]) == 1
        assert f"{path}:1: feature id above n_features=3 (token '4:" in capsys.readouterr().err


def test_tune_leaves_the_caller_s_ranker_as_given_and_scores_its_objective_s_gain():
    """tune(estimator=mine) set mine's objective and engine_params in place (a later mine.fit trained ERR@5 at grade
    2); an explicit NDCG objective of a linear ranker trained exp2 NDCG while every score used gain='linear'."""
    from ltr import Ranker
    from ltr.tuning import tune

    data = make_ranking(12, 6, 4, max_label=2, random_state=0)
    space = {"engine_params.reg": {"choices": [0.0]}}
    mine = Ranker(engine="linear", engine_params={"n_restarts": 1})
    before = mine.get_params()
    tune(data, estimator=mine, metric="err@5", max_grade=2, n_trials=1, outer_folds=2, inner_folds=2,
         progress=False, space=space)
    assert mine.get_params() == before
    result = tune(data, estimator=Ranker(engine="linear", objective="ndcg@10"), gain="linear", metric="ndcg@10",
                  n_trials=1, outer_folds=2, inner_folds=2, progress=False, space=space)
    assert result.cv.params["engine_params"] == {"gain": "linear"}


def test_an_ndcg_objective_the_space_may_draw_gets_the_folds_gain():
    """A linear ranker tuned with gain='linear' over a space drawing objective='ndcg@10' trained exp2 NDCG while
    every fold scored linear gain (a review of the fix for an explicit objective)."""
    from ltr import Ranker
    from ltr.tuning import tune

    result = tune(make_ranking(12, 6, 4, random_state=0), estimator=Ranker(engine="linear", objective="map"),
                  gain="linear", metric="ndcg@10", n_trials=1, outer_folds=2, inner_folds=2, progress=False,
                  space={"objective": {"choices": ["ndcg@10"]}})
    assert result.cv.params["engine_params"] == {"gain": "linear"}
