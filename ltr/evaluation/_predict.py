"""Scores of a dataset from a fitted ranker, whichever library fitted it."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Libraries whose estimators predict from a matrix of rows, not from a RankingDataset: LightGBM's LGBMRanker,
#: XGBoost's XGBRanker, scikit-learn's pipelines and regressors.
MATRIX_LIBRARIES = ("lightgbm", "xgboost", "sklearn")


def predict_dataset(model: Any, data, what: str) -> NDArray[np.float64]:
    """``model``'s scores of ``data``, one per row: ltrkit's rankers (and any other ``predict``) take the
    :class:`~ltr.RankingDataset` (its query offsets serve per-query normalisers), the estimators of
    :data:`MATRIX_LIBRARIES` its rows ``data.X`` (they were given the dataset itself and failed deep in the
    engines: "Expected 2D array, got scalar array"; trial t61). ``what`` names the model in errors."""
    library = type(model).__module__.partition(".")[0]
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"{what} has no predict method (got {type(model).__name__}): give a fitted ranker")
    scores = np.asarray(model.predict(data.X if library in MATRIX_LIBRARIES else data), dtype=np.float64)
    if scores.shape != (data.n_rows,):
        raise ValueError(f"{what}.predict gave {scores.shape} scores for the dataset's {data.n_rows} rows: one score "
                         "per row is needed")
    return scores
