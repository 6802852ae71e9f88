r"""ListNet: cross-entropy between the top-one distributions of the scores and of the labels.

For one query, :math:`P_s = \mathrm{softmax}(s)` and a target distribution :math:`P_y` from the labels, either
``target="softmax"`` (:math:`\mathrm{softmax}(y)`, Cao et al.) or ``target="gain"``
(:math:`(2^{y_i} - 1) / \sum_j (2^{y_j} - 1)`, the gain-normalised target used with NDCG). Then

.. math::

    \ell = -\sum_i P_y(i) \log P_s(i), \qquad g_i = P_s(i) - P_y(i), \qquad h_i = P_s(i)\,(1 - P_s(i)).

The returned hessian is the **diagonal** of the true Hessian :math:`\mathrm{diag}(P_s) - P_s P_s^\top` (the
off-diagonal terms cannot be used by tree boosters, which take one second derivative per row).

Edge cases: a query with one document, or whose labels are all equal, carries no ranking information and gets
zero loss, gradients and hessians (for the gain target this includes queries without a relevant document).
Row weights multiply each row's gradient and hessian; with one weight per query this is the gradient of the
weighted loss.

References
----------
Z. Cao, T. Qin, T.-Y. Liu, M.-F. Tsai, H. Li, "Learning to Rank: From Pairwise Approach to Listwise Approach",
ICML 2007.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike, NDArray

from ltr.kernels._common import as_group_ptr, as_labels, as_row_weights, as_scores, compute_fresh, work_blocks

__all__ = ["TARGETS", "ListNetObjective", "check_options", "grad_hess", "loss", "prepare"]

TARGETS = {"softmax": 0, "gain": 1}
_SOFTMAX, _GAIN = 0, 1


@njit(cache=True)
def _softmax(x, out) -> None:
    top = x.max()
    total = 0.0
    for i in range(x.size):
        out[i] = math.exp(x[i] - top)
        total += out[i]
    for i in range(x.size):
        out[i] /= total


@njit(cache=True)
def _target(y, target, out) -> None:
    if target == _SOFTMAX:
        _softmax(y, out)
    else:
        total = 0.0
        for i in range(y.size):
            out[i] = math.pow(2.0, y[i]) - 1.0
            total += out[i]
        for i in range(y.size):
            out[i] /= total


@njit(cache=True)
def _informative(y) -> bool:
    # At least two documents and two different labels; otherwise the query has nothing to rank.
    for i in range(1, y.size):
        if y[i] != y[0]:
            return True
    return False


@njit(cache=True)
def _query(s, y, w, target, ps, py, grad, hess) -> None:
    """Gradients and hessians of one query's rows; ``ps``, ``py`` are scratch arrays of length >= n."""
    n = s.size
    if not _informative(y):
        for i in range(n):
            grad[i] = 0.0
            hess[i] = 0.0
        return
    _softmax(s, ps[:n])
    _target(y, target, py[:n])
    for i in range(n):
        wi = w[i] if w.size else 1.0
        grad[i] = (ps[i] - py[i]) * wi
        hess[i] = ps[i] * (1.0 - ps[i]) * wi


@njit(cache=True, parallel=True)
def _grad_hess(scores, labels, group_ptr, weight, blocks, max_n, target, grad, hess) -> None:
    """Driver: ``prange`` over blocks of queries; each query writes only its own rows."""
    for b in prange(blocks.size - 1):
        ps = np.empty(max_n)
        py = np.empty(max_n)
        for q in range(blocks[b], blocks[b + 1]):
            a, e = group_ptr[q], group_ptr[q + 1]
            w = weight[a:e] if weight.size else weight
            _query(scores[a:e], labels[a:e], w, target, ps, py, grad[a:e], hess[a:e])


class ListNetObjective:
    """ListNet state for one training set; build it with :func:`prepare`, call :meth:`compute` every round."""

    def __init__(self, labels, group_ptr, weight, target):
        self.labels = labels
        self.group_ptr = group_ptr
        self.weight = weight
        self.target = target
        self.n_rows = int(group_ptr[-1])
        sizes = np.diff(group_ptr)
        self.max_n = int(sizes.max()) if sizes.size else 1
        self.blocks = work_blocks(group_ptr, sizes.astype(np.float64))

    def compute(self, scores: NDArray[np.float64], grad: NDArray[np.float64], hess: NDArray[np.float64]) -> None:
        """Write gradients and hessians for ``scores`` (float64, length ``n_rows``) into ``grad`` and ``hess``."""
        _grad_hess(scores, self.labels, self.group_ptr, self.weight, self.blocks, self.max_n, self.target,
                   grad, hess)


def check_options(*, target: str = "softmax") -> None:
    """Check :func:`prepare`'s options (a ValueError naming the bad one), before any data is read."""
    if not isinstance(target, str) or target not in TARGETS:
        raise ValueError(f"target must be one of {sorted(TARGETS)}, got {target!r}")


def _check(labels, group_ptr, weight, target):
    check_options(target=target)
    y = as_labels(labels)
    if TARGETS[target] == _GAIN and y.size and y.max() > 1000:
        raise ValueError(f"target='gain' computes 2**label; labels above 1000 overflow (max is {y.max():g})")
    ptr = as_group_ptr(group_ptr, y.size)
    return y, ptr, as_row_weights(weight, ptr)


def prepare(labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
            target: str = "softmax") -> ListNetObjective:
    """Validate once; the returned object computes gradients for any scores.

    Parameters
    ----------
    labels : array-like of shape (n_rows,)
        Non-negative relevance labels.
    group_ptr : array-like of int64, shape (n_queries + 1,)
    weight : array-like of shape (n_rows,) or (n_queries,), optional
    target : {"softmax", "gain"}, default="softmax"
        Target top-one distribution: softmax of the labels, or gains :math:`2^y - 1` normalised to sum to one.
    """
    y, ptr, w = _check(labels, group_ptr, weight, target)
    return ListNetObjective(y, ptr, w, TARGETS[target])


def grad_hess(scores: ArrayLike, labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
              target: str = "softmax") -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """ListNet gradients and diagonal hessians (formulas in the module docstring).

    Examples
    --------
    Equal scores give P_s = (1/2, 1/2); labels (1, 0) with the gain target give P_y = (1, 0).

    >>> g, h = grad_hess([0.0, 0.0], [1, 0], [0, 2], target="gain")
    >>> g.tolist(), h.tolist()
    ([-0.5, 0.5], [0.25, 0.25])
    """
    obj = prepare(labels, group_ptr, weight=weight, target=target)
    return compute_fresh(obj, scores)


def loss(scores: ArrayLike, labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
         target: str = "softmax") -> float:
    """Total ListNet cross-entropy; with weights, each query's loss is weighted by its first row's weight.

    Examples
    --------
    >>> round(loss([0.0, 0.0], [1, 0], [0, 2], target="gain"), 6)   # -log(1/2)
    0.693147
    """
    y, ptr, w = _check(labels, group_ptr, weight, target)
    s = as_scores(scores, y.size)
    total = 0.0
    for q in range(ptr.size - 1):
        a, e = ptr[q], ptr[q + 1]
        sq, yq = s[a:e], y[a:e]
        if e - a < 2 or np.all(yq == yq[0]):
            continue
        log_ps = sq - sq.max() - np.log(np.sum(np.exp(sq - sq.max())))
        if TARGETS[target] == _SOFTMAX:
            py = np.exp(yq - yq.max())
        else:
            py = np.power(2.0, yq) - 1.0
        py = py / py.sum()
        total += -float(np.sum(py * log_ps)) * (w[a] if w.size else 1.0)
    return float(total)
