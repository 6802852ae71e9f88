"""Opening input files: gzip (and bzip2, xz) recognised by magic bytes, UTF-8 text with errors that name the place.

Every reader of ltrkit (LETOR, TREC runs and qrels, score files, group sizes, the collections of
:mod:`features`) goes through here, so compression is decided one way everywhere: **by the first bytes**
(``1f 8b`` gzip, ``BZh`` bzip2, ``fd 37 7a 58 5a 00`` xz), never by the name. A gzip file named ``train.txt`` is
decompressed; a file named ``x.gz`` that holds plain text is read as plain text (the content is the better witness,
and a renamed or already decompressed file then still reads). UTF-16 text is named as such. Writers compress by the
name instead (:func:`ltr.io.atomic_write`: a ``.gz`` path is gzip).
"""

from __future__ import annotations

import glob
import gzip
import io
import logging
import lzma
import os
import re
import stat
import zlib
from pathlib import Path
from typing import IO

from ltr.exceptions import FileFormatError

__all__ = ["GZIP_MAGIC", "StreamError", "can_read_again", "checked_path", "compression", "is_gzip", "open_binary",
           "open_raw", "read_bytes", "read_text", "refuse_utf16"]

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


def not_found(path: str | os.PathLike, what: str = "file") -> FileNotFoundError:
    """``"{what} not found: {path}"``, with the file's own path where ``path`` is one with XGBoost's data URI
    suffix (``train.txt?format=libsvm#dtrain.cache``), which names no file here.

    Examples
    --------
    >>> str(not_found("/no/such.txt"))
    'file not found: /no/such.txt'
    """
    key = os.fspath(path)
    if key == "-":  # '-' is standard output for every --out; an input from standard input is named as a file
        return FileNotFoundError(f"{what} not found: - (standard input is read as /dev/stdin)")
    bare = re.sub(r"(\?format=\w+)?(#[^/]*)?$", "", str(key))
    if bare != str(key) and os.path.isfile(bare):
        return FileNotFoundError(f"{what} not found: {path} (XGBoost's data URI suffix: give the file's path alone, "
                                 f"{bare})")
    if glob.has_magic(key):  # quoted past the shell: the pattern itself names no file
        matches = len(glob.glob(key))
        if matches:
            files = f"{matches} file{'s' * (matches != 1)}"
            return FileNotFoundError(f"{what} not found: {path} (a pattern matching {files}: one file is read here; "
                                     "only training under Dask, ltr train --dask, reads a glob of shards)")
    beside = [os.path.basename(key) + suffix for suffix in COMPRESSED_SUFFIXES if os.path.isfile(f"{key}{suffix}")]
    if beside:  # (the shared MQ2008's Fold1/vali.txt.gz for Fold1/vali.txt: no hint; trial t70)
        return FileNotFoundError(f"{what} not found: {path} ({' and '.join(beside)} beside it, which the readers "
                                 "read as it is: give its name)")
    return FileNotFoundError(f"{what} not found: {path}")


def checked_path(path: object, what: str = "path") -> str:
    """``path`` (a str, bytes or os.PathLike) as a str, or a TypeError that names ``what`` and the value given
    (Python's own, 'expected str, bytes or os.PathLike object, not int', named neither: trial t67).

    Examples
    --------
    >>> checked_path("model.txt")
    'model.txt'
    >>> checked_path(3)
    Traceback (most recent call last):
    ...
    TypeError: path must be a file's path (str or os.PathLike), got int 3
    """
    if isinstance(path, (str, bytes, os.PathLike)):
        return os.fsdecode(path)
    raise TypeError(f"{what} must be a file's path (str or os.PathLike), got {type(path).__name__} {path!r:.60}")


def open_raw(path: str | os.PathLike, what: str = "file") -> IO[bytes]:
    """Open a file for reading its bytes as they are (no decompression), with one-line errors naming ``what``.

    Raises
    ------
    FileNotFoundError
        ``"{what} not found: {path}"``; :class:`IsADirectoryError` ``"{path}: is a folder, not a {what}"``.
    """
    key = checked_path(path)
    if key in _STREAMS:
        return io.BufferedReader(io.BytesIO(_STREAMS[key]))  # type: ignore[arg-type]
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise not_found(path, what) from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: is a folder, not a {what}") from None
    mode = os.fstat(f.fileno()).st_mode
    if stat.S_ISREG(mode):
        return f
    if (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) and not os.isatty(f.fileno()) and not _null_device(f):
        f.close()  # /dev/zero, a disk: read whole, as a pipe is, until memory ran out (trial t60)
        raise OSError(f"{path}: is a device, not a {what}")
    # A pipe (/dev/stdin, <(zcat ...)) gives its bytes once: kept for the process, so that a reader that looks at
    # the head first (format detection) and then reads the file gets all of it both times.
    with f:
        try:
            data = _STREAMS[key] = f.read()
        except MemoryError:
            raise MemoryError(f"{path} is read whole, as a pipe is, and does not fit") from None
    return io.BufferedReader(io.BytesIO(data))  # type: ignore[arg-type]


def _null_device(f) -> bool:
    """Whether ``f`` is the null device (read as an empty file, as trial t53 wanted), the one device read here."""
    try:
        return os.fstat(f.fileno()).st_rdev == os.stat(os.devnull).st_rdev
    except OSError:
        return False


#: The bytes of each pipe read so far, by the path it was given as (a pipe cannot be read twice).
_STREAMS: dict[str, bytes] = {}


def can_read_again(path: str | os.PathLike) -> bool:
    """Whether ``path`` can be read (again): a regular file, or a pipe whose bytes this process kept."""
    key = os.fspath(path)
    return key in _STREAMS or os.path.isfile(key)


def open_binary(path: str | os.PathLike, what: str = "file") -> IO[bytes]:
    """Open a file for reading bytes, decompressing it when it starts with the gzip, bzip2 or xz magic bytes (every
    stream of a multi-stream file).

    Raises
    ------
    FileNotFoundError
        Naming the path and ``what``, when it does not exist; :class:`IsADirectoryError` when it is a folder (as
        :func:`open_raw`).
    StreamError
        While reading a bzip2 or xz file: a damaged stream, or data after a stream that is not another stream (nor
        NUL padding); a cut stream is an :class:`EOFError`, a damaged gzip file a :class:`gzip.BadGzipFile`.
    """
    f = open_raw(path, what)
    try:
        kind = compression(f.peek(6)[:6])  # type: ignore[attr-defined]
    except BaseException:
        f.close()
        raise
    # Opened once and peeked, not read: a pipe (/dev/stdin, <(...)) cannot be opened a second time.
    if kind == "gzip":
        return _GzipReader(f)
    if kind is not None:
        return io.BufferedReader(_Streams(f, kind), _CHUNK)  # type: ignore[return-value]
    return f


#: Leading bytes of the compressed formats read besides gzip (Python's standard library decompresses both).
BZIP2_MAGIC, XZ_MAGIC = b"BZh", b"\xfd7zXZ\x00"
#: The name endings of a compressed copy of a file (``train.txt.xz``), which the readers open by their magic bytes:
#: where a file is looked up by name (fold layouts, data set copies), each is tried after the plain name.
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")


def sidecar_stems(path: str | os.PathLike) -> list[Path]:
    """Where a data file's sidecars (``.query``, ``.weight``, ``.qids.tsv``) are looked for: beside its own name,
    and for a compressed copy (``DATA.gz``, ``.bz2``, ``.xz``) beside the name it was made from (``DATA``).

    Examples
    --------
    >>> [str(p) for p in sidecar_stems("train.txt.xz")], [str(p) for p in sidecar_stems("train.txt")]
    (['train.txt.xz', 'train.txt'], ['train.txt'])
    """
    p = Path(path)
    return [p, p.with_suffix("")] if p.suffix in COMPRESSED_SUFFIXES else [p]


def compression(head: bytes) -> str | None:
    """``"gzip"``, ``"bzip2"``, ``"xz"`` or None, from a file's first bytes.

    Examples
    --------
    >>> compression(b"\\x1f\\x8b\\x08"), compression(b"BZh91AY"), compression(b"1 qid:1")
    ('gzip', 'bzip2', None)
    """
    if head[:2] == GZIP_MAGIC:
        return "gzip"
    if head[:3] == BZIP2_MAGIC and head[3:4].isdigit():
        return "bzip2"
    if head[:6] == XZ_MAGIC:
        return "xz"
    return None


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


class StreamError(OSError):
    """A bzip2 or xz file that is not one or more whole streams: data after a finished stream that starts no other
    one, or a damaged stream (the decompressor's words, and where the stream starts). An :class:`OSError`, as
    :class:`gzip.BadGzipFile` is, so that every reader's catch of a broken gzip stream catches it too."""


#: Compressed bytes read at a time by :class:`_Streams` (and its buffer of decompressed bytes).
_CHUNK = 1 << 20


class _Streams(io.RawIOBase):
    """The decompressed bytes of every bzip2 or xz stream of a file in turn (``cat a.bz2 b.bz2``, pbzip2's output),
    read in chunks; closes the file with itself.

    Python's ``bz2.BZ2File`` and ``lzma.LZMAFile`` take what follows a finished stream, when it does not decompress
    as another one, for trailing data and stop there without a word: a later stream with a damaged header lost its
    rows silently (trial t61). Here only these may follow a stream: another stream of the same format, or NUL bytes
    (xz's stream padding, a multiple of 4 bytes by the .xz format, section 2.2, which ``xz -t`` accepts; for bzip2,
    which has no padding, any number of them, as ``dd conv=sync`` or a tape block leaves: NULs hold no rows). Any
    other byte is a :class:`StreamError` saying where the last whole stream ends.
    """

    def __init__(self, raw: IO[bytes], kind: str):
        self._raw, self._kind = raw, kind
        self._dec = self._decompressor()
        self._input = b""  # compressed bytes read but not yet given to a decompressor
        self._read = 0  # compressed bytes read from the file so far
        self._start = 0  # where the current stream starts in the file
        self._done = False

    def _decompressor(self):
        if self._kind == "bzip2":
            import bz2

            return bz2.BZ2Decompressor()
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        with memoryview(b) as view, view.cast("B") as out:
            data = self._decompress(len(out))
            out[:len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        chunks = []
        while data := self._decompress(-1):
            chunks.append(data)
        return b"".join(chunks)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()

    def _decompress(self, size: int) -> bytes:
        """Up to ``size`` (-1: any number of) decompressed bytes; ``b""`` at the end of the file only."""
        while not self._done:
            if self._dec.eof:
                self._next_stream()
                continue
            data = b""
            if self._dec.needs_input:
                data, self._input = self._input or self._more(), b""
                if not data:
                    raise EOFError("Compressed file ended before the end-of-stream marker was reached")
            try:
                out = self._dec.decompress(data, size)
            except (OSError, lzma.LZMAError) as exc:  # bz2's "Invalid data stream", xz's "Corrupt input data"
                raise StreamError(f"{exc} (in the {self._kind} stream starting at byte {self._start})") from None
            if out:
                return out
        return b""

    def _more(self) -> bytes:
        chunk = self._raw.read(_CHUNK)
        self._read += len(chunk)
        return chunk

    def _next_stream(self) -> None:
        """After a finished stream: start the next one, or end at the end of the file, or refuse what follows."""
        rest = self._dec.unused_data
        end = self._read - len(rest)  # where the finished stream ends in the file (all input was given to it)
        nuls = 0
        while True:  # skip NULs, then hold the 6 bytes that tell another stream (bzip2's 4, xz's 6 magic bytes)
            kept = rest.lstrip(b"\x00")
            nuls += len(rest) - len(kept)
            rest = kept
            if len(rest) >= 6:
                break
            more = self._more()
            if not more:
                break
            rest += more
        if rest and compression(rest[:6]) != self._kind:
            after = len(rest) + nuls + sum(len(c) for c in iter(self._more, b""))
            raise StreamError(f"{after} bytes after the {self._kind} stream ending at byte {end} are not another "
                              f"{self._kind} stream: they start {rest[:6]!r} (a damaged or cut copy?)")
        if self._kind == "xz" and nuls % 4:
            raise StreamError(f"{nuls} NUL bytes after the xz stream ending at byte {end}: xz's stream padding is "
                              "a multiple of 4 bytes (a damaged copy?)")
        if not rest:
            self._done = True
            return
        self._start = self._read - len(rest)
        self._dec, self._input = self._decompressor(), rest


def read_bytes(path: str | os.PathLike, *, error: type[FileFormatError] = FileFormatError,
               what: str = "file") -> bytes:
    """The whole file's bytes, decompressed when gzip; a corrupt gzip stream raises ``error`` naming the file, a
    missing file or a folder the errors of :func:`open_raw` naming ``what``."""
    with open_binary(path, what) as f:
        kept = _STREAMS.get(os.fspath(path))
        if kept is not None and compression(kept[:6]) is None:
            return kept  # a pipe's bytes, kept once: not a second copy of them
        try:
            return f.read()
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:  # gzip.BadGzipFile is an OSError
            raise error(f"cannot read file: not a valid compressed stream ({exc})", str(path)) from None


#: Leading bytes of formats the readers do not open, and how to get text out of them.
_UNREAD = ((b"\x28\xb5\x2f\xfd", "zstd-compressed: decompress it (zstd -d FILE), or read it through a pipe "
            "(<(zstd -dc FILE))"),
           (b"PK\x03\x04", "a zip archive: unpack it (unzip FILE) and give the file inside"),
           # RAR 4 and 5, as every LETOR 4.0 set (MQ2007/8 and their -semi, -list) and LETOR 3.0's are published
           (b"Rar!\x1a\x07", "a RAR archive: unpack it (unrar x FILE, 7z x FILE or bsdtar -xf FILE) and give the "
            "file inside"),
           (b"7z\xbc\xaf\x27\x1c", "a 7z archive: unpack it (7z x FILE or bsdtar -xf FILE) and give the file inside"),
           # Unix compress (LZW), as the TREC disks ship their documents (la010189.Z): gzip -d reads it too
           (b"\x1f\x9d", "Unix compress (.Z) data: decompress it (uncompress FILE, or gzip -d FILE), or read it "
            "through a pipe (<(gzip -dc FILE))"),
           # legacy LZMA (lzma, xz --format=lzma): the default properties byte, then a dictionary size of 64 KiB or
           # more, a multiple of it (it was read as a label, or as invalid UTF-8; trial t61)
           (b"\x5d\x00\x00", "legacy LZMA (.lzma) data: decompress it (xz -d FILE, or unlzma FILE), or read it "
            "through a pipe (<(xz -dc FILE))"))


def refuse_utf16(head: bytes, path: str | os.PathLike, error: type[FileFormatError] = FileFormatError) -> None:
    """Raise ``error`` naming the file when ``head`` (a file's first bytes) starts with a UTF-16 byte-order mark
    (as Windows tools save text), or is a zstd stream, a zip, RAR or 7z archive, Unix compress data or (from its
    first 512 bytes, a tar header) a tar archive: read as UTF-8 its first byte would be taken for a label or a
    garbled token."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise error("UTF-16 text: convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)", str(path), 1)
    for magic, what in _UNREAD:
        if head[:len(magic)] == magic:
            raise error(what, str(path), 1)
    # POSIX and GNU tar headers: the magic at offset 257 ("ustar\0" or GNU's "ustar "), after a NUL-padded name
    # (text that happens to hold "ustar" there has no NUL before it)
    if head[257:263] in (b"ustar\x00", b"ustar ") and b"\x00" in head[:257]:
        raise error("a tar archive: unpack it (tar -xf FILE) and give the file inside", str(path), 1)


def refuse_inner_bom(data: bytes | str, path: str | os.PathLike,
                     error: type[FileFormatError] = FileFormatError, holder: str = "id") -> None:
    """Raise ``error`` naming the line when a byte-order mark (U+FEFF) stands anywhere but at the very start:
    files joined with ``cat``, the second saved with a BOM, whose first id then holds an invisible character (its
    judgments would never match). ``data``: the file's bytes, or its text after the leading BOM was dropped;
    ``holder``: what each of its lines holds (``"name"`` in a file of feature names)."""
    mark, first = (b"\xef\xbb\xbf", 1) if isinstance(data, bytes) else ("\ufeff", 0)
    k = data.find(mark, first)  # type: ignore[arg-type]
    if k < 0:
        return
    head = data[:k]
    nl, cr, crlf = (b"\n", b"\r", b"\r\n") if isinstance(data, bytes) else ("\n", "\r", "\r\n")
    line = head.count(nl) + head.count(cr) - head.count(crlf) + 1  # type: ignore[arg-type]
    raise error("a byte-order mark (U+FEFF) inside the file: files joined with cat, one saved with a BOM? remove it "
                f"(its next {holder} would hold it, invisibly, and match nothing)", str(path), line)


#: What substituting U+FFFD does, and what to do instead for a file in another encoding (older TREC and CLEF
#: collections are often Latin-1): replaced bytes split 'naïve' into the terms 'na' and 've'.
_SUBSTITUTE = ("to substitute U+FFFD (which splits the words around each one: a file in another encoding is better "
               "converted, e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8)")


def read_utf8_file(path: str | os.PathLike, what: str, *, error: type[FileFormatError] = FileFormatError) -> str:
    """A file no reader option substitutes anything in (a feature list, a search space, a feature set, stopwords,
    scores) as UTF-8 text, a leading byte-order mark dropped: not UTF-8, an ``error`` naming the file, line and byte
    and the fix, to convert it. ``what`` names the kind of file."""
    try:
        return read_text(path, error=error, what=what)
    except FileFormatError as e:
        if not e.fix:  # UTF-16, a folder, missing: its own words
            raise
        raise error(f"{what}: {e.reason}", e.path, e.line, offset=e.offset,
                    hint="save it as UTF-8 (e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8)") from None


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
    refuse_utf16(raw, path, error)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        if errors == "strict":
            line = raw.count(b"\n", 0, e.start) + 1
            raise error(f"invalid UTF-8 byte {raw[e.start:e.start + 1]!r}", str(path), line, offset=e.start,
                        fix={"encoding_errors": "replace"}, hint=_SUBSTITUTE) from None
        text = raw.decode("utf-8", errors="replace")
        log.warning("%s: replaced %d invalid UTF-8 sequence(s) with U+FFFD", path, text.count("\ufffd"))
    if text.startswith("\ufeff"):
        text = text[1:]
    return text
