"""CPU against GPU training through ``ltr.Ranker(device=...)``, for both engines, on synthetic LETOR-like data.

    python benchmarks/bench_gpu.py [--queries 8000] [--rounds 100] [--threads N] [--lgb-platform ID] [--cpu-only]

LightGBM's GPU learner is OpenCL, on the platform ``ltr.Ranker(device="gpu")`` chooses (the first OpenCL platform
with a GPU device, never a CPU OpenCL such as PoCL); ``--lgb-platform`` names another. XGBoost uses CUDA
(``device="cuda"``). With ``kernel="numba"`` XGBoost's gradients are computed on the GPU too (``ltr.kernels.cuda``);
LightGBM's custom objective runs on the CPU beside its OpenCL learner. Prints a Markdown table (seconds per
configuration, test NDCG@10, and the CPU/GPU time ratio measured in the same run) and writes the same text to
``benchmarks/results/bench_gpu.md`` (``benchmarks/README.md``). With ``--cpu-only`` (a check of the script on a
machine without a GPU) nothing is written unless ``--out`` names a file: a CPU-only run is not a GPU measurement.
It still trains the full data set on the CPU: ``--cpu-only --queries 200 --rounds 5`` checks the script in seconds.
"""

from __future__ import annotations

import argparse
import sys
import time

from ltr import Ranker, make_ranking
from ltr.metrics import describe_conventions, evaluate


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=8000, help="training queries (x 120 documents x 136 features)")
    ap.add_argument("--rounds", type=int, default=100, help="boosting rounds (no early stopping)")
    ap.add_argument("--threads", type=int, default=-1,
                    help="CPU threads, n_jobs as ltr.threads means it (default -1: every usable core)")
    ap.add_argument("--lgb-platform", type=int, default=None, dest="lgb_platform",
                    help="LightGBM's OpenCL platform id (default: the one ltr.Ranker(device='gpu') chooses)")
    ap.add_argument("--engines", default="lightgbm,xgboost", help="comma-separated: lightgbm, xgboost")
    ap.add_argument("--cpu-only", action="store_true", help="check the script without a GPU (writes no fragment)")
    ap.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/bench_gpu.md, none "
                    "with --cpu-only; - writes none)")
    args = ap.parse_args(argv)
    args.out = fragment_out(args.out, trial=args.cpu_only)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from _report import Fragment

    from ltr.threads import resolve_n_jobs

    threads = resolve_n_jobs(args.threads, what="--threads")
    rep = Fragment(__file__, "GPU training: CPU against GPU through ltr.Ranker(device=...)", argv, out=args.out)
    platform = ("the OpenCL platform ltr.gpu chooses" if args.lgb_platform is None
                else f"OpenCL platform {args.lgb_platform}")
    train = make_ranking(args.queries, 120, 136, random_state=0)
    test = make_ranking(max(args.queries // 8, 50), 120, 136, random_state=2)
    rep.print(f"make_ranking: train {train.n_rows} rows x {train.n_features} features, {train.n_queries} queries; "
              f"test {test.n_queries} queries; LambdaMART, {args.rounds} rounds, learning rate 0.1, 31 leaves, no "
              f"early stopping, {threads} CPU threads (n_jobs={args.threads}); LightGBM's GPU learner on "
              f"{platform}, XGBoost on CUDA. Test NDCG@10: {describe_conventions()}.\n")
    tiny = make_ranking(20, 120, 136, random_state=3)
    rows = []
    failures = []
    for engine in args.engines.split(","):
        for kernel in ("native", "numba"):
            secs = {}
            for device in ("cpu",) if args.cpu_only else ("cpu", "gpu"):
                extra = {"gpu_platform_id": args.lgb_platform, "gpu_device_id": 0} if (
                    engine == "lightgbm" and device == "gpu" and args.lgb_platform is not None) else None
                model = Ranker(objective="lambdarank", engine=engine, kernel=kernel, device=device,
                               n_estimators=args.rounds, learning_rate=0.1, num_leaves=31, n_jobs=threads,
                               engine_params=extra, early_stopping_rounds=None, random_state=0, preset=None)
                try:
                    # Untimed warm-up: Numba compiles (or loads) its kernels, the GPU runtime starts.
                    model.set_params(n_estimators=2).fit(tiny)
                    model.set_params(n_estimators=args.rounds)
                    t0 = time.perf_counter()
                    model.fit(train)
                except Exception as e:  # report and go on: the table says which configuration failed
                    print(f"{engine}/{kernel}/{device} failed: {e}", file=sys.stderr)
                    rows.append([engine, kernel, device, "failed", "", ""])
                    failures.append(f"- {engine}/{kernel}/{device}: {str(e).splitlines()[0] if str(e) else type(e)}")
                    continue
                secs[device] = time.perf_counter() - t0
                ndcg = evaluate(test.y, model.predict(test), group_ptr=test.group_ptr, metrics=["ndcg@10"])["ndcg@10"]
                ratio = f"{secs['cpu'] / secs[device]:.2f}x" if device == "gpu" and "cpu" in secs else ""
                rows.append([engine, kernel, device, f"{secs[device]:.2f}", f"{ndcg:.4f}", ratio])
                print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    rep.table(["engine", "kernel", "device", "train s", "test ndcg@10", "cpu/gpu speed-up"], rows, "lllrrr")
    if failures:
        rep.print("Failed configurations:\n")
        for f in failures:
            rep.print(f)
        rep.print()
    rep.print("Each configuration is first fitted for 2 rounds on 20 queries, untimed (Numba compiles or loads its "
              "kernels, the GPU runtime starts); the times include building the engine's Dataset, on the CPU.")
    measured = any(row[2] == "gpu" and row[3] != "failed" for row in rows)
    if not args.cpu_only and not measured and args.out is None:
        # Nothing trained on a GPU: no fragment by default (a committed GPU measurement is not replaced by rows that
        # say "failed"); the assembler then says "not measured in this run", as bench_gpu_kernels leaves it.
        rep.out = "-"
        rep.write()
        print("no GPU configuration trained: nothing measured on a GPU, no fragment written (--out FILE writes "
              "this text)", file=sys.stderr)
        return 0
    rep.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
