"""Defects found by the user trials of stop 60 (reports in the session's trial folder), each with the behaviour that
mends it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import Analyzer, Collection, InvertedIndex, extract
from ltr import metrics


@pytest.fixture(scope="module")
def small_index():
    docs = Collection(("d1", "d2", "d3"), {"body": ["wing flow", "plate flow", "wing plate"]})
    return InvertedIndex.build(docs, Analyzer())


# ------------------------------------------------------------------------------------------------------------------
# The feature layer's frames (features)
def test_float_query_ids_in_frames_are_read_as_evaluate_run_reads_them(small_index):
    """A qrels frame whose qid column is float (a NaN upstream, a merge) labelled every candidate 0, with one logged
    warning, where evaluate_run reads the same frame's 1.0 as '1' (MAP 1.0); a float candidates frame matched no
    query at all."""
    queries = {"1": "wing flow"}
    candidates = {"1": ["d1", "d2", "d3"]}
    qrels = pd.DataFrame({"qid": [1.0, 1.0], "docno": ["d1", "d3"], "rel": [1, 2]})
    d = extract(small_index, queries, candidates, [{"scorer": "bm25", "fields": "*"}], qrels=qrels)
    assert d.y.tolist() == [1.0, 0.0, 2.0]
    run = pd.DataFrame({"qid": [1.0, 1.0, 1.0], "docno": ["d1", "d2", "d3"], "score": [3.0, 2.0, 1.0]})
    d = extract(small_index, queries, run, [{"scorer": "bm25", "fields": "*"}], qrels=qrels)
    assert d.y.tolist() == [1.0, 0.0, 2.0]
    assert metrics.evaluate_run(qrels, run, ["map"]) == {"map": pytest.approx(5 / 6)}
    with pytest.raises(ValueError, match=r"^the qid column of qrels holds the float 1.5 at row 1 \(counting from 0\)"):
        extract(small_index, queries, candidates, ["bm25"], qrels=qrels.assign(qid=[1.0, 1.5]))
    with pytest.raises(ValueError, match=r"^the docno column of candidates holds a missing id \(None or NaN\) at "
                                         r"row 2"):
        extract(small_index, queries, run.assign(docno=["d1", "d2", None]), ["bm25"])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_candidate_score_is_refused_naming_the_pair(small_index, bad):
    """A NaN score was 'FloatingPointError ... this is a bug' with a first_stage column, and without one ranked last
    silently (deciding RM3's feedback documents), where a run file's is refused by file and line."""
    run = pd.DataFrame({"qid": ["1"] * 3, "docno": ["d1", "d2", "d3"], "score": [bad, 2.0, 1.0]})
    for features in (["first_stage", "bm25"], ["bm25", {"scorer": "rm3", "fields": "*", "fb_docs": 1}]):
        with pytest.raises(ValueError, match=rf"^candidates: query 1, document d1: score {bad!r} is not a finite "
                                             r"number \(1 such score\(s\)\)"):
            extract(small_index, {"1": "wing flow"}, run, features)


@pytest.mark.parametrize("given", [[("1", "d1"), ("1", "d2")], ("d1", "d2"), "d1"])
def test_candidates_of_another_type_are_a_clear_type_error(small_index, given):
    """A list of (qid, docno) pairs, a tuple or a string failed as "'list' object has no attribute 'items'"."""
    with pytest.raises(TypeError, match=rf"^candidates must be a DataFrame .* or a mapping \{{qid: \[docno, \.\.\.\]\}}"
                                        rf", got {type(given).__name__}"):
        extract(small_index, {"1": "wing flow"}, given, ["bm25"])

