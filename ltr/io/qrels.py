"""Relevance judgments (qrels) in the layouts the classic and modern test collections ship, read to one table.

:func:`read_qrels` returns a DataFrame with columns ``qid`` (str), ``docno`` (str) and ``rel`` (int64) whatever the
layout, the form :func:`ltr.metrics.evaluate_run` takes; :func:`write_qrels` writes TREC's four columns.

==============  ==========================================  ===============================================
format          line                                        used by
==============  ==========================================  ===============================================
``trec``        ``qid iter docno rel``                      TREC, NPL/Vaswani, NFCorpus, TREC-COVID (any
                                                            ``iter``: ignored, as trec_eval ignores it)
``smart``       ``qid docno`` [``0 0.0``]                   ADI (``ADI.REL``), CACM (``qrels.text``): rel 1
``cranfield``   ``query_position docno code``               Cranfield ``cranqrel``: codes mapped to gains
``qdr``         ``qid docno rel``                           generic three-column files
``beir``        ``query-id<TAB>corpus-id<TAB>score``        BEIR ``qrels/*.tsv`` (a header line first)
``npl``         ``qid``, then lines of docnos, then ``/``   NPL's original ``rlv-ass``: rel 1
``jsonl``       ``{"query_id", "doc_id", "relevance"}``     ir_datasets' ``export --format jsonl`` (also
                                                            ``qid``/``docno``/``rel`` keys)
==============  ==========================================  ===============================================

Detection (``format="auto"``), from the first 200 lines that are neither blank nor comments: a first line starting
with ``{`` is ``jsonl``; a ``query-id corpus-id`` header is ``beir``; a line holding only ``/`` is ``npl``; two
columns are ``smart``; three are ``cranfield`` when the file name starts with ``cran`` (with a warning, as the same
bytes under another name read as ``qdr``: pass ``format="qdr"`` to read plain labels), else ``qdr``; four are
``trec`` when the second column is always ``0`` or ``Q0``, ``smart`` when the third is always ``0``, else ``trec``
when the fourth is always an integer relevance (an iteration column of round numbers, as TREC-COVID's). Anything
else is an error naming the layouts tried and asking for ``format=``. A header line is recognised in BEIR's layout
only (``query-id corpus-id score``); another header (``query_id doc_id relevance``) is an error saying so.

As trec_eval reads qrels (its ``get_qrels.c``), in every whitespace-separated layout here a line whose first field
starts with ``#`` is a comment, and a relevance written as a number with an integral value (``2.0``) is that integer
(trec_eval's ``atol`` reads 2). Blank lines, indented comments and consecutive comment lines, at which trec_eval
stops ("Malformed line"), are skipped too; a relevance of ``2.5``, which ``atol`` would silently truncate to 2, is an
error, and so is ``1e1``, which ``atol`` reads as 1 (``2.000000e+00``, read as 2 either way, is 2). Fields are
split where trec_eval splits them, at C ``isspace`` (space, tab, ``\\v``, ``\\f``, ``\\r``): a no-break space,
U+2028 or any other character is part of an id, as in :func:`ltr.io.read_run`. Lines end at LF, CR LF or CR alone
(not at the other breaks of ``str.splitlines``, so that line numbers are the file's).

Ids are strings (``"01"`` and ``"1"`` are different TREC queries), except that the SMART and Cranfield layouts
zero-pad numeric ids, which lose their padding (CACM's ``01`` -> ``"1"``) as the ``.I`` ids of their collections
do. A (qid, docno) pair judged twice is an error (trec_eval would silently keep one of them).

Cranfield gains. ``cranqrel.readme`` quotes Cleverdon's scale: 1 = complete answer, 2 = high degree of relevance,
3 = useful background, 4 = minimum interest, 5 = no interest (none listed); each query also has one line with code
-1. Here **gain = 5 - code** for codes 1..4 (so 4 = complete answer ... 1 = minimum interest, higher is better as
trec_eval and NDCG expect) and codes -1 and 5 become 0 (judged, not relevant). Pass ``gains=`` to choose another
mapping (e.g. ``{1: 1, 2: 1, 3: 1, 4: 0, -1: 0}`` for "relevant = codes 1-3"). ir_datasets (``cranfield``) and so
PyTerrier's ``irds:cranfield`` read the codes as the grades themselves (code 4 the best), the reverse of this scale:
graded measures differ between the two readings (NDCG@10 of one BM25 run: 0.3681 here, 0.3392 there; trial t64),
binary ones (MAP, P@10) do not. ``gains={1: 1, 2: 2, 3: 3, 4: 4, -1: 0}`` gives ir_datasets' reading.

Files are plain, gzip, bzip2 or xz, recognised by their first bytes whatever the name (:mod:`ltr.io.files`).
"""

from __future__ import annotations

import csv
import io
import logging
import numbers
import os
import re
import warnings
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from ltr._ids import UNPADDED, unpad
from ltr.exceptions import TrecFormatError
from ltr.io.files import read_text, refuse_inner_bom
from ltr.io.npl import npl_records
from ltr.io.outputs import atomic_write
from ltr.reader_options import Placeholder

__all__ = ["CRANFIELD_GAINS", "QRELS_FORMATS", "detect_qrels_format", "read_qrels", "write_qrels"]

log = logging.getLogger(__name__)

QRELS_FORMATS = ("trec", "smart", "cranfield", "qdr", "beir", "npl", "jsonl")

#: Cranfield relevance code -> gain (documented in the module docstring).
CRANFIELD_GAINS: Mapping[int, int] = {1: 4, 2: 3, 3: 2, 4: 1, 5: 0, -1: 0}

_INT = re.compile(r"[+-]?[0-9]+")
# A decimal number as float() reads it, without the underscores, "inf" and "nan" that float() also takes.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# The text of a comment line (its first field starts with "#"); its line break stays: a blank line, which the
# tokenizer skips. "^" is only at the start and after LF: lines ended by CR alone are left to the line-by-line path.
_COMMENT = re.compile(r"(?m)^[ \t]*#[^\r\n]*")
_BARE_CR = re.compile(r"\r(?!\n)")
# A field: a run of characters that are not C isspace, trec_eval's separators (get_qrels.c, parse_qrels_line).
_FIELD = re.compile(r"[^ \t\n\v\f\r]+")
# Lines end at LF, CR LF or CR alone, as in the run reader (str.splitlines also breaks at \v, \f, \x1c-\x1e, \x85,
# U+2028 and U+2029, which would cut a line in two and shift the line numbers of every message).
_LINE_END = re.compile(r"\r\n|\r|\n")
# Separators to trec_eval that pandas' whitespace tokenizer (space and tab) keeps inside a token.
_RARE_BLANKS = re.compile(r"[\v\f]")
_WIDTHS = {"trec": (4,), "smart": (2, 4), "cranfield": (3,), "qdr": (3,), "beir": (3,)}
_DETECT_LINES = 200
_LAYOUT_WIDTHS = ("smart has 2 columns; qdr, cranfield and beir 3; trec and smart 4; npl has '/' lines, jsonl "
                  "{...} lines")
_BEIR_HEADER = ["query-id", "corpus-id"]
# A column name (a header line's token): a word, not a number.
_WORD = re.compile(r"[A-Za-z_][\w.-]*")


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """Lines that are neither blank nor comments, as ``(1-based line number, whitespace-separated tokens)``."""
    return [(n, toks) for n, toks in enumerate(map(_FIELD.findall, _LINE_END.split(text)), 1)
            if toks and not toks[0].startswith("#")]


def _head(text: str, k: int) -> list[tuple[int, list[str]]]:
    """The first ``k`` rows of :func:`_rows`, from a growing prefix of the text rather than the whole file (split at
    the same line breaks, CR alone included, so that line numbers agree)."""
    size = 1 << 16
    while True:
        lines = _LINE_END.split(text[:size])
        if size < len(text):
            lines.pop()  # perhaps cut short
        out = [(n, toks) for n, toks in enumerate(map(_FIELD.findall, lines), 1)
               if toks and not toks[0].startswith("#")][:k]
        if len(out) == k or size >= len(text):
            return out
        size *= 4


def _atol(token: str) -> int:
    """C's ``atol`` of a token, as trec_eval reads a relevance: its leading integer (0 where none)."""
    m = re.match(r"[+-]?\d+", token)
    return int(m.group()) if m else 0


def _integral(token: str) -> int | None:
    """The integer a relevance token holds, ``2`` or ``2.0`` (trec_eval's ``atol`` reads both as 2); ``None`` for
    ``2.5`` (``atol`` would truncate it) and for what is not a number.

    >>> _integral("2.0"), _integral("-1"), _integral("2.5"), _integral("high")
    (2, -1, None, None)
    """
    if _INT.fullmatch(token):
        return int(token)
    if not _NUMBER.fullmatch(token):
        return None
    value = Decimal(token)
    if value != value.to_integral_value():
        return None
    # 1e999999 would take a while to expand: any value past 19 digits is out of the 64-bit range anyway.
    return int(value) if value.adjusted() < 19 else (2**63 if value > 0 else -(2**63) - 1)


def _undetected(path: str | os.PathLike, reason: str, line: int, row: list[str]) -> TrecFormatError:
    if line == 1 and len(row) >= 3 and all(map(_WORD.fullmatch, row)):  # qid iter docno rel: names, not values
        return TrecFormatError(
            f"line 1 looks like a header line ({' '.join(row)!r}); qrels files have none (BEIR's query-id corpus-id "
            "score aside, format 'beir'): delete the line", str(path), line, " ".join(row))
    return TrecFormatError(
        f"cannot tell the relevance format: {reason}", str(path), line, " ".join(row),
        fix={"qrels_format": Placeholder("|".join(QRELS_FORMATS))}, hint="to name the layout",
    )


def _detect(path: str | os.PathLike, rows: list[tuple[int, list[str]]]) -> str:
    if not rows:
        raise TrecFormatError("empty relevance file", str(path))
    head = rows[:_DETECT_LINES]
    if head[0][1][0].startswith("{"):
        return "jsonl"
    if head[0][1][:2] == _BEIR_HEADER:
        return "beir"
    if any(r == ["/"] for _, r in head):
        return "npl"
    widths = {len(r) for _, r in head}
    if widths == {2}:
        return "smart"
    if widths == {3}:
        if not Path(path).name.lower().startswith("cran"):
            return "qdr"
        # Chosen by the file's name, not its bytes (trec_eval, ir_measures and ranx read content only): said aloud,
        # as labels that are already gains would be reversed.
        log.warning("%s: read as Cranfield's cranqrel (3 columns, a name starting with 'cran'): column 3 is taken for "
                    "Cleverdon's relevance codes (1 = complete answer ... 4 = minimum interest, -1 = not relevant), "
                    "mapped to gains 5 - code (1 -> 4, 4 -> 1, -1 -> 0); if it holds plain labels (higher is "
                    "better), name the layout 'qdr' (format='qdr', on the command line --qrels-format qdr); "
                    "naming 'cranfield' the same way confirms this reading and says nothing", path)
        return "cranfield"
    if widths == {4}:
        if all(r[1] in ("0", "Q0") for _, r in head):
            return "trec"
        if all(r[2] == "0" for _, r in head):
            return "smart"
        bad = next(((n, r) for n, r in head if _integral(r[3]) is None), None)
        if bad is None:  # any iteration column (TREC-COVID's round numbers), as trec_eval ignores it
            return "trec"
        raise _undetected(path, f"its lines have 4 columns but fit neither 'trec' (qid iter docno rel, column 4 "
                                f"an integer relevance: this line's is {bad[1][3]!r}) nor 'smart' (qid docno 0 0, "
                                "column 3 always 0)", *bad)
    first = head[0][1]
    if len(widths) > 1:
        n, r = next((n, r) for n, r in head if len(r) != len(first))
        raise _undetected(path, f"line {head[0][0]} has {len(first)} columns and this line {len(r)}, but the lines "
                                f"of a layout have one width ({_LAYOUT_WIDTHS})", n, r)
    plural = "s" if len(first) > 1 else ""
    raise _undetected(path, f"its lines have {len(first)} column{plural}, a width no layout has ({_LAYOUT_WIDTHS})",
                      *head[0])


def detect_qrels_format(path: str | os.PathLike, *, errors: str = "strict") -> str:
    """Guess the layout of a relevance file from its first lines (rules in the module docstring).

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "ADI.REL")
    >>> _ = open(p, "w").write("1   17   0   0.000000\\n1   46   0   0.000000\\n")
    >>> detect_qrels_format(p)
    'smart'
    """
    return _detect(path, _head(read_text(path, errors=errors, error=TrecFormatError, what="qrels file"),
                               _DETECT_LINES))


def _check_gains(gains) -> None:
    """Refuse a ``gains`` that is not a mapping of grades to whole gains: a list was indexed by position (``[0, 1]``
    read grade 1 as ``gains[1]``, grade -1 as the last item) and failed in ``dict()``'s words on an unknown grade; a
    gain of 2.5 was cut to 2 (trial t66)."""
    if gains is None:
        return
    if not isinstance(gains, Mapping):
        raise TypeError(f"gains must be a mapping {{grade: gain}} (e.g. {{0: 0, 1: 1, 2: 3}}), got "
                        f"{type(gains).__name__} {gains!r:.60}")
    for grade, gain in gains.items():
        if isinstance(gain, (bool, np.bool_)) or not isinstance(gain, numbers.Real) or not float(gain).is_integer():
            raise ValueError(f"gains must map each grade to an integer gain (qrels hold integers), got "
                             f"gains[{grade!r}] = {gain!r}")


def read_qrels(
    path: str | os.PathLike,
    format: str = "auto",
    *,
    gains: Mapping[int, int] | None = None,
    errors: str = "strict",
) -> pd.DataFrame:
    """Read relevance judgments in any layout of the module table.

    Parameters
    ----------
    path : str or PathLike
        Plain or gzip (by magic bytes).
    format : {"auto", "trec", "smart", "cranfield", "qdr", "beir", "npl", "jsonl"}, default="auto"
        The layout; ``"auto"`` detects it (module docstring).
    gains : mapping of int -> int, optional
        Map raw relevance values to gains (default: identity, and :data:`CRANFIELD_GAINS` for ``cranfield``).
        A value missing from the map is an error, and so is a list (``{0: 0, 1: 1, 2: 3}``, not ``[0, 1, 3]``).
    errors : {"strict", "replace"}, default="strict"
        Invalid UTF-8: an error naming the line and byte offset, or U+FFFD substituted.

    Returns
    -------
    DataFrame
        Columns ``qid`` (str), ``docno`` (str), ``rel`` (int64), in file order; ``attrs["format"]`` is the layout
        read (the one detected, for ``format="auto"``).

    Raises
    ------
    TrecFormatError
        Naming the path, the line and the token: a line with the wrong number of columns, a relevance value that
        is not an integer (``2.0`` is one, ``2.5`` is not), a pair judged twice, an undetectable layout (the
        message says which layouts were tried; ``format=`` picks one), invalid UTF-8, a corrupt gzip stream.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "cranqrel")
    >>> _ = open(p, "w").write("1 184 2\\n1 486 -1\\n2 12 1\\n")
    >>> read_qrels(p).values.tolist()
    [['1', '184', 3], ['1', '486', 0], ['2', '12', 4]]
    """
    if format != "auto" and format not in QRELS_FORMATS:
        raise ValueError(f"format must be 'auto' or one of {QRELS_FORMATS}, got {format!r}")
    _check_gains(gains)
    spath = str(path)
    text = read_text(path, errors=errors, error=TrecFormatError, what="qrels file")
    refuse_inner_bom(text, path, TrecFormatError)
    if format == "auto":
        format = _detect(path, _head(text, _DETECT_LINES))
        log.info("%s: relevance format detected as %r", spath, format)
    columns = _fast_columns(text, format)
    rows = lines = None
    if format == "npl":
        qids, docs, rels, lines = _npl_columns(spath, text)
    elif format == "jsonl":
        qids, docs, rels, lines = _jsonl_columns(spath, text)
    else:
        if columns is None:  # the line-by-line path: every error names its line
            rows = _rows(text)
            if format == "beir" and rows and rows[0][1][:2] == _BEIR_HEADER:
                rows = rows[1:]
            columns = _columns(spath, rows, format)
        qids, docs, rels = columns
    table = dict(CRANFIELD_GAINS) if (gains is None and format == "cranfield") else gains
    if table is not None:
        unknown = sorted({int(v) for v in rels if v not in table})  # (as numbers, not NumPy's reprs)
        if unknown:
            i = next(i for i, v in enumerate(rels) if v not in table)
            raise TrecFormatError(f"relevance value(s) {unknown} have no entry in gains={dict(table)}", spath,
                                  _line_of_row(text, format, rows, i, lines), str(rels[i]))
        rels = [int(table[v]) for v in rels]
    df = pd.DataFrame({"qid": pd.Series(qids, dtype=str), "docno": pd.Series(docs, dtype=str),
                       "rel": np.asarray(rels, dtype=np.int64)})
    dup = df.duplicated(["qid", "docno"]).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        hint = ""
        if format == "trec":  # a diversity (ndeval) file, qid subtopic docno rel, judges a pair once a subtopic
            if rows is None:
                rows = _rows(text)
            first = int(np.flatnonzero(((df.qid == df.qid.iat[i]) & (df.docno == df.docno.iat[i])).to_numpy())[0])
            a, b = rows[first][1][1], rows[i][1][1]
            if a != b and _integral(a) is not None and _integral(b) is not None:
                hint = (f" (with {a} and then {b} in column 2: a diversity qrels, 'qid subtopic docno rel', as "
                        "ndeval reads? trec_eval reads one judgment a pair)")
        trec = None
        if format == "smart":  # TREC's 'qid 0 docno rel' read as SMART's 'qid docno 0 0': every document is '0'
            if rows is None:  # (said as judged twice, with no word of the layout; trial t65)
                rows = _rows(text)
            if all(len(r) == 4 and r[1] in ("0", "Q0") for _, r in rows) and any(r[2] != "0" for _, r in rows):
                trec = "TREC's four columns (qid iteration docno relevance)? read it as format 'trec'"
        raise TrecFormatError(f"document {df.docno.iat[i]!r} is judged twice for query {df.qid.iat[i]!r}{hint}",
                              spath, _line_of_row(text, format, rows, i, lines), df.docno.iat[i], hint=trec)
    df.attrs["path"] = spath  # for later messages about its rows (features.collections.check_qrels names the line)
    df.attrs["format"] = format  # the layout read (detected, for format="auto")
    if format in ("smart", "cranfield"):  # numeric ids read without leading zeros: a run evaluated against them too
        df.attrs["ids"] = UNPADDED
    return df


def _columns(spath: str, rows: list[tuple[int, list[str]]], format: str):
    """``(qids, docnos, relevance values)`` from line-numbered rows, raising on the first bad line."""
    width = _WIDTHS[format]
    bad = next(((n, r) for n, r in rows if len(r) not in width), None)
    if bad is not None:
        n, r = bad
        trec = len(r) == 4 and 4 not in width  # qid iteration docno relevance, read in a 3-column layout
        raise TrecFormatError(f"expected {' or '.join(map(str, width))} columns for format {format!r}, got {len(r)}",
                              spath, n, " ".join(r), hint="TREC's four columns (qid iteration docno relevance)? "
                              "read it as format 'trec'" if trec else None)
    if format == "smart":
        return [unpad(r[0]) for _, r in rows], [unpad(r[1]) for _, r in rows], [1] * len(rows)
    qcol, dcol, rcol = (0, 2, 3) if format == "trec" else (0, 1, 2)
    unpad_id = unpad if format == "cranfield" else str
    rel_tokens = [r[rcol] for _, r in rows]
    if all(map(_INT.fullmatch, rel_tokens)):
        rels = list(map(int, rel_tokens))
    else:  # 2.0 is 2, as trec_eval's atol reads it; 2.5, which atol would truncate, is an error
        values = list(map(_integral, rel_tokens))
        if None in values:
            i = values.index(None)
            what = {"cranfield": "relevance code", "beir": "score"}.get(format, "relevance")
            hint = ("a float reads as an integer only with an integral value (2.0); trec_eval's atol would "
                    "truncate this one") if _NUMBER.fullmatch(rel_tokens[i]) else None
            # query_id doc_id relevance (pandas' to_csv of an ir_datasets frame): a first line of column names
            if i == 0 and all(map(_WORD.fullmatch, rows[0][1])) and rel_tokens[0].lower() not in ("nan", "inf"):
                hint = (f"line {rows[0][0]} looks like a header line ({' '.join(rows[0][1])!r}), and the only header "
                        f"recognised is BEIR's ({' '.join(_BEIR_HEADER)} score, format 'beir'): delete the line or "
                        "write that header")
            raise TrecFormatError(f"{what} must be an integer", spath, rows[i][0], rel_tokens[i], hint=hint)
        i = next((i for i, (t, v) in enumerate(zip(rel_tokens, values))
                  if v != _atol(t) and -(2**63) <= v < 2**63), None)  # (past 64 bits: said below)
        if i is not None and format == "trec":  # 1e1: trec_eval reads 1 (atol stops at the 'e'; trial t56)
            raise TrecFormatError(f"relevance {rel_tokens[i]} in exponent notation is {values[i]}, which trec_eval "
                                  f"reads as {_atol(rel_tokens[i])} (its atol reads the leading integer): write the "
                                  "grade as an integer", spath, rows[i][0], rel_tokens[i])
        rels = values
    big = next((i for i, v in enumerate(rels) if not -(2**63) <= v < 2**63), None)
    if big is not None:
        raise TrecFormatError("relevance value out of the 64-bit range", spath, rows[big][0], rel_tokens[big])
    return [unpad_id(r[qcol]) for _, r in rows], [unpad_id(r[dcol]) for _, r in rows], rels


def _fast_columns(text: str, format: str):
    """The columns through pandas' C tokenizer for the layouts large files come in, or ``None`` when anything is
    irregular (the line-by-line path then finds and names the problem, or reads what pandas would split
    differently: non-ASCII or rare ASCII whitespace, which ``str.split`` also splits on)."""
    if format not in ("trec", "qdr", "beir") or not text.isascii() or _RARE_BLANKS.search(text):
        return None
    width = 4 if format == "trec" else 3
    if "#" in text:
        if _BARE_CR.search(text):
            return None
        text = _COMMENT.sub("", text)
    try:
        with warnings.catch_warnings():
            # more columns than the layout's on every line: pandas would make the surplus leading ones the index
            # (the judgments then all under the iteration column's '0'), or with index_col=False drop the last
            # ones with this warning; the line-by-line path names the line instead
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(io.StringIO(text), sep=r"\s+", header=None, names=list(range(width)), dtype=str,
                             engine="c", quoting=csv.QUOTE_NONE, na_filter=False, keep_default_na=False,
                             comment=None, skip_blank_lines=True, index_col=False)
    except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError, ValueError):
        return None
    if format == "beir" and len(df) and [df.iat[0, 0], df.iat[0, 1]] == _BEIR_HEADER:
        df = df.iloc[1:]
    if df[width - 1].isna().any() or (df[width - 1] == "").any():
        return None
    qcol, dcol, rcol = (0, 2, 3) if format == "trec" else (0, 1, 2)
    rel = df[rcol]
    if not rel.str.fullmatch(r"[+-]?[0-9]{1,18}(?:\.0*)?").all():  # 2 or 2.0 (trec_eval's atol reads 2)
        return None
    if rel.str.contains(".", regex=False).any():
        rel = rel.str.replace(r"\.0*$", "", regex=True)
    return df[qcol].tolist(), df[dcol].tolist(), rel.astype(np.int64).to_numpy()


#: Keys of a JSON-lines judgment, by column (ir_datasets' names first).
_JSONL_KEYS = {"qid": ("query_id", "qid"), "docno": ("doc_id", "docno", "docid"), "rel": ("relevance", "rel", "label")}


def _json_id(value) -> str | None:
    """A JSON id as text: a whole float (pandas' to_json of a float column writes 1.0) as its integer, '1', as
    ``evaluate_run`` reads one (it was '1.0', which no '1' matches: MAP NaN, no word; review of trial t58); None for
    another float (1.5, or past 2**53, whose digits are not the id's), which ``evaluate_run`` refuses too."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) <= 2**53 else None
    return str(value)


def _jsonl_columns(spath: str, text: str):
    """``(qids, docnos, relevance values, line numbers)`` of JSON lines (ir_datasets' qrels export; its
    ``iteration`` key, as TREC's second column, is ignored)."""
    import json

    qids: list[str] = []
    docs: list[str] = []
    rels: list[int] = []
    lines: list[int] = []
    for n, line in enumerate(_LINE_END.split(text), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise TrecFormatError(f"not a JSON object ({e.msg})", spath, n, line.strip()) from None
        if not isinstance(obj, dict):
            raise TrecFormatError("not a JSON object", spath, n, line.strip())
        found = {}
        for column, keys in _JSONL_KEYS.items():
            key = next((k for k in keys if k in obj), None)
            if key is None:
                raise TrecFormatError(f"no {' / '.join(repr(k) for k in keys)} key", spath, n, line.strip())
            found[column] = obj[key]
        for column in ("qid", "docno"):
            if found[column] is None or isinstance(found[column], (dict, list)) or _json_id(found[column]) is None:
                raise TrecFormatError(f"the {column} must be a string or an integer", spath, n,  # ('None' was an id)
                                      json.dumps(found[column]))
        value = found["rel"]
        if isinstance(value, bool) or not isinstance(value, int):
            # 1.0 (pandas' to_json of a float column) and "2.0" are integers, as the TREC reader reads "2.0"
            whole = (float(value).is_integer() if isinstance(value, float) else
                     isinstance(value, str) and _integral(value) is not None)
            if not whole:
                hint = ("a float reads as an integer only with an integral value (2.0)"
                        if isinstance(value, float) and not float(value).is_integer() else None)
                raise TrecFormatError("relevance must be an integer", spath, n, str(value), hint=hint)
            value = int(value) if isinstance(value, float) else _integral(value)
        if not -(2**63) <= value < 2**63:  # (an OverflowError from NumPy, naming nothing)
            raise TrecFormatError("relevance value out of the 64-bit range", spath, n, str(found["rel"]))
        qids.append(_json_id(found["qid"]))
        docs.append(_json_id(found["docno"]))
        rels.append(value)
        lines.append(n)
    return qids, docs, rels, lines


def _npl_columns(spath: str, text: str):
    """``(qids, docnos, relevance values, line numbers)`` of NPL records (:mod:`ltr.io.npl`): a query id, the lines of
    its relevant documents, then ``/``."""
    qids: list[str] = []
    docs: list[str] = []
    lines: list[int] = []
    for rec in npl_records(text, spath, error=TrecFormatError, what="query", content="relevant documents"):
        for n, toks in rec.rows:
            qids += [rec.id] * len(toks)
            docs += toks
            lines += [n] * len(toks)
    return qids, docs, [1] * len(qids), lines


def _line_of_row(text: str, format: str, rows, i: int, lines=None) -> int:
    """The line number of data row ``i`` (rows are counted without blank lines and a BEIR header)."""
    if lines is not None:
        return lines[i]
    if rows is None:
        rows = _rows(text)
        if format == "beir" and rows and rows[0][1][:2] == _BEIR_HEADER:
            rows = rows[1:]
    return rows[i][0]


def write_qrels(path: str | os.PathLike, qrels: pd.DataFrame) -> Path:
    """Write judgments atomically as TREC qrels, ``qid iter docno rel`` lines, in the frame's row order.

    Parameters
    ----------
    path : str or PathLike
        ``"-"`` is standard output; a ``.gz`` path is gzip-compressed.
    qrels : DataFrame
        Columns ``qid``, ``docno``, ``rel`` (integers, or floats with integer values), and optionally ``iter``
        (written as is; ``0`` when absent), as :func:`read_qrels` returns for every layout; ir_measures' names
        (``query_id``, ``doc_id``, ``relevance``) too.

    Raises
    ------
    ValueError
        A missing column or value, an empty id or one with whitespace, a query id starting with ``#`` (a comment
        line to the readers), a relevance value that is not a 64-bit integer, a document judged twice for a query.

    Examples
    --------
    >>> import os, tempfile
    >>> df = pd.DataFrame({"qid": ["1", "1"], "docno": ["d1", "d2"], "rel": [2, 0]})
    >>> print(write_qrels(os.path.join(tempfile.mkdtemp(), "q.qrels"), df).read_text(), end="")
    1 0 d1 2
    1 0 d2 0
    """
    if not {"qid", "docno", "rel"} <= set(qrels.columns):  # ir_measures' query_id, doc_id, relevance (and
        from ltr.metrics.trec import COLUMN_ALIASES  # PyTerrier's label), as evaluate_run and write_run read them

        found = {c: next((a for a in COLUMN_ALIASES[c] if a in qrels.columns), None) for c in ("qid", "docno", "rel")}
        qrels = qrels.rename(columns={a: c for c, a in found.items() if a is not None and a != c})
    missing = [c for c in ("qid", "docno", "rel") if c not in qrels.columns]
    if missing:
        raise ValueError(f"qrels is missing columns {missing}; it has {list(qrels.columns)}")
    for name in ("qid", "docno", "iter", "rel"):
        absent = qrels[name].isna().to_numpy() if name in qrels.columns else None
        if absent is not None and absent.any():  # (pandas 3 keeps a missing value missing through astype(str))
            raise ValueError(f"qrels column {name!r}, row {int(np.flatnonzero(absent)[0])}: a missing value (None "
                             "or NaN), which a qrels line cannot hold")
    from ltr.metrics.trec import checked_ids  # 1.0 written as 1, as evaluate_run reads it (it was '1.0': trial t60)

    qrels = checked_ids(qrels, "qrels")
    cols = {c: qrels[c].astype(str).tolist() for c in ("qid", "docno")}
    cols["iter"] = qrels["iter"].astype(str).tolist() if "iter" in qrels.columns else ["0"] * len(qrels)
    for name, values in cols.items():
        for i, v in enumerate(values):
            if not v or "\ufeff" in v or any(ch.isspace() for ch in v):  # (a byte-order mark: read_qrels drops it)
                raise ValueError(f"qrels column {name!r}, row {i}: {v!r} is empty or holds whitespace or a "
                                 "byte-order mark, which TREC files cannot hold")
    bad = next((i for i, v in enumerate(cols["qid"]) if v.startswith("#")), None)
    if bad is not None:  # the line would be a comment to read_qrels (and trec_eval 10): its judgments lost
        raise ValueError(f"qrels column 'qid', row {bad}: {cols['qid'][bad]!r} starts with '#', which TREC readers "
                         "(read_qrels, trec_eval 10) skip as a comment line")
    rel = np.asarray(qrels["rel"])
    exact = rel.dtype.kind == "u" or (rel.dtype.kind == "O" and all(  # integers checked as integers, not through
        isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in rel))  # float64 (2**63-1)
    if exact:
        values = [int(v) for v in rel.tolist()]
        big = next((i for i, v in enumerate(values) if not -(2**63) <= v < 2**63), None)
        if big is not None:  # (a uint64 2**63 was written, which read_qrels refuses)
            raise ValueError(f"qrels column 'rel', row {big}: {values[big]} is beyond the 64-bit integers that "
                             "read_qrels reads")
        rel = np.array(values, dtype=np.int64)
    if rel.dtype.kind not in "iu":
        as_float = np.asarray(rel, dtype=np.float64)
        bad = ~(np.isfinite(as_float) & (as_float == np.round(as_float)))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"qrels column 'rel', row {i}: {np.asarray(rel[i]).item()!r} is not an integer")
        beyond = np.abs(as_float) >= 2.0**63  # int64 would wrap 1e20 to -9223372036854775808: not relevant
        if beyond.any():
            i = int(np.flatnonzero(beyond)[0])
            raise ValueError(f"qrels column 'rel', row {i}: {np.asarray(rel[i]).item()!r} is beyond the 64-bit "
                             "integers that read_qrels reads")
        rel = as_float.astype(np.int64)
    pairs = pd.DataFrame({"qid": cols["qid"], "docno": cols["docno"]})
    again = pairs.duplicated().to_numpy()
    if again.any():  # read_qrels would refuse the file written (trec_eval keeps one of them silently)
        i = int(np.flatnonzero(again)[0])
        key = (cols["qid"][i], cols["docno"][i])
        first = next(j for j in range(i) if (cols["qid"][j], cols["docno"][j]) == key)
        raise ValueError(f"qrels rows {first} and {i}: document {key[1]!r} is judged twice for query {key[0]!r}, "
                         "which read_qrels refuses; keep one judgment")
    with atomic_write(path) as f:
        f.write("".join(f"{q} {it} {d} {int(r)}\n" for q, it, d, r in zip(cols["qid"], cols["iter"], cols["docno"],
                                                                             rel.tolist())))
    return Path(path)
