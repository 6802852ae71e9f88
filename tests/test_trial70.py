"""Trial t70's findings: a field a feature set names and the collection lacks was said only after the whole index
had been built (and saved) and the first stage had run."""

from __future__ import annotations

import numpy as np
import pytest

from features.collections import Collection
from features.featureset import FeatureSet
from features.pipeline import check_feature_fields
from ltr.cli import main


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "docs.tsv").write_text("d1\twing flutter\nd2\theat transfer wing\nd3\tboundary layer\n")
    (tmp_path / "queries.tsv").write_text("1\twing\n2\theat\n")
    (tmp_path / "qrels.txt").write_text("1 0 d1 1\n2 0 d2 1\n")
    return tmp_path


def test_a_field_the_collection_lacks_is_refused_before_the_index_is_built(tiny, capsys):
    (tiny / "fs.toml").write_text('[[features]]\nscorer = "bm25"\nfields = ["titel"]\n')
    argv = ["features", "--collection", str(tiny / "docs.tsv"), "--queries", str(tiny / "queries.tsv"),
            "--qrels", str(tiny / "qrels.txt"), "--features", str(tiny / "fs.toml"), "--index", str(tiny / "ix"),
            "--out", str(tiny / "out.letor"), "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.endswith(f"error: {tiny / 'fs.toml'}: feature 1 (bm25): no field 'titel' in this index; it has "
                        "['body', 'all']\n")
    assert len(err.splitlines()) == 1
    assert not (tiny / "ix").exists()  # the index was built and saved before it was refused
    assert not (tiny / "out.letor").exists()


@pytest.mark.parametrize("fields, entry, message", [
    (None, {"scorer": "bm25", "fields": ["abstract"]}, r"no field 'abstract' in this index; it has \['title', "
                                                        r"'body', 'all'\]"),
    (["body"], {"scorer": "bm25", "fields": ["title"]}, r"no field 'title' in this index; it has \['body', 'all'\]"),
    (None, {"scorer": "bm25f", "weights": {"title": 2.0, "abstract": 1.0}}, r"no field 'abstract'"),
    (None, {"scorer": "bm25", "fields": ["notes"]}, r"no field 'notes'"),  # empty in every document: not indexed
])
def test_check_feature_fields_names_the_field_the_index_will_lack(fields, entry, message):
    docs = Collection(("d1", "d2"), {"title": ["wing", ""], "body": ["flutter", "heat"], "notes": ["", ""]})
    with pytest.raises(ValueError, match=rf"^feature 1 \({entry['scorer']}\): {message}"):
        check_feature_fields(FeatureSet([entry]), docs, fields=fields)


@pytest.mark.parametrize("fields, entry", [
    (None, {"scorer": "bm25", "fields": ["title", "body", "all"]}),
    (["body"], {"scorer": "bm25", "fields": ["all"]}),  # one field: 'all' is its alias
    (None, {"scorer": "bm25f", "weights": {"title": 2.0, "body": 1.0}}),
    (None, "bm25"),
])
def test_check_feature_fields_passes_the_fields_the_index_will_have(fields, entry):
    docs = Collection(("d1", "d2"), {"title": ["wing", ""], "body": ["flutter", "heat"], "notes": ["", ""]})
    assert check_feature_fields(FeatureSet([entry]), docs, fields=fields) is None


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    from ltr import Ranker, make_ranking

    f = tmp_path_factory.mktemp("trial70_models")
    data = make_ranking(12, 8, 3, random_state=0)
    for engine in ("lightgbm", "xgboost"):
        for seed in (0, 1):
            Ranker(engine=engine, n_estimators=3, random_state=seed, n_jobs=1).fit(data).save(
                f / f"{engine}{seed}.txt")
    return f


def _beside(models, model, sidecar, tmp_path):
    """``model`` copied into ``tmp_path`` with ``sidecar``'s sidecar beside it."""
    import shutil

    shutil.copy(models / model, tmp_path / "m.txt")
    shutil.copy(models / f"{sidecar}.meta.json", tmp_path / "m.txt.meta.json")
    return tmp_path / "m.txt"


@pytest.mark.parametrize("model, sidecar, text, described", [
    ("lightgbm0.txt", "xgboost0.txt", "LightGBM model text", "an XGBoost model"),
    ("xgboost0.txt", "lightgbm0.txt", "an XGBoost JSON model", "a LightGBM model"),
])
def test_another_engines_sidecar_beside_a_model_is_named_as_not_its_own(two_models, tmp_path, capsys, model,
                                                                        sidecar, text, described):
    import ltr
    import ltr.trees
    from ltr.exceptions import ModelFormatError

    path = _beside(two_models, model, sidecar, tmp_path)
    message = (f"{path}.meta.json: not the sidecar of {path}, which is {text}: it describes {described}; put the "
               "model's own sidecar there, or move this one away to read m.txt without one")
    for load in (ltr.load_model, ltr.trees.load):  # was: the model text was truncated or edited after saving
        with pytest.raises(ModelFormatError) as e:
            load(path)
        assert str(e.value) == message
    data = tmp_path / "d.txt"
    data.write_text("0 qid:1 1:0.5 2:0.1 3:0.2\n1 qid:1 1:0.7 2:0.3 3:0.9\n")
    assert main(["predict", str(path), str(data), "--out", str(tmp_path / "s.txt")]) == 1
    assert capsys.readouterr().err == f"ltr predict: error: {message}\n"


def test_the_sidecar_of_another_model_of_the_same_engine_is_said_as_one_of_two_causes(two_models, tmp_path):
    import ltr
    from ltr.exceptions import ModelFormatError

    path = _beside(two_models, "lightgbm0.txt", "lightgbm1.txt", tmp_path)
    with pytest.raises(ModelFormatError, match=r"m.txt: the model text does not match the checksum in "
                                               r"m.txt.meta.json; the file was truncated or edited after saving, or "
                                               r"m.txt.meta.json is another model's \(saved over by a model without "
                                               r"its sidecar, or copied beside this one\)$"):
        ltr.load_model(path)


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_exporting_an_early_stopped_booster_says_only_what_the_export_takes(engine, recwarn):
    import lightgbm as lgb
    import xgboost as xgb

    from ltr import make_ranking
    from ltr.export import export

    train, valid = make_ranking(30, 10, 5, random_state=0), make_ranking(20, 10, 5, random_state=1)
    sizes = [np.diff(d.group_ptr) for d in (train, valid)]
    if engine == "lightgbm":
        params = {"objective": "lambdarank", "learning_rate": 0.5, "num_leaves": 7, "verbose": -1, "num_threads": 1}
        booster = lgb.train(params, lgb.Dataset(train.X, train.y, group=sizes[0]), 60,
                            valid_sets=[lgb.Dataset(valid.X, valid.y, group=sizes[1])],
                            callbacks=[lgb.early_stopping(3, verbose=False)], keep_training_booster=True)
        assert 0 < booster.best_iteration < booster.current_iteration()
    else:
        dtrain, dvalid = (xgb.DMatrix(d.X, d.y, group=s) for d, s in zip((train, valid), sizes))
        booster = xgb.train({"objective": "rank:ndcg", "eta": 0.5, "max_depth": 3, "nthread": 1}, dtrain, 60,
                            evals=[(dvalid, "v")], early_stopping_rounds=3, verbose_eval=False)
        assert booster.best_iteration + 1 < booster.num_boosted_rounds()
    model = export(booster, "es-xgboost", feature_names=[f"f{j}" for j in range(5)])
    assert model  # the export's own note says which rounds it took
    stray = [str(w.message) for w in recwarn if "early-stopped" in str(w.message)]
    assert stray == []  # was: "the trees score all N rounds; predict(X, n_iter=...)", advice for TreeEnsemble


def test_a_target_feature_set_lacking_many_features_names_the_first_ten_and_counts_the_rest(tmp_path, capsys):
    from ltr import Ranker, make_ranking

    data = make_ranking(40, 10, 14, random_state=0)
    Ranker(n_estimators=20, n_jobs=1, random_state=0, engine_params={"min_data_in_leaf": 2}).fit(data).save(
        tmp_path / "m.txt")
    (tmp_path / "target.txt").write_text("nothing\n")
    assert main(["export", str(tmp_path / "m.txt"), "--to", "es-xgboost", "--out", str(tmp_path / "x.json"),
                 "--target-features", str(tmp_path / "target.txt"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err == ("ltr export: error: es-xgboost: the model uses features 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', "
                   "'f8', 'f9', 'f10' and 4 more, which the target feature set lacks; the set has 1: nothing\n")


def test_export_help_says_how_to_load_the_files_into_the_engines(capsys):
    assert main(["export", "--help"]) == 0
    out = capsys.readouterr().out
    for request in ("PUT  _ltr ", "POST _ltr/_featureset/STORE ", "POST _ltr/_featureset/STORE/_createmodel ",
                    "/solr/COLLECTION/schema/feature-store ", "/solr/COLLECTION/schema/model-store ",
                    "rq={!ltr model=NAME"):
        assert request in out


def test_a_plain_models_refusal_is_one_line_and_its_note_comes_with_a_written_export(tmp_path, capsys):
    import lightgbm as lgb

    from ltr import make_ranking

    data = make_ranking(20, 8, 3, random_state=0)
    params = {"objective": "lambdarank", "num_leaves": 4, "min_data_in_leaf": 2, "verbose": -1, "num_threads": 1}
    lgb.train(params, lgb.Dataset(data.X, data.y, group=np.diff(data.group_ptr)), 3).save_model(tmp_path / "p.txt")
    (tmp_path / "target.txt").write_text("a\n")
    argv = ["export", str(tmp_path / "p.txt"), "--to", "es-xgboost", "--out", str(tmp_path / "x.json"),
            "--feature-names", "a,b,c"]
    assert main([*argv, "--target-features", str(tmp_path / "target.txt")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ltr export: error: es-xgboost: the model uses feature") and len(err.splitlines()) == 1
    assert main(argv) == 0  # (was: the plain model's note, then the error)
    err = capsys.readouterr().err
    assert "a plain lightgbm model without an ltrkit sidecar" in err.splitlines()[0]
    assert err.splitlines()[-1] == f"wrote es-xgboost model to {tmp_path / 'x.json'}"


@pytest.mark.parametrize("columns", [["a", 1, "c"], [0, "b", 2.5]])
def test_column_names_mixing_strings_and_others_are_refused_as_scikit_learn_refuses_them(columns):
    import pandas as pd
    from sklearn.preprocessing import StandardScaler

    from ltr import Ranker

    X = pd.DataFrame(np.random.default_rng(0).random((40, 3)), columns=columns)
    y, qid = np.arange(40) % 3, np.repeat(np.arange(8), 5)
    with pytest.raises(TypeError):  # the reference
        StandardScaler().fit(X)
    with pytest.raises(TypeError, match=r"^X's column names are of the types \[.*'str'.*\]: feature names are kept "
                                        r"only when every column name is a string"):
        Ranker(n_estimators=2, preset=None, n_jobs=1, min_child_samples=2).fit(X, y, qid=qid)  # was: names dropped
    model = Ranker(n_estimators=2, preset=None, n_jobs=1, min_child_samples=2).fit(X.to_numpy(), y, qid=qid)
    with pytest.raises(TypeError, match="X's column names are of the types"):
        model.predict(X)
    assert model.predict(pd.DataFrame(X.to_numpy())).shape == (40,)  # integer names: no names, as scikit-learn


def _letor_line(label, qid, values, null_at=None):
    return f"{label} qid:{qid} " + " ".join(f"{j}:{'NULL' if j == null_at else f'{v:.4f}'}"
                                              for j, v in enumerate(values, 1))


@pytest.mark.parametrize("dataset, width, flag, line, message", [
    ("ohsumed-null", 45, ["--null", "error"], _letor_line(0, 2, np.linspace(0, 1, 45), null_at=4),
     "NULL feature value"),
    ("mq2008-semi", 46, ["--unjudged", "error"], _letor_line(-1, 2, np.linspace(0, 1, 46)), "label -1 marks an "
                                                                                          "unjudged document"),
])
def test_a_reader_flag_given_at_its_default_value_wins_over_the_datasets_own_option(tmp_path, capsys, dataset,
                                                                                   width, flag, line, message):
    rows = [_letor_line(1, 1, np.linspace(0.1, 0.9, width)), _letor_line(0, 1, np.linspace(0.2, 0.8, width)),
            line, _letor_line(1, 2, np.linspace(0.3, 0.7, width))]
    (tmp_path / "d.txt").write_text("\n".join(rows) + "\n")
    assert main(["info", str(tmp_path / "d.txt"), "--dataset", dataset]) == 0  # the set's own option: read
    capsys.readouterr()
    assert main(["info", str(tmp_path / "d.txt"), "--dataset", dataset, *flag]) == 1  # was 0: the flag dropped
    err = capsys.readouterr().err
    assert f"d.txt:3: {message}" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("sparse", [False, True])
def test_a_zero_based_read_written_without_a_header_keeps_its_columns(tmp_path, sparse):
    from sklearn.datasets import load_svmlight_file

    from ltr.io import read_letor, write_letor

    src = tmp_path / "src.txt"  # a file as LightGBM reads it: feature ids are columns from 0
    src.write_text("2 qid:1 0:0.5 1:0.25 3:1\n0 qid:1 1:0.75 2:0.125\n1 qid:2 0:1 3:0.5\n0 qid:2 2:2\n")
    data = read_letor(src, zero_based=True, sparse=sparse)
    assert data.n_features == 4
    out = write_letor(tmp_path / "out.txt", data, qid=False)  # LightGBM's layout: no header
    again = read_letor(out, zero_based=True, sparse=sparse)
    def dense(m):
        return m.toarray() if hasattr(m, "toarray") else np.asarray(m)

    assert np.array_equal(dense(again.X), dense(data.X))  # was: every feature one column on, 5 columns
    X, y = load_svmlight_file(str(out), zero_based=True)  # the reference
    assert np.array_equal(X.toarray(), dense(data.X)) and np.array_equal(y, data.y)
    assert out.read_text().splitlines()[0].startswith("2 0:0.5 1:0.25 ")
    with pytest.raises(ValueError, match="zero_based=True with a header: the ltrkit header's feature ids are 1-based"):
        write_letor(tmp_path / "h.txt", data, zero_based=True)
    headed = read_letor(write_letor(tmp_path / "h.txt", data))  # a header: 1-based, read back as it says
    assert np.array_equal(dense(headed.X), dense(data.X))


def test_another_sets_file_read_as_a_registered_set_is_refused_in_one_line(tmp_path, capsys, caplog):
    import logging

    rows = [_letor_line(q % 3, 1 + q // 4, np.linspace(0.1, 0.9, 46) * (q + 1)) for q in range(12)]
    (tmp_path / "mq.txt").write_text("\n".join(rows) + "\n")  # MQ2008's 46 features, read as MSLR's 136
    with caplog.at_level(logging.WARNING):
        assert main(["info", str(tmp_path / "mq.txt"), "--dataset", "mslr-web10k"]) == 1
    assert "lack features" not in caplog.text  # was: 12 rows lack features, read as 0: a copy cut short?
    err = capsys.readouterr().err
    assert err.endswith("has no value in features 47..136 of mslr-web10k's 136: it is not that set's file (without "
                        "--dataset mslr-web10k its width is read from the file)\n")
    assert len(err.splitlines()) == 1  # was: first a warning that 12 rows lack features (a copy cut short?)


def test_a_missing_file_with_a_compressed_copy_beside_it_names_the_copy(tmp_path, capsys):
    import gzip

    from ltr.io import read_letor

    (tmp_path / "vali.txt.gz").write_bytes(gzip.compress(b"1 qid:1 1:0.5\n0 qid:1 1:0.25\n"))
    with pytest.raises(FileNotFoundError, match=r"vali.txt \(vali.txt.gz beside it, which the readers read as it "
                                                r"is: give its name\)$"):
        read_letor(tmp_path / "vali.txt")
    assert read_letor(tmp_path / "vali.txt.gz").n_rows == 2
    assert main(["info", str(tmp_path / "test.txt")]) == 1  # nothing beside it: the plain message
    assert capsys.readouterr().err.endswith(f"file not found: {tmp_path / 'test.txt'}\n")


@pytest.mark.parametrize("command", [["info"], ["train", "--rounds", "1", "--out", "{m}"],
                                     ["predict", "{m}", "--out", "{s}"]])
def test_a_text_collection_given_as_a_letor_set_is_refused(tmp_path, capsys, command):
    (tmp_path / "d.txt").write_text("1 qid:1 1:0.5 2:0.1\n0 qid:1 1:0.25 2:0.3\n"
                                    "1 qid:2 1:0.7 2:0.2\n0 qid:2 1:0.1 2:0\n")
    model = tmp_path / "m.txt"
    if command[0] == "predict":
        assert main(["train", str(tmp_path / "d.txt"), "--rounds", "1", "--out", str(model), "--quiet"]) == 0
        capsys.readouterr()
    argv = [a.format(m=model, s=tmp_path / "s.txt") for a in command]
    assert main([*argv, str(tmp_path / "d.txt"), "--dataset", "nfcorpus"]) == 2  # was: read as a plain file, rc 0
    assert capsys.readouterr().err.endswith("error: --dataset nfcorpus is a text collection, not feature files: ltr "
                                            "features --collection DIR makes a LETOR file of it\n")


def _cached_module(folder, name):
    """A module of one ``njit(cache=True)`` function, imported afresh from ``folder`` (a new dispatcher, which reads
    Numba's cache)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_damaged_file_in_numbas_cache_is_one_line_naming_the_folder(tmp_path, monkeypatch, capsys):
    import argparse

    import numba

    from ltr.cli._guard import guard

    cache = tmp_path / "cache"
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(cache))
    (tmp_path / "kern70.py").write_text("from numba import njit\n\n\n@njit(cache=True)\ndef add_one(x):\n"
                                        "    return x + 1\n")
    assert _cached_module(tmp_path, "kern70").add_one(1) == 2  # compiled and saved
    saved = list(cache.rglob("*.nbc"))
    assert saved
    for path in saved:
        path.write_bytes(b"Z" * 64)
    module = _cached_module(tmp_path, "kern70")
    assert guard("train", lambda a: module.add_one(1), argparse.Namespace()) == 1  # was: pickle's traceback
    err = capsys.readouterr().err
    assert err.startswith(f"ltr train: error: Numba's cache folder {cache}") and len(err.splitlines()) == 1
    assert "holds a damaged file (UnpicklingError: " in err and "delete the folder" in err
    with pytest.raises(ZeroDivisionError):  # any other error stays a bug's traceback
        guard("train", lambda a: 1 / 0, argparse.Namespace())


def test_ltr_report_refuses_a_folder_holding_a_users_file_of_a_report_name(tmp_path, capsys):
    from ltr._shared import import_reference, tiny_ranker
    from ltr.evaluation import cross_validate

    import_reference("matplotlib")
    data = make_ranking_for_report()
    result = cross_validate(tiny_ranker(n_estimators=3), data, metrics=["ndcg@10"], n_splits=2, progress=False)
    result.save(tmp_path / "cv.json")
    out = tmp_path / "rep"
    (out / "figures").mkdir(parents=True)
    (out / "report.html").write_text("keep\n")
    assert main(["report", str(tmp_path / "cv.json"), "--out", str(out), "--quiet"]) == 1  # was 0, the page replaced
    err = capsys.readouterr().err
    assert "the folder holds report.html, which no report written there made" in err and len(err.splitlines()) == 1
    assert (out / "report.html").read_text() == "keep\n" and not list((out / "figures").iterdir())
    (out / "report.html").unlink()
    assert main(["report", str(tmp_path / "cv.json"), "--out", str(out), "--quiet"]) == 0
    assert main(["report", str(tmp_path / "cv.json"), "--out", str(out), "--quiet"]) == 0  # its own: replaced


def make_ranking_for_report():
    from ltr import make_ranking

    return make_ranking(12, (4, 8), 3, random_state=0)


def test_a_staged_outputs_write_error_names_the_output_given_relative_to_the_folder(tmp_path, monkeypatch):
    import errno
    import os

    from ltr.io.outputs import outputs_together

    monkeypatch.chdir(tmp_path)
    with pytest.raises(OSError) as caught:
        with outputs_together("c.letor") as (staged,):  # a writer names the temporary as it opened it
            raise OSError(errno.EFBIG, "cannot write: file too large", os.path.relpath(staged))
    assert caught.value.filename == "c.letor"  # was: .ltrkit-XXXX.c.letor (yielded as ./.ltrkit-XXXX.c.letor)
    assert os.listdir(tmp_path) == []


def test_a_fold_folders_write_error_says_cannot_write_once():
    import errno
    from pathlib import Path

    from ltr._checked_io import write_error
    from ltr.evaluation.cv import _as_folder_error

    e = write_error(OSError(errno.EFBIG, "File too large"), "sd/Fold1/model.txt")
    assert str(_as_folder_error(e, Path("sd/Fold1/model.txt"))) == "sd/Fold1/model.txt: cannot write: file too large"


def test_ltr_train_says_query_bagging_on_several_threads_draws_otherwise_each_run(tmp_path, capsys):
    from ltr import make_ranking
    from ltr.io import write_letor

    write_letor(tmp_path / "d.txt", make_ranking(30, 8, 4, random_state=0))
    said = "draws otherwise on each run with more than one thread: this model, trained on 2 threads, may differ"
    base = ["train", str(tmp_path / "d.txt"), "--rounds", "3", "--out", str(tmp_path / "m.txt")]
    assert main([*base, "--n-jobs", "2"]) == 0  # the small-data preset: bagging by query
    assert said in capsys.readouterr().err
    for other in (["--n-jobs", "1"], ["--n-jobs", "2", "--preset", "none"], ["--n-jobs", "2", "--engine", "xgboost"]):
        assert main([*base, *other]) == 0
        assert "query bagging" not in capsys.readouterr().err


def test_an_output_that_is_a_loop_of_symbolic_links_is_named_in_the_toolkits_words(tmp_path, capsys):
    import os

    from ltr import make_ranking
    from ltr.io import write_letor

    write_letor(tmp_path / "d.txt", make_ranking(6, 4, 2, random_state=0))
    os.symlink("loop", tmp_path / "loop")
    assert main(["train", str(tmp_path / "d.txt"), "--rounds", "1", "--out", str(tmp_path / "loop"), "--quiet"]) == 1
    assert capsys.readouterr().err == (f"ltr train: error: {tmp_path / 'loop'}: a loop of symbolic links (the link "
                                       "leads back to itself); give another path\n")  # was: Symlink loop from '...'


def test_bench_memorys_whole_file_reader_still_calls_the_parser_as_read_letor_does(tmp_path):
    import importlib.util
    import sys
    from pathlib import Path

    from ltr.io import read_letor

    bench = Path(__file__).resolve().parent.parent / "benchmarks"
    sys.path.insert(0, str(bench))  # (the script imports benchmarks/_report.py)
    try:
        spec = importlib.util.spec_from_file_location("_bench_memory_t70", bench / "bench_memory.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(bench))
    path = tmp_path / "d.txt"
    path.write_text("1 qid:1 1:0.5 2:3\n0 qid:1 1:0.25 2:1\n2 qid:2 1:1 2:0\n")
    d = read_letor(path, query_file=None)
    out = module.child("ltr-whole", str(path), 1, 1)  # was: TypeError, _parse() missing 'wide' (the row failed)
    assert out["arrays"] == d.X.nbytes + d.y.nbytes + d.qid.nbytes + d.group_ptr.nbytes
