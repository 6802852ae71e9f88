"""Behaviours mended in stop 53: fusion weights fitted by cross-validation cut their folds over the judged queries,
so that no fold is left without a query to score."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ltr.fusion import fit_weights


def _two_runs_over(queries):
    def rows(order):
        return pd.DataFrame([(q, d, s) for q in queries for d, s in order], columns=["qid", "docno", "score"])

    return rows((("d1", 2.0), ("d2", 1.0))), rows((("d1", 1.0), ("d2", 2.0)))


@pytest.mark.parametrize("seed", range(5))
def test_fit_weights_scores_every_fold_when_most_queries_are_unjudged(seed):
    """Eight queries, three judged, three folds: a fold of unjudged queries alone was 'test': nan (t52 left alone)."""
    a, b = _two_runs_over([str(q) for q in range(1, 9)])
    qrels = pd.DataFrame({"qid": ["1", "2", "3"], "docno": ["d1", "d2", "d1"], "rel": [1, 1, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the runs' unjudged queries are said; not what this test reads
        fitted = fit_weights([a, b], qrels, n_splits=3, step=0.5, random_state=seed)
    assert all(np.isfinite(f["test"]) for f in fitted.folds)
    assert sorted(q for f in fitted.folds for q in f["test_queries"]) == sorted(str(q) for q in range(1, 9))
    judged_per_fold = [len({"1", "2", "3"} & set(f["test_queries"])) for f in fitted.folds]
    assert judged_per_fold == [1, 1, 1]


def test_fit_weights_with_one_judged_query_says_so():
    a, b = _two_runs_over(["1", "2", "3"])
    qrels = pd.DataFrame({"qid": ["2"], "docno": ["d1"], "rel": [1]})
    with pytest.raises(ValueError, match=r"the runs have 1 query\(ies\) with judgments in the qrels"):
        fit_weights([a, b], qrels, n_splits=2)


def test_fit_weights_folds_are_unchanged_when_every_query_is_judged():
    """The same seed cuts the same folds as before the change when no query is unjudged."""
    a, b = _two_runs_over([str(q) for q in range(1, 7)])
    qrels = pd.DataFrame({"qid": [str(q) for q in range(1, 7)], "docno": ["d1", "d2"] * 3, "rel": [1] * 6})
    fitted = fit_weights([a, b], qrels, n_splits=3, step=0.5, random_state=3)
    queries = np.array([str(q) for q in range(1, 7)], dtype=object)
    expected = np.array_split(queries[np.random.default_rng(3).permutation(6)], 3)
    assert [f["test_queries"] for f in fitted.folds] == [list(p) for p in expected]
