"""Adapters that turn a :mod:`ltr.kernels` loss into a LightGBM or XGBoost custom objective.

``lightgbm_objective(name, group_ptr, **options)`` goes in ``params["objective"]`` of ``lightgbm.train``;
``xgboost_objective(name, group_ptr, **options)`` in ``xgboost.train(obj=...)``. The returned callables validate
the labels, weights and options once per training set (when built with ``labels=``, or at its first boosting round
otherwise; used again on another training set with the same query groups, they read that set's labels and weights
again), precompute everything that does not depend on the scores, and then, every round, pass the engine's score array
straight to the kernel and return two preallocated float64 buffers that are reused from round to round (LightGBM
hands over its float64 scores without a copy; XGBoost's are float32 and are converted into a reused buffer).

Weights. The engines do not apply weights to the gradients of a custom objective: the adapters do it, as the
native rankers do, by multiplying each row's gradient and hessian by its weight.

- ``weight=`` may hold one weight per row, or one per query (repeated over the query's rows).
- ``weight=None`` takes the training set's own weights, if it has any: LightGBM's ``Dataset`` weights are per
  row (native ``lambdarank`` multiplies each row's lambdas by its weight, exactly as here); XGBoost's ranking
  ``DMatrix`` weights are per query. Native ``rank:ndcg`` also rescales query weights to average one; the
  lambdarank kernel does the same in ``mode="xgboost"`` only.
- Row weights that vary inside a query have no counterpart in XGBoost's native rankers.

Initial scores. A custom objective gets no ``boost_from_average``: LightGBM then starts from 0, as its native
``lambdarank`` does; XGBoost starts from ``base_score``, which native ``rank:ndcg`` estimates from the data, so
pass ``base_score=0`` to both when comparing them.

Native engines stay available: :data:`NATIVE` names each engine's own objective for a toolkit objective name,
and :func:`native_params` translates kernel options into the engine's parameter names.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ltr._checked_io import raise_if_interrupted
from ltr.groups import check_group_ptr
from ltr.kernels import KERNELS, get_kernel
from ltr.threads import numba_threads, resolve_n_jobs, workqueue_turn

__all__ = [
    "KERNEL_ALIASES",
    "KERNEL_OBJECTIVES",
    "NATIVE",
    "XGBOOST_BINARY_OBJECTIVES",
    "KernelObjective",
    "lightgbm_objective",
    "kernel_options",
    "native_params",
    "refuse_unknown_kernel_options",
    "xgboost_gain_table_error",
    "xgboost_objective",
]

#: Toolkit objective name -> the engine's native objective. Differences from the kernels of the same name:
#: XGBoost's ``rank:pairwise`` is RankNet over its own pair selection (top-k pairs by default) with
#: LambdaMART's normalisation, not the kernel's all-pairs sum; ``rank_xendcg`` and ``rank:map`` have no kernel.
#: ``rank:map`` takes binary labels only: the XGBoost backend trains it on label >= 1 (trec_eval's relevance
#: threshold, as ``"logistic"`` binarises below), while the metrics recorded each round read the graded labels.
#: LightGBM's ``lambdarank`` and ``rank_xendcg`` and XGBoost's ``rank:ndcg`` index gains by the label: a label that
#: is not a whole number is refused (``ltr.rankers._backends.check_integer_labels``); ``"pointwise"`` and the
#: ``"listnet"`` kernel take real labels.
NATIVE: dict[str, dict[str, str]] = {
    "lightgbm": {
        "lambdarank": "lambdarank",
        "xendcg": "rank_xendcg",
        "pointwise": "regression",
        "logistic": "binary",
    },
    "xgboost": {
        "lambdarank": "rank:ndcg",
        "ranknet": "rank:pairwise",
        "map": "rank:map",
        "pointwise": "reg:squarederror",
        "logistic": "binary:logistic",
    },
}

#: XGBoost's native objectives that take 0/1 labels only (``rank:map`` checks it, ``binary:logistic`` needs labels
#: in [0, 1]): graded labels are trained as label >= 1, in one process (the XGBoost backend; :class:`ltr.Ranker`
#: binarises ``"logistic"``'s before) and on Dask (:mod:`ltr.dask`) alike.
XGBOOST_BINARY_OBJECTIVES = ("rank:map", "binary:logistic")

#: Objective names that are a kernel with fixed options: ``"logistic"`` is the pointwise kernel's logistic loss on
#: binary relevance (labels 0/1; :class:`ltr.Ranker` binarises graded labels as label >= 1 for training, while the
#: metrics recorded each round, and early stopping, read the labels as given, as for ``rank:map``).
KERNEL_ALIASES: dict[str, tuple[str, dict[str, Any]]] = {"logistic": ("pointwise", {"loss": "logistic"})}

#: Objective names that have a Numba kernel (usable with :func:`lightgbm_objective` / :func:`xgboost_objective`).
KERNEL_OBJECTIVES: tuple[str, ...] = tuple(sorted({*KERNELS, *KERNEL_ALIASES}))


class KernelObjective:
    """A stateful custom objective: a kernel prepared for one training set, with reusable output buffers.

    Instances are what :func:`lightgbm_objective` and :func:`xgboost_objective` return. They are meant for one
    training set at a time (they keep the previous round's ranking and the output buffers); ``copy.deepcopy``
    returns the same object, because LightGBM deep-copies its ``params`` and the copy must share this state.
    Trained again on another training set with the same query groups (another label column, other weights), an
    instance reads that set's labels and weights at its first round; a set of other groups or size is refused with
    a ValueError, so they do not suit ``lightgbm.cv``/``xgboost.cv`` (one objective per fold is needed).

    Attributes
    ----------
    kernel : ltr.kernels.Kernel
    prepared : object or None
        The kernel's prepared state, once labels are known.
    n_rounds : int
        How many times the objective has been called.
    """

    def __init__(self, engine: str, objective: str, group_ptr: ArrayLike, *, weight: ArrayLike | None,
                 labels: ArrayLike | None, n_jobs: int | None, params: dict[str, Any]):
        self.engine = engine
        kernel_name, fixed = KERNEL_ALIASES.get(objective, (objective, {}))
        self.kernel = get_kernel(kernel_name)
        self.group_ptr = check_group_ptr(group_ptr)
        self.n_rows = int(self.group_ptr[-1])
        self.params = {**fixed, **dict(params)}
        refuse_unknown_kernel_options(objective, self.params)
        self.n_jobs = None if n_jobs is None else resolve_n_jobs(n_jobs)  # -1: every core, as everywhere
        self.weight = weight
        self.prepared = None
        self.n_rounds = 0
        self._labels: NDArray[np.float64] | None = None  # of the prepared state
        self._weight_used: Any = None
        self._given = labels is not None
        self._bound: Callable[[], Any] | None = None  # the training set the prepared state was read from
        self._grad = np.empty(self.n_rows)
        self._hess = np.empty(self.n_rows)
        self._scores = np.empty(self.n_rows) if engine == "xgboost" else None
        if labels is not None:
            self._prepare(labels, weight)

    def __deepcopy__(self, memo: dict) -> KernelObjective:
        return self

    def __copy__(self) -> KernelObjective:
        return self

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"KernelObjective({self.engine}, {self.kernel.name!r}{', ' if opts else ''}{opts})"

    def _prepare(self, labels: ArrayLike, weight: ArrayLike | None) -> None:
        labels = np.asarray(labels, dtype=np.float64).reshape(-1)
        if labels.size != self.n_rows:
            raise ValueError(f"{labels.size} labels but group_ptr covers {self.n_rows} rows")
        self.prepared = self.kernel.prepare(labels, self.group_ptr, weight=weight, **self.params)
        self._labels, self._weight_used = labels, weight

    def _is_bound(self, data: Any, preds: Any, start: Callable[[], Any] | None = None) -> bool:
        """Whether the prepared state was read from ``data`` (the engine's training set of this call) in this
        training run: a run starts from a constant score (the first round: 0, or XGBoost's base score) or from the
        data's own start (``start()``: LightGBM's init score, XGBoost's base margin), where the labels and weights
        are read again (``set_label`` on the same Dataset between two runs kept the old ones)."""
        if data is None:
            return self.prepared is not None
        if self._bound is None or self._bound() is not data:
            return False
        flat = np.reshape(preds, -1)
        if flat.size and flat[0] == flat[-1] and bool(np.all(flat == flat[0])):
            return False
        first = None if start is None else start()
        if first is not None and np.size(first) == flat.size:  # (with an init score, the first round is not constant)
            return not np.array_equal(np.asarray(first, dtype=flat.dtype).reshape(-1), flat)
        return True

    def _bind(self, data: Any) -> None:
        import weakref

        try:
            self._bound = weakref.ref(data)
        except TypeError:  # an object without weak references: keep it
            self._bound = lambda: data

    def _check_data(self, n_scores: int, data: Any, labels: Callable[[], Any], weight: Callable[[], Any],
                    group_sizes: Callable[[], Any]) -> None:
        """Checks against the engine's training set, at its first round (then not again while it trains): its size
        and groups against ``group_ptr``, its labels against ``labels=``, or read (with its weights) to prepare."""
        if n_scores != self.n_rows:
            raise ValueError(
                f"the engine passed {n_scores} scores but group_ptr covers {self.n_rows} rows: was the objective "
                "built for another training set?"
            )
        if data is None:  # called by hand, without the engine's training set
            if self.prepared is None:
                raise ValueError("no training set to read the labels from: pass labels= when building the objective")
            return
        sizes = group_sizes()
        if sizes is not None and len(sizes) and not np.array_equal(np.asarray(sizes), np.diff(self.group_ptr)):
            raise ValueError("the training set's query groups differ from the group_ptr given to the objective")
        have = labels()
        single = have is not None and np.asarray(have).dtype == np.float32  # XGBoost keeps labels in float32
        have = None if have is None else np.asarray(have, dtype=np.float64).reshape(-1)
        if self._given:
            given = self._labels.astype(np.float32).astype(np.float64) if single else self._labels
            if have is not None and have.size and not np.array_equal(have, given):  # 1.31 is 1.31 in float32 too
                i = int(np.flatnonzero(have != given)[0]) if have.size == given.size else 0
                raise ValueError(f"the training set's labels differ from the labels= given to the objective (row {i}: "
                                 f"{have[i]:g} in the training set, {self._labels[i]:g} given)")
        else:
            if have is None or not have.size:
                raise ValueError("the training set has no labels: pass labels= when building the objective")
            w = self.weight if self.weight is not None else weight()
            same_w = (w is None and self._weight_used is None) or (
                w is not None and self._weight_used is not None and np.array_equal(np.asarray(w), self._weight_used))
            if self.prepared is None or not (np.array_equal(have, self._labels) and same_w):
                self._prepare(have, w)
        self._bind(data)

    def _compute(self, scores: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if self.n_rounds == 0:  # the engine's initial scores (XGBoost's base margin of -inf trained RankNet on NaN
            # gradients, silently; trial t55): checked once, later rounds add finite trees to them
            from ltr.kernels import check_scores

            check_scores(self.kernel.name, scores, self.n_rows, **{k: self.params[k] for k in ("alpha", "margin_weight")
                                                                   if k in self.params})
        raise_if_interrupted()  # one swallowed earlier (reading's kernels compiling): before this one compiles
        with workqueue_turn(), numba_threads(self.n_jobs):  # None keeps Numba's setting
            self.prepared.compute(scores, self._grad, self._hess)
        raise_if_interrupted()  # a Ctrl-C the kernel's first compilation swallowed: stopped at this round (t58)
        self.n_rounds += 1
        return self._grad, self._hess

    def __call__(self, preds: Any, data: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if self.engine == "lightgbm":
            return self._lightgbm(preds, data)
        return self._xgboost(preds, data)

    def _lightgbm(self, preds, train_data):
        if not self._is_bound(train_data, preds, lambda: train_data.get_init_score()) or np.size(preds) != self.n_rows:
            self._check_data(
                np.size(preds),
                train_data,
                lambda: train_data.get_label(),
                lambda: train_data.get_weight(),
                lambda: train_data.get_group(),
            )
        scores = preds if preds.dtype == np.float64 and preds.flags.c_contiguous else np.ascontiguousarray(
            preds, dtype=np.float64)
        return self._compute(scores.reshape(-1))

    def _xgboost(self, predt, dtrain):
        if not self._is_bound(dtrain, predt, lambda: dtrain.get_base_margin()) or np.size(predt) != self.n_rows:
            self._check_data(
                np.size(predt),
                dtrain,
                lambda: dtrain.get_label(),
                lambda: _nonempty(dtrain.get_weight()),
                lambda: np.diff(dtrain.get_uint_info("group_ptr")),
            )
        np.copyto(self._scores, np.reshape(predt, -1))  # XGBoost's float32 scores into the reused float64 buffer
        return self._compute(self._scores)


def _short(v: Any) -> str:
    # a per-row option (distill's teacher scores) by its length, not its thousands of values
    return f"<{np.size(v)} values>" if isinstance(v, np.ndarray) and v.ndim else repr(v)


def _nonempty(a):
    a = np.asarray(a)
    return a if a.size else None


def lightgbm_objective(objective: str, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
                       labels: ArrayLike | None = None, n_jobs: int | None = None, **params: Any) -> KernelObjective:
    """A LightGBM custom objective ``fobj(preds, train_data) -> (grad, hess)`` from a Numba kernel.

    Use it as ``params["objective"]`` in ``lightgbm.train`` (LightGBM 4.x calls a callable objective with the
    float64 raw scores and the training ``Dataset``).

    Parameters
    ----------
    objective : str
        A kernel name, one of :data:`KERNEL_OBJECTIVES`.
    group_ptr : array-like of int64, shape (n_queries + 1,)
        Query offsets of the training rows (as in the ``Dataset``; checked at the first round).
    weight : array-like of shape (n_rows,) or (n_queries,), optional
        Row (or query) weights; default: the ``Dataset``'s weights, if any.
    labels : array-like of shape (n_rows,), optional
        Training labels; default: read from the ``Dataset`` at its first round. Passing them validates them (and
        the options) now rather than when training starts; a ``Dataset`` whose labels differ is then refused.
    n_jobs : int, optional
        Numba threads for the kernel (default: Numba's current setting). Set it like LightGBM's
        ``num_threads`` for a fair comparison.
    **params
        The kernel's options, e.g. ``sigma``, ``truncation_level``, ``norm``, ``label_gain``, ``mode`` for
        ``"lambdarank"`` (see :mod:`ltr.kernels.lambdarank`); ``teacher`` (one score per training row),
        ``temperature``, ``alpha``, ``margin_weight`` for ``"distill"`` (:mod:`ltr.kernels.distill`).

    Returns
    -------
    KernelObjective
        Callable ``fobj(preds, train_data) -> (grad, hess)``, float64 arrays of shape (n_rows,).

    Examples
    --------
    >>> import lightgbm as lgb
    >>> from ltr import make_ranking
    >>> d = make_ranking(20, 10, 5, random_state=0)
    >>> fobj = lightgbm_objective("lambdarank", d.group_ptr, mode="lightgbm")
    >>> params = {"objective": fobj, "num_leaves": 4, "verbose": -1}
    >>> booster = lgb.train(params, lgb.Dataset(d.X, d.y, group=d.group_sizes), num_boost_round=3)
    >>> booster.num_trees(), fobj.n_rounds
    (3, 3)
    """
    return KernelObjective("lightgbm", objective, group_ptr, weight=weight, labels=labels, n_jobs=n_jobs,
                           params=params)


def xgboost_objective(objective: str, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
                      labels: ArrayLike | None = None, n_jobs: int | None = None, **params: Any) -> KernelObjective:
    """An XGBoost custom objective ``obj(predt, dtrain) -> (grad, hess)`` for ``xgboost.train(obj=...)``.

    ``XGBRanker`` does not take callables; use ``xgboost.train``. Parameters as in :func:`lightgbm_objective`;
    ``weight=None`` reads the ``DMatrix`` weights (one per query for ranking). For parity with native
    ``rank:ndcg`` use ``objective="lambdarank"`` with ``mode="xgboost"`` and train both with ``base_score=0``.

    Examples
    --------
    >>> import xgboost as xgb
    >>> from ltr import make_ranking
    >>> d = make_ranking(20, 10, 5, random_state=0)
    >>> dtrain = xgb.DMatrix(d.X, d.y, group=d.group_sizes)
    >>> obj = xgboost_objective("ranknet", d.group_ptr, sigma=1.0)
    >>> booster = xgb.train({"base_score": 0.0, "max_depth": 2}, dtrain, num_boost_round=3, obj=obj)
    >>> booster.num_boosted_rounds(), obj.n_rounds
    (3, 3)
    """
    return KernelObjective("xgboost", objective, group_ptr, weight=weight, labels=labels, n_jobs=n_jobs,
                           params=params)


def refuse_unknown_kernel_options(objective: str, params) -> None:
    """A TypeError naming the keys of ``params`` the Numba kernel of ``objective`` does not take (with the closest
    it does, and all it does).

    Examples
    --------
    >>> refuse_unknown_kernel_options("ranknet", {"sigma": 1.0})
    >>> refuse_unknown_kernel_options("ranknet", {"sigmo": 1.0})
    Traceback (most recent call last):
    ...
    TypeError: unknown option(s) ['sigmo'] for kernel 'ranknet' (did you mean 'sigma'?); it takes ['sigma']
    """
    allowed = kernel_options(objective)
    unknown = sorted(set(params) - allowed)
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], sorted(allowed), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TypeError(f"unknown option(s) {unknown} for kernel {objective!r}{hint}; it takes {sorted(allowed)}")


def kernel_options(objective: str) -> set[str]:
    """The options the Numba kernel of ``objective`` takes (``objective_params``' keys), or a ValueError for an
    objective no kernel has.

    Examples
    --------
    >>> sorted(kernel_options("ranknet"))
    ['sigma']
    """
    kernel_name, _ = KERNEL_ALIASES.get(objective, (objective, {}))
    return set(inspect.signature(get_kernel(kernel_name).prepare).parameters) - {"labels", "group_ptr", "weight"}


def xgboost_gain_table_error(at: str, top: int, label: str, count: int | None = None):
    """The refusal of a label above the ``label_gain`` table given to XGBoost's rank:ndcg, which reads a table by its
    form alone (2^l - 1 or l) and trains a label above it with the form's gain (trial t59): ``at`` names the place
    (``FILE:LINE: ``, a shard's ``NAME: ``), ``top`` the table's highest label, ``count`` the labels above it where
    known. One text for one process and Dask."""
    from ltr.exceptions import LabelRangeError

    counted = f" ({count} such label(s) in all)" if count is not None else ""
    return LabelRangeError(
        f"{at}XGBoost's rank:ndcg takes labels 0..{top} under the label_gain given ({top + 1} gains), got label "
        f"{label}{counted}",
        python_fix="pass one gain per label in objective_params' label_gain, with eval_params' gain",
        cli_fix="pass one gain per label in --objective-param label_gain=G0,G1,..., with --gain")


def native_params(engine: str, objective: str, **params: Any) -> dict[str, Any]:
    """The engine's native objective and parameters equivalent to a kernel and its options.

    Only options with a native counterpart are accepted (``mode`` is ignored: native is native).

    Examples
    --------
    >>> native_params("lightgbm", "lambdarank", sigma=2.0, truncation_level=10)
    {'objective': 'lambdarank', 'sigmoid': 2.0, 'lambdarank_truncation_level': 10}
    >>> native_params("xgboost", "lambdarank", truncation_level=10, norm=False)
    {'objective': 'rank:ndcg', 'lambdarank_pair_method': 'topk', 'lambdarank_normalization': False, \
'lambdarank_score_normalization': False, 'lambdarank_num_pair_per_sample': 10}
    """
    if engine not in NATIVE:
        raise ValueError(f"unknown engine {engine!r}; choose one of {sorted(NATIVE)}")
    if objective not in NATIVE[engine]:
        raise ValueError(f"{engine} has no native {objective!r} objective; it has {sorted(NATIVE[engine])}")
    out: dict[str, Any] = {"objective": NATIVE[engine][objective]}
    params = {k: v for k, v in params.items() if k != "mode"}
    if objective == "lambdarank" and engine == "lightgbm":
        names = {"sigma": "sigmoid", "truncation_level": "lambdarank_truncation_level", "norm": "lambdarank_norm"}
        if "label_gain" in params:
            out["label_gain"] = [float(g) for g in params.pop("label_gain")]
    elif objective == "lambdarank":  # xgboost
        if params.pop("sigma", 1.0) != 1.0:
            raise ValueError("XGBoost's rank:ndcg has no sigma (it is fixed at 1)")
        out["lambdarank_pair_method"] = "topk"
        names = {"truncation_level": "lambdarank_num_pair_per_sample"}
        if "label_gain" in params:
            gain = np.asarray(params.pop("label_gain"), dtype=np.float64)
            grades = np.arange(gain.size, dtype=np.float64)
            if np.array_equal(gain, 2.0**grades - 1):  # first: [0, 1] is both, and XGBoost's default (trial t59)
                pass
            elif np.array_equal(gain, grades):
                out["ndcg_exp_gain"] = False
            else:
                raise ValueError("XGBoost's rank:ndcg supports only the gains 2^y - 1 or y (ndcg_exp_gain)")
        if "norm" in params:
            norm = bool(params.pop("norm"))
            out["lambdarank_normalization"] = norm
            out["lambdarank_score_normalization"] = norm
    else:
        names = {}
    kernel_name = KERNEL_ALIASES.get(objective, (objective, {}))[0]
    if params and kernel_name not in KERNELS:  # xendcg: the engine's alone, no kernel (whose options to name)
        key = next(iter(params))
        raise ValueError(f"the native {objective!r} objective takes no objective options (got {key!r}); its "
                         f"parameters are the engine's own (engine_params)")
    for key, value in params.items():
        if key not in names:
            known = kernel_options(objective)
            native = sorted({*names, *(("label_gain", "mode") if objective == "lambdarank" else ("mode",))})
            if key not in known:  # a misspelling: name the options there are
                import difflib

                close = difflib.get_close_matches(key, sorted(known), n=1)
                raise TypeError(f"unknown option {key!r} for objective {objective!r}"
                                f"{f' (did you mean {close[0]!r}?)' if close else ''}; with the native kernel it "
                                f"takes {native}")
            raise ValueError(f"option {key!r} of kernel {objective!r} has no {engine} native counterpart; the native "
                             f"objective takes {native} (kernel='numba' takes {sorted(known)})")
        out[names[key]] = value
    return out
