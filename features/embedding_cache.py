"""On-disk caches of neural vectors: the passage embeddings of a bi-encoder, the scores of a cross-encoder.

Plain files, never pickle: each cache is a folder ``<cache_dir>/<kind>-<slot>/`` holding

=================  =================================================================================================
``header.json``    format version, kind, the model (resolved path and :func:`model_digest`), the options that
                   change the vectors, ``n``, ``dim``, the names of the two array files and a CRC-32 of each
``keys-TAG.npy``   uint64 ``(n, 2)``: the first 16 bytes of the SHA-256 of each item (:func:`item_key`: a text, or
                   a (query, document) pair); ``TAG`` is 16 random hexadecimal digits, new at each write
``values-TAG.npy`` float32 ``(n, dim)``: the vector of each item
``lock``           empty; locked while the folder is read or written (below)
=================  =================================================================================================

(Format 1, written before the header named the arrays, holds ``keys.npy`` and ``values.npy``; it is still read, and
replaced by format 2 at the next write.)

The slot is a hash of (kind, model path, options), so another model or other options never share a folder (the
options hold the versions of the libraries that compute the vectors: an upgrade starts another cache). Inside
it, an item's key is the hash of its own text, so a changed or new text is a key not yet present: it is computed and
added, and the rest is reused. What is found and what is computed is counted (:class:`CacheStats`) and logged.

Never silently reused: the header must name the same model digest (the model's files changed at the same path: the
cache is discarded, with a warning saying so), the same options and format, and each array must parse (with
``allow_pickle=False``), have the header's shape and dtype and its CRC-32; anything else is a corrupt cache, discarded
with a warning naming the file and the reason, and recomputed (a key held twice with equal vectors, as earlier
versions could write, keeps its first copy). Writes are atomic: the arrays are written under new names
(:func:`ltr.io.atomic_write`), then the header that names them, then the previous arrays are removed; a write that
fails or is interrupted (a full disk, Ctrl-C while a large ``values`` file is written) leaves the previous header and
the arrays it names as they were. A cache that cannot be written is a warning, not an error (the features are right
either way). Delete
the folder at any time to reclaim the space. A long computation is written as it goes (every :data:`SAVE_EVERY`
seconds, between chunks of :data:`COMPUTE_CHUNK` items), so that a run interrupted keeps most of what it computed.

A vector is stored as computed, in whatever batch held its text: sentence-transformers pads a batch to its longest
text, so the same text encoded beside others can differ in the last float32 bit. A run that finds every vector it
needs gives the features of the run that stored them, bit for bit; one that finds some (a cache filled by other
queries or candidates) can differ from a cold run by about 1e-7 (a trial on ADI: 117 of 695 rows in the last digit);
for a model saved in bfloat16 or float16, which computes in that type, by its last bit (4e-4 in trial t64).

Several processes may share a folder (two ``ltr features`` runs on the default cache): the slot's ``lock`` file is
locked (``flock``) shared while the folder is read and exclusively while it is read, merged and written, so a reader
never sees one writer's header with another's arrays, and each writer adds its vectors to those the others wrote
since it read the folder, instead of replacing them. A header replaced while it is read (a writer that takes no
lock) is read again; one that keeps changing is reported as modified concurrently, not as corrupt.

Serving (:class:`features.serve.Reranker`, a cache made with ``memory_items``) reads the folder once and never
writes it: each served query brings new (query, document) pairs, and writing them would read, merge and rewrite the
whole folder at each call (a cross-encoder slot of a million pairs took 4.8 s per query, against 82 ms) and grow it
without bound. What serving computes (those pairs, a document the folder lacks) is held in memory instead, the
:data:`SERVE_ITEMS` most recently used, so that a call costs what its own candidates cost and a long-running
server's memory is bounded; fill the folder with ``ltr features`` to have documents read from it.

The default folder is ``$LTRKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/ltrkit``, else ``~/.cache/ltrkit``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ltr.io import atomic_write

__all__ = ["FORMAT_VERSION", "SERVE_ITEMS", "CacheStats", "VectorCache", "default_cache_dir", "item_key",
           "model_digest"]

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: the header names the array files (written under new names each time); 1: keys/values.npy
_ARRAY_NAME = re.compile(r"(keys|values)-[0-9a-f]{16}\.npy")
_OLD_ARRAYS = ("keys.npy", "values.npy")  # format 1's
_DIGESTS = "file-digests.json"  # per-file content hashes, reused while a file's size, times and inode are unchanged
_CHUNK = 1 << 22
_LOCK = "lock"  # the slot's lock file (:func:`_locked`)
_READ_TRIES = 3  # reads of a folder whose header keeps being replaced by an unlocked writer
#: Items computed by one call of a cache's ``compute``: between two calls the vectors so far may be written, so that
#: a long run (a large collection embeds for hours on a CPU) interrupted keeps what it computed. A collection of up
#: to this many new texts is computed in one call, as before there were chunks.
COMPUTE_CHUNK = 8192
#: Seconds of computing after which the vectors so far are written, between two chunks (each write rewrites the
#: folder's arrays, so not after every chunk).
SAVE_EVERY = 300.0
#: Vectors computed while serving that a cache holds in memory by default (``memory_items``): the most recently used.
SERVE_ITEMS = 1 << 16


def default_cache_dir() -> Path:
    """``$LTRKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/ltrkit``, else ``~/.cache/ltrkit``."""
    if os.environ.get("LTRKIT_CACHE_DIR"):
        return Path(os.environ["LTRKIT_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ltrkit"


def item_key(*parts: str) -> bytes:
    """16-byte key of an item made of one or more texts: SHA-256 over each part's UTF-8 length and bytes (so
    ``("ab", "c")`` and ``("a", "bc")`` differ).

    Examples
    --------
    >>> item_key("ab", "c") != item_key("a", "bc"), len(item_key("text"))
    (True, 16)
    """
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.digest()[:16]


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


#: Files of a model folder that do not change its outputs (model_digest skips them).
_NOT_WEIGHED_FOLDERS = frozenset({"onnx", "openvino"})


def _weighs(parts: tuple[str, ...]) -> bool:
    name = parts[-1].lower()
    return not (any(part.startswith(".") for part in parts) or parts[0] in _NOT_WEIGHED_FOLDERS
                or name.endswith(".md") or name.startswith("license"))


def _walk(root: Path) -> list[Path]:
    """Every file under ``root``, linked folders followed (``Path.rglob`` does not descend into a link to a folder
    before Python 3.13: a model whose ``1_Pooling/`` is a link would be identified without its pooling), each real
    folder once (a link back up the tree is no loop)."""
    out, seen = [], set()
    for here, dirs, names in os.walk(root, followlinks=True):
        dirs.sort()  # name order: which of two links to one folder is read first is the same in every copy
        real = os.path.realpath(here)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        out += [Path(here) / n for n in names if (Path(here) / n).is_file()]
    return out


def model_digest(folder: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None) -> str:
    """SHA-256 identifying a model folder's content: over every file that can change its outputs, its relative
    path, size and the SHA-256 of its bytes. Skipped: dot-files, documentation (``*.md`` model cards, ``LICENSE``)
    and the other runtimes' exports (``onnx/``, ``openvino/``), which sentence-transformers' torch models never
    read: editing a model card does not make a trained ranker's model another one.

    Hashing the weights costs about a second per 300 MB; with ``cache_dir`` each file's hash is remembered in
    ``cache_dir/file-digests.json`` and reused while the file keeps its size, modification time, inode and status
    change time. The last two are what make's and rsync's size-and-time check lacks: a file rewritten in place
    with its modification time set back (``touch -r``), or replaced by a copy that keeps it (``cp -p``, ``rsync
    -a``, tar), is hashed again, since no tool sets a file's change time back.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "config.json").write_text("{}")
    >>> a = model_digest(d); _ = (d / "README.md").write_text("# a model card")
    >>> a == model_digest(d)
    True
    >>> _ = (d / "config.json").write_text("{ }")
    >>> a == model_digest(d)
    False
    """
    root = Path(folder).resolve()
    memo_path = None if cache_dir is None else Path(cache_dir) / _DIGESTS
    memo: dict[str, list] = {}
    if memo_path is not None and memo_path.is_file():
        try:
            loaded = json.loads(memo_path.read_text(encoding="utf-8"))
            memo = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            memo = {}  # a damaged memo only costs a rehash
    changed = False
    h = hashlib.sha256()
    files = sorted(p for p in _walk(root) if _weighs(p.relative_to(root).parts))
    for p in files:
        st = p.stat()
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]
        entry = memo.get(str(p))
        if isinstance(entry, list) and len(entry) == len(stamp) + 1 and entry[:-1] == stamp:
            digest = entry[-1]
        else:
            digest = _file_sha256(p)
            memo[str(p)] = [*stamp, digest]
            changed = True
        h.update(f"{p.relative_to(root).as_posix()}\0{st.st_size}\0{digest}\n".encode())
    if changed and memo_path is not None:
        try:
            memo_path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(memo_path) as f:
                json.dump(memo, f, indent=0, sort_keys=True)
        except (OSError, ValueError) as e:  # OutputPathError is a ValueError
            log.warning("could not remember model file digests in %s: %s", memo_path, e)
    return h.hexdigest()


@dataclass
class CacheStats:
    """What one :meth:`VectorCache.get` found and computed.

    Attributes
    ----------
    found : int
        Unique items read from the cache.
    computed : int
        Unique items computed (new or changed texts, or everything after a discarded cache).
    discarded : str or None
        Why the cache on disk was not used (another model, corrupt file, ...), else None.
    """

    found: int = 0
    computed: int = 0
    discarded: str | None = None

    def __add__(self, other: CacheStats) -> CacheStats:
        """The counts of both (several :meth:`VectorCache.get` calls: each field of a feature); ``discarded`` is the
        later reason, else the earlier.

        >>> CacheStats(3, 1) + CacheStats(0, 2, "corrupt")
        CacheStats(found=3, computed=3, discarded='corrupt')
        """
        if not isinstance(other, CacheStats):
            return NotImplemented
        return CacheStats(self.found + other.found, self.computed + other.computed, other.discarded or self.discarded)


@contextmanager
def _locked(folder: Path, *, exclusive: bool) -> Iterator[None]:
    """A lock on ``folder/lock`` (``flock``: exclusive to write, shared to read), so that a reader never sees a
    header from one writer with arrays from another, and writers merge rather than overwrite each other. Where
    there is no ``flock`` (not POSIX) or the lock file cannot be opened (a read-only cache), unlocked: a changed
    header is then read again (:meth:`VectorCache._read`)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        fd = os.open(folder / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        try:  # a cache one may read but not write: a shared lock needs no write access
            fd = os.open(folder / _LOCK, os.O_RDONLY)
        except OSError:
            yield
            return
    try:
        with suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when a file is replaced (inode, modification time, size); None when it is absent."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _crc(a: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(a).view(np.uint8).reshape(-1)) & 0xFFFFFFFF


def _array_files(header: Mapping[str, Any]) -> dict[str, str]:
    """The names of the header's array files (format 1: ``keys.npy`` and ``values.npy``); ValueError for a name
    that is not one this module writes (a header pointing elsewhere, e.g. out of the folder, is corrupt)."""
    if header.get("format") == 1:
        return {"keys": "keys.npy", "values": "values.npy"}
    files = header["files"]
    if not isinstance(files, dict):
        raise ValueError("'files' is not a JSON object")
    for kind in ("keys", "values"):
        name = files.get(kind)
        if not (isinstance(name, str) and _ARRAY_NAME.fullmatch(name) and name.startswith(f"{kind}-")):
            raise ValueError(f"the header names {name!r} as the {kind} file")
    return files


def _normal(obj: Any) -> Any:
    return json.loads(json.dumps(obj, sort_keys=True))


class VectorCache:
    """Vectors keyed by :func:`item_key`, for one model and set of options, kept in ``root`` (module docstring).

    Parameters
    ----------
    root : path or None
        The cache folder (``None``: keep the vectors in memory only).
    kind : str
        What the vectors are (``"biencoder"``, ``"crossencoder"``); part of the slot name.
    model_path : str
        The model's resolved folder; part of the slot name.
    digest : str
        :func:`model_digest` of that folder; a cache written with another digest is discarded.
    options : mapping
        JSON-serialisable options that change the vectors (e.g. the maximum input length); part of the slot name.
    memory_items : int, optional
        Serving (:class:`features.serve.Reranker`): the folder is read, once, and never written; the vectors
        computed are held in memory, the ``memory_items`` most recently used (the others computed again when asked
        for), so that a call costs what its own items cost, whatever the size of the folder, and a long-running
        server's memory is bounded. Default None: every vector computed is added, and written to the folder.

    Examples
    --------
    >>> import tempfile
    >>> c = VectorCache(tempfile.mkdtemp(), kind="demo", model_path="/m", digest="d0", options={})
    >>> keys = [item_key("a"), item_key("b"), item_key("a")]
    >>> c.get(keys, lambda texts_at: np.array([[float(i)] for i in texts_at])).ravel().tolist()
    [0.0, 1.0, 0.0]
    >>> c.stats.computed, c.stats.found
    (2, 0)
    >>> c2 = VectorCache(c.root, kind="demo", model_path="/m", digest="d0", options={})
    >>> c2.get(keys[:2], lambda texts_at: 1 / 0).ravel().tolist(), c2.stats.found
    ([0.0, 1.0], 2)
    """

    def __init__(self, root: str | os.PathLike | None, *, kind: str, model_path: str, digest: str,
                 options: Mapping[str, Any], memory_items: int | None = None):
        self.kind = kind
        self.memory_items = memory_items
        self._recent: OrderedDict[int, np.ndarray] = OrderedDict()  # serving's computed vectors, the oldest first
        self.model_path = str(model_path)
        self.digest = digest
        self.options = _normal(dict(options))
        slot = hashlib.sha256(json.dumps([kind, self.model_path, self.options], sort_keys=True).encode()).hexdigest()
        self.root = None if root is None else Path(root)
        self.path = None if self.root is None else self.root / f"{kind}-{slot[:20]}"
        self.stats = CacheStats()
        self._rows: dict[int, int] | None = None
        self._keys = np.zeros((0, 2), dtype=np.uint64)
        self._values: np.ndarray | None = None

    # -- reading -----------------------------------------------------------------------------------------------------
    def _load(self) -> str | None:
        """Read the folder into memory; returns why it was discarded (None when used or absent)."""
        self._rows = {}
        if self.path is None or not (self.path / "header.json").exists():
            return None
        with _locked(self.path, exclusive=False):
            found = self._read()
        if isinstance(found, str):
            return found
        if found is not None:
            self._keys, self._values, self._rows = found
        return None

    def _read(self) -> tuple[np.ndarray, np.ndarray, dict[int, int]] | str | None:
        """``(keys, values, rows)`` of the folder, None when it holds no cache, or why it cannot be used.

        A header replaced while the arrays are read (a writer that takes no lock: another ltrkit version, a file
        system without ``flock``) is read again, and if it keeps changing, said to be modified concurrently, not
        corrupt."""
        head_path = self.path / "header.json"
        for _ in range(_READ_TRIES):
            before = _stamp(head_path)
            if before is None:
                return None
            found = self._read_once(head_path)
            if not isinstance(found, str) or _stamp(head_path) == before:
                return found
        return (f"cache {self.path} was modified concurrently by another process while it was read (it kept "
                f"changing over {_READ_TRIES} reads; last: {found})")

    def _read_once(self, head_path: Path) -> tuple[np.ndarray, np.ndarray, dict[int, int]] | str:
        try:
            header = json.loads(head_path.read_text(encoding="utf-8"))
            if not isinstance(header, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as e:
            return f"corrupt cache {head_path}: {e}"
        if header.get("format") not in (1, FORMAT_VERSION) or header.get("kind") != self.kind:
            return f"cache {self.path} has format {header.get('format')!r}, kind {header.get('kind')!r}"
        model = header.get("model") or {}
        if not isinstance(model, dict):  # valid JSON, damaged otherwise: discarded as any corrupt header is
            return f"corrupt cache {head_path}: 'model' is not a JSON object"
        if model.get("digest") != self.digest:
            return (f"cache {self.path} was written by another version of the model at {self.model_path} "
                    f"(digest {str(model.get('digest'))[:12]}, now {self.digest[:12]})")
        if header.get("options") != self.options:
            return f"cache {self.path} was written with other options ({header.get('options')})"
        try:
            n, dim = int(header["n"]), int(header["dim"])
            crc = header["crc32"]
            files = _array_files(header)
            keys = self._read_array(files["keys"], np.uint64, (n, 2), int(crc["keys"]))
            values = self._read_array(files["values"], np.float32, (n, dim), int(crc["values"]))
        except (KeyError, TypeError, ValueError, OSError) as e:
            return f"corrupt cache {self.path}: {e}"
        if not np.isfinite(values).all():  # no vector a model gives: a cosine of NaN was read as 0 (trial t59)
            return f"corrupt cache {self.path}: vectors hold NaN or infinite values"
        # one pass of Python ints over columns, not a list per row: 1M keys take 0.6 s rather than 4 (the first
        # served query of a large cache waits on this); a key repeated keeps its first row
        ints = [hi << 64 | lo for lo, hi in zip(keys[:, 0].tolist(), keys[:, 1].tolist())]
        rows = dict(zip(reversed(ints), range(len(ints) - 1, -1, -1)))
        repeats = [] if len(rows) == len(ints) else [(rows[k], i) for i, k in enumerate(ints) if rows[k] != i]
        if repeats:  # (first row, repeated row)
            # Earlier versions wrote a key twice when it was merged from another process and then computed again
            # (trial t52): both copies are vectors of one text, equal but for batch padding's last bits, and the
            # first is kept. Copies that differ are no such thing: the folder is damaged, and discarded.
            a, b = (np.array(side, dtype=np.int64) for side in zip(*repeats))
            if not np.allclose(values[a], values[b], rtol=1e-4, atol=1e-6):
                return f"corrupt cache {self.path}: repeated keys with different vectors"
            log.info("cache %s holds %d repeated key(s) with equal vectors: the first copy of each is kept",
                     self.path, len(repeats))
            take = np.array(sorted(rows.values()), dtype=np.int64)
            keys, values = keys[take], values[take]
            rows = {k: j for j, k in enumerate(sorted(rows, key=rows.__getitem__))}
        return keys, values, rows

    def _read_array(self, name: str, dtype: type, shape: tuple[int, int], crc: int) -> np.ndarray:
        path = self.path / name
        try:
            a = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as e:
            raise ValueError(f"{name} does not parse as .npy ({e})") from None
        if a.dtype != np.dtype(dtype) or a.shape != shape:
            raise ValueError(f"{name} holds {a.dtype} {a.shape}, the header says {np.dtype(dtype)} {shape}")
        if _crc(a) != crc:
            raise ValueError(f"{name} fails its CRC-32 check")
        return a

    # -- the one entry point -----------------------------------------------------------------------------------------
    def get(self, keys: Sequence[bytes], compute: Callable[[list[int]], NDArray]) -> NDArray[np.float32]:
        """Vectors of ``keys`` (float32, ``(len(keys), dim)``); ``compute(positions)`` gets the positions in ``keys``
        of the unique keys not in the cache, :data:`COMPUTE_CHUNK` at a time, and returns their vectors, which are
        added and saved (also between chunks, every :data:`SAVE_EVERY` seconds: an interrupted run keeps them)."""
        self.stats = CacheStats()
        if self._rows is None:
            why = self._load()
            if why:
                log.warning("%s: discarded and recomputed", why)
                self.stats.discarded = why
                self._keys, self._values, self._rows = np.zeros((0, 2), dtype=np.uint64), None, {}
        ints = [int.from_bytes(k, "little") for k in keys]
        missing: dict[int, int] = {}
        for pos, k in enumerate(ints):
            if k not in self._rows and k not in self._recent and k not in missing:
                missing[k] = pos
        self.stats.found = len(set(ints)) - len(missing)
        self.stats.computed = len(missing)
        if self.memory_items is not None:
            return self._get_held(ints, missing, compute)
        if missing:
            todo, at = list(missing), list(missing.values())
            saved = time.monotonic()
            for lo in range(0, len(todo), COMPUTE_CHUNK):
                self._add(todo[lo:lo + COMPUTE_CHUNK], compute(at[lo:lo + COMPUTE_CHUNK]))
                if lo + COMPUTE_CHUNK < len(todo) and time.monotonic() - saved >= SAVE_EVERY:
                    self._save()  # what an interrupted run keeps
                    saved = time.monotonic()
            self._save()
        if self.path is not None:
            log.info("%s cache '%s': %d item(s) found, %d computed (new or changed texts)", self.kind, self.path,
                     self.stats.found, self.stats.computed)
        if self._values is None:
            return np.zeros((len(keys), 0), dtype=np.float32)
        return self._values[np.fromiter((self._rows[k] for k in ints), dtype=np.int64, count=len(ints))]

    def _get_held(self, ints: list[int], missing: dict[int, int], compute: Callable[[list[int]], NDArray]
                  ) -> NDArray[np.float32]:
        """:meth:`get` with ``memory_items``: what is computed is held in memory, never written, and the least
        recently used beyond ``memory_items`` are forgotten; no step reads, copies or writes the whole cache."""
        fresh: dict[int, np.ndarray] = {}
        todo, at = list(missing), list(missing.values())
        for lo in range(0, len(todo), COMPUTE_CHUNK):
            new = self._checked(todo[lo:lo + COMPUTE_CHUNK], compute(at[lo:lo + COMPUTE_CHUNK]))
            fresh.update(zip(todo[lo:lo + COMPUTE_CHUNK], (row.copy() for row in new)))  # not views of a chunk
        rows = []
        for k in ints:
            i = self._rows.get(k)
            if i is not None:
                rows.append(self._values[i])
            elif k in fresh:
                rows.append(fresh[k])
            else:
                self._recent.move_to_end(k)  # used: the last to be forgotten
                rows.append(self._recent[k])
        self._recent.update(fresh)
        while len(self._recent) > self.memory_items:
            self._recent.popitem(last=False)
        if not rows:
            return np.zeros((0, self._width() or 0), dtype=np.float32)
        return np.stack(rows)

    def _width(self) -> int | None:
        """The vectors' width, None before any is held."""
        if self._values is not None:
            return int(self._values.shape[1])
        return next((int(v.shape[0]) for v in self._recent.values()), None)

    def _checked(self, keys: list[int], computed) -> np.ndarray:
        """``computed`` as float32 ``(len(keys), dim)``, checked: one finite row per key, of the cache's width."""
        new = np.asarray(computed, dtype=np.float32)
        if new.ndim == 1:
            new = new[:, None]
        width = self._width()
        if new.shape[0] != len(keys) or (width is not None and new.shape[1] != width):
            raise ValueError(f"cache {self.kind}: computed {new.shape} vectors for {len(keys)} items")
        if not np.isfinite(new).all():
            raise FloatingPointError(f"{self.kind}: the model returned a non-finite value")
        return new

    def _add(self, keys: list[int], computed) -> None:
        """Hold the vectors ``computed`` for ``keys`` (checked: one finite row per key, of the cache's width)."""
        new = self._checked(keys, computed)
        # A key held already was merged from the folder (another process stored it between two of this call's
        # chunks): its vector is kept, so that the folder never holds a key twice
        fresh = [i for i, k in enumerate(keys) if k not in self._rows]
        if len(fresh) < len(keys):
            keys, new = [keys[i] for i in fresh], new[fresh]
        start = self._keys.shape[0]
        mk = np.array([[k & 0xFFFFFFFFFFFFFFFF, k >> 64] for k in keys], dtype=np.uint64).reshape(-1, 2)
        self._keys = np.concatenate([self._keys, mk])
        self._values = new if self._values is None else np.concatenate([self._values, new])
        for i, k in enumerate(keys):
            self._rows[k] = start + i

    # -- writing -----------------------------------------------------------------------------------------------------
    def _save(self) -> None:
        """Write the vectors, with those another process added to the folder since it was read: the folder is
        read, merged and written under an exclusive lock, so that concurrent writers keep each other's vectors."""
        if self.path is None:
            return
        written: list[Path] = []
        named = False
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with _locked(self.path, exclusive=True):
                self._merge_disk()
                # New names, the header last: until the header is replaced, it names the previous arrays, untouched
                tag = os.urandom(8).hex()
                files = {"keys": f"keys-{tag}.npy", "values": f"values-{tag}.npy"}
                header = {
                    "format": FORMAT_VERSION, "kind": self.kind,
                    "model": {"path": self.model_path, "digest": self.digest}, "options": self.options,
                    "n": int(self._keys.shape[0]), "dim": int(self._values.shape[1]), "files": files,
                    "crc32": {"keys": _crc(self._keys), "values": _crc(self._values)},
                }
                for name, a in ((files["keys"], self._keys), (files["values"], self._values)):
                    buf = io.BytesIO()
                    np.save(buf, a, allow_pickle=False)
                    written.append(self.path / name)
                    with atomic_write(self.path / name, "wb") as f:
                        f.write(buf.getvalue())
                with atomic_write(self.path / "header.json") as f:
                    json.dump(header, f, indent=1, sort_keys=True)
                named = True
                self._remove_arrays(keep=set(files.values()))
        except (OSError, ValueError) as e:  # OutputPathError is a ValueError
            log.warning("could not write the %s cache %s: %s (the features are unaffected; the cache keeps what it "
                        "held before)", self.kind, self.path, e)
        finally:
            if not named:  # a failed or interrupted write (Ctrl-C too): no header names its arrays
                self._drop_unnamed(written)

    def _drop_unnamed(self, written: list[Path]) -> None:
        """Remove the files of a write that did not finish, unless the header came to name them (interrupted
        after it was renamed into place)."""
        try:
            kept = set(_array_files(json.loads((self.path / "header.json").read_text(encoding="utf-8"))).values())
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            kept = set()
        for p in written:
            if p.name not in kept:
                with suppress(OSError):
                    p.unlink()

    def _remove_arrays(self, keep: set[str]) -> None:
        """Remove the array files the header does not name: the previous write's, format 1's, and any a write
        killed before its clean-up left (under the exclusive lock: no reader that locks is reading them)."""
        for p in self.path.iterdir():
            if p.name not in keep and (p.name in _OLD_ARRAYS or _ARRAY_NAME.fullmatch(p.name)):
                with suppress(OSError):
                    p.unlink()

    def _merge_disk(self) -> None:
        """Add the folder's vectors that this cache does not hold (written by another process since it was
        read); a folder that cannot be used (damaged, another model or options) is replaced, as before."""
        found = self._read()
        if found is None or isinstance(found, str):
            return
        keys, values, rows = found
        if self._values is None or values.shape[1] != self._values.shape[1]:
            return
        new = [i for k, i in rows.items() if k not in self._rows]
        if not new:
            return
        start = self._keys.shape[0]
        take = np.array(new, dtype=np.int64)
        self._keys = np.concatenate([self._keys, keys[take]])
        self._values = np.concatenate([self._values, values[take]])
        for j, i in enumerate(new):
            lo, hi = (int(x) for x in keys[i])
            self._rows[hi << 64 | lo] = start + j

    def __repr__(self) -> str:
        return f"VectorCache({self.kind!r}, path={str(self.path)!r})"
