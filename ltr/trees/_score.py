r"""Numba kernels that score a :class:`~ltr.trees.TreeEnsemble`: a QuickScorer-style fast path and a reference walk.

The fast path (Lucchese et al., "QuickScorer", SIGIR 2015; vectorised over documents as in vQS, Lucchese et al.,
SIGIR 2016) numbers every tree's leaves from left to right and keeps, per row and tree, a bitvector of the leaves
still reachable. A split node whose test sends the row right removes the leaves of its left subtree (``v &= mask``);
after every node of the tree has been applied, the exit leaf is the lowest set bit. Every node applies the same
test, ``x > t``, to a prepared column of the input, so that a node costs a compare and a masked AND over a block
of rows, which LLVM turns into 16-lane AVX-512 (or 8-lane AVX2) code. Nodes come in groups of :data:`GROUP` of the
same tree and 32-leaf word, so that the bitvector is loaded and stored once per group, not once per node. The exit
leaves are then looked up row by row (a scalar loop: LLVM cannot vectorise a gather next to a store it may alias).

How the engines' rules become ``x > t`` (the plan in :mod:`ltr.trees._layout` picks the column kind and ``t``):

* LightGBM sends ``x`` left when ``x <= threshold`` in float64, after its dense-input conversion has turned every
  value with ``|x| <= 1e-35`` into 0; a NaN is 0 for missing type None, and the default direction decides for a NaN
  (missing type NaN) or a zero (missing type Zero). On float32 input, ``x <= threshold`` is ``x <= t`` for ``t``
  the largest float32 not above the threshold, so the columns stay float32.
* XGBoost casts the input to float32 and sends ``x`` left when ``x < split_condition``; a NaN takes the default
  direction. ``x >= c`` is ``x > t`` for ``t`` the float32 just below ``c``.
* A missing value that goes left stays NaN (``NaN > t`` is false); one that goes right becomes +inf. A feature
  whose nodes disagree on the direction gets two prepared columns. A LightGBM node with threshold +inf whose
  missing values go right tests only "is it missing": it reads a 0/1 flag column against 0.5.

Sums follow the engines: trees are added one at a time, in order, to a float64 accumulator starting at 0
(LightGBM) or to a float32 one starting at the base score (XGBoost), so the results are bit-for-bit theirs.

The reference walk follows each tree node by node with the engine's own rule, straight from the record's arrays;
tests check the fast path against it and both against the engines.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numba.cpython.unsafe.numbers import trailing_zeros

__all__ = [
    "GROUP",
    "KIND_LGB_NAN_FLAG",
    "KIND_LGB_NAN_LEFT",
    "KIND_LGB_NAN_RIGHT",
    "KIND_LGB_NONE",
    "KIND_LGB_ZERO_FLAG",
    "KIND_LGB_ZERO_LEFT",
    "KIND_LGB_ZERO_RIGHT",
    "KIND_XGB_LEFT",
    "KIND_XGB_RIGHT",
    "K_ZERO",
    "predict_fast",
    "predict_fast_parallel",
    "walk_lightgbm",
    "walk_xgboost",
]

#: Nodes per group in the fast kernel (the unrolled inner loop below applies this many).
GROUP = 8
#: LightGBM's ``kZeroThreshold`` (``1e-35f`` widened to double): smaller magnitudes are read as 0.
K_ZERO = float(np.float32(1e-35))

# How a prepared column is made from an input feature (the missing rule folded into the value; see module doc).
KIND_LGB_NONE = 0  # NaN and |x| <= K_ZERO -> 0
KIND_LGB_NAN_LEFT = 1  # |x| <= K_ZERO -> 0, NaN stays NaN (goes left)
KIND_LGB_NAN_RIGHT = 2  # |x| <= K_ZERO -> 0, NaN -> +inf (goes right)
KIND_LGB_ZERO_LEFT = 3  # NaN and |x| <= K_ZERO -> NaN (goes left)
KIND_LGB_ZERO_RIGHT = 4  # NaN and |x| <= K_ZERO -> +inf (goes right)
KIND_XGB_LEFT = 5  # cast to float32, NaN stays NaN
KIND_XGB_RIGHT = 6  # cast to float32, NaN -> +inf
KIND_LGB_NAN_FLAG = 7  # 1 for NaN, else 0 (for "missing goes right, present values left": threshold +inf)
KIND_LGB_ZERO_FLAG = 8  # 1 for NaN and |x| <= K_ZERO, else 0 (the same for missing type Zero)

_INF = np.inf
_NAN = np.nan


@njit(cache=True)
def _fill_block(X, r0, nb, nbp, cols, xt) -> None:
    """Prepared columns of rows ``r0:r0+nb`` into ``xt[:, :nbp]``; the padding rows get 0 (their scores are dropped).

    Column by column: a strided copy (cast to the column dtype), then a branch-free pass for the column's kind.
    """
    rows = X[r0:r0 + nb]  # a view: indexing it from 0 lets LLVM vectorise the copy (X[r0 + r] ran 2.5x slower)
    for c in range(cols.shape[0]):
        f, kind = cols[c, 0], cols[c, 1]
        x = xt[c]
        for r in range(nb):
            x[r] = rows[r, f]
        for r in range(nb, nbp):
            x[r] = 0.0
        if kind == KIND_XGB_LEFT:
            continue
        if kind == KIND_XGB_RIGHT:
            for r in range(nb):
                x[r] = _INF if x[r] != x[r] else x[r]
        elif kind == KIND_LGB_NONE:
            for r in range(nb):
                x[r] = x[r] if abs(x[r]) > K_ZERO else 0.0
        elif kind == KIND_LGB_NAN_LEFT:
            for r in range(nb):
                x[r] = x[r] if abs(x[r]) > K_ZERO or x[r] != x[r] else 0.0
        elif kind == KIND_LGB_NAN_RIGHT:
            for r in range(nb):
                x[r] = x[r] if abs(x[r]) > K_ZERO else (_INF if x[r] != x[r] else 0.0)
        elif kind == KIND_LGB_ZERO_LEFT:
            for r in range(nb):
                x[r] = x[r] if abs(x[r]) > K_ZERO else _NAN
        elif kind == KIND_LGB_ZERO_RIGHT:
            for r in range(nb):
                x[r] = x[r] if abs(x[r]) > K_ZERO else _INF
        elif kind == KIND_LGB_NAN_FLAG:
            for r in range(nb):
                x[r] = 1.0 if x[r] != x[r] else 0.0
        else:
            for r in range(nb):
                x[r] = 0.0 if abs(x[r]) > K_ZERO else 1.0


@njit(cache=True)
def _score_block(xt, nbp, t_end, trees, groups, thresholds, masks, leaves, v, acc) -> None:
    """Add trees ``0:t_end`` to ``acc[:nbp]`` for the prepared rows in ``xt``.

    ``trees[t]`` = (first group, 32-leaf words, first leaf), with one extra row closing the ranges; ``groups[g]`` =
    (the :data:`GROUP` columns, word); ``thresholds``/``masks`` are ``(n_groups, GROUP)``; ``leaves`` are in
    left-to-right order. ``v`` is ``(max words, >= nbp)`` uint32 scratch.
    """
    ones = np.uint32(0xFFFFFFFF)
    for t in range(t_end):
        for w in range(trees[t, 1]):
            for r in range(nbp):
                v[w, r] = ones
        for g in range(trees[t, 0], trees[t + 1, 0]):
            w = groups[g, 8]
            c0, c1, c2, c3, c4, c5, c6, c7 = groups[g, 0], groups[g, 1], groups[g, 2], groups[g, 3], \
                groups[g, 4], groups[g, 5], groups[g, 6], groups[g, 7]
            h0, h1, h2, h3, h4, h5, h6, h7 = thresholds[g, 0], thresholds[g, 1], thresholds[g, 2], \
                thresholds[g, 3], thresholds[g, 4], thresholds[g, 5], thresholds[g, 6], thresholds[g, 7]
            m0, m1, m2, m3, m4, m5, m6, m7 = masks[g, 0], masks[g, 1], masks[g, 2], masks[g, 3], masks[g, 4], \
                masks[g, 5], masks[g, 6], masks[g, 7]
            for r in range(nbp):
                # Selects, not branches: LLVM vectorises this loop over rows (a masked AND per node).
                x = v[w, r]
                x = x & m0 if xt[c0, r] > h0 else x
                x = x & m1 if xt[c1, r] > h1 else x
                x = x & m2 if xt[c2, r] > h2 else x
                x = x & m3 if xt[c3, r] > h3 else x
                x = x & m4 if xt[c4, r] > h4 else x
                x = x & m5 if xt[c5, r] > h5 else x
                x = x & m6 if xt[c6, r] > h6 else x
                x = x & m7 if xt[c7, r] > h7 else x
                v[w, r] = x
        lv = leaves[trees[t, 2]:trees[t + 1, 2]]
        if trees[t, 1] == 1:
            for r in range(nbp):
                acc[r] += lv[trailing_zeros(v[0, r])]  # an unsigned index: no negative-index check
        else:
            for r in range(nbp):
                w = 0
                while v[w, r] == 0:  # the tree's rightmost leaf is never cleared, so some word is non-zero
                    w += 1
                acc[r] += lv[32 * w + trailing_zeros(v[w, r])]


@njit(cache=True)
def _score_rows(X, r0, nb, cols, t_end, trees, groups, thresholds, masks, leaves, base, xt, v, acc, out) -> None:
    nbp = (nb + 15) // 16 * 16  # whole vectors: no scalar remainder loop
    _fill_block(X, r0, nb, nbp, cols, xt)
    for r in range(nbp):
        acc[r] = base
    _score_block(xt, nbp, t_end, trees, groups, thresholds, masks, leaves, v, acc)
    for r in range(nb):
        out[r0 + r] = acc[r]


@njit(cache=True)
def predict_fast(X, cols, t_end, trees, groups, thresholds, masks, leaves, base, block, out) -> None:
    """Score every row of ``X`` with trees ``0:t_end`` into ``out``, ``block`` rows at a time, on one thread.

    ``thresholds`` has the dtype the columns are compared in; ``leaves`` and ``base`` the dtype sums are made in.
    """
    n = X.shape[0]
    bp = (block + 15) // 16 * 16
    xt = np.empty((cols.shape[0], bp), dtype=thresholds.dtype)
    v = np.empty((max(1, trees[:, 1].max()), bp), dtype=np.uint32)
    acc = np.empty(bp, dtype=leaves.dtype)
    for r0 in range(0, n, block):
        nb = min(block, n - r0)
        _score_rows(X, r0, nb, cols, t_end, trees, groups, thresholds, masks, leaves, base, xt, v, acc, out)


@njit(cache=True, parallel=True)
def predict_fast_parallel(X, cols, t_end, trees, groups, thresholds, masks, leaves, base, block, out) -> None:
    """:func:`predict_fast` with a ``prange`` over row blocks; each block writes only its own rows of ``out``."""
    n = X.shape[0]
    bp = (block + 15) // 16 * 16
    n_words = max(1, trees[:, 1].max())
    for b in prange((n + block - 1) // block):
        r0 = b * block
        nb = min(block, n - r0)
        xt = np.empty((cols.shape[0], bp), dtype=thresholds.dtype)
        v = np.empty((n_words, bp), dtype=np.uint32)
        acc = np.empty(bp, dtype=leaves.dtype)
        _score_rows(X, r0, nb, cols, t_end, trees, groups, thresholds, masks, leaves, base, xt, v, acc, out)


@njit(cache=True)
def walk_lightgbm(X, tree_ptr, leaf_ptr, feature, threshold, left, right, default_left, missing_type, leaf_value,
                  t_end, out) -> None:
    """Reference: LightGBM's ``Tree::NumericalDecision`` node by node, float64 sums from 0 (``X`` is float64)."""
    for i in range(X.shape[0]):
        s = 0.0
        for t in range(t_end):
            base = tree_ptr[t]
            node = 0 if tree_ptr[t + 1] > base else -1
            while node >= 0:
                k = base + node
                x = X[i, feature[k]]
                if abs(x) <= K_ZERO:  # the dense-input conversion drops such values (they read as 0)
                    x = 0.0
                mt = missing_type[k]
                if x != x and mt != 2:
                    x = 0.0
                if (mt == 1 and x == 0.0) or (mt == 2 and x != x):
                    node = left[k] if default_left[k] else right[k]
                elif x <= threshold[k]:
                    node = left[k]
                else:
                    node = right[k]
            s += leaf_value[leaf_ptr[t] + ~node]
        out[i] = s


@njit(cache=True)
def walk_xgboost(X, tree_ptr, leaf_ptr, feature, threshold, left, right, default_left, leaf_value, base, t_end,
                 out) -> None:
    """Reference: XGBoost's ``GetNextNode`` node by node, float32 sums from the base score (all arrays float32)."""
    for i in range(X.shape[0]):
        s = base
        for t in range(t_end):
            first = tree_ptr[t]
            node = 0 if tree_ptr[t + 1] > first else -1
            while node >= 0:
                k = first + node
                x = X[i, feature[k]]
                if x != x:
                    node = left[k] if default_left[k] else right[k]
                elif x < threshold[k]:
                    node = left[k]
                else:
                    node = right[k]
            s += leaf_value[leaf_ptr[t] + ~node]
        out[i] = s
