"""BM25 against rank_bm25 and bm25s, by hand, and the first-stage retriever (top-k, the NPL anchor)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from features._kernels.topk import topk_query
from features.analysis import Analyzer
from features.collections import Collection, load_test_collection
from features.featureset import FeatureSet
from features.index import InvertedIndex
from features.pairs import PairSet
from features.retrieval import BM25Retriever
from features.scorers import get_scorer
from features.scorers.bm25 import bm25_idf
from ltr._shared import import_reference

PLAIN = Analyzer(stopwords=None, stemmer=None)


def all_pairs(ix: InvertedIndex, texts: list[str]) -> PairSet:
    """Every query against every document."""
    qs = [ix.query_terms(t) for t in texts]
    ptr = np.arange(len(qs) + 1, dtype=np.int64) * ix.n_docs
    return PairSet(ix, qs, ptr, np.tile(np.arange(ix.n_docs, dtype=np.int32), len(qs)))


def bm25(pairs, field="body", **params):
    return get_scorer("bm25")(**params).score(pairs, field)[:, 0]


# -- by hand ---------------------------------------------------------------------------------------------------------
def test_bm25_by_hand_on_three_documents():
    docs = ["wing wing flutter", "heat", "wing heat transfer rate"]  # lengths 3, 1, 4; avgdl = 8 / 3
    ix = InvertedIndex.build(Collection(("a", "b", "c"), {"body": docs}), PLAIN)
    s = bm25(all_pairs(ix, ["wing"]), k1=1.2, b=0.75, idf="lucene")
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # df(wing) = 2
    avgdl = 8 / 3
    expected_a = idf * 2.2 * 2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 3 / avgdl))
    expected_c = idf * 2.2 * 1 / (1 + 1.2 * (1 - 0.75 + 0.75 * 4 / avgdl))
    np.testing.assert_allclose(s, [expected_a, 0.0, expected_c], rtol=1e-12)
    # a repeated query term counts twice; k3 saturates it as (k3 + 1) qtf / (k3 + qtf)
    s2 = bm25(all_pairs(ix, ["wing wing"]), idf="lucene")
    np.testing.assert_allclose(s2, 2 * s, rtol=1e-12)
    s3 = bm25(all_pairs(ix, ["wing wing"]), idf="lucene", k3=8.0)
    np.testing.assert_allclose(s3, (9 * 2 / (8 + 2)) * s, rtol=1e-12)


def test_terriers_query_term_weights_are_qtf_over_the_largest_qtf_then_k3():
    docs = ["wing wing flutter", "heat", "wing heat transfer rate"]
    ix = InvertedIndex.build(Collection(("a", "b", "c"), {"body": docs}), PLAIN)
    one = {t: bm25(all_pairs(ix, [t]), idf="terrier") for t in ("wing", "heat")}
    # "wing wing heat": qtf 2 and 1; Terrier's weights 2/2 and 1/2, then (k3 + 1) kf / (k3 + kf) with k3 = 8
    got = bm25(all_pairs(ix, ["wing wing heat"]), idf="terrier", k3=8.0, qtf_norm="max")
    np.testing.assert_allclose(got, 9 * 1 / (8 + 1) * one["wing"] + 9 * 0.5 / (8 + 0.5) * one["heat"], rtol=1e-12)
    raw = bm25(all_pairs(ix, ["wing wing heat"]), idf="terrier", k3=8.0)
    np.testing.assert_allclose(raw, 9 * 2 / (8 + 2) * one["wing"] + 9 * 1 / (8 + 1) * one["heat"], rtol=1e-12)
    # the first stage weighs queries the same way
    run = BM25Retriever(ix, idf="terrier", k3=8.0, qtf_norm="max", dtype=np.float64).search({"q": "wing wing heat"})
    for d, sc in zip(run.docno, run.score):
        assert sc == pytest.approx(got[ix.doc_index([d])[0]], rel=1e-12)
    with pytest.raises(ValueError, match="qtf_norm must be one of"):
        get_scorer("bm25")(qtf_norm="sum")
    with pytest.raises(ValueError, match="qtf_norm must be one of"):
        BM25Retriever(ix, qtf_norm="sum")


def test_epsilon_is_refused_unless_the_idf_is_okapi():
    with pytest.raises(ValueError, match="scorer 'bm25' does not take 'epsilon' here: it is the floor of idf='okapi'"):
        get_scorer("bm25")(epsilon=0.5)
    assert get_scorer("bm25")(idf="okapi", epsilon=0.5).params["epsilon"] == 0.5


def test_idf_variants_by_hand():
    df = np.array([1, 3, 5])
    n = 5
    rob = [math.log((n - d + 0.5) / (d + 0.5)) for d in (1, 3, 5)]  # 1.3863, -0.3365, -2.3979
    np.testing.assert_allclose(bm25_idf(df, n, "robertson"), rob)
    np.testing.assert_allclose(bm25_idf(df, n, "robertson_floor"), [rob[0], 0.0, 0.0])
    np.testing.assert_allclose(bm25_idf(df, n, "terrier"), [r / math.log(2) for r in rob])
    np.testing.assert_allclose(bm25_idf(df, n, "lucene"), [math.log(1 + (n - d + 0.5) / (d + 0.5)) for d in (1, 3, 5)])
    vocab = np.array([1, 3, 5, 2])
    mean = np.mean([math.log((n - d + 0.5) / (d + 0.5)) for d in (1, 3, 5, 2)])
    okapi = bm25_idf(df, n, "okapi", epsilon=0.25, vocab_df=vocab)
    np.testing.assert_allclose(okapi, [rob[0], 0.25 * mean, 0.25 * mean])
    with pytest.raises(ValueError, match="idf must be one of"):
        bm25_idf(df, n, "bm42")


def test_empty_documents_and_queries_score_zero_not_nan():
    ix = InvertedIndex.build(Collection(("a", "b"), {"body": ["", "wing"]}), Analyzer())
    for q in ["", "the of and", "zebra", "wing"]:
        s = bm25(all_pairs(ix, [q]))
        assert np.isfinite(s).all() and s[0] == 0.0
    empty = InvertedIndex.build(Collection(("a",), {"body": [""]}), Analyzer())
    assert bm25(all_pairs(empty, ["wing"])).tolist() == [0.0]


def test_invalid_parameters_name_the_parameter():
    with pytest.raises(ValueError, match=r"scorer 'bm25': b must be in \[0, 1\], got 2"):
        get_scorer("bm25")(b=2)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['k2'\]"):
        get_scorer("bm25")(k2=1)


def test_k1_zero_is_binary_tf_by_hand_and_as_bm25s():
    # k1 = 0 (Robertson & Zaragoza 2009; Lucene accepts k1 >= 0): a present term contributes idf, an absent one 0;
    # "" has an empty field, "heat" no query term: 0 there, not 0/0. Lucene's N is the 4 documents with a term
    bm25s = import_reference("bm25s")
    docs = ["wing wing flutter", "heat", "wing heat transfer rate", "", "flutter flutter flutter"]
    ix = InvertedIndex.build(Collection(tuple("abcde"), {"body": docs}), PLAIN)
    queries = ["wing flutter", "wing", "zzz flutter"]
    ours = bm25(all_pairs(ix, queries), k1=0.0, b=0.75, idf="lucene").reshape(len(queries), -1)
    assert np.isfinite(ours).all()
    idf = {t: math.log(1 + (4 - df + 0.5) / (df + 0.5)) for t, df in (("wing", 2), ("flutter", 2))}
    by_hand = [[sum(idf[t] for t in q.split() if t in idf and t in d.split()) for d in docs] for q in queries]
    np.testing.assert_allclose(ours, by_hand, rtol=1e-12)
    ref = bm25s.BM25(method="lucene", k1=0.0, b=0.75, dtype="float64")
    ref.index([d.split() for d in docs if d], show_progress=False)  # bm25s counts every document it is given
    # bm25s leaves out the constant (k1 + 1), here 1
    np.testing.assert_allclose(np.delete(ours, 3, axis=1), [ref.get_scores(q.split()) for q in queries], rtol=1e-12,
                               atol=1e-12)
    # the other variants count every document of the collection, as bm25s and rank_bm25 do (N = 5)
    atire = bm25(all_pairs(ix, ["wing"]), k1=0.0, b=0.75, idf="atire")
    np.testing.assert_allclose(atire, [math.log(5 / 2), 0, math.log(5 / 2), 0, 0], rtol=1e-12)


def test_k1_zero_through_a_feature_set_and_bm25tp_gives_finite_features():
    docs = ["wing flutter", "heat", "", "flutter x wing"]
    ix = InvertedIndex.build(Collection(tuple("abcd"), {"body": docs}), PLAIN)
    pairs = all_pairs(ix, ["wing flutter"])
    X, names, _ = FeatureSet([{"scorer": "bm25", "fields": ["body"], "k1": 0.0},
                              {"scorer": "bm25tp", "fields": ["body"], "k1": 0.0}]).compute(pairs)
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # df 2 of the 3 documents with a term (Lucene's docCount)
    # bm25tp with k1 = 0: BM25 plus min(1, idf) for each term whose proximity accumulator is positive (a and d,
    # where the two terms are neighbours), whatever its size
    tp = 2 * min(1.0, idf)
    np.testing.assert_allclose(X[:, 0], [2 * idf, 0, 0, 2 * idf], rtol=1e-12)
    np.testing.assert_allclose(X[:, 1], [2 * idf + tp, 0, 0, 2 * idf + tp], rtol=1e-12)


def test_b_one_leaves_an_empty_field_at_zero():
    # b = 1 and |d| = 0: the length normaliser is 0, and tf = 0 there; the term must contribute 0, not 0/0
    ix = InvertedIndex.build(Collection(tuple("ab"), {"body": ["wing", ""]}), PLAIN)
    s = bm25(all_pairs(ix, ["wing"]), k1=1.2, b=1.0, idf="atire")  # N and avgdl over both documents
    idf = math.log(2 / 1)
    avgdl = 0.5
    np.testing.assert_allclose(s, [idf * 2.2 / (1 + 1.2 * (1 / avgdl)), 0.0], rtol=1e-12)
    s = bm25(all_pairs(ix, ["wing"]), k1=1.2, b=1.0)  # Lucene's: over the one document with a term
    np.testing.assert_allclose(s, [math.log(1 + 0.5 / 1.5) * 2.2 / (1 + 1.2), 0.0], rtol=1e-12)


# -- independent references ------------------------------------------------------------------------------------------
def okapi_corpus():
    """Small corpus where some terms occur in more than half of the documents (negative Robertson idf)."""
    return ["a b c", "a b", "a c d", "a e", "b e f f", "a"]


def test_okapi_matches_rank_bm25_including_its_epsilon_floor():
    rank_bm25 = import_reference("rank_bm25")
    docs = okapi_corpus()
    ix = InvertedIndex.build(Collection(tuple(map(str, range(6))), {"body": docs}), PLAIN)
    queries = ["a b", "f", "a a e z", "c d"]
    ours = bm25(all_pairs(ix, queries), k1=1.5, b=0.75, idf="okapi", epsilon=0.25).reshape(len(queries), -1)
    ref = rank_bm25.BM25Okapi([d.split() for d in docs], k1=1.5, b=0.75, epsilon=0.25)
    # df(a) = 4 of 6: ln(2.5 / 4.5) < 0, so rank_bm25 replaces it by epsilon * mean idf; df(b) = 3 gives ln(1) = 0
    assert ref.idf["a"] == pytest.approx(0.25 * ref.average_idf) and ref.idf["b"] == 0.0
    np.testing.assert_allclose(ours, [ref.get_scores(q.split()) for q in queries], atol=1e-12)


@pytest.fixture(scope="module")
def cranfield(shared_file):
    tc = load_test_collection(shared_file("cranfield"))
    a = Analyzer()
    ix = InvertedIndex.build(tc.docs, a)
    # the reference tokenisation of the concatenated field: title tokens then body tokens
    toks = [a.analyze(t) + a.analyze(b) for t, b in zip(tc.docs.fields["title"], tc.docs.fields["body"])]
    qtoks = [a.analyze(q) for q in tc.queries.texts]
    return tc, ix, toks, qtoks, all_pairs(ix, list(tc.queries.texts))


@pytest.mark.shared
def test_bm25_equals_rank_bm25_okapi_on_cranfield_for_every_pair(cranfield):
    rank_bm25 = import_reference("rank_bm25")
    tc, ix, toks, qtoks, pairs = cranfield
    ours = bm25(pairs, "all", k1=1.5, b=0.75, idf="okapi", epsilon=0.25).reshape(len(qtoks), ix.n_docs)
    ref = rank_bm25.BM25Okapi(toks, k1=1.5, b=0.75, epsilon=0.25)
    expected = np.array([ref.get_scores(q) for q in qtoks])
    assert pairs.n_pairs == 225 * 1400
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-6)
    assert np.count_nonzero(expected) > 10_000


@pytest.mark.shared
@pytest.mark.parametrize("method, idf", [("lucene", "lucene"), ("robertson", "robertson_floor")])
def test_bm25_equals_bm25s_on_cranfield_times_k1_plus_one(cranfield, method, idf):
    bm25s = import_reference("bm25s")
    tc, ix, toks, qtoks, pairs = cranfield
    k1, b = 1.2, 0.75
    ours = bm25(pairs, "all", k1=k1, b=b, idf=idf).reshape(len(qtoks), ix.n_docs)
    ref = bm25s.BM25(method=method, k1=k1, b=b, dtype="float64")
    # Lucene's N and avgdl are over the documents with a term in the field (its docCount): bm25s, which counts
    # every document it is given, is given those (Cranfield has documents without one); the others score 0
    keep = [i for i, t in enumerate(toks) if t] if idf == "lucene" else list(range(len(toks)))
    assert idf != "lucene" or 0 < len(toks) - len(keep) < 10
    ref.index([toks[i] for i in keep], show_progress=False)
    # bm25s omits BM25's constant (k1 + 1) factor and floors Robertson's idf at 0 ("robertson_floor" here)
    expected = np.zeros_like(ours)
    expected[:, keep] = np.array([ref.get_scores(q) for q in qtoks]) * (k1 + 1)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-6)


# -- first stage -----------------------------------------------------------------------------------------------------
def brute_top_k(scores: np.ndarray, matched: np.ndarray, k: int) -> list[int]:
    """Matching documents by score descending, ties by document index ascending."""
    idx = np.flatnonzero(matched)
    order = np.lexsort((idx, -scores[idx]))
    return idx[order][:k].tolist()


def test_retriever_returns_brute_force_top_k_with_deterministic_ties():
    rng = np.random.default_rng(1)
    docs = [" ".join(rng.choice(list("abcdefgh"), size=rng.integers(0, 9))) for _ in range(60)]
    docs[10] = docs[20] = docs[30] = "a b"  # exact ties
    ix = InvertedIndex.build(Collection(tuple(f"d{i}" for i in range(60)), {"body": docs}), PLAIN)
    queries = ["a b", "h", "c c d", "zzz", "", "a b c d e f g h"]
    r = BM25Retriever(ix, field="body", dtype=np.float64)
    pairs = all_pairs(ix, queries)
    full = bm25(pairs).reshape(len(queries), -1)
    matched = get_scorer("matched_terms")().score(pairs, "body")[:, 0].reshape(len(queries), -1) > 0
    for k in (1, 5, 1000):
        docs_k, scores_k, n = r.retrieve([ix.query_terms(q) for q in queries], k)
        for i in range(len(queries)):
            want = brute_top_k(full[i], matched[i], k)
            assert docs_k[i, :n[i]].tolist() == want
            np.testing.assert_allclose(scores_k[i, :n[i]], full[i, want], rtol=1e-12)
            assert (docs_k[i, n[i]:] == -1).all()


def test_topk_kernel_matches_its_python_twin():
    docs = ["a b", "b", "a a c", "c", "b c a"]
    ix = InvertedIndex.build(Collection(tuple("vwxyz"), {"body": docs}), PLAIN)
    f = ix.field("body")
    impacts = BM25Retriever(ix, field="body", dtype=np.float64).impacts
    q = np.array([ix.vocab["a"], ix.vocab["c"]], dtype=np.int32)
    w = np.array([1.0, 2.0])
    outs = []
    for fn in (topk_query, topk_query.py_func):
        od, os_ = np.full(3, -1, np.int32), np.zeros(3)
        n = fn(q, w, f.indptr, f.docs, impacts, 3, np.zeros(5), np.full(5, -1, np.int64), np.empty(5, np.int32), 0,
               od, os_)
        outs.append((n, od.tolist(), os_.tolist()))
    assert outs[0] == outs[1] and outs[0][0] == 3


def test_search_returns_a_trec_run_and_first_stage_equals_the_bm25_feature():
    docs = ["wing flutter", "heat transfer wing", "flutter flutter", "", "wing"]
    ix = InvertedIndex.build(Collection(tuple("abcde"), {"body": docs}), Analyzer())
    run = BM25Retriever(ix, k1=0.9, b=0.4).search({"q1": "wing flutter", "q2": "the", "q3": "heat"}, k=3)
    assert list(run.columns) == ["qid", "q0", "docno", "rank", "score", "tag"]
    assert run.qid.tolist() == ["q1", "q1", "q1", "q3"] and run["rank"].tolist() == [1, 2, 3, 1]
    pairs = all_pairs(ix, ["wing flutter"])
    full = bm25(pairs, "all", k1=0.9, b=0.4)
    got = dict(zip(run.docno[run.qid == "q1"], run.score[run.qid == "q1"]))
    for d, s in got.items():
        assert s == pytest.approx(full[ix.doc_index([d])[0]], rel=1e-6)
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        BM25Retriever(ix).search({"q": "wing"}, k=0)


@pytest.mark.shared
def test_npl_first_stage_with_terriers_settings_gives_terriers_published_map(shared_file):
    # BASELINES.md: Terrier's BM25 with bm25.b = 0.4 reaches MAP 0.2992 on Vaswani/NPL (terrier-core
    # doc/quickstart_experiments.md). Terrier's BM25.java: log2 Robertson idf, (k1 + 1) tf / (tf + K), k1 = 1.2,
    # k3 = 8 on the query-term weight, which MatchingQueryTerms.normaliseTermWeights has divided by the largest qtf
    # of the query; 1000 documents per query; trec_eval.
    pytrec_eval = import_reference("pytrec_eval")
    from ltr.metrics import evaluate_run

    tc = load_test_collection(shared_file("vaswani_npl"))
    ix = InvertedIndex.build(tc.docs, Analyzer.terrier())
    qrels: dict[str, dict[str, int]] = {}
    for q, d, rel in tc.qrels.itertuples(index=False):
        qrels.setdefault(q, {})[d] = int(rel)
    maps = {}
    for norm in ("max", "none"):
        run = BM25Retriever(ix, k1=1.2, b=0.4, idf="terrier", k3=8.0, qtf_norm=norm).search(tc.queries, k=1000)
        scores: dict[str, dict[str, float]] = {}
        for q, d, s in zip(run.qid, run.docno, run.score):
            scores.setdefault(q, {})[d] = float(s)
        per_query = pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate(scores)
        ap = [per_query.get(q, {"map": 0.0})["map"] for q in qrels]  # a query retrieving nothing scores 0
        assert len(ap) == 93
        maps[norm] = np.mean(ap)
        assert evaluate_run(tc.qrels, run, ["map"])["map"] == pytest.approx(maps[norm], abs=1e-12)
    assert round(maps["max"], 4) == 0.2992  # Terrier's figure, to its 4 published decimals
    # Raw qtf (7 of the 93 queries repeat a term and rank differently): no published figure, so the reference is
    # Terrier's BM25.java written out here over plain dicts (the same analyzer's terms; no ltrkit index or scorer),
    # its top 1000 per query scored by pytrec_eval.
    from collections import Counter

    analyzer = Analyzer.terrier()
    docs = [Counter(analyzer.analyze(text)) for text in tc.docs.fields["body"]]  # every title is empty
    assert not any(tc.docs.fields["title"])
    lengths = [sum(c.values()) for c in docs]
    n_docs, avgdl = len(docs), sum(lengths) / len(docs)
    postings: dict[str, list[tuple[int, int]]] = {}
    for i, c in enumerate(docs):
        for term, tf in c.items():
            postings.setdefault(term, []).append((i, tf))
    k1, b, k3 = 1.2, 0.4, 8.0
    reference: dict[str, dict[str, float]] = {}
    repeated = 0
    for q, text in tc.queries.items():
        qtf = Counter(analyzer.analyze(text))
        repeated += max(qtf.values(), default=0) > 1
        acc: dict[int, float] = {}
        for term, f in qtf.items():
            plist = postings.get(term, [])
            idf = math.log2((n_docs - len(plist) + 0.5) / (len(plist) + 0.5))
            for i, tf in plist:
                big_k = k1 * ((1 - b) + b * lengths[i] / avgdl)
                acc[i] = acc.get(i, 0.0) + idf * (k1 + 1) * tf / (big_k + tf) * (k3 + 1) * f / (k3 + f)
        top = sorted(acc.items(), key=lambda item: -item[1])[:1000]
        reference[q] = {tc.docs.doc_ids[i]: score for i, score in top}
    per_query = pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate(reference)
    assert repeated == 7 and maps["none"] != maps["max"]
    assert maps["none"] == pytest.approx(np.mean([per_query.get(q, {"map": 0.0})["map"] for q in qrels]), abs=1e-6)


def test_lucene_statistics_of_a_field_count_the_documents_that_have_it_in_bm25_bm25f_and_the_first_stage():
    # Lucene's BM25 of a field (Elasticsearch's match query, where the exporter maps it): N = docCount, the documents
    # with a term in the field, and avgdl = its tokens over them; a title empty in 2 of 4 documents
    c = Collection(tuple("abcd"), {"title": ["cat dog", "", "cat", ""], "body": ["x", "cat y", "z", "w cat"]})
    ix = InvertedIndex.build(c, PLAIN)
    assert ix.field("title").doc_count == 2 and ix.field("all").doc_count == 4
    got = bm25(all_pairs(ix, ["cat"]), "title")
    idf, avgdl = math.log(1 + (2 - 2 + 0.5) / (2 + 0.5)), 3 / 2  # df 2 of docCount 2

    def term(tf, dl):
        return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * dl / avgdl))

    np.testing.assert_allclose(got, [term(1, 2), 0, term(1, 1), 0], rtol=1e-12)
    f = get_scorer("bm25f")(weights={"title": 1.0}).score(all_pairs(ix, ["cat"]), None)[:, 0]
    np.testing.assert_allclose(f, got, rtol=1e-12)  # one field, weight 1: BM25 of it
    docs, scores, n = BM25Retriever(ix, field="title").retrieve([ix.query_terms("cat")], k=4)
    assert n.tolist() == [2] and docs[0, :2].tolist() == [2, 0]  # the shorter title first
    np.testing.assert_allclose(scores[0, :2], [term(1, 1), term(1, 2)], rtol=1e-6)


def test_doc_count_is_recorded_and_a_description_written_before_it_is_computed_as_then():
    # the statistics are a recorded parameter: a model described before (every document counted) is rebuilt so,
    # and its difference from a fresh set is named rather than served silently
    from features.featureset import differences

    c = Collection(tuple("abcd"), {"title": ["cat dog", "", "cat", ""], "body": ["x", "cat y", "z", "w cat"]})
    ix = InvertedIndex.build(c, PLAIN)
    new = FeatureSet([{"scorer": "bm25", "fields": ["title"]}, {"scorer": "bm25tp", "fields": ["title"]},
                      {"scorer": "term_stats", "stat": "idf", "fields": ["title"]}]).to_dict(ix)
    assert [e["effective"]["doc_count"] for e in new["features"]] == ["field"] * 3
    old = {**new, "features": [{**e, "effective": {k: v for k, v in e["effective"].items() if k != "doc_count"}}
                               for e in new["features"]]}
    rebuilt = FeatureSet.from_dict(old)
    assert [s.params["doc_count"] for s in rebuilt.scorers] == ["collection"] * 3
    pairs = all_pairs(ix, ["cat"])
    X_old, _, _ = rebuilt.compute(pairs)
    np.testing.assert_allclose(X_old[:, 0], bm25(pairs, "title", doc_count="collection"), rtol=1e-12)
    assert not np.allclose(X_old[:, 0], bm25(pairs, "title"))
    assert differences(old, rebuilt.to_dict(ix)) == []
    said = differences(old, new, ("the model", "this set"))
    assert ("feature 1 (bm25): doc_count 'collection' in the model, 'field' in this set (doc_count = \"collection\" "
            "in the entry computes the model's)") in said and len(said) == 3
    # an entry that does not compute with it is not compared (term_stats' tf; rm3 without its own first pass)
    unread = FeatureSet([{"scorer": "term_stats", "stat": "tf", "fields": ["title"]},
                         {"scorer": "rm3", "fields": ["title"]}]).to_dict(ix)
    gone = {**unread, "features": [{**e, "effective": {k: v for k, v in e["effective"].items() if k != "doc_count"}}
                                   for e in unread["features"]]}
    assert differences(gone, unread) == []
    first_pass = FeatureSet([{"scorer": "rm3", "fb_source": "retrieval", "fields": ["title"]}]).to_dict(ix)
    entry = first_pass["features"][0]
    was = {**first_pass, "features": [{**entry, "effective": {k: v for k, v in entry["effective"].items()
                                                             if k != "doc_count"}}]}
    assert FeatureSet.from_dict(was).scorers[0].params["doc_count"] == "collection"
    assert differences(was, first_pass)[0].startswith("feature 1 (rm3): doc_count 'collection' in the first, 'field'")


def test_bm25tp_saturates_its_proximity_term_with_bm25s_own_average_length():
    # one K for both parts (Büttcher et al.): with Lucene's statistics, avgdl over the documents with the field
    docs = ["a b", "", "a x b y z w", ""]
    ix = InvertedIndex.build(Collection(tuple("abcd"), {"body": docs}), PLAIN)
    pairs = all_pairs(ix, ["a b"])
    for doc_count, avgdl in (("field", 8 / 2), ("collection", 8 / 4)):
        tp = (get_scorer("bm25tp")(doc_count=doc_count).score(pairs, "body")[:, 0]
              - bm25(pairs, "body", doc_count=doc_count))
        K = 1.2 * (0.25 + 0.75 * 2 / avgdl)  # document a, |d| = 2
        idf = get_scorer("bm25")(doc_count=doc_count).statistics(pairs, "body")[0]
        acc = idf[::-1] / 1.0 ** 2  # a and b one apart: each term's accumulator is the other's idf / distance^2
        np.testing.assert_allclose(tp[0], sum(min(1.0, w) * acc_t * 2.2 / (acc_t + K) for w, acc_t in zip(idf, acc)),
                                   rtol=1e-12)
