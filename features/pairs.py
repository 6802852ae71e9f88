"""The (query, document) pairs to score, and the per-field match tables every scorer reads.

A :class:`PairSet` holds the pairs grouped by query (``group_ptr``), the analysed queries as flat arrays
(``qterm_ptr``, ``qterms``, ``qtf``) and, lazily and once per field, a :class:`Match` table: for every pair and
every unique query term, the term frequency and the posting index (for positions). Scorers are functions of these
arrays, so the postings are searched once however many features are computed. Expensive intermediates shared by
several scorers (e.g. the proximity statistics) are memoised in :meth:`PairSet.cached`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from features._kernels.postings import match_pairs
from features.index import FieldIndex, InvertedIndex, QueryTerms

if TYPE_CHECKING:
    from features.collections import Collection

__all__ = ["Match", "PairSet", "sum_by"]


def sum_by(index: NDArray[np.integer], weights: NDArray[np.floating], n: int | None = None) -> NDArray[np.float64]:
    """``weights`` summed by ``index`` into ``n`` (at least) float64 bins: ``np.bincount``, whose result is int64
    when ``index`` is empty (a batch of queries none of whose terms is in the field), whatever the weights."""
    return np.bincount(index, weights=weights, minlength=n or 0).astype(np.float64, copy=False)


@dataclass(frozen=True, eq=False)
class Match:
    """Per (pair, query term) entries of one field; pair ``i`` owns entries ``entry_ptr[i]:entry_ptr[i + 1]``.

    Attributes
    ----------
    tf : int32 (n_entries,)
    post : int64 (n_entries,)   posting index, -1 when the term is absent
    entry_ptr : int64 (n_pairs + 1,)
    entry_pair : int64 (n_entries,)   pair of each entry
    entry_qterm : int64 (n_entries,)  index into the flat query-term arrays of each entry
    doc_len : float64 (n_pairs,)      field length of each pair's document
    field : FieldIndex
    """

    tf: NDArray[np.int32]
    post: NDArray[np.int64]
    entry_ptr: NDArray[np.int64]
    entry_pair: NDArray[np.int64]
    entry_qterm: NDArray[np.int64]
    doc_len: NDArray[np.float64]
    field: FieldIndex

    def pair_sum(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Sum of per-entry values over each pair's entries (0 for a query without terms)."""
        return sum_by(self.entry_pair, values, self.entry_ptr.shape[0] - 1)

    # Per-entry arrays that most scorers read, made once per table (read-only: every scorer shares them). A
    # reranking call scores a hundred pairs, where NumPy's fixed cost per call, not the arithmetic, is the time.
    @cached_property
    def entry_doc_len(self) -> NDArray[np.float64]:
        """``doc_len`` of each entry's pair, float64 (n_entries,)."""
        return _frozen(self.doc_len[self.entry_pair])

    @cached_property
    def tf_float(self) -> NDArray[np.float64]:
        """``tf`` as float64 (n_entries,)."""
        return _frozen(self.tf.astype(np.float64))

    @cached_property
    def n_matched(self) -> NDArray[np.float64]:
        """Number of the pair's query terms with tf > 0, float64 (n_pairs,)."""
        return _frozen(self.pair_sum((self.tf > 0).astype(np.float64)))


def _frozen(a: NDArray) -> NDArray:
    a.flags.writeable = False
    return a


class PairSet:
    """Pairs to score: query ``q`` owns pairs ``group_ptr[q]:group_ptr[q + 1]`` with internal document indices
    ``docs``.

    Parameters
    ----------
    index : InvertedIndex
    queries : sequence of QueryTerms
        One per query, in group order.
    group_ptr : int64 (n_queries + 1,)
    docs : int32 (n_pairs,)
        Internal document indices (``index.doc_index``), all valid.
    first_stage_score, first_stage_rank : float64 (n_pairs,), optional
        The retriever's score and 1-based rank of each pair.
    added : bool (n_pairs,), optional
        True for a pair the first stage did not retrieve: a judged document appended for training
        (:func:`features.extraction.extract` with ``add_judged=True``, ``ltr features --add-judged``). Such pairs
        are scored like the others, but what is computed from the first stage's ranking leaves them out (the
        feedback documents of RM3 and Bo1, :func:`features.scorers.prf.feedback_documents`), so that a retrieved
        document's features do not depend on the judgments. Stored as :attr:`added`, all False when not given.
    qids : sequence of str, optional
        The query ids, in group order (scorers that join external scores, ``neural_file``, need them).
    query_texts : sequence of str, optional
        The raw query texts, in group order (scorers that read text, ``biencoder`` and ``crossencoder``).
    collection : Collection, optional
        The documents' text fields, holding every indexed document (scorers that read text).
    some_queries : bool, default False
        The pairs hold a few of the queries a feature's inputs cover (a service scoring a query at a time): a score
        file's entries for other queries are expected then, not a sign of ids spelled another way.
    """

    def __init__(
        self,
        index: InvertedIndex,
        queries: Sequence[QueryTerms],
        group_ptr: NDArray[np.int64],
        docs: NDArray[np.int32],
        *,
        first_stage_score: NDArray[np.float64] | None = None,
        first_stage_rank: NDArray[np.float64] | None = None,
        added: NDArray[np.bool_] | None = None,
        qids: Sequence[str] | None = None,
        query_texts: Sequence[str] | None = None,
        collection: Collection | None = None,
        some_queries: bool = False,
    ):
        self.index = index
        self.queries = list(queries)
        self.group_ptr = np.ascontiguousarray(group_ptr, dtype=np.int64)
        self.docs = np.ascontiguousarray(docs, dtype=np.int32)
        if self.group_ptr.shape[0] != len(self.queries) + 1 or self.group_ptr[-1] != self.docs.shape[0]:
            raise ValueError("group_ptr does not match the queries and documents")
        if self.docs.size and (self.docs.min() < 0 or self.docs.max() >= index.n_docs):
            raise ValueError("docs holds an index outside the collection")
        self.first_stage_score = first_stage_score
        self.first_stage_rank = first_stage_rank
        self.added = np.zeros(self.n_pairs, dtype=bool) if added is None else np.asarray(added, dtype=bool)
        if self.added.shape != (self.n_pairs,):
            raise ValueError(f"added has shape {self.added.shape} for {self.n_pairs} pairs")
        self.qids = None if qids is None else tuple(str(q) for q in qids)
        self.query_texts = None if query_texts is None else tuple(query_texts)
        for what, v in (("qids", self.qids), ("query_texts", self.query_texts)):
            if v is not None and len(v) != len(self.queries):
                raise ValueError(f"{what} has {len(v)} entries for {len(self.queries)} queries")
        self.collection = collection
        self.some_queries = bool(some_queries)
        lens = np.array([q.ids.shape[0] for q in self.queries], dtype=np.int64)
        self.qterm_ptr = np.zeros(len(self.queries) + 1, dtype=np.int64)
        np.cumsum(lens, out=self.qterm_ptr[1:])
        self.qterms = np.concatenate([q.ids for q in self.queries] or [np.zeros(0, np.int32)]).astype(np.int32)
        self.qtf = np.concatenate([q.qtf for q in self.queries] or [np.zeros(0, np.int32)]).astype(np.float64)
        sizes = np.diff(self.group_ptr)
        self.pair_query = np.repeat(np.arange(len(self.queries), dtype=np.int64), sizes)
        per_pair = lens[self.pair_query]
        self.entry_ptr = np.zeros(self.n_pairs + 1, dtype=np.int64)
        np.cumsum(per_pair, out=self.entry_ptr[1:])
        self.entry_pair = np.repeat(np.arange(self.n_pairs, dtype=np.int64), per_pair)
        # Flat query-term index of each entry: the k-th entry of a pair of query q is qterm_ptr[q] + k.
        self.entry_qterm = (
            np.arange(self.entry_ptr[-1], dtype=np.int64)
            - self.entry_ptr[:-1][self.entry_pair]
            + self.qterm_ptr[:-1][self.pair_query[self.entry_pair]]
        )
        self._cache: dict[Hashable, Any] = {}

    @property
    def n_pairs(self) -> int:
        return int(self.docs.shape[0])

    @property
    def n_queries(self) -> int:
        return len(self.queries)

    def query_len(self) -> NDArray[np.float64]:
        """Analysed query length (with repeats) of each pair."""
        lens = np.array([q.sequence.shape[0] for q in self.queries], dtype=np.float64)
        return lens[self.pair_query]

    def n_query_terms(self) -> NDArray[np.float64]:
        """Unique analysed query terms of each pair's query."""
        return np.diff(self.qterm_ptr).astype(np.float64)[self.pair_query]

    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Memoise an intermediate shared by several scorers (an array is made read-only: a scorer that wrote
        into it would change every later scorer's input)."""
        if key not in self._cache:
            value = compute()
            if isinstance(value, np.ndarray):
                _frozen(value)
            self._cache[key] = value
        return self._cache[key]

    def match(self, field: str) -> Match:
        """The match table of a field (computed once)."""
        return self.cached(("match", self.index.aliases.get(field, field)), lambda: self._match(field))

    def _match(self, field: str) -> Match:
        fi = self.index.field(field)
        n = int(self.entry_ptr[-1])
        tf = np.zeros(n, dtype=np.int32)
        post = np.full(n, -1, dtype=np.int64)
        if n:
            match_pairs(fi.indptr, fi.docs, fi.tf, self.qterm_ptr, self.qterms, self.group_ptr, self.docs,
                        self.entry_ptr, tf, post)
        return Match(tf, post, self.entry_ptr, self.entry_pair, self.entry_qterm,
                     fi.doc_len[self.docs].astype(np.float64), fi)

    def match_terms(self, field: str, term_ptr: NDArray[np.int64], term_ids: NDArray[np.int32]) -> Match:
        """A match table for other per-query term lists than the analysed queries (e.g. expanded queries).

        Query ``q``'s terms are ``term_ids[term_ptr[q]:term_ptr[q + 1]]`` (term ids, -1 for none); the table's
        ``entry_qterm`` indexes ``term_ids``. Not memoised: the caller owns the term lists.
        """
        fi = self.index.field(field)
        term_ptr = np.ascontiguousarray(term_ptr, dtype=np.int64)
        term_ids = np.ascontiguousarray(term_ids, dtype=np.int32)
        if term_ptr.shape[0] != self.n_queries + 1 or term_ptr[-1] != term_ids.shape[0]:
            raise ValueError("term_ptr does not match the queries and term_ids")
        per_pair = np.diff(term_ptr)[self.pair_query]
        entry_ptr = np.zeros(self.n_pairs + 1, dtype=np.int64)
        np.cumsum(per_pair, out=entry_ptr[1:])
        entry_pair = np.repeat(np.arange(self.n_pairs, dtype=np.int64), per_pair)
        entry_qterm = (np.arange(entry_ptr[-1], dtype=np.int64) - entry_ptr[:-1][entry_pair]
                       + term_ptr[:-1][self.pair_query[entry_pair]])
        n = int(entry_ptr[-1])
        tf = np.zeros(n, dtype=np.int32)
        post = np.full(n, -1, dtype=np.int64)
        if n:
            match_pairs(fi.indptr, fi.docs, fi.tf, term_ptr, term_ids, self.group_ptr, self.docs, entry_ptr, tf, post)
        return Match(tf, post, entry_ptr, entry_pair, entry_qterm, fi.doc_len[self.docs].astype(np.float64), fi)

    def df(self, field: str) -> NDArray[np.float64]:
        """Document frequency of each flat query term in a field (0 for unseen terms; memoised, read-only)."""
        return self._term_stat(field, "df")

    def cf(self, field: str) -> NDArray[np.float64]:
        """Collection frequency of each flat query term in a field (0 for unseen terms; memoised, read-only)."""
        return self._term_stat(field, "cf")

    def _term_stat(self, field: str, stat: str) -> NDArray[np.float64]:
        def compute() -> NDArray[np.float64]:
            fi = self.index.field(field)
            out = np.zeros(self.qterms.shape[0], dtype=np.float64)
            ok = self.qterms >= 0
            out[ok] = getattr(fi, stat)[self.qterms[ok]]
            return out

        return self.cached((stat, self.index.aliases.get(field, field)), compute)
