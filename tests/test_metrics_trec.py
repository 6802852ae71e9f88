"""evaluate_run against trec_eval (through pytrec_eval): unretrieved judged documents, unjudged retrieved ones,
queries on one side only, ties broken by docno, and bad frames."""

from __future__ import annotations

import gzip
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from ltr._shared import import_reference
from ltr.metrics import evaluate_run, evaluate_run_per_query

pytrec_eval = import_reference("pytrec_eval")

OURS_TO_TREC = {
    "map": "map", "mrr": "recip_rank", "ndcg": "ndcg", "p@1": "P_1", "p@5": "P_5", "p@10": "P_10",
    "recall@5": "recall_5", "recall@10": "recall_10", "ndcg@3": "ndcg_cut_3", "ndcg@10": "ndcg_cut_10",
    "map@5": "map_cut_5", "recall": None,
}
TREC_MEASURES = {"map", "recip_rank", "ndcg", "P.1,5,10", "recall.5,10", "ndcg_cut.3,10", "map_cut.5",
                 "num_rel", "num_rel_ret"}


def frames_to_dicts(qrels: pd.DataFrame, run: pd.DataFrame):
    q: dict = {}
    for row in qrels.itertuples():
        q.setdefault(str(row.qid), {})[str(row.docno)] = int(row.rel)
    r: dict = {}
    for row in run.itertuples():
        r.setdefault(str(row.qid), {})[str(row.docno)] = float(row.score)
    return q, r


def assert_matches_trec_eval(qrels: pd.DataFrame, run: pd.DataFrame, min_queries: int = 1) -> pd.DataFrame:
    q, r = frames_to_dicts(qrels, run)
    ref = pytrec_eval.RelevanceEvaluator(q, TREC_MEASURES).evaluate(r)
    ours = evaluate_run_per_query(qrels, run, list(OURS_TO_TREC))
    means = evaluate_run(qrels, run, list(OURS_TO_TREC))
    assert sorted(ours.index) == sorted(ref) and len(ref) >= min_queries
    for metric, trec in OURS_TO_TREC.items():
        if trec is None:  # recall over the whole run = num_rel_ret / num_rel
            expected = np.array([ref[k]["num_rel_ret"] / ref[k]["num_rel"] if ref[k]["num_rel"] else 0.0
                                 for k in ours.index])
        else:
            expected = np.array([ref[k][trec] for k in ours.index])
        np.testing.assert_allclose(ours[metric].to_numpy(), expected, rtol=0, atol=1e-6, err_msg=metric)
        assert means[metric] == pytest.approx(expected.mean(), abs=1e-6), metric
    return ours


def small_case():
    qrels = pd.DataFrame({
        "qid": ["1", "1", "1", "1", "1", "2", "2", "2", "4", "4"],
        "docno": ["a", "b", "c", "z", "neg", "a", "x", "y", "a", "b"],
        "rel": [2, 0, 1, 1, -1, 0, 3, 1, 0, 0],
    })
    run = pd.DataFrame({
        "qid": ["1", "1", "1", "1", "1", "2", "2", "2", "3", "3"],
        "docno": ["a", "b", "c", "neg", "unjudged", "a", "x", "q", "a", "b"],
        "rank": [1, 2, 3, 4, 5, 1, 2, 3, 1, 2],
        "score": [1.0, 1.0, 1.0, 2.0, 0.5, 5.0, 4.0, 4.0, 1.0, 0.0],
        "tag": ["t"] * 10,
    })
    return qrels, run


def test_a_small_run_equals_trec_eval_metric_by_metric():
    qrels, run = small_case()
    ours = assert_matches_trec_eval(qrels, run)
    # Query 3 is only in the run (skipped), query 4 only in the qrels (absent).
    assert ours.index.tolist() == ["1", "2"]


def test_the_small_run_by_hand():
    qrels, run = small_case()
    ours = evaluate_run_per_query(qrels, run, ["map", "recall", "ndcg@3", "mrr"])
    # Query 1 in trec_eval's order: neg (2.0), then the ties c, b, a (docno descending), then "unjudged".
    # Relevant: a, c, z (z not retrieved): AP = (1/2 + 2/4) / 3, recall = 2/3, RR = 1/2.
    assert ours.loc["1", "map"] == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert ours.loc["1", "recall"] == pytest.approx(2 / 3)
    assert ours.loc["1", "mrr"] == pytest.approx(1 / 2)
    # Linear gains ranked: 0 (neg), 1 (c), 0 (b); ideal 2, 1, 1 with z unretrieved.
    assert ours.loc["1", "ndcg@3"] == pytest.approx((1 / math.log2(3)) / (2 + 1 / math.log2(3) + 1 / 2))
    # Query 2: a (score 5, rel 0), then the tie x, q broken by docno descending (x, rel 3, first); y unretrieved.
    assert ours.loc["2", "map"] == pytest.approx((1 / 2) / 2)


def test_the_rank_column_is_ignored_as_by_trec_eval():
    qrels, run = small_case()
    shuffled = run.assign(rank=run["rank"].to_numpy()[::-1]).sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(evaluate_run_per_query(qrels, run, ["map", "ndcg@3"]),
                                  evaluate_run_per_query(qrels, shuffled, ["map", "ndcg@3"]))


def test_exp2_gain_and_no_relevant_are_available_on_runs():
    qrels = pd.DataFrame({"qid": ["1", "1", "2"], "docno": ["a", "b", "c"], "rel": [2, 1, 0]})
    run = pd.DataFrame({"qid": ["1", "1", "2"], "docno": ["a", "b", "c"], "score": [0.0, 1.0, 1.0]})
    ours = evaluate_run_per_query(qrels, run, ["ndcg"], gain="exp2", no_relevant=1.0)
    assert ours["ndcg"].tolist() == pytest.approx([(1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3)), 1.0])


def test_integer_query_ids_are_read_as_strings():
    qrels = pd.DataFrame({"qid": [10, 10], "docno": ["a", "b"], "rel": [1, 0]})
    run = pd.DataFrame({"qid": ["10", "10"], "docno": ["a", "b"], "score": [0.0, 1.0]})
    assert evaluate_run(qrels, run, "mrr") == {"mrr": 0.5}


def test_no_judged_query_in_the_run_gives_nan_means():
    qrels = pd.DataFrame({"qid": ["1"], "docno": ["a"], "rel": [1]})
    run = pd.DataFrame({"qid": ["2"], "docno": ["a"], "score": [0.0]})
    assert evaluate_run_per_query(qrels, run, ["map"]).empty
    assert math.isnan(evaluate_run(qrels, run, ["map"])["map"])


def test_bad_frames_are_refused_with_the_reason():
    qrels, run = small_case()
    with pytest.raises(ValueError, match=r"run lacks column\(s\) \['score'\]"):
        evaluate_run(qrels, run.drop(columns="score"))
    with pytest.raises(TypeError, match="qrels must be a pandas DataFrame"):
        evaluate_run({"qid": []}, run)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="run lists document 'a' twice for query '1'"):
        evaluate_run(qrels, pd.concat([run, run.iloc[:1]]))
    with pytest.raises(ValueError, match="qrels lists document 'a' twice"):
        evaluate_run(pd.concat([qrels, qrels.iloc[:1]]), run)
    with pytest.raises(ValueError, match="NaN score for query '1', document 'b'"):
        evaluate_run(qrels, run.assign(score=[1.0, math.nan] + [0.0] * 8))
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate_run(qrels, run, ["xyzzy"])


@pytest.mark.shared
@pytest.mark.parametrize("depth", [5, 20])
def test_truncated_runs_on_mq2008_equal_trec_eval(shared_file, depth):
    # Real judgments (MQ2008 Fold1 test labels) and a run that retrieves only the top `depth` documents of each
    # query by a model-like score, drops some queries and adds one unjudged query.
    from sklearn.datasets import load_svmlight_file

    with gzip.open(shared_file("mq2008/Fold1/test.txt.gz"), "rb") as fh:
        X, y, qid = load_svmlight_file(fh, n_features=46, query_id=True)
    X = X.toarray()
    rng = np.random.default_rng(depth)
    s = np.round(X @ rng.normal(size=46) + 0.1 * rng.normal(size=X.shape[0]), 1)  # ties across docnos
    docno = np.array([f"GX{rng.integers(0, 10**6):06d}-{i}" for i in range(X.shape[0])])
    qrels = pd.DataFrame({"qid": qid.astype(str), "docno": docno, "rel": y.astype(int)})
    run = pd.DataFrame({"qid": qid.astype(str), "docno": docno, "score": s})
    run = run.sort_values(["qid", "score"], ascending=[True, False], kind="stable")
    run = run.groupby("qid", sort=False).head(depth)
    dropped = pd.unique(run["qid"])[::7]
    run = run[~run["qid"].isin(dropped)]
    run = pd.concat([run, pd.DataFrame({"qid": ["999999"] * 2, "docno": ["x", "y"], "score": [1.0, 2.0]})])
    ours = assert_matches_trec_eval(qrels, run, min_queries=100)
    assert "999999" not in ours.index and not set(dropped) & set(ours.index)
    # Unretrieved relevant documents matter: recall is below 1 for some queries.
    assert (ours["recall"] < 1).any()


def test_files_trec_eval_reads_evaluate_as_their_clean_forms_do_in_pytrec_eval(tmp_path):
    """Runs with a rank of ``1.0`` or ``-``, fields after the run tag, '#' and blank lines; qrels with a comment, a
    round number as iteration (TREC-COVID) and ``2.0`` relevance: ltrkit reads them as trec_eval does, so every
    metric equals pytrec_eval's on the clean files (parsed by pytrec_eval's own readers). trec_eval itself (built
    from usnistgov/trec_eval, commit f4253652) prints map 0.5417 and ndcg 0.6503 for each of these files."""
    from ltr.io import read_qrels, read_run

    clean_qrels = "1 0 D1-0 2\n1 0 D1-1 0\n1 0 D1-2 1\n2 0 D2-0 1\n2 0 D2-1 -2\n"
    clean_run = "1 Q0 D1-1 1 2.5 t\n1 Q0 D1-0 2 2.5 t\n1 Q0 D1-2 3 1.0 t\n2 Q0 D2-1 1 3 t\n2 Q0 D2-0 2 1 t\n"
    lines = [line.split() for line in clean_run.splitlines()]
    runs = {
        "rank_float": "".join(f"{q} Q0 {d} 1.0 {s} {t}\n" for q, _, d, _, s, t in lines),
        "rank_dash": "".join(f"{q} Q0 {d} - {s} {t}\n" for q, _, d, _, s, t in lines),
        "extra_fields": clean_run.replace(" t\n", " t extra\n"),
        "comments": "# run by bm25\n\n" + clean_run,
    }
    qrels = {
        "comment": "# judged by NIST\n" + clean_qrels,
        "covid_rounds": "".join(f"{q} {'1' if d.endswith('-0') else '0.5'} {d} {r}\n"
                                for q, _, d, r in map(str.split, clean_qrels.splitlines())),
        "float_rel": clean_qrels.replace(" 2\n", " 2.0\n"),
    }
    ref_q = pytrec_eval.parse_qrel(clean_qrels.splitlines())
    ref_r = pytrec_eval.parse_run(clean_run.splitlines())
    ref = pytrec_eval.RelevanceEvaluator(ref_q, TREC_MEASURES).evaluate(ref_r)
    for qname, qtext in qrels.items():
        (tmp_path / "q").write_text(qtext)
        for rname, rtext in runs.items():
            (tmp_path / "r").write_text(rtext)
            ours = evaluate_run_per_query(read_qrels(tmp_path / "q"), read_run(tmp_path / "r"), list(OURS_TO_TREC))
            assert sorted(ours.index) == sorted(ref) == ["1", "2"], (qname, rname)
            for metric, trec in OURS_TO_TREC.items():
                if trec is not None:
                    expected = [ref[k][trec] for k in ours.index]
                    np.testing.assert_allclose(ours[metric].to_numpy(), expected, atol=1e-12, err_msg=f"{qname} "
                                               f"{rname} {metric}")
            means = evaluate_run(read_qrels(tmp_path / "q"), read_run(tmp_path / "r"), ["map", "ndcg"])
            assert (round(means["map"], 4), round(means["ndcg"], 4)) == (0.5417, 0.6503)


@pytest.mark.shared
def test_pyterrier_ir_measures_and_pytrec_eval_spellings_are_accepted_on_a_real_run(shared_file):
    # MQ2008 Fold1 test's judgments and a real retrieval run: one feature of the LETOR file (feature 25, a BM25
    # score) ranks each query's documents, truncated at 5.
    from sklearn.datasets import load_svmlight_file

    ir_measures = import_reference("ir_measures")
    with gzip.open(shared_file("mq2008/Fold1/test.txt.gz"), "rb") as fh:
        X, y, qid = load_svmlight_file(fh, n_features=46, query_id=True)
    docno = np.array([f"d{i}" for i in range(y.size)])
    score = np.asarray(X[:, 24].todense()).ravel()
    qrels = pd.DataFrame({"qid": qid.astype(str), "docno": docno, "label": y.astype(int)})  # PyTerrier's columns
    run = pd.DataFrame({"qid": qid.astype(str), "docno": docno, "score": score})
    run = run.sort_values(["qid", "score"], ascending=[True, False], kind="stable").groupby("qid").head(5)
    irm_qrels = qrels.rename(columns={"qid": "query_id", "docno": "doc_id", "label": "relevance"})
    irm_run = run.rename(columns={"qid": "query_id", "docno": "doc_id"})
    names = ["ndcg@10", "p@5", "map", "mrr", "recall@5"]
    refs = [ir_measures.nDCG @ 10, ir_measures.P @ 5, ir_measures.AP, ir_measures.RR, ir_measures.R @ 5]
    expected = ir_measures.calc_aggregate(refs, irm_qrels, irm_run)
    ours = evaluate_run(irm_qrels, irm_run, names)
    assert ours == pytest.approx({n: expected[m] for n, m in zip(names, refs)}, rel=0, abs=1e-12)
    assert evaluate_run(qrels, run, names) == ours
    q, r = frames_to_dicts(qrels.rename(columns={"label": "rel"}), run)
    assert evaluate_run(q, r, names) == ours  # pytrec_eval's and ranx's {qid: {docno: value}}
    ref = pytrec_eval.RelevanceEvaluator(q, {"map"}).evaluate(r)
    assert ours["map"] == pytest.approx(np.mean([v["map"] for v in ref.values()]), rel=0, abs=1e-12)


def test_a_frame_without_any_known_spelling_names_the_accepted_ones():
    qrels, run = small_case()
    with pytest.raises(ValueError, match=r"qrels lacks column\(s\) \['rel'\]; .*accepted spellings: qid: 'qid' / "
                                         r"'query_id', docno: 'docno' / 'doc_id' / 'docid', rel: 'rel' / "
                                         r"'relevance' / 'label'"):
        evaluate_run(qrels.rename(columns={"rel": "grade"}), run)
    with pytest.raises(TypeError, match=r"qrels must be a pandas DataFrame or a mapping \{qid: \{docno: rel\}\}"):
        evaluate_run([("1", "a", 1)], run)  # type: ignore[arg-type]


def test_scores_a_c_float_cannot_hold_are_ranked_as_pytrec_eval_ranks_them_and_warned_about():
    """A run scaled by 1e300 (or by 1e-300) is inf (or 0) in every C float, so trec_eval 9.0.x and pytrec_eval tie all
    its documents and rank by docno, where trec_eval 10.0 and ranx keep its order: the values stay pytrec_eval's
    (the reference), and a warning names the count, the first score and why. Scores that fit say nothing."""
    qrels = {"1": {"a": 1, "b": 0, "c": 0}, "2": {"x": 1}}
    q = pd.DataFrame([(qid, d, r) for qid, docs in qrels.items() for d, r in docs.items()],
                     columns=["qid", "docno", "rel"])
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"map"})
    for scale, why in ((1e300, r"beyond float32's range \(inf as a C float\)"),
                       (1e-300, r"nonzero and below float32's smallest \(0 as a C float\)")):
        run = {"1": {"a": 3 * scale, "b": 2 * scale, "c": 1 * scale}, "2": {"x": 1.0}}
        r = pd.DataFrame([(qid, d, s) for qid, docs in run.items() for d, s in docs.items()],
                         columns=["qid", "docno", "score"])
        first = re.escape(repr(3 * scale))
        with pytest.warns(UserWarning, match=rf"^3 score\(s\) of the run are {why}, the first for query '1', "
                                             rf"document 'a' \({first}\): ranked as trec_eval 9.0.x"):
            got = evaluate_run_per_query(q, r, ["map"])["map"].to_dict()
        want = {qid: v["map"] for qid, v in evaluator.evaluate(run).items()}
        assert got == pytest.approx(want, abs=1e-12) and got["1"] == pytest.approx(1 / 3)  # c, b, a by docno
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fits = pd.DataFrame({"qid": ["1"] * 3, "docno": list("abc"), "score": [3e38, 1e-44, 0.0]})
        assert evaluate_run(q, fits, ["map"])["map"] == 1.0


def test_scores_that_are_one_float32_are_tied_as_trec_eval_holds_them():
    """trec_eval keeps a run's scores as C floats (``float sim``): 1.0 and 1.00000001 are one score there, so the
    docno decides (descending), where float64 put b first (RR 1.0 against pytrec_eval's 0.5). Scores beyond float32
    are inf to both. Reference: pytrec_eval on the same run."""
    qrels = {"1": {"a": 0, "b": 2, "c": 0, "d": 1, "e": 0}}
    runs = [{"a": 1.0, "b": 1.00000001, "c": 1.0, "d": 0.5, "e": 0.2},
            {"a": 0.0, "b": 5e-324, "c": 1e-50, "d": 0.0, "e": 0.3},  # subnormal and tiny: 0 in float32
            {"a": 1e300, "b": 1e301, "c": 0.5}]
    measures = {"recip_rank", "ndcg_cut_1", "map", "P_2"}
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, measures)
    q = pd.DataFrame([(qid, d, r) for qid, docs in qrels.items() for d, r in docs.items()],
                     columns=["qid", "docno", "rel"])
    # (the third: 1e300 and 1e301 tie as inf and go by docno, b then a, their own order: nothing to warn about)
    for run, misfits in zip(runs, (None, "below float32's smallest", None)):
        want = evaluator.evaluate({"1": run})["1"]
        r = pd.DataFrame([("1", d, s) for d, s in run.items()], columns=["qid", "docno", "score"])
        with pytest.warns(UserWarning, match=misfits) if misfits else warnings.catch_warnings():
            if not misfits:
                warnings.simplefilter("error")
            got = evaluate_run(q, r, ["mrr", "ndcg@1", "map", "p@2"])
        assert got == pytest.approx({"mrr": want["recip_rank"], "ndcg@1": want["ndcg_cut_1"], "map": want["map"],
                                     "p@2": want["P_2"]}, abs=1e-12), run
    assert evaluate_run(q, pd.DataFrame([("1", d, s) for d, s in runs[0].items()],
                                        columns=["qid", "docno", "score"]), ["mrr"])["mrr"] == 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ties_among_unicode_ids_in_any_line_order_go_as_trec_eval_sorts_them(seed):
    """trec_eval's order (score, then docno descending; ltrkit's from one lexsort of the ids' sorted ranks) on
    tied scores among ids of other scripts, prefixes of one another and of several lengths, the run's lines
    shuffled: bytes of UTF-8 sort as the code points they encode, which is Python's order of the strings."""
    rng = np.random.default_rng(seed)
    alphabet = list("aAzZ09_-.") + ["é", "ß", "Ω", "中", "ÿ", "\u00a0", "ab", "a"]
    q_rows, r_rows = [], []
    for q in ("1", "10", "9", "q\u00e9", "Q"):
        docs = sorted({"".join(rng.choice(alphabet, size=rng.integers(1, 4))) for _ in range(40)})
        for d in docs:
            if rng.random() < 0.6:
                q_rows.append((q, d, int(rng.integers(0, 3))))
            if rng.random() < 0.8:
                r_rows.append((q, d, float(rng.integers(0, 4))))  # four score values: ties everywhere
    qrels = pd.DataFrame(q_rows, columns=["qid", "docno", "rel"])
    run = pd.DataFrame(r_rows, columns=["qid", "docno", "score"]).sample(frac=1.0, random_state=seed)
    assert_matches_trec_eval(qrels, run, min_queries=5)
