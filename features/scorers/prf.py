r"""Pseudo-relevance feedback scores as features: RM3 (Lavrenko & Croft, 2001; Abdul-Jaleel et al., 2004) and
Terrier's Bo1 query expansion (Amati, 2003).

For each query, the top ``fb_docs`` documents of a first ranking are taken as relevant, the query is expanded from
them, and every candidate is scored with the expanded query. The first ranking is chosen by ``fb_source``:

- ``"candidates"`` (default): the query's own candidates in first-stage rank order (``first_stage_rank``, else
  the order given). In ltrkit's pipeline the candidates are the BM25 first stage's top k, so this is feedback from
  a BM25 retrieval, as Anserini runs RM3, at no extra cost. Only the first stage's own candidates count: judged
  documents added after retrieval for training (``PairSet.added``, ``ltr features --add-judged``) are never
  feedback, or the labels would leak into the retrieved documents' features. A query with fewer candidates than
  ``fb_docs`` takes the ones it has;
- ``"retrieval"``: a retrieval over every document of the field with the original query (RM3: BM25 with
  Anserini's defaults, k1 = 0.9, b = 0.4, Lucene idf; Bo1: its own ``model``, as Terrier's QE does). Ties go to the
  document first in the collection.

Document statistics are those of the scored field (documents, lengths and collection frequencies).

**RM3.** With :math:`F` the feedback documents and the query likelihood
:math:`P(q \mid D) = \prod_{t \in q} P(t \mid D)^{qtf_t}`, Dirichlet-smoothed
(:math:`P(t \mid D) = (tf_{t,D} + \mu\, cf_t / |C|) / (|D| + \mu)`), the relevance model (RM1) is

.. math::

    P(w \mid R) \propto \sum_{D \in F} \frac{tf_{w,D}}{|D|}\; P(q \mid D)

over the terms of the feedback documents; the ``fb_terms`` most probable terms are kept (ties: lower term id, and
term ids number the terms in the order the collection's documents first hold them, so the same collection with
its documents reordered can keep another of two tied terms: trial t64 saw up to 2% on Cranfield reversed) and
renormalised to :math:`\hat P(w \mid R)`, and RM3 interpolates with the maximum-likelihood query model:

.. math::

    P'(w \mid q) = \lambda\, \frac{qtf_w}{|q|} + (1 - \lambda)\, \hat P(w \mid R), \qquad
    \mathrm{RM3}(q, d) = \sum_w P'(w \mid q) \ln \frac{tf_{w,d} + \mu\, cf_w / |C|}{|d| + \mu}

(:math:`\lambda` = ``orig_weight``; the score is query likelihood / cross entropy with the expanded query, as
Indri's ``#weight(λ #combine(q) (1-λ) #weight(...))``). Query terms absent from the field are left out of
:math:`q` and :math:`|q|`; empty feedback documents are skipped. Indri's own RM weights each document by
:math:`P(q \mid D)^{1/|q|}` (its ``#combine`` averages the log probabilities); this module keeps the published
product. Defaults as Indri's: 10 documents, 10 terms, :math:`\lambda = 0.5`, :math:`\mu = 2500`.

**Bo1** (Terrier 5's ``QueryExpansion`` with ``DFRBagExpansionTerms`` and ``Bo1``, term for term). Query-term
weights start as :math:`qtf / \max qtf`. Each term of the feedback documents, occurring :math:`tf_x` times in them
and :math:`F` times in the collection of :math:`N` documents, gets

.. math::

    w(t) = tf_x \log_2 \frac{1 + P_n}{P_n} + \log_2 (1 + P_n), \qquad P_n = F / N,

except that, with at least ``min_docs`` (2) feedback documents, a term found in fewer of them than that and not in
the query gets 0. Weights are divided by a normaliser: with ``beta=None`` (Terrier's default, parameter-free) the
Bo1 weight of the best term with :math:`F` replaced by its :math:`tf_x`; with a number, the best weight, and then
multiplied by ``beta`` (Rocchio's). The :math:`\max(\text{fb\_terms}, |q|)` best terms (ties: lower term id) have
their normalised weight added to their query weight (a new term starts at 0), and the expanded query, its weights
divided by the largest, is scored with ``model``: Terrier's BM25 (``"bm25"``: log2 Robertson idf, ``k1``, ``b``,
:math:`k_3 = 8`) or DPH (``"dph"``, :mod:`features.scorers.dfr`). Defaults as Terrier's: 3 documents, 10 terms.
Feedback documents all empty in the scored field (candidates from a first stage on another field) leave nothing
to expand with: the query is scored unexpanded, as Terrier's QE does with no feedback document (Terrier's own
feedback documents come from a retrieval on the field, so they are never empty; RM3 above skips empty ones alike).
On NPL, DPH with Bo1 from a DPH retrieval gives MAP 0.2960 where Terrier's quick-start guide states 0.2992 (the
same figure it states for BM25; DPH alone, 0.2836, is reproduced to its four decimals): see
``tests/test_features_prf.py``.

References
----------
V. Lavrenko, W. B. Croft. Relevance-based language models. SIGIR 2001.
N. Abdul-Jaleel, J. Allan, W. B. Croft, F. Diaz, L. Larkey, X. Li, M. D. Smucker, C. Wade. UMass at TREC 2004:
Novelty and HARD. TREC 2004.
G. Amati. Probability models for information retrieval based on divergence from randomness. PhD thesis, University
of Glasgow, 2003 (Bo1: Bose-Einstein statistics).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from features.index import FieldIndex, QueryTerms
from features.pairs import Match, PairSet, sum_by
from features.scorers._registry import Scorer, is_number, register
from features.scorers.bm25 import (
    BM25_K_MAX,
    BM25_K_WORDS,
    DOC_COUNTS,
    bm25_idf,
    bm25_tf,
    field_statistics,
    query_weight,
)
from features.scorers.dfr import dph_term

__all__ = ["Bo1", "FB_SOURCES", "RM3", "bo1_expand", "feedback_documents", "forward_index", "rm3_expand",
           "top_documents"]

FB_SOURCES = ("candidates", "retrieval")
_BO1_MODELS = ("bm25", "dph")
_TERRIER_K3 = 8.0  # Terrier's BM25.java fixes k_3 = 8


def forward_index(fi: FieldIndex) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int32]]:
    """The field's postings by document (Terrier's "direct index"): ``(doc_ptr, terms, tf)``, document ``d``
    holding ``terms[doc_ptr[d]:doc_ptr[d + 1]]`` (ascending) ``tf[...]`` times; built once per field."""

    def build() -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int32]]:
        order = np.argsort(fi.docs, kind="stable")  # stable: terms stay ascending within a document
        ptr = np.zeros(fi.n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(fi.docs, minlength=fi.n_docs), out=ptr[1:])
        return ptr, fi.posting_terms[order], fi.tf[order]

    return fi.derived(("forward_index",), build)


def _term_tf(fwd: tuple, doc: int, terms: NDArray) -> NDArray[np.float64]:
    """tf of each of ``terms`` in document ``doc``, from the forward index (its terms are ascending)."""
    ptr, ft, ftf = fwd
    dt = ft[ptr[doc]:ptr[doc + 1]]
    out = np.zeros(len(terms))
    if dt.size:
        j = np.minimum(np.searchsorted(dt, terms), dt.size - 1)
        hit = dt[j] == terms
        out[hit] = ftf[ptr[doc]:ptr[doc + 1]][j[hit]]
    return out


def _top(scores: NDArray[np.float64], docs: NDArray, n: int) -> NDArray[np.int32]:
    order = np.lexsort((docs, -scores))  # best first; ties: lower document index first
    return docs[order[:n]].astype(np.int32)


def top_documents(fi: FieldIndex, n_docs: int, terms: NDArray, weights: NDArray, n: int,
                  contrib: Callable[[NDArray, NDArray, NDArray], NDArray]) -> NDArray[np.int32]:
    """Top ``n`` documents holding a term of ``terms``, scored by ``sum_t weights[t] * contrib(t, tf, docs)``.

    ``contrib`` gets every posting of the query terms at once, term by term: ``t`` the term id of each, ``tf`` its
    frequency (float64), ``docs`` its document. A document's sum adds its terms in query order (one NumPy pass
    over all the postings; a pass per term cost a reranking call its time in the fixed costs of small calls)."""
    terms = np.asarray(terms)
    keep = terms >= 0
    t = terms[keep].astype(np.int64)
    if t.size == 0:
        return np.zeros(0, dtype=np.int32)
    starts, ends = fi.indptr[t], fi.indptr[t + 1]
    sizes = ends - starts
    idx = np.arange(int(sizes.sum()), dtype=np.int64) + np.repeat(starts - np.cumsum(sizes) + sizes, sizes)
    d = fi.docs[idx]
    vals = np.repeat(np.asarray(weights, dtype=np.float64)[keep], sizes) * contrib(
        np.repeat(t, sizes), fi.tf[idx].astype(np.float64), d)
    acc = sum_by(d, vals, n_docs)  # in posting order: each document's terms in query order
    hit = np.zeros(n_docs, dtype=bool)
    hit[d] = True
    docs = np.nonzero(hit)[0]
    return _top(acc[docs], docs, n)


def feedback_documents(pairs: PairSet, q: int, n: int, source: str,
                       first_pass: Callable[[QueryTerms], NDArray[np.int32]]) -> NDArray[np.int32]:
    """The ``n`` feedback documents of query ``q`` (module docstring, ``fb_source``); with ``"candidates"``, the
    pairs marked ``added`` are left out."""
    if source == "retrieval":
        return first_pass(pairs.queries[q])
    a, b = pairs.group_ptr[q], pairs.group_ptr[q + 1]
    retrieved = ~pairs.added[a:b]  # judged documents added for training are not the first stage's
    docs = pairs.docs[a:b][retrieved]
    if pairs.first_stage_rank is not None:
        docs = docs[np.argsort(pairs.first_stage_rank[a:b][retrieved], kind="stable")]
    _, first = np.unique(docs, return_index=True)  # a document listed twice counts once
    return docs[np.sort(first)][:n]


# -- RM3 -------------------------------------------------------------------------------------------------------------
def rm3_expand(fi: FieldIndex, query: QueryTerms, fb: NDArray, *, fb_terms: int = 10, orig_weight: float = 0.5,
               mu: float = 2500.0) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """RM3's expanded query model :math:`P'(w \\mid q)` (module docstring): term ids (ascending) and weights
    (summing to 1). Empty when no query term occurs in the field."""
    cf_all = fi.cf
    size = float(fi.total_len)
    ok = (query.ids >= 0)
    ok[ok] = cf_all[query.ids[ok]] > 0
    qids = query.ids[ok].astype(np.int64)
    qtf = query.qtf[ok].astype(np.float64)
    if qids.size == 0:
        return np.zeros(0, np.int32), np.zeros(0)
    fwd = forward_index(fi)
    pc = cf_all[qids] / size
    loglik, models = [], []
    for d in np.asarray(fb).tolist():
        dl = float(fi.doc_len[d])
        if dl == 0:
            continue  # an empty document has no term distribution
        loglik.append(float(np.sum(qtf * np.log((_term_tf(fwd, d, qids) + mu * pc) / (dl + mu)))))
        ptr, ft, ftf = fwd
        models.append((ft[ptr[d]:ptr[d + 1]], ftf[ptr[d]:ptr[d + 1]] / dl))
    rel: dict[int, float] = {}
    if models:
        ll = np.array(loglik)
        weight = np.exp(ll - ll.max())  # P(q|D) up to a common factor, which the renormalisation removes
        terms = np.concatenate([t for t, _ in models])
        probs = np.concatenate([w * p for w, (_, p) in zip(weight, models)])
        uniq, inv = np.unique(terms, return_inverse=True)
        p_rel = sum_by(inv, probs)
        keep = np.lexsort((uniq, -p_rel))[:fb_terms]
        keep = keep[p_rel[keep] > 0]
        if keep.size:
            rel = dict(zip(uniq[keep].tolist(), (p_rel[keep] / p_rel[keep].sum()).tolist()))
    q_ml = qtf / qtf.sum()
    lam = orig_weight if rel else 1.0  # no feedback (no document, or only empty ones): the original query model
    model = {t: lam * f for t, f in zip(qids.tolist(), q_ml.tolist())}
    for t, pr in rel.items():
        model[t] = model.get(t, 0.0) + (1.0 - lam) * pr
    terms = np.array(sorted(model), dtype=np.int32)
    return terms, np.array([model[t] for t in terms.tolist()])


# -- Bo1 -------------------------------------------------------------------------------------------------------------
def bo1_expand(fi: FieldIndex, n_docs: int, query: QueryTerms, fb: NDArray, *, fb_terms: int = 10, min_docs: int = 2,
               beta: float | None = None) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """Terrier's Bo1-expanded query (module docstring): term ids (ascending) and their weights before the final
    division by the largest (Terrier logs these as ``NEWQUERY``). Terms outside the vocabulary are left out.

    Without feedback terms (no feedback document, or only documents empty in this field: an empty feedback bag)
    the query is returned unexpanded, its weights ``qtf / max qtf``, as Terrier's ``QueryExpansion`` leaves a
    query without feedback documents."""
    ok = query.ids >= 0
    kf = query.qtf.astype(np.float64) / (query.qtf.max() if query.qtf.size else 1.0)
    q = dict(zip(query.ids[ok].tolist(), kf[ok].tolist()))

    def as_arrays() -> tuple[NDArray[np.int32], NDArray[np.float64]]:
        terms = np.array(sorted(q), dtype=np.int32)
        return terms, np.array([q[t] for t in terms.tolist()])

    fb = np.asarray(fb)
    if fb.size == 0 or not q:
        return as_arrays()
    ptr, ft, ftf = forward_index(fi)
    idx = np.concatenate([np.arange(ptr[d], ptr[d + 1]) for d in fb.tolist()])
    if idx.size == 0:  # every feedback document is empty in this field: an empty bag, nothing to expand with
        return as_arrays()
    uniq, inv = np.unique(ft[idx], return_inverse=True)
    tfx = sum_by(inv, ftf[idx])
    fbdf = np.bincount(inv)  # a term appears once per document in the forward index
    p_n = fi.cf[uniq] / n_docs
    w = tfx * np.log2((1.0 + p_n) / p_n) + np.log2(1.0 + p_n)
    if fb.size >= min_docs:
        w[(fbdf < min_docs) & ~np.isin(uniq, query.ids[ok])] = 0.0
    best = int(np.lexsort((uniq, -w))[0])
    if beta is None:  # Terrier's parameter-free normaliser: Bo1 of the best term with F = its tf_x
        m = tfx[best]
        f = m / n_docs
        normaliser, scale = (m * np.log((1.0 + f) / f) + np.log(1.0 + f)) / np.log(2.0), 1.0
    else:
        normaliser, scale = w[best], float(beta)
    if normaliser > 0:
        n_sel = max(fb_terms, query.ids.shape[0])
        for j in np.lexsort((uniq, -w))[:n_sel].tolist():
            t = int(uniq[j])
            q[t] = q.get(t, 0.0) + scale * w[j] / normaliser
    return as_arrays()


# -- scorers ---------------------------------------------------------------------------------------------------------
class _PRF(Scorer):
    def validate(self) -> None:
        p = self.params
        for k in ("fb_docs", "fb_terms"):
            self._check(isinstance(p[k], int) and not isinstance(p[k], bool) and p[k] >= 1, k, "an integer >= 1")
        self._check(p["fb_source"] in FB_SOURCES, "fb_source", f"one of {FB_SOURCES}")

    def _expanded(self, pairs: PairSet, expand: Callable, first_pass: Callable
                  ) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
        """Expanded queries as flat arrays: ``(term_ptr, term_ids, weights)``."""
        ptr = np.zeros(pairs.n_queries + 1, dtype=np.int64)
        ids, ws = [], []
        for q in range(pairs.n_queries):
            fb = feedback_documents(pairs, q, int(self.params["fb_docs"]), self.params["fb_source"], first_pass)
            t, w = expand(pairs.queries[q], fb)
            ids.append(t)
            ws.append(w)
            ptr[q + 1] = ptr[q] + t.shape[0]
        if not ids:
            return ptr, np.zeros(0, np.int32), np.zeros(0)
        return ptr, np.concatenate(ids).astype(np.int32), np.concatenate(ws).astype(np.float64)


@register
class RM3(_PRF):
    """RM3 relevance-model expansion scored by Dirichlet query likelihood (module docstring); parameters
    ``fb_docs``, ``fb_terms``, ``orig_weight``, ``mu``, ``fb_source``, ``doc_count`` (the first pass's BM25
    statistics, :func:`features.scorers.bm25.field_statistics`)."""

    name = "rm3"
    defaults = {"fb_docs": 10, "fb_terms": 10, "orig_weight": 0.5, "mu": 2500.0, "fb_source": "candidates",
                "doc_count": "field"}

    @classmethod
    def reads(cls, key: str, params) -> bool:
        """``doc_count`` counts the N and avgdl of the first pass (Anserini's BM25: Lucene's, ``"field"``), read with
        ``fb_source="retrieval"`` only."""
        if key == "doc_count":
            return params.get("fb_source", cls.defaults["fb_source"]) == "retrieval"
        return super().reads(key, params)

    def validate(self) -> None:
        super().validate()
        p = self.params
        self._check(is_number(p["orig_weight"]) and 0 <= p["orig_weight"] <= 1, "orig_weight", "in [0, 1]")
        self._check(is_number(p["mu"]) and p["mu"] > 0, "mu", "a finite number > 0")
        self._check(p["doc_count"] in DOC_COUNTS, "doc_count", f"one of {DOC_COUNTS}")
        # accepted and ignored, the LETOR header would say the columns were made with it (trial t59)
        self._refuse_given(p["fb_source"] != "retrieval", "doc_count",
                           "it counts the documents of the first pass's BM25, which fb_source='retrieval' alone runs")

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        fi = pairs.index.field(field)
        n_docs, mu = pairs.index.n_docs, float(p["mu"])

        n, avg = field_statistics(fi, n_docs, p["doc_count"])

        def first_pass(query: QueryTerms) -> NDArray[np.int32]:  # Anserini's BM25: k1 0.9, b 0.4, Lucene's
            return top_documents(fi, n_docs, query.ids, query.qtf.astype(np.float64), int(p["fb_docs"]),
                             lambda t, tf, d: bm25_idf(fi.df[t], n, "lucene") * bm25_tf(tf, fi.doc_len[d], avg,
                                                                                          0.9, 0.4))

        def expand(query: QueryTerms, fb: NDArray) -> tuple[NDArray, NDArray]:
            return rm3_expand(fi, query, fb, fb_terms=int(p["fb_terms"]), orig_weight=float(p["orig_weight"]), mu=mu)

        ptr, ids, w = self._expanded(pairs, expand, first_pass)
        m = pairs.match_terms(field, ptr, ids)
        pc = fi.cf[ids[m.entry_qterm]] / float(fi.total_len) if m.tf.size else np.zeros(0)
        val = w[m.entry_qterm] * np.log((m.tf + mu * pc) / (m.doc_len[m.entry_pair] + mu))
        return m.pair_sum(val)[:, None]


@register
class Bo1(_PRF):
    """Terrier's Bo1 query expansion scored by Terrier's BM25 or DPH (module docstring); parameters ``fb_docs``,
    ``fb_terms``, ``min_docs``, ``beta``, ``model``, ``k1`` and ``b`` (BM25 only), ``fb_source``."""

    name = "bo1"
    defaults = {"fb_docs": 3, "fb_terms": 10, "min_docs": 2, "beta": None, "model": "bm25", "k1": 1.2, "b": 0.75,
                "fb_source": "candidates"}

    def validate(self) -> None:
        super().validate()
        p = self.params
        self._check(isinstance(p["min_docs"], int) and not isinstance(p["min_docs"], bool) and p["min_docs"] >= 0,
                    "min_docs", "an integer >= 0")
        self._check(p["beta"] is None or (is_number(p["beta"]) and p["beta"] > 0), "beta",
                    "None (parameter-free) or a finite number > 0")
        self._check(p["model"] in _BO1_MODELS, "model", f"one of {_BO1_MODELS}")
        self._check(is_number(p["k1"]) and p["k1"] >= 0, "k1", "a finite number >= 0")
        self._check(p["k1"] <= BM25_K_MAX, "k1", BM25_K_WORDS)
        self._check(is_number(p["b"]) and 0 <= p["b"] <= 1, "b", "in [0, 1]")
        for k in ("k1", "b"):
            self._refuse_given(p["model"] == "dph", k, "DPH is parameter-free; k1 and b are BM25's")

    def _term_scores(self, fi: FieldIndex, n_docs: int, terms: NDArray, tf: NDArray, dl: NDArray) -> NDArray:
        p = self.params
        if p["model"] == "dph":
            return dph_term(tf, dl, fi.avg_len, n_docs, fi.cf[terms])
        idf = bm25_idf(fi.df[terms], n_docs, "terrier")
        return np.where(tf > 0, idf * bm25_tf(tf, dl, fi.avg_len, float(p["k1"]), float(p["b"])), 0.0)

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        fi = pairs.index.field(field)
        n_docs = pairs.index.n_docs
        k3 = _TERRIER_K3 if p["model"] == "bm25" else None

        def first_pass(query: QueryTerms) -> NDArray[np.int32]:
            kw = query_weight(query.qtf, k3, "max")
            return top_documents(fi, n_docs, query.ids, kw, int(p["fb_docs"]),
                             lambda t, tf, d: self._term_scores(fi, n_docs, t, tf, fi.doc_len[d]))

        def expand(query: QueryTerms, fb: NDArray) -> tuple[NDArray, NDArray]:
            return bo1_expand(fi, n_docs, query, fb, fb_terms=int(p["fb_terms"]), min_docs=int(p["min_docs"]),
                              beta=p["beta"])

        ptr, ids, w = self._expanded(pairs, expand, first_pass)
        kw = query_weight(w, k3, "max", ptr)  # Terrier divides the expanded weights by the largest, then k3
        m: Match = pairs.match_terms(field, ptr, ids)
        t = ids[m.entry_qterm]
        val = self._term_scores(fi, n_docs, t, m.tf.astype(np.float64), m.doc_len[m.entry_pair])
        return m.pair_sum(kw[m.entry_qterm] * val)[:, None]
