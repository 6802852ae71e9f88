"""``add_judged``: a judged document the first stage missed gets the first-stage rank one past the query's last
retrieved one, the places of candidates the collection lacks (dropped, but still places in the ranking) included,
so that it never ties with a retrieved document. The retrieved documents' ranks are the first stage's as
:func:`features.extraction.first_stage_ranks` defines them (scores in trec_eval's order, 1..n over distinct
candidates), with and without added documents."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from features.analysis import Analyzer
from features.collections import Collection, Queries
from features.extraction import extract
from features.index import InvertedIndex
from ltr.cli import main

DOCS = Collection(("d1", "d2", "d3", "d4"), {"body": ["cat", "cat mat", "dog", "cat dog"]})
QUERIES = Queries(("1", "2"), ("cat", "dog"))


@pytest.fixture(scope="module")
def index():
    return InvertedIndex.build(DOCS, Analyzer(stopwords=None))


def run(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["qid", "docno", "rank", "score"])


def ranks(data, qid: int) -> dict[str, float]:
    """docno -> first_stage_rank of one LETOR query id."""
    rows = data.qid == qid
    return dict(zip(data.doc_ids[rows].tolist(), data.X[rows, data.feature_names.index("first_stage_rank")].tolist()))


def added(index, candidates, qrels):
    qrels = pd.DataFrame(qrels, columns=["qid", "docno", "rel"])
    return extract(index, QUERIES, candidates, ["first_stage"], qrels=qrels, add_judged=True, on_unknown="ignore")


def test_the_reported_run_gives_the_added_document_rank_4_one_past_d2_s_3(tmp_path, capsys):
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "text": "cat"}\n{"_id": "d2", "text": "cat mat"}\n'
                                           '{"_id": "d3", "text": "dog"}\n')
    (tmp_path / "q.tsv").write_text("1\tcat\n")
    (tmp_path / "qrels").write_text("1 0 d1 1\n1 0 d3 1\n")
    (tmp_path / "first.run").write_text("1 Q0 d1 1 3.0 x\n1 Q0 gone 2 2.0 x\n1 Q0 d2 3 1.0 x\n")
    (tmp_path / "fs.toml").write_text('[[features]]\nscorer = "first_stage"\n')
    out = tmp_path / "o.letor"
    assert main(["features", "--collection", str(tmp_path / "corpus.jsonl"), "--queries", str(tmp_path / "q.tsv"),
                 "--qrels", str(tmp_path / "qrels"), "--run", str(tmp_path / "first.run"), "--add-judged",
                 "--features", str(tmp_path / "fs.toml"), "--out", str(out)]) == 0
    lines = [line for line in out.read_text().splitlines() if not line.startswith("#")]
    # d3's score: the lowest retrieved (1.0) minus 1; its rank: one past the last retrieved place, 3 + 1
    assert lines == ["1 qid:1 1:3 2:1 #docid = d1", "0 qid:1 1:1 2:3 #docid = d2", "1 qid:1 1:0 2:4 #docid = d3"]


def test_an_unknown_last_candidate_still_counts_as_a_place(index):
    cands = run([("1", "d1", 1, 3.0), ("1", "d2", 2, 2.0), ("1", "gone", 3, 1.0)])
    d = added(index, cands, [("1", "d4", 1)])
    assert ranks(d, 1) == {"d1": 1.0, "d2": 2.0, "d4": 3 + 1}


def test_a_rank_column_that_disagrees_with_the_scores_is_not_the_one_added_to(index):
    # the rank column (10, 20, 5) contradicts the scores: ranks come from the scores, 1..3; the added one is 4,
    # not one past the column's largest value (21)
    cands = run([("1", "d1", 10, 1.0), ("1", "gone", 20, 3.0), ("1", "d2", 5, 2.0)])
    d = added(index, cands, [("1", "d4", 1)])
    assert ranks(d, 1) == {"d2": 2.0, "d1": 3.0, "d4": 3 + 1}


def test_tied_scores_and_repeated_lines_rank_distinct_candidates_1_to_n(index):
    # three distinct candidates with one score (docno descending breaks the tie: gone, d2, d1), d2 given twice
    cands = run([("1", "d1", 0, 1.0), ("1", "d2", 0, 1.0), ("1", "gone", 0, 1.0), ("1", "d2", 0, 1.0)])
    d = added(index, cands, [("1", "d4", 2), ("1", "d3", 0)])
    assert ranks(d, 1) == {"d2": 2.0, "d1": 3.0, "d4": 3 + 1, "d3": 3 + 1}


def test_candidates_as_a_list_count_an_unknown_document_s_position(index):
    d = added(index, {"1": ["d1", "gone", "d2"], "2": ["d3"]}, [("1", "d4", 1), ("2", "d4", 1)])
    assert ranks(d, 1) == {"d1": 1.0, "d2": 3.0, "d4": 3 + 1}
    assert ranks(d, 2) == {"d3": 1.0, "d4": 1 + 1}


def test_a_query_whose_only_candidates_are_unknown_adds_past_them_and_one_without_any_at_1(index):
    d = added(index, {"1": ["gone", "lost"]}, [("1", "d1", 1), ("2", "d3", 1)])
    assert ranks(d, 1) == {"d1": 2 + 1}
    assert ranks(d, 2) == {"d3": 0 + 1}  # nothing retrieved: the first place
    assert d.X[:, d.feature_names.index("first_stage_score")].tolist() == [0.0, 0.0]  # no retrieved score to go below


def test_retrieved_ranks_are_the_same_with_and_without_added_documents(index, caplog):
    cands = run([("1", "d1", 1, 3.0), ("1", "gone", 2, 2.0), ("1", "d2", 3, 1.0)])
    with caplog.at_level(logging.INFO):
        d = added(index, cands, [("1", "d4", 1), ("1", "d1", 1)])
    plain = extract(index, QUERIES, cands, ["first_stage"], on_unknown="ignore")
    assert ranks(plain, 1) == {"d1": 1.0, "d2": 3.0}
    assert ranks(d, 1) == {"d1": 1.0, "d2": 3.0, "d4": 3 + 1}
    assert "added 1 judged document(s) missed by the first stage" in caplog.text
