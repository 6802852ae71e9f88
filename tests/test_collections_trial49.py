"""Trial t49 (collections): a byte-order mark inside a SMART file, an index of other fields reused by default, a
text broken over TSV lines, stopword files that are not plain UTF-8, a Latin-1 collection's advice, padded SMART
document ids in judgments, --query-ids position on files whose queries carry their ids."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from features.analysis import Analyzer
from features.collections import load_documents, load_queries
from features.errors import CollectionFormatError
from ltr.cli import main
from ltr.io import read_letor


def test_a_byte_order_mark_inside_a_smart_file_is_refused_not_merged_into_the_record_before(tmp_path):
    """'\\ufeff.I 3' (two files joined with cat, the second saved with a BOM) is no record marker: document 3 was
    merged into document 2 (its title appended to 2's, '.I 3' in 2's body), unsaid; queries the same."""
    docs = tmp_path / "d.all"
    docs.write_bytes(b".I 1\n.T\nwing\n.W\nflutter\n.I 2\n.W\nheat\n\xef\xbb\xbf.I 3\n.T\nboundary layer\n.W\nflow\n")
    with pytest.raises(CollectionFormatError) as e:
        load_documents(docs, "smart")
    assert str(e.value).startswith(f"{docs}:9: a byte-order mark (U+FEFF) inside the file: files joined with cat")
    queries = tmp_path / "q.qry"
    queries.write_bytes(b".I 1\n.W\nlaminar\n\xef\xbb\xbf.I 2\n.W\nshock\n")
    with pytest.raises(CollectionFormatError, match=r"q\.qry:4: a byte-order mark \(U\+FEFF\) inside the file"):
        load_queries(queries, "smart")
    queries.write_bytes(b"\xef\xbb\xbf.I 1\n.W\nlaminar\n.I 2\n.W\nshock\n")  # at the start: dropped, as everywhere
    assert load_queries(queries, "smart").qids == ("1", "2")


@pytest.fixture()
def small(tmp_path):
    (tmp_path / "d.trec").write_text("".join(f"<DOC><DOCNO>d{i}</DOCNO><TITLE>{t}</TITLE><TEXT>{b}</TEXT></DOC>\n"
                                             for i, (t, b) in enumerate([("wing", "flutter of wings"),
                                                                         ("heat", "heat transfer in slabs"),
                                                                         ("flow", "wing in supersonic flow")])))
    (tmp_path / "q.tsv").write_text("1\twing flutter\n2\theat\n")
    return tmp_path


def test_an_index_of_other_fields_than_the_default_is_refused_without_fields(small, capsys):
    """An --index built with --fields title was loaded by a run without --fields: a title-only LETOR file and first
    stage where every non-empty field was asked for, said as "loaded the index" only."""
    base = ["features", "--collection", small / "d.trec", "--queries", small / "q.tsv", "--index", small / "t.idx",
            "--out", small / "o.letor", "--quiet"]
    assert main([str(a) for a in [*base, "--fields", "title"]]) == 0
    (small / "o.letor").write_text("previous\n")
    assert main([str(a) for a in base]) == 1
    assert capsys.readouterr().err == (f"ltr features: error: index {small / 't.idx'} holds the fields ['title'], not "
                                       "['title', 'body'] (every non-empty field, the default); delete it to rebuild, "
                                       "or name the fields it holds\n")
    assert (small / "o.letor").read_text() == "previous\n"
    assert main([str(a) for a in [*base, "--fields", "title"]]) == 0  # the fields it holds: loaded
    assert read_letor(small / "o.letor").n_rows > 0


def test_a_text_broken_over_tsv_lines_is_said_and_refused_under_a_header(tmp_path, caplog):
    """pandas' to_csv(sep="\\t") quotes a text that holds a newline; a one-word continuation passed as "an id alone"
    and became an extra empty document, unsaid (trial t49). Since trial t66 a file quoted as a csv writer quotes it
    reads as pandas reads it; one quoted otherwise is still refused (tests/test_fix66_c.py)."""
    headed = tmp_path / "h.tsv"
    headed.write_text('docno\ttitle\ttext\nd1\tWings\t"flutter of swept wings\nexperiments"\nd2\tHeat\theat\n')
    pandas = pd.read_csv(headed, sep="\t", dtype=str, keep_default_na=False)
    c = load_documents(headed)
    assert c.doc_ids == tuple(pandas["docno"]) == ("d1", "d2")
    assert c.fields == {"title": list(pandas["title"]), "body": list(pandas["text"])}
    assert c.fields["body"][0] == "flutter of swept wings\nexperiments"
    headed.write_text('docno\ttitle\ttext\nd1\tWings\t"flutter of swept wings\nexperiments"x\nd2\tHeat\theat\n')
    with pytest.raises(CollectionFormatError) as e:  # a quote no csv writer writes so: one record a line, refused
        load_documents(headed)
    assert str(e.value).startswith(f"{headed}:3: no tab on the line, the header names 3 columns (id, title, body): a "
                                   "text broken over lines (a quoted newline)? write each record on one line (token "
                                   "'experiments\"x')")
    bare = tmp_path / "b.tsv"
    bare.write_text("d1\tflutter of swept wings\nexperiments\nd2\theat transfer\n")
    with caplog.at_level(logging.WARNING):
        c = load_documents(bare)
    assert c.doc_ids == ("d1", "experiments", "d2")  # an id alone is an empty record, as documented: said
    assert (f"{bare}:2: 1 line(s) of an id alone, read as empty records (first: 'experiments'): a text broken over "
            "lines would be cut there") in caplog.text


def test_a_stopword_file_with_a_bom_keeps_every_word_and_one_not_in_utf8_is_named(tmp_path, small, capsys):
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbfwing\r\nflutter\r\n")  # Notepad's UTF-8: the first word was '\ufeffwing'
    assert Analyzer(stopwords=str(bom)).analyze("wing flutter heat") == ["heat"]
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"caf\xe9\nwing\n")
    base = ["features", "--collection", small / "d.trec", "--queries", small / "q.tsv", "--out", small / "o.letor"]
    assert main([str(a) for a in [*base, "--stopwords", latin]]) == 2
    assert capsys.readouterr().err == (f"ltr features: error: --stopwords {latin}:1: stopword file: invalid UTF-8 "
                                       "byte b'\\xe9' at byte offset 3; save it as UTF-8 (e.g. iconv -f latin1 -t "
                                       "utf-8 FILE > FILE.utf8)\n")  # it said: neither lucene, terrier, none nor a file
    assert main([str(a) for a in [*base, "--stopwords", tmp_path / "absent.txt"]]) == 2
    assert "neither 'lucene', 'terrier', 'none' nor a file" in capsys.readouterr().err


def test_a_latin1_collection_is_told_to_convert_not_only_to_substitute(tmp_path, capsys):
    """--encoding-errors replace splits 'naïve' into 'na' and 've': the message says so and how to convert."""
    (tmp_path / "l1.trec").write_bytes(b"<DOC><DOCNO>1</DOCNO>caf\xe9 na\xefve</DOC>\n")
    (tmp_path / "q.tsv").write_text("1\tcafe\n")
    assert main(["features", "--collection", str(tmp_path / "l1.trec"), "--queries", str(tmp_path / "q.tsv"),
                 "--out", str(tmp_path / "o.letor")]) == 1
    assert capsys.readouterr().err.endswith(
        "pass --encoding-errors replace to substitute U+FFFD (which splits the words around each one: a file in "
        "another encoding is better converted, e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8)\n")


def test_judgments_naming_smart_document_ids_with_their_padding_are_told_why_they_match_nothing(tmp_path, caplog):
    (tmp_path / "d.all").write_text(".I 001\n.W\nwing flutter\n.I 002\n.W\nheat transfer\n.I 003\n.W\nwing heat\n")
    (tmp_path / "q.qry").write_text(".I 1\n.W\nwing\n")
    (tmp_path / "q.trec").write_text("1 0 001 1\n1 0 003 1\n")
    with caplog.at_level(logging.WARNING):
        assert main(["features", "--collection", str(tmp_path / "d.all"), "--queries", str(tmp_path / "q.qry"),
                     "--qrels", str(tmp_path / "q.trec"), "--out", str(tmp_path / "o.letor"), "--quiet"]) == 0
    assert ("2 row(s) over 2 unknown document id(s) (e.g. '001'); 2 of them are the collection's ids with leading "
            "zeros (e.g. '001', read as '1': SMART files' '.I' ids are read as numbers): write them without"
            ) in caplog.text


@pytest.mark.parametrize("name, text", [("t.trec", "<top>\n<num> Number: 301\n<title> wing flutter\n</top>\n"),
                                        ("q.tsv", "301\twing flutter\n")])
def test_query_ids_position_is_refused_for_query_files_that_carry_their_ids(small, capsys, name, text):
    """--query-ids position kept TREC topics 301, 302 and TSV ids as they were, silently (it numbers SMART queries
    only), where other options that cannot apply are refused."""
    (small / name).write_text(text)
    assert main(["features", "--collection", str(small / "d.trec"), "--queries", str(small / name), "--query-ids",
                 "position", "--out", str(small / "o.letor")]) == 2
    fmt = "trec" if name.endswith("trec") else "tsv"
    assert capsys.readouterr().err == (f"ltr features: error: --query-ids position numbers SMART queries 1..n; "
                                       f"{small / name} is in the {fmt!r} format, whose queries keep the ids the file "
                                       "gives them\n")


def test_a_lone_surrogate_in_json_text_or_a_served_query_is_named(tmp_path, small):
    """'bad \\ud800 coffee' is valid JSON: BM25 features were written, then the neural scorers failed with the
    tokenizer's "TextEncodeInput must be Union[...]", naming no file, document or scorer, and Reranker.rerank raised
    a bare TypeError (trial t49)."""
    from features.serve import Reranker

    docs = tmp_path / "d.jsonl"
    docs.write_text('{"_id": "d1", "text": "fine"}\n{"_id": "d6", "text": "bad \\ud800 coffee"}\n')
    with pytest.raises(CollectionFormatError) as e:
        load_documents(docs)
    assert e.value.cli_message() == (f"{docs}:2: 'text' holds a lone UTF-16 surrogate (U+D800) at character 4, from a "
                                     "broken \\u escape (token 'bad \\\\ud800 coffee'); pass --encoding-errors "
                                     "replace to substitute U+FFFD")
    # as an invalid UTF-8 byte: BM25 and the other classical features went on reading it before (the review of t49)
    assert load_documents(docs, errors="replace").fields["body"] == ["fine", "bad \ufffd coffee"]
    (tmp_path / "q.jsonl").write_text('{"_id": "1", "text": "\\udc00x"}\n')
    with pytest.raises(CollectionFormatError, match=r"q\.jsonl:1: 'text' holds a lone UTF-16 surrogate \(U\+DC00\)"):
        load_queries(tmp_path / "q.jsonl")
    assert main(["features", "--collection", str(small / "d.trec"), "--queries", str(small / "q.tsv"), "--out",
                 str(small / "o.letor"), "--quiet"]) == 0
    assert main(["train", str(small / "o.letor"), "--engine", "linear", "--out", str(small / "m.json"),
                 "--quiet"]) == 0
    reranker = Reranker.load(small / "m.json", collection=small / "d.trec")
    with pytest.raises(ValueError, match=r"query_text holds a lone UTF-16 surrogate \(U\+D800\) at character 3"):
        reranker.rerank("wing\ud800"[1:], ["d0", "d1"])
