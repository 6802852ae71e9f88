"""TREC-style evaluation of a run against qrels, as trec_eval does it, on the same kernels as the array path.

The judged set of a query may hold documents the run did not retrieve: they count in the number of relevant
documents (MAP, Recall, RR's "has a relevant document") and in the ideal DCG, as in trec_eval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ltr.metrics.api import _mean, _run_kernel
from ltr.metrics.registry import parse_metrics

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["evaluate_run", "evaluate_run_per_query"]


def _require(frame: pd.DataFrame, what: str, columns: tuple[str, ...]) -> None:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; it has {list(frame.columns)}")


def _no_duplicates(frame: pd.DataFrame, what: str) -> None:
    dup = frame.duplicated(["qid", "docno"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise ValueError(
            f"{what} lists document {row['docno']!r} twice for query {row['qid']!r} (trec_eval refuses duplicates)"
        )


def evaluate_run_per_query(
    qrels: pd.DataFrame,
    run: pd.DataFrame,
    metrics: str | Sequence[str] = ("ndcg@10",),
    *,
    gain: str = "linear",
    no_relevant: float = 0.0,
    rel_threshold: float = 1.0,
    max_grade: float = 4.0,
) -> pd.DataFrame:
    """Per-query metrics of a TREC run, with trec_eval's conventions.

    Each query's documents are ranked by ``score`` descending, ties broken by ``docno`` descending (trec_eval's
    order; the ``rank`` column is ignored, as trec_eval ignores it). Run documents missing from the qrels count
    as non-relevant (label 0). The full judged list of the query defines the number of relevant documents and the
    ideal DCG. Queries in the run but not in the qrels are skipped, and queries in the qrels but not in the run
    are absent (trec_eval without ``-c``; pytrec_eval behaves the same).

    Parameters
    ----------
    qrels : pandas.DataFrame
        Columns ``qid``, ``docno`` (read as str) and ``rel`` (int grade; negative grades have no gain and are
        not relevant).
    run : pandas.DataFrame
        Columns ``qid``, ``docno`` and ``score``; ``rank`` and ``tag`` may be present and are ignored.
    metrics : str or sequence of str, default=("ndcg@10",)
        Names parsed by :func:`ltr.metrics.parse_metric`.
    gain : {"linear", "exp2"}, default="linear"
        NDCG/DCG gain; ``"linear"`` is trec_eval's.
    no_relevant, rel_threshold, max_grade
        Conventions, see :mod:`ltr.metrics`.

    Returns
    -------
    pandas.DataFrame
        Index ``qid`` (str, sorted), one float64 column per canonical metric name.

    Examples
    --------
    Document ``c`` (relevant) was not retrieved: recall is 1/2 and AP is (1/1) / 2.

    >>> import pandas as pd
    >>> qrels = pd.DataFrame({"qid": ["1", "1", "1"], "docno": ["a", "b", "c"], "rel": [1, 0, 1]})
    >>> run = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "score": [2.0, 1.0]})
    >>> evaluate_run_per_query(qrels, run, ["map", "recall@10"])
         map  recall@10
    qid
    1    0.5        0.5
    """
    import pandas as pd  # imported here: the array path does not need pandas

    _require(qrels, "qrels", ("qid", "docno", "rel"))
    _require(run, "run", ("qid", "docno", "score"))
    parsed = parse_metrics(metrics)
    q = pd.DataFrame({
        "qid": qrels["qid"].astype(str).to_numpy(),
        "docno": qrels["docno"].astype(str).to_numpy(),
        "rel": pd.to_numeric(qrels["rel"]).to_numpy(dtype=np.float64),
    })
    r = pd.DataFrame({
        "qid": run["qid"].astype(str).to_numpy(),
        "docno": run["docno"].astype(str).to_numpy(),
        "score": pd.to_numeric(run["score"]).to_numpy(dtype=np.float64),
    })
    if np.isnan(r["score"].to_numpy()).any():
        bad = r[np.isnan(r["score"].to_numpy())].iloc[0]
        raise ValueError(f"run has a NaN score for query {bad['qid']!r}, document {bad['docno']!r}")
    if not np.isfinite(q["rel"].to_numpy()).all():
        raise ValueError("qrels has a missing or non-finite rel")
    _no_duplicates(q, "qrels")
    _no_duplicates(r, "run")

    # trec_eval skips run queries without judgments.
    r = r[r["qid"].isin(pd.unique(q["qid"]))]
    # trec_eval's order: score descending, then docno descending (stable sorts, least significant key first).
    r = r.sort_values("docno", ascending=False, kind="stable")
    r = r.sort_values("score", ascending=False, kind="stable")
    r = r.sort_values("qid", kind="stable")
    r = r.merge(q, on=["qid", "docno"], how="left", sort=False)
    labels = r["rel"].fillna(0.0).to_numpy(dtype=np.float64)
    scores = r["score"].to_numpy(dtype=np.float64)

    qids = pd.unique(r["qid"])  # sorted, since r is
    run_sizes = r.groupby("qid", sort=True).size().reindex(qids).to_numpy(dtype=np.int64)
    judged = q[q["qid"].isin(qids)].sort_values("qid", kind="stable")
    judged_sizes = judged.groupby("qid", sort=True).size().reindex(qids).to_numpy(dtype=np.int64)
    group_ptr = np.concatenate(([0], np.cumsum(run_sizes))).astype(np.int64)
    ideal_ptr = np.concatenate(([0], np.cumsum(judged_sizes))).astype(np.int64)
    ideal = np.ascontiguousarray(judged["rel"].to_numpy(dtype=np.float64))

    # The rows are already in trec_eval's order: "stable" keeps it for equal scores.
    out = _run_kernel(
        np.ascontiguousarray(labels), np.ascontiguousarray(scores), group_ptr, ideal, ideal_ptr, parsed,
        gain=gain, ties="stable", no_relevant=no_relevant, rel_threshold=rel_threshold, max_grade=max_grade,
    )
    frame = pd.DataFrame({p.name: out[i] for i, p in enumerate(parsed)}, index=pd.Index(qids, name="qid"))
    return frame


def evaluate_run(
    qrels: pd.DataFrame,
    run: pd.DataFrame,
    metrics: str | Sequence[str] = ("ndcg@10",),
    *,
    gain: str = "linear",
    no_relevant: float = 0.0,
    rel_threshold: float = 1.0,
    max_grade: float = 4.0,
) -> dict[str, float]:
    """Mean over the evaluated queries of :func:`evaluate_run_per_query` (trec_eval's ``all`` line).

    Returns
    -------
    dict of str to float
        Keyed by canonical metric name; NaN when no query of the run is judged.

    Examples
    --------
    >>> import pandas as pd
    >>> qrels = pd.DataFrame({"qid": ["1", "1", "2"], "docno": ["a", "b", "c"], "rel": [1, 0, 2]})
    >>> run = pd.DataFrame({"qid": ["1", "1", "2"], "docno": ["a", "b", "c"], "score": [1.0, 2.0, 0.0]})
    >>> evaluate_run(qrels, run, ["mrr", "p@1"])
    {'mrr': 0.75, 'p@1': 0.5}
    """
    per_query = evaluate_run_per_query(
        qrels, run, metrics, gain=gain, no_relevant=no_relevant, rel_threshold=rel_threshold, max_grade=max_grade
    )
    if per_query.empty:
        return {name: math.nan for name in per_query.columns}
    return {name: _mean(per_query[name].to_numpy()) for name in per_query.columns}
