"""In-memory qrels (a frame or pytrec_eval's and ranx's {qid: {docno: rel}}) follow the qrels file reader's rule:
a grade is an integer, a float only with an integral value (2.0). A fractional one, most often a run passed where
the qrels go, is refused with the query, the document and the value, as pytrec_eval refuses it."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from ltr._shared import import_reference
from ltr.evaluation import compare_runs
from ltr.fusion import fit_weights
from ltr.metrics import evaluate_run, evaluate_run_per_query

pytrec_eval = import_reference("pytrec_eval")

QRELS = {"q1": {"a": 1, "b": 0, "c": 2}, "q2": {"d": 1, "e": 0}}
RUN = {"q1": {"a": 0.3, "b": 2.7, "c": 1.5}, "q2": {"d": 0.25, "e": 0.75}}
METRICS = ["ndcg@10", "map", "p@1"]
TREC = {"ndcg@10": "ndcg_cut_10", "map": "map", "p@1": "P_1"}
FLOAT_RULE = "a float reads as an integer only with an integral value (2.0)"
SWAP_HINT = "; the run's scores are all integers, as grades are: are run and qrels swapped? the qrels come first"


def trec_eval_means(qrels: dict, run: dict) -> dict[str, float]:
    """pytrec_eval's per-query values averaged over queries (trec_eval's ``all`` line)."""
    per_query = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "map", "P.1"}).evaluate(run)
    return {ours: float(np.mean([v[trec] for v in per_query.values()])) for ours, trec in TREC.items()}


def test_run_and_qrels_swapped_is_refused_with_the_first_fractional_grade_and_a_hint():
    message = ("qrels: relevance must be an integer, got 0.3 for query 'q1', document 'a' (5 of 5 grades are "
               f"fractional); {FLOAT_RULE}{SWAP_HINT}")
    with pytest.raises(ValueError) as caught:
        evaluate_run(RUN, QRELS, METRICS)
    assert str(caught.value) == message
    with pytest.raises(ValueError) as caught:
        evaluate_run_per_query(RUN, QRELS, METRICS)
    assert str(caught.value) == message


def test_pytrec_eval_refuses_the_same_swap():
    with pytest.raises(TypeError, match="Expected relevance to be integer"):
        pytrec_eval.RelevanceEvaluator(RUN, {"map"})


def test_the_brief_s_second_reproduction_is_refused_too():
    with pytest.raises(ValueError) as caught:
        evaluate_run({"q1": {"a": 0.5, "b": 1.5}}, {"q1": {"a": 2.0, "b": 1.0}}, ["ndcg@10", "map"])
    assert str(caught.value) == ("qrels: relevance must be an integer, got 0.5 for query 'q1', document 'a' "
                                 f"(2 of 2 grades are fractional); {FLOAT_RULE}{SWAP_HINT}")


def test_one_fractional_grade_in_a_frame_is_named_without_a_count_or_a_hint_beside_fractional_scores():
    # ir_measures' spelling of the columns; the one bad grade is on the third row
    qrels = pd.DataFrame({"query_id": ["1", "1", "2"], "doc_id": ["a", "b", "c"], "relevance": [1.0, 0.0, 2.5]})
    run = pd.DataFrame({"qid": ["1", "1", "2"], "docno": ["a", "b", "c"], "score": [0.5, 0.25, 0.125]})
    with pytest.raises(ValueError) as caught:
        evaluate_run(qrels, run)
    assert str(caught.value) == ("qrels: relevance must be an integer, got 2.5 for query '2', document 'c'; "
                                 f"{FLOAT_RULE}")


def test_a_few_fractional_grades_beside_integer_scores_get_no_swap_hint():
    # 1 of 3 grades fractional: badly made qrels, not a run; integer scores alone do not make it a swap
    with pytest.raises(ValueError) as caught:
        evaluate_run({"q1": {"a": 1, "b": 0.5, "c": 2}}, {"q1": {"a": 3.0, "b": 2.0, "c": 1.0}})
    assert str(caught.value) == ("qrels: relevance must be an integer, got 0.5 for query 'q1', document 'b'; "
                                 f"{FLOAT_RULE}")


def test_a_fractional_grade_as_a_string_is_refused_like_its_number():
    with pytest.raises(ValueError, match=re.escape("got 0.5 for query 'q1', document 'b'; a float")):
        evaluate_run({"q1": {"a": "1", "b": "0.5"}}, RUN)


def test_integral_floats_read_as_the_integers_and_match_trec_eval():
    as_floats = {q: {d: float(g) for d, g in docs.items()} for q, docs in QRELS.items()}
    ours = evaluate_run(as_floats, RUN, METRICS)
    assert ours == evaluate_run(QRELS, RUN, METRICS)
    assert ours == pytest.approx(trec_eval_means(QRELS, RUN), abs=1e-12)
    # by hand: q1 ranks b (0), c (2), a (1); ideal c, a: NDCG = (2/log2 3 + 1/log2 4) / (2 + 1/log2 3)
    ndcg_q1 = (2 / np.log2(3) + 1 / 2) / (2 + 1 / np.log2(3))
    ndcg_q2 = (1 / np.log2(3)) / 1  # ranks e (0), d (1)
    assert ours["ndcg@10"] == pytest.approx((ndcg_q1 + ndcg_q2) / 2, abs=1e-12)
    assert ours["map"] == pytest.approx(((1 / 2 + 2 / 3) / 2 + 1 / 2) / 2, abs=1e-12)
    assert ours["p@1"] == 0.0


@pytest.mark.parametrize("cast", [np.int8, np.int64, np.uint16, np.float32, np.float64, int, float],
                         ids=lambda c: c.__name__)
def test_numpy_and_python_number_types_of_integral_grades_keep_working(cast):
    qrels = {q: {d: cast(g) for d, g in docs.items()} for q, docs in QRELS.items()}
    assert evaluate_run(qrels, RUN, METRICS) == pytest.approx(trec_eval_means(QRELS, RUN), abs=1e-12)


def test_bool_grades_keep_working_as_0_and_1():
    for cast in (bool, np.bool_):
        qrels = {"q1": {"a": cast(True), "b": cast(False), "c": cast(True)}}
        expected = trec_eval_means({"q1": {"a": 1, "b": 0, "c": 1}}, {"q1": RUN["q1"]})
        assert evaluate_run(qrels, {"q1": RUN["q1"]}, METRICS) == pytest.approx(expected, abs=1e-12)


def test_integer_and_bool_frame_columns_and_nullable_integers_keep_working():
    rows = [("q1", "a", 1), ("q1", "b", 0), ("q1", "c", 2), ("q2", "d", 1), ("q2", "e", 0)]
    expected = trec_eval_means(QRELS, RUN)
    for dtype in ("int64", "int32", "Int64", "float64"):
        frame = pd.DataFrame(rows, columns=["qid", "docno", "rel"]).astype({"rel": dtype})
        assert evaluate_run(frame, RUN, METRICS) == pytest.approx(expected, abs=1e-12), dtype


def test_compare_runs_and_fit_weights_refuse_a_fractional_frame_too():
    qrels = pd.DataFrame({"qid": ["1", "1", "2", "2"], "docno": ["a", "b", "c", "d"], "rel": [1, 0, 0.5, 1]})
    r1 = pd.DataFrame({"qid": ["1", "1", "2", "2"], "docno": ["b", "a", "c", "d"], "score": [2.5, 1.5, 1.5, 0.5]})
    r2 = r1.assign(score=[0.5, 1.5, 0.5, 1.5])
    message = re.escape(f"qrels: relevance must be an integer, got 0.5 for query '2', document 'c'; {FLOAT_RULE}")
    with pytest.raises(ValueError, match=f"^{message}$"):
        compare_runs({"r1": r1, "r2": r2}, qrels, metrics=["map"])
    with pytest.raises(ValueError, match=f"^{message}$"):
        fit_weights([r1, r2], qrels, n_splits=2, step=0.5)


def test_a_large_frame_of_integral_float_grades_is_checked_in_one_pass_and_matches_its_integer_twin():
    rng = np.random.default_rng(0)
    n = 200_000
    qids = np.repeat(np.arange(n // 100).astype(str), 100)
    docs = np.arange(n).astype(str)
    grades = rng.integers(0, 4, n)
    run = pd.DataFrame({"qid": qids, "docno": docs, "score": rng.random(n)})
    as_int = evaluate_run(pd.DataFrame({"qid": qids, "docno": docs, "rel": grades}), run, ["ndcg@10"])
    as_float = evaluate_run(pd.DataFrame({"qid": qids, "docno": docs, "rel": grades.astype(float)}), run, ["ndcg@10"])
    assert as_float == as_int
    broken = grades.astype(float)
    broken[-1] = 1.25
    with pytest.raises(ValueError, match=re.escape(f"got 1.25 for query '1999', document '199999'; {FLOAT_RULE}")):
        evaluate_run(pd.DataFrame({"qid": qids, "docno": docs, "rel": broken}), run, ["ndcg@10"])
