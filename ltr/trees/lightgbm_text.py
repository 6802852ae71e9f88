"""LightGBM's model text (``Booster.model_to_string``, ``save_model``) to a :class:`~ltr.trees.TreeEnsemble`.

The format, as LightGBM 4 writes it (``GBDT::SaveModelToString`` and ``Tree::ToString``)::

    tree
    version=v4
    num_class=1
    num_tree_per_iteration=1
    max_feature_idx=135            # n_features - 1
    objective=lambdarank ...
    feature_names=Column_0 ...     # max_feature_idx + 1 names (also feature_infos)
    tree_sizes=880 887 ...         # the byte length of each tree block below

    Tree=0                         # one block per tree: key=value lines, then blank lines
    num_leaves=7
    num_cat=0
    split_feature=... threshold=... decision_type=... left_child=... right_child=...   (num_leaves - 1 each)
    leaf_value=...                 # num_leaves
    ...

    end of trees
    (feature importances: not read)
    parameters:                    # checked only for its form: LightGBM's own loader crashes on a malformed block
    [name: value] ...
    end of parameters

LightGBM 2.0 and 2.1 (``version=v2``) wrote no ``end of trees`` line: their trees end where ``feature
importances:`` (or ``parameters:``) begins, and ``tree_sizes`` says how many there are, as LightGBM's loader reads them.

The parser is stricter than LightGBM, whose loader trusts ``tree_sizes`` and the child indices (a malformed text
can make it read past its buffer or abort the interpreter): every line is checked before anything is built, and
every problem is a :class:`~ltr.exceptions.ModelFormatError` that names the file, the line and the tree.
``decision_type`` holds bit 0 categorical (refused), bit 1 default-left, bits 2-3 the missing type
(0 None, 1 Zero, 2 NaN).
"""

from __future__ import annotations

import re

import numpy as np

from ltr.exceptions import ModelFormatError
from ltr.trees.model import TreeEnsemble
from ltr.trees.refusal import SplitRefusal

__all__ = ["from_lightgbm_text"]

# ASCII digits only: \d matches any script's, which LightGBM's parser does not read (nor should this one)
_INT = r"[+-]?[0-9]+"
_FLOAT = r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|nan)"
_INTS = re.compile(rf"{_INT}(?: {_INT})*")
_FLOATS = re.compile(rf"{_FLOAT}(?: {_FLOAT})*", re.IGNORECASE)
_TREE = re.compile(r"Tree=([0-9]+)")

# What follows the trees in the text of LightGBM 2.0 and 2.1, which wrote no 'end of trees' line (version=v2).
_OLD_ENDS = ("feature importances:", "parameters:", "pandas_categorical:null")
_VERSIONS = ("v2", "v3", "v4")

# Tree fields: (parsed as ints?, entries: "nodes" = num_leaves - 1, "leaves" = num_leaves, None = one scalar).
_TREE_FIELDS = {
    "num_leaves": (True, None), "num_cat": (True, None), "is_linear": (True, None), "shrinkage": (False, None),
    "split_feature": (True, "nodes"), "split_gain": (False, "nodes"), "threshold": (False, "nodes"),
    "decision_type": (True, "nodes"), "left_child": (True, "nodes"), "right_child": (True, "nodes"),
    "internal_value": (False, "nodes"), "internal_weight": (False, "nodes"), "internal_count": (True, "nodes"),
    "leaf_value": (False, "leaves"), "leaf_weight": (False, "leaves"), "leaf_count": (True, "leaves"),
    "cat_boundaries": (True, "any"), "cat_threshold": (True, "any"), "leaf_const": (False, "any"),
    "num_features": (True, "any"), "leaf_features": (True, "any"), "leaf_coeff": (False, "any"),
}
#: The fields LightGBM's ``Tree`` parser reads of a tree with one leaf (a constant tree, no split); it returns before
#: the others, so that what it writes there (``leaf_weight=`` with no entry) is never checked.
_ONE_LEAF_FIELDS = ("num_leaves", "num_cat", "leaf_value", "shrinkage", "is_linear", "leaf_count")
_MAX_TREE_LINES = 22  # LightGBM's Tree parser reads at most this many lines of a block


class _Text:
    """The model text as lines with their 1-based numbers and byte offsets, and the error helper."""

    def __init__(self, text: str, where: str):
        self.where = where
        # Old-Mac line ends (CR alone) are line ends to LightGBM's reader as well
        raw = text.split("\r" if "\n" not in text and "\r" in text else "\n")
        #: the last line has no line end: a copy or download cut inside it (LightGBM ends every line)
        self.cut_in_line = bool(raw) and raw[-1] != ""
        if raw and raw[-1] == "":
            raw.pop()
        # Byte offsets count every byte, "\r" included (tree_sizes is in bytes); contents drop a final "\r".
        self.offset = np.concatenate([[0], np.cumsum([len(s.encode("utf-8")) + 1 for s in raw])]).astype(np.int64)
        self.lines = [s[:-1] if s.endswith("\r") else s for s in raw]
        self.crlf = sum(s.endswith("\r") for s in raw)  # Windows line ends: a copy in text mode adds them

    def at(self, i: int | None, tree: int | None = None) -> str:
        """Where an error is: ``FILE:LINE: tree T: ``."""
        at = f"{self.where}:{i + 1}: " if i is not None else f"{self.where}: "
        return at + (f"tree {tree}: " if tree is not None else "")

    def fail(self, i: int | None, what: str, tree: int | None = None, token: str | None = None):
        tok = f" (token {token[:60]!r})" if token is not None else ""
        raise ModelFormatError(f"{self.at(i, tree)}{what}{tok}")


def _int(doc: _Text, i: int, key: str, value: str, tree: int | None = None) -> int:
    if not re.fullmatch(_INT, value):
        doc.fail(i, f"{key} must be an integer", tree, value)
    return int(value)


def _array(doc: _Text, i: int, key: str, value: str, n: int | None, is_int: bool, tree: int | None) -> np.ndarray:
    """The space-separated numbers of one line (``n`` of them unless None); an empty value is no numbers."""
    if value == "":
        a = np.empty(0, dtype=np.int64 if is_int else np.float64)
    else:
        if not (_INTS if is_int else _FLOATS).fullmatch(value):
            bad = next((t for t in value.split(" ") if not re.fullmatch(_INT if is_int else _FLOAT, t, re.I)), value)
            doc.fail(i, f"{key} must be {'integers' if is_int else 'numbers'} separated by single spaces", tree, bad)
        a = np.array(value.split(" "), dtype=np.float64)
        if is_int:
            if np.abs(a).max() >= 2**31:
                doc.fail(i, f"{key} has a value out of the 32-bit range", tree)
            a = a.astype(np.int64)
    if n is not None and a.size != n:
        doc.fail(i, f"{key} has {a.size} entries, expected {n}", tree)
    return a


def _header(doc: _Text) -> tuple[dict[str, tuple[int, str]], int]:
    """Header key -> (line index, value), and the index of the first ``Tree=`` line (or of the trees' end)."""
    if not doc.lines or doc.lines[0] != "tree":
        first = doc.lines[0][:40] if doc.lines else ""
        doc.fail(0 if doc.lines else None, "not a LightGBM model text (the first line must be 'tree')",
                 token=first)
    head: dict[str, tuple[int, str]] = {}
    i = 1
    while i < len(doc.lines) and not doc.lines[i].startswith("Tree=") and doc.lines[i] != "end of trees":
        line = doc.lines[i]
        if line:
            key, eq, value = line.partition("=")
            if "=" in value and key not in ("feature_names", "monotone_constraints"):
                doc.fail(i, "a header line must be key=value", token=line)
            if key in head:
                doc.fail(i, f"header key {key!r} is given twice (also on line {head[key][0] + 1})")
            head[key] = (i, value)
        i += 1
    return head, i


def _tree_block(doc: _Text, i: int, t: int) -> tuple[dict[str, tuple[int, str]], int]:
    """The key=value lines of tree ``t``'s block starting after line ``i``; returns them and the next line index."""
    fields: dict[str, tuple[int, str]] = {}
    i += 1
    while i < len(doc.lines) and doc.lines[i] != "":
        line = doc.lines[i]
        key, eq, value = line.partition("=")
        if not eq:
            doc.fail(i, "a tree line must be key=value (a blank line ends the tree)", t, line)
        if key not in _TREE_FIELDS:
            doc.fail(i, f"unknown tree field {key!r}", t)
        if key in fields:
            doc.fail(i, f"tree field {key!r} is given twice", t)
        fields[key] = (i, value)
        if len(fields) > _MAX_TREE_LINES:
            doc.fail(i, f"more than {_MAX_TREE_LINES} fields in one tree (LightGBM reads no more)", t)
        i += 1
    if i >= len(doc.lines):
        doc.fail(None, "the text ends inside a tree: it is truncated (no 'end of trees' line)", t)
    return fields, i


def _refuse_split(doc: _Text, i: int, t: int, k: int, split_feature, what: str, names: list[str]):
    """Refuse node ``k`` of tree ``t`` for ``what``, naming its feature where the split_feature line names one (a
    :class:`~ltr.trees.refusal.SplitRefusal`, which ``ltr export --feature-names`` names again)."""
    if split_feature is None or k >= len(split_feature) or not 0 <= split_feature[k] < len(names):
        doc.fail(i, f"node {k} {what}", t)
    raise SplitRefusal.at(f"{doc.at(i, t)}node {k}", int(split_feature[k]), f" {what}", names)


def _refuse_categorical(doc: _Text, t: int, fields: dict[str, tuple[int, str]], names: list[str], num_cat: int):
    """Refuse a tree with categorical splits, naming its first categorical node and feature if it can."""
    line = fields["num_cat"][0]
    try:
        dt = [int(v) for v in fields["decision_type"][1].split(" ")]
        feature = [int(v) for v in fields["split_feature"][1].split(" ")]
        k = next(k for k, d in enumerate(dt) if d & 1)
    except (KeyError, ValueError, StopIteration):
        # the lines that would name the node are absent or themselves malformed
        doc.fail(line, f"categorical splits (num_cat={num_cat}) are not supported", t)
    _refuse_split(doc, line, t, k, feature, f"is a categorical split (num_cat={num_cat}), which is not supported",
                  names)


def _parse_tree(doc: _Text, t: int, start: int, fields: dict[str, tuple[int, str]],
                names: list[str]) -> dict[str, np.ndarray]:
    for key in ("num_leaves", "num_cat", "leaf_value"):
        if key not in fields:
            doc.fail(start, f"the tree has no {key} line", t)
    li, value = fields["num_leaves"]
    n_leaves = _int(doc, li, "num_leaves", value, t)
    if n_leaves < 1:
        doc.fail(li, f"num_leaves must be at least 1, got {n_leaves}", t)
    num_cat = _int(doc, fields["num_cat"][0], "num_cat", fields["num_cat"][1], t)
    if num_cat != 0 or "cat_boundaries" in fields or "cat_threshold" in fields:
        _refuse_categorical(doc, t, fields, names, num_cat)
    if "is_linear" in fields:
        li, lv = fields["is_linear"]
        if _int(doc, li, "is_linear", lv, t) not in (0, 1):
            doc.fail(li, "is_linear must be 0 or 1", t, lv)
        if lv.lstrip("+") != "0":
            doc.fail(li, "linear trees (linear_tree=true) are not supported", t)
    counts = {"nodes": n_leaves - 1, "leaves": n_leaves, "any": None}
    out = {}
    for key, (li, value) in fields.items():
        if n_leaves == 1 and (key not in _ONE_LEAF_FIELDS or (key == "leaf_count" and value == "")):
            # LightGBM reads no other field of a one-leaf tree (and writes leaf_weight empty there; LightGBM 2 and 3
            # wrote leaf_count empty too, a file LightGBM 4 loads)
            continue
        is_int, size = _TREE_FIELDS[key]
        if size is None:
            if key == "shrinkage":
                _array(doc, li, key, value, 1, False, t)
            continue
        out[key] = _array(doc, li, key, value, counts[size], is_int, t)
    if n_leaves > 1:
        for key in ("split_feature", "threshold", "left_child", "right_child"):
            if key not in out:
                doc.fail(start, f"the tree has {n_leaves} leaves but no {key} line", t)
    dt = out.get("decision_type", np.zeros(n_leaves - 1, dtype=np.int64))
    if dt.size and (dt.min() < 0 or dt.max() > 15):
        k = int(np.flatnonzero((dt < 0) | (dt > 15))[0])
        doc.fail(fields["decision_type"][0], f"node {k} has unknown decision_type {dt[k]}", t)
    if (dt & 1).any():
        k = int(np.flatnonzero(dt & 1)[0])
        _refuse_split(doc, fields["decision_type"][0], t, k, out.get("split_feature"),
                      "is a categorical split, which is not supported", names)
    if ((dt >> 2) & 3 == 3).any():
        k = int(np.flatnonzero((dt >> 2) & 3 == 3)[0])
        doc.fail(fields["decision_type"][0], f"node {k} has unknown missing type 3 (decision_type {dt[k]})", t)
    empty = np.empty(0, dtype=np.int64)
    return {
        "feature": out.get("split_feature", empty), "threshold": out.get("threshold", empty.astype(np.float64)),
        "left": out.get("left_child", empty), "right": out.get("right_child", empty),
        "default_left": (dt & 2) != 0, "missing_type": (dt >> 2) & 3, "leaf_value": out["leaf_value"],
    }


def from_lightgbm_text(text: str | bytes, *, source: str | None = None) -> TreeEnsemble:
    """Parse and validate LightGBM model text.

    Parameters
    ----------
    text : str or bytes
        What ``Booster.model_to_string()`` returns or ``Booster.save_model`` writes.
    source : str, optional
        The file it came from; every error message starts with it.

    Returns
    -------
    TreeEnsemble

    Raises
    ------
    ModelFormatError
        Anything malformed, truncated or unsupported (categorical splits, linear trees, multiclass, random-forest
        averaging), naming ``source``, the line and the tree.

    Examples
    --------
    >>> text = '''tree
    ... version=v4
    ... num_class=1
    ... num_tree_per_iteration=1
    ... label_index=0
    ... max_feature_idx=0
    ... objective=regression
    ... feature_names=x
    ... feature_infos=[0:1]
    ... tree_sizes=243
    ...
    ... Tree=0
    ... num_leaves=2
    ... num_cat=0
    ... split_feature=0
    ... split_gain=1
    ... threshold=0.5
    ... decision_type=2
    ... left_child=-1
    ... right_child=-2
    ... leaf_value=-1 2
    ... leaf_weight=1 1
    ... leaf_count=1 1
    ... internal_value=0
    ... internal_weight=2
    ... internal_count=2
    ... is_linear=0
    ... shrinkage=1
    ...
    ...
    ... end of trees
    ... '''
    >>> model = from_lightgbm_text(text, source="stump.txt")
    >>> model.n_trees, model.feature_names
    (1, ('x',))
    >>> from_lightgbm_text(text.replace("left_child=-1", "left_child=-3"), source="stump.txt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ltr.exceptions.ModelFormatError: stump.txt: tree 0: node 0 has left child -3, outside ...
    """
    where = source if source is not None else "LightGBM model text"
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ModelFormatError(f"{where}: not UTF-8 text ({e})") from e
    if not isinstance(text, str):
        raise TypeError(f"text must be str or bytes, got {type(text).__name__}")
    try:
        return _parse(text, where, source)
    except ModelFormatError as e:  # a file cut short was blamed on its last line's content (trial t56)
        if "end of trees" in text or "truncated" in str(e):
            raise
        raise type(e)(f"{e}; the text has no 'end of trees' line: it is cut short (truncated)?") from None


def _parse(text: str, where: str, source: str | None) -> TreeEnsemble:
    doc = _Text(text, where)
    head, i = _header(doc)

    def key(name: str, required: bool = True) -> tuple[int, str] | None:
        if name not in head and required:
            doc.fail(None, f"the header has no {name} line")
        return head.get(name)

    line, version = key("version")
    if version not in _VERSIONS:
        doc.fail(line, f"unknown LightGBM model version (supported: {', '.join(_VERSIONS)})", token=version)
    line, value = key("num_class")
    if _int(doc, line, "num_class", value) != 1:
        doc.fail(line, f"multiclass models (num_class={value}) are not supported: ltrkit scores one output")
    if "num_tree_per_iteration" in head:
        line, value = head["num_tree_per_iteration"]
        if _int(doc, line, "num_tree_per_iteration", value) != 1:
            doc.fail(line, f"num_tree_per_iteration={value}: models with several outputs are not supported")
    if "average_output" in head:
        doc.fail(head["average_output"][0], "random-forest models (average_output) are not supported")
    line, value = key("max_feature_idx")
    n_features = _int(doc, line, "max_feature_idx", value) + 1
    if n_features < 1:
        doc.fail(line, "max_feature_idx must be at least 0", token=value)
    line, value = key("feature_names")
    names = value.split(" ")
    if len(names) != n_features or "" in names:
        doc.fail(line, f"feature_names must list {n_features} names (max_feature_idx + 1) separated by single "
                       f"spaces, got {len(names)}")
    if "feature_infos" in head and len(head["feature_infos"][1].split(" ")) != n_features:
        doc.fail(head["feature_infos"][0], f"feature_infos must have {n_features} entries")
    objective = head.get("objective", (None, ""))[1].split(" ")[0] or None

    # Tree blocks, numbered from 0, then "end of trees".
    trees, starts = [], []
    old_end = False
    while True:
        while i < len(doc.lines) and doc.lines[i] == "":
            i += 1
        if i >= len(doc.lines):
            doc.fail(None, f"the text ends after {len(trees)} trees without an 'end of trees' line: it is truncated")
        line = doc.lines[i]
        if line == "end of trees":
            break
        if line in _OLD_ENDS and "tree_sizes" in head:  # LightGBM 2.0/2.1 (v2) wrote no 'end of trees' line: the
            old_end = True  # next part ends the trees, as LightGBM's loader reads them, tree_sizes counting them
            break  # (refused as cut short, trial t66)
        m = _TREE.fullmatch(line)
        if m is None:
            doc.fail(i, "expected 'Tree=<n>' or 'end of trees'", token=line)
        if int(m.group(1)) != len(trees):
            doc.fail(i, f"trees must be numbered in order: expected Tree={len(trees)}", token=line)
        starts.append(i)
        fields, i = _tree_block(doc, i, len(trees))
        trees.append(_parse_tree(doc, len(trees), starts[-1], fields, names))
    starts.append(i)
    _check_parameters(doc, i)

    def cat(name, dtype):
        parts = [tr[name] for tr in trees]
        return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype=dtype)

    n_int = np.array([tr["feature"].size for tr in trees], dtype=np.int64)
    n_leaf = np.array([tr["leaf_value"].size for tr in trees], dtype=np.int64)
    model = TreeEnsemble(
        engine="lightgbm", n_features=n_features,
        tree_ptr=np.concatenate([[0], np.cumsum(n_int)]), leaf_ptr=np.concatenate([[0], np.cumsum(n_leaf)]),
        feature=cat("feature", np.int64), threshold=cat("threshold", np.float64), left=cat("left", np.int64),
        right=cat("right", np.int64), default_left=cat("default_left", np.bool_),
        missing_type=cat("missing_type", np.int64), leaf_value=cat("leaf_value", np.float64),
        objective=objective, feature_names=tuple(names), source=source,
    )
    # Last, as the most generic complaint: an edited tree usually changes its size too.
    if "tree_sizes" in head:
        line, value = head["tree_sizes"]
        sizes = _array(doc, line, "tree_sizes", value, None, True, None)
        if sizes.size != len(trees):
            doc.fail(line, f"tree_sizes lists {sizes.size} trees, the text has {len(trees)}")
        actual = np.diff(doc.offset[starts])
        if old_end and actual.size:  # the '\n' the old writer put before what follows the trees is not the tree's
            actual[-1] -= 1
        bad = np.flatnonzero(sizes != actual)
        if bad.size:
            t = int(bad[0])
            why = ("; the file has Windows line ends (CRLF), one more byte a line than LightGBM wrote, as a copy in "
                   "text mode makes them: convert them back to LF (dos2unix), or copy the file as bytes"
                   if doc.crlf and int(np.sum(actual - sizes)) > 0 else "")
            doc.fail(line, f"tree_sizes says tree {t} is {sizes[t]} bytes, its block is {actual[t]} bytes "
                           f"(LightGBM would read the trees at the wrong offsets){why}")
    return model


_PARAMETER = re.compile(r"\[[A-Za-z0-9_]+: [^\r]*\]")


def _check_parameters(doc, i: int) -> None:
    """The ``parameters:`` block after the trees, if there is one: ``[name: value]`` lines up to ``end of
    parameters`` (LightGBM's loader reads it and crashes the process on a truncated or edited block)."""
    lines = doc.lines
    try:
        start = lines.index("parameters:", i)
    except ValueError:
        return
    for k in range(start + 1, len(lines)):
        if lines[k] == "end of parameters":
            return
        if lines[k] and _PARAMETER.fullmatch(lines[k]) is None:
            if k == len(lines) - 1 and doc.cut_in_line:  # '[sigmoid: ' was blamed as a malformed line (trial t62)
                doc.fail(k, "the text ends inside a parameter line, with no line end and no 'end of parameters' "
                            "line: it is truncated", token=lines[k])
            doc.fail(k, "expected a '[name: value]' parameter line or 'end of parameters'", token=lines[k])
    doc.fail(None, "the text ends inside the parameters block (no 'end of parameters' line): it is truncated")

