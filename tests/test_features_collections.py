"""Collection, query and relevance readers: each layout on small files, bad input, and the real collections."""

from __future__ import annotations

import gzip
import logging

import pandas as pd
import pytest

from features.collections import (
    CRANFIELD_GAINS,
    Collection,
    Queries,
    check_qrels,
    detect_format,
    detect_qrels_format,
    load_documents,
    load_queries,
    load_test_collection,
    read_beir_corpus,
    read_beir_queries,
    read_qrels,
    read_smart_documents,
    read_smart_queries,
    read_text,
    read_trec_documents,
    read_trec_topics,
    read_tsv_documents,
    read_tsv_queries,
)
from features.collections.npl import read_npl_documents
from features.errors import CollectionFormatError


def write(tmp_path, name, text, *, binary=False):
    p = tmp_path / name
    if binary:
        p.write_bytes(text)
    elif name.endswith(".gz"):
        with gzip.open(p, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


SMART_DOCS = """.I 1
.T
experimental wing
.A
brenckman,m.
.B
j. ae. scs. 25, 1958, 324.
.W
experimental investigation of the
aerodynamics of a wing .
.I 2
.T
.W
.I 3
.W
shear flow .
"""


# -- SMART -----------------------------------------------------------------------------------------------------------
def test_smart_documents_keep_title_and_body_and_move_other_fields_to_metadata(tmp_path):
    c = read_smart_documents(write(tmp_path, "c.all", SMART_DOCS))
    assert c.doc_ids == ("1", "2", "3")
    assert c.fields["title"] == ["experimental wing", "", ""]
    assert c.fields["body"] == ["experimental investigation of the\naerodynamics of a wing .", "", "shear flow ."]
    assert c.metadata["authors"] == ["brenckman,m.", "", ""]
    assert c.metadata["source"][0] == "j. ae. scs. 25, 1958, 324."


def test_smart_documents_read_gzip_and_crlf(tmp_path):
    c = read_smart_documents(write(tmp_path, "c.all.gz", SMART_DOCS.replace("\n", "\r\n")))
    assert c.fields["title"][0] == "experimental wing"
    assert c.fields["body"][2] == "shear flow ."


def test_smart_queries_number_by_record_or_position_and_skip_empty_final_record(tmp_path):
    p = write(tmp_path, "q", ".I 001\n.W\nwhat is lift ?\n.I 004\n.T\nheat\n.W\ntransfer .\n.I 0\n")
    q = read_smart_queries(p)
    assert q.qids == ("1", "4") and q.texts == ("what is lift ?", "heat transfer .")
    assert read_smart_queries(p, ids="position").qids == ("1", "2")


def test_smart_reader_names_file_and_line_of_text_outside_records(tmp_path):
    p = write(tmp_path, "bad", "hello\n.I 1\n.W\nx\n")
    with pytest.raises(CollectionFormatError, match=r"bad:1: text before the first '.I'"):
        read_smart_documents(p)
    p = write(tmp_path, "bad2", ".I 1\nstray text\n")
    with pytest.raises(CollectionFormatError, match=r"bad2:2: .*before any field marker"):
        read_smart_documents(p)


# -- relevance layouts -----------------------------------------------------------------------------------------------
def test_qrels_trec_layout(tmp_path):
    p = write(tmp_path, "qrels", "1 0 1239 1\n1 0 1502 0\nPLAIN-2\t0\tMED-10\t2\n")
    df = read_qrels(p)
    assert list(df.columns) == ["qid", "docno", "rel"]
    assert df.values.tolist() == [["1", "1239", 1], ["1", "1502", 0], ["PLAIN-2", "MED-10", 2]]
    assert detect_qrels_format(p) == "trec"


def test_qrels_smart_layouts_are_all_relevant_and_lose_zero_padding(tmp_path):
    adi = write(tmp_path, "ADI.REL", "1   17   0   0.000000   \r\n1   46   0   0.000000   \r\n")
    cacm = write(tmp_path, "qrels.text", "01 1410  0 0\n01 0756  0 0\n")
    pairs = write(tmp_path, "pairs", "3 5\n3 9\n")
    assert read_qrels(adi).values.tolist() == [["1", "17", 1], ["1", "46", 1]]
    assert read_qrels(cacm).values.tolist() == [["1", "1410", 1], ["1", "756", 1]]
    assert read_qrels(pairs).values.tolist() == [["3", "5", 1], ["3", "9", 1]]
    assert {detect_qrels_format(p) for p in (adi, cacm, pairs)} == {"smart"}


def test_qrels_cranfield_codes_map_to_five_minus_code_and_minus_one_to_zero(tmp_path):
    p = write(tmp_path, "cranqrel", "1 184 2 \n1 29 1\n1 12 3\n1 51 4\n1 486 -1\n")
    df = read_qrels(p)
    assert detect_qrels_format(p) == "cranfield"
    assert df.rel.tolist() == [5 - 2, 5 - 1, 5 - 3, 5 - 4, 0]
    assert CRANFIELD_GAINS == {1: 4, 2: 3, 3: 2, 4: 1, 5: 0, -1: 0}
    binary = read_qrels(p, gains={1: 1, 2: 1, 3: 1, 4: 0, -1: 0})
    assert binary.rel.tolist() == [1, 1, 1, 0, 0]
    with pytest.raises(CollectionFormatError, match=r"relevance value\(s\) \[4\] have no entry"):
        read_qrels(p, gains={1: 1, 2: 1, 3: 1, -1: 0})


def test_qrels_beir_and_three_column_layouts(tmp_path):
    beir = write(tmp_path, "test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t0\n")
    assert read_qrels(beir).values.tolist() == [["q1", "d1", 2], ["q1", "d2", 0]]
    three = write(tmp_path, "labels.txt", "q1 d1 3\n")
    assert detect_qrels_format(three) == "qdr" and read_qrels(three).rel.tolist() == [3]


def test_qrels_errors_name_file_line_and_token(tmp_path):
    with pytest.raises(CollectionFormatError, match=r"q:2: relevance must be an integer \(token 'x'\)"):
        read_qrels(write(tmp_path, "q", "1 0 d1 1\n1 0 d2 x\n"), "trec")
    with pytest.raises(CollectionFormatError, match=r"judged twice for query '1'"):
        read_qrels(write(tmp_path, "q2", "1 0 d1 1\n1 0 d1 0\n"))
    with pytest.raises(CollectionFormatError, match="cannot tell the relevance format"):
        read_qrels(write(tmp_path, "q3", "1 0 d1 1\n1 d2\n"))
    with pytest.raises(CollectionFormatError, match="empty relevance file"):
        read_qrels(write(tmp_path, "q4", "\n"))


def test_check_qrels_warns_with_counts_or_raises(tmp_path, caplog):
    df = pd.DataFrame({"qid": ["1", "1", "9", "9", "1"], "docno": ["a", "zz", "a", "b", "b"], "rel": [1] * 5})
    with caplog.at_level(logging.WARNING):
        kept = check_qrels(df, ["1"], ["a", "b"])
    assert kept[["qid", "docno"]].values.tolist() == [["1", "a"], ["1", "b"]]
    assert "2 row(s) over 1 unknown query id(s)" in caplog.text
    assert "1 row(s) over 1 unknown document id(s)" in caplog.text
    with pytest.raises(CollectionFormatError, match="unknown query id"):
        check_qrels(df, ["1"], ["a", "b"], on_unknown="error")


# -- TREC markup, BEIR, TSV ------------------------------------------------------------------------------------------
def test_trec_documents_split_title_from_body_and_strip_tags(tmp_path):
    p = write(tmp_path, "d.trec", "<DOC>\n<DOCNO> 7 </DOCNO>\n<TITLE>Lift</TITLE>\nwings <B>fly</B>\n</DOC>\n"
                                  "<DOC><DOCNO>8</DOCNO></DOC>\n")
    c = read_trec_documents(p)
    assert c.doc_ids == ("7", "8")
    assert c.fields == {"title": ["Lift", ""], "body": ["wings fly", ""]}
    with pytest.raises(CollectionFormatError, match="complete records"):
        read_trec_documents(write(tmp_path, "bad.trec", "<DOC><DOCNO>1</DOCNO> a </DOC>\n<DOC><DOCNO>2</DOCNO> b\n"))
    with pytest.raises(CollectionFormatError, match="without a <DOCNO>"):
        read_trec_documents(write(tmp_path, "bad2.trec", "<DOC> a </DOC>\n"))


def test_trec_documents_take_the_headlines_of_each_trec_disk_source_without_their_tags(tmp_path):
    """The TREC disks' headline elements (LA Times' <HEADLINE><P>, FBIS' <TI> inside <HEADER>, WSJ's <HL>, AP's
    <HEAD>) are the title, with their inner tags removed; <HEADER> is not <HEAD>; an empty one adds nothing."""
    p = write(tmp_path, "d.trec", """<DOC>
<DOCNO> LA010189-0001 </DOCNO>
<HEADLINE><P>BOOKS ON</P>
<P>PARIS</P></HEADLINE>
<TEXT><P>Paris guides.</P></TEXT>
</DOC>
<DOC>
<DOCNO> FBIS3-10082 </DOCNO>
<HEADER><H3> <TI>   Organized Crime Growing </TI></H3></HEADER>
<TEXT>Crime groups expand.</TEXT>
</DOC>
<DOC>
<DOCNO> WSJ870324-0001 </DOCNO>
<HL> John Blair Is Near Accord </HL>
<HEAD></HEAD>
<TEXT> Sale talks. </TEXT>
</DOC>
""")
    c = read_trec_documents(p)
    assert c.fields["title"] == ["BOOKS ON PARIS", "Organized Crime Growing", "John Blair Is Near Accord"]
    assert c.fields["body"] == ["Paris guides.", "Crime groups expand.", "Sale talks."]


def test_trec_topics_closed_and_classic_forms(tmp_path):
    vaswani = write(tmp_path, "t1", "<top>\n<num>1</num><title>\nMEASUREMENT OF LIQUIDS\n</title>\n</top>\n")
    classic = write(tmp_path, "t2", "<top>\n<num> Number: 401\n<title> foreign minorities\n<desc> Description:\n"
                                    "what is\n<narr> Narrative:\nx\n</top>\n")
    assert read_trec_topics(vaswani).texts == ("MEASUREMENT OF LIQUIDS",)
    q = read_trec_topics(classic, fields=("title", "desc"))
    assert q.qids == ("401",) and q.texts == ("foreign minorities what is",)


def test_doc_tags_with_attributes_are_records_and_an_id_attribute_stands_for_a_missing_docno(tmp_path):
    p = write(tmp_path, "d.trec", '<DOC id="x0">\n<DOCNO>d1</DOCNO>\n<TEXT>airbus</TEXT>\n</DOC>\n'
                                  '<DOC>\n<DOCNO>d2</DOCNO>\n<TEXT>boeing</TEXT>\n</DOC>\n'
                                  '<DOC id="AFP_ENG_1" type="story" >\n<HEADLINE>Talks</HEADLINE>\n<TEXT>x</TEXT>\n'
                                  '</DOC>\n<doc id=\'a-b\'>y</doc>\n<DOC ID=AFP_ENG_2>z</DOC>\n')
    assert detect_format(p) == "trec"
    c = read_trec_documents(p)
    assert c.doc_ids == ("d1", "d2", "AFP_ENG_1", "a-b", "AFP_ENG_2")
    # a quoted attribute may hold blanks, which no run or qrels file can: refused as the file is read
    with pytest.raises(CollectionFormatError, match=r"sp.trec:2: document id \(<DOC id=...>\) 'a b' contains "
                                                    r"whitespace"):
        read_trec_documents(write(tmp_path, "sp.trec", "<DOC id='x'>a</DOC>\n<doc id='a b'>y</doc>\n"))
    assert c.fields == {"title": ["", "", "Talks", "", ""], "body": ["airbus", "boeing", "x", "y", "z"]}
    with pytest.raises(CollectionFormatError, match=r"3 <DOC> tags but 2 complete records"):
        read_trec_documents(write(tmp_path, "cut.trec", '<DOC id="1">a</DOC><DOC id="2">b</DOC><DOC id="3">c'))
    with pytest.raises(CollectionFormatError, match=r"noid.trec:2: <DOC> without a <DOCNO> or an id attribute"):
        read_trec_documents(write(tmp_path, "noid.trec", '<DOC id="1">a</DOC>\n<DOC type="story">b</DOC>'))


def test_web_pages_keep_their_title_and_text_without_header_head_scripts_styles_or_comments(tmp_path):
    page = ('<DOC>\n<DOCNO>GX000-00-0000000</DOCNO>\n<DOCHDR>\nhttp://sgra.jpl.nasa.gov\nHTTP/1.1 200 OK\n'
            'Server: Apache\n</DOCHDR>\n<html><HEAD><TITLE>JPL &amp; NASA Caf&eacute;</TITLE>\n'
            '<script type="text/javascript">if (a < b) { x("<p>hi"); }</script><style>body { color: red }</style>'
            '<meta name="k" content="v"></HEAD>\n<body><!-- a > b --><p>Sun &amp; moon &lt;research&gt; '
            'caf&#233;</p><SCRIPT>var y = 1;</SCRIPT></body></html>\n</DOC>\n')
    c = read_trec_documents(write(tmp_path, "gov2.trec", page))
    assert c.fields == {"title": ["JPL & NASA Café"], "body": ["Sun & moon <research> café"]}


def test_character_references_and_the_trec_disks_entities_are_decoded(tmp_path):
    c = read_trec_documents(write(tmp_path, "d.trec", "<DOC><DOCNO>FR940104-0-00001</DOCNO><TEXT>Fish &amp; "
                                                      "Wildlife; long&hyph;term; a&blank;b &sect;1 &#65; "
                                                      "&unknownentity; AT&T</TEXT></DOC>"))
    assert c.fields["body"] == ["Fish & Wildlife; long-term; a b \u00a71 A AT&T"]


def test_trec_1_2_topics_drop_leading_zeros_and_keep_their_other_sections_out_of_the_fields(tmp_path):
    p = write(tmp_path, "topics.51-100", """<top>
<head> Tipster Topic Description
<num> Number:  051
<dom> Domain: International Economics
<title> Topic:  Airbus Subsidies
<desc> Description:
Document will discuss government assistance to Airbus Industrie.
<narr> Narrative:
To be relevant, a document must cite assistance.
<con> Concept(s):
1. Airbus Industrie
<fac> Factor(s):
<nat> Nationality: U.S.</nat>
</fac>
<def> Definition(s):
</top>
<top>
<num> Number: 0
<title> Topic: zero
</top>
""")
    q = read_trec_topics(p, fields=("title", "narr"))
    assert q.qids == ("51", "0")
    assert q.texts == ("Airbus Subsidies To be relevant, a document must cite assistance.", "zero")


def test_web_track_xml_topics_give_title_from_query_and_desc_from_description(tmp_path):
    p = write(tmp_path, "wt09.topics.xml", """<?xml version="1.0" encoding="UTF-8"?>
<webtrack2009>
<topic number="1" type="faceted">
  <query>obama family tree</query>
  <description>Find information on President Barack Obama's family
  history.</description>
  <subtopic number="1" type="nav">Find the TIME magazine photo essay.</subtopic>
</topic>
<topic number='02'>
  <query>french lick resort and casino</query>
  <description>Find information on the resort &amp; casino.</description>
</topic>
</webtrack2009>
""")
    assert detect_format(p) == "trec"
    assert dict(load_queries(p).items()) == {"1": "obama family tree", "2": "french lick resort and casino"}
    assert read_trec_topics(p, fields=("desc",)).texts == (
        "Find information on President Barack Obama's family history.", "Find information on the resort & casino.")
    with pytest.raises(CollectionFormatError, match=r"nonum.xml:1: <topic> without a number"):
        read_trec_topics(write(tmp_path, "nonum.xml", "<topic><query>x</query></topic>"))


def test_format_detection_skips_a_byte_order_mark_and_names_an_empty_file(tmp_path):
    bom = tmp_path / "bom.trec"
    bom.write_bytes(b"\xef\xbb\xbf<DOC><DOCNO>1</DOCNO>x</DOC>\n")
    assert detect_format(bom) == "trec" and load_documents(bom).doc_ids == ("1",)
    with pytest.raises(CollectionFormatError, match=r"empty.trec: empty file: no documents$"):
        load_documents(write(tmp_path, "empty.trec", "\n  \n"))
    with pytest.raises(CollectionFormatError, match=r"empty.q: empty file: no queries$"):
        load_queries(write(tmp_path, "empty.q", ""))
    with pytest.raises(CollectionFormatError) as e:
        load_queries(write(tmp_path, "words.q", "just words\n"))
    assert e.value.cli_message().endswith("(token 'just words'); pass --query-format <smart | trec | beir | tsv | npl>")
    assert str(e.value).endswith("pass format=<smart | trec | beir | tsv | npl>")


def test_json_lines_of_pyserini_ir_datasets_and_pyterrier_read_by_their_own_keys(tmp_path):
    """Pyserini's JsonCollection ({"id", "contents"}), ir_datasets' jsonl export ({"doc_id", "title", "text"},
    {"query_id", "text"}) and PyTerrier's records ({"docno", "text"}, {"qid", "query"}): the body is never silently
    empty for want of the key a toolkit uses."""
    docs = write(tmp_path, "docs.jsonl", '{"id": "p1", "contents": "wing flutter"}\n'
                                         '{"doc_id": "i2", "title": "Heat", "text": "transfer"}\n'
                                         '{"docno": "t3", "text": "boundary layer"}\n{"_id": "b4", "text": ""}\n')
    c = load_documents(docs)
    assert c.doc_ids == ("p1", "i2", "t3", "b4")
    assert c.fields == {"title": ["", "Heat", "", ""], "body": ["wing flutter", "transfer", "boundary layer", ""]}
    q = load_queries(write(tmp_path, "q.jsonl", '{"query_id": "1", "text": "wing"}\n{"qid": "2", "query": "heat"}\n'
                                                '{"id": "3", "contents": "layer"}\n'))
    assert dict(q.items()) == {"1": "wing", "2": "heat", "3": "layer"}
    with pytest.raises(CollectionFormatError, match=r"q2.jsonl:1: no query text key \('text', 'query', "
                                                    r"'contents' or 'title'\)") as e:
        read_beir_queries(write(tmp_path, "q2.jsonl", '{"qid": "1", "name": "x"}\n'))
    assert e.value.token == '{"qid": "1", "name": "x"}'


def test_ir_datasets_exports_keep_abstracts_and_trec_topic_fields(tmp_path):
    """``ir_datasets export nfcorpus/test docs`` keeps the text as ``abstract`` (CORD-19 too); an exported TREC topic
    set holds ``title``, ``description`` and ``narrative``: the title is the query, as in a <top> file, and
    ``fields`` picks others."""
    docs = write(tmp_path, "docs.jsonl", '{"doc_id": "MED-10", "url": "u", "title": "Statin Use", '
                                         '"abstract": "breast cancer recurrence"}\n')
    assert load_documents(docs).fields == {"title": ["Statin Use"], "body": ["breast cancer recurrence"]}
    topics = write(tmp_path, "topics.jsonl", '{"query_id": "1", "title": "coronavirus origin", "description": '
                                             '"what is the origin?", "narrative": "seeking  range"}\n')
    assert dict(load_queries(topics).items()) == {"1": "coronavirus origin"}
    q = load_queries(topics, topic_fields=("desc", "title"))
    assert q.texts == ("what is the origin? coronavirus origin",)
    assert load_queries(topics, topic_fields=("narr",)).texts == ("seeking range",)
    with pytest.raises(CollectionFormatError, match=r"t2.jsonl:1: no topic field key \('narrative'\)"):
        load_queries(write(tmp_path, "t2.jsonl", '{"query_id": "1", "title": "x"}\n'), topic_fields=("narr",))
    with pytest.raises(CollectionFormatError, match=r"notext.jsonl:1: no document text key \('text', 'contents', "
                                                    r"'body' or 'abstract'\) and no title; the record's keys are "
                                                    r"'doc_id', 'summary'"):
        load_documents(write(tmp_path, "notext.jsonl", '{"doc_id": "a", "summary": "words"}\n'))


def test_a_json_record_without_a_text_key_is_refused_an_explicitly_empty_text_is_not(tmp_path):
    """A misspelt text key ("txt") silently gave an empty document; now the record is refused, naming the file,
    line and the keys it has. An empty or null text, a document with a title and an empty text, and a document
    with a title alone (BEIR's loader reads it: a title, an empty body) are kept."""
    typo = write(tmp_path, "typo.jsonl", '{"_id": "a", "text": "cat"}\n\n{"_id": "b", "txt": "cat"}\n')
    with pytest.raises(CollectionFormatError) as e:
        load_documents(typo)
    assert str(e.value).startswith(f"{typo}:3: no document text key ('text', 'contents', 'body' or 'abstract') and "
                                   "no title; the record's keys are '_id', 'txt'")
    assert e.value.token == '{"_id": "b", "txt": "cat"}'
    titled = read_beir_corpus(write(tmp_path, "t2.jsonl", '{"_id": "a", "title": "T"}\n'))  # a title, no text key
    assert titled.fields == {"title": ["T"], "body": [""]}
    ok = read_beir_corpus(write(tmp_path, "ok.jsonl", '{"_id": "a", "text": ""}\n{"_id": "b", "text": null}\n'
                                                      '{"_id": "c", "title": "T", "contents": ""}\n'))
    assert ok.doc_ids == ("a", "b", "c") and ok.fields == {"title": ["", "", "T"], "body": ["", "", ""]}
    with pytest.raises(CollectionFormatError, match=r"q.jsonl:1: no query text key .*; the record's keys are 'qid', "
                                                    r"'txt'"):
        load_queries(write(tmp_path, "q.jsonl", '{"qid": "1", "txt": "cat"}\n'))


def test_a_json_text_that_is_a_list_or_object_is_refused_not_indexed_as_its_repr(tmp_path):
    """``"text": ["wing", "flutter"]`` was indexed as ``['wing', 'flutter']`` (brackets and quotes in the text and
    in the tokens of a keyword analyzer); a list or an object is refused by file, line and key, for documents,
    titles, queries and topic fields. A number or a boolean is its JSON spelling, as an id of 7 is "7"."""
    with pytest.raises(CollectionFormatError) as e:
        load_documents(write(tmp_path, "d.jsonl", '{"_id": "a", "text": "ok"}\n{"_id": "b", "text": ["wing", "x"]}\n'))
    assert str(e.value).startswith(f"{tmp_path / 'd.jsonl'}:2: 'text' is a JSON array, not a string")
    assert e.value.token == '["wing", "x"]'
    with pytest.raises(CollectionFormatError, match=r"t.jsonl:1: 'title' is a JSON object, not a string"):
        load_documents(write(tmp_path, "t.jsonl", '{"_id": "a", "title": {"en": "Wing"}, "text": "x"}\n'))
    with pytest.raises(CollectionFormatError, match=r"q.jsonl:1: 'query' is a JSON array, not a string"):
        load_queries(write(tmp_path, "q.jsonl", '{"qid": "1", "query": ["wing"]}\n'))
    with pytest.raises(CollectionFormatError, match=r"tf.jsonl:1: 'description' is a JSON array, not a string"):
        load_queries(write(tmp_path, "tf.jsonl", '{"query_id": "1", "title": "a", "description": ["b"]}\n'),
                     topic_fields=("title", "desc"))
    c = load_documents(write(tmp_path, "n.jsonl", '{"_id": 7, "title": 0, "text": true}\n'))
    assert c.doc_ids == ("7",) and c.fields == {"title": ["0"], "body": ["true"]}


def test_a_tsv_whose_first_record_has_an_empty_text_is_detected_as_tsv(tmp_path):
    """``e1<TAB>`` on line 1: the tab is all that tells a TSV file, and stripping the line took it."""
    docs = write(tmp_path, "dempty.tsv", "e1\t\ne2\tcat sat\n")
    assert detect_format(docs) == "tsv"
    c = load_documents(docs)
    assert c.doc_ids == ("e1", "e2") and c.fields == {"body": ["", "cat sat"]}
    queries = write(tmp_path, "qempty.tsv", "1\t\n2\tcat\n")
    assert detect_format(queries, "queries") == "tsv"
    assert dict(load_queries(queries).items()) == {"1": "", "2": "cat"}
    assert detect_format(write(tmp_path, "lead.tsv", "\tcat\n")) == "tsv"  # then refused by the reader: empty id
    with pytest.raises(CollectionFormatError, match=r"lead.tsv:1: empty id"):
        load_documents(tmp_path / "lead.tsv")


def test_beir_and_tsv_readers(tmp_path):
    corpus = write(tmp_path, "corpus.jsonl", '{"_id": "d1", "title": "T", "text": "body one"}\n\n'
                                             '{"_id": 2, "text": "two"}\n')
    c = read_beir_corpus(corpus)
    assert c.doc_ids == ("d1", "2") and c.fields == {"title": ["T", ""], "body": ["body one", "two"]}
    q = read_beir_queries(write(tmp_path, "queries.jsonl", '{"_id": "q1", "text": "what"}\n'))
    assert q.qids == ("q1",) and q.texts == ("what",)
    with pytest.raises(CollectionFormatError, match=r"corpus2.jsonl:1: invalid JSON"):
        read_beir_corpus(write(tmp_path, "corpus2.jsonl", '{"_id": "d1", \n'))
    with pytest.raises(CollectionFormatError, match=r"corpus3.jsonl:2: no document id key \('_id', 'id', 'doc_id' "
                                                    r"or 'docno'\)"):
        read_beir_corpus(write(tmp_path, "corpus3.jsonl", '{"_id": "1"}\n{"text": "x"}\n'))
    docs = read_tsv_documents(write(tmp_path, "docs.tsv", "MED-1\tstatin cancer\nMED-2\n"))
    assert docs.fields == {"body": ["statin cancer", ""]}
    titled = read_tsv_documents(write(tmp_path, "docs3.tsv", "a\tTitle\tBody\nb\tonly body\n"))
    assert titled.fields == {"title": ["Title", ""], "body": ["Body", "only body"]}
    assert read_tsv_queries(write(tmp_path, "q.tsv", "PLAIN-1\tdeafness\n")).texts == ("deafness",)


def test_format_detection_and_generic_loaders(tmp_path):
    cases = {"a.smart": (".I 1\n.W\nx\n", "smart"), "a.trec": ("\n<DOC><DOCNO>1</DOCNO>x</DOC>", "trec"),
             "a.jsonl": ('{"_id": "1", "text": "x"}\n', "beir"), "a.tsv": ("1\tx\n", "tsv")}
    for name, (text, fmt) in cases.items():
        p = write(tmp_path, name, text)
        assert detect_format(p) == fmt
        assert load_documents(p).doc_ids == ("1",)
    assert load_queries(write(tmp_path, "q.tsv", "7\tx\n")).qids == ("7",)
    with pytest.raises(CollectionFormatError, match="cannot detect the format"):
        detect_format(write(tmp_path, "plain", "just words\n"))



def test_format_detection_reads_gzip_by_its_magic_bytes_whatever_the_name(tmp_path):
    for name in ("docs.jsonl", "docs.gz", "docs"):  # gzip without .gz, and a .gz name holding plain text
        (tmp_path / name).write_bytes(gzip.compress(b'{"_id": "1", "text": "x"}\n'))
        assert detect_format(tmp_path / name) == "beir" and load_documents(tmp_path / name).doc_ids == ("1",)
    (tmp_path / "plain.gz").write_text(".I 1\n.W\nx\n")
    assert detect_format(tmp_path / "plain.gz") == "smart"
    truncated = tmp_path / "truncated"
    truncated.write_bytes(gzip.compress(b".I 1\n.W\nsome text here\n" * 50)[:40])
    with pytest.raises(CollectionFormatError, match="cannot read file"):
        detect_format(truncated)

# -- bad input -------------------------------------------------------------------------------------------------------
def test_invalid_utf8_names_file_line_and_byte_offset_or_is_replaced(tmp_path, caplog):
    p = write(tmp_path, "docs.tsv", b"d1\tcaf\xc3\xa9\nd2\tbad \xff byte\n", binary=True)
    offset = len(b"d1\tcaf\xc3\xa9\n") + len(b"d2\tbad ")  # 9 + 7 = 16
    expected = rf"docs\.tsv:2: invalid UTF-8 byte b'\\xff' at byte offset {offset};"
    with pytest.raises(CollectionFormatError, match=expected):
        read_tsv_documents(p)
    with caplog.at_level(logging.WARNING):
        c = read_tsv_documents(p, errors="replace")
    assert c.fields["body"] == ["café", "bad \ufffd byte"]
    assert "replaced 1 invalid UTF-8" in caplog.text
    with pytest.raises(CollectionFormatError, match="invalid UTF-8"):
        read_qrels(write(tmp_path, "qrels", b"1 0 d\xfe 1\n", binary=True))


def test_truncated_gzip_and_missing_file_are_clear_errors(tmp_path):
    p = tmp_path / "c.gz"
    p.write_bytes(gzip.compress(b".I 1\n.W\nsome text here\n" * 50)[:40])
    with pytest.raises(CollectionFormatError, match="cannot read file"):
        read_text(p)
    with pytest.raises(CollectionFormatError, match="file not found"):
        read_text(tmp_path / "nope")


def test_duplicate_document_ids_error_or_keep_first_or_last(tmp_path):
    p = write(tmp_path, "d.tsv", "a\tone\nb\ttwo\na\tthree\n")
    with pytest.raises(CollectionFormatError,
                       match=r"d.tsv:3: duplicate document id 'a' \(records 1 and 3, lines 1 and 3\)"):
        read_tsv_documents(p)
    assert read_tsv_documents(p, duplicates="first").fields["body"] == ["one", "two"]
    assert read_tsv_documents(p, duplicates="last").fields["body"] == ["three", "two"]
    with pytest.raises(CollectionFormatError, match="duplicate document id"):
        Collection(("x", "x"), {"body": ["", ""]})
    with pytest.raises(CollectionFormatError, match="duplicate query id"):
        Queries(("1", "1"), ("a", "b"))


# -- the real collections --------------------------------------------------------------------------------------------
@pytest.mark.shared
@pytest.mark.parametrize(
    "name, n_docs, n_queries, n_judgments, judged_queries",
    [("cranfield", 1400, 225, 1837, 225), ("cacm", 3204, 64, 796, 52), ("adi", 82, 35, 170, 35),
     ("vaswani_npl", 11429, 93, 2083, 93), ("nfcorpus", 3162, 325, 12334, 323)],
)
def test_real_collections_have_the_documented_counts(shared_file, name, n_docs, n_queries, n_judgments,
                                                     judged_queries):
    tc = load_test_collection(shared_file(name))
    assert (len(tc.docs), len(tc.queries), len(tc.qrels)) == (n_docs, n_queries, n_judgments)
    assert tc.qrels.qid.nunique() == judged_queries
    # every judgment names a known query and document (after CACM's zero padding is removed)
    assert tc.qrels.qid.isin(set(tc.queries.qids)).all()
    assert tc.qrels.docno.isin(set(tc.docs.doc_ids)).all()


@pytest.mark.shared
def test_cranfield_queries_are_numbered_by_position_and_graded(shared_file):
    tc = load_test_collection(shared_file("cranfield"))
    assert tc.queries.qids[:3] == ("1", "2", "3")
    assert tc.queries.texts[2].startswith("what problems of heat conduction in composite slabs")  # .I 004
    # PROVENANCE.md code counts 1: 128, 2: 387, 3: 734, 4: 363, -1: 225 -> gains 4, 3, 2, 1, 0
    assert tc.qrels.rel.value_counts().to_dict() == {2: 734, 3: 387, 1: 363, 0: 225, 4: 128}
    assert sum(1 for t, b in zip(tc.docs.fields["title"], tc.docs.fields["body"]) if not (t or b)) == 2


def test_tsv_files_with_a_header_and_ms_marco_documents(tmp_path, caplog):
    """A first line naming the columns (pid<TAB>passage) was read as a document 'pid'; MS MARCO's document TSV
    (id, url, title, body) was refused."""
    docs = read_tsv_documents(write(tmp_path, "collection.tsv", "pid\tpassage\n0\tThe presence of communication\n"))
    assert docs.doc_ids == ("0",) and docs.fields == {"body": ["The presence of communication"]}
    assert read_tsv_queries(write(tmp_path, "q.tsv", "qid\tquery\n1048585\twhat is paula deen's brother\n")).qids == (
        "1048585",)
    marco = read_tsv_documents(write(tmp_path, "msmarco-docs.tsv",
                                     "D1555982\thttps://answers.com/x\tThe hot glowing surfaces\tBody one\n"
                                     "D301595\thttp://example.org/\tCrash course\tBody two\n"))
    assert marco.doc_ids == ("D1555982", "D301595")
    assert marco.fields == {"title": ["The hot glowing surfaces", "Crash course"], "body": ["Body one", "Body two"]}
    assert marco.metadata == {"url": ["https://answers.com/x", "http://example.org/"]}
    with pytest.raises(CollectionFormatError, match="4-column lines .* with a line of 2"):
        read_tsv_documents(write(tmp_path, "mixed.tsv", "D1\tu\tt\tb\nD2\tonly\n"))
    with pytest.raises(CollectionFormatError, match="expected at most 4 tab-separated columns, got 5"):
        read_tsv_documents(write(tmp_path, "five.tsv", "D1\ta\tb\tc\td\n"))


@pytest.mark.parametrize("reader, name, text, message", [
    (read_tsv_documents, "d.tsv", "d1\tcat\ndoc 2\tdog\n", r"d.tsv:2: document id 'doc 2' contains whitespace"),
    (read_tsv_documents, "d.tsv", "d1\tcat\nd\x002\tdog\n", r"d.tsv:2: document id 'd\\x002' contains NUL"),
    (read_tsv_queries, "q.tsv", "1\tcat\n2 b\tdog\n", r"q.tsv:2: query id '2 b' contains whitespace"),
    (read_beir_corpus, "c.jsonl", '{"_id": "d1", "text": "a"}\n{"_id": "d 2", "text": "b"}\n',
     r"c.jsonl:2: document id 'd 2' contains whitespace"),
    (read_beir_corpus, "c.jsonl", '{"_id": "", "text": "a"}\n', r"c.jsonl:1: document id '' is empty"),
    (read_beir_queries, "q.jsonl", '{"_id": "1\\t2", "text": "a"}\n',
     r"q.jsonl:1: query id '1\\t2' contains whitespace"),
    (read_trec_documents, "d.trec", "<DOC>\n<DOCNO>d1</DOCNO>a</DOC>\n<DOC>\n\n<DOCNO> FT 911-3 </DOCNO>b</DOC>\n",
     r"d.trec:5: document id \(<DOCNO>\) 'FT 911-3' contains whitespace"),
    (read_trec_topics, "t.xml", '<topic number="1"><query>a</query></topic>\n<topic number="2 b"><query>b</query>'
     '</topic>\n', r"t.xml:2: topic number '2 b' contains whitespace"),
    (read_smart_documents, "d.all", ".I 1\n.W\nwing\n.I doc 2\n.W\nheat\n",
     r"d.all:4: record id 'doc 2' contains whitespace"),
    (read_npl_documents, "doc-text", "1\nwing\n/\n2\x00\nheat\n/\n", r"doc-text:4: record id '2\\x00' contains NUL"),
])
def test_an_id_no_run_or_qrels_file_can_hold_is_refused_as_the_file_is_read(tmp_path, reader, name, text, message):
    """Ids go to TREC runs and qrels (whitespace-separated) and to LETOR '#docid' comments: one with whitespace, NUL
    or nothing was accepted here and refused only after indexing and extraction, as 'doc id of row 0' (of the
    output) without file or line."""
    with pytest.raises(CollectionFormatError, match=message + ", which run, qrels and LETOR files cannot hold"):
        reader(write(tmp_path, name, text))


def test_ltr_features_names_the_file_and_line_of_a_document_id_with_whitespace(tmp_path, capsys):
    from ltr.cli import main

    docs, q = write(tmp_path, "sp.tsv", "doc 1\tcat sat\ndoc#2\tdog cat\n"), write(tmp_path, "q1.tsv", "1\tcat\n")
    assert main(["features", "--collection", str(docs), "--queries", str(q), "--topk", "5", "--keep-unjudged",
                 "--out", str(tmp_path / "sp.letor"), "--quiet"]) == 1
    assert f"{docs}:1: document id 'doc 1' contains whitespace" in capsys.readouterr().err
    assert not (tmp_path / "sp.letor").exists()
