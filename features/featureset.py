"""Feature sets: lists of (scorer name, parameters, fields), read from TOML or JSON.

A file holds an array of tables ``features``, each with ``scorer``, optional ``fields`` (a list, or ``"*"`` for
every indexed field) and ``name`` (column base name), and the scorer's parameters::

    [[features]]
    scorer = "bm25"
    fields = ["title", "body"]
    k1 = 0.9
    b = 0.4

The same structure is accepted as JSON (``{"features": [...]}``) or as a Python list whose items are such dicts
or strings (``"bm25"``: default parameters on every field; ``"bm25:title"``: one field). The default set ships as
``features/data/default_features.toml``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from features.index import InvertedIndex
from features.pairs import PairSet
from features.scorers import Scorer, get_scorer

__all__ = ["FeatureSet", "FeatureSpec"]


def _toml_loads(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ImportError("reading TOML on Python 3.10 needs tomli: pip install tomli") from None
    return tomllib.loads(text)


@dataclass(frozen=True)
class FeatureSpec:
    """One entry of a feature set."""

    scorer: str
    params: dict[str, Any] = field(default_factory=dict)
    fields: tuple[str, ...] | str | None = "*"
    name: str | None = None

    @classmethod
    def parse(cls, item: str | Mapping[str, Any]) -> FeatureSpec:
        if isinstance(item, FeatureSpec):
            return item
        if isinstance(item, str):
            scorer, _, fld = item.partition(":")
            return cls(scorer.strip(), {}, (fld.strip(),) if fld else "*")
        if not isinstance(item, Mapping) or "scorer" not in item:
            raise ValueError(f"a feature entry must be a scorer name or a table with a 'scorer' key, got {item!r}")
        d = dict(item)
        scorer = d.pop("scorer")
        fields = d.pop("fields", "*")
        if isinstance(fields, str) and fields != "*":
            fields = (fields,)
        elif fields is not None and not isinstance(fields, str):
            fields = tuple(fields)
        name = d.pop("name", None)
        return cls(str(scorer), d, fields, name)


class FeatureSet:
    """An ordered list of :class:`FeatureSpec`; resolves to columns against an index.

    Examples
    --------
    >>> fs = FeatureSet(["query_length", {"scorer": "bm25", "fields": ["body"], "k1": 0.9}])
    >>> [s.scorer for s in fs.specs]
    ['query_length', 'bm25']
    """

    def __init__(self, specs: Sequence[str | Mapping[str, Any] | FeatureSpec]):
        self.specs = [FeatureSpec.parse(s) for s in specs]
        if not self.specs:
            raise ValueError("a feature set needs at least one feature")
        # Build every scorer now so that unknown names and bad parameters fail before any work is done.
        self._scorers: list[Scorer] = [get_scorer(s.scorer)(**s.params) for s in self.specs]

    @classmethod
    def default(cls) -> FeatureSet:
        """The shipped default set (``features/data/default_features.toml``)."""
        text = resources.files("features").joinpath("data", "default_features.toml").read_text(encoding="utf-8")
        return cls(_toml_loads(text)["features"])

    @classmethod
    def load(cls, spec: str | Path | Sequence | FeatureSet) -> FeatureSet:
        """``"default"``, a ``.toml``/``.json`` file, a list of entries, or a FeatureSet."""
        if isinstance(spec, FeatureSet):
            return spec
        if isinstance(spec, str) and spec == "default":
            return cls.default()
        if isinstance(spec, (str, Path)):
            p = Path(spec)
            if not p.is_file():
                raise ValueError(f"feature set must be 'default' or a .toml/.json file; {str(p)!r} does not exist")
            text = p.read_text(encoding="utf-8")
            try:
                data = json.loads(text) if p.suffix.lower() == ".json" else _toml_loads(text)
            except ValueError as e:  # JSONDecodeError and TOMLDecodeError are ValueErrors
                raise ValueError(f"{p}: cannot parse feature set: {e}") from None
            if not isinstance(data, dict) or not isinstance(data.get("features"), list):
                raise ValueError(f"{p}: expected a top-level 'features' array")
            return cls(data["features"])
        return cls(list(spec))

    def columns(self, index: InvertedIndex) -> list[tuple[Scorer, str | None, list[str]]]:
        """``(scorer, field or None, column names)`` per computation, in order."""
        out = []
        real_fields = [f for f in index.field_names if f not in index.aliases]
        for spec, scorer in zip(self.specs, self._scorers):
            base = spec.name or scorer.column_base()
            outs = [f"{base}_{o}" if o else base for o in scorer.outputs]
            if not scorer.per_field:
                out.append((scorer, None, outs))
                continue
            fields = real_fields if spec.fields in ("*", None) else list(spec.fields)
            for f in fields:
                index.field(f)  # raises naming the available fields
                out.append((scorer, f, [f"{c}:{f}" for c in outs]))
        names = [c for _, _, cols in out for c in cols]
        dup = sorted({c for c in names if names.count(c) > 1})
        if dup:
            raise ValueError(f"duplicate feature column(s) {dup}: give one of the entries a distinct 'name'")
        return out

    def feature_names(self, index: InvertedIndex) -> tuple[str, ...]:
        return tuple(c for _, _, cols in self.columns(index) for c in cols)

    def compute(self, pairs: PairSet, *, progress: bool = False) -> tuple[NDArray[np.float64], tuple[str, ...],
                                                                        dict[str, float]]:
        """Feature matrix (n_pairs, n_columns), column names, and seconds spent per scorer family (the module
        name: ``bm25``, ``tfidf``, ``lm``, ``stats``, ``proximity``) plus ``match`` (the shared postings search).

        Raises
        ------
        FloatingPointError
            If a scorer produced a non-finite value (a bug: every feature has defined values for empty fields,
            missing terms and empty queries).
        """
        plan = self.columns(pairs.index)
        names = tuple(c for _, _, cols in plan for c in cols)
        X = np.empty((pairs.n_pairs, len(names)))
        timing: dict[str, float] = {}
        it = plan
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(plan, desc="features", unit="scorer", disable=None)
        t0 = time.perf_counter()
        for fld in dict.fromkeys(f for _, f, _ in plan if f is not None):
            pairs.match(fld)  # the postings search all per-field scorers share
        timing["match"] = time.perf_counter() - t0
        j = 0
        for scorer, fld, cols in it:
            t0 = time.perf_counter()
            block = np.asarray(scorer.score(pairs, fld), dtype=np.float64).reshape(pairs.n_pairs, len(cols))
            family = type(scorer).__module__.rsplit(".", 1)[-1]
            timing[family] = timing.get(family, 0.0) + time.perf_counter() - t0
            bad = ~np.isfinite(block)
            if bad.any():
                r, c = np.argwhere(bad)[0]
                raise FloatingPointError(f"feature {cols[c]!r} is {block[r, c]} for pair {r}: this is a bug")
            X[:, j:j + len(cols)] = block
            j += len(cols)
        return X, names, timing

    def __repr__(self) -> str:
        return f"FeatureSet({[s.scorer for s in self.specs]})"
