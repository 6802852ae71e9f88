"""Feature-set and first-stage option errors of ltr features and ltr rerank, found by a tester: two entries giving
the same column were not named (nor their file), a missing --features file was a data error without the option
(exit 1) where the same mistake without a suffix was the option's (exit 2), and an unknown --bm25-field did not
name the option (exit 1)."""

from __future__ import annotations

import pytest

from features.analysis import Analyzer
from features.collections import Collection
from features.featureset import FeatureSet
from features.index import InvertedIndex
from ltr.cli import main

SHIPPED = "default, small_collections"


@pytest.fixture
def index():
    docs = Collection(("d1", "d2"), {"title": ["cat", "mat"], "body": ["cat mat", "dog"]})
    return InvertedIndex.build(docs, Analyzer())


@pytest.fixture
def corpus(tmp_path):
    """The tester's collection: one text field (indexed as 'body', with the alias 'all')."""
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "text": "cat"}\n{"_id": "d2", "text": "cat mat"}\n'
                                           '{"_id": "d3", "text": "dog"}\n')
    (tmp_path / "q.tsv").write_text("1\tcat\n")
    (tmp_path / "qrels").write_text("1 0 d1 1\n1 0 d3 1\n")
    return tmp_path


def features_argv(root, *extra):
    return ["features", "--collection", str(root / "corpus.jsonl"), "--queries", str(root / "q.tsv"), "--qrels",
            str(root / "qrels"), "--out", str(root / "d.letor"), "--quiet", *extra]


DUP = '[[features]]\nscorer = "bm25"\nfields = ["all"]\n\n[[features]]\nscorer = "bm25"\nfields = ["all"]\nk1 = 2.0\n'


# -- duplicate columns ----------------------------------------------------------------------------------------------
def test_two_entries_giving_one_column_are_named_with_their_file(index, tmp_path):
    path = tmp_path / "dup.toml"
    path.write_text('[[features]]\nscorer = "query_length"\n\n[[features]]\nscorer = "bm25"\nfields = ["body"]\n\n'
                    '[[features]]\nscorer = "bm25"\nname = "bm25"\nfields = ["body"]\nk1 = 2.0\n')
    with pytest.raises(ValueError) as e:
        FeatureSet.load(path).columns(index)
    assert str(e.value) == (f"{path}: duplicate feature column(s) ['bm25:body']: feature 2 (bm25) and feature 3 "
                            "(bm25) both give 'bm25:body': give one of them a distinct 'name'")


def test_entries_colliding_on_several_fields_are_named_once_with_every_column(index):
    """A set built in Python has no file to name; the columns two entries share over two fields, grouped."""
    fs = FeatureSet([{"scorer": "bm25", "fields": ["title", "body"]}, {"scorer": "tfidf"},
                     {"scorer": "bm25", "fields": ["title", "body"], "b": 0.4},
                     {"scorer": "bm25", "fields": ["body"], "k1": 0.9}])
    with pytest.raises(ValueError) as e:
        fs.columns(index)
    assert str(e.value) == ("duplicate feature column(s) ['bm25:body', 'bm25:title']: feature 1 (bm25) and feature 3 "
                            "(bm25) both give 'bm25:title'; feature 1 (bm25), feature 3 (bm25) and feature 4 (bm25) "
                            "all give 'bm25:body': give all but one of the entries that give a column a distinct "
                            "'name'")


def test_a_field_listed_twice_in_one_entry_is_said_so(index):
    with pytest.raises(ValueError) as e:
        FeatureSet([{"scorer": "bm25", "name": "okapi", "fields": ["body", "title", "body"]}]).columns(index)
    assert str(e.value) == ("duplicate feature column(s) ['okapi:body']: feature 1 (okapi) gives 'okapi:body' twice: "
                            "list each field once in its 'fields'")


def test_ltr_features_names_the_file_and_the_entries_of_a_duplicate_column(corpus, capsys):
    (corpus / "dup.toml").write_text(DUP)
    assert main(features_argv(corpus, "--features", str(corpus / "dup.toml"))) == 1
    assert capsys.readouterr().err == (
        f"ltr features: error: {corpus / 'dup.toml'}: duplicate feature column(s) ['bm25:all']: feature 1 (bm25) and "
        "feature 2 (bm25) both give 'bm25:all': give one of them a distinct 'name'\n")
    assert not (corpus / "d.letor").exists()


# -- --features: a shipped set or a file ----------------------------------------------------------------------------
@pytest.mark.parametrize("value, reason", [
    ("nosuch.toml", "no such file; give a shipped feature set ({}) or a .toml/.json file"),
    ("sets/nosuch", "no such file; give a shipped feature set ({}) or a .toml/.json file"),
    ("nosuch.json", "no such file; give a shipped feature set ({}) or a .toml/.json file"),
    ("nosuch", "neither a shipped feature set ({}) nor a file"),
])
def test_a_missing_feature_set_is_the_options_mistake_with_or_without_a_suffix(corpus, capsys, monkeypatch, value,
                                                                               reason):
    monkeypatch.chdir(corpus)
    assert main(features_argv(corpus, "--features", value)) == 2
    assert capsys.readouterr().err == f"ltr features: error: --features {value}: {reason.format(SHIPPED)}\n"


def test_ltr_rerank_says_a_missing_feature_set_file_as_ltr_features_does(corpus, capsys, monkeypatch):
    monkeypatch.chdir(corpus)
    (corpus / "bm25.run").write_text("1 Q0 d1 1 2.0 bm25\n1 Q0 d2 2 1.0 bm25\n")
    (corpus / "m.txt").write_text("")  # not read: the option is checked before the model is loaded
    code = main(["rerank", "--model", "m.txt", "--collection", "corpus.jsonl", "--queries", "q.tsv", "--run",
                 "bm25.run", "--features", "nosuch.toml", "--out", "r.run"])
    assert code == 2
    assert capsys.readouterr().err == ("ltr rerank: error: --features nosuch.toml: no such file; give a shipped "
                                       f"feature set ({SHIPPED}) or a .toml/.json file\n")


def test_feature_set_load_still_raises_a_value_error_naming_a_missing_file(tmp_path):
    missing = tmp_path / "nosuch.toml"
    with pytest.raises(ValueError, match=rf"or a .toml/.json file; '{missing}' does not exist$"):
        FeatureSet.load(missing)


# -- --bm25-field ---------------------------------------------------------------------------------------------------
def test_an_unknown_bm25_field_is_the_options_mistake(corpus, capsys):
    assert main(features_argv(corpus, "--bm25-field", "nosuch")) == 2
    assert capsys.readouterr().err == ("ltr features: error: --bm25-field nosuch: not a field of this index; it has "
                                       "['body', 'all']\n")
    assert not (corpus / "d.letor").exists()
    assert main(features_argv(corpus, "--bm25-field", "body")) == 0
