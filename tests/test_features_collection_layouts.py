"""Collection folders beyond the shared copies: SMART trios under any name (CISI, MED) and NPL's Glasgow original.

The data registry documents CISI, MED and the original NPL archive (``data/cisi.toml``, ``med.toml``, ``npl.toml``);
their folders must load as the shared collections do. The copies here are rebuilt from the shared ADI and
Vaswani/NPL files in those layouts, parsed in the test by plain string handling, and must read to the same
collection as the shared originals.
"""

from __future__ import annotations

import gzip
import re
import shutil

import pandas as pd
import pytest

from features.collections import (
    detect_format,
    detect_qrels_format,
    load_documents,
    load_queries,
    load_test_collection,
    read_qrels,
)
from features.collections.npl import read_npl_documents, read_npl_queries
from features.errors import CollectionFormatError, SplitNotApplicableError


def _frame(rows):
    return pd.DataFrame(rows, columns=["qid", "docno", "rel"]).astype({"rel": "int64"})


def _sorted(df):
    return df.sort_values(["qid", "docno"]).reset_index(drop=True)


def assert_same_collection(a, b):
    assert a.docs.doc_ids == b.docs.doc_ids
    assert a.docs.fields == b.docs.fields
    assert a.queries.qids == b.queries.qids and a.queries.texts == b.queries.texts
    pd.testing.assert_frame_equal(_sorted(a.qrels), _sorted(b.qrels))


# -- SMART trios ------------------------------------------------------------------------------------------------------
@pytest.mark.shared
def test_a_smart_trio_under_another_name_case_and_compression_reads_as_the_original(shared_file, tmp_path):
    """ADI's files as MED ships its own: another stem, mixed case, the documents gzipped, and the judgments in TREC's
    four columns after a blank first line (MED.REL's form) beside an older SMART copy that must not be read."""
    adi = shared_file("adi")
    folder = tmp_path / "med"
    folder.mkdir()
    with open(adi / "ADI.ALL", "rb") as src, gzip.open(folder / "med.all.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    shutil.copy(adi / "ADI.QRY", folder / "Med.Qry")
    pairs = [line.split()[:2] for line in (adi / "ADI.REL").read_text().splitlines() if line.strip()]
    (folder / "MED.REL").write_text("\n" + "".join(f"{int(q)} 0 {int(d)} 1\n" for q, d in pairs))
    (folder / "MED.REL.OLD").write_text("1 999 0 0.000000\n")

    tc = load_test_collection(folder)

    assert tc.name == "med"
    assert_same_collection(tc, load_test_collection(adi))
    pd.testing.assert_frame_equal(_sorted(tc.qrels), _sorted(_frame([(str(int(q)), str(int(d)), 1)
                                                                      for q, d in pairs])))


def test_a_smart_trio_missing_a_member_or_two_trios_in_one_folder_are_named(tmp_path):
    one = tmp_path / "one"
    one.mkdir()
    (one / "CISI.ALL").write_text(".I 1\n.W\ntext\n")
    (one / "CISI.QRY").write_text(".I 1\n.W\nquery\n")
    with pytest.raises(CollectionFormatError, match=r"CISI\.ALL has no CISI\.REL beside it") as e:
        load_test_collection(one)
    assert str(one) in str(e.value)
    (one / "CISI.REL").write_text("1 1\n")
    (one / "MED.ALL").write_text(".I 1\n.W\ntext\n")
    with pytest.raises(CollectionFormatError, match=r"2 SMART document files \(CISI\.ALL, MED\.ALL\)"):
        load_test_collection(one)
    (one / "MED.ALL").unlink()
    tc = load_test_collection(one)
    assert (tc.name, tc.docs.doc_ids, tc.queries.qids, tc.qrels.values.tolist()) == ("cisi", ("1",), ("1",),
                                                                                    [["1", "1", 1]])


def test_an_unknown_layout_lists_the_layouts_read(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(CollectionFormatError, match=r"unrecognised collection layout .*NAME\.ALL, NAME\.QRY, "
                                                    r"NAME\.REL such as ADI, CISI or MED"):
        load_test_collection(tmp_path)


# -- NPL in its Glasgow layout -----------------------------------------------------------------------------------------
RLV_ASS = "1\n 1239  1502  4462\n 4569\n   /\n2\n   78\n   /\n"


def test_npl_judgments_read_and_are_detected(tmp_path):
    p = tmp_path / "rlv-ass"
    p.write_text(RLV_ASS)
    assert detect_qrels_format(p) == "npl"
    expected = _frame([("1", "1239", 1), ("1", "1502", 1), ("1", "4462", 1), ("1", "4569", 1), ("2", "78", 1)])
    pd.testing.assert_frame_equal(read_qrels(p), expected)
    pd.testing.assert_frame_equal(read_qrels(p, "npl"), expected)


@pytest.mark.parametrize("text, line, token, message", [
    ("1 2\n 5\n   /\n", 1, "1 2", "expected a query id alone on its line"),
    ("1\n 5\n   /\n   /\n", 4, "/", "record end '/' without a query id"),
    ("1\n 5 5\n   /\n", 2, "5", "judged twice"),
    ("1\n 5\n   /\n2\n", 4, "2", "query id at the end of the file without any relevant documents"),
])
def test_npl_judgment_errors_name_the_line_and_token(tmp_path, text, line, token, message):
    p = tmp_path / "rlv-ass"
    p.write_text(text)
    with pytest.raises(CollectionFormatError, match=message) as e:
        read_qrels(p, "npl")
    assert (e.value.path, e.value.line, e.value.token) == (str(p), line, token)


@pytest.mark.parametrize("text, line, token, message", [
    ("1 2\ntext\n   /\n", 1, "1 2", "expected a record id alone on its line"),
    ("   /\n", 1, "/", "record end '/' without a record id"),
    ("1\ntext\n   /\n7\n\n\n", 4, "7", "record id at the end of the file without any text"),
    ("\n\n", None, None, "no record found"),
])
def test_npl_document_errors_name_the_line_and_token(tmp_path, text, line, token, message):
    p = tmp_path / "doc-text"
    p.write_text(text)
    with pytest.raises(CollectionFormatError, match=message) as e:
        read_npl_documents(p)
    assert (e.value.path, e.value.line, e.value.token) == (str(p), line, token)


def test_npl_queries_end_at_a_bare_slash_and_the_last_record_may_end_the_file(tmp_path):
    p = tmp_path / "query-text"
    p.write_text("1\nMEASUREMENT OF\n  DIELECTRIC\n/\n2\nWAVEGUIDES\n")
    q = read_npl_queries(p)
    assert (q.qids, q.texts) == (("1", "2"), ("MEASUREMENT OF DIELECTRIC", "WAVEGUIDES"))


def test_a_folder_given_as_a_query_or_document_file_is_named_as_one(tmp_path):
    for load in (load_documents, load_queries):
        with pytest.raises(CollectionFormatError, match=r": is a folder, not a file$") as e:
            load(tmp_path)
        assert str(e.value) == f"{tmp_path}: is a folder, not a file"


def test_npl_files_are_detected_and_read_by_the_generic_loaders(tmp_path):
    docs = tmp_path / "doc-text"
    docs.write_text("\n1\ncompact memories\n   /\n2\nan analogue computer\n   /\n")
    queries = tmp_path / "query-text"
    queries.write_text("1\nMEASUREMENT\n/\n")
    assert detect_format(docs) == detect_format(queries) == "npl"
    c = load_documents(docs)
    assert (c.doc_ids, c.fields["body"]) == (("1", "2"), ["compact memories", "an analogue computer"])
    assert dict(load_queries(queries).items()) == {"1": "MEASUREMENT"}
    one_token = tmp_path / "words"
    one_token.write_text("hello\nworld\n")  # a lone token without any '/' line: not guessed to be NPL
    with pytest.raises(CollectionFormatError, match="cannot detect the format"):
        detect_format(one_token)


@pytest.mark.shared
def test_npl_in_the_glasgow_layout_reads_as_terriers_conversion(shared_file, tmp_path):
    """The original layout (as ir_datasets reads it: '   /' ends a document and a judgment record, '/' a query),
    rebuilt from Terrier's TREC-markup conversion, gives the same collection as the conversion."""
    npl = shared_file("vaswani_npl")
    docs_path = next(p for p in npl.iterdir() if p.name.startswith("doc-text.trec"))
    opener = gzip.open if docs_path.name.endswith(".gz") else open
    with opener(docs_path, "rt", encoding="utf-8") as f:
        docs = re.findall(r"<DOC>\s*<DOCNO>(.*?)</DOCNO>(.*?)</DOC>", f.read(), re.S)
    topics = re.findall(r"<num>(.*?)</num><title>(.*?)</title>", (npl / "query-text.trec").read_text(), re.S)
    judged: dict[str, list[str]] = {}
    for line in (npl / "qrels").read_text().splitlines():
        q, _, d, _ = line.split()
        judged.setdefault(q, []).append(d)
    folder = tmp_path / "npl"
    folder.mkdir()
    with gzip.open(folder / "doc-text.gz", "wt") as f:
        f.writelines(f"{i.strip()}\n{text.strip()}\n   /\n" for i, text in docs)
    (folder / "query-text").write_text("".join(f"{i.strip()}\n{t.strip()}\n/\n" for i, t in topics))
    (folder / "rlv-ass").write_text("".join(
        f"{q}\n" + "".join(" " + "  ".join(ds[k:k + 10]) + "\n" for k in range(0, len(ds), 10)) + "   /\n"
        for q, ds in judged.items()))

    tc = load_test_collection(folder)

    assert (tc.name, len(tc.docs), len(tc.queries), len(tc.qrels)) == ("npl", 11429, 93, 2083)
    assert_same_collection(tc, load_test_collection(npl))


# -- splits: BEIR and NFCorpus folders --------------------------------------------------------------------------------
def _beir(folder, splits=("dev",), gz=False):
    folder.mkdir()
    corpus = '{"_id": "d1", "title": "wing", "text": "wing flutter speed"}\n{"_id": "d2", "text": "heat transfer"}\n'
    if gz:
        with gzip.open(folder / "corpus.jsonl.gz", "wt") as f:
            f.write(corpus)
    else:
        (folder / "corpus.jsonl").write_text(corpus)
    (folder / "queries.jsonl").write_text('{"_id": "q1", "text": "wing flutter"}\n{"_id": "q2", "text": "heat"}\n')
    (folder / "qrels").mkdir()
    for i, s in enumerate(splits):
        (folder / "qrels" / f"{s}.tsv").write_text(f"query-id\tcorpus-id\tscore\nq{i + 1}\td{i + 1}\t1\n")
    return folder


def test_a_beir_folder_without_the_split_asked_names_the_splits_it_has(tmp_path):
    folder = _beir(tmp_path / "b", ("dev", "train"))
    with pytest.raises(CollectionFormatError, match=r"no qrels/test\.tsv here \(BEIR layout; its splits: dev, "
                                                    r"train\); pass split=<dev\|train>") as e:
        load_test_collection(folder)
    assert "pass --split <dev|train>" in e.value.cli_message()
    tc = load_test_collection(folder, split="train")
    assert tc.qrels.values.tolist() == [["q2", "d2", 1]]
    one = _beir(tmp_path / "one", ("dev",), gz=True)
    with pytest.raises(CollectionFormatError, match=r"its splits: dev\); pass split='dev'"):
        load_test_collection(one)
    tc = load_test_collection(one, split="dev")
    assert (tc.docs.doc_ids, tc.qrels.values.tolist()) == (("d1", "d2"), [["q1", "d1", 1]])


def test_judgments_false_reads_no_judgment_file(tmp_path):
    folder = _beir(tmp_path / "b", ())
    with pytest.raises(CollectionFormatError, match=r"no qrels/SPLIT\.tsv judgment file"):
        load_test_collection(folder)
    tc = load_test_collection(folder, judgments=False)
    assert (tc.docs.doc_ids, tc.queries.qids, len(tc.qrels)) == (("d1", "d2"), ("q1", "q2"), 0)
    dev = _beir(tmp_path / "dev", ("dev",))
    assert len(load_test_collection(dev, split="dev", judgments=False).qrels) == 0
    with pytest.raises(CollectionFormatError, match=r"no qrels/test\.tsv here \(BEIR layout; its splits: dev\)"):
        load_test_collection(dev, split="test", judgments=False)  # asked for, so checked, though not read
    assert list(tc.qrels.columns) == ["qid", "docno", "rel"]


@pytest.mark.shared
@pytest.mark.parametrize("name", ["cranfield", "cacm", "adi", "vaswani_npl"])
def test_a_split_given_for_a_layout_without_splits_is_refused_not_ignored(shared_file, capsys, tmp_path, name):
    with pytest.raises(SplitNotApplicableError, match="split='test' applies to an NFCorpus or BEIR folder; this one "
                                                      "has no splits"):
        load_test_collection(shared_file(name), split="test")
    from ltr.cli import main

    assert main(["features", "--collection", str(shared_file(name)), "--split", "dev", "--out",
                 str(tmp_path / "x.letor")]) == 2
    assert (f"--split dev applies to an NFCorpus or BEIR directory; {shared_file(name)} has no splits"
            in capsys.readouterr().err)


@pytest.mark.shared
def test_an_nfcorpus_folder_without_the_split_asked_names_the_splits_it_has(shared_file):
    with pytest.raises(CollectionFormatError, match=r"no train\.docs here \(NFCorpus layout; its splits: dev, test\)"):
        load_test_collection(shared_file("nfcorpus"), split="train")
    tc = load_test_collection(shared_file("nfcorpus"), split="dev")
    assert tc.name == "nfcorpus-dev" and len(tc.qrels) > 0


def test_ltr_features_split_option_and_given_judgments(tmp_path, capsys):
    from ltr.cli import main

    folder = _beir(tmp_path / "b", ("dev",))
    out = tmp_path / "x.letor"
    assert main(["features", "--collection", str(folder), "--topk", "2", "--out", str(out)]) == 1
    assert "no qrels/test.tsv here (BEIR layout; its splits: dev); pass --split dev" in capsys.readouterr().err
    assert not out.exists()
    assert main(["features", "--collection", str(folder), "--split", "dev", "--topk", "2", "--out", str(out)]) == 0
    dev = out.read_text()
    # judgments given on the command line: the folder's own are not read, so a missing test split does not matter
    out.unlink()
    assert main(["features", "--collection", str(folder), "--qrels", str(folder / "qrels" / "dev.tsv"), "--topk", "2",
                 "--out", str(out)]) == 0
    assert out.read_text() == dev
    assert main(["features", "--collection", str(folder / "corpus.jsonl"), "--queries", str(folder / "queries.jsonl"),
                 "--split", "dev", "--out", str(out)]) == 2
    assert "--split dev applies to a collection directory (NFCorpus, BEIR)" in capsys.readouterr().err


# -- TREC topic fields ----------------------------------------------------------------------------------------------
TOPICS = """<top>
<num> Number: 301
<title> International Organized Crime

<desc> Description:
Identify organizations that participate in international criminal activity.

<narr> Narrative:
A relevant document must as a minimum identify the organization.
</top>
"""


def test_topic_fields_make_the_query_of_the_fields_given_in_order(tmp_path):
    from features.collections import read_trec_topics

    p = tmp_path / "topics.txt"
    p.write_text(TOPICS)
    assert load_queries(p).texts == ("International Organized Crime",)
    assert load_queries(p, topic_fields=("desc", "title")).texts == (
        "Identify organizations that participate in international criminal activity. International Organized Crime",)
    assert read_trec_topics(p, fields=("narr",)).texts == (
        "A relevant document must as a minimum identify the organization.",)
    with pytest.raises(ValueError, match=r"topic fields must be one or more of title, desc, narr, got 'description'"):
        read_trec_topics(p, fields=("title", "description"))
    tsv = tmp_path / "q.tsv"
    tsv.write_text("1\twing\n")
    with pytest.raises(ValueError, match=r"topic_fields applies to TREC topics \(or their JSON lines\); "
                                         r".*q\.tsv is in the 'tsv' format"):
        load_queries(tsv, topic_fields=("desc",))


def test_ltr_features_topic_fields(tmp_path, capsys):
    from ltr.cli import main

    docs = tmp_path / "docs.trec"
    docs.write_text("<DOC>\n<DOCNO> D1 </DOCNO>\n<TEXT>criminal organizations across borders</TEXT>\n</DOC>\n"
                    "<DOC>\n<DOCNO> D2 </DOCNO>\n<TEXT>travel guides</TEXT>\n</DOC>\n")
    topics = tmp_path / "topics.txt"
    topics.write_text(TOPICS)
    (tmp_path / "qrels").write_text("301 0 D1 1\n")
    out, shown = tmp_path / "x.letor", tmp_path / "t.trec"
    argv = ["features", "--collection", str(docs), "--queries", str(topics), "--qrels", str(tmp_path / "qrels"),
            "--topk", "2", "--out", str(out), "--topics-out", str(shown)]
    assert main([*argv, "--topic-fields", "title,desc"]) == 0
    assert "International Organized Crime Identify organizations" in shown.read_text()
    for bad, message in [("description", "--topic-fields description names description: the fields are title, "
                                          "desc, narr"),
                         (",", "argument --topic-fields: ',': name one or more of title, desc, narr")]:
        assert main([*argv, "--topic-fields", bad]) == 2
        assert message in capsys.readouterr().err
    assert main(["features", "--collection", str(docs), "--queries", str(tmp_path / "qrels"), "--query-format",
                 "tsv", "--topic-fields", "desc", "--out", str(out)]) == 2
    assert "--topic-fields desc applies to TREC topics" in capsys.readouterr().err
    assert main(["features", "--collection", str(docs), "--topic-fields", "desc", "--out", str(out)]) == 2
    assert ("--topic-fields desc applies to a TREC topics file given as the queries, and none was given"
            in capsys.readouterr().err)


# -- queries without judgments ----------------------------------------------------------------------------------------
def _tiny_trio(folder, rel):
    folder.mkdir()
    (folder / "T.ALL").write_text(".I 1\n.W\nwing flutter speed\n.I 2\n.W\nheat transfer layer\n.I 3\n.W\nshock wave\n")
    (folder / "T.QRY").write_text(".I 1\n.W\nwing flutter\n.I 2\n.W\nheat layer\n.I 3\n.W\nshock\n")
    (folder / "T.REL").write_text(rel)
    return folder


def test_ltr_features_leaves_out_queries_without_judgments_unless_kept(tmp_path, capsys):
    """trec_eval leaves a query the judgments do not name out of its means; a LETOR file that kept it with every
    label 0 would claim judgments nobody made (and `ltr cv` would average its zeros in)."""
    from ltr.cli import main
    from ltr.io import read_letor, read_run

    folder = _tiny_trio(tmp_path / "t", "1 1\n3 3\n")  # query 2 is not judged
    out, topics = tmp_path / "x.letor", tmp_path / "topics.trec"
    base = ["features", "--collection", str(folder), "--topk", "3", "--out", str(out)]
    assert main([*base, "--topics-out", str(topics), "--save-run", str(tmp_path / "bm25.run")]) == 0
    err = capsys.readouterr().err
    assert "1 of 3 queries have no judgments and are left out (--keep-unjudged keeps them, every label 0)" in err
    assert sorted(set(read_letor(out).query_ids.tolist())) == [1, 3]
    assert "<num> Number: 2" not in topics.read_text() and sorted(read_run(tmp_path / "bm25.run").qid.unique()) == [
        "1", "3"]
    assert main([*base, "--keep-unjudged"]) == 0
    assert sorted(set(read_letor(out).query_ids.tolist())) == [1, 2, 3]
    assert "left out" not in capsys.readouterr().err
    # candidates from a run naming the unjudged query too: its lines go with it, without an 'unknown query' warning
    run = tmp_path / "all.run"
    run.write_text("".join(f"{q} Q0 {d} {r} {4 - r} x\n" for q in (1, 2, 3) for r, d in enumerate((1, 2, 3), 1)))
    assert main(["features", "--collection", str(folder), "--run", str(run), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "unknown query" not in err and sorted(set(read_letor(out).query_ids.tolist())) == [1, 3]
    none = _tiny_trio(tmp_path / "none", "7 1\n")
    assert main(["features", "--collection", str(none), "--topk", "3", "--out", str(tmp_path / "n.letor")]) == 1
    assert ("none of the 3 queries is named by the judgments (queries '1', '2', '3', ...; judgments '7', ...)"
            in capsys.readouterr().err)
    assert not (tmp_path / "n.letor").exists()


def test_a_folder_of_document_files_is_one_collection_when_the_queries_are_given(tmp_path, caplog, capsys):
    """TREC's disks (folders of <DOC> files, some gzip) and Pyserini's JsonCollection (a folder of JSON lines):
    every document file, in name order, whatever its format; other files skipped with a warning."""
    import gzip
    import logging

    from features.collections import read_document_folder
    from features.errors import UnknownLayoutError
    from ltr.cli import main
    from ltr.io import read_letor

    docs = tmp_path / "disk4"
    (docs / "fr94" / "01").mkdir(parents=True)
    (docs / "ft").mkdir()
    (docs / "fr94" / "01" / "fr940104.0").write_text("<DOC><DOCNO>FR1</DOCNO><TEXT>airbus rules</TEXT></DOC>\n")
    (docs / "ft" / "ft911_1.gz").write_bytes(gzip.compress(b"<DOC><DOCNO>FT1</DOCNO><HEADLINE>Airbus</HEADLINE>"
                                                           b"<TEXT>subsidies</TEXT></DOC>\n"))
    (docs / "ft" / "more.jsonl").write_text('{"id": "J1", "contents": "boeing airbus subsidies"}\n')
    (docs / "readme.txt").write_text("TREC disk 4: read me first\n")
    (docs / ".hidden").write_text("<DOC><DOCNO>H</DOCNO>x</DOC>\n")
    with caplog.at_level(logging.WARNING):
        c = read_document_folder(docs)
    assert c.doc_ids == ("FR1", "FT1", "J1")
    assert c.fields == {"title": ["", "Airbus", ""], "body": ["airbus rules", "subsidies", "boeing airbus subsidies"]}
    assert "1 file(s) of no document format skipped (readme.txt)" in caplog.text
    # several formats read as documents is said (a stray notes.tsv beside TREC files would be indexed unsaid)
    assert (f"{docs}: files of 2 formats read as documents: trec 2 file(s) (fr94/01/fr940104.0, ft/ft911_1.gz); "
            "beir 1 file(s) (ft/more.jsonl)") in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        read_document_folder(docs / "fr94")  # one format: nothing to say
    assert "formats read as documents" not in caplog.text
    (docs / "ft" / "dup.trec").write_text("<DOC><DOCNO>FR1</DOCNO>again</DOC>\n")
    with pytest.raises(CollectionFormatError, match=r"duplicate document id 'FR1'"):
        read_document_folder(docs)
    assert read_document_folder(docs, duplicates="last").fields["body"][0] == "again"
    (docs / "ft" / "dup.trec").unlink()
    (tmp_path / "q.tsv").write_text("1\tairbus subsidies\n")
    (tmp_path / "qr").write_text("1 0 FT1 1\n")
    out = tmp_path / "x.letor"
    assert main(["features", "--collection", str(docs), "--queries", str(tmp_path / "q.tsv"), "--qrels",
                 str(tmp_path / "qr"), "--topk", "5", "--out", str(out), "--quiet"]) == 0
    assert read_letor(out).doc_ids.tolist() == ["FT1", "J1", "FR1"]
    with pytest.raises(UnknownLayoutError, match="a folder of document files is read as one collection when the "
                                                 "queries are given"):
        load_test_collection(docs)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing\n")
    with pytest.raises(CollectionFormatError, match=r"empty: no document file found in this folder \(1 file"):
        read_document_folder(empty)


def test_collection_and_queries_from_pipes(tmp_path):
    """`ltr features --collection <(zcat docs.jsonl.gz) --queries <(...)`: the format is detected from a pipe's
    head and the file then read whole, which a pipe allows once (the rest of the file was read without its head)."""
    import os
    import threading

    from ltr.cli import main
    from ltr.io import read_letor

    docs = "".join(f'{{"_id": "d{i}", "text": "airbus subsidies {"x " * i}"}}\n' for i in range(2000))  # > 64 KiB
    writers = []
    for name, text in (("docs", docs), ("queries", "1\tairbus subsidies\n"), ("qrels", "1 0 d3 1\n")):
        os.mkfifo(tmp_path / name)
        writers.append(threading.Thread(target=(tmp_path / name).write_text, args=(text,)))
        writers[-1].start()
    assert main(["features", "--collection", str(tmp_path / "docs"), "--queries", str(tmp_path / "queries"),
                 "--qrels", str(tmp_path / "qrels"), "--topk", "3000", "--out", str(tmp_path / "x.letor"),
                 "--quiet"]) == 0
    for w in writers:
        w.join(timeout=10)
    assert sorted(read_letor(tmp_path / "x.letor").doc_ids) == sorted(f"d{i}" for i in range(2000))
