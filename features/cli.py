"""``ltr features``: text collection + queries + judgments -> LETOR feature file.

Wired by :mod:`ltr.cli` as a sub-command: :func:`add_arguments` fills its parser and :func:`run` executes it
(exit 0 success, 1 data error with the message on stderr, 2 usage error). Every step is a library call:
:func:`features.collections.load_test_collection` / ``load_documents`` / ``load_queries`` / ``read_qrels``,
:meth:`features.index.InvertedIndex.build`, :class:`features.retrieval.BM25Retriever`,
:func:`features.extraction.extract`, :func:`ltr.io.letor.write_letor`.

Example::

    ltr features --collection ../shared/data/cranfield --topk 100 --features default --out cran.letor
    ltr features --collection docs.tsv --queries q.tsv --qrels qrels.txt --run bm25.run --out train.letor
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

__all__ = ["add_arguments", "run"]

log = logging.getLogger(__name__)


class _Usage(Exception):
    """A command-line mistake (exit 2)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``features`` options to ``parser``."""
    src = parser.add_argument_group("input")
    src.add_argument("--collection", required=True,
                     help="document file (SMART, TREC <DOC>, BEIR corpus.jsonl, id<TAB>text TSV; .gz ok) or a "
                          "collection directory (Cranfield, CACM, ADI, NPL/Vaswani, NFCorpus, BEIR)")
    src.add_argument("--format", default="auto", choices=["auto", "smart", "trec", "beir", "tsv"],
                     help="document file format (default: detected)")
    src.add_argument("--queries", help="query file (default: the collection directory's)")
    src.add_argument("--query-format", default="auto", choices=["auto", "smart", "trec", "beir", "tsv"])
    src.add_argument("--query-ids", default="auto", choices=["auto", "record", "position"],
                     help="SMART query ids: the .I id, or the position 1..n (auto: position when the judgments "
                          "are in Cranfield's layout)")
    src.add_argument("--qrels", help="relevance judgments (default: the collection directory's)")
    src.add_argument("--qrels-format", default="auto", choices=["auto", "trec", "smart", "cranfield", "qdr", "beir"])
    src.add_argument("--encoding-errors", default="strict", choices=["strict", "replace"],
                     help="invalid UTF-8: stop with the byte offset, or replace with U+FFFD")
    src.add_argument("--duplicates", default="error", choices=["error", "first", "last"],
                     help="repeated document ids")
    src.add_argument("--on-unknown", default="warn", choices=["warn", "error"],
                     help="judgments or run lines naming unknown queries/documents: drop with a warning, or stop")
    cand = parser.add_argument_group("candidates")
    one = cand.add_mutually_exclusive_group()
    one.add_argument("--run", help="TREC run whose documents are the candidates")
    one.add_argument("--topk", type=int, default=None, help="retrieve the top K with BM25 (default 100)")
    cand.add_argument("--add-judged", action="store_true", help="also add judged documents the candidates miss")
    cand.add_argument("--bm25-field", default="all", help="field searched by the first stage (default all)")
    cand.add_argument("--bm25-k1", type=float, default=1.2)
    cand.add_argument("--bm25-b", type=float, default=0.75)
    cand.add_argument("--bm25-idf", default="lucene",
                      choices=["lucene", "robertson", "robertson_floor", "okapi", "terrier"])
    cand.add_argument("--save-run", help="also write the first-stage run (TREC format) here")
    ana = parser.add_argument_group("analysis and index")
    ana.add_argument("--analyzer", default="default", choices=["default", "terrier"],
                     help="default: \\w+ tokens, Lucene stopwords, Porter; terrier: Terrier's pipeline")
    ana.add_argument("--stopwords", help="override: 'lucene', 'terrier', 'none' or a file")
    ana.add_argument("--stemmer", help="override: a PyStemmer algorithm (porter, english, ...) or 'none'")
    ana.add_argument("--fields", help="comma-separated document fields to index (default: all non-empty)")
    ana.add_argument("--index", help="index file: loaded when it exists, else built and saved there")
    out = parser.add_argument_group("output")
    out.add_argument("--features", default="default", help="'default' or a feature-set .toml/.json file")
    out.add_argument("--out", required=True, help="LETOR file to write (.gz compresses)")
    out.add_argument("--no-progress", action="store_true", help="no progress bars")
    out.add_argument("--n-jobs", type=int, default=None, help="Numba threads (default: all)")


def _analyzer(args: argparse.Namespace):
    from features.analysis import Analyzer

    a = Analyzer.terrier() if args.analyzer == "terrier" else Analyzer()
    changes = {}
    if args.stopwords is not None:
        changes["stopwords"] = None if args.stopwords == "none" else args.stopwords
    if args.stemmer is not None:
        changes["stemmer"] = None if args.stemmer == "none" else args.stemmer
    if changes:
        from dataclasses import replace

        a = replace(a, **changes)
    return a


def _inputs(args: argparse.Namespace):
    """(documents, queries, qrels or None)."""
    from features.collections import (
        detect_qrels_format,
        load_documents,
        load_queries,
        load_test_collection,
        read_qrels,
    )

    coll = Path(args.collection)
    if coll.is_dir():
        tc = load_test_collection(coll, errors=args.encoding_errors)
        docs, queries, qrels = tc.docs, tc.queries, tc.qrels
    else:
        if not args.queries:
            raise _Usage("--queries is required when --collection is a file")
        docs = load_documents(coll, args.format, errors=args.encoding_errors, duplicates=args.duplicates)
        queries = qrels = None
    qfmt = None
    if args.qrels:
        qfmt = detect_qrels_format(args.qrels, errors=args.encoding_errors) if args.qrels_format == "auto" \
            else args.qrels_format
        qrels = read_qrels(args.qrels, qfmt, errors=args.encoding_errors)
    if args.queries:
        ids = args.query_ids
        if ids == "auto":
            ids = "position" if qfmt == "cranfield" else "record"
        queries = load_queries(args.queries, args.query_format, ids=ids, errors=args.encoding_errors)
    return docs, queries, qrels


def _main(args: argparse.Namespace) -> int:
    import numpy as np

    from features.extraction import extract, qid_mapping
    from features.featureset import FeatureSet
    from features.index import InvertedIndex
    from features.retrieval import BM25Retriever
    from ltr.io.letor import write_letor
    from ltr.io.trec import read_run, write_run

    progress = not args.no_progress
    if args.topk is not None and args.topk < 1:
        raise _Usage(f"--topk must be >= 1, got {args.topk}")
    fs = FeatureSet.load(args.features)  # fail on a bad feature set before the slow steps
    docs, queries, qrels = _inputs(args)
    if args.index and Path(args.index).is_file():
        index = InvertedIndex.load(args.index)
        if list(index.doc_ids) != list(docs.doc_ids):
            raise ValueError(f"--index {args.index} was built from other documents than --collection; delete it "
                             "to rebuild")
        if index.analyzer != _analyzer(args):
            raise ValueError(f"--index {args.index} was built with another analyzer ({index.analyzer}); delete it "
                             "to rebuild, or pass the same analysis options")
    else:
        fields = [f.strip() for f in args.fields.split(",")] if args.fields else None
        index = InvertedIndex.build(docs, _analyzer(args), fields=fields, progress=progress)
        if args.index:
            index.save(args.index)
    if args.run:
        candidates = read_run(args.run)
    else:
        retriever = BM25Retriever(index, field=args.bm25_field, k1=args.bm25_k1, b=args.bm25_b, idf=args.bm25_idf)
        candidates = retriever.search(queries, k=args.topk or 100, n_jobs=args.n_jobs)
        if args.save_run:
            write_run(args.save_run, candidates)
    data = extract(index, queries, candidates, fs, qrels=qrels, add_judged=args.add_judged,
                   on_unknown=args.on_unknown, progress=progress, n_jobs=args.n_jobs)
    write_letor(args.out, data)
    mapping = qid_mapping(queries.qids)
    if any(str(v) != k for k, v in mapping.items()):
        side = Path(str(args.out) + ".qids.tsv")
        side.write_text("".join(f"{v}\t{k}\n" for k, v in mapping.items()), encoding="utf-8")
        print(f"query ids are not plain integers: LETOR qid -> original id written to {side}", file=sys.stderr)
    print(f"wrote {args.out}: {data.n_queries} queries, {data.n_rows} rows, {data.n_features} features, "
          f"{int(np.sum(data.y > 0))} relevant rows", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    """Execute ``ltr features``; returns the exit code."""
    from features.errors import CollectionFormatError, IndexFormatError

    try:
        return _main(args)
    except _Usage as e:
        print(f"ltr features: error: {e}", file=sys.stderr)
        return 2
    except (CollectionFormatError, IndexFormatError, ValueError, FileNotFoundError, OSError) as e:
        # Every data error of the toolkit is a ValueError subclass (LetorFormatError, TrecFormatError, ...).
        print(f"ltr features: error: {e}", file=sys.stderr)
        return 1
