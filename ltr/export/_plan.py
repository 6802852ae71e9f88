"""A tree ensemble restated in the engines' terms: per split node, the largest float32 that goes left and where a
missing value goes; float32 leaves; the starting margin.

The engines compare a float32 feature value with one float32 threshold (``x < t`` in the Elasticsearch plugin,
``x <= t`` in RankLib and Solr). A node of the toolkit's ensemble is expressible that way when the float32 values
it sends left are exactly ``{x <= M}`` for one float32 ``M`` (a down-set); this module computes ``M`` and refuses
the nodes where no ``M`` exists. The domain is every finite float32 plus NaN (the values an engine's feature query
produces; ``M = -inf`` means no finite value goes left, ``M = inf`` every finite value).

``M`` per engine rule (:mod:`ltr.trees.model`):

* XGBoost, ``x < c`` on float32: ``M`` is the float32 just below ``c``.
* LightGBM, ``x <= T`` on the float64 threshold after values with ``|x| <= 1e-35`` become 0: with ``c`` the largest
  float32 not above ``T``, ``M = max(c, 1e-35)`` when 0 goes left (the whole band ``[-1e-35, 1e-35]`` follows it)
  and ``min(c, -1e-35 - ulp)`` when it goes right. Missing type Zero sends the band to the default direction
  instead, which is a down-set only when that direction agrees with the comparison; otherwise the node is refused.
* A global normaliser (``ltr.rankers.normalize.GlobalNormalizer``) the model applies first, ``x' = float32((x -
  offset) / scale)`` computed in float64, is non-decreasing in ``x``, so the raw values that go left are again a
  down-set: its ``M`` is found by bisection over the float32 values and the normaliser disappears from the
  exported model, exactly.

Where a missing value goes: XGBoost's and LightGBM's default direction (missing types NaN and Zero), or, for
LightGBM's missing type None (NaN read as 0), the direction of 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ltr.export._floats import from_ordinal, next_down, next_up, ordinal
from ltr.export.errors import ExportError
from ltr.trees.refusal import feature_label

__all__ = ["TreePlan", "build", "plan_trees"]

F32 = np.float32
#: LightGBM's ``kZeroThreshold`` (1e-35f): smaller magnitudes are read as 0.
K_ZERO = F32(1e-35)


@dataclass(frozen=True)
class TreePlan:
    """Trees as the engines need them (arrays as :class:`ltr.trees.TreeEnsemble`'s, cut to the trees exported).

    ``left_max[k]``: a present float32 value goes left at node ``k`` iff it is ``<= left_max[k]``;
    ``nan_left[k]`` / ``zero_left[k]``: where the model sends a missing value / the value 0.
    """

    engine: str
    n_features: int
    tree_ptr: NDArray[np.int64]
    leaf_ptr: NDArray[np.int64]
    feature: NDArray[np.int32]
    left_max: NDArray[np.float32]
    nan_left: NDArray[np.bool_]
    zero_left: NDArray[np.bool_]
    left: NDArray[np.int32]
    right: NDArray[np.int32]
    leaf: NDArray[np.float32]
    base: np.float32

    @property
    def n_trees(self) -> int:
        return self.tree_ptr.size - 1

    def where(self, k: int) -> str:
        """``tree T node N`` for the split node at flat index ``k``."""
        t = int(np.searchsorted(self.tree_ptr, k, side="right") - 1)
        return f"tree {t} node {k - int(self.tree_ptr[t])}"

    def used_features(self) -> NDArray[np.int64]:
        return np.unique(self.feature).astype(np.int64)


def _lightgbm_left_max(ens, sl, fmt: str, names) -> np.ndarray:
    thr = ens.threshold[sl]
    with np.errstate(over="ignore"):
        c = thr.astype(np.float32)
    c = np.where(c.astype(np.float64) > thr, next_down(c), c)  # the largest float32 not above the threshold
    below_band = next_down(-K_ZERO)
    mt, dl = ens.missing_type[sl], ens.default_left[sl]
    band_left = np.where(mt == 1, dl, thr >= 0.0)
    bad = np.where(band_left, c < below_band, c >= next_up(K_ZERO))  # only missing type Zero can get here
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        t = int(np.searchsorted(ens.tree_ptr, k, side="right") - 1)
        zero = "left" if band_left[k] else "right"
        feature = feature_label(names, int(ens.feature[k]))
        raise ExportError(
            f"{fmt}: tree {t} node {k - int(ens.tree_ptr[t])} (feature {feature}, threshold "
            f"{float(thr[k])!r}) has LightGBM's missing type Zero (zero_as_missing=true): it sends 0 {zero} by "
            f"default but values on {'both sides' if band_left[k] else 'the other side'} of 0 the other way, which "
            "no single threshold comparison expresses; retrain without zero_as_missing")
    return np.where(band_left, np.maximum(c, K_ZERO), np.minimum(c, below_band)).astype(np.float32)


def _fold_normalizer(left_max: np.ndarray, offset: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """For each node, the largest raw float32 ``x`` with ``float32((x - offset) / scale) <= left_max`` (bisection
    over float32 order; ``-inf`` when no finite value qualifies)."""
    def normalised(k):
        with np.errstate(over="ignore", invalid="ignore"):
            return ((from_ordinal(k).astype(np.float64) - offset) / scale).astype(np.float32)

    lo = np.full(left_max.size, int(ordinal(F32(-np.inf))) - 1)  # f(lo) <= left_max (lo below the domain: none)
    hi = np.full(left_max.size, int(ordinal(F32(np.inf))) + 1)  # f(hi) > left_max (hi above the domain: all)
    while (hi - lo > 1).any():
        mid = (lo + hi) // 2
        ok = normalised(mid) <= left_max
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    none = lo < int(ordinal(F32(-np.inf)))
    return np.where(none, F32(-np.inf), from_ordinal(np.maximum(lo, int(ordinal(F32(-np.inf)))))).astype(np.float32)


def plan_trees(ens, n_trees: int, normalizer=None, *, fmt: str, names=None) -> TreePlan:
    """The first ``n_trees`` trees of ``ens`` (a :class:`ltr.trees.TreeEnsemble`) in the engines' terms.

    ``normalizer``: a fitted ``GlobalNormalizer`` the model applies to its input first (folded into the thresholds),
    or None. ``fmt`` names the target format in error messages, ``names`` (by column) the features.

    Raises
    ------
    ExportError
        A LightGBM missing-type-Zero node no single comparison expresses, or a leaf beyond float32's range.
    """
    nodes = slice(0, int(ens.tree_ptr[n_trees]))
    leaves = slice(0, int(ens.leaf_ptr[n_trees]))
    feature = ens.feature[nodes].astype(np.int32)
    dl = ens.default_left[nodes]
    if ens.engine == "xgboost":
        left_max = next_down(ens.threshold[nodes].astype(np.float32))
        nan_left = dl.copy()
    else:
        left_max = _lightgbm_left_max(ens, nodes, fmt, names)
        mt = ens.missing_type[nodes]
        nan_left = np.where(mt == 0, ens.threshold[nodes] >= 0.0, dl)  # type None reads NaN as 0
    if normalizer is not None:
        left_max = _fold_normalizer(left_max, normalizer.offset_[feature], normalizer.scale_[feature])
    with np.errstate(over="ignore"):
        leaf = ens.leaf_value[leaves].astype(np.float32)
    if not np.isfinite(leaf).all():
        k = int(np.flatnonzero(~np.isfinite(leaf))[0])
        t = int(np.searchsorted(ens.leaf_ptr[:n_trees + 1], k, side="right")) - 1
        raise ExportError(f"{fmt}: tree {t} leaf {k - int(ens.leaf_ptr[t])}: value {float(ens.leaf_value[k])!r} is "
                          "beyond float32's range, in which the engine adds the leaves")
    # the engines add the leaves in float32: a sum beyond its range scored documents +inf, in a tie (trial t54)
    largest = np.maximum.reduceat(np.abs(leaf.astype(np.float64)), ens.leaf_ptr[:n_trees].astype(np.int64)) \
        if n_trees else np.zeros(0)
    bound = float(largest.sum()) + abs(float(ens.base_score))
    if bound > float(np.finfo(np.float32).max):
        raise ExportError(f"{fmt}: the trees' largest leaves add up to {bound:.6g} (with the base score), beyond "
                          "float32's range, in which the engine adds them: documents could score +-inf; such a model "
                          "cannot be exported exactly")
    zero_left = F32(0.0) <= left_max
    return TreePlan(engine=ens.engine, n_features=int(ens.n_features),
                    tree_ptr=ens.tree_ptr[:n_trees + 1].copy(), leaf_ptr=ens.leaf_ptr[:n_trees + 1].copy(),
                    feature=feature, left_max=left_max.astype(np.float32), nan_left=np.asarray(nan_left, bool),
                    zero_left=np.asarray(zero_left, bool), left=ens.left[nodes].astype(np.int32),
                    right=ens.right[nodes].astype(np.int32), leaf=leaf, base=F32(ens.base_score))


def build(plan: TreePlan, t: int, leaf, split):
    """Tree ``t`` bottom-up: ``leaf(value)`` for a leaf, ``split(k, depth, left, right)`` for split node ``k``
    (flat index) with its children already built. A tree without a split node is its one leaf."""
    n0, l0 = int(plan.tree_ptr[t]), int(plan.leaf_ptr[t])
    if int(plan.tree_ptr[t + 1]) == n0:
        return leaf(plan.leaf[l0])
    # post-order with a stack of its own (a tree a thousand levels deep exceeded Python's recursion limit)
    done: list = []
    stack = [(0, 0, False)]
    while stack:
        code, depth, expanded = stack.pop()
        if code < 0:
            done.append(leaf(plan.leaf[l0 + ~code]))
        elif not expanded:
            k = n0 + code
            stack += [(code, depth, True), (int(plan.right[k]), depth + 1, False),
                      (int(plan.left[k]), depth + 1, False)]
        else:
            right, left = done.pop(), done.pop()
            done.append(split(n0 + code, depth, left, right))
    return done[0]


def deepest(plan: TreePlan) -> tuple[int, int]:
    """``(tree, depth)`` of the deepest tree (depth: split nodes on its longest path from the root)."""
    best = (0, 0)
    for t in range(plan.n_trees):
        n0 = int(plan.tree_ptr[t])
        if int(plan.tree_ptr[t + 1]) == n0:
            continue
        stack = [(0, 1)]
        while stack:
            code, depth = stack.pop()
            if depth > best[1]:
                best = (t, depth)
            k = n0 + code
            stack += [(int(c), depth + 1) for c in (plan.left[k], plan.right[k]) if c >= 0]
    return best
