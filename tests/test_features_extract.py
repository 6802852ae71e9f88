"""Feature logging to RankingDataset, feature-set files, and the ``ltr features`` command."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import features.featureset as featureset_module
from features.analysis import Analyzer
from features.collections import Collection, Queries
from features.errors import CollectionFormatError
from features.extraction import extract, qid_mapping
from features.featureset import FeatureSet
from features.index import InvertedIndex
from features.pairs import PairSet
from features.retrieval import BM25Retriever

DOCS = Collection(("d1", "d2", "d3", "d4"), {
    "title": ["Wing flutter", "Heat transfer", "", "Flutter of wings"],
    "body": ["flutter of a wing in a slipstream", "heat transfer in slabs", "", "wing flutter wing flutter"],
})
QUERIES = Queries(("1", "2", "3"), ("wing flutter", "heat", "the of"))
QRELS = pd.DataFrame({"qid": ["1", "1", "2", "2"], "docno": ["d4", "d2", "d2", "d3"], "rel": [2, 0, 1, 1]})


@pytest.fixture(scope="module")
def index():
    return InvertedIndex.build(DOCS, Analyzer())


def test_extract_groups_rows_by_query_labels_from_qrels_and_names_columns(index):
    run = BM25Retriever(index).search(QUERIES, k=10)
    fs = FeatureSet(["first_stage", {"scorer": "bm25", "fields": ["title", "body"]}, "doc_length:all"])
    d = extract(index, QUERIES, run, fs, qrels=QRELS)
    assert d.feature_names == ("first_stage_score", "first_stage_rank", "bm25:title", "bm25:body", "doc_length:all")
    # query 3 has only stopwords: no candidate, left out
    assert d.query_ids.tolist() == [1, 2] and d.X.dtype == np.float32
    assert d.doc_ids.tolist() == run.docno.tolist()
    assert d.y.tolist() == [{"d4": 2.0}.get(x, 0.0) for x in run.docno[run.qid == "1"]] + [1.0]
    np.testing.assert_allclose(d.X[:, 0], run.score, rtol=1e-6)
    assert d.X[:, 1].tolist() == run["rank"].tolist()


@pytest.mark.parametrize("qrels", [
    pd.DataFrame({"qid": [1, 1, 2, 2], "docno": ["d4", "d2", "d2", "d3"], "rel": [2, 0, 1, 1]}),  # pd.read_csv's ids
    QRELS.rename(columns={"rel": "label"}),  # PyTerrier
    QRELS.rename(columns={"qid": "query_id", "docno": "doc_id", "rel": "relevance"}),  # ir_datasets
])
def test_qrels_frames_of_pyterrier_ir_datasets_and_read_csv_give_the_same_labels(index, qrels, caplog):
    # integer query ids were dropped as unknown (every label 0, a logged warning); label / relevance a KeyError
    run = BM25Retriever(index).search(QUERIES, k=10)
    want = extract(index, QUERIES, run, ["bm25"], qrels=QRELS).y
    with caplog.at_level(logging.WARNING):
        got = extract(index, QUERIES, run, ["bm25"], qrels=qrels).y
    assert got.tolist() == want.tolist() and got.max() == 2.0 and "unknown" not in caplog.text
    topics = pd.DataFrame({"qid": ["1", "2"], "query": ["wing flutter", "heat"]})  # PyTerrier's topics
    assert BM25Retriever(index).search(topics, k=10).equals(BM25Retriever(index).search(
        {"1": "wing flutter", "2": "heat"}, k=10))
    with pytest.raises(ValueError, match=r"qrels need a 'rel' / 'label' / 'relevance' column; the DataFrame has"):
        extract(index, QUERIES, run, ["bm25"], qrels=QRELS.drop(columns="rel"))


def test_a_string_where_ids_are_expected_and_unranked_candidates(index):
    with pytest.raises(TypeError, match=r"candidates\['1'\] must be a sequence of document ids, got the string"):
        extract(index, QUERIES, {"1": "d4"}, ["bm25"])
    with pytest.raises(TypeError, match="queries must be a mapping of query id to text"):
        BM25Retriever(index).search("wing")
    # a candidates frame with scores and no rank is ranked by score (as a run, PyTerrier's add_ranks), ties in order
    frame = pd.DataFrame({"qid": ["1"] * 3, "docno": ["d1", "d2", "d4"], "score": [1.0, 3.0, 1.0]})
    d = extract(index, QUERIES, frame, ["first_stage"])
    assert d.doc_ids.tolist() == ["d2", "d1", "d4"] and d.X[:, 1].tolist() == [1.0, 2.0, 3.0]


def test_extract_output_carries_its_feature_set_so_a_model_trained_on_it_is_checked_when_served(index, tmp_path):
    from features.serve import FeatureSetMismatchError, Reranker
    from ltr import Ranker

    run = BM25Retriever(index).search(QUERIES, k=10)
    d = extract(index, QUERIES, run, ["bm25", "first_stage"], qrels=QRELS)
    assert d.feature_set == FeatureSet(["bm25", "first_stage"]).to_dict(index)
    model = Ranker(n_estimators=1, min_child_samples=1, n_jobs=1).fit(d)  # one round: the data allow no second
    assert Reranker(model, index, FeatureSet(["bm25", "first_stage"])).feature_names == d.feature_names
    other = InvertedIndex.build(DOCS, Analyzer(stemmer=None))  # another analysis: refused, not served silently
    with pytest.raises(FeatureSetMismatchError, match="analyzer stemmer"):
        Reranker(model, other, FeatureSet(["bm25", "first_stage"]))


def test_arguments_of_the_wrong_kind_are_named(index, tmp_path):
    from features.collections import TestCollection

    tc = TestCollection(DOCS, QUERIES, QRELS)
    for call, error, says in [
        (lambda: InvertedIndex.build(tc), TypeError, "a TestCollection holds one as .docs (pass tc.docs)"),
        (lambda: InvertedIndex.build(DOCS, "porter"), TypeError, "analyzer must be an Analyzer"),
        (lambda: InvertedIndex.build(DOCS, fields="body"), TypeError, "got the string 'body'; pass ['body']"),
        (lambda: BM25Retriever(index, k1="1.2"), TypeError, "k1 must be a number, got '1.2'"),
        (lambda: BM25Retriever(index).search({"q": "wing"}, k=1.5), ValueError, "k must be an integer >= 1, got 1.5"),
        (lambda: Analyzer().analyze(None), TypeError, "text must be a string, got NoneType"),
        (lambda: Analyzer(max_length=-1), ValueError, "max_length must be an int >= 0 (0: no limit), got -1"),
        (lambda: Analyzer(min_length="3"), ValueError, "min_length must be an int >= 0, got '3'"),
        (lambda: Analyzer(token_pattern=r"(\w)(\w+)"), ValueError, "has capturing groups: write (?:...)"),
    ]:
        with pytest.raises(error) as e:
            call()
        assert says in str(e.value)
    # to_dict()'s description saved as JSON loads back as the same set
    (tmp_path / "fs.json").write_text(json.dumps(FeatureSet.shipped("small_collections").to_dict(index)))
    assert FeatureSet.load(tmp_path / "fs.json").to_dict(index) == FeatureSet.shipped("small_collections").to_dict(
        index)


def test_judgments_below_zero_become_label_0_with_a_count_or_are_kept(index, caplog, tmp_path):
    """The Web track's -2 (spam): not relevant, as trec_eval counts it, so that the engines (which refuse negative
    labels) train on the file; ``negative_labels="keep"`` writes it as judged."""
    qrels = pd.DataFrame({"qid": ["1", "1", "1", "2"], "docno": ["d4", "d1", "d2", "d2"], "rel": [2, -2, -1, 1]})
    cands = {"1": ["d4", "d1", "d2"], "2": ["d2"]}
    with caplog.at_level(logging.WARNING):
        d = extract(index, QUERIES, cands, ["first_stage"], qrels=qrels)
    assert d.y.tolist() == [2.0, 0.0, 0.0, 1.0]
    assert "2 candidate(s) judged below 0 (-2, -1) get label 0" in caplog.text
    assert "3 queries have no candidate and are left out ('3')" in caplog.text
    assert extract(index, QUERIES, cands, ["first_stage"], qrels=qrels, negative_labels="keep").y.tolist() == [
        2.0, -2.0, -1.0, 1.0]
    with pytest.raises(ValueError, match="negative_labels must be 'zero' or 'keep', got 'drop'"):
        extract(index, QUERIES, cands, ["first_stage"], qrels=qrels, negative_labels="drop")


def test_ltr_features_output_with_spam_judgments_trains(tmp_path, caplog):
    from ltr.cli import main

    docs = tmp_path / "d.trec"
    docs.write_text("".join(f"<DOC><DOCNO>d{i}</DOCNO><TEXT>airbus {'subsidies ' * (i % 3)}</TEXT></DOC>\n"
                            for i in range(12)))
    (tmp_path / "q.tsv").write_text("".join(f"{q}\tairbus subsidies\n" for q in range(1, 7)))
    (tmp_path / "qr").write_text("".join(f"{q} 0 d{i} {(-2, 0, 1)[(i + q) % 3]}\n" for q in range(1, 7)
                                         for i in range(12)))
    out, qrels_out = tmp_path / "x.letor", tmp_path / "x.qrels"
    with caplog.at_level(logging.WARNING):
        assert main(["features", "--collection", str(docs), "--queries", str(tmp_path / "q.tsv"), "--qrels",
                     str(tmp_path / "qr"), "--topk", "12", "--out", str(out), "--qrels-out", str(qrels_out)]) == 0
    assert "24 candidate(s) judged below 0 (-2) get label 0" in caplog.text
    assert "--negative-labels keep" in caplog.text
    assert " -2\n" in qrels_out.read_text()  # the judgments as given, for trec_eval
    assert main(["train", str(out), "--rounds", "3", "--out", str(tmp_path / "m.txt")]) == 0


def test_add_judged_appends_missed_documents_after_the_last_retrieved(index, caplog):
    run = BM25Retriever(index).search(QUERIES, k=10)
    with caplog.at_level(logging.INFO):
        d = extract(index, QUERIES, run, ["first_stage"], qrels=QRELS, add_judged=True)
    q2 = d.doc_ids[d.qid == 2].tolist()
    assert q2 == ["d2", "d3"]  # d3 (empty, judged relevant) was not retrieved
    rows = d.X[d.qid == 2]
    assert rows[1, 1] == 1 + 1 and rows[1, 0] == pytest.approx(rows[0, 0] - 1.0)
    assert d.y[d.qid == 2].tolist() == [1.0, 1.0]


def test_candidates_as_dict_and_unknown_ids_are_dropped_with_counts_or_rejected(index, caplog):
    cands = {"1": ["d1", "nope", "d4", "d1"], "9": ["d1"]}
    with caplog.at_level(logging.WARNING):
        d = extract(index, QUERIES, cands, ["first_stage", "bm25:all"], qrels=QRELS)
    assert d.doc_ids.tolist() == ["d1", "d4"] and d.X[:, 1].tolist() == [1.0, 3.0]
    assert "1 row(s) over 1 unknown query id(s)" in caplog.text and "1 unknown document id(s)" in caplog.text
    assert "1 duplicate (query, document) row(s) dropped" in caplog.text
    with pytest.raises(CollectionFormatError, match="unknown query id"):
        extract(index, QUERIES, cands, ["bm25:all"], on_unknown="error")
    with pytest.raises(ValueError, match="no query has any candidate"):
        extract(index, QUERIES, {"3": []}, ["bm25:all"])


def test_qid_mapping_keeps_numeric_ids_and_numbers_the_others():
    assert qid_mapping(["3", "10", "007"]) == {"3": 3, "10": 10, "007": 7}
    assert qid_mapping(["1", "01"]) == {"1": 1, "01": 2}  # "01" and "1" would collide
    assert qid_mapping(["q-b", "q-a", "q-b"]) == {"q-b": 1, "q-a": 2}


def test_feature_sets_from_toml_json_and_errors(index, tmp_path):
    toml = tmp_path / "fs.toml"
    toml.write_text('[[features]]\nscorer = "bm25"\nfields = ["body"]\nk1 = 0.9\nb = 0.4\n\n'
                    '[[features]]\nscorer = "bm25"\nname = "bm25_strict"\nfields = "body"\nb = 1.0\n')
    js = tmp_path / "fs.json"
    js.write_text(json.dumps({"features": [{"scorer": "term_stats", "stat": "idf", "pools": ["max"],
                                            "fields": ["title"]}]}))
    assert FeatureSet.load(toml).feature_names(index) == ("bm25:body", "bm25_strict:body")
    assert FeatureSet.load(js).feature_names(index) == ("idf_max:title",)
    with pytest.raises(ValueError, match=r"unknown scorer 'bm99'; available: \["):
        FeatureSet(["bm99"])
    with pytest.raises(ValueError, match=r"duplicate feature column\(s\) \['bm25:body'\]"):
        FeatureSet(["bm25:body", {"scorer": "bm25", "fields": ["body"], "k1": 2.0}]).feature_names(index)
    with pytest.raises(ValueError, match="no field 'abstract'"):
        FeatureSet(["bm25:abstract"]).feature_names(index)
    bad = tmp_path / "bad.toml"
    bad.write_text("[[features]\n")
    with pytest.raises(ValueError, match="cannot parse feature set"):
        FeatureSet.load(bad)
    # a bad entry is named by its file, place and scorer (a set may hold nine bm25 entries)
    grid = tmp_path / "grid.toml"
    grid.write_text('[[features]]\nscorer = "bm25"\n[[features]]\nscorer = "bm25"\nname = "bm25_k"\nk1 = -1\n')
    with pytest.raises(ValueError) as e:
        FeatureSet.load(grid)
    assert str(e.value) == f"{grid}: feature 2 (bm25_k): scorer 'bm25': k1 must be a finite number >= 0, got -1"


def test_a_feature_set_description_records_numpy_values_as_the_toolkits_json_conversion_does():
    """The description goes through ltr._json.python_values: a NumPy array as its list (before: refused as
    "cannot be described in JSON (ndarray)"), a NumPy scalar, key or set member as its Python value; NaN is still
    refused, since a description is compared and read back as strict JSON."""
    from ltr._json import python_values

    given = {"windows": np.array([2, 8]), "weights": {np.int64(1): np.float32(0.5)},
             "pools": frozenset({np.str_("max"), np.str_("sum")}), "k1": np.float64(0.9), "path": Path("a/b")}
    got = featureset_module._jsonable(given, "the parameters of scorer 'x'")
    assert got == {"windows": [2, 8], "weights": {"1": 0.5}, "pools": ["max", "sum"], "k1": 0.9, "path": "a/b"}
    assert got["windows"] == python_values(given["windows"]) and type(got["k1"]) is float
    assert json.loads(json.dumps(got)) == got
    with pytest.raises(ValueError, match=r"^the parameters of scorer 'x' cannot be described in JSON \(Out of "
                                         r"range float values are not JSON compliant"):
        featureset_module._jsonable({"mu": np.float64("nan")}, "the parameters of scorer 'x'")


def test_shipped_feature_sets_load_by_name_and_equal_their_files(index, tmp_path, monkeypatch):
    root = Path(featureset_module.__file__).parent / "data"
    for name, file in (("default", "default_features.toml"), ("small_collections", "small_collections.toml")):
        by_name = FeatureSet.load(name)
        assert by_name.to_dict(index) == FeatureSet.load(root / file).to_dict(index)
    assert FeatureSet.shipped("small_collections").feature_names(index)[:3] == ("first_stage_score", "first_stage_rank",
                                                                         "query_length")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "default").write_text('[[features]]\nscorer = "query_length"\n')  # a file named like a set
    assert len(FeatureSet.load("default").specs) > 1 and FeatureSet.load("./default").specs[0].scorer == "query_length"
    with pytest.raises(ValueError, match=r"shipped one \('default', 'small_collections'\) or a .toml/.json file; "
                                         r"'small' does not exist"):
        FeatureSet.load("small")
    with pytest.raises(ValueError, match=r"no shipped feature set 'small'; shipped: default, small_collections"):
        FeatureSet.shipped("small")


def test_default_feature_set_covers_every_family(index):
    names = FeatureSet.default().feature_names(index)
    for expected in ("first_stage_score", "query_length", "bm25:title", "bm25:all", "tfidf_cosine:body",
                     "lm_dirichlet:all", "lm_jm:all", "tf_var:body", "idf_mean:title", "coverage:all",
                     "min_window:all", "avg_pair_dist:body", "ordered_window:all", "unordered_window:all",
                     "bm25tp:all"):
        assert expected in names

def test_package_exports_are_the_functions_even_after_their_modules_are_imported():
    import features
    import features.extraction  # noqa: F401

    assert callable(features.extract) and features.extract is extract
    assert features.InvertedIndex is InvertedIndex and "extract" in dir(features)


def test_judgments_of_unknown_documents_are_left_out_of_the_labels_not_of_the_qrels_out(tmp_path, caplog):
    """The warning said 'dropped' while --qrels-out kept them (as it should: trec_eval counts a relevant document
    never ranked); it now says where they are left out."""
    from ltr.cli import main

    (tmp_path / "d.tsv").write_text("a\tairbus subsidies\nb\tboeing\n")
    (tmp_path / "q.tsv").write_text("1\tairbus\n")
    (tmp_path / "qr").write_text("1 0 a 1\n1 0 MISSING 1\n")
    with caplog.at_level(logging.WARNING):
        assert main(["features", "--collection", str(tmp_path / "d.tsv"), "--queries", str(tmp_path / "q.tsv"),
                     "--qrels", str(tmp_path / "qr"), "--topk", "2", "--out", str(tmp_path / "x.letor"),
                     "--qrels-out", str(tmp_path / "x.qrels"), "--quiet"]) == 0
    assert "1 row(s) over 1 unknown document id(s) (e.g. 'MISSING'); left out of the labels" in caplog.text
    assert "MISSING" in (tmp_path / "x.qrels").read_text()


def test_columns_follow_the_index_each_call_and_a_non_finite_feature_is_named(index, monkeypatch):
    # the set keeps the last index's column plan; another index (other fields) gets its own, and back again
    fs = FeatureSet(["query_length", {"scorer": "bm25"}])
    body_only = InvertedIndex.build(Collection(DOCS.doc_ids, {"body": list(DOCS.fields["body"])}), Analyzer())
    both = ("query_length", "bm25:title", "bm25:body")
    assert fs.feature_names(index)[:3] == both
    assert fs.feature_names(body_only) == ("query_length", "bm25:body")
    assert fs.feature_names(index)[:3] == both
    cols = fs.columns(body_only)
    cols.clear()  # the caller's list, not the kept plan
    assert len(fs.columns(body_only)) == 2
    pairs = PairSet(body_only, [body_only.query_terms("wing flutter")], np.array([0, 3]),
                    np.array([0, 1, 3], dtype=np.int32))
    X, names, _ = fs.compute(pairs)
    assert names == ("query_length", "bm25:body") and X.shape == (3, 2) and np.isfinite(X).all()
    from features.scorers.bm25 import BM25

    real = BM25.score

    def broken(self, pairs, field):
        out = np.array(real(self, pairs, field), dtype=np.float64)
        out[2] = np.nan
        return out

    monkeypatch.setattr(BM25, "score", broken)
    with pytest.raises(FloatingPointError, match=r"feature 'bm25:body' is nan for pair 2: this is a bug"):
        fs.compute(pairs)
