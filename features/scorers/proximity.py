r"""Term-proximity features: windows and distances (Tao & Zhai, 2007), SDM windows (Metzler & Croft, 2005),
BM25TP (Büttcher, Clarke & Lushman, 2006).

Positions are those of the index (analysed tokens, stopwords removed, from 0; fields of the concatenated field are
``position_gap`` apart). Definitions (see :mod:`features._kernels.proximity`):

- ``min_window``: length of the shortest window containing every matched query term (MinCover);
- ``span``: length of the window from the first to the last occurrence of any query term (Span);
- ``min_pair_dist`` / ``avg_pair_dist``: minimum / mean over pairs of distinct matched terms of the smallest
  distance between their occurrences (MinDist / AveDist);
- ``ordered_window``: number of exact bigrams ``a b`` (Indri's ``#1(a b)``) summed over query-term pairs;
- ``unordered_window``: number of occurrence pairs of ``a`` and ``b`` inside a window of ``window`` positions
  (``#uwN(a b)``, default N = 8), summed over query-term pairs.

Query-term pairs are adjacent terms of the analysed query (``pairs="adjacent"``, the sequential dependence model)
or every pair of distinct terms (``"all"``, the full dependence model). Documents with no matched query term get
``max_distance`` (default 1000) for the lengths and distances, which are also capped there, and 0 for counts; the
pair distances need two matched terms.

BM25TP adds to BM25 a proximity term

.. math::

    \mathrm{TP}(q, d) = \sum_{t \in q} \min(1, \mathrm{idf}(t))\,
        \frac{(k_1 + 1)\, acc_d(t)}{acc_d(t) + k_1 (1 - b + b\,|d| / \mathrm{avgdl})},

where for every two consecutive occurrences (in document order, no other query-term occurrence between them) of
different query terms :math:`t_j, t_k` at distance :math:`\delta`, :math:`acc_d(t_j)` gains
:math:`\mathrm{idf}(t_k)/\delta^2` and :math:`acc_d(t_k)` gains :math:`\mathrm{idf}(t_j)/\delta^2`. Büttcher et al.
use :math:`\mathrm{idf}(t) = \log(N / df_t)`; here both parts use the ``idf`` parameter (default ``"lucene"``).

References
----------
T. Tao, C. Zhai. An exploration of proximity measures in information retrieval. SIGIR 2007.
D. Metzler, W. B. Croft. A Markov random field model for term dependencies. SIGIR 2005.
S. Büttcher, C. L. A. Clarke, B. Lushman. Term proximity scoring for ad-hoc retrieval on very large text
collections. SIGIR 2006.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from features._kernels.proximity import PROX_COLUMNS, proximity_pairs, tp_accumulators
from features.pairs import PairSet
from features.scorers._registry import Scorer, register
from features.scorers.bm25 import _BM25Params, bm25_tf, field_idf

__all__ = ["BM25TP", "AvgPairDistance", "MinPairDistance", "MinWindow", "OrderedWindow", "Span", "UnorderedWindow",
           "proximity_table"]


def _query_pairs(pairs: PairSet, mode: str) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    ptr = [0]
    a: list[int] = []
    b: list[int] = []
    for q in pairs.queries:
        if mode == "adjacent":
            s = q.sequence.tolist()
            a += s[:-1]
            b += s[1:]
        else:
            n = q.ids.shape[0]
            for i in range(n):
                for j in range(i + 1, n):
                    a.append(i)
                    b.append(j)
        ptr.append(len(a))
    return np.array(ptr, dtype=np.int64), np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)


def proximity_table(pairs: PairSet, field: str, *, pairs_mode: str = "adjacent", window: int = 8,
                    max_distance: float = 1000.0) -> NDArray[np.float64]:
    """All six proximity statistics, shape (n_pairs, 6), columns ``PROX_COLUMNS`` (computed once per setting)."""

    def compute() -> NDArray[np.float64]:
        m = pairs.match(field)
        fi = m.field
        qp, qa, qb = _query_pairs(pairs, pairs_mode)
        out = np.zeros((pairs.n_pairs, len(PROX_COLUMNS)))
        if pairs.n_pairs:
            proximity_pairs(fi.positions, fi.pos_ptr, m.post, pairs.entry_ptr, pairs.group_ptr, pairs.qterm_ptr, qp,
                            qa, qb, int(window), float(max_distance), out)
        return out

    key = ("proximity", pairs.index.aliases.get(field, field), pairs_mode, int(window), float(max_distance))
    return pairs.cached(key, compute)


class _Proximity(Scorer):
    column = ""
    defaults = {"pairs": "adjacent", "window": 8, "max_distance": 1000.0}

    def validate(self) -> None:
        p = self.params
        self._check(p["pairs"] in ("adjacent", "all"), "pairs", "'adjacent' or 'all'")
        self._check(isinstance(p["window"], int) and p["window"] >= 2, "window", "an integer >= 2")
        self._check(isinstance(p["max_distance"], (int, float)) and p["max_distance"] > 0, "max_distance", "> 0")

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        table = proximity_table(pairs, field, pairs_mode=p["pairs"], window=p["window"],
                                max_distance=p["max_distance"])
        return table[:, [PROX_COLUMNS.index(self.column)]]


@register
class MinWindow(_Proximity):
    """Shortest window covering all matched query terms (Tao & Zhai's MinCover)."""

    name = "min_window"
    column = "min_window"


@register
class Span(_Proximity):
    """Window from the first to the last query-term occurrence (Tao & Zhai's Span)."""

    name = "span"
    column = "span"


@register
class MinPairDistance(_Proximity):
    """Smallest distance between occurrences of two distinct matched terms (Tao & Zhai's MinDist)."""

    name = "min_pair_dist"
    column = "min_pair_dist"


@register
class AvgPairDistance(_Proximity):
    """Mean over matched term pairs of their smallest distance (Tao & Zhai's AveDist)."""

    name = "avg_pair_dist"
    column = "avg_pair_dist"


@register
class OrderedWindow(_Proximity):
    """Exact bigram matches ``#1(a b)`` summed over query-term pairs (SDM's ordered windows)."""

    name = "ordered_window"
    column = "ordered"


@register
class UnorderedWindow(_Proximity):
    """Co-occurrences inside ``#uwN`` windows summed over query-term pairs (SDM's unordered windows)."""

    name = "unordered_window"
    column = "unordered"


@register
class BM25TP(_BM25Params):
    """BM25 plus Büttcher et al.'s term-proximity term (module docstring)."""

    name = "bm25tp"

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        m = pairs.match(field)
        fi = m.field
        idf = field_idf(pairs, field, p["idf"], p["epsilon"])
        acc = np.zeros(m.tf.shape[0])
        if acc.size:
            tp_accumulators(fi.positions, fi.pos_ptr, m.post, pairs.entry_ptr, pairs.group_ptr, pairs.qterm_ptr,
                            idf, acc)
        dl = m.doc_len[m.entry_pair]
        tp = m.pair_sum(np.minimum(1.0, idf)[m.entry_qterm] * bm25_tf(acc, dl, fi.avg_len, p["k1"], p["b"]))
        return (self.bm25(pairs, field) + tp)[:, None]
