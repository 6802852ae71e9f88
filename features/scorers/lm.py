r"""Query likelihood with Dirichlet-prior and Jelinek-Mercer smoothing (Zhai & Lafferty, 2001).

.. math::

    \mathrm{LM_{Dir}}(q, d) = \sum_{t \in q} qtf_t \ln \frac{tf_{t,d} + \mu\, p(t \mid C)}{|d| + \mu}, \qquad
    \mathrm{LM_{JM}}(q, d) = \sum_{t \in q} qtf_t \ln \left((1 - \lambda) \frac{tf_{t,d}}{|d|} + \lambda\, p(t \mid C)
    \right)

with :math:`p(t \mid C) = cf_t / |C|` the term's share of the field's tokens over the collection. These are log
probabilities (negative); a document without any query term still gets a finite value from the collection model.
Query terms that never occur in the field (:math:`cf_t = 0`) are skipped, since their log probability would be
:math:`-\infty` for every document alike; :math:`tf/|d|` is taken as 0 for an empty field.

References
----------
C. Zhai, J. Lafferty. A study of smoothing methods for language models applied to ad hoc information retrieval.
SIGIR 2001.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from features.pairs import PairSet
from features.scorers._registry import Scorer, register

__all__ = ["LMDirichlet", "LMJelinekMercer"]


def _collection_prob(pairs: PairSet, field: str) -> NDArray[np.float64]:
    total = pairs.index.field(field).total_len
    return pairs.cf(field) / total if total else np.zeros(pairs.qterms.shape[0])


@register
class LMDirichlet(Scorer):
    """Dirichlet-smoothed query log-likelihood, parameter ``mu`` (module docstring)."""

    name = "lm_dirichlet"
    defaults = {"mu": 2000.0}

    def validate(self) -> None:
        self._check(isinstance(self.params["mu"], (int, float)) and self.params["mu"] > 0, "mu", "a number > 0")

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        mu = float(self.params["mu"])
        m = pairs.match(field)
        pc = _collection_prob(pairs, field)
        use = (pc > 0)[m.entry_qterm]
        q = m.entry_qterm[use]
        val = pairs.qtf[q] * np.log((m.tf[use] + mu * pc[q]) / (m.doc_len[m.entry_pair[use]] + mu))
        return np.bincount(m.entry_pair[use], weights=val, minlength=pairs.n_pairs)[:, None]


@register
class LMJelinekMercer(Scorer):
    """Jelinek-Mercer-smoothed query log-likelihood; ``lam`` is the weight of the collection model."""

    name = "lm_jm"
    defaults = {"lam": 0.1}

    def validate(self) -> None:
        lam = self.params["lam"]
        self._check(isinstance(lam, (int, float)) and 0 < lam <= 1, "lam", "in (0, 1]")

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        lam = float(self.params["lam"])
        m = pairs.match(field)
        pc = _collection_prob(pairs, field)
        use = (pc > 0)[m.entry_qterm]
        q = m.entry_qterm[use]
        dl = m.doc_len[m.entry_pair[use]]
        ptd = np.zeros(dl.shape[0])
        np.divide(m.tf[use], dl, out=ptd, where=dl > 0)
        val = pairs.qtf[q] * np.log((1.0 - lam) * ptd + lam * pc[q])
        return np.bincount(m.entry_pair[use], weights=val, minlength=pairs.n_pairs)[:, None]
