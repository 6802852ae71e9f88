"""Feature extraction over query shards on a Dask cluster: :func:`features.extraction.extract` on each worker.

Queries are cut into contiguous shards; each shard's candidates and judgments go with it, and each worker loads the
saved index once (cached per worker process, keyed by the file's path, size, modification time, inode and change
time), however many shards it scores. Features of a query depend only on that query and the index (scoring queries
together equals scoring them one by one, as the scorer tests check), so the shards, concatenated in query order, are
the dataset :func:`~features.extraction.extract` returns on the whole input; query ids are mapped to LETOR integers
once, over all queries (:func:`~features.extraction.qid_mapping`). Neural features are the one exception, in the
last float32 bit: documents are encoded in batches (with the shard's other candidates) unless the embedding cache
already holds them, as for a cache filled partly by other runs.

The index file comes from :func:`features.pipeline.load_or_build_index` (``ltr features --index PATH`` saves
one); every worker must be able to read that path. Needs the ``dask`` extra.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from features.collections._base import standard_columns
from features.collections.qrels import check_qrels
from features.extraction import candidates_frame, drop_repeated_candidates, extract, qid_mapping
from features.retrieval import as_queries
from ltr.datasets import RankingDataset

__all__ = ["extract_distributed"]

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=2)
def _index(path: str, size: int, mtime_ns: int, inode: int, ctime_ns: int):
    # Once per worker process (and per version of the file): the key changes when the file does. The inode and
    # change time too: a file replaced by one of the same size and modification time (cp -p, rsync -a) was served
    # from the old index (trial t59), as the score files and model digests are keyed.
    from features.index import InvertedIndex

    return InvertedIndex.load(path)


def _loaded_index(path: str):
    """The index saved at ``path``, loaded once per version of the file (:func:`_index`)."""
    st = os.stat(path)
    return _index(path, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


class _Said(logging.Handler):
    """The warnings of the feature layer's loggers during one shard's extraction, to be said again by the caller
    (a worker's own log is out of the user's sight)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.thread = threading.get_ident()  # a worker of threads extracts other shards beside this one

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(record.getMessage())


def _extract_shard(index_path: str, queries: list[tuple[str, str]], candidates: pd.DataFrame, feature_set,
                   qrels: pd.DataFrame | None, options: dict) -> tuple[RankingDataset | None, list[str]]:
    index = _loaded_index(index_path)
    said = _Said()
    root = logging.getLogger("features")
    root.addHandler(said)
    try:
        return extract(index, queries, candidates, feature_set, qrels=qrels, some_queries=True, **options), said.lines
    except ValueError as e:
        if "no query has any candidate" not in str(e):
            raise
        return None, said.lines  # a shard of queries without candidates: none of it
    finally:
        root.removeHandler(said)


def extract_distributed(index_path: str | os.PathLike, queries, candidates: pd.DataFrame | Mapping[str, Sequence[str]],
                        feature_set="default", *, client=None, qrels: pd.DataFrame | None = None,
                        n_shards: int | None = None, **options) -> RankingDataset:
    """:func:`features.extraction.extract` over query shards on the Dask workers; the same dataset as one call.

    Candidates and judgments of queries ``queries`` lacks, and repeated candidates, are checked here as
    :func:`~features.extraction.extract` checks them (``on_unknown``); what each shard's extract warns of (unknown
    documents, queries left without a candidate, negative labels) is warned again here, naming the shard.

    Parameters
    ----------
    index_path : path
        A saved :class:`~features.index.InvertedIndex`, readable by every worker.
    queries, candidates, feature_set, qrels, **options
        As :func:`~features.extraction.extract` (``options``: ``add_judged``, ``on_unknown``, ``n_jobs``, ...).
    client : distributed.Client, optional
        Default: the current client.
    n_shards : int, optional
        Query shards (default: two per worker).
    """
    if client is None:
        try:
            import distributed
        except ImportError as e:  # as ltr.dask says it (a bare ModuleNotFoundError; trial t59)
            raise ImportError('distributed feature extraction needs the dask extra: pip install "ltrkit[dask]" '
                              "(dask[distributed,dataframe])") from e
        try:
            client = distributed.default_client()
        except ValueError:
            raise ValueError("no Dask client: pass client=, or call inside `with ltr.dask.connect(address):`") \
                from None
    path = os.fspath(index_path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"index file not found: {path} (save one with features.pipeline."
                                "load_or_build_index or `ltr features --index PATH`)")
    from features.index import warn_format_1

    warn_format_1(path)  # the workers load it; the driver says how its positions count, as ltr features does
    qs = as_queries(queries)
    cand = candidates_frame(candidates)
    cand["qid"] = cand["qid"].astype(str)
    # Rows of queries outside `queries` would reach no shard: checked here as extract checks them (raised, warned or
    # dropped by on_unknown); the documents are checked by each shard's extract, whose warnings are said here.
    on_unknown = options.get("on_unknown", "warn")
    cand = check_qrels(cand, qs.qids, None, on_unknown=on_unknown, what="candidates")
    cand = drop_repeated_candidates(cand)  # as extract says it, once for the whole input
    if qrels is not None:
        qrels = standard_columns(qrels, ["qid", "docno", "rel"], what="qrels")
        qrels = qrels.assign(qid=qrels["qid"].astype(str))
        qrels = check_qrels(qrels, qs.qids, None, on_unknown=on_unknown, what="qrels")
    # A score file whose query ids are the topics' with leading zeros matches no candidate: one process's extract
    # refuses it, a shard cannot tell it from a file of other queries, so it is checked here over every candidate.
    from features.featureset import FeatureSet
    from features.scorers.neural.file import NeuralFile

    try:
        scorers = FeatureSet.load(feature_set).scorers
    except (OSError, ValueError):  # files only the workers can read (or a bad set): the workers say what they meet
        scorers = ()
    for scorer in scorers:
        if isinstance(scorer, NeuralFile):
            try:
                scorer.check_query_ids(zip(cand["qid"], cand["docno"].astype(str)), qs.qids)
            except OSError:
                pass
    if n_shards is None:
        n_shards = 2 * max(1, len(client.scheduler_info().get("workers", {})))
    n_shards = max(1, min(int(n_shards), len(qs.qids)))
    cuts = np.linspace(0, len(qs.qids), n_shards + 1).round().astype(int)
    items = list(qs.items())
    futures, shard_qids = [], []
    for a, b in zip(cuts[:-1], cuts[1:]):
        if b <= a:
            continue
        part = items[a:b]
        ids = {q for q, _ in part}
        futures.append(client.submit(
            _extract_shard, path, part, cand[cand["qid"].isin(ids)],
            feature_set, None if qrels is None else qrels[qrels["qid"].isin(ids)], options, pure=False))
        shard_qids.append([q for q, _ in part])
    results = []
    for k, (f, qids) in enumerate(zip(futures, shard_qids)):
        d, said = f.result()
        for line in said:
            log.warning("shard %d of %d (queries %r..%r): %s", k + 1, len(futures), qids[0], qids[-1], line)
        if d is not None:
            results.append((d, qids))
    if not results:
        raise ValueError("no query has any candidate document: nothing to extract")
    mapping = qid_mapping(qs.qids)
    qid = []
    for d, qids in results:  # each shard numbered its own queries: back to their ids, then the global numbers
        back = {v: k for k, v in qid_mapping(qids).items()}
        qid.append(np.array([mapping[back[int(v)]] for v in d.qid], dtype=np.int64))
    sizes = np.concatenate([d.group_sizes for d, _ in results])
    first = results[0][0]
    return RankingDataset(
        X=np.concatenate([d.X for d, _ in results]), y=np.concatenate([d.y for d, _ in results]),
        qid=np.concatenate(qid), group_ptr=np.concatenate(([0], np.cumsum(sizes))),
        doc_ids=np.concatenate([d.doc_ids for d, _ in results]), feature_names=first.feature_names)
