"""Format detection and one-call loaders for the classic test collections.

:func:`load_documents` / :func:`load_queries` read any supported file, detecting its format from the first
non-blank line (``.I`` -> SMART, ``<DOC>``/``<top>`` -> TREC markup, ``{`` -> JSON lines, a tab -> TSV, a lone id
with a line ``/`` closing a record further down -> NPL, an id and a tab with nothing after it -> TSV whose first
record has an empty text, comma-separated column names -> CSV documents).
:func:`load_test_collection` reads a whole directory laid out as one of the classic collections (Cranfield, CACM,
NPL in the Glasgow original or Terrier's conversion, NFCorpus, and the SMART trios ``NAME.ALL``/``NAME.QRY``/
``NAME.REL`` of ADI, CISI and MED) or as a BEIR data set.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from features.collections._base import Collection, Queries, TestCollection, as_names, dedupe, split_lines
from features.collections.interchange import (
    ID_COLUMNS,
    read_beir_corpus,
    read_beir_queries,
    read_csv_documents,
    read_tsv_documents,
    read_tsv_queries,
)
from features.collections.npl import read_npl_documents, read_npl_queries
from features.collections.qrels import read_qrels
from features.collections.smart import read_smart_documents, read_smart_queries, smart_query_positions
from features.collections.trec import read_trec_documents, read_trec_topics
from features.errors import CollectionFormatError, SplitNotApplicableError, UnknownLayoutError
from ltr.io import open_binary
from ltr.io.files import refuse_utf16
from ltr.reader_options import Placeholder

__all__ = [
    "DOCUMENT_FORMATS",
    "detect_format",
    "load_documents",
    "load_queries",
    "load_test_collection",
    "read_document_folder",
]

log = logging.getLogger(__name__)


class UnreadableFileError(CollectionFormatError):
    """A file in a format no reader opens (UTF-16, zstd, zip, Unix compress): its reason says how to read it."""


DOCUMENT_FORMATS = ("smart", "trec", "beir", "tsv", "csv", "npl")
# TREC markup: <DOC> (with or without attributes), <top> topics, the Web track's XML topics (<?xml ...?>, <webtrack...>,
# <topic number=...>).
_TREC_START = re.compile(r"<(DOC|top|topics?|webtrack\w*|\?xml)(\s[^>]*)?\??>", re.I)


def _head(path: Path, n: int = 65536) -> str:
    return _head_bytes(path, n).decode("utf-8", errors="replace")


def _head_bytes(path: Path, n: int = 65536) -> bytes:
    try:
        with open_binary(path) as f:  # gzip recognised by its magic bytes, whatever the name
            raw = f.read(n)
    except FileNotFoundError:
        raise CollectionFormatError("file not found", str(path)) from None
    except IsADirectoryError:
        raise CollectionFormatError("is a folder, not a file", str(path)) from None
    except PermissionError:  # (its raw text repeated the path: "[Errno 13] Permission denied: 'q.tsv'")
        raise CollectionFormatError("permission denied", str(path)) from None
    except (OSError, EOFError, zlib.error) as e:
        raise CollectionFormatError(f"cannot read file: {e}", str(path)) from None
    refuse_utf16(raw[:8], path, UnreadableFileError)  # named, not "cannot detect the format" from garbled text
    return raw


def _csv_header(line: str) -> bool:
    """Whether ``line`` reads as the column names of comma-separated documents: two or more names (quoted or not;
    the first may be empty, pandas' index), one of them a document id's (:data:`ID_COLUMNS`). A README's first
    sentence, a JSON array or prose with commas is not."""
    names = [n.strip().strip('"').strip().lower() for n in line.split(",")]
    if names and names[0] == "":
        names = names[1:]
    return (len(names) >= 2 and any(n in ID_COLUMNS for n in names)
            and all(re.fullmatch(r"[a-z_][a-z0-9_]*", n) for n in names))


def detect_format(path: str | Path, what: str = "documents") -> str:
    """``"smart"``, ``"trec"``, ``"beir"`` (JSON lines), ``"tsv"``, ``"csv"`` (documents: a first line of
    comma-separated column names and no tab) or ``"npl"``, from the first non-blank line (and, for NPL, a line
    holding only ``/`` among the first 64 KiB). ``what`` (``"documents"`` or ``"queries"``) names
    the option that sets the format in the error when nothing is recognised.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x")
    >>> _ = open(p, "w").write("\\n.I 1\\n.W\\ntext\\n")
    >>> detect_format(p)
    'smart'
    """
    path = Path(path)
    lines = split_lines(_head(path).removeprefix("\ufeff"))
    raw = next((line for line in lines if line.strip()), "")
    first = raw.strip()
    if not first:
        raise CollectionFormatError("empty file: no documents" if what == "documents" else "empty file: no queries",
                                    str(path))
    upper = first.upper()
    if upper.startswith(".I"):
        return "smart"
    if _TREC_START.match(first):
        return "trec"
    if first.startswith("{"):
        return "beir"
    if first.startswith("[") and first[1:].lstrip()[:1] in ("{", ""):  # '[{"_id": ...' or '[' alone on its line
        raise CollectionFormatError("a JSON array: BEIR and Pyserini read JSON lines, one object per line (jq -c "
                                    "'.[]' FILE writes them)", str(path), 1, first[:60])
    if "\t" in first:
        return "tsv"
    if len(first.split()) == 1 and any(line.strip() == "/" for line in lines):
        return "npl"
    if "\t" in raw:  # id<TAB> with an empty text: the strip took the tab
        return "tsv"
    if what == "documents" and _csv_header(first):  # a pandas to_csv export's first line
        return "csv"
    key = "query_format" if what == "queries" else "doc_format"
    if "\ufffd" in first:  # bytes that are no UTF-8 (a binary file): named by offset, as every reader names them,
        # not echoed as U+FFFD and raw bytes in the message (trial t55)
        head = _head_bytes(path)
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as e:
            if e.start < len(head) - 3:  # (not a character cut at the end of the head)
                raise CollectionFormatError(f"not UTF-8 text (is it a {what} file?): invalid UTF-8 byte "
                                            f"{head[e.start:e.start + 1]!r}", str(path), offset=e.start) from None
    raise CollectionFormatError("cannot detect the format from the first line", str(path), token=first[:60],
                                fix={key: Placeholder(" | ".join(f for f in DOCUMENT_FORMATS
                                                                 if what == "documents" or f != "csv"))})


def load_documents(
    path: str | Path, format: str = "auto", *, errors: str = "strict", duplicates: str = "error"
) -> Collection:
    """Read a document file of any supported format (see :data:`DOCUMENT_FORMATS`)."""
    fmt = detect_format(path, "documents") if format == "auto" else format
    readers = {"smart": read_smart_documents, "trec": read_trec_documents, "beir": read_beir_corpus,
               "tsv": read_tsv_documents, "csv": read_csv_documents, "npl": read_npl_documents}
    if fmt not in readers:
        raise ValueError(f"format must be 'auto' or one of {DOCUMENT_FORMATS}, got {format!r}")
    return readers[fmt](path, errors=errors, duplicates=duplicates)


def read_document_folder(folder: str | Path, *, errors: str = "strict", duplicates: str = "error") -> Collection:
    """Every document file under ``folder`` (searched recursively, in name order; hidden files and folders left out)
    as one collection: TREC's disks and web collections ship as folders of many ``<DOC>`` files (often gzip), and
    Pyserini's ``JsonCollection`` as a folder of JSON-lines files. Each file's format is detected as
    :func:`detect_format` does; files of no document format (a README, a DTD) are skipped with a warning naming
    them. Fields absent from a file's documents are empty; ``duplicates`` applies across files.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> _ = open(os.path.join(d, "a"), "w").write("<DOC><DOCNO>1</DOCNO>x</DOC>")
    >>> _ = open(os.path.join(d, "b.jsonl"), "w").write('{"id": "2", "contents": "y"}')
    >>> c = read_document_folder(d)
    >>> c.doc_ids, c.fields
    (('1', '2'), {'title': ['', ''], 'body': ['x', 'y']})
    """
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    ids: list[str] = []
    columns: dict[str, list[str]] = {}
    origin: list[tuple[Path, int]] = []  # each document's file and record in it
    skipped, unreadable = [], []
    formats: dict[str, list[Path]] = {}  # the files read, by detected format
    for p in files:
        if _is_saved_index(p):  # the collection's own index kept beside it (`ltr features --index`): not a document
            continue
        try:
            fmt = detect_format(p)
        except UnreadableFileError as e:  # TREC disks' la010189.Z: said with how to read it
            unreadable.append((p, e.reason))
            continue
        except CollectionFormatError:
            skipped.append(p)
            continue
        part = load_documents(p, fmt, errors=errors, duplicates=duplicates)
        formats.setdefault(fmt, []).append(p)
        for name in part.fields:
            columns.setdefault(name, [""] * len(ids))
        for name, texts in columns.items():
            texts.extend(part.fields.get(name, [""] * len(part)))
        ids.extend(part.doc_ids)
        origin.extend((p, k + 1) for k in range(len(part)))
    if len(formats) > 1:  # a stray notes.tsv beside TREC files is read as documents too: say what was read
        by_count = sorted(formats.items(), key=lambda kv: -len(kv[1]))
        log.warning("%s: files of %d formats read as documents: %s", folder, len(formats), "; ".join(
            f"{fmt} {len(ps)} file(s) ({', '.join(str(p.relative_to(folder)) for p in ps[:3])}"
            f"{', ...' if len(ps) > 3 else ''})" for fmt, ps in by_count))
    if skipped:
        shown = ", ".join(str(p.relative_to(folder)) for p in skipped[:3]) + (", ..." if len(skipped) > 3 else "")
        log.warning("%s: %d file(s) of no document format skipped (%s)", folder, len(skipped), shown)
    if unreadable:
        shown = ", ".join(str(p.relative_to(folder)) for p, _ in unreadable[:3]) + (", ..." if len(unreadable) > 3
                                                                                   else "")
        log.warning("%s: %d file(s) skipped (%s): the first is %s", folder, len(unreadable), shown, unreadable[0][1])
    if not ids:
        raise CollectionFormatError(f"no document file found in this folder ({len(files)} file(s) read)",
                                    str(folder))
    if duplicates == "error" and len(set(ids)) != len(ids):  # across files (one file's own: said by its reader)
        seen: dict[str, int] = {}
        for i, d in enumerate(ids):
            if d in seen:
                (a, ra), (b, rb) = origin[seen[d]], origin[i]
                raise CollectionFormatError(
                    f"duplicate document id {d!r} (record {rb} here, record {ra} of {a.relative_to(folder)})",
                    str(b), fix={"duplicates": "first"}, hint="(or 'last') to keep one copy")
            seen[d] = i
    ids, columns = dedupe(ids, columns, duplicates, str(folder))
    return Collection(tuple(ids), columns, name=str(folder))


def _is_saved_index(path: Path) -> bool:
    """Whether ``path`` is an index :meth:`features.index.InvertedIndex.save` wrote (a ``.npz`` archive holding its
    ``__meta__`` entry)."""
    import zipfile

    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            return False
    try:
        with zipfile.ZipFile(path) as z:
            return "__meta__.npy" in z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def load_queries(
    path: str | Path, format: str = "auto", *, ids: str = "record", errors: str = "strict",
    topic_fields: str | Sequence[str] | None = None,
) -> Queries:
    """Read a query file of any supported format; ``ids="position"`` numbers SMART queries 1..n (Cranfield);
    ``topic_fields`` (a field name, ``"title"``, or several, ``("title", "desc")``) makes TREC topics' queries of
    those fields (default: the title) and is refused for other formats."""
    fmt = detect_format(path, "queries") if format == "auto" else format
    if topic_fields is not None:
        topic_fields = as_names(topic_fields)
        if fmt == "beir":  # TREC topics exported as JSON lines (ir_datasets: title, description, narrative)
            return read_beir_queries(path, errors=errors, fields=topic_fields)
        if fmt != "trec":
            raise ValueError(f"topic_fields applies to TREC topics (or their JSON lines); {path} is in the {fmt!r} "
                             "format")
        return read_trec_topics(path, fields=topic_fields, errors=errors)
    if fmt == "smart":
        return read_smart_queries(path, ids=ids, errors=errors)
    if fmt == "trec":
        return read_trec_topics(path, errors=errors)
    if fmt == "beir":
        return read_beir_queries(path, errors=errors)
    if fmt == "tsv":
        return read_tsv_queries(path, errors=errors)
    if fmt == "npl":
        return read_npl_queries(path, errors=errors)
    if fmt == "csv":
        raise ValueError(f"CSV is read for documents only; write the queries as qid<TAB>text lines ({path})")
    raise ValueError(f"format must be 'auto' or one of {DOCUMENT_FORMATS}, got {format!r}")


def _first(folder: Path, name: str) -> Path:
    """``folder / name``, or its gzip'd copy ``name.gz`` when the plain file is absent: a plain file wins, in every
    layout (Cranfield's, CACM's, NPL's, TREC's and the TSV layout read the .gz, the SMART trio and BEIR the plain
    file, so that after ``gunzip -k`` and an edit, the edit was read in some layouts and ignored in others: trial
    t64), with a warning when both are there."""
    plain, packed = folder / name, folder / f"{name}.gz"
    if plain.exists():
        if packed.exists():
            log.warning("%s: both %s and %s are there; reading %s (the plain file)", folder, name, packed.name, name)
        return plain
    if packed.exists():
        return packed
    raise CollectionFormatError(f"file not found (nor {name}.gz)", str(plain))


def load_test_collection(
    folder: str | Path,
    *,
    split: str | None = None,
    query_type: str = "titles",
    qrels_variant: str = "2-1-0",
    errors: str = "strict",
    duplicates: str = "error",
    judgments: bool = True,
) -> TestCollection:
    """Documents, queries and judgments of a collection directory, its layout recognised by its file names.

    ``errors`` and ``duplicates`` (repeated document ids: ``"error"``, ``"first"``, ``"last"``) apply to the document
    file as in :func:`load_documents`. ``split`` chooses the NFCorpus files and the BEIR judgments (default
    ``"test"``); a split the folder lacks is an error naming the splits it has, and a split given for a layout
    without splits is an error too (rather than ignored). ``judgments=False`` reads no judgment file (``qrels`` is
    then an empty table): for a caller that brings its own or needs none.

    ============  ================================================  =============================================
    layout        files (or ``NAME.gz``; a plain file wins)           notes
    ============  ================================================  =============================================
    Cranfield     ``cran.all.1400``, ``cran.qry``, ``cranqrel``       queries numbered by position; graded gains
    CACM          ``cacm.all``, ``query.text``, ``qrels.text``        12 of 64 queries have no judgment
    SMART trio    ``NAME.ALL``, ``NAME.QRY``, ``NAME.REL``            ADI, CISI, MED (any letter case); the
                                                                    ``.REL`` in SMART's or TREC's columns
    NPL/Vaswani   ``doc-text.trec``, ``query-text.trec``, ``qrels``   Terrier's TREC-markup conversion
    NPL           ``doc-text``, ``query-text``, ``rlv-ass``           the Glasgow original
    NFCorpus      ``{split}.docs``, ``{split}.{query_type}.queries``, ``{split}.{qrels_variant}.qrel``
    BEIR          ``corpus.jsonl``, ``queries.jsonl``, ``qrels/{split}.tsv``
    ============  ================================================  =============================================

    Query ids are read without leading zeros (TREC topic numbers and SMART ``.I`` ids, as Anserini reads them), and
    so are the judgments of a SMART folder in SMART's own form; judgments in TREC's form that write ``001`` for query
    1 (a TREC-layout or SMART folder's) are matched to it, an ``INFO`` log line of the
    ``features.collections.loaders`` logger saying so.
    """
    f = Path(folder)
    if not f.is_dir():
        raise CollectionFormatError("not a directory", str(f))
    names = {p.name for p in f.iterdir()}
    has_splits = bool(names & {"corpus.jsonl", "corpus.jsonl.gz"}) or any(
        n.endswith((".docs", ".docs.gz")) for n in names)
    if split is not None and not has_splits and (names & _NAMED_LAYOUTS or _smart_trio(f, names) is not None):
        raise SplitNotApplicableError(f"split={split!r} applies to an NFCorpus or BEIR folder; this one has no "
                                      "splits", str(f))
    given_split, split = split is not None, split or "test"

    def judged(path, fmt: str = "auto") -> pd.DataFrame:
        """The judgments at ``path`` (a path, or a function giving it), or none when they are not wanted."""
        if not judgments:
            return pd.DataFrame({"qid": pd.Series(dtype=str), "docno": pd.Series(dtype=str),
                                 "rel": pd.Series(dtype=np.int64)})
        return read_qrels(path() if callable(path) else path, fmt, errors=errors)

    if names & {"cran.all.1400", "cran.all.1400.gz"}:
        return TestCollection(
            read_smart_documents(_first(f, "cran.all.1400"), errors=errors,
                                 duplicates=duplicates),
            read_smart_queries(_first(f, "cran.qry"), ids="position", errors=errors),
            judged(lambda: _first(f, "cranqrel"), "cranfield"),
            name="cranfield",
            query_ids="position",
            query_positions=smart_query_positions(_first(f, "cran.qry"), errors=errors),
        )
    if names & {"cacm.all", "cacm.all.gz"}:
        return TestCollection(
            read_smart_documents(_first(f, "cacm.all"), errors=errors, duplicates=duplicates),
            read_smart_queries(_first(f, "query.text"), errors=errors),
            judged(lambda: _first(f, "qrels.text"), "smart"),
            name="cacm",
        )
    smart = _smart_trio(f, names)
    if smart is not None:
        docs, qry, rel = smart
        smart_queries = read_smart_queries(qry, errors=errors)
        return TestCollection(
            read_smart_documents(docs, errors=errors, duplicates=duplicates),
            smart_queries,
            _unpadded(judged(rel), smart_queries, f),  # SMART's two or four columns, or TREC's (MED.REL)
            name=_stem(docs.name).lower(),
        )
    if names & {"doc-text.trec", "doc-text.trec.gz"}:
        topics = read_trec_topics(_first(f, "query-text.trec"), errors=errors)
        return TestCollection(
            read_trec_documents(_first(f, "doc-text.trec"), errors=errors,
                                duplicates=duplicates),
            topics,
            _unpadded(judged(lambda: _first(f, "qrels"), "trec"), topics, f),
            name="vaswani",
        )
    if names & {"doc-text", "doc-text.gz"}:
        return TestCollection(
            read_npl_documents(_first(f, "doc-text"), errors=errors, duplicates=duplicates),
            read_npl_queries(_first(f, "query-text"), errors=errors),
            judged(lambda: _first(f, "rlv-ass"), "npl"),
            name="npl",
        )
    splits = sorted({n.split(".", 1)[0] for n in names if n.endswith((".docs", ".docs.gz"))})
    if splits:
        if split not in splits:
            raise CollectionFormatError(f"no {split}.docs here (NFCorpus layout; its splits: {', '.join(splits)})",
                                        str(f), fix={"split": _choice(splits)})
        q = f"{split}.{query_type}.queries"
        r = f"{split}.{qrels_variant}.qrel"
        return TestCollection(
            read_tsv_documents(_first(f, f"{split}.docs"), errors=errors,
                               duplicates=duplicates),
            read_tsv_queries(_first(f, q), errors=errors),
            judged(lambda: _first(f, r), "trec"),
            name=f"nfcorpus-{split}",
        )
    if names & {"corpus.jsonl", "corpus.jsonl.gz"}:
        if given_split and not judgments:
            _beir_qrels(f, split)  # a split asked for must exist, even when its judgments are not read
        return TestCollection(
            read_beir_corpus(_first(f, "corpus.jsonl"), errors=errors, duplicates=duplicates),
            read_beir_queries(_first(f, "queries.jsonl"), errors=errors),
            judged(lambda: _beir_qrels(f, split), "beir"),
            name=f"beir-{f.name}",
        )
    raise UnknownLayoutError(
        "unrecognised collection layout (expected the files of Cranfield, CACM, NPL/Vaswani, NFCorpus, BEIR, or a "
        "SMART trio NAME.ALL, NAME.QRY, NAME.REL such as ADI, CISI or MED; a folder of document files is read "
        "as one collection when the queries are given)", str(f)
    )


def unpadded_judgments(qrels: pd.DataFrame, qids) -> tuple[pd.DataFrame, dict[str, str]]:
    """``qrels`` with each query id that is one of ``qids`` with leading zeros (``001``) renamed to it (``1``), and
    the ids so renamed (:func:`ltr.io.qidmap.padded_ids`): topic numbers and SMART ``.I`` ids are read without
    leading zeros (as Anserini reads them), and judgments may keep them. A judgment id that is a query id as
    written, or whose unpadded form the judgments also hold, is left as it is."""
    from ltr.io.qidmap import padded_ids

    if qrels is None or qrels.empty:
        return qrels, {}
    qid = qrels["qid"].astype(str)
    padded = padded_ids(set(qid.unique()), set(qids))
    if not padded:
        return qrels, {}
    return qrels.assign(qid=qid.map(lambda q: padded.get(q, q))), padded


def _unpadded(qrels: pd.DataFrame, queries, folder: Path) -> pd.DataFrame:
    """A folder's judgments numbered as its queries (:func:`unpadded_judgments`): judgments of topics ``001``,
    ``002`` named no query of the collection they came with (trial t63). Said in a log line."""
    from ltr.io.qidmap import padded_examples

    qrels, padded = unpadded_judgments(qrels, queries.qids)
    if padded:
        log.info("%s: %d judgment query id(s) with leading zeros matched to the queries numbered without them (%s)",
                 folder, len(padded), padded_examples(padded))
    return qrels


#: File names that name a layout without splits (the SMART trios are found by :func:`_smart_trio`).
_NAMED_LAYOUTS = {"cran.all.1400", "cran.all.1400.gz", "cacm.all", "cacm.all.gz", "doc-text.trec", "doc-text.trec.gz",
                  "doc-text", "doc-text.gz"}


def _beir_qrels(folder: Path, split: str) -> Path:
    """``qrels/{split}.tsv`` (or ``.tsv.gz``) of a BEIR folder; its absence names the splits there are."""
    qrels = folder / "qrels"
    if (qrels / f"{split}.tsv").is_file() or (qrels / f"{split}.tsv.gz").is_file():
        return _first(qrels, f"{split}.tsv")  # (the plain file, warning when both are there)
    splits = sorted({p.name.split(".", 1)[0] for p in qrels.glob("*.tsv*")}) if qrels.is_dir() else []
    if not splits:
        raise CollectionFormatError("no qrels/SPLIT.tsv judgment file (BEIR layout)", str(folder))
    raise CollectionFormatError(f"no qrels/{split}.tsv here (BEIR layout; its splits: {', '.join(splits)})",
                                str(folder), fix={"split": _choice(splits)})


def _choice(values: list[str]) -> str | Placeholder:
    """The value to suggest: the only one, or a placeholder listing them."""
    return values[0] if len(values) == 1 else Placeholder("|".join(values))


def _stem(name: str) -> str:
    """A file name without a ``.gz`` ending and its last extension: ``MED.ALL.gz`` -> ``MED``."""
    base = name[:-3] if name.lower().endswith(".gz") else name
    return base.rsplit(".", 1)[0]


def _smart_trio(folder: Path, names: set[str]) -> tuple[Path, Path, Path] | None:
    """``(NAME.ALL, NAME.QRY, NAME.REL)`` of a folder holding one such trio (any letter case, ``.gz`` or not;
    ``NAME.REL.OLD``, MED's judgments in SMART form, where ``NAME.REL`` is absent), or ``None`` when it holds no
    ``.ALL`` file. A ``.ALL`` file without its ``.QRY`` and ``.REL`` is an error naming what is missing; so are two
    trios."""
    by_key: dict[str, str] = {}
    for n in sorted(names, key=lambda n: (n.lower().endswith(".gz"), n)):  # a plain file wins over a .gz copy
        key = (n[:-3] if n.lower().endswith(".gz") else n).upper()
        if key in by_key and key.endswith((".ALL", ".QRY", ".REL", ".REL.OLD")):
            log.warning("%s: both %s and %s are there; reading %s%s", folder, by_key[key], n, by_key[key],
                        " (the plain file)" if n.lower().endswith(".gz") else "")
        by_key.setdefault(key, n)
    stems = sorted({k[:-4] for k in by_key if k.endswith(".ALL") and len(k) > 4})
    if not stems:
        return None
    if len(stems) > 1:
        raise CollectionFormatError(f"{len(stems)} SMART document files ({', '.join(s + '.ALL' for s in stems)}): "
                                    "put each collection in its own folder", str(folder))
    stem = stems[0]
    if f"{stem}.REL" not in by_key and f"{stem}.REL.OLD" in by_key:  # MED's judgments in SMART form alone (t63)
        log.info("%s: no %s.REL; its judgments read from %s", folder, stem, by_key[f"{stem}.REL.OLD"])
        by_key[f"{stem}.REL"] = by_key[f"{stem}.REL.OLD"]
    missing = [f"{stem}.{ext}" for ext in ("QRY", "REL") if f"{stem}.{ext}" not in by_key]
    if missing:
        raise CollectionFormatError(f"{by_key[stem + '.ALL']} has no {' or '.join(missing)} beside it (a SMART "
                                    "collection folder holds NAME.ALL, NAME.QRY and NAME.REL)", str(folder))
    return tuple(folder / by_key[f"{stem}.{ext}"] for ext in ("ALL", "QRY", "REL"))  # type: ignore[return-value]
