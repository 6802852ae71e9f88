"""Fixes from user trial t72 (and the review that followed it), each with the case that showed it."""

from __future__ import annotations

import numpy as np
import pytest

from features import Analyzer, InvertedIndex
from features.collections import Collection
from features.pairs import PairSet
from features.scorers import available_scorers, get_scorer

NEURAL = {"biencoder", "crossencoder", "neural_file"}  # models or files of their own: tested in their own files
NEEDS = {"bm25f": {"weights": {"body": 1.0, "title": 2.0}}, "first_stage": None}


@pytest.mark.parametrize("query", ["the", "zzz", "the zzz", "design"])
def test_every_scorer_gives_float64_whatever_the_query_matches(query):
    # A batch whose query had no term in the field (a stopword, a word the collection lacks) was scored by
    # np.bincount over no entries, which is int64 however the weights are typed: bm25, the language models, rm3,
    # bo1, dph, bm25f, ... returned int64 zeros there and float64 elsewhere (Scorer.score promises float64).
    docs = Collection(("d0", "d1", "d2"), {"title": ["compilers", "", "heat flow"],
                                           "body": ["design of compilers design", "compilers design", "heat"]})
    ix = InvertedIndex.build(docs, Analyzer(stemmer=None))
    pairs = PairSet(ix, [ix.query_terms(query)], np.array([0, 3]), np.arange(3, dtype=np.int32))
    checked = 0
    for name in sorted(set(available_scorers()) - NEURAL):
        if NEEDS.get(name, {}) is None:
            continue
        scorer = get_scorer(name)(**NEEDS.get(name, {}))
        field = None if name == "bm25f" else "body"
        values = scorer.score(pairs, field)
        assert values.dtype == np.float64, (name, values.dtype)
        assert values.shape == (3, len(scorer.outputs)), (name, values.shape)
        checked += 1
    assert checked >= 25
