"""Thread counts: one meaning of ``n_jobs`` for every part of the toolkit, and the rule used when it is None.

``n_jobs`` follows scikit-learn and joblib everywhere (engines, Numba kernels, the LETOR parser, feature
extraction, parallel folds):

=========  ===================================================================================================
value      threads
=========  ===================================================================================================
``None``   the toolkit's choice for the work at hand (:func:`auto_threads`)
``k > 0``  ``k`` (capped at the usable cores for Numba, whose pool cannot grow)
``-1``     every usable core; ``-2`` all but one, and so on (``cores + 1 + n_jobs``, at least 1)
``0``      refused
=========  ===================================================================================================

"Usable cores" are the CPUs this process may run on (``os.sched_getaffinity``, which respects ``taskset`` and
container CPU sets), not the machine's count.

Why the rule for None. The engines' own default is one OpenMP thread per core. OpenMP threads wait for each other at
every barrier by spinning, and a spinning thread that shares its core with another process waits a whole scheduler
slice: on a shared machine more threads are slower, not faster. ``benchmarks/bench_threads.py``
(``benchmarks/results/bench_threads.md``) measured it on this project's 2-core machine while other jobs kept its
load average at 6-8: 100 LambdaMART rounds on 300 rows x 46 features took 0.099 s on one LightGBM thread against
0.497 s on two (XGBoost 0.354 s against 1.905 s), and on 30,000 rows 2.27 s against 54.5 s (XGBoost 5.77 s against
30.3 s); one thread was the fastest in all 12 cells, beside a busy neighbour or not. On small data each round is
microseconds of work per thread, so threads only add barriers. :func:`auto_threads` therefore uses one thread below
:data:`AUTO_THREADS_MIN_CELLS` feature values, and above it the cores that are idle now: the usable cores minus the
1-minute load average (``os.getloadavg``), at least one - one on that loaded machine (the fastest choice in every
measured cell), every core on a quiet one (the engines' own advice for large data; no quiet many-core machine was
measured here) - and never more than ``$OMP_NUM_THREADS`` when it is set (:func:`omp_limit`), as the engines'
own defaults obey it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

__all__ = ["AUTO_THREADS_MIN_CELLS", "auto_threads", "cpu_count", "idle_cores", "numba_threads", "omp_limit",
           "openmp_default_threads", "resolve_n_jobs", "threading_layer_error", "workqueue_turn"]

#: Below this many feature values (rows x features) one thread is used when ``n_jobs`` is None.
AUTO_THREADS_MIN_CELLS = 2_000_000


def threading_layer_error(e: BaseException) -> str | None:
    """One line for Numba's failure to start the threading layer ``NUMBA_THREADING_LAYER`` names, which it raises
    as a ValueError of several lines at the first parallel kernel (``tbb`` where TBB is not installed, a name it does
    not know), naming the variable as a bad ``NUMBA_NUM_THREADS`` is named (``ltr doctor`` failed with it, and every
    ``ltr train`` in Numba's words; trial t59); None for any other error."""
    said = str(e)
    if not isinstance(e, ValueError) or not said.startswith(("No threading layer could be loaded",
                                                             "The threading layer requested")):
        return None
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    hint = " ".join(lines[lines.index("HINT:") + 1:]) if "HINT:" in lines else ""
    why = ("Numba does not know that layer (it knows default, safe, threadsafe, forksafe, tbb, omp, workqueue)"
           if "unknown" in lines[0] else f"Numba could not load it{f' ({hint})' if hint else ''}")
    value = os.environ.get("NUMBA_THREADING_LAYER")
    if value is None:
        return f"Numba could not start a threading layer: {' '.join(lines)}"
    return (f"environment variable NUMBA_THREADING_LAYER={value!r}: {why}; unset it, or name a layer that loads here "
            "(workqueue always does)")


def cpu_count() -> int:
    """The CPUs this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def idle_cores() -> int:
    """Usable cores minus the 1-minute load average, rounded, at least 1 (all usable cores where the OS has no load
    average)."""
    cores = cpu_count()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not a Unix
        return cores
    return max(1, min(cores, int(cores - load + 0.5)))


def auto_threads(n_rows: int | None = None, n_features: int | None = None) -> int:
    """Threads for ``n_jobs=None``: 1 for small work (fewer than :data:`AUTO_THREADS_MIN_CELLS` values), else the
    idle cores (:func:`idle_cores`), at most ``$OMP_NUM_THREADS`` (:func:`omp_limit`).

    Examples
    --------
    >>> auto_threads(300, 46)
    1
    """
    if n_rows is not None:
        cells = int(n_rows) * max(1, int(n_features or 1))
        if cells < AUTO_THREADS_MIN_CELLS:
            return 1
    return min(idle_cores(), omp_limit() or cpu_count())


def omp_limit(environ=None) -> int | None:
    """``$OMP_NUM_THREADS`` (its first entry, as OpenMP reads a list), when it is set to a positive count: the cap a
    batch scheduler or container gives every OpenMP program, which the engines' own defaults follow and so does
    :func:`auto_threads` (an explicit ``n_jobs`` is taken as given).

    Examples
    --------
    >>> omp_limit({"OMP_NUM_THREADS": "4,2"}), omp_limit({"OMP_NUM_THREADS": ""}), omp_limit({"OMP_NUM_THREADS": "²"})
    (4, None, None)
    """
    text = (os.environ if environ is None else environ).get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if not (text.isascii() and text.isdigit()):  # "²" is a digit to str.isdigit, not to int()
        return None
    return int(text) if int(text) > 0 else None


def openmp_default_threads() -> int:
    """The threads an engine runs when told 0 or fewer (LightGBM's ``num_threads``, XGBoost's ``nthread``): OpenMP's
    default, ``$OMP_NUM_THREADS`` when it is set (:func:`omp_limit`), else every core (:func:`cpu_count`)."""
    limit = omp_limit()
    return cpu_count() if limit is None else limit


def resolve_n_jobs(n_jobs: int | None, *, n_rows: int | None = None, n_features: int | None = None,
                   what: str = "n_jobs") -> int:
    """The number of threads ``n_jobs`` stands for (see the module table).

    Examples
    --------
    >>> resolve_n_jobs(3)
    3
    >>> resolve_n_jobs(-1) == cpu_count()
    True
    >>> resolve_n_jobs(None, n_rows=100, n_features=10)
    1
    """
    if n_jobs is None:
        return auto_threads(n_rows, n_features)
    try:
        whole = not isinstance(n_jobs, bool) and int(n_jobs) == n_jobs
    except (TypeError, ValueError, OverflowError):  # 'x', nan, inf: int()'s own words named no option (trial t66)
        whole = False
    if not whole:
        raise ValueError(f"{what} must be an integer (-1 for every core) or None, got {n_jobs!r}")
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError(f"{what} must not be 0: use a positive count, -1 for every core, or None for the default")
    if n_jobs < 0:
        return max(1, cpu_count() + 1 + n_jobs)
    return n_jobs


@contextlib.contextmanager
def numba_threads(n_jobs: int | None, *, n_rows: int | None = None, n_features: int | None = None
                  ) -> Iterator[int]:
    """Run the block with the Numba threads ``n_jobs`` stands for, restoring the previous count afterwards.

    ``None`` keeps Numba's current setting unless ``n_rows`` is given (then :func:`auto_threads` decides).
    Never called at import: the toolkit does not change Numba's global state except inside such a block.
    """
    import numba

    torch = sys.modules.get("torch")  # first: Numba's get_num_threads starts its threading layer (see below)
    kept = torch.get_num_threads() if torch is not None and hasattr(torch, "get_num_threads") else None
    previous = numba.get_num_threads()
    if n_jobs is None and n_rows is None:
        threads = previous
    else:
        threads = resolve_n_jobs(n_jobs, n_rows=n_rows, n_features=n_features)
    threads = max(1, min(threads, numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(threads)
    try:
        yield threads
    finally:
        numba.set_num_threads(previous)
        # Numba's OpenMP layer, started by its first thread call or parallel kernel, sets OpenMP's thread count to
        # NUMBA_NUM_THREADS, which torch shares (the same libgomp): torch's threads are left as they were (trial
        # t70: torch.set_num_threads(1), then Reranker.load, and torch ran on 2, a query's encoding 16 -> 435 ms)
        if kept is not None and torch.get_num_threads() != kept:
            torch.set_num_threads(kept)


def torch_threads_as_asked(torch) -> None:
    """Give ``torch``, just imported, the thread count ``OMP_NUM_THREADS`` asks for, where Numba's OpenMP layer,
    started before torch was imported, set OpenMP's count (which torch reads) to ``NUMBA_NUM_THREADS`` (trial t70:
    ``OMP_NUM_THREADS=1 ltr rerank`` encoded its queries on 2 threads, 16 -> 435 ms a query on a busy machine).
    Nothing when the variable is unset or not a positive count, or when torch already has it."""
    try:
        asked = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return
    if asked > 0 and hasattr(torch, "get_num_threads") and torch.get_num_threads() != asked:
        torch.set_num_threads(asked)


#: Numba's workqueue threading layer is the process's, and aborts it (SIGABRT) when two threads run parallel kernels
#: at once: :func:`workqueue_turn` takes this lock around them while the layer is (or may be) workqueue. Reentrant:
#: a reranker holds it around its tree scoring, which takes it again.
_WORKQUEUE_LOCK = threading.RLock()


def workqueue_turn() -> contextlib.AbstractContextManager:
    """A lock to hold around a parallel Numba kernel while Numba's threading layer is workqueue (where neither OpenMP
    nor TBB is available: often pip installs on macOS), or not yet chosen (no parallel kernel has run: the first may
    choose it); else nothing to wait for."""
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run
        layer = None
    return _WORKQUEUE_LOCK if layer in (None, "workqueue") else contextlib.nullcontext()
