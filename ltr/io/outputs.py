"""Writing output files safely: atomically, with the permissions a user expects, and to any destination.

:func:`atomic_write` is the one way ltrkit writes a file (models, runs, scores, LETOR, indexes, reports):

- a regular file is written to a temporary sibling, flushed and fsynced, renamed over the target, and then the
  folder is fsynced (where the OS allows), so an interrupted or failed write -- an exception, Ctrl-C -- never leaves
  a half-written file and the previous file stays intact until the new one is complete;
- a new file gets the permissions of any file the user creates (``0o666`` less the umask, applied by the kernel),
  and a replaced file keeps its mode (and, when running as root, its owner and group; otherwise its group where
  the user may set it);
- a symlink is written through: its target is replaced atomically, in the target's folder, and the link stays;
- what is not a regular file is written directly, without a temporary file or a rename: ``-`` and
  ``/dev/stdout`` (standard output), ``/dev/stderr``, character devices (``/dev/null``, a terminal), FIFOs and
  named pipes, sockets, and the open-file paths ``/dev/fd/N`` and ``/proc/...``;
- a missing folder, a folder that is not writable, or a path that names a folder raise
  :class:`~ltr.exceptions.OutputPathError` (a :class:`ValueError`) with one line naming the path the user gave,
  never a temporary file.

:func:`check_output_path` runs the same checks before a long job starts (and creates missing parent folders), so
that an output path that cannot be written fails in a second, not after an hour of training.

A replaced file that had other hard links is detached from them (a rename makes a new inode), as with any
atomic-rename writer.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ltr import _checked_io
from ltr._checked_io import CheckedSink as _CheckedSink
from ltr._checked_io import stop_outputs  # re-exported: the command line's signal handlers set it
from ltr._checked_io import write_error as _named
from ltr.exceptions import OutputPathError
from ltr.io.files import checked_path

__all__ = ["STDOUT", "atomic_write", "atomic_write_together", "check_output_path", "compressed_ending",
           "is_file_output", "outputs_together", "owner_to_keep", "raise_if_stopped", "reading_together",
           "stop_outputs", "unencodable"]

#: The path that means standard output.
STDOUT = "-"


def unencodable(e: UnicodeEncodeError, label: str = "standard output") -> str:
    """The message for text a standard stream's encoding cannot hold (files are always written as UTF-8)."""
    return (f"{label}: cannot write {ascii(e.object[e.start:e.end])} in its encoding {e.encoding} (set "
            "PYTHONIOENCODING=utf-8, or write to a file: files are UTF-8)")


def raise_if_stopped() -> None:
    """Raise the interrupt the command line received, if any (called just before an output replaces its file),
    unless interrupts are held (:func:`ltr._checked_io.interrupts_held`): a set of outputs is being put in place,
    and the interrupt comes once it is whole (ltr cv's fold folders were dropped after --out was in place; t62)."""
    if not _checked_io.holding:
        _checked_io.raise_if_interrupted()

_STREAM_ALIASES = {
    "-": "stdout",
    "/dev/stdout": "stdout", "/dev/fd/1": "stdout", "/proc/self/fd/1": "stdout",
    "/dev/stderr": "stderr", "/dev/fd/2": "stderr", "/proc/self/fd/2": "stderr",
}


def stream_of(path: str | os.PathLike) -> str | None:
    """``"stdout"`` or ``"stderr"`` for a path that writes to that stream (``-``, ``/dev/stdout``, ``/dev/fd/1``,
    ...), else None."""
    return _STREAM_ALIASES.get(os.fspath(path))


# Paths whose meaning is a process's open file, not a place in a folder: never replaced by a rename.
_SPECIAL_ROOTS = ("/proc/", "/dev/fd/")
_TMP_ATTEMPTS = 100
#: How an output's descriptor is opened for writing (binary on Windows, as open("wb") and tempfile do).
_WRITE_FLAGS = os.O_WRONLY | os.O_TRUNC | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class _Destination:
    kind: str  # "stdout", "stderr", "direct" (device, pipe) or "file" (atomic replace)
    path: str  # what to open or replace: the symlink's target for "file"
    existing: os.stat_result | None = None  # the regular file being replaced


#: What a file's name asks to be compressed with (the suffixes the readers decompress).
_COMPRESSION = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
#: Name endings of compressions the writers do not make: such a name got plain text (write_letor("d.txt.zip"),
#: stop 62), which unzip and zstd then refuse.
_UNWRITTEN = (".zip", ".zst", ".zstd", ".lz4", ".lzma", ".7z", ".br", ".Z", ".tgz", ".tbz2", ".txz")


def compressed_ending(name: str) -> str | None:
    """The ending of ``name`` that names a compression (``.gz``, ``.bz2``, ``.xz``, which the writers make, or one
    of :data:`_UNWRITTEN`, which they do not), as written; None for another name."""
    name = str(name)
    return next((name[-len(e):] for e in (*_COMPRESSION, *_UNWRITTEN)
                 if name.endswith(e) or (e != ".Z" and name.lower().endswith(e))), None)


def _unwritten_compression(shown: str) -> None:
    """:class:`OutputPathError` for a file name ending in a compression the writers do not make."""
    end = compressed_ending(shown)
    if end is not None and end.lower() not in _COMPRESSION:
        raise OutputPathError(shown, f"cannot write {end} files (the outputs that may be compressed are, by a .gz, "
                                     f".bz2 or .xz name; no writer makes {end}): name it without {end}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", *, encoding: str = "utf-8",
                 compress: bool | None = None) -> Iterator[IO]:
    """Open ``path`` for writing; the file appears, complete, when the ``with`` block ends without an exception.

    Parameters
    ----------
    path : str or PathLike
        The file; ``"-"`` is standard output. See the module docstring for symlinks, devices and pipes.
    mode : {"w", "wb"}
        Text (``str`` written, ``encoding`` applied, ``"\\n"`` kept as is) or bytes.
    encoding : str, default="utf-8"
        Of text written to a file (text written to standard output goes through ``sys.stdout`` as it is).
    compress : bool, optional
        gzip the bytes (reproducibly: no timestamp or name in the header). Default: by the path's suffix, as the
        readers read one, gzip for ``.gz``, bzip2 for ``.bz2``, xz for ``.xz`` (never for standard output).

    Yields
    ------
    file object
        Text or binary, writable. Do not close it.

    Raises
    ------
    OutputPathError
        The folder does not exist or is not writable, the path is a folder, or (with ``compress`` not given) its
        name ends in a compression no writer here makes (``.zip``, ``.zst``, ...): checked before anything is
        written. Other :class:`OSError` (a full disk) propagate; in every failure the temporary file is removed
        and a previous file at ``path`` is intact.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "scores.txt")
    >>> with atomic_write(p) as f:
    ...     _ = f.write("0.5\\n")
    >>> open(p).read()
    '0.5\\n'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    shown = checked_path(path)
    dest = _destination(shown)
    if compress is not None:
        gz = "gzip" if compress else None
    else:  # (a name the readers decompress is written compressed: bzcat and xzcat refused the text)
        gz = next((kind for suffix, kind in _COMPRESSION.items() if shown.endswith(suffix)), None) \
            if dest.kind in ("direct", "file") else None
        if dest.kind == "file":
            _unwritten_compression(shown)

    if dest.kind in ("stdout", "stderr"):
        stream = sys.stdout if dest.kind == "stdout" else sys.stderr
        label = "standard output" if dest.kind == "stdout" else "standard error"
        try:
            # Through sys.stdout itself (a notebook's, a test's capture, the command line's checked stream: see
            # ltr._checked_io), never around it to its descriptor, which a notebook's stream points elsewhere.
            if mode == "w" and not gz:
                yield stream
                stream.flush()
                return
            stream.flush()  # text already written must come out before these bytes
            sink = stream.buffer
            with _layers(sink, mode, encoding, gz) as f:
                yield f
            sink.flush()
        except OSError as e:
            raise _named(e, label) from None
        except UnicodeEncodeError as e:  # a terminal or pipe in a locale that cannot hold the text
            raise ValueError(unencodable(e, label)) from None
        return

    if dest.kind == "direct":
        try:
            fd = os.open(dest.path, _WRITE_FLAGS | os.O_CREAT, 0o666)
        except OSError as e:
            raise _path_error(shown, e) from None
        sink = _CheckedSink(fd)
        try:
            with _layers(sink, mode, encoding, gz) as f:
                yield f
            sink.flush()
        except OSError as e:
            raise _named(e, shown) from None
        finally:
            sink.discard()
            os.close(fd)
        return

    folder = os.path.dirname(dest.path) or "."
    tmp = None
    try:
        with _checked_io.interrupts_held():  # the temporary made is one the handlers below remove
            fd, tmp = _create_temp(shown, dest.path, folder)
        sink = _CheckedSink(fd)
        try:
            if dest.existing is not None:
                _copy_mode_and_owner(fd, dest.existing)
            with _layers(sink, mode, encoding, gz) as f:
                yield f
            sink.flush()
            os.fsync(fd)
        finally:
            sink.discard()
            os.close(fd)
        raise_if_stopped()
        try:
            os.replace(tmp, dest.path)
        except OSError as e:
            raise _path_error(shown, e) from None
    except OSError as e:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise _named(e, shown) from None
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    _fsync_folder(folder)


def atomic_write_together(files: list[tuple[str | os.PathLike, str]], *, encoding: str = "utf-8") -> None:
    """Write several text files as one unit: every file is written in full (and fsynced) to a temporary sibling
    first, and only then are they renamed into place, in the order given (:func:`outputs_together`), so that a
    failure while writing (a full disk, Ctrl-C) leaves none of them changed. A model and its sidecar are written so
    (the sidecar first: a crash between the two renames leaves a pair whose checksum disagrees, which is refused on
    loading, never a model without its sidecar that loads as another one).

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> atomic_write_together([(os.path.join(d, "m.txt.meta.json"), "{}\\n"), (os.path.join(d, "m.txt"), "tree\\n")])
    >>> sorted(os.listdir(d))
    ['m.txt', 'm.txt.meta.json']
    """
    with outputs_together(*(path for path, _ in files)) as places:
        for (path, text), place in zip(files, places):
            shown = os.fsdecode(os.fspath(path))
            if place == shown:  # standard output, a device, a pipe: written directly
                with atomic_write(shown, encoding=encoding) as f:
                    f.write(text)
                continue
            try:
                fd = os.open(place, _WRITE_FLAGS)
                sink = _CheckedSink(fd)
                try:
                    sink.write(text.encode(encoding))
                    sink.flush()
                    os.fsync(fd)
                finally:
                    sink.discard()
                    os.close(fd)
            except OSError as e:
                raise _named(e, shown) from None


@contextlib.contextmanager
def outputs_together(*paths: str | os.PathLike, remove: tuple[str | os.PathLike, ...] = ()
                     ) -> Iterator[list[str]]:
    """Outputs that belong together (a LETOR file and its ``.qids.tsv`` map), written by any writer: yields one
    temporary path per output, beside it, to write to; when the block ends without an exception they replace the
    outputs in the order given (each keeping a replaced file's mode, a symlink written through), and on an
    exception they are removed and every output is as it was. Outputs that are not files (standard output, a
    device, a pipe) are yielded as they are and written directly. ``remove``: files of the previous set that the
    new one has no place for (a map the new LETOR file does not use), set aside under a temporary name before the
    outputs are renamed in (so that one that cannot go fails the set with every output as it was) and removed once
    they are in place (a process killed in between leaves it beside them as ``.ltrkit-*.removed``). The command
    line's interrupts are held while the files are renamed and removed (:func:`ltr._checked_io.interrupts_held`): a
    Ctrl-C there is raised once the set is whole, never between two of its renames.

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> with outputs_together(os.path.join(d, "a.qids.tsv"), os.path.join(d, "a.letor")) as (m, a):
    ...     _ = open(m, "w").write("1\\tQ1\\n"), open(a, "w").write("1 qid:1 1:0.5\\n")
    >>> sorted(os.listdir(d))
    ['a.letor', 'a.qids.tsv']
    """
    staged: list[tuple[str, str, str, os.stat_result | None]] = []  # (shown, temporary, target, replaced file)
    yielded: list[str] = []
    try:
        for path in paths:
            shown = os.fsdecode(os.fspath(path))
            dest = _destination(shown)
            if dest.kind != "file":
                yielded.append(shown)
                continue
            folder = os.path.dirname(dest.path) or "."
            with _checked_io.interrupts_held():  # a temporary made is one the finally below removes
                fd, tmp = _create_temp(shown, dest.path, folder, keep_suffix=True)
                os.close(fd)
                staged.append((shown, tmp, dest.path, dest.existing))
            yielded.append(tmp)
        try:
            yield yielded
        except OSError as e:  # a writer's error names the temporary file it wrote: the user's path is the output
            # (compared as absolute paths: './.ltrkit-x.c.letor' was yielded, '.ltrkit-x.c.letor' named; trial t70)
            given = {os.path.abspath(tmp): shown for shown, tmp, _, _ in staged}.get(
                os.path.abspath(os.fsdecode(e.filename)) if isinstance(e.filename, (str, bytes)) else None)
            if given is None:
                raise
            raise OSError(e.errno, e.strerror, given) from None
        locked = os.path.dirname(staged[0][2]) or "." if len(staged) > 1 else None
        with _renaming_together(locked), _checked_io.interrupts_held():
            aside = _set_aside(remove)  # first: a file that cannot go fails the run before any output is replaced
            try:
                _rename_staged(staged)
            except BaseException:
                for path, tmp in reversed(aside):
                    with contextlib.suppress(OSError):
                        os.replace(tmp, path)
                raise
            for _, tmp in aside:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
    finally:
        for _, tmp, _, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _set_aside(paths) -> list[tuple[str, str]]:
    """Each existing file of ``paths`` renamed to a temporary name beside it, as ``(path, temporary)``; the ones
    moved are moved back when one cannot be (a folder of that name, a file this user may not remove). The stale map
    was removed after the new LETOR file was in place: a failure there left the run failed with its output
    replaced (trial t58)."""
    import errno
    import tempfile

    aside: list[tuple[str, str]] = []
    try:
        for path in map(os.fspath, paths):
            if not os.path.lexists(path):
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", path)
            fd, tmp = tempfile.mkstemp(prefix=".ltrkit-", suffix=".removed", dir=os.path.dirname(path) or ".")
            os.close(fd)
            try:
                os.replace(path, tmp)
            except BaseException as e:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                if isinstance(e, FileNotFoundError) and not os.path.lexists(path):
                    continue  # removed meanwhile (another process): nothing to set aside, as unlink took it
                raise
            aside.append((path, tmp))
    except BaseException:
        for path, tmp in reversed(aside):
            with contextlib.suppress(OSError):
                os.replace(tmp, path)
        raise
    return aside


@contextlib.contextmanager
def _renaming_together(folder: str | None) -> Iterator[None]:
    """An exclusive lock on ``folder`` (``flock``, where the OS has it) while a group of files is renamed in, so
    that two processes writing the same pair (two ``ltr train --out m.txt``) leave one's pair, not one's model
    with the other's sidecar."""
    with _folder_lock(folder, shared=False):
        yield


@contextlib.contextmanager
def reading_together(folder: str | os.PathLike | None) -> Iterator[None]:
    """A shared lock on ``folder`` while a group of files written together (a model and its sidecar) is read, so
    that a group renamed in meanwhile (:func:`outputs_together` holds the exclusive one) is read whole, before or
    after: a model loaded while another process saved it was read beside the other's sidecar and called truncated
    or edited (trial t72: 3 of 20 ``ltr predict`` runs). Nothing where the OS has no ``flock`` or the folder cannot
    be opened."""
    with _folder_lock(None if folder is None else os.fspath(folder), shared=True):
        yield


@contextlib.contextmanager
def _folder_lock(folder: str | None, *, shared: bool) -> Iterator[None]:
    if folder is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no lock
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _rename_staged(staged: list) -> None:
    """Rename staged temporaries over their targets, in order, dropping each from ``staged`` once renamed."""
    raise_if_stopped()
    for shown, tmp, target, existing in list(staged):
        if existing is not None:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                _copy_mode_and_owner(fd, existing)
            finally:
                os.close(fd)
        try:
            os.replace(tmp, target)
        except OSError as e:
            raise _path_error(shown, e) from None
        staged.pop(0)
        _fsync_folder(os.path.dirname(target) or ".")


def is_file_output(path: str | os.PathLike) -> bool:
    """Whether ``path`` is written as a file (a regular file, new or replaced, or one a symlink points to) rather
    than directly (standard output, a device such as ``/dev/null``, a pipe).

    Examples
    --------
    >>> is_file_output("model.txt"), is_file_output("-"), is_file_output("/dev/null")
    (True, False, False)
    """
    return _destination(os.fsdecode(os.fspath(path))).kind == "file"


def check_output_path(path: str | os.PathLike, *, create_parents: bool = True) -> Path:
    """Check, before long work starts, that ``path`` can be written; create missing parent folders.

    Parameters
    ----------
    path : str or PathLike
        An output file (``"-"`` for standard output is always fine).
    create_parents : bool, default=True
        Create missing parent folders (as ``mkdir -p``); otherwise a missing folder is an error.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputPathError
        The path names a folder; a parent is not a folder or cannot be created; the folder (or, for a device or
        pipe, the path itself) is not writable, or an existing file is write-protected (the atomic rename would
        replace it all the same). Writability is the OS's ``access(W_OK)`` answer for this process (root passes,
        except on a read-only file system).

    Examples
    --------
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> p = check_output_path(os.path.join(root, "runs", "bm25.run"))
    >>> os.path.isdir(os.path.join(root, "runs"))
    True
    """
    shown = checked_path(path)
    dest = _destination(shown)
    if dest.kind in ("stdout", "stderr"):
        return Path(shown)
    if dest.kind == "direct":
        if not os.access(dest.path, os.W_OK):
            raise OutputPathError(shown, "cannot write: permission denied")
        return Path(shown)
    _unwritten_compression(shown)
    folder = os.path.dirname(dest.path) or "."
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise OutputPathError(shown, f"cannot write: {folder} is not a folder")
        if not create_parents:
            raise OutputPathError(shown, f"cannot write: the folder {folder} does not exist")
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            raise OutputPathError(shown, f"cannot create the folder {folder}: {_reason(e)}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(shown, f"cannot write: the folder {folder} is not writable")
    if os.path.isfile(dest.path) and not os.access(dest.path, os.W_OK):  # the rename needs only the folder: a file
        raise OutputPathError(shown, "cannot write: the file is write-protected (chmod u+w it to replace it, or give "
                                     "another name)")  # made read-only to keep it is kept, as shell '>' keeps it
    return Path(shown)


# ----------------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------------


def _destination(shown: str) -> _Destination:
    """Classify the path: a standard stream, a device or pipe written directly, or a file replaced atomically."""
    if shown in _STREAM_ALIASES:
        return _Destination(_STREAM_ALIASES[shown], shown)
    if not shown:
        raise OutputPathError("''", "an empty output path")
    if shown.endswith(("/", os.sep)):
        raise OutputPathError(shown, "ends with a path separator, so it names a folder; give a file name")
    try:
        st = os.stat(shown)  # follows symlinks
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise OutputPathError(shown, "cannot write: a parent in the path is a file, not a folder") from None
    except OSError as e:
        raise _path_error(shown, e) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputPathError(shown, "is a folder; give a file name")
    absolute = os.path.abspath(shown)
    target = os.path.realpath(shown) if os.path.islink(shown) else shown
    special = absolute.startswith(_SPECIAL_ROOTS) or os.path.abspath(target).startswith(_SPECIAL_ROOTS)
    if st is not None and (not stat.S_ISREG(st.st_mode) or special):
        return _Destination("direct", shown)
    if special:  # a new name under /proc or /dev/fd: let the OS decide, never a rename there
        return _Destination("direct", shown)
    return _Destination("file", target, st)


def _create_temp(shown: str, target: str, folder: str, *, keep_suffix: bool = False) -> tuple[int, str]:
    """A new, empty, uniquely named file beside ``target``, created with mode 0o666 so the umask applies
    (``keep_suffix``: named ``.ltrkit-XXXX.NAME``, so that a writer that reads the suffix, ``.gz``, sees it)."""
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise OutputPathError(shown, f"cannot write: {folder} is not a folder")
        raise OutputPathError(shown, f"cannot write: the folder {folder} does not exist")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_BINARY", 0)
    name = os.path.basename(target)
    try:
        longest = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        longest = 255
    # a name within 14 bytes of the file system's longest: a short temporary name (the OS refused the long one as
    # "file name too long", after the work)
    short = len(os.fsencode(name)) + 14 > longest
    suffix = Path(name).suffix if len(Path(name).suffix) < 16 else ""  # (.gz: what a writer reads)
    for _ in range(_TMP_ATTEMPTS):
        tag = os.urandom(4).hex()
        if short:
            tmp = os.path.join(folder, f".ltrkit-{tag}{suffix}" if keep_suffix else f".ltrkit-{tag}.tmp")
        else:
            tmp = os.path.join(folder, f".ltrkit-{tag}.{name}" if keep_suffix else f".{name}.{tag}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as e:
            raise _path_error(shown, e, folder) from None
    raise OutputPathError(shown, f"cannot create a temporary file in {folder}")


def _copy_mode_and_owner(fd: int, st: os.stat_result) -> None:
    """Give the new file the replaced file's permission bits, and its owner and group where allowed."""
    mode = stat.S_IMODE(st.st_mode) & 0o1777  # never carry set-user/group-ID bits over to new content
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    owner = owner_to_keep(st.st_uid, st.st_gid) if hasattr(os, "fchown") else None
    if owner is not None:
        with contextlib.suppress(OSError):
            os.fchown(fd, *owner)
        if owner[0] == -1 and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # chown may have cleared bits


def owner_to_keep(uid: int, gid: int) -> tuple[int, int] | None:
    """The ``(uid, gid)`` to give a new file that replaces one owned by ``uid:gid``: both when running as root, the
    group alone (uid -1) when it is another of the user's groups (a user may give a file to any group of theirs),
    None when there is nothing to change or this process may not."""
    if os.geteuid() == 0:
        return uid, gid
    return (-1, gid) if gid != os.getegid() else None


def _fsync_folder(folder: str) -> None:
    """Make the rename durable: fsync the folder (not possible on every OS or file system; then skipped)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        dfd = os.open(folder, flags)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:  # e.g. EINVAL on file systems that do not support it
        pass
    finally:
        os.close(dfd)


@contextlib.contextmanager
def _layers(sink: IO[bytes], mode: str, encoding: str, gz: str | None) -> Iterator[IO]:
    """Compression (``gz``: "gzip", "bzip2", "xz" or None) and text layers over a binary sink; finished (trailer
    written, buffers flushed) on success only."""
    stream: IO[bytes] = sink
    zipped = None
    if gz == "gzip":
        zipped = gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0)
    elif gz == "bzip2":
        import bz2

        zipped = bz2.BZ2File(sink, mode="wb")
    elif gz == "xz":
        import lzma

        zipped = lzma.LZMAFile(sink, mode="wb")
    if zipped is not None:
        stream = zipped  # type: ignore[assignment]
    if mode == "w":
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")  # type: ignore[arg-type]
        yield text
        text.flush()
        text.detach()  # leave the binary stream open: closing is ours
    else:
        yield stream
    if zipped is not None:
        zipped.close()  # writes the trailer; does not close ``sink``


def _reason(e: OSError) -> str:
    # strerror only: str(e) would name the file the OS saw, which may be the temporary one.
    return e.strerror.lower() if e.strerror else type(e).__name__


def _path_error(shown: str, e: OSError, folder: str | None = None) -> OutputPathError:
    """A one-line error naming the user's path (an OSError's text would name the temporary file)."""
    where = f"the folder {folder}" if folder is not None else "the file"
    if e.errno in (errno.EACCES, errno.EPERM):
        return OutputPathError(shown, f"cannot write: {where} is not writable (permission denied)")
    if e.errno == errno.EROFS:
        return OutputPathError(shown, f"cannot write: {where} is on a read-only file system")
    if e.errno == errno.ENOENT:
        return OutputPathError(shown, f"cannot write: {where} does not exist")
    if e.errno == errno.EISDIR:
        return OutputPathError(shown, "is a folder; give a file name")
    if e.errno == errno.ENOTDIR:
        return OutputPathError(shown, "cannot write: a parent in the path is a file, not a folder")
    return OutputPathError(shown, f"cannot write: {_reason(e)}")
