"""Whether this interpreter has already compiled the toolkit's Numba functions (``cache=True`` files exist).

The first run of a command compiles the LETOR parser, the metrics and, with ``--kernel numba``, the loss for
many seconds; later runs load the compiled code from the cache. The command line says so before the pause
instead of appearing to hang. This only reads file names; it never triggers a compilation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numba

__all__ = ["needs_compile"]

_HERE = Path(__file__).resolve().parent
# Modules whose jitted functions every training run calls.
_ALWAYS = ("io/_letor_parse.py", "metrics/_kernels.py")


def _cache_dirs(source: Path) -> list[Path]:
    dirs = [source.parent / "__pycache__"]
    if numba.config.CACHE_DIR:
        dirs.append(Path(numba.config.CACHE_DIR))
    return dirs


def _cached(source: Path) -> bool:
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    pattern = f"{source.stem}.*.{tag}.nbi"
    return any(any(d.rglob(pattern)) if d.is_dir() else False for d in _cache_dirs(source))


def needs_compile(*, kernel: str | None = None) -> bool:
    """True when the parser, the metrics or the ``kernel`` loss (``ltr/kernels/<kernel>.py``) has no cache yet."""
    sources = [_HERE / s for s in _ALWAYS]
    if kernel is not None:
        path = _HERE / "kernels" / f"{kernel}.py"
        if path.is_file():
            sources.append(path)
    return not all(_cached(s) for s in sources)
