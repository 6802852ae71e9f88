"""Checks of a ranker's hyper-parameters and of engine parameters passed by name, before any training starts.

Engines report a bad parameter late and loudly (LightGBM prints ``[LightGBM] [Fatal] ...`` from C++ and raises
after the data set is built; XGBoost warns that a parameter "might not be used" and trains anyway). Here a bad
value or an unknown name is a :class:`ValueError` naming the parameter, the value and what is expected, raised
before the data is touched.

Known engine parameters are read from the installed engine itself, never listed by hand: LightGBM's parameter
table with every alias (``LGBM_DumpParamAliases``, LightGBM >= 4), and XGBoost's configuration of a booster for
the chosen objective (``Booster.save_config``), which lists every learner, objective and tree parameter.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import numbers
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ltr._json import python_values
from ltr.exceptions import CommandLineWorded, ParameterValueError
from ltr.rankers._backends import StderrHold, engine_words
from ltr.rankers.aliases import RANKER_TO_ENGINE, XGB_ALIASES, engine_names, lightgbm_alias_table

__all__ = ["check_duplicated_params", "check_engine_params", "check_engine_values", "check_hyper_parameters",
           "known_engine_params"]

# Accepted by XGBoost's train() but absent from a booster's configuration.
_XGB_EXTRA = {"device", "nthread", "verbosity", "seed", "seed_per_iteration", "disable_default_eval_metric",
              "validate_parameters", "eval_metric", "base_score", "booster", "objective", "num_parallel_tree",
              "tree_method", "max_cat_to_onehot", "max_cat_threshold", "multi_strategy", "updater",
              "process_type", "refresh_leaf", "grow_policy", "max_bin", "sampling_method",
              "interaction_constraints", "monotone_constraints", "feature_weights"}


def _number(value) -> bool:
    """A real number, NumPy's scalars included (a grid from ``np.arange`` or ``np.linspace``), booleans not."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _whole(value) -> bool:
    """An integer, or a float that is one (a search space's or a TOML file's ``31.0``): every integer
    hyper-parameter takes both, and the engines are given the integer."""
    return _integer(value) or (_number(value) and math.isfinite(value) and float(value).is_integer())


def _positive(name: str, value, *, integer: bool = False, allow_zero: bool = False) -> None:
    ok = _number(value) and math.isfinite(value)
    if ok and integer:
        ok = float(value).is_integer()
    if ok:
        ok = value >= 0 if allow_zero else value > 0
    if not ok:
        kind = "an integer" if integer else "a finite number"
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {kind} {bound}, got {value!r}")


#: Ranker's default min_child_samples (LightGBM's min_data_in_leaf), which XGBoost has no counterpart of.
_DEFAULT_MIN_CHILD_SAMPLES = 20


class UnusedParameterWarning(CommandLineWorded, UserWarning):
    """A ranker parameter given a value that the engine has no counterpart of, so that it changes nothing (worded
    for the command line by :meth:`cli_message`)."""


#: LightGBM's seed parameters and aliases (``config.h``), each a C int.
_LIGHTGBM_SEEDS = ("seed", "random_seed", "random_state", "data_random_seed", "bagging_seed", "feature_fraction_seed",
                   "extra_seed", "drop_seed", "objective_seed")


def warn_unused(est, stacklevel: int = 3) -> None:
    """Warn (:class:`UnusedParameterWarning`) when ``min_child_samples`` is given to XGBoost, which has no least
    number of rows per leaf (it was dropped without a word: the same model with and without it; a trial), and when
    a LightGBM seed is 2**31 or more, which LightGBM draws as the seed 2**31 lower (its seed is a C int: a seed
    drawn from 0 to 2**32 - 1 repeated another's model half the time it was that high; trial t64)."""
    import warnings

    if getattr(est, "engine", None) == "lightgbm":  # its seeds given as engine parameters too (review of t64)
        seeds = [("random_state", "--seed", getattr(est, "random_state", None))]
        given = getattr(est, "engine_params", None) or {}
        seeds += [(f"engine_params {k}", f"--param {k}", v) for k, v in given.items() if k in _LIGHTGBM_SEEDS]
        for name, flag, seed in seeds:
            if _whole(seed) and 2**31 <= seed < 2**32:
                reason = (f"LightGBM keeps its seeds in a C int and draws as for {int(seed) - 2**31}, the same model: "
                          "its seeds run from 0 to 2**31 - 1")
                said = f"{flag} {int(seed)}" if flag == "--seed" else f"{flag}={int(seed)}"
                warnings.warn(UnusedParameterWarning(f"{name}={int(seed)}: {reason}", cli=f"{said}: {reason}"),
                              stacklevel=stacklevel)
    if getattr(est, "engine", None) != "xgboost" or est.min_child_samples == _DEFAULT_MIN_CHILD_SAMPLES:
        return

    reason = ("XGBoost has no least number of rows per leaf, so it is not used; its nearest is the least hessian "
              "sum per leaf, min_child_weight")
    warnings.warn(UnusedParameterWarning(
        f"min_child_samples={est.min_child_samples!r}: {reason} (engine_params={{'min_child_weight': ...}})",
        cli=f"--min-child-samples {est.min_child_samples}: {reason} (--param min_child_weight=...)"),
        stacklevel=stacklevel)


#: LightGBM's largest ``num_leaves`` (``config.cpp``: "num_leaves must be <= 131072").
LIGHTGBM_MAX_LEAVES = 131072


def check_hyper_parameters(est) -> None:
    """Refuse hyper-parameter values no engine can train with (one message naming the parameter and value)."""
    _positive("n_estimators", est.n_estimators, integer=True)
    if est.n_estimators > 2**31 - 1:  # the engines count rounds in a C int: 2**31 wrapped to LightGBM's "< 0"
        raise ValueError(f"n_estimators must be at most {2**31 - 1} (the engines' C int), got {est.n_estimators!r}")
    _positive("learning_rate", est.learning_rate)
    if not _whole(est.num_leaves) or est.num_leaves < 2:
        raise ValueError(f"num_leaves must be an integer >= 2 (a tree needs two leaves), got {est.num_leaves!r}")
    top = LIGHTGBM_MAX_LEAVES if getattr(est, "engine", None) == "lightgbm" else 2**31 - 1
    if est.num_leaves > top:  # (a search space's range end above it passed, and its trial failed at every resume)
        said = "LightGBM's limit" if top == LIGHTGBM_MAX_LEAVES else "the engines' C int"
        raise ValueError(f"num_leaves must be at most {top} ({said}), got {est.num_leaves!r}")
    if est.max_depth is not None and (not _whole(est.max_depth) or est.max_depth == 0 or est.max_depth < -1):
        raise ValueError(f"max_depth must be a positive integer, or -1/None for no limit, got {est.max_depth!r}")
    _positive("min_child_samples", est.min_child_samples, integer=True, allow_zero=True)
    for name in ("subsample", "colsample_bytree"):
        v = getattr(est, name)
        if not _number(v) or not 0 < v <= 1:
            raise ValueError(f"{name} must lie in (0, 1], got {v!r}")
    _positive("reg_lambda", est.reg_lambda, allow_zero=True)
    if est.early_stopping_rounds is not None:
        _positive("early_stopping_rounds", est.early_stopping_rounds, integer=True)
    if est.random_state is not None and (not _whole(est.random_state) or not 0 <= est.random_state < 2**32):
        raise ValueError(f"random_state must be None or an integer seed from 0 to 2**32 - 1 (a model file records "
                         f"it; the engines take a larger one mod 2**32, 2**32 as 0), got {est.random_state!r}")
    for key, value in dict(getattr(est, "engine_params", None) or {}).items():
        if key in ("seed", "random_state", "random_seed") and not (_whole(value) and 0 <= value < 2**32):
            said = "a seed from 0 to 2**32 - 1 (the engines take a larger one mod 2**32, 2**32 as 0)"
            raise ParameterValueError(f"engine_params: {key}={value!r}: {said}", key=key, reason=said,
                                      cli=f"--param {key}={value}: {said}")


@functools.cache
def _lightgbm_names() -> frozenset[str]:
    names = set()
    for canonical, aliases in lightgbm_alias_table().items():
        names.add(canonical)
        names.update(aliases)
    return frozenset(names)


def _walk_keys(obj, out: set[str]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.add(k)
            _walk_keys(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _walk_keys(v, out)


@functools.cache
def _xgboost_names(objective: str) -> frozenset[str]:
    import numpy as np
    import xgboost as xgb

    d = xgb.DMatrix(np.zeros((2, 1), dtype=np.float32), label=[0.0, 1.0])
    if objective.startswith("rank:"):
        d.set_group([2])
    booster = xgb.Booster({"objective": objective, "tree_method": "hist", "verbosity": 0}, [d])
    booster.update(d, 0)  # configures the learner, objective and updaters
    keys: set[str] = set()
    _walk_keys(json.loads(booster.save_config()), keys)
    return frozenset(keys | _XGB_EXTRA | set(XGB_ALIASES))


def known_engine_params(engine: str, objective: str | None = None) -> frozenset[str]:
    """Every parameter name (and alias) the installed engine accepts; for XGBoost, with ``objective``'s own."""
    if engine == "lightgbm":
        return _lightgbm_names()
    if engine == "xgboost":
        return _xgboost_names(objective if isinstance(objective, str) else "rank:ndcg")
    raise ValueError(f"unknown engine {engine!r}")


def check_engine_params(engine: str, params: Mapping[str, Any], *, objective: str | None = None,
                        what: str = "engine_params") -> None:
    """Refuse a parameter name the engine does not know, suggesting the closest known one.

    Examples
    --------
    >>> check_engine_params("lightgbm", {"min_data_in_leaf": 5, "lambdarank_truncation_level": 10})
    >>> check_engine_params("lightgbm", {"min_data_in_lef": 5})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ltr.exceptions.ParameterValueError: engine_params: lightgbm has no parameter 'min_data_in_lef' (did you mean...
    """
    if not params:
        return
    for key, value in params.items():  # first: dart's own parameters are no gbtree's ('no parameter rate_drop'; t59)
        if isinstance(key, str):
            _refuse_unreadable_boosting(engine, key, value, what)
    known = known_engine_params(engine, objective)
    for key in params:
        if not isinstance(key, str):
            raise ValueError(f"{what}: parameter names must be strings, got {key!r}")
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            reason = f"{engine} has no parameter {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            cli_reason = reason
            wrapper = _WRAPPER_NAMES.get(engine, {}).get(key)
            if wrapper is not None:  # a name of the engine's fit/train call, not of its booster's parameters
                said = f"{key!r} is an argument of {wrapper[0]}, not {'an' if engine == 'xgboost' else 'a'} {engine} "
                reason, cli_reason = f"{said}parameter: {wrapper[1]}", f"{said}parameter: {wrapper[2]}"
            if key == "missing" and engine == "xgboost":  # DMatrix's and XGBRanker's, not a booster parameter
                said = ("; XGBoost's missing value is the data's: NaN is missing ({}), and a LETOR id a line leaves "
                        "out is 0, or missing when read sparse ({})")
                reason += said.format("read_letor(nonfinite='allow')", "read_letor(sparse=True)")
                cli_reason += said.format("--nonfinite allow", "--sparse")
            raise ParameterValueError(f"{what}: {reason}", cli=f"--param: {cli_reason}", key=key, reason=reason,
                                      cli_reason=cli_reason if cli_reason != reason else None)


#: Why continued training is refused, wherever it is asked for (``Ranker.fit(init_model=)`` says the same).
_NO_CONTINUED_TRAINING = "continued training from a saved model is not offered; train afresh"

#: Names of the engines' training calls (lightgbm.train, xgboost.train, XGBRanker) that users put among the booster's
#: parameters: where it is, and what to do here instead (Python, command line). Their continued training was
#: answered "did you mean 'input_model'?", a name then refused (trial t66).
_WRAPPER_NAMES = {
    "xgboost": {
        "early_stopping_rounds": ("xgboost.train and XGBRanker", "give the Ranker's early_stopping_rounds=",
                                  "give --early-stopping N"),
        "num_boost_round": ("xgboost.train", "give the Ranker's n_estimators=", "give --rounds N"),
        "n_estimators": ("XGBRanker", "give the Ranker's n_estimators=", "give --rounds N"),
        "xgb_model": ("xgboost.train and XGBRanker.fit", _NO_CONTINUED_TRAINING, _NO_CONTINUED_TRAINING),
    },
    "lightgbm": {
        "init_model": ("lightgbm.train and LGBMRanker.fit", _NO_CONTINUED_TRAINING, _NO_CONTINUED_TRAINING),
    },
}


def _refuse_two_spellings(engine: str, params: Mapping[str, Any], what: str) -> None:
    """Two names of one engine parameter (``eta`` and ``learning_rate``, ``lambda`` and ``reg_lambda``) are one
    parameter given twice: the engine keeps one without a word, as a ranker option beside its engine parameter would
    be (refused too)."""
    from ltr.rankers.aliases import engine_parameter

    seen: dict[str, str] = {}
    for key in params:
        name = engine_parameter(engine, key)
        if name in seen:
            first = seen[name]
            reason = f"{first} and {key} are two names of {engine}'s {name}: give it once"
            raise ParameterValueError(f"{what}: {first}={params[first]!r}, {key}={params[key]!r}: {reason}",
                                      cli=f"--param {first}={params[first]} --param {key}={params[key]}: {reason}",
                                      key=key, reason=reason)
        seen[name] = key


def check_duplicated_params(est, params: Mapping[str, Any], *, what: str = "engine_params") -> None:
    """Refuse an engine parameter that sets what one of the ranker's own parameters sets, when that one is given
    too (not at its default): LightGBM or XGBoost would train with one and the model's record show the other. The
    objective is always the ranker's (``objective=``), which also decides the gradients a kernel computes.

    Examples
    --------
    >>> from ltr import Ranker
    >>> check_duplicated_params(Ranker(min_child_samples=10), {"min_data_in_leaf": 5})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ltr.exceptions.ParameterValueError: engine_params: min_data_in_leaf=5 sets what min_child_samples=10 sets ...
    """
    import inspect

    engine = est.engine
    mapping = RANKER_TO_ENGINE.get(engine)
    if not params or mapping is None:
        return
    for key, value in params.items():
        _refuse_engine_evaluation(engine, key, value, what)
        _refuse_engine_stopping(engine, key, value, what)
        _refuse_program_only(engine, key, value, what)
        _refuse_unreadable_boosting(engine, key, value, what)
        _refuse_categorical(engine, key, value, what)
    _refuse_two_spellings(engine, params, what)
    _refuse_native_objective_options(est, params, what)
    _refuse_objective_option_twice(est, params, what)
    for key, value in params.items():  # the device is the ranker's own, checked where training starts
        text = str(value).lower()
        if (engine == "xgboost" and ((key == "device" and not text.startswith("cpu")) or
                                     (key == "tree_method" and text.startswith("gpu")))) or \
                (engine == "lightgbm" and key in ("device_type", "device") and text != "cpu"):
            why = f"which checks that the machine has one: {engine} alone trains on the CPU or fails, saying nothing"
            reason = f"the device is the ranker's own: give device='gpu' ({why}), or device='gpu-or-cpu'"
            raise ParameterValueError(f"{what}: {key}={value!r}: {reason}", key=key, reason=reason,
                                      cli=f"--param {key}={value}: the device is chosen by --device gpu ({why}), or "
                                          "--device gpu-or-cpu")
    gpu_only = [k for k in params if engine == "lightgbm" and k in ("gpu_platform_id", "gpu_device_id", "gpu_use_dp")]
    if gpu_only and getattr(est, "device", "cpu") == "cpu":  # taken, and nothing done with it (trial t55)
        key = gpu_only[0]
        reason = "it applies to LightGBM's GPU learner, and the ranker trains on the CPU"
        raise ParameterValueError(f"{what}: {key}={params[key]!r}: {reason}: give device='gpu' (or 'gpu-or-cpu'), or "
                                  "leave it out", key=key, reason=reason,
                                  cli=f"--param {key}={params[key]}: {reason}: give --device gpu (or gpu-or-cpu), or "
                                      "leave it out")
    defaults = {k: v.default for k, v in inspect.signature(type(est).__init__).parameters.items()}
    for param, canonical in mapping.items():
        names = engine_names(engine, canonical)
        for key in params:
            if key not in names:
                continue
            value = params[key]
            if param == "objective":
                from ltr.objectives import NATIVE

                ours = [n for n, v in NATIVE[engine].items() if v == value]
                if ours:
                    hint, flag = f"objective={ours[0]!r}", f"--objective {ours[0]}"
                else:  # ('give --objective' and nothing after, for multiclass; trial t61)
                    known = ", ".join(NATIVE[engine])
                    kernels = ", ".join(k for k in ("ranknet", "listnet", "distill") if k not in NATIVE[engine])
                    hint, flag = (f"{value!r} is none of its objectives (on {engine}: {known}; with {how} also "
                                  f"{kernels})" for how in ("kernel='numba'", "--kernel numba"))
                reason = "the objective is the ranker's own: give " if ours else "the objective is the ranker's own: "
                raise ParameterValueError(f"{what}: {key}={value!r}: {reason}{hint}", key=key, reason=reason + hint,
                                          cli=f"--param {key}={value}: {reason}{flag}")
            given = getattr(est, param)
            kept = param in (getattr(est, "preset_keep", None) or ())  # given, even at the default (--leaves 31)
            if given == defaults.get(param) and not kept:
                continue  # not given: the engine parameter is the one that counts, as documented
            reason = f"sets what {param}={given!r} sets in {engine}: give one of the two"
            raise ParameterValueError(f"{what}: {key}={value!r} {reason}", key=key, reason=reason,
                                      cli=f"--param {key}={value} {reason}")


#: The native rankers' objective parameters and the numba kernel's option that does the same (None: no counterpart):
#: with ``kernel="numba"`` the kernel computes the gradients, and the engine would keep these without using them.
_KERNEL_OPTIONS: dict[str, dict[str, str | None]] = {
    "lightgbm": {"lambdarank_truncation_level": "truncation_level", "sigmoid": "sigma", "lambdarank_norm": "norm",
                 "label_gain": "label_gain"},
    "xgboost": {"lambdarank_num_pair_per_sample": "truncation_level", "lambdarank_normalization": "norm",
                "lambdarank_score_normalization": "norm", "ndcg_exp_gain": "label_gain",
                "lambdarank_pair_method": None, "lambdarank_unbiased": None, "lambdarank_bias_norm": None},
}


def _refuse_native_objective_options(est, params: Mapping[str, Any], what: str) -> None:
    """Refuse a native ranker's objective parameter (LightGBM's ``lambdarank_truncation_level``, XGBoost's
    ``ndcg_exp_gain``, ...) with ``kernel="numba"``: the kernel computes the gradients from its own options, so the
    model would train as if it were not given and record it as if it were; the kernel's counterpart is named.

    Examples
    --------
    >>> from ltr import Ranker
    >>> _refuse_native_objective_options(Ranker(kernel="numba"), {"lambdarank_truncation_level": 5},
    ...                                  "engine_params")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ltr.exceptions.ParameterValueError: engine_params: lambdarank_truncation_level=5 is the native ranker's: ...; \
pass objective_params={'truncation_level': 5}
    """
    from ltr.objectives import KERNEL_ALIASES, kernel_options
    from ltr.rankers.aliases import engine_parameter

    if getattr(est, "kernel", "native") != "numba":
        return
    table = _KERNEL_OPTIONS.get(est.engine, {})
    for key, value in params.items():
        name = engine_parameter(est.engine, key)
        if name not in table:
            continue
        own = table[name]
        kernel = KERNEL_ALIASES.get(str(est.objective), (str(est.objective), {}))[0]
        try:
            options = kernel_options(str(est.objective))
        except ValueError:  # an objective no kernel has: refused by name where the objective is checked
            options = set()
        shown = str(value).lower() if isinstance(value, bool) else value
        reason = ("is the native ranker's: the numba kernel computes the objective from its own options and would "
                  "train as if it were not given; ")
        if own is None or own not in options:
            none = f"the {kernel} kernel has no counterpart (its options: {', '.join(sorted(options)) or 'none'}): "
            py, cli = none + "leave it out, or train the native ranker (kernel='native')", none + (
                "leave it out, or --kernel native")
        elif name == "ndcg_exp_gain":
            py = "pass objective_params={'label_gain': [0, 1, 2, ...]} for the linear gain (up to the top label)"
            cli = "pass --objective-param label_gain=0,1,2,... for the linear gain (up to the top label)"
        else:
            py, cli = f"pass objective_params={{{own!r}: {value!r}}}", f"pass --objective-param {own}={value}"
        raise ParameterValueError(f"{what}: {key}={value!r} {reason}{py}", cli=f"--param {key}={shown} {reason}{cli}",
                                  key=key, reason=reason + py, cli_reason=reason + cli)


def _refuse_objective_option_twice(est, params: Mapping[str, Any], what: str) -> None:
    """Refuse a native ranker's objective parameter (LightGBM's ``sigmoid``, XGBoost's
    ``lambdarank_num_pair_per_sample``, ...) beside the objective option that sets it (``objective_params`` ``sigma``,
    ``truncation_level``, ...): the engine trained with one, and the model's record named the other as well."""
    from ltr.rankers.aliases import engine_parameter

    given = dict(getattr(est, "objective_params", None) or {})
    if getattr(est, "kernel", "native") == "numba" or not given:
        return  # (with the kernel, the native parameter itself is refused: _refuse_native_objective_options)
    table = _KERNEL_OPTIONS.get(est.engine, {})
    for key, value in params.items():
        name = engine_parameter(est.engine, key)
        if (est.engine == "xgboost" and name == "lambdarank_pair_method" and "truncation_level" in given
                and str(value).strip().lower() != "topk"):
            # truncation_level K is XGBoost's topk pairs of the top K; beside 'mean' XGBoost read K as K random
            # pairs per document, no truncation, and the model's record said truncation_level K (trial t53)
            reason = (f"XGBoost reads objective_params truncation_level as its topk pair method's cut-off; beside "
                      f"{value} it would mean {given['truncation_level']} sampled pairs per document: give "
                      "lambdarank_num_pair_per_sample for those, without truncation_level")
            cli_reason = reason.replace("objective_params truncation_level", "--objective-param truncation_level")
            raise ParameterValueError(f"{what}: {key}={value!r}: {reason}", key=key, reason=reason,
                                      cli=f"--param {key}={value}: {cli_reason}", cli_reason=cli_reason)
        own = table.get(name)
        if own is None or own not in given:
            continue
        mine = given[own]
        shown = ",".join(f"{float(v):g}" for v in mine) if isinstance(mine, (list, tuple)) else mine
        reason = f"sets what objective_params {own}={mine!r} sets: give one of the two"
        raise ParameterValueError(f"{what}: {key}={value!r} {reason}", key=key, reason=reason,
                                  cli=f"--param {key}={value} sets what --objective-param {own}={shown} sets: give "
                                      "one of the two")


def _refuse_categorical(engine: str, key: str, value: Any, what: str) -> None:
    """Refuse LightGBM's categorical features: its categorical splits would make a model that ltrkit's tree scorer,
    ``load_model`` and the search engines' formats cannot read (the model saved, then refused when loaded)."""
    if engine != "lightgbm" or key not in engine_names(engine, "categorical_feature"):
        return
    if value is None or (isinstance(value, (str, list, tuple)) and not len(value)):
        return  # no categorical feature: LightGBM's default
    reason = ("categorical splits are not supported: ltrkit reads, scores and exports trees of numerical splits "
              "(a model trained with them could not be loaded); leave the feature numerical (its codes as numbers) "
              "or one-hot encode it")
    raise ParameterValueError(f"{what}: {key}={value!r}: {reason}", key=key, reason=reason,
                              cli=f"--param {key}={value}: {reason}")


#: LightGBM's words for "no metric" (the ranker itself gives it "None"); its empty string, or a None value, is the
#: objective's own metric (NDCG@1..5 for lambdarank), not none.
_NO_ENGINE_METRIC = frozenset({"none", "null", "na", "custom"})


def _refuse_engine_evaluation(engine: str, key: str, value: Any, what: str) -> None:
    """Refuse the engine's own evaluation (LightGBM's ``metric`` and ``eval_at``, XGBoost's ``eval_metric``, any
    alias): the ranker records and stops on :mod:`ltr.metrics` every round, under the metrics' names, and an engine
    metric of the same name with the engine's conventions (a query without a relevant document scores 1 in
    LightGBM's NDCG, its ``map@k`` divides by ``min(k, R)``) would be recorded, and stopped on, beside them."""
    cut_offs = engine == "lightgbm" and key in engine_names(engine, "eval_at")
    if engine == "lightgbm" and key in engine_names(engine, "metric"):
        names = value if isinstance(value, (list, tuple)) else [value]
        if names and all(isinstance(n, str) and n.strip().lower() in _NO_ENGINE_METRIC for n in names):
            return
    elif not (cut_offs or (engine == "xgboost" and key == "eval_metric")):
        return
    own = (f"{engine}'s own metrics: the ranker records and stops on ltr.metrics', and the engine's (other "
           "conventions under the same names) would be mixed in")
    if cut_offs:
        python, cli = "eval_at= for the NDCG cut-offs recorded", "--metrics ndcg@K,... for what is reported"
    else:
        python = "early_stopping_metric= (any ltr.metrics name, e.g. 'map') for the one that stops training"
        cli = "--metrics for what is reported and --early-stopping-metric for what stops training"
    python += (", and eval_params={'convention': 'lightgbm'} for LightGBM's conventions" if engine == "lightgbm"
               else "")
    cli += ", and --convention lightgbm for LightGBM's conventions" if engine == "lightgbm" else ""
    raise ParameterValueError(f"{what}: {key}={value!r}: {own}; give {python}", key=key,
                              reason=f"{own}; give {python}", cli=f"--param {key}={value}: {own}; give {cli}",
                              cli_reason=f"{own}; give {cli}")


def _refuse_engine_stopping(engine: str, key: str, value: Any, what: str) -> None:
    """Refuse LightGBM's own early stopping (``early_stopping_round`` or an alias): its callback stopped on the
    engine's first metric with its own patience, beside (or instead of) the ranker's ``early_stopping_rounds`` on
    ``early_stopping_metric``, which the model's record still named (trial t52). XGBoost's scikit-learn name is not
    one of its training parameters (refused as unknown)."""
    if engine == "lightgbm" and key in engine_names(engine, "early_stopping_min_delta"):
        reason = ("the least improvement of LightGBM's own early stopping, which the ranker does not use (it stops "
                  "on ltr.metrics' early_stopping_metric when no round has improved it at all for "
                  "early_stopping_rounds rounds): leave it out")
        cli_reason = reason.replace("early_stopping_metric", "--early-stopping-metric").replace(
            "for early_stopping_rounds rounds", "for --early-stopping rounds")
        raise ParameterValueError(f"{what}: {key}={value!r}: {reason}", key=key, reason=reason,
                                  cli=f"--param {key}={value}: {cli_reason}", cli_reason=cli_reason)
    if engine != "lightgbm" or key not in engine_names(engine, "early_stopping_round"):
        return
    reason = "LightGBM's own early stopping: the ranker stops on ltr.metrics' early_stopping_metric, with "
    raise ParameterValueError(f"{what}: {key}={value!r}: {reason}early_stopping_rounds=; give that", key=key,
                              reason=f"{reason}early_stopping_rounds=; give that",
                              cli=f"--param {key}={value}: {reason}--early-stopping-metric; give --early-stopping "
                                  f"{value}", cli_reason=f"{reason}--early-stopping-metric; give --early-stopping "
                                                         f"{value}")


#: LightGBM parameters its own documentation says only its command-line program reads (or only its text-file loader):
#: its Python package, and so the ranker, ignores them. Each refused with what does the job here, rather than
#: accepted and ignored (input_model trained a fresh model; valid validated on nothing: trial t53).
_LIGHTGBM_PROGRAM_ONLY = {
    "task": "the toolkit's commands are the tasks (ltr train, ltr predict)",
    "config": "ltr train --config FILE reads a configuration",
    "data": "the training data is the data given to fit (ltr train TRAIN)",
    "valid": "give eval_set= (ltr train --valid FILE)",
    "input_model": _NO_CONTINUED_TRAINING,
    "output_model": "the model is saved by Ranker.save (ltr train --out FILE)",
    "output_result": "predictions are written by ltr predict --out FILE",
    "snapshot_freq": "models are saved once trained (Ranker.save, ltr train --out)",
    "saved_feature_importance_type": "ltr info MODEL shows both importances",
    "save_binary": "keep LightGBM's binned data with dataset_cache= (ltr train --dataset-cache DIR)",
    "convert_model": "export a model with ltr export",
    "convert_model_language": "export a model with ltr export",
    "machine_list_filename": "distributed training takes a Dask cluster (ltr train --dask)",
    **dict.fromkeys(("header", "label_column", "weight_column", "group_column", "ignore_column",
                     "precise_float_parser", "parser_config_file"),
                    "the toolkit reads the data files itself (ltr.io.read_letor)"),
    **dict.fromkeys(("predict_raw_score", "predict_leaf_index", "predict_contrib", "predict_disable_shape_check",
                     "start_iteration_predict", "num_iteration_predict", "pred_early_stop", "pred_early_stop_freq",
                     "pred_early_stop_margin"),
                    "predictions are the raw scores of the best iteration (ltr.trees for leaves)"),
}


def _refuse_program_only(engine: str, key: str, value: Any, what: str) -> None:
    from ltr.rankers.aliases import engine_parameter

    if engine == "xgboost" and key == "feature_weights":  # XGBoost said "not used" at a verbosity the ranker hides
        reason = ("a field of XGBoost's DMatrix (the columns' weights when colsample_* samples them), not a training "
                  "parameter: XGBoost ignores it there, and the toolkit does not pass it; leave it out")
        raise ParameterValueError(f"{what}: {key}={value!r}: {reason}", key=key, reason=reason,
                                  cli=f"--param {key}={value}: {reason}")
    if engine != "lightgbm":
        return
    name = engine_parameter(engine, key)
    if name == "lambdarank_position_bias_regularization":  # a no-op here: trees came out identical (trial t53)
        reason = ("regularises LightGBM's position-bias factors, learnt from the documents' display positions "
                  "(Dataset position=), which the toolkit does not pass: it would change nothing; leave it out")
        raise ParameterValueError(f"{what}: {key}={value!r}: {reason}", key=key, reason=reason,
                                  cli=f"--param {key}={value}: {reason}")
    instead = _LIGHTGBM_PROGRAM_ONLY.get(name)
    if instead is None:
        return
    reason = (f"a parameter of LightGBM's command-line program{f' ({name})' if name != key else ''}, which its Python "
              f"package (and so the toolkit) ignores: {instead}")
    raise ParameterValueError(f"{what}: {key}={value!r}: {reason}", key=key, reason=reason,
                              cli=f"--param {key}={value}: {reason}")


#: Boosting modes refused before training, as LightGBM's linear_tree is, rather than trained and saved over --out:
#: models no part of the toolkit reads back (ltr.trees, load_model, ltr predict, ltr export refuse them), and XGBoost's
#: DART, which they read but whose training here is not checked (a weight per tree).
_UNREADABLE_BOOSTING = {
    "lightgbm": ("boosting", {"rf": "random forests (each tree's output averaged)",
                              "random_forest": "random forests (each tree's output averaged)"}),
    "xgboost": ("booster", {"dart": "DART boosters (a weight per tree)", "gblinear": "linear boosters (gblinear)"}),
}


def _refuse_unreadable_boosting(engine: str, key: str, value: Any, what: str) -> None:
    name, modes = _UNREADABLE_BOOSTING.get(engine, (None, {}))
    if name is None or key not in engine_names(engine, name) or str(value).strip().lower() not in modes:
        return
    if engine == "xgboost" and str(value).strip().lower() == "dart":  # ltr.trees reads those since t66 (trial t71)
        reason = ("DART boosters (a weight per tree) are not trained by the toolkit (its training, early stopping "
                  "and records are not checked with them); a DART model trained with XGBoost itself is read, scored "
                  "and exported (ltr.trees, ltr predict, ltr export)")
    else:
        reason = (f"{modes[str(value).strip().lower()]} are not supported: the model could not be loaded, scored or "
                  "exported by the toolkit (ltr.trees reads additive tree ensembles)")
    raise ParameterValueError(f"{what}: {key}={value!r}: {reason}", key=key, reason=reason,
                              cli=f"--param {key}={value}: {reason}")


# The engines' words for a value they cannot parse or that is out of a parameter's bounds (their configuration
# checks): only these refuse a value before training. A value that fails on the two-row probe for another reason
# (a constraint naming features the probe lacks, a file) is left to the real data.
_VALUE_REFUSALS = {
    "lightgbm": re.compile(r"should be of type|should be \"true\"|Unknown token|Unknown \w+ type|Unknown \w+ name|"
                           r"config_auto\.cpp|^sto[dfil]$"),
    "xgboost": re.compile(r"Invalid Parameter format|could not be parsed|exceed bound|Invalid Input|valid values|"
                          r"for Parameter \w+ should be|Check failed: max_bin"),
}
# Placement keys: the probe runs on the CPU whatever they say (the device is checked where training starts).
_NOT_PROBED = {"device", "device_type", "gpu_id", "gpu_platform_id", "gpu_device_id", "gpu_use_dp", "n_gpus"}
_PROBE_LOCK = threading.Lock()


#: What a parameter's unlimited setting is, where it has one that a user might write as infinity.
_UNLIMITED = {"max_delta_step": "0 sets no limit"}


def _nonfinite(value) -> bool:
    """Whether ``value`` is NaN or infinite: a number, a number's text (``"nan"``, which the engines read as the
    number), or a list holding one (``label_gain``)."""
    if isinstance(value, (list, tuple)):
        return any(_nonfinite(v) for v in value)
    if isinstance(value, str):
        try:
            return not math.isfinite(float(value))
        except ValueError:
            return False
    return _number(value) and not math.isfinite(value)


def _refuse_nonfinite(engine: str, key: str, value: Any, what: str) -> None:
    """Refuse NaN and infinity as an engine parameter's value, before training: LightGBM and XGBoost take them without
    a word (``max_delta_step=nan``, ``min_gain_to_split=inf``, ``eta=inf``) and train a model of NaN scores, or of
    no split, that the sidecar then could not record (JSON has no NaN): the run failed after training, naming no
    option (trial t66). No parameter of either engine needs them (a large finite number, or the setting below)."""
    if not _nonfinite(value):
        return
    from ltr.rankers.aliases import engine_parameter

    unlimited = _UNLIMITED.get(engine_parameter(engine, key))
    reason = (f"{'must hold finite numbers' if isinstance(value, (list, tuple)) else 'must be a finite number'}: "
              "the engines train on NaN or infinity without a word (NaN scores, or no split), and a model's record "
              "(JSON) cannot hold them" + (f"; {unlimited}" if unlimited else ""))
    shown = value if not isinstance(value, (list, tuple)) else ",".join(str(v) for v in value)
    raise ParameterValueError(f"{what}: {key}={value!r}: {reason}", key=key, reason=reason,
                              cli=f"--param {key}={shown}: {reason}")


def check_engine_values(engine: str, params: Mapping[str, Any], *, objective: str | None = None,
                        what: str = "engine_params") -> None:
    """Refuse a value the engine cannot parse, or one outside a parameter's bounds, naming the parameter.

    The installed engine itself parses ``params`` on a two-row probe (LightGBM's configuration of a data set,
    XGBoost's of a booster for ``objective``), before any data is read: a value is refused only in the engine's
    own words for a bad value (``Parameter min_data_in_leaf should be of type int``), attributed to the parameter
    that the engine refuses alone. LightGBM's ``[LightGBM] [Fatal]`` line from C++ is held back (the error says it).

    Examples
    --------
    >>> check_engine_values("lightgbm", {"min_data_in_leaf": 5})
    >>> check_engine_values("lightgbm", {"min_data_in_leaf": "abc"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ltr.exceptions.ParameterValueError: engine_params: lightgbm refused min_data_in_leaf='abc': Parameter ... int...
    """
    for key, value in params.items():
        _refuse_nonfinite(engine, key, value, what)
    probe = {k: v for k, v in params.items() if k not in _NOT_PROBED}
    if not probe or engine not in _VALUE_REFUSALS:
        return
    plain = python_values(probe)
    text = _probe(engine, json.dumps(plain, sort_keys=True, default=repr), objective)
    if text is None:
        return
    text = _plain_words(engine, text)
    culprit = next((k for k in plain if _probe(engine, json.dumps({k: plain[k]}, default=repr), objective)), None)
    if culprit is None:
        raise ParameterValueError(f"{what}: {engine} refused them: {text}", cli=f"--param: {engine} refused: {text}")
    value = probe[culprit]
    shown = (value if isinstance(value, (int, float, str)) and not isinstance(value, bool)
             else json.dumps(plain[culprit], default=repr))
    raise ParameterValueError(f"{what}: {engine} refused {culprit}={value!r}: {text}",
                              cli=f"--param {culprit}={shown}: {engine} refused it: {text}", key=culprit,
                              reason=f"{engine} refused it: {text}")


def _plain_words(engine: str, text: str) -> str:
    """LightGBM's words for a value its number parser cannot read, said as such: 'Unknown token abc in data file'
    (its parser of data files, which reads parameters too) and C++'s bare 'stod' (trial t60)."""
    if engine != "lightgbm":
        return text
    token = re.fullmatch(r"Unknown token (.*) in data file", text)
    if token:
        return f"{token.group(1)!r} is not a number"
    if re.fullmatch(r"sto[dfil]", text):
        return "not a number, or a list of numbers (0,1,3,7) with an item that is not one"
    return text


@functools.lru_cache(maxsize=256)
def _probe(engine: str, params_json: str, objective: str | None) -> str | None:
    """The engine's words refusing the parameters (a JSON object), or None when it takes them (or fails otherwise)."""
    import numpy as np

    params = json.loads(params_json)
    with _PROBE_LOCK, _stderr_without("[LightGBM] [Fatal]"):
        try:
            if engine == "lightgbm":
                import lightgbm as lgb

                lgb.Dataset(np.zeros((2, 1)), label=[0.0, 1.0], params={**params, "verbose": -1}).construct()
            else:
                import xgboost as xgb

                d = xgb.DMatrix(np.zeros((2, 1), dtype=np.float32), label=[0.0, 1.0])
                objective = objective if isinstance(objective, str) else "rank:ndcg"
                if objective.startswith("rank:"):
                    d.set_group([2])
                xgb.Booster({"objective": objective, "nthread": 1, **params, "verbosity": 0}, [d]).update(d, 0)
        except Exception as e:  # the engines' own error classes
            text = engine_words(str(e))
            return text if _VALUE_REFUSALS[engine].search(text) else None
    return None


def _stderr_without(prefix: str) -> StderrHold:
    """File descriptor 2 (where C++ writes) held for the block, then written back without the lines that start
    with ``prefix`` (what C++ prints before it throws), their continuation and the blank line after them
    (:class:`ltr.rankers._backends.StderrHold`, which training holds too)."""
    return StderrHold(prefix)


def parse_assignments(items: Iterable[str], *, what: str = "--param") -> dict[str, Any]:
    """``["num_leaves=63", "lambdarank_truncation_level=20"]`` -> a dict with numbers and booleans converted.

    Values are read as TOML values when they parse as one (``63``, ``0.1``, ``true``, ``"text"``, ``[1, 2]``),
    else kept as strings; for ``--objective-param``, whose list options (``label_gain``) the kernels read as lists, a
    comma-separated list of numbers (``0,1,3``, as LightGBM's own ``label_gain`` is written) is a list too, and
    ``True``/``FALSE`` in any case a boolean (as LightGBM reads its own switches).

    Examples
    --------
    >>> parse_assignments(["num_leaves=63", "boosting=dart", "label_gain=[0, 1, 3]"])
    {'num_leaves': 63, 'boosting': 'dart', 'label_gain': [0, 1, 3]}
    >>> parse_assignments(["label_gain=0,1,3", "norm=False"], what="--objective-param")
    {'label_gain': [0.0, 1.0, 3.0], 'norm': False}
    """
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"{what} takes key=value, got {item!r}")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
            if what == "--objective-param" and value.lower() in ("true", "false"):  # as LightGBM reads 'False'
                value = value.lower() == "true"
            elif what == "--objective-param" and "," in value:
                try:
                    value = [float(v) for v in value.split(",")]
                except ValueError:
                    pass
        out[key] = value
    return out
