"""Defects found by the user trials of stop 62 (reports in the session's trial folder) and gaps earlier stops left,
each with the behaviour that mends it."""

from __future__ import annotations

import re
import sys

import numpy as np
import pandas as pd
import pytest

from ltr.cli import main


# ------------------------------------------------------------------------------------------------------------------
# compare (linear-tune-experiments)
def test_tables_over_different_queries_are_told_the_function_that_scores_a_missing_query_zero():
    """compare() of per-query tables said 'complete=True', which compare() does not take: compare_runs does."""
    from ltr.evaluation import compare
    from ltr.exceptions import ComparisonDataError

    a = pd.DataFrame({"ndcg@10": [0.1, 0.2, 0.3]}, index=["1", "2", "3"])
    with pytest.raises(ComparisonDataError) as e:
        compare({"a": a, "b": a.drop(index="3")})
    assert "Pass queries='intersection' to compare on the common queries only, or, for runs judged by qrels, " \
           "compare_runs(..., complete=True) to score a query a run lacks 0, as trec_eval -c does" in str(e.value)


# ------------------------------------------------------------------------------------------------------------------
# The compile notice of ltr cv and ltr tune (linear-tune-experiments)
def test_coordinate_ascent_counts_among_the_kernels_a_first_run_compiles(tmp_path, monkeypatch):
    import numba

    import ltr._numba_cache as cache

    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "numba-cache"))
    for s in (cache._HERE / s for s in cache._ALWAYS):  # the parser and the metrics compiled: only the engine left
        folder = cache.cache_dir(s)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{s.stem}.f-1.py{sys.version_info.major}{sys.version_info.minor}.nbi").write_bytes(b"")
    assert not cache.needs_compile() and not cache.needs_compile(engine="lightgbm")
    assert cache.needs_compile(engine="linear")


@pytest.fixture
def small_file(tmp_path):
    rng = np.random.default_rng(0)
    lines = [f"{rng.integers(0, 3)} qid:{q} " + " ".join(f"{j}:{rng.random():.4f}" for j in range(1, 5))
             for q in range(1, 9) for _ in range(6)]
    path = tmp_path / "data.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("argv, said", [
    (["cv", "--folds", "2"], "fold 1's seconds include them"),
    (["cv", "--folds", "2", "--parallel-folds", "2"], "the first folds' seconds include them"),
    (["tune", "--trials", "1", "--outer-folds", "2", "--inner-folds", "2"], "the first trial's time includes them"),
])
def test_cv_and_tune_say_which_time_holds_a_first_run_s_compilation(small_file, monkeypatch, capsys, argv, said):
    """ltr cv's first fold took 28 s on a fresh cache where the others took 1 to 2, unsaid, and ltr tune's help
    sizes --trials by those seconds (trial t62)."""
    asked = []

    def fresh(**kw):
        asked.append(kw)
        return kw.get("engine") == "linear"

    monkeypatch.setattr("ltr._numba_cache.needs_compile", fresh)
    command, *rest = argv
    assert main([command, str(small_file), "--engine", "linear", *rest]) == 0
    err = capsys.readouterr().err
    assert f"ltr {command}: compiling Numba kernels (first run only; later runs load them from the cache): {said}" \
           in err
    assert {"kernel": None, "engine": "linear"} in asked


# ------------------------------------------------------------------------------------------------------------------
# ltr export: files of names saved with a byte-order mark (export)
@pytest.fixture
def small_model(tmp_path):
    from ltr import Ranker
    from ltr.datasets import make_ranking

    model = tmp_path / "m.txt"
    Ranker(n_estimators=3, n_jobs=1, min_child_samples=2).fit(make_ranking(20, 8, 3, random_state=0)).save(model)
    return model


def test_export_reads_names_files_saved_with_a_byte_order_mark(tmp_path, small_model, capsys):
    """A names file saved by Notepad or PowerShell 5 gave the model a feature named '\\ufefff1', exit 0 (the plugin
    refuses it as an unknown feature; Solr scores it 0); a Solr feature store so saved was read as one name."""
    import json

    names = tmp_path / "names.txt"
    names.write_text("f1\nf2\nf3\n", encoding="utf-8-sig")
    out = tmp_path / "x.json"
    assert main(["export", str(small_model), "--to", "es-xgboost", "--out", str(out), "--feature-names",
                 f"@{names}", "--quiet"]) == 0
    splits = set(re.findall(r'"split":\s*"([^"]*)"', out.read_text(encoding="utf-8")))
    assert splits and splits <= {"f1", "f2", "f3"}  # (was {'\ufefff1', ...} where the first feature splits)
    store = tmp_path / "store.json"
    store.write_text(json.dumps([{"name": n, "class": "org.apache.solr.ltr.feature.ValueFeature",
                                  "params": {"value": 0}, "store": "mystore"} for n in ("f3", "f2", "f1")]),
                     encoding="utf-8-sig")
    assert main(["export", str(small_model), "--to", "es-ranklib", "--out", str(tmp_path / "r.txt"),
                 "--feature-names", "f1,f2,f3", "--target-features", str(store), "--quiet"]) == 0
    solr = tmp_path / "solr.json"
    assert main(["export", str(small_model), "--to", "solr", "--inexact", "nearest", "--out", str(solr),
                 "--feature-names", "f1,f2,f3", "--target-features", str(store), "--quiet"]) == 0
    assert json.loads(solr.read_text())["store"] == "mystore"  # (was 'ltrkit': Solr found none of its features)


def test_export_refuses_a_byte_order_mark_inside_a_names_file_naming_its_line(tmp_path, small_model, capsys):
    names = tmp_path / "names.txt"
    names.write_bytes(b"f1\n\xef\xbb\xbff2\nf3\n")  # two files joined with cat, the second saved with a BOM
    assert main(["export", str(small_model), "--to", "es-xgboost", "--out", str(tmp_path / "x.json"),
                 "--feature-names", f"@{names}"]) == 1
    assert f"{names}:2 (--feature-names @FILE): a byte-order mark (U+FEFF) inside the file: files joined with " \
           "cat, one saved with a BOM? remove it (its next name would hold it, invisibly, and match nothing)" \
           in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------------------------
# features.serve: ids given as floats (trees-serve)
def test_rerank_reads_whole_float_ids_as_a_run_s_ids_are_read():
    """rerank()/rerank_many() made 184.0 '184.0', which no document is (on_unknown='drop' gave an empty result),
    and keyed a result '1.0', where rerank_run, fuse and write_run read them as '184' and '1' (trial t62)."""
    from features.serve import Reranker, _id_list, _query_ids

    assert _id_list([184.0, np.float32(12), 51, "7"], "doc_ids") == ["184", "12", "51", "7"]
    assert _query_ids({1.0: None, "2": None}, "queries") == ["1", "2"]
    for bad, said in ((184.5, "holds the float 184.5: ids are compared as text"), (None, "holds a missing id (None)"),
                      (float("nan"), "holds a missing id (nan)"), (pd.NA, "holds a missing id (<NA>)"),
                      (pd.NaT, "holds a missing id (NaT)")):
        with pytest.raises(ValueError, match=re.escape(f"doc_ids {said}")):
            _id_list([bad], "doc_ids")
    with pytest.raises(ValueError, match=r"queries: query ids 1.0 and '1' are both '1' as text"):
        object.__new__(Reranker).rerank_many({1.0: ("wing", ["1"]), "1": ("heat", ["2"])})


# ------------------------------------------------------------------------------------------------------------------
# ltr.trees: a LightGBM model text cut inside its parameters block (trees-serve)
def test_a_lightgbm_model_cut_inside_a_parameter_line_is_said_to_be_truncated(tmp_path, small_model):
    """Cut inside '[sigmoid: 1]' the text was blamed on a malformed line, where every other cut says truncated."""
    from ltr.exceptions import ModelFormatError
    from ltr.trees import load

    text = small_model.read_text()
    at = text.index("[sigmoid: ") + len("[sigmoid: ")
    for cut, said in ((text[:at], "the text ends inside a parameter line, with no line end and no 'end of "
                                  "parameters' line: it is truncated (token '[sigmoid: ')"),
                      (text[:at] + "\n", "expected a '[name: value]' parameter line or 'end of parameters' (token "
                                         "'[sigmoid: ')")):  # a whole line of its own: edited, not cut
        path = tmp_path / "cut.txt"
        path.write_text(cut)
        line = cut.count("\n") + (not cut.endswith("\n"))
        with pytest.raises(ModelFormatError, match=re.escape(f"cut.txt:{line}: {said}")):
            load(path)


# ------------------------------------------------------------------------------------------------------------------
# ltr features --run: a run repeating a (query, document) pair (features)
def test_a_run_repeating_a_pair_is_said_by_file_and_pair_with_the_copy_kept(tmp_path, caplog):
    """The warning named neither the file nor the pair, nor which copy the first stage kept, where ltr evaluate
    refuses the same file and pytrec_eval keeps the last line (trial t62)."""
    import logging

    (tmp_path / "docs.tsv").write_text("d1\twing flutter\nd5\twing heat\n")
    (tmp_path / "q.tsv").write_text("1\twing\n")
    (tmp_path / "qrels").write_text("1 0 d1 1\n")
    run = tmp_path / "in.run"
    run.write_text("1 Q0 d1 1 4.0 r\n1 Q0 d5 2 5.0 r\n1 Q0 d1 3 6.0 r\n")
    with caplog.at_level(logging.WARNING, logger="features"):
        assert main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                     "--qrels", str(tmp_path / "qrels"), "--run", str(run), "--out", str(tmp_path / "r.letor"),
                     "--quiet"]) == 0
    said = [r.getMessage() for r in caplog.records if "duplicate" in r.getMessage()]
    assert said == [f"{run}: candidates: 1 duplicate (query, document) row(s) dropped, the first line of each pair "
                    "kept (first repeated: query '1', document 'd1'); ltr evaluate refuses such a run, as trec_eval "
                    "does"]
    assert main(["evaluate", "--run", str(run), "--qrels", str(tmp_path / "qrels"), "--metrics", "map"]) != 0


# ------------------------------------------------------------------------------------------------------------------
# ltr train without --out (newcomer)
def test_train_without_out_says_the_model_was_not_saved(small_file, capsys):
    """README's linear line had no --out: it trained, printed metrics and exited 0, and the newcomer looked for the
    model (trial t62)."""
    assert main(["train", str(small_file), "--engine", "linear", "--quiet"]) == 0
    assert "; not saved (no --out)" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------------------------
# ltr cv DIR with a fold missing (newcomer)
def test_cv_of_a_fold_folder_with_a_gap_in_its_numbers_says_which_fold_is_missing(tmp_path, small_file):
    """Fold1 and Fold3 were cross-validated as '2 folds', the missing Fold2 unsaid: a copy unpacked in part gave a
    mean over fewer folds (trial t62)."""
    from ltr.evaluation import make_folds

    for k in (1, 3, 4):
        (tmp_path / f"Fold{k}").mkdir()
        for part in ("train", "vali", "test"):
            (tmp_path / f"Fold{k}" / f"{part}.txt").write_bytes(small_file.read_bytes())
    with pytest.warns(UserWarning, match=re.escape(f"{tmp_path}: no Fold2 beside Fold1, Fold3, Fold4 (a copy "
                                                   "unpacked in part?): cross-validating the 3 fold(s) there")):
        folds, _, _ = make_folds(tmp_path)
    assert [f.name for f in folds] == ["Fold1", "Fold3", "Fold4"]
    (tmp_path / "Fold2").mkdir()
    for part in ("train", "vali", "test"):
        (tmp_path / "Fold2" / f"{part}.txt").write_bytes(small_file.read_bytes())
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no gap: nothing said
        make_folds(tmp_path)


# ------------------------------------------------------------------------------------------------------------------
# Sets of outputs (cli-robustness)
def test_a_ctrl_c_over_cv_s_renames_leaves_out_run_out_and_save_dir_of_one_run(small_file, tmp_path, monkeypatch,
                                                                                capsys):
    """A Ctrl-C held over --out's and --run-out's renames was raised as they ended, and the staged fold folders were
    dropped: --out described 5-round models where --save-dir held the 2-round ones (trial t62: 4 of 4 tries)."""
    import json

    import ltr.io.outputs as outputs
    from ltr import _checked_io

    data = tmp_path / "ids.txt"
    rows = small_file.read_text().splitlines()
    data.write_text("".join(f"{line} #docid = d{n}\n" for n, line in enumerate(rows)))
    out, run, folds = tmp_path / "r.json", tmp_path / "r.run", tmp_path / "sd"
    argv = ["cv", str(data), "--folds", "2", "--out", str(out), "--run-out", str(run), "--save-dir", str(folds),
            "--preset", "none", "--min-child-samples", "2", "--quiet"]
    assert main([*argv, "--rounds", "2"]) == 0
    renamed = outputs._rename_staged

    def interrupted_while_renaming(staged):
        if any(target == str(out) for _, _, target, _ in staged):  # --out's and --run-out's renames
            _checked_io.stop_outputs(KeyboardInterrupt)  # as the SIGINT handler records one while they are held
        return renamed(staged)

    monkeypatch.setattr(outputs, "_rename_staged", interrupted_while_renaming)
    try:
        assert main([*argv, "--rounds", "5"]) == 130
    finally:
        _checked_io.stop_outputs(None)
    assert capsys.readouterr().err.strip().endswith("ltr cv: interrupted; no output file was left half-written")
    assert json.loads(out.read_text())["systems"][0]["params"]["n_estimators"] == 5
    assert (folds / "Fold1" / "model.txt").read_text().count("Tree=") == 5  # (was 2: the earlier run's)


def test_fuse_writes_out_and_report_as_one_set(tmp_path, monkeypatch, capsys):
    """A --report that could not be written (a full disk) failed the command after --out had been replaced."""
    import errno

    import ltr.io.outputs as outputs

    runs = []
    for k, scores in enumerate(((3, 2, 1), (1, 3, 2))):
        p = tmp_path / f"run{k}.txt"
        p.write_text("".join(f"{q} Q0 d{d} {d} {s} r{k}\n" for q in (1, 2, 3, 4) for d, s in zip((1, 2, 3), scores)))
        runs.append(str(p))
    qrels = tmp_path / "qrels"
    qrels.write_text("".join(f"{q} 0 d{1 + q % 3} 1\n" for q in (1, 2, 3, 4)))
    out, report = tmp_path / "fused.run", tmp_path / "report.json"
    out.write_text("old fused run\n")
    real = outputs._rename_staged

    def full_disk(staged):
        if any(target == str(report) for _, _, target, _ in staged):
            raise OSError(errno.ENOSPC, "No space left on device", str(report))
        return real(staged)

    monkeypatch.setattr(outputs, "_rename_staged", full_disk)
    assert main(["fuse", *runs, "--fit-weights", "--qrels", str(qrels), "--folds", "2", "--out", str(out),
                 "--report", str(report), "--quiet"]) == 1
    assert out.read_text() == "old fused run\n" and not report.exists()
    assert "no space left on device" in capsys.readouterr().err.lower()


# ------------------------------------------------------------------------------------------------------------------
# --config's help (training)
def test_config_help_says_a_setting_given_under_two_names_is_refused(tmp_path, small_file, capsys):
    """It said "flags given on the command line win", where --leaves against [params] num_leaves is refused."""
    from ltr.cli import build_parser

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    config = next(a for a in train._actions if a.dest == "config")
    assert config.help.endswith("a flag given on the command line wins over the file's key of the same name, and "
                                "one setting given under two names (--leaves against [params] num_leaves) is refused")
    cfg = tmp_path / "cfg.toml"
    cfg.write_text("[params]\nnum_leaves = 7\n")
    assert main(["train", str(small_file), "--config", str(cfg), "--leaves", "15", "--rounds", "2"]) == 2
    assert "sets what --leaves 15 sets in lightgbm: give one of the two" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------------------------
# ltr report into a report folder (cli-robustness)
def test_a_report_that_fails_half_way_leaves_the_previous_report_whole(tmp_path, monkeypatch):
    """A full disk after three figures left the previous report's pages beside new figures of another result, exit 1
    (trial t62): the pages and figures are renamed in together once every one is written."""
    import hashlib

    import ltr.io
    from ltr import Ranker, make_ranking
    from ltr.evaluation import cross_validate, render_report

    data = make_ranking(30, 8, 4, random_state=0)
    out = tmp_path / "report"
    results = [cross_validate(Ranker(n_estimators=k, n_jobs=1, min_child_samples=2, preset=None), data, n_splits=2,
                              progress=False) for k in (2, 4)]
    render_report(results[0], out, formats=["html", "md", "png"])
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*") if p.is_file()}
    assert len([p for p in before if p.suffix == ".png"]) >= 2
    real, seen = ltr.io.atomic_write, []

    def full_after_one_figure(path, *args, **kwargs):
        if str(path).endswith(".png"):
            seen.append(path)
            if len(seen) == 2:
                raise OSError(28, "No space left on device", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(ltr.io, "atomic_write", full_after_one_figure)
    with pytest.raises(OSError):
        render_report(results[1], out, formats=["html", "md", "png"])
    monkeypatch.undo()
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_an_interrupt_recorded_before_a_set_goes_in_keeps_it_out(tmp_path):
    """raise_if_stopped stopped checking inside a hold, and the check before the renames always ran inside one: an
    interrupt a library had swallowed after the temporaries were written let the whole set replace the old one
    (review 2 of trial t62)."""
    from ltr import _checked_io
    from ltr.io.outputs import outputs_together

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old\n"), b.write_text("old\n")
    try:
        with pytest.raises(KeyboardInterrupt):
            with outputs_together(a, b) as (ta, tb):
                open(ta, "w").write("new\n"), open(tb, "w").write("new\n")
                _checked_io.stop_outputs(KeyboardInterrupt)  # recorded; the library it came through went on
    finally:
        _checked_io.stop_outputs(None)
    assert (a.read_text(), b.read_text()) == ("old\n", "old\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]  # no temporary left


# ------------------------------------------------------------------------------------------------------------------
# Review 2: the engines' rankers under cross_validate, old-style predicts, numpy's NaT
def test_cross_validate_of_an_lgbmranker_reads_lightgbm_s_spelling_and_saves_its_fold_models(tmp_path):
    import lightgbm as lgb

    from ltr import make_ranking
    from ltr.evaluation import cross_validate

    data = make_ranking(30, 8, 4, random_state=0)
    model = lgb.LGBMRanker(n_estimators=20, min_child_samples=2, early_stopping_round=3, verbose=-1)
    result = cross_validate(model, data, n_splits=3, save_dir=tmp_path / "sd", progress=False)
    assert result.settings["validation"] is True  # (LightGBM's own spelling was not read: nothing held out)
    saved = lgb.Booster(model_file=str(tmp_path / "sd" / "Fold1" / "model.txt"))  # (no model was saved)
    assert saved.num_trees() >= 1


def test_a_predict_written_for_the_dataset_is_told_it_gets_the_rows():
    from ltr import make_ranking
    from ltr.evaluation import permutation_importance

    class ReadsTheDataset:
        def predict(self, data):
            return np.asarray(data.X)[:, 0]

    with pytest.raises(TypeError, match=re.escape(
            "model.predict was given the rows (data.X), as every model but ltrkit's own is, and asked them for .X: "
            "write predict(X) for rows, as scikit-learn's estimators take them")):
        permutation_importance(ReadsTheDataset(), make_ranking(10, 5, 3, random_state=0), n_repeats=1)


def test_numpy_s_nat_is_a_missing_id():
    from features.serve import _id_list

    for nat in (np.datetime64("NaT"), np.timedelta64("NaT")):
        with pytest.raises(ValueError, match=re.escape("doc_ids holds a missing id (NaT)")):
            _id_list([nat], "doc_ids")
