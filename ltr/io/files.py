"""Opening input files: gzip recognised by its magic bytes, UTF-8 text with errors that name the place.

Every reader of ltrkit (LETOR, TREC runs and qrels, score files, group sizes, the collections of
:mod:`features`) goes through here, so compression is decided one way everywhere: **by the first two bytes**
(``1f 8b``), never by the name. A gzip file named ``train.txt`` is decompressed; a file named ``x.gz`` that holds
plain text is read as plain text (the content is the better witness, and a renamed or already decompressed file
then still reads). Writers compress by the name instead (:func:`ltr.io.atomic_write`: a ``.gz`` path is gzip).
"""

from __future__ import annotations

import gzip
import logging
import os
import zlib
from typing import IO

from ltr.exceptions import FileFormatError

__all__ = ["GZIP_MAGIC", "is_gzip", "open_binary", "open_raw", "read_bytes", "read_text"]

log = logging.getLogger(__name__)

#: The first two bytes of every gzip member (RFC 1952, section 2.3.1).
GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str | os.PathLike) -> bool:
    """Whether the file starts with the gzip magic bytes (an empty or one-byte file is not gzip).

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "no_suffix")
    >>> _ = open(p, "wb").write(gzip.compress(b"1 0 d 1\\n"))
    >>> is_gzip(p)
    True
    """
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_raw(path: str | os.PathLike, what: str = "file") -> IO[bytes]:
    """Open a file for reading its bytes as they are (no decompression), with one-line errors naming ``what``.

    Raises
    ------
    FileNotFoundError
        ``"{what} not found: {path}"``; :class:`IsADirectoryError` ``"{path}: is a folder, not a {what}"``.
    """
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: is a folder, not a {what}") from None


def open_binary(path: str | os.PathLike, what: str = "file") -> IO[bytes]:
    """Open a file for reading bytes, decompressing it when it starts with the gzip magic bytes.

    Raises
    ------
    FileNotFoundError
        Naming the path and ``what``, when it does not exist; :class:`IsADirectoryError` when it is a folder (as
        :func:`open_raw`).
    """
    f = open_raw(path, what)
    try:
        gz = f.peek(2)[:2] == GZIP_MAGIC  # type: ignore[attr-defined]
    except BaseException:
        f.close()
        raise
    # Opened once and peeked, not read: a pipe (/dev/stdin, <(...)) cannot be opened a second time.
    return _GzipReader(f) if gz else f


class _GzipReader(gzip.GzipFile):
    """A gzip stream over an open file, which it closes with itself (``gzip.GzipFile(fileobj=)`` leaves it open)."""

    def __init__(self, raw: IO[bytes]):
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def read_bytes(path: str | os.PathLike, *, error: type[FileFormatError] = FileFormatError,
               what: str = "file") -> bytes:
    """The whole file's bytes, decompressed when gzip; a corrupt gzip stream raises ``error`` naming the file, a
    missing file or a folder the errors of :func:`open_raw` naming ``what``."""
    with open_binary(path, what) as f:
        try:
            return f.read()
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            raise error(f"cannot read file: not a valid gzip stream ({exc})", str(path)) from None


def read_text(path: str | os.PathLike, *, errors: str = "strict",
              error: type[FileFormatError] = FileFormatError, what: str = "file") -> str:
    """The whole file as UTF-8 text (gzip by magic bytes, a leading byte-order mark dropped).

    Parameters
    ----------
    path : str or PathLike
    errors : {"strict", "replace"}
        ``"strict"`` raises ``error`` naming the file, the line and the byte offset of the first invalid byte (in
        the decompressed stream), with the fix ``errors='replace'``; ``"replace"`` substitutes U+FFFD and logs a
        warning with the number of replaced sequences.
    error : FileFormatError subclass
        The class of the errors raised (readers of one kind of file raise their own).
    what : str, default="file"
        The kind of file, named when it is missing or a folder (``"qrels file"``: "qrels file not found: PATH").

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "t.txt")
    >>> _ = open(p, "wb").write(b"caf\\xc3\\xa9")
    >>> read_text(p)
    'café'
    """
    if errors not in ("strict", "replace"):
        raise ValueError(f"errors must be 'strict' or 'replace', got {errors!r}")
    raw = read_bytes(path, error=error, what=what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        if errors == "strict":
            line = raw.count(b"\n", 0, e.start) + 1
            raise error(f"invalid UTF-8 byte {raw[e.start:e.start + 1]!r}", str(path), line, offset=e.start,
                        fix={"encoding_errors": "replace"}, hint="to substitute U+FFFD") from None
        text = raw.decode("utf-8", errors="replace")
        log.warning("%s: replaced %d invalid UTF-8 sequence(s) with U+FFFD", path, text.count("\ufffd"))
    if text.startswith("\ufeff"):
        text = text[1:]
    return text
