"""Scores of a dataset from a fitted ranker, whichever library fitted it."""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray


def takes_dataset(model: Any) -> bool:
    """Whether ``model`` is one of ltrkit's rankers (:class:`ltr.Ranker` or a subclass,
    :class:`ltr.dask.DistributedRanker`), which take a :class:`~ltr.RankingDataset` whole (its query offsets serve
    per-query normalisers). Decided by the class hierarchy, not by the module a class was defined in: a subclass of
    LGBMRanker written in a notebook was given the dataset and failed in numpy's words (trial t62)."""
    from ltr import Ranker
    from ltr.dask import DistributedRanker  # (imports no Dask)

    return isinstance(model, (Ranker, DistributedRanker))


def engine_ranker(model: Any) -> str | None:
    """``"LightGBM"`` or ``"XGBoost"`` when ``model`` is that engine's scikit-learn ranker (``LGBMRanker``,
    ``XGBRanker`` or a subclass), whose ``fit`` takes rows, labels and ``group=`` sizes; else None. An instance of
    one means its package is imported already: none is imported here."""
    for module, name, engine in (("lightgbm", "LGBMRanker", "LightGBM"), ("xgboost", "XGBRanker", "XGBoost")):
        package = sys.modules.get(module)
        cls = getattr(package, name, None) if package is not None else None
        if cls is not None and isinstance(model, cls):
            return engine
    return None


def check_dataset(data: Any, what: str = "data") -> None:
    """Refuse, in one line saying what to pass, ``data`` that is not a :class:`~ltr.RankingDataset`: a path, arrays,
    an ``(X, y, qid)`` tuple, which failed with "'str' object has no attribute 'query_ids'" (trial t62)."""
    from ltr.datasets import RankingDataset

    if isinstance(data, RankingDataset):
        return
    if isinstance(data, (str, os.PathLike)):
        fix = f"read the file first, ltr.io.read_letor({os.fsdecode(os.fspath(data))!r})"
    else:
        fix = "wrap arrays as ltr.RankingDataset(X, y, qid, group_ptr)"
    raise TypeError(f"{what} must be a RankingDataset (rows, labels and queries), got {type(data).__name__}: {fix}")


def predict_dataset(model: Any, data, what: str) -> NDArray[np.float64]:
    """``model``'s scores of ``data``, one per row: ltrkit's rankers (:func:`takes_dataset`) take the
    :class:`~ltr.RankingDataset`; any other model (LightGBM's, XGBoost's, scikit-learn's estimators, CatBoost's, a
    subclass of one, a user's own class) its rows ``data.X``, as the engines' scikit-learn wrappers take them.
    ``what`` names the model in errors."""
    if isinstance(model, type):  # the class itself: its predict is a function wanting an instance
        raise TypeError(f"{what} is the class {model.__name__}, not a fitted model: give a fitted instance")
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"{what} has no predict method (got {type(model).__name__}): give a fitted ranker")
    whole = takes_dataset(model)
    try:
        scores = np.asarray(model.predict(data if whole else data.X), dtype=np.float64)
    except AttributeError as e:  # a predict written for the dataset (the rule before trial t62) reading .X of rows
        if whole or getattr(e, "obj", None) is not data.X:
            raise
        raise TypeError(f"{what}.predict was given the rows (data.X), as every model but ltrkit's own is, and asked "
                        f"them for .{e.name}: write predict(X) for rows, as scikit-learn's estimators take them"
                        ) from None
    if scores.shape != (data.n_rows,):
        raise ValueError(f"{what}.predict gave {scores.shape} scores for the dataset's {data.n_rows} rows: one score "
                         "per row is needed")
    return scores
