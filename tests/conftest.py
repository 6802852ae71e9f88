from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from ltr._shared import require_shared, shared_data_dir, shared_data_missing

# CI (.ci/run sets HYPOTHESIS_PROFILE=ci) draws the same examples every run, so that a submission cannot fail by
# the luck of the draw; runs elsewhere draw new ones each time, to keep finding cases.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the real data sets; skips (or fails under LTRKIT_REQUIRE_SHARED=1) when absent."""
    root = shared_data_dir()
    if root is None:
        msg = shared_data_missing()
        if require_shared():
            pytest.fail(msg + " (LTRKIT_REQUIRE_SHARED=1 makes this an error)")
        pytest.skip(msg)
    return root


@pytest.fixture(scope="session")
def shared_file(shared_data):
    """Return a function that resolves a path under the data root, failing/skipping if it is missing."""

    def resolve(rel: str) -> Path:
        p = shared_data / rel
        if not p.exists():
            msg = f"shared data file {p} is missing"
            if require_shared():
                pytest.fail(msg)
            pytest.skip(msg)
        return p

    return resolve



@pytest.fixture
def read_only(monkeypatch):
    """``read_only(root)``: the existing folder ``root`` as on a read-only file system, as the kernel answers (creating
    a folder in it fails with EROFS, and access(W_OK) says no), for the tests of messages that name the folder."""
    import errno
    import os

    def make(root: Path) -> None:
        real_mkdir, real_access = Path.mkdir, os.access

        def mkdir(self, *args, **kwargs):
            if root in Path(self).parents and not Path(self).exists():
                raise OSError(errno.EROFS, "Read-only file system", str(self))
            return real_mkdir(self, *args, **kwargs)

        def access(path, mode, *args, **kwargs):
            under = Path(path) == root or root in Path(path).parents
            return False if under and mode & os.W_OK else real_access(path, mode, *args, **kwargs)

        monkeypatch.setattr(Path, "mkdir", mkdir)
        monkeypatch.setattr(os, "access", access)

    return make


@pytest.fixture
def wait_until_catching():
    """``wait(pid, signum, mapped=None)``: until process ``pid`` has a handler of its own for signal ``signum`` (Linux:
    the ``SigCgt`` mask of its ``/proc`` status) and, with ``mapped``, a file whose path holds that text mapped into
    its memory (``lib_lightgbm``: training is about to start); elsewhere a fixed 4 s. A signal sent before the CLI
    has installed its handlers kills the process with the default action, which a fixed sleep cannot rule out on a
    busy machine."""
    import time

    def ready(pid: int, signum: int, mapped: str | None) -> bool:
        try:
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            maps = Path(f"/proc/{pid}/maps").read_text() if mapped else ""
        except FileNotFoundError:
            raise AssertionError(f"process {pid} ended before it handled signal {signum}") from None
        caught = next((int(line.split()[1], 16) for line in status if line.startswith("SigCgt:")), 0)
        return bool(caught >> (signum - 1) & 1) and (mapped is None or mapped in maps)

    def wait(pid: int, signum: int, mapped: str | None = None, timeout: float = 120) -> None:
        if not Path("/proc/self/status").exists():
            time.sleep(4)
            return
        end = time.monotonic() + timeout
        while not ready(pid, signum, mapped):
            if time.monotonic() > end:
                raise AssertionError(f"process {pid}: no handler for signal {signum} (or no {mapped}) in {timeout:g} s")
            time.sleep(0.02)

    return wait


@pytest.fixture(scope="module")
def dask_client():
    """A LocalCluster of 2 single-threaded workers as threads of this process (processes=False: starts in seconds,
    and both engines' Dask code works there), and its client, the default one; ``ltr ... --dask`` reaches it through
    ``dask_client.scheduler.address``. One per test module."""
    from ltr._shared import import_reference

    distributed = import_reference("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="session")
def lightgbm_trains_on_a_gpu() -> bool:
    """Whether LightGBM's own GPU learner trains here (on a tiny array, in a child process, so that a broken driver
    can neither crash nor hang the tests): a machine's GPU decided without ltrkit, whose answers the tests check."""
    import subprocess
    import sys

    code = ("import numpy as np, lightgbm as lgb\n"
            "X = np.arange(40, dtype=float).reshape(20, 2)\n"
            "lgb.train({'objective': 'binary', 'device_type': 'gpu', 'verbose': -1, 'min_data_in_leaf': 1},\n"
            "          lgb.Dataset(X, np.arange(20) % 2), 2)\n")
    try:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode == 0
    except subprocess.TimeoutExpired:  # pragma: no cover - a driver that hangs: LightGBM cannot use it
        return False


@pytest.fixture
def tune_argv(tmp_path):
    """``ltr tune`` arguments for a small search of ``data`` (written as a LETOR file in ``tmp_path``): a space of
    num_leaves 2-6, ``trials`` trials, 2 outer and 2 inner folds, 5 rounds of small leaves, one thread."""
    from ltr.io import write_letor

    def make(data, trials: int) -> list[str]:
        path, space = tmp_path / "train.txt", tmp_path / "space.toml"
        write_letor(path, data)
        space.write_text("[num_leaves]\nlow = 2\nhigh = 6\n")
        return ["tune", str(path), "--space", str(space), "--trials", str(trials), "--outer-folds", "2",
                "--inner-folds", "2", "--rounds", "5", "--min-child-samples", "2", "--n-jobs", "1"]

    return make


@pytest.fixture
def text_folder(tmp_path):
    """``make(name, files)``: the folder ``tmp_path/name`` holding each ``{file name: text}`` of ``files`` (a test
    collection's files, such as a SMART or Cranfield folder written in a few lines); returns its path."""

    def make(name: str, files: dict[str, str]) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        for file, text in files.items():
            (folder / file).write_text(text)
        return folder

    return make
