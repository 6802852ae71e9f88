"""Learners for tens to hundreds of queries: LambdaMART settings for small query sets chosen by nested CV, and the
coordinate-ascent linear ranker on MQ2008 against the published LETOR 4.0 baselines.

    python benchmarks/bench_small_data.py [--quick] [--data DIR] [--cache DIR] [--out FILE]

1. Small-data LambdaMART. Data: the LETOR features of every shared text collection with judgments (Cranfield,
   CACM, NPL, NFCorpus, ADI; built once with ``ltr features --collection DIR --topk 100`` into ``--cache``) and
   MQ2008 (its three available segments S1, S4, S5 as one set of 470 queries). Candidates: LightGBM LambdaMART
   with the toolkit's standard defaults and a few small-data settings (shallow trees, large leaves, stronger
   shrinkage, bagging by query), plus the linear ranker (coordinate ascent on NDCG@10) for reference. Protocol
   (:func:`ltr.tuning.select_by_nested_cv`): 5 outer folds of whole queries; in each, every candidate is scored by
   3 inner folds of the outer *training* queries; the outer test queries are scored once. No validation part, no
   early stopping: trees train their fixed rounds (``Ranker().fit(train)``, the usual case when there are too few
   queries to hold some out).

   The preset is chosen from inner scores only: the tree setting with the best mean inner NDCG@10 over every
   (data set, outer fold). Its unbiased estimate on each data set comes from a leave-one-data-set-out choice (the
   setting chosen on the inner scores of the *other* data sets). The table of every candidate's outer results is
   given for information only: picking the best of those would be choosing on test folds.

2. MQ2008, linear ranker against the published LETOR 4.0 baselines: each available segment (S5 = Fold1 test, S1 =
   Fold2 test, S4 = Fold5 test) tested by a linear ranker trained on the other two segments (the official folds
   train on three segments and validate on a fourth, which is not available here), evaluated with the official
   LETOR 4.0 rules (``convention="letor"``), next to the published test rows of the same folds.

Every candidate is trained with ``preset=None``: the settings compared are exactly the ones listed (``Ranker()``'s
default ``preset="auto"`` would put the small-data preset, which this benchmark chose, under every candidate of
fewer than 500 training queries).

Writes its Markdown fragment to ``benchmarks/results/bench_small_data.md`` (``--out -``: none; ``--quick`` writes
none unless ``--out`` is given); standard output is the fragment, progress goes to standard error. Timings are
noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from ltr import Ranker  # noqa: E402
from ltr._shared import shared_data_dir, shared_data_missing  # noqa: E402
from ltr.datasets import RankingDataset  # noqa: E402

COLLECTIONS = {"Cranfield": "cranfield", "CACM": "cacm", "NPL": "vaswani_npl", "NFCorpus": "nfcorpus", "ADI": "adi"}
METRICS = ["ndcg@10", "map"]
TARGET = "ndcg@10"

# LightGBM LambdaMART candidates. "standard" is Ranker(preset=None)'s defaults; the others trade capacity for
# stability. "slow-wide" became Ranker(preset="small").
STANDARD = "standard"
TREES = {
    STANDARD: {},
    "shallow": dict(num_leaves=7, max_depth=3, min_child_samples=50, learning_rate=0.05, n_estimators=300,
                    subsample=0.8, colsample_bytree=0.8, engine_params={"bagging_by_query": True}),
    "stumps": dict(num_leaves=3, max_depth=2, min_child_samples=100, learning_rate=0.05, n_estimators=300,
                   subsample=0.7, colsample_bytree=0.5, engine_params={"bagging_by_query": True}),
    "slow-wide": dict(num_leaves=15, min_child_samples=100, learning_rate=0.02, n_estimators=300, subsample=0.8,
                      colsample_bytree=0.8, reg_lambda=10.0, engine_params={"bagging_by_query": True}),
    "short": dict(num_leaves=7, min_child_samples=50, learning_rate=0.1, n_estimators=100, subsample=0.8,
                  colsample_bytree=0.8, reg_lambda=1.0, engine_params={"bagging_by_query": True}),
}
LINEAR = "linear (CA)"


def candidates(quick: bool) -> dict[str, Ranker]:
    out = {}
    for name, kw in TREES.items():
        kw = dict(kw)
        if quick:
            kw["n_estimators"] = 30
        out[name] = Ranker(n_jobs=1, random_state=0, preset=None, **kw)  # exactly these settings, no preset
    out[LINEAR] = Ranker(engine="linear", n_jobs=1, random_state=0, preset=None,
                         engine_params={"n_restarts": 1} if quick else None)
    return out


def build_features(root: Path, cache: Path, folder: str) -> Path:
    from _report import code_digest

    out = cache / f"{folder}-top100-{code_digest()}.letor"  # this code's default features, BM25 top 100
    if not out.is_file():
        cmd = [sys.executable, "-m", "ltr.cli", "features", "--collection", str(root / folder), "--topk", "100",
               "--out", str(out), "--quiet"]
        print("$ " + " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, check=True)
    return out


def mq2008(root: Path) -> dict[str, RankingDataset]:
    from ltr.io import read_letor

    parts = {"S1": "mq2008/Fold2/test.txt.gz", "S4": "mq2008/Fold1/vali.txt.gz", "S5": "mq2008/Fold1/test.txt.gz"}
    return {k: read_letor(root / v, n_features=46) for k, v in parts.items()}


def concat(parts: list[RankingDataset]) -> RankingDataset:
    X = np.vstack([np.asarray(p.X) for p in parts])
    sizes = np.concatenate([p.group_sizes for p in parts])
    docs = None if any(p.doc_ids is None for p in parts) else np.concatenate([p.doc_ids for p in parts])
    return RankingDataset(X, np.concatenate([p.y for p in parts]), np.concatenate([p.qid for p in parts]),
                          np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), doc_ids=docs,
                          feature_names=parts[0].feature_names)


def first_stage(data: RankingDataset, selection) -> float | None:
    """NDCG@10 of the first-stage score (feature 1 of ltr features) on the same outer test queries."""
    from ltr.metrics import evaluate_per_query

    names = data.feature_names or ()
    if not names or names[0] != "first_stage_score":
        return None
    qids = {q for f in selection.selected.folds for q in f.qids}
    keep = np.flatnonzero(np.isin(data.query_ids.astype(str), list(qids)))
    sub = data.subset(keep)
    per = evaluate_per_query(sub.y, np.asarray(sub.X)[:, 0], group_ptr=sub.group_ptr, metrics=METRICS)
    return {m: float(np.mean(v)) for m, v in per.items()}


def pooled(cv, metric: str) -> float:
    return float(np.mean(cv.per_query(metric)))


def choose(inner_rows: list[dict[str, float]]) -> str:
    """The tree setting with the best mean inner score (ties: the first listed)."""
    names = list(TREES)
    means = {n: float(np.mean([r[n] for r in inner_rows])) for n in names}
    return max(names, key=lambda n: (means[n], -names.index(n)))


def fmt(v) -> str:
    return "" if v is None else f"{v:.4f}"


def small_data_section(sets: dict[str, RankingDataset], quick: bool) -> tuple[list[str], dict]:
    from ltr.evaluation import compare_cv
    from ltr.tuning import select_by_nested_cv

    results = {}
    for name, data in sets.items():
        t0 = time.perf_counter()
        sel = select_by_nested_cv(candidates(quick), data, metric=TARGET, metrics=METRICS, outer_folds=5,
                                  inner_folds=3, random_state=0)
        results[name] = {"selection": sel, "seconds": time.perf_counter() - t0, "first_stage": first_stage(data, sel)}
        print(f"{name}: {data.n_queries} queries, {time.perf_counter() - t0:.0f} s, chosen per fold {sel.chosen}",
              file=sys.stderr, flush=True)
    inner_rows = {n: [{c: row[c] for c in TREES} for row in r["selection"].inner] for n, r in results.items()}
    chosen_all = choose([row for rows in inner_rows.values() for row in rows])
    lines = ["### Every candidate's outer result (information only: choosing from this table would use test folds)",
             "", "NDCG@10 / MAP, pooled over the outer test queries of 5 folds (each query tested once); mean inner "
             "NDCG@10 over the 5 outer folds in brackets.", ""]
    cands = list(candidates(quick))
    lines.append("| data | queries | first stage | " + " | ".join(cands) + " | nested choice per fold |")
    lines.append("|---|---:|---:|" + "---:|" * len(cands) + "---:|")
    for name, r in results.items():
        sel = r["selection"]
        cells = []
        for c in cands:
            inner = np.mean([row[c] for row in sel.inner])
            cells.append(f"{pooled(sel.candidates[c], 'ndcg@10'):.4f} / {pooled(sel.candidates[c], 'map'):.4f} "
                         f"({inner:.4f})")
        fs = r["first_stage"]
        fs_cell = "" if fs is None else f"{fs['ndcg@10']:.4f} / {fs['map']:.4f}"
        nested = sel.selected
        lines.append(f"| {name} | {sets[name].n_queries} | {fs_cell} | " + " | ".join(cells)
                     + f" | {pooled(nested, 'ndcg@10'):.4f} / {pooled(nested, 'map'):.4f} |")
    lines += ["", "### The preset, chosen on inner scores only", ""]
    from ltr.rankers.presets import PRESETS

    shipped = dict(PRESETS["small"]["lightgbm"])
    # the candidates train their fixed rounds (no validation set here), as the preset's early_stopping_rounds=None does
    trees = {k: v for k, v in shipped.items() if k != "early_stopping_rounds"}
    same = chosen_all != STANDARD and trees == TREES[chosen_all] and shipped.get("early_stopping_rounds", None) is None
    lines.append(f"`Ranker(preset=\"small\")` ({'equal to' if same else 'NOT equal to'} this choice): "
                 f"{shipped}.")
    lines.append("")
    lines.append(f"Best mean inner NDCG@10 over every (data set, outer fold): **{chosen_all}**. Leave one data set "
                 "out: the setting chosen on the other data sets' inner scores, tested on this one's outer folds, "
                 "against the standard defaults (paired over queries; Fisher randomisation test, 10,000 "
                 "permutations, Holm over the data sets):")
    lines += ["", "| data | chosen on the others | standard NDCG@10 | chosen NDCG@10 | delta | standard MAP | "
              "chosen MAP | delta | p NDCG@10 (Holm) | p MAP (Holm) |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"
              "---:|"]
    rows = []
    for name, r in results.items():
        others = [row for n, rr in inner_rows.items() if n != name for row in rr]
        loco = choose(others)
        sel = r["selection"]
        rows.append((name, loco, sel.candidates[STANDARD], sel.candidates[loco]))
    pvals = {}
    from ltr.evaluation import holm

    for metric in METRICS:
        raw = []
        for _name, loco, std, ch in rows:
            if loco == STANDARD:
                raw.append(1.0)
                continue
            cmp = compare_cv({STANDARD: std, loco: ch}, STANDARD, metrics=[metric], tests=["randomization"],
                             correction="none", n_permutations=10_000, seed=0)
            raw.append(float(cmp.row(loco, metric)["tests"]["randomization"]["pvalue"]))
        pvals[metric] = list(holm(raw))
    for i, (name, loco, std, ch) in enumerate(rows):
        cells = [name, loco]
        for metric in METRICS:
            a, b = pooled(std, metric), pooled(ch, metric)
            cells += [f"{a:.4f}", f"{b:.4f}", f"{b - a:+.4f}"]
        cells += [f"{pvals['ndcg@10'][i]:.3g}", f"{pvals['map'][i]:.3g}"]
        lines.append("| " + " | ".join(cells) + " |")
    secs = sum(r["seconds"] for r in results.values())
    described = "; ".join(f"`{k}` {v or 'Ranker(preset=None) defaults'}" for k, v in TREES.items())
    lines += ["", f"Candidates: {described}; "
              f"`{LINEAR}` = `Ranker(engine='linear')` (NDCG@10). LightGBM LambdaMART, no preset, one thread, seed 0; "
              f"metrics with exp2 gain, queries without a relevant document count 0. {secs:.0f} s in all."]
    return lines, {"chosen": chosen_all, "results": results}


def _published(root: Path) -> dict[str, dict[str, dict[str, float]]]:
    """Published test rows per fold, {algorithm: {"Fold1": {"NDCG@1": ...}}}, from letor4_baselines/*.MQ2008.txt.

    Rows are in fold order (Fold1..Fold5, then the average); RankSVM-Struct labels them by its C instead of the
    fold, and writes ``P@k`` where the others write ``Pre@k``."""
    out = {}
    for path in sorted((root / "letor4_baselines").glob("*.MQ2008.txt")):
        text = path.read_text().replace("\r", "")
        test = text.split("Performance on testing set")[1].split("Performance on validation set")[0]
        rows: dict[str, dict[str, float]] = {}
        header: list[str] = []
        position = 0
        for line in test.splitlines():
            cells = [c for c in line.split("\t") if c != ""]
            if not cells:
                continue
            if cells[0] in ("Folds", "Para"):
                header = [h.replace("Pre@", "P@") for h in cells[1:]]
                position = 0
            elif header and cells[0].lower() not in ("avg", "average"):
                position += 1
                rows.setdefault(f"Fold{position}", {}).update({h: float(v) for h, v in zip(header, cells[1:])})
        out[path.name.split(".MQ2008")[0]] = rows
    return out


LETOR_COLS = {"NDCG@1": "ndcg@1", "NDCG@3": "ndcg@3", "NDCG@5": "ndcg@5", "P@1": "p@1", "MAP": "map"}


def mq2008_section(root: Path, quick: bool) -> list[str]:
    from ltr.metrics import evaluate

    seg = mq2008(root)
    tests = {"S5": "Fold1", "S1": "Fold2", "S4": "Fold5"}  # the official fold whose test part each segment is
    ours: dict[str, list[dict[str, float]]] = {}
    t0 = time.perf_counter()
    for objective in ("map", "ndcg@10"):
        label = f"CA linear ({objective})"
        ours[label] = []
        for test_seg in tests:
            train = concat([seg[s] for s in seg if s != test_seg])
            model = Ranker(engine="linear", objective=objective, random_state=0, n_jobs=1,
                           engine_params={"n_restarts": 1} if quick else None).fit(train)
            d = seg[test_seg]
            ours[label].append(evaluate(d.y, model.predict(d), group_ptr=d.group_ptr,
                                        metrics=list(LETOR_COLS.values()), convention="letor"))
    secs = time.perf_counter() - t0
    pub = _published(root)
    lines = ["| system | training | " + " | ".join(LETOR_COLS) + " |", "|---|---|" + "---:|" * len(LETOR_COLS)]
    for label, rows in ours.items():
        lines.append(f"| {label} | 2 segments | " + " | ".join(
            f"{np.mean([r[m] for r in rows]):.4f}" for m in LETOR_COLS.values()) + " |")
    for algo, folds in pub.items():
        lines.append(f"| {algo} (published) | 3 segments + vali | " + " | ".join(
            f"{np.mean([folds[f][c] for f in tests.values()]):.4f}" for c in LETOR_COLS) + " |")
    lines += ["", "Means over the three test segments S5, S1, S4 (the published rows: the test rows of Fold1, Fold2, "
              "Fold5 of the official tables). Official LETOR 4.0 evaluation rules (`convention=\"letor\"`). "
              f"{secs:.0f} s.",
              "", "Per test segment, MAP:", "", "| test segment (fold) | " + " | ".join(
                  [*ours, *[f"{a} (published)" for a in pub]]) + " |",
              "|---|" + "---:|" * (len(ours) + len(pub))]
    for i, (s, fold) in enumerate(tests.items()):
        lines.append(f"| {s} ({fold}) | " + " | ".join(
            [*[f"{rows[i]['map']:.4f}" for rows in ours.values()], *[f"{pub[a][fold]['MAP']:.4f}" for a in pub]])
            + " |")
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=None, help="shared data root (default: ../shared/data or $LTRKIT_SHARED_DATA)")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "ltrkit-small-data"),
                    help="where the collections' LETOR features are built once")
    ap.add_argument("--collections", default=",".join(COLLECTIONS),
                    help=f"comma-separated subset of {', '.join(COLLECTIONS)} (default: all)")
    ap.add_argument("--no-mq2008", action="store_true", help="skip MQ2008 in both sections")
    ap.add_argument("--quick", action="store_true", help="30 rounds, one restart: a smoke run, not a measurement")
    ap.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/"
                    "bench_small_data.md, none with --quick; - writes none)")
    args = ap.parse_args(argv)
    args.out = fragment_out(args.out, trial=args.quick)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from _report import Fragment

    from ltr.io import read_letor

    names = [c.strip() for c in args.collections.split(",") if c.strip()]
    unknown = [n for n in names if n not in COLLECTIONS]
    if unknown:  # (a KeyError's traceback: trial t70)
        sys.exit(f"--collections: unknown {', '.join(map(repr, unknown))}; choose from {', '.join(COLLECTIONS)}")
    root = shared_data_dir(args.data)
    if root is None:
        sys.exit(shared_data_missing(args.data))
    rep = Fragment(__file__, "Small query sets: LambdaMART settings by nested CV; the linear ranker on MQ2008", argv,
                   out=args.out)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    sets = {}
    for name in names:
        sets[name] = read_letor(build_features(root, cache, COLLECTIONS[name]))
    if not args.no_mq2008:
        sets["MQ2008"] = concat(list(mq2008(root).values()))
    small, info = small_data_section(sets, args.quick)
    rep.print("\n".join(small) + "\n")
    if not args.no_mq2008:
        rep.print("### MQ2008: the linear ranker (coordinate ascent) against the published LETOR 4.0 baselines\n")
        rep.print("\n".join(mq2008_section(root, args.quick)) + "\n")
    rep.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

