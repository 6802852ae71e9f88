r"""A linear ranker trained by coordinate ascent directly on the target metric (``Ranker(engine="linear")``).

The model scores a document by :math:`s(x) = \sum_j w_j x_j` over its features (after the ranker's ``normalize``),
and the weights are chosen to maximise a ranking metric on the training queries itself (NDCG@10, MAP, ...), not a
surrogate loss. The search is Metzler and Croft's coordinate ascent as RankLib implements it (``-ranker 4``):

1. start from uniform weights :math:`w_j = 1 / F`;
2. visit the features in a random order; for feature :math:`j` try :math:`w_j + t` for the steps
   :math:`t_i = \delta (1 + c + c^2 + \dots + c^i)`, :math:`i < n_{steps}`, with :math:`\delta = 0.001` (or
   ``step_base`` :math:`\cdot |w_j|` when :math:`|w_j| < 0.002`) and scale :math:`c`, first upwards, then (if
   nothing improved) downwards, then :math:`w_j = 0`; keep the first best step that beats the current objective,
   then rescale the weights to :math:`\sum_j |w_j| = 1` (the ranking does not change);
3. repeat passes over the features until a pass improves the objective by less than ``tolerance`` or not at all
   (a pass that accepted no step leaves the weights unchanged, so another would fail the same way);
4. do this ``n_restarts`` times (each with its own feature orders) and keep the best restart: by the first
   validation set's metric when one is given (RankLib's ``-validate``), else by the training objective.

The objective is the metric's mean over the training queries (weighted by query weights, when given) minus, with
``reg > 0``, ``reg`` times the Euclidean distance between the L1-normalised weights and the starting weights
(RankLib's ``-reg``: regularisation toward the starting point). Each accepted step strictly increases it, so the
training objective never decreases across passes. The metric is evaluated by Numba kernels
(:mod:`ltr.rankers._coordinate_ascent`) on incrementally updated scores :math:`s + t x_j`; its conventions are
:func:`ltr.metrics.evaluate`'s defaults (gain 2^l - 1, equal scores in input order, a query with nothing to find
scores 0), so the training metric reported equals what :mod:`ltr.metrics` computes on the model's scores
(``ltr train --gain linear`` passes its gain on; another tool's ``--convention`` is refused, as it would report a
metric other than the one trained).

Parameters (``engine_params`` of :class:`ltr.Ranker`; RankLib's defaults unless said otherwise)
-----------------------------------------------------------------------------------------------
``n_restarts`` (5, RankLib ``-r``), ``n_steps`` (25, RankLib ``-i``: steps tried per direction), ``step_base``
(0.05), ``step_scale`` (2.0), ``tolerance`` (0.001, RankLib ``-tolerance``), ``reg`` (0.0: none; RankLib's
``-reg`` slack), ``max_passes`` (100; RankLib has no cap), ``standardize`` (True), ``gain`` (``"exp2"`` or
``"linear"``, for NDCG and DCG). ``n_restarts``, ``n_steps`` and ``max_passes`` are at most 1000. The search's own
stopping replaces early stopping: ``early_stopping_rounds`` and
``early_stopping_metric`` are refused (RankLib's ``-metric2t``, the metric trained, is ``objective``; ``-validate`` is
an ``eval_set``, whose first set chooses the restart by that metric). RankLib's ``-norm`` is the ranker's
``normalize`` (``zscore`` and ``sum`` as RankLib's; RankLib 2.10's ``linear`` is ``minmax`` but for a feature
negative throughout a query: see :mod:`ltr.rankers.normalize`). RankLib's default ``-metric2t`` is ERR@10; here
``objective="lambdarank"``, the default, means NDCG@10.

Where this differs from RankLib 2.x, and why
---------------------------------------------
- The search runs on standardised features (``standardize=True``: weights on :math:`x_j / \sigma_j`, with
  :math:`\sigma_j` the training standard deviation; the stored weights are mapped back, so the model scores the
  raw features): RankLib's steps and uniform start are absolute, so a feature on a scale of thousands (BM25 sums,
  document lengths) drowns the others unless the user normalises. ``standardize=False`` searches as RankLib.
- Stopping: after a pass that improved the objective by less than ``tolerance`` (Metzler and Croft). RankLib
  compares the improvement since the *start of the restart* with the tolerance, and otherwise keeps passing until
  ``F - 1`` consecutive features fail, which runs many passes of tiny gains on the training queries: the same
  ``tolerance`` is therefore not the same setting in both. ``reg`` with ``standardize=True`` penalises the
  standardised weights, so the same ``-reg`` value is not RankLib's either.
- Downward steps keep their sign: RankLib's ``step = stepBase * |w|`` for a weight below 0.002 drops the sign, so
  its "downward" search moves such a weight up again.
- Features that never vary within a query cannot change any ranking: they keep weight 0 and are not searched;
  when no feature varies within any query, the all-zero model is trained with a :class:`NoVaryingFeatureWarning`.
- Training queries whose metric no ranking changes (no relevant document, or all labels equal as the metric reads
  them) count in the mean but cannot guide the search; when every query is so (no query has a relevant document, or
  none has two relevance grades), no step can gain and the model keeps its uniform start, with a
  :class:`ConstantMetricWarning`.
- The feature order is drawn from a seeded generator (``random_state``); RankLib's is unseeded.
- Restarts all start from uniform weights, as RankLib's (its "random" restarts differ by their feature orders).
- Queries: equal scores are ranked in input order (RankLib sorts stably too); queries without a relevant document
  count 0 in the mean, as in :mod:`ltr.metrics`.

Metrics it can optimise: ``ndcg``, ``dcg``, ``err``, ``map``, ``mrr``, ``p``, ``recall``, ``success`` (each with
or without ``@k`` where :mod:`ltr.metrics` allows) and ``rprec``. Counts (``num_rel``...), ``bpref`` and
``mean_ndcg`` are refused.

The model file (:meth:`LinearModel.to_json`) is JSON: the weights, the normaliser they apply after, the objective
and how training went; :func:`ltr.rankers.persist.save_model` writes it with the usual checksummed sidecar.

References
----------
D. Metzler and W. B. Croft, "Linear feature-based models for information retrieval", Information Retrieval 10(3),
257-274, 2007. V. Dang, RankLib (``ciir.umass.edu.learning.CoorAscent``).

Examples
--------
>>> from ltr import Ranker, make_ranking
>>> model = Ranker(engine="linear", objective="ndcg@5", engine_params={"n_restarts": 2}).fit(
...     make_ranking(20, 6, 4, random_state=0))
>>> model.booster_.objective, len(model.booster_.weights)
('ndcg@5', 4)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ltr.exceptions import ModelFormatError
from ltr.metrics.api import EXP2_LIMIT, exp2_gain_error, exp2_sum_error, ndcg_sum_overflow
from ltr.rankers import _coordinate_ascent as K

__all__ = [
    "ConstantMetricWarning",
    "DEFAULTS",
    "LINEAR_FORMAT",
    "NoVaryingFeatureWarning",
    "OPTIMISABLE",
    "TREE_PARAMS",
    "LinearModel",
    "MetricTarget",
    "check_linear_params",
    "coordinate_ascent",
    "linear_objective",
    "model_from_text",
]

LINEAR_FORMAT = "ltrkit-linear/1"

#: Metric family -> kernel code: what coordinate ascent can optimise.
OPTIMISABLE: Mapping[str, int] = {
    "ndcg": K.NDCG, "dcg": K.DCG, "err": K.ERR, "map": K.AP, "mrr": K.RR, "p": K.PRECISION, "recall": K.RECALL,
    "success": K.SUCCESS, "rprec": K.RPREC,
}

#: Coordinate-ascent settings (``engine_params`` of ``Ranker(engine="linear")``) and their defaults.
DEFAULTS: Mapping[str, Any] = {
    "n_restarts": 5,
    "n_steps": 25,
    "step_base": 0.05,
    "step_scale": 2.0,
    "tolerance": 0.001,
    "reg": 0.0,
    "max_passes": 100,
    "standardize": True,
    "gain": "exp2",
    "max_grade": 4.0,
}

_FIRST_STEP = 0.001  # RankLib's first step of every line search
_STEP_LIMIT = 1e100  # the farthest step a line search may take (n_steps=1000, step_scale=3 overflowed to inf)

#: Ranker parameters that only trees use: a non-default value with engine="linear" is refused, not ignored (and a
#: linear search space naming one, at any value).
TREE_PARAMS = ("n_estimators", "learning_rate", "num_leaves", "max_depth", "min_child_samples", "subsample",
               "colsample_bytree", "reg_lambda")


class NoVaryingFeatureWarning(UserWarning):
    """No feature varies within any training query: every weight stays 0 and the model ranks nothing."""


class ConstantMetricWarning(UserWarning):
    """No training query's metric depends on the ranking (no query has a relevant document, or none has two
    relevance grades): every weight scores the same, so the model is the search's uniform start."""


# -- parameters -----------------------------------------------------------------------------------------------------
def linear_objective(objective: str) -> str:
    """The canonical metric name a linear ranker optimises for ``objective`` (``"lambdarank"``, the Ranker's default
    objective, means NDCG@10).

    Raises
    ------
    ValueError
        For a name that is not a metric, or a metric coordinate ascent cannot optimise (the message lists those
        it can).

    Examples
    --------
    >>> linear_objective("lambdarank"), linear_objective("MAP"), linear_objective("P_5")
    ('ndcg@10', 'map', 'p@5')
    """
    from ltr.metrics import parse_metric

    if objective == "lambdarank":
        return "ndcg@10"
    known = ", ".join(sorted(OPTIMISABLE))
    try:
        parsed = parse_metric(objective)
    except (ValueError, TypeError) as e:
        if "cutoff" in str(e):  # a metric's name with a cutoff it cannot take: that is the cause
            raise ValueError(f"engine='linear': objective {e}") from None
        raise ValueError(f"engine='linear' optimises a ranking metric directly: objective must be a metric name such "
                         f"as 'ndcg@10' or 'map' (families it can optimise: {known}), got {objective!r}") from None
    if parsed.spec.name not in OPTIMISABLE:
        raise ValueError(f"engine='linear' cannot optimise {parsed.name!r} by coordinate ascent; choose one of the "
                         f"families {known} (with @k where the metric takes one)")
    return parsed.name


def check_linear_params(params: Mapping[str, Any] | None, *, what: str = "engine_params") -> dict[str, Any]:
    """``DEFAULTS`` updated with ``params``, every name and value checked (one ValueError naming the first bad one).

    Examples
    --------
    >>> check_linear_params({"n_restarts": 2})["n_restarts"]
    2
    >>> check_linear_params({"restarts": 2})
    Traceback (most recent call last):
    ...
    ValueError: engine_params: engine='linear' has no parameter 'restarts' (did you mean 'n_restarts'?); its \
parameters are gain, max_grade, max_passes, n_restarts, n_steps, reg, standardize, step_base, step_scale, \
tolerance
    """
    import difflib

    if params is not None and not isinstance(params, Mapping):
        raise TypeError(f"{what} must be a dict, got {type(params).__name__}")
    out = dict(DEFAULTS)
    for key, value in dict(params or {}).items():
        if key not in DEFAULTS:
            close = difflib.get_close_matches(str(key), sorted(DEFAULTS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{what}: engine='linear' has no parameter {key!r}{hint}; its parameters are "
                             f"{', '.join(sorted(DEFAULTS))}")
        out[key] = value

    def number(name, *, integer=False, low=None, low_open=False, high=None):
        v = out[name]
        ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)
        if ok and integer:
            ok = float(v).is_integer()
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v <= high
        if not ok:
            bound = "" if low is None else (f" > {low}" if low_open else f" >= {low}")
            bound += f" and <= {high}" if high is not None else ""
            kind = "an integer" if integer else "a finite number"
            raise ValueError(f"{what}: {name} must be {kind}{bound}, got {v!r}")
        out[name] = int(v) if integer else float(v)

    number("n_restarts", integer=True, low=1, high=1000)  # (a search space's huge draw ran without end)
    number("n_steps", integer=True, low=1, high=1000)  # each line search holds queries x steps float64 values
    number("max_passes", integer=True, low=1, high=1000)
    number("step_base", low=0, low_open=True)
    number("step_scale", low=0, low_open=True)
    number("tolerance", low=0)
    with np.errstate(over="ignore"):  # the line search's farthest step (a weight change; weights sum to 1 in |w|)
        farthest = max(_FIRST_STEP, out["step_base"]) * float(np.sum(out["step_scale"] ** np.arange(out["n_steps"])))
    if not farthest <= _STEP_LIMIT:
        raise ValueError(f"{what}: step_scale={out['step_scale']:g} with n_steps={out['n_steps']} makes the line "
                         f"search's farthest step {farthest:.3g}, beyond {_STEP_LIMIT:g} (the weights are rescaled "
                         "so that their absolute values sum to 1; scores overflow that far): lower n_steps or "
                         "step_scale")
    number("reg", low=0)
    number("max_grade", low=0, low_open=True)  # ERR's top grade, as ltr.metrics' max_grade (--max-grade)
    if not isinstance(out["standardize"], bool):
        raise ValueError(f"{what}: standardize must be true or false, got {out['standardize']!r}")
    if out["gain"] not in ("exp2", "linear"):
        raise ValueError(f"{what}: gain must be 'exp2' or 'linear', got {out['gain']!r}")
    return out


def check_ranker(est) -> str:
    """Validate a ``Ranker(engine="linear")``'s settings; returns the metric it optimises."""
    if est.kernel != "native":
        raise ValueError(f"engine='linear' has no gradient kernel: leave kernel='native', got {est.kernel!r}")
    if est.device == "gpu":  # gpu-or-cpu is the CPU here: the GPU where there is one for the engine, and none is
        raise ValueError(f"engine='linear' trains on the CPU only, got device={est.device!r} (device='gpu-or-cpu' "
                         "runs it on the CPU)")
    if getattr(est, "preset", None) not in (None, "none", "auto"):  # "auto" does nothing for a linear model
        raise ValueError(f"preset={est.preset!r} sets tree parameters; engine='linear' takes none (leave preset=None)")
    if est.objective_params:
        raise ValueError("engine='linear' takes no objective_params: its settings go in engine_params "
                         f"({', '.join(sorted(DEFAULTS))})")
    import inspect

    defaults = {k: v.default for k, v in inspect.signature(type(est).__init__).parameters.items()}
    for name in TREE_PARAMS:
        value = getattr(est, name)
        if name in defaults and value != defaults[name]:
            raise ValueError(f"{name}={value!r} is a tree parameter: engine='linear' does not use it (its settings "
                             f"go in engine_params: {', '.join(sorted(DEFAULTS))})")
    stopping = [(name, getattr(est, name, None)) for name in ("early_stopping_rounds", "early_stopping_metric")]
    for name, value in stopping:  # early_stopping_rounds=None (off) is what a linear model does anyway
        if value is not None and value != defaults.get(name):
            raise ValueError(f"{name}={value!r}: engine='linear' does not use it; the metric coordinate ascent "
                             "optimises is objective (RankLib's -metric2t); with a validation set it chooses the "
                             "restart by that metric")
    check_linear_params(est.engine_params)
    return linear_objective(est.objective)


# -- the training target ----------------------------------------------------------------------------------------------
def _dense(X, what: str = "X") -> NDArray:
    if sp.issparse(X):
        X = X.toarray()
    X = np.ascontiguousarray(X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if not np.isfinite(X).all():
        r, c = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"{what} has a missing or infinite value at row {r}, feature column {c} (id {c + 1}); the "
                         "linear ranker scores every feature: read the data with missing features as 0")
    return X


def query_weights(weight: NDArray | None, group_ptr: NDArray[np.int64]) -> NDArray[np.float64] | None:
    """One weight per query from row weights (rows of a query must share theirs), or None."""
    if weight is None:
        return None
    weight = np.asarray(weight, dtype=np.float64)
    first = weight[group_ptr[:-1]]
    if not np.array_equal(weight, np.repeat(first, np.diff(group_ptr))):
        raise ValueError("engine='linear' weights queries, not rows: the rows of a query must share one weight")
    if first.sum() <= 0:
        raise ValueError("engine='linear': the query weights sum to 0")
    return first


class MetricTarget:
    """A metric prepared on one labelled set, for coordinate ascent: per-query values at any scores, and along a
    line ``s + t * x_j`` for many ``t`` at once.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    y : ndarray of shape (n_rows,)
    group_ptr : ndarray of int64, shape (n_queries + 1,)
    metric : str
        A metric :func:`linear_objective` accepts.
    weight : ndarray of shape (n_queries,), optional
        Query weights of the mean.
    gain : {"exp2", "linear"}
    n_threads : int
        Numba threads (1: the serial driver).
    max_grade : float
        ERR's top grade (``ltr.metrics``' ``max_grade``): the metric optimised is the one reported.
    """

    def __init__(self, X, y, group_ptr, metric: str, *, weight=None, gain: str = "exp2", n_threads: int = 1,
                 max_grade: float = 4.0):
        from ltr.metrics import parse_metric

        self.X = _dense(X)
        self.y = np.ascontiguousarray(y, dtype=np.float64)
        self.group_ptr = np.ascontiguousarray(group_ptr, dtype=np.int64)
        parsed = parse_metric(linear_objective(metric))
        self.metric = parsed.name
        self.code = OPTIMISABLE[parsed.spec.name]
        self.k = 0 if parsed.k is None else int(parsed.k)
        self.gain = K.GAIN_EXP2 if gain == "exp2" else K.GAIN_LINEAR
        if not np.isfinite(self.y).all():
            raise ValueError("labels must be finite numbers")
        if self.code == K.ERR and self.y.max(initial=0.0) > max_grade:
            raise ValueError(f"ERR takes labels up to max_grade={max_grade:g} (its top grade), got "
                             f"{self.y.max():g}")
        if gain == "exp2" and self.code in (K.DCG, K.NDCG) and self.y.max(initial=0.0) >= EXP2_LIMIT:
            i = int(np.argmax(self.y >= EXP2_LIMIT))
            raise exp2_gain_error(self.y[i], f"row {i}", self.metric, python_fix="pass engine_params={'gain': "
                                  "'linear'}", cli_fix="pass --param gain=linear")
        found = ndcg_sum_overflow(self.y, self.group_ptr, [parsed]) if gain == "exp2" else None
        if found is not None:  # each label below the limit, their gains' sum past float64: NaN to optimise
            raise exp2_sum_error(self.y, self.group_ptr, found[0], f"the query at row {found[0]}", found[1],
                                 python_fix="pass engine_params={'gain': 'linear'}", cli_fix="pass --param gain=linear")
        nq = self.group_ptr.size - 1
        self.useful = np.empty(max(1, self.y.size), dtype=np.int64)
        self.useful_ptr = np.empty(nq + 1, dtype=np.int64)
        self.ideal = np.empty(nq)
        K.prepare_queries(self.y, self.group_ptr, self.code, self.k, self.gain, float(max_grade), self.useful,
                          self.useful_ptr, self.ideal)
        w = np.ones(nq) if weight is None else np.asarray(weight, dtype=np.float64)
        self.query_weight = w / w.sum()
        self.n_threads = int(n_threads)
        self.blocks = K.work_blocks(self.group_ptr, self.n_threads)

    @property
    def n_queries(self) -> int:
        return self.group_ptr.size - 1

    def constant_reason(self) -> str | None:
        """Why no query's metric can change with the ranking (a clause for a warning), or None when one's can: a
        query whose labels are all equal as the metric reads them (its gains for NDCG, DCG and ERR, which give
        labels <= 0 none; relevant or not, a label of 1 or more, for the others) scores the same in every order."""
        by_gain = self.code in (K.NDCG, K.DCG, K.ERR)
        level = np.maximum(self.y, 0.0) if by_gain else (self.y >= 1.0).astype(np.float64)
        starts = self.group_ptr[:-1]
        if not level.size or (np.maximum.reduceat(level, starts) > np.minimum.reduceat(level, starts)).any():
            return None
        if not level.any():
            counted = "a label above 0" if by_gain else "a label of 1 or more"
            return (f"no training query has a relevant document ({counted}, as {self.metric} counts one), so "
                    f"{self.metric} is 0 for every weight")
        return (f"no training query has documents of two relevance grades (each query's labels are equal, as "
                f"{self.metric} reads them), so {self.metric} is the same for every weight")

    def scores(self, w: NDArray[np.float64]) -> NDArray[np.float64]:
        """``X @ w`` in float64, rows with equal features getting equal scores."""
        return K.linear_scores(self.X, np.ascontiguousarray(w, dtype=np.float64), np.empty(self.X.shape[0]))

    def per_query(self, scores: NDArray[np.float64]) -> NDArray[np.float64]:
        """The metric of each query at ``scores``."""
        return K.query_values(scores, self.y, self.group_ptr, self.useful, self.useful_ptr, self.code, self.k,
                              self.gain, self.ideal, self.blocks)

    def mean(self, per_query: NDArray[np.float64]) -> NDArray[np.float64] | float:
        """The (weighted) mean over queries: of a per-query vector, or of each column of a (queries, steps) array.

        Each column is summed as a vector is, so that equal columns have equal means, equal to the vector's: one
        matrix product rounded its last column otherwise, an ulp above exact ties, and the line search took the
        last of 10 tied steps (512 times the first; NDCG@3 0.338 for 0.363 on a held-out fold; trial t57). Two
        columns of other values with the same exact mean (P@5 of one query up, of another down) can still differ in
        the last bit, which the order of the queries decides: trial t64 saw the same 40 MQ2008 queries in two orders
        train weights 0.12 apart under P@5. An exact sum (``math.fsum``) removes that, and changed 1 of 20 of the
        bar's linear fits (ADI, MAP): it waits for a rerun of ``benchmarks/bench_bar.py``."""
        if per_query.ndim == 1:
            return self.query_weight @ per_query
        return np.array([self.query_weight @ column for column in np.ascontiguousarray(per_query.T)])

    def line(self, scores, j: int, steps, current) -> NDArray[np.float64]:
        """Per-query metric (rows) at ``scores + steps[c] * X[:, j]`` for every step (columns)."""
        steps = np.ascontiguousarray(steps, dtype=np.float64)
        out = np.empty((self.n_queries, steps.size))
        x = np.ascontiguousarray(self.X[:, j], dtype=np.float64)
        return K.line_values(scores, x, steps, self.y, self.group_ptr, self.useful, self.useful_ptr, self.code,
                             self.k, self.gain, self.ideal, current, out, self.blocks)


# -- coordinate ascent ----------------------------------------------------------------------------------------------
@dataclass
class AscentResult:
    """What :func:`coordinate_ascent` found.

    Attributes
    ----------
    weights : ndarray of float64, shape (n_features,)
        Weights of the features as given (standardisation folded in).
    restart : int
        The restart kept (0-based).
    objective : float
        Its training objective (metric minus penalty).
    valid_metric : float or None
        Its first validation set's metric, when one was given.
    history : list of list of float
        Per restart, the training objective at its start and after each pass (never decreasing).
    scale : ndarray of float64
        The feature scales of the search (1 without standardisation; 0 for features that never vary in a query).
    passes : int
        Passes run over all restarts.
    """

    weights: NDArray[np.float64]
    restart: int
    objective: float
    valid_metric: float | None
    history: list[list[float]]
    scale: NDArray[np.float64]
    passes: int
    restart_objectives: list[float] = field(default_factory=list)
    restart_valid: list[float] = field(default_factory=list)


def _feature_scales(X: NDArray, group_ptr: NDArray[np.int64], standardize: bool) -> NDArray[np.float64]:
    """Per feature: its search scale, or 0 when it never varies within a query (it cannot change a ranking)."""
    starts = group_ptr[:-1]
    varies = (np.maximum.reduceat(X, starts, axis=0) > np.minimum.reduceat(X, starts, axis=0)).any(axis=0)
    if standardize:
        with np.errstate(over="ignore", invalid="ignore"):
            scale = np.asarray(X.std(axis=0, dtype=np.float64), dtype=np.float64)
        for j in np.flatnonzero(~np.isfinite(scale)):  # float64 values beyond 1e154 square to inf: taken apart
            big = float(np.abs(X[:, j]).max())
            scale[j] = float((np.asarray(X[:, j], dtype=np.float64) / big).std()) * big
    else:
        scale = np.ones(X.shape[1])
    scale = np.where(varies & (scale > 0), scale, 0.0)
    return scale


def _penalty(v_rows: NDArray[np.float64], start: NDArray[np.float64], reg: float) -> NDArray[np.float64]:
    """RankLib's regulariser: ``reg`` times the Euclidean distance of the L1-normalised weights (rows of
    ``v_rows``) from the L1-normalised start."""
    if reg == 0.0:
        return np.zeros(v_rows.shape[0])
    l1 = np.abs(v_rows).sum(axis=1, keepdims=True)
    unit = np.divide(v_rows, l1, out=np.zeros_like(v_rows), where=l1 > 0)
    return reg * np.sqrt(((unit - start / np.abs(start).sum()) ** 2).sum(axis=1))


def _steps(orig: float, direction: int, n_steps: int, step_base: float, step_scale: float) -> NDArray[np.float64]:
    """The cumulative steps of one direction: ``delta * (1 + c + ... + c^i)`` for ``i < n_steps``."""
    step = _FIRST_STEP
    if orig != 0.0 and step > 0.5 * abs(orig):
        step = step_base * abs(orig)
    return direction * step * np.cumsum(step_scale ** np.arange(n_steps, dtype=np.float64))


def coordinate_ascent(target: MetricTarget, *, valid: Sequence[MetricTarget] = (), n_restarts: int = 5,
                      n_steps: int = 25, step_base: float = 0.05, step_scale: float = 2.0, tolerance: float = 0.001,
                      reg: float = 0.0, max_passes: int = 100, standardize: bool = True, random_state: int = 0,
                      on_pass: Callable[[dict], None] | None = None) -> AscentResult:
    """Maximise ``target``'s metric over linear weights (the algorithm is in this module's docstring).

    ``valid``: validation targets; the first chooses the restart kept. ``on_pass(info)`` is called after each
    pass with ``restart``, ``pass``, ``objective`` and ``weights`` (of the features as given).
    """
    rng = np.random.default_rng(random_state)
    scale = _feature_scales(target.X, target.group_ptr, standardize)
    active = np.flatnonzero(scale > 0)
    safe = np.where(scale > 0, scale, 1.0)
    F = target.X.shape[1]
    start = np.zeros(F)
    if active.size:
        start[active] = 1.0 / active.size
    else:  # defined behaviour: a model of zero weights, said aloud rather than trained silently
        import warnings

        warnings.warn(f"no feature varies within any training query (all {F} are constant per query), so every "
                      "weight is 0 and the model cannot rank: its scores are all equal", NoVaryingFeatureWarning,
                      stacklevel=2)

    reason = target.constant_reason()
    if reason is not None:  # defined behaviour: the uniform start, said aloud (trial t66: 5 passes of 0.0, unsaid)
        import warnings

        warnings.warn(f"{reason}: coordinate ascent has nothing to learn and the model keeps its uniform starting "
                      "weights", ConstantMetricWarning, stacklevel=2)

    def to_weights(v):
        return np.where(scale > 0, v / safe, 0.0)

    best_v = start.copy()
    best_obj = -np.inf
    best_valid = -np.inf
    best_restart = 0
    history: list[list[float]] = []
    objectives: list[float] = []
    valids: list[float] = []
    passes = 0
    for r in range(n_restarts):
        v = start.copy()
        s = target.scores(to_weights(v))
        cur = target.per_query(s)
        obj = float(target.mean(cur))  # the start has no penalty: it is the point regularised toward
        trail = [obj]
        for p in range(max_passes if active.size else 0):
            at_start = obj
            for j in rng.permutation(active):
                orig = v[j]
                for direction in (1, -1, 0):
                    if direction == 0:
                        if orig == 0.0:
                            break
                        steps = np.array([-orig])
                    else:
                        steps = _steps(orig, direction, n_steps, step_base, step_scale)
                    vals = target.mean(target.line(s, j, steps / safe[j], cur))
                    if reg > 0.0:
                        rows = np.repeat(v[None, :], steps.size, axis=0)
                        rows[:, j] = orig + steps
                        vals = vals - _penalty(rows, start, reg)
                    c = int(np.argmax(vals))  # the first best step, as RankLib's sequential "score > best"
                    if vals[c] > obj:
                        trial = v.copy()
                        trial[j] = orig + steps[c]
                        total = np.abs(trial).sum()
                        if total > 0:
                            trial /= total  # rescaling does not change the ranking
                        s_new = target.scores(to_weights(trial))
                        cur_new = target.per_query(s_new)
                        obj_new = float(target.mean(cur_new)) - float(_penalty(trial[None, :], start, reg)[0])
                        # Recomputed from the new weights: a step is kept only if it truly improves (the
                        # incremental scores can differ in the last bit, which may reorder exact ties).
                        # (scores that overflowed rank every relevant row first: NDCG above 1, never an improvement)
                        if obj_new > obj and np.isfinite(s_new).all():
                            v, s, cur, obj = trial, s_new, cur_new, obj_new
                            break
                        # a gain of round-off only: the next direction is searched, as when no step improved
            passes += 1
            trail.append(obj)
            if on_pass is not None:
                on_pass({"restart": r, "pass": p, "objective": obj, "weights": to_weights(v)})
            # A pass that accepted no step leaves the weights as they were: the next would search the same
            # lines and fail again, so stop there even with tolerance 0 (RankLib stops when every feature fails).
            if obj - at_start < tolerance or obj <= at_start:
                break
        history.append(trail)
        objectives.append(obj)
        vmetric = -np.inf
        if valid:
            vt = valid[0]
            vmetric = float(vt.mean(vt.per_query(vt.scores(to_weights(v)))))
            valids.append(vmetric)
        better = (vmetric, obj) > (best_valid, best_obj) if valid else obj > best_obj
        if better:
            best_v, best_obj, best_valid, best_restart = v.copy(), obj, vmetric, r
    return AscentResult(to_weights(best_v), best_restart, best_obj, best_valid if valid else None, history, scale,
                        passes, objectives, valids)


# -- the model ------------------------------------------------------------------------------------------------------
@dataclass
class LinearModel:
    """A fitted linear ranker: ``score = X @ weights`` on the features after ``normalizer``.

    Attributes
    ----------
    weights : ndarray of float64, shape (n_features,)
    objective : str
        The metric it was trained on.
    normalizer : dict or None
        The ranker's normaliser (:mod:`ltr.rankers.normalize` description) that the weights apply after.
    feature_scale : ndarray of float64, shape (n_features,)
        The training standard deviation of each feature the search used (0: a feature that never varied within a
        query); ``abs(weights * feature_scale)`` is each feature's share of the score's spread.
    training : dict
        Settings and outcome (restart kept, objective per pass of each restart, validation metric).
    """

    weights: NDArray[np.float64]
    objective: str
    normalizer: dict | None = None
    feature_scale: NDArray[np.float64] | None = None
    training: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(self.weights.size)

    def predict(self, X) -> NDArray[np.float64]:
        """Scores of the rows of ``X`` (dense or sparse, features already normalised as the model expects)."""
        if sp.issparse(X):
            if X.shape[1] != self.n_features:
                raise ValueError(f"X has {X.shape[1]} features but the linear model has {self.n_features} weights")
            out = np.asarray(X.astype(np.float64) @ self.weights, dtype=np.float64).ravel()
            return self._finite(out, lambda r: np.isfinite(X[r].data).all())
        X = _dense(X)
        if X.shape[1] != self.n_features:
            raise ValueError(f"X has {X.shape[1]} features but the linear model has {self.n_features} weights")
        out = K.linear_scores(X, np.ascontiguousarray(self.weights, dtype=np.float64), np.empty(X.shape[0]))
        return self._finite(out, lambda r: np.isfinite(X[r]).all())

    def _finite(self, scores: NDArray[np.float64], row_finite) -> NDArray[np.float64]:
        """``scores``, or the error that names the first that is not finite: its row's missing or infinite value,
        or (a row of finite values) the weights' overflow, as a hand-edited model's 1e308 gave."""
        bad = np.flatnonzero(~np.isfinite(scores))
        if not bad.size:
            return scores
        r = int(bad[0])
        if not row_finite(r):
            raise ValueError(f"X has a missing or infinite value at row {r}: the linear model cannot score such a row")
        j = int(np.argmax(np.abs(self.weights)))
        raise ValueError(f"the linear model's score of row {r} overflows to {float(scores[r])} ({bad.size} row(s) in "
                         f"all): its weights are too large (weight {j + 1} is {float(self.weights[j])})")

    def importances(self, kind: str = "gain") -> NDArray[np.float64]:
        """``"gain"``: ``|w_j| * scale_j``, each feature's share of the score's spread; ``"split"``: 1 for a feature
        with a non-zero weight, else 0 (a linear model has no splits: this counts the features it uses)."""
        if kind == "split":
            return (self.weights != 0).astype(np.float64)
        scale = self.feature_scale if self.feature_scale is not None else np.ones(self.n_features)
        return np.abs(self.weights * scale)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": LINEAR_FORMAT,
            "model": "linear",
            "score": "sum over j of weights[j] * x[j], x the features after the normalizer",
            "n_features": self.n_features,
            "weights": [float(w) for w in self.weights],
            "normalizer": self.normalizer,
            "objective": self.objective,
            "feature_scale": None if self.feature_scale is None else [float(v) for v in self.feature_scale],
            "training": self.training,
        }

    def to_json(self) -> str:
        """The model as JSON text (floats written with ``repr`` precision, so they read back exactly)."""
        return json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "<linear model>") -> LinearModel:
        return model_from_text(text, source=source)


def model_from_text(text: str, *, source: str = "<linear model>", n_features: int | None = None,
                    normalizer: dict | None | bool = False) -> LinearModel:
    """Parse and check a linear model's JSON (:class:`~ltr.exceptions.ModelFormatError` naming ``source`` and the
    defect). ``n_features``: the count the model must have (a sidecar's); ``normalizer``: the normaliser it must
    carry (``False``: not checked)."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ModelFormatError(f"{source}: not a linear model: invalid JSON at line {e.lineno} ({e.msg})") from None
    if not isinstance(d, dict) or d.get("format") != LINEAR_FORMAT:
        got = d.get("format") if isinstance(d, dict) else type(d).__name__
        if isinstance(got, str) and got.startswith("ltrkit-linear/"):  # another version's: it was called no ltrkit
            # model, with nothing to do (trial t72)
            raise ModelFormatError(f"{source}: an ltrkit linear model of format {got!r}, which this version "
                                   f"({LINEAR_FORMAT!r}) does not read: use the ltrkit that wrote it, or train it "
                                   "again")
        raise ModelFormatError(f"{source}: not an ltrkit linear model (expected \"format\": \"{LINEAR_FORMAT}\", got "
                               f"{got!r})")
    weights = d.get("weights")
    if not isinstance(weights, list) or not all(isinstance(w, (int, float)) and not isinstance(w, bool)
                                                 for w in weights):
        raise ModelFormatError(f"{source}: \"weights\" must be a list of numbers")
    w = np.asarray(weights, dtype=np.float64)
    if not np.isfinite(w).all():
        j = int(np.flatnonzero(~np.isfinite(w))[0])  # counted from 1, as features and the overflow's message are
        raise ModelFormatError(f"{source}: weight {j + 1} of \"weights\" is {weights[j]!r}, not a finite number")
    if d.get("n_features") != w.size:
        raise ModelFormatError(f"{source}: \"n_features\" is {d.get('n_features')!r} but the model lists {w.size} "
                               "weights")
    if n_features is not None and w.size != n_features:
        raise ModelFormatError(f"{source}: the linear model has {w.size} weights but its sidecar says {n_features} "
                               "features; the model and its sidecar do not belong together")
    if normalizer is not False and d.get("normalizer") != normalizer:
        raise ModelFormatError(f"{source}: the model's normalizer differs from its sidecar's")
    objective = d.get("objective")
    if not isinstance(objective, str):
        raise ModelFormatError(f"{source}: \"objective\" must be a metric name")
    scale = d.get("feature_scale")
    if scale is not None:
        scale = np.asarray(scale, dtype=np.float64)
        if scale.shape != w.shape or not np.isfinite(scale).all():
            raise ModelFormatError(f"{source}: \"feature_scale\" must list {w.size} finite numbers")
    norm = d.get("normalizer")
    if norm is not None:
        from ltr.rankers.normalize import normalizer_from_dict

        try:
            fitted = normalizer_from_dict(norm)
        except (ValueError, KeyError, TypeError) as e:
            raise ModelFormatError(f"{source}: bad normalizer ({e})") from None
        width = getattr(fitted, "n_features_in_", None)
        if width is not None and width != w.size:  # (predict blamed the data: "X has 46 features but the normaliser
            # was fitted on 45"; trial t72)
            raise ModelFormatError(f"{source}: bad normalizer (fitted on {width} features; the model has {w.size} "
                                   "weights)")
    return LinearModel(w, objective, norm, scale, dict(d.get("training") or {}))


# -- the engine adapter's work ----------------------------------------------------------------------------------------
def fit(train, valid: Sequence, names: Sequence[str], params: Mapping[str, Any], metrics: Sequence[str],
        callbacks: Sequence[Callable[[str, dict], None]] = (), metric_params: Mapping[str, Any] | None = None,
        ) -> tuple[LinearModel, dict, int]:
    """Train on ``train`` (a :class:`~ltr.rankers._backends.TrainSet`), record ``metrics`` on each of ``valid``
    after every pass (under ``names``, with :func:`ltr.metrics.evaluate`'s ``metric_params``), choose the restart
    on ``valid[0]``; returns ``(model, record, passes)``.

    ``params``: :func:`check_linear_params` output plus ``objective``, ``seed``, ``n_threads``, ``normalizer``.
    """
    from ltr.metrics import evaluate
    from ltr.threads import numba_threads

    settings = {k: params[k] for k in DEFAULTS}
    n_threads = int(params.get("n_threads", 1))
    objective = params["objective"]
    qw = query_weights(train.weight, np.asarray(train.group_ptr))
    with numba_threads(n_threads):
        target = MetricTarget(train.X, train.y, train.group_ptr, objective, weight=qw, gain=settings["gain"],
                              n_threads=n_threads, max_grade=settings["max_grade"])
        vtargets = [MetricTarget(v.X, v.y, v.group_ptr, objective, gain=settings["gain"], n_threads=n_threads,
                                 max_grade=settings["max_grade"]) for v in valid]
        record: dict[str, dict[str, list[float]]] = {n: {m: [] for m in metrics} for n in names}
        n_restarts = settings["n_restarts"]

        def on_pass(info):
            info = {**info, "n_restarts": n_restarts, "evals": {}}
            for name, vt in zip(names, vtargets):
                res = evaluate(vt.y, vt.scores(info["weights"]), group_ptr=vt.group_ptr, metrics=list(metrics),
                               **dict(metric_params or {}))
                for m in metrics:
                    record[name][m].append(float(res[m]))
                info["evals"][name] = {m: float(res[m]) for m in metrics}
            for cb in callbacks:
                cb("pass", info)

        result = coordinate_ascent(
            target, valid=vtargets, n_restarts=n_restarts, n_steps=settings["n_steps"],
            step_base=settings["step_base"], step_scale=settings["step_scale"], tolerance=settings["tolerance"],
            reg=settings["reg"], max_passes=settings["max_passes"], standardize=settings["standardize"],
            random_state=int(params.get("seed", 0)), on_pass=on_pass)
    training = {
        "params": settings,
        "seed": int(params.get("seed", 0)),
        "restart": result.restart,
        "objective": result.objective,
        "valid_metric": result.valid_metric,
        "restart_objectives": result.restart_objectives,
        "restart_valid_metrics": result.restart_valid or None,
        "history": result.history,
        "passes": result.passes,
    }
    # each feature's spread in the training data, whatever the search's scale (1 for all without standardize):
    # |w_j| x scale_j is its share of the score's spread (with the search's ones, |w| alone was said to be)
    spread = result.scale if settings["standardize"] else _feature_scales(target.X, target.group_ptr, True)
    model = LinearModel(result.weights, target.metric, params.get("normalizer"), spread, training)
    for cb in callbacks:
        cb("end", {"n_restarts": n_restarts})
    return model, record, max(1, result.passes)
