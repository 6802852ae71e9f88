"""TREC-style SGML markup: ``<DOC><DOCNO>id</DOCNO> text </DOC>`` documents and ``<top>`` topics.

This is the layout of the TREC ad hoc collections and of NPL/Vaswani as shipped with Terrier. Inside a document,
the headline elements of the TREC disks (``<TITLE>``, ``<HEADLINE>`` of LA Times and FT, ``<HEAD>`` of AP, ``<HL>``
of WSJ, ``<TI>`` of FBIS) go to the ``title`` field and all other text to ``body``; tags are removed from both
(LA Times wraps its headlines in ``<P>``). Topics may close their tags (``<num>1</num><title>...</title>``,
Vaswani) or not (the classic ``<num> Number: 401`` form); the query text is the ``<title>`` by default.
"""

from __future__ import annotations

import re
from pathlib import Path

from features.collections._base import Collection, Queries, dedupe, read_text
from features.errors import CollectionFormatError

__all__ = ["TOPIC_FIELDS", "read_trec_documents", "read_trec_topics"]

#: The fields of a TREC topic a query can be made of (``<title>``, ``<desc>``, ``<narr>``).
TOPIC_FIELDS = ("title", "desc", "narr")

_DOC = re.compile(r"<DOC>(.*?)</DOC>", re.S | re.I)
_DOCNO = re.compile(r"<DOCNO>\s*(.*?)\s*</DOCNO>", re.S | re.I)
_TITLE = re.compile(r"<(TITLE|HEADLINE|HEAD|HL|TI)>(.*?)</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
_TOP = re.compile(r"<top>(.*?)</top>", re.S | re.I)
_TOPIC_FIELD = re.compile(r"<(num|title|desc|narr)>(.*?)(?=<(?:/?num|/?title|/?desc|/?narr|/top)>|$)", re.S | re.I)
_PREFIX = re.compile(r"^\s*(Number|Topic|Description|Narrative)\s*:\s*", re.I)


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def read_trec_documents(path: str | Path, *, errors: str = "strict", duplicates: str = "error") -> Collection:
    """Read ``<DOC>`` records into a :class:`Collection` with ``title`` and ``body`` fields.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "d.trec")
    >>> _ = open(p, "w").write("<DOC>\\n<DOCNO>7</DOCNO>\\n<TITLE>Lift</TITLE> wings <B>fly</B>\\n</DOC>\\n")
    >>> c = read_trec_documents(p)
    >>> c.doc_ids, c.fields["title"], c.fields["body"]
    (('7',), ['Lift'], ['wings fly'])
    """
    text = read_text(path, errors=errors)
    ids: list[str] = []
    titles: list[str] = []
    bodies: list[str] = []
    for m in _DOC.finditer(text):
        inner = m.group(1)
        no = _DOCNO.search(inner)
        if no is None or not no.group(1):
            raise CollectionFormatError("<DOC> without a <DOCNO>", str(path), _line_of(text, m.start()))
        ids.append(no.group(1))
        inner = inner[: no.start()] + " " + inner[no.end():]
        titles.append(" ".join(_TAG.sub(" ", " ".join(t.group(2) for t in _TITLE.finditer(inner))).split()))
        inner = _TITLE.sub(" ", inner)
        bodies.append(" ".join(_TAG.sub(" ", inner).split()))
    if not ids:
        raise CollectionFormatError("no <DOC>...</DOC> record found: not a TREC-format file?", str(path))
    if text.upper().count("<DOC>") != len(ids):
        raise CollectionFormatError(
            f"{text.upper().count('<DOC>')} <DOC> tags but {len(ids)} complete records: a </DOC> is missing",
            str(path),
        )
    ids, cols = dedupe(ids, {"title": titles, "body": bodies}, duplicates, str(path))
    return Collection(tuple(ids), cols, name=str(path))


def read_trec_topics(
    path: str | Path, *, fields: tuple[str, ...] = ("title",), errors: str = "strict"
) -> Queries:
    """Read ``<top>`` topics; the query text is the given topic fields joined (``title``, ``desc``, ``narr``), in the
    order given; an unknown field name is a ValueError.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.trec")
    >>> _ = open(p, "w").write("<top>\\n<num> Number: 401\\n<title> foreign minorities\\n<desc> About:\\nx\\n</top>")
    >>> q = read_trec_topics(p)
    >>> q.qids, q.texts
    (('401',), ('foreign minorities',))
    """
    fields = tuple(fields)
    unknown = [f for f in fields if f not in TOPIC_FIELDS]
    if unknown or not fields:
        raise ValueError(f"topic fields must be one or more of {', '.join(TOPIC_FIELDS)}, got "
                         f"{', '.join(map(repr, unknown)) if unknown else 'none'}")
    text = read_text(path, errors=errors)
    qids: list[str] = []
    texts: list[str] = []
    for m in _TOP.finditer(text):
        parts: dict[str, str] = {}
        for f in _TOPIC_FIELD.finditer(m.group(1)):
            parts[f.group(1).lower()] = _PREFIX.sub("", " ".join(f.group(2).split()))
        if not parts.get("num"):
            raise CollectionFormatError("<top> without a <num>", str(path), _line_of(text, m.start()))
        qids.append(parts["num"].split()[0])
        texts.append(" ".join(parts.get(f, "") for f in fields if parts.get(f)))
    if not qids:
        raise CollectionFormatError("no <top>...</top> topic found: not a TREC topics file?", str(path))
    return Queries(tuple(qids), tuple(texts), name=str(path))
