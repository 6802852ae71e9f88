"""Cross-validation of rankers: LETOR fold directories, query-grouped K folds, parallel folds, saved artefacts.

Two sources of folds:

- :func:`letor_folds`: the standard LETOR layout ``ROOT/Fold1..FoldK/{train,vali,test}.txt`` (each also ``.gz``),
  as shipped with LETOR 3.0/4.0, MSLR-WEB and Istella;
- :func:`query_kfold`: one dataset cut into K folds of whole queries (a query is never split). Fold ``i`` tests
  on part ``i``, validates on part ``i + 1`` (mod K) and trains on the rest, LETOR's rotation.

:func:`cross_validate` trains a clone of the estimator on each fold (early stopping on ``vali`` when the estimator
asks for it), evaluates the test part per query, and returns a :class:`CVResult`: per-fold and mean +- std of
every metric, pooled per-query test values (each query is tested once, so two CV results over the same folds are
paired query by query), NDCG@1..20, the validation/training metric per boosting round and the feature importances
of each fold. Folds run in parallel with joblib when ``n_jobs > 1``, never with more workers than cores, and the
engine threads of each fold are divided so that workers x threads stays within the machine.

Scikit-learn's own tools work on :class:`ltr.Ranker` too; see :func:`ltr.evaluation.ndcg_scorer` for
``GridSearchCV`` with ``GroupKFold`` and query-id routing.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ltr.datasets import RankingDataset
from ltr.evaluation.normalize import GlobalNormalizer, QueryNormalizer, make_normalizer

__all__ = [
    "CVResult",
    "Fold",
    "FoldResult",
    "cross_validate",
    "dataset_summary",
    "letor_folds",
    "query_kfold",
]

logger = logging.getLogger(__name__)

CURVE_K = tuple(range(1, 21))
_FOLD_RE = re.compile(r"^fold(\d+)$", re.IGNORECASE)
_PARTS = ("train", "vali", "test")


@dataclass(frozen=True)
class Fold:
    """One train / validation / test split; each part a dataset or a LETOR file path (read when needed).

    Attributes
    ----------
    name : str
    train, test : RankingDataset or Path
    vali : RankingDataset, Path or None
    """

    name: str
    train: RankingDataset | Path
    vali: RankingDataset | Path | None
    test: RankingDataset | Path


def _find_part(folder: Path, part: str) -> Path | None:
    names = [part] + (["valid", "validation"] if part == "vali" else [])
    for stem in names:
        for ext in (".txt", ".txt.gz"):
            p = folder / f"{stem}{ext}"
            if p.is_file():
                return p
    return None


def letor_folds(root: str | os.PathLike) -> list[Fold]:
    """The folds of a LETOR directory ``ROOT/Fold1..FoldK/{train,vali,test}.txt[.gz]``.

    ``vali`` may also be spelled ``valid`` or ``validation``; it may be absent from every fold (then nothing stops
    early), but not from some folds only. Files are read later, by :func:`cross_validate`.

    Raises
    ------
    FileNotFoundError
        ``root`` is not a directory, has no ``Fold<i>`` sub-directory, or a fold lacks a file (the message lists
        every missing file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for i in (1, 2):
    ...     (root / f"Fold{i}").mkdir()
    ...     for part in ("train.txt", "vali.txt", "test.txt.gz"):
    ...         (root / f"Fold{i}" / part).touch()
    >>> [(f.name, f.train.name, f.test.name) for f in letor_folds(root)]
    [('Fold1', 'train.txt', 'test.txt.gz'), ('Fold2', 'train.txt', 'test.txt.gz')]
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"fold directory not found: {root}")
    dirs = sorted(((int(m.group(1)), p) for p in root.iterdir() if p.is_dir() and (m := _FOLD_RE.match(p.name))),
                  key=lambda t: t[0])
    if not dirs:
        raise FileNotFoundError(f"{root} has no Fold1..FoldK sub-directories (the LETOR layout "
                                "Fold1/{train,vali,test}.txt)")
    found = {p.name: {part: _find_part(p, part) for part in _PARTS} for _, p in dirs}
    missing = [f"{name}/{part}.txt[.gz]" for name, parts in found.items() for part in ("train", "test")
               if parts[part] is None]
    with_vali = [name for name, parts in found.items() if parts["vali"] is not None]
    if with_vali and len(with_vali) != len(found):
        missing += [f"{name}/vali.txt[.gz]" for name in found if name not in with_vali]
    if missing:
        raise FileNotFoundError(f"{root}: incomplete LETOR fold layout, missing {', '.join(missing)}")
    return [Fold(name, parts["train"], parts["vali"], parts["test"]) for name, parts in found.items()]


def query_kfold(data: RankingDataset, n_splits: int = 5, *, validation: bool = True, shuffle: bool = True,
                random_state: int | None = 0) -> list[Fold]:
    """K folds of whole queries from one dataset (scikit-learn's ``KFold`` over query positions).

    Fold ``i`` tests on part ``i``; with ``validation=True`` it validates on part ``(i + 1) % K`` and trains on
    the other ``K - 2`` parts (LETOR's rotation), else trains on ``K - 1`` parts. Queries keep their row order
    inside each part.

    Examples
    --------
    >>> from ltr import make_ranking
    >>> folds = query_kfold(make_ranking(10, 3, 2, random_state=0), 5)
    >>> [(f.train.n_queries, f.vali.n_queries, f.test.n_queries) for f in folds][:2]
    [(6, 2, 2), (6, 2, 2)]
    """
    from sklearn.model_selection import KFold

    if not isinstance(data, RankingDataset):
        raise TypeError(f"query_kfold needs a RankingDataset, got {type(data).__name__}")
    k_min = 3 if validation else 2
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < k_min:
        raise ValueError(f"n_splits must be an integer >= {k_min} (with validation={validation}), got {n_splits!r}")
    if data.n_queries < n_splits:
        raise ValueError(f"cannot cut {data.n_queries} queries into {n_splits} folds of whole queries")
    kf = KFold(n_splits, shuffle=shuffle, random_state=random_state if shuffle else None)
    parts = [np.sort(test) for _, test in kf.split(np.arange(data.n_queries))]
    folds = []
    for i in range(n_splits):
        v = (i + 1) % n_splits if validation else None
        train = np.sort(np.concatenate([parts[j] for j in range(n_splits) if j != i and j != v]))
        folds.append(Fold(f"Fold{i + 1}", data.subset(train), data.subset(parts[v]) if validation else None,
                          data.subset(parts[i])))
    return folds


def dataset_summary(data: RankingDataset, name: str = "data") -> dict[str, Any]:
    """Counts for reports: labels and rows per query (JSON-able).

    Examples
    --------
    >>> from ltr import make_ranking
    >>> s = dataset_summary(make_ranking(3, 4, 2, random_state=0))
    >>> s["n_queries"], s["rows_per_query"]
    (3, [4, 4, 4])
    """
    labels, counts = np.unique(np.asarray(data.y), return_counts=True)
    return {
        "name": name,
        "n_queries": data.n_queries,
        "n_rows": data.n_rows,
        "n_features": data.n_features,
        "label_counts": {f"{lab:g}": int(c) for lab, c in zip(labels, counts)},
        "rows_per_query": [int(s) for s in data.group_sizes],
    }


# -- results -----------------------------------------------------------------------------------------------------
@dataclass
class FoldResult:
    """What one fold produced (all JSON-able)."""

    name: str
    metrics: dict[str, float]
    qids: list[str]
    per_query: dict[str, list[float]]
    curve: list[float]
    seconds: float
    rounds: int
    evals: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    importance: dict[str, list[float]] = field(default_factory=dict)
    n_train_queries: int = 0
    n_test_queries: int = 0
    test_labels: dict[str, int] = field(default_factory=dict)
    test_sizes: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CVResult:
    """Cross-validation outcome: per-fold metrics, their mean and std, and pooled per-query test values.

    Attributes
    ----------
    name : str
        The system's name (for comparisons and reports).
    metrics : list of str
        Canonical metric names.
    folds : list of FoldResult
    feature_names : list of str or None
    params : dict
        The estimator's parameters.
    settings : dict
        How the CV was run (fold source, normalisation, conventions).
    datasets : list of dict
        :func:`dataset_summary` of the data, when known.
    """

    name: str
    metrics: list[str]
    folds: list[FoldResult]
    feature_names: list[str] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    datasets: list[dict[str, Any]] = field(default_factory=list)

    def mean(self) -> dict[str, float]:
        """Mean over folds of each fold's mean metric (the LETOR convention: average of fold averages)."""
        return {m: float(np.mean([f.metrics[m] for f in self.folds])) for m in self.metrics}

    def std(self) -> dict[str, float]:
        """Sample standard deviation over folds (0 for a single fold)."""
        return {m: float(np.std([f.metrics[m] for f in self.folds], ddof=1)) if len(self.folds) > 1 else 0.0
                for m in self.metrics}

    def pooled_qids(self) -> list[str]:
        """Test query ids pooled over folds (``"Fold2/17"`` if a query is tested in more than one fold)."""
        all_ids = [q for f in self.folds for q in f.qids]
        if len(set(all_ids)) == len(all_ids):
            return all_ids
        return [f"{f.name}/{q}" for f in self.folds for q in f.qids]

    def per_query(self, metric: str | None = None):
        """Pooled per-query test values: a DataFrame indexed by qid (one column per metric), or one Series."""
        import pandas as pd

        frame = pd.DataFrame({m: np.concatenate([np.asarray(f.per_query[m], dtype=np.float64) for f in self.folds])
                              for m in self.metrics}, index=pd.Index(self.pooled_qids(), name="qid"))
        if metric is None:
            return frame
        from ltr.metrics import parse_metric

        return frame[parse_metric(metric).name]

    def curve(self) -> list[float]:
        """Mean over folds of NDCG@k for k = 1..20."""
        return np.mean([f.curve for f in self.folds], axis=0).tolist()

    def importance(self, kind: str = "gain") -> list[float] | None:
        """Mean over folds of the engine's importances (``"gain"`` or ``"split"``), or None."""
        vals = [f.importance[kind] for f in self.folds if kind in f.importance]
        return np.mean(vals, axis=0).tolist() if vals else None

    def summary_rows(self) -> tuple[list[str], list[list]]:
        """Header and rows of the per-fold table plus ``mean`` and ``std`` rows."""
        header = ["fold", *self.metrics, "rounds", "seconds"]
        rows = [[f.name, *[f.metrics[m] for m in self.metrics], f.rounds, round(f.seconds, 2)] for f in self.folds]
        mean, std = self.mean(), self.std()
        rows.append(["mean", *[mean[m] for m in self.metrics], "", round(sum(f.seconds for f in self.folds), 2)])
        rows.append(["std", *[std[m] for m in self.metrics], "", ""])
        return header, rows

    def to_dict(self) -> dict[str, Any]:
        """The result file's content (see :mod:`ltr.evaluation.report` for the schema)."""
        from ltr.evaluation.report import cv_result_dict

        return cv_result_dict(self)

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as JSON, atomically."""
        from ltr.evaluation.report import write_result

        write_result(path, self.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CVResult:
        """Rebuild from :meth:`to_dict` output (a ``kind == "cv"`` result file)."""
        from ltr.evaluation.report import cv_result_from_dict

        return cv_result_from_dict(d)


# -- running -----------------------------------------------------------------------------------------------------
def _cpu_count() -> int:
    import joblib

    return max(1, int(joblib.cpu_count()))


def _load(part, n_features: int | None) -> RankingDataset | None:
    if part is None or isinstance(part, RankingDataset):
        return _pad(part, n_features) if part is not None else None
    from ltr.io import read_letor

    return read_letor(part, n_features=n_features)


def _pad(d: RankingDataset, n_features: int | None) -> RankingDataset:
    if n_features is None or d.n_features == n_features:
        return d
    if d.n_features > n_features:
        raise ValueError(f"a fold has {d.n_features} features but the first training set has {n_features}")
    from dataclasses import replace

    extra = n_features - d.n_features
    X = sp.hstack([d.X, sp.csr_matrix((d.n_rows, extra), dtype=np.float32)], format="csr") if sp.issparse(d.X) \
        else np.hstack([d.X, np.zeros((d.n_rows, extra), dtype=np.float32)])
    names = None if d.feature_names is None else (*d.feature_names, *[f"f{j}" for j in
                                                                      range(d.n_features + 1, n_features + 1)])
    return replace(d, X=X, feature_names=names)


def _select(d: RankingDataset | None, columns: NDArray[np.intp] | None) -> RankingDataset | None:
    if d is None or columns is None:
        return d
    from ltr.evaluation.selection import take_columns

    return take_columns(d, columns)


def _apply_normalizer(norm, fit_on: RankingDataset, parts: list[RankingDataset | None]):
    from dataclasses import replace

    norm.fit(fit_on.X, group_ptr=fit_on.group_ptr)
    return [None if p is None else replace(p, X=norm.transform(p.X, group_ptr=p.group_ptr)) for p in parts]


def _has_param(estimator, name: str) -> bool:
    try:
        return name in estimator.get_params(deep=False)
    except Exception:  # not a scikit-learn estimator
        return False


def _run_fold(estimator, fold: Fold, n_features, columns, metrics, conventions, normalize, record_train,
              save_dir, threads) -> FoldResult:
    from sklearn.base import clone

    from ltr.metrics import evaluate_per_query

    train = _select(_load(fold.train, n_features), columns)
    vali = _select(_load(fold.vali, n_features), columns)
    test = _select(_load(fold.test, n_features), columns)
    model = clone(estimator)
    if threads is not None and _has_param(model, "n_jobs") and model.get_params()["n_jobs"] is None:
        model.set_params(n_jobs=threads)
    norm = None
    if normalize is not None:
        if _has_param(model, "normalize"):  # the model stores and applies it itself
            model.set_params(normalize=normalize if isinstance(normalize, str) else normalize.to_dict())
        else:
            norm = make_normalizer(normalize.to_dict() if not isinstance(normalize, str) else normalize)
            train, vali, test = _apply_normalizer(norm, train, [train, vali, test])
    eval_set: list[RankingDataset] = []
    names: list[str] = []
    if vali is not None:
        eval_set.append(vali)
        names.append("vali")
    stops = _has_param(model, "early_stopping_rounds") and model.get_params()["early_stopping_rounds"]
    if record_train and (vali is not None or not stops):  # never let the training set drive early stopping
        eval_set.append(train)
        names.append("train")
    t0 = time.perf_counter()
    fit_kw = {"eval_set": eval_set} if eval_set else {}
    model.fit(train, **fit_kw)
    seconds = time.perf_counter() - t0
    scores = _predict(model, test)
    per_query = evaluate_per_query(test.y, scores, group_ptr=test.group_ptr, metrics=metrics, **conventions)
    curve_names = [f"ndcg@{k}" for k in CURVE_K]
    curve_q = evaluate_per_query(test.y, scores, group_ptr=test.group_ptr, metrics=curve_names, **conventions)
    from ltr.metrics.api import _mean

    evals = {}
    record = getattr(model, "evals_result_", None) or {}
    for i, label in enumerate(names):
        per = record.get(f"valid_{i}")
        if per:
            evals[label] = {m: [float(v) for v in vals] for m, vals in per.items()}
    importance = {}
    if hasattr(model, "feature_importance"):
        for kind in ("gain", "split"):
            importance[kind] = [float(v) for v in model.feature_importance(kind)]
    result = FoldResult(
        name=fold.name,
        metrics={m: _mean(v) for m, v in per_query.items()},
        qids=[str(q) for q in test.query_ids],
        per_query={m: [float(x) for x in v] for m, v in per_query.items()},
        curve=[_mean(curve_q[n]) for n in curve_names],
        seconds=seconds,
        rounds=int(getattr(model, "best_iteration_", 0) or 0),
        evals=evals,
        importance=importance,
        n_train_queries=train.n_queries,
        n_test_queries=test.n_queries,
        test_labels=dataset_summary(test)["label_counts"],
        test_sizes=[int(v) for v in test.group_sizes],
    )
    if save_dir is not None:
        _save_fold(Path(save_dir) / fold.name, model, norm, scores, result)
    return result


def _predict(model, data: RankingDataset) -> NDArray[np.float64]:
    # A Ranker with a per-query normaliser needs the query offsets: give it the whole dataset.
    return np.asarray(model.predict(data), dtype=np.float64)


def _save_fold(folder: Path, model, norm, scores, result: FoldResult) -> None:
    import json

    from ltr.io._atomic import atomic_write

    folder.mkdir(parents=True, exist_ok=True)
    if hasattr(model, "save"):
        model.save(folder / "model.txt")
    if norm is not None:
        with atomic_write(folder / "normalizer.json") as f:
            f.write(json.dumps(norm.to_dict(), indent=2) + "\n")
    with atomic_write(folder / "test.scores") as f:
        f.write("".join(f"{s!r}\n" for s in scores.tolist()))
    with atomic_write(folder / "per_query.tsv") as f:
        f.write("\t".join(["qid", *result.per_query]) + "\n")
        for i, q in enumerate(result.qids):
            f.write("\t".join([q, *[repr(result.per_query[m][i]) for m in result.per_query]]) + "\n")


def _folds_from(data, n_splits: int, random_state, validation: bool) -> tuple[list[Fold], dict, list[dict]]:
    if isinstance(data, (list, tuple)) and all(isinstance(f, Fold) for f in data):
        return list(data), {"source": "folds"}, []
    if isinstance(data, RankingDataset):
        return (query_kfold(data, n_splits, validation=validation, random_state=random_state),
                {"source": "query_kfold", "n_splits": n_splits, "random_state": random_state},
                [dataset_summary(data)])
    path = Path(data)
    if path.is_dir():
        return letor_folds(path), {"source": "letor_folds", "root": str(path)}, []
    if path.is_file():
        from ltr.io import read_letor

        d = read_letor(path)
        return (query_kfold(d, n_splits, validation=validation, random_state=random_state),
                {"source": "query_kfold", "file": str(path), "n_splits": n_splits, "random_state": random_state},
                [dataset_summary(d, path.name)])
    raise FileNotFoundError(f"no such file or fold directory: {path}")


def cross_validate(
    estimator,
    data: RankingDataset | str | os.PathLike | Sequence[Fold],
    *,
    metrics: str | Sequence[str] = ("ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10", "map"),
    n_splits: int = 5,
    validation: bool = True,
    random_state: int | None = 0,
    n_jobs: int | None = 1,
    backend: str = "loky",
    normalize: str | dict | QueryNormalizer | GlobalNormalizer | None = None,
    features: Sequence[int | str] | None = None,
    n_features: int | None = None,
    record_train: bool = True,
    save_dir: str | os.PathLike | None = None,
    progress: bool = True,
    name: str | None = None,
    gain: str = "exp2",
    no_relevant: float = 0.0,
) -> CVResult:
    """Train and test ``estimator`` on every fold.

    Parameters
    ----------
    estimator : scikit-learn-style ranker
        Cloned per fold; ``fit(train, eval_set=[vali, train])`` and ``predict(test)`` on
        :class:`~ltr.RankingDataset` objects, as :class:`ltr.Ranker` takes them. The first evaluation set (the
        validation part) drives early stopping when the estimator has ``early_stopping_rounds``.
    data : RankingDataset, path or list of Fold
        A dataset or a LETOR file (cut by :func:`query_kfold`), a LETOR fold directory (:func:`letor_folds`), or
        ready folds.
    metrics : str or sequence of str
        Test metrics, names as :func:`ltr.metrics.parse_metric` takes them.
    n_splits, validation, random_state
        For a single dataset or file: see :func:`query_kfold`.
    n_jobs : int, optional
        Folds trained at once (``-1``: one per core). Capped by the number of folds and of cores; with more than
        one worker, an estimator whose ``n_jobs`` is None gets ``cores // workers`` engine threads, so that
        workers x threads never exceeds the cores. (On a machine shared with other jobs, one engine thread per
        fold is often fastest for LETOR-sized data: OpenMP threads that must wait for a busy core spin.)
    backend : {"loky", "threading"}, default="loky"
        joblib backend for parallel folds: processes (any objective) or threads (less start-up; LightGBM releases
        the GIL, Python-level custom objectives do not).
    normalize : str, dict or normaliser, optional
        ``"zscore"``, ``"minmax"``, ``"sum"`` (per query) or ``"global-zscore"``/``"global-minmax"`` (fitted on each
        fold's training part), see :mod:`ltr.evaluation.normalize`. An estimator with a ``normalize`` parameter
        gets it (and stores it with the model); otherwise the fold's parts are transformed here and the
        normaliser is saved as ``normalizer.json`` next to the fold's model.
    features : sequence of int or str, optional
        Keep only these features: 1-based LETOR ids or names (see :func:`ltr.evaluation.select_features`).
    n_features : int, optional
        Width for LETOR files (default: the first training file's).
    record_train : bool, default=True
        Also evaluate the training part every round, for the training-curve plot.
    save_dir : path, optional
        Save each fold's model (``FoldK/model.txt`` + sidecar), test scores (``test.scores``, one per line in the
        test file's row order) and per-query metrics (``per_query.tsv``).
    progress : bool, default=True
        A tqdm bar over folds.
    name : str, optional
        The system's name in reports (default: the estimator's objective, else its class name).
    gain, no_relevant
        Metric conventions (:mod:`ltr.metrics`).

    Returns
    -------
    CVResult

    Examples
    --------
    >>> from ltr import Ranker, make_ranking
    >>> res = cross_validate(Ranker(n_estimators=5, min_child_samples=2, n_jobs=1), make_ranking(30, 6, 4,
    ...                      random_state=0), n_splits=3, metrics=["ndcg@5"], progress=False)
    >>> len(res.folds), sorted(res.mean())
    (3, ['ndcg@5'])
    """
    from ltr.metrics import parse_metrics

    names = [p.name for p in parse_metrics(metrics)]
    conventions = {"gain": gain, "no_relevant": no_relevant}
    if backend not in ("loky", "threading"):
        raise ValueError(f"backend must be 'loky' or 'threading', got {backend!r}")
    norm = make_normalizer(normalize)  # validates the name early
    folds, source, datasets = _folds_from(data, n_splits, random_state, validation)
    if not folds:
        raise ValueError("no folds to run")
    first = _load(folds[0].train, n_features)
    width = first.n_features if n_features is None else n_features
    if not isinstance(folds[0].train, RankingDataset):  # reuse the read file for fold 1
        folds[0] = Fold(folds[0].name, first, folds[0].vali, folds[0].test)
    feature_names = list(first.feature_names) if first.feature_names is not None else None
    columns = None
    if features is not None:
        from ltr.evaluation.selection import resolve_features

        columns = resolve_features(features, width, feature_names)
        feature_names = [feature_names[c] if feature_names else str(c + 1) for c in columns]
    cores = _cpu_count()
    workers = 1 if n_jobs in (None, 0, 1) else min(len(folds), cores if n_jobs < 0 else min(int(n_jobs), cores))
    threads = max(1, cores // workers) if workers > 1 else None
    args = (n_features if n_features is not None else width, columns, names, conventions, norm, record_train,
            save_dir)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(folds), desc=f"cv {name or ''}".strip(), unit="fold")
    results: list[FoldResult] = []
    try:
        if workers == 1:
            for fold in folds:
                results.append(_run_fold(estimator, fold, *args, threads))
                if bar is not None:
                    bar.update(1)
        else:
            from joblib import Parallel, delayed

            gen = Parallel(n_jobs=workers, backend=backend, return_as="generator")(
                delayed(_run_fold)(estimator, fold, *args, threads) for fold in folds)
            for r in gen:
                results.append(r)
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    params = {}
    try:
        params = {k: v for k, v in estimator.get_params(deep=False).items() if _jsonable(v)}
    except Exception:  # an estimator without get_params
        pass
    system = name or str(params.get("objective") or type(estimator).__name__)
    if not datasets:  # a fold directory: the test parts pooled (the whole data set in the LETOR layout)
        datasets = [_pooled_test_summary(results)]
    settings = {**source, "normalize": None if norm is None else norm.to_dict(), "features": None if columns is None
                else [int(c) + 1 for c in columns], "metric_conventions": conventions, "n_jobs": workers}
    return CVResult(system, names, results, feature_names, params, settings, datasets)


def _pooled_test_summary(folds: list[FoldResult]) -> dict[str, Any]:
    labels: dict[str, int] = {}
    for f in folds:
        for k, v in f.test_labels.items():
            labels[k] = labels.get(k, 0) + int(v)
    sizes = [s for f in folds for s in f.test_sizes]
    return {"name": "test parts", "n_queries": len(sizes), "n_rows": int(sum(sizes)),
            "n_features": None, "label_counts": dict(sorted(labels.items(), key=lambda kv: float(kv[0]))),
            "rows_per_query": sizes}


def _jsonable(v) -> bool:
    import json

    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True
