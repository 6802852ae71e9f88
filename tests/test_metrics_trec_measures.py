"""trec_eval's measures (bpref, Rprec, success@k, num_q/num_ret/num_rel/num_rel_ret), its -c option, -q style
lines, and canonical result keys: hand-computed cases, then every per-query value against pytrec_eval, exactly,
on a BM25 run over Cranfield (bm25s) and on MQ2008 judgments with unjudged documents in the run."""

from __future__ import annotations

import gzip
import re

import numpy as np
import pandas as pd
import pytest

from ltr._shared import import_reference
from ltr.metrics import (
    aggregate,
    describe_conventions,
    evaluate,
    evaluate_per_query,
    evaluate_run,
    evaluate_run_per_query,
    format_trec_eval,
    metric_labels,
    parse_metric,
)

OURS = ["ndcg", "ndcg@10", "map", "map@100", "mrr", "p@5", "p@10", "recall@100", "recall", "rprec", "bpref",
        "success@1", "success@5", "success@10", "num_q", "num_ret", "num_rel", "num_rel_ret"]
TREC_MEASURES = {"ndcg", "ndcg_cut.10", "map", "map_cut.100", "recip_rank", "P.5,10", "recall.100", "set_recall",
                 "Rprec", "bpref", "success.1,5,10", "num_q", "num_ret", "num_rel", "num_rel_ret"}


def frame(rows, columns):
    return pd.DataFrame(rows, columns=columns)


def bpref_case():
    # Query 1: relevant a, b; judged non-relevant n1, n2, n3; "neg" judged -1 (trec_eval: in the pool, unjudged).
    # Query 2 is judged (one relevant document) but absent from the run.
    qrels = frame([("1", "a", 2), ("1", "b", 1), ("1", "n1", 0), ("1", "n2", 0), ("1", "n3", 0), ("1", "neg", -1),
                   ("2", "x", 1)], ["qid", "docno", "rel"])
    # trec_eval's order: n1 (5), a (4), u (3, not in the qrels), neg (2.5), n2 (2), b (1).
    run = frame([("1", "a", 4.0), ("1", "b", 1.0), ("1", "n1", 5.0), ("1", "n2", 2.0), ("1", "u", 3.0),
                 ("1", "neg", 2.5)], ["qid", "docno", "score"])
    return qrels, run


# ---------------------------------------------------------------- hand-computed


def test_bpref_skips_unjudged_documents_and_counts_judged_non_relevant_ones_above():
    qrels, run = bpref_case()
    got = evaluate_run_per_query(qrels, run, ["bpref"]).loc["1", "bpref"]
    # R = 2, N = 3. a has n1 above: 1 - min(1, 2) / min(2, 3); b has n1, n2 above (u and neg are skipped): 1 - 2/2.
    assert got == (1 - 1 / 2 + 1 - 2 / 2) / 2


def test_r_precision_success_and_counts_by_hand():
    qrels, run = bpref_case()
    got = evaluate_run_per_query(qrels, run, ["Rprec", "success_1", "success_2", "num_ret", "num_rel", "num_rel_ret",
                                              "num_q"]).loc["1"]
    assert got["rprec"] == 1 / 2  # top R = 2: n1, a
    assert (got["success@1"], got["success@2"]) == (0.0, 1.0)
    assert (got["num_ret"], got["num_rel"], got["num_rel_ret"], got["num_q"]) == (6, 2, 2, 1)


def test_r_precision_of_a_run_shorter_than_r_counts_the_holes_as_misses():
    qrels = frame([("1", d, 1) for d in "abc"], ["qid", "docno", "rel"])
    run = frame([("1", "a", 1.0)], ["qid", "docno", "score"])
    assert evaluate_run(qrels, run, "rprec") == {"rprec": 1 / 3}


def test_counts_are_integers_summed_on_the_all_line():
    qrels, run = bpref_case()
    per_query = evaluate_run_per_query(qrels, run, ["num_q", "num_rel", "map"])
    assert per_query["num_rel"].dtype == np.int64 and per_query["map"].dtype == np.float64
    means = evaluate_run(qrels, run, ["num_q", "num_rel", "map"])
    assert means == {"num_q": 1, "num_rel": 2, "map": pytest.approx((1 / 2 + 2 / 6) / 2)}
    assert all(type(means[k]) is int for k in ("num_q", "num_rel"))


def test_complete_averages_over_every_judged_query_the_missing_one_scoring_zero():
    qrels, run = bpref_case()
    names = ["map", "bpref", "success@5", "num_q", "num_ret", "num_rel", "num_rel_ret"]
    without = evaluate_run(qrels, run, names)
    with_c = evaluate_run(qrels, run, names, complete=True)
    assert with_c["num_q"] == 2 and without["num_q"] == 1
    for name in ("map", "bpref", "success@5"):
        assert with_c[name] == without[name] / 2
    assert (with_c["num_ret"], with_c["num_rel"], with_c["num_rel_ret"]) == (6, 3, 2)
    rows = evaluate_run_per_query(qrels, run, names, complete=True)
    assert rows.index.tolist() == ["1", "2"]
    assert rows.loc["2"].tolist() == [0.0, 0.0, 0.0, 1, 0, 1, 0]


def test_bpref_and_counts_on_arrays_treat_every_row_as_judged_and_retrieved():
    # Ranked labels 0, 2, 0, 1: R = 2, N = 2. First relevant has 1 non-relevant above (1 - 1/2), second 2 (1 - 2/2).
    out = evaluate_per_query([2, 0, 1, 0], [0.8, 0.9, 0.1, 0.5], group=[4],
                             metrics=["bpref", "rprec", "success@1", "num_ret", "num_rel", "num_rel_ret", "num_q"])
    assert out["bpref"].tolist() == [(1 - 1 / 2 + 1 - 2 / 2) / 2]
    assert out["rprec"].tolist() == [1 / 2] and out["success@1"].tolist() == [0.0]
    assert [out[k].tolist() for k in ("num_ret", "num_rel", "num_rel_ret", "num_q")] == [[4], [2], [2], [1]]
    assert evaluate([2, 0, 1, 0, 1], [1, 2, 3, 4, 5], group=[3, 2], metrics=["num_rel", "num_ret", "num_q"]) == {
        "num_rel": 3, "num_ret": 5, "num_q": 2}


def test_queries_without_relevant_documents_score_no_relevant_for_the_new_measures():
    out = evaluate_per_query([0, 0], [1.0, 0.0], group=[2], metrics=["bpref", "rprec", "success@1", "mean_ndcg"],
                             no_relevant=1.0)
    assert {k: v.tolist() for k, v in out.items()} == {"bpref": [1.0], "rprec": [1.0], "success@1": [1.0],
                                                        "mean_ndcg": [1.0]}


def test_cutoffs_are_refused_where_trec_eval_has_none_and_required_for_success():
    with pytest.raises(ValueError, match="bpref takes no cutoff"):
        parse_metric("bpref@5")
    with pytest.raises(ValueError, match="num_rel takes no cutoff"):
        parse_metric("num_rel_10")
    with pytest.raises(ValueError, match="needs a cutoff"):
        parse_metric("success")
    with pytest.raises(TypeError, match="complete must be True or False"):
        evaluate_run(*bpref_case(), "map", complete="yes")  # type: ignore[arg-type]


# ---------------------------------------------------------------- canonical keys and labels


@pytest.mark.parametrize("asked, canonical", [
    ("P@5", "p@5"), ("NDCG@10", "ndcg@10"), ("recip_rank", "mrr"), ("ndcg_cut_10", "ndcg@10"), ("rr", "mrr"),
    ("Rprec", "rprec"), ("success_1", "success@1"), ("NumRelRet", "num_rel_ret"), ("MeanNDCG", "mean_ndcg"),
])
def test_every_entry_point_keys_results_by_the_canonical_name(asked, canonical):
    qrels, run = bpref_case()
    assert list(evaluate([1, 0], [0.2, 0.1], group=[2], metrics=[asked])) == [canonical]
    assert list(evaluate_per_query([1, 0], [0.2, 0.1], group=[2], metrics=[asked])) == [canonical]
    assert list(evaluate_run(qrels, run, [asked])) == [canonical]
    assert evaluate_run_per_query(qrels, run, [asked]).columns.tolist() == [canonical]
    assert evaluate_run_per_query(qrels, run, [asked], complete=True).columns.tolist() == [canonical]


def test_metric_labels_pair_the_canonical_name_with_the_spelling_asked_for():
    assert metric_labels(["P@5", "NDCG@10", "p_5", "recip_rank", "Rprec"]) == [
        ("p@5", "P@5"), ("ndcg@10", "NDCG@10"), ("mrr", "recip_rank"), ("rprec", "Rprec")]
    assert [parse_metric(n).trec_name for n in ("ndcg@10", "p@5", "mrr", "recall", "success@1", "err@10")] == [
        "ndcg_cut_10", "P_5", "recip_rank", "set_recall", "success_1", None]


# ---------------------------------------------------------------- -q lines


def test_trec_eval_lines_have_its_layout_and_summary():
    per_query = evaluate_run_per_query(*bpref_case(), ["ndcg@10", "num_q", "num_rel"], complete=True)
    text = format_trec_eval(per_query, run_id="bm25")
    lines = text.splitlines()
    ndcg_1 = per_query.loc["1", "ndcg@10"]
    # trec_eval's own order (te_trec_measures in its measures.c: num_q, num_rel, ..., ndcg_cut), not the order asked
    assert lines[0] == f"{'num_rel':<22}\t1\t2"  # no per-query num_q line, as trec_eval
    assert lines[1] == f"{'ndcg_cut_10':<22}\t1\t{ndcg_1:6.4f}"
    assert lines[2] == f"{'num_rel':<22}\t2\t1"
    assert lines[4:] == [f"{'runid':<22}\tall\tbm25", f"{'num_q':<22}\tall\t2", f"{'num_rel':<22}\tall\t3",
                         f"{'ndcg_cut_10':<22}\tall\t{ndcg_1 / 2:6.4f}"]
    many = evaluate_run_per_query(*bpref_case(), ["ndcg@10", "p@10", "err@10", "p@5", "map", "mrr", "bpref"])
    shown = [ln.split("\t")[0].strip() for ln in format_trec_eval(many, queries=False).splitlines()]
    assert shown == ["map", "bpref", "recip_rank", "P_5", "P_10", "ndcg_cut_10", "err@10"]  # cutoffs ascending
    assert text.endswith("\n")
    summary = format_trec_eval(per_query, queries=False, names="canonical").splitlines()
    assert summary == [f"{'ndcg@10':<22}\tall\t{ndcg_1 / 2:6.4f}", f"{'num_q':<22}\tall\t2",
                       f"{'num_rel':<22}\tall\t3"]


def test_aggregate_sums_counts_and_averages_the_rest():
    assert aggregate({"num_ret": np.array([3, 4]), "p@5": [0.2, 0.4], "ndcg": [np.nan, 0.5]}) == {
        "num_ret": 7, "p@5": pytest.approx(0.3), "ndcg": 0.5}


def test_describe_conventions_says_what_a_table_used():
    assert describe_conventions(source="trec", n_queries=1) == (
        "gain linear (rel); queries without relevant documents score 0; trec_eval order (score, then docno "
        "descending); judged queries missing from the run left out; 1 query averaged")
    assert describe_conventions(no_relevant=float("nan"), ties="pessimistic", rel_threshold=2) == (
        "gain exp2 (2^rel - 1); queries without relevant documents left out of the means; relevant: label >= 2; "
        "equal scores ranked worst first")
    assert describe_conventions(convention="letor", n_queries=156).startswith("LETOR 3.0/4.0 script: gain 2^rel - 1")
    with pytest.raises(ValueError, match="source must be"):
        describe_conventions(source="ranx")


# ---------------------------------------------------------------- pytrec_eval, exactly


def assert_equals_pytrec_eval(qrels: pd.DataFrame, run: pd.DataFrame, level: int, min_queries: int) -> None:
    pytrec_eval = import_reference("pytrec_eval")
    q: dict = {}
    for row in qrels.itertuples():
        q.setdefault(row.qid, {})[row.docno] = int(row.rel)
    r: dict = {}
    for row in run.itertuples():
        r.setdefault(row.qid, {})[row.docno] = float(row.score)
    ref = pytrec_eval.RelevanceEvaluator(q, TREC_MEASURES, relevance_level=level).evaluate(r)
    ours = evaluate_run_per_query(qrels, run, OURS, rel_threshold=level)
    assert ours.index.tolist() == sorted(ref) and len(ref) >= min_queries
    for name in OURS:
        expected = np.array([ref[k][parse_metric(name).trec_name] for k in ours.index])
        # Same operations in the same order as trec_eval: equal to the last bit.
        np.testing.assert_array_equal(ours[name].to_numpy(dtype=np.float64), expected, err_msg=name)
    # -c: every judged query, the missing ones counting 0 in the sums (pytrec_eval has no -c: by hand).
    judged = qrels["qid"].unique()
    complete = evaluate_run(qrels, run, OURS, rel_threshold=level, complete=True)
    for name in OURS:
        trec = parse_metric(name).trec_name
        total = sum(ref[k][trec] for k in ref)
        if name == "num_q":
            assert complete[name] == judged.size
        elif name == "num_rel":
            assert complete[name] == int((qrels["rel"] >= level).sum())
        elif parse_metric(name).spec.count:
            assert complete[name] == int(total)
        else:
            assert complete[name] == pytest.approx(total / judged.size, rel=1e-15, abs=0), name


def smart_records(text: str) -> dict[str, str]:
    records: dict[str, list[str]] = {}
    current = field = None
    for line in text.splitlines():
        if line.startswith(".I "):
            current, field = line[3:].strip(), None
            records[current] = []
        elif len(line) == 2 and line.startswith("."):
            field = line[1]
        elif current is not None and field in ("T", "W"):
            records[current].append(line)
    return {k: " ".join(v) for k, v in records.items()}


@pytest.fixture(scope="module")
def cranfield_bm25(shared_file):
    bm25s = import_reference("bm25s")
    with gzip.open(shared_file("cranfield/cran.all.1400.gz"), "rt") as fh:
        docs = smart_records(fh.read())
    queries = list(smart_records(shared_file("cranfield/cran.qry").read_text()).values())
    ids = list(docs)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([docs[i] for i in ids], show_progress=False), show_progress=False)
    found, scores = retriever.retrieve(bm25s.tokenize(queries, show_progress=False), k=50, show_progress=False,
                                       n_threads=1)
    # Scores rounded to 0.1 so that many ties are broken by docno, as trec_eval does.
    run = pd.DataFrame({
        "qid": np.repeat([str(i + 1) for i in range(len(queries))], 50),  # qrels use the query's position
        "docno": [ids[j] for j in found.ravel()],
        "score": np.round(scores.ravel().astype(np.float64), 1),
    })
    q = pd.read_csv(shared_file("cranfield/cranqrel"), sep=r"\s+", header=None, names=["qid", "docno", "code"],
                    dtype=str)
    code = q["code"].astype(int).to_numpy()
    # Cleverdon's codes 1 (complete answer) .. 4 (minimum interest) as grades 4 .. 1; -1 stays negative, which
    # trec_eval reads as "in the pool but unjudged".
    qrels = pd.DataFrame({"qid": q["qid"], "docno": q["docno"], "rel": np.where(code > 0, 5 - code, code)})
    return qrels, run


@pytest.mark.shared
@pytest.mark.parametrize("level", [1, 2])
def test_a_bm25_run_on_cranfield_equals_pytrec_eval_for_every_measure(cranfield_bm25, level):
    qrels, run = cranfield_bm25
    assert_equals_pytrec_eval(qrels, run, level, min_queries=225)
    # And with a third of the queries missing from a top-20 run.
    short = run.groupby("qid", sort=False).head(20)
    short = short[short["qid"].astype(int) % 3 != 0]
    assert_equals_pytrec_eval(qrels, short, level, min_queries=150)


@pytest.mark.shared
@pytest.mark.parametrize("level", [1, 2])
def test_mq2008_judgments_with_unjudged_documents_in_the_run_equal_pytrec_eval(shared_file, level):
    from sklearn.datasets import load_svmlight_file

    path = shared_file("mq2008/Fold1/test.txt.gz")
    with gzip.open(path, "rb") as fh:
        X, y, qid = load_svmlight_file(fh, n_features=46, query_id=True)
    with gzip.open(path, "rt") as fh:
        docno = [re.search(r"#docid = (\S+)", line).group(1) for line in fh]
    rng = np.random.default_rng(level)
    score = np.round(X.toarray() @ rng.normal(size=46), 1)
    qrels = pd.DataFrame({"qid": qid.astype(str), "docno": docno, "rel": y.astype(int)})
    run = pd.DataFrame({"qid": qid.astype(str), "docno": docno, "score": score})
    run = run.sort_values(["qid", "score"], ascending=[True, False], kind="stable").groupby("qid").head(30)
    # Unjudged documents slipped in near the top (bpref must skip them), and some queries dropped.
    unjudged = run.groupby("qid").head(3).assign(docno=lambda d: "U-" + d["docno"], score=lambda d: d["score"] + 0.05)
    run = pd.concat([run, unjudged])
    run = run[~run["qid"].isin(pd.unique(run["qid"])[::5])]
    assert_equals_pytrec_eval(qrels, run, level, min_queries=120)


def test_a_query_a_mapping_run_lists_without_documents_scores_0_as_pytrec_eval_scores_it():
    """evaluate_run left it out (MAP 1.0 where pytrec_eval gives 0.5: trial t48/pyapi)."""
    pytrec_eval = import_reference("pytrec_eval")
    qrels = {"1": {"a": 1}, "2": {"b": 1, "c": 2}, "3": {"d": 1}}
    run = {"1": {"a": 1.0, "x": 0.5}, "2": {}, "9": {}}  # 9: not judged, skipped as trec_eval skips it
    measures = {"map", "ndcg", "recip_rank", "P_10"}
    ref = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    ours = evaluate_run_per_query(qrels, run, ["map", "ndcg", "mrr", "p@10"])
    assert list(ours.index) == sorted(ref) == ["1", "2"]
    for q in ref:
        assert ours.loc[q].tolist() == [ref[q]["map"], ref[q]["ndcg"], ref[q]["recip_rank"], ref[q]["P_10"]]
    assert evaluate_run(qrels, run, ["map", "num_q"]) == {"map": 0.5, "num_q": 2}
    assert evaluate_run(qrels, run, ["num_q"], complete=True) == {"num_q": 3}


def test_bpref_on_arrays_leaves_rows_labelled_minus_1_out_as_the_run_path_and_trec_eval_do():
    """``ltr evaluate DATA --scores S --unjudged keep``: a -1 row (MQ2008-semi's unjudged) counted as a judged
    non-relevant document above the relevant one, bpref 0 where the same judgments as qrels and a run give 1 in
    evaluate_run and trec_eval (trial t49); the other metrics keep counting it as non-relevant, as trec_eval does."""
    labels, scores = [-1, 1, 0, -1, 2, 0, 0], [0.9, 0.8, 0.1, 0.9, 0.8, 0.7, 0.1]
    out = evaluate_per_query(labels, scores, group=[3, 4], metrics=["bpref", "map", "p@2"])
    qrels = frame([(str(q), f"d{i}", g) for i, (q, g) in enumerate(zip([1, 1, 1, 2, 2, 2, 2], labels))],
                  ["qid", "docno", "rel"])
    run = frame([(str(q), f"d{i}", s) for i, (q, s) in enumerate(zip([1, 1, 1, 2, 2, 2, 2], scores))],
                ["qid", "docno", "score"])
    by_run = evaluate_run_per_query(qrels, run, ["bpref", "map", "P_2"])
    assert out["bpref"].tolist() == by_run["bpref"].tolist() == [1.0, 1.0]
    assert out["map"].tolist() == by_run["map"].tolist() == [0.5, 0.5]
    assert out["p@2"].tolist() == by_run["p@2"].tolist() == [0.5, 0.5]
    assert list(out) == ["bpref", "map", "p@2"]
    # pytrec_eval, an independent implementation, on the same judgments
    pytrec_eval = import_reference("pytrec_eval")
    q = {k: {d: int(g) for d, g in zip(grp["docno"], grp["rel"])} for k, grp in qrels.groupby("qid")}
    r = {k: {d: float(s) for d, s in zip(grp["docno"], grp["score"])} for k, grp in run.groupby("qid")}
    got = pytrec_eval.RelevanceEvaluator(q, {"bpref"}).evaluate(r)
    assert [got[k]["bpref"] for k in ("1", "2")] == [1.0, 1.0]
