"""Numba kernels for term-proximity statistics of (query, document) pairs.

For one document and one query, ``post_row[k]`` is the posting of unique query term ``k`` in the document's field
(-1 when absent); its positions are ``positions[pos_ptr[p]:pos_ptr[p + 1]]`` (ascending).

:func:`proximity_doc` fills six statistics (columns of ``PROX_COLUMNS``):

0. ``min_window``: the shortest window (last - first + 1 positions) holding every matched term at least once
   (Tao & Zhai's MinCover);
1. ``span``: last - first + 1 over all occurrences of the matched terms (Tao & Zhai's Span);
2. ``min_pair_dist``: over pairs of distinct matched terms, the smallest distance between their occurrences;
3. ``avg_pair_dist``: the mean over those pairs of each pair's smallest distance (Tao & Zhai's AveDist);
4. ``ordered``: over the given query-term pairs (a, b), occurrences of ``a`` immediately followed by ``b`` (#1);
5. ``unordered``: over the same pairs, pairs of occurrences at most ``window - 1`` positions apart, i.e. inside a
   window of ``window`` positions, in either order (#uwN); for a == b, pairs of distinct occurrences.

Distances are capped at ``max_dist``; with no matched term, columns 0-3 are ``max_dist``, and the pair distances
need two matched terms (else ``max_dist``). Counts are 0 without matches.

:func:`listed_pair_distances_doc` computes columns 2-3 over a given list of query-term pairs instead of every pair
of matched terms (the ``pairs="adjacent"`` option of the distance scorers).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["PROX_COLUMNS", "listed_pair_distances", "listed_pair_distances_doc", "proximity_doc", "proximity_pairs",
           "tp_doc", "tp_scores"]

PROX_COLUMNS = ("min_window", "span", "min_pair_dist", "avg_pair_dist", "ordered", "unordered")


@njit(cache=True)
def _merged(positions, pos_ptr, post_row):  # pragma: no cover - compiled
    """All occurrences of the matched terms sorted by position: (positions, term index)."""
    n = _occurrences(pos_ptr, post_row)
    keys, mpos, mterm = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    _merged_into(positions, pos_ptr, post_row, keys, mpos, mterm)
    return mpos, mterm


@njit(cache=True)
def _merged_into(positions, pos_ptr, post_row, keys, mpos, mterm):  # pragma: no cover - compiled
    """The occurrences of the matched terms sorted by position into work arrays (no allocation): fills
    ``mpos[:n]``, ``mterm[:n]`` and returns ``n``.

    Each occurrence is keyed ``position * m + k`` (k < m, the term index): sorting the keys orders by position, then
    by term, the order of a stable sort of the occurrences listed term by term.
    """
    m = post_row.shape[0]
    n = 0
    for k in range(m):
        p = post_row[k]
        if p >= 0:
            for i in range(pos_ptr[p], pos_ptr[p + 1]):
                keys[n] = np.int64(positions[i]) * m + k
                n += 1
    if n <= 64:  # a few runs of a few sorted keys each: insertion sort is several times faster than a quicksort
        for i in range(1, n):
            x = keys[i]
            j = i - 1
            while j >= 0 and keys[j] > x:
                keys[j + 1] = keys[j]
                j -= 1
            keys[j + 1] = x
    else:
        keys[:n].sort()
    for j in range(n):
        mpos[j] = keys[j] // m
        mterm[j] = keys[j] - mpos[j] * m
    return n


@njit(cache=True)
def _occurrences(pos_ptr, post_row):  # pragma: no cover - compiled
    """Occurrences of the matched terms of one document (the length :func:`_merged_into` needs)."""
    n = 0
    for k in range(post_row.shape[0]):
        p = post_row[k]
        if p >= 0:
            n += pos_ptr[p + 1] - pos_ptr[p]
    return n


@njit(cache=True)
def _query_scratch(pos_ptr, post, e, n_docs, m):  # pragma: no cover - compiled
    """The work arrays of one query, allocated once for its ``n_docs`` documents (entries from ``post[e]``, ``m``
    unique terms): ``keys``, ``mpos``, ``mterm`` (int64, as long as its most occurrences in one document),
    ``counts``, ``matched``, ``last`` (int64, m) and ``dmin`` (float64, (m, m))."""
    most = 0
    for i in range(n_docs):
        most = max(most, _occurrences(pos_ptr, post[e + i * m:e + (i + 1) * m]))
    return (np.empty(most, dtype=np.int64), np.empty(most, dtype=np.int64), np.empty(most, dtype=np.int64),
            np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64),
            np.empty((m, m)))


@njit(cache=True)
def proximity_doc(positions, pos_ptr, post_row, pair_a, pair_b, window, max_dist, out):  # pragma: no cover
    """The six statistics of one document (module docstring) into ``out`` (shape (6,))."""
    m = post_row.shape[0]
    keys, mpos, mterm, counts, matched, last, dmin = _query_scratch(pos_ptr, post_row, 0, 1, m)
    _proximity_doc(positions, pos_ptr, post_row, pair_a, pair_b, window, max_dist, out, keys, mpos, mterm, counts,
                   matched, last, dmin)


@njit(cache=True)
def _proximity_doc(positions, pos_ptr, post_row, pair_a, pair_b, window, max_dist, out, keys, mpos, mterm, counts,
                   matched, last, dmin):  # pragma: no cover - compiled
    """:func:`proximity_doc` with the work arrays of :func:`_query_scratch`."""
    m = post_row.shape[0]
    out[4] = 0.0
    out[5] = 0.0
    for j in range(pair_a.shape[0]):
        pa = post_row[pair_a[j]]
        pb = post_row[pair_b[j]]
        if pa < 0 or pb < 0:
            continue
        a0, a1 = pos_ptr[pa], pos_ptr[pa + 1]
        b0, b1 = pos_ptr[pb], pos_ptr[pb + 1]
        # ordered (#1): x in A with x + 1 in B
        i = b0
        for x in range(a0, a1):
            while i < b1 and positions[i] < positions[x] + 1:
                i += 1
            if i < b1 and positions[i] == positions[x] + 1:
                out[4] += 1.0
        # unordered (#uwN): |x - y| <= window - 1
        w = window - 1
        if pa == pb:
            lo = a0
            for x in range(a0, a1):
                while positions[lo] < positions[x] - w:
                    lo += 1
                out[5] += x - lo
        else:
            lo = b0
            hi = b0
            for x in range(a0, a1):
                while lo < b1 and positions[lo] < positions[x] - w:
                    lo += 1
                while hi < b1 and positions[hi] <= positions[x] + w:
                    hi += 1
                out[5] += hi - lo
    n_matched = 0
    for k in range(m):
        if post_row[k] >= 0:
            matched[k] = n_matched
            n_matched += 1
        else:
            matched[k] = -1
    for c in range(4):
        out[c] = max_dist
    if n_matched == 0:
        return
    n = _merged_into(positions, pos_ptr, post_row, keys, mpos, mterm)
    out[1] = min(mpos[n - 1] - mpos[0] + 1.0, max_dist)
    # shortest window covering every matched term: two pointers over the merged occurrences
    counts[:] = 0
    covered = 0
    best = np.inf
    left = 0
    for right in range(n):
        t = mterm[right]
        if counts[t] == 0:
            covered += 1
        counts[t] += 1
        while covered == n_matched:
            width = mpos[right] - mpos[left] + 1.0
            if width < best:
                best = width
            tl = mterm[left]
            counts[tl] -= 1
            if counts[tl] == 0:
                covered -= 1
            left += 1
    out[0] = min(best, max_dist)
    if n_matched < 2:
        return
    _pair_dmin_into(mpos, mterm, n, matched, n_matched, last, dmin)
    lowest = np.inf
    total = 0.0
    for u in range(n_matched):
        for v in range(u + 1, n_matched):
            if dmin[u, v] < lowest:
                lowest = dmin[u, v]
            total += min(dmin[u, v], max_dist)
    out[2] = min(lowest, max_dist)
    out[3] = total / (n_matched * (n_matched - 1) / 2)


@njit(cache=True)
def _pair_dmin_into(mpos, mterm, n, matched, n_matched, last, dmin):  # pragma: no cover - compiled
    """Smallest distance between the occurrences of each two matched terms, of the first ``n`` merged
    occurrences, into ``dmin[:n_matched, :n_matched]`` (inf on the diagonal; ``last`` is work space). Scanning in
    position order, the closest earlier occurrence of another term is its last one seen."""
    dmin[:n_matched, :n_matched] = np.inf
    last[:n_matched] = -1
    for i in range(n):
        c = matched[mterm[i]]
        for u in range(n_matched):
            if u != c and last[u] >= 0:
                d = mpos[i] - last[u]
                if d < dmin[c, u]:
                    dmin[c, u] = d
                    dmin[u, c] = d
        last[c] = mpos[i]


@njit(cache=True)
def _pair_dmin(mpos, mterm, matched, n_matched):  # pragma: no cover - compiled
    """Smallest distance between the occurrences of each two matched terms, (n_matched, n_matched), inf on the
    diagonal (:func:`_pair_dmin_into`)."""
    dmin = np.empty((n_matched, n_matched))
    _pair_dmin_into(mpos, mterm, mpos.shape[0], matched, n_matched, np.empty(n_matched, dtype=np.int64), dmin)
    return dmin


@njit(cache=True)
def listed_pair_distances_doc(positions, pos_ptr, post_row, pair_a, pair_b, max_dist, out):  # pragma: no cover
    """``min_pair_dist`` and ``avg_pair_dist`` of one document over the listed query-term pairs only.

    A listed pair counts when its two terms differ and both occur; a pair listed twice (or as (b, a)) counts once.
    Without such a pair both values are ``max_dist``; distances are capped at ``max_dist``.
    """
    m = post_row.shape[0]
    out[0] = max_dist
    out[1] = max_dist
    matched = np.empty(m, dtype=np.int64)
    n_matched = 0
    for k in range(m):
        if post_row[k] >= 0:
            matched[k] = n_matched
            n_matched += 1
        else:
            matched[k] = -1
    if n_matched < 2:
        return
    mpos, mterm = _merged(positions, pos_ptr, post_row)
    dmin = _pair_dmin(mpos, mterm, matched, n_matched)
    seen = np.zeros((n_matched, n_matched), dtype=np.bool_)
    lowest = np.inf
    total = 0.0
    count = 0
    for j in range(pair_a.shape[0]):
        u = matched[pair_a[j]]
        v = matched[pair_b[j]]
        if u < 0 or v < 0 or u == v:
            continue
        if u > v:
            u, v = v, u
        if seen[u, v]:
            continue
        seen[u, v] = True
        d = min(dmin[u, v], max_dist)
        lowest = min(lowest, d)
        total += d
        count += 1
    if count:
        out[0] = lowest
        out[1] = total / count


@njit(cache=True, parallel=True)
def listed_pair_distances(positions, pos_ptr, post, entry_ptr, group_ptr, qterm_ptr, qpair_ptr, qpair_a, qpair_b,
                          max_dist, out):  # pragma: no cover - compiled
    """:func:`listed_pair_distances_doc` for every pair (layout as :func:`proximity_pairs`); ``out`` (n_pairs, 2)."""
    for q in prange(group_ptr.shape[0] - 1):
        m = qterm_ptr[q + 1] - qterm_ptr[q]
        pa = qpair_a[qpair_ptr[q]:qpair_ptr[q + 1]]
        pb = qpair_b[qpair_ptr[q]:qpair_ptr[q + 1]]
        e = entry_ptr[group_ptr[q]]
        for i in range(group_ptr[q], group_ptr[q + 1]):
            listed_pair_distances_doc(positions, pos_ptr, post[e:e + m], pa, pb, max_dist, out[i])
            e += m


@njit(cache=True, parallel=True)
def proximity_pairs(positions, pos_ptr, post, entry_ptr, group_ptr, qterm_ptr, qpair_ptr, qpair_a, qpair_b, window,
                    max_dist, out):  # pragma: no cover - compiled
    """:func:`proximity_doc` for every pair; query ``q``'s pairs are ``group_ptr[q]:group_ptr[q+1]`` and its
    entries ``post[e : e + m]`` from ``e = entry_ptr[i]``, ``m`` = its number of unique terms."""
    for q in prange(group_ptr.shape[0] - 1):
        m = qterm_ptr[q + 1] - qterm_ptr[q]
        pa = qpair_a[qpair_ptr[q]:qpair_ptr[q + 1]]
        pb = qpair_b[qpair_ptr[q]:qpair_ptr[q + 1]]
        e = entry_ptr[group_ptr[q]]
        keys, mpos, mterm, counts, matched, last, dmin = _query_scratch(pos_ptr, post, e,
                                                                        group_ptr[q + 1] - group_ptr[q], m)
        for i in range(group_ptr[q], group_ptr[q + 1]):
            _proximity_doc(positions, pos_ptr, post[e:e + m], pa, pb, window, max_dist, out[i], keys, mpos, mterm,
                           counts, matched, last, dmin)
            e += m


@njit(cache=True)
def tp_doc(positions, pos_ptr, post_row, weight, acc):  # pragma: no cover - compiled
    """BM25TP accumulators of one document (Büttcher et al., 2006): for each two consecutive occurrences of
    different query terms at distance d, each term's accumulator gains the other's weight / d**2."""
    m = post_row.shape[0]
    keys, mpos, mterm, _, _, _, _ = _query_scratch(pos_ptr, post_row, 0, 1, m)
    _tp_doc(positions, pos_ptr, post_row, weight, acc, keys, mpos, mterm)


@njit(cache=True)
def _tp_doc(positions, pos_ptr, post_row, weight, acc, keys, mpos, mterm):  # pragma: no cover - compiled
    """:func:`tp_doc` with the work arrays of :func:`_query_scratch`."""
    for k in range(post_row.shape[0]):
        acc[k] = 0.0
    n = _merged_into(positions, pos_ptr, post_row, keys, mpos, mterm)
    for j in range(1, n):
        a = mterm[j - 1]
        b = mterm[j]
        if a != b:
            d = float(mpos[j] - mpos[j - 1])
            acc[a] += weight[b] / (d * d)
            acc[b] += weight[a] / (d * d)


@njit(cache=True, parallel=True)
def tp_scores(positions, pos_ptr, post, entry_ptr, group_ptr, qterm_ptr, weight, doc_len, avg_len, k1, b,
              out):  # pragma: no cover - compiled
    """BM25TP's proximity part of every pair (layout as :func:`proximity_pairs`) into ``out`` (n_pairs,):
    :func:`tp_doc`'s accumulators, saturated as BM25 saturates tf
    (:func:`features.scorers.bm25.bm25_tf`: ``(k1 + 1) acc / (acc + k1 (1 - b + b |d| / avgdl))``, 0 for
    acc <= 0, which a negative idf gives), weighted by ``min(1, weight)`` and summed in term order: the same
    operations in the same order as the NumPy formulation, so the same bits, in one pass. ``weight`` holds the
    flat query terms' weights, ``doc_len`` each pair's field length."""
    for q in prange(group_ptr.shape[0] - 1):
        m = qterm_ptr[q + 1] - qterm_ptr[q]
        w = weight[qterm_ptr[q]:qterm_ptr[q + 1]]
        e = entry_ptr[group_ptr[q]]
        keys, mpos, mterm, _, _, _, _ = _query_scratch(pos_ptr, post, e, group_ptr[q + 1] - group_ptr[q], m)
        acc = np.empty(m)
        for i in range(group_ptr[q], group_ptr[q + 1]):
            _tp_doc(positions, pos_ptr, post[e:e + m], w, acc, keys, mpos, mterm)
            rel = doc_len[i] / avg_len if avg_len > 0 else 1.0
            norm = k1 * ((1.0 - b) + b * rel)
            total = 0.0
            for k in range(m):
                a = acc[k]
                saturated = ((k1 + 1.0) * a) / (a + norm) if a > 0 else 0.0
                total += min(1.0, w[k]) * saturated
            out[i] = total
            e += m
