"""Trial t70's findings: a field a feature set names and the collection lacks was said only after the whole index
had been built (and saved) and the first stage had run."""

from __future__ import annotations

import pytest

from features.collections import Collection
from features.featureset import FeatureSet
from features.pipeline import check_feature_fields
from ltr.cli import main


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "docs.tsv").write_text("d1\twing flutter\nd2\theat transfer wing\nd3\tboundary layer\n")
    (tmp_path / "queries.tsv").write_text("1\twing\n2\theat\n")
    (tmp_path / "qrels.txt").write_text("1 0 d1 1\n2 0 d2 1\n")
    return tmp_path


def test_a_field_the_collection_lacks_is_refused_before_the_index_is_built(tiny, capsys):
    (tiny / "fs.toml").write_text('[[features]]\nscorer = "bm25"\nfields = ["titel"]\n')
    argv = ["features", "--collection", str(tiny / "docs.tsv"), "--queries", str(tiny / "queries.tsv"),
            "--qrels", str(tiny / "qrels.txt"), "--features", str(tiny / "fs.toml"), "--index", str(tiny / "ix"),
            "--out", str(tiny / "out.letor"), "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.endswith(f"error: {tiny / 'fs.toml'}: feature 1 (bm25): no field 'titel' in this index; it has "
                        "['body', 'all']\n")
    assert len(err.splitlines()) == 1
    assert not (tiny / "ix").exists()  # the index was built and saved before it was refused
    assert not (tiny / "out.letor").exists()


@pytest.mark.parametrize("fields, entry, message", [
    (None, {"scorer": "bm25", "fields": ["abstract"]}, r"no field 'abstract' in this index; it has \['title', "
                                                        r"'body', 'all'\]"),
    (["body"], {"scorer": "bm25", "fields": ["title"]}, r"no field 'title' in this index; it has \['body', 'all'\]"),
    (None, {"scorer": "bm25f", "weights": {"title": 2.0, "abstract": 1.0}}, r"no field 'abstract'"),
    (None, {"scorer": "bm25", "fields": ["notes"]}, r"no field 'notes'"),  # empty in every document: not indexed
])
def test_check_feature_fields_names_the_field_the_index_will_lack(fields, entry, message):
    docs = Collection(("d1", "d2"), {"title": ["wing", ""], "body": ["flutter", "heat"], "notes": ["", ""]})
    with pytest.raises(ValueError, match=rf"^feature 1 \({entry['scorer']}\): {message}"):
        check_feature_fields(FeatureSet([entry]), docs, fields=fields)


@pytest.mark.parametrize("fields, entry", [
    (None, {"scorer": "bm25", "fields": ["title", "body", "all"]}),
    (["body"], {"scorer": "bm25", "fields": ["all"]}),  # one field: 'all' is its alias
    (None, {"scorer": "bm25f", "weights": {"title": 2.0, "body": 1.0}}),
    (None, "bm25"),
])
def test_check_feature_fields_passes_the_fields_the_index_will_have(fields, entry):
    docs = Collection(("d1", "d2"), {"title": ["wing", ""], "body": ["flutter", "heat"], "notes": ["", ""]})
    assert check_feature_fields(FeatureSet([entry]), docs, fields=fields) is None
