"""One layout for queries: rows sorted by query plus ``group_ptr``.

``group_ptr`` is an int64 array of length ``n_queries + 1``; query ``q`` spans rows
``group_ptr[q]:group_ptr[q + 1]``. Public entry points accept ``qid`` (one id per row) or ``group`` (query sizes,
as LightGBM's ``group`` and its ``.query`` files) and convert here, once. Kernels only ever see ``group_ptr``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ltr.exceptions import GroupError

__all__ = [
    "as_int64",
    "check_group_ptr",
    "check_qid_in_groups",
    "group_ptr_from_qid",
    "group_ptr_from_sizes",
    "no_query_has_two_labels",
    "resolve_group_ptr",
    "sizes_from_group_ptr",
    "qid_from_group_ptr",
]


def group_ptr_from_sizes(sizes: ArrayLike) -> NDArray[np.int64]:
    """Offsets from query sizes.

    Examples
    --------
    >>> group_ptr_from_sizes([2, 3, 1]).tolist()
    [0, 2, 5, 6]
    """
    sizes = as_int64("group sizes", sizes)
    if np.any(sizes <= 0):
        bad = int(np.flatnonzero(sizes <= 0)[0])
        raise GroupError(f"group sizes must be positive; group {bad} has size {int(sizes[bad])}")
    if sizes.size and float(np.sum(sizes, dtype=np.float64)) >= 2.0**63:  # offsets would wrap around
        raise GroupError(f"group sizes add up to {float(np.sum(sizes, dtype=np.float64)):g} rows, more than int64 "
                         "offsets hold")
    ptr = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    return ptr


def as_int64(name: str, values: ArrayLike) -> NDArray[np.int64]:
    """One-dimensional int64 values (counts, offsets, LETOR query ids): floats must hold whole numbers that fit in
    int64 (a cast would truncate 1.5 or wrap 1e19 to a negative number), unsigned integers too, and booleans are
    refused (True is not a size); an error names ``name`` and the first bad entry."""
    arr = np.asarray(values)
    if arr.ndim == 0 and arr.dtype == object and hasattr(values, "__next__"):  # was "got shape ()" (trial t72)
        raise GroupError(f"{name} must be an array or a list, got a {type(values).__name__}: pass list(...)")
    if arr.ndim != 1:
        raise GroupError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "b" or (arr.dtype.kind == "O" and any(isinstance(v, (bool, np.bool_)) for v in arr)):
        raise GroupError(f"{name} must be integers, got booleans {arr[:5].tolist()}")
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            bad = int(np.argmax(arr))
            raise GroupError(f"{name} entry {bad} is {int(arr[bad])}, too large (the most is "
                             f"{np.iinfo(np.int64).max})")
        return arr.astype(np.int64, copy=False)
    try:
        as_float = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise GroupError(f"{name} must be integers, got {arr[:5].tolist()} (dtype {arr.dtype})") from None
    whole = np.isfinite(as_float) & (np.mod(as_float, 1) == 0)
    if not whole.all():
        bad = int(np.flatnonzero(~whole)[0])
        value = arr[bad].item() if hasattr(arr[bad], "item") else arr[bad]
        raise GroupError(f"{name} must be integers; entry {bad} is {value!r}")
    big = np.abs(as_float) >= 2.0**63
    if big.any():
        bad = int(np.flatnonzero(big)[0])
        raise GroupError(f"{name} entry {bad} is {as_float[bad]:g}, too large (the most is {np.iinfo(np.int64).max})")
    return as_float.astype(np.int64) if arr.dtype.kind == "f" else arr.astype(np.int64)


def sizes_from_group_ptr(group_ptr: NDArray[np.int64]) -> NDArray[np.int64]:
    """Query sizes from offsets (LightGBM's ``group``)."""
    return np.diff(group_ptr)


#: How to get past non-contiguous queries where no ``sort`` option exists (estimators, metrics, runs).
SORT_ROWS = ("sort the rows by query id first: order = np.argsort(qid, kind='stable'), then index every per-row "
             "array (X, y, scores, qid) with order")


def group_ptr_from_qid(qid: ArrayLike, *, sort: bool = False,
                       hint: str = "pass sort=True to sort rows stably by query id",
                       ) -> tuple[NDArray[np.int64], NDArray[np.intp] | None]:
    """Offsets from one query id per row.

    Parameters
    ----------
    qid : array-like of shape (n_rows,)
        Query id of each row. Rows of one query must be contiguous. A missing id (NaN, NaT, None, pandas.NA) is
        refused, naming its row: NaN equals no other id, so it could neither join a query nor be told apart.
    sort : bool, default=False
        If the rows of a query are not contiguous, sort them stably by query id instead of raising.
    hint : str
        The fix the error names (the caller's own option, or :data:`SORT_ROWS` where there is none).

    Returns
    -------
    group_ptr : ndarray of int64, shape (n_queries + 1,)
    order : ndarray of intp or None
        The stable permutation that makes queries contiguous, or None when the rows were already contiguous.
        With ``sort=True`` queries appear in ascending qid order after sorting.

    Examples
    --------
    >>> group_ptr_from_qid([7, 7, 3, 3, 3])[0].tolist()
    [0, 2, 5]
    """
    qid = np.asarray(qid)
    if qid.ndim != 1:
        raise GroupError(f"qid must be one-dimensional, got shape {qid.shape}")
    n = qid.shape[0]
    if n == 0:
        return np.zeros(1, dtype=np.int64), None
    missing = _first_missing(qid)
    if missing is not None:
        # NaN != NaN: a missing id would split (or, sorted, merge) queries silently, so it is refused outright
        value = qid[missing].item() if hasattr(qid[missing], "item") else qid[missing]
        raise GroupError(f"qid holds a missing id ({value!r}) at row {missing}; every row needs a query id "
                         "(drop or fill the rows without one)")
    starts = np.concatenate(([0], np.flatnonzero(qid[1:] != qid[:-1]) + 1))
    run_ids = qid[starts]
    try:
        repeated = np.unique(run_ids).size != run_ids.size
    except TypeError:  # ids of mixed types do not sort: let the dictionary below decide
        repeated = True
    seen: dict = {}
    for pos, q in zip(starts, run_ids) if repeated else ():
        key = q.item() if hasattr(q, "item") else q
        if key in seen:
            if not sort:
                raise GroupError(
                    f"rows of query {key!r} are not contiguous: it appears at row {seen[key]} and again at row "
                    f"{int(pos)} after other queries; {hint}"
                )
            break
        seen[key] = int(pos)
    else:  # every query's rows are contiguous already: the rows' own layout, never a sorted one
        return np.concatenate((starts, [n])).astype(np.int64), None
    try:
        order = np.argsort(qid, kind="stable")
    except TypeError as e:  # an object column mixing, say, int and str ids
        raise GroupError(f"qid cannot be sorted ({e}); give query ids of one type") from None
    sorted_qid = qid[order]
    starts = np.flatnonzero(sorted_qid[1:] != sorted_qid[:-1]) + 1
    return np.concatenate(([0], starts, [n])).astype(np.int64), order


def _first_missing(qid: NDArray) -> int | None:
    """Row of the first missing query id (NaN, NaT, None, pandas.NA), or None."""
    if qid.dtype.kind in "fc":
        bad = np.isnan(qid)
    elif qid.dtype.kind in "mM":
        bad = np.isnat(qid)
    elif qid.dtype.kind == "O":
        bad = np.fromiter((_is_missing(x) for x in qid), dtype=bool, count=qid.shape[0])
    else:
        return None
    return int(np.argmax(bad)) if bad.any() else None


def _is_missing(x: object) -> bool:
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN and NaT differ from themselves
    except (TypeError, ValueError):  # pandas.NA != NA is NA, which has no truth value
        return True


def qid_from_group_ptr(group_ptr: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per-row query index ``0..n_queries-1`` from offsets."""
    return np.repeat(np.arange(group_ptr.size - 1, dtype=np.int64), np.diff(group_ptr))


def check_group_ptr(group_ptr: ArrayLike, n_rows: int | None = None) -> NDArray[np.int64]:
    """Validate offsets and return them as a contiguous int64 array."""
    ptr = np.ascontiguousarray(as_int64("group_ptr", group_ptr))
    if ptr.ndim != 1 or ptr.size < 1:
        raise GroupError(f"group_ptr must be one-dimensional with at least one entry, got shape {ptr.shape}")
    if ptr[0] != 0:
        raise GroupError(f"group_ptr must start at 0, got {int(ptr[0])}")
    if np.any(np.diff(ptr) <= 0):
        raise GroupError("group_ptr must be strictly increasing (no empty queries)")
    if n_rows is not None and ptr[-1] != n_rows:
        raise GroupError(f"group_ptr ends at {int(ptr[-1])} but there are {n_rows} rows")
    return ptr


def resolve_group_ptr(
    n_rows: int, *, qid: ArrayLike | None = None, group: ArrayLike | None = None, rows: str = "X"
) -> NDArray[np.int64]:
    """Turn exactly one of ``qid`` (per row) or ``group`` (sizes) into ``group_ptr``; ``rows`` names the array the
    ``n_rows`` are counted in, for the errors (``y_true`` in a metrics call, which has no X).

    Raises
    ------
    ValueError
        If neither or both are given, or they do not match ``n_rows``.

    Examples
    --------
    >>> resolve_group_ptr(3, group=[1, 2]).tolist()
    [0, 1, 3]
    """
    if (qid is None) == (group is None):
        raise ValueError(
            "pass exactly one of qid= (one query id per row) or group= (query sizes); "
            f"got {'both' if qid is not None else 'neither'}"
        )
    if qid is not None:
        qid = np.asarray(qid)
        if qid.ndim != 1:  # a column's name or one number (pandas' habit) failed as an IndexError (trial t57)
            said = " (a column's name? pass the column itself)" if isinstance(qid.tolist(), str) else ""
            raise GroupError(f"qid must be one query id per row (an array of {n_rows}), got {qid.tolist()!r}{said}"
                             if qid.ndim == 0 else f"qid must be one-dimensional, got shape {qid.shape}")
        if qid.shape[0] != n_rows:
            raise GroupError(f"qid has {qid.shape[0]} entries but {rows} has {n_rows} rows")
        ptr, _ = group_ptr_from_qid(qid, hint=SORT_ROWS)
        return ptr
    ptr = group_ptr_from_sizes(group)
    if ptr[-1] != n_rows:
        raise GroupError(f"group sizes add up to {int(ptr[-1])} but {rows} has {n_rows} rows")
    return ptr


def check_qid_in_groups(qid: ArrayLike | None, group_ptr: NDArray[np.int64]) -> None:
    """Refuse query ids that change inside a query of ``group_ptr`` (it would train on the offsets' grouping, not
    the ids'). Adjacent queries may share an id: a bootstrap sample of queries repeats them.

    Raises
    ------
    GroupError
        Naming the query, its rows and the two ids.
    """
    if qid is None or len(qid) < 2:
        return
    ptr, q = np.asarray(group_ptr), np.asarray(qid)
    starts = np.zeros(len(q), dtype=bool)
    starts[ptr[:-1][ptr[:-1] < len(q)]] = True
    inside = np.flatnonzero((q[1:] != q[:-1]) & ~starts[1:]) + 1
    if inside.size:
        i = int(inside[0])
        g = int(np.searchsorted(ptr, i, side="right")) - 1
        raise GroupError(f"qid changes inside query {g} of group_ptr (rows {int(ptr[g])}:{int(ptr[g + 1])}): row {i} "
                         f"has qid {q[i]} after {q[i - 1]}; group_ptr and qid must describe the same queries")


def no_query_has_two_labels(y: ArrayLike, group_ptr: ArrayLike) -> bool:
    """Whether every query's rows share one label (NaN counts as its own label per row): a ranking objective then
    has no pair to order, its gradients are all 0, whatever the parameters; False for no query.

    Examples
    --------
    >>> no_query_has_two_labels([1, 1, 0, 0], [0, 2, 4]), no_query_has_two_labels([1, 0, 0, 0], [0, 2, 4])
    (True, False)
    """
    starts = np.asarray(group_ptr, dtype=np.int64)[:-1]
    if not starts.size:
        return False
    y = np.asarray(y, dtype=np.float64)
    return bool(np.array_equal(np.minimum.reduceat(y, starts), np.maximum.reduceat(y, starts)))
