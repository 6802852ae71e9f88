"""Fixes from user trial t71 (and the review that followed it), each with the case that showed it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sklearn
from sklearn.base import clone

from ltr import Ranker
from ltr._shared import shared_data_dir, shared_data_missing

ROOT = Path(__file__).resolve().parent.parent


def test_shared_data_named_but_missing_is_not_replaced_by_another_folder(monkeypatch, tmp_path):
    # LTRKIT_SHARED_DATA naming no folder fell back to ../shared/data without a word: a benchmark or a test run then
    # read other data than the user named.
    (tmp_path / "there").mkdir()
    monkeypatch.setenv("LTRKIT_SHARED_DATA", str(tmp_path / "typo"))
    assert shared_data_dir() is None
    assert shared_data_missing() == f"LTRKIT_SHARED_DATA={tmp_path / 'typo'}: no such folder"
    assert shared_data_dir(tmp_path / "there") == tmp_path / "there"  # a script's --data wins over the variable
    assert shared_data_dir(tmp_path / "gone") is None
    assert shared_data_missing(tmp_path / "gone") == f"--data {tmp_path / 'gone'}: no such folder"
    monkeypatch.setenv("LTRKIT_SHARED_DATA", str(tmp_path / "there"))
    assert shared_data_dir() == tmp_path / "there"


def test_a_benchmark_given_a_missing_data_folder_says_so_in_one_line(tmp_path):
    env = {**os.environ, "LTRKIT_SHARED_DATA": str(tmp_path / "typo")}
    for argv in ([], ["--data", str(tmp_path / "gone")]):
        r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_bm25_baselines.py"), *argv],
                           capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 1, r.stderr
        named = f"--data {tmp_path / 'gone'}" if argv else f"LTRKIT_SHARED_DATA={tmp_path / 'typo'}"
        assert r.stderr.strip().splitlines() == [f"{named}: no such folder"], r.stderr
        assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("name", ["engine_params", "objective_params", "eval_params"])
@pytest.mark.parametrize("dict_first", [True, False])
def test_set_params_applies_a_dicts_keys_to_the_dict_given_in_the_same_call(name, dict_first):
    # set_params(engine_params={...}, engine_params__max_bin=4) kept the dict and dropped the key (either order), so
    # a grid naming both trained the same model for every value of the key and reported them as different.
    whole, key = {name: {"a": 1}}, {f"{name}__b": 2}
    params = {**whole, **key} if dict_first else {**key, **whole}
    r = Ranker(**{name: {"old": 0}})
    assert r.set_params(**params) is r
    assert getattr(r, name) == {"a": 1, "b": 2}
    assert clone(r).get_params()[name] == {"a": 1, "b": 2}


def test_a_grid_over_one_key_of_a_given_engine_params_trains_each_value():
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from ltr.datasets import make_ranking
    from ltr.evaluation import ndcg_scorer

    data = make_ranking(n_queries=30, docs_per_query=12, n_features=6, random_state=0)
    X, y, qid = data.X, data.y, data.qid
    grid = {"engine_params": [{"min_data_in_bin": 1}], "engine_params__max_bin": [3, 255]}
    with sklearn.config_context(enable_metadata_routing=True):
        gs = GridSearchCV(Ranker(n_estimators=5, preset=None, n_jobs=1).set_fit_request(qid=True), grid,
                          scoring=ndcg_scorer(10), cv=GroupKFold(3)).fit(X, y, qid=qid, groups=qid)
    scores = gs.cv_results_["mean_test_score"]
    assert scores[0] != scores[1]
    assert gs.best_estimator_.engine_params == {"min_data_in_bin": 1, **{"max_bin": gs.best_params_[
        "engine_params__max_bin"]}}
