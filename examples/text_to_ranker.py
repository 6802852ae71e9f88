"""From raw text to a learned ranker: BM25 top-100 -> features -> LambdaMART, 5-fold CV over queries.

Two pipelines (``--pipeline``; both by default):

- ``small`` (what the toolkit recommends for collections of tens to hundreds of judged queries):
  Terrier's analysis and BM25 (``Analyzer.terrier()``; k1 1.2, b 0.75, Terrier's idf, k3 8 over the largest query
  term frequency, as ``ltr features --bm25-preset terrier``), the shipped ``small_collections`` feature set (nine
  BM25 settings, Bo1/RM3 expansion, DPH, SDM, BM25F; ``--features small_collections``) and ``ltr.Ranker``'s own
  default below 500 training queries, the small-data preset (``preset="auto"``), which trains its fixed 300 rounds
  on all four training folds (:mod:`ltr.rankers.presets`: stopping early on a held-out fifth was measured worse);
- ``default``: the default analysis and BM25, the ``default`` feature set (88 columns on Cranfield and CACM, 32 on
  NPL's one text field) and the Ranker without the preset (``preset=None``; 15 leaves, 80% of the rows and features
  per tree: ``STANDARD_RANKER``), a fifth of each training part held out to stop early (50 rounds without gain in
  NDCG@10): the pipeline issue #13 started from, kept to show what the other one changes.

For each collection (Cranfield, NPL/Vaswani, CACM in ``../shared/data``):

1. index the documents, retrieve the BM25 top 100 per query (the baseline run);
2. log the pipeline's feature set for every (query, candidate) pair (:func:`features.extract`);
3. 5-fold cross-validation over queries (:func:`ltr.evaluation.cross_validate` on folds cut here): train
   ``ltr.Ranker(objective="lambdarank")`` on four folds as the pipeline says, and rerank the held-out fold's
   candidates (the out-of-fold run, :meth:`CVResult.run`);
4. evaluate both runs against the full judgments with trec_eval's conventions (:func:`ltr.metrics.
   evaluate_run_per_query`; judged documents outside the top 100 count as missed), per query, over the queries
   with at least one relevant judgment; a query the first stage returns nothing for scores 0 in both runs;
5. compare per metric (:func:`ltr.evaluation.compare`): a paired t-test and a paired Fisher randomisation test
   (10,000 sign flips, seed 0) on the per-query values, wins/ties/losses; the p-values of every (collection,
   metric) comparison in the table are adjusted together with Holm's method (:func:`ltr.evaluation.holm`),
   separately for each test.

Run: ``python examples/text_to_ranker.py [--pipeline small default] [--collections cranfield vaswani_npl cacm]
[--folds 5]``. With
``--fragment`` the printed text is also written to ``benchmarks/results/text_to_ranker.md``, the fragment
``benchmarks/RESULTS.md`` is assembled from (``benchmarks/README.md``).
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
from features.featureset import FeatureSet  # noqa: E402
from ltr import Ranker  # noqa: E402
from ltr._shared import shared_data_dir, shared_data_missing  # noqa: E402
from ltr.evaluation import Fold, compare, cross_validate, holm  # noqa: E402
from ltr.metrics import describe_conventions, evaluate_run_per_query  # noqa: E402

METRICS = ("ndcg@10", "map", "p@10")
TESTS = ("t", "randomization")
N_PERMUTATIONS = 10_000
FRAGMENT = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "results", "text_to_ranker.md")
#: The Ranker of the ``default`` pipeline: 15 leaves, row and column sampling 0.8, the standard defaults otherwise.
STANDARD_RANKER = {"num_leaves": 15, "subsample": 0.8, "colsample_bytree": 0.8, "preset": None}
#: What each --pipeline sets: analyzer, first-stage BM25 parameters, feature set, Ranker parameters.
PIPELINES = {
    "small": {"analyzer": "terrier", "bm25": {"k1": 1.2, "b": 0.75, "idf": "terrier", "k3": 8.0, "qtf_norm": "max"},
              "features": "small_collections", "ranker": {"preset": "auto"}, "early_stopping": False},
    "default": {"analyzer": "default", "bm25": {}, "features": "default", "ranker": STANDARD_RANKER,
                "early_stopping": True},
}


def per_query(qrels: pd.DataFrame, run: pd.DataFrame, qids: list[str]) -> pd.DataFrame:
    """Per-query metrics over ``qids``; a query absent from the run scores 0 (trec_eval -c)."""
    table = evaluate_run_per_query(qrels, run, list(METRICS))
    return table.reindex(qids).fillna(0.0)


def query_folds(data, folds: int, seed: int, early_stopping: bool) -> list[Fold]:
    """``folds`` folds of whole queries; with ``early_stopping`` a fifth of each training part validates."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(data.n_queries, dtype=np.int64)
    fold_of[rng.permutation(data.n_queries)] = np.arange(data.n_queries) % folds
    out = []
    for f in range(folds):
        train_q, test_q = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
        vali = None
        if early_stopping:
            inner = rng.permutation(train_q)
            n_valid = max(1, len(inner) // 5)
            train_q, vali = np.sort(inner[n_valid:]), data.subset(np.sort(inner[:n_valid]))
        out.append(Fold(f"Fold{f + 1}", data.subset(train_q), vali, data.subset(test_q)))
    return out


def run_collection(folder, *, k: int = 100, folds: int = 5, seed: int = 0, analyzer: Analyzer | None = None,
                   bm25: dict | None = None, feature_set: str = "default", ranker_params: dict | None = None,
                   early_stopping: bool = True, verbose: bool = True) -> dict:
    """Baseline and cross-validated LambdaMART on one collection; returns the per-query tables and comparison.

    With ``early_stopping`` a fifth of each fold's training queries is held out to choose the number of trees
    (the Ranker's default patience on validation NDCG@10); the test fold is never looked at.
    """
    t0 = time.perf_counter()
    tc = load_test_collection(folder)
    index = InvertedIndex.build(tc.docs, analyzer or Analyzer())
    first = BM25Retriever(index, **(bm25 or {})).search(tc.queries, k=k)
    data = extract(index, tc.queries, first, FeatureSet.load(feature_set), qrels=tc.qrels)
    t_features = time.perf_counter() - t0
    qids_all = list(tc.queries.qids)
    letor_to_str = {str(v): q for q, v in qid_mapping(qids_all).items()}  # LETOR qid -> the collection's
    params = dict(objective="lambdarank", random_state=seed, n_jobs=1)
    params.update(STANDARD_RANKER if ranker_params is None else ranker_params)
    if not early_stopping:
        params["early_stopping_rounds"] = None
    t1 = time.perf_counter()
    cv = cross_validate(Ranker(**params), query_folds(data, folds, seed, early_stopping), metrics=list(METRICS),
                        record_train=False, progress=False, name="LambdaMART")
    t_train = time.perf_counter() - t1
    trees = [f.rounds for f in cv.folds]
    judged = tc.qrels.groupby("qid")["rel"].max()
    qids = [q for q in qids_all if judged.get(q, 0) > 0]  # queries with at least one relevant document
    base = per_query(tc.qrels, first, qids)
    learned = per_query(tc.qrels, cv.run(qid_map=letor_to_str), qids)
    # Uncorrected here: report() adjusts the whole table's family at once.
    comp = compare({"BM25": base, "LambdaMART": learned}, "BM25", metrics=list(METRICS), tests=list(TESTS),
                   correction="none", n_permutations=N_PERMUTATIONS, seed=0)
    out = {"name": tc.name, "queries": len(qids), "features": data.n_features, "rows": data.n_rows,
           "bm25": base, "ltr": learned, "comparison": comp, "seconds_features": t_features, "seconds_cv": t_train,
           "trees": trees}
    if verbose:
        print(f"{tc.name}: {len(qids)} judged queries, {data.n_rows} rows x {data.n_features} features "
              f"(index + BM25 + features {t_features:.1f} s, {folds}-fold training {t_train:.1f} s, trees per fold "
              f"{trees})", file=sys.stderr)
    return out


def report(results: list[dict]) -> str:
    """The comparison table (every metric of every collection, raw and Holm-adjusted p-values) and its notes."""
    rows = [(r, m, r["comparison"].row("LambdaMART", m)) for r in results for m in METRICS]
    adjusted = {t: holm([row["tests"][t]["pvalue"] for _, _, row in rows]) for t in TESTS}
    lines = ["| collection | queries | metric | BM25 | LambdaMART | change | W/T/L | t-test p | t-test p (Holm) | "
             "randomisation p | randomisation p (Holm) |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for i, (r, m, row) in enumerate(rows):
        p = {t: (row["tests"][t]["pvalue"], adjusted[t][i]) for t in TESTS}
        star = {t: "*" if p[t][1] < 0.05 else "" for t in TESTS}
        lines.append(f"| {r['name']} | {r['queries']} | {m} | {row['baseline_mean']:.4f} | {row['mean']:.4f} | "
                     f"{row['delta']:+.4f} | {row['wins']}/{row['ties']}/{row['losses']} | {p['t'][0]:.3g} | "
                     f"{p['t'][1]:.3g}{star['t']} | {p['randomization'][0]:.3g} | "
                     f"{p['randomization'][1]:.3g}{star['randomization']} |")
    n = len(rows)
    collections = f"{len(results)} collection{'s' * (len(results) != 1)}"
    lines += ["", f"p: two-sided paired tests of LambdaMART against BM25 on per-query values (t-test; Fisher "
              f"randomisation, {N_PERMUTATIONS:,} sign flips, seed 0). Holm: adjusted with Holm's method over the "
              f"{n} comparisons of this table ({collections} x {len(METRICS)} metrics), separately "
              "for each test; * adjusted p < 0.05. W/T/L: queries where LambdaMART is better / equal / worse.",
              "", "Metrics: " + describe_conventions(source="trec", complete=True) + "; over each collection's "
              "queries with at least one relevant judgment.", "",
              "Trees per fold: " + "; ".join(f"{r['name']} {r['trees']}" for r in results) + "."]
    return "\n".join(lines)


class _Print:
    """Stands in for the benchmark fragment when none is written: prints only."""

    def print(self, *values: object) -> None:
        print(*values)

    def write(self) -> None:
        pass


def main(argv=None) -> int:
    from ltr.cli._guard import HelpFormatter

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=HelpFormatter)  # says each default, once
    ap.add_argument("--collections", nargs="+", default=["cranfield", "vaswani_npl", "cacm"],
                    help="folders under the shared data root")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds over queries")
    ap.add_argument("--topk", type=int, default=100, help="BM25 candidates per query")
    ap.add_argument("--seed", type=int, default=0, help="seed of the folds and the trees")
    ap.add_argument("--no-early-stopping", action="store_true",
                    help="default pipeline: train 300 trees per fold instead of choosing the number on held-out "
                         "training queries (the small pipeline never stops early)")
    ap.add_argument("--pipeline", nargs="+", choices=list(PIPELINES), default=list(PIPELINES),
                    help="small: Terrier's analysis and BM25, the small_collections features, the small-data preset; "
                         "default: default analysis and BM25, the default features, STANDARD_RANKER (no preset, "
                         "15 leaves, 80%% row and feature sampling) (default: both, in that order)")
    ap.add_argument("--preset", choices=["pipeline", "none", "auto", "small"], default="pipeline",
                    help="Ranker's small-data preset: the pipeline's (auto for small, none for default), none (the "
                         "Ranker's parameters as given), auto (below 500 training queries, Ranker's own default) or "
                         "small")
    ap.add_argument("--fragment", nargs="?", const=FRAGMENT, default=None, metavar="PATH",
                    help="also write the output as a benchmark fragment (default benchmarks/results/text_to_ranker.md)")
    args = ap.parse_args(argv)
    if args.folds < 2:
        ap.error(f"--folds must be at least 2, got {args.folds}")
    if args.topk < 1:
        ap.error(f"--topk must be at least 1, got {args.topk}")
    root = shared_data_dir()
    if root is None:
        print(shared_data_missing(), file=sys.stderr)
        return 1
    missing = [c for c in args.collections if not (root / c).is_dir()]
    if missing:
        held = sorted(p.name for p in root.iterdir() if p.is_dir())
        ap.error(f"--collections: no folder {', '.join(map(repr, missing))} under {root} "
                 f"({'it holds ' + ', '.join(held) if held else 'it holds no folder'})")
    if args.fragment:
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
        from _report import Fragment

        rep = Fragment(__file__, "From text to a ranker: BM25 top 100 -> features -> LambdaMART", argv,
                       out=args.fragment)
    else:
        rep = _Print()
    for name in args.pipeline:
        pipe = PIPELINES[name]
        ranker = dict(pipe["ranker"])
        if args.preset != "pipeline":
            ranker["preset"] = None if args.preset == "none" else args.preset
        analyzer = Analyzer.terrier() if pipe["analyzer"] == "terrier" else Analyzer()
        first = (f"Terrier's BM25 ({', '.join(f'{k} {v}' for k, v in pipe['bm25'].items())}), Analyzer.terrier()"
                 if pipe["analyzer"] == "terrier" else "BM25 with the default analysis and parameters")
        learner = ", ".join(f"{k}={v!r}" for k, v in ranker.items())
        early_stopping = pipe["early_stopping"] and not args.no_early_stopping
        rep.print(f"### Pipeline `{name}`\n")
        rep.print(f"Per collection: {first}, top {args.topk} -> the `{pipe['features']}` feature set -> ltr.Ranker "
                  f"LambdaMART ({learner}, otherwise the Ranker's defaults), {args.folds}-fold cross-validation over "
                  f"queries (seed {args.seed}), "
                  + ("a fifth of each training part held out for early stopping." if early_stopping
                     else "no early stopping (fixed rounds).") + "\n")
        results = [run_collection(root / c, k=args.topk, folds=args.folds, seed=args.seed, analyzer=analyzer,
                                  bm25=pipe["bm25"], feature_set=pipe["features"], ranker_params=ranker,
                                  early_stopping=early_stopping) for c in args.collections]
        rep.print(report(results) + "\n")
    rep.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
