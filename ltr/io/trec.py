"""TREC run and topic files (judgments: :mod:`ltr.io.qrels`, re-exported here).

- run: ``qid Q0 docno rank score tag``, one retrieved document a line, whitespace-separated;
- topics: ``<top> <num> Number: Q <title> text </top>`` records, or ``qid<TAB>text`` lines.

Runs are read into pandas DataFrames with string ``qid``/``docno`` columns (TREC ids are strings: ``"01"`` and
``"1"`` are different queries), which is the form :func:`ltr.metrics.evaluate_run` takes. Files are plain or gzip,
recognised by their first two bytes whatever the name.

The fast path is pandas' C reader; only when a file is malformed is it rescanned line by line, so the error can
name the line and the token.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ltr.exceptions import TrecFormatError
from ltr.groups import group_ptr_from_qid
from ltr.io.files import read_bytes, refuse_utf16
from ltr.io.outputs import atomic_write
from ltr.io.qrels import read_qrels, write_qrels

__all__ = ["read_qrels", "read_run", "run_from_scores", "write_qrels", "write_run", "write_topics"]

RUN_COLUMNS = ("qid", "q0", "docno", "rank", "score", "tag")
TOPIC_FORMATS = ("trec", "tsv")
_TOPIC_TAG = re.compile(r"<\s*/?\s*(top|num|title|desc|narr)\b", re.IGNORECASE)


def _scan_for_error(data: bytes, path: Path, n_cols: int, kinds: dict[int, str], what: str) -> TrecFormatError:
    """Rescan a file's bytes that pandas rejected and describe its first bad line."""
    try:
        with io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="") as f:
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
    # Read once (decompressed when gzip): a pipe (/dev/stdin, <(...)) cannot be opened twice.
    data = read_bytes(path, error=TrecFormatError, what=f"{what} file")
    refuse_utf16(data, path, TrecFormatError)
    try:
        df = pd.read_csv(
            io.BytesIO(data), sep=r"\s+", header=None, names=list(columns), dtype=str, engine="c", comment=None,
            keep_default_na=False, na_filter=False, encoding="utf-8",
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise _scan_for_error(data, path, len(columns), kinds, what) from e
    except pd.errors.EmptyDataError:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns})
    if df.shape[1] != len(columns) or (len(df) and (df.iloc[:, -1] == "").any()):
        raise _scan_for_error(data, path, len(columns), kinds, what)
    for col, kind in kinds.items():
        name = columns[col]
        if kind == "int":
            bad = ~df[name].str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
            converted = df[name]
        else:
            converted = pd.to_numeric(df[name], errors="coerce")
            bad = ~np.isfinite(converted.to_numpy(dtype=np.float64, na_value=np.nan))
        if bad.any():
            raise _scan_for_error(data, path, len(columns), kinds, what)
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
    ptr, _ = group_ptr_from_qid(qid, hint="list each query's rows together (sort them by query id first)")
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


def write_topics(path: str | os.PathLike, queries: Mapping[str, str], format: str = "trec") -> Path:
    """Write query texts atomically as TREC topics or as ``qid<TAB>text`` lines, in the mapping's order.

    Parameters
    ----------
    path : str or PathLike
        ``"-"`` is standard output; a ``.gz`` path is gzip-compressed.
    queries : mapping of str -> str
        Query id -> text (e.g. ``dict(collection.queries.items())``).
    format : {"trec", "tsv"}, default="trec"
        ``trec``: one ``<top>`` record per query, the text as its ``<title>`` (the classic layout that
        ``trec_eval``-era tools, Terrier, Anserini and :func:`features.collections.read_trec_topics` read)::

            <top>
            <num> Number: 1
            <title> what similarity laws must be obeyed
            </top>

        ``tsv``: ``qid<TAB>text`` (MS MARCO's ``queries.tsv``).

        Either way a text is written on one line, its runs of whitespace (line breaks, tabs) collapsed to one
        space, as TREC readers join a field's lines.

    Raises
    ------
    ValueError
        An unknown format; an empty query id or one with whitespace; an empty text; a text holding a topic tag
        (``<top>``, ``</title>``, ...), which would end the record early.

    Examples
    --------
    >>> import os, tempfile
    >>> p = write_topics(os.path.join(tempfile.mkdtemp(), "q.tsv"), {"1": "wing  flutter", "2": "heat"}, "tsv")
    >>> p.read_text()
    '1\\twing flutter\\n2\\theat\\n'
    """
    if format not in TOPIC_FORMATS:
        raise ValueError(f"format must be one of {TOPIC_FORMATS}, got {format!r}")
    if not isinstance(queries, Mapping):
        raise TypeError(f"queries must be a mapping of query id -> text, got {type(queries).__name__}")
    out = []
    for qid, text in queries.items():
        q = str(qid)
        if not q or any(ch.isspace() for ch in q):
            raise ValueError(f"query id {q!r} is empty or has whitespace, which topic files cannot hold")
        if not isinstance(text, str):
            raise TypeError(f"the text of query {q!r} must be a str, got {type(text).__name__}")
        one_line = " ".join(text.split())
        if not one_line:
            raise ValueError(f"the text of query {q!r} is empty")
        if format == "trec":
            m = _TOPIC_TAG.search(one_line)
            if m:
                raise ValueError(f"the text of query {q!r} holds the topic tag {m.group(0)!r}, which would end its "
                                 "record early; write format='tsv' or remove it")
            out.append(f"<top>\n<num> Number: {q}\n<title> {one_line}\n</top>\n\n")
        else:
            out.append(f"{q}\t{one_line}\n")
    with atomic_write(path) as f:
        f.write("".join(out))
    return Path(path)
