"""The NPL (Vaswani) collection in its original Glasgow layout: ``doc-text``, ``query-text``, ``rlv-ass``.

The three files of ``npl.tar.gz`` share one markup: a record is an id on a line of its own, then lines of text
(or, in ``rlv-ass``, of judged document ids), and ends with a line holding only ``/`` (indented by three spaces in
``doc-text`` and ``rlv-ass``, not in ``query-text``; any indentation is accepted). This is how ir_datasets reads
them (``ir_datasets/datasets/vaswani.py``: records split at the ``/`` lines, the first line the id); Terrier's
conversion, which ``shared/data/vaswani_npl`` holds, wraps the same records in TREC markup, and the two read to the
same collection: documents have one ``body`` field (the text with its line breaks and runs of blanks folded into
single spaces, as :func:`~features.collections.read_trec_documents` reads the conversion) and an empty ``title``.

The judgments (``rlv-ass``) are read by :func:`ltr.io.read_qrels` (``format="npl"``): every listed document
relevant (gain 1).
"""

from __future__ import annotations

from pathlib import Path

from features.collections._base import Collection, Queries, dedupe, iter_lines, read_text
from features.errors import CollectionFormatError

__all__ = ["read_npl_documents", "read_npl_queries"]


def _records(path: str | Path, errors: str) -> list[tuple[str, str]]:
    """``(id, text)`` per record, in file order; the text's blanks folded to single spaces."""
    text = read_text(path, errors=errors)
    out: list[tuple[str, str]] = []
    rid: str | None = None
    rid_line = 0
    body: list[str] = []
    for lineno, line in iter_lines(text):
        s = line.strip()
        if s == "/":
            if rid is None:
                raise CollectionFormatError("record end '/' without a record id before it", str(path), lineno,
                                            token=line)
            out.append((rid, " ".join(" ".join(body).split())))
            rid, body = None, []
        elif rid is None:
            if not s:
                continue
            if len(s.split()) != 1:
                raise CollectionFormatError("expected a record id alone on its line (NPL layout: an id, its text, "
                                            "then a line '/')", str(path), lineno, token=line[:40])
            rid, rid_line = s, lineno
        elif s:
            body.append(s)
    if rid is not None:
        if body:  # the last record may end at the end of the file instead of a '/' line
            out.append((rid, " ".join(" ".join(body).split())))
        else:
            raise CollectionFormatError("record id at the end of the file without any text", str(path), rid_line,
                                        token=rid)
    if not out:
        raise CollectionFormatError("no record found: not an NPL-layout file (an id, its text, then '/')",
                                    str(path))
    return out


def read_npl_documents(path: str | Path, *, errors: str = "strict", duplicates: str = "error") -> Collection:
    """Read NPL's ``doc-text`` into a :class:`Collection` (``title`` empty, ``body`` the text).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "doc-text")
    >>> _ = open(p, "w").write("1\\ncompact memories  have\\nflexible capacities\\n   /\\n2\\nan analogue\\n   /\\n")
    >>> c = read_npl_documents(p)
    >>> c.doc_ids, c.fields["body"], c.fields["title"]
    (('1', '2'), ['compact memories have flexible capacities', 'an analogue'], ['', ''])
    """
    recs = _records(path, errors)
    ids, cols = dedupe([r for r, _ in recs], {"title": [""] * len(recs), "body": [t for _, t in recs]}, duplicates,
                       str(path))
    return Collection(tuple(ids), cols, name=str(path))


def read_npl_queries(path: str | Path, *, errors: str = "strict") -> Queries:
    """Read NPL's ``query-text`` into :class:`Queries`.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "query-text")
    >>> _ = open(p, "w").write("1\\nMEASUREMENT OF DIELECTRIC\\nCONSTANT\\n/\\n2\\nWAVEGUIDES\\n/\\n")
    >>> dict(read_npl_queries(p).items())
    {'1': 'MEASUREMENT OF DIELECTRIC CONSTANT', '2': 'WAVEGUIDES'}
    """
    recs = _records(path, errors)
    return Queries(tuple(r for r, _ in recs), tuple(t for _, t in recs), name=str(path))
