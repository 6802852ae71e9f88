"""Relevance judgments for the collections: :func:`ltr.io.read_qrels` (the one qrels reader, every layout the
classic and modern collections ship), re-exported with errors of the collection layer, plus :func:`check_qrels`.

The layouts, their detection and the Cranfield gain mapping are documented in :mod:`ltr.io.qrels`. Errors are
:class:`QrelsFormatError`, both a :class:`~features.errors.CollectionFormatError` (as every collection reader
raises) and a :class:`~ltr.exceptions.TrecFormatError` (as :func:`ltr.io.read_qrels` raises).
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from features.collections._base import normalise_numeric_id
from features.errors import CollectionFormatError
from ltr.exceptions import TrecFormatError
from ltr.io.qrels import CRANFIELD_GAINS, QRELS_FORMATS
from ltr.io.qrels import detect_qrels_format as _ltr_detect_qrels_format
from ltr.io.qrels import read_qrels as _ltr_read_qrels

__all__ = ["CRANFIELD_GAINS", "QRELS_FORMATS", "QrelsFormatError", "check_qrels", "detect_qrels_format",
           "read_qrels"]

log = logging.getLogger(__name__)


class QrelsFormatError(CollectionFormatError, TrecFormatError):
    """A relevance file could not be read (fields as :class:`ltr.exceptions.FileFormatError`)."""


def detect_qrels_format(path: str | Path, *, errors: str = "strict") -> str:
    """Guess the layout of a relevance file from its first lines: :func:`ltr.io.detect_qrels_format`."""
    try:
        return _ltr_detect_qrels_format(path, errors=errors)
    except TrecFormatError as e:
        raise e.recast(QrelsFormatError) from None
    except FileNotFoundError:
        raise QrelsFormatError("file not found", str(path)) from None


def read_qrels(
    path: str | Path,
    format: str = "auto",
    *,
    gains: Mapping[int, int] | None = None,
    errors: str = "strict",
) -> pd.DataFrame:
    """Read relevance judgments in any layout: :func:`ltr.io.read_qrels`, raising :class:`QrelsFormatError`.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "cranqrel")
    >>> _ = open(p, "w").write("1 184 2\\n1 486 -1\\n2 12 1\\n")
    >>> read_qrels(p).values.tolist()
    [['1', '184', 3], ['1', '486', 0], ['2', '12', 4]]
    """
    try:
        return _ltr_read_qrels(path, format, gains=gains, errors=errors)
    except TrecFormatError as e:
        raise e.recast(QrelsFormatError) from None
    except FileNotFoundError:
        raise QrelsFormatError("file not found", str(path)) from None


def check_qrels(
    qrels: pd.DataFrame,
    qids: Iterable[str],
    doc_ids: Iterable[str] | None = None,
    *,
    on_unknown: str = "warn",
    what: str = "qrels",
    path: str | Path | None = None,
) -> pd.DataFrame:
    """Drop (with a warning giving counts) or reject rows naming unknown queries or documents.

    Parameters
    ----------
    qrels : DataFrame with ``qid`` and ``docno`` columns (a run works too)
    qids, doc_ids : the known ids (``doc_ids=None`` skips the document check)
    on_unknown : {"warn", "error", "ignore"}
        ``"error"`` raises a :class:`~features.errors.CollectionFormatError` whose fix is ``on_unknown='warn'``
        (``--on-unknown warn`` in its :meth:`~ltr.exceptions.FileFormatError.cli_message`).
    what : str
        Name used in messages ("qrels", "run").
    path : str or Path, optional
        The file the rows were read from (default: ``qrels.attrs["path"]`` when the frame carries one), named by
        the messages with the line of the first unknown row when a line of the file holds it as whitespace-separated
        ``qid ... docno`` columns (TREC qrels and runs, BEIR's and headerless TSV), and, where rows of both kinds
        are, each example (an unknown query id, an unknown document id) with its own line.

    Examples
    --------
    >>> df = pd.DataFrame({"qid": ["1", "9"], "docno": ["a", "a"], "rel": [1, 1]})
    >>> check_qrels(df, ["1"], ["a"], on_unknown="ignore").qid.tolist()
    ['1']
    """
    if on_unknown not in ("warn", "error", "ignore"):
        raise ValueError(f"on_unknown must be 'warn', 'error' or 'ignore', got {on_unknown!r}")
    known_q = set(qids)
    bad_q = ~qrels["qid"].isin(known_q).to_numpy()
    bad_d = np.zeros(len(qrels), dtype=bool) if doc_ids is None else ~qrels["docno"].isin(set(doc_ids)).to_numpy()
    if not (bad_q.any() or bad_d.any()):
        return qrels
    bad = bad_q | bad_d
    if on_unknown == "ignore":
        return qrels[~bad].reset_index(drop=True)
    path = path if path is not None else qrels.attrs.get("path")
    # Rows of both kinds: each example with its own line, as the one line the message starts with holds only one
    # of them (trial t62)
    at_q = at_d = ""
    if bad_q.any() and bad_d.any() and path is not None:
        at_q, at_d = (_example_line(path, qrels[b]) for b in (bad_q, bad_d))
    msg = (
        f"{what}: {int(bad_q.sum())} row(s) over {qrels.qid[bad_q].nunique()} unknown query id(s) "
        f"(e.g. {qrels.qid[bad_q].iloc[0]!r}{at_q})" if bad_q.any() else f"{what}: 0 rows with unknown query ids"
    )
    if bad_d.any():
        msg += (
            f", {int(bad_d.sum())} row(s) over {qrels.docno[bad_d].nunique()} unknown document id(s) "
            f"(e.g. {qrels.docno[bad_d].iloc[0]!r}{at_d})"
        )
        msg += _padded_note(qrels.docno[bad_d], set(doc_ids))
    line, token = _first_line(path, set(zip(qrels["qid"][bad].astype(str), qrels["docno"][bad].astype(str))))
    if on_unknown == "error":
        raise CollectionFormatError(msg, None if path is None else str(path), line, token, fix={"on_unknown": "warn"},
                                    hint="to drop them")
    where = "" if path is None else f"{path}:{line}: " if line is not None else f"{path}: "
    log.warning("%s%s; left out%s", where, msg, " of the labels" if what == "qrels" else "")
    return qrels[~bad].reset_index(drop=True)


def _padded_note(unknown: pd.Series, known: set[str]) -> str:
    """Where unknown document ids are known without their leading zeros ('001', read as SMART reads ``.I 001``:
    '1'), a sentence saying so; else ''."""
    ids = pd.unique(unknown.astype(str))
    padded = [d for d in ids if d != normalise_numeric_id(d) and normalise_numeric_id(d) in known]
    if not padded:
        return ""
    return (f"; {len(padded)} of them are the collection's ids with leading zeros (e.g. {padded[0]!r}, read as "
            f"{normalise_numeric_id(padded[0])!r}: SMART files' '.I' ids are read as numbers): write them without")


def _example_line(path: str | Path, rows: pd.DataFrame) -> str:
    """``", line N"``, the line of ``path`` that holds the first of ``rows`` (its query and document id, as
    :func:`_first_line` finds it), or '' when no line does."""
    line, _ = _first_line(path, {(str(rows["qid"].iloc[0]), str(rows["docno"].iloc[0]))})
    return "" if line is None else f", line {line}"


def _first_line(path: str | Path | None, pairs: set[tuple[str, str]]) -> tuple[int | None, str | None]:
    """The first line of ``path`` (and its text) that holds one of ``pairs`` as its query and document id, in the
    layout its number of columns gives (``qid docno rel``, ``qid 0 docno rel``, a run's ``qid Q0 docno rank score
    tag``), lines and fields split as trec_eval splits them; ``(None, None)`` when there is no such line or no
    readable file."""
    import re

    if path is None or not pairs:
        return None, None
    try:  # read again only to find the line (decoding problems were reported when the file was read)
        data = Path(path).read_bytes()
        text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8", "replace")
    except (OSError, EOFError, gzip.BadGzipFile):
        return None, None
    for lineno, line in enumerate(text.split("\n"), start=1):
        toks = [t for t in re.split(r"[ \t\v\f\r]+", line) if t]
        if len(toks) >= 3 and (toks[0], toks[1 if len(toks) == 3 else 2]) in pairs:
            return lineno, line.strip()
    return None, None
