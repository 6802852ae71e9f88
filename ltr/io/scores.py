"""Score files: one float per line, in the row order of the data file they score (``ltr predict``'s output).

Numbers are written as the shortest text that reads back to the same float64 (Python's ``repr``), so
``read_scores(write_scores(p, s))`` is bit-exact. Blank lines at the end are skipped, a blank line among the scores
is an error (it would shift every later score by a row); ``inf`` and ``-inf`` are numbers; NaN is refused both ways
(no metric can rank it). Lines end at LF, CR LF or CR alone only, so that a line holding another break character
(``\\v``, U+2028) is one line, refused as no number, not two scores. Files are plain, gzip, bzip2 or xz
(recognised by their first bytes).

RankLib's score files (``-rank DATA -score FILE``: ``qid<TAB>index<TAB>score`` per document, in DATA's order, the
index counting from 0 within each query) are read too, when every line has that form: the third column is the score,
and the first two are checked (the index restarts at 0 with each query and counts up by one; with ``qid``, the
query ids equal the data's).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ltr._ids import unpad
from ltr.exceptions import ScoreFormatError
from ltr.io.files import checked_path, read_utf8_file
from ltr.io.outputs import atomic_write

__all__ = ["HEADER_HINT", "RANKS_HINT", "beyond_float32", "number", "ranks_like", "read_scores", "score_header",
           "write_scores"]

#: What is said of values that :func:`ranks_like` finds to be ranks.
RANKS_HINT = ("every query's values are the integers 1..n, one per document: they look like ranks (MS MARCO's "
              "qid<TAB>pid<TAB>rank), where 1 is the best, and are read as scores, where larger is better; write a "
              "score instead (-rank, or 1/rank)")


def beyond_float32(values: ArrayLike) -> NDArray[np.intp]:
    """The places of the finite ``values`` that float32 cannot hold (a cast makes them +-inf): a first-stage score
    that the ``first_stage_score`` feature, float32, would hold as inf, which every reader of the features refuses.

    >>> beyond_float32([1.0, 3.5e38, 3.4028235e38, -1e39, float("inf")]).tolist()
    [1, 3]
    """
    s = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore"):
        return np.flatnonzero(np.isfinite(s) & np.isinf(s.astype(np.float32)))


def ranks_like(values: ArrayLike, groups: ArrayLike) -> bool:
    """Whether ``values`` hold, within each group of ``groups`` (one label per value: a query id), exactly the integers
    1..n of its n values, and some group holds more than one: ranks (MS MARCO's ``qid<TAB>pid<TAB>rank`` run layout)
    where a score was expected, which a reader takes in reverse, 1 being the best rank and the lowest score (a
    distillation student trained backwards, silently: trial t66).

    Examples
    --------
    >>> ranks_like([1, 2, 3, 2, 1], ["a", "a", "a", "b", "b"]), ranks_like([1, 2, 2, 2, 1], ["a", "a", "a", "b", "b"])
    (True, False)
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    _, group = np.unique(np.asarray(groups).reshape(-1), return_inverse=True)
    if v.size < 2 or group.size != v.size or not np.array_equal(v, np.round(v)):
        return False
    order = np.lexsort((v, group))
    g = group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    if starts.size == v.size:  # one value a group: nothing tells a rank from a score
        return False
    first = np.repeat(starts, np.diff(np.r_[starts, v.size]))
    return bool(np.array_equal(v[order], np.arange(v.size) - first + 1))


# A decimal number as written by repr/printf/other toolkits, or an infinity. float() alone would also take
# "1_000", "nan", full-width digits and surrounding blanks inside the token.
_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)", re.IGNORECASE | re.ASCII)
# Lines end at LF, CR LF or CR alone, as in the other readers of ltr.io; not at the other breaks of str.splitlines
# (\v, \f, \x1c-\x1e, \x85, U+2028, U+2029), which would cut a line in two: two scores for one row.
_LINE_END = re.compile(r"\r\n|\r|\n")
# RankLib's Evaluator.rank(): getID() + "\t" + j + "\t" + score.
_RANKLIB = re.compile(r"(\S+)[ \t]+(\d+)[ \t]+(\S+)")


def number(token: str) -> float:
    """``float(token)`` for a number as score files write one, ASCII only and without ``_``: Python's ``float``
    also reads ``"1_000"`` and other scripts' digits (``"１２"``, ``"١٢"``), which no score file means. A ValueError
    otherwise; ``nan`` and ``inf`` are numbers here (each reader says what it does with them).

    >>> number("1.5e3"), number("-inf")
    (1500.0, -inf)
    >>> number("1_000")
    Traceback (most recent call last):
    ...
    ValueError: not a number: '1_000'
    """
    if not (token.isascii() and "_" not in token):
        raise ValueError(f"not a number: {token!r}")
    return float(token)


def read_scores(path: str | os.PathLike, n_rows: int | None = None, *, qid: ArrayLike | None = None
                ) -> NDArray[np.float64]:
    """Read a score file.

    Parameters
    ----------
    path : str or PathLike
    n_rows : int, optional
        The number of rows of the data the scores belong to; another count is an error.
    qid : array-like, optional
        The query id of each row of the data, in its line order: the query ids of a RankLib score file must equal
        them, line for line.

    Returns
    -------
    ndarray of float64, shape (n_scores,)

    Raises
    ------
    ScoreFormatError
        Naming the path, the line and the token of a line that is not one number (or is NaN), or the counts when
        ``n_rows`` does not match.

    Examples
    --------
    >>> import os, tempfile
    >>> p = write_scores(os.path.join(tempfile.mkdtemp(), "s.txt"), [0.1, 2.0, -float("inf")])
    >>> read_scores(p, n_rows=3).tolist()
    [0.1, 2.0, -inf]
    """
    path = Path(checked_path(path))
    if n_rows is not None and (isinstance(n_rows, bool) or not isinstance(n_rows, (int, np.integer)) or n_rows < 0):
        raise TypeError(f"n_rows must be a non-negative int or None, got {n_rows!r}")
    text = read_utf8_file(path, "score file", error=ScoreFormatError)
    lines = _LINE_END.split(text)
    stripped = [line.strip() for line in lines]
    last = max((i for i, t in enumerate(stripped) if t), default=-1)
    hole = next((i for i in range(last) if not stripped[i]), None)
    tokens = [t for t in stripped if t]
    if tokens and not _NUMBER.fullmatch(tokens[0]) and all(map(_RANKLIB.fullmatch, tokens)):  # (plain: no scan)
        tokens = _ranklib_scores(path, lines, qid)
    try:
        if not all(map(_NUMBER.fullmatch, tokens)):
            raise ValueError
        values = np.array(list(map(float, tokens)), dtype=np.float64)
    except ValueError:
        values = None
    if values is None or np.isnan(values).any():
        raise _first_bad_line(path, lines)
    if hole is not None:  # scores are positional: a blank line inside would shift every later score by a row
        raise ScoreFormatError("a blank line among the scores (one score per row, in the data's row order)",
                               str(path), hole + 1, "")
    if n_rows is not None and values.size != n_rows:
        raise ScoreFormatError(f"{values.size} scores for {n_rows} rows of the data", str(path))
    return values


def _ranklib_scores(path: Path, lines: list[str], qid) -> list[str]:
    """The score tokens of RankLib's ``qid index score`` lines, after checking the first two columns."""
    expected = None if qid is None else [str(q) for q in np.asarray(qid).tolist()]
    out: list[str] = []
    previous, index = None, 0
    for lineno, line in enumerate(lines, 1):
        m = _RANKLIB.fullmatch(line.strip())
        if m is None:
            continue
        q, j, score = m.groups()
        index = index + 1 if q == previous else 0
        if int(j) != index:
            raise ScoreFormatError(f"RankLib's score lines number each query's documents 0, 1, ...: expected index "
                                   f"{index} here", str(path), lineno, line.strip())
        # RankLib writes the qid as the data file spells it ('0018219'), the LETOR reader holds the number (18219)
        if expected is not None and len(out) < len(expected) and unpad(q) != unpad(expected[len(out)]):
            raise ScoreFormatError(f"query {q} where the data's row {len(out) + 1} is of query "
                                   f"{expected[len(out)]}: a RankLib score file of other data?", str(path), lineno,
                                   line.strip())
        if score.lower().lstrip("+-") == "nan":
            raise ScoreFormatError("a score cannot be NaN (no metric can rank it)", str(path), lineno, score)
        if not _NUMBER.fullmatch(score):
            raise ScoreFormatError("RankLib's score lines end in a number", str(path), lineno, score)
        previous = q
        out.append(score)
    return out


#: What an error says about a first line whose score is a column's name (:func:`score_header`).
HEADER_HINT = "a header line? score files have none (a '#' line is a comment)"


def score_header(token: str) -> bool:
    """Whether a first line's score token is a column's name (``qid docid score``): score files have no header."""
    return token.strip().lower() in ("score", "scores", "sim", "similarity", "value")


def _first_bad_line(path: Path, lines: list[str]) -> ScoreFormatError:
    for lineno, line in enumerate(lines, 1):
        tok = line.strip()
        if not tok:
            continue
        if tok.lower().lstrip("+-") == "nan":
            return ScoreFormatError("a score cannot be NaN (no metric can rank it)", str(path), lineno, tok)
        if not _NUMBER.fullmatch(tok):
            return ScoreFormatError("a score file has one number per line", str(path), lineno, tok[:80])
    raise AssertionError("unreachable: a token failed to parse but none is malformed")  # pragma: no cover


def write_scores(path: str | os.PathLike, scores: ArrayLike) -> Path:
    """Write scores atomically, one per line, each the shortest text that reads back to the same float64.

    ``path`` ``"-"`` writes to standard output; a ``.gz`` path is gzip-compressed.

    Raises
    ------
    ValueError
        ``scores`` is not one-dimensional, or holds NaN.

    Examples
    --------
    >>> import os, tempfile
    >>> p = write_scores(os.path.join(tempfile.mkdtemp(), "s.txt"), [1 / 3, 2.0])
    >>> p.read_text()
    '0.3333333333333333\\n2.0\\n'
    """
    try:
        s = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):  # (NumPy's words named neither the argument nor the row)
        raise ValueError(f"scores must be numbers, one per row, got {scores!r:.80}") from None
    if s.ndim != 1:
        raise ValueError(f"scores must be one-dimensional, got shape {s.shape}")
    if np.isnan(s).any():
        raise ValueError(f"scores must not be NaN; row {int(np.flatnonzero(np.isnan(s))[0])} is")
    with atomic_write(path) as f:
        # repr is the shortest text that round-trips (Python >= 3.1 uses David Gay's algorithm).
        f.write("".join(f"{v!r}\n" for v in s.tolist()))
    return Path(path)
