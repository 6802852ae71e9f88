r"""``TreeEnsemble``: the toolkit's own record of a boosted tree ensemble, validated when built, scored exactly.

One struct-of-arrays layout for LightGBM and XGBoost models. Tree ``t`` owns split nodes
``tree_ptr[t]:tree_ptr[t+1]`` and leaves ``leaf_ptr[t]:leaf_ptr[t+1]``; inside a tree, node 0 is the root and a
child code ``c >= 0`` names split node ``c`` of the same tree, ``c < 0`` its leaf ``~c`` (LightGBM's convention).
A tree with no split node is a single leaf. The engine fixes how a node decides and how trees are summed:

==========  =======================================  ===========================================================
engine      a row goes left when                     missing values; sums
==========  =======================================  ===========================================================
lightgbm    ``x <= threshold`` in float64            ``missing_type`` 0 None (NaN reads as 0), 1 Zero (0 and NaN
                                                     take the default direction), 2 NaN (NaN takes it);
                                                     ``|x| <= 1e-35`` reads as 0; float64 sum from 0
xgboost     ``float32(x) < threshold`` (float32)     NaN takes the default direction (``missing_type`` is 2);
                                                     float32 sum from ``base_score``
==========  =======================================  ===========================================================

Categorical splits, linear trees and multi-output models are refused by the parsers, by name (a split's feature
named as :mod:`ltr.trees.refusal` says); an XGBoost DART model's per-tree weights are folded into its leaves
(:mod:`ltr.trees.xgboost_json`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ltr.exceptions import ModelFormatError
from ltr.frames import as_pandas, check_frame_names
from ltr.threads import numba_threads, resolve_n_jobs, workqueue_turn
from ltr.trees import _score

__all__ = ["ENGINES", "METHODS", "TreeEnsemble"]

ENGINES = ("lightgbm", "xgboost")
METHODS = ("fast", "reference")

#: Rows scored together by the fast kernel: one bit of a reach mask each (``_score.TILE``).
BLOCK_ROWS = _score.TILE
#: At most this many rows are walked down the trees instead (``_score.predict_walk``: faster there).
WALK_MAX_ROWS = 2

_ARRAYS = {
    "tree_ptr": np.int64, "leaf_ptr": np.int64, "feature": np.int32, "threshold": np.float64, "left": np.int32,
    "right": np.int32, "default_left": np.bool_, "missing_type": np.uint8, "leaf_value": np.float64,
}


@dataclass(frozen=True, eq=False)
class TreeEnsemble:
    """A boosted tree ensemble as flat arrays; building one validates it (:meth:`validate`).

    Parameters
    ----------
    engine : {"lightgbm", "xgboost"}
        Whose decision and summation rules apply (module table).
    n_features : int
        Input columns the model expects.
    tree_ptr, leaf_ptr : ndarray of int64, shape (n_trees + 1,)
        Offsets of each tree's split nodes and leaves.
    feature, threshold, left, right, default_left, missing_type : ndarray, shape (n_nodes,)
        Per split node: input column, threshold (float64, as the engine stores it; XGBoost's are float32 values),
        child codes, the direction of a missing value, LightGBM's missing type.
    leaf_value : ndarray of float64, shape (n_leaves,)
        Leaf outputs, learning rate applied (XGBoost's are float32 values).
    base_score : float, default=0.0
        Margin every row starts from (XGBoost's base score through its objective's link; 0 for LightGBM).
    trees_per_iteration : int, default=1
        Trees added per boosting round (XGBoost's ``num_parallel_tree``).
    objective : str, optional
    feature_names : tuple of str, optional
    source : str, optional
        Where the model came from (a path), named in every error message.

    Examples
    --------
    One stump on feature 0 (LightGBM rules: ``x <= 0.5`` goes left):

    >>> import numpy as np
    >>> stump = TreeEnsemble(engine="lightgbm", n_features=1, tree_ptr=[0, 1], leaf_ptr=[0, 2], feature=[0],
    ...                      threshold=[0.5], left=[-1], right=[-2], default_left=[True], missing_type=[0],
    ...                      leaf_value=[-1.0, 2.0])
    >>> stump.predict(np.array([[0.5], [0.75], [np.nan]]))  # NaN reads as 0 under missing type None
    array([-1.,  2., -1.])
    """

    engine: str
    n_features: int
    tree_ptr: NDArray[np.int64] = field(repr=False)
    leaf_ptr: NDArray[np.int64] = field(repr=False)
    feature: NDArray[np.int32] = field(repr=False)
    threshold: NDArray[np.float64] = field(repr=False)
    left: NDArray[np.int32] = field(repr=False)
    right: NDArray[np.int32] = field(repr=False)
    default_left: NDArray[np.bool_] = field(repr=False)
    missing_type: NDArray[np.uint8] = field(repr=False)
    leaf_value: NDArray[np.float64] = field(repr=False)
    base_score: float = 0.0
    trees_per_iteration: int = 1
    objective: str | None = None
    feature_names: tuple[str, ...] | None = field(default=None, repr=False)
    source: str | None = None
    _plans: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    #: Where ``feature_names`` came from when an ltrkit model's record gave them (:mod:`ltr.trees.loaders`): the
    #: DataFrame it was fitted on (``"frame"``) or its data's names (``"data"``: a LETOR header, ``feature_names=``);
    #: None: the engine's model file.
    _names_from: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        for name, dtype in _ARRAYS.items():
            object.__setattr__(self, name, self._array(name, getattr(self, name), dtype))
        if self.feature_names is not None:
            object.__setattr__(self, "feature_names", tuple(str(s) for s in self.feature_names))
        self.validate()

    def _array(self, name, raw, dtype) -> np.ndarray:
        """``raw`` as a read-only 1-D copy of ``dtype``; values the cast would change are an error, not wrapped."""
        try:
            src = np.asarray(raw)
            with np.errstate(invalid="ignore", over="ignore"):
                a = src.astype(dtype)
        except (TypeError, ValueError, OverflowError) as e:
            raise ModelFormatError(f"{self._where()}: {name} is not an array of {np.dtype(dtype)} ({e})") from e
        if a.ndim != 1:
            raise ModelFormatError(f"{self._where()}: {name} must be one-dimensional, got shape {a.shape}")
        exact = np.array_equal(a, src, equal_nan=a.dtype.kind == "f") if src.dtype.kind in "biuf" else False
        if not exact:
            raise ModelFormatError(f"{self._where()}: {name} holds values that are not {np.dtype(dtype)} "
                                   f"(got dtype {src.dtype})")
        a = a.copy() if a is src else a
        a.setflags(write=False)
        return a

    # ---------------------------------------------------------------- structure
    @property
    def n_trees(self) -> int:
        """Number of trees."""
        return self.tree_ptr.size - 1

    @property
    def n_iterations(self) -> int:
        """Boosting rounds (``n_trees // trees_per_iteration``)."""
        return self.n_trees // self.trees_per_iteration

    def _where(self) -> str:
        return self.source if self.source is not None else f"{self.engine} tree ensemble"

    def _fail(self, t: int | None, what: str):
        tree = f"tree {t}: " if t is not None else ""
        raise ModelFormatError(f"{self._where()}: {tree}{what}")

    def validate(self) -> None:
        """Check the structure; raise :class:`~ltr.exceptions.ModelFormatError` naming the tree and the fault.

        Checked: offsets start at 0, never decrease and cover the arrays; every tree has one leaf more than split
        nodes; child codes in range; every split node but the root and every leaf reached exactly once from the
        root, and no cycle; features below ``n_features``; thresholds not NaN (XGBoost writes +inf for a split of
        float32's largest value from +inf, and its exact method -inf where a midpoint of values near float32's lowest
        overflows; LightGBM writes +-inf for splits that separate only missing values); finite leaf values and base
        score; known missing types; whole boosting rounds. Runs when the record is built, so a record is always
        valid.
        """
        if self.engine not in ENGINES:
            self._fail(None, f"engine must be one of {ENGINES}, got {self.engine!r}")
        if not isinstance(self.n_features, (int, np.integer)) or self.n_features < 1:
            self._fail(None, f"n_features must be a positive integer, got {self.n_features!r}")
        tpi = self.trees_per_iteration
        if not isinstance(tpi, (int, np.integer)) or tpi < 1:
            self._fail(None, f"trees_per_iteration must be a positive integer, got {tpi!r}")
        if not np.isfinite(self.base_score):
            self._fail(None, f"base_score must be finite, got {self.base_score}")
        n_nodes, n_leaves = self.feature.size, self.leaf_value.size
        for name in ("threshold", "left", "right", "default_left", "missing_type"):
            if getattr(self, name).size != n_nodes:
                self._fail(None, f"{name} has {getattr(self, name).size} entries, feature has {n_nodes}")
        for name, total in (("tree_ptr", n_nodes), ("leaf_ptr", n_leaves)):
            ptr = getattr(self, name)
            if ptr.size != self.tree_ptr.size or ptr.size == 0 or ptr[0] != 0 or ptr[-1] != total:
                self._fail(None, f"{name} must run from 0 to {total} with one entry per tree plus one")
            bad = np.flatnonzero(np.diff(ptr) < 0)
            if bad.size:
                self._fail(int(bad[0]), f"{name} decreases")
        n_trees = self.n_trees
        if n_trees % tpi:
            self._fail(None, f"{n_trees} trees are not whole rounds of {tpi} trees")
        n_int = np.diff(self.tree_ptr)
        n_leaf = np.diff(self.leaf_ptr)
        bad = np.flatnonzero(n_leaf != n_int + 1)
        if bad.size:
            t = int(bad[0])
            self._fail(t, f"{n_leaf[t]} leaves for {n_int[t]} split nodes (a binary tree has one leaf more)")
        node_tree = np.repeat(np.arange(n_trees), n_int)
        self._check_values(node_tree, n_leaves)
        self._check_links(node_tree, n_int, n_leaf)

    def _check_values(self, node_tree, n_leaves) -> None:
        def first(mask, what):
            i = np.flatnonzero(mask)
            if i.size:
                k = int(i[0])
                t = int(node_tree[k])
                self._fail(t, f"node {k - self.tree_ptr[t]} {what(k)}")

        first((self.feature < 0) | (self.feature >= self.n_features),
              lambda k: f"splits on feature {self.feature[k]}, but the model has {self.n_features} features")
        # LightGBM writes +-inf for a split that sends every present value one way and only missing ones the other;
        # XGBoost +inf for one that sends float32's largest value left and only +inf right, and (its exact method)
        # -inf for one that sends every present value right (the fast kernel reads a flag there: _layout).
        first(np.isnan(self.threshold), lambda k: f"has threshold {self.threshold[k]}, not a number")
        first(self.missing_type > 2, lambda k: f"has unknown missing type {self.missing_type[k]}")
        if self.engine == "xgboost":
            first(self.missing_type != 2, lambda k: "has a missing type other than NaN, which XGBoost does not have")
            first(self.threshold.astype(np.float32).astype(np.float64) != self.threshold,
                  lambda k: f"has threshold {self.threshold[k]}, not a float32 value as XGBoost stores")
        bad_leaf = ~np.isfinite(self.leaf_value)
        if self.engine == "xgboost":
            bad_leaf |= self.leaf_value.astype(np.float32).astype(np.float64) != self.leaf_value
            if np.float64(np.float32(self.base_score)) != self.base_score:
                self._fail(None, f"base_score {self.base_score} is not a float32 value as XGBoost stores")
        bad = np.flatnonzero(bad_leaf)
        if bad.size:
            k = int(bad[0])
            t = int(np.searchsorted(self.leaf_ptr, k, side="right") - 1)
            self._fail(t, f"leaf {k - self.leaf_ptr[t]} has value {self.leaf_value[k]}, not a finite "
                          f"{'float32' if self.engine == 'xgboost' else 'float64'} number")
        if self.leaf_value.size:  # finite leaves that add up beyond the sum's type: every score inf, written without
            # a word by ltr predict (trial t72); the engines' sums are float64 (LightGBM) and float32 (XGBoost)
            kind = np.float32 if self.engine == "xgboost" else np.float64
            with np.errstate(over="ignore"):
                largest = np.maximum.reduceat(np.abs(self.leaf_value), self.leaf_ptr[:-1][np.diff(self.leaf_ptr) > 0])
                total = float(np.sum(largest)) + abs(float(self.base_score))
            if not total <= float(np.finfo(kind).max):
                self._fail(None, f"its leaf values can add up to {total:.4g} (each tree's largest in magnitude), "
                                 f"beyond the largest {np.dtype(kind).name} number: its scores can overflow to "
                                 "infinity")

    def _check_links(self, node_tree, n_int, n_leaf) -> None:
        n_nodes = self.feature.size
        local = np.arange(n_nodes) - self.tree_ptr[node_tree]
        for side in ("left", "right"):
            c = getattr(self, side).astype(np.int64)
            bad = np.flatnonzero(np.where(c >= 0, c >= n_int[node_tree], ~c >= n_leaf[node_tree]))
            if bad.size:
                k = int(bad[0])
                t = int(node_tree[k])
                self._fail(t, f"node {local[k]} has {side} child {c[k]}, outside the tree's {n_int[t]} split nodes "
                              f"(codes 0..{n_int[t] - 1}) and {n_leaf[t]} leaves (codes -1..{-n_leaf[t]})")
        # Every split node but the root has exactly one parent, and every leaf of a tree with splits one.
        children = np.concatenate([self.left, self.right]).astype(np.int64)
        parents = np.concatenate([np.arange(n_nodes), np.arange(n_nodes)])
        owner = node_tree[parents] if n_nodes else parents
        is_node = children >= 0
        node_refs = np.bincount(self.tree_ptr[owner[is_node]] + children[is_node], minlength=n_nodes)
        leaf_refs = np.bincount(self.leaf_ptr[owner[~is_node]] + ~children[~is_node], minlength=self.leaf_value.size)
        want = np.ones(n_nodes, dtype=np.int64)
        want[self.tree_ptr[:-1][n_int > 0]] = 0
        bad = np.flatnonzero(node_refs != want)
        if bad.size:
            k = int(bad[0])
            t = int(node_tree[k])
            what = "the root is some node's child" if want[k] == 0 else f"is the child of {node_refs[k]} nodes"
            self._fail(t, f"split node {local[k]}: {what} (every split node but the root must have one parent)")
        want_leaf = np.repeat((n_int > 0).astype(np.int64), n_leaf)
        bad = np.flatnonzero(leaf_refs != want_leaf)
        if bad.size:
            k = int(bad[0])
            t = int(np.searchsorted(self.leaf_ptr, k, side="right") - 1)
            self._fail(t, f"leaf {k - self.leaf_ptr[t]} is the child of {leaf_refs[k]} nodes (must be exactly one)")
        # One parent each leaves only cycles detached from the root: every node must lead up to it.
        up = np.arange(n_nodes)
        up[self.tree_ptr[owner[is_node]] + children[is_node]] = parents[is_node]
        for _ in range(int(n_int.max()).bit_length() + 1 if n_nodes else 0):
            up = up[up]
        bad = np.flatnonzero(up != self.tree_ptr[node_tree])
        if bad.size:
            k = int(bad[0])
            self._fail(int(node_tree[k]), f"split node {local[k]} is on a cycle, not reachable from the root")

    # ---------------------------------------------------------------- scoring
    def _plan(self, dtype):
        plan = self._plans.get(dtype)
        if plan is None:
            from ltr.trees._layout import build_plan

            plan = self._plans[dtype] = build_plan(self, dtype)
        return plan

    def _input(self, X) -> np.ndarray:
        if (type(X) is np.ndarray and X.ndim == 2 and X.shape[1] == self.n_features and X.flags.c_contiguous
                and (X.dtype == np.float32 or X.dtype == np.float64 and self.engine == "lightgbm")):
            return X  # the common case, checked cheaply (reranking calls this per query)
        if sp.issparse(X):
            how = ("X.toarray(), absent entries 0, as LightGBM reads them" if self.engine == "lightgbm" else
                   "a dense array with NaN for the absent entries, as XGBoost reads them (X.toarray() makes them 0, "
                   "which it scores otherwise)")
            raise TypeError(f"X must be a dense array: pass {how}; an absent sparse entry is 0 to LightGBM but "
                            "missing to XGBoost, so the toolkit does not guess")
        X = as_pandas(X)  # a pyarrow Table or a polars frame: read by name as pandas' (trial t58's review)
        if hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "to_numpy"):
            X = self._frame_input(X)
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_rows, n_features), got shape {X.shape}")
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_) or np.iscomplexobj(X):
            raise TypeError(f"X must hold real numbers, got dtype {X.dtype}")
        if X.shape[1] != self.n_features:
            raise ValueError(f"X has {X.shape[1]} features, but the model ({self._where()}) expects "
                             f"{self.n_features}; pass the columns the model was trained on, in the same order")
        # The engines' own conversions: LightGBM keeps float32/float64 and reads anything else as float32;
        # XGBoost reads every value as float32 (a C cast rounds to nearest, as numpy's does). Row-major only: one
        # compiled kernel per dtype.
        keep = X.dtype == np.float64 and self.engine == "lightgbm"
        with np.errstate(over="ignore"):  # beyond float32's range is +-inf, as the engines' C casts make it
            return np.ascontiguousarray(X, dtype=np.float64 if keep else np.float32)

    def _frame_input(self, df) -> np.ndarray:
        """A pandas DataFrame as the engine reads it: LightGBM converts the whole frame to ``np.result_type`` of its
        columns' dtypes and float32 (so integer columns become float64, where an integer array becomes float32);
        XGBoost reads each column as float32. A nullable column's ``pd.NA`` is a missing value. A ``category``
        column is refused (LightGBM would read its codes, XGBoost refuses it), and so are columns that are the
        model's features in another order or other names (:func:`ltr.frames.check_frame_names`, as XGBoost and
        scikit-learn refuse them; LightGBM would score them by position)."""
        import pandas as pd

        names = [str(c) for c in df.columns]
        kinds = []
        for name, dtype in zip(names, df.dtypes):
            if isinstance(dtype, pd.CategoricalDtype):
                raise TypeError(f"X's column {name!r} is a pandas category: LightGBM would score its codes and "
                                "XGBoost refuses it; pass its numbers (.astype(float)) or its codes (.cat.codes)")
            if isinstance(dtype, pd.SparseDtype):  # (real numbers, stored sparse: the message said they were not)
                raise TypeError(f"X's column {name!r} is a pandas sparse column ({dtype}); pass its dense values, "
                                "X.sparse.to_dense()")
            try:
                kind = np.dtype(getattr(dtype, "numpy_dtype", dtype))
            except TypeError:  # a pandas extension dtype with no NumPy counterpart (strings, intervals, ...)
                kind = np.dtype(object)
            if not (np.issubdtype(kind, np.number) or kind == np.bool_) or np.issubdtype(kind, np.complexfloating):
                raise TypeError(f"X's column {name!r} has dtype {dtype}; X must hold real numbers")
            kinds.append(kind)
        # as ltr.load_model's rankers check them: LightGBM's spelling of 'my feat' (my_feat) read as the same name,
        # other names refused (a frame of two columns swapped and a third renamed was scored by position; trial t58)
        # XGBoost keeps names only where its user gave them: its f0.. are a frame's own names, not placeholders; a
        # frame's integer labels are the names its engine stored ('0', '1', ...) unless the names are the data's,
        # where they name nothing, as scikit-learn and ltr.load_model read them (review of trial t59)
        origin = self._names_from
        try:
            check_frame_names(df, self.feature_names, "X", lightgbm_spelling=self.engine == "lightgbm",
                              named=origin == "frame" or (origin is None and self.engine == "xgboost"),
                              scope="ltr.trees", attribute="feature_names", as_text=origin != "data")
        except ValueError as e:  # which model refused it, where a service holds several
            raise ValueError(f"{e} (the model: {self._where()})") from None
        if self.engine == "lightgbm":
            return df.to_numpy(dtype=np.result_type(*kinds, np.float32), na_value=np.nan)
        out = np.empty(df.shape, dtype=np.float32)
        for j in range(df.shape[1]):
            with np.errstate(over="ignore"):
                out[:, j] = df.iloc[:, j].to_numpy(dtype=np.float32, na_value=np.nan)
        return out

    def _tree_count(self, n_iter) -> int:
        if isinstance(n_iter, bool) or not (n_iter is None or isinstance(n_iter, (int, np.integer))):
            raise ValueError(f"n_iter must be an integer or None, got {n_iter!r}")
        if n_iter is None or n_iter <= 0:  # every round, as LightGBM reads num_iteration <= 0 and XGBoost 0 (and
            return self.tree_ptr.size - 1  # LightGBM's best_iteration without early stopping is 0)
        if n_iter > self.n_iterations:
            raise ValueError(f"n_iter={n_iter} is more than the model's {self.n_iterations} boosting rounds")
        return int(n_iter) * self.trees_per_iteration

    def predict(self, X: ArrayLike, *, n_iter: int | None = None, n_jobs: int | None = None,
                method: str = "fast") -> NDArray[np.float64]:
        """Raw margins, bit-for-bit the engine's own.

        Equal to ``lightgbm.Booster.predict(X, raw_score=True, num_iteration=n_iter)`` and to XGBoost's
        ``inplace_predict(X, output_margin=True, iteration_range=(0, n_iter))`` (NaN as missing), including their
        missing-value rules and input conversions (module table); for an XGBoost DART model, to its
        ``Booster.predict(DMatrix(X), output_margin=True)``, which its ``inplace_predict`` differs from in the last
        bits where the base margin is not 0 (:mod:`ltr.trees.xgboost_json`).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Dense input; NaN is a missing value. LightGBM models compare float64 input in float64 and anything else
            as float32; XGBoost models read every value as float32. A pandas DataFrame is converted as the engine
            converts it (LightGBM: integer columns as float64; ``pd.NA`` missing), its column names checked against
            the model's feature names.
        n_iter : int, optional
            Use the first ``n_iter`` boosting rounds (the best iteration); all of them when None or ``<= 0``, as
            LightGBM reads ``num_iteration <= 0`` and XGBoost ``iteration_range=(0, 0)``. (LightGBM's
            ``num_iteration=None`` means a booster's best iteration: pass it here; a model file LightGBM saved after
            early stopping holds only the trees up to it.)
        n_jobs : int, optional
            Threads, as everywhere in ltrkit (:mod:`ltr.threads`): None picks one thread for a reranking-size batch
            (the fastest) and the idle cores for a large one; ``k`` threads; -1 every core. Safe to call from
            several threads: on Numba's workqueue threading layer, which aborts the process on two parallel
            kernels at once, calls on several threads take turns (:func:`ltr.threads.workqueue_turn`).
        method : {"fast", "reference"}, default="fast"
            ``"fast"``: the bit-sliced kernel, or for one or two rows a walk down the trees over the same prepared
            tests (faster there); ``"reference"`` walks each tree node by node with the engine's rule (slow; for
            checking).

        Returns
        -------
        ndarray of float64, shape (n_rows,)
        """
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        X = self._input(X)
        t_end = self._tree_count(n_iter)
        threads = resolve_n_jobs(n_jobs, n_rows=X.shape[0], n_features=X.shape[1])  # None: 1 for a rerank batch
        out = np.empty(X.shape[0], dtype=np.float64 if self.engine == "lightgbm" else np.float32)
        if method == "reference":
            self._walk(X, t_end, out)
            return out.astype(np.float64, copy=False)
        dtype = np.float64 if (self.engine == "lightgbm" and X.dtype == np.float64) else np.float32
        p = self._plan(dtype)
        if X.shape[0] <= WALK_MAX_ROWS:
            _score.predict_walk(X, p.arrays, p.walk_cols, p.walk_thresholds, p.walk_left, p.walk_right, t_end, p.base,
                                out)
            return out.astype(np.float64, copy=False)
        block = max(1, min(BLOCK_ROWS, X.shape[0]))
        args = (X, p.arrays, t_end, p.base, block, out)
        if threads == 1:
            _score.predict_fast(*args)
        else:  # (on Numba's workqueue layer, two threads' parallel kernels at once abort the process)
            with workqueue_turn(), numba_threads(threads):
                _score.predict_fast_parallel(*args)
        return out.astype(np.float64, copy=False)

    def _walk(self, X, t_end, out) -> None:
        if self.engine == "lightgbm":
            _score.walk_lightgbm(X.astype(np.float64), self.tree_ptr, self.leaf_ptr, self.feature, self.threshold,
                                 self.left, self.right, self.default_left, self.missing_type, self.leaf_value,
                                 t_end, out)
        else:
            f32 = np.float32
            _score.walk_xgboost(X.astype(f32), self.tree_ptr, self.leaf_ptr, self.feature, self.threshold.astype(f32),
                                self.left, self.right, self.default_left, self.leaf_value.astype(f32),
                                f32(self.base_score), t_end, out)


