"""Feature scorers: values written as arithmetic, scikit-learn for TF-IDF, Hypothesis properties, edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features._kernels.proximity import (
    PROX_COLUMNS,
    _merged_into,
    _proximity_doc,
    _query_scratch,
    _tp_doc,
    proximity_doc,
    tp_doc,
)
from features.analysis import Analyzer
from features.collections import Collection, load_test_collection
from features.featureset import FeatureSet
from features.index import InvertedIndex
from features.pairs import PairSet
from features.scorers import available_scorers, get_scorer
from features.scorers.proximity import proximity_table
from ltr._shared import import_reference

PLAIN = Analyzer(stopwords=None, stemmer=None)


def build(docs: list[str], analyzer: Analyzer = PLAIN) -> InvertedIndex:
    return InvertedIndex.build(Collection(tuple(f"d{i}" for i in range(len(docs))), {"body": docs}), analyzer)


def all_pairs(ix: InvertedIndex, queries: list[str]) -> PairSet:
    qs = [ix.query_terms(q) for q in queries]
    return PairSet(ix, qs, np.arange(len(qs) + 1, dtype=np.int64) * ix.n_docs,
                   np.tile(np.arange(ix.n_docs, dtype=np.int32), len(qs)))


def feat(pairs: PairSet, name: str, field: str = "body", **params) -> np.ndarray:
    return get_scorer(name)(**params).score(pairs, field)


# -- TF-IDF ----------------------------------------------------------------------------------------------------------
def sklearn_tfidf(docs_tokens, queries_tokens, *, idf, sublinear):
    sk = import_reference("sklearn.feature_extraction.text")
    smooth = idf == "smooth"
    vec = sk.TfidfVectorizer(analyzer=lambda toks: toks, smooth_idf=smooth, sublinear_tf=sublinear, norm=None)
    D = vec.fit_transform(docs_tokens)
    counts = sk.CountVectorizer(analyzer=lambda toks: toks, vocabulary=vec.vocabulary_).transform(queries_tokens)
    total = (counts @ D.T).toarray()  # sum over query occurrences of tf-idf = sum_t qtf * phi(tf) * idf
    cos_vec = sk.TfidfVectorizer(analyzer=lambda toks: toks, smooth_idf=smooth, sublinear_tf=sublinear, norm="l2")
    Dn = cos_vec.fit_transform(docs_tokens)
    cosine = (cos_vec.transform(queries_tokens) @ Dn.T).toarray()
    return total, cosine


@pytest.mark.parametrize("idf, sublinear", [("smooth", False), ("plain", False), ("smooth", True), ("plain", True)])
def test_tfidf_equals_scikit_learn_on_a_small_corpus(idf, sublinear):
    docs = ["a b b c", "b c c c d", "a a a", "", "e"]
    queries = ["a b", "c c d", "zz", "e a"]
    ix = build(docs)
    pairs = all_pairs(ix, queries)
    total, cosine = sklearn_tfidf([d.split() for d in docs], [q.split() for q in queries], idf=idf,
                                  sublinear=sublinear)
    if not sublinear:  # the sum feature weights by raw qtf; scikit-learn's counts agree only without sublinear tf
        np.testing.assert_allclose(feat(pairs, "tfidf", idf=idf).reshape(4, 5), total, atol=1e-12)
    np.testing.assert_allclose(feat(pairs, "tfidf_cosine", idf=idf, sublinear=sublinear).reshape(4, 5), cosine,
                               atol=1e-12)


@pytest.mark.shared
def test_tfidf_cosine_equals_scikit_learn_on_cranfield(shared_file):
    tc = load_test_collection(shared_file("cranfield"))
    a = Analyzer()
    ix = InvertedIndex.build(tc.docs, a)
    pairs = all_pairs(ix, list(tc.queries.texts))
    docs = [a.analyze(t) for t in tc.docs.fields["body"]]
    queries = [a.analyze(q) for q in tc.queries.texts]
    total, cosine = sklearn_tfidf(docs, queries, idf="smooth", sublinear=True)
    np.testing.assert_allclose(feat(pairs, "tfidf_cosine", sublinear=True).reshape(225, 1400), cosine, atol=1e-6)
    total, _ = sklearn_tfidf(docs, queries, idf="smooth", sublinear=False)
    np.testing.assert_allclose(feat(pairs, "tfidf").reshape(225, 1400), total, atol=1e-6)


# -- language models -------------------------------------------------------------------------------------------------
def test_lm_dirichlet_and_jelinek_mercer_by_hand():
    ix = build(["a b a", "b c"])  # |C| = 5; cf(a) = 2, cf(b) = 2, cf(c) = 1
    pairs = all_pairs(ix, ["a c", "a zz"])
    mu = 2.0
    d0 = math.log((2 + mu * 2 / 5) / (3 + mu)) + math.log((0 + mu * 1 / 5) / (3 + mu))
    d1 = math.log((0 + mu * 2 / 5) / (2 + mu)) + math.log((1 + mu * 1 / 5) / (2 + mu))
    a_only = [math.log((2 + mu * 2 / 5) / (3 + mu)), math.log((0 + mu * 2 / 5) / (2 + mu))]  # zz is skipped
    np.testing.assert_allclose(feat(pairs, "lm_dirichlet", mu=mu)[:, 0], [d0, d1] + a_only, rtol=1e-12)
    lam = 0.5
    j0 = math.log(0.5 * 2 / 3 + lam * 2 / 5) + math.log(0.5 * 0 / 3 + lam * 1 / 5)
    j1 = math.log(0.5 * 0 / 2 + lam * 2 / 5) + math.log(0.5 * 1 / 2 + lam * 1 / 5)
    np.testing.assert_allclose(feat(pairs, "lm_jm", lam=lam)[:2, 0], [j0, j1], rtol=1e-12)


# -- term and query/document statistics ------------------------------------------------------------------------------
def test_pooling_in_one_pass_equals_numpy_on_each_pair():
    from features.scorers.stats import pool_many

    rng = np.random.default_rng(7)
    sizes = rng.integers(0, 25, size=300)  # empty pairs, single entries and long queries
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    values = rng.standard_normal(ptr[-1]) * rng.choice([1e-3, 1.0, 1e3], size=ptr[-1])
    pools = ["sum", "min", "max", "mean", "var", "sum"]
    got = pool_many(values, ptr, pools)
    ref = {"sum": np.sum, "min": np.min, "max": np.max, "mean": np.mean, "var": np.var}
    for i, (a, b) in enumerate(zip(ptr[:-1], ptr[1:])):
        want = [ref[p](values[a:b]) if b > a else 0.0 for p in pools]
        np.testing.assert_allclose(got[i], want, rtol=1e-9, atol=1e-9 * max(1.0, float(np.abs(values[a:b]).max(
            initial=0.0)) ** 2))
    with pytest.raises(ValueError, match="pool must be one of"):
        pool_many(values, ptr, ["median"])


def test_term_statistics_pooled_by_hand():
    ix = build(["a b a", "c"])
    pairs = all_pairs(ix, ["a b z"])  # tf in d0: a 2, b 1, z 0; in d1: all 0
    tf = feat(pairs, "term_stats", stat="tf", pools=["sum", "min", "max", "mean", "var"])
    np.testing.assert_allclose(tf[0], [3, 0, 2, 1, ((2 - 1) ** 2 + (1 - 1) ** 2 + (0 - 1) ** 2) / 3])
    np.testing.assert_allclose(tf[1], [0, 0, 0, 0, 0])
    norm = feat(pairs, "term_stats", stat="tf_norm", pools=["sum", "max"])
    np.testing.assert_allclose(norm[0], [3 / 3, 2 / 3])
    idf = feat(pairs, "term_stats", stat="idf", pools=["min", "max"], idf="lucene")
    lucene = [math.log(1 + (2 - df + 0.5) / (df + 0.5)) for df in (1, 1, 0)]
    np.testing.assert_allclose(idf[0], [min(lucene), max(lucene)])
    np.testing.assert_allclose(idf[1], idf[0])  # a query-level statistic
    assert get_scorer("term_stats")(stat="tf", pools=["sum", "var"]).outputs == ("sum", "var")


def test_query_and_document_statistics_by_hand():
    ix = build(["a b a", "c", ""])
    pairs = all_pairs(ix, ["a a b z"])
    assert feat(pairs, "query_length", None)[:, 0].tolist() == [4, 4, 4]
    assert feat(pairs, "query_terms", None)[:, 0].tolist() == [3, 3, 3]
    assert feat(pairs, "doc_length")[:, 0].tolist() == [3, 1, 0]
    assert feat(pairs, "matched_terms")[:, 0].tolist() == [2, 0, 0]
    np.testing.assert_allclose(feat(pairs, "coverage")[:, 0], [2 / 3, 0, 0])


# -- proximity -------------------------------------------------------------------------------------------------------
DOC = "a x b a y y b c"  # positions: a 0, 3; x 1; b 2, 6; y 4, 5; c 7


def prox(docs, query, **params):
    ix = build(docs)
    return dict(zip(PROX_COLUMNS, proximity_table(all_pairs(ix, [query]), "body", **params)[0]))


def test_proximity_statistics_by_hand():
    p = prox([DOC], "a b c")
    assert p["min_window"] == 7 - 3 + 1  # a 3, b 6, c 7
    assert p["span"] == 7 - 0 + 1
    # closest occurrences: (a, b) |3 - 2| = 1, (a, c) |3 - 7| = 4, (b, c) |6 - 7| = 1
    assert p["min_pair_dist"] == 1 and p["avg_pair_dist"] == (1 + 4 + 1) / 3
    # adjacent query pairs (a, b), (b, c): bigrams "a b": none; "b c": at 6-7
    assert p["ordered"] == 0 + 1
    # window 8: |pa - pb| <= 7: (a, b) all four pairs; (b, c): |2 - 7| = 5 and |6 - 7| = 1
    assert p["unordered"] == 4 + 2
    # window 4: |d| <= 3: (a, b) pairs at distances 2, 6, 1, 3 -> 3; (b, c) 5, 1 -> 1
    assert prox([DOC], "a b c", window=4)["unordered"] == 3 + 1


def test_proximity_pairs_modes_and_repeated_terms():
    # "all" pairs add (a, c): bigram "a c": none; window 8: |0 - 7| = 7 and |3 - 7| = 4 -> 2
    p = prox([DOC], "a b c", pairs_mode="all")
    assert p["ordered"] == 0 + 1 + 0 and p["unordered"] == 4 + 2 + 2
    q = prox(["a a x a"], "a a")  # the adjacent pair (a, a): bigram "a a" once; pairs within 7: 3 of 3
    assert q["ordered"] == 1 and q["unordered"] == 3


def test_proximity_without_matches_or_with_one_matched_term():
    none = prox(["x y"], "a b")
    assert [none[c] for c in PROX_COLUMNS] == [1000.0] * 4 + [0.0, 0.0]
    one = prox([DOC], "a zz", max_distance=50.0)
    assert one["min_window"] == 1 and one["span"] == 3 - 0 + 1
    assert one["min_pair_dist"] == 50.0 and one["avg_pair_dist"] == 50.0
    far = prox(["a " + "x " * 20 + "b"], "a b", max_distance=10.0)
    assert far["min_window"] == 10.0 and far["min_pair_dist"] == 10.0  # 22 capped at max_distance


def test_bm25tp_by_hand():
    docs = [DOC, "y y", "x"]  # N = 3; df(a) = df(b) = df(c) = 1; dl = 8, avgdl = (8 + 2 + 1) / 3
    ix = build(docs)
    pairs = all_pairs(ix, ["a b c"])
    k1, b = 1.2, 0.75
    w = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))  # lucene idf, the same for a, b and c
    # consecutive occurrences a0 b2 a3 b6 c7 of different terms at distances 2, 1, 3, 1
    acc = {"a": w / 2**2 + w / 1**2 + w / 3**2, "b": w / 2**2 + w / 1**2 + w / 3**2 + w / 1**2, "c": w / 1**2}
    K = k1 * (1 - b + b * 8 / (11 / 3))
    tp = sum(min(1.0, w) * (k1 + 1) * acc[t] / (acc[t] + K) for t in "abc")
    bm = feat(pairs, "bm25", k1=k1, b=b)[:, 0]
    got = feat(pairs, "bm25tp", k1=k1, b=b)[:, 0]
    np.testing.assert_allclose(got[0], bm[0] + tp, rtol=1e-12)
    np.testing.assert_allclose(got[1:], bm[1:])  # no query term: no proximity part


def test_bm25tp_saturates_a_negative_accumulator_to_zero():
    # Robertson's idf is negative for a term in more than half the documents: a's is, so b's accumulator (which
    # gains a's idf) is negative, and its proximity part is 0, as BM25 saturates a tf of 0.
    ix = build(["a b", "a", "a", "c"])
    pairs = all_pairs(ix, ["a b"])
    k1, b = 1.2, 0.75
    idf_a, idf_b = math.log((4 - 3 + 0.5) / (3 + 0.5)), math.log((4 - 1 + 0.5) / (1 + 0.5))
    acc_a = idf_b / 1**2  # a0 b1: distance 1; acc_b = idf_a < 0
    K = k1 * (1 - b + b * 2 / (5 / 4))
    tp = min(1.0, idf_a) * (k1 + 1) * acc_a / (acc_a + K)
    bm = feat(pairs, "bm25", k1=k1, b=b, idf="robertson")[:, 0]
    got = feat(pairs, "bm25tp", k1=k1, b=b, idf="robertson")[:, 0]
    np.testing.assert_allclose(got[0], bm[0] + tp, rtol=1e-12)
    np.testing.assert_allclose(got[1:], bm[1:])


def test_proximity_kernels_match_their_python_twins():
    ix = build([DOC, "c b a c a", "a"])
    f = ix.field("body")
    q = ix.query_terms("a b c b")
    for d in range(3):
        post = np.array([next((p for p in range(f.indptr[t], f.indptr[t + 1]) if f.docs[p] == d), -1) for t in q.ids],
                        dtype=np.int64)
        pa, pb = q.sequence[:-1].astype(np.int64), q.sequence[1:].astype(np.int64)
        keys, mpos, mterm, counts, matched, last, dmin = _query_scratch(f.pos_ptr, post, 0, 1, post.shape[0])
        out = [np.zeros(6), np.zeros(6)]
        proximity_doc(f.positions, f.pos_ptr, post, pa, pb, 8, 1000.0, out[0])
        _proximity_doc.py_func(f.positions, f.pos_ptr, post, pa, pb, 8, 1000.0, out[1], keys, mpos, mterm, counts,
                               matched, last, dmin)
        np.testing.assert_array_equal(out[0], out[1])
        acc = [np.zeros(3), np.zeros(3)]
        tp_doc(f.positions, f.pos_ptr, post, np.array([1.0, 2.0, 3.0]), acc[0])
        _tp_doc.py_func(f.positions, f.pos_ptr, post, np.array([1.0, 2.0, 3.0]), acc[1], keys, mpos, mterm)
        np.testing.assert_array_equal(acc[0], acc[1])


@pytest.mark.parametrize("n_tokens", [12, 400])  # the insertion sort of short documents, and the sort of long ones
def test_merged_occurrences_in_scratch_equal_a_stable_sort_by_position(n_tokens):
    rng = np.random.default_rng(n_tokens)
    text = " ".join(rng.choice(list("abcdefg"), size=n_tokens))
    ix = build([text, "a"])
    f = ix.field("body")
    q = ix.query_terms("g a c e zz b")
    post = np.array([next((p for p in range(f.indptr[t], f.indptr[t + 1]) if f.docs[p] == 0), -1) if t >= 0 else -1
                     for t in q.ids], dtype=np.int64)
    runs = [(f.positions[f.pos_ptr[p]:f.pos_ptr[p + 1]], k) for k, p in enumerate(post) if p >= 0]
    pos = np.concatenate([r for r, _ in runs])
    term = np.concatenate([np.full(len(r), k) for r, k in runs])
    order = np.argsort(pos, kind="stable")  # occurrences listed term by term, ordered by position
    keys, mpos, mterm, *_ = _query_scratch(f.pos_ptr, post, 0, 1, post.shape[0])
    for merge in (_merged_into, _merged_into.py_func):
        n = merge(f.positions, f.pos_ptr, post, keys, mpos, mterm)
        assert n == pos.shape[0] > (64 if n_tokens > 100 else 0)
        np.testing.assert_array_equal(mpos[:n], pos[order])
        np.testing.assert_array_equal(mterm[:n], term[order])


# -- properties ------------------------------------------------------------------------------------------------------
QUERY_WORDS = ["q1", "q2", "q3"]
doc_strategy = st.lists(st.sampled_from(QUERY_WORDS + ["n1", "n2", "n3", "n4"]), min_size=0, max_size=25)
query_strategy = st.lists(st.sampled_from(QUERY_WORDS + ["zz"]), min_size=1, max_size=4)
TERM_FEATURES = [("bm25", {}), ("tfidf", {}), ("tfidf_cosine", {}), ("lm_dirichlet", {}), ("lm_jm", {}),
                 ("term_stats", {"stat": "tf", "pools": ["sum", "min", "max", "mean", "var"]}),
                 ("term_stats", {"stat": "tf_norm", "pools": ["sum", "mean"]}), ("doc_length", {}),
                 ("matched_terms", {}), ("coverage", {})]


@settings(max_examples=50, deadline=None)
@given(doc_strategy, query_strategy, st.randoms(use_true_random=False))
def test_permuting_non_query_words_does_not_change_term_statistics(doc, query, rnd):
    others = [w for w in doc if w not in QUERY_WORDS]
    rnd.shuffle(others)
    it = iter(others)
    permuted = [w if w in QUERY_WORDS else next(it) for w in doc]
    background = ["q1 n1 n2", "q2 q3 n3", "n4"]
    ix = build([" ".join(doc), " ".join(permuted)] + background)
    pairs = all_pairs(ix, [" ".join(query)])
    for name, params in TERM_FEATURES:
        v = feat(pairs, name, **params)
        np.testing.assert_allclose(v[0], v[1], rtol=1e-12, err_msg=name)
    table = proximity_table(pairs, "body")  # query words kept their positions: proximity is unchanged too
    np.testing.assert_array_equal(table[0], table[1])


@settings(max_examples=50, deadline=None)
@given(doc_strategy, query_strategy)
def test_repeating_the_body_does_not_shrink_the_span_and_at_least_doubles_window_counts(doc, query):
    body = " ".join(doc)
    ix = build([body, body + " " + body])
    t = proximity_table(all_pairs(ix, [" ".join(query)]), "body", max_distance=1e9)
    span, twice = t[:, PROX_COLUMNS.index("span")]
    assert twice >= span
    for c in ("ordered", "unordered"):
        assert t[1, PROX_COLUMNS.index(c)] >= 2 * t[0, PROX_COLUMNS.index(c)]
    # MinCover can only get shorter or stay: every window of the body is still there
    assert t[1, PROX_COLUMNS.index("min_window")] <= t[0, PROX_COLUMNS.index("min_window")]


def test_repetition_can_shorten_the_minimal_window_across_the_boundary():
    # "a x x x b" has its only a-b window of length 5; repeated, "... b a ..." gives one of length 2
    t = proximity_table(all_pairs(build(["a x x x b", "a x x x b a x x x b"]), ["a b"]), "body")
    assert t[:, PROX_COLUMNS.index("min_window")].tolist() == [5, 2]


# -- edge cases over the default feature set -------------------------------------------------------------------------
def test_default_features_are_finite_for_empty_documents_and_degenerate_queries():
    c = Collection(("d0", "d1", "d2"), {"title": ["", "Wing", ""], "body": ["", "the wing of a plane", "wing wing"]})
    ix = InvertedIndex.build(c, Analyzer())
    queries = ["", "the of and", "zebra unicorn", "wing", "wing plane zebra"]
    pairs = all_pairs(ix, queries)
    fs = FeatureSet.default()
    X, names, timing = fs.compute(pairs)
    assert X.shape == (15, len(names)) and np.isfinite(X).all()
    assert set(timing) >= {"match", "bm25", "tfidf", "lm", "stats", "proximity"}
    col = {n: X[:, i] for i, n in enumerate(names)}
    assert col["bm25:all"][:9].tolist() == [0.0] * 9  # no analysed query term in the index
    assert col["min_window:body"][0] == 1000.0 and col["coverage:body"][0] == 0.0


def test_every_registered_scorer_has_a_docstring_and_runs():
    ix = build(["a b", "b c d", ""])
    pairs = all_pairs(ix, ["a d", ""])
    for name, cls in available_scorers().items():
        assert cls.__doc__, name
        if cls.__module__.startswith("features.scorers.neural."):
            continue  # a model or a score file is required, and the texts: tests/test_neural_*.py run them
        s = cls()
        v = s.score(pairs, None if not cls.per_field else "body")
        assert v.shape == (pairs.n_pairs, len(s.outputs)) and np.isfinite(v).all(), name


# -- parameters: non-finite values and bools are refused when the feature set is read --------------------------------
INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize("scorer, params, param", [
    ("bm25", {"k1": INF}, "k1"), ("bm25", {"k1": NAN}, "k1"), ("bm25", {"k1": True}, "k1"),
    ("bm25", {"b": NAN}, "b"), ("bm25", {"b": True}, "b"), ("bm25", {"k3": INF}, "k3"), ("bm25", {"k3": False}, "k3"),
    ("bm25", {"idf": "okapi", "epsilon": INF}, "epsilon"), ("bm25", {"idf": "okapi", "epsilon": True}, "epsilon"),
    ("bm25tp", {"k1": INF}, "k1"), ("bm25tp", {"b": NAN}, "b"), ("bm25tp", {"k3": NAN}, "k3"),
    ("bm25f", {"k1": INF}, "k1"), ("bm25f", {"k1": True}, "k1"), ("bm25f", {"b": NAN}, "b"),
    ("bm25f", {"weights": {"body": INF}}, "weights"), ("bm25f", {"weights": {"body": True}}, "weights"),
    ("bm25f", {"weights": {"body": 1.0}, "b": {"body": NAN}}, "b"),
    ("lm_dirichlet", {"mu": INF}, "mu"), ("lm_dirichlet", {"mu": NAN}, "mu"), ("lm_dirichlet", {"mu": True}, "mu"),
    ("lm_jm", {"lam": NAN}, "lam"), ("lm_jm", {"lam": True}, "lam"),
    ("sdm", {"mu": INF}, "mu"), ("sdm", {"mu": True}, "mu"), ("sdm", {"w_unigram": INF}, "w_unigram"),
    ("sdm", {"w_ordered": NAN}, "w_ordered"), ("sdm", {"w_unordered": True}, "w_unordered"),
    ("sdm", {"window": True}, "window"),
    ("min_window", {"max_distance": INF}, "max_distance"), ("span", {"max_distance": NAN}, "max_distance"),
    ("min_pair_dist", {"max_distance": INF}, "max_distance"), ("avg_pair_dist", {"max_distance": True},
                                                              "max_distance"),
    ("unordered_window", {"window": True}, "window"),
])
def test_non_finite_and_boolean_parameters_are_refused_naming_scorer_and_parameter(scorer, params, param):
    with pytest.raises(ValueError, match=rf"^scorer '{scorer}': {param} must be .*, got {params[param]!r}$"):
        get_scorer(scorer)(**params)


def test_a_toml_inf_is_refused_when_the_feature_set_is_read(tmp_path):
    p = tmp_path / "f.toml"
    p.write_text('[[features]]\nscorer = "bm25"\nfields = ["body"]\nk1 = inf\n')
    with pytest.raises(ValueError, match=r"scorer 'bm25': k1 must be a finite number >= 0, got inf"):
        FeatureSet.load(p)


def test_first_stage_without_scores_gives_score_zero_and_the_candidate_list_position_as_documented():
    from features.extraction import extract
    from features.scorers.stats import FirstStage

    ix = build(["a b", "b", "a", "c"])
    d = extract(ix, {"1": "a", "2": "b"}, {"1": ["d2", "d0", "d3"], "2": ["d1", "d0"]}, ["first_stage"])
    assert np.asarray(d.X, dtype=float).tolist() == [[0.0, 1.0], [0.0, 2.0], [0.0, 3.0], [0.0, 1.0], [0.0, 2.0]]
    doc = " ".join(FirstStage.__doc__.split())
    assert "Without a first stage the columns are 0" not in doc and "the position in the candidate list" in doc
