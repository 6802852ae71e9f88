"""The record markup of NPL's (Vaswani's) Glasgow files, read in one place.

``doc-text``, ``query-text`` and ``rlv-ass`` of ``npl.tar.gz`` share one grammar: a record is an id alone on its
line, then lines of content (text, or the judged document ids), and ends with a line holding only ``/`` (indented
in ``doc-text`` and ``rlv-ass``, not in ``query-text``; any indentation is accepted). The last record may end at
the end of the file instead, as long as it has content. This is how ir_datasets reads the files
(``ir_datasets/datasets/vaswani.py``). :func:`ltr.io.read_qrels` reads ``rlv-ass`` with :func:`npl_records`, and
:mod:`features.collections.npl` reads the other two with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ltr.exceptions import FileFormatError

__all__ = ["NplRecord", "npl_records"]


@dataclass(frozen=True)
class NplRecord:
    """One record: its id, the id's line number, and its content lines as ``(line number, tokens)``."""

    id: str
    line: int
    rows: list[tuple[int, list[str]]]


def npl_records(text: str, path: str, *, error: type[FileFormatError], what: str, content: str) -> list[NplRecord]:
    """Split a file's ``text`` into records.

    ``what`` names the id in messages (``"record"``, ``"query"``) and ``content`` what follows it (``"text"``,
    ``"relevant documents"``); errors are ``error(message, path, line, token)``.

    >>> [(r.id, r.line, r.rows) for r in npl_records("7\\na b\\n\\n /\\n", "f", error=FileFormatError,
    ...                                                 what="record", content="text")]
    [('7', 1, [(2, ['a', 'b'])])]
    """
    out: list[NplRecord] = []
    current: NplRecord | None = None
    for n, line in enumerate(text.splitlines(), 1):
        toks = line.split()
        if not toks:
            continue
        if toks == ["/"]:
            if current is None:
                raise error(f"record end '/' without a {what} id before it", path, n, "/")
            out.append(current)
            current = None
        elif current is None:
            if len(toks) != 1:
                raise error(f"expected a {what} id alone on its line (NPL layout: a {what} id, its {content}, then "
                            f"a line '/')", path, n, " ".join(toks)[:40])
            current = NplRecord(toks[0], n, [])
        else:
            current.rows.append((n, toks))
    if current is not None:
        if not current.rows:
            raise error(f"{what} id at the end of the file without any {content}", path, current.line, current.id)
        out.append(current)
    return out
