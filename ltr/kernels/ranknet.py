r"""RankNet: the pairwise logistic loss over every pair of documents whose labels differ.

For each query and each pair with :math:`y_h > y_l`,

.. math::

    \ell_{hl} = \log\bigl(1 + e^{-\sigma (s_h - s_l)}\bigr), \qquad
    p_{hl} = \frac{1}{1 + e^{\sigma (s_h - s_l)}}, \qquad
    \frac{\partial \ell_{hl}}{\partial s_h} = -\sigma p_{hl} = -\frac{\partial \ell_{hl}}{\partial s_l}, \qquad
    \frac{\partial^2 \ell_{hl}}{\partial s_h^2} = \sigma^2 p_{hl} (1 - p_{hl}),

summed over pairs (no normalisation by the number of pairs). The hessian returned is the diagonal of the true
Hessian. A document's gradient is the sum over the pairs it belongs to; so the gradients of a query sum to zero,
and queries with one document or with all labels equal get zero gradients. Row weights multiply each row's
gradient and hessian afterwards (with one weight per query this is the gradient of the weighted loss).

References
----------
C. Burges, T. Shaked, E. Renshaw, A. Lazier, M. Deeds, N. Hamilton, G. Hullender,
"Learning to Rank using Gradient Descent", ICML 2005.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike, NDArray

from ltr.kernels._common import as_group_ptr, as_labels, as_row_weights, as_scores, compute_fresh, work_blocks

__all__ = ["RankNetObjective", "check_options", "grad_hess", "loss", "prepare"]


@njit(cache=True)
def _p_low(x: float) -> float:
    # 1 / (1 + exp(x)): the probability that the pair is ordered wrongly, without overflow.
    if x <= 0:
        return 1.0 / (1.0 + math.exp(x))
    e = math.exp(-x)
    return e / (1.0 + e)


@njit(cache=True)
def _query(s, y, w, sigma, grad, hess) -> None:
    """Gradients and hessians of one query's rows (all pairs, O(n^2))."""
    n = s.size
    for i in range(n):
        grad[i] = 0.0
        hess[i] = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            if y[i] == y[j]:
                continue
            h, l = (i, j) if y[i] > y[j] else (j, i)
            p = _p_low(sigma * (s[h] - s[l]))
            q = _p_low(sigma * (s[l] - s[h]))  # 1 - p without cancellation
            lam = sigma * p
            grad[h] -= lam
            grad[l] += lam
            hw = sigma * sigma * p * q
            hess[h] += hw
            hess[l] += hw
    if w.size:
        for i in range(n):
            grad[i] *= w[i]
            hess[i] *= w[i]


@njit(cache=True, parallel=True)
def _grad_hess(scores, labels, group_ptr, weight, blocks, sigma, grad, hess) -> None:
    """Driver: ``prange`` over blocks of queries of about equal work; each query writes only its own rows."""
    for b in prange(blocks.size - 1):
        for q in range(blocks[b], blocks[b + 1]):
            a, e = group_ptr[q], group_ptr[q + 1]
            w = weight[a:e] if weight.size else weight
            _query(scores[a:e], labels[a:e], w, sigma, grad[a:e], hess[a:e])


class RankNetObjective:
    """RankNet state for one training set; build it with :func:`prepare`, call :meth:`compute` every round."""

    def __init__(self, labels, group_ptr, weight, sigma):
        self.labels = labels
        self.group_ptr = group_ptr
        self.weight = weight
        self.sigma = float(sigma)
        self.n_rows = int(group_ptr[-1])
        sizes = np.diff(group_ptr).astype(np.float64)
        self.blocks = work_blocks(group_ptr, sizes * sizes)

    def compute(self, scores: NDArray[np.float64], grad: NDArray[np.float64], hess: NDArray[np.float64]) -> None:
        """Write gradients and hessians for ``scores`` (float64, length ``n_rows``) into ``grad`` and ``hess``."""
        _grad_hess(scores, self.labels, self.group_ptr, self.weight, self.blocks, self.sigma, grad, hess)


def check_options(*, sigma: float = 1.0) -> None:
    """Check :func:`prepare`'s options (a ValueError naming the bad one), before any data is read."""
    if not (isinstance(sigma, (int, float, np.number)) and not isinstance(sigma, bool) and math.isfinite(sigma)
            and sigma > 0):
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")


def _check(labels, group_ptr, weight, sigma):
    check_options(sigma=sigma)
    y = as_labels(labels)
    ptr = as_group_ptr(group_ptr, y.size)
    return y, ptr, as_row_weights(weight, ptr)


def prepare(labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
            sigma: float = 1.0) -> RankNetObjective:
    """Validate once; the returned object computes gradients for any scores.

    Parameters
    ----------
    labels : array-like of shape (n_rows,)
        Non-negative relevance labels (any real grades; only their order within a query matters).
    group_ptr : array-like of int64, shape (n_queries + 1,)
    weight : array-like of shape (n_rows,) or (n_queries,), optional
    sigma : float, default=1.0
        Steepness of the pairwise sigmoid.
    """
    y, ptr, w = _check(labels, group_ptr, weight, sigma)
    return RankNetObjective(y, ptr, w, float(sigma))


def grad_hess(scores: ArrayLike, labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
              sigma: float = 1.0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """RankNet gradients and hessians (formulas in the module docstring).

    Examples
    --------
    Two documents with equal scores, the first relevant: p = 1/2, so the gradients are -1/2 and +1/2 and the
    hessians 1/4.

    >>> g, h = grad_hess([0.0, 0.0], [1, 0], [0, 2])
    >>> g.tolist(), h.tolist()
    ([-0.5, 0.5], [0.25, 0.25])
    """
    obj = prepare(labels, group_ptr, weight=weight, sigma=sigma)
    return compute_fresh(obj, scores)


@njit(cache=True)
def _loss_query(s, y, sigma) -> float:
    total = 0.0
    for i in range(s.size):
        for j in range(i + 1, s.size):
            if y[i] == y[j]:
                continue
            x = sigma * (s[i] - s[j]) if y[i] > y[j] else sigma * (s[j] - s[i])
            total += max(-x, 0.0) + math.log1p(math.exp(-abs(x)))  # log(1 + exp(-x)), stable
    return total


def loss(scores: ArrayLike, labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
         sigma: float = 1.0) -> float:
    """Total RankNet loss; with weights, each query's loss is weighted by its first row's weight.

    Examples
    --------
    >>> round(loss([0.0, 0.0], [1, 0], [0, 2]), 6)   # log 2
    0.693147
    """
    y, ptr, w = _check(labels, group_ptr, weight, sigma)
    s = as_scores(scores, y.size)
    total = 0.0
    for q in range(ptr.size - 1):
        a, e = ptr[q], ptr[q + 1]
        total += _loss_query(s[a:e], y[a:e], float(sigma)) * (w[a] if w.size else 1.0)
    return float(total)
