"""The LETOR preset (convention="letor"): the official LETOR 3.0/4.0 evaluation script's rules on hand-computed lists
(ties, a 3-document query at k = 10, a query without relevant document), against a literal transcription of the
script's per-query procedure on random lists, and the published "collapse" of NDCG@9/@10 on MQ2008."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest

from ltr._shared import import_reference
from ltr.metrics import average_precision, dcg, evaluate, evaluate_per_query, ndcg, precision
from ltr.metrics.conventions import discount_table

LETOR_NAMES = [f"p@{k}" for k in range(1, 11)] + ["map"] + [f"ndcg@{k}" for k in range(1, 11)] + ["mean_ndcg"]


def L(r: int) -> float:
    """The script's discount divisor at 1-based position r."""
    return 1.0 if r <= 2 else math.log2(r)


# ---------------------------------------------------------------- hand-computed lists


def test_the_discount_leaves_positions_one_and_two_undiscounted_then_divides_by_log2_r():
    assert discount_table("letor", 5).tolist() == [1.0, 1.0, math.log2(3), 2.0, math.log2(5)]
    # Ranked labels 1, 1, 1: DCG = 1 + 1 + 1/log2(3) (the default would be 1 + 1/log2(3) + 1/2).
    assert dcg([1, 1, 1], [3, 2, 1], [0, 3], convention="letor").tolist() == [2 + 1 / math.log2(3)]
    assert dcg([1, 1, 1], [3, 2, 1], [0, 3]).tolist() == [1 + 1 / math.log2(3) + 1 / 2]


def test_ties_keep_file_order_and_gains_are_three_one_zero():
    # Scores tie for the first two rows: file order ranks label 0 first, then label 2, then label 1.
    y, s = [0, 2, 1], [1.0, 1.0, 0.5]
    out = evaluate_per_query(y, s, group=[3], metrics=["ndcg@1", "ndcg@2", "ndcg@3", "mean_ndcg", "map", "p@2"],
                             convention="letor")
    ideal = [3, 3 + 1, 3 + 1 + 0]
    ranked = [0, 0 + 3, 0 + 3 + 1 / L(3)]
    assert out["ndcg@1"].tolist() == [ranked[0] / ideal[0]]
    assert out["ndcg@2"].tolist() == [ranked[1] / ideal[1]]
    assert out["ndcg@3"].tolist() == [pytest.approx(ranked[2] / ideal[2], abs=1e-15)]
    assert out["mean_ndcg"].tolist() == [pytest.approx(sum(r / i for r, i in zip(ranked, ideal)) / 3, abs=1e-15)]
    assert out["map"].tolist() == [pytest.approx((1 / 2 + 2 / 3) / 2, abs=1e-15)]
    assert out["p@2"].tolist() == [1 / 2]


def test_a_three_document_query_scores_zero_at_ndcg_10_but_counts_holes_as_misses_for_p_10():
    y, s = [1, 2, 0], [0.9, 0.5, 0.1]
    out = evaluate_per_query(y, s, group=[3], metrics=["ndcg@3", "ndcg@4", "ndcg@10", "p@10", "map", "mean_ndcg"],
                             convention="letor")
    assert out["ndcg@4"].tolist() == [0.0] and out["ndcg@10"].tolist() == [0.0]
    assert out["ndcg@3"].tolist() == [(1 + 3) / (3 + 1)]
    assert out["p@10"].tolist() == [2 / 10]
    assert out["map"].tolist() == [(1 + 1) / 2]
    assert out["mean_ndcg"].tolist() == [pytest.approx((1 / 3 + 4 / 4 + 4 / 4) / 3, abs=1e-15)]
    # The default convention instead evaluates the whole short list at @10.
    assert evaluate_per_query(y, s, group=[3], metrics="ndcg@10")["ndcg@10"].tolist() == [
        pytest.approx((1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3)), abs=1e-15)]


def test_a_query_without_relevant_documents_scores_zero_everywhere_and_counts_in_the_mean():
    y = [0, 0, 0, 2, 1, 0]
    s = [0.3, 0.2, 0.1, 0.9, 0.8, 0.7]
    per_query = evaluate_per_query(y, s, group=[3, 3], metrics=LETOR_NAMES, convention="letor")
    assert all(v[0] == 0.0 for v in per_query.values())
    means = evaluate(y, s, group=[3, 3], metrics=["ndcg@1", "p@1", "map", "mean_ndcg"], convention="letor")
    assert means == {"ndcg@1": 1 / 2, "p@1": 1 / 2, "map": 1 / 2, "mean_ndcg": 1 / 2}


def test_the_per_metric_functions_take_the_preset():
    y, s = [2, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]  # ranked labels 1, 1, 0, 2
    assert ndcg(y, s, [0, 4], k=5, convention="letor").tolist() == [0.0]
    assert ndcg(y, s, [0, 4], k=4, convention="letor").tolist() == [
        pytest.approx((1 + 1 + 0 + 3 / 2) / (3 + 1 + 1 / L(3)), abs=1e-15)]
    assert precision(y, s, [0, 4], k=6, convention="letor").tolist() == [3 / 6]
    assert average_precision(y, s, [0, 4], convention="letor").tolist() == [
        pytest.approx((1 + 1 + 3 / 4) / 3, abs=1e-15)]


def test_labels_outside_the_scripts_tables_and_contradicting_conventions_are_refused():
    with pytest.raises(ValueError, match=r"labels 0, 1 and 2 only .* got label 3 at row 4 \(query index 1\)") as e:
        evaluate([0, 1, 2, 0, 3], [1, 2, 3, 4, 5], group=[3, 2], convention="letor")
    assert str(e.value).endswith("use the default convention for other scales (convention='default')")
    assert e.value.cli_message().endswith("of the labels; leave --convention letor out for other scales")
    with pytest.raises(ValueError, match="got label 0.5 at row 0"):
        evaluate([0.5, 1], [1, 2], group=[2], convention="letor")
    with pytest.raises(ValueError, match=r"convention='letor' fixes gain='exp2' .*; got gain='linear'"):
        evaluate([0, 1], [1, 2], group=[2], gain="linear", convention="letor")
    with pytest.raises(ValueError, match="fixes no_relevant=0.0"):
        evaluate([0, 1], [1, 2], group=[2], no_relevant=1.0, convention="letor")
    with pytest.raises(ValueError, match="fixes ties='stable'"):
        evaluate([0, 1], [1, 2], group=[2], ties="pessimistic", convention="letor")
    with pytest.raises(ValueError, match=r"convention must be one of \['default', 'letor', 'lightgbm', 'ranklib'\]"):
        evaluate([0, 1], [1, 2], group=[2], convention="LETOR4")


# ---------------------------------------------------------------- the script's procedure, transcribed


def script_reference(labels: list[int], scores: list[float]) -> dict[str, float]:
    """Eval-Score-4.0.pl's per-query steps, written out independently from the toolkit's kernels: stable sort by
    score, table lookups, running DCG with its discount, NDCG only at existing positions, P@k over k."""
    gain = {2: 3, 1: 1, 0: 0}
    rel = {2: 1, 1: 1, 0: 0}
    order = sorted(range(len(labels)), key=lambda i: -scores[i])  # Python's sort is stable
    rates = [labels[i] for i in order]

    def dcg_list(rs: list[int], top: int) -> list[float]:
        out = [float(gain[rs[0]])]
        for pos in range(1, top):
            g = gain[rs[pos]] if pos < len(rs) else 0
            out.append(out[-1] + (g if pos < 2 else g * math.log(2.0) / math.log(pos + 1.0)))
        return out

    n = len(rates)
    dcgs = dcg_list(rates, n)
    best = dcg_list(sorted(rates, key=lambda r: -gain[r]), n)
    ndcgs = [d / b if b != 0 else 0.0 for d, b in zip(dcgs, best)]
    hits, ap, precs = 0, 0.0, []
    for pos, r in enumerate(rates):
        if rel[r]:
            hits += 1
            ap += hits / (pos + 1)
    found = 0
    for pos in range(10):
        found += pos < n and rel[rates[pos]] == 1
        precs.append(found / (pos + 1))
    out = {f"p@{k}": precs[k - 1] for k in range(1, 11)}
    out["map"] = ap / hits if hits else 0.0
    out.update({f"ndcg@{k}": ndcgs[k - 1] if k <= n else 0.0 for k in range(1, 11)})
    out["mean_ndcg"] = sum(ndcgs) / n
    return out


def test_random_lists_with_ties_equal_the_scripts_procedure():
    rng = np.random.default_rng(7)
    sizes = rng.integers(1, 25, size=60)
    y = rng.choice([0, 0, 0, 1, 2], size=sizes.sum())
    s = rng.integers(0, 5, size=sizes.sum()).astype(np.float64)  # coarse scores: many ties
    got = evaluate_per_query(y, s, group=sizes, metrics=LETOR_NAMES, convention="letor")
    ptr = np.concatenate(([0], np.cumsum(sizes)))
    for q in range(sizes.size):
        ref = script_reference(y[ptr[q]:ptr[q + 1]].tolist(), s[ptr[q]:ptr[q + 1]].tolist())
        for name in LETOR_NAMES:
            # log2(r) here, log(2)/log(r) in the script: equal up to the last bit or two.
            assert got[name][q] == pytest.approx(ref[name], rel=0, abs=1e-14), (q, name)


# ---------------------------------------------------------------- MQ2008: the published collapse


@pytest.mark.shared
def test_mq2008_shows_the_published_ndcg_9_and_10_collapse_and_equals_the_procedure(shared_file):
    lgb = import_reference("lightgbm")
    from sklearn.datasets import load_svmlight_file

    def load(rel):
        with gzip.open(shared_file(rel), "rb") as fh:
            X, y, qid = load_svmlight_file(fh, n_features=46, query_id=True)
        sizes = np.diff(np.flatnonzero(np.r_[True, qid[1:] != qid[:-1], True]))
        return X.toarray(), y, sizes

    # A model: LambdaMART trained on S4 (Fold1 vali), scored on S5 (Fold1 test), as a published baseline would be.
    Xt, yt, gt = load("mq2008/Fold1/vali.txt.gz")
    X, y, sizes = load("mq2008/Fold1/test.txt.gz")
    params = {"objective": "lambdarank", "num_leaves": 15, "learning_rate": 0.05, "min_data_in_leaf": 20,
              "verbose": -1, "num_threads": 1, "seed": 0, "deterministic": True}
    scores = lgb.train(params, lgb.Dataset(Xt, yt, group=gt), 100).predict(X)
    letor = evaluate(y, scores, group=sizes, metrics=LETOR_NAMES, convention="letor")
    default = evaluate(y, scores, group=sizes, metrics=["ndcg@8", "ndcg@10"])
    # Published Fold1 test rows (letor4_baselines) are NDCG@8 ~0.44, @9 ~0.21, @10 ~0.22 for every algorithm.
    assert 0.38 < letor["ndcg@8"] < 0.52
    assert 0.17 < letor["ndcg@9"] < 0.27 and 0.17 < letor["ndcg@10"] < 0.27
    assert letor["ndcg@7"] > letor["ndcg@8"] > 1.5 * letor["ndcg@10"]
    # The collapse is the short queries: their share is the drop, and the default convention has none.
    short = (sizes < 10).mean()
    assert 0.4 < short < 0.6
    assert default["ndcg@10"] > 0.45 and abs(default["ndcg@10"] - default["ndcg@8"]) < 0.05
    # Every query equals the script's procedure.
    per_query = evaluate_per_query(y, scores, group=sizes, metrics=LETOR_NAMES, convention="letor")
    ptr = np.concatenate(([0], np.cumsum(sizes)))
    for q in range(sizes.size):
        ref = script_reference(y[ptr[q]:ptr[q + 1]].astype(int).tolist(), scores[ptr[q]:ptr[q + 1]].tolist())
        for name in LETOR_NAMES:
            assert per_query[name][q] == pytest.approx(ref[name], rel=0, abs=1e-14), (q, name)
