"""A query file given in place of a collection directory's own is numbered as the directory's judgments number its
queries (trial t48/serve): ``--queries cran.qry`` in a Cranfield directory numbered the queries by their ``.I`` ids
where the directory's ``cranqrel`` (and the runs made from it) number them 1..n, so 150 of 225 queries took another
query's text beside their own labels (NDCG@10 0.3723 for 0.5247), exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.pipeline import load_inputs


@pytest.fixture
def cranfield_like(tmp_path) -> Path:
    """Cranfield's layout: ``.I`` ids with gaps (001, 002, 004, 008), judgments by position."""
    docs = "".join(f".I {i}\n.T\ntitle {i}\n.A\nauthor\n.B\nsource\n.W\nword{i} common text\n" for i in range(1, 6))
    (tmp_path / "cran.all.1400").write_text(docs)
    (tmp_path / "cran.qry").write_text("".join(f".I {i:03d}\n.W\nword{k} common .\n"
                                               for k, i in enumerate((1, 2, 4, 8), start=1)))
    (tmp_path / "cranqrel").write_text("1 1 1\n2 2 1\n3 3 2\n4 4 1\n")
    return tmp_path


@pytest.mark.parametrize("queries", ["cran.qry", "{d}/cran.qry"])
def test_the_directorys_own_query_file_named_again_keeps_its_numbering(cranfield_like, queries):
    own = load_inputs(cranfield_like)
    named = load_inputs(cranfield_like, queries=queries.format(d=cranfield_like))
    assert list(named.queries.qids) == list(own.queries.qids) == ["1", "2", "3", "4"]
    assert list(named.queries.texts) == list(own.queries.texts)
    assert named.queries.texts[2].startswith("word3")  # .I 004, the third query, judged as query 3


def test_without_judgments_too_and_record_when_asked(cranfield_like):
    """``ltr rerank`` reads no judgments; the numbering is still the directory's. ``query_ids="record"`` still
    gives the ``.I`` ids."""
    bare = load_inputs(cranfield_like, queries="cran.qry", judgments=False)
    assert list(bare.queries.qids) == ["1", "2", "3", "4"]
    record = load_inputs(cranfield_like, queries="cran.qry", query_ids="record")
    assert list(record.queries.qids) == ["1", "2", "4", "8"]


def test_given_judgments_still_decide(cranfield_like, tmp_path_factory):
    """A SMART-layout qrels file given with ``qrels``: the ``.I`` ids, as before."""
    other = tmp_path_factory.mktemp("q") / "qrels.text"
    other.write_text("01 1 0 0\n08 4 0 0\n")
    got = load_inputs(cranfield_like, queries="cran.qry", qrels=other)
    assert list(got.queries.qids) == ["1", "2", "4", "8"]
