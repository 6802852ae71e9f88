"""Peak memory and time of reading MSLR-WEB30K-sized LETOR files and of 100 rounds of LambdaMART on them.

For each size (default 100k, 1M and 3.7M rows x 136 features, MSLR-WEB30K's shape: ~120 documents per query,
labels 0-4, a mix of integer counts and 6-digit decimals), the script generates the data once (seeded) in two
layouts, then measures each step in a fresh subprocess (so that VmHWM, the peak resident set of that process, is
the step's own):

- ``ltr read``: :func:`ltr.io.read_letor` (streaming windows; the arrays allocated once);
- ``ltr read, whole file``: the previous reader, the file's bytes read whole and then parsed (for comparison);
- ``LightGBM read``: ``lgb.Dataset(path).construct()`` on the same data as svmlight without qid plus ``.query``
  (LightGBM's own text parser and binning);
- ``ltr train``: ``read_letor`` then ``ltr.Ranker(n_estimators=100)`` (LightGBM lambdarank through the toolkit,
  float32 arrays handed over without a copy);
- ``LightGBM train``: ``lgb.train`` with the same parameters on LightGBM's own Dataset from the file.

"peak/arrays" is VmHWM over the bytes of the arrays a dataset holds (X, y, qid, group_ptr): the issue's goal is
at most 1.3 for ``ltr read``. "(peak - base)/arrays" subtracts the interpreter and imports (VmHWM before reading).

Usage::

    nice -n 10 python benchmarks/bench_memory.py      # 100k, 1M, 3.7M rows, one thread; ~10 GiB of files
    python benchmarks/bench_memory.py --quick         # 100k rows, 10 rounds: a trial, no fragment

Writes its Markdown fragment to ``benchmarks/results/bench_memory.md`` once the run is complete (``--out``
elsewhere; ``--out -`` or ``--quick``: none).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_FEATURES = 136
PARAMS = {"objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20,
          "deterministic": True, "seed": 0, "verbosity": -1, "metric": "None"}


# -- data ---------------------------------------------------------------------------------------------------------
def _block(rng, sizes):
    """One block of queries: X (float32, MSLR-like columns), labels 0-4."""
    n = int(sizes.sum())
    X = np.empty((n, N_FEATURES), dtype=np.float32)
    counts = N_FEATURES * 3 // 5  # integer-valued columns (term counts, lengths)
    X[:, :counts] = rng.poisson(rng.uniform(0.2, 30.0, counts), (n, counts))
    X[:, counts:] = np.round(rng.gamma(2.0, 1.0, (n, N_FEATURES - counts)) * 10.0**rng.integers(-3, 3), 4)
    X[:, counts:][rng.random((n, N_FEATURES - counts)) < 0.2] = 0.0
    latent = X[:, 0] / 30 + X[:, counts] / X[:, counts].max() + rng.normal(0, 0.5, n)
    y = np.digitize(latent, np.quantile(latent, [0.5, 0.75, 0.9, 0.97])).astype(np.float64)
    return X, y


def generate(workdir: Path, n_rows: int, seed: int = 0) -> tuple[Path, Path]:
    """``(letor path, LightGBM-layout path)``; reused when they exist."""
    from ltr.datasets import RankingDataset
    from ltr.io import write_letor, write_query_file

    letor = workdir / f"mslr_like_{n_rows}.txt"
    lgbp = workdir / f"mslr_like_{n_rows}.lgb.txt"
    if letor.exists() and lgbp.exists() and Path(str(lgbp) + ".query").exists():
        return letor, lgbp
    rng = np.random.default_rng(seed)
    sizes = []
    total = 0
    while total < n_rows:
        s = int(min(max(rng.normal(120, 60), 5), 900, n_rows - total))
        sizes.append(s)
        total += s
    sizes = np.array(sizes)
    cuts = np.searchsorted(np.cumsum(sizes), np.arange(100_000, n_rows, 100_000), side="left")
    tmp = workdir / "block.txt"
    tmp_lgb = workdir / "block.lgb.txt"
    with open(str(letor) + ".part", "wb") as out, open(str(lgbp) + ".part", "wb") as out_lgb:
        q0 = 0
        for q1 in [*cuts.tolist(), sizes.size]:
            if q1 <= q0:
                continue
            X, y = _block(rng, sizes[q0:q1])
            qid = np.repeat(np.arange(q0, q1), sizes[q0:q1])
            d = RankingDataset(X=X, y=y, qid=qid, group_ptr=np.concatenate(([0], np.cumsum(sizes[q0:q1]))))
            write_letor(tmp, d, header=False)
            write_letor(tmp_lgb, d, header=False, qid=False)
            for src, dst in ((tmp, out), (tmp_lgb, out_lgb)):
                with open(src, "rb") as f:
                    shutil.copyfileobj(f, dst, 16 << 20)
            q0 = q1
    tmp.unlink()
    tmp_lgb.unlink()
    write_query_file(str(lgbp) + ".query", sizes)
    os.replace(str(letor) + ".part", letor)
    os.replace(str(lgbp) + ".part", lgbp)
    return letor, lgbp


# -- one measurement per process ----------------------------------------------------------------------------------
def _vm(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def child(kind: str, path: str, threads: int, rounds: int) -> dict:
    out: dict = {}
    if kind.startswith("ltr"):
        import numba

        from ltr.io import letor as L

        numba.set_num_threads(threads)
        warm = Path(tempfile.mkdtemp()) / "w.txt"  # compile (or load the cache) before the baseline
        warm.write_text("1 qid:1 1:0.5 2:3\n0 qid:1 1:1e-30 2:1\n")
        L.read_letor(warm, query_file=None)
        out["base"] = _vm("VmHWM")
        t0 = time.perf_counter()
        if kind == "ltr-whole":
            d = L._parse(L._read_bytes(Path(path)), path, n_features=None, sizes=None, qpath=None, auto_query=False,
                         weight=None, wpath=None, sources={}, missing=0.0, sparse=False, sort=False,
                         allow_nonfinite=False, clip=False, null_nan=False, drop_unjudged=False, encoding="utf-8",
                         id0=1, wide=False)  # read_letor's defaults (float32)
        else:
            d = L.read_letor(path, query_file=None)
        out["read_s"] = time.perf_counter() - t0
        out["arrays"] = int(d.X.nbytes + d.y.nbytes + d.qid.nbytes + d.group_ptr.nbytes)
        out["read_peak"] = _vm("VmHWM")
        if kind == "ltr-train":
            from ltr import Ranker

            t0 = time.perf_counter()
            model = Ranker(n_estimators=rounds, early_stopping_rounds=None, n_jobs=threads).fit(d)
            out["train_s"] = time.perf_counter() - t0
            out["trees"] = int(model.booster_.num_trees())
    else:
        import lightgbm as lgb

        out["base"] = _vm("VmHWM")
        params = dict(PARAMS, num_threads=threads)
        t0 = time.perf_counter()
        ds = lgb.Dataset(path, params=params).construct()
        out["read_s"] = time.perf_counter() - t0
        out["read_peak"] = _vm("VmHWM")
        if kind == "lgb-train":
            t0 = time.perf_counter()
            booster = lgb.train(params, ds, num_boost_round=rounds)
            out["train_s"] = time.perf_counter() - t0
            out["trees"] = int(booster.num_trees())
    out["peak"] = _vm("VmHWM")
    return out


def measure(kind: str, path: Path, threads: int, rounds: int) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, str(path), "--threads", str(threads), "--rounds", str(rounds)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        return {"error": (res.stderr.strip().splitlines() or ["?"])[-1], "wall_s": time.perf_counter() - t0}
    return json.loads(res.stdout.strip().splitlines()[-1])


# -- report -------------------------------------------------------------------------------------------------------
def _mb(b: float) -> str:
    return f"{b / 2**20:,.0f}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 rows and 10 rounds: a trial run, no fragment "
                                                         "unless --out names one")
    ap.add_argument("--sizes", default="100000,1000000,3700000", help="comma-separated row counts")
    ap.add_argument("--rounds", type=int, default=100, help="boosting rounds of the training steps")
    ap.add_argument("--threads", type=int, default=1, help="threads for the parsers and the engine")
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "ltr-bench-memory"),
                    help="where the generated files go (reused between runs)")
    ap.add_argument("--train-sizes", default=None, help="the sizes that also train (default: every size; '' for none)")
    ap.add_argument("--out", "--fragment", dest="out", default=None,
                    help="the Markdown fragment (default benchmarks/results/bench_memory.md, none with --quick; "
                         "'-': none), written once the run is complete")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.rounds = "100000", 10
    args.out = fragment_out(args.out, trial=args.quick)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.threads, args.rounds)))
        return 0
    t_start = time.perf_counter()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    lines = []
    out = None if args.out == "-" else Path(args.out) if args.out is not None else HERE / "results" / "bench_memory.md"
    from ltr.io import atomic_write

    def say(text: str = "") -> None:  # printed as measured; the fragment is written whole at the end, so that an
        print(text, flush=True)  # interrupted run never replaces a committed one with a part
        lines.append(text)

    from _report import command_line, header

    title = f"Memory: reading MSLR-WEB30K-sized LETOR files, and {args.rounds} rounds of LambdaMART"
    for line in header(title, command_line(__file__, argv)).splitlines():
        say(line)
    say(f"Synthetic MSLR-like data ({N_FEATURES} features, ~120 documents per query, labels 0-4), one file per size "
        "in each layout. Each step runs in its own process; peak = VmHWM of that process. "
        f"Training: {args.rounds} rounds, 31 leaves, learning rate 0.05, the same parameters on both paths. "
        f"{args.threads} thread(s) everywhere (the parsers and the engine).")
    say()
    say("| rows | file MB | arrays MB | step | seconds | MB/s | peak MB | peak/arrays | (peak - base)/arrays |")
    say("|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    train_sizes = None if args.train_sizes is None else {int(s) for s in args.train_sizes.split(",") if s.strip()}
    for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
        t0 = time.perf_counter()
        letor, lgbp = generate(work, n)
        gen = time.perf_counter() - t0
        print(f"(data for {n} rows ready in {gen:.0f} s)", file=sys.stderr, flush=True)
        size = letor.stat().st_size
        steps = [("ltr read", "ltr", letor), ("ltr read, whole file (previous reader)", "ltr-whole", letor),
                 ("LightGBM read (own parser + binning)", "lgb", lgbp)]
        if train_sizes is None or n in train_sizes:
            steps += [("ltr read + train", "ltr-train", letor), ("LightGBM read + train", "lgb-train", lgbp)]
        arrays = None
        for label, kind, path in steps:
            r = measure(kind, path, args.threads, args.rounds)
            if "error" in r:
                say(f"| {n:,} | {_mb(size)} | | {label} | failed: {r['error']} | | | | |")
                continue
            arrays = r.get("arrays", arrays)
            secs = r["read_s"] + r.get("train_s", 0.0)
            rate = f"{size / 2**20 / r['read_s']:,.0f}" if "train_s" not in r else ""
            detail = f" ({r['read_s']:.1f} read + {r['train_s']:.1f} train)" if "train_s" in r else ""
            ratio = f"{r['peak'] / arrays:.2f}" if arrays else ""
            net = f"{(r['peak'] - r['base']) / arrays:.2f}" if arrays else ""
            say(f"| {n:,} | {_mb(size)} | {_mb(arrays) if arrays else ''} | {label}{detail} | {secs:.1f} | {rate} | "
                f"{_mb(r['peak'])} | {ratio} | {net} |")
    say()
    say(f"Run time: {time.perf_counter() - t_start:.0f} s (data generation included).")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(out) as f:
            f.write("\n".join(lines) + "\n")
        print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
