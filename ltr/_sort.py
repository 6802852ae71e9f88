"""A stable merge sort of float keys carrying their row indices, shared by the metrics' and the linear ranker's kernels.

Written here rather than taken from NumPy: ``np.argsort(kind="stable")`` allocates its result on every call, where
the kernels sort one query after another into scratch buffers they keep, and sort keys that are not the scores alone
(the metrics' pessimistic and optimistic ties).
"""

from __future__ import annotations

from numba import njit

__all__ = ["stable_sort_keys"]

#: Below this size a block is insertion-sorted before merging.
_RUN = 16


@njit(cache=True)
def stable_sort_keys(key, idx, key2, idx2, n):
    """Stable ascending sort of ``key[:n]``, carrying ``idx[:n]`` along; ``key2``/``idx2`` are scratch.

    Insertion-sorted runs, then bottom-up merges whose inner step is branch-free (the compare picks both the key
    and the index with a select), which roughly halves the time of a branching merge on random scores.
    """
    for lo in range(0, n, _RUN):
        hi = min(lo + _RUN, n)
        for i in range(lo + 1, hi):
            kx = key[i]
            ix = idx[i]
            j = i - 1
            while j >= lo and kx < key[j]:
                key[j + 1] = key[j]
                idx[j + 1] = idx[j]
                j -= 1
            key[j + 1] = kx
            idx[j + 1] = ix
    width = _RUN
    in_first = True
    while width < n:
        if in_first:
            sk, si, dk, di = key, idx, key2, idx2
        else:
            sk, si, dk, di = key2, idx2, key, idx
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            a = lo
            b = mid
            t = lo
            while a < mid and b < hi:
                ka = sk[a]
                kb = sk[b]
                take_b = kb < ka  # strict: equal keys keep the left (earlier) one first
                dk[t] = kb if take_b else ka
                di[t] = si[b] if take_b else si[a]
                b += take_b
                a += 1 - take_b
                t += 1
            while a < mid:
                dk[t] = sk[a]
                di[t] = si[a]
                a += 1
                t += 1
            while b < hi:
                dk[t] = sk[b]
                di[t] = si[b]
                b += 1
                t += 1
        in_first = not in_first
        width *= 2
    if not in_first:
        for i in range(n):
            key[i] = key2[i]
            idx[i] = idx2[i]
