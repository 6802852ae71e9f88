"""TREC run and topic files (judgments: :mod:`ltr.io.qrels`, re-exported here).

- run: ``qid Q0 docno rank score tag``, one retrieved document a line, whitespace-separated;
- topics: ``<top> <num> Number: Q <title> text </top>`` records, or ``qid<TAB>text`` lines.

Runs are read into pandas DataFrames with string ``qid``/``docno`` columns (TREC ids are strings: ``"01"`` and
``"1"`` are different queries), which is the form :func:`ltr.metrics.evaluate_run` takes. Files are plain, gzip,
bzip2 or xz, recognised by their first bytes whatever the name.

Runs are read as ``trec_eval`` reads them: blank and ``#`` lines skipped, the rank column and any field after the
run tag not needed (:func:`read_run`), fields split where trec_eval splits them (below). The fast path is pandas' C
reader; only a file it does not take is read line by line, so that an error can name the line and the token.

Fields and lines. trec_eval (``get_trec_results.c``, ``parse_results_line``) splits a line's fields at C
``isspace`` in the C locale: space, tab, ``\\v``, ``\\f`` and ``\\r``. Any other character, a no-break space
(U+00A0), U+2028 or ``\\x1c`` included, is part of an id, as it is to trec_eval, whichever path reads the file.
Lines end at LF, CR LF, or CR alone (old Mac files; trec_eval, which ends lines at LF only, would read such a file
as one line and drop the rest silently).
"""

from __future__ import annotations

import csv
import html
import io
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ltr.exceptions import TrecFormatError, shown_token
from ltr.groups import group_ptr_from_qid
from ltr.io.files import checked_path, read_bytes, refuse_inner_bom, refuse_utf16
from ltr.io.outputs import atomic_write
from ltr.io.qrels import read_qrels, write_qrels

__all__ = ["read_qrels", "read_run", "run_from_scores", "run_lines", "write_qrels", "write_run", "write_topics"]

RUN_COLUMNS = ("qid", "q0", "docno", "rank", "score", "tag")
TOPIC_FORMATS = ("trec", "tsv")
# The label TREC topics put before a field's text ("<title> Topic: ...", "<desc> Description:"), which the topic
# readers drop from any field (features.collections.trec's _PREFIX, the same pattern: ltr's data layer does not
# import features). A text that starts with one is written after one more, which the reader drops instead.
_TOPIC_LABEL = re.compile(r"^\s*(Number|Topic|Description|Narrative)\s*:\s*", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s")  # what a run's qid, docno and tag fields cannot hold (nor be empty): is_run_token
# The text of a comment line (its first field starts with "#"); its line break stays: a blank line, which the
# tokenizer skips. "^" is only at the start of the file and after LF: a file with lines ended by CR alone is left to
# the line-by-line reader (_BARE_CR).
_COMMENT_BYTES = re.compile(rb"(?m)^[ \t\f\v]*#[^\r\n]*")
_BARE_CR = re.compile(rb"\r(?!\n)")
# A field: a run of characters that are not C isspace (trec_eval's separators, the line breaks among them).
_FIELD = re.compile(r"[^ \t\n\v\f\r]+")
# Separators to trec_eval that pandas' whitespace tokenizer (space and tab) keeps inside a token: such a file is
# read line by line.
_RARE_BLANKS = (b"\v", b"\f")
# The line breaks of the line-by-line reader (io.TextIOWrapper with newline=""), not str.splitlines' (which also
# breaks at \v, \f, \x1c-\x1e, \x85, U+2028 and U+2029).
_LINE_END = re.compile(r"\r\n|\r|\n")

log = logging.getLogger(__name__)


def _empty_run() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=np.float64 if c == "score" else str) for c in RUN_COLUMNS})


def _fast_run(data: bytes) -> pd.DataFrame | None:
    """The run through pandas' C tokenizer, or ``None`` when anything is irregular (:func:`_run_by_lines` then
    reads the file or names its first bad line)."""
    if any(blank in data for blank in _RARE_BLANKS):  # (bytes.__contains__: memchr, faster than a regex)
        return None
    if b"#" in data:
        if _BARE_CR.search(data):
            return None
        data = _COMMENT_BYTES.sub(b"", data)
    try:  # usecols: the fields after the run tag are dropped
        df = pd.read_csv(
            io.BytesIO(data), sep=r"\s+", header=None, names=list(RUN_COLUMNS), usecols=range(len(RUN_COLUMNS)),
            dtype=str, engine="c", comment=None, keep_default_na=False, na_filter=False, encoding="utf-8",
            quoting=csv.QUOTE_NONE,  # a '"' is part of an id, as trec_eval reads it (not CSV's quoting)
        )
    except pd.errors.EmptyDataError:
        return _empty_run()
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError):
        return None
    if df.shape[1] != len(RUN_COLUMNS) or (len(df) and (df.iloc[:, -1] == "").any()):
        return None
    if not df["score"].str.isascii().all():  # pandas reads "１２" (full-width digits) as 12: named line by line
        return None
    score = pd.to_numeric(df["score"], errors="coerce")
    if not np.isfinite(score.to_numpy(dtype=np.float64, na_value=np.nan)).all():
        return None
    try:  # each score's correctly rounded double: pandas before 3.1 reads 0.19999999999999996 one ulp off
        df["score"] = np.asarray(df["score"].to_numpy(), dtype=np.float64)
    except ValueError:  # nothing pandas took should fail here; if it did, the line-by-line reader names it
        return None
    return df


def _run_by_lines(data: bytes, path: Path) -> pd.DataFrame:
    """Read a run line by line (a file the fast path does not take), raising on its first malformed line."""
    from ltr.io.scores import number

    rows: list[list[str]] = []
    try:
        with io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="") as f:
            for lineno, line in enumerate(f, 1):
                toks = _FIELD.findall(line)  # not str.split(): NBSP and other Unicode blanks are part of an id
                if not toks or toks[0].startswith("#"):  # blank and comment lines: trec_eval skips them
                    continue
                if len(toks) < len(RUN_COLUMNS):
                    raise TrecFormatError(
                        f"expected {len(RUN_COLUMNS)} whitespace-separated columns in a run line "
                        f"({' '.join(RUN_COLUMNS)}), got {len(toks)}", str(path), lineno, line.rstrip("\r\n"),
                    )
                try:
                    score = number(toks[4])
                except ValueError:
                    score = None
                if score is None or not np.isfinite(score):
                    # The token is the line: with the fields after the run tag ignored, a file that is no run at all
                    # (a model passed as --run) fails here, and its line says what it is.
                    raise TrecFormatError(f"column 5 (score) must be a {'finite ' if score is not None else ''}"
                                          f"number, got {shown_token(toks[4])!r}", str(path), lineno,
                                          line.rstrip("\r\n"))
                rows.append(toks[:len(RUN_COLUMNS)])  # fields after the run tag: ignored, as trec_eval does
    except UnicodeDecodeError:
        try:  # the offset in the whole file (the wrapper's is in the chunk it decoded)
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            head = data[:e.start]  # lines end at LF, CRLF or CR, as the reader splits them
            raise TrecFormatError(f"invalid UTF-8 byte {data[e.start:e.start + 1]!r}", str(path),
                                  head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1, offset=e.start,
                                  fix={"encoding_errors": "replace"}, hint="to substitute U+FFFD") from None
        raise
    if not rows:
        return _empty_run()
    df = pd.DataFrame(rows, columns=list(RUN_COLUMNS), dtype=str)
    df["score"] = df["score"].astype(np.float64)
    return df


def _ranks(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The ``rank`` column as int64: the file's ranks when every one is an integer, else (``1.0``, ``-``) ranks
    made from the scores as :func:`run_from_scores` makes them: within each query by score descending, ties in
    file order. trec_eval never reads the column ("the rank field is ignored"), so such a file is a valid run."""
    written = df["rank"]
    whole = written.str.fullmatch(r"[+-]?[0-9]{1,18}").to_numpy(dtype=bool)
    if whole.all():
        df["rank"] = written.astype(np.int64)
        return df
    log.info("%s: rank %r is not an integer: ranks made from the scores (ties in file order), as trec_eval "
             "ignores the column", path, written.iat[int(np.flatnonzero(~whole)[0])])
    df["rank"] = df.groupby("qid", sort=False)["score"].rank(method="first", ascending=False).astype(np.int64)
    return df


def read_run(path: str | os.PathLike, *, errors: str = "strict") -> pd.DataFrame:
    """Read a TREC run file.

    Lines are read as ``trec_eval`` reads them (its ``get_trec_results.c``): fields are split at space, tab,
    ``\\v``, ``\\f`` and ``\\r`` only (a no-break space is part of an id; module docstring), blank lines and
    lines whose first field starts with ``#`` are skipped, and fields after the sixth (the run tag) are ignored. The
    score must be a finite number. The rank column is kept as written when every rank is an integer; otherwise
    (``1.0``, ``-``: trec_eval never reads it) the ranks are made from the scores, within each query by score
    descending, ties in file order (as :func:`run_from_scores`). Evaluation never uses them:
    :func:`ltr.metrics.evaluate_run` orders by score with trec_eval's tie-break.

    Parameters
    ----------
    path : str or PathLike
        Plain or gzip (by magic bytes).
    errors : {"strict", "replace"}
        Invalid UTF-8: an error naming the line and byte offset, or U+FFFD in its place with a warning (as
        :func:`ltr.io.files.read_text`; :func:`read_qrels` takes the same).

    Returns
    -------
    DataFrame with columns ``qid`` (str), ``q0`` (str), ``docno`` (str), ``rank`` (int64), ``score`` (float64),
    ``tag`` (str), in file order.

    Raises
    ------
    TrecFormatError
        Naming the path, line and token of the first malformed line: fewer than six fields, a score that is not a
        finite number, invalid UTF-8.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "bm25.run")
    >>> _ = open(p, "w").write("# BM25, k1=0.9\\n1 Q0 d7 - 2.5 bm25\\n1 Q0 d3 - 4.0 bm25 extra-field\\n")
    >>> read_run(p)[["qid", "docno", "rank", "score"]].values.tolist()
    [['1', 'd7', 2, 2.5], ['1', 'd3', 1, 4.0]]
    """
    path = Path(checked_path(path))
    # Read once (decompressed when gzip): a pipe (/dev/stdin, <(...)) cannot be opened twice.
    if errors not in ("strict", "replace"):
        raise ValueError(f"errors must be 'strict' or 'replace', got {errors!r}")
    data = read_bytes(path, error=TrecFormatError, what="run file")
    refuse_utf16(data, path, TrecFormatError)
    refuse_inner_bom(data, path, TrecFormatError)
    if errors == "replace" and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("utf-8", errors="replace")
            log.warning("%s: replaced %d invalid UTF-8 sequence(s) with U+FFFD", path,
                        text.count("\ufffd") - data.count("\ufffd".encode()))
            data = text.encode("utf-8")
    df = _fast_run(data)
    if df is None:
        df = _run_by_lines(data, path)
    df = _ranks(df.reset_index(drop=True), path)
    df.attrs["path"] = str(path)  # for later messages about its rows (ltr.metrics.evaluate_run names the file)
    return df


def run_lines(path: str | os.PathLike, qid: str, docno: str) -> list[int]:
    """The 1-based numbers of the lines of the run file ``path`` that score ``docno`` for ``qid`` (for an error that
    names a document listed twice by its lines); blank and ``#`` lines are skipped as :func:`read_run` skips them.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "dup.run")
    >>> _ = open(p, "w").write("1 Q0 a 1 2.0 t\\n# x\\n1 Q0 b 2 1.0 t\\n1 Q0 a 3 0.5 t\\n")
    >>> run_lines(p, "1", "a")
    [1, 4]
    """
    text = read_bytes(Path(path), error=TrecFormatError, what="run file").decode("utf-8", errors="replace")
    out = []
    for lineno, line in enumerate(_LINE_END.split(text), 1):  # the lines and fields read_run reads
        toks = _FIELD.findall(line)
        if len(toks) >= 3 and not toks[0].startswith("#") and toks[0] == qid and toks[2] == docno:
            out.append(lineno)
    return out


def _check_columns(df: pd.DataFrame, required: tuple[str, ...], what: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing columns {missing}; it has {list(df.columns)}")


def _run_columns(run: pd.DataFrame) -> pd.DataFrame:
    """``run`` with ir_measures' ``query_id``/``doc_id`` under the names here, and a ``rank`` column when it has none
    (by score within each query, ties in row order: PyTerrier's ``add_ranks``, 1-based here)."""
    if not {"qid", "docno"} <= set(run.columns):
        from ltr.metrics.trec import COLUMN_ALIASES  # the spellings evaluate_run reads

        found = {name: next((a for a in COLUMN_ALIASES[name] if a in run.columns), None) for name in ("qid", "docno")}
        run = run.rename(columns={a: name for name, a in found.items() if a is not None and a != name})
    if "rank" not in run.columns and {"qid", "score"} <= set(run.columns):
        score = pd.to_numeric(run["score"], errors="coerce")  # a bad score is named below, with its row
        run = run.assign(rank=score.groupby(run["qid"].astype(str).to_numpy(), sort=False)
                         .rank(method="first", ascending=False).fillna(0).astype(np.int64).to_numpy())
    return run


def is_run_token(value: str) -> bool:
    """Whether ``value`` can be a run's query id, document id or tag field: one word, neither empty nor holding
    whitespace (:func:`write_run` refuses any other)."""
    return value != "" and not _WHITESPACE.search(value)


def check_run_tag(tag: str) -> str:
    """``tag``, when it can be a run's tag (:func:`is_run_token`); else a :class:`ValueError` naming it, raised
    where the tag is given (a blank in it failed only when the run was written, after the work: trial t63)."""
    if not isinstance(tag, str) or not is_run_token(tag):
        raise ValueError(f"tag {tag!r}: a run tag is one word, neither empty nor holding whitespace (the TREC run's "
                         "last column)")
    return tag


def write_run(path: str | os.PathLike, run: pd.DataFrame, *, tag: str | None = None) -> None:
    """Write a run atomically as ``qid Q0 docno rank score tag`` lines, in the frame's row order.

    ``run`` needs ``qid``, ``docno`` and ``score`` columns (or ir_measures' ``query_id``, ``doc_id``: the names
    :func:`ltr.metrics.evaluate_run` reads), and ``rank``; a frame without ``rank`` (PyTerrier's before
    ``add_ranks``, ``ltr.serve`` results) is ranked as PyTerrier ranks it: by score within each query, ties in row
    order. ``tag`` comes from the argument, else the frame's ``tag`` column, else ``"ltrkit"``. Scores are written
    with ``repr`` precision so they read back exactly.

    Raises
    ------
    ValueError
        Before anything is written (a previous file at ``path`` stays as it was): a missing column; an empty id
        or tag, or one with whitespace; a query id starting with ``#`` (a comment line to the readers); a score
        that is not a finite number (``nan`` and ``inf``, which :func:`read_run` and fusion refuse); a rank that is
        not an integer (``1.7``, NaN; ``2.0`` is 2). The message names the row, its query and its document.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "r.run")
    >>> write_run(p, run_from_scores(["1", "1"], ["a", "b"], [0.5, 2.0]))
    >>> print(open(p).read(), end="")
    1 Q0 b 1 2.0 ltrkit
    1 Q0 a 2 0.5 ltrkit
    """
    if isinstance(run, (str, bytes, os.PathLike)) and isinstance(path, pd.DataFrame):
        raise TypeError("write_run(path, run): the path comes first (PyTerrier's write_results takes the frame "
                        "first); got a DataFrame for path")
    if not isinstance(run, pd.DataFrame):
        raise TypeError(f"run must be a pandas DataFrame (qid, docno, rank, score), got {type(run).__name__}")
    run = _run_columns(run)
    _check_columns(run, ("qid", "docno", "rank", "score"), "run")
    tags = [tag] * len(run) if tag is not None else (run["tag"] if "tag" in run else ["ltrkit"] * len(run))
    for name, col in (("qid", run["qid"]), ("docno", run["docno"]), ("tag", pd.Series(tags, dtype=object))):
        absent = col.isna().to_numpy()
        if absent.any():  # (pandas 3 keeps it missing through astype(str): it was written as 'nan'; trial t58)
            raise ValueError(f"run column {name!r}, row {int(np.flatnonzero(absent)[0])}: a missing value (None or "
                             "NaN), which a run line cannot hold")
        text = col.astype(str)
        bad = (text == "") | text.str.contains(_WHITESPACE) | text.str.contains("\ufeff", regex=False)
        if bad.any():  # named by its row and value (trial t71); a byte-order mark the readers drop or refuse
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"run column {name!r}, row {i}: {text.iat[i]!r} is empty or holds whitespace or a "
                             "byte-order mark, which TREC files cannot hold")
    from ltr.metrics.trec import checked_ids  # 1.0 written as 1, as evaluate_run reads it (it was '1.0': trial t60)

    run = checked_ids(run, "run")
    qids, docnos = run["qid"].astype(str).tolist(), run["docno"].astype(str).tolist()
    bad = next((i for i, q in enumerate(qids) if q.startswith("#")), None)
    if bad is not None:  # the line would be a comment to read_run (and trec_eval 10): the ranking lost
        raise ValueError(f"run row {bad}: query id {qids[bad]!r} starts with '#', which TREC readers (read_run, "
                         "trec_eval 10) skip as a comment line")

    def at(i: int) -> str:
        return f"run row {i} (query {qids[i]!r}, document {docnos[i]!r})"

    scores = _floats(run["score"], "score", at)
    bad = ~np.isfinite(scores)
    if bad.any():  # read_run, fusion and ranx refuse them; trec_eval would read "nan" with atof
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{at(i)}: score {_shown(run['score'].iat[i])} is not a finite number, which a run file "
                         "cannot hold")
    ranks = _floats(run["rank"], "rank", at)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(ranks) & (ranks == np.round(ranks)) & (np.abs(ranks) < 2.0**63))
    if bad.any():  # int() would truncate 1.7 to 1 silently
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{at(i)}: rank {_shown(run['rank'].iat[i])} is not an integer")
    # integer ranks as written (an int64 beyond 2**53 keeps its digits); float ones through their integral value
    rank_text = (run["rank"].astype(np.int64) if run["rank"].dtype.kind in "iu" else ranks.astype(np.int64)).tolist()
    with atomic_write(path) as f:
        for q, d, r, s, t in zip(qids, docnos, rank_text, scores.tolist(), tags):
            f.write(f"{q} Q0 {d} {r} {s!r} {t}\n")


def _shown(value: object) -> str:
    """A cell as a message shows it: ``nan``, ``1.7``, ``'x'`` (not ``np.float64(nan)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _floats(col: pd.Series, name: str, at) -> np.ndarray:
    """A column as float64 (missing values NaN); a value that is no number raises as ``float()`` does, a
    ``ValueError`` (``"x"``) or ``TypeError`` (an object), naming its row."""
    try:
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        pass
    for i, v in enumerate(col.tolist()):
        try:
            float(v)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{at(i)}: {name} {_shown(v)} is not a number") from None
    raise AssertionError("unreachable: the column failed to convert but no value is bad")  # pragma: no cover


def run_from_scores(
    qid: ArrayLike, docno: ArrayLike, score: ArrayLike, *, tag: str = "ltrkit", k: int | None = None
) -> pd.DataFrame:
    """Build a run from per-row scores: within each query, rank by score descending (ties keep input order).

    Parameters
    ----------
    qid, docno, score : array-like of shape (n_rows,)
        Rows of one query must be contiguous. A NaN score is an error (it has no place in a ranking); ``+-inf``
        ranks first or last.
    tag : str, default="ltrkit"
        The run's name, in its sixth column (one token: no whitespace).
    k : int, optional
        Keep only the top ``k`` of each query.

    Examples
    --------
    >>> run_from_scores(["1", "1", "2"], ["a", "b", "c"], [0.1, 0.9, 0.5])[["qid", "docno", "rank"]].values.tolist()
    [['1', 'b', 1], ['1', 'a', 2], ['2', 'c', 1]]
    """
    check_run_tag(tag)
    missing = pd.isna(np.asarray(qid, dtype=object))  # refused as ids, before 'nan' becomes one as text
    if missing.any():
        raise ValueError(f"qid holds a missing id ({np.asarray(qid, dtype=object)[missing][0]!r}) at row "
                         f"{int(np.flatnonzero(missing)[0])}: every row needs its query's id")
    qid, docno = np.asarray(qid, dtype=object), np.asarray(docno, dtype=object)
    score = np.asarray(score, dtype=np.float64)
    if not (qid.shape == docno.shape == score.shape):
        raise ValueError(
            f"qid, docno and score must have the same length, got {qid.shape}, {docno.shape}, {score.shape}"
        )
    from ltr.metrics.trec import checked_ids  # 1.0 is '1', as evaluate_run reads it (it was '1.0': trial t60)

    if qid.ndim == 1:  # (another shape is refused below, as group offsets are)
        ids = checked_ids(pd.DataFrame({"qid": qid, "docno": docno}), "the run")
        qid, docno = ids["qid"].to_numpy(), ids["docno"].to_numpy()
    qid, docno = qid.astype(str), docno.astype(str)
    if np.isnan(score).any():
        i = int(np.flatnonzero(np.isnan(score))[0])
        raise ValueError(f"score is NaN at row {i} (query {str(qid[i])!r}, document {str(docno[i])!r}): a NaN "
                         "score has no place in a ranking")
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

        The id and the text are escaped (``&`` as ``&amp;``, ``<`` as ``&lt;``, ``>`` as ``&gt;``), as the
        reader decodes them, so that any text reads back as written: markup (``cat <b>mat</b>``, ``</top>``)
        cannot end the field or the record, nor be taken for tags and dropped, and ``AT&amp;T`` stays those
        characters. A text that starts with a label readers drop (``Topic:``, ``Number:``, ``Description:``,
        ``Narrative:``) is written after ``Topic:``, which is dropped in its place. An empty text is an empty
        ``<title>`` (read back empty, with the reader's warning).

        ``tsv``: ``qid<TAB>text`` (MS MARCO's ``queries.tsv``).

        Either way a text is written on one line, its runs of whitespace (line breaks, tabs) collapsed to one
        space, and without leading or trailing whitespace: TREC readers join a field's lines and collapse its
        whitespace, whatever the escaping, so no topics file can hold them (a query's words are unchanged).

    Raises
    ------
    ValueError
        An unknown format; an empty query id or one with whitespace; an empty text in ``tsv`` (in ``trec``: when
        every text is empty, which reads as no topic at all).

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
    empty = 0
    for qid, text in queries.items():
        q = str(qid)
        if not q or any(ch.isspace() for ch in q):
            raise ValueError(f"query id {q!r} is empty or has whitespace, which topic files cannot hold")
        if not isinstance(text, str):
            raise TypeError(f"the text of query {q!r} must be a str, got {type(text).__name__}")
        one_line = " ".join(text.split())
        if format == "trec":
            empty += not one_line
            if _TOPIC_LABEL.match(one_line):  # "Topic: x" would read back as "x"
                one_line = f"Topic: {one_line}"
            title = f" {html.escape(one_line, quote=False)}" if one_line else ""
            out.append(f"<top>\n<num> Number: {html.escape(q, quote=False)}\n<title>{title}\n</top>\n\n")
        elif not one_line:
            raise ValueError(f"the text of query {q!r} is empty")
        else:
            out.append(f"{q}\t{one_line}\n")
    if out and empty == len(out):  # the reader refuses a file whose every topic is empty
        raise ValueError(f"every query text is empty ({len(out)} queries): a topics file of them reads as no topic")
    with atomic_write(path) as f:
        f.write("".join(out))
    return Path(path)
