"""Nested query-grouped cross-validation: inner folds choose, outer folds estimate.

The data is cut into ``outer_folds`` folds of whole queries (:func:`ltr.evaluation.query_kfold`, the same test
parts as ``ltr cv --folds K --split-seed S``, so the results pair query by query with a plain ``ltr cv``). For each
outer fold, the choice (parameters from an Optuna search in :func:`tune`, or one of a few fixed configurations in
:func:`select_by_nested_cv`) is made by cross-validating on that fold's *training* queries only, cut again into
``inner_folds`` folds; the chosen configuration is then trained on all the training queries and tested once on
the held-out queries. Nothing is ever chosen by looking at an outer test fold, so the pooled outer results are an
unbiased estimate of the whole procedure, per query, ready for ``ltr compare`` and ``ltr report``.

No validation part is cut from any fold: trees train for ``n_estimators`` rounds (a searched parameter) and the
linear ranker keeps the restart with the best training objective. Under ``preset="auto"`` the small-data preset
(:mod:`ltr.rankers.presets`) is decided once per outer fold, by its training part, and holds for that fold's inner
fits too: the configurations are scored on the model the fold refits (its ``preset_params`` record what the
preset set). The inner score is the mean of the metric over every inner test query (each training query is tested
once). With ``inner_repeats`` above 1 the training queries are cut again that many times, each a new split, and the
inner score is the mean over every split's test queries: with tens of queries the candidates' inner scores often lie
closer than one split tells apart (``benchmarks/results/bench_bar.md``: within 0.0002-0.0012 MAP of each other on
NFCorpus), and each repeat costs another ``inner_folds`` fits. Repeat ``r`` (0-based) of outer fold ``i`` (1-based)
shuffles with ``random_state + i + r * outer_folds``: repeat 0 is the split of a run without repeats.

Search (:func:`tune`): one Optuna study per outer fold, TPE with a seed derived from ``random_state``, the fold and
the number of trials already completed, so a resumed run draws what an uninterrupted one would. With ``storage``
(a file path: Optuna's RDB storage in SQLite) each trial is committed as it ends; running the same call again
resumes: finished trials are kept, a trial interrupted mid-way is marked failed and drawn again, and only the
missing trials run. One run uses a storage at a time: a run holds an exclusive lock on ``<storage>.lock`` beside
it (``fcntl.flock``, released when the run ends, or by the system when its process dies) and another run on the
same storage is refused (:class:`StorageInUseError`). Optuna's parallel workers would need a shared sampler state
this resumable, seeded search does not keep.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ltr._json import python_values, strict_json
from ltr.datasets import RankingDataset
from ltr.evaluation.folds import Fold, query_kfold
from ltr.evaluation.results import CVResult, FoldResult
from ltr.exceptions import OutputPathError
from ltr.tuning.progress import TuneProgress
from ltr.tuning.space import SearchSpace, apply_params, load_space

__all__ = ["NestedSelection", "SearchedParamWarning", "StorageInUseError", "TuneResult", "inner_score",
           "select_by_nested_cv", "tune"]


class SearchedParamWarning(UserWarning):
    """An estimator given to :func:`tune` sets a parameter the search space searches: the trials draw it, and the
    value given is not used (``ltr tune`` says so in a note of its own)."""

logger = logging.getLogger(__name__)


def _conventions(gain: str, no_relevant: float, convention: str, max_grade: float = 4.0) -> dict[str, Any]:
    out: dict[str, Any] = {"gain": gain, "no_relevant": no_relevant}
    if convention != "default":
        out["convention"] = convention
    if max_grade != 4.0:  # ERR's highest grade; left out at its default, so that earlier studies resume
        out["max_grade"] = float(max_grade)
    return out


def _data_name(data) -> str:
    """The data set's name in a result: the file's name, as ``ltr cv`` records it (``"data"`` for a dataset)."""
    return "data" if isinstance(data, RankingDataset) else Path(data).name


def _data(data, read_options) -> RankingDataset:
    if isinstance(data, RankingDataset):
        return data
    from ltr.io import read_letor

    path = Path(data)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; nested cross-validation cuts one LETOR file into folds of queries")
    return read_letor(path, **dict(read_options or {}))


def _check_counts(outer_folds: int, inner_folds: int, inner_repeats: int) -> None:
    for name, k, low in (("outer_folds", outer_folds, 2), ("inner_folds", inner_folds, 2),
                         ("inner_repeats", inner_repeats, 1)):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {k!r}")
    if outer_folds * inner_repeats > _MAX_SEED:  # every (fold, repeat) shuffles with a seed of its own
        raise ValueError(f"inner_repeats must be at most {_MAX_SEED // outer_folds} with {outer_folds} outer folds "
                         "(each repeat of each fold shuffles with a seed of its own, below 2**32), got "
                         f"{inner_repeats}")


def _check_sizes(data: RankingDataset, outer_folds: int, inner_folds: int) -> None:
    if data.n_queries < outer_folds:
        raise ValueError(f"the data has {data.n_queries} quer{'y' if data.n_queries == 1 else 'ies'}, fewer than the "
                         f"{outer_folds} outer folds: every "
                         "fold needs a query to test; use fewer folds")
    smallest = data.n_queries - -(-data.n_queries // outer_folds)  # the smallest outer training part
    if smallest < inner_folds:
        raise ValueError(f"an outer training part has {smallest} queries, fewer than the {inner_folds} inner folds "
                         f"({data.n_queries} queries in {outer_folds} outer folds); use fewer folds")


#: The largest seed scikit-learn's ``KFold`` (NumPy's ``RandomState``) takes.
_MAX_SEED = 2**32 - 1


def _check_seed(random_state, outer_folds: int, inner_repeats: int) -> None:
    """The inner folds of outer fold ``i`` (1-based) shuffle with ``random_state + i`` (repeat ``r``:
    :func:`_inner_seeds`): every seed must be one scikit-learn takes, checked before any fit (not in the middle of
    the search). The counts are checked first (:func:`_check_counts`)."""
    top = _MAX_SEED - outer_folds * inner_repeats
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) \
            or not 0 <= random_state <= top:
        span = "outer_folds" if inner_repeats == 1 else "outer_folds * inner_repeats"
        raise ValueError(f"random_state must be an integer between 0 and {top} (2**32 - 1 - {span}: the inner "
                         f"folds of outer fold i shuffle with random_state + i), got {random_state!r}")


def _inner_seeds(random_state: int, outer_folds: int, fold_index: int, inner_repeats: int) -> list[int]:
    """The seeds of the inner splits of outer fold ``fold_index`` (0-based): ``random_state + i + r *
    outer_folds`` for repeat ``r``, with ``i = fold_index + 1``; every (fold, repeat) gets its own."""
    return [int(random_state) + 1 + fold_index + r * outer_folds for r in range(inner_repeats)]


def _outer_folds(data: RankingDataset, outer_folds: int, random_state: int) -> list[Fold]:
    return query_kfold(data, outer_folds, validation=False, random_state=random_state)


def _fold_estimator(estimator, train: RankingDataset):
    """The ranker of one outer fold's inner fits and of its refit. Under ``preset="auto"`` the small-data preset
    (:mod:`ltr.rankers.presets`) is decided once per outer fold, by its training part (the model refit and
    reported), not again by each inner fit on fewer queries: else, between about 625 and 936 queries in 5 x 3 folds,
    the inner parts fall below :data:`~ltr.rankers.presets.AUTO_SMALL_BELOW` and the refit does not, and the
    trials are scored on one model and the choice refit as another. A fold that takes the preset needs nothing
    more: its inner parts, smaller, take it too."""
    from ltr.rankers.presets import resolve_preset

    if getattr(estimator, "preset", None) != "auto" or resolve_preset("auto", train.n_queries) is not None:
        return estimator
    from sklearn.base import clone

    return clone(estimator).set_params(preset=None)


def _preset_per_outer_fold(estimator, folds: Sequence[Fold], inner_folds: int) -> bool:
    """Whether deciding the preset by the outer training part changes an inner fit (some outer fold's inner part
    falls below the threshold while its training part does not): the studies of such a set-up are named apart
    from those an earlier version scored with the preset."""
    from ltr.rankers.presets import AUTO_SMALL_BELOW, preset_values

    if getattr(estimator, "preset", None) != "auto" or not preset_values("small", getattr(estimator, "engine", None)):
        return False
    for fold in folds:
        n = fold.train.n_queries
        if n >= AUTO_SMALL_BELOW and n - -(-n // inner_folds) < AUTO_SMALL_BELOW:
            return True
    return False


def inner_score(estimator, data: RankingDataset, *, metric: str = "ndcg@10", n_folds: int = 3,
                random_state: int | Sequence[int] = 0, **conventions) -> float:
    """The mean ``metric`` over every query of ``data``, each scored by a clone of ``estimator`` trained on the
    other folds (``n_folds`` folds of whole queries, no validation part).

    ``random_state`` seeds the split; a sequence of seeds makes one split each (repeated cross-validation), and the
    score is the mean over every split's test queries, i.e. over the splits' means.

    Examples
    --------
    >>> from ltr import Ranker, make_ranking
    >>> s = inner_score(Ranker(n_estimators=5, min_child_samples=2, n_jobs=1), make_ranking(12, 5, 3,
    ...                 random_state=0), n_folds=3)
    >>> 0.0 <= s <= 1.0
    True
    """
    from sklearn.base import clone

    from ltr.metrics import evaluate_per_query

    seeds = [random_state] if isinstance(random_state, (int, np.integer)) else list(random_state)
    if not seeds:
        raise ValueError("random_state is an empty sequence: give a seed, or one per split")
    values = []
    for fold in (f for seed in seeds for f in query_kfold(data, n_folds, validation=False, random_state=seed)):
        model = clone(estimator).fit(fold.train)
        per = evaluate_per_query(fold.test.y, model.predict(fold.test), group_ptr=fold.test.group_ptr,
                                 metrics=[metric], **conventions)
        values.append(np.asarray(next(iter(per.values())), dtype=np.float64))
    return float(np.nanmean(np.concatenate(values)))


def _outer_result(estimator, fold: Fold, metrics, conventions, name) -> FoldResult:
    from ltr.evaluation import cross_validate

    conv = dict(conventions)
    res = cross_validate(estimator, [fold], metrics=metrics, progress=False, record_train=False, name=name,
                         gain=conv.pop("gain"), no_relevant=conv.pop("no_relevant"),
                         convention=conv.pop("convention", "default"), max_grade=conv.pop("max_grade", 4.0))
    return res.folds[0], res


def _jsonable(d: Mapping[str, Any]) -> dict[str, Any]:
    """``d`` with NumPy values as Python ones and any value JSON cannot hold as its ``repr``."""
    out = {}
    for k, v in python_values(dict(d)).items():
        try:
            json.dumps(v)
            out[k] = v
        except (TypeError, ValueError):
            out[k] = repr(v)
    return out


def _metric_names(metric: str, metrics) -> tuple[str, list[str]]:
    from ltr.metrics import parse_metrics, target_metric

    target = target_metric(metric).name
    names = [p.name for p in parse_metrics(metrics if metrics is not None else [target])]
    if target not in names:
        names = [target, *names]
    return target, names


# -- a few fixed configurations -------------------------------------------------------------------------------------
@dataclass
class NestedSelection:
    """What :func:`select_by_nested_cv` measured.

    Attributes
    ----------
    selected : CVResult
        The outer test results of the configuration chosen in each fold (the unbiased estimate).
    candidates : dict of str to CVResult
        Each configuration's outer test results (for information: choosing among these would look at test folds).
    inner : list of dict of str to float
        Per outer fold, each configuration's inner score.
    chosen : list of str
        Per outer fold, the configuration the inner folds chose.
    """

    selected: CVResult
    candidates: dict[str, CVResult]
    inner: list[dict[str, float]]
    chosen: list[str]


def select_by_nested_cv(candidates: Mapping[str, Any], data, *, metric: str = "ndcg@10",
                        metrics: Sequence[str] | None = None, outer_folds: int = 5, inner_folds: int = 3,
                        random_state: int = 0, gain: str = "exp2", no_relevant: float = 0.0,
                        convention: str = "default", name: str = "selected", progress: bool = False,
                        read_options: Mapping[str, Any] | None = None, max_grade: float = 4.0,
                        inner_repeats: int = 1) -> NestedSelection:
    """Choose among fixed configurations by nested CV: in each outer fold the configuration with the best inner
    score (ties: the first listed) is tested on the outer test queries. ``inner_repeats``: splits of each outer
    training part into ``inner_folds`` (module doc), each configuration scored by its mean over them all.

    Examples
    --------
    >>> from ltr import Ranker, make_ranking
    >>> fast = dict(n_estimators=5, min_child_samples=2, n_jobs=1)
    >>> sel = select_by_nested_cv({"a": Ranker(num_leaves=2, **fast), "b": Ranker(num_leaves=4, **fast)},
    ...                           make_ranking(15, 5, 3, random_state=0), outer_folds=3, inner_folds=2)
    >>> len(sel.chosen), sorted(sel.candidates)
    (3, ['a', 'b'])
    """
    if not candidates:
        raise ValueError("candidates is empty: give at least one configuration")
    _check_counts(outer_folds, inner_folds, inner_repeats)
    _check_seed(random_state, outer_folds, inner_repeats)
    data_name = _data_name(data)
    data = _data(data, read_options)
    _check_sizes(data, outer_folds, inner_folds)
    if data.weight is not None:
        import warnings

        warnings.warn(f"the row weights of {data.sources.get('weight') or 'the data'} train every model but are not "
                      "used by the inner and outer metrics: each query counts once, so that ltr compare can pair the "
                      "outer results by query", UserWarning, stacklevel=2)
    conv = _conventions(gain, no_relevant, convention, max_grade)
    target, names = _metric_names(metric, metrics)
    folds = _outer_folds(data, outer_folds, random_state)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(folds) * len(candidates), desc="nested cv", unit="config", disable=None)
    inner: list[dict[str, float]] = []
    chosen: list[str] = []
    per_candidate: dict[str, list[FoldResult]] = {c: [] for c in candidates}
    selected: list[FoldResult] = []
    template: dict[str, CVResult] = {}
    try:
        for i, fold in enumerate(folds):
            scores = {}
            # each candidate's preset decided by the outer training part, for its inner fits and its refit alike
            fold_candidates = {cname: _fold_estimator(est, fold.train) for cname, est in candidates.items()}
            for cname, est in fold_candidates.items():
                scores[cname] = inner_score(est, fold.train, metric=target, n_folds=inner_folds,
                                            random_state=_inner_seeds(random_state, outer_folds, i, inner_repeats),
                                            **conv)
                if bar is not None:
                    bar.update(1)
            best = max(scores, key=lambda c: (scores[c], -list(candidates).index(c)))
            inner.append(scores)
            chosen.append(best)
            for cname, est in fold_candidates.items():
                result, cv = _outer_result(est, fold, names, conv, cname)
                per_candidate[cname].append(result)
                template.setdefault(cname, cv)
                if cname == best:
                    selected.append(result)
    finally:
        if bar is not None:
            bar.close()
    source = {"source": "query_kfold", "n_splits": outer_folds, "random_state": random_state}
    from ltr.datasets import dataset_summary

    summary = [dataset_summary(data, data_name)]

    def assemble(label: str, fold_results: list[FoldResult], params: dict, extra: dict) -> CVResult:
        first = next(iter(template.values()))
        settings = {**first.settings, **source, **extra}
        return CVResult(label, names, fold_results, first.feature_names, params, settings, summary)

    cand = {c: assemble(c, per_candidate[c], template[c].params, {}) for c in candidates}
    sel = assemble(name, selected, {}, {"nested": {"inner_folds": inner_folds, "inner_repeats": inner_repeats,
                                                   "metric": target, "chosen": chosen, "inner_scores": inner}})
    return NestedSelection(sel, cand, inner, chosen)


# -- an Optuna search -----------------------------------------------------------------------------------------------
@dataclass
class TuneResult:
    """What :func:`tune` found.

    Nested cross-validation makes one choice per outer fold, each from that fold's training queries: the outer
    folds measure the *search* (its expected score on unseen queries), not one configuration. There is therefore
    no single "best" configuration here: the folds' inner scores come from different training queries and are not
    comparable, so picking the fold with the highest one (or its parameters) would be picking by noise, and its
    outer score would no longer be an unbiased estimate. How much the choices differ from fold to fold says how
    stable the search is. For one model to deploy, run the search once more on all the queries (the procedure the
    outer folds estimated; Cawley & Talbot, "On over-fitting in model selection and subsequent selection bias in
    performance evaluation", JMLR 11, 2010), with the same space, metric and inner folds, and fit its choice on
    all of them::

        import optuna
        from ltr.io import read_letor
        from ltr.tuning import apply_params, inner_score, load_space

        base, data = result.estimator, read_letor(path)   # the fixed options; every query (a RankingDataset)
        tuning = result.cv.settings["tuning"]             # what the search used
        space = load_space(tuning["space"], base)
        study = optuna.create_study(direction="maximize")
        splits = list(range(tuning["inner_repeats"]))    # one seed per split of the queries
        study.optimize(lambda t: inner_score(apply_params(base, space.suggest(t)), data, metric=tuning["metric"],
                                             n_folds=tuning["inner_folds"], random_state=splits),
                       n_trials=tuning["n_trials"])
        final = apply_params(base, study.best_params).fit(data)

    Attributes
    ----------
    cv : CVResult
        Outer test results of the tuned ranker (each fold with its own chosen parameters): the unbiased estimate,
        per query. ``cv.settings["tuning"]`` records the space, the chosen parameters and inner scores per fold;
        ``cv.params`` holds the fixed parameters as the base ranker holds them and each searched one, by its
        space name, as ``{"per_fold": {fold name: value chosen}}``.
    best_params : list of dict
        Per outer fold (in the order of ``cv.folds``), the parameters chosen, keyed by the search space's names as
        Optuna records them: a :class:`ltr.Ranker` parameter by its name (``"num_leaves"``), an engine parameter
        as ``"engine_params.NAME"`` (``"engine_params.bagging_by_query"``), and ``"none"`` for None. They are not
        ``set_params`` keywords: :meth:`best_estimator` (or :func:`ltr.tuning.space.apply_params`, which merges
        the engine parameters into a copy of ``engine_params``) turns them into a configured ranker.
    best_inner : list of float
        Per outer fold, the chosen parameters' inner score.
    trials : list of list of dict
        Per outer fold, the completed trials the choice was made from (the first ``n_trials`` of the study):
        ``number``, ``params``, ``value``.
    resumed : int
        Trials found completed in the storage at the start and used (up to ``n_trials`` a fold), over all folds (0
        without a storage).
    other_setups : int
        Studies in the storage made with another set-up (data, fixed ranker options, space, metric, folds or seed),
        whose trials this run could not use.
    estimator : ltr.Ranker or None
        The unfitted ranker whose other parameters stayed fixed (the base of every trial; None when unknown).

    Examples
    --------
    >>> from ltr import Ranker, make_ranking
    >>> r = tune(make_ranking(12, 5, 3, random_state=0), n_trials=1, outer_folds=2, inner_folds=2,
    ...          space={"num_leaves": {"low": 2, "high": 4}, "engine_params.bagging_by_query": {"choices": [True]}},
    ...          estimator=Ranker(n_estimators=3, min_child_samples=2, n_jobs=1), progress=False)
    >>> sorted(r.best_params[0])
    ['engine_params.bagging_by_query', 'num_leaves']
    >>> model = r.best_estimator(0)             # unfitted, configured as outer fold 1 chose
    >>> model.num_leaves == r.best_params[0]["num_leaves"], model.engine_params["bagging_by_query"]
    (True, True)
    >>> len(r.best_estimators())
    2
    """

    cv: CVResult
    best_params: list[dict[str, Any]]
    best_inner: list[float]
    trials: list[list[dict[str, Any]]] = field(default_factory=list)
    resumed: int = 0
    other_setups: int = 0
    estimator: Any = None

    def best_estimator(self, fold: int):
        """An unfitted clone of :attr:`estimator` set to the parameters outer fold ``fold`` chose (0-based, in the
        order of ``cv.folds``; ``cv.folds[fold].name`` is its name), by :func:`ltr.tuning.space.apply_params`.
        Its ``preset_keep`` lists the parameters set, so that the small-data preset leaves them as chosen.
        Fit it on the data you mean (``model.fit(data)``): this is the configuration the fold tested, not a model
        trained on the fold.

        Raises
        ------
        ValueError
            ``fold`` is not one of ``0 .. len(best_params) - 1``, or the result has no :attr:`estimator` (built
            by hand: use ``apply_params(ranker, result.best_params[fold])``).
        """
        n = len(self.best_params)
        if isinstance(fold, bool) or not isinstance(fold, (int, np.integer)) or not 0 <= fold < n:
            raise ValueError(f"fold must be an outer fold's index, 0 to {n - 1}, got {fold!r}")
        if self.estimator is None:
            raise ValueError("this TuneResult has no estimator (it was not made by tune()): configure a ranker with "
                             "ltr.tuning.space.apply_params(ranker, result.best_params[fold])")
        return apply_params(self.estimator, self.best_params[int(fold)])

    def best_estimators(self) -> list:
        """:meth:`best_estimator` of every outer fold, in the order of ``cv.folds``."""
        return [self.best_estimator(i) for i in range(len(self.best_params))]

    def to_dict(self) -> dict[str, Any]:
        """Everything in plain JSON types (strict: NaN and infinities as None): ``cv`` (the result file's content,
        :meth:`CVResult.to_dict`), ``best_params``, ``best_inner``, ``trials``, ``resumed``, ``other_setups``, and
        ``estimator``: the fixed ranker's parameters (``get_params(deep=False)``; a value JSON cannot hold as its
        ``repr``) or None."""
        est = None if self.estimator is None else _jsonable(self.estimator.get_params(deep=False))
        return strict_json({"cv": self.cv.to_dict(), "best_params": self.best_params, "best_inner": self.best_inner,
                            "trials": self.trials, "resumed": self.resumed, "other_setups": self.other_setups,
                            "estimator": est})

    def save(self, path: str | os.PathLike) -> None:
        """Write the result file (``ltr compare`` and ``ltr report`` read it), atomically."""
        self.cv.save(path)

    def format(self, fmt: str = "table") -> str:
        return self.cv.format(fmt)


#: SQLite's primary result codes (https://www.sqlite.org/rescode.html) that a trial storage meets in use, and what
#: each means for it: the one line that names the storage instead of SQLAlchemy's traceback.
_SQLITE_CODES = {
    3: "cannot write: permission denied",  # SQLITE_PERM
    5: "cannot write: the database is locked by another process (another search on the same storage?)",  # BUSY
    6: "cannot write: the database is locked by another process (another search on the same storage?)",  # LOCKED
    8: "cannot write: permission denied (the file or its folder is read-only)",  # SQLITE_READONLY
    10: "cannot write: input/output error",  # SQLITE_IOERR
    13: "cannot write: no space left on device",  # SQLITE_FULL (the disk, or a page limit of the database)
    14: "cannot open the file (its folder is missing or not writable)",  # SQLITE_CANTOPEN
}
_SQLITE_NOT_A_DATABASE = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


def _storage(storage):
    if storage is None:
        return None
    text = os.fspath(storage)
    if "://" in text:
        return text
    path = Path(text).resolve()
    if path.is_dir():
        raise ValueError(f"storage {text}: is a folder; give a file for the trials (SQLite)")
    if not path.parent.is_dir():  # never made here: a typo in the path would otherwise go unnoticed
        folder = os.path.dirname(text) or "."
        what = "is not a folder" if path.parent.exists() else "does not exist"
        raise OutputPathError(text, f"cannot write: the folder {folder} {what}")
    return f"sqlite:///{path}"


class StorageInUseError(OutputPathError):
    """The trial storage is in use by another run (:func:`tune` holds ``<storage>.lock`` for its duration): one
    run uses a storage at a time. An :class:`~ltr.exceptions.OutputPathError` naming the storage as given."""


def _lock_path(url: str | None) -> Path | None:
    """The lock file of an SQLite storage (``<file>.lock``); None in memory or for another database."""
    if url is None or not url.startswith("sqlite:///"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    # the file itself, whatever link or relative spelling names it: two spellings of one database lock one file
    return Path(f"{os.path.realpath(database)}.lock")


@contextlib.contextmanager
def _storage_lock(storage, url: str | None):
    """Hold an exclusive ``flock`` on the storage's lock file while the block runs: a second run on the same
    storage would mark this run's live trial failed, and both would draw the same seeded trials. The lock dies
    with its process (a lock file a killed run left behind blocks nothing); the file is removed on exit, while
    still locked, and a run that locked a file removed meanwhile locks the new one instead."""
    lock = _lock_path(url)
    try:
        import fcntl
    except ImportError:  # no flock (Windows): runs are not guarded
        fcntl = None
    if lock is None or fcntl is None:
        yield
        return
    shown = _storage_shown(storage)
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            reason = e.strerror.lower() if e.strerror else type(e).__name__
            raise OutputPathError(shown, f"cannot write its lock file {lock.name}: {reason}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another open file holds it: another run
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (process {holder})" if holder.isdigit() else ""
            raise StorageInUseError(shown, f"in use by another ltr tune run{who}: one run uses a trial storage at "
                                           "a time; wait for it to end, or give another storage") from None
        except OSError as e:  # a file system without locks
            os.close(fd)
            reason = e.strerror.lower() if e.strerror else type(e).__name__
            raise OutputPathError(shown, f"cannot lock its lock file {lock.name}: {reason}") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the run that held it removed the file meanwhile: lock the one at the path now
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def _storage_shown(storage) -> str:
    """The storage as the caller gave it, for messages (an Optuna URL without its password)."""
    text = os.fspath(storage)
    if "://" not in text:
        return text
    try:
        from sqlalchemy.engine import make_url

        return make_url(text).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: Optuna refuses it with its own error
        return text


def _storage_error(e: BaseException, shown: str) -> ValueError:
    """One line naming the storage for an error of Optuna's storage layer: Optuna's ``StorageInternalError``
    raised from SQLAlchemy's error, which wraps the database driver's (``sqlite3.OperationalError``, whose
    ``sqlite_errorcode`` says what happened: a full disk, a read-only file, a lock, a file that is no database)."""
    from ltr.exceptions import FileFormatError

    driver, seen = None, e
    while seen is not None and driver is None:
        driver = getattr(seen, "orig", None)  # SQLAlchemy's DBAPIError keeps the driver's error
        seen = seen.__cause__
    code = getattr(driver, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF  # an extended code's low byte is its primary code
    if primary in _SQLITE_NOT_A_DATABASE:
        return FileFormatError("not an SQLite database of trials, or a damaged one", shown,
                               hint="give another storage file, or move this one away to start afresh")
    if primary in _SQLITE_CODES:
        return OutputPathError(shown, _SQLITE_CODES[primary])
    said = " ".join(str(driver if driver is not None else e).split()) or type(e).__name__
    return OutputPathError(shown, f"the trial storage failed: {said}")


@contextlib.contextmanager
def _storage_errors(storage, *, optuna_calls: bool = False):
    """Errors of the trial storage (``storage``: as given; None, in memory: nothing to catch) as one line naming
    it. The file stays as it is: the trials it holds are those a later call resumes from.

    With ``optuna_calls`` (a block of Optuna calls only, never a fit) Optuna's own errors about what the storage
    holds name it too: a ``ValueError`` (``Cannot tell a FAIL trial.``), a ``RuntimeError`` (a schema of another
    Optuna version) or any ``OptunaError``."""
    if storage is None:
        yield
        return
    from optuna.exceptions import OptunaError, StorageInternalError
    from sqlalchemy.exc import SQLAlchemyError

    caught = (SQLAlchemyError, StorageInternalError, *((OptunaError, RuntimeError, ValueError) if optuna_calls
                                                       else ()))
    from ltr.exceptions import FileFormatError

    try:
        yield
    except (OutputPathError, FileFormatError):  # already one line naming the storage (an inner block's)
        raise
    except caught as e:
        raise _storage_error(e, _storage_shown(storage)) from e


def _study_key(data: RankingDataset, estimator, space: SearchSpace, target: str, conv: dict, outer: int,
               inner: int, random_state: int, preset_by_outer: bool = False, inner_repeats: int = 1) -> str:
    """A name for the studies of one set-up: the same data, ranker, space, metric and folds resume the same
    trials; anything else starts fresh ones beside them. ``preset_by_outer`` (:func:`_preset_per_outer_fold`):
    the inner fits no longer take the preset an earlier version gave them, so their stored trials are not
    resumed. ``inner_repeats`` above 1 names its studies apart (scores over other splits); 1 keeps the name of
    the studies stored before repeats existed."""
    from ltr.datasets import dataset_summary

    h = hashlib.sha256()
    h.update(np.ascontiguousarray(data.y).tobytes())
    h.update(np.ascontiguousarray(data.group_ptr).tobytes())
    _hash_features(h, data.X)
    setup = {"params": _jsonable(estimator.get_params(deep=False)), "space": space.describe(), "metric": target,
             "conventions": conv, "outer": outer, "inner": inner, "seed": random_state,
             "rows": dataset_summary(data)["n_rows"]}
    if preset_by_outer:  # only then: every other set-up keeps the studies it stored
        setup["preset_by_outer"] = True
    if inner_repeats != 1:  # likewise
        setup["inner_repeats"] = int(inner_repeats)
    h.update(json.dumps(setup, sort_keys=True, default=repr).encode())
    # (only when there are: the studies of unweighted data and of other objectives keep their names)
    if data.weight is not None:  # a .weight sidecar changed beside the same data trains other trials
        h.update(b"weight")
        h.update(np.ascontiguousarray(data.weight, dtype=np.float64).tobytes())
    teacher = _teacher_digest(estimator, data)
    if teacher is not None:
        h.update(b"teacher")
        h.update(teacher)
    return h.hexdigest()[:12]


def _hash_features(h, X) -> None:
    """Feed ``X``'s values to the hash ``h`` as float32 rows, block by block (a sparse X was made dense whole, and
    copied again: 320 MB to name the study of a 0.4 MB matrix; trial t59), the digest that of the whole float32
    array as before; then, where values (float64, int64) differ from their float32 rounding, their own bytes too
    (two float64 data sets equal in float32 shared their studies: the second resumed the first's trials, trial t59).
    The studies of float32 data, and of data that float32 holds exactly, keep their names."""
    step = max(1, (1 << 22) // max(1, X.shape[1]))  # rows of about 16 MB of float32

    def blocks():
        for i in range(0, X.shape[0], step):
            block = X[i:i + step]
            yield block.toarray() if hasattr(block, "toarray") else np.asarray(block)

    wide = False
    for block in blocks():
        narrow = np.ascontiguousarray(block, dtype=np.float32)
        h.update(narrow)
        nan = block.dtype.kind == "f"  # (equal_nan on integers fails)
        wide = wide or (block.dtype != np.float32 and not np.array_equal(narrow, block, equal_nan=nan))
    if wide:  # the values as held (int64 too: the linear ranker trains on them in float64; review of trial t59)
        for block in blocks():
            h.update(block.dtype.str.encode())
            h.update(np.ascontiguousarray(block))


def _teacher_digest(estimator, data: RankingDataset) -> bytes | None:
    """What a distilled ranker's teacher gives, for :func:`_study_key`: a score file's bytes, an array's, a model's
    scores on the data; None for no teacher or a column (the data holds it). The parameters name a file or a model
    by its path alone, so a teacher rewritten in place resumed the trials trained on the old one."""
    from ltr.rankers.teacher import parse_teacher

    teacher = dict(estimator.get_params(deep=False).get("objective_params") or {}).get("teacher")
    if teacher is None:
        return None
    try:
        spec = parse_teacher(teacher)
    except (TypeError, ValueError):  # refused with its message when the ranker is fitted
        return None
    if spec.kind == "column":
        return None
    if spec.kind == "scores" and isinstance(spec.value, str):
        try:
            return hashlib.sha256(Path(spec.value).read_bytes()).digest()
        except OSError:  # said by the fit that reads it
            return None
    if spec.kind == "scores":
        return np.ascontiguousarray(spec.value, dtype=np.float64).tobytes()
    try:
        return np.ascontiguousarray(spec.value.predict(data.X, data.group_ptr), dtype=np.float64).tobytes()
    except Exception:  # noqa: BLE001 (a teacher that cannot score the data is refused by the fit, by name)
        return None


def _tuned_params(estimator, space: SearchSpace, fold_names: Sequence[str],
                  best_params: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The result's ``params``: what the outer folds were fitted with. A fixed parameter as the base ``estimator``
    holds it; a searched one, under its space name (``"num_leaves"``, ``"engine_params.bagging_by_query"``), as
    ``{"per_fold": {fold name: value chosen}}`` (the shape of :meth:`CVResult.preset_params`), never the base's
    value, which no fold used (a searched engine parameter leaves the fixed ``engine_params`` too)."""
    params = _jsonable(estimator.get_params(deep=False))
    engine = dict(params.get("engine_params") or {})
    for p in space.params:
        head, tail = p.target
        if head is None:
            params.pop(tail, None)
        else:
            engine.pop(tail, None)
        params[p.name] = {"per_fold": _jsonable({f: chosen.get(p.name) for f, chosen in zip(fold_names, best_params)})}
    if params.get("engine_params") is not None:
        params["engine_params"] = engine or None
    return params


def _warn_searched(estimator, space) -> None:
    """:class:`SearchedParamWarning` naming the parameters of a :class:`~ltr.Ranker` given to :func:`tune` that
    differ from its engine's defaults and that the space searches: the trials draw them, the value given is not
    used, and the result recorded it all the same (trial t64: normalize="sum" and n_restarts=3, without a word)."""
    from ltr.rankers.ranker import Ranker

    if not isinstance(estimator, Ranker):
        return
    try:
        searched = [p.target for p in load_space(space, estimator).params]
    except (ValueError, TypeError, OSError):
        return  # refused below, in load_space's own words
    params = estimator.get_params(deep=False)
    defaults = Ranker(engine=params.get("engine", "lightgbm")).get_params(deep=False)
    given = dict(params.get("engine_params") or {})
    named = [f"{name}={params[name]!r}" for table, name in searched
             if table is None and name in params and params[name] != defaults.get(name)]
    named += [f"engine_params {name}={given[name]!r}" for table, name in searched
              if table == "engine_params" and name in given]
    if named:
        import warnings

        warnings.warn(f"the search space searches {', '.join(named)}: the trials draw the value, the one given is not "
                      "used (a space without the parameter keeps it fixed)", SearchedParamWarning, stacklevel=3)


def _base_estimator(estimator, engine: str | None, target: str, conv: dict[str, Any], space=None):
    from ltr.rankers.ranker import Ranker

    if estimator is None:
        estimator = Ranker(engine=engine or "lightgbm")
    elif engine is not None and estimator.get_params()["engine"] != engine:
        raise ValueError(f"engine={engine!r} but the estimator's engine is {estimator.get_params()['engine']!r}; "
                         "give one")
    from sklearn.base import clone

    estimator = clone(estimator)  # the caller's ranker is left as given (set_params below changed it in place)
    params = estimator.get_params(deep=False)
    if params.get("engine") == "linear":
        objective = str(params.get("objective"))
        if objective == "lambdarank":
            # The coordinate ascent optimises the tuned metric itself (a metric it cannot optimise is refused here).
            from ltr.rankers.linear import linear_objective

            try:
                linear_objective(target)
            except ValueError as e:
                raise ValueError(f"tuning {target}: {e}; tune another metric, or set the linear ranker's "
                                 "objective") from None
            estimator = estimator.set_params(objective=target)
            objective = target
        # ... with the conventions it is scored by: ERR's top grade, NDCG's gain (they were left at the engine's
        # defaults, 4 and exp2, while every inner and outer score used the ones given), for an objective of the
        # user's too, as ltr tune --gain passes them on
        engine_params = dict(params.get("engine_params") or {})
        wanted = {}
        # the objective's, or one the space may draw (the engine reads the gain for NDCG and DCG alone)
        drawn = [str(c) for p in (load_space(space, estimator).params if space is not None else ())
                 if p.name == "objective" for c in (p.choices or ())]
        if any(o.lower().startswith(("ndcg", "dcg")) for o in (objective, *drawn)):
            wanted["gain"] = (conv["gain"], "exp2")
        # ERR's grade whatever the objective: a space may draw an ERR objective, and the ranker reads it for ERR
        # alone (so an engine_params grade of the user's beside an objective that is not ERR is theirs: not compared)
        err = objective.lower().startswith("err")
        if err or "max_grade" not in engine_params:
            wanted["max_grade"] = (float(conv.get("max_grade", 4.0)), 4.0)
        for key, (value, default) in wanted.items():
            if key in engine_params:
                given = engine_params[key]
                same = float(given) == value if key == "max_grade" and isinstance(given, (int, float)) else \
                    given == value
                if not same:
                    raise ValueError(f"engine_params {key}={given!r} is not the {key} the folds are scored with "
                                     f"({key}={value!r}): give tune's {key}={given!r} (ltr tune --"
                                     f"{key.replace('_', '-')} {given}), which sets both")
            elif value != default:  # (the engine's default is not written in: earlier studies' keys stay)
                engine_params[key] = value
        estimator = estimator.set_params(engine_params=engine_params or None)
    estimator._check_params()
    return estimator


def _seed(random_state: int, fold: int, index: int) -> int:
    return int((random_state * 1_000_003 + fold * 10_007 + index) % (2**32))


#: Random trials before TPE models the space (Optuna's default). Fixed, never drawn from ``n_trials``: a study
#: extended from 10 trials to 30 draws what a 30-trial run draws.
STARTUP_TRIALS = 10


def _run_study(study, space, estimator, train, target, inner_folds, conv, n_trials, fold_index, random_state,
               progress, timeout_at, storage, inner_seeds) -> int:
    """Run the fold's study up to ``n_trials`` completed trials; the number found completed at the start.
    ``storage`` (as given) is named by an error of Optuna's about what it holds; ``inner_seeds``: the seeds of the
    fold's inner splits (:func:`_inner_seeds`); ``random_state`` seeds the sampler."""
    import time

    import optuna
    from optuna.trial import TrialState

    def optuna_calls():
        return _storage_errors(storage, optuna_calls=True)

    with optuna_calls():
        # interrupted in an earlier run (no other run holds the storage: tune locks it): drawn again below
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
            study.tell(t.number, state=TrialState.FAIL)
        done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    found = min(done, n_trials)  # a study kept from a longer run: its first n_trials are this run's
    if progress is not None:
        progress.resumed(fold_index, found)
    while done < n_trials:
        if done and timeout_at is not None and time.monotonic() > timeout_at:  # every fold gets one trial
            break
        study.sampler = optuna.samplers.TPESampler(seed=_seed(random_state, fold_index, done), constant_liar=False,
                                                   n_startup_trials=STARTUP_TRIALS)
        with optuna_calls():
            trial = study.ask()
        try:
            values = space.suggest(trial)
            model = apply_params(estimator, values)
            value = inner_score(model, train, metric=target, n_folds=inner_folds,
                                random_state=inner_seeds, **conv)
        except BaseException:
            # the error that stopped the trial is the one to report, even when marking it fails too (a full disk)
            with contextlib.suppress(Exception):
                study.tell(trial, state=TrialState.FAIL)
            raise
        if not np.isfinite(value):
            with optuna_calls():
                study.tell(trial, state=TrialState.FAIL)
            raise ValueError(f"trial {trial.number} scored {value}: the inner test queries have no relevant document "
                             "for this metric")
        with optuna_calls():
            study.tell(trial, value)
            best = study.best_value
        done += 1
        if progress is not None:
            progress.trial(fold_index, done, best)
    return found


def tune(data, *, estimator=None, engine: str | None = None, space=None, n_trials: int = 30,
         metric: str = "ndcg@10", metrics: Sequence[str] | None = None, outer_folds: int = 5, inner_folds: int = 3,
         random_state: int = 0, storage: str | os.PathLike | None = None, gain: str = "exp2",
         no_relevant: float = 0.0, convention: str = "default", name: str | None = None, progress: bool = True,
         timeout: float | None = None, read_options: Mapping[str, Any] | None = None,
         max_grade: float = 4.0, inner_repeats: int = 1) -> TuneResult:
    """Tune a ranker's parameters with Optuna inside nested query-grouped cross-validation.

    Parameters
    ----------
    data : RankingDataset or path
        One LETOR file (or dataset), cut into ``outer_folds`` folds of whole queries.
    estimator : ltr.Ranker, optional
        The ranker whose other parameters stay fixed (default ``Ranker(engine=engine)``). A linear ranker with the
        default objective optimises ``metric`` itself. Under ``preset="auto"`` the small-data preset is decided by
        each outer training part, for its inner fits and its refit alike.
    engine : {"lightgbm", "xgboost", "linear"}, optional
    space : path, dict or SearchSpace, optional
        The search space (see :mod:`ltr.tuning.space`); default the engine's (``ltr/tuning/spaces/<engine>.toml``).
    n_trials : int, default=30
        Trials per outer fold. The first :data:`STARTUP_TRIALS` (10) are drawn at random, as Optuna's TPE starts;
        TPE models the space from the trials after them, so a search of 10 trials or fewer is a random search.
    metric : str, default="ndcg@10"
        What the inner folds maximise.
    metrics : sequence of str, optional
        What the outer folds report (``metric`` is always among them).
    outer_folds, inner_folds : int, default=5 and 3
    inner_repeats : int, default=1
        Splits of each outer training part into ``inner_folds``, each a new one; a trial's inner score is its mean
        over them all (each repeat costs another ``inner_folds`` fits a trial). Steadier choices on few queries.
    random_state : int, default=0
        Seeds the folds and the sampler: 0 to ``2**32 - 1 - outer_folds * inner_repeats`` (the inner folds of
        outer fold ``i``, 1-based, shuffle with ``random_state + i``; repeat ``r`` with ``random_state + i + r *
        outer_folds``).
    storage : path, optional
        An SQLite file (or an Optuna storage URL) that keeps every trial as it ends; the same call resumes there.
        Its folder must exist. One run uses a storage at a time: the run holds ``<file>.lock`` beside it until it
        ends, and another run on the same file is refused (:class:`StorageInUseError`).
    gain, no_relevant, convention, max_grade
        Metric conventions of the inner scores and the outer results (:mod:`ltr.metrics`; ``max_grade``: ERR's
        highest grade).
    name : str, optional
        The system's name in the result (default ``"<engine> tuned"``).
    progress : bool, default=True
        Progress on standard error (:mod:`ltr.tuning.progress`): a bar over trials on a terminal; elsewhere (a
        file, a pipe, CI, ``nohup``) a line with the cost at the start, a line per finished trial at most every
        few seconds (outer fold i/n, trial j/N, best inner score so far, time elapsed) and one per outer fold.
    timeout : float, optional
        Seconds for the whole search, shared by the outer folds: each fold may start trials until its share of the
        time left ends (the time left over the folds left), and runs at least one.
    read_options : mapping, optional
        Keyword arguments of :func:`ltr.io.read_letor` for ``data`` given as a path (``unjudged="drop"``,
        ``missing=np.nan``, ...); ignored for a dataset.

    Returns
    -------
    TuneResult
        ``best_params`` per outer fold (space names, ``"engine_params.NAME"`` among them);
        ``best_estimator(fold)`` is the ranker configured with them; ``to_dict()`` is strict JSON.

    Raises
    ------
    ValueError
        Fewer queries than folds, a metric the linear ranker cannot optimise, a bad search space (a
        :class:`~ltr.exceptions.FileFormatError` for a file), or an engine and estimator that disagree.
    OutputPathError
        The storage cannot be written (a missing folder, a full disk, a read-only file, a database locked by
        another process) or Optuna refuses what it holds; one line naming ``storage`` as given. The file is left as
        it is: the same call resumes from the trials it holds. A storage file that is not an SQLite database raises
        :class:`~ltr.exceptions.FileFormatError`.
    StorageInUseError
        Another run holds the storage (an :class:`~ltr.exceptions.OutputPathError`).
    ImportError
        Optuna is missing (``pip install "ltrkit[tune]"``).
    """
    import time

    try:
        import optuna
    except ImportError as e:
        raise ImportError('tuning needs Optuna: pip install "ltrkit[tune]" (or pip install optuna)') from e

    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
    _check_counts(outer_folds, inner_folds, inner_repeats)
    _check_seed(random_state, outer_folds, inner_repeats)
    target, names = _metric_names(metric, metrics)
    conv = _conventions(gain, no_relevant, convention, max_grade)
    _warn_searched(estimator, space)
    estimator = _base_estimator(estimator, engine, target, conv, space)
    space = load_space(space, estimator)
    data_name = _data_name(data)
    data = _data(data, read_options)
    _check_sizes(data, outer_folds, inner_folds)
    folds = _outer_folds(data, outer_folds, random_state)
    url = _storage(storage)
    with _storage_lock(storage, url):  # the storage is this run's until the search ends: another run is refused
        key = _study_key(data, estimator, space, target, conv, outer_folds, inner_folds, random_state,
                         _preset_per_outer_fold(estimator, folds, inner_folds), inner_repeats)
        label = name or f"{estimator.get_params()['engine']} tuned"
        shown = TuneProgress(label, outer_folds, n_trials, inner_folds, target,
                             inner_repeats=inner_repeats) if progress else None
        end = None if timeout is None else time.monotonic() + float(timeout)
        other = 0
        if url is not None:
            mine = {f"ltr-tune-{key}-outer{i + 1}" for i in range(outer_folds)}
            with _storage_errors(storage, optuna_calls=True):  # where the storage is opened (its tables made) first
                other = sum(1 for s in optuna.study.get_all_study_summaries(storage=url, include_best_trial=False)
                            if s.study_name.startswith("ltr-tune-") and s.study_name not in mine and s.n_trials)
            if other:  # said before the search, which may run for hours (and again in the result: other_setups)
                logger.warning(
                    "%s holds %d studies of another set-up (the data, the fixed ranker options, n_jobs among them, "
                    "the space, the metric, the folds, inner_repeats or the seed differ): this search does not use "
                    "their trials", storage, other)
        optuna_logger = logging.getLogger("optuna")
        level = optuna_logger.level
        optuna_logger.setLevel(logging.WARNING)  # one line per trial otherwise; restored below
        results: list[FoldResult] = []
        best_params: list[dict[str, Any]] = []
        best_inner: list[float] = []
        trials: list[list[dict[str, Any]]] = []
        template = None
        resumed = 0
        try:
            for i, fold in enumerate(folds):
                with _storage_errors(storage, optuna_calls=True):  # where the study is created or loaded
                    study = optuna.create_study(storage=url, study_name=f"ltr-tune-{key}-outer{i + 1}",
                                                direction="maximize", load_if_exists=True)
                timeout_at = None if end is None else time.monotonic() + (end - time.monotonic()) / (outer_folds - i)
                # the preset decided once for the fold: its trials are scored on the model its refit trains
                fold_estimator = _fold_estimator(estimator, fold.train)
                with _storage_errors(storage):  # where each trial is stored (its Optuna calls: in _run_study)
                    resumed += _run_study(study, space, fold_estimator, fold.train, target, inner_folds, conv,
                                          n_trials, i, random_state, shown, timeout_at, storage,
                                          _inner_seeds(random_state, outer_folds, i, inner_repeats))
                with _storage_errors(storage, optuna_calls=True):
                    # the first n_trials completed (a study kept from a longer run holds more: not this run's)
                    complete = sorted((t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE),
                                      key=lambda t: t.number)[:n_trials]
                best = max(complete, key=lambda t: (t.value, -t.number))
                model = apply_params(fold_estimator, best.params)
                result, cv = _outer_result(model, fold, names, conv, label)
                results.append(result)
                template = template or cv
                best_params.append(dict(best.params))
                best_inner.append(float(best.value))
                trials.append([{"number": t.number, "params": dict(t.params), "value": float(t.value)}
                               for t in complete])
                if shown is not None:
                    shown.fold_done(i, len(complete), float(best.value), result.metrics[target])
        finally:
            optuna_logger.setLevel(level)
            if shown is not None:
                shown.close()
    from ltr.datasets import dataset_summary

    tuning = {"space": space.describe(), "space_source": space.source, "metric": target, "n_trials": n_trials,
              "trials_run": [len(t) for t in trials], "startup_trials": STARTUP_TRIALS,
              "inner_random_state": [random_state + 1 + i for i in range(outer_folds)],
              "inner_folds": inner_folds, "inner_repeats": inner_repeats, "best_params": best_params,
              "best_inner": best_inner,
              "storage": None if url is None else url, "study_key": key}
    settings = {**template.settings, "source": "query_kfold", "n_splits": outer_folds, "random_state": random_state,
                "tuning": tuning}
    params = _tuned_params(estimator, space, [r.name for r in results], best_params)
    cv = CVResult(label, names, results, template.feature_names, params, settings,
                  [dataset_summary(data, data_name)])
    from sklearn.base import clone

    return TuneResult(cv, best_params, best_inner, trials, resumed, other, clone(estimator))
