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
    "check_group_ptr",
    "group_ptr_from_qid",
    "group_ptr_from_sizes",
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
    sizes = np.asarray(sizes)
    if sizes.ndim != 1:
        raise GroupError(f"group sizes must be one-dimensional, got shape {sizes.shape}")
    if sizes.size and (not np.issubdtype(sizes.dtype, np.integer)):
        if not np.all(np.mod(sizes, 1) == 0):
            raise GroupError("group sizes must be integers")
    sizes = sizes.astype(np.int64)
    if np.any(sizes <= 0):
        bad = int(np.flatnonzero(sizes <= 0)[0])
        raise GroupError(f"group sizes must be positive; group {bad} has size {int(sizes[bad])}")
    ptr = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    return ptr


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
        Query id of each row. Rows of one query must be contiguous.
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
    starts = np.flatnonzero(qid[1:] != qid[:-1]) + 1
    run_ids = qid[np.concatenate(([0], starts))]
    if np.unique(run_ids).size == run_ids.size:
        return np.concatenate(([0], starts, [n])).astype(np.int64), None
    if not sort:
        seen: dict = {}
        for pos, q in zip(np.concatenate(([0], starts)), run_ids):
            key = q.item() if hasattr(q, "item") else q
            if key in seen:
                raise GroupError(
                    f"rows of query {key!r} are not contiguous: it appears at row {seen[key]} and again at row "
                    f"{int(pos)} after other queries; {hint}"
                )
            seen[key] = int(pos)
    order = np.argsort(qid, kind="stable")
    sorted_qid = qid[order]
    starts = np.flatnonzero(sorted_qid[1:] != sorted_qid[:-1]) + 1
    return np.concatenate(([0], starts, [n])).astype(np.int64), order


def qid_from_group_ptr(group_ptr: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per-row query index ``0..n_queries-1`` from offsets."""
    return np.repeat(np.arange(group_ptr.size - 1, dtype=np.int64), np.diff(group_ptr))


def check_group_ptr(group_ptr: ArrayLike, n_rows: int | None = None) -> NDArray[np.int64]:
    """Validate offsets and return them as a contiguous int64 array."""
    ptr = np.ascontiguousarray(group_ptr, dtype=np.int64)
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
    n_rows: int, *, qid: ArrayLike | None = None, group: ArrayLike | None = None
) -> NDArray[np.int64]:
    """Turn exactly one of ``qid`` (per row) or ``group`` (sizes) into ``group_ptr``.

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
        if qid.shape[0] != n_rows:
            raise GroupError(f"qid has {qid.shape[0]} entries but X has {n_rows} rows")
        ptr, _ = group_ptr_from_qid(qid, hint=SORT_ROWS)
        return ptr
    ptr = group_ptr_from_sizes(group)
    if ptr[-1] != n_rows:
        raise GroupError(f"group sizes add up to {int(ptr[-1])} but X has {n_rows} rows")
    return ptr
