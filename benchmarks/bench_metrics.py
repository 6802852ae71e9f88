"""NDCG@10 and MAP over many queries: ltr.metrics against ranx, pytrec_eval and ir_measures, in one run.

Synthetic graded labels (an MSLR-like 0-4 distribution) and continuous model-like scores, 10,000 queries x 120
documents by default (1.2M pairs). ltrkit works from the toolkit's own flat arrays plus ``group_ptr``; the other
tools need their own structures, whose build time is reported on separate rows. Every tool's means are checked
against ours (assert, printed) before any time is reported. ``ndcg@10`` here is trec_eval's (linear gain), the
convention all three references share.

Usage::

    python benchmarks/bench_metrics.py            # 10,000 x 120
    python benchmarks/bench_metrics.py --quick    # 1,000 x 120 (a trial: prints, writes no fragment)

Prints Markdown and writes the same text to ``benchmarks/results/bench_metrics.md`` (``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import numba
import numpy as np

METRICS = ("ndcg@10", "map")
TOL = 1e-12  # means must agree to rounding error


def make_data(n_queries: int, n_docs: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = n_queries * n_docs
    labels = rng.choice(5, size=n, p=[0.5, 0.3, 0.14, 0.04, 0.02]).astype(np.float64)
    scores = labels + 1.5 * rng.normal(size=n)
    group_ptr = np.arange(0, n + 1, n_docs, dtype=np.int64)
    return labels, scores, group_ptr


def timed(fn, repeat: int):
    """(best, median, last result) over ``repeat`` calls."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), result


COLD = textwrap.dedent(
    """
    import time, sys
    t0 = time.perf_counter()
    import numpy as np
    from ltr.metrics import evaluate
    t1 = time.perf_counter()
    nq, nd = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(0)
    y = rng.choice(5, size=nq * nd, p=[0.5, 0.3, 0.14, 0.04, 0.02]).astype(float)
    s = y + 1.5 * rng.normal(size=y.size)
    ptr = np.arange(0, y.size + 1, nd)
    t2 = time.perf_counter()
    evaluate(y, s, group_ptr=ptr, metrics=("ndcg@10", "map"), gain="linear")
    t3 = time.perf_counter()
    print(t1 - t0, t3 - t2)
    """
)


def cold_start(n_queries: int, n_docs: int) -> tuple[float, float, float, float]:
    """First call in a fresh process with an empty Numba cache (compile), then in a second process (cache)."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = []
        for _ in range(2):
            res = subprocess.run([sys.executable, "-c", COLD, str(n_queries), str(n_docs)], env=env, check=True,
                                 capture_output=True, text=True)
            imp, first = map(float, res.stdout.split())
            out += [imp, first]
    return out[0], out[1], out[2], out[3]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=10_000, help="number of queries")
    parser.add_argument("--docs", type=int, default=120, help="documents per query")
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions of each evaluate call")
    parser.add_argument("--quick", action="store_true", help="1,000 queries, 3 repetitions")
    parser.add_argument("--skip", nargs="*", default=[], choices=["ranx", "pytrec_eval", "ir_measures", "cold"],
                        help="leave these out")
    parser.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/"
                        "bench_metrics.md, none with --quick; - writes none)")
    args = parser.parse_args(argv)
    args.out = fragment_out(args.out, trial=args.quick)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.quick:
        args.queries, args.repeat = 1_000, 3
    nq, nd = args.queries, args.docs
    from _report import Fragment

    rep = Fragment(__file__, "Metrics: ltr.metrics against ranx, pytrec_eval and ir_measures", argv, out=args.out)
    rep.print(f"{nq:,} queries x {nd} documents = {nq * nd:,} pairs, metrics {', '.join(METRICS)} with linear gain "
              f"(trec_eval's NDCG); synthetic 0-4 labels, model-like scores; Numba threads "
              f"{numba.get_num_threads()}. Every tool's means are asserted equal to ltrkit's (to {TOL:g}) before "
              "any time is reported.\n")

    from ltr.metrics import evaluate

    y, s, ptr = make_data(nq, nd)
    rows: list[tuple[str, str, float, float | None]] = []  # tool, step, seconds, seconds of the evaluate call

    # --- ltrkit, from its own arrays
    t0 = time.perf_counter()
    ours = evaluate(y, s, group_ptr=ptr, metrics=METRICS, gain="linear")
    first = time.perf_counter() - t0
    best, med, ours = timed(lambda: evaluate(y, s, group_ptr=ptr, metrics=METRICS, gain="linear"), args.repeat)
    rows.append(("ltrkit", f"evaluate ndcg@10+map (best of {args.repeat}; median {med:.4f})", best, best))
    ours_time = best
    b1, _, _ = timed(lambda: evaluate(y, s, group_ptr=ptr, metrics=("ndcg@10",), gain="linear"), args.repeat)
    rows.append(("ltrkit", "evaluate ndcg@10 alone (top-k selection, no full sort)", b1, None))
    b2, _, _ = timed(lambda: evaluate(y, s, group_ptr=ptr, metrics=("map",), gain="linear"), args.repeat)
    rows.append(("ltrkit", "evaluate map alone (whole list: rank counting or merge sort)", b2, None))
    threads = numba.get_num_threads()
    if threads > 1:
        numba.set_num_threads(1)
        b3, _, _ = timed(lambda: evaluate(y, s, group_ptr=ptr, metrics=METRICS, gain="linear"), args.repeat)
        numba.set_num_threads(threads)
        rows.append(("ltrkit", f"evaluate ndcg@10+map on 1 thread (above: {threads} threads)", b3, None))
    rows.append(("ltrkit", "first call in this process (compile or on-disk cache)", first, None))
    if "cold" not in args.skip:
        imp, compile_first, imp2, cached_first = cold_start(nq, nd)
        rows.append(("ltrkit", f"new process, empty Numba cache: first call incl. compile (import {imp:.2f} s)",
                     compile_first, None))
        rows.append(("ltrkit", f"second new process, same cache: first call (import {imp2:.2f} s)",
                     cached_first, None))
    means = {"ltrkit": ours}

    docnos = [f"d{i:04d}" for i in range(nd)]
    qrels_dict = run_dict = None
    if {"ranx", "pytrec_eval", "ir_measures"} - set(args.skip):
        t0 = time.perf_counter()
        yl = y.astype(int).tolist()
        sl = s.tolist()
        qrels_dict = {f"q{q}": dict(zip(docnos, yl[q * nd:(q + 1) * nd])) for q in range(nq)}
        run_dict = {f"q{q}": dict(zip(docnos, sl[q * nd:(q + 1) * nd])) for q in range(nq)}
        rows.append(("(all three)", "build dict-of-dict qrels and run from the arrays", time.perf_counter() - t0,
                     None))

    if "ranx" not in args.skip:
        import warnings

        from ranx import Qrels, Run
        from ranx import evaluate as ranx_evaluate

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ranx's Numba reflection warnings
            tiny_q = {k: qrels_dict[k] for k in list(qrels_dict)[:20]}
            tiny_r = {k: run_dict[k] for k in list(run_dict)[:20]}
            ranx_evaluate(Qrels(tiny_q), Run(tiny_r), list(METRICS))  # compile ranx's kernels
            t0 = time.perf_counter()
            qrels, run = Qrels(qrels_dict), Run(run_dict)
            rows.append(("ranx", "build Qrels + Run", time.perf_counter() - t0, None))
            best, med, res = timed(lambda: ranx_evaluate(qrels, run, list(METRICS)), max(2, args.repeat // 2))
        rows.append(("ranx", f"evaluate (best of {max(2, args.repeat // 2)}; median {med:.4f})", best, best))
        means["ranx"] = {k: float(v) for k, v in res.items()}

    if "pytrec_eval" not in args.skip:
        import pytrec_eval

        t0 = time.perf_counter()
        evaluator = pytrec_eval.RelevanceEvaluator(qrels_dict, {"map", "ndcg_cut.10"})
        rows.append(("pytrec_eval", "build RelevanceEvaluator", time.perf_counter() - t0, None))
        best, med, res = timed(lambda: evaluator.evaluate(run_dict), max(2, args.repeat // 2))
        rows.append(("pytrec_eval", f"evaluate (best of {max(2, args.repeat // 2)}; median {med:.4f})", best,
                     best))
        means["pytrec_eval"] = {"ndcg@10": float(np.mean([v["ndcg_cut_10"] for v in res.values()])),
                                "map": float(np.mean([v["map"] for v in res.values()]))}

    if "ir_measures" not in args.skip:
        import ir_measures

        measures = [ir_measures.nDCG @ 10, ir_measures.AP]
        best, med, res = timed(lambda: ir_measures.calc_aggregate(measures, qrels_dict, run_dict),
                               max(2, args.repeat // 2))
        rows.append(("ir_measures", f"calc_aggregate from dicts (best of {max(2, args.repeat // 2)}; "
                     f"median {med:.4f})", best, best))
        means["ir_measures"] = {"ndcg@10": float(res[measures[0]]), "map": float(res[measures[1]])}

    agree = []
    for tool, m in means.items():
        diff = max(abs(m[k] - ours[k]) for k in METRICS)
        if diff > TOL:
            raise SystemExit(f"{tool} disagrees with ltrkit by {diff:.3e} (> {TOL:g})")
        agree.append([tool, *[f"{m[k]:.15f}" for k in METRICS], f"{diff:.1e}"])
    rep.print("### Agreement of the means (asserted before timing is reported)\n")
    rep.table(["tool", *METRICS, "max abs diff vs ltrkit"], agree, "lrrr")

    rep.print("### Time (seconds; ratio = the tool's evaluate time / ltrkit's evaluate time)\n")
    table = []
    for tool, step, sec, eval_sec in rows:
        ratio = f"{eval_sec / ours_time:.1f}x" if eval_sec is not None and tool != "ltrkit" else ""
        table.append([tool, step, f"{sec:.4f}", ratio])
    rep.table(["tool", "step", "seconds", "ratio"], table, "llrr")
    for tool, _step, _, eval_sec in rows:
        if tool == "ranx" and eval_sec is not None:
            speedup = eval_sec / ours_time
            rep.print(f"ltrkit vs ranx's evaluate alone: {speedup:.1f}x faster (goal >= 10x: "
                      f"{'met' if speedup >= 10 else 'NOT met'})")
    rep.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
