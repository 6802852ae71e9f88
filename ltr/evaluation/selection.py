"""Feature subsets: by 1-based LETOR id or by name, and RankLib's ``-feature`` files (one id per line).

Ids follow the LETOR files: feature id ``j`` is column ``j - 1`` of ``X``. Names are the dataset's
``feature_names`` (from an ``ltrkit-letor`` header or a feature extractor). A subset keeps the requested order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ltr.datasets import RankingDataset
from ltr.exceptions import LetorFormatError

__all__ = ["read_feature_file", "resolve_features", "select_features", "take_columns"]


def read_feature_file(path: str | os.PathLike) -> list[int]:
    """Read a RankLib feature file: one 1-based feature id per line; blank lines and ``#`` comments are skipped.

    Raises
    ------
    LetorFormatError
        A line that is not a positive integer (naming the path, line and token), or no id at all.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "features.txt")
    >>> _ = open(p, "w").write("1\\n# BM25 fields\\n5\\n\\n7  # title\\n")
    >>> read_feature_file(p)
    [1, 5, 7]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"feature file not found: {path}")
    ids: list[int] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                fid = int(text)
            except ValueError:
                raise LetorFormatError("a feature file has one integer feature id per line", str(path), lineno,
                                       text) from None
            if fid < 1:
                raise LetorFormatError("feature ids are 1-based (LETOR ids)", str(path), lineno, text)
            ids.append(fid)
    if not ids:
        raise LetorFormatError("the feature file lists no feature id", str(path))
    return ids


def resolve_features(features: Sequence[int | str] | str | os.PathLike, n_features: int,
                     names: Sequence[str] | None = None) -> NDArray[np.intp]:
    """Column indices (0-based) for 1-based ids, names, or a RankLib feature file's path.

    A string that is a feature name resolves to that feature; a digit string to its id; a path to an existing file
    to the ids it lists.

    Raises
    ------
    ValueError
        An id outside ``1..n_features``, an unknown name (the message lists a few known ones), or a repeat.

    Examples
    --------
    >>> resolve_features([3, "bm25"], 4, ["tf", "idf", "len", "bm25"]).tolist()
    [2, 3]
    """
    if isinstance(features, (str, os.PathLike)):
        if isinstance(features, str) and names is not None and features in names:
            features = [features]
        else:
            features = read_feature_file(features)
    lookup = {n: i for i, n in enumerate(names)} if names is not None else {}
    cols: list[int] = []
    for f in features:
        if isinstance(f, str) and f in lookup:
            cols.append(lookup[f])
            continue
        if isinstance(f, str) and not f.strip().isdigit():
            known = list(lookup)[:8] if lookup else []
            hint = f"; known names include {known}" if known else " (the data has no feature names: use ids)"
            raise ValueError(f"unknown feature name {f!r}{hint}")
        if isinstance(f, (bool, np.bool_)) or not isinstance(f, (int, np.integer, str)):
            raise TypeError(f"features are 1-based ids or names, got {f!r}")
        fid = int(f)
        if not 1 <= fid <= n_features:
            raise ValueError(f"feature id {fid} is outside 1..{n_features} (ids are 1-based, as in LETOR files)")
        cols.append(fid - 1)
    if not cols:
        raise ValueError("the feature subset is empty")
    if len(set(cols)) != len(cols):
        dup = next(c for c in cols if cols.count(c) > 1)
        raise ValueError(f"feature id {dup + 1} is listed twice")
    return np.asarray(cols, dtype=np.intp)


def take_columns(data: RankingDataset, columns: NDArray[np.intp]) -> RankingDataset:
    """The dataset restricted to ``columns`` (0-based), with their names (LETOR ids as names when it had none)."""
    names = data.feature_names if data.feature_names is not None else tuple(str(j + 1) for j in
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
