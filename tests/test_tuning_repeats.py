"""Repeated inner splits (``inner_repeats``, ``ltr tune --inner-repeats``): each outer training part is cut into
the inner folds several times, each a new split, and a configuration is scored by its mean over them all.

The reference: the splits' test queries ranked by models fitted here and scored by pytrec_eval (average precision;
the linear ranker's scores have no ties, so trec_eval's tie order does not come into it)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import clone

from ltr import Ranker, make_ranking
from ltr._shared import import_reference
from ltr.cli import main
from ltr.evaluation import query_kfold
from ltr.tuning import inner_score, select_by_nested_cv, tune

import_reference("optuna")  # the tune extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1

FAST = dict(n_estimators=5, min_child_samples=2, n_jobs=1)


@pytest.fixture(scope="module")
def data():
    return make_ranking(24, (5, 9), 4, random_state=3)


def reference_ap(model, part) -> list[float]:
    """pytrec_eval's average precision of ``model`` on every query of ``part``."""
    pytrec_eval = import_reference("pytrec_eval")
    scores = model.predict(part)
    qrels, run = {}, {}
    for i, q in enumerate(part.query_ids):
        lo, hi = part.group_ptr[i], part.group_ptr[i + 1]
        s = np.asarray(scores[lo:hi])
        assert np.unique(s).size == s.size  # no ties: the order is the same under every tie rule
        qrels[str(q)] = {f"d{j}": int(part.y[lo + j]) for j in range(hi - lo)}
        run[str(q)] = {f"d{j}": float(s[j]) for j in range(hi - lo)}
    ev = pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate(run)
    return [ev[str(q)]["map"] for q in part.query_ids]


def test_each_configuration_is_scored_by_its_mean_ap_over_every_repeat_of_the_inner_split(data):
    candidates = {"zscore": Ranker(engine="linear", objective="map", normalize="zscore", n_jobs=1, random_state=0,
                                   engine_params={"n_restarts": 1}),
                  "minmax": Ranker(engine="linear", objective="map", normalize="minmax", n_jobs=1, random_state=0,
                                   engine_params={"n_restarts": 1})}
    outer, inner, repeats, seed = 3, 2, 3, 5
    sel = select_by_nested_cv(candidates, data, metric="map", outer_folds=outer, inner_folds=inner,
                              random_state=seed, inner_repeats=repeats)
    assert sel.selected.settings["nested"]["inner_repeats"] == repeats
    for i, fold in enumerate(query_kfold(data, outer, validation=False, random_state=seed)):
        train = sorted(fold.train.query_ids)
        splits = []
        for r in range(repeats):
            parts = query_kfold(fold.train, inner, validation=False, random_state=seed + 1 + i + r * outer)
            assert sorted(q for p in parts for q in p.test.query_ids) == train  # every training query once
            splits.append(parts)
        assert len({str([sorted(p.test.query_ids) for p in parts]) for parts in splits}) == repeats  # new splits
        for name, est in candidates.items():
            values = [ap for parts in splits for p in parts for ap in reference_ap(clone(est).fit(p.train), p.test)]
            assert len(values) == repeats * len(train)
            assert sel.inner[i][name] == pytest.approx(np.mean(values), abs=1e-12)
        assert sel.chosen[i] == max(candidates, key=lambda c: (sel.inner[i][c], -list(candidates).index(c)))


def test_one_repeat_is_the_split_of_a_run_without_repeats(data):
    est = Ranker(**FAST)
    fold = query_kfold(data, 3, validation=False, random_state=0)[0]
    assert inner_score(est, fold.train, n_folds=2, random_state=[1]) == inner_score(est, fold.train, n_folds=2,
                                                                                     random_state=1)
    both = inner_score(est, fold.train, n_folds=2, random_state=[1, 4])
    parts = [inner_score(est, fold.train, n_folds=2, random_state=s) for s in (1, 4)]
    assert both == pytest.approx(np.mean(parts), abs=1e-12)  # each split tests every query once
    with pytest.raises(ValueError, match="random_state is an empty sequence"):
        inner_score(est, fold.train, n_folds=2, random_state=[])


def test_tune_scores_trials_over_the_repeats_and_stores_them_apart_from_a_single_split(data, tmp_path):
    space = {"num_leaves": {"low": 2, "high": 6}}
    kw = dict(estimator=Ranker(**FAST), space=space, n_trials=2, outer_folds=2, inner_folds=2, progress=False,
              storage=tmp_path / "trials.db")
    one = tune(data, **kw)
    two = tune(data, **kw, inner_repeats=2)
    assert two.resumed == 0 and two.other_setups == 2  # the single split's studies (one per outer fold), not used
    assert two.cv.settings["tuning"]["inner_repeats"] == 2 and one.cv.settings["tuning"]["inner_repeats"] == 1
    assert two.cv.settings["tuning"]["study_key"] != one.cv.settings["tuning"]["study_key"]
    from ltr.tuning.space import apply_params

    for i, fold in enumerate(query_kfold(data, 2, validation=False, random_state=0)):
        model = apply_params(Ranker(**FAST), two.best_params[i])
        assert two.best_inner[i] == pytest.approx(
            inner_score(model, fold.train, n_folds=2, random_state=[1 + i, 1 + i + 2]), abs=1e-12)
    again = tune(data, **kw)  # the single split's trials are still there, and resumed
    assert again.resumed == 4 and again.best_inner == one.best_inner


def test_seeds_leave_room_for_every_repeat(data):
    top = 2**32 - 1 - 2 * 3
    with pytest.raises(ValueError, match=rf"between 0 and {top} \(2\*\*32 - 1 - outer_folds \* inner_repeats"):
        select_by_nested_cv({"a": Ranker(**FAST)}, data, outer_folds=2, inner_folds=2, inner_repeats=3,
                            random_state=top + 1)
    with pytest.raises(ValueError, match="inner_repeats must be an integer >= 1, got 0"):
        select_by_nested_cv({"a": Ranker(**FAST)}, data, outer_folds=2, inner_folds=2, inner_repeats=0)


@pytest.fixture()
def letor(data, tune_argv):
    return tune_argv(data, trials=1)


def test_ltr_tune_inner_repeats_is_recorded_and_said_and_its_cost_shown(letor, tmp_path, capsys):
    out = tmp_path / "tuned.json"
    assert main([*letor, "--inner-repeats", "3", "--out", str(out), "--format", "json"]) == 0
    stdout, err = capsys.readouterr()
    assert err.splitlines()[0] == ("tune lightgbm tuned: 2 outer folds x 1 trials x 2 inner folds x 3 inner splits "
                                   "= 12 fits, plus 2 outer refits")
    assert "parameters chosen by 2 inner folds (x 3 splits) on ndcg@10" in json.loads(stdout)["conventions"]
    tuning = json.loads(out.read_text())["settings"]["tuning"]
    assert tuning["inner_repeats"] == 3 and tuning["inner_folds"] == 2
    # the same search with one split: the repeats' studies are kept apart, and said so
    assert main([*letor, "--storage", f"{out}.optuna.db", "--format", "json"]) == 0
    err = capsys.readouterr().err
    assert (f"ltr tune: {out}.optuna.db also holds 2 studies of another set-up (the data, the fixed model options, "
            "--n-jobs among them, the space, the metric, the folds, --inner-repeats or the seed differ): their trials "
            "were not used\n") in err and "resumed" not in err


@pytest.mark.parametrize("extra, message", [
    (["--inner-repeats", "0"], "--inner-repeats must be at least 1, got 0"),
    (["--inner-repeats", "3", "--split-seed", str(2**32 - 1 - 5)],
     f"--split-seed must be between 0 and {2**32 - 1 - 6} (2**32 - 1 - --outer-folds x --inner-repeats), got "
     f"{2**32 - 1 - 5}"),
])
def test_ltr_tune_bad_inner_repeats_is_a_usage_error_naming_the_option(letor, capsys, extra, message):
    assert main([*letor, *extra]) == 2
    err = capsys.readouterr().err
    assert err == f"ltr tune: error: {message}\n"
