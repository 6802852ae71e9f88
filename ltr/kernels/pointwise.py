r"""Pointwise losses: each document's label is a regression or classification target on its own.

``loss="squared"`` (regression on the grade):

.. math::  \ell(s, y) = \tfrac12 (s - y)^2, \qquad g = s - y, \qquad h = 1.

``loss="logistic"`` (binary relevance, labels 0 or 1):

.. math::  \ell(s, y) = \log(1 + e^{s}) - y s, \qquad g = \sigma(s) - y, \qquad h = \sigma(s)(1 - \sigma(s)).

Queries play no part in the loss; the kernel still runs per query so that every loss in :mod:`ltr.kernels` has
one signature and one driver. Row weights multiply the loss, gradient and hessian of their row.

References
----------
D. Cossock and T. Zhang, "Subset Ranking Using Regression", COLT 2006 (pointwise regression for ranking).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike, NDArray

from ltr.kernels._common import as_group_ptr, as_labels, as_row_weights, as_scores, compute_fresh, work_blocks

__all__ = ["LOSSES", "PointwiseObjective", "check_options", "grad_hess", "loss", "prepare"]

LOSSES = {"squared": 0, "logistic": 1}
_SQUARED, _LOGISTIC = 0, 1


@njit(cache=True)
def _sigmoid(x: float) -> float:
    # 1 / (1 + exp(-x)) without overflow for large |x|.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True)
def _query(s, y, w, kind, grad, hess) -> None:
    """Gradients and hessians of one query's rows."""
    for i in range(s.size):
        if kind == _SQUARED:
            g = s[i] - y[i]
            h = 1.0
        else:
            p = _sigmoid(s[i])
            g = p - y[i]
            h = p * (1.0 - p)
        wi = w[i] if w.size else 1.0
        grad[i] = g * wi
        hess[i] = h * wi


@njit(cache=True, parallel=True)
def _grad_hess(scores, labels, group_ptr, weight, blocks, kind, grad, hess) -> None:
    """Driver: ``prange`` over blocks of queries; each query writes only its own rows."""
    for b in prange(blocks.size - 1):
        for q in range(blocks[b], blocks[b + 1]):
            a, e = group_ptr[q], group_ptr[q + 1]
            w = weight[a:e] if weight.size else weight
            _query(scores[a:e], labels[a:e], w, kind, grad[a:e], hess[a:e])


class PointwiseObjective:
    """Pointwise state for one training set; build it with :func:`prepare`, call :meth:`compute` every round."""

    def __init__(self, labels, group_ptr, weight, kind):
        self.labels = labels
        self.group_ptr = group_ptr
        self.weight = weight
        self.kind = kind
        self.n_rows = int(group_ptr[-1])
        self.blocks = work_blocks(group_ptr, np.diff(group_ptr).astype(np.float64))

    def compute(self, scores: NDArray[np.float64], grad: NDArray[np.float64], hess: NDArray[np.float64]) -> None:
        """Write gradients and hessians for ``scores`` (float64, length ``n_rows``) into ``grad`` and ``hess``."""
        _grad_hess(scores, self.labels, self.group_ptr, self.weight, self.blocks, self.kind, grad, hess)


def check_options(*, loss: str = "squared") -> None:
    """Check :func:`prepare`'s options (a ValueError naming the bad one), before any data is read."""
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")


def _check(labels, group_ptr, weight, loss_name):
    check_options(loss=loss_name)
    y = as_labels(labels)
    if LOSSES[loss_name] == _LOGISTIC and not np.isin(y, (0.0, 1.0)).all():
        i = int(np.flatnonzero(~np.isin(y, (0.0, 1.0)))[0])
        raise ValueError(
            f"loss='logistic' needs binary labels 0/1; row {i} has {float(y[i])!r} (binarise graded labels, e.g. y > 0)"
        )
    ptr = as_group_ptr(group_ptr, y.size)
    return y, ptr, as_row_weights(weight, ptr)


def prepare(labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
            loss: str = "squared") -> PointwiseObjective:
    """Validate once; the returned object computes gradients for any scores.

    Parameters
    ----------
    labels : array-like of shape (n_rows,)
        Non-negative relevance labels (0/1 for ``loss="logistic"``).
    group_ptr : array-like of int64, shape (n_queries + 1,)
    weight : array-like of shape (n_rows,) or (n_queries,), optional
        Row weights (or one per query, repeated over its rows).
    loss : {"squared", "logistic"}, default="squared"
    """
    y, ptr, w = _check(labels, group_ptr, weight, loss)
    return PointwiseObjective(y, ptr, w, LOSSES[loss])


def grad_hess(scores: ArrayLike, labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
              loss: str = "squared") -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Pointwise gradients and hessians (formulas in the module docstring).

    Examples
    --------
    >>> g, h = grad_hess([0.5, 2.0, 0.0], [1, 2, 0], [0, 3])
    >>> g.tolist(), h.tolist()          # s - y
    ([-0.5, 0.0, 0.0], [1.0, 1.0, 1.0])
    >>> g, h = grad_hess([0.0, 0.0], [1, 0], [0, 2], loss="logistic")
    >>> g.tolist(), h.tolist()          # sigmoid(0) - y, sigmoid(0) (1 - sigmoid(0))
    ([-0.5, 0.5], [0.25, 0.25])
    """
    obj = prepare(labels, group_ptr, weight=weight, loss=loss)
    return compute_fresh(obj, scores)


def loss(scores: ArrayLike, labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
         loss: str = "squared") -> float:
    """Total (weighted) loss whose gradient :func:`grad_hess` returns.

    Examples
    --------
    >>> loss([0.5, 2.0], [1, 2], [0, 2])   # 0.5 * 0.5 ** 2
    0.125
    """
    y, ptr, w = _check(labels, group_ptr, weight, loss)
    s = as_scores(scores, y.size)
    if LOSSES[loss] == _SQUARED:
        per_row = 0.5 * (s - y) ** 2
    else:
        per_row = np.logaddexp(0.0, s) - y * s
    return float(np.sum(per_row * w) if w.size else np.sum(per_row))
