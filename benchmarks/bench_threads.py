"""Engine threads on small and large data, alone and beside a busy process: the measurement behind ``ltr.threads``.

For each data size (rows x 46 features, LETOR-like, from ``ltr.datasets.make_ranking``) and engine, trains 100
rounds of LambdaMART with 1 thread, with every core, and with the engine's own default (OpenMP: one per core),
first on an otherwise quiet machine, then with a second process spinning on one core (a colleague's job, a CI
neighbour). Prints a Markdown table and writes it to ``benchmarks/results/bench_threads.md``.

    python benchmarks/bench_threads.py [--sizes 300,3000,30000,300000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _spin(stop) -> None:  # pragma: no cover - a busy neighbour
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def _train(engine: str, data, threads: int | None) -> float:
    from ltr import Ranker

    params = dict(engine=engine, n_estimators=100, learning_rate=0.1, num_leaves=31, min_child_samples=20,
                  early_stopping_rounds=None, random_state=0)
    if threads is None:  # the engine's own default: leave its thread setting alone
        params["engine_params"] = {"num_threads": 0} if engine == "lightgbm" else {"nthread": 0}
        params["n_jobs"] = 1  # overridden by engine_params above
    else:
        params["n_jobs"] = threads
    model = Ranker(**params)
    t0 = time.perf_counter()
    model.fit(data)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    from ltr import make_ranking
    from ltr.threads import AUTO_THREADS_MIN_CELLS, auto_threads, cpu_count

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="300,3000,30000,300000")
    ap.add_argument("--engines", default="lightgbm,xgboost")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "results" / "bench_threads.md"))
    args = ap.parse_args(argv)
    cores = cpu_count()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for n in sizes:
        data = make_ranking(max(1, n // 20), 20, 46, random_state=0)
        for engine in args.engines.split(","):
            _train(engine, data, 1)  # warm-up: imports, compilation
            for busy in (False, True):
                stop = mp.Event()
                spinner = mp.Process(target=_spin, args=(stop,), daemon=True) if busy else None
                if spinner is not None:
                    spinner.start()
                    time.sleep(0.2)
                try:
                    times = {}
                    for label, threads in (("1 thread", 1), (f"{cores} threads", cores), ("engine default", None)):
                        runs = [_train(engine, data, threads) for _ in range(args.repeat)]
                        times[label] = float(np.median(runs))
                finally:
                    if spinner is not None:
                        stop.set()
                        spinner.join(5)
                best = min(times, key=times.get)
                auto = auto_threads(data.n_rows, data.n_features)
                rows.append([f"{data.n_rows:,}", engine, "busy neighbour" if busy else "quiet",
                             *[f"{times[k]:.3f}" for k in times], best, str(auto)])
                print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    header = ["rows (x46)", "engine", "machine", "1 thread s", f"{cores} threads s", "engine default s", "fastest",
              "ltr.threads picks"]
    lines = [f"Median of {args.repeat} fits of 100 LambdaMART rounds (31 leaves). `ltr.threads` uses one thread "
             f"below {AUTO_THREADS_MIN_CELLS:,} feature values (rows x features), every core above.", "",
             "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    table = "\n".join(lines)
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = "python benchmarks/bench_threads.py " + " ".join(argv if argv is not None else sys.argv[1:])
    from ltr.io import atomic_write

    with atomic_write(out) as f:
        f.write(f"## Engine threads\n\n`{cmd.strip()}` on {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
                f"{os.cpu_count()} CPUs ({cores} usable)\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
