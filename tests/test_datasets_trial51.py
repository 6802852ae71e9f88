"""Trial t51 (datasets): a renamed cranqrel given with the Cranfield folder, FIRE/CLEF topics opening with
``<top lang='en'>``, gzip'd queries and judgments of the Cranfield, CACM and Vaswani layouts, a user's registry
entry with a string for a list, a quoted size, an upper-case checksum or a shadowed alias, ``ltr data verify`` of a
SMART trio in lower case, and the hint for a diversity (ndeval) qrels."""

from __future__ import annotations

import gzip
import logging
import shutil
from pathlib import Path

import pytest

from features.collections import load_queries, load_test_collection
from ltr.cli import main
from ltr.exceptions import TrecFormatError
from ltr.io import read_letor, read_qrels
from ltr.registry import DatasetLayoutError, Entry, get_entry


def _cranfield(folder: Path) -> Path:
    """A three-document Cranfield folder: queries numbered 001 and 004, judged by position 1 and 2."""
    folder.mkdir()
    (folder / "cran.all.1400").write_text(".I 1\n.T\nwing flutter\n.W\nflutter of a wing\n.I 2\n.T\nheat\n.W\n"
                                          "heat transfer in wings\n.I 3\n.T\nflow\n.W\nsupersonic flow\n")
    (folder / "cran.qry").write_text(".I 001\n.W\nwing flutter\n.I 004\n.W\nheat flow\n")
    (folder / "cranqrel").write_text("1 1 1\n1 2 4\n2 2 2\n2 3 -1\n")
    return folder


def test_a_renamed_cranqrel_given_with_the_cranfield_folder_is_read_as_cranqrel_and_said(tmp_path, caplog):
    """Cleverdon's codes (1 = complete answer) were read as plain labels from a copy named judgments.txt, while the
    folder's queries were numbered by position as cranqrel numbers them: grades 1 and 4, 2 and 3 swapped, unsaid."""
    coll = _cranfield(tmp_path / "cran")
    shutil.copy(coll / "cranqrel", tmp_path / "judgments.txt")
    base = ["features", "--collection", str(coll), "--topk", "3", "--quiet"]
    assert main([*base, "--out", str(tmp_path / "own.letor")]) == 0
    with caplog.at_level(logging.WARNING):
        assert main([*base, "--qrels", str(tmp_path / "judgments.txt"), "--out", str(tmp_path / "renamed.letor")]) == 0
    said = [r.getMessage() for r in caplog.records if "judgments.txt" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"{tmp_path / 'judgments.txt'}: read as Cranfield's cranqrel (3 "
                                                 "columns, given with the Cranfield collection)"), said
    own, renamed = read_letor(tmp_path / "own.letor"), read_letor(tmp_path / "renamed.letor")
    assert renamed.y.tolist() == own.y.tolist()
    assert sorted(own.y.tolist()) == [0, 1, 3, 4]  # codes 1 -> 4, 4 -> 1, 2 -> 3, -1 -> 0
    caplog.clear()  # named as plain labels: read as they are, nothing said
    assert main([*base, "--qrels", str(tmp_path / "judgments.txt"), "--qrels-format", "qdr", "--out",
                 str(tmp_path / "qdr.letor")]) == 0
    assert sorted(read_letor(tmp_path / "qdr.letor").y.tolist()) == [0, 1, 2, 4]  # the codes as labels (-1 -> 0)
    assert not any("read as Cranfield" in r.getMessage() for r in caplog.records)


def test_fire_and_clef_topics_opening_with_attributes_are_read(tmp_path):
    """``<top lang='en'>`` (FIRE's, CLEF's) was detected as TREC topics, then refused as 'not a TREC topics file?'."""
    p = tmp_path / "topics.txt"
    p.write_text("<top lang='en'>\n<num>176</num>\n<title>wing flutter</title>\n<desc>about wings</desc>\n</top>\n\n"
                 "<top lang=\"en\">\n<num>177</num>\n<title>heat</title>\n</top>\n")
    q = load_queries(p, "auto")
    assert q.qids == ("176", "177") and q.texts == ("wing flutter", "heat")
    p.write_text("<top lang='en'>\n<num>176</num>\n<title>wing</title>\n\n<top lang='en'>\n<num>177</num>\n"
                 "<title>heat</title>\n</top>\n")  # the first not closed: named as before
    with pytest.raises(ValueError, match=r"topics\.txt:1: 2 <top> tags but 1 complete records: a </top> is missing "
                                         r"\(this <top> is not closed before the next <top>, line 5\)"):
        load_queries(p, "auto")


@pytest.mark.parametrize("layout", ["cranfield", "cacm", "vaswani"])
def test_queries_and_judgments_of_the_named_layouts_may_be_gzipped(tmp_path, layout):
    """Only the documents of Cranfield, CACM and Vaswani could be gzip'd ("cran.qry: file not found" beside
    cran.qry.gz), where every file of the other layouts can."""
    f = tmp_path / layout
    if layout == "cranfield":
        _cranfield(f)
        small = ["cran.qry", "cranqrel"]
    elif layout == "cacm":
        f.mkdir()
        (f / "cacm.all").write_text(".I 1\n.T\nwing\n.W\nflutter\n.I 2\n.T\nheat\n.W\ntransfer\n")
        (f / "query.text").write_text(".I 1\n.W\nwing flutter\n.I 2\n.W\nheat\n")
        (f / "qrels.text").write_text("01 1 0 0\n02 2 0 0\n")
        small = ["query.text", "qrels.text"]
    else:
        f.mkdir()
        (f / "doc-text.trec").write_text("<DOC>\n<DOCNO>1</DOCNO>\nwing flutter\n</DOC>\n<DOC>\n<DOCNO>2</DOCNO>\n"
                                         "heat\n</DOC>\n")
        (f / "query-text.trec").write_text("<top>\n<num>1</num>\n<title>wing</title>\n</top>\n")
        (f / "qrels").write_text("1 0 1 1\n")
        small = ["query-text.trec", "qrels"]
    plain = load_test_collection(f)
    for name in small:
        (f / (name + ".gz")).write_bytes(gzip.compress((f / name).read_bytes()))
        (f / name).unlink()
    zipped = load_test_collection(f)
    assert zipped.queries.texts == plain.queries.texts and zipped.qrels.equals(plain.qrels)
    (f / (small[0] + ".gz")).unlink()
    with pytest.raises(ValueError, match=rf"{layout}/{small[0]}: file not found \(nor {small[0]}\.gz\)"):
        load_test_collection(f)


_ENTRY = {"name": "mini", "kind": "letor", "layout": {"root": ["MINI"], "train": ["train.txt"]},
          "format": {"n_features": 2}, "archives": [{"file": "MINI.zip", "format": "zip", "urls": ["file:///x"]}]}


def _entry(**changes) -> dict:
    d = {k: (dict(v) if isinstance(v, dict) else v) for k, v in _ENTRY.items()}
    d["archives"] = [dict(_ENTRY["archives"][0])]
    for path, value in changes.items():
        table, key = path.split("__")
        (d["archives"][0] if table == "archive" else d[table])[key] = value
    return d


@pytest.mark.parametrize("path, value, message", [
    ("archive__urls", "file:///x", r"archive 'MINI.zip': urls must be a list of strings, got 'file:///x' \(one "
                                   r"value is still a list: urls = \[\"file:///x\"\]\)$"),
    ("layout__root", "MINI", r"\[layout\]: root must be a list of strings, got 'MINI'"),
    ("layout__train", "train.txt", r"\[layout\]: train must be a list of strings, got 'train.txt'"),
    ("layout__folds", "5", r"\[layout\] folds must be a positive integer, got '5'"),
    ("archive__size", "675674", r"archive 'MINI.zip': size must be a number of bytes \(an integer, not quoted\), "
                                r"got '675674'$"),
    ("archive__sha256", "abc", r"archive 'MINI.zip': sha256 must be 64 hexadecimal digits, got 'abc'$"),
    ("archive__md5", "g" * 32, r"archive 'MINI.zip': md5 must be 32 hexadecimal digits"),
])
def test_a_registry_entry_with_a_string_for_a_list_or_a_quoted_number_is_refused_naming_the_key(path, value,
                                                                                                 message):
    """A lone string was used letter by letter (one download per character of the address); a quoted size ended in
    "'>' not supported between instances of 'int' and 'str'"."""
    Entry.from_dict(_entry(), "mini.toml")  # the entry as it should be is taken
    with pytest.raises(DatasetLayoutError, match="^mini.toml: " + message):
        Entry.from_dict(_entry(**{path: value}), "mini.toml")


def test_a_user_alias_that_another_set_already_names_is_refused(tmp_path, monkeypatch, capsys):
    """The user's alias 'mq2008' was never used (the shipped set's name wins) and ``info mini`` listed it anyway."""
    (tmp_path / "mini.toml").write_text('name = "mini"\nkind = "letor"\naliases = ["MQ2008"]\n[layout]\ntrain = '
                                        '["train.txt"]\n[format]\nn_features = 2\n', encoding="utf-8")
    monkeypatch.setenv("LTRKIT_DATA_REGISTRY", str(tmp_path))
    assert main(["data", "info", "mini"]) == 1
    assert capsys.readouterr().err == (f"ltr data info: error: {tmp_path / 'mini.toml'}: alias 'MQ2008' of 'mini' is "
                                       f"already the name of 'mq2008' ({get_entry_origin('mq2008')}); choose "
                                       "another alias\n")
    (tmp_path / "mini.toml").write_text('name = "mini"\nkind = "letor"\naliases = ["letor4-mq2008"]\n[layout]\ntrain'
                                        ' = ["train.txt"]\n[format]\nn_features = 2\n', encoding="utf-8")
    assert main(["data", "info", "mini"]) == 1
    assert "alias 'letor4-mq2008' of 'mini' is already an alias of 'mq2008'" in capsys.readouterr().err


def get_entry_origin(name: str) -> str:
    import os

    saved = os.environ.pop("LTRKIT_DATA_REGISTRY")
    try:
        return get_entry(name).origin
    finally:
        os.environ["LTRKIT_DATA_REGISTRY"] = saved


def test_verify_finds_a_smart_trio_in_lower_case_as_the_loader_does(tmp_path, shared_file, capsys):
    """``ltr features`` reads ADI's files in any letter case; ``ltr data verify`` said none of them was there."""
    for p in sorted(shared_file("adi").glob("ADI.*")):
        shutil.copy(p, tmp_path / p.name.lower())
    assert main(["data", "verify", "adi", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "OK; 4 of 4 files present" in out and "ADI.ALL (as adi.all)" in out, out
    assert load_test_collection(tmp_path).name == "adi"
    # CACM is no trio: its loader reads the exact names, and so does verify
    assert [ef.any_case for ef in get_entry("cacm").expected_files()] == [False] * 4


def test_a_diversity_qrels_judging_a_pair_once_a_subtopic_is_told_so(tmp_path):
    p = tmp_path / "qrels.web.ndeval.txt"
    p.write_text("201 1 clueweb12-0000 1\n201 2 clueweb12-0000 0\n")
    with pytest.raises(TrecFormatError, match=r"ndeval\.txt:2: document 'clueweb12-0000' is judged twice for query "
                                              r"'201' \(with 1 and then 2 in column 2: a diversity qrels, 'qid "
                                              r"subtopic docno rel', as ndeval reads\? trec_eval reads one judgment "
                                              r"a pair\)"):
        read_qrels(p)
    p.write_text("201 0 clueweb12-0000 1\n201 0 clueweb12-0000 0\n")  # a plain repeat: no hint
    with pytest.raises(TrecFormatError, match=r"judged twice for query '201' \(token 'clueweb12-0000'\)$"):
        read_qrels(p)


def test_an_unreadable_query_file_is_said_as_permission_denied(tmp_path, monkeypatch):
    """It was 'cannot read file: [Errno 13] Permission denied: ...', where every other input says the two words (a
    file's mode cannot refuse root, who runs CI: the refusal is made here)."""
    import features.collections.loaders as loaders

    p = tmp_path / "q.tsv"
    p.write_text("1\twing\n")

    def refused(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(loaders, "open_binary", refused)
    with pytest.raises(ValueError) as e:
        load_queries(p, "auto")
    assert str(e.value) == f"{p}: permission denied"
