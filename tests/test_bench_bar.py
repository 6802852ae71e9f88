"""The pieces of benchmarks/bench_bar.py (issue #13's bar): the feature-set file it ships, trec_eval-style scoring
against pytrec_eval, and the nested protocol's promise that BM25's (k1, b) and the learner are chosen on training
queries only. A few seconds; no collection is read and no benchmark runs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ltr._shared import import_reference
from ltr.datasets import RankingDataset

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bar():
    spec = importlib.util.spec_from_file_location("_bench_bar", BENCH / "bench_bar.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _index():
    from features import Analyzer, InvertedIndex
    from features.collections import Collection

    docs = Collection(("d1", "d2", "d3"), {"title": ["wing flutter", "heat transfer", "boundary layer"],
                                           "body": ["flutter of a wing at speed", "heat in a layer", "layer flow"]})
    return InvertedIndex.build(docs, Analyzer.terrier())


def test_the_small_collection_feature_set_has_nine_bm25_settings_and_the_classical_scorers(bar):
    from features import FeatureSet

    names = FeatureSet.load(bar.FEATURES).feature_names(_index())
    assert len(names) == 27  # as its header says for a title + body collection
    bm25 = [names[j] for j in bar.column_subset(names, "bm25")]
    assert len(bm25) == 9 and all(n.endswith(":all") for n in bm25)
    assert {"dph:all", "bo1:all", "bo1_dph:all", "rm3:all", "sdm_ordered:all", "bm25f"} <= set(names)
    assert bar.column_subset(names, "classical") == list(range(27))
    with pytest.raises(ValueError, match="biencoder"):
        bar.column_subset(names, "neural")


def test_per_query_scores_are_trec_evals_with_a_judged_document_outside_the_candidates(bar):
    pytrec_eval = import_reference("pytrec_eval")
    # query "a": candidates x, y, z; judged: y (2), w (1, never a candidate); query "b": candidates u, v; judged u (1)
    qrels = pd.DataFrame({"qid": ["a", "a", "a", "b"], "docno": ["y", "w", "x", "u"], "rel": [2, 1, 0, 1]})
    d = RankingDataset(np.zeros((5, 1), np.float32), np.zeros(5), np.array([1, 1, 1, 2, 2]),
                       np.array([0, 3, 5]), doc_ids=np.array(["x", "y", "z", "u", "v"], dtype=object))
    scores = np.array([3.0, 2.0, 1.0, 0.5, 0.7])
    ours = bar.per_query(d, scores, qrels, {1: "a", 2: "b"})
    judged = {q: dict(zip(g["docno"], g["rel"].astype(int))) for q, g in qrels.groupby("qid")}
    run = {"a": {"x": 3.0, "y": 2.0, "z": 1.0}, "b": {"u": 0.5, "v": 0.7}}
    ref = pytrec_eval.RelevanceEvaluator(judged, {"ndcg_cut_10", "map", "P_10"}).evaluate(run)
    for q in ("a", "b"):
        for mine, theirs in (("ndcg@10", "ndcg_cut_10"), ("map", "map"), ("p@10", "P_10")):
            assert ours.loc[q, mine] == pytest.approx(ref[q][theirs], abs=1e-12)
    assert ours.loc["a", "map"] == pytest.approx(1 / 2 / 2)  # y at rank 2 of 2 relevant; w never retrieved


@pytest.fixture(scope="module")
def nested_map(bar):
    """A synthetic collection of 20 queries and one nested run of it with the target MAP: (data, G, info, the
    run's output, its memo of every fitted candidate's run and metrics)."""
    rng = np.random.default_rng(0)
    n_q, per = 20, 6
    qids = [f"q{i}" for i in range(n_q)]
    y = rng.integers(0, 2, n_q * per).astype(np.float64)
    y[::per] = 1.0  # every query has a relevant candidate
    X = (y[:, None] + rng.normal(0, 1.0, (n_q * per, 9))).astype(np.float32)
    names = tuple(f"bm25_k{j}" for j in range(9))
    docs = np.array([f"d{i}" for i in range(n_q * per)], dtype=object)
    data = RankingDataset(X, y, np.repeat(np.arange(1, n_q + 1), per), np.arange(0, n_q * per + 1, per),
                          doc_ids=docs, feature_names=names)
    qrels = pd.DataFrame({"qid": np.repeat(qids, per), "docno": docs, "rel": y.astype(int)})
    # two "grid cells": each is the oracle on half of the queries and the reverse ranking on the other half
    half = np.repeat(np.arange(n_q) % 2 == 0, per)
    G = np.column_stack([np.where(half, y, -y), np.where(half, -y, y)]) + rng.normal(0, 1e-3, (n_q * per, 2))
    info = {"qrels": qrels, "judged": qids, "to_str": {i + 1: q for i, q in enumerate(qids)}}
    memo: dict = {}
    out = bar.nested(data, G, ["even", "odd"], info, "map", False, True, memo)
    return data, G, info, out, memo


def test_bm25_and_the_learners_are_chosen_on_the_outer_training_queries_only(bar, nested_map):
    from ltr.evaluation import query_kfold

    data, G, info, out, _ = nested_map
    qrels, qids, docs, per = info["qrels"], info["judged"], data.doc_ids, int(np.diff(data.group_ptr)[0])
    # the reference: pytrec_eval's MAP of each cell on every query, averaged over a fold's training queries
    pytrec_eval = import_reference("pytrec_eval")
    judged = {q: dict(zip(g["docno"], g["rel"].astype(int))) for q, g in qrels.groupby("qid")}
    ap = {}
    for j, cell in enumerate(["even", "odd"]):
        run = {q: {str(d): float(s) for d, s in zip(docs[i * per:(i + 1) * per], G[i * per:(i + 1) * per, j])}
               for i, q in enumerate(qids)}
        ev = pytrec_eval.RelevanceEvaluator(judged, {"map"}).evaluate(run)
        ap[cell] = {q: ev[q]["map"] for q in qids}
    by_test_differs = False
    for fold, cell in zip(query_kfold(data, bar.OUTER, validation=False, random_state=bar.SEED), out["bm25_cells"]):
        train = [qids[q - 1] for q in fold.train.query_ids]
        test = [qids[q - 1] for q in fold.test.query_ids]
        assert cell == max(["even", "odd"], key=lambda c: np.mean([ap[c][q] for q in train]))
        by_test_differs |= cell != max(["even", "odd"], key=lambda c: np.mean([ap[c][q] for q in test]))
    assert by_test_differs  # so that choosing on the test queries would have been caught
    for fold_i, scores in enumerate(out["inner"]):
        for sel, among in bar.selections(False).items():
            picked = out["chosen"][sel][fold_i]
            assert scores[picked] == max(scores[c] for c in among)
    per_query = {k: pd.DataFrame(v, index=qids) for k, v in out["per_query"].items()}
    assert sorted(per_query) == sorted(["tuned BM25", *bar.selections(False), *[c.name for c in
                                                                                bar.candidates(False)]])
    for sel in bar.selections(False):  # the selected system's rows are its chosen candidate's rows, fold by fold
        folds = query_kfold(data, bar.OUTER, validation=False, random_state=bar.SEED)
        for fold, picked in zip(folds, out["chosen"][sel]):
            test = [qids[q - 1] for q in fold.test.query_ids]
            pd.testing.assert_frame_equal(per_query[sel].loc[test], per_query[picked].loc[test])


def test_a_candidates_inner_score_is_its_mean_over_every_repeat_of_the_inner_split(bar, nested_map):
    """Each outer fold's training queries are split INNER_REPEATS times, each split a new one covering every
    training query once; a candidate's inner score is its mean MAP (pytrec_eval's, computed here) over them all."""
    from ltr.evaluation import query_kfold

    data, _, info, out, memo = nested_map
    pytrec_eval = import_reference("pytrec_eval")
    judged = {q: dict(zip(g["docno"], g["rel"].astype(int))) for q, g in info["qrels"].groupby("qid")}
    to_str = info["to_str"]
    assert bar.INNER_REPEATS > 1
    for i, fold in enumerate(query_kfold(data, bar.OUTER, validation=False, random_state=bar.SEED)):
        train = sorted(to_str[q] for q in fold.train.query_ids)
        splits = []
        for r in range(bar.INNER_REPEATS):
            inner = query_kfold(fold.train, bar.INNER, validation=False,
                                random_state=bar.SEED + 1 + i + bar.INNER_SEED_STEP * r)
            tests = [sorted(to_str[q] for q in f.test.query_ids) for f in inner]
            assert sorted(q for t in tests for q in t) == train  # each repeat covers every training query once
            splits.append(tests)
        assert len({str(t) for t in splits}) == bar.INNER_REPEATS  # new splits, not one split thrice
        for c in bar.candidates(False):
            values = []
            for j, test in enumerate(t for tests in splits for t in tests):
                run = memo[(c.learner, c.columns, i, j, None if c.learner == "lambdamart" else "map")][0]
                assert sorted(set(run["qid"])) == test  # the run of inner fold j scores that fold's test queries
                as_dict = {q: {d: float(v) for d, v in zip(g["docno"], g["score"])} for q, g in run.groupby("qid")}
                ref = pytrec_eval.RelevanceEvaluator({q: judged[q] for q in as_dict}, {"map"}).evaluate(as_dict)
                values += [ref[q]["map"] for q in as_dict]
            assert len(values) == bar.INNER_REPEATS * len(train)
            assert out["inner"][i][c.name] == pytest.approx(np.mean(values), abs=1e-12)


@pytest.mark.parametrize("argv, message", [
    (["--collection", "CISI"], "--collection CISI: expected LABEL=DIR"),
    (["--collection", "=x"], "--collection =x: expected LABEL=DIR"),
    (["--collection", "ADI={tmp}"], "--collection ADI={tmp}: the label 'ADI' is already taken"),
    (["--collection", "A={tmp}", "--collection", "A={tmp}"], "the label 'A' is already taken"),
    (["--collection", "A={tmp}/nope"], "--collection A={tmp}/nope: {tmp}/nope is not a folder"),
    (["--collections", "Cranfield,TREC"], "--collections: unknown collection(s) ['TREC']"),
])
def test_bad_collection_options_are_usage_errors_naming_the_option(bar, tmp_path, capsys, argv, message):
    argv = [a.format(tmp=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as e:
        bar.main([*argv, "--cache", str(tmp_path / "cache"), "--out", "-"])
    assert e.value.code == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err


def test_an_outside_collection_runs_alone_under_its_label_with_its_registry_check(bar, tmp_path, capsys):
    """A SMART trio in a folder of its own: the bar runs on it alone (no shared data read), quick mode."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    words = ["wing", "flutter", "heat", "transfer", "boundary", "layer", "shock", "wave", "lift", "drag", "stall",
             "nozzle"]
    rng = np.random.default_rng(0)
    docs = "".join(f".I {i}\n.T\n{' '.join(rng.choice(words, 3))}\n.W\n{' '.join(rng.choice(words, 12))}\n"
                   for i in range(1, 61))
    (folder / "TINY.ALL").write_text(docs)
    (folder / "TINY.QRY").write_text("".join(f".I {q}\n.W\n{words[q % 12]} {words[(q + 5) % 12]}\n"
                                             for q in range(1, 16)))
    (folder / "TINY.REL").write_text("".join(f"{q} {d}\n" for q in range(1, 16) for d in range(q, 61, 7)))
    out = tmp_path / "frag.md"
    assert bar.main(["--collection", f"Tiny={folder}", "--quick", "--no-neural", "--cache", str(tmp_path / "c"),
                     "--out", str(out)]) == 0
    text = out.read_text()
    assert "| Tiny | 15 | NDCG@10 |" in text and "| Tiny | 15 | MAP |" in text
    assert "Cranfield" not in text.split("### The bar")[1]  # no shared collection ran
    assert f"Tiny (`{folder.resolve()}`): 60 documents, 15 queries, 15 judged; no registry entry of that name" in text


def test_an_unreadable_outside_collection_is_one_line_naming_file_line_and_token(bar, tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "B.ALL").write_text(".I 1\n.W\nwing\n")
    (folder / "B.QRY").write_text(".I 1\n.W\nwing\n")
    (folder / "B.REL").write_text("1 0 1 1\n1 0 2 x\n")
    out = tmp_path / "frag.md"
    out.write_text("old\n")
    assert bar.main(["--collection", f"B={folder}", "--quick", "--no-neural", "--cache", str(tmp_path / "c"),
                     "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.endswith(f"bench_bar.py: error: {folder / 'B.REL'}:2: relevance must be an integer (token 'x')\n")
    assert "Traceback" not in err and out.read_text() == "old\n"


def test_a_combsum_candidate_is_the_sum_of_its_members_z_scores_per_query(bar, nested_map):
    """Every CombSUM run (inner and outer folds) against z-scores computed here with pandas, and its MAP against
    pytrec_eval's; the selection may choose it like any candidate."""
    data, _, info, out, memo = nested_map
    pytrec_eval = import_reference("pytrec_eval")
    judged = {q: dict(zip(g["docno"], g["rel"].astype(int))) for q, g in info["qrels"].groupby("qid")}
    fused = [k for k in memo if k[0] == "combsum"]
    n_inner = bar.INNER * bar.INNER_REPEATS
    assert len(fused) == bar.OUTER * (n_inner + 1)  # every inner fold and the outer one, of each outer fold
    for key in fused:
        members = []
        for learner in bar.MEMBERS:
            run = memo[(learner, *key[1:4], None if learner == "lambdamart" else "map")][0]
            g = run.groupby("qid")["score"]
            z = (run["score"] - g.transform("mean")) / np.maximum(g.transform(lambda s: s.std(ddof=0)), 1e-9)
            members.append(pd.Series(z.to_numpy(), index=pd.MultiIndex.from_frame(run[["qid", "docno"]])))
        assert not members[0].equals(members[1])  # two different models, or the test would not see a swap
        expected = members[0] + members[1]
        run, metrics = memo[key]
        got = pd.Series(run["score"].to_numpy(), index=pd.MultiIndex.from_frame(run[["qid", "docno"]]))
        assert sorted(got.index) == sorted(expected.index)
        np.testing.assert_allclose(got.reindex(expected.index).to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
        as_dict = {q: {d: float(v) for (_, d), v in s.items()} for q, s in got.groupby(level=0)}
        ref = pytrec_eval.RelevanceEvaluator({q: judged[q] for q in as_dict}, {"map"}).evaluate(as_dict)
        for q in as_dict:
            assert metrics.loc[q, "map"] == pytest.approx(ref[q]["map"], abs=1e-12)
    assert "CombSUM, classical" in bar.selections(False)[bar.CLASSICAL]
    outer = [memo[("combsum", "classical", i, n_inner, "map")][1] for i in range(bar.OUTER)]
    pooled = pd.DataFrame(out["per_query"]["CombSUM, classical"], index=info["judged"])
    pd.testing.assert_frame_equal(pooled.loc[pd.concat(outer).index], pd.concat(outer), check_names=False)


def test_the_folds_choice_names_the_others_without_the_chosen_one(bar):
    """The sentence listed the candidate chosen in 2 of 5 folds among those chosen 'otherwise', and joined names that
    hold ', ' with ', ' (RESULTS.md, ADI; trial t59)."""
    picks = ["CA, classical + bi-encoder", "CA, BM25 x9", "CombSUM, classical + bi-encoder", "CA, BM25 x9",
             "CombSUM, classical + bi-encoder"]
    assert bar.chosen_otherwise("CombSUM, classical + bi-encoder", picks) == (
        "in 2 of 5 folds (otherwise `CA, BM25 x9` in 2, `CA, classical + bi-encoder` in 1)")
