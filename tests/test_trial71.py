"""Fixes from user trial t71 (and the review that followed it), each with the case that showed it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
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
    for argv in ([], ["--data", str(tmp_path / "gone")]):  # (--out -: were the data found, no fragment written)
        r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_bm25_baselines.py"), "--out", "-", *argv],
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
    assert gs.best_estimator_.engine_params == {"min_data_in_bin": 1,
                                                "max_bin": gs.best_params_["engine_params__max_bin"]}


def test_an_unfitted_distributed_ranker_says_it_is_not_fitted():
    # a bare AttributeError('predict') (trial t71); NotFittedError is an AttributeError, so hasattr stays False
    from sklearn.exceptions import NotFittedError

    from ltr.dask import DistributedRanker

    d = DistributedRanker(Ranker())
    for name in ("predict", "save", "best_iteration_"):
        with pytest.raises(NotFittedError, match=f"^this DistributedRanker is not fitted yet: call fit before using "
                                                 f"{name}$"):
            getattr(d, name)
    assert not hasattr(d, "predict")
    with pytest.raises(AttributeError, match="^'DistributedRanker' object has no attribute 'nothing'$") as info:
        _ = d.nothing
    assert not isinstance(info.value, NotFittedError)


class LazyFrame:
    """polars' LazyFrame as the toolkit meets it (polars is not a test dependency): ``collect()`` gives the rows,
    ``columns`` warns that it resolves the query's schema, and there is no ``to_pandas``."""

    def __init__(self, X):
        self._X = X

    @property
    def columns(self):
        import warnings

        warnings.warn("Determining the column names of a LazyFrame requires resolving its schema", UserWarning,
                      stacklevel=2)
        return [f"f{i}" for i in range(self._X.shape[1])]

    def collect(self):
        return self._X


def test_a_lazy_frame_is_refused_naming_collect(recwarn):
    # read as a 0-D array ('X must be 2-D, got shape ()') after three of polars' warnings about its schema (t71)
    from ltr.trees import from_booster

    rng = np.random.default_rng(0)
    X, y, qid = rng.random((60, 3)), np.tile([0, 1], 30), np.repeat([1, 2, 3], 20)
    message = r"^X is a LazyFrame, a query of rows not yet computed: pass X.collect\(\)$"
    with pytest.raises(TypeError, match=message):
        Ranker(n_estimators=2).fit(LazyFrame(X), y, qid=qid)
    model = Ranker(n_estimators=2, preset=None, min_child_samples=1).fit(X, y, qid=qid)
    with pytest.raises(TypeError, match=message):
        model.predict(LazyFrame(X))
    with pytest.raises(TypeError, match=message):
        from_booster(model.booster_).predict(LazyFrame(X))
    assert not [w for w in recwarn if "LazyFrame" in str(w.message)]


@pytest.mark.parametrize("command", [["cv", "--folds", "2"], ["tune", "--trials", "1", "--outer-folds", "2",
                                                               "--inner-folds", "2"]])
def test_cv_and_tune_refuse_a_per_row_teacher_file_before_reading_the_data(tmp_path, capsys, command):
    # ltr cv read the data, started the first fold and then called the file's right count wrong ('6750 teacher
    # scores for 3360 training rows'); without --sort nothing said that such a file cannot serve folds at all
    from ltr.cli import main

    rng = np.random.default_rng(0)
    lines = [f"{rng.integers(0, 3)} qid:{q} 1:{rng.random():.4f} 2:{rng.random():.4f} #docid = D{q}-{i}"
             for q in range(1, 9) for i in range(6)]
    (tmp_path / "d.txt").write_text("\n".join(lines) + "\n")
    np.savetxt(tmp_path / "t.scores", rng.random(len(lines)))
    argv = [command[0], str(tmp_path / "d.txt"), *command[1:], "--objective", "distill", "--kernel", "numba",
            "--teacher-scores", str(tmp_path / "t.scores")]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.strip().splitlines() == [
        f"ltr {command[0]}: error: --teacher-scores {tmp_path / 't.scores'}: under cross-validation each fold trains "
        "on rows of its own, which one score per line cannot follow; give the teacher as a TREC run or "
        "qid<TAB>docid<TAB>score lines (joined on query and document ids), as --teacher-model, or as a column of "
        "the data (--teacher-column)"]  # one line: no note or warning before it
    assert "fold" not in out  # refused before any fold started


def test_evaluate_says_which_layout_the_judgments_were_read_in_when_found_by_width(tmp_path, capsys):
    # a TREC qrels cut to two columns was read as SMART's (every listed document relevant: MAP 0.4138 for 0.3001 on
    # Cranfield), and nothing said so; trec_eval refuses such a file
    import json

    from ltr.cli import main

    (tmp_path / "four.qrels").write_text("1 0 d1 1\n1 0 d2 0\n2 0 d3 1\n")
    (tmp_path / "two.qrels").write_text("1 d1\n1 d2\n2 d3\n")
    (tmp_path / "r.run").write_text("1 Q0 d2 1 3.0 t\n1 Q0 d1 2 2.0 t\n2 Q0 d3 1 1.0 t\n")
    said = "; judgments read as 'smart' (qid docno: every listed document relevant; --qrels-format names another)"
    got = {}
    for name, extra in (("four", []), ("two", []), ("two-named", ["--qrels-format", "smart"])):
        qrels = tmp_path / f"{name.split('-')[0]}.qrels"
        assert main(["evaluate", "--qrels", str(qrels), "--run", str(tmp_path / "r.run"), "--metrics", "map",
                     "--format", "json", *extra]) == 0
        got[name] = json.loads(capsys.readouterr().out)
    assert got["four"]["mean"]["map"] == 0.75 and not got["four"]["conventions"].endswith(said)
    assert got["two"]["mean"]["map"] == 1.0 and got["two"]["conventions"].endswith(said)
    assert not got["two-named"]["conventions"].endswith(said)  # named by the user: nothing to say


def test_verify_checks_a_listwise_sets_labels_above_zero(tmp_path, capsys):
    # MQ2008's graded files (labels 0..2) were 'ok' as MQ2008-list's, whose labels are all above 0 (PT-Ranking's
    # counts: as many relevant documents as documents): the entry gave no label range to check (trial t71)
    from ltr.cli import main

    (tmp_path / "Fold1").mkdir()
    feats = " ".join(f"{j}:0.5" for j in range(1, 47))
    (tmp_path / "Fold1" / "test.txt").write_text("".join(f"{label} qid:1 {feats}\n" for label in (0, 1, 2)))
    assert main(["data", "verify", "mq2008-list", str(tmp_path)]) == 1
    line = next(s for s in capsys.readouterr().out.splitlines() if "Fold1/test.txt" in s)
    assert line.startswith("  differs    Fold1/test.txt: ") and line.endswith("; labels span 0..2, the registry "
                                                                              "documents 1..inf")
    (tmp_path / "Fold1" / "test.txt").write_text("".join(f"{label} qid:1 {feats}\n" for label in (1, 7, 900)))
    main(["data", "verify", "mq2008-list", str(tmp_path)])
    assert "labels span" not in capsys.readouterr().out


def test_a_graded_file_read_as_a_listwise_set_gets_the_label_note(tmp_path, capsys):
    from ltr.cli import main

    feats = " ".join(f"{j}:0.5" for j in range(1, 47))
    (tmp_path / "test.txt").write_text("".join(f"{label} qid:1 {feats}\n" for label in (0, 1, 2)))
    assert main(["info", str(tmp_path / "test.txt"), "--dataset", "mq2008-list"]) == 0
    assert (f"ltr info: note: {tmp_path / 'test.txt'} has labels 0..2, outside mq2008-list's documented 1..inf: is it "
            "that set?") in capsys.readouterr().err


def test_an_output_path_that_cannot_be_written_names_its_option(tmp_path, capsys, monkeypatch):
    # 'adir: is a folder; give a file name' did not say which of --out and --run-out was meant (trial t71)
    from ltr.cli import main

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    Path("d.txt").write_text("".join(f"{rng.integers(0, 3)} qid:{q} 1:{rng.random():.4f} 2:{rng.random():.4f}\n"
                                     for q in range(1, 9) for _ in range(6)))
    Path("adir").mkdir()
    assert main(["cv", "d.txt", "--folds", "2", "--rounds", "2", "--out", "r.json", "--run-out", "adir"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "ltr cv: error: adir (--run-out): is a folder; give a file name"
    assert main(["train", "d.txt", "--rounds", "2", "--out", "m.txt", "--quiet"]) == 0
    assert main(["predict", "m.txt", "d.txt", "--out", "adir"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "ltr predict: error: adir (--out): is a folder; give a file name"


def test_a_misspelt_objective_gets_the_nearest_name_and_its_option(tmp_path, capsys):
    from ltr.cli import main

    rng = np.random.default_rng(0)
    (tmp_path / "d.txt").write_text("".join(f"{rng.integers(0, 3)} qid:{q} 1:{rng.random():.4f}\n"
                                            for q in range(1, 5) for _ in range(4)))
    assert main(["train", str(tmp_path / "d.txt"), "--objective", "lambdarnk", "--rounds", "2"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        "ltr train: error: --objective lambdarnk: unknown objective 'lambdarnk' (did you mean 'lambdarank'?); "
        "choose one of [")
    with pytest.raises(ValueError, match=r"^unknown objective 'listnt' \(did you mean 'listnet'\?\); choose one"):
        Ranker(objective="listnt", engine="xgboost")._resolve_objective()


def test_a_saved_index_given_as_the_collection_is_named_as_such(tmp_path, capsys):
    # 'a zip archive: unpack it (unzip FILE)' (with --queries), or '--queries is required: ... is a document file'
    from features.index import is_saved_index
    from ltr.cli import main

    (tmp_path / "docs.tsv").write_text("d1\tflutter of a wing\nd2\theat transfer in slabs\nd3\twing flutter wing\n")
    (tmp_path / "q.tsv").write_text("Q-A\twing flutter\nQ-B\theat\n")
    assert main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                 "--out", str(tmp_path / "a.letor"), "--index", str(tmp_path / "ix.npz"), "--quiet"]) == 0
    assert is_saved_index(tmp_path / "ix.npz") and not is_saved_index(tmp_path / "docs.tsv")
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    assert not is_saved_index(tmp_path / "other.npz")
    for extra in ([], ["--queries", str(tmp_path / "q.tsv")]):
        assert main(["features", "--collection", str(tmp_path / "ix.npz"), *extra, "--out",
                     str(tmp_path / "b.letor")]) == 2
        assert capsys.readouterr().err.strip().splitlines()[-1] == (
            f"ltr features: error: --collection {tmp_path / 'ix.npz'} is an index saved by ltr features, not a "
            "collection: give it as the index (--index), and as the collection the folder or file it was built from")
    assert not (tmp_path / "b.letor").exists()


@pytest.mark.parametrize("command", [["cv", "--folds", "2"], ["tune", "--trials", "1", "--outer-folds", "2",
                                                               "--inner-folds", "2"]])
def test_cv_and_tune_refuse_a_missing_gpu_before_announcing_their_plan(tmp_path, capsys, monkeypatch, command):
    # 'cv lambdarank: 2 folds, one at a time' came before the refusal (trial t71): two lines for one mistake
    import ltr.gpu
    from ltr.cli import main

    monkeypatch.setattr(ltr.gpu, "opencl_gpu", lambda: None)  # whatever this machine has
    rng = np.random.default_rng(0)
    (tmp_path / "d.txt").write_text("".join(f"{rng.integers(0, 3)} qid:{q} 1:{rng.random():.4f}\n"
                                            for q in range(1, 9) for _ in range(4)))
    assert main([command[0], str(tmp_path / "d.txt"), *command[1:], "--device", "gpu"]) == 1  # as ltr train
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"ltr {command[0]}: error: --device gpu: no OpenCL GPU device (LightGBM's "
                                        "gpu learner) here; ") and len(err.splitlines()) == 1


def test_a_feature_set_without_its_features_array_says_what_it_holds(tmp_path):
    # a misspelt [[feautres]] alone was 'expected a top-level features array', the key it held unnamed (trial t71)
    from features.featureset import FeatureSet

    for text, said in (('[[feautres]]\nscorer = "bm25"\n', "it holds the keys ['feautres']; 'feautres' misspelt?"),
                       ('features = "bm25"\n', "its 'features' is a str, not an array of tables"),
                       ("[other]\na = 1\n", "it holds the keys ['other']")):
        (tmp_path / "fs.toml").write_text(text)
        with pytest.raises(ValueError) as info:
            FeatureSet.load(tmp_path / "fs.toml")
        assert str(info.value) == f"{tmp_path / 'fs.toml'}: expected a top-level 'features' array ({said})"


def test_a_no_break_space_is_part_of_a_letor_doc_id_as_of_a_run_id(tmp_path, capsys):
    # 'x\xa0a' and 'x\xa0b' were both read as 'x' (Python's \s is Unicode's), and ltr predict --run wrote one line
    # for the two rows; read_run keeps a no-break space in an id, as trec_eval splits at ASCII whitespace (t71)
    from ltr.cli import main
    from ltr.io import read_letor, run_from_scores, write_letor, write_run

    rows = "".join(f"{label} qid:1 1:{label}.5 2:0.{label} #docid = x\xa0{d}\n" for label, d in ((0, "a"), (1, "b")))
    (tmp_path / "d.txt").write_text(rows, encoding="utf-8")
    d = read_letor(tmp_path / "d.txt")
    assert list(d.doc_ids) == ["x\xa0a", "x\xa0b"]
    write_letor(tmp_path / "w.txt", d)
    assert list(read_letor(tmp_path / "w.txt").doc_ids) == ["x\xa0a", "x\xa0b"]
    big = "".join(f"{q % 3} qid:{q // 4} 1:{q % 5}.5 2:0.{q % 7} #docid = d{q}\n" for q in range(48))
    (tmp_path / "t.txt").write_text(big)
    assert main(["train", str(tmp_path / "t.txt"), "--rounds", "2", "--out", str(tmp_path / "m.txt"), "--quiet"]) == 0
    # a run of them is refused by name (readers that split at Python's whitespace, as ir_measures and ranx do, would
    # cut them), where one line was written for the two rows
    assert main(["predict", str(tmp_path / "m.txt"), str(tmp_path / "d.txt"), "--run", "--out",
                 str(tmp_path / "r.run"), "--quiet"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "'x\\xa0a' is empty or holds whitespace or a byte-order mark, which TREC files cannot hold")
    assert not (tmp_path / "r.run").exists()
    with pytest.raises(ValueError, match=r"^run column 'docno', row 0: '\\ufeffd' is empty or holds whitespace or a "
                                         "byte-order mark"):  # read_run would drop or refuse it
        write_run(tmp_path / "b.run", run_from_scores(["1"], ["\ufeffd"], [1.0]))


def test_ltr_report_does_not_write_through_a_link_at_one_of_its_names(tmp_path, capsys):
    # a figure's name made a link to a file outside --out: the PNG replaced that file (trial t71, lost data)
    from ltr import make_ranking
    from ltr._shared import import_reference, tiny_ranker
    from ltr.cli import main
    from ltr.evaluation import cross_validate

    import_reference("matplotlib")
    result = cross_validate(tiny_ranker(n_estimators=3), make_ranking(12, (4, 8), 3, random_state=0),
                            metrics=["ndcg@10"], n_splits=2, progress=False)
    result.save(tmp_path / "cv.json")
    out = tmp_path / "rep"
    assert main(["report", str(tmp_path / "cv.json"), "--out", str(out), "--quiet"]) == 0
    for name in ("report.md", sorted(p.name for p in (out / "figures").iterdir())[0]):
        target = out / name if name.startswith("report") else out / "figures" / name
        (tmp_path / "victim.txt").write_text("precious\n")
        target.unlink()
        target.symlink_to(tmp_path / "victim.txt")
        assert main(["report", str(tmp_path / "cv.json"), "--out", str(out), "--quiet"]) == 1
        shown = target.relative_to(out).as_posix()
        assert capsys.readouterr().err == (f"ltr report: error: {out}: {shown} in the folder is a symbolic link, "
                                           "which a report does not write through (it would replace the file it "
                                           "points to): remove the link\n")
        assert (tmp_path / "victim.txt").read_text() == "precious\n" and target.is_symlink()
        target.unlink()
        assert main(["report", str(tmp_path / "cv.json"), "--out", str(out), "--quiet"]) == 0


def test_a_cv_result_records_the_seed_its_folds_trained_with(tmp_path, capsys):
    # 'random_state: null' (and so in ltr report's 'trained with' table) where the folds trained with seed 0: a model
    # rebuilt from the record drew with LightGBM's own seeds (fold NDCG@10 0.5270 against 0.5195; trial t71)
    import json

    from ltr.cli import main

    rng = np.random.default_rng(0)
    (tmp_path / "d.txt").write_text("".join(f"{rng.integers(0, 3)} qid:{q} 1:{rng.random():.4f} 2:{rng.random():.4f}\n"
                                            for q in range(1, 9) for _ in range(6)))
    for extra, seed in (([], 0), (["--seed", "7"], 7)):
        assert main(["cv", str(tmp_path / "d.txt"), "--folds", "2", "--rounds", "2", "--out", str(tmp_path / "r.json"),
                     "--quiet", *extra]) == 0
        assert json.loads((tmp_path / "r.json").read_text())["systems"][0]["params"]["random_state"] == seed


def test_xgboost_dart_is_refused_for_training_with_a_true_reason(tmp_path, capsys):
    # it said a DART model 'could not be loaded, scored or exported by the toolkit', which ltr.trees, ltr predict and
    # ltr export do (trial t71)
    from ltr.cli import main

    rng = np.random.default_rng(0)
    (tmp_path / "d.txt").write_text("".join(f"{rng.integers(0, 3)} qid:{q} 1:{rng.random():.4f}\n"
                                            for q in range(1, 5) for _ in range(4)))
    assert main(["train", str(tmp_path / "d.txt"), "--engine", "xgboost", "--param", "booster=dart"]) == 2
    err = capsys.readouterr().err
    assert "are not trained by the toolkit" in err and "a DART model trained with XGBoost itself is read, scored and " \
        "exported (ltr.trees, ltr predict, ltr export)" in err and "could not be loaded" not in err


def test_an_export_of_a_model_not_trained_on_ltr_features_output_does_not_speak_of_its_values(tmp_path, capsys):
    # the templates' note told an MQ2008 linear model's user to give 'the value ltr features gives' (trial t71)
    from ltr.cli import main

    rng = np.random.default_rng(0)
    (tmp_path / "d.txt").write_text("".join(f"{rng.integers(0, 3)} qid:{q} 1:{rng.random():.4f} 2:{rng.random():.4f}\n"
                                            for q in range(1, 9) for _ in range(6)))
    assert main(["train", str(tmp_path / "d.txt"), "--engine", "linear", "--out", str(tmp_path / "m.json"),
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["export", str(tmp_path / "m.json"), "--to", "es-linear", "--out", str(tmp_path / "e.json"),
                 "--feature-set-out", str(tmp_path / "fs.json"), "--feature-names", "a,b"]) == 0
    err = capsys.readouterr().err
    assert "a query you write must give a document it does not match the value the training data gives such a " \
           "document, not leave it without one" in err and "ltr features" not in err
