"""What progress on standard error shares (:mod:`ltr.tuning.progress` for a search,
:class:`ltr.evaluation.FoldProgress` for cross-validation, which cannot import each other's packages: tuning's
nested cross-validation imports the evaluation package): tqdm's bar on a terminal, plain lines elsewhere (a file, a
pipe, CI, ``nohup``, where tqdm draws nothing), and elapsed time as people read it."""

from __future__ import annotations

import sys
from typing import IO

__all__ = ["format_elapsed", "say", "terminal_bar"]


def terminal_bar(total: int, desc: str, unit: str, file: IO[str] | None = None):
    """tqdm's bar over ``total`` steps when ``file`` (default standard error) is a terminal, else None (the caller
    writes lines with :func:`say` instead)."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, disable=None, file=file)
    if bar.disable:
        bar.close()
        return None
    return bar


def say(text: str, file: IO[str] | None = None) -> None:
    """One progress line, flushed at once (default: standard error, looked up when written)."""
    print(text, file=file if file is not None else sys.stderr, flush=True)


def format_elapsed(seconds: float) -> str:
    """``42s``, ``3m07s``, ``1h02m``.

    Examples
    --------
    >>> format_elapsed(42.4), format_elapsed(187), format_elapsed(3725)
    ('42s', '3m07s', '1h02m')
    """
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"
