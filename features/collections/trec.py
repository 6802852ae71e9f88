"""TREC-style SGML markup: ``<DOC><DOCNO>id</DOCNO> text </DOC>`` documents and ``<top>`` topics.

This is the layout of the TREC ad hoc collections and of NPL/Vaswani as shipped with Terrier. Inside a document,
the headline elements of the TREC disks (``<TITLE>``, ``<HEADLINE>`` of LA Times and FT, ``<HEAD>`` of AP, ``<HL>``
of WSJ, ``<TI>`` of FBIS) go to the ``title`` field and all other text to ``body``; tags are removed from both
(LA Times wraps its headlines in ``<P>``). The ``<DOC>`` and ``<DOCNO>`` tags may carry attributes; without a
``<DOCNO>`` (or with an empty one), the ``<DOC>``'s ``id`` attribute is the id (LDC's Gigaword and TREC's newer news
collections). A web page (WT10g, GOV2: the
record holds ``<html``) takes its ``<title>`` as the title and the rest as the body, without the ``<head>``
section, scripts, styles and comments; the ``<DOCHDR>`` HTTP header of a web record (URL, status, Content-Type) is
left out of every record, HTML or not (GOV2's plain-text and converted pages). Character references (``&amp;``,
``&#233;``) are decoded once, in documents and topics alike (``&amp;lt;`` is the text ``&lt;``, as a browser shows
it); the TREC disks' own entities (``&hyph;``, ``&blank;``, ...) become a hyphen or a space. A tag starts with ``<``
followed by a letter, ``/``, ``!`` or ``?`` (the HTML5 tokenizer's rule, which Python's ``html.parser``, BeautifulSoup
and JSoup, used by Anserini, follow); any other ``<`` is text, as the raw ``1 <= m`` of CACM or of program code in a
collection converted without escaping.

Topics may close their tags (``<num>1</num><title>...</title>``, Vaswani) or not (the classic ``<num> Number: 401``
form, where a field runs to the next tag, so that TREC-1/2's ``<con>``, ``<fac>`` and ``<def>`` sections stay out of
``<narr>``); a ``<query>`` in a ``<top>`` (the Microblog track's) is its ``title``. TREC's Web track XML topics
(``<topic number="1"><query>..</query><description>..``, also under TREC-COVID's ``<topics task=...>`` root) give
``title`` from ``<query>`` and ``desc`` from ``<description>`` or TREC-COVID's ``<question>`` (ir_datasets' and
Anserini's name for it). The query text is the ``<title>`` by default; topics whose chosen fields are all empty are
named in a warning (they retrieve nothing), and an error when every topic is. A numeric topic number loses its
leading zeros (TREC-1/2's topics say ``Number: 051``, their qrels ``51``), as SMART query ids here and topic numbers
in Anserini; ``ltr features`` matches judgments that keep the zeros to these numbers, with a note.

A ``<DOC>``, ``<top>`` or ``<topic>`` not closed before the next one (or the end of the file) is an error naming its
line: the record matched up to the next one's end would absorb it (and its id), so a topic or a document would be lost
without a word. A ``<DOC>`` inside an ``<!-- -->`` comment of a record opens no record (the comments of a file with
fewer ``</DOC>`` than ``<DOC>`` tags are skipped, a comment never running past a ``</DOC>``).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from html.entities import html5
from pathlib import Path

from features.collections._base import (
    Collection,
    Queries,
    as_names,
    check_id,
    dedupe,
    normalise_numeric_id,
    read_text,
)
from features.errors import CollectionFormatError

__all__ = ["TOPIC_FIELDS", "read_trec_documents", "read_trec_topics"]

#: The fields of a TREC topic a query can be made of (``<title>``, ``<desc>``, ``<narr>``).
TOPIC_FIELDS = ("title", "desc", "narr")

_DOC_OPEN = r"<DOC(?:\s[^>]*)?>"
_DOC = re.compile(_DOC_OPEN + r"(.*?)</DOC>", re.S | re.I)
_DOC_OPENS = re.compile(_DOC_OPEN, re.I)
_DOC_TAGS = re.compile(_DOC_OPEN + r"|</DOC>", re.I)
_DOC_CLOSES = re.compile(r"</DOC>", re.I)
_DOC_ID = re.compile(r"""<DOC\s[^>]*?\bid\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
# with attributes (<DOCNO type="x">) too, as <DOC ...> and the headline tags take them (trial t66)
_DOCNO = re.compile(r"<DOCNO(?:\s[^>]*)?>\s*(.*?)\s*</DOCNO\s*>", re.S | re.I)
# a headline tag with attributes (<TITLE lang="en">) too, as <DOC ...> and a web page's <title ...> (trial t57)
_TITLE = re.compile(r"<(TITLE|HEADLINE|HEAD|HL|TI)(?:\s[^>]*)?>(.*?)</\1\s*>", re.S | re.I)
_HTML = re.compile(r"<html\b", re.I)
_PAGE_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.S | re.I)
_PAGE_DROP = re.compile(r"<!--.*?-->|<(script|style|head)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
#: A comment inside one record: it never runs past a </DOC> (a page's unclosed <!-- must not swallow the records
#: after it).
_RECORD_COMMENT = re.compile(r"<!--(?:(?!</DOC>).)*?-->", re.S | re.I)
_DOCHDR = re.compile(r"<DOCHDR\b[^>]*>.*?</DOCHDR\s*>", re.S | re.I)
#: A tag, comment or declaration: ``<`` then a letter, ``/``, ``!`` or ``?``, up to the next ``>``. Any other ``<``
#: (``1 <= m``, ``10^8 < 2^27``) is text, as in HTML5's tokenizer; with ``<[^>]*>`` it ate the text up to the next tag.
_TAG = re.compile(r"<[A-Za-z/!?][^>]*>")
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_TOP_OPEN = r"<top\b[^>]*>"  # FIRE's and CLEF's <top lang='en'> too; not <topic> or <topics>
_TOP = re.compile(_TOP_OPEN + r"(.*?)</top\s*>", re.S | re.I)
_TOP_OPENS = re.compile(_TOP_OPEN, re.I)
_TOP_TAGS = re.compile(_TOP_OPEN + r"|</top\s*>", re.I)
_TOPIC_FIELD = re.compile(r"<(num|title|desc|narr|query)>(.*?)(?=</?[A-Za-z][^>]*>|$)", re.S | re.I)
_XML_TOPIC_OPEN = r"<topic\b[^>]*>"  # not <topics ...>, TREC-COVID's root
_XML_TOPIC = re.compile(r"<topic\b([^>]*)>(.*?)</topic\s*>", re.S | re.I)
_XML_TOPIC_OPENS = re.compile(_XML_TOPIC_OPEN, re.I)
_XML_TOPIC_TAGS = re.compile(_XML_TOPIC_OPEN + r"|</topic\s*>", re.I)
_XML_NUMBER = re.compile(r"""\bnumber\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_XML_FIELD = re.compile(r"<(query|description|question|narrative)\b[^>]*>(.*?)</\1\s*>", re.S | re.I)
_XML_FIELDS = {"query": "title", "description": "desc", "question": "desc", "narrative": "narr"}
_PREFIX = re.compile(r"^\s*(Number|Topic|Description|Narrative)\s*:\s*", re.I)
#: The TREC disks' own SGML entities (Federal Register, Congressional Record), read before HTML's (whose ``&blank;``
#: is a visible-space sign); any other name HTML does not know becomes a space.
_TREC_ENTITIES = {"hyph": "-", "blank": " ", "space": " "}
log = logging.getLogger(__name__)


def _named_reference(m: re.Match) -> str:
    """A named reference as written: a TREC disk entity's character, itself for one HTML knows (left to
    ``html.unescape``), a space for any other name."""
    name = m.group(1)
    trec = _TREC_ENTITIES.get(name.lower())
    if trec is not None:
        return trec
    return m.group(0) if name + ";" in html5 else " "


def _text(markup: str) -> str:
    """The words of ``markup``: tags removed, character references decoded, whitespace collapsed."""
    words = _TAG.sub(" ", markup)
    if "&" in words:
        # The names are resolved on the text as written, then decoded in one pass: a reference that decodes to one
        # (AT&amp;amp;T, the text AT&amp;T, as ltr.io.write_topics escapes it) is text, not decoded again.
        words = html.unescape(_ENTITY.sub(_named_reference, words))
    return " ".join(words.split())


def _topic_id(number: str) -> str:
    """A topic number as qrels write it: leading zeros dropped from one of ASCII digits (``051`` -> ``51``), as
    :func:`~features.collections._base.normalise_numeric_id` reads SMART ids.

    >>> _topic_id("051"), _topic_id("000"), _topic_id("0²"), _topic_id("MB01")
    ('51', '0', '0²', 'MB01')
    """
    return normalise_numeric_id(number)


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


class _Lines:
    """Line numbers of positions in ``text`` met in increasing order, counted on from the previous one (counting
    each from the start would read a large file once per record)."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        if pos < self.pos:
            return _line_of(self.text, pos)
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _unclosed(text: str, tags: re.Pattern) -> tuple[int, int | None] | None:
    """``(position of the first opening tag not closed, position of the opening tag that follows it or None at the
    end of the text)``; None when each is closed before the next. ``tags`` matches the opening and closing tags."""
    open_at = None
    for tag in tags.finditer(text):
        if tag.group(0)[1] == "/":
            open_at = None
        elif open_at is not None:
            return open_at, tag.start()
        else:
            open_at = tag.start()
    return None if open_at is None else (open_at, None)


def _missing_end(text: str, path: str | Path, name: str, tags: re.Pattern, opened: int,
                 complete: int) -> CollectionFormatError:
    """The error for ``opened`` ``<name>`` tags of which ``complete`` records were read: it names the line of the
    first one not closed (in a large file, counts alone cannot be acted on) and where its record runs to."""
    unclosed = _unclosed(text, tags)
    line, which = None, ""
    if unclosed is not None:
        line = _line_of(text, unclosed[0])
        which = (f" (this <{name}> is not closed before the end of the file)" if unclosed[1] is None else
                 f" (this <{name}> is not closed before the next <{name}>, line {_line_of(text, unclosed[1])})")
    return CollectionFormatError(f"{opened} <{name}> tags but {complete} complete records: a </{name}> is "
                                 f"missing{which}", str(path), line)


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
    opened = len(_DOC_OPENS.findall(text))
    if opened > len(_DOC_CLOSES.findall(text)):
        # A <DOC> inside an <!-- --> comment (a page's old marker) opens no record: such a file is read with its
        # comments blanked (line ends kept, so line numbers hold). Only a file with fewer </DOC> than <DOC>, refused
        # otherwise, is read so: a file that reads as it is reads as before.
        text = _RECORD_COMMENT.sub(lambda c: re.sub(r"[^\n]", " ", c.group(0)), text)
        opened = len(_DOC_OPENS.findall(text))
    where = _Lines(text)
    ids: list[str] = []
    lines: list[int] = []  # of each id, for the duplicate-id error
    titles: list[str] = []
    bodies: list[str] = []
    for m in _DOC.finditer(text):
        inner = m.group(1)
        no = _DOCNO.search(inner)
        attr = _DOC_ID.match(m.group(0))
        if no is not None and not no.group(1) and (attr is None or not any(attr.groups())):
            raise CollectionFormatError("empty <DOCNO>, and no id attribute on the <DOC>: the document has no id",
                                        str(path), where.at(m.start(1) + no.start()), token=no.group(0)[:60])
        if no is not None and no.group(1):
            lines.append(where.at(m.start(1) + no.start()))
            ids.append(check_id(no.group(1), "document id (<DOCNO>)", path, lines[-1]))
            again = _DOCNO.search(inner, no.end())
            if again is not None and not re.search(r"<DOC[\s>]", inner, re.I):
                # its id would be read as text of the body, the document under the first (a <DOC> inside is a
                # missing </DOC>, said below by its line)
                raise CollectionFormatError(f"a second <DOCNO> in the document {ids[-1]!r} (two documents run "
                                            "together?)", str(path), where.at(m.start(1) + again.start()),
                                            token=again.group(0))
            inner = inner[: no.start()] + " " + inner[no.end():]
        else:
            lines.append(where.at(m.start()))
            if attr is None or not any(attr.groups()):
                raise CollectionFormatError("<DOC> without a <DOCNO> or an id attribute", str(path), lines[-1])
            ids.append(check_id(next(g for g in attr.groups() if g), "document id (<DOC id=...>)", path, lines[-1]))
        inner = _DOCHDR.sub(" ", inner)  # a web record's HTTP header (URL, status, Content-Type): crawl metadata
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
    if opened != len(ids):
        raise _missing_end(text, path, "DOC", _DOC_TAGS, opened, len(ids))
    ids, cols = dedupe(ids, {"title": titles, "body": bodies}, duplicates, str(path), lines=lines)
    return Collection(tuple(ids), cols, name=str(path))


def read_trec_topics(
    path: str | Path, *, fields: str | Sequence[str] = ("title",), errors: str = "strict"
) -> Queries:
    """Read ``<top>`` topics; the query text is the given topic fields joined (``title``, ``desc``, ``narr``; a str
    is one field), in the order given; an unknown field name is a ValueError. A ``<top>`` (or ``<topic>``) not
    closed before the next one or the end of the file is a :class:`~features.errors.CollectionFormatError` naming
    its line.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.trec")
    >>> _ = open(p, "w").write("<top>\\n<num> Number: 401\\n<title> foreign minorities\\n<desc> About:\\nx\\n</top>")
    >>> q = read_trec_topics(p)
    >>> q.qids, q.texts
    (('401',), ('foreign minorities',))
    """
    fields = as_names(fields)
    unknown = [f for f in fields if f not in TOPIC_FIELDS]
    if unknown or not fields:
        raise ValueError(f"topic fields must be one or more of {', '.join(TOPIC_FIELDS)}, got "
                         f"{', '.join(map(repr, unknown)) if unknown else 'none'}")
    text = read_text(path, errors=errors)
    where = _Lines(text)
    qids: list[str] = []
    texts: list[str] = []
    lines: list[int] = []  # of each topic, for the duplicate-id error
    # Each record must be closed before the next: one left open runs to the next one's </top>, and the next <num>
    # replaces its own, so a topic would be lost without a word (one open at the end would be left out).
    tops = list(_TOP.finditer(text))
    opened = len(_TOP_OPENS.findall(text))
    if opened != len(tops):
        raise _missing_end(text, path, "top", _TOP_TAGS, opened, len(tops))
    for m in tops:
        parts: dict[str, str] = {}
        for f in _TOPIC_FIELD.finditer(m.group(1)):  # character references decoded as in documents (AT&amp;T)
            tag = f.group(1).lower()
            parts["title" if tag == "query" else tag] = _PREFIX.sub("", _text(f.group(2)))
        lines.append(where.at(m.start()))
        if not parts.get("num"):
            raise CollectionFormatError("<top> without a <num>", str(path), lines[-1])
        qids.append(check_id(_topic_id(parts["num"].split()[0]), "topic number", path, lines[-1]))
        texts.append(" ".join(parts.get(f, "") for f in fields if parts.get(f)))
    if not qids:
        xml_topics = list(_XML_TOPIC.finditer(text))
        opened = len(_XML_TOPIC_OPENS.findall(text))
        if opened != len(xml_topics):  # (as <top>: the next topic's fields would replace this one's)
            raise _missing_end(text, path, "topic", _XML_TOPIC_TAGS, opened, len(xml_topics))
        for m in xml_topics:
            number = _XML_NUMBER.search(m.group(1))
            lines.append(where.at(m.start()))
            if number is None or not any(number.groups()):
                raise CollectionFormatError('<topic> without a number="..." attribute', str(path), lines[-1])
            parts = {_XML_FIELDS[f.group(1).lower()]: _text(f.group(2)) for f in _XML_FIELD.finditer(m.group(2))}
            qids.append(check_id(_topic_id(next(g for g in number.groups() if g).strip()), "topic number", path,
                                 lines[-1]))
            texts.append(" ".join(parts[f] for f in fields if parts.get(f)))
    if not qids:
        raise CollectionFormatError("no <top>...</top> or <topic number=...> topic found: not a TREC topics file?",
                                    str(path))
    empty = [i for i, t in enumerate(texts) if not t]
    if empty:
        what = f"text in the topic field(s) {', '.join(fields)}"
        if len(empty) == len(texts):
            raise CollectionFormatError(f"no topic has {what}: choose topic fields the file has (title: <title> or "
                                        "<query>; desc: <desc>, <description> or <question>; narr: <narr> or "
                                        "<narrative>)", str(path), lines[0])
        shown = ", ".join(f"{qids[i]!r} (line {lines[i]})" for i in empty[:5]) + (", ..." if len(empty) > 5 else "")
        log.warning("%s: %d topic(s) have no %s, so their queries are empty and retrieve nothing: %s", path,
                    len(empty), what, shown)
    return Queries(tuple(qids), tuple(texts), name=str(path), lines=tuple(lines))
