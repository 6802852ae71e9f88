"""IR metrics that agree with the field's references: NDCG, DCG, MAP/AP, MRR/RR, P@k, Recall@k and ERR.

Two entry points share one set of Numba kernels:

- the toolkit's arrays: :func:`evaluate` (means) and :func:`evaluate_per_query` (per-query arrays) over labels
  and scores sorted by query with exactly one of ``group_ptr``, ``qid`` or ``group``; plus one function per
  metric (:func:`ndcg`, :func:`dcg`, :func:`average_precision`, :func:`reciprocal_rank`, :func:`precision`,
  :func:`recall`, :func:`err`) returning the per-query array;
- TREC runs and qrels as pandas DataFrames: :func:`evaluate_run` and :func:`evaluate_run_per_query`.

Metric names
------------
One parser, :func:`parse_metric`, backed by :data:`REGISTRY`. Matching is case-insensitive and a cutoff may be
written ``@k``, ``_k`` or ``.k``. Results are keyed by the canonical spelling:

============  ==========================================  ===================================
canonical     also accepted                               without a cutoff
============  ==========================================  ===================================
``ndcg@k``    ``nDCG@k``, ``ndcg_cut_k``                  ``ndcg``: the whole list
``dcg@k``     ``dcg_cut_k``                               ``dcg``: the whole list
``map@k``     ``ap@k``, ``AP@k``, ``map_cut_k``           ``map``: the whole list
``mrr@k``     ``rr@k``, ``RR@k``, ``recip_rank``          ``mrr``: the whole list
``p@k``       ``P@k`` (ir_measures), ``P_k`` (trec_eval),  (a cutoff is required)
              ``precision@k`` (ranx)
``recall@k``  ``R@k``, ``recall_k``                       ``recall``: the whole list
``err@k``     ``ERR@k``                                   ``err``: the whole list
============  ==========================================  ===================================

An unknown name raises ``ValueError`` listing ``sorted(REGISTRY)``. Per query, ``map`` holds AP and ``mrr`` holds
RR; their means are MAP and MRR.

Conventions (all explicit parameters; defaults in brackets)
-----------------------------------------------------------
gain [``"exp2"``; ``"linear"`` in :func:`evaluate_run`]
    The DCG gain of label l: ``"exp2"`` is 2^l - 1 (Burges et al. 2005; LightGBM, XGBoost), ``"linear"`` is l
    (Järvelin and Kekäläinen 2002; trec_eval, ranx's ``ndcg``, sklearn's ``ndcg_score``). Labels <= 0 have no
    gain (trec_eval treats negative judgments so). The discount is 1 / log2(rank + 1), rank from 1. ERR always
    uses Chapelle's 2^l - 1 mapping.
ties [``"stable"``]
    How equal scores are ordered. ``"stable"``: the earlier row ranks higher (input order; LightGBM's ``ndcg``
    eval uses the same stable sort). ``"pessimistic"``: among equal scores, lower labels first (the worst case),
    then input order. ``"optimistic"``: higher labels first. :func:`evaluate_run` always uses trec_eval's order
    instead: score descending, then ``docno`` descending.
no_relevant [``0.0``]
    The value of a query that has nothing to find: no label >= ``rel_threshold`` for the binary metrics (MAP,
    MRR, P, Recall), no label > 0 (ideal DCG = 0) for NDCG and ERR. 0.0 is trec_eval's and ranx's choice;
    LightGBM's and XGBoost's ``ndcg``/``map`` count such a query as 1.0 (``no_relevant=1.0``); ``nan`` leaves
    those queries out of the means. DCG is not a ratio and is simply 0. Such queries are common (51 of the 156
    queries of MQ2008 Fold1 test; a few percent of MSLR-WEB's), so this choice moves the mean.
rel_threshold [``1``]
    A document is relevant for the binary metrics when its label is >= this (trec_eval's ``-l`` default).
max_grade [``4``]
    ERR's top grade: R = (2^l - 1) / 2^max_grade (Chapelle et al. 2009). 4 as in the TREC Web track's
    ``gdeval.pl`` (what ir_measures runs for ``ERR@k``) and the 0-4 scales of MSLR-WEB and Yahoo! LTR; a label
    above it raises ``ValueError``.
cutoffs
    ``@k`` uses the top ``min(k, n)`` documents; the ideal DCG uses the top ``min(k, number judged)`` labels.
    ``p@k`` divides by k even for queries shorter than k, and ``map@k`` divides by all relevant documents of the
    query (both as trec_eval's ``P_k`` and ``map_cut_k``).
bad input
    NaN scores raise ``ValueError`` (a NaN has no rank); ``+inf``/``-inf`` scores are ranked first/last. Labels
    must be finite. Empty input gives empty per-query arrays and NaN means.

TREC runs
---------
:func:`evaluate_run` reproduces trec_eval (checked against pytrec_eval): documents are ordered by score
descending then docno descending (the ``rank`` column is ignored), unjudged documents count as non-relevant,
the whole judged list of a query (retrieved or not) sets its number of relevant documents and its ideal DCG,
queries of the run absent from the qrels are skipped, and queries of the qrels absent from the run are left out
of the mean (trec_eval's default, without ``-c``).

Examples
--------
>>> from ltr.metrics import evaluate
>>> evaluate([2, 0, 1, 1, 0], [0.3, 0.2, 0.1, 0.5, 0.9], group=[3, 2], metrics=["ndcg@2", "mrr"])
{'ndcg@2': 0.7285, 'mrr': 0.75}
"""

from ltr.metrics.api import (
    average_precision,
    dcg,
    err,
    evaluate,
    evaluate_per_query,
    ndcg,
    precision,
    recall,
    reciprocal_rank,
)
from ltr.metrics.registry import REGISTRY, MetricSpec, ParsedMetric, parse_metric, parse_metrics
from ltr.metrics.trec import evaluate_run, evaluate_run_per_query

__all__ = [
    "REGISTRY",
    "MetricSpec",
    "ParsedMetric",
    "average_precision",
    "dcg",
    "err",
    "evaluate",
    "evaluate_per_query",
    "evaluate_run",
    "evaluate_run_per_query",
    "ndcg",
    "parse_metric",
    "parse_metrics",
    "precision",
    "recall",
    "reciprocal_rank",
]
