r"""DPH, the parameter-free Divergence From Randomness model of Terrier (Amati et al., 2007), Terrier's default.

For a term of the query with weight :math:`k_t` in a document of length :math:`l` (tokens of the field) holding it
:math:`tf` times, with :math:`f = tf / l` (:math:`0.99999` when :math:`tf = l`), :math:`\bar l` the average field
length, :math:`N` documents and :math:`F` occurrences of the term in the collection:

.. math::

    \mathrm{DPH}(t, d) = k_t \, \frac{(1 - f)^2}{tf + 1}
        \left( tf \log_2 \left( \frac{tf\, \bar l}{l} \cdot \frac{N}{F} \right)
        + \frac{1}{2} \log_2 \left( 2 \pi\, tf\, (1 - f) \right) \right)

summed over the query terms in the document (a document without any scores 0). :math:`k_t` is the query-term
frequency divided by the largest in the query (Terrier normalises every query so before weighting). This is
Terrier's ``DPH.java`` term for term; with the Terrier analysis (:meth:`features.analysis.Analyzer.terrier`) it gives
Terrier's published MAP on NPL, 0.2836 (``tests/test_features_prf.py``).

References
----------
G. Amati, E. Ambrosi, M. Bianchi, C. Gaibisso, G. Gambosi. FUB, IASI-CNR and University of Tor Vergata at TREC 2007
Blog Track. TREC 2007.
C. Macdonald, I. Ounis. The Terrier platform, ``org.terrier.matching.models.DPH``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from features.pairs import PairSet
from features.scorers._registry import Scorer, register
from features.scorers.bm25 import query_weight

__all__ = ["DPH", "dph_term"]


def dph_term(tf: NDArray, doc_len: NDArray, avg_len: float, n_docs: int, cf: NDArray) -> NDArray[np.float64]:
    """The DPH weight of each (tf, document length, collection frequency) for a unit query weight; 0 where tf = 0.

    Examples
    --------
    >>> import math
    >>> f = 2 / 4    # tf 2 in a document of length 4; average length 5, N = 10, F = 3
    >>> by_hand = (1 - f) ** 2 / 3 * (2 * math.log2(2 * 5 / 4 * 10 / 3) + 0.5 * math.log2(2 * math.pi * 2 * (1 - f)))
    >>> bool(abs(float(dph_term(2, 4, 5.0, 10, 3)) - by_hand) < 1e-12)
    True
    """
    tf = np.asarray(tf, dtype=np.float64)
    dl = np.asarray(doc_len, dtype=np.float64)
    cf = np.asarray(cf, dtype=np.float64)
    tf, dl, cf = np.broadcast_arrays(tf, dl, cf)
    out = np.zeros(tf.shape)
    ok = tf > 0
    t, d, c = tf[ok], dl[ok], cf[ok]
    f = np.where(t < d, t / np.where(d > 0, d, 1.0), 0.99999)
    norm = (1.0 - f) ** 2 / (t + 1.0)
    out[ok] = norm * (t * np.log2(t * avg_len / d * n_docs / c) + 0.5 * np.log2(2.0 * np.pi * t * (1.0 - f)))
    return out


@register
class DPH(Scorer):
    """Terrier's DPH of a field (module docstring); no parameters."""

    name = "dph"

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        m = pairs.match(field)
        fi = m.field
        kf = query_weight(pairs.qtf, None, "max", pairs.qterm_ptr)
        val = dph_term(m.tf_float, m.entry_doc_len, fi.avg_len, pairs.index.n_docs, pairs.cf(field)[m.entry_qterm])
        return m.pair_sum(kf[m.entry_qterm] * val)[:, None]
