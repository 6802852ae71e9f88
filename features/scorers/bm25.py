r"""Okapi BM25 (Robertson et al., 1994; Robertson & Zaragoza, 2009) and its IDF variants.

.. math::

    \mathrm{BM25}(q, d) = \sum_{t \in q} w_q(t)\; \mathrm{idf}(t)\;
        \frac{(k_1 + 1)\, tf_{t,d}}{tf_{t,d} + k_1 \left(1 - b + b\, \frac{|d|}{\mathrm{avgdl}}\right)}

with :math:`w_q(t) = qtf_t` (each query occurrence counts), or Robertson's saturated
:math:`(k_3 + 1)\,qtf_t / (k_3 + qtf_t)` when ``k3`` is given. With ``qtf_norm="max"``, :math:`qtf_t` is first
divided by the largest :math:`qtf` of the query, as Terrier does before any weighting model sees the query
(``MatchingQueryTerms.normaliseTermWeights``). IDF variants (Kamphuis et al., ECIR 2020), with :math:`N` documents
and :math:`df_t` of them containing ``t``:

=====================  ===================================================  ==========================================
``idf=``               formula                                              as in
=====================  ===================================================  ==========================================
``"lucene"``           :math:`\ln(1 + (N - df + 0.5)/(df + 0.5))`           Lucene >= 6, Anserini, bm25s ``lucene``
``"robertson"``        :math:`\ln((N - df + 0.5)/(df + 0.5))`, may be < 0    Robertson & Sparck Jones; rank_bm25 before
                                                                            its floor
``"robertson_floor"``  the same, floored at 0                               bm25s ``robertson``
``"okapi"``            ``robertson``, negative values replaced by           rank_bm25 ``BM25Okapi``
                       :math:`\epsilon \cdot` mean idf over the vocabulary
``"terrier"``          :math:`\log_2((N - df + 0.5)/(df + 0.5))`             Terrier's ``BM25`` (with ``k3=8``,
                                                                            ``qtf_norm="max"``)
=====================  ===================================================  ==========================================

bm25s scores leave out the constant :math:`(k_1 + 1)`; they equal these divided by :math:`(k_1 + 1)`.
A document without any query term scores 0; an empty field has length 0 (and ``avgdl = 0`` is treated as
:math:`|d|/\mathrm{avgdl} = 1`).

Terrier's BM25 exactly: ``idf="terrier", k1=1.2, k3=8.0, qtf_norm="max"`` and ``b`` as Terrier's ``bm25.b``
(0.75 by default), over an index built with :meth:`features.analysis.Analyzer.terrier`. On NPL with ``b=0.4`` the
first stage (:class:`features.retrieval.BM25Retriever`, top 1000) reaches MAP 0.2992, Terrier's published figure
(``tests/test_features_bm25.py``); without ``qtf_norm="max"`` it reaches 0.3000.

References
----------
S. E. Robertson, S. Walker, S. Jones, M. Hancock-Beaulieu, M. Gatford. Okapi at TREC-3. TREC 1994.
C. Kamphuis, A. de Vries, L. Boytsov, J. Lin. Which BM25 do you mean? A large-scale reproducibility study of
scoring variants. ECIR 2020.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from features.pairs import PairSet
from features.scorers._registry import Scorer, register

__all__ = ["BM25", "BM25_IDF", "QTF_NORMS", "bm25_idf", "bm25_tf", "query_weight"]

BM25_IDF = ("lucene", "robertson", "robertson_floor", "okapi", "terrier")
QTF_NORMS = ("none", "max")


def bm25_idf(
    df: NDArray, n_docs: int, variant: str = "lucene", *, epsilon: float = 0.25, vocab_df: NDArray | None = None
) -> NDArray[np.float64]:
    """BM25 IDF of each document frequency (see the module table).

    ``vocab_df`` (the df of every vocabulary term) is needed for ``"okapi"``, whose floor is epsilon times the
    mean IDF over the vocabulary terms that occur.

    Examples
    --------
    >>> import numpy as np
    >>> bm25_idf(np.array([1, 3]), 4, "robertson").round(4).tolist()   # ln(3.5/1.5), ln(1.5/3.5)
    [0.8473, -0.8473]
    >>> bm25_idf(np.array([1, 3]), 4, "lucene").round(4).tolist()      # ln(1 + 3.5/1.5), ln(1 + 1.5/3.5)
    [1.204, 0.3567]
    """
    df = np.asarray(df, dtype=np.float64)
    if variant == "lucene":
        return np.log1p((n_docs - df + 0.5) / (df + 0.5))
    raw = np.log((n_docs - df + 0.5) / (df + 0.5))
    if variant == "robertson":
        return raw
    if variant == "robertson_floor":
        return np.maximum(raw, 0.0)
    if variant == "terrier":
        return raw / np.log(2.0)
    if variant == "okapi":
        if vocab_df is None:
            raise ValueError("idf='okapi' needs vocab_df (document frequencies of the whole vocabulary)")
        v = np.asarray(vocab_df, dtype=np.float64)
        v = v[v > 0]
        mean = float(np.log((n_docs - v + 0.5) / (v + 0.5)).mean()) if v.size else 0.0
        return np.where(raw < 0, epsilon * mean, raw)
    raise ValueError(f"idf must be one of {BM25_IDF}, got {variant!r}")


def bm25_tf(
    tf: NDArray, doc_len: NDArray, avg_len: float, k1: float, b: float
) -> NDArray[np.float64]:
    """The saturated, length-normalised term frequency :math:`(k_1+1)\\,tf / (tf + k_1(1-b+b|d|/avgdl))`.

    Examples
    --------
    >>> float(bm25_tf(2, 10, 10.0, 1.2, 0.75))   # 2.2 * 2 / (2 + 1.2)
    1.375
    """
    tf = np.asarray(tf, dtype=np.float64)
    rel = np.asarray(doc_len, dtype=np.float64) / avg_len if avg_len > 0 else 1.0
    return (k1 + 1.0) * tf / (tf + k1 * (1.0 - b + b * rel))


def query_weight(qtf: NDArray, k3: float | None, qtf_norm: str = "none",
                 qterm_ptr: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
    """Query-term weights: ``qtf``, or Robertson's :math:`(k_3+1)\\,qtf/(k_3+qtf)` when ``k3`` is given, after
    dividing ``qtf`` by the query's largest ``qtf`` when ``qtf_norm="max"`` (Terrier).

    ``qterm_ptr`` delimits the queries of a flat ``qtf`` (query ``q`` owns ``qtf[qterm_ptr[q]:qterm_ptr[q + 1]]``);
    without it ``qtf`` is one query.

    Examples
    --------
    >>> query_weight([2, 1], 8.0, "max").round(4).tolist()    # kf = 1, 0.5: 9 * 1 / 9, 9 * 0.5 / 8.5
    [1.0, 0.5294]
    >>> query_weight([2, 1], 8.0).round(4).tolist()           # 9 * 2 / 10, 9 * 1 / 9
    [1.8, 1.0]
    """
    qtf = np.asarray(qtf, dtype=np.float64)
    if qtf_norm == "max":
        if qterm_ptr is None:
            qtf = qtf / qtf.max() if qtf.size else qtf
        else:
            sizes = np.diff(qterm_ptr)
            top = np.zeros(sizes.shape[0])
            has = sizes > 0
            if has.any():
                top[has] = np.maximum.reduceat(qtf, qterm_ptr[:-1][has])
            qtf = qtf / np.repeat(top, sizes) if qtf.size else qtf
    elif qtf_norm != "none":
        raise ValueError(f"qtf_norm must be one of {QTF_NORMS}, got {qtf_norm!r}")
    return qtf if k3 is None else (k3 + 1.0) * qtf / (k3 + qtf)


def field_idf(pairs: PairSet, field: str, variant: str, epsilon: float = 0.25) -> NDArray[np.float64]:
    """BM25 IDF of every flat query term of ``pairs`` in ``field``."""
    fi = pairs.index.field(field)
    return bm25_idf(pairs.df(field), pairs.index.n_docs, variant, epsilon=epsilon,
                    vocab_df=fi.df if variant == "okapi" else None)


class _BM25Params(Scorer):
    defaults = {"k1": 1.2, "b": 0.75, "idf": "lucene", "k3": None, "epsilon": 0.25, "qtf_norm": "none"}

    def validate(self) -> None:
        p = self.params
        self._check(isinstance(p["k1"], (int, float)) and p["k1"] >= 0, "k1", "a number >= 0")
        self._check(isinstance(p["b"], (int, float)) and 0 <= p["b"] <= 1, "b", "in [0, 1]")
        self._check(p["idf"] in BM25_IDF, "idf", f"one of {BM25_IDF}")
        self._check(p["k3"] is None or (isinstance(p["k3"], (int, float)) and p["k3"] >= 0), "k3", "None or >= 0")
        self._check(p["qtf_norm"] in QTF_NORMS, "qtf_norm", f"one of {QTF_NORMS}")
        self._refuse_given(p["idf"] != "okapi", "epsilon", "it is the floor of idf='okapi' and no other idf has one")

    def bm25(self, pairs: PairSet, field: str) -> NDArray[np.float64]:
        p = self.params
        m = pairs.match(field)
        idf = field_idf(pairs, field, p["idf"], p["epsilon"])
        w = query_weight(pairs.qtf, p["k3"], p["qtf_norm"], pairs.qterm_ptr) * idf
        dl = m.doc_len[m.entry_pair]
        return m.pair_sum(w[m.entry_qterm] * bm25_tf(m.tf, dl, m.field.avg_len, p["k1"], p["b"]))


@register
class BM25(_BM25Params):
    """Okapi BM25 of a field (module docstring); parameters ``k1``, ``b``, ``idf``, ``k3``, ``qtf_norm`` and
    ``epsilon`` (with ``idf="okapi"`` only)."""

    name = "bm25"

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        return self.bm25(pairs, field)[:, None]
