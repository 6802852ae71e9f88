"""Named sets of tree defaults for :class:`ltr.Ranker`: ``preset="small"`` for tens to hundreds of queries.

A preset replaces the *defaults* of the tree parameters: a parameter left at its :class:`~ltr.Ranker` default
takes the preset's value, a parameter given any other value keeps it, and the preset's engine parameters come
before ``engine_params`` (which win). ``"auto"`` applies ``"small"`` when the training data has fewer than
:data:`AUTO_SMALL_BELOW` queries and nothing otherwise. The values a fit used are in ``Ranker.preset_params_``.

``"small"``: 15 leaves of at least 100 rows, learning rate 0.02 over 300 rounds, L2 10 on leaf values, 80% of the
features per tree and 80% of the queries per round (LightGBM's ``bagging_by_query``): against the 31 leaves of 20
rows at 0.05 of the standard defaults, fewer and smoother trees that a few dozen queries cannot overfit as easily.
It trains all its rounds (``early_stopping_rounds=None``), as it was measured: a validation set is still recorded
each round, but stopping on the few queries a small collection can spare for it was measured worse, not better
(below). Give ``early_stopping_rounds`` (or ``--early-stopping N``) to stop early anyway.

A parameter named in the ranker's ``preset_keep`` keeps its value even at the default: the command line names
there every model option it was given, so that ``--leaves 31`` or ``--early-stopping 50`` is honoured as given. In
Python a value equal to the default cannot be told from one left out (scikit-learn's ``clone`` passes every
parameter), so under the default ``"auto"`` a fit that replaced parameters without a ``preset_keep`` says which in a
:class:`PresetWarning` (:func:`warn_replaced`): a search over ``num_leaves`` [15, 31, 63] would otherwise compare
31 trained as 15 without a word.

How it was chosen (``benchmarks/bench_small_data.py``, figures in ``benchmarks/results/bench_small_data.md``):
five LightGBM LambdaMART settings (the standard defaults and four small-data ones) cross-validated by nested
query-grouped CV (5 outer folds, 3 inner) on the LETOR features of Cranfield, CACM, NPL, NFCorpus and ADI (``ltr
features --topk 100``) and on MQ2008 (470 queries), trained without a validation part; the setting with the best
mean *inner* NDCG@10 over every data set and outer fold, so that no outer test fold took part in the choice. On
each data set, the setting chosen on the other data sets' inner scores beat the standard defaults on the outer
test queries by 0.006 (MQ2008) to 0.041 (NPL) NDCG@10, significantly (randomisation test, Holm) on Cranfield, NPL
and NFCorpus, not on CACM (+0.013), ADI (+0.040) or MQ2008 (the run of 2026-12-05). The training parts measured held
about 1,000 to 11,000 rows: on much smaller data, 100 rows per leaf allows few splits, so where three leaves of 100
would take more than the 80% of the rows a tree is grown on (below 375 rows) the leaf size stays at the standard 20. For
XGBoost the same tree shape and sampling apply (row-level: XGBoost has no bagging by query; ``min_child_samples``
has no XGBoost counterpart); they were not measured separately. The linear engine takes no preset (``"auto"`` is
accepted and does nothing).

Early stopping. With the preset's trees and its learning rate, stopping after 50 rounds without gain in NDCG@10 on
a fifth of the training queries held out (the standard defaults' rule) lost to the fixed 300 rounds on all three
collections of ``examples/text_to_ranker.py`` (``ltr cv FILE --folds 5 --early-stopping 50`` against ``ltr cv FILE
--folds 5`` on the ``small_collections`` features of Cranfield, NPL and CACM, judged by ``ltr compare``: NDCG@10
0.4100 / 0.4370 / 0.4861 against 0.4195 / 0.4577 / 0.5133; the first stage's 0.3694 / 0.4466 / 0.4987; measured
again on 2026-12-07): the stopping round, chosen on 12 to 45 queries, was
often within the first few rounds. So the preset does not stop early, and ``ltr cv`` holds out no validation part
when the preset applies and no ``--early-stopping`` is given.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["AUTO_SMALL_BELOW", "PRESETS", "PRESET_NAMES", "PresetWarning", "apply_preset", "preset_values",
           "resolve_preset", "warn_replaced"]

#: ``preset="auto"`` means ``"small"`` below this many training queries (the largest set measured has 470).
AUTO_SMALL_BELOW = 500

# "slow-wide" in benchmarks/bench_small_data.py: the best mean inner NDCG@10 of five candidates.
_SMALL = {
    "num_leaves": 15,
    "min_child_samples": 100,
    "learning_rate": 0.02,
    "n_estimators": 300,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_lambda": 10.0,
    "early_stopping_rounds": None,
}
#: Preset name -> engine -> Ranker parameter values (``engine_params`` as a nested dict). Read-only.
PRESETS: Mapping[str, Mapping[str, Mapping[str, Any]]] = MappingProxyType({
    "small": MappingProxyType({
        "lightgbm": MappingProxyType({**_SMALL, "engine_params": {"bagging_by_query": True}}),
        "xgboost": MappingProxyType({k: v for k, v in _SMALL.items() if k != "min_child_samples"}),  # (none in XGBoost)
    }),
})
PRESET_NAMES = ("small", "auto")


def resolve_preset(preset: str | None, n_queries: int | None = None) -> str | None:
    """The preset that applies: ``"small"``, or None; ``"auto"`` needs the number of training queries.

    Examples
    --------
    >>> resolve_preset("auto", 120), resolve_preset("auto", 5000), resolve_preset(None), resolve_preset("none")
    ('small', None, None, None)
    """
    if preset is None or preset == "none":  # "none": the command line's spelling of None
        return None
    if preset not in PRESET_NAMES:
        raise ValueError(f"unknown preset {preset!r}; choose one of {list(PRESET_NAMES)}, or None ('none')")
    if preset == "auto":
        if n_queries is None:
            return None
        return "small" if n_queries < AUTO_SMALL_BELOW else None
    return preset


def preset_values(preset: str, engine: str) -> dict[str, Any]:
    """A copy of the preset's values for ``engine`` (an empty dict for an engine it does not cover)."""
    table = PRESETS[preset].get(engine, {})
    return copy.deepcopy({k: (dict(v) if isinstance(v, Mapping) else v) for k, v in table.items()})


class PresetWarning(UserWarning):
    """The default ``preset="auto"`` replaced parameters left at their defaults (a value written out equal to the
    default, as a grid of scikit-learn's search gives it, is replaced as well)."""


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return False


def warn_replaced(est, applied: Mapping[str, Any]) -> None:
    """Warn (:class:`PresetWarning`) when ``preset="auto"``, the default, replaced parameters of ``est`` that no
    ``preset_keep`` protects: the parameters as given (``get_params``, a search's ``cv_results_``) are then not the
    ones trained. The message is the same for every fit of the same replacement, so Python shows it once."""
    replaced = {k: v for k, v in applied.items()  # preset_keep's are not among them; nor is a value that stays
                if k != "engine_params" and not _same(getattr(est, k, None), v)}
    if getattr(est, "preset", None) != "auto" or not replaced:
        return
    import warnings

    shown = ", ".join(f"{k}={getattr(est, k)!r} -> {v!r}" for k, v in replaced.items())
    warnings.warn(f"preset='auto' (the default): fewer than {AUTO_SMALL_BELOW} training queries, so the small-data "
                  f"preset replaced the parameters at their default values: {shown} (preset_params_ records them); "
                  "pass preset=None to train with the values as given, or name them in preset_keep",
                  PresetWarning, stacklevel=3)


def apply_preset(est, n_queries: int | None, n_rows: int | None = None) -> tuple[Any, dict[str, Any]]:
    """``(effective, applied)``: a shallow copy of the ranker ``est`` with the preset's values where its parameters
    are at their defaults and not named in ``est.preset_keep``, and the values the preset set (empty when no preset
    applies). ``est`` is not changed.

    When the rows a tree is grown on (``n_rows`` training rows, times the subsample of the bagging the preset turns
    on) are fewer than three times the preset's rows per leaf, some tree could not split at all (a split needs
    twice as many, and the bags, drawn by query, vary in size): LightGBM would stop training there, leaving a
    constant or truncated model, or fail with a custom objective. The leaf size then stays at the ranker's default.
    """
    name = resolve_preset(getattr(est, "preset", None), n_queries)
    if name is None:
        return est, {}
    defaults = {k: v.default for k, v in inspect.signature(type(est).__init__).parameters.items() if k != "self"}
    keep = set(getattr(est, "preset_keep", None) or ())
    if getattr(est, "early_stopping_metric", None) is not None:  # a metric to stop on asks for stopping (trial t60)
        keep.add("early_stopping_rounds")
    applied: dict[str, Any] = {}
    effective = copy.copy(est)
    from ltr.rankers.aliases import set_by_engine_params

    # a ranker parameter whose engine parameter engine_params sets is the engine parameter's: not the preset's
    by_engine = set_by_engine_params(est.engine, est.engine_params)
    for key, value in preset_values(name, est.engine).items():
        if key in by_engine:
            continue
        if key == "engine_params":
            merged = {**value, **dict(est.engine_params or {})}
            effective.engine_params = merged
            applied[key] = {k: v for k, v in value.items() if k not in (est.engine_params or {})}
        elif key not in keep and getattr(est, key) == defaults[key]:
            setattr(effective, key, value)
            applied[key] = value
    leaf = applied.get("min_child_samples")
    if leaf is not None and n_rows is not None and 3 * leaf > (effective.subsample or 1.0) * n_rows:
        effective.min_child_samples = est.min_child_samples  # no split possible in some bags: the default stays
        del applied["min_child_samples"]
    return effective, applied
