"""Feature subsets: by 1-based LETOR id or by name, and RankLib's ``-feature`` files (one id per line).

Ids follow the LETOR files: feature id ``j`` is column ``j - 1`` of ``X``. Names are the dataset's
``feature_names`` (from an ``ltrkit-letor`` header or a feature extractor). A subset keeps the requested order.
An entry ``"-ID"`` or ``"-NAME"`` drops that feature instead (from the listed ones, or from all when none is listed),
the exclusion an ablation needs.

The command line's ``--features`` / ``--drop-features`` (``ltr train``, ``ltr cv``, ``ltr tune``) are defined here
once (:func:`add_feature_options`, :func:`feature_spec`), so that every command reads them the same way.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ltr.datasets import RankingDataset
from ltr.exceptions import LetorFormatError

__all__ = ["FEATURES_HELP", "FEATURES_KEY", "Once", "add_feature_options", "feature_spec", "read_feature_file",
           "recorded_features", "resolve_features", "select_features", "shown_ids", "subset_description",
           "subset_words", "take_columns"]

#: The key of a saved model's ``read_options`` (its sidecar) that records the subset ``ltr train --features`` kept:
#: ``{"ids": [1-based ids of the training file's columns, in the model's order], "n_features": its width}``.
#: ``ltr predict`` picks those columns of the data it scores; :func:`recorded_features` reads it.
FEATURES_KEY = "features"

FEATURES_HELP = ("feature subset, as RankLib's -feature: a feature file (one 1-based id per line; RankLib's "
                 "'ID<TAB>description' lines and '#' comments are read too) or comma-separated ids (ranges too: 1-10) "
                 "and names; an entry -ID or -NAME leaves that feature out (--features=-23,-25 is --drop-features "
                 "23,25)")
DROP_FEATURES_HELP = ("features to leave out, for an ablation: a feature file or comma-separated ids/names, dropped "
                      "from --features or, without it, from all the features (--drop-features 23,25 trains on the "
                      "other 44 of MQ2008's 46)")


def read_feature_file(path: str | os.PathLike) -> list[int]:
    """Read a RankLib feature file: one 1-based feature id per line; blank lines and ``#`` comments are skipped.

    A line may describe its feature after a tab, ``ID<TAB>description``, as RankLib's ``FeatureManager.readFeature``
    reads it (the first tab-separated field is the id).

    Raises
    ------
    LetorFormatError
        A line that is not a positive integer (naming the path, line and token), or no id at all.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "features.txt")
    >>> _ = open(p, "w").write("1\\n# BM25 fields\\n5\\n\\n7  # title\\n23\\tBM25 of the whole document\\n")
    >>> read_feature_file(p)
    [1, 5, 7, 23]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"feature file not found: {path}")
    from ltr.io.files import read_utf8_file

    ids: list[int] = []
    for lineno, line in enumerate(read_utf8_file(path, "feature file").splitlines(), 1):
        # RankLib keeps the first tab-separated field ("23<TAB>BM25"); a '#' starts a comment
        text = line.split("\t", 1)[0].split("#", 1)[0].strip()
        if not text:
            continue
        try:
            fid = int(text)
        except ValueError:
            raise LetorFormatError("a feature file has one integer feature id per line", str(path), lineno,
                                   text, hint="or 'ID<TAB>description', as RankLib's") from None
        if fid < 1:
            raise LetorFormatError("feature ids are 1-based (LETOR ids)", str(path), lineno, text)
        ids.append(fid)
    if not ids:
        raise LetorFormatError("the feature file lists no feature id", str(path))
    return ids


def resolve_features(features: Sequence[int | str] | str | os.PathLike, n_features: int,
                     names: Sequence[str] | None = None) -> NDArray[np.intp]:
    """Column indices (0-based) for 1-based ids, names, or a RankLib feature file's path.

    A string that is a feature name resolves to that feature; a digit string to its id; ``"A-B"`` (no feature's
    name) to the ids A to B; a path to an existing file to the ids it lists. A string ``"-ID"`` or ``"-NAME"`` (a
    name that is not itself a feature's) drops that feature: from the features listed, or from all ``n_features``
    (in their order) when only drops are given.

    Raises
    ------
    ValueError
        An id outside ``1..n_features``, an unknown name (the message lists a few known ones), a repeat, a drop of
        a feature not listed, or nothing left.

    Examples
    --------
    >>> resolve_features([3, "bm25"], 4, ["tf", "idf", "len", "bm25"]).tolist()
    [2, 3]
    >>> resolve_features(["-2", "-bm25"], 4, ["tf", "idf", "len", "bm25"]).tolist()
    [0, 2]
    >>> resolve_features(["1-3", "-2"], 4).tolist()
    [0, 2]
    """
    if isinstance(features, (str, os.PathLike)):
        if isinstance(features, str) and names is not None and features in names:
            features = [features]
        else:
            features = read_feature_file(features)
    lookup = {n: i for i, n in enumerate(names)} if names is not None else {}
    cols: list[int] = []
    dropped: list[int] = []
    for f in features:
        target = cols
        if isinstance(f, str) and f not in lookup and f.strip().startswith("-") and f.strip() != "-":
            target, f = dropped, f.strip()[1:].strip()  # "-23", "-BM25 of body": left out
        ids = _range(f, lookup)
        try:
            target.extend(_column(one, n_features, lookup) for one in ids)
        except ValueError as e:  # (1-99 of 46 features said 'feature id 47 is outside', of an id not typed)
            if ids == [f]:
                raise
            raise ValueError(f"feature range {f.strip()!r}: {e}") from None
    for listed in (cols, dropped):
        if len(set(listed)) != len(listed):
            dup = next(c for c in listed if listed.count(c) > 1)
            raise ValueError(f"feature id {dup + 1} is listed twice")
    if dropped:
        kept = cols or list(range(n_features))
        missing = [c + 1 for c in dropped if c not in kept]
        if missing:
            raise ValueError(f"feature id {missing[0]} is dropped but not among the features kept "
                             f"({', '.join(str(c + 1) for c in kept[:8])}{', ...' if len(kept) > 8 else ''})")
        cols = [c for c in kept if c not in set(dropped)]
        if not cols:
            raise ValueError("the feature subset is empty: every feature is dropped")
    if not cols:
        raise ValueError("the feature subset is empty")
    return np.asarray(cols, dtype=np.intp)


def _range(f: int | str, lookup: dict[str, int]) -> list[int | str]:
    """The ids of an entry ``"A-B"`` that is no feature's name (``1-10``: 1 to 10, inclusive); else the entry alone
    (a range was said to be an unknown name, with the advice to use ids: trial t67)."""
    m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", f) if isinstance(f, str) and f not in lookup else None
    if m is None:
        return [f]
    first, last = int(m.group(1)), int(m.group(2))
    if first > last:
        raise ValueError(f"feature range {f.strip()!r} runs backwards: write {last}-{first}")
    return list(range(first, last + 1))


def _column(f: int | str, n_features: int, lookup: dict[str, int]) -> int:
    """The 0-based column of one entry: a name, or a 1-based id (an int or a digit string)."""
    if isinstance(f, str) and f in lookup:
        return lookup[f]
    if isinstance(f, str) and not f.strip().isdigit():
        known = list(lookup)[:8] if lookup else []
        hint = f"; known names include {known}" if known else " (the data has no feature names: use ids)"
        pathlike = "/" in f or os.sep in f or Path(f).suffix.lower() in (".txt", ".tsv", ".csv", ".list", ".json")
        file = ", and no such feature file" if pathlike else ""  # a path (nosuch.txt too, t56): a file not there
        raise ValueError(f"unknown feature name {f!r}{file}{hint}")
    if isinstance(f, (bool, np.bool_)) or not isinstance(f, (int, np.integer, str)):
        raise TypeError(f"features are 1-based ids or names, got {f!r}")
    fid = int(f)
    if not 1 <= fid <= n_features:
        raise ValueError(f"feature id {fid} is outside 1..{n_features} (ids are 1-based, as in LETOR files)")
    return fid - 1


def _entries(text: str, option: str) -> list[str | int]:
    """One option's value: a feature file's ids when ``text`` names an existing file, else its comma-separated
    entries (ids or names)."""
    if Path(text).is_file():
        return list(read_feature_file(text))
    entries: list[str | int] = [t.strip() for t in text.split(",")]
    if not any(entries):
        raise ValueError(f"{option} {text!r}: give a feature file or comma-separated feature ids/names")
    if not all(entries):  # '1,,3': an id left out by mistake (t63), refused as every list option refuses it
        raise ValueError(f"{option} {text!r}: an empty item between commas; separate the items by single commas")
    return entries


def feature_spec(features: str | None, drop: str | None = None) -> list[str | int] | None:
    """The subset that ``--features`` and ``--drop-features`` give, for :func:`resolve_features` (None: all).

    Each is a feature file (:func:`read_feature_file`) or comma-separated ids/names; the dropped ones become
    ``"-ID"`` / ``"-NAME"`` entries.

    Raises
    ------
    LetorFormatError
        A bad feature file (naming its line and token).
    ValueError
        An option without any entry.

    Examples
    --------
    >>> feature_spec("1, 3,bm25"), feature_spec(None, "23,25"), feature_spec(None)
    (['1', '3', 'bm25'], ['-23', '-25'], None)
    """
    spec: list[str | int] = []
    if features is not None:
        spec += _entries(features, "--features")
    if drop is not None:
        spec += [f"-{e}" for e in _entries(drop, "--drop-features")]
    return spec or None


class Once(argparse.Action):
    """An option whose value is a file or a list (``--features FILE|IDS``, export's ``--feature-names NAMES|@FILE``),
    which cannot add up: given twice, a usage error (the last alone was kept, exit 0; trial t56)."""

    def __call__(self, parser, namespace, values, option_string=None):
        before = getattr(namespace, self.dest, None)
        if before is not self.default and before is not None:
            raise argparse.ArgumentError(self, f"given twice ({before!r}, then {values!r}): give one value")
        setattr(namespace, self.dest, values)


def add_feature_options(group, saved: str = "") -> None:
    """Add ``--features`` and ``--drop-features`` to an argparse parser or argument group (one definition for
    ``ltr train``, ``ltr cv`` and ``ltr tune``; read with :func:`feature_spec`); ``saved`` ends the help of
    ``--features`` with what the command's output records of the subset."""
    group.add_argument("--features", default=None, metavar="FILE|IDS", action=Once, help=FEATURES_HELP + saved)
    group.add_argument("--drop-features", default=None, dest="drop_features", metavar="FILE|IDS", action=Once,
                       help=DROP_FEATURES_HELP)


def recorded_features(model, *, name: str | None = None, error: type[ValueError] = ValueError
                      ) -> tuple[list[int], int] | None:
    """The 1-based ids of the training file's columns a model uses, and that file's width, as ``ltr train
    --features`` records them in its sidecar (:data:`FEATURES_KEY`); None for a model trained on all the columns.
    A bad record raises ``error`` (a :class:`ValueError` class: the caller's own, such as the exporter's),
    its message starting ``"NAME: the sidecar's ..."`` when the model's ``name`` (its path) is given.

    Raises
    ------
    ValueError
        A record that does not describe the model's columns (``n_features_in_`` ids within ``1..width``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> recorded_features(SimpleNamespace(read_options_={"features": {"ids": [3, 1], "n_features": 4}},
    ...                                   n_features_in_=2))
    ([3, 1], 4)
    """
    recorded = (getattr(model, "read_options_", None) or {}).get(FEATURES_KEY)
    where = "" if name is None else f"{name}: the sidecar's "
    if recorded is None:
        return None
    try:
        ids, width = [int(i) for i in recorded["ids"]], int(recorded["n_features"])
    except (KeyError, TypeError, ValueError):
        raise error(f"{where}read_options.{FEATURES_KEY} must be {{'ids': [...], 'n_features': N}}, got "
                    f"{recorded!r:.80}") from None
    n = getattr(model, "n_features_in_", None)
    if not ids or min(ids) < 1 or max(ids) > width or len(set(ids)) != len(ids) or (n is not None and
                                                                                     len(ids) != int(n)):
        raise error(f"{where}read_options.{FEATURES_KEY} ({len(ids)} ids of {width}) does not describe the "
                    f"model's {n} columns")
    return ids, width


def subset_words(ids: Sequence[int], width: int) -> str:
    """The data's ids that a model of the subset ``ids`` (1-based, of ``width`` columns) scores, or those it leaves
    out where they are fewer, as a note says them (the few ids of ``--drop-features`` were lost past the first 20
    kept ones: trial t68).

    Examples
    --------
    >>> subset_words([5, 1], 5)
    'ids 5,1 are scored'
    >>> subset_words(list(range(1, 41)) + [42], 46)
    'ids 41,43,44,45,46 are left out'
    """
    left = sorted(set(range(1, width + 1)) - {int(i) for i in ids})
    if left and len(left) < len(ids):
        return f"ids {shown_ids(left)} are left out"
    return f"ids {shown_ids(ids)} are scored"


def shown_ids(ids: Sequence[int]) -> str:
    """Feature ids for a note: the first 20, comma-separated, then ``...`` when there are more.

    >>> shown_ids(range(1, 23))
    '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,...'
    """
    ids = list(ids)
    return ",".join(map(str, ids[:20])) + (",..." if len(ids) > 20 else "")


def subset_description(described, ids: Sequence[int], names: Sequence[str] | None = None) -> dict | None:
    """The feature-set description a model trained on a feature subset keeps: that of the whole file it was trained
    on (``described``, the ``ltr features`` header: ``columns`` names every column of the file), recorded with the
    subset's 1-based ``ids`` (:data:`FEATURES_KEY`), so that model column ``j`` is the file's column ``ids[j]``.
    None when there is no description, or it does not describe those columns (``names``: the model's own names,
    which must be the file's names of ``ids``).

    Examples
    --------
    >>> subset_description({"columns": ["bm25:title", "tf", "first_stage_score"]}, [3, 1],
    ...                    ["first_stage_score", "bm25:title"])
    {'columns': ['bm25:title', 'tf', 'first_stage_score']}
    >>> subset_description({"columns": ["a", "b"]}, [3]) is None
    True
    """
    columns = described.get("columns") if isinstance(described, dict) else None
    ids = [int(i) for i in ids]
    if not isinstance(columns, list) or not ids or min(ids) < 1 or max(ids) > len(columns):
        return None
    if names is not None and [str(n) for n in names] != [str(columns[i - 1]) for i in ids]:
        return None
    return described


def take_columns(data: RankingDataset, columns: NDArray[np.intp], first_id: int = 1) -> RankingDataset:
    """The dataset restricted to ``columns`` (0-based), with their names (the file's ids as names when it had none:
    column j is id ``j + first_id``, 0 for a file read with ``zero_based=True``)."""
    names = data.feature_names if data.feature_names is not None else tuple(str(j + first_id) for j in
                                                                              range(data.n_features))
    return replace(data, X=data.X[:, columns], feature_names=tuple(names[c] for c in columns))


def select_features(data: RankingDataset, features: Sequence[int | str] | str | os.PathLike) -> RankingDataset:
    """Keep a subset of features, by 1-based id, name, or a RankLib feature file (one id per line).

    Examples
    --------
    >>> from ltr import make_ranking
    >>> d = select_features(make_ranking(2, 3, 5, random_state=0), [5, "f2"])
    >>> d.n_features, d.feature_names
    (2, ('f5', 'f2'))
    """
    return take_columns(data, resolve_features(features, data.n_features, data.feature_names))
