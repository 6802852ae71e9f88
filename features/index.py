"""A positional inverted index in flat arrays, per document field.

Every field holds CSR postings (see :mod:`features._kernels.postings`): per term, the ascending document indices
with their term frequencies and, per posting, the ascending token positions; plus the length of each document in
that field. The vocabulary is shared by the fields. Collection statistics (document frequency ``df``, collection
frequency ``cf``, total and average length) are derived from the arrays.

When documents have several fields, an extra field (``"all"`` by default) holds their concatenation, with
``position_gap`` empty positions between fields, so that no window of up to ``position_gap + 1`` positions spans two
fields (9 with the default gap of 8: the default windows of ``sdm`` and ``unordered_window``, 8, among them); a wider
window, and the distance and span features, can reach from one field into the next, the gap counted in their
lengths (trial t59: the docstring said proximity never spans two fields). With one field, ``"all"`` is an alias of
it. Fields empty in every document are not indexed.

Positions count every token of a field's text, from 0: a token the analyzer drops (a stopword, a filtered one)
keeps its place, as Lucene's position increments and Indri's stopper keep it, so the terms on either side of it are
not adjacent (``design of compilers`` holds no exact phrase ``design compilers``). Terrier's block indexer counts the
kept terms only, as did indexes saved in format 1 (still read, as they were built: :attr:`InvertedIndex.positions`).
Document lengths count the kept terms.

The index is saved as one ``.npz`` file (arrays + a JSON header, CRC-32 per array, no pickle), written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from features._kernels.postings import build_postings
from features.analysis import Analyzer
from features.collections._base import Collection, TestCollection
from features.errors import IndexFormatError
from ltr.io.outputs import atomic_write

__all__ = ["FieldIndex", "InvertedIndex", "QueryTerms", "is_saved_index"]

log = logging.getLogger(__name__)


def is_saved_index(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a file :meth:`InvertedIndex.save` wrote (a ``.npz`` archive holding its ``__meta__``
    header), by its first bytes and the archive's list of members: an index given where a collection is read is
    said as such (it was a 'zip archive: unpack it', trial t71)."""
    if not Path(path).is_file():  # a pipe's bytes are read once, by the reader (<(zcat docs.jsonl.gz))
        return False
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                return False
        with zipfile.ZipFile(path) as z:
            return "__meta__.npy" in z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


#: Empty positions between two fields in the concatenated ``"all"`` field, unless :meth:`InvertedIndex.build` is
#: told otherwise (``ltr features`` builds with it, and checks a reused index against it).
POSITION_GAP = 8
FORMAT_VERSION = 2  # 2: positions count dropped tokens; 1 (still read, as built): the kept terms only
_FIELD_ARRAYS = ("indptr", "docs", "tf", "pos_ptr", "positions", "doc_len")


@dataclass(frozen=True, eq=False)
class FieldIndex:
    """Postings of one field. All arrays are read-only.

    Attributes
    ----------
    indptr : int64 (n_terms + 1,)
    docs : int32 (n_postings,)
    tf : int32 (n_postings,)
    pos_ptr : int64 (n_postings + 1,)
    positions : int32 (n_tokens,)
    doc_len : int32 (n_docs,)
    """

    indptr: NDArray[np.int64]
    docs: NDArray[np.int32]
    tf: NDArray[np.int32]
    pos_ptr: NDArray[np.int64]
    positions: NDArray[np.int32]
    doc_len: NDArray[np.int32]

    def __post_init__(self) -> None:
        for name in _FIELD_ARRAYS:
            a = getattr(self, name)
            if a.flags.writeable:
                a = a.view()
                a.flags.writeable = False
                object.__setattr__(self, name, a)
        object.__setattr__(self, "_derived", {})

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle the arrays alone: unpickling runs the constructor, so they are read-only again and the memo of
        :meth:`derived` starts empty (it may hold what a scorer chose to keep)."""
        return _field_index, (type(self), {name: getattr(self, name) for name in _FIELD_ARRAYS})

    def derived(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Memoise a query-independent quantity of this field (e.g. tf-idf document norms) for the index's life."""
        memo = self._derived
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    @property
    def n_docs(self) -> int:
        return int(self.doc_len.shape[0])

    @property
    def n_postings(self) -> int:
        return int(self.docs.shape[0])

    @cached_property
    def df(self) -> NDArray[np.int64]:
        """Documents containing each term."""
        return np.diff(self.indptr)

    @cached_property
    def cf(self) -> NDArray[np.int64]:
        """Occurrences of each term in the field over the collection."""
        return np.diff(np.concatenate(([0], np.cumsum(self.tf, dtype=np.int64)))[self.indptr])

    @cached_property
    def total_len(self) -> int:
        """Tokens in the field over the collection."""
        return int(self.doc_len.sum(dtype=np.int64))

    @cached_property
    def doc_count(self) -> int:
        """Documents with at least one term in the field (Lucene's ``docCount``)."""
        return int(np.count_nonzero(self.doc_len))

    @property
    def avg_len(self) -> float:
        """Average field length (0.0 for an empty collection)."""
        return self.total_len / self.n_docs if self.n_docs else 0.0

    @cached_property
    def posting_terms(self) -> NDArray[np.int32]:
        """Term id of each posting (the row index of the CSR layout)."""
        return np.repeat(np.arange(self.df.shape[0], dtype=np.int32), self.df)

    @property
    def nbytes(self) -> int:
        return int(sum(getattr(self, n).nbytes for n in _FIELD_ARRAYS))


@dataclass(frozen=True)
class QueryTerms:
    """An analysed query.

    Attributes
    ----------
    terms : tuple of str
        Unique terms in order of first occurrence.
    ids : int32 (n_unique,)
        Their term ids, -1 for a term not in the vocabulary.
    qtf : int32 (n_unique,)
        Occurrences of each term in the query.
    sequence : int32 (length,)
        The analysed query as indices into ``terms`` (for adjacent-pair features).
    """

    terms: tuple[str, ...]
    ids: NDArray[np.int32]
    qtf: NDArray[np.int32]
    sequence: NDArray[np.int32]


def default_fields(collection: Collection) -> list[str]:
    """The fields an index of ``collection`` holds when none are named: every field that is non-empty in some
    document (all of them when every document is empty, as zero-length documents)."""
    fields = [f for f, texts in collection.fields.items() if any(t.strip() for t in texts)]
    return fields or list(collection.fields)


def repeated_fields(fields) -> list[str]:
    """The names that ``fields`` gives more than once, in order of first appearance."""
    counts = Counter(fields)
    return [f for f in counts if counts[f] > 1]


class InvertedIndex:
    """A positional inverted index over the fields of a collection.

    Build with :meth:`build`, reload with :meth:`load`. See the module docstring for the layout.

    Examples
    --------
    >>> from features.collections import Collection
    >>> c = Collection(("d1", "d2"), {"title": ["wing", ""], "body": ["wing flutter wing", "heat transfer"]})
    >>> ix = InvertedIndex.build(c, Analyzer(stemmer=None))
    >>> ix.n_docs, ix.n_terms, ix.field_names
    (2, 4, ('title', 'body', 'all'))
    >>> f = ix.field("body"); t = ix.vocab["wing"]
    >>> f.docs[f.indptr[t]:f.indptr[t + 1]].tolist(), f.tf[f.indptr[t]:f.indptr[t + 1]].tolist()
    ([0], [2])
    >>> ix.field("all").doc_len.tolist()
    [4, 2]
    """

    #: (the class's value: an index pickled before format 2 has no ``positions`` of its own, and counted the terms)
    positions = "terms"

    def __init__(
        self,
        doc_ids: Sequence[str],
        terms: Sequence[str],
        analyzer: Analyzer,
        fields: dict[str, FieldIndex],
        aliases: dict[str, str] | None = None,
        position_gap: int = 0,
        source: tuple[Sequence[str], str] | None = None,
        positions: str = "tokens",
    ):
        self.doc_ids = np.asarray(list(doc_ids), dtype=object)
        #: How positions count: ``"tokens"``, every token of the text, dropped ones keeping their place (the module
        #: docstring), or ``"terms"``, the kept terms only (an index saved in format 1, read as it was built).
        self.positions = positions
        #: The collection's fields the postings were built from and :func:`text_fingerprint` of their text (None:
        #: an index saved before it was recorded).
        self.source = None if source is None else (tuple(source[0]), str(source[1]))
        self.terms = tuple(terms)
        self.vocab = {t: i for i, t in enumerate(self.terms)}
        self.analyzer = analyzer
        self._fields = dict(fields)
        self.aliases = dict(aliases or {})
        self.position_gap = int(position_gap)
        self._doc_lookup: dict[str, int] | None = None

    # -- building ----------------------------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        collection: Collection,
        analyzer: Analyzer | None = None,
        *,
        fields: Sequence[str] | None = None,
        all_field: str | None = "all",
        position_gap: int = POSITION_GAP,
        positions: str = "tokens",
        progress: bool = False,
    ) -> InvertedIndex:
        """Analyse and index a collection.

        Parameters
        ----------
        collection : Collection
        analyzer : Analyzer, default ``Analyzer()``
        fields : list of str, optional
            Fields to index (default: every field that is non-empty in some document).
        all_field : str or None
            Name of the concatenated field (None: no such field).
        position_gap : int
            Empty positions inserted between fields in the concatenated field.
        positions : {"tokens", "terms"}
            How positions count: every token, a dropped one keeping its place (Lucene, Indri), or the kept terms
            only (Terrier's block indexer, and indexes of format 1); see the module docstring.
        progress : bool
            Show a tqdm progress bar over documents.
        """
        if isinstance(collection, TestCollection):
            raise TypeError("collection must be a Collection: a TestCollection holds one as .docs (pass tc.docs)")
        if not isinstance(collection, Collection):
            raise TypeError(f"collection must be a features.collections.Collection, got {type(collection).__name__}: "
                            "make one of document ids and a text list per field, e.g. of PyTerrier's frame "
                            "Collection(tuple(df.docno), {'body': list(df.text)}), or read a collection file "
                            "(features.collections.load_documents)")
        if analyzer is not None and not isinstance(analyzer, Analyzer):
            raise TypeError(f"analyzer must be an Analyzer (Analyzer(stemmer=...)), got {analyzer!r:.60}")
        if isinstance(fields, (str, bytes)):
            raise TypeError(f"fields must be a list of field names, got the string {fields!r}; pass [{fields!r}]")
        analyzer = analyzer or Analyzer()
        if positions not in ("tokens", "terms"):
            raise ValueError(f"positions must be 'tokens' or 'terms', got {positions!r}")
        if fields is None:
            fields = default_fields(collection)
        else:
            missing = [f for f in fields if f not in collection.fields]
            if missing:
                raise ValueError(f"fields {missing} are not in the collection, which has {list(collection.fields)}")
            twice = repeated_fields(fields)
            if twice:  # its all field would hold the field twice over: lengths and counts doubled
                raise ValueError(f"fields {list(fields)}: {twice} given twice; name each field once")
        if all_field is not None and all_field in fields:
            raise ValueError(f"all_field {all_field!r} clashes with a document field; pass another name")
        vocab: dict[str, int] = {}
        memo: dict[str, int] = {}
        streams = {}
        for f in fields:
            streams[f] = _analyze_field(collection.fields[f], analyzer, vocab, memo, progress, f,
                                        holes=positions == "tokens")
        n_terms = len(vocab)
        n_docs = len(collection)
        built = {f: _field_from_stream(ids, lens, n_terms, pos) for f, (ids, lens, pos, _) in streams.items()}
        aliases = {}
        if all_field is not None:
            if len(fields) == 1:
                aliases[all_field] = fields[0]
            else:
                built[all_field] = _concatenated_field([streams[f] for f in fields], n_docs, n_terms, position_gap)
        terms = [None] * n_terms
        for t, i in vocab.items():
            terms[i] = t
        return cls(collection.doc_ids, terms, analyzer, built, aliases, position_gap,
                   (fields, text_fingerprint(collection, fields)), positions)

    # -- access ------------------------------------------------------------------------------------------------------
    @property
    def n_docs(self) -> int:
        return int(self.doc_ids.shape[0])

    @property
    def n_terms(self) -> int:
        return len(self.terms)

    @property
    def field_names(self) -> tuple[str, ...]:
        """Indexed fields, then aliases."""
        return tuple(self._fields) + tuple(self.aliases)

    def mismatch(self, collection: Collection) -> str | None:
        """What makes this index not the index of ``collection`` (other document ids, or the same ids with other
        text in the indexed fields), or None. An index saved before the text was fingerprinted is checked by its
        ids only."""
        if list(self.doc_ids) != list(collection.doc_ids):
            return "was built from other documents than the collection's"
        if self.source is not None:
            fields, sha = self.source
            if any(f not in collection.fields for f in fields) or text_fingerprint(collection, fields) != sha:
                return ("was built from documents with the same ids but other text than the collection's (another "
                        "copy or version of it, or other --duplicates)")
        return None

    def field(self, name: str) -> FieldIndex:
        """The postings of a field (or alias)."""
        name = self.aliases.get(name, name)
        try:
            return self._fields[name]
        except KeyError:
            raise ValueError(f"no field {name!r} in this index; it has {list(self.field_names)}") from None

    def doc_index(self, doc_ids: Iterable[str]) -> NDArray[np.int32]:
        """Internal document indices of external ids (-1 for an unknown id)."""
        if self._doc_lookup is None:
            self._doc_lookup = {d: i for i, d in enumerate(self.doc_ids)}
        get = self._doc_lookup.get
        return np.fromiter((get(str(d), -1) for d in doc_ids), dtype=np.int32)

    def query_terms(self, text: str) -> QueryTerms:
        """Analyse a query with the index's analyzer.

        Examples
        --------
        >>> from features.collections import Collection
        >>> ix = InvertedIndex.build(Collection(("d",), {"body": ["a b"]}), Analyzer(stopwords=None, stemmer=None))
        >>> q = ix.query_terms("b zz b a")
        >>> q.terms, q.ids.tolist(), q.qtf.tolist(), q.sequence.tolist()
        (('b', 'zz', 'a'), [1, -1, 0], [2, 1, 1], [0, 1, 0, 2])
        """
        seq = self.analyzer.analyze(text)
        pos: dict[str, int] = {}
        for t in seq:
            pos.setdefault(t, len(pos))
        terms = tuple(pos)
        ids = np.array([self.vocab.get(t, -1) for t in terms], dtype=np.int32)
        sequence = np.array([pos[t] for t in seq], dtype=np.int32)
        qtf = np.bincount(sequence, minlength=len(terms)).astype(np.int32)
        return QueryTerms(terms, ids, qtf, sequence)

    # -- reporting ---------------------------------------------------------------------------------------------------
    def memory_usage(self) -> dict[str, int]:
        """Bytes held per field, plus ``doc_ids`` and ``vocab`` (estimated as UTF-8 text + offsets)."""
        out = {f: fi.nbytes for f, fi in self._fields.items()}
        out["doc_ids"] = sum(len(d.encode()) for d in self.doc_ids) + 8 * (self.n_docs + 1)
        out["vocab"] = sum(len(t.encode()) for t in self.terms) + 8 * (self.n_terms + 1)
        return out

    @property
    def nbytes(self) -> int:
        return sum(self.memory_usage().values())

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{f}: {fi.n_postings} postings" for f, fi in self._fields.items()
        )
        return (
            f"InvertedIndex(n_docs={self.n_docs}, n_terms={self.n_terms}, {fields}, "
            f"aliases={self.aliases}, {self.nbytes / 2**20:.1f} MiB)"
        )

    # -- persistence -------------------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the index to one ``.npz`` file, atomically (:func:`ltr.io.atomic_write`: temporary file, fsync,
        rename, folder fsync)."""
        arrays: dict[str, np.ndarray] = {}
        for f, fi in self._fields.items():
            for name in _FIELD_ARRAYS:
                arrays[f"{f}.{name}"] = np.ascontiguousarray(getattr(fi, name))
        for key, strings in (("doc_ids", self.doc_ids), ("terms", self.terms)):
            blob, offsets = _pack_strings(strings)
            arrays[f"{key}.blob"] = blob
            arrays[f"{key}.offsets"] = offsets
        meta = {
            "format": "ltrkit-features-index",
            "version": FORMAT_VERSION if self.positions == "tokens" else 1,  # format 1's positions: the terms
            "n_docs": self.n_docs,
            "n_terms": self.n_terms,
            "fields": list(self._fields),
            "aliases": self.aliases,
            "position_gap": self.position_gap,
            "analyzer": self.analyzer.to_dict(),
            "source": None if self.source is None else {"fields": list(self.source[0]), "sha256": self.source[1]},
            "crc32": {k: zlib.crc32(memoryview(a).cast("B")) for k, a in arrays.items()},
        }
        arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        # Through ltr's one atomic writer: temporary sibling, fsync, rename, fsync of the folder; never gzip (the
        # format is a plain .npz whatever the name).
        with atomic_write(path, "wb", compress=False) as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> InvertedIndex:
        """Read an index written by :meth:`save`; any damage raises :class:`~features.errors.IndexFormatError`."""
        path = Path(path)
        if not path.is_file():
            said = "is a folder, not an index file" if path.is_dir() else (
                "is not a regular file (a device or a pipe), not an index file" if path.exists() else
                "index file not found")
            raise IndexFormatError(f"{path}: {said}")
        with open(path, "rb") as fh:
            head = fh.read(4)
        if head != b"PK\x03\x04":  # np.load would try other formats, pickle last, and answer with its hint about it
            what = "it is empty" if not head else f"it starts with {head!r}"
            raise IndexFormatError(f"{path}: not a readable index file (not a .npz archive: {what})")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except ValueError as e:
            if "allow_pickle" in str(e):  # an array of Python objects, only pickle could read it: never an index
                raise IndexFormatError(f"{path}: not a readable index file (it holds an array of Python objects, "
                                       "which an ltrkit index never has)") from None
            raise IndexFormatError(f"{path}: not a readable index file (ValueError: {e})") from None
        except (zipfile.BadZipFile, OSError, EOFError, KeyError) as e:
            raise IndexFormatError(f"{path}: not a readable index file ({type(e).__name__}: {e})") from None
        try:
            meta = json.loads(arrays.pop("__meta__").tobytes().decode())
        except KeyError:
            raise IndexFormatError(f"{path}: no '__meta__' header: not an ltrkit index") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise IndexFormatError(f"{path}: damaged header ({e})") from None
        if meta.get("format") != "ltrkit-features-index":
            raise IndexFormatError(f"{path}: not an ltrkit features index (format={meta.get('format')!r})")
        if meta.get("version") not in (1, FORMAT_VERSION):
            raise IndexFormatError(
                f"{path}: index format version {meta.get('version')!r}, this ltrkit reads versions 1 to "
                f"{FORMAT_VERSION}; rebuild the index"
            )
        crc = meta.get("crc32", {})
        if set(crc) != set(arrays):
            raise IndexFormatError(f"{path}: arrays {sorted(set(crc) ^ set(arrays))} missing or unexpected")
        for k, a in arrays.items():
            if zlib.crc32(memoryview(np.ascontiguousarray(a)).cast("B")) != crc[k]:
                raise IndexFormatError(f"{path}: array {k!r} fails its CRC-32 check: the file is damaged")
        try:
            analyzer = Analyzer.from_dict(meta["analyzer"])
            doc_ids = _unpack_strings(arrays["doc_ids.blob"], arrays["doc_ids.offsets"])
            terms = _unpack_strings(arrays["terms.blob"], arrays["terms.offsets"])
            fields = {f: FieldIndex(**{n: arrays[f"{f}.{n}"] for n in _FIELD_ARRAYS}) for f in meta["fields"]}
        except (KeyError, ValueError, TypeError) as e:
            raise IndexFormatError(f"{path}: inconsistent index ({type(e).__name__}: {e})") from None
        if len(doc_ids) != meta["n_docs"] or len(terms) != meta["n_terms"]:
            raise IndexFormatError(f"{path}: header counts do not match the stored ids")
        for f, fi in fields.items():
            problem = _check_field(fi, len(doc_ids), len(terms))
            if problem:
                raise IndexFormatError(f"{path}: field {f!r}: {problem}")
        source = meta.get("source")
        if source is not None and not (isinstance(source, dict) and isinstance(source.get("fields"), list)
                                       and isinstance(source.get("sha256"), str)):
            raise IndexFormatError(f"{path}: damaged header (source {source!r})")
        return cls(doc_ids, terms, analyzer, fields, meta.get("aliases", {}), meta.get("position_gap", 0),
                   None if source is None else (source["fields"], source["sha256"]),
                   positions="terms" if meta["version"] == 1 else "tokens")


def warn_format_1(path: str | os.PathLike, index: InvertedIndex | None = None) -> None:
    """Warn that the index saved at ``path`` (``index``, when loaded) counts its positions as format 1 did, the kept
    terms only: reused, it computes proximity and SDM as then. Without ``index``, only the file's header is read (a
    driver that leaves the loading to its workers)."""
    if index is not None:
        old = index.positions == "terms"
    else:
        try:
            with np.load(path, allow_pickle=False) as z:
                old = json.loads(z["__meta__"].tobytes().decode()).get("version") == 1
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError):
            return  # whoever loads it says what is wrong
    if old:
        log.warning("index %s was saved in format 1: its positions count the kept terms only, so proximity and SDM "
                    "features treat terms a stopword apart as adjacent (delete it to rebuild with every token "
                    "counted, as Lucene and Indri count them)", path)


# -- helpers ---------------------------------------------------------------------------------------------------------
def _field_index(cls: type[FieldIndex], arrays: dict[str, np.ndarray]) -> FieldIndex:
    """Unpickle a :class:`FieldIndex` (:meth:`FieldIndex.__reduce__`)."""
    return cls(**arrays)


def text_fingerprint(collection: Collection, fields: Sequence[str]) -> str:
    """SHA-256 of the documents' ids and the text of ``fields`` (in the order given), each length-prefixed, so that
    an index can tell the collection it was built from apart from one with the same ids and other text."""
    h = hashlib.sha256()
    for name, texts in [("ids", collection.doc_ids), *((f, collection.fields[f]) for f in fields)]:
        h.update(f"{name}\0{len(texts)}\0".encode())
        for t in texts:
            b = str(t).encode("utf-8", "surrogatepass")
            h.update(len(b).to_bytes(8, "little"))
            h.update(b)
    return h.hexdigest()


def _analyze_field(texts, analyzer, vocab, memo, progress, name, holes=True):
    """Term-id stream of one field: (flat int32 ids, int64 lengths per document, int32 position of each term, int64
    positions taken per document). With ``holes``, a dropped token (a stopword, a filtered one) keeps its place, as
    Lucene's position increments and Indri's stopper keep it: terms on either side of it are not adjacent; without,
    positions count the kept terms (Terrier's block indexer)."""
    ids_all, pos_all = array("i"), array("i")
    lens = np.empty(len(texts), dtype=np.int64)
    spans = np.empty(len(texts), dtype=np.int64)
    get = memo.get
    it = texts
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(texts, desc=f"indexing {name}", unit="doc", disable=None)
    for d, text in enumerate(it):
        toks = analyzer.tokens(text)
        ids = [get(t, -2) for t in toks]
        if -2 in ids:
            for t in toks:
                if t not in memo:
                    term = analyzer.term(t)
                    memo[t] = -1 if term is None else vocab.setdefault(term, len(vocab))
            ids = [memo[t] for t in toks]
        taken = len(ids)
        if -1 in ids:
            if holes:
                kept = [p for p, i in enumerate(ids) if i >= 0]
                ids = [ids[p] for p in kept]
                pos_all.extend(kept)
            else:
                ids = [i for i in ids if i >= 0]
                pos_all.extend(range(taken := len(ids)))
        else:
            pos_all.extend(range(taken))
        ids_all.extend(ids)
        lens[d] = len(ids)
        spans[d] = taken
    if not len(ids_all):
        return np.zeros(0, np.int32), lens, np.zeros(0, np.int32), spans
    return (np.frombuffer(ids_all, dtype=np.int32).copy(), lens, np.frombuffer(pos_all, dtype=np.int32).copy(),
            spans)


def _field_from_stream(ids, lens, n_terms, positions):
    ptr = np.zeros(lens.shape[0] + 1, dtype=np.int64)
    np.cumsum(lens, out=ptr[1:])
    tok_doc = np.repeat(np.arange(lens.shape[0], dtype=np.int32), lens)
    indptr, docs, tf, pos_ptr, pos = build_postings(ids, tok_doc, positions, n_terms)
    return FieldIndex(indptr, docs, tf, pos_ptr, pos, lens.astype(np.int32))


def _concatenated_field(streams, n_docs, n_terms, gap):
    """The 'all' field: per document, each field's tokens in field order, ``gap`` positions after the last token
    (kept or dropped) of the field before."""
    lens = np.stack([s[1] for s in streams])  # (n_fields, n_docs)
    spans = np.stack([s[3] for s in streams])
    total = lens.sum(axis=0)
    out_ptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(total, out=out_ptr[1:])
    # Start offset of field k inside each document: among its terms, and in positions (its tokens, with the gaps).
    tok_off = np.vstack([np.zeros((1, n_docs), np.int64), np.cumsum(lens, axis=0)[:-1]])
    pos_off = (np.vstack([np.zeros((1, n_docs), np.int64), np.cumsum(spans, axis=0)[:-1]])
               + gap * np.arange(len(streams))[:, None] * (lens > 0).any(axis=0)[None, :])
    n = int(out_ptr[-1])
    ids = np.empty(n, dtype=np.int32)
    pos = np.empty(n, dtype=np.int32)
    for k, (fids, flens, fpos, _) in enumerate(streams):
        fptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(flens, out=fptr[1:])
        doc = np.repeat(np.arange(n_docs), flens)
        within = np.arange(fids.shape[0], dtype=np.int64) - fptr[:-1][doc]
        dest = out_ptr[:-1][doc] + tok_off[k][doc] + within
        ids[dest] = fids
        pos[dest] = pos_off[k][doc] + fpos
    return _field_from_stream(ids, total, n_terms, pos)


def _pack_strings(strings) -> tuple[np.ndarray, np.ndarray]:
    enc = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(enc) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in enc], out=offsets[1:])
    return np.frombuffer(b"".join(enc), dtype=np.uint8).copy(), offsets


def _unpack_strings(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    raw = blob.tobytes()
    if offsets.ndim != 1 or offsets.size < 1 or offsets[0] != 0 or offsets[-1] != len(raw) or np.any(
        np.diff(offsets) < 0
    ):
        raise ValueError("string offsets are inconsistent")
    return [raw[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


def _check_field(fi: FieldIndex, n_docs: int, n_terms: int) -> str | None:
    """A description of the first structural inconsistency, or None."""
    if fi.indptr.dtype != np.int64 or fi.docs.dtype != np.int32 or fi.tf.dtype != np.int32:
        return "unexpected array types"
    if fi.indptr.shape != (n_terms + 1,) or fi.indptr[0] != 0 or np.any(np.diff(fi.indptr) < 0):
        return "term offsets (indptr) are inconsistent"
    n_post = int(fi.indptr[-1])
    if fi.docs.shape != (n_post,) or fi.tf.shape != (n_post,) or fi.pos_ptr.shape != (n_post + 1,):
        return "postings arrays have inconsistent lengths"
    if n_post and (fi.docs.min() < 0 or fi.docs.max() >= n_docs):
        return "a posting names a document outside the collection"
    if fi.pos_ptr[0] != 0 or fi.pos_ptr[-1] != fi.positions.shape[0] or not np.array_equal(np.diff(fi.pos_ptr), fi.tf):
        return "position offsets do not match the term frequencies"
    if fi.doc_len.shape != (n_docs,) or int(fi.doc_len.sum(dtype=np.int64)) != fi.positions.shape[0]:
        return "document lengths do not add up to the number of positions"
    return None
