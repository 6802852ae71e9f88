r"""Numba kernels that score a :class:`~ltr.trees.TreeEnsemble`: a QuickScorer-style fast path and a reference walk.

The fast path (Lucchese et al., "QuickScorer", SIGIR 2015; vectorised over documents as in vQS, Lucchese et al.,
SIGIR 2016) numbers every tree's leaves from left to right and keeps, per row and tree, a bitvector of the leaves
still reachable. A split node whose test sends the row right removes the leaves of its left subtree (``v &= mask``);
after every node of the tree has been applied, the exit leaf is the lowest set bit. Every node applies the same
test, ``x > t``, to a prepared column of the input. Nodes share few distinct (column, threshold) tests (the engines
split on histogram bins), so :func:`compare_tests` makes each test once per block of rows, one bit per row, as
RapidScorer merges equal nodes (Ye et al., KDD 2018); a node then costs the load of its test's bits and a masked
AND. Nodes come in groups of :data:`GROUP` of the same tree and 32-leaf word, so that the bitvector is loaded and
stored once per group, not once per node; :func:`apply_groups` applies a tree's groups to the block in vectors of
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
    "PREPARE",
    "TRANSPOSE_MIN",
    "predict_fast",
    "predict_fast_parallel",
    "walk_lightgbm",
    "walk_xgboost",
]

#: Nodes per group in the fast kernel (:func:`apply_groups` applies this many at a time to a block of rows). 16 was
#: slower (MSLR sample, 100 rows, one thread, LightGBM 100 trees of 255 leaves: 8.1-8.3 ns per row and tree with 8,
#: 9.5-10.2 with 16; 1000 trees 6.7-6.9 against 8.9-9.1).
GROUP = 8
#: Rows per vector in :func:`apply_groups`; the fast kernel pads its blocks of rows to a multiple of this.
LANES = 16
#: A test's result over a vector of rows: one bit per row.
MASK_DTYPE = np.dtype(f"uint{LANES}")
#: A block of LANES features is transposed as a whole when its prepared columns read at least this many of them, and
#: copied feature by feature otherwise (10 trees of 7 leaves that read 2 of 136 features, 100 rows, each pair timed
#: in one process: 3.8 us with both blocks transposed against 3.2 us so; 2.3 us so against 2.2 us with the
#: column-by-column copy of 843f0ff).
TRANSPOSE_MIN = 4
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

#: Each kind as the numbers (limit, keep, c, a, b) of one rule, so that one branch-free loop makes every kind: a
#: prepared value is ``x`` (``keep`` 1) or ``c`` (``keep`` 0) where ``|x| > limit``, else ``a`` for a NaN and ``b``
#: otherwise. Rows in kind order.
PREPARE = np.array([
    [K_ZERO, 1.0, 0.0, 0.0, 0.0],  # KIND_LGB_NONE
    [K_ZERO, 1.0, 0.0, np.nan, 0.0],  # KIND_LGB_NAN_LEFT
    [K_ZERO, 1.0, 0.0, np.inf, 0.0],  # KIND_LGB_NAN_RIGHT
    [K_ZERO, 1.0, 0.0, np.nan, np.nan],  # KIND_LGB_ZERO_LEFT
    [K_ZERO, 1.0, 0.0, np.inf, np.inf],  # KIND_LGB_ZERO_RIGHT
    [-1.0, 1.0, 0.0, np.nan, 0.0],  # KIND_XGB_LEFT (|x| > -1 for every x but NaN)
    [-1.0, 1.0, 0.0, np.inf, 0.0],  # KIND_XGB_RIGHT
    [K_ZERO, 0.0, 0.0, 1.0, 0.0],  # KIND_LGB_NAN_FLAG
    [K_ZERO, 0.0, 0.0, 1.0, 1.0],  # KIND_LGB_ZERO_FLAG
])


# ------------------------------------------------------------------------------------------------------------------
# The block's tests, then a tree's groups of nodes over it: the fast kernel's inner loops, as explicit vector code
# ------------------------------------------------------------------------------------------------------------------
def compare_tests(xt, K, tiles, test_cols, test_thresholds, n_tests) -> None:
    """For each test ``u < n_tests`` and vector ``i < tiles``: bit ``j`` of ``K[u, i]`` set where row ``LANES * i +
    j`` of prepared column ``test_cols[u]`` is ``> test_thresholds[u]`` (NaN never is).

    This is the Python twin (what ``.py_func`` runs); jitted code gets :func:`_compare_vectors`: per test and vector
    of :data:`LANES` rows, one load, one ordered compare and the store of its :data:`LANES`-bit mask.
    """
    n = tiles * LANES
    weights = (1 << np.arange(LANES)).astype(K.dtype)
    for u in range(n_tests):
        hit = xt[test_cols[u], :n] > test_thresholds[u]
        K[u, :tiles] = (hit.reshape(tiles, LANES) * weights).sum(axis=1, dtype=K.dtype)


@intrinsic
def _compare_vectors(typingctx, xt, K, tiles, test_cols, test_thresholds, n_tests):
    """:func:`compare_tests` in LLVM IR; the arrays must be C-contiguous, ``xt`` ``tiles * LANES`` rows long."""
    if any(not isinstance(a, types.Array) or a.layout != "C" for a in (xt, K, test_cols, test_thresholds)):
        return None
    sig = types.void(xt, K, tiles, test_cols, test_thresholds, n_tests)

    def codegen(context, builder, signature, args):
        i64, i32, bits = ir.IntType(64), ir.IntType(32), ir.IntType(LANES)
        xt_ty, k_ty, tiles_ty, cols_ty, thr_ty, n_ty = signature.args
        xt_a, k_a, cols_a, thr_a = (context.make_array(ty)(context, builder, val) for ty, val in (
            (xt_ty, args[0]), (k_ty, args[1]), (cols_ty, args[3]), (thr_ty, args[4])))
        tiles_, n_ = (context.cast(builder, val, ty, types.int64) for val, ty in ((args[2], tiles_ty),
                                                                                    (args[5], n_ty)))
        real = context.get_data_type(xt_ty.dtype)
        real_vec = ir.VectorType(real, LANES)
        cols = builder.bitcast(cols_a.data, i32.as_pointer())
        thresholds = builder.bitcast(thr_a.data, real.as_pointer())
        with cgutils.for_range(builder, n_) as tests:
            u = tests.index
            column = _row(builder, xt_a, builder.zext(builder.load(builder.gep(cols, [u])), i64), real_vec)
            limit = _broadcast(builder, builder.load(builder.gep(thresholds, [u])))
            out = _row(builder, k_a, u, bits)
            with cgutils.for_range(builder, tiles_) as loop:
                value = builder.load(builder.gep(column, [loop.index]), align=4)
                hit = builder.fcmp_ordered(">", value, limit)
                builder.store(builder.bitcast(hit, bits), builder.gep(out, [loop.index]))
        return context.get_dummy_value()

    return sig, codegen


@overload(compare_tests)
def _compare_tests_jit(xt, K, tiles, test_cols, test_thresholds, n_tests):
    def impl(xt, K, tiles, test_cols, test_thresholds, n_tests):
        _compare_vectors(xt, K, tiles, test_cols, test_thresholds, n_tests)

    return impl


def apply_groups(K, v, tiles, groups, g0, g1, masks) -> None:
    """For each group ``g`` in ``g0:g1`` and each of its :data:`GROUP` entries ``k``: ``v[w, r] &= masks[g, k]``
    (``w = groups[g, GROUP]``) on the rows ``r`` of the first ``tiles * LANES`` whose bit is set in the masks of test
    ``groups[g, k]`` (``K``, :func:`compare_tests`).

    This is the Python twin (what ``.py_func`` runs); jitted code gets :func:`_apply_groups_vectors`, the same loops
    written as LLVM vector instructions: per entry and vector of rows, the load of a :data:`LANES`-bit mask and a
    masked AND. The compares are made once per test, before the trees, not once per node: the nodes of an ensemble
    share few distinct (column, threshold) tests (MSLR sample, LightGBM: 29,663 nodes of 100 trees of 255 leaves make
    4,059 tests, 296,843 of 1,000 trees 5,288), and a node then costs a mask load where it cost a compare (the bench
    models, 100 rows, one thread, the best of three runs of each kernel, alternating: LightGBM 100 trees of 255
    leaves 12.0 -> 8.2 ns per row and tree, 1,000 trees 8.2 -> 6.8, 1,000 trees of 31 leaves 1.55 -> 1.12, 100 trees
    of 31 leaves 1.73 -> 1.81; XGBoost 1.08-1.16 times faster).

    Written as a plain Numba loop over rows, LLVM guarded each group's loop with run-time checks that the bitvector
    row overlaps none of the eight input rows, and with Numba's negative-index handling of the eight indices: about
    70 cycles per group, as much as a 100-row block's work. The loop over a tree's groups is part of the vector code
    too: called once per group from Numba, the group's set-up reloaded the arrays' addresses and strides from the
    stack every time.
    """
    n = tiles * LANES
    lanes = np.arange(n)
    for g in range(g0, g1):
        w = groups[g, GROUP]
        for k in range(GROUP):
            hit = (K[groups[g, k], lanes // LANES].astype(np.int64) >> (lanes % LANES)) & 1 == 1
            v[w, :n][hit] &= masks[g, k]


def _row(builder, arr, index, element):
    """``&arr[index, 0]`` as a pointer to ``element`` (a C-contiguous array's row)."""
    stride = builder.extract_value(arr.strides, 0)
    at = builder.gep(builder.bitcast(arr.data, ir.IntType(8).as_pointer()), [builder.mul(index, stride)])
    return builder.bitcast(at, element.as_pointer())


def _broadcast(builder, value):
    """``value`` in every lane of a :data:`LANES`-vector."""
    undef = ir.Constant(ir.VectorType(value.type, LANES), ir.Undefined)
    one = builder.insert_element(undef, value, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(one, undef, ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES))


@intrinsic
def _apply_groups_vectors(typingctx, K, v, tiles, groups, g0, g1, masks):
    """:func:`apply_groups` in LLVM IR: per group, the entries' mask rows and broadcast clears; then per vector of
    :data:`LANES` rows, a load of the bitvector, per entry a load of its mask and a select of the masked bitvector,
    then one store. The arrays must be C-contiguous and ``tiles * LANES`` rows long."""
    if any(not isinstance(a, types.Array) or a.ndim != 2 or a.layout != "C" for a in (K, v, groups, masks)):
        return None  # rows are read as contiguous vectors: anything else is a typing error, not wrong bits
    sig = types.void(K, v, tiles, groups, g0, g1, masks)

    def codegen(context, builder, signature, args):
        i64, i32, bits = ir.IntType(64), ir.IntType(32), ir.IntType(LANES)
        k_ty, v_ty, tiles_ty, groups_ty, g0_ty, g1_ty, masks_ty = signature.args
        k_a, v_a, groups_a, masks_a = (context.make_array(ty)(context, builder, val) for ty, val in (
            (k_ty, args[0]), (v_ty, args[1]), (groups_ty, args[3]), (masks_ty, args[6])))
        tiles_, g0_, g1_ = (context.cast(builder, val, ty, types.int64)
                            for val, ty in ((args[2], tiles_ty), (args[4], g0_ty), (args[5], g1_ty)))
        word_vec, flags = ir.VectorType(i32, LANES), ir.VectorType(ir.IntType(1), LANES)

        with cgutils.for_range_slice(builder, g0_, g1_, ir.Constant(i64, 1)) as (g, _):
            entries, mask = _row(builder, groups_a, g, i32), _row(builder, masks_a, g, i32)
            tests, clears = [], []
            for k in range(GROUP):
                u = builder.zext(builder.load(builder.gep(entries, [ir.Constant(i64, k)])), i64)
                tests.append(_row(builder, k_a, u, bits))
                clears.append(_broadcast(builder, builder.load(builder.gep(mask, [ir.Constant(i64, k)]))))
            word = builder.zext(builder.load(builder.gep(entries, [ir.Constant(i64, GROUP)])), i64)
            row_bits = _row(builder, v_a, word, word_vec)
            with cgutils.for_range(builder, tiles_) as loop:
                at = builder.gep(row_bits, [loop.index])
                x = builder.load(at, align=4)
                for k in range(GROUP):
                    hit = builder.bitcast(builder.load(builder.gep(tests[k], [loop.index])), flags)
                    x = builder.select(hit, builder.and_(x, clears[k]), x)
                builder.store(x, at, align=4)
        return context.get_dummy_value()

    return sig, codegen


@overload(apply_groups)
def _apply_groups_jit(K, v, tiles, groups, g0, g1, masks):
    def impl(K, v, tiles, groups, g0, g1, masks):
        _apply_groups_vectors(K, v, tiles, groups, g0, g1, masks)

    return impl


# ------------------------------------------------------------------------------------------------------------------
# Prepared columns: the input is row-major, the kernel reads it column by column, each under its missing rule
# ------------------------------------------------------------------------------------------------------------------
def transpose_tile(X, r, last, f, xf, t) -> None:
    """``xf[i, t + j] = X[min(r + j, last), f + i]`` for ``i, j < LANES``: a tile of :data:`LANES` rows (the rows
    past ``last`` repeat row ``last``) and :data:`LANES` features of ``X``, transposed into ``xf``.

    This is the Python twin (what ``.py_func`` runs); jitted code gets :func:`_transpose_vectors`: one vector load
    per row, four stages of :data:`LANES` two-vector shuffles, one vector store per feature. NumPy's ``X.T.copy()``
    of 100 rows x 136 features takes 5 us, as long as scoring them with 25 trees of 31 leaves; these tiles 1.6 us.
    Copied element by element instead (each element a load from another row, so another cache line), the whole
    ``predict`` of 100 rows with 100 trees of 31 leaves was 11-16 % slower (MSLR sample, one thread, in the same
    process).
    """
    rows = np.minimum(np.arange(r, r + LANES), last)
    xf[:, t:t + LANES] = X[rows, f:f + LANES].T


def _transpose_stage(s):
    """Shuffle masks of stage ``s`` of the transposition: a pair of vectors ``(A, B)`` of rows that differ in bit
    ``s`` becomes the pair whose element ``j`` comes from ``A`` or ``B`` as bit ``s`` of ``j`` says, so that after
    the stages 0-3 the row and element bits have been swapped one by one."""
    b = 1 << s
    low = [j if not j & b else LANES + j - b for j in range(LANES)]
    high = [j + b if not j & b else LANES + j for j in range(LANES)]
    return low, high


@intrinsic
def _transpose_vectors(typingctx, X, r, last, f, xf, t):
    """:func:`transpose_tile` in LLVM IR; ``X`` and ``xf`` must be C-contiguous with ``f + LANES <= X.shape[1]``,
    ``LANES <= xf.shape[0]`` and ``t + LANES <= xf.shape[1]`` (the caller's loop keeps to that)."""
    if any(not isinstance(a, types.Array) or a.ndim != 2 or a.layout != "C" for a in (X, xf)) or X.dtype != xf.dtype:
        return None
    sig = types.void(X, r, last, f, xf, t)

    def codegen(context, builder, signature, args):
        i64, i32 = ir.IntType(64), ir.IntType(32)
        byte_ptr = ir.IntType(8).as_pointer()
        x_ty, r_ty, last_ty, f_ty, xf_ty, t_ty = signature.args
        x_a, xf_a = context.make_array(x_ty)(context, builder, args[0]), context.make_array(xf_ty)(context, builder,
                                                                                                    args[4])
        r_, last_, f_, t_ = (context.cast(builder, val, ty, types.int64)
                             for val, ty in ((args[1], r_ty), (args[2], last_ty), (args[3], f_ty), (args[5], t_ty)))
        real = context.get_data_type(x_ty.dtype)
        size = context.get_abi_sizeof(real)
        vec = ir.VectorType(real, LANES)

        def at(arr, row, col):  # &arr[row, col] as a vector pointer
            offset = builder.add(builder.mul(row, builder.extract_value(arr.strides, 0)),
                                 builder.mul(col, ir.Constant(i64, size)))
            return builder.bitcast(builder.gep(builder.bitcast(arr.data, byte_ptr), [offset]), vec.as_pointer())

        rows = []
        for j in range(LANES):
            row = builder.add(r_, ir.Constant(i64, j))
            row = builder.select(builder.icmp_signed(">", row, last_), last_, row)
            rows.append(builder.load(at(x_a, row, f_), align=size))
        for s in range(LANES.bit_length() - 1):
            low, high = (ir.Constant(ir.VectorType(i32, LANES), m) for m in _transpose_stage(s))
            b = 1 << s
            for j in range(LANES):
                if not j & b:
                    a, c = rows[j], rows[j | b]
                    rows[j], rows[j | b] = builder.shuffle_vector(a, c, low), builder.shuffle_vector(a, c, high)
        for i in range(LANES):
            builder.store(rows[i], at(xf_a, ir.Constant(i64, i), t_), align=size)
        return context.get_dummy_value()

    return sig, codegen


@overload(transpose_tile)
def _transpose_tile_jit(X, r, last, f, xf, t):
    def impl(X, r, last, f, xf, t):
        _transpose_vectors(X, r, last, f, xf, t)

    return impl


@njit(cache=True)
def _fill_block(X, r0, nb, nbp, cols, prepare, xf, xt) -> None:
    """Prepared columns of rows ``r0:r0+nb`` into ``xt[:, :nbp]``; the padding rows repeat the last row (their scores
    are dropped).

    :data:`LANES` features at a time: their values in these rows are transposed into ``xf`` (``(LANES, >= nbp)``,
    the dtype of ``X``; small enough to stay in the L1 cache; copied feature by feature when the block's columns
    read fewer than :data:`TRANSPOSE_MIN` of them, skipped when they read none), then each prepared column of those
    features is made by its rule (``prepare``, :data:`PREPARE`). ``cols`` are in feature order.
    """
    rows = X[r0:r0 + nb]
    n_features, n_cols = X.shape[1], cols.shape[0]
    c = 0
    for f0 in range(0, max(n_features, 1), LANES):
        end, distinct = c, 0  # this block's columns, and how many features they read
        while end < n_cols and cols[end, 0] < f0 + LANES:
            distinct += end == c or cols[end, 0] != cols[end - 1, 0]
            end += 1
        if distinct == 0:
            continue  # a model may read a few of many features
        f = min(f0, n_features - LANES) if n_features >= LANES else 0  # the last block overlaps the one before it
        if n_features >= LANES and distinct >= TRANSPOSE_MIN:
            for t in range(0, nbp, LANES):
                transpose_tile(rows, t, nb - 1, f, xf, t)
        else:
            for k in range(c, end):
                if k == c or cols[k, 0] != cols[k - 1, 0]:
                    g = cols[k, 0]
                    for r in range(nb):
                        xf[g - f, r] = rows[r, g]
                    for r in range(nb, nbp):
                        xf[g - f, r] = rows[nb - 1, g]
        for k in range(c, end):
            x, src = xt[k], xf[cols[k, 0] - f]
            limit, keep, value, missing, small = prepare[k, 0], prepare[k, 1], prepare[k, 2], prepare[k, 3], \
                prepare[k, 4]
            for r in range(nbp):
                y = src[r]
                x[r] = (y if keep else value) if abs(y) > limit else (missing if y != y else small)
        c = end


@njit(cache=True)
def _score_block(xt, nbp, t_end, trees, groups, test_cols, test_thresholds, tests_needed, masks, leaves, v, K,
                 acc) -> None:
    """Add trees ``0:t_end`` to ``acc[:nbp]`` for the prepared rows in ``xt``.

    ``trees[t]`` = (first group, 32-leaf words, first leaf), with one extra row closing the ranges; ``groups[g]`` =
    (the :data:`GROUP` tests, word); ``masks`` is ``(n_groups, GROUP)``; ``leaves`` are in left-to-right order; the
    tests (``test_cols``, ``test_thresholds``) are numbered in the order the trees first use them, so that trees
    ``0:t`` use the first ``tests_needed[t]``. ``v`` is ``(max words, >= nbp)`` uint32 scratch, ``K`` ``(>= tests,
    >= nbp // LANES)`` scratch of :data:`LANES`-bit masks; ``nbp`` is a multiple of :data:`LANES`.
    """
    ones = np.uint32(0xFFFFFFFF)
    tiles = nbp // LANES
    compare_tests(xt, K, tiles, test_cols, test_thresholds, tests_needed[t_end])
    exit_leaf = np.empty(nbp, dtype=np.uint32)
    for t in range(t_end):
        for w in range(trees[t, 1]):
            for r in range(nbp):
                v[w, r] = ones
        apply_groups(K, v, tiles, groups, trees[t, 0], trees[t + 1, 0], masks)
        lv = leaves[trees[t, 2]:trees[t + 1, 2]]
        if trees[t, 1] == 1:
            for r in range(nbp):
                acc[r] += lv[trailing_zeros(v[0, r])]  # an unsigned index: no negative-index check
        else:  # the lowest set bit of the first non-zero word, found from the last word down without a branch per
            for w in range(trees[t, 1] - 1, -1, -1):  # row (the rightmost leaf is never cleared: some word is set);
                vw = v[w]  # a while loop over each row's words mispredicted its exit (255 leaves: 4-7 % of the time)
                for r in range(nbp):
                    if vw[r] != 0:
                        exit_leaf[r] = 32 * w + trailing_zeros(vw[r])
            for r in range(nbp):
                acc[r] += lv[exit_leaf[r]]


@njit(cache=True)
def _score_rows(X, r0, nb, plan, t_end, base, xf, xt, v, K, acc, out) -> None:
    cols, prepare, trees, groups, test_cols, test_thresholds, tests_needed, masks, leaves = plan
    nbp = (nb + LANES - 1) // LANES * LANES  # whole vectors: no scalar remainder loop
    _fill_block(X, r0, nb, nbp, cols, prepare, xf, xt)
    for r in range(nbp):
        acc[r] = base
    _score_block(xt, nbp, t_end, trees, groups, test_cols, test_thresholds, tests_needed, masks, leaves, v, K, acc)
    for r in range(nb):
        out[r0 + r] = acc[r]


@njit(cache=True)
def _scratch(X, plan, block):
    """The per-thread scratch arrays of :func:`_score_rows` for blocks of ``block`` rows."""
    cols, trees, test_thresholds, leaves = plan[0], plan[2], plan[5], plan[8]
    bp = (block + LANES - 1) // LANES * LANES
    xf = np.empty((LANES, bp), dtype=X.dtype)
    xt = np.empty((cols.shape[0], bp), dtype=test_thresholds.dtype)
    v = np.empty((max(1, trees[:, 1].max()), bp), dtype=np.uint32)
    K = np.empty((max(1, test_thresholds.size), bp // LANES), dtype=MASK_DTYPE)
    acc = np.empty(bp, dtype=leaves.dtype)
    return xf, xt, v, K, acc


@njit(cache=True)
def predict_fast(X, plan, t_end, base, block, out) -> None:
    """Score every row of ``X`` with trees ``0:t_end`` into ``out``, ``block`` rows at a time, on one thread.

    ``plan`` is :meth:`ltr.trees._layout.Plan.arrays`; ``X`` and the test thresholds have the dtype the columns are
    compared in, the leaves and ``base`` the dtype sums are made in.
    """
    n = X.shape[0]
    xf, xt, v, K, acc = _scratch(X, plan, block)
    for r0 in range(0, n, block):
        _score_rows(X, r0, min(block, n - r0), plan, t_end, base, xf, xt, v, K, acc, out)


@njit(cache=True, parallel=True)
def predict_fast_parallel(X, plan, t_end, base, block, out) -> None:
    """:func:`predict_fast` with a ``prange`` over row blocks; each block writes only its own rows of ``out``."""
    n = X.shape[0]
    for b in prange((n + block - 1) // block):
        r0 = b * block
        xf, xt, v, K, acc = _scratch(X, plan, block)
        _score_rows(X, r0, min(block, n - r0), plan, t_end, base, xf, xt, v, K, acc, out)


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
