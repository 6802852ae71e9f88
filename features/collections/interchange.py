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
A first line that names its columns (``id<TAB>text``, ``pid<TAB>passage``, ``qid<TAB>query``, ...) is a header, not
a record.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from features.collections._base import Collection, Queries, check_id, dedupe, iter_lines, read_text
from features.errors import CollectionFormatError

__all__ = ["DOC_ID_KEYS", "DOC_TEXT_KEYS", "QUERY_ID_KEYS", "QUERY_TEXT_KEYS", "TOPIC_KEYS", "read_beir_corpus",
           "read_beir_queries", "read_tsv_documents", "read_tsv_queries"]

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
    return out


def _value(path: str | Path, lineno: int, obj: dict, keys: tuple[str, ...], what: str | None) -> str:
    """The value of the first of ``keys`` in ``obj``; when it has none, an error naming them (or ``""`` when
    ``what`` is None)."""
    for key in keys:
        if key in obj and obj[key] is not None:
            return str(obj[key])
    if what is None:
        return ""
    raise CollectionFormatError(f"no {what} key ({_names(keys)}); the record's keys are "
                                f"{', '.join(map(repr, obj)) or 'none'}", str(path), lineno, token=json.dumps(obj)[:60])


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
    cols = {"title": [str(o.get("title") or "") for _, o in rows],
            "body": [_value(path, n, o, DOC_TEXT_KEYS, None) for n, o in rows]}
    ids, cols = dedupe(ids, cols, duplicates, str(path))
    return Collection(tuple(ids), cols, name=str(path))


def read_beir_queries(path: str | Path, *, errors: str = "strict", fields: tuple[str, ...] | None = None) -> Queries:
    """Read a BEIR ``queries.jsonl`` (or another toolkit's JSON-lines queries: module doc); a line without an id
    or a text key is an error. ``fields`` (``"title"``, ``"desc"``, ``"narr"``) makes each query of those fields of
    TREC topics exported as JSON lines (:data:`TOPIC_KEYS`), in the order given.

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
                       name=str(path))
    unknown = [f for f in fields if f not in TOPIC_KEYS]
    if unknown or not fields:
        raise ValueError(f"topic fields must be one or more of {', '.join(TOPIC_KEYS)}, got "
                         f"{', '.join(map(repr, unknown)) if unknown else 'none'}")
    texts = []
    for n, o in rows:
        if not any(TOPIC_KEYS[f] in o for f in fields):
            raise CollectionFormatError(f"no topic field key ({', '.join(repr(TOPIC_KEYS[f]) for f in fields)})",
                                        str(path), n, token=json.dumps(o)[:60])
        texts.append(" ".join(" ".join(str(o[TOPIC_KEYS[f]]).split()) for f in fields if o.get(TOPIC_KEYS[f])))
    return Queries(qids, tuple(texts), name=str(path))


#: Column names that make a TSV file's first line a header (lowercased): ids, then text columns.
_HEADER_IDS = {"id", "_id", "pid", "docid", "doc_id", "docno", "qid", "query_id", "queryid", "did"}
_HEADER_TEXTS = {"text", "passage", "query", "contents", "body", "title", "url", "document", "question"}


def _is_header(parts: list[str]) -> bool:
    names = [p.strip().lower() for p in parts]
    return len(names) > 1 and names[0] in _HEADER_IDS and all(n in _HEADER_TEXTS for n in names[1:])


def _tsv(path: str | Path, errors: str, max_cols: int, what: str) -> list[list[str]]:
    out = []
    first = True
    for lineno, line in iter_lines(read_text(path, errors=errors)):
        if not line.strip():
            continue
        if first:
            first = False
            if _is_header(line.split("\t")):
                log.info("%s: line %d names the columns (%s): a header, not a record", path, lineno, line.strip())
                continue
        parts = line.split("\t")
        if len(parts) > max_cols:
            raise CollectionFormatError(
                f"expected at most {max_cols} tab-separated columns, got {len(parts)}", str(path), lineno,
                token=line[:60],
            )
        if not parts[0].strip():
            raise CollectionFormatError("empty id", str(path), lineno, token=line[:60])
        parts[0] = check_id(parts[0].strip(), what, path, lineno)
        out.append(parts)
    return out


def read_tsv_documents(path: str | Path, *, errors: str = "strict", duplicates: str = "error") -> Collection:
    """Read ``id<TAB>text`` (field ``body``), ``id<TAB>title<TAB>text`` or ``id<TAB>url<TAB>title<TAB>body`` lines
    (module docstring).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "docs.tsv")
    >>> _ = open(p, "w").write("MED-1\\tstatin breast cancer\\nMED-2\\t\\n")
    >>> c = read_tsv_documents(p)
    >>> c.doc_ids, c.fields
    (('MED-1', 'MED-2'), {'body': ['statin breast cancer', '']})
    """
    rows = _tsv(path, errors, 4, "document id")
    ids = [r[0] for r in rows]
    if any(len(r) == 4 for r in rows):  # MS MARCO's documents: id, url, title, body
        short = next(i for i, r in enumerate(rows) if len(r) != 4) if any(len(r) != 4 for r in rows) else None
        if short is not None:
            raise CollectionFormatError("a file of 4-column lines (id, url, title, body: MS MARCO's documents) "
                                        f"with a line of {len(rows[short])}", str(path), token=rows[short][0])
        cols = {"title": [r[2] for r in rows], "body": [r[3] for r in rows]}
        ids, kept = dedupe(ids, {**cols, "url": [r[1] for r in rows]}, duplicates, str(path))
        return Collection(tuple(ids), {"title": kept["title"], "body": kept["body"]}, {"url": kept["url"]},
                          name=str(path))
    if any(len(r) == 3 for r in rows):
        cols = {"title": [r[1] if len(r) == 3 else "" for r in rows],
                "body": [r[-1] if len(r) > 1 else "" for r in rows]}
    else:
        cols = {"body": [r[1] if len(r) > 1 else "" for r in rows]}
    ids, cols = dedupe(ids, cols, duplicates, str(path))
    return Collection(tuple(ids), cols, name=str(path))


def read_tsv_queries(path: str | Path, *, errors: str = "strict") -> Queries:
    """Read ``qid<TAB>text`` lines."""
    rows = _tsv(path, errors, 2, "query id")
    return Queries(tuple(r[0] for r in rows), tuple(r[1] if len(r) > 1 else "" for r in rows), name=str(path))
