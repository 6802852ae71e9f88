"""SMART-format collections: Cranfield, CACM, ADI, CISI, MED (MEDLINE), ... (not TIME or NPL's Glasgow files,
whose markup is another: ``*TEXT``/``*FIND`` records, and NPL's own, read by :mod:`features.collections.npl`)

A record starts with a line ``.I <id>``; each field starts with a line holding only ``.<LETTER>`` and runs to the
next marker. The classic collections use ``.T`` title, ``.W`` text (abstract or query), ``.A`` authors,
``.B`` bibliographic data, ``.N`` entry notes, ``.X`` citation data, ``.K`` keywords, ``.C`` categories
(Salton's SMART system; the files as distributed by the Glasgow IR group).

Queries are in the same markup (their text is ``.T`` + ``.W``). Records without any field marker (CACM's
trailing ``.I 0``) are skipped. Relevance files come in several layouts; see :mod:`features.collections.qrels`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from features.collections._base import (
    Collection,
    Queries,
    check_id,
    dedupe,
    iter_lines,
    normalise_numeric_id,
    read_text,
)
from features.errors import CollectionFormatError
from ltr.io.files import refuse_inner_bom

__all__ = ["SMART_FIELDS", "read_smart_documents", "read_smart_queries"]

log = logging.getLogger(__name__)

#: SMART field letters and the names used here. ``title`` and ``body`` are indexed; the rest is metadata.
SMART_FIELDS = {
    "T": "title",
    "W": "body",
    "A": "authors",
    "B": "source",
    "N": "note",
    "X": "links",
    "K": "keywords",
    "C": "categories",
}
_INDEXED = ("title", "body")

_RECORD = re.compile(r"^\.I(?:\s+(\S+))?\s*$")
_RECORD_SPACED = re.compile(r"^\.I\s+(\S.*?)\s*$")  # '.I doc 1': an id with blanks, which would else be text
_FIELD = re.compile(r"^\.([A-Z])\s*$")


def _records(path: str | Path, errors: str) -> list[tuple[str, int, dict[str, str], bool]]:
    """``(id, line, {letter: text}, had_any_marker)`` per record, in file order."""
    text = read_text(path, errors=errors)
    # '\ufeff.I 3' (files joined with cat, the second saved with a BOM) is no record marker: its record would be
    # merged into the one before, silently, as every other reader refuses
    refuse_inner_bom(text, path, CollectionFormatError)
    records: list[tuple[str, int, dict[str, list[str]], bool]] = []
    current: dict[str, list[str]] | None = None
    letter: str | None = None
    for lineno, line in iter_lines(text):
        m = _RECORD.match(line)
        if m:
            if m.group(1) is None:
                raise CollectionFormatError("'.I' record marker without an id", str(path), lineno, token=line)
            current = {}
            letter = None
            records.append((check_id(normalise_numeric_id(m.group(1)), "record id", path, lineno), lineno, current,
                            False))
            continue
        m = _RECORD_SPACED.match(line)
        if m:
            check_id(m.group(1), "record id", path, lineno)
        m = _FIELD.match(line)
        if m and current is not None:
            letter = m.group(1)
            current.setdefault(letter, [])
            rid, rl, fields, _ = records[-1]
            records[-1] = (rid, rl, fields, True)
            continue
        if current is None:
            if line.strip():
                raise CollectionFormatError(
                    "text before the first '.I' record: not a SMART-format file?", str(path), lineno, token=line[:40]
                )
            continue
        if letter is None:
            if line.strip() and line.strip() != ".":
                raise CollectionFormatError(
                    "text inside a record before any field marker (.T, .W, ...)", str(path), lineno, token=line[:40]
                )
            continue
        current[letter].append(line)
    return [(rid, rl, {k: "\n".join(v).strip() for k, v in f.items()}, had) for rid, rl, f, had in records]


def read_smart_documents(
    path: str | Path, *, errors: str = "strict", duplicates: str = "error"
) -> Collection:
    """Read a SMART document file into a :class:`Collection` with ``title`` and ``body`` fields.

    Other fields (``.A``, ``.B``, ``.X``, ...) are kept in ``metadata`` under the names of :data:`SMART_FIELDS`
    (an unknown letter ``Z`` becomes ``field_Z``).

    Parameters
    ----------
    path : str or Path
        Plain or ``.gz``.
    errors : {"strict", "replace"}
        Invalid UTF-8: raise naming the byte offset, or replace.
    duplicates : {"error", "first", "last"}
        What to do with a repeated ``.I`` id.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "c.all")
    >>> _ = open(p, "w").write(".I 1\\n.T\\nwing flutter\\n.A\\nsmith\\n.W\\nthe wing.\\n.I 2\\n.W\\nheat\\n")
    >>> c = read_smart_documents(p)
    >>> c.doc_ids, c.fields["title"], c.fields["body"], c.metadata["authors"]
    (('1', '2'), ['wing flutter', ''], ['the wing.', 'heat'], ['smith', ''])
    """
    recs = _records(path, errors)
    letters = sorted({k for _, _, f, _ in recs for k in f})
    names = {k: SMART_FIELDS.get(k, f"field_{k}") for k in letters}
    ids = [r[0] for r in recs]
    columns = {name: [f.get(k, "") for _, _, f, _ in recs] for k, name in names.items()}
    for name in _INDEXED:
        columns.setdefault(name, [""] * len(recs))
    ids, columns = dedupe(ids, columns, duplicates, str(path))
    fields = {name: columns.pop(name) for name in _INDEXED}
    return Collection(tuple(ids), fields, metadata=columns, name=str(path))


def read_smart_queries(path: str | Path, *, ids: str = "record", errors: str = "strict") -> Queries:
    """Read SMART-format queries; the text is the ``.T`` and ``.W`` fields joined.

    Parameters
    ----------
    path : str or Path
    ids : {"record", "position"}
        ``"record"``: the ``.I`` id (zero padding removed: ``.I 001`` -> ``"1"``). ``"position"``: ``"1"``,
        ``"2"``, ... in file order, which is how Cranfield's ``cranqrel`` refers to its queries (their ``.I`` ids
        run 1..365 with gaps, the relevance file numbers them 1..225).
    errors : {"strict", "replace"}

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "q")
    >>> _ = open(p, "w").write(".I 001\\n.W\\nwhat is lift .\\n.I 004\\n.W\\nheat\\n.I 0\\n")
    >>> read_smart_queries(p).qids, read_smart_queries(p, ids="position").qids
    (('1', '4'), ('1', '2'))
    """
    if ids not in ("record", "position"):
        raise ValueError(f"ids must be 'record' or 'position', got {ids!r}")
    recs = _records(path, errors)
    # a record's position counts every record before it, those left out too: cranqrel numbers cran.qry's records
    kept = [(str(i + 1), rid, line, f) for i, (rid, line, f, had) in enumerate(recs) if had]
    inner = [(rid, line) for i, (rid, line, _, had) in enumerate(recs) if not had and i < len(recs) - 1]
    if inner:  # (a last '.I' without fields ends many files: said at debug level only)
        rid, line = inner[0]
        log.warning("%s:%d: query record .I %s has no field (no .T or .W line): left out%s%s", path, line, rid,
                    f", and {len(inner) - 1} more" if len(inner) > 1 else "",
                    " (the later queries keep their positions)" if ids == "position" else "")
    elif len(kept) < len(recs):
        log.debug("%s: skipped the last record, which has no field", path)
    qids = [pos if ids == "position" else rid for pos, rid, _, _ in kept]
    texts = [" ".join(t for t in (f.get("T", ""), f.get("W", "")) if t) for _, _, _, f in kept]
    return Queries(tuple(qids), tuple(texts), name=str(path), lines=tuple(line for _, _, line, _ in kept))


def smart_query_positions(path: str | Path, *, errors: str = "strict") -> dict[str, str]:
    """Each ``.I`` id of a SMART query file -> its position (``"1"``, ``"2"``, ...; every record counted), the
    number Cranfield's ``cranqrel`` gives it: a query file holding some of these queries, in any order, is numbered
    by this map (:func:`features.pipeline.load_inputs`), not by its own positions."""
    return {rid: str(i + 1) for i, (rid, _, _, _) in enumerate(_records(path, errors))}
