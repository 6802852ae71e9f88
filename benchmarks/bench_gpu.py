"""CPU against GPU training through ``ltr.Ranker(device=...)``, for both engines, on synthetic LETOR-like data.

    python benchmarks/bench_gpu.py [--queries 8000] [--rounds 100] [--threads N] [--lgb-platform 1] [--cpu-only]

LightGBM's GPU learner is OpenCL: on a machine where NVIDIA is not OpenCL platform 0, pass its platform id
(``--lgb-platform``). XGBoost uses CUDA (``device="cuda"``). The Numba kernels always run on the CPU; with a GPU
tree learner only the gradients are computed there. Prints a Markdown table: seconds per configuration, test
NDCG@10, and the CPU/GPU time ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from ltr import Ranker, make_ranking
from ltr.metrics import evaluate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=8000)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--lgb-platform", type=int, default=1, dest="lgb_platform")
    ap.add_argument("--engines", default="lightgbm,xgboost")
    ap.add_argument("--cpu-only", action="store_true", help="check the script without a GPU")
    args = ap.parse_args()

    train = make_ranking(args.queries, 120, 136, random_state=0)
    test = make_ranking(max(args.queries // 8, 50), 120, 136, random_state=2)
    print(f"machine: {platform.node()} {platform.machine()}, {args.threads} threads; train {train.n_rows} rows x "
          f"{train.n_features} features, {train.n_queries} queries; {args.rounds} rounds, 31 leaves\n")
    rows = []
    for engine in args.engines.split(","):
        for kernel in ("native", "numba"):
            secs = {}
            for device in ("cpu",) if args.cpu_only else ("cpu", "gpu"):
                extra = {"gpu_platform_id": args.lgb_platform, "gpu_device_id": 0} if (
                    engine == "lightgbm" and device == "gpu") else None
                model = Ranker(objective="lambdarank", engine=engine, kernel=kernel, device=device,
                               n_estimators=args.rounds, learning_rate=0.1, num_leaves=31, n_jobs=args.threads,
                               engine_params=extra, random_state=0)
                t0 = time.perf_counter()
                try:
                    model.fit(train)
                except Exception as e:  # report and go on: the table says which configuration failed
                    print(f"{engine}/{kernel}/{device} failed: {e}", file=sys.stderr)
                    rows.append([engine, kernel, device, "failed", "", ""])
                    continue
                secs[device] = time.perf_counter() - t0
                ndcg = evaluate(test.y, model.predict(test), group_ptr=test.group_ptr, metrics=["ndcg@10"])["ndcg@10"]
                ratio = f"{secs['cpu'] / secs[device]:.2f}x" if device == "gpu" and "cpu" in secs else ""
                rows.append([engine, kernel, device, f"{secs[device]:.2f}", f"{ndcg:.4f}", ratio])
                print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    header = ["engine", "kernel", "device", "train s", "test ndcg@10", "cpu/gpu speed-up"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(str(v) for v in r) + " |")


if __name__ == "__main__":
    main()
