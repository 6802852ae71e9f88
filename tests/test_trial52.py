"""Conventions and messages mended in stop 52: a column-vector y is flattened with scikit-learn's
DataConversionWarning, as LightGBM's LGBMRanker does, rather than refused; distributed training's refusals of a GPU
engine parameter and of a folder given as the shards say what to do instead."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.exceptions import DataConversionWarning

import ltr


def test_a_column_vector_y_trains_as_its_flat_labels_with_a_warning():
    d = ltr.make_ranking(30, 8, 4, random_state=0)
    params = dict(n_estimators=5, preset=None, random_state=0)
    flat = ltr.Ranker(**params).fit(d.X, d.y, group=np.diff(d.group_ptr))
    with pytest.warns(DataConversionWarning, match=r"column vector of shape \(\d+, 1\)"):
        column = ltr.Ranker(**params).fit(d.X, d.y.reshape(-1, 1), group=np.diff(d.group_ptr))
    np.testing.assert_array_equal(column.predict(d.X), flat.predict(d.X))


def test_a_two_column_y_is_still_refused():
    d = ltr.make_ranking(10, 5, 3, random_state=0)
    with pytest.raises(ValueError, match=r"y must have shape \(\d+,\) to match X, got \(\d+, 2\)"):
        ltr.Ranker(n_estimators=2).fit(d.X, np.c_[d.y, d.y], group=np.diff(d.group_ptr))


@pytest.mark.parametrize(("engine", "key", "value"), [("xgboost", "device", "cuda"), ("lightgbm", "device", "gpu"),
                                                     ("xgboost", "tree_method", "gpu_hist")])
def test_a_gpu_engine_parameter_under_dask_is_refused_without_pointing_at_device_gpu(engine, key, value, tmp_path,
                                                                                       capsys):
    """`--param device=cuda --dask ...` said "the device is chosen by --device gpu", which --dask refuses too."""
    from ltr import dask as ld
    from ltr.cli import main
    from ltr.exceptions import OptionError
    from ltr.io import write_letor

    ranker = ltr.Ranker(engine=engine, engine_params={key: value})
    with pytest.raises(OptionError, match=rf"engine_params: {key}='{value}': distributed training runs on the "
                                          r"workers' CPUs .*; leave it out"):
        ld.check_config(ranker)
    path = tmp_path / "train.txt"
    write_letor(path, ltr.make_ranking(4, 3, 2, random_state=0))
    assert main(["train", str(path), "--engine", engine, "--dask", "local:1", "--param", f"{key}={value}"]) == 2
    err = capsys.readouterr().err
    assert f"--param {key}={value}: distributed training runs on the workers' CPUs" in err
    assert "--device gpu" not in err and len(err.strip().splitlines()) == 1


def test_a_folder_as_the_dask_shards_says_to_give_a_glob(tmp_path, capsys):
    from ltr.cli import main

    (tmp_path / "shards").mkdir()
    assert main(["train", str(tmp_path / "shards"), "--dask", "local:1", "--rounds", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{tmp_path / 'shards'}: is a folder, not a shard file: give its shards as a glob, e.g. "
                        f"'{tmp_path / 'shards' / '*.txt'}'") and len(err.splitlines()) == 1


def test_a_script_that_starts_a_local_cluster_without_the_main_guard_is_told_so(tmp_path):
    """The message was cut at 240 characters, before Python's own hint of the guard, and said its prefix twice."""
    import subprocess
    import sys

    script = tmp_path / "noguard.py"
    script.write_text("import ltr.dask as ld\nwith ld.connect('local:1'):\n    pass\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1 and last == (
        "RuntimeError: the local Dask workers did not start: each worker process imports the script that starts "
        "them again, which started a cluster once more; start it under if __name__ == '__main__': (Python's "
        "multiprocessing rule)")


@pytest.mark.slow
def test_a_worker_the_nanny_restarts_writes_nothing_to_the_callers_output(tmp_path):
    """A worker restarted after a crash was spawned from the caller's process with its terminal: LightGBM's network
    lines reached the caller's standard output, and the worker's tracebacks as the cluster closed its error."""
    import subprocess
    import sys

    from ltr.io import write_letor

    for i in range(4):  # each shard its own query ids
        path = tmp_path / f"part-{i}.txt"
        write_letor(path, ltr.make_ranking(10, 6, 4, random_state=i))
        path.write_text(re.sub(r"qid:(\d+)", lambda m, i=i: f"qid:{int(m.group(1)) + 100 * i}", path.read_text()))
    script = tmp_path / "restart.py"
    script.write_text(
        "import os, signal, sys, time\nimport ltr, ltr.dask as ld\n"
        "if __name__ == '__main__':\n"
        "    with ld.connect('local:2') as c:\n"
        "        data = ld.read_letor_shards('part-*.txt', client=c)\n"
        "        victim = sorted(c.run(os.getpid).items())[-1][1]\n"
        "        os.kill(victim, signal.SIGKILL)\n"
        "        for _ in range(240):  # until the nanny's new worker is up\n"
        "            time.sleep(0.5)\n"
        "            pids = c.run(os.getpid)\n"
        "            if len(pids) == 2 and victim not in pids.values():\n"
        "                break\n"
        "        m = ld.fit(ltr.Ranker(engine='lightgbm', preset=None, n_estimators=3), data, engine='lightgbm')\n"
        "        sys.stderr.write(f'rounds {m.n_rounds_}')\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0 and done.stderr.strip().endswith("rounds 3"), done.stderr[-2000:]
    assert done.stdout == "" and "Traceback" not in done.stderr and "[LightGBM]" not in done.stderr


@pytest.mark.parametrize("command", [["compare", "-", "-"], ["cv", "-"], ["tune", "-", "--trials", "1"],
                                     ["export", "-", "--to", "solr", "--out", "x.json"], ["report", "-", "--out", "r"],
                                     ["predict", "-", "data.txt", "--out", "x"], ["info", "-"]])
def test_a_dash_for_an_input_says_that_standard_input_is_read_as_dev_stdin(command, tmp_path, monkeypatch, capsys):
    """Some commands said so; compare, cv, tune, export, report and predict's model said only 'no such file'."""
    from ltr.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(command) in (1, 2)
    err = capsys.readouterr().err.strip()
    assert err.endswith("(standard input is read as /dev/stdin)") and len(err.splitlines()) == 1, err


def test_report_reads_a_result_from_a_pipe(tmp_path):
    """read_result refused anything but a regular file: `ltr cv ... --out - | ltr report /dev/stdin` said the result
    file was not found."""
    import contextlib
    import os
    import threading

    from ltr.evaluation.results import read_result

    result = tmp_path / "cv.json"
    assert ltr.cli.main(["cv", _letor(tmp_path), "--folds", "3", "--rounds", "2", "--out", str(result)]) == 0
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    def write():
        with contextlib.suppress(OSError):
            fifo.write_bytes(result.read_bytes())

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        assert read_result(fifo) == read_result(result)
    finally:  # a reader that never opened the pipe leaves the writer waiting: open it, so that it ends
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        writer.join(30)
        os.close(reader)


def _letor(tmp_path) -> str:
    from ltr.io import write_letor

    path = tmp_path / "d.txt"
    write_letor(path, ltr.make_ranking(30, 6, 4, random_state=0))
    return str(path)


def _key(data, ranker):
    from ltr.tuning.nested import _study_key
    from ltr.tuning.space import load_space

    return _study_key(data, ranker, load_space(None, ranker), "ndcg@10", {}, 3, 2, 0)


def test_the_tuning_study_key_holds_the_row_weights():
    """A DATA.weight sidecar added beside the same data resumed the trials trained without weights."""
    import dataclasses

    d = ltr.make_ranking(12, 6, 4, random_state=0)
    ranker = ltr.Ranker()
    weighted = dataclasses.replace(d, weight=np.where(d.qid < 5, 5.0, 1.0))
    keys = {_key(d, ranker), _key(weighted, ranker), _key(dataclasses.replace(d, weight=np.ones(d.n_rows)), ranker)}
    assert len(keys) == 3


def test_the_tuning_study_key_holds_what_the_teacher_gives(tmp_path):
    """The key named a teacher file or model by its path: one rewritten in place resumed the old trials."""
    from ltr.rankers.teacher import TeacherModel

    d = ltr.make_ranking(12, 6, 4, random_state=0)
    scores = tmp_path / "teacher.txt"

    def student(teacher):
        return ltr.Ranker(objective="distill", kernel="numba", objective_params={"teacher": teacher})

    scores.write_text("".join(f"{v}\n" for v in d.X[:, 0]))
    first = _key(d, student({"scores": str(scores)}))
    scores.write_text("".join(f"{-v}\n" for v in d.X[:, 0]))
    assert _key(d, student({"scores": str(scores)})) != first
    assert _key(d, student(d.X[:, 0])) != _key(d, student(d.X[:, 1]))
    a, b = (ltr.Ranker(n_estimators=3, preset=None, random_state=s, colsample_bytree=0.5) for s in (0, 1))
    a.fit(d), b.fit(d)
    assert not np.array_equal(a.predict(d), b.predict(d))
    assert _key(d, student(TeacherModel(a, source="t.txt"))) != _key(d, student(TeacherModel(b, source="t.txt")))


def test_lightgbm_dart_trains_every_round_rather_than_keep_a_cut_model_never_scored():
    """A DART model cut at its best round is not the model scored then (later rounds rescale the trees they drop):
    the kept model scored 0.5232 where the log said 0.5336 (trial t52). LightGBM turns early stopping off in dart mode;
    so does the ranker, saying so, and the curve's last round is what predict gives."""
    from ltr.metrics import evaluate

    train, valid = ltr.make_ranking(60, 10, 6, random_state=0), ltr.make_ranking(30, 10, 6, random_state=1)
    ranker = ltr.Ranker(n_estimators=25, early_stopping_rounds=2, preset=None, engine_params={"boosting": "dart"})
    with pytest.warns(UserWarning, match=r"boosting=dart: early stopping is off, .* all 25 rounds train"):
        ranker.fit(train, eval_set=[valid])
    assert ranker.n_rounds_ == 25
    curve = next(iter(ranker.evals_result_.values()))["ndcg@10"]
    assert len(curve) == 25
    assert curve[-1] == pytest.approx(evaluate(valid.y, ranker.predict(valid), group_ptr=valid.group_ptr,
                                               metrics=["ndcg@10"])["ndcg@10"], abs=1e-12)


@pytest.mark.parametrize(("engine", "params", "said"), [
    ("lightgbm", {"boosting": "rf", "bagging_fraction": 0.5, "bagging_freq": 1}, r"random forests .* not supported"),
    ("lightgbm", {"boosting_type": "random_forest"}, r"random forests .* not supported"),
    ("xgboost", {"booster": "dart"}, r"DART boosters .* not trained by the toolkit"),
    ("xgboost", {"booster": "gblinear"}, r"linear boosters .* not supported"),
    ("lightgbm", {"early_stopping_rounds": 3}, r"LightGBM's own early stopping: .* early_stopping_rounds=; give that"),
    ("lightgbm", {"n_iter_no_change": 3}, r"LightGBM's own early stopping"),
])
def test_engine_modes_the_toolkit_cannot_read_back_or_record_are_refused_before_training(engine, params, said):
    """boosting=rf and booster=dart trained and saved over --out a model that predict, info and load_model refuse;
    LightGBM's own early stopping stopped on its first metric with its patience while the record named the ranker's."""
    from ltr.exceptions import ParameterValueError

    d = ltr.make_ranking(10, 5, 3, random_state=0)
    with pytest.raises(ParameterValueError, match=said):
        ltr.Ranker(engine=engine, n_estimators=2, engine_params=params).fit(d)


def test_lightgbm_early_stopping_parameter_is_refused_in_the_command_lines_words(tmp_path, capsys):
    from ltr.cli import main

    assert main(["train", _letor(tmp_path), "--param", "early_stopping_round=4", "--out",
                 str(tmp_path / "m.txt")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("--param early_stopping_round=4: LightGBM's own early stopping: the ranker stops on "
                        "ltr.metrics' early_stopping_metric, with --early-stopping-metric; give --early-stopping 4")
    assert not (tmp_path / "m.txt").exists()


@pytest.mark.parametrize("label", ["1e39", "-2e38", "1" + "0" * 39])
def test_a_label_beyond_what_the_engines_keep_is_refused_by_file_and_line(label, tmp_path):
    """A label of 1e39 trained LightGBM silently (inf split gains, leaves of 6e36) and failed XGBoost and the listnet
    kernel in their own words: the reader refuses it as it refuses inf."""
    from ltr.exceptions import LetorFormatError
    from ltr.io import read_letor

    path = tmp_path / "d.txt"
    path.write_text(f"0 qid:1 1:0.5\n{label} qid:1 1:0.2\n")
    with pytest.raises(LetorFormatError, match=rf"d\.txt:2: the label must be a number within \+-1e38 .*'{label}'"):
        read_letor(path)
    path.write_text("0 qid:1 1:0.5\n9.9e37 qid:1 1:0.2\n")
    assert read_letor(path).y[1] == 9.9e37


@pytest.mark.parametrize(("engine", "said"), [
    ("lightgbm", "a LightGBM model is written as LightGBM's text: name it .txt"),
    ("linear", "a linear model is written as JSON: name it .json")])
def test_a_ubj_model_name_is_refused_in_the_engines_words(engine, said, tmp_path, capsys):
    """--engine lightgbm --out m.ubj was told that models are written as XGBoost's JSON."""
    from ltr.cli import main

    assert main(["train", _letor(tmp_path), "--engine", engine, "--out", str(tmp_path / "m.ubj")]) == 2
    assert capsys.readouterr().err.strip().endswith(f"--out {tmp_path / 'm.ubj'}: {said}")


def test_cv_results_on_labels_moved_between_rows_are_refused_whatever_their_folds():
    """ADI's labels shuffled across rows keep the label totals: cross-validated over other folds (another split
    seed), the pair was compared, 'significantly worse' (p < 0.0001), with only the fold caveat (trial t52); with
    queries='intersection' nothing was compared at all."""
    import dataclasses
    import warnings

    from ltr._shared import tiny_ranker
    from ltr.evaluation import compare_cv, cross_validate
    from ltr.exceptions import ComparisonDataError

    d = ltr.make_ranking(30, (5, 8), 4, random_state=0)
    shuffled = dataclasses.replace(d, y=np.random.default_rng(0).permutation(d.y))

    def cv(data, seed, name, keep=None):
        if keep is not None:
            rows = np.isin(data.qid, keep)
            sizes = np.diff(data.group_ptr)[np.isin(np.unique(data.qid), keep)]
            data = dataclasses.replace(data, X=data.X[rows], y=data.y[rows], qid=data.qid[rows],
                                       group_ptr=np.r_[0, np.cumsum(sizes)])
        r = cross_validate(tiny_ranker(), data, n_splits=3, random_state=seed, progress=False, metrics=["ndcg@5"])
        r.name = name
        return r

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ComparisonDataError, match=r"tested on other labels: query \S+'s documents are judged "
                                                      r"otherwise in 'real' and 'shuffled'"):
            compare_cv([cv(d, 1, "real"), cv(shuffled, 0, "shuffled")])
        with pytest.raises(ComparisonDataError, match="judged otherwise"):
            compare_cv([cv(d, 1, "real"), cv(shuffled, 0, "shuffled", keep=np.unique(d.qid)[:20])],
                       queries="intersection")
        compare_cv([cv(d, 1, "real"), cv(d, 0, "again")])  # the same labels over other folds: compared
        # the same data with its rows in another order within each query, and read with document ids: compared
        # (the review of stop 52: both were said to be 'judged otherwise')
        order = np.concatenate([a + np.random.default_rng(a).permutation(b - a)
                                for a, b in zip(d.group_ptr[:-1], d.group_ptr[1:])])
        moved = dataclasses.replace(d, X=d.X[order], y=d.y[order], qid=d.qid[order])
        compare_cv([cv(d, 1, "real"), cv(moved, 0, "rows moved")])
        ids = dataclasses.replace(d, doc_ids=np.array([f"d{i}" for i in range(d.n_rows)], dtype=object))
        compare_cv([cv(d, 1, "real"), cv(ids, 0, "with ids")])
        relabelled = dataclasses.replace(ids, y=ids.y[order])  # with ids: labels moved between documents
        with pytest.raises(ComparisonDataError, match="judged otherwise"):
            compare_cv([cv(ids, 1, "ids"), cv(relabelled, 0, "relabelled")])


def test_lightgbms_weighted_ndcg_above_one_is_said_where_it_shows(tmp_path, capsys):
    """A constant weight of 0.2 printed ndcg@5 1.8803 (LightGBM's number: a query without relevant documents adds
    its 1 unweighted) with a note suggesting a weighted mean (trial t52)."""
    import dataclasses

    from ltr.cli import main
    from ltr.io import write_letor

    d = ltr.make_ranking(20, 6, 3, random_state=0)
    y = d.y.copy()
    y[d.group_ptr[0]:d.group_ptr[1]] = 0  # the first query: no relevant document
    path = tmp_path / "d.txt"
    write_letor(path, dataclasses.replace(d, y=y))
    (tmp_path / "s.txt").write_text("".join(f"{v}\n" for v in d.X[:, 0]))
    (tmp_path / "d.txt.weight").write_text("0.2\n" * d.n_rows)
    args = ["evaluate", str(path), "--scores", str(tmp_path / "s.txt"), "--convention", "lightgbm",
            "--metrics", "ndcg@5", "--format", "json"]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "LightGBM's ndcg adds 1 for each query without a relevant document (1 here) unweighted" in out.err
    (tmp_path / "d.txt.weight").write_text("1\n" * d.n_rows)
    assert main(args) == 0
    assert "unweighted" not in capsys.readouterr().err  # weights of 1: a weighted mean, nothing to say


def test_a_query_id_the_readers_take_for_a_comment_is_not_written(tmp_path):
    """write_qrels and write_run wrote '#2 ...' lines, which read_qrels/read_run (and trec_eval 10) skip: the
    query's judgments and ranking were lost without a word (trial t52)."""
    import pandas as pd

    from ltr.io import write_qrels, write_run

    qrels = pd.DataFrame({"qid": ["1", "#2"], "docno": ["a", "c"], "rel": [1, 2]})
    with pytest.raises(ValueError, match=r"qrels column 'qid', row 1: '#2' starts with '#', which TREC readers"):
        write_qrels(tmp_path / "q.qrels", qrels)
    run = pd.DataFrame({"qid": ["1", "#2"], "docno": ["a", "c"], "rank": [1, 1], "score": [1.0, 1.0]})
    with pytest.raises(ValueError, match=r"run row 1: query id '#2' starts with '#'"):
        write_run(tmp_path / "r.run", run)
    assert not (tmp_path / "q.qrels").exists() and not (tmp_path / "r.run").exists()
    write_qrels(tmp_path / "q.qrels", qrels.assign(docno=["a", "#c"], qid=["1", "2"]))  # a '#' docno reads back


def test_write_letor_refuses_a_label_the_reader_would_refuse(tmp_path):
    import dataclasses

    from ltr.io import write_letor

    d = ltr.make_ranking(2, 3, 2, random_state=0)
    path = tmp_path / "d.txt"
    path.write_text("earlier\n")
    with pytest.raises(ValueError, match=r"labels must be within \+-1e38 .* row 1 is 1e\+39"):
        write_letor(path, dataclasses.replace(d, y=np.r_[0.0, 1e39, d.y[2:]]))
    assert path.read_text() == "earlier\n"


def test_rerank_help_says_its_own_defaults_and_options(capsys):
    """ltr rerank --help said --topic-fields defaults to title (it is the model's recorded fields, which a given
    title contradicts) and named a --qrels that rerank lacks (trial t52)."""
    from ltr.cli import main

    assert main(["rerank", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "and --qrels name others" not in text and "unless --queries names others" in text
    assert "(default: the fields the model's features were extracted with, recorded in its sidecar" in text
    assert main(["features", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "narr (default: a TREC topic's title; a query file of plain queries, such as BEIR's queries.jsonl, gives " \
           "its own text)" in text and "unless --queries and --qrels name others" in text


def test_run_problems_quote_ids_whose_characters_do_not_show():
    """'51' + U+200B was said as 51, a document the collection has (trial t52)."""
    from features.serve import RunReport

    report = RunReport(n_queries=1, n_rows=2, unknown_doc_rows=2, n_unknown_docs=2, unknown_docs=("51\u200b", "51é"),
                       unknown_query_rows=1, n_unknown_queries=1, unknown_queries=("q 1",))
    said = " ".join(report.problems())
    assert "(first: '51\\u200b', 51é)" in said and "(first: 'q 1')" in said


def test_the_analysis_note_names_every_setting_that_changes_the_terms():
    """The note left out --unicode NFKC and the length limits: an engine analyzer built from it gave other BM25
    values on ligatures and full-width letters (trial t52)."""
    from features import Analyzer
    from ltr.export.featureset import _analysis_words

    said = _analysis_words(Analyzer(normalize="NFKC", min_length=2, max_length=20, max_digits=4, max_repeat=3,
                                    keep_marks=False, split_cjk=False, min_stem_length=1).to_dict())
    assert said == ("NFKC-normalised, tokens \\w+, lowercased, tokens under 2 characters dropped, tokens over 20 "
                    "characters dropped, tokens of more than 4 digits dropped, tokens repeating a character more "
                    "than 3 times in a row dropped, lucene stop words (33), porter stemming")


def test_a_subset_models_ranklib_numbering_is_said_under_quiet_too(tmp_path, capsys):
    """--quiet dropped the one note that says es-ranklib's ids are positions in the model's own features: created on
    the training file's set, the model scores wrong (3059 of 3159 rows, trial t52)."""
    from ltr.cli import main

    data, model = _letor(tmp_path), str(tmp_path / "m.txt")
    assert main(["train", data, "--features", "2,4", "--rounds", "3", "--preset", "none", "--quiet", "--out",
                 model]) == 0
    capsys.readouterr()
    assert main(["export", model, "--to", "es-ranklib", "--out", str(tmp_path / "m.ranklib"), "--quiet"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ltr export: warning: es-ranklib: RankLib's feature ids are positions")
    assert main(["export", model, "--to", "es-ranklib", "--out", str(tmp_path / "m2.ranklib"), "--feature-set-out",
                 str(tmp_path / "fs.json"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""  # created on the set written beside it: numbered right


def test_experiment_messages_say_what_the_command_offers(tmp_path, capsys):
    """ltr tune --early-stopping pointed at a --valid tune lacks; ltr report of fuse's --report file said 'not an
    ltrkit result'; an empty run in compare had 'no query in common with the qrels'; fuse took one run twice
    without a word."""
    import json

    from ltr.cli import main

    data = _letor(tmp_path)
    assert main(["tune", data, "--early-stopping", "10", "--trials", "1"]) == 2
    assert "(ltr tune cuts no validation part from its folds" in capsys.readouterr().err
    report = tmp_path / "fw.json"
    report.write_text(json.dumps({"method": "wsum", "norm": "minmax", "metric": "ndcg@10", "search": "grid",
                                  "folds": []}))
    assert main(["report", str(report), "--out", str(tmp_path / "r")]) == 1
    assert "ltr fuse --report's record of the weights it fitted, not a result" in capsys.readouterr().err
    (tmp_path / "one.run").write_text("1 Q0 d1 1 1.0 x\n")
    (tmp_path / "empty.run").write_text("")
    (tmp_path / "q.qrels").write_text("1 0 d1 1\n")
    assert main(["compare", str(tmp_path / "one.run"), str(tmp_path / "empty.run"), "--qrels",
                 str(tmp_path / "q.qrels")]) == 1
    assert f"run 'empty' ({tmp_path / 'empty.run'}) has no lines" in capsys.readouterr().err
    assert main(["fuse", str(tmp_path / "one.run"), str(tmp_path / "one.run"), "--out", str(tmp_path / "f.run")]) == 0
    assert "warning: the run" in capsys.readouterr().err


def test_a_system_name_holding_html_is_text_in_the_report():
    import pandas as pd

    from ltr.evaluation import compare
    from ltr.evaluation.report import render_html, render_markdown

    per_query = {"<b>x</b>": {"ndcg@10": [0.1, 0.2, 0.3]}, "base": {"ndcg@10": [0.3, 0.2, 0.1]}}
    frames = {n: pd.DataFrame(v, index=["1", "2", "3"]) for n, v in per_query.items()}
    d = compare(frames, "base", metrics=["ndcg@10"]).to_dict()
    page = render_html(d, [])
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page and "<b>" in page  # the best value still bold
    md = render_markdown(d, [], "figures")  # entities, as CommonMark and Python-Markdown read them (t63)
    assert "&lt;b&gt;x&lt;/b&gt;" in md and "<b>x</b>" not in md


def test_ir_measures_setr_is_recall_over_the_whole_list():
    from ltr.metrics import evaluate, parse_metric

    y, s = [2, 0, 1, 1, 0, 1], [0.3, 0.2, 0.1, 0.5, 0.9, 0.0]
    assert parse_metric("SetR").name == parse_metric("set_recall").name
    assert evaluate(y, s, group=[3, 3], metrics=["SetR"]) == evaluate(y, s, group=[3, 3], metrics=["recall"])
    with pytest.raises(ValueError, match="takes no cutoff"):
        evaluate(y, s, group=[3, 3], metrics=["SetR@5"])


def test_letor_per_query_trec_lines_come_in_trec_evals_order(tmp_path, capsys):
    """The LETOR path printed queries 9 then 10 (file order), where trec_eval and the run path print 10 then 9."""
    from ltr.cli import main

    (tmp_path / "o.txt").write_text("1 qid:9 1:1\n0 qid:9 1:0\n1 qid:10 1:0\n0 qid:10 1:1\n2 qid:2 1:1\n")
    (tmp_path / "o.s").write_text("1\n0\n0\n1\n1\n")
    assert main(["evaluate", str(tmp_path / "o.txt"), "--scores", str(tmp_path / "o.s"), "--format", "trec", "-q",
                 "--metrics", "map"]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [(q, v) for _, q, v in lines] == [("10", "0.5000"), ("2", "1.0000"), ("9", "1.0000"), ("all", "0.8333")]


#: A Cranfield folder of three queries (.I 001, 002, 004: positions 1, 2, 3), each judged by cranqrel.
_CRAN = {"cran.all.1400": ".I 1\n.T\nwing flutter\n.W\nflutter of a wing\n.I 2\n.T\nheat\n.W\nheat transfer in wings\n"
                          ".I 3\n.T\nflow\n.W\nsupersonic flow\n",
         "cran.qry": ".I 001\n.W\nwing flutter\n.I 002\n.W\nheat\n.I 004\n.W\nsupersonic flow\n",
         "cranqrel": "1 1 1\n2 2 1\n3 3 1\n"}


def test_a_part_of_cranfields_queries_is_numbered_as_cranqrel_numbers_them(tmp_path, text_folder):
    """A --queries file of some of cran.qry's queries was numbered by its own positions: the last 50 queries took
    queries 1..50's judgments (BM25 MAP 0.0006 for 0.2879, trial t52)."""
    from features.pipeline import load_inputs

    coll = text_folder("cran", _CRAN)
    (tmp_path / "part.qry").write_text(".I 004\n.W\nsupersonic flow\n.I 002\n.W\nheat\n")
    got = load_inputs(coll, queries=tmp_path / "part.qry")
    assert dict(got.queries.items()) == {"3": "supersonic flow", "2": "heat"}
    assert dict(load_inputs(coll, queries=tmp_path / "part.qry", query_ids="position").queries.items()) == {
        "1": "supersonic flow", "2": "heat"}  # asked for: as given


def test_a_query_record_without_a_field_keeps_the_later_queries_positions(tmp_path, caplog):
    """.I 002 with no .W line was dropped at debug level, and every later query took the next one's judgments."""
    import logging

    from features.collections.smart import read_smart_queries

    path = tmp_path / "q.qry"
    path.write_text(".I 001\n.W\nwing flutter\n.I 002\n.I 004\n.W\nsupersonic flow\n.I 0\n")
    with caplog.at_level(logging.WARNING):
        assert read_smart_queries(path, ids="position").qids == ("1", "3")
    said = [r.getMessage() for r in caplog.records]
    assert said == [f"{path}:4: query record .I 2 has no field (no .T or .W line): left out (the later queries keep "
                    "their positions)"]
    assert read_smart_queries(path).qids == ("1", "4")


def _tsv_collection(tmp_path, *extra: str) -> None:
    """ltr features over a 24-document TSV collection with 8 string query ids (PLAIN-0 ..), into d.letor."""
    from ltr.cli import main

    words = ["wing", "flutter", "heat", "flow", "shock", "boundary", "layer", "panel"]
    docs = [f"d{i}\t{' '.join(words[(i + j) % 8] for j in range(3 + i % 4))}" for i in range(24)]
    (tmp_path / "docs.tsv").write_text("\n".join(docs) + "\n")
    (tmp_path / "q.tsv").write_text("".join(f"PLAIN-{i}\t{words[i]} {words[(i + 3) % 8]}\n" for i in range(8)))
    (tmp_path / "q.qrels").write_text("".join(f"PLAIN-{i} 0 d{(i * 5 + j) % 24} {1 + j % 2}\n" for i in range(8)
                                              for j in range(3)))
    assert main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                 "--qrels", str(tmp_path / "q.qrels"), "--topk", "6", "--out", str(tmp_path / "d.letor"),
                 "--quiet", *extra]) == 0


def test_tune_keeps_the_query_id_map_as_cv_does(tmp_path):
    """ltr tune's result held LETOR query ids without the map ltr features wrote: ltr compare BM25.run tune.json
    --qrels had no query in common with the qrels on NFCorpus (its ids are strings), where cv.json compared."""
    import json

    from ltr.cli import main

    _tsv_collection(tmp_path)
    assert (tmp_path / "d.letor.qids.tsv").exists()
    assert main(["tune", str(tmp_path / "d.letor"), "--trials", "1", "--outer-folds", "2", "--inner-folds", "2",
                 "--rounds", "3", "--out", str(tmp_path / "t.json"), "--quiet"]) == 0
    qid_map = json.loads((tmp_path / "t.json").read_text())["systems"][0]["settings"].get("qid_map")
    assert qid_map is not None and set(qid_map.values()) <= {f"PLAIN-{i}" for i in range(8)}


def test_data_made_with_add_judged_is_said_to_cv_tune_and_compare(tmp_path, capsys):
    """ltr features --add-judged, then ltr cv and ltr compare: the model learnt the judgments from first_stage_rank
    K+1 (Cranfield MAP 0.3064 -> 0.6119, 'significant'), and nothing said so (trial t52)."""
    from ltr.cli import main

    _tsv_collection(tmp_path, "--add-judged", "--save-run", str(tmp_path / "bm25.run"))
    capsys.readouterr()
    assert main(["cv", str(tmp_path / "d.letor"), "--folds", "2", "--rounds", "3", "--out", str(tmp_path / "cv.json"),
                 "--quiet"]) == 0
    assert "ltr cv: warning: the data was made with ltr features --add-judged" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "bm25.run"), str(tmp_path / "cv.json"), "--qrels",
                 str(tmp_path / "q.qrels")]) == 0
    said = capsys.readouterr().err
    assert "ltr compare: warning: 'lambdarank': the data was made with ltr features --add-judged" in said
    _tsv_collection(tmp_path)  # without it: nothing said
    capsys.readouterr()
    assert main(["cv", str(tmp_path / "d.letor"), "--folds", "2", "--rounds", "3", "--quiet"]) == 0
    assert "--add-judged" not in capsys.readouterr().err


def test_ltr_trees_load_says_what_a_toolkit_models_sidecar_applies(tmp_path):
    """ltr.trees.load("model.txt").predict(X), as the README shows, scored raw features for a model trained with
    --normalize zscore (155 of 156 MQ2008 queries ordered otherwise than ltr predict), unsaid (trial t52)."""
    import warnings

    import ltr.trees
    from ltr.cli import main

    data = _letor(tmp_path)
    for name, extra, said in (("z", ["--normalize", "zscore"], "a normaliser of the features (--normalize)"),
                              ("f", ["--features", "1,3"], "a subset of the data's columns (ids 1, 3)"),
                              ("p", [], None)):
        model = tmp_path / f"{name}.txt"
        assert main(["train", data, "--rounds", "4", "--preset", "none", "--quiet", "--format", "json", "--out",
                     str(model), *extra]) == 0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ltr.trees.load(model)
        messages = [str(w.message) for w in caught]
        if said is None:
            assert messages == []
        else:
            assert messages == [f"{model}: its ltrkit sidecar records {said}, which the trees alone do not apply; "
                                f"ltr.load_model({str(model)!r}).predict(X) does"]


def test_refusals_of_the_wrong_input_say_the_fix_that_scores_right(tmp_path):
    """A --features model given the file's full width was told to read it with n_features=4 (which fails again and
    would pick other columns); a sparse X for an XGBoost model was told X.toarray(), whose zeros XGBoost scores
    otherwise than its absent entries (trial t52)."""
    import scipy.sparse as sp

    import ltr.trees
    from ltr.cli import main
    from ltr.io import read_letor

    data, model = _letor(tmp_path), tmp_path / "m.txt"
    assert main(["train", data, "--features", "1,3", "--rounds", "3", "--quiet", "--format", "json", "--out",
                 str(model)]) == 0
    d = read_letor(data)
    loaded = ltr.load_model(model)  # the file's full width: the model's own columns scored (t54), no more refused
    np.testing.assert_array_equal(loaded.predict(d.X, group=np.diff(d.group_ptr)),
                                  loaded.predict(np.asarray(d.X)[:, [0, 2]], group=np.diff(d.group_ptr)))
    r = ltr.Ranker(engine="xgboost", n_estimators=2, preset=None).fit(d)
    with pytest.raises(TypeError, match="pass a dense array with NaN for the absent entries, as XGBoost reads them"):
        ltr.trees.from_booster(r).predict(sp.csr_matrix(d.X))


def test_from_booster_says_an_xgboost_estimators_own_missing_value():
    """XGBRanker(missing=0) reads 0 as missing; the trees read it as a value: 4 of 6 rows differed, unsaid."""
    import xgboost as xgb

    import ltr.trees

    rng = np.random.default_rng(0)
    X, y, qid = rng.random((20, 3)), rng.integers(0, 2, 20), np.repeat([0, 1], 10)
    with pytest.warns(UserWarning, match=r"the estimator reads X == 0\.0 as missing .* replaced by NaN"):
        ensemble = ltr.trees.from_booster(xgb.XGBRanker(n_estimators=2, missing=0.0).fit(X, y, qid=qid))
    X[X < 0.3] = 0.0
    est = xgb.XGBRanker(n_estimators=2, missing=0.0).fit(X, y, qid=qid)
    with pytest.warns(UserWarning):
        ensemble = ltr.trees.from_booster(est)
    np.testing.assert_allclose(ensemble.predict(np.where(X == 0.0, np.nan, X)), est.predict(X, output_margin=True),
                               rtol=1e-6)


def test_query_options_without_a_query_file_say_the_folders_own_is_read_by_its_layout(tmp_path, capsys,
                                                                                     text_folder):
    from ltr.cli import main

    coll = text_folder("cran", _CRAN)
    assert main(["features", "--collection", str(coll), "--query-ids", "position", "--out",
                 str(tmp_path / "x.letor")]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "--query-ids position applies to a query file given apart (--queries), and none was (the collection "
        "folder's own is numbered as its judgments number it)")


def test_a_second_docno_in_one_trec_document_is_refused_by_line(tmp_path):
    """A <DOC> with two <DOCNO> tags took the first as its id and the second's id as text of its body, silently."""
    from features.collections import load_documents
    from features.errors import CollectionFormatError

    path = tmp_path / "two.trec"
    path.write_text("<DOC>\n<DOCNO>d1</DOCNO>\nwing\n<DOCNO>d9</DOCNO>\nflutter\n</DOC>\n<DOC>\n<DOCNO>d2</DOCNO>\n"
                    "heat\n</DOC>\n")
    with pytest.raises(CollectionFormatError, match=r"two\.trec:4: a second <DOCNO> in the document 'd1' \(two "
                                                    r"documents run together\?\) \(token '<DOCNO>d9</DOCNO>'\)"):
        load_documents(path, "trec")
