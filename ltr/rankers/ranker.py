"""``ltr.Ranker``: one scikit-learn estimator over LightGBM and XGBoost, native or Numba objectives, and a linear
ranker trained by coordinate ascent on the metric (``engine="linear"``, :mod:`ltr.rankers.linear`).

Defaults are the same wherever a ranker is made (``Ranker()``, ``ltr train``, ``ltr cv``): 300 rounds at learning
rate 0.05 with 31-leaf trees, stopping when the first validation set's NDCG@10 has not improved for 50 rounds (only
when a validation set is given). With the default ``preset="auto"``, training data of fewer than 500 queries gets
the small-data defaults of :mod:`ltr.rankers.presets` instead (measured to overfit a few dozen queries less), which
train their fixed rounds without stopping early; ``preset=None`` keeps the standard ones. Persistence lives in
:mod:`ltr.rankers.persist`; what ``fit`` and ``predict`` accept is checked in :mod:`ltr.rankers._inputs`.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import sys
import time
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator

from ltr._checked_io import raise_if_interrupted
from ltr._dataset import fingerprint_of, query_digests
from ltr._stack import stacklevel_outside
from ltr.datasets import RankingDataset
from ltr.exceptions import LabelRangeError, OptionError, TrainingDataError
from ltr.groups import no_query_has_two_labels, resolve_group_ptr
from ltr.rankers._backends import TrainSet, engine_words, get_backend
from ltr.rankers._inputs import (
    FOREIGN_FIT_KEYWORDS,
    LABEL_LIMIT,
    as_2d,
    check_frame_names,
    check_qid_column,
    described_features,
    eval_sets,
    frame_names,
    is_training_set,
    query_weights,
    refuse_fractional_labels,
    refuse_infinite,
    refuse_nonfinite,
    unique_frame_names,
    unpack,
    warn_of_read_options,
)
from ltr.rankers.params import check_duplicated_params, check_engine_params, check_engine_values, check_hyper_parameters
from ltr.rankers.teacher import blank_column, describe_teacher
from ltr.threads import openmp_default_threads, resolve_n_jobs

__all__ = ["DEVICES", "ENGINES", "KERNELS", "Ranker", "objective_names"]

logger = logging.getLogger(__name__)

ENGINES = ("lightgbm", "xgboost", "linear")
KERNELS = ("native", "numba")
DEVICES = ("cpu", "gpu", "gpu-or-cpu")


def _objective_table():
    from ltr.objectives import KERNEL_OBJECTIVES, NATIVE

    return NATIVE, KERNEL_OBJECTIVES


def objective_names() -> tuple[str, ...]:
    """Every objective name a :class:`Ranker` takes (native ones of either engine, and the kernels)."""
    native, kernel = _objective_table()
    names = set(kernel)
    for table in native.values():
        names |= set(table)
    return tuple(sorted(names))





def refuse_nothing_to_stop_on(first, name: str, metric: str, metric_params: dict) -> None:
    """Refuse early stopping on a set whose stopping metric is the same whatever the scores: nan under
    ``no_relevant=nan`` for a set without a query with a relevant document (trial t54: LightGBM trained, then failed
    with "'NoneType' object is not iterable"; XGBoost kept round 1 of an all-nan curve as "the best"), and, under any
    convention, a value that the documents' best order (by label) and their worst (reversed) share, so every order
    between: round 1 was kept as the best of a flat curve, a model of one tree, without a word (trial t61)."""
    from ltr.metrics import evaluate

    y = np.asarray(first.y, dtype=np.float64)
    best, worst = (evaluate(y, s, group_ptr=first.group_ptr, metrics=[metric], **metric_params)[metric]
                   for s in (y, -y))
    if not (math.isnan(best) or best == worst):
        return
    from ltr.exceptions import NothingToStopOnError

    unjudged = math.isnan(best) or not np.any(y > 0)
    if math.isnan(best):
        said = (f"early stopping on {name}'s {metric}: no query of {name} has a relevant document, so {metric} is "
                "nan in every round (no_relevant=nan leaves such queries out): nothing to stop on; ")
    else:  # (no relevant document; or a cutoff, a threshold or a convention leaves no order that counts)
        why = "no query of it has a relevant document" if unjudged else "no query of it has an order that counts"
        said = (f"early stopping on {name}'s {metric}: {metric} is {best:g} whatever the order of {name}'s documents "
                f"({why}), so every round scores the same and round 1 would be kept: nothing to stop on; ")
    if unjudged:
        raise NothingToStopOnError(said + "give a validation set with judged queries, or early_stopping_rounds=None",
                                   cli=said + "give --valid judged queries, or --early-stopping 0", set_name=name)
    raise NothingToStopOnError(said + "stop on another metric or cutoff (early_stopping_metric=), or "
                               "early_stopping_rounds=None", set_name=name,
                               cli=said + "stop on another metric or cutoff (--early-stopping-metric), or "
                                   "--early-stopping 0")


class Ranker(BaseEstimator):
    """A learning-to-rank model: gradient-boosted trees with a ranking objective.

    Parameters
    ----------
    objective : str, default="lambdarank"
        ``"lambdarank"`` (LambdaMART, NDCG-weighted pairs), ``"ranknet"`` (pairwise logistic), ``"listnet"``
        (top-one softmax cross-entropy), ``"pointwise"`` (squared error on the label), ``"logistic"`` (logistic
        loss on binary relevance: label >= 1 is relevant), ``"xendcg"`` (LightGBM native only), ``"map"``
        (XGBoost native only), ``"distill"`` (numba only: a teacher's scores, softmax cross-entropy at a
        temperature mixed with lambdarank; ``objective_params={"teacher": ..., "temperature": ..., "alpha": ...}``,
        see :mod:`ltr.kernels.distill`, and :mod:`ltr.rankers.teacher` for the teacher's forms: a column, which
        the student never sees (it is blanked, in ``predict`` too), a scores file or array, or a fitted model).
        With ``engine="linear"``: the metric to maximise (``"ndcg@10"``, ``"map"``, ``"err@10"``...; the default
        ``"lambdarank"`` means NDCG@10). An engine's own name (XGBoost's ``"rank:ndcg"``, ``"rank:pairwise"``,
        ``"rank:map"``, LightGBM's ``"rank_xendcg"``, ``"regression"``...) is refused with a message naming the
        objective and engine that train it (:data:`ltr.objectives.NATIVE`: ``rank:ndcg`` is
        ``objective="lambdarank", engine="xgboost"``), so that one name means one objective in ``Ranker``, the
        command line and the saved sidecar whatever the engine.
    engine : {"lightgbm", "xgboost", "linear"}, default="lightgbm"
        ``"linear"``: a linear model trained by coordinate ascent on the metric itself (Metzler and Croft 2007, as
        RankLib's Coordinate Ascent; :mod:`ltr.rankers.linear`), a learner that suits tens to hundreds of queries.
        Its settings go in ``engine_params`` (``n_restarts``, ``n_steps``, ``step_base``, ``step_scale``,
        ``tolerance``, ``reg``, ...); the tree parameters below and the early-stopping settings must stay at their
        defaults; the first validation set chooses among restarts, by the objective's metric; the model file is
        JSON (weights and normaliser).
    kernel : {"native", "numba"}, default="native"
        ``"native"`` uses the engine's built-in objective; ``"numba"`` the toolkit's gradient kernel as a custom
        objective (the same trees as LightGBM's native lambdarank with ``objective_params={"mode": "lightgbm"}``
        when nothing is sampled: LightGBM draws its column and query samples differently for any custom objective,
        so under ``colsample_bytree < 1`` or ``bagging_by_query``, which the small-data preset sets below 500
        queries, the trees are other draws of the same procedure; compare with ``preset=None``. XGBoost's kernel
        in ``mode="xgboost"`` follows ``rank:ndcg`` under sampling too).
    device : {"cpu", "gpu", "gpu-or-cpu"}, default="cpu"
        ``"gpu"`` selects LightGBM's GPU learner (``device_type="gpu"``, OpenCL, on the first OpenCL platform with a
        GPU device, never a CPU OpenCL such as PoCL; ``gpu_platform_id`` and ``gpu_device_id`` in ``engine_params``
        choose another) or XGBoost on CUDA (``device="cuda"``); with ``kernel="numba"``, XGBoost's gradients are
        computed on the GPU too (:mod:`ltr.kernels.cuda`: lambdarank, ranknet, listnet, pointwise, logistic) and
        never cross to the host. Where no GPU works, :class:`ltr.gpu.GPUNotAvailableError` says what ``ltr doctor``
        finds; ``"gpu-or-cpu"`` then trains on the CPU instead, saying so in a log message (logger ``ltr.gpu``,
        level WARNING; ``device_`` says which ran).
    n_estimators : int, default=300
        Boosting rounds (the most; early stopping may use fewer).
    learning_rate : float, default=0.05
    num_leaves : int, default=31
    max_depth : int, default=-1
        -1: no limit.
    min_child_samples : int, default=20
    subsample, colsample_bytree : float, default=1.0
    reg_lambda : float, default=0.0
        Tree hyper-parameters with LightGBM's scikit-learn names, mapped to each engine's own. XGBoost grows
        leaf-wise (``grow_policy="lossguide"``) with ``max_leaves=num_leaves``; it has no ``min_child_samples``.
    objective_params : dict, optional
        Objective parameters in the kernels' vocabulary (for example ``sigma``, ``truncation_level``, ``norm``,
        ``label_gain``; ``mode="lightgbm"`` reproduces LightGBM's float32 arithmetic), translated to the engine's
        names for native objectives. Copied, never mutated.
    engine_params : dict, optional
        Extra engine parameters by the engine's own names, applied last; a name the installed engine does not
        know is refused (:func:`ltr.rankers.params.check_engine_params`). Copied, never mutated. ``set_params``
        (and so a search grid) sets one key as ``engine_params__min_data_in_bin=3`` (likewise
        ``objective_params__<key>`` and ``eval_params__<key>``), keeping the other keys.
    eval_at : tuple of int, default=(10,)
        Cut-offs of the NDCG recorded on validation sets each round.
    early_stopping_rounds : int or None, default=50
        Stop when the first validation set's early-stopping metric has not improved for this many rounds; only
        that one set is ever looked at, whatever else is recorded. An ``eval_set`` entry that is the training data
        (the same ``X`` and ``y`` objects, LightGBM's test: a copy is a validation set like any other) never
        stops training: beside other sets it is recorded under the name ``"training"`` (as LightGBM names it;
        unless ``eval_names`` are given) and the first entry that is not the training data stops, so LightGBM's
        ``eval_set=[(X_train, y_train), (X_val, y_val)]`` stops where ``LGBMRanker`` stops, on the validation set
        (XGBoost's rule, the last set, gives the same there). When every entry is the training data, a warning says
        so and all rounds train (LightGBM's "Only training set found, disabling early stopping"). No effect
        without ``eval_set``.
    early_stopping_metric : str, optional
        The metric that drives early stopping (any name of :mod:`ltr.metrics`, e.g. ``"map"`` or ``"err@10"``, as
        RankLib's ``-metric2t``); default NDCG@``eval_at[0]``. Naming one asks for early stopping: the small-data
        preset, which trains all its rounds otherwise, then keeps ``early_stopping_rounds``, as ``ltr train
        --early-stopping-metric`` does.
    eval_params : dict, optional
        Conventions of the metrics recorded on validation sets and of early stopping: keyword arguments of
        :func:`ltr.metrics.evaluate` (``gain``, ``no_relevant``, ``max_grade``, ``convention``, ...); default its
        defaults. ``{"gain": "linear"}`` for labels that encode an order (MQ2007/8-list), which the exp2 gain
        cannot hold.
    n_jobs : int, optional
        Engine threads (and Numba threads for a numba kernel), with the toolkit's meaning (:mod:`ltr.threads`):
        None picks one thread for small data and otherwise the idle cores (cores minus the load average), at most
        ``$OMP_NUM_THREADS``; -1 every core. The engine's own thread count in ``engine_params`` (``num_threads``,
        ``nthread``) is refused beside it, and counts when ``n_jobs`` is None. :meth:`predict` runs on the
        threads it stands for too. LightGBM keeps one thread count for the whole process, which each of its fits and
        predicts sets: LightGBM rankers fitted and predicting at once in threads repeat their models only where
        they run on one count (the same ``n_jobs``, not None), since bagging by query follows the thread count.
    random_state : int, optional
        The seed of what the engines draw (bagging, feature sampling, XGBoost's pair sampling, rank_xendcg) and of
        the linear ranker's restarts, an integer from 0 to 2**32 - 1 that the model file records. None is seed 0:
        a fit is deterministic (``LGBMRanker``'s None leaves LightGBM's own default seeds, another model wherever the
        engine draws). LightGBM draws alike for ``r`` and ``r + 2**31``.
    normalize : str or dict, optional
        Feature normalisation fitted in ``fit`` and applied identically in ``predict`` (stored in the model's
        sidecar): ``"zscore"``, ``"minmax"`` (alias ``"linear"``) or ``"sum"`` per query, as RankLib's ``-norm``
        (``predict`` then needs the query offsets: pass a RankingDataset, ``qid=`` or ``group=``), or
        ``"global-zscore"`` / ``"global-minmax"`` fitted on the training rows. A dict is a normaliser's
        ``to_dict()``; see :mod:`ltr.rankers.normalize`.
    verbose : int, default=0
        1 shows a progress bar over boosting rounds (on a terminal only); 2 also logs each round's metrics.
    dataset_cache : str, optional
        A folder for LightGBM's binary Dataset files: a training set binned before (the same data and binning
        parameters, the same LightGBM) is loaded from there instead of being binned again
        (:func:`ltr.rankers._backends.lightgbm_dataset`); each entry's SHA-256 is kept beside it, and an entry whose
        bytes changed is binned again, with a warning. LightGBM only; the data still arrive as float32 arrays,
        never copied.
    preset : {"auto", "small", None}, default="auto"
        Tree defaults for small query sets (:mod:`ltr.rankers.presets`, chosen by nested cross-validation on the
        shared collections and MQ2008, ``benchmarks/bench_small_data.py``): ``"small"`` trains 300 trees of 15
        leaves of at least 100 rows at learning rate 0.02 with L2 10, 80% of the features per tree and 80% of the
        queries per round (LightGBM's ``bagging_by_query``); ``"auto"`` applies it when the training data has fewer
        than 500 queries (the default); None (or ``"none"``, as ``--preset none``) never does. A parameter given a
        value other than its default keeps that value; ``preset_params_`` records what the preset set. The preset
        trains all its rounds (no early stopping: measured better on small query sets; ``early_stopping_rounds``
        given another value, or an ``early_stopping_metric``, stops early). The same in ``Ranker()``, ``ltr train
        --preset`` and ``ltr cv --preset``. A value written out equal to its default (a search grid's
        ``num_leaves=31``) is replaced too: under ``"auto"`` a fit that replaced anything says what in a
        :class:`~ltr.rankers.presets.PresetWarning` (``preset=None``, or the parameter named in ``preset_keep``,
        keeps the value as given).
    preset_keep : tuple of str, default=()
        Parameters the preset leaves as given even at their default values (``ltr train`` and ``ltr cv`` name here
        every model option given on the command line, so that ``--leaves 31`` means 31).

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str, optional
    booster_ : the engine's booster
        LightGBM's keeps only the rounds ``predict`` uses; XGBoost's keeps every round run (``n_rounds_``), past
        the best one under early stopping, so scoring with it directly needs ``iteration_range=(0,
        best_iteration_)`` (``booster_.predict(xgboost.DMatrix(X), iteration_range=(0, model.best_iteration_),
        output_margin=True)`` equals ``model.predict(X)`` for a model without ``normalize``; :meth:`engine_input`
        gives the rows as the engine sees them otherwise).
    best_iteration_ : int
        Rounds used by ``predict`` (the best round under early stopping, else all): a count, 1-based as LightGBM's
        ``best_iteration``. XGBoost's ``booster_.best_iteration`` of the same model is 0-based, one less.
    read_options_ : dict or None
        How the training data's values were read, where that is not the readers' default (``missing``, ``null``,
        ``overflow``, ``nonfinite``, ``sparse``: ``ltr train`` records them, the sidecar keeps them, ``ltr predict``
        reads its data the same way); None when not recorded.
    n_rounds_ : int
        Rounds the engine ran: past the best one under early stopping; fewer than ``n_estimators`` when LightGBM
        found no leaf left to split. A fitted model's only: a loaded one (:func:`ltr.load_model`) has none.
    stopped_on_ : str or None
        The eval set whose metric early stopping watched (its key in ``evals_result_``), None when training ran
        without early stopping. A fitted model's only.
    evals_result_ : dict
        ``{"valid_0": {"ndcg@10": [per round ...]}}`` (keys from ``eval_names`` when given), computed by
        :func:`ltr.metrics.evaluate` under ``eval_params``: by default a query without a relevant document scores
        0 (trec_eval's convention), where LightGBM's and XGBoost's own evaluation count it 1, so the curve is
        lower than LightGBM's ``evals_result_`` on data with such queries (51 of MQ2008 Fold1 test's 156).
        ``eval_params={"no_relevant": 1.0}`` (NDCG) or ``{"convention": "lightgbm"}`` (NDCG and LightGBM's
        ``map@k``) reproduces LightGBM's numbers. ``no_relevant`` alone does not move the best round (such a
        query adds the same constant every round), so early stopping stops where LightGBM's would.
        :meth:`save` does not keep the curve: a loaded model's is ``{}`` (a pickle keeps it).
    fit_seconds_ : float
    n_threads_ : int
        The engine threads: what ``n_jobs`` resolved to, or the engine's own thread count when ``engine_params``
        sets it (LightGBM's ``num_threads``, XGBoost's ``nthread``; 0 or less: OpenMP's default, every core or
        ``$OMP_NUM_THREADS``), which is refused
        beside ``n_jobs``. A fitted model's only: a loaded one has none (its ``predict`` resolves ``n_jobs`` anew).
    normalizer_ : QueryNormalizer or GlobalNormalizer or None
        The fitted normaliser (None without ``normalize``).
    preset_params_ : dict
        The parameter values the preset set in this fit (empty without one); saved in the sidecar and restored by
        :func:`ltr.load_model`.
    device_ : {"cpu", "gpu"}
        The device that trained (``"cpu"`` after a ``"gpu-or-cpu"`` fallback).
    feature_set_ : dict or None
        How the features were computed, when the training data says so (a dataset from the feature layer, e.g. a
        LETOR file written by ``ltr features``, whose description names exactly the columns trained on); saved in
        the sidecar, so that a reranker computes the same columns (``features.serve.Reranker``).

    Examples
    --------
    >>> from ltr import Ranker, make_ranking
    >>> train, valid = make_ranking(60, 8, 5, random_state=0), make_ranking(20, 8, 5, random_state=1)
    >>> model = Ranker(n_estimators=40, min_child_samples=5).fit(train, eval_set=[valid])
    >>> model.best_iteration_ <= 40, sorted(model.evals_result_["valid_0"])
    (True, ['ndcg@10'])
    """

    def __init__(
        self,
        objective: str = "lambdarank",
        engine: str = "lightgbm",
        kernel: str = "native",
        device: str = "cpu",
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        max_depth: int = -1,
        min_child_samples: int = 20,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_lambda: float = 0.0,
        objective_params: dict | None = None,
        engine_params: dict | None = None,
        eval_at: tuple[int, ...] = (10,),
        early_stopping_rounds: int | None = 50,
        early_stopping_metric: str | None = None,
        eval_params: dict | None = None,
        n_jobs: int | None = None,
        random_state: int | None = None,
        normalize: str | dict | None = None,
        verbose: int = 0,
        dataset_cache: str | None = None,
        preset: str | None = "auto",
        preset_keep: tuple[str, ...] = (),
    ):
        self.objective = objective
        self.engine = engine
        self.kernel = kernel
        self.device = device
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.objective_params = objective_params
        self.engine_params = engine_params
        self.eval_at = eval_at
        self.early_stopping_rounds = early_stopping_rounds
        self.early_stopping_metric = early_stopping_metric
        self.eval_params = eval_params
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.normalize = normalize
        self.verbose = verbose
        self.dataset_cache = dataset_cache
        self.preset = preset
        self.preset_keep = preset_keep

    def __sklearn_tags__(self):
        """scikit-learn's tags (1.6 and later): sparse input is taken, as by the engines; NaN is a missing value
        for the trees and refused by the linear engine, which has no score for it."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = self.engine != "linear"
        return tags

    def _more_tags(self):
        """The same tags for scikit-learn before 1.6."""
        return {"allow_nan": self.engine != "linear", "X_types": ["2darray", "sparse"]}

    def _users_names(self) -> bool:
        """Whether the feature names are its user's (a DataFrame's columns, fit's ``feature_names=``), which a frame
        must have whatever they look like, rather than names the engines make up for unnamed columns (``f0..``,
        ``Column_0..``: a frame is scored by position, with a warning)."""
        return bool(getattr(self, "_fitted_on_frame", False) or getattr(self, "_names_given", False))

    def _lightgbm_spelling(self) -> bool:
        """Whether the model's feature names are LightGBM's spelling of a frame's (a plain LightGBM model: LightGBM
        writes a name's spaces as '_'); ltrkit's own models keep the names as given."""
        return bool(getattr(self, "plain_model_", False)) and self.engine == "lightgbm"

    #: Dict parameters whose single keys ``set_params`` takes as ``<name>__<key>`` (a search grid over one engine
    #: parameter: ``{"engine_params__min_data_in_bin": [3, 5]}``).
    _DICT_PARAMS = ("engine_params", "objective_params", "eval_params")

    def set_params(self, **params) -> Ranker:
        """scikit-learn's ``set_params``; besides, ``engine_params__<key>=value`` (likewise ``objective_params__`` and
        ``eval_params__``) sets one key of that dict parameter, in a copy (the other keys kept), so a search grid can
        range over one engine parameter as over LGBMRanker's ``**kwargs``: ``GridSearchCV(Ranker(),
        {"engine_params__min_data_in_bin": [3, 5]})``. As scikit-learn sets a pipeline step's nested parameters,
        the whole dicts given in the same call are set first, whatever the order of the keys: ``engine_params={...},
        engine_params__max_bin=4`` sets ``max_bin`` in the new dict."""
        plain, nested = {}, []
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if sep and name in self._DICT_PARAMS:
                if not sub or "__" in sub:
                    raise ValueError(f"invalid parameter {key!r}: use {name}__<key> for one key of {name}")
                nested.append((key, name, sub, value))
            else:
                plain[key] = value
        if plain:
            super().set_params(**plain)
        for key, name, sub, value in nested:
            current = getattr(self, name)
            if current is not None and not isinstance(current, dict):
                raise TypeError(f"{name} must be a dict to set {key}, got {type(current).__name__}")
            setattr(self, name, {**(current or {}), sub: value})
        return self

    # -- validation ---------------------------------------------------------------------------------------------
    def _resolve_objective(self) -> dict | None:
        """The engine's native objective and parameters, or None for a numba kernel, after validating the choice.

        ``objective_params`` use the kernels' names (``sigma``, ``truncation_level``, ``norm``, ``label_gain``);
        for a native objective :func:`ltr.objectives.native_params` translates them to the engine's own.
        """
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; choose one of {list(ENGINES)}")
        if self.kernel not in KERNELS:
            raise ValueError(f"unknown kernel {self.kernel!r}; choose one of {list(KERNELS)}")
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; choose one of {list(DEVICES)}")
        if self.dataset_cache is not None and not isinstance(self.dataset_cache, (str, os.PathLike)):
            raise TypeError(f"dataset_cache must be a folder's path (str or PathLike) or None, got "
                            f"{self.dataset_cache!r}")  # (os.fspath's words at fit, naming nothing; trial t58)
        if self.dataset_cache is not None and self.engine != "lightgbm":
            why = f"it keeps LightGBM's binned Dataset files, and engine {self.engine!r} has none"
            raise OptionError(f"dataset_cache={self.dataset_cache!r}: {why}: leave it None",
                              cli=f"--dataset-cache {self.dataset_cache}: {why}: leave it out")
        if self.engine == "linear":  # the objective is the metric coordinate ascent maximises
            from ltr.rankers.linear import check_ranker

            return {"objective": check_ranker(self)}
        native, kernels = _objective_table()
        known = objective_names()
        if self.objective not in known:
            # An engine's own name (XGBoost's rank:ndcg, LightGBM's rank_xendcg...): say which toolkit name it is.
            same = [f"{engine}'s own name for objective={ours!r} with engine={engine!r}"
                    for engine, table in native.items() for ours, theirs in table.items() if theirs == self.objective]
            if same:
                hint = f": that is {' and '.join(same)}"
            else:  # a typo ('lambdarnk'): the nearest name, as an unknown metric or kernel option is answered
                import difflib

                close = difflib.get_close_matches(str(self.objective), list(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
            said = f"unknown objective {self.objective!r}{hint}; choose one of {list(known)}"
            raise OptionError(said, cli=f"--objective {self.objective}: {said}")
        self._check_objective_options()
        if self.kernel == "native":
            table = native[self.engine]
            if self.objective not in table:
                # say the way that trains this objective: a numba kernel, or the other engine's native ranker
                others = [e for e, t in native.items() if e != self.engine and self.objective in t]
                way = (f"use kernel='numba' (kernels exist for {sorted(kernels)})" if self.objective in kernels else
                       f"use engine={others[0]!r}, whose native ranker has it" if others else
                       f"use kernel='numba' for {sorted(kernels)}")
                raise ValueError(f"{self.engine} has no native {self.objective!r} objective; native ones are "
                                 f"{sorted(table)}; {way}")
            from ltr.objectives import native_params

            return native_params(self.engine, self.objective, **dict(self.objective_params or {}))
        if self.objective not in kernels:
            raise ValueError(f"no numba kernel for {self.objective!r}; kernels exist for {sorted(kernels)}")
        return None

    def _check_objective_options(self) -> None:
        """``objective_params``' values, by the kernel's own ``check_options`` where it has one (lambdarank), for
        the native ranker (which takes the same options) as for the kernel: refused before any data is read, by
        name (a word where a switch is meant, ``norm='False'``, trained as true on XGBoost; ``sigma='abc'`` reached
        LightGBM as a parse error of a "data file")."""
        import inspect

        from ltr.exceptions import OptionError
        from ltr.kernels import KERNELS
        from ltr.objectives import KERNEL_ALIASES

        kernel = KERNELS.get(KERNEL_ALIASES.get(self.objective, (self.objective, {}))[0])
        check = getattr(kernel.module, "check_options", None) if kernel is not None else None
        params = dict(self.objective_params or {})
        if kernel is not None and params and self.kernel == "numba":  # an unknown key, before any data is read
            from ltr.objectives import refuse_unknown_kernel_options  # (the native ranker's: by native_params)

            refuse_unknown_kernel_options(self.objective, params)
        if check is None or not params:
            return
        taken = set(inspect.signature(check).parameters)
        try:
            check(**{k: v for k, v in params.items() if k in taken})
        except ValueError as e:
            raise OptionError(f"objective_params: {e}", cli=f"--objective-param {e}") from None

    def _metric_names(self) -> list[str]:
        """Metrics recorded on validation sets each round; the first drives early stopping."""
        from ltr.metrics import target_metric

        at = (self.eval_at,) if isinstance(self.eval_at, numbers.Integral) else tuple(self.eval_at)
        if not at or any(isinstance(k, bool) or int(k) != k or int(k) < 1 for k in at):
            raise ValueError(f"eval_at must be positive integer cut-offs, got {self.eval_at!r}")
        names = [f"ndcg@{int(k)}" for k in at]
        if self.early_stopping_metric is not None:
            first = target_metric(self.early_stopping_metric, "early_stopping_metric").name  # (unknown: the known)
            names = [first, *[n for n in names if n != first]]
        return names

    def _eval_params(self) -> dict:
        """``eval_params`` checked against :func:`ltr.metrics.evaluate`'s convention keywords."""
        import inspect

        from ltr.metrics import evaluate

        given = dict(self.eval_params or {})
        known = [k for k, p in inspect.signature(evaluate).parameters.items()
                 if p.kind is p.KEYWORD_ONLY and k not in ("metrics", "group_ptr", "qid", "group")]
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise ValueError(f"eval_params has unknown key(s) {unknown}; known: {known}")
        if "max_grade" in given:  # ("4" was read as 4, True as 1, None failed in float(); trial t58)
            v = given["max_grade"]
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not (math.isfinite(v) and v > 0):
                raise ValueError(f"eval_params['max_grade'] must be a positive number (ERR's highest grade), got "
                                 f"{v!r}")
        v = given.get("no_relevant", 0.0)
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) \
                and not (v != v or 0 <= v <= 1):  # a metric that chooses the best round is a mean of scores
            raise ValueError(f"eval_params['no_relevant'] must be a metric's score, from 0 to 1 (0 as trec_eval, 1 as "
                             f"LightGBM), or nan to leave such queries out, got {v!r}")
        try:  # the values, as the metrics check them, before training: a bad one was saved in the model and failed
            # only at its first score (trial t67)
            evaluate(np.array([1.0, 0.0]), np.array([1.0, 0.0]), group_ptr=np.array([0, 2]), metrics=["ndcg@1"],
                     **given)
        except OptionError:  # (its message names the parameters, and says the command line's options there)
            raise
        except (ValueError, TypeError) as e:
            raise type(e)(f"eval_params: {e}") from None
        return given

    def _check_params(self) -> dict | None:
        from ltr.rankers.presets import resolve_preset

        resolve_preset(self.preset)  # an unknown name lists the presets
        if not isinstance(self.verbose, (int, float, np.integer, np.floating)) or self.verbose != self.verbose:
            # a string failed after training, at 'verbose >= 2' (trial t55); -1, LightGBM's silent, stays as it was
            raise ValueError(f"verbose must be a number (0: quiet, 1: a progress bar, 2: each round's metrics), got "
                             f"{self.verbose!r}")
        for name in ("engine_params", "objective_params", "eval_params"):  # before any reads them as dicts
            value = getattr(self, name)
            if value is not None and not isinstance(value, Mapping):  # a list or 'k=v' failed in dict()'s words
                raise TypeError(f"{name} must be a dict (or None), got {type(value).__name__} {value!r}")
        keep = self.preset_keep or ()
        known = set(self.get_params(deep=False))
        if isinstance(keep, str) or any(not isinstance(k, str) or k not in known for k in keep):
            raise ValueError(f"preset_keep must name Ranker parameters, got {keep!r}")
        native_objective = self._resolve_objective()
        check_hyper_parameters(self)
        if self.engine_params and self.engine != "linear":  # the linear ranker's were checked with its objective
            if not isinstance(self.engine_params, dict):
                raise TypeError(f"engine_params must be a dict, got {type(self.engine_params).__name__}")
            objective = (native_objective or {}).get("objective")
            check_engine_params(self.engine, self.engine_params, objective=objective)
            check_duplicated_params(self, self.engine_params)
            check_engine_values(self.engine, self.engine_params, objective=objective)
            self._check_exp_gain()
            self._refuse_linear_trees()
        self._check_label_gain()
        return native_objective

    def _refuse_linear_trees(self) -> None:
        """LightGBM's ``linear_tree`` (a linear model in each leaf) trained and saved a model that no part of the
        toolkit reads back (ltr.trees, load_model, ltr predict, ltr export refuse it): refused before training
        (trial t50/export)."""
        if self.engine != "lightgbm":
            return
        for key in ("linear_tree", "linear_trees"):
            value = (self.engine_params or {}).get(key)
            if value is not None and str(value).lower() not in ("false", "0"):
                from ltr.exceptions import ParameterValueError

                reason = ("LightGBM's linear leaves are not supported: the model could not be loaded, scored or "
                          "exported by the toolkit (ltr.trees reads constant leaves)")
                shown = str(value).lower() if isinstance(value, bool) else value  # as the command line spells it
                raise ParameterValueError(f"engine_params: {key}={value!r}: {reason}", key=key, reason=reason,
                                          cli=f"--param {key}={shown}: {reason}")

    def _check_label_gain(self) -> None:
        """A ``label_gain`` (LightGBM's, or the lambdarank objective's) other than 2^label - 1 trains for other gains
        than the toolkit's metrics measure with, which stop early and report: refused until the gain of the metrics
        is given, as ``ndcg_exp_gain=False`` is (early stopping kept round 18 where LightGBM keeps 16, silently;
        trial t50); a table of 0, 1, 2, ... is linear gains, which ``gain='linear'`` measures exactly."""
        given = [(where, table) for where, table in (("engine_params", (self.engine_params or {}).get("label_gain")),
                                                       ("objective_params",
                                                        (self.objective_params or {}).get("label_gain")))
                 if table is not None]
        if not given or "gain" in (self.eval_params or {}) or self.engine == "linear":
            return
        where, table = given[0]
        try:
            gains = [float(g) for g in (table.split(",") if isinstance(table, str) else table)]
        except (TypeError, ValueError):
            return  # (the engine or the kernel names a malformed table)
        if all(g == 2.0 ** i - 1 for i, g in enumerate(gains)):
            return  # the metrics' own gains
        linear = all(g == float(i) for i, g in enumerate(gains))
        from ltr.exceptions import ParameterValueError

        reason = ("trains for other gains than 2^label - 1, with which the metrics that stop early and report "
                  "measure unless told")
        fix = ("linear gains: add eval_params={'gain': 'linear'}" if linear else
               "add eval_params={'gain': 'exp2'} to keep them (early stopping may then keep another round than the "
               "engine's own ndcg would)")
        cli_fix = ("linear gains: add --gain linear" if linear else
                   "add --gain exp2 to keep them (early stopping may then keep another round than the engine's own "
                   "ndcg would)")
        flag = "--param" if where == "engine_params" else "--objective-param"
        shown = table if isinstance(table, str) else ",".join(f"{g:g}" for g in gains)
        raise ParameterValueError(f"{where}: label_gain={table!r} {reason}: {fix}",
                                  cli=f"{flag} label_gain={shown} {reason}: {cli_fix}", key="label_gain", reason=reason,
                                  cli_reason=f"{reason}: {cli_fix}")

    def _check_exp_gain(self) -> None:
        """XGBoost's ``ndcg_exp_gain=False`` trains for linear gains (and its own ndcg@k measures with them), while
        the toolkit's metrics, which stop early and report, measure with 2^label - 1 unless told: refused until the
        gain of the metrics is given (early stopping kept another round than XGBoost's, silently; found by a trial).
        """
        value = (self.engine_params or {}).get("ndcg_exp_gain")
        if self.engine != "xgboost" or value is None or str(value).lower() not in ("false", "0"):
            return
        if "gain" in (self.eval_params or {}) or "convention" in (self.eval_params or {}):
            return
        from ltr.exceptions import ParameterValueError

        reason = ("trains for linear gains (and XGBoost's own ndcg@k measures with them), while the metrics that stop "
                  "early and report measure with 2^label - 1 unless told")
        raise ParameterValueError(
            f"engine_params: ndcg_exp_gain=False {reason}: add eval_params={{'gain': 'linear'}} (or 'exp2' to keep "
            "it)", cli=f"--param ndcg_exp_gain=false {reason}: add --gain linear",
            key="ndcg_exp_gain", reason=reason)

    # -- fit / predict ------------------------------------------------------------------------------------------
    def fit(self, X, y=None, *, qid: ArrayLike | None = None, group: ArrayLike | None = None,
            sample_weight: ArrayLike | None = None, eval_set=None, eval_group=None, eval_qid=None,
            eval_names=None, feature_names=None, log_period: int = 0, **unexpected) -> Ranker:
        """Train on rows sorted by query.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features), sparse matrix, or RankingDataset
            A :class:`~ltr.RankingDataset` brings its own labels, groups and feature names. With
            ``engine="xgboost"`` an entry absent from a sparse matrix is a missing value (routed by each split's
            default direction), not 0: XGBoost's own rule, so the same values trained dense and sparse give other
            trees, and a model should be scored in the layout it was trained in (LightGBM reads an absent entry
            as 0 either way). Train on a dense array, or read LETOR files with ``sparse=False``, where 0 must mean 0.
        y : array-like of shape (n_rows,)
            Graded relevance labels.
        qid, group : array-like
            Exactly one: a query id per row (rows of a query contiguous), or query sizes in row order. A DataFrame
            column named ``qid`` (XGBRanker's convention) is not read as query ids: pass ``qid=X.pop("qid")``
            (without ``qid=``/``group=`` the error says so; a ``qid`` column left in ``X`` trains as a feature,
            with a warning).
        sample_weight : array-like of shape (n_rows,), optional
            Row weights (one per row, also for XGBoost, whose XGBRanker takes one per query: repeat a query's
            weight over its rows, ``np.repeat(w, group)``): native LightGBM lambdarank and the numba kernels
            multiply each row's gradient and hessian by its weight. XGBoost's native rankers expect one weight per
            query: rows of a query must then share a weight, which is passed as the group's; its native pointwise
            and logistic objectives take no weights on ranking data (refused: use ``kernel="numba"``).
        eval_set : list, optional
            Validation sets, evaluated every round (the first one that is not the training data alone drives early
            stopping; see ``early_stopping_rounds``): RankingDataset
            objects, ``(X, y, qid)`` triples, or ``(X, y)`` pairs with ``eval_group=`` (query sizes per set, as
            LightGBM's scikit-learn API) or ``eval_qid=`` (one id per row per set, as XGBoost's).
        eval_group, eval_qid : list of array-like, optional
        eval_names : list of str, optional
            Names of the evaluation sets in ``evals_result_`` and in the round log (default ``valid_0``, ...,
            and ``training`` for the one that is the training data beside other sets, as LightGBM's).
        feature_names : sequence of str, optional
        log_period : int, default=0
            Print every ``log_period``-th round's metrics to standard error, as LightGBM's ``log_evaluation``
            (``[10] valid_0 ndcg@10: 0.4512``; without an eval set, ``[10] of 300 rounds``); 0: never.

        Raises
        ------
        TypeError
            For any other keyword. LightGBM's and XGBoost's ``fit`` keywords get a message saying where each
            goes here: ``eval_at``, ``early_stopping_rounds`` and ``verbose`` are constructor parameters (as in
            XGBoost >= 2), ``eval_metric`` is ``early_stopping_metric``, and ``callbacks``, ``init_model`` and
            ``xgb_model`` are not supported (no warm start). Only the named parameters take part in scikit-learn's
            metadata routing (``set_fit_request(qid=True)``).
        """
        if unexpected:
            name = min(unexpected, key=lambda n: (n not in FOREIGN_FIT_KEYWORDS, n))  # one with a hint first
            where = FOREIGN_FIT_KEYWORDS.get(name)
            if where is None:
                raise TypeError(f"Ranker.fit() got an unexpected keyword argument {name!r}")
            raise TypeError(f"Ranker.fit() got an unexpected keyword argument {name!r} (LightGBM's/XGBoost's fit "
                            f"keyword): {where}")
        native_objective = self._check_params()
        from ltr.rankers.params import warn_unused

        warn_unused(self, stacklevel=stacklevel_outside(__name__) + 1)
        if isinstance(log_period, bool) or not isinstance(log_period, numbers.Integral) or log_period < 0:
            # -1 logged every round (i % -1 == 0), 'x' failed in int()'s words (trial t57)
            raise ValueError(f"log_period must be an integer >= 0 (0: never), got {log_period!r}")
        names_given = feature_names is not None
        if feature_names is not None:  # names given here, as a DataFrame's columns are: each once
            seen: set[str] = set()
            dup = next((str(n) for n in feature_names if str(n) in seen or seen.add(str(n))), None)
            if dup is not None:
                raise ValueError(f"feature_names has {dup!r} twice: name each feature once")
        native = native_objective is not None
        metrics = self._metric_names()
        metric_params = self._eval_params()
        if isinstance(X, RankingDataset):
            if feature_names is None and X.feature_names is not None:
                feature_names = list(X.feature_names)
            if sample_weight is None and X.weight is not None:  # a .weight sidecar, as LightGBM reads it
                sample_weight = X.weight
        columns = unique_frame_names(X)
        if columns is not None:  # a DataFrame's columns name the features, as in scikit-learn
            if feature_names is None:
                feature_names = columns
            elif [str(s) for s in feature_names] != columns:
                raise ValueError("feature_names differ from X's column names; give one of them")
        check_qid_column(X, qid, group)
        if self.engine == "linear":
            refuse_nonfinite(X, "X")
        Xa, ya, ptr = unpack(X, y, qid, group)
        if Xa.shape[0] == 0:
            raise ValueError("X has no rows")
        refuse_fractional_labels(self, X, ya, ptr, native_objective)
        if self.engine == "xgboost":
            refuse_infinite(Xa, "X", X if isinstance(X, RankingDataset) else None)
        if Xa.shape[1] == 0:
            raise ValueError(f"X has no feature columns (shape {Xa.shape}); a ranker needs at least one feature")
        if feature_names is not None and len(feature_names) != Xa.shape[1]:  # before training, not after it
            raise ValueError(f"{len(feature_names)} feature names for {Xa.shape[1]} features")
        fingerprint = fingerprint_of(query_digests(Xa, ya, ptr))  # of the data as given, before normalisation
        teacher = column = None
        if self.objective == "distill":
            teacher, column = self._distill_teacher(X, Xa, ptr, qid, feature_names)
        if self.objective == "logistic":  # binary relevance, for the engines' and the kernel's logistic loss
            ya = (ya >= 1).astype(np.float64)
        self.normalizer_ = self._make_normalizer()
        if self.normalizer_ is not None:
            Xa = self.normalizer_.fit(Xa, group_ptr=ptr).transform(Xa, group_ptr=ptr)
        Xa = blank_column(Xa, column)  # constant for the student: no tree can split on its teacher's column
        weight = None
        if sample_weight is not None:
            try:
                weight = np.asarray(sample_weight, dtype=np.float64)
            except (TypeError, ValueError) as e:  # "could not convert string to float" named no argument (t72)
                raise ValueError(f"sample_weight must be numbers, one per row: {e}") from None
            if weight.shape != ya.shape:
                per_query = (f" ({weight.shape[0]} = the number of queries, as XGBRanker's one weight per query: "
                             "here weights are per row; repeat each query's weight over its rows, "
                             "np.repeat(w, group))"
                             if weight.shape == (ptr.size - 1,) else " (one weight per row)")
                raise ValueError(f"sample_weight must have shape {ya.shape}, got {weight.shape}{per_query}")
            if not (np.isfinite(weight).all() and (weight >= 0).all()):
                i = int(np.flatnonzero(~(np.isfinite(weight) & (weight >= 0)))[0])
                raise ValueError(f"sample_weight must be finite and >= 0, got {float(weight[i])!r} at row {i}")
            if not (weight <= LABEL_LIMIT).all():
                i = int(np.flatnonzero(~(weight <= LABEL_LIMIT))[0])
                raise ValueError(f"sample_weight {float(weight[i])!r} at row {i} is beyond 1e38, where LightGBM clips "
                                 "weights (to 1e38)")
            if not weight.sum() > 0:
                raise ValueError("sample_weight gives every row the weight 0: nothing to train on")
            if native and self.engine == "xgboost" and not native_objective["objective"].startswith("rank:"):
                # XGBoost takes a weight per query once data has groups, and its pointwise objectives one per row
                # ("Number of weights should be equal to number of data points"): no weighting satisfies both
                said = (f"XGBoost's native {self.objective!r} objective cannot take weights on ranking data (its "
                        "objective needs one per row, its grouped data one per query)")
                raise TrainingDataError(f"{said}: use kernel='numba', the same loss with row weights",
                                        cli=f"{said}: use --kernel numba, the same loss with row weights")
            if native and self.engine == "xgboost":
                weight = self._group_weights(weight, ptr, X if isinstance(X, RankingDataset) else None)
        valid, is_training = [], []
        for i, item in enumerate(eval_sets(eval_set, eval_group, eval_qid)):
            what = f"eval_set[{i}]"
            check_frame_names(item if isinstance(item, RankingDataset) else item[0], feature_names, what,
                               named=columns is not None)
            if self.engine == "linear":
                refuse_nonfinite(item if isinstance(item, RankingDataset) else item[0], what)
            if isinstance(item, RankingDataset):
                vx, vy, vptr = unpack(item, None, None, None, what)
            else:
                vx, vy, vptr = unpack(item[0], item[1], item[2], item[3], what)
            if vx.shape[0] == 0:  # XGBoost trained on, stopping at round 1 on a curve of nan; LightGBM said
                raise ValueError(f"{what} has no rows: nothing to evaluate (or stop) on")  # 'num_data must be > 0'
            if self.engine == "xgboost":
                refuse_infinite(vx, what, item if isinstance(item, RankingDataset) else None)
            if vx.shape[1] != Xa.shape[1]:
                raise ValueError(
                    f"{what} has {vx.shape[1]} features but the training data has {Xa.shape[1]}; read both "
                    "files with the same n_features="
                )
            is_training.append(is_training_set(item, X, y))
            # (objective="logistic" trains on label >= 1; its metrics, as rank:map's, read the labels as given)
            if self.normalizer_ is not None:
                vx = self.normalizer_.transform(vx, group_ptr=vptr)
            vw = item.weight if isinstance(item, RankingDataset) else None
            # (the training data recorded beside: its weights train, and a word on its recorded metrics would mislead)
            if vw is not None and metric_params.get("convention") != "lightgbm" and not is_training[-1]:
                import warnings

                source = item.sources.get("weight") or f"{what}'s weights"
                warnings.warn(f"the weights of {source} are not used by the validation metrics: each query counts "
                              "once (LightGBM's convention weighs the means by query, as LightGBM does: "
                              "eval_params={'convention': 'lightgbm'}, --convention lightgbm)", UserWarning,
                              stacklevel=2)
            if metric_params.get("convention") != "lightgbm":
                vw = None
            valid.append(TrainSet(blank_column(vx, column), vy, vptr, metric_weight=vw))
        names = [f"valid_{i}" for i in range(len(valid))] if eval_names is None else [str(n) for n in eval_names]
        if eval_names is None and sum(is_training) == 1 and len(valid) > 1:  # LightGBM's name for it, beside others
            names[is_training.index(True)] = "training"
        if len(names) != len(valid) or len(set(names)) != len(names):
            raise ValueError(f"eval_names must name each of the {len(valid)} evaluation sets once, got {eval_names!r}")
        # The training data is recorded but never stops training (nor chooses the linear ranker's restart): the
        # first other set goes to the engine first, which stops on its first set; evals_result_ keeps the order given.
        order = list(range(len(valid)))
        if any(is_training) and not all(is_training):
            first = is_training.index(False)
            order = [first, *[i for i in order if i != first]]
        valid, stop_names = [valid[i] for i in order], [names[i] for i in order]

        self.n_threads_ = self._engine_threads(Xa)
        backend = get_backend(self.engine)
        # A preset replaces the defaults of the tree parameters (ltr.rankers.presets); what it set is recorded.
        from ltr.rankers.presets import apply_preset, warn_replaced

        effective, self.preset_params_ = apply_preset(self, ptr.size - 1, Xa.shape[0])
        warn_replaced(self, self.preset_params_)
        rounds = _engine_rounds(self, int(effective.n_estimators))
        stopping_rounds = effective.early_stopping_rounds
        if valid and all(is_training) and stopping_rounds and self.engine != "linear":
            import warnings

            from ltr.rankers.params import UnusedParameterWarning

            off = (f"early stopping would watch the training data, so it is off (all {rounds} "
                   "rounds train, as LightGBM's 'Only training set found')")
            warnings.warn(UnusedParameterWarning(
                f"every eval_set entry is the training data: {off}; add a validation set to stop early",
                cli=f"--valid is TRAIN itself: {off}; give another --valid to stop early"), stacklevel=2)
            stopping_rounds = None
        if valid and stopping_rounds and self.engine == "lightgbm" and _lightgbm_dart(self.engine_params):
            import warnings

            warnings.warn("boosting=dart: early stopping is off, as LightGBM turns it off in dart mode: each round "
                          "rescales the trees it drops, so a model cut at its best round was never scored; all "
                          f"{rounds} rounds train", UserWarning, stacklevel=2)
            stopping_rounds = None
        if valid and stopping_rounds and not is_training[order[0]] and self.engine != "linear":  # (no stopping)
            refuse_nothing_to_stop_on(valid[0], stop_names[0], list(metrics)[0], metric_params)
        params = backend.params(effective, native_objective, self.n_threads_)
        from ltr.gpu import engine_device_params

        device_params, self.device_ = engine_device_params(self.engine, self.device, self.engine_params)
        params.update({k: v for k, v in device_params.items() if k not in (self.engine_params or {})})
        # A custom objective applies row weights inside the kernel; the engine gets them only for native ones.
        fobj = None if native else self._custom_objective(ya, ptr, weight, teacher)
        engine_weight = weight if native else None
        if not native and self.engine == "xgboost" and weight is not None:
            per_query = weight[ptr[:-1]]
            if np.array_equal(np.repeat(per_query, np.diff(ptr)), weight):
                # the kernel applies the weights to the gradients; XGBoost's quantile sketch weighs the queries too,
                # as it does for rank:ndcg (without them, mode="xgboost" grew other trees than native weighted fits)
                engine_weight = per_query
        train = TrainSet(Xa, ya, ptr, engine_weight, cache=self.dataset_cache)
        callbacks = []
        bar = None
        if self.verbose:
            from tqdm.auto import tqdm

            bar = tqdm(total=rounds, desc=f"{self.engine}/{self.objective}", unit="round",
                       disable=None, leave=False)
            callbacks.append(backend.progress_callback(bar))
        if log_period:  # without a validation set, the round alone: a long run's heartbeat in a log file
            callbacks.append(backend.log_callback(int(log_period), sys.stderr, rounds))
        raise_if_interrupted()  # a Ctrl-C a compilation swallowed while the data was read: not after training
        t0 = time.perf_counter()
        try:
            try:
                booster, record, best = backend.train(params, train, valid, stop_names, rounds,
                                                      fobj, metrics, metric_params, stopping_rounds, callbacks)
            except Exception as e:
                if not (self.device == "gpu-or-cpu" and self.device_ == "gpu" and _is_engine_error(e)):
                    raise
                # The GPU was taken as usable (found, or named by gpu_platform_id) and the engine could not train
                # there: gpu-or-cpu falls back to the CPU, as it does when no GPU is found
                from ltr.gpu import fallback_warning

                fallback_warning(self.engine, engine_words(str(e)) or type(e).__name__)
                self.device_ = "cpu"
                params = {**params, **({"device_type": "cpu"} if self.engine == "lightgbm" else {"device": "cpu"})}
                fobj = None if native else self._custom_objective(ya, ptr, weight, teacher)
                booster, record, best = backend.train(params, train, valid, stop_names, rounds,
                                                      fobj, metrics, metric_params, stopping_rounds, callbacks)
        except Exception as e:
            raise _engine_error(self, e) from e
        finally:
            if bar is not None:
                bar.close()
        self.fit_seconds_ = time.perf_counter() - t0
        # a model of NaN scores was fitted without a word (LightGBM stopped short of it, blaming the leaf settings,
        # and its NaN scores were then refused by the metrics as a row of the data: trial t66): a diverged boosting
        # runs away on every row, so rows spread over the training data tell, at a fraction of a predict
        sampled = None
        if self.engine in ("xgboost", "lightgbm"):
            rows = np.linspace(0, train.X.shape[0] - 1, min(train.X.shape[0], 4096)).astype(np.int64)
            # with the fit's threads: LightGBM's predict without them sets the process's count to every core
            sampled = backend.predict(booster, train.X[rows], int(best), self.n_threads_)
            if not np.isfinite(sampled).all():
                from ltr.rankers._backends import diverged

                raise diverged("the training data")
        self.booster_ = booster
        self.best_iteration_ = int(best)
        self.n_rounds_ = _rounds_run(booster, best, record)
        self.stopped_on_ = stop_names[0] if valid and stopping_rounds and self.engine != "linear" else None
        idle = _distillation_idle(self, ya, ptr, teacher)
        _warn_stopped_short(self, rounds, bool(valid) and stopping_rounds, stopping_rounds,
                            ya, ptr, idle)
        if self.engine == "xgboost" and sampled.size > 1 and np.all(sampled == sampled[0]) and all(
                "[" not in tree for tree in booster.get_dump()):  # (alike on the rows spread over the data: the trees
            _warn_single_leaves(self, ya, ptr, idle)  # tell, a split node being "[f..<..]" in XGBoost's text dump)
        self._idle_objective = idle  # (ltr train's own note on LightGBM's rounds then gives no leaf-size advice)
        self.evals_result_ = {n: record[n] for n in names if n in record}
        if self.verbose >= 2:
            for name, per in record.items():
                for m, vals in per.items():
                    for r, v in enumerate(vals, 1):
                        logger.info("round %d %s %s=%.6f", r, name, m, v)
        self.n_features_in_ = int(Xa.shape[1])
        # What described an earlier fit (or the loaded model) does not describe this one (scikit-learn drops
        # feature_names_in_ on a refit without names): how its data was read, its names, a plain engine model's
        # column layout.
        for stale in ("feature_names_in_", "svmlight_columns_", "training_file_"):
            self.__dict__.pop(stale, None)
        # a LETOR file's values as read_letor read them (missing=nan, ...): the sidecar keeps them, ltr predict reads
        # its data so, and predict warns of a file read otherwise
        from ltr.io.letor import read_options_of

        self.read_options_ = read_options_of(X) if isinstance(X, RankingDataset) else None  # {}: the defaults
        if feature_names is not None:
            fnames = np.asarray([str(s) for s in feature_names], dtype=object)
            if fnames.size != self.n_features_in_:
                raise ValueError(f"{fnames.size} feature names for {self.n_features_in_} features")
            self.feature_names_in_ = fnames
        self.feature_set_ = described_features(X, getattr(self, "feature_names_in_", None))
        self._fitted_on_frame = columns is not None  # predict on an unnamed array then warns, as scikit-learn
        self._names_given = names_given  # fit(feature_names=...): its user's names, whatever they look like
        self._sparse_fit = bool(sp.issparse(Xa))  # as the engine got it (a normaliser makes rows dense): XGBoost reads
        # a sparse matrix's absent entries as missing values
        self.data_fingerprint_ = fingerprint
        self._remember_params()
        return self

    def _make_normalizer(self):
        """A fresh, unfitted normaliser from ``normalize`` (None without one)."""
        if self.normalize is None:
            return None
        from ltr.rankers.normalize import make_normalizer, normalizer_from_dict

        spec = make_normalizer(self.normalize).to_dict()
        # Refit on every fit: drop the offsets that a dict from an earlier fit may carry.
        return normalizer_from_dict({k: v for k, v in spec.items() if k not in ("offset", "scale")})

    @staticmethod
    def _group_weights(weight, ptr, data: RankingDataset | None = None):
        first = weight[ptr[:-1]]
        same = weight == np.repeat(first, np.diff(ptr))
        if not np.all(same):
            row = int(np.argmin(same))
            q = int(np.searchsorted(ptr, row, side="right")) - 1
            found = None
            if data is not None and data.sources.get("data"):
                from ltr.io.letor import row_line

                found = row_line(data, row)
            if found is not None:  # where the user can find it: the query's id, the row's line (and its weight's)
                from ltr.io.letor import source_rows

                mapped = source_rows(data)
                file_row = int(mapped[0][row]) if mapped is not None else row  # the weights file: a line per row
                where = (f"query {data.qid[row]} has {first[q]:g} on its first row and {weight[row]:g} on line "
                         f"{found[0]} of {data.sources['data']}"
                         + (f", line {file_row + 1} of {data.sources['weight']}" if data.sources.get("weight")
                            else ""))
            else:
                where = (f"query {q}, counted from 0, has {first[q]:g} on its first row and {weight[row]:g} on row "
                         f"{row}")
            said = ("XGBoost's native rankers take one weight per query: rows of a query must share a weight "
                    f"({where})")
            raise TrainingDataError(f"{said} (or use kernel='numba' for row weights)",
                                    cli=f"{said} (or use --kernel numba for row weights)")
        return first

    def _custom_objective(self, y, ptr, weight, teacher=None):
        from ltr import objectives

        params = dict(self.objective_params or {})
        if teacher is not None:
            params["teacher"] = teacher  # the resolved scores, one per training row
        if self.engine == "xgboost" and getattr(self, "device_", "cpu") == "gpu":
            from ltr.kernels import cuda

            if self.objective in cuda.CUDA_KERNELS or self.objective == "logistic":
                # XGBoost takes CUDA-array gradients: the kernel runs on the device, nothing crosses back.
                return cuda.xgboost_objective(self.objective, ptr, labels=y, weight=weight, **params)
        make = objectives.lightgbm_objective if self.engine == "lightgbm" else objectives.xgboost_objective
        return make(self.objective, ptr, weight=weight, labels=y, n_jobs=self.n_threads_, **params)

    def _distill_teacher(self, X, Xa, ptr, qid, feature_names):
        """The teacher's score of each training row (:mod:`ltr.rankers.teacher`), and the input column it takes."""
        from ltr.rankers.teacher import teacher_column, teacher_scores

        spec = (self.objective_params or {}).get("teacher")
        column = teacher_column(spec, Xa.shape[1], feature_names)
        if isinstance(X, RankingDataset):
            ids, docs, sources = X.qid, X.doc_ids, X.sources
        else:
            ids = np.asarray(qid) if qid is not None else np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
            docs = sources = None
        scores = teacher_scores(spec, Xa, ptr, column=column, qid=ids, doc_ids=docs, sources=sources,
                                feature_names=feature_names, data=X if isinstance(X, RankingDataset) else None)
        return scores, column

    def _teacher_column(self) -> int | None:
        """The input column a distillation teacher takes, which ``predict`` blanks too (None without one): the
        teacher the model was fitted with (a ``set_params`` after the fit changes the next fit, not this model)."""
        params = self.fitted_params()
        objective_params = params.get("objective_params") or {}
        if params.get("objective") != "distill" or "teacher" not in objective_params:
            return None
        from ltr.rankers.teacher import teacher_column

        return teacher_column(objective_params["teacher"], self.n_features_in_,
                              getattr(self, "feature_names_in_", None))

    def fitted_params(self) -> dict:
        """The parameters the fitted model was trained with (as ``get_params(deep=False)`` gave them at the fit, or
        as the loaded model's sidecar records them); the current ones for a Ranker not fitted. ``set_params``
        after a fit changes what the next fit trains, as in scikit-learn, never the fitted model: ``predict`` and
        :meth:`save` read these.

        They are the parameters as given: an engine parameter in ``engine_params`` that sets what one of the
        Ranker's own options left at its default sets is the one trained with (``engine_params={"learning_rate":
        0.3}`` trains at 0.3 where ``learning_rate`` stays 0.05 here; given both, they are refused)."""
        fitted = getattr(self, "_fitted_params", None)
        return dict(fitted) if fitted is not None else self.get_params(deep=False)

    def _remember_params(self) -> None:
        """Keep the parameters this model is fitted with (dict values copied: a caller's dict changed later in
        place does not change them)."""
        self._fitted_params = {k: dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v
                               for k, v in self.get_params(deep=False).items()}

    def _check_fitted(self):
        if not hasattr(self, "booster_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this Ranker is not fitted yet: call fit() or ltr.load_model() first")
        booster = self.booster_
        fitted = ("lightgbm" if hasattr(booster, "model_to_string") else "xgboost" if hasattr(booster, "save_raw")
                  else "linear" if hasattr(booster, "weights") else None)
        if fitted is not None and fitted != self.engine:  # set_params(engine=...) after fit: the model is the old one
            raise ValueError(f"this Ranker's model was fitted with engine={fitted!r}, and its engine is now "
                             f"{self.engine!r} (set_params after fit): fit it again, or set engine={fitted!r} back")

    def predict(self, X, *, qid: ArrayLike | None = None, group: ArrayLike | None = None) -> NDArray[np.float64]:
        """Scores, one per row (higher ranks first). Only the order within a query is meaningful.

        ``qid`` or ``group`` (or a RankingDataset) are needed only by a model with a per-query ``normalize``.
        The first ``best_iteration_`` rounds score. With ``engine="xgboost"``, an entry absent from a sparse
        matrix is a missing value, not 0 (see :meth:`fit`): give the rows in the layout the model was trained on.
        """
        if (getattr(self, "_fitted_on_frame", False) and not isinstance(X, RankingDataset)
                and frame_names(X) is None and getattr(getattr(X, "columns", None), "nlevels", 1) == 1):
            # (a frame of several header levels is refused below, naming them: no warning before the error)
            import warnings

            warnings.warn(f"X does not have valid feature names, but {type(self).__name__} was fitted with feature "
                          "names", UserWarning, stacklevel=2)  # scikit-learn's words (a column's name is not checked)
        elif (getattr(self, "feature_names_in_", None) is None and not isinstance(X, RankingDataset)
              and frame_names(X) is not None):  # and the converse, in scikit-learn's words too
            import warnings

            warnings.warn(f"X has feature names, but {type(self).__name__} was fitted without feature names",
                          UserWarning, stacklevel=2)
        return self._predict(X, qid=qid, group=group)

    def _predict(self, X, *, qid=None, group=None) -> NDArray[np.float64]:
        if self.engine == "xgboost":  # as fit refuses them, naming the cell, not in XGBoost's words
            refuse_infinite(X.X if isinstance(X, RankingDataset) else X, "X",
                            X if isinstance(X, RankingDataset) else None)
        dataset = isinstance(X, RankingDataset)
        X = self.engine_input(X, qid=qid, group=group)
        sparse = getattr(self, "_sparse_fit", None)  # what the engine was given in training (after any normaliser,
        # which makes rows dense): a RankingDataset's reading is checked against the training file's instead
        if self.engine == "xgboost" and sparse is not None and not dataset and bool(sp.issparse(X)) != sparse:
            # (a model trained on CSR scored the same values given dense up to 1.11 apart, silently: trial t72)
            import warnings

            trained, given = ("a sparse matrix", "a dense array")[:: 1 if sparse else -1]
            warnings.warn(f"the XGBoost model was trained on {trained} and X is {given}: XGBoost reads a sparse "
                          "matrix's absent entries as missing values and a dense array's zeros as 0, so the rows "
                          f"score otherwise than in training's layout; give X as {trained}", UserWarning,
                          stacklevel=stacklevel_outside("ltr.rankers"))
        return get_backend(self.engine).predict(self.booster_, X, self.best_iteration_, self._engine_threads(X))

    def _engine_threads(self, X) -> int:
        """The engine threads of a fit or a predict on the rows ``X``: those ``n_jobs`` stands for (:mod:`ltr.threads`),
        or the engine parameter that counts them (``n_jobs`` beside it is refused), 0 or less being OpenMP's
        default."""
        from ltr.rankers.aliases import engine_threads_key

        key = engine_threads_key(self.engine, self.engine_params)
        if key is not None:
            asked = int(self.engine_params[key])
            return asked if asked > 0 else openmp_default_threads()
        shape = getattr(X, "shape", None) or (None, None)
        return resolve_n_jobs(self.n_jobs, n_rows=shape[0], n_features=shape[1] if len(shape) > 1 else None)

    def engine_input(self, X, *, qid: ArrayLike | None = None, group: ArrayLike | None = None):
        """The rows as the engine scores them: normalised as in training, a distillation teacher's column blanked
        (``X`` itself when neither applies). :meth:`predict` is the engine's prediction of these rows; a scorer of
        the model's own trees (:mod:`ltr.trees`) takes them too.

        ``qid`` or ``group`` (or a RankingDataset) are needed only by a model with a per-query ``normalize``. A model
        trained on a feature subset (``ltr train --features``) takes the subset, or rows as wide as its training
        file, of which it scores its columns, as ``ltr predict`` does.
        """
        self._check_fitted()
        X = self._recorded_columns(X)
        check_frame_names(X, getattr(self, "feature_names_in_", None), "X", self._lightgbm_spelling(),
                           self._users_names())
        if self.engine == "linear" and isinstance(X, RankingDataset):  # to name its line; the linear model's own
            refuse_nonfinite(X, "X")  # predict checks arrays (the Reranker's rows, every call: once is enough)
        ptr = None
        if isinstance(X, RankingDataset):
            if qid is not None or group is not None:  # as fit and score: its queries are the dataset's
                raise ValueError("X is a RankingDataset: do not also pass qid or group (its queries are its own)")
            warn_of_read_options(X, getattr(self, "read_options_", None), self.engine)
            ptr = np.asarray(X.group_ptr)
            X = X.X
        X = as_2d(X)
        if qid is not None or group is not None:
            ptr = resolve_group_ptr(X.shape[0], qid=qid, group=group)
        if X.shape[1] != self.n_features_in_:
            if getattr(self, "svmlight_columns_", False) and X.shape[1] + 1 == self.n_features_in_:
                xgb = self.engine == "xgboost"
                engine_way = (f"read_letor(..., zero_based=True{', sparse=True' if xgb else ''})"
                              f"{' (XGBoost reads an absent id as a missing value)' if xgb else ''}")
                raise ValueError(
                    f"X has {X.shape[1]} features but the model was trained on {self.n_features_in_}, and none of "
                    "its splits reads column 0: trained by its engine on an svmlight file read the engine's way (id "
                    f"j as column j, column 0 empty), read the data so, with {engine_way}; trained on arrays whose "
                    f"feature 1 it never used (id j as column j - 1), with read_letor(..., "
                    f"n_features={self.n_features_in_})")
            subset = (getattr(self, "read_options_", None) or {}).get("features")
            width = subset.get("n_features") if isinstance(subset, dict) else None
            if isinstance(width, int) and width != self.n_features_in_:  # a feature-subset model takes either width
                raise ValueError(
                    f"X has {X.shape[1]} features but the model was trained on {self.n_features_in_} of the {width} "
                    f"columns of its data (ltr train --features): give rows of those {width} columns, or of its "
                    f"{self.n_features_in_}; if the data is a LETOR file, read it with n_features={width} so absent "
                    "trailing features count")
            raise ValueError(
                f"X has {X.shape[1]} features but the model was trained on {self.n_features_in_}; if the data is "
                f"a LETOR file, read it with n_features={self.n_features_in_} so absent trailing features count"
            )
        norm = getattr(self, "normalizer_", None)
        if norm is not None:
            if norm.needs_groups and ptr is None:
                raise ValueError(
                    f"this model normalises features per query ({norm.method!r}): pass a RankingDataset, or qid= / "
                    "group= with X"
                )
            X = norm.transform(X, group_ptr=ptr)
        return blank_column(X, self._teacher_column())  # as in training (no tree uses it: its value cannot matter)

    def _recorded_columns(self, X):
        """``X``'s columns that a model trained on a feature subset uses (its ``read_options_`` record: the 1-based
        ids of the columns of a file ``n_features`` wide) when ``X`` is as wide as that file; ``X`` otherwise (the
        README and ltr.trees said ltr.load_model applied the subset, and predict refused the whole file: trial
        t54)."""
        subset = (getattr(self, "read_options_", None) or {}).get("features")
        if not isinstance(subset, dict):
            return X
        ids, width = subset.get("ids"), subset.get("n_features")
        shape = X.X.shape if isinstance(X, RankingDataset) else getattr(X, "shape", None)
        if not (isinstance(ids, list) and ids and isinstance(width, int) and width != self.n_features_in_
                and len(ids) == self.n_features_in_ and shape is not None and len(shape) == 2 and shape[1] == width):
            return X
        columns = np.asarray(ids, dtype=np.intp) - 1
        if isinstance(X, RankingDataset):
            from dataclasses import replace

            names = X.feature_names
            picked = replace(X, X=X.X[:, columns], feature_names=None if names is None else tuple(names[c] for c in
                                                                                                 columns))
            if hasattr(X, "_read_options"):  # how its file was read, still (warn_of_read_options)
                object.__setattr__(picked, "_read_options", X._read_options)
            return picked
        if hasattr(X, "iloc"):  # a DataFrame: its columns by position, with their names
            return X.iloc[:, columns]
        return X[:, columns]

    def score(self, X, y=None, *, qid=None, group=None, sample_weight=None) -> float:
        """Mean NDCG@10 under the ranker's ``eval_params`` conventions, those of its early stopping and reports (by
        default exp2 gain, queries with no relevant document score 0, as trec_eval).

        Always NDCG@10: not ``eval_at[0]``, nor ``early_stopping_metric`` (for another cut-off, give scikit-learn
        ``scoring=ltr.evaluation.ndcg_scorer(k)``; for another metric, call :func:`ltr.metrics.evaluate`).

        ``sample_weight`` (one weight per row, equal within a query: a query's weight) gives the weighted mean over
        queries, as scikit-learn's ``score`` weights its mean.

        Inside scikit-learn's ``cross_val_score`` or ``GridSearchCV`` the query ids reach ``score`` only through
        metadata routing; :mod:`ltr.evaluation.scoring` shows how (and its ``ndcg_scorer`` asks for them itself).
        """
        from ltr.metrics import evaluate

        if qid is None and group is None and not isinstance(X, RankingDataset):
            raise ValueError("score got no query ids: pass qid= or group=; inside scikit-learn's cross_val_score or "
                             "GridSearchCV, enable metadata routing (sklearn.set_config(enable_metadata_routing=True)) "
                             "and use scoring=ltr.evaluation.ndcg_scorer(10), or set_score_request(qid=True); see "
                             "ltr.evaluation.scoring")
        # as predict does, before the arrays
        check_frame_names(X, getattr(self, "feature_names_in_", None), "X", self._lightgbm_spelling(),
                           self._users_names())
        Xa, ya, ptr = unpack(X, y, qid, group)
        scores = self._predict(Xa, group=np.diff(ptr))  # X's names were checked above
        conventions = self._eval_params()
        if sample_weight is None:
            return float(evaluate(ya, scores, group_ptr=ptr, metrics=["ndcg@10"], **conventions)["ndcg@10"])
        from ltr.metrics import evaluate_per_query

        weight = query_weights(sample_weight, ptr)
        per_query = evaluate_per_query(ya, scores, group_ptr=ptr, metrics=["ndcg@10"], **conventions)["ndcg@10"]
        return float(np.average(per_query, weights=weight))

    @property
    def feature_importances_(self) -> NDArray[np.float64]:
        """Total gain of the splits on each feature (normalised to sum to 1); for ``engine="linear"``, each feature's
        share of the score's spread, ``|w_j| * scale_j``, normalised so (:mod:`ltr.rankers.linear`)."""
        self._check_fitted()
        imp = get_backend(self.engine).importances(self.booster_, "gain", self.n_features_in_, self.best_iteration_)
        total = imp.sum()
        return imp / total if total > 0 else imp

    def feature_importance(self, kind: str = "gain") -> NDArray[np.float64]:
        """Raw importances: ``"gain"`` (total gain) or ``"split"`` (number of splits), over the rounds used."""
        self._check_fitted()
        if kind not in ("gain", "split"):
            raise ValueError(f"kind must be 'gain' or 'split', got {kind!r}")
        return get_backend(self.engine).importances(self.booster_, kind, self.n_features_in_, self.best_iteration_)

    # -- persistence --------------------------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the engine's model text to ``path`` and a JSON sidecar to ``path + ".meta.json"``, atomically.

        Only the rounds ``predict`` uses are kept (the best round under early stopping). The sidecar holds what
        else changes predictions (rounds, normaliser, feature count and names, parameters) and a checksum over
        both files; :func:`ltr.load_model` refuses a model whose files were edited or truncated.

        What describes the training run only is not kept: a loaded model's ``evals_result_`` is ``{}`` (the
        validation curve is lost) and it has no ``n_rounds_`` or ``n_threads_``; one loaded with its sidecar has
        ``trained_with_`` (the versions that trained it) instead. A pickle keeps every attribute.
        """
        from ltr.io.files import checked_path

        checked_path(path)
        self._check_fitted()
        from ltr import __version__
        from ltr.rankers.sidecar import write_model

        text = get_backend(self.engine).to_text(self.booster_, self.best_iteration_)
        params = self.fitted_params()  # what trained the model, whatever set_params changed since
        objective_params = params.get("objective_params") or {}
        if "teacher" in objective_params:  # an array or a model: described in JSON
            params["objective_params"] = {**objective_params, "teacher": describe_teacher(objective_params["teacher"])}
        if not isinstance(params["normalize"], (str, dict, type(None))):  # an instance: store its description
            params["normalize"] = {k: v for k, v in self.normalizer_.to_dict().items() if k not in ("offset", "scale")}
        if not isinstance(params["eval_at"], numbers.Integral):
            params["eval_at"] = list(params["eval_at"])
        meta = {
            "ltrkit_version": __version__,
            # what trained it, for whoever reproduces it (an engine's minor versions change defaults and results)
            "versions": _versions(self.engine),
            "engine": self.engine,
            "params": params,
            "n_features": self.n_features_in_,
            "feature_names": None if not hasattr(self, "feature_names_in_") else list(self.feature_names_in_),
            "frame_columns": bool(getattr(self, "_fitted_on_frame", False)),  # names a DataFrame gave: its user's
            "names_given": bool(getattr(self, "_names_given", False)),  # names fit(feature_names=) gave: the same
            "sparse_fit": getattr(self, "_sparse_fit", None),  # a sparse matrix trained it (None: not recorded)
            "best_iteration": self.best_iteration_,
            "data_fingerprint": self.data_fingerprint_,
            # (NaN for a model loaded without a sidecar, which strict JSON has no number for: saving it failed)
            "fit_seconds": self.fit_seconds_ if math.isfinite(self.fit_seconds_) else None,
            "trained_on": getattr(self, "device_", None),  # the device that ran: "gpu-or-cpu" in params may be either
            "normalizer": None if getattr(self, "normalizer_", None) is None else self.normalizer_.to_dict(),
            "feature_set": getattr(self, "feature_set_", None),
            "read_options": getattr(self, "read_options_", None),
            # what the small-data preset set in the fit: "params" are the parameters as given
            "preset_params": dict(getattr(self, "preset_params_", None) or {}) or None,
        }
        write_model(path, text, meta)


def _versions(engine: str) -> dict[str, str]:
    """Python's, NumPy's and the engine's versions (the linear engine is ltrkit's own)."""
    import importlib
    import platform

    out = {"python": platform.python_version(), "numpy": np.__version__}
    if engine in ("lightgbm", "xgboost"):
        out[engine] = importlib.import_module(engine).__version__
    return out


def _lightgbm_dart(engine_params) -> bool:
    """Whether LightGBM's ``engine_params`` choose DART boosting (``boosting`` or an alias)."""
    from ltr.rankers.aliases import engine_names

    names = engine_names("lightgbm", "boosting")
    return any(k in names and str(v).strip().lower() == "dart" for k, v in dict(engine_params or {}).items())


def _is_engine_error(e: BaseException) -> bool:
    return type(e).__name__ in ("LightGBMError", "XGBoostError")


def _engine_error(model: Ranker, e: Exception) -> Exception:
    """The engine's own error as one line that names what to change (the original stays as ``__cause__``)."""
    kind = type(e).__name__
    if not _is_engine_error(e):
        return e
    text = engine_words(str(e)) or kind
    if getattr(model, "device_", None) == "gpu":
        from ltr.gpu import GPUNotAvailableError

        head = f"{model.engine} could not train on the GPU ({text}); `ltr doctor` shows what the machine offers"
        if model.engine == "lightgbm":
            return GPUNotAvailableError(
                f"{head} (LightGBM's GPU learner needs an OpenCL GPU platform: engine_params={{'gpu_platform_id': P, "
                "'gpu_device_id': D} choose one), or use device='gpu-or-cpu' or 'cpu'",
                cli=f"{head} (LightGBM's GPU learner needs an OpenCL GPU platform: --param gpu_platform_id=P --param "
                    "gpu_device_id=D choose one), or use --device gpu-or-cpu or cpu")
        return GPUNotAvailableError(f"{head} (XGBoost needs CUDA), or use device='gpu-or-cpu' or 'cpu'",
                                    cli=f"{head} (XGBoost needs CUDA), or use --device gpu-or-cpu or cpu")
    if "num_features()) > (0)" in text:  # LightGBM with a custom objective when no feature can be split
        leaf = (getattr(model, "preset_params_", None) or {}).get("min_child_samples", model.min_child_samples)
        why = f"{model.engine} found no feature it can split: each is constant on the training rows, or leaves"
        return TrainingDataError(f"{why} fewer than min_child_samples={leaf} rows on a side; lower min_child_samples "
                                 "or train on more rows", cli=f"{why} fewer than --min-child-samples {leaf} rows on a "
                                                              "side; lower --min-child-samples or train on more rows")
    if text.startswith("Cannot write binary data to"):  # dataset_cache's folder filled up (or a quota) mid-write
        where = getattr(model, "dataset_cache", None)
        return OSError(f"{where or 'the dataset cache'}: cannot write LightGBM's binned data ({text}): no space left "
                       "on the device, or a quota reached?")
    if "exceeds upper limit of 10000 for a query" in text:  # LightGBM's native lambdarank (and rank_xendcg)
        said = (f"{text}: LightGBM's native ranking objectives take at most 10000 documents per query; cut the "
                "longer queries' candidates, or train with")
        return TrainingDataError(f"{said} kernel='numba' (the same objective, no such limit) or engine='xgboost'",
                                 cli=f"{said} --kernel numba (the same objective, no such limit) or --engine xgboost")
    if "number of label mappings" in text or "Relevance degress must be" in text:  # the engines' gain tables
        engine_fix = ("engine_params={'label_gain': [one gain per label]} with eval_params' gain"
                      if model.engine == "lightgbm" else
                      "engine_params={'ndcg_exp_gain': False} with eval_params={'gain': 'linear'} (linear gains)")
        flag_fix = ("--param label_gain=G0,G1,... with --gain" if model.engine == "lightgbm" else
                    "--param ndcg_exp_gain=false --gain linear")
        return LabelRangeError(
            f"{model.engine} refused the labels: {text}",
            python_fix=f"for labels that encode an order (MQ2007/8-list) train a listwise objective "
                       f"(objective='listnet', kernel='numba'), or pass {engine_fix}",
            cli_fix=f"for labels that encode an order (MQ2007/8-list) train a listwise objective (--objective "
                    f"listnet --kernel numba), or pass {flag_fix}")
    return ValueError(f"{model.engine} refused the training parameters or data: {text}")


def _engine_rounds(model: Ranker, n_estimators: int) -> int:
    """The rounds the engine trains: ``n_estimators``, or LightGBM's ``num_iterations`` by any of its names in
    ``engine_params`` (given beside n_estimators it is refused; alone, lgb.train takes it over the rounds passed:
    the rounds were said as n_estimators', a 20-round fit warned of as stopping after 20 of 300; review of t64)."""
    if model.engine != "lightgbm":
        return n_estimators
    from ltr.rankers.aliases import engine_names

    names = engine_names("lightgbm", "num_iterations")
    given = [v for k, v in (model.engine_params or {}).items() if k in names]
    return int(given[-1]) if given else n_estimators


def _distillation_idle(model: Ranker, y, ptr, teacher) -> str | None:
    """Why a distillation has nothing to learn, or None: the teacher's scores do not vary within any query (a
    query-level feature as the teacher's column, a file of one value, queries of one document), so its softmax is
    the untrained student's, and the labels' lambdarank term is off (``alpha=0``) or has no pair to order. Every
    gradient is 0 then, whatever the parameters: the engines' warnings blamed min_child_samples and reg_lambda, or
    said nothing (XGBoost's 20 single leaves of value 0; trial t65)."""
    if model.objective != "distill" or ptr is None:
        return None
    starts = np.asarray(ptr, dtype=np.int64)[:-1][np.diff(ptr) > 0]
    if not starts.size:
        return None
    alpha = float((model.objective_params or {}).get("alpha", 0.0))
    flat = teacher is None or alpha >= 1.0 or bool(np.array_equal(np.maximum.reduceat(teacher, starts),
                                                                   np.minimum.reduceat(teacher, starts)))
    if not flat or not (alpha <= 0.0 or no_query_has_two_labels(y, ptr)):
        return None
    if alpha >= 1.0:  # the labels' term alone: the teacher is not read (review of t65: it was said not to vary)
        return ("no query of the training data has two different labels, so distillation with alpha=1 (the labels' "
                "lambdarank term alone) has nothing to learn (its gradients are all 0) and the model scores every row "
                "alike; check the labels (or the query ids)")
    labels = "" if alpha <= 0.0 else " and no query of the training data has two different labels"
    return (f"the teacher's scores do not vary within any query (a query-level feature as its column, one value "
            f"for every row, or queries of one document){labels}, so distillation has nothing to learn (its gradients "
            "are all 0) and the model scores every row alike; check the teacher (objective_params' teacher, "
            "--teacher-column, --teacher-scores)")


def _warn_stopped_short(model: Ranker, asked: int, stopping: bool, stopping_rounds, y=None, ptr=None,
                        idle: str | None = None) -> None:
    """A warning when LightGBM ran fewer rounds than asked and early stopping does not explain it: no leaf met the
    split requirements, and LightGBM stops for good (with a custom objective it cannot start again). The model is
    then what those rounds made, a constant after one round: the trial that found it had an all-zero model from the
    small-data preset's L2 with a kernel that starts at score 0, and a run-away listnet step at learning rate 1."""
    if model.engine != "lightgbm" or model.n_rounds_ >= asked:
        return
    if stopping and model.n_rounds_ >= model.best_iteration_ + int(stopping_rounds):
        return  # early stopping: patience ran out
    import warnings

    if idle:
        warnings.warn(f"lightgbm stopped after {model.n_rounds_} of {asked} rounds: {idle}", UserWarning,
                      stacklevel=3)
        return
    pairwise = model.objective not in ("pointwise", "logistic", "distill")  # those learn from each row (or a teacher)
    if y is not None and ptr is not None and pairwise:
        if no_query_has_two_labels(y, ptr):
            # no pair to order: every gradient of a ranking objective is 0, and no parameter changes that
            warnings.warn(f"lightgbm stopped after {model.n_rounds_} of {asked} rounds: no query of the training "
                          "data has two different labels, so a ranking objective has nothing to learn (its gradients "
                          "are all 0) and the model scores every row alike; check the labels (or the query ids)",
                          UserWarning, stacklevel=3)
            return
    if y is not None and (short := _leaf_too_large(model, len(y))):
        warnings.warn(f"lightgbm stopped after {model.n_rounds_} of {asked} rounds: {short}; the model is what those "
                      "rounds made. Lower min_child_samples", UserWarning, stacklevel=3)
        return
    preset = getattr(model, "preset_params_", None) or {}
    said = ", ".join(f"{k}={v!r}" for k, v in preset.items() if k in ("reg_lambda", "min_child_samples",
                                                                       "learning_rate"))
    warnings.warn(f"lightgbm stopped after {model.n_rounds_} of {asked} rounds: no leaf met the split requirements "
                  f"(min_child_samples, reg_lambda, min_split_gain, min_sum_hessian_in_leaf"
                  f"{'; the preset set ' + said if said else ''}), and LightGBM does not go on; the model is what "
                  "those rounds made. Lower reg_lambda or the learning rate, or raise engine_params' "
                  "min_sum_hessian_in_leaf if the scores ran away", UserWarning, stacklevel=3)


def _leaf_too_large(model: Ranker, n_rows: int) -> str | None:
    """Why no tree could split, when the leaf size alone says it: a split needs two leaves of ``min_data_in_leaf``
    rows, more than the rows a tree is grown on (the training rows, times the bagging fraction when LightGBM bags);
    None otherwise. Read from the parameters LightGBM trained with, whichever name set them (trial t60: the
    advice was to lower reg_lambda, at 0)."""
    from ltr.rankers.aliases import engine_names

    params = getattr(model.booster_, "params", None) or {}

    def given(name, default):  # the value under any of LightGBM's names for the parameter
        return next((params[k] for k in engine_names("lightgbm", name) if k in params), default)

    leaf, fraction = given("min_data_in_leaf", 20), given("bagging_fraction", 1.0)
    bagged = float(fraction) < 1.0 and int(given("bagging_freq", 0)) > 0
    grown = n_rows * float(fraction) if bagged else n_rows
    if 2 * int(leaf) <= grown:
        return None
    held = (f"each round's bag holds about {int(grown)} of the {n_rows} training rows (bagging fraction "
            f"{float(fraction):g})" if bagged else f"the training data has {n_rows} rows")
    return f"a split needs two leaves of min_child_samples={int(leaf)} rows, {2 * int(leaf)} rows, and {held}"


def _warn_single_leaves(model: Ranker, y, ptr, idle: str | None = None) -> None:
    """XGBoost's counterpart of :func:`_warn_stopped_short`: XGBoost goes on growing single-leaf trees where LightGBM
    stops, so a model whose trees are all single leaves (its dump holds no split node) is said: with no query of two
    labels, or where no split met ``min_child_weight`` (1 by default: a kernel's hessians summed below it over a
    whole query, and ten rounds of single leaves scored every row 0, trial t54)."""
    import warnings

    rounds = f"xgboost trained {model.best_iteration_} rounds of single-leaf trees"
    if idle:
        warnings.warn(f"{rounds}: {idle}", UserWarning, stacklevel=3)
        return
    if model.objective not in ("pointwise", "logistic", "distill") and no_query_has_two_labels(y, ptr):
        warnings.warn(f"{rounds}: no query of the training data has two different labels, so a ranking objective has "
                      "nothing to learn (its gradients are all 0) and the model scores every row alike; check the "
                      "labels (or the query ids)", UserWarning, stacklevel=3)
        return
    given = (model.engine_params or {}).get("min_child_weight")
    weight = (f"min_child_weight={given!r} as given" if given is not None else
              "min_child_weight, XGBoost's least hessian sum per leaf, 1 by default, which a kernel objective's "
              "hessians can sum below over a whole query")
    lower = "" if given is not None else "; lower engine_params' min_child_weight (--param min_child_weight=0.001)"
    warnings.warn(f"{rounds}: no split met the split requirements ({weight}; reg_lambda, gamma, max_depth), and the "
                  f"model scores every row alike{lower}", UserWarning, stacklevel=3)


def _rounds_run(booster, best, record) -> int:
    """The boosting rounds the engine ran (more than the best iteration after early stopping, whose booster may be
    cut at the best: the evaluation curves are not; fewer than asked when LightGBM found nothing left to split)."""
    run = max((len(values) for per in (record or {}).values() for values in per.values()), default=0)
    for name in ("current_iteration", "num_boosted_rounds"):  # LightGBM, XGBoost
        rounds = getattr(booster, name, None)
        if callable(rounds):
            return max(int(rounds()), run)
    return max(int(best), run)
