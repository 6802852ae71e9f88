"""A place for Numba's compiled-code cache when neither of Numba's own is writable.

Numba caches the toolkit's ``@njit(cache=True)`` functions in ``__pycache__`` beside their sources or, where that
folder cannot be written (a read-only install: a container run as another user, a shared cluster install), in the
user's cache folder (``$XDG_CACHE_HOME/numba`` or ``~/.cache/numba``). Where neither can be written (a read-only or
missing home as well), Numba fails at the first decorated function with ``RuntimeError: cannot cache function ...:
no locator available``, and every command of the toolkit with it, ``ltr --help`` too. Then the cache goes to a folder
of this user's under the system's temporary folder; likewise, with a warning, when the user's ``NUMBA_CACHE_DIR``
cannot be written either (a volume mounted read-only, or not mounted) and nor can the user's cache folder (Numba's
next place after it).
Standard library only: it runs when ``ltr`` is imported, before Numba is.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

__all__ = ["cache_home"]


def _writable(folder: Path) -> bool:
    """Whether ``folder`` can be made and written to (as Numba checks a cache folder: it writes a file there)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _could_write(folder: Path) -> bool:
    """Whether ``folder`` could be written to, or made (its nearest existing parent can be written to), without
    making it: the user's ``NUMBA_CACHE_DIR`` is Numba's to make."""
    for place in (folder, *folder.parents):
        if os.path.lexists(place):
            if not place.is_dir():
                return False
            try:
                with tempfile.TemporaryFile(dir=place):
                    return True
            except OSError:
                return False
    return False


def _own_folder(tmp: Path) -> Path | None:
    """``tmp/ltrkit-numba-cache-UID``, this user's alone (Numba loads compiled code and pickles from its cache: a
    folder another user made, or could write to, or a link, would run their code); a new private folder of
    ``mkdtemp``'s when that name is taken otherwise; None when neither can be made."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    folder = tmp / f"ltrkit-numba-cache-{uid if uid is not None else 'user'}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        st = os.lstat(folder)
        private = stat.S_ISDIR(st.st_mode) and (uid is None or st.st_uid == uid) and not st.st_mode & 0o077
    except OSError:
        private = False
    if private:
        return folder
    try:
        return Path(tempfile.mkdtemp(prefix="ltrkit-numba-cache-", dir=tmp))  # 0700, new: compiled again each run
    except OSError:
        return None


def cache_home() -> str | None:
    """Set ``NUMBA_CACHE_DIR`` (and Numba's setting, if it is imported) to a writable folder when Numba's own places
    are not writable; returns the folder set, or None."""
    given = os.environ.get("NUMBA_CACHE_DIR")
    package = Path(__file__).resolve().parent
    if os.access(package, os.W_OK) or os.access(package / "__pycache__", os.W_OK):
        return None  # (a NUMBA_CACHE_DIR that cannot be written: Numba falls back to __pycache__)
    if given and _could_write(Path(given)):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if _writable(Path(base) / "numba"):  # Numba's next place, tried after a NUMBA_CACHE_DIR it cannot write
        return None
    folder = _own_folder(Path(tempfile.gettempdir()))
    if folder is None or not _writable(folder):
        return None
    if given:  # Numba's traceback on every command (ltr --help too) otherwise: said once, and worked around
        import warnings

        warnings.warn(f"NUMBA_CACHE_DIR={given} cannot be written, nor can the install's __pycache__ or the user's "
                      f"cache folder: Numba's cache of compiled code goes to {folder} (make NUMBA_CACHE_DIR writable, "
                      "or unset it)", UserWarning, stacklevel=2)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.config.CACHE_DIR = str(folder)
    return str(folder)
