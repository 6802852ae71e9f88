r"""Query likelihood with Dirichlet-prior, Jelinek-Mercer and absolute-discounting smoothing (Zhai & Lafferty, 2001).

.. math::

    \mathrm{LM_{Dir}}(q, d) = \sum_{t \in q} qtf_t \ln \frac{tf_{t,d} + \mu\, p(t \mid C)}{|d| + \mu}, \qquad
    \mathrm{LM_{JM}}(q, d) = \sum_{t \in q} qtf_t \ln \left((1 - \lambda) \frac{tf_{t,d}}{|d|} + \lambda\, p(t \mid C)
    \right),

.. math::

    \mathrm{LM_{ABS}}(q, d) = \sum_{t \in q} qtf_t \ln \left(\frac{\max(tf_{t,d} - \delta, 0)}{|d|}
    + \frac{\delta\, |d|_u}{|d|}\, p(t \mid C) \right)

with :math:`p(t \mid C) = cf_t / |C|` the term's share of the field's tokens over the collection and :math:`|d|_u`
the number of distinct terms of the document's field (absolute discounting takes :math:`\delta` from every seen
term's count and gives the mass, :math:`\sigma = \delta |d|_u / |d|`, to the collection model; LETOR 4.0's
``LMIR.ABS`` feature). These are log probabilities (negative); a document without any query term still gets a
finite value from the collection model. Query terms that never occur in the field (:math:`cf_t = 0`) are skipped,
since their log probability would be :math:`-\infty` for every document alike; :math:`tf/|d|` is taken as 0 for an
empty field, and there the absolute-discounting model is the collection model (:math:`\sigma = 1`).

References
----------
C. Zhai, J. Lafferty. A study of smoothing methods for language models applied to ad hoc information retrieval.
SIGIR 2001.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from features.pairs import PairSet, sum_by
from features.scorers._registry import Scorer, divide_or_zero, is_number, register

__all__ = ["LMAbsoluteDiscount", "LMDirichlet", "LMJelinekMercer", "unique_terms"]


def _collection_prob(pairs: PairSet, field: str) -> NDArray[np.float64]:
    total = pairs.index.field(field).total_len
    return pairs.cf(field) / total if total else np.zeros(pairs.qterms.shape[0])


class _Entries(NamedTuple):
    """The entries the query likelihoods sum over (query terms the field's collection has), shared by the three
    smoothings: collection probability ``pc`` of the entry's term, its ``qtf``, ``tf``, document length ``dl``
    and ``pair``."""

    pc: NDArray[np.float64]
    qtf: NDArray[np.float64]
    tf: NDArray[np.float64]
    dl: NDArray[np.float64]
    pair: NDArray[np.int64]


def _entries(pairs: PairSet, field: str) -> _Entries:
    def compute() -> _Entries:
        m = pairs.match(field)
        pc = _collection_prob(pairs, field)
        use = (pc > 0)[m.entry_qterm]
        q = m.entry_qterm[use]
        e = _Entries(pc[q], pairs.qtf[q], m.tf_float[use], m.entry_doc_len[use], m.entry_pair[use])
        for a in e:
            a.flags.writeable = False  # shared by every smoothing
        return e

    return pairs.cached(("lm_entries", pairs.index.aliases.get(field, field)), compute)


def _likelihood(pairs: PairSet, e: _Entries, log_p: NDArray[np.float64]) -> NDArray[np.float64]:
    return sum_by(e.pair, e.qtf * log_p, pairs.n_pairs)[:, None]


@register
class LMDirichlet(Scorer):
    """Dirichlet-smoothed query log-likelihood, parameter ``mu`` (module docstring)."""

    name = "lm_dirichlet"
    defaults = {"mu": 2000.0}

    def validate(self) -> None:
        self._check(is_number(self.params["mu"]) and self.params["mu"] > 0, "mu", "a finite number > 0")

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        mu = float(self.params["mu"])
        e = _entries(pairs, field)
        return _likelihood(pairs, e, np.log((e.tf + mu * e.pc) / (e.dl + mu)))


@register
class LMJelinekMercer(Scorer):
    """Jelinek-Mercer-smoothed query log-likelihood; ``lam`` is the weight of the collection model."""

    name = "lm_jm"
    defaults = {"lam": 0.1}

    def validate(self) -> None:
        lam = self.params["lam"]
        self._check(is_number(lam) and 0 < lam <= 1, "lam", "in (0, 1]")

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        lam = float(self.params["lam"])
        e = _entries(pairs, field)
        ptd = divide_or_zero(e.tf, e.dl)
        return _likelihood(pairs, e, np.log((1.0 - lam) * ptd + lam * e.pc))


def unique_terms(pairs: PairSet, field: str) -> NDArray[np.float64]:
    """:math:`|d|_u`, the number of distinct terms in ``field`` of every document of the index (memoised)."""
    fi = pairs.index.field(field)
    return fi.derived(("unique_terms",), lambda: np.bincount(fi.docs, minlength=fi.n_docs).astype(np.float64))


@register
class LMAbsoluteDiscount(Scorer):
    """Absolute-discounting query log-likelihood (module docstring); ``delta`` in (0, 1], 0.7 by default (Zhai &
    Lafferty found values near 0.7 best; LETOR's ``LMIR.ABS``).

    Examples
    --------
    >>> import math
    >>> from features import Analyzer, InvertedIndex, extract
    >>> from features.collections import Collection
    >>> ix = InvertedIndex.build(Collection(("a", "b"), {"body": ["x x y", "y"]}), Analyzer(stopwords=None))
    >>> got = extract(ix, {"1": "x"}, {"1": ["a", "b"]}, [{"scorer": "lm_abs", "fields": ["body"]}]).X[:, 0]
    >>> pc = 2 / 4                                      # cf(x) 2 of |C| = 4 tokens
    >>> a = math.log((2 - 0.7) / 3 + 0.7 * 2 / 3 * pc)  # tf 2, |d| 3, two distinct terms
    >>> b = math.log(0 + 0.7 * 1 / 1 * pc)              # tf 0, |d| 1, one distinct term
    >>> bool(abs(got[0] - a) < 1e-6 and abs(got[1] - b) < 1e-6)
    True
    """

    name = "lm_abs"
    defaults = {"delta": 0.7}

    def validate(self) -> None:
        d = self.params["delta"]
        self._check(is_number(d) and 0 < d <= 1, "delta", "in (0, 1]")

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        delta = float(self.params["delta"])
        e = _entries(pairs, field)
        du = unique_terms(pairs, field)[pairs.docs[e.pair]]
        seen = divide_or_zero(np.maximum(e.tf - delta, 0.0), e.dl)
        sigma = np.where(e.dl > 0, delta * du / np.where(e.dl > 0, e.dl, 1.0), 1.0)  # empty: the collection alone
        return _likelihood(pairs, e, np.log(seen + sigma * e.pc))
