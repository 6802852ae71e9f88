"""Other tools' names: metric names of ranx and trec_eval accepted where their definition is ours (checked per query
against ranx and pytrec_eval on MQ2008), refused with a pointer where it is not, and the engines' own objective
names refused with the toolkit objective that trains them."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import ltr
from ltr._shared import import_reference
from ltr.io import read_letor
from ltr.metrics import REGISTRY, evaluate_run_per_query, parse_metric
from ltr.objectives import NATIVE


@pytest.fixture(scope="module")
def mq2008_run(shared_file):
    """MQ2008 Fold1 test judgments and a run scoring each document by feature 39 (no ties), as frames and dicts."""
    d = read_letor(shared_file("mq2008/Fold1/test.txt.gz"), n_features=46)
    X = d.X.toarray() if hasattr(d.X, "toarray") else np.asarray(d.X)
    score = X[:, 38].astype(np.float64) + 1e-3 * np.random.default_rng(0).random(X.shape[0])
    qid = np.asarray(d.qid).astype(str)
    docno = np.array([f"d{i}" for i in range(qid.size)])
    rel = np.asarray(d.y).astype(int)
    qrels_frame = pd.DataFrame({"qid": qid, "docno": docno, "rel": rel})
    run_frame = pd.DataFrame({"qid": qid, "docno": docno, "score": score})
    qrels, run = {}, {}
    for q, doc, r, s in zip(qid, docno, rel, score):
        qrels.setdefault(q, {})[doc] = int(r)
        run.setdefault(q, {})[doc] = float(s)
    return qrels_frame, run_frame, qrels, run


def ranx_per_query(qrels, run, names):
    ranx = import_reference("ranx")
    r = ranx.Run(run)
    ranx.evaluate(ranx.Qrels(qrels), r, names)
    return r.scores


# ---------------------------------------------------------------- accepted: the same definition


@pytest.mark.parametrize(("name", "canonical"), [
    ("hit_rate@10", "success@10"), ("hit_rate@1", "success@1"), ("r-precision", "rprec"), ("R-Precision", "rprec"),
    ("r_precision", "rprec"), ("set_recall", "recall"), ("Rprec", "rprec"), ("recip_rank", "mrr"),
    ("P_10", "p@10"), ("ndcg_cut_10", "ndcg@10"), ("map_cut_100", "map@100"),
])
def test_other_tools_names_resolve_to_the_same_measure(name, canonical):
    assert parse_metric(name).name == canonical


def test_ranx_names_equal_ranx_per_query_on_mq2008(mq2008_run):
    qrels_frame, run_frame, qrels, run = mq2008_run
    names = ["hit_rate@10", "hit_rate@1", "r-precision"]
    ours = evaluate_run_per_query(qrels_frame, run_frame, names)
    ref = ranx_per_query(qrels, run, names)
    for name, column in zip(names, ["success@10", "success@1", "rprec"]):
        expected = np.array([ref[name][q] for q in ours.index])
        np.testing.assert_allclose(ours[column].to_numpy(), expected, rtol=0, atol=1e-12, err_msg=name)
    assert 0 < ours["success@10"].mean() < 1  # not a degenerate comparison


def test_trec_eval_names_equal_pytrec_eval_per_query_on_mq2008(mq2008_run):
    pytrec_eval = import_reference("pytrec_eval")
    qrels_frame, run_frame, qrels, run = mq2008_run
    names = ["set_recall", "Rprec", "recip_rank", "P_10", "ndcg_cut_10", "map_cut_100"]
    ours = evaluate_run_per_query(qrels_frame, run_frame, names)
    ref = pytrec_eval.RelevanceEvaluator(qrels, {"set_recall", "Rprec", "recip_rank", "P", "ndcg_cut", "map_cut"})
    ref = ref.evaluate(run)
    for name, column in zip(names, ["recall", "rprec", "mrr", "p@10", "ndcg@10", "map@100"]):
        expected = np.array([ref[q][name] for q in ours.index])
        np.testing.assert_allclose(ours[column].to_numpy(), expected, rtol=0, atol=1e-12, err_msg=name)
    assert parse_metric("set_recall").trec_name == "set_recall"


# ---------------------------------------------------------------- refused: another definition or a family


@pytest.mark.parametrize("name", ["ndcg_cut", "map_cut", "NDCG_CUT", "dcg_cut"])
def test_trec_eval_cutoff_families_without_a_cutoff_are_refused_not_computed_whole_list(name):
    with pytest.raises(ValueError, match="needs a cutoff") as e:
        parse_metric(name)
    family = name.lower()
    # trec_eval prints the family at 5 ... 1000 (pytrec_eval: map_cut_5, ..., map_cut_1000), never the whole list.
    assert f"{family}_5" in str(e.value) and f"{family}_1000" in str(e.value) and f"{family}_10'" in str(e.value)


def test_trec_eval_cutoff_family_list_is_trec_eval_s(mq2008_run):
    pytrec_eval = import_reference("pytrec_eval")
    _, _, qrels, run = mq2008_run
    one = next(iter(pytrec_eval.RelevanceEvaluator(qrels, {"map_cut"}).evaluate(run).values()))
    with pytest.raises(ValueError) as e:
        parse_metric("map_cut")
    listed = re.findall(r"map_cut_(\d+)", str(e.value).split("name the ones")[0])
    assert sorted(map(int, listed)) == sorted(int(k.rsplit("_", 1)[1]) for k in one)


def test_set_recall_takes_no_cutoff():
    with pytest.raises(ValueError, match="recall@10"):
        parse_metric("set_recall_10")


@pytest.mark.parametrize(("name", "needle"), [
    ("ndcg_burges@10", "gain='exp2'"), ("dcg_burges@10", "gain='exp2'"), ("hits@10", "'p@k'"),
])
def test_ranx_names_of_another_convention_are_refused_with_what_gives_them(name, needle):
    with pytest.raises(ValueError, match=re.escape(needle)):
        parse_metric(name)


def test_the_refusal_messages_name_what_gives_ranx_s_number(mq2008_run):
    qrels_frame, run_frame, qrels, run = mq2008_run
    ref = ranx_per_query(qrels, run, ["ndcg_burges@10", "dcg_burges@10", "hits@10"])
    exp2 = evaluate_run_per_query(qrels_frame, run_frame, ["ndcg@10", "dcg@10"], gain="exp2")
    p10 = evaluate_run_per_query(qrels_frame, run_frame, ["p@10"])["p@10"]
    for name, ours in [("ndcg_burges@10", exp2["ndcg@10"]), ("dcg_burges@10", exp2["dcg@10"]), ("hits@10", 10 * p10)]:
        expected = np.array([ref[name][q] for q in ours.index])
        np.testing.assert_allclose(ours.to_numpy(), expected, rtol=1e-12, atol=1e-12, err_msg=name)


def test_unknown_names_still_list_the_registry():
    with pytest.raises(ValueError) as e:  # (gm_map and infAP, the examples here before, now say they are not offered)
        parse_metric("xyzzy")
    assert str(e.value).startswith("unknown metric 'xyzzy'") and str(sorted(REGISTRY)) in str(e.value)


# ---------------------------------------------------------------- objectives: the engines' own names


def engine_objective(model) -> str:
    if model.engine == "xgboost":
        return json.loads(model.booster_.save_config())["learner"]["objective"]["name"]
    return model.booster_.params["objective"]


@pytest.mark.parametrize("native_name", sorted({n for t in NATIVE.values() for o, n in t.items() if o != n}))
def test_an_engine_s_objective_name_is_refused_with_the_toolkit_name_that_trains_it(native_name):
    with pytest.raises(ValueError, match=re.escape(f"unknown objective {native_name!r}")) as e:
        ltr.Ranker(objective=native_name).fit(ltr.make_ranking(6, 4, 3, random_state=0))
    suggested = re.findall(r"objective='(\w+)' with engine='(\w+)'", str(e.value))
    assert suggested, str(e.value)
    data = ltr.make_ranking(12, 6, 3, random_state=0)
    binary = (np.asarray(data.y) >= 1).astype(np.float64)  # XGBoost's rank:map takes binary labels only
    for objective, engine in suggested:
        model = ltr.Ranker(objective=objective, engine=engine, n_estimators=2, preset=None, n_jobs=1,
                           random_state=0).fit(data.X, binary, group=np.diff(data.group_ptr))
        assert engine_objective(model) == native_name  # the engine itself says it trained that objective


def test_the_command_line_says_it_too(capsys):
    from ltr.cli import main

    code = main(["train", "nonexistent.txt", "--objective", "rank:pairwise"])
    err = capsys.readouterr().err
    assert code != 0 and "'rank:pairwise'" in err
    assert re.search(r"objective[ =']+ranknet'? with (--)?engine[ =']+xgboost", err), err  # in the CLI's words
