"""Interchange formats: BEIR (``corpus.jsonl``, ``queries.jsonl``, ``qrels/*.tsv``) and ``id<TAB>text`` files.

BEIR (Thakur et al., 2021) stores one JSON object per line: documents as ``{"_id", "title", "text"}``, queries as
``{"_id", "text"}``. TSV files hold ``id<TAB>text`` (or ``id<TAB>title<TAB>text`` for documents), one record a
line, as NFCorpus and MS MARCO ship them.
"""

from __future__ import annotations

import json
from pathlib import Path

from features.collections._base import Collection, Queries, dedupe, iter_lines, read_text
from features.errors import CollectionFormatError

__all__ = ["read_beir_corpus", "read_beir_queries", "read_tsv_documents", "read_tsv_queries"]


def _json_lines(path: str | Path, errors: str, required: tuple[str, ...]) -> list[tuple[int, dict]]:
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
        for key in required:
            if key not in obj:
                raise CollectionFormatError(f"missing key {key!r}", str(path), lineno, token=line[:60])
        out.append((lineno, obj))
    return out


def read_beir_corpus(path: str | Path, *, errors: str = "strict", duplicates: str = "error") -> Collection:
    """Read a BEIR ``corpus.jsonl`` into ``title`` and ``body`` fields.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "corpus.jsonl")
    >>> _ = open(p, "w").write('{"_id": "d1", "title": "T", "text": "body"}\\n')
    >>> read_beir_corpus(p).fields
    {'title': ['T'], 'body': ['body']}
    """
    rows = _json_lines(path, errors, ("_id",))
    ids = [str(o["_id"]) for _, o in rows]
    cols = {"title": [str(o.get("title") or "") for _, o in rows], "body": [str(o.get("text") or "") for _, o in rows]}
    ids, cols = dedupe(ids, cols, duplicates, str(path))
    return Collection(tuple(ids), cols, name=str(path))


def read_beir_queries(path: str | Path, *, errors: str = "strict") -> Queries:
    """Read a BEIR ``queries.jsonl``."""
    rows = _json_lines(path, errors, ("_id", "text"))
    return Queries(tuple(str(o["_id"]) for _, o in rows), tuple(str(o["text"]) for _, o in rows), name=str(path))


def _tsv(path: str | Path, errors: str, max_cols: int) -> list[list[str]]:
    out = []
    for lineno, line in iter_lines(read_text(path, errors=errors)):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) > max_cols:
            raise CollectionFormatError(
                f"expected at most {max_cols} tab-separated columns, got {len(parts)}", str(path), lineno,
                token=line[:60],
            )
        if not parts[0].strip():
            raise CollectionFormatError("empty id", str(path), lineno, token=line[:60])
        parts[0] = parts[0].strip()
        out.append(parts)
    return out


def read_tsv_documents(path: str | Path, *, errors: str = "strict", duplicates: str = "error") -> Collection:
    """Read ``id<TAB>text`` (field ``body``) or ``id<TAB>title<TAB>text`` lines.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "docs.tsv")
    >>> _ = open(p, "w").write("MED-1\\tstatin breast cancer\\nMED-2\\t\\n")
    >>> c = read_tsv_documents(p)
    >>> c.doc_ids, c.fields
    (('MED-1', 'MED-2'), {'body': ['statin breast cancer', '']})
    """
    rows = _tsv(path, errors, 3)
    ids = [r[0] for r in rows]
    if any(len(r) == 3 for r in rows):
        cols = {"title": [r[1] if len(r) == 3 else "" for r in rows],
                "body": [r[-1] if len(r) > 1 else "" for r in rows]}
    else:
        cols = {"body": [r[1] if len(r) > 1 else "" for r in rows]}
    ids, cols = dedupe(ids, cols, duplicates, str(path))
    return Collection(tuple(ids), cols, name=str(path))


def read_tsv_queries(path: str | Path, *, errors: str = "strict") -> Queries:
    """Read ``qid<TAB>text`` lines."""
    rows = _tsv(path, errors, 2)
    return Queries(tuple(r[0] for r in rows), tuple(r[1] if len(r) > 1 else "" for r in rows), name=str(path))
