"""Trial t51 (features): Snowball-format stopword files, stopwords normalised as the text is (--unicode), a feature
entry with ``fields = []`` or ``name = ""``, ``--fields`` naming a field empty in every document, NaN relevance in
a judgment frame given to ``extract``, and ``bo1``'s ``min_docs = true``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import Analyzer, InvertedIndex, extract
from features.analysis import load_stopwords
from features.collections import Collection
from features.featureset import FeatureSet
from ltr.cli import main


def test_a_snowball_stopword_file_is_read_as_its_words(tmp_path):
    """Snowball's lists (and Lucene's and Solr's copies, format="snowball") write 'word | comment' and several words
    a line: every such line was taken whole as one stopword, so the file stopped nothing, unsaid."""
    p = tmp_path / "english_stop.txt"
    p.write_text(" | An English stop word list.\n\ni              | subject, always in upper case of course\n"
                 "me             | object\n# a comment line\nand or       | two words on a line\n   \nthe\n")
    assert load_stopwords(p) == frozenset({"i", "me", "and", "or", "the"})
    assert Analyzer(stopwords=p, stemmer=None).analyze("the theory of sets and me") == ["theory", "of", "sets"]
    p.write_text("# a plain list: one entry a line, as Lucene reads it (the review of t51)\nnew york\nthe\n")
    assert load_stopwords(p) == frozenset({"new york", "the"})


@pytest.mark.parametrize("form", ["NFC", "NFD", "NFKC", "NFKD"])
def test_stopwords_are_normalised_as_the_text_is(form):
    """With --unicode NFD, a stopword written composed ('café') stopped neither spelling of it."""
    text = "caf\u00e9 cafe\u0301 \ufb01le file wing"
    ana = Analyzer(stopwords=["caf\u00e9", "\ufb01le"], stemmer=None, normalize=form)
    kept = ["wing"] if form.startswith("NFK") else ["file", "wing"]  # (NFC/NFD keep the ligature a character)
    assert ana.analyze(text) == kept
    assert ana.stopwords == ("caf\u00e9", "\ufb01le")  # the words as given are what a saved index keeps


@pytest.mark.parametrize("entry, message", [
    ({"scorer": "bm25", "fields": []}, r"feature 1: 'fields' is an empty list: name one or more fields, or leave "
                                       r"'fields' out for every field \('\*'\)"),
    ({"scorer": "bm25", "name": ""}, r"feature 1: 'name' must be a non-empty string"),
])
def test_a_feature_entry_with_no_field_or_an_empty_name_is_refused(entry, message):
    """fields = [] gave no column, unsaid (alone: a LETOR file of 0 features, exit 0); name = "" became the
    scorer's own name."""
    with pytest.raises(ValueError, match=message):
        FeatureSet([entry])


def test_fields_naming_a_field_empty_in_every_document_is_refused_before_indexing(tmp_path, capsys):
    """NPL has no titles: --fields title indexed the collection, then said '93 of 93 queries have no candidate'."""
    (tmp_path / "d.jsonl").write_text('{"id": "1", "title": "", "body": "wing flutter"}\n'
                                      '{"id": "2", "title": "", "body": "heat transfer"}\n')
    (tmp_path / "q.tsv").write_text("1\twing\n")
    base = ["features", "--collection", str(tmp_path / "d.jsonl"), "--queries", str(tmp_path / "q.tsv"), "--out",
            str(tmp_path / "o.letor"), "--quiet"]
    assert main([*base, "--fields", "title"]) == 2
    assert capsys.readouterr().err == ("ltr features: error: --fields title: 'title' is empty in every document of "
                                       "the collection; its non-empty fields: body\n")
    assert not (tmp_path / "o.letor").exists()
    assert main([*base, "--fields", "body"]) == 0


def test_extract_refuses_a_judgment_frame_with_a_relevance_that_is_not_a_number():
    """A NaN relevance became a NaN label, refused only by write_letor, naming a row of the dataset."""
    ix = InvertedIndex.build(Collection(("d1", "d2"), {"body": ["wing flutter", "heat wing"]}), Analyzer())
    for bad in (np.nan, np.inf, "x"):
        qrels = pd.DataFrame({"qid": ["1", "2"], "docno": ["d1", "d2"], "rel": [1, bad]})
        with pytest.raises(ValueError, match=rf"^qrels: the relevance of document 'd2' for query '2' is {bad}, not a "
                                             r"finite number \(1 such row\(s\)\)$"):
            extract(ix, {"1": "wing", "2": "heat"}, {"1": ["d1", "d2"], "2": ["d2", "d1"]},
                    [{"scorer": "bm25", "fields": ["body"]}], qrels=qrels)


def test_bo1_min_docs_refuses_a_boolean():
    with pytest.raises(ValueError, match="min_docs"):
        FeatureSet([{"scorer": "bo1", "min_docs": True}])
