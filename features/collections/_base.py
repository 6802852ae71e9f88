"""The in-memory records every reader returns, and the text decoding they share.

A :class:`Collection` is a list of documents, each with one or more text fields (``title``, ``body``, ...);
:class:`Queries` is a list of (query id, text); relevance judgments and runs are pandas DataFrames with the columns
of :mod:`ltr.io.trec` (``qid``, ``docno``, ``rel`` / ``rank``, ``score``), so the two layers exchange them freely.
Ids are always strings: numeric-looking ids are normalised where a format pads them (CACM's ``01``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features.errors import CollectionFormatError
from ltr.io.files import read_text as ltr_read_text
from ltr.metrics.trec import checked_ids

__all__ = ["Collection", "Queries", "TestCollection", "as_names", "check_id", "dedupe", "iter_lines",
           "normalise_numeric_id", "read_text", "standard_columns"]

#: Column names of the toolkits users bring frames from (PyTerrier, ir_datasets, Pyserini), by the name used here.
COLUMN_ALIASES = {"qid": ("qid", "query_id"), "docno": ("docno", "doc_id", "docid"),
                  "rel": ("rel", "label", "relevance"), "text": ("text", "query"), "score": ("score",),
                  "rank": ("rank",)}


#: What a missing id is refused with, for every input of the feature layer (queries have no document id).
ID_NEED = "every row needs its ids"


def standard_columns(frame, required: Sequence[str], optional: Sequence[str] = (), *, what: str):
    """``frame`` with its columns under the names used here (``qid``, ``docno``, ``rel``, ``text``, ...), taken
    from the names PyTerrier (``label``, ``query``) and ir_datasets (``query_id``, ``doc_id``, ``relevance``) use,
    and the ids as strings (``pd.read_csv`` reads ``1`` as an integer, which matched no query id; a column with a
    gap holds floats, ``1.0``, read as ``'1'`` as :func:`ltr.metrics.trec.checked_ids` reads them); a missing
    required column, a missing id or a fractional one is a ValueError naming it.

    Examples
    --------
    >>> import pandas as pd
    >>> standard_columns(pd.DataFrame({"query_id": [1], "doc_id": ["d"], "relevance": [2]}), ["qid", "docno", "rel"],
    ...                  what="qrels").to_dict("records")
    [{'qid': '1', 'docno': 'd', 'rel': 2}]
    """
    found = list(frame.columns)
    out, given = {}, {}
    for name in (*required, *optional):
        column = next((c for c in COLUMN_ALIASES.get(name, (name,)) if c in found), None)
        if column is None:
            if name in required:
                names = " / ".join(repr(c) for c in COLUMN_ALIASES.get(name, (name,)))
                raise ValueError(f"{what} need a {names} column; the DataFrame has {found}")
            continue
        out[name], given[name] = frame[column].to_numpy(), str(column)
    ids = [name for name in ("qid", "docno") if name in out]
    # 1.0 is '1' and a missing id an error, as evaluate_run reads them
    result = checked_ids(pd.DataFrame(out), what, ids, shown=given, need=ID_NEED)
    for name in (*ids, "text"):
        if name in result:
            result[name] = result[name].astype(str)
    result.attrs.update(frame.attrs)  # the file it was read from, for messages naming its lines
    return result

log = logging.getLogger(__name__)


def read_text(path: str | Path, *, errors: str = "strict") -> str:
    """Whole file as text: UTF-8, gzip transparently decompressed (recognised by its first two bytes, whatever the
    name: a ``.gz`` file holding plain text is read as plain text).

    Parameters
    ----------
    path : str or Path
    errors : {"strict", "replace"}
        ``"strict"`` raises :class:`~features.errors.CollectionFormatError` naming the file and the byte offset of
        the first invalid byte (in the decompressed stream); ``"replace"`` substitutes U+FFFD and logs a warning
        with the number of replaced bytes.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.txt")
    >>> _ = open(p, "wb").write(b"caf\\xc3\\xa9")
    >>> read_text(p)
    'café'
    """
    try:
        return ltr_read_text(path, errors=errors, error=CollectionFormatError)
    except FileNotFoundError:
        raise CollectionFormatError("file not found", str(path)) from None
    except IsADirectoryError:
        raise CollectionFormatError("is a folder, not a file", str(path)) from None


_ID_BREAK = re.compile(r"[\s\x00]")


#: The zero-width non-joiner and joiner, which Persian and Indic spellings and emoji sequences need: between two
#: characters of such scripts they shape what shows, and are part of the id; beside ASCII or alone they show nothing.
_JOINERS = ("\u200c", "\u200d")


def _joins(value: str, i: int) -> bool:
    return value[i] in _JOINERS and 0 < i < len(value) - 1 and not value[i - 1].isascii() and not value[i + 1].isascii()


def check_id(value: str, what: str, path: str | Path, line: int | None) -> str:
    """``value``, when it can be a document or query id: not empty, without whitespace or NUL, which the TREC run
    and qrels files (whitespace-separated columns) and the LETOR ``#docid`` comments it goes to cannot hold. Otherwise
    a :class:`~features.errors.CollectionFormatError` naming the file, the line (of the record) and the id, raised as
    the collection is read, not after the index and features are built.

    Examples
    --------
    >>> check_id("MED-1", "document id", "docs.tsv", 1)
    'MED-1'
    >>> try:
    ...     check_id("doc 1", "document id", "docs.tsv", 3)
    ... except ValueError as e:
    ...     print(e)
    docs.tsv:3: document id 'doc 1' contains whitespace, which run, qrels and LETOR files cannot hold
    """
    if value and not _ID_BREAK.search(value):
        if "\ufeff" in value:  # invisible: a judgment of 'd2' would never match '\ufeffd2'
            raise CollectionFormatError(f"{what} {value[:60]!r} holds a byte-order mark (U+FEFF), invisible in an "
                                        "editor: two files joined with cat, the second saved with a BOM? remove it",
                                        str(path), line)
        hidden = None if value.isascii() else next((c for i, c in enumerate(value) if unicodedata.category(c) == "Cf"
                                                     and not _joins(value, i)), None)
        if hidden is not None:  # a zero-width space, a direction mark, a soft hyphen: 'd\u200b4' shown as 'd4' (t61)
            raise CollectionFormatError(f"{what} {value[:60]!r} holds U+{ord(hidden):04X} "
                                        f"({unicodedata.name(hidden, 'a format character')}), invisible in an editor: "
                                        "a judgment or run naming the id as it shows would never match it; remove it",
                                        str(path), line)
        return value
    problem = "is empty" if not value else "contains whitespace" if re.search(r"\s", value) else "contains NUL"
    raise CollectionFormatError(f"{what} {value[:60]!r} {problem}, which run, qrels and LETOR files cannot hold",
                                str(path), line)


def as_names(value: str | Iterable[str]) -> tuple[str, ...]:
    """``value`` as a tuple of names: a str is one name, not its letters (``"title"`` is ``("title",)``), as a
    feature set's ``fields = "body"`` is one field.

    >>> as_names("title"), as_names(["title", "desc"])
    (('title',), ('title', 'desc'))
    """
    return (value,) if isinstance(value, str) else tuple(value)


#: A line end: LF, CRLF or CR. Not str.splitlines(), which also breaks at U+2028/U+2029, U+0085 and \x1c-\x1e:
#: characters a text may hold (json.dumps(ensure_ascii=False) writes U+2028 raw) that would cut a record in two.
LINE_END = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` without their ends (LF, CRLF or CR only; no empty last line after a final end).

    Examples
    --------
    >>> split_lines("d1\\tone\u2028two\\r\\nd2\\tthree\\n")
    ['d1\\tone\u2028two', 'd2\\tthree']
    """
    lines = LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def iter_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(1-based line number, line without its end-of-line)`` pairs (:func:`split_lines`: LF, CRLF, CR)."""
    yield from enumerate(split_lines(text), start=1)


@dataclass(frozen=True, eq=False)
class Collection:
    """Documents with named text fields.

    Attributes
    ----------
    doc_ids : tuple of str, length n_docs
        Unique document ids, in file order.
    fields : dict of str -> list of str
        ``fields[name][i]`` is the text of field ``name`` of document ``i`` (``""`` when absent).
    metadata : dict of str -> list of str
        Unindexed fields kept for reference (authors, bibliographic data, ...).
    name : str
        Where it came from.

    Examples
    --------
    >>> c = Collection(("d1", "d2"), {"body": ["a b", "c"]})
    >>> len(c), c.field_names
    (2, ('body',))
    """

    doc_ids: tuple[str, ...]
    fields: dict[str, list[str]]
    metadata: dict[str, list[str]] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        ids = tuple(str(d) for d in self.doc_ids)
        object.__setattr__(self, "doc_ids", ids)
        if not self.fields:
            raise ValueError("a collection needs at least one text field")
        for name, texts in {**self.fields, **self.metadata}.items():
            if len(texts) != len(ids):
                raise ValueError(f"field {name!r} has {len(texts)} entries for {len(ids)} documents")
        for name, texts in self.fields.items():  # a None or a DataFrame's NaN failed later, naming neither (t57)
            if not all(isinstance(t, str) for t in texts):
                i, t = next((i, t) for i, t in enumerate(texts) if not isinstance(t, str))  # (a Series: by place)
                raise TypeError(f"field {name!r} of document {ids[i]!r} is {t!r} ({type(t).__name__}), not text: "
                                "give '' for a missing text (a DataFrame's: .fillna(''))")
        if len(set(ids)) != len(ids):
            seen: dict[str, int] = {}
            for i, d in enumerate(ids):
                if d in seen:
                    raise CollectionFormatError(
                        f"duplicate document id {d!r} (documents {seen[d] + 1} and {i + 1})", self.name or None,
                        fix={"duplicates": "first"}, hint="(or 'last') to the reader to keep one",
                    )
                seen[d] = i

    def __len__(self) -> int:
        return len(self.doc_ids)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(self.fields)

    def __repr__(self) -> str:
        return f"Collection({self.name!r}, n_docs={len(self)}, fields={list(self.fields)})"


@dataclass(frozen=True, eq=False)
class Queries:
    """Query ids and texts, in file order.

    Examples
    --------
    >>> q = Queries(("1", "2"), ("wing flutter", "heat transfer"))
    >>> dict(q.items())["2"]
    'heat transfer'
    """

    qids: tuple[str, ...]
    texts: tuple[str, ...]
    name: str = ""
    #: The line of ``name`` each query starts at, when a reader knows it: a duplicate id is then reported by line.
    lines: tuple[int, ...] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "qids", tuple(str(q) for q in self.qids))
        object.__setattr__(self, "texts", tuple(self.texts))
        if len(self.qids) != len(self.texts):
            raise ValueError(f"{len(self.qids)} query ids for {len(self.texts)} texts")
        if not all(isinstance(t, str) for t in self.texts):  # as a document's text (trial t57)
            i, t = next((i, t) for i, t in enumerate(self.texts) if not isinstance(t, str))
            raise TypeError(f"the text of query {self.qids[i]!r} is {t!r} ({type(t).__name__}), not text: give '' "
                            "for an empty query (a DataFrame's: .fillna(''))")
        if self.lines is not None:
            object.__setattr__(self, "lines", tuple(self.lines))
            if len(self.lines) != len(self.qids):
                raise ValueError(f"{len(self.lines)} line numbers for {len(self.qids)} queries")
        if len(set(self.qids)) != len(self.qids):
            seen: dict[str, int] = {}
            for i, q in enumerate(self.qids):
                if q in seen:
                    if self.lines is None:
                        raise CollectionFormatError(f"duplicate query id {q!r}", self.name or None)
                    raise CollectionFormatError(f"duplicate query id {q!r} (first at line {self.lines[seen[q]]})",
                                                self.name or None, self.lines[i])
                seen[q] = i

    def __len__(self) -> int:
        return len(self.qids)

    def items(self) -> Iterator[tuple[str, str]]:
        return zip(self.qids, self.texts)

    @classmethod
    def from_mapping(cls, queries: Mapping[str, str] | Sequence[tuple[str, str]]) -> Queries:
        """From ``{qid: text}`` or ``[(qid, text), ...]``."""
        pairs = list(queries.items()) if isinstance(queries, Mapping) else list(queries)
        ids = pd.Series([q for q, _ in pairs], dtype=object)  # 1.0 is '1', None an error, as in a frame
        ids = checked_ids(pd.DataFrame({"qid": ids}), "queries", ("qid",), shown={"qid": "id"}, need=ID_NEED)["qid"]
        return cls(tuple(str(q) for q in ids), tuple(t for _, t in pairs))

    def __repr__(self) -> str:
        return f"Queries({self.name!r}, n_queries={len(self)})"


@dataclass(frozen=True, eq=False)
class TestCollection:
    """A collection with its queries and relevance judgments (``qrels``: qid, docno, rel). ``query_ids``: how its
    judgments number SMART queries, ``"record"`` (the ``.I`` id) or ``"position"`` (1..n: Cranfield's ``cranqrel``),
    so that another query file given in its place is numbered the same way."""

    __test__ = False  # not a pytest test class

    docs: Collection
    queries: Queries
    qrels: pd.DataFrame
    name: str = ""
    query_ids: str = "record"
    #: With ``query_ids="position"``: each ``.I`` id of the collection's own query file -> its position
    #: (:func:`features.collections.smart.smart_query_positions`), by which another SMART query file of its
    #: queries (a part of them, another order) is numbered.
    query_positions: Mapping[str, str] | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return (
            f"TestCollection({self.name!r}, n_docs={len(self.docs)}, n_queries={len(self.queries)}, "
            f"n_judgments={len(self.qrels)})"
        )


def dedupe(
    doc_ids: list[str],
    columns: dict[str, list[str]],
    policy: str,
    path: str | None,
    *,
    lines: Sequence[int] | None = None,
) -> tuple[list[str], dict[str, list[str]]]:
    """Apply a duplicate-document-id policy: ``"error"`` (default), ``"first"`` or ``"last"`` (keep one copy).

    Kept documents stay in the order of their first appearance; a warning gives the number dropped. ``lines`` (the
    line of ``path`` each document's id is on, when the reader knows it) makes the error name ``path:line`` of the
    duplicate and the line of the first copy, rather than record numbers.

    Examples
    --------
    >>> try:
    ...     dedupe(["a", "b", "a"], {"body": ["x", "y", "z"]}, "error", "d.tsv", lines=[2, 3, 4])
    ... except ValueError as e:
    ...     print(str(e).split(";")[0])
    d.tsv:4: duplicate document id 'a' (records 1 and 3, lines 2 and 4)
    """
    if policy not in ("error", "first", "last"):
        raise ValueError(f"duplicates must be 'error', 'first' or 'last', got {policy!r}")
    if lines is not None and len(lines) != len(doc_ids):
        raise ValueError(f"{len(lines)} line numbers for {len(doc_ids)} documents")
    if len(set(doc_ids)) == len(doc_ids):
        return doc_ids, columns
    first: dict[str, int] = {}
    keep_at: dict[str, int] = {}
    for i, d in enumerate(doc_ids):
        if d in first:
            if policy == "error":
                where = "" if lines is None else f", lines {lines[first[d]]} and {lines[i]}"
                raise CollectionFormatError(
                    f"duplicate document id {d!r} (records {first[d] + 1} and {i + 1}{where})", path,
                    None if lines is None else lines[i], fix={"duplicates": "first"},
                    hint="(or 'last') to keep one copy",
                )
            if policy == "last":
                keep_at[d] = i
        else:
            first[d] = i
            keep_at[d] = i
    order = [keep_at[d] for d in first]
    log.warning("%s: %d duplicate document id(s) dropped (kept the %s copy)", path, len(doc_ids) - len(order), policy)
    return [doc_ids[i] for i in order], {k: [v[i] for i in order] for k, v in columns.items()}


def normalise_numeric_id(token: str) -> str:
    """``"007"`` -> ``"7"``; ids that are not all ASCII digits are returned unchanged (SMART files zero-pad their
    ids; ``"²"`` is a digit to ``str.isdigit`` but no number to ``int``), as :func:`ltr._ids.unpad` reads them.

    >>> normalise_numeric_id("007"), normalise_numeric_id("²"), normalise_numeric_id("MED-1")
    ('7', '²', 'MED-1')
    """
    return str(int(token)) if token.isascii() and token.isdigit() else token
