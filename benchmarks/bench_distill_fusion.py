"""The distill kernel's cost next to lambdarank's, and the fusion baselines on Cranfield (against ranx).

Part 1 times one gradient computation (median of ``--repeat`` calls, one Numba thread) of the lambdarank kernel
and of the distill kernel in its variants, on the MSLR-WEB sample of ``../shared/data`` (the validation and test
samples together) and on a synthetic set of MSLR's shape. The teacher scores are a LightGBM lambdarank model's.

Part 2 builds BM25 (bm25s) and TF-IDF (scikit-learn, sublinear tf, cosine) top-100 runs of the 225 Cranfield
queries, fuses them with every method, measures the largest difference from ranx's fusion of the same runs (on
every query for score-based methods; on queries without tied scores for rank-based ones, where ranx's unstable
sort decides) and reports NDCG@10 and MAP with trec_eval's conventions, with weights of the weighted sum fitted by
5-fold cross-validation over queries (out-of-fold run).

Usage::

    python benchmarks/bench_distill_fusion.py                # writes benchmarks/results/bench_distill_fusion.md
    python benchmarks/bench_distill_fusion.py --quick        # fewer repeats, smaller synthetic set; no fragment
    python benchmarks/bench_distill_fusion.py --out -        # print only, write no fragment

Standard output is the fragment (``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ltr import make_ranking  # noqa: E402
from ltr._shared import shared_data_dir  # noqa: E402
from ltr.io import read_letor, read_qrels  # noqa: E402
from ltr.kernels import distill, lambdarank  # noqa: E402


def median_call(obj, scores, repeat: int) -> float:
    grad, hess = np.empty(scores.size), np.empty(scores.size)
    obj.compute(scores, grad, hess)  # compile / warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        obj.compute(scores, grad, hess)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def kernel_table(name: str, X, y, ptr, repeat: int) -> list[str]:
    import lightgbm as lgb

    teacher = lgb.train({"objective": "lambdarank", "verbose": -1, "num_threads": 1, "num_leaves": 31},
                        lgb.Dataset(X, y, group=np.diff(ptr)), 50).predict(X)
    scores = np.random.default_rng(0).normal(size=y.size)
    variants = [
        ("lambdarank (exact)", lambdarank.prepare(y, ptr)),
        ("distill alpha=0 (soft targets)", distill.prepare(y, ptr, teacher=teacher, temperature=2.0)),
        ("distill alpha=0 + Margin-MSE, all pairs", distill.prepare(y, ptr, teacher=teacher, margin_weight=1.0)),
        ("distill alpha=0 + Margin-MSE, labelled pairs",
         distill.prepare(y, ptr, teacher=teacher, margin_weight=1.0, margin_pairs="labels")),
        ("distill alpha=0.5 (lambdarank + soft targets)", distill.prepare(y, ptr, teacher=teacher, alpha=0.5)),
    ]
    base = None
    lines = [f"**{name}**: {ptr.size - 1} queries, {y.size} rows; median of {repeat} calls, 1 Numba thread", "",
             "| kernel | ms per call | x lambdarank |", "|---|---:|---:|"]
    for label, obj in variants:
        t = median_call(obj, scores, repeat)
        base = t if base is None else base
        lines.append(f"| {label} | {1e3 * t:.3f} | {t / base:.2f} |")
    return [*lines, ""]


def smart_records(text: str) -> dict[str, str]:
    records: dict[str, list[str]] = {}
    current = field = None
    for line in text.splitlines():
        if line.startswith(".I "):
            current, field = line[3:].strip(), None
            records[current] = []
        elif len(line) == 2 and line.startswith("."):
            field = line[1]
        elif current is not None and field in ("T", "W"):
            records[current].append(line)
    return {k: " ".join(v) for k, v in records.items()}


def cranfield_runs(root: Path):
    import bm25s
    from sklearn.feature_extraction.text import TfidfVectorizer

    with gzip.open(root / "cranfield/cran.all.1400.gz", "rt") as fh:
        docs = smart_records(fh.read())
    queries = list(smart_records((root / "cranfield/cran.qry").read_text()).values())
    ids = list(docs)
    texts = [docs[i] for i in ids]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
    found, scores = retriever.retrieve(bm25s.tokenize(queries, show_progress=False), k=100, show_progress=False,
                                       n_threads=1)
    bm25 = pd.DataFrame([(str(q + 1), ids[j], float(s)) for q in range(len(queries))
                         for j, s in zip(found[q], scores[q]) if s > 0], columns=["qid", "docno", "score"])
    vec = TfidfVectorizer(sublinear_tf=True)
    D = vec.fit_transform(texts)
    sims = (vec.transform(queries) @ D.T).toarray()
    rows = []
    for q, s in enumerate(sims):
        rows.extend((str(q + 1), ids[j], float(s[j])) for j in np.argsort(-s, kind="stable")[:100] if s[j] > 0)
    tfidf = pd.DataFrame(rows, columns=["qid", "docno", "score"])
    return bm25, tfidf, read_qrels(root / "cranfield/cranqrel", "cranfield")


def ranx_run(run):
    from ranx import Run

    d: dict[str, dict[str, float]] = {}
    for q, doc, s in zip(run["qid"], run["docno"], run["score"]):
        d.setdefault(str(q), {})[str(doc)] = float(s)
    return Run.from_dict(d)


def fusion_table(root: Path) -> list[str]:
    import ranx

    from ltr.fusion import fit_weights, fuse
    from ltr.metrics import evaluate_run

    bm25, tfidf, qrels = cranfield_runs(root)
    tied = set()
    for r in (bm25, tfidf):
        tied |= set(r.loc[r.duplicated(["qid", "score"], keep=False), "qid"])
    rx = [ranx_run(bm25), ranx_run(tfidf)]
    cases = [("rrf", None, "rrf", None, {}), ("combsum", "minmax", "sum", "min-max", {}),
             ("combsum", "zscore", "sum", "zmuv", {}), ("combsum", "sum", "sum", "sum", {}),
             ("combsum", "rank", "sum", "rank", {}), ("combmnz", "minmax", "mnz", "min-max", {}),
             ("wsum", "minmax", "wsum", "min-max", {"weights": [0.5, 0.5]})]
    lines = ["**Cranfield, BM25 (bm25s) and TF-IDF top 100, 225 queries**; NDCG@10 and MAP with trec_eval's "
             "conventions (linear gain); ranx difference = the largest |ours - ranx| over the fused scores of "
             f"the queries compared: all {bm25['qid'].nunique()} for score-based methods, only those without tied "
             "scores in either run for rank-based ones (rrf, rank normalisation), where ranx's unstable sort orders "
             "ties and this toolkit trec_eval's way (score, then docno descending)", "",
             "| system | NDCG@10 | MAP | ranx difference | queries compared | seconds |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, run in (("BM25", bm25), ("TF-IDF", tfidf)):
        m = evaluate_run(qrels, run, ["ndcg@10", "map"])
        lines.append(f"| {name} | {m['ndcg@10']:.4f} | {m['map']:.4f} | | | |")
    for method, norm, rmethod, rnorm, params in cases:
        t0 = time.perf_counter()
        ours = fuse([bm25, tfidf], method=method, norm=norm, **params)
        seconds = time.perf_counter() - t0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = ranx.fuse(rx, norm=rnorm, method=rmethod, params=params or None).to_dict()
        skip = tied if method == "rrf" or norm == "rank" else set()
        diffs, compared = [], 0
        for q, g in ours.groupby("qid", sort=False):
            if q in skip:
                continue
            ref = np.array([theirs[q][d] for d in g["docno"]])
            diffs.append(np.abs(g["score"].to_numpy() - ref).max())
            compared += 1
        m = evaluate_run(qrels, ours, ["ndcg@10", "map"])
        label = f"{method}" + (f" ({norm})" if norm else "") + (f" w={params['weights']}" if params else "")
        lines.append(f"| {label} | {m['ndcg@10']:.4f} | {m['map']:.4f} | {max(diffs):.1e} | {compared} | "
                     f"{seconds:.3f} |")
    t0 = time.perf_counter()
    res = fit_weights([bm25, tfidf], qrels, n_splits=5, step=0.1, random_state=0)
    seconds = time.perf_counter() - t0
    m = evaluate_run(qrels, res.run, ["ndcg@10", "map"])
    weights = ", ".join(f"({f['weights'][0]:.1f}, {f['weights'][1]:.1f})" for f in res.folds)
    lines.append(f"| wsum (minmax), weights by 5-fold CV on NDCG@10, out of fold | {m['ndcg@10']:.4f} | "
                 f"{m['map']:.4f} | | | {seconds:.2f} |")
    lines += ["", f"Weights chosen per fold (BM25, TF-IDF): {weights}.", ""]
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats and a smaller synthetic set")
    p.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/"
                   "bench_distill_fusion.md, none with --quick; - writes none)")
    args = p.parse_args(argv)
    args.out = fragment_out(args.out, trial=args.quick)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    import numba
    from _report import Fragment

    rep = Fragment(__file__, "Distillation kernel and fusion baselines", argv, out=args.out)

    numba.set_num_threads(1)
    root = shared_data_dir()
    repeat = 20 if args.quick else 100
    lines: list[str] = []
    if root is not None:
        parts = [read_letor(root / f"mslr_sample/mslr_fold1_{s}_sample.txt.gz", n_features=136)
                 for s in ("valid", "test")]
        X = np.vstack([np.asarray(d.X) for d in parts])
        y = np.concatenate([d.y for d in parts])
        ptr = np.concatenate([[0], np.cumsum(np.concatenate([d.group_sizes for d in parts]))]).astype(np.int64)
        lines += kernel_table("MSLR-WEB sample (shared data)", X, y, ptr, repeat)
    d = make_ranking(200 if args.quick else 2000, 120, 136, random_state=0)
    lines += kernel_table("synthetic, MSLR's shape (make_ranking)", np.asarray(d.X), np.asarray(d.y),
                          np.asarray(d.group_ptr), max(5, repeat // 5))
    if root is not None:
        lines += fusion_table(root)
    rep.print("\n".join(lines))
    rep.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
