"""Feature logging: (queries, candidate documents, judgments) -> :class:`ltr.RankingDataset`.

:func:`extract` scores every candidate of every query with a :class:`~features.featureset.FeatureSet` and attaches
labels from the judgments (unjudged candidates get 0). Rows are grouped by query in the order of ``queries`` and,
within a query, by first-stage rank. The first-stage rank of a run's candidates (the ``first_stage_rank`` feature)
comes from its scores in trec_eval's order, not from its rank column (:func:`first_stage_ranks`). Queries without
any candidate are left out (a LETOR query needs rows).

LETOR query ids are integers. :func:`qid_mapping` maps string query ids: when every id is a decimal number they
keep their value (``"007"`` -> 7, provided no two ids collide), otherwise queries are numbered 1, 2, ... in the
order given. The CLI writes the mapping next to the LETOR file when it is not the identity.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from features._threads import numba_threads, workqueue_turn
from features.collections._base import ID_NEED, Collection, Queries, standard_columns
from features.collections.qrels import check_qrels
from features.featureset import FeatureSet
from features.index import InvertedIndex
from features.pairs import PairSet
from features.retrieval import as_queries
from ltr.datasets import RankingDataset
from ltr.groups import group_ptr_from_sizes
from ltr.metrics.trec import checked_ids

__all__ = ["candidates_frame", "drop_repeated_candidates", "extract", "first_stage_ranks", "qid_mapping"]

log = logging.getLogger(__name__)


def qid_mapping(qids: Sequence[str]) -> dict[str, int]:
    """String query id -> LETOR integer id (module docstring).

    Examples
    --------
    >>> qid_mapping(["1", "002", "10"])
    {'1': 1, '002': 2, '10': 10}
    >>> qid_mapping(["PLAIN-2", "PLAIN-1"])
    {'PLAIN-2': 1, 'PLAIN-1': 2}
    """
    qids = list(dict.fromkeys(str(q) for q in qids))
    if all(q.isdecimal() for q in qids):
        as_int = [int(q) for q in qids]
        if len(set(as_int)) == len(as_int) and all(v < 2**63 for v in as_int):
            return dict(zip(qids, as_int))
    return {q: i + 1 for i, q in enumerate(qids)}


def drop_repeated_candidates(cand: pd.DataFrame) -> pd.DataFrame:
    """``cand`` (:func:`candidates_frame`) without the rows repeating a (query, document) pair, the first of each
    kept (its rank and score are the first stage's), said in one warning naming the run file where the frame
    carries it (``attrs["path"]``), the count and the first pair repeated: ``ltr evaluate`` refuses such a run, as
    trec_eval does, and pytrec_eval, given it as a dict, keeps the last line, so the two can rank it differently
    (trial t62: the warning named neither the file nor the pair)."""
    dup = cand.duplicated(["qid", "docno"]).to_numpy()
    if not dup.any():
        return cand
    source = cand.attrs.get("path")
    first = cand[dup].iloc[0]
    log.warning("%scandidates: %d duplicate (query, document) row(s) dropped, the first line of each pair kept "
                "(first repeated: query %r, document %r); ltr evaluate refuses such a run, as trec_eval does",
                f"{source}: " if source else "", int(dup.sum()), str(first["qid"]), str(first["docno"]))
    return cand[~dup]


def candidates_frame(candidates: pd.DataFrame | Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Candidates as a DataFrame with ``qid``, ``docno``, ``rank``, ``score`` (a run, or ``{qid: [docno, ...]}``
    in rank order with score 0), ``rank`` the first stage's 1-based rank as :func:`first_stage_ranks` makes it.

    A frame without ``score`` ranks by its ``rank`` column (or, without one, in the order given); one without
    ``rank`` ranks by score, ties in the order given (PyTerrier's ``add_ranks``).

    A (query, document) pair given again (a repeated run line) is the candidate given first: the ranks are those of
    the candidates without the repeats, so that a query's candidates are ranked 1..n whatever their number, and
    each repeat gets its first row's rank (and is kept, for the caller to drop and count: :func:`extract`,
    :meth:`features.serve.Reranker.rerank_run`).

    Examples
    --------
    >>> run = pd.DataFrame({"qid": ["1"] * 3, "docno": ["a", "b", "c"], "rank": [0, 0, 0], "score": [1.0, 3.0, 2.0]})
    >>> candidates_frame(run)["rank"].tolist()
    [3, 1, 2]
    >>> candidates_frame(pd.concat([run, run.iloc[:1].assign(score=9.0)]))["rank"].tolist()  # 'a' again: rank 3
    [3, 1, 2, 3]
    """
    if isinstance(candidates, pd.DataFrame):
        df = standard_columns(candidates, ["qid", "docno"], ["rank", "score"], what="candidates")
        if "score" not in df:
            df["score"] = 0.0
        try:
            df["score"] = df["score"].astype(np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(f"candidates: the score column must hold numbers ({e})") from None
        bad = np.flatnonzero(~np.isfinite(df["score"].to_numpy()))
        if bad.size:  # ranked last by a sort, so deciding feedback documents, where a run file's NaN is refused
            i = int(bad[0])
            raise ValueError(f"candidates: query {df['qid'][i]}, document {df['docno'][i]}: score "
                             f"{float(df['score'][i])!r} is not a finite number ({bad.size} such score(s)); a run's "
                             "scores must be finite, as a run file's are")
    elif not isinstance(candidates, Mapping):
        hint = ("; for (qid, docno) pairs, pass pd.DataFrame(pairs, columns=['qid', 'docno'])"
                if isinstance(candidates, (list, tuple)) and candidates and isinstance(candidates[0], (list, tuple))
                else "")
        raise TypeError(f"candidates must be a DataFrame (qid, docno and optionally score, rank: a run) or a "
                        f"mapping {{qid: [docno, ...]}}, got {type(candidates).__name__}{hint}")
    else:
        for q, docs in candidates.items():
            if isinstance(docs, (str, bytes)):
                raise TypeError(f"candidates[{q!r}] must be a sequence of document ids, got the string {docs!r}; "
                                f"pass [{docs!r}]")
        rows = [(q, d, i + 1) for q, docs in candidates.items() for i, d in enumerate(docs)]
        df = pd.DataFrame(rows, columns=["qid", "docno", "rank"], dtype=object)
        # 1.0 is '1' and None an error, as in a frame (review of trial t60)
        df = checked_ids(df, "candidates", shown={"qid": "query id", "docno": "document id"}, need=ID_NEED)
        df = df.assign(qid=df["qid"].astype(str), docno=df["docno"].astype(str), rank=df["rank"].astype(np.int64))
        df["score"] = 0.0
    repeat = df.duplicated(["qid", "docno"]).to_numpy()
    first = df[~repeat] if repeat.any() else df
    if "rank" not in first:  # by score, as a run ranks (ties in the order given; all 0: the order given)
        rank = first.groupby("qid")["score"].rank(method="first", ascending=False).to_numpy(np.int64)
    else:
        rank = first_stage_ranks(first["qid"], first["docno"], first["score"], first["rank"])
    if repeat.any():  # each repeat takes its first row's rank
        of = dict(zip(zip(first["qid"], first["docno"]), rank.tolist()))
        full = np.empty(len(df), dtype=np.int64)
        full[~repeat] = rank
        full[repeat] = [of[k] for k in zip(df["qid"][repeat], df["docno"][repeat])]
        rank = full
    df["rank"] = rank
    return df[["qid", "docno", "rank", "score"]].reset_index(drop=True)


def first_stage_ranks(qid: ArrayLike, docno: ArrayLike, score: ArrayLike, rank: ArrayLike) -> NDArray[np.int64]:
    """Each row's 1-based rank within its query in the run's order: score descending, then docno descending, as
    trec_eval orders a run (:func:`ltr.metrics.evaluate_run`, :func:`ltr.fusion.fuse` too).

    trec_eval ignores the rank column ("the rank field is ignored"), and tools fill it in differently: PyTerrier's
    ``write_results`` writes its 0-based ranks, some tools a constant or a rank left over from before a rescoring.
    It only breaks ties of score, and only in a query where it agrees with the scores (distinct ranks, increasing
    as the score decreases): so a run that ranks ties in its own order (``ltr features --topk`` ranks them in
    collection order) keeps that order, and its ranks when they are 1..n. Elsewhere it is ignored.

    Examples
    --------
    >>> first_stage_ranks(["1"] * 3, ["a", "b", "c"], [1.0, 3.0, 2.0], [1, 2, 3]).tolist()   # contradicts
    [3, 1, 2]
    >>> first_stage_ranks(["1"] * 3, ["a", "b", "c"], [2.0, 2.0, 1.0], [0, 1, 2]).tolist()   # PyTerrier's 0-based
    [1, 2, 3]
    >>> first_stage_ranks(["1"] * 3, ["a", "b", "c"], [2.0, 2.0, 1.0], [5, 5, 5]).tolist()   # ties: docno desc
    [2, 1, 3]
    """
    q_codes, uniques = pd.factorize(np.asarray(qid, dtype=object))
    d_codes, _ = pd.factorize(np.asarray(docno, dtype=object).astype(str), sort=True)  # as strcmp on UTF-8
    score = np.asarray(score, dtype=np.float64)
    rank = np.asarray(rank, dtype=np.float64)
    n = score.size
    # A query's rank column agrees with its scores when, taken in rank order, ranks strictly increase and scores
    # never increase.
    by_rank = np.lexsort((rank, q_codes))
    q, r, s = q_codes[by_rank], rank[by_rank], score[by_rank]
    bad = (q[1:] == q[:-1]) & ((r[1:] <= r[:-1]) | (s[1:] > s[:-1]) | np.isnan(r[1:]))
    ignored = np.zeros(len(uniques), dtype=bool)
    ignored[q[1:][bad]] = True
    ignored[q[np.isnan(r)]] = True
    if ignored.any():
        log.info("candidates: the rank column of %d of %d queries disagrees with the scores (e.g. query %r): "
                 "ranked by score, then docno descending, as trec_eval", int(ignored.sum()), len(uniques),
                 uniques[int(np.flatnonzero(ignored)[0])])
    tie = np.where(ignored[q_codes], 0.0, rank)
    order = np.lexsort((-d_codes, tie, -score, q_codes))
    sizes = np.bincount(q_codes, minlength=len(uniques))
    starts = np.cumsum(sizes) - sizes
    out = np.empty(n, dtype=np.int64)
    out[order] = np.arange(n) - np.repeat(starts, sizes) + 1
    return out


def extract(
    index: InvertedIndex,
    queries: Queries | Mapping[str, str] | Sequence[tuple[str, str]] | pd.DataFrame,
    candidates: pd.DataFrame | Mapping[str, Sequence[str]],
    feature_set: str | FeatureSet | Sequence = "default",
    *,
    qrels: pd.DataFrame | None = None,
    add_judged: bool = False,
    on_unknown: str = "warn",
    progress: bool = False,
    n_jobs: int | None = None,
    collection: Collection | None = None,
    negative_labels: str = "zero",
    some_queries: bool = False,
) -> RankingDataset:
    """Compute features for every (query, candidate) pair.

    Parameters
    ----------
    index : InvertedIndex
    queries : Queries, ``{qid: text}``, ``[(qid, text)]`` or DataFrame(qid, text)
    candidates : DataFrame or dict
        A run (``qid``, ``docno``, optional ``rank`` and ``score``: the first-stage columns; the rank is
        made from the scores in trec_eval's order, :func:`first_stage_ranks`) or ``{qid: [docno, ...]}``.
    feature_set : "default", path, list of entries, or FeatureSet
    qrels : DataFrame(qid, docno, rel), optional
        Labels; unjudged candidates get 0. Without qrels every label is 0.
    add_judged : bool
        Also score judged documents the first stage missed (their first-stage rank is one past the last
        retrieved, the query's largest first-stage rank, the places of unknown documents dropped from the
        candidates included; their score the lowest retrieved minus 1). They are marked as added (:class:`PairSet`'s
        ``added``) and are never feedback documents (``rm3``, ``bo1``): the retrieved documents' features are the
        same with and without ``add_judged``, as :class:`features.serve.Reranker` computes them.
    on_unknown : {"warn", "error", "ignore"}
        Candidates or judgments naming an unknown query or document: drop with a warning giving counts, raise,
        or drop silently. Duplicate candidates of a query are always dropped with a warning (the first kept;
        the ranks are those of the candidates without them: :func:`candidates_frame`).
    progress : bool
        tqdm progress bars.
    n_jobs : int, optional
        Numba threads for the kernels (default: Numba's setting).
    collection : Collection, optional
        The documents' text, for scorers that read it (``biencoder``, ``crossencoder``); every indexed document
        must be in it. Query ids and raw query texts always reach the scorers.
    negative_labels : {"zero", "keep"}, default="zero"
        Judgments below 0 (the Web track's -2 for spam, -1 where a collection marks junk): label 0, not relevant,
        as trec_eval's MAP and NDCG count them (trec_eval reads them as pooled but unjudged, which its bpref leaves
        out), with a warning giving their count, so that the engines' rankers (which refuse
        negative labels) train on the data; or ``"keep"`` them as they are.
    some_queries : bool, default=False
        The queries are a part of a larger set extracted in parts (:mod:`features.distributed`'s shards): a score
        file's entries for the other queries are expected (:class:`~features.pairs.PairSet`'s ``some_queries``).

    Returns
    -------
    RankingDataset
        ``X`` float32, ``y`` the labels, ``qid`` per :func:`qid_mapping` (query ids that are not all integers, such
        as NFCorpus' ``PLAIN-3``, are numbered 1..n in query order: ``{v: k for k, v in
        qid_mapping(queries).items()}`` maps them back, the map ``ltr features`` writes beside its LETOR file),
        ``doc_ids`` the document ids, ``feature_names`` the column names and ``feature_set`` the description a
        model trained on it keeps (:meth:`FeatureSet.to_dict`).
    """
    if negative_labels not in ("zero", "keep"):
        raise ValueError(f"negative_labels must be 'zero' or 'keep', got {negative_labels!r}")
    qs = as_queries(queries)
    fs = FeatureSet.load(feature_set)
    cand = candidates_frame(candidates)
    # The last place of each query's first stage, taken before unknown documents are dropped: they keep their
    # places in the ranking, so a judged document added below goes one past them too (not n + 1 over the rows left,
    # which would tie it with a retrieved document).
    last_rank = cand.groupby("qid", sort=False)["rank"].max().to_dict() if add_judged and qrels is not None else {}
    cand = check_qrels(cand, qs.qids, index.doc_ids, on_unknown=on_unknown, what="candidates")
    cand = drop_repeated_candidates(cand)
    labels: dict[tuple[str, str], float] = {}
    if qrels is not None:  # PyTerrier's (label) and ir_datasets' (query_id, doc_id, relevance) names too
        qrels = standard_columns(qrels, ["qid", "docno", "rel"], what="qrels")
        qrels = check_qrels(qrels, qs.qids, index.doc_ids, on_unknown=on_unknown, what="qrels")
        rel = pd.to_numeric(qrels["rel"], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(rel)
        if bad.any():  # (read_qrels refuses them by file and line; a frame given in Python reaches here)
            i = int(np.flatnonzero(bad)[0])
            row = qrels.iloc[i]
            raise ValueError(f"qrels: the relevance of document {str(row['docno'])!r} for query {str(row['qid'])!r} "
                             f"is {row['rel']!s}, not a finite number ({int(bad.sum())} such row(s))")
        # read_qrels' rules for a frame given in Python: the last of two grades won, silently, add_judged added the
        # document twice, and 1.5 was a label (trial t58)
        fractional = np.floor(rel) != rel
        if fractional.any():
            i = int(np.flatnonzero(fractional)[0])
            row = qrels.iloc[i]
            raise ValueError(f"qrels: the relevance of document {str(row['docno'])!r} for query {str(row['qid'])!r} "
                             f"is {float(rel[i])!r}, not an integer (read_qrels refuses it in a file; trec_eval's atol "
                             "would truncate it)")
        pairs = pd.DataFrame({c: qrels[c].astype(str).to_numpy() for c in ("qid", "docno")})
        twice = pairs.duplicated().to_numpy()
        if twice.any():
            i = int(np.flatnonzero(twice)[0])
            raise ValueError(f"qrels: document {pairs['docno'].iat[i]!r} is judged twice for query "
                             f"{pairs['qid'].iat[i]!r} ({int(twice.sum())} such row(s)), which read_qrels refuses in "
                             "a file: keep one judgment")
        labels = {(q, d): float(r) for q, d, r in zip(qrels["qid"].astype(str), qrels["docno"].astype(str),
                                                       qrels["rel"])}
    cand = cand.sort_values(["qid", "rank"], kind="stable")
    by_q = {q: g for q, g in cand.groupby("qid", sort=False)}
    added_pairs: set[tuple[str, str]] = set()  # judged documents the first stage missed
    if add_judged and qrels is not None:
        judged = {q: g["docno"].astype(str).tolist() for q, g in qrels.groupby("qid", sort=False)}
        added = 0
        for q in qs.qids:
            docs = judged.get(q, [])
            g = by_q.get(q)
            have = set(g["docno"]) if g is not None else set()
            extra = [d for d in docs if d not in have]
            if not extra:
                continue
            low = 0.0 if g is None or not len(g) else float(g["score"].min()) - 1.0
            ext = pd.DataFrame({"qid": q, "docno": extra, "rank": int(last_rank.get(q, 0)) + 1, "score": low})
            by_q[q] = ext if g is None else pd.concat([g, ext], ignore_index=True)
            added_pairs.update((q, d) for d in extra)
            added += len(extra)
        log.info("added %d judged document(s) missed by the first stage", added)
    kept = [q for q in qs.qids if q in by_q and len(by_q[q])]
    if len(kept) < len(qs):
        missing = [q for q in qs.qids if q not in by_q or not len(by_q[q])]
        log.warning("%d of %d queries have no candidate and are left out (%s%s)", len(missing), len(qs),
                    ", ".join(repr(q) for q in missing[:5]), ", ..." if len(missing) > 5 else "")
    if not kept:
        raise ValueError("no query has any candidate document: nothing to extract")
    text = dict(qs.items())
    parts = [by_q[q] for q in kept]
    rows = pd.concat(parts, ignore_index=True)
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    pairs = PairSet(
        index,
        [index.query_terms(text[q]) for q in kept],
        group_ptr_from_sizes(sizes),
        index.doc_index(rows["docno"]),
        first_stage_score=rows["score"].to_numpy(dtype=np.float64),
        first_stage_rank=rows["rank"].to_numpy(dtype=np.float64),
        added=None if not added_pairs else np.array([(q, d) in added_pairs for q, d in
                                                     zip(rows["qid"], rows["docno"])], dtype=bool),
        qids=kept,
        query_texts=[text[q] for q in kept],
        collection=collection,
        some_queries=some_queries,
    )
    with workqueue_turn(), numba_threads(n_jobs):  # threads take turns where Numba's layer is workqueue
        X, names, _ = fs.compute(pairs, progress=progress)
    mapping = qid_mapping(qs.qids)
    y = np.array([labels.get((q, d), 0.0) for q, d in zip(rows["qid"], rows["docno"])], dtype=np.float64)
    negative = y < 0
    if negative_labels == "zero" and negative.any():
        grades = ", ".join(f"{v:g}" for v in np.unique(y[negative]))
        log.warning("%d candidate(s) judged below 0 (%s) get label 0, not relevant, as trec_eval's MAP and NDCG "
                    "count them (to keep them: negative_labels='keep', ltr features --negative-labels keep)",
                    int(negative.sum()), grades)
        y[negative] = 0.0
    return RankingDataset(
        X=X.astype(np.float32),
        y=y,
        qid=np.repeat(np.array([mapping[q] for q in kept], dtype=np.int64), sizes),
        group_ptr=pairs.group_ptr,
        doc_ids=rows["docno"].to_numpy(dtype=object),
        feature_names=names,
        feature_set=fs.to_dict(index),  # as ltr features writes it: a model trained on it knows its features
    )
