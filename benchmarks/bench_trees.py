"""Tree-ensemble scoring for reranking: ``ltr.trees`` against the engines' predict, tl2cgen and lleaves.

Per-call time to score 100 rows of the MSLR sample (136 features, float32) with LightGBM and XGBoost rankers of
{100, 1000} trees and {31, 255} leaves, trained here on the MSLR sample (LightGBM ``num_leaves``; XGBoost
``grow_policy="lossguide"``, ``max_leaves``), on one thread. Each call scores the next of the test file's batches
of 100 rows, in turn, copied beforehand (untimed) to where the system reads them, as a reranker meets new
candidates on every query, their features just computed (:func:`in_turn`): scoring the same 100 rows on every call
lets a tree walk's branch predictor learn their paths and flatters it (a second table per engine times every
system both ways in the same rounds; ``ltr.trees``' kernel has no such branches). The systems:

- ``ltr.trees``: :meth:`TreeEnsemble.predict` (the bit-sliced kernel of ``ltr.trees._score``), checked bit-for-bit
  equal to the engine before it is timed;
- LightGBM ``Booster.predict(raw_score=True, num_threads=1)``; XGBoost ``inplace_predict(predict_type="margin")``
  with ``nthread=1``;
- treelite + tl2cgen: the model compiled to a shared library with gcc (``-O3`` by default), ``nthread=1``;
- lleaves (LightGBM models only): the model compiled with LLVM, ``n_jobs=1``.

tl2cgen and lleaves run in a worker process of a Python that has them (``--tl2cgen-python``, ``--lleaves-python``;
default: this one): lleaves 1.3 needs llvmlite < 0.45, which current Numba does not allow beside it, so it lives in
its own environment. A reference that cannot be imported is reported as such. Each time is the smallest of
:data:`REPEATS` medians of ``--calls / REPEATS`` calls (after one warm-up call), the same for every system. The
rounds of a model's systems alternate (ours, the engine's, tl2cgen's, lleaves', then again, each round starting
one system further on; the workers compile first and time a round when told), so that a phase of the shared
machine slowed by its neighbours falls on every system alike, and the smallest median skips it where it can.
``ns/(row x tree)`` divides by rows x trees; ``x`` columns are the reference's time over ours (above 1: we are
faster). Models are cached in ``--cache`` (training the 1000 x 255 ones takes minutes).

Usage::

    python benchmarks/bench_trees.py \\
        --tl2cgen-python /path/to/venv/bin/python --lleaves-python /path/to/lleaves-venv/bin/python
    python benchmarks/bench_trees.py --quick     # 100 trees only (a trial: prints, writes no fragment)
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 100
MSLR = ("mslr_sample/mslr_fold1_valid_sample.txt.gz", "mslr_sample/mslr_fold1_test_sample.txt.gz")


#: Timing rounds: each time is the smallest of this many medians (a shared machine's neighbours slow whole rounds).
REPEATS = 8


#: Models of more leaves than this (trees x leaves) are timed with a tenth of the calls (every system alike).
BIG = 50_000


def _big_calls(calls: int) -> int:
    return max(5, calls // 10)


def _per_round(calls: int) -> int:
    return max(5, calls // REPEATS)


def _median(fn, per: int) -> float:
    """The median time of ``per`` calls of ``fn``: one timing round. ``fn`` times its own scoring (:func:`in_turn`)."""
    return statistics.median(fn() for _ in range(per))


def in_turn(score, batches, ready):
    """A call that makes the next of ``batches`` ready for ``score`` (untimed), then times ``score`` of it.

    ``ready(batch)`` copies the rows where the system reads them (a staging array, or the reference's own matrix),
    so that they are new to its branch predictors but in the cache, as a reranker's freshly computed features are.
    Every system takes the batches in the same turns."""
    import itertools

    turns = itertools.cycle(batches)

    def call() -> float:
        x = ready(next(turns))
        t = time.perf_counter()
        score(x)
        return time.perf_counter() - t

    return call


def staged(like):
    """``ready`` for :func:`in_turn`: a copy into one staging array shaped and typed as ``like``."""
    import numpy as np

    stage = np.empty_like(like)

    def ready(batch):
        np.copyto(stage, batch)
        return stage

    return ready


def worker(kind: str, engine: str, model: str, data: str, calls: int, workdir: str) -> None:
    """Compile one reference in this process, print its predictions of every row as JSON, then time a round of
    ``_per_round(calls)`` calls, each on the next batch of :data:`ROWS` rows of ``data`` (``round``) or each on the
    first batch (``round one``), for each such line read from standard input (printing its median seconds) until
    ``quit`` or the end of the input."""
    import numpy as np

    X = np.load(data)
    if kind == "lleaves":
        import lleaves

        m = lleaves.Model(model_file=model)
        m.compile()
        batches = [X[i:i + ROWS].astype(np.float64) for i in range(0, X.shape[0], ROWS)]
        ready = staged(batches[0])

        def score(x):
            return m.predict(x, n_jobs=1)
    else:
        import tl2cgen
        import treelite

        tm = (treelite.frontend.load_lightgbm_model(model) if engine == "lightgbm"
              else treelite.frontend.load_xgboost_model(model))
        lib = os.path.join(workdir, f"{Path(model).stem}.so")
        tl2cgen.export_lib(tm, toolchain="gcc", libpath=lib, params={"parallel_comp": 16}, nthread=os.cpu_count())
        predictor = tl2cgen.Predictor(lib, nthread=1)
        batches = [X[i:i + ROWS] for i in range(0, X.shape[0], ROWS)]
        ready = tl2cgen.DMatrix  # its own copy of the rows

        def score(dmat):
            return predictor.predict(dmat, pred_margin=True)
    pred = np.concatenate([np.asarray(score(ready(b)), dtype=np.float64).reshape(-1) for b in batches])  # warm-up
    print(json.dumps({"pred": pred.tolist()}), flush=True)
    fns = {"round": in_turn(score, batches, ready), "round one": in_turn(score, batches[:1], ready)}
    for line in sys.stdin:
        if line.strip() not in fns:
            break
        print(json.dumps({"seconds": _median(fns[line.strip()], _per_round(calls))}), flush=True)


class Worker:
    """A reference timed in a worker process of its own Python: started (and compiling) on construction, in its own
    process group so that a timeout also ends the compilers it started, with its address space limited to
    ``memory_gib`` (lleaves' LLVM compile of 1000 trees of 255 leaves passed 22 GiB). ``why`` says why it is not
    run, once it is not."""

    def __init__(self, python: str, kind: str, engine: str, model: Path, data: Path, calls: int, workdir: str,
                 timeout: float, memory_gib: float):
        import queue
        import threading

        cmd = [python, __file__, "--worker", kind, "--engine", engine, "--model", str(model), "--data", str(data),
               "--calls", str(calls), "--workdir", workdir]

        def limit():
            import resource

            cap = int(memory_gib * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

        self.memory_gib = memory_gib
        self.why: str | None = None
        self.stderr = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: compilers may write much
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True, start_new_session=True, preexec_fn=limit)
        self.lines: queue.Queue = queue.Queue()

        def read():
            for line in self.proc.stdout:
                self.lines.put(line)
            self.lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        ready = self._answer("pred", timeout, f"compiling took over {timeout:.0f} s")
        self.pred = None if ready is None else ready["pred"]

    def _answer(self, key: str, timeout: float, late: str):
        """The next JSON line holding ``key`` (other lines are the libraries' own output), or None with
        :attr:`why` set when the worker ends, fails or takes over ``timeout`` seconds."""
        import queue

        end = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                self.close()
                self.why = f"not run: {late}"
                return None
            if line is None:
                self.why = self._failure()
                self.close()
                return None
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            if isinstance(answer, dict) and key in answer:
                return answer

    def _failure(self) -> str:
        code = self.proc.wait()
        self.stderr.seek(0)
        lines = self.stderr.read().strip().splitlines()
        if code < 0 or any("memory" in line.lower() for line in lines[-5:]):
            return (f"not run: the worker ran out of its {self.memory_gib:g} GiB address space or was killed "
                    f"(exit {code})")
        return f"not run: {(lines or ['failed'])[-1][:120]}"

    def round(self, one_batch: bool = False) -> float | None:
        """One timing round's median seconds (each call on the next batch, or on the first), or None (see
        :attr:`why`)."""
        if self.why is not None:
            return None
        try:
            self.proc.stdin.write("round one\n" if one_batch else "round\n")
            self.proc.stdin.flush()
        except OSError:
            self.why = self._failure()
            return None
        answer = self._answer("seconds", 600, "a timing round took over 600 s")
        return None if answer is None else answer["seconds"]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def best_of_rounds(systems: dict, rounds: int = REPEATS) -> dict:
    """The smallest round median of each system, its rounds alternating with the others': ``systems`` maps a name
    to a function timing one round (its median seconds, or None when it cannot); round r starts with the r-th
    system. A system that fails a round is None from then on."""
    names = list(systems)
    best: dict = {name: float("inf") for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            if best[name] is None:
                continue
            seconds = systems[name]()
            best[name] = None if seconds is None else min(best[name], seconds)
    return best


def load_mslr(root: Path):
    import numpy as np
    from sklearn.datasets import load_svmlight_file

    parts = []
    for rel in MSLR:
        with gzip.open(root / rel, "rb") as f:
            X, y, qid = load_svmlight_file(f, query_id=True, n_features=136)
        parts.append((X.toarray().astype(np.float32), y, np.diff(np.flatnonzero(np.diff(qid, prepend=-1, append=-1)))))
    return parts


def train(engine: str, n_trees: int, leaves: int, parts, cache: Path) -> Path:
    """Train (or reuse) one model on both MSLR sample files; returns the model file."""
    import numpy as np

    path = cache / f"{engine}_{n_trees}_{leaves}.{'txt' if engine == 'lightgbm' else 'json'}"
    if path.exists():
        return path
    X = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    group = np.concatenate([p[2] for p in parts])
    print(f"training {path.name} ...", file=sys.stderr, flush=True)
    # one training thread: two crawled on a busy 2-core machine (the 255-leaf model did not finish in 900 s, where
    # one thread took 8 s; trial t64); the models are the timed subject, not the training
    if engine == "lightgbm":
        import lightgbm as lgb

        params = {"objective": "lambdarank", "num_leaves": leaves, "min_data_in_leaf": 2, "max_bin": 63,
                  "min_sum_hessian_in_leaf": 0.0, "learning_rate": 0.05, "num_threads": 1, "verbose": -1, "seed": 0}
        lgb.train(params, lgb.Dataset(X, y, group=group), n_trees).save_model(str(path))
    else:
        import xgboost as xgb

        params = {"objective": "rank:pairwise", "grow_policy": "lossguide", "max_leaves": leaves, "max_depth": 0,
                  "min_child_weight": 0.0, "max_bin": 63, "eta": 0.05, "nthread": 1, "tree_method": "hist"}
        xgb.train(params, xgb.DMatrix(X, y, group=group), n_trees).save_model(str(path))
    return path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 trees only")
    parser.add_argument("--calls", type=int, default=200, help="calls per timing (fewer for the slow ones)")
    parser.add_argument("--tl2cgen-python", default=sys.executable)
    parser.add_argument("--lleaves-python", default=sys.executable)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "ltrkit-bench-trees"))
    parser.add_argument("--worker-timeout", type=float, default=1800,
                        help="seconds a tl2cgen or lleaves worker may take, compiling included")
    parser.add_argument("--worker-memory", type=float, default=16.0,
                        help="GiB of address space a tl2cgen or lleaves worker may use")
    parser.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/"
                                                    "bench_trees.md, none with --quick; '-' writes none)")
    parser.add_argument("--worker", choices=["tl2cgen", "lleaves"], help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out = fragment_out(args.out, trial=args.quick)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:  # runs in the reference's own Python: imports nothing of ltrkit
        worker(args.worker, args.engine, args.model, args.data, args.calls, args.workdir)
        return 0

    import lightgbm as lgb
    import numpy as np
    import xgboost as xgb
    from _report import Fragment

    from ltr._shared import shared_data_dir, shared_data_missing
    from ltr.trees import from_booster

    root = shared_data_dir()
    if root is None:
        print(f"{shared_data_missing()} (the MSLR sample is needed)", file=sys.stderr)
        return 1
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    parts = load_mslr(root)
    test = parts[1][0]
    X = np.ascontiguousarray(test[:test.shape[0] // ROWS * ROWS])
    batches = [X[i:i + ROWS] for i in range(0, X.shape[0], ROWS)]
    data = cache / "X.npy"
    np.save(data, X)
    frag = Fragment(__file__, "Tree scoring for reranking: ltr.trees against the engines, tl2cgen and lleaves",
                    argv=argv, out=args.out)
    frag.print(f"{ROWS} rows a call, each call the next of the {len(batches)} batches of {ROWS} rows of the MSLR "
               f"sample test file, in turn (136 features, float32), copied beforehand, untimed, to the array the "
               f"system reads (tl2cgen: a new DMatrix): new rows each call, in the cache; one thread, the smallest "
               f"of {REPEATS} medians "
               f"of {_per_round(args.calls)} calls ({_per_round(_big_calls(args.calls))} for "
               f"models of over {BIG:,} leaves in all), the same for every system (lleaves and tl2cgen in worker "
               f"processes); the rounds of a model's systems alternate, so that a slow phase of the shared machine "
               f"falls on all of them. Models trained on the MSLR sample; "
               f"'leaves' is the mean leaves per tree reached, 'nodes' the mean split nodes per tree (the "
               f"bit-sliced kernel applies every split node to every block of 128 rows, so its time grows with nodes, "
               f"where a tree walk's grows with depth). Every ltr.trees result, on every batch, was asserted "
               f"bit-for-bit equal to the engine's; 'max diff' is the largest absolute difference of a reference's "
               f"margins from the engine's, over every batch. x = the reference's time / ltr.trees' time. Load "
               f"average at start: "
               f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (a shared machine: read the ratios).")
    frag.print()
    sizes = [(t, lv) for t in ((100,) if args.quick else (100, 1000)) for lv in (31, 255)]
    with tempfile.TemporaryDirectory() as workdir:
        for engine in ("lightgbm", "xgboost"):
            rows, same_rows = [], []
            for n_trees, leaves in sizes:
                path = train(engine, n_trees, leaves, parts, cache)
                if engine == "lightgbm":
                    booster = lgb.Booster(model_file=str(path))

                    def native(x, b=booster):
                        return b.predict(x, raw_score=True, num_threads=1)
                else:
                    booster = xgb.Booster(model_file=str(path))
                    booster.set_param({"nthread": 1})

                    def native(x, b=booster):
                        return b.inplace_predict(x, predict_type="margin")
                model = from_booster(booster)
                want = np.concatenate([np.asarray(native(b), dtype=np.float64) for b in batches])
                got = np.concatenate([model.predict(b) for b in batches])  # also the warm-up calls of both
                assert np.array_equal(got, want), f"{path.name}: ltr.trees differs from the engine"
                calls = _big_calls(args.calls) if n_trees * leaves > BIG else args.calls
                per = _per_round(calls)
                refs = [("tl2cgen", args.tl2cgen_python)] + ([("lleaves", args.lleaves_python)]
                                                             if engine == "lightgbm" else [])
                workers = {}
                for kind, python in refs:  # one after the other: each compile has both cores
                    print(f"{kind} on {path.name} ...", file=sys.stderr, flush=True)
                    workers[kind] = Worker(python, kind, engine, path, data, calls, workdir, args.worker_timeout,
                                           args.worker_memory)
                calls_of = {"ours": in_turn(model.predict, batches, staged(X[:ROWS])),
                            "engine": in_turn(native, batches, staged(X[:ROWS])),
                            "ours, one batch": in_turn(model.predict, batches[:1], staged(X[:ROWS])),
                            "engine, one batch": in_turn(native, batches[:1], staged(X[:ROWS]))}
                systems = {name: lambda f=f, n=per: _median(f, n) for name, f in calls_of.items()}
                for kind, w in workers.items():
                    systems[kind] = w.round
                    systems[f"{kind}, one batch"] = lambda w=w: w.round(one_batch=True)
                try:
                    best = best_of_rounds(systems)
                finally:
                    for w in workers.values():
                        w.close()
                ours, eng = best["ours"], best["engine"]
                cells = [f"{n_trees}", f"{np.diff(model.leaf_ptr).mean():.0f}",
                         f"{model.feature.size / model.n_trees:.0f}", f"{ours * 1e6:.0f}",
                         f"{ours * 1e9 / (ROWS * n_trees):.2f}", f"{eng * 1e6:.0f}", f"{eng / ours:.1f}"]
                for kind, w in workers.items():
                    if best[kind] is None:
                        cells += [w.why, "", ""]
                    else:
                        diff = np.abs(np.asarray(w.pred) - want).max()
                        cells += [f"{best[kind] * 1e6:.0f}", f"{best[kind] / ours:.1f}", f"{diff:.1e}"]
                rows.append(cells)
                same = [f"{n_trees}", f"{leaves}"]
                for name in ["ours", "engine", *workers]:
                    turn, one = best[name], best[f"{name}, one batch"]
                    same += ["" if turn is None or one is None else f"{turn * 1e6:.0f} / {one * 1e6:.0f} = "
                             f"{turn / one:.2f}"]
                same_rows.append(same)
            head = ["trees", "leaves", "nodes", "ltr.trees us", "ns/(row x tree)", f"{engine} us", "x"]
            head += ["tl2cgen us", "x", "max diff"]
            if engine == "lightgbm":
                head += ["lleaves us", "x", "max diff"]
            frag.print(f"### {'LightGBM' if engine == 'lightgbm' else 'XGBoost'} models")
            frag.print()
            frag.table(head, rows, align="r" * len(head))
            frag.print()
            frag.print(f"A new batch each call (as above) against the same {ROWS} rows on every call (the first "
                       f"batch, copied the same way before each call), in the same rounds: us in turn / us on one "
                       f"batch = their ratio (above 1: the system is faster when it meets the same rows again).")
            frag.print()
            same_head = ["trees", "max leaves", "ltr.trees", engine, "tl2cgen"] + (["lleaves"] if engine == "lightgbm"
                                                                                 else [])
            frag.table(same_head, same_rows, align="r" * len(same_head))
            frag.print()
    frag.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
