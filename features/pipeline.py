"""The steps every text-to-ranker workflow repeats, as library calls: read a collection's documents, queries and
judgments; load a saved index or build (and save) it.

``ltr features`` and ``ltr rerank`` are thin wrappers over these, so that a Python user gets the same checks: a
format option that does not apply is refused, not ignored, and a saved index built from other documents, with
another analyzer or other fields is refused with what differs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features.analysis import Analyzer
from features.collections import Collection, Queries

__all__ = ["CollectionInputs", "InputOptionError", "check_feature_fields", "load_inputs", "load_or_build_index"]

log = logging.getLogger(__name__)


class InputOptionError(ValueError):
    """An option of :func:`load_inputs` that cannot apply to the inputs given (named, so that each interface can
    word it: ``doc_format='trec'`` in Python, ``--format trec`` on the command line)."""

    def __init__(self, option: str, value: object, reason: str):
        self.option, self.value, self.reason = option, value, reason
        super().__init__(f"{option}={value!r} {reason}" if value is not None else f"{option} {reason}")


@dataclass(frozen=True)
class CollectionInputs:
    """Documents, queries and (when known) judgments of one experiment."""

    docs: Collection
    queries: Queries
    qrels: pd.DataFrame | None
    name: str
    #: When the queries are numbered by position (Cranfield's, as ``cranqrel`` numbers them): each ``.I`` id of their
    #: SMART query file -> the query id it is read as (:func:`record_numbered_run`).
    query_positions: Mapping[str, str] | None = field(default=None, repr=False, compare=False)


def collection_not_found(collection) -> str:
    """The message for a collection path that does not exist; a registered text set's name (``cranfield``) is not a
    path, and the message says how to get a copy that is."""
    said = f"collection not found: {collection}"
    if not isinstance(collection, str) or os.sep in collection or (os.altsep and os.altsep in collection):
        return said
    from ltr.registry import UnknownDatasetError, get

    try:
        entry = get(collection)
    except UnknownDatasetError:
        return said
    if entry.kind != "text":
        return said
    return (f"{said} (no such file or folder); {entry.name} is a registered data set: `ltr data fetch {entry.name} "
            f"--to DIR` (ltr.registry.fetch in Python) puts a copy in DIR/{entry.name}, which is the path to give")


def _in_collection(what: str, path: str | os.PathLike | None, coll: Path) -> str | os.PathLike | None:
    """A ``queries``/``qrels`` path as given when it exists, else the collection folder's file of that relative name
    (or its ``.gz``: NFCorpus' ``test.all.queries`` ships compressed), so that the folder's other files are picked
    by their names; not found anywhere: a FileNotFoundError naming both places."""
    if path is None or Path(path).exists():
        return path
    if coll.is_dir() and not Path(path).is_absolute():
        for candidate in (coll / path, coll / f"{path}.gz"):
            if candidate.is_file():
                log.info("%s: %s, the collection folder's", what, candidate)
                return candidate
        raise FileNotFoundError(f"{what} not found: {path} (neither here nor in the collection folder {coll})")
    raise FileNotFoundError(f"{what} not found: {path}")


def load_inputs(
    collection: str | os.PathLike,
    *,
    queries: str | os.PathLike | None = None,
    qrels: str | os.PathLike | None = None,
    doc_format: str = "auto",
    query_format: str = "auto",
    query_ids: str = "auto",
    qrels_format: str = "auto",
    errors: str = "strict",
    duplicates: str = "error",
    split: str | None = None,
    judgments: bool = True,
    topic_fields: tuple[str, ...] | None = None,
) -> CollectionInputs:
    """Read a collection directory (its layout recognised by file names) or a document file plus a query file.

    ``queries`` and ``qrels`` override a directory's own files; a relative name not found from here is looked up in
    the directory (``queries="test.vid-desc.queries"`` picks NFCorpus' file of that name, or its ``.gz``).
    ``doc_format`` applies to a document file only; with a directory it must stay ``"auto"`` (the layout decides),
    and is refused otherwise rather than ignored.
    ``query_format`` applies to ``queries``. ``query_ids="auto"`` numbers SMART queries by position when the
    judgments are in Cranfield's layout: ``qrels`` when given, else the directory's own (``cranqrel``), whether they
    are read or not (``queries="cran.qry"`` in a Cranfield directory is numbered as its own queries are).
    ``split`` chooses a directory's NFCorpus files or BEIR judgments (default ``test``). ``judgments=False`` reads
    no judgments (``qrels`` of the result is None); the directory's own are not read either when ``qrels`` is given.
    ``topic_fields`` (``title``, ``desc``, ``narr``) makes the queries of a TREC topics file given as ``queries``
    (default: the title).

    Raises
    ------
    FileNotFoundError
        The collection, query or judgment path does not exist.
    InputOptionError
        A document file without ``queries``; a format or split option that cannot apply (a ValueError naming the
        option).
    """
    from features.collections import (
        detect_format,
        load_documents,
        load_queries,
        load_test_collection,
        read_document_folder,
    )
    from features.collections.trec import TOPIC_FIELDS
    from features.errors import SplitNotApplicableError, UnknownLayoutError
    from ltr.io import detect_qrels_format, read_qrels

    coll = Path(collection)
    if not coll.exists():
        raise FileNotFoundError(collection_not_found(collection))
    if coll.is_dir():  # a copy ltr data fetch installed with differences from the registry: said again here
        from ltr.registry import said_fetch_differences

        said_fetch_differences(coll)
    queries, qrels = (_in_collection(what, p, coll) for what, p in (("queries", queries), ("qrels", qrels)))
    if topic_fields is not None:  # checked before the collection is read
        value = ",".join(topic_fields)
        if queries is None:
            raise InputOptionError("topic_fields", value, "applies to a TREC topics file given as the queries, and "
                                   "none was given")
        fmt_q = detect_format(queries, "queries") if query_format == "auto" else query_format
        if fmt_q not in ("trec", "beir"):
            raise InputOptionError("topic_fields", value, f"applies to TREC topics (or their JSON lines); {queries} "
                                   f"is in the {fmt_q!r} format")
        query_format = fmt_q  # detected once: load_queries below need not read the file's head again
        unknown = [f for f in topic_fields if f not in TOPIC_FIELDS]
        if unknown or not topic_fields:
            raise InputOptionError("topic_fields", value, f"names {', '.join(unknown)}: the fields are "
                                   f"{', '.join(TOPIC_FIELDS)}" if unknown else
                                   f"names no topic field of {', '.join(TOPIC_FIELDS)}")
    if query_ids == "position" and queries is not None:  # SMART's alone: other formats' queries keep their ids
        fmt_q = detect_format(queries, "queries") if query_format == "auto" else query_format
        if fmt_q != "smart":
            raise InputOptionError("query_ids", query_ids, f"numbers SMART queries 1..n; {queries} is in the "
                                   f"{fmt_q!r} format, whose queries keep the ids the file gives them")
    own_ids, positions, numbered = "record", None, None
    if coll.is_dir():
        if doc_format != "auto":
            raise InputOptionError("doc_format", doc_format, f"applies to a document file; the collection directory "
                                   f"{coll} is read by its layout (leave the format at 'auto')")
        try:
            tc = load_test_collection(coll, errors=errors, duplicates=duplicates, split=split,
                                      judgments=judgments and qrels is None)
        except SplitNotApplicableError:
            raise InputOptionError("split", split, f"applies to an NFCorpus or BEIR directory; {coll} has no "
                                   "splits") from None
        except UnknownLayoutError:
            if queries is None:  # a folder of document files (TREC's disks, a Pyserini JsonCollection)
                raise
            if split is not None:
                raise InputOptionError("split", split, f"applies to an NFCorpus or BEIR directory; {coll} is a "
                                       "folder of document files") from None
            tc = None
        if tc is None:
            docs = read_document_folder(coll, errors=errors, duplicates=duplicates)
            qs, judged, name = None, None, coll.name
        else:
            docs, qs, name = tc.docs, tc.queries, tc.name
            judged = tc.qrels if judgments and qrels is None else None
            own_ids = tc.query_ids  # a query file given in place of the directory's: numbered as its judgments
            positions = tc.query_positions
            if queries is None and own_ids == "position":
                numbered = positions
    else:
        from features.index import is_saved_index

        if is_saved_index(coll):
            raise InputOptionError("collection", str(coll), "is an index saved by ltr features, not a collection: "
                                   "give it as the index (--index), and as the collection the folder or file it was "
                                   "built from")
        if split is not None:
            raise InputOptionError("split", split, f"applies to a collection directory (NFCorpus, BEIR); {coll} is "
                                   "a document file")
        if queries is None:
            raise InputOptionError("queries", None, f"is required: {coll} is a document file")
        docs = load_documents(coll, doc_format, errors=errors, duplicates=duplicates)
        qs, judged, name = None, None, coll.stem
    if query_format != "auto" and queries is None:
        raise InputOptionError("query_format", query_format, "applies to a query file given apart (--queries), and "
                               "none was" + (" (the collection folder's own is read by its layout)"
                                             if coll.is_dir() else ""))
    fmt = None
    if qrels is not None:
        fmt = detect_qrels_format(qrels, errors=errors) if qrels_format == "auto" else qrels_format
        if fmt == "qdr" and qrels_format == "auto" and own_ids == "position":
            # Cranfield's folder: its queries are numbered as cranqrel numbers them, so its codes are read as cranqrel's
            # too (a copy of cranqrel under another name would otherwise train on codes, 1 = best, as labels)
            log.warning("%s: read as Cranfield's cranqrel (3 columns, given with the Cranfield collection): column 3 "
                        "is taken for Cleverdon's relevance codes (1 = complete answer ... 4 = minimum interest, -1 = "
                        "not relevant), mapped to gains 5 - code (1 -> 4, 4 -> 1, -1 -> 0); if it holds plain labels "
                        "(higher is better), name the layout 'qdr' (--qrels-format qdr); naming 'cranfield' the same "
                        "way confirms this reading and says nothing", qrels)
            fmt = "cranfield"
        judged = read_qrels(qrels, fmt, errors=errors)
    elif qrels_format != "auto":
        raise InputOptionError("qrels_format", qrels_format, "applies to a judgment file, and none was given")
    if queries is not None:
        ids = query_ids
        if ids == "auto":  # as the judgments number them: those given, else the directory's (read or not)
            ids = ("position" if fmt == "cranfield" else "record") if qrels is not None else own_ids
        qs = load_queries(queries, query_format, ids=ids, errors=errors, topic_fields=topic_fields)
        if query_ids == "auto" and qrels is None and ids == "position" and positions is not None:
            qs = _numbered_as_the_folders(queries, query_format, qs, positions, errors)
        smart = (detect_format(queries, "queries") if query_format == "auto" else query_format) == "smart"
        if ids == "position" and smart:
            own = load_queries(queries, "smart", ids="record", errors=errors)
            numbered = dict(zip(own.qids, qs.qids))  # each record as read: by the folder's place or its own
        if ids == "record" and smart and judged is not None and (fmt == "cranfield" or qrels is None and
                                                                 own_ids == "position"):
            # judgments that number the queries by position (cranqrel, the folder's or given) numbered by the .I
            # ids the SMART queries are read by: query .I 4 took the judgments of the 4th query, .I 8 (trial t63)
            from features.collections.smart import smart_query_positions

            by_place = {n: i for i, n in (positions or smart_query_positions(queries, errors=errors)).items()}
            log.info("%s: judgments that number the queries by position, numbered by the .I ids of %s",
                     qrels or coll, queries)
            judged = judged.assign(qid=judged["qid"].astype(str).map(lambda q: by_place.get(q, q)))
    elif query_ids != "auto":
        raise InputOptionError("query_ids", query_ids, "applies to a query file given apart (--queries), and none "
                               "was" + (" (the collection folder's own is numbered as its judgments number it)"
                                        if coll.is_dir() else ""))
    return CollectionInputs(docs, qs, judged, name, numbered)


def record_numbered_run(qids: Iterable[str], inputs: CollectionInputs) -> str | None:
    """Why a run's query ids cannot be read against ``inputs``' queries, or None: every id of the run is a ``.I``
    id of a SMART query file whose queries are numbered by position (Cranfield's), and some of them number no query
    there. Read by position, the rest would name other queries' texts and judgments (trial t63: 152 of Cranfield's
    225 queries, exit 0), where a run keyed by positions names every query it ranks. A run whose ids are all both
    (a few first queries) is read by position, as the judgments number them."""
    positions = inputs.query_positions
    ids = {str(int(q)) if q.isascii() and q.isdigit() else q for q in map(str, qids)}  # cran.qry's own '004' too
    if not positions or not ids or not ids <= positions.keys():
        return None
    ours = set(inputs.queries.qids)
    if ids <= ours:
        return None
    other = sum(1 for i in ids & ours if positions[i] != i)
    return (f"its {len(ids)} query id(s) are all .I ids of the query file, {len(ids - ours)} of which number no "
            f"query here: the queries are numbered by position, as the judgments number them, so {other} of the "
            "run's ids would name another query; to read the run's ids as .I ids, give the query file with its ids "
            "read as written (--queries FILE --query-ids record; query_ids='record' in Python)")


def _numbered_as_the_folders(queries, query_format: str, qs: Queries, positions, errors: str) -> Queries:
    """A SMART query file given in place of a Cranfield folder's ``cran.qry``, numbered by the position each of its
    ``.I`` ids has there (the number ``cranqrel`` judges it by), not by its own positions: a part of the queries (the
    last 50 as a test set) took other queries' judgments (trial t52). A file with ids the folder's file lacks keeps
    its own positions, with a warning."""
    from features.collections import detect_format, load_queries

    if (detect_format(queries, "queries") if query_format == "auto" else query_format) != "smart":
        return qs
    own = load_queries(queries, "smart", ids="record", errors=errors)
    unknown = [q for q in own.qids if q not in positions]
    if unknown:
        log.warning("%s: query .I %s is not one of the collection's own query file's (%d such): the queries are "
                    "numbered by their position in %s, which is how the collection's judgments number its own "
                    "file's; pass --query-ids record or position to say which", queries, unknown[0], len(unknown),
                    Path(queries).name)
        return qs
    return Queries(tuple(positions[q] for q in own.qids), own.texts, name=own.name, lines=own.lines)


def load_or_build_index(
    path: str | os.PathLike | None,
    docs: Collection,
    analyzer: Analyzer,
    *,
    fields: list[str] | None = None,
    progress: bool = False,
):
    """The index saved at ``path`` when it matches ``docs``, ``analyzer`` and ``fields``; else build it (and
    save it at ``path`` when given and absent). Returns ``(index, built)``.

    Raises
    ------
    ValueError
        ``path`` holds an index of other documents, another analyzer or other fields (naming the difference: delete
        it to rebuild).
    """
    from features.index import POSITION_GAP, InvertedIndex, default_fields

    p = None if path is None else Path(path)
    if p is not None and p.exists():
        if p.is_dir():
            raise IsADirectoryError(21, "is a folder, not an index file", str(p))
        index = InvertedIndex.load(p)
        problem = index.mismatch(docs)
        if problem:
            raise ValueError(f"index {p} {problem}; delete it to rebuild")
        from features.featureset import analyzer_differences

        differ = analyzer_differences(index.analyzer, analyzer, ("the index", "the options"))
        if differ:  # setting by setting (a stopword list is its words: the shipped name or a file of them agree)
            raise ValueError(f"index {p} was built with another analyzer ({'; '.join(differ)}); delete it to "
                             "rebuild, or pass the same analysis options")
        have = [f for f in index.field_names if f != "all"]
        asked = [f for f in fields if f != "all"] if fields is not None else None
        if asked is not None and sorted(have) != sorted(asked):
            raise ValueError(f"index {p} holds the fields {have}, not {list(fields)}; delete it to "
                             "rebuild, or leave out the fields option")
        if asked is None and sorted(have) != sorted(default_fields(docs)):  # the default: every non-empty field
            raise ValueError(f"index {p} holds the fields {have}, not {default_fields(docs)} (every non-empty field, "
                             "the default); delete it to rebuild, or name the fields it holds")
        order = asked if asked is not None else default_fields(docs)
        if len(have) > 1 and have != order:  # the columns' order, and the 'all' field's concatenation, follow it
            raise ValueError(f"index {p} holds the fields in the order {have}, not {order}: the columns and the "
                             "'all' field (its proximity features) follow the order; delete it to rebuild, or give "
                             f"the fields in its order ({','.join(have)})")
        if len(have) > 1 and index.position_gap != POSITION_GAP:
            raise ValueError(f"index {p} was built with position_gap={index.position_gap} between fields, not "
                             f"{POSITION_GAP} as this command builds (the 'all' field's proximity features read it); "
                             "delete it to rebuild")
        from features.index import warn_format_1

        warn_format_1(p, index)
        return index, False
    index = InvertedIndex.build(docs, analyzer, fields=fields, progress=progress)
    if p is not None:
        index.save(p)
    return index, True


def check_feature_fields(feature_set, docs: Collection, *, fields: list[str] | None = None) -> None:
    """Raise the ValueError that ``feature_set`` would raise over the index of ``docs`` built by
    :func:`load_or_build_index` with ``fields`` (None: every non-empty field), before that index is built: a field
    the index will lack (a misspelt ``fields`` entry, a ``bm25f`` weight) is known from the collection's field
    names, and was found only after the indexing pass and the first stage (trial t70).

    The check runs on an index of no documents with the same fields, so that the field names, the ``all`` field and
    its alias for a single field are the build's own.
    """
    from features.index import InvertedIndex, default_fields

    names = list(fields) if fields else default_fields(docs)
    shell = InvertedIndex.build(Collection((), {f: [] for f in names}), fields=names)
    feature_set.columns(shell)
