"""Feature sets: lists of (scorer name, parameters, fields), read from TOML or JSON.

A file holds an array of tables ``features``, each with ``scorer``, optional ``fields`` (a list, or ``"*"`` for
every indexed field) and ``name`` (column base name), and the scorer's parameters::

    [[features]]
    scorer = "bm25"
    fields = ["title", "body"]
    k1 = 0.9
    b = 0.4

The same structure is accepted as JSON (``{"features": [...]}``) or as a Python list whose items are such dicts
or strings (``"bm25"``: default parameters on every field; ``"bm25:title"``: one field). Two sets ship with the
toolkit and load by name (:data:`SHIPPED`): ``"default"`` (``features/data/default_features.toml``, 88 columns on a
title + body collection) and ``"small_collections"`` (``features/data/small_collections.toml``: nine BM25 settings,
expansion and DPH scores, for an index built with Terrier's analysis and collections of tens to hundreds of judged
queries; its header says why each column is there).

A feature set resolved against an index is described by :meth:`FeatureSet.to_dict` (JSON: the entries with their
parameters as given and as in effect, the index's analyzer, fields and position gap, and the column names), which
``ltr features`` stores in the LETOR header and a model trained on that file keeps in its sidecar;
:meth:`FeatureSet.from_dict` rebuilds the set, and :func:`differences` names what two descriptions disagree on.
"""

from __future__ import annotations

import functools
import json
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from features.analysis import Analyzer
from features.errors import ModelOutputError
from features.index import InvertedIndex
from features.pairs import PairSet
from features.scorers import Scorer, get_scorer
from features.scorers.neural import ModelScorer
from ltr.io import python_values

__all__ = ["DESCRIPTION_FORMAT", "RUNTIME_PARAMS", "FeatureSet", "FeatureSpec", "analyzer_differences", "differences"]


#: The ``format`` of :meth:`FeatureSet.to_dict`'s description.
DESCRIPTION_FORMAT = "ltrkit-feature-set/1"
#: Scorer parameters that say how or from where a feature is computed, not what it is (a neural model's device,
#: batch size and cache; the score file a ``neural_file`` feature joins, which differs between training and serving
#: by nature): :func:`differences` leaves them out, and a served feature set may set them anew.
RUNTIME_PARAMS = frozenset({"batch_size", "cache", "cache_dir", "device", "path", "unmatched"})


@functools.cache
def _scorer_family(cls: type) -> str:
    return cls.__module__.rsplit(".", 1)[-1]


def _family(scorer: Scorer) -> str:
    """A scorer's family in :meth:`FeatureSet.compute`'s timing: its module's name (``bm25``, ``proximity``)."""
    return _scorer_family(type(scorer))


def _jsonable(value: Any, what: str) -> Any:
    """``value`` as plain JSON types: NumPy scalars and arrays as the toolkit's one conversion gives them
    (:func:`ltr._json.python_values`), tuples as lists, paths as text, sets as sorted lists; ValueError naming
    ``what`` otherwise (NaN included: a description is compared and read back, and strict JSON has no NaN)."""
    def default(o: Any) -> Any:
        if isinstance(o, Path):
            return str(o)
        if isinstance(o, (set, frozenset)):
            return python_values(sorted(o))
        raise TypeError(type(o).__name__)

    try:
        return json.loads(json.dumps(python_values(value), default=default, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} cannot be described in JSON ({e})") from None


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
            if not fields:  # it gave no column, unsaid (alone: a LETOR file of no feature)
                raise ValueError("'fields' is an empty list: name one or more fields, or leave 'fields' out for "
                                 "every field ('*')")
        name = d.pop("name", None)
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ValueError(f"'name' must be a non-empty string (or left out for the scorer's own), got {name!r}")
        if name is not None and (name.startswith("-") or any(c in name for c in ",:")):
            # its columns could not be chosen: --features splits at ',' and reads '-' as a drop, ':' ends the name
            raise ValueError(f"'name' {name!r}: a name holds no ',' or ':' and does not begin with '-' (its columns, "
                             "NAME:FIELD, are chosen by name in --features lists)")
        return cls(str(scorer), d, fields, name)


#: Feature sets shipped in ``features/data``, by the name :meth:`FeatureSet.load` and ``--features`` accept.
SHIPPED = {"default": "default_features.toml", "small_collections": "small_collections.toml"}


class FeatureSet:
    """An ordered list of :class:`FeatureSpec`; resolves to columns against an index.

    Examples
    --------
    >>> fs = FeatureSet(["query_length", {"scorer": "bm25", "fields": ["body"], "k1": 0.9}])
    >>> [s.scorer for s in fs.specs]
    ['query_length', 'bm25']
    """

    def __init__(self, specs: Sequence[str | Mapping[str, Any] | FeatureSpec]):
        specs = list(specs)
        self.specs = []
        for i, s in enumerate(specs, 1):
            try:
                self.specs.append(FeatureSpec.parse(s))
            except ValueError as e:
                raise ValueError(f"feature {i}: {e}") from None
        if not self.specs:
            raise ValueError("a feature set needs at least one feature")
        # Build every scorer now so that unknown names and bad parameters fail before any work is done; an error
        # names the entry (a set may hold nine bm25 entries).
        self._scorers: list[Scorer] = []
        for i, spec in enumerate(self.specs, 1):
            try:
                self._scorers.append(get_scorer(spec.scorer)(**spec.params))
            except ValueError as e:
                raise ValueError(f"feature {i} ({spec.name or spec.scorer}): {e}") from None
            if (not self._scorers[-1].per_field and spec.fields not in ("*", None)
                    and not isinstance(specs[i - 1], FeatureSpec)):  # a saved description is read as it was
                table = ", ".join(f"{f} = 1.0" for f in spec.fields)
                fix = (f"its fields are those its weights name: weights = {{{table}}}" if spec.scorer == "bm25f"
                       else "drop it")
                raise ValueError(f"feature {i} ({spec.name or spec.scorer}): scorer {spec.scorer!r} is not computed "
                                 f"per field, so 'fields' ({list(spec.fields)}) would change nothing: {fix}")
        # columns() of the last index, kept for the next call (a Reranker computes one query's features at a time;
        # an index is never changed once built)
        self._plan: tuple[weakref.ref, list] | None = None
        self.source: str | None = None  # the file it was read from (load), for its errors
        # the description it was read from (from_dict), which may also say how its index was built (analyzer, fields)
        self.recorded: dict[str, Any] | None = None

    @property
    def scorers(self) -> tuple[Scorer, ...]:
        """The scorers, one per entry of :attr:`specs`, in order."""
        return tuple(self._scorers)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the kept plan: its weak reference to an index cannot be pickled (nor would it point to
        the unpickled index); the next :meth:`columns` call plans again."""
        return {**self.__dict__, "_plan": None}

    @classmethod
    def default(cls) -> FeatureSet:
        """The shipped default set (``features/data/default_features.toml``)."""
        return cls.shipped("default")

    @classmethod
    def shipped(cls, name: str) -> FeatureSet:
        """A set shipped with the toolkit, by name (:data:`SHIPPED`).

        >>> len(FeatureSet.shipped("small_collections").specs)
        21
        """
        if name not in SHIPPED:
            raise ValueError(f"no shipped feature set {name!r}; shipped: {', '.join(SHIPPED)}")
        text = resources.files("features").joinpath("data", SHIPPED[name]).read_text(encoding="utf-8")
        return cls(_toml_loads(text)["features"])

    @classmethod
    def load(cls, spec: str | Path | Sequence | FeatureSet) -> FeatureSet:
        """A shipped set's name (:data:`SHIPPED`), a ``.toml``/``.json`` file (of entries, or a :meth:`to_dict`
        description), a list of entries, a mapping as such a file holds (``{"features": [...]}``, or a
        :meth:`to_dict` description: a LETOR header's ``feature_set``), or a FeatureSet.

        A name wins over a file of the same name in the working folder; write ``./default`` for the file.
        """
        if isinstance(spec, FeatureSet):
            return spec
        if isinstance(spec, str) and spec in SHIPPED:
            return cls.shipped(spec)
        if isinstance(spec, (str, Path)):
            return cls._from_file(Path(spec))
        if isinstance(spec, Mapping):  # its keys were read as entries: "unknown scorer 'format'" (trial t61)
            if spec.get("format") == DESCRIPTION_FORMAT:
                return cls.from_dict(dict(spec))
            if not isinstance(spec.get("features"), list) or set(spec) != {"features"}:
                raise ValueError(f"a feature set given as a mapping is {{'features': [entries]}} or a to_dict() "
                                 f"description; got the keys {list(spec)} (one entry goes in a list: [{{...}}])")
            return cls(spec["features"])
        return cls(list(spec))

    @classmethod
    def load_without(cls, path: str | Path, entries: Sequence[Mapping[str, Any]]) -> FeatureSet | None:
        """The feature-set file at ``path`` (as :meth:`load` reads it) without its one entry of each of ``entries``'
        scorer and name, which are then never built (a distilled student's teacher, a neural entry a feature-subset
        model does not read, served: :mod:`features.serve`); None for a shipped set's name, or a file without
        exactly one such entry for each."""
        if isinstance(path, str) and path in SHIPPED:
            return None

        def other(given: list) -> list | None:
            drop = set()
            for entry in entries:
                same = [i for i, e in enumerate(given) if isinstance(e, Mapping) and e.get("scorer") == entry.get(
                    "scorer") and e.get("name") == entry.get("name")]
                if len(same) != 1:
                    return None
                drop.add(same[0])
            return [e for i, e in enumerate(given) if i not in drop]

        return cls._from_file(Path(path), other)

    @classmethod
    def _from_file(cls, p: Path, keep=None) -> FeatureSet | None:
        """:meth:`load` of a file; ``keep(entries)`` gives the entries to build (None: give up, return None)."""
        if not p.is_file() and not (p.exists() and not p.is_dir()):  # a pipe or /dev/stdin is read
            names = ", ".join(repr(n) for n in SHIPPED)
            why = "is a folder" if p.is_dir() else "does not exist"
            raise ValueError(f"feature set must be a shipped one ({names}) or a .toml/.json file; {str(p)!r} {why}")
        from ltr.io.files import read_utf8_file

        text = read_utf8_file(p, "feature set")
        try:
            data = json.loads(text) if p.suffix.lower() == ".json" else _toml_loads(text)
        except ValueError as e:  # JSONDecodeError and TOMLDecodeError are ValueErrors
            raise ValueError(f"{p}: cannot parse feature set: {e}") from None
        if not isinstance(data, dict) or not isinstance(data.get("features"), list):
            held = ""
            if isinstance(data, dict) and "features" in data:
                held = f" (its 'features' is a {type(data['features']).__name__}, not an array of tables)"
            elif isinstance(data, dict):  # a misspelt [[feautres]] alone was not named (trial t71)
                import difflib

                keys = [str(k) for k in data]
                close = difflib.get_close_matches("features", keys, n=1)
                held = (f" (it holds {'no key' if not keys else 'the keys ' + repr(keys)}"
                        f"{f'; {close[0]!r} misspelt?' if close else ''})")
            raise ValueError(f"{p}: expected a top-level 'features' array{held}")
        others = [k for k in data if k != "features"]
        if others and data.get("format") != DESCRIPTION_FORMAT:  # (a description's own keys: to_dict's, and more)
            # a misspelt [[feautres]] entry or an [options] table was dropped silently, the run one feature short
            raise ValueError(f"{p}: unknown top-level key(s) {others}: a feature set is a 'features' array of tables "
                             "([[features]] entries, each with its scorer, fields and parameters) and nothing else")
        if keep is not None:
            entries = keep(data["features"])
            if entries is None:
                return None
            data = {**data, "features": entries}
        try:
            fs = cls.from_dict(data) if data.get("format") == DESCRIPTION_FORMAT else cls(data["features"])
        except ValueError as e:
            raise ValueError(f"{p}: {e}") from None
        fs.source = str(p)  # named by an error found later, against an index
        return fs

    def columns(self, index: InvertedIndex) -> list[tuple[Scorer, str | None, list[str]]]:
        """``(scorer, field or None, column names)`` per computation, in order."""
        kept = self._plan
        if kept is not None and kept[0]() is index:
            return list(kept[1])
        out = []
        entry_of = []  # the 1-based entry of each computation in out, for the duplicate-column error
        real_fields = [f for f in index.field_names if f not in index.aliases]
        where = f"{self.source}: " if self.source else ""
        for i, (spec, scorer) in enumerate(zip(self.specs, self._scorers), 1):
            scorer.entry = f"{where}feature {i} ({self._label(i)})"  # for errors found at work (a model's loading)
            base = spec.name or scorer.column_base()
            outs = [f"{base}_{o}" if o else base for o in scorer.outputs]
            if not scorer.per_field:
                try:
                    scorer.check_index(index)  # fields named in its parameters (bm25f's weights)
                except ValueError as e:
                    raise ValueError(f"{where}feature {i} ({self._label(i)}): {e}") from None
                out.append((scorer, None, outs))
                entry_of.append(i)
                continue
            fields = real_fields if spec.fields in ("*", None) else list(spec.fields)
            for f in fields:
                try:
                    index.field(f)  # raises naming the available fields
                except ValueError as e:  # named as the set's other errors name its file and entry
                    raise ValueError(f"{where}feature {i} ({self._label(i)}): {e}") from None
                out.append((scorer, f, [f"{c}:{f}" for c in outs]))
                entry_of.append(i)
        names = [c for _, _, cols in out for c in cols]
        if len(set(names)) < len(names):
            raise ValueError(where + self._duplicates(out, entry_of))
        self._plan = (weakref.ref(index), out)
        return list(out)

    def _label(self, i: int) -> str:
        """How errors name entry ``i`` (1-based) besides its number: its ``name``, else its scorer."""
        spec = self.specs[i - 1]
        return spec.name or spec.scorer

    def _duplicates(self, out: list, entry_of: list[int]) -> str:
        """The duplicate-column error: each column given more than once, with the entries that give it (grouped,
        since two bm25 entries over the same fields collide on every field), so that the user knows which entry
        to give a distinct ``name``; a column one entry gives twice comes from a field listed twice in its
        ``fields``."""
        givers: dict[str, list[int]] = {}
        for (_, _, cols), i in zip(out, entry_of):
            for c in cols:
                givers.setdefault(c, []).append(i)
        groups: dict[tuple[int, ...], list[str]] = {}
        for c, entries in givers.items():
            if len(entries) > 1:
                groups.setdefault(tuple(dict.fromkeys(entries)), []).append(c)
        dup = sorted(c for cols in groups.values() for c in cols)
        shared = [(entries, cols) for entries, cols in groups.items() if len(entries) > 1]
        parts = []
        if shared:
            said = []
            for entries, cols in shared:
                named = [f"feature {i} ({self._label(i)})" for i in entries]
                said.append(f"{', '.join(named[:-1])} and {named[-1]} {'both' if len(named) == 2 else 'all'} give "
                            f"{_one_or_list(cols)}")
            one = len(shared) == 1 and len(shared[0][0]) == 2
            parts.append("; ".join(said) + (": give one of them a distinct 'name'" if one else
                                            ": give all but one of the entries that give a column a distinct 'name'"))
        for entries, cols in groups.items():
            if len(entries) == 1:
                parts.append(f"feature {entries[0]} ({self._label(entries[0])}) gives {_one_or_list(cols)} twice: "
                             "list each field once in its 'fields'")
        return f"duplicate feature column(s) {dup}: {'; '.join(parts)}"

    def feature_names(self, index: InvertedIndex) -> tuple[str, ...]:
        return tuple(c for _, _, cols in self.columns(index) for c in cols)

    def compute(self, pairs: PairSet, *, progress: bool = False) -> tuple[NDArray[np.float64], tuple[str, ...],
                                                                        dict[str, float]]:
        """Feature matrix (n_pairs, n_columns), column names, and seconds spent per scorer family (the module
        name: ``bm25``, ``tfidf``, ``lm``, ``stats``, ``proximity``) plus ``match`` (the shared postings search).

        Raises
        ------
        ModelOutputError
            A neural model gave a non-finite value; the message names the column, the model and the query or
            document.
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
            try:
                values = scorer.score(pairs, fld)
            except ModelOutputError as e:  # named by the column, as the user's feature set names it
                raise ModelOutputError(f"feature {cols[0]!r}: {e}") from None
            X[:, j:j + len(cols)] = np.asarray(values, dtype=np.float64).reshape(pairs.n_pairs, len(cols))
            family = _family(scorer)
            timing[family] = timing.get(family, 0.0) + time.perf_counter() - t0
            j += len(cols)
        if not np.isfinite(X).all():  # checked once over the matrix: a check per scorer costs a query's tenth
            r, c = np.argwhere(~np.isfinite(X))[0]
            raise FloatingPointError(f"feature {names[c]!r} is {X[r, c]} for pair {r}: this is a bug")
        return X, names, timing

    # -- description -------------------------------------------------------------------------------------------------
    def to_dict(self, index: InvertedIndex | None = None) -> dict[str, Any]:
        """A JSON description of the set that rebuilds the same columns (:meth:`from_dict`).

        ``features``: one entry per spec, with ``scorer``, ``fields`` (``"*"``, a list, or None), ``name``, ``params``
        (as given: what :meth:`from_dict` passes back) and ``effective`` (every parameter, defaults filled in, as
        this version computes them); a neural model's entry (``biencoder``, ``crossencoder``) also has
        ``model_digest``, the SHA-256 of the model folder's content (:func:`features.embedding_cache.model_digest`),
        which :func:`differences` compares instead of the ``model`` parameter's spelling. With ``index``, also what
        the columns depend on there: ``analyzer`` (:meth:`features.analysis.Analyzer.to_dict`), ``fields`` (the
        indexed fields), ``aliases``, ``position_gap``, ``positions`` (:attr:`InvertedIndex.positions`) and
        ``columns`` (the column names, in order).

        Examples
        --------
        >>> d = FeatureSet([{"scorer": "bm25", "fields": ["body"], "k1": 0.9}]).to_dict()
        >>> d["features"][0]["params"], d["features"][0]["effective"]["b"]
        ({'k1': 0.9}, 0.75)
        """
        entries = []
        for spec, scorer in zip(self.specs, self._scorers):
            fields = list(spec.fields) if isinstance(spec.fields, tuple) else spec.fields
            entry = {"scorer": spec.scorer, "fields": fields, "name": spec.name,
                     "params": _jsonable(spec.params, f"the parameters of scorer {spec.scorer!r}"),
                     "effective": _jsonable(scorer.params, f"the parameters of scorer {spec.scorer!r}"),
                     "version": int(type(scorer).version)}
            if isinstance(scorer, ModelScorer):  # a neural model, by content: its spelling names a folder only
                entry["model_digest"] = scorer.model_digest()
            entries.append(entry)
        out: dict[str, Any] = {"format": DESCRIPTION_FORMAT, "features": entries}
        if index is not None:
            out["analyzer"] = _jsonable(index.analyzer.to_dict(), "the analyzer")
            out["fields"] = [f for f in index.field_names if f not in index.aliases]
            out["aliases"] = dict(index.aliases)
            out["position_gap"] = int(index.position_gap)
            out["positions"] = index.positions  # how the index counts them (a description without it: "terms")
            out["columns"] = list(self.feature_names(index))
        return out

    @classmethod
    def from_dict(cls, description: Mapping[str, Any]) -> FeatureSet:
        """The feature set of a :meth:`to_dict` description (its ``features`` entries, parameters as given).

        Raises
        ------
        ValueError
            Not such a description (naming what is wrong), or an entry this version's scorers refuse.
        """
        if not isinstance(description, Mapping) or description.get("format") != DESCRIPTION_FORMAT:
            got = description.get("format") if isinstance(description, Mapping) else type(description).__name__
            raise ValueError(f"not a feature-set description (expected format {DESCRIPTION_FORMAT!r}, got {got!r})")
        entries = description.get("features")
        if not isinstance(entries, list) or not entries:
            raise ValueError("a feature-set description needs a non-empty 'features' list")
        specs = []
        for i, e in enumerate(entries):
            if not isinstance(e, Mapping) or not isinstance(e.get("scorer"), str) or \
                    not isinstance(e.get("params", {}), Mapping):
                raise ValueError(f"feature-set description: entry {i} needs a 'scorer' name and a 'params' table")
            fields = e.get("fields", "*")
            params = dict(e.get("params", {}))
            for key, then in _ADDED_PARAMS.items():  # computed as it was when the description was written
                if isinstance(e.get("effective"), Mapping) and key not in e["effective"] and key not in params \
                        and _takes(e, key):
                    params[key] = then
            for key, then in _MODEL_DEFAULTS.items():  # the model's setting then, whatever the model says now
                if params.get(key) is None and _takes(e, key):
                    effective = e.get("effective")
                    params[key] = effective.get(key, then) if isinstance(effective, Mapping) else then
            specs.append(FeatureSpec(e["scorer"], params, tuple(fields) if isinstance(fields, list) else fields,
                                     e.get("name")))
        fs = cls(specs)
        fs.recorded = dict(description)
        return fs

    def __repr__(self) -> str:
        return f"FeatureSet({[s.scorer for s in self.specs]})"


def _one_or_list(columns: list[str]) -> str:
    return repr(columns[0]) if len(columns) == 1 else str(columns)


def _settings(analyzer: Mapping[str, Any]) -> Mapping[str, Any]:
    """Analyzer settings with those a description written before they existed lacks read as the index reads them
    (:meth:`Analyzer.from_dict`: ``split_cjk`` False, ...), so that a model and its index, saved alike, agree;
    settings that do not load are compared as written."""
    try:
        return Analyzer.from_dict(analyzer).to_dict()
    except (ValueError, TypeError):
        return analyzer


def analyzer_differences(a: Analyzer | Mapping[str, Any], b: Analyzer | Mapping[str, Any],
                         labels: tuple[str, str] = ("the first", "the second")) -> list[str]:
    """What two analyzers (or their :meth:`Analyzer.to_dict` settings) disagree on, one phrase per setting (empty
    when they analyse alike). Stopwords are compared as the words they hold: the shipped ``terrier`` list and a
    file of the same words agree.

    Examples
    --------
    >>> analyzer_differences(Analyzer(), Analyzer(stemmer="english"), ("the index", "the options"))
    ["analyzer stemmer: 'porter' in the index, 'english' in the options"]
    >>> from features.analysis import load_stopwords
    >>> analyzer_differences(Analyzer(stopwords="terrier"), Analyzer(stopwords=sorted(load_stopwords("terrier"))))
    []
    """
    xa, xb = (_settings(x.to_dict() if isinstance(x, Analyzer) else x) for x in (a, b))
    out = []
    stop = ("stopwords", "stopwords_name", "stopwords_sha256")
    if sorted(xa.get("stopwords") or []) != sorted(xb.get("stopwords") or []):
        out.append(f"analyzer stopwords: {_stopwords(xa)} in {labels[0]}, {_stopwords(xb)} in {labels[1]}")
    for key in sorted((set(xa) | set(xb)) - set(stop)):
        if xa.get(key) != xb.get(key):
            why = (" (Analyzer.terrier() has lowercased each token after Terrier's checks, as Terrier does, since "
                   "the setting was added; what was analysed before it reads true)") if key == "lowercase_first" else ""
            out.append(f"analyzer {key}: {_show(xa.get(key))} in {labels[0]}, {_show(xb.get(key))} in {labels[1]}"
                       f"{why}")
    return out


def _stopwords(analyzer: Mapping[str, Any]) -> str:
    words = analyzer.get("stopwords") or []
    name = analyzer.get("stopwords_name")
    return f"the {name!r} list ({len(words)} words)" if name else f"a list of {len(words)} words"


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)


def _entry_differences(i: int, a: Mapping, b: Mapping, labels: tuple[str, str]) -> list[str]:
    what = f"feature {i + 1} ({a.get('scorer')})"
    if a.get("scorer") != b.get("scorer"):
        return [f"{what}: scorer {a.get('scorer')!r} in {labels[0]}, {b.get('scorer')!r} in {labels[1]}"]
    out = []
    for key in ("fields", "name"):
        if a.get(key) != b.get(key):
            out.append(f"{what}: {key} {_show(a.get(key))} in {labels[0]}, {_show(b.get(key))} in {labels[1]}")
    va, vb = (e.get("version", 1) for e in (a, b))  # (a description written before versions: 1)
    if va != vb and isinstance(va, int) and isinstance(vb, int):
        from features.scorers import get_scorer

        try:
            changes = get_scorer(str(a.get("scorer"))).changes
        except (KeyError, ValueError):
            changes = {}
        why = "; ".join(f"version {v}: {changes[v]}" for v in range(min(va, vb) + 1, max(va, vb) + 1) if v in changes)
        out.append(f"{what}: computed as version {va} of the scorer in {labels[0]}, version {vb} in {labels[1]}"
                   + (f" ({why})" if why else "") + ": its values differ, retrain on features computed now")
    pa, pb = a.get("effective", a.get("params", {})), b.get("effective", b.get("params", {}))
    added = {k: v for k, v in _ADDED_PARAMS.items() if _takes(a, k)}  # absent: the value it had then
    pa, pb = ({**added, **p} if "effective" in d else p for d, p in ((a, pa), (b, pb)))
    unread = {k for k in _ADDED_PARAMS if not (_takes(a, k) and _takes(b, k))}  # (stat="tf" reads no doc_count)
    keys = (set(pa) | set(pb)) - RUNTIME_PARAMS - unread
    da, db = a.get("model_digest"), b.get("model_digest")
    if da is not None and db is not None:  # a neural model by content; a description without one, by spelling
        keys.discard("model")
        if da != db:
            out.append(f"{what}: model {_show(pa.get('model'))} in {labels[0]} and {_show(pb.get('model'))} in "
                       f"{labels[1]} differ in content (model_digest {str(da)[:12]} and {str(db)[:12]}: another "
                       "model, or its files changed)")
    for key in sorted(keys):
        if pa.get(key) != pb.get(key):
            keep = (f' ({key} = "{pa.get(key)}" in the entry computes {labels[0]}\'s)'
                    if key == "doc_count" or key in _MODEL_DEFAULTS else "")
            out.append(f"{what}: {key} {_show(pa.get(key))} in {labels[0]}, {_show(pb.get(key))} in {labels[1]}"
                       f"{keep}")
    return out


def _column_differences(a: list, b: list, labels: tuple[str, str]) -> list[str]:
    if a == b:
        return []
    sa, sb = set(a), set(b)
    out = []
    only_a, only_b = [c for c in a if c not in sb], [c for c in b if c not in sa]
    if only_a:
        out.append(f"columns only in {labels[0]}: {only_a[:5]}" + (f" and {len(only_a) - 5} more" if len(only_a) > 5
                                                                 else ""))
    if only_b:
        out.append(f"columns only in {labels[1]}: {only_b[:5]}" + (f" and {len(only_b) - 5} more" if len(only_b) > 5
                                                                 else ""))
    if not only_a and not only_b:
        j = next(k for k, (x, y) in enumerate(zip(a, b)) if x != y)
        out.append(f"columns in another order (column {j + 1} is {a[j]!r} in {labels[0]}, {b[j]!r} in {labels[1]})")
    return out


#: Scorer parameters added after descriptions were first written, with the value every description written before
#: them was computed with: an entry whose ``effective`` parameters lack one is rebuilt (:meth:`FeatureSet.from_dict`)
#: and compared (:func:`differences`) with it. ``doc_count``: BM25's N and avgdl counted every document.
_ADDED_PARAMS = {"doc_count": "collection"}

#: Scorer parameters whose default is read from the model (a bi-encoder's ``similarity``: its
#: ``similarity_fn_name``), with the value every description written before they were was computed with: a
#: description rebuilds them as it recorded them (:meth:`FeatureSet.from_dict`), so that a ranker trained on cosine
#: columns of a model that configures the dot product is served on cosine columns.
_MODEL_DEFAULTS = {"similarity": "cosine"}


def _takes(entry: Mapping[str, Any], key: str) -> bool:
    """Whether this version's scorer of a described ``entry`` computes with the parameter ``key`` under the entry's
    own parameters (``term_stats``' ``stat="tf"`` reads no ``doc_count``)."""
    try:
        cls = get_scorer(str(entry.get("scorer")))
    except ValueError:
        return False
    params = entry.get("effective", entry.get("params", {}))
    return key in cls.defaults and cls.reads(key, params if isinstance(params, Mapping) else {})


_POSITION_RULES = {"tokens": "every token counted (dropped ones keep their place)",
                   "terms": "the kept terms counted only (an index of format 1)"}


def _positional(scorer: Any) -> bool:
    """Whether a described entry's scorer reads positions (False for a name this version does not know)."""
    try:
        return bool(get_scorer(str(scorer)).positional)
    except ValueError:
        return False


def differences(a: Mapping[str, Any], b: Mapping[str, Any], labels: tuple[str, str] = ("the first",
                                                                                        "the second")) -> list[str]:
    """What two :meth:`FeatureSet.to_dict` descriptions disagree on, one phrase each (empty when they agree).

    Compared: the entries (scorer, fields, name, and every effective parameter but :data:`RUNTIME_PARAMS`; a
    neural model by its ``model_digest`` where both entries have one, so the same model under another spelling
    agrees and a changed one does not, else by the ``model`` parameter's spelling, as descriptions written before
    the digest was recorded), and, where both descriptions have them, the analyzer (setting by setting), the indexed
    fields, aliases, position gap, how positions are counted (where a column reads them: a description without it
    was written before format 2's positions) and the columns (those only in one, or their order). ``labels`` name
    the two sides in the phrases.

    Examples
    --------
    >>> a = FeatureSet([{"scorer": "bm25", "k1": 1.2}]).to_dict()
    >>> b = FeatureSet([{"scorer": "bm25", "k1": 0.9}]).to_dict()
    >>> differences(a, b, ("the model", "the given set"))
    ['feature 1 (bm25): k1 1.2 in the model, 0.9 in the given set']
    """
    out = []
    fa, fb = list(a.get("features") or []), list(b.get("features") or [])
    if len(fa) != len(fb):
        names = [[e.get("scorer") for e in f] for f in (fa, fb)]
        out.append(f"{len(fa)} feature entries in {labels[0]} ({', '.join(map(str, names[0]))}), {len(fb)} in "
                   f"{labels[1]} ({', '.join(map(str, names[1]))})")
    else:
        for i, (ea, eb) in enumerate(zip(fa, fb)):
            out.extend(_entry_differences(i, ea, eb, labels))
    if "analyzer" in a and "analyzer" in b:
        out.extend(analyzer_differences(a["analyzer"], b["analyzer"], labels))
    positional = next((e.get("scorer") for e in fa + fb if _positional(e.get("scorer"))), None)
    if "analyzer" in a and "analyzer" in b and positional is not None:  # only where a column reads positions
        pa, pb = (d.get("positions", "terms") for d in (a, b))
        if pa != pb:
            out.append(f"indexed positions: {_POSITION_RULES.get(pa, pa)} in {labels[0]}, "
                       f"{_POSITION_RULES.get(pb, pb)} in {labels[1]} ({positional} reads them)")
    for key in ("fields", "aliases", "position_gap"):
        if key in a and key in b and a[key] != b[key]:
            out.append(f"indexed {key.replace('_', ' ')}: {_show(a[key])} in {labels[0]}, {_show(b[key])} in "
                       f"{labels[1]}")
    if "columns" in a and "columns" in b:
        out.extend(_column_differences(list(a["columns"]), list(b["columns"]), labels))
    return out
