"""The public learning-to-rank and IR data sets by name: what they are, how to get them, and how to read them.

One readable TOML file per set lives in the top-level ``data/`` folder (the keys are described in
:mod:`ltr.registry._catalog`): official addresses, archive names, checksums where they are published, the file
and fold layout, documented counts, known quirks, the licence in one line and the documented feature names.

>>> from ltr.registry import list_datasets, info, feature_names
>>> "mslr-web10k" in list_datasets()
True
>>> info("MSLR-WEB10K")["format"]["n_features"]
136
>>> feature_names("mq2008")[20]
'BM25 of body'

Typical use::

    path = fetch("mslr-web10k", to="~/ltr-data")        # download (resumable), check, unpack
    print(verify("mslr-web10k", path))                 # layout, counts and checksums, as a report
    train = load("mslr-web10k", root=path, fold=1, split="train")   # RankingDataset with named features

Sets whose terms require an agreement (MSLR, LETOR, Istella) are downloaded from the addresses their owners
publish; using them means accepting those terms (``info(name)["license"]``). Yahoo's set cannot be downloaded
without a Webscope login: put its archive where :func:`fetch` says and call it again.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import numbers
import os
from pathlib import Path

from ltr.registry._catalog import Entry, catalog, get_entry
from ltr.registry._errors import ArchiveError, ChecksumError, DatasetLayoutError, DownloadError, UnknownDatasetError
from ltr.registry._leaks import fold_leak, query_in_two_tests
from ltr.registry._verify import FileCheck, VerifyReport, verify_copy

logger = logging.getLogger(__name__)

__all__ = [
    "ArchiveError",
    "ChecksumError",
    "DatasetLayoutError",
    "DownloadError",
    "Entry",
    "FileCheck",
    "UnknownDatasetError",
    "VerifyReport",
    "empty_last_columns",
    "feature_names",
    "fetch",
    "file_differences",
    "fold_leak",
    "fold_paths",
    "get",
    "info",
    "layout_file",
    "list_datasets",
    "load",
    "rar_unpacker",
    "said_fetch_differences",
    "scans_cut_rows",
    "split_path",
    "query_in_two_tests",
    "verify",
    "warn_on_differences",
    "zero_cut_rows",
]


def rar_unpacker() -> dict:
    """What :func:`fetch` unpacks a RAR archive with (the Python standard library reads none): ``{"tool": "unrar",
    "7z" or "bsdtar" (the first installed, as fetch tries them) or None, "path": its path or None, "sets": the
    registered sets with a RAR archive}``. ``ltr doctor`` shows it: a user learnt of it only after the download
    (trial t56)."""
    import shutil

    from ltr.registry._fetch import RAR_TOOLS

    tool, path = next(((t, p) for t, _ in RAR_TOOLS if (p := shutil.which(t))), (None, None))
    try:
        sets = [n for n in list_datasets() if any(a.get("format") == "rar" for a in get(n).archives)]
    except Exception:  # an unreadable entry of the user's ($LTRKIT_DATA_REGISTRY): ltr doctor reports all the same
        sets = []  # (ltr data list names the entry)
    return {"tool": tool, "path": path, "sets": sets}


def get(name: str | Entry) -> Entry:
    """The registry entry for ``name`` (case ignored, ``_`` and spaces read as ``-``; aliases accepted).

    Raises
    ------
    UnknownDatasetError
        For a name the registry does not know; the message lists the known names.
    """
    return get_entry(name)


def list_datasets(kind: str | None = None) -> list[str]:
    """Registered names, sorted; ``kind="letor"`` or ``"text"`` keeps one kind.

    Examples
    --------
    >>> "cranfield" in list_datasets("text"), "cranfield" in list_datasets("letor")
    (True, False)
    """
    if kind not in (None, "letor", "text"):
        raise ValueError(f"kind must be None, 'letor' or 'text', got {kind!r}")
    return sorted(n for n, e in catalog().items() if kind is None or e.kind == kind)


def info(name: str | Entry) -> dict:
    """Everything the registry says about a set, as a plain dict (a copy), plus ``registry_file``.

    Examples
    --------
    >>> d = info("istella-s")
    >>> d["format"]["overflow"], d["counts"]["rows"]
    ('clip', 3408630)
    """
    return get_entry(name).to_dict()


def feature_names(name: str | Entry) -> tuple[str, ...] | None:
    """The documented feature names, one per column (column ``j`` is feature id ``j + 1``); None when the owners
    publish none (Yahoo, Istella), when the registry has not transcribed them (OHSUMED: its entry says why) or for
    text collections.

    Examples
    --------
    >>> names = feature_names("mslr-web30k")
    >>> len(names), names[0], names[109], names[135]
    (136, 'covered query term number of body', 'BM25 of whole document', 'url dwell time')
    >>> feature_names("yahoo-set1") is None
    True
    """
    return get_entry(name).feature_names


def fetch(name: str | Entry, to: str | os.PathLike, *, progress: bool = True, base_url: str | None = None,
          timeout: float = 30.0, retries: int = 2, keep_archives: bool = False) -> Path:
    """Download, check and unpack a set into ``to/NAME``; return that folder.

    Parameters
    ----------
    name : str or Entry
    to : path
        Parent folder; created if needed (a leading ``~`` is the home folder). Downloads go to
        ``to/.ltrkit-downloads/``.
    progress : bool, default=True
        A tqdm bar per file, shown only when stderr is a terminal.
    base_url : str, optional
        Fetch every archive from ``base_url/FILE`` instead of the registered addresses (a mirror).
    timeout : float, default=30.0
        Seconds to wait for a connection or for data before giving up on an address.
    retries : int, default=2
        How many times an interrupted transfer is resumed (HTTP ``Range``) before the call fails.
    keep_archives : bool, default=False
        Keep downloaded archives after unpacking, whichever call downloaded them, and in later calls too (archives
        the user placed there are always kept): the three OHSUMED versions share one archive, the two Yahoo sets
        another.

    Returns
    -------
    Path
        ``to/NAME``, which exists only once complete (it holds ``.ltrkit-complete.json``); a second call returns it
        at once.

    Raises
    ------
    DownloadError
        No address answered (each is named with its reason: refused, timed out, HTTP status) or the transfer kept
        failing; a partial file stays as ``*.part`` and the next call resumes it. Also for sets that need a manual
        download (the message says where to put the archive).
    ChecksumError
        The file does not match its documented size or checksum, or is not a readable archive (a RAR tool fails
        on it), or (where the registry records no checksum for an archive: ``info(name)["archives"]``, or ``ltr
        data info NAME``, shows it) does not begin as the unpacker reads its format (``Rar!\\x1a\\x07`` for RAR;
        gzip, bzip2, xz or uncompressed for tar, ...); it is renamed to ``*.corrupt`` and never used. The message
        also says when the file is not of its format at all (a web page saved in its place). Also when an unpacked
        file differs from its documented size or checksum: nothing is installed, and the archives stay in
        ``.ltrkit-downloads``.
    ArchiveError
        A RAR archive and no ``unrar``/``7z``/``bsdtar`` on the PATH, or a member that would land outside the folder.
    DatasetLayoutError
        ``to/NAME`` exists but was not made by fetch, or the archive lacks files the registry expects.
    OutputPathError
        ``to`` cannot be created or written (a read-only or full file system, a file in the path): one line naming
        ``to`` as given. A call that fails removes the folders it created that are still empty (``to`` and its
        ``.ltrkit-downloads``), except after a :class:`DownloadError`, whose message names
        ``.ltrkit-downloads/FILE`` as the place to put the archive by hand; a partial ``*.part`` file to resume
        keeps its folder.

    Notes
    -----
    Two calls fetching into one folder at once take turns (a lock on ``.ltrkit-downloads``): the second waits, then
    finds the first's copy (where the platform or file system has no ``flock``, Windows or some network mounts,
    nothing is locked, with a warning on such a mount). For an archive whose checksum the registry does not record,
    a warning (``logging``) says that the file was not checked, and the unpacked files are counted as
    :func:`verify` counts them (rows, queries, label range, records); counts that differ from the registry's are
    logged and recorded in ``.ltrkit-complete.json`` (some documented counts are not from a primary source), where
    files that are missing, or differ from their documented size or checksum, install nothing.
    """
    from ltr.registry._fetch import fetch_entry

    return fetch_entry(get_entry(name), to, progress=progress, base_url=base_url, timeout=timeout, retries=retries,
                       keep_archives=keep_archives)


def verify(name: str | Entry, folder: str | os.PathLike, *, counts: bool = True, checksums: bool = True
           ) -> VerifyReport:
    """Compare a local copy with the registry: which files are there, their counts and checksums.

    Never raises for a copy that differs: the :class:`VerifyReport` lists each expected file as ``ok``,
    ``present`` (nothing documented to compare), ``missing``, ``differs`` or ``unreadable``, plus set-level
    problems and notes (fold totals, which query segments a partial LETOR copy holds). ``str(report)`` is a
    readable table; ``report.ok`` is True only for a complete, matching copy.

    Parameters
    ----------
    name : str or Entry
    folder : path
        The copy: the folder fetch made, its parent, or an unpacked archive (``layout.root`` sub-folders are
        tried). Compressed copies (``FILE.gz``, ``.bz2``, ``.xz``) count, and their checksums are of the
        decompressed bytes.
    counts : bool, default=True
        Read every feature file with :func:`ltr.io.read_letor` (and the set's reader options) to count rows and
        queries and check the label range; text files are counted by line pattern. Slow for the large sets.
    checksums : bool, default=True
        Hash files whose checksum the registry documents.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DatasetLayoutError(f"{folder} is not a folder")
    return verify_copy(get_entry(name), folder, counts=counts, checksums=checksums)


def _letor_entry(name: str | Entry) -> Entry:
    e = get_entry(name)
    if e.kind != "letor":
        raise ValueError(f"{e.name} is a text collection, not feature files: read its folder with "
                         f"features.collections.load_test_collection")
    return e


def _said_differences(e: Entry, base: Path) -> None:
    """Warn, once per copy, when fetch installed it although its counts differ from the registry's (an archive
    without a published checksum: fetch warned then, and recorded the differences in its marker)."""
    marker = _marker(base)
    if marker is not None and (marker.get("differing") or marker.get("problems")):
        _warn_once(e.name, str(base), tuple(marker.get("differing") or ()), tuple(marker.get("problems") or ()))


def _marker(base: Path) -> dict | None:
    from ltr.registry._fetch import MARKER

    try:
        marker = json.loads((Path(base) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def said_fetch_differences(folder: str | os.PathLike) -> None:
    """For a folder :func:`fetch` installed although its files differ from the registry's counts (its marker
    records them), the same warning as :func:`load` gives, once per copy; nothing for any other folder. The text
    layer calls it on a collection folder, which it reads without the registry (a CACM copy with 3,000 of its 3,204
    records, fetched with a warning, was read without another word)."""
    marker = _marker(Path(folder))
    if marker is None or not isinstance(marker.get("name"), str):
        return
    if marker.get("differing") or marker.get("problems"):
        _warn_once(marker["name"], str(folder), tuple(str(p) for p in marker.get("differing") or ()),
                   tuple(str(p) for p in marker.get("problems") or ()))


@functools.lru_cache(maxsize=64)
def _warn_once(name: str, base: str, differing: tuple, problems: tuple) -> None:
    what = "; ".join([f"{p} differs" for p in differing] + [str(p) for p in problems])
    logger.warning("the copy of %s in %s differs from the registry's counts, as fetch said when it installed it "
                   "(%s); `ltr data verify %s %s` shows the differences", name, base, what, name, base)


def split_path(name: str | Entry, root: str | os.PathLike, fold: int = 1, split: str = "train") -> Path:
    """The file of one split of one fold in a local copy (``FILE``, or compressed: ``FILE.gz``, ``.bz2``, ``.xz``).

    Raises
    ------
    DatasetLayoutError
        When the copy lacks that file; the message names the path looked for and suggests fetch/verify.
    """
    e = _letor_entry(name)
    if isinstance(fold, bool) or not isinstance(fold, numbers.Integral):  # (NumPy's integers too, as np.arange's)
        raise TypeError(f"fold must be an int, got {type(fold).__name__}")
    fold = int(fold)
    ef = e.split_file(fold, split)
    base = e.find_root(root)
    _said_differences(e, base)
    path = ef.resolve(base)
    if path is None:
        what = f"{base / ef.path} not found: {root} does not hold {ef.split} of fold {fold} of {e.name}"
        if e.archives and all(a.get("manual") for a in e.archives):  # fetch cannot download it (Yahoo's terms)
            where = e.data.get("homepage", "its homepage")
            raise DatasetLayoutError(
                f"{what}; {e.name} cannot be downloaded by fetch: get it from {where} and unpack it there, or put the "
                f"archive where ltr.registry.fetch({e.name!r}, ...) says; then check the folder with "
                f"ltr.registry.verify({e.name!r}, {str(root)!r})",
                cli=f"{what}; {e.name} cannot be downloaded by fetch: get it from {where} and unpack it there, or put "
                    f"the archive where `ltr data fetch {e.name} --to DIR` says; then check the folder with "
                    f"`ltr data verify {e.name} {root}`")
        raise DatasetLayoutError(f"{what}; get it with ltr.registry.fetch({e.name!r}, ...) or see what the folder "
                                 f"holds with ltr.registry.verify({e.name!r}, {str(root)!r})",
                                 cli=f"{what}; get it with `ltr data fetch {e.name} --to DIR` or see what the folder "
                                     f"holds with `ltr data verify {e.name} {root}`")
    return path


def fold_paths(name: str | Entry, root: str | os.PathLike) -> dict[int, dict[str, Path]]:
    """The official folds of a local copy: ``{fold: {split: path}}`` for every fold whose files are all there.

    This is what a cross-validation over the official folds iterates over (``ltr cv --dataset NAME --root DIR``).
    Folds with a missing file are left out; ``verify`` says which.
    """
    e = _letor_entry(name)
    out: dict[int, dict[str, Path]] = {}
    base = e.find_root(root)
    _said_differences(e, base)
    for k in range(1, e.folds + 1):
        paths = {s: e.split_file(k, s).resolve(base) for s in e.splits}
        if all(p is not None for p in paths.values()):
            out[k] = paths  # type: ignore[assignment]
    return out


def layout_file(name: str | Entry, path: str | os.PathLike):
    """The file of the set's layout that ``path`` is, told by its last components (``.../Fold1/test.txt.gz`` is
    fold 1's test file), or None."""
    found = _layout_match(get_entry(name), path)
    return None if found is None else found[0]


def _layout_match(e: Entry, path: str | os.PathLike):
    """``(expected file, the copy's root)`` for a path that is one of the set's layout files, or None."""
    from ltr.io.files import COMPRESSED_SUFFIXES

    parts = Path(path).parts
    for ef in e.expected_files():
        for rel in ef.candidates:
            want = Path(rel).parts
            if len(parts) >= len(want) and parts[-len(want):-1] == want[:-1] and any(
                    parts[-1] == want[-1] + suffix for suffix in ("", *COMPRESSED_SUFFIXES)):
                return ef, Path(*parts[:-len(want)]) if len(parts) > len(want) else Path(".")
    return None


def file_differences(name: str | Entry, path: str | os.PathLike, *, queries: int | None = None,
                     rows: int | None = None) -> list[str]:
    """How the ``queries`` and ``rows`` read from ``path`` differ from what the registry documents for that file of
    the set, as ``ltr data verify`` compares them (give no ``rows`` when a reader option dropped some). Empty for a
    file that is not one of the set's layout (:func:`layout_file`) or agrees. A copy unpacked by hand, or cut short
    at a line's end, reads without an error: this is what says so."""
    e = get_entry(name)
    ef = layout_file(e, path)
    if ef is None:
        return []
    facts = e.file_facts(ef.path)
    got = {"queries": queries, "rows": rows}
    return [f"{got[key]} {key}, the registry documents {facts[key]}" for key in ("queries", "rows")
            if key in facts and got[key] is not None and got[key] != facts[key]]


def warn_on_differences(name: str | Entry, path: str | os.PathLike, *, queries: int | None = None,
                        rows: int | None = None) -> list[str]:
    """:func:`file_differences`, and a warning (once per file and differences) naming them and ``ltr data verify``
    of the copy that holds the file (``copy/MQ2008`` for ``copy/MQ2008/Fold1/test.txt``) when there are any."""
    differences = file_differences(name, path, queries=queries, rows=rows)
    if differences:
        e = get_entry(name)
        _warn_differences(e.name, str(path), tuple(differences), str(_layout_match(e, path)[1]))
    return differences


@functools.lru_cache(maxsize=64)
def _warn_differences(name: str, path: str, differences: tuple, root: str) -> None:
    logger.warning("%s is not %s's file as the registry documents it (%s): a partial or damaged copy? `ltr data "
                   "verify %s %s` checks the whole copy", path, name, "; ".join(differences), name, root)


def scans_cut_rows(name: str | Entry, options: dict) -> bool:
    """Whether a file of set ``name`` read with the reader ``options`` is read with its absent features as NaN, for
    :func:`zero_cut_rows` to find a row cut short: the set's rows list every feature (MSLR, LETOR 4.0, OHSUMED) and
    the options read an absent one as the default 0, in a dense matrix, with no NaN of the file's own (``missing`` or
    ``null`` given: read as asked; ``nonfinite="allow"``: a NaN may be the file's)."""
    return (bool(get_entry(name).format.get("every_feature")) and options.get("missing", 0.0) == 0.0
            and options.get("null", "error") == "error" and not options.get("sparse")
            and options.get("nonfinite", "error") == "error")


def zero_cut_rows(e: Entry | str, path: str | os.PathLike, d):
    """Warn of the rows of ``d`` (read with absent features as NaN) that lack features, where every row of ``e``
    lists all, and read their absent features as 0, as the set's own reading does (its read options and source rows
    kept): ``ltr.datasets.load`` and ``--dataset`` read a row cut short inside its line as zeros, silently, where
    ``ltr data verify`` says it (trial t67)."""
    import numpy as np
    import scipy.sparse as sp

    from ltr.io.letor import read_options_of, with_source_rows

    e = get_entry(e)
    X = d.X
    read = read_options_of(d)
    read = None if read is None else {k: v for k, v in read.items() if k != "missing"}
    if sp.issparse(X) or not d.n_rows:
        return d
    step = 1 << 16  # rows at a time, as verify scans them
    short = np.concatenate([a + np.flatnonzero(np.isnan(X[a:a + step]).any(axis=1)) for a in range(0, d.n_rows, step)])
    if short.size:
        i = int(short[0])
        match = _layout_match(e, path)  # (a file of the set's layout: its copy's root)
        verify = f"`ltr data verify {e.name} {match[1]}` checks the whole copy" if match else \
            f"`ltr data verify {e.name} DIR` checks a whole copy"
        logger.warning("%s: %d row(s) lack features, where every row of %s lists all %d (the first: row %d, query %s, "
                       "lacks %d), read as 0: a copy cut short inside a line? %s", path, short.size, e.name, X.shape[1],
                       i + 1, d.qid[i], int(np.isnan(X[i]).sum()), verify)
        X = X.copy()
        rows = X[short]
        rows[np.isnan(rows)] = 0
        X[short] = rows
        X.flags.writeable = False  # (as the reader hands its arrays out)
        d = with_source_rows(dataclasses.replace(d, X=X), d)
    if read is not None:
        object.__setattr__(d, "_read_options", read)
    return d


def empty_last_columns(name: str | Entry, data) -> int | None:
    """For a set whose rows hold every feature (not Yahoo's sparse ones), ``1 +`` the last column that has a value
    (not 0, not NaN) in ``data``, dense or sparse, when that is short of the set's width (a 46-feature file read as
    MSLR's 136 gives 46), else None."""
    import numpy as np

    e = get_entry(name)
    width = e.n_features
    if not width or e.format.get("sparse") or not data.n_rows:
        return None
    # a value: neither 0 nor NaN, what an absent feature reads as by default and under missing=nan (both, and a
    # sparse read, passed a 46-feature file as MSLR's 136 unsaid; trial t57)
    if hasattr(data.X, "tocsr"):  # its column indices where a value is held (no copy of the matrix)
        X = data.X if data.X.format == "csr" else data.X.tocsr()
        held = X.indices[(X.data != 0) & ~np.isnan(X.data)]
        last = int(held.max()) + 1 if held.size else 0
    else:
        last = data.n_features  # scanned from the end: one column, mostly
        while last and not np.any((data.X[:, last - 1] != 0) & ~np.isnan(data.X[:, last - 1])):
            last -= 1
    return last if last < width else None


def load(name: str | Entry, root: str | os.PathLike, fold: int = 1, split: str = "train", **read_options):
    """Read one split of one fold of a local copy, with the documented feature names attached.

    The set's reader options are applied (Istella: ``overflow="clip"`` for its 1.79769313486e+308 values;
    the -semi sets: ``unjudged="drop"`` for their -1 labels; Yahoo: ``sparse=True`` and 700 columns); any
    ``read_options`` override them (see :func:`ltr.io.read_letor`).

    Parameters
    ----------
    name : str or Entry
    root : path
        The folder fetch made (``DIR/NAME``) or its parent ``DIR``, or an unpacked copy.
    fold : int, default=1
        1..5 for sets with official folds; 1 for sets with a single split (Istella, Yahoo).
    split : {"train", "vali", "test"}
        ``"valid"`` and ``"validation"`` are accepted for ``"vali"``.

    Returns
    -------
    RankingDataset
        With ``feature_names`` set when the registry documents them (MSLR: 136, LETOR 4.0: 46).
    """
    from ltr.exceptions import LetorFormatError
    from ltr.io import read_letor

    e = _letor_entry(name)
    path = split_path(e, root, fold, split)
    opts = {**e.read_options(own_files=True), **read_options}
    # a set whose rows list every feature: absent ones read as NaN, to find a row cut short inside its line, which
    # verify says and load read as zeros, silently (trial t67), then 0 as the default reading gives them
    every = scans_cut_rows(e, opts)
    try:
        d = read_letor(path, **({**opts, "missing": float("nan")} if every else opts))
    except LetorFormatError as err:  # the reader's fix, a wider n_features, would read another set under its names
        if "n_features" not in (err.fix or {}) or "n_features" in read_options or opts.get("n_features") is None:
            raise
        raise LetorFormatError(f"feature id above {opts['n_features']}", err.path, err.line, err.token,
                               offset=err.offset,
                               hint=f"{e.name} has {opts['n_features']} features: is {path} {e.name}'s file? (a "
                                    "file of another width is read by ltr.io.read_letor)") from None
    if every:
        d = zero_cut_rows(e, path, d)
    last = empty_last_columns(e, d)
    if last is not None and e.n_features - last > e.n_features // 4:
        raise DatasetLayoutError(f"{path} has no value in features {last + 1}..{e.n_features} of {e.name}'s "
                                 f"{e.n_features}: it is not a copy of {e.name}'s file (ltr.io.read_letor reads it "
                                 "as it is)")
    warn_on_differences(e, path, queries=d.n_queries, rows=d.n_rows if opts.get("unjudged") != "drop" else None)
    names = e.feature_names
    if names is not None and d.feature_names is None and len(names) == d.n_features:
        d = dataclasses.replace(d, feature_names=names)
    return d
