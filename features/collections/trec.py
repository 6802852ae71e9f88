"""TREC-style SGML markup: ``<DOC><DOCNO>id</DOCNO> text </DOC>`` documents and ``<top>`` topics.

This is the layout of the TREC ad hoc collections and of NPL/Vaswani as shipped with Terrier. Inside a document,
the headline elements of the TREC disks (``<TITLE>``, ``<HEADLINE>`` of LA Times and FT, ``<HEAD>`` of AP, ``<HL>``
of WSJ, ``<TI>`` of FBIS) go to the ``title`` field and all other text to ``body``; tags are removed from both
(LA Times wraps its headlines in ``<P>``). The ``<DOC>`` tag may carry attributes; without a ``<DOCNO>``, its
``id`` attribute is the id (LDC's Gigaword and TREC's newer news collections). A web page (WT10g, GOV2: the
record holds ``<html``) takes its ``<title>`` as the title and the rest as the body, without the ``<DOCHDR>`` HTTP
header, the ``<head>`` section, scripts, styles and comments. Character references (``&amp;``, ``&#233;``) are
decoded; the TREC disks' own entities (``&hyph;``, ``&blank;``, ...) become a hyphen or a space.

Topics may close their tags (``<num>1</num><title>...</title>``, Vaswani) or not (the classic ``<num> Number: 401``
form, where a field runs to the next tag, so that TREC-1/2's ``<con>``, ``<fac>`` and ``<def>`` sections stay out of
``<narr>``); TREC's Web track XML topics (``<topic number="1"><query>..</query><description>..``) give ``title``
from ``<query>`` and ``desc`` from ``<description>``. The query text is the ``<title>`` by default. A numeric topic
number loses its leading zeros (TREC-1/2's topics say ``Number: 051``, their qrels ``51``), as SMART query ids here
and topic numbers in Anserini.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from features.collections._base import Collection, Queries, check_id, dedupe, read_text
from features.errors import CollectionFormatError

__all__ = ["TOPIC_FIELDS", "read_trec_documents", "read_trec_topics"]

#: The fields of a TREC topic a query can be made of (``<title>``, ``<desc>``, ``<narr>``).
TOPIC_FIELDS = ("title", "desc", "narr")

_DOC_OPEN = r"<DOC(?:\s[^>]*)?>"
_DOC = re.compile(_DOC_OPEN + r"(.*?)</DOC>", re.S | re.I)
_DOC_OPENS = re.compile(_DOC_OPEN, re.I)
_DOC_ID = re.compile(r"""<DOC\s[^>]*?\bid\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_DOCNO = re.compile(r"<DOCNO>\s*(.*?)\s*</DOCNO>", re.S | re.I)
_TITLE = re.compile(r"<(TITLE|HEADLINE|HEAD|HL|TI)>(.*?)</\1>", re.S | re.I)
_HTML = re.compile(r"<html\b", re.I)
_PAGE_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.S | re.I)
_PAGE_DROP = re.compile(r"<!--.*?-->|<(script|style|head|DOCHDR)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_TOP = re.compile(r"<top>(.*?)</top>", re.S | re.I)
_TOPIC_FIELD = re.compile(r"<(num|title|desc|narr)>(.*?)(?=</?[A-Za-z][^>]*>|$)", re.S | re.I)
_XML_TOPIC = re.compile(r"<topic\b([^>]*)>(.*?)</topic\s*>", re.S | re.I)
_XML_NUMBER = re.compile(r"""\bnumber\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_XML_FIELD = re.compile(r"<(query|description|narrative)\b[^>]*>(.*?)</\1\s*>", re.S | re.I)
_XML_FIELDS = {"query": "title", "description": "desc", "narrative": "narr"}
_PREFIX = re.compile(r"^\s*(Number|Topic|Description|Narrative)\s*:\s*", re.I)
#: The TREC disks' own SGML entities (Federal Register, Congressional Record), read before HTML's (whose ``&blank;``
#: is a visible-space sign); any other name HTML does not know becomes a space.
_TREC_ENTITIES = {"hyph": "-", "blank": " ", "space": " "}
_TREC_ENTITY = re.compile(r"&(hyph|blank|space);", re.I)


def _text(markup: str) -> str:
    """The words of ``markup``: tags removed, character references decoded, whitespace collapsed."""
    words = _TAG.sub(" ", markup)
    if "&" in words:
        words = html.unescape(_TREC_ENTITY.sub(lambda m: _TREC_ENTITIES[m.group(1).lower()], words))
        words = _ENTITY.sub(" ", words)
    return " ".join(words.split())


def _topic_id(number: str) -> str:
    """A topic number as qrels write it: leading zeros dropped from a numeric one (``051`` -> ``51``)."""
    return number.lstrip("0") or "0" if number.isdigit() else number


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
        if no is not None and no.group(1):
            ids.append(check_id(no.group(1), "document id (<DOCNO>)", path, _line_of(text, m.start(1) + no.start())))
            inner = inner[: no.start()] + " " + inner[no.end():]
        else:
            attr = _DOC_ID.match(m.group(0))
            if attr is None or not any(attr.groups()):
                raise CollectionFormatError("<DOC> without a <DOCNO> or an id attribute", str(path),
                                            _line_of(text, m.start()))
            ids.append(check_id(next(g for g in attr.groups() if g), "document id (<DOC id=...>)", path,
                                _line_of(text, m.start())))
        if _HTML.search(inner):  # a web page: its <title>, then the page without header, head, scripts, styles
            inner = _COMMENT.sub(" ", inner)
            page_title = _PAGE_TITLE.search(inner)
            titles.append(_text(page_title.group(1)) if page_title else "")
            bodies.append(_text(_PAGE_DROP.sub(" ", inner)))
            continue
        inner = _COMMENT.sub(" ", inner)
        titles.append(_text(" ".join(t.group(2) for t in _TITLE.finditer(inner))))
        bodies.append(_text(_TITLE.sub(" ", inner)))
    if not ids:
        raise CollectionFormatError("no <DOC>...</DOC> record found: not a TREC-format file?", str(path))
    opened = len(_DOC_OPENS.findall(text))
    if opened != len(ids):
        raise CollectionFormatError(f"{opened} <DOC> tags but {len(ids)} complete records: a </DOC> is missing",
                                    str(path))
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
        qids.append(check_id(_topic_id(parts["num"].split()[0]), "topic number", path, _line_of(text, m.start())))
        texts.append(" ".join(parts.get(f, "") for f in fields if parts.get(f)))
    if not qids:
        for m in _XML_TOPIC.finditer(text):
            number = _XML_NUMBER.search(m.group(1))
            if number is None or not any(number.groups()):
                raise CollectionFormatError('<topic> without a number="..." attribute', str(path),
                                            _line_of(text, m.start()))
            parts = {_XML_FIELDS[f.group(1).lower()]: _text(f.group(2)) for f in _XML_FIELD.finditer(m.group(2))}
            qids.append(check_id(_topic_id(next(g for g in number.groups() if g).strip()), "topic number", path,
                                 _line_of(text, m.start())))
            texts.append(" ".join(parts[f] for f in fields if parts.get(f)))
    if not qids:
        raise CollectionFormatError("no <top>...</top> or <topic number=...> topic found: not a TREC topics file?",
                                    str(path))
    return Queries(tuple(qids), tuple(texts), name=str(path))
