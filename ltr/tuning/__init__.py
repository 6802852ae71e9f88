"""Parameter tuning by query groups: nested cross-validation with an Optuna search inside.

- :func:`tune`: per outer fold, an Optuna study (seeded TPE, resumable SQLite storage) whose trials are scored by
  inner query-grouped folds of the outer training queries; the chosen parameters are tested once on the outer
  test queries. Returns a :class:`TuneResult` whose ``cv`` is a :class:`~ltr.evaluation.CVResult` (the result file
  ``ltr compare`` and ``ltr report`` read).
- :func:`select_by_nested_cv`: the same nesting over a few fixed configurations (presets, learners).
- :func:`inner_score`: one configuration's cross-validated score on a set of queries.
- :mod:`.space`: search spaces in TOML (:func:`load_space`; defaults in ``ltr/tuning/spaces/<engine>.toml``), and
  :func:`apply_params`, which turns a trial's or a fold's parameters (``"engine_params.NAME"`` keys among them)
  into a configured ranker (:meth:`TuneResult.best_estimator`).
- :mod:`.progress`: what a search shows on standard error (a bar on a terminal, rate-limited lines elsewhere).

Optuna is an optional dependency (``pip install "ltrkit[tune]"``), imported when a search runs.
"""

from ltr.tuning.nested import (
    NestedSelection,
    SearchedParamWarning,
    TuneResult,
    inner_score,
    select_by_nested_cv,
    tune,
)
from ltr.tuning.space import Param, SearchSpace, apply_params, default_space_path, load_space

__all__ = [
    "NestedSelection",
    "Param",
    "SearchSpace",
    "SearchedParamWarning",
    "TuneResult",
    "apply_params",
    "default_space_path",
    "inner_score",
    "load_space",
    "select_by_nested_cv",
    "tune",
]
