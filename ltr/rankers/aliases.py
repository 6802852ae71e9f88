"""The names of the engines' parameters: LightGBM's aliases (from LightGBM itself), XGBoost's scikit-learn-style
ones, and which engine parameter each :class:`ltr.Ranker` parameter sets.

Kept apart from :mod:`ltr.rankers.params` (the checks) and :mod:`ltr.rankers._backends` (what the engines are
given), which both read it: neither imports the other through it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["RANKER_TO_ENGINE", "XGB_ALIASES", "engine_canonical_names", "engine_names", "engine_parameter",
           "engine_threads_key", "lightgbm_alias_table", "set_by_engine_params"]

# XGBoost accepts scikit-learn-style aliases that its configuration stores under other names.
XGB_ALIASES = {
    "learning_rate": "eta",
    "reg_lambda": "lambda",
    "reg_alpha": "alpha",
    "min_split_loss": "gamma",
    "random_state": "seed",
    "n_jobs": "nthread",
}


@functools.cache
def lightgbm_alias_table() -> dict[str, tuple[str, ...]]:
    """LightGBM's parameters: each name and its aliases."""
    import ctypes

    import lightgbm as lgb
    from lightgbm.basic import _LIB, _safe_call

    # The same call lightgbm.basic uses for its own alias table: every parameter name and its aliases.
    size = 1 << 20
    buf = ctypes.create_string_buffer(size)
    needed = ctypes.c_int64(0)
    _safe_call(_LIB.LGBM_DumpParamAliases(ctypes.c_int64(size), ctypes.byref(needed), buf))
    if needed.value > size:  # pragma: no cover - the table is about 30 KB
        buf = ctypes.create_string_buffer(needed.value)
        _safe_call(_LIB.LGBM_DumpParamAliases(needed, ctypes.byref(needed), buf))
    table = json.loads(buf.value.decode("utf-8"))
    del lgb
    return {k: tuple(v) for k, v in table.items()}


# The engine parameter each Ranker parameter sets (ltr.rankers._backends): an engine parameter by any of its names
# that sets the same thing is refused when the Ranker's parameter is given too (one of the two would be lost).
RANKER_TO_ENGINE = {
    "lightgbm": {"learning_rate": "learning_rate", "num_leaves": "num_leaves", "max_depth": "max_depth",
                 "min_child_samples": "min_data_in_leaf", "colsample_bytree": "feature_fraction",
                 "subsample": "bagging_fraction", "reg_lambda": "lambda_l2", "random_state": "seed",
                 "n_estimators": "num_iterations", "objective": "objective", "n_jobs": "num_threads"},
    "xgboost": {"learning_rate": "eta", "num_leaves": "max_leaves", "max_depth": "max_depth",
                "subsample": "subsample", "colsample_bytree": "colsample_bytree", "reg_lambda": "lambda",
                "random_state": "seed", "objective": "objective", "n_jobs": "nthread"},
}


def engine_names(engine: str, canonical: str) -> set[str]:
    """``canonical`` and its aliases in ``engine``."""
    if engine == "lightgbm":
        return {canonical, *lightgbm_alias_table().get(canonical, ())}
    return {canonical} | {k for k, v in XGB_ALIASES.items() if v == canonical}


def engine_parameter(engine: str, key: str) -> str:
    """The engine parameter ``key`` names: its canonical name for an alias (XGBoost's ``learning_rate`` is ``eta``,
    LightGBM's ``min_data`` is ``min_data_in_leaf``), else ``key`` itself."""
    if engine == "lightgbm":
        return _lightgbm_canonical().get(key, key)
    if engine == "xgboost":
        return XGB_ALIASES.get(key, key)
    return key


@functools.cache
def _lightgbm_canonical() -> dict[str, str]:
    return {alias: name for name, aliases in lightgbm_alias_table().items() for alias in aliases}


def set_by_engine_params(engine: str, params: Mapping[str, Any] | None) -> dict[str, str]:
    """``{Ranker parameter: the key of params}`` for each Ranker parameter whose engine parameter ``params`` sets,
    by its name or any alias (LightGBM's ``min_child_samples`` sets ``min_data_in_leaf``, which the ranker's
    ``min_child_samples`` sets too); the objective and the thread count left out.

    Examples
    --------
    >>> set_by_engine_params("lightgbm", {"min_data": 5, "lambdarank_truncation_level": 10})
    {'min_child_samples': 'min_data'}
    """
    mapping = RANKER_TO_ENGINE.get(engine)
    if not params or mapping is None:
        return {}
    out = {}
    for param, canonical in mapping.items():
        if param in ("objective", "n_jobs"):
            continue
        names = engine_names(engine, canonical)
        key = next((k for k in params if k in names), None)
        if key is not None:
            out[param] = key
    return out


def engine_threads_key(engine: str, params: Mapping[str, Any] | None) -> str | None:
    """The key of ``params`` that sets the engine's thread count (LightGBM's ``num_threads`` or an alias,
    XGBoost's ``nthread`` or ``n_jobs``), or None.

    Examples
    --------
    >>> engine_threads_key("lightgbm", {"num_thread": 2}), engine_threads_key("xgboost", {"eta": 0.1})
    ('num_thread', None)
    """
    canonical = RANKER_TO_ENGINE.get(engine, {}).get("n_jobs")
    if not params or canonical is None:
        return None
    names = engine_names(engine, canonical)
    return next((k for k in params if k in names), None)


def engine_canonical_names(engine: str) -> dict[str, str]:
    """``{Ranker parameter: the engine parameter it sets}`` (:mod:`ltr.rankers._backends` writes these keys)."""
    return dict(RANKER_TO_ENGINE.get(engine, {}))
