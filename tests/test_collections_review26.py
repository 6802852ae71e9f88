"""Review of this stop's collection readers: a folder's README is still skipped, header lines of either kind of
TSV are headers, pandas' and R's CSV exports are read, the qrels line an error names is the row's own."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from features.collections import check_qrels, detect_format, load_documents, load_queries, read_document_folder
from features.errors import CollectionFormatError
from ltr.io import read_qrels


def test_a_folder_s_readme_with_a_comma_is_skipped_as_before_not_read_as_csv(tmp_path, caplog):
    (tmp_path / "coll").mkdir()
    (tmp_path / "coll" / "fr940104.trec").write_text("<DOC>\n<DOCNO>d1</DOCNO>\n<TEXT>wing lift</TEXT>\n</DOC>\n")
    (tmp_path / "coll" / "README.txt").write_text("This folder holds the Federal Register, 1994, as shipped.\n")
    with caplog.at_level(logging.WARNING):
        c = read_document_folder(tmp_path / "coll")
    assert c.doc_ids == ("d1",) and "README.txt" in caplog.text


@pytest.mark.parametrize("first", ['["a", "b"]', "This text, with a comma, is prose", "<!-- a comment, -->"])
def test_a_first_line_with_commas_that_names_no_columns_cannot_be_detected_and_says_which_option(tmp_path, first):
    (tmp_path / "x").write_text(first + "\n")
    with pytest.raises(CollectionFormatError, match="cannot detect the format from the first line") as e:
        detect_format(tmp_path / "x")
    assert "--doc-format <smart | trec | beir | tsv | csv | npl>" in e.value.cli_message()


def test_header_lines_of_either_kind_of_tsv_are_headers_not_records(tmp_path):
    (tmp_path / "d.tsv").write_text("qid\tquestion\nq1\thow do magnets work\nq2\twhy is the sky blue\n")
    (tmp_path / "q.tsv").write_text("qid\tbody\n1\twings\n")
    docs = load_documents(tmp_path / "d.tsv")
    assert docs.doc_ids == ("q1", "q2") and docs.fields["body"] == ["how do magnets work", "why is the sky blue"]
    assert load_queries(tmp_path / "q.tsv").qids == ("1",)


def test_pandas_default_to_csv_with_its_index_and_a_quoted_header_are_read(tmp_path):
    frame = pd.DataFrame({"docno": ["d1", "d2"], "title": ["Wings, flutter", "Lift"], "text": ["a body", "lift"]})
    frame.to_csv(tmp_path / "indexed.csv")  # pandas' default: the index first, under an empty name
    frame.to_csv(tmp_path / "quoted.csv", index=False, quoting=1)  # csv.QUOTE_ALL, as R's write.csv quotes
    for name in ("indexed.csv", "quoted.csv"):
        assert detect_format(tmp_path / name) == "csv"
        c = load_documents(tmp_path / name)
        assert c.doc_ids == ("d1", "d2") and c.fields == {"title": ["Wings, flutter", "Lift"],
                                                          "body": ["a body", "lift"]}, name


def test_an_unknown_judgment_is_named_by_its_own_line_in_the_files_layout(tmp_path, caplog):
    # '1 1 2' (doc 1, relevance 2) is unknown; '1 2 1' (doc 2) was blamed, its relevance read as a document id
    (tmp_path / "numq.qdr").write_text("1 2 1\n1 3 1\n1 1 2\n")
    frame = read_qrels(tmp_path / "numq.qdr", "qdr")
    with pytest.raises(CollectionFormatError) as e:
        check_qrels(frame, ["1"], ["2", "3"], on_unknown="error")
    assert f"{tmp_path / 'numq.qdr'}:3: " in str(e.value) and "(token '1 1 2')" in str(e.value)
    # a line separator inside an id neither splits the line nor hides it (trec_eval splits at \n only)
    (tmp_path / "u.qrels").write_text("51 0 d\u2028x 0\n51 0 d1 1\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        check_qrels(read_qrels(tmp_path / "u.qrels"), ["51"], ["d1"])
    assert f"{tmp_path / 'u.qrels'}:1: " in caplog.text


def test_a_stray_tab_in_ms_marco_documents_and_headerless_queries_stays_in_the_text(tmp_path, caplog):
    (tmp_path / "msm.tsv").write_text("D1\thttp://a\tTitle one\tbody one\nD2\thttp://b\tTitle two\tbody with a\tstray "
                                      "tab\nD3\thttp://c\tT3\tb3\n")
    (tmp_path / "q3.tsv").write_text("1\twhat is a\ttab\n2\tsecond query\n3\tthird\n")
    with caplog.at_level(logging.WARNING):
        docs, queries = load_documents(tmp_path / "msm.tsv"), load_queries(tmp_path / "q3.tsv")
    assert docs.fields["body"] == ["body one", "body with a\tstray tab", "b3"]
    assert dict(queries.items())["1"] == "what is a\ttab"
    assert "msm.tsv:2: 1 line(s) of more tab-separated columns" in caplog.text and "q3.tsv:1: " in caplog.text
    (tmp_path / "wide.tsv").write_text("a\tb\tc\td\te\n" * 3)  # most lines wider than any layout: refused
    with pytest.raises(CollectionFormatError, match=r"wide\.tsv:1: expected at most 4 tab-separated columns, got 5"):
        load_documents(tmp_path / "wide.tsv")


def test_a_first_stage_run_with_padded_topic_numbers_is_matched_as_the_judgments_are(tmp_path, capsys):
    from ltr.cli import main
    from ltr.io import read_letor

    (tmp_path / "docs.trec").write_text("<DOC>\n<DOCNO>d1</DOCNO>\n<TEXT>wing lift</TEXT>\n</DOC>\n<DOC>\n<DOCNO>d2"
                                        "</DOCNO>\n<TEXT>boundary layer</TEXT>\n</DOC>\n")
    (tmp_path / "topics").write_text("<top>\n<num> Number: 051\n<title> wing\n</top>\n<top>\n<num> Number: 052\n"
                                     "<title> boundary\n</top>\n")
    (tmp_path / "qrels").write_text("051 0 d1 1\n052 0 d2 1\n051 0 d2 0\n")
    (tmp_path / "first.run").write_text("051 Q0 d1 1 2.0 bm25\n051 Q0 d2 2 1.0 bm25\n052 Q0 d2 1 1.0 bm25\n"
                                        "052 Q0 d1 2 0.5 bm25\n")
    assert main(["features", "--collection", str(tmp_path / "docs.trec"), "--queries", str(tmp_path / "topics"),
                 "--qrels", str(tmp_path / "qrels"), "--run", str(tmp_path / "first.run"),
                 "--out", str(tmp_path / "o.letor")]) == 0
    assert "2 query id(s) of --run" in capsys.readouterr().err
    d = read_letor(tmp_path / "o.letor")
    assert d.n_rows == 4 and d.y.tolist() == [1, 0, 1, 0]  # every run line a candidate, with its judgment
