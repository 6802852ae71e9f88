"""Atomic file writes: write to a temporary file in the same folder, then rename over the target.

An interrupted or failed write never leaves a half-written file, and the previous file stays intact until the
new one is complete.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", *, encoding: str = "utf-8") -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; on success rename it to ``path``.

    ``mode`` is ``"w"`` (text) or ``"wb"`` (bytes). A path ending in ``.gz`` is gzip-compressed (reproducibly:
    no timestamp in the header).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as raw:
            if path.name.endswith(".gz"):
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                    yield gz if mode == "wb" else _text(gz, encoding)
            else:
                yield raw if mode == "wb" else _text(raw, encoding)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class _text:
    """A minimal text wrapper that does not close the underlying binary stream."""

    def __init__(self, raw: IO[bytes], encoding: str):
        self._raw = raw
        self._encoding = encoding

    def write(self, s: str) -> int:
        self._raw.write(s.encode(self._encoding))
        return len(s)

    def writelines(self, lines) -> None:
        for s in lines:
            self.write(s)
