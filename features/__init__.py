"""ltrkit's feature-extraction layer: text collections -> positional index -> per (query, document) features ->
:class:`ltr.RankingDataset` / LETOR.

Pipeline::

    from features import load_test_collection, Analyzer, InvertedIndex, BM25Retriever, extract
    tc = load_test_collection("../shared/data/cranfield")
    index = InvertedIndex.build(tc.docs, Analyzer())
    run = BM25Retriever(index).search(tc.queries, k=100)
    data = extract(index, tc.queries, run, "default", qrels=tc.qrels)

Names are imported lazily (``import features`` loads neither Numba nor pandas).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what __getattr__ loads on first use, visible to type checkers and editors' completion
    from features.analysis import Analyzer  # noqa: F401
    from features.collections import (  # noqa: F401
        Collection,
        Queries,
        TestCollection,
        load_documents,
        load_queries,
        load_test_collection,
        read_qrels,
    )
    from features.errors import CollectionFormatError, IndexFormatError  # noqa: F401
    from features.extraction import extract, qid_mapping  # noqa: F401
    from features.featureset import FeatureSet  # noqa: F401
    from features.index import InvertedIndex  # noqa: F401
    from features.pairs import PairSet  # noqa: F401
    from features.retrieval import BM25Retriever  # noqa: F401
    from features.scorers import available_scorers, get_scorer, register  # noqa: F401

_EXPORTS = {
    "Analyzer": "features.analysis",
    "BM25Retriever": "features.retrieval",
    "Collection": "features.collections",
    "CollectionFormatError": "features.errors",
    "FeatureSet": "features.featureset",
    "IndexFormatError": "features.errors",
    "InvertedIndex": "features.index",
    "PairSet": "features.pairs",
    "Queries": "features.collections",
    "TestCollection": "features.collections",
    "available_scorers": "features.scorers",
    "extract": "features.extraction",
    "get_scorer": "features.scorers",
    "load_documents": "features.collections",
    "load_queries": "features.collections",
    "load_test_collection": "features.collections",
    "qid_mapping": "features.extraction",
    "read_qrels": "features.collections",
    "register": "features.scorers",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'features' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
