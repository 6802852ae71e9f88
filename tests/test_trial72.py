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


@pytest.mark.parametrize("bad", ["x", None, float("inf")])
def test_query_scorer_refuses_a_bad_no_relevant_before_any_fold_trains(bad):
    # The value was taken as given and refused only when a fold's model was scored: GridSearchCV trained every
    # candidate, scored each nan, warned and still named a best_params_.
    from ltr.evaluation import QueryScorer

    with pytest.raises(ValueError, match="no_relevant must be a"):
        QueryScorer("ndcg@10", no_relevant=bad)
    assert QueryScorer("ndcg@10", no_relevant=float("nan")).no_relevant != 0  # nan (leave such queries out) is valid


def test_a_scorer_of_several_metrics_or_none_is_told_what_is_wrong():
    # 'ndcg@10,map' and '' were both "unknown metric ...", with the list of every known name: both names are known.
    from ltr.evaluation import QueryScorer
    from ltr.metrics import evaluate

    with pytest.raises(ValueError, match=r"^a scorer computes one metric, got 'ndcg@10,map'"):
        QueryScorer("ndcg@10,map")
    with pytest.raises(ValueError, match=r"^a metric name is empty"):
        QueryScorer(" ")
    with pytest.raises(ValueError, match=r"^metrics is empty"):
        evaluate([1, 0], [1.0, 2.0], qid=[1, 1], metrics="")
