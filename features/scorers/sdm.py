r"""The sequential dependence model (SDM) of Metzler & Croft (2005), with Dirichlet smoothing, as Indri runs it.

For an analysed query :math:`q_1 \dots q_n` (stopwords removed, repeats kept) and a document :math:`D` of length
:math:`|D|` in a field whose collection holds :math:`|C|` tokens, each clique gets a Dirichlet-smoothed log
probability

.. math::

    f(x, D) = \ln \frac{c(x, D) + \mu\, c(x, C) / |C|}{|D| + \mu}

where :math:`x` is a query term :math:`q_i` (unigram), the ordered window ``#1(q_i q_{i+1})`` (the two terms
adjacent, in order) or the unordered window ``#uwN(q_i q_{i+1})`` (both terms within N positions, either order;
N = ``window``, 8 by default), :math:`c(x, D)` its count in the document and :math:`c(x, C)` in the collection.
Windows are counted as Indri counts them, on the index's positions, where a stopped document token keeps its place
as Indri's stopper keeps it (``design of compilers`` holds no ``#1(design compilers)``; see :mod:`features.index`),
and (:mod:`features._kernels.windows`) :math:`c(x, D)` in non-overlapping extents (Indri's ``ListBeliefNode``),
:math:`c(x, C)` in every extent, overlapping ones included (its ``ContextCountAccumulator``): ``a b a b`` adds 2 to
the one, 3 to the other; for a query repeating a term next to itself, ``a a``, ``#uwN(a a)`` counts every
occurrence of ``a`` in a document, as Indri does. A clique
that never occurs in the collection gets :math:`c(x, C)/|C| = 1/(2|C|)`, Indri's choice, so that its log
probability stays finite (a query term missing from the vocabulary included).

The three components are, with ``combine="mean"`` (default; Indri's ``#combine``, as in the Indri query of the
paper: ``#weight(0.85 #combine(q) 0.1 #combine(#1(q1 q2) ...) 0.05 #combine(#uw8(q1 q2) ...))``),

.. math::

    T = \frac{1}{n} \sum_{i=1}^{n} f(q_i, D), \qquad
    O = \frac{1}{n - 1} \sum_{i=1}^{n-1} f(\#1(q_i q_{i+1}), D), \qquad
    U = \frac{1}{n - 1} \sum_{i=1}^{n-1} f(\#uwN(q_i q_{i+1}), D),

and the score is :math:`(\lambda_T T + \lambda_O O + \lambda_U U) / (\lambda_T + \lambda_O + \lambda_U)` (Indri's
``#weight`` divides by the weights' sum; a one-term query has no window cliques, and its score is :math:`T`).
With ``combine="sum"`` the components are the sums (no :math:`1/n`, :math:`1/(n-1)`) and the score is
:math:`\lambda_T T + \lambda_O O + \lambda_U U`, the ranking function as the paper writes it. The weights are
``w_unigram`` :math:`\lambda_T = 0.85`, ``w_ordered`` :math:`\lambda_O = 0.1`, ``w_unordered``
:math:`\lambda_U = 0.05`; ``mu`` :math:`\mu = 2500` (Indri's default). ``columns`` selects the outputs: ``score``
and the components ``unigram`` (:math:`T`), ``ordered`` (:math:`O`), ``unordered`` (:math:`U`), each its own
feature (``sdm_score:body``, ``sdm_unigram:body``, ...). A query without any analysed term scores 0 everywhere.

A one-term query has no window cliques: its ``ordered`` and ``unordered`` columns are 0 for every document (the
empty sum, with either ``combine``), which is not a log probability and is larger than any of them (they are
negative), so across queries these columns read 0 as "no bigram", not as "a certain match"; a model mixing
one-term and longer queries can tell them apart with ``query_length``. Being constant within the query, they leave
its ranking to the unigram component (the score is :math:`T` with ``"mean"`` and :math:`\lambda_T T` with
``"sum"``).

References
----------
D. Metzler, W. B. Croft. A Markov random field model for term dependencies. SIGIR 2005.
T. Strohman, D. Metzler, H. Turtle, W. B. Croft. Indri: a language-model based search engine for complex queries.
ICIA 2005.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from features._kernels.windows import window_cf, window_counts
from features.index import FieldIndex
from features.pairs import PairSet, sum_by
from features.scorers._registry import Scorer, divide_or_zero, is_number, register

__all__ = ["PAIR_MEMO_LIMIT", "SDM", "SDM_COLUMNS", "query_bigrams", "window_collection_counts"]

SDM_COLUMNS = ("score", "unigram", "ordered", "unordered")


def query_bigrams(pairs: PairSet) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Adjacent pairs of each analysed query as indices into its unique terms: ``(ptr, a, b)``, query ``q``'s
    bigrams being ``a[ptr[q]:ptr[q + 1]]``, ``b[...]`` (a repeated bigram is listed each time it occurs)."""
    ptr = np.zeros(pairs.n_queries + 1, dtype=np.int64)
    a: list[int] = []
    b: list[int] = []
    for q, qt in enumerate(pairs.queries):
        s = qt.sequence.tolist()
        a += s[:-1]
        b += s[1:]
        ptr[q + 1] = len(a)
    return ptr, np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)


#: The most term pairs whose window counts one field memoises (about 50 MB).
PAIR_MEMO_LIMIT = 1 << 18


def window_collection_counts(fi: FieldIndex, term_a: NDArray, term_b: NDArray, window: int) -> NDArray[np.float64]:
    """Collection counts of ``#1(a b)`` and ``#uwN(a b)`` per term-id pair, shape (n, 2); memoised per pair on the
    field (a pair's count is a property of the collection, reused by every later query). The memo holds at most
    :data:`PAIR_MEMO_LIMIT` pairs: a long-running service meets new query bigrams for ever (it grew by about 180
    bytes a new pair), so it starts again when full; the values are read from this call's own copy, so that another
    thread emptying the memo meanwhile changes nothing."""
    memo = fi.derived(("sdm_window_cf", int(window)), dict)
    keys = list(zip(np.asarray(term_a).tolist(), np.asarray(term_b).tolist()))
    values = {}
    for k in set(keys):
        v = memo.get(k)
        if v is not None:
            values[k] = v
    todo = sorted(k for k in set(keys) if k not in values)
    if todo:
        ta = np.array([k[0] for k in todo], dtype=np.int64)
        tb = np.array([k[1] for k in todo], dtype=np.int64)
        out = np.zeros((len(todo), 2))
        window_cf(fi.indptr, fi.docs, fi.pos_ptr, fi.positions, ta, tb, int(window), out)
        if len(memo) + len(todo) > PAIR_MEMO_LIMIT:
            memo.clear()
        for k, row in zip(todo, out):
            values[k] = memo[k] = (float(row[0]), float(row[1]))
    return np.array([values[k] for k in keys], dtype=np.float64).reshape(len(keys), 2)


def _dirichlet(count: NDArray, p_coll: NDArray, doc_len: NDArray, mu: float) -> NDArray[np.float64]:
    return np.log((count + mu * p_coll) / (doc_len + mu))


@register
class SDM(Scorer):
    """Sequential dependence model score and components (module docstring); parameters ``mu``, ``w_unigram``,
    ``w_ordered``, ``w_unordered``, ``window``, ``combine`` and ``columns``."""

    name = "sdm"
    positional = True
    version = 2
    changes = {2: "the windows' collection counts take every extent, overlapping ones included, as Indri's do"}
    defaults = {"mu": 2500.0, "w_unigram": 0.85, "w_ordered": 0.1, "w_unordered": 0.05, "window": 8,
                "combine": "mean", "columns": list(SDM_COLUMNS)}

    def validate(self) -> None:
        p = self.params
        self._check(is_number(p["mu"]) and p["mu"] > 0, "mu", "a finite number > 0")
        for w in ("w_unigram", "w_ordered", "w_unordered"):
            self._check(is_number(p[w]) and p[w] >= 0, w, "a finite number >= 0")
        self._check(p["w_unigram"] + p["w_ordered"] + p["w_unordered"] > 0, "w_unigram",
                    "positive, or one of w_ordered / w_unordered positive")
        self._check(isinstance(p["window"], int) and not isinstance(p["window"], bool) and p["window"] >= 2,
                    "window", "an integer >= 2")
        self._check(p["combine"] in ("mean", "sum"), "combine", "'mean' or 'sum'")
        cols = p["columns"]
        ok = isinstance(cols, (list, tuple)) and len(cols) > 0 and all(c in SDM_COLUMNS for c in cols)
        self._check(ok and len(set(cols)) == len(cols), "columns",
                    f"a non-empty list of distinct names drawn from {SDM_COLUMNS}")

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.params["columns"])

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        mu = float(p["mu"])
        m = pairs.match(field)
        fi = m.field
        size = float(max(fi.total_len, 1))  # an empty field: Indri takes a context size of 1
        n = pairs.n_pairs
        cf = pairs.cf(field)
        pc = np.where(cf > 0, cf / size, 0.5 / size)
        seq_len = np.array([q.sequence.shape[0] for q in pairs.queries], dtype=np.float64)[pairs.pair_query]
        uni = m.pair_sum(pairs.qtf[m.entry_qterm] * _dirichlet(m.tf, pc[m.entry_qterm], m.entry_doc_len, mu))

        bptr, ba, bb = query_bigrams(pairs)
        nb_query = np.diff(bptr)
        nb = nb_query[pairs.pair_query].astype(np.float64)
        row_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(nb_query[pairs.pair_query], out=row_ptr[1:])
        ordered = np.zeros(n)
        unordered = np.zeros(n)
        if row_ptr[-1]:
            counts = np.zeros((int(row_ptr[-1]), 2))
            window_counts(fi.positions, fi.pos_ptr, m.post, pairs.entry_ptr, pairs.group_ptr, bptr, ba, bb, row_ptr,
                          int(p["window"]), counts)
            # collection counts of each query bigram, by term id (-1 for a term outside the vocabulary: count 0)
            qbase = pairs.qterm_ptr[:-1]
            bq = np.repeat(np.arange(pairs.n_queries), nb_query)
            coll = window_collection_counts(fi, pairs.qterms[qbase[bq] + ba], pairs.qterms[qbase[bq] + bb],
                                            int(p["window"]))
            pcoll = np.where(coll > 0, coll / size, 0.5 / size)
            # row r belongs to pair row_pair[r] and to bigram bptr[q] + (r - row_ptr[i]) of its query q
            row_pair = np.repeat(np.arange(n), np.diff(row_ptr))
            row_bigram = bptr[pairs.pair_query[row_pair]] + np.arange(row_ptr[-1]) - row_ptr[row_pair]
            dl = m.doc_len[row_pair]
            ordered = sum_by(row_pair, _dirichlet(counts[:, 0], pcoll[row_bigram, 0], dl, mu), n)
            unordered = sum_by(row_pair, _dirichlet(counts[:, 1], pcoll[row_bigram, 1], dl, mu), n)
        wt, wo, wu = float(p["w_unigram"]), float(p["w_ordered"]), float(p["w_unordered"])
        has_uni = seq_len > 0
        has_bi = nb > 0
        if p["combine"] == "mean":
            uni = divide_or_zero(uni, seq_len, has_uni)
            ordered = divide_or_zero(ordered, nb, has_bi)
            unordered = divide_or_zero(unordered, nb, has_bi)
            total = wt * has_uni + (wo + wu) * has_bi
            score = divide_or_zero(wt * uni + wo * ordered + wu * unordered, total)
        else:
            score = wt * uni + wo * ordered + wu * unordered
        parts = {"score": score, "unigram": uni, "ordered": ordered, "unordered": unordered}
        return np.column_stack([parts[c] for c in p["columns"]])
