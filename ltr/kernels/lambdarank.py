r"""LambdaMART's NDCG-weighted lambdas, as LightGBM's CPU ``lambdarank`` objective computes them.

For one query, documents are ranked by score (a stable sort, descending); every pair :math:`(i, j)` with
:math:`i` among the first :math:`\min(n - 1, k)` positions and :math:`j` ranked below :math:`i`, whose labels
differ, contributes. With ``h`` the better-labelled and ``l`` the worse-labelled document of the pair,

.. math::

    \Delta_{hl} = \frac{(G_{y_h} - G_{y_l})\,\lvert D_{r_h} - D_{r_l}\rvert}{\mathrm{IDCG@}k}, \qquad
    p_{hl} = \frac{1}{1 + e^{\sigma (s_h - s_l)}}, \qquad
    \lambda_{hl} = -\sigma\,\Delta_{hl}\,p_{hl}, \qquad
    w_{hl} = \sigma^2\,\Delta_{hl}\,p_{hl}(1 - p_{hl}),

with gains :math:`G` (``label_gain``, default :math:`2^y - 1`) and discounts :math:`D_r = 1/\log_2(2 + r)` at
0-based rank :math:`r`. The pair adds :math:`\lambda_{hl}` to ``grad[h]``, subtracts it from ``grad[l]`` and adds
:math:`w_{hl}` to both hessians. With ``norm`` (LightGBM's ``lambdarank_norm``, default on), :math:`\Delta_{hl}`
is first divided by :math:`0.01 + \lvert s_h - s_l\rvert` unless all scores of the query are equal, and at the
end the query's gradients and hessians are multiplied by :math:`\log_2(1 + S)/S`, where :math:`S = -2 \sum
\lambda_{hl}` (:math:`= \sum 2 \lvert\lambda_{hl}\rvert` for increasing gains); this normalisation is LightGBM's
(microsoft/LightGBM#2331), not part of Burges' LambdaMART. Row weights multiply last.

Edge cases, as in LightGBM: a query without any relevant document (IDCG = 0) and a one-document query get zero
gradients and hessians; documents scored ``-inf`` take no part in any pair (and get zero gradients); equal labels
never form a pair; ties in score keep the input order.

Three arithmetic ``mode``\s, chosen in Python and passed to the kernel as an integer:

``"exact"`` (default)
    float64 throughout; :math:`p` from ``exp`` (no table); the constant 0.01 is the float64 0.01.
``"lightgbm"``
    reproduces LightGBM 4.x's CPU objective bit for bit (up to the platform's ``exp``/``log2``): :math:`p` is
    read from LightGBM's 2^20-bin sigmoid table over :math:`[-25/\sigma, 25/\sigma]` (built once, in Python,
    by :func:`sigmoid_table`); gradients and hessians are accumulated in float32 (LightGBM's ``score_t``) in the
    same pair order; 0.01 is the float32 ``0.01f``; weights are float32.
``"xgboost"``
    reproduces XGBoost 3.x's CPU ``rank:ndcg`` with ``lambdarank_pair_method="topk"`` (truncation
    ``lambdarank_num_pair_per_sample``, default 32): float32 scores and sigmoid (``1/(1 + expf(-x))``, ``x``
    clipped at 88.7), :math:`\Delta` computed as ``|original - swapped| / IDCG``, 0.01 added (not ``0.01f``),
    hessian ``max(p(1-p), 1e-16) * Delta * 2`` (XGBoost doubles it), float32 accumulation, the normalisation
    factor rounded to float32, sigma fixed at 1, query weights rescaled to average one over the queries
    (XGBoost's ``weight_norm``). ``-inf`` scores are not special-cased (XGBoost never produces them). XGBoost's
    random ``"mean"`` pair sampling is not reproduced.

Gradients are not models: LightGBM samples rows and features otherwise with a custom objective than with its
native ``lambdarank`` (same seed), so the trained models agree only without ``bagging_by_query`` and
``feature_fraction`` < 1, both set by the small-data preset (:mod:`ltr.rankers.presets`, on by default below 500
training queries): trained on MQ2008 Fold2/test for 20 rounds, NDCG@10 on Fold1/test is 0.4788 both native and
with ``mode="lightgbm"`` under ``preset=None`` (``--preset none``), but 0.4728 native vs 0.4716 kernel under the
preset. Plain ``bagging_fraction`` samples alike. (``objective="logistic"`` differs for another reason: its
kernel starts from 0, native ``binary`` from the log-odds of the labels.)

Not reproduced: LightGBM's position-bias correction (``lambdarank_position_bias_regularization``), which only
runs when the Dataset has ``position`` data; without positions its objective is exactly the one above.
XGBoost's ``lambdarank_unbiased`` likewise.

References
----------
C. J. C. Burges, "From RankNet to LambdaRank to LambdaMART: An Overview", MSR-TR-2010-82 (2010).
G. Ke et al., "LightGBM", NeurIPS 2017; ``src/objective/rank_objective.hpp`` (LambdarankNDCG).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike, NDArray

from ltr.kernels._common import (
    as_group_ptr,
    as_labels,
    as_row_weights,
    check_integer_labels,
    compute_fresh,
    work_blocks,
)

__all__ = [
    "MODES",
    "LambdaRankObjective",
    "check_options",
    "default_label_gain",
    "discounts",
    "grad_hess",
    "inverse_max_dcg",
    "prepare",
    "sigmoid_table",
]

MODES = {"exact": 0, "lightgbm": 1, "xgboost": 2}
_EXACT, _LIGHTGBM, _XGBOOST = 0, 1, 2
#: LightGBM's sigmoid table: 2**20 bins over [-50 / sigma / 2, 50 / sigma / 2].
SIGMOID_BINS = 1 << 20
_LGB_EPS = float(np.float32(0.01))  # LightGBM writes the constant as 0.01f, promoted to double
_LN2 = math.log(2.0)  # (the exact mode's norm factor: log1p(S) / (ln 2 * S))
_NO_TABLE = np.zeros(0)
_NO_TABLE.flags.writeable = False


# ---------------------------------------------------------------------------------------------------------------
# Tables computed once per data set (Python side)
# ---------------------------------------------------------------------------------------------------------------
def default_gain_table_size(mode: str = "exact") -> int:
    """Entries of the kernel's default gain table in ``mode``: labels 0..30 (LightGBM's 31), 0..31 in "xgboost".

    >>> default_gain_table_size(), default_gain_table_size("xgboost")
    (31, 32)
    """
    return 32 if MODES.get(mode) == _XGBOOST else 31


def default_label_gain(n_labels: int = 31) -> NDArray[np.float64]:
    """Gains :math:`2^y - 1` for labels ``0..n_labels-1`` (LightGBM's default table has 31 entries).

    Examples
    --------
    >>> default_label_gain(4).tolist()
    [0.0, 1.0, 3.0, 7.0]
    """
    return np.array([float((1 << i) - 1) for i in range(n_labels)], dtype=np.float64)


def discounts(n: int) -> NDArray[np.float64]:
    """Position discounts :math:`1/\\log_2(2 + r)` for 0-based ranks ``r < n``.

    Examples
    --------
    >>> discounts(3).round(4).tolist()
    [1.0, 0.6309, 0.5]
    """
    return np.array([1.0 / math.log2(2.0 + r) for r in range(n)], dtype=np.float64)


@njit(cache=True)
def _inverse_max_dcg(labels: NDArray[np.int32], group_ptr: NDArray[np.int64], label_gain: NDArray[np.float64],
                     discount: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    # LightGBM's CalMaxDCGAtK: count labels, then fill the top min(k, n) positions from the highest label down,
    # summing discount * gain in that order, so that the float64 sum matches LightGBM's bit for bit.
    n_queries = group_ptr.size - 1
    out = np.zeros(n_queries)
    counts = np.zeros(label_gain.size, dtype=np.int64)
    for q in range(n_queries):
        counts[:] = 0
        for i in range(group_ptr[q], group_ptr[q + 1]):
            counts[labels[i]] += 1
        top = label_gain.size - 1
        dcg = 0.0
        for j in range(min(k, group_ptr[q + 1] - group_ptr[q])):
            while top > 0 and counts[top] <= 0:
                top -= 1
            dcg += discount[j] * label_gain[top]
            counts[top] -= 1
        out[q] = 1.0 / dcg if dcg > 0.0 else 0.0
    return out


def inverse_max_dcg(labels: ArrayLike, group_ptr: ArrayLike, *, label_gain: ArrayLike | None = None,
                    truncation_level: int = 30) -> NDArray[np.float64]:
    """``1 / IDCG@k`` per query, 0 for a query with no relevant document.

    Examples
    --------
    >>> inverse_max_dcg([2, 0, 1], [0, 3]).round(4).tolist()   # 1 / (3 + 1 / log2(3))
    [0.2754]
    """
    y = as_labels(labels)
    ptr = as_group_ptr(group_ptr, y.size)
    gain = default_label_gain() if label_gain is None else np.asarray(label_gain, dtype=np.float64)
    check_integer_labels(y, max_label=gain.size - 1, what="lambdarank")
    max_n = int(np.diff(ptr).max()) if ptr.size > 1 else 0
    return _inverse_max_dcg(y.astype(np.int32), ptr, gain, discounts(max(max_n, 1)), int(truncation_level))


@njit(cache=True)
def _fill_sigmoid_table(table: NDArray[np.float64], min_input: float, factor: float, sigma: float) -> None:
    for i in range(table.size):
        table[i] = 1.0 / (1.0 + math.exp((i / factor + min_input) * sigma))


@functools.lru_cache(maxsize=4)
def sigmoid_table(sigma: float = 1.0, bins: int = SIGMOID_BINS) -> tuple[NDArray[np.float64], float, float, float]:
    """LightGBM's lookup table for :math:`1/(1 + e^{\\sigma x})`: ``(table, min_input, max_input, factor)``.

    Built once per ``sigma`` and cached (read-only). ``table[i]`` holds the value at
    ``x = i / factor + min_input``; inputs at or below ``min_input`` read ``table[0]``, at or above ``max_input``
    read ``table[-1]``, others ``table[int((x - min_input) * factor)]``.

    Examples
    --------
    >>> t, lo, hi, f = sigmoid_table(1.0, bins=8)
    >>> lo, hi, f
    (-25.0, 25.0, 0.16)
    """
    min_input = -50.0 / sigma / 2.0
    max_input = -min_input
    factor = bins / (max_input - min_input)
    table = np.empty(bins, dtype=np.float64)
    _fill_sigmoid_table(table, min_input, factor, float(sigma))
    table.flags.writeable = False  # cached (8 MiB, ~10 ms to build) and shared between objectives
    return table, min_input, max_input, factor


# ---------------------------------------------------------------------------------------------------------------
# Per-query kernels
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True)
def _sort_desc(s: NDArray[np.float64], order: NDArray[np.int32]) -> None:
    """Sort ``order`` (a permutation of ``0..n-1``) by score descending, ties by index: a stable sort.

    ``order`` arrives holding the previous round's ranking, which boosting changes little, so an insertion sort
    usually finishes in a few passes; past a budget of moves it falls back to a merge sort. Both give the one
    order defined by the key ``(-s[i], i)``, i.e. the result of ``std::stable_sort`` by ``s[a] > s[b]``.
    """
    n = s.size
    budget = 8 * n + 64
    moves = 0
    for a in range(1, n):
        o = order[a]
        v = s[o]
        b = a - 1
        while b >= 0:
            ob = order[b]
            vb = s[ob]
            if vb > v or (vb == v and ob < o):
                break
            order[b + 1] = ob
            b -= 1
        moves += a - 1 - b
        order[b + 1] = o
        if moves > budget:
            fresh = np.argsort(-s, kind="mergesort")
            for r in range(n):
                order[r] = fresh[r]
            return


@njit(cache=True)
def _gather(s, lab, gain, order, ss, ls, gs, ga, ha) -> None:
    # Rank-ordered copies: the pair loops then read contiguous memory instead of chasing order[].
    for r in range(s.size):
        o = order[r]
        ss[r] = s[o]
        ls[r] = lab[o]
        gs[r] = gain[o]
        ga[r] = 0.0
        ha[r] = 0.0


@njit(cache=True)
def _partners(ls, m, n_i, partners, plen, row_of, start_of, slot, seen) -> None:
    """Pair lists without equal labels: for each rank ``i < n_i``, its partners ``j`` in ``(i, m)`` whose label
    differs are ``partners[row_of[i], start_of[i]:plen[row_of[i]]]``, in ascending order.

    One list per distinct label among the first ``n_i`` ranks (``slot`` maps a label to its list and is all -1
    between queries). Equal labels never form a pair; skipping them through these lists leaves the remaining
    pairs in the same order, so every floating-point sum is the one of a loop over all ``j`` that skips them,
    without a hard-to-predict branch per pair.
    """
    rows = 0
    for i in range(n_i):
        lab = ls[i]
        r = slot[lab]
        if r < 0:
            r = rows
            rows += 1
            slot[lab] = r
            c = 0
            for j in range(m):
                if ls[j] != lab:
                    partners[r, c] = j
                    c += 1
            plen[r] = c
            seen[r] = 0
        seen[r] += 1  # ranks <= i with this label: the list holds (i + 1) - seen[r] entries <= i
        row_of[i] = r
        start_of[i] = i + 1 - seen[r]
    for i in range(n_i):
        slot[ls[i]] = -1


@njit(cache=True)
def _query_exact(s, lab, gain, order, w, inv_max_dcg, discount, sigma, k, norm, ss, ls, gs, es, ga, ha,
                 partners, plen, row_of, start_of, slot, seen, grad, hess) -> None:
    """One query in float64 with an exact sigmoid (mode ``"exact"``); writes ``grad``/``hess`` of its rows."""
    n = s.size
    _sort_desc(s, order)
    _gather(s, lab, gain, order, ss, ls, gs, ga, ha)
    m = n
    while m > 0 and ss[m - 1] == -np.inf:  # -inf sorts last; such documents form no pair
        m -= 1
    sum_lambda = 0.0
    if m >= 2 and inv_max_dcg > 0.0:
        worst = ss[n - 2] if ss[n - 1] == -np.inf else ss[n - 1]  # LightGBM steps back over one -inf only
        divide = norm and ss[0] != worst
        # p_hl = 1 / (1 + exp(sigma (s_h - s_l))) = e_l / (e_l + e_h) with e = exp(sigma (s - s_top)) <= 1:
        # one exp per document instead of one per pair, and no overflow.
        for r in range(m):
            es[r] = math.exp(sigma * (ss[r] - ss[0]))
        n_i = min(m - 1, k)
        _partners(ls, m, n_i, partners, plen, row_of, start_of, slot, seen)
        for i in range(n_i):
            li, gi, di, si, ei = ls[i], gs[i], discount[i], ss[i], es[i]
            row = row_of[i]
            acc_g = 0.0
            acc_h = 0.0
            for t in range(start_of[i], plen[row]):
                j = np.uint64(partners[row, t])  # unsigned: no negative-index wraparound on each access
                hi = ls[j] < li  # i is the better-labelled document of the pair
                sign = 1.0 if hi else -1.0
                delta = sign * (gi - gs[j]) * (di - discount[j]) * inv_max_dcg  # (G_h - G_l) |D_i - D_j| / IDCG
                ej = es[j]
                den = ei + ej
                if den > 1e-300:
                    d = 0.01 + abs(si - ss[j]) if divide else 1.0
                    v = 1.0 / (den * d)  # the pair's only division: p = e_l v d, 1 - p = e_h v d
                    lam = sigma * delta * (ej if hi else ei) * v  # -lambda_hl, delta divided by d when norm
                    # sigma^2 delta p (1 - p); 0 when lam is (a score gap beyond a double makes d inf, v 0 and the
                    # product 0 * inf NaN, where LightGBM's delta / inf gives 0; trial t55)
                    hes = sigma * lam * (ei if hi else ej) * v * d if lam != 0.0 else 0.0
                else:  # both far below the top score: exp of the difference directly
                    p = 1.0 / (1.0 + math.exp(sigma * sign * (si - ss[j])))
                    dd = delta / (0.01 + abs(si - ss[j])) if divide else delta
                    lam = sigma * dd * p
                    hes = sigma * lam * (1.0 - p)
                acc_g -= sign * lam
                ga[j] += sign * lam
                acc_h += hes
                ha[j] += hes
                sum_lambda += 2.0 * lam
            ga[i] += acc_g
            ha[i] += acc_h
    # log2(1 + S) / S from log1p: 1.0 + S rounds a small S away (gradients 0.0 for +-6.8e-30, 4% off at 1.8e-15;
    # trial t61); the parity modes keep LightGBM's log2(1 + S)
    factor = math.log1p(sum_lambda) / (_LN2 * sum_lambda) if norm and sum_lambda > 0.0 else 1.0
    for r in range(n):
        o = order[r]
        wo = w[o] if w.size else 1.0
        grad[o] = ga[r] * factor * wo
        hess[o] = ha[r] * factor * wo


@njit(cache=True)
def _query_lightgbm(s, lab, gain, order, w, inv_max_dcg, discount, sigma, k, norm, table, t_min, t_max,
                    t_factor, ss, ls, gs, ga, ha, partners, plen, row_of, start_of, slot, seen, grad, hess) -> None:
    """One query exactly as LightGBM's LambdarankNDCG::GetGradientsForOneQuery (mode ``"lightgbm"``).

    Same pairs in the same order, same operation order; ``ga``/``ha`` are float32 like LightGBM's ``score_t``
    buffers, and document ``i``'s accumulators are kept in registers, updated in LightGBM's order.
    """
    n = s.size
    _sort_desc(s, order)
    _gather(s, lab, gain, order, ss, ls, gs, ga, ha)
    best = ss[0]
    worst = ss[n - 2] if n > 1 and ss[n - 1] == -np.inf else ss[n - 1]
    divide = norm and best != worst
    m = n
    while m > 0 and ss[m - 1] == -np.inf:  # LightGBM skips -inf documents, which sort last
        m -= 1
    sum_lambda = 0.0
    last = table.size - 1
    neg_sigma = -sigma
    sigma2 = sigma * sigma
    n_i = min(n - 1, k, m) if inv_max_dcg > 0.0 else 0  # no relevant document: every pair would add zeros
    _partners(ls, m, n_i, partners, plen, row_of, start_of, slot, seen)
    for i in range(n_i):
        si, li, gi, di = ss[i], ls[i], gs[i], discount[i]
        row = row_of[i]
        acc_g = ga[i]
        acc_h = ha[i]
        for t in range(start_of[i], plen[row]):
            j = np.uint64(partners[row, t])  # unsigned: no negative-index wraparound on each access
            hi = ls[j] < li  # i is the higher-labelled ("high") document
            delta_score = si - ss[j] if hi else ss[j] - si  # s_high - s_low
            gap = gi - gs[j] if hi else gs[j] - gi  # G_high - G_low
            delta = gap * abs(di - discount[j]) * inv_max_dcg
            if divide:
                delta /= _LGB_EPS + abs(delta_score)
            if delta_score <= t_min:
                p = table[0]
            elif delta_score >= t_max:
                p = table[last]
            else:
                p = table[int((delta_score - t_min) * t_factor)]
            p_lambda = p * (neg_sigma * delta)
            lam = np.float32(p_lambda)
            hes = np.float32(p * (1.0 - p) * (sigma2 * delta))
            signed = lam if hi else -lam  # high += lambda, low -= lambda
            acc_g = acc_g + signed
            ga[j] = ga[j] - signed
            acc_h = acc_h + hes
            ha[j] = ha[j] + hes
            sum_lambda -= 2.0 * p_lambda
        ga[i] = acc_g
        ha[i] = acc_h
    factor = math.log2(1.0 + sum_lambda) / sum_lambda if norm and sum_lambda > 0.0 else 1.0
    for r in range(n):
        o = order[r]
        g = np.float32(ga[r] * factor)  # float32 * double, rounded to float32 (exact when factor is 1)
        h = np.float32(ha[r] * factor)
        if w.size:
            g = np.float32(g * np.float32(w[o]))
            h = np.float32(h * np.float32(w[o]))
        grad[o] = g
        hess[o] = h


@njit(cache=True, inline="always")
def _xgb_sigmoid(x):
    # XGBoost's common::Sigmoid(float): 1 / (expf(min(-x, 88.7f)) + 1 + 1e-16f), all in float32.
    t = min(-x, np.float32(88.7))
    den = (np.exp(t) + np.float32(1.0)) + np.float32(1e-16)
    return np.float32(1.0) / den


@njit(cache=True)
def _query_xgboost(s, lab, gain, order, w, inv_idcg, discount, k, norm, w_norm, ss, ls, gs, ga, ha,
                   partners, plen, row_of, start_of, slot, seen, grad, hess) -> None:
    """One query as XGBoost's CPU ``rank:ndcg`` with top-k pairs (mode ``"xgboost"``); scores are float32."""
    n = s.size
    _sort_desc(s, order)
    _gather(s, lab, gain, order, ss, ls, gs, ga, ha)
    divide = norm and ss[0] != ss[n - 1]
    sum_lambda = 0.0
    n_i = min(n, k) if inv_idcg > 0.0 else 0  # no relevant document: every pair would add zeros
    _partners(ls, n, n_i, partners, plen, row_of, start_of, slot, seen)
    for i in range(n_i):
        row = row_of[i]
        for t in range(start_of[i], plen[row]):
            j = partners[row, t]
            rh, rl = (i, j) if ls[i] > ls[j] else (j, i)
            diff = np.float32(ss[rh]) - np.float32(ss[rl])  # float32 subtraction
            p = np.float64(_xgb_sigmoid(diff))
            gh, gl, dh, dl = gs[rh], gs[rl], discount[rh], discount[rl]
            delta = abs(((gh * dh + gl * dl) - (gl * dh + gh * dl)) * inv_idcg)
            if divide:
                delta /= np.float64(abs(diff)) + 0.01
            lam = np.float32((p - 1.0) * delta)
            hes = np.float32(max(p * (1.0 - p), 1e-16) * delta * 2.0)
            ga[rh] = ga[rh] + lam
            ha[rh] = ha[rh] + hes
            ga[rl] = ga[rl] - lam
            ha[rl] = ha[rl] + hes
            sum_lambda += -2.0 * np.float64(lam)
    # GradientPair's operator* takes a float: the double factors are rounded to float32 first.
    factor = np.float32(math.log2(1.0 + sum_lambda) / sum_lambda) if norm and sum_lambda > 0.0 else np.float32(1.0)
    wn = np.float32(w_norm)
    for r in range(n):
        o = order[r]
        wo = np.float32(w[o]) if w.size else np.float32(1.0)
        grad[o] = ((ga[r] * factor) * wo) * wn
        hess[o] = ((ha[r] * factor) * wo) * wn


@njit(cache=True, parallel=True)
def _grad_hess(scores, labels, gains, group_ptr, order, weight, inv_max_dcg, discount, blocks, max_n, n_labels,
               mode, sigma, k, norm, table, t_min, t_max, t_factor, w_norm, grad, hess) -> None:
    """Driver: ``prange`` over blocks of queries of about equal work; each query writes only its own rows."""
    for b in prange(blocks.size - 1):
        ss = np.empty(max_n)
        ls = np.empty(max_n, dtype=np.int32)
        gs = np.empty(max_n)
        es = np.empty(max_n)
        ga = np.empty(max_n)
        ha = np.empty(max_n)
        ga32 = np.empty(max_n, dtype=np.float32)
        ha32 = np.empty(max_n, dtype=np.float32)
        rows = max(1, min(k, max_n, n_labels))  # at most one partner list per distinct label of the top k
        partners = np.empty((rows, max_n), dtype=np.int32)
        plen = np.empty(rows, dtype=np.int32)
        seen = np.empty(rows, dtype=np.int32)
        row_of = np.empty(max_n, dtype=np.int32)
        start_of = np.empty(max_n, dtype=np.int32)
        slot = np.full(n_labels, -1, dtype=np.int32)
        for q in range(blocks[b], blocks[b + 1]):
            a, e = group_ptr[q], group_ptr[q + 1]
            w = weight[a:e] if weight.size else weight
            if mode == _EXACT:
                _query_exact(scores[a:e], labels[a:e], gains[a:e], order[a:e], w, inv_max_dcg[q], discount,
                             sigma, k, norm, ss, ls, gs, es, ga, ha, partners, plen, row_of, start_of, slot,
                             seen, grad[a:e], hess[a:e])
            elif mode == _LIGHTGBM:
                _query_lightgbm(scores[a:e], labels[a:e], gains[a:e], order[a:e], w, inv_max_dcg[q], discount,
                                sigma, k, norm, table, t_min, t_max, t_factor, ss, ls, gs, ga32, ha32, partners,
                                plen, row_of, start_of, slot, seen, grad[a:e], hess[a:e])
            else:
                _query_xgboost(scores[a:e], labels[a:e], gains[a:e], order[a:e], w, inv_max_dcg[q], discount,
                               k, norm, w_norm, ss, ls, gs, ga32, ha32, partners, plen, row_of, start_of, slot,
                               seen, grad[a:e], hess[a:e])


# ---------------------------------------------------------------------------------------------------------------
# Python side: validation once, then a reusable object
# ---------------------------------------------------------------------------------------------------------------
class LambdaRankObjective:
    """Lambdarank state for one training set: everything that does not depend on the scores, computed once.

    Call :meth:`compute` every boosting round. The object keeps the previous round's ranking to sort faster, so
    one object must not be shared by two concurrent trainings. Build it with :func:`prepare`.
    """

    def __init__(self, labels, group_ptr, weight, *, sigma, truncation_level, norm, label_gain, mode):
        self.mode = mode
        self.sigma = float(sigma)
        self.truncation_level = int(truncation_level)
        self.norm = bool(norm)
        self.group_ptr = group_ptr
        self.n_rows = int(group_ptr[-1])
        self.label_gain = label_gain
        self.labels = labels.astype(np.int32)
        self.gains = label_gain[self.labels]
        sizes = np.diff(group_ptr)
        max_n = int(sizes.max()) if sizes.size else 1
        self.max_n = max_n
        self.discount = discounts(max_n)
        self.inv_max_dcg = _inverse_max_dcg(self.labels, group_ptr, label_gain, self.discount,
                                            self.truncation_level)
        self.order = (np.arange(self.n_rows, dtype=np.int64) - np.repeat(group_ptr[:-1], sizes)).astype(np.int32)
        self.blocks = work_blocks(group_ptr, sizes * np.minimum(sizes, self.truncation_level) + sizes)
        self.w_norm = 1.0
        if mode == _LIGHTGBM:
            weight = weight.astype(np.float32).astype(np.float64)  # LightGBM stores weights as float32
            self.table, self.t_min, self.t_max, self.t_factor = sigmoid_table(self.sigma)
        else:  # an empty read-only table: the same array type as the cached table, so one compiled driver
            self.table, self.t_min, self.t_max, self.t_factor = _NO_TABLE, 0.0, 0.0, 0.0
        if mode == _XGBOOST and weight.size:
            weight = weight.astype(np.float32).astype(np.float64)
            self.w_norm = xgboost_weight_norm(weight, group_ptr)
        self.weight = weight

    def compute(self, scores: NDArray[np.float64], grad: NDArray[np.float64], hess: NDArray[np.float64]) -> None:
        """Write the gradients and hessians for ``scores`` into ``grad`` and ``hess`` (float64, C-contiguous).

        No checks here (it runs every round): ``scores`` must be float64 of length ``n_rows``.
        """
        if self.mode == _XGBOOST:
            scores = scores.astype(np.float32).astype(np.float64)  # XGBoost ranks float32 predictions
        _grad_hess(scores, self.labels, self.gains, self.group_ptr, self.order, self.weight, self.inv_max_dcg,
                   self.discount, self.blocks, self.max_n, self.label_gain.size, self.mode, self.sigma,
                   self.truncation_level, self.norm, self.table, self.t_min, self.t_max, self.t_factor,
                   self.w_norm, grad, hess)


def xgboost_weight_norm(weight: NDArray[np.float64], group_ptr: NDArray[np.int64]) -> float:
    """The factor mode ``"xgboost"`` rescales row weights by: XGBoost keeps float32 weights, one per query, and
    rescales them to average one over the queries (``weight_norm = n_queries / sum``, summed in order in float64).
    Weights that vary inside a query have no XGBoost 3.x counterpart; they are rescaled to average one over the
    rows. 1.0 for no weights."""
    if not weight.size:
        return 1.0
    weight = weight.astype(np.float32).astype(np.float64)
    first = weight[group_ptr[:-1]]
    if np.array_equal(weight, np.repeat(first, np.diff(group_ptr))):
        total, count = float(np.cumsum(first)[-1]), first.size
    else:
        total, count = float(np.cumsum(weight)[-1]), weight.size
    return count / total if total > 0 else 1.0


def check_options(*, sigma: float = 1.0, truncation_level: int | None = None, norm: bool = True,
                  label_gain: ArrayLike | None = None, mode: str = "exact") -> tuple[int, int, NDArray[np.float64]]:
    """Check :func:`prepare`'s options (a ValueError naming the first bad one), before any data is read; returns
    the mode's code, the truncation level (its default resolved) and the gain table. The native rankers' options
    are these too (:func:`ltr.objectives.native_params` maps them onto LightGBM's and XGBoost's)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {sorted(MODES)}, got {mode!r}")
    m = MODES[mode]
    if not (isinstance(sigma, (int, float, np.number)) and not isinstance(sigma, bool) and math.isfinite(sigma)
            and sigma > 0):
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    if m == _XGBOOST and sigma != 1.0:
        raise ValueError(f"mode='xgboost' reproduces XGBoost, whose sigmoid has no sigma: sigma must be 1, got {sigma}")
    if truncation_level is None:
        truncation_level = 32 if m == _XGBOOST else 30
    k = truncation_level
    if not (isinstance(k, (int, float, np.number)) and not isinstance(k, bool) and math.isfinite(k)
            and int(k) == k and 1 <= k <= 2**31 - 1):  # past any query's length it cuts nothing; a C int holds it
        raise ValueError(f"truncation_level must be a positive integer up to {2**31 - 1}, got {truncation_level!r}")
    if not isinstance(norm, (bool, np.bool_)):  # bool("False") is True: a word is no switch
        raise ValueError(f"norm must be true or false, got {norm!r}")
    if label_gain is None:
        gain = default_label_gain(default_gain_table_size(mode))
    else:
        try:
            gain = np.ascontiguousarray(label_gain, dtype=np.float64)
        except (TypeError, ValueError):  # text ('0,1,x'): no number to make of it
            gain = np.empty(0)
        if gain.ndim != 1 or gain.size == 0 or not np.isfinite(gain).all():
            raise ValueError(f"label_gain must be a non-empty 1-D array of finite numbers, got {label_gain!r}")
        if (gain < 0).any():  # a negative ideal DCG: LightGBM keeps it as its 'inverse', this kernel 0 (trial t55)
            raise ValueError(f"label_gain must hold gains >= 0 (NDCG's ideal DCG is their best sum), got "
                             f"{float(gain[gain < 0][0]):g} at grade {int(np.flatnonzero(gain < 0)[0])}")
    return m, int(truncation_level), gain


def prepare(labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None, sigma: float = 1.0,
            truncation_level: int | None = None, norm: bool = True, label_gain: ArrayLike | None = None,
            mode: str = "exact") -> LambdaRankObjective:
    """Validate once and precompute everything that does not depend on the scores.

    Parameters
    ----------
    labels : array-like of shape (n_rows,)
        Integer relevance grades ``0..len(label_gain)-1``.
    group_ptr : array-like of int64, shape (n_queries + 1,)
    weight : array-like of shape (n_rows,) or (n_queries,), optional
        Row weights (or one per query, repeated over its rows); they multiply each row's gradient and hessian.
    sigma : float, default=1.0
        Steepness of the pairwise sigmoid (LightGBM's ``sigmoid``). XGBoost fixes it at 1.
    truncation_level : int, optional
        ``k``: pairs need one document in the top ``k``; also the IDCG cut-off. Default 30 (LightGBM's
        ``lambdarank_truncation_level``), or 32 in mode ``"xgboost"`` (its ``lambdarank_num_pair_per_sample``).
    norm : bool, default=True
        LightGBM's ``lambdarank_norm`` (XGBoost: ``lambdarank_normalization`` and
        ``lambdarank_score_normalization`` together).
    label_gain : array-like of float, optional
        Gain per grade; default :math:`2^y - 1` for grades 0..30 (0..31 in mode ``"xgboost"``).
    mode : {"exact", "lightgbm", "xgboost"}, default="exact"
        Arithmetic; see the module docstring.
    """
    m, truncation_level, gain = check_options(sigma=sigma, truncation_level=truncation_level, norm=norm,
                                              label_gain=label_gain, mode=mode)
    y = as_labels(labels)
    check_integer_labels(y, max_label=gain.size - 1, what="lambdarank")
    ptr = as_group_ptr(group_ptr, y.size)
    w = as_row_weights(weight, ptr)
    return LambdaRankObjective(y, ptr, w, sigma=float(sigma), truncation_level=int(truncation_level),
                               norm=bool(norm), label_gain=gain, mode=m)


def grad_hess(scores: ArrayLike, labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
              sigma: float = 1.0, truncation_level: int | None = None, norm: bool = True,
              label_gain: ArrayLike | None = None, mode: str = "exact"
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """LambdaRank gradients and hessians of every row (see the module docstring for the formulas).

    Parameters are those of :func:`prepare`, plus ``scores`` of shape (n_rows,).

    Returns
    -------
    grad, hess : ndarray of float64, shape (n_rows,)

    Examples
    --------
    One query, ranked 0-1-2 by score, labels 0, 1, 0: the relevant document gets a negative gradient (its
    score should go up), the one ranked above it a positive one; the gradients sum to zero.

    >>> g, h = grad_hess([0.3, 0.2, 0.1], [0, 1, 0], [0, 3], norm=False)
    >>> g.round(4).tolist()   # doc 1 vs 0: -(1 - 1/log2(3)) / (1 + e^-0.1); vs 2: -(1/log2(3) - 1/2) / (1 + e^0.1)
    [0.1938, -0.2559, 0.0622]
    >>> bool(abs(g.sum()) < 1e-12), bool((h > 0).all())
    (True, True)
    """
    obj = prepare(labels, group_ptr, weight=weight, sigma=sigma, truncation_level=truncation_level, norm=norm,
                  label_gain=label_gain, mode=mode)
    return compute_fresh(obj, scores, minus_inf=True)  # LightGBM's rule: -inf leaves a document out
