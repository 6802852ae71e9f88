"""BM25 baselines of every shared collection with judgments, with fixed, stated settings; prints Markdown tables and
writes them to ``benchmarks/results/bench_bm25_baselines.md``.

Collections (``../shared/data`` or ``$LTRKIT_SHARED_DATA``): Cranfield, CACM, NPL (Vaswani), NFCorpus (test split,
title queries, 2-1-0 graded judgments) and ADI, loaded by :func:`features.load_test_collection`.

Settings, fixed for every collection (the first stage, :class:`features.BM25Retriever`, top 1000 per query, float64
scores, over the concatenation of the indexed fields):

- ``terrier``: Terrier 5's defaults: ``Analyzer.terrier()`` (Terrier's tokeniser rules, its 733-word stop list,
  Porter), log2 Robertson idf, k1 = 1.2, b = 0.75, k3 = 8 on query-term weights divided by the largest
  (``idf="terrier", k3=8, qtf_norm="max"``);
- ``anserini``: Anserini's defaults: ``Analyzer()`` (Unicode words, Lucene's 33 stopwords, Porter), Lucene idf,
  k1 = 0.9, b = 0.4.

A third row for NPL reruns ``terrier`` with b = 0.4, the setting of Terrier's published MAP (0.2992; BASELINES.md).

Evaluation: pytrec_eval (trec_eval 9) measures ``ndcg_cut_10`` (linear gain), ``map``, ``P_10`` and ``recall_100``,
averaged over every judged query (a judged query without any retrieved document counts 0, as ``trec_eval -c``).
``ltr.metrics.evaluate_run`` is computed on the same runs and its largest difference from pytrec_eval is printed.

``--grid`` also searches k1 x b for each collection and setting (analysis and idf fixed) and reports the best cell
by MAP and by NDCG@10. The grid is tuned on all the judged queries, so its figures are optimistic: a ceiling for
reference, not a baseline.

Run: ``python benchmarks/bench_bm25_baselines.py [--grid] [--data DIR] [--out FILE]`` (``--out -`` writes no
fragment). Progress goes to standard error; standard output is the fragment (``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from features import Analyzer, BM25Retriever, InvertedIndex, load_test_collection  # noqa: E402
from ltr._shared import shared_data_dir, shared_data_missing  # noqa: E402

COLLECTIONS = {"Cranfield": "cranfield", "CACM": "cacm", "NPL": "vaswani_npl", "NFCorpus": "nfcorpus", "ADI": "adi"}
SETTINGS = {
    "terrier": {"analyzer": "terrier", "idf": "terrier", "k1": 1.2, "b": 0.75, "k3": 8.0, "qtf_norm": "max"},
    "anserini": {"analyzer": "default", "idf": "lucene", "k1": 0.9, "b": 0.4, "k3": None, "qtf_norm": "none"},
}
MEASURES = {"ndcg_cut_10": "NDCG@10", "map": "MAP", "P_10": "P@10", "recall_100": "Recall@100"}
OURS = {"ndcg_cut_10": "ndcg@10", "map": "map", "P_10": "p@10", "recall_100": "recall@100"}
GRID_K1 = (0.3, 0.6, 0.9, 1.2, 1.5, 2.0, 2.5, 3.0)
GRID_B = (0.1, 0.25, 0.4, 0.55, 0.75, 0.9, 1.0)
PUBLISHED_NPL_MAP = 0.2992  # Terrier, BM25 with bm25.b = 0.4 (terrier-core doc/quickstart_experiments.md)
DEPTH = 1000


def data_root(arg: str | None) -> Path:
    root = shared_data_dir(arg)
    if root is None:
        sys.exit(shared_data_missing(arg))
    return root


def qrels_dict(qrels) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for q, d, r in zip(qrels["qid"].astype(str), qrels["docno"].astype(str), qrels["rel"]):
        out.setdefault(q, {})[d] = int(r)
    return out


def evaluate(qrels: dict, run, pytrec_eval) -> dict[str, float]:
    """Means over every judged query of the pytrec_eval measures (0 for a judged query the run misses)."""
    scores: dict[str, dict[str, float]] = {}
    for q, d, s in zip(run["qid"].astype(str), run["docno"].astype(str), run["score"]):
        scores.setdefault(q, {})[d] = float(s)
    per_query = pytrec_eval.RelevanceEvaluator(qrels, set(MEASURES)).evaluate(scores)
    return {m: float(np.mean([per_query.get(q, {}).get(m, 0.0) for q in qrels])) for m in MEASURES}


def ours(tc, run, qrels: dict) -> dict[str, float]:
    """The same means from ltr.metrics (judged queries missing from the run added as 0)."""
    from ltr.metrics import evaluate_run_per_query

    per_query = evaluate_run_per_query(tc.qrels, run, list(OURS.values()))
    n = len(qrels)
    return {m: float(per_query[OURS[m]].reindex(list(qrels)).fillna(0.0).sum() / n) for m in MEASURES}


def table(header: list[str], rows: list[list]) -> str:
    align = "|".join("---" if i < 2 else "---:" for i in range(len(header)))
    lines = ["| " + " | ".join(header) + " |", "|" + align + "|"]
    for r in rows:
        lines.append("| " + " | ".join(f"{x:.4f}" if isinstance(x, float) else str(x) for x in r) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))  # (its first paragraph)
    ap.add_argument("--grid", action="store_true", help="also search k1 x b per collection and setting")
    ap.add_argument("--data", help="shared data folder (default: $LTRKIT_SHARED_DATA or ../shared/data)")
    ap.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/"
                    "bench_bm25_baselines.md; - writes none)")
    args = ap.parse_args(argv)
    import pytrec_eval
    from _report import Fragment

    root = data_root(args.data)
    rep = Fragment(__file__, "BM25 baselines of the shared collections", argv, out=args.out)
    rows, grid_rows = [], []
    worst = 0.0
    for label, folder in COLLECTIONS.items():
        tc = load_test_collection(root / folder)
        qrels = qrels_dict(tc.qrels)
        for name, s in SETTINGS.items():
            analyzer = Analyzer.terrier() if s["analyzer"] == "terrier" else Analyzer()
            ix = InvertedIndex.build(tc.docs, analyzer)
            runs = [(name, s["b"])] + ([("terrier, b = 0.4", 0.4)] if label == "NPL" and name == "terrier" else [])
            for shown, b in runs:
                retriever = BM25Retriever(ix, k1=s["k1"], b=b, idf=s["idf"], k3=s["k3"], qtf_norm=s["qtf_norm"],
                                          dtype=np.float64)
                run = retriever.search(tc.queries, k=DEPTH)
                m = evaluate(qrels, run, pytrec_eval)
                mine = ours(tc, run, qrels)
                worst = max(worst, max(abs(m[k] - mine[k]) for k in MEASURES))
                rows.append([label, shown, len(qrels), f"{s['k1']}", f"{b}", s["idf"]] + [m[k] for k in MEASURES])
                print(f"{label:9s} {shown:17s} " + "  ".join(f"{MEASURES[k]} {m[k]:.4f}" for k in MEASURES),
                      file=sys.stderr, flush=True)
            if args.grid:
                best = {"map": (-1.0, None), "ndcg_cut_10": (-1.0, None)}
                for k1 in GRID_K1:
                    for b in GRID_B:
                        run = BM25Retriever(ix, k1=k1, b=b, idf=s["idf"], k3=s["k3"], qtf_norm=s["qtf_norm"],
                                            dtype=np.float64).search(tc.queries, k=DEPTH)
                        m = evaluate(qrels, run, pytrec_eval)
                        for key in best:
                            if m[key] > best[key][0]:
                                best[key] = (m[key], (k1, b, m))
                for key in ("map", "ndcg_cut_10"):
                    _, (k1, b, m) = best[key]
                    grid_rows.append([label, name, MEASURES[key], f"{k1}", f"{b}"] + [m[k] for k in MEASURES])
    header = ["collection", "setting", "judged queries", "k1", "b", "idf"] + list(MEASURES.values())
    npl = next(r for r in rows if r[0] == "NPL" and r[1] == "terrier, b = 0.4")
    out = [
        "BM25 first stage (`features.BM25Retriever`, top 1000, float64) over each collection's concatenated "
        "fields; settings `terrier` (Terrier 5 defaults: `Analyzer.terrier()`, log2 Robertson idf, k1 1.2, b 0.75, "
        "k3 8 on query weights over the largest qtf) and `anserini` (`Analyzer()`: Lucene's 33 stopwords + Porter, "
        "Lucene idf, k1 0.9, b 0.4); pytrec_eval, means over every judged query (missing = 0); NDCG with linear "
        "gain; NFCorpus = test split, title queries, 2-1-0 judgments.",
        "",
        table(header, rows),
        "",
        f"- NPL, Terrier's settings with b = 0.4: MAP {npl[7]:.5f} against Terrier's published {PUBLISHED_NPL_MAP}"
        f" (equal to its 4 published decimals: {round(npl[7], 4) == PUBLISHED_NPL_MAP}).",
        f"- `ltr.metrics.evaluate_run` on the same runs: largest difference from pytrec_eval {worst:.1e}.",
        "- NFCorpus here is the original release (3,162-document test split), not BEIR's version: Pyserini's BEIR "
        "figure (NDCG@10 0.3218) is not comparable.",
    ]
    if args.grid:
        out += ["", f"k1 x b grid (k1 in {list(GRID_K1)}, b in {list(GRID_B)}); the best cell per measure, chosen on "
                "all the judged queries (optimistic: a ceiling, not a baseline):", "",
                table(["collection", "setting", "best by", "k1", "b"] + list(MEASURES.values()), grid_rows)]
    rep.print("\n".join(out) + "\n")
    rep.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
