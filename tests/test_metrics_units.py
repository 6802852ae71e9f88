"""Hand-computed values of every metric on 1-5 item lists, the conventions, the name parser and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltr.exceptions import GroupError
from ltr.metrics import (
    REGISTRY,
    average_precision,
    dcg,
    err,
    evaluate,
    evaluate_per_query,
    ndcg,
    parse_metric,
    parse_metrics,
    precision,
    recall,
    reciprocal_rank,
)
from ltr.metrics import _kernels as K
from ltr.metrics.conventions import discount_table

L3 = math.log2(3)
L4 = 2.0  # log2(4)
L5 = math.log2(5)


# ---------------------------------------------------------------- hand-computed values


def test_ndcg_with_exp2_gain_on_three_documents():
    # Ranked labels 2, 3, 0; ideal 3, 2, 0.
    expected = (3 + 7 / L3) / (7 + 3 / L3)
    assert ndcg([3, 2, 0], [0.2, 0.9, 0.1], [0, 3]) == pytest.approx([expected], abs=1e-15)


def test_ndcg_with_linear_gain_on_four_documents_and_a_cutoff():
    # Labels by score: 0, 2, 1, 3. DCG@3 = 0 + 2/log2(3) + 1/2; IDCG@3 = 3 + 2/log2(3) + 1/2.
    y, s = [1, 3, 0, 2], [0.5, 0.1, 0.9, 0.7]
    expected = (2 / L3 + 1 / L4) / (3 + 2 / L3 + 1 / L4)
    assert ndcg(y, s, [0, 4], k=3, gain="linear") == pytest.approx([expected], abs=1e-15)


def test_ndcg_cutoff_one_is_gain_of_top_over_best_gain():
    assert ndcg([1, 2, 0], [0.9, 0.1, 0.5], [0, 3], k=1) == pytest.approx([(2**1 - 1) / (2**2 - 1)])


def test_a_cutoff_longer_than_the_list_equals_the_whole_list():
    y, s = [1, 3, 0, 2], [0.5, 0.1, 0.9, 0.7]
    for fn in (ndcg, dcg, average_precision, reciprocal_rank, recall, err):
        assert fn(y, s, [0, 4], k=50) == pytest.approx(fn(y, s, [0, 4]), abs=0), fn.__name__


def test_dcg_is_unnormalized_and_zero_without_gain():
    assert dcg([3, 2, 0], [0.2, 0.9, 0.1], [0, 3], k=2) == pytest.approx([3 + 7 / L3])
    assert dcg([0, 0], [1.0, 2.0], [0, 2]).tolist() == [0.0]


def test_average_precision_on_five_documents():
    # Ranked labels: 1, 0, 1, 0, 1 -> (1/1 + 2/3 + 3/5) / 3.
    y, s = [1, 1, 0, 1, 0], [5, 3, 4, 1, 2]
    assert average_precision(y, s, [0, 5]) == pytest.approx([(1 + 2 / 3 + 3 / 5) / 3])


def test_average_precision_at_k_divides_by_all_relevant_documents():
    # Same ranking, cut at 3: (1/1 + 2/3) / 3, as trec_eval's map_cut_3.
    y, s = [1, 1, 0, 1, 0], [5, 3, 4, 1, 2]
    assert average_precision(y, s, [0, 5], k=3) == pytest.approx([(1 + 2 / 3) / 3])


def test_reciprocal_rank_with_and_without_cutoff():
    y, s = [0, 0, 1, 0], [4, 3, 2, 1]
    assert reciprocal_rank(y, s, [0, 4]).tolist() == [1 / 3]
    assert reciprocal_rank(y, s, [0, 4], k=2).tolist() == [0.0]


def test_precision_divides_by_k_even_past_the_end_of_the_list():
    y, s = [1, 0, 1], [3, 2, 1]
    assert precision(y, s, [0, 3], k=2).tolist() == [1 / 2]
    assert precision(y, s, [0, 3], k=5).tolist() == [2 / 5]


def test_recall_at_k():
    y, s = [1, 0, 1, 1], [4, 3, 2, 1]
    assert recall(y, s, [0, 4], k=2).tolist() == [1 / 3]
    assert recall(y, s, [0, 4]).tolist() == [1.0]


def test_err_by_the_cascade_formula():
    # Ranked labels 4, 0, 2, 1 on the 0-4 scale: R = 15/16, 0, 3/16, 1/16.
    y, s = [2, 4, 1, 0], [0.3, 0.9, 0.1, 0.5]
    r = [15 / 16, 0.0, 3 / 16, 1 / 16]
    expected = r[0] + (1 - r[0]) * r[1] / 2 + (1 - r[0]) * (1 - r[1]) * r[2] / 3
    expected += (1 - r[0]) * (1 - r[1]) * (1 - r[2]) * r[3] / 4
    assert err(y, s, [0, 4]) == pytest.approx([expected], abs=1e-15)
    assert err(y, s, [0, 4], k=1) == pytest.approx([15 / 16])


def test_err_max_grade_sets_the_stopping_probability():
    # With max_grade=2 a label 2 stops the user with probability 3/4.
    assert err([2, 0], [1.0, 0.0], [0, 2], max_grade=2).tolist() == [3 / 4]


def test_relevance_threshold_sets_which_labels_count_for_binary_metrics():
    y, s = [1, 2, 0], [3, 2, 1]
    assert reciprocal_rank(y, s, [0, 3], rel_threshold=2).tolist() == [1 / 2]
    assert average_precision(y, s, [0, 3], rel_threshold=2).tolist() == [1 / 2]
    assert precision(y, s, [0, 3], k=1, rel_threshold=2).tolist() == [0.0]


def test_negative_labels_have_no_gain_and_are_not_relevant():
    # trec_eval treats negative judgments as non-relevant, with no gain (ranked labels -1, 1).
    assert ndcg([1, -1], [0.0, 1.0], [0, 2], gain="linear").tolist() == [1 / L3]
    assert average_precision([1, -1], [0.0, 1.0], [0, 2]).tolist() == [1 / 2]


# ---------------------------------------------------------------- several queries, group specs


def test_each_query_is_scored_on_its_own_slice():
    y = [1, 0, 0, 1, 0]
    s = [0.1, 0.9, 0.5, 0.4, 0.3]
    out = evaluate_per_query(y, s, group=[2, 3], metrics=["mrr", "p@1"])
    assert out["mrr"].tolist() == [1 / 2, 1 / 2]
    assert out["p@1"].tolist() == [0.0, 0.0]


def test_group_ptr_qid_and_group_give_the_same_result():
    y = [1, 0, 0, 1, 0]
    s = [0.1, 0.9, 0.5, 0.4, 0.3]
    a = evaluate(y, s, group_ptr=[0, 2, 5], metrics="ndcg@2")
    b = evaluate(y, s, qid=[7, 7, 3, 3, 3], metrics="ndcg@2")
    c = evaluate(y, s, group=[2, 3], metrics="ndcg@2")
    assert a == b == c


def test_exactly_one_query_specification_is_required():
    with pytest.raises(ValueError, match="exactly one of group_ptr"):
        evaluate([1, 0], [1, 0])
    with pytest.raises(ValueError, match="exactly one of group_ptr"):
        evaluate([1, 0], [1, 0], group=[2], qid=[1, 1])


def test_non_contiguous_query_ids_are_refused_with_a_fix_the_caller_can_apply():
    # evaluate, Ranker.fit/predict/score and run_from_scores take no sort=: the fix is to sort the arrays
    with pytest.raises(GroupError, match="not contiguous") as e:
        evaluate([1, 0, 1], [1, 0, 1], qid=[1, 2, 1])
    assert "sort=True" not in str(e.value) and "np.argsort(qid, kind='stable')" in str(e.value)
    qid, labels, scores = np.array([1, 2, 1]), np.array([1.0, 0.0, 1.0]), np.array([1.0, 0.0, 2.0])
    order = np.argsort(qid, kind="stable")  # the fix, as the message writes it
    assert evaluate(labels[order], scores[order], qid=qid[order], metrics=["map"])["map"] == (1.0 + 0.0) / 2
    from ltr import Ranker
    from ltr.io import run_from_scores

    with pytest.raises(GroupError, match="np.argsort"):
        Ranker().fit(np.zeros((3, 2)), labels, qid=qid)
    with pytest.raises(GroupError, match="list each query's rows together"):
        run_from_scores(qid, ["a", "b", "c"], scores)


def test_group_ptr_must_cover_the_rows():
    with pytest.raises(GroupError, match="ends at 2"):
        evaluate([1, 0, 1], [1, 0, 1], group_ptr=[0, 2])


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="y_true has 2 rows but y_score has 3"):
        evaluate([1, 0], [1, 0, 1], group=[2])


def test_two_dimensional_input_is_refused():
    with pytest.raises(ValueError, match="one-dimensional"):
        evaluate([[1, 0]], [[1, 0]], group=[2])


# ---------------------------------------------------------------- conventions


def test_a_query_without_relevant_documents_scores_no_relevant():
    y, s = [0, 0, 0], [3, 2, 1]
    names = ["ndcg@2", "ndcg", "map", "mrr", "p@2", "recall@2", "err@2"]
    zero = evaluate_per_query(y, s, group=[3], metrics=names)
    one = evaluate_per_query(y, s, group=[3], metrics=names, no_relevant=1.0)
    assert {k: v.tolist() for k, v in zero.items()} == {k: [0.0] for k in names}
    assert {k: v.tolist() for k, v in one.items()} == {k: [1.0] for k in names}
    assert dcg(y, s, [0, 3]).tolist() == [0.0]


def test_no_relevant_nan_leaves_the_query_out_of_the_mean():
    y = [0, 0, 1, 0]
    s = [1, 2, 1, 2]
    per_query = evaluate_per_query(y, s, group=[2, 2], metrics=["mrr"], no_relevant=math.nan)["mrr"]
    assert math.isnan(per_query[0]) and per_query[1] == 1 / 2
    assert evaluate(y, s, group=[2, 2], metrics=["mrr"], no_relevant=math.nan) == {"mrr": 1 / 2}


def test_binary_and_graded_no_relevant_follow_their_own_definition():
    # Label 0.5 has gain but is below the threshold: NDCG is defined, MAP is not.
    out = evaluate_per_query([0.5, 0], [1, 2], group=[2], metrics=["ndcg", "map"], gain="linear", no_relevant=7.0)
    assert out["ndcg"] == pytest.approx([1 / L3])
    assert out["map"].tolist() == [7.0]


def test_stable_ties_keep_the_earlier_row_first():
    # Equal scores: row 0 (label 0) ranks above row 1 (label 1).
    assert reciprocal_rank([0, 1], [1.0, 1.0], [0, 2]).tolist() == [1 / 2]
    assert reciprocal_rank([1, 0], [1.0, 1.0], [0, 2]).tolist() == [1.0]


def test_pessimistic_ties_put_relevant_documents_last_and_optimistic_first():
    y, s = [1, 0, 2], [1.0, 1.0, 1.0]
    assert reciprocal_rank(y, s, [0, 3], ties="pessimistic").tolist() == [1 / 2]
    assert reciprocal_rank(y, s, [0, 3], ties="optimistic").tolist() == [1.0]
    # Pessimistic order is 0, 1, 2 by label: DCG = 0 + 1/log2(3) + 3/2.
    assert dcg(y, s, [0, 3], ties="pessimistic") == pytest.approx([1 / L3 + 3 / 2])
    assert dcg(y, s, [0, 3], ties="optimistic") == pytest.approx([3 + 1 / L3])


def test_pessimistic_ties_only_reorder_equal_scores():
    y, s = [2, 0, 1, 0], [5.0, 1.0, 1.0, 0.0]
    # Top stays label 2; the tie (labels 0 and 1) puts label 0 first; last is the label 0 scored 0.
    assert dcg(y, s, [0, 4], gain="linear", ties="pessimistic") == pytest.approx([2 + 0 + 1 / L4 + 0])
    assert dcg(y, s, [0, 4], gain="linear", ties="optimistic") == pytest.approx([2 + 1 / L3])


def test_partial_ranking_ties_follow_the_same_rules():
    # 12 documents, k=2: the partial (top-k) path is used. Scores all equal.
    y = np.array([0] * 10 + [1, 1], dtype=float)
    s = np.zeros(12)
    assert precision(y, s, [0, 12], k=2).tolist() == [0.0]  # stable: the first two rows
    assert precision(y, s, [0, 12], k=2, ties="optimistic").tolist() == [1.0]
    assert precision(y[::-1], s, [0, 12], k=2, ties="pessimistic").tolist() == [0.0]


def test_minus_infinity_scores_rank_last_and_plus_infinity_first():
    y, s = [1, 0, 0], [-np.inf, 0.0, np.inf]
    assert reciprocal_rank(y, s, [0, 3]).tolist() == [1 / 3]
    assert reciprocal_rank([0, 1, 0], [-np.inf, -np.inf, -np.inf], [0, 3]).tolist() == [1 / 2]


def test_nan_scores_are_an_error_that_names_the_row():
    with pytest.raises(ValueError, match=r"NaN at row 3 \(query index 1\)"):
        evaluate([1, 0, 1, 0], [1.0, 0.0, 2.0, math.nan], group=[2, 2])


def test_non_finite_labels_are_an_error():
    with pytest.raises(ValueError, match="y_true must be finite"):
        evaluate([1, math.nan], [1.0, 0.0], group=[2])


def test_labels_above_max_grade_are_an_error_for_err_only():
    with pytest.raises(ValueError, match="max_grade=4"):
        evaluate([5, 0], [1.0, 0.0], group=[2], metrics=["err@10"])
    assert evaluate([5, 0], [1.0, 0.0], group=[2], metrics=["ndcg@10"])["ndcg@10"] == 1.0


def test_single_document_queries():
    out = evaluate_per_query([2, 0], [0.3, 0.1], group=[1, 1], metrics=["ndcg", "map", "mrr", "p@1", "err"],
                             no_relevant=-1.0)
    assert out["ndcg"].tolist() == [1.0, -1.0]
    assert out["map"].tolist() == [1.0, -1.0]
    assert out["mrr"].tolist() == [1.0, -1.0]
    assert out["p@1"].tolist() == [1.0, -1.0]
    assert out["err"].tolist() == [3 / 16, -1.0]


def test_empty_input_gives_empty_arrays_and_nan_means():
    per_query = evaluate_per_query([], [], group_ptr=[0], metrics=["ndcg@10", "map"])
    assert {k: v.shape for k, v in per_query.items()} == {"ndcg@10": (0,), "map": (0,)}
    means = evaluate([], [], qid=[], metrics=["ndcg@10"])
    assert list(means) == ["ndcg@10"] and math.isnan(means["ndcg@10"])


def test_unknown_gain_and_ties_name_the_choices():
    with pytest.raises(ValueError, match=r"gain must be one of \['exp2', 'linear'\]"):
        ndcg([1], [1], [0, 1], gain="log")
    with pytest.raises(ValueError, match=r"ties must be one of \['optimistic', 'pessimistic', 'stable'\]"):
        ndcg([1], [1], [0, 1], ties="average")


def test_k_must_be_an_integer():
    with pytest.raises(TypeError, match="k must be an int"):
        ndcg([1], [1], [0, 1], k=2.5)
    with pytest.raises(ValueError, match="positive"):
        ndcg([1], [1], [0, 1], k=0)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "name, canonical",
    [
        ("ndcg@10", "ndcg@10"), ("nDCG@10", "ndcg@10"), ("ndcg_cut_10", "ndcg@10"), ("ndcg_cut.10", "ndcg@10"),
        ("ndcg", "ndcg"), ("dcg@5", "dcg@5"), ("map", "map"), ("map@100", "map@100"), ("AP@100", "map@100"),
        ("map_cut_100", "map@100"), ("mrr@10", "mrr@10"), ("RR@10", "mrr@10"), ("recip_rank", "mrr"),
        ("p@10", "p@10"), ("P@10", "p@10"), ("P_10", "p@10"), ("precision@10", "p@10"), ("recall@20", "recall@20"),
        ("R@20", "recall@20"), ("recall_20", "recall@20"), ("err@20", "err@20"), ("ERR@20", "err@20"),
        (" map ", "map"),
    ],
)
def test_names_resolve_to_one_canonical_spelling(name, canonical):
    assert parse_metric(name).name == canonical


def test_unknown_names_list_the_registry():
    with pytest.raises(ValueError) as info:
        parse_metric("xyzzy")
    assert str(sorted(REGISTRY)) in str(info.value)
    with pytest.raises(ValueError, match="unknown metric 'ndcg@'"):
        parse_metric("ndcg@")


def test_precision_needs_a_cutoff_and_cutoffs_are_positive():
    with pytest.raises(ValueError, match="needs a cutoff"):
        parse_metric("p")
    with pytest.raises(ValueError, match="positive integer"):
        parse_metric("ndcg@0")
    with pytest.raises(TypeError):
        parse_metric(10)  # type: ignore[arg-type]


def test_results_are_keyed_by_canonical_names_once_in_order():
    assert [m.name for m in parse_metrics(["P@5", "map", "p_5", "ndcg_cut_3"])] == ["p@5", "map", "ndcg@3"]
    out = evaluate([1, 0], [1, 0], group=[2], metrics=["P@1", "precision@1", "recip_rank"])
    assert out == {"p@1": 1.0, "mrr": 1.0}
    with pytest.raises(ValueError, match="empty"):
        parse_metrics([])


def test_every_registry_family_has_a_kernel_code_and_a_unique_name():
    codes = [spec.code for spec in REGISTRY.values() if not spec.count]
    assert sorted(codes) == sorted({K.DCG, K.NDCG, K.AP, K.RR, K.PRECISION, K.RECALL, K.ERR, K.MEAN_NDCG, K.RPREC,
                                    K.BPREF, K.SUCCESS})
    # Counts are computed from the offsets, not by a kernel.
    assert sorted(n for n, spec in REGISTRY.items() if spec.count) == ["num_q", "num_rel", "num_rel_ret", "num_ret"]


# ---------------------------------------------------------------- the kernels' Python twins


def _kernel_args(y, s, ptr, codes, cutoffs, ties=K.TIES_STABLE):
    y = np.asarray(y, dtype=np.float64)
    s = np.asarray(s, dtype=np.float64)
    ptr = np.asarray(ptr, dtype=np.int64)
    out = np.full((len(codes), ptr.size - 1), -9.0)
    return (
        y, s, ptr, y, ptr, np.asarray(codes, dtype=np.int64), np.asarray(cutoffs, dtype=np.int64),
        np.int64(K.GAIN_EXP2), np.int64(ties), 1.0, 0.0, 4.0, discount_table("log2", int(np.diff(ptr).max())), out,
        np.int64(3),
    )


@pytest.mark.parametrize("ties", [K.TIES_STABLE, K.TIES_PESSIMISTIC, K.TIES_OPTIMISTIC])
def test_the_python_twin_of_the_driver_gives_the_same_values(ties):
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 30, size=12)
    ptr = np.concatenate(([0], np.cumsum(sizes)))
    y = rng.integers(0, 5, ptr[-1])
    s = rng.integers(0, 6, ptr[-1]) / 2.0  # many ties
    codes = [K.DCG, K.NDCG, K.AP, K.RR, K.PRECISION, K.RECALL, K.ERR, K.NDCG, K.MEAN_NDCG, K.RPREC, K.BPREF,
             K.SUCCESS]
    cutoffs = [3, 5, 0, 4, 2, 7, 3, 0, 0, 0, 0, 2]
    runs = []
    for fn in (K.evaluate_groups, K.evaluate_groups.py_func):
        args = _kernel_args(y, s, ptr, codes, cutoffs, ties)
        fn(*args)
        runs.append(args[13])
    for fn in (K.evaluate_groups_serial, K.evaluate_groups_serial.py_func):
        args = _kernel_args(y, s, ptr, codes, cutoffs, ties)
        fn(*args[:-1])
        runs.append(args[13])
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0], other)
    assert (runs[0] >= 0).all()


@pytest.mark.parametrize("n, depth", [(1, 1), (7, 7), (40, 3), (40, 40), (100, 10), (100, 90)])
@pytest.mark.parametrize("ties", [K.TIES_STABLE, K.TIES_PESSIMISTIC, K.TIES_OPTIMISTIC])
def test_top_order_and_its_python_twin_match_a_lexsort(n, depth, ties):
    rng = np.random.default_rng(n * 7 + depth)
    s = rng.integers(0, 8, n).astype(float)
    y = rng.integers(0, 3, n).astype(float)
    secondary = {K.TIES_STABLE: np.zeros(n), K.TIES_PESSIMISTIC: y, K.TIES_OPTIMISTIC: -y}[ties]
    expected = np.lexsort((np.arange(n), secondary, -s))[:depth]
    for fn in (K.top_order, K.top_order.py_func):
        bufs = [np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n), np.empty(n)]
        fn(s, y, depth, ties, *bufs)
        assert bufs[0][:depth].tolist() == expected.tolist()


def test_query_metrics_python_twin_matches():
    y = np.array([2.0, 0.0, 1.0, 3.0, 1.0])
    s = np.array([0.1, 0.4, 0.4, 0.2, 0.9])
    codes = np.array([K.NDCG, K.AP, K.ERR], dtype=np.int64)
    cutoffs = np.array([3, 0, 2], dtype=np.int64)
    outs = []
    for fn in (K.query_metrics, K.query_metrics.py_func):
        out = np.zeros((3, 1))
        ints = [np.empty(5, np.int64) for _ in range(4)]
        bufs = [*ints, np.empty(5), np.empty(5), np.empty(5, np.int64), np.empty(5, np.int64)]
        fn(y, s, y, codes, cutoffs, np.int64(0), np.int64(0), 1.0, 0.0, 4.0, discount_table("log2", 5), out, 0, *bufs)
        outs.append(out)
    np.testing.assert_array_equal(outs[0], outs[1])


def test_large_inputs_take_the_parallel_driver_with_the_same_values():
    # 60,000 rows is above the serial cut-off: evaluate() runs the prange driver (when Numba has > 1 thread).
    rng = np.random.default_rng(11)
    sizes = rng.integers(1, 240, size=500)
    ptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    y = rng.integers(0, 5, ptr[-1]).astype(float)
    s = np.round(rng.normal(size=ptr[-1]), 1)
    names = ["ndcg@10", "map", "err@5", "p@3", "ndcg"]
    got = evaluate_per_query(y, s, group_ptr=ptr, metrics=names)
    out = np.empty((len(names), ptr.size - 1))
    codes = np.array([K.NDCG, K.AP, K.ERR, K.PRECISION, K.NDCG], dtype=np.int64)
    cutoffs = np.array([10, 0, 5, 3, 0], dtype=np.int64)
    K.evaluate_groups_serial(y, s, ptr, y, ptr, codes, cutoffs, np.int64(K.GAIN_EXP2), np.int64(K.TIES_STABLE),
                             1.0, 0.0, 4.0, discount_table("log2", int(sizes.max())), out)
    for i, name in enumerate(names):
        np.testing.assert_array_equal(got[name], out[i], err_msg=name)


@pytest.mark.parametrize(
    "n, depth, positive_share, path",
    [
        (120, 10, 0.5, "bounded top-k selection"),  # 4 * depth <= n
        (120, 120, 0.3, "rank counting"),  # few rows matter: m <= 16 * ceil(log2 n)
        (300, 300, 1.0, "merge sort"),  # all 300 rows matter: m > 16 * 9
        (300, 100, 0.9, "merge sort"),
        (5, 5, 0.0, "no row matters"),
    ],
)
@pytest.mark.parametrize("ties", [K.TIES_STABLE, K.TIES_PESSIMISTIC, K.TIES_OPTIMISTIC])
def test_each_ranking_path_returns_the_ranks_of_the_rows_that_matter(n, depth, positive_share, path, ties):
    rng = np.random.default_rng(n + depth)
    labels = np.where(rng.random(n) < positive_share, rng.integers(1, 5, n), 0).astype(float)
    scores = rng.integers(0, n // 3 + 1, n).astype(float)  # ties
    secondary = {K.TIES_STABLE: np.zeros(n), K.TIES_PESSIMISTIC: labels, K.TIES_OPTIMISTIC: -labels}[ties]
    order = np.lexsort((np.arange(n), secondary, -scores))[:depth]
    expected_ranks = [r for r, i in enumerate(order) if labels[i] > 0]
    for fn in (K.ranked_hits, K.ranked_hits.py_func):
        bufs = [np.empty(n, np.int64) for _ in range(4)] + [np.empty(n), np.empty(n)]
        rk, dc = np.empty(n, np.int64), np.empty(n, np.int64)
        c = fn(scores, labels, depth, ties, 1.0, *bufs, rk, dc)
        assert rk[:c].tolist() == expected_ranks, path
        assert dc[:c].tolist() == [int(order[r]) for r in expected_ranks], path


def test_a_read_only_dataset_is_scored_without_a_second_compilation():
    from numba import types

    from ltr.datasets import make_ranking

    ds = make_ranking(n_queries=5, docs_per_query=6, n_features=3, random_state=0)
    assert not ds.y.flags.writeable and not ds.group_ptr.flags.writeable
    scores = ds.X[:, 0].astype(np.float64)
    got = evaluate(ds.y, scores, group_ptr=ds.group_ptr, metrics=["ndcg@3", "map"])
    assert got == evaluate(ds.y.copy(), scores, group=np.diff(ds.group_ptr), metrics=["ndcg@3", "map"])
    for sig in K.evaluate_groups_serial.signatures:
        assert all(t.mutable for t in sig if isinstance(t, types.Array)), sig


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="y_score must be a one-dimensional array of numbers"):
        evaluate([1, 0], ["a", "b"], group=[2])


# ------------------------------------------------------------------------------------------------------------------
# Labels an exponential gain cannot hold (MQ2007/8-list encodes an order in labels up to about 2,000)
# ------------------------------------------------------------------------------------------------------------------
def test_an_exp2_gain_beyond_float64_is_an_error_naming_the_label_row_and_fix():
    from ltr.exceptions import LabelRangeError

    y = np.array([3.0, 0.0, 1500.0, 2.0, 1024.0])
    s = np.array([4.0, 3.0, 2.0, 1.0, 0.5])
    with pytest.raises(LabelRangeError, match=r"label 1500 at row 2 \(query index 1\) is beyond the exp2 gain") as e:
        evaluate(y, s, group_ptr=[0, 2, 5], metrics=["map", "ndcg@10", "dcg@3"])
    assert "of ndcg@10, dcg@3," in str(e.value) and str(e.value).endswith("pass gain='linear' (gain = rel, as "
                                                                         "trec_eval's NDCG)")
    assert e.value.cli_message().endswith("pass --gain linear (gain = rel, as trec_eval's NDCG)")
    # Metrics without a gain, and the linear gain, take such labels.
    assert evaluate(y, s, group_ptr=[0, 2, 5], metrics=["map"])["map"] == pytest.approx(1.0)
    got = evaluate_per_query(y, s, group_ptr=[0, 2, 5], metrics=["ndcg@10"], gain="linear")["ndcg@10"]
    ideal = 1500 + 1024 / L3 + 2 / L4
    assert got.tolist() == pytest.approx([1.0, (1500 + 2 / L3 + 1024 / L4) / ideal])


def test_the_largest_label_float64_holds_is_still_scored_with_the_exp2_gain():
    y = np.array([0.0, 1023.0])  # 2^1023 - 1 is finite
    got = evaluate(y, np.array([2.0, 1.0]), group_ptr=[0, 2], metrics=["ndcg@2"])["ndcg@2"]
    assert got == pytest.approx(1 / L3)


def test_a_run_judged_with_such_labels_and_the_exp2_gain_is_refused():
    import pandas as pd

    from ltr.exceptions import LabelRangeError
    from ltr.metrics import evaluate_run

    qrels = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "rel": [2000, 3]})
    run = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "score": [2.0, 1.0]})
    assert evaluate_run(qrels, run, ["ndcg@10"])["ndcg@10"] == pytest.approx(1.0)  # linear, trec_eval's default
    with pytest.raises(LabelRangeError, match="label 2000 at query 1 document a of the qrels"):  # (was: row 0)
        evaluate_run(qrels, run, ["ndcg@10"], gain="exp2")


def test_err_refuses_a_max_grade_its_gain_cannot_hold():
    from ltr.exceptions import LabelRangeError

    with pytest.raises(LabelRangeError, match=r"max_grade=2000 is beyond ERR's gain"):
        evaluate([1.0, 0.0], [1.0, 0.0], group_ptr=[0, 2], metrics=["err@10"], max_grade=2000)
    with pytest.raises(LabelRangeError, match=r"ERR needs labels <= max_grade=4, got a label 6") as e:
        evaluate([6.0, 0.0], [1.0, 0.0], group_ptr=[0, 2], metrics=["err@10"])
    assert "pass --max-grade G" in e.value.cli_message() and "pass max_grade=" in str(e.value)


def test_a_comma_separated_string_is_the_list_of_its_names():
    y, s = [2, 0, 1, 0, 1], [0.9, 0.8, 0.1, 0.3, 0.7]
    assert evaluate(y, s, group=[3, 2], metrics="ndcg@10,map") == evaluate(y, s, group=[3, 2],
                                                                           metrics=["ndcg@10", "map"])
    assert list(evaluate(y, s, group=[3, 2], metrics=" P@1 , mrr ")) == ["p@1", "mrr"]
    with pytest.raises(ValueError, match="empty name between commas"):
        evaluate(y, s, group=[3, 2], metrics="ndcg@10,,map")


@pytest.mark.parametrize("fn", [ndcg, dcg, average_precision, reciprocal_rank, precision, recall, err])
@pytest.mark.parametrize("k", [0, -1])
def test_a_cutoff_below_one_gets_the_same_message_from_every_function(fn, k):
    with pytest.raises(ValueError, match=rf"k must be a positive integer \(the cutoff\), got {k}"):
        fn([1, 0], [0.5, 0.2], [0, 2], k=k)
    with pytest.raises(ValueError, match=rf"the cutoff must be a positive integer up to 2147483647, got {k}"):
        parse_metric(f"p@{k}")


@pytest.mark.parametrize("fn", [reciprocal_rank, recall, err])
def test_every_single_metric_function_takes_a_convention(fn):
    # A query without relevant documents: 0 by default, and under LightGBM's convention too (its rule of 1 holds
    # for its ndcg and map only); LightGBM's integer labels and LETOR's labels are checked.
    assert fn([0, 0], [0.5, 0.2], [0, 2]).tolist() == [0.0]
    assert fn([0, 0], [0.5, 0.2], [0, 2], convention="lightgbm").tolist() == [0.0]
    with pytest.raises(ValueError, match="the lightgbm convention takes integer labels 0..30"):
        fn([1.5, 0], [0.5, 0.2], [0, 2], convention="lightgbm")
    with pytest.raises(ValueError, match="the LETOR convention takes labels 0, 1 and 2"):
        fn([3, 0], [0.5, 0.2], [0, 2], convention="letor")


def test_query_sizes_passed_as_the_positional_offsets_get_a_hint():
    with pytest.raises(GroupError, match=r"group_ptr must start at 0, got 4; \[4, 3\] adds up to the 7 rows: query "
                                         r"sizes go in group="):
        ndcg([1, 0, 0, 1, 0, 0, 1], [1, 2, 3, 4, 5, 6, 7], [4, 3])
    assert ndcg([1, 0, 0, 1, 0, 0, 1], [1, 2, 3, 4, 5, 6, 7], group=[4, 3]).shape == (2,)
