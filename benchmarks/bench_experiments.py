"""The experiment workflow on real data: cross-validated rankers with significance tests, parallel folds, and a
feature-group ablation of the default text feature set.

    python benchmarks/bench_experiments.py [--quick] [--report DIR]

1. MQ2008 (the three available LETOR 4.0 segments S1, S4, S5 rotated: train on one, validate on the next, test on
   the third, so each query is tested once) and the MSLR-WEB sample (its two files rotated, no validation part):
   pointwise, RankNet, ListNet, LambdaMART (Numba kernel and LightGBM native) and XE-NDCG, all LightGBM trees with
   the same hyper-parameters. The reference is native LambdaMART measured in the same run: every other system is
   tested against it per query on every metric (Fisher randomisation test and paired t-test); the p-values of all
   the comparisons of both data sets (systems x metrics x data sets) are adjusted together with Holm's method,
   separately per test. Each system's fit time is given as a ratio to the reference's.
2. Parallel folds: ``cross_validate(n_jobs=1)`` against ``n_jobs=2`` (processes, then threads), wall-clock ratio.
3. Cranfield through ``features`` (BM25 top 50, the default feature set): drop each scorer family in turn, re-run
   5-fold CV and test the change in NDCG@10 and MAP against the full set (Holm over groups x metrics).

Prints Markdown and writes the same text to ``benchmarks/results/bench_experiments.md`` (``benchmarks/README.md``;
``--quick`` writes none unless ``--out`` names one).
Timings are noisy on a shared machine: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from ltr import Ranker
from ltr._shared import shared_data_dir, shared_data_missing
from ltr.evaluation import ablation, compare_cv, cross_validate, holm, render_report
from ltr.metrics import describe_conventions

METRICS = ["ndcg@1", "ndcg@5", "ndcg@10", "map"]
ABLATION_METRICS = ["ndcg@10", "map"]
TESTS = ("randomization", "t")
REFERENCE = "LambdaMART (native)"


def systems(rounds: int, early: int | None) -> dict[str, Ranker]:
    # Learning rate: the Ranker's default (0.05); early stopping on the first eval set (the validation part).
    # preset=None everywhere: the settings stated in the output, not the small-data preset that the default
    # preset="auto" puts in their place below 500 training queries (all the data sets here).
    common = dict(n_estimators=rounds, num_leaves=15, min_child_samples=10, early_stopping_rounds=early, n_jobs=1,
                  random_state=0, preset=None)
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


def run_suite(folds: Path, models: dict[str, Ranker], args) -> dict:
    """Cross-validate every system on the same folds; the comparison with the reference, uncorrected."""
    results = {}
    seconds = {}
    # Warm-up (discarded): file cache, LightGBM and Numba start-up costs would otherwise land on the first system.
    for model in models.values():
        cross_validate(_few_rounds(model), folds, metrics=METRICS, progress=False)
    for name, model in models.items():
        t0 = time.perf_counter()
        results[name] = cross_validate(model, folds, metrics=METRICS, progress=False, name=name)
        seconds[name] = time.perf_counter() - t0
        print(f"  {name}: {seconds[name]:.1f} s", file=sys.stderr, flush=True)
    # correction="none": the family is every comparison of both suites, adjusted together by holm_family.
    comp = compare_cv(results, REFERENCE, tests=list(TESTS), correction="none", n_permutations=args.permutations,
                      seed=0)
    return {"results": results, "seconds": seconds, "comparison": comp}


def holm_family(comparisons: list, metrics: list[str]) -> dict:
    """Holm-adjusted p-values over every (comparison, system, metric), separately per test.

    Returns {(comparison index, system, metric, test): adjusted p}.
    """
    keys = [(i, s, m) for i, c in enumerate(comparisons) for s in c.systems if s != c.baseline for m in metrics]
    out = {}
    for t in TESTS:
        for key, p in zip(keys, holm([comparisons[i].row(s, m)["tests"][t]["pvalue"] for i, s, m in keys])):
            out[(*key, t)] = float(p)
    return out


def p_cells(row: dict, adjusted: dict, key: tuple) -> list[str]:
    """Raw and adjusted p per test; * marks an adjusted p below 0.05."""
    cells = []
    for t in TESTS:
        p = adjusted[(*key, t)]
        cells += [f"{row['tests'][t]['pvalue']:.4f}", f"{p:.4f}" + ("*" if p < 0.05 else "")]
    return cells


P_HEAD = ["p (randomisation)", "p (randomisation, Holm)", "p (t)", "p (t, Holm)"]


def print_suite(rep, title: str, suite: dict, index: int, adjusted: dict) -> None:
    results, seconds, comp = suite["results"], suite["seconds"], suite["comparison"]
    rep.print(f"### {title}: {len(results[REFERENCE].folds)} folds, {len(comp.qids)} test queries\n")
    rows = []
    for name in results:
        for m in METRICS:
            if name == REFERENCE:
                rows.append([f"{name} (reference)", m, f"{comp.mean(name, m):.4f}", "", "", "", "", "", ""])
                continue
            row = comp.row(name, m)
            rows.append([name, m, f"{row['mean']:.4f}", f"{row['delta']:+.4f}",
                         f"{row['wins']}/{row['ties']}/{row['losses']}", *p_cells(row, adjusted, (index, name, m))])
    rep.table(["system", "metric", "mean", "delta", "W/T/L", *P_HEAD], rows, "llrrr" + "r" * len(P_HEAD))
    rows = []
    for name, r in results.items():
        rounds = "/".join(str(f.rounds) for f in r.folds)
        rows.append([name, rounds, f"{seconds[name]:.2f}", f"{seconds[name] / seconds[REFERENCE]:.2f}"])
    rep.table(["system", "rounds/fold", "CV seconds", "time ratio vs reference"], rows, "llrr")


def parallel_folds(rep, folds: Path, args) -> None:
    # One engine thread per fold in both runs, so that the ratio measures the folds running side by side (on a
    # shared 2-core machine, LightGBM with 2 OpenMP threads was measured 5-20x slower than with 1 on this data).
    model = Ranker(objective="lambdarank", n_estimators=args.rounds, num_leaves=15, min_child_samples=10,
                   early_stopping_rounds=None, n_jobs=1, random_state=0, preset=None)
    runs = [("1 (reference)", 1, "loky"), ("2, loky processes (cold: starts the workers)", 2, "loky"),
            ("2, loky processes (warm: reused workers)", 2, "loky"), ("2, threads", 2, "threading")]
    timings, outs = [], []
    for _label, n_jobs, backend in runs:
        t0 = time.perf_counter()
        outs.append(cross_validate(model, folds, metrics=["ndcg@10"], progress=False, n_jobs=n_jobs,
                                   backend=backend))
        timings.append(time.perf_counter() - t0)
    rep.print(f"### Parallel folds (MQ2008, LambdaMART native, {args.rounds} rounds, no early stopping, 1 engine "
              "thread per fold)\n")
    rows = []
    for (label, _, _), t, out in zip(runs, timings, outs):
        same = all(a.per_query == b.per_query for a, b in zip(outs[0].folds, out.folds))
        rows.append([label, f"{t:.2f}", f"{t / timings[0]:.2f}", same])
    rep.table(["folds at once", "wall seconds", "ratio vs n_jobs=1", "identical per-query results"], rows, "lrrl")


def text_ablation(rep, root: Path, args) -> None:
    rep.print("### Feature-group ablation: Cranfield, BM25 top 50, default feature set, 5-fold CV\n")
    try:
        from features import BM25Retriever, FeatureSet, InvertedIndex, extract, load_test_collection
        from features.analysis import Analyzer
    except ImportError as e:  # the features layer is another package of the repository
        rep.print(f"Not run: features is not importable: {e}")
        return
    t0 = time.perf_counter()
    tc = load_test_collection(root / "cranfield")
    index = InvertedIndex.build(tc.docs, Analyzer())
    run = BM25Retriever(index).search(tc.queries, k=50)
    data = extract(index, tc.queries, run, "default", qrels=tc.qrels)
    extract_s = time.perf_counter() - t0
    groups: dict[str, list[str]] = {}
    for scorer, _field, cols in FeatureSet.default().columns(index):
        groups.setdefault(scorer.name, []).extend(cols)
    n_groups = len(groups)
    if args.quick:
        groups = dict(list(groups.items())[:5])
    model = Ranker(n_estimators=args.rounds, num_leaves=15, min_child_samples=10, early_stopping_rounds=30, n_jobs=1,
                   random_state=0, preset=None)
    t0 = time.perf_counter()
    comp = ablation(model, data, groups, metrics=ABLATION_METRICS, n_splits=5, tests=list(TESTS), correction="none",
                    n_permutations=args.permutations, progress=False)
    ablation_s = time.perf_counter() - t0
    adjusted = holm_family([comp], ABLATION_METRICS)
    rep.print(f"{data.n_queries} queries, {data.n_rows} rows, {data.n_features} features in {n_groups} scorer groups"
              + (f", the first {len(groups)} ablated (--quick)" if len(groups) < n_groups else "")
              + f"; extraction {extract_s:.1f} s, {len(groups) + 1} CV runs {ablation_s:.1f} s; at most "
              f"{args.rounds} rounds, early stopping 30 on each fold's validation part.\n")
    rows = []
    for m in ABLATION_METRICS:
        rows.append(["all features (reference)", data.n_features, m, f"{comp.mean('all features', m):.4f}", "", "",
                     "", "", "", ""])
        for g, ids in comp.extra["ablation"].items():
            row = comp.row(f"-{g}", m)
            rows.append([f"-{g}", data.n_features - len(ids), m, f"{row['mean']:.4f}", f"{row['delta']:+.4f}",
                         f"{row['wins']}/{row['ties']}/{row['losses']}", *p_cells(row, adjusted, (0, f"-{g}", m))])
    rep.table(["run", "features", "metric", "mean", "delta", "W/T/L", *P_HEAD], rows, "lrlrrr" + "r" * len(P_HEAD))
    n_tests = len(groups) * len(ABLATION_METRICS)
    rep.print(f"p: two-sided paired tests of each ablated run against all features on the pooled per-query test "
              f"values (Fisher randomisation, {args.permutations:,} permutations, seed 0; t-test). Holm: adjusted "
              f"over the {n_tests} comparisons of this table ({len(groups)} groups x {len(ABLATION_METRICS)} "
              "metrics), separately per test; * adjusted p < 0.05.\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds, permutations and ablation groups")
    p.add_argument("--report", default=None, help="also render HTML/Markdown reports into this folder")
    p.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/"
                   "bench_experiments.md, none with --quick; - writes none)")
    args = p.parse_args(argv)
    args.out = fragment_out(args.out, trial=args.quick)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    args.rounds = 60 if args.quick else 300
    args.permutations = 2000 if args.quick else 10_000
    root = shared_data_dir()
    if root is None:
        print(shared_data_missing(), file=sys.stderr)
        return 1
    from _report import Fragment

    rep = Fragment(__file__, "Experiment workflow: cross-validated rankers, parallel folds, feature-group ablation",
                   argv, out=args.out)
    rep.print(f"{'Quick' if args.quick else 'Default'} size. LightGBM trees through ltr.Ranker, at most {args.rounds} "
              "rounds, learning rate 0.05 (the default), 15 leaves, at least 10 rows per leaf, preset=None, "
              f"1 engine thread; metrics: {describe_conventions()}.\n")
    with tempfile.TemporaryDirectory() as tmp:
        mq = [root / "mq2008/Fold2/test.txt.gz", root / "mq2008/Fold1/vali.txt.gz", root / "mq2008/Fold1/test.txt.gz"]
        mq_folds = rotated_folds(Path(tmp) / "mq2008", mq, with_vali=True)
        mslr = [root / "mslr_sample/mslr_fold1_valid_sample.txt.gz", root / "mslr_sample/mslr_fold1_test_sample.txt.gz"]
        mslr_folds = rotated_folds(Path(tmp) / "mslr", mslr, with_vali=False)
        suites = [("MQ2008 (S1/S4/S5 rotated, early stopping 50 rounds on the validation segment)",
                   run_suite(mq_folds, systems(args.rounds, 50), args)),
                  ("MSLR-WEB sample (two files rotated, no early stopping)",
                   run_suite(mslr_folds, systems(min(args.rounds, 100), None), args))]
        comparisons = [s["comparison"] for _, s in suites]
        adjusted = holm_family(comparisons, METRICS)
        n_sys = len(comparisons[0].systems) - 1
        rep.print(f"p: two-sided paired tests of each system against the reference on the pooled per-query test "
                  f"values (Fisher randomisation, {args.permutations:,} permutations, seed 0; t-test). Holm: adjusted "
                  f"over the {len(adjusted) // len(TESTS)} comparisons of the MQ2008 and MSLR tables below "
                  f"({n_sys} systems x {len(METRICS)} metrics x {len(suites)} data sets), separately per test; "
                  "* adjusted p < 0.05.\n")
        for i, (title, suite) in enumerate(suites):
            print_suite(rep, title, suite, i, adjusted)
            if args.report:  # the report applies its own correction (Holm per metric over the systems)
                out = Path(args.report) / title.split()[0].lower()
                render_report(compare_cv(suite["results"], REFERENCE, tests=list(TESTS),
                                         n_permutations=args.permutations, seed=0).to_dict(), out,
                              formats=["html", "md"])
                print(f"report written to {out}", file=sys.stderr)
        parallel_folds(rep, mq_folds, args)
    text_ablation(rep, root, args)
    rep.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
