"""Which features matter: the engine's importances, permutation importance in a ranking metric, group ablation.

- :func:`importance_table`: gain and split counts from the engine (LightGBM / XGBoost), with feature ids and names.
- :func:`permutation_importance`: the drop in a ranking metric (default NDCG@10) when one feature's values are
  shuffled (Breiman 2001; Fisher, Rudin and Dominici 2019). By default the values are shuffled *within each query*:
  a ranker only compares documents of one query, so that is the information a feature carries for ranking; a
  query-level feature (the same value for every document of a query) then scores exactly 0. ``within="all"``
  shuffles across the whole dataset, as :func:`sklearn.inspection.permutation_importance` does.
- :func:`ablation`: re-run cross-validation without each feature group and test the change per query against the
  full feature set (:func:`ltr.evaluation.compare_cv`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ltr.datasets import RankingDataset
from ltr.evaluation._predict import check_dataset, predict_dataset

if TYPE_CHECKING:
    import pandas as pd

    from ltr.evaluation.compare import Comparison

__all__ = ["ablation", "groups_by_prefix", "importance_table", "permutation_importance"]


def _names(model, n: int, names: Sequence[str] | None) -> list[str]:
    if names is not None:
        return [str(s) for s in names]
    fitted = getattr(model, "feature_names_in_", None)
    return [str(s) for s in fitted] if fitted is not None else [str(j + 1) for j in range(n)]


def importance_table(model, names: Sequence[str] | None = None) -> pd.DataFrame:
    """The engine's importances of a fitted :class:`ltr.Ranker`, largest gain first.

    ``gain`` and ``split`` are LightGBM's ``Booster.feature_importance("gain")`` / ``("split")`` over the rounds the
    model predicts with (XGBoost's ``get_score("total_gain")`` / ``("weight")``). A model that ``ltr train
    --features`` trained on a subset (:func:`ltr.evaluation.selection.recorded_features`) gives its columns the ids
    they have in the training file.

    Returns
    -------
    pandas.DataFrame
        Columns ``id`` (1-based LETOR id), ``feature`` (name), ``gain`` (total split gain), ``gain_share``
        (gain / total gain), ``split`` (number of splits). A linear model (``engine="linear"``) has no splits: its
        ``gain`` is ``|weight| x`` the feature's scale, ``split`` 1 for a non-zero weight, and a column ``weight``
        holds its signed weights (on the features after its normalizer).

    Examples
    --------
    >>> from ltr import Ranker, make_ranking
    >>> model = Ranker(n_estimators=5, min_child_samples=5, preset=None).fit(make_ranking(30, 8, 3, random_state=0))
    >>> table = importance_table(model)
    >>> list(table.columns), round(float(table["gain_share"].sum()), 6)
    (['id', 'feature', 'gain', 'gain_share', 'split'], 1.0)
    """
    import pandas as pd

    from ltr.evaluation.selection import recorded_features

    gain = np.asarray(model.feature_importance("gain"), dtype=np.float64)
    split = np.asarray(model.feature_importance("split"), dtype=np.float64)
    total = gain.sum()
    recorded = recorded_features(model)
    ids = np.asarray(recorded[0]) if recorded is not None and len(recorded[0]) == gain.size else \
        np.arange(1, gain.size + 1)
    frame = pd.DataFrame({
        "id": ids,
        "feature": _names(model, gain.size, names),
        "gain": gain,
        "gain_share": gain / total if total > 0 else gain,
        "split": split.astype(np.int64),
    })
    if getattr(model, "engine", None) == "linear":
        frame["weight"] = np.asarray(model.booster_.weights, dtype=np.float64)
    return frame.sort_values(["gain", "id"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _within_query_order(rng: np.random.Generator, qidx: np.ndarray) -> np.ndarray:
    # Sort by (query, random key): a uniformly random permutation of the rows inside each query.
    return np.lexsort((rng.random(qidx.size), qidx))


def permutation_importance(
    model,
    data: RankingDataset,
    *,
    metric: str = "ndcg@10",
    n_repeats: int = 5,
    within: str = "query",
    features: Sequence[int] | None = None,
    random_state: int | None = 0,
    gain: str = "exp2",
    no_relevant: float = 0.0,
    progress: bool = False,
) -> pd.DataFrame:
    """Drop in ``metric`` when each feature is shuffled, ``n_repeats`` times.

    importance_j = metric(original) - mean_r metric(X with column j shuffled, repeat r)

    Parameters
    ----------
    model : fitted ranker with ``predict``
        ltrkit's rankers (:class:`ltr.Ranker` and its subclasses) are given the dataset; any other model
        (LightGBM's, XGBoost's, scikit-learn's estimators, a class of one's own) its rows ``data.X``.
    data : RankingDataset
        Usually held-out data (arrays or a path are refused: wrap them, or read the file, first).
    metric : str, default="ndcg@10"
    n_repeats : int, default=5
    within : {"query", "all"}, default="query"
        Shuffle inside each query, or across all rows.
    features : sequence of int, optional
        0-based columns to measure (default all).
    random_state : int, optional
    gain, no_relevant
        Metric conventions.
    progress : bool, default=False
        A tqdm bar over features.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``feature``, ``importance`` (mean drop), ``std`` (the sample standard deviation of the
        drops over the repeats, ``ddof=1``, as :meth:`ltr.evaluation.CVResult.std` over folds; scikit-learn's
        ``importances_std`` is ``ddof=0``, smaller by a factor ``sqrt((n_repeats - 1) / n_repeats)``; 0 for one
        repeat), ``baseline``; largest first.

    Examples
    --------
    A ranker that only looks at column 0: shuffling column 1 changes nothing.

    >>> from ltr import make_ranking
    >>> class First:  # given the rows, as scikit-learn's estimators are
    ...     def predict(self, X):
    ...         return np.asarray(X)[:, 0]
    >>> t = permutation_importance(First(), make_ranking(20, 6, 2, random_state=0), n_repeats=2)
    >>> float(t.set_index("id").loc[2, "importance"])
    0.0
    """
    import pandas as pd

    from ltr.metrics import evaluate, parse_metric

    check_dataset(data)
    if within not in ("query", "all"):
        raise ValueError(f"within must be 'query' or 'all', got {within!r}")
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, (int, np.integer)) or n_repeats < 1:
        raise ValueError(f"n_repeats must be a positive integer, got {n_repeats!r}")
    name = parse_metric(metric).name
    y, ptr = np.asarray(data.y), np.asarray(data.group_ptr)
    # The rows as given: their dtype (a float64 feature cast to float32 is another feature to a model trained on
    # float64) and, when sparse, their absent entries (missing to a model trained sparse, 0 once made dense).
    sparse = sp.issparse(data.X)
    X = sp.csc_matrix(data.X, copy=True) if sparse else np.array(data.X, copy=True)

    def score(matrix) -> float:
        from dataclasses import replace

        scores = predict_dataset(model, replace(data, X=matrix.tocsr() if sparse else matrix), "model")
        return evaluate(y, scores, group_ptr=ptr, metrics=[name], gain=gain, no_relevant=no_relevant)[name]

    base = score(X)
    rng = np.random.default_rng(random_state)
    qidx = np.repeat(np.arange(data.n_queries), data.group_sizes)
    cols = list(range(data.n_features)) if features is None else [int(c) for c in features]
    iterator = cols
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(cols, desc="permutation importance", unit="feature", disable=None)
    means, stds = [], []
    for j in iterator:
        if sparse:  # column j's entries, present or absent, move with their rows: only its row indices change
            at = slice(X.indptr[j], X.indptr[j + 1])
            original = X.indices[at].copy()
        else:
            original = X[:, j].copy()
        drops = []
        for _ in range(int(n_repeats)):
            order = _within_query_order(rng, qidx) if within == "query" else rng.permutation(X.shape[0])
            if sparse:  # row i takes row order[i]'s entry: the entry of row r goes to the row i with order[i] = r
                to = np.empty_like(order)
                to[order] = np.arange(order.size)
                X.indices[at] = to[original]
                X.has_sorted_indices = False
            else:
                X[:, j] = original[order]
            drops.append(base - score(X))
        if sparse:
            X.indices[at] = original
        else:
            X[:, j] = original
        means.append(float(np.mean(drops)))
        stds.append(float(np.std(drops, ddof=1)) if len(drops) > 1 else 0.0)
    names = list(data.feature_names) if data.feature_names is not None else [str(c + 1) for c in
                                                                               range(data.n_features)]
    frame = pd.DataFrame({"id": [c + 1 for c in cols], "feature": [names[c] for c in cols], "importance": means,
                          "std": stds, "baseline": base})
    return frame.sort_values(["importance", "id"], ascending=[False, True], kind="stable").reset_index(drop=True)


def groups_by_prefix(names: Sequence[str], sep: str = ":") -> dict[str, list[str]]:
    """Group feature names by the text before the first ``sep`` (``"bm25:title"`` -> ``"bm25"``), in first-seen order.

    Examples
    --------
    >>> groups_by_prefix(["bm25:title", "bm25:body", "lm:body", "length"])
    {'bm25': ['bm25:title', 'bm25:body'], 'lm': ['lm:body'], 'length': ['length']}
    """
    out: dict[str, list[str]] = {}
    for n in names:
        out.setdefault(str(n).split(sep, 1)[0], []).append(str(n))
    return out


def ablation(
    estimator,
    data,
    groups: Mapping[str, Sequence[int | str]],
    *,
    metrics: str | Sequence[str] = ("ndcg@10",),
    tests: Sequence[str] = ("randomization", "t"),
    correction: str = "holm",
    alpha: float = 0.05,
    n_permutations: int = 10_000,
    seed: int = 0,
    progress: bool = True,
    **cv_kwargs: Any,
) -> Comparison:
    """Leave-one-group-out feature ablation under cross-validation, with paired significance tests.

    Runs :func:`ltr.evaluation.cross_validate` once with every feature (the baseline, ``"all features"``) and once
    per group without that group's features (``"-<group>"``), on the same folds, then compares the pooled
    per-query test values of each ablated run with the full one (:func:`ltr.evaluation.compare_cv`). A negative
    delta means the group helps.

    Parameters
    ----------
    estimator, data
        As for :func:`~ltr.evaluation.cross_validate` (a dataset, LETOR file, fold directory or folds).
    groups : mapping of str to sequence of int or str
        Group name -> its features (1-based ids or names).
    metrics, tests, correction, alpha, n_permutations, seed
        As for :func:`~ltr.evaluation.compare`.
    progress : bool, default=True
        A bar over the runs.
    **cv_kwargs
        Passed to :func:`~ltr.evaluation.cross_validate` (``n_splits``, ``random_state``, ``n_jobs``, ...).
        ``features`` is refused: ablation drops groups from the data's full feature set, so restrict the data
        first (:func:`~ltr.evaluation.select_features`) to ablate within a subset.

    Returns
    -------
    Comparison
        With ``extra["ablation"] = {group: [1-based ids dropped]}`` and ``extra["cv"]`` holding every run.
    """
    from ltr.evaluation.compare import compare_cv
    from ltr.evaluation.cv import cross_validate
    from ltr.evaluation.folds import load_part, make_folds
    from ltr.evaluation.selection import resolve_features

    if not groups:
        raise ValueError("ablation needs at least one feature group")
    if cv_kwargs.pop("features", None) is not None:
        raise ValueError("ablation drops groups from the full feature set; select features before (select_features)")
    # Resolve the folds once so every run uses the same ones.
    folds, _, datasets = make_folds(data, cv_kwargs.pop("n_splits", 5), random_state=cv_kwargs.pop("random_state", 0),
                                    validation=cv_kwargs.pop("validation", True),
                                    read_options=cv_kwargs.get("read_options"))
    first = load_part(folds[0].train, cv_kwargs.get("n_features"), **dict(cv_kwargs.get("read_options") or {}))
    width = first.n_features
    names = first.feature_names
    dropped = {}
    for g, members in groups.items():
        cols = resolve_features(list(members), width, names)
        if cols.size == width:
            raise ValueError(f"group {g!r} holds every feature; nothing would be left to train on")
        dropped[g] = sorted(int(c) + 1 for c in cols)
    runs = [("all features", None)] + [(f"-{g}", [j for j in range(1, width + 1) if j not in set(ids)])
                                       for g, ids in dropped.items()]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(runs), desc="ablation", unit="run", disable=None)
    results = {}
    try:
        for label, keep in runs:
            r = cross_validate(estimator, folds, metrics=metrics, features=keep, progress=False, name=label,
                               **cv_kwargs)
            r.datasets = datasets
            results[label] = r
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    comp = compare_cv(results, "all features", tests=tests, correction=correction, alpha=alpha,
                      n_permutations=n_permutations, seed=seed)
    comp.extra["ablation"] = dropped
    comp.extra["datasets"] = datasets
    return comp
