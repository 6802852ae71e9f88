"""Interchange formats: BEIR (``corpus.jsonl``, ``queries.jsonl``, ``qrels/*.tsv``) and ``id<TAB>text`` files.

BEIR (Thakur et al., 2021) stores one JSON object per line: documents as ``{"_id", "title", "text"}``, queries as
``{"_id", "text"}``. The JSON-lines files of the other toolkits read the same, by their own keys: Pyserini's
``JsonCollection`` (``{"id", "contents"}``), ``ir_datasets export --format jsonl`` (``doc_id`` / ``query_id`` with
``text`` and ``title``; NFCorpus' and CORD-19's documents hold their text as ``abstract``, TREC topics as ``title``,
``description`` and ``narrative``) and PyTerrier's frames written as records (``docno`` / ``qid`` with ``text`` /
``query``). Each line's id and text are the first of :data:`DOC_ID_KEYS` / :data:`DOC_TEXT_KEYS` (documents) or
:data:`QUERY_ID_KEYS` / :data:`QUERY_TEXT_KEYS` (queries) it holds; the fields of TREC topics exported this way
(:data:`TOPIC_KEYS`) make a query as those of a ``<top>`` file do (``fields=("title", "desc")``).

TSV files hold ``id<TAB>text`` (or ``id<TAB>title<TAB>text`` for documents, or MS MARCO's documents'
``id<TAB>url<TAB>title<TAB>body``, the url kept as metadata), one record a line, as NFCorpus and MS MARCO ship them.
A first line that names its columns (``id<TAB>text``, ``pid<TAB>passage``, ``qid<TAB>query``, ir_datasets'
``doc_id<TAB>text<TAB>title``, ...) is a header, not a record, and decides which column is which (a header naming a
column of no known name is an error naming it); without one, the number of columns most lines have decides
(``id<TAB>text`` with one stray tab in a text stays ``id<TAB>text``). Comma-separated documents with such a header
(pandas' ``to_csv``) are read by :func:`read_csv_documents`.

Quotes in a TSV file are text, one record a line (MS MARCO's passages start with ``"`` and are not quoted), except in
a file a csv writer wrote: a header line, then fields quoted as pandas' ``to_csv(sep="\t")`` quotes them (a field
holding a tab, a line end or a ``"`` in ``"..."``, its quotes doubled), every record written back so giving the file
itself. Such a file is read as the csv module reads it, its quoted fields holding tabs and line ends. A file quoted
otherwise (no header line, every field quoted) is read one record a line, quotes kept, and a text broken over lines
is an error that says so: write such a file with commas (a CSV file).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from features.collections._base import Collection, Queries, as_names, check_id, dedupe, iter_lines, read_text
from features.errors import CollectionFormatError

__all__ = ["DOC_COLUMNS", "DOC_ID_KEYS", "DOC_TEXT_KEYS", "ID_COLUMNS", "QUERY_COLUMNS", "QUERY_ID_KEYS",
           "QUERY_TEXT_KEYS", "TOPIC_KEYS", "read_beir_corpus", "read_beir_queries", "read_csv_documents",
           "read_tsv_documents", "read_tsv_queries"]

log = logging.getLogger(__name__)

#: Keys of a document's id and body text in JSON lines, by precedence (BEIR, Pyserini, ir_datasets, PyTerrier).
DOC_ID_KEYS = ("_id", "id", "doc_id", "docno")
DOC_TEXT_KEYS = ("text", "contents", "body", "abstract")
#: Keys of a query's id and text in JSON lines, by precedence (BEIR, ir_datasets, PyTerrier, Pyserini).
QUERY_ID_KEYS = ("_id", "query_id", "qid", "id")
QUERY_TEXT_KEYS = ("text", "query", "contents", "title")
#: The JSON keys of a TREC topic's fields (``ir_datasets export ... queries``), by the names of ``<top>`` fields.
TOPIC_KEYS = {"title": "title", "desc": "description", "narr": "narrative"}


def _json_lines(path: str | Path, errors: str) -> list[tuple[int, dict]]:
    out = []
    for lineno, line in iter_lines(read_text(path, errors=errors)):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise CollectionFormatError(f"invalid JSON ({e.msg})", str(path), lineno, token=line[:60]) from None
        if not isinstance(obj, dict):
            raise CollectionFormatError("each line must be a JSON object", str(path), lineno, token=line[:60])
        out.append((lineno, obj))
    if errors == "replace":  # a broken '\ud800' escape: U+FFFD, as an invalid UTF-8 byte is replaced
        replaced = 0
        for _, obj in out:
            for key, value in obj.items():
                if isinstance(value, str) and _lone_surrogate(value) is not None:
                    obj[key] = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
                    replaced += 1
        if replaced:
            log.warning("%s: replaced lone UTF-16 surrogates (broken \\u escapes) with U+FFFD in %d value(s)", path,
                        replaced)
    return out


def _lone_surrogate(text: str) -> int | None:
    """The position of the first lone UTF-16 surrogate in ``text`` (which UTF-8 cannot encode), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return e.start
    return None


def _value(path: str | Path, lineno: int, obj: dict, keys: tuple[str, ...], what: str | None) -> str:
    """The value of the first of ``keys`` in ``obj``; when it has none, an error naming them (or ``""`` when
    ``what`` is None)."""
    for key in keys:
        if key in obj and obj[key] is not None:
            return _scalar(path, lineno, obj, key)
    if what is None:
        return ""
    raise CollectionFormatError(f"no {what} key ({_names(keys)}); the record's keys are "
                                f"{', '.join(map(repr, obj)) or 'none'}", str(path), lineno, token=json.dumps(obj)[:60])


def _scalar(path: str | Path, lineno: int, obj: dict, key: str) -> str:
    """``obj[key]`` as text: a string, or a number's or boolean's JSON spelling; a list or an object is an error (its
    Python repr would be indexed as the text, brackets and quotes included)."""
    value = obj[key]
    if isinstance(value, (list, dict)):
        raise CollectionFormatError(f"{key!r} is a JSON {'array' if isinstance(value, list) else 'object'}, not a "
                                    "string (join its parts into one string)", str(path), lineno,
                                    token=json.dumps(value)[:60])
    if isinstance(value, str):
        at = _lone_surrogate(value)
        if at is not None:  # a broken '\ud800' escape: no text a tokenizer can take, nor UTF-8 writes
            raise CollectionFormatError(f"{key!r} holds a lone UTF-16 surrogate (U+{ord(value[at]):04X}) at character "
                                        f"{at}, from a broken \\u escape", str(path), lineno,
                                        token=value.encode("utf-8", "backslashreplace").decode()[:60],
                                        fix={"encoding_errors": "replace"}, hint="to substitute U+FFFD")
        return value
    return json.dumps(value)


def _names(keys: tuple[str, ...]) -> str:
    """``'a', 'b' or 'c'``."""
    return ", ".join(repr(k) for k in keys[:-1]) + f" or {keys[-1]!r}"


def read_beir_corpus(path: str | Path, *, errors: str = "strict", duplicates: str = "error") -> Collection:
    """Read a BEIR ``corpus.jsonl`` (or another toolkit's JSON-lines documents: module doc) into ``title`` and
    ``body`` fields. A line without an id key, or with neither a text key (:data:`DOC_TEXT_KEYS`) nor a ``title``
    (a misspelt ``"txt"`` would leave the document silently empty), is an error naming its keys; a record with a
    title alone has an empty body, as BEIR's loader reads it, and so has an empty text (``"text": ""``).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "corpus.jsonl")
    >>> _ = open(p, "w").write('{"_id": "d1", "title": "T", "text": "body"}\\n')
    >>> read_beir_corpus(p).fields
    {'title': ['T'], 'body': ['body']}
    """
    rows = _json_lines(path, errors)
    ids = [check_id(_value(path, n, o, DOC_ID_KEYS, "document id"), "document id", path, n) for n, o in rows]
    for n, o in rows:  # a misspelt key ("txt") would leave the document silently empty
        if not any(k in o for k in (*DOC_TEXT_KEYS, "title")):
            raise CollectionFormatError(
                f"no document text key ({_names(DOC_TEXT_KEYS)}) and no title; the record's keys are "
                f"{', '.join(map(repr, o))} (an empty body is written \"text\": \"\")", str(path), n,
                token=json.dumps(o)[:60])
    cols = {"title": [_scalar(path, n, o, "title") if o.get("title") is not None else "" for n, o in rows],
            "body": [_value(path, n, o, DOC_TEXT_KEYS, None) for n, o in rows]}
    ids, cols = dedupe(ids, cols, duplicates, str(path), lines=[n for n, _ in rows])
    return Collection(tuple(ids), cols, name=str(path))


def read_beir_queries(path: str | Path, *, errors: str = "strict",
                      fields: str | Sequence[str] | None = None) -> Queries:
    """Read a BEIR ``queries.jsonl`` (or another toolkit's JSON-lines queries: module doc); a line without an id
    or a text key is an error. ``fields`` (``"title"``, ``"desc"``, ``"narr"``; a str is one field) makes each query
    of those fields of TREC topics exported as JSON lines (:data:`TOPIC_KEYS`), in the order given.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "queries.jsonl")
    >>> _ = open(p, "w").write('{"_id": "1", "text": "wing"}\\n{"qid": "2", "query": "heat"}\\n')
    >>> dict(read_beir_queries(p).items())
    {'1': 'wing', '2': 'heat'}
    """
    rows = _json_lines(path, errors)
    qids = tuple(check_id(_value(path, n, o, QUERY_ID_KEYS, "query id"), "query id", path, n) for n, o in rows)
    if fields is None:
        return Queries(qids, tuple(_value(path, n, o, QUERY_TEXT_KEYS, "query text") for n, o in rows),
                       name=str(path), lines=tuple(n for n, _ in rows))
    fields = as_names(fields)
    unknown = [f for f in fields if f not in TOPIC_KEYS]
    if unknown or not fields:
        raise ValueError(f"topic fields must be one or more of {', '.join(TOPIC_KEYS)}, got "
                         f"{', '.join(map(repr, unknown)) if unknown else 'none'}")
    texts = []
    for n, o in rows:
        if not any(TOPIC_KEYS[f] in o for f in fields):
            plain = next((k for k in QUERY_TEXT_KEYS if k in o), None)  # BEIR's {"_id", "text"}: no topic fields
            raise CollectionFormatError(f"no topic field key ({', '.join(repr(TOPIC_KEYS[f]) for f in fields)})",
                                        str(path), n, token=json.dumps(o)[:60],
                                        hint=None if plain is None else
                                        f"this line's query is its {plain!r}, read when no topic fields are given "
                                        "(topic fields are a TREC topic's: title, desc, narr)")
        texts.append(" ".join(" ".join(_scalar(path, n, o, TOPIC_KEYS[f]).split()) for f in fields
                              if o.get(TOPIC_KEYS[f]) not in (None, "")))
    return Queries(qids, tuple(texts), name=str(path), lines=tuple(n for n, _ in rows))


#: Names a TSV (or CSV) header gives its columns (lowercased), by what they hold: the record's id, and for documents
#: the field each fills (``url`` kept as metadata, ``marked_up_doc`` -- ir_datasets' raw SGML of TREC documents --
#: left out with a note), for queries the text.
ID_COLUMNS = ("id", "_id", "docid", "doc_id", "docno", "pid", "did", "qid", "query_id", "queryid")
DOC_COLUMNS = {"title": "title", "text": "body", "body": "body", "contents": "body", "passage": "body",
               "document": "body", "abstract": "body", "query": "body", "question": "body", "url": "url",
               "marked_up_doc": None}
QUERY_COLUMNS = {"text": "text", "query": "text", "question": "text", "title": "text", "contents": "text",
                 "body": "text", "passage": "text"}
#: Headerless layouts, by their number of columns (the text always last).
_DOC_LAYOUTS = {2: ("id", "body"), 3: ("id", "title", "body"), 4: ("id", "url", "title", "body")}


def _header(names: list[str], known: dict[str, str | None], path: str | Path,
            lineno: int) -> tuple[str | None, ...] | None:
    """What each column of a first line holds when the line is a header (``"id"``, a field name, or None for a
    column left out), else None. A header has one id column (:data:`ID_COLUMNS`) and names every other column by a
    name of ``known``; a line with an id name, another known name and a name of neither is a header with an unknown
    column: an error naming it (the reader cannot tell which column is the text without it)."""
    names = [n.strip().lower() for n in names]
    ids = [n for n in names if n in ID_COLUMNS]
    others = [n for n in names if n not in ID_COLUMNS]
    if len(names) < 2 or len(ids) != 1 or not any(n in known for n in others):
        return None
    unknown = [n for n in others if n not in known]
    if unknown:
        raise CollectionFormatError(
            f"the header names a column the reader does not know (an id: {', '.join(ID_COLUMNS)}; the text: "
            f"{', '.join(known)})", str(path), lineno, token=unknown[0])
    roles = tuple("id" if n in ID_COLUMNS else known[n] for n in names)
    for role in set(roles) - {None}:
        if roles.count(role) > 1:
            same = [n for n, r in zip(names, roles) if r == role]
            raise CollectionFormatError(f"the header names {len(same)} columns that hold the {role} "
                                        f"({', '.join(same)})", str(path), lineno, token=same[1])
    return roles


_QUOTED_FIELD = re.compile(r'(?:^|\t)"', re.M)


def _quoted_records(text: str, path: str | Path,
                    known: dict[str, str | None]) -> list[tuple[int, list[str]]] | None:
    """The ``(first line number, columns)`` of ``text`` read as the csv module reads a tab-separated file, when a
    csv writer wrote it (pandas' ``to_csv(sep="\\t")``: a header line, then records whose fields holding a tab, a
    line end or a ``"`` are quoted, ``"`` doubled) and at least one field is quoted; else None: one record a line.

    Taken as quoted only when the first line names the columns (a header, as pandas writes it) and writing the records
    back with the csv module's minimal quoting gives the file itself, character for character. A text that merely
    starts with a quote (MS MARCO's ``"The" ...``, which has no header, or a title ``"Dune"``, which no writer
    would quote) fails that, so a file of unquoted fields reads as it always did."""
    if not _QUOTED_FIELD.search(text):
        return None
    head = next((line for line in iter_lines(text[:65536]) if line[1].strip()), None)  # (a header is short)
    try:
        header = head is not None and '"' not in head[1] and _header(head[1].split("\t"), known, path, 1) is not None
    except CollectionFormatError:  # (said by the line-by-line reading, as before)
        header = False
    if not header:
        return None
    end = "\r\n" if text.find("\r\n") == text.find("\n") - 1 >= 0 else "\n"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", strict=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator=end)
    out: list[tuple[int, list[str]]] = []
    pos, start, quoted = 0, 1, False
    limit = csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # (as read_csv_documents: a long document)
    try:
        for parts in reader:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(parts)
            written = buffer.getvalue()
            if text.startswith(written, pos):
                pos += len(written)
            elif pos + len(written) - len(end) == len(text) and text.endswith(written[:-len(end)]):
                pos = len(text)  # the last line without its line end
            else:
                return None  # not as a writer writes it
            quoted = quoted or written != "\t".join(parts) + end
            out.append((start, parts))
            start = reader.line_num + 1
    except csv.Error:  # a quote inside a field that a writer would have quoted (strict=True), a quote never closed
        return None
    finally:
        csv.field_size_limit(limit)
    return out if quoted else None


def _tsv(path: str | Path, errors: str, max_cols: int,
         known: dict[str, str | None]) -> tuple[tuple[str | None, ...] | None, list[tuple[int, list[str]]]]:
    """The header's column roles (or None) and the ``(line number, columns)`` of the records: a file a csv writer
    quoted (:func:`_quoted_records`) read as the csv module reads it, any other one record a line."""
    out = []
    header = None
    first = True
    text = read_text(path, errors=errors)
    records = _quoted_records(text, path, known)
    if records is not None:
        log.info("%s: fields quoted as pandas' to_csv(sep='\\t') quotes them (a quoted field may hold tabs, line "
                 "ends and doubled quotes): read as the csv module reads them", path)
    for lineno, parts in records if records is not None else ((n, line.split("\t")) for n, line in iter_lines(text)):
        if not "\t".join(parts).strip():
            continue
        if first:
            first = False
            header = _header(parts, known, path, lineno)
            if header is not None:
                log.info("%s: line %d names the columns (%s): a header, not a record", path, lineno,
                         "\t".join(parts).strip())
                continue
        out.append((lineno, parts))
    if header is None and out:  # more columns than any layout on most lines: not a tab inside a text
        width = _common_width(out)
        if width > max_cols:
            lineno, parts = next(r for r in out if len(r[1]) == width)
            raise CollectionFormatError(f"expected at most {max_cols} tab-separated columns, got {width}", str(path),
                                        lineno, token="\t".join(parts)[:60])
    return header, out


def _common_width(rows: list[tuple[int, list[str]]]) -> int:
    """The number of columns most lines have (lines holding only an id aside; a tie goes to the earliest), or 1."""
    counts = Counter(len(p) for _, p in rows if len(p) > 1)
    firsts: dict[int, int] = {}
    for i, (_, p) in enumerate(rows):
        firsts.setdefault(len(p), i)
    return max(counts, key=lambda w: (counts[w], -firsts[w])) if counts else 1


def _quote_hint(rows: list[tuple[int, list[str]]]) -> str | None:
    """What to do about a text broken over lines when fields start with ``"`` (a quoted field spanning lines), or
    None."""
    if not any(p.startswith('"') for _, parts in rows for p in parts):
        return None
    return ('a "quoted" field spanning lines? quotes in a TSV are read only in a file a csv writer wrote whole '
            '(pandas\' to_csv(sep="\\t"), with its header line); any other is read one record a line, quotes kept: '
            "write it with commas (to_csv without sep=: a CSV file, read as such) or each record on one line")


def _layout(path: str | Path, header: tuple[str | None, ...] | None, rows: list[tuple[int, list[str]]],
            layouts: dict[int, tuple[str, ...]]) -> tuple[str | None, ...]:
    """The column roles of the records (``"id"``, a field, None for a column left out); ``rows`` are cut to them.

    With a header, its columns. Without, the number of columns most lines have (lines holding only an id aside;
    a tie goes to the first line's) picks one of ``layouts``: one stray tab inside one text must not turn a file of
    ``id<TAB>text`` into one of ``id<TAB>title<TAB>text``, a title column for every document. A line with more
    columns than that has a tab inside its text: the extra columns are read as part of the last column when that one
    is the text (or a column left out), with a warning naming the first such line, else it is an error naming it. A
    line with fewer columns: an id alone is an empty record; ``id<TAB>text`` in a file of ``id<TAB>title<TAB>text``
    keeps its text with an empty title, with a warning; any other is an error naming the line.
    """
    if header is None:
        width = _common_width(rows)
        width = width if width in layouts else min(layouts)
        roles: tuple[str | None, ...] = layouts[width]
    else:
        roles, width = header, len(header)
    shown = ", ".join(r or "-" for r in roles)
    wide, short, alone = [], [], []
    for k, (lineno, parts) in enumerate(rows):
        if len(parts) > width:
            if roles[-1] not in (None, "body", "text"):
                raise CollectionFormatError(f"{len(parts)} tab-separated columns, the header names {width} ({shown}) "
                                            f"and the last is not the text: a tab inside a text?", str(path), lineno,
                                            token="\t".join(parts)[:60])
            wide.append(lineno)
            rows[k] = (lineno, parts[:width - 1] + ["\t".join(parts[width - 1:])])
        elif 1 < len(parts) < width:
            if header is None and width == 4:
                raise CollectionFormatError("a file of 4-column lines (id, url, title, body: MS MARCO's documents) "
                                            f"with a line of {len(parts)}", str(path), lineno, token=parts[0])
            if header is not None:
                raise CollectionFormatError(f"{len(parts)} tab-separated columns, the header names {width} ({shown})",
                                            str(path), lineno, token="\t".join(parts)[:60])
            short.append(lineno)
            rows[k] = (lineno, [parts[0], "", parts[1]])
        elif len(parts) == 1:
            if width > 1 and len(parts[0].split()) > 1:  # an id alone has no spaces: a text that lost its tab
                raise CollectionFormatError(f"no tab on the line, in a file of {width} tab-separated columns "
                                            f"({shown}): a line of one column is an id alone, which holds no spaces",
                                            str(path), lineno, token=parts[0].strip()[:60], hint=_quote_hint(rows))
            if width > 1 and header is not None:  # pandas' to_csv(sep="\t") quotes a text holding a newline
                raise CollectionFormatError(f"no tab on the line, the header names {width} columns ({shown}): a text "
                                            "broken over lines (a quoted newline)? write each record on one line",
                                            str(path), lineno, token=parts[0].strip()[:60], hint=_quote_hint(rows))
            if width > 1:
                alone.append((lineno, parts[0].strip()))
            rows[k] = (lineno, parts + [""] * (width - 1))
    if alone:  # an empty record, or the last word of a text broken over lines: said, never silent
        log.warning("%s:%d: %d line(s) of an id alone, read as empty records (first: %r): a text broken over lines "
                    "would be cut there", path, alone[0][0], len(alone), alone[0][1][:40])
    if wide:
        log.warning("%s:%d: %d line(s) of more tab-separated columns than the file's %d (%s): a tab inside the text, "
                    "read as part of the %s", path, wide[0], len(wide), width, shown, roles[-1] or "last column")
    if short:
        log.warning("%s:%d: %d line(s) of 2 tab-separated columns in a file of 3 (%s): read as id and text, with an "
                    "empty title", path, short[0], len(short), shown)
    if header is None:
        log.info("%s: %d record(s) of %d tab-separated columns read as %s", path, len(rows), width, shown)
    return roles


def read_tsv_documents(path: str | Path, *, errors: str = "strict", duplicates: str = "error") -> Collection:
    """Read ``id<TAB>text`` (field ``body``), ``id<TAB>title<TAB>text`` or ``id<TAB>url<TAB>title<TAB>body`` lines
    (module docstring), or the columns a header names.

    A first line naming the columns (``doc_id<TAB>text<TAB>title``, ``pid<TAB>passage``, ir_datasets' robust04
    export ``doc_id<TAB>title<TAB>body<TAB>marked_up_doc``) decides which column is which, by the names of
    :data:`ID_COLUMNS` and :data:`DOC_COLUMNS` (``url`` is kept as metadata, ``marked_up_doc`` left out); a header
    naming a column outside them is an error naming it. Without a header the number of columns decides, as most
    lines have it (:func:`_layout`: a stray tab inside one text is read as part of that text, with a warning). A file
    pandas' ``to_csv(sep="\\t")`` wrote (a header, fields quoted where they hold a tab, a line end or a ``"``) is
    read as the csv module reads it; quotes in any other file are text (module docstring).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "docs.tsv")
    >>> _ = open(p, "w").write("MED-1\\tstatin breast cancer\\nMED-2\\t\\n")
    >>> c = read_tsv_documents(p)
    >>> c.doc_ids, c.fields
    (('MED-1', 'MED-2'), {'body': ['statin breast cancer', '']})
    >>> _ = open(p, "w").write("doc_id\\ttext\\ttitle\\nd1\\tthe body\\tThe title\\n")
    >>> read_tsv_documents(p).fields
    {'title': ['The title'], 'body': ['the body']}
    """
    header, rows = _tsv(path, errors, 4, DOC_COLUMNS)
    roles = _layout(path, header, rows, _DOC_LAYOUTS)
    return _documents(path, roles, rows, duplicates)


def _record_id(parts: list[str], column: int, what: str, path: str | Path, lineno: int) -> str:
    value = parts[column].strip()
    if not value:
        raise CollectionFormatError("empty id", str(path), lineno, token="\t".join(parts)[:60])
    return check_id(value, what, path, lineno)


def _documents(path: str | Path, roles: tuple[str | None, ...], rows: list[tuple[int, list[str]]],
               duplicates: str) -> Collection:
    """The records cut to ``roles`` (``"id"``, ``"title"``, ``"body"``, ``"url"`` or None) as a collection."""
    if "title" not in roles and "body" not in roles:
        raise CollectionFormatError(f"no text column among the columns ({', '.join(r or '-' for r in roles)}): "
                                    "name one title or text", str(path))
    if None in roles:
        log.info("%s: column(s) %s left out (not indexed)", path, ", ".join(str(i + 1) for i, r in enumerate(roles)
                                                                       if r is None))
    at = {role: i for i, role in enumerate(roles) if role is not None}
    ids = [_record_id(parts, at["id"], "document id", path, lineno) for lineno, parts in rows]
    cols = {f: [parts[at[f]] for _, parts in rows] for f in ("title", "body") if f in at}
    meta = {"url": [parts[at["url"]] for _, parts in rows]} if "url" in at else {}
    ids, kept = dedupe(ids, {**cols, **meta}, duplicates, str(path), lines=[n for n, _ in rows])
    return Collection(tuple(ids), {f: kept[f] for f in cols}, {f: kept[f] for f in meta}, name=str(path))


def read_tsv_queries(path: str | Path, *, errors: str = "strict") -> Queries:
    """Read ``qid<TAB>text`` lines (a first line naming the columns, ``qid<TAB>query``, ``text<TAB>query_id``,
    decides which is which)."""
    header, rows = _tsv(path, errors, 2, QUERY_COLUMNS)
    roles = _layout(path, header, rows, {2: ("id", "text")})
    at = {role: i for i, role in enumerate(roles) if role is not None}
    return Queries(tuple(_record_id(parts, at["id"], "query id", path, lineno) for lineno, parts in rows),
                   tuple(parts[at["text"]] for _, parts in rows), name=str(path),
                   lines=tuple(n for n, _ in rows))


def read_csv_documents(path: str | Path, *, errors: str = "strict", duplicates: str = "error") -> Collection:
    """Read comma-separated documents (a pandas ``to_csv`` export: RFC 4180 quoting, texts may span lines) whose
    first line names the columns, as a TSV header does (:func:`read_tsv_documents`: ``docno,title,text``). A file
    without such a header, or a record of another number of columns, is an error naming the line.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "docs.csv")
    >>> _ = open(p, "w").write('docno,title,text\\nd1,"Wings, flutter","a body\\non two lines"\\n')
    >>> read_csv_documents(p).fields
    {'title': ['Wings, flutter'], 'body': ['a body\\non two lines']}
    """
    text = read_text(path, errors=errors)
    # strict: a quote never closed took the rest of the file into one document, silently (trial t72), and '"a"b' was
    # read as 'ab'; pandas refuses both
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    roles = None
    rows: list[tuple[int, list[str]]] = []
    start = 1
    records: list[tuple[int, list[str]]] = []
    # a document may be longer than the module's 128 KiB default (the limit is a C long: 32 bits on Windows)
    limit = csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        for parts in reader:
            records.append((start, parts))
            start = reader.line_num + 1
    except csv.Error as e:
        why = ("a quoted field opened in this record is never closed (a quote missing, or one too many)"
               if "unexpected end of data" in str(e) else f"not CSV ({e})")
        raise CollectionFormatError(why, str(path), start) from None
    finally:
        csv.field_size_limit(limit)
    for lineno, parts in records:
        if not parts or not any(p.strip() for p in parts):
            continue
        if roles is None:
            index = not parts[0].strip() and len(parts) > 2  # pandas' to_csv writes its index first, unnamed
            roles = _header(parts[1:] if index else parts, DOC_COLUMNS, path, lineno)
            if roles is not None and index:
                roles = (None, *roles)
            if roles is None:
                raise CollectionFormatError(
                    f"a CSV file of documents needs a first line naming its columns (an id: {', '.join(ID_COLUMNS)}; "
                    f"the text: {', '.join(DOC_COLUMNS)})", str(path), lineno, token=",".join(parts)[:60])
            continue
        if len(parts) != len(roles):
            raise CollectionFormatError(f"{len(parts)} comma-separated columns, the header names {len(roles)}",
                                        str(path), lineno, token=",".join(parts)[:60])
        rows.append((lineno, parts))
    if roles is None:
        raise CollectionFormatError("empty file: no documents", str(path))
    return _documents(path, roles, rows, duplicates)
