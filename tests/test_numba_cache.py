"""Where the "compiling Numba kernels" notice looks for compiled code: where Numba's own cache locators put it
(reference: numba.core.caching's locators for a function of the same source file)."""

from __future__ import annotations

import sys
from pathlib import Path

import numba
import pytest
from numba.core.caching import UserProvidedCacheLocator, UserWideCacheLocator

import ltr._numba_cache as cache
from ltr.io import _letor_parse

SOURCE = Path(_letor_parse.__file__).resolve()
TAG = f"py{sys.version_info.major}{sys.version_info.minor}"


def _a_function_of(module):
    return next(v.py_func for v in vars(module).values() if isinstance(v, numba.core.registry.CPUDispatcher))


def _compiled_in(folder: Path, source: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{source.stem}.f-1.{TAG}.nbi").write_bytes(b"")


@pytest.fixture
def read_only_install(tmp_path, monkeypatch):
    """The sources' __pycache__ folders cannot be written (a root-owned install run as another user); the user-wide
    cache is an empty folder of this test's."""
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(cache, "_writable", lambda folder: folder.name != "__pycache__")
    return tmp_path


def test_a_writable_install_is_cached_beside_its_sources():
    if numba.config.CACHE_DIR:
        pytest.skip("NUMBA_CACHE_DIR is set here")
    assert cache.cache_dir(SOURCE) == SOURCE.parent / "__pycache__"


def test_a_read_only_install_is_cached_where_numba_caches_it_and_compiled_files_beside_it_do_not_count(
        read_only_install, monkeypatch):
    want = Path(UserWideCacheLocator(_a_function_of(_letor_parse), str(SOURCE)).get_cache_path())
    assert cache.cache_dir(SOURCE) == want and str(want).startswith(str(read_only_install / "xdg"))
    package = read_only_install / "site-packages" / "ltr"  # an image warmed by root: compiled files beside the
    sources = [package / s for s in cache._ALWAYS]     # sources, which Numba will not read as another user
    for s in sources:
        s.parent.mkdir(parents=True, exist_ok=True)
        s.write_text("")
        _compiled_in(s.parent / "__pycache__", s)
    monkeypatch.setattr(cache, "_HERE", package)
    assert cache.needs_compile()  # said, although the sources' folders hold compiled files
    for s in sources:
        _compiled_in(cache.cache_dir(s), s)
    assert not cache.needs_compile()  # the second run of such a user: nothing to say


def test_numba_cache_dir_is_where_numba_puts_it_when_set(tmp_path, monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "numba-cache"))
    want = Path(UserProvidedCacheLocator(_a_function_of(_letor_parse), str(SOURCE)).get_cache_path())
    assert cache.cache_dir(SOURCE) == want
    assert cache.needs_compile()
    for s in (cache._HERE / s for s in cache._ALWAYS):
        _compiled_in(cache.cache_dir(s), s)
    assert not cache.needs_compile()


def test_a_package_imported_through_a_symlink_is_looked_for_where_numba_caches_it(tmp_path):
    # Numba names a shared cache's folder after the source's path as imported; the check resolved the symlink and
    # looked in another folder, so the notice was said on every run (review of trial t47)
    import os
    import subprocess

    link = tmp_path / "link"
    link.symlink_to(Path(cache.__file__).resolve().parents[1])  # the repository (or site-packages) holding ltr
    code = ("import inspect, numba\n"
            "from numba.core.caching import UserProvidedCacheLocator\n"
            "import ltr._numba_cache as c\n"
            "from ltr.io import _letor_parse as m\n"
            "f = next(v.py_func for v in vars(m).values() if isinstance(v, numba.core.registry.CPUDispatcher))\n"
            "print(UserProvidedCacheLocator(f, inspect.getfile(f)).get_cache_path())\n"
            "print(c.cache_dir(c._HERE / 'io' / '_letor_parse.py'))\n")
    env = {**os.environ, "PYTHONPATH": str(link), "NUMBA_CACHE_DIR": str(tmp_path / "nc")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)
    numbas, ours = done.stdout.splitlines()
    assert ours == numbas and str(link) in subprocess.run(
        [sys.executable, "-c", "import ltr; print(ltr.__file__)"], capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=120).stdout

