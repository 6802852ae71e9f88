"""``features.serve.Reranker``: a model knows its features, and reranking in process gives, bit for bit, what
``ltr features`` + ``ltr predict`` give for the same query and candidates.

The reference is the command-line path: ``ltr features`` writes the LETOR file, ``ltr train`` the model, ``ltr
predict`` scores the file through the engine's own ``predict`` (LightGBM's, XGBoost's, the linear model's). The
reranker computes the features itself, per query, and scores them with :mod:`ltr.trees`. Equality is exact (not to
float32 round-off): both paths compute the same float64 features with the same scorers, cast them to float32 once
(``extract`` does, and the LETOR file holds those float32 values exactly: it is written with the shortest decimal
that reads back to the same float32), and ``ltr.trees`` returns the engines' own margins bit for bit.
"""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from features.analysis import Analyzer
from features.featureset import FeatureSet, differences
from features.index import InvertedIndex
from features.pipeline import load_inputs
from features.serve import (
    FeatureSetMismatchError,
    MissingFeatureSetError,
    Reranker,
    Reranking,
    UnknownCandidatesError,
)
from ltr import Ranker, load_model
from ltr._shared import import_neural
from ltr.cli import main
from ltr.exceptions import ModelFormatError
from ltr.io import read_letor, read_run, read_scores, write_letor

ENGINES = ("lightgbm", "xgboost", "linear")


def cli(*argv) -> None:
    assert main([str(a) for a in argv]) == 0


@pytest.fixture(scope="module")
def adi(shared_file, tmp_path_factory):
    """ADI through the command line: BM25 top 15, the default features, one small model per engine, and each
    model's scores of the LETOR file from ``ltr predict``."""
    folder = tmp_path_factory.mktemp("serve")
    coll = shared_file("adi")
    letor, run, index = folder / "adi.letor", folder / "bm25.run", folder / "adi.npz"
    cli("features", "--collection", coll, "--topk", 15, "--out", letor, "--save-run", run, "--index", index,
        "--quiet")
    models, scores = {}, {}
    for engine in ENGINES:
        models[engine] = folder / f"{engine}.model"
        size = [] if engine == "linear" else ["--rounds", 25, "--leaves", 7, "--min-child-samples", 5]
        cli("train", letor, "--engine", engine, *size, "--out", models[engine], "--quiet", "--format", "json")
        cli("predict", models[engine], letor, "--out", folder / f"{engine}.scores", "--quiet")
        scores[engine] = read_scores(folder / f"{engine}.scores")
    inputs = load_inputs(coll)
    return SimpleNamespace(folder=folder, coll=coll, letor=letor, run=read_run(run), index=index, models=models,
                           scores=scores, data=read_letor(letor), texts=dict(inputs.queries.items()),
                           docs=inputs.docs)


def reference(adi, engine: str) -> dict[str, tuple[list[str], np.ndarray]]:
    """``ltr predict``'s scores per query: the LETOR rows (the run's candidates in rank order) and their scores."""
    d = adi.data
    out = {}
    for q in range(d.n_queries):
        a, b = d.group_ptr[q], d.group_ptr[q + 1]
        out[str(d.qid[a])] = (list(d.doc_ids[a:b]), adi.scores[engine][a:b])
    return out


def first_stage(adi, qid: str) -> tuple[list[str], np.ndarray]:
    g = adi.run[adi.run["qid"] == qid].sort_values("rank", kind="stable")
    return g["docno"].tolist(), g["score"].to_numpy()


# -- a model knows its features ----------------------------------------------------------------------------------------
def test_the_description_rebuilds_the_same_columns_and_names_differences(adi):
    index = InvertedIndex.load(adi.index)
    d = FeatureSet.default().to_dict(index)
    assert json.loads(json.dumps(d)) == d
    assert d["columns"] == list(FeatureSet.default().feature_names(index)) and len(d["columns"]) == 88
    assert d["fields"] == ["title", "body", "all"] and d["analyzer"] == Analyzer().to_dict()
    assert FeatureSet.from_dict(d).to_dict(index) == d
    assert differences(d, d) == []
    other = FeatureSet([{"scorer": "bm25", "fields": ["body"], "k1": 0.9}]).to_dict(index)
    mine = FeatureSet([{"scorer": "bm25", "fields": ["body"]}]).to_dict(index)
    assert differences(mine, other, ("a", "b")) == ["feature 1 (bm25): k1 1.2 in a, 0.9 in b"]
    with pytest.raises(ValueError, match="not a feature-set description"):
        FeatureSet.from_dict({"features": []})


def test_ltr_features_output_carries_its_feature_set_and_the_model_keeps_it(adi, tmp_path):
    # the feature set, the topic fields the queries were made of (None: the query file's own text), and the spread
    # of the first stage's top score per query (those of --save-run's run)
    top = [max(s for q2, s in zip(adi.run["qid"], adi.run["score"]) if q2 == q) for q in set(adi.run["qid"])]
    spread = {"min": float(min(top)), "median": float(np.median(top)), "max": float(max(top))}
    want = {**FeatureSet.default().to_dict(InvertedIndex.load(adi.index)), "topic_fields": None,
            "first_stage_top_scores": spread}
    assert adi.data.feature_set == want
    for engine in ENGINES:
        assert json.loads(adi.models[engine].with_name(adi.models[engine].name + ".meta.json").read_text())[
            "feature_set"] == want
        assert load_model(adi.models[engine]).feature_set_ == want
    # provenance only: equality ignores it, and a file without it reads as before
    bare = replace(adi.data, feature_set=None)
    assert bare.equals(adi.data)
    write_letor(tmp_path / "bare.letor", bare)
    assert read_letor(tmp_path / "bare.letor").feature_set is None
    assert "feature_set" not in (tmp_path / "bare.letor").read_text().splitlines()[0]
    # a model trained on arrays, or on columns the description does not name, keeps none
    small = adi.data.subset(range(10))
    plain = Ranker(n_estimators=2, min_child_samples=5).fit(small.X, small.y, group=small.group_sizes)
    assert plain.feature_set_ is None
    renamed = replace(small, feature_names=("x", *small.feature_names[1:]))
    assert Ranker(n_estimators=2, min_child_samples=5).fit(renamed).feature_set_ is None


def test_a_sidecar_whose_feature_set_does_not_name_the_columns_is_refused(adi, tmp_path):
    from ltr.rankers.sidecar import meta_path, write_model

    path = tmp_path / "m.txt"
    meta = json.loads(meta_path(adi.models["lightgbm"]).read_text())
    meta["feature_set"] = dict(meta["feature_set"], columns=["a", "b"])
    write_model(path, adi.models["lightgbm"].read_text(), {k: v for k, v in meta.items()
                                                             if k not in ("checksum", "format", "model_sha256")})
    with pytest.raises(ModelFormatError, match="feature_set must be a feature-set description naming"):
        load_model(path)


# -- the same scores as ltr features + ltr predict -------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_rerank_equals_ltr_features_then_ltr_predict_bit_for_bit(adi, engine):
    reranker = Reranker.load(adi.models[engine], index=adi.index, collection=adi.coll)
    assert reranker.feature_names == adi.data.feature_names
    ref = reference(adi, engine)
    for qid in list(ref)[:12]:
        docs, scores = first_stage(adi, qid)
        got = reranker.rerank(adi.texts[qid], docs, scores=scores)
        want_docs, want = ref[qid]
        assert want_docs == docs
        order = np.argsort(-want, kind="stable")
        assert list(got.doc_ids) == [docs[i] for i in order]
        assert np.array_equal(got.scores, want[order])  # exact: same float32 features, the engine's own margins
        X = reranker.features(adi.texts[qid], docs, scores=scores)
        a, b = np.searchsorted(adi.data.qid, int(qid)), np.searchsorted(adi.data.qid, int(qid), side="right")
        assert np.array_equal(X, adi.data.X[a:b])


def test_candidates_not_in_score_order_are_ranked_by_their_scores_as_rerank_run_ranks_them(adi):
    """A PyTerrier frame's rows come in any order after a merge or a sort by docno: with the scores given, the
    rank feature (and the feedback documents) follow the scores, ties in the order given, as rerank_run ranks a run
    without a rank column. The rank feature was the list position: a query's candidates sorted by docno lost
    NDCG@10 0.41 -> 0.29 in the PyTerrier trial. References: ltr features + ltr predict on the run (the LETOR rows),
    for queries without tied first-stage scores; rerank_run on the shuffled frame, for every query."""
    reranker = Reranker.load(adi.models["lightgbm"], index=adi.index, collection=adi.coll)
    ref = reference(adi, "lightgbm")
    rng = np.random.default_rng(0)
    batch, frames, want_of = {}, [], {}
    for qid in list(ref)[:12]:
        docs, scores = first_stage(adi, qid)
        perm = rng.permutation(len(docs))
        assert (np.diff(scores[perm]) > 0).any()  # the shuffled list contradicts its scores
        shuffled, s = [docs[i] for i in perm], scores[perm]
        got = reranker.rerank(adi.texts[qid], shuffled, scores=s)
        want_of[qid] = dict(zip(got.doc_ids, got.scores.tolist()))
        if np.unique(scores).size == scores.size:  # no tie for the list's order to break
            want_docs, want = ref[qid]
            assert want_of[qid] == dict(zip(want_docs, want.tolist()))  # exact, document by document
            a = np.searchsorted(adi.data.qid, int(qid))
            X = reranker.features(adi.texts[qid], shuffled, scores=s)
            assert np.array_equal(X, adi.data.X[a + perm])  # the rows in the order given, each its own features
        batch[qid] = (adi.texts[qid], shuffled, s)
        frames.append(pd.DataFrame({"qid": qid, "docno": shuffled, "score": s}))
    assert sum(np.unique(first_stage(adi, q)[1]).size == len(first_stage(adi, q)[1]) for q in batch) >= 6
    for qid, got in reranker.rerank_many(batch).items():
        assert dict(zip(got.doc_ids, got.scores.tolist())) == want_of[qid]
    out, _ = reranker.rerank_run(pd.concat(frames, ignore_index=True), adi.texts)
    for qid, g in out.groupby("qid"):
        assert dict(zip(g["docno"], g["score"].tolist())) == want_of[qid]
    # a list in score order keeps its own order (ties included)
    docs, scores = first_stage(adi, list(ref)[0])
    flat = reranker.features(adi.texts[list(ref)[0]], docs, scores=np.zeros(len(docs)))
    assert flat[:, list(reranker.feature_names).index("first_stage_rank")].tolist() == list(range(1, len(docs) + 1))


def test_the_index_is_built_from_the_collection_with_the_models_analysis(adi):
    built = Reranker.load(adi.models["lightgbm"], collection=adi.coll)
    saved = Reranker.load(adi.models["lightgbm"], index=adi.index)
    qid = next(iter(reference(adi, "lightgbm")))
    docs, scores = first_stage(adi, qid)
    a, b = (r.rerank(adi.texts[qid], docs, scores=scores) for r in (built, saved))
    assert a.doc_ids == b.doc_ids and np.array_equal(a.scores, b.scores)


def test_ties_keep_the_order_given(adi):
    stump = Ranker(n_estimators=1, num_leaves=2, min_child_samples=5, preset=None).fit(adi.data)
    reranker = Reranker(stump, InvertedIndex.load(adi.index), FeatureSet.default())
    qid = next(iter(reference(adi, "lightgbm")))
    docs, scores = first_stage(adi, qid)
    for given in (docs, docs[::-1]):
        got = reranker.rerank(adi.texts[qid], given)
        assert len(set(got.scores.tolist())) < len(got.scores)  # one split: ties
        assert np.all(np.diff(got.scores) <= 0)
        for s in set(got.scores.tolist()):
            tied = [d for d, v in zip(got.doc_ids, got.scores) if v == s]
            assert tied == [d for d in given if d in tied]


def test_threads_give_the_serial_results(adi):
    reranker = Reranker.load(adi.models["xgboost"], index=adi.index, collection=adi.coll)
    jobs = [(adi.texts[q], *first_stage(adi, q)) for q in reference(adi, "xgboost")] * 3
    serial = [reranker.rerank(t, d, scores=s) for t, d, s in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda job: reranker.rerank(job[0], job[1], scores=job[2]), jobs))
    for a, b in zip(serial, threaded):
        assert a.doc_ids == b.doc_ids and np.array_equal(a.scores, b.scores)


def test_rerank_many_equals_rerank_of_each(adi, caplog):
    reranker = Reranker.load(adi.models["lightgbm"], index=adi.index)
    qids = list(reference(adi, "lightgbm"))[:5]
    batch = {q: (adi.texts[q], *first_stage(adi, q)) for q in qids}
    batch["empty"] = ("wing", [])
    with caplog.at_level(logging.WARNING, logger="features.serve"):
        got = reranker.rerank_many(batch)
    assert list(got) == [*qids, "empty"] and len(got["empty"]) == 0
    assert "1 query(ies) have no candidate (first: empty)" in caplog.text
    for q in qids:
        one = reranker.rerank(adi.texts[q], batch[q][1], scores=batch[q][2])
        assert got[q].doc_ids == one.doc_ids and np.array_equal(got[q].scores, one.scores)


# -- bad input -------------------------------------------------------------------------------------------------------
def test_an_index_built_with_another_analyzer_or_other_fields_is_refused_naming_the_differences(adi, tmp_path):
    model = adi.models["lightgbm"]
    terrier = InvertedIndex.build(adi.docs, Analyzer.terrier())
    with pytest.raises(FeatureSetMismatchError) as e:
        Reranker.load(model, index=terrier)
    msg = str(e.value)
    assert "analyzer stopwords: the 'lucene' list" in msg and "the 'terrier' list" in msg
    assert "analyzer token_pattern" in msg and "\n" not in msg
    body = InvertedIndex.build(adi.docs, Analyzer(), fields=["body"])
    with pytest.raises(FeatureSetMismatchError, match=r"indexed fields: \[\"title\", \"body\", \"all\"\] in the "
                                                      r"model, \[\"body\"\] in this index and feature set"):
        Reranker.load(model, index=body)


def test_a_feature_set_given_that_differs_from_the_models_is_refused(adi, tmp_path):
    entries = FeatureSet.default().to_dict()["features"]
    assert entries[3]["scorer"] == "bm25"
    entries[3]["params"]["k1"] = 0.9
    fs = tmp_path / "fs.json"
    fs.write_text(json.dumps({"features": [{"scorer": e["scorer"], "fields": e["fields"], **e["params"]}
                                           for e in entries]}))
    with pytest.raises(FeatureSetMismatchError, match=r"feature 4 \(bm25\): k1 1.2 in the model, 0.9 in the "
                                                      r"feature set given"):
        Reranker.load(adi.models["lightgbm"], index=adi.index, features=fs)
    with pytest.raises(FeatureSetMismatchError, match=r"feature 4 \(bm25\): k1 1.2 in the model, 0.9 in this"):
        Reranker(load_model(adi.models["lightgbm"]), InvertedIndex.load(adi.index), FeatureSet.load(fs))
    # many differences: the sizes first, then the first five of them (it was every one, a wall of text)
    for e in entries:  # k1, b, mu, lam, the window, and three pool lists: eight differences
        for key, value in e["params"].items():
            if isinstance(value, (float, int)) and not isinstance(value, bool):
                e["params"][key] = value / 2 if isinstance(value, float) else value // 2
            elif isinstance(value, list):
                e["params"][key] = value[:-1]
    fs.write_text(json.dumps({"features": [{"scorer": e["scorer"], "fields": e["fields"], **e["params"]}
                                           for e in entries]}))
    with pytest.raises(FeatureSetMismatchError) as err:
        Reranker.load(adi.models["lightgbm"], index=adi.index, features=fs)
    msg = str(err.value)
    sizes = re.search(r"\((\d+) columns from (\d+) entries in the model, (\d+) entries in the feature set given\)",
                      msg)
    assert sizes and int(sizes[2]) == int(sizes[3]) == len(entries) and int(sizes[1]) > len(entries)
    assert re.search(r"; and \d+ more differences$", msg) and msg.count(" in the model, ") == 5 + 1


def test_a_model_without_a_feature_set_needs_one_given(adi):
    plain = Ranker(n_estimators=3, min_child_samples=5).fit(adi.data.X, adi.data.y, group=adi.data.group_sizes)
    with pytest.raises(MissingFeatureSetError, match="not trained on `ltr features` output.*features='FS.toml'") as e:
        Reranker.load(plain, index=adi.index)
    assert "--features FS.toml" in e.value.command_line and "--features" not in str(e.value)  # each interface's
    qid = next(iter(reference(adi, "lightgbm")))
    docs, scores = first_stage(adi, qid)
    given = Reranker.load(plain, index=adi.index, features="default").rerank(adi.texts[qid], docs, scores=scores)
    want = plain.predict(adi.data.X[adi.data.qid == int(qid)])
    assert np.array_equal(np.sort(given.scores), np.sort(want))


def test_a_model_feature_the_feature_set_lacks_is_named(adi):
    names = list(adi.data.feature_names)
    names[5] = "bm25:abstract"
    model = Ranker(n_estimators=3, min_child_samples=5).fit(replace(adi.data, feature_names=tuple(names)))
    with pytest.raises(FeatureSetMismatchError, match=r"1 feature\(s\) that the feature set does not compute: "
                                                      r"'bm25:abstract' \(column 6\)"):
        Reranker.load(model, index=adi.index, features="default")
    with pytest.raises(FeatureSetMismatchError, match="takes 88 features but the feature set computes 3"):
        Reranker(replace_names(model), InvertedIndex.load(adi.index), FeatureSet(["bm25"]))


def replace_names(model: Ranker) -> Ranker:
    del model.feature_names_in_
    return model


def test_unknown_documents_are_an_error_or_dropped_and_listed(adi):
    reranker = Reranker.load(adi.models["lightgbm"], index=adi.index)
    qid = next(iter(reference(adi, "lightgbm")))
    docs, scores = first_stage(adi, qid)
    given = [docs[0], "no-such-doc", *docs[1:], "nor-this"]
    with pytest.raises(UnknownCandidatesError, match=r"2 of the 17 candidate documents are not in the collection "
                                                     r"\(first: 'no-such-doc', 'nor-this'\)") as e:
        reranker.rerank(adi.texts[qid], given)
    assert e.value.doc_ids == ("no-such-doc", "nor-this")
    with pytest.raises(UnknownCandidatesError, match=r"1 of the 2 candidate documents is not in the collection "
                                                     rf"\(first: '{docs[0]} '\)"):  # a space: told apart
        reranker.rerank(adi.texts[qid], [f"{docs[0]} ", docs[1]])
    with pytest.raises(TypeError, match="queries must be a mapping .*, got list"):
        reranker.rerank_many([(qid, adi.texts[qid], docs)])
    # dropped: the others keep their positions in the list given as their first-stage ranks (as a run's ranks are
    # kept by ltr features --run), so unknown documents at the end change nothing for the others
    got = reranker.rerank(adi.texts[qid], [*docs, "no-such-doc", "nor-this"], scores=[*scores, 0.0, 0.0],
                          on_unknown="drop")
    want = reranker.rerank(adi.texts[qid], docs, scores=scores)
    assert got.unknown == ("no-such-doc", "nor-this")
    assert got.doc_ids == want.doc_ids and np.array_equal(got.scores, want.scores)
    moved = reranker.rerank(adi.texts[qid], given, scores=[scores[0], 0.0, *scores[1:], 0.0], on_unknown="drop")
    assert moved.unknown == got.unknown and sorted(moved.doc_ids) == sorted(docs)


def test_rerank_takes_warn_as_rerank_run_and_the_command_do(adi, caplog):
    """on_unknown='warn', rerank_run's default and one of ltr rerank's two choices, was refused by rerank and
    rerank_many ("must be 'error' or 'drop'", trial t56): it drops as 'drop' does, and says so."""
    reranker = Reranker.load(adi.models["lightgbm"], index=adi.index)
    qid = next(iter(reference(adi, "lightgbm")))
    docs, scores = first_stage(adi, qid)
    dropped = reranker.rerank(adi.texts[qid], [*docs, "no-such-doc"], scores=[*scores, 0.0], on_unknown="drop")
    with caplog.at_level(logging.WARNING, logger="features.serve"):
        warned = reranker.rerank(adi.texts[qid], [*docs, "no-such-doc"], scores=[*scores, 0.0], on_unknown="warn")
        many = reranker.rerank_many({qid: (adi.texts[qid], [*docs, "no-such-doc"], [*scores, 0.0])},
                                    on_unknown="warn")
    assert warned.doc_ids == dropped.doc_ids and np.array_equal(warned.scores, dropped.scores)
    assert warned.unknown == many[qid].unknown == ("no-such-doc",)
    said = [r.getMessage() for r in caplog.records]
    assert said == [f"doc_ids: 1 of the {len(docs) + 1} candidate documents is not in the collection, dropped "
                    "(first: 'no-such-doc')",
                    f"query {qid!r}: 1 of the {len(docs) + 1} candidate documents is not in the collection, dropped "
                    "(first: 'no-such-doc')"]
    with pytest.raises(ValueError, match="on_unknown must be 'error', 'warn' or 'drop', got 'skip'"):
        reranker.rerank(adi.texts[qid], docs, on_unknown="skip")


def test_rerank_run_takes_pyterrier_and_ir_datasets_topics_and_warns_of_what_it_drops(adi, caplog):
    """PyTerrier passes topics as a (qid, query) frame, ir_datasets as (query_id, text): rerank_run failed with
    "'numpy.ndarray' object is not callable" on them (and on a Series and the toolkit's own Queries), and its
    on_unknown="warn" dropped lines without a word unless the caller read the report."""
    from features.collections import Queries

    reranker = Reranker.load(adi.models["lightgbm"], index=adi.index)
    qids = list(reference(adi, "lightgbm"))[:4]
    run = adi.run[adi.run["qid"].isin(qids)]
    texts = {q: adi.texts[q] for q in qids}
    want, _ = reranker.rerank_run(run, texts)
    for given in (pd.DataFrame({"qid": qids, "query": [texts[q] for q in qids]}),
                  pd.DataFrame({"query_id": qids, "text": [texts[q] for q in qids]}),
                  pd.Series(texts), Queries(tuple(qids), tuple(texts[q] for q in qids)),
                  [(q, texts[q]) for q in qids]):
        got, _ = reranker.rerank_run(run, given)
        pd.testing.assert_frame_equal(got, want)
    with pytest.raises(ValueError, match=f"^queries: duplicate query id '{qids[0]}'"):
        reranker.rerank_run(run, pd.DataFrame({"qid": [qids[0], qids[0]], "query": ["a", "b"]}))
    with pytest.raises(TypeError, match="queries must be a mapping of query id to text, Queries, .* got int"):
        reranker.rerank_run(run, 5)
    odd = pd.concat([run, pd.DataFrame({"qid": [qids[0], "nine"], "docno": ["ghost", run["docno"].iloc[0]],
                                        "rank": [99, 1], "score": [-1.0, 1.0]})], ignore_index=True)
    with caplog.at_level(logging.WARNING, logger="features.serve"):
        warned, report = reranker.rerank_run(odd, texts)
    said = [r.getMessage() for r in caplog.records if r.name == "features.serve"]
    assert said == report.problems() and len(said) == 2
    assert said[0] == "1 run line(s) name 1 query id(s) the queries lack (first: nine): dropped"
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="features.serve"):
        dropped, again = reranker.rerank_run(odd, texts, on_unknown="drop")
    assert not [r for r in caplog.records if r.name == "features.serve"] and again == report
    pd.testing.assert_frame_equal(dropped, warned)
    pd.testing.assert_frame_equal(warned, want)


def test_rerank_run_says_which_queries_had_no_term_of_the_collection(adi, caplog):
    """A query of stopwords only, or of words no document holds, is reranked by its non-lexical columns alone: the
    report says so (a trial found it reranked without a word)."""
    reranker = Reranker.load(adi.models["lightgbm"], index=adi.index)
    qids = list(reference(adi, "lightgbm"))[:3]
    run = adi.run[adi.run["qid"].isin(qids)]
    texts = {qids[0]: adi.texts[qids[0]], qids[1]: "the of and", qids[2]: "zzxqv qqzzv"}
    with caplog.at_level(logging.WARNING, logger="features.serve"):
        _, report = reranker.rerank_run(run, texts)
    assert report.termless_queries == (qids[1], qids[2]) and report.n_queries == 3
    said = [r.getMessage() for r in caplog.records if r.name == "features.serve"]
    assert said == report.problems() == [
        f"2 query(ies) have no term of the collection's vocabulary after analysis (first: {qids[1]}, {qids[2]}): "
        "their lexical features are 0, ranked by the other columns alone"]
    _, plain = reranker.rerank_run(run, {q: adi.texts[q] for q in qids})
    assert plain.termless_queries == () and plain.problems() == []


def test_a_reranking_says_its_query_had_no_term_of_the_collection(adi):
    """rerank and rerank_many answered a query of stopwords only, or of words no document holds, without a sign,
    where rerank_run reports it (trial t65)."""
    reranker = Reranker.load(adi.models["lightgbm"], index=adi.index)
    qid = next(iter(reference(adi, "lightgbm")))
    docs, scores = first_stage(adi, qid)
    for text, termless in ((adi.texts[qid], False), ("the of and", True), ("zzxqv qqzzv", True), ("", True)):
        one = reranker.rerank(text, docs, scores=scores)
        assert one.termless is termless
        assert reranker.rerank_many({qid: (text, docs, scores)})[qid] == one
    assert reranker.rerank("the of and", docs, scores=scores) != reranker.rerank(adi.texts[qid], docs, scores=scores)
    assert Reranking(one.doc_ids, one.scores) != one  # (termless) compared too


def test_rerankings_compare_by_value_and_are_not_hashable(adi):
    reranker = Reranker.load(adi.models["lightgbm"], index=adi.index)
    qid = next(iter(reference(adi, "lightgbm")))
    docs, scores = first_stage(adi, qid)
    one = reranker.rerank(adi.texts[qid], docs, scores=scores)
    assert reranker.rerank_many({qid: (adi.texts[qid], docs, scores)})[qid] == one  # raised on the array before
    assert one != Reranking(one.doc_ids, one.scores + 1.0) and one != Reranking(one.doc_ids[::-1], one.scores)
    with pytest.raises(TypeError, match="unhashable"):
        hash(one)


def test_a_model_that_reads_the_first_stage_score_needs_the_scores(adi):
    # rerank(text, doc_ids) put 0 in the first-stage score's place: on ADI with small_collections 34 of 35 queries
    # came out in another order, silently
    reranker = Reranker.load(adi.models["lightgbm"], index=adi.index)
    column = list(adi.data.feature_names).index("first_stage_score")
    assert np.any(reranker.trees.feature == column)  # the model splits on it
    qid = next(iter(reference(adi, "lightgbm")))
    docs, scores = first_stage(adi, qid)
    with pytest.raises(ValueError, match=r"scores: the model reads first_stage_score, .*pass them \(scores="):
        reranker.rerank(adi.texts[qid], docs)
    with pytest.raises(ValueError, match=r"queries\['1'\] scores: the model reads first_stage_score"):
        reranker.rerank_many({"1": (adi.texts[qid], docs)})
    # a model that never reads it (the column constant in training: no split on it) takes 0 for it
    X = np.array(adi.data.X)
    X[:, column] = 0.0
    blind = Ranker(n_estimators=5, min_child_samples=5, n_jobs=1).fit(replace(adi.data, X=X))
    blind.feature_set_ = load_model(adi.models["lightgbm"]).feature_set_
    got = Reranker(blind, InvertedIndex.load(adi.index), FeatureSet.default()).rerank(adi.texts[qid], docs)
    rows = adi.data.qid == int(qid)
    assert np.array_equal(np.sort(got.scores), np.sort(blind.predict(X[rows])))


def test_candidates_and_scores_of_the_wrong_kind_are_refused_by_name(adi):
    reranker = Reranker.load(adi.models["lightgbm"], index=adi.index)
    with pytest.raises(TypeError, match=r"doc_ids must be a sequence of document ids, got the string '69'; pass "
                                        r"\['69'\]"):
        reranker.rerank("wing", "69", scores=[1.0, 2.0])  # it reranked documents 6 and 9
    with pytest.raises(TypeError, match=r"queries\['1'\] doc_ids must be a sequence"):
        reranker.rerank_many({"1": ("wing", "69", [1.0, 2.0])})
    with pytest.raises(ValueError, match=r"scores\[1\] is inf \(document '27'\): first-stage scores must be finite"):
        reranker.rerank("wing", ["69", "27"], scores=[1.0, np.inf])  # it was a FloatingPointError, "a bug"
    with pytest.raises(TypeError, match="query_text must be a string, got NoneType"):
        reranker.rerank(None, ["69"], scores=[1.0])


def test_an_empty_candidate_list_gives_an_empty_result(adi):
    reranker = Reranker.load(adi.models["linear"], index=adi.index)
    got = reranker.rerank("wing flutter", [])
    assert got.doc_ids == () and got.scores.shape == (0,) and len(got) == 0
    # a set has no first-stage order (its order, the hashes', gave the rank feature; trial t50/serve)
    with pytest.raises(TypeError, match="doc_ids must be a sequence of document ids in first-stage order, got a set"):
        reranker.rerank("wing", {"1", "2"})
    # features() and score() of no candidate: empty too, where they raised an internal 'group 0 has size 0' (t50)
    for engine in ("linear", "lightgbm"):
        r = Reranker.load(adi.models[engine], index=adi.index)
        X = r.features("wing flutter", [])
        assert X.shape == (0, len(r.feature_names)) and X.dtype == np.float32
        assert r.score(X).shape == (0,)
    with pytest.raises(ValueError, match="document '1' is a candidate twice"):
        reranker.rerank("wing", ["1", "2", "1"])
    with pytest.raises(ValueError, match="one first-stage score per candidate"):
        reranker.rerank("wing", ["1", "2"], scores=[1.0])


# -- a neural feature ------------------------------------------------------------------------------------------------
def _tiny_cross_encoder(folder, words):
    """A randomly initialised 2-layer BERT relevance classifier over ``words``, saved as a model folder."""
    transformers = import_neural("transformers")
    torch = import_neural("torch")
    import_neural("sentence_transformers")
    folder.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(words)]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=128, num_labels=1,
                                     initializer_range=0.5)
    torch.manual_seed(1)
    transformers.BertForSequenceClassification(config).save_pretrained(str(folder))
    transformers.BertTokenizer(str(folder / "vocab.txt"), do_lower_case=True).save_pretrained(str(folder))
    return folder


def _cross_encoder_set(adi, tmp_path, middle: str):
    """A tiny cross-encoder over ADI's words (named ``ce``, on ``all``) after BM25 and ``middle``, written as a
    feature-set file: ``(model folder, feature-set path)``."""
    import re

    words = {w for f in adi.docs.fields.values() for t in f for w in re.findall(r"\w+", t.lower())}
    ce = _tiny_cross_encoder(tmp_path / "ce", words)
    fs = tmp_path / "fs.json"
    fs.write_text(json.dumps({"features": [
        {"scorer": "bm25"}, {"scorer": middle},
        {"scorer": "crossencoder", "model": str(ce), "fields": ["all"], "name": "ce", "cache_dir": str(tmp_path)},
    ]}))
    return ce, fs


@pytest.mark.neural
@pytest.mark.slow
def test_a_cross_encoder_feature_reuses_the_cached_pair_scores_and_serves_threads(adi, tmp_path):
    ce, fs = _cross_encoder_set(adi, tmp_path, "first_stage")
    letor, run, model = tmp_path / "ce.letor", tmp_path / "bm25.run", tmp_path / "ce.model"
    cli("features", "--collection", adi.coll, "--topk", 8, "--features", fs, "--out", letor, "--save-run", run,
        "--index", adi.index, "--quiet")
    cli("train", letor, "--rounds", 15, "--leaves", 5, "--min-child-samples", 5, "--out", model, "--quiet",
        "--format", "json")
    cli("predict", model, letor, "--out", tmp_path / "ce.scores", "--quiet")
    data, want = read_letor(letor), read_scores(tmp_path / "ce.scores")
    assert data.feature_names[-1] == "ce:all" and np.ptp(data.X[:, -1]) > 0
    reranker = Reranker.load(model, index=adi.index, collection=adi.coll)
    first = read_run(run)
    jobs = []
    for q in range(data.n_queries):
        a, b = data.group_ptr[q], data.group_ptr[q + 1]
        g = first[first["qid"] == str(data.qid[a])].sort_values("rank", kind="stable")
        assert g["docno"].tolist() == list(data.doc_ids[a:b])
        jobs.append((adi.texts[str(data.qid[a])], g["docno"].tolist(), g["score"].to_numpy(), want[a:b]))
    serial = [reranker.rerank(t, d, scores=s) for t, d, s, _ in jobs]
    for (_, _, _, w), got in zip(jobs, serial):
        # the same (query, document) texts: the cross-encoder's scores come from the cache ltr features wrote
        assert np.array_equal(got.scores, w[np.argsort(-w, kind="stable")])
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = list(pool.map(lambda j: reranker.rerank(j[0], j[1], scores=j[2]), jobs))
    assert all(a.doc_ids == b.doc_ids and np.array_equal(a.scores, b.scores) for a, b in zip(serial, threaded))
    # another cache folder is a runtime parameter: the same features
    other = json.loads(fs.read_text())
    other["features"][2]["cache_dir"] = str(tmp_path / "elsewhere")
    fs.write_text(json.dumps(other))
    assert Reranker.load(model, index=adi.index, collection=adi.coll, features=fs).feature_names == \
        data.feature_names


@pytest.mark.neural
@pytest.mark.slow
def test_serving_a_cross_encoder_never_writes_its_cache_and_holds_a_bounded_memory(adi, tmp_path, monkeypatch):
    """Each served query's new pairs were written: every call read and rewrote the whole cache folder (82 ms -> 4.8 s
    per query with a million cached pairs), and it grew without bound (trial t52). Now the folder is as ltr features
    left it, and the pairs computed are held in memory, the most recently used SERVE_ITEMS."""
    import features.embedding_cache as ec

    monkeypatch.setattr(ec, "SERVE_ITEMS", 10)
    ce, fs = _cross_encoder_set(adi, tmp_path, "first_stage")
    letor, model = tmp_path / "ce.letor", tmp_path / "ce.model"
    cli("features", "--collection", adi.coll, "--topk", 4, "--features", fs, "--out", letor, "--index", adi.index,
        "--quiet")
    cli("train", letor, "--rounds", 5, "--leaves", 3, "--min-child-samples", 5, "--out", model, "--quiet",
        "--format", "json")
    slot = next(tmp_path.glob("crossencoder-*"))
    before = {p.name: p.stat().st_mtime_ns for p in slot.iterdir()}
    reranker = Reranker.load(model, index=adi.index, collection=adi.coll)
    docs = list(reranker.index.doc_ids[:6])
    for i in range(4):
        reranker.rerank(f"computer indexing {i}", docs, scores=np.arange(6.0)[::-1])
    assert {p.name: p.stat().st_mtime_ns for p in slot.iterdir()} == before
    stores = [store for scorer, _, _ in reranker._served.columns(reranker.index)
              for store in getattr(scorer, "_stores", {}).values()]
    assert stores and all(0 < len(store._recent) <= 10 for store in stores)


@pytest.mark.neural
@pytest.mark.slow
def test_a_student_of_a_cross_encoder_is_served_without_its_teachers_model(adi, tmp_path):
    """A distilled student reads none of its teacher's columns, yet Reranker.load built the teacher's entry: where
    the teacher's model folder (or sentence-transformers) was absent, the student could not be served at all (trial
    t50/serve). The entry is left unbuilt now; the student's run is ltr predict's, bit for bit."""
    ce, fs = _cross_encoder_set(adi, tmp_path, "tfidf")
    letor, model = tmp_path / "ce.letor", tmp_path / "student.model"
    cli("features", "--collection", adi.coll, "--topk", 8, "--features", fs, "--out", letor, "--index", adi.index,
        "--quiet")
    cli("train", letor, "--objective", "distill", "--kernel", "numba", "--teacher-column", "ce:all", "--rounds", 15,
        "--leaves", 5, "--min-child-samples", 5, "--out", model, "--quiet", "--format", "json")
    cli("predict", model, letor, "--out", tmp_path / "s.scores", "--quiet")
    data, want = read_letor(letor), read_scores(tmp_path / "s.scores")
    ce.rename(tmp_path / "ce-moved")  # the teacher's model is not where the student serves
    reranker = Reranker.load(model, index=adi.index, collection=adi.coll)
    assert "crossencoder" not in [s.scorer for s in reranker._served.specs]
    assert reranker.feature_names == tuple(data.feature_names)
    for q in range(data.n_queries):
        a, b = data.group_ptr[q], data.group_ptr[q + 1]
        got = reranker.rerank(adi.texts[str(data.qid[a])], list(data.doc_ids[a:b]))
        w = want[a:b]
        assert np.array_equal(got.scores, w[np.argsort(-w, kind="stable")])


@pytest.mark.neural
@pytest.mark.slow
def test_a_model_of_the_classical_columns_is_served_without_the_cross_encoder(adi, tmp_path):
    """A model trained on a hybrid file's classical columns (ltr train --drop-features ce:all) built and ran the
    cross-encoder at every query, and could not be served without its model folder (trial t51/hybrid)."""
    ce, fs = _cross_encoder_set(adi, tmp_path, "tfidf")
    letor, model = tmp_path / "ce.letor", tmp_path / "classical.model"
    cli("features", "--collection", adi.coll, "--topk", 8, "--features", fs, "--out", letor, "--index", adi.index,
        "--quiet")
    cli("train", letor, "--drop-features", "ce:all", "--rounds", 15, "--leaves", 5, "--min-child-samples", 5,
        "--out", model, "--quiet", "--format", "json")
    cli("predict", model, letor, "--out", tmp_path / "m.scores", "--quiet")
    data, want = read_letor(letor), read_scores(tmp_path / "m.scores")
    ce.rename(tmp_path / "ce-moved")
    reranker = Reranker.load(model, index=adi.index, collection=adi.coll)
    assert [s.scorer for s in reranker._served.specs] == ["bm25", "tfidf"]
    for q in range(data.n_queries):
        a, b = data.group_ptr[q], data.group_ptr[q + 1]
        got = reranker.rerank(adi.texts[str(data.qid[a])], list(data.doc_ids[a:b]))
        w = want[a:b]
        assert np.array_equal(got.scores, w[np.argsort(-w, kind="stable")])


def test_ltr_serve_is_the_same_reranker_and_import_ltr_does_not_load_the_feature_layer():
    import subprocess
    import sys

    import ltr.serve

    assert ltr.serve.Reranker is Reranker and ltr.serve.FeatureSetMismatchError is FeatureSetMismatchError
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        ltr.serve.nothing  # noqa: B018
    code = "import sys, ltr, ltr.serve; print('features.serve' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


@pytest.mark.neural
@pytest.mark.slow
def test_a_second_ltr_rerank_of_one_run_finds_the_pairs_the_first_computed(adi, tmp_path, monkeypatch):
    """ltr rerank, a batch, writes its cross-encoder pairs to the cache as ltr features does: once serving read
    the cache and never wrote it, a second rerank of the same run computed every pair again (review of stop 52)."""
    from features.scorers.neural.crossencoder import CrossEncoderScorer

    ce, fs = _cross_encoder_set(adi, tmp_path, "first_stage")
    letor, run, model = tmp_path / "ce.letor", tmp_path / "bm25.run", tmp_path / "ce.model"
    cli("features", "--collection", adi.coll, "--topk", 3, "--features", fs, "--out", letor, "--index", adi.index,
        "--quiet")
    cli("features", "--collection", adi.coll, "--topk", 10, "--out", tmp_path / "deep.letor", "--save-run", run,
        "--index", adi.index, "--quiet")
    cli("train", letor, "--rounds", 5, "--leaves", 3, "--min-child-samples", 5, "--out", model, "--quiet",
        "--format", "json")
    computed = []
    real = CrossEncoderScorer.predict
    monkeypatch.setattr(CrossEncoderScorer, "predict",
                        lambda self, pairs, **kw: computed.append(len(pairs)) or real(self, pairs, **kw))
    counts = []
    for i in range(2):
        computed.clear()
        cli("rerank", "--model", model, "--run", run, "--collection", adi.coll, "--index", adi.index, "--depth", 10,
            "--out", tmp_path / f"r{i}.run", "--quiet")
        counts.append(sum(computed))
    assert counts[0] > 0 and counts[1] == 0
    assert (tmp_path / "r0.run").read_text() == (tmp_path / "r1.run").read_text()
