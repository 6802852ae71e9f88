"""Hypothesis properties of the metrics, and agreement with a plain-Python reference written from the formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ltr.metrics import evaluate_per_query

ALL = ["ndcg@1", "ndcg@3", "ndcg", "dcg@5", "map", "map@3", "mrr", "mrr@2", "p@1", "p@4", "recall@3", "recall",
       "err@3", "err"]

# Per-test settings (a profile loaded here would change every other module's Hypothesis settings).
SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def queries(draw, max_queries=5, max_size=12, tied=True):
    sizes = draw(st.lists(st.integers(1, max_size), min_size=1, max_size=max_queries))
    n = sum(sizes)
    labels = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    if tied:
        scores = draw(st.lists(st.integers(-3, 3).map(float) | st.just(-math.inf), min_size=n, max_size=n))
    else:
        scores = draw(st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n, unique=True))
    ptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    return np.array(labels, dtype=float), np.array(scores, dtype=float), ptr


def _reference(labels, scores, name, *, gain, ties, no_relevant, rel_threshold=1.0, max_grade=4.0):
    """One query, straight from the formulas in ltr.metrics, with np.lexsort for the order."""
    n = labels.size
    second = {"stable": np.zeros(n), "pessimistic": labels, "optimistic": -labels}[ties]
    ranked = labels[np.lexsort((np.arange(n), second, -scores))]
    family, _, k_text = name.partition("@")
    k = int(k_text) if k_text else n
    top = ranked[: min(k, n)]

    def g(x):
        x = np.maximum(x, 0.0)
        return 2.0**x - 1.0 if gain == "exp2" else x

    def dcg_of(values):
        return sum(g(v) / math.log2(i + 2) for i, v in enumerate(values))

    rel = labels >= rel_threshold
    if family == "dcg":
        return dcg_of(top)
    if family == "ndcg":
        ideal = np.sort(labels)[::-1][: min(k, n)]
        return no_relevant if dcg_of(ideal) == 0 else dcg_of(top) / dcg_of(ideal)
    if family == "err":
        if not (labels > 0).any():
            return no_relevant
        value, decay = 0.0, 1.0
        for i, v in enumerate(top):
            r = (2.0 ** max(v, 0.0) - 1.0) / 2.0**max_grade
            value += decay * r / (i + 1)
            decay *= 1 - r
        return value
    if not rel.any():
        return no_relevant
    hits = top >= rel_threshold
    if family == "map":
        return sum(np.cumsum(hits)[i] / (i + 1) for i in range(hits.size) if hits[i]) / rel.sum()
    if family == "mrr":
        return 1.0 / (np.argmax(hits) + 1) if hits.any() else 0.0
    if family == "p":
        return hits.sum() / k
    if family == "recall":
        return hits.sum() / rel.sum()
    raise AssertionError(name)


@SETTINGS
@given(data=queries(), gain=st.sampled_from(["exp2", "linear"]),
       ties=st.sampled_from(["stable", "pessimistic", "optimistic"]), no_relevant=st.sampled_from([0.0, 1.0]))
def test_every_metric_matches_the_formula(data, gain, ties, no_relevant):
    y, s, ptr = data
    out = evaluate_per_query(y, s, group_ptr=ptr, metrics=ALL, gain=gain, ties=ties, no_relevant=no_relevant)
    for name in ALL:
        expected = [
            _reference(y[a:b], s[a:b], name, gain=gain, ties=ties, no_relevant=no_relevant)
            for a, b in zip(ptr[:-1], ptr[1:])
        ]
        np.testing.assert_allclose(out[name], expected, rtol=1e-12, atol=1e-12, err_msg=name)


@SETTINGS
@given(data=queries(), gain=st.sampled_from(["exp2", "linear"]), k=st.integers(1, 15))
def test_ndcg_lies_between_zero_and_one(data, gain, k):
    y, s, ptr = data
    out = evaluate_per_query(y, s, group_ptr=ptr, metrics=[f"ndcg@{k}", "ndcg", f"err@{k}", "map"], gain=gain)
    for v in out.values():
        assert ((v >= 0) & (v <= 1 + 1e-12)).all()


@SETTINGS
@given(data=queries(), k=st.integers(1, 15))
def test_the_ideal_order_scores_one(data, k):
    y, _, ptr = data
    out = evaluate_per_query(y, y, group_ptr=ptr, metrics=[f"ndcg@{k}", "ndcg", "map", "mrr", f"recall@{k}"],
                             no_relevant=1.0)
    np.testing.assert_allclose(out[f"ndcg@{k}"], 1.0, rtol=1e-12)
    np.testing.assert_allclose(out["ndcg"], 1.0, rtol=1e-12)
    np.testing.assert_allclose(out["map"], 1.0, rtol=1e-12)
    np.testing.assert_allclose(out["mrr"], 1.0, rtol=1e-12)
    n_rel = np.array([(y[a:b] >= 1).sum() for a, b in zip(ptr[:-1], ptr[1:])])
    expected_recall = np.where(n_rel > 0, np.minimum(k, n_rel) / np.maximum(n_rel, 1), 1.0)
    np.testing.assert_allclose(out[f"recall@{k}"], expected_recall, rtol=1e-12)


@SETTINGS
@given(data=queries(max_queries=6))
def test_queries_together_equal_queries_one_by_one(data):
    y, s, ptr = data
    together = evaluate_per_query(y, s, group_ptr=ptr, metrics=ALL)
    for q, (a, b) in enumerate(zip(ptr[:-1], ptr[1:])):
        alone = evaluate_per_query(y[a:b], s[a:b], group_ptr=[0, b - a], metrics=ALL)
        for name in ALL:
            assert together[name][q] == alone[name][0], name


@SETTINGS
@given(data=queries(max_queries=3, max_size=60), k=st.integers(1, 12))
def test_the_partial_ranking_agrees_with_the_full_sort(data, k):
    # Asking for "map" too forces a full sort; @k alone takes the bounded top-k path when 4k <= n.
    y, s, ptr = data
    for ties in ("stable", "pessimistic", "optimistic"):
        names = [f"ndcg@{k}", f"p@{k}", f"mrr@{k}", f"err@{k}"]
        partial = evaluate_per_query(y, s, group_ptr=ptr, metrics=names, ties=ties)
        full = evaluate_per_query(y, s, group_ptr=ptr, metrics=[*names, "map"], ties=ties)
        for name in names:
            np.testing.assert_array_equal(partial[name], full[name])


@SETTINGS
@given(data=queries(), k=st.integers(1, 12))
def test_pessimistic_and_optimistic_ties_bound_the_stable_order(data, k):
    y, s, ptr = data
    names = [f"ndcg@{k}", "map", f"dcg@{k}"]
    lo, mid, hi = (evaluate_per_query(y, s, group_ptr=ptr, metrics=names, ties=t)
                   for t in ("pessimistic", "stable", "optimistic"))
    for name in names:
        assert (lo[name] <= mid[name] + 1e-12).all() and (mid[name] <= hi[name] + 1e-12).all()


@SETTINGS
@given(data=queries(tied=False), seed=st.integers(0, 2**32 - 1))
def test_without_ties_the_row_order_within_a_query_does_not_matter(data, seed):
    y, s, ptr = data
    rng = np.random.default_rng(seed)
    perm = np.concatenate([a + rng.permutation(b - a) for a, b in zip(ptr[:-1], ptr[1:])])
    a = evaluate_per_query(y, s, group_ptr=ptr, metrics=ALL)
    b = evaluate_per_query(y[perm], s[perm], group_ptr=ptr, metrics=ALL)
    for name in ALL:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-12, atol=0)


@pytest.mark.parametrize("n, low", [(17, 0), (33, 0), (200, 0), (300, 1)])
def test_long_lists_on_every_ranking_path_match_the_formula(n, low):
    # Rank counting for few relevant rows, the merge sort for many (n=200 with ~80% positive labels; n=300 all
    # positive), with ties, for every tie rule and cutoff.
    rng = np.random.default_rng(n)
    y = rng.integers(low, 5, n).astype(float)
    s = rng.integers(0, n // 4, n).astype(float)
    names = ["map", "ndcg", "err", "mrr", "recall", "ndcg@150", "map@100", "p@90"]
    for ties in ("stable", "pessimistic", "optimistic"):
        out = evaluate_per_query(y, s, group_ptr=[0, n], metrics=names, ties=ties)
        for name in names:
            expected = _reference(y, s, name, gain="exp2", ties=ties, no_relevant=0.0)
            assert out[name][0] == pytest.approx(expected, rel=1e-12), (name, ties)
