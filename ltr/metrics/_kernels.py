"""Numba kernels behind :mod:`ltr.metrics`: rank once per query, then read every requested metric off the ranking.

Layout (see STYLE.md): labels and scores are flat float64 arrays sorted by query, ``group_ptr`` gives the query
offsets. The "ideal" list of each query (the judged labels that define IDCG and the number of relevant documents)
comes as its own flat array with ``ideal_ptr``; the array path passes the labels themselves, the TREC path passes
the full judged set, so both share the same code.

Kernels hold no policy: conventions arrive as integer codes and floats chosen in :mod:`ltr.metrics.api`.

Why hand-written rather than ``np.argsort`` per query (which allocates, is not stable by default, and was 2-3x
slower here): every metric only depends on the ranks of the rows that have a gain or are relevant, so a query is
reduced to those rows, in rank order, once for all requested metrics (:func:`ranked_hits`). An ``@k`` metric only
needs the top ``k``, which a bounded insertion finds in about ``n + k log(n / k)`` comparisons; for the whole
list, when few rows matter their ranks are counted directly (branch-free, vectorized), else a merge sort runs.
Scratch buffers are allocated once per chunk of queries, never per query.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ltr._sort import stable_sort_keys

__all__ = [
    "AP",
    "AP_MIN_K",
    "BPREF",
    "DCG",
    "ERR",
    "GAIN_EXP2",
    "GAIN_LINEAR",
    "MEAN_NDCG",
    "NDCG",
    "PRECISION",
    "PRECISION_MIN_N",
    "RECALL",
    "RPREC",
    "RR",
    "SUCCESS",
    "TIES_OPTIMISTIC",
    "TIES_PESSIMISTIC",
    "TIES_STABLE",
    "evaluate_groups",
    "evaluate_groups_serial",
    "query_metrics",
    "ranked_hits",
    "top_order",
]

# Metric codes (the registry maps names to these).
DCG = 0
NDCG = 1
AP = 2
RR = 3
PRECISION = 4
RECALL = 5
ERR = 6
MEAN_NDCG = 7
RPREC = 8
BPREF = 9
SUCCESS = 10
# Other tools' denominators (chosen by a convention preset, not by a metric name): AP@k over min(k, R) as
# LightGBM's map@k, P@k over min(k, n) as RankLib's P@k.
AP_MIN_K = 11
PRECISION_MIN_N = 12

GAIN_EXP2 = 0
GAIN_LINEAR = 1

TIES_STABLE = 0  # among equal scores the earlier row ranks higher
TIES_PESSIMISTIC = 1  # among equal scores the lower label ranks higher (relevant last), then the earlier row
TIES_OPTIMISTIC = 2  # among equal scores the higher label ranks higher, then the earlier row

@njit(cache=True, inline="always")
def _before(i, j, scores, labels, ties):
    """True when document ``i`` ranks strictly above document ``j`` (a strict total order: rows break the tie)."""
    si = scores[i]
    sj = scores[j]
    if si > sj:
        return True
    if si < sj:
        return False
    if ties == TIES_PESSIMISTIC:
        if labels[i] != labels[j]:
            return labels[i] < labels[j]
    elif ties == TIES_OPTIMISTIC:
        if labels[i] != labels[j]:
            return labels[i] > labels[j]
    return i < j


@njit(cache=True)
def top_order(scores, labels, depth, ties, order, tmp, key, key2):
    """Write the row indices of the ``depth`` best-ranked documents, best first, into ``order[:depth]``.

    ``order``, ``tmp`` (int64) and ``key``, ``key2`` (float64) are scratch buffers of at least ``scores.size``
    entries; ``depth <= scores.size``.
    """
    n = scores.size
    if depth <= 0:
        return
    if depth * 4 <= n:
        # Bounded insertion: keep the best ``depth`` seen so far, sorted. Rows arrive in index order, so a row that
        # ties the current last one never displaces it under the stable rule.
        cnt = 0
        for i in range(n):
            if cnt < depth:
                j = cnt - 1
                cnt += 1
            elif _before(i, order[depth - 1], scores, labels, ties):
                j = depth - 2
            else:
                continue
            while j >= 0 and _before(i, order[j], scores, labels, ties):
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = i
        return
    # Full order: a stable sort of -score gives "score descending, earlier row first". The other tie rules sort
    # stably by label first (ascending: pessimistic; descending: optimistic), then by -score.
    for i in range(n):
        order[i] = i
    if ties != TIES_STABLE:
        sign = 1.0 if ties == TIES_PESSIMISTIC else -1.0
        for i in range(n):
            key[i] = sign * labels[i]
        stable_sort_keys(key, order, key2, tmp, n)
    for i in range(n):
        key[i] = -scores[order[i]]
    stable_sort_keys(key, order, key2, tmp, n)


@njit(cache=True)
def _smallest_first(key, m, depth):
    """Put the ``depth`` smallest of ``key[:m]`` in ascending order into ``key[:depth]`` (values only, in place)."""
    if depth * 4 > m:
        key[:m].sort()
        return
    # Bounded insertion; safe in place since the write position never passes the read position i.
    cnt = 0
    for i in range(m):
        x = key[i]
        if cnt < depth:
            j = cnt - 1
            cnt += 1
        elif x < key[depth - 1]:
            j = depth - 2
        else:
            continue
        while j >= 0 and x < key[j]:
            key[j + 1] = key[j]
            j -= 1
        key[j + 1] = x


@njit(cache=True, inline="always")
def _gain(label, gain):
    # Labels <= 0 (non-relevant, or negative judgments as in TREC qrels) carry no gain, as in trec_eval.
    if label <= 0.0:
        return 0.0
    if gain == GAIN_EXP2:
        return 2.0**label - 1.0
    return label


@njit(cache=True)
def _count_ranks(scores, labels, ties, cand, m, rank):
    """``rank[p]`` = the number of documents ranked above row ``cand[p]`` (its 0-based rank).

    O(m n) compares, but branch-free and vectorized by LLVM: faster than sorting all n rows when only the m
    rows that can change a metric need a rank. The tie rule is hoisted out of the inner loop.
    """
    n = scores.size
    for p in range(m):
        i = cand[p]
        si = scores[i]
        li = labels[i]
        c = 0
        if ties == TIES_STABLE:
            for j in range(n):
                sj = scores[j]
                c += (sj > si) | ((sj == si) & (j < i))
        elif ties == TIES_PESSIMISTIC:
            for j in range(n):
                sj = scores[j]
                lj = labels[j]
                c += (sj > si) | ((sj == si) & ((lj < li) | ((lj == li) & (j < i))))
        else:
            for j in range(n):
                sj = scores[j]
                lj = labels[j]
                c += (sj > si) | ((sj == si) & ((lj > li) | ((lj == li) & (j < i))))
        rank[p] = c


@njit(cache=True)
def ranked_hits(scores, labels, depth, ties, rel_threshold, cand, rank, order, tmp, key, key2, rk, dc):
    """The rows that can change a metric, in rank order, among the top ``depth``; returns their count ``c``.

    Only rows with a gain (label > 0) or a relevant label (>= ``rel_threshold``) matter to any metric here: the
    order among the others changes nothing. Their 0-based ranks go to ``rk[:c]`` (ascending) and their rows to
    ``dc[:c]``. Three ways, by cost: a bounded top-``depth`` selection for small cutoffs, rank counting when
    few rows matter, a full merge sort otherwise. All buffers hold at least ``scores.size`` entries.
    """
    n = scores.size
    # Branch-free compactions (store always, advance when kept): the keep/drop pattern is random, so a branch
    # would be mispredicted about half the time.
    m = 0
    for i in range(n):
        cand[m] = i
        m += (labels[i] > 0.0) | (labels[i] >= rel_threshold)
    if m == 0 or depth <= 0:
        return 0
    c = 0
    log2n = 1
    while (1 << log2n) < n:
        log2n += 1
    if depth * 4 > n and m <= 16 * log2n:
        _count_ranks(scores, labels, ties, cand, m, rank)
        for r in range(n):
            order[r] = -1
        for p in range(m):
            order[rank[p]] = cand[p]
        for r in range(depth):
            rk[c] = r
            dc[c] = order[r]
            c += order[r] >= 0
        return c
    top_order(scores, labels, depth, ties, order, tmp, key, key2)
    for r in range(depth):
        i = order[r]
        rk[c] = r
        dc[c] = i
        c += (labels[i] > 0.0) | (labels[i] >= rel_threshold)
    return c


@njit(cache=True)
def query_metrics(
    labels, scores, ideal, codes, cutoffs, gain, ties, rel_threshold, no_relevant, max_grade, log2_table,
    out, q, cand, rank, order, tmp, key, key2, rk, dc,
):
    """Every requested metric of one query, written to ``out[m, q]``.

    ``cutoffs[m] <= 0`` means the whole list. ``log2_table[i]`` is the discount of 0-based rank ``i`` (``log2(i +
    2)``, or another table the caller chose). The scratch buffers hold at least ``labels.size`` entries (``key``:
    also ``ideal.size``). BPREF treats every row of ``labels`` and of ``ideal`` as judged: a caller with unjudged
    documents leaves them out of both.
    """
    n = labels.size
    ni = ideal.size
    # R-precision needs R (the number of relevant documents) before ranking, to know how deep to rank.
    n_rel = 0
    for m in range(codes.size):
        if codes[m] == RPREC:
            for i in range(ni):
                n_rel += ideal[i] >= rel_threshold
            break
    depth = 0
    idepth = 0
    for m in range(codes.size):
        code = codes[m]
        k = cutoffs[m]
        if code == RPREC:
            k = n_rel
        elif code == MEAN_NDCG or code == BPREF:
            k = 0
        d = n if (k <= 0 or k > n) else k
        if d > depth:
            depth = d
        if code == NDCG or code == MEAN_NDCG:
            di = ni if (k <= 0 or k > ni) else k
            if di > idepth:
                idepth = di
    c = ranked_hits(scores, labels, depth, ties, rel_threshold, cand, rank, order, tmp, key, key2, rk, dc)
    # The ideal list: only positive labels have a gain, so IDCG needs just those, sorted (values, no rows).
    n_rel = 0
    n_pos = 0
    for i in range(ni):
        n_rel += ideal[i] >= rel_threshold
        key[n_pos] = -ideal[i]
        n_pos += ideal[i] > 0.0
    has_gain = n_pos > 0
    if idepth > 0 and has_gain:
        _smallest_first(key, n_pos, idepth)

    for m in range(codes.size):
        code = codes[m]
        k = cutoffs[m]
        d = n if (k <= 0 or k > n) else k
        if code == DCG or code == NDCG:
            s = 0.0
            for p in range(c):
                if rk[p] >= d:
                    break
                s += _gain(labels[dc[p]], gain) / log2_table[rk[p]]
            if code == DCG:
                out[m, q] = s
            elif not has_gain:
                out[m, q] = no_relevant
            else:
                di = n_pos if (k <= 0 or k > n_pos) else k
                best = 0.0
                for i in range(di):
                    best += _gain(-key[i], gain) / log2_table[i]
                out[m, q] = s / best
        elif code == MEAN_NDCG:
            if not has_gain:
                out[m, q] = no_relevant
            elif n == 0:
                out[m, q] = 0.0  # an empty ranking (a judged query the run lacks) has no position to average
            else:
                # NDCG@1..n from running sums: the ranked gains (rows with a gain, in rank order) and the ideal.
                s = 0.0
                best = 0.0
                total = 0.0
                p = 0
                for i in range(n):
                    if p < c and rk[p] == i:
                        s += _gain(labels[dc[p]], gain) / log2_table[i]
                        p += 1
                    if i < n_pos:
                        best += _gain(-key[i], gain) / log2_table[i]
                    total += s / best
                out[m, q] = total / n
        elif code == ERR:
            if not has_gain:
                out[m, q] = no_relevant
            else:
                # Chapelle et al. (2009): R = (2^l - 1) / 2^max_grade; ERR = sum_r R_r / r prod_{i<r} (1 - R_i).
                # Rows without gain have R = 0: they add nothing and leave the product unchanged.
                scale = 2.0**max_grade
                s = 0.0
                decay = 1.0
                for p in range(c):
                    if rk[p] >= d:
                        break
                    r = _gain(labels[dc[p]], GAIN_EXP2) / scale
                    s += r * decay / (rk[p] + 1.0)
                    decay *= 1.0 - r
                out[m, q] = s
        elif n_rel == 0:
            # Binary metrics of a query without relevant documents are 0/0: the caller's convention.
            out[m, q] = no_relevant
        elif code == BPREF:
            # Buckley and Voorhees (2004), as trec_eval: each relevant document scores 1 - min(N_above, R) /
            # min(R, N), N_above the judged non-relevant documents ranked above it, N all of them (R, N: judged).
            # Every row is judged here, so N_above = rank - relevant rows above.
            denom = min(n_rel, ni - n_rel)
            hits = 0
            s = 0.0
            for p in range(c):
                if labels[dc[p]] >= rel_threshold:
                    above = rk[p] - hits
                    if above > 0:
                        s += 1.0 - min(above, n_rel) / denom
                    else:
                        s += 1.0
                    hits += 1
            out[m, q] = s / n_rel
        else:
            if code == RPREC:
                d = n_rel if n_rel < n else n  # trec_eval: the top min(R, n); a short run's holes are misses
            hits = 0
            first = 0.0
            s = 0.0
            for p in range(c):
                if rk[p] >= d:
                    break
                if labels[dc[p]] >= rel_threshold:
                    hits += 1
                    s += hits / (rk[p] + 1.0)
                    if hits == 1:
                        first = 1.0 / (rk[p] + 1.0)
            if code == AP:
                out[m, q] = s / n_rel
            elif code == AP_MIN_K:
                # LightGBM: sum_ap / min(npos, min(k, n)); d = min(k, n) here.
                out[m, q] = s / (n_rel if n_rel < d else d)
            elif code == RR:
                out[m, q] = first
            elif code == PRECISION:
                # Divided by k even when the list is shorter than k, as trec_eval's P_k.
                out[m, q] = hits / (k if k > 0 else n)
            elif code == PRECISION_MIN_N:
                # RankLib: divided by the documents looked at, min(k, n).
                out[m, q] = hits / d
            elif code == SUCCESS:
                out[m, q] = 1.0 if hits > 0 else 0.0
            else:  # RECALL and RPREC: relevant documents found over R
                out[m, q] = hits / n_rel


@njit(cache=True)
def _evaluate_chunk(
    lo, hi, labels, scores, group_ptr, ideal, ideal_ptr, codes, cutoffs, gain, ties, rel_threshold, no_relevant,
    max_grade, log2_table, out,
):
    """Queries ``lo:hi``: scratch buffers are allocated once here, never per query."""
    maxn = 1
    maxi = 1
    for q in range(lo, hi):
        maxn = max(maxn, group_ptr[q + 1] - group_ptr[q])
        maxi = max(maxi, ideal_ptr[q + 1] - ideal_ptr[q])
    cand = np.empty(maxn, dtype=np.int64)
    rank = np.empty(maxn, dtype=np.int64)
    order = np.empty(maxn, dtype=np.int64)
    tmp = np.empty(maxn, dtype=np.int64)
    rk = np.empty(maxn, dtype=np.int64)
    dc = np.empty(maxn, dtype=np.int64)
    key = np.empty(max(maxn, maxi), dtype=np.float64)
    key2 = np.empty(max(maxn, maxi), dtype=np.float64)
    for q in range(lo, hi):
        a = group_ptr[q]
        b = group_ptr[q + 1]
        query_metrics(
            labels[a:b], scores[a:b], ideal[ideal_ptr[q]:ideal_ptr[q + 1]], codes, cutoffs, gain, ties,
            rel_threshold, no_relevant, max_grade, log2_table, out, q, cand, rank, order, tmp, key, key2, rk, dc,
        )


@njit(cache=True, parallel=True)
def evaluate_groups(
    labels, scores, group_ptr, ideal, ideal_ptr, codes, cutoffs, gain, ties, rel_threshold, no_relevant,
    max_grade, log2_table, out, n_chunks,
):
    """Fill ``out[m, q]`` for every query ``q`` of ``group_ptr``, chunks of queries in parallel.

    Each query writes only its own column of ``out``, so chunks are independent. ``n_chunks`` (a few per thread)
    is chosen by the caller: calling ``numba.get_num_threads`` here would defeat ``cache=True``.
    """
    nq = group_ptr.size - 1
    nchunks = max(1, min(nq, n_chunks))
    for c in prange(nchunks):
        _evaluate_chunk(
            c * nq // nchunks, (c + 1) * nq // nchunks, labels, scores, group_ptr, ideal, ideal_ptr, codes, cutoffs,
            gain, ties, rel_threshold, no_relevant, max_grade, log2_table, out,
        )


@njit(cache=True)
def evaluate_groups_serial(
    labels, scores, group_ptr, ideal, ideal_ptr, codes, cutoffs, gain, ties, rel_threshold, no_relevant,
    max_grade, log2_table, out,
):
    """:func:`evaluate_groups` on one thread, for small inputs: starting a parallel region costs more than
    scoring a few thousand rows (milliseconds on a loaded machine)."""
    _evaluate_chunk(
        0, group_ptr.size - 1, labels, scores, group_ptr, ideal, ideal_ptr, codes, cutoffs, gain, ties,
        rel_threshold, no_relevant, max_grade, log2_table, out,
    )
