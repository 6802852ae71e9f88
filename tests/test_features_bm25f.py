"""BM25F (simple BM25F, Robertson, Zaragoza & Taylor 2004) by hand over a two-field index, and against BM25."""

from __future__ import annotations

import math

import numpy as np
import pytest

from features.analysis import Analyzer
from features.collections import Collection
from features.featureset import FeatureSet
from features.index import InvertedIndex
from features.pairs import PairSet
from features.scorers import get_scorer

PLAIN = Analyzer(stopwords=None, stemmer=None)
# title lengths 2, 0, 1 (average 1); body lengths 3, 3, 1 (average 7/3)
TWO_FIELDS = Collection(("d0", "d1", "d2"), {"title": ["wing flutter", "", "heat"],
                                             "body": ["wing wing heat", "flutter heat transfer", "wing"]})


def all_pairs(ix: InvertedIndex, queries: list[str]) -> PairSet:
    qs = [ix.query_terms(q) for q in queries]
    return PairSet(ix, qs, np.arange(len(qs) + 1, dtype=np.int64) * ix.n_docs,
                   np.tile(np.arange(ix.n_docs, dtype=np.int32), len(qs)))


def bm25f(pairs: PairSet, **params) -> np.ndarray:
    return get_scorer("bm25f")(**params).score(pairs, None)[:, 0]


def test_bm25f_by_hand_on_two_fields():
    ix = InvertedIndex.build(TWO_FIELDS, PLAIN)
    pairs = all_pairs(ix, ["wing flutter"])
    k1 = 1.2
    # document frequency over either field: wing d0, d2; flutter d0 (title), d1 (body)
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))
    t_norm = [1 - 0.5 + 0.5 * n / 1 for n in (2, 0, 1)]  # b_title = 0.5
    b_norm = [1 - 0.75 + 0.75 * n / (7 / 3) for n in (3, 3, 1)]  # b_body = 0.75
    pseudo = {  # weights: title 2, body 1
        "d0": {"wing": 2 * 1 / t_norm[0] + 1 * 2 / b_norm[0], "flutter": 2 * 1 / t_norm[0]},
        "d1": {"wing": 0.0, "flutter": 1 * 1 / b_norm[1]},
        "d2": {"wing": 1 * 1 / b_norm[2], "flutter": 0.0},
    }
    expected = [sum(idf * (k1 + 1) * x / (k1 + x) for x in pseudo[d].values()) for d in ("d0", "d1", "d2")]
    got = bm25f(pairs, weights={"title": 2.0, "body": 1.0}, b={"title": 0.5, "body": 0.75}, k1=k1)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # one saturation over the fields, not one per field: d0's "wing" is not the sum of two BM25 field scores
    per_field = idf * (k1 + 1) * (2 / t_norm[0] / (k1 + 2 / t_norm[0]) + (2 / b_norm[0]) / (k1 + 2 / b_norm[0]))
    fl = pseudo["d0"]["flutter"]
    assert got[0] != pytest.approx(per_field + idf * (k1 + 1) * fl / (k1 + fl))


def test_bm25f_of_one_field_with_weight_one_is_bm25_of_that_field():
    ix = InvertedIndex.build(TWO_FIELDS, PLAIN)
    pairs = all_pairs(ix, ["wing flutter", "heat heat", "zz"])
    for f in ("title", "body"):
        for idf in ("lucene", "robertson"):
            np.testing.assert_allclose(bm25f(pairs, weights={f: 1.0}, b=0.6, k1=0.9, idf=idf),
                                       get_scorer("bm25")(b=0.6, k1=0.9, idf=idf).score(pairs, f)[:, 0], rtol=1e-12)


def test_every_parameter_changes_the_score_and_the_default_fields_leave_out_the_concatenation():
    ix = InvertedIndex.build(TWO_FIELDS, PLAIN)
    assert "all" in ix.field_names
    pairs = all_pairs(ix, ["wing flutter heat"])
    default = bm25f(pairs)
    np.testing.assert_allclose(default, bm25f(pairs, weights={"title": 1.0, "body": 1.0}), rtol=1e-12)
    for params in ({"weights": {"title": 3.0, "body": 1.0}}, {"b": {"title": 0.0, "body": 0.75}}, {"k1": 2.0},
                   {"idf": "robertson"}):
        assert not np.allclose(bm25f(pairs, **params), default), params


def test_bad_parameters_and_unknown_fields_are_named():
    with pytest.raises(ValueError, match="weights must be"):
        get_scorer("bm25f")(weights={"title": -1.0})
    with pytest.raises(ValueError, match="b must be a value for each weighted field"):
        get_scorer("bm25f")(weights={"title": 1.0, "body": 1.0}, b={"title": 0.5})
    with pytest.raises(ValueError, match="b must be"):
        get_scorer("bm25f")(b=1.5)
    ix = InvertedIndex.build(TWO_FIELDS, PLAIN)
    with pytest.raises(ValueError, match="no field 'abstract' in this index"):
        bm25f(all_pairs(ix, ["wing"]), weights={"abstract": 1.0})


def test_bm25f_from_a_toml_feature_set(tmp_path):
    p = tmp_path / "f.toml"
    p.write_text('[[features]]\nscorer = "bm25f"\n'
                 'weights = {title = 2.0, body = 1.0}\nb = {title = 0.5, body = 0.75}\n')
    ix = InvertedIndex.build(TWO_FIELDS, PLAIN)
    pairs = all_pairs(ix, ["wing flutter"])
    X, names, _ = FeatureSet.load(p).compute(pairs)
    assert names == ("bm25f",)
    np.testing.assert_allclose(X[:, 0], bm25f(pairs, weights={"title": 2.0, "body": 1.0},
                                              b={"title": 0.5, "body": 0.75}), rtol=1e-12)


def test_a_feature_set_names_its_file_and_entry_for_a_bm25f_field_the_index_lacks(tmp_path):
    # as every other field error of a set: checked when the columns are planned, before any pair is scored
    ix = InvertedIndex.build(TWO_FIELDS, PLAIN)
    p = tmp_path / "f.toml"
    p.write_text('[[features]]\nscorer = "bm25"\n\n'
                 '[[features]]\nscorer = "bm25f"\nweights = {title = 2.0, bodyy = 1.0}\n')
    with pytest.raises(ValueError, match=rf"^{p}: feature 2 \(bm25f\): no field 'bodyy' in this index"):
        FeatureSet.load(p).columns(ix)
    p.write_text('[[features]]\nscorer = "bm25f"\nb = {title = 0.5, bodyy = 0.3}\n')  # default weights: every field
    with pytest.raises(ValueError, match=rf"^{p}: feature 1 \(bm25f\): scorer 'bm25f': b names fields \['bodyy', "
                                         r"'title'\] but the weighted fields are \['body', 'title'\]"):
        FeatureSet.load(p).columns(ix)
    with pytest.raises(ValueError, match=r"'fields' \(\['title'\]\) would change nothing: its fields are those its "
                                         r"weights name: weights = \{title = 1.0\}"):
        FeatureSet([{"scorer": "bm25f", "fields": ["title"]}])
