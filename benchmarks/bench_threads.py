"""Engine threads on small and large data, alone and beside a busy process: the measurement behind ``ltr.threads``.

For each data size (rows x 46 features, LETOR-like, from ``ltr.datasets.make_ranking``) and engine, trains 100
rounds of LambdaMART with 1 thread, with every core, and with the engine's own default (OpenMP: one per core),
first on an otherwise quiet machine, then with a second process spinning on one core (a colleague's job, a CI
neighbour). Every fit has ``preset=None``: the same 31-leaf trees at every size (``Ranker()``'s default
``preset="auto"`` would give the sets of fewer than 500 queries the small-data preset instead). Prints a Markdown
table and writes it to ``benchmarks/results/bench_threads.md`` (``--out -``: none); standard output is the
fragment, progress goes to standard error.

    python benchmarks/bench_threads.py [--sizes 300,3000,30000,300000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time

import numpy as np


def _spin(stop) -> None:  # pragma: no cover - a busy neighbour
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def _train(engine: str, data, threads: int | None) -> float:
    from ltr import Ranker

    params = dict(engine=engine, n_estimators=100, learning_rate=0.1, num_leaves=31, min_child_samples=20,
                  early_stopping_rounds=None, random_state=0, preset=None)
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
    ap.add_argument("--sizes", default="300,3000,30000,300000", help="comma-separated training rows (x 46 features)")
    ap.add_argument("--engines", default="lightgbm,xgboost", help="comma-separated: lightgbm, xgboost")
    ap.add_argument("--repeat", type=int, default=3, help="fits per cell (the median is reported)")
    ap.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/bench_threads.md; "
                    "- writes none)")
    args = ap.parse_args(argv)
    from _report import Fragment

    rep = Fragment(__file__, "Engine threads: small and large data, quiet and beside a busy process", argv,
                   out=args.out)
    load_before = os.getloadavg()[0]
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
    lines = [f"Median of {args.repeat} fits of 100 LambdaMART rounds (31 leaves, no preset). For `n_jobs=None`, "
             f"`ltr.threads` uses one thread below {AUTO_THREADS_MIN_CELLS:,} feature values (rows x features) and "
             "above it the idle cores (usable cores minus the 1-minute load average, at least one); \"ltr.threads "
             "picks\" is that choice when the row finished.", "",
             "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", f"1-minute load average of the machine before and after: {load_before:.1f}, "
              f"{os.getloadavg()[0]:.1f} (on {cores} usable cores; \"quiet\" means no spinning neighbour started "
              "by this script).", ""]
    rep.print("\n".join(lines))
    rep.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
