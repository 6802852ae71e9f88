"""One qrels reader for every layout (ltr.io.read_qrels), its features re-export, qrels/topics writers, and gzip by
magic bytes for TREC files and collection text.

References: the counts each shared collection's PROVENANCE.md verified by parsing, ir_measures' TREC qrels reader,
and ir_datasets' TREC/TSV topic parsers.
"""

from __future__ import annotations

import gzip
import json

import ir_measures
import numpy as np
import pandas as pd
import pytest

import features.collections as fc
from features.collections import read_text as features_read_text
from features.collections import read_trec_topics, read_tsv_queries
from features.errors import CollectionFormatError
from ltr._shared import import_reference
from ltr.exceptions import TrecFormatError
from ltr.io import (
    CRANFIELD_GAINS,
    detect_qrels_format,
    read_qrels,
    read_run,
    run_from_scores,
    write_qrels,
    write_run,
    write_topics,
)
from ltr.io import qrels as qrels_module


def put(folder, name: str, content: bytes):
    p = folder / name
    p.write_bytes(content)
    return p


def ir_measures_qrels(path) -> list[tuple[str, str, int]]:
    """ir_measures' own TREC qrels parser (it reads text, so gzip is opened here)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        return [(q.query_id, q.doc_id, int(q.relevance)) for q in ir_measures.read_trec_qrels(f.read())]


def reference(module: str):
    """An optional reference implementation: skipped when absent, but a failure in CI (LTRKIT_REQUIRE_SHARED=1)."""
    return import_reference(module)


def triples(df: pd.DataFrame) -> list[tuple[str, str, int]]:
    return list(zip(df.qid.tolist(), df.docno.tolist(), df.rel.tolist()))


# ------------------------------------------------------------------------------------------------------------
# The shared collections, format="auto"
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.shared
def test_cranfield_reads_as_cranfield_with_five_minus_code_gains(shared_file):
    path = shared_file("cranfield/cranqrel")
    assert detect_qrels_format(path) == "cranfield"
    q = read_qrels(path, format="auto")
    # PROVENANCE.md: 1837 lines, all 225 queries; codes 1: 128, 2: 387, 3: 734, 4: 363, -1: 225.
    assert len(q) == 1837 and q.qid.nunique() == 225
    assert q.rel.value_counts().to_dict() == {5 - 1: 128, 5 - 2: 387, 5 - 3: 734, 5 - 4: 363, 0: 225}
    raw = read_qrels(path, "qdr")  # the codes themselves, as three columns
    assert raw.rel.value_counts().to_dict() == {1: 128, 2: 387, 3: 734, 4: 363, -1: 225}
    assert (q.rel.to_numpy() == raw.rel.map(CRANFIELD_GAINS).to_numpy()).all()


@pytest.mark.shared
@pytest.mark.parametrize("rel, n_pairs, n_queries, first", [
    ("adi/ADI.REL", 170, 35, ("1", "17", 1)),       # PROVENANCE.md: 170 pairs, all 35 queries judged
    ("cacm/qrels.text", 796, 52, ("1", "1410", 1)),  # 796 pairs over 52 queries, zero-padded qids ("01")
])
def test_smart_layouts_read_as_binary_judgments_without_zero_padding(shared_file, rel, n_pairs, n_queries, first):
    path = shared_file(rel)
    assert detect_qrels_format(path) == "smart"
    q = read_qrels(path)
    assert (len(q), q.qid.nunique()) == (n_pairs, n_queries)
    assert set(q.rel) == {1} and triples(q)[0] == first
    assert not q.qid.str.startswith("0").any() and not q.docno.str.startswith("0").any()


@pytest.mark.shared
@pytest.mark.parametrize("rel, n_rows, n_queries, counts", [
    ("vaswani_npl/qrels", 2083, 93, {1: 2083}),
    ("nfcorpus/dev.2-1-0.qrel.gz", 11385, 324, {2: 521, 1: 10864}),
    ("nfcorpus/dev.3-2-1.qrel.gz", 14589, 325, {3: 521, 2: 10864, 1: 3204}),
    ("nfcorpus/test.2-1-0.qrel.gz", 12334, 323, {2: 576, 1: 11758}),
    ("nfcorpus/test.3-2-1.qrel.gz", 15820, 325, {3: 576, 2: 11758, 1: 3486}),
])
def test_trec_layouts_match_provenance_and_ir_measures(shared_file, rel, n_rows, n_queries, counts):
    path = shared_file(rel)
    assert detect_qrels_format(path) == "trec"
    q = read_qrels(path)
    assert (len(q), q.qid.nunique()) == (n_rows, n_queries)
    assert q.rel.value_counts().to_dict() == counts
    assert triples(q) == ir_measures_qrels(path)


@pytest.mark.shared
def test_ir_datasets_json_lines_qrels_read_as_the_trec_file_they_came_from(shared_file, tmp_path):
    import json

    reference = ir_measures_qrels(shared_file("nfcorpus/test.3-2-1.qrel.gz"))
    path = tmp_path / "qrels.jsonl"  # `ir_datasets export beir/nfcorpus/test qrels --format jsonl` writes these keys
    path.write_text("".join(json.dumps({"query_id": q, "doc_id": d, "relevance": r, "iteration": "0"}) + "\n"
                            for q, d, r in reference))
    assert detect_qrels_format(path) == "jsonl" and triples(read_qrels(path)) == reference
    path.write_text('{"query_id": "1", "doc_id": "a", "relevance": 1}\n{"query_id": "1", "doc": "b"}\n')
    with pytest.raises(TrecFormatError, match=r"qrels.jsonl:2: no 'doc_id' / 'docno' / 'docid' key"):
        read_qrels(path)
    path.write_text('{"query_id": "1", "doc_id": "a", "relevance": "high"}\n')
    with pytest.raises(TrecFormatError, match=r"qrels.jsonl:1: relevance must be an integer \(token 'high'\)"):
        read_qrels(path)


@pytest.mark.shared
def test_the_fast_tokenizer_and_the_line_by_line_path_read_the_same_frames(shared_file, monkeypatch):
    paths = [shared_file(r) for r in ("vaswani_npl/qrels", "nfcorpus/test.3-2-1.qrel.gz", "cranfield/cranqrel")]
    fast = [read_qrels(p, fmt) for p, fmt in zip(paths, ("trec", "trec", "qdr"))]
    monkeypatch.setattr(qrels_module, "_fast_columns", lambda text, format: None)
    for p, fmt, df in zip(paths, ("trec", "trec", "qdr"), fast):
        pd.testing.assert_frame_equal(read_qrels(p, fmt), df)


@pytest.mark.shared
def test_the_features_reexport_is_the_same_reader(shared_file):
    for rel in ("cranfield/cranqrel", "adi/ADI.REL", "vaswani_npl/qrels"):
        path = shared_file(rel)
        pd.testing.assert_frame_equal(fc.read_qrels(path), read_qrels(path))
        assert fc.detect_qrels_format(path) == detect_qrels_format(path)
    assert fc.CRANFIELD_GAINS is CRANFIELD_GAINS


# ------------------------------------------------------------------------------------------------------------
# Layouts and errors on small files
# ------------------------------------------------------------------------------------------------------------


def test_each_layout_reads_to_qid_docno_rel(tmp_path):
    cases = {
        "trec": (b"1 0 d1 2\nq2 Q0 d2 0\n", [("1", "d1", 2), ("q2", "d2", 0)]),
        "smart": (b"01 0756 0 0\n01 12 0 0\n", [("1", "756", 1), ("1", "12", 1)]),
        "qdr": (b"7 doc 3\n", [("7", "doc", 3)]),
        "beir": (b"query-id\tcorpus-id\tscore\nq1\td1\t2\n", [("q1", "d1", 2)]),
    }
    for fmt, (content, expected) in cases.items():
        p = put(tmp_path, f"{fmt}.txt", content)
        assert detect_qrels_format(p) == fmt
        q = read_qrels(p)
        assert list(q.columns) == ["qid", "docno", "rel"] and q.rel.dtype == np.int64
        assert triples(q) == expected and triples(read_qrels(p, fmt)) == expected
    p = put(tmp_path, "cranqrel", b"1 184 2\n1 486 -1\n")
    assert triples(read_qrels(p, gains={2: 1, -1: 0})) == [("1", "184", 1), ("1", "486", 0)]
    assert len(read_qrels(put(tmp_path, "empty", b""), "trec")) == 0  # an explicit layout: no judgments


def test_errors_are_trec_format_errors_naming_path_line_and_token(tmp_path):
    p = put(tmp_path, "q", b"1 0 d1 1\n\n1 0 d2 x\n")
    with pytest.raises(TrecFormatError, match="relevance must be an integer") as e:
        read_qrels(p)
    assert (e.value.path, e.value.line, e.value.token) == (str(p), 3, "x")
    with pytest.raises(TrecFormatError, match="judged twice") as e:
        read_qrels(put(tmp_path, "q2", b"1 0 d1 1\n1 0 d2 1\n1 0 d1 0\n"))
    assert (e.value.line, e.value.token) == (3, "d1")
    with pytest.raises(TrecFormatError, match="expected 4 columns") as e:
        read_qrels(put(tmp_path, "q3", b"1 0 d1 1\n1 0 d2\n"), "trec")
    assert e.value.line == 2
    with pytest.raises(TrecFormatError, match="cannot tell the relevance format") as e:
        read_qrels(put(tmp_path, "q4", b"1 0 d1 1\n1 d2\n"))
    assert "pass format=<trec|smart|cranfield|qdr|beir|npl|jsonl>" in str(e.value)
    assert "pass --qrels-format <trec|smart|cranfield|qdr|beir|npl|jsonl>" in e.value.cli_message()
    with pytest.raises(TrecFormatError, match="invalid UTF-8") as e:
        read_qrels(put(tmp_path, "q5", b"1 0 d\xfe 1\n"))
    assert "pass errors='replace'" in str(e.value) and "--encoding-errors replace" in e.value.cli_message()
    assert triples(read_qrels(tmp_path / "q5", errors="replace")) == [("1", "d\ufffd", 1)]
    with pytest.raises(ValueError, match="format must be"):
        read_qrels(p, "csv")
    with pytest.raises(TrecFormatError, match="64-bit") as e:
        read_qrels(put(tmp_path, "q6", b"1 0 d1 99999999999999999999\n"))
    assert e.value.line == 1


def test_features_errors_are_collection_and_trec_errors(tmp_path):
    for content in (b"1 0 d1 1\n1 0 d1 0\n", b"\n"):
        with pytest.raises(CollectionFormatError) as e:
            fc.read_qrels(put(tmp_path, "q", content))
        assert isinstance(e.value, TrecFormatError)
    with pytest.raises(CollectionFormatError, match="file not found"):
        fc.read_qrels(tmp_path / "nope")


# ------------------------------------------------------------------------------------------------------------
# What trec_eval reads (get_qrels.c): '#' lines, any iteration value, a relevance read with atol
# ------------------------------------------------------------------------------------------------------------

CLEAN_QRELS = "1 0 D1-0 2\n1 0 D1-1 0\n1 0 D1-2 1\n2 0 D2-0 1\n2 0 D2-1 -2\n"
CLEAN_TRIPLES = [("1", "D1-0", 2), ("1", "D1-1", 0), ("1", "D1-2", 1), ("2", "D2-0", 1), ("2", "D2-1", -2)]


def both_paths(path, fmt="auto"):
    """The frame through the fast tokenizer, checked equal to the line-by-line path's."""
    fast = read_qrels(path, fmt)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(qrels_module, "_fast_columns", lambda text, format: None)
        pd.testing.assert_frame_equal(read_qrels(path, fmt), fast)
    return fast


@pytest.mark.parametrize("content", [
    "# judged by NIST\n" + CLEAN_QRELS,                                   # the trial's file
    "# one\n#two\n\n" + CLEAN_QRELS.replace("2 0 D2-0", "  # among the lines\n\n2 0 D2-0") + "#end",
    ("# CRLF\n" + CLEAN_QRELS).replace("\n", "\r\n"),
    ("# CR\n" + CLEAN_QRELS.replace("2 0 D2-0", "# 9 x 1\n2 0 D2-0")).replace("\n", "\r"),  # a 4-field comment
])
def test_comment_and_blank_lines_in_trec_qrels_are_skipped(tmp_path, content):
    p = put(tmp_path, "q.txt", content.encode())
    assert detect_qrels_format(p) == "trec"
    assert triples(both_paths(p)) == triples(both_paths(p, "trec")) == CLEAN_TRIPLES
    assert ir_measures_qrels(put(tmp_path, "clean.txt", CLEAN_QRELS.encode())) == CLEAN_TRIPLES


@pytest.mark.parametrize("name, content, fmt, expected", [
    ("labels.txt", "# q d rel\n7 doc 3\n", "qdr", [("7", "doc", 3)]),
    ("cranqrel", "# Cranfield\n1 184 2\n", "cranfield", [("1", "184", 3)]),
    ("ADI.REL", "# ADI\n1   17   0   0.000000\n", "smart", [("1", "17", 1)]),
    ("test.tsv", "query-id\tcorpus-id\tscore\n# a comment\nq1\td1\t2\n", "beir", [("q1", "d1", 2)]),
])
def test_comment_lines_are_skipped_in_the_other_whitespace_layouts_too(tmp_path, name, content, fmt, expected):
    p = put(tmp_path, name, content.encode())
    assert detect_qrels_format(p) == fmt and triples(both_paths(p)) == expected


def test_any_iteration_value_is_read_and_detected_as_trec_as_ir_measures_reads_it(tmp_path):
    # TREC-COVID's qrels hold the round number in column 2 (here 1, 0.5 and a word): trec_eval ignores the column.
    covid = "".join(f"{q} {it} {d} {r}\n" for (q, d, r), it in zip(CLEAN_TRIPLES, ["1", "0.5", "4", "round5", "1"]))
    p = put(tmp_path, "qrels-covid_d5_j0.5-5.txt", covid.encode())
    assert detect_qrels_format(p) == "trec"
    assert triples(both_paths(p)) == ir_measures_qrels(p) == CLEAN_TRIPLES


@pytest.mark.parametrize("name, content, fmt", [
    ("ADI.REL", "1   17   0   0.000000\n1   46   0   0.000000\n", "smart"),  # column 4 integral: still smart
    ("qrels.text", "01 1410  0 0\n01 1572  0 0\n", "smart"),
    ("q.txt", "1 0 d1 1\n2 Q0 d2 0\n", "trec"),
    ("three", "1 d1 1\n", "qdr"),
    ("two", "1 d1\n", "smart"),
])
def test_the_other_layouts_are_detected_as_before(tmp_path, name, content, fmt):
    assert detect_qrels_format(put(tmp_path, name, content.encode())) == fmt


def test_an_integral_relevance_written_as_a_float_is_that_integer(tmp_path):
    # trec_eval reads the relevance with atol: 2.0 -> 2. ir_measures refuses 2.0, so it reads the integer file.
    floats = CLEAN_QRELS.replace(" 2\n", " 2.0\n").replace(" 0\n", " 0.\n").replace(" -2\n", " -2.000\n")
    p = put(tmp_path, "q.txt", floats.encode())
    assert detect_qrels_format(p) == "trec" and triples(both_paths(p)) == CLEAN_TRIPLES
    assert ir_measures_qrels(put(tmp_path, "ints.txt", CLEAN_QRELS.encode())) == CLEAN_TRIPLES
    odd = put(tmp_path, "odd.txt", b"1 0 a 1e0\n1 0 b +3.0\n1 0 c 2.0E0\n")  # the slow path
    assert triples(both_paths(odd)) == [("1", "a", 1), ("1", "b", 3), ("1", "c", 2)]
    # 20E-1 is 2, but trec_eval's atol reads 20 (the leading integer): refused since trial t56 (it was read as 2)
    with pytest.raises(TrecFormatError, match=r"relevance 20E-1 in exponent notation is 2, which trec_eval reads as "
                                              r"20"):
        read_qrels(put(tmp_path, "odd2.txt", b"1 0 a 1\n1 0 c 20E-1\n"))
    assert triples(both_paths(put(tmp_path, "l", b"q d 3.0\n"), "qdr")) == [("q", "d", 3)]
    covid = put(tmp_path, "covid.txt", b"1 1 d1 2.0\n1 0.5 d2 1.0\n")  # float relevance, any iteration
    assert detect_qrels_format(covid) == "trec" and triples(both_paths(covid)) == [("1", "d1", 2), ("1", "d2", 1)]


def test_a_non_integral_relevance_stays_an_error_naming_file_line_and_token(tmp_path):
    # atol would truncate 2.5 to 2 without a word; here it is refused.
    p = put(tmp_path, "q.txt", b"# header\n1 0 d1 1\n1 0 d2 2.5\n")
    with pytest.raises(TrecFormatError) as e:
        read_qrels(p)
    assert (e.value.path, e.value.line, e.value.token) == (str(p), 3, "2.5")
    assert str(e.value) == (f"{p}:3: relevance must be an integer (token '2.5'); a float reads as an integer only "
                            "with an integral value (2.0); trec_eval's atol would truncate this one")
    with pytest.raises(TrecFormatError, match="64-bit") as e:
        read_qrels(put(tmp_path, "big", b"1 0 d1 1e30\n"))
    assert e.value.line == 1
    with pytest.raises(TrecFormatError, match="64-bit"):
        read_qrels(put(tmp_path, "huge", b"1 0 d1 -1e999999999\n"))
    for token in ("nan", "inf", "1_0", "0x10"):
        with pytest.raises(TrecFormatError, match=rf"relevance must be an integer \(token '{token}'\)$"):
            read_qrels(put(tmp_path, "q", f"1 0 d1 {token}\n".encode()), "trec")


@pytest.mark.parametrize("content, line, reason", [
    (b"1 1 d1 2\n1 1 d2 high\n", 2,
     "its lines have 4 columns but fit neither 'trec' (qid iter docno rel, column 4 an integer relevance: this "
     "line's is 'high') nor 'smart' (qid docno 0 0, column 3 always 0)"),
    (b"1 0 d1 2 extra\n", 1, "its lines have 5 columns, a width no layout has (smart has 2 columns; qdr, cranfield "
                             "and beir 3; trec and smart 4; npl has '/' lines, jsonl {...} lines)"),
    (b"# c\n1 0 d1 1\n1 d2\n", 3, "line 2 has 4 columns and this line 2, but the lines of a layout have one width"),
])
def test_an_undetectable_layout_says_what_was_tried_and_which_option_picks_one(tmp_path, content, line, reason):
    p = put(tmp_path, "q", content)
    with pytest.raises(TrecFormatError) as e:
        read_qrels(p)
    assert e.value.line == line and e.value.reason.startswith(f"cannot tell the relevance format: {reason}")
    assert str(e.value).endswith("; pass format=<trec|smart|cranfield|qdr|beir|npl|jsonl> to name the layout")
    assert e.value.cli_message().endswith("; pass --qrels-format <trec|smart|cranfield|qdr|beir|npl|jsonl> to name "
                                          "the layout")


# ------------------------------------------------------------------------------------------------------------
# gzip by magic bytes, not by name
# ------------------------------------------------------------------------------------------------------------


def test_gzip_is_recognised_by_content_for_qrels_runs_and_collection_text(tmp_path):
    hidden = put(tmp_path, "qrels", gzip.compress(b"1 0 d1 1\n"))  # gzip, no .gz: decompressed
    assert triples(read_qrels(hidden)) == [("1", "d1", 1)]
    plain = put(tmp_path, "qrels.gz", b"1 0 d1 1\n")  # .gz name, plain text: read as plain text
    assert triples(read_qrels(plain)) == [("1", "d1", 1)]
    run = run_from_scores(["1", "1"], ["a", "b"], [0.5, 1.5])
    write_run(tmp_path / "r.run.gz", run)
    (tmp_path / "r.run.gz").rename(tmp_path / "r.run")
    assert read_run(tmp_path / "r.run").docno.tolist() == ["b", "a"]
    put(tmp_path, "p.run.gz", b"1 Q0 a 1 2.5 t\n")
    assert read_run(tmp_path / "p.run.gz").score.tolist() == [2.5]
    assert features_read_text(put(tmp_path, "docs", gzip.compress(b".I 1\n"))) == ".I 1\n"
    assert features_read_text(put(tmp_path, "docs.gz", b".I 2\n")) == ".I 2\n"


# ------------------------------------------------------------------------------------------------------------
# Writers: qrels and topics
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.shared
def test_collection_qrels_write_as_trec_that_ir_measures_reads_back(shared_file, tmp_path):
    for rel in ("cranfield/cranqrel", "adi/ADI.REL"):
        q = read_qrels(shared_file(rel))
        out = write_qrels(tmp_path / "out.qrels", q)
        assert ir_measures_qrels(out) == triples(q)
        pd.testing.assert_frame_equal(read_qrels(out, "trec"), q)


def test_write_qrels_columns_and_refusals(tmp_path, capsys):
    df = pd.DataFrame({"qid": ["1", "2"], "iter": ["0", "1"], "docno": ["a", "b"], "rel": [2.0, -1.0]})
    assert write_qrels(tmp_path / "q", df).read_text() == "1 0 a 2\n2 1 b -1\n"
    write_qrels("-", df.drop(columns="iter"))
    assert capsys.readouterr().out == "1 0 a 2\n2 0 b -1\n"
    for bad, what in ((df.assign(rel=[0.5, 1]), "not an integer"), (df.assign(docno=["a b", "c"]), "whitespace"),
                      (df.drop(columns="rel"), "missing columns")):
        with pytest.raises(ValueError, match=what):
            write_qrels(tmp_path / "bad", bad)
    assert not (tmp_path / "bad").exists()


def test_topics_written_as_trec_and_tsv_read_back_by_independent_parsers(tmp_path):
    queries = {"1": "what similarity laws must be\nobeyed  when constructing models", "2": "heat\ttransfer",
               "PLAIN-3": "deafness"}
    one_line = {q: " ".join(t.split()) for q, t in queries.items()}
    trec = write_topics(tmp_path / "topics.trec", queries)
    tsv = write_topics(tmp_path / "queries.tsv", queries, format="tsv")
    assert dict(read_trec_topics(trec).items()) == one_line
    assert dict(read_tsv_queries(tsv).items()) == one_line
    tagged = write_topics(tmp_path / "x", {"1": "a </title> b"})  # escaped, not refused: reads back as written
    assert dict(read_trec_topics(tagged).items()) == {"1": "a </title> b"}
    with pytest.raises(ValueError, match="whitespace"):
        write_topics(tmp_path / "x", {"1 2": "a"})
    with pytest.raises(ValueError, match="format"):
        write_topics(tmp_path / "x", {"1": "a"}, format="json")
    formats, trec_formats, util = (reference(f"ir_datasets.{m}") for m in ("formats", "formats.trec", "util"))
    ref = trec_formats.TrecQueries(util.StringFile(trec.read_bytes()), qtype=formats.GenericQuery,
                                   qtype_map={"<num> *(Number:)?": "query_id", "<title> *(Topic:)?": "text"})
    assert {q.query_id: q.text for q in ref.queries_iter()} == one_line
    tsv_ref = formats.TsvQueries(util.StringFile(tsv.read_bytes()))
    assert {q.query_id: q.text for q in tsv_ref.queries_iter()} == one_line


@pytest.mark.shared
def test_a_collections_queries_write_as_topics_that_read_back(shared_file, tmp_path):
    tc = fc.load_queries(shared_file("cranfield/cran.qry"), ids="position")
    p = write_topics(tmp_path / "cran.topics", dict(tc.items()))
    back = read_trec_topics(p)
    assert back.qids == tc.qids and back.texts == tuple(" ".join(t.split()) for t in tc.texts)


def test_a_run_against_smart_judgments_is_read_with_their_ids_rule(tmp_path):
    # the reader writes SMART ids without their zeros ('0046' is document 46, as CACM's .I lines say); a run that
    # copied the qrels file's spelling lost those matches without a word (AP 0.6499 for 1.0 on CACM query 10).
    # Reference: pytrec_eval on the same judgments and run, both spelled without zeros.
    pytrec_eval = import_reference("pytrec_eval")

    from ltr.metrics import evaluate_run_per_query

    p = tmp_path / "qrels.text"
    p.write_bytes(b"10 0046 0 0\n10 1411 0 0\n10 0100 0 0\n07 0003 0 0\n")
    qrels = read_qrels(p, "smart")
    run = pd.DataFrame({"qid": ["10", "10", "10", "10", "07"], "docno": ["0046", "1411", "0099", "100", "3"],
                        "score": [4.0, 3.0, 2.0, 1.0, 1.0]})
    got = evaluate_run_per_query(qrels, run, ["map", "num_rel_ret"])
    reference = pytrec_eval.RelevanceEvaluator({"10": {"46": 1, "1411": 1, "100": 1}, "7": {"3": 1}},
                                               {"map", "num_rel_ret"})
    want = reference.evaluate({"10": {"46": 4.0, "1411": 3.0, "99": 2.0, "100": 1.0}, "7": {"3": 1.0}})
    assert got.to_dict("index") == {q: {"map": pytest.approx(v["map"]), "num_rel_ret": int(v["num_rel_ret"])}
                                    for q, v in want.items()}
    assert got.loc["10", "num_rel_ret"] == 3  # 0046 and 100 matched as 46 and 100
    # TREC-layout judgments keep every id as written: ids are text there, as trec_eval compares them
    trec = tmp_path / "q.trec"
    trec.write_text("10 0 0046 1\n")
    assert evaluate_run_per_query(read_qrels(trec, "trec"), run, ["num_rel_ret"]).loc["10", "num_rel_ret"] == 1
    assert evaluate_run_per_query(read_qrels(trec, "trec"), run.assign(docno=["46", "1411", "99", "100", "3"]),
                                  ["num_rel_ret"]).loc["10", "num_rel_ret"] == 0


def test_ltr_evaluate_says_when_a_runs_ids_are_read_as_smart_judgments_read_theirs(tmp_path, capsys):
    from ltr.cli import main

    (tmp_path / "qrels.text").write_bytes(b"01 0046 0 0\n01 1411 0 0\n10 0100 0 0\n")
    (tmp_path / "r.run").write_text("01 Q0 0046 1 2 t\n01 Q0 1411 2 1 t\n10 Q0 100 1 1 t\n")
    assert main(["evaluate", "--qrels", str(tmp_path / "qrels.text"), "--run", str(tmp_path / "r.run"),
                 "--metrics", "map,num_q", "--format", "json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["mean"] == {"map": 1.0, "num_q": 2}  # both queries matched, every document found
    assert out.err.splitlines() == [
        f"ltr evaluate: note: {tmp_path / 'r.run'}'s numeric ids are read without leading zeros, as "
        f"{tmp_path / 'qrels.text'}'s (its layout writes them zero-padded: 1 query id(s), e.g. '01' -> '1'; 1 "
        "document id(s), e.g. '0046' -> '46')"]  # ids, not lines: query 01 is on two
    # '0046' and '46' of one query are one document once so read: named by both lines, not as trec_eval's refusal
    (tmp_path / "r.run").write_text("01 Q0 0046 1 2 t\n01 Q0 1411 2 1 t\n1 Q0 46 3 0 t\n")
    assert main(["evaluate", "--qrels", str(tmp_path / "qrels.text"), "--run", str(tmp_path / "r.run")]) == 1
    assert capsys.readouterr().err == (
        f"ltr evaluate: error: {tmp_path / 'r.run'}:3: query 1 lists document 46 twice once its ids are read "
        f"without leading zeros, as {tmp_path / 'qrels.text'}'s are ('0046' on line 1, '46') (token '46')\n")
