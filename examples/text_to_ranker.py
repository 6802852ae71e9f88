"""From raw text to a learned ranker: BM25 top-100 -> default features -> LambdaMART, 5-fold CV over queries.

For each collection (Cranfield, NPL/Vaswani, CACM in ``../shared/data``):

1. index the documents, retrieve the BM25 top 100 per query (the baseline run);
2. log the default feature set for every (query, candidate) pair (:func:`features.extraction`);
3. 5-fold cross-validation over queries: train ``ltr.Ranker(objective="lambdarank")`` on four folds (a fifth of
   their queries held out to pick the number of trees by early stopping), rerank the held-out fold's candidates;
4. evaluate both runs against the full judgments with trec_eval's conventions (:func:`ltr.metrics.
   evaluate_run_per_query`; judged documents outside the top 100 count as missed), per query; queries the
   first stage returns nothing for score 0 in both runs;
5. compare per metric with a paired t-test (``scipy.stats.ttest_rel``) and a paired randomisation test
   (``scipy.stats.permutation_test``, sign flips of the per-query differences, 10,000 resamples).

Run: ``python examples/text_to_ranker.py [--collections cranfield vaswani_npl cacm] [--folds 5]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from features import Analyzer, BM25Retriever, InvertedIndex, extract, load_test_collection, qid_mapping  # noqa: E402
from ltr import Ranker  # noqa: E402
from ltr._shared import shared_data_dir  # noqa: E402
from ltr.metrics import evaluate_run_per_query  # noqa: E402

METRICS = ("ndcg@10", "map", "p@10")


def per_query(qrels: pd.DataFrame, run: pd.DataFrame, qids: list[str]) -> pd.DataFrame:
    """Per-query metrics over ``qids``; a query absent from the run scores 0 (trec_eval -c)."""
    table = evaluate_run_per_query(qrels, run, list(METRICS))
    return table.reindex(qids).fillna(0.0)


def significance(a: np.ndarray, b: np.ndarray, *, seed: int = 0) -> tuple[float, float]:
    """Two-sided p-values of the paired t-test and the paired randomisation test of mean(a - b)."""
    from scipy import stats

    t = stats.ttest_rel(a, b).pvalue
    r = stats.permutation_test((a, b), lambda x, y: np.mean(x - y), permutation_type="samples",
                               n_resamples=10_000, alternative="two-sided", random_state=seed).pvalue
    return float(t), float(r)


def run_collection(folder, *, k: int = 100, folds: int = 5, seed: int = 0, analyzer: Analyzer | None = None,
                   ranker_params: dict | None = None, early_stopping: bool = True, verbose: bool = True) -> dict:
    """Baseline and cross-validated LambdaMART on one collection; returns the per-query tables and timings.

    With ``early_stopping`` a fifth of each fold's training queries is held out to choose the number of trees
    (NDCG@10, patience 50, at most 1000); the test fold is never looked at.
    """
    t0 = time.perf_counter()
    tc = load_test_collection(folder)
    index = InvertedIndex.build(tc.docs, analyzer or Analyzer())
    bm25 = BM25Retriever(index).search(tc.queries, k=k)
    data = extract(index, tc.queries, bm25, "default", qrels=tc.qrels)
    t_features = time.perf_counter() - t0
    # the LETOR qids map back to the string ids in query order
    qids_all = list(tc.queries.qids)
    letor_to_str = {v: q for q, v in qid_mapping(qids_all).items()}
    params = dict(n_estimators=300, learning_rate=0.05, num_leaves=15, min_child_samples=20, subsample=0.8,
                  colsample_bytree=0.8, random_state=seed, n_jobs=1)
    if early_stopping:
        params.update(n_estimators=1000, early_stopping_rounds=50, eval_at=(10,))
    params.update(ranker_params or {})
    rng = np.random.default_rng(seed)
    order = rng.permutation(data.n_queries)
    fold_of = np.empty(data.n_queries, dtype=np.int64)
    fold_of[order] = np.arange(data.n_queries) % folds
    scores = np.zeros(data.n_rows)
    t1 = time.perf_counter()
    trees = []
    for f in range(folds):
        train_q = np.flatnonzero(fold_of != f)
        test_q = np.flatnonzero(fold_of == f)
        model = Ranker(objective="lambdarank", engine="lightgbm", **params)
        if early_stopping:
            inner = rng.permutation(train_q)
            n_valid = max(1, len(inner) // 5)
            model.fit(data.subset(np.sort(inner[n_valid:])), eval_set=[data.subset(np.sort(inner[:n_valid]))])
        else:
            model.fit(data.subset(train_q))
        trees.append(model.best_iteration_)
        for q in test_q:
            a, b = data.group_ptr[q], data.group_ptr[q + 1]
            scores[a:b] = model.predict(data.X[a:b])
    t_train = time.perf_counter() - t1
    ltr_run = pd.DataFrame({"qid": [letor_to_str[int(q)] for q in data.qid], "docno": data.doc_ids,
                            "score": scores})
    judged = tc.qrels.groupby("qid")["rel"].max()
    qids = [q for q in qids_all if judged.get(q, 0) > 0]  # queries with at least one relevant document
    base = per_query(tc.qrels, bm25, qids)
    learned = per_query(tc.qrels, ltr_run, qids)
    out = {"name": tc.name, "queries": len(qids), "features": data.n_features, "rows": data.n_rows,
           "bm25": base, "ltr": learned, "seconds_features": t_features, "seconds_cv": t_train, "trees": trees}
    if verbose:
        print(f"{tc.name}: {len(qids)} judged queries, {data.n_rows} rows x {data.n_features} features "
              f"(index + BM25 + features {t_features:.1f} s, {folds}-fold training {t_train:.1f} s, trees per fold "
              f"{trees})", file=sys.stderr)
    return out


def report(results: list[dict]) -> str:
    lines = ["| collection | queries | metric | BM25 | LambdaMART | change | t-test p | randomisation p |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for m in METRICS:
            a, b = r["ltr"][m].to_numpy(), r["bm25"][m].to_numpy()
            pt, pr = significance(a, b)
            lines.append(f"| {r['name']} | {r['queries']} | {m} | {b.mean():.4f} | {a.mean():.4f} | "
                         f"{a.mean() - b.mean():+.4f} | {pt:.3g} | {pr:.3g} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--collections", nargs="+", default=["cranfield", "vaswani_npl", "cacm"])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--topk", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-early-stopping", action="store_true",
                    help="train 300 trees per fold instead of choosing the number on held-out training queries")
    args = ap.parse_args(argv)
    root = shared_data_dir()
    if root is None:
        print("the shared data sets are not available (set LTRKIT_SHARED_DATA)", file=sys.stderr)
        return 1
    results = [run_collection(root / c, k=args.topk, folds=args.folds, seed=args.seed,
                              early_stopping=not args.no_early_stopping) for c in args.collections]
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
