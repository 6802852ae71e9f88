"""Tab- and comma-separated collections: a header that names the columns decides which is which, a stray tab inside
one text does not change the layout of the file, and unknown ids in judgments or runs are named with the file, the
line and the command line's option."""

from __future__ import annotations

import csv
import logging

import pandas as pd
import pytest

from features.collections import check_qrels, read_tsv_documents, read_tsv_queries
from features.collections.interchange import read_csv_documents
from features.errors import CollectionFormatError
from ltr.cli import main
from ltr.io import read_letor, read_qrels

#: (id, title, text) of five documents; the texts hold commas, quotes and a line break for the CSV writer.
RECORDS = [("d1", "Flutter of wings", "the flutter of a wing, at high speed"),
           ("d2", "Heat transfer", 'heat transfer in slabs: "a survey"'),
           ("d3", "Wing flutter", "wing flutter wing\nin a slipstream"),
           ("d4", "Boundary layers", "laminar boundary layer on a flat plate"),
           ("d5", "Shock waves", "shock waves ahead of a blunt body")]


def tsv(path, header, columns):
    """``columns`` of the records (names of RECORDS' fields) as a TSV file, with ``header`` as its first line."""
    at = {"id": 0, "title": 1, "text": 2}
    lines = ([header] if header else []) + ["\t".join(" ".join(r[at[c]].split()) for c in columns) for r in RECORDS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def one_line(texts):
    return [" ".join(t.split()) for t in texts]


# -- 2. a header naming the columns decides which column is which ---------------------------------------------------
def test_a_header_in_ir_datasets_beir_order_doc_id_text_title_does_not_swap_title_and_body(tmp_path):
    c = read_tsv_documents(tsv(tmp_path / "d.tsv", "doc_id\ttext\ttitle", ["id", "text", "title"]))
    assert c.doc_ids == tuple(r[0] for r in RECORDS)
    assert c.fields == {"title": one_line(r[1] for r in RECORDS), "body": one_line(r[2] for r in RECORDS)}


@pytest.mark.parametrize("header, columns", [
    ("text\tdocno\ttitle", ["text", "id", "title"]),      # the id need not come first
    ("_id\ttitle\tcontents", ["id", "title", "text"]),
    ("PID\tPASSAGE", ["id", "text"]),                       # names are matched without case
])
def test_a_header_in_any_order_reads_the_same_fields(tmp_path, header, columns):
    c = read_tsv_documents(tsv(tmp_path / "d.tsv", header, columns))
    assert c.doc_ids == tuple(r[0] for r in RECORDS)
    assert c.fields["body"] == one_line(r[2] for r in RECORDS)
    assert c.fields.get("title", one_line(r[1] for r in RECORDS)) == one_line(r[1] for r in RECORDS)
    assert ("title" in c.fields) == ("title" in columns)


def test_ir_datasets_robust04_export_header_reads_title_and_body_and_leaves_the_markup_out(tmp_path):
    """``ir_datasets export disks45/nocr/trec-robust-2004 docs``: doc_id, title, body, marked_up_doc; without the
    header this was read as MS MARCO's id, url, title, body (url = title, title = body, body = the SGML)."""
    p = tmp_path / "robust.tsv"
    p.write_text("doc_id\ttitle\tbody\tmarked_up_doc\n"
                 "FBIS3-1\tTitle one\tBody one\t<TEXT>Body one</TEXT>\n"
                 "LA0101-2\t\tBody two\t<TEXT>Body two</TEXT>\n")
    c = read_tsv_documents(p)
    assert c.doc_ids == ("FBIS3-1", "LA0101-2")
    assert c.fields == {"title": ["Title one", ""], "body": ["Body one", "Body two"]}
    assert c.metadata == {}


def test_a_header_keeps_a_url_column_as_metadata(tmp_path):
    p = tmp_path / "marco.tsv"
    p.write_text("docid\ttitle\turl\tbody\nD1\tT\thttp://a/\tB\n")
    c = read_tsv_documents(p)
    assert c.fields == {"title": ["T"], "body": ["B"]} and c.metadata == {"url": ["http://a/"]}


def test_a_header_naming_an_unknown_column_is_an_error_naming_the_file_line_and_name(tmp_path):
    p = tmp_path / "d.tsv"
    p.write_text("doc_id\ttext\tauthors\nd1\twing\tSmith\n")
    with pytest.raises(CollectionFormatError, match=r"d\.tsv:1: the header names a column the reader does not know "
                                                    r".* \(token 'authors'\)"):
        read_tsv_documents(p)


def test_a_header_naming_two_text_columns_is_an_error(tmp_path):
    p = tmp_path / "d.tsv"
    p.write_text("doc_id\ttext\tbody\nd1\twing\tlift\n")
    with pytest.raises(CollectionFormatError, match=r"d\.tsv:1: the header names 2 columns that hold the body "
                                                    r"\(text, body\)"):
        read_tsv_documents(p)


def test_lines_that_disagree_with_the_header_are_named(tmp_path, caplog):
    wide_text = tmp_path / "w.tsv"
    wide_text.write_text("doc_id\ttitle\ttext\nd1\tT\tflutter\tof a wing\nd2\tU\tlift\n")
    with caplog.at_level(logging.WARNING):
        c = read_tsv_documents(wide_text)  # the text is the last column: the stray tab belongs to it
    assert c.fields == {"title": ["T", "U"], "body": ["flutter\tof a wing", "lift"]}
    assert "w.tsv:2: 1 line(s) of more tab-separated columns than the file's 3" in caplog.text
    wide_title = tmp_path / "wt.tsv"
    wide_title.write_text("doc_id\ttext\ttitle\nd1\tflutter\tof a wing\tT\nd2\tlift\tU\n")
    with pytest.raises(CollectionFormatError, match=r"wt\.tsv:2: 4 tab-separated columns, the header names 3 "
                                                    r"\(id, body, title\) and the last is not the text"):
        read_tsv_documents(wide_title)
    short = tmp_path / "s.tsv"
    short.write_text("doc_id\ttext\ttitle\nd1\tflutter\tT\nd2\tlift\n")
    with pytest.raises(CollectionFormatError, match=r"s\.tsv:3: 2 tab-separated columns, the header names 3"):
        read_tsv_documents(short)


def test_query_files_with_a_header_in_either_order(tmp_path):
    p = tmp_path / "q.tsv"
    p.write_text("text\tquery_id\nwing flutter\t1\nheat\t2\n")
    q = read_tsv_queries(p)
    assert q.qids == ("1", "2") and q.texts == ("wing flutter", "heat")


def test_headerless_files_keep_the_count_rule(tmp_path):
    three = read_tsv_documents(tsv(tmp_path / "d3.tsv", None, ["id", "title", "text"]))
    assert three.fields == {"title": one_line(r[1] for r in RECORDS), "body": one_line(r[2] for r in RECORDS)}
    two = read_tsv_documents(tsv(tmp_path / "d2.tsv", None, ["id", "text"]))
    assert two.fields == {"body": one_line(r[2] for r in RECORDS)}


# -- 4. one stray tab does not change the layout --------------------------------------------------------------------
def test_one_stray_tab_in_an_id_text_file_stays_in_its_text_with_a_warning_naming_the_line(tmp_path, caplog):
    clean = tsv(tmp_path / "clean.tsv", None, ["id", "text"])
    lines = clean.read_text().splitlines()
    lines[2] = lines[2].replace(" ", "\t", 1)  # line 3, document d3: "wing\tflutter wing in a slipstream"
    stray = tmp_path / "stray.tsv"
    stray.write_text("\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING):
        c = read_tsv_documents(stray)
    assert list(c.fields) == ["body"]  # no title column for every document
    assert c.fields["body"][2] == "wing\tflutter wing in a slipstream"
    assert one_line(c.fields["body"]) == read_tsv_documents(clean).fields["body"]
    assert "stray.tsv:3: 1 line(s) of more tab-separated columns than the file's 2 (id, body)" in caplog.text


def test_a_stray_tab_in_a_three_column_file_is_not_read_as_ms_marco_documents(tmp_path):
    p = tmp_path / "d.tsv"
    p.write_text("d1\tT1\tflutter of a wing\nd2\tT2\theat\ttransfer\nd3\tT3\tlift\n")
    c = read_tsv_documents(p)
    assert c.fields == {"title": ["T1", "T2", "T3"], "body": ["flutter of a wing", "heat\ttransfer", "lift"]}
    assert c.metadata == {}


def test_a_short_line_in_ms_marco_documents_is_named_by_its_line(tmp_path):
    p = tmp_path / "m.tsv"
    p.write_text("D1\tu\tt\tb\nD2\tu\tt\tb\nD3\tonly\n")
    with pytest.raises(CollectionFormatError, match=r"m\.tsv:3: a file of 4-column lines .* with a line of 2"):
        read_tsv_documents(p)


@pytest.fixture
def feature_files(tmp_path):
    tsv(tmp_path / "docs.tsv", None, ["id", "text"])
    (tmp_path / "q.tsv").write_text("1\twing flutter\n2\theat transfer\n")
    (tmp_path / "qrels").write_text("1 0 d3 2\n1 0 d1 1\n2 0 d2 1\n")
    return tmp_path


def test_ltr_features_writes_the_same_letor_file_with_one_stray_tab(feature_files, caplog):
    """The trial's repro: 32 features from the clean file, 88 (a title field) from the same file with one tab."""
    lines = (feature_files / "docs.tsv").read_text().splitlines()
    lines[0] = lines[0].replace(" ", "\t", 1)
    (feature_files / "stray.tsv").write_text("\n".join(lines) + "\n")
    for name in ("docs", "stray"):
        assert main(["features", "--collection", str(feature_files / f"{name}.tsv"), "--queries",
                     str(feature_files / "q.tsv"), "--qrels", str(feature_files / "qrels"), "--topk", "5",
                     "--out", str(feature_files / f"{name}.letor"), "--quiet"]) == 0
    assert "stray.tsv:1: 1 line(s) of more tab-separated columns" in caplog.text
    assert (feature_files / "stray.letor").read_bytes() == (feature_files / "docs.letor").read_bytes()
    assert not any(":title" in n for n in read_letor(feature_files / "stray.letor").feature_names or ())


# -- 9. comma-separated documents ------------------------------------------------------------------------------------
def test_csv_documents_written_by_pandas_read_back_field_for_field(tmp_path):
    p = tmp_path / "docs.csv"
    frame = pd.DataFrame(RECORDS, columns=["docno", "title", "text"])
    frame.to_csv(p, index=False)  # quotes the texts holding commas, quotes and line breaks (RFC 4180)
    c = read_csv_documents(p)
    assert c.doc_ids == tuple(frame.docno)
    assert c.fields == {"title": frame.title.tolist(), "body": frame.text.tolist()}


def test_csv_documents_longer_than_the_csv_modules_field_limit_are_read_whole(tmp_path):
    p = tmp_path / "long.csv"
    before = csv.field_size_limit()
    body = "wing " * 40_000  # 200,000 characters: over csv's default limit of 131,072 per field
    pd.DataFrame({"docid": ["d1", "d2"], "text": [body, "lift"]}).to_csv(p, index=False)
    assert read_csv_documents(p).fields == {"body": [body, "lift"]}
    assert csv.field_size_limit() == before  # the module's setting is left as it was


def test_ltr_features_reads_a_csv_collection_as_the_same_documents_in_tsv(feature_files):
    # "cannot detect the format ... pass --doc-format <smart | trec | beir | tsv | npl>", none of which read it
    rows = [line.split("\t") for line in (feature_files / "docs.tsv").read_text().splitlines()]
    pd.DataFrame(rows, columns=["docno", "text"]).to_csv(feature_files / "docs.csv", index=False)
    for name in ("tsv", "csv"):
        assert main(["features", "--collection", str(feature_files / f"docs.{name}"), "--queries",
                     str(feature_files / "q.tsv"), "--qrels", str(feature_files / "qrels"), "--topk", "5",
                     "--out", str(feature_files / f"{name}.letor"), "--quiet"]) == 0
    assert (feature_files / "csv.letor").read_bytes() == (feature_files / "tsv.letor").read_bytes()
    assert main(["features", "--collection", str(feature_files / "docs.csv"), "--doc-format", "csv", "--queries",
                 str(feature_files / "q.tsv"), "--qrels", str(feature_files / "qrels"), "--topk", "5",
                 "--out", str(feature_files / "named.letor"), "--quiet"]) == 0  # the format named, as the hint says
    assert (feature_files / "named.letor").read_bytes() == (feature_files / "tsv.letor").read_bytes()


def test_duplicate_ids_in_tsv_files_are_named_by_line(tmp_path):
    (tmp_path / "d.tsv").write_text("id\ttext\na\twing\nb\tlift\na\tdup\n")
    with pytest.raises(CollectionFormatError, match=r"d\.tsv:4: duplicate document id 'a' \(records 1 and 3, "
                                                    r"lines 2 and 4\)"):
        read_tsv_documents(tmp_path / "d.tsv")
    (tmp_path / "q.tsv").write_text("1\twing\n2\tlift\n1\tdrag\n")
    with pytest.raises(CollectionFormatError, match=r"q\.tsv:3: duplicate query id '1' \(first at line 1\)"):
        read_tsv_queries(tmp_path / "q.tsv")


def test_csv_without_a_header_or_with_a_short_record_is_named(tmp_path):
    p = tmp_path / "noheader.csv"
    with open(p, "w", newline="") as f:
        csv.writer(f).writerows(RECORDS)
    with pytest.raises(CollectionFormatError, match=r"noheader\.csv:1: a CSV file of documents needs a first line "
                                                    r"naming its columns"):
        read_csv_documents(p)
    q = tmp_path / "short.csv"
    q.write_text('docno,title,text\nd1,T,"two\nlines"\nd2,U\n')
    with pytest.raises(CollectionFormatError, match=r"short\.csv:4: 2 comma-separated columns, the header names 3"):
        read_csv_documents(q)


# -- 5. unknown ids: the file, the line and the command line's option ------------------------------------------------
@pytest.fixture
def unknown_qrels(tmp_path):
    p = tmp_path / "qru"
    p.write_text("1 0 a 1\n1 0 zz 1\n7 0 a 1\n")
    return p


def test_unknown_ids_name_the_file_the_first_line_and_the_option_in_each_wording(unknown_qrels):
    with pytest.raises(CollectionFormatError) as e:
        check_qrels(read_qrels(unknown_qrels), ["1"], ["a", "b"], on_unknown="error", path=unknown_qrels)
    assert str(e.value).startswith(f"{unknown_qrels}:2: qrels: 1 row(s) over 1 unknown query id(s) (e.g. '7', "
                                   "line 3), 1 row(s) over 1 unknown document id(s) (e.g. 'zz', line 2) (token "
                                   "'1 0 zz 1')")
    assert str(e.value).endswith("; pass on_unknown='warn' to drop them")
    assert e.value.cli_message().endswith("; pass --on-unknown warn to drop them")
    assert (e.value.path, e.value.line) == (str(unknown_qrels), 2)


def test_unknown_ids_of_a_frame_without_a_file_still_word_the_fix_for_the_command_line(unknown_qrels, caplog):
    frame = read_qrels(unknown_qrels)
    assert frame.attrs["path"] == str(unknown_qrels)  # ltr.io.read_qrels says where its frame was read from
    frame.attrs.clear()  # a frame made otherwise
    with pytest.raises(CollectionFormatError) as e:
        check_qrels(frame, ["1"], ["a"], on_unknown="error", what="candidates")
    assert e.value.path is None and "on_unknown='warn'" in str(e.value)
    assert e.value.cli_message().endswith("pass --on-unknown warn to drop them")
    frame.attrs["path"] = str(unknown_qrels)  # a frame that says where it was read from
    with caplog.at_level(logging.WARNING):
        kept = check_qrels(frame, ["1"], ["a"])
    assert kept.values.tolist() == [["1", "a", 1]]
    assert f"{unknown_qrels}:2: qrels: 1 row(s) over 1 unknown query id(s)" in caplog.text


def test_ltr_features_on_unknown_error_spells_the_option_as_the_command_line_does(tmp_path, capsys):
    (tmp_path / "d2.tsv").write_text("a\twing\nb\tlift\n")
    (tmp_path / "q.tsv").write_text("1\twing\n")
    (tmp_path / "qru").write_text("1 0 a 1\n1 0 zz 1\n7 0 a 1\n")
    assert main(["features", "--collection", str(tmp_path / "d2.tsv"), "--queries", str(tmp_path / "q.tsv"),
                 "--qrels", str(tmp_path / "qru"), "--out", str(tmp_path / "z.letor"), "--on-unknown", "error"]) == 1
    err = capsys.readouterr().err
    assert "pass --on-unknown warn to drop them" in err and "on_unknown=" not in err
    assert f"{tmp_path / 'qru'}:2: qrels: " in err and "(token '1 0 zz 1')" in err  # the file and its first such line
