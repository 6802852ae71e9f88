"""XGBoost's JSON model (``Booster.save_raw("json")``, ``save_model("m.json")``) to a :class:`~ltr.trees.TreeEnsemble`.

The parts read (XGBoost 1.0 to 3.x)::

    {"learner": {
        "learner_model_param": {"base_score": "[5E-1]", "num_feature": "136", "num_class": "0", "num_target": "1"},
        "objective": {"name": "rank:ndcg", ...},
        "feature_names": [...],
        "gradient_booster": {"name": "gbtree", "model": {
            "gbtree_model_param": {"num_trees": "100", "num_parallel_tree": "1"},
            "tree_info": [0, ...], "iteration_indptr": [0, 1, ...],
            "trees": [{"id": 0, "tree_param": {"num_nodes": "61", "num_deleted": "0", ...},
                       "left_children": [...], "right_children": [...], "parents": [...],
                       "split_indices": [...], "split_conditions": [...], "default_left": [...], ...}]}}},
     "version": [3, 2, 0]}

A DART booster (``"gradient_booster": {"name": "dart", "gbtree": {...}, "weight_drop": [...]}``) holds the same
trees and one weight per tree, which XGBoost's ``Booster.predict`` multiplies each tree's output by, in float32: the
weights are folded into the leaves (``float32(leaf * w)``), which sum to that margin bit for bit. (XGBoost's
``inplace_predict`` of a DART model adds ``((leaf + base) - base) * w``, which differs in the last bits where the base
margin is not 0; ltrkit's XGBoost engine scores with ``Booster.predict``, as the exported models do.)

A node is a leaf when its left child is -1; a leaf's ``split_conditions`` entry is its value. XGBoost's predictor
takes the right child to be the left child + 1, so a model where that does not hold is refused. Unreachable nodes
are allowed only as many as ``num_deleted`` says (pruned trees keep them).

``base_score`` is stored in the objective's output space ("probability" space), as a number or, since XGBoost 3,
as a bracketed vector ``"[5E-1]"``; predictions start from ``ProbToMargin(base_score)`` in float32. The link is the
objective's (XGBoost 3.2 ``src/objective``): logit for ``binary:logistic``/``reg:logistic`` (after clamping to
``[1e-6, 1 - 1e-6]``), log for ``count:poisson``, ``reg:gamma``, ``reg:tweedie``, ``survival:cox``,
``survival:aft``, the identity for the others listed in :data:`LINKS`; an objective not listed is refused.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import re
from typing import Any

import numpy as np

from ltr.exceptions import ModelFormatError
from ltr.trees.model import TreeEnsemble
from ltr.trees.refusal import SplitRefusal

__all__ = ["LINKS", "base_margin", "from_xgboost_json"]

_IDENTITY = ("reg:squarederror", "reg:linear", "reg:squaredlogerror", "reg:pseudohubererror", "reg:absoluteerror",
             "reg:quantileerror", "binary:logitraw", "binary:hinge", "rank:pairwise", "rank:ndcg", "rank:map")
#: Objective name -> the link XGBoost applies to ``base_score`` (``ObjFunction::ProbToMargin``).
LINKS = {
    **dict.fromkeys(_IDENTITY, "identity"),
    **dict.fromkeys(("binary:logistic", "reg:logistic"), "logit"),
    **dict.fromkeys(("count:poisson", "reg:gamma", "reg:tweedie", "survival:cox", "survival:aft"), "log"),
}
_RT_EPS = np.float32(1e-6)  # XGBoost's kRtEps
_INT = re.compile(r"[+-]?[0-9]+")  # ASCII digits: \d is any script's, which XGBoost does not read
#: A number as JSON (and XGBoost's writer) spells it: Python's float() also reads '2_5E-1' (2.5: XGBoost reads 2),
#: '.25', '+0.25', ' 0.5' and other scripts' digits.
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


#: The widest XGBoost model read without feature names (num_feature alone declares the width; a model naming its
#: features is as large as its names): 2**24, far beyond any LETOR set (MSLR 136, Yahoo 700 features).
WIDEST = 2**24


@functools.lru_cache(maxsize=1)
def _libm_logf():
    # XGBoost calls the C library's logf; use the same function so that the base margin matches to the bit.
    try:
        name = ctypes.util.find_library("m")
        fn = ctypes.CDLL(name).logf if name else None
    except (OSError, AttributeError):
        fn = None
    if fn is not None:
        fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return fn


def _logf(x: np.float32) -> np.float32:
    fn = _libm_logf()
    if fn is None:  # no C library found: numpy's float32 log (may differ in the last bit)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(np.float32(x))
    return np.float32(fn(float(x)))


def base_margin(base_score: float, objective: str) -> np.float32:
    """XGBoost's starting margin: ``ProbToMargin(float32(base_score))`` for ``objective``, in float32.

    Examples
    --------
    >>> float(base_margin(0.5, "rank:ndcg")), float(base_margin(0.5, "binary:logistic"))
    (0.5, -0.0)
    """
    link = LINKS.get(objective)
    if link is None:
        raise ValueError(f"unknown XGBoost objective {objective!r}: cannot tell how its base_score maps to a margin "
                         f"(known: {', '.join(sorted(LINKS))})")
    x = np.float32(base_score)
    if link == "identity":
        return x
    if link == "log":
        return _logf(x)
    x = min(max(x, _RT_EPS), np.float32(1.0) - _RT_EPS)
    return -_logf(np.float32(np.float32(1.0) / x) - np.float32(1.0))


class _Doc:
    def __init__(self, where: str):
        self.where = where

    def at(self, path: str, tree: int | None = None) -> str:
        """Where an error is: ``FILE: tree T: JSON.PATH: ``."""
        return f"{self.where}: {f'tree {tree}: ' if tree is not None else ''}{path}: "

    def fail(self, path: str, what: str, tree: int | None = None):
        raise ModelFormatError(f"{self.at(path, tree)}{what}")

    def get(self, obj: Any, key: str, path: str, kind: type | tuple, tree: int | None = None) -> Any:
        if not isinstance(obj, dict):
            self.fail(path, "is not a JSON object", tree)
        if key not in obj:
            self.fail(f"{path}.{key}", "is missing", tree)
        v = obj[key]
        if not isinstance(v, kind) or isinstance(v, bool) and kind in (int, (int, str)):
            self.fail(f"{path}.{key}", f"has the wrong type ({type(v).__name__})", tree)
        return v

    def integer(self, obj: Any, key: str, path: str, tree: int | None = None, default: int | None = None) -> int:
        """XGBoost writes most counts as strings of digits."""
        if default is not None and isinstance(obj, dict) and key not in obj:
            return default
        v = self.get(obj, key, path, (int, str), tree)
        if isinstance(v, str):
            if not _INT.fullmatch(v):
                self.fail(f"{path}.{key}", f"must be an integer, got {v[:40]!r}", tree)
            v = int(v)
        return v

    def array(self, obj: Any, key: str, path: str, n: int, kinds: str, tree: int) -> np.ndarray:
        """A JSON list of ``n`` numbers whose numpy kind is one of ``kinds`` ('i' integer, 'f' float, 'b' bool)."""
        v = self.get(obj, key, path, list, tree)
        if len(v) != n:
            self.fail(f"{path}.{key}", f"has {len(v)} entries, expected {n} (num_nodes)", tree)
        try:
            a = np.array(v)
        except (ValueError, TypeError, OverflowError):
            a = None
        if a is None or a.ndim != 1 or (a.size and a.dtype.kind not in kinds):
            self.fail(f"{path}.{key}", f"must be a list of {'numbers' if 'f' in kinds else 'integers'}", tree)
        if a.dtype.kind == "i" and a.size and (a.min() < -(2**31) or a.max() >= 2**32):
            self.fail(f"{path}.{key}", "has values out of the 32-bit range", tree)
        return a


def _parse_base_score(doc: _Doc, value: Any, path: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        parts = [str(value)]
    elif isinstance(value, str):
        parts = value[1:-1].split(",") if value.startswith("[") and value.endswith("]") else [value]
    else:
        doc.fail(path, f"has the wrong type ({type(value).__name__})")
    if len(parts) != 1:
        doc.fail(path, f"has {len(parts)} values; models with several outputs are not supported")
    if isinstance(value, str) and not _NUMBER.fullmatch(parts[0]):
        doc.fail(path, f"is not a number as XGBoost writes one: {value!r}")
    try:
        x = float(parts[0])
    except ValueError:
        doc.fail(path, f"is not a number: {value!r}")
    if not np.isfinite(x):
        doc.fail(path, f"is not finite: {value!r}")
    return x


class _TwiceError(ValueError):
    """A key given twice in one JSON object (its ``args[0]``)."""


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, a key given twice refused (``json`` alone keeps the last one)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        raise _TwiceError(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return obj


def _load(doc: _Doc, text_or_dict: Any) -> dict:
    if isinstance(text_or_dict, dict):
        return text_or_dict
    if isinstance(text_or_dict, (bytes, bytearray)):
        try:
            text_or_dict = bytes(text_or_dict).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ModelFormatError(f"{doc.where}: not JSON text ({e}); give UBJSON bytes (Booster.save_raw()) to "
                                   "ltr.trees.from_model_text, a UBJSON file to ltr.trees.load, or save the model "
                                   "as JSON (a .json name, Booster.save_raw('json'))") from e
    if not isinstance(text_or_dict, str):
        raise TypeError(f"text_or_dict must be str, bytes or dict, got {type(text_or_dict).__name__}")
    try:
        obj = json.loads(text_or_dict, object_pairs_hook=_once_each)
    except _TwiceError as e:  # json keeps the last: a second, empty "learner" was said to lack its booster (t67)
        raise ModelFormatError(f"{doc.where}: key {e.args[0]!r} is given twice in one JSON object: which one the "
                               "model holds is not known") from None
    except json.JSONDecodeError as e:
        raise ModelFormatError(f"{doc.where}:{e.lineno}:{e.colno}: not valid JSON ({e.msg})") from e
    except RecursionError as e:
        raise ModelFormatError(f"{doc.where}: JSON nested too deeply") from e
    if not isinstance(obj, dict):
        raise ModelFormatError(f"{doc.where}: not an XGBoost model (the JSON is not an object)")
    return obj


def _refuse_categorical(doc: _Doc, path: str, i: int, tree: dict, nodes, names: list[str] | None, n_features: int):
    """Refuse a tree with categorical splits, naming its first categorical node and feature if it can (a
    :class:`~ltr.trees.refusal.SplitRefusal`, which ``ltr export --feature-names`` names again)."""
    try:
        k = int(nodes[0])
        f = int(tree["split_indices"][k])
    except (TypeError, ValueError, IndexError, KeyError):  # the lists that would name them are malformed
        doc.fail(path, "categorical splits are not supported", i)
    if not 0 <= f < n_features:
        doc.fail(path, f"node {k} is a categorical split, which is not supported", i)
    raise SplitRefusal.at(f"{doc.at(path, i)}node {k}", f, " is a categorical split, which is not supported", names,
                          n_features)


def _trees(doc: _Doc, trees: list, n_features: int, path: str, names: list[str] | None) -> dict[str, np.ndarray]:
    """Check every tree in XGBoost's own node ids, then renumber the reachable nodes in the record's convention."""
    arrays: dict[str, list] = {k: [] for k in ("left", "right", "parent", "feature", "cond", "dleft")}
    sizes, deleted = [], []
    for i, tree in enumerate(trees):
        p = f"{path}[{i}]"
        if not isinstance(tree, dict):
            doc.fail(p, "is not a JSON object", i)
        if "id" in tree and (not isinstance(tree["id"], int) or isinstance(tree["id"], bool) or tree["id"] != i):
            doc.fail(f"{p}.id", f"is {tree['id']!r}, expected {i}", i)
        param = doc.get(tree, "tree_param", p, dict, i)
        n = doc.integer(param, "num_nodes", f"{p}.tree_param", i)
        if n < 1:
            doc.fail(f"{p}.tree_param.num_nodes", f"must be at least 1, got {n}", i)
        n_del = doc.integer(param, "num_deleted", f"{p}.tree_param", i, default=0)
        if not 0 <= n_del < n:
            doc.fail(f"{p}.tree_param.num_deleted", f"must be in 0..{n - 1}, got {n_del}", i)
        if doc.integer(param, "size_leaf_vector", f"{p}.tree_param", i, default=1) > 1:
            doc.fail(f"{p}.tree_param.size_leaf_vector", "multi-target trees are not supported", i)
        if any(tree.get(k) for k in ("categories", "categories_nodes")):
            _refuse_categorical(doc, f"{p}.categories_nodes", i, tree, tree.get("categories_nodes"), names, n_features)
        if "split_type" in tree and doc.array(tree, "split_type", p, n, "iub", i).any():
            nodes = np.flatnonzero(doc.array(tree, "split_type", p, n, "iub", i)).tolist()
            _refuse_categorical(doc, f"{p}.split_type", i, tree, nodes, names, n_features)
        for key in ("base_weights", "loss_changes", "sum_hessian"):
            if key in tree:
                doc.array(tree, key, p, n, "fiu", i)
        arrays["left"].append(doc.array(tree, "left_children", p, n, "i", i).astype(np.int64))
        arrays["right"].append(doc.array(tree, "right_children", p, n, "i", i).astype(np.int64))
        arrays["parent"].append(doc.array(tree, "parents", p, n, "i", i).astype(np.int64))
        arrays["feature"].append(doc.array(tree, "split_indices", p, n, "i", i).astype(np.int64))
        with np.errstate(over="ignore"):
            arrays["cond"].append(doc.array(tree, "split_conditions", p, n, "fiu", i).astype(np.float32))
        dl = doc.array(tree, "default_left", p, n, "iub", i)
        if ((dl != 0) & (dl != 1)).any():
            doc.fail(f"{p}.default_left", "must hold 0 or 1", i)
        arrays["dleft"].append(dl.astype(bool))
        sizes.append(n)
        deleted.append(n_del)
    a = {k: np.concatenate(v) if v else np.empty(0, dtype=np.int64) for k, v in arrays.items()}
    sizes = np.array(sizes, dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(sizes)])
    n_total = int(start[-1])
    tree_of = np.repeat(np.arange(sizes.size), sizes)
    nid = np.arange(n_total) - start[tree_of]

    def fail_at(mask, what):
        bad = np.flatnonzero(mask)
        if bad.size:
            k = int(bad[0])
            t = int(tree_of[k])
            doc.fail(f"{path}[{t}]", f"node {nid[k]} {what(k)}", t)

    leaf = a["left"] == -1
    fail_at(leaf & (a["right"] != -1), lambda k: f"is a leaf (left child -1) with right child {a['right'][k]}")
    n_of = sizes[tree_of]
    fail_at(~leaf & ((a["left"] < 1) | (a["left"] >= n_of)),
            lambda k: f"has left child {a['left'][k]}, outside 1..{n_of[k] - 1}")
    fail_at(~leaf & (a["right"] != a["left"] + 1),
            lambda k: f"has right child {a['right'][k]}, not left child + 1 = {a['left'][k] + 1} "
                      "(XGBoost's predictor assumes it)")
    fail_at((nid > 0) & ((a["parent"] < 0) | (a["parent"] >= n_of)),
            lambda k: f"has parent {a['parent'][k]}, outside 0..{n_of[k] - 1}")
    # Each node has at most one parent; nodes reached from the root are used, the rest must be deleted ones.
    src = np.flatnonzero(~leaf)
    kids = np.concatenate([start[tree_of[src]] + a["left"][src], start[tree_of[src]] + a["right"][src]])
    owner = np.concatenate([src, src])
    refs = np.bincount(kids, minlength=n_total)
    fail_at(refs > 1, lambda k: f"is the child of {refs[k]} nodes")
    fail_at((nid == 0) & (refs > 0), lambda k: "(the root) is another node's child")
    up = np.arange(n_total)
    up[kids] = owner
    for _ in range(int(sizes.max()).bit_length() + 1 if n_total else 0):
        up = up[up]
    used = up == start[tree_of]
    unused = np.bincount(tree_of[~used], minlength=sizes.size)
    bad = np.flatnonzero(unused != np.array(deleted, dtype=np.int64))
    if bad.size:
        t = int(bad[0])
        doc.fail(f"{path}[{t}]", f"{unused[t]} nodes are not reachable from the root (a cycle or a detached part), "
                                 f"but num_deleted is {deleted[t]}", t)
    par = np.full(n_total, -1, dtype=np.int64)
    par[kids] = owner
    fail_at(used & (nid > 0) & (a["parent"] != par - start[tree_of]),
            lambda k: f"has parent {a['parent'][k]}, but node {par[k] - start[tree_of[k]]} names it as a child")
    split = used & ~leaf
    fail_at(split & ((a["feature"] < 0) | (a["feature"] >= n_features)),
            lambda k: f"splits on feature {a['feature'][k]}, but the model has {n_features} features (num_feature)")
    # XGBoost writes +inf for a split that sends float32's largest value left and only +inf (and maybe the missing
    # values) right: a feature that reaches 3.4028235e38 (Istella's 1.79769313486e+308 clipped) with missing values;
    # its exact method -inf where the midpoint of two values near float32's lowest overflows (every value goes right)
    fail_at(used & (np.isnan(a["cond"]) | (leaf & ~np.isfinite(a["cond"]))),
            lambda k: f"has split_conditions {a['cond'][k]}, not a finite float32 (a leaf's value, a split's "
                      "threshold, which may also be +-inf)")

    # Renumber: split nodes and leaves in id order within each tree, children as codes (c >= 0 split, ~c leaf).
    u_split, u_leaf = split, used & leaf
    rank_split = np.cumsum(u_split) - 1
    rank_leaf = np.cumsum(u_leaf) - 1
    n_split = np.bincount(tree_of[u_split], minlength=sizes.size)
    n_leaf = np.bincount(tree_of[u_leaf], minlength=sizes.size)
    tree_ptr = np.concatenate([[0], np.cumsum(n_split)])
    leaf_ptr = np.concatenate([[0], np.cumsum(n_leaf)])
    code = np.where(leaf, ~(rank_leaf - leaf_ptr[tree_of]), rank_split - tree_ptr[tree_of])
    s = np.flatnonzero(u_split)
    return {
        "tree_ptr": tree_ptr, "leaf_ptr": leaf_ptr, "feature": a["feature"][s], "threshold": a["cond"][s],
        "left": code[start[tree_of[s]] + a["left"][s]], "right": code[start[tree_of[s]] + a["right"][s]],
        "default_left": a["dleft"][s], "missing_type": np.full(s.size, 2), "leaf_value": a["cond"][u_leaf],
    }


def _fold_weight_drop(doc: _Doc, dart: dict, arrays: dict[str, np.ndarray], n_trees: int) -> np.ndarray:
    """A DART booster's leaves times its per-tree ``weight_drop``, as XGBoost predicts with them.

    ``Dart::PredictBatchImpl`` (and ``InplacePredict``) scores each tree alone into a buffer of zeros, then adds
    ``buffer * weight_drop[t]`` to the margin, in float32 and in tree order; so a tree adds
    ``float32(float32(0 + leaf) * w)`` (``0 + leaf`` makes a leaf of -0.0 +0.0, as there), and the record's float32
    sum from ``base_score`` of those leaves is XGBoost's margin bit for bit.
    """
    path = "learner.gradient_booster.weight_drop"
    raw = doc.get(dart, "weight_drop", "learner.gradient_booster", list)
    if len(raw) != n_trees:
        doc.fail(path, f"has {len(raw)} entries, expected one per tree ({n_trees})")
    if not all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in raw):
        doc.fail(path, "must be a list of numbers")
    with np.errstate(over="ignore"):
        weight = np.array(raw, dtype=np.float64).astype(np.float32)
    if not np.isfinite(weight).all():
        t = int(np.flatnonzero(~np.isfinite(weight))[0])
        doc.fail(path, f"entry {t} is {raw[t]!r}, not a finite float32", t)
    leaf_tree = np.repeat(np.arange(n_trees), np.diff(arrays["leaf_ptr"]))
    with np.errstate(over="ignore"):
        leaf = (np.float32(0.0) + arrays["leaf_value"].astype(np.float32)) * weight[leaf_tree]
    if not np.isfinite(leaf).all():
        k = int(np.flatnonzero(~np.isfinite(leaf))[0])
        t = int(leaf_tree[k])
        doc.fail(path, f"weight {float(weight[t])!r} times leaf {k - int(arrays['leaf_ptr'][t])} "
                       f"({float(arrays['leaf_value'][k])!r}) is beyond float32's range", t)
    return leaf.astype(np.float64)


def from_xgboost_json(text_or_dict: str | bytes | dict, *, source: str | None = None) -> TreeEnsemble:
    """Parse and validate an XGBoost JSON model.

    Parameters
    ----------
    text_or_dict : str, bytes or dict
        JSON text (``Booster.save_raw("json")``, a ``.json`` model file) or the parsed object.
    source : str, optional
        The file it came from; every error message starts with it.

    Returns
    -------
    TreeEnsemble
        With ``base_score`` the float32 starting margin (the stored ``base_score`` through the objective's link).

    Raises
    ------
    ModelFormatError
        Anything malformed or unsupported (categorical splits, linear boosters, multiclass or multi-output models,
        an objective whose base-score link is unknown), naming ``source``, the JSON path and the tree; a
        categorical split is a :class:`~ltr.trees.refusal.SplitRefusal` naming its feature.

    Examples
    --------
    >>> stump = {"learner": {
    ...     "learner_model_param": {"base_score": "[5E-1]", "num_feature": "1", "num_class": "0", "num_target": "1"},
    ...     "objective": {"name": "reg:squarederror"}, "feature_names": [],
    ...     "gradient_booster": {"name": "gbtree", "model": {
    ...         "gbtree_model_param": {"num_trees": "1", "num_parallel_tree": "1"}, "tree_info": [0],
    ...         "trees": [{"id": 0, "tree_param": {"num_nodes": "3", "num_deleted": "0"},
    ...                    "left_children": [1, -1, -1], "right_children": [2, -1, -1], "parents": [2147483647, 0, 0],
    ...                    "split_indices": [0, 0, 0], "split_conditions": [0.5, -1.0, 2.0],
    ...                    "default_left": [1, 0, 0]}]}}}}
    >>> import numpy as np
    >>> from_xgboost_json(stump).predict(np.array([[0.25], [0.5], [np.nan]]))  # x < 0.5 goes left; NaN left
    array([-0.5,  2.5, -0.5])
    """
    doc = _Doc(source if source is not None else "XGBoost JSON model")
    obj = _load(doc, text_or_dict)
    learner = doc.get(obj, "learner", "$", dict)
    booster = doc.get(learner, "gradient_booster", "learner", dict)
    name = doc.get(booster, "name", "learner.gradient_booster", str)
    gbp = "learner.gradient_booster"
    if name not in ("gbtree", "dart"):
        what = {"gblinear": "linear boosters"}.get(name, repr(name))
        doc.fail(f"{gbp}.name", f"{what} are not supported, only gbtree and dart")
    dart = booster if name == "dart" else None
    if dart is not None:  # a gbtree inside, and a weight per tree
        if "gbtree" not in dart:
            doc.fail(f"{gbp}.gbtree", "is missing: a DART booster holds its trees there, beside a weight_drop per tree")
        booster, gbp = doc.get(dart, "gbtree", gbp, dict), f"{gbp}.gbtree"
        name = doc.get(booster, "name", gbp, str)
        if name != "gbtree":
            doc.fail(f"{gbp}.name", f"a DART booster must hold a gbtree, got {name!r}")
    param = doc.get(learner, "learner_model_param", "learner", dict)
    n_features = doc.integer(param, "num_feature", "learner.learner_model_param")
    if n_features < 1:
        doc.fail("learner.learner_model_param.num_feature", f"must be at least 1, got {n_features}")
    if n_features > WIDEST and not learner.get("feature_names"):  # a width only declared: 62 KB saying 2e9 made
        # ltr info take every GB of the machine (trial t72); names make a file as wide as its width.
        doc.fail("learner.learner_model_param.num_feature", f"{n_features} features, more than the {WIDEST:,} ltrkit "
                                                            "reads without their names")
    n_class = doc.integer(param, "num_class", "learner.learner_model_param", default=0)
    if n_class > 1:
        doc.fail("learner.learner_model_param.num_class", f"multiclass models ({n_class} classes) are not supported")
    if doc.integer(param, "num_target", "learner.learner_model_param", default=1) != 1:
        doc.fail("learner.learner_model_param.num_target", "multi-target models are not supported")
    base = _parse_base_score(doc, doc.get(param, "base_score", "learner.learner_model_param", (str, int, float)),
                             "learner.learner_model_param.base_score")
    objective = doc.get(doc.get(learner, "objective", "learner", dict), "name", "learner.objective", str)
    if objective.startswith("multi:"):  # num_class=1 passed the count above: an unknown objective, it said (t66)
        doc.fail("learner.objective.name", f"multiclass models ({objective}, num_class={n_class}) are not supported: "
                                           "ltrkit scores one output")
    try:
        margin = base_margin(base, objective)
    except ValueError as e:
        doc.fail("learner.objective.name", str(e))
    if not np.isfinite(margin):
        doc.fail("learner.learner_model_param.base_score", f"{base!r} has no finite margin under {objective}")
    names = learner.get("feature_names") or None
    if names is not None and (not isinstance(names, list) or len(names) != n_features
                              or not all(isinstance(s, str) for s in names)):
        doc.fail("learner.feature_names", f"must be empty or list {n_features} names (num_feature)")

    model = doc.get(booster, "model", gbp, dict)
    mp = f"{gbp}.model"
    trees = doc.get(model, "trees", mp, list)
    gparam = doc.get(model, "gbtree_model_param", mp, dict)
    if doc.integer(gparam, "num_trees", f"{mp}.gbtree_model_param") != len(trees):
        doc.fail(f"{mp}.gbtree_model_param.num_trees", f"does not match the {len(trees)} trees listed")
    per_iter = doc.integer(gparam, "num_parallel_tree", f"{mp}.gbtree_model_param", default=1)
    if per_iter < 1 or len(trees) % per_iter:
        doc.fail(f"{mp}.gbtree_model_param.num_parallel_tree", f"{per_iter} does not divide the {len(trees)} trees")
    info = doc.get(model, "tree_info", mp, list)
    if len(info) != len(trees) or any(g != 0 for g in info):
        doc.fail(f"{mp}.tree_info", f"must list output 0 for each of the {len(trees)} trees (one output)")
    if "iteration_indptr" in model:
        indptr = model["iteration_indptr"]
        if indptr != list(range(0, len(trees) + 1, per_iter)):
            doc.fail(f"{mp}.iteration_indptr", f"must be 0, {per_iter}, ..., {len(trees)} (num_parallel_tree trees "
                                               "per round)")
    arrays = _trees(doc, trees, n_features, f"{mp}.trees", names)
    if dart is not None:
        arrays["leaf_value"] = _fold_weight_drop(doc, dart, arrays, len(trees))
    return TreeEnsemble(engine="xgboost", n_features=n_features, **arrays, base_score=float(margin),
                        trees_per_iteration=per_iter, objective=objective,
                        feature_names=tuple(names) if names else None, source=source)
