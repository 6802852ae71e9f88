"""IR metrics that agree with the field's references: NDCG, DCG, MAP/AP, MRR/RR, P@k, Recall@k, ERR, trec_eval's
R-precision, bpref, success@k and counts, and LETOR's MeanNDCG.

Two entry points share one set of Numba kernels:

- the toolkit's arrays: :func:`evaluate` (means) and :func:`evaluate_per_query` (per-query arrays) over labels
  and scores sorted by query with exactly one of ``group_ptr``, ``qid`` or ``group``; plus one function per
  classic metric (:func:`ndcg`, :func:`dcg`, :func:`average_precision`, :func:`reciprocal_rank`,
  :func:`precision`, :func:`recall`, :func:`err`) returning the per-query array;
- TREC runs and qrels as pandas DataFrames (trec_eval's ``qid``/``docno``/``rel``, PyTerrier's ``label``,
  ir_measures' ``query_id``/``doc_id``/``relevance``) or pytrec_eval's and ranx's ``{qid: {docno: value}}``:
  :func:`evaluate_run` and :func:`evaluate_run_per_query`, and :func:`format_trec_eval` for ``trec_eval -q``
  style lines.

:func:`aggregate` turns per-query values into a summary (counts summed, the rest averaged), and
:func:`describe_conventions` into the one line a table prints to say which conventions it used.

Metric names
------------
One parser, :func:`parse_metric`, backed by :data:`REGISTRY`. Matching is case-insensitive and a cutoff may be
written ``@k``, ``_k`` or ``.k``. Results are keyed by the canonical spelling:

===============  ==========================================  ===================================
canonical        also accepted                               without a cutoff
===============  ==========================================  ===================================
``ndcg@k``       ``nDCG@k``, ``ndcg_cut_k``                  ``ndcg``: the whole list (``ndcg_cut``
                                                             alone is refused: see below)
``dcg@k``        ``dcg_cut_k``                               ``dcg``: the whole list
``mean_ndcg``    ``MeanNDCG``                                (no cutoff) mean of NDCG@1..n
``map@k``        ``ap@k``, ``AP@k``, ``map_cut_k``           ``map``: the whole list
``mrr@k``        ``rr@k``, ``RR@k``, ``recip_rank``          ``mrr``: the whole list
``p@k``          ``P@k`` (ir_measures), ``P_k``              (a cutoff is required)
                 (trec_eval), ``precision@k`` (ranx)
``recall@k``     ``R@k``, ``recall_k``                       ``recall``: the whole list (trec_eval's
                                                             ``set_recall``)
``rprec``        ``Rprec``, ``R_prec``, ``r_precision``,     (no cutoff) precision at R
                 ``r-precision`` (ranx)
``bpref``        ``Bpref``                                   (no cutoff)
``success@k``    ``success_k``, ``Success@k``,               (a cutoff is required)
                 ``hit_rate@k`` (ranx)
``err@k``        ``ERR@k``                                   ``err``: the whole list
``num_q``        ``NumQ``                                    (no cutoff) counts, see below
``num_ret``      ``NumRet``
``num_rel``      ``NumRel``
``num_rel_ret``  ``NumRelRet``
===============  ==========================================  ===================================

Other tools' names are accepted only where their definition is the one computed here (each checked against
ranx and pytrec_eval on MQ2008). Refused, with a message saying what to write instead: trec_eval's ``ndcg_cut``
and ``map_cut`` without a cutoff (trec_eval prints them at 5, 10, 15, 20, 30, 100, 200, 500 and 1000, never over
the whole list: name the cutoffs, or write ``ndcg`` / ``map`` for the whole list), ranx's ``ndcg_burges@k`` and
``dcg_burges@k`` (``ndcg@k`` / ``dcg@k`` with ``gain="exp2"``, which :func:`evaluate_run` does not default to) and
ranx's ``hits@k`` (a count: k times ``p@k``).

One string may hold several names separated by commas (``"ndcg@10,map"``, as the command line's ``--metrics``).
An unknown name raises ``ValueError`` listing ``sorted(REGISTRY)``. Per query, ``map`` holds AP and ``mrr`` holds
RR; their means are MAP and MRR. Every result is keyed by the canonical name, whatever spelling was asked for;
:func:`metric_labels` (or ``ParsedMetric.requested``) gives the spelling asked for beside it, and
``ParsedMetric.trec_name`` trec_eval's (``ndcg_cut_10``, ``P_5``, ``recip_rank``, ``set_recall``...).

trec_eval's measures
    ``rprec``: relevant documents in the top R over R (R = relevant documents of the query; a ranking shorter than
    R counts its holes as misses). ``bpref``: (1/R) sum over the relevant retrieved documents of 1 - min(n, R) /
    min(R, N), with n the judged non-relevant documents ranked above it and N all judged non-relevant documents
    (Buckley and Voorhees, SIGIR 2004); on runs, documents without a judgment are skipped, as trec_eval does.
    ``success@k``: 1 if a relevant document is in the top k. ``num_q`` (1 per query), ``num_ret`` (ranked
    documents), ``num_rel`` (relevant documents judged), ``num_rel_ret`` (relevant documents ranked) are int64
    per query and are summed, not averaged, by :func:`evaluate`, :func:`evaluate_run` and :func:`aggregate`, as
    trec_eval sums them on its ``all`` line (so ``num_q`` there is the number of queries). On arrays every row
    is a judged, retrieved document: ``num_ret`` is the query's size and ``num_rel_ret`` equals ``num_rel``.

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
    instead: score descending (compared as float32, as trec_eval stores it), then ``docno`` descending. No mode
    averages over ties as scikit-learn's ``ndcg_score`` does by default (``ignore_ties=False``: each tied document
    gets the mean gain of its tie group): on queries without ties the two agree, on tied scores they differ (every
    score 0 on MQ2008 Fold1 test, gains 2^l - 1: NDCG@10 0.3269 there, 0.3257 here with ``"stable"``). The command line
    uses ``"stable"`` for LETOR scores (file order) and trec_eval's order for runs.
no_relevant [``0.0``]
    The value of a query that has nothing to find: no label >= ``rel_threshold`` for the binary metrics (MAP,
    MRR, P, Recall, R-precision, bpref, success), no label > 0 (ideal DCG = 0) for NDCG, MeanNDCG and ERR. 0.0
    is trec_eval's and ranx's choice; LightGBM's and XGBoost's ``ndcg``/``map`` count such a query as 1.0
    (``no_relevant=1.0``); ``nan`` leaves those queries out of the means. XGBoost's ``ndcg@k-`` counts it 0 (the
    default convention gives it); its ``map@k-`` counts it 0 too but divides the others by min(k, R), as LightGBM's
    ``map@k``, which no setting here gives (``convention="lightgbm"`` fixes 1).
    XGBoost's ``map@k`` divides as LightGBM's (``convention="lightgbm"``), and its ``ndcg`` and ``map`` without a
    cut-off stop at 32 (``ndcg@32``, ``map@32``; XGBoost 2.0 and later), not at the end of the list. DCG is not a
    ratio and is simply 0. Such queries are common (51 of the 156 queries of MQ2008 Fold1 test; a few percent of
    MSLR-WEB's), so this choice moves the mean.
rel_threshold [``1``]
    A document is relevant for the binary metrics when its label is >= this (trec_eval's ``-l`` default).
max_grade [``4``]
    ERR's top grade: R = (2^l - 1) / 2^max_grade (Chapelle et al. 2009). 4 as in the TREC Web track's
    ``gdeval.pl`` (what ir_measures runs for ``ERR@k``) and the 0-4 scales of MSLR-WEB and Yahoo! LTR; a label
    above it raises ``ValueError``.
cutoffs
    ``@k`` uses the top ``min(k, n)`` documents; the ideal DCG uses the top ``min(k, number judged)`` labels.
    ``p@k`` divides by k even for queries shorter than k, and ``map@k`` divides by all relevant documents of the
    query (both as trec_eval's ``P_k`` and ``map_cut_k``; RankLib's ``P@k`` divides by min(k, n), LightGBM's
    ``map@k`` by min(k, R): see the presets below). With the metrics named, :func:`describe_conventions` states
    these denominators.
convention [``"default"``]
    A preset reproducing another tool's numbers: ``"letor"`` (the official LETOR evaluation script),
    ``"lightgbm"`` (LightGBM's ``ndcg``/``map`` evaluation) or ``"ranklib"`` (RankLib's scorers), each in a
    section below. A preset fixes gain, ties, no_relevant and rel_threshold: a value left at the toolkit's
    default takes the tool's value (every entry point passes its default on, so it cannot mean "asked for"),
    another value than the tool's raises ``ValueError``; the command line, which can tell, refuses a default
    given as an option too (``--convention lightgbm --no-relevant 0``). ``max_grade`` stays free.
bad input
    NaN scores raise ``ValueError`` (a NaN has no rank); ``+inf``/``-inf`` scores are ranked first/last. Labels
    must be finite. Empty input gives empty per-query arrays and NaN means.

The LETOR preset (``convention="letor"``)
------------------------------------------
The published LETOR 3.0 and 4.0 baselines (``../shared/data/letor4_baselines``) were computed by Microsoft
Research Asia's scripts ``Eval-Score-3.0.pl`` and ``Eval-Score-4.0.pl`` (Jun Xu and Tie-Yan Liu; read from public
copies), whose rules differ from both trec_eval's and LightGBM's. The preset applies them; per query:

- documents sorted by score descending, equal scores kept in file order (the script sorts the documents by line
  number, then by score with Perl's stable merge sort), i.e. ``ties="stable"`` on rows in file order;
- gain 2 -> 3, 1 -> 1, 0 -> 0 (2^label - 1); relevant for P@k and MAP: label >= 1;
- discount: positions 1 and 2 are not discounted, position r >= 3 is divided by log2(r) (not log2(r + 1)); the
  ideal DCG sorts the query's own labels and uses the same discount;
- NDCG@k is 0 for a query with fewer than k documents (the script computes NDCG at existing positions only and
  sums a missing one as 0: this is why NDCG@9 and @10 of MQ2008, where about half the queries have 8 documents,
  are about 0.22 against about 0.46 at @8), and 0 for a query without relevant document;
- P@k = (relevant documents in the top k) / k, positions past the end counting as not relevant (LETOR 4.0);
- MAP: AP over the whole list, 0 for a query without relevant document;
- ``mean_ndcg`` (the script's MeanNDCG): the mean of NDCG@1..n over the query's n positions;
- means over all queries.

Open cases, and the way the preset settles them:

- Labels other than 0, 1, 2 raise ``ValueError``. The script looks labels up in two three-entry tables and
  would silently give a 3 or a 4 no gain and no relevance; no LETOR 3.0/4.0 table has such labels (the MSLR
  script uses another table and counts labels >= 2 as relevant: evaluate 0-4 sets with the default convention).
- Queries shorter than k for P@k: LETOR 3.0's script leaves P@k undefined there and sums it as 0, as for NDCG;
  the 2009 4.0 script counts the holes as non-relevant. The preset follows 4.0, as the published 4.0 tables.
  Everything else is the same in both scripts (3.0 prints @1..@16, 4.0 @1..@10 and MeanNDCG).
- Cutoffs: the script prints @1..@10 only; the preset applies the same rules at any k.
- Metrics the script does not print (``dcg``, ``mrr``, ``recall``, ``err``, ``rprec``, ``bpref``, ``success``,
  ``map@k``) use the preset's gain, discount and relevance with their usual definitions; the short-query rule
  applies to ``ndcg@k`` only (``dcg@k`` of a short query is the DCG of its whole list).
- A document id repeated within a query: the script keys documents by id, so only the last such line counts;
  arrays carry no ids, so the preset counts every row.
- Precision: the script prints values rounded to 4 decimals (``%.4f``); the preset returns full precision. It
  divides a gain by ``log2(r)`` where the script multiplies it by ``log(2) / log(r)``, which can differ in the
  last bit. On the three MQ2008 segments here, with tie-heavy, constant and LightGBM scores, every per-query value
  and every mean printed with ``%.4f`` equals the script's output.

The LightGBM preset (``convention="lightgbm"``)
------------------------------------------------
LightGBM's ``ndcg@k`` and ``map@k`` evaluation (``metric="ndcg"/"map"`` with ``eval_at``; read in
``src/metric/rank_metric.hpp``, ``map_metric.hpp`` and ``dcg_calculator.cpp``, and checked against LightGBM 4.7's
own eval values on MQ2008 to 1e-15, ties and k beyond the query's length included):

- documents sorted by score with ``std::stable_sort``: equal scores in input order (``ties="stable"``);
- gain ``label_gain[l]``, by default 2^l - 1; discount 1 / log2(r + 1); the ideal DCG@k from the query's own
  labels; @k with k beyond the query's n documents uses all n (as the toolkit);
- ``ndcg@k`` and ``map@k`` of a query without relevant documents are 1 (``no_relevant=1.0``);
- ``map@k`` = (sum over the relevant documents in the top k of P@rank) / min(k, R), R the query's relevant
  documents (label > 0.5, i.e. ``rel_threshold=1`` on integer labels): a query whose relevant documents are all in
  the top k scores 1, however many it has. ``map`` without a cutoff is the same as by default (min(n, R) = R);
- labels must be integers 0..30 (LightGBM refuses others under its default ``label_gain``: "label should be int
  type", "Label ... is not less than the number of label mappings").

LightGBM has no other ranking metric; the preset's ``mrr``, ``p``, ``recall``, ``err`` and ``dcg`` keep their
definitions above, with these conventions, but a query without relevant documents scores 0 in them, as by
default: LightGBM's rule holds for its own two metrics only. With
weights in its Dataset LightGBM averages its two metrics by query weight (a query's, the mean of its rows'):
:func:`lightgbm_weighted_means` does so (with LightGBM's NDCG rule: a query without relevant documents adds its 1
unweighted; the weights from :func:`query_weights`), and ``ltr evaluate --convention lightgbm`` applies a ``.weight``
file's so; the other means, and the means elsewhere, are unweighted (:func:`aggregate` takes ``query_weights`` for a
plain weighted mean). A custom ``label_gain`` is not reproduced (only the default 2^l - 1).

The RankLib preset (``convention="ranklib"``)
----------------------------------------------
RankLib's ``ciir.umass.edu.metric`` scorers (codelibs/ranklib, RankLib 2.x; checked query by query against
RankLib built from that source on MQ2008, ``-test ... -idv``). Per query, the list ranked by RankLib's
``MergeSorter`` (stable: equal scores in input order), n documents, relevant = label > 0:

- ``P@k`` (PrecisionScorer) = relevant documents in the top min(k, n) / min(k, n): a 6-document query with 2
  relevant documents has P@10 = 2/6 (trec_eval: 2/10). MQ2008 has many queries shorter than 10, so P@10 moves a
  lot (0.2623 against 0.2353 on Fold1 test for one model);
- ``MAP`` (APScorer) is AP over the whole list, R = the relevant documents of the list, and ``k`` is ignored:
  RankLib's ``MAP@10`` is its ``MAP``, and so is the preset's ``map@10``;
- ``NDCG@k``, ``DCG@k`` (NDCGScorer, DCGScorer): gain 2^l - 1 on the integer label, discount 1 / log2(r + 1),
  top min(k, n), ideal from the query's own labels; 0 without relevant documents (as the toolkit's default);
- ``ERR@k`` (ERRScorer): R = (2^l - 1) / 2^gmax with RankLib's ``-gmax`` (default 4) = ``max_grade``, which the
  preset leaves free; 0 without relevant documents; RankLib does not refuse a label above gmax, the toolkit does;
- ``RR@k`` (ReciprocalRankScorer): 1 / rank of the first relevant document in the top min(k, n), computed in
  single precision (``1.0f / rank``), which the preset reproduces (1/3 is 0.3333333432674408);
- means over all queries; labels must be integers 0..30 (RankLib casts labels to int for its gains).

Open cases: RankLib's names without ``@k`` mean ``@10`` for ``NDCG``, ``DCG``, ``ERR`` and ``P`` (the scorers'
default k), while the toolkit's ``ndcg``, ``dcg``, ``err`` mean the whole list: write the cutoff. RankLib's ``RR``
without ``@k`` is 0 for every query (its k = 0 leaves an empty list); the preset's ``mrr`` is the whole list.
RankLib has no recall, R-precision, bpref or success: they keep their definitions above. RankLib's
``-qrel`` file (external judgments for MAP and NDCG) is not modelled: the preset's R and ideal DCG come from the
ranked list itself, as RankLib's without ``-qrel``.

TREC runs
---------
:func:`evaluate_run` reproduces trec_eval (checked against pytrec_eval): documents are ordered by score
descending then docno descending (the ``rank`` column is ignored; scores are compared as trec_eval holds them, C
floats, so two that round to one float32 are tied), unjudged documents count as non-relevant,
the whole judged list of a query (retrieved or not) sets its number of relevant documents and its ideal DCG,
queries of the run absent from the qrels are skipped, and queries of the qrels absent from the run are left out
of the mean (trec_eval's default), or, with ``complete=True`` (trec_eval's ``-c``), evaluated as an empty ranking
(0 for every measure, ``num_ret`` 0, ``num_rel`` from the qrels) and averaged in. :func:`format_trec_eval` prints
``measure<TAB>qid<TAB>value`` lines as ``trec_eval -q`` does (``%6.4f``, integers for counts, ``all`` last).
With ``complete=True`` the frame of :func:`evaluate_run_per_query` has a row for each judged query the run lacks,
as ``trec_eval -q -c`` prints since version 10.0 (9.0.x prints no line for them; the ``all`` lines are the same).
One difference is known: with ``-c``, trec_eval's ``all`` line for ``num_rel`` counts judgments with grade > 0
whatever ``-l`` says, where :func:`evaluate_run` sums the per-query ``num_rel`` (grade >= ``rel_threshold``);
the two agree at the default threshold of 1.

Examples
--------
>>> from ltr.metrics import evaluate
>>> evaluate([2, 0, 1, 1, 0], [0.3, 0.2, 0.1, 0.5, 0.9], group=[3, 2], metrics=["ndcg@2", "mrr"])
{'ndcg@2': 0.7286, 'mrr': 0.75}
"""

from ltr.metrics.api import (
    aggregate,
    average_precision,
    dcg,
    err,
    evaluate,
    evaluate_per_query,
    lightgbm_weighted_means,
    ndcg,
    precision,
    query_weights,
    recall,
    reciprocal_rank,
)
from ltr.metrics.conventions import CONVENTIONS, describe_conventions
from ltr.metrics.registry import (
    REGISTRY,
    MetricSpec,
    ParsedMetric,
    metric_labels,
    parse_metric,
    parse_metrics,
    target_metric,
)
from ltr.metrics.trec import evaluate_run, evaluate_run_per_query, format_trec_eval

__all__ = [
    "CONVENTIONS",
    "REGISTRY",
    "MetricSpec",
    "ParsedMetric",
    "aggregate",
    "average_precision",
    "dcg",
    "describe_conventions",
    "err",
    "evaluate",
    "evaluate_per_query",
    "evaluate_run",
    "evaluate_run_per_query",
    "format_trec_eval",
    "lightgbm_weighted_means",
    "metric_labels",
    "ndcg",
    "parse_metric",
    "parse_metrics",
    "precision",
    "query_weights",
    "recall",
    "reciprocal_rank",
    "target_metric",
]
