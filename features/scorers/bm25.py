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
``"atire"``            :math:`\ln(N / df)`                                   ATIRE (Trotman et al. 2014), bm25s
                                                                            ``atire``
``"bm25l"``            :math:`\ln((N + 1)/(df + 0.5))`                       BM25L's paper, rank_bm25 ``BM25L``, bm25s
                                                                            ``bm25l``
``"bm25plus"``         :math:`\ln((N + 1)/df)`                               BM25+'s paper, rank_bm25 ``BM25Plus``,
                                                                            bm25s ``bm25+``
=====================  ===================================================  ==========================================

In a field, ``doc_count`` says what :math:`N` and avgdl count (:func:`field_statistics`): ``"field"``, Lucene's, the
documents with a term in the field (its ``docCount``) and their mean length, as Elasticsearch, OpenSearch and Solr
score a field (where the exporter maps ``bm25`` onto a ``match`` query); ``"collection"``, every document of the
collection and the mean over all of them, as the references of the other variants (one text per document) count.
By default each variant's reference's: ``"field"`` for ``idf="lucene"``, else ``"collection"``; a feature-set
description records it, and one written before it was recorded (when every variant counted the collection) is
computed so. The two differ only where some documents have nothing in the field (CACM's abstracts: 1,617 of 3,204
documents have none).

A term that occurs in no document (:math:`df = 0`) has ``"atire"`` and ``"bm25plus"`` idf 0 (their formula is
undefined there; the term matches nothing, so only ``term_stats``'s ``idf`` shows it).

bm25s's ``lucene`` and ``robertson`` scores leave out the constant :math:`(k_1 + 1)`; they equal these divided by
:math:`(k_1 + 1)`, with ``doc_count="collection"``: bm25s counts every document in :math:`N` and avgdl, where the
``"lucene"`` default counts a field's documents as Lucene does (on Cranfield, whose ``all`` field is empty in 2 of
1,400 documents, the two differ by up to 2.6e-2 in a top 10). With ``idf="atire"`` this is ATIRE's BM25 as
Kamphuis et al. (2020) describe it, and equals bm25s ``method="atire"`` as it is (that one keeps the factor).
Document lengths are exact: Lucene (7 and later) stores each length in one byte, exact below 24 tokens and to 4
significant bits above, so Lucene's own ranking of longer documents differs slightly (Kamphuis et al.'s "accurate"
Lucene variant is the one computed here; on Cranfield the top 10 of 146 of 225 queries differ, MAP by 0.001).
A document without any query term scores 0; an empty field has length 0 (and ``avgdl = 0`` is treated as
:math:`|d|/\mathrm{avgdl} = 1`).

Lv and Zhai's lower-bounded variants are scorers of their own, with the same parameters plus ``delta``
(:math:`\delta`), the summand running over the query terms in the document (:math:`tf_{t,d} > 0`):

.. math::

    \mathrm{BM25L}(q, d) = \sum_{t \in q \cap d} w_q(t)\, \mathrm{idf}(t)\,
        \frac{(k_1 + 1)(c_{t,d} + \delta)}{k_1 + c_{t,d} + \delta}, \quad
        c_{t,d} = \frac{tf_{t,d}}{1 - b + b\, |d| / \mathrm{avgdl}}, \qquad
    \mathrm{BM25{+}}(q, d) = \sum_{t \in q \cap d} w_q(t)\, \mathrm{idf}(t) \left(
        \frac{(k_1 + 1)\, tf_{t,d}}{tf_{t,d} + k_1 \left(1 - b + b\, \frac{|d|}{\mathrm{avgdl}}\right)} + \delta\right)

(``bm25l``: :math:`\delta = 0.5`, idf ``"bm25l"`` by default; ``bm25plus``: :math:`\delta = 1`, idf ``"bm25plus"``;
``k1`` 1.2 and ``b`` 0.75 as BM25's). Where the references differ from the papers:

- bm25s (``method="bm25l"`` / ``"bm25+"``) also gives every query term *absent* from the document its
  :math:`tf = 0` value, :math:`\mathrm{idf}(t)\,(k_1 + 1)\,\delta / (k_1 + \delta)` for BM25L and
  :math:`\mathrm{idf}(t)\,\delta` for BM25+ (its "non-occurrence" array), and leaves out nothing else: its scores are
  these plus that sum over the absent query terms of the vocabulary. rank_bm25's ``BM25Plus`` does the same.
- rank_bm25's ``BM25L`` multiplies each term's BM25L value by :math:`tf_{t,d}` once more; it equals this one where
  every :math:`tf \le 1`.
- defaults: bm25s takes :math:`\delta = 0.5` for both; rank_bm25 0.5 for ``BM25L`` and 1 for ``BM25Plus`` (and
  :math:`k_1 = 1.5`); pass them explicitly to compare.

Terrier's BM25 exactly: ``idf="terrier", k1=1.2, k3=8.0, qtf_norm="max"`` and ``b`` as Terrier's ``bm25.b``
(0.75 by default), over an index built with :meth:`features.analysis.Analyzer.terrier`. On NPL with ``b=0.4`` the
first stage (:class:`features.retrieval.BM25Retriever`, top 1000) reaches MAP 0.2992, Terrier's published figure
(``tests/test_features_bm25.py``); without ``qtf_norm="max"`` it reaches 0.3000.

References
----------
S. E. Robertson, S. Walker, S. Jones, M. Hancock-Beaulieu, M. Gatford. Okapi at TREC-3. TREC 1994.
C. Kamphuis, A. de Vries, L. Boytsov, J. Lin. Which BM25 do you mean? A large-scale reproducibility study of
scoring variants. ECIR 2020.
A. Trotman, A. Puurula, B. Burgess. Improvements to BM25 and language models examined. ADCS 2014.
Y. Lv, C. Zhai. When documents are very long, BM25 fails! SIGIR 2011 (BM25L).
Y. Lv, C. Zhai. Lower-bounding term frequency normalization. CIKM 2011 (BM25+).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from features.index import FieldIndex
from features.pairs import PairSet
from features.scorers._registry import Scorer, divide_or_zero, is_number, register

__all__ = ["BM25", "BM25L", "BM25Plus", "BM25_IDF", "BM25_K_MAX", "BM25_K_WORDS", "DOC_COUNTS", "QTF_NORMS",
           "bm25_idf", "bm25_tf", "default_doc_count", "field_statistics", "query_weight"]

#: The largest k1 and k3 taken: (k1 + 1) * tf overflowed float64 at k1 = 1e308 (a feature of inf, said as a bug);
#: saturation-free BM25 is reached long before (k1 = 10 is large).
BM25_K_MAX = 1e9
BM25_K_WORDS = f"at most {BM25_K_MAX:g} (larger values overflow the arithmetic)"

BM25_IDF = ("lucene", "robertson", "robertson_floor", "okapi", "terrier", "atire", "bm25l", "bm25plus")
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
    >>> bm25_idf(np.array([1, 4, 0]), 4, "atire").round(4).tolist()    # ln(4/1), ln(4/4), unseen: 0
    [1.3863, 0.0, 0.0]
    """
    df = np.asarray(df, dtype=np.float64)
    if variant == "lucene":
        return np.log1p((n_docs - df + 0.5) / (df + 0.5))
    if variant == "bm25l":
        return np.log((n_docs + 1.0) / (df + 0.5))
    if variant in ("atire", "bm25plus"):
        top = n_docs + (1.0 if variant == "bm25plus" else 0.0)
        return np.log(top / np.where(df > 0, df, 1.0), where=df > 0, out=np.zeros(df.shape))  # df = 0: 0
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

    ``tf = 0`` gives 0 whatever the other values: with ``k1 = 0`` (binary tf, Robertson & Zaragoza 2009: every
    ``tf > 0`` gives 1) and with ``b = 1`` for an empty field the formula would be 0/0 there.

    Examples
    --------
    >>> float(bm25_tf(2, 10, 10.0, 1.2, 0.75))   # 2.2 * 2 / (2 + 1.2)
    1.375
    >>> bm25_tf([0, 1, 3], 10, 10.0, 0.0, 0.75).tolist()   # k1 = 0: 1 * tf / tf for tf > 0, and 0 for tf = 0
    [0.0, 1.0, 1.0]
    """
    tf = np.asarray(tf, dtype=np.float64)
    rel = np.asarray(doc_len, dtype=np.float64) / avg_len if avg_len > 0 else 1.0
    num = (k1 + 1.0) * tf
    den = tf + k1 * (1.0 - b + b * rel)
    return divide_or_zero(num, den, tf > 0)  # tf <= 0 (BM25TP's accumulators can be negative): 0


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


#: How BM25 counts a field's documents: ``"field"``, the documents with a term in it (Lucene's ``docCount``), their
#: mean length as avgdl; ``"collection"``, every document of the collection (Terrier, bm25s, rank_bm25).
DOC_COUNTS = ("field", "collection")


def default_doc_count(variant: str) -> str:
    """The ``doc_count`` an idf variant's reference uses: ``"field"`` for ``"lucene"``, else ``"collection"``."""
    return "field" if variant == "lucene" else "collection"


def field_statistics(fi: FieldIndex, n_docs: int, doc_count: str) -> tuple[int, float]:
    """BM25's :math:`N` and avgdl in a field: with ``doc_count="field"`` Lucene's (the documents with a term in the
    field, its ``docCount``, and their mean length), with ``"collection"`` every document of the collection (Terrier,
    bm25s, rank_bm25, which have one text per document). They differ only where some documents have nothing in the
    field.

    Examples
    --------
    >>> from features import Analyzer, InvertedIndex
    >>> from features.collections import Collection
    >>> ix = InvertedIndex.build(Collection(("a", "b", "c"), {"body": ["x y", "", "y z w"]}), Analyzer(stopwords=None))
    >>> field_statistics(ix.field("body"), ix.n_docs, "field"), field_statistics(ix.field("body"), ix.n_docs,
    ...                                                                          "collection")
    ((2, 2.5), (3, 1.6666666666666667))
    """
    if doc_count == "field":
        return fi.doc_count, (fi.total_len / fi.doc_count if fi.doc_count else 0.0)
    if doc_count != "collection":
        raise ValueError(f"doc_count must be one of {DOC_COUNTS}, got {doc_count!r}")
    return n_docs, fi.avg_len


def field_idf(pairs: PairSet, field: str, variant: str, epsilon: float = 0.25,
              doc_count: str | None = None) -> NDArray[np.float64]:
    """BM25 IDF of every flat query term of ``pairs`` in ``field`` (memoised in ``pairs``, read-only); ``doc_count``
    (:func:`field_statistics`; None: the variant's own, :func:`default_doc_count`) counts its N."""
    doc_count = default_doc_count(variant) if doc_count is None else doc_count

    def compute() -> NDArray[np.float64]:
        fi = pairs.index.field(field)
        n, _ = field_statistics(fi, pairs.index.n_docs, doc_count)
        return bm25_idf(pairs.df(field), n, variant, epsilon=epsilon, vocab_df=fi.df if variant == "okapi" else None)

    key = ("bm25_idf", pairs.index.aliases.get(field, field), variant, float(epsilon) if variant == "okapi" else None,
           doc_count)
    return pairs.cached(key, compute)


class _BM25Params(Scorer):
    defaults = {"k1": 1.2, "b": 0.75, "idf": "lucene", "k3": None, "epsilon": 0.25, "qtf_norm": "none",
                "doc_count": None}

    def validate(self) -> None:
        p = self.params
        self._check(is_number(p["k1"]) and p["k1"] >= 0, "k1", "a finite number >= 0")
        self._check(p["k1"] <= BM25_K_MAX, "k1", BM25_K_WORDS)
        self._check(is_number(p["b"]) and 0 <= p["b"] <= 1, "b", "in [0, 1]")
        self._check(p["idf"] in BM25_IDF, "idf", f"one of {BM25_IDF}")
        self._check(p["k3"] is None or (is_number(p["k3"]) and math.isfinite(p["k3"]) and p["k3"] >= 0), "k3",
                    "None or a finite number >= 0")
        self._check(p["k3"] is None or p["k3"] <= BM25_K_MAX, "k3", BM25_K_WORDS)
        self._check(is_number(p["epsilon"]) and p["epsilon"] >= 0, "epsilon", "a finite number >= 0")
        self._check(p["qtf_norm"] in QTF_NORMS, "qtf_norm", f"one of {QTF_NORMS}")
        self._refuse_given(p["idf"] != "okapi", "epsilon", "it is the floor of idf='okapi' and no other idf has one")
        self._check(p["doc_count"] is None or p["doc_count"] in DOC_COUNTS, "doc_count", f"one of {DOC_COUNTS}")
        if p["doc_count"] is None:  # the idf's reference's (recorded so: a description says how it was computed)
            p["doc_count"] = default_doc_count(p["idf"])

    def statistics(self, pairs: PairSet, field: str) -> tuple[NDArray[np.float64], float]:
        """The idf of every flat query term and the avgdl in ``field``, counted by ``doc_count``."""
        p = self.params
        _, avg = field_statistics(pairs.index.field(field), pairs.index.n_docs, p["doc_count"])
        return field_idf(pairs, field, p["idf"], p["epsilon"], p["doc_count"]), avg

    def bm25(self, pairs: PairSet, field: str) -> NDArray[np.float64]:
        """BM25 of each pair (memoised in ``pairs`` by field and parameters: ``bm25tp`` adds to the same sum)."""
        p = self.params

        def compute() -> NDArray[np.float64]:
            m = pairs.match(field)
            idf, avg = self.statistics(pairs, field)
            w = query_weight(pairs.qtf, p["k3"], p["qtf_norm"], pairs.qterm_ptr) * idf
            return m.pair_sum(w[m.entry_qterm] * bm25_tf(m.tf_float, m.entry_doc_len, avg, p["k1"], p["b"]))

        key = ("bm25", pairs.index.aliases.get(field, field),
               *(repr(p[k]) for k in ("k1", "b", "idf", "k3", "qtf_norm", "epsilon", "doc_count")))
        return pairs.cached(key, compute)


@register
class BM25(_BM25Params):
    """Okapi BM25 of a field (module docstring); parameters ``k1``, ``b``, ``idf``, ``k3``, ``qtf_norm``, ``doc_count``
    and ``epsilon`` (with ``idf="okapi"`` only)."""

    name = "bm25"

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        return self.bm25(pairs, field)[:, None]


class _LowerBounded(_BM25Params):
    """BM25L and BM25+ (module docstring): BM25's parameters plus ``delta``, the paper's idf by default."""

    defaults = {**_BM25Params.defaults, "delta": 0.5}

    def validate(self) -> None:
        super().validate()
        self._check(is_number(self.params["delta"]) and self.params["delta"] >= 0, "delta", "a finite number >= 0")

    def term_value(self, tf: NDArray, doc_len: NDArray, avg_len: float) -> NDArray[np.float64]:
        raise NotImplementedError

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        m = pairs.match(field)
        idf, avg = self.statistics(pairs, field)
        w = query_weight(pairs.qtf, p["k3"], p["qtf_norm"], pairs.qterm_ptr) * idf
        tf = m.tf_float
        val = np.zeros(tf.shape[0])
        has = tf > 0  # the sum runs over the query terms in the document
        val[has] = self.term_value(tf[has], m.entry_doc_len[has], avg)
        return m.pair_sum(w[m.entry_qterm] * val)[:, None]


@register
class BM25L(_LowerBounded):
    """BM25L (Lv & Zhai, SIGIR 2011; module docstring): BM25 with the normalised tf shifted by ``delta`` (0.5);
    parameters as ``bm25`` plus ``delta``, idf ``"bm25l"`` by default.

    Examples
    --------
    >>> import math
    >>> from features import Analyzer, InvertedIndex, extract
    >>> from features.collections import Collection
    >>> ix = InvertedIndex.build(Collection(("a", "b"), {"body": ["x x y", "y"]}), Analyzer(stopwords=None))
    >>> got = extract(ix, {"1": "x"}, {"1": ["a", "b"]}, [{"scorer": "bm25l", "fields": ["body"]}]).X[:, 0]
    >>> c = 2 / (1 - 0.75 + 0.75 * 3 / 2)   # tf 2, |d| 3, avgdl 2
    >>> by_hand = math.log(3 / 1.5) * 2.2 * (c + 0.5) / (1.2 + c + 0.5)
    >>> bool(abs(got[0] - by_hand) < 1e-6), float(got[1])
    (True, 0.0)
    """

    name = "bm25l"
    defaults = {**_LowerBounded.defaults, "idf": "bm25l", "delta": 0.5}

    def term_value(self, tf: NDArray, doc_len: NDArray, avg_len: float) -> NDArray[np.float64]:
        k1, b, delta = float(self.params["k1"]), float(self.params["b"]), float(self.params["delta"])
        rel = doc_len / avg_len if avg_len > 0 else 1.0
        c = tf / (1.0 - b + b * rel)  # tf > 0, so |d| > 0 and the normaliser is > 0
        return (k1 + 1.0) * (c + delta) / (k1 + c + delta)


@register
class BM25Plus(_LowerBounded):
    """BM25+ (Lv & Zhai, CIKM 2011; module docstring): BM25's term value plus ``delta`` (1.0) for every query term
    in the document; parameters as ``bm25`` plus ``delta``, idf ``"bm25plus"`` by default."""

    name = "bm25plus"
    defaults = {**_LowerBounded.defaults, "idf": "bm25plus", "delta": 1.0}

    def term_value(self, tf: NDArray, doc_len: NDArray, avg_len: float) -> NDArray[np.float64]:
        p = self.params
        return bm25_tf(tf, doc_len, avg_len, float(p["k1"]), float(p["b"])) + float(p["delta"])
