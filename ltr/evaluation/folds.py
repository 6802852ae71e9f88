"""Folds of whole queries: LETOR fold directories, query-grouped K folds, and the parts they are read from.

Two sources of folds:

- :func:`letor_folds`: the standard LETOR layout ``ROOT/Fold1..FoldK/{train,vali,test}.txt`` (each also ``.gz``),
  as shipped with LETOR 3.0/4.0, MSLR-WEB and Istella;
- :func:`query_kfold`: one dataset cut into K folds of whole queries (a query is never split). Fold ``i`` tests
  on part ``i``, validates on part ``i + 1`` (mod K) and trains on the rest, LETOR's rotation.

:func:`make_folds` picks the source from what it is given; :func:`load_part` reads a fold's part when it is a path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ltr.datasets import RankingDataset, dataset_summary

__all__ = ["Fold", "letor_folds", "load_part", "make_folds", "pad_features", "query_kfold"]

_FOLD_RE = re.compile(r"^fold(\d+)$", re.IGNORECASE)
_PARTS = ("train", "vali", "test")


@dataclass(frozen=True)
class Fold:
    """One train / validation / test split; each part a dataset or a LETOR file path (read when needed).

    Attributes
    ----------
    name : str
    train, test : RankingDataset or Path
    vali : RankingDataset, Path or None
    """

    name: str
    train: RankingDataset | Path
    vali: RankingDataset | Path | None
    test: RankingDataset | Path


#: Other spellings of each part: LETOR 3.0's trainingset / validationset / testset.txt (OHSUMED, the Gov sets).
_SPELLINGS = {"train": ["trainingset"], "vali": ["valid", "validation", "validationset"], "test": ["testset"]}


def _compressed() -> tuple[str, ...]:
    from ltr.io.files import COMPRESSED_SUFFIXES  # here: importing ltr.io loads Numba, ltr.evaluation does not

    return COMPRESSED_SUFFIXES


def _find_part(folder: Path, part: str) -> Path | None:
    found = _part_copies(folder, part)
    return found[0] if found else None


def _missing_part(folder: Path, part: str, any_: str) -> str:
    """A missing part as the layout's error names it, ``Fold2/test.txt[.gz|.bz2|.xz]``, and a folder of one of its
    names that stands in its place (``Fold2/test.txt is a folder, not a file``: it was called missing; trial t65)."""
    said = f"{folder.name}/{part}.txt{any_}"
    folders = [f"{stem}{ext}" for stem in [part, *_SPELLINGS[part]]
               for ext in (".txt", *(".txt" + c for c in _compressed())) if (folder / f"{stem}{ext}").is_dir()]
    return f"{said} ({folder.name}/{folders[0]} is a folder, not a file)" if folders else said


def _part_copies(folder: Path, part: str) -> list[Path]:
    """Every file of ``folder`` that spells ``part``, in the order they are preferred (uncompressed first)."""
    return [folder / f"{stem}{ext}" for stem in [part, *_SPELLINGS[part]]
            for ext in (".txt", *(".txt" + c for c in _compressed())) if (folder / f"{stem}{ext}").is_file()]


def _say_copies(root: Path, folds: list[Fold]) -> None:
    """Warn when a part has two copies in its fold's folder (a kept original beside its compressed copy, as
    ``gunzip -k`` leaves them, a ``vali.txt`` beside a ``validation.txt``, or a stale file beside a regenerated one):
    the first is read, silently otherwise."""
    twice = [c for f in folds for part in _PARTS if len(c := _part_copies(root / f.name, part)) > 1]
    if twice:
        import warnings

        def rel(p: Path) -> str:
            return p.relative_to(root).as_posix()

        shown = "; ".join(f"{rel(c[0])} read, beside {' and '.join(rel(p) for p in c[1:])}" for c in twice[:3])
        more = f"; {len(twice) - 3} more part(s) so" if len(twice) > 3 else ""
        warnings.warn(f"{root}: parts kept in more than one copy, each read from the first named ({shown}{more}); "
                      "the result records each part's file", UserWarning, stacklevel=3)


def _say_gaps(root: Path, folds: list[Fold]) -> None:
    """Warn when the fold numbers are not 1..K: a copy unpacked in part (Fold3 missing) cross-validated over the
    folds there, its mean over fewer folds unsaid (trial t62)."""
    numbers = [int(_FOLD_RE.match(f.name).group(1)) for f in folds]  # (letor_folds found them so)
    lacking = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
    if lacking:
        import warnings

        shown = ", ".join(f"Fold{k}" for k in lacking[:5]) + (", ..." if len(lacking) > 5 else "")
        warnings.warn(f"{root}: no {shown} beside {', '.join(f.name for f in folds)} (a copy unpacked in part?): "
                      f"cross-validating the {len(folds)} fold(s) there", UserWarning, stacklevel=3)


def letor_folds(root: str | os.PathLike) -> list[Fold]:
    """The folds of a LETOR directory ``ROOT/Fold1..FoldK/{train,vali,test}.txt`` (each also compressed:
    ``.txt.gz``, ``.txt.bz2``, ``.txt.xz``).

    ``vali`` may also be spelled ``valid`` or ``validation``, and LETOR 3.0's names ``trainingset``,
    ``validationset`` and ``testset`` are read too; ``vali`` may be absent from every fold (then nothing stops
    early), but not from some folds only. Files are read later, by :func:`cross_validate`.

    Raises
    ------
    FileNotFoundError
        ``root`` is not a directory, has no ``Fold<i>`` sub-directory, or a fold lacks a file (the message lists
        every missing file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for i in (1, 2):
    ...     (root / f"Fold{i}").mkdir()
    ...     for part in ("train.txt", "vali.txt", "test.txt.gz"):
    ...         (root / f"Fold{i}" / part).touch()
    >>> [(f.name, f.train.name, f.test.name) for f in letor_folds(root)]
    [('Fold1', 'train.txt', 'test.txt.gz'), ('Fold2', 'train.txt', 'test.txt.gz')]
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"fold directory not found: {root}")
    dirs = sorted(((int(m.group(1)), p) for p in root.iterdir() if p.is_dir() and (m := _FOLD_RE.match(p.name))),
                  key=lambda t: t[0])
    if not dirs:
        raise FileNotFoundError(f"{root} has no Fold1..FoldK sub-directories (the LETOR layout "
                                "Fold1/{train,vali,test}.txt)")
    found = {p.name: {part: _find_part(p, part) for part in _PARTS} for _, p in dirs}
    any_ = f"[{'|'.join(_compressed())}]"  # train.txt[.gz|.bz2|.xz]
    missing = [_missing_part(root / name, part, any_) for name, parts in found.items() for part in ("train", "test")
               if parts[part] is None]
    with_vali = [name for name, parts in found.items() if parts["vali"] is not None]
    if with_vali and len(with_vali) != len(found):
        missing += [_missing_part(root / name, "vali", any_) for name in found if name not in with_vali]
    if missing:
        raise FileNotFoundError(f"{root}: incomplete LETOR fold layout, missing {', '.join(missing)}")
    return [Fold(name, parts["train"], parts["vali"], parts["test"]) for name, parts in found.items()]


def query_kfold(data: RankingDataset, n_splits: int = 5, *, validation: bool = True, shuffle: bool = True,
                random_state: int | None = 0) -> list[Fold]:
    """K folds of whole queries from one dataset (scikit-learn's ``KFold`` over query positions).

    Fold ``i`` tests on part ``i``; with ``validation=True`` it validates on part ``(i + 1) % K`` and trains on
    the other ``K - 2`` parts (LETOR's rotation), else trains on ``K - 1`` parts. Queries keep their row order
    inside each part.

    Examples
    --------
    >>> from ltr import make_ranking
    >>> folds = query_kfold(make_ranking(10, 3, 2, random_state=0), 5)
    >>> [(f.train.n_queries, f.vali.n_queries, f.test.n_queries) for f in folds][:2]
    [(6, 2, 2), (6, 2, 2)]
    """
    from sklearn.model_selection import KFold

    if not isinstance(data, RankingDataset):
        raise TypeError(f"query_kfold needs a RankingDataset, got {type(data).__name__}")
    k_min = 3 if validation else 2
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < k_min:
        raise ValueError(f"n_splits must be an integer >= {k_min} (with validation={validation}), got {n_splits!r}")
    if data.n_queries < n_splits:
        raise ValueError(f"cannot cut {data.n_queries} queries into {n_splits} folds of whole queries")
    if shuffle and isinstance(random_state, (int, np.integer)) and not 0 <= random_state <= 2**32 - 1:
        # scikit-learn's own message ("Seed must be between 0 and 2**32 - 1") names no argument
        raise ValueError(f"random_state must be None or an integer between 0 and 2**32 - 1, got {random_state!r}")
    kf = KFold(n_splits, shuffle=shuffle, random_state=random_state if shuffle else None)
    parts = [np.sort(test) for _, test in kf.split(np.arange(data.n_queries))]
    folds = []
    for i in range(n_splits):
        v = (i + 1) % n_splits if validation else None
        train = np.sort(np.concatenate([parts[j] for j in range(n_splits) if j != i and j != v]))
        folds.append(Fold(f"Fold{i + 1}", data.subset(train), data.subset(parts[v]) if validation else None,
                          data.subset(parts[i])))
    return folds


def _cut(d: RankingDataset, n_splits, validation, random_state) -> tuple[list[Fold], bool]:
    """:func:`query_kfold` with ``validation`` a bool or a callable deciding from the training queries per fold."""
    if not callable(validation):
        return query_kfold(d, n_splits, validation=validation, random_state=random_state), bool(validation)
    if isinstance(n_splits, (int, np.integer)) and not isinstance(n_splits, bool) and n_splits >= 3 \
            and d.n_queries >= n_splits:
        held = query_kfold(d, n_splits, validation=True, random_state=random_state)
        if validation(min(f.train.n_queries for f in held)):
            return held, True
    return query_kfold(d, n_splits, validation=False, random_state=random_state), False


def make_folds(data: RankingDataset | str | os.PathLike | Sequence[Fold], n_splits: int = 5, *,
               random_state: int | None = 0, validation: bool | Callable[[int], bool] = True,
               read_options: Mapping[str, Any] | None = None) -> tuple[list[Fold], dict, list[dict]]:
    """The folds of ``data``, how they were made, and summaries of the data they were cut from.

    ``data`` is ready folds (returned as they are), a :class:`~ltr.RankingDataset` or a LETOR file (cut by
    :func:`query_kfold`), or a LETOR fold directory (:func:`letor_folds`). Returns ``(folds, source, datasets)``:
    ``source`` records how the folds were made (for result files), ``datasets`` holds
    :func:`ltr.datasets.dataset_summary` of a single dataset (empty for a fold directory). ``read_options`` go to
    :func:`ltr.io.read_letor` for a single file (a fold directory's files are read later, by :func:`load_part`).
    For a single dataset, ``validation`` may be a callable: given the training queries of each fold with a
    validation part held out (the fewest over the folds), it says whether to hold one out (``source`` records the
    answer as ``"validation"``).

    Examples
    --------
    >>> from ltr import make_ranking
    >>> folds, source, _ = make_folds(make_ranking(12, 3, 2, random_state=0), 3)
    >>> len(folds), source["source"]
    (3, 'query_kfold')
    """
    if isinstance(data, (list, tuple)) and all(isinstance(f, Fold) for f in data):
        return list(data), {"source": "folds"}, []
    if isinstance(data, RankingDataset):
        folds, held = _cut(data, n_splits, validation, random_state)
        return (folds, {"source": "query_kfold", "n_splits": n_splits, "random_state": random_state,
                        "validation": held}, [dataset_summary(data)])
    if not isinstance(data, (str, os.PathLike)):  # arrays or an (X, y, qid) tuple: Path() failed in its own words
        raise TypeError(f"data must be a RankingDataset, a LETOR file or fold directory, or a list of Fold, got "
                        f"{type(data).__name__}: wrap arrays as ltr.RankingDataset(X, y, qid, group_ptr)")
    path = Path(data)
    if path.is_dir():
        folds = letor_folds(path)
        _say_copies(path, folds)
        _say_gaps(path, folds)
        files = {f.name: {part: None if at is None else str(Path(at).relative_to(path)) for part, at in
                          (("train", f.train), ("vali", f.vali), ("test", f.test))} for f in folds}
        return folds, {"source": "letor_folds", "root": str(path), "files": files}, []
    if path.is_file():
        from ltr.io import read_letor

        d = read_letor(path, **dict(read_options or {}))
        folds, held = _cut(d, n_splits, validation, random_state)
        return (folds, {"source": "query_kfold", "file": str(path), "n_splits": n_splits,
                        "random_state": random_state, "validation": held}, [dataset_summary(d, path.name)])
    if path.exists():  # a pipe (<(...)), a FIFO, a device: there, but it was said not to be
        raise ValueError(f"{path}: not a regular file (a pipe?): cross-validation reads its data from a file or a "
                         "fold folder; write the data to a file first")
    raise FileNotFoundError(f"no such file or fold directory: {path}")


def load_part(part: RankingDataset | str | os.PathLike | None, n_features: int | None = None,
              **read_options) -> RankingDataset | None:
    """A fold's part as a dataset: read a LETOR path (``read_options`` go to :func:`ltr.io.read_letor`), widen a
    dataset to ``n_features`` columns (absent trailing features are 0, as in LETOR files); None stays None."""
    if part is None or isinstance(part, RankingDataset):
        return pad_features(part, n_features) if part is not None else None
    from ltr.io import read_letor

    return read_letor(part, n_features=n_features, **read_options)


def pad_features(d: RankingDataset, n_features: int | None) -> RankingDataset:
    """``d`` widened to ``n_features`` columns of zeros (a LETOR file that lists no trailing feature)."""
    if n_features is None or d.n_features == n_features:
        return d
    if d.n_features > n_features:
        raise ValueError(f"a fold has {d.n_features} features but the first training set has {n_features}")
    extra = n_features - d.n_features
    X = sp.hstack([d.X, sp.csr_matrix((d.n_rows, extra), dtype=np.float32)], format="csr") if sp.issparse(d.X) \
        else np.hstack([d.X, np.zeros((d.n_rows, extra), dtype=np.float32)])
    names = None if d.feature_names is None else (*d.feature_names, *[f"f{j}" for j in
                                                                      range(d.n_features + 1, n_features + 1)])
    return replace(d, X=X, feature_names=names)


