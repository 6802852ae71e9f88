"""The float32 arithmetic the search engines do, reproduced with numpy: order, neighbours, exact text, Solr's slack.

Every engine here keeps feature values, thresholds and leaf values as Java ``float`` (IEEE binary32) and adds in
float32 (numpy's float32 operations round to nearest even, as Java's do). Numbers are written as the shortest
decimal of the float32 value widened to float64 (``repr(float(np.float32(v)))``): Java's ``Float.parseFloat`` and
``(float) Double.parseDouble`` both read it back as exactly that float32, so what the file says is what the engine
compares. An infinite threshold is written ``1e39``, which both read as infinity (it is above ``Float.MAX_VALUE``),
because JSON has no infinity.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLT_MAX", "SOLR_SLACK", "from_ordinal", "next_down", "next_up", "ordinal", "solr_neighbours", "solr_stored",
           "solr_written", "text"]

F32 = np.float32
FLT_MAX = np.finfo(np.float32).max
#: Solr's ``MultipleAdditiveTreesModel.RegressionTreeNode.NODE_SPLIT_SLACK``, added in float32 to every threshold.
SOLR_SLACK = F32(1e-6)


def ordinal(x) -> np.ndarray:
    """Integers in the order of the float32 values (``-0.0`` and ``0.0`` both 0; ``-inf`` lowest, ``inf`` highest)."""
    bits = np.asarray(x, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)


def from_ordinal(k) -> np.ndarray:
    """The float32 values of :func:`ordinal` integers (0 gives ``+0.0``)."""
    k = np.asarray(k, dtype=np.int64)
    bits = np.where(k < 0, (-k) | 0x80000000, k).astype(np.uint32)
    return bits.view(np.float32)


def next_up(x) -> np.ndarray:
    """The next float32 above each value (``inf`` stays; above the largest float32 is ``inf``)."""
    with np.errstate(over="ignore"):
        return np.nextafter(np.asarray(x, dtype=np.float32), F32(np.inf))


def next_down(x) -> np.ndarray:
    """The next float32 below each value (``-inf`` stays; below the lowest float32 is ``-inf``)."""
    with np.errstate(over="ignore"):
        return np.nextafter(np.asarray(x, dtype=np.float32), F32(-np.inf))


def text(x) -> str:
    """A float32 value as the decimal every Java float parser reads back exactly (``1e39`` for infinity)."""
    v = F32(x)
    if np.isinf(v):
        return "1e39" if v > 0 else "-1e39"
    if np.isnan(v):
        raise ValueError("NaN has no place in an exported model")
    return repr(float(v))


def solr_stored(u) -> np.float32:
    """The threshold Solr keeps for a written float32 ``u``: ``u + 1e-6f`` in float32 (``setThreshold``)."""
    return F32(F32(u) + SOLR_SLACK)


def solr_written(t) -> np.float32 | None:
    """A float32 ``u`` whose Solr threshold (:func:`solr_stored`) is exactly ``t``, or None when there is none.

    ``u + 1e-6f`` is non-decreasing in ``u``, so ``u`` is found next to ``t - 1e-6`` (a few float32 steps at most).
    Near zero the sums are multiples of the spacing of float32 values near 1e-6 (2**-43), so a threshold such as
    LightGBM's 1e-35 has no ``u``; nor has about every other ``t`` in (-2**k, -2**k + 1e-6], whose ``u`` lies in the
    next binade, with steps twice ``t``'s (see :func:`solr_neighbours`).
    """
    t = F32(t)
    if np.isinf(t):
        return t
    k0 = int(ordinal(F32(np.float64(t) - np.float64(SOLR_SLACK))))
    for k in range(k0 - 4, k0 + 5):
        u = from_ordinal(k)[()]
        if solr_stored(u) == t:
            return F32(u)
    return None


def solr_neighbours(t) -> tuple[np.float32, np.float32]:
    """The largest threshold Solr can hold below ``t`` and the smallest above it (for an unreachable ``t``)."""
    t = F32(t)
    lo, hi = int(ordinal(-FLT_MAX)), int(ordinal(FLT_MAX))
    while hi - lo > 1:  # the largest u with stored(u) < t
        mid = (lo + hi) // 2
        if solr_stored(from_ordinal(mid)[()]) < t:
            lo = mid
        else:
            hi = mid
    below = solr_stored(from_ordinal(lo)[()])
    above = solr_stored(from_ordinal(lo + 1)[()])
    return below, above
