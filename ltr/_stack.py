"""Where a warning should point: the first frame outside the toolkit's code that raised it.

Python 3.12's ``warnings.warn(skip_file_prefixes=...)`` does this; the toolkit supports 3.10, so it counts frames.
"""
from __future__ import annotations

import sys


def stacklevel_outside(scope: str) -> int:
    """The ``stacklevel`` that makes a warning issued by the function calling this one point at the first frame,
    from that function's caller up, whose module is not ``scope`` (a module's name, or a package's name, which
    covers its submodules): ``predict`` reaches a check through more of the toolkit's frames than ``fit`` does,
    and the user should see their own line either way."""
    frame, level = sys._getframe(2), 2
    while frame.f_back is not None and _within(str(frame.f_globals.get("__name__", "")), scope):
        frame, level = frame.f_back, level + 1
    return level


def _within(module: str, scope: str) -> bool:
    return module == scope or module.startswith(scope + ".")
