"""TREC topic variants and first-stage runs a format trial found read wrongly (stop 31): TREC-COVID's
``<topics task=...>`` root and ``<question>``, the Microblog track's ``<query>`` in a ``<top>``, topics whose chosen
fields are empty (named, not silently empty queries), and ``ltr features --run`` lines of query ids no topic has.

References: ir_datasets' TREC XML topic parser (trec-covid's fields) and its ``<top>`` parser with a ``<query>``
mapping, on the same files."""

from __future__ import annotations

import logging

import pytest

from features.collections import load_queries
from features.errors import CollectionFormatError
from ltr._shared import import_reference
from ltr.cli import main
from ltr.io import read_letor

COVID = """<topics task="COVIDSearch" batch="5">
  <topic number="1">
    <query>coronavirus origin</query>
    <question>what is the origin of COVID-19</question>
    <narrative>seeking range of information about the SARS-CoV-2 virus's origin</narrative>
  </topic>
  <topic number="2">
    <query>coronavirus response to weather changes</query>
    <question>how does the coronavirus respond to changes in the weather</question>
    <narrative>seeking range of information about the SARS-CoV-2 virus viability in different weather</narrative>
  </topic>
</topics>
"""
MICROBLOG = """<top>
<num> Number: MB01 </num>
<query> BBC World Service staff cuts </query>
<querytime> Tue Feb 08 12:30:27 +0000 2011 </querytime>
<querytweettime> 34952194402811904 </querytweettime>
</top>
<top>
<num> Number: MB02 </num>
<query> 2022 FIFA soccer </query>
<querytime> Tue Feb 08 18:51:44 +0000 2011 </querytime>
<querytweettime> 35048150574039040 </querytweettime>
</top>
"""


def test_trec_covid_topics_are_detected_and_read_as_ir_datasets_reads_them(tmp_path):
    p = tmp_path / "topics-rnd5.xml"
    p.write_text(COVID)
    formats, util = import_reference("ir_datasets.formats"), import_reference("ir_datasets.util")
    ref = list(formats.TrecXmlQueries(util.StringFile(COVID.encode()), qtype=formats.GenericQuery,
                                      qtype_map={"query": "text"}).queries_iter())
    q = load_queries(p)  # detected from its first line
    assert list(zip(q.qids, q.texts)) == [(r.query_id, r.text) for r in ref]
    ref_q = list(formats.TrecXmlQueries(util.StringFile(COVID.encode()), qtype=formats.GenericQuery,
                                        qtype_map={"question": "text"}).queries_iter())
    assert load_queries(p, topic_fields=("desc",)).texts == tuple(r.text for r in ref_q)


def test_microblog_topics_take_their_query_as_the_title(tmp_path):
    p = tmp_path / "microblog.topics"
    p.write_text(MICROBLOG)
    q = load_queries(p)
    assert list(zip(q.qids, q.texts)) == [("MB01", "BBC World Service staff cuts"), ("MB02", "2022 FIFA soccer")]


def test_topics_without_text_in_the_chosen_fields_are_named(tmp_path, caplog):
    p = tmp_path / "t.trec"
    p.write_text("<top>\n<num> Number: 401\n<title> foreign minorities\n</top>\n"
                 "<top>\n<num> Number: 402\n<titel> typo\n<desc> Description: only a description\n</top>\n")
    with caplog.at_level(logging.WARNING, logger="features"):
        q = load_queries(p)
    assert q.texts == ("foreign minorities", "")
    assert "t.trec: 1 topic(s) have no text in the topic field(s) title, so their queries are empty and retrieve " \
           "nothing: '402' (line 5)" in caplog.text
    assert load_queries(p, topic_fields=("title", "desc")).texts == ("foreign minorities", "only a description")
    with pytest.raises(CollectionFormatError, match=r"t\.trec:1: no topic has text in the topic field\(s\) narr"):
        load_queries(p, topic_fields=("narr",))


def test_features_names_run_lines_of_unknown_query_ids_when_unjudged_queries_are_left_out(tmp_path, capsys, caplog):
    (tmp_path / "docs.tsv").write_text("d1\tflutter of a wing\nd2\theat transfer in slabs\nd3\twing flutter wing\n")
    (tmp_path / "q.tsv").write_text("1\twing flutter\n2\theat\n3\tslabs\n")
    (tmp_path / "qrels").write_text("1 0 d3 2\n1 0 d2 0\n2 0 d2 1\n")  # query 3 unjudged: left out quietly
    (tmp_path / "first.run").write_text("1 Q0 d3 1 2.0 x\n1 Q0 d1 2 1.0 x\n2 Q0 d2 1 1.0 x\n3 Q0 d2 1 1.0 x\n"
                                        "999 Q0 d1 1 1.0 x\n01 Q0 d2 3 0.5 x\n")
    out = tmp_path / "o.letor"
    with caplog.at_level(logging.WARNING, logger="features"):
        assert main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                     "--qrels", str(tmp_path / "qrels"), "--run", str(tmp_path / "first.run"), "--out",
                     str(out)]) == 0
    assert "1 of 3 queries have no judgments and are left out" in capsys.readouterr().err
    assert "candidates: 2 row(s) over 2 unknown query id(s) (e.g. '999'" in caplog.text
    assert read_letor(out).doc_ids.tolist() == ["d3", "d1", "d2"]


def test_texts_holding_unicode_line_separators_stay_one_record_as_pandas_and_json_read_them(tmp_path):
    """str.splitlines() also breaks at U+2028/U+2029, U+0085 and \\x1c-\\x1e: a trial's TSV documents became
    'd1, line2, d2, d3, y' (two invented, two cut) and a valid JSON line 'invalid JSON'."""
    import io
    import json

    import pandas as pd

    from features.collections import load_documents

    texts = {"d1": "line one\u2028line two", "d2": "ok\u0085fine", "d3": "x\x1ey\u2029z", "d4": "plain"}
    tsv = tmp_path / "docs.tsv"
    tsv.write_text("".join(f"{k}\t{v}\n" for k, v in texts.items()), encoding="utf-8")
    ref = pd.read_csv(io.StringIO(tsv.read_text(encoding="utf-8")), sep="\t", header=None, dtype=str)
    c = load_documents(tsv)
    assert list(c.doc_ids) == ref[0].tolist() and c.fields["body"] == ref[1].tolist()
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text("".join(json.dumps({"_id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in texts.items()),
                     encoding="utf-8")
    ref = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").split("\n") if line]
    c = load_documents(jsonl)
    assert list(c.doc_ids) == [r["_id"] for r in ref] and c.fields["body"] == [r["text"] for r in ref]
    q = tmp_path / "q.tsv"
    q.write_text("1\tquery\u2028with a separator\r\n2\tsecond\r\n", encoding="utf-8")
    got = load_queries(q)
    assert got.qids == ("1", "2") and got.texts == ("query\u2028with a separator", "second")
