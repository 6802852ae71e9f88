"""First-stage retrieval: BM25 top-k over an index, as TREC runs.

Impacts ``idf(t) * (k1 + 1) tf / (tf + k1 (1 - b + b |d| / avgdl))`` are precomputed per posting (float32, as
bm25s does), so a query is a sum of posting impacts weighted by the query-term weight; the top k come from a
heap over the documents the query touched (:mod:`features._kernels.topk`). Documents that contain at least one
query term are retrieved whatever their score; ties are broken by collection order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from features._kernels.topk import topk_queries
from features._threads import numba_threads, workqueue_turn
from features.collections._base import Queries, standard_columns
from features.index import InvertedIndex, QueryTerms
from features.scorers.bm25 import (
    BM25,
    BM25_IDF,
    DOC_COUNTS,
    QTF_NORMS,
    bm25_idf,
    bm25_tf,
    default_doc_count,
    field_statistics,
    query_weight,
)

__all__ = ["BM25Retriever", "as_queries"]


def as_queries(queries: Queries | Mapping[str, str] | Sequence[tuple[str, str]] | pd.DataFrame) -> Queries:
    """Queries from a :class:`Queries`, ``{qid: text}``, ``[(qid, text)]`` or a DataFrame with qid/text columns."""
    if isinstance(queries, Queries):
        return queries
    if isinstance(queries, pd.DataFrame):  # PyTerrier's topics (qid, query) and ir_datasets' (query_id, text) too
        frame = standard_columns(queries, ["qid", "text"], what="queries")
        return Queries(tuple(frame["qid"]), tuple(frame["text"]))
    if isinstance(queries, (str, bytes)):
        raise TypeError(f"queries must be a mapping of query id to text (or Queries, pairs, a DataFrame), got the "
                        f"string {queries[:40]!r}; pass {{'q1': {queries[:40]!r}}}")
    return Queries.from_mapping(queries)


class BM25Retriever:
    """BM25 top-k retrieval over one field of an index.

    Parameters
    ----------
    index : InvertedIndex
    field : str
        Field to search (default the concatenated ``"all"``).
    k1, b, idf, k3, epsilon, qtf_norm, doc_count
        As :class:`features.scorers.bm25.BM25` (scores equal that feature's, up to float32 rounding). Terrier's
        BM25: ``idf="terrier", k3=8.0, qtf_norm="max"`` over an index built with ``Analyzer.terrier()``.
    dtype : numpy float dtype
        Precision of the impacts and accumulators (float32 by default; float64 for exact ties).

    Examples
    --------
    >>> from features.collections import Collection
    >>> from features.analysis import Analyzer
    >>> c = Collection(("a", "b", "c"), {"body": ["wing flutter", "heat", "wing wing"]})
    >>> r = BM25Retriever(InvertedIndex.build(c, Analyzer(stemmer=None)))
    >>> r.search({"q1": "wing"}, k=10)[["qid", "docno", "rank"]].values.tolist()
    [['q1', 'c', 1], ['q1', 'a', 2]]
    """

    def __init__(
        self,
        index: InvertedIndex,
        *,
        field: str = "all",
        k1: float = 1.2,
        b: float = 0.75,
        idf: str = "lucene",
        k3: float | None = None,
        epsilon: float | None = None,
        qtf_norm: str = "none",
        doc_count: str | None = None,
        dtype: type = np.float32,
    ):
        if idf not in BM25_IDF:
            raise ValueError(f"idf must be one of {BM25_IDF}, got {idf!r}")
        doc_count = default_doc_count(idf) if doc_count is None else doc_count
        if doc_count not in DOC_COUNTS:
            raise ValueError(f"doc_count must be one of {DOC_COUNTS}, got {doc_count!r}")
        if qtf_norm not in QTF_NORMS:
            raise ValueError(f"qtf_norm must be one of {QTF_NORMS}, got {qtf_norm!r}")
        for name, value in (("k1", k1), ("b", b)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"{name} must be a number, got {value!r}")
        if not (math.isfinite(k1) and k1 >= 0 and 0 <= b <= 1):
            raise ValueError(f"need a finite k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        # the bm25 feature's own checks, which the scores equal (k1 and k3 bounded, epsilon >= 0 and okapi's only):
        # the retriever's own missed them, and gave inf, nan or negative scores (trial t55)
        given = {"k1": k1, "b": b, "idf": idf, "k3": k3, "qtf_norm": qtf_norm, "doc_count": doc_count,
                 **({} if epsilon is None else {"epsilon": epsilon})}
        try:
            BM25(**given)
        except ValueError as e:
            raise ValueError(str(e).replace("scorer 'bm25'", "BM25Retriever", 1)) from None
        epsilon = BM25.defaults["epsilon"] if epsilon is None else epsilon
        if not (isinstance(dtype, (type, np.dtype, str)) and np.dtype(dtype).kind == "f"):
            raise TypeError(f"dtype must be a float dtype (np.float32 or np.float64), got {dtype!r}: integer impacts "
                            "truncate every score")
        if np.dtype(dtype) not in (np.float32, np.float64):  # float16 failed only at search, in the kernel's typing
            raise TypeError(f"dtype must be np.float32 or np.float64, got {np.dtype(dtype).name}: the top-k kernel "
                            "is compiled for those two")
        self.index = index
        self.field = field
        self.k1, self.b, self.idf, self.k3, self.epsilon, self.qtf_norm = k1, b, idf, k3, epsilon, qtf_norm
        self.doc_count = doc_count
        fi = index.field(field)
        self._fi = fi
        n, avg = field_statistics(fi, index.n_docs, doc_count)
        term_idf = bm25_idf(fi.df, n, idf, epsilon=epsilon, vocab_df=fi.df)
        self.impacts = (term_idf[fi.posting_terms] * bm25_tf(fi.tf, fi.doc_len[fi.docs], avg, k1, b)).astype(dtype)

    def retrieve(
        self, queries: Sequence[QueryTerms], k: int = 1000, *, n_jobs: int | None = None
    ) -> tuple[NDArray[np.int32], NDArray[np.floating], NDArray[np.int64]]:
        """Low level: internal document indices and scores (n_queries, width), best first, and hits per query.

        ``width`` is ``k``, or less where no query's postings hold ``k`` documents (the most a query can hit). Rows
        are padded with -1 / 0 past each query's hit count.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be an integer >= 1, got {k!r}")
        k = min(int(k), max(self.index.n_docs, 1))
        # no query can hit more documents than its terms' postings hold: the output's width is at most the largest
        # such count (a depth at the collection's size took memory in queries x documents: 1 GiB for 12,088 rows of
        # at most 16 a query; trial t57)
        df = np.diff(self._fi.indptr)
        most = max((int(df[q.ids[q.ids >= 0]].sum()) for q in queries), default=0)
        k = max(1, min(k, most))
        ptr = np.zeros(len(queries) + 1, dtype=np.int64)
        np.cumsum([q.ids.shape[0] for q in queries], out=ptr[1:])
        qterms = np.concatenate([q.ids for q in queries] or [np.zeros(0, np.int32)]).astype(np.int32)
        qw = np.concatenate([query_weight(q.qtf, self.k3, self.qtf_norm) for q in queries] or [np.zeros(0)])
        out_docs = np.full((len(queries), k), -1, dtype=np.int32)
        out_scores = np.zeros((len(queries), k), dtype=self.impacts.dtype)
        out_n = np.zeros(len(queries), dtype=np.int64)
        if len(queries):
            with workqueue_turn(), numba_threads(n_jobs) as threads:
                chunks = min(len(queries), threads * 4)
                fi = self._fi
                topk_queries(ptr, qterms, qw, fi.indptr, fi.docs, self.impacts, self.index.n_docs, k, chunks,
                             out_docs, out_scores, out_n)
        return out_docs, out_scores, out_n

    def search(
        self,
        queries: Queries | Mapping[str, str] | Sequence[tuple[str, str]] | pd.DataFrame,
        k: int = 1000,
        *,
        n_jobs: int | None = None,
        tag: str = "ltrkit-bm25",
    ) -> pd.DataFrame:
        """A TREC run: columns ``qid``, ``q0``, ``docno``, ``rank`` (1-based), ``score``, ``tag``, sorted by query
        (input order) then rank. Queries without hits (no analysed term in the vocabulary) have no rows."""
        from ltr.io.trec import check_run_tag

        check_run_tag(tag)
        qs = as_queries(queries)
        analysed = [self.index.query_terms(t) for t in qs.texts]
        docs, scores, n = self.retrieve(analysed, k, n_jobs=n_jobs)
        mask = np.arange(docs.shape[1])[None, :] < n[:, None]
        qid = np.repeat(np.asarray(qs.qids, dtype=object), n)
        return pd.DataFrame({
            "qid": qid,
            "q0": "Q0",
            "docno": self.index.doc_ids[docs[mask]],
            "rank": (np.nonzero(mask)[1] + 1).astype(np.int64),
            "score": scores[mask].astype(np.float64),
            "tag": tag,
        })
