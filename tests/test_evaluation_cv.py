"""Cross-validation: fold sources, agreement with training each fold by hand, parallel folds, saved artefacts,
scikit-learn's GridSearchCV with query routing, the ``ltr cv`` command and a quality floor on MQ2008."""

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from ltr import Ranker, load_model, make_ranking
from ltr._shared import tiny_ranker
from ltr.cli import main
from ltr.evaluation import (
    CVResult,
    FoldResult,
    cross_validate,
    letor_folds,
    ndcg_scorer,
    query_kfold,
)
from ltr.io import read_letor, write_letor
from ltr.metrics import evaluate, evaluate_per_query
from ltr.rankers.normalize import QueryNormalizer

METRICS = ["ndcg@5", "ndcg@10", "map"]


small_ranker = tiny_ranker  # the shared test ranker (ltr._shared.TINY)


@pytest.fixture(scope="module")
def data():
    return make_ranking(45, (4, 12), 6, random_state=0)


@pytest.fixture(scope="module")
def fold_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("letor")
    for i in (1, 2, 3):
        (root / f"Fold{i}").mkdir()
        for j, part in enumerate(("train", "vali", "test")):
            ext = ".txt.gz" if (i + j) % 2 else ".txt"  # a mix of plain and gzip files, as real copies have
            write_letor(root / f"Fold{i}" / f"{part}{ext}", make_ranking(30 if part == "train" else 12, (3, 9), 5,
                                                                         random_state=10 * i + j))
    return root


def run_cv(argv):
    return main(["cv", *argv])


# -- fold sources ---------------------------------------------------------------------------------------------------
def test_letor_folds_finds_plain_and_gzip_files_in_fold_order(fold_dir):
    folds = letor_folds(fold_dir)
    assert [f.name for f in folds] == ["Fold1", "Fold2", "Fold3"]
    assert folds[0].train.name == "train.txt.gz" and folds[0].vali.name == "vali.txt"


def test_letor_3_names_its_parts_trainingset_validationset_testset(tmp_path):
    """LETOR 3.0 (OHSUMED, the Gov sets TD2003/TD2004/HP/NP) ships FoldK/{trainingset,validationset,testset}.txt."""
    for i in (1, 2):
        (tmp_path / f"Fold{i}").mkdir()
        for part in ("trainingset", "validationset", "testset"):
            write_letor(tmp_path / f"Fold{i}" / f"{part}.txt", make_ranking(6, (3, 5), 4, random_state=i))
    folds = letor_folds(tmp_path)
    assert [(f.train.name, f.vali.name, f.test.name) for f in folds] == [
        ("trainingset.txt", "validationset.txt", "testset.txt")] * 2


def test_a_fold_directory_with_missing_files_names_every_missing_file(tmp_path):
    for i in (1, 2):
        (tmp_path / f"Fold{i}").mkdir()
        for part in ("train", "vali", "test"):
            if not (i == 2 and part in ("test", "vali")):
                (tmp_path / f"Fold{i}" / f"{part}.txt").write_text("0 qid:1 1:0\n")
    any_ = r"\[\.gz\|\.bz2\|\.xz\]"
    with pytest.raises(FileNotFoundError, match=rf"missing Fold2/test.txt{any_}, Fold2/vali.txt{any_}"):
        letor_folds(tmp_path)
    with pytest.raises(FileNotFoundError, match="no Fold1..FoldK"):
        letor_folds(tmp_path / "Fold1")
    with pytest.raises(FileNotFoundError, match="not found"):
        letor_folds(tmp_path / "nope")


def test_query_kfold_tests_every_query_once_and_never_splits_one(data):
    folds = query_kfold(data, 5, random_state=3)
    tested = np.concatenate([f.test.query_ids for f in folds])
    assert sorted(tested.tolist()) == sorted(data.query_ids.tolist())
    sizes = dict(zip(data.query_ids.tolist(), data.group_sizes.tolist()))
    for f in folds:
        parts = [set(p.query_ids.tolist()) for p in (f.train, f.vali, f.test)]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert sum(len(p) for p in parts) == data.n_queries
        for p in (f.train, f.vali, f.test):  # whole queries: every row of each query travels together
            assert dict(zip(p.query_ids.tolist(), p.group_sizes.tolist())) == {q: sizes[q] for q in p.query_ids}
    # LETOR's rotation: fold i validates on the part fold i + 1 tests on.
    assert folds[0].vali.query_ids.tolist() == folds[1].test.query_ids.tolist()
    with pytest.raises(ValueError, match="cannot cut 45 queries into 50"):
        query_kfold(data, 50)
    with pytest.raises(ValueError, match=">= 3"):
        query_kfold(data, 2)


# -- results agree with training each fold by hand ---------------------------------------------------------------
def test_cv_on_a_fold_directory_equals_training_each_fold_by_hand(fold_dir):
    res = cross_validate(small_ranker(early_stopping_rounds=3), fold_dir, metrics=METRICS, progress=False)
    for fold, f in zip(res.folds, letor_folds(fold_dir)):
        train, vali, test = (read_letor(p, n_features=5) for p in (f.train, f.vali, f.test))
        # The reference watches the validation part alone, as the contract says (no training set recorded).
        model = small_ranker(early_stopping_rounds=3).fit(train, eval_set=[vali])
        expected = evaluate(test.y, model.predict(test), group_ptr=test.group_ptr, metrics=METRICS)
        assert fold.metrics == pytest.approx(expected, abs=1e-12)
        assert fold.rounds == model.best_iteration_
        assert fold.qids == [str(q) for q in test.query_ids]
    assert res.mean() == pytest.approx({m: np.mean([f.metrics[m] for f in res.folds]) for m in METRICS})
    # The report's data summary pools the test parts (the whole data set in the LETOR layout).
    tests = [read_letor(f.test) for f in letor_folds(fold_dir)]
    assert res.datasets[0]["n_rows"] == sum(t.n_rows for t in tests)
    assert res.datasets[0]["rows_per_query"] == [int(s) for t in tests for s in t.group_sizes]
    assert res.std() == pytest.approx({m: np.std([f.metrics[m] for f in res.folds], ddof=1) for m in METRICS})


def test_cv_on_a_dataset_pools_one_value_per_query(data):
    res = cross_validate(small_ranker(), data, n_splits=3, validation=True, metrics=METRICS, progress=False)
    pooled = res.per_query()
    assert sorted(pooled.index, key=int) == [str(q) for q in sorted(data.query_ids)]
    for fold in res.folds:
        for m in METRICS:
            assert fold.metrics[m] == pytest.approx(np.mean(fold.per_query[m]))
    # Training and validation metrics per round, first set = validation (drives early stopping).
    evals = res.folds[0].evals
    assert set(evals) == {"vali", "train"} and len(evals["vali"]["ndcg@10"]) == 8
    assert len(res.curve()) == 20 and res.curve()[9] == pytest.approx(res.mean()["ndcg@10"])
    assert len(res.importance("gain")) == data.n_features


def test_validation_auto_holds_out_a_part_only_for_a_model_that_stops_early(data):
    """``validation="auto"`` (the default): a validation part when the estimator would stop early on it, none for
    one that trains fixed rounds (no early stopping, or the small-data preset), which then trains on K - 1 parts."""
    stops = small_ranker(early_stopping_rounds=3)
    fixed = small_ranker()  # early_stopping_rounds=None
    preset = Ranker(preset="small", n_estimators=6, min_child_samples=3, n_jobs=1)  # the preset does not stop
    kept = Ranker(preset="small", n_estimators=6, min_child_samples=3, n_jobs=1,
                  preset_keep=("early_stopping_rounds",))  # 50 rounds of patience, kept from the preset
    for est, held in ((stops, True), (fixed, False), (preset, False), (kept, True)):
        res = cross_validate(est, data, n_splits=3, metrics=["ndcg@10"], progress=False)
        assert res.settings["validation"] is held
        for fold, ref in zip(res.folds, query_kfold(data, 3, validation=held)):
            model = clone(est).fit(ref.train, eval_set=[ref.vali] if held else [ref.train])
            want = evaluate(ref.test.y, model.predict(ref.test), group_ptr=ref.test.group_ptr, metrics=["ndcg@10"])
            assert fold.n_train_queries == ref.train.n_queries and fold.metrics == pytest.approx(want, abs=1e-12)
            assert ("vali" in fold.evals) is held
    with pytest.raises(ValueError, match="validation must be True, False or 'auto'"):
        cross_validate(stops, data, n_splits=3, validation="yes", progress=False)


def test_parallel_folds_give_the_same_results_as_sequential_ones(data):
    seq = cross_validate(small_ranker(), data, n_splits=3, metrics=METRICS, progress=False)
    par = cross_validate(small_ranker(), data, n_splits=3, metrics=METRICS, progress=False, n_jobs=2,
                         backend="threading")
    assert [f.metrics for f in par.folds] == [f.metrics for f in seq.folds]
    assert [f.per_query for f in par.folds] == [f.per_query for f in seq.folds]
    assert par.settings["n_jobs"] == 2


@pytest.mark.slow
def test_parallel_folds_in_processes_give_the_same_results(data):
    seq = cross_validate(small_ranker(), data, n_splits=3, metrics=METRICS, progress=False)
    par = cross_validate(small_ranker(), data, n_splits=3, metrics=METRICS, progress=False, n_jobs=-1)
    assert [f.per_query for f in par.folds] == [f.per_query for f in seq.folds]


def test_saved_models_reproduce_the_saved_test_scores(data, tmp_path):
    res = cross_validate(small_ranker(), data, n_splits=3, metrics=METRICS, progress=False, save_dir=tmp_path)
    folds = query_kfold(data, 3)
    for fold, f in zip(res.folds, folds):
        folder = tmp_path / fold.name
        model = load_model(folder / "model.txt")
        saved = np.loadtxt(folder / "test.scores")
        np.testing.assert_array_equal(model.predict(f.test), saved)
        rows = [line.split("\t") for line in (folder / "per_query.tsv").read_text().splitlines()]
        assert rows[0] == ["qid", *METRICS]
        assert [float(r[2]) for r in rows[1:]] == fold.per_query["ndcg@10"]


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones included) by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class _FailsOnFit:
    """Stands in for ``ltr.evaluation.cv._run_fold``: runs the first ``ok`` folds, then raises ``error``."""

    def __init__(self, real, ok: int, error: BaseException):
        self.real, self.ok, self.error, self.calls = real, ok, error, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls > self.ok:
            raise self.error
        return self.real(*args, **kwargs)


@pytest.mark.parametrize("error", [RuntimeError("fold 2 failed"), KeyboardInterrupt()])
def test_a_failed_or_interrupted_run_leaves_the_save_dir_of_the_previous_run(data, tmp_path, monkeypatch, error):
    import ltr.evaluation.cv as cv_module

    cross_validate(small_ranker(), data, n_splits=3, metrics=METRICS, progress=False, save_dir=tmp_path)
    (tmp_path / "notes.txt").write_text("mine\n")  # not the run's: kept
    before = _snapshot(tmp_path)
    monkeypatch.setattr(cv_module, "_run_fold", _FailsOnFit(cv_module._run_fold, 1, error))
    with pytest.raises(type(error)):
        cross_validate(small_ranker().set_params(n_estimators=7), data, n_splits=3, metrics=METRICS,
                       progress=False, save_dir=tmp_path)
    assert _snapshot(tmp_path) == before  # Fold1 is not the new run's, and no staging folder is left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Fold1", "Fold2", "Fold3", "notes.txt"]


def test_a_successful_run_replaces_every_fold_folder_and_keeps_other_files(data, tmp_path):
    (tmp_path / "Fold1").mkdir()
    (tmp_path / "Fold1" / "normalizer.json").write_text("{}\n")  # an earlier run's: would not match the new model
    (tmp_path / "Fold9").mkdir()  # a folder the run does not write: kept
    (tmp_path / "notes.txt").write_text("mine\n")
    res = cross_validate(small_ranker(), data, n_splits=3, metrics=METRICS, progress=False, save_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Fold1", "Fold2", "Fold3", "Fold9", "notes.txt"]
    assert sorted(p.name for p in (tmp_path / "Fold1").iterdir()) == ["model.txt", "model.txt.meta.json",
                                                                      "per_query.tsv", "test.scores"]
    rows = [line.split("\t") for line in (tmp_path / "Fold3" / "per_query.tsv").read_text().splitlines()[1:]]
    assert [float(r[2]) for r in rows] == res.folds[2].per_query["ndcg@10"]


def test_a_users_files_inside_a_fold_folder_survive_a_later_run_and_cvs_old_files_do_not(data, tmp_path):
    # the fold folders were replaced whole: a user's predictions in Fold1 were deleted by the next run
    fold1 = tmp_path / "Fold1"
    fold1.mkdir()
    (fold1 / "my_predictions.txt").write_text("mine\n")
    (fold1 / "plots").mkdir()
    (fold1 / "plots" / "a.png").write_bytes(b"png")
    (fold1 / "model.json").write_text("{}")  # an earlier XGBoost run's model: cv's own name, not carried over
    cross_validate(small_ranker(), data, n_splits=3, metrics=METRICS, progress=False, save_dir=tmp_path)
    assert sorted(p.name for p in fold1.iterdir()) == ["model.txt", "model.txt.meta.json", "my_predictions.txt",
                                                       "per_query.tsv", "plots", "test.scores"]
    assert (fold1 / "my_predictions.txt").read_text() == "mine\n" and (fold1 / "plots" / "a.png").read_bytes() == b"png"


def test_a_save_dir_that_cannot_be_written_is_named_as_given_and_a_new_one_is_not_left_empty(data, tmp_path,
                                                                                              monkeypatch):
    import errno
    import os

    import ltr.evaluation.cv as cv_module
    from ltr.exceptions import OutputPathError

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", os.path.join(kwargs["dir"], ".ltrkit-x1y2.staging"))

    monkeypatch.setattr(cv_module.tempfile, "mkdtemp", read_only)
    with pytest.raises(OutputPathError) as caught:
        cross_validate(small_ranker(), data, n_splits=3, metrics=METRICS, progress=False, save_dir=tmp_path / "sd")
    assert str(caught.value) == f"{tmp_path / 'sd'}: cannot write: the folder is on a read-only file system"
    monkeypatch.undo()

    def full(folder, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "test.scores"))

    monkeypatch.setattr(cv_module, "_save_fold", full)
    with pytest.raises(OutputPathError) as caught:
        cross_validate(small_ranker(), data, n_splits=3, metrics=METRICS, progress=False, save_dir=tmp_path / "new")
    message = str(caught.value)
    assert message == f"{tmp_path / 'new' / 'Fold1' / 'test.scores'}: cannot write: no space left on device"
    assert ".staging" not in message and not (tmp_path / "new").exists()  # made by the run, removed with it


def test_ltr_cv_refuses_an_output_inside_a_fold_folder_of_its_save_dir(fold_dir, tmp_path, capsys):
    sd = tmp_path / "sd"
    base = [str(fold_dir), "--rounds", "2", "--quiet", "--save-dir", str(sd)]
    assert run_cv([*base, "--out", str(sd / "Fold1" / "per_query.tsv")]) == 2
    err = capsys.readouterr().err
    assert "inside a fold folder of --save-dir" in err and err.count("\n") == 1
    assert run_cv([*base, "--out", str(sd / "cv.json")]) == 0  # beside the fold folders: kept with them
    assert json.loads((sd / "cv.json").read_text())["kind"] == "cv"


def test_ltr_cv_interrupted_keeps_the_previous_save_dir_out_and_run_out(fold_dir, tmp_path, monkeypatch, capsys):
    import ltr.evaluation.cv as cv_module

    sd, out = tmp_path / "sd", tmp_path / "c.json"
    base = [str(fold_dir), "--leaves", "3", "--min-child-samples", "3", "--quiet", "--n-jobs", "1",
            "--metrics", "ndcg@10", "--save-dir", str(sd), "--out", str(out)]
    assert run_cv([*base, "--rounds", "3"]) == 0
    before, result_before = _snapshot(sd), out.read_bytes()
    monkeypatch.setattr(cv_module, "_run_fold", _FailsOnFit(cv_module._run_fold, 1, KeyboardInterrupt()))
    assert run_cv([*base, "--rounds", "5"]) == 130
    assert "interrupted; no output file was left half-written" in capsys.readouterr().err
    assert _snapshot(sd) == before and out.read_bytes() == result_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "sd"]  # no staging folder or file left
    monkeypatch.undo()
    assert run_cv([*base, "--rounds", "5"]) == 0  # the full run replaces all three folds and the result
    saved = json.loads(out.read_text())["systems"][0]["folds"]
    for f in saved:
        rows = [line.split("\t") for line in (sd / f["name"] / "per_query.tsv").read_text().splitlines()[1:]]
        assert [float(r[1]) for r in rows] == f["per_query"]["ndcg@10"]
        assert load_model(sd / f["name"] / "model.txt").n_estimators == 5


def test_normalisation_is_applied_to_each_fold_and_stored_with_the_fold_s_model(data, tmp_path):
    res = cross_validate(small_ranker(), data, n_splits=3, validation=True, metrics=METRICS, progress=False,
                         save_dir=tmp_path, normalize="zscore")
    assert res.settings["normalize"] == {"type": "query", "method": "zscore", "features": None}
    f = query_kfold(data, 3)[0]
    saved = np.loadtxt(tmp_path / "Fold1" / "test.scores")
    model = load_model(tmp_path / "Fold1" / "model.txt")
    Xn = QueryNormalizer("zscore").transform(f.test.X, group_ptr=f.test.group_ptr)
    if "normalize" in Ranker().get_params():  # the model carries its normaliser in its sidecar
        assert json.loads((tmp_path / "Fold1" / "model.txt.meta.json").read_text())["normalizer"] == \
            QueryNormalizer("zscore").to_dict()
        assert not (tmp_path / "Fold1" / "normalizer.json").exists()
        np.testing.assert_array_equal(model.predict(f.test), saved)
    else:  # the fold's parts were normalised before training; the normaliser is saved next to the model
        norm = json.loads((tmp_path / "Fold1" / "normalizer.json").read_text())
        assert norm == QueryNormalizer("zscore").to_dict()
        np.testing.assert_array_equal(model.predict(Xn), saved)
        assert not np.array_equal(model.predict(f.test), saved)  # raw features give other scores
    # Either way: the same as training on normalised parts by hand.
    from dataclasses import replace

    parts = [replace(p, X=QueryNormalizer("zscore").transform(p.X, group_ptr=p.group_ptr))
             for p in (f.train, f.vali, f.test)]
    ref = small_ranker().fit(parts[0], eval_set=[parts[1], parts[0]])
    np.testing.assert_array_equal(ref.predict(Xn), saved)


def test_global_normalisation_is_fitted_on_each_training_part(data):
    from dataclasses import replace

    from ltr.rankers.normalize import GlobalNormalizer

    res = cross_validate(small_ranker(), data, n_splits=3, validation=True, metrics=["ndcg@10"], progress=False,
                         normalize="global-minmax")
    f = query_kfold(data, 3)[1]
    g = GlobalNormalizer("minmax").fit(f.train.X)
    parts = [replace(p, X=g.transform(p.X)) for p in (f.train, f.vali, f.test)]
    model = small_ranker().fit(parts[0], eval_set=[parts[1], parts[0]])
    got = evaluate(parts[2].y, model.predict(parts[2]), group_ptr=parts[2].group_ptr, metrics=["ndcg@10"])
    assert res.folds[1].metrics == pytest.approx(got, abs=1e-12)


def test_feature_subset_by_id_and_name(data):
    res = cross_validate(small_ranker(), data, n_splits=3, metrics=["ndcg@10"], progress=False,
                         features=[1, "f3"])
    assert res.feature_names == ["f1", "f3"] and len(res.importance("split")) == 2
    assert res.settings["features"] == [1, 3]
    with pytest.raises(ValueError, match="outside 1..6"):
        cross_validate(small_ranker(), data, n_splits=3, features=[7], progress=False)


def test_result_round_trips_through_its_json_file(data, tmp_path):
    res = cross_validate(small_ranker(), data, n_splits=3, metrics=METRICS, progress=False, name="lm")
    res.save(tmp_path / "r.json")
    d = json.loads((tmp_path / "r.json").read_text())  # strict JSON
    assert d["format"] == "ltrkit-result/1" and d["kind"] == "cv" and d["systems"][0]["name"] == "lm"
    assert len(d["qids"]) == data.n_queries == len(d["systems"][0]["per_query"]["map"])
    back = CVResult.from_dict(d)
    assert back.mean() == pytest.approx(res.mean()) and back.pooled_qids() == res.pooled_qids()
    assert d["datasets"][0]["n_rows"] == data.n_rows


# -- scikit-learn -----------------------------------------------------------------------------------------------------
def test_grid_search_with_group_kfold_and_qid_routing_scores_folds_like_a_hand_loop(data):
    import sklearn
    from sklearn.model_selection import GridSearchCV, GroupKFold

    X, y, qid = np.asarray(data.X), np.asarray(data.y), np.asarray(data.qid)
    grid = {"num_leaves": [3, 7]}
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(small_ranker().set_fit_request(qid=True), grid, scoring=ndcg_scorer(10),
                              cv=GroupKFold(3), refit=True)
        search.fit(X, y, qid=qid, groups=qid)
    for i, leaves in enumerate(grid["num_leaves"]):
        scores = []
        for train, test in GroupKFold(3).split(X, y, groups=qid):
            model = small_ranker(num_leaves=leaves).fit(X[train], y[train], qid=qid[train])
            per = evaluate_per_query(y[test], model.predict(X[test]), qid=qid[test], metrics=["ndcg@10"])
            scores.append(per["ndcg@10"].mean())
        assert search.cv_results_["mean_test_score"][i] == pytest.approx(np.mean(scores), abs=1e-12)
    assert search.best_params_["num_leaves"] in grid["num_leaves"]
    assert hasattr(search.best_estimator_, "booster_")


def test_the_scorer_says_how_to_enable_routing_when_it_gets_no_query_ids(data):
    from sklearn.model_selection import GroupKFold, cross_val_score

    X, y, qid = np.asarray(data.X), np.asarray(data.y), np.asarray(data.qid)
    with pytest.raises(ValueError, match="enable scikit-learn's metadata routing"):
        # Without routing, params= reach fit only: the model trains, the scorer gets no qid.
        cross_val_score(small_ranker(), X, y, groups=qid, cv=GroupKFold(3), scoring=ndcg_scorer(10),
                        params={"qid": qid}, error_score="raise")


# -- the parameters the folds trained with ---------------------------------------------------------------------------
def test_the_result_records_what_the_small_data_preset_set_in_each_fold(data, tmp_path):
    from ltr.evaluation import render_report

    ranker = Ranker(n_estimators=4, n_jobs=1, random_state=0)  # preset "auto": 45 queries are small data
    res = cross_validate(ranker, data, n_splits=3, metrics=METRICS, progress=False)
    by_hand = clone(ranker).fit(query_kfold(data, 3, validation=False)[0].train).preset_params_
    assert by_hand["learning_rate"] == 0.02 and by_hand["num_leaves"] == 15  # not the 0.05 and 31 given
    assert res.folds[0].preset_params == by_hand
    assert res.params["learning_rate"] == 0.05  # the parameters as given stay beside them
    system = res.to_dict()["systems"][0]
    assert system["preset_params"]["learning_rate"] == 0.02 and system["params"]["num_leaves"] == 31
    back = CVResult.from_dict(json.loads(json.dumps(res.to_dict())))
    assert back.preset_params() == res.preset_params() and back.folds[2].preset_params == res.folds[2].preset_params
    md = render_report(res.to_dict(), tmp_path, formats=["md"])["md"].read_text()
    assert "| learning_rate | 0.02 | 0.05 |" in md and "| num_leaves | 15 | 31 |" in md
    assert "| n_estimators | 4 |  |" in md  # given, not changed by the preset


def test_preset_values_the_folds_got_differently_are_listed_per_fold():
    def fold(name, preset):
        return FoldResult(name, {"map": 0.5}, ["1"], {"map": [0.5]}, [], 0.0, 1, preset_params=preset)

    res = CVResult("x", ["map"], [fold("Fold1", {"num_leaves": 15, "min_child_samples": 100}),
                                  fold("Fold2", {"num_leaves": 15})], params={"min_child_samples": 20})
    assert res.preset_params() == {"num_leaves": 15, "min_child_samples": {"per_fold": {"Fold1": 100}}}
    assert CVResult("y", ["map"], [fold("Fold1", {})]).preset_params() == {}  # no preset applied


# -- ltr cv ---------------------------------------------------------------------------------------------------------
def test_ltr_cv_on_a_file_prints_json_and_writes_the_result(tmp_path, capsys, data):
    write_letor(tmp_path / "d.txt", data)
    code = run_cv([str(tmp_path / "d.txt"), "--folds", "3", "--rounds", "5", "--leaves", "7",
                      "--min-child-samples", "3", "--n-jobs", "1", "--metrics", "ndcg@10,map", "--format", "json",
                      "--out", str(tmp_path / "r.json"), "--quiet", "--normalize", "sum"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["kind"] == "cv" and len(printed["systems"][0]["folds"]) == 3
    assert json.loads((tmp_path / "r.json").read_text())["systems"][0]["mean"] == printed["systems"][0]["mean"]


def test_ltr_cv_usage_and_data_errors_have_exit_codes(tmp_path, capsys, fold_dir):
    assert run_cv([str(fold_dir), "--metrics", "ndcg@x"]) == 2
    assert run_cv([str(fold_dir), "--folds", "1"]) == 2
    assert run_cv([str(tmp_path / "missing")]) == 1
    assert "missing: no such file or folder" in capsys.readouterr().err
    (tmp_path / "Fold1").mkdir()
    (tmp_path / "Fold1" / "train.txt").write_text("0 qid:1 1:0\n")
    assert run_cv([str(tmp_path)]) == 1
    assert "missing Fold1/test.txt" in capsys.readouterr().err


def test_ltr_cv_table_shows_folds_mean_and_std(fold_dir, capsys):
    assert run_cv([str(fold_dir), "--rounds", "3", "--leaves", "3", "--min-child-samples", "3", "--quiet",
                      "--n-jobs", "1", "--metrics", "ndcg@10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines[2:-1]] == ["Fold1", "Fold2", "Fold3", "mean", "std"]
    folds = [ln.split() for ln in lines[2:5]]
    mean = lines[5].split()  # the mean row holds means: of the metric, the rounds and the seconds (was their sum)
    assert float(mean[1]) == pytest.approx(np.mean([float(f[1]) for f in folds]), abs=1e-4)
    assert float(mean[2]) == pytest.approx(np.mean([float(f[2]) for f in folds]), abs=0.05)
    assert mean[2] == "3"  # every fold ran its 3 rounds: written as the count it is, not 3.0000
    assert float(mean[3]) == pytest.approx(np.mean([float(f[3]) for f in folds]), abs=0.01)
    # The last line says which conventions the table used and how many queries it averaged.
    assert lines[-1].startswith("gain exp2 (2^rel - 1); queries without relevant documents score 0")
    assert "36 in all" in lines[-1]  # three test parts of 12 queries


# -- real data ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mq2008_folds(shared_file, tmp_path_factory):
    """The three available MQ2008 segments rotated as train / vali / test (symbolic links, no copies)."""
    segs = [shared_file("mq2008/Fold2/test.txt.gz"), shared_file("mq2008/Fold1/vali.txt.gz"),
            shared_file("mq2008/Fold1/test.txt.gz")]  # S1, S4, S5
    root = tmp_path_factory.mktemp("mq2008")
    for i in range(3):
        (root / f"Fold{i + 1}").mkdir()
        for j, part in enumerate(("train", "vali", "test")):
            (root / f"Fold{i + 1}" / f"{part}.txt.gz").symlink_to(Path(segs[(i + j) % 3]).resolve())
    return root


@pytest.mark.shared
def test_lambdamart_on_rotated_mq2008_segments_clears_a_quality_floor(mq2008_folds):
    res = cross_validate(Ranker(n_estimators=200, learning_rate=0.05, num_leaves=15, min_child_samples=10,
                                early_stopping_rounds=30, n_jobs=1, random_state=0),
                         mq2008_folds, metrics=["ndcg@5", "map"], progress=False)
    mean = res.mean()
    # Official LETOR 4.0 MQ2008 baselines trained on three segments: NDCG@5 0.467-0.482, MAP 0.470-0.482
    # (BASELINES.md). One segment of training data gets close; a random ranking gets far less.
    assert mean["ndcg@5"] > 0.40 and mean["map"] > 0.42
    rng = np.random.default_rng(0)
    test = read_letor(letor_folds(mq2008_folds)[0].test)
    random = evaluate(test.y, rng.random(test.n_rows), group_ptr=test.group_ptr, metrics=["ndcg@5"])["ndcg@5"]
    assert mean["ndcg@5"] > random + 0.05
    assert len(res.pooled_qids()) == 470  # each of the 157 + 157 + 156 queries tested once


@pytest.mark.shared
@pytest.mark.parametrize("record_train", [False, True])
def test_cv_early_stopping_is_driven_by_the_validation_part_alone_as_lightgbm_itself_stops(shared_file, tmp_path,
                                                                                           record_train):
    """Train S1, validate S4, test S5 of MQ2008, 300 rounds, patience 50: the round LightGBM itself picks when it
    watches the validation set alone (its own lambdarank objective and its own NDCG@10, no ltrkit code) is the
    round cross_validate keeps, whether or not the training part is also recorded every round. (Before the fix
    the recorded training set could stop training at its own best round.)"""
    import lightgbm as lgb

    s1, s4, s5 = (shared_file(p) for p in ("mq2008/Fold2/test.txt.gz", "mq2008/Fold1/vali.txt.gz",
                                            "mq2008/Fold1/test.txt.gz"))
    (tmp_path / "Fold1").mkdir()
    for part, seg in (("train", s1), ("vali", s4), ("test", s5)):
        (tmp_path / "Fold1" / f"{part}.txt.gz").symlink_to(Path(seg).resolve())
    params = dict(n_estimators=300, learning_rate=0.05, num_leaves=31, min_child_samples=20,
                  early_stopping_rounds=50, n_jobs=1, random_state=0, preset=None)
    res = cross_validate(Ranker(**params), tmp_path, metrics=["ndcg@10"], progress=False, record_train=record_train)

    train, vali = read_letor(s1), read_letor(s4, n_features=46)
    lgb_params = {"objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20,
                  "metric": "ndcg", "eval_at": [10], "verbosity": -1, "seed": 0, "deterministic": True,
                  "num_threads": 1}
    dtrain = lgb.Dataset(train.X, train.y, group=train.group_sizes)
    dvalid = lgb.Dataset(vali.X, vali.y, group=vali.group_sizes, reference=dtrain)
    # LightGBM's NDCG scores a query without relevant documents 1 and ltrkit's default 0: a constant shift of
    # the mean, so the best round is the same.
    booster = lgb.train(lgb_params, dtrain, num_boost_round=300, valid_sets=[dvalid],
                        callbacks=[lgb.early_stopping(50, verbose=False)])
    assert res.folds[0].rounds == booster.best_iteration
    if record_train:
        assert set(res.folds[0].evals) == {"vali", "train"}


@pytest.mark.shared
@pytest.mark.parametrize("record_train", [False, True])
def test_cv_xgboost_early_stopping_follows_the_validation_curve_alone(shared_file, tmp_path, record_train):
    """XGBoost (its EarlyStopping told the first set's name): the kept round is the first maximum of the recorded
    validation curve and training ran exactly 50 rounds past it (or to the end), whether or not the training part,
    whose NDCG keeps rising, is recorded too."""
    s1, s4, s5 = (shared_file(p) for p in ("mq2008/Fold2/test.txt.gz", "mq2008/Fold1/vali.txt.gz",
                                            "mq2008/Fold1/test.txt.gz"))
    (tmp_path / "Fold1").mkdir()
    for part, seg in (("train", s1), ("vali", s4), ("test", s5)):
        (tmp_path / "Fold1" / f"{part}.txt.gz").symlink_to(Path(seg).resolve())
    model = Ranker(engine="xgboost", n_estimators=300, learning_rate=0.3, early_stopping_rounds=50, n_jobs=1,
                   random_state=0, preset=None)
    fold = cross_validate(model, tmp_path, metrics=["ndcg@10"], progress=False, record_train=record_train).folds[0]
    curve = fold.evals["vali"]["ndcg@10"]
    best = int(np.argmax(curve)) + 1  # numpy's argmax: the first maximum
    assert fold.rounds == best and len(curve) == min(300, best + 50)
    if record_train:
        train_curve = fold.evals["train"]["ndcg@10"]
        assert len(train_curve) == len(curve) and int(np.argmax(train_curve)) + 1 != best


def test_what_parallel_fold_workers_log_is_said_once_in_the_callers_process(data, caplog):
    # worker processes have none of the caller's handlers: their warnings went to standard error unformatted, once
    # per worker (the command line's `ltr cv: warning: ...` line never showed them)
    import logging

    from ltr.gpu import engine_device_params

    falls_back = engine_device_params("lightgbm", "gpu-or-cpu")[1] == "cpu"
    caplog.clear()  # (what that call said here)
    with caplog.at_level(logging.WARNING, logger="ltr"):
        cross_validate(small_ranker().set_params(device="gpu-or-cpu"), data, n_splits=3, metrics=METRICS,
                       progress=False, n_jobs=2)
    said = [r.getMessage() for r in caplog.records if r.name == "ltr.gpu"]
    if falls_back:  # a machine without a GPU: the fallback, said once for the two workers' three folds
        assert len(said) == 1 and "training on the CPU" in said[0]
    else:
        assert said == []


def test_test_scores_of_a_sorted_fold_are_in_the_test_files_line_order_as_ltr_predict_writes(tmp_path):
    # ltr cv --sort --save-dir wrote FoldK/test.scores in the sorted rows' order, which ltr predict --sort and
    # ltr evaluate --sort read as the file's line order: a fold of interleaved queries was scored on other rows
    fold = tmp_path / "letor" / "Fold1"
    fold.mkdir(parents=True)
    write_letor(fold / "train.txt", make_ranking(20, (3, 6), 4, random_state=1))
    write_letor(fold / "vali.txt", make_ranking(6, (3, 6), 4, random_state=2))
    lines = write_letor(fold / "test.txt", make_ranking(6, (3, 6), 4, random_state=3)).read_text().splitlines()
    rng = np.random.default_rng(0)
    (fold / "test.txt").write_text("\n".join(lines[i] for i in rng.permutation(len(lines))) + "\n")  # interleaved
    assert run_cv([str(tmp_path / "letor"), "--sort", "--rounds", "3", "--min-child-samples", "1", "--quiet",
                   "--save-dir", str(tmp_path / "sd")]) == 0
    assert main(["predict", str(tmp_path / "sd" / "Fold1" / "model.txt"), str(fold / "test.txt"), "--sort",
                 "--out", str(tmp_path / "p.scores"), "--quiet"]) == 0
    assert (tmp_path / "sd" / "Fold1" / "test.scores").read_text() == (tmp_path / "p.scores").read_text()


_FITS: list[int] = []


class _CountingRanker(Ranker):
    def fit(self, *args, **kwargs):
        _FITS.append(1)
        return super().fit(*args, **kwargs)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_on_fold_is_called_as_each_fold_finishes_before_the_next_trains(n_jobs):
    """ltr cv --dataset says a fold's files differ from the registry's as that fold finishes (the review of t45: it
    said so after every fold had trained, hours on a large set)."""
    data = make_ranking(30, (4, 8), 4, random_state=0)
    seen = []
    result = cross_validate(tiny_ranker(), data, n_splits=3, metrics=["ndcg@5"], progress=False, n_jobs=n_jobs,
                            backend="threading", on_fold=lambda r: seen.append(r.name))
    assert seen == [f.name for f in result.folds] == ["Fold1", "Fold2", "Fold3"]
    _FITS.clear()

    def stop(r):
        raise RuntimeError(f"stopped after {r.name}")

    with pytest.raises(RuntimeError, match="stopped after Fold1"):
        cross_validate(_CountingRanker(n_estimators=2, preset=None, min_child_samples=1, n_jobs=1), data, n_splits=3,
                       metrics=["ndcg@5"], progress=False, on_fold=stop)
    assert len(_FITS) == 1  # one at a time: the second fold had not trained
