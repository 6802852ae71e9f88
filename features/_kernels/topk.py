"""Numba kernels for term-at-a-time top-k retrieval over precomputed impacts.

Each query accumulates ``weight * impact`` of its terms' postings into a dense score buffer; a stamp array marks the
documents touched by the current query (so the buffer is never cleared) and a list keeps them, so that selection
only visits matching documents. Selection keeps a size-k min-heap ordered by (score, then lower document index
first), so ties are broken by document index, deterministically.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["topk_queries", "topk_query"]


@njit(cache=True, inline="always")
def _worse(s1, d1, s2, d2):  # pragma: no cover - compiled
    """True when (s1, d1) ranks below (s2, d2)."""
    return s1 < s2 or (s1 == s2 and d1 > d2)


@njit(cache=True)
def _sift_down(hs, hd, i, n):  # pragma: no cover - compiled
    """Restore the min-heap (worst at the root) below position i."""
    while True:
        left = 2 * i + 1
        if left >= n:
            return
        c = left
        right = left + 1
        if right < n and _worse(hs[right], hd[right], hs[left], hd[left]):
            c = right
        if _worse(hs[c], hd[c], hs[i], hd[i]):
            hs[i], hs[c] = hs[c], hs[i]
            hd[i], hd[c] = hd[c], hd[i]
            i = c
        else:
            return


@njit(cache=True)
def topk_query(qterms, qweight, indptr, docs, impacts, k, scores, stamp, touched, tag, out_docs, out_scores):
    """Top-k documents of one query, best first; returns how many were found (<= k).

    ``tag`` must differ between calls sharing ``stamp``. Documents containing at least one query term are
    candidates, whatever their score."""
    n_touched = 0
    for j in range(qterms.shape[0]):
        t = qterms[j]
        if t < 0:
            continue
        w = qweight[j]
        for p in range(indptr[t], indptr[t + 1]):
            d = docs[p]
            if stamp[d] != tag:
                stamp[d] = tag
                scores[d] = 0.0
                touched[n_touched] = d
                n_touched += 1
            scores[d] += w * impacts[p]
    n = 0
    hs = out_scores
    hd = out_docs
    for i in range(n_touched):
        d = touched[i]
        s = scores[d]
        if n < k:
            # sift up
            c = n
            hs[c] = s
            hd[c] = d
            n += 1
            while c > 0:
                parent = (c - 1) // 2
                if _worse(hs[c], hd[c], hs[parent], hd[parent]):
                    hs[c], hs[parent] = hs[parent], hs[c]
                    hd[c], hd[parent] = hd[parent], hd[c]
                    c = parent
                else:
                    break
        elif _worse(hs[0], hd[0], s, d):
            hs[0] = s
            hd[0] = d
            _sift_down(hs, hd, 0, n)
    # heap sort in place: repeatedly move the worst to the end, giving best-first order
    for end in range(n - 1, 0, -1):
        hs[0], hs[end] = hs[end], hs[0]
        hd[0], hd[end] = hd[end], hd[0]
        _sift_down(hs, hd, 0, end)
    return n


@njit(cache=True, parallel=True)
def topk_queries(qterm_ptr, qterms, qweight, indptr, docs, impacts, n_docs, k, n_chunks, out_docs, out_scores,
                 out_n):  # pragma: no cover - compiled
    """:func:`topk_query` for every query; queries are split into ``n_chunks`` contiguous chunks run in parallel,
    each with its own score buffer."""
    n_q = qterm_ptr.shape[0] - 1
    for c in prange(n_chunks):
        lo = c * n_q // n_chunks
        hi = (c + 1) * n_q // n_chunks
        if lo >= hi:
            continue
        scores = np.zeros(n_docs, dtype=impacts.dtype)
        stamp = np.full(n_docs, -1, dtype=np.int64)
        touched = np.empty(n_docs, dtype=np.int32)
        for q in range(lo, hi):
            a = qterm_ptr[q]
            b = qterm_ptr[q + 1]
            out_n[q] = topk_query(qterms[a:b], qweight[a:b], indptr, docs, impacts, k, scores, stamp, touched, q,
                                  out_docs[q], out_scores[q])
