r"""BM25F: BM25 over several weighted fields with one saturation ("simple BM25F"; Robertson, Zaragoza & Taylor, 2004;
Zaragoza et al., TREC 2004).

Each field :math:`f` contributes its term frequency, weighted by :math:`w_f` and length-normalised with its own
:math:`b_f`, to one pseudo-frequency that is saturated once:

.. math::

    \widetilde{tf}_{t,d} = \sum_f w_f \frac{tf_{t,f,d}}{1 - b_f + b_f\, l_{f,d} / \overline{l_f}}, \qquad
    \mathrm{BM25F}(q, d) = \sum_{t \in q} qtf_t\; \mathrm{idf}(t)\; \frac{(k_1 + 1)\, \widetilde{tf}_{t,d}}
        {k_1 + \widetilde{tf}_{t,d}}

with :math:`l_{f,d}` the length of field :math:`f` of document :math:`d` and :math:`\overline{l_f}` its average
(an empty field contributes nothing; :math:`\overline{l_f} = 0` is taken as :math:`l/\overline{l} = 1`). The idf is
computed once per term from its document frequency over the weighted fields (the documents holding the term in
any of them), with the ``idf`` variant of :func:`features.scorers.bm25.bm25_idf`; with ``doc_count="field"`` (the
default with ``idf="lucene"``), :math:`N` counts the documents with a term in some weighted field and
:math:`\overline{l_f}` averages over them, as BM25 of a field counts Lucene's ``docCount``
(:func:`features.scorers.bm25.field_statistics`); with ``"collection"``, every document.
The :math:`(k_1 + 1)` factor, a constant, makes BM25F of one field with :math:`w = 1` equal
:class:`~features.scorers.bm25.BM25` of that field.

Parameters: ``weights`` (``{field: w_f}``; default every indexed field except the concatenation ``"all"``, each
with weight 1), ``b`` (one value for every field, or ``{field: b_f}`` naming each weighted field; default 0.75),
``k1`` (1.2), ``idf`` (``"lucene"``) and ``doc_count``. In a feature-set file: ``weights = {title = 2.0, body = 1.0}``.

References
----------
S. Robertson, H. Zaragoza, M. Taylor. Simple BM25 extension to multiple weighted fields. CIKM 2004.
H. Zaragoza, N. Craswell, M. Taylor, S. Saria, S. Robertson. Microsoft Cambridge at TREC-13: Web and HARD tracks.
TREC 2004.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from features.index import InvertedIndex
from features.pairs import PairSet, sum_by
from features.scorers._registry import Scorer, divide_or_zero, is_number, register
from features.scorers.bm25 import BM25_K_MAX, BM25_K_WORDS, DOC_COUNTS, bm25_idf, default_doc_count

__all__ = ["BM25F", "union_df"]

_IDF = ("lucene", "robertson", "robertson_floor", "terrier")


def union_df(pairs: PairSet, fields: list[str]) -> NDArray[np.float64]:
    """Documents holding each flat query term of ``pairs`` in at least one of ``fields`` (0 for unseen terms)."""
    out = np.zeros(pairs.qterms.shape[0])
    fis = [pairs.index.field(f) for f in fields]
    for t in np.unique(pairs.qterms[pairs.qterms >= 0]).tolist():
        docs = np.unique(np.concatenate([fi.docs[fi.indptr[t]:fi.indptr[t + 1]] for fi in fis]))
        out[pairs.qterms == t] = docs.shape[0]
    return out


@register
class BM25F(Scorer):
    """Simple BM25F over weighted fields (module docstring); parameters ``weights``, ``b``, ``k1``, ``idf``."""

    name = "bm25f"
    per_field = False
    defaults = {"weights": None, "b": 0.75, "k1": 1.2, "idf": "lucene", "doc_count": None}

    def validate(self) -> None:
        p = self.params
        w = p["weights"]
        ok = w is None or (isinstance(w, Mapping) and len(w) > 0 and all(
            isinstance(f, str) and is_number(v) and v >= 0 for f, v in w.items()) and any(v > 0 for v in w.values()))
        self._check(ok, "weights", "None or a table {field: finite weight >= 0} with a positive weight")
        b = p["b"]
        if isinstance(b, Mapping):
            self._check(all(is_number(v) and 0 <= v <= 1 for v in b.values()), "b", "in [0, 1] for every field")
            if w is not None:
                self._check(set(b) == set(w), "b", f"a value for each weighted field {sorted(w)} and no other")
        else:
            self._check(is_number(b) and 0 <= b <= 1, "b", "a number in [0, 1] or a table {field: b}")
        self._check(is_number(p["k1"]) and p["k1"] >= 0, "k1", "a finite number >= 0")
        self._check(p["k1"] <= BM25_K_MAX, "k1", BM25_K_WORDS)
        self._check(p["idf"] in _IDF, "idf", f"one of {_IDF}")
        self._check(p["doc_count"] is None or p["doc_count"] in DOC_COUNTS, "doc_count", f"one of {DOC_COUNTS}")
        if p["doc_count"] is None:  # as BM25's (features.scorers.bm25): recorded
            p["doc_count"] = default_doc_count(p["idf"])

    def field_weights(self, pairs: PairSet | InvertedIndex) -> dict[str, float]:
        """``{field: weight}`` against this index (the default: every field but ``"all"``, weight 1)."""
        w = self.params["weights"]
        if w is None:
            ix = pairs.index if isinstance(pairs, PairSet) else pairs
            return {f: 1.0 for f in ix.field_names if f not in ix.aliases and f != "all"} or {"all": 1.0}
        return {f: float(v) for f, v in w.items()}

    def check_index(self, index: InvertedIndex) -> None:
        """The weighted fields are the index's, and a table of ``b`` names each of them (the default weights are
        every field: its ``b`` table must name them all)."""
        weights = self.field_weights(index)
        for f in weights:
            index.field(f)  # raises naming the index's fields
        b = self.params["b"]
        if isinstance(b, Mapping) and set(b) != set(weights):
            raise ValueError(f"scorer 'bm25f': b names fields {sorted(b)} but the weighted fields are "
                             f"{sorted(weights)}")

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        weights = self.field_weights(pairs)
        b = p["b"]
        self.check_index(pairs.index)
        k1 = float(p["k1"])
        pseudo = np.zeros(int(pairs.entry_ptr[-1]))
        matches = {f: pairs.match(f) for f in weights}  # raises naming the index's fields for an unknown one
        n, by_field = pairs.index.n_docs, p["doc_count"] == "field"
        if by_field:  # Lucene's statistics: the documents with a term in some weighted field
            n = int(np.count_nonzero(np.logical_or.reduce([m.field.doc_len > 0 for m in matches.values()])))
        for f, wf in weights.items():
            m = matches[f]
            bf = float(b[f] if isinstance(b, Mapping) else b)
            avg = (m.field.total_len / n if n else 0.0) if by_field else m.field.avg_len
            rel = m.entry_doc_len / avg if avg > 0 else 1.0
            norm = 1.0 - bf + bf * rel
            pseudo += divide_or_zero(wf * m.tf, norm, m.tf > 0)  # empty field: 0
        idf = bm25_idf(union_df(pairs, list(weights)), n, p["idf"])
        terms = divide_or_zero((k1 + 1.0) * pseudo, k1 + pseudo, pseudo > 0)
        w = (pairs.qtf * idf)[pairs.entry_qterm]
        return sum_by(pairs.entry_pair, w * terms, pairs.n_pairs)[:, None]
