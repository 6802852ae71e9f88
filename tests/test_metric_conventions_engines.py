"""``convention="lightgbm"`` and ``convention="ranklib"``: the metrics as LightGBM's evaluation and RankLib's scorers
compute them (trial24_conv findings 1 and 2).

LightGBM is the reference itself: its own ``ndcg@k``/``map@k`` eval values on MQ2008, on the exact scores it
evaluated (captured by a ``feval``), over several rounds (the first ones full of ties) and cutoffs beyond the length
of many queries. RankLib cannot run here, so its scorers are written out below in Python from its Java source
(codelibs/ranklib ``ciir.umass.edu.metric``: PrecisionScorer, APScorer, DCGScorer, NDCGScorer, ERRScorer,
ReciprocalRankScorer; ``utilities.MergeSorter`` for the order) and compared query by query.
"""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest
from sklearn.datasets import load_svmlight_file

from ltr._shared import import_reference
from ltr.cli import main
from ltr.metrics import (
    average_precision,
    describe_conventions,
    err,
    evaluate,
    evaluate_per_query,
    ndcg,
    precision,
    recall,
    reciprocal_rank,
)

MQ_TRAIN = "mq2008/Fold1/vali.txt.gz"
MQ_TEST = "mq2008/Fold1/test.txt.gz"
KS = (1, 3, 5, 8, 10, 20, 50)  # MQ2008 queries have 6 to 119 documents: k = 8..50 is beyond many of them


def _read(path):
    with gzip.open(path, "rb") as fh:
        X, y, qid = load_svmlight_file(fh, n_features=46, query_id=True)
    _, first, counts = np.unique(qid, return_index=True, return_counts=True)
    return X.toarray(), y.astype(np.float64), counts[np.argsort(first)]


@pytest.fixture(scope="module")
def lightgbm_run(shared_file):
    """LightGBM's eval values of each round on MQ2008 Fold1 test, and the scores it evaluated them on."""
    lgb = import_reference("lightgbm")
    Xt, yt, gt = _read(shared_file(MQ_TRAIN))
    Xv, yv, gv = _read(shared_file(MQ_TEST))
    dtrain = lgb.Dataset(Xt, yt, group=gt)
    dvalid = lgb.Dataset(Xv, yv, group=gv, reference=dtrain)
    seen: list[np.ndarray] = []

    def capture(preds, data):
        seen.append(np.array(preds, dtype=np.float64, copy=True))
        return "captured", 0.0, True

    record: dict = {}
    params = {"objective": "lambdarank", "metric": ["ndcg", "map"], "eval_at": list(KS), "num_leaves": 7,
              "min_data_in_leaf": 20, "verbose": -1, "num_threads": 1, "seed": 0}
    lgb.train(params, dtrain, num_boost_round=6, valid_sets=[dvalid], valid_names=["valid"], feval=capture,
              callbacks=[lgb.record_evaluation(record)])
    return yv, gv, seen, record["valid"]


# ---------------------------------------------------------------- LightGBM


@pytest.mark.shared
def test_lightgbm_convention_equals_lightgbms_own_ndcg_and_map_on_mq2008(lightgbm_run):
    y, sizes, rounds, record = lightgbm_run
    assert (sizes < 10).any() and (sizes < 50).sum() > len(sizes) // 2  # k beyond the query is exercised
    ptr = np.concatenate(([0], np.cumsum(sizes)))
    assert any((y[a:b] == 0).all() for a, b in zip(ptr[:-1], ptr[1:]))  # queries without relevant documents too
    # The first round's scores are mostly ties (a few leaves): LightGBM's stable order is what decides them.
    assert np.unique(rounds[0]).size < 0.05 * rounds[0].size
    names = [f"{m}@{k}" for m in ("ndcg", "map") for k in KS]
    for i, scores in enumerate(rounds):
        ours = evaluate(y, scores, group=sizes, metrics=names, convention="lightgbm")
        for name in names:
            assert ours[name] == pytest.approx(record[name][i], rel=0, abs=1e-12), (i, name)
    # The default convention (trec_eval's map_cut_k, no_relevant 0) is a different number: the test can fail.
    plain = evaluate(y, rounds[-1], group=sizes, metrics=["map@10", "ndcg@10"])
    assert plain["map@10"] < record["map@10"][-1] - 0.05 and plain["ndcg@10"] < record["ndcg@10"][-1] - 0.05


@pytest.mark.shared
def test_ltr_evaluate_with_convention_lightgbm_prints_lightgbms_map_at_k(lightgbm_run, shared_file, tmp_path,
                                                                          capsys):
    y, sizes, rounds, record = lightgbm_run
    scores = tmp_path / "lgb.scores"
    np.savetxt(scores, rounds[-1], fmt="%.17g")
    argv = ["evaluate", str(shared_file(MQ_TEST)), "--scores", str(scores), "--convention", "lightgbm",
            "--metrics", "map@1,map@10,ndcg@10", "--format", "json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    for name in ("map@1", "map@10", "ndcg@10"):
        assert out["mean"][name] == pytest.approx(record[name][-1], rel=0, abs=1e-12), name
    assert "map@k divides by min(k, R)" in out["conventions"]
    assert "queries without relevant documents score 1" in out["conventions"]


def test_lightgbm_map_at_k_divides_by_min_k_and_relevant_by_hand():
    # Ranked labels 1, 0, 1, 1 (R = 3). map@2: 1/1 over min(2, 3) = 2; map@3: (1 + 2/3) / 3; whole list as trec.
    y, s = [1, 0, 1, 1], [0.9, 0.8, 0.7, 0.6]
    got = evaluate(y, s, group=[4], metrics=["map@2", "map@3", "map", "map@10"], convention="lightgbm")
    assert got == pytest.approx({"map@2": 1 / 2, "map@3": (1 + 2 / 3) / 3, "map": (1 + 2 / 3 + 3 / 4) / 3,
                                 "map@10": (1 + 2 / 3 + 3 / 4) / 3}, abs=1e-15)
    assert average_precision(y, s, [0, 4], k=2).tolist() == pytest.approx([1 / 3])  # trec_eval's map_cut_2
    # A query without relevant documents scores 1 in LightGBM's ndcg and map, 0 in the metrics LightGBM lacks.
    none = evaluate([0, 0], [1.0, 2.0], group=[2], metrics=["ndcg@1", "map@1", "mrr", "p@1", "recall", "err"],
                    convention="lightgbm")
    assert none == {"ndcg@1": 1.0, "map@1": 1.0, "mrr": 0.0, "p@1": 0.0, "recall": 0.0, "err": 0.0}
    for fn in (reciprocal_rank, recall, err):
        assert fn([0, 0], [1.0, 2.0], [0, 2], convention="lightgbm").tolist() == [0.0]


def test_lightgbm_convention_refuses_what_lightgbm_would_not_do():
    y, s = [1, 0, 2], [0.3, 0.2, 0.1]
    with pytest.raises(ValueError, match=r"convention='lightgbm' fixes gain='exp2'"):
        ndcg(y, s, [0, 3], gain="linear", convention="lightgbm")
    with pytest.raises(ValueError, match=r"fixes no_relevant=1.0 .*got no_relevant=nan"):
        evaluate(y, s, group=[3], no_relevant=math.nan, convention="lightgbm")
    with pytest.raises(ValueError, match="fixes ties='stable'"):
        evaluate(y, s, group=[3], ties="optimistic", convention="lightgbm")
    with pytest.raises(ValueError, match="fixes rel_threshold=1.0"):
        evaluate(y, s, group=[3], rel_threshold=2, convention="lightgbm")
    # LightGBM refuses non-integer, negative and > 30 labels under its default label_gain.
    for bad in (0.5, -1.0, 31.0):
        with pytest.raises(ValueError, match=r"integer labels 0\.\.30"):
            evaluate([bad, 0, 1], s, group=[3], convention="lightgbm")
    # The values LightGBM uses are accepted when written out.
    assert evaluate(y, s, group=[3], no_relevant=1.0, gain="exp2", convention="lightgbm") == evaluate(
        y, s, group=[3], convention="lightgbm")


# ---------------------------------------------------------------- RankLib, written out from its Java source


def _ranklib_order(scores):
    # MergeSorter.sort(scores, false): a merge sort that takes the left element on ties, i.e. stable descending.
    return sorted(range(len(scores)), key=lambda i: -scores[i])


def _rl_precision(rel, k):
    size = len(rel) if (k > len(rel) or k <= 0) else k
    return sum(1 for i in range(size) if rel[i] > 0.0) / size


def _rl_ap(rel):  # APScorer: the whole list, k ignored; rdCount = relevant documents of the list
    ap, count = 0.0, 0
    for i, r in enumerate(rel):
        if r > 0.0:
            count += 1
            ap += count / (i + 1)
    return 0.0 if count == 0 else ap / count


def _rl_gain(r):
    return float((1 << int(r)) - 1)


def _rl_discount(i):
    return 1.0 / (math.log(i + 2) / math.log(2))  # SimpleMath.logBase2


def _rl_dcg(rel, k):
    size = len(rel) if (k > len(rel) or k <= 0) else k
    return sum(_rl_gain(rel[i]) * _rl_discount(i) for i in range(size))


def _rl_ndcg(rel, k):
    size = len(rel) if (k > len(rel) or k <= 0) else k
    ideal = sorted((int(r) for r in rel), reverse=True)
    best = sum(_rl_gain(ideal[i]) * _rl_discount(i) for i in range(size))
    return 0.0 if best <= 0.0 else _rl_dcg(rel, k) / best


def _rl_err(rel, k, gmax=4.0):
    size = len(rel) if (k > len(rel) or k <= 0) else k
    s, p = 0.0, 1.0
    for i in range(1, size + 1):
        big_r = ((1 << int(rel[i - 1])) - 1) / 2.0**gmax
        s += p * big_r / i
        p *= 1.0 - big_r
    return s


def _rl_rr(rel, k):
    size = k if len(rel) > k else len(rel)
    first = next((i + 1 for i in range(size) if rel[i] > 0.0), -1)
    return 0.0 if first == -1 else float(np.float32(1.0) / np.float32(first))  # Java's 1.0f / firstRank


RANKLIB = {
    "p@5": lambda rel: _rl_precision(rel, 5), "p@10": lambda rel: _rl_precision(rel, 10),
    "p@30": lambda rel: _rl_precision(rel, 30), "map": _rl_ap, "map@5": _rl_ap,
    "ndcg@5": lambda rel: _rl_ndcg(rel, 5), "ndcg@10": lambda rel: _rl_ndcg(rel, 10),
    "dcg@10": lambda rel: _rl_dcg(rel, 10), "err@10": lambda rel: _rl_err(rel, 10),
    "mrr@3": lambda rel: _rl_rr(rel, 3), "mrr@10": lambda rel: _rl_rr(rel, 10),
}


def _ranklib_per_query(y, scores, sizes):
    out = {name: [] for name in RANKLIB}
    ptr = np.concatenate(([0], np.cumsum(sizes)))
    for a, b in zip(ptr[:-1], ptr[1:]):
        labels, s = y[a:b].tolist(), scores[a:b].tolist()
        rel = [labels[i] for i in _ranklib_order(s)]
        for name, fn in RANKLIB.items():
            out[name].append(fn(rel))
    return {name: np.array(v) for name, v in out.items()}


def test_ranklib_precision_divides_by_the_documents_looked_at_by_hand():
    # A 6-document query with 2 relevant documents: RankLib's P@10 is 2/6, trec_eval's 2/10.
    y = [0, 1, 0, 0, 1, 0]
    s = [0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    assert precision(y, s, [0, 6], k=10, convention="ranklib").tolist() == [2 / 6]
    assert precision(y, s, [0, 6], k=10).tolist() == [2 / 10]
    assert precision(y, s, [0, 6], k=3, convention="ranklib").tolist() == [1 / 3]
    # MAP ignores k (APScorer): map@1 is the whole list's AP, (1/2 + 2/5) / 2.
    assert average_precision(y, s, [0, 6], k=1, convention="ranklib").tolist() == [(1 / 2 + 2 / 5) / 2]
    # RR is single precision: 1.0f / 3.
    rr = reciprocal_rank([0, 0, 1], [3.0, 2.0, 1.0], [0, 3], k=10, convention="ranklib")
    assert rr.tolist() == [0.3333333432674408] and rr[0] != 1 / 3


@pytest.mark.shared
def test_ranklib_convention_equals_ranklibs_scorers_on_mq2008(shared_file):
    X, y, sizes = _read(shared_file(MQ_TEST))
    rng = np.random.default_rng(3)
    w = rng.normal(size=X.shape[1])
    for decimals in (None, 1):  # rounded scores: many ties, ordered by RankLib's stable merge sort
        scores = X @ w
        scores = np.round(scores, decimals) if decimals is not None else scores
        expected = _ranklib_per_query(y, scores, sizes)
        got = evaluate_per_query(y, scores, group=sizes, metrics=list(RANKLIB), convention="ranklib")
        for name in RANKLIB:
            np.testing.assert_allclose(got[name], expected[name], rtol=0, atol=1e-12, err_msg=name)
    # P@10 is where RankLib and trec_eval part on MQ2008 (many queries shorter than 10).
    assert abs(evaluate(y, scores, group=sizes, metrics="p@10")["p@10"] - expected["p@10"].mean()) > 0.01


def test_ranklib_convention_refuses_contradicting_arguments():
    with pytest.raises(ValueError, match="convention='ranklib' fixes no_relevant=0.0"):
        evaluate([0, 0], [1, 2], group=[2], no_relevant=1.0, convention="ranklib")
    with pytest.raises(ValueError, match=r"integer labels 0\.\.30"):
        evaluate([0.5, 1], [1, 2], group=[2], convention="ranklib")
    # ERR's top grade is RankLib's -gmax: free, 4 by default.
    assert err([3, 0], [2.0, 1.0], [0, 2], max_grade=3, convention="ranklib").tolist() == [7 / 8]


# ---------------------------------------------------------------- the conventions line


def test_the_conventions_line_states_the_denominators_where_they_differ():
    plain = describe_conventions(metrics=["ndcg@10", "p@10", "map@10"])
    assert "p@k divides by k, also for queries shorter than k (trec_eval's P_k; RankLib divides by min(k, n))" in plain
    assert "map@k divides by all R relevant documents of the query (trec_eval's map_cut_k; LightGBM divides by " \
           "min(k, R))" in plain
    # Only when the table has such a metric.
    assert describe_conventions(metrics=["ndcg@10", "map"]) == describe_conventions()
    lgb = describe_conventions(convention="lightgbm")
    assert lgb.startswith("LightGBM's ndcg/map") and "score 1" in lgb and "map@k divides by min(k, R)" in lgb
    rl = describe_conventions(convention="ranklib", metrics=["p@10"])
    assert "p@k divides by min(k, n)" in rl and "map@k" not in rl and "score 0" in rl


def test_lightgbms_score_of_a_query_without_relevant_documents_is_for_its_ndcg_and_map_only():
    """LightGBM scores such a query 1 in ndcg and map, the only ranking metrics it has; the preset's other metrics
    keep the toolkit's 0 (a review found p@k, mrr, recall and err scoring 1 too)."""
    y = np.array([0.0, 0.0, 0.0, 1.0, 0.0, 2.0])  # query 0 has nothing relevant
    s = np.array([0.3, 0.2, 0.1, 0.5, 0.9, 0.1])
    ptr = np.array([0, 3, 6])
    names = ["ndcg@2", "map@2", "p@2", "mrr", "recall@2", "err@2", "rprec"]
    got = evaluate_per_query(y, s, group_ptr=ptr, metrics=names, convention="lightgbm")
    default = evaluate_per_query(y, s, group_ptr=ptr, metrics=names)
    assert got["ndcg@2"][0] == 1.0 and got["map@2"][0] == 1.0
    for name in ("p@2", "mrr", "recall@2", "err@2", "rprec"):
        assert got[name][0] == 0.0 and got[name][1] == default[name][1], name
