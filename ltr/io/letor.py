"""LETOR / svmlight-with-qid feature files: strict, fast, correctly rounded reading and bit-exact writing.

A line is ``label [qid:Q] id:value id:value ... [# comment]``: feature ids are 1-based (column ``j`` of ``X``
holds id ``j + 1``), rows of one query are contiguous, and LETOR 4.0 puts the document id in the comment
(``#docid = GX004-93-7097963 inc = ... prob = ...``). Blank lines and lines that start with ``#`` are skipped;
``\\r\\n`` line endings, trailing blanks and a missing final newline are accepted. Files are plain text, gzip,
bzip2 or xz (recognised by their first bytes, whatever the name; multi-stream files too).

Sidecars, as LightGBM and XGBoost find them: group sizes in ``PATH.query`` (LightGBM) or ``PATH.group`` (XGBoost),
one per line, and row weights in ``PATH.weight`` (one per line) are picked up by default when they exist beside
the data file (for ``X.gz``, ``X.bz2``, ``X.xz`` also ``X.query``, ``X.group``, ``X.weight``); ``query_file=`` /
``weight_file=`` name other files or (``None``) turn them off. The returned dataset's ``sources`` records which
files were read.

:func:`write_letor` starts its files with one header comment that records what plain svmlight cannot::

    # ltrkit-letor: {"version": 1, "n_features": 2, "feature_names": ["bm25", "tf idf"], "comments": false, ...}

(one line), so that ``read_letor(write_letor(path, d)).equals(d)`` (with ``nonfinite="allow"`` for data holding NaN
or infinities, which are written as ``nan`` and ``inf``): it keeps
the width (trailing features may never be stored), the feature names, and whether the ``#...`` text on each line
is a comment of the dataset or only carries its doc ids. A dataset made by the feature layer also carries its
``feature_set`` description there, as the line's last entry (absent otherwise, so other files are as before).
Other readers (scikit-learn, XGBoost) skip it as a comment line; LightGBM accepts no comments and no ``qid:`` at
all, so write for it with ``qid=False``, which leaves the header out and puts the group sizes in ``PATH.query``.

Parsing is done by the Numba kernels of :mod:`ltr.io._letor_parse` over the file's bytes; see there for the
rounding argument.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gzip
import json
import logging
import math
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ltr._checked_io import raise_if_interrupted
from ltr._dataset import LABEL_LIMIT, RankingDataset
from ltr.exceptions import LetorFormatError, LetorGroupError, NoDataLinesError
from ltr.groups import group_ptr_from_qid
from ltr.io import _letor_parse as _k
from ltr.io.files import GZIP_MAGIC, checked_path, compression, open_raw, read_bytes, refuse_utf16, sidecar_stems
from ltr.io.outputs import STDOUT, atomic_write
from ltr.reader_options import Placeholder, value_options
from ltr.threads import numba_threads, workqueue_turn

log = logging.getLogger(__name__)

__all__ = ["LetorGroupError", "read_letor", "read_options_of", "read_query_file", "read_weight_file", "row_line",
           "source_rows", "with_source_rows", "write_letor", "write_query_file", "write_weight_file"]

QUERY_SUFFIXES = (".query", ".group")  # LightGBM, XGBoost: group sizes
WEIGHT_SUFFIXES = (".weight",)  # LightGBM: one weight per row

HEADER_PREFIX = b"# ltrkit-letor:"
HEADER_VERSION = 1
_BOM = b"\xef\xbb\xbf"
_INT32_MAX = 2**31 - 1
_FLT_MAX = np.float32(np.finfo(np.float32).max)
_WINDOW_BYTES = 16 << 20  # streaming window: peak memory is the result plus about this much (64 MiB read no faster)
_CHUNK_BYTES = 1 << 20  # pass granularity: small enough to balance threads, large enough to amortise
_SLOW_CAP = 64  # slow-path tokens remembered per chunk before that chunk is re-parsed alone
_DENSE_GUARD_BYTES = 2**31  # an inferred dense matrix this large and this empty is refused (sparse=True, or a width)


def mostly_empty_dense(n_rows: int, width: int, nnz: int, itemsize: int = 4) -> bool:
    """Whether a dense ``n_rows x width`` matrix holding ``nnz`` non-zero values is one the reader refuses to make:
    over 2 GiB, and fewer than one value in 16 set (``sparse=True`` holds it).

    Examples
    --------
    >>> mostly_empty_dense(3000, 2_000_000, 3000 * 40), mostly_empty_dense(3000, 46, 3000 * 40)
    (True, False)
    """
    return n_rows * width * itemsize > _DENSE_GUARD_BYTES and nnz * 16 < n_rows * width
#: A comment's document id (``docid = X``, ``docid=X``, ``docid:X``; not the key of the next pair: '#docid = inc = 0.5',
#: a row whose id is missing, has none, not the id 'inc'), as the reader takes it. Only a separator standing apart
#: marks a key: an id may end in '=' or ':' (base64 ids do: '#docid = aGk= inc = 1' is 'aGk='), and any id without
#: whitespace that the writer puts as 'docid = X' reads back as X. Whitespace is ASCII's, as in TREC runs
#: (:mod:`ltr.io.trec`): a no-break space is part of an id ('x\xa0a' was cut to 'x', and two documents became one
#: in ltr predict --run: trial t71).
DOCID = re.compile(r"\bdocid\s*[=:]\s*(?!\S+\s+[=:](?:\s|$))(\S+)", re.ASCII)
_WHITESPACE = re.compile(r"\s", re.ASCII)
_DECIMAL = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


# ----------------------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------------------


def read_letor(
    path: str | os.PathLike,
    *,
    n_features: int | None = None,
    query_file: str | os.PathLike | bool | None = "auto",
    weight_file: str | os.PathLike | bool | None = "auto",
    missing: float = 0.0,
    sparse: bool = False,
    sort: bool = False,
    nonfinite: str = "error",
    overflow: str = "error",
    unjudged: str = "error",
    null: str = "error",
    zero_based: bool = False,
    encoding: str = "utf-8",
    n_jobs: int | None = None,
    dtype: str | type | np.dtype = "float32",
) -> RankingDataset:
    """Read a LETOR / svmlight file (plain, gzip, bzip2 or xz) into a :class:`~ltr.datasets.RankingDataset`.

    Every value is the correctly rounded float64 of its decimal text, cast to float32 (exactly what
    ``strtod`` followed by a cast gives, as in scikit-learn's ``load_svmlight_file``); labels are float64.

    Memory: the file is read twice in windows of whole lines (16 MiB, decompressed twice for gzip), never whole, and
    the arrays are allocated once at their final size, so the peak is the result plus about one window (issue #12;
    ``benchmarks/bench_memory.py``). ``sort=True`` reordering rows and ``unjudged="drop"`` dropping some make one
    copy of ``X``. A pipe (``/dev/stdin``, ``<(zstd -dc ...)``), a bzip2 or an xz file cannot be read twice: its
    text is held whole, once (the peak is the result plus the text: 0.96 GB for a 513 MB file of 303,516 x 136
    through a pipe, 0.52 GB from the file itself).

    Parameters
    ----------
    path : str or PathLike
        The file; gzip-compressed when it starts with the gzip magic bytes.
    n_features : int, optional
        Width of ``X``, so that train and test files agree; a feature id above it is an error. Default: the
        width recorded in an ``ltrkit-letor`` header, else the largest id in the file.
    query_file : "auto", path, or None, default="auto"
        Group sizes, one positive integer per line, in row order (LightGBM's ``.query``, XGBoost's ``.group``).
        ``"auto"`` (or ``True``) uses ``PATH.query`` or ``PATH.group`` and, for ``PATH`` ending in ``.gz``,
        ``.bz2`` or ``.xz``, the same names without it, when one exists (two that disagree are an error);
        ``None`` (or ``False``) reads no sidecar. With a sidecar, ``qid:`` tokens are optional; if present they
        must change exactly at the sidecar's group boundaries. Without qids, ``qid`` is the group's position in the
        sidecar (``0, 1, ...``).
    weight_file : "auto", path, or None, default="auto"
        Row weights, one finite non-negative number per line (LightGBM's ``.weight``); found as ``query_file``
        is, under the name ``PATH.weight``. They become the dataset's ``weight``.
    missing : float, default=0.0
        Value of the features a line does not list (dense only; e.g. ``np.nan``).
    sparse : bool, default=False
        Return ``X`` as a CSR matrix of the stored entries (explicit zeros kept, ids sorted within a row).
    sort : bool, default=False
        If the rows of a query are not contiguous, sort rows stably by qid instead of raising.
    nonfinite : {"error", "allow"}, default="error"
        What to do with ``nan`` / ``inf`` feature values.
    overflow : {"error", "clip"}, default="error"
        What to do with values beyond the float32 range (Istella has ``1.79769313486e+308``): raise, or clip
        to ``+-3.4028235e38``.
    unjudged : {"error", "drop", "keep"}, default="error"
        What to do with label ``-1`` (unjudged documents in MQ2007/MQ2008-semi): raise, drop those rows, or keep
        them with their label -1 (to score them: the label of a row to predict does not matter).
    null : {"error", "nan"}, default="error"
        What to do with ``NULL`` feature values (LETOR's NULL versions, e.g. OHSUMED's ``Feature-null``: a value
        that could not be computed): raise, or read them as missing values (NaN, whatever ``nonfinite`` says).
    zero_based : bool, default=False
        Feature ids are column numbers from 0 (id ``j`` is column ``j``), as scikit-learn's ``dump_svmlight_file``
        writes them and as LightGBM's and XGBoost's own text readers read every svmlight file (a 1-based LETOR file
        read so has an empty column 0: the columns of a model those engines trained on the file). Default: LETOR's
        1-based ids (id ``j`` is column ``j - 1``), as scikit-learn's ``load_svmlight_file(zero_based=False)``.
    encoding : str, default="utf-8"
        Encoding of the comments (the data part must be ASCII).
    n_jobs : int, optional
        Numba threads for parsing; default: Numba's current setting.
    dtype : {"float32", "float64"}, default="float32"
        The values' type in ``X``: float32, as XGBoost keeps every value and as the toolkit trains; or float64, each
        value the correctly rounded double of its text, as LightGBM's own file reader reads it to within an ulp (its
        parser is not correctly rounded: ``-1.027891`` reads 1 ulp off, with or without ``precise_float_parser``; on the
        MQ2008 and MSLR samples, models trained from either read predict alike) (a model LightGBM trained on doubles has
        thresholds between doubles, which a value rounded to float32 can cross: score such a model on float64 values).
        With float64, ``overflow`` applies to values past the double range.

    Returns
    -------
    RankingDataset
        ``doc_ids`` when comments carry ``docid = X`` (also ``docid=X``, ``docid:X``); ``comments`` (the raw text
        after ``#``, ``""`` on lines without one) when any line has a comment; ``feature_names`` from the header;
        ``weight`` from a weight file; ``sources``: ``{"data": PATH}`` plus ``"query"`` and ``"weight"`` for the
        sidecars read.

    Raises
    ------
    LetorFormatError
        For any malformed input, naming the path, the line and the offending token: a label or value that is not
        a number, a token without a colon, a missing or non-integer qid, a feature id that is 0, negative,
        repeated on its line or above ``n_features``, NaN/inf or out-of-range values (unless allowed), label
        ``-1`` (unless dropped), an empty file, NUL bytes or undecodable comments, a corrupt gzip stream, a sidecar
        that does not fit the data. Each error that a reader option gets past carries it as ``fix``
        (:class:`~ltr.exceptions.FileFormatError`). :class:`LetorGroupError` (also a
        :class:`~ltr.exceptions.GroupError`) when qids are interleaved.

    Examples
    --------
    >>> import os, tempfile
    >>> from ltr.datasets import make_ranking
    >>> d = make_ranking(3, 4, 5, random_state=0)
    >>> path = write_letor(os.path.join(tempfile.mkdtemp(), "train.txt"), d)
    >>> back = read_letor(path)
    >>> back.equals(d), back.n_queries, back.n_features
    (True, 3, 5)
    """
    path = Path(checked_path(path))
    spath = str(path)
    _check_choice("nonfinite", nonfinite, ("error", "allow"))
    _check_encoding(encoding)
    _check_choice("overflow", overflow, ("error", "clip"))
    _check_choice("unjudged", unjudged, ("error", "drop", "keep"))
    _check_choice("null", null, ("error", "nan"))
    wide = _wide(dtype)
    for name, flag in (("zero_based", zero_based), ("sparse", sparse), ("sort", sort)):
        if not isinstance(flag, (bool, np.bool_)):  # sparse='no' read as True: another model for XGBoost (trial t66)
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    if n_features is not None:
        if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)):
            raise TypeError(f"n_features must be an int or None, got {type(n_features).__name__}")
        if not 0 <= n_features <= _INT32_MAX:
            raise ValueError(f"n_features must be in 0..{_INT32_MAX}, got {n_features}")
        n_features = int(n_features)
    try:
        missing = float(missing)
    except (TypeError, ValueError):  # (float()'s words named no option)
        raise TypeError(f"missing must be a number (e.g. 0.0 or float('nan')), got {missing!r}") from None
    if sparse and missing != 0.0:
        raise ValueError(f"missing={missing!r} needs a dense result: sparse matrices store only the listed values")
    # A pipe (/dev/stdin, <(...)) is read once, whole: the streaming path opens the file twice and seeks; so is a
    # bzip2 or xz file (the streaming path reads plain and gzip files).
    whole = path.exists() and not path.is_file() and not path.is_dir()
    gz = False
    if not whole:
        head = _open_check(path)
        gz, whole = head == "gzip", head in ("bzip2", "xz")
    buf = None
    if whole:
        data = read_bytes(path, error=LetorFormatError, what="LETOR file")
        refuse_utf16(data, path, LetorFormatError)
        buf = np.frombuffer(data, np.uint8)  # read-only: the parser never writes into the text
    qpath = _resolve_sidecar(path, query_file, QUERY_SUFFIXES, "query_file", read_query_file)
    sizes = read_query_file(qpath) if qpath is not None else None
    wpath = _resolve_sidecar(path, weight_file, WEIGHT_SUFFIXES, "weight_file", read_weight_file)
    weight = read_weight_file(wpath) if wpath is not None else None
    sources = {"data": spath}
    if qpath is not None:
        sources["query"] = str(qpath)
    if wpath is not None:
        sources["weight"] = str(wpath)
    with numba_threads(n_jobs):
        auto_query = query_file is True or (isinstance(query_file, str) and query_file == "auto")
        options = dict(n_features=n_features, sizes=sizes, qpath=qpath, auto_query=auto_query, weight=weight,
                       wpath=wpath, sources=sources, missing=missing, sparse=sparse, sort=sort,
                       allow_nonfinite=nonfinite == "allow", clip=overflow == "clip", null_nan=null == "nan",
                       drop_unjudged=None if unjudged == "keep" else unjudged == "drop", encoding=encoding,
                       id0=0 if zero_based else 1, wide=wide)
        if buf is not None:
            data = _parse(buf, spath, **options)
        else:
            try:
                data = _parse_stream(path, gz, spath, **options)
            except _Reparse:
                # Something to report (or the file changed between the passes): the whole-file path finds the line
                # and the token, and raises exactly as it always has.
                data = _parse(_read_bytes(path), spath, **options)
    read = value_options({"missing": missing, "sparse": sparse, "zero_based": zero_based, "nonfinite": nonfinite,
                          "overflow": overflow, "null": null})
    object.__setattr__(data, "_read_options", read or {})  # (read_options_of: a model checks them against its own)
    return data


def read_options_of(data: RankingDataset) -> dict | None:
    """The value-changing reader options (:data:`ltr.reader_options.VALUE_OPTIONS`, as
    :func:`~ltr.reader_options.value_options` writes them; empty: the readers' defaults) :func:`read_letor` read
    ``data`` with; None for a dataset it did not return (built in memory, or derived from one).

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "d.txt")
    >>> _ = open(p, "w").write("0 qid:1 2:1\\n")
    >>> read_options_of(read_letor(p, missing=float("nan"))), read_options_of(read_letor(p))
    ({'missing': 'nan'}, {})
    """
    return getattr(data, "_read_options", None)


def _parse(buf, spath, *, n_features, sizes, qpath, auto_query, weight, wpath, sources, missing, sparse, sort,
           allow_nonfinite, clip, null_nan, drop_unjudged, encoding, id0, wide) -> RankingDataset:
    refuse_utf16(buf[:512].tobytes(), spath, LetorFormatError)  # a tar archive shows only once decompressed
    start = 3 if buf[:3].tobytes() == _BOM else 0
    meta = _read_header(buf, start, spath, encoding)
    _check_declared_base(buf, start, spath, id0)
    if meta and id0 == 0:
        raise LetorFormatError("an ltrkit header: the file was written with 1-based ids (LETOR's), which a "
                               "zero-based reading would shift by one column", spath, 1)
    known = n_features if n_features is not None else meta.get("n_features")
    names = meta.get("feature_names")
    if names is not None and known is not None and len(names) != known:
        raise LetorFormatError(f"the header names {len(names)} features but {known} were asked for (n_features, "
                               "--n-features on the command line)", spath, 1)  # (the header's own are checked)
    limit = known - 1 + id0 if known is not None else _INT32_MAX  # the highest id

    n_chunks = max(1, min(len(buf) // _CHUNK_BYTES + 1, 4096))
    if len(buf) > 64 * 1024:
        n_chunks = max(n_chunks, 4 * numba.get_num_threads())
    bounds = _k.chunk_bounds(buf, start, n_chunks)
    if n_chunks == 1:  # small input: skip waking the thread pool
        counts = np.array([_k.count_chunk(buf, bounds[0], bounds[1], limit)], dtype=np.int64)
    else:
        counts = _turned(_k.count_chunks)(buf, bounds, limit)
    row0 = np.concatenate(([0], np.cumsum(counts[:, 0]))).astype(np.int64)
    nnz0 = np.concatenate(([0], np.cumsum(counts[:, 1]))).astype(np.int64)
    n_rows, nnz = int(row0[-1]), int(nnz0[-1])
    if n_rows == 0:
        cr = int(_k.first_bare_cr(buf, start, len(buf)))  # a first comment line that old Mac line ends made the file
        if cr >= 0:
            raise _error_at(buf, spath, _token_start(buf, cr), _k.ERR_MESSAGES[_k.ERR_CR])
        raise NoDataLinesError("no data lines (empty file?)", spath)
    over = counts[:, 5][counts[:, 5] >= 0]
    if over.size:
        raise _over_error(buf, spath, int(over.min()), known)
    maxid = int(counts[:, 3].max())
    width = known if known is not None else (maxid + 1 - id0 if nnz else 0)
    if not sparse and known is None and mostly_empty_dense(n_rows, width, nnz):
        pos = int(counts[np.argmax(counts[:, 3]), 4])
        raise _error_at(buf, spath, pos, f"feature id {maxid} would make a dense matrix of "
                        f"{n_rows * width * 4 / 2**30:.1f} GiB that is mostly empty", fix={"sparse": True},
                        hint="(or give n_features, the true width)")
    maxtok = int(counts[:, 2].max())

    n_comm = int(counts[:, 6].sum())
    X, Xflat, data, indices, indptr, y, qid, cstart, cend = _allocated(spath, n_rows, nnz, width, sparse, missing,
                                                                       n_comm, wide)
    dst = Xflat if not sparse else data
    args = (row0, nnz0, maxtok, not sparse, width, Xflat, data, indices, indptr, y, qid, cstart, cend,
            allow_nonfinite, clip, null_nan, id0, wide)

    ids = np.arange(len(bounds) - 1, dtype=np.int64)
    slow = [np.empty((ids.size, _SLOW_CAP), dtype=np.int64) for _ in range(3)]
    res = _parse_chunks(buf, bounds, ids, args, slow)
    bad = np.flatnonzero(res[:, 0])
    if bad.size:
        raise _token_error(buf, spath, int(res[bad[0], 0]), int(res[bad[0], 1]), width)
    if n_comm:  # a lone CR in a comment: the rest of the file (old Mac line endings) read as that comment
        cr = int(_turned(_k.first_bare_cr_chunks)(buf, bounds))
        if cr >= 0:
            raise _error_at(buf, spath, _token_start(buf, cr), _k.ERR_MESSAGES[_k.ERR_CR])
    unsorted = bool(res[:, 3].any())
    for k in range(ids.size):
        n_slow = int(res[k, 2])
        if n_slow <= _SLOW_CAP:
            _fix_slow(buf, spath, slow[0][k, :n_slow], slow[1][k, :n_slow], slow[2][k, :n_slow], dst, y, clip, wide)
        else:  # this chunk has many slow numbers: parse it again alone, remembering all of them
            big = [np.empty((1, n_slow), dtype=np.int64) for _ in range(3)]
            _parse_chunks(buf, bounds, ids[k:k + 1], args, big)
            _fix_slow(buf, spath, big[0][0], big[1][0], big[2][0], dst, y, clip, wide)
            del big

    if sparse:
        X = sp.csr_matrix((data, indices, indptr), shape=(n_rows, width))
        if unsorted:
            X.sort_indices()
        X.has_sorted_indices = True

    where = _RowLines(buf, bounds, row0)
    comments, doc_ids = _comments_and_doc_ids(buf, spath, meta, cstart, cend, n_rows, where, encoding)
    n_noqid = int(res[:, 4].sum())
    first_noqid = int(res[res[:, 4] > 0, 5][0]) if n_noqid else -1
    return _finish(buf, spath, where, X, y, qid, comments, doc_ids, names, n_noqid, first_noqid, sizes=sizes,
                   feature_set=meta.get("feature_set"),
                   qpath=qpath, auto_query=auto_query, weight=weight, wpath=wpath, sources=sources,
                   drop_unjudged=drop_unjudged, sort=sort)


def _allocated(spath, n_rows, nnz, width, sparse, missing, n_comm, wide):
    """:func:`_allocate`, a dense matrix more memory than there is refused in a sentence (a width asked for, as
    ``n_features=``, is allocated as asked; an inferred one that is mostly empty is refused before)."""
    try:
        return _allocate(n_rows, nnz, width, sparse, missing, n_comm, wide)
    except MemoryError:
        size = n_rows * width * (8 if wide else 4) / 2**30
        raise LetorFormatError(f"its {n_rows} rows as {width} dense columns need {size:.1f} GiB, more memory than "
                               f"this process can have ({nnz} values)", spath, fix={"sparse": True},
                               hint="(XGBoost reads absent features of sparse data as missing values, not 0)") from None


def _allocate(n_rows, nnz, width, sparse, missing, n_comm, wide):
    """The result arrays, allocated once at their final size (values float64 when ``wide``, else float32)."""
    ftype = np.float64 if wide else np.float32
    if sparse:
        X = np.zeros((0, 0), dtype=ftype)
        data = np.empty(nnz, dtype=ftype)
        indices = np.empty(nnz, dtype=np.int32)
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
    else:
        # np.zeros is lazily zeroed memory: no pass over X before parsing (but -0.0 needs filling).
        X = np.zeros((n_rows, width), dtype=ftype) if missing == 0.0 and math.copysign(1, missing) > 0 else (
            np.full((n_rows, width), missing, dtype=ftype))
        data = np.zeros(0, dtype=ftype)
        indices = np.zeros(0, dtype=np.int32)
        indptr = np.zeros(1, dtype=np.int64)
    Xflat = X.reshape(-1)
    y = np.empty(n_rows, dtype=np.float64)
    qid = np.empty(n_rows, dtype=np.int64)
    # Comment spans only when some line has one: no per-row bookkeeping beyond the result otherwise.
    cstart = np.empty(n_rows if n_comm else 0, dtype=np.int64)
    cend = np.empty(n_rows if n_comm else 0, dtype=np.int64)
    return X, Xflat, data, indices, indptr, y, qid, cstart, cend


def _finish(buf, spath, where, X, y, qid, comments, doc_ids, names, n_noqid, first_noqid, *, sizes, qpath,
            auto_query, weight, wpath, sources, drop_unjudged, sort, feature_set=None) -> RankingDataset:
    """Unjudged rows, qids against the sidecar, query contiguity: the checks after parsing, for both paths.

    ``buf`` is None on the streaming path: every error then raises :class:`_Reparse` (see ``_error_at``).
    """
    n_rows = y.size
    # Labels -1: unjudged documents.
    unj = np.flatnonzero(y == -1.0) if drop_unjudged is not None else np.empty(0, np.intp)  # None: keep them
    keep = None
    if unj.size:
        if not drop_unjudged:
            raise _error_at(buf, spath, where(int(unj[0])), "label -1 marks an unjudged document",
                            fix={"unjudged": "drop"}, hint="to drop such rows")
        keep = np.ones(n_rows, dtype=bool)
        keep[unj] = False
        if not keep.any():
            raise LetorFormatError("every row has label -1 (unjudged): nothing left after dropping them", spath)

    qid, group_of_row = _resolve_qids(buf, spath, qid, n_noqid, first_noqid, where, sizes, qpath, auto_query)
    if weight is not None and weight.size != n_rows:
        raise LetorFormatError(f"{weight.size} weights for the {n_rows} rows of {spath} (one weight per row)",
                               str(wpath), fix={"weight_file": None}, hint="to read no weights")
    gone = 0  # queries whose every row was unjudged: they go with their rows
    if keep is not None:
        rows = np.flatnonzero(keep)
        where.kept = rows
        # queries by their ids: a sidecar group of unjudged rows alone goes, its query stays in another (review 2 of
        # t59: 'went with them' was said of a query still there)
        gone = int(np.unique(qid).size - np.unique(qid[rows]).size)
        X, y, qid = X[rows], y[rows], qid[rows]
        weight = weight[rows] if weight is not None else None
        group_of_row = group_of_row[rows] if group_of_row is not None else None
        comments = comments[rows] if comments is not None else None
        doc_ids = doc_ids[rows] if doc_ids is not None else None
    if group_of_row is not None and qid.size:
        _one_group_per_query(buf, spath, qid, group_of_row, where, qpath)
    key = group_of_row if group_of_row is not None else qid
    group_ptr, order = _group(buf, spath, key, qid, where, sort)
    if order is not None:
        X, y, qid = X[order], y[order], qid[order]
        comments = comments[order] if comments is not None else None
        doc_ids = doc_ids[order] if doc_ids is not None else None
        weight = weight[order] if weight is not None else None
    data = RankingDataset(X=X, y=y, qid=qid, group_ptr=group_ptr, doc_ids=doc_ids, comments=comments,
                          feature_names=tuple(names) if names is not None else None, weight=weight,
                          sources=sources, feature_set=feature_set)
    if order is not None or keep is not None:  # each row's place among the file's rows (see source_rows)
        rows = np.flatnonzero(keep) if keep is not None else np.arange(n_rows)
        object.__setattr__(data, "_source_rows", rows[order] if order is not None else rows)
        object.__setattr__(data, "_source_n_rows", n_rows)
    if unj.size:  # data left out, as asked: said with its count (after every check: said once per read)
        log.warning("%s: %d of %d rows dropped: label -1 (unjudged documents)%s", spath, unj.size, n_rows,
                    f"; {gone} quer{'y' if gone == 1 else 'ies'} had no other row and went with them" if gone else "")
    return data


def row_line(data: RankingDataset, row: int) -> tuple[int, str] | None:
    """``(line number, text)`` of ``data``'s row ``row`` in the LETOR file it was read from, or None when it cannot
    be told (a dataset built in memory). Blank and ``#`` lines are not rows; rows reordered or dropped by the reader
    are mapped back; in a part of the file (:meth:`RankingDataset.subset` of whole queries, as cross-validation
    cuts it) the row is found as the same place in the same query. It rescans the file: meant for an error message,
    whose caller checks the line holds what it reports.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "d.txt")
    >>> _ = open(p, "w").write("# header\\n0 qid:2 1:0\\n\\n1 qid:1 1:5\\n2 qid:2 1:0\\n")
    >>> row_line(read_letor(p, sort=True), 0)     # rows sorted by qid: row 0 is qid 1's
    (4, '1 qid:1 1:5')
    """
    path = (getattr(data, "sources", None) or {}).get("data")
    from ltr.io.files import can_read_again

    if path is None or not can_read_again(path):  # a file, or a pipe's kept bytes
        return None
    mapped = source_rows(data)
    ptr = np.asarray(data.group_ptr)
    q = int(np.searchsorted(ptr, row, side="right")) - 1
    qid, place = str(data.qid[ptr[q]]) if data.qid is not None else None, row - int(ptr[q])
    from ltr.io.files import open_binary

    seen, in_query = -1, 0
    with open_binary(path, "LETOR file") as f:
        for number, raw in enumerate(f, start=1):
            text = raw.strip()
            if number == 1 and text.startswith(_BOM):
                text = text[len(_BOM):].strip()
            if not text or text.startswith(b"#"):
                continue
            seen += 1
            line = text.decode("utf-8", errors="replace")
            if mapped is not None:
                if seen == int(mapped[0][row]):
                    return number, line
                continue
            tokens = line.split(None, 2)
            if len(tokens) < 2 or not tokens[1].startswith("qid:"):  # group sizes in a sidecar: rows in file order
                if seen == row:
                    return number, line
                continue
            if tokens[1][4:] == qid:
                if in_query == place:
                    return number, line
                in_query += 1
    return None


def feature_token(line: str, reads: Callable[[str], bool], feature: str | None = None) -> str | None:
    """The first feature token (``id:value``) of a LETOR line whose value text ``reads`` accepts (of id ``feature``
    where one is given and such a token has it), or None: the token an error names. Found by its value, since a
    column's id in the file may differ from its place in the array (ids counted from 0, a ``--features`` subset).

    Examples
    --------
    >>> line = "1 qid:3 1:0.5 2:nan 3:inf # docid = d"
    >>> feature_token(line, lambda v: v != "0.5"), feature_token(line, lambda v: v != "0.5", feature="3")
    ('2:nan', '3:inf')
    """
    tokens = [t for t in line.split("#", 1)[0].split()[1:] if ":" in t and not t.startswith("qid:")
              and reads(t.split(":", 1)[1])]
    return next((t for t in tokens if t.split(":", 1)[0] == feature), tokens[0] if tokens else None)


def source_rows(data: RankingDataset) -> tuple[NDArray[np.intp], int] | None:
    """``(rows, n)``: the place of each of ``data``'s rows among the ``n`` rows of the LETOR file it was read from,
    when :func:`read_letor` reordered (``sort=True``) or dropped (``unjudged="drop"``) rows; None when the rows are
    the file's, in its order. Only the dataset ``read_letor`` returned carries it (not one derived from it).

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "d.txt")
    >>> _ = open(p, "w").write("0 qid:2 1:0\\n1 qid:1 1:0\\n2 qid:2 1:0\\n")
    >>> rows, n = source_rows(read_letor(p, sort=True))
    >>> rows.tolist(), n
    ([1, 0, 2], 3)
    """
    rows = getattr(data, "_source_rows", None)
    return None if rows is None else (rows, int(data._source_n_rows))


def with_source_rows(data: RankingDataset, read: RankingDataset) -> RankingDataset:
    """``data`` (derived from ``read`` with the same rows in the same order: other feature names, say) knowing
    the place of its rows in the file ``read`` came from, as :func:`source_rows` tells it of ``read``."""
    placed = source_rows(read)
    if placed is not None and data.n_rows == read.n_rows:
        object.__setattr__(data, "_source_rows", placed[0])
        object.__setattr__(data, "_source_n_rows", placed[1])
    return data


class _RowLines:
    """Byte offset of a row's line, found again by rescanning its chunk (only ever needed for an error)."""

    def __init__(self, buf, bounds, row0):
        self.buf, self.bounds, self.row0 = buf, bounds, row0
        self.kept: NDArray[np.intp] | None = None  # rows left after dropping unjudged ones

    def __call__(self, r: int) -> int:
        if self.kept is not None:
            r = int(self.kept[r])
        c = int(np.searchsorted(self.row0, r, side="right")) - 1
        return int(_k.row_offset(self.buf, self.bounds[c], self.bounds[c + 1], r - int(self.row0[c])))


def _turned(kernel):
    """``kernel`` (a parallel one), called while this thread has its turn (:func:`ltr.threads.workqueue_turn`):
    two at once from threads abort Python under Numba's workqueue layer."""
    def call(*args):
        with workqueue_turn():
            return kernel(*args)

    return call


def _parse_chunks(buf, bounds, ids, args, slow) -> NDArray[np.int64]:
    """Pass 2 over the chunks ``ids``: in parallel, or directly for a single chunk (no thread-pool wake-up)."""
    raise_if_interrupted()  # a Ctrl-C pass 1's first compilation swallowed: not after pass 2's (trial t58)
    if ids.size > 1:
        return _turned(_k.parse_chunks)(buf, bounds, ids, *args, *slow)
    c = int(ids[0])
    row0, nnz0, *rest = args
    r = _k.parse_chunk(buf, bounds[c], bounds[c + 1], row0[c], row0[c + 1], nnz0[c], nnz0[c + 1], *rest,
                       slow[0][0], slow[1][0], slow[2][0])
    return np.array([[r[0], r[1], r[2], int(r[3]), r[4], r[5]]], dtype=np.int64)



def _over_error(buf, spath, pos: int, known: int | None) -> LetorFormatError:
    """The error of a feature id above the width (``known``, else the int32 limit) at byte ``pos`` of ``buf``."""
    what = f"feature id above n_features={known}" if known is not None else f"feature id above {_INT32_MAX}"
    return _error_at(buf, spath, pos, what, fix={"n_features": Placeholder("the widest file's")}
                     if known is not None else None, hint="(svmlight files need not list the highest ids: "
                     "their widths differ)" if known is not None else None)


def _token_error(buf, spath, code: int, pos: int, width: int) -> LetorFormatError:
    """The error of the parse kernel's ``code`` at byte ``pos`` of ``buf``."""
    fix, hint = _k.ERR_FIXES.get(code, (None, None))
    if code == _k.ERR_FEATURE_ID and _looks_like_qid(_token_at(buf, pos)) and not _line_has_qid(buf, pos):
        hint = "a query id is written qid:<int>, in lower case"
    elif code == _k.ERR_QID and not _token_at(buf, pos).partition(":")[2].lstrip("+-").isdigit():
        hint = ("LETOR and svmlight query ids are integers; for text ids (RankLib keeps them), number the queries "
                "1..n and list the ids beside the file in DATA.qids.tsv (n<TAB>id lines), which ltr predict --run "
                "and ltr cv --run-out write back as the query ids")
    return _error_at(buf, spath, pos, _k.ERR_MESSAGES[code], width=width if code == _k.ERR_FEATURE_ID_ABOVE else None,
                     fix=fix, hint=hint)


def _in_window(path, gz: bool, w: int, lengths: list[int], found: NDArray[np.uint8] | None,
               make) -> LetorFormatError:
    """``make(window)``'s error, an error in the ``w``-th window of the streaming reader, with its line counted
    from the start of the file: the windows before it are read again for their line ends, one at a time, so that
    an error in a file of gigabytes is named without reading the file whole (the whole-file path's way).
    ``lengths``: the windows' lengths, ``found`` the window (or None: ``make`` checks it), when the error was found;
    a window of another length, or that window with other bytes, means the file changed since: the whole-file path
    reports what it holds now (an edit of an earlier window that keeps its length would go unseen: a line count
    off, never a wrong token)."""
    crc = None if found is None else zlib.crc32(found)
    lines = 0
    for i, buf in enumerate(_windows(path, gz)):
        if i >= len(lengths) or len(buf) != lengths[i] or (i == w and crc is not None and zlib.crc32(buf) != crc):
            break
        if i == w:
            e = make(buf)
            return type(e)(e.reason, e.path, e.line + lines, e.token, offset=e.offset, hint=e.hint, fix=e.fix)
        lines += int(_k.count_newlines(buf, len(buf)))
    raise _Reparse


class _Reparse(Exception):
    """Internal: the streaming reader met an error (or a changed file); the whole-file path reports it."""


class _NoLines:
    """``where`` of the streaming path: a row's line is only ever needed for an error, reported by a reparse."""

    kept = None

    def __call__(self, r: int) -> int:
        raise _Reparse


def _open_check(path: Path) -> str | None:
    """Check that ``path`` is a readable file (the messages of :func:`_read_bytes`); its compression (``"gzip"``,
    ``"bzip2"``, ``"xz"`` or None); UTF-16 text is an error naming it."""
    with open_raw(path, "LETOR file") as f:
        head = f.read(6)
    refuse_utf16(head, path, LetorFormatError)
    return compression(head)


def _last_newline(buf: NDArray[np.uint8], n: int) -> int:
    """Index of the last ``\\n`` in ``buf[:n]``, or -1 (scanning back in small blocks: no whole-window temporary)."""
    hi = n
    while hi > 0:
        lo = max(0, hi - (1 << 16))
        hits = np.flatnonzero(buf[lo:hi] == 10)
        if hits.size:
            return lo + int(hits[-1])
        hi = lo
    return -1


def _windows(path: Path, gz: bool) -> Iterator[NDArray[np.uint8]]:
    """The (decompressed) file as consecutive windows of whole lines, read into one reused buffer.

    Each window ends just after a ``\\n`` (the last one at the end of the file); a line longer than the window
    grows it. A window is valid until the next one is requested.
    """
    buf = np.empty(max(1, int(_WINDOW_BYTES)), dtype=np.uint8)
    carry = 0
    try:
        with open(path, "rb") as raw, (gzip.GzipFile(fileobj=raw, mode="rb") if gz else contextlib.nullcontext(
                raw)) as f:
            while True:
                n = carry + _readinto_all(f, buf[carry:])
                if n < buf.size:  # end of the file
                    if n:
                        yield buf[:n]
                    return
                cut = _last_newline(buf, n)
                if cut < 0:  # one line fills the window: grow it
                    bigger = np.empty(2 * buf.size, dtype=np.uint8)
                    bigger[:n] = buf[:n]
                    buf, carry = bigger, n
                    continue
                yield buf[:cut + 1]
                carry = n - cut - 1
                buf[:carry] = buf[cut + 1:n]  # the partial last line starts the next window
    except (OSError, EOFError, zlib.error) as exc:
        if gz:  # a corrupt gzip stream (a download cut short): said as the whole-file path says it, without it
            raise LetorFormatError(f"not a valid gzip file ({exc})", str(path)) from None
        raise _Reparse from None


def _n_chunks(size: int) -> int:
    n_chunks = max(1, min(size // _CHUNK_BYTES + 1, 4096))
    if size > 64 * 1024:
        n_chunks = max(n_chunks, 4 * numba.get_num_threads())
    return n_chunks


def _parse_stream(path, gz, spath, *, n_features, sizes, qpath, auto_query, weight, wpath, sources, missing, sparse,
                  sort, allow_nonfinite, clip, null_nan, drop_unjudged, encoding, id0, wide) -> RankingDataset:
    """The two passes of :func:`_parse` over windows of the file instead of its whole bytes.

    Peak memory is the result plus one window (:data:`_WINDOW_BYTES`), not the result plus the file. Pass 1 counts
    every window's chunks; the arrays are allocated once; pass 2 reads the file again and parses each window's
    chunks into them (for gzip this decompresses twice: memory bought with time). A token the parse kernel refuses
    and a feature id over the width are reported from the window that holds them (:func:`_in_window`), a gzip
    stream cut short as it is met; anything else to report raises :class:`_Reparse`, and :func:`read_letor` reports
    it through the whole-file path, which names line and token.
    """
    lengths: list[int] = []
    all_bounds: list[NDArray[np.int64]] = []
    all_counts: list[NDArray[np.int64]] = []
    meta: dict = {}
    limit = _INT32_MAX
    known = names = None
    for w, buf in enumerate(_windows(path, gz)):
        start = 0
        if w == 0:
            refuse_utf16(buf[:512].tobytes(), spath, LetorFormatError)  # a tar archive shows only once decompressed
            start = 3 if buf[:3].tobytes() == _BOM else 0
            meta = _read_header(buf, start, spath, encoding)  # the first window holds the whole first line
            if (_declared_base(buf, start) or (id0,))[0] != id0:  # reported by the whole-file path
                raise _Reparse
            if meta and id0 == 0:
                raise _Reparse
            known = n_features if n_features is not None else meta.get("n_features")
            names = meta.get("feature_names")
            if names is not None and known is not None and len(names) != known:
                raise _Reparse
            limit = known - 1 + id0 if known is not None else _INT32_MAX
        n_chunks = _n_chunks(len(buf) - start)
        bounds = _k.chunk_bounds(buf, start, n_chunks)
        if n_chunks == 1:
            counts = np.array([_k.count_chunk(buf, bounds[0], bounds[1], limit)], dtype=np.int64)
        else:
            counts = _turned(_k.count_chunks)(buf, bounds, limit)
        lengths.append(len(buf))
        all_bounds.append(bounds)
        all_counts.append(counts)
    buf = None  # the last window of pass 1, not held while pass 2 reads its own (the peak was two windows)
    if not lengths:
        raise _Reparse
    counts = np.concatenate(all_counts)
    first_chunk = np.concatenate(([0], np.cumsum([b.size - 1 for b in all_bounds]))).astype(np.int64)
    row0 = np.concatenate(([0], np.cumsum(counts[:, 0]))).astype(np.int64)
    nnz0 = np.concatenate(([0], np.cumsum(counts[:, 1]))).astype(np.int64)
    n_rows, nnz = int(row0[-1]), int(nnz0[-1])
    if n_rows == 0:
        raise _Reparse
    over = np.flatnonzero(counts[:, 5] >= 0)
    if over.size:  # the earliest in the first window that has one, as the whole-file path finds it
        w = int(np.searchsorted(first_chunk, over[0], side="right")) - 1
        pos = int(counts[over[(over >= first_chunk[w]) & (over < first_chunk[w + 1])], 5].min())

        def over_at(window):  # the id is still there, over the width, as pass 1 counted it
            bounds = all_bounds[w]
            again = (_turned(_k.count_chunks)(window, bounds, limit) if bounds.size > 2 else
                     np.array([_k.count_chunk(window, bounds[0], bounds[1], limit)], dtype=np.int64))
            if pos not in again[:, 5]:
                raise _Reparse
            return _over_error(window, spath, pos, known)

        raise _in_window(path, gz, w, lengths, None, over_at)
    maxid = int(counts[:, 3].max())
    width = known if known is not None else (maxid + 1 - id0 if nnz else 0)
    if not sparse and known is None and mostly_empty_dense(n_rows, width, nnz):  # the whole-buffer path says why
        raise _Reparse
    maxtok = int(counts[:, 2].max())
    n_comm = int(counts[:, 6].sum())
    X, Xflat, data, indices, indptr, y, qid, cstart, cend = _allocated(spath, n_rows, nnz, width, sparse, missing,
                                                                       n_comm, wide)
    dst = Xflat if not sparse else data
    texts = np.full(n_rows, "", dtype=object) if (n_comm or meta.get("comments") or meta.get("doc_ids")) else None
    unsorted = False
    n_noqid = 0
    n_windows = 0
    for w, buf in enumerate(_windows(path, gz)):
        if w >= len(lengths) or len(buf) != lengths[w]:
            raise _Reparse  # the file changed since pass 1
        n_windows += 1
        if n_comm and _turned(_k.first_bare_cr_chunks)(buf, all_bounds[w]) >= 0:
            raise _Reparse
        c0, c1 = int(first_chunk[w]), int(first_chunk[w + 1])
        args = (row0[c0:c1 + 1], nnz0[c0:c1 + 1], maxtok, not sparse, width, Xflat, data, indices, indptr, y, qid,
                cstart, cend, allow_nonfinite, clip, null_nan, id0, wide)
        ids = np.arange(c1 - c0, dtype=np.int64)
        slow = [np.empty((ids.size, _SLOW_CAP), dtype=np.int64) for _ in range(3)]
        res = _parse_chunks(buf, all_bounds[w], ids, args, slow)
        bad = np.flatnonzero(res[:, 0])
        if bad.size:
            code, pos = int(res[bad[0], 0]), int(res[bad[0], 1])
            raise _in_window(path, gz, w, lengths, buf, functools.partial(_token_error, spath=spath, code=code, pos=pos,
                                                                          width=width))
        unsorted = unsorted or bool(res[:, 3].any())
        n_noqid += int(res[:, 4].sum())
        try:  # an error here is said against this window (its line counted from the window's start) ...
            for k in range(ids.size):
                n_slow = int(res[k, 2])
                if n_slow <= _SLOW_CAP:
                    _fix_slow(buf, spath, slow[0][k, :n_slow], slow[1][k, :n_slow], slow[2][k, :n_slow], dst, y,
                              clip, wide)
                else:
                    big = [np.empty((1, n_slow), dtype=np.int64) for _ in range(3)]
                    _parse_chunks(buf, all_bounds[w], ids[k:k + 1], args, big)
                    _fix_slow(buf, spath, big[0][0], big[1][0], big[2][0], dst, y, clip, wide)
                    del big
            if n_comm:
                r0, r1 = int(row0[c0]), int(row0[c1])
                rows = r0 + np.flatnonzero(cstart[r0:r1] >= 0)
                _decode_comments(buf, spath, rows, cstart, cend, texts, cstart.__getitem__, encoding)
        except LetorFormatError as e:  # ... and then placed in the file by counting the lines of the windows before
            raise _in_window(path, gz, w, lengths, buf, lambda window, e=e: e) from None
    if n_windows != len(lengths):
        raise _Reparse
    del cstart, cend
    if sparse:
        X = sp.csr_matrix((data, indices, indptr), shape=(n_rows, width))
        if unsorted:
            X.sort_indices()
        X.has_sorted_indices = True
    comments, doc_ids = _split_comments(texts, meta) if texts is not None else (None, None)
    return _finish(None, spath, _NoLines(), X, y, qid, comments, doc_ids, names, n_noqid, -1, sizes=sizes,
                   feature_set=meta.get("feature_set"),
                   qpath=qpath, auto_query=auto_query, weight=weight, wpath=wpath, sources=sources,
                   drop_unjudged=drop_unjudged, sort=sort)

def _fix_slow(buf, spath, pos, end, dest, dst, y, clip, wide) -> None:
    """Convert the numbers the kernel left to Python's correctly rounded ``float`` (kept as it is when ``wide``:
    ``dst`` is float64, and a finite text past the double range is the overflow). On the streaming path ``buf`` is
    a window, and an error's line is counted from the window's start (:func:`_in_window` adds the lines before)."""
    for s, e, d in zip(pos.tolist(), end.tolist(), dest.tolist()):
        v = float(buf[s:e].tobytes())
        if d < 0:
            if not math.isfinite(v):
                raise _error_at(buf, spath, s, _k.ERR_MESSAGES[_k.ERR_LABEL_NONFINITE])
            if abs(v) > LABEL_LIMIT:  # (only a slow number can be: the fast path stops below 1e38)
                raise _error_at(buf, spath, s, "the label must be a number within +-1e38 (LightGBM clips labels "
                                               "beyond it; both engines keep them as float32)")
            y[-d - 1] = v
            continue
        with np.errstate(over="ignore"):
            f = v if wide else np.float32(v)
        if math.isinf(f):  # the text is finite (literal inf never takes this path): float32 (float64) overflow
            if not clip:
                fix, hint = _k.ERR_FIXES[_k.ERR_VALUE_OVERFLOW]
                what = _k.ERR_MESSAGES[_k.ERR_VALUE_OVERFLOW]
                if wide:  # dtype float64: its own range
                    what, hint = what.replace("float32", "float64"), f"to clip it to +-{sys.float_info.max!r}"
                raise _error_at(buf, spath, _token_start(buf, s), what, fix=fix, hint=hint)
            top = sys.float_info.max if wide else _FLT_MAX
            f = top if v > 0 else -top
        dst[d] = f


def _comments_and_doc_ids(buf, spath, meta, cstart, cend, n, where, encoding):
    rows = np.flatnonzero(cstart >= 0)
    want_comments = meta.get("comments")
    want_doc_ids = meta.get("doc_ids")
    if rows.size == 0 and not want_comments and not want_doc_ids:
        return None, None
    texts = np.full(n, "", dtype=object)
    _decode_comments(buf, spath, rows, cstart, cend, texts, where, encoding)
    return _split_comments(texts, meta)


def _decode_comments(buf, spath, rows, cstart, cend, texts, where, encoding) -> None:
    """``texts[r]``: the decoded comment of each row in ``rows``; an undecodable one is an error at ``where(r)``,
    a byte offset in ``buf`` on its line."""
    for r, s, e in zip(rows.tolist(), cstart[rows].tolist(), cend[rows].tolist()):
        try:
            texts[r] = buf[s:e].tobytes().decode(encoding)
        except UnicodeDecodeError as exc:
            raise _error_at(buf, spath, where(r), f"the comment is not valid {encoding} ({exc.reason})",
                            token=buf[s:e].tobytes()[:60].decode("latin-1"),
                            fix=None if encoding.lower() in ("latin-1", "latin1", "iso-8859-1") else
                            {"encoding": "latin-1"}, hint="if the comments are Latin-1 (Istella's are)") from None


def _split_comments(texts, meta):
    """``(comments, doc_ids)`` from the decoded comment texts, as the header (if any) asks."""
    want_comments = meta.get("comments")
    want_doc_ids = meta.get("doc_ids")
    n = texts.size
    doc_ids = None
    if want_doc_ids is not False:  # into the array directly: a list of every row's match held ~170 bytes a row
        doc_ids = np.full(n, "", dtype=object)
        found = False
        for i, t in enumerate(texts):
            m = DOCID.search(t) if t else None
            if m is not None:
                doc_ids[i] = m.group(1)
                found = True
        if not (want_doc_ids or found):
            doc_ids = None
    comments = texts if want_comments is not False else None
    return comments, doc_ids


def _resolve_qids(buf, spath, qid, n_noqid, first_noqid, where, sizes, qpath, auto_query):
    """Return ``(qid, group of each row or None)`` after checking the qid tokens against the sidecar."""
    if sizes is None:
        if n_noqid:
            why = ("no group-sizes file beside it (DATA.query or DATA.group)" if auto_query else
                   "no group-sizes file is read")
            raise _error_at(buf, spath, first_noqid, f"missing qid:<int> after the label, and {why}",
                            token_after_label=True, fix={"query_file": Placeholder("group sizes file")},
                            hint="(LightGBM's .query layout)")
        return qid, None
    n = qid.size
    if int(sizes.sum()) != n:
        said = f"the group sizes in the .query file add up to {int(sizes.sum())} but the data file {spath} has {n} rows"
        if n_noqid == n:  # no qid token to fall back on: the sizes are another file's
            raise LetorFormatError(f"{said}, and no qid tokens: the sizes file is not this data file's", str(qpath))
        raise LetorFormatError(said, str(qpath), fix={"query_file": None},
                               hint="if the data file's qid tokens give the groups")
    group = np.repeat(np.arange(sizes.size, dtype=np.int64), sizes)
    if n_noqid == n:
        return group.copy(), group
    if n_noqid:
        raise _error_at(buf, spath, first_noqid, "missing qid:<int> (other lines have one)", token_after_label=True)
    mismatch = np.flatnonzero((qid[1:] != qid[:-1]) != (group[1:] != group[:-1]))
    if mismatch.size:
        raise _error_at(buf, spath, where(int(mismatch[0]) + 1), "the qid tokens do not change exactly where the "
                        f"groups of {qpath} do", token_after_label=True, fix={"query_file": None},
                        hint="to group by the qid tokens alone")
    return qid, group


def _one_group_per_query(buf, spath, qid, group, where, qpath) -> None:
    """A query id in two groups of the sidecar (rows 7, 3, 7, 7 in groups 1, 1, 2) is refused, as the same rows
    without the sidecar are (not contiguous): they were read as two queries 'query 7', printed twice by ltr evaluate
    -q and merged by trec_eval (trial t59). Checked on the rows left after unjudged ones are dropped, as contiguity
    is (a dropped group's id was refused; review of trial t59)."""
    starts = np.concatenate(([0], np.flatnonzero(group[1:] != group[:-1]) + 1))
    _, first = np.unique(qid[starts], return_index=True)
    if first.size == starts.size:
        return
    if buf is None:
        raise _Reparse
    again = int(np.setdiff1d(np.arange(starts.size), first)[0])
    r = int(starts[again])
    prev = int(starts[np.flatnonzero(qid[starts] == qid[r])[0]])
    raise _error_at(buf, spath, where(r), f"query {int(qid[r])} is group {int(group[r]) + 1} of {qpath} and already "
                    f"group {int(group[prev]) + 1} (line {_line_of(buf, where(prev))}): a query is one group",
                    token_after_label=True, fix={"query_file": None}, hint="to group by the qid tokens alone")


def _group(buf, spath, key, qid, where, sort):
    """``group_ptr`` from per-row keys, checking that each query is one contiguous run."""
    n = key.size
    starts = np.concatenate(([0], np.flatnonzero(key[1:] != key[:-1]) + 1))
    run_keys = key[starts]
    _, first = np.unique(run_keys, return_index=True)
    if first.size == run_keys.size:
        return np.concatenate((starts, [n])).astype(np.int64), None
    if not sort:
        is_first = np.zeros(run_keys.size, dtype=bool)
        is_first[first] = True
        again = int(np.flatnonzero(~is_first)[0])
        r = int(starts[again])
        prev = int(starts[np.flatnonzero(run_keys == run_keys[again])[0]])
        raise _error_at(buf, spath, where(r), LetorGroupError,
                        f"rows of query {int(qid[r])} are not contiguous: it already appeared at line "
                        f"{_line_of(buf, where(prev))}", token_after_label=True, fix={"sort": True},
                        hint="to sort rows stably by qid")
    group_ptr, order = group_ptr_from_qid(key, sort=True)
    return group_ptr, order


# ----------------------------------------------------------------------------------------------------------------
# Reading helpers: bytes, header, sidecar, errors
# ----------------------------------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> NDArray[np.uint8]:
    """The file's (decompressed) bytes as one ``uint8`` array, without an intermediate copy."""
    with open_raw(path, "LETOR file") as f:
        magic = f.read(2)
        size = os.fstat(f.fileno()).st_size
        f.seek(0)
        if magic != GZIP_MAGIC:
            buf = np.empty(size, dtype=np.uint8)
            n = _readinto_all(f, buf)
            return buf[:n]
        # gzip: the trailer's ISIZE (size mod 2**32 of the last member) is only a hint; grow if it is wrong.
        # Deflate expands at most ~1032x, which bounds the hint of a corrupt trailer.
        hint = 0
        if size >= 18:
            f.seek(-4, os.SEEK_END)
            hint = min(int.from_bytes(f.read(4), "little"), 1100 * size)
            f.seek(0)
        try:
            with gzip.GzipFile(fileobj=f, mode="rb") as g:
                buf = np.empty(max(hint, 1 << 16) + 1, dtype=np.uint8)
                n = _readinto_all(g, buf)
                while n == buf.size:
                    bigger = np.empty(buf.size * 2, dtype=np.uint8)
                    bigger[:n] = buf
                    buf = bigger
                    n += _readinto_all(g, buf[n:])
        except (OSError, EOFError, zlib.error) as exc:
            raise LetorFormatError(f"not a valid gzip file ({exc})", str(path)) from None
        return buf[:n]


def _readinto_all(f, buf: NDArray[np.uint8]) -> int:
    view = memoryview(buf)
    n = 0
    while n < buf.size:
        got = f.readinto(view[n:])
        if not got:
            break
        n += got
    return n


#: scikit-learn's dump_svmlight_file states the base of its ids in its leading comment lines.
_DECLARED_BASE = re.compile(rb"^#\s*Column indices are (zero|one)-based\s*$", re.M | re.I)


def _declared_base(buf, start: int) -> tuple[int, int] | None:
    """The id base (0 or 1) the file's leading comment lines declare, as scikit-learn's ``dump_svmlight_file``
    writes it (``# Column indices are zero-based``), and the offset of that line; None when none does."""
    head = buf[start:start + 4096].tobytes()
    k = 0
    while k < len(head) and head[k:k + 1] == b"#":  # the comment lines before the first data line only
        end = head.find(b"\n", k)
        m = _DECLARED_BASE.match(head[k:end if end >= 0 else len(head)].rstrip(b"\r"))
        if m:
            return (0 if m.group(1).lower() == b"zero" else 1), start + k
        if end < 0:
            break
        k = end + 1
    return None


def _check_declared_base(buf, start: int, spath: str, id0: int) -> None:
    """Refuse to read ids from another base than the one the file declares: a zero-based file whose column 0 is
    never set reads one-based without an error, every feature one column off."""
    declared = _declared_base(buf, start)
    if declared is not None and declared[0] != id0:
        if declared[0] == 0:
            raise LetorFormatError("the file says its column indices are zero-based (scikit-learn's "
                                   "dump_svmlight_file writes that line)", spath, _line_of(buf, declared[1]),
                                   fix={"zero_based": True})
        raise LetorFormatError("the file says its column indices are one-based (scikit-learn's dump_svmlight_file "
                               "writes that line), as LETOR's are: read it without zero_based (--zero-based)", spath,
                               _line_of(buf, declared[1]))


def read_header(path: str | os.PathLike) -> dict:
    """The ``# ltrkit-letor: {...}`` header of a LETOR file (``{}`` when it has none), from its first line only:
    ``feature_names``, ``feature_set`` (the description ``ltr features`` writes), ...

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "plain.txt")
    >>> _ = open(p, "w").write("1 qid:1 1:0.5\\n")
    >>> read_header(p)
    {}
    """
    from ltr.io.files import open_binary

    with open_binary(path, "LETOR file") as f:
        line = f.readline(1 << 26)
    start = 3 if line[:3] == _BOM else 0
    return _read_header(np.frombuffer(line, dtype=np.uint8), start, str(path), "utf-8")


def _read_header(buf, start: int, spath: str, encoding: str) -> dict:
    """The ``# ltrkit-letor: {...}`` header on the first line, or ``{}``."""
    p = len(HEADER_PREFIX)
    if buf[start:start + p].tobytes() != HEADER_PREFIX:
        return {}
    stop = len(buf)
    for off in range(start, len(buf), 1 << 16):  # the first newline, without scanning the whole file
        k = buf[off:off + (1 << 16)].tobytes().find(b"\n")
        if k >= 0:
            stop = off + k
            break
    text = buf[start + p:stop].tobytes()
    try:
        meta = json.loads(text.decode(encoding))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
        if meta.get("version", HEADER_VERSION) != HEADER_VERSION:
            raise ValueError(f"unknown version {meta.get('version')!r}")
        nf = meta.get("n_features")
        if nf is not None and (isinstance(nf, bool) or not isinstance(nf, int) or not 0 <= nf <= _INT32_MAX):
            raise ValueError(f"n_features must be an integer in 0..{_INT32_MAX}")
        names = meta.get("feature_names")
        if names is not None:
            if not isinstance(names, list) or not all(isinstance(s, str) for s in names):
                raise ValueError("feature_names must be a list of strings")
            if nf is not None and len(names) != nf:
                raise ValueError(f"{len(names)} feature names for n_features={nf}")
            meta["n_features"] = len(names)
        for key in ("comments", "doc_ids"):
            if meta.get(key) is not None and not isinstance(meta[key], bool):
                raise ValueError(f"{key} must be true or false")
        if meta.get("feature_set") is not None and not isinstance(meta["feature_set"], dict):
            raise ValueError("feature_set must be a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise LetorFormatError(f"bad ltrkit-letor header ({exc})", spath, 1,
                               text[:60].decode("ascii", "backslashreplace")) from None
    return meta


def _resolve_sidecar(path: Path, arg, suffixes: tuple[str, ...], option: str, read) -> Path | None:
    """The sidecar to read: ``arg`` itself, none, or (``"auto"``) the one found beside the data file."""
    if arg is None or arg is False:
        return None
    if arg is True or (isinstance(arg, str) and arg == "auto"):
        stems = [str(stem) for stem in sidecar_stems(path)]
        found = [Path(stem + suffix) for stem in stems for suffix in suffixes if Path(stem + suffix).is_file()]
        if len(found) > 1:
            contents = [read(f) for f in found]
            if any(not np.array_equal(contents[0], c) for c in contents[1:]):
                raise LetorFormatError(f"sidecars {', '.join(map(str, found))} disagree; name the one to use",
                                       str(path), fix={option: Placeholder("file")})
        return found[0] if found else None
    if not isinstance(arg, (str, os.PathLike)):
        raise TypeError(f"{option} must be 'auto', a path or None, got {type(arg).__name__}")
    return Path(arg)


def _line_of(buf, offset: int) -> int:
    return int(_k.count_newlines(buf, offset)) + 1


def _token_start(buf, offset: int) -> int:
    while offset > 0 and buf[offset - 1] not in (9, 10, 32):
        offset -= 1
    return offset


def _token_at(buf, offset: int) -> str:
    """The token at ``offset``: up to a blank, a line end or ``#`` (at least one byte, at most 80); empty at a line
    end (a line that stops where a token was due: not the next line's first token)."""
    if offset < len(buf) and (buf[offset] == 10 or (buf[offset] == 13 and (offset + 1 == len(buf)
                                                                             or buf[offset + 1] == 10))):
        return ""
    stop = min(len(buf), offset + 80)
    end = min(offset + 1, stop)
    while end < stop and buf[end] not in (9, 10, 32, 35) and not (buf[end] == 13 and (
            end + 1 == len(buf) or buf[end + 1] == 10)):
        end += 1
    return buf[offset:end].tobytes().decode("utf-8", "backslashreplace")


def _error_at(buf, spath, offset, cls_or_msg, msg=None, *, width=None, token=None, token_after_label=False,
              fix=None, hint=None):
    """A :class:`LetorFormatError` (or ``cls``) for the byte ``offset``: its line number and its token."""
    if buf is None:  # the streaming path: the whole-file path locates and reports the error
        raise _Reparse
    cls = LetorFormatError
    if isinstance(cls_or_msg, type):
        cls = cls_or_msg
    else:
        msg = cls_or_msg
    if token_after_label:  # offset is a line start: show the token after the label (qid:..., or what is there)
        p = offset
        while p < len(buf) and buf[p] in (9, 32):
            p += 1
        while p < len(buf) and buf[p] not in (9, 10, 13, 32, 35):
            p += 1
        while p < len(buf) and buf[p] in (9, 32):
            p += 1
        offset = p
    if width is not None:
        msg = f"{msg} ({width})"
    if token is None:
        token = _token_at(buf, offset)
        if token == "":  # the line stops where a token was due: said so, rather than shown as an empty token
            msg, token = f"{msg} (the line ends there)", None
    return cls(msg, spath, _line_of(buf, offset), token, fix=fix, hint=hint)


def _line_has_qid(buf, pos: int) -> bool:
    """Whether the line holding byte ``pos`` has a ``qid:`` token before its comment (``pid:4`` beside it is then
    another field, not a misspelt query id)."""
    start = pos
    while start > 0 and buf[start - 1] != 10:
        start -= 1
    end = pos
    while end < len(buf) and buf[end] not in (10, 35):
        end += 1
    return any(t.startswith(b"qid:") for t in buf[start:end].tobytes().split())


def _looks_like_qid(token: str) -> bool:
    """Whether a token that is not ``<id>:<value>`` was meant for ``qid:<int>`` (``QID:1``, ``qd:1``, ``gid:1``):
    its key is qid in other case, or one letter away from it."""
    key = token.partition(":")[0].lower()
    if key == "qid" or not key.isalpha() or not 2 <= len(key) <= 4:
        return key == "qid"
    if len(key) == 3:
        return sum(a != b for a, b in zip(key, "qid")) == 1
    short, long_ = sorted((key, "qid"), key=len)  # a letter dropped or added
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _wide(dtype) -> bool:
    """Whether ``dtype`` is float64 (True) or float32 (False); anything else is refused."""
    kind = None
    if dtype is not None and not isinstance(dtype, bool):  # np.dtype(None) is float64
        try:
            kind = np.dtype(dtype).name
        except TypeError:
            pass
    if kind not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return kind == "float64"


def _check_choice(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def _check_encoding(encoding) -> None:
    """A codec Python knows, checked before reading: a file without comments never decodes a byte with it."""
    import codecs

    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise ValueError(f"encoding: unknown encoding {encoding!r}") from None


# ----------------------------------------------------------------------------------------------------------------
# .query sidecars
# ----------------------------------------------------------------------------------------------------------------


def read_query_file(path: str | os.PathLike) -> NDArray[np.int64]:
    """Group sizes from a LightGBM ``.query`` or XGBoost ``.group`` file: one positive integer per line, in row order.

    Blank lines are skipped; anything else that is not a positive integer raises :class:`LetorFormatError`
    naming the line. Plain or gzip (by magic bytes).

    Examples
    --------
    >>> import os, tempfile
    >>> p = write_query_file(os.path.join(tempfile.mkdtemp(), "train.txt.query"), [3, 1, 2])
    >>> read_query_file(p).tolist()
    [3, 1, 2]
    """
    path = Path(checked_path(path))
    sizes: list[int] = []
    for lineno, tok in _sidecar_tokens(path, "group sizes"):
        if not tok.isdigit() or int(tok) <= 0:
            raise LetorFormatError("a group size must be a positive integer, one per line", str(path), lineno,
                                   tok[:60].decode("utf-8", "backslashreplace"))
        if int(tok) >= 2**63:  # beyond any file's row count (and int64)
            raise LetorFormatError("a group size beyond any data file's row count", str(path), lineno,
                                   tok[:60].decode("utf-8", "backslashreplace"))
        sizes.append(int(tok))
    if not sizes:
        raise LetorFormatError("no group sizes (empty .query file)", str(path))
    return np.array(sizes, dtype=np.int64)


def read_weight_file(path: str | os.PathLike) -> NDArray[np.float64]:
    """Row weights from a LightGBM ``.weight`` file: one finite non-negative number per line, in row order.

    Blank lines are skipped; anything else raises :class:`LetorFormatError` naming the line and the token. Plain
    or gzip (by magic bytes).

    Examples
    --------
    >>> import os, tempfile
    >>> p = write_weight_file(os.path.join(tempfile.mkdtemp(), "train.txt.weight"), [1.0, 0.5])
    >>> read_weight_file(p).tolist()
    [1.0, 0.5]
    """
    path = Path(checked_path(path))
    weights: list[float] = []
    for lineno, tok in _sidecar_tokens(path, "weight"):
        text = tok[:60].decode("utf-8", "backslashreplace")
        try:
            if not _DECIMAL.fullmatch(tok):
                raise ValueError
            w = float(tok)
        except ValueError:
            raise LetorFormatError("a weight must be a number, one per line", str(path), lineno, text) from None
        if not (math.isfinite(w) and w >= 0):
            raise LetorFormatError("a weight must be finite and non-negative", str(path), lineno, text)
        weights.append(w)
    if not weights:
        raise LetorFormatError("no weights (empty .weight file)", str(path))
    return np.array(weights, dtype=np.float64)


def _sidecar_tokens(path: Path, what: str) -> Iterator[tuple[int, bytes]]:
    """``(line number, stripped line)`` for the non-blank lines of a sidecar."""
    try:
        data = read_bytes(path, error=LetorFormatError)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} file not found: {path}") from None
    if data.startswith(b"\xef\xbb\xbf"):  # a byte-order mark, as in the data files
        data = data[3:]
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        tok = raw.strip()
        if tok:
            yield lineno, tok


def write_query_file(path: str | os.PathLike, group_sizes: ArrayLike) -> Path:
    """Write group sizes, one per line (LightGBM's ``.query`` sidecar), atomically.

    Examples
    --------
    >>> import os, tempfile
    >>> p = write_query_file(os.path.join(tempfile.mkdtemp(), "rank.train.query"), [2, 5])
    >>> p.read_text()
    '2\\n5\\n'
    """
    if isinstance(group_sizes, RankingDataset):
        raise TypeError("group_sizes must be the query sizes, got a RankingDataset: pass data.group_sizes")
    sizes = np.asarray(group_sizes)
    if sizes.ndim != 1 or sizes.size == 0:
        raise ValueError(f"group_sizes must be a non-empty 1-D array, got shape {sizes.shape}")
    if not np.issubdtype(sizes.dtype, np.integer) or np.any(sizes <= 0):
        raise ValueError("group_sizes must be positive integers")
    path = Path(checked_path(path))
    with atomic_write(path, "wb") as f:
        f.write(("\n".join(map(str, sizes.tolist())) + "\n").encode("ascii"))
    return path


def write_weight_file(path: str | os.PathLike, weights: ArrayLike) -> Path:
    """Write row weights, one per line (LightGBM's ``.weight`` sidecar), atomically, with ``repr`` precision.

    Examples
    --------
    >>> import os, tempfile
    >>> p = write_weight_file(os.path.join(tempfile.mkdtemp(), "rank.train.weight"), [1, 0.25])
    >>> p.read_text()
    '1.0\\n0.25\\n'
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"weights must be a non-empty 1-D array, got shape {w.shape}")
    if not np.all(np.isfinite(w) & (w >= 0)):
        raise ValueError("weights must be finite and non-negative")
    path = Path(checked_path(path))
    with atomic_write(path) as f:
        f.write("".join(f"{v!r}\n" for v in w.tolist()))
    return path


# ----------------------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------------------

# Worst cases in bytes: " 2147483647:" + "-0.0000123456789" (16) for a value, " qid:-9223372036854775808" for a qid.
_VALUE_BOUND = 1 + 10 + 1 + 17
_QID_BOUND = 5 + 20
_BLOCK_BYTES = 16 << 20


def write_letor(
    path: str | os.PathLike,
    data: RankingDataset,
    *,
    header: bool | None = None,
    qid: bool = True,
    weight_file: str | os.PathLike | bool | None = "auto",
    query_file: str | os.PathLike | bool | None = "auto",
    encoding: str = "utf-8",
    n_jobs: int | None = None,
    zero_based: bool | None = None,
) -> Path:
    """Write a dataset as a LETOR file, atomically (a temporary file in the same folder, then a rename).

    A path ending in ``.gz`` is gzip-compressed. Values are written with the fewest significant digits that
    read back to the same float32 bits (found by trying 1..9 digits; magnitudes far outside 1e-13..1e22 get 9);
    labels as integers when they are integers, else with ``repr``. Dense rows list every value (zeros included);
    sparse rows list their stored entries. NaN and infinities are written as ``nan``, ``inf`` and ``-inf``, which
    LightGBM and scikit-learn read as such and :func:`read_letor` reads with ``nonfinite="allow"`` (by default it
    refuses them, naming the token): left out, a NaN would read back as 0 in every reader but XGBoost's (whose text
    reader does not take ``nan``; give it the arrays). Doc ids go
    in the comment as ``docid = X`` (already there when ``comments`` carry them). The first line is the
    ``ltrkit-letor`` header (see the module docstring) unless ``header=False`` (the default with ``qid=False``).

    Parameters
    ----------
    path : str or PathLike
    data : RankingDataset
    header : bool, optional
        Write the header line that records the width, feature names and comment kind. Default: with ``qid:``
        tokens only, since LightGBM's own reader stops at a ``#`` line ("Unknown token #").
    qid : bool, default=True
        Write ``qid:`` tokens; ``False`` gives LightGBM's layout: no header, no ``#`` comments (the doc ids are
        left out: LightGBM's reader refuses any), and the group sizes in a ``.query`` sidecar (``query_file``),
        which LightGBM and :func:`read_letor` read beside the file.
    weight_file : "auto", path, or None, default="auto"
        Where the dataset's row weights go, when it has some: ``"auto"`` writes ``PATH.weight`` (the name
        :func:`read_letor` finds), a path writes there, ``None`` writes none. A ``PATH.weight`` the write does not
        make, which every reader would take as this file's weights (an earlier write's, or for ``X.gz`` also
        ``X.weight``), is said in a warning, never removed: the writer cannot tell whose it is.
    query_file : "auto", path, or None, default="auto"
        With ``qid=False``, where the group sizes go: ``"auto"`` writes ``PATH.query``, a path writes there,
        ``None`` writes none (the queries are then lost unless written apart). Ignored with ``qid=True``; a
        ``PATH.query`` or ``PATH.group`` beside such a file is said in a warning (as ``.weight``).
    encoding : str, default="utf-8"
        Encoding of the comments.
    n_jobs : int, optional
        Numba threads for formatting.
    zero_based : bool, optional
        Write column ``j`` as feature id ``j`` instead of ``j + 1``. Default: without a header, as ``data`` was
        read (:func:`read_options_of`: a ``read_letor(..., zero_based=True)`` dataset is written zero-based, so that
        the file reads back, in LightGBM, scikit-learn's ``zero_based=True`` and ``read_letor(zero_based=True)``,
        with the columns it was read with; written 1-based, every feature moved one column on); else 1-based, as
        the header's ids are (``True`` with a header is refused).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        For labels that are not finite or beyond +-1e38, float64 features that are not exactly float32, comments
        containing a line break or NUL, doc ids that contain ASCII whitespace or NUL (``''`` is a row without one),
        or comments whose ``docid`` disagrees with ``doc_ids``.

    Examples
    --------
    >>> import os, tempfile
    >>> from ltr.datasets import make_ranking
    >>> d = make_ranking(2, 2, 3, random_state=1)
    >>> p = write_letor(os.path.join(tempfile.mkdtemp(), "d.txt"), d)
    >>> print(p.read_text())  # doctest: +NORMALIZE_WHITESPACE
    # ltrkit-letor: {"version": 1, "n_features": 3, "feature_names": ["f1", "f2", "f3"],
        "comments": false, "doc_ids": false}
    0 qid:1 1:0.34558418 2:0.82161814 3:0.33043706
    1 qid:1 1:-1.3031572 2:0.9053559 3:0.44637457
    0 qid:2 1:-0.5369532 2:0.5811181 3:0.3645724
    4 qid:2 1:0.2941325 2:0.028422242 3:0.546713
    """
    if not isinstance(data, RankingDataset):
        raise TypeError(f"data must be a RankingDataset, got {type(data).__name__}")
    header = qid if header is None else header
    if zero_based is None:
        zero_based = not header and bool((read_options_of(data) or {}).get("zero_based", False))
    elif zero_based and header:
        raise ValueError("zero_based=True with a header: the ltrkit header's feature ids are 1-based (read_letor reads "
                         "such a file 1-based); pass header=False for a zero-based file")
    qpath = _sidecar_out(path, query_file if not qid else None, ".query", "query_file",
                         "qid=False puts the queries in a .query file")
    wpath = _sidecar_out(path, weight_file if data.weight is not None else None, ".weight", "weight_file",
                         "the dataset has row weights")
    path = Path(checked_path(path))
    n = data.n_rows
    y = np.ascontiguousarray(data.y, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        r = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"labels must be finite; row {r} is {y[r]}")
    if not np.all(np.abs(y) <= LABEL_LIMIT):  # read_letor refuses them: the file would not read back
        r = int(np.flatnonzero(~(np.abs(y) <= LABEL_LIMIT))[0])
        raise ValueError(f"labels must be within +-1e38 (read_letor refuses others: LightGBM clips them, both "
                         f"engines keep labels as float32); row {r} is {float(y[r])!r}")
    dense = not sp.issparse(data.X)
    if dense:
        X = _as_float32(data.X)
        Xd, values, indices, indptr = X, np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64)
        per_row = np.full(n, X.shape[1], dtype=np.int64)
    else:
        csr = data.X.tocsr()
        Xd = np.zeros((0, 0), dtype=np.float32)
        values = _as_float32(csr.data)
        indices = np.ascontiguousarray(csr.indices, dtype=np.int64)
        indptr = np.ascontiguousarray(csr.indptr, dtype=np.int64)
        if not csr.has_sorted_indices:  # write ids in increasing order (other readers insist on it)
            csr = csr.sorted_indices()
            values, indices = _as_float32(csr.data), np.ascontiguousarray(csr.indices, dtype=np.int64)
        per_row = np.diff(indptr)
    label_idx, label_tab, label_off = _label_table(y)
    if not qid and (data.comments is not None or data.doc_ids is not None):
        # LightGBM's reader takes no '#' text ("Check failed: (max_col_idx) > (0)"): its layout has no doc ids
        data = dataclasses.replace(data, comments=None, doc_ids=None)
    blob, comm_off = _comment_blob(data, encoding)
    qids = _integer_qids(data.qid)
    if qid:
        _refuse_shared_qids(qids, data.group_ptr)
    # Read-only views throughout, so that one compiled signature of the kernel serves every call.
    Xd, values, indices, indptr, label_idx, label_tab, label_off, qids, blob, comm_off = map(
        _readonly, (Xd, values, indices, indptr, label_idx, label_tab, label_off, qids, blob, comm_off))

    bound = (label_off[1:] - label_off[:-1])[label_idx] + _QID_BOUND + per_row * _VALUE_BOUND + np.diff(comm_off) + 3
    cum = np.concatenate(([0], np.cumsum(bound)))
    with numba_threads(n_jobs), atomic_write(path, "wb") as f:
        if header:
            f.write(_header_line(data).encode("ascii"))
        r0 = 0
        while r0 < n:
            r1 = max(r0 + 1, int(np.searchsorted(cum, cum[r0] + _BLOCK_BYTES, "right")) - 1)
            r1 = min(r1, n)
            nb = max(1, min(4 * numba.get_num_threads(), (r1 - r0) // 256))
            block_rows = np.linspace(r0, r1, nb + 1).astype(np.int64)
            block_off = cum[block_rows] - cum[r0]
            out = np.empty(int(cum[r1] - cum[r0]), dtype=np.uint8)
            rest = (dense, Xd, values, indices, indptr, label_idx, label_tab, label_off, qid, qids, blob, comm_off,
                    0 if zero_based else 1)
            if nb == 1:  # small input: skip waking the thread pool
                used = [_k.format_block(out, 0, r0, r1, *rest)]
            else:
                used = _turned(_k.format_rows)(out, block_rows, block_off, *rest)
            for b in range(nb):
                f.write(memoryview(out[block_off[b]:block_off[b] + used[b]]))
            r0 = r1
    if wpath is not None:
        write_weight_file(wpath, data.weight)
    if qpath is not None:
        write_query_file(qpath, data.group_sizes)
    _warn_stale_sidecars(path, data, qid, weight_file, written={wpath, qpath})
    return path


def _refuse_shared_qids(qids: np.ndarray, group_ptr) -> None:
    """Refuse two queries (groups) with one query id: written with ``qid:`` tokens, next to each other they read back
    as one query, apart as an error (a bootstrap ``subset([0, 0, 1])`` read back as 2 queries, without a word; trial
    t64)."""
    starts = np.asarray(qids)[np.asarray(group_ptr, dtype=np.int64)[:-1]]
    order = np.argsort(starts, kind="stable")
    same = np.flatnonzero(starts[order][1:] == starts[order][:-1])
    if same.size:
        a, b = sorted((int(order[same[0]]), int(order[same[0] + 1])))
        raise ValueError(f"queries {a} and {b} (0-based) both have query id {int(starts[a])}: a LETOR file would read "
                         "them back as one query (or refuse them); give each query its own id (a bootstrap sample "
                         "drawing a query twice: renumber the copies), or write qid=False (group sizes in a .query "
                         "file)")


def _integer_qids(qid) -> np.ndarray:
    """The query ids as LETOR's ``qid:<int>`` writes them (:func:`ltr.groups.as_int64`): a string id ('q1': int()'s
    words, naming no argument or row; trial t59), a fraction (1.5 was written as 1) or an id past int64 (a uint64 of
    2**63 + 5 was written as a negative one; review of t59) is refused by its place."""
    from ltr.groups import as_int64

    try:
        return np.ascontiguousarray(as_int64("qid", qid))
    except ValueError as e:
        raise ValueError(f"{e} (entries counted from 0); LETOR's qid:<int> takes 64-bit integers: number the queries "
                         "(and keep their ids apart, as ltr features' .qids.tsv does)") from None


def _warn_stale_sidecars(path: Path, data: RankingDataset, qid: bool, weight_file, written: set) -> None:
    """Warn of sidecars every reader would take as this file's weights or groups (``PATH.weight``, ``PATH.query``,
    ``PATH.group``, and for a compressed ``PATH`` those of the name it was made from) that this write did not make
    and that do not describe ``data``: left by an earlier write, or another file's (``X.weight`` beside ``X.gz``).
    Never removed: the writer cannot tell whose they are. (``weight_file=None``: the caller keeps the weights.)"""
    if os.fspath(path) == STDOUT:
        return
    from ltr.io.files import sidecar_stems

    kinds = [(".weight", data.weight is None and weight_file is not None and weight_file is not False)]
    kinds += [(suffix, qid) for suffix in QUERY_SUFFIXES]
    stale = [Path(os.fspath(stem) + suffix) for stem in sidecar_stems(path) for suffix, unwanted in kinds
             if unwanted and Path(os.fspath(stem) + suffix) not in written
             and Path(os.fspath(stem) + suffix).is_file()]
    if stale:
        import warnings

        what = ("weights" if stale[0].suffix == ".weight" else "group sizes")
        warnings.warn(f"{stale[0]} is beside {path}, which every reader takes as its {what} (read_letor, LightGBM), "
                      f"and this dataset has {'none' if what == 'weights' else 'its qid tokens'}: remove it, unless "
                      "it is meant so" + (f" (and {len(stale) - 1} more: {', '.join(map(str, stale[1:]))})"
                                          if len(stale) > 1 else ""), UserWarning, stacklevel=3)


def _sidecar_out(path, option, suffix: str, name: str, why: str) -> Path | None:
    """Where :func:`write_letor` writes a sidecar: ``PATH + suffix`` for ``"auto"`` (or True), the path given, or
    nowhere (None, False)."""
    if option is None or option is False:
        return None
    if option is True or (isinstance(option, str) and option == "auto"):
        if os.fspath(path) == STDOUT:
            raise ValueError(f"{why}: give {name}= a path (or None) when writing to standard output")
        return Path(os.fspath(path) + suffix)
    return Path(option)


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


def _as_float32(a) -> NDArray[np.float32]:
    a = np.asarray(a)
    if a.dtype == np.float32:
        return np.ascontiguousarray(a)
    with np.errstate(over="ignore", invalid="ignore"):  # a value beyond float32's range: named below
        b = a.astype(np.float32)
        same = b.astype(a.dtype) == a
    same |= np.isnan(a) & np.isnan(b)
    if not same.all():
        at = int(np.flatnonzero(~same.ravel())[0])
        where = f" (row {at // a.shape[1]}, feature id {at % a.shape[1] + 1})" if a.ndim == 2 else ""
        raise ValueError(f"features of dtype {a.dtype} are not exactly float32: {float(a.ravel()[at])!r}{where} is "
                         "not a float32 value, and LETOR files hold float32 values; read with read_letor's default "
                         "dtype='float32' (or cast the features with .astype(np.float32)) to write them")
    return np.ascontiguousarray(b)


def _label_table(y: NDArray[np.float64]):
    """Format each distinct label once (by bits, so -0.0 stays -0.0): the table, offsets and each row's entry."""
    uniq, label_idx = np.unique(y.view(np.int64), return_inverse=True)
    texts = []
    for v in uniq.view(np.float64).tolist():
        texts.append(str(int(v)) if v.is_integer() and abs(v) < 2**53 and not (v == 0 and math.copysign(1, v) < 0)
                     else repr(v))
    enc = [t.encode("ascii") for t in texts]
    off = np.concatenate(([0], np.cumsum([len(t) for t in enc]))).astype(np.int64)
    tab = np.frombuffer(b"".join(enc), dtype=np.uint8) if enc else np.zeros(0, np.uint8)
    return label_idx.astype(np.int64).reshape(-1), tab, off


def _comment_blob(data: RankingDataset, encoding: str):
    """The text after ``#`` for each row, concatenated, with offsets; checks that it reads back the same."""
    n = data.n_rows
    if data.doc_ids is not None:
        for r, d in enumerate(data.doc_ids.tolist()):  # '' is a row without one, as read_letor gives it
            if not isinstance(d, str) or _WHITESPACE.search(d) or "\x00" in d:
                raise ValueError(f"doc id of row {r} must be a string without whitespace or NUL ('' for none), got "
                                 f"{d!r}")
    if data.comments is not None:
        texts = [str(c) for c in data.comments.tolist()]
        if data.doc_ids is not None:
            for r, (t, d) in enumerate(zip(texts, data.doc_ids.tolist())):
                m = DOCID.search(t)
                if (m.group(1) if m is not None else "") != d:
                    raise ValueError(f"row {r}: the comment {t!r} does not carry doc id {d!r} as 'docid = {d}'; "
                                     "make them agree or drop one of comments / doc_ids")
    elif data.doc_ids is not None:
        texts = ["docid = " + d if d else "" for d in data.doc_ids.tolist()]
    else:
        return np.zeros(0, np.uint8), np.zeros(n + 1, np.int64)
    enc = [t.encode(encoding) for t in texts]
    blob = b"".join(enc)
    for bad, what in ((b"\n", "a line break"), (b"\r", "a carriage return"), (b"\x00", "a NUL")):
        if bad in blob:
            r = next(i for i, t in enumerate(enc) if bad in t)
            raise ValueError(f"the comment of row {r} contains {what}, which a LETOR line cannot hold: {texts[r]!r}")
    off = np.concatenate(([0], np.cumsum([len(t) for t in enc]))).astype(np.int64)
    return np.frombuffer(blob, dtype=np.uint8), off


def _header_line(data: RankingDataset) -> str:
    meta = {
        "version": HEADER_VERSION,
        "n_features": data.n_features,
        "feature_names": list(data.feature_names) if data.feature_names is not None else None,
        "comments": data.comments is not None,
        "doc_ids": data.doc_ids is not None,
    }
    if data.feature_set is not None:  # absent otherwise: files without one stay byte for byte as before
        meta["feature_set"] = data.feature_set
    return HEADER_PREFIX.decode("ascii") + " " + json.dumps(meta, ensure_ascii=True) + "\n"
