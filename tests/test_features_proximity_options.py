"""Proximity scorer options (issue #8 item 5): every option a scorer takes changes its output as documented, and an
option its statistic does not depend on is refused at construction, naming the scorer, the option and why."""

from __future__ import annotations

import numpy as np
import pytest

from features._kernels.proximity import listed_pair_distances_doc
from features.analysis import Analyzer
from features.collections import Collection
from features.featureset import FeatureSet
from features.index import InvertedIndex
from features.pairs import PairSet
from features.scorers import get_scorer

PLAIN = Analyzer(stopwords=None, stemmer=None)


def build(docs: list[str]) -> InvertedIndex:
    return InvertedIndex.build(Collection(tuple(f"d{i}" for i in range(len(docs))), {"body": docs}), PLAIN)


def all_pairs(ix: InvertedIndex, queries: list[str]) -> PairSet:
    qs = [ix.query_terms(q) for q in queries]
    return PairSet(ix, qs, np.arange(len(qs) + 1, dtype=np.int64) * ix.n_docs,
                   np.tile(np.arange(ix.n_docs, dtype=np.int32), len(qs)))


def feat(ps: PairSet, name: str, **params) -> np.ndarray:
    return get_scorer(name)(**params).score(ps, "body")[:, 0]


@pytest.mark.parametrize("scorer, option, value, why", [
    ("min_window", "window", 4, "shortest window covering every matched term"),
    ("min_window", "pairs", "all", "every matched query term at once"),
    ("span", "window", 4, "first to the last query-term occurrence"),
    ("span", "pairs", "all", "every matched query term at once"),
    ("min_pair_dist", "window", 4, "a distance between occurrences"),
    ("avg_pair_dist", "window", 4, "a distance between occurrences"),
    ("ordered_window", "window", 4, "#1 is exact adjacency"),
    ("ordered_window", "max_distance", 50.0, "a count, not a distance"),
    ("unordered_window", "max_distance", 50.0, "a count, not a distance"),
])
def test_an_option_the_statistic_ignores_is_refused_naming_scorer_option_and_reason(scorer, option, value, why):
    with pytest.raises(ValueError, match=f"scorer '{scorer}' does not take '{option}': .*{why}"):
        get_scorer(scorer)(**{option: value})
    # a feature-set file fails when it is read, before any work
    with pytest.raises(ValueError, match=f"'{scorer}' does not take '{option}'"):
        FeatureSet([{"scorer": scorer, option: value}])


def test_the_options_each_scorer_keeps_are_accepted():
    for scorer, params in [("min_window", {"max_distance": 5.0}), ("span", {"max_distance": 5.0}),
                           ("min_pair_dist", {"pairs": "adjacent", "max_distance": 5.0}),
                           ("avg_pair_dist", {"pairs": "all"}), ("ordered_window", {"pairs": "all"}),
                           ("unordered_window", {"pairs": "all", "window": 4})]:
        s = get_scorer(scorer)(**params)
        assert {k: s.params[k] for k in params} == params and set(s.params) == set(type(s).defaults)


DOC = "a b x x c"  # positions: a 0, b 1, c 4


def test_pair_distances_follow_the_pairs_option():
    # query "a c b": adjacent pairs (a, c) and (c, b); "all" adds (a, b)
    # closest occurrences: (a, c) |0 - 4| = 4, (c, b) |4 - 1| = 3, (a, b) |0 - 1| = 1
    pairs = all_pairs(build([DOC]), ["a c b"])
    assert feat(pairs, "min_pair_dist", pairs="all")[0] == 1
    assert feat(pairs, "min_pair_dist", pairs="adjacent")[0] == 3
    assert feat(pairs, "avg_pair_dist", pairs="all")[0] == (4 + 3 + 1) / 3
    assert feat(pairs, "avg_pair_dist", pairs="adjacent")[0] == (4 + 3) / 2
    # the default is Tao & Zhai's definition over every pair, as before the option was honoured
    assert feat(pairs, "min_pair_dist")[0] == 1 and feat(pairs, "avg_pair_dist")[0] == (4 + 3 + 1) / 3


def test_adjacent_pair_distances_skip_a_repeated_term_and_count_a_repeated_pair_once():
    # "a a c a c": adjacent pairs (a, a), (a, c), (c, a), (a, c): only {a, c} is a pair of distinct terms
    pairs = all_pairs(build([DOC]), ["a a c a c"])
    assert feat(pairs, "min_pair_dist", pairs="adjacent")[0] == 4
    assert feat(pairs, "avg_pair_dist", pairs="adjacent")[0] == 4
    # adjacent terms that never occur together in the query's pairs: no listed pair matched -> max_distance
    far = all_pairs(build([DOC]), ["a zz c"])  # pairs (a, zz), (zz, c): zz is absent
    assert feat(far, "min_pair_dist", pairs="adjacent", max_distance=50.0)[0] == 50.0
    assert feat(far, "min_pair_dist", pairs="all", max_distance=50.0)[0] == 4


def test_max_distance_caps_lengths_and_distances():
    pairs = all_pairs(build(["a " + "x " * 20 + "b"]), ["a b"])  # a 0, b 21
    for name in ("min_window", "span"):
        assert feat(pairs, name)[0] == 22 and feat(pairs, name, max_distance=10.0)[0] == 10
    for mode in ("all", "adjacent"):
        assert feat(pairs, "min_pair_dist", pairs=mode)[0] == 21
        assert feat(pairs, "min_pair_dist", pairs=mode, max_distance=10.0)[0] == 10


def test_window_and_pairs_change_the_window_counts():
    pairs = all_pairs(build(["a x b a y y b c"]), ["a b c"])  # a 0, 3; b 2, 6; c 7
    # window 8 (|d| <= 7): (a, b) all four occurrence pairs; (b, c): |2 - 7| = 5, |6 - 7| = 1
    assert feat(pairs, "unordered_window")[0] == 4 + 2
    # window 4 (|d| <= 3): (a, b) distances 2, 6, 1, 3 -> 3; (b, c) -> 1
    assert feat(pairs, "unordered_window", window=4)[0] == 3 + 1
    # "all" adds (a, c): |0 - 7| = 7, |3 - 7| = 4 -> 2 inside window 8; none is a bigram "a c"
    assert feat(pairs, "unordered_window", pairs="all")[0] == 4 + 2 + 2
    assert feat(pairs, "ordered_window")[0] == 1 and feat(pairs, "ordered_window", pairs="all")[0] == 1
    swapped = all_pairs(build(["a x b a y y b c"]), ["c b"])  # (c, b): "c b" never occurs in that order
    assert feat(swapped, "ordered_window")[0] == 0


def test_the_default_feature_set_computes_the_proximity_table_once_per_field():
    c = Collection(("d0", "d1"), {"title": ["wing flutter", "heat"], "body": ["wing flutter at speed", "wing"]})
    ix = InvertedIndex.build(c, Analyzer())
    pairs = all_pairs(ix, ["wing flutter speed"])
    FeatureSet.default().compute(pairs)
    tables = [k for k in pairs._cache if k[0] == "proximity"]
    assert sorted(k[1] for k in tables) == ["all", "body", "title"]


def test_listed_pair_distance_kernel_matches_its_python_twin():
    ix = build(["a x b a y y b c", "c b a c a", "a"])
    f = ix.field("body")
    q = ix.query_terms("a b c b a")
    pa, pb = q.sequence[:-1].astype(np.int64), q.sequence[1:].astype(np.int64)
    for d in range(3):
        post = np.array([next((p for p in range(f.indptr[t], f.indptr[t + 1]) if f.docs[p] == d), -1) for t in q.ids],
                        dtype=np.int64)
        out = [np.zeros(2), np.zeros(2)]
        listed_pair_distances_doc(f.positions, f.pos_ptr, post, pa, pb, 1000.0, out[0])
        listed_pair_distances_doc.py_func(f.positions, f.pos_ptr, post, pa, pb, 1000.0, out[1])
        np.testing.assert_array_equal(out[0], out[1])
