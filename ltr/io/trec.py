"""TREC run and qrels files.

- run: ``qid Q0 docno rank score tag``, one retrieved document a line, whitespace-separated;
- qrels: ``qid iter docno rel``, one judgment a line (``iter`` is ignored by trec_eval, usually ``0``).

Both are read into pandas DataFrames with string ``qid``/``docno`` columns (TREC ids are strings: ``"01"`` and
``"1"`` are different queries), which is the form :func:`ltr.metrics.evaluate_run` takes.

The fast path is pandas' C reader; only when a file is malformed is it rescanned line by line, so the error can
name the line and the token.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ltr.exceptions import TrecFormatError
from ltr.groups import group_ptr_from_qid
from ltr.io._atomic import atomic_write

__all__ = ["read_qrels", "read_run", "run_from_scores", "write_qrels", "write_run"]

RUN_COLUMNS = ("qid", "q0", "docno", "rank", "score", "tag")
QRELS_COLUMNS = ("qid", "iter", "docno", "rel")


def _open_text(path: Path):
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _scan_for_error(path: Path, n_cols: int, kinds: dict[int, str], what: str) -> TrecFormatError:
    """Rescan a file that pandas rejected and describe its first bad line."""
    try:
        with _open_text(path) as f:
            for lineno, line in enumerate(f, 1):
                toks = line.split()
                if not toks:
                    continue
                if len(toks) != n_cols:
                    return TrecFormatError(
                        f"expected {n_cols} whitespace-separated columns in a {what} line, got {len(toks)}",
                        str(path), lineno, line.rstrip("\r\n"),
                    )
                for col, kind in kinds.items():
                    tok = toks[col]
                    try:
                        value = float(tok) if kind == "float" else int(tok)
                    except ValueError:
                        expected = "a number" if kind == "float" else "an integer"
                        return TrecFormatError(f"column {col + 1} must be {expected}", str(path), lineno, tok)
                    if kind == "float" and not np.isfinite(value):
                        return TrecFormatError(f"column {col + 1} must be finite", str(path), lineno, tok)
    except UnicodeDecodeError as e:
        return TrecFormatError(f"not UTF-8 text (byte offset {e.start} of the decoded chunk)", str(path))
    return TrecFormatError(f"could not parse this {what} file", str(path))


def _read_table(path: str | os.PathLike, columns: tuple[str, ...], kinds: dict[int, str], what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file not found: {path}")
    try:
        df = pd.read_csv(
            path, sep=r"\s+", header=None, names=list(columns), dtype=str, engine="c",
            compression="infer" if not path.name.endswith(".gz") else "gzip", comment=None,
            keep_default_na=False, na_filter=False, encoding="utf-8",
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise _scan_for_error(path, len(columns), kinds, what) from e
    except pd.errors.EmptyDataError:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns})
    if df.shape[1] != len(columns) or (len(df) and (df.iloc[:, -1] == "").any()):
        raise _scan_for_error(path, len(columns), kinds, what)
    for col, kind in kinds.items():
        name = columns[col]
        if kind == "int":
            bad = ~df[name].str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
            converted = df[name]
        else:
            converted = pd.to_numeric(df[name], errors="coerce")
            bad = ~np.isfinite(converted.to_numpy(dtype=np.float64, na_value=np.nan))
        if bad.any():
            raise _scan_for_error(path, len(columns), kinds, what)
        df[name] = converted.astype(np.int64 if kind == "int" else np.float64)
    return df


def read_run(path: str | os.PathLike) -> pd.DataFrame:
    """Read a TREC run file.

    Returns
    -------
    DataFrame with columns ``qid`` (str), ``q0`` (str), ``docno`` (str), ``rank`` (int64), ``score`` (float64),
    ``tag`` (str), in file order.

    Raises
    ------
    TrecFormatError
        Naming the path, line and token of the first malformed line.
    """
    return _read_table(path, RUN_COLUMNS, {3: "int", 4: "float"}, "run")


def read_qrels(path: str | os.PathLike) -> pd.DataFrame:
    """Read a TREC qrels file.

    Returns
    -------
    DataFrame with columns ``qid`` (str), ``iter`` (str), ``docno`` (str), ``rel`` (int64), in file order.
    Duplicate (qid, docno) pairs are an error, since trec_eval would silently keep one of them.
    """
    df = _read_table(path, QRELS_COLUMNS, {3: "int"}, "qrels")
    dup = df.duplicated(["qid", "docno"], keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise TrecFormatError(
            f"document {df.docno.iat[i]!r} is judged twice for query {df.qid.iat[i]!r}", str(path), None, None
        )
    return df


def _check_columns(df: pd.DataFrame, required: tuple[str, ...], what: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing columns {missing}; it has {list(df.columns)}")


def write_run(path: str | os.PathLike, run: pd.DataFrame, *, tag: str | None = None) -> None:
    """Write a run atomically as ``qid Q0 docno rank score tag`` lines, in the frame's row order.

    ``run`` needs ``qid``, ``docno``, ``rank`` and ``score`` columns; ``tag`` comes from the argument, else the
    frame's ``tag`` column, else ``"ltrkit"``. Scores are written with ``repr`` precision so they read back
    exactly.
    """
    _check_columns(run, ("qid", "docno", "rank", "score"), "run")
    tags = [tag] * len(run) if tag is not None else (run["tag"] if "tag" in run else ["ltrkit"] * len(run))
    for name, col in (("qid", run["qid"]), ("docno", run["docno"]), ("tag", pd.Series(tags, dtype=str))):
        if col.astype(str).str.contains(r"\s", regex=True).any() or (col.astype(str) == "").any():
            raise ValueError(
                f"run column {name!r} has an empty value or one with whitespace, which TREC files cannot hold"
            )
    with atomic_write(path) as f:
        for q, d, r, s, t in zip(run["qid"].astype(str), run["docno"].astype(str), run["rank"], run["score"], tags):
            f.write(f"{q} Q0 {d} {int(r)} {float(s)!r} {t}\n")


def write_qrels(path: str | os.PathLike, qrels: pd.DataFrame) -> None:
    """Write qrels atomically as ``qid 0 docno rel`` lines, in the frame's row order."""
    _check_columns(qrels, ("qid", "docno", "rel"), "qrels")
    with atomic_write(path) as f:
        for q, d, r in zip(qrels["qid"].astype(str), qrels["docno"].astype(str), qrels["rel"]):
            f.write(f"{q} 0 {d} {int(r)}\n")


def run_from_scores(
    qid: ArrayLike, docno: ArrayLike, score: ArrayLike, *, tag: str = "ltrkit", k: int | None = None
) -> pd.DataFrame:
    """Build a run from per-row scores: within each query, rank by score descending (ties keep input order).

    Parameters
    ----------
    qid, docno, score : array-like of shape (n_rows,)
        Rows of one query must be contiguous.
    k : int, optional
        Keep only the top ``k`` of each query.

    Examples
    --------
    >>> run_from_scores(["1", "1", "2"], ["a", "b", "c"], [0.1, 0.9, 0.5])[["qid", "docno", "rank"]].values.tolist()
    [['1', 'b', 1], ['1', 'a', 2], ['2', 'c', 1]]
    """
    qid = np.asarray(qid).astype(str)
    docno = np.asarray(docno).astype(str)
    score = np.asarray(score, dtype=np.float64)
    if not (qid.shape == docno.shape == score.shape):
        raise ValueError(
            f"qid, docno and score must have the same length, got {qid.shape}, {docno.shape}, {score.shape}"
        )
    ptr, _ = group_ptr_from_qid(qid)
    sizes = np.diff(ptr)
    qidx = np.repeat(np.arange(sizes.size), sizes)
    # lexsort: last key is primary -> query position, then score descending, then input order (stable).
    order = np.lexsort((np.arange(score.size), -score, qidx))
    rank = np.arange(score.size) - np.repeat(ptr[:-1], sizes) + 1
    out = pd.DataFrame({"qid": qid[order], "q0": "Q0", "docno": docno[order], "rank": rank.astype(np.int64),
                        "score": score[order], "tag": tag})
    if k is not None:
        out = out[out["rank"] <= k].reset_index(drop=True)
    return out
