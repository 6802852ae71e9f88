"""Feature normalisation per query (RankLib's ``-norm``) and over the whole training set, as JSON-able transformers.

Two small transformers with one interface, ``fit(X, group_ptr=None)`` / ``transform(X, group_ptr=None)`` /
``to_dict()`` / ``from_dict()``, so that a model can store its normaliser in its JSON sidecar and apply exactly the
same transformation at predict time:

:class:`QueryNormalizer` (stateless; needs the query offsets at transform time), per query and feature, over the
query's rows ``x_1..x_n``:

- ``"zscore"``: ``(x - mean) / sd`` with the sample standard deviation (``n - 1``), as RankLib's
  ``ZScoreNormalizor``;
- ``"minmax"`` (accepted as ``"linear"``, the name of RankLib's ``-norm linear``): ``(x - min) / (max - min)``, as
  RankLib 2.10's ``LinearNormalizer`` ({5, 6, 10} -> {0, 0.2, 1} in both), except for a feature negative throughout
  a query: RankLib starts its max at Java's ``Float.MIN_VALUE`` (the smallest positive float), so it scales by
  ``0 - min`` there ({-3, -2, -1} -> {0, 0.333, 0.667}, where ``minmax`` gives {0, 0.5, 1}). Older RankLib copies
  started min and max at 0 (``x / max`` for a positive feature). Checked against RankLib 2.10 (codelibs/ranklib):
  weights trained with ``minmax`` score the same there under ``-norm linear`` when no feature is negative
  throughout a query;
- ``"sum"``: ``x / sum(|x|)``.

:class:`GlobalNormalizer` (fitted on training rows; ignores queries): ``(x - offset) / scale`` per feature with
``offset, scale`` = mean and population standard deviation (``"zscore"``) or min and range (``"minmax"``).

Edge-case policy, applied per query and feature:

- no spread (a one-document query, or equal values; ``sd``, range or ``sum|x|`` is 0): the value becomes 0 for
  ``zscore`` and ``minmax`` (RankLib leaves raw values for ``zscore``, which mixes scales across queries; 0 says
  "no information within this query"), and stays as it is for ``sum`` (all its values are 0 already);
- for the global normaliser a constant training feature gets ``scale = 1``;
- NaN (a missing value) is ignored by the statistics and stays NaN; +-inf raises :class:`ValueError`.

Computation is vectorised with ``numpy.add.reduceat`` over ``group_ptr`` in float64, in blocks of queries to bound
memory, and the result is cast to float32 (the readers' dtype: a float64 dataset's normalised values are rounded to it,
in training and prediction alike). Sparse input is densified.

References
----------
V. Dang, RankLib (``ciir.umass.edu.features``: ``ZScoreNormalizor``, ``LinearNormalizer``, ``SumNormalizor``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ltr.groups import check_group_ptr

__all__ = [
    "GLOBAL_METHODS",
    "QUERY_METHODS",
    "GlobalNormalizer",
    "QueryNormalizer",
    "make_normalizer",
    "normalizer_from_dict",
]

QUERY_METHODS = ("zscore", "minmax", "sum")
GLOBAL_METHODS = ("zscore", "minmax")
#: Other names of the methods: RankLib's ``-norm linear`` is ``minmax`` here (not quite the same: module docstring).
_ALIASES = {"linear": "minmax"}
_BLOCK_ROWS = 1 << 18  # rows per block: bounds the float64 temporaries to a few hundred MB for wide data


def _dense64(X, what: str = "X") -> NDArray[np.float64]:
    if sp.issparse(X):
        X = X.toarray()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{what} must be 2-D (n_rows, n_features), got shape {X.shape}")
    if np.isinf(X).any():
        r, c = np.argwhere(np.isinf(X))[0]
        raise ValueError(f"{what} has an infinite value at row {r}, column {c}; normalisation needs finite features")
    return X


def _columns(features, n_features: int) -> NDArray[np.intp]:
    if features is None:
        return np.arange(n_features)
    cols = np.asarray(features, dtype=np.intp)
    if cols.ndim != 1 or (cols.size and (cols.min() < 0 or cols.max() >= n_features)):
        raise ValueError(f"features must be column indices in 0..{n_features - 1}, got {np.asarray(features).tolist()}")
    return cols


def _blocks(ptr: NDArray[np.int64]):
    """Consecutive query ranges [q0, q1) of about _BLOCK_ROWS rows each."""
    q0 = 0
    nq = ptr.size - 1
    while q0 < nq:
        q1 = int(np.searchsorted(ptr, ptr[q0] + _BLOCK_ROWS, side="right")) - 1
        q1 = min(max(q1, q0 + 1), nq)
        yield q0, q1
        q0 = q1


def _query_normalize(X: NDArray[np.float64], ptr: NDArray[np.int64], method: str) -> None:
    """Normalise ``X`` (float64, rows of the block) in place, per query, per column."""
    starts = ptr[:-1] - ptr[0]
    sizes = np.diff(ptr)
    valid = ~np.isnan(X)
    x0 = np.where(valid, X, 0.0)
    count = np.add.reduceat(valid, starts, axis=0).astype(np.float64)
    if method == "sum":
        norm = np.add.reduceat(np.abs(x0), starts, axis=0)
        norm = np.where(norm > 0, norm, 1.0)  # all zeros: leave them
        X /= np.repeat(norm, sizes, axis=0)
        return
    if method == "zscore":
        # equal values have no spread, whatever the mean's round-off leaves (0.1 three times: mean 0.1 + 2.8e-17,
        # sd 1.7e-17, which made them -0.82; trial t61): their mean is the value itself
        lo = np.fmin.reduceat(X, starts, axis=0)
        equal = lo == np.fmax.reduceat(X, starts, axis=0)
        mean = np.where(equal, lo, np.add.reduceat(x0, starts, axis=0) / np.maximum(count, 1.0))
        centred = X - np.repeat(mean, sizes, axis=0)
        ss = np.add.reduceat(np.where(valid, centred * centred, 0.0), starts, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(ss / (count - 1.0))
        spread = np.repeat(np.where(np.isfinite(sd) & (sd > 0) & ~equal, sd, np.inf), sizes, axis=0)
        np.divide(centred, spread, out=X)  # no spread: centred / inf = 0 (NaN stays NaN)
        return
    lo = np.fmin.reduceat(X, starts, axis=0)
    hi = np.fmax.reduceat(X, starts, axis=0)
    rng = hi - lo
    spread = np.repeat(np.where(rng > 0, rng, np.inf), sizes, axis=0)
    np.divide(X - np.repeat(lo, sizes, axis=0), spread, out=X)


class QueryNormalizer:
    """Per-query feature normalisation (RankLib's ``-norm zscore|linear|sum``; ``minmax``, its ``linear``, differs
    from RankLib 2.10's for a feature negative throughout a query: see the module docstring).

    Parameters
    ----------
    method : {"zscore", "minmax", "sum"}, default="zscore"
        See :mod:`ltr.rankers.normalize` for the formulas and the edge-case policy; ``"linear"`` (RankLib's name)
        is taken as ``"minmax"``.
    features : sequence of int, optional
        Columns to normalise (0-based); the others pass through. Default: all.

    Examples
    --------
    >>> QueryNormalizer("linear")
    QueryNormalizer(method='minmax')

    One query of three documents, one feature (1, 2, 3): mean 2, sample sd 1:

    >>> QueryNormalizer("zscore").transform([[1.0], [2.0], [3.0]], group_ptr=[0, 3]).ravel().tolist()
    [-1.0, 0.0, 1.0]
    >>> QueryNormalizer("sum").transform([[1.0], [3.0], [4.0], [2.0]], group_ptr=[0, 2, 4]).ravel().tolist()
    [0.25, 0.75, 0.6666666865348816, 0.3333333432674408]
    """

    needs_groups = True

    def __init__(self, method: str = "zscore", features: ArrayLike | None = None):
        method = _ALIASES.get(method, method) if isinstance(method, str) else method
        if method not in QUERY_METHODS:
            raise ValueError(f"unknown query normalisation {method!r}; choose one of {list(QUERY_METHODS)} "
                             "('linear' is 'minmax')")
        self.method = method
        self.features = None if features is None else [int(f) for f in np.asarray(features).ravel()]

    def fit(self, X=None, y=None, group_ptr: ArrayLike | None = None) -> QueryNormalizer:
        """Nothing to learn: per-query statistics come from the rows being transformed."""
        return self

    def transform(self, X, group_ptr: ArrayLike | None = None) -> NDArray[np.float32]:
        """Normalised copy of ``X`` as float32.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_rows, n_features)
            Rows sorted by query.
        group_ptr : array-like of int, shape (n_queries + 1,)
            Query offsets (required: the statistics are per query).
        """
        X = _dense64(X)
        if group_ptr is None:
            raise ValueError(
                f"query normalisation ({self.method!r}) needs the query offsets: pass group_ptr= (or a RankingDataset)"
            )
        ptr = check_group_ptr(group_ptr, X.shape[0])
        cols = _columns(self.features, X.shape[1])
        out = X.copy()
        if cols.size and X.shape[0]:
            for q0, q1 in _blocks(ptr):
                r0, r1 = int(ptr[q0]), int(ptr[q1])
                block = out[r0:r1][:, cols]
                _query_normalize(block, ptr[q0:q1 + 1], self.method)
                out[r0:r1, cols] = block
        return out.astype(np.float32)

    def fit_transform(self, X, group_ptr: ArrayLike | None = None) -> NDArray[np.float32]:
        return self.fit(X, group_ptr=group_ptr).transform(X, group_ptr)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (``from_dict(to_dict())`` rebuilds it)."""
        return {"type": "query", "method": self.method, "features": self.features}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QueryNormalizer:
        if d.get("type") != "query":
            raise ValueError(f"not a query normaliser description: {d!r}")
        return cls(d["method"], d.get("features"))

    def __repr__(self) -> str:
        return f"QueryNormalizer(method={self.method!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, QueryNormalizer) and self.to_dict() == other.to_dict()

    __hash__ = None  # mutable


class GlobalNormalizer:
    """Feature scaling fitted on training rows and applied unchanged to any later rows.

    ``x' = (x - offset_j) / scale_j`` with ``offset, scale`` = (mean, population sd) for ``"zscore"`` or
    (min, max - min) for ``"minmax"``, over the non-NaN training values of feature ``j``; a constant feature gets
    scale 1.

    Parameters
    ----------
    method : {"zscore", "minmax"}, default="zscore"
        ``"linear"`` is taken as ``"minmax"``, as for :class:`QueryNormalizer`.
    features : sequence of int, optional
        Columns to normalise (0-based); default all.

    Attributes
    ----------
    offset_, scale_ : ndarray of float64, shape (n_features,)
    n_features_in_ : int

    Examples
    --------
    >>> g = GlobalNormalizer("minmax").fit([[0.0, 5.0], [2.0, 5.0]])
    >>> g.transform([[1.0, 5.0], [4.0, 6.0]]).tolist()
    [[0.5, 0.0], [2.0, 1.0]]
    """

    needs_groups = False

    def __init__(self, method: str = "zscore", features: ArrayLike | None = None):
        method = _ALIASES.get(method, method) if isinstance(method, str) else method
        if method not in GLOBAL_METHODS:
            raise ValueError(f"unknown global normalisation {method!r}; choose one of {list(GLOBAL_METHODS)} "
                             "('linear' is 'minmax')")
        self.method = method
        self.features = None if features is None else [int(f) for f in np.asarray(features).ravel()]

    def fit(self, X, y=None, group_ptr: ArrayLike | None = None) -> GlobalNormalizer:
        """Learn per-feature offsets and scales from training rows (``group_ptr`` is ignored)."""
        X = _dense64(X)
        if X.shape[0] == 0:
            raise ValueError("cannot fit a global normaliser on no rows")
        n = X.shape[1]
        cols = _columns(self.features, n)
        offset = np.zeros(n)
        scale = np.ones(n)
        sub = X[:, cols]
        seen = ~np.isnan(sub).all(axis=0)
        filled = np.where(seen, sub, 0.0)  # (a column of NaN alone: 0, which its offset and scale leave as they are)
        with np.errstate(invalid="ignore"):
            lo, hi = np.nanmin(filled, axis=0), np.nanmax(filled, axis=0)
            if self.method == "zscore":
                equal = lo == hi  # (the mean of 0.1s is not 0.1, nor their sd 0: trial t61)
                o = np.where(seen, np.where(equal, lo, np.nanmean(filled, axis=0)), 0.0)
                s = np.where(seen & ~equal, np.nanstd(filled, axis=0), 1.0)
            else:
                o = np.where(seen, lo, 0.0)
                s = np.where(seen, hi - o, 1.0)
        offset[cols] = o
        scale[cols] = np.where(s > 0, s, 1.0)
        self.offset_ = offset
        self.scale_ = scale
        self.n_features_in_ = n
        return self

    def transform(self, X, group_ptr: ArrayLike | None = None) -> NDArray[np.float32]:
        """``(X - offset_) / scale_`` as float32 (``group_ptr`` is accepted and ignored)."""
        if not hasattr(self, "offset_"):
            raise ValueError("this GlobalNormalizer is not fitted yet: call fit() on the training rows first")
        X = _dense64(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features but the normaliser was fitted on {self.n_features_in_}")
        return ((X - self.offset_) / self.scale_).astype(np.float32)

    def fit_transform(self, X, group_ptr: ArrayLike | None = None) -> NDArray[np.float32]:
        return self.fit(X).transform(X)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description; floats round-trip exactly through JSON (``repr`` precision)."""
        d: dict[str, Any] = {"type": "global", "method": self.method, "features": self.features}
        if hasattr(self, "offset_"):
            d["offset"] = [float(v) for v in self.offset_]
            d["scale"] = [float(v) for v in self.scale_]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GlobalNormalizer:
        if d.get("type") != "global":
            raise ValueError(f"not a global normaliser description: {d!r}")
        g = cls(d["method"], d.get("features"))
        if "offset" in d:
            offset, scale = d["offset"], d["scale"]
            if not all(isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
                       for v in (offset, scale)):  # NumPy read '"nan"' as NaN: every score the same (trial t72)
                raise ValueError("a global normaliser's offsets and scales must be lists of numbers")
            g.offset_ = np.asarray(offset, dtype=np.float64)
            g.scale_ = np.asarray(scale, dtype=np.float64)
            if (g.offset_.shape != g.scale_.shape or not np.isfinite(g.offset_).all()
                    or not (np.isfinite(g.scale_) & (g.scale_ > 0)).all()):
                raise ValueError("a global normaliser needs finite offsets and positive, finite scales of the same "
                                 "length")
            g.n_features_in_ = int(g.offset_.size)
        return g

    def __repr__(self) -> str:
        return f"GlobalNormalizer(method={self.method!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, GlobalNormalizer) and self.to_dict() == other.to_dict()

    __hash__ = None


Normalizer = QueryNormalizer | GlobalNormalizer


def normalizer_from_dict(d: dict[str, Any]) -> QueryNormalizer | GlobalNormalizer:
    """Rebuild a normaliser from :meth:`to_dict` output (as stored in a model sidecar)."""
    if not isinstance(d, dict) or d.get("type") not in ("query", "global"):
        raise ValueError(f"not a normaliser description (expected type 'query' or 'global'): {d!r}")
    try:
        return (QueryNormalizer if d["type"] == "query" else GlobalNormalizer).from_dict(d)
    except KeyError as e:  # a damaged model file's normaliser: 'bad normalizer ('method')' said no more (trial t60)
        raise ValueError(f"its {e.args[0]!r} entry is missing") from None


def make_normalizer(spec: str | dict | QueryNormalizer | GlobalNormalizer | None):
    """A normaliser from a short name: ``"zscore"``, ``"minmax"``, ``"sum"`` (per query, as RankLib's ``-norm``;
    ``"linear"`` is an alias of ``"minmax"``, which is not RankLib's 0-anchored ``linear``: see the module
    docstring), ``"global-zscore"`` or ``"global-minmax"``; a dict from :meth:`to_dict`; an instance (returned as
    is); or None.

    Examples
    --------
    >>> make_normalizer("linear"), make_normalizer("global-zscore")
    (QueryNormalizer(method='minmax'), GlobalNormalizer(method='zscore'))
    """
    if spec is None or isinstance(spec, (QueryNormalizer, GlobalNormalizer)):
        return spec
    if isinstance(spec, dict):
        return normalizer_from_dict(spec)
    if not isinstance(spec, str):
        raise TypeError(f"normalize must be a name, a dict or a normaliser, got {type(spec).__name__}")
    name = spec.strip().lower().replace("_", "-")
    if name.startswith("global-") or name.startswith("global:"):
        return GlobalNormalizer(name[7:])
    if name in QUERY_METHODS or name in _ALIASES:
        return QueryNormalizer(name)
    raise ValueError(
        f"unknown normalisation {spec!r}; choose one of {[*QUERY_METHODS, 'linear']} (per query) or "
        f"{['global-' + m for m in GLOBAL_METHODS]}"
    )
