"""Where the real public data sets live (``../shared/data`` or ``$LTRKIT_SHARED_DATA``).

Used by the tests and the benchmarks; the library itself never needs them.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["shared_data_dir", "require_shared"]

_HERE = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path | None:
    """The data directory, or None when it cannot be found."""
    env = os.environ.get("LTRKIT_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates += [_HERE.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c
    return None


def require_shared() -> bool:
    """True when a missing data set must fail (CI sets ``LTRKIT_REQUIRE_SHARED=1``) rather than skip."""
    return os.environ.get("LTRKIT_REQUIRE_SHARED", "") not in ("", "0")
