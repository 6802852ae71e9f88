"""Feature logging to RankingDataset, feature-set files, and the ``ltr features`` command."""

from __future__ import annotations

import argparse
import json
import logging

import numpy as np
import pandas as pd
import pytest

from features import cli
from features.analysis import Analyzer
from features.collections import Collection, Queries
from features.errors import CollectionFormatError
from features.extraction import extract, qid_mapping
from features.featureset import FeatureSet
from features.index import InvertedIndex
from features.retrieval import BM25Retriever
from ltr.io.letor import read_letor

DOCS = Collection(("d1", "d2", "d3", "d4"), {
    "title": ["Wing flutter", "Heat transfer", "", "Flutter of wings"],
    "body": ["flutter of a wing in a slipstream", "heat transfer in slabs", "", "wing flutter wing flutter"],
})
QUERIES = Queries(("1", "2", "3"), ("wing flutter", "heat", "the of"))
QRELS = pd.DataFrame({"qid": ["1", "1", "2", "2"], "docno": ["d4", "d2", "d2", "d3"], "rel": [2, 0, 1, 1]})


@pytest.fixture(scope="module")
def index():
    return InvertedIndex.build(DOCS, Analyzer())


def test_extract_groups_rows_by_query_labels_from_qrels_and_names_columns(index):
    run = BM25Retriever(index).search(QUERIES, k=10)
    fs = FeatureSet(["first_stage", {"scorer": "bm25", "fields": ["title", "body"]}, "doc_length:all"])
    d = extract(index, QUERIES, run, fs, qrels=QRELS)
    assert d.feature_names == ("first_stage_score", "first_stage_rank", "bm25:title", "bm25:body", "doc_length:all")
    # query 3 has only stopwords: no candidate, left out
    assert d.query_ids.tolist() == [1, 2] and d.X.dtype == np.float32
    assert d.doc_ids.tolist() == run.docno.tolist()
    assert d.y.tolist() == [{"d4": 2.0}.get(x, 0.0) for x in run.docno[run.qid == "1"]] + [1.0]
    np.testing.assert_allclose(d.X[:, 0], run.score, rtol=1e-6)
    assert d.X[:, 1].tolist() == run["rank"].tolist()


def test_add_judged_appends_missed_documents_after_the_last_retrieved(index, caplog):
    run = BM25Retriever(index).search(QUERIES, k=10)
    with caplog.at_level(logging.INFO):
        d = extract(index, QUERIES, run, ["first_stage"], qrels=QRELS, add_judged=True)
    q2 = d.doc_ids[d.qid == 2].tolist()
    assert q2 == ["d2", "d3"]  # d3 (empty, judged relevant) was not retrieved
    rows = d.X[d.qid == 2]
    assert rows[1, 1] == 1 + 1 and rows[1, 0] == pytest.approx(rows[0, 0] - 1.0)
    assert d.y[d.qid == 2].tolist() == [1.0, 1.0]


def test_candidates_as_dict_and_unknown_ids_are_dropped_with_counts_or_rejected(index, caplog):
    cands = {"1": ["d1", "nope", "d4", "d1"], "9": ["d1"]}
    with caplog.at_level(logging.WARNING):
        d = extract(index, QUERIES, cands, ["first_stage", "bm25:all"], qrels=QRELS)
    assert d.doc_ids.tolist() == ["d1", "d4"] and d.X[:, 1].tolist() == [1.0, 3.0]
    assert "1 row(s) over 1 unknown query id(s)" in caplog.text and "1 unknown document id(s)" in caplog.text
    assert "1 duplicate (query, document) row(s) dropped" in caplog.text
    with pytest.raises(CollectionFormatError, match="unknown query id"):
        extract(index, QUERIES, cands, ["bm25:all"], on_unknown="error")
    with pytest.raises(ValueError, match="no query has any candidate"):
        extract(index, QUERIES, {"3": []}, ["bm25:all"])


def test_qid_mapping_keeps_numeric_ids_and_numbers_the_others():
    assert qid_mapping(["3", "10", "007"]) == {"3": 3, "10": 10, "007": 7}
    assert qid_mapping(["1", "01"]) == {"1": 1, "01": 2}  # "01" and "1" would collide
    assert qid_mapping(["q-b", "q-a", "q-b"]) == {"q-b": 1, "q-a": 2}


def test_feature_sets_from_toml_json_and_errors(index, tmp_path):
    toml = tmp_path / "fs.toml"
    toml.write_text('[[features]]\nscorer = "bm25"\nfields = ["body"]\nk1 = 0.9\nb = 0.4\n\n'
                    '[[features]]\nscorer = "bm25"\nname = "bm25_strict"\nfields = "body"\nb = 1.0\n')
    js = tmp_path / "fs.json"
    js.write_text(json.dumps({"features": [{"scorer": "term_stats", "stat": "idf", "pools": ["max"],
                                            "fields": ["title"]}]}))
    assert FeatureSet.load(toml).feature_names(index) == ("bm25:body", "bm25_strict:body")
    assert FeatureSet.load(js).feature_names(index) == ("idf_max:title",)
    with pytest.raises(ValueError, match=r"unknown scorer 'bm99'; available: \["):
        FeatureSet(["bm99"])
    with pytest.raises(ValueError, match=r"duplicate feature column\(s\) \['bm25:body'\]"):
        FeatureSet(["bm25:body", {"scorer": "bm25", "fields": ["body"], "k1": 2.0}]).feature_names(index)
    with pytest.raises(ValueError, match="no field 'abstract'"):
        FeatureSet(["bm25:abstract"]).feature_names(index)
    bad = tmp_path / "bad.toml"
    bad.write_text("[[features]\n")
    with pytest.raises(ValueError, match="cannot parse feature set"):
        FeatureSet.load(bad)


def test_default_feature_set_covers_every_family(index):
    names = FeatureSet.default().feature_names(index)
    for expected in ("first_stage_score", "query_length", "bm25:title", "bm25:all", "tfidf_cosine:body",
                     "lm_dirichlet:all", "lm_jm:all", "tf_var:body", "idf_mean:title", "coverage:all",
                     "min_window:all", "avg_pair_dist:body", "ordered_window:all", "unordered_window:all",
                     "bm25tp:all"):
        assert expected in names


# -- CLI -------------------------------------------------------------------------------------------------------------
def parse(argv):
    p = argparse.ArgumentParser()
    cli.add_arguments(p)
    return p.parse_args(argv)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "docs.tsv").write_text("d1\tflutter of a wing\nd2\theat transfer in slabs\nd3\twing flutter wing\n")
    (tmp_path / "q.tsv").write_text("Q-A\twing flutter\nQ-B\theat\n")
    (tmp_path / "qrels").write_text("Q-A 0 d3 2\nQ-A 0 d2 0\nQ-B 0 d2 1\n")
    return tmp_path


def test_cli_writes_letor_with_names_doc_ids_and_a_qid_map(files, capsys):
    out = files / "train.letor"
    code = cli.run(parse(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--qrels", str(files / "qrels"), "--topk", "5", "--out", str(out), "--no-progress",
                          "--index", str(files / "ix.npz"), "--save-run", str(files / "bm25.run")]))
    assert code == 0, capsys.readouterr().err
    d = read_letor(out)
    assert d.n_queries == 2 and d.feature_names == FeatureSet.default().feature_names(
        InvertedIndex.load(files / "ix.npz"))
    assert d.query_ids.tolist() == [1, 2] and d.y[d.doc_ids == "d3"].tolist() == [2.0]
    assert (files / "train.letor.qids.tsv").read_text() == "1\tQ-A\n2\tQ-B\n"
    # a second run reuses the saved index and the saved run
    code = cli.run(parse(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--qrels", str(files / "qrels"), "--run", str(files / "bm25.run"), "--out",
                          str(files / "again.letor"), "--no-progress", "--index", str(files / "ix.npz")]))
    assert code == 0 and read_letor(files / "again.letor").equals(d)


def test_cli_exit_codes_for_usage_and_data_errors(files, capsys):
    base = ["--out", str(files / "o.letor"), "--no-progress"]
    assert cli.run(parse(["--collection", str(files / "docs.tsv")] + base)) == 2
    assert "--queries is required" in capsys.readouterr().err
    (files / "bad.tsv").write_bytes(b"d1\twing ok\nd2\tbad \xff\n")
    assert cli.run(parse(["--collection", str(files / "bad.tsv"), "--queries", str(files / "q.tsv")] + base)) == 1
    err = capsys.readouterr().err
    assert "bad.tsv:2: invalid UTF-8 byte" in err and "Traceback" not in err
    assert cli.run(parse(["--collection", str(files / "bad.tsv"), "--queries", str(files / "q.tsv"),
                          "--encoding-errors", "replace"] + base)) == 0
    (files / "ix.npz").write_bytes(b"garbage")
    assert cli.run(parse(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--index", str(files / "ix.npz")] + base)) == 1
    assert "not a readable index file" in capsys.readouterr().err
    (files / "qrels2").write_text("Q-A 0 d3 2\nQ-Z 0 d1 1\n")
    assert cli.run(parse(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--qrels", str(files / "qrels2"), "--on-unknown", "error"] + base)) == 1
    assert "unknown query id" in capsys.readouterr().err
    assert cli.run(parse(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--features", str(files / "none.toml")] + base)) == 1
    assert cli.run(parse(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--topk", "0"] + base)) == 2


def test_cli_usage_errors_from_argparse_exit_2():
    with pytest.raises(SystemExit) as e:
        parse(["--collection", "x", "--out", "y", "--run", "r", "--topk", "5"])
    assert e.value.code == 2


@pytest.mark.shared
def test_cli_on_cranfield_directory(shared_file, tmp_path):
    out = tmp_path / "cran.letor"
    assert cli.run(parse(["--collection", str(shared_file("cranfield")), "--topk", "20", "--out", str(out),
                          "--no-progress"])) == 0
    d = read_letor(out)
    assert d.n_queries == 225 and d.n_rows == 225 * 20
    # graded Cranfield gains reach the labels: 4 = complete answer (code 1)
    assert set(np.unique(d.y)) <= {0.0, 1.0, 2.0, 3.0, 4.0} and (d.y == 4).any()


def test_package_exports_are_the_functions_even_after_their_modules_are_imported():
    import features
    import features.extraction  # noqa: F401

    assert callable(features.extract) and features.extract is extract
    assert features.InvertedIndex is InvertedIndex and "extract" in dir(features)


def test_cli_refuses_an_index_built_with_another_analyzer(files, capsys):
    base = ["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"), "--no-progress",
            "--out", str(files / "o.letor"), "--index", str(files / "ix.npz")]
    assert cli.run(parse(base)) == 0
    assert cli.run(parse(base + ["--analyzer", "terrier"])) == 1
    assert "built with another analyzer" in capsys.readouterr().err
    assert cli.run(parse(base + ["--n-jobs", "1"])) == 0
