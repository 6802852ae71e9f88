"""Quality and training time of every objective x engine x kernel on real and synthetic data.

Data: MQ2008 (the three segments in ../shared/data: train on one, early-stop on a second, test on the third, all
three rotations, averaged), the MSLR sample (train on the validation sample, test on the test sample, no early
stopping: it has only 18 + 18 queries) and a synthetic set from ``ltr.make_ranking`` (``--synthetic-queries``; the
default 8000 x 120 is about 1M rows).

    python benchmarks/bench_train.py [--quick] [--sets mq2008,mslr,synthetic] [--threads N]

Prints one Markdown table per data set: test NDCG@1/3/5/10, MAP and ERR@10 (``ltr.metrics`` defaults: exp2 gain, a
query with no relevant document scores 0) and training seconds, and writes the same text to
``benchmarks/results/bench_train.md`` (``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from sklearn.base import clone

from ltr import Ranker, make_ranking
from ltr._shared import shared_data_dir, shared_data_missing
from ltr.io import read_letor
from ltr.metrics import describe_conventions, evaluate

METRICS = ["ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10", "map", "err@10"]
CONFIGS = [  # (engine, objective, kernel)
    ("lightgbm", "lambdarank", "native"),
    ("lightgbm", "lambdarank", "numba"),
    ("lightgbm", "xendcg", "native"),
    ("lightgbm", "ranknet", "numba"),
    ("lightgbm", "listnet", "numba"),
    ("lightgbm", "pointwise", "native"),
    ("lightgbm", "pointwise", "numba"),
    ("xgboost", "lambdarank", "native"),
    ("xgboost", "lambdarank", "numba"),
    ("xgboost", "ranknet", "native"),
    ("xgboost", "ranknet", "numba"),
    ("xgboost", "listnet", "numba"),
    ("xgboost", "pointwise", "native"),
]


def splits(name: str, args):
    root = shared_data_dir()
    if name == "mq2008":
        segs = [read_letor(root / p, n_features=46) for p in
                ("mq2008/Fold2/test.txt.gz", "mq2008/Fold1/vali.txt.gz", "mq2008/Fold1/test.txt.gz")]
        for i in range(3):  # S1, S4, S5 rotated: train, valid, test
            yield segs[i], segs[(i + 1) % 3], segs[(i + 2) % 3]
    elif name == "mslr":
        tr = read_letor(root / "mslr_sample/mslr_fold1_valid_sample.txt.gz", n_features=136)
        te = read_letor(root / "mslr_sample/mslr_fold1_test_sample.txt.gz", n_features=136)
        yield tr, None, te
    elif name == "synthetic":
        q = args.synthetic_queries
        tr = make_ranking(q, 120, 136, random_state=0)
        va = make_ranking(max(q // 8, 50), 120, 136, random_state=1)
        te = make_ranking(max(q // 8, 50), 120, 136, random_state=2)
        yield tr, va, te
    else:
        raise SystemExit(f"unknown set {name!r}")


def run(name: str, args) -> tuple[list[list], set[int]]:
    rows, threads = [], set()
    for engine, objective, kernel in CONFIGS:
        per_split, secs = [], []
        for i, (train, valid, test) in enumerate(splits(name, args)):
            # preset=None: the settings stated in the output, not the small-data preset that Ranker's default
            # preset="auto" would put in their place on MQ2008 and the MSLR sample (fewer than 500 queries).
            model = Ranker(objective=objective, engine=engine, kernel=kernel, n_estimators=args.rounds,
                           learning_rate=0.05, num_leaves=31, min_child_samples=20, n_jobs=args.threads,
                           early_stopping_rounds=50 if valid is not None else None, random_state=0, preset=None)
            if i == 0:  # untimed: the engine's first fit and the kernel's compile (or cache load) are not training
                warm = make_ranking(20, 30, train.n_features, random_state=3)
                small = {"min_child_samples": 1} if engine == "lightgbm" else {}  # (XGBoost has no such rule)
                clone(model).set_params(n_estimators=2, early_stopping_rounds=None, **small).fit(warm)
            t0 = time.perf_counter()
            model.fit(train, eval_set=[valid] if valid is not None else None)
            secs.append(time.perf_counter() - t0)
            threads.add(int(model.n_threads_))
            per_split.append(evaluate(test.y, model.predict(test), group_ptr=test.group_ptr, metrics=METRICS))
        mean = {m: float(np.mean([r[m] for r in per_split])) for m in METRICS}
        rows.append([engine, objective, kernel, *[f"{mean[m]:.4f}" for m in METRICS], f"{np.sum(secs):.1f}"])
        print(f"  {name}: {engine}/{objective}/{kernel} done", file=sys.stderr)
    return rows, threads


DESCRIPTIONS = {
    "mq2008": "MQ2008: the three shared LETOR 4.0 segments S1, S4, S5 (Fold2/test, Fold1/vali, Fold1/test) rotated "
              "train/valid/test, metrics averaged over the three rotations; early stopping 50 rounds on validation "
              "NDCG@10",
    "mslr": "MSLR-WEB sample: train on the validation sample, test on the test sample; no early stopping (no third "
            "part)",
    "synthetic": "synthetic: ltr.make_ranking({q}, 120, 136) for training, {v} queries each for validation and test "
                 "(other seeds); early stopping 50 rounds on validation NDCG@10",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="mq2008,mslr,synthetic", help="comma-separated: mq2008, mslr, synthetic")
    ap.add_argument("--rounds", type=int, default=300, help="boosting rounds at most")
    ap.add_argument("--threads", type=int, default=None,
                    help="engine n_jobs as ltr.threads means it: default the toolkit's choice, -1 every core")
    ap.add_argument("--synthetic-queries", type=int, default=8000, dest="synthetic_queries",
                    help="training queries of the synthetic set")
    ap.add_argument("--quick", action="store_true", help="100 rounds, 500 synthetic queries")
    ap.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/bench_train.md, "
                    "none for a --quick trial; - writes none)")
    args = ap.parse_args(argv)
    args.out = fragment_out(args.out, trial=args.quick)  # a quick run is a trial: no fragment without --out
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.quick:
        args.rounds, args.synthetic_queries = 100, 500
    if shared_data_dir() is None and args.sets != "synthetic":
        raise SystemExit(f"{shared_data_missing()} (or use --sets synthetic)")
    from _report import Fragment

    rep = Fragment(__file__, "Training quality and time: every objective x engine x kernel", argv, out=args.out)
    rep.print(f"LightGBM and XGBoost through ltr.Ranker: at most {args.rounds} rounds, learning rate 0.05, 31 leaves, "
              f"at least 20 rows per leaf with LightGBM (XGBoost has no such rule: min_child_weight 1), no L2 "
              f"(reg_lambda 0, XGBoost's lambda too, whose own default is 1), XGBoost's lambdarank over every pair "
              f"of a query (lambdarank_pair_method topk, lambdarank_num_pair_per_sample at its largest), no preset, "
              f"seed 0; "
              f"n_jobs={args.threads} (ltr.threads). Test metrics with "
              f"ltr.metrics: {describe_conventions()}; ERR's top grade 4. Train s = the fits' wall time, summed over "
              "rotations (each configuration first fitted untimed for 2 rounds on 20 small queries: the engine's "
              "start and the kernel's compile are not in it).\n")
    for name in args.sets.split(","):
        q = args.synthetic_queries
        rows, threads = run(name, args)
        rep.print(f"### {name}\n")
        rep.print(DESCRIPTIONS[name].format(q=q, v=max(q // 8, 50)) + f"; engine threads {sorted(threads)}.\n")
        rep.table(["engine", "objective", "kernel", *METRICS, "train s"], rows, "lll" + "r" * (len(METRICS) + 1))
    rep.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
