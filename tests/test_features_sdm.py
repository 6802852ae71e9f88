"""Sequential dependence model (Metzler & Croft 2005): Indri's window counts on positions written out, the score and
its components by hand, and agreement with the independent query-likelihood and #1 features."""

from __future__ import annotations

import math

import numpy as np
import pytest

import features.scorers.sdm as sdm_module
from features._kernels.windows import window_cf, window_counts_doc
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


def windows(doc: str, a: str, b: str, window: int = 8, every: bool = False) -> tuple[float, float]:
    """(#1(a b), #uwN(a b)) of one document, through the kernel and its Python twin (which must agree); ``every``:
    every extent (the document's share of the collection's count) rather than the non-overlapping ones."""
    ix = build([doc])
    f = ix.field("body")
    pa, pb = (int(f.indptr[ix.vocab[t]]) for t in (a, b))  # one document: the term's only posting
    out = [np.zeros(2), np.zeros(2)]
    window_counts_doc(f.positions, f.pos_ptr, pa, pb, window, out[0], every)
    window_counts_doc.py_func(f.positions, f.pos_ptr, pa, pb, window, out[1], every)
    np.testing.assert_array_equal(out[0], out[1])
    return tuple(out[0].tolist())


# -- Indri's window counts -------------------------------------------------------------------------------------------
def test_ordered_window_counts_exact_bigrams():
    assert windows("a b x a b", "a", "b")[0] == 2  # a 0 b 1, a 3 b 4
    assert windows("b a", "a", "b")[0] == 0  # reversed
    assert windows("a x b", "a", "b")[0] == 0  # a gap
    # a repeated term: "a a a" holds the extents [0, 1] and [1, 2], which overlap: Indri counts one
    assert windows("a a a", "a", "a")[0] == 1
    assert windows("a a x a a", "a", "a")[0] == 2  # [0, 1] and [3, 4]


def test_unordered_window_counts_non_overlapping_extents_as_indri():
    # "a b a b": from a 0 the first b is 1 -> [0, 1]; from b 1 -> a 2: [1, 2] overlaps; from a 2 -> b 3: [2, 3]
    assert windows("a b a b", "a", "b") == (2.0, 2.0)
    # "b a b": [0, 1] counts, [1, 2] overlaps it -> 1 (the unordered_window feature counts 2 occurrence pairs)
    assert windows("b a b", "a", "b") == (1.0, 1.0)
    # a 0 and b 8 span 9 positions: outside #uw8, inside #uw9
    far = "a x x x x x x x b"
    assert windows(far, "a", "b", 8)[1] == 0 and windows(far, "a", "b", 9)[1] == 1
    # "a x x b a": from a 0 the first b is 3 -> [0, 3]; from b 3 -> a 4: [3, 4] overlaps (begins at 3) -> 1
    assert windows("a x x b a", "a", "b")[1] == 1
    # a repeated term, #uw8(a a): Indri closes a window [x, x] at every occurrence of a, so the count is tf(a)
    # ("a x a" 2, "a b" 1; far apart or not), while #1(a a) still needs a at x and x + 1
    assert windows("a x a", "a", "a") == (0.0, 2.0) and windows("a b", "a", "a") == (0.0, 1.0)
    assert windows("a x x x x x x x x x a", "a", "a") == (0.0, 2.0) and windows("a a a", "a", "a") == (1.0, 3.0)


def test_every_extent_as_indri_counts_them_in_the_collection():
    """Indri's ContextCountAccumulator adds up the window node's extents as they are, overlapping ones included
    (t54): a document's share of c(x, C) is every extent, where c(x, D) keeps the non-overlapping ones."""
    # "a b a b": [0, 1], [1, 2], [2, 3]: all three (2 of them in the document's own count)
    assert windows("a b a b", "a", "b", every=True) == (2.0, 3.0)
    assert windows("b a b", "a", "b", every=True) == (1.0, 2.0)
    assert windows("a x x b a", "a", "b", every=True)[1] == 2  # [0, 3] and [3, 4]
    # #1(a a) over "a a a": [0, 1] and [1, 2]; #uw8(a a): [x, x] at each occurrence, and from each occurrence's
    # second entry the window closing on the next occurrence within 8 positions ("a x a": [0, 0], [0, 2], [2, 2])
    assert windows("a a a", "a", "a", every=True) == (2.0, 5.0)
    assert windows("a x a", "a", "a", every=True) == (0.0, 3.0)
    assert windows("a x x x x x x x x x a", "a", "a", every=True) == (0.0, 2.0)  # 11 positions apart: no window


def test_collection_window_counts_sum_every_extent_of_the_documents():
    docs = ["a b a b", "b a b", "a x x x x x x x b", "b", "x a"]
    ix = build(docs)
    f = ix.field("body")
    ids = np.array([ix.vocab["a"], ix.vocab["b"], -1], dtype=np.int64)
    out = np.zeros((3, 2))
    window_cf(f.indptr, f.docs, f.pos_ptr, f.positions, ids[[0, 1, 0]], ids[[1, 0, 2]], 8, out)
    # (a, b): #1 2 + 1 + 0; #uw8 every extent 3 + 2 + 0. (b, a): #1 "b a" 1 + 1 + 0; #uw8 as (a, b). (a, unknown): 0
    np.testing.assert_array_equal(out, [[3, 5], [2, 5], [0, 0]])
    twin = np.zeros((3, 2))
    window_cf.py_func(f.indptr, f.docs, f.pos_ptr, f.positions, ids[[0, 1, 0]], ids[[1, 0, 2]], 8, twin)
    np.testing.assert_array_equal(out, twin)


# -- the SDM score by hand -------------------------------------------------------------------------------------------
DOCS = ["a b x a y b", "b a", "x y"]  # d0: a 0, 3; b 1, 5. d1: b 0, a 1. |C| = 6 + 2 + 2 = 10


def test_sdm_score_and_components_by_hand():
    pairs = all_pairs(build(DOCS), ["a b"])
    mu, size = 4.0, 10
    # cf(a) = cf(b) = 3; #1(a b): d0 "a b" at 0-1 -> 1; #uw8(a b): d0 [0, 1], [3, 5] -> 2 in the document, and
    # with [1, 3], which overlaps them, 3 in the collection; d1 [0, 1] -> 1
    cf_uni, cf_o, cf_u = 3 / size, 1 / size, 4 / size

    def f(count, p, dl):
        return math.log((count + mu * p) / (dl + mu))

    expected = []
    for tf_a, tf_b, o, u, dl in [(2, 2, 1, 2, 6), (1, 1, 0, 1, 2), (0, 0, 0, 0, 2)]:
        T = (f(tf_a, cf_uni, dl) + f(tf_b, cf_uni, dl)) / 2
        O = f(o, cf_o, dl) / 1
        U = f(u, cf_u, dl) / 1
        expected.append([0.85 * T + 0.1 * O + 0.05 * U, T, O, U])
    got = get_scorer("sdm")(mu=mu).score(pairs, "body")
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # the paper's sums instead of Indri's means: the same here (two terms, one bigram) except T doubles
    s = get_scorer("sdm")(mu=mu, combine="sum").score(pairs, "body")
    np.testing.assert_allclose(s[:, 1], 2 * got[:, 1], rtol=1e-12)
    np.testing.assert_allclose(s[:, 0], 0.85 * s[:, 1] + 0.1 * s[:, 2] + 0.05 * s[:, 3], rtol=1e-12)


def test_sdm_gives_unseen_cliques_half_a_token_and_averages_over_bigrams():
    pairs = all_pairs(build(DOCS), ["a zz b"])  # zz is not in the vocabulary
    mu, size = 4.0, 10
    unseen = 1 / (2 * size)  # Indri: a clique never seen in the collection gets c(x, C)/|C| = 1/(2|C|)

    def f(count, p, dl):
        return math.log((count + mu * p) / (dl + mu))

    # d0: unigrams a (tf 2), zz (0), b (2); bigrams (a, zz) and (zz, b) never occur anywhere
    T = (f(2, 3 / size, 6) + f(0, unseen, 6) + f(2, 3 / size, 6)) / 3
    O = (f(0, unseen, 6) + f(0, unseen, 6)) / 2
    U = O
    got = get_scorer("sdm")(mu=mu).score(pairs, "body")[0]
    np.testing.assert_allclose(got, [0.85 * T + 0.1 * O + 0.05 * U, T, O, U], rtol=1e-12)


def test_a_repeated_query_term_gets_indris_window_counts_through_the_scorer():
    # Indri's UnorderedWindowNode gives the two children of #uw8(a a) their own type, both at every position of a;
    # from each occurrence the window closes on the other child's entry at the same position, one extent per
    # occurrence, none overlapping: the count is tf(a). Hand counts: d0 "a a b" 2, d1 "a z ... z a" 2, d2 "b a b" 1;
    # #1(a a): d0 1 (a 0, a 1), else 0. Collection (17 tokens, every extent): #uw8 6 (d0 also [0, 1], which
    # overlaps [0, 0]; d1's two a are 11 positions apart), #1 1.
    docs = ["a a b", "a z z z z z z z z z a", "b a b"]
    pairs = all_pairs(build(docs), ["a a"])
    mu, size = 4.0, 17
    got = get_scorer("sdm")(mu=mu, columns=["ordered", "unordered"]).score(pairs, "body")

    def f(count, cf, dl):
        return math.log((count + mu * cf / size) / (dl + mu))

    expected = [[f(o, 1, dl), f(u, 6, dl)] for o, u, dl in [(1, 2, 3), (0, 2, 11), (0, 1, 3)]]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_a_one_term_query_has_window_columns_zero_as_documented():
    # no window clique: the ordered and unordered columns are 0 (the empty sum) for every document, with either
    # combine, and the ranking inside the query is the unigram component's
    pairs = all_pairs(build(DOCS), ["b"])
    for combine in ("mean", "sum"):
        got = get_scorer("sdm")(mu=4.0, combine=combine).score(pairs, "body")
        assert got[:, 2].tolist() == [0.0] * 3 and got[:, 3].tolist() == [0.0] * 3
        assert np.argsort(-got[:, 0], kind="stable").tolist() == np.argsort(-got[:, 1], kind="stable").tolist()
    doc = " ".join(sdm_module.__doc__.split())
    assert "A one-term query has no window cliques: its ``ordered`` and ``unordered`` columns are 0" in doc


def test_a_one_term_query_scores_its_unigram_component_and_an_empty_query_zero():
    pairs = all_pairs(build(DOCS), ["a", ""])
    got = get_scorer("sdm")(mu=4.0).score(pairs, "body")
    np.testing.assert_allclose(got[:3, 0], got[:3, 1], rtol=1e-12)  # Indri's #weight renormalises to T alone
    assert got[:3, 2].tolist() == [0.0] * 3 and got[3:].tolist() == [[0.0] * 4] * 3


def test_weights_window_and_mu_change_the_score():
    pairs = all_pairs(build(["a x x x x b", "a b", "b x a"]), ["a b"])
    base = get_scorer("sdm")().score(pairs, "body")
    for params in ({"w_ordered": 0.3}, {"window": 4}, {"mu": 100.0}, {"combine": "sum"}):
        assert not np.allclose(get_scorer("sdm")(**params).score(pairs, "body")[:, 0], base[:, 0]), params
    only = get_scorer("sdm")(columns=["ordered", "score"]).score(pairs, "body")
    np.testing.assert_array_equal(only, base[:, [2, 0]])


# -- against the other implementations -------------------------------------------------------------------------------
def test_the_unigram_component_is_dirichlet_query_likelihood_and_ordered_counts_match_the_bigram_feature():
    docs = ["wing flutter wing at mach speed", "flutter wing", "heat transfer in wing flutter", "speed", ""]
    ix = build(docs)
    queries = ["wing flutter", "flutter speed wing", "heat wing heat"]
    pairs = all_pairs(ix, queries)
    mu = 50.0
    sdm = get_scorer("sdm")(mu=mu, combine="sum").score(pairs, "body")
    lm = get_scorer("lm_dirichlet")(mu=mu).score(pairs, "body")[:, 0]  # every query term occurs in the collection
    np.testing.assert_allclose(sdm[:, 1], lm, rtol=1e-12)
    # no query repeats a bigram's term, so Indri's #1 count is the ordered_window bigram count; recover it from
    # the ordered component: count = exp(f) (|d| + mu) - mu c(x, C) / |C|, summed over the bigrams of the query
    from features.scorers.sdm import query_bigrams

    bptr, ba, bb = query_bigrams(pairs)
    assert np.diff(bptr).tolist() == [1, 2, 2]
    ow = get_scorer("ordered_window")().score(pairs, "body")[:, 0]
    one_bigram = pairs.pair_query == 0  # "wing flutter": one bigram, so the component is its own f
    f = ix.field("body")
    size = f.total_len
    cf_o = 2  # "wing flutter" occurs in d0 (wing 0 flutter 1) and d2 (wing 3 flutter 4)
    dl = f.doc_len[pairs.docs[one_bigram]]
    count = np.exp(sdm[one_bigram, 2]) * (dl + mu) - mu * cf_o / size
    np.testing.assert_allclose(count, ow[one_bigram], atol=1e-9)


def test_bad_parameters_name_the_parameter():
    for params, match in [({"mu": 0}, "mu must be"), ({"window": 1}, "window must be"),
                          ({"combine": "max"}, "combine must be"), ({"columns": ["score", "bigram"]}, "columns"),
                          ({"w_unigram": 0, "w_ordered": 0, "w_unordered": 0}, "w_unigram"),
                          ({"w_ordered": -1}, "w_ordered must be")]:
        with pytest.raises(ValueError, match=match):
            get_scorer("sdm")(**params)


def test_sdm_columns_in_a_feature_set():
    ix = build(DOCS)
    X, names, _ = FeatureSet([{"scorer": "sdm", "fields": ["body"], "columns": ["score", "unordered"]}]).compute(
        all_pairs(ix, ["a b"]))
    assert names == ("sdm_score:body", "sdm_unordered:body") and np.isfinite(X).all()


def test_a_stopword_between_two_terms_breaks_the_exact_phrase_as_in_indri():
    # Indri's stopper keeps a stopped term's position (Lucene's StopFilter its increment): in "design of compilers"
    # #1(design compilers) does not match and #uw8 does; the query "design of compilers" is stopped to two terms
    stopped = Analyzer(stemmer=None)  # Lucene's stopwords: 'of' is one
    ix = InvertedIndex.build(Collection(("d1", "d2"), {"body": ["design of compilers", "design compilers"]}), stopped)
    pairs = all_pairs(ix, ["design of compilers"])
    X, names, _ = FeatureSet([{"scorer": "sdm", "fields": ["body"], "mu": 4.0},
                              {"scorer": "ordered_window", "fields": ["body"]},
                              {"scorer": "min_pair_dist", "fields": ["body"]}]).compute(pairs)
    col = {n: X[:, j] for j, n in enumerate(names)}
    assert col["ordered_window:body"].tolist() == [0.0, 1.0]
    assert col["min_pair_dist:body"].tolist() == [2.0, 1.0]  # design 0, compilers 2 (positions, not terms)
    # sdm's ordered part: d1 unmatched (0 + mu * cf/|C|), d2 its one #1; |C| = 2 + 2 = 4, cf(#1) = 1
    mu, size = 4.0, 4

    def f(count, p, dl):
        return math.log((count + mu * p) / (dl + mu))

    np.testing.assert_allclose(col["sdm_ordered:body"], [f(0, 1 / size, 2), f(1, 1 / size, 2)], rtol=1e-6)
    np.testing.assert_allclose(col["sdm_unordered:body"], [f(1, 2 / size, 2), f(1, 2 / size, 2)], rtol=1e-6)


def test_the_memos_of_a_long_running_service_stay_bounded_and_change_no_value(monkeypatch):
    """A Reranker's memory grew with every new query text: the analyzer kept every token it had met, the SDM
    feature every bigram's collection counts (trial t50/serve: 14.4 MB over 7,500 calls of new text). Both memos
    start again when full; the features are the same."""
    import features.analysis as analysis

    docs = ["wing flutter at supersonic speed", "boundary layer flow over a flat plate", "flutter of a plate wing",
            "heat transfer in the boundary layer", "supersonic flow past a wing"]
    ix = build(docs)
    queries = ["wing flutter", "boundary layer flow", "supersonic wing flutter", "flat plate heat", "flow wing"]
    sdm = get_scorer("sdm")()
    want = sdm.score(all_pairs(ix, queries), "body")
    monkeypatch.setattr(analysis, "TOKEN_MEMO_LIMIT", 3)
    monkeypatch.setattr(sdm_module, "PAIR_MEMO_LIMIT", 2)
    fresh = InvertedIndex.build(Collection(tuple(f"d{i}" for i in range(len(docs))), {"body": docs}),
                                Analyzer(stopwords=None, stemmer=None))  # a memo of its own
    got = [get_scorer("sdm")().score(all_pairs(fresh, [q]), "body") for q in queries]
    np.testing.assert_array_equal(np.vstack(got), want)
    assert len(fresh.analyzer._memo) <= 3
    memos = [v for k, v in fresh.field("body")._derived.items() if k[0] == "sdm_window_cf"]
    assert memos and all(len(m) <= 2 for m in memos)
