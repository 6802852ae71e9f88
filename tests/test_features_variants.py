"""BM25L, BM25+, ATIRE's idf and absolute-discounting query likelihood: by hand from the papers, against rank_bm25
and bm25s where they compute the same thing (and by their documented difference where they do not), and through a
TOML feature set and the CLI."""

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
from ltr._shared import import_reference
from ltr.cli import main
from ltr.io import read_letor

PLAIN = Analyzer(stopwords=None, stemmer=None)
# lengths 3, 1, 4, 5, 2 (avgdl 3); tf up to 3; "rate" in one document, "wing" in three
DOCS = ["wing wing flutter", "heat", "wing heat transfer rate", "flutter flutter flutter wing slab", "slab heat"]
QUERIES = ["wing flutter", "heat rate", "slab", "zzz wing"]


def build(docs: list[str]) -> InvertedIndex:
    return InvertedIndex.build(Collection(tuple(f"d{i}" for i in range(len(docs))), {"body": docs}), PLAIN)


def scores(docs: list[str], queries: list[str], scorer: str, **params) -> np.ndarray:
    ix = build(docs)
    qs = [ix.query_terms(q) for q in queries]
    pairs = PairSet(ix, qs, np.arange(len(qs) + 1, dtype=np.int64) * ix.n_docs,
                    np.tile(np.arange(ix.n_docs, dtype=np.int32), len(qs)))
    return get_scorer(scorer)(**params).score(pairs, "body")[:, 0].reshape(len(queries), len(docs))


def absent_sum(docs, queries, idf, tf_zero_value):
    """Per (query, document): the sum over the query's vocabulary terms absent from the document of
    idf(t) * value at tf = 0: what bm25s and rank_bm25 add for BM25L / BM25+ and the papers do not."""
    vocab = {t for d in docs for t in d.split()}
    return np.array([[sum(idf(t) * tf_zero_value for t in q.split() if t in vocab and t not in d.split())
                      for d in docs] for q in queries])


def df_of(docs):
    return lambda t: sum(t in d.split() for d in docs)


# -- ATIRE's idf -----------------------------------------------------------------------------------------------------
def test_atire_idf_bm25_by_hand_and_equal_to_bm25s_atire():
    bm25s = import_reference("bm25s")
    k1, b, n, avgdl = 1.2, 0.75, len(DOCS), 3.0
    got = scores(DOCS, QUERIES, "bm25", k1=k1, b=b, idf="atire")
    df = df_of(DOCS)
    by_hand = [[sum(math.log(n / df(t)) * (k1 + 1) * d.split().count(t)
                    / (d.split().count(t) + k1 * (1 - b + b * len(d.split()) / avgdl))
                    for t in q.split() if df(t) > 0) for d in DOCS] for q in QUERIES]
    np.testing.assert_allclose(got, by_hand, rtol=1e-12)
    ref = bm25s.BM25(method="atire", k1=k1, b=b, dtype="float64")
    ref.index([d.split() for d in DOCS], show_progress=False)
    # ATIRE keeps the (k1 + 1) factor, so bm25s's atire scores are ours as they are
    np.testing.assert_allclose(got, [ref.get_scores(q.split()) for q in QUERIES], rtol=1e-12, atol=1e-12)


# -- BM25L -----------------------------------------------------------------------------------------------------------
def bm25l_by_hand(docs, queries, k1, b, delta, qtf_weight=lambda qtf: qtf):
    """Lv & Zhai (SIGIR 2011): sum over t in q and d of idf (k1 + 1)(c + delta) / (k1 + c + delta),
    c = tf / (1 - b + b |d| / avgdl), idf = ln((N + 1) / (df + 0.5))."""
    n, df = len(docs), df_of(docs)
    avgdl = sum(len(d.split()) for d in docs) / n
    out = []
    for q in queries:
        row = []
        for d in docs:
            total = 0.0
            for t in dict.fromkeys(q.split()):
                tf = d.split().count(t)
                if tf:
                    c = tf / (1 - b + b * len(d.split()) / avgdl)
                    total += (qtf_weight(q.split().count(t)) * math.log((n + 1) / (df(t) + 0.5))
                              * (k1 + 1) * (c + delta) / (k1 + c + delta))
            row.append(total)
        out.append(row)
    return np.array(out)


def test_bm25l_by_hand_from_the_paper_with_a_repeated_query_term_and_k3():
    got = scores(DOCS, QUERIES + ["flutter flutter wing"], "bm25l", k1=1.5, b=0.5, delta=0.3)
    np.testing.assert_allclose(got, bm25l_by_hand(DOCS, QUERIES + ["flutter flutter wing"], 1.5, 0.5, 0.3),
                               rtol=1e-12)
    assert got[0, 1] == 0.0  # no query term: 0, whatever delta
    k3 = scores(DOCS, ["flutter flutter wing"], "bm25l", k3=8.0)
    np.testing.assert_allclose(k3, bm25l_by_hand(DOCS, ["flutter flutter wing"], 1.2, 0.75, 0.5,
                                                 lambda qtf: 9 * qtf / (8 + qtf)), rtol=1e-12)


def test_bm25l_equals_bm25s_plus_its_non_occurrence_values():
    bm25s = import_reference("bm25s")
    k1, b, delta = 1.2, 0.75, 0.5
    got = scores(DOCS, QUERIES, "bm25l", k1=k1, b=b, delta=delta)
    ref = bm25s.BM25(method="bm25l", k1=k1, b=b, delta=delta, dtype="float64")
    ref.index([d.split() for d in DOCS], show_progress=False)
    expected = np.array([ref.get_scores(q.split()) for q in QUERIES])
    # bm25s gives every absent query term its tf = 0 value idf (k1 + 1) delta / (k1 + delta) (module docstring)
    df = df_of(DOCS)
    extra = absent_sum(DOCS, QUERIES, lambda t: math.log((len(DOCS) + 1) / (df(t) + 0.5)),
                       (k1 + 1) * delta / (k1 + delta))
    np.testing.assert_allclose(got, expected - extra, rtol=1e-12, atol=1e-12)
    assert np.count_nonzero(extra) > 5


def test_bm25l_equals_rank_bm25_where_every_tf_is_at_most_one():
    rank_bm25 = import_reference("rank_bm25")
    docs = ["wing flutter", "heat", "wing heat transfer rate", "flutter slab wing", "slab heat"]  # every tf <= 1
    got = scores(docs, QUERIES, "bm25l", k1=1.5, b=0.75, delta=0.5)
    ref = rank_bm25.BM25L([d.split() for d in docs], k1=1.5, b=0.75, delta=0.5)
    np.testing.assert_allclose(got, [ref.get_scores(q.split()) for q in QUERIES], rtol=1e-12)
    # with tf = 3 rank_bm25 multiplies the term's value by tf once more (module docstring)
    assert not np.allclose(scores(DOCS, ["flutter"], "bm25l", k1=1.5),
                           rank_bm25.BM25L([d.split() for d in DOCS], k1=1.5).get_scores(["flutter"]))


# -- BM25+ -----------------------------------------------------------------------------------------------------------
def bm25plus_by_hand(docs, queries, k1, b, delta):
    """Lv & Zhai (CIKM 2011): sum over t in q and d of idf ((k1 + 1) tf / (tf + k1 (1 - b + b |d| / avgdl)) +
    delta), idf = ln((N + 1) / df)."""
    n, df = len(docs), df_of(docs)
    avgdl = sum(len(d.split()) for d in docs) / n
    return np.array([[sum(q.split().count(t) * math.log((n + 1) / df(t))
                          * ((k1 + 1) * d.split().count(t)
                             / (d.split().count(t) + k1 * (1 - b + b * len(d.split()) / avgdl)) + delta)
                          for t in dict.fromkeys(q.split()) if t in d.split()) for d in docs] for q in queries])


def test_bm25plus_by_hand_from_the_paper():
    qs = QUERIES + ["wing wing heat"]
    np.testing.assert_allclose(scores(DOCS, qs, "bm25plus", k1=0.9, b=0.4, delta=0.7),
                               bm25plus_by_hand(DOCS, qs, 0.9, 0.4, 0.7), rtol=1e-12)
    # k1 = 0: binary tf, each present term gives idf (1 + delta)
    np.testing.assert_allclose(scores(DOCS, qs, "bm25plus", k1=0.0), bm25plus_by_hand(DOCS, qs, 0.0, 0.75, 1.0),
                               rtol=1e-12)


@pytest.mark.parametrize("library", ["bm25s", "rank_bm25"])
def test_bm25plus_equals_the_libraries_less_delta_idf_for_each_absent_term(library):
    k1, b, delta = 1.5, 0.75, 1.0
    got = scores(DOCS, QUERIES, "bm25plus", k1=k1, b=b, delta=delta)
    if library == "bm25s":
        bm25s = import_reference("bm25s")
        ref = bm25s.BM25(method="bm25+", k1=k1, b=b, delta=delta, dtype="float64")
        ref.index([d.split() for d in DOCS], show_progress=False)
        expected = np.array([ref.get_scores(q.split()) for q in QUERIES])
    else:
        rank_bm25 = import_reference("rank_bm25")
        ref = rank_bm25.BM25Plus([d.split() for d in DOCS], k1=k1, b=b, delta=delta)
        expected = np.array([ref.get_scores(q.split()) for q in QUERIES])
    df = df_of(DOCS)
    extra = absent_sum(DOCS, QUERIES, lambda t: math.log((len(DOCS) + 1) / df(t)), delta)
    np.testing.assert_allclose(got, expected - extra, rtol=1e-12, atol=1e-12)


# -- absolute discounting --------------------------------------------------------------------------------------------
def test_lm_abs_by_hand_from_zhai_and_lafferty():
    # p(t | d) = max(tf - delta, 0) / |d| + delta |d|_u / |d| * cf / |C|; |C| = 15 tokens
    docs = DOCS + [""]
    got = scores(docs, ["wing flutter", "heat heat zzz"], "lm_abs", delta=0.6)
    size, cf = 15, {"wing": 4, "flutter": 4, "heat": 3}

    def p(t, d):
        toks = d.split()
        if not toks:  # an empty field: the collection model alone
            return cf[t] / size
        return max(toks.count(t) - 0.6, 0) / len(toks) + 0.6 * len(set(toks)) / len(toks) * cf[t] / size

    expected = [[math.log(p("wing", d)) + math.log(p("flutter", d)) for d in docs],
                [2 * math.log(p("heat", d)) for d in docs]]  # zzz never occurs: skipped
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # d0 by hand: "wing wing flutter", |d| 3, |d|_u 2
    assert got[0, 0] == pytest.approx(math.log(1.4 / 3 + 0.4 * 4 / 15) + math.log(0.4 / 3 + 0.4 * 4 / 15))


# -- parameters, feature sets, CLI -----------------------------------------------------------------------------------
@pytest.mark.parametrize("scorer, params, param", [
    ("bm25l", {"delta": float("inf")}, "delta"), ("bm25l", {"delta": -0.5}, "delta"),
    ("bm25l", {"delta": True}, "delta"),
    ("bm25plus", {"delta": float("nan")}, "delta"), ("bm25plus", {"k1": float("inf")}, "k1"),
    ("bm25plus", {"idf": "classic"}, "idf"),
    ("lm_abs", {"delta": 0}, "delta"), ("lm_abs", {"delta": 1.5}, "delta"),
    ("lm_abs", {"delta": float("nan")}, "delta"),
    ("lm_abs", {"delta": True}, "delta"),
])
def test_bad_parameters_are_refused_naming_scorer_and_parameter(scorer, params, param):
    with pytest.raises(ValueError, match=rf"^scorer '{scorer}': {param} must be .*, got {params[param]!r}$"):
        get_scorer(scorer)(**params)


def test_the_variants_from_a_toml_feature_set(tmp_path):
    f = tmp_path / "f.toml"
    f.write_text('[[features]]\nscorer = "bm25l"\nfields = ["body"]\ndelta = 0.3\n'
                 '[[features]]\nscorer = "bm25plus"\nfields = ["body"]\n'
                 '[[features]]\nscorer = "bm25"\nname = "bm25_atire"\nfields = ["body"]\nidf = "atire"\n'
                 '[[features]]\nscorer = "lm_abs"\nfields = ["body"]\ndelta = 0.7\n')
    ix = build(DOCS)
    qs = [ix.query_terms(q) for q in QUERIES]
    pairs = PairSet(ix, qs, np.arange(len(qs) + 1, dtype=np.int64) * ix.n_docs,
                    np.tile(np.arange(ix.n_docs, dtype=np.int32), len(qs)))
    X, names, _ = FeatureSet.load(f).compute(pairs)
    assert names == ("bm25l:body", "bm25plus:body", "bm25_atire:body", "lm_abs:body") and np.isfinite(X).all()
    np.testing.assert_allclose(X[:, 0], bm25l_by_hand(DOCS, QUERIES, 1.2, 0.75, 0.3).ravel(), rtol=1e-12)
    np.testing.assert_allclose(X[:, 1], bm25plus_by_hand(DOCS, QUERIES, 1.2, 0.75, 1.0).ravel(), rtol=1e-12)


def test_the_cli_takes_the_variants_from_a_feature_file(tmp_path, capsys):
    (tmp_path / "docs.tsv").write_text("".join(f"d{i}\t{d}\n" for i, d in enumerate(DOCS)))
    (tmp_path / "q.tsv").write_text("1\twing flutter\n2\theat rate\n")
    (tmp_path / "qrels").write_text("1 0 d0 1\n2 0 d2 1\n")
    (tmp_path / "f.toml").write_text('[[features]]\nscorer = "bm25l"\nfields = ["body"]\n'
                                     '[[features]]\nscorer = "lm_abs"\nfields = ["body"]\n')
    out = tmp_path / "out.letor"
    code = main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                 "--qrels", str(tmp_path / "qrels"), "--features", str(tmp_path / "f.toml"), "--topk", "5",
                 "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    d = read_letor(out)
    assert d.feature_names == ("bm25l:body", "lm_abs:body") and np.isfinite(d.X).all()
