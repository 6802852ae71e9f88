"""Reading TREC ``<DOC>`` documents and ``<top>`` topics: a bare ``<`` is text (checked against Python's
``html.parser``), character references decoded in topics as in documents, errors that name the line, and judgments
that write topic numbers with leading zeros."""

import gzip
import html
from html.parser import HTMLParser

import pytest

from features.collections import load_test_collection, read_trec_documents, read_trec_topics
from features.errors import CollectionFormatError
from ltr.cli import main
from ltr.io import read_letor


class _Words(HTMLParser):
    """The text of an HTML fragment as Python's own parser reads it (the HTML5 rule: ``<`` starts a tag only
    before a letter, ``/``, ``!`` or ``?``), character references decoded."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def html_parser_words(fragment: str) -> list[str]:
    p = _Words()
    p.feed(fragment)
    p.close()
    return "".join(p.parts).split()  # html.parser hands text on in pieces, split at each "<"


def trec_record(doc_id: str, title: str, body: str) -> str:
    return f"<DOC>\n<DOCNO>{doc_id}</DOCNO>\n<TITLE>{title}</TITLE>\n<TEXT>\n{body}\n</TEXT>\n</DOC>\n"


# -- a bare '<' is text ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    "sets (1 <= m <= n), and (3) all partitions",  # the trial's CACM document 717
    "if 10^8 < 2^27, we are likely to use it",
    "for (i = 0; i<n; i++) x < 3 > 2 and a <b> bold </b> word",
    "a < b <!-- a comment --> c <?pi x?> d </p> e",
])
def test_a_less_than_sign_not_starting_a_tag_is_text_as_html_parser_reads_it(tmp_path, body):
    p = tmp_path / "d.trec"
    p.write_text(trec_record("717", "t", body))
    got = read_trec_documents(p).fields["body"][0]
    assert got.split() == html_parser_words(f"\n{body}\n")


def test_the_trial_record_keeps_every_word_after_its_bare_less_than_signs(tmp_path):
    p = tmp_path / "lt.trec"
    p.write_text("<DOC>\n<DOCNO>717</DOCNO>\n<TEXT>\nsets (1 <= m <= n), and (3) all partitions\n</TEXT>\n</DOC>\n")
    assert read_trec_documents(p).fields["body"] == ["sets (1 <= m <= n), and (3) all partitions"]


@pytest.mark.shared
def test_cacm_written_as_trec_without_escaping_reads_as_its_smart_source_and_as_html_parser(shared_file, tmp_path):
    docs = load_test_collection(shared_file("cacm"), judgments=False).docs
    titles, bodies = docs.fields["title"], docs.fields["body"]
    assert sum("<" in b for b in bodies) >= 10  # the raw '<' of CACM's formulas, which the reader once ate
    records = [trec_record(d, t, b) for d, t, b in zip(docs.doc_ids, titles, bodies)]
    raw, escaped = tmp_path / "cacm_raw.gz", tmp_path / "cacm_escaped.gz"
    with gzip.open(raw, "wt") as f:
        f.writelines(records)
    with gzip.open(escaped, "wt") as f:
        f.writelines(trec_record(d, html.escape(t, quote=False), html.escape(b, quote=False))
                     for d, t, b in zip(docs.doc_ids, titles, bodies))
    for path in (raw, escaped):
        got = read_trec_documents(path)
        assert got.doc_ids == docs.doc_ids
        lost = sum(len(b.split()) - len(g.split()) for b, g in zip(bodies, got.fields["body"]))
        assert lost == 0
        assert [g.split() for g in got.fields["body"]] == [b.split() for b in bodies]
        assert [g.split() for g in got.fields["title"]] == [t.split() for t in titles]
    # the independent reading: html.parser's text of each record's <TEXT> element
    got = read_trec_documents(raw).fields["body"]
    with_lt = [i for i, b in enumerate(bodies) if "<" in b]
    for i in with_lt:
        assert got[i].split() == html_parser_words(f"\n{bodies[i]}\n"), docs.doc_ids[i]


# -- character references in topics ------------------------------------------------------------------------------------
def test_topic_character_references_are_decoded_as_in_documents(tmp_path):
    topics = tmp_path / "ent.topics"
    topics.write_text("<top>\n<num> Number: 9\n<title> AT&amp;T x &lt;b&gt; caf&#233;\n"
                      "<desc> Description:\nR&amp;D &hyph; costs\n</top>\n")
    docs = tmp_path / "d.trec"
    docs.write_text(trec_record("1", "AT&amp;T x &lt;b&gt; caf&#233;", "R&amp;D &hyph; costs"))
    q = read_trec_topics(topics, fields=("title", "desc"))
    d = read_trec_documents(docs)
    assert q.texts == (f"{html.unescape('AT&amp;T x &lt;b&gt; caf&#233;')} R&D - costs",)
    assert q.texts[0] == f"{d.fields['title'][0]} {d.fields['body'][0]}"


# -- errors that name the line -----------------------------------------------------------------------------------------
def test_a_missing_end_of_document_names_the_line_of_the_unclosed_doc(tmp_path):
    p = tmp_path / "e6.trec"
    p.write_text("<DOC>\n<DOCNO>a</DOCNO>\nwing\n</DOC>\n<DOC>\n<DOCNO>b</DOCNO>\nlift\n"
                 "<DOC>\n<DOCNO>c</DOCNO>\nx\n</DOC>\n")
    with pytest.raises(CollectionFormatError) as e:
        read_trec_documents(p)
    assert str(e.value) == (f"{p}:5: 3 <DOC> tags but 2 complete records: a </DOC> is missing (this <DOC> is not "
                            "closed before the next <DOC>, line 8)")
    p.write_text("<DOC>\n<DOCNO>a</DOCNO>\nwing\n</DOC>\n\n<DOC>\n<DOCNO>b</DOCNO>\nlift\n")
    with pytest.raises(CollectionFormatError, match=r":6: 2 <DOC> tags but 1 complete records: a </DOC> is missing "
                                                    r"\(this <DOC> is not closed before the end of the file\)$"):
        read_trec_documents(p)


def test_a_duplicate_document_id_names_the_lines_of_both_copies(tmp_path):
    p = tmp_path / "dup.trec"
    p.write_text("<DOC>\n<DOCNO>a</DOCNO>\nwing\n</DOC>\n<DOC>\n<DOCNO>b</DOCNO>\nlift\n</DOC>\n"
                 "<DOC>\n\n<DOCNO>a</DOCNO>\ndup\n</DOC>\n")
    with pytest.raises(CollectionFormatError) as e:
        read_trec_documents(p)
    assert e.value.path == str(p) and e.value.line == 11
    assert str(e.value) == (f"{p}:11: duplicate document id 'a' (records 1 and 3, lines 2 and 11); pass "
                            "duplicates='first' (or 'last') to keep one copy")
    assert read_trec_documents(p, duplicates="first").fields["body"] == ["wing", "lift"]


def test_a_duplicate_topic_number_names_its_line_and_the_first(tmp_path):
    p = tmp_path / "t.topics"
    p.write_text("<top>\n<num> Number: 051\n<title> wing\n</top>\n\n<top>\n<num> Number: 52\n<title> lift\n</top>\n"
                 "<top>\n<num> Number: 51\n<title> drag\n</top>\n")
    with pytest.raises(CollectionFormatError) as e:
        read_trec_topics(p)
    assert str(e.value) == f"{p}:10: duplicate query id '51' (first at line 1)"


# -- judgments with zero-padded topic numbers --------------------------------------------------------------------------
@pytest.fixture
def padded(tmp_path):
    (tmp_path / "docs.trec").write_text("".join(trec_record(d, "", t) for d, t in [
        ("d1", "flutter of a wing"), ("d2", "heat transfer in slabs"), ("d3", "wing flutter wing")]))
    (tmp_path / "topics").write_text("<top>\n<num> Number: 001\n<title> wing flutter\n</top>\n"
                                     "<top>\n<num> Number: 002\n<title> heat\n</top>\n")
    (tmp_path / "plain.qrels").write_text("1 0 d3 2\n1 0 d2 0\n2 0 d2 1\n")
    (tmp_path / "padded.qrels").write_text("001 0 d3 2\n001 0 d2 0\n002 0 d2 1\n")
    return tmp_path


def features(tmp_path, qrels, out, *extra):
    return main(["features", "--collection", str(tmp_path / "docs.trec"), "--queries", str(tmp_path / "topics"),
                 "--qrels", str(tmp_path / qrels), "--topk", "5", "--out", str(tmp_path / out), *extra])


def test_padded_judgment_numbers_are_matched_to_the_topics_with_a_note(padded, capsys):
    assert features(padded, "plain.qrels", "plain.letor") == 0
    plain_err = capsys.readouterr().err
    assert "leading zeros" not in plain_err  # unpadded judgments read as before, without a note
    assert features(padded, "padded.qrels", "padded.letor", "--qrels-out", str(padded / "out.qrels")) == 0
    err = capsys.readouterr().err
    assert ("ltr features: 2 judgment query id(s) with leading zeros matched to the queries numbered without them "
            "('001' -> '1', '002' -> '2'): topic numbers are read without leading zeros") in err
    assert (padded / "padded.letor").read_bytes() == (padded / "plain.letor").read_bytes()
    d = read_letor(padded / "padded.letor")
    labels = {(int(q), str(doc)): float(y) for q, doc, y in zip(d.qid, d.doc_ids, d.y)}
    assert labels[(1, "d3")] == 2.0 and labels[(2, "d2")] == 1.0
    assert (padded / "out.qrels").read_text().split("\n")[0].split()[0] == "1"


def test_ids_that_differ_in_leading_zeros_only_on_the_queries_side_are_named_not_sent_to_query_ids(padded, capsys):
    (padded / "q.tsv").write_text("001\twing flutter\n002\theat\n")
    assert main(["features", "--collection", str(padded / "docs.trec"), "--queries", str(padded / "q.tsv"), "--qrels",
                 str(padded / "plain.qrels"), "--out", str(padded / "z.letor")]) == 1
    err = capsys.readouterr().err
    assert "none of the 2 queries is named by the judgments (queries '001', '002', ...; judgments '1', '2', ...)" in err
    assert "differ in leading zeros" in err and "--query-ids" not in err
    (padded / "q.tsv").write_text("A\twing flutter\nB\theat\n")
    assert main(["features", "--collection", str(padded / "docs.trec"), "--queries", str(padded / "q.tsv"), "--qrels",
                 str(padded / "plain.qrels"), "--out", str(padded / "z.letor")]) == 1
    err = capsys.readouterr().err
    assert err.rstrip().endswith("are they numbered differently?") and "--query-ids" not in err


def test_a_document_id_repeated_across_files_of_a_folder_names_both_files(tmp_path):
    """The error said 'docs: duplicate document id 'd1' (records 1 and 4)', which a folder of hundreds of files
    cannot be searched for (trial t48/features)."""
    from features.collections.loaders import read_document_folder

    (tmp_path / "a.trec").write_text("<DOC><DOCNO>d1</DOCNO>x</DOC>\n<DOC><DOCNO>d2</DOCNO>y</DOC>\n")
    (tmp_path / "b.trec").write_text("<DOC><DOCNO>d3</DOCNO>z</DOC>\n<DOC><DOCNO>d1</DOCNO>w</DOC>\n")
    with pytest.raises(CollectionFormatError) as e:
        read_document_folder(tmp_path)
    assert str(e.value).startswith(f"{tmp_path / 'b.trec'}: duplicate document id 'd1' (record 2 here, record 1 "
                                   "of a.trec)")
    kept = read_document_folder(tmp_path, duplicates="first")
    assert kept.doc_ids == ("d1", "d2", "d3")
