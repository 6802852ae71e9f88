"""Time and signal of the small-collection features (RM3, Bo1, SDM, BM25F, DPH; issue #13): each scores the BM25 top
100 of every query of each shared collection; prints Markdown tables and writes them to
``benchmarks/results/bench_prf_sdm_features.md``.

First stage: :class:`features.BM25Retriever` with Terrier's settings (``Analyzer.terrier()``, ``idf="terrier"``,
k1 = 1.2, b = 0.75, k3 = 8, ``qtf_norm="max"``), top 100, over the concatenated fields. Each feature, with its
default parameters, is computed on the same pairs (the ``all`` field; BM25F over the document fields with weight 1),
once to compile or load the Numba kernels and then timed (best of ``--repeat``). "Signal" is the feature used
alone to re-rank the 100 candidates: NDCG@10 and MAP by pytrec_eval over every judged query (a judged query without
candidates counts 0), next to the first stage's own ranking. No parameter was tuned.

Run: ``python benchmarks/bench_prf_sdm_features.py [--data DIR] [--repeat R] [--out FILE]`` (``--out -`` writes no
fragment). Progress goes to standard error; standard output is the fragment (``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from features import Analyzer, BM25Retriever, InvertedIndex, load_test_collection  # noqa: E402
from features.pairs import PairSet  # noqa: E402
from features.scorers import get_scorer  # noqa: E402
from ltr._shared import shared_data_dir, shared_data_missing  # noqa: E402

COLLECTIONS = {"Cranfield": "cranfield", "CACM": "cacm", "NPL": "vaswani_npl", "NFCorpus": "nfcorpus", "ADI": "adi"}
FEATURES = [  # (column label, scorer, parameters, field; None = the scorer is not per field)
    ("rm3", "rm3", {}, "all"),
    ("rm3 (feedback from a BM25 retrieval)", "rm3", {"fb_source": "retrieval"}, "all"),
    ("bo1 (Terrier BM25)", "bo1", {}, "all"),
    ("bo1 (DPH, from a DPH retrieval)", "bo1", {"model": "dph", "fb_source": "retrieval"}, "all"),
    ("sdm", "sdm", {"columns": ["score"]}, "all"),
    ("bm25f", "bm25f", {}, None),
    ("dph", "dph", {}, "all"),
]
DEPTH = 100


def data_root(arg: str | None) -> Path:
    root = shared_data_dir(arg)
    if root is None:
        sys.exit(shared_data_missing(arg))
    return root


def measure(qrels: dict, qids, docnos, scores, pytrec_eval) -> tuple[float, float]:
    run: dict[str, dict[str, float]] = {}
    for q, d, s in zip(qids, docnos, scores):
        run.setdefault(q, {})[d] = float(s)
    per_query = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_10", "map"}).evaluate(run)
    return tuple(float(np.mean([per_query.get(q, {}).get(m, 0.0) for q in qrels])) for m in ("ndcg_cut_10", "map"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))  # (its first paragraph)
    ap.add_argument("--data", help="shared data folder (default: $LTRKIT_SHARED_DATA or ../shared/data)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each feature (the best is reported)")
    ap.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/"
                    "bench_prf_sdm_features.md; - writes none)")
    args = ap.parse_args(argv)
    import pytrec_eval
    from _report import Fragment

    root = data_root(args.data)
    rep = Fragment(__file__, "PRF, SDM, BM25F and DPH features: time and effectiveness alone", argv, out=args.out)
    time_rows, signal_rows = [], []
    for label, folder in COLLECTIONS.items():
        tc = load_test_collection(root / folder)
        ix = InvertedIndex.build(tc.docs, Analyzer.terrier())
        run = BM25Retriever(ix, k1=1.2, b=0.75, idf="terrier", k3=8.0, qtf_norm="max", dtype=np.float64).search(
            tc.queries, k=DEPTH)
        text = dict(tc.queries.items())
        kept = [q for q in tc.queries.qids if q in set(run.qid)]
        run = run.set_index("qid").loc[kept].reset_index()
        sizes = run.groupby("qid", sort=False).size().reindex(kept).to_numpy()
        ptr = np.zeros(len(kept) + 1, dtype=np.int64)
        np.cumsum(sizes, out=ptr[1:])
        pairs = PairSet(ix, [ix.query_terms(text[q]) for q in kept], ptr, ix.doc_index(run.docno),
                        first_stage_score=run.score.to_numpy(), first_stage_rank=run["rank"].to_numpy(np.float64))
        qrels: dict[str, dict[str, int]] = {}
        for q, d, r in zip(tc.qrels.qid.astype(str), tc.qrels.docno.astype(str), tc.qrels.rel):
            qrels.setdefault(q, {})[d] = int(r)
        qids, docnos = run.qid.astype(str).to_numpy(), run.docno.astype(str).to_numpy()
        base = measure(qrels, qids, docnos, run.score, pytrec_eval)
        t_row = [label, len(kept), pairs.n_pairs]
        s_row = [label, f"{base[0]:.4f} / {base[1]:.4f}"]
        for _, name, params, field in FEATURES:
            scorer = get_scorer(name)(**params)
            fresh = PairSet(ix, pairs.queries, pairs.group_ptr, pairs.docs, first_stage_score=pairs.first_stage_score,
                            first_stage_rank=pairs.first_stage_rank)
            scorer.score(fresh, field)  # compile or load the kernels
            best = np.inf
            for _ in range(args.repeat):
                fresh = PairSet(ix, pairs.queries, pairs.group_ptr, pairs.docs,
                                first_stage_score=pairs.first_stage_score, first_stage_rank=pairs.first_stage_rank)
                t0 = time.perf_counter()
                values = scorer.score(fresh, field)[:, 0]
                best = min(best, time.perf_counter() - t0)
            ndcg, ap_ = measure(qrels, qids, docnos, values, pytrec_eval)
            t_row.append(best)
            s_row.append(f"{ndcg:.4f} / {ap_:.4f}")
            print(f"{label:9s} {name:6s} {params!s:45s} {best:7.3f} s  NDCG@10 {ndcg:.4f}  MAP {ap_:.4f}",
                  file=sys.stderr, flush=True)
        time_rows.append(t_row)
        signal_rows.append(s_row)
    labels = [f[0] for f in FEATURES]
    out = [f"Seconds to compute each feature for the BM25 top 100 of every query (Terrier analysis and BM25), best of "
           f"{args.repeat}; this machine's load varies, so read ratios within the table:", "",
           "| collection | queries | pairs | " + " | ".join(labels) + " |",
           "|---|---:|---:|" + "---:|" * len(labels)]
    out += ["| " + " | ".join([r[0], str(r[1]), str(r[2])] + [f"{x:.3f}" for x in r[3:]]) + " |" for r in time_rows]
    out += ["", "Each feature alone re-ranking those 100 candidates, NDCG@10 / MAP (pytrec_eval, every judged query; "
            "default parameters, nothing tuned), against the BM25 ranking itself:", "",
            "| collection | BM25 top 100 | " + " | ".join(labels) + " |", "|---|" + "---:|" * (len(labels) + 1)]
    out += ["| " + " | ".join(r) + " |" for r in signal_rows]
    rep.print("\n".join(out) + "\n")
    rep.write()
    return 0


if __name__ == "__main__":
    if int(pd.__version__.split(".")[0]) < 3:  # always on from pandas 3, where setting it is deprecated (warned)
        pd.options.mode.copy_on_write = True
    sys.exit(main())
