"""``ltr.Ranker``: one scikit-learn estimator over LightGBM and XGBoost, native or Numba objectives."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator

from ltr.datasets import RankingDataset
from ltr.exceptions import ModelFormatError
from ltr.groups import resolve_group_ptr
from ltr.io._atomic import atomic_write
from ltr.rankers._backends import TrainSet, get_backend

__all__ = ["Ranker", "load_model", "ENGINES", "KERNELS", "DEVICES"]

logger = logging.getLogger(__name__)

ENGINES = ("lightgbm", "xgboost")
KERNELS = ("native", "numba")
DEVICES = ("cpu", "gpu")
MODEL_FORMAT = "ltrkit-model/1"


def _objective_table():
    from ltr.objectives import KERNEL_OBJECTIVES, NATIVE

    return NATIVE, KERNEL_OBJECTIVES


def _objectives() -> tuple[str, ...]:
    native, kernel = _objective_table()
    names = set(kernel)
    for table in native.values():
        names |= set(table)
    return tuple(sorted(names))


def _as_2d(X, what: str = "X"):
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=np.float32)
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{what} must be 2-D (n_rows, n_features), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) and X.dtype != bool:
        raise TypeError(f"{what} must be numeric, got dtype {X.dtype}")
    return X


def _labels(y, n: int, what: str = "y") -> NDArray[np.float64]:
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},) to match X, got {y.shape}")
    if np.isnan(y).any():
        i = int(np.flatnonzero(np.isnan(y))[0])
        raise ValueError(f"{what} has NaN labels (first at row {i}); labels must be numbers")
    return y


def _unpack(X, y, qid, group, what: str = "X"):
    """Accept a RankingDataset, or X, y plus exactly one of qid/group."""
    if isinstance(X, RankingDataset):
        if y is not None or qid is not None or group is not None:
            raise ValueError(f"{what} is a RankingDataset: do not also pass y, qid or group")
        return X.X, np.asarray(X.y, dtype=np.float64), np.asarray(X.group_ptr)
    X = _as_2d(X, what)
    if y is None:
        raise ValueError(f"{what}: labels y are required")
    y = _labels(y, X.shape[0])
    return X, y, resolve_group_ptr(X.shape[0], qid=qid, group=group)


def _fingerprint(X, y, group_ptr) -> str:
    h = hashlib.sha256()
    if sp.issparse(X):
        for a in (X.data, X.indices, X.indptr):
            h.update(np.ascontiguousarray(a).tobytes())
    else:
        h.update(np.ascontiguousarray(X, dtype=np.float32).tobytes())
    h.update(np.ascontiguousarray(y).tobytes())
    h.update(np.ascontiguousarray(group_ptr).tobytes())
    return h.hexdigest()[:16]


class Ranker(BaseEstimator):
    """A learning-to-rank model: gradient-boosted trees with a ranking objective.

    Parameters
    ----------
    objective : str, default="lambdarank"
        ``"lambdarank"`` (LambdaMART, NDCG-weighted pairs), ``"ranknet"`` (pairwise logistic), ``"listnet"``
        (top-one softmax cross-entropy), ``"pointwise"`` (squared error on the label), ``"logistic"`` (binary
        relevance), ``"xendcg"`` (LightGBM native only), ``"map"`` (XGBoost native only).
    engine : {"lightgbm", "xgboost"}, default="lightgbm"
    kernel : {"native", "numba"}, default="native"
        ``"native"`` uses the engine's built-in objective; ``"numba"`` the toolkit's gradient kernel as a custom
        objective (the same trees as LightGBM's native lambdarank with ``objective_params={"mode": "lightgbm"}``).
    device : {"cpu", "gpu"}, default="cpu"
        ``"gpu"`` selects LightGBM's GPU learner (``device_type="gpu"``, OpenCL; pass ``gpu_platform_id`` and
        ``gpu_device_id`` in ``engine_params``) or XGBoost on CUDA (``device="cuda"``).
    n_estimators, learning_rate, num_leaves, max_depth, min_child_samples, subsample, colsample_bytree, reg_lambda
        Tree hyper-parameters with LightGBM's scikit-learn names, mapped to each engine's own. XGBoost grows
        leaf-wise (``grow_policy="lossguide"``) with ``max_leaves=num_leaves``; it has no ``min_child_samples``.
    objective_params : dict, optional
        Objective parameters in the kernels' vocabulary (for example ``sigma``, ``truncation_level``, ``norm``,
        ``label_gain``; ``mode="lightgbm"`` reproduces LightGBM's float32 arithmetic), translated to the engine's
        names for native objectives. Copied, never mutated.
    engine_params : dict, optional
        Extra engine parameters, applied last. Copied, never mutated.
    eval_at : tuple of int, default=(10,)
        Cut-offs of the NDCG reported on validation sets each round; the first drives early stopping.
    early_stopping_rounds : int, optional
        Stop when the first validation set's NDCG@``eval_at[0]`` has not improved for this many rounds.
    n_jobs : int, optional
        Threads for the engine (the Numba kernels use Numba's own thread pool).
    random_state : int, optional
    normalize : str or dict, optional
        Feature normalisation fitted in ``fit`` and applied identically in ``predict`` (stored in the model's
        sidecar): ``"zscore"``, ``"minmax"`` (alias ``"linear"``) or ``"sum"`` per query, as RankLib's ``-norm``
        (``predict`` then needs the query offsets: pass a RankingDataset, ``qid=`` or ``group=``), or
        ``"global-zscore"`` / ``"global-minmax"`` fitted on the training rows. A dict is a normaliser's
        ``to_dict()``; see :mod:`ltr.evaluation.normalize`.
    verbose : int, default=0
        1 shows a progress bar over boosting rounds; 2 also logs each round's validation metrics.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str, optional
    booster_ : the engine's booster
    best_iteration_ : int
        Rounds used by ``predict`` (the best round under early stopping, else all).
    evals_result_ : dict
        ``{"valid_0": {"ndcg@10": [per round ...]}}``.
    fit_seconds_ : float
    normalizer_ : QueryNormalizer or GlobalNormalizer or None
        The fitted normaliser (None without ``normalize``).
    """

    def __init__(
        self,
        objective: str = "lambdarank",
        engine: str = "lightgbm",
        kernel: str = "native",
        device: str = "cpu",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        num_leaves: int = 31,
        max_depth: int = -1,
        min_child_samples: int = 20,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_lambda: float = 0.0,
        objective_params: dict | None = None,
        engine_params: dict | None = None,
        eval_at: tuple[int, ...] = (10,),
        early_stopping_rounds: int | None = None,
        n_jobs: int | None = None,
        random_state: int | None = None,
        normalize: str | dict | None = None,
        verbose: int = 0,
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
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.normalize = normalize
        self.verbose = verbose

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
        native, kernels = _objective_table()
        if self.kernel == "native":
            table = native[self.engine]
            if self.objective not in table:
                known = _objectives()
                if self.objective not in known:
                    raise ValueError(f"unknown objective {self.objective!r}; choose one of {list(known)}")
                raise ValueError(
                    f"{self.engine} has no native {self.objective!r} objective; native ones are {sorted(table)}, "
                    f"or use kernel='numba' for {sorted(kernels)}"
                )
            from ltr.objectives import native_params

            return native_params(self.engine, self.objective, **dict(self.objective_params or {}))
        if self.objective not in kernels:
            known = _objectives()
            if self.objective not in known:
                raise ValueError(f"unknown objective {self.objective!r}; choose one of {list(known)}")
            raise ValueError(f"no numba kernel for {self.objective!r}; kernels exist for {sorted(kernels)}")
        return None

    def _metric_names(self) -> list[str]:
        at = (self.eval_at,) if isinstance(self.eval_at, int) else tuple(self.eval_at)
        if not at or any(int(k) < 1 for k in at):
            raise ValueError(f"eval_at must be positive cut-offs, got {self.eval_at!r}")
        return [f"ndcg@{int(k)}" for k in at]

    # -- fit / predict ------------------------------------------------------------------------------------------
    def fit(self, X, y=None, *, qid: ArrayLike | None = None, group: ArrayLike | None = None,
            sample_weight: ArrayLike | None = None, eval_set=None, feature_names=None) -> Ranker:
        """Train on rows sorted by query.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features), sparse matrix, or RankingDataset
            A :class:`~ltr.RankingDataset` brings its own labels, groups and feature names.
        y : array-like of shape (n_rows,)
            Graded relevance labels.
        qid, group : array-like
            Exactly one: a query id per row (rows of a query contiguous), or query sizes in row order.
        sample_weight : array-like of shape (n_rows,), optional
            Row weights: native LightGBM lambdarank and the numba kernels multiply each row's gradient and
            hessian by its weight. XGBoost's native rankers expect one weight per query: rows of a query must then
            share a weight, which is passed as the group's.
        eval_set : list of RankingDataset or of (X, y, qid) tuples, optional
            Validation sets, evaluated every round with NDCG@``eval_at`` (the first drives early stopping).
        feature_names : sequence of str, optional
        """
        native_objective = self._resolve_objective()
        native = native_objective is not None
        metrics = self._metric_names()
        if isinstance(X, RankingDataset) and feature_names is None and X.feature_names is not None:
            feature_names = list(X.feature_names)
        Xa, ya, ptr = _unpack(X, y, qid, group)
        if Xa.shape[0] == 0:
            raise ValueError("X has no rows")
        fingerprint = _fingerprint(Xa, ya, ptr)  # of the data as given, before normalisation
        self.normalizer_ = self._make_normalizer()
        if self.normalizer_ is not None:
            Xa = self.normalizer_.fit(Xa, group_ptr=ptr).transform(Xa, group_ptr=ptr)
        weight = None
        if sample_weight is not None:
            weight = np.asarray(sample_weight, dtype=np.float64)
            if weight.shape != ya.shape:
                raise ValueError(f"sample_weight must have shape {ya.shape}, got {weight.shape}")
            if native and self.engine == "xgboost":
                weight = self._group_weights(weight, ptr)
        valid = []
        for i, item in enumerate(eval_set or []):
            if isinstance(item, RankingDataset):
                vx, vy, vptr = _unpack(item, None, None, None, f"eval_set[{i}]")
            else:
                if len(item) != 3:
                    raise ValueError(f"eval_set[{i}] must be a RankingDataset or an (X, y, qid) tuple")
                vx, vy, vptr = _unpack(item[0], item[1], item[2], None, f"eval_set[{i}]")
            if self.normalizer_ is not None and vx.shape[1] == Xa.shape[1]:
                vx = self.normalizer_.transform(vx, group_ptr=vptr)
            if vx.shape[1] != Xa.shape[1]:
                raise ValueError(
                    f"eval_set[{i}] has {vx.shape[1]} features but the training data has {Xa.shape[1]}; read both "
                    "files with the same n_features="
                )
            valid.append(TrainSet(vx, vy, vptr))

        backend = get_backend(self.engine)
        params = backend.params(self, native_objective)
        # A custom objective applies row weights inside the kernel; the engine gets them only for native ones.
        fobj = None if native else self._custom_objective(ya, ptr, weight)
        train = TrainSet(Xa, ya, ptr, weight if native else None)
        callbacks = []
        bar = None
        if self.verbose:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.n_estimators, desc=f"{self.engine}/{self.objective}", unit="round")
            callbacks.append(backend.progress_callback(bar))
        t0 = time.perf_counter()
        try:
            booster, record, best = backend.train(params, train, valid, int(self.n_estimators), fobj, metrics,
                                                  {}, self.early_stopping_rounds, callbacks)
        except Exception as e:
            if self.device == "gpu" and type(e).__name__ in ("LightGBMError", "XGBoostError"):
                raise RuntimeError(
                    f"{self.engine} could not train on the GPU ({e}); check the driver (LightGBM needs an OpenCL "
                    "platform: set engine_params={'gpu_platform_id': ..., 'gpu_device_id': ...}), or use device='cpu'"
                ) from e
            raise
        finally:
            if bar is not None:
                bar.close()
        self.fit_seconds_ = time.perf_counter() - t0
        self.booster_ = booster
        self.best_iteration_ = int(best)
        self.evals_result_ = record
        if self.verbose >= 2:
            for name, per in record.items():
                for m, vals in per.items():
                    for r, v in enumerate(vals, 1):
                        logger.info("round %d %s %s=%.6f", r, name, m, v)
        self.n_features_in_ = int(Xa.shape[1])
        if feature_names is not None:
            names = np.asarray([str(s) for s in feature_names], dtype=object)
            if names.size != self.n_features_in_:
                raise ValueError(f"{names.size} feature names for {self.n_features_in_} features")
            self.feature_names_in_ = names
        self.data_fingerprint_ = fingerprint
        return self

    def _make_normalizer(self):
        """A fresh, unfitted normaliser from ``normalize`` (None without one)."""
        if self.normalize is None:
            return None
        from ltr.evaluation.normalize import make_normalizer, normalizer_from_dict

        spec = make_normalizer(self.normalize).to_dict()
        # Refit on every fit: drop the offsets that a dict from an earlier fit may carry.
        return normalizer_from_dict({k: v for k, v in spec.items() if k not in ("offset", "scale")})

    @staticmethod
    def _group_weights(weight, ptr):
        first = weight[ptr[:-1]]
        if not np.all(weight == np.repeat(first, np.diff(ptr))):
            raise ValueError(
                "XGBoost's native rankers take one weight per query: rows of a query must share a weight "
                "(or use kernel='numba' for row weights)"
            )
        return first

    def _custom_objective(self, y, ptr, weight):
        from ltr import objectives

        params = dict(self.objective_params or {})
        if self.engine == "lightgbm":
            return objectives.lightgbm_objective(self.objective, ptr, weight=weight, labels=y, n_jobs=self.n_jobs,
                                                 **params)
        return objectives.xgboost_objective(self.objective, ptr, weight=weight, labels=y, n_jobs=self.n_jobs,
                                            **params)

    def _check_fitted(self):
        if not hasattr(self, "booster_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this Ranker is not fitted yet: call fit() or ltr.load_model() first")

    def predict(self, X, *, qid: ArrayLike | None = None, group: ArrayLike | None = None) -> NDArray[np.float64]:
        """Scores, one per row (higher ranks first). Only the order within a query is meaningful.

        ``qid`` or ``group`` (or a RankingDataset) are needed only by a model with a per-query ``normalize``.
        """
        self._check_fitted()
        ptr = None
        if isinstance(X, RankingDataset):
            ptr = np.asarray(X.group_ptr)
            X = X.X
        X = _as_2d(X)
        if qid is not None or group is not None:
            ptr = resolve_group_ptr(X.shape[0], qid=qid, group=group)
        if X.shape[1] != self.n_features_in_:
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
        return get_backend(self.engine).predict(self.booster_, X, self.best_iteration_)

    def score(self, X, y=None, *, qid=None, group=None, sample_weight=None) -> float:
        """Mean NDCG@10 (exp2 gain, queries with no relevant document score 0, as trec_eval)."""
        from ltr.metrics import evaluate

        Xa, ya, ptr = _unpack(X, y, qid, group)
        scores = self.predict(Xa, group=np.diff(ptr))
        return float(evaluate(ya, scores, group_ptr=ptr, metrics=["ndcg@10"])["ndcg@10"])

    @property
    def feature_importances_(self) -> NDArray[np.float64]:
        """Total gain of the splits on each feature (normalised to sum to 1)."""
        self._check_fitted()
        imp = get_backend(self.engine).importances(self.booster_, "gain", self.n_features_in_)
        total = imp.sum()
        return imp / total if total > 0 else imp

    def feature_importance(self, kind: str = "gain") -> NDArray[np.float64]:
        """Raw importances: ``"gain"`` (total gain) or ``"split"`` (number of splits)."""
        self._check_fitted()
        if kind not in ("gain", "split"):
            raise ValueError(f"kind must be 'gain' or 'split', got {kind!r}")
        return get_backend(self.engine).importances(self.booster_, kind, self.n_features_in_)

    # -- persistence --------------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the engine's own model text to ``path`` and a JSON sidecar to ``path + ".meta.json"``.

        Both writes are atomic; the sidecar records the model text's SHA-256, so a truncated or edited model is
        refused at load time instead of reaching the engine.
        """
        self._check_fitted()
        text = get_backend(self.engine).to_text(self.booster_)
        from ltr import __version__

        meta = {
            "format": MODEL_FORMAT,
            "ltrkit_version": __version__,
            "params": self.get_params(deep=False),
            "n_features": self.n_features_in_,
            "feature_names": None if not hasattr(self, "feature_names_in_") else list(self.feature_names_in_),
            "best_iteration": self.best_iteration_,
            "data_fingerprint": self.data_fingerprint_,
            "model_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "fit_seconds": self.fit_seconds_,
            "normalizer": None if getattr(self, "normalizer_", None) is None else self.normalizer_.to_dict(),
        }
        if not isinstance(self.normalize, (str, dict, type(None))):  # an instance: store its description
            meta["params"]["normalize"] = self._make_normalizer().to_dict()
        meta["params"]["eval_at"] = list(meta["params"]["eval_at"]) if not isinstance(
            meta["params"]["eval_at"], int) else meta["params"]["eval_at"]
        path = Path(path)
        with atomic_write(path) as f:
            f.write(text)
        with atomic_write(_meta_path(path)) as f:
            f.write(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def load_model(path: str | os.PathLike) -> Ranker:
    """Load a model written by :meth:`Ranker.save`. Never unpickles; checks the model text's checksum.

    Raises
    ------
    ModelFormatError
        The model or its sidecar is missing, truncated, edited, or of an unknown format.
    """
    path = Path(path)
    meta_path = _meta_path(path)
    for p in (path, meta_path):
        if not p.is_file():
            raise ModelFormatError(f"model file {p} not found (a model is {path.name} plus {meta_path.name})")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelFormatError(f"{meta_path}: not valid JSON ({e})") from e
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ModelFormatError(f"{meta_path}: not an ltrkit model sidecar (expected format {MODEL_FORMAT!r})")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ModelFormatError(f"{path}: not a text model file ({e})") from e
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != meta.get("model_sha256"):
        raise ModelFormatError(
            f"{path}: the model text does not match the checksum in {meta_path.name}; the file was truncated or "
            "edited after saving"
        )
    params = dict(meta["params"])
    if isinstance(params.get("eval_at"), list):
        params["eval_at"] = tuple(params["eval_at"])
    try:
        model = Ranker(**params)
    except TypeError as e:
        raise ModelFormatError(f"{meta_path}: unknown parameters ({e})") from e
    backend = get_backend(model.engine)
    try:
        model.booster_ = backend.from_text(text)
    except Exception as e:  # the engine's own error type; the checksum makes this unlikely
        raise ModelFormatError(f"{path}: the {model.engine} engine could not load the model ({e})") from e
    model.n_features_in_ = int(meta["n_features"])
    if meta.get("feature_names") is not None:
        model.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
    model.best_iteration_ = int(meta["best_iteration"])
    model.data_fingerprint_ = meta.get("data_fingerprint")
    model.fit_seconds_ = float(meta.get("fit_seconds", float("nan")))
    model.evals_result_ = {}
    model.normalizer_ = None
    if meta.get("normalizer") is not None:
        from ltr.evaluation.normalize import normalizer_from_dict

        try:
            model.normalizer_ = normalizer_from_dict(meta["normalizer"])
        except (ValueError, KeyError, TypeError) as e:
            raise ModelFormatError(f"{meta_path}: bad normalizer ({e})") from e
        if model.normalizer_.needs_groups is False and getattr(model.normalizer_, "n_features_in_", None) != \
                model.n_features_in_:
            raise ModelFormatError(f"{meta_path}: the global normalizer does not match the model's feature count")
    return model
