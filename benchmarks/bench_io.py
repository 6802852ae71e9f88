"""Throughput, peak memory and scaling of LETOR readers on synthetic 136-feature MSLR-like files.

Readers, each in a fresh subprocess per file (so peak memory is its own):

- ``ltrkit``          ``ltr.io.letor.read_letor(path)`` (dense float32) and ``sparse=True``;
- ``xgboost``         ``xgb.DMatrix(path + "?format=libsvm")`` (multi-threaded C++, not correctly rounded);
- ``sklearn``         ``load_svmlight_file(path, dtype=float32, n_features=136)`` (qid tokens skipped);
- ``sklearn-qid``     the same with ``query_id=True`` (grows quadratically: it appends to a numpy array per line);
- ``pandas``          ``pd.read_csv(sep=" ")`` (C engine) after turning ``:`` into spaces, values from every
                      other column (fair only for dense files whose ids are in the same order on every line).

Peak memory is ``VmHWM`` after resetting it (``/proc/self/clear_refs``) once the reader is imported and warmed
up, minus the resident size at that moment: what the read itself added. The budget of the requirement is "the
final arrays plus one copy of the file's bytes"; the table shows the ratio to that sum.

Also measured: the first-call JIT compile time (a cold Numba cache in a fresh directory) and the first call of a
new process with the cache warm; bit-equality of ltrkit's values with scikit-learn's (strtod, then a cast), and
how many of XGBoost's values differ from the correctly rounded ones.

Run ``python benchmarks/bench_io.py`` (60k..480k rows, a few minutes on 2 cores) or ``--quick``. Prints Markdown
and writes the same text to ``benchmarks/results/bench_io.md`` (``benchmarks/README.md``; ``--quick`` writes none
unless ``--out`` names one).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

N_FEATURES = 136
READERS = ("ltrkit", "ltrkit-sparse", "xgboost", "pandas", "sklearn", "sklearn-qid")
QUADRATIC = {"sklearn-qid"}


# ------------------------------------------------------------------------------------------------------------
# Synthetic data
# ------------------------------------------------------------------------------------------------------------


def make_mslr_like(n_rows: int, seed: int = 0):
    """A dataset shaped like MSLR-WEB: 136 features, half integer counts, the rest 6-decimal reals."""
    from ltr.datasets import RankingDataset
    from ltr.groups import group_ptr_from_sizes

    rng = np.random.default_rng(seed)
    sizes = rng.integers(20, 200, size=n_rows // 20 + 10)
    ptr = group_ptr_from_sizes(sizes)
    ptr = ptr[ptr < n_rows]
    ptr = np.append(ptr, n_rows)
    X = np.empty((n_rows, N_FEATURES), np.float32)
    kind = rng.choice(4, N_FEATURES, p=[0.5, 0.15, 0.2, 0.15])
    for j in range(N_FEATURES):
        if kind[j] == 0:  # counts, many zeros
            X[:, j] = rng.poisson(2.0, n_rows) * (rng.random(n_rows) < 0.6)
        elif kind[j] == 1:  # ratios in [0, 1)
            X[:, j] = np.round(rng.random(n_rows), 6)
        elif kind[j] == 2:  # BM25-like scores
            X[:, j] = np.round(rng.gamma(2.0, 8.0, n_rows), 6)
        else:  # log-probabilities
            X[:, j] = np.round(-rng.gamma(20.0, 1.2, n_rows), 6)
    y = rng.integers(0, 5, n_rows).astype(np.float64)
    qid = np.repeat(np.arange(1, ptr.size, dtype=np.int64), np.diff(ptr))
    return RankingDataset(X=X, y=y, qid=qid, group_ptr=ptr)


# ------------------------------------------------------------------------------------------------------------
# Child process: one reader, one file
# ------------------------------------------------------------------------------------------------------------


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _read(reader: str, path: str):
    """Run one reader; return (result, bytes of the arrays it returned or None when unknown)."""
    if reader in ("ltrkit", "ltrkit-sparse"):
        from ltr.io.letor import read_letor

        d = read_letor(path, sparse=reader == "ltrkit-sparse")
        X = d.X
        xb = X.nbytes if not hasattr(X, "indptr") else X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
        return d, xb + d.y.nbytes + d.qid.nbytes + d.group_ptr.nbytes
    if reader == "xgboost":
        import xgboost as xgb

        return xgb.DMatrix(path + "?format=libsvm"), None
    if reader in ("sklearn", "sklearn-qid"):
        from sklearn.datasets import load_svmlight_file

        out = load_svmlight_file(path, dtype=np.float32, n_features=N_FEATURES, zero_based=False,
                                 query_id=reader == "sklearn-qid")
        X = out[0]
        return out, X.data.nbytes + X.indices.nbytes + X.indptr.nbytes + sum(a.nbytes for a in out[1:])
    if reader == "pandas":
        import pandas as pd

        with open(path, "rb") as f:
            raw = f.read()
        df = pd.read_csv(io.BytesIO(raw.translate(bytes.maketrans(b":", b" "))), sep=" ", header=None, engine="c")
        del raw
        X = df.iloc[:, 4::2].to_numpy(np.float32)
        y = df[0].to_numpy(np.float64)
        qid = df[2].to_numpy(np.int64)
        return (X, y, qid), X.nbytes + y.nbytes + qid.nbytes
    raise ValueError(reader)


def child(reader: str, path: str, repeat: int, warm: str) -> None:
    warnings.filterwarnings("ignore")
    _read(reader, warm)  # imports, JIT cache load, thread pools
    rss0 = _status("VmRSS")
    exact = _reset_peak()
    best = float("inf")
    result_bytes = None
    peak = None
    for k in range(repeat):
        t = time.perf_counter()
        res, result_bytes = _read(reader, path)
        best = min(best, time.perf_counter() - t)
        if k == 0:
            peak = _status("VmHWM") - rss0
        del res
    print(json.dumps({"seconds": best, "peak": peak, "result": result_bytes, "exact_peak": exact}))


def run_child(reader: str, path: Path, repeat: int, warm: Path, timeout: float, env=None) -> dict | None:
    cmd = [sys.executable, __file__, "--child", reader, str(path), "--repeat", str(repeat), "--warm", str(warm)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        raise RuntimeError(f"{reader} failed on {path}:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------------------
# Checks and compile time
# ------------------------------------------------------------------------------------------------------------


def rounding_check(path: Path) -> tuple[str, str]:
    """ltrkit vs scikit-learn bit for bit; how many XGBoost values differ from the correctly rounded ones."""
    import xgboost as xgb
    from sklearn.datasets import load_svmlight_file

    from ltr.io.letor import read_letor

    warnings.filterwarnings("ignore")
    ref = load_svmlight_file(str(path), dtype=np.float32, n_features=N_FEATURES, zero_based=False)[0].tocsr()
    ours = read_letor(path, sparse=True).X
    same = (np.array_equal(ref.indptr, ours.indptr) and np.array_equal(ref.indices, ours.indices)
            and np.array_equal(ref.data.view(np.uint32), ours.data.view(np.uint32)))
    dense = read_letor(path).X
    rows = np.repeat(np.arange(ref.shape[0]), np.diff(ref.indptr))
    same_dense = np.array_equal(dense[rows, ref.indices].view(np.uint32), ref.data.view(np.uint32))
    # XGBoost may store a different set of entries (explicit zeros); compare the matrices they mean.
    ref_dense = np.zeros(ref.shape, dtype=np.float32)
    ref_dense[rows, ref.indices] = ref.data
    xg = xgb.DMatrix(str(path) + "?format=libsvm").get_data().tocsr()
    if xg.indices.min() >= 1:  # XGBoost keeps svmlight ids as column numbers (column 0 empty)
        xg_dense = np.zeros(ref.shape, dtype=np.float32)
        xg_dense[np.repeat(np.arange(xg.shape[0]), np.diff(xg.indptr)), xg.indices - 1] = xg.data
        diff = int(np.count_nonzero(xg_dense != ref_dense))
        xgb_note = f"{diff:,} of {ref_dense.size:,} matrix values differ from strtod-then-cast"
    else:
        xgb_note = "column 0 is used: layout unknown, values not compared"
    return ("yes" if same and same_dense else "NO"), xgb_note


def compile_times(tmp: Path) -> dict:
    """First call in a new process: with an empty Numba cache (compiles) and with the cache it left (loads)."""
    tiny = tmp / "tiny.txt"
    tiny.write_text("1 qid:1 1:0.5 2:3\n0 qid:1 1:0.25\n")
    d = make_mslr_like(300, seed=1)
    from ltr.io.letor import write_letor

    mid = write_letor(tmp / "mid.txt", d, header=False)  # > 64 KiB: the parallel kernels
    code = (
        "import time, sys; t0 = time.perf_counter()\n"
        "from ltr.io.letor import read_letor, write_letor\n"
        "t1 = time.perf_counter()\n"
        f"a = read_letor({str(tiny)!r}); b = read_letor({str(mid)!r})\n"
        "t2 = time.perf_counter()\n"
        f"write_letor({str(tmp / 'o1.txt')!r}, a); write_letor({str(tmp / 'o2.txt')!r}, b)\n"
        "t3 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1, t3 - t2)\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp / "numba_cache"))
    out = {}
    for label in ("cold", "warm"):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        imp, rd, wr = map(float, r.stdout.split())
        out[label] = (imp, rd, wr)
    return out


# ------------------------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small files (20k and 40k rows) and a 20 s time limit")
    ap.add_argument("--sizes", type=str, default=None, help="comma-separated row counts (default 60k..480k)")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds a reader may take on one file "
                    "(predicted from the previous size; default 60, 20 with --quick)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N for ltrkit and XGBoost (default 3)")
    ap.add_argument("--dir", type=str, default=None, help="where to write the files (default: a temp dir)")
    ap.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/bench_io.md, none "
                    "with --quick; - writes none)")
    ap.add_argument("--child", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--warm", type=str, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.out = fragment_out(args.out, trial=args.quick)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.repeat, args.warm)
        return 0

    from _report import Fragment

    from ltr.io.letor import write_letor

    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (
        [20_000, 40_000] if args.quick else [60_000, 120_000, 240_000, 480_000])
    limit = args.time_limit if args.time_limit is not None else (20.0 if args.quick else 60.0)
    rep = Fragment(__file__, "LETOR reading: throughput and peak memory", argv, out=args.out)
    tmpdir = tempfile.TemporaryDirectory(dir=args.dir)
    tmp = Path(tmpdir.name)
    warm = tmp / "warm.txt"
    write_letor(warm, make_mslr_like(50, seed=2), header=False)

    rep.print(f"Synthetic MSLR-like files ({N_FEATURES} features, half integer counts, the rest 6-decimal reals), "
              f"{', '.join(f'{n:,}' for n in sizes)} rows; each reader in a fresh subprocess per file, best of "
              f"{args.repeat} for ltrkit and XGBoost; peak = VmHWM growth during the read; a reader predicted to "
              f"take more than {limit:.0f} s on a file is skipped from then on; Numba threads: its default.\n")
    ct = compile_times(tmp)
    rep.print("### JIT compile (first call in a new process)\n")
    rep.table(["Numba cache", "import s", "first reads s (tiny + 400 KB file)", "first writes s"],
              [[label, f"{imp:.2f}", f"{rd:.2f}", f"{wr:.2f}"] for label, (imp, rd, wr) in ct.items()], "lrrr")

    rows_out = []
    last: dict[str, tuple[float, float]] = {}  # reader -> (MB, seconds) at the previous size
    skipped: dict[str, str] = {}
    gen_notes = []
    for n in sizes:
        path = tmp / f"mslr_like_{n}.txt"
        t = time.perf_counter()
        d = make_mslr_like(n)
        tg = time.perf_counter()
        write_letor(path, d, header=False)
        tw = time.perf_counter() - tg
        mb = path.stat().st_size / 1e6
        gen_notes.append(f"{n:,} rows: {mb:.0f} MB, generated in {tg - t:.1f} s, written by write_letor in "
                         f"{tw:.1f} s ({mb / tw:.0f} MB/s)")
        del d
        if n == sizes[0]:
            bit_equal, xgb_note = rounding_check(path)
        results = {}
        for reader in READERS:
            if reader in skipped:
                continue
            if reader in last:
                pmb, psec = last[reader]
                growth = (mb / pmb) ** (2 if reader in QUADRATIC else 1)
                if psec * growth > limit:
                    skipped[reader] = f"skipped from {n:,} rows on (predicted {psec * growth:.0f} s > {limit:.0f} s)"
                    continue
            n_rep = args.repeat if reader in ("ltrkit", "xgboost") else 1
            r = run_child(reader, path, n_rep, warm, timeout=max(4 * limit, 120) * n_rep)
            if r is None:
                skipped[reader] = f"timed out at {n:,} rows"
                continue
            results[reader] = r
            last[reader] = (mb, r["seconds"])
        xgb_rate = mb / results["xgboost"]["seconds"] if "xgboost" in results else None
        for reader, r in results.items():
            rate = mb / r["seconds"]
            result_mb = r["result"] / 1e6 if r["result"] is not None else None
            rows_out.append((n, mb, reader, r, rate, rate / xgb_rate if xgb_rate else None, result_mb))
        path.unlink()

    rep.print("### Read throughput and peak memory\n")
    table = []
    for n, mb, reader, r, rate, ratio, result_mb in rows_out:
        peak = r["peak"] / 1e6
        res = f"{result_mb:.0f}" if result_mb is not None else "n/a"
        rel = f"{peak / (result_mb + mb):.2f}" if result_mb is not None else "n/a"
        rat = f"{ratio:.2f}" if ratio is not None else "n/a"
        table.append([f"{n:,}", f"{mb:.0f}", reader, f"{r['seconds']:.2f}", f"{rate:.0f}", rat, f"{peak:.0f}", res,
                      rel])
    rep.table(["rows", "file MB", "reader", "seconds", "MB/s", "x XGBoost", "peak MB", "result MB",
               "peak / (result + file)"], table, "rrlrrrrrr")
    for reader, why in skipped.items():
        rep.print(f"- {reader}: {why}")
    rep.print(f"- ltrkit values bit-equal to scikit-learn's (strtod, then float32) at {sizes[0]:,} rows: {bit_equal}")
    rep.print(f"- XGBoost at {sizes[0]:,} rows: {xgb_note}")
    exact = all(x[3]["exact_peak"] for x in rows_out)
    rep.print(f"- peak memory from a VmHWM reset before each read: {'yes' if exact else 'no (includes warm-up)'}")
    for note in gen_notes:
        rep.print(f"- {note}")
    tmpdir.cleanup()
    rep.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
