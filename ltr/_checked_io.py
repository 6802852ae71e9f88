"""Writes that are whole or an error, for :mod:`ltr.io.outputs` and the command line's standard output.

Standard library only: the console script installs :func:`checked_stdout` before anything heavy is imported (Numba
reads its environment variables on import, which the command line checks first).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
import threading
from collections.abc import Callable

__all__ = ["CheckedSink", "checked_stdout", "raise_if_interrupted", "reserve_standard_descriptors", "stop_outputs",
           "write_error"]

#: The interrupt the command line received, as a callable that makes it (KeyboardInterrupt, or its SIGTERM or SIGHUP
#: kind with its signal), kept for :func:`ltr.io.outputs.raise_if_stopped`: here, in a module the console script
#: imports before its signal handlers run, so that an interrupt that arrives before the output module is imported,
#: and that a library swallows on its way (a callback's "Exception ignored" during an import), still keeps every
#: output from replacing its file.
stopped: Callable[[], BaseException] | None = None


def stop_outputs(kind: Callable[[], BaseException] | None) -> None:
    """Keep every later output from replacing its file (``kind()``: the interrupt it raises instead), or, with None,
    allow them again. The command line's SIGINT, SIGTERM and SIGHUP handlers set it before raising their interrupt
    (one raised where a library catches it must still keep every output from replacing the previous one); None in a
    Python session. Here, with the standard library only, so that a handler can set it before pandas and numba are
    imported; :mod:`ltr.io.outputs` re-exports it."""
    global stopped
    stopped = kind


#: How many blocks hold the command line's interrupts (:func:`interrupts_held`): while a group of outputs is being
#: renamed into place (:func:`ltr.io.outputs.outputs_together`) the handlers only record an interrupt
#: (:func:`stop_outputs`), raised once the group is whole, so that the outputs are the previous set or the new one,
#: never some of each. A count (under a lock), so that blocks of two threads that overlap cannot leave it held.
holding: int = 0
_holding_lock = threading.Lock()


@contextlib.contextmanager
def interrupts_held():
    """Hold the command line's interrupts (:data:`holding`) for the block, then raise one that came meanwhile (in
    the last block to end); one recorded before the outermost block starts is raised there, before it."""
    global holding
    with _holding_lock:
        if holding == 0 and stopped is not None:  # recorded before the set went in (a library swallowed it): the
            raise stopped()  # set stays out (raise_if_stopped no longer checks inside a hold; review 2 of t62)
        holding += 1
    try:
        yield
    finally:
        with _holding_lock:
            holding -= 1
            last = holding == 0
    if last and stopped is not None:
        raise stopped()

def raise_if_interrupted() -> None:
    """Raise the interrupt the command line received, if any: llvmlite's callbacks swallow a Ctrl-C that comes while
    Numba compiles (printing 'Exception ignored ... KeyboardInterrupt'), and the command went on compiling and
    training for over a minute (trial t58); the training loops call this once a round."""
    if stopped is not None:
        raise stopped()


#: Errors of writing bytes (a full disk, a quota, a file too large, an I/O error), which the OS reports without the
#: file's name.
_WRITE_ERRNOS = frozenset(getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EFBIG", "EIO", "EBADF") if hasattr(errno, n))


def write_error(e: OSError, shown: str) -> OSError:
    """``e`` naming ``shown`` (the output the user gave) when the OS named no file: ``cannot write: no space left on
    device``."""
    if e.filename is None and e.errno in _WRITE_ERRNOS:
        return OSError(e.errno, f"cannot write: {e.strerror[:1].lower() + e.strerror[1:]}", shown)
    return e


class CheckedSink(io.RawIOBase):
    """Bytes to a file descriptor, buffered, each block written whole or an :class:`OSError` raised.

    Not :class:`io.BufferedWriter`: a write past a full disk or a file-size limit (``ulimit -f``) returns a short count
    from it without an error, and :class:`io.TextIOWrapper` ignores the count, so the rest of the output was lost
    without a word (``ltr predict --out - > FILE`` on a full disk exited 0 with 10,070 of 57,480 lines). Here a short
    write is followed by a write of the rest, which raises the disk's error (named ``label`` when given). The
    descriptor stays open.
    """

    def __init__(self, fd: int, block: int = 1 << 20, label: str | None = None):
        super().__init__()
        self._fd: int | None = fd
        self._block, self._label = block, label
        self._pending = bytearray()
        self._lock = threading.RLock()  # print() from several threads, as io.BufferedWriter allows

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        if self._fd is None:
            raise ValueError("the sink was discarded")
        return self._fd

    def write(self, b) -> int:
        view = memoryview(b).cast("B")
        with self._lock:
            if self._fd is not None:
                self._pending += view
                if len(self._pending) >= self._block:
                    self.flush()
        return view.nbytes

    def flush(self) -> None:
        with self._lock:
            if self._fd is None or not self._pending:
                return
            done = 0
            with memoryview(self._pending) as view:
                try:
                    while done < len(view):
                        n = os.write(self._fd, view[done:])
                        if n <= 0:  # pragma: no cover - a regular file or pipe either progresses or raises
                            raise OSError(errno.EIO, "the write made no progress")
                        done += n
                except OSError as e:
                    if self._label is None:
                        raise
                    raise write_error(e, self._label) from None
                finally:
                    rest = bytes(view[done:])
            self._pending = bytearray(rest)

    def discard(self) -> None:
        """Drop what is not written and write nothing more: called before the descriptor is closed, so that a text
        layer flushed later (when it is garbage-collected) cannot write into a file that reuses the number."""
        with self._lock:
            self._fd = None
            self._pending = bytearray()

    def close(self) -> None:  # the descriptor is the caller's
        if not self.closed:
            self.flush()
        super().close()


def reserve_standard_descriptors() -> None:
    """Descriptors 0, 1 and 2 that the caller closed (``ltr ... >&-``, ``2>&-``, a launcher that closes them) are
    reopened on /dev/null, so that no file the command opens takes their numbers (its notes would be written into a
    model file that got descriptor 2): standard input reads nothing; standard output is read-only there, so that a
    write to it fails as on a closed descriptor ("bad file descriptor": one line, exit 1, where it was a traceback
    on every command) while a command that writes nothing there succeeds; standard error takes the notes and lets
    them go (notes nobody can read must not end the work). Python's own ``sys`` streams of them (None) follow."""
    if os.name == "nt":
        return
    import fcntl

    for fd, mode in ((0, os.O_RDONLY), (1, os.O_RDONLY), (2, os.O_WRONLY)):
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        except OSError:  # closed
            flags = None
        # (standard error open read-only, what a launcher left there, a pyenv shim's script, is no place for notes)
        if flags is not None and (fd != 2 or flags & os.O_ACCMODE != os.O_RDONLY):
            continue
        try:
            got = os.open(os.devnull, mode)
        except OSError:  # pragma: no cover - no /dev/null: nothing better to do
            continue
        if got != fd:  # (the lower descriptors are open: the lowest free one is fd itself, but be sure)
            os.dup2(got, fd)
            os.close(got)
        name = ("stdin", "stdout", "stderr")[fd]
        if getattr(sys, name) is None:
            setattr(sys, name, io.TextIOWrapper(io.FileIO(fd, "r" if fd == 0 else "w", closefd=False),
                                                encoding="utf-8", errors="backslashreplace" if fd == 2 else "strict",
                                                line_buffering=fd == 2))


def checked_stdout() -> None:
    """Make ``sys.stdout`` write through a :class:`CheckedSink` (the command line's tables and notes: a ``print`` of a
    whole table past a full disk was lost without an error, as is any write through :class:`io.BufferedWriter` that
    the disk cuts short). Keeps its encoding, errors and line buffering, and Python's block size (8 KiB) between
    writes. Nothing to do for a stream without a file descriptor."""
    if os.name == "nt":  # Python's console writer on Windows is no file descriptor's bytes
        return
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both an OSError and a ValueError
        return
    if isinstance(getattr(sys.stdout, "buffer", None), CheckedSink):
        return
    sys.stdout.flush()
    sys.stdout = io.TextIOWrapper(CheckedSink(fd, io.DEFAULT_BUFFER_SIZE, "standard output"),
                                  encoding=sys.stdout.encoding, errors=sys.stdout.errors,
                                  line_buffering=sys.stdout.line_buffering)
