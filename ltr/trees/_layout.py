"""The fast scorer's plan: a validated :class:`~ltr.trees.TreeEnsemble` rearranged for :mod:`ltr.trees._score`.

Built once per ensemble and compare dtype, in Python and one small kernel, then cached on the ensemble:

1. leaves numbered left to right in every tree, and for each split node the range of leaves of its left subtree;
2. one prepared input column per (feature, missing rule) pair the nodes use (``_score.KIND_*``);
3. thresholds rewritten for the single test ``x > t`` in the compare dtype;
4. per node and 32-leaf word it touches, the mask that clears its left subtree's leaves;
5. those (column, threshold, mask) entries grouped ``GROUP`` at a time by (tree, word), padded with entries that
   clear nothing;
6. the distinct (column, threshold) tests of the entries, numbered in the order the trees first use them: the
   kernel makes each test once per block of rows, and an entry names its test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from ltr.trees import _score

__all__ = ["Plan", "build_plan", "leaf_order"]

_LIGHTGBM_KIND = np.array([
    # [missing_type, default_left] -> column kind; missing type 0 None, 1 Zero, 2 NaN
    [_score.KIND_LGB_NONE, _score.KIND_LGB_NONE],
    [_score.KIND_LGB_ZERO_RIGHT, _score.KIND_LGB_ZERO_LEFT],
    [_score.KIND_LGB_NAN_RIGHT, _score.KIND_LGB_NAN_LEFT],
], dtype=np.int64)


@dataclass(frozen=True)
class Plan:
    """Arrays :func:`ltr.trees._score.predict_fast` takes (see :func:`ltr.trees._score._score_block`)."""

    cols: NDArray[np.int64]  # (n_cols, 2): input feature, column kind
    prepare: NDArray  # (n_cols, 5): each column's kind as its rule's numbers (_score.PREPARE), compare dtype
    trees: NDArray[np.int64]  # (n_trees + 1, 4): first group, 32-leaf words, first leaf, first word
    groups: NDArray[np.int32]  # (n_groups, GROUP + 1): GROUP tests, word
    test_cols: NDArray[np.int32]  # (n_tests,) the prepared column of each test
    test_thresholds: NDArray  # (n_tests,) its threshold, float32 or float64
    tests_needed: NDArray[np.int64]  # (n_trees + 1,): trees 0:t use tests 0:tests_needed[t]
    masks: NDArray[np.uint32]  # (n_groups, GROUP)
    leaves: NDArray  # (n_leaves,) left-to-right leaf values, float64 (LightGBM) or float32 (XGBoost)
    base: float

    @property
    def arrays(self) -> tuple:
        """The arrays in the order the kernels unpack them (``plan`` of :func:`ltr.trees._score.predict_fast`)."""
        return (self.cols, self.prepare, self.trees, self.groups, self.test_cols, self.test_thresholds,
                self.tests_needed, self.masks, self.leaves)


@njit(cache=True)
def leaf_order(tree_ptr, leaf_ptr, left, right, lo, hi, leaf_pos) -> None:
    """Left-to-right leaf positions (``leaf_pos``) and each split node's left-subtree leaf range ``[lo, hi]``.

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
                lo[first + cur] = count
                stack[top] = cur
                top += 1
                cur = left[first + cur]
            leaf_pos[leaf0 + ~cur] = count
            count += 1
            if top == 0:
                break
            top -= 1
            node = stack[top]
            hi[first + node] = count - 1
            cur = right[first + node]


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
    lo = np.empty(n_nodes, dtype=np.int64)
    hi = np.empty(n_nodes, dtype=np.int64)
    leaf_pos = np.empty(ens.leaf_value.size, dtype=np.int64)
    leaf_order(ens.tree_ptr, ens.leaf_ptr, ens.left, ens.right, lo, hi, leaf_pos)

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
    key = ens.feature.astype(np.int64) * 16 + kind
    keys, node_col = np.unique(key, return_inverse=True)
    cols = np.stack([keys // 16, keys % 16], axis=1).astype(np.int64)

    # 3. thresholds for `x > t`
    if dtype == np.float64:
        thr = np.where(flag, 0.5, ens.threshold)
    elif ens.engine == "lightgbm":
        thr = np.where(flag, np.float32(0.5), _below32(ens.threshold))
    else:  # x >= c  <=>  x > (the float32 below c), for float32 x
        thr = np.nextafter(ens.threshold.astype(np.float32), np.float32(-np.inf))

    # 4. one entry per (node, 32-leaf word its left subtree touches)
    w_lo, w_hi = lo >> 5, hi >> 5
    span = w_hi - w_lo + 1
    e_node = np.repeat(np.arange(n_nodes, dtype=np.int64), span)
    e_word = w_lo[e_node] + (np.arange(e_node.size) - np.repeat(np.cumsum(span) - span, span))
    b_lo = np.maximum(lo[e_node], 32 * e_word) - 32 * e_word
    b_hi = np.minimum(hi[e_node], 32 * e_word + 31) - 32 * e_word
    bits = ((np.uint64(1) << (b_hi - b_lo + 1).astype(np.uint64)) - np.uint64(1)) << b_lo.astype(np.uint64)
    e_mask = (~bits & np.uint64(0xFFFFFFFF)).astype(np.uint32)

    # 5. groups of GROUP entries of one (tree, word), padded with entries that clear nothing
    G = _score.GROUP
    n_leaves = np.diff(ens.leaf_ptr)
    words = (n_leaves + 31) // 32
    max_words = int(words.max()) if n_trees else 1
    e_key = node_tree[e_node] * max_words + e_word
    order = np.lexsort((node_col[e_node], e_key))
    e_node, e_word, e_mask, e_key = e_node[order], e_word[order], e_mask[order], e_key[order]
    uniq, start, count = np.unique(e_key, return_index=True, return_counts=True)
    n_slots = (count + G - 1) // G * G
    slot0 = np.cumsum(n_slots) - n_slots
    pos = np.repeat(slot0 - start, count) + np.arange(e_key.size)
    total = int(n_slots.sum())
    # padding slots repeat their run's first test (clearing nothing), so that they add no test of their own
    g_col = np.repeat(node_col[e_node[start]], n_slots).astype(np.int32)
    g_thr = np.repeat(thr[e_node[start]], n_slots).astype(dtype)
    g_mask = np.full(total, 0xFFFFFFFF, dtype=np.uint32)
    g_col[pos] = node_col[e_node]
    g_thr[pos] = thr[e_node]
    g_mask[pos] = e_mask
    n_groups = total // G
    slot_tree = np.repeat(uniq // max_words, n_slots)

    # 6. the distinct tests, in the order of first use (slots are in tree order)
    bits = g_thr.view(np.uint32 if dtype == np.float32 else np.uint64).astype(np.uint64)
    _, first, test_of_slot = np.unique(np.stack([g_col.astype(np.uint64), bits], axis=1), axis=0,
                                       return_index=True, return_inverse=True)
    by_use = np.argsort(first, kind="stable")
    number = np.empty(by_use.size, dtype=np.int64)
    number[by_use] = np.arange(by_use.size)
    test_of_slot = number[test_of_slot.ravel()]
    last_test = np.full(n_trees, -1, dtype=np.int64)
    np.maximum.at(last_test, slot_tree, test_of_slot)
    tests_needed = np.zeros(n_trees + 1, dtype=np.int64)
    tests_needed[1:] = np.maximum.accumulate(last_test) + 1 if n_trees else 0

    groups = np.empty((n_groups, G + 1), dtype=np.int32)
    groups[:, :G] = test_of_slot.reshape(n_groups, G)
    groups[:, G] = np.repeat(uniq % max_words, n_slots // G)

    trees = np.zeros((n_trees + 1, 4), dtype=np.int64)
    groups_per_tree = np.bincount(uniq // max_words, weights=n_slots // G, minlength=n_trees).astype(np.int64)
    trees[1:, 0] = np.cumsum(groups_per_tree)
    trees[:n_trees, 1] = words
    trees[:, 2] = ens.leaf_ptr
    trees[1:, 3] = np.cumsum(words)

    acc = np.float64 if ens.engine == "lightgbm" else np.float32
    leaves = np.empty(ens.leaf_value.size, dtype=acc)
    leaves[ens.leaf_ptr[np.repeat(np.arange(n_trees), n_leaves)] + leaf_pos] = ens.leaf_value
    return Plan(cols=cols, prepare=_score.PREPARE[cols[:, 1]].astype(dtype), trees=trees, groups=groups,
                test_cols=g_col[first[by_use]], test_thresholds=g_thr[first[by_use]], tests_needed=tests_needed,
                masks=g_mask.reshape(n_groups, G), leaves=leaves, base=acc(ens.base_score))
