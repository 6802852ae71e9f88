"""Pickling the analysis and serving objects (process pools, joblib, Ray): an :class:`Analyzer` pickles by its
settings and rebuilds its PyStemmer stemmer, pattern and memo; an index, a feature set and a Reranker pickle with
it. The reference is the object that was pickled: the copy must analyse, extract and rerank exactly as it does."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from features.analysis import Analyzer
from features.collections import load_test_collection
from features.extraction import extract
from features.index import InvertedIndex
from features.serve import Reranker
from ltr.cli import main

TEXTS = ["The wings' FLUTTER is measured at Mach 2.5", "Generalizations of oscillators", "हिन्दी café İstanbul",
         "東京大学の研究は素晴らしい アイスcream 한국어", ""]


@pytest.mark.parametrize("analyzer", [Analyzer(), Analyzer.terrier(), Analyzer(split_cjk=False, keep_marks=False),
                                      Analyzer(stopwords=["flutter", "of"], stemmer="english", min_stem_length=1),
                                      Analyzer(stemmer=None, stopwords=None, normalize="NFKC", max_length=6)])
def test_an_analyzer_pickles_by_its_settings(analyzer):
    expected = [analyzer.analyze(t) for t in TEXTS]  # the memo is filled: it does not travel, and is not needed
    back = pickle.loads(pickle.dumps(analyzer))
    assert back == analyzer and back.to_dict() == analyzer.to_dict()
    assert back._memo == {} and [back.analyze(t) for t in TEXTS] == expected
    assert [back.tokens(t) for t in TEXTS] == [analyzer.tokens(t) for t in TEXTS]


@pytest.fixture(scope="module")
def adi(shared_file, tmp_path_factory):
    """ADI: the index, BM25 top 10 with the default features, and a small LightGBM model trained on them."""
    folder = tmp_path_factory.mktemp("pickle")
    coll = shared_file("adi")
    letor, run, index, model = (folder / n for n in ("adi.letor", "bm25.run", "adi.npz", "lgb.model"))
    assert main(["features", "--collection", str(coll), "--topk", "10", "--out", str(letor), "--save-run", str(run),
                 "--index", str(index), "--quiet"]) == 0
    assert main(["train", str(letor), "--engine", "lightgbm", "--rounds", "10", "--leaves", "7",
                 "--min-child-samples", "5", "--out", str(model), "--quiet"]) == 0
    return load_test_collection(coll), InvertedIndex.load(index), model


def test_an_index_pickles_and_extracts_the_same_features(adi):
    tc, ix, _ = adi
    queries = dict(list(tc.queries.items())[:8])
    candidates = {q: list(ix.doc_ids[:20]) for q in queries}
    before = extract(ix, queries, candidates, n_jobs=1)
    back = pickle.loads(pickle.dumps(ix))
    assert back.analyzer == ix.analyzer and back.terms == ix.terms and back.doc_ids.tolist() == ix.doc_ids.tolist()
    for f in ix.field_names:
        for name in ("indptr", "docs", "tf", "pos_ptr", "positions", "doc_len"):
            a = getattr(back.field(f), name)
            np.testing.assert_array_equal(a, getattr(ix.field(f), name))
            assert not a.flags.writeable  # read-only again, as built or loaded
    after = extract(back, queries, candidates, n_jobs=1)
    np.testing.assert_array_equal(after.X, before.X)
    assert after.feature_names == before.feature_names


def _rerank_all(reranker, queries, candidates):
    return {q: reranker.rerank(t, candidates, scores=np.linspace(10, 1, len(candidates))) for q, t in queries}


def test_a_reranker_pickles_and_reranks_the_same_here_and_in_a_process_pool(adi):
    tc, ix, model = adi
    reranker = Reranker.load(model, index=ix)
    queries = list(tc.queries.items())[:5]
    candidates = list(ix.doc_ids[10:30])
    expected = _rerank_all(reranker, queries, candidates)
    back = pickle.loads(pickle.dumps(reranker))
    assert back._lock is not reranker._lock
    got = _rerank_all(back, queries, candidates)
    for q, _ in queries:
        assert got[q].doc_ids == expected[q].doc_ids
        np.testing.assert_array_equal(got[q].scores, expected[q].scores)
    # a fresh interpreter (spawn: nothing inherited) receives the reranker and the analyzer by pickle
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        terms = pool.submit(ix.analyzer.analyze, TEXTS[3]).result(timeout=120)
        remote = pool.submit(reranker.rerank, queries[0][1], candidates,
                             scores=np.linspace(10, 1, len(candidates))).result(timeout=120)
    assert terms == ix.analyzer.analyze(TEXTS[3])
    assert remote.doc_ids == expected[queries[0][0]].doc_ids
    np.testing.assert_array_equal(remote.scores, expected[queries[0][0]].scores)


def test_a_model_and_an_index_saved_before_split_cjk_agree_and_a_fresh_index_is_named_as_different():
    """A model's feature description and an index file written before ``split_cjk`` both lack it; the index loads
    it as False (one token per run of ideographs, as it was built), and the model's description must read the same,
    or no model trained before could be served with its own index."""
    from features.featureset import FeatureSet, differences

    old = {k: v for k, v in Analyzer().to_dict().items() if k != "split_cjk"}
    model = {**FeatureSet(["bm25"]).to_dict(), "analyzer": old}
    loaded = {**model, "analyzer": Analyzer.from_dict(old).to_dict()}  # the old index, as InvertedIndex.load reads it
    assert loaded["analyzer"]["split_cjk"] is False
    assert differences(model, loaded, ("the model", "the index")) == []
    fresh = {**model, "analyzer": Analyzer().to_dict()}
    assert differences(model, fresh, ("the model", "the index")) == [
        "analyzer split_cjk: false in the model, true in the index"]
