"""Trial t67's findings (Python API): a saved CV result with ``no_relevant=nan`` reloads with its NaNs, bad
``eval_params`` values are refused at fit, ``no_relevant`` outside 0..1 is refused, and a path of the wrong type is
named."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest

import ltr
import ltr.io
import ltr.trees
from ltr import Ranker, make_ranking
from ltr.evaluation import compare_cv, cross_validate, read_result
from ltr.evaluation.results import CVResult
from ltr.metrics import evaluate

FAST = dict(n_estimators=3, preset=None, n_jobs=1, min_child_samples=2)


def _some_without_a_relevant_document():
    d = make_ranking(12, (6, 9), 4, random_state=1)
    y = d.y.copy()
    y[d.group_ptr[0]:d.group_ptr[1]] = 0  # query 1 and 2 have no relevant document: nan under no_relevant=nan
    y[d.group_ptr[1]:d.group_ptr[2]] = 0
    return dataclasses.replace(d, y=y)


def test_a_cv_result_with_no_relevant_nan_reloads_with_its_nans_and_compares_with_a_fresh_one(tmp_path):
    data = _some_without_a_relevant_document()
    kw = dict(n_splits=3, metrics=["ndcg@10", "map"], no_relevant=math.nan, progress=False)
    a = cross_validate(Ranker(**FAST), data, name="a", **kw)
    b = cross_validate(Ranker(**{**FAST, "n_estimators": 5}), data, name="b", **kw)
    b.save(tmp_path / "b.json")
    back = CVResult.from_dict(read_result(tmp_path / "b.json"))
    assert math.isnan(back.settings["metric_conventions"]["no_relevant"])
    for before, after in zip(b.folds, back.folds):
        for m in ("ndcg@10", "map"):
            np.testing.assert_array_equal(np.asarray(after.per_query[m], dtype=float), before.per_query[m])
    assert sum(np.isnan(f.per_query["map"]).sum() for f in back.folds) == 2  # (the two queries, left out)
    assert np.nanmean(back.folds[0].per_query["map"]) == np.nanmean(b.folds[0].per_query["map"])
    fresh, reloaded = compare_cv([a, b]), compare_cv([a, back])
    assert fresh.rows == reloaded.rows


@pytest.mark.parametrize("params, said", [
    ({"gain": "lin"}, "eval_params: gain must be one of ['exp2', 'linear'], got 'lin'"),
    ({"no_relevant": "x"}, "eval_params: no_relevant must be a number, got 'x'"),
    ({"ties": "random"}, "eval_params: ties must be one of ['optimistic', 'pessimistic', 'stable'], got 'random'"),
    ({"no_relevant": math.inf}, "eval_params['no_relevant'] must be a metric's score, from 0 to 1 (0 as trec_eval, "
                                "1 as LightGBM), or nan to leave such queries out, got inf"),
    ({"no_relevant": 5.0}, "eval_params['no_relevant'] must be a metric's score, from 0 to 1 (0 as trec_eval, 1 as "
                           "LightGBM), or nan to leave such queries out, got 5.0"),
])
def test_bad_eval_params_values_are_refused_at_fit_before_a_model_is_saved(tmp_path, params, said):
    d = make_ranking(8, 10, 3, random_state=0)
    with pytest.raises(ValueError) as e:
        Ranker(**FAST, eval_params=params).fit(d)
    assert str(e.value) == said
    Ranker(**FAST, eval_params={"no_relevant": math.nan, "gain": "linear"}).fit(d).save(tmp_path / "m.txt")


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_an_infinite_no_relevant_is_refused_by_the_metrics(value):
    with pytest.raises(ValueError, match=r"^no_relevant must be a finite number \(0 as trec_eval, 1 as LightGBM\), "
                                         r"or nan to leave such queries out, got -?inf$"):
        evaluate([0.0, 0.0, 1.0, 0.0], [0.1, 0.2, 0.3, 0.1], group_ptr=[0, 2, 4], metrics=["ndcg@10"],
                 no_relevant=value)
    for ok, mean in ((0.0, 0.5), (1.0, 1.0), (-1.0, 0.0), (math.nan, 1.0)):  # (a sentinel such as -1 still goes)
        got = evaluate([0.0, 0.0, 1.0, 0.0], [0.1, 0.2, 0.3, 0.1], group_ptr=[0, 2, 4], metrics=["ndcg@10"],
                       no_relevant=ok)
        assert got == {"ndcg@10": mean}


@pytest.mark.parametrize("call", [
    lambda: ltr.load_model(3),
    lambda: Ranker(**FAST).fit(make_ranking(8, 10, 3, random_state=0)).save(3),
    lambda: ltr.io.read_letor(3),
    lambda: ltr.io.read_run(3),
    lambda: ltr.io.read_scores(3),
    lambda: ltr.trees.load(3),
], ids=["load_model", "save", "read_letor", "read_run", "read_scores", "trees.load"])
def test_a_path_of_the_wrong_type_is_named(call):
    with pytest.raises(TypeError) as e:
        call()
    assert str(e.value) == "path must be a file's path (str or os.PathLike), got int 3"


@pytest.mark.parametrize("command", ["features", "rerank"])
def test_query_format_csv_is_not_offered_where_queries_are_never_read_as_csv(command, capsys):
    from ltr.cli import main

    assert main([command, "--query-format", "csv"]) == 2
    assert ("argument --query-format: invalid choice: 'csv' (choose from 'auto', 'smart', 'trec', 'beir', 'tsv', "
            "'npl')") in capsys.readouterr().err


def test_one_file_given_for_two_outputs_is_said_by_their_options(tmp_path, capsys):
    from ltr.cli import main

    data = tmp_path / "d.txt"
    ltr.io.write_letor(data, make_ranking(6, 5, 3, random_state=0))
    out = tmp_path / "same.x"
    assert main(["cv", str(data), "--folds", "2", "--out", str(out), "--run-out", str(tmp_path / "." / "same.x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"ltr cv: error: {tmp_path / '.' / 'same.x'}: given for two outputs (--out {out} and --run-out "
                   f"{tmp_path / '.' / 'same.x'}): give each its own name")


def test_systems_that_share_no_query_are_said_to_be_of_different_data():
    import pandas as pd

    from ltr.evaluation import compare
    from ltr.exceptions import ComparisonDataError

    a = pd.DataFrame({"ndcg@10": [0.1, 0.5, 0.3]}, index=["1", "2", "3"])
    b = pd.DataFrame({"ndcg@10": [0.2, 0.4]}, index=["7", "8"])
    for queries in ("same", "intersection"):
        with pytest.raises(ComparisonDataError) as e:
            compare({"a": a, "b": b}, "a", queries=queries)
        assert str(e.value) == ("the systems share no query ('a' 3, 'b' 2): they were evaluated on different data, "
                                "which a paired comparison cannot pair; compare systems evaluated on the same queries")


def test_ltr_data_verify_says_its_error_after_the_report_through_a_pipe(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "ltr", "data", "verify", "mq2008", str(tmp_path)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 1
    assert lines[0].startswith(f"mq2008 in {tmp_path}: NOT OK")
    assert lines[-1] == f"ltr data verify: {tmp_path} holds none of mq2008's files (see above)"


def test_a_feature_range_is_its_ids_unless_a_feature_is_so_named(tmp_path, capsys):
    from ltr.cli import main
    from ltr.evaluation.selection import resolve_features

    assert resolve_features(["2-4", "6"], 6).tolist() == [1, 2, 3, 5]
    assert resolve_features(["-2-3"], 4).tolist() == [0, 3]  # a range dropped
    assert resolve_features(["1-3"], 3, ["a", "1-3", "b"]).tolist() == [1]  # a name first
    with pytest.raises(ValueError, match=r"^feature range '4-2' runs backwards: write 2-4$"):
        resolve_features(["4-2"], 6)
    with pytest.raises(ValueError, match=r"^feature range '5-9': feature id 7 is outside 1\.\.6 "):
        resolve_features(["5-9"], 6)
    data = tmp_path / "d.txt"
    ltr.io.write_letor(data, make_ranking(20, 8, 6, random_state=0))
    fast = ["--rounds", "3", "--preset", "none", "--min-child-samples", "3", "--n-jobs", "1", "--quiet"]
    for name, spec in (("range.txt", "2-4,6"), ("list.txt", "2,3,4,6")):
        assert main(["train", str(data), "--features", spec, "--out", str(tmp_path / name), *fast]) == 0
    assert (tmp_path / "range.txt").read_text() == (tmp_path / "list.txt").read_text()


@pytest.mark.parametrize("edit", [('"learner":{', '"learner":{}, "learner":{'),
                                  ('"name":"gbtree"', '"name":"gbtree","name":"dart"')])
def test_an_xgboost_json_key_given_twice_is_said_so(edit):
    import xgboost as xgb

    from ltr.exceptions import ModelFormatError

    rng = np.random.default_rng(0)
    raw = xgb.train({"max_depth": 2, "nthread": 1}, xgb.DMatrix(rng.random((50, 3)), rng.random(50)), 2) \
        .save_raw("json").decode()
    assert edit[0] in raw
    key = edit[0].split('"')[1]
    with pytest.raises(ModelFormatError) as e:
        ltr.trees.from_xgboost_json(raw.replace(*edit, 1), source="m.json")
    assert str(e.value) == (f"m.json: key '{key}' is given twice in one JSON object: which one the model holds is "
                            "not known")


def test_a_score_file_without_the_topics_leading_zeros_is_refused_not_filled(tmp_path, capsys):
    from ltr.cli import main

    (tmp_path / "docs.tsv").write_text("d1\tdense retrieval\nd2\tsparse retrieval\nd3\tretrieval of words\n")
    (tmp_path / "q.tsv").write_text("001\tretrieval\n002\tsparse words\n")
    (tmp_path / "qrels").write_text("001 0 d1 1\n002 0 d2 1\n")
    (tmp_path / "s.tsv").write_text("".join(f"{q}\t{d}\t0.{i}\n" for q in (1, 2) for i, d in enumerate(["d1", "d2",
                                                                                                       "d3"], 1)))
    (tmp_path / "fs.toml").write_text(f'[[features]]\nscorer = "neural_file"\npath = "{tmp_path / "s.tsv"}"\n'
                                      'name = "nf"\n')
    code = main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                 "--qrels", str(tmp_path / "qrels"), "--topk", "3", "--features", str(tmp_path / "fs.toml"),
                 "--out", str(tmp_path / "x.letor"), "--quiet"])
    assert code == 1 and not (tmp_path / "x.letor").exists()
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "s.tsv: none of its 6 scores matches one of the 5 candidates: its query ids are the topics' without their "
        "leading zeros ('1' for '001'); ids are compared as strings, exactly as the topics and the collection spell "
        "them")


@pytest.mark.parametrize("line, empty", [("1\t\t0.5", "document id"), ("1\td1\t", "score"), (" \td1\t0.5", "query id")])
def test_a_score_line_with_an_empty_field_says_which(tmp_path, line, empty):
    from features.errors import CollectionFormatError
    from features.scorers.neural.file import read_score_table

    path = tmp_path / "s.tsv"
    path.write_text(f"1\td0\t0.1\n{line}\n")
    with pytest.raises(CollectionFormatError) as e:
        read_score_table(path, "tsv")
    assert str(e.value) == f"{path}:2: expected qid<TAB>docid<TAB>score, and the {empty} is empty (token {line!r})"


def test_a_one_based_file_read_zero_based_for_a_zero_based_model_is_warned_of(tmp_path, capsys):
    from sklearn.datasets import dump_svmlight_file

    from ltr.cli import main

    d = make_ranking(20, 8, 5, random_state=0)
    X = np.array(d.X, dtype=np.float64) + 1.0  # no zero value: every id on every line
    y, qid = np.array(d.y), np.repeat(np.arange(1, 21), np.diff(d.group_ptr))
    dump_svmlight_file(X, y, str(tmp_path / "zb.txt"), query_id=qid, zero_based=True)
    dump_svmlight_file(X[:, :4], y, str(tmp_path / "one.txt"), query_id=qid, zero_based=False)  # ids 1..4 of 5
    assert main(["train", str(tmp_path / "zb.txt"), "--zero-based", "--rounds", "3", "--preset", "none",
                 "--min-child-samples", "3", "--n-jobs", "1", "--out", str(tmp_path / "m.txt"), "--quiet"]) == 0
    capsys.readouterr()
    said = "is read zero-based, as the model's training data was, and no row sets feature id 0"
    for name, told, warned in (("one.txt", [], True), ("zb.txt", [], False), ("one.txt", ["--zero-based"], False)):
        assert main(["predict", str(tmp_path / "m.txt"), str(tmp_path / name), *told, "--out",
                     str(tmp_path / "s.txt"), "--quiet"]) == 0
        assert (said in capsys.readouterr().err) is warned, (name, told)
    dump_svmlight_file(X, y, str(tmp_path / "wide.txt"), query_id=qid, zero_based=False)  # ids 1..5: 6 columns
    assert main(["predict", str(tmp_path / "m.txt"), str(tmp_path / "wide.txt"), "--out", str(tmp_path / "s.txt"),
                 "--quiet"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"ltr predict: error: {tmp_path / 'wide.txt'}, read zero-based, has feature ids up to 5 (6 columns), the "
        f"model {tmp_path / 'm.txt'} 5 columns: not the features it was trained on")


def test_a_registered_set_row_cut_short_inside_its_line_is_warned_of_by_load(shared_file, tmp_path, caplog):
    import gzip
    import logging

    from ltr.datasets import load
    from ltr.io.letor import read_letor

    text = gzip.decompress(shared_file("mq2008/Fold1/vali.txt.gz").read_bytes()).decode()
    folder = tmp_path / "MQ2008" / "Fold1"
    folder.mkdir(parents=True)
    (folder / "test.txt").write_text(text)
    cut = text.rstrip("\n")
    (folder / "vali.txt").write_text(cut[:cut.rfind(" 30:")] + "\n")  # the last row lacks features 30..46
    with caplog.at_level(logging.WARNING):
        whole = load("mq2008", tmp_path, fold=1, split="test")
    assert "lack features" not in caplog.text
    with caplog.at_level(logging.WARNING):
        d = load("mq2008", tmp_path, fold=1, split="vali")
    assert (f"vali.txt: 1 row(s) lack features, where every row of mq2008 lists all 46 (the first: row 2707, query "
            f"{d.qid[-1]}, lacks 17), read as 0: a copy cut short inside a line?") in caplog.text
    plain = read_letor(folder / "vali.txt")  # what load read before: the same values, now said
    np.testing.assert_array_equal(d.X, plain.X)
    np.testing.assert_array_equal(whole.X, read_letor(folder / "test.txt").X)


def test_load_of_another_sets_file_asks_whether_it_is_the_sets_not_for_a_wider_width(tmp_path):
    from ltr.datasets import load
    from ltr.exceptions import LetorFormatError

    folder = tmp_path / "MQ2007" / "Fold1"
    folder.mkdir(parents=True)
    (folder / "train.txt").write_text("".join(f"{i % 3} qid:{i // 4 + 1} " + " ".join(f"{j}:0.5" for j in range(1, 61))
                                              + "\n" for i in range(12)))  # 60 features (MSLR's file?), not 46
    with pytest.raises(LetorFormatError) as e:
        load("mq2007", tmp_path)
    said = str(e.value)
    assert said.startswith(f"{folder / 'train.txt'}:1: feature id above 46 (token '47:")
    assert said.endswith(f"; mq2007 has 46 features: is {folder / 'train.txt'} mq2007's file? (a file of another "
                         "width is read by ltr.io.read_letor)")
    assert "n_features=" not in said


@pytest.mark.parametrize("text, said", [("garbage{\n", "not a JSON file (Expecting value: line 1 column 1 (char 0))"),
                                        ("[1, 2]\n", "JSON of a list, not an object")])
def test_ltr_compare_of_a_json_file_that_is_no_object_says_so_not_run_columns(tmp_path, capsys, text, said):
    from ltr.cli import main

    run = tmp_path / "a.run"
    run.write_text("1 Q0 d1 1 2.0 x\n1 Q0 d2 2 1.0 x\n")
    (tmp_path / "b.json").write_text(text)
    assert main(["compare", str(run), str(tmp_path / "b.json"), "--qrels", str(run)]) != 0
    assert capsys.readouterr().err.strip() == (f"ltr compare: error: {tmp_path / 'b.json'}: {said}, not a result of "
                                               "ltr cv --out; compare takes TREC runs and cv results")


def test_a_row_cut_short_is_warned_of_by_the_command_line_with_dataset(shared_file, tmp_path, caplog):
    import gzip
    import logging

    from ltr.cli import main

    text = gzip.decompress(shared_file("mq2008/Fold1/vali.txt.gz").read_bytes()).decode().rstrip("\n")
    (tmp_path / "cut.txt").write_text(text[:text.rfind(" 30:")] + "\n")
    (tmp_path / "whole.txt").write_text(text + "\n")
    fast = ["--dataset", "mq2008", "--rounds", "2", "--n-jobs", "1", "--quiet"]
    for name, warned in (("cut.txt", True), ("whole.txt", False)):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert main(["train", str(tmp_path / name), *fast, "--out", str(tmp_path / f"{name}.model")]) == 0
        said = f"{tmp_path / name}: 1 row(s) lack features, where every row of mq2008 lists all 46"
        assert (said in caplog.text) is warned
    assert (tmp_path / "cut.txt.model.meta.json").read_text().count('"read_options": {}') == 1  # read as before


def test_a_nan_the_file_writes_is_not_taken_for_a_row_cut_short(shared_file, tmp_path, caplog):
    import gzip
    import logging

    from ltr.datasets import load

    text = gzip.decompress(shared_file("mq2008/Fold1/vali.txt.gz").read_bytes()).decode()
    folder = tmp_path / "MQ2008" / "Fold1"
    folder.mkdir(parents=True)
    (folder / "vali.txt").write_text(re.sub(r" 1:\S+", " 1:nan", text, count=1))  # the first row's feature 1
    with caplog.at_level(logging.WARNING):
        d = load("mq2008", tmp_path, fold=1, split="vali", nonfinite="allow")
    assert "lack features" not in caplog.text
    assert np.isnan(d.X[0, 0]) and not np.isnan(d.X[1:]).any()  # the file's NaN kept, as it wrote it
    from ltr.cli import main

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert main(["train", str(folder / "vali.txt"), "--dataset", "mq2008", "--nonfinite", "allow", "--rounds", "2",
                     "--n-jobs", "1", "--quiet", "--out", str(tmp_path / "m.txt")]) == 0
    assert "lack features" not in caplog.text
