"""Agreement with the field's references on real data: LightGBM's ndcg eval, scikit-learn's ndcg_score,
trec_eval (through pytrec_eval) and ir_measures' ERR (the TREC Web track's gdeval.pl).

Files are read with scikit-learn's ``load_svmlight_file`` (independent of the toolkit's own reader). Scores are
model-like: a fixed linear combination of the features plus a little noise, or a LightGBM model's predictions.
"""

from __future__ import annotations

import gzip
import math
import pkgutil
import shutil
import subprocess

import numpy as np
import pytest
from sklearn.datasets import load_svmlight_file

from ltr._shared import import_reference, missing_reference
from ltr.groups import group_ptr_from_qid
from ltr.metrics import evaluate, evaluate_per_query

pytestmark = pytest.mark.shared

FILES = {
    "mq2008_test": ("mq2008/Fold1/test.txt.gz", 46),
    "mq2008_vali": ("mq2008/Fold1/vali.txt.gz", 46),
    "mslr_test": ("mslr_sample/mslr_fold1_test_sample.txt.gz", 136),
    "mslr_vali": ("mslr_sample/mslr_fold1_valid_sample.txt.gz", 136),
}
SETS = ["mq2008_test", "mq2008_vali", "mslr_test"]
KS = (1, 3, 5, 10)


@pytest.fixture(scope="module")
def load(shared_file):
    cache: dict[str, tuple] = {}

    def get(name: str):
        if name not in cache:
            rel, n_features = FILES[name]
            with gzip.open(shared_file(rel), "rb") as fh:
                X, y, qid = load_svmlight_file(fh, n_features=n_features, query_id=True)
            ptr, order = group_ptr_from_qid(qid)
            assert order is None  # LETOR files keep the rows of a query together
            cache[name] = (X.toarray(), y.astype(np.float64), qid, ptr)
        return cache[name]

    return get


def model_scores(X: np.ndarray, seed: int, decimals: int | None = None) -> np.ndarray:
    """A fixed linear model plus noise; rounded to ``decimals`` to create ties on purpose."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=X.shape[1])
    z = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-9)
    s = z @ w / math.sqrt(X.shape[1]) + 0.05 * rng.normal(size=X.shape[0])
    return np.round(s, decimals) if decimals is not None else s


def queries(ptr):
    return list(zip(ptr[:-1].tolist(), ptr[1:].tolist()))


# ---------------------------------------------------------------- LightGBM


@pytest.mark.parametrize("train, valid", [("mq2008_vali", "mq2008_test"), ("mslr_vali", "mslr_test")])
def test_ndcg_equals_lightgbm_ndcg_eval(load, train, valid):
    lgb = import_reference("lightgbm")
    Xt, yt, _, pt = load(train)
    Xv, yv, _, pv = load(valid)
    params = {
        "objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": list(KS), "num_leaves": 7,
        "learning_rate": 0.1, "min_data_in_leaf": 20, "verbose": -1, "num_threads": 1, "seed": 0,
    }
    dtrain = lgb.Dataset(Xt, yt, group=np.diff(pt))
    dvalid = lgb.Dataset(Xv, yv, group=np.diff(pv), reference=dtrain)
    record: dict = {}
    booster = lgb.train(params, dtrain, num_boost_round=4, valid_sets=[dvalid], valid_names=["valid"],
                        callbacks=[lgb.record_evaluation(record)])
    pred = booster.predict(Xv)
    # A few shallow trees leave many equal scores inside a query: the tie rule is exercised, not avoided.
    assert np.unique(pred).size < 0.5 * pred.size
    # LightGBM: exp2 gain (label_gain 2^i - 1), a query without relevant documents counts 1, and its stable sort
    # by score keeps the earlier row first among ties.
    ours = evaluate(yv, pred, group_ptr=pv, metrics=[f"ndcg@{k}" for k in KS], gain="exp2", no_relevant=1.0,
                    ties="stable")
    for k in KS:
        assert ours[f"ndcg@{k}"] == pytest.approx(record["valid"][f"ndcg@{k}"][-1], abs=1e-6), k
    # The comparison can fail: the worst-case tie order or the other no_relevant convention disagree.
    pess = evaluate(yv, pred, group_ptr=pv, metrics=[f"ndcg@{k}" for k in KS], no_relevant=1.0,
                    ties="pessimistic")
    zero = evaluate(yv, pred, group_ptr=pv, metrics=[f"ndcg@{k}" for k in KS], no_relevant=0.0)
    assert any(abs(pess[f"ndcg@{k}"] - record["valid"][f"ndcg@{k}"][-1]) > 1e-3 for k in KS)
    if any((yv[a:b] == 0).all() for a, b in queries(pv)):
        assert all(zero[f"ndcg@{k}"] < ours[f"ndcg@{k}"] - 1e-3 for k in KS)


# ---------------------------------------------------------------- scikit-learn


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("k", [1, 3, 5, 10, None])
def test_ndcg_equals_sklearn_ndcg_score_per_query(load, name, k):
    from sklearn.metrics import ndcg_score

    X, y, _, ptr = load(name)
    s = model_scores(X, seed=1)
    metric = "ndcg" if k is None else f"ndcg@{k}"
    # sklearn: linear gain, 0 for a query without relevant documents; no ties in these scores, so its
    # ignore_ties=True order (descending score) is the only order. It refuses one-document queries.
    ours = evaluate_per_query(y, s, group_ptr=ptr, metrics=[metric], gain="linear", no_relevant=0.0)[metric]
    compared = 0
    for q, (a, b) in enumerate(queries(ptr)):
        if b - a < 2:
            continue
        assert np.unique(s[a:b]).size == b - a
        ref = ndcg_score(y[None, a:b], s[None, a:b], k=k, ignore_ties=True)
        assert ours[q] == pytest.approx(ref, abs=1e-9), q
        compared += 1
    assert compared >= 15


# ---------------------------------------------------------------- trec_eval (pytrec_eval)


def trec_dicts(y, s, ptr, qid):
    """qrels and run dicts; docnos chosen so that trec_eval's tie-break (docno descending) is our row order."""
    qrels: dict = {}
    run: dict = {}
    for a, b in queries(ptr):
        q = str(int(qid[a]))
        names = [f"d{b - a - 1 - i:05d}" for i in range(b - a)]  # earlier row -> larger docno
        qrels[q] = {d: int(y[a + i]) for i, d in enumerate(names)}
        run[q] = {d: float(s[a + i]) for i, d in enumerate(names)}
    return qrels, run


TREC_MEASURES = {"map", "recip_rank", "ndcg", "P.1,3,5,10", "recall.1,3,5,10", "ndcg_cut.1,3,5,10",
                 "map_cut.5,10"}
TREC_NAMES = {  # ours -> trec_eval
    "map": "map", "mrr": "recip_rank", "ndcg": "ndcg", **{f"p@{k}": f"P_{k}" for k in KS},
    **{f"recall@{k}": f"recall_{k}" for k in KS}, **{f"ndcg@{k}": f"ndcg_cut_{k}" for k in KS},
    "map@5": "map_cut_5", "map@10": "map_cut_10",
}


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("decimals", [None, 1])
def test_metrics_equal_trec_eval_per_query_and_in_the_mean(load, name, decimals):
    pytrec_eval = import_reference("pytrec_eval")
    X, y, qid, ptr = load(name)
    s = model_scores(X, seed=2, decimals=decimals)
    if decimals is not None:
        assert np.unique(s).size < 0.2 * s.size  # heavy ties
    qrels, run = trec_dicts(y, s, ptr, qid)
    ref = pytrec_eval.RelevanceEvaluator(qrels, TREC_MEASURES).evaluate(run)
    ours = evaluate_per_query(y, s, group_ptr=ptr, metrics=list(TREC_NAMES), gain="linear", no_relevant=0.0)
    means = evaluate(y, s, group_ptr=ptr, metrics=list(TREC_NAMES), gain="linear", no_relevant=0.0)
    keys = [str(int(qid[a])) for a, _ in queries(ptr)]
    assert sorted(ref) == sorted(keys)
    for metric, trec in TREC_NAMES.items():
        expected = np.array([ref[q][trec] for q in keys])
        np.testing.assert_allclose(ours[metric], expected, rtol=0, atol=1e-6, err_msg=metric)
        assert means[metric] == pytest.approx(expected.mean(), abs=1e-6), metric


# ---------------------------------------------------------------- ir_measures: ERR (gdeval.pl), RR@k, AP@k


def ir_measures_frames(y, s, ptr, qid):
    import ir_measures

    qrels, run = [], []
    for a, b in queries(ptr):
        q = str(int(qid[a]))
        for i in range(b - a):
            d = f"d{b - a - 1 - i:05d}"
            qrels.append(ir_measures.Qrel(q, d, int(y[a + i])))
            run.append(ir_measures.ScoredDoc(q, d, float(s[a + i])))
    return qrels, run


def ir_measures_values(measures, y, s, ptr, qid):
    import ir_measures

    qrels, run = ir_measures_frames(y, s, ptr, qid)
    ref: dict = {}
    for m in ir_measures.iter_calc(measures, qrels, run):
        ref.setdefault(str(m.measure), {})[m.query_id] = m.value
    return ref


@pytest.mark.parametrize("name", SETS)
def test_err_equals_ir_measures_err_with_ties(load, name):
    ir_measures = import_reference("ir_measures")
    if shutil.which("perl") is None:
        missing_reference("ir_measures computes ERR with gdeval.pl, which needs perl")
    X, y, qid, ptr = load(name)
    s = model_scores(X, seed=3, decimals=1)  # ties: gdeval.pl breaks them by docno descending, as trec_eval
    ref = ir_measures_values([ir_measures.ERR @ 5, ir_measures.ERR @ 10, ir_measures.ERR @ 20], y, s, ptr, qid)
    ours = evaluate_per_query(y, s, group_ptr=ptr, metrics=["err@5", "err@10", "err@20"], max_grade=4.0)
    keys = [str(int(qid[a])) for a, _ in queries(ptr)]
    for k in (5, 10, 20):
        got = ref[f"ERR@{k}"]
        # Every judged query is reported: gdeval.pl skips topics without a positive judgment and ir_measures
        # fills them in with 0, which is no_relevant=0.
        assert sorted(got) == sorted(keys)
        # gdeval.pl prints 5 decimals, so 5e-6 is its resolution; the next test runs the same script at full
        # precision.
        expected = np.array([got[q] for q in keys])
        np.testing.assert_allclose(ours[f"err@{k}"], expected, rtol=0, atol=5e-6 + 1e-12, err_msg=f"err@{k}")
        assert np.abs(expected).max() > 0.05


@pytest.mark.parametrize("name", SETS)
def test_rr_ap_p_and_ndcg_at_k_equal_ir_measures(load, name):
    ir_measures = import_reference("ir_measures")
    X, y, qid, ptr = load(name)
    # No ties: ir_measures sends RR@k to its msmarco provider, which orders equal scores differently from
    # trec_eval (the ties are covered by the pytrec_eval and gdeval tests).
    s = model_scores(X, seed=5)
    for a, b in queries(ptr):
        assert np.unique(s[a:b]).size == b - a
    pairs = {"mrr@10": ir_measures.RR @ 10, "mrr": ir_measures.RR, "map@10": ir_measures.AP @ 10,
             "p@5": ir_measures.P @ 5, "ndcg@10": ir_measures.nDCG @ 10, "recall@20": ir_measures.R @ 20}
    ref = ir_measures_values(list(pairs.values()), y, s, ptr, qid)
    ours = evaluate_per_query(y, s, group_ptr=ptr, metrics=list(pairs), gain="linear")
    keys = [str(int(qid[a])) for a, _ in queries(ptr)]
    for metric, measure in pairs.items():
        got = ref[str(measure)]
        expected = np.array([got[q] for q in keys])
        np.testing.assert_allclose(ours[metric], expected, rtol=0, atol=1e-6, err_msg=metric)


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("k", [3, 10, 20])
def test_err_equals_gdeval_at_full_precision(load, name, k, tmp_path):
    # ir_measures ships gdeval.pl and runs it for ERR@k; run that very script with a wider printf to compare
    # beyond its 5 printed decimals.
    if shutil.which("perl") is None:
        missing_reference("gdeval.pl needs perl")
    script = pkgutil.get_data("ir_measures", "bin/gdeval.pl")
    if script is None:
        missing_reference("ir_measures without gdeval.pl")
    text = script.decode()
    assert text.count('"$runid,$topicCurrent,%.5f,%.5f\\n"') == 1
    (tmp_path / "gdeval.pl").write_text(text.replace("%.5f,%.5f", "%.15f,%.15f"))
    X, y, qid, ptr = load(name)
    s = model_scores(X, seed=4, decimals=1)
    with open(tmp_path / "qrels", "w") as fq, open(tmp_path / "run", "w") as fr:
        for a, b in queries(ptr):
            q = str(int(qid[a]))
            for i in range(b - a):
                d = f"d{b - a - 1 - i:05d}"
                fq.write(f"{q} 0 {d} {int(y[a + i])}\n")
                fr.write(f"{q} Q0 {d} {i} {float(s[a + i])!r} run\n")
    out = subprocess.run(["perl", str(tmp_path / "gdeval.pl"), str(tmp_path / "qrels"), str(tmp_path / "run"),
                          str(k)], check=True, capture_output=True, text=True).stdout
    ref = {line.split(",")[1]: float(line.split(",")[3]) for line in out.splitlines()[1:] if line}
    ours = evaluate_per_query(y, s, group_ptr=ptr, metrics=[f"err@{k}"])[f"err@{k}"]
    keys = [str(int(qid[a])) for a, _ in queries(ptr)]
    assert len(ref) >= 10
    for i, q in enumerate(keys):
        if q in ref:
            assert ours[i] == pytest.approx(ref[q], abs=1e-12), q
