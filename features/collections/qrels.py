"""Relevance judgments in the layouts the classic and modern collections ship, read to one DataFrame.

Every reader returns a DataFrame with columns ``qid`` (str), ``docno`` (str) and ``rel`` (int64), the columns
:func:`ltr.metrics.evaluate_run` and :mod:`ltr.io.trec` use.

==============  ==============================  =========================================================
format          line                            used by
==============  ==============================  =========================================================
``trec``        ``qid iter docno rel``          TREC, NPL/Vaswani, NFCorpus (``iter`` ignored)
``smart``       ``qid docno`` [``0 0.0``]       ADI (``ADI.REL``), CACM (``qrels.text``): all relevant, rel 1
``cranfield``   ``query_position docno code``   Cranfield ``cranqrel``: codes mapped to gains, see below
``qdr``         ``qid docno rel``               generic three-column files
``beir``        ``query-id<TAB>corpus-id<TAB>score`` with a header line   BEIR ``qrels/*.tsv``
==============  ==============================  =========================================================

Cranfield gains. ``cranqrel.readme`` quotes Cleverdon's scale: 1 = complete answer, 2 = high degree of relevance,
3 = useful background, 4 = minimum interest, 5 = no interest (none listed); each query also has one line with code
-1. Here **gain = 5 - code** for codes 1..4 (so 4 = complete answer ... 1 = minimum interest, higher is better as
trec_eval and NDCG expect) and codes -1 and 5 become 0 (judged, not relevant). Pass ``gains=`` to choose another
mapping (e.g. ``{1: 1, 2: 1, 3: 1, 4: 0, -1: 0}`` for "relevant = codes 1-3").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from features.collections._base import iter_lines, normalise_numeric_id, read_text
from features.errors import CollectionFormatError

__all__ = ["CRANFIELD_GAINS", "QRELS_FORMATS", "check_qrels", "detect_qrels_format", "read_qrels"]

log = logging.getLogger(__name__)

QRELS_FORMATS = ("trec", "smart", "cranfield", "qdr", "beir")

#: Cranfield relevance code -> gain (documented in the module docstring).
CRANFIELD_GAINS: dict[int, int] = {1: 4, 2: 3, 3: 2, 4: 1, 5: 0, -1: 0}

_INT = re.compile(r"[+-]?\d+")


def _rows(path: str | Path, errors: str) -> list[tuple[int, list[str]]]:
    return [(n, line.split()) for n, line in iter_lines(read_text(path, errors=errors)) if line.strip()]


def detect_qrels_format(path: str | Path, *, errors: str = "strict") -> str:
    """Guess the layout of a relevance file from its first lines (see the module table).

    Four columns are ``trec`` when the second column is always ``0``/``Q0`` and ``smart`` when the third is
    always ``0``; three columns are ``cranfield`` when the file name starts with ``cran``, else ``qdr``.
    """
    rows = _rows(path, errors)[:200]
    if not rows:
        raise CollectionFormatError("empty relevance file", str(path))
    first = rows[0][1]
    if first[:2] == ["query-id", "corpus-id"]:
        return "beir"
    widths = {len(r) for _, r in rows}
    if widths == {2}:
        return "smart"
    if widths == {3}:
        return "cranfield" if Path(path).name.lower().startswith("cran") else "qdr"
    if widths == {4}:
        if all(r[1] in ("0", "Q0") for _, r in rows):
            return "trec"
        if all(r[2] == "0" for _, r in rows):
            return "smart"
    n, r = next((n, r) for n, r in rows if len(r) != len(first)) if len(widths) > 1 else rows[0]
    raise CollectionFormatError(
        f"cannot tell the relevance format (lines with {sorted(widths)} columns); pass format= one of "
        f"{QRELS_FORMATS}",
        str(path),
        n,
        token=" ".join(r),
    )


def _int(tok: str, path: str | Path, line: int, what: str) -> int:
    if not _INT.fullmatch(tok):
        raise CollectionFormatError(f"{what} must be an integer", str(path), line, token=tok)
    return int(tok)


def read_qrels(
    path: str | Path,
    format: str = "auto",
    *,
    gains: Mapping[int, int] | None = None,
    errors: str = "strict",
) -> pd.DataFrame:
    """Read relevance judgments in any layout of the module table.

    Parameters
    ----------
    path : str or Path
    format : {"auto", "trec", "smart", "cranfield", "qdr", "beir"}
    gains : dict of int -> int, optional
        Map raw relevance values to gains (default: identity, and :data:`CRANFIELD_GAINS` for ``cranfield``).
        A value missing from the map is an error.
    errors : {"strict", "replace"}

    Returns
    -------
    DataFrame with columns ``qid`` (str), ``docno`` (str), ``rel`` (int64), in file order. Numeric query ids of
    and document ids of the SMART and Cranfield layouts lose their zero padding (CACM's ``01`` -> ``"1"``,
    ``0756`` -> ``"756"``), as the ``.I`` ids of their collections do. A (qid, docno) pair judged twice is an
    error.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "cranqrel")
    >>> _ = open(p, "w").write("1 184 2\\n1 486 -1\\n2 12 1\\n")
    >>> read_qrels(p).values.tolist()
    [['1', '184', 3], ['1', '486', 0], ['2', '12', 4]]
    """
    if format == "auto":
        format = detect_qrels_format(path, errors=errors)
        log.info("%s: relevance format detected as %r", path, format)
    if format not in QRELS_FORMATS:
        raise ValueError(f"format must be 'auto' or one of {QRELS_FORMATS}, got {format!r}")
    rows = _rows(path, errors)
    if format == "beir":
        rows = [(n, r) for n, r in rows if r[:2] != ["query-id", "corpus-id"]]
    width = {"trec": (4,), "smart": (2, 4), "cranfield": (3,), "qdr": (3,), "beir": (3,)}[format]
    qids, docs, rels = [], [], []
    for n, r in rows:
        if len(r) not in width:
            raise CollectionFormatError(
                f"expected {' or '.join(map(str, width))} columns for format {format!r}, got {len(r)}", str(path), n,
                token=" ".join(r),
            )
        if format == "trec":
            q, d, v = r[0], r[2], _int(r[3], path, n, "relevance")
        elif format == "smart":
            q, d, v = normalise_numeric_id(r[0]), normalise_numeric_id(r[1]), 1
        elif format == "cranfield":
            q, d, v = normalise_numeric_id(r[0]), normalise_numeric_id(r[1]), _int(r[2], path, n, "relevance code")
        elif format == "beir":
            q, d, v = r[0], r[1], _int(r[2], path, n, "score")
        else:
            q, d, v = r[0], r[1], _int(r[2], path, n, "relevance")
        qids.append(q)
        docs.append(d)
        rels.append(v)
    table = dict(CRANFIELD_GAINS) if (gains is None and format == "cranfield") else gains
    if table is not None:
        bad = sorted({v for v in rels if v not in table})
        if bad:
            raise CollectionFormatError(f"relevance value(s) {bad} have no entry in gains={dict(table)}", str(path))
        rels = [table[v] for v in rels]
    df = pd.DataFrame({"qid": pd.Series(qids, dtype=object), "docno": pd.Series(docs, dtype=object),
                       "rel": np.asarray(rels, dtype=np.int64)})
    dup = df.duplicated(["qid", "docno"]).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise CollectionFormatError(
            f"document {df.docno.iat[i]!r} is judged twice for query {df.qid.iat[i]!r}", str(path), rows[i][0]
        )
    return df


def check_qrels(
    qrels: pd.DataFrame,
    qids: Iterable[str],
    doc_ids: Iterable[str] | None = None,
    *,
    on_unknown: str = "warn",
    what: str = "qrels",
) -> pd.DataFrame:
    """Drop (with a warning giving counts) or reject rows naming unknown queries or documents.

    Parameters
    ----------
    qrels : DataFrame with ``qid`` and ``docno`` columns (a run works too)
    qids, doc_ids : the known ids (``doc_ids=None`` skips the document check)
    on_unknown : {"warn", "error", "ignore"}
    what : str
        Name used in messages ("qrels", "run").

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
    msg = (
        f"{what}: {int(bad_q.sum())} row(s) over {qrels.qid[bad_q].nunique()} unknown query id(s) "
        f"(e.g. {qrels.qid[bad_q].iloc[0]!r})" if bad_q.any() else f"{what}: 0 rows with unknown query ids"
    )
    if bad_d.any():
        msg += (
            f", {int(bad_d.sum())} row(s) over {qrels.docno[bad_d].nunique()} unknown document id(s) "
            f"(e.g. {qrels.docno[bad_d].iloc[0]!r})"
        )
    if on_unknown == "error":
        raise CollectionFormatError(msg + "; pass on_unknown='warn' to drop them")
    if on_unknown == "warn":
        log.warning("%s; dropped", msg)
    return qrels[~(bad_q | bad_d)].reset_index(drop=True)
