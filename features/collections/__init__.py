"""Readers for text collections, queries, relevance judgments and runs (see each module for its formats)."""

from features.collections._base import Collection, Queries, TestCollection, read_text
from features.collections.interchange import (
    read_beir_corpus,
    read_beir_queries,
    read_tsv_documents,
    read_tsv_queries,
)
from features.collections.loaders import (
    DOCUMENT_FORMATS,
    detect_format,
    load_documents,
    load_queries,
    load_test_collection,
    read_document_folder,
)
from features.collections.qrels import CRANFIELD_GAINS, QRELS_FORMATS, check_qrels, detect_qrels_format, read_qrels
from features.collections.smart import read_smart_documents, read_smart_queries
from features.collections.trec import read_trec_documents, read_trec_topics

__all__ = [
    "CRANFIELD_GAINS",
    "DOCUMENT_FORMATS",
    "QRELS_FORMATS",
    "Collection",
    "Queries",
    "TestCollection",
    "check_qrels",
    "detect_format",
    "detect_qrels_format",
    "load_documents",
    "load_queries",
    "load_test_collection",
    "read_beir_corpus",
    "read_beir_queries",
    "read_document_folder",
    "read_qrels",
    "read_smart_documents",
    "read_smart_queries",
    "read_text",
    "read_trec_documents",
    "read_trec_topics",
    "read_tsv_documents",
    "read_tsv_queries",
]
