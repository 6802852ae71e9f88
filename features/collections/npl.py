"""The NPL (Vaswani) collection in its original Glasgow layout: ``doc-text``, ``query-text``, ``rlv-ass``.

The three files of ``npl.tar.gz`` share one markup, split into records by :func:`ltr.io.npl.npl_records` (an id
alone on its line, lines of text, a line ``/``; as ir_datasets reads them). Terrier's conversion, which
``shared/data/vaswani_npl`` holds, wraps the same records in TREC markup, and the two read to the same collection:
documents have one ``body`` field (the text with its line breaks and runs of blanks folded into single spaces, as
:func:`~features.collections.read_trec_documents` reads the conversion) and an empty ``title``.

The judgments (``rlv-ass``) are read by :func:`ltr.io.read_qrels` (``format="npl"``): every listed document
relevant (gain 1).
"""

from __future__ import annotations

from pathlib import Path

from features.collections._base import Collection, Queries, check_id, dedupe, read_text
from features.errors import CollectionFormatError
from ltr.io.npl import npl_records

__all__ = ["read_npl_documents", "read_npl_queries"]


def _records(path: str | Path, errors: str) -> list[tuple[str, str]]:
    """``(id, text)`` per record, in file order; the text's blanks folded to single spaces."""
    recs = npl_records(read_text(path, errors=errors), str(path), error=CollectionFormatError, what="record",
                       content="text")
    if not recs:
        raise CollectionFormatError("no record found: not an NPL-layout file (an id, its text, then '/')",
                                    str(path))
    # an id is one blank-separated token, so only NUL can make it one a run or qrels file cannot hold
    return [(check_id(r.id, "record id", path, r.line), " ".join(tok for _, toks in r.rows for tok in toks))
            for r in recs]


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
