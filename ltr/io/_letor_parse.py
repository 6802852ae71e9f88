"""Numba kernels that parse and format LETOR / svmlight text at the byte level.

Hand-written (rather than a library parser) because no available reader is at once fast, strict (line and token
of every error) and correctly rounded: XGBoost's parser does not round correctly, scikit-learn's and pandas' are
several times slower. The kernels hold no policy: they see the file as ``np.uint8`` bytes and report an error as
a code plus a byte offset; :mod:`ltr.io.letor` turns that into a message with the line and the token.

Reading is two passes over chunks of whole lines (``prange`` over chunks, each chunk writing a disjoint slice):

1. :func:`count_chunks` counts data rows, feature tokens, the longest line and the largest feature id, so the
   output arrays can be allocated once and exactly;
2. :func:`parse_chunks` parses labels, qids and ``id:value`` tokens into those arrays.

Decimal -> binary conversion is Clinger's fast path [1]_: a decimal ``m * 10**e`` with ``m < 2**53`` and
``|e| <= 22`` is ``m * 10.0**e`` (or ``m / 10.0**-e``), one correctly rounded float64 operation on exact
operands. Every other number (more than 18 significant digits, ``m >= 2**53``, large exponents, denormals) is
recorded as a "slow" token and converted in Python with ``float()``, which is correctly rounded too. The
float64 is then cast to float32, which is what ``strtod`` followed by a cast (scikit-learn's
``load_svmlight_file``) gives.

Writing formats each float32 with the fewest significant digits (at most 9) that read back to the same bits,
checked with the same fast path the reader uses; where that check cannot run (magnitudes far outside
1e-13..1e22) it writes 9 digits, which always read back exactly (see :func:`write_f32`).

References
----------
.. [1] W. D. Clinger, "How to read floating point numbers accurately", PLDI 1990.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = [
    "ERR_MESSAGES",
    "chunk_bounds",
    "count_chunk",
    "count_chunks",
    "count_newlines",
    "format_block",
    "format_rows",
    "parse_chunk",
    "parse_chunks",
    "parse_number",
    "row_offset",
]

# Byte values.
_NL, _CR, _SP, _TAB, _HASH, _COLON = 10, 13, 32, 9, 35, 58
_MINUS, _PLUS, _DOT, _D0, _D9 = 45, 43, 46, 48, 57

# Exact powers of ten: every 10**k with k <= 22 is a float64 without rounding (5**22 < 2**53).
_POW10 = np.array([10.0**k for k in range(23)], dtype=np.float64)
_POW10_INT = np.array([10**k for k in range(19)], dtype=np.int64)
_TWO53 = 1 << 53
_INT32_MAX = 2**31 - 1
_INT64_MIN = -(2**63)
_INT64_MIN_DIV10 = -(2**63 // 10)  # -922337203685477580
_INT64_MIN_LAST = 8  # last digit of 2**63
_FLT_MAX = float(np.finfo(np.float32).max)

# Status of a parsed number.
NUM_FAST, NUM_SLOW, NUM_BAD, NUM_NAN, NUM_INF = 0, 1, 2, 3, 4

# Error codes returned by the parse kernel (0 = no error). ERR_MESSAGES[code] is the text.
ERR_LABEL = 1
ERR_LABEL_NONFINITE = 2
ERR_QID = 3
ERR_NO_COLON = 4
ERR_FEATURE_ID = 5
ERR_FEATURE_ID_NONPOSITIVE = 6
ERR_FEATURE_ID_DUPLICATE = 7
ERR_FEATURE_ID_ABOVE = 8
ERR_VALUE = 9
ERR_VALUE_NONFINITE = 10
ERR_VALUE_OVERFLOW = 11
ERR_QID_POSITION = 12
ERR_NUL = 13
ERR_INTERNAL = 14
ERR_CR = 15
ERR_VALUE_NULL = 16
ERR_FEATURE_ID_ZERO = 17

ERR_MESSAGES = {
    ERR_LABEL: "the label is not a number",
    ERR_LABEL_NONFINITE: "the label must be a finite number",
    ERR_QID: "qid must be a 64-bit integer (qid:<int>)",
    ERR_NO_COLON: "expected a feature token <id>:<value> but the token has no colon",
    ERR_FEATURE_ID: "the feature id is not an integer",
    ERR_FEATURE_ID_NONPOSITIVE: "a feature id cannot be negative",
    ERR_FEATURE_ID_DUPLICATE: "duplicate feature id on one line",
    ERR_FEATURE_ID_ABOVE: "feature id above the number of features",
    ERR_VALUE: "the feature value is not a number",
    ERR_VALUE_NONFINITE: "NaN or infinite feature value",
    ERR_VALUE_OVERFLOW: "feature value beyond the float32 range",
    ERR_QID_POSITION: "qid:<int> must be the second token, right after the label",
    ERR_NUL: "NUL byte (binary data?)",
    ERR_INTERNAL: "internal error: the line changed between the counting and the parsing pass",
    ERR_CR: "carriage return inside a line (only \\r\\n line endings are accepted)",
    ERR_VALUE_NULL: "NULL feature value (LETOR's NULL files: a value that could not be computed)",
    ERR_FEATURE_ID_ZERO: "feature id 0 in a file read with 1-based ids (LETOR's)",
}

#: The reader option that gets past an error (ids of ``ltr.reader_options.READER_OPTIONS``), and what it does.
ERR_FIXES = {
    ERR_VALUE_NONFINITE: ({"nonfinite": "allow"}, "to keep it"),
    ERR_VALUE_OVERFLOW: ({"overflow": "clip"}, "to clip it to +-3.4028235e38"),
    ERR_VALUE_NULL: ({"null": "nan"}, "to read it as a missing value (NaN)"),
    ERR_FEATURE_ID_ZERO: ({"zero_based": True}, "if ids are column numbers from 0 (scikit-learn's "
                          "dump_svmlight_file writes them so)"),
}


# ----------------------------------------------------------------------------------------------------------------
# Small byte-level helpers
# ----------------------------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _is_digit(c: int) -> bool:
    return _D0 <= c <= _D9


@njit(cache=True, inline="always")
def _is_end(buf, j: int, end: int) -> bool:
    """True if the data part of the line ends at ``j``: end of input, ``\\n``, ``#`` or ``\\r\\n``."""
    if j >= end:
        return True
    c = buf[j]
    if c == _NL or c == _HASH:
        return True
    return c == _CR and (j + 1 >= end or buf[j + 1] == _NL)


@njit(cache=True, inline="always")
def _is_term(buf, j: int, end: int) -> bool:
    """True if a token ends at ``j``: a space, a tab or the end of the data part."""
    if j < end and (buf[j] == _SP or buf[j] == _TAB):
        return True
    return _is_end(buf, j, end)


@njit(cache=True, inline="always")
def _is_null(buf, j: int, end: int) -> bool:
    """True if the token at ``j`` is ``NULL`` (any case), LETOR's value that could not be computed."""
    if j + 4 > end or not _is_term(buf, j + 4, end):
        return False
    return _lower(buf[j]) == 110 and _lower(buf[j + 1]) == 117 and _lower(buf[j + 2]) == 108 and \
        _lower(buf[j + 3]) == 108


@njit(cache=True, inline="always")
def _skip_blank(buf, j: int, end: int) -> int:
    while j < end and (buf[j] == _SP or buf[j] == _TAB):
        j += 1
    return j


@njit(cache=True, inline="always")
def _skip_token(buf, j: int, end: int) -> int:
    while not _is_term(buf, j, end):
        j += 1
    return j


@njit(cache=True, inline="always")
def _next_line(buf, j: int, end: int) -> int:
    """Position after the next ``\\n`` at or after ``j`` (or ``end``)."""
    while j < end and buf[j] != _NL:
        j += 1
    return j + 1 if j < end else end


@njit(cache=True, inline="always")
def _lower(c: int) -> int:
    return c | 0x20


@njit(cache=True, inline="always")
def _parse_exponent(buf, j: int, end: int):
    """The signed decimal exponent after an 'e' at ``j``: ``(value, next position, ok)``.

    Magnitudes are capped near 1e8 (far beyond any float's range), so a long exponent cannot overflow.
    """
    neg = False
    if j < end and (buf[j] == _MINUS or buf[j] == _PLUS):
        neg = buf[j] == _MINUS
        j += 1
    if j >= end or not _is_digit(buf[j]):
        return 0, j, False
    ev = 0
    while j < end and _is_digit(buf[j]):
        if ev < 100000000:
            ev = ev * 10 + (np.int64(buf[j]) - _D0)
        j += 1
    return (-ev if neg else ev), j, True


@njit(cache=True, inline="always")
def parse_number(buf, i: int, end: int):
    """Parse a decimal number at ``buf[i:]``; return ``(value, stop, status)``.

    The grammar is ``[+-] (digits [. digits*] | . digits) [(e|E) [+-] digits]``, or ``nan``, ``inf`` or
    ``infinity`` in any case with an optional sign. ``stop`` is the position after the last byte consumed; the
    caller checks that a token boundary follows. ``status`` is ``NUM_FAST`` (value is the correctly rounded
    float64), ``NUM_SLOW`` (valid, but outside Clinger's fast path: convert ``buf[i:stop]`` with ``float()``),
    ``NUM_BAD``, ``NUM_NAN`` or ``NUM_INF``.

    The hot path handles numbers of at most 18 digits (leading zeros included) in one pass; anything else is
    handed to :func:`_parse_number_general`, which gives the same result for these and handles the rest.
    """
    j = i
    neg = False
    if j < end and (buf[j] == _MINUS or buf[j] == _PLUS):
        neg = buf[j] == _MINUS
        j += 1
    m = 0  # wraps around past 18 digits; such numbers go to _parse_number_general below
    k0 = j
    while j < end:
        d = np.int64(buf[j]) - _D0
        if d < 0 or d > 9:
            break
        m = m * 10 + d
        j += 1
    nint = j - k0
    nfrac = 0
    if j < end and buf[j] == _DOT:
        j += 1
        k0 = j
        while j < end:
            d = np.int64(buf[j]) - _D0
            if d < 0 or d > 9:
                break
            m = m * 10 + d
            j += 1
        nfrac = j - k0
    if nint + nfrac == 0 or nint + nfrac > 18:
        return _parse_number_general(buf, i, end)
    exp10 = -nfrac
    if j < end and _lower(buf[j]) == 101:  # 'e'
        ev, j, ok = _parse_exponent(buf, j + 1, end)
        if not ok:
            return 0.0, j, NUM_BAD
        exp10 += ev
    return _scale(m, exp10, neg, j)


@njit(cache=True, inline="always")
def _scale(m: int, exp10: int, neg: bool, j: int):
    """``m * 10**exp10`` (``0 <= m < 10**19``) by Clinger's fast path, or ``NUM_SLOW``."""
    if m == 0:
        return (-0.0 if neg else 0.0), j, NUM_FAST
    if m >= _TWO53:
        return 0.0, j, NUM_SLOW
    if 0 <= exp10 <= 22:
        v = float(m) * _POW10[exp10]
    elif -22 <= exp10 < 0:
        v = float(m) / _POW10[-exp10]
    elif 22 < exp10 <= 22 + 18 and m <= (_TWO53 - 1) // _POW10_INT[exp10 - 22]:
        # m * 10**(e-22) is still an exact integer below 2**53: one rounding in the final multiply.
        v = float(m * _POW10_INT[exp10 - 22]) * _POW10[22]
    else:
        return 0.0, j, NUM_SLOW
    return (-v if neg else v), j, NUM_FAST


@njit(cache=True)
def _parse_number_general(buf, i: int, end: int):
    """:func:`parse_number` for every input: nan/inf, and any number of digits (only 18 significant kept)."""
    j = i
    neg = False
    if j < end and (buf[j] == _MINUS or buf[j] == _PLUS):
        neg = buf[j] == _MINUS
        j += 1
    if j < end and (_lower(buf[j]) == 110 or _lower(buf[j]) == 105):  # 'n' or 'i'
        if j + 2 < end and _lower(buf[j]) == 110 and _lower(buf[j + 1]) == 97 and _lower(buf[j + 2]) == 110:
            return np.nan, j + 3, NUM_NAN
        if j + 2 < end and _lower(buf[j]) == 105 and _lower(buf[j + 1]) == 110 and _lower(buf[j + 2]) == 102:
            k = j + 3
            if k + 4 < end:  # "inity"
                if (_lower(buf[k]) == 105 and _lower(buf[k + 1]) == 110 and _lower(buf[k + 2]) == 105
                        and _lower(buf[k + 3]) == 116 and _lower(buf[k + 4]) == 121):
                    k += 5
            return (-np.inf if neg else np.inf), k, NUM_INF
        return 0.0, j, NUM_BAD
    m = 0
    nd = 0  # significant digits kept in m (at most 18, so m < 10**18 < 2**63)
    exp10 = 0
    inexact = False  # a non-zero digit was dropped after the 18th significant digit
    any_digit = False
    while j < end and _is_digit(buf[j]):
        any_digit = True
        d = np.int64(buf[j]) - _D0
        if nd < 18:
            if m != 0 or d != 0:
                m = m * 10 + d
                nd += 1
        else:
            exp10 += 1
            if d != 0:
                inexact = True
        j += 1
    if j < end and buf[j] == _DOT:
        j += 1
        while j < end and _is_digit(buf[j]):
            any_digit = True
            d = np.int64(buf[j]) - _D0
            if nd < 18:
                if m != 0 or d != 0:
                    m = m * 10 + d
                    nd += 1
                exp10 -= 1
            elif d != 0:
                inexact = True
            j += 1
    if not any_digit:
        return 0.0, j, NUM_BAD
    if j < end and _lower(buf[j]) == 101:  # 'e'
        ev, j, ok = _parse_exponent(buf, j + 1, end)
        if not ok:
            return 0.0, j, NUM_BAD
        exp10 += ev
    if inexact and m != 0:
        return 0.0, j, NUM_SLOW
    return _scale(m, exp10, neg, j)


@njit(cache=True)
def _bad_stop(buf, k: int, end: int, code: int, t: int):
    """``(code, offset)`` for a token that stopped at ``k``: a NUL or a lone CR there gets its own code."""
    if k < end and buf[k] == 0:
        return ERR_NUL, k
    if k < end and buf[k] == _CR:
        return ERR_CR, t
    return code, t


@njit(cache=True, inline="always")
def _feature_token_error(buf, t: int, end: int) -> int:
    """Classify a token that does not start with ``<digits>:``."""
    if (t + 3 < end and buf[t] == 113 and buf[t + 1] == 105 and buf[t + 2] == 100 and buf[t + 3] == _COLON):
        return ERR_QID_POSITION
    k = t
    while not _is_term(buf, k, end) and buf[k] != _COLON:
        if buf[k] == 0:
            return ERR_NUL
        k += 1
    if _is_term(buf, k, end):
        return ERR_NO_COLON
    if buf[t] == _MINUS and t + 1 < k and _is_digit(buf[t + 1]):
        all_digits = True
        for q in range(t + 1, k):
            if not _is_digit(buf[q]):
                all_digits = False
        if all_digits:
            return ERR_FEATURE_ID_NONPOSITIVE
    return ERR_FEATURE_ID


# ----------------------------------------------------------------------------------------------------------------
# Pass 0 and 1: chunk boundaries and counts
# ----------------------------------------------------------------------------------------------------------------


@njit(cache=True)
def chunk_bounds(buf, start: int, n_chunks: int):
    """Split ``buf[start:]`` into at most ``n_chunks`` pieces that each begin at a line start."""
    end = buf.shape[0]
    size = end - start
    bounds = np.empty(n_chunks + 1, dtype=np.int64)
    bounds[0] = start
    for k in range(1, n_chunks):
        p = max(start + (size * k) // n_chunks, bounds[k - 1])
        bounds[k] = _next_line(buf, p, end) if p > start else start
    bounds[n_chunks] = end
    return bounds


@njit(cache=True)
def count_chunk(buf, s: int, e: int, limit: int):
    """Rows, feature tokens, the most tokens on one line, the largest id and where it is, the first id > limit,
    and the rows that have a comment.

    Feature tokens are counted by their colons (minus the one of ``qid:``), and each id is read backwards from
    its colon, so the byte loop stays tight. On a line that parses, every colon of the data part belongs to a
    ``qid:`` or to one ``id:value`` token, so the count is exact; on any other line pass 2 raises anyway.
    """
    rows = 0
    nnz = 0
    maxtok = 0
    maxid = 0
    maxid_pos = -1
    over_pos = -1
    ncomm = 0
    i = s
    while i < e:
        j = _skip_blank(buf, i, e)
        if j >= e:
            break
        c = buf[j]
        if c == _NL or c == _HASH or (c == _CR and (j + 1 >= e or buf[j + 1] == _NL)):
            i = _next_line(buf, j, e)
            continue
        rows += 1
        line0 = j
        while j < e and buf[j] > _HASH and buf[j] != _COLON:  # the label (a colon here is an error for pass 2)
            j += 1
        k = _skip_blank(buf, j, e)
        ntok = 0
        if k + 3 < e and buf[k] == 113 and buf[k + 1] == 105 and buf[k + 2] == 100 and buf[k + 3] == _COLON:
            ntok = -1  # its colon is not a feature
        while j < e:
            c = buf[j]
            if c == _COLON:
                ntok += 1
                q = j - 1
                idv = 0
                mul = 1
                while q >= line0 and _is_digit(buf[q]) and mul <= 1000000000:
                    idv += (np.int64(buf[q]) - _D0) * mul
                    mul *= 10
                    q -= 1
                if q >= line0 and _is_digit(buf[q]):  # more than 10 digits: too large whatever they are
                    idv = _INT32_MAX + 1
                    while q >= line0 and _is_digit(buf[q]):
                        q -= 1
                if idv > maxid:
                    maxid = idv
                    maxid_pos = q + 1
                if idv > limit and over_pos < 0:
                    over_pos = q + 1
            elif c <= _HASH:
                if c == _NL:
                    break
                if c == _HASH:
                    ncomm += 1
                    while j < e and buf[j] != _NL:
                        j += 1
                    break
            j += 1
        if ntok < 0:
            ntok = 0
        nnz += ntok
        if ntok > maxtok:
            maxtok = ntok
        i = j + 1 if j < e else e
    return rows, nnz, maxtok, maxid, maxid_pos, over_pos, ncomm


@njit(cache=True, parallel=True)
def count_chunks(buf, bounds, limit: int):
    """Pass 1: per chunk ``[rows, nnz, longest line (tokens), max id, its offset, first id > limit offset,
    rows with a comment]``.

    ``limit`` is the largest allowed feature id; offsets are -1 when there is none.
    """
    n = bounds.shape[0] - 1
    out = np.zeros((n, 7), dtype=np.int64)
    for c in prange(n):
        r = count_chunk(buf, bounds[c], bounds[c + 1], limit)
        for k in range(7):
            out[c, k] = r[k]
    return out


@njit(cache=True)
def first_bare_cr(buf, s: int, e: int) -> int:
    """The offset of the first carriage return in ``buf[s:e]`` that a line feed does not follow (one at ``e - 1``
    ends the last line), or -1. The passes check data tokens for one; this finds one in a comment, where old Mac
    line endings would otherwise hide every later line (a file with comments is scanned once more for it)."""
    for j in range(s, e - 1):
        if buf[j] == _CR and buf[j + 1] != _NL:
            return j
    return -1


@njit(cache=True, parallel=True)
def first_bare_cr_chunks(buf, bounds) -> int:
    """:func:`first_bare_cr` over the whole of ``buf``, its chunks (``bounds``) scanned in parallel: the least
    offset found, or -1."""
    n = bounds.shape[0] - 1
    found = np.full(n, -1, dtype=np.int64)
    for c in prange(n):
        e = min(bounds[c + 1] + 1, buf.shape[0])  # the next chunk's first byte says whether a CR at the end is alone
        found[c] = first_bare_cr(buf, bounds[c], e)
    for c in range(n):
        if found[c] >= 0:
            return found[c]
    return -1


@njit(cache=True)
def count_newlines(buf, end: int) -> int:
    """Number of ``\\n`` in ``buf[:end]`` (the line number of an error, without a temporary array)."""
    n = 0
    for i in range(end):
        n += buf[i] == _NL
    return n


@njit(cache=True)
def row_offset(buf, s: int, e: int, k: int) -> int:
    """Offset of the line of the ``k``-th data row (0-based) of ``buf[s:e]`` (for error messages), or -1."""
    i = s
    while i < e:
        j = _skip_blank(buf, i, e)
        if j >= e:
            break
        c = buf[j]
        if not (c == _NL or c == _HASH or (c == _CR and (j + 1 >= e or buf[j + 1] == _NL))):
            if k == 0:
                return i
            k -= 1
        i = _next_line(buf, j, e)
    return -1


# ----------------------------------------------------------------------------------------------------------------
# Pass 2: parse
# ----------------------------------------------------------------------------------------------------------------


@njit(cache=True)
def parse_chunk(buf, s, e, row0, row_end, nnz0, nnz_end, maxtok, dense, width, X, data, indices, indptr,
                y, qid, cstart, cend, allow_nonfinite, clip, null_nan, id0, wide, slow_pos, slow_end, slow_dest):
    """Parse the lines of ``buf[s:e]``; feature id ``id0`` (1, or 0 for zero-based files) is column 0.

    ``wide``: ``X``/``data`` are float64 and keep each value's correctly rounded float64 (float32's range does not
    apply); otherwise they are float32 and get it rounded to float32.

    Returns ``(error code, error offset, slow tokens, unsorted ids, rows without qid, offset of the first)``.
    A row without ``qid:`` gets qid 0. Comment spans go to ``cstart``/``cend`` (-1 if none) unless they are
    empty arrays (the file has no comments).

    Slow tokens (see :func:`parse_number`) are recorded as (start, stop, destination) while there is room;
    the destination is the index into ``X`` (dense, flat) or ``data`` (sparse), or ``-(row + 1)`` for a label.
    """
    cap = slow_pos.shape[0]
    want_comments = cstart.shape[0] > 0
    n_noqid = 0
    first_noqid = -1
    n_slow = 0
    unsorted = False
    scratch = np.empty(maxtok + 1, dtype=np.int64)
    row = row0
    p = nnz0
    i = s
    while i < e:
        j = _skip_blank(buf, i, e)
        if j >= e:
            break
        c = buf[j]
        if c == _NL or c == _HASH or (c == _CR and (j + 1 >= e or buf[j + 1] == _NL)):
            # Blank or comment-only line: skipped, but binary data hiding in it is still an error.
            if c == _HASH:
                k = j
                while k < e and buf[k] != _NL:
                    if buf[k] == 0:
                        return ERR_NUL, k, n_slow, unsorted, n_noqid, first_noqid
                    k += 1
            i = _next_line(buf, j, e)
            continue
        if row >= row_end:
            return ERR_INTERNAL, j, n_slow, unsorted, n_noqid, first_noqid
        # Label.
        v, k, st = parse_number(buf, j, e)
        if st == NUM_BAD or not _is_term(buf, k, e):
            code, off = _bad_stop(buf, k, e, ERR_LABEL, j)
            return code, off, n_slow, unsorted, n_noqid, first_noqid
        if st == NUM_NAN or st == NUM_INF:
            return ERR_LABEL_NONFINITE, j, n_slow, unsorted, n_noqid, first_noqid
        if st == NUM_SLOW:
            if n_slow < cap:
                slow_pos[n_slow] = j
                slow_end[n_slow] = k
                slow_dest[n_slow] = -(row + 1)
            n_slow += 1
            v = 0.0
        y[row] = v
        j = _skip_blank(buf, k, e)
        # Optional qid, which must come second.
        if j + 3 < e and buf[j] == 113 and buf[j + 1] == 105 and buf[j + 2] == 100 and buf[j + 3] == _COLON:
            t = j
            k = j + 4
            qneg = False
            if k < e and buf[k] == _MINUS:
                qneg = True
                k += 1
            # Accumulate the negated value, so that every int64 (down to -2**63) fits; past it: an error.
            q = 0
            nq = 0
            ok = True
            while k < e and _is_digit(buf[k]):
                d = np.int64(buf[k]) - _D0
                if q < _INT64_MIN_DIV10 or (q == _INT64_MIN_DIV10 and d > _INT64_MIN_LAST):
                    ok = False
                else:
                    q = q * 10 - d
                nq += 1
                k += 1
            if nq == 0 or not ok or (not qneg and q == _INT64_MIN) or not _is_term(buf, k, e):
                return ERR_QID, t, n_slow, unsorted, n_noqid, first_noqid
            qid[row] = q if qneg else -q
            j = _skip_blank(buf, k, e)
        else:
            qid[row] = 0
            if n_noqid == 0:
                first_noqid = i
            n_noqid += 1
        # Features.
        ntok = 0
        prev = id0 - 1
        base = row * width
        while j < e:
            c = buf[j]
            if c == _SP or c == _TAB:
                j += 1
                continue
            if c <= _HASH and _is_end(buf, j, e):
                break
            t = j
            idv = 0
            while j < e:
                d = np.int64(buf[j]) - _D0
                if d < 0 or d > 9:
                    break
                if idv <= _INT32_MAX:
                    idv = idv * 10 + d
                j += 1
            if j == t or j >= e or buf[j] != _COLON:
                return _feature_token_error(buf, t, e), t, n_slow, unsorted, n_noqid, first_noqid
            if idv < id0:
                return ERR_FEATURE_ID_ZERO, t, n_slow, unsorted, n_noqid, first_noqid
            if idv - id0 >= width:
                return ERR_FEATURE_ID_ABOVE, t, n_slow, unsorted, n_noqid, first_noqid
            if idv <= prev:
                for q in range(ntok):
                    if scratch[q] == idv:
                        return ERR_FEATURE_ID_DUPLICATE, t, n_slow, unsorted, n_noqid, first_noqid
                unsorted = True
            else:
                prev = idv
            if ntok > maxtok:
                return ERR_INTERNAL, t, n_slow, unsorted, n_noqid, first_noqid
            scratch[ntok] = idv
            ntok += 1
            v, k, st = parse_number(buf, j + 1, e)
            null = False
            if st == NUM_BAD and _is_null(buf, j + 1, e):  # only on the error path: the hot path is unchanged
                if not null_nan:
                    return ERR_VALUE_NULL, t, n_slow, unsorted, n_noqid, first_noqid
                v, k, st, null = np.nan, j + 5, NUM_NAN, True
            if not (k < e and buf[k] == _SP) and (st == NUM_BAD or not _is_term(buf, k, e)):
                code, off = _bad_stop(buf, k, e, ERR_VALUE, t)
                return code, off, n_slow, unsorted, n_noqid, first_noqid
            if st == NUM_BAD:
                return ERR_VALUE, t, n_slow, unsorted, n_noqid, first_noqid
            f = np.float32(v)
            if st != NUM_FAST:
                if st != NUM_SLOW and not allow_nonfinite and not null:
                    return ERR_VALUE_NONFINITE, t, n_slow, unsorted, n_noqid, first_noqid
            elif not wide and math.isinf(f):
                if not clip:
                    return ERR_VALUE_OVERFLOW, t, n_slow, unsorted, n_noqid, first_noqid
                f = np.float32(_FLT_MAX) if v > 0 else np.float32(-_FLT_MAX)
            if dense:
                dest = base + idv - id0
                X[dest] = v if wide else f
            else:
                if p >= nnz_end:
                    return ERR_INTERNAL, t, n_slow, unsorted, n_noqid, first_noqid
                dest = p
                data[p] = v if wide else f
                indices[p] = idv - id0
                p += 1
            if st == NUM_SLOW:
                if n_slow < cap:
                    slow_pos[n_slow] = j + 1
                    slow_end[n_slow] = k
                    slow_dest[n_slow] = dest
                n_slow += 1
            j = k
        if not dense:
            indptr[row + 1] = p
        # Comment: the raw text after '#', without the line ending.
        if want_comments:
            cstart[row] = -1
            cend[row] = -1
        if j < e and buf[j] == _HASH:
            k = j + 1
            while k < e and buf[k] != _NL:
                if buf[k] == 0:
                    return ERR_NUL, k, n_slow, unsorted, n_noqid, first_noqid
                k += 1
            if want_comments:
                cstart[row] = j + 1
                cend[row] = k - 1 if (k > j + 1 and buf[k - 1] == _CR) else k
            j = k
        row += 1
        i = _next_line(buf, j, e)
    return 0, -1, n_slow, unsorted, n_noqid, first_noqid


@njit(cache=True, parallel=True)
def parse_chunks(buf, bounds, chunk_ids, row0, nnz0, maxtok, dense, width, X, data, indices, indptr, y, qid,
                 cstart, cend, allow_nonfinite, clip, null_nan, id0, wide, slow_pos, slow_end, slow_dest):
    """Pass 2 over the chunks listed in ``chunk_ids``; returns :func:`parse_chunk`'s six numbers per chunk.

    ``row0``/``nnz0`` are the exclusive cumulative sums of pass 1's counts (length ``n_chunks + 1``), so each
    chunk writes its own rows and non-zeros; ``slow_*`` are ``(len(chunk_ids), cap)``.
    """
    out = np.zeros((chunk_ids.shape[0], 6), dtype=np.int64)
    for k in prange(chunk_ids.shape[0]):
        c = chunk_ids[k]
        r = parse_chunk(buf, bounds[c], bounds[c + 1], row0[c], row0[c + 1], nnz0[c], nnz0[c + 1], maxtok,
                        dense, width, X, data, indices, indptr, y, qid, cstart, cend, allow_nonfinite, clip,
                        null_nan, id0, wide, slow_pos[k], slow_end[k], slow_dest[k])
        out[k, 0] = r[0]
        out[k, 1] = r[1]
        out[k, 2] = r[2]
        out[k, 3] = 1 if r[3] else 0
        out[k, 4] = r[4]
        out[k, 5] = r[5]
    return out


# ----------------------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _write_uint(out, p: int, x: int) -> int:
    """Decimal digits of ``x >= 0`` at ``out[p:]``; returns the new position."""
    n = 1
    t = x
    while t >= 10:
        t //= 10
        n += 1
    for k in range(n - 1, -1, -1):
        out[p + k] = _D0 + x % 10
        x //= 10
    return p + n


@njit(cache=True, inline="always")
def _write_int(out, p: int, x: int) -> int:
    if x < 0:
        out[p] = _MINUS
        # -(x + 1) + 1 avoids overflow for the smallest int64.
        u = np.uint64(-(x + 1)) + np.uint64(1)
        return _write_uint_u64(out, p + 1, u)
    return _write_uint(out, p, x)


@njit(cache=True)
def _write_uint_u64(out, p: int, x) -> int:
    n = 1
    t = x
    while t >= np.uint64(10):
        t //= np.uint64(10)
        n += 1
    for k in range(n - 1, -1, -1):
        out[p + k] = _D0 + np.int64(x % np.uint64(10))
        x //= np.uint64(10)
    return p + n


@njit(cache=True)
def _write_decimal(out, p: int, neg: bool, s: int, q: int) -> int:
    """Write ``(-1)**neg * s * 10**q`` (``s > 0``) positionally or in scientific notation."""
    while s % 10 == 0:
        s //= 10
        q += 1
    nd = 1
    t = s
    while t >= 10:
        t //= 10
        nd += 1
    lead = q + nd - 1  # exponent of the leading digit
    if neg:
        out[p] = _MINUS
        p += 1
    if 0 <= q and lead < 9:
        p = _write_uint(out, p, s)
        for _ in range(q):
            out[p] = _D0
            p += 1
    elif q < 0 and lead >= -5:
        if lead >= 0:
            p = _write_uint(out, p, s)
            # Shift the fractional digits right by one to make room for the point.
            ndec = -q
            for k in range(p - 1, p - 1 - ndec, -1):
                out[k + 1] = out[k]
            out[p - ndec] = _DOT
            p += 1
        else:
            out[p] = _D0
            out[p + 1] = _DOT
            p += 2
            for _ in range(-lead - 1):
                out[p] = _D0
                p += 1
            p = _write_uint(out, p, s)
    else:
        start = p
        p = _write_uint(out, p, s)
        if nd > 1:
            for k in range(p - 1, start, -1):
                out[k + 1] = out[k]
            out[start + 1] = _DOT
            p += 1
        out[p] = 101  # 'e'
        p += 1
        p = _write_int(out, p, lead)
    return p


@njit(cache=True)
def write_f32(out, p: int, v) -> int:
    """Write float32 ``v`` at ``out[p:]`` as the shortest decimal (at most 9 digits) that reads back bit-exact.

    For ``p = 1, 2, ...`` digits the candidate is ``s * 10**q`` with ``s = round(|v| * 10**-q)``; it is accepted
    when Clinger's fast path (the reader's own conversion, exact for ``|q| <= 22``) turns it back into ``v``.
    Outside that exponent range, 9 significant digits are written: any 9-digit decimal within one unit of the
    9th digit of ``v`` lies inside ``v``'s float32 rounding interval (relative half-gap >= 2**-25 > 1e-8), so it
    reads back exactly through any correctly rounded ``strtod`` followed by a cast to float32.
    """
    if v != v:
        out[p] = 110
        out[p + 1] = 97
        out[p + 2] = 110
        return p + 3
    neg = math.copysign(1.0, v) < 0
    if math.isinf(v):
        if neg:
            out[p] = _MINUS
            p += 1
        out[p] = 105
        out[p + 1] = 110
        out[p + 2] = 102
        return p + 3
    if v == 0:
        if neg:
            out[p] = _MINUS
            p += 1
        out[p] = _D0
        return p + 1
    a = abs(float(v))
    target = np.float32(abs(v))
    k = int(math.floor(math.log10(a)))
    for nd in range(1, 10):
        n = nd - 1 - k  # scale so that nd digits are left of the point
        if n < -22 or n > 22:
            break
        scaled = a * _POW10[n] if n >= 0 else a / _POW10[-n]
        s = int(math.floor(scaled + 0.5))
        if s == 0:
            continue
        # Read back exactly as parse_number does: s < 10**10 < 2**53 and |q| <= 22.
        back = float(s) / _POW10[n] if n >= 0 else float(s) * _POW10[-n]
        if np.float32(back) == target:
            return _write_decimal(out, p, neg, s, -n)
    # 9 significant digits, unchecked (see the docstring); make sure there really are nine.
    n = 8 - k
    scaled = a * 10.0**n
    while scaled < 1e8:
        n += 1
        scaled = a * 10.0**n
    while scaled >= 1e9:
        n -= 1
        scaled = a * 10.0**n
    s = int(math.floor(scaled + 0.5))
    return _write_decimal(out, p, neg, s, -n)


@njit(cache=True)
def _format_row(out, p, r, dense, X, data, indices, indptr, label_idx, label_tab, label_off, write_qid, qid,
                comm_blob, comm_off, first_id):
    lab = label_idx[r]
    for k in range(label_off[lab], label_off[lab + 1]):
        out[p] = label_tab[k]
        p += 1
    if write_qid:
        out[p] = _SP
        out[p + 1] = 113
        out[p + 2] = 105
        out[p + 3] = 100
        out[p + 4] = _COLON
        p = _write_int(out, p + 5, qid[r])
    if dense:
        for j in range(X.shape[1]):
            v = X[r, j]  # NaN and inf too, as nan and inf: omitted, NaN would read back as 0 (LightGBM, sklearn)
            out[p] = _SP
            p = _write_uint(out, p + 1, j + first_id)
            out[p] = _COLON
            p = write_f32(out, p + 1, v)
    else:
        for k in range(indptr[r], indptr[r + 1]):
            v = data[k]
            out[p] = _SP
            p = _write_uint(out, p + 1, indices[k] + first_id)
            out[p] = _COLON
            p = write_f32(out, p + 1, v)
    c0 = comm_off[r]
    c1 = comm_off[r + 1]
    if c1 > c0:
        out[p] = _SP
        out[p + 1] = _HASH
        p += 2
        for k in range(c0, c1):
            out[p] = comm_blob[k]
            p += 1
    out[p] = _NL
    return p + 1


@njit(cache=True)
def format_block(out, p, r0, r1, dense, X, data, indices, indptr, label_idx, label_tab, label_off, write_qid, qid,
                 comm_blob, comm_off, first_id):
    """Format rows ``r0:r1`` into ``out[p:]`` (which must have room for their worst case); return the end. Column
    ``j`` is written as feature id ``j + first_id`` (1, or 0 for a zero-based file)."""
    for r in range(r0, r1):
        p = _format_row(out, p, r, dense, X, data, indices, indptr, label_idx, label_tab, label_off, write_qid, qid,
                        comm_blob, comm_off, first_id)
    return p


@njit(cache=True, parallel=True)
def format_rows(out, block_rows, block_off, dense, X, data, indices, indptr, label_idx, label_tab, label_off,
                write_qid, qid, comm_blob, comm_off, first_id):
    """:func:`format_block` for rows ``block_rows[b]:block_rows[b+1]`` at ``out[block_off[b]:]``, in parallel.

    Returns the bytes written per block.
    """
    nb = block_rows.shape[0] - 1
    used = np.zeros(nb, dtype=np.int64)
    for b in prange(nb):
        end = format_block(out, block_off[b], block_rows[b], block_rows[b + 1], dense, X, data, indices, indptr,
                           label_idx, label_tab, label_off, write_qid, qid, comm_blob, comm_off, first_id)
        used[b] = end - block_off[b]
    return used
