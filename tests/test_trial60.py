"""Defects found by the user trials of stop 60 (reports in the session's trial folder), each with the behaviour that
mends it."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from features import Analyzer, Collection, InvertedIndex, extract
from ltr import metrics


@pytest.fixture(scope="module")
def small_index():
    docs = Collection(("d1", "d2", "d3"), {"body": ["wing flow", "plate flow", "wing plate"]})
    return InvertedIndex.build(docs, Analyzer())


# ------------------------------------------------------------------------------------------------------------------
# The feature layer's frames (features)
def test_float_query_ids_in_frames_are_read_as_evaluate_run_reads_them(small_index):
    """A qrels frame whose qid column is float (a NaN upstream, a merge) labelled every candidate 0, with one logged
    warning, where evaluate_run reads the same frame's 1.0 as '1' (MAP 1.0); a float candidates frame matched no
    query at all."""
    queries = {"1": "wing flow"}
    candidates = {"1": ["d1", "d2", "d3"]}
    qrels = pd.DataFrame({"qid": [1.0, 1.0], "docno": ["d1", "d3"], "rel": [1, 2]})
    d = extract(small_index, queries, candidates, [{"scorer": "bm25", "fields": "*"}], qrels=qrels)
    assert d.y.tolist() == [1.0, 0.0, 2.0]
    run = pd.DataFrame({"qid": [1.0, 1.0, 1.0], "docno": ["d1", "d2", "d3"], "score": [3.0, 2.0, 1.0]})
    d = extract(small_index, queries, run, [{"scorer": "bm25", "fields": "*"}], qrels=qrels)
    assert d.y.tolist() == [1.0, 0.0, 2.0]
    assert metrics.evaluate_run(qrels, run, ["map"]) == {"map": pytest.approx(5 / 6)}
    with pytest.raises(ValueError, match=r"^the qid column of qrels holds the float 1.5 at row 1 \(counting from 0\)"):
        extract(small_index, queries, candidates, ["bm25"], qrels=qrels.assign(qid=[1.0, 1.5]))
    with pytest.raises(ValueError, match=r"^the docno column of candidates holds a missing id \(None or NaN\) at "
                                         r"row 2 \(counting from 0\): every row needs its ids$"):
        extract(small_index, queries, run.assign(docno=["d1", "d2", None]), ["bm25"])
    # the mapping forms too (groupby on a float column gives float keys; review of trial t60)
    d = extract(small_index, {1.0: "wing flow"}, {1.0: ["d1", "d2", "d3"]}, ["bm25"], qrels=qrels)
    assert d.y.tolist() == [1.0, 0.0, 2.0]
    with pytest.raises(ValueError, match=r"^the query id column of candidates holds a missing id"):
        extract(small_index, queries, {None: ["d1"]}, ["bm25"])
    with pytest.raises(ValueError, match=r"^the doc_id column of candidates holds a missing id"):  # the frame's name
        extract(small_index, queries, pd.DataFrame({"query_id": ["1", "1"], "doc_id": ["d1", None]}), ["bm25"])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_candidate_score_is_refused_naming_the_pair(small_index, bad):
    """A NaN score was 'FloatingPointError ... this is a bug' with a first_stage column, and without one ranked last
    silently (deciding RM3's feedback documents), where a run file's is refused by file and line."""
    run = pd.DataFrame({"qid": ["1"] * 3, "docno": ["d1", "d2", "d3"], "score": [bad, 2.0, 1.0]})
    for features in (["first_stage", "bm25"], ["bm25", {"scorer": "rm3", "fields": "*", "fb_docs": 1}]):
        with pytest.raises(ValueError, match=rf"^candidates: query 1, document d1: score {bad!r} is not a finite "
                                             r"number \(1 such score\(s\)\)"):
            extract(small_index, {"1": "wing flow"}, run, features)


@pytest.mark.parametrize("given", [[("1", "d1"), ("1", "d2")], ("d1", "d2"), "d1"])
def test_candidates_of_another_type_are_a_clear_type_error(small_index, given):
    """A list of (qid, docno) pairs, a tuple or a string failed as "'list' object has no attribute 'items'"."""
    with pytest.raises(TypeError, match=rf"^candidates must be a DataFrame .* or a mapping \{{qid: \[docno, \.\.\.\]\}}"
                                        rf", got {type(given).__name__}"):
        extract(small_index, {"1": "wing flow"}, given, ["bm25"])


# ------------------------------------------------------------------------------------------------------------------
# Training (training)
def test_an_early_stopping_metric_keeps_early_stopping_under_the_preset_in_python_as_on_the_command_line(
        shared_file, tmp_path):
    """Ranker(early_stopping_metric='map') trained all 300 of the preset's rounds where `ltr train
    --early-stopping-metric map` on the same data stopped at 79 of 129: one rule (apply_preset's) for both."""
    from ltr import Ranker
    from ltr.io import read_letor
    from ltr.rankers.presets import apply_preset

    effective, applied = apply_preset(Ranker(early_stopping_metric="map"), 100, 10_000)
    assert effective.early_stopping_rounds == 50 and "early_stopping_rounds" not in applied
    assert apply_preset(Ranker(), 100, 10_000)[0].early_stopping_rounds is None
    train, valid = shared_file("mq2008/Fold2/test.txt.gz"), shared_file("mq2008/Fold1/vali.txt.gz")
    with pytest.warns(UserWarning, match="small-data preset"):
        model = Ranker(early_stopping_metric="map", n_jobs=1, random_state=1).fit(
            read_letor(train), eval_set=[read_letor(valid)])
    assert model.n_rounds_ < 300
    from ltr.cli import main

    assert main(["train", str(train), "--valid", str(valid), "--early-stopping-metric", "map", "--seed", "1",
                 "--n-jobs", "1", "--out", str(tmp_path / "m.txt")]) == 0
    from ltr import load_model

    cli, rows = load_model(tmp_path / "m.txt"), read_letor(valid)
    assert cli.best_iteration_ == model.best_iteration_
    assert np.array_equal(cli.predict(rows.X), model.predict(rows.X))


def test_the_stopped_short_warning_names_the_leaf_size_when_it_alone_forbids_every_split():
    """min_child_samples=1500 on 2,933 rows: the advice was to lower reg_lambda (0) or the learning rate."""
    from ltr import Ranker, make_ranking

    data = make_ranking(40, (10, 20), 5, random_state=0)
    n = len(data.y)
    with pytest.warns(UserWarning, match=rf"stopped after 1 of 20 rounds: a split needs two leaves of "
                                         rf"min_child_samples={n} rows, {2 * n} rows, and the training data has {n} "
                                         r"rows; .* Lower min_child_samples$"):
        Ranker(preset=None, n_estimators=20, min_child_samples=n, n_jobs=1).fit(data)
    with pytest.warns(UserWarning, match=r"each round's bag holds about \d+ of the \d+ training rows \(bagging "
                                         r"fraction 0.5\)"):
        Ranker(preset=None, n_estimators=20, min_child_samples=n // 3, subsample=0.5, n_jobs=1).fit(data)


@pytest.mark.parametrize(("engine", "objective", "way"), [
    ("lightgbm", "map", "use engine='xgboost', whose native ranker has it"),
    ("xgboost", "xendcg", "use engine='lightgbm', whose native ranker has it"),
    ("lightgbm", "ranknet", r"use kernel='numba' \(kernels exist for \[")])
def test_an_objective_the_engine_lacks_names_the_way_that_trains_it(engine, objective, way):
    """objective='map' on LightGBM was told to use kernel='numba', from a list without 'map'."""
    from ltr import Ranker, make_ranking

    with pytest.raises(ValueError, match=rf"^{engine} has no native '{objective}' objective; native ones are .*; "
                                         rf"{way}"):
        Ranker(engine=engine, objective=objective).fit(make_ranking(4, (3, 4), 2, random_state=0))


# ------------------------------------------------------------------------------------------------------------------
# Serving (trees-serve)
@pytest.fixture(scope="module")
def adi_models(shared_file, tmp_path_factory):
    """ADI's default features (BM25 top 15) and three models of them: every column (LightGBM), a feature subset
    (XGBoost, `--features`), and a plain XGBoost booster early-stopped by XGBoost itself."""
    import xgboost as xgb

    from ltr.cli import main
    from ltr.io import read_letor

    folder = tmp_path_factory.mktemp("t60serve")
    letor, index = folder / "adi.letor", folder / "adi.npz"
    assert main(["features", "--collection", str(shared_file("adi")), "--topk", "15", "--out", str(letor),
                 "--index", str(index), "--quiet"]) == 0
    small = ["--rounds", "20", "--leaves", "7", "--min-child-samples", "5", "--quiet", "--format", "json"]
    assert main(["train", str(letor), "--out", str(folder / "full.txt"), *small]) == 0
    assert main(["train", str(letor), "--engine", "xgboost", "--features", "1,3,5", "--out", str(folder / "sub.json"),
                 *small]) == 0
    data = read_letor(letor)
    half = data.group_ptr[data.n_queries // 2]
    train = xgb.DMatrix(data.X[:half], data.y[:half], group=np.diff(data.group_ptr[:data.n_queries // 2 + 1]))
    valid = xgb.DMatrix(data.X[half:], data.y[half:], group=np.diff(data.group_ptr[data.n_queries // 2:]))
    booster = xgb.train({"objective": "rank:ndcg", "eta": 0.3, "nthread": 1}, train, 40, evals=[(valid, "v")],
                        early_stopping_rounds=3, verbose_eval=False)
    assert booster.best_iteration + 1 < booster.num_boosted_rounds()  # early-stopped, as the case needs
    booster.save_model(folder / "plain.json")
    return SimpleNamespace(folder=folder, index=index, data=data)


def test_reranker_score_refuses_rows_of_another_width_and_takes_a_subset_models_own_columns(adi_models):
    """A feature-subset model's Reranker.score took rows of any width (31 of 32 columns: every row scored wrong,
    max 0.887) and failed on the subset's own columns with numpy's IndexError."""
    from ltr.serve import Reranker

    r = Reranker.load(adi_models.folder / "sub.json", index=adi_models.index)
    X = adi_models.data.X[:15]
    whole = r.score(X)
    assert np.array_equal(r.score(X[:, np.asarray(r.subset) - 1]), whole)
    width = len(r.feature_names)
    for bad in (X[:, :-1], np.hstack([X, X[:, :1]])):
        with pytest.raises(ValueError, match=rf"^X has {bad.shape[1]} columns; .* scores rows of the {width} columns "
                                             r"of its feature set \(feature_names, as features\(\) gives them\), or of "
                                             r"the 3 the model reads \(subset\)$"):
            r.score(bad)
    from ltr import load_model

    with pytest.raises(ValueError, match=rf"^X has {width - 1} features but the model was trained on 3 of the {width} "
                                         rf"columns of its data \(ltr train --features\): give rows of those {width} "
                                         rf"columns, or of its 3; .* n_features={width} "):
        load_model(adi_models.folder / "sub.json").predict(X[:, :-1])


def test_reranker_score_reads_a_frames_names_as_the_models_other_scorers_do(adi_models):
    """Reranker.score(DataFrame) dropped the names: two swapped columns were scored by position (21 of 50 rows
    wrong), where ltr.load_model and ltr.trees refuse the frame."""
    from ltr.serve import Reranker

    r = Reranker.load(adi_models.folder / "full.txt", index=adi_models.index)
    X = adi_models.data.X[:15]
    names = list(r.feature_names)
    frame = pd.DataFrame(X, columns=names)
    assert np.array_equal(r.score(frame), r.score(X))
    swapped = frame[[names[1], names[0], *names[2:]]]
    with pytest.raises(ValueError, match=rf"^X's columns are not .*'s features in their order \(column 0 counting "
                                         rf"from 0: '{names[1]}', the feature set's '{names[0]}'\); reorder them"):
        r.score(swapped)
    with pytest.raises(ValueError, match=r"^X's columns have 2 levels"):
        r.score(pd.concat({"f": frame}, axis=1))
    from ltr._shared import import_reference

    pa = import_reference("pyarrow")  # another library's frame is read by name too (review of trial t60)
    assert np.array_equal(r.score(pa.Table.from_pandas(frame)), r.score(X))
    with pytest.raises(ValueError, match=r"^X's columns are not .*'s features in their order \(column 0"):
        r.score(pa.Table.from_pandas(swapped))


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_a_two_level_header_is_refused_by_the_model_and_the_trees_where_the_features_are_named(engine):
    """A frame under a common top level (pd.concat(..., keys=...)), two columns swapped: scored by position by
    ltr.trees and ltr.load_model (2,379 of 2,707 rows wrong), where XGBoost refuses it."""
    from ltr import Ranker, make_ranking, trees

    data = make_ranking(30, (5, 9), 4, random_state=0)
    names = ["bm25", "tfidf", "doclen", "pr"]
    model = Ranker(engine=engine, n_estimators=5, preset=None, n_jobs=1).fit(pd.DataFrame(data.X, columns=names),
                                                                              data.y, group=data.group_sizes)
    frame = pd.concat({"feat": pd.DataFrame(data.X, columns=names)[["tfidf", "bm25", "doclen", "pr"]]}, axis=1)
    for scorer, attribute in ((model, "feature_names_in_"), (trees.from_booster(model), "feature_names")):
        with pytest.raises(ValueError, match=rf"^X's columns have 2 levels \(\('feat', 'tfidf'\), \.\.\.\), where the "
                                             rf"model's features are named: give a frame whose columns are its "
                                             rf"{attribute}"):
            scorer.predict(frame)


def test_a_reranker_of_a_plain_early_stopped_xgboost_model_warns_once(adi_models, recwarn):
    """Reranker.load of XGBoost's own early-stopped model warned twice for one fact, the second telling the user to
    call predict(X, n_iter=...), which a reranker's user never calls (the scores were right)."""
    import warnings

    from features import FeatureSet
    from ltr.serve import Reranker
    warnings.simplefilter("always")
    r = Reranker.load(adi_models.folder / "plain.json", index=adi_models.index, features=FeatureSet.default())
    said = [str(w.message) for w in recwarn.list if issubclass(w.category, UserWarning)]
    assert [m for m in said if "best_iteration" in m or "early-stopped" in m] == [
        next(m for m in said if "best_iteration" in m)]
    assert not any("early-stopped at round" in m for m in said)
    assert r.trees.n_iterations > 0


# ------------------------------------------------------------------------------------------------------------------
# Export (export)
def test_an_es_xgboost_export_of_a_model_of_no_tree_is_one_leaf_of_0_not_an_empty_definition():
    """XGBoost's 0-round booster of base score 0 exported `"definition": []`, which the plugin's XGBoostJsonParser
    refuses ("XGBoost model must define at lease one tree")."""
    import json

    import xgboost as xgb

    from ltr.export import export

    X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    booster = xgb.train({"base_score": 0.0}, xgb.DMatrix(X, np.arange(20) % 2, feature_names=["a", "b", "c"]), 0)
    assert booster.predict(xgb.DMatrix(X, feature_names=["a", "b", "c"]), output_margin=True).tolist() == [0.0] * 20
    definition = json.loads(export(booster, "es-xgboost").text)["model"]["model"]["definition"]
    assert definition == [{"nodeid": 0, "leaf": 0.0}]


# ------------------------------------------------------------------------------------------------------------------
# Experiments (experiments)
def test_the_reports_parameters_say_early_stopping_was_not_used_where_no_fold_had_a_validation_part(tmp_path):
    """`ltr report` listed 'early_stopping_rounds 50' as trained with for `ltr cv --no-vali`, whose folds ran every
    round."""
    from ltr import make_ranking
    from ltr.cli import main
    from ltr.io import write_letor

    data = tmp_path / "d.txt"
    write_letor(data, make_ranking(30, (4, 8), 4, random_state=0))
    rows = {}
    for vali in (True, False):
        out = tmp_path / f"cv{vali}.json"
        assert main(["cv", str(data), "--folds", "3", *([] if vali else ["--no-vali"]), "--rounds", "5",
                     "--preset", "none", "--n-jobs", "1", "--quiet", "--out", str(out)]) == 0
        assert main(["report", str(out), "--out", str(tmp_path / f"r{vali}"), "--formats", "md", "--quiet"]) == 0
        text = (tmp_path / f"r{vali}" / "report.md").read_text()
        rows[vali] = next(line for line in text.splitlines() if line.startswith("| early_stopping_rounds |"))
    assert rows[True] == "| early_stopping_rounds | 50 |  |"
    assert rows[False] == "| early_stopping_rounds | not used: no validation part | 50 |"


# ------------------------------------------------------------------------------------------------------------------
# The command line under hostile input (cli-robustness)
def test_out_of_memory_is_one_line_not_a_traceback(capsys):
    """A LETOR file larger than the memory a job may have (ulimit -v) printed a 30-50-line traceback: MemoryError was
    not among the errors the command line words."""
    import argparse

    from ltr.cli._guard import guard

    def run(args):
        raise MemoryError("Unable to allocate 708. MiB for an array with shape (741921000,) and data type uint8")

    assert guard("info", run, argparse.Namespace()) == 1
    err = capsys.readouterr().err
    assert err == ("ltr info: error: out of memory (Unable to allocate 708. MiB for an array with shape (741921000,) "
                   "and data type uint8): the data does not fit in the memory this process may use (its limit, as "
                   "ulimit -v or a batch job's memory request sets it, or the machine's)\n")


@pytest.mark.skipif(not os.path.exists("/dev/zero") or sys.platform != "linux", reason="needs Linux's /dev/zero")
def test_a_device_is_refused_as_an_input_not_read_until_memory_runs_out():
    """`ltr info /dev/zero` read the device whole, as a pipe is read, until memory ran out (run under a 3 GiB
    address-space limit, so that a regression fails here rather than the machine)."""
    import resource
    import subprocess

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    done = subprocess.run([sys.executable, "-m", "ltr", "info", "/dev/zero"], capture_output=True, text=True,
                          preexec_fn=limit, timeout=300)
    assert (done.returncode, done.stderr) == (1, "ltr info: error: /dev/zero: is a device, not a LETOR file\n")


def test_a_failed_write_of_numbas_cache_is_named_as_such_not_as_standard_output():
    """A cold Numba cache under a file size limit (a full disk) failed as 'standard output: cannot write: file too
    large', where standard output had got nothing: Numba's own write names no file."""
    import errno

    from ltr.cli._guard import error_message

    source = ("class Cache:\n    _cache_path = '/tmp/numba-cache/io_0a1b'\n    def save_overload(self):\n"
              "        raise OSError(errno.EFBIG, 'File too large')\n")
    scope = {"errno": errno}
    exec(compile(source, "/site-packages/numba/core/caching.py", "exec"), scope)  # a frame as Numba's
    with pytest.raises(OSError) as caught:
        scope["Cache"]().save_overload()
    assert error_message(caught.value) == ("Numba could not save a compiled kernel in its cache folder "
                                           "/tmp/numba-cache/io_0a1b: file too large; free room there, or point "
                                           "NUMBA_CACHE_DIR at a folder that has some")
    assert error_message(OSError(errno.EFBIG, "File too large")) == "standard output: cannot write: file too large"


def _pipe(text: str) -> str:
    """A path that reads ``text`` once, as the shell's <(...) does."""
    r, w = os.pipe()
    os.write(w, text.encode())
    os.close(w)
    return f"/dev/fd/{r}"


@pytest.mark.skipif(not os.path.isdir("/dev/fd"), reason="needs /dev/fd")
def test_a_search_space_and_a_config_are_read_from_a_pipe_as_every_data_input_is(tmp_path, capsys):
    """`ltr tune --space <(...)` said 'no such file' of a path that exists, `ltr train --config /dev/stdin` 'not a
    file'."""
    from ltr import make_ranking
    from ltr.cli import main
    from ltr.io import write_letor

    data = tmp_path / "d.txt"
    write_letor(data, make_ranking(12, (4, 8), 3, random_state=0))
    space = "num_leaves = {low = 3, high = 7}\n"
    assert main(["tune", str(data), "--space", _pipe(space), "--show-space"]) == 0
    assert capsys.readouterr().out == space
    assert main(["train", str(data), "--config", _pipe("rounds = 3\n"), "--preset", "none", "--quiet",
                 "--format", "json", "--out", str(tmp_path / "m.txt")]) == 0
    from ltr import load_model

    assert load_model(tmp_path / "m.txt").best_iteration_ == 3
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"rounds = 3\xff\n")
    assert main(["train", str(data), "--config", str(bad), "--out", str(tmp_path / "m.txt")]) == 2
    assert capsys.readouterr().err.endswith(f"--config {bad}:1: invalid UTF-8 byte b'\\xff' at byte offset 10; save it "
                                            "as UTF-8 (e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8)\n")

@pytest.mark.parametrize(("param", "said"), [
    ("bagging_fraction=abc", "'abc' is not a number"),
    ("label_gain=0,1,x", "not a number, or a list of numbers (0,1,3,7) with an item that is not one")])
def test_a_param_value_lightgbm_cannot_read_as_a_number_is_said_so(tmp_path, capsys, param, said):
    """LightGBM's own words were relayed: 'Unknown token abc in data file' (no data file was at fault) and 'stod'."""
    from ltr import make_ranking
    from ltr.cli import main
    from ltr.io import write_letor

    write_letor(tmp_path / "d.txt", make_ranking(6, (3, 5), 2, random_state=0))
    assert main(["train", str(tmp_path / "d.txt"), "--param", param, "--out", str(tmp_path / "m.txt")]) == 2
    assert capsys.readouterr().err == f"ltr train: error: --param {param}: lightgbm refused it: {said}\n"

# ------------------------------------------------------------------------------------------------------------------
# ltr data verify (newcomer)
def test_a_file_of_several_segments_is_not_counted_for_a_segment_it_holds_no_query_of(tmp_path, shared_file):
    """S5's file in Fold3/train.txt (S3+S4+S5's place) was 'ok' on its labels and S3 was counted present, though no
    file held it: judged by the files of one segment that match the registry, it holds S5 alone."""
    import gzip
    import shutil

    from ltr.registry import verify

    def copy(folder, files):
        for name, sources in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            with open(folder / name, "wb") as out:
                for source in sources:
                    with gzip.open(shared_file(f"mq2008/{source}.txt.gz"), "rb") as f:
                        shutil.copyfileobj(f, out)
        return folder

    base = {"Fold1/vali.txt": ["Fold1/vali"], "Fold1/test.txt": ["Fold1/test"], "Fold2/test.txt": ["Fold2/test"]}
    report = verify("mq2008", copy(tmp_path / "a", {**base, "Fold3/train.txt": ["Fold1/test"]}))
    train = next(f for f in report.files if f.path == "Fold3/train.txt")
    assert train.status == "differs" and train.problems[-1] == (
        "holds no query of S3, S4: its 156 queries are all S5's (Fold1/test.txt), where its place documents S3+S4+S5")
    assert "query segments present: S1, S4, S5; missing: S2, S3" in report.notes
    report = verify("mq2008", copy(tmp_path / "b", {**base, "Fold3/train.txt": ["Fold1/vali", "Fold1/test"]}))
    train = next(f for f in report.files if f.path == "Fold3/train.txt")
    assert train.problems[-1] == ("holds no query of S3: its 313 queries are all S4's (Fold1/vali.txt) and S5's "
                                  "(Fold1/test.txt), where its place documents S3+S4+S5")
    assert "query segments present: S1, S4, S5; missing: S2, S3" in report.notes


# ------------------------------------------------------------------------------------------------------------------
# ltr evaluate (io-metrics)
def test_relevance_level_0_counts_every_judged_document_relevant_as_trec_evals_l0(tmp_path, capsys):
    """`-l 0` was refused "as trec_eval's -l", which takes -l0 (every judged document relevant)."""
    import json

    from ltr.cli import main

    (tmp_path / "q").write_text("1 0 a 1\n1 0 b 0\n1 0 c 0\n")
    (tmp_path / "r").write_text("1 Q0 b 1 3.0 r\n1 Q0 x 2 2.0 r\n1 Q0 a 3 1.0 r\n")  # x unjudged: never relevant
    means = {}
    for level in (0, 1):
        assert main(["evaluate", "--qrels", str(tmp_path / "q"), "--run", str(tmp_path / "r"), "-l", str(level),
                     "--metrics", "map,num_rel,P@3", "--format", "json"]) == 0
        means[level] = json.loads(capsys.readouterr().out)["mean"]
    # -l 0: a, b, c relevant (3); b at 1, a at 3: AP = (1/1 + 2/3) / 3; -l 1: a alone, at 3: AP = 1/3
    assert means[0] == {"map": pytest.approx((1 + 2 / 3) / 3, abs=1e-15), "num_rel": 3, "p@3": pytest.approx(2 / 3)}
    assert means[1] == {"map": pytest.approx(1 / 3, abs=1e-15), "num_rel": 1, "p@3": pytest.approx(1 / 3)}


@pytest.mark.parametrize(("name", "said"), [("Judged@10", "ir_measures' Judged@k"), ("infAP", "ir_measures' infAP"),
                                            ("SetP", "ir_measures' SetP")])
def test_ir_measures_names_not_offered_are_said_so_not_unknown(name, said):
    """ir_measures' Judged@k was 'unknown metric', as a misspelling is, where trec_eval's gm_map is 'not offered'."""
    from ltr.metrics import parse_metric

    with pytest.raises(ValueError, match=rf"^metric '{name}': {said} .* is not offered$"):
        parse_metric(name)


def test_a_warning_that_carries_a_traceback_is_one_line_without_its_frames(tmp_path, capsys, monkeypatch):
    """NUMBA_OPT=abc: Numba's warning holds the traceback of its parse, whose frames were joined into the one line."""
    import warnings

    from ltr import make_ranking
    from ltr.io import write_letor

    write_letor(tmp_path / "d.txt", make_ranking(4, (3, 4), 2, random_state=0))
    import ltr.cli.info

    real = ltr.cli.info.run

    def run(args):
        warnings.warn("Environment variable 'NUMBA_OPT' is defined but its associated value 'abc' could not be "
                      "parsed.\nThe parse failed with exception:\nTraceback (most recent call last):\n  File "
                      "\"config.py\", line 185, in _readenv\n    return ctor(value)\nValueError: unsupported value "
                      "'abc'", RuntimeWarning, stacklevel=2)
        return real(args)

    monkeypatch.setattr(ltr.cli.info, "run", run)
    from ltr.cli import main

    assert main(["info", str(tmp_path / "d.txt")]) == 0
    assert capsys.readouterr().err == ("ltr info: warning: RuntimeWarning: Environment variable 'NUMBA_OPT' is "
                                       "defined but its associated value 'abc' could not be parsed. (ValueError: "
                                       "unsupported value 'abc')\n")


def test_an_unknown_mplbackend_is_named_as_the_variable():
    """MPLBACKEND=bogus failed ltr report in matplotlib's words ('Key backend: ...'), naming no variable."""
    import subprocess

    from ltr._shared import import_reference

    import_reference("matplotlib")
    code = ("from ltr.evaluation.plots import matplotlib_missing\n"
            "try:\n    matplotlib_missing()\nexcept ValueError as e:\n    print(e)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MPLBACKEND": "bogus"})
    assert done.stdout == ("environment variable MPLBACKEND='bogus': matplotlib does not know that backend; unset it, "
                           "or name one it knows (the figures are drawn with Agg whatever it names)\n")


@pytest.mark.parametrize("value", ["0", "abc", "-2", "4,0", "99999999999999999999"])
def test_an_omp_num_threads_openmp_cannot_take_is_one_line_naming_it(monkeypatch, capsys, value):
    """OMP_NUM_THREADS=0 made libgomp print its own two unprefixed lines when an engine loaded."""
    from ltr.cli import main

    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert main(["info", "x.txt"]) == 2
    assert capsys.readouterr().err == (f"ltr info: error: environment variable OMP_NUM_THREADS={value!r}: must be a "
                                       "whole number >= 1, or a comma-separated list of them (or unset)\n")


@pytest.mark.parametrize("value", ["+4", " 2 ", "4,+2"])
def test_an_omp_num_threads_openmp_takes_is_taken(monkeypatch, capsys, tmp_path, value):
    """OpenMP reads a count as strtoul does: a sign and spaces are a count (review 2 of trial t60)."""
    from ltr import make_ranking
    from ltr.cli import main
    from ltr.io import write_letor

    write_letor(tmp_path / "d.txt", make_ranking(4, (3, 4), 2, random_state=0))
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert main(["info", str(tmp_path / "d.txt")]) == 0


# ------------------------------------------------------------------------------------------------------------------
# The Python API (pyapi)
def test_fusion_and_the_trec_writers_read_float_ids_as_evaluate_run_reads_them(tmp_path):
    """A float docno column (117.0) split each document in two in fuse (RRF 200 rows for 100, MAP 0.37 -> 0.14), and
    write_run / write_qrels / run_from_scores wrote '1.0', which no judgment of '1' matched, where evaluate_run reads
    the same frame's 1.0 as '1'."""
    from ltr.fusion import fuse
    from ltr.io import read_qrels, read_run, run_from_scores, write_qrels, write_run

    a = pd.DataFrame({"qid": ["1"] * 3, "docno": ["117", "118", "119"], "score": [3.0, 2.0, 1.0]})
    b = pd.DataFrame({"qid": ["1"] * 3, "docno": [118.0, 117.0, 120.0], "score": [3.0, 2.0, 1.0]})
    fused = fuse([a, b], method="rrf")
    assert sorted(fused["docno"]) == ["117", "118", "119", "120"]
    assert fused.equals(fuse([a, b.assign(docno=["118", "117", "120"])], method="rrf"))
    run = run_from_scores([1.0, 1.0, 2.0], [10.0, 11.0, 20.0], [1.0, 2.0, 1.0])
    assert run[["qid", "docno"]].values.tolist() == [["1", "11"], ["1", "10"], ["2", "20"]]
    write_run(tmp_path / "r.run", run.assign(qid=[1.0, 1.0, 2.0]))
    assert read_run(tmp_path / "r.run")["qid"].tolist() == ["1", "1", "2"]
    write_qrels(tmp_path / "q.qrels", pd.DataFrame({"qid": [1.0, 2.0], "docno": [11.0, 20.0], "rel": [1, 1]}))
    assert (tmp_path / "q.qrels").read_text() == "1 0 11 1\n2 0 20 1\n"
    assert read_qrels(tmp_path / "q.qrels")["qid"].tolist() == ["1", "2"]
    with pytest.raises(ValueError, match=r"^the qid column of run holds the float 1.5 at row 0"):
        write_run(tmp_path / "r2.run", run.assign(qid=[1.5, 1.0, 2.0]))
    assert not (tmp_path / "r2.run").exists()
    write_run(tmp_path / "r3.run", run.assign(qid=pd.Categorical([1.0, 1.0, 2.0])))  # (review 2: categories too)
    assert read_run(tmp_path / "r3.run")["qid"].tolist() == ["1", "1", "2"]


# ------------------------------------------------------------------------------------------------------------------
# ltr data verify (datasets)
def test_a_row_cut_short_inside_its_line_is_found_in_a_set_whose_rows_list_every_feature(tmp_path, shared_file):
    """MQ2008's S1 file (no documented checksum) cut before feature 21 of its last row was 'ok': its rows, queries
    and labels still matched, and load read features 21..46 of that row as 0."""
    import gzip

    from ltr.registry import verify

    text = gzip.open(shared_file("mq2008/Fold2/test.txt.gz"), "rb").read()
    (tmp_path / "a" / "Fold2").mkdir(parents=True)
    (tmp_path / "a" / "Fold2" / "test.txt").write_bytes(text)
    ok = next(f for f in verify("mq2008", tmp_path / "a").files if f.path == "Fold2/test.txt")
    assert ok.status == "ok" and not ok.problems
    start = text.rstrip(b"\n").rfind(b"\n") + 1
    (tmp_path / "b" / "Fold2").mkdir(parents=True)
    (tmp_path / "b" / "Fold2" / "test.txt").write_bytes(text[:start] + text[start:][:text[start:].find(b" 21:")])
    cut = next(f for f in verify("mq2008", tmp_path / "b").files if f.path == "Fold2/test.txt")
    assert cut.status == "differs" and cut.problems == [
        "1 row(s) lack features, where every row of mq2008 lists all 46 (the first: row 2933, query 11893, lacks 26): "
        "a copy cut short inside a line?"]


def test_a_model_whose_normaliser_lacks_an_entry_names_it(tmp_path):
    """A linear model file whose normaliser had no "method" failed as "bad normalizer ('method')"."""
    import json

    from ltr import Ranker, load_model, make_ranking
    from ltr.exceptions import ModelFormatError

    model = Ranker(engine="linear", normalize="zscore", engine_params={"n_restarts": 1, "max_passes": 1})
    model.fit(make_ranking(6, (3, 5), 3, random_state=0))
    model.save(tmp_path / "m.json")
    doc = json.loads((tmp_path / "m.json").read_text())
    del doc["normalizer"]["method"]
    (tmp_path / "m.json").write_text(json.dumps(doc))
    (tmp_path / "m.json.meta.json").unlink()  # (its checksum would name the edit first)
    with pytest.raises(ModelFormatError, match=r"bad normalizer \(its 'method' entry is missing\)"):
        load_model(tmp_path / "m.json")
