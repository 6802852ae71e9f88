"""Trial t51 (pyapi): objective="logistic"'s validation metrics read the graded labels (they read label >= 1, and
early stopping followed them), set_params after a fit no longer changes the fitted model's predictions or its saved
parameters, and a LightGBM model file with CR-only line ends loads."""

from __future__ import annotations

import json
import warnings

import lightgbm as lgb
import numpy as np
import pytest

import ltr
from ltr.io import read_letor
from ltr.metrics import evaluate
from ltr.rankers.persist import PlainModelWarning


def _graded(seed: int):
    d = ltr.make_ranking(40, (6, 12), 5, random_state=seed)
    assert set(np.unique(d.y)) > {0.0, 1.0}  # graded: label >= 1 loses the difference between 1 and 2+
    return d


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
@pytest.mark.parametrize("kernel", ["native", "numba"])
def test_logistic_validation_metrics_read_the_graded_labels(engine, kernel, shared_file):
    """evals_result_ said ndcg@10 0.5709 where predict + evaluate (and ltr train's table) said 0.5441 (MQ2008), and
    early stopping stopped at round 64 where the graded curve stops at 19: the curve read label >= 1."""
    train = read_letor(shared_file("mq2008/Fold2/test.txt.gz"), n_features=46)
    valid = read_letor(shared_file("mq2008/Fold1/vali.txt.gz"), n_features=46)
    m = ltr.Ranker(objective="logistic", engine=engine, kernel=kernel, n_estimators=60, preset=None, n_jobs=1,
                   early_stopping_metric="ndcg@5", early_stopping_rounds=10).fit(train, eval_set=[valid])
    recorded = m.evals_result_["valid_0"]["ndcg@5"][m.best_iteration_ - 1]
    scores = m.predict(valid)
    graded = evaluate(valid.y, scores, group_ptr=valid.group_ptr, metrics=["ndcg@5"])["ndcg@5"]
    binary = evaluate((valid.y >= 1).astype(float), scores, group_ptr=valid.group_ptr, metrics=["ndcg@5"])["ndcg@5"]
    assert recorded == pytest.approx(graded, abs=1e-12)
    assert abs(graded - binary) > 0.01  # the two readings differ on these labels (0, 1, 2)


def test_set_params_after_fit_changes_neither_predictions_nor_the_saved_parameters(tmp_path):
    """A distilled student's predict blanked the column set_params named after the fit (scores off by up to 0.026),
    and save recorded n_estimators / normalize it was not trained with (t48 #4 had mended engine= only)."""
    d = _graded(2)
    X = np.column_stack([np.asarray(d.dense()), np.asarray(d.dense())[:, 0] * 2 + d.y])  # column 5: the teacher
    data = ltr.RankingDataset(X.astype(np.float32), d.y, d.qid, d.group_ptr)
    m = ltr.Ranker(objective="distill", kernel="numba", n_estimators=6, preset=None, n_jobs=1, min_child_samples=2,
                   objective_params={"teacher": 5}).fit(data)
    before = m.predict(data)
    m.set_params(objective_params={"teacher": 1}, n_estimators=2, normalize="zscore")
    assert np.array_equal(m.predict(data), before)
    assert m.fitted_params()["objective_params"] == {"teacher": 5} and m.fitted_params()["n_estimators"] == 6
    m.save(tmp_path / "m.txt")
    params = json.loads((tmp_path / "m.txt.meta.json").read_text())["params"]
    assert params["n_estimators"] == 6 and params["normalize"] is None
    assert params["objective_params"]["teacher"] == {"column": 5}
    loaded = ltr.load_model(tmp_path / "m.txt")
    assert np.array_equal(loaded.predict(data), before)
    assert loaded.get_params()["n_estimators"] == 6
    refit = ltr.Ranker(**{**m.get_params(), "normalize": None}).fit(data)  # the next fit trains what was set
    assert refit.booster_.num_trees() == 2


def test_a_lightgbm_model_file_with_cr_only_line_ends_loads(tmp_path):
    """LightGBM reads old-Mac line ends (CR alone); load_model took such a file for no model at all."""
    d = _graded(3)
    X = np.asarray(d.dense(), dtype=np.float64)
    booster = lgb.train({"objective": "lambdarank", "verbose": -1, "num_leaves": 4, "min_data_in_leaf": 2,
                         "num_threads": 1}, lgb.Dataset(X, d.y, group=np.diff(d.group_ptr)), 5)
    path = tmp_path / "model.txt"
    path.write_bytes(booster.model_to_string().replace("\n", "\r").encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlainModelWarning)
        model = ltr.load_model(path)
    assert np.array_equal(model.predict(X), booster.predict(X, raw_score=True))


def test_teacher_scores_from_a_pipe_are_refused_as_not_a_regular_file(tmp_path, shared_file, capsys):
    """--teacher-scores <(...) said '/dev/fd/63: no such file or folder': the file is read more than once."""
    import os

    from ltr.cli import main

    fifo = tmp_path / "scores.fifo"
    os.mkfifo(fifo)
    code = main(["train", str(shared_file("mq2008/Fold1/vali.txt.gz")), "--objective", "distill", "--kernel", "numba",
                 "--teacher-scores", str(fifo), "--out", str(tmp_path / "m.txt"), "--quiet"])
    assert code == 2
    assert capsys.readouterr().err == (f"ltr train: error: --teacher-scores {fifo}: not a regular file (a pipe?): the "
                                       "teacher's scores are read more than once (their first lines tell one score a "
                                       "row from a run), which a pipe cannot give; write them to a file first\n")
    assert not (tmp_path / "m.txt").exists()
