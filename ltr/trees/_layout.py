"""The fast scorer's plan: a validated :class:`~ltr.trees.TreeEnsemble` rearranged for :mod:`ltr.trees._score`.

Built once per ensemble and compare dtype, in NumPy and two small kernels, then cached on the ensemble:

1. leaves numbered left to right in every tree, with the children of some split nodes swapped
   (:func:`fewest_covers`): a leaf's number is its code, the bits the kernel finds per row, and every subtree's
   leaves have consecutive numbers;
2. one prepared input column per (feature, missing rule) pair the nodes use (``_score.KIND_*``);
3. thresholds rewritten for the single test ``x > t`` in the compare dtype;
4. the distinct (column, threshold) tests of the nodes, numbered in the order the trees first use them: the kernel
   makes each test once per block of rows, and a node names its test; the kernel makes them column by column
   (``test_runs``: the tests sorted by column and threshold, each column's a run), so that a column's values are
   loaded once for all its tests;
5. per tree, its split nodes in breadth-first order, each with the slot of its reach mask (the root's is slot 0,
   the children of the tree's ``j``-th split node take slots ``1 + 2j`` and ``2 + 2j``) and its test;
6. per tree and bit ``b`` of the leaf codes, the slots of the largest subtrees whose leaves all have bit ``b`` set:
   the leaves with bit ``b`` set have numbers in runs of ``2 ** b``, each run a few whole subtrees; each bit's
   list is padded to a multiple of :data:`COVER_GROUP` with copies of its last slot (a mask ORed twice changes
   nothing), so that the kernel takes a tree's covers in groups, one loop of a fixed stride per tree;
7. for walking a row down the trees (one or two rows, :func:`ltr.trees._score.predict_walk`), every split node's
   prepared column, threshold and children, in the ensemble's node order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from ltr.trees import _score

__all__ = ["COVER_GROUP", "SWAP_MAX_LEAVES", "SLOT_BYTES", "Plan", "build_plan", "code_bits", "fewest_covers",
           "leaf_order"]

_LIGHTGBM_KIND = np.array([
    # [missing_type, default_left] -> column kind; missing type 0 None, 1 Zero, 2 NaN
    [_score.KIND_LGB_NONE, _score.KIND_LGB_NONE],
    [_score.KIND_LGB_ZERO_RIGHT, _score.KIND_LGB_ZERO_LEFT],
    [_score.KIND_LGB_NAN_RIGHT, _score.KIND_LGB_NAN_LEFT],
], dtype=np.int64)


#: Bytes per reach-mask slot and per test's bits over a block of rows (``_score.TILE`` rows, a bit each).
SLOT_BYTES = _score.SLOT_BYTES


@dataclass(frozen=True)
class Plan:
    """Arrays :func:`ltr.trees._score.predict_fast` takes (see :func:`ltr.trees._score._score_block`)."""

    cols: NDArray[np.int64]  # (n_cols, 2): input feature, column kind
    prepare: NDArray  # (n_cols, 5): each column's kind as its rule's numbers (_score.PREPARE), compare dtype
    trees: NDArray[np.int64]  # (n_trees + 1, 3): first split node, first code bit, first leaf
    nodes: NDArray[np.uint32]  # (n_nodes, 2): byte offsets (SLOT_BYTES each) of the node's slot and of its test
    #   (the kernel reads a row as one little-endian uint64, as it reads two covers at once)
    bit_covers: NDArray[np.int64]  # (n_bits + 1,): the first entry of `covers` of each tree's code bits, each a
    #   multiple of COVER_GROUP
    covers: NDArray[np.uint32]  # byte offsets of the slots whose masks make each code bit, each bit's padded to a
    #   multiple of COVER_GROUP with copies of its last
    cover_bits: NDArray[np.uint8]  # (covers.size // COVER_GROUP,): each group's code bit within its tree, + 0x80
    #   for the first group of its bit
    test_cols: NDArray[np.int32]  # (n_tests,) the prepared column of each test
    test_thresholds: NDArray  # (n_tests,) its threshold, float32 or float64
    test_runs: NDArray[np.int64]  # (n_runs + 1,): the first entry of `test_order` of each prepared column's tests
    run_cols: NDArray[np.int64]  # (n_runs,) the prepared column of each run
    test_order: NDArray[np.int64]  # (n_tests,) the tests sorted by column and threshold
    run_thresholds: NDArray  # (n_tests,) their thresholds, in that order
    tests_needed: NDArray[np.int64]  # (n_trees + 1,): trees 0:t use tests 0:tests_needed[t]
    leaves: NDArray  # (n_leaves,) each tree's leaf values by code, float64 (LightGBM) or float32 (XGBoost)
    base: float
    walk_cols: NDArray[np.int32]  # (n_nodes,) each split node's prepared column, in the ensemble's node order
    walk_thresholds: NDArray  # (n_nodes,) its threshold for `x > t`, as test_thresholds
    walk_left: NDArray[np.int32]  # (n_nodes,) its left child: a split node (its index) or ~ the leaf's index in
    #   `leaves`
    walk_right: NDArray[np.int32]  # (n_nodes,) its right child, likewise

    @property
    def arrays(self) -> tuple:
        """The arrays in the order the kernels unpack them (``plan`` of :func:`ltr.trees._score.predict_fast`)."""
        return (self.cols, self.prepare, self.trees, self.nodes, self.bit_covers, self.covers, self.cover_bits,
                self.test_runs, self.run_cols, self.test_order, self.run_thresholds, self.tests_needed, self.leaves)


@njit(cache=True)
def leaf_order(tree_ptr, leaf_ptr, left, right, leaf_pos) -> None:
    """Left-to-right leaf positions (``leaf_pos``): each leaf's number, counted from 0 in every tree.

    An in-order walk with an explicit stack; the structure must be validated first (every node reached once).
    """
    for t in range(tree_ptr.size - 1):
        first, n = tree_ptr[t], tree_ptr[t + 1] - tree_ptr[t]
        leaf0 = leaf_ptr[t]
        if n == 0:
            leaf_pos[leaf0] = 0
            continue
        stack = np.empty(n, dtype=np.int64)
        top = 0
        count = 0
        cur = 0  # a child code: >= 0 a split node, < 0 the leaf ~cur
        while True:
            while cur >= 0:
                stack[top] = cur
                top += 1
                cur = left[first + cur]
            leaf_pos[leaf0 + ~cur] = count
            count += 1
            if top == 0:
                break
            top -= 1
            cur = right[first + stack[top]]


#: Trees of at most this many leaves get the leaf numbering of :func:`fewest_covers` (its work grows with the number
#: of codes times the nodes); larger ones keep the left-to-right order.
SWAP_MAX_LEAVES = 256


@njit(cache=True)
def _shared_bits(width):
    """``shared[lo, s]``: how many bits every number of the run ``lo..lo+s-1`` has set (:func:`_all_set`), for runs
    within ``0..width-1`` (``width`` a power of two)."""
    n_bits = 0
    while (1 << n_bits) < width:
        n_bits += 1
    shared = np.zeros((width, width + 1), dtype=np.int16)
    for lo in range(width):
        for s in range(1, width - lo + 1):
            for b in range(n_bits):
                shared[lo, s] += _all_set(lo, lo + s - 1, b)
    return shared


@njit(cache=True)
def fewest_covers(tree_ptr, leaf_ptr, left, right, leaf_pos) -> None:
    """Renumber the leaves of each tree of at most :data:`SWAP_MAX_LEAVES` leaves in ``leaf_pos`` (still a
    left-to-right order, but with the children of any split nodes swapped) so that the kernel ORs the fewest masks.

    A tree's leaves take the codes ``0..L-1`` and every subtree a run of them. The masks the kernel ORs for code bit
    ``b`` are the largest subtrees whose leaves all have bit ``b`` set (step 6 of the module doc): their number is
    the leaves with bit ``b`` set less the split nodes whose leaves all have it (each such node replaces its two
    children). The first count is fixed, so the best order maximises the bits shared by the leaves of each split
    node, summed over the nodes: a dynamic programme over (node, first code of its run), choosing for each whether
    its children are swapped. Trees of LightGBM 255 leaves: 471 masks a tree in left-to-right order, 335 so (the
    MSLR sample's ranker).
    """
    shared = _shared_bits(SWAP_MAX_LEAVES)
    most = SWAP_MAX_LEAVES - 1
    order = np.empty(most, dtype=np.int64)  # split nodes, parents before children
    size = np.empty(most, dtype=np.int64)
    best = np.empty((most, SWAP_MAX_LEAVES), dtype=np.int16)  # shared bits in a node's subtree, its run at o
    swap = np.empty((most, SWAP_MAX_LEAVES), dtype=np.bool_)
    start = np.empty(most, dtype=np.int64)  # the first code of each split node's run
    for t in range(tree_ptr.size - 1):
        first, n = tree_ptr[t], tree_ptr[t + 1] - tree_ptr[t]
        n_leaves = n + 1
        if n == 0 or n_leaves > SWAP_MAX_LEAVES:
            continue
        width = 1
        while width < n_leaves:
            width *= 2
        order[0] = 0
        tail = 1
        for i in range(n):
            for child in (left[first + order[i]], right[first + order[i]]):
                if child >= 0:
                    order[tail] = child
                    tail += 1
        for i in range(n - 1, -1, -1):  # every entry read below was written: a child's run fits where its parent's does
            v = order[i]
            a, c = left[first + v], right[first + v]
            sa = size[a] if a >= 0 else 1
            sc = size[c] if c >= 0 else 1
            size[v] = sa + sc
            for o in range(width - size[v] + 1):
                kept = (best[a, o] if a >= 0 else 0) + (best[c, o + sa] if c >= 0 else 0)
                swapped = (best[c, o] if c >= 0 else 0) + (best[a, o + sc] if a >= 0 else 0)
                best[v, o] = shared[o, size[v]] + max(kept, swapped)
                swap[v, o] = swapped > kept
        start[0] = 0
        for i in range(n):
            v = order[i]
            o = start[v]
            a, c = left[first + v], right[first + v]
            if swap[v, o]:
                a, c = c, a
            sa = size[a] if a >= 0 else 1
            for child, at in ((a, o), (c, o + sa)):
                if child >= 0:
                    start[child] = at
                else:
                    leaf_pos[leaf_ptr[t] + ~child] = at


def code_bits(n_leaves: NDArray[np.int64]) -> NDArray[np.int64]:
    """Bits of the leaf codes of trees of ``n_leaves`` leaves: the codes are 0 to ``n_leaves - 1``."""
    return np.array([int(n - 1).bit_length() for n in n_leaves], dtype=np.int64)


@njit(cache=True, inline="always")
def _all_set(lo, hi, b) -> bool:
    """Whether every number of ``lo..hi`` has bit ``b`` set: they lie within one block of ``2 ** b`` numbers, an odd
    one."""
    return (lo >> b) == (hi >> b) and (lo >> b) & 1 == 1


#: Covers the kernel ORs per step: each code bit's list of covers is padded to a multiple of this.
COVER_GROUP = _score.COVER_GROUP


@njit(cache=True)
def _slots_and_covers(tree_ptr, leaf_ptr, left, right, leaf_pos, test_of_node, trees, nodes, bit_covers,
                      covers, cover_bits) -> int:
    """Steps 5 and 6 of the module doc into ``nodes``, ``bit_covers``, ``covers`` and ``cover_bits``; returns the
    number of entries of ``covers``.

    A slot's subtree holds the leaves numbered ``lo..hi`` (``leaf_pos``: either child may hold the lower numbers). A
    cover of bit ``b`` is a slot whose leaves all have bit ``b`` set (:func:`_all_set`) and whose parent's do not.
    Every bit of a tree has one at least (its highest number has it set, a leaf at worst).
    """
    c = 0
    for t in range(tree_ptr.size - 1):
        first, n = tree_ptr[t], tree_ptr[t + 1] - tree_ptr[t]
        leaf0 = leaf_ptr[t]
        n_slots = 2 * n + 1
        lo = np.empty(n_slots, dtype=np.int64)
        hi = np.empty(n_slots, dtype=np.int64)
        parent = np.empty(n_slots, dtype=np.int64)
        queue = np.empty(max(n, 1), dtype=np.int64)  # split nodes in breadth-first order
        queue_slot = np.empty(max(n, 1), dtype=np.int64)
        parent[0] = -1
        lo[0] = hi[0] = 0  # a single leaf
        queue[0], queue_slot[0] = 0, 0
        tail = 1 if n else 0
        for j in range(n):
            node, s = queue[j], queue_slot[j]
            nodes[first + j, 0] = s * SLOT_BYTES
            nodes[first + j, 1] = test_of_node[first + node] * SLOT_BYTES
            for side in range(2):
                child = left[first + node] if side == 0 else right[first + node]
                cs = 1 + 2 * j + side
                parent[cs] = s
                if child >= 0:
                    queue[tail], queue_slot[tail] = child, cs
                    tail += 1
                else:
                    lo[cs] = hi[cs] = leaf_pos[leaf0 + ~child]
        for j in range(n - 1, -1, -1):  # children before their parents (either may hold the lower codes)
            s = queue_slot[j]
            lo[s], hi[s] = min(lo[1 + 2 * j], lo[2 + 2 * j]), max(hi[1 + 2 * j], hi[2 + 2 * j])
        for b in range(trees[t + 1, 1] - trees[t, 1]):
            bit_covers[trees[t, 1] + b] = c
            start = c
            for s in range(n_slots):
                if _all_set(lo[s], hi[s], b) and (parent[s] < 0 or not _all_set(lo[parent[s]], hi[parent[s]], b)):
                    covers[c] = s * SLOT_BYTES
                    c += 1
            while (c - start) % COVER_GROUP:  # padding: the bit's last cover again
                covers[c] = covers[c - 1]
                c += 1
            for g in range(start // COVER_GROUP, c // COVER_GROUP):
                cover_bits[g] = b + (0x80 if g == start // COVER_GROUP else 0)
    bit_covers[bit_covers.size - 1] = c
    return c


def _below32(threshold: NDArray[np.float64]) -> NDArray[np.float32]:
    """The largest float32 <= each threshold: for float32 ``x``, ``x > threshold`` iff ``x > t``."""
    with np.errstate(over="ignore"):
        t = threshold.astype(np.float32)
    above = t.astype(np.float64) > threshold
    t[above] = np.nextafter(t[above], np.float32(-np.inf))
    return t


def build_plan(ens, dtype) -> Plan:
    """The plan for comparing in ``dtype`` (float32, or float64 for LightGBM float64 input)."""
    dtype = np.dtype(dtype)
    n_trees = ens.n_trees
    n_nodes = ens.feature.size
    node_tree = np.repeat(np.arange(n_trees, dtype=np.int64), np.diff(ens.tree_ptr))
    leaf_pos = np.empty(ens.leaf_value.size, dtype=np.int64)
    leaf_order(ens.tree_ptr, ens.leaf_ptr, ens.left, ens.right, leaf_pos)
    fewest_covers(ens.tree_ptr, ens.leaf_ptr, ens.left, ens.right, leaf_pos)

    # 2. prepared columns
    dl = ens.default_left.astype(np.int64)
    if ens.engine == "lightgbm":
        kind = _LIGHTGBM_KIND[ens.missing_type.astype(np.int64), dl]
    else:
        kind = np.where(dl == 1, _score.KIND_XGB_LEFT, _score.KIND_XGB_RIGHT)
    # A LightGBM threshold of +inf with missing values going right means "right iff missing": +inf cannot stand in
    # for a missing value there (inf > inf is false), so such a node reads a 0/1 flag of missingness instead.
    flag = (kind == _score.KIND_LGB_NAN_RIGHT) | (kind == _score.KIND_LGB_ZERO_RIGHT)
    flag &= ens.threshold == np.inf
    kind = np.where(flag, np.where(kind == _score.KIND_LGB_NAN_RIGHT, _score.KIND_LGB_NAN_FLAG,
                                   _score.KIND_LGB_ZERO_FLAG), kind)
    # An XGBoost threshold of -inf sends every present value right, -inf too, where `x > t` holds for no t: such a
    # node reads a 0/1 flag of presence (missing values left), or ones (missing values right too).
    lowest = (ens.threshold == -np.inf) & (ens.engine == "xgboost")
    kind = np.where(lowest, np.where(dl == 1, _score.KIND_XGB_PRESENT_FLAG, _score.KIND_XGB_ONE), kind)
    flag |= lowest
    key = ens.feature.astype(np.int64) * 16 + kind
    keys, node_col = np.unique(key, return_inverse=True)
    cols = np.stack([keys // 16, keys % 16], axis=1).astype(np.int64)

    # 3. thresholds for `x > t`
    if dtype == np.float64:
        thr = np.where(flag, 0.5, ens.threshold)
    elif ens.engine == "lightgbm":
        thr = np.where(flag, np.float32(0.5), _below32(ens.threshold))
    else:  # x >= c  <=>  x > (the float32 below c), for float32 x
        thr = np.where(flag, np.float32(0.5), np.nextafter(ens.threshold.astype(np.float32), np.float32(-np.inf)))

    # 4. the distinct tests, numbered in the order of first use (nodes are in tree order)
    bits = thr.astype(dtype).view(np.uint32 if dtype == np.float32 else np.uint64).astype(np.uint64)
    # sorted by (column, threshold bits), stably: a test's nodes in node order (np.unique(axis=0) did this in 0.23 of
    # the 0.37 s that 1000 trees of 255 leaves took to plan; this, with the rest the same, plans them in 0.17 s)
    order = np.lexsort((bits, node_col))
    new = np.ones(order.size, dtype=bool)
    new[1:] = (node_col[order[1:]] != node_col[order[:-1]]) | (bits[order[1:]] != bits[order[:-1]])
    first = order[new]  # each test's first node
    test_of_node = np.empty(order.size, dtype=np.int64)
    test_of_node[order] = np.cumsum(new) - 1
    by_use = np.argsort(first, kind="stable")
    number = np.empty(by_use.size, dtype=np.int64)
    number[by_use] = np.arange(by_use.size)
    test_of_node = number[test_of_node]
    last_test = np.full(n_trees, -1, dtype=np.int64)
    np.maximum.at(last_test, node_tree, test_of_node)
    tests_needed = np.zeros(n_trees + 1, dtype=np.int64)
    tests_needed[1:] = np.maximum.accumulate(last_test) + 1 if n_trees else 0

    # 5-6. breadth-first slots and the covers of each code bit
    n_leaves = np.diff(ens.leaf_ptr)
    n_bits = code_bits(n_leaves)
    trees = np.zeros((n_trees + 1, 3), dtype=np.int64)
    trees[:, 0] = ens.tree_ptr
    trees[1:, 1] = np.cumsum(n_bits)
    trees[:, 2] = ens.leaf_ptr
    nodes = np.empty((n_nodes, 2), dtype=np.uint32)
    bit_covers = np.empty(int(trees[-1, 1]) + 1, dtype=np.int64)
    # at most one cover per leaf and bit, and the padding of each bit
    covers = np.empty(int((n_bits * (n_leaves + COVER_GROUP - 1)).sum()), dtype=np.uint32)
    cover_bits = np.empty(covers.size // COVER_GROUP, dtype=np.uint8)
    n_covers = _slots_and_covers(ens.tree_ptr, ens.leaf_ptr, ens.left, ens.right, leaf_pos, test_of_node, trees,
                                 nodes, bit_covers, covers, cover_bits)

    acc = np.float64 if ens.engine == "lightgbm" else np.float32
    leaf_index = ens.leaf_ptr[np.repeat(np.arange(n_trees), n_leaves)] + leaf_pos  # each leaf's place in `leaves`
    leaves = np.empty(ens.leaf_value.size, dtype=acc)
    leaves[leaf_index] = ens.leaf_value
    test_nodes = first[by_use]
    thr, walk_cols = thr.astype(dtype), node_col.astype(np.int32)

    # 7. the walk's nodes: a child is a split node's index, or ~ its leaf's index in `leaves`
    children = np.stack([ens.left, ens.right], axis=1).astype(np.int64)
    first_leaf = ens.leaf_ptr[node_tree][:, None]
    children = np.where(children >= 0, ens.tree_ptr[node_tree][:, None] + children,
                        ~leaf_index[first_leaf + np.where(children < 0, ~children, 0)])
    test_cols, test_thresholds = walk_cols[test_nodes], thr[test_nodes]
    test_order = np.lexsort((test_thresholds, test_cols))
    run_of = test_cols[test_order]
    run_starts = np.flatnonzero(np.r_[True, run_of[1:] != run_of[:-1]]) if run_of.size else np.zeros(0, np.int64)
    return Plan(cols=cols, prepare=_score.PREPARE[cols[:, 1]].astype(dtype), trees=trees, nodes=nodes,
                bit_covers=bit_covers, covers=covers[:n_covers].copy(),
                cover_bits=cover_bits[:n_covers // COVER_GROUP].copy(), test_cols=test_cols,
                test_thresholds=test_thresholds, test_runs=np.r_[run_starts, run_of.size].astype(np.int64),
                run_cols=run_of[run_starts].astype(np.int64), test_order=test_order.astype(np.int64),
                run_thresholds=test_thresholds[test_order], tests_needed=tests_needed, leaves=leaves,
                base=acc(ens.base_score), walk_cols=walk_cols, walk_thresholds=thr,
                walk_left=children[:, 0].astype(np.int32), walk_right=children[:, 1].astype(np.int32))
