"""Public metric functions over the toolkit's arrays: labels and scores sorted by query, plus ``group_ptr``.

The conventions (gain, ties, queries without relevant documents, relevance threshold, ERR's maximum grade, the
LETOR preset) are documented once, in :mod:`ltr.metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ltr.exceptions import GroupError, LabelRangeError
from ltr.groups import check_group_ptr, resolve_group_ptr
from ltr.metrics import _kernels as K
from ltr.metrics.conventions import PRESETS, Preset, check_labels, discount_table, resolve_convention
from ltr.metrics.registry import ParsedMetric, parse_metric, parse_metrics

__all__ = [
    "aggregate",
    "average_precision",
    "dcg",
    "err",
    "evaluate",
    "evaluate_per_query",
    "ndcg",
    "precision",
    "recall",
    "reciprocal_rank",
]

# Below this many rows one thread is faster than starting a parallel region.
_PARALLEL_MIN_ROWS = 50_000

_GAINS = {"exp2": K.GAIN_EXP2, "linear": K.GAIN_LINEAR}
_TIES = {"stable": K.TIES_STABLE, "pessimistic": K.TIES_PESSIMISTIC, "optimistic": K.TIES_OPTIMISTIC}

Metrics = str | Sequence[str]


def _choice(value: str, options: dict[str, int], what: str) -> int:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{what} must be one of {sorted(options)}, got {value!r}")
    return options[value]


def _flat(a: ArrayLike, what: str) -> NDArray[np.float64]:
    if a is None:  # (made a 1-row array of nan: "y_score has 1" row; trial t62)
        raise TypeError(f"{what} must be a one-dimensional array of numbers, got None")
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a one-dimensional array of numbers ({exc})") from exc
    arr = np.ascontiguousarray(arr) if arr.ndim else arr  # (ascontiguousarray makes a scalar one row)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional (rows sorted by query), got shape {arr.shape}")
    return arr


def _first_bad_row(bad: NDArray[np.bool_], group_ptr: NDArray[np.int64]) -> str:
    row = int(np.flatnonzero(bad)[0])
    q = int(np.searchsorted(group_ptr, row, side="right") - 1)
    return f"row {row} (query index {q})"


def _check_inputs(
    y_true: ArrayLike,
    y_score: ArrayLike,
    group_ptr: ArrayLike | None,
    qid: ArrayLike | None,
    group: ArrayLike | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    labels = _flat(y_true, "y_true")
    scores = _flat(y_score, "y_score")
    if labels.shape != scores.shape:
        raise ValueError(f"y_true has {labels.size} rows but y_score has {scores.size}")
    given = sum(x is not None for x in (group_ptr, qid, group))
    if given != 1:
        raise ValueError(
            "pass exactly one of group_ptr= (offsets), qid= (one query id per row) or group= (query sizes); "
            f"got {given}"
        )
    if group_ptr is not None:
        try:
            ptr = check_group_ptr(group_ptr, labels.size)
        except GroupError as exc:
            # The third positional argument is the offsets; LightGBM users pass query sizes there.
            sizes = np.asarray(group_ptr)
            if sizes.ndim == 1 and sizes.size and sizes.dtype.kind in "iuf" and sizes.sum() == labels.size:
                raise GroupError(f"{exc}; {sizes.tolist()} adds up to the {labels.size} rows: query sizes go in "
                                 f"group= (the third positional argument is group_ptr, the offsets)") from None
            raise
    else:
        ptr = resolve_group_ptr(labels.size, qid=qid, group=group, rows="y_true")
    # NaN has no place in a ranking (it compares false with everything, so the order would be arbitrary):
    # an error, not a silent convention. +-inf scores are fine and rank first/last.
    bad = np.isnan(scores)
    if bad.any():
        raise ValueError(f"y_score contains NaN at {_first_bad_row(bad, ptr)}; rankings need comparable scores")
    bad = ~np.isfinite(labels)
    if bad.any():
        raise ValueError(f"y_true must be finite, got {labels[bad][0]} at {_first_bad_row(bad, ptr)}")
    return labels, scores, ptr


#: ``2.0 ** EXP2_LIMIT`` is the first power of two float64 cannot hold: labels from here up overflow the exp2 gain.
EXP2_LIMIT = 1024
_GAIN_METRICS = (K.DCG, K.NDCG, K.MEAN_NDCG)


def exp2_gain_error(label: float, where: str, names: str, *, python_fix: str, cli_fix: str) -> LabelRangeError:
    """The error for a label at or above :data:`EXP2_LIMIT` under the exp2 gain of the metrics ``names``."""
    return LabelRangeError(
        f"label {label:g} at {where} is beyond the exp2 gain 2^rel - 1 of {names}, which float64 holds only for "
        f"labels below {EXP2_LIMIT} (such labels encode an order, as in MQ2007/8-list, rather than grades)",
        python_fix=python_fix, cli_fix=cli_fix)


def _check_exponential_gains(labels, group_ptr, ideal, ideal_ptr, parsed, gain_code, max_grade) -> None:
    """Refuse what an exponential gain cannot hold in float64 (the metric would come out NaN or 0, not an error):
    labels from 1024 up with the exp2 gain of DCG/NDCG, a ``max_grade`` from 1024 up for ERR (whose labels are
    checked against ``max_grade`` before)."""
    if any(p.spec.code == K.ERR for p in parsed) and max_grade >= EXP2_LIMIT:
        raise LabelRangeError(f"max_grade={max_grade:g} is beyond ERR's gain 2^rel / 2^max_grade, which float64 "
                               f"holds only below {EXP2_LIMIT}",
                               python_fix="leave ERR out of the metrics or map the labels to grades",
                               cli_fix="leave err@k out of --metrics or map the labels to grades")
    exp2 = [p.name for p in parsed if p.spec.code in _GAIN_METRICS and gain_code == K.GAIN_EXP2]
    if not exp2:
        return
    for arr, ptr in ((labels, group_ptr), (ideal, ideal_ptr)):
        if arr.size and arr.max() >= EXP2_LIMIT:  # one pass, no mask, on the path every evaluation takes
            over = arr >= EXP2_LIMIT
            raise exp2_gain_error(arr[np.argmax(over)], _first_bad_row(over, ptr), ", ".join(exp2),
                                  python_fix="pass gain='linear' (gain = rel, as trec_eval's NDCG)",
                                  cli_fix="pass --gain linear (gain = rel, as trec_eval's NDCG)")
    for arr, ptr in ((labels, group_ptr), (ideal, ideal_ptr)):
        found = ndcg_sum_overflow(arr, ptr, parsed)
        if found is not None:
            row, names = found
            raise exp2_sum_error(arr, ptr, row, f"the query at {_first_bad_row(np.arange(arr.size) == row, ptr)}",
                                 names, python_fix="pass gain='linear' (gain = rel, as trec_eval's NDCG)",
                                 cli_fix="pass --gain linear (gain = rel, as trec_eval's NDCG)")


#: Below this label no exp2 DCG overflows: 2^63 gains of less than 2^960 each add up below 2^1023.
_EXP2_SUM_SAFE = 960
_DCG_CEILING = float(np.finfo(np.float64).max) * (1 - 1e-9)


def exp2_dcg_overflow(labels: NDArray[np.float64], group_ptr: NDArray[np.int64], k: int | None) -> int | None:
    """The first row of the first query whose labels, each below :data:`EXP2_LIMIT`, have exp2 gains that add up
    past float64 in its ideal DCG, by which NDCG divides (its top ``k`` labels; all with None), else None. Three
    labels 1023 gave NDCG inf/inf = NaN, and the query left the mean without a word (trial t56); DCG alone is not
    checked (its inf is its value). A sum within 1e-9 of float64's largest counts too: the kernels add in another
    order."""
    if not labels.size or labels.max() < _EXP2_SUM_SAFE:
        return None
    sizes = np.diff(group_ptr)
    for q in np.unique(np.repeat(np.arange(sizes.size), sizes)[labels >= _EXP2_SUM_SAFE]):
        top = np.sort(labels[group_ptr[q]:group_ptr[q + 1]])[::-1][:k]
        with np.errstate(over="ignore"):
            dcg = float(np.sum((np.exp2(top) - 1.0) / np.log2(np.arange(2, top.size + 2))))
        if not dcg < _DCG_CEILING:
            return int(group_ptr[q])
    return None


def ndcg_sum_overflow(labels: NDArray[np.float64], group_ptr: NDArray[np.int64],
                      parsed: list[ParsedMetric]) -> tuple[int, str] | None:
    """:func:`exp2_dcg_overflow` for the NDCG metrics among ``parsed`` (their largest cutoff; DCG alone is not
    checked: its inf is its value): ``(row, the metrics' names)``, or None. One rule for the metrics, the TREC path,
    the command line's file check and the linear ranker's target."""
    normalised = [p for p in parsed if p.spec.code in (K.NDCG, K.MEAN_NDCG)]
    if not normalised:
        return None
    cutoffs = [p.k for p in normalised]
    row = exp2_dcg_overflow(labels, group_ptr, None if None in cutoffs else max(cutoffs))
    return None if row is None else (row, ", ".join(p.name for p in normalised))


def exp2_sum_error(labels, group_ptr, row: int, where: str, names: str, *, python_fix: str,
                   cli_fix: str) -> LabelRangeError:
    """The error for :func:`exp2_dcg_overflow`'s query, named by ``where`` ("the query at FILE:LINE")."""
    q = int(np.searchsorted(group_ptr, row, side="right")) - 1
    top = np.sort(labels[group_ptr[q]:group_ptr[q + 1]])[::-1]
    shown = ", ".join(f"{v:g}" for v in top[:3]) + (", ..." if top.size > 3 and top[3] > 0 else "")
    return LabelRangeError(
        f"labels {shown} of {where}: their exp2 gains 2^rel - 1 add up past what float64 holds in the "
        f"ideal DCG of {names} (which would come out inf/inf = NaN); such labels encode an order, as in "
        "MQ2007/8-list, rather than grades", python_fix=python_fix, cli_fix=cli_fix)


def _run_kernel(
    labels: NDArray[np.float64],
    scores: NDArray[np.float64],
    group_ptr: NDArray[np.int64],
    ideal: NDArray[np.float64],
    ideal_ptr: NDArray[np.int64],
    parsed: list[ParsedMetric],
    *,
    gain: str,
    ties: str,
    no_relevant: float,
    rel_threshold: float,
    max_grade: float,
    preset: Preset = PRESETS["default"],
) -> NDArray[np.float64]:
    """Shared by the array path and the TREC path: ``out[m, q]`` for each ranking metric ``m`` and query ``q``."""
    gain_code = _choice(gain, _GAINS, "gain")
    ties_code = _choice(ties, _TIES, "ties")
    no_relevant = float(no_relevant)
    rel_threshold = float(rel_threshold)
    max_grade = float(max_grade)
    if not math.isfinite(rel_threshold):
        raise ValueError(f"rel_threshold must be finite, got {rel_threshold}")
    if any(p.spec.code == K.ERR for p in parsed):
        if not (math.isfinite(max_grade) and max_grade > 0):
            raise ValueError(f"max_grade must be a positive number, got {max_grade}")
        for arr in (labels, ideal):
            if arr.size and arr.max() > max_grade:
                raise LabelRangeError(
                    f"ERR needs labels <= max_grade={max_grade:g}, got a label {arr.max():g}",
                    python_fix="pass max_grade= the highest grade of the scale",
                    cli_fix="pass --max-grade G, the highest grade of the scale (ltr evaluate, train, cv, "
                            "tune, compare, fuse --fit-weights), or measure something other than err@k")
    _check_exponential_gains(labels, group_ptr, ideal, ideal_ptr, parsed, gain_code, max_grade)
    nq = group_ptr.size - 1
    out = np.empty((len(parsed), nq), dtype=np.float64)
    if nq == 0 or not parsed:
        return out
    # Read-only arrays (a RankingDataset's are) are a different Numba type: copy them rather than compile and
    # cache a second specialization of every kernel.
    same_ideal = ideal is labels
    labels, scores, group_ptr, ideal_ptr = (a if a.flags.writeable else a.copy()
                                            for a in (labels, scores, group_ptr, ideal_ptr))
    ideal = labels if same_ideal else (ideal if ideal.flags.writeable else ideal.copy())
    longest = int(max(np.diff(group_ptr).max(), np.diff(ideal_ptr).max(initial=0)))
    codes, cutoffs = _kernel_codes(parsed, preset)
    if preset.no_relevant_kernels is None:
        groups = [(np.arange(len(parsed)), no_relevant)]
    else:  # the tool's score of a query without relevant documents for its own metrics, the default elsewhere
        own = np.isin(codes, [getattr(K, name) for name in preset.no_relevant_kernels])
        groups = [(np.flatnonzero(own), no_relevant), (np.flatnonzero(~own), 0.0)]
    threads = numba.get_num_threads()
    parallel = threads > 1 and nq > 1 and labels.size + ideal.size >= _PARALLEL_MIN_ROWS
    for rows, value in groups:
        if rows.size == 0:
            continue
        part = out if rows.size == len(parsed) else np.empty((rows.size, nq), dtype=np.float64)
        args = (
            labels, scores, group_ptr, ideal, ideal_ptr, codes[rows], cutoffs[rows], np.int64(gain_code),
            np.int64(ties_code), rel_threshold, float(value), max_grade, discount_table(preset.discount, longest),
            part,
        )
        if parallel:  # (several threads at once abort the process under Numba's workqueue layer: they take turns)
            from ltr.threads import workqueue_turn

            with workqueue_turn():
                K.evaluate_groups(*args, np.int64(8 * threads))
        else:
            K.evaluate_groups_serial(*args)
        if part is not out:
            out[rows] = part
    return out


def _kernel_codes(parsed: list[ParsedMetric], preset: Preset) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Kernel code and cutoff (0: the whole list) of each metric, with the preset's denominators: ``map@k`` over
    min(k, R) (LightGBM) or over the whole list (RankLib ignores k), ``p@k`` over min(k, n) (RankLib)."""
    codes = np.array([p.spec.code for p in parsed], dtype=np.int64)
    cutoffs = np.array([p.k or 0 for p in parsed], dtype=np.int64)
    for i, p in enumerate(parsed):
        if p.spec.code == K.AP and p.k is not None:
            if preset.map_at_k == "min_k_relevant":
                codes[i] = K.AP_MIN_K
            elif preset.map_at_k == "whole_list":
                cutoffs[i] = 0
        elif p.spec.code == K.PRECISION and preset.p_at_k == "min_k_n":
            codes[i] = K.PRECISION_MIN_N
    return codes, cutoffs


def _segment_counts(mask: NDArray[np.bool_], ptr: NDArray[np.int64]) -> NDArray[np.int64]:
    # Per-query number of True rows; a cumulative sum handles empty queries (np.add.reduceat does not).
    c = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
    return c[ptr[1:]] - c[ptr[:-1]]


def _count(
    name: str,
    labels: NDArray[np.float64],
    group_ptr: NDArray[np.int64],
    ideal: NDArray[np.float64],
    ideal_ptr: NDArray[np.int64],
    rel_threshold: float,
) -> NDArray[np.int64]:
    """trec_eval's per-query counts: num_q (1), num_ret (ranked rows), num_rel (relevant in the judged list),
    num_rel_ret (relevant among the ranked rows)."""
    if name == "num_q":
        return np.ones(group_ptr.size - 1, dtype=np.int64)
    if name == "num_ret":
        return np.diff(group_ptr).astype(np.int64)
    if name == "num_rel":
        return _segment_counts(ideal >= rel_threshold, ideal_ptr)
    return _segment_counts(labels >= rel_threshold, group_ptr)


def per_query_with_ideal(
    labels: NDArray[np.float64],
    scores: NDArray[np.float64],
    group_ptr: NDArray[np.int64],
    ideal: NDArray[np.float64],
    ideal_ptr: NDArray[np.int64],
    parsed: list[ParsedMetric],
    *,
    gain: str,
    ties: str,
    no_relevant: float,
    rel_threshold: float,
    max_grade: float,
    preset: Preset = PRESETS["default"],
) -> dict[str, NDArray[np.float64] | NDArray[np.int64]]:
    """Every parsed metric per query: ranking metrics from the kernels, counts from the offsets (the one engine
    behind :func:`evaluate_per_query` and :func:`ltr.metrics.evaluate_run_per_query`, whose ideal lists differ).

    ``preset`` (:data:`ltr.metrics.conventions.PRESETS`) sets the discount and the P@k / MAP@k denominators, and
    applies the LETOR script's rule that NDCG@k is 0 for a query with fewer than k documents (the script computes
    NDCG only at positions that exist and sums a missing one as 0) and RankLib's single-precision RR.
    """
    _choice(gain, _GAINS, "gain")
    _choice(ties, _TIES, "ties")
    ranked = [p for p in parsed if not p.spec.count]
    out = _run_kernel(
        labels, scores, group_ptr, ideal, ideal_ptr, ranked, gain=gain, ties=ties, no_relevant=no_relevant,
        rel_threshold=rel_threshold, max_grade=max_grade, preset=preset,
    )
    sizes = np.diff(group_ptr)
    rows = {p.name: i for i, p in enumerate(ranked)}
    result: dict[str, NDArray[np.float64] | NDArray[np.int64]] = {}
    for p in parsed:
        if p.spec.count:
            result[p.name] = _count(p.spec.name, labels, group_ptr, ideal, ideal_ptr, float(rel_threshold))
            continue
        values = out[rows[p.name]]
        if preset.short_ndcg_zero and p.spec.code == K.NDCG and p.k is not None:
            values[sizes < p.k] = 0.0
        elif preset.rr_single and p.spec.code == K.RR:
            values = values.astype(np.float32).astype(np.float64)  # RankLib's 1.0f / rank
        result[p.name] = values
    return result


def _mean(values: NDArray[np.float64]) -> float:
    # no_relevant=nan excludes those queries from the mean; a mean over no query at all is nan (no warning).
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else math.nan


def aggregate(per_query: Mapping[str, ArrayLike], query_weights: ArrayLike | None = None) -> dict[str, float | int]:
    """Summarise per-query values as trec_eval's ``all`` line does: counts summed, every other metric averaged.

    Parameters
    ----------
    per_query : mapping of str to array-like, or pandas.DataFrame
        Per-query values keyed by canonical metric name, as :func:`evaluate_per_query` and
        :func:`ltr.metrics.evaluate_run_per_query` return them.
    query_weights : array-like, optional
        One weight per query: the means are weighted by them, as LightGBM averages its NDCG and MAP over a Dataset
        with weights (each query's weight the mean of its rows', :func:`query_weights`). Counts are still summed.

    Returns
    -------
    dict of str to float or int
        ``num_q``, ``num_ret``, ``num_rel`` and ``num_rel_ret``: the sum over queries (an int; ``num_q`` is
        so the number of queries). Others: the mean over queries, leaving NaN values out (only
        ``no_relevant=nan`` produces them); NaN when no value is left.

    Examples
    --------
    >>> aggregate({"map": [0.5, 1.0], "num_rel": [3, 1], "num_q": [1, 1]})
    {'map': 0.75, 'num_rel': 4, 'num_q': 2}
    """
    out: dict[str, float | int] = {}
    w = None if query_weights is None else np.asarray(query_weights, dtype=np.float64)
    for name in per_query:
        values = np.asarray(per_query[name])
        if parse_metric(name).spec.count:
            out[name] = int(values.sum())
        elif w is None:
            out[name] = _mean(values.astype(np.float64))
        else:
            if w.shape != values.shape:
                raise ValueError(f"query_weights has {w.size} weights for {values.size} queries")
            v = values.astype(np.float64)
            kept = ~np.isnan(v)
            total = float(w[kept].sum())
            out[name] = float(np.dot(v[kept], w[kept]) / total) if total > 0 else float("nan")
    return out


def lightgbm_weighted_means(per_query: Mapping[str, ArrayLike], query_weights: ArrayLike,
                            no_relevant: ArrayLike) -> dict[str, float | int]:
    """The means LightGBM reports over a Dataset with weights (``--convention lightgbm``), for its two metrics: each
    query's NDCG or MAP times its weight (:func:`query_weights`), over the sum of the weights; but in NDCG a query
    without relevant documents (``no_relevant`` true) adds its 1 unweighted, as LightGBM's ``NDCGMetric::Eval``
    does (its MAP weights it). Metrics LightGBM lacks (MRR, P@k, ERR, ...) keep the plain mean; counts are summed.
    Weights that sum to 0 give what LightGBM's division gives (inf or nan), without a warning.

    >>> lightgbm_weighted_means({"ndcg@10": [0.5, 1.0], "map": [0.5, 1.0]}, [3.0, 1.0], [False, True])
    {'ndcg@10': 0.625, 'map': 0.625}
    >>> lightgbm_weighted_means({"ndcg@10": [0.5, 1.0], "mrr": [0.5, 1.0]}, [1.0, 3.0], [False, True])
    {'ndcg@10': 0.375, 'mrr': 0.75}
    """
    w = np.asarray(query_weights, dtype=np.float64)
    plain = np.asarray(no_relevant, dtype=bool)
    out = aggregate(per_query)
    for name in per_query:
        code = parse_metric(name).spec.code
        if code not in (K.NDCG, K.MEAN_NDCG, K.AP, K.AP_MIN_K):
            continue
        v = np.asarray(per_query[name], dtype=np.float64)
        unweighted = plain if code in (K.NDCG, K.MEAN_NDCG) else np.zeros_like(plain)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[name] = float((np.dot(v[~unweighted], w[~unweighted]) + v[unweighted].sum()) / w.sum())
    return out


def query_weights(row_weights: ArrayLike, group_ptr: ArrayLike) -> NDArray[np.float64]:
    """Each query's weight as LightGBM derives it from row weights (``Metadata::CalculateQueryWeights``): the mean
    of its rows' weights, summed in order and divided in float32 (its ``label_t``), as there.

    >>> query_weights([1.0, 3.0, 2.0], [0, 2, 3]).tolist()
    [2.0, 2.0]
    """
    w = np.asarray(row_weights, dtype=np.float32)
    ptr = np.asarray(group_ptr, dtype=np.int64)
    out = np.empty(ptr.size - 1, dtype=np.float32)
    for q in range(out.size):  # np.add.accumulate adds in order (reduce may pair the terms)
        a, b = ptr[q], ptr[q + 1]
        out[q] = np.add.accumulate(w[a:b])[-1] / np.float32(b - a)
    return out.astype(np.float64)


def evaluate_per_query(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    group_ptr: ArrayLike | None = None,
    qid: ArrayLike | None = None,
    group: ArrayLike | None = None,
    metrics: Metrics = ("ndcg@10",),
    gain: str = "exp2",
    ties: str = "stable",
    no_relevant: float = 0.0,
    rel_threshold: float = 1.0,
    max_grade: float = 4.0,
    convention: str = "default",
) -> dict[str, NDArray[np.float64] | NDArray[np.int64]]:
    """Per-query values of several metrics, ranking each query once.

    Parameters
    ----------
    y_true : array-like of shape (n_rows,)
        Relevance labels, rows sorted by query.
    y_score : array-like of shape (n_rows,)
        Model scores; higher ranks first. NaN raises ``ValueError``; ``-inf`` ranks last.
    group_ptr, qid, group : array-like, exactly one
        Query offsets (length ``n_queries + 1``), one query id per row (rows of a query contiguous), or query
        sizes.
    metrics : str or sequence of str, default=("ndcg@10",)
        Names parsed by :func:`ltr.metrics.parse_metric` (``"ndcg@10"``, ``"map"``, ``"mrr@10"``, ``"p@5"``,
        ``"mean_ndcg"``, ``"bpref"``, ``"rprec"``, ``"success@1"``, ``"num_rel"``...); one string may hold several,
        separated by commas (``"ndcg@10,map"``, the command line's spelling). Every row counts as a judged,
        retrieved document (so ``num_ret`` is the query's size and ``num_rel_ret`` equals ``num_rel``).
    gain, ties, no_relevant, rel_threshold, max_grade
        Conventions, documented in :mod:`ltr.metrics`.
    convention : {"default", "letor", "lightgbm", "ranklib"}, default="default"
        Another tool's rules (see :mod:`ltr.metrics`): ``"letor"`` the official LETOR 3.0/4.0 evaluation script
        (labels 0, 1 or 2), ``"lightgbm"`` LightGBM's ``ndcg``/``map`` evaluation (no_relevant 1, ``map@k`` over
        min(k, R)), ``"ranklib"`` RankLib's scorers (``p@k`` over min(k, n), ``map@k`` over the whole list); the
        last two take integer labels 0..30. ``gain``, ``ties``, ``no_relevant`` and ``rel_threshold`` left at
        their defaults take the tool's values; another value than the tool's raises ``ValueError``.

    Returns
    -------
    dict of str to ndarray of shape (n_queries,)
        Keyed by canonical metric name, in the order given (duplicates after resolving aliases once); float64,
        except the counts (``num_q``, ``num_ret``, ``num_rel``, ``num_rel_ret``), int64.

    Examples
    --------
    >>> out = evaluate_per_query([2, 0, 1, 0, 1], [0.9, 0.8, 0.1, 0.3, 0.7], group=[3, 2], metrics=["mrr", "P@2"])
    >>> out["mrr"].tolist(), out["p@2"].tolist()
    ([1.0, 1.0], [0.5, 0.5])

    With the LETOR preset, NDCG@3 of the 2-document query is 0:

    >>> import math
    >>> evaluate_per_query([2, 0, 1, 0, 1], [0.9, 0.8, 0.1, 0.3, 0.7], group=[3, 2], metrics="ndcg@3",
    ...                    convention="letor")["ndcg@3"].tolist()
    [0.9077, 0.0]
    >>> (3 + 0 + 1 / math.log2(3)) / (3 + 1 + 0)  # gains 3, 0, 1 ranked; ideal 3, 1, 0; positions 1-2 undiscounted
    0.9077
    """
    labels, scores, ptr = _check_inputs(y_true, y_score, group_ptr, qid, group)
    parsed = parse_metrics(metrics)
    rules = resolve_convention(convention, gain=gain, ties=ties, no_relevant=no_relevant,
                               rel_threshold=rel_threshold)
    check_labels(rules.preset, labels, ptr)
    conventions = dict(gain=rules.gain, ties=rules.ties, no_relevant=rules.no_relevant,
                       rel_threshold=rules.rel_threshold, max_grade=max_grade, preset=rules.preset)
    bprefs = [p for p in parsed if p.spec.code == K.BPREF]
    if not bprefs or not (labels < 0).any():
        return per_query_with_ideal(labels, scores, ptr, labels, ptr, parsed, **conventions)
    # A negative label (LETOR's -1, MQ2007/8-semi's unjudged rows kept) is no judgment: bpref, the measure of
    # incomplete judgments, leaves such rows out of the ranking and the judged list, as evaluate_run and trec_eval
    # leave out a negative grade; the other metrics count them as non-relevant, as trec_eval does.
    results = per_query_with_ideal(labels, scores, ptr, labels, ptr, [p for p in parsed if p not in bprefs],
                                   **conventions)
    judged = labels >= 0
    sizes = np.bincount(np.repeat(np.arange(ptr.size - 1), np.diff(ptr))[judged], minlength=ptr.size - 1)
    kept_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    kept = np.ascontiguousarray(labels[judged])
    results.update(per_query_with_ideal(kept, np.ascontiguousarray(scores[judged]), kept_ptr, kept, kept_ptr, bprefs,
                                        **conventions))
    return {p.name: results[p.name] for p in parsed}


def evaluate(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    group_ptr: ArrayLike | None = None,
    qid: ArrayLike | None = None,
    group: ArrayLike | None = None,
    metrics: Metrics = ("ndcg@10",),
    gain: str = "exp2",
    ties: str = "stable",
    no_relevant: float = 0.0,
    rel_threshold: float = 1.0,
    max_grade: float = 4.0,
    convention: str = "default",
    weight: ArrayLike | None = None,
) -> dict[str, float | int]:
    """Mean over queries of several metrics (see :func:`evaluate_per_query` for the parameters).

    Queries whose value is NaN (only possible with ``no_relevant=nan``) are left out of the mean; the mean over
    no query is NaN. Counts are summed instead (:func:`aggregate`).

    ``weight``: row weights (a LightGBM ``.weight`` file's), with ``convention="lightgbm"`` only: the NDCG and MAP
    means are then weighted by query as LightGBM weighs them over a Dataset with weights
    (:func:`lightgbm_weighted_means`); other conventions count each query once, and refuse them.

    Returns
    -------
    dict of str to float or int
        Keyed by canonical metric name; ints for the counts.

    Examples
    --------
    >>> evaluate([2, 0, 1, 0, 1], [0.9, 0.8, 0.1, 0.3, 0.7], qid=[1, 1, 1, 2, 2], metrics=["map", "recall@1"])
    {'map': 0.916666, 'recall@1': 0.75}
    >>> evaluate([2, 0, 1, 0, 1], [0.9, 0.8, 0.1, 0.3, 0.7], qid=[1, 1, 1, 2, 2], metrics=["num_q", "num_rel"])
    {'num_q': 2, 'num_rel': 3}
    """
    if weight is not None and convention != "lightgbm":
        raise ValueError(f"weight= weighs the means by query as LightGBM does, with convention='lightgbm' only; "
                         f"convention {convention!r} counts each query once")
    per_query = evaluate_per_query(
        y_true, y_score, group_ptr=group_ptr, qid=qid, group=group, metrics=metrics, gain=gain, ties=ties,
        no_relevant=no_relevant, rel_threshold=rel_threshold, max_grade=max_grade, convention=convention,
    )
    if weight is None:
        return aggregate(per_query)
    y = np.asarray(y_true, dtype=np.float64)
    ptr = np.asarray(group_ptr, dtype=np.int64) if group_ptr is not None else resolve_group_ptr(y.size, qid=qid,
                                                                                                  group=group,
                                                                                                  rows="y_true")
    w = np.asarray(weight, dtype=np.float64)
    if w.shape != y.shape:
        raise ValueError(f"weight must hold one weight per row ({y.size}), got shape {w.shape}")
    without = np.array([not (y[a:b] > 0).any() for a, b in zip(ptr[:-1], ptr[1:])], dtype=bool)
    return lightgbm_weighted_means(per_query, query_weights(w, ptr), without)


def _one(
    family: str,
    k: int | None,
    y_true: ArrayLike,
    y_score: ArrayLike,
    group_ptr: ArrayLike | None,
    qid: ArrayLike | None,
    group: ArrayLike | None,
    **conventions: object,
) -> NDArray[np.float64]:
    if k is not None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"k must be an int or None, got {type(k).__name__}")
        if k < 1:
            # Said here for every function alike (a negative k would otherwise read as an unknown metric name).
            raise ValueError(f"k must be a positive integer (the cutoff), got {int(k)}")
        name = f"{family}@{int(k)}"
    else:
        name = family
    parsed = parse_metric(name)
    return evaluate_per_query(
        y_true, y_score, group_ptr=group_ptr, qid=qid, group=group, metrics=(parsed.name,), **conventions
    )[parsed.name]


def ndcg(
    y_true: ArrayLike,
    y_score: ArrayLike,
    group_ptr: ArrayLike | None = None,
    *,
    qid: ArrayLike | None = None,
    group: ArrayLike | None = None,
    k: int | None = None,
    gain: str = "exp2",
    ties: str = "stable",
    no_relevant: float = 0.0,
    convention: str = "default",
) -> NDArray[np.float64]:
    r"""Normalized discounted cumulative gain of each query.

    .. math::

        \mathrm{DCG@k} = \sum_{i=1}^{\min(k, n)} \frac{g(\ell_{\pi(i)})}{\log_2(i + 1)}, \qquad
        \mathrm{nDCG@k} = \frac{\mathrm{DCG@k}}{\mathrm{IDCG@k}}

    with :math:`\pi` the ranking by score, :math:`g(\ell) = 2^\ell - 1` (``gain="exp2"``) or :math:`\ell`
    (``"linear"``), and IDCG@k the DCG@k of the labels sorted in decreasing order. A query with IDCG = 0 scores
    ``no_relevant``. Järvelin and Kekäläinen, "Cumulated gain-based evaluation of IR techniques", ACM TOIS 20(4),
    2002; the exp2 gain is Burges et al., "Learning to rank using gradient descent", ICML 2005.

    Parameters
    ----------
    y_true, y_score : array-like of shape (n_rows,)
        Labels and scores, rows sorted by query.
    group_ptr, qid, group : array-like, exactly one
        Query offsets, per-row query ids, or query sizes.
    k : int or None, default=None
        Cutoff; None uses the whole list.
    gain, ties, no_relevant
        Conventions, see :mod:`ltr.metrics`.
    convention : {"default", "letor", "lightgbm", "ranklib"}, default="default"
        ``"letor"``: the LETOR script's discount (positions 1 and 2 undiscounted, then 1/log2(r)), and NDCG@k = 0
        for a query with fewer than k documents; ``"lightgbm"``: LightGBM's ``ndcg@k`` (a query without relevant
        documents scores 1); ``"ranklib"``: RankLib's ``NDCG@k`` (see :mod:`ltr.metrics`).

    Returns
    -------
    ndarray of float64, shape (n_queries,)

    Examples
    --------
    Labels 3, 2, 0 ranked 2, 3, 0 (linear gain): DCG = 2 + 3/log2(3), IDCG = 3 + 2/log2(3).

    >>> import math
    >>> ndcg([3, 2, 0], [0.2, 0.9, 0.1], [0, 3], gain="linear")
    array([0.9134])
    >>> (2 + 3 / math.log2(3)) / (3 + 2 / math.log2(3))
    0.9134
    """
    return _one("ndcg", k, y_true, y_score, group_ptr, qid, group, gain=gain, ties=ties, no_relevant=no_relevant,
                convention=convention)


def dcg(
    y_true: ArrayLike,
    y_score: ArrayLike,
    group_ptr: ArrayLike | None = None,
    *,
    qid: ArrayLike | None = None,
    group: ArrayLike | None = None,
    k: int | None = None,
    gain: str = "exp2",
    ties: str = "stable",
    convention: str = "default",
) -> NDArray[np.float64]:
    r"""Discounted cumulative gain of each query (unnormalized; 0 for a query without gain).

    .. math::

        \mathrm{DCG@k} = \sum_{i=1}^{\min(k, n)} \frac{g(\ell_{\pi(i)})}{\log_2(i + 1)}

    with :math:`g(\ell) = 2^\ell - 1` (``gain="exp2"``) or :math:`\ell` (``"linear"``); labels <= 0 have no
    gain. Järvelin and Kekäläinen, ACM TOIS 20(4), 2002.

    Parameters
    ----------
    y_true, y_score : array-like of shape (n_rows,)
    group_ptr, qid, group : array-like, exactly one
    k : int or None, default=None
    gain, ties
        See :mod:`ltr.metrics`.
    convention : {"default", "letor", "lightgbm", "ranklib"}, default="default"
        ``"letor"``: the LETOR script's discount (positions 1 and 2 undiscounted, then 1/log2(r));
        ``"lightgbm"``, ``"ranklib"``: the same values as by default, integer labels 0..30 only.

    Returns
    -------
    ndarray of float64, shape (n_queries,)

    Examples
    --------
    Ranked labels 2, 3, 0 with exp2 gain: 3 + 7/log2(3).

    >>> import math
    >>> dcg([3, 2, 0], [0.2, 0.9, 0.1], [0, 3])
    array([7.4165])
    >>> 3 + 7 / math.log2(3)
    7.4165
    """
    return _one("dcg", k, y_true, y_score, group_ptr, qid, group, gain=gain, ties=ties, convention=convention)


def average_precision(
    y_true: ArrayLike,
    y_score: ArrayLike,
    group_ptr: ArrayLike | None = None,
    *,
    qid: ArrayLike | None = None,
    group: ArrayLike | None = None,
    k: int | None = None,
    ties: str = "stable",
    no_relevant: float = 0.0,
    rel_threshold: float = 1.0,
    convention: str = "default",
) -> NDArray[np.float64]:
    r"""Average precision of each query (its mean over queries is MAP).

    .. math::

        \mathrm{AP@k} = \frac{1}{R} \sum_{i=1}^{\min(k, n)} \mathrm{rel}_{\pi(i)} \, \mathrm{P@}i

    where :math:`\mathrm{rel} = [\ell \ge \text{rel\_threshold}]` and :math:`R` is the number of relevant
    documents of the query (all of them, not only those in the top k, as trec_eval's ``map`` and ``map_cut_k``).
    A query with R = 0 scores ``no_relevant``. Buckley and Voorhees, "Evaluating evaluation measure stability",
    SIGIR 2000; trec_eval.

    Parameters
    ----------
    y_true, y_score : array-like of shape (n_rows,)
    group_ptr, qid, group : array-like, exactly one
    k : int or None, default=None
    ties, no_relevant, rel_threshold
        See :mod:`ltr.metrics`.
    convention : {"default", "letor", "lightgbm", "ranklib"}, default="default"
        ``"letor"`` checks the labels are 0, 1, 2 (the script's); the values are the same as by default.
        ``"lightgbm"``: LightGBM's ``map@k``, divided by min(k, R) instead of R, and 1 for a query without
        relevant documents. ``"ranklib"``: RankLib's ``MAP``, whose APScorer ignores k (AP of the whole list).

    Returns
    -------
    ndarray of float64, shape (n_queries,)

    Examples
    --------
    Relevant documents at ranks 1 and 3: (1/1 + 2/3) / 2.

    >>> average_precision([1, 0, 1], [0.9, 0.5, 0.1], [0, 3])
    array([0.8333])
    >>> (1 / 1 + 2 / 3) / 2
    0.8333
    """
    return _one(
        "map", k, y_true, y_score, group_ptr, qid, group, ties=ties, no_relevant=no_relevant,
        rel_threshold=rel_threshold, convention=convention,
    )


def reciprocal_rank(
    y_true: ArrayLike,
    y_score: ArrayLike,
    group_ptr: ArrayLike | None = None,
    *,
    qid: ArrayLike | None = None,
    group: ArrayLike | None = None,
    k: int | None = None,
    ties: str = "stable",
    no_relevant: float = 0.0,
    rel_threshold: float = 1.0,
    convention: str = "default",
) -> NDArray[np.float64]:
    r"""Reciprocal rank of the first relevant document of each query (its mean is MRR).

    .. math::

        \mathrm{RR@k} = \frac{1}{\min\{i \le k : \ell_{\pi(i)} \ge \text{rel\_threshold}\}}
        \quad (0 \text{ if none in the top } k)

    A query without relevant documents scores ``no_relevant``. Voorhees, "The TREC-8 question answering track
    report", TREC 1999; trec_eval's ``recip_rank``.

    Parameters
    ----------
    y_true, y_score : array-like of shape (n_rows,)
    group_ptr, qid, group : array-like, exactly one
    k : int or None, default=None
    ties, no_relevant, rel_threshold
        See :mod:`ltr.metrics`.
    convention : {"default", "letor", "lightgbm", "ranklib"}, default="default"
        A preset's ties, relevance and no-relevant score (see :mod:`ltr.metrics`): ``"lightgbm"`` scores a query
        without relevant documents 1, ``"ranklib"`` rounds RR to single precision as RankLib's ``1.0f / rank``.

    Returns
    -------
    ndarray of float64, shape (n_queries,)

    Examples
    --------
    The first relevant document is at rank 2: 1/2.

    >>> reciprocal_rank([0, 1, 1], [0.9, 0.5, 0.1], [0, 3])
    array([0.5])
    """
    return _one(
        "mrr", k, y_true, y_score, group_ptr, qid, group, ties=ties, no_relevant=no_relevant,
        rel_threshold=rel_threshold, convention=convention,
    )


def precision(
    y_true: ArrayLike,
    y_score: ArrayLike,
    group_ptr: ArrayLike | None = None,
    *,
    k: int,
    qid: ArrayLike | None = None,
    group: ArrayLike | None = None,
    ties: str = "stable",
    no_relevant: float = 0.0,
    rel_threshold: float = 1.0,
    convention: str = "default",
) -> NDArray[np.float64]:
    r"""Precision at k of each query.

    .. math::

        \mathrm{P@k} = \frac{1}{k} \sum_{i=1}^{\min(k, n)} [\ell_{\pi(i)} \ge \text{rel\_threshold}]

    The denominator is k even when the query has fewer than k documents (trec_eval's ``P_k``, ranx, ir_measures).
    A query without relevant documents scores ``no_relevant``. Manning, Raghavan and Schütze, "Introduction to
    Information Retrieval", 2008, section 8.4; trec_eval.

    Parameters
    ----------
    y_true, y_score : array-like of shape (n_rows,)
    group_ptr, qid, group : array-like, exactly one
    k : int
        Cutoff (required).
    ties, no_relevant, rel_threshold
        See :mod:`ltr.metrics`.
    convention : {"default", "letor", "lightgbm", "ranklib"}, default="default"
        ``"letor"`` checks the labels are 0, 1, 2 (the script's); the values are the same as by default.
        ``"ranklib"``: RankLib's ``P@k``, divided by min(k, n) for a query of n documents; ``"lightgbm"``
        (which has no precision metric): 1 for a query without relevant documents.

    Returns
    -------
    ndarray of float64, shape (n_queries,)

    Examples
    --------
    One relevant document in the top 2: 1/2.

    >>> precision([0, 1, 1], [0.9, 0.5, 0.1], [0, 3], k=2)
    array([0.5])
    """
    return _one(
        "p", k, y_true, y_score, group_ptr, qid, group, ties=ties, no_relevant=no_relevant,
        rel_threshold=rel_threshold, convention=convention,
    )


def recall(
    y_true: ArrayLike,
    y_score: ArrayLike,
    group_ptr: ArrayLike | None = None,
    *,
    qid: ArrayLike | None = None,
    group: ArrayLike | None = None,
    k: int | None = None,
    ties: str = "stable",
    no_relevant: float = 0.0,
    rel_threshold: float = 1.0,
    convention: str = "default",
) -> NDArray[np.float64]:
    r"""Recall at k of each query.

    .. math::

        \mathrm{Recall@k} = \frac{1}{R} \sum_{i=1}^{\min(k, n)} [\ell_{\pi(i)} \ge \text{rel\_threshold}]

    with R the number of relevant documents of the query. A query with R = 0 scores ``no_relevant``. Manning,
    Raghavan and Schütze, "Introduction to Information Retrieval", 2008, section 8.3; trec_eval's ``recall_k``.

    Parameters
    ----------
    y_true, y_score : array-like of shape (n_rows,)
    group_ptr, qid, group : array-like, exactly one
    k : int or None, default=None
    ties, no_relevant, rel_threshold
        See :mod:`ltr.metrics`.
    convention : {"default", "letor", "lightgbm", "ranklib"}, default="default"
        A preset's ties, relevance and no-relevant score (see :mod:`ltr.metrics`; ``"lightgbm"`` scores a query
        without relevant documents 1). Neither LightGBM nor RankLib has a recall metric: the definition is the one
        above.

    Returns
    -------
    ndarray of float64, shape (n_queries,)

    Examples
    --------
    One of two relevant documents in the top 2: 1/2.

    >>> recall([0, 1, 1], [0.9, 0.5, 0.1], [0, 3], k=2)
    array([0.5])
    """
    return _one(
        "recall", k, y_true, y_score, group_ptr, qid, group, ties=ties, no_relevant=no_relevant,
        rel_threshold=rel_threshold, convention=convention,
    )


def err(
    y_true: ArrayLike,
    y_score: ArrayLike,
    group_ptr: ArrayLike | None = None,
    *,
    qid: ArrayLike | None = None,
    group: ArrayLike | None = None,
    k: int | None = None,
    ties: str = "stable",
    no_relevant: float = 0.0,
    max_grade: float = 4.0,
    convention: str = "default",
) -> NDArray[np.float64]:
    r"""Expected reciprocal rank of each query under the cascade model.

    .. math::

        \mathrm{ERR@k} = \sum_{r=1}^{\min(k, n)} \frac{1}{r} R_{\pi(r)} \prod_{i=1}^{r-1} (1 - R_{\pi(i)}),
        \qquad R = \frac{2^{\ell} - 1}{2^{\ell_{\max}}}

    with :math:`\ell_{\max}` = ``max_grade`` (4 by default, as the TREC Web track's ``gdeval.pl`` that
    ir_measures runs, and the 0-4 scale of MSLR and Yahoo! LTR). A query without any positive label scores
    ``no_relevant``. Chapelle, Metzler, Zhang and Grinspan, "Expected reciprocal rank for graded relevance",
    CIKM 2009.

    Parameters
    ----------
    y_true, y_score : array-like of shape (n_rows,)
    group_ptr, qid, group : array-like, exactly one
    k : int or None, default=None
    ties, no_relevant, max_grade
        See :mod:`ltr.metrics`. A label above ``max_grade`` raises ``ValueError``.
    convention : {"default", "letor", "lightgbm", "ranklib"}, default="default"
        A preset's ties, labels and no-relevant score (see :mod:`ltr.metrics`). ``"ranklib"`` is RankLib's
        ERRScorer: the same formula, with ``max_grade`` its ``-gmax`` (4 by default in both).

    Returns
    -------
    ndarray of float64, shape (n_queries,)

    Examples
    --------
    Ranked labels 2, 0, 1 with max_grade 2: R = 3/4, 0, 1/4.

    >>> err([1, 2, 0], [0.1, 0.9, 0.5], [0, 3], max_grade=2)
    array([0.7708])
    >>> 3 / 4 + 0 + (1 / 4) * (1 - 3 / 4) * (1 - 0) / 3
    0.7708
    """
    return _one("err", k, y_true, y_score, group_ptr, qid, group, ties=ties, no_relevant=no_relevant,
                max_grade=max_grade, convention=convention)
