"""Query-id maps: LETOR files need integer ``qid:`` values, collections have ids such as ``PLAIN-1312``.

``ltr features`` numbers such queries 1..n in the LETOR file and writes the map beside it as ``DATA.qids.tsv``
(``letor_qid<TAB>original_id`` per line). Everything that turns scores of that file back into a TREC run (``ltr
predict --run``, ``ltr cv --run-out``) reads the map, so that the run's query ids are the collection's and match
its qrels.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from ltr.exceptions import FileFormatError

__all__ = ["qid_map_path", "read_qid_map", "write_qid_map", "find_qid_map"]


def qid_map_path(data_path: str | os.PathLike) -> Path:
    """Where the map of a LETOR file lives: ``DATA.qids.tsv``."""
    p = Path(data_path)
    return p.with_name(p.name + ".qids.tsv")


def write_qid_map(path: str | os.PathLike, mapping: Mapping[str, int] | Iterable[tuple[str, int]]) -> Path:
    """Write ``original id -> LETOR qid`` as ``letor_qid<TAB>original_id`` lines, atomically.

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
    for original, letor in items:
        original = str(original)
        if "\t" in original or "\n" in original:
            raise ValueError(f"query id {original!r} contains a tab or a newline")
        lines.append(f"{int(letor)}\t{original}\n")
    with atomic_write(path) as f:
        f.write("".join(lines))
    return Path(path)


def read_qid_map(path: str | os.PathLike) -> dict[str, str]:
    """``{letor_qid (str): original id}`` from a map file (errors name the file, line and token)."""
    path = Path(path)
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            text = line.rstrip("\r\n")
            if not text:
                continue
            letor, sep, original = text.partition("\t")
            if not sep or not original or not letor.strip().lstrip("-").isdigit():
                raise FileFormatError("a query-id map has 'letor_qid<TAB>original_id' lines", str(path), lineno,
                                      text)
            key = str(int(letor))
            if key in out:
                raise FileFormatError(f"LETOR qid {key} is mapped twice (first on line {seen[key]})", str(path),
                                      lineno, text)
            out[key] = original
            seen[key] = lineno
    return out


def find_qid_map(data_path: str | os.PathLike) -> dict[str, str] | None:
    """The map beside a LETOR file, if there is one (else None)."""
    p = qid_map_path(data_path)
    return read_qid_map(p) if p.is_file() else None
