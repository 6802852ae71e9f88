"""Search spaces for :func:`ltr.tuning.tune`: TOML files (or dicts) of parameter ranges, checked before any trial.

A space is one TOML table per parameter: a :class:`ltr.Ranker` parameter by its name (``[learning_rate]``), an
engine parameter under ``engine_params`` (``[engine_params.bagging_by_query]``; for ``engine="linear"`` the
coordinate-ascent settings, :data:`ltr.rankers.linear.DEFAULTS`). Each table holds either a range or choices::

    [learning_rate]          # a float range: low and high, optionally log = true or step = 0.01
    low = 0.01
    high = 0.3
    log = true

    [num_leaves]             # an integer range: low and high are both integers (step and log allowed)
    low = 2
    high = 63
    log = true

    [normalize]              # choices: strings, numbers or booleans ("none" stands for None)
    choices = ["none", "zscore"]

Checked before the first trial, each with a message naming the file, line and key: an unknown parameter (with
the closest known name), an unknown key in a table, a range with ``low >= high`` (empty), ``log`` with
``low <= 0``, a ``step`` that does not divide the range, empty choices, two entries that set one engine parameter
(``[reg_lambda]`` and ``[engine_params.lambda_l2]``, or two names of it), and values the ranker refuses (every
range end and every choice is tried on the ranker's own parameter checks, a ``normalize`` choice on
:func:`ltr.rankers.normalize.make_normalizer`; a float range, one with a float ``low``, ``high`` or ``step``, draws
floats, so a value with a fraction that it can draw is tried too: ``num_leaves`` 4..32 step 0.5 is refused, not
its trial drawing 19.5). The default space of each engine is
``ltr/tuning/spaces/<engine>.toml``.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ltr.exceptions import FileFormatError

__all__ = ["ENGINE_PARAMS", "Param", "SearchSpace", "apply_params", "default_space_path", "load_space"]

ENGINE_PARAMS = "engine_params"
_SPACES = Path(__file__).resolve().parent / "spaces"
# Ranker parameters a search may not set: they choose what is tuned, or how it runs, not the model.
_NOT_SEARCHED = frozenset({"engine", "verbose", "n_jobs", "eval_at", "eval_params", "engine_params",
                           "objective_params", "early_stopping_rounds", "early_stopping_metric", "device",
                           "dataset_cache", "preset_keep"})
_RANGE_KEYS = frozenset({"low", "high", "log", "step"})


@dataclass(frozen=True)
class Param:
    """One searched parameter.

    Attributes
    ----------
    name : str
        ``"learning_rate"`` or ``"engine_params.bagging_by_query"`` (the name Optuna records).
    kind : {"int", "float", "categorical"}
    low, high : float or int or None
    log : bool
    step : float or int or None
    choices : tuple or None
    """

    name: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple | None = None

    @property
    def target(self) -> tuple[str | None, str]:
        """``(None, ranker_param)`` or ``("engine_params", name)``."""
        head, _, tail = self.name.partition(".")
        return (head, tail) if tail else (None, head)

    def suggest(self, trial) -> Any:
        """Ask an Optuna trial for a value."""
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), step=self.step, log=self.log)

    def extremes(self) -> list:
        """Values that bound what a trial can draw (each range end, every choice)."""
        return list(self.choices) if self.kind == "categorical" else [self.low, self.high]

    def float_draws(self) -> list[float]:
        """What a float range draws that its ends as written may not show: the ends as floats, and a value with a
        fraction where the range holds one (Optuna's ``suggest_float`` returns floats, ``19.5`` for ``num_leaves``
        4..32 step 0.5). Empty for an integer range or choices."""
        if self.kind != "float":
            return []
        low, high = float(self.low), float(self.high)
        if self.step is not None:  # the grid low + k * step, as Optuna draws it
            n = int(round((high - low) / self.step))
            inner = (round(low + k * self.step, 12) for k in range(1, min(n, 10_000)))
        else:
            k = math.floor(low)
            inner = (v for v in (k + 0.5, k + 1.5, (low + high) / 2, low + (high - low) / 4) if low < v < high)
        fraction = next((v for v in inner if not float(v).is_integer()), None)
        return ([] if fraction is None else [fraction]) + [low, high]

    def describe(self) -> dict[str, Any]:
        if self.kind == "categorical":
            return {"choices": list(self.choices)}
        d: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            d["log"] = True
        if self.step is not None:
            d["step"] = self.step
        return d


@dataclass(frozen=True)
class SearchSpace:
    """Checked parameters of a search, and where they were read from."""

    params: tuple[Param, ...]
    source: str = "<dict>"

    def suggest(self, trial) -> dict[str, Any]:
        """One value per parameter from an Optuna trial, keyed by :attr:`Param.name`."""
        return {p.name: p.suggest(trial) for p in self.params}

    def describe(self) -> dict[str, dict[str, Any]]:
        """The space as a JSON-able dict (the same shape as the TOML tables)."""
        return {p.name: p.describe() for p in self.params}


def apply_params(estimator, values: Mapping[str, Any]):
    """A clone of ``estimator`` with ``values`` (as :meth:`SearchSpace.suggest` returns them) set; engine
    parameters are merged into a copy of its ``engine_params``; ``"none"`` for a parameter whose default is None,
    or for ``max_depth`` (no limit), stands for None. The parameters set are added to its ``preset_keep``: a
    sampled value that happens to equal the default (``num_leaves=31``) is trained as sampled, not replaced by the
    small-data preset's."""
    from sklearn.base import clone

    model = clone(estimator)
    direct: dict[str, Any] = {}
    engine: dict[str, Any] = dict(model.get_params()[ENGINE_PARAMS] or {})
    defaults = _defaults(type(model))
    for name, value in values.items():
        head, _, tail = name.partition(".")
        if tail:
            engine[tail] = value
        else:
            # "none" is None where None is a value: a default of None, or max_depth's "no limit" (its default -1)
            takes_none = defaults.get(head, 0) is None or head == "max_depth"
            direct[head] = None if value == "none" and takes_none else value
    if engine:
        direct[ENGINE_PARAMS] = engine
    params = model.get_params()
    if "preset_keep" in params:  # a sampled value equal to a default is still the sampled value, not the preset's
        direct["preset_keep"] = tuple(dict.fromkeys([*(params["preset_keep"] or ()), *(k for k in direct
                                                                                      if k != ENGINE_PARAMS)]))
    return model.set_params(**direct)


def _defaults(cls) -> dict[str, Any]:
    import inspect

    return {k: v.default for k, v in inspect.signature(cls.__init__).parameters.items() if k != "self"}


def default_space_path(engine: str) -> Path:
    """``ltr/tuning/spaces/<engine>.toml``."""
    path = _SPACES / f"{engine}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in _SPACES.glob("*.toml"))
        raise ValueError(f"no default search space for engine {engine!r}; there are spaces for {known}")
    return path


def _line_of(text: str | None, name: str, key: str | None = None) -> int | None:
    """The line that opens ``name``'s table (``[name]`` or ``name = {...}``), or the line of its ``key`` where the
    table sets it on a line of its own, for messages."""
    if text is None:
        return None
    head, _, tail = name.partition(".")
    patterns = [rf"^\s*\[\s*{re.escape(name)}\s*\]", rf"^\s*\[\s*{re.escape(head)}\s*\.\s*{re.escape(tail)}\s*\]",
                rf"^\s*{re.escape(tail or head)}\s*=", rf"^\s*\"?{re.escape(name)}\"?\s*="]
    lines = text.splitlines()
    for i, line in enumerate(lines, 1):
        if any(re.match(p, line) for p in patterns if p):
            if key is not None and line.lstrip().startswith("["):
                for j in range(i, len(lines)):  # the table's own lines, up to the next table
                    if re.match(r"^\s*\[", lines[j]):
                        break
                    if re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", lines[j]):
                        return j + 1
            return i
    return None


class _Errors:
    """Raises a FileFormatError (file spaces) or a ValueError (dict spaces) naming the parameter."""

    def __init__(self, source: str, text: str | None):
        self.source, self.text = source, text

    def __call__(self, name: str, message: str, key: str | None = None) -> Exception:
        if self.text is None:
            return ValueError(f"search space {name!r}: {message}")
        return FileFormatError(message, self.source, _line_of(self.text, name, key), name)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _param(name: str, spec: Any, err: _Errors) -> Param:
    if not isinstance(spec, Mapping):
        raise err(name, f"a parameter is a table with low/high or choices, got {spec!r}")
    keys = set(spec)
    if "choices" in keys:
        extra = keys - {"choices"}
        if extra:
            raise err(name, f"choices cannot be combined with {sorted(extra)}", sorted(extra)[0])
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise err(name, "choices must be a non-empty list", "choices")
        if not all(isinstance(c, (str, int, float, bool)) for c in choices):
            raise err(name, f"choices must be strings, numbers or booleans, got {choices!r}", "choices")
        return Param(name, "categorical", choices=tuple(choices))
    unknown = keys - _RANGE_KEYS
    if unknown:
        raise err(name, f"unknown key(s) {sorted(unknown)}; a parameter takes low, high, log, step, or choices",
                  sorted(unknown)[0])
    if "low" not in keys or "high" not in keys:
        raise err(name, "a range needs both low and high (or give choices)")
    low, high, log, step = spec["low"], spec["high"], spec.get("log", False), spec.get("step")
    if not (_number(low) and _number(high)):
        raise err(name, f"low and high must be finite numbers, got {low!r} and {high!r}",
                  "high" if _number(low) else "low")
    if not low < high:
        fix = f"use choices = [{low!r}] for one value" if low == high else "swap them"
        raise err(name, f"empty range: low {low!r} must be below high {high!r} ({fix})", "low")
    if not isinstance(log, bool):
        raise err(name, f"log must be true or false, got {log!r}", "log")
    if log and low <= 0:
        raise err(name, f"a log range needs low > 0, got {low!r}", "low")
    if step is not None:
        if not _number(step) or step <= 0:
            raise err(name, f"step must be a positive number, got {step!r}", "step")
        if log:
            raise err(name, "a range takes step or log, not both", "step")
        n = (high - low) / step
        if abs(n - round(n)) > 1e-9 * max(1.0, n):  # Optuna would end the range at the last step below high
            last = low + math.floor(n + 1e-9) * step
            last = round(last, 12) if isinstance(last, float) else last
            raise err(name, f"step {step!r} does not divide the range {low!r}..{high!r} (its last value would be "
                            f"{last!r}); make high {last!r}, or take a step that divides the range", "step")
    integer = all(isinstance(v, int) for v in (low, high)) and (step is None or isinstance(step, int))
    return Param(name, "int" if integer else "float", low, high, log, step)


def _flatten(table: Mapping[str, Any], err: _Errors) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, spec in table.items():
        if key == ENGINE_PARAMS:
            if not isinstance(spec, Mapping):
                raise err(key, "engine_params must be a table of parameter tables")
            for sub, s in spec.items():
                out[f"{ENGINE_PARAMS}.{sub}"] = s
        else:
            out[key] = spec
    return out


def _known_names(estimator, name: str, err: _Errors) -> None:
    head, _, tail = name.partition(".")
    params = estimator.get_params(deep=False)
    if tail:
        engine = params["engine"]
        if engine == "linear":
            from ltr.rankers.linear import DEFAULTS, check_linear_params

            if tail not in DEFAULTS:
                try:
                    check_linear_params({tail: None})
                except ValueError as e:
                    raise err(name, str(e).replace("engine_params: ", "")) from None
            if tail in ("max_grade", "gain"):  # a trial drawing max_grade 1 ended the search on graded labels
                flag = "--max-grade" if tail == "max_grade" else "--gain"
                raise err(name, f"the linear ranker's {tail} is the tuned metric's own ({flag}, tune's {tail}=): "
                                "it optimises the metric as it is scored, so the search does not choose it")
            return
        from ltr.rankers.params import check_engine_params

        objective = (estimator._resolve_objective() or {}).get("objective")
        try:
            check_engine_params(engine, {tail: None}, objective=objective)
        except ValueError as e:
            raise err(name, str(e).replace("engine_params: ", "")) from None
        return
    known = sorted(k for k in params if k not in _NOT_SEARCHED)
    if params.get("engine") == "linear":
        from ltr.rankers.linear import DEFAULTS, TREE_PARAMS

        if head in TREE_PARAMS:  # at its default it was accepted and shown as a tuned column that changes nothing
            raise err(name, f"{head} is a tree parameter: engine='linear' does not use it; its settings are "
                            "[engine_params.NAME] tables (n_restarts, n_steps, reg, ...)")
        if head in DEFAULTS and head not in params:  # [reg] was offered the tree parameters, n_restarts n_estimators
            raise err(name, f"{head} is a setting of the linear ranker, searched as [engine_params.{head}]")
        # the linear ranker's own parameters, and its settings (the tree parameters it refuses left out; trial t55)
        known = [k for k in known if k not in TREE_PARAMS and k not in ("kernel", "preset")]
        settings = ", ".join(f"[engine_params.{k}]" for k in sorted(DEFAULTS) if k not in ("max_grade", "gain"))
        if head not in params:
            close = difflib.get_close_matches(head, [*known, *DEFAULTS], n=1)
            said = (repr(close[0]) if close[0] in known else f"[engine_params.{close[0]}]") if close else ""
            hint = f" (did you mean {said}?)" if close else ""
            raise err(name, f"unknown parameter {head!r}{hint}; the linear ranker's parameters: {', '.join(known)}, "
                            f"and its settings {settings}")
    if head == "min_child_samples" and params.get("engine") == "xgboost":  # every trial trained the same model
        raise err(name, "XGBoost has no least number of rows per leaf: search [engine_params.min_child_weight], its "
                        "nearest")
    if head in _NOT_SEARCHED and head in params:
        raise err(name, f"{head} is not searched (it says what is tuned or how it runs); parameters: "
                        f"{', '.join(known)}, and [engine_params.NAME] tables")
    if head not in params:
        close = difflib.get_close_matches(head, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise err(name, f"unknown parameter {head!r}{hint}; parameters: {', '.join(known)}, and "
                        "[engine_params.NAME] tables for the engine's own")


def load_space(space: str | os.PathLike | Mapping[str, Any] | SearchSpace | None, estimator) -> SearchSpace:
    """Read and check a search space for ``estimator`` (a :class:`ltr.Ranker`): a TOML file, a dict of the same
    shape, a :class:`SearchSpace`, or None for the engine's default space.

    Raises
    ------
    ltr.exceptions.FileFormatError
        A space file with a defect (``path:line: message (token 'name')``).
    ValueError
        The same defects in a dict.

    Examples
    --------
    >>> from ltr import Ranker
    >>> s = load_space({"learning_rate": {"low": 0.01, "high": 0.3, "log": True}}, Ranker())
    >>> [(p.name, p.kind) for p in s.params]
    [('learning_rate', 'float')]
    >>> load_space({"learning_rate": {"low": 0.3, "high": 0.3}}, Ranker())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: search space 'learning_rate': empty range: low 0.3 must be below high 0.3 ...
    """
    if isinstance(space, SearchSpace):
        return space
    text = None
    source = "<dict>"
    if space is None:
        space = default_space_path(estimator.get_params()["engine"])
    if isinstance(space, (str, os.PathLike)):
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib
        path = Path(space)
        if path.is_dir():
            raise IsADirectoryError(21, "is a folder, not a search-space file", str(path))
        if not path.exists():  # (a pipe is read as a file is)
            raise FileNotFoundError(2, "no such search-space file", str(path))
        source = str(path)
        from ltr.io.files import read_utf8_file

        text = read_utf8_file(path, "search space")
        try:
            table = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            where = re.search(r"at line (\d+)", str(e))  # TOMLDecodeError has no lineno before Python 3.14
            line = int(where.group(1)) if where else getattr(e, "lineno", None)
            raise FileFormatError(f"not valid TOML ({str(e).split(' (at ')[0]})", source, line) from None
    elif isinstance(space, Mapping):
        table = dict(space)
    else:
        raise TypeError(f"space must be a TOML path, a dict or None, got {type(space).__name__}")
    err = _Errors(source, text)
    flat = _flatten(table, err)
    if not flat:
        raise (FileFormatError("the search space names no parameter", source) if text is not None
               else ValueError("the search space names no parameter"))
    params = []
    for name, spec in flat.items():
        _known_names(estimator, name, err)
        params.append(_param(name, spec, err))
    _refuse_collisions(params, estimator, err)
    if estimator.get_params(deep=False).get("engine") == "linear":
        from ltr.rankers.linear import DEFAULTS

        for p in params:  # TOML's 0 and 1 are integers: reg searched {0, 1} only, unsaid
            tail = p.name.partition(".")[2]
            if p.kind == "int" and p.name.startswith(f"{ENGINE_PARAMS}.") and isinstance(DEFAULTS.get(tail), float):
                raise err(p.name, f"low = {p.low!r} and high = {p.high!r} are integers, which makes this an integer "
                                  f"range (its trials draw whole numbers only), and {tail} is a real number: write "
                                  f"low = {float(p.low)!r}, high = {float(p.high)!r}")
    for p in params:  # every end of every range, and every choice, through the ranker's own checks
        for value in p.extremes():
            refused = _refusal(estimator, p, value)
            if refused is not None:
                raise err(p.name, f"the ranker refuses {value!r}: {refused}")
        for value in p.float_draws():  # an integer parameter with a float bound or step: refused at the 1st trial
            refused = _refusal(estimator, p, value)
            if refused is not None:
                spec = flat[p.name]
                floats = [k for k in ("low", "high", "step") if isinstance(spec.get(k), float)]
                said = " and ".join(f"{k} = {spec[k]!r}" for k in floats)
                whole = all(spec[k].is_integer() for k in floats)
                fix = f" ({', '.join(f'{k} = {int(spec[k])}' for k in floats)})" if whole else ""
                raise err(p.name, f"{said} makes this a float range, whose trials draw floats such as {value!r}, "
                                  f"and the ranker refuses {value!r}: {refused}; an integer parameter takes integer "
                                  f"low, high and step{fix}")
    _refuse_highest_corner(params, estimator, source if text is not None else None)
    return SearchSpace(tuple(params), source)


def _refuse_highest_corner(params: Sequence[Param], estimator, source: str | None) -> None:
    """Every numeric parameter at its highest value at once, through the ranker's checks: a limit on several
    parameters together (the linear ranker's farthest line-search step, of step_base, step_scale and n_steps) passed
    each one's ends alone and ended the search at the first trial drawing near the corner, and every resumed run
    at the same seeded draw (trial t55)."""
    corner = {}
    for p in params:
        numbers = [v for v in p.extremes() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(numbers) == len(p.extremes()) and numbers:
            corner[p.name] = max(numbers)
    if len(corner) < 2:
        return
    try:
        apply_params(estimator, corner)._check_params()
    except (ValueError, TypeError) as e:
        said = ", ".join(f"{k} = {v!r}" for k, v in corner.items())
        message = (f"the ranker refuses the highest value of every range together ({said}), which trials draw "
                   f"near: {e}; narrow the ranges")
        raise (FileFormatError(message, source) if source is not None else ValueError(
            f"search space: {message}")) from None


def _refusal(estimator, p: Param, value) -> str | None:
    """Why the ranker refuses ``value`` for ``p`` (its own parameter checks), or None."""
    try:
        model = apply_params(estimator, {p.name: value})
        model._check_params()
        if p.name == "normalize":  # checked by fit, not by _check_params: a bad name would end the search
            from ltr.rankers.normalize import make_normalizer

            make_normalizer(model.get_params()["normalize"])
    except (ValueError, TypeError) as e:
        return str(e)
    return None


def _refuse_collisions(params: Sequence[Param], estimator, err: _Errors) -> None:
    """Two entries that set one engine parameter (``[reg_lambda]`` and ``[engine_params.lambda_l2]``, or two
    names of one engine parameter): every trial would give both, and the ranker refuses that at the first trial.
    (An entry that sets what a fixed parameter of the ranker sets is refused by the ranker's checks above.)"""
    from ltr.rankers.aliases import RANKER_TO_ENGINE, engine_parameter

    engine = estimator.get_params()["engine"]
    mapping = RANKER_TO_ENGINE.get(engine)
    if mapping is None:  # the linear engine: its settings have one name each
        return
    seen: dict[str, str] = {}
    for p in params:
        head, tail = p.target
        canonical = engine_parameter(engine, tail) if head else mapping.get(tail)
        if canonical is None:
            continue
        first = seen.setdefault(canonical, p.name)
        if first != p.name:
            raise err(p.name, f"[{first}] and [{p.name}] both set {engine}'s {canonical}: search it once, under "
                              "one of the two names")
