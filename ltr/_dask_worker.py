"""The preload of every worker of a local cluster that :func:`ltr.dask.connect` starts (``local:N``).

A worker's standard output and error are pointed at the null device as it starts. The first workers inherit a
temporary file's from the cluster's start (:func:`ltr.dask._start_local`), but a worker that the nanny restarts
later (after an OOM kill or a crash) is spawned from the caller's process and inherited its terminal: LightGBM's
network set-up lines reached the caller's standard output (which ``--format json`` keeps for its own result) and a
Ctrl-C printed Dask's worker traceback. Errors still reach the caller as the tasks' exceptions.
"""

from __future__ import annotations

import os


def dask_setup(worker) -> None:  # noqa: ARG001 (Dask's preload interface)
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    finally:
        os.close(fd)
