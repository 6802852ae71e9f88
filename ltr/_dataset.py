"""The dataset record shared by every layer, and a synthetic ranking-data generator (public as :mod:`ltr.datasets`).

A :class:`RankingDataset` is immutable: its arrays are read-only views, so a dataset handed to a trainer, a
metric or a writer cannot be changed behind the caller's back.

This module sits below :mod:`ltr.io`, which builds the record; :mod:`ltr.datasets` adds
:func:`~ltr.datasets.load`, which reads a registered set through :mod:`ltr.io` and :mod:`ltr.registry`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ltr.groups import check_group_ptr, check_qid_in_groups, group_ptr_from_sizes

#: The largest label or weight magnitude LightGBM keeps: its reader clips larger ones to +-1e38 (AvoidInf), so a
#: label of 2e38 trained as 1e38, silently. LETOR readers and the rankers refuse labels beyond it.
LABEL_LIMIT = 1e38

__all__ = ["LABEL_LIMIT", "RankingDataset", "dataset_summary", "fingerprint_of", "make_ranking", "placeholder_names",
           "query_digests"]


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


def _json_copy(description) -> dict:
    """A deep copy of a feature-set description in plain JSON types (ValueError when it is not JSON)."""
    if not isinstance(description, Mapping):
        raise TypeError(f"feature_set must be a mapping (a feature-set description), got {type(description).__name__}")
    try:
        return json.loads(json.dumps(dict(description), allow_nan=False))
    except (TypeError, ValueError) as e:
        raise ValueError(f"feature_set must hold JSON values only ({e})") from None


# A data frame's column names, read as scikit-learn reads them (public in ltr.frames, which re-exports them).
def other_frame(X) -> bool:
    """Whether ``X`` is a data frame of another library (a pyarrow Table, a polars DataFrame: named columns and
    ``to_pandas``), whose names and values the rankers read as pandas'. Its names were dropped (scikit-learn reads
    them), and a Table of swapped columns was scored by position under a false 'no valid feature names' warning
    (trial t57)."""
    return (not hasattr(X, "iloc") and not sp.issparse(X) and not isinstance(X, np.ndarray)
            and hasattr(X, "to_pandas") and (hasattr(X, "column_names") or hasattr(X, "columns")))


def refuse_lazy_frame(X, what: str = "X") -> None:
    """A lazy frame (a polars LazyFrame: ``collect()``, no ``to_pandas``) is a query, not its rows: refused, naming
    the call that makes them. It was read as a 0-D array ('X must be 2-D, got shape ()'), after three of polars'
    warnings about resolving its schema (trial t71)."""
    if (not isinstance(X, np.ndarray) and not sp.issparse(X) and callable(getattr(type(X), "collect", None))
            and not hasattr(X, "to_pandas") and not hasattr(X, "iloc")):
        raise TypeError(f"{what} is a {type(X).__name__}, a query of rows not yet computed: pass {what}.collect()")


def frame_names(X) -> list[str] | None:
    """A data frame's column names when every one is a string (scikit-learn's rule for ``feature_names_in_``),
    None when none is: pandas', or another library's (:func:`other_frame`). A mix of strings and other names is a
    TypeError, as in scikit-learn."""
    refuse_lazy_frame(X)
    if other_frame(X):  # read without converting it
        columns = getattr(X, "column_names", None)
        columns = getattr(X, "columns", None) if columns is None else columns
    else:
        columns = getattr(X, "columns", None)
        if columns is None or sp.issparse(X) or not hasattr(X, "iloc"):
            return None
    names = list(columns)
    strings = [isinstance(c, str) for c in names]
    if any(strings) and not all(strings):  # scikit-learn's TypeError: names were dropped without a word (t70)
        kinds = sorted({type(c).__name__ for c in names})
        raise TypeError(f"X's column names are of the types {kinds}: feature names are kept only when every column "
                        "name is a string (scikit-learn's rule); convert them all (X.columns = X.columns.astype(str)), "
                        "or give none")
    return names if names and all(strings) else None


def unique_frame_names(X) -> list[str] | None:
    """:func:`frame_names`, refusing a name given twice (a swap of the two columns could not be told)."""
    names = frame_names(X)
    if names is not None and len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"X has the column name {dup!r} twice: name each feature once")
    return names


@dataclass(frozen=True, eq=False)
class RankingDataset:
    """Rows sorted by query, with their offsets.

    Attributes
    ----------
    X : ndarray, shape (n_rows, n_features), or scipy.sparse.csr_matrix
        Features: float32 as the readers give them; a dataset built in memory keeps its array's dtype (float64 stays
        float64, as the engines take it). Column ``j`` holds LETOR feature id ``j + 1``. In a sparse matrix a feature
        absent from a line stays absent: LightGBM reads it as 0, XGBoost (``Ranker(engine="xgboost")``) as a missing
        value, so the same file read dense and sparse trains different XGBoost models.
    y : ndarray of float64, shape (n_rows,)
        Relevance labels.
    qid : ndarray, shape (n_rows,)
        Query id of each row: int64, as written in the file, from the readers and the feature layer (or
        ``0..n_queries-1`` when the source had only sizes). A dataset built in memory keeps the ids it is given
        (text, 1.5) as they are: the trainers group rows by ``group_ptr``, and :func:`ltr.io.write_letor` writes
        only whole numbers (LETOR's ``qid:<int>``).
    group_ptr : ndarray of int64, shape (n_queries + 1,)
        Query ``q`` spans rows ``group_ptr[q]:group_ptr[q + 1]``.
    doc_ids : ndarray of object (str), shape (n_rows,), or None
        Document ids, when the source carries them (``#docid = X`` comments in LETOR 4.0).
    comments : ndarray of object (str), shape (n_rows,), or None
        The raw text after ``#`` on each line, when any line had one.
    feature_names : tuple of str, or None
        One name per column, when known. A pandas DataFrame ``X`` whose column names are all strings names them
        (as :meth:`ltr.Ranker.fit` takes a frame's); names given beside other columns are refused.
    weight : ndarray of float64, shape (n_rows,), or None
        Row weights (finite, non-negative), when the source has them (a LightGBM ``.weight`` file).
    sources : mapping of str -> str
        The files the dataset was read from: ``"data"``, and ``"query"`` / ``"weight"`` for sidecars (empty for
        a dataset built in memory). Provenance only: :meth:`equals` ignores it.
    feature_set : dict, or None
        How the columns were computed, when a feature layer made them (``features.featureset.FeatureSet.to_dict``:
        scorers, parameters, analyzer, fields, column names); kept in a LETOR file's header and, by
        :meth:`ltr.Ranker.fit`, in a model's sidecar. A JSON-able copy, to be read, not changed. Provenance:
        :meth:`equals` ignores it.
    """

    X: NDArray[np.float32] | sp.csr_matrix
    y: NDArray[np.float64]
    qid: NDArray[np.int64]
    group_ptr: NDArray[np.int64]
    doc_ids: NDArray[np.object_] | None = None
    comments: NDArray[np.object_] | None = None
    feature_names: tuple[str, ...] | None = field(default=None)
    weight: NDArray[np.float64] | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    feature_set: dict | None = None

    def __post_init__(self) -> None:
        if not sp.issparse(self.X) and not isinstance(self.X, np.ndarray):  # a list of rows, a DataFrame
            self._take_frame_names()
            try:
                object.__setattr__(self, "X", np.asarray(self.X))
            except (TypeError, ValueError) as e:
                raise TypeError(f"X must be a 2-d array of numbers or a SciPy sparse matrix (rows x features), got "
                                f"{type(self.X).__name__} ({e})") from None
        if not sp.issparse(self.X) and self.X.ndim != 2:  # a 1-d X failed at fit, in numpy's words (trial t55)
            raise TypeError(f"X must be a 2-d array or a SciPy sparse matrix (rows x features), got an array of "
                            f"shape {self.X.shape}")
        n = self.X.shape[0]
        y = np.asarray(self.y)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-d, one label per row, got shape {y.shape}")
        if self.feature_set is not None:
            object.__setattr__(self, "feature_set", _json_copy(self.feature_set))
        ptr = check_group_ptr(self.group_ptr, n)
        if self.weight is not None:
            w = np.asarray(self.weight, dtype=np.float64)
            if w.ndim != 1 or len(w) != n:
                raise ValueError(f"weight has shape {w.shape} but X has {n} rows")
            if not np.all(np.isfinite(w) & (w >= 0)):
                raise ValueError("weight must be finite and non-negative")
            object.__setattr__(self, "weight", w)
        object.__setattr__(self, "sources", MappingProxyType({str(k): str(v) for k, v in dict(self.sources).items()}))
        for name in ("y", "qid", "doc_ids", "comments"):
            a = getattr(self, name)
            if a is not None and len(a) != n:
                raise ValueError(f"{name} has {len(a)} entries but X has {n} rows")
        if self.feature_names is not None:
            names = tuple(str(s) for s in self.feature_names)
            if len(names) != self.X.shape[1]:
                raise ValueError(f"{len(names)} feature names for {self.X.shape[1]} features")
            object.__setattr__(self, "feature_names", names)
        check_qid_in_groups(self.qid, ptr)
        object.__setattr__(self, "group_ptr", _frozen(ptr))
        for name in ("y", "qid", "doc_ids", "comments", "weight"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        if sp.issparse(self.X):
            X = sp.csr_matrix(self.X)
            for a in (X.data, X.indices, X.indptr):
                a.flags.writeable = False
            object.__setattr__(self, "X", X)
        else:
            object.__setattr__(self, "X", _frozen(self.X))

    def _take_frame_names(self) -> None:
        """A data frame's string column names as ``feature_names``, as :meth:`ltr.Ranker.fit` takes them (the
        rule of :mod:`ltr.frames`): they were dropped, and a model trained on the dataset scored a reordered frame
        by position (trial t62). Names given beside other columns are refused, naming both."""
        columns = unique_frame_names(self.X)
        if columns is None:
            return
        if self.feature_names is None:
            object.__setattr__(self, "feature_names", tuple(columns))
        elif [str(s) for s in self.feature_names] != columns:
            raise ValueError(f"feature_names {[str(s) for s in self.feature_names]} differ from X's column names "
                             f"{columns}; give one of them")

    def __reduce__(self):
        """Pickled and copied as its fields, ``sources`` as a plain dict (a mapping proxy cannot be pickled); the
        copy is checked and frozen as any new dataset is."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["sources"] = dict(self.sources)
        return type(self), tuple(values.values())

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_queries(self) -> int:
        return int(self.group_ptr.size - 1)

    @property
    def group_sizes(self) -> NDArray[np.int64]:
        """Rows per query, in row order (LightGBM's ``group``)."""
        return np.diff(self.group_ptr)

    @property
    def query_ids(self) -> NDArray[np.int64]:
        """One id per query, in row order."""
        return self.qid[self.group_ptr[:-1]]

    def dense(self) -> NDArray[np.float32]:
        """``X`` as a dense array of its dtype (a copy only when ``X`` is sparse: its absent entries become 0)."""
        return self.X.toarray() if sp.issparse(self.X) else self.X

    def subset(self, queries: ArrayLike) -> RankingDataset:
        """A new dataset with the given query positions (``0..n_queries-1``), in the given order (a position given
        twice gives its query twice, as a bootstrap sample of queries does); or a boolean mask of the queries (one
        entry per query), as NumPy selects with one.

        Raises
        ------
        TypeError
            Positions that are not integers (nor a boolean mask).
        IndexError
            A position outside ``0..n_queries-1``, or a mask of another length than the number of queries.
        """
        given = np.asarray(queries)
        if given.dtype == np.bool_:  # a mask: it was read as positions 0 and 1, over and over (trial t55)
            if given.shape != (self.n_queries,):
                raise IndexError(f"a boolean mask of the queries needs {self.n_queries} entries, one per query; got "
                                 f"shape {given.shape}")
            given = np.flatnonzero(given)
        elif given.size and not np.issubdtype(given.dtype, np.integer):
            whole = np.issubdtype(given.dtype, np.floating) and bool(np.all(np.mod(given, 1) == 0))
            if not whole:  # 1.7 was read as 1
                raise TypeError(f"query positions must be whole numbers (or a boolean mask of the queries), got "
                                f"{float(given.reshape(-1)[np.flatnonzero(np.mod(given.reshape(-1), 1) != 0)[0]])!r}"
                                if np.issubdtype(given.dtype, np.floating) else
                                f"query positions must be whole numbers (or a boolean mask of the queries), got "
                                f"dtype {given.dtype}")
        queries = given.astype(np.int64).reshape(-1)
        outside = np.flatnonzero((queries < 0) | (queries >= self.n_queries))
        if outside.size:
            raise IndexError(f"query position {int(queries[outside[0]])} is outside 0..{self.n_queries - 1} (the "
                             f"dataset has {self.n_queries} queries)")
        sizes = self.group_sizes[queries]
        rows = np.concatenate([np.arange(self.group_ptr[q], self.group_ptr[q + 1]) for q in queries]) if len(
            queries
        ) else np.zeros(0, dtype=np.int64)
        take = (lambda a: None if a is None else a[rows])  # noqa: E731
        return replace(
            self,
            X=self.X[rows],
            y=self.y[rows],
            qid=self.qid[rows],
            group_ptr=group_ptr_from_sizes(sizes),
            doc_ids=take(self.doc_ids),
            comments=take(self.comments),
            weight=take(self.weight),
        )

    def equals(self, other: RankingDataset) -> bool:
        """Bit-for-bit equality of every field (float32 values compared by their bits, so NaN equals NaN)."""
        if not isinstance(other, RankingDataset):
            return False
        if sp.issparse(self.X) != sp.issparse(other.X) or self.X.shape != other.X.shape:
            return False
        if sp.issparse(self.X):
            a, b = self.X.tocsr(), other.X.tocsr()
            a.sort_indices()
            b.sort_indices()
            if not (np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)):
                return False
            xa, xb = a.data, b.data
        else:
            xa, xb = self.X, other.X
        if xa.dtype != xb.dtype or not np.array_equal(
            np.ascontiguousarray(xa).view(np.uint32 if xa.dtype == np.float32 else np.uint64),
            np.ascontiguousarray(xb).view(np.uint32 if xb.dtype == np.float32 else np.uint64),
        ):
            return False
        for name in ("y", "qid", "group_ptr"):
            if not np.array_equal(getattr(self, name), getattr(other, name)):
                return False
        for name in ("doc_ids", "comments", "weight"):
            a, b = getattr(self, name), getattr(other, name)
            if (a is None) != (b is None) or (a is not None and not np.array_equal(a, b)):
                return False
        return self.feature_names == other.feature_names

    def __repr__(self) -> str:
        kind = "sparse" if sp.issparse(self.X) else "dense"
        return (
            f"RankingDataset(n_queries={self.n_queries}, n_rows={self.n_rows}, n_features={self.n_features}, "
            f"{kind}, doc_ids={'yes' if self.doc_ids is not None else 'no'})"
        )


def placeholder_names(names) -> bool:
    """Whether column names are those given to unnamed columns, which name nothing: this toolkit's ``f1, f2, ...``
    (:func:`make_ranking`, LETOR files without names), XGBoost's ``f0, f1, ...`` and LightGBM's ``Column_0, ...``.

    Examples
    --------
    >>> placeholder_names(["f1", "f2"]), placeholder_names(["Column_0"]), placeholder_names(["bm25", "f2"])
    (True, True, False)
    """
    names = [str(n) for n in names]
    return any(names == [f"{prefix}{j + start}" for j in range(len(names))]
               for prefix, start in (("f", 1), ("f", 0), ("Column_", 0)))


def _check_count(name: str, value: object) -> None:
    """``value`` is an integer >= 1 (a bool is not a count)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def make_ranking(
    n_queries: int = 100,
    docs_per_query: int | tuple[int, int] = 20,
    n_features: int = 20,
    *,
    n_informative: int = 5,
    max_label: int = 4,
    noise: float = 0.5,
    random_state: int | np.random.Generator | None = None,
) -> RankingDataset:
    """Synthetic graded-relevance data whose labels depend non-linearly on the features.

    Each document's latent relevance is ``sin(pi * x0) + x1 * x2 + relu(x3) ** 2 - |x4| + q`` over the
    informative features (cycled when there are fewer than five), where ``q`` is a per-query offset, plus
    Gaussian noise. Labels are the latent relevance cut at query-independent quantiles so that higher grades
    are rarer, as in web LETOR sets: label >= g for the top 2^-g share of the documents, so grade g < max_label
    holds 2^-(g+1) of them and the top grade 2^-max_label (50/25/12.5/6.25/6.25 % for five grades).

    Parameters
    ----------
    n_queries : int
    docs_per_query : int or (low, high)
        Fixed number of documents, or a range sampled uniformly (inclusive) per query.
    n_features : int
    n_informative : int
        How many leading features carry signal (at least 1; at most ``n_features`` are used); the rest are noise.
    max_label : int
        Labels are in ``0..max_label`` (at least 1).
    noise : float
        Standard deviation of the latent noise (finite, >= 0).
    random_state : int, Generator or None
        The seed (NumPy's ``default_rng``): the same seed, the same data.

    Raises
    ------
    ValueError
        A count that is not an integer >= 1, a ``docs_per_query`` range with ``low > high``, or a ``noise`` that
        is negative or not finite; the message names the argument and its value.

    Examples
    --------
    >>> d = make_ranking(3, 4, 6, random_state=0)
    >>> d.n_queries, d.n_rows, d.n_features
    (3, 12, 6)
    """
    for name, value in (("n_queries", n_queries), ("n_features", n_features), ("n_informative", n_informative),
                        ("max_label", max_label)):
        _check_count(name, value)
    # a NaN latent sorts past every cut (every label max_label); a negative scale is numpy's error, not ours
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)) \
            or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0 (the latent noise's standard deviation), got {noise!r}")
    if isinstance(docs_per_query, tuple):
        if len(docs_per_query) != 2:
            raise ValueError(f"docs_per_query must be an integer or a (low, high) pair, got {docs_per_query!r}")
        low, high = docs_per_query
        _check_count("docs_per_query low", low)
        _check_count("docs_per_query high", high)
        if low > high:
            raise ValueError(f"docs_per_query range must satisfy 1 <= low <= high, got {docs_per_query!r}")
    else:
        _check_count("docs_per_query", docs_per_query)
    try:
        rng = np.random.default_rng(random_state)
    except (ValueError, TypeError) as e:  # NumPy's "expected non-negative integer" named no argument
        raise type(e)(f"random_state must be a seed np.random.default_rng takes (None, an integer >= 0, a "
                      f"SeedSequence or a Generator), got {random_state!r} ({e})") from None
    if isinstance(docs_per_query, tuple):
        sizes = rng.integers(low, high + 1, size=n_queries)
    else:
        sizes = np.full(n_queries, docs_per_query)
    ptr = group_ptr_from_sizes(sizes)
    n = int(ptr[-1])
    X = rng.standard_normal((n, n_features)).astype(np.float32)
    k = max(1, min(n_informative, n_features))
    f = [X[:, i % k].astype(np.float64) for i in range(5)]
    offset = np.repeat(rng.normal(0.0, 0.5, n_queries), sizes)
    latent = np.sin(np.pi * f[0]) + f[1] * f[2] + np.maximum(f[3], 0.0) ** 2 - np.abs(f[4]) + offset
    latent += rng.normal(0.0, noise, n)
    # Label >= g for the top 2**-g share of documents: higher grades are rarer, as in web LETOR sets.
    cuts = np.quantile(latent, 1.0 - 0.5 ** np.arange(1, max_label + 1))
    y = np.searchsorted(cuts, latent, side="right").astype(np.float64)
    qid = np.repeat(np.arange(1, n_queries + 1, dtype=np.int64), sizes)
    names = tuple(f"f{j + 1}" for j in range(n_features))
    return RankingDataset(X=X, y=y, qid=qid, group_ptr=ptr, feature_names=names)


def dataset_summary(data: RankingDataset, name: str = "data") -> dict:
    """Counts that describe a dataset, as JSON-able values: what ``ltr info`` prints and reports plot.

    Keys: ``name``, ``n_queries``, ``n_rows``, ``n_features``, ``label_counts`` (label text -> rows),
    ``rows_per_query`` (one size per query, in order), ``queries_without_relevant`` (no label >= 1, the queries
    whose metrics depend on the ``no_relevant`` convention), ``has_doc_ids``, ``feature_names`` and ``sources``
    (the files read, sidecars included).

    Examples
    --------
    >>> s = dataset_summary(make_ranking(3, 4, 2, random_state=0))
    >>> s["n_queries"], s["rows_per_query"], sum(s["label_counts"].values())
    (3, [4, 4, 4], 12)
    """
    y = np.asarray(data.y)
    labels, counts = np.unique(y, return_counts=True)
    starts = data.group_ptr[:-1]
    best = np.maximum.reduceat(y, starts) if data.n_rows else np.zeros(0)
    return {
        "name": name,
        "n_queries": data.n_queries,
        "n_rows": data.n_rows,
        "n_features": data.n_features,
        "label_counts": {f"{lab:g}": int(c) for lab, c in zip(labels, counts)},
        "rows_per_query": [int(s) for s in data.group_sizes],
        "queries_without_relevant": int(np.sum(best < 1)),
        "has_doc_ids": data.doc_ids is not None,
        "feature_names": None if data.feature_names is None else list(data.feature_names),
        "sources": dict(getattr(data, "sources", {}) or {}),
    }


def query_digests(X, y, group_ptr) -> bytes:
    """The SHA-256 digests of the queries in order (32 bytes each), each over its rows' features as float32 (dense,
    row by row), its labels as float64 and its row count: :func:`fingerprint_of` them names the data, the same
    whether it is held dense or sparse, in one array or in shards cut at query boundaries (a Dask fit's partitions)."""
    import hashlib

    ptr = np.asarray(group_ptr, dtype=np.int64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    sparse = sp.issparse(X)
    if sparse:
        X = sp.csr_matrix(X)
    else:  # viewed through the buffer protocol: no copy of X when it is float32 already
        with np.errstate(over="ignore"):  # a float64 value beyond float32's range is named by its float32, inf
            X = np.ascontiguousarray(X, dtype=np.float32)
    out = bytearray()
    for a, b in zip(ptr[:-1].tolist(), ptr[1:].tolist()):
        h = hashlib.sha256(np.int64(b - a).tobytes())
        rows = np.asarray(X[a:b].toarray(), dtype=np.float32) if sparse else X[a:b]
        h.update(rows.reshape(-1).view(np.uint8))
        h.update(y[a:b].view(np.uint8))
        out += h.digest()
    return bytes(out)


def fingerprint_of(*digests: bytes) -> str:
    """The data fingerprint (16 hex digits) of :func:`query_digests`, one argument per part in order."""
    import hashlib

    h = hashlib.sha256()
    for part in digests:
        h.update(part)
    return h.hexdigest()[:16]
