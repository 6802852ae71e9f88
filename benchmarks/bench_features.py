"""Speed of the feature layer against bm25s (and rank_bm25), measured in the same run; prints Markdown tables.

1. indexing: text -> index, ours (tokenise, stem, positional postings) vs ``bm25s.tokenize`` + ``BM25.index``
   (no positions), same stemmer (PyStemmer Porter) and stopwords;
2. BM25 of given (query, candidate) pairs: ours (postings search + formula on the pairs) vs bm25s (``get_scores``
   over the collection, then the candidates picked out; bm25s has no per-pair API);
3. first-stage top-1000 retrieval, queries/s: ours vs bm25s' Numba backend, one thread and all threads; rank_bm25
   on a few queries;
4. the default feature set: pairs/s and each family's share of the time;
5. with ``--effectiveness``: the Cranfield / NPL / CACM learning-to-rank comparison of ``examples/text_to_ranker.py``.

The corpus is synthetic (Zipfian vocabulary, log-normal lengths): 100k documents by default, 20k with ``--quick``.
Compile times (Numba) are reported apart; timings are the best of ``--repeat`` runs.

Run: ``python benchmarks/bench_features.py [--quick] [--docs N] [--queries N] [--repeat R]``. Prints Markdown and
writes the same text to ``benchmarks/results/bench_features.md`` (``benchmarks/README.md``; ``--quick`` writes
none unless ``--out`` names one).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from features.analysis import Analyzer, load_stopwords  # noqa: E402
from features.collections import Collection  # noqa: E402
from features.featureset import FeatureSet  # noqa: E402
from features.index import InvertedIndex  # noqa: E402
from features.pairs import PairSet  # noqa: E402
from features.retrieval import BM25Retriever  # noqa: E402
from features.scorers import get_scorer  # noqa: E402


def synthetic_corpus(n_docs: int, n_queries: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    vocab_size = 50_000
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lens = rng.integers(3, 11, size=vocab_size)
    words = ["".join(rng.choice(letters, size=n)) for n in lens]
    p = 1.0 / np.arange(1, vocab_size + 1) ** 1.1
    p /= p.sum()
    doc_lens = np.maximum(1, rng.lognormal(np.log(50), 0.5, size=n_docs).astype(int))
    tokens = rng.choice(vocab_size, size=int(doc_lens.sum()), p=p)
    ends = np.cumsum(doc_lens)
    w = np.array(words, dtype=object)
    docs = [" ".join(w[tokens[a:b]]) for a, b in zip(ends - doc_lens, ends)]
    # queries: 2-5 terms, drawn from the frequency ranks 50..20000 (neither stopword-like nor hapax)
    qlens = rng.integers(2, 6, size=n_queries)
    queries = [" ".join(w[rng.integers(50, 20_000, size=n)]) for n in qlens]
    return docs, queries


def best(fn, repeat: int) -> tuple[float, object]:
    out = None
    t = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - t0)
    return t, out


def table(rep, title: str, header: list[str], rows: list[list]) -> None:
    rep.print(f"### {title}\n")
    rep.table(header, [[f"{x:.4g}" if isinstance(x, float) else str(x) for x in r] for r in rows])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20k documents, 500 queries")
    ap.add_argument("--docs", type=int, default=None, help="synthetic documents (default 100k, 20k with --quick)")
    ap.add_argument("--queries", type=int, default=None, help="synthetic queries (default 2000, 500 with --quick)")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    ap.add_argument("--effectiveness", action="store_true",
                    help="also run examples/text_to_ranker.py on Cranfield, NPL and CACM (minutes; needs shared data)")
    ap.add_argument("--out", default=None, help="the Markdown fragment (default benchmarks/results/"
                    "bench_features.md, none with --quick; - writes none)")
    args = ap.parse_args(argv)
    args.out = fragment_out(args.out, trial=args.quick)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    n_docs = args.docs or (20_000 if args.quick else 100_000)
    n_queries = args.queries or (500 if args.quick else 2_000)
    import bm25s
    import numba
    import Stemmer
    from _report import Fragment

    threads = numba.get_num_threads()
    rep = Fragment(__file__, "Feature extraction: indexing, BM25 and the default features against bm25s", argv,
                   out=args.out)
    rep.print(f"Synthetic corpus (Zipfian vocabulary, log-normal lengths): {n_docs} documents, {n_queries} queries; "
              f"{threads} Numba threads; best of {args.repeat}; same stemmer (PyStemmer Porter) and Lucene stopwords "
              "for both systems.\n")
    docs, queries = synthetic_corpus(n_docs, n_queries)
    coll = Collection(tuple(str(i) for i in range(n_docs)), {"body": docs})
    stop = sorted(load_stopwords("lucene"))
    analyzer = Analyzer(stopwords="lucene", stemmer="porter")

    # -- compile (first calls) ------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    small = InvertedIndex.build(Collection(("a", "b"), {"body": ["x y", "y z"]}), analyzer)
    BM25Retriever(small).search({"q": "y"}, k=1)
    FeatureSet.default().compute(PairSet(small, [small.query_terms("x y")], np.array([0, 2]),
                                         np.array([0, 1], dtype=np.int32)))
    ours_compile = time.perf_counter() - t0

    # -- 1. indexing ------------------------------------------------------------------------------------------------
    t_ours, index = best(lambda: InvertedIndex.build(coll, Analyzer(stopwords="lucene", stemmer="porter")),
                         args.repeat)
    stemmer = Stemmer.Stemmer("porter")

    def bm25s_index():
        toks = bm25s.tokenize(docs, stopwords=stop, stemmer=stemmer, show_progress=False)
        r = bm25s.BM25(method="lucene", k1=1.2, b=0.75, backend="numba")
        r.index(toks, show_progress=False)
        return r

    t_ref, ref = best(bm25s_index, args.repeat)
    t_ref_tok, ref_tokens = best(lambda: bm25s.tokenize(docs, stopwords=stop, stemmer=stemmer, show_progress=False,
                                                         return_ids=False), 1)
    mem = index.memory_usage()
    table(rep, "1. indexing (text -> index)", ["system", "seconds", "ratio to bm25s", "stores"], [
        ["ours (InvertedIndex.build)", t_ours, t_ours / t_ref, f"tf + positions, {index.nbytes / 2**20:.1f} MiB"],
        ["bm25s (tokenize + index)", t_ref, 1.0, "precomputed BM25 scores, no positions"],
    ])
    rep.print(f"index: {index.field('body').n_postings} postings, {index.field('body').positions.size} positions; "
              f"memory by part (MiB): " + ", ".join(f"{k} {v / 2**20:.1f}" for k, v in mem.items()) + "\n")

    # -- 3. retrieval -------------------------------------------------------------------------------------------------
    retr = BM25Retriever(index, field="body", k1=1.2, b=0.75, idf="lucene")
    analysed = [index.query_terms(q) for q in queries]
    q_tokens = bm25s.tokenize(queries, stopwords=stop, stemmer=stemmer, show_progress=False, return_ids=False)
    t0 = time.perf_counter()
    ref.retrieve([q_tokens[0]], k=10, show_progress=False, n_threads=1)
    bm25s_compile = time.perf_counter() - t0
    rows = []
    for n_threads in sorted({1, threads}):
        t_o, (d_o, s_o, n_o) = best(lambda n=n_threads: retr.retrieve(analysed, 1000, n_jobs=n), args.repeat)
        t_r, (d_r, s_r) = best(lambda n=n_threads: ref.retrieve(q_tokens, k=1000, show_progress=False, n_threads=n),
                               args.repeat)
        rows.append([f"top-1000, {n_threads} thread(s)", n_queries / t_o, n_queries / t_r, t_r / t_o])
    # agreement: the top-10 score lists must match up to float32 rounding (bm25s omits the (k1 + 1) factor)
    agree = np.allclose(s_o[:, :10], s_r[:, :10] * 2.2, rtol=1e-4, atol=1e-4)
    table(rep, "3. first-stage retrieval (queries/s)", ["setting", "ours", "bm25s numba", "ours / bm25s"], rows)
    rep.print(f"first calls: ours {ours_compile:.1f} s (every kernel; Numba's on-disk cache makes this a load after "
              f"the first process: run with NUMBA_CACHE_DIR=<empty dir> to time a cold compile), bm25s numba "
              f"{bm25s_compile:.1f} s (compiled in every process); top-10 scores agree with bm25s x (k1+1): {agree}")
    try:
        import rank_bm25

        few = min(5, n_queries)
        ok = rank_bm25.BM25Okapi(ref_tokens)
        t_rb, _ = best(lambda: [ok.get_scores(q) for q in q_tokens[:few]], 1)
        rep.print(f"rank_bm25: {few / t_rb:.2f} queries/s (every document scored, not sorted; {few} queries, one "
                  "timing)")  # (it said 'full scoring + sort' of what sorts nothing: trial t72)
    except ImportError:
        rep.print("rank_bm25: not installed")
    rep.print()

    # -- 2. BM25 of given pairs ---------------------------------------------------------------------------------------
    docs_k, _, n_k = retr.retrieve(analysed, 100)
    sizes = n_k.astype(np.int64)
    keep = sizes > 0
    qs = [q for q, k in zip(analysed, keep) if k]
    ptr = np.concatenate(([0], np.cumsum(sizes[keep])))
    cand = np.concatenate([docs_k[i, :sizes[i]] for i in np.flatnonzero(keep)]).astype(np.int32)
    n_pairs = int(ptr[-1])
    scorer = get_scorer("bm25")(k1=1.2, b=0.75, idf="lucene")
    t_p, ours_pairs = best(lambda: scorer.score(PairSet(index, qs, ptr, cand), "body")[:, 0], args.repeat)
    tok_kept = [t for t, k in zip(q_tokens, keep) if k]

    def bm25s_pairs():
        out = []
        for i, t in enumerate(tok_kept):
            out.append(ref.get_scores(t)[cand[ptr[i]:ptr[i + 1]]])
        return np.concatenate(out)

    t_pr, ref_pairs = best(bm25s_pairs, args.repeat)
    same = np.allclose(ours_pairs, ref_pairs * 2.2, rtol=1e-5, atol=1e-5)
    table(rep, f"2. BM25 of given pairs ({n_pairs} pairs, top-100 candidates of {len(qs)} queries)",
          ["system", "pairs/s", "ours / bm25s"], [["ours (PairSet + bm25)", n_pairs / t_p, t_pr / t_p],
                                                  ["bm25s (get_scores, pick candidates)", n_pairs / t_pr, 1.0]])
    rep.print(f"scores agree with bm25s x (k1+1): {same}\n")

    # -- 4. default feature set ---------------------------------------------------------------------------------------
    fs = FeatureSet.default()

    def features():
        return fs.compute(PairSet(index, qs, ptr, cand, first_stage_score=np.zeros(n_pairs),
                                  first_stage_rank=np.ones(n_pairs)))

    t_f, (X, names, timing) = best(features, args.repeat)
    total = sum(timing.values())
    rows = [[fam, sec, 100 * sec / total] for fam, sec in sorted(timing.items(), key=lambda kv: -kv[1])]
    table(rep, f"4. default feature set: {len(names)} features, {n_pairs / t_f:,.0f} pairs/s",
          ["family", "seconds", "share %"], rows)
    if args.effectiveness:
        import importlib.util

        from ltr._shared import shared_data_dir, shared_data_missing

        root = shared_data_dir()
        rep.print("### 5. BM25 top-100 -> default features -> LambdaMART (5-fold CV over queries)\n")
        if root is None:
            rep.print(f"Not run: {shared_data_missing()}.")
        else:
            spec = importlib.util.spec_from_file_location(
                "text_to_ranker", os.path.join(os.path.dirname(__file__), "..", "examples", "text_to_ranker.py"))
            ex = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(ex)
            results = [ex.run_collection(root / c) for c in ("cranfield", "vaswani_npl", "cacm")]
            rep.print(ex.report(results))
    rep.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
