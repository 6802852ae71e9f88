r"""TF-IDF: the sum of :math:`tf \cdot idf` over the query terms, and the cosine of tf-idf vectors.

.. math::

    \mathrm{tfidf}(q, d) = \sum_{t \in q} qtf_t \; \phi(tf_{t,d})\; \mathrm{idf}(t), \qquad
    \cos(q, d) = \frac{\sum_{t} \phi(qtf_t)\,\mathrm{idf}(t)\; \phi(tf_{t,d})\,\mathrm{idf}(t)}
                      {\lVert \phi(qtf)\,\mathrm{idf} \rVert_2 \; \lVert \phi(tf_{\cdot,d})\,\mathrm{idf} \rVert_2}

with :math:`\phi(x) = x`, or :math:`1 + \ln x` for :math:`x > 0` when ``sublinear=True`` (Salton & Buckley,
1988), and, as scikit-learn's ``TfidfTransformer``: ``idf="smooth"``: :math:`\ln((1 + N)/(1 + df)) + 1`;
``"plain"``: :math:`\ln(N/df) + 1`; ``"classic"``: :math:`\ln(N/df)`. The document norm runs over every term of the
document's field. Terms that never occur in the field get idf 0 (scikit-learn would have no column for them), and a
zero norm gives cosine 0.

References
----------
G. Salton, C. Buckley. Term-weighting approaches in automatic text retrieval. IP&M 24(5), 1988.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from features.pairs import PairSet, sum_by
from features.scorers._registry import Scorer, divide_or_zero, register

__all__ = ["TFIDF", "TFIDFCosine", "TFIDF_IDF", "tfidf_idf"]

TFIDF_IDF = ("smooth", "plain", "classic")


def tfidf_idf(df: NDArray, n_docs: int, variant: str = "smooth") -> NDArray[np.float64]:
    """IDF as scikit-learn computes it; 0 where ``df == 0``.

    Examples
    --------
    >>> import numpy as np
    >>> tfidf_idf(np.array([1, 4, 0]), 4).round(4).tolist()   # ln(5/2) + 1, ln(5/5) + 1, unseen
    [1.9163, 1.0, 0.0]
    """
    df = np.asarray(df, dtype=np.float64)
    seen = df > 0
    safe = np.where(seen, df, 1.0)
    if variant == "smooth":
        idf = np.log((1.0 + n_docs) / (1.0 + safe)) + 1.0
    elif variant == "plain":
        idf = np.log(n_docs / safe) + 1.0
    elif variant == "classic":
        idf = np.log(n_docs / safe)
    else:
        raise ValueError(f"idf must be one of {TFIDF_IDF}, got {variant!r}")
    return np.where(seen, idf, 0.0)


def _phi(x: NDArray, sublinear: bool) -> NDArray[np.float64]:
    x = np.asarray(x, dtype=np.float64)
    if not sublinear:
        return x
    out = np.zeros_like(x)
    pos = x > 0
    out[pos] = 1.0 + np.log(x[pos])
    return out


class _TFIDFParams(Scorer):
    defaults = {"idf": "smooth", "sublinear": False}

    def validate(self) -> None:
        self._check(self.params["idf"] in TFIDF_IDF, "idf", f"one of {TFIDF_IDF}")
        self._check(isinstance(self.params["sublinear"], bool), "sublinear", "true or false")

    def _idf(self, pairs: PairSet, field: str) -> NDArray[np.float64]:
        key = ("tfidf_idf", pairs.index.aliases.get(field, field), self.params["idf"])
        return pairs.cached(key, lambda: tfidf_idf(pairs.df(field), pairs.index.n_docs, self.params["idf"]))

    def _doc_phi(self, pairs: PairSet, field: str) -> NDArray[np.float64]:
        """phi(tf) of every entry (memoised: tfidf and tfidf_cosine share it)."""
        m = pairs.match(field)
        if not self.params["sublinear"]:
            return m.tf_float
        return pairs.cached(("tf_sublinear", pairs.index.aliases.get(field, field)), lambda: _phi(m.tf, True))


@register
class TFIDF(_TFIDFParams):
    """Sum over query terms of ``qtf * phi(tf) * idf`` (module docstring)."""

    name = "tfidf"

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        m = pairs.match(field)
        w = pairs.qtf * self._idf(pairs, field)
        return m.pair_sum(w[m.entry_qterm] * self._doc_phi(pairs, field))[:, None]


@register
class TFIDFCosine(_TFIDFParams):
    """Cosine similarity of the query and document tf-idf vectors (module docstring)."""

    name = "tfidf_cosine"

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        m = pairs.match(field)
        idf = self._idf(pairs, field)
        fi = m.field

        def doc_norms() -> NDArray[np.float64]:
            vocab_idf = tfidf_idf(fi.df, pairs.index.n_docs, p["idf"])
            w = _phi(fi.tf, p["sublinear"]) * vocab_idf[fi.posting_terms]
            return np.sqrt(sum_by(fi.docs, w * w, fi.n_docs))

        dnorm = fi.derived(("tfidf_doc_norm", pairs.index.n_docs, p["idf"], p["sublinear"]), doc_norms)[pairs.docs]
        qw = _phi(pairs.qtf, p["sublinear"]) * idf
        qnorm = np.sqrt(sum_by(np.repeat(np.arange(pairs.n_queries), np.diff(pairs.qterm_ptr)), qw * qw,
                              pairs.n_queries))[pairs.pair_query]
        dot = m.pair_sum(qw[m.entry_qterm] * self._doc_phi(pairs, field) * idf[m.entry_qterm])
        denom = qnorm * dnorm
        return divide_or_zero(dot, denom)[:, None]
