"""Numba kernels of the coordinate-ascent linear ranker: a ranking metric per query for scores ``s + t * x``.

The line search of :mod:`ltr.rankers.linear` moves one weight at a time, so every candidate's scores are the current
scores plus a step times one feature column: ``s + t * x_j``. :func:`line_values` evaluates the metric of every
query at every candidate step in one call (the rows of a query stay in cache while its candidates are tried), and
:func:`query_values` at the current scores.

Only rows that can change the metric are ranked (rows with a gain for NDCG, DCG and ERR; relevant rows, label >=
1, for the binary metrics): the rank of such a row is the number of rows ranked above it, counted branch-free over
the query (O(n m) for m such rows, fast when m is small), or read off a stable merge sort when m is large. A query
whose candidate rows do not vary (``x_j`` constant within the query) or that has no such row keeps its current
value without being ranked again.

Conventions are those of :func:`ltr.metrics.evaluate`'s defaults, so that the training metric equals what
:mod:`ltr.metrics` reports: gain 2^l - 1 (or l), discount 1 / log2(rank + 1) with ranks from 1, equal scores in
input order (the earlier row first), relevant for binary metrics when label >= 1, a query with nothing to find
scores 0, ``p@k`` divides by k, ``map@k`` by all relevant rows of the query, ERR with Chapelle's
(2^l - 1) / 2^max_grade.

Kernels hold no policy: metric codes, cutoffs and conventions arrive as scalars chosen in :mod:`ltr.rankers.linear`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ltr._sort import stable_sort_keys

__all__ = [
    "AP",
    "DCG",
    "ERR",
    "GAIN_EXP2",
    "GAIN_LINEAR",
    "NDCG",
    "PRECISION",
    "RECALL",
    "RPREC",
    "RR",
    "SUCCESS",
    "line_values",
    "linear_scores",
    "prepare_queries",
    "query_values",
    "work_blocks",
]

NDCG = 0
DCG = 1
ERR = 2
AP = 3
RR = 4
PRECISION = 5
RECALL = 6
SUCCESS = 7
RPREC = 8

GAIN_EXP2 = 0
GAIN_LINEAR = 1


@njit(cache=True, inline="always")
def _gain(label, gain):
    # Labels <= 0 carry no gain (as ltr.metrics and trec_eval).
    if label <= 0.0:
        return 0.0
    if gain == GAIN_EXP2:
        return 2.0**label - 1.0
    return label


@njit(cache=True)
def prepare_queries(labels, group_ptr, code, k, gain, max_grade, useful, useful_ptr, ideal):
    """Per query: the rows that can change the metric (``useful[useful_ptr[q]:useful_ptr[q + 1]]``, local row
    indices) and the metric's constant (``ideal[q]``: the ideal DCG@k for NDCG, the number of relevant rows for AP,
    recall and R-precision, 2^max_grade for ERR). ``useful`` holds at least ``labels.size`` entries."""
    nq = group_ptr.size - 1
    pos = 0
    useful_ptr[0] = 0
    by_gain = code == NDCG or code == DCG or code == ERR
    for q in range(nq):
        a = group_ptr[q]
        e = group_ptr[q + 1]
        n_rel = 0
        for i in range(a, e):
            keep = labels[i] > 0.0 if by_gain else labels[i] >= 1.0
            if keep:
                useful[pos] = i - a
                pos += 1
                n_rel += 1
        useful_ptr[q + 1] = pos
        if code == NDCG:
            # The ideal DCG@k: the query's own labels sorted descending (only positive labels have a gain).
            g = np.empty(n_rel)
            for p in range(n_rel):
                g[p] = -labels[a + useful[useful_ptr[q] + p]]
            g.sort()
            n = e - a
            d = n if (k <= 0 or k > n) else k
            best = 0.0
            for p in range(min(d, n_rel)):
                best += _gain(-g[p], gain) / np.log2(p + 2.0)
            ideal[q] = best
        elif code == ERR:
            ideal[q] = 2.0**max_grade
        else:
            ideal[q] = n_rel


@njit(cache=True)
def _ranked(sc, labels, useful, m, depth, rk, lb, key, key2, idx, idx2):
    """The useful rows ranked in the top ``depth``, in rank order: 0-based ranks to ``rk[:c]``, labels to
    ``lb[:c]``; returns ``c``. Ties: the earlier row ranks first."""
    n = sc.size
    log2n = 1
    while (1 << log2n) < n:
        log2n += 1
    c = 0
    if m <= 16 * log2n:
        for p in range(m):
            i = useful[p]
            si = sc[i]
            cnt = 0
            for j in range(n):  # branch-free: LLVM vectorises this count
                sj = sc[j]
                cnt += (sj > si) | ((sj == si) & (j < i))
            if cnt < depth:
                t = c
                while t > 0 and rk[t - 1] > cnt:
                    rk[t] = rk[t - 1]
                    lb[t] = lb[t - 1]
                    t -= 1
                rk[t] = cnt
                lb[t] = labels[i]
                c += 1
        return c
    # Many useful rows: one stable sort of -score (score descending, earlier row first), then walk the top.
    for i in range(n):
        key[i] = -sc[i]
        idx[i] = i
    stable_sort_keys(key, idx, key2, idx2, n)
    mark = key2  # reuse as a flag per row: 1.0 when useful
    for i in range(n):
        mark[i] = 0.0
    for p in range(m):
        mark[useful[p]] = 1.0
    for r in range(min(depth, n)):
        i = idx[r]
        if mark[i] > 0.0:
            rk[c] = r
            lb[c] = labels[i]
            c += 1
    return c


@njit(cache=True)
def _value(sc, labels, useful, code, k, gain, ideal, rk, lb, key, key2, idx, idx2):
    """The metric of one query for scores ``sc`` (its ``useful`` rows non-empty)."""
    n = sc.size
    m = useful.size
    d = n if (k <= 0 or k > n) else k
    if code == RPREC:
        r = int(ideal)
        d = r if r < n else n
    c = _ranked(sc, labels, useful, m, d, rk, lb, key, key2, idx, idx2)
    if code == NDCG or code == DCG:
        s = 0.0
        for p in range(c):
            s += _gain(lb[p], gain) / np.log2(rk[p] + 2.0)
        if code == DCG:
            return s
        return s / ideal if ideal > 0.0 else 0.0
    if code == ERR:
        s = 0.0
        decay = 1.0
        for p in range(c):
            r = _gain(lb[p], GAIN_EXP2) / ideal
            s += r * decay / (rk[p] + 1.0)
            decay *= 1.0 - r
        return s
    if code == AP:
        s = 0.0
        for p in range(c):
            s += (p + 1.0) / (rk[p] + 1.0)
        return s / ideal
    if code == RR:
        return 1.0 / (rk[0] + 1.0) if c > 0 else 0.0
    if code == PRECISION:
        return c / (k if k > 0 else n)
    if code == SUCCESS:
        return 1.0 if c > 0 else 0.0
    return c / ideal  # RECALL, RPREC


@njit(cache=True)
def _block(lo, hi, scores, x, steps, labels, group_ptr, useful, useful_ptr, code, k, gain, ideal, current, out):
    """Queries ``lo:hi``; scratch allocated once per block. ``x.size == 0``: no direction (``steps`` ignored)."""
    maxn = 1
    for q in range(lo, hi):
        maxn = max(maxn, group_ptr[q + 1] - group_ptr[q])
    sc = np.empty(maxn)
    rk = np.empty(maxn, dtype=np.int64)
    lb = np.empty(maxn)
    key = np.empty(maxn)
    key2 = np.empty(maxn)
    idx = np.empty(maxn, dtype=np.int64)
    idx2 = np.empty(maxn, dtype=np.int64)
    n_steps = out.shape[1]
    for q in range(lo, hi):
        a = group_ptr[q]
        e = group_ptr[q + 1]
        n = e - a
        u = useful[useful_ptr[q]:useful_ptr[q + 1]]
        if u.size == 0:
            # Nothing to find (no gain / no relevant row): the value is 0 whatever the order (trec_eval's rule).
            for c in range(n_steps):
                out[q, c] = 0.0
            continue
        if x.size == 0:
            for i in range(n):
                sc[i] = scores[a + i]
            out[q, 0] = _value(sc[:n], labels[a:e], u, code, k, gain, ideal[q], rk, lb, key, key2, idx, idx2)
            continue
        lo_x = x[a]
        hi_x = x[a]
        for i in range(a, e):
            lo_x = min(lo_x, x[i])
            hi_x = max(hi_x, x[i])
        if lo_x == hi_x:
            # The feature does not vary in this query: adding t * x shifts every score equally.
            for c in range(n_steps):
                out[q, c] = current[q]
            continue
        for c in range(n_steps):
            t = steps[c]
            for i in range(n):
                sc[i] = scores[a + i] + t * x[a + i]
            out[q, c] = _value(sc[:n], labels[a:e], u, code, k, gain, ideal[q], rk, lb, key, key2, idx, idx2)


@njit(cache=True, parallel=True)
def _drive_parallel(blocks, scores, x, steps, labels, group_ptr, useful, useful_ptr, code, k, gain, ideal, current,
                    out):
    # Each block of queries writes only its own rows of ``out``: the blocks are independent.
    for b in prange(blocks.size - 1):
        _block(blocks[b], blocks[b + 1], scores, x, steps, labels, group_ptr, useful, useful_ptr, code, k, gain,
               ideal, current, out)


@njit(cache=True)
def _drive_serial(scores, x, steps, labels, group_ptr, useful, useful_ptr, code, k, gain, ideal, current, out):
    _block(0, group_ptr.size - 1, scores, x, steps, labels, group_ptr, useful, useful_ptr, code, k, gain, ideal,
           current, out)


def line_values(scores, x, steps, labels, group_ptr, useful, useful_ptr, code, k, gain, ideal, current, out,
                blocks=None):
    """``out[q, c]`` = the metric of query ``q`` for the scores ``scores + steps[c] * x`` (float64 arrays).

    ``current[q]`` is the query's value at ``scores`` (used where ``x`` is constant within the query). With
    ``blocks`` (query offsets of about equal work, several per thread) the queries run in parallel; without, on
    the calling thread (a parallel region costs more than a few thousand rows of work).
    """
    if blocks is None:
        _drive_serial(scores, x, steps, labels, group_ptr, useful, useful_ptr, code, k, gain, ideal, current, out)
    else:
        from ltr.threads import workqueue_turn  # (two parallel kernels at once abort Python under workqueue)

        with workqueue_turn():
            _drive_parallel(blocks, scores, x, steps, labels, group_ptr, useful, useful_ptr, code, k, gain, ideal,
                            current, out)
    return out


def query_values(scores, labels, group_ptr, useful, useful_ptr, code, k, gain, ideal, blocks=None):
    """The metric of every query at ``scores``: a float64 array of length n_queries."""
    nq = group_ptr.size - 1
    out = np.empty((nq, 1))
    empty = np.empty(0)
    line_values(scores, empty, np.zeros(1), labels, group_ptr, useful, useful_ptr, code, k, gain, ideal,
                np.zeros(nq), out, blocks)
    return out[:, 0]


@njit(cache=True)
def linear_scores(X, w, out):
    """``out[i] = sum_j X[i, j] * w[j]`` in float64, features in column order for every row, so that rows with equal
    features get bit-identical scores (a BLAS product may round rows differently by their position)."""
    n, f = X.shape
    for i in range(n):
        s = 0.0
        for j in range(f):
            if w[j] != 0.0:
                s += np.float64(X[i, j]) * w[j]
        out[i] = s
    return out


def work_blocks(group_ptr, n_threads: int):
    """Query offsets cutting the queries into about ``4 * n_threads`` blocks of similar row counts (None for one
    thread: the serial driver is used)."""
    if n_threads <= 1:
        return None
    nq = group_ptr.size - 1
    n_blocks = max(1, min(nq, 4 * n_threads))
    targets = np.linspace(0, group_ptr[-1], n_blocks + 1)
    cuts = np.unique(np.searchsorted(group_ptr, targets, side="left").clip(0, nq))
    cuts[0], cuts[-1] = 0, nq
    return np.unique(cuts).astype(np.int64)
