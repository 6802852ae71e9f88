"""Query-id maps: LETOR files need integer ``qid:`` values, collections have ids such as ``PLAIN-1312``.

``ltr features`` numbers such queries 1..n in the LETOR file and writes the map beside it as ``DATA.qids.tsv``
(``letor_qid<TAB>original_id`` per line). Everything that turns scores of that file back into a TREC run (``ltr
predict --run``, ``ltr cv --run-out``) reads the map, so that the run's query ids are the collection's and match
its qrels.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from ltr.exceptions import FileFormatError
from ltr.io.files import checked_path

__all__ = ["apply_qid_map", "find_qid_map", "locate_qid_map", "padded_examples", "padded_ids", "qid_map_path",
           "read_qid_map", "write_qid_map"]

_LETOR_QID = re.compile(r"-?[0-9]+")


def qid_map_path(data_path: str | os.PathLike) -> Path:
    """Where the map of a LETOR file lives: ``DATA.qids.tsv``."""
    p = Path(data_path)
    return p.with_name(p.name + ".qids.tsv")


def write_qid_map(path: str | os.PathLike, mapping: Mapping[str, int] | Iterable[tuple[str, int]]) -> Path:
    """Write ``original id -> LETOR qid`` as ``letor_qid<TAB>original_id`` lines, atomically.

    Only what :func:`read_qid_map` reads back is written: a non-empty original id without blanks (a TREC run's
    fields are blank-separated, and a trailing carriage return would be lost on reading), each original id and
    each LETOR qid once.

    Examples
    --------
    >>> import tempfile, os
    >>> p = write_qid_map(os.path.join(tempfile.mkdtemp(), "d.txt.qids.tsv"), {"PLAIN-2": 1, "PLAIN-10": 2})
    >>> read_qid_map(p)
    {'1': 'PLAIN-2', '2': 'PLAIN-10'}
    """
    from ltr.io import atomic_write

    items = mapping.items() if isinstance(mapping, Mapping) else mapping
    lines = []
    originals: dict[str, int] = {}
    letors: dict[int, str] = {}
    for original, letor in items:
        original = str(original)
        if not original or any(c.isspace() for c in original):
            raise ValueError(f"query id {original!r} is empty or contains a blank (a tab, a space, a newline or a "
                             "carriage return): a query-id map and a TREC run cannot hold it")
        letor = int(letor)
        if original in originals:
            raise ValueError(f"query id {original!r} is mapped twice (to LETOR qids {originals[original]} and "
                             f"{letor})")
        if letor in letors:
            raise ValueError(f"LETOR qid {letor} is given to two query ids ({letors[letor]!r} and {original!r})")
        originals[original], letors[letor] = letor, original
        lines.append(f"{letor}\t{original}\n")
    with atomic_write(path) as f:
        f.write("".join(lines))
    return Path(path)


def read_qid_map(path: str | os.PathLike) -> dict[str, str]:
    """``{letor_qid (str): original id}`` from a map file.

    A map is one-to-one: a LETOR qid or an original id given twice is an error, as are a LETOR qid that is not an
    (ASCII) integer and a line that is not UTF-8; every error names the file, the line and the token.
    """
    path = Path(checked_path(path))
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    originals: dict[str, tuple[int, str]] = {}
    with open(path, "rb") as f:
        raw_lines = f.read().split(b"\n")
    for lineno, raw in enumerate(raw_lines, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            bad = raw[e.start:e.end]
            raise FileFormatError(f"not UTF-8 (byte {bad.hex(' ')} at column {e.start + 1})", str(path), lineno,
                                  raw.decode("utf-8", "backslashreplace")) from None
        text = line.rstrip("\r")
        if lineno == 1 and text.startswith("\ufeff"):  # a byte-order mark, skipped as every other reader skips it
            text = text[1:]
        if not text:
            continue
        letor, sep, original = text.partition("\t")
        if not sep or not original:
            raise FileFormatError("a query-id map has 'letor_qid<TAB>original_id' lines", str(path), lineno, text)
        if _LETOR_QID.fullmatch(letor.strip()) is None:
            raise FileFormatError("a LETOR qid is an integer (ASCII digits)", str(path), lineno, letor)
        key = str(int(letor))
        if key in out:
            raise FileFormatError(f"LETOR qid {key} is mapped twice (first on line {seen[key]})", str(path),
                                  lineno, letor)
        if original in originals:
            first, other = originals[original]
            raise FileFormatError(f"original id {original!r} is mapped twice (from LETOR qid {other} on line "
                                  f"{first} and {key} here): a map is one-to-one, or queries would merge",
                                  str(path), lineno, original)
        out[key] = original
        seen[key] = lineno
        originals[original] = (lineno, key)
    return out


def apply_qid_map(mapping: Mapping[str, str], qids: Iterable, map_path: str | os.PathLike,
                  data_path: str | os.PathLike | None = None) -> list[str]:
    """The original id of each LETOR qid in ``qids``; a qid the map lacks is an error (a map written for another
    file would leave those queries under their LETOR numbers, which no qrels of the collection knows).

    Examples
    --------
    >>> apply_qid_map({"1": "PLAIN-2", "2": "PLAIN-10"}, [2, 1, 1], "d.txt.qids.tsv")
    ['PLAIN-10', 'PLAIN-2', 'PLAIN-2']
    """
    keys = [str(q) for q in qids]
    missing = sorted({k for k in keys if k not in mapping}, key=lambda k: (len(k), k))
    if missing:
        n = len(set(keys))
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        of = f" of {data_path}" if data_path is not None else ""
        raise FileFormatError(f"the query-id map lacks {len(missing)} of the {n} LETOR qids{of} ({shown}): a map "
                              "for another file? (it must list every query of the data)", str(map_path), None,
                              missing[0])
    return [mapping[k] for k in keys]


def locate_qid_map(data_path: str | os.PathLike) -> Path | None:
    """The map beside a LETOR file: ``DATA.qids.tsv``, or for a compressed copy (``DATA.gz``, ``.bz2``, ``.xz``)
    also the map of the file it was made from (``DATA.qids.tsv``), as its ``.query`` and ``.weight`` sidecars are
    found; None when there is none. A folder of that name is returned too, for its reader to refuse (it was passed
    over, and the run's queries went out under their LETOR numbers, exit 0; trial t58)."""
    from ltr.io.files import sidecar_stems

    return next((q for q in map(qid_map_path, sidecar_stems(data_path)) if q.exists()), None)


def find_qid_map(data_path: str | os.PathLike, feature_set: Mapping | None = None) -> dict[str, str] | None:
    """The map beside a LETOR file (:func:`locate_qid_map`), if there is one (else None). ``feature_set``: the
    file's header description; when it records that ``ltr features`` wrote a map (``"qid_map": true``), a missing
    map is an error (the file's query ids are numbers that only the map turns into the collection's)."""
    p = locate_qid_map(data_path)
    if p is None and isinstance(feature_set, Mapping) and feature_set.get("qid_map"):
        from ltr.exceptions import FileFormatError

        raise FileFormatError(f"its query ids are numbers that {qid_map_path(data_path).name} maps to the "
                              "collection's (ltr features wrote both), and that file is not beside it: put it back "
                              "(a run would name the queries by those numbers, which no qrels knows)",
                              str(data_path))
    return read_qid_map(p) if p is not None else None


def padded_ids(ids: set[str], ours: set[str]) -> dict[str, str]:
    """``{id: query id}`` for each of ``ids`` that is one of ``ours`` with leading zeros (``051`` -> ``51``), unless
    it is a query id as written or ``ids`` also hold the unpadded form: TREC-1/2's topics say ``Number: 051``, read
    as 51 (as Anserini reads them), where runs and qrels may keep the zeros."""
    padded = {j: str(int(j)) for j in sorted(ids - ours) if j.isdigit() and j.isascii()}  # (an order of its own)
    return {j: n for j, n in padded.items() if n != j and n in ours and n not in ids}


def padded_examples(padded: Mapping[str, str], shown: int = 3) -> str:
    """The first ``shown`` pairs of :func:`padded_ids`, as messages show them: ``'001' -> '1', '002' -> '2', ...``."""
    pairs = sorted(padded.items(), key=lambda p: (int(p[0]), p[0]))  # the ids are digits: 009 before 010
    text = ", ".join(f"{j!r} -> {n!r}" for j, n in pairs[:shown])
    return text + (", ..." if len(pairs) > shown else "")
