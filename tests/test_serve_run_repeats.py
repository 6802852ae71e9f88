"""A repeated run line is the candidate given first (its ranks are those of the run without it), and serving from
threads with ``n_jobs`` > 1 on Numba's ``workqueue`` threading layer does not abort the process.

Both reproduce report 29's findings 2 and 4 on ADI. The references are the same run without the repeated line (the
candidates are the same: every feature and score must be too, bit for bit), the first-stage ranks computed here by
hand in trec_eval's order (score descending, then docno descending), and the single-threaded scores.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from features.extraction import extract, qid_mapping
from features.featureset import FeatureSet
from features.index import InvertedIndex
from features.pipeline import load_inputs
from features.serve import Reranker
from ltr.cli import main
from ltr.io import read_run


def cli(*argv) -> None:
    assert main([str(a) for a in argv]) == 0


@pytest.fixture(scope="module")
def adi(shared_file, tmp_path_factory):
    """ADI: BM25 top 10, the default features (RM3 and Bo1 feedback included), a small LightGBM model."""
    folder = tmp_path_factory.mktemp("run_repeats")
    coll = shared_file("adi")
    letor, run, index, model = folder / "adi.letor", folder / "bm25.run", folder / "adi.npz", folder / "m.txt"
    cli("features", "--collection", coll, "--topk", 10, "--out", letor, "--save-run", run, "--index", index,
        "--quiet")
    cli("train", letor, "--rounds", 25, "--leaves", 7, "--min-child-samples", 5, "--out", model, "--quiet")
    return SimpleNamespace(coll=coll, run=read_run(run), index=index, model=model,
                           texts=dict(load_inputs(coll).queries.items()))


def with_repeats(run: pd.DataFrame, qids) -> pd.DataFrame:
    """``run`` with, after all its lines, each query's first line again with a higher score (report 29's
    ``1 Q0 51 1 99``): the repeat must be ignored, the first line kept."""
    first = run[run["qid"].isin(qids)].groupby("qid", sort=False).head(1)
    return pd.concat([run, first.assign(score=first["score"] + 99.0)], ignore_index=True)


def trec_eval_ranks(run: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Each (query, document)'s 1-based rank: score descending, then docno descending (trec_eval's order)."""
    out = {}
    for q, g in run.groupby("qid"):
        ordered = sorted(zip(g["score"], g["docno"]), reverse=True)
        out.update({(q, d): i + 1 for i, (_, d) in enumerate(ordered)})
    return out


def test_a_repeated_run_line_changes_no_rank_no_feature_and_no_score(adi):
    """The repeat was dropped after the ranks were computed with it: the query's candidates were ranked 2..n+1 and
    every score of the query changed (report 29, finding 2)."""
    qids = list(dict.fromkeys(adi.run["qid"]))[:6]
    clean = adi.run[adi.run["qid"].isin(qids)].reset_index(drop=True)
    repeated = with_repeats(clean, qids[:3])
    texts = {q: adi.texts[q] for q in qids}
    index = InvertedIndex.load(adi.index)

    want = extract(index, texts, clean, FeatureSet.default())
    got = extract(index, texts, repeated, FeatureSet.default())
    assert got.doc_ids.tolist() == want.doc_ids.tolist()
    assert np.array_equal(got.X, want.X)  # bit for bit, RM3/Bo1 feedback documents included
    rank = got.X[:, list(got.feature_names).index("first_stage_rank")]
    by_hand = trec_eval_ranks(clean)
    back = {v: k for k, v in qid_mapping(texts).items()}
    assert rank.tolist() == [by_hand[(back[int(q)], d)] for q, d in zip(got.qid, got.doc_ids)]
    for q in np.unique(got.qid):
        assert sorted(rank[got.qid == q].tolist()) == list(range(1, int((got.qid == q).sum()) + 1))

    reranker = Reranker.load(adi.model, index=adi.index)
    new, report = reranker.rerank_run(clean, texts)
    again, report_repeated = reranker.rerank_run(repeated, texts, on_unknown="drop")
    assert report_repeated.duplicate_rows == 3 and report.duplicate_rows == 0
    first = clean[clean["qid"] == qids[0]].iloc[0]  # with_repeats repeats each query's first line, qids[0]'s first
    assert report_repeated.first_duplicate == (qids[0], first["docno"]) and report.first_duplicate is None
    assert f"pair (first: query {qids[0]}, document {first['docno']}): dropped" in report_repeated.problems()[0]
    pd.testing.assert_frame_equal(again, new)  # same order, scores bit for bit
    for q in qids:  # and each query as rerank scores its candidates in trec_eval order
        g = clean[clean["qid"] == q]
        ordered = sorted(zip(g["score"], g["docno"]), reverse=True)
        one = reranker.rerank(texts[q], [d for _, d in ordered], scores=[s for s, _ in ordered])
        mine = again[again["qid"] == q]
        assert tuple(mine["docno"]) == one.doc_ids and np.array_equal(mine["score"].to_numpy(), one.scores)


def test_a_candidate_listed_twice_in_a_mapping_keeps_the_ranks_of_the_list_without_it(adi):
    q = next(iter(dict.fromkeys(adi.run["qid"])))
    docs = adi.run[adi.run["qid"] == q].sort_values("rank")["docno"].tolist()
    index = InvertedIndex.load(adi.index)
    want = extract(index, {q: adi.texts[q]}, {q: docs}, ["first_stage", "bm25"])
    got = extract(index, {q: adi.texts[q]}, {q: [docs[0], *docs[:3], *docs[1:]]}, ["first_stage", "bm25"])
    assert np.array_equal(got.X, want.X) and got.doc_ids.tolist() == docs
    assert got.X[:, 1].tolist() == list(range(1, len(docs) + 1))


SCRIPT = textwrap.dedent("""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from features.pipeline import load_inputs
    from features.serve import Reranker
    from ltr.io import read_run

    model, index, coll, run = sys.argv[1:5]
    texts = dict(load_inputs(coll).queries.items())
    run = read_run(run)
    jobs = [(texts[q], list(g.docno), g.score.to_numpy()) for q, g in run.groupby("qid", sort=False)]
    n_jobs = int(sys.argv[5])
    reranker = Reranker.load(model, index=index, n_jobs=n_jobs)
    import numba
    assert numba.threading_layer() == "workqueue", numba.threading_layer()
    serial = [reranker.rerank(t, d, scores=s) for t, d, s in jobs]
    calls = jobs * 6
    if sys.argv[6] == "one":
        with ThreadPoolExecutor(4) as pool:
            threaded = list(pool.map(lambda job: reranker.rerank(*job[:2], scores=job[2]), calls))
    else:  # two rerankers side by side (an A/B test), and a third loaded and warmed while they serve (a reload)
        other = Reranker.load(model, index=index, n_jobs=n_jobs)
        both = [reranker, other]
        with ThreadPoolExecutor(4) as pool:
            running = pool.map(lambda k: both[k % 2].rerank(*calls[k][:2], scores=calls[k][2]), range(len(calls)))
            reloaded = Reranker.load(model, index=index, n_jobs=n_jobs)
            threaded = list(running)
        assert reloaded.rerank(*jobs[0][:2], scores=jobs[0][2]) == serial[0]
    assert all(a == b for a, b in zip(serial * 6, threaded))
    print("ok", len(threaded))
""")


@pytest.mark.parametrize("n_jobs, rerankers", [(2, "one"), (1, "two"), (2, "two")])
def test_threads_on_the_workqueue_layer_do_not_abort(adi, tmp_path, n_jobs, rerankers):
    """The trees' parallel kernel ran outside the lock that serialises the feature kernels on the workqueue layer,
    which aborts the process (SIGABRT, rc 134) on concurrent parallel calls (report 29, finding 4); and that lock was
    each reranker's, where the layer is the process's: two rerankers, or one loaded beside a serving one, aborted it
    at any n_jobs (trial t48/serve). Run in a subprocess, so that an abort fails this test rather than ending the
    test run."""
    import os

    script = tmp_path / "serve_threads.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    done = subprocess.run([sys.executable, str(script), str(adi.model), str(adi.index), str(adi.coll),
                           str(adi_run_file(adi, tmp_path)), str(n_jobs), rerankers], capture_output=True, text=True,
                          env=env, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["ok", str(6 * adi.run["qid"].nunique())]


def adi_run_file(adi, tmp_path):
    path = tmp_path / "bm25.run"
    adi.run.assign(q0="Q0", tag="bm25")[["qid", "q0", "docno", "rank", "score", "tag"]].to_csv(
        path, sep=" ", header=False, index=False)
    return path


TREES_SCRIPT = textwrap.dedent("""
    from concurrent.futures import ThreadPoolExecutor

    import lightgbm as lgb
    import numba
    import numpy as np

    import ltr.trees as T

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 10))
    y = X[:, 0] + rng.normal(size=3000)
    ensemble = T.from_booster(lgb.train({"verbose": -1, "num_threads": 1}, lgb.Dataset(X, y), 50))
    serial = ensemble.predict(X, n_jobs=2)
    assert numba.threading_layer() == "workqueue", numba.threading_layer()
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda i: ensemble.predict(X, n_jobs=2), range(40)))
    assert all(np.array_equal(t, serial) for t in threaded)
    print("ok", len(threaded))
""")


def test_tree_scoring_on_several_threads_on_the_workqueue_layer_does_not_abort(tmp_path):
    """TreeEnsemble.predict(n_jobs=2) from four Python threads aborted the process (SIGABRT) on Numba's workqueue
    layer: only a Reranker took the lock around its tree scoring (trial t50/trees). In a subprocess, so that an abort
    fails this test rather than ending the test run."""
    import os

    script = tmp_path / "trees_threads.py"
    script.write_text(TREES_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "NUMBA_THREADING_LAYER": "workqueue"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["ok", "40"]


def test_first_stage_scores_as_a_series_indexed_by_the_doc_ids_are_read_by_them(adi):
    """A Series from ``run.set_index('docno')['score']`` in another order than doc_ids was read by position: each
    candidate got another document's first-stage score (trial t63). Reference: the same scores as a list in the
    order of doc_ids."""
    reranker = Reranker.load(adi.model, index=adi.index)
    assert "first_stage_score" in reranker.feature_names  # the scores change the result
    q = adi.run["qid"].iat[0]
    g = adi.run[adi.run["qid"] == q]
    ids, scores = list(g["docno"]), list(g["score"])
    want = reranker.rerank(adi.texts[q], ids, scores=scores)
    by_id = pd.Series(scores, index=ids).iloc[::-1]  # the doc ids, reversed
    assert reranker.rerank(adi.texts[q], ids, scores=by_id) == want
    assert reranker.rerank_many({q: (adi.texts[q], ids, by_id)})[q] == want
    assert reranker.rerank(adi.texts[q], ids, scores=g["score"]) == want  # a frame's row labels: by position
    shuffled = reranker.rerank(adi.texts[q], ids, scores=scores[::-1])  # the check can fail: order matters
    assert shuffled != want
    by_pair = pd.Series(scores, index=pd.MultiIndex.from_arrays([[q] * len(ids), ids])).iloc[::-1]
    assert reranker.rerank(adi.texts[q], ids, scores=by_pair) == want  # (qid, docno): by its last level
    misspelt = pd.Series(scores, index=[*ids[:-1], ids[-1] + "x"])  # review 2: read by position, silently
    with pytest.raises(ValueError, match=rf"scores is a Series indexed by doc ids that are not doc_ids' \(names "
                                         rf"'{ids[-1]}x', which doc_ids lack\)"):
        reranker.rerank(adi.texts[q], ids, scores=misspelt)
    assert reranker.rerank(adi.texts[q], ids, scores=pd.Series(scores, index=[q] * len(ids))) == want  # qid index
