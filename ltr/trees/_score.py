r"""Numba kernels that score a :class:`~ltr.trees.TreeEnsemble`: a QuickScorer-style fast path and a reference walk.

The fast path (Lucchese et al., "QuickScorer", SIGIR 2015; vectorised over documents as in vQS, Lucchese et al.,
SIGIR 2016) numbers every tree's leaves from left to right and keeps, per row and tree, a bitvector of the leaves
still reachable. A split node whose test sends the row right removes the leaves of its left subtree (``v &= mask``);
after every node of the tree has been applied, the exit leaf is the lowest set bit. Every node applies the same
test, ``x > t``, to a prepared column of the input, so that a node costs a compare and a masked AND over a block
of rows. Nodes come in groups of :data:`GROUP` of the same tree and 32-leaf word, so that the bitvector is loaded
and stored once per group, not once per node; :func:`apply_group` applies a group to the block in vectors of
:data:`LANES` rows (16-lane AVX-512 instructions, or twice as many 8-lane AVX2 ones, as the CPU has). The exit
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
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import intrinsic, overload

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

#: Nodes per group in the fast kernel (:func:`apply_group` applies this many to a block of rows).
GROUP = 8
#: Rows per vector in :func:`apply_group`; the fast kernel pads its blocks of rows to a multiple of this.
LANES = 16
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


# ------------------------------------------------------------------------------------------------------------------
# One group of nodes over a block of rows: the fast kernel's inner loop, as explicit vector code
# ------------------------------------------------------------------------------------------------------------------
def apply_group(xt, v, w, tiles, groups, g, thresholds, masks) -> None:
    """For each of group ``g``'s :data:`GROUP` entries ``k``: ``v[w, r] &= masks[g, k]`` on the rows ``r`` of the
    first ``tiles * LANES`` where ``xt[groups[g, k], r] > thresholds[g, k]``.

    This is the Python twin (what ``.py_func`` runs); jitted code gets :func:`_apply_group_vectors`, the same loop
    written as LLVM vector instructions. Written as a plain Numba loop over rows, LLVM vectorised it too, but guarded
    each group's loop with run-time checks that the bitvector row overlaps none of the eight input columns, and with
    Numba's negative-index handling of the eight column numbers: about 70 cycles per group, which on a 100-row block
    (7 vectors of 16 rows) cost as much as the group's work. The vector code has neither (measured on the MSLR
    sample, one thread, 100 trees of 255 leaves: 100 rows 18.6 -> 15.9 ns per row and tree, 20 rows 67 -> 43 ns).
    """
    n = tiles * LANES
    for k in range(GROUP):
        hit = xt[groups[g, k], :n] > thresholds[g, k]
        v[w, :n][hit] &= masks[g, k]


@intrinsic
def _apply_group_vectors(typingctx, xt, v, w, tiles, groups, g, thresholds, masks):
    """:func:`apply_group` in LLVM IR: per vector of :data:`LANES` rows, a load of the bitvector, per entry a load of
    the input column, an ordered ``>`` against the broadcast threshold (NaN never passes, as in Python) and a select
    of the masked bitvector, then one store. The arrays must be C-contiguous and ``tiles * LANES`` rows long."""
    if any(not isinstance(a, types.Array) or a.ndim != 2 or a.layout != "C" for a in (xt, v, groups, thresholds,
                                                                                     masks)):
        return None  # rows are read as contiguous vectors: anything else is a typing error, not wrong bits
    sig = types.void(xt, v, w, tiles, groups, g, thresholds, masks)

    def codegen(context, builder, signature, args):
        i64, i32 = ir.IntType(64), ir.IntType(32)
        byte_ptr = ir.IntType(8).as_pointer()
        xt_ty, v_ty, w_ty, tiles_ty, groups_ty, g_ty, thr_ty, masks_ty = signature.args
        xt_a, v_a, groups_a, thr_a, masks_a = (context.make_array(ty)(context, builder, val) for ty, val in (
            (xt_ty, args[0]), (v_ty, args[1]), (groups_ty, args[4]), (thr_ty, args[6]), (masks_ty, args[7])))
        w_, tiles_, g_ = (context.cast(builder, val, ty, types.int64)
                          for val, ty in ((args[2], w_ty), (args[3], tiles_ty), (args[5], g_ty)))
        real = context.get_data_type(xt_ty.dtype)
        real_vec, word_vec = ir.VectorType(real, LANES), ir.VectorType(i32, LANES)

        def row(arr, index, element):  # &arr[index, 0] as an element pointer
            stride = builder.extract_value(arr.strides, 0)
            at = builder.gep(builder.bitcast(arr.data, byte_ptr), [builder.mul(index, stride)])
            return builder.bitcast(at, element.as_pointer())

        def broadcast(value):
            undef = ir.Constant(ir.VectorType(value.type, LANES), ir.Undefined)
            one = builder.insert_element(undef, value, ir.Constant(i32, 0))
            return builder.shuffle_vector(one, undef, ir.Constant(ir.VectorType(i32, LANES), [0] * LANES))

        cols, thr, mask = row(groups_a, g_, i32), row(thr_a, g_, real), row(masks_a, g_, i32)
        columns, limits, clears = [], [], []
        for k in range(GROUP):
            col = builder.zext(builder.load(builder.gep(cols, [ir.Constant(i64, k)])), i64)
            columns.append(row(xt_a, col, real_vec))
            limits.append(broadcast(builder.load(builder.gep(thr, [ir.Constant(i64, k)]))))
            clears.append(broadcast(builder.load(builder.gep(mask, [ir.Constant(i64, k)]))))
        bits = row(v_a, w_, word_vec)
        with cgutils.for_range(builder, tiles_) as loop:
            at = builder.gep(bits, [loop.index])
            x = builder.load(at, align=4)
            for k in range(GROUP):
                passed = builder.fcmp_ordered(">", builder.load(builder.gep(columns[k], [loop.index]), align=4),
                                              limits[k])
                x = builder.select(passed, builder.and_(x, clears[k]), x)
            builder.store(x, at, align=4)
        return context.get_dummy_value()

    return sig, codegen


@overload(apply_group)
def _apply_group_jit(xt, v, w, tiles, groups, g, thresholds, masks):
    def impl(xt, v, w, tiles, groups, g, thresholds, masks):
        _apply_group_vectors(xt, v, w, tiles, groups, g, thresholds, masks)

    return impl


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
    left-to-right order. ``v`` is ``(max words, >= nbp)`` uint32 scratch; ``nbp`` is a multiple of :data:`LANES`.
    """
    ones = np.uint32(0xFFFFFFFF)
    for t in range(t_end):
        for w in range(trees[t, 1]):
            for r in range(nbp):
                v[w, r] = ones
        for g in range(trees[t, 0], trees[t + 1, 0]):
            apply_group(xt, v, groups[g, GROUP], nbp // LANES, groups, g, thresholds, masks)
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
    nbp = (nb + LANES - 1) // LANES * LANES  # whole vectors: no scalar remainder loop
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
    bp = (block + LANES - 1) // LANES * LANES
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
    bp = (block + LANES - 1) // LANES * LANES
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
