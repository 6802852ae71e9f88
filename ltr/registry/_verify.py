"""Check a local copy of a registered set against the registry: layout, counts and checksums, as a report.

Nothing here raises for a copy that differs: every difference becomes a line of the :class:`VerifyReport`.
Counts of feature files come from :func:`ltr.io.read_letor` with the set's reader options; counts of text files
from a line pattern (``records``; NPL's records as :mod:`ltr.io.npl` reads them) or the number of non-empty lines
(``lines``), as the registry states them.
"""

from __future__ import annotations

import functools
import hashlib
import lzma
import os
import re
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ltr.exceptions import LetorFormatError
from ltr.registry._catalog import SPLITS, Entry, ExpectedFile
from ltr.registry._leaks import fold_leak, query_ids

__all__ = ["FileCheck", "VerifyReport", "verify_copy"]

_HASH_CHUNK = 1 << 20


@dataclass
class FileCheck:
    """The verdict on one expected file.

    ``status`` is ``"ok"`` (everything documented about it matches), ``"present"`` (found, nothing documented to
    compare), ``"missing"``, ``"differs"`` (a count, size or checksum differs) or ``"unreadable"``.
    """

    path: str
    status: str
    found: str | None = None
    rows: int | None = None
    queries: int | None = None
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class VerifyReport:
    """What :func:`ltr.registry.verify` found: one :class:`FileCheck` per expected file, plus set-level lines."""

    name: str
    folder: str
    root: str
    files: list[FileCheck]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every expected file is present and nothing documented differs."""
        return not self.problems and all(f.status in ("ok", "present") for f in self.files)

    @property
    def missing(self) -> list[str]:
        return [f.path for f in self.files if f.status == "missing"]

    @property
    def differing(self) -> list[str]:
        return [f.path for f in self.files if f.status in ("differs", "unreadable")]

    @property
    def present(self) -> list[str]:
        return [f.path for f in self.files if f.status != "missing"]

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(ok=self.ok, missing=self.missing, differing=self.differing)
        return d

    def __str__(self) -> str:
        n = len(self.files)
        head = (f"{self.name} in {self.root}: {'OK' if self.ok else 'NOT OK'}; {n - len(self.missing)} of {n} "
                f"files present, {len(self.missing)} missing, {len(self.differing)} differ")
        lines = [head]
        for f in self.files:
            where = f" (as {f.found})" if f.found and f.found != f.path else ""
            what = "; ".join(f.problems or f.checked)
            lines.append(f"  {f.status:<10} {f.path}{where}{': ' + what if what else ''}")
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"  note: {p}" for p in self.notes]
        return "\n".join(lines)


#: What reading a damaged copy raises: a flipped byte in a deflate or xz stream is no OSError (zlib.error,
#: lzma.LZMAError; a traceback, trial t55), where a bad CRC or a cut gzip are.
_UNREADABLE = (OSError, EOFError, zlib.error, lzma.LZMAError)
#: What reading a file's query ids (:func:`query_ids`) raises for an unreadable copy: a cut or damaged compressed
#: stream is said in the LETOR reader's words, a :class:`~ltr.exceptions.LetorFormatError`.
_IDS_UNREADABLE = (*_UNREADABLE, LetorFormatError)


def _open(path: Path):
    """The file's bytes as released: a gzip, bzip2 or xz copy is decompressed (checksums are of the original),
    known by its first bytes, as the readers know it, not by its name (a browser that decodes a ``.gz`` download
    keeps the name; ``gzip -c f > f`` keeps none); every stream of a multi-stream copy, xz's stream padding read past
    and anything else after a stream refused, as the readers read them (trial t61)."""
    from ltr.io.files import open_binary

    return open_binary(path)


def _digest_and_size(path: Path, algorithms: tuple[str, ...]) -> tuple[dict[str, str], int]:
    hashes = {a: hashlib.new(a) for a in algorithms}
    size = 0
    with _open(path) as f:
        while chunk := f.read(_HASH_CHUNK):
            size += len(chunk)
            for h in hashes.values():
                h.update(chunk)
    return {a: h.hexdigest() for a, h in hashes.items()}, size


def _check_bytes(facts: dict, path: Path, fc: FileCheck) -> None:
    algos = tuple(a for a in ("sha256", "md5") if facts.get(a))
    if not algos and facts.get("size") is None:
        return
    try:
        got, size = _digest_and_size(path, algos)
    except _UNREADABLE as e:
        fc.problems.append(f"cannot read: {e}")
        return
    src = facts.get("checksum_source", "")
    if facts.get("size") is not None:
        if size != facts["size"]:
            fc.problems.append(f"{size} bytes, the registry documents {facts['size']}")
        else:
            fc.checked.append(f"{size} bytes")
    for a in algos:
        if got[a] != facts[a]:
            fc.problems.append(f"{a} {got[a]} differs from {facts[a]}" + (f" ({src})" if src else ""))
        else:
            fc.checked.append(f"{a} ok")
    if fc.problems and algos and _crlf_digest(path, algos[0]) == facts[algos[0]]:
        fc.problems.append("the same content with LF line endings: the released file has CRLF (a copy converted "
                           "by git or an editor); its rows are the same")


def _crlf_digest(path: Path, algorithm: str) -> str | None:
    """The digest of the file with every LF preceded by a CR (as a CRLF release converted to LF was), or None when
    it already has CR bytes (then no LF-only conversion explains a difference)."""
    h = hashlib.new(algorithm)
    try:
        with _open(path) as f:
            while chunk := f.read(_HASH_CHUNK):
                if b"\r" in chunk:
                    return None
                h.update(chunk.replace(b"\n", b"\r\n"))
    except _UNREADABLE:
        return None
    return h.hexdigest()


def _check_text_counts(facts: dict, path: Path, fc: FileCheck) -> None:
    if "records" not in facts and "lines" not in facts:
        return
    if any(p.startswith("cannot read: ") for p in fc.problems):  # said once, by the checksum's read
        return
    try:
        with _open(path) as f:
            lines = f.read().decode("latin-1").split("\n")  # CRLF files keep a harmless trailing \r
    except _UNREADABLE as e:
        fc.problems.append(f"cannot read: {e}")
        return
    if "records" in facts:
        want = facts["records"]["count"]
        allowed = want if isinstance(want, list) else [want]
        if "pattern" in facts["records"]:
            pat = re.compile(facts["records"]["pattern"])
            n, entries = sum(1 for line in lines if pat.search(line)), None
            counted = f"records matching '{pat.pattern}'"
        else:  # an NPL file (the catalog allows no other): records as its reader splits them (trial t59)
            records = _npl_records(lines, path, fc)
            if records is None:
                return
            n, counted = len(records), "records (an id, its lines, then '/')"
            entries = sum(len(tokens) for r in records for _, tokens in r.rows)
        fc.rows = n
        if n not in allowed:
            fc.problems.append(f"{n} {counted}, the registry documents {want}")
        else:
            fc.checked.append(f"{n} records")
        want_entries = facts["records"].get("entries")  # query-text in rlv-ass's place: 93 records too
        if want_entries is not None and entries != want_entries:
            fc.problems.append(f"{entries} entries in its records, the registry documents {want_entries}")
        elif want_entries is not None:
            fc.checked.append(f"{entries} entries")
    if "lines" in facts:
        n = sum(1 for line in lines if line.strip())
        if n != facts["lines"]:
            fc.problems.append(f"{n} non-empty lines, the registry documents {facts['lines']}")
        else:
            fc.checked.append(f"{n} lines")


def _npl_records(lines: list[str], path: Path, fc: FileCheck) -> list | None:
    """The records of an NPL file (:func:`ltr.io.npl.npl_records`); None, with the file unreadable and the reader's
    one-line reason, where the file is not in NPL's layout (three files of one word each were "OK")."""
    from ltr.exceptions import FileFormatError
    from ltr.io.npl import npl_records

    try:
        return npl_records("\n".join(lines), str(path), error=FileFormatError, what="record", content="lines")
    except FileFormatError as e:
        fc.status = "unreadable"
        fc.problems.append(str(e).splitlines()[0])
        return None


def _unreadable(entry: Entry, e: BaseException) -> str:
    """Why a file of the set cannot be read, without a reader option as the way out.

    The registry reads a set's files with the options its documentation implies (``entry.read_options()``), and
    ``verify`` takes no reader flags: a file that needs another option (``sort``, a wider ``n_features``, a
    ``.query`` file) is not the file the set documents, so the reader's own fix (``pass sort=True``) is replaced by
    a pointer to the set.
    """
    from ltr.exceptions import FileFormatError

    if not isinstance(e, FileFormatError) or not e.fix:
        return str(e).splitlines()[0]
    n_features = entry.read_options().get("n_features")
    if "n_features" in e.fix and n_features is not None:
        reason = f"feature id above {n_features}"
        hint = f"{entry.name} has {n_features} features: is this folder a copy of {entry.name}?"
    else:
        reason = e.reason
        hint = f"not as {entry.name}'s files are documented ('ltr data info {entry.name}' describes them)"
    return FileFormatError(reason, e.path, e.line, e.token, offset=e.offset, hint=hint).args[0]


def _check_letor_counts(entry: Entry, facts: dict, path: Path, fc: FileCheck) -> None:
    from ltr.io import read_letor

    opts = entry.read_options(own_files=True)
    # a set whose rows list every feature: read absent ones as NaN, to find a row cut short (inside its line: the
    # counts and labels matched, and load read the rest of the row as 0; trial t60)
    every = bool(entry.format.get("every_feature")) and "missing" not in opts and "null" not in opts
    # the -semi sets' unjudged rows (label -1, most of a training file) are scanned too, then set aside as load
    # drops them: a cut unjudged last row was "ok" (review 2 of trial t60)
    unjudged = every and opts.get("unjudged") == "drop"
    try:
        d = read_letor(path, **({**opts, "missing": np.nan, **({"unjudged": "keep"} if unjudged else {})}
                                if every else opts))
    except (ValueError, OSError, EOFError) as e:  # LetorFormatError, GroupError, a bad gzip stream
        fc.status = "unreadable"  # the reader's words name the file: the checksum's read's cause is not said twice
        fc.problems = [p for p in fc.problems if not p.startswith("cannot read: ")] + [_unreadable(entry, e)]
        return
    judged = d.y != -1 if unjudged else None
    n_rows = d.n_rows if judged is None else int(judged.sum())
    n_queries = d.n_queries if judged is None else int(np.count_nonzero(np.add.reduceat(judged, d.group_ptr[:-1])))
    fc.rows, fc.queries = n_rows, n_queries
    from ltr.registry import empty_last_columns

    last, width = empty_last_columns(entry, d), entry.n_features
    narrower = last is not None and width - last > width // 4
    if narrower:  # as load and --dataset refuse it (it was "ok"; trial t55)
        fc.problems.append(f"no value in features {last + 1}..{width} of the set's {width}: not the set's file")
    if every and d.n_rows and not narrower:  # (a narrower file lacks them all: said above)
        step = 1 << 16  # rows at a time: a mask of the whole of MSLR-WEB30K's train file would be 300 MB
        short = np.concatenate([a + np.flatnonzero(np.isnan(d.X[a:a + step]).any(axis=1))
                                for a in range(0, d.n_rows, step)])
        if short.size:
            i = int(short[0])
            fc.problems.append(f"{short.size} row(s) lack features, where every row of {entry.name} lists all "
                               f"{d.X.shape[1]} (the first: row {i + 1}{' (label -1)' if d.y[i] == -1 else ''}, "
                               f"query {d.qid[i]}, lacks "
                               f"{int(np.isnan(d.X[i]).sum())}): a copy cut short inside a line?")
    # Rows dropped by unjudged="drop" (label -1) are not in d, so a documented row count cannot be compared.
    compare_rows = opts.get("unjudged") != "drop"
    for key, got in (("rows", n_rows), ("queries", n_queries)):
        if key not in facts or (key == "rows" and not compare_rows):
            continue
        if got != facts[key]:
            fc.problems.append(f"{got} {key}, the registry documents {facts[key]}")
        else:
            fc.checked.append(f"{got} {key}")
    labels = entry.format.get("labels")
    y = d.y if judged is None else d.y[judged]
    if y.size:
        lo, hi = float(np.min(y)), float(np.max(y))
        if labels and (lo < labels[0] or hi > labels[1]):
            fc.problems.append(f"labels span {lo:g}..{hi:g}, the registry documents {labels[0]}..{labels[1]}")
        else:
            fc.checked.append(f"labels {lo:g}..{hi:g}")


def _check_file(entry: Entry, ef: ExpectedFile, root: Path, counts: bool, checksums: bool) -> FileCheck:
    path = ef.resolve(root)
    if path is None:
        folders = [c for c in ef.candidates if (root / c).is_dir()]
        if folders:
            return FileCheck(ef.path, "missing", problems=[f"{folders[0]} is a folder, not a file"])
        alts = [c for c in ef.candidates if c != ef.path]
        return FileCheck(ef.path, "missing", problems=[f"also looked for {', '.join(alts)}"] if alts else [])
    fc = FileCheck(ef.path, "present", found=path.relative_to(root).as_posix())
    facts = entry.file_facts(ef.path)
    if checksums:
        _check_bytes(facts, path, fc)
    if counts:
        if entry.kind == "letor":
            _check_letor_counts(entry, facts, path, fc)
        else:
            _check_text_counts(facts, path, fc)
    if fc.status != "unreadable":
        fc.status = "differs" if fc.problems else ("ok" if fc.checked else "present")
    return fc


def _set_level(entry: Entry, pairs: list[tuple[ExpectedFile, FileCheck]], report: VerifyReport,
               misplaced: dict[str, str], absent: dict[str, set[str]] | None = None) -> None:
    checks = [c for _, c in pairs]
    by_path = {c.path: c for c in checks}
    # Totals are documented over one complete partition: each fold's splits (every fold of a rotated set holds all
    # of its queries: fold 1 alone was summed, and a copy cut short in fold 3 was "OK"; trial t65), or all files of
    # an unfolded set.
    holds = []
    for k in range(1, (entry.folds if entry.kind == "letor" else 0) + 1):
        got = [by_path.get(entry.split_file(k, s).path) for s in entry.splits]
        if all(c is not None and c.rows is not None for c in got):
            holds.append((f"fold {k}" if entry.folds > 1 else "the files", got))
    for key in ("rows", "queries"):
        want = entry.counts.get(key)
        if want is None or (key == "rows" and entry.read_options().get("unjudged") == "drop"):
            continue
        totals = [(name, sum(getattr(c, key) for c in got)) for name, got in holds]
        for name, total in totals:
            if total != want:
                report.problems.append(f"{name} hold{'s' if entry.folds > 1 else ''} {total} {key} in all, the "
                                       f"registry documents {want} ({entry.counts.get('source', 'no source given')})")
        if totals and all(total == want for _, total in totals):
            names = totals[0][0] if len(totals) == 1 else f"each of {len(totals)} folds"
            report.notes.append(f"{names} hold{'s' if entry.folds > 1 else ''} {want} {key} in all, as documented")
    table = entry.layout.get("fold_segments")
    if table:
        have: set[str] = set()
        unsure: set[str] = set()
        for ef, c in pairs:  # a file that differs from its documented counts may not hold its segments
            if c.status != "missing" and ef.fold is not None and misplaced.get(ef.path) != "foreign":
                segments = [x for x in _segments(table, ef) if x not in (absent or {}).get(ef.path, ())]
                sure = c.status in ("ok", "present") and ef.path not in misplaced
                (have if sure else unsure).update(segments)
        every = sorted({s for row in table.values() for cell in row for s in cell.split("+")})
        lacking = [s for s in every if s not in have and s not in unsure]
        unsure -= have
        report.notes.append(f"query segments present: {', '.join(sorted(have)) or 'none'}; "
                            + (f"perhaps present (their files differ from the registry and may not hold them): "
                               f"{', '.join(sorted(unsure))}; "
                               if unsure else "") + f"missing: {', '.join(lacking) or 'none'}")
    if checks and all(c.status == "missing" for c in checks):
        report.problems.append(f"none of the files of {entry.name} is here; is this the right folder? "
                               f"(expected for example {checks[0].path})")


def verify_copy(entry: Entry, folder: str | os.PathLike, *, counts: bool = True, checksums: bool = True
                ) -> VerifyReport:
    """Compare a folder with what the registry documents for ``entry``; see :func:`ltr.registry.verify`."""
    folder = Path(folder)
    root = entry.find_root(folder)
    pairs = [(ef, _check_file(entry, ef, root, counts, checksums)) for ef in entry.expected_files()]
    report = VerifyReport(entry.name, str(folder), str(root), [c for _, c in pairs])
    rotation = counts and entry.kind == "letor" and entry.layout.get("fold_segments")
    read = functools.cache(query_ids)  # each file's query ids read once, for the checks below
    misplaced, lines = _misplaced_segments(entry, pairs, root, read) if rotation else ({}, [])
    absent = _absent_segments(entry, pairs, root, read, misplaced) if rotation else {}
    _set_level(entry, pairs, report, misplaced, absent)
    report.problems += lines
    if rotation or (counts and entry.kind == "letor" and entry.folds > 1):
        _check_leaks(entry, root, report, read)
    return report


def _segments(table: dict, ef: ExpectedFile) -> list[str]:
    """The query segments ``[layout.fold_segments]`` documents for a split file (``["S1", "S2", "S3"]``)."""
    return table[f"Fold{ef.fold}"][SPLITS.index(ef.split)].split("+")


def _misplaced_segments(entry: Entry, pairs: list[tuple[ExpectedFile, FileCheck]], root: Path, read
                        ) -> tuple[dict[str, str], list[str]]:
    """Files that hold the queries of a segment other than their place's, and a problem line for each such pair.

    The segments of ``[layout.fold_segments]`` split the queries, so two files documented as holding no segment in
    common share no query id. Where two such files do (S1's file copied into S3's place: its segment was counted
    present, trial t59), one of them is not what its place documents: a file whose sha256 or
    documented row count matched keeps its segments and the other, where most of its queries are that file's, is
    ``"foreign"`` (it differs, and its segments are not counted present); a file of mostly other queries (a few
    leaked ones), or a pair where neither matched, is ``"doubtful"`` (perhaps present) and a problem line
    names the pair, unless one of them shares a query with a file of its own fold (a leak: :func:`_check_leaks`'s
    line says so). A file that matched the registry keeps its segments in every case.
    """
    table = entry.layout["fold_segments"]
    files = []
    for ef, c in pairs:
        if c.status in ("missing", "unreadable") or ef.fold is None:
            continue
        try:
            ids = read(ef.resolve(root))
        except _IDS_UNREADABLE:  # the file's own checks say why
            continue
        sure = c.status == "ok" and _matched(c)
        files.append((ef, c, set(_segments(table, ef)), ids, sure))
    misplaced: dict[str, str] = {}
    lines: list[str] = []
    leaking = {x.path for i, (a, _, _, ia, _) in enumerate(files) for b, _, _, ib, _ in files[i + 1:]
               if a.fold == b.fold and any(q in ib for q in ia) for x in (a, b)}  # their leak's line says so
    for i, (a, ca, sa, ia, a_sure) in enumerate(files):
        for b, cb, sb, ib, b_sure in files[i + 1:]:
            if sa & sb:
                continue
            shared = next((q for q in ia if q in ib), None)
            if shared is None:
                continue
            first = f"the first qid:{shared.decode('latin-1')}"
            if a_sure != b_sure:  # the file that matched the registry holds its segments, and the other its queries
                (wrong, cw, iw), (right, ir) = ((b, cb, ib), (a, ia)) if a_sure else ((a, ca, ia), (b, ib))
                if 2 * sum(q in ir for q in iw) <= len(iw):  # mostly queries of its own: a few leaked ones do not
                    misplaced.setdefault(wrong.path, "doubtful")  # make it another segment (review 2 of t59)
                    if wrong.path not in leaking:  # (a leak's line says it)
                        lines.append(f"{wrong.path} ({'+'.join(_segments(table, wrong))}) holds queries of "
                                     f"{right.path} ({'+'.join(_segments(table, right))}, which matches the "
                                     f"registry), {first}: {entry.name}'s segments hold different queries")
                    continue
                misplaced[wrong.path] = "foreign"
                cw.status = "differs"
                if not any(p.startswith("holds queries of ") for p in cw.problems):  # (the first such file said)
                    cw.problems.append(f"holds queries of {right.path} ({'+'.join(_segments(table, right))}, "
                                       f"which matches the registry), {first}: not {'+'.join(_segments(table, wrong))}")
                continue
            for ef in (a, b):
                misplaced.setdefault(ef.path, "doubtful")
            if a.path in leaking or b.path in leaking:
                continue
            lines.append(f"{a.path} ({'+'.join(_segments(table, a))}) and {b.path} ({'+'.join(_segments(table, b))}) "
                         f"share query ids, {first}; {entry.name}'s segments hold different queries, so one of the "
                         "two does not hold the segments its place documents")
    if len(lines) > 3:
        lines = lines[:3] + [f"{len(lines) - 3} more pair(s) of files share query ids across segments"]
    return misplaced, lines


def _matched(c: FileCheck) -> bool:
    """Whether a file matched what the registry documents of it: its sha256, or its row count."""
    return any(x == "sha256 ok" or x.endswith(" rows") for x in c.checked)


def _absent_segments(entry: Entry, pairs: list[tuple[ExpectedFile, FileCheck]], root: Path, read,
                     misplaced: dict[str, str]) -> dict[str, set[str]]:
    """The documented segments a file of several (a train file, S3+S4+S5) does not hold, by its path, judged by the
    files of one segment that match the registry (their sha256 or row count): a segment whose file shares no query
    with it is absent, and so is a segment no such file gives when every one of its queries is one of theirs. Such
    a file differs, naming what it holds (S5's file copied into Fold3's train place was 'ok' on its labels, and S3
    was counted present, though no file held it: trial t60); the others are left as they were."""
    table = entry.layout["fold_segments"]
    known: dict[str, tuple[str, set]] = {}  # segment -> (the path of a file of it alone, its query ids)
    for ef, c in pairs:
        segments = _segments(table, ef) if ef.fold is not None else []
        if len(segments) == 1 and c.status == "ok" and ef.path not in misplaced and _matched(c):
            try:
                known.setdefault(segments[0], (ef.path, set(read(ef.resolve(root)))))
            except _IDS_UNREADABLE:
                continue
    absent: dict[str, set[str]] = {}
    for ef, c in pairs:
        segments = _segments(table, ef) if ef.fold is not None else []
        if len(segments) < 2 or c.status not in ("ok", "present") or ef.path in misplaced or _matched(c):
            continue  # (a file that matched the registry holds its segments)
        try:
            ids = set(read(ef.resolve(root)))
        except _IDS_UNREADABLE:
            continue
        if not ids:
            continue
        lacking = {x for x in segments if x in known and not ids & known[x][1]}
        theirs = set().union(*(known[x][1] for x in segments if x in known))
        if ids <= theirs:  # nothing left for the segments no file of their own gives
            lacking |= {x for x in segments if x not in known}
        if not lacking:
            continue
        absent[ef.path] = lacking
        held = [f"{x}'s ({known[x][0]})" for x in segments if x not in lacking and x in known]
        why = (f"its {len(ids)} queries are all {' and '.join(held)}" if held and ids <= theirs else
               "; ".join(f"none of its {len(ids)} queries is {x}'s ({known[x][0]})" for x in sorted(lacking)
                         if x in known))
        c.status = "differs"
        c.problems.append(f"holds no query of {', '.join(sorted(lacking))}: {why}, where its place documents "
                          f"{'+'.join(segments)}")
    return absent


def _check_leaks(entry: Entry, root: Path, report: VerifyReport, read) -> None:
    """A problem line for each fold whose train, vali and test files share a query id (:func:`fold_leak`): for sets
    of several folds (cross-validation folds split the queries, so a shared id is a leak: LETOR 3.0's OHSUMED was
    not checked, and a test file that was its vali file passed as "OK", trial t65) and sets whose one split the
    registry documents as a rotation of query segments (``[layout.fold_segments]``), where query ids are those of
    the segments."""
    for k in range(1, entry.folds + 1):
        files = {s: entry.split_file(k, s).resolve(root) for s in entry.splits}
        if sum(p is not None for p in files.values()) < 2:
            continue
        try:
            leak = fold_leak(f"Fold{k}" if entry.folds > 1 else "the one official split", files, root, read=read)
        except _IDS_UNREADABLE:  # an unreadable file is already reported as such
            continue
        if leak:
            report.problems.append(leak)
