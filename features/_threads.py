"""Numba thread count for one call, restored afterwards (never set at import)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["numba_threads"]


@contextlib.contextmanager
def numba_threads(n_jobs: int | None) -> Iterator[int]:
    """Run the block with ``n_jobs`` Numba threads (None: Numba's current setting; capped at the pool size)."""
    import numba

    previous = numba.get_num_threads()
    threads = previous if n_jobs is None else max(1, min(int(n_jobs), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(threads)
    try:
        yield threads
    finally:
        numba.set_num_threads(previous)
