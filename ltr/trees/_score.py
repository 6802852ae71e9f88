r"""Numba kernels that score a :class:`~ltr.trees.TreeEnsemble`: a bit-sliced fast path and a reference walk.

The fast path turns the QuickScorer family's layout around (QuickScorer, Lucchese et al., SIGIR 2015, and its
vectorised vQS, SIGIR 2016, keep per row a bitvector of a tree's leaves). Here a bit stands for a row: rows are
scored in blocks of :data:`TILE`, and every split node gets a *reach mask*, the 128 bits of the block's rows that
reach it. The root's mask is the whole block; a node whose test's bits are ``k`` passes ``reach & ~k`` to its left
child and ``reach & k`` to its right one, two 128-bit instructions per node and block, whatever the tree's depth or
leaf count. Every node applies the same test, ``x > t``, to a prepared column of the input; nodes share few
distinct (column, threshold) tests (the engines split on histogram bins), so :func:`compare_tests` makes each test
once per block, one bit per row, as RapidScorer merges equal nodes (Ye et al., KDD 2018). Nodes are visited in
breadth-first order, so that a node's mask was stored a whole level before it is read: in depth-first order each
node read the mask its parent had just stored, and waited for it (a prototype, LightGBM 100 trees of 255 leaves,
100 rows: 7.1 against 2.1 ns per row and tree for this part, the other core busy).

A row's exit leaf is then its leaf's number found bit by bit. The leaves are numbered left to right, with the
children of some nodes swapped, so that every subtree's leaves have consecutive numbers: the leaves with bit ``b``
set make runs, each a few whole subtrees, and the OR of those subtrees' reach masks is bit ``b`` of every row's
number (:mod:`ltr.trees._layout` lists them, and swaps children where that needs fewer of them:
:func:`~ltr.trees._layout.fewest_covers`). :func:`tree_codes` spreads these masks to one byte per row (eight bits a
byte; trees of more than 256 leaves take more bytes), and the leaf values are looked up row by row. Against the
groups of leaf bitvectors this kernel replaced (vQS with RapidScorer's merged tests, faacbf7), one thread, 100 rows
of the MSLR sample, the same machine and hour: LightGBM 100 trees of 255 leaves 12.5 -> 6.4 ns per row and tree,
31 leaves 2.6 -> 2.4. A block's work does not shrink with its rows, so the old kernel stays ahead on a few rows:
100 trees of 31 leaves took 9.6-12.6 us a call on 1 to 20 rows against 14.0-15.6 here, 100 trees of 255 leaves 33
against 44 us on 1 to 5 rows; from about 20 rows (255 leaves) or 50 rows (31 leaves) on, this kernel is faster
(those calls scored the same rows every time, which suits a kernel with branches). One or two rows are walked down
the trees instead (:func:`predict_walk`, 1.4-3.2 times faster there).

What paid at 255 leaves was fewer memory accesses (LightGBM 100 trees, 100 rows, measured one after the other on
one machine): a node reads its slot and test, its parent's mask and its test's bits, and stores two masks; a code
bit reads its covers' offsets and their masks. Reading a node's slot and test with one 64-bit load instead of two
took the trees' part from 3.99 to 3.71 ns per row and tree, the covers' offsets two a load to 3.53, and the
swapped children (471 -> 335 covers a tree) to 3.16; the compares of the tests take another 1.3 at 100 trees (0.2
at 1000). Fewer instructions for the same accesses did not pay (a node's two masks as one 256-bit store: no
change; on an Intel Xeon later, slower).

Two changes then took out work the processor wasted (Intel Xeon, 2 cores, the same 100 rows and models; the old and
new kernels in processes taking turns, the median of six runs each, ns per row and tree): the tests are made column
by column, a column's vectors loaded once for all its tests (in the order of first use each test loaded its column
again, and at 100 trees of 255 leaves the columns did not stay in the L1 cache), and a tree's covers are ORed in
groups of :data:`COVER_GROUP` in one loop for all its code bits (a loop per bit ended on a count that changes from
bit to bit and tree to tree, which a branch predictor cannot learn; no hardware counters here to confirm it).
LightGBM 100 trees of 255 leaves 5.85 -> 4.66, 1000 x 255 5.20 -> 4.73, 100 x 31 2.45 -> 2.17, 1000 x 31 1.58 ->
1.24; XGBoost 100 x 255 5.64 -> 4.67, 1000 x 255 4.58 -> 4.18. What is left at 255 leaves (1000 trees, LightGBM) is
the nodes (1.7), the covers (1.2) and the leaf values (1.1: 2 MB of float64, out of the L2 cache). The leaf values
of the next tree are now asked for while the current one is worked on (:func:`prefetch_span`): the same A/B, six
runs each, three of them beside other work: LightGBM 1000 x 255 4.96 -> 4.60, XGBoost 1000 x 255 4.36 -> 3.98,
100 x 255 1.5-2 % faster, 31 leaves the same within the noise (+-4 %); beside other processes, which take the
caches, the gain was larger (LightGBM 1000 x 255 5.52 -> 4.72 in a profile of the kernel alone). With 8 MB of other
data touched between calls, as a reranker's feature extraction does (medians of three runs): LightGBM 100 x 255
8.64 -> 7.78, 1000 x 255 4.66 -> 4.22, XGBoost 8.24 -> 7.67 and 3.90 -> 3.71, 1000 x 31 1.49 -> 1.42; asking for
the next tree's nodes and covers as well was slower (LightGBM 1000 x 255 4.82).

How the engines' rules become ``x > t`` (the plan in :mod:`ltr.trees._layout` picks the column kind and ``t``):

* LightGBM sends ``x`` left when ``x <= threshold`` in float64, after its dense-input conversion has turned every
  value with ``|x| <= 1e-35`` into 0; a NaN is 0 for missing type None, and the default direction decides for a NaN
  (missing type NaN) or a zero (missing type Zero). On float32 input, ``x <= threshold`` is ``x <= t`` for ``t``
  the largest float32 not above the threshold, so the columns stay float32.
* XGBoost casts the input to float32 and sends ``x`` left when ``x < split_condition``; a NaN takes the default
  direction. ``x >= c`` is ``x > t`` for ``t`` the float32 just below ``c``.
* A missing value that goes left stays NaN (``NaN > t`` is false); one that goes right becomes +inf. A feature
  whose nodes disagree on the direction gets two prepared columns. A LightGBM node with threshold +inf whose
  missing values go right tests only "is it missing": it reads a 0/1 flag column against 0.5. An XGBoost node
  with ``split_conditions`` -inf (its exact method writes one where the midpoint of two values near float32's
  lowest overflows) sends every present value right, -inf too (``x < -inf`` never holds), which no ``x > t`` does:
  it reads a 0/1 flag of presence (missing values left) or a column of ones (missing values right) against 0.5.

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
from numba.extending import intrinsic, overload

__all__ = [
    "COVER_GROUP",
    "KIND_LGB_NAN_FLAG",
    "KIND_LGB_NAN_LEFT",
    "KIND_LGB_NAN_RIGHT",
    "KIND_LGB_NONE",
    "KIND_LGB_ZERO_FLAG",
    "KIND_LGB_ZERO_LEFT",
    "KIND_LGB_ZERO_RIGHT",
    "KIND_XGB_LEFT",
    "KIND_XGB_ONE",
    "KIND_XGB_PRESENT_FLAG",
    "KIND_XGB_RIGHT",
    "K_ZERO",
    "PREPARE",
    "SLOT_BYTES",
    "TILE",
    "TRANSPOSE_MIN",
    "predict_fast",
    "predict_fast_parallel",
    "predict_walk",
    "walk_lightgbm",
    "walk_xgboost",
]

#: Rows per block of the fast kernel: a reach mask is one bit per row of a block, two 64-bit words.
TILE = 128
#: Bytes of a reach mask, and of a test's bits over a block (:func:`tree_codes`).
SLOT_BYTES = TILE // 8
#: Covers ORed per step of :func:`tree_codes`: each code bit's list is padded to a multiple of this (even).
COVER_GROUP = 4
#: Rows per vector in :func:`compare_tests` and the transposition; blocks are padded to a multiple of this.
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
KIND_XGB_PRESENT_FLAG = 9  # 1 for every value but NaN, 0 for NaN (XGBoost's split at -inf, missing values left)
KIND_XGB_ONE = 10  # 1 for every value, NaN too (XGBoost's split at -inf, missing values right)

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
    [-1.0, 0.0, 1.0, 0.0, 0.0],  # KIND_XGB_PRESENT_FLAG
    [-1.0, 0.0, 1.0, 1.0, 0.0],  # KIND_XGB_ONE
])


# ------------------------------------------------------------------------------------------------------------------
# The block's tests, then a tree's groups of nodes over it: the fast kernel's inner loops, as explicit vector code
# ------------------------------------------------------------------------------------------------------------------
def compare_tests(xt, K, tiles, test_runs, run_cols, test_order, run_thresholds, needed) -> None:
    """For each test ``u < needed`` and vector ``i < tiles``: bit ``j`` of ``K[u, i]`` set where row ``LANES * i + j``
    of the test's prepared column is ``> `` its threshold (NaN never is).

    The tests come column by column: run ``k``'s tests ``test_order[test_runs[k]:test_runs[k + 1]]`` read column
    ``run_cols[k]``, their thresholds ``run_thresholds`` in the same order. This is the Python twin (what
    ``.py_func`` runs); jitted code gets :func:`_compare_runs`: per column, its ``tiles`` vectors of :data:`LANES`
    rows loaded once, then per test and vector one ordered compare and the store of its :data:`LANES`-bit mask.
    """
    n = tiles * LANES
    weights = (1 << np.arange(LANES)).astype(K.dtype)
    for k in range(run_cols.size):
        column = xt[run_cols[k], :n]
        for i in range(test_runs[k], test_runs[k + 1]):
            u = test_order[i]
            if u < needed:
                hit = column > run_thresholds[i]
                K[u, :tiles] = (hit.reshape(tiles, LANES) * weights).sum(axis=1, dtype=K.dtype)


@intrinsic
def _compare_runs(typingctx, xt, K, tiles, test_runs, run_cols, test_order, run_thresholds, needed):
    """:func:`compare_tests` in LLVM IR; the arrays must be C-contiguous, ``xt`` ``tiles * LANES`` rows long, ``1 <=
    tiles <= TILE // LANES``. The loops are made once for each number of vectors, and ``tiles`` picks one: a
    column's vectors stay in registers across its tests."""
    if any(not isinstance(a, types.Array) or a.layout != "C"
           for a in (xt, K, test_runs, run_cols, test_order, run_thresholds)):
        return None
    sig = types.void(xt, K, tiles, test_runs, run_cols, test_order, run_thresholds, needed)

    def codegen(context, builder, signature, args):
        i64, bits = ir.IntType(64), ir.IntType(LANES)
        xt_a, k_a, runs_a, cols_a, order_a, thr_a = (context.make_array(signature.args[i])(context, builder, args[i])
                                                     for i in (0, 1, 3, 4, 5, 6))
        tiles_, needed_ = (context.cast(builder, args[i], signature.args[i], types.int64) for i in (2, 7))
        real = context.get_data_type(signature.args[0].dtype)
        real_vec = ir.VectorType(real, LANES)
        runs, cols, order = (builder.bitcast(a.data, i64.as_pointer()) for a in (runs_a, cols_a, order_a))
        thresholds = builder.bitcast(thr_a.data, real.as_pointer())
        n_runs = builder.extract_value(cols_a.shape, 0)
        done = builder.append_basic_block("compare.done")
        choice = builder.switch(tiles_, done)
        for n in range(1, TILE // LANES + 1):
            block = builder.append_basic_block(f"compare.tiles{n}")
            choice.add_case(ir.Constant(i64, n), block)
            builder.position_at_end(block)
            with cgutils.for_range(builder, n_runs) as run:
                column = _row(builder, xt_a, builder.load(builder.gep(cols, [run.index])), real_vec)
                values = [builder.load(builder.gep(column, [ir.Constant(i64, v)]), align=4) for v in range(n)]
                start = builder.load(builder.gep(runs, [run.index]))
                stop = builder.load(builder.gep(runs, [builder.add(run.index, ir.Constant(i64, 1))]))
                with cgutils.for_range_slice(builder, start, stop, ir.Constant(i64, 1)) as (i, _):
                    u = builder.load(builder.gep(order, [i]))
                    with builder.if_then(builder.icmp_signed("<", u, needed_), likely=True):
                        limit = _broadcast(builder, builder.load(builder.gep(thresholds, [i])))
                        out = _row(builder, k_a, u, bits)
                        for v, value in enumerate(values):
                            hit = builder.fcmp_ordered(">", value, limit)
                            builder.store(builder.bitcast(hit, bits), builder.gep(out, [ir.Constant(i64, v)]))
            builder.branch(done)
        builder.position_at_end(done)
        return context.get_dummy_value()

    return sig, codegen


@overload(compare_tests)
def _compare_tests_jit(xt, K, tiles, test_runs, run_cols, test_order, run_thresholds, needed):
    def impl(xt, K, tiles, test_runs, run_cols, test_order, run_thresholds, needed):
        _compare_runs(xt, K, tiles, test_runs, run_cols, test_order, run_thresholds, needed)

    return impl


def prefetch_span(arr, start, stop) -> None:
    """Ask the processor to bring ``arr[start:stop]`` (a C-contiguous array) into its caches, one request per 64-byte
    line it touches: a hint, which changes no value (nor faults, wherever it points). The Python twin does nothing;
    jitted code gets :func:`_prefetch_lines`.

    :func:`_score_block` asks for the next tree's leaf values while it works on the current tree: a row's leaf is
    found only at the end of a tree, each at its own place in 2 KB of a 255-leaf tree's float64 values, which the
    processor's own prefetchers cannot foresee."""


@intrinsic
def _prefetch_lines(typingctx, arr, start, stop):
    """:func:`prefetch_span` in LLVM IR: ``llvm.prefetch`` (read, keep in every cache level, data) of every 64-byte
    line that holds a byte of ``arr[start:stop]`` (the lines of the address space, wherever the array starts)."""
    if not isinstance(arr, types.Array) or arr.layout != "C" or arr.ndim != 1:
        return None
    sig = types.void(arr, start, stop)

    def codegen(context, builder, signature, args):
        i8p, i32, i64 = ir.IntType(8).as_pointer(), ir.IntType(32), ir.IntType(64)
        a = context.make_array(signature.args[0])(context, builder, args[0])
        start_, stop_ = (context.cast(builder, args[i], signature.args[i], types.int64) for i in (1, 2))
        size = ir.Constant(i64, context.get_abi_sizeof(context.get_data_type(signature.args[0].dtype)))
        base = builder.ptrtoint(a.data, i64)
        hint = builder.module.declare_intrinsic(
            "llvm.prefetch", (i8p,), ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]))
        first = builder.and_(builder.add(base, builder.mul(start_, size)), ir.Constant(i64, -64))  # its line
        end = builder.add(base, builder.mul(stop_, size))
        with cgutils.for_range_slice(builder, first, end, ir.Constant(i64, 64)) as (line, _):
            builder.call(hint, [builder.inttoptr(line, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                                ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@overload(prefetch_span)
def _prefetch_span_jit(arr, start, stop):
    def impl(arr, start, stop):
        _prefetch_lines(arr, start, stop)

    return impl


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


def tree_codes(K, R, nodes, n0, n1, covers, cover_bits, g0, g1, n_bits, planes, codes) -> None:
    """One tree over a block: the reach mask of every slot (``R``, rows ``R[0]`` the root's, set by the caller), then
    the leaf code of every row of the block into ``codes``, eight bits per row of ``codes``.

    ``K`` is ``(n_tests, TILE // LANES)`` (:func:`compare_tests`), ``R`` ``(>= slots, 2)`` uint64, ``planes``
    ``(>= n_bits, 2)`` uint64 and ``codes`` ``(>= (n_bits + 7) // 8, TILE)`` uint8; bit ``i`` of a mask (word
    ``i // 64``) is row ``i``. The tree's split nodes are ``nodes[n0:n1]`` in breadth-first order (byte offsets of
    their slot and test, :data:`SLOT_BYTES` per row), its covers the groups ``g0:g1`` of :data:`COVER_GROUP`
    entries of ``covers``, group ``g``'s code bit ``cover_bits[g] & 0x7F`` (``0x80`` set: the bit's first group).

    This is the Python twin (what ``.py_func`` runs); jitted code gets :func:`_tree_codes_vectors`: per node, a
    128-bit AND and AND-NOT of the parent's mask with its test's bits into the children's slots (the node's two
    offsets read as one uint64); per group of covers, the OR of their masks (their offsets read two at a time) into
    the bit's plane, one loop for all the tree's bits; then each plane spread to one byte per row with the other
    bits of the byte.
    """
    k64 = K.view(np.uint64).reshape(K.shape[0], -1)
    unit = SLOT_BYTES
    for j, g in enumerate(range(n0, n1)):
        r, k = R[nodes[g, 0] // unit].copy(), k64[nodes[g, 1] // unit, :2]
        R[1 + 2 * j] = r & ~k
        R[2 + 2 * j] = r & k
    plane = np.zeros(2, dtype=np.uint64)
    for g in range(g0, g1):
        if cover_bits[g] & 0x80:
            plane = np.zeros(2, dtype=np.uint64)
        for c in range(COVER_GROUP * g, COVER_GROUP * (g + 1)):
            plane = plane | R[covers[c] // unit]
        planes[cover_bits[g] & 0x7F] = plane
    for q in range((n_bits + 7) // 8):
        byte = np.zeros(TILE, dtype=np.uint8)
        for b in range(min(8, n_bits - 8 * q)):
            rows = np.unpackbits(planes[8 * q + b].astype("<u8").view(np.uint8), bitorder="little")
            byte |= (rows << b).astype(np.uint8)
        codes[q, :TILE] = byte


@intrinsic
def _tree_codes_vectors(typingctx, K, R, nodes, n0, n1, covers, cover_bits, g0, g1, n_bits, planes, codes):
    """:func:`tree_codes` in LLVM IR; the arrays must be C-contiguous, ``K``, ``R`` and ``planes`` 16 bytes a row,
    ``codes`` :data:`TILE` bytes a row."""
    if any(not isinstance(a, types.Array) or a.layout != "C"
           for a in (K, R, nodes, covers, cover_bits, planes, codes)):
        return None
    sig = types.void(K, R, nodes, n0, n1, covers, cover_bits, g0, g1, n_bits, planes, codes)

    def codegen(context, builder, signature, args):
        i64, i32, i8 = ir.IntType(64), ir.IntType(32), ir.IntType(8)
        mask_ty, byte_vec = ir.VectorType(i64, 2), ir.VectorType(i8, 64)
        k_a, r_a, nodes_a, covers_a, bits_a, planes_a, codes_a = (
            context.make_array(signature.args[i])(context, builder, args[i]) for i in (0, 1, 2, 5, 6, 10, 11))
        n0_, n1_, g0_, g1_, n_bits_ = (context.cast(builder, args[i], signature.args[i], types.int64)
                                       for i in (3, 4, 7, 8, 9))
        k_bytes, r_bytes = (builder.bitcast(a.data, i8.as_pointer()) for a in (k_a, r_a))
        node_pairs = builder.bitcast(nodes_a.data, i64.as_pointer())
        cover_pairs = builder.bitcast(covers_a.data, i64.as_pointer())
        group_bits = builder.bitcast(bits_a.data, i8.as_pointer())
        plane_rows = builder.bitcast(planes_a.data, mask_ty.as_pointer())
        one, unit = ir.Constant(i64, 1), ir.Constant(i64, SLOT_BYTES)
        low32, high, zero = ir.Constant(i64, 0xFFFFFFFF), ir.Constant(i64, 32), ir.Constant(mask_ty, None)

        def mask_at(base, offset):
            return builder.bitcast(builder.gep(base, [offset]), mask_ty.as_pointer())

        # the reach masks: the children of the j-th node take slots 1 + 2j and 2 + 2j
        with cgutils.for_range_slice(builder, n0_, n1_, one) as (g, _):
            entry = builder.load(builder.gep(node_pairs, [g]), align=8)  # one load: slot low, test high
            reach = builder.load(mask_at(r_bytes, builder.and_(entry, low32)), align=16)
            hit = builder.load(mask_at(k_bytes, builder.lshr(entry, high)), align=16)
            left = builder.add(unit, builder.mul(builder.sub(g, n0_), ir.Constant(i64, 2 * SLOT_BYTES)))
            builder.store(builder.and_(reach, builder.not_(hit)), mask_at(r_bytes, left), align=16)
            builder.store(builder.and_(reach, hit), mask_at(r_bytes, builder.add(left, unit)), align=16)

        # the planes: every group of covers ORed into its bit's running plane, which a bit's first group restarts
        plane_at = cgutils.alloca_once_value(builder, zero)
        pairs = COVER_GROUP // 2
        with cgutils.for_range_slice(builder, g0_, g1_, one) as (g, _):
            masks = []
            for h in range(pairs):  # two offsets a load
                two = builder.load(builder.gep(cover_pairs, [builder.add(builder.mul(g, ir.Constant(i64, pairs)),
                                                                        ir.Constant(i64, h))]), align=8)
                masks += [builder.load(mask_at(r_bytes, builder.and_(two, low32)), align=16),
                          builder.load(mask_at(r_bytes, builder.lshr(two, high)), align=16)]
            while len(masks) > 1:
                masks = [builder.or_(masks[i], masks[i + 1]) for i in range(0, len(masks), 2)]
            meta = builder.zext(builder.load(builder.gep(group_bits, [g])), i64)
            first = builder.icmp_unsigned("!=", builder.and_(meta, ir.Constant(i64, 0x80)), ir.Constant(i64, 0))
            plane = builder.or_(builder.select(first, zero, builder.load(plane_at)), masks[0])
            builder.store(plane, plane_at)
            builder.store(plane, builder.gep(plane_rows, [builder.and_(meta, ir.Constant(i64, 0x7F))]), align=16)

        # the code bits, eight to a row of `codes`: a plane as 64 flags -> bytes of 0 or 1 << b
        n_bytes = builder.udiv(builder.add(n_bits_, ir.Constant(i64, 7)), ir.Constant(i64, 8))
        with cgutils.for_range(builder, n_bytes) as loop:
            q = loop.index
            halves = [ir.Constant(byte_vec, None), ir.Constant(byte_vec, None)]
            for b in range(8):
                p = builder.add(builder.mul(q, ir.Constant(i64, 8)), ir.Constant(i64, b))
                inside = builder.icmp_signed("<", p, n_bits_)  # past the tree's bits: no plane
                at = builder.gep(plane_rows, [builder.select(inside, p, ir.Constant(i64, 0))])
                plane = builder.select(inside, builder.load(at, align=16), zero)
                weight = ir.Constant(byte_vec, [1 << b] * 64)
                for h in range(2):
                    flags = builder.bitcast(builder.extract_element(plane, ir.Constant(i32, h)),
                                            ir.VectorType(ir.IntType(1), 64))
                    halves[h] = builder.or_(halves[h], builder.and_(builder.sext(flags, byte_vec), weight))
            row = _row(builder, codes_a, q, byte_vec)
            for h in range(2):
                builder.store(halves[h], builder.gep(row, [ir.Constant(i64, h)]), align=1)
        return context.get_dummy_value()

    return sig, codegen


@overload(tree_codes)
def _tree_codes_jit(K, R, nodes, n0, n1, covers, cover_bits, g0, g1, n_bits, planes, codes):
    def impl(K, R, nodes, n0, n1, covers, cover_bits, g0, g1, n_bits, planes, codes):
        _tree_codes_vectors(K, R, nodes, n0, n1, covers, cover_bits, g0, g1, n_bits, planes, codes)

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
def _score_block(xt, nbp, t_end, plan, K, R, planes, codes, acc) -> None:
    """Add trees ``0:t_end`` to ``acc[:nbp]`` for the prepared rows in ``xt``.

    ``plan`` is :meth:`ltr.trees._layout.Plan.arrays`: ``trees[t]`` = (first split node, first code bit, first
    leaf), with one extra row closing the ranges; ``nodes``, ``covers`` and ``cover_bits`` as :func:`tree_codes`
    reads them, a tree's covers from ``bit_covers[first code bit]``; ``leaves`` in the order of their codes; the
    tests numbered in the order the trees first use them, so that trees ``0:t`` use the first ``tests_needed[t]``,
    and listed column by column for :func:`compare_tests`. Scratch: ``K`` ``(>= tests, TILE // LANES)`` of
    :data:`LANES`-bit masks, ``R`` ``(>= slots, 2)`` and ``planes`` ``(>= code bits, 2)`` uint64, ``codes`` ``(>=
    code bytes, TILE)`` uint8. ``nbp <= TILE`` is a multiple of :data:`LANES`; the rows past it are in no reach
    mask, so the unused part of ``K`` may hold anything.
    """
    trees, nodes, bit_covers, covers, cover_bits = plan[2], plan[3], plan[4], plan[5], plan[6]
    test_runs, run_cols, test_order, run_thresholds, tests_needed, leaves = plan[7:]
    compare_tests(xt, K, nbp // LANES, test_runs, run_cols, test_order, run_thresholds, tests_needed[t_end])
    full = np.uint64(0xFFFFFFFFFFFFFFFF)
    low = full if nbp >= 64 else (np.uint64(1) << np.uint64(nbp)) - np.uint64(1)
    high = np.uint64(0) if nbp <= 64 else (full if nbp >= 128 else (np.uint64(1) << np.uint64(nbp - 64)) - np.uint64(1))
    for t in range(t_end):
        lv = leaves[trees[t, 2]:trees[t + 1, 2]]
        if t + 1 < t_end:
            prefetch_span(leaves, trees[t + 1, 2], trees[t + 2, 2])
        b0, b1 = trees[t, 1], trees[t + 1, 1]
        n_bits = b1 - b0
        if n_bits == 0:  # a single leaf
            for r in range(nbp):
                acc[r] += lv[0]
            continue
        R[0, 0] = low
        R[0, 1] = high
        tree_codes(K, R, nodes, trees[t, 0], trees[t + 1, 0], covers, cover_bits, bit_covers[b0] // COVER_GROUP,
                   bit_covers[b1] // COVER_GROUP, n_bits, planes, codes)
        if n_bits <= 8:
            row = codes[0]
            for r in range(nbp):
                acc[r] += lv[row[r]]  # an unsigned index: no negative-index check
        else:
            for r in range(nbp):
                code = np.uint64(0)
                for q in range((n_bits + 7) // 8):
                    code |= np.uint64(codes[q, r]) << np.uint64(8 * q)
                acc[r] += lv[code]


@njit(cache=True)
def _score_rows(X, r0, nb, plan, t_end, base, xf, xt, K, R, planes, codes, acc, out) -> None:
    nbp = (nb + LANES - 1) // LANES * LANES  # whole vectors: no scalar remainder loop
    _fill_block(X, r0, nb, nbp, plan[0], plan[1], xf, xt)
    for r in range(nbp):
        acc[r] = base
    _score_block(xt, nbp, t_end, plan, K, R, planes, codes, acc)
    for r in range(nb):
        out[r0 + r] = acc[r]


@njit(cache=True)
def _scratch(X, plan):
    """The per-thread scratch arrays of :func:`_score_rows`."""
    cols, trees, thresholds, leaves = plan[0], plan[2], plan[10], plan[12]
    most_nodes, most_bits = 0, 0
    for t in range(trees.shape[0] - 1):
        most_nodes = max(most_nodes, trees[t + 1, 0] - trees[t, 0])
        most_bits = max(most_bits, trees[t + 1, 1] - trees[t, 1])
    xf = np.empty((LANES, TILE), dtype=X.dtype)
    xt = np.empty((cols.shape[0], TILE), dtype=thresholds.dtype)
    K = np.empty((max(1, thresholds.size), TILE // LANES), dtype=MASK_DTYPE)
    R = np.empty((2 * most_nodes + 1, 2), dtype=np.uint64)
    planes = np.empty((max(1, most_bits), 2), dtype=np.uint64)
    codes = np.empty((max(1, (most_bits + 7) // 8), TILE), dtype=np.uint8)
    acc = np.empty(TILE, dtype=leaves.dtype)
    return xf, xt, K, R, planes, codes, acc


@njit(cache=True)
def predict_fast(X, plan, t_end, base, block, out) -> None:
    """Score every row of ``X`` with trees ``0:t_end`` into ``out``, ``block`` rows (at most :data:`TILE`) at a
    time, on one thread.

    ``plan`` is :meth:`ltr.trees._layout.Plan.arrays`; ``X`` and the test thresholds have the dtype the columns are
    compared in, the leaves and ``base`` the dtype sums are made in.
    """
    n = X.shape[0]
    block = max(1, min(block, TILE))
    xf, xt, K, R, planes, codes, acc = _scratch(X, plan)
    for r0 in range(0, n, block):
        _score_rows(X, r0, min(block, n - r0), plan, t_end, base, xf, xt, K, R, planes, codes, acc, out)


@njit(cache=True, parallel=True)
def predict_fast_parallel(X, plan, t_end, base, block, out) -> None:
    """:func:`predict_fast` with a ``prange`` over row blocks; each block writes only its own rows of ``out``."""
    n = X.shape[0]
    block = max(1, min(block, TILE))
    for b in prange((n + block - 1) // block):
        r0 = b * block
        xf, xt, K, R, planes, codes, acc = _scratch(X, plan)
        _score_rows(X, r0, min(block, n - r0), plan, t_end, base, xf, xt, K, R, planes, codes, acc, out)


@njit(cache=True)
def predict_walk(X, plan, walk_cols, walk_thresholds, walk_left, walk_right, t_end, base, out) -> None:
    """Score the rows of ``X`` with trees ``0:t_end`` into ``out``, walking each row down every tree: the plan's
    prepared columns and tests (``x > t``), node by node (the plan's ``walk_*`` arrays), on one thread.

    For one or two rows. A block of the fast kernel applies every split node and makes every code bit whatever its
    rows, where a walk's work grows with the rows and their depth. One thread, MSLR-sample rankers, a new row each
    call (a walk's branches learn rows met again), the kernels alone, us a call: 1 row, 100 trees of 31 leaves 5.5
    against 11.8, of 255 leaves 10.8 against 35.0, 1000 x 31 33.0 against 85.9, 1000 x 255 119.5 against 320.8; 2
    rows 7.7 / 11.9, 17.6 / 35.1, 58.9 / 85.4, 233.5 / 322.3; 3 rows still ahead at 100 trees (10.3 / 12.0, 25.6 /
    35.1), level at 1000 (90.5 / 84.8, 351.8 / 347.8). Sums as :func:`predict_fast`.
    """
    cols, prepare, trees, leaves = plan[0], plan[1], plan[2], plan[12]
    nb = X.shape[0]
    nbp = (nb + LANES - 1) // LANES * LANES
    xf = np.empty((LANES, nbp), dtype=X.dtype)
    xt = np.empty((cols.shape[0], nbp), dtype=walk_thresholds.dtype)
    _fill_block(X, 0, nb, nbp, cols, prepare, xf, xt)
    for r in range(nb):
        s = base
        for t in range(t_end):
            k = trees[t, 0]
            if trees[t + 1, 0] == k:  # a single leaf
                s += leaves[trees[t, 2]]
                continue
            while k >= 0:  # a branch: its guess runs ahead to the next node's loads (a select waits for them)
                k = walk_right[k] if xt[walk_cols[k], r] > walk_thresholds[k] else walk_left[k]
            s += leaves[~k]
        out[r] = s


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
