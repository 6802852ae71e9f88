"""The scorer registry: a feature is a registered scorer name plus parameters.

A scorer class declares its ``name``, whether it is computed per document field (``per_field``), its parameters
with defaults (``defaults``), the parameters a sibling scorer takes but it refuses, each with the reason
(``refused``: an option must change the output or be refused, never be accepted and ignored), and its output
columns (``outputs``; ``("",)`` for a single column). Its
:meth:`Scorer.score` maps a :class:`~features.pairs.PairSet` (and a field) to an ``(n_pairs, n_outputs)`` float64
array. Column names are ``base[_output][:field]``, e.g. ``bm25:title``, ``tf_mean:body``, ``first_stage_rank``.

Numeric parameters are checked with :func:`is_number`: a finite ``int`` or ``float``, never a bool (``k1 = true``) and
never ``inf`` / ``nan`` (which TOML can spell), so that a bad value is refused when the feature set is read, naming
the scorer and parameter, rather than reaching the feature matrix as a NaN ("a number" in their messages means
such a value).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from features.pairs import PairSet

__all__ = ["Scorer", "available_scorers", "divide_or_zero", "get_scorer", "is_number", "register"]

_REGISTRY: dict[str, type[Scorer]] = {}


def is_number(x: object) -> bool:
    """True for a finite ``int`` or ``float`` that is not a bool.

    Examples
    --------
    >>> [is_number(v) for v in (1, 0.5, True, float("inf"), float("nan"), "1", np.float32(0.5), np.int64(2))]
    [True, True, False, False, False, False, True, True]
    """
    if isinstance(x, (np.integer, np.floating)):  # np.float32(0.5) was 'not in [0, 1]' (trial t55)
        x = x.item()
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:  # an int too large for a float
        return False


def divide_or_zero(num: NDArray, den: NDArray, ok: NDArray[np.bool_] | None = None) -> NDArray[np.float64]:
    """``num / den`` where ``ok`` (default ``den > 0``), 0 elsewhere: ``np.divide(num, den, out=zeros, where=ok)``
    bit for bit, without the masked ufunc (several times slower on the few hundred values of a reranking call).

    Examples
    --------
    >>> import numpy as np
    >>> divide_or_zero(np.array([1.0, 2.0, 3.0]), np.array([2.0, 0.0, 4.0])).tolist()
    [0.5, 0.0, 0.75]
    """
    ok = den > 0 if ok is None else ok
    return np.where(ok, num / np.where(ok, den, 1.0), 0.0)


class Scorer:
    """Base class of feature scorers (see the module docstring)."""

    name: ClassVar[str] = ""
    per_field: ClassVar[bool] = True
    positional: ClassVar[bool] = False  # reads term positions (proximity, windows), not only counts
    defaults: ClassVar[dict[str, Any]] = {}
    refused: ClassVar[dict[str, str]] = {}
    #: How this scorer computes its values: raised by a fix that changes them, with what changed in ``changes``, so
    #: that a model of columns computed the earlier way is told (a feature-set description records it; one written
    #: before it was recorded reads as version 1). An SDM fix changed 2,524 of 22,500 Cranfield scores of a model
    #: served afterwards, which nothing in the description saw (trial t54).
    version: ClassVar[int] = 1
    changes: ClassVar[dict[int, str]] = {}
    #: How errors found at work (a model that refuses a parameter when it loads) name the scorer's entry of its
    #: feature set (``e.toml: feature 2 (biencoder)``), set by the feature set; None for a scorer used alone.
    entry: str | None = None

    def __init__(self, **params: Any):
        for key in params:
            if key in self.refused:
                raise ValueError(f"scorer {self.name!r} does not take {key!r}: {self.refused[key]}")
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"scorer {self.name!r}: unknown parameter(s) {unknown}; it takes {sorted(self.defaults) or 'none'}"
            )
        # NumPy numbers as Python's (a grid of np.linspace values): the description is JSON
        self.params = {**self.defaults, **{k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()}}
        self.given = frozenset(params)  # the parameters set explicitly, for options that only apply in some modes
        self.validate()

    def validate(self) -> None:
        """Check ``self.params``; raise ValueError naming the parameter."""

    @classmethod
    def reads(cls, key: str, params: Mapping[str, Any]) -> bool:
        """Whether an entry with ``params`` (its effective parameters) computes with the parameter ``key``; a
        parameter some settings do not use (``term_stats``' ``doc_count`` for ``stat="tf"``) says False there."""
        return key in cls.defaults

    def check_index(self, index: Any) -> None:
        """Check the parameters that name an index's fields against ``index`` (a scorer over several fields, such
        as ``bm25f``'s weights), before any pair is scored; raise ValueError naming what the index lacks."""

    @property
    def outputs(self) -> tuple[str, ...]:
        return ("",)

    def column_base(self) -> str:
        return self.name

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        raise NotImplementedError

    def _check(self, cond: bool, param: str, expected: str) -> None:
        if not cond:
            raise ValueError(f"scorer {self.name!r}: {param} must be {expected}, got {self.params[param]!r}")

    def _refuse_given(self, cond: bool, param: str, why: str) -> None:
        """Refuse ``param`` when it was set explicitly and ``cond`` holds (it would have no effect)."""
        if cond and param in self.given:
            raise ValueError(f"scorer {self.name!r} does not take {param!r} here: {why}")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


def register(cls: type[Scorer]) -> type[Scorer]:
    """Class decorator adding a scorer to the registry under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"a scorer named {cls.name!r} is already registered ({_REGISTRY[cls.name].__name__})")
    _REGISTRY[cls.name] = cls
    return cls


def get_scorer(name: str) -> type[Scorer]:
    """The scorer class registered under ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown scorer {name!r}; available: {sorted(_REGISTRY)}") from None


def available_scorers() -> dict[str, type[Scorer]]:
    """A copy of the registry, ``{name: class}``."""
    return dict(sorted(_REGISTRY.items()))
