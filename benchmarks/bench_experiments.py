"""The experiment workflow on real data: cross-validated rankers with significance markers, parallel folds, and a
feature-group ablation of the default text feature set.

    python benchmarks/bench_experiments.py [--quick] [--report DIR]

1. MQ2008 (the three available LETOR 4.0 segments S1, S4, S5 rotated: train on one, validate on the next, test on
   the third, so each query is tested once) and the MSLR-WEB sample (its two files rotated, no validation part):
   pointwise, RankNet, ListNet, LambdaMART (Numba kernel and LightGBM native) and XE-NDCG, all LightGBM trees with
   the same hyper-parameters. The reference is native LambdaMART measured in the same run: every other system is
   tested against it per query (Fisher randomisation test, Holm-adjusted over the five comparisons; paired t-test
   alongside) and its fit time is given as a ratio to the reference's.
2. Parallel folds: ``cross_validate(n_jobs=1)`` against ``n_jobs=2`` (processes), wall-clock ratio.
3. Cranfield through ``features`` (BM25 top 50, the default feature set): drop each scorer family in turn, re-run
   5-fold CV and test the change in NDCG@10 against the full set.

Prints Markdown tables. Timings are noisy on a shared machine: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from ltr import Ranker
from ltr._shared import shared_data_dir
from ltr.evaluation import ablation, compare_cv, cross_validate, render_report

METRICS = ["ndcg@1", "ndcg@5", "ndcg@10", "map"]
REFERENCE = "LambdaMART (native)"


def systems(rounds: int, early: int | None) -> dict[str, Ranker]:
    common = dict(n_estimators=rounds, learning_rate=0.05, num_leaves=15, min_child_samples=10,
                  early_stopping_rounds=early, n_jobs=1, random_state=0)
    return {
        REFERENCE: Ranker(objective="lambdarank", **common),
        "LambdaMART (numba)": Ranker(objective="lambdarank", kernel="numba", objective_params={"mode": "lightgbm"},
                                     **common),
        "pointwise": Ranker(objective="pointwise", **common),
        "RankNet (numba)": Ranker(objective="ranknet", kernel="numba", **common),
        "ListNet (numba)": Ranker(objective="listnet", kernel="numba", **common),
        "XE-NDCG (native)": Ranker(objective="xendcg", **common),
    }


def _few_rounds(model: Ranker) -> Ranker:
    from sklearn.base import clone

    return clone(model).set_params(n_estimators=3)


def rotated_folds(root: Path, files: list[Path], with_vali: bool) -> Path:
    """Fold i trains on files[i], validates on files[i + 1] (if asked) and tests on the next one (symlinks)."""
    n = len(files)
    for i in range(n):
        fold = root / f"Fold{i + 1}"
        fold.mkdir(parents=True)
        parts = ("train", "vali", "test") if with_vali else ("train", "test")
        for j, part in enumerate(parts):
            (fold / f"{part}.txt.gz").symlink_to(files[(i + j) % n].resolve())
    return root


def run_suite(title: str, folds: Path, models: dict[str, Ranker], args) -> None:
    results = {}
    seconds = {}
    # Warm-up (discarded): file cache, LightGBM and Numba start-up costs would otherwise land on the first system.
    for model in models.values():
        cross_validate(_few_rounds(model), folds, metrics=METRICS, progress=False)
    for name, model in models.items():
        t0 = time.perf_counter()
        results[name] = cross_validate(model, folds, metrics=METRICS, progress=False, name=name)
        seconds[name] = time.perf_counter() - t0
    comp = compare_cv(results, REFERENCE, tests=["randomization", "t"], n_permutations=args.permutations, seed=0)
    n_q = len(comp.qids)
    print(f"\n## {title}: {len(results[REFERENCE].folds)} folds, {n_q} test queries\n")
    print(comp.format("markdown"))
    print(f"\nPer-system detail (NDCG@10; p-values Holm-adjusted over {len(models) - 1} comparisons):\n")
    print("| system | NDCG@10 | delta vs reference | W/T/L | p (randomisation) | p (t) | rounds/fold | CV seconds "
          "| time ratio vs reference |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in models:
        r = results[name]
        rounds = "/".join(str(f.rounds) for f in r.folds)
        ratio = seconds[name] / seconds[REFERENCE]
        if name == REFERENCE:
            print(f"| {name} (reference) | {comp.mean(name, 'ndcg@10'):.4f} | | | | | {rounds} | "
                  f"{seconds[name]:.2f} | 1.00 |")
            continue
        row = comp.row(name, "ndcg@10")
        p = row["tests"]
        print(f"| {name} | {row['mean']:.4f} | {row['delta']:+.4f} | {row['wins']}/{row['ties']}/{row['losses']} | "
              f"{p['randomization']['pvalue_adjusted']:.4f} | {p['t']['pvalue_adjusted']:.4f} | {rounds} | "
              f"{seconds[name]:.2f} | {ratio:.2f} |")
    if args.report:
        out = Path(args.report) / title.split()[0].lower()
        render_report(comp.to_dict(), out, formats=["html", "md"])
        print(f"\n(report written to {out})")


def parallel_folds(folds: Path, args) -> None:
    # One engine thread per fold in both runs, so that the ratio measures the folds running side by side (on a
    # shared 2-core machine, LightGBM with 2 OpenMP threads was measured 5-20x slower than with 1 on this data).
    model = Ranker(objective="lambdarank", n_estimators=args.rounds, learning_rate=0.05, num_leaves=15,
                   min_child_samples=10, early_stopping_rounds=None, n_jobs=1, random_state=0)
    runs = [("1 (reference)", 1, "loky"), ("2, loky processes (cold: starts the workers)", 2, "loky"),
            ("2, loky processes (warm: reused workers)", 2, "loky"), ("2, threads", 2, "threading")]
    timings, outs = [], []
    for _label, n_jobs, backend in runs:
        t0 = time.perf_counter()
        outs.append(cross_validate(model, folds, metrics=["ndcg@10"], progress=False, n_jobs=n_jobs,
                                   backend=backend))
        timings.append(time.perf_counter() - t0)
    print("\n## Parallel folds (MQ2008, LambdaMART native, "
          f"{args.rounds} rounds, no early stopping, 1 engine thread per fold)\n")
    print("| folds at once | wall seconds | ratio vs n_jobs=1 | identical per-query results |")
    print("|---|---:|---:|---|")
    for (label, _, _), t, out in zip(runs, timings, outs):
        same = all(a.per_query == b.per_query for a, b in zip(outs[0].folds, out.folds))
        print(f"| {label} | {t:.2f} | {t / timings[0]:.2f} | {same} |")


def text_ablation(root: Path, args) -> None:
    print("\n## Feature-group ablation: Cranfield, BM25 top 50, default feature set, 5-fold CV\n")
    try:
        from features import BM25Retriever, FeatureSet, InvertedIndex, extract, load_test_collection
        from features.analysis import Analyzer
    except ImportError as e:  # the features layer is another package of the repository
        print(f"(not run: features is not importable: {e})")
        return
    t0 = time.perf_counter()
    tc = load_test_collection(root / "cranfield")
    index = InvertedIndex.build(tc.docs, Analyzer())
    run = BM25Retriever(index).search(tc.queries, k=50)
    data = extract(index, tc.queries, run, "default", qrels=tc.qrels)
    extract_s = time.perf_counter() - t0
    fs = FeatureSet.default()
    family = {id(sc): spec.scorer for spec, sc in zip(fs.specs, fs._scorers)}
    groups: dict[str, list[str]] = {}
    for scorer, _field, cols in fs.columns(index):
        groups.setdefault(family[id(scorer)], []).extend(cols)
    if args.quick:
        groups = dict(list(groups.items())[:5])
    model = Ranker(n_estimators=args.rounds, learning_rate=0.05, num_leaves=15, min_child_samples=10,
                   early_stopping_rounds=30, n_jobs=1, random_state=0)
    t0 = time.perf_counter()
    comp = ablation(model, data, groups, metrics=["ndcg@10", "map"], n_splits=5, tests=["randomization", "t"],
                    n_permutations=args.permutations, progress=False)
    ablation_s = time.perf_counter() - t0
    print(f"{data.n_queries} queries, {data.n_rows} rows, {data.n_features} features in {len(groups)} groups; "
          f"extraction {extract_s:.1f} s, {len(groups) + 1} CV runs {ablation_s:.1f} s.\n")
    print("| run | features | NDCG@10 | delta | W/T/L | p (randomisation) | p (t) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| all features (reference) | {data.n_features} | {comp.mean('all features', 'ndcg@10'):.4f} | | | | |")
    for g, ids in comp.extra["ablation"].items():
        row = comp.row(f"-{g}", "ndcg@10")
        star = "*" if row["tests"]["randomization"]["significant"] else ""
        print(f"| -{g} | {data.n_features - len(ids)} | {row['mean']:.4f}{star} | {row['delta']:+.4f} | "
              f"{row['wins']}/{row['ties']}/{row['losses']} | {row['tests']['randomization']['pvalue_adjusted']:.4f} "
              f"| {row['tests']['t']['pvalue_adjusted']:.4f} |")
    print(f"\n* Holm-adjusted randomisation p < 0.05 over {len(groups)} comparisons "
          f"({args.permutations} permutations, seed 0).")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds, permutations and ablation groups")
    p.add_argument("--report", default=None, help="also render HTML/Markdown reports into this folder")
    args = p.parse_args(argv)
    args.rounds = 60 if args.quick else 300
    args.permutations = 2000 if args.quick else 10_000
    root = shared_data_dir()
    if root is None:
        print("shared data not found (set LTRKIT_SHARED_DATA)", file=sys.stderr)
        return 1
    print(f"# Experiment workflow benchmark ({'quick' if args.quick else 'default'} size)")
    print(f"\nLightGBM trees, {args.rounds} rounds max, learning rate 0.05, 15 leaves, min 10 rows per leaf, "
          "1 engine thread; metrics with exp2 gain, queries without relevant documents scoring 0.")
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        mq = [root / "mq2008/Fold2/test.txt.gz", root / "mq2008/Fold1/vali.txt.gz", root / "mq2008/Fold1/test.txt.gz"]
        mq_folds = rotated_folds(Path(tmp) / "mq2008", mq, with_vali=True)
        run_suite("MQ2008 (S1/S4/S5 rotated, early stopping on the validation segment)", mq_folds,
                  systems(args.rounds, 30), args)
        mslr = [root / "mslr_sample/mslr_fold1_valid_sample.txt.gz", root / "mslr_sample/mslr_fold1_test_sample.txt.gz"]
        mslr_folds = rotated_folds(Path(tmp) / "mslr", mslr, with_vali=False)
        run_suite("MSLR-WEB sample (two files rotated, no early stopping)", mslr_folds,
                  systems(min(args.rounds, 100), None), args)
        parallel_folds(mq_folds, args)
    text_ablation(root, args)
    print(f"\nTotal {time.perf_counter() - t_all:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
