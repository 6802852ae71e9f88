"""Numba lambdarank kernel vs the engines' native C++ objectives, at equal settings.

Trains the same boosters (same data, trees, rounds, threads) with

- the engine's native objective (LightGBM ``lambdarank``, XGBoost ``rank:ndcg``),
- the toolkit's kernel through the custom-objective adapters (``mode="lightgbm"``/``"xgboost"`` reproduce the
  native gradients bit for bit, so the trees are identical; ``mode="exact"`` is the float64 default),
- a *fixed-gradient* custom objective that returns precomputed lambdarank gradients without computing
  anything: same Python round trip and realistic trees, no objective work.

Every boosting round is timed (a callback stamps the end of each round). The tables use the *median* round
time, which a load spike on a shared machine does not move, and compare it with native's measured in the same
run. The kernel's objective time is measured inside the callback (median per call). Native's cannot be measured
directly; it is estimated (a) as native's median round minus the fixed-gradient run's, as a first guess, and
(b) from the parity kernel, which grows the same trees: its measured time plus native's median round minus its
own. (In ``mode="exact"`` the trees differ from native's, so only its measured time compares like with like.)
``--repeat`` runs every kind several times, interleaved, and pools the rounds. A first part measures Numba's
compile time in a fresh process with an empty cache (``NUMBA_CACHE_DIR``), then the load time in a second process
that reuses that cache.

Usage::

    python benchmarks/bench_objective.py            # 8000 queries x 120 docs x 136 features, 100 rounds
    python benchmarks/bench_objective.py --quick    # 1000 queries, 30 rounds

Prints Markdown and writes the same text to ``benchmarks/results/bench_objective.md`` (``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from ltr import make_ranking
from ltr.kernels import lambdarank
from ltr.objectives import lightgbm_objective, xgboost_objective


class Fixed:
    """A custom objective that returns the same precomputed gradients every round (no objective work)."""

    def __init__(self, grad, hess):
        self.grad, self.hess = grad, hess

    def __call__(self, preds, data):
        return self.grad, self.hess

    def __deepcopy__(self, memo):
        return self


class Timed:
    """Wraps a kernel objective and records the seconds spent inside it, call by call."""

    def __init__(self, fobj):
        self.fobj, self.calls = fobj, []

    def __call__(self, preds, data):
        t = time.perf_counter()
        out = self.fobj(preds, data)
        self.calls.append(time.perf_counter() - t)
        return out

    def __deepcopy__(self, memo):
        return self


class Rounds:
    """Timestamps at the end of every boosting round (used as a LightGBM callback)."""

    order = 100  # LightGBM: run after the other callbacks

    def __init__(self):
        self.stamps = [time.perf_counter()]

    def __call__(self, env):
        self.stamps.append(time.perf_counter())

    def durations(self):
        return np.diff(self.stamps)


def run_lightgbm(data, args, fixed):
    import lightgbm as lgb

    X, y, ptr = data
    ds = lgb.Dataset(X, y, group=np.diff(ptr), params={"max_bin": 255, "verbose": -1}, free_raw_data=False)
    ds.construct()
    base = {"num_leaves": args.leaves, "learning_rate": 0.1, "num_threads": args.threads, "deterministic": True,
            "force_col_wise": True, "verbose": -1, "min_data_in_leaf": 20, "max_bin": 255}
    kinds = {
        "native lambdarank": lambda: "lambdarank",
        "kernel mode=lightgbm": lambda: Timed(lightgbm_objective("lambdarank", ptr, labels=y, n_jobs=args.threads,
                                                                 mode="lightgbm")),
        "kernel mode=exact": lambda: Timed(lightgbm_objective("lambdarank", ptr, labels=y, n_jobs=args.threads)),
        "fixed gradients": lambda: fixed,
    }

    def train(obj, rounds):
        return lgb.train(dict(base, objective=obj), ds, args.rounds, callbacks=[rounds])

    return _interleave(kinds, args, train, lambda b: b.predict(X[: 20000], num_threads=args.threads))


def run_xgboost(data, args, fixed):
    import xgboost as xgb

    X, y, ptr = data
    dtrain = xgb.QuantileDMatrix(X, y, group=np.diff(ptr), max_bin=256, nthread=args.threads)
    base = {"tree_method": "hist", "grow_policy": "lossguide", "max_leaves": args.leaves, "max_depth": 0,
            "eta": 0.1, "nthread": args.threads, "base_score": 0.0, "max_bin": 256, "verbosity": 0}
    kinds = {
        "native rank:ndcg": lambda: "rank:ndcg",
        "kernel mode=xgboost": lambda: Timed(xgboost_objective("lambdarank", ptr, labels=y, n_jobs=args.threads,
                                                               mode="xgboost")),
        "kernel mode=exact": lambda: Timed(xgboost_objective("lambdarank", ptr, labels=y, n_jobs=args.threads)),
        "fixed gradients": lambda: fixed,
    }

    class Stamp(xgb.callback.TrainingCallback):
        def __init__(self, rounds):
            super().__init__()
            self.rounds = rounds

        def after_iteration(self, model, epoch, evals_log):
            self.rounds(None)
            return False

    def train(obj, rounds):
        if isinstance(obj, str):
            return xgb.train(dict(base, objective=obj), dtrain, args.rounds, callbacks=[Stamp(rounds)])
        return xgb.train(base, dtrain, args.rounds, obj=obj, callbacks=[Stamp(rounds)])

    return _interleave(kinds, args, train, lambda b: b.predict(xgb.DMatrix(X[:20000]), output_margin=True))


def _interleave(kinds, args, train, predict):
    """Run every kind ``repeat`` times, interleaved; keep per-round times of all runs and the first predictions."""
    out = {k: {"wall": [], "cpu": [], "rounds": [], "inside": [], "pred": None} for k in kinds}
    for _ in range(args.repeat):
        for name, make in kinds.items():
            obj, rounds = make(), Rounds()
            t, c = time.perf_counter(), time.process_time()
            booster = train(obj, rounds)
            r = out[name]
            r["wall"].append(time.perf_counter() - t)
            r["cpu"].append(time.process_time() - c)
            r["rounds"].extend(rounds.durations())
            if isinstance(obj, Timed):
                r["inside"].extend(obj.calls)
            if r["pred"] is None:
                r["pred"] = predict(booster)
    return out


def table(engine, res, rounds):
    """Markdown table. Medians of per-round times resist the load spikes of a shared machine.

    Native's objective time is estimated two ways: (a) native's median round minus the fixed-gradient run's;
    (b) with the same trees as the parity kernel, native's median round minus the parity kernel's, plus the time
    measured inside the parity kernel. (b) compares like with like; (a) assumes the fixed gradients grow trees
    as costly as the real ones, which they need not.
    """
    names = list(res)
    native, parity, fixed = names[0], names[1], names[-1]
    med = {k: 1000 * float(np.median(v["rounds"])) for k, v in res.items()}
    inside = {k: 1000 * float(np.median(v["inside"])) for k, v in res.items() if v["inside"]}
    lines = [f"### {engine}\n",
             "| objective | total wall s | CPU s | median round ms | vs native (median round) | "
             "objective ms/round | same predictions as native |",
             "|---|---|---|---|---|---|---|"]
    for name in names:
        r = res[name]
        if name == native:  # differences of medians: a neighbour's load can make them impossible, said so
            same_trees = inside[parity] + med[native] - med[parity]
            by_fixed = med[native] - med[fixed]
            obj = ", ".join(f"{mark}{v:.1f} ({k})" if v > 0 else f"not measurable in this run ({k} = {v:.1f})"
                            for k, v, mark in (("b", same_trees, "~"), ("a", by_fixed, "")))
        elif name == fixed:
            obj = "0 (by construction)"
        else:
            obj = f"{inside[name]:.1f} (measured inside)"
        pred, p_native = r["pred"], res[native]["pred"]
        same = "-" if name in (native, fixed) else ("yes" if np.array_equal(pred, p_native) else
                                                     f"no (max diff {np.abs(pred - p_native).max():.2g})")
        lines.append(f"| {name} | {min(r['wall']):.2f} | {min(r['cpu']):.2f} | {med[name]:.1f} | "
                     f"{med[name] / med[native]:.3f}x | {obj} | {same} |")
    lines.append("\nnative objective (a) = native median round - fixed-gradient median round; (b) = same trees as the "
                 "parity kernel: its measured time + native median round - its median round.\n")
    return "\n".join(lines)


_COMPILE = (
    "import time, numpy as np; t = time.perf_counter(); "
    "from ltr.kernels import lambdarank as L; "
    "L.grad_hess(np.zeros(4), np.array([0, 1, 2, 0]), np.array([0, 4]), mode='{mode}'); "
    "print(time.perf_counter() - t)"
)


def compile_times(mode):
    """(first process: compile, second process: load from cache) seconds for one lambdarank mode."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = []
        for _ in range(2):
            r = subprocess.run([sys.executable, "-c", _COMPILE.format(mode=mode)], env=env, capture_output=True,
                               text=True, check=True)
            out.append(float(r.stdout.strip().splitlines()[-1]))
        n_files = sum(len(f) for _, _, f in os.walk(cache))
    return out[0], out[1], n_files


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1000 queries, 30 rounds")
    p.add_argument("--queries", type=int, default=None, help="queries of the synthetic set (default 8000)")
    p.add_argument("--docs", type=int, default=120, help="documents per query")
    p.add_argument("--features", type=int, default=136, help="features")
    p.add_argument("--rounds", type=int, default=None, help="boosting rounds (default 100)")
    p.add_argument("--leaves", type=int, default=31, help="leaves per tree")
    p.add_argument("--threads", type=int, default=-1,
                   help="engine and kernel threads, n_jobs as ltr.threads means it (default -1: every usable core)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each kind, interleaved")
    p.add_argument("--engines", default="lightgbm,xgboost", help="comma-separated: lightgbm, xgboost")
    p.add_argument("--no-compile", action="store_true", help="skip the compile-time measurement")
    p.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/"
                   "bench_objective.md, none for a --quick trial; - writes none)")
    args = p.parse_args(argv)
    args.out = fragment_out(args.out, trial=args.quick)  # a quick run is a trial: no fragment without --out
    return args


def main(argv=None):
    args = parse_args(argv)
    args.queries = args.queries or (1000 if args.quick else 8000)
    args.rounds = args.rounds or (30 if args.quick else 100)
    from _report import Fragment

    from ltr.threads import resolve_n_jobs

    n_jobs = args.threads
    args.threads = resolve_n_jobs(n_jobs, what="--threads")
    rep = Fragment(__file__, "Objective speed: Numba lambdarank kernel against the native objectives", argv,
                   out=args.out)
    rep.print("Same boosters, data, trees, rounds and threads with the engine's native objective, the Numba kernel "
              "through the custom-objective adapters (parity mode: same trees as native; exact mode: float64), and "
              "fixed precomputed gradients (no objective work). Median per-round times resist load spikes; "
              "compare ratios within one table.\n")

    if not args.no_compile:
        rep.print("### Numba compile time (fresh process, empty cache; then a second process loading the cache)\n")
        rows = []
        for mode in ("exact", "lightgbm"):
            first, second, n = compile_times(mode)
            rows.append([mode, f"{first:.2f}", f"{second:.2f}", n])
        rep.table(["lambdarank mode", "first process (compile) s", "second process (cache) s", "cache files"], rows,
                  "lrrr")

    d = make_ranking(args.queries, args.docs, args.features, random_state=0)
    X, y, ptr = np.asarray(d.X), np.asarray(d.y), np.asarray(d.group_ptr)
    rep.print(f"Data: make_ranking: {d.n_queries} queries, {d.n_rows} rows, {d.n_features} features; {args.rounds} "
              f"rounds, {args.leaves} leaves, {args.threads} threads (n_jobs={n_jobs}), {args.repeat} run(s) of "
              "each kind.\n")
    # Realistic fixed gradients: the lambdarank gradients of a noisy ranking.
    scores = 0.3 * y + np.random.default_rng(1).normal(size=y.size)
    fixed = Fixed(*lambdarank.grad_hess(scores, y, ptr, mode="lightgbm"))
    engines = args.engines.split(",")
    load_start = os.getloadavg()[0]
    if "lightgbm" in engines:
        rep.print(table("LightGBM", run_lightgbm((X, y, ptr), args, fixed), args.rounds))
    if "xgboost" in engines:
        fixed_x = Fixed(*lambdarank.grad_hess(scores, y, ptr, mode="xgboost"))
        rep.print(table("XGBoost", run_xgboost((X, y, ptr), args, fixed_x), args.rounds))
    # (a run beside other work gave per-round times 5 to 16 times these and ratios that swung from 0.6x to 1.4x
    # between two runs, with nothing in the output to tell: trial t72)
    rep.print(f"The machine may be shared: the 1-minute load average (this run's own threads in it) was "
              f"{load_start:.1f} at the start of the timed runs and {os.getloadavg()[0]:.1f} at their end, on "
              f"{os.cpu_count()} CPUs; compare tables of runs under a like load only.")
    rep.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
