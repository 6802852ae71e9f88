"""Format detection and one-call loaders for the classic test collections.

:func:`load_documents` / :func:`load_queries` read any supported file, detecting its format from the first
non-blank line (``.I`` -> SMART, ``<DOC>``/``<top>`` -> TREC markup, ``{`` -> JSON lines, a tab -> TSV).
:func:`load_test_collection` reads a whole directory laid out as one of the collections in ``shared/data``
(Cranfield, CACM, ADI, NPL/Vaswani, NFCorpus) or as a BEIR data set.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from features.collections._base import Collection, Queries, TestCollection
from features.collections.interchange import (
    read_beir_corpus,
    read_beir_queries,
    read_tsv_documents,
    read_tsv_queries,
)
from features.collections.qrels import read_qrels
from features.collections.smart import read_smart_documents, read_smart_queries
from features.collections.trec import read_trec_documents, read_trec_topics
from features.errors import CollectionFormatError
from ltr.io import open_binary

__all__ = [
    "DOCUMENT_FORMATS",
    "detect_format",
    "load_documents",
    "load_queries",
    "load_test_collection",
]

DOCUMENT_FORMATS = ("smart", "trec", "beir", "tsv")


def _head(path: Path, n: int = 65536) -> str:
    try:
        with open_binary(path) as f:  # gzip recognised by its magic bytes, whatever the name
            raw = f.read(n)
    except FileNotFoundError:
        raise CollectionFormatError("file not found", str(path)) from None
    except (OSError, EOFError, zlib.error) as e:
        raise CollectionFormatError(f"cannot read file: {e}", str(path)) from None
    return raw.decode("utf-8", errors="replace")


def detect_format(path: str | Path) -> str:
    """``"smart"``, ``"trec"``, ``"beir"`` (JSON lines) or ``"tsv"``, from the first non-blank line.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x")
    >>> _ = open(p, "w").write("\\n.I 1\\n.W\\ntext\\n")
    >>> detect_format(p)
    'smart'
    """
    path = Path(path)
    first = next((line.strip() for line in _head(path).splitlines() if line.strip()), "")
    upper = first.upper()
    if upper.startswith(".I"):
        return "smart"
    if upper.startswith(("<DOC>", "<TOP>")):
        return "trec"
    if first.startswith("{"):
        return "beir"
    if "\t" in first:
        return "tsv"
    raise CollectionFormatError(
        f"cannot detect the format from the first line; pass format= one of {DOCUMENT_FORMATS}", str(path),
        token=first[:60],
    )


def load_documents(
    path: str | Path, format: str = "auto", *, errors: str = "strict", duplicates: str = "error"
) -> Collection:
    """Read a document file of any supported format (see :data:`DOCUMENT_FORMATS`)."""
    fmt = detect_format(path) if format == "auto" else format
    readers = {"smart": read_smart_documents, "trec": read_trec_documents, "beir": read_beir_corpus,
               "tsv": read_tsv_documents}
    if fmt not in readers:
        raise ValueError(f"format must be 'auto' or one of {DOCUMENT_FORMATS}, got {format!r}")
    return readers[fmt](path, errors=errors, duplicates=duplicates)


def load_queries(
    path: str | Path, format: str = "auto", *, ids: str = "record", errors: str = "strict"
) -> Queries:
    """Read a query file of any supported format; ``ids="position"`` numbers SMART queries 1..n (Cranfield)."""
    fmt = detect_format(path) if format == "auto" else format
    if fmt == "smart":
        return read_smart_queries(path, ids=ids, errors=errors)
    if fmt == "trec":
        return read_trec_topics(path, errors=errors)
    if fmt == "beir":
        return read_beir_queries(path, errors=errors)
    if fmt == "tsv":
        return read_tsv_queries(path, errors=errors)
    raise ValueError(f"format must be 'auto' or one of {DOCUMENT_FORMATS}, got {format!r}")


def _first(folder: Path, *names: str) -> Path:
    for n in names:
        if (folder / n).exists():
            return folder / n
    raise CollectionFormatError(f"none of {list(names)} found", str(folder))


def load_test_collection(
    folder: str | Path,
    *,
    split: str = "test",
    query_type: str = "titles",
    qrels_variant: str = "2-1-0",
    errors: str = "strict",
    duplicates: str = "error",
) -> TestCollection:
    """Documents, queries and judgments of a collection directory, its layout recognised by its file names.

    ``errors`` and ``duplicates`` (repeated document ids: ``"error"``, ``"first"``, ``"last"``) apply to the document
    file as in :func:`load_documents`.

    ============  ================================================  =============================================
    layout        files                                             notes
    ============  ================================================  =============================================
    Cranfield     ``cran.all.1400[.gz]``, ``cran.qry``, ``cranqrel``  queries numbered by position; graded gains
    CACM          ``cacm.all[.gz]``, ``query.text``, ``qrels.text``   12 of 64 queries have no judgment
    ADI           ``ADI.ALL``, ``ADI.QRY``, ``ADI.REL``
    NPL/Vaswani   ``doc-text.trec[.gz]``, ``query-text.trec``, ``qrels``
    NFCorpus      ``{split}.docs[.gz]``, ``{split}.{query_type}.queries[.gz]``, ``{split}.{qrels_variant}.qrel[.gz]``
    BEIR          ``corpus.jsonl``, ``queries.jsonl``, ``qrels/{split}.tsv``
    ============  ================================================  =============================================
    """
    f = Path(folder)
    if not f.is_dir():
        raise CollectionFormatError("not a directory", str(f))
    names = {p.name for p in f.iterdir()}
    if names & {"cran.all.1400", "cran.all.1400.gz"}:
        return TestCollection(
            read_smart_documents(_first(f, "cran.all.1400.gz", "cran.all.1400"), errors=errors,
                                 duplicates=duplicates),
            read_smart_queries(f / "cran.qry", ids="position", errors=errors),
            read_qrels(f / "cranqrel", "cranfield", errors=errors),
            name="cranfield",
        )
    if names & {"cacm.all", "cacm.all.gz"}:
        return TestCollection(
            read_smart_documents(_first(f, "cacm.all.gz", "cacm.all"), errors=errors, duplicates=duplicates),
            read_smart_queries(f / "query.text", errors=errors),
            read_qrels(f / "qrels.text", "smart", errors=errors),
            name="cacm",
        )
    if "ADI.ALL" in names:
        return TestCollection(
            read_smart_documents(f / "ADI.ALL", errors=errors, duplicates=duplicates),
            read_smart_queries(f / "ADI.QRY", errors=errors),
            read_qrels(f / "ADI.REL", "smart", errors=errors),
            name="adi",
        )
    if names & {"doc-text.trec", "doc-text.trec.gz"}:
        return TestCollection(
            read_trec_documents(_first(f, "doc-text.trec.gz", "doc-text.trec"), errors=errors,
                                duplicates=duplicates),
            read_trec_topics(f / "query-text.trec", errors=errors),
            read_qrels(f / "qrels", "trec", errors=errors),
            name="vaswani",
        )
    if names & {f"{split}.docs", f"{split}.docs.gz"}:
        q = f"{split}.{query_type}.queries"
        r = f"{split}.{qrels_variant}.qrel"
        return TestCollection(
            read_tsv_documents(_first(f, f"{split}.docs.gz", f"{split}.docs"), errors=errors,
                               duplicates=duplicates),
            read_tsv_queries(_first(f, q + ".gz", q), errors=errors),
            read_qrels(_first(f, r + ".gz", r), "trec", errors=errors),
            name=f"nfcorpus-{split}",
        )
    if "corpus.jsonl" in names:
        return TestCollection(
            read_beir_corpus(f / "corpus.jsonl", errors=errors, duplicates=duplicates),
            read_beir_queries(f / "queries.jsonl", errors=errors),
            read_qrels(f / "qrels" / f"{split}.tsv", "beir", errors=errors),
            name=f"beir-{f.name}",
        )
    raise CollectionFormatError(
        "unrecognised collection layout (expected Cranfield, CACM, ADI, NPL/Vaswani, NFCorpus or BEIR files)", str(f)
    )
