"""The registry files and what one entry says: names, archives, layout, expected files, read options.

Each data set is one TOML file in the top-level ``data/`` folder (installed as the package ``ltr._registry_data``).
The keys an entry may use:

============================  ==================================================================================
key                           meaning
============================  ==================================================================================
``name``, ``aliases``         the registry name (lower case, hyphens) and other accepted spellings
``kind``                      ``"letor"`` (feature files, :func:`ltr.registry.load` reads them) or ``"text"``
``title`` ... ``sources``     description, home page, licence in one line, citation, what the entry was built from
``quirks``                    known traps of the set, one sentence each
``[[archives]]``              ``file``, ``format`` (zip, tar.gz, tar.bz2, rar, gz, file), ``urls``, and where known
                              ``size``, ``sha256``/``md5`` and ``checksum_source``; ``manual = true`` when the
                              files cannot be downloaded without a login
``[layout]``                  ``root``: sub-folders the data may sit in; for ``letor``: ``folds``, ``fold_dir``
                              (``"Fold{fold}"`` or ``""``) and one list of accepted file names per split
                              (``train``, ``vali``, ``test``; an empty list when the set has no such split)
``[[files]]``                 per-file facts: ``path``, ``size``, ``sha256``, ``records`` (a line pattern and its
                              count; for an ``npl`` file the count alone, of records as :mod:`ltr.io.npl` reads
                              them, and ``entries``, the words of their content: rlv-ass's judgments), ``lines``;
                              text collections list every file here
``[format]``                  ``n_features``, ``labels`` ([low, high], high ``inf`` if none), ``qid`` (``column``
                              or ``sidecar``), ``sparse``, ``overflow``, ``unjudged``, ``encoding``: how
                              :func:`~ltr.io.read_letor` must read the files; ``every_feature``: every row of the
                              release lists all ``n_features`` (LETOR 3.0 and 4.0, MSLR), so a row that lacks one is
                              a damaged copy
``[counts]``                  documented totals (``queries``, ``rows``) and per-file counts in ``[counts.files]``
``[segments]``                rows/queries of query segments, used with ``[layout.fold_segments]``
``[features]``                ``names`` (one per column, empty when none are published) and their ``source``
``[cli]``                     command-line option defaults with ``--dataset NAME`` (``objective``, ``kernel``,
                              ``gain``, ``metrics``, ...; options given win) and the ``reason`` the note gives
============================  ==================================================================================

A file name listed for a split is also found compressed (``NAME.gz``, as the copies in ``shared/data`` are, or
``NAME.bz2``, ``NAME.xz``).
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ltr.registry._errors import DatasetLayoutError, UnknownDatasetError

__all__ = ["SPLITS", "Entry", "ExpectedFile", "catalog", "get_entry", "normalize_split"]

SPLITS = ("train", "vali", "test")
_SPLIT_ALIASES = {"train": "train", "training": "train", "vali": "vali", "valid": "vali", "validation": "vali",
                  "test": "test", "testing": "test"}
_KINDS = ("letor", "text")
#: A SMART trio's files (ADI.ALL, ADI.QRY, ADI.REL; and ADI.BLN): the collection loader reads them in any case
_SMART_FILE = re.compile(r"(.+)\.(all|qry|rel|bln)", re.I)


def _trio_stem(path: str) -> str | None:
    m = _SMART_FILE.fullmatch(path)
    return m.group(1).lower() if m else None


def _smart_trios(paths: list[str]) -> set[str]:
    """The stems (lower case) of which ``paths`` hold NAME.ALL, NAME.QRY and NAME.REL."""
    exts: dict[str, set[str]] = {}
    for p in paths:
        m = _SMART_FILE.fullmatch(p)
        if m:
            exts.setdefault(m.group(1).lower(), set()).add(m.group(2).lower())
    return {stem for stem, e in exts.items() if {"all", "qry", "rel"} <= e}
_ARCHIVE_FORMATS = ("zip", "tar.gz", "tar.bz2", "tar", "rar", "gz", "file")
_REGISTRY_ENV = "LTRKIT_DATA_REGISTRY"


def _toml_loads(text: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: setup.cfg pulls tomli there
        import tomli as tomllib
    return tomllib.loads(text)


def _key(name: str) -> str:
    return re.sub(r"[\s_]+", "-", str(name).strip().lower())


def normalize_split(split: str) -> str:
    """``"train"``, ``"vali"`` or ``"test"`` for any accepted spelling (``valid``, ``validation``, ...)."""
    s = _SPLIT_ALIASES.get(str(split).strip().lower())
    if s is None:
        raise ValueError(f"split must be one of train, vali (valid, validation) or test, got {split!r}")
    return s


@dataclass(frozen=True)
class ExpectedFile:
    """One file an entry expects: its canonical relative path, the accepted spellings, and where it belongs."""

    path: str
    candidates: tuple[str, ...]
    fold: int | None = None
    split: str | None = None
    role: str | None = None
    any_case: bool = False  #: also in another letter case (a SMART trio's files, which the loader reads so)

    def resolve(self, root: Path) -> Path | None:
        """The first accepted spelling present under ``root`` (also compressed: ``NAME.gz``, ``.bz2``, ``.xz``), or
        None."""
        from ltr.io.files import COMPRESSED_SUFFIXES  # here: importing ltr.io loads Numba, the catalog does not

        for rel in self.candidates:
            for suffix in ("", *COMPRESSED_SUFFIXES):
                p = root / (rel + suffix)
                if p.is_file():
                    return p
        if self.any_case:
            for rel in self.candidates:
                folder = (root / rel).parent
                wanted = {(Path(rel).name + suffix).lower() for suffix in ("", *COMPRESSED_SUFFIXES)}
                try:
                    found = sorted(p for p in folder.iterdir() if p.name.lower() in wanted and p.is_file())
                except OSError:  # no such folder (or not one)
                    continue
                if found:
                    return found[0]
        return None


@dataclass(frozen=True)
class Entry:
    """One registry entry: the parsed TOML (``data``, treat it as read-only) and where it came from."""

    name: str
    data: dict = field(repr=False)
    origin: str = ""

    # -- construction -------------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict, origin: str = "<dict>") -> Entry:
        """Check an entry's structure and wrap it (a deep copy of ``data`` is kept)."""
        data = copy.deepcopy(dict(data))
        _check(data, origin)
        name = _key(data["name"])
        if "aliases" in data:  # the name itself is no alias of it (``info`` would list it as one)
            data["aliases"] = [a for a in data["aliases"] if _key(a) != name]
        for table in (*data.get("archives", []), *data.get("files", [])):
            for key in _DIGEST_LENGTHS:  # compared with hashlib's hexdigest, which is lower-case
                if key in table:
                    table[key] = table[key].lower()
        return cls(name=name, data=data, origin=origin)

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> Entry:
        """Read one registry file."""
        path = Path(path)
        try:
            data = _toml_loads(path.read_text(encoding="utf-8"))
        except ValueError as e:  # tomllib.TOMLDecodeError is a ValueError
            raise DatasetLayoutError(f"{path}: not a valid registry file: {e}") from None
        return cls.from_dict(data, str(path))

    # -- plain fields -------------------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.data["kind"]

    @property
    def archives(self) -> list[dict]:
        return self.data.get("archives", [])

    @property
    def layout(self) -> dict:
        return self.data.get("layout", {})

    @property
    def format(self) -> dict:
        return self.data.get("format", {})

    @property
    def counts(self) -> dict:
        return self.data.get("counts", {})

    @property
    def roots(self) -> list[str]:
        return list(self.layout.get("root", [""])) or [""]

    @property
    def n_features(self) -> int | None:
        return self.format.get("n_features")

    @property
    def feature_names(self) -> tuple[str, ...] | None:
        names = self.data.get("features", {}).get("names") or []
        return tuple(names) if names else None

    @property
    def folds(self) -> int:
        return int(self.layout.get("folds", 1)) if self.kind == "letor" else 0

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits this set has (Istella's full version has no ``vali``)."""
        return tuple(s for s in SPLITS if self.layout.get(s))

    # -- files --------------------------------------------------------------------------------------------------
    def split_file(self, fold: int, split: str) -> ExpectedFile:
        """The expected file of one split of one fold."""
        split = normalize_split(split)
        names = self.layout.get(split) or []
        if not names:
            raise ValueError(f"{self.name} has no {split!r} split (it has {', '.join(self.splits)})")
        if self.folds > 1 or fold != 1:
            if not 1 <= int(fold) <= max(self.folds, 1):
                raise ValueError(f"fold must be in 1..{self.folds} for {self.name}, got {fold!r}")
        prefix = self.layout.get("fold_dir", "").format(fold=fold)
        cands = tuple(f"{prefix}/{n}" if prefix else n for n in names)
        return ExpectedFile(cands[0], cands, fold=int(fold), split=split, role=split)

    def expected_files(self) -> list[ExpectedFile]:
        """Every file a complete copy holds, in a stable order (folds, then train/vali/test; or the file list)."""
        if self.kind == "text":
            paths = [f["path"] for f in self.data.get("files", [])]
            trios = _smart_trios(paths)
            return [ExpectedFile(f["path"], (f["path"],), role=f.get("role"), any_case=_trio_stem(f["path"]) in trios)
                    for f in self.data.get("files", [])]
        return [self.split_file(k, s) for k in range(1, self.folds + 1) for s in self.splits]

    def file_facts(self, path: str) -> dict:
        """What the registry documents about one file: ``[[files]]`` plus ``[counts.files]`` plus its segment."""
        facts: dict[str, Any] = {}
        for f in self.data.get("files", []):
            if f.get("path") == path:
                facts.update(f)
        facts.update(self.counts.get("files", {}).get(path, {}))
        seg = self.segment_of(path)
        if seg is not None:
            documented = self.data.get("segments", {})
            parts = [documented.get(s, {}) for s in seg.split("+")]
            for k, v in parts[0].items() if len(parts) == 1 else ():
                facts.setdefault(k, v)
            for key in ("rows", "queries") if len(parts) > 1 else ():  # a training file of three segments holds
                size = self._segments_size(seg.split("+"), key)  # their sum (it was 'ok' with one of them, and
                if size is not None:  # its segments 'present'; trial t58)
                    facts.setdefault(key, size)
            facts["segment"] = seg
        return facts

    def _segments_size(self, segments: list[str], key: str) -> int | None:
        """The ``key`` ("rows", "queries") of ``segments`` together: the documented sizes' sum, where the segments
        not documented one by one are all of those of the set, whose total (``[counts]``, one whole partition)
        less the documented ones is theirs together; None when that cannot be told."""
        documented = self.data.get("segments", {})
        every = sorted({s for row in self.layout.get("fold_segments", {}).values() for c in row for s in c.split("+")})
        sizes = {s: documented.get(s, {}).get(key) for s in every}
        known = [s for s in segments if isinstance(sizes.get(s), int)]
        unknown = [s for s in every if not isinstance(sizes[s], int)]
        total = sum(sizes[s] for s in known)
        if len(known) == len(segments):
            return total
        if sorted(set(segments) - set(known)) != unknown or not isinstance(self.counts.get(key), int):
            return None
        if key == "rows" and self.read_options().get("unjudged") == "drop":
            return None  # (the documented rows count the unjudged ones)
        return total + self.counts[key] - sum(sizes[s] for s in every if s not in unknown)

    def segment_of(self, path: str) -> str | None:
        """The segment (``"S4"``) a split file holds, from ``[layout.fold_segments]``; None when unknown."""
        table = self.layout.get("fold_segments", {})
        for ef in self.expected_files() if table else ():
            if ef.path == path and ef.fold is not None:
                row = table.get(f"Fold{ef.fold}")
                if row:
                    return row[SPLITS.index(ef.split)]
        return None

    def read_options(self, own_files: bool = False) -> dict:
        """Keyword arguments for :func:`ltr.io.read_letor` that this set needs. ``own_files``: for the set's files
        as the registry finds them (:func:`ltr.registry.load`, verify, ``ltr cv --dataset NAME --root DIR``), where a
        set whose query ids are a column of its files (``qid = "column"``) reads no sidecar (``.query``,
        ``.weight``) left beside them, which is not the set's: verify called the released file unreadable for a
        stray ``.query``, and ``load`` trained with a stray ``.weight``'s weights (trial t61). A file of one's own
        read with the set's options (``ltr train FILE --dataset NAME``) keeps its sidecars; naming one
        (``query_file=``, ``weight_file=``) reads it in either case."""
        fmt = self.format
        opts: dict[str, Any] = {}
        if fmt.get("n_features") is not None:
            opts["n_features"] = int(fmt["n_features"])
        for k in ("overflow", "unjudged", "encoding", "nonfinite", "null"):
            if k in fmt:
                opts[k] = fmt[k]
        if fmt.get("sparse"):
            opts["sparse"] = True
        if fmt.get("qid") == "sidecar":
            opts["query_file"] = "auto"
        elif fmt.get("qid") == "column" and own_files:
            opts["query_file"] = opts["weight_file"] = None
        return opts

    # -- finding a copy on disk ---------------------------------------------------------------------------------
    def find_root(self, folder: str | os.PathLike) -> Path:
        """The folder that holds this set's files: ``folder`` itself, ``folder/NAME``, or one of ``layout.root``.

        Falls back to ``folder`` when no expected file is found anywhere (so that a report can say so). A leading
        ``~`` is the home folder, as a shell would read it (``--to=~/ltr-data`` and a quoted path reach here as is).
        """
        folder = Path(folder).expanduser()
        expected = self.expected_files()
        for base in (folder, folder / self.name):
            for sub in self.roots:
                cand = base / sub if sub else base
                if cand.is_dir() and any(ef.resolve(cand) is not None for ef in expected):
                    return cand
        return folder

    def to_dict(self) -> dict:
        out = copy.deepcopy(self.data)
        out["registry_file"] = self.origin
        return out


def _check(d: dict, origin: str) -> None:
    """Refuse an entry the rest of the package could not use, naming the file and the key."""

    def bad(msg: str) -> DatasetLayoutError:
        return DatasetLayoutError(f"{origin}: {msg}")

    for key in ("name", "kind"):
        if not isinstance(d.get(key), str) or not d[key]:
            raise bad(f"missing or empty {key!r}")
    if d["kind"] not in _KINDS:
        raise bad(f"kind must be one of {_KINDS}, got {d['kind']!r}")
    aliases = d.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise bad(f"aliases must be a list of names, got {aliases!r}")
    for a in d.get("archives", []):
        if not isinstance(a, dict) or not isinstance(a.get("file"), str) or a.get("format") not in _ARCHIVE_FORMATS:
            raise bad(f"each [[archives]] needs 'file' and 'format' in {_ARCHIVE_FORMATS}, got {a!r}")
        where = f"archive {a['file']!r}"
        _check_strings(bad, a, "urls", where)
        _check_size_and_digests(bad, a, where)
        if not a.get("manual") and not a.get("urls"):
            raise bad(f"archive {a['file']!r} has no 'urls' and is not marked manual = true")
    lay = d.get("layout", {})
    for key in ("root", *SPLITS):
        _check_strings(bad, lay, key, "[layout]")
    if "folds" in lay and (not _is_int(lay["folds"]) or lay["folds"] < 1):
        raise bad(f"[layout] folds must be a positive integer, got {lay['folds']!r}")
    if "fold_dir" in lay:  # its one placeholder is {fold}: 'F{k}' failed later as a bare KeyError 'k' (trial t57)
        try:
            if not isinstance(lay["fold_dir"], str):
                raise TypeError
            lay["fold_dir"].format(fold=1)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            raise bad(f"[layout] fold_dir must be a folder name whose one placeholder is {{fold}} (Fold{{fold}}), got "
                      f"{lay['fold_dir']!r}") from None
    _check_counts(bad, d)
    if d["kind"] == "letor":
        if not any(lay.get(s) for s in SPLITS):
            raise bad("[layout] lists no file names for train, vali or test")
        n = d.get("format", {}).get("n_features")
        if not _is_int(n) or n < 1:  # (true read as 1 column)
            raise bad(f"[format] n_features must be a positive integer, got {n!r}")
        _check_format(bad, d.get("format", {}))
        names = d.get("features", {}).get("names") or []
        if names and len(names) != n:
            raise bad(f"[features] has {len(names)} names for n_features = {n}")
        if len(set(names)) != len(names):
            raise bad("[features] names are not unique")
    else:
        if not d.get("files"):
            raise bad("a text collection lists its files in [[files]]")
    for f in d.get("files", []):
        if not isinstance(f, dict) or not isinstance(f.get("path"), str):
            raise bad(f"each [[files]] needs a 'path', got {f!r}")
        _check_size_and_digests(bad, f, f"file {f['path']!r}")
        if "records" in f and not (f.get("format") in _RECORD_READERS and set(f["records"]) in ({"count"},
                                                                                                 {"count", "entries"})):
            try:
                re.compile(f["records"]["pattern"])
            except (KeyError, TypeError, re.error) as e:
                raise bad(f"file {f['path']!r}: records needs a valid regular expression 'pattern' ({e})") from None


#: The counts an entry may document, each a non-negative integer: of the set ([counts]), of a file ([counts.files]),
#: of a query segment ([segments]).
_COUNT_KEYS = ("rows", "queries", "documents", "qrels")
_SEGMENT = re.compile(r"S\d+(\+S\d+)*")


def _check_counts(bad, d: dict) -> None:
    """The documented counts, labels and segments, which verify compares files with: ``labels = [0]`` failed as
    "list index out of range", ``rows = "a"`` was said as "the registry documents a" (trial t61)."""

    def counts(table, where: str, extra: tuple[str, ...] = ()) -> None:
        if not isinstance(table, dict):
            raise bad(f"{where} must be a table of counts ({', '.join(_COUNT_KEYS)}), got {table!r}")
        for key, v in table.items():
            if key in extra:
                continue
            if key not in _COUNT_KEYS:
                raise bad(f"{where} has unknown key {key!r}; known keys: {', '.join(_COUNT_KEYS + extra)}")
            if not _is_int(v) or v < 0:
                raise bad(f"{where} {key} must be a non-negative integer, got {v!r}")

    top = d.get("counts", {})
    counts(top, "[counts]", ("source", "files_source", "files"))
    for key in ("source", "files_source"):
        if key in top and not isinstance(top[key], str):
            raise bad(f"[counts] {key} must be text, got {top[key]!r}")
    files = top.get("files", {})
    if not isinstance(files, dict):
        raise bad(f"[counts.files] must be a table of file paths, got {files!r}")
    for path, table in files.items():
        counts(table, f"[counts.files] {path!r}")
    segments = d.get("segments", {})
    if not isinstance(segments, dict):
        raise bad(f"[segments] must be a table of segments (S1 = {{ rows = .., queries = .. }}), got {segments!r}")
    for name, table in segments.items():
        if not _SEGMENT.fullmatch(name) or "+" in name:
            raise bad(f"[segments] names a segment {name!r}; segments are named S1, S2, ...")
        counts(table, f"[segments] {name}")
    rotation = d.get("layout", {}).get("fold_segments", {})
    if not isinstance(rotation, dict):
        raise bad(f"[layout.fold_segments] must be a table of folds, got {rotation!r}")
    for fold, row in rotation.items():
        if not (isinstance(row, list) and len(row) == len(SPLITS) and all(isinstance(c, str) and _SEGMENT.fullmatch(c)
                                                                          for c in row)):
            raise bad(f"[layout.fold_segments] {fold} must list the segments of its {', '.join(SPLITS)} files "
                      f"(three entries such as \"S1+S2+S3\"), got {row!r}")
    labels = d.get("format", {}).get("labels")
    if labels is not None and not (isinstance(labels, list) and len(labels) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in labels) and labels[0] <= labels[1]):
        raise bad(f"[format] labels must be the lowest and highest label, [low, high], got {labels!r}")


#: File formats whose records ``verify`` counts with the format's own reader where ``records`` gives a count and no
#: pattern: NPL's records end with a line '/', or at the end of the file (:mod:`ltr.io.npl`), which no one line
#: pattern counts.
_RECORD_READERS = ("npl",)

#: The [format] keys an entry may have: the reader's options it sets (:meth:`Entry.read_options`) and its notes.
_FORMAT_KEYS = ("n_features", "labels", "label_meaning", "qid", "overflow", "unjudged", "encoding", "nonfinite", "null",
                "sparse", "every_feature")


def _check_format(bad, fmt: dict) -> None:
    """A [format] table's keys and values, as the reader would refuse them later in words that named the option as
    if given on the command line, not the entry (trial t57); a key the reader does not read is refused, not ignored."""
    import codecs

    from ltr.reader_options import READER_OPTIONS

    unknown = sorted(set(fmt) - set(_FORMAT_KEYS))
    if unknown:
        raise bad(f"[format] has unknown key(s) {unknown}; known keys: {', '.join(_FORMAT_KEYS)}")
    for key in ("overflow", "unjudged", "nonfinite", "null"):
        choices = READER_OPTIONS[key].choices
        if key in fmt and fmt[key] not in choices:
            raise bad(f"[format] {key} must be one of {list(choices)}, got {fmt[key]!r}")
    for key in ("sparse", "every_feature"):
        if key in fmt and not isinstance(fmt[key], bool):  # "no" read as true
            raise bad(f"[format] {key} must be true or false, got {fmt[key]!r}")
    if "qid" in fmt and fmt["qid"] not in ("column", "sidecar"):
        raise bad(f"[format] qid must be 'column' or 'sidecar', got {fmt['qid']!r}")
    if "encoding" in fmt:
        try:
            codecs.lookup(fmt["encoding"])
        except (LookupError, TypeError):
            raise bad(f"[format] encoding: unknown encoding {fmt['encoding']!r}") from None


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_strings(bad, table: dict, key: str, where: str) -> None:
    """``table[key]``, where present, must be a list of strings: a lone string (``urls = "https://..."``, the most
    natural slip) would be used letter by letter."""
    v = table.get(key)
    if key in table and (not isinstance(v, list) or not all(isinstance(x, str) for x in v)):
        one = f" (one value is still a list: {key} = [{json.dumps(v)}])" if isinstance(v, str) else ""
        raise bad(f"{where}: {key} must be a list of strings, got {v!r}{one}")


_DIGEST_LENGTHS = {"md5": 32, "sha256": 64}


def _check_size_and_digests(bad, table: dict, where: str) -> None:
    """A byte ``size`` must be a non-negative integer and a digest the hex digits of its length (any case, as
    PowerShell and certutil print them upper-case; compared in lower case)."""
    if "size" in table and (not _is_int(table["size"]) or table["size"] < 0):
        raise bad(f"{where}: size must be a number of bytes (an integer, not quoted), got {table['size']!r}")
    for key, n in _DIGEST_LENGTHS.items():
        v = table.get(key)
        if key in table and not (isinstance(v, str) and re.fullmatch(f"[0-9A-Fa-f]{{{n}}}", v)):
            raise bad(f"{where}: {key} must be {n} hexadecimal digits, got {v!r}")


def _builtin_files() -> Iterator[tuple[str, str]]:
    """(origin, text) of every shipped registry file: the installed package, else the source tree's ``data/``."""
    items: list = []
    try:
        from importlib.resources import files

        items = [p for p in files("ltr._registry_data").iterdir() if p.name.endswith(".toml")]
    except ModuleNotFoundError:  # a source checkout installed before setup.cfg mapped data/ (or not installed)
        pass
    if not items:
        folder = Path(__file__).resolve().parents[2] / "data"
        items = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not items:
        raise DatasetLayoutError("the data-set registry files are missing from this installation (expected the "
                                 "package ltr._registry_data or a data/ folder next to ltr/); reinstall ltrkit")
    for p in sorted(items, key=lambda p: p.name):
        yield str(p), p.read_text(encoding="utf-8")


@functools.cache
def _builtin() -> tuple[Entry, ...]:
    out = []
    for origin, text in _builtin_files():
        try:
            data = _toml_loads(text)
        except ValueError as e:
            raise DatasetLayoutError(f"{origin}: not a valid registry file: {e}") from None
        out.append(Entry.from_dict(data, origin))
    return tuple(out)


def catalog() -> dict[str, Entry]:
    """Every known entry by name: the shipped ones plus ``*.toml`` in the folders of ``$LTRKIT_DATA_REGISTRY``."""
    entries = {e.name: e for e in _builtin()}
    users: dict[str, str] = {}  # a user's entry replaces a shipped one of its name; two of one name are refused
    read: set[Path] = set()
    for folder in filter(None, os.environ.get(_REGISTRY_ENV, "").split(os.pathsep)):
        if not Path(folder).is_dir():  # a misspelt folder would leave its entries out silently
            raise DatasetLayoutError(f"${_REGISTRY_ENV} names {folder}, which is not a folder (of registry *.toml "
                                     "files)")
        for p in sorted(Path(folder).glob("*.toml")):
            if p.resolve() in read:  # the same folder named twice (a shell rc file appending it again)
                continue
            read.add(p.resolve())
            e = Entry.from_toml(p)
            if e.name in users:  # one replaced the other by the order of their names and folders (trial t57)
                raise DatasetLayoutError(f"{e.origin}: data set {e.name!r} is also {users[e.name]}'s; give each "
                                         "registry file its own name (or remove one)")
            users[e.name] = e.origin
            entries[e.name] = e
    owner: dict[str, Entry] = {}
    for e in entries.values():  # an alias that is another set's name, or another's alias, would be shadowed unsaid
        for a in e.data.get("aliases", []):
            other = entries.get(_key(a)) or owner.get(_key(a))
            if other is not None and other is not e:
                raise DatasetLayoutError(f"{e.origin}: alias {a!r} of {e.name!r} is already "
                                         f"{'the name' if other.name == _key(a) else 'an alias'} of {other.name!r} "
                                         f"({other.origin}); choose another alias")
            owner[_key(a)] = e
    return entries


def get_entry(name: str | Entry) -> Entry:
    """Look a name up (case ignored, ``_`` and spaces read as ``-``; aliases accepted); an :class:`Entry` passes
    through."""
    if isinstance(name, Entry):
        return name
    if not isinstance(name, str):
        raise TypeError(f"name must be a data-set name (str) or an Entry, got {type(name).__name__}")
    entries = catalog()
    key = _key(name)
    if key in entries:
        return entries[key]
    for e in entries.values():
        if key in {_key(a) for a in e.data.get("aliases", [])}:
            return e
    close = ([k for k in sorted(entries) if key and k.startswith(key)]
             or difflib.get_close_matches(key, list(entries), n=1))
    hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""  # 'yahoo': either set
    raise UnknownDatasetError(f"unknown data set {name!r}{hint}; known: {', '.join(sorted(entries))}")
