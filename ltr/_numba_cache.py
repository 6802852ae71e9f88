"""Whether this interpreter has already compiled the toolkit's Numba functions (``cache=True`` files exist).

The first run of a command compiles the LETOR parser, the metrics and, with ``--kernel numba``, the loss for
many seconds; later runs load the compiled code from the cache. The command line says so before the pause
instead of appearing to hang. This only reads file names and permissions; it never triggers a compilation.

It looks where Numba will: Numba's cache locators (``numba.core.caching.CacheImpl``) take ``NUMBA_CACHE_DIR`` when
it is set, else the ``__pycache__`` beside the source when that folder can be written, else the user-wide cache
(``$XDG_CACHE_HOME/numba`` or ``~/.cache/numba``). On a read-only install (a container image warmed by root and run
as another user) the compiled files beside the sources are not the ones Numba reads, so they do not count.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numba

__all__ = ["cache_dir", "needs_compile"]

# The package's folder as Python imported it, not resolved: Numba names a cache folder after the source's path as
# the module has it (a symlinked install would otherwise be looked for under another name)
_HERE = Path(os.path.abspath(__file__)).parent
# Modules whose jitted functions every training run calls.
_ALWAYS = ("io/_letor_parse.py", "metrics/_kernels.py")


def _writable(folder: Path) -> bool:
    """Whether Numba could write ``folder`` (it makes it and writes a file there), judged without writing."""
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def _subpath(source: Path) -> str:
    """The folder name Numba gives a source's functions under a shared cache folder (its locators'
    ``get_suitable_cache_subpath``: the source's folder name and the SHA-1 of its path)."""
    folder = os.path.dirname(os.path.abspath(source))
    return f"{os.path.split(folder)[-1]}_{hashlib.sha1(folder.encode()).hexdigest()}"


def cache_dir(source: Path) -> Path:
    """The folder Numba caches ``source``'s jitted functions in (module docstring)."""
    if numba.config.CACHE_DIR:
        return Path(numba.config.CACHE_DIR) / _subpath(source)
    tree = source.parent / "__pycache__"
    if _writable(tree):
        return tree
    from numba.misc.appdirs import AppDirs

    return Path(AppDirs(appname="numba", appauthor=False).user_cache_dir) / _subpath(source)


def _cached(source: Path) -> bool:
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    folder = cache_dir(source)
    return folder.is_dir() and any(folder.glob(f"{source.stem}.*.{tag}.nbi"))


def needs_compile(*, kernel: str | None = None, engine: str | None = None) -> bool:
    """True when the parser, the metrics, the ``kernel`` loss (``ltr/kernels/<kernel>.py``) or, for
    ``engine="linear"``, coordinate ascent has no cache yet."""
    sources = [_HERE / s for s in _ALWAYS]
    if engine == "linear":
        sources.append(_HERE / "rankers" / "_coordinate_ascent.py")
    if kernel is not None:
        path = _HERE / "kernels" / f"{kernel}.py"
        if path.is_file():
            sources.append(path)
    return not all(_cached(s) for s in sources)
