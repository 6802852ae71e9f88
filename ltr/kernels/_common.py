"""Input checks and work partitioning shared by the loss kernels.

The checks run once, in Python, before any kernel sees the data: kernels trust their inputs. The partitioning
splits queries into contiguous blocks of roughly equal work, so that a ``prange`` over blocks (which Numba
schedules statically, one contiguous run of blocks per thread) stays balanced when query sizes are uneven.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ltr.exceptions import LabelRangeError
from ltr.groups import check_group_ptr

__all__ = [
    "as_labels",
    "as_scores",
    "as_group_ptr",
    "as_row_weights",
    "check_integer_labels",
    "work_blocks",
]


def _writable(a: np.ndarray) -> np.ndarray:
    # Numba compiles one specialisation per array type, and read-only is part of the type (RankingDataset's
    # arrays are read-only): copying those keeps every call on the one compiled, cached specialisation.
    return a if a.flags.writeable else a.copy()


def as_group_ptr(group_ptr: ArrayLike, n_rows: int) -> NDArray[np.int64]:
    """``group_ptr`` as validated contiguous int64 offsets covering ``n_rows`` rows."""
    return _writable(check_group_ptr(group_ptr, n_rows))


def as_labels(labels: ArrayLike, *, name: str = "labels") -> NDArray[np.float64]:
    """Relevance labels as a contiguous 1-D float64 array; NaN, infinite or negative labels raise ValueError."""
    y = _writable(np.ascontiguousarray(labels, dtype=np.float64))
    if y.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {y.shape}")
    bad = ~np.isfinite(y)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be finite numbers; row {i} has {float(y[i])!r}")
    if y.size and y.min() < 0:
        i = int(np.argmin(y))
        raise ValueError(f"relevance {name} must be >= 0; row {i} has {float(y[i])!r}")
    return y


def check_integer_labels(y: NDArray[np.float64], *, max_label: int | None = None, what: str = "this objective") -> None:
    """Raise ValueError unless every label is an integer (and, if given, at most ``max_label``)."""
    frac = y != np.floor(y)
    if frac.any():
        i = int(np.flatnonzero(frac)[0])
        raise ValueError(
            f"{what} needs integer relevance labels (they index the gain table); row {i} has {float(y[i])!r}. "
            "Round the labels, or pass label_gain= with one gain per integer grade"
        )
    if max_label is not None and y.size and y.max() > max_label:
        i = int(np.argmax(y))
        raise LabelRangeError(
            f"label {y[i]:g} at row {i} is above the gain table of {what}, which covers labels 0..{max_label}",
            python_fix="pass a longer label_gain= with eval_params' gain, or for labels that encode an order "
                       "(MQ2007/8-list) a listwise objective (objective='listnet')",
            cli_fix="pass a longer --objective-param 'label_gain=[G0,G1,...]' with --gain, or for labels that encode "
                    "an order (MQ2007/8-list) a listwise objective (--objective listnet)")


def as_scores(scores: ArrayLike, n_rows: int, *, minus_inf: bool = False) -> NDArray[np.float64]:
    """Scores as a contiguous 1-D float64 array of length ``n_rows``; NaN and +inf scores raise ValueError (the
    losses have no gradient there: +inf gave lambdarank a zero gradient, listnet NaN), and so does -inf unless
    ``minus_inf``: LightGBM's lambdarank leaves such a document out of every pair, and the lambdarank kernel follows
    it; RankNet's pair of two gave NaN, the pointwise loss -inf (trial t55)."""
    s = _writable(np.ascontiguousarray(scores, dtype=np.float64))
    if s.shape != (n_rows,):
        raise ValueError(f"scores must have shape ({n_rows},) to match the labels, got {s.shape}")
    bad = np.isnan(s) | (s == np.inf) if minus_inf else ~np.isfinite(s)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        said = "NaN" if np.isnan(s[i]) else "+inf" if s[i] > 0 else "-inf"
        limit = "numbers below +inf" if minus_inf else "finite numbers"
        raise ValueError(f"scores must be {limit}; row {i} is {said} (a model whose scores overflowed: lower the "
                         "learning rate; or an initial score out of range)")
    return s


def compute_fresh(obj, scores: ArrayLike, *,
                  minus_inf: bool = False) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Run a prepared kernel object once on ``scores`` into new ``(grad, hess)`` arrays (``minus_inf``: as
    :func:`as_scores`)."""
    s = as_scores(scores, obj.n_rows, minus_inf=minus_inf)
    grad = np.empty(obj.n_rows)
    hess = np.empty(obj.n_rows)
    obj.compute(s, grad, hess)
    return grad, hess


def as_row_weights(weight: ArrayLike | None, group_ptr: NDArray[np.int64]) -> NDArray[np.float64]:
    """Per-row weights from per-row (length n_rows) or per-query (length n_queries) weights.

    Returns an empty array for ``None`` (kernels read "no weights" as an empty array). When every query has one
    row the two readings coincide, so the length alone decides without ambiguity.
    """
    n_rows = int(group_ptr[-1])
    n_queries = group_ptr.size - 1
    if weight is None:
        return np.zeros(0, dtype=np.float64)
    w = _writable(np.ascontiguousarray(weight, dtype=np.float64))
    if w.ndim != 1:
        raise ValueError(f"weight must be one-dimensional, got shape {w.shape}")
    if w.size == n_queries and w.size != n_rows:
        w = np.repeat(w, np.diff(group_ptr))
    elif w.size != n_rows:
        raise ValueError(
            f"weight must have one entry per row ({n_rows}) or per query ({n_queries}), got {w.size}"
        )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"weights must be finite and >= 0; row {i} has {float(w[i])!r}")
    return w


def work_blocks(group_ptr: NDArray[np.int64], cost: NDArray[np.float64], n_blocks: int | None = None
                ) -> NDArray[np.int64]:
    """Split queries into contiguous blocks of about equal total ``cost``.

    Returns query offsets ``b`` of length ``n_blocks + 1``: block ``t`` holds queries ``b[t]:b[t + 1]``.
    The default makes four blocks per Numba thread, so that a static schedule over blocks stays balanced when the
    cost model is only roughly right. (Numba's dynamic chunking, ``set_parallel_chunksize``, was measured: no
    gain here, even with another process competing for a core.)

    Examples
    --------
    >>> work_blocks(np.array([0, 1, 2, 3, 13]), np.array([1.0, 1.0, 1.0, 10.0]), 2).tolist()
    [0, 3, 4]
    """
    n_queries = group_ptr.size - 1
    if n_blocks is None:
        n_blocks = 4 * numba.config.NUMBA_NUM_THREADS
    n_blocks = max(1, min(int(n_blocks), n_queries))
    csum = np.cumsum(cost, dtype=np.float64)
    total = csum[-1] if n_queries else 0.0
    if total <= 0:
        cuts = np.linspace(0, n_queries, n_blocks + 1).round().astype(np.int64)
    else:
        # Cut before or after the query that crosses each target, whichever leaves the prefix closer to it.
        targets = total * np.arange(1, n_blocks) / n_blocks
        i = np.minimum(np.searchsorted(csum, targets, side="left"), n_queries - 1)
        below = np.where(i > 0, csum[np.maximum(i - 1, 0)], 0.0)
        inner = np.where(csum[i] - targets < targets - below, i + 1, i)
        cuts = np.concatenate(([0], inner, [n_queries])).astype(np.int64)
    cuts = np.unique(np.clip(cuts, 0, n_queries))
    if cuts[0] != 0:
        cuts = np.concatenate(([0], cuts))
    return cuts
