r"""Term statistics pooled over the query terms, and query / document statistics.

``term_stats`` computes, for each unique analysed query term :math:`t` (unseen terms included, with
:math:`tf = 0`), one statistic

=============  ==========================================================
``stat=``      value
=============  ==========================================================
``"tf"``       :math:`tf_{t,d}`
``"tf_norm"``  :math:`tf_{t,d} / |d|` (0 for an empty field)
``"idf"``      BM25 IDF of :math:`t` (``idf=`` variant, :mod:`features.scorers.bm25`)
``"tfidf"``    :math:`tf_{t,d} \cdot \mathrm{idf}(t)`
=============  ==========================================================

and pools it over the terms with each of ``pools`` (``sum``, ``min``, ``max``, ``mean``, ``var``: population
variance), as the term-statistics features of Anserini's LTR feature extractor and of the Elasticsearch
LTR plugin (``@terms`` / ``stats`` features). A query with no analysed term gets 0 for every pool.

References
----------
J. Lin et al. Anserini: reproducible ranking baselines using Lucene. JDIQ 2018 (``FeatureExtractor`` classes).
Elasticsearch Learning to Rank plugin, "Term statistics" feature type (o19s/elasticsearch-learning-to-rank).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from features._kernels.pooling import POOL_CODES, pool_columns
from features.pairs import PairSet
from features.scorers._registry import Scorer, divide_or_zero, register
from features.scorers.bm25 import BM25_IDF, DOC_COUNTS, default_doc_count, field_idf
from ltr.io.scores import beyond_float32

__all__ = ["Coverage", "DocLength", "FirstStage", "MatchedTerms", "QueryLength", "QueryTermCount", "TermStats"]

STATS = ("tf", "tf_norm", "idf", "tfidf")
POOLS = ("sum", "min", "max", "mean", "var")


def pool_entries(values: NDArray[np.float64], entry_ptr: NDArray[np.int64], pool: str) -> NDArray[np.float64]:
    """Pool per-entry values over each pair's entries; pairs without entries get 0.

    Examples
    --------
    >>> import numpy as np
    >>> v, ptr = np.array([1.0, 3.0, 5.0]), np.array([0, 2, 2, 3])
    >>> [pool_entries(v, ptr, p).tolist() for p in ("sum", "min", "mean", "var")]
    [[4.0, 0.0, 5.0], [1.0, 0.0, 5.0], [2.0, 0.0, 5.0], [1.0, 0.0, 0.0]]
    """
    return pool_many(values, entry_ptr, [pool])[:, 0]


def pool_many(values: NDArray[np.float64], entry_ptr: NDArray[np.int64], pools) -> NDArray[np.float64]:
    """Several pools at once, one column each (:func:`features._kernels.pooling.pool_columns`: one pass)."""
    bad = [p for p in pools if p not in POOL_CODES]
    if bad:
        raise ValueError(f"pool must be one of {POOLS}, got {bad[0]!r}")
    codes = np.array([POOL_CODES[p] for p in pools], dtype=np.int64)
    return pool_columns(np.ascontiguousarray(values, dtype=np.float64), np.ascontiguousarray(entry_ptr, np.int64),
                        codes)


@register
class TermStats(Scorer):
    """A term statistic pooled over the query terms; columns ``{stat}_{pool}:{field}`` (module docstring)."""

    name = "term_stats"
    defaults = {"stat": "tf", "pools": ["sum", "min", "max", "mean"], "idf": "lucene", "doc_count": None}

    def validate(self) -> None:
        p = self.params
        self._check(p["stat"] in STATS, "stat", f"one of {STATS}")
        pools = p["pools"]
        ok = isinstance(pools, (list, tuple)) and len(pools) > 0 and all(x in POOLS for x in pools)
        self._check(ok and len(set(pools)) == len(pools), "pools",  # (a repeat was blamed on 'fields', late)
                    f"a non-empty list of distinct names drawn from {POOLS}")
        self._check(p["idf"] in BM25_IDF, "idf", f"one of {BM25_IDF}")
        self._check(p["doc_count"] is None or p["doc_count"] in DOC_COUNTS, "doc_count", f"one of {DOC_COUNTS}")
        for key in ("idf", "doc_count"):  # accepted and ignored they would say the columns were made with them
            self._refuse_given(p["stat"] not in ("idf", "tfidf"), key,
                               f"stat={p['stat']!r} uses no idf (only stat='idf' and 'tfidf' do)")
        if p["doc_count"] is None:  # as BM25's (features.scorers.bm25): recorded
            p["doc_count"] = default_doc_count(p["idf"])

    @classmethod
    def reads(cls, key: str, params) -> bool:
        """``idf`` and ``doc_count`` (the idf's N): read by the stats that use the idf only."""
        if key in ("idf", "doc_count"):
            return params.get("stat", cls.defaults["stat"]) in ("idf", "tfidf")
        return super().reads(key, params)

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.params["pools"])

    def column_base(self) -> str:
        return self.params["stat"]

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        m = pairs.match(field)
        tf = m.tf_float
        if p["stat"] == "tf":
            v = tf
        elif p["stat"] == "tf_norm":
            v = divide_or_zero(tf, m.entry_doc_len)
        else:
            idf = field_idf(pairs, field, p["idf"], doc_count=p["doc_count"])[m.entry_qterm]
            v = idf if p["stat"] == "idf" else tf * idf
        return pool_many(v, m.entry_ptr, p["pools"])


@register
class QueryLength(Scorer):
    """Number of analysed query tokens (repeats counted)."""

    name = "query_length"
    per_field = False

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        return pairs.query_len()[:, None]


@register
class QueryTermCount(Scorer):
    """Number of unique analysed query terms."""

    name = "query_terms"
    per_field = False

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        return pairs.n_query_terms()[:, None]


@register
class DocLength(Scorer):
    """Length of the document's field, in analysed tokens."""

    name = "doc_length"

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        return pairs.match(field).doc_len[:, None]


@register
class MatchedTerms(Scorer):
    """Number of unique query terms occurring in the document's field."""

    name = "matched_terms"

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        return pairs.match(field).n_matched[:, None]


@register
class Coverage(Scorer):
    """Share of the unique query terms occurring in the field (0 for a query without terms)."""

    name = "coverage"

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        matched = pairs.match(field).n_matched
        n = pairs.n_query_terms()
        return divide_or_zero(matched, n)[:, None]


@register
class FirstStage(Scorer):
    """The first-stage retriever's score and 1-based rank (columns ``first_stage_score``, ``first_stage_rank``).

    Judged documents added after retrieval (``extract(..., add_judged=True)``) get rank = (the query's largest
    first-stage rank, the places of candidates the collection lacks included) + 1 and score = (lowest retrieved
    score of the query) - 1, or 0 when nothing was retrieved.
    Candidates given without a first stage's scores, as ``{qid: [docno, ...]}``, get score 0 and rank 1, 2, ... n,
    the position in the candidate list (a frame without ``score``: score 0 and the rank of its ``rank`` column, or
    its order; :func:`features.extraction.candidates_frame`). A :class:`~features.pairs.PairSet` built without
    first-stage arrays gives 0 in both columns.

    Examples
    --------
    >>> from features import Analyzer, InvertedIndex, extract
    >>> from features.collections import Collection
    >>> ix = InvertedIndex.build(Collection(("a", "b", "c"), {"body": ["x", "y", "x y"]}), Analyzer(stopwords=None))
    >>> d = extract(ix, {"1": "x"}, {"1": ["c", "a", "b"]}, ["first_stage"])
    >>> d.X.tolist()   # (score, rank): no scores given, ranks in the candidate list's order
    [[0.0, 1.0], [0.0, 2.0], [0.0, 3.0]]
    """

    name = "first_stage"
    per_field = False

    @property
    def outputs(self) -> tuple[str, ...]:
        return ("score", "rank")

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        s = pairs.first_stage_score if pairs.first_stage_score is not None else np.zeros(pairs.n_pairs)
        r = pairs.first_stage_rank if pairs.first_stage_rank is not None else np.zeros(pairs.n_pairs)
        s = np.asarray(s, dtype=np.float64)
        over = beyond_float32(s)  # what rounds to inf as float32 (3.4028235e+38 itself is float32's max)
        if over.size:  # the feature is float32: it would be inf, which every reader of the features refuses
            i = int(over[0])
            q = int(pairs.pair_query[i])
            query = pairs.qids[q] if pairs.qids is not None else f"{q + 1} (in order)"
            raise ValueError(f"query {query}, document {pairs.index.doc_ids[pairs.docs[i]]}: first-stage score "
                             f"{float(s[i])!r} is beyond float32's range ({over.size} such score(s)), which the "
                             "first_stage_score feature holds as float32: scale the scores")
        return np.column_stack([s, np.asarray(r, dtype=np.float64)])
