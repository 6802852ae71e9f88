r"""Term-proximity features: windows and distances (Tao & Zhai, 2007), SDM windows (Metzler & Croft, 2005),
BM25TP (Büttcher, Clarke & Lushman, 2006).

Positions are those of the index (from 0; a stopword or other dropped token keeps its place, as in Lucene and Indri,
so two terms it separates are 2 apart; fields of the concatenated field are ``position_gap`` apart, which keeps a
window of up to ``position_gap + 1`` positions within one field, and adds the gap to a distance or span from one
field into the next: :mod:`features.index`). Definitions (see :mod:`features._kernels.proximity`):

- ``min_window``: length of the shortest window containing every matched query term (MinCover);
- ``span``: length of the window from the first to the last occurrence of any query term (Span);
- ``min_pair_dist`` / ``avg_pair_dist``: minimum / mean over pairs of distinct matched terms of the smallest
  distance between their occurrences (MinDist / AveDist);
- ``ordered_window``: number of exact bigrams ``a b`` (Indri's ``#1(a b)``) summed over query-term pairs;
- ``unordered_window``: number of occurrence pairs of ``a`` and ``b`` inside a window of ``window`` positions
  (``#uwN(a b)``, default N = 8), summed over query-term pairs. (This counts every pair of occurrences; the
  ``sdm`` scorer counts Indri's non-overlapping windows instead, see :mod:`features.scorers.sdm`.)

Query-term pairs are adjacent terms of the analysed query (``pairs="adjacent"``, the sequential dependence model)
or every pair of distinct terms (``"all"``, the full dependence model). Documents with no matched query term get
``max_distance`` (default 1000) for the lengths and distances, which are also capped there, and 0 for counts; the
pair distances need two matched terms (two matched terms forming a listed pair, with ``pairs="adjacent"``).

Each scorer takes only the options its statistic depends on, and refuses the others with the reason:

- ``min_window``, ``span``: ``max_distance``; refuse ``window`` and ``pairs``;
- ``min_pair_dist``, ``avg_pair_dist``: ``pairs`` (default ``"all"``, Tao & Zhai's definition) and
  ``max_distance``; refuse ``window``;
- ``ordered_window``: ``pairs`` (default ``"adjacent"``); refuses ``window`` (#1 is exact adjacency) and
  ``max_distance`` (a count has no cap);
- ``unordered_window``: ``pairs`` (default ``"adjacent"``) and ``window``; refuses ``max_distance``.

BM25TP adds to BM25 a proximity term

.. math::

    \mathrm{TP}(q, d) = \sum_{t \in q} \min(1, \mathrm{idf}(t))\,
        \frac{(k_1 + 1)\, acc_d(t)}{acc_d(t) + k_1 (1 - b + b\,|d| / \mathrm{avgdl})},

(0 for a term whose :math:`acc_d(t)` is not positive: a negative idf, ``idf="robertson"``, can make it negative)
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

from features._kernels.proximity import PROX_COLUMNS, listed_pair_distances, proximity_pairs, tp_scores
from features.pairs import PairSet
from features.scorers._registry import Scorer, is_number, register
from features.scorers.bm25 import _BM25Params

__all__ = ["BM25TP", "AvgPairDistance", "MinPairDistance", "MinWindow", "OrderedWindow", "Span", "UnorderedWindow",
           "listed_distances", "proximity_table"]


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


def listed_distances(pairs: PairSet, field: str, *, pairs_mode: str = "adjacent",
                     max_distance: float = 1000.0) -> NDArray[np.float64]:
    """``min_pair_dist`` and ``avg_pair_dist`` over the query-term pairs of ``pairs_mode`` only, shape (n_pairs, 2);
    a pair of a term with itself is left out, and a pair listed twice counts once."""

    def compute() -> NDArray[np.float64]:
        m = pairs.match(field)
        fi = m.field
        qp, qa, qb = _query_pairs(pairs, pairs_mode)
        out = np.zeros((pairs.n_pairs, 2))
        if pairs.n_pairs:
            listed_pair_distances(fi.positions, fi.pos_ptr, m.post, pairs.entry_ptr, pairs.group_ptr, pairs.qterm_ptr,
                                  qp, qa, qb, float(max_distance), out)
        return out

    key = ("listed_distances", pairs.index.aliases.get(field, field), pairs_mode, float(max_distance))
    return pairs.cached(key, compute)


_WHY_NO_WINDOW = "it does not count matches inside a window; only unordered_window has a window"
_WHY_NO_MAX = "it is a count, not a distance, so it has no cap"
_WHY_NO_PAIRS = "it covers every matched query term at once, not pairs of terms"
# Settings that a statistic does not depend on: the scorers that ignore them read the table computed with these, so
# that the default feature set computes the six statistics once.
_SHARED = {"pairs": "adjacent", "window": 8, "max_distance": 1000.0}


class _Proximity(Scorer):
    """A column of :func:`proximity_table`; each subclass takes exactly the settings its statistic depends on."""

    column = ""
    defaults = dict(_SHARED)
    positional = True

    def validate(self) -> None:
        p = self.params
        if "pairs" in p:
            self._check(p["pairs"] in ("adjacent", "all"), "pairs", "'adjacent' or 'all'")
        if "window" in p:
            self._check(isinstance(p["window"], int) and not isinstance(p["window"], bool) and p["window"] >= 2,
                        "window", "an integer >= 2")
        if "max_distance" in p:
            self._check(is_number(p["max_distance"]) and p["max_distance"] > 0, "max_distance", "a finite number > 0")

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        s = {**_SHARED, **self.params}
        table = proximity_table(pairs, field, pairs_mode=s["pairs"], window=s["window"],
                                max_distance=s["max_distance"])
        c = PROX_COLUMNS.index(self.column)
        return table[:, c:c + 1]


@register
class MinWindow(_Proximity):
    """Shortest window covering all matched query terms (Tao & Zhai's MinCover); parameter ``max_distance`` (the
    cap, and the value without a match)."""

    name = "min_window"
    column = "min_window"
    defaults = {"max_distance": 1000.0}
    refused = {"window": "it is the length of the shortest window covering every matched term, whatever that length",
               "pairs": _WHY_NO_PAIRS}


@register
class Span(_Proximity):
    """Window from the first to the last query-term occurrence (Tao & Zhai's Span); parameter ``max_distance``."""

    name = "span"
    column = "span"
    defaults = {"max_distance": 1000.0}
    refused = {"window": "it is the length from the first to the last query-term occurrence, whatever that length",
               "pairs": _WHY_NO_PAIRS}


class _PairDistance(_Proximity):
    defaults = {"pairs": "all", "max_distance": 1000.0}
    refused = {"window": "it is a distance between occurrences, not a count inside a window"}

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        if p["pairs"] == "all":  # every pair of distinct matched terms: the shared table's columns
            table = proximity_table(pairs, field, pairs_mode=_SHARED["pairs"], window=_SHARED["window"],
                                    max_distance=p["max_distance"])
            c = PROX_COLUMNS.index(self.column)
            return table[:, c:c + 1]
        c = ("min_pair_dist", "avg_pair_dist").index(self.column)
        return listed_distances(pairs, field, pairs_mode=p["pairs"], max_distance=p["max_distance"])[:, c:c + 1]


@register
class MinPairDistance(_PairDistance):
    """Smallest distance between occurrences of two distinct matched terms (Tao & Zhai's MinDist), over every pair
    of query terms (``pairs="all"``, default) or over adjacent query terms only (``"adjacent"``); ``max_distance``."""

    name = "min_pair_dist"
    column = "min_pair_dist"


@register
class AvgPairDistance(_PairDistance):
    """Mean over matched term pairs of their smallest distance (Tao & Zhai's AveDist), over every pair of query
    terms (``pairs="all"``, default) or over adjacent query terms only (``"adjacent"``); ``max_distance``."""

    name = "avg_pair_dist"
    column = "avg_pair_dist"


@register
class OrderedWindow(_Proximity):
    """Exact bigram matches ``#1(a b)`` summed over query-term pairs (SDM's ordered windows); parameter ``pairs``."""

    name = "ordered_window"
    column = "ordered"
    defaults = {"pairs": "adjacent"}
    refused = {"window": "#1 is exact adjacency; use unordered_window for matches inside a window",
               "max_distance": _WHY_NO_MAX}


@register
class UnorderedWindow(_Proximity):
    """Co-occurrences inside ``#uwN`` windows summed over query-term pairs (SDM's unordered windows); parameters
    ``pairs`` and ``window`` (N)."""

    name = "unordered_window"
    column = "unordered"
    defaults = {"pairs": "adjacent", "window": 8}
    refused = {"max_distance": _WHY_NO_MAX}


@register
class BM25TP(_BM25Params):
    """BM25 plus Büttcher et al.'s term-proximity term (module docstring)."""

    name = "bm25tp"
    positional = True

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        m = pairs.match(field)
        fi = m.field
        idf, avg = self.statistics(pairs, field)  # BM25's own: the proximity term saturates with the same K
        tp = np.zeros(pairs.n_pairs)
        if pairs.n_pairs:
            tp_scores(fi.positions, fi.pos_ptr, m.post, pairs.entry_ptr, pairs.group_ptr, pairs.qterm_ptr, idf,
                      m.doc_len, float(avg), float(p["k1"]), float(p["b"]), tp)
        return (self.bm25(pairs, field) + tp)[:, None]
