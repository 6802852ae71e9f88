"""Defects found by the user trials of stop 58 (reports in the closing note), each with the reference or the
behaviour the toolkit promises elsewhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ltr.metrics as metrics


# ------------------------------------------------------------------------------------------------------------------
# evaluate_run: ids that are no ids (io-metrics)
# ------------------------------------------------------------------------------------------------------------------
def test_a_missing_id_in_the_qrels_or_the_run_is_refused_naming_its_row():
    """A judgment with no docno became the relevant document 'None' (num_rel 2, recall and AP halved), a run row with
    a NaN qid the query 'nan', silently; run_from_scores and the readers refuse missing ids."""
    qrels = pd.DataFrame({"qid": ["1", "1", "1"], "docno": ["a", "b", None], "rel": [1, 0, 1]})
    run = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "score": [2.0, 1.0]})
    with pytest.raises(ValueError, match=r"^the docno column of qrels holds a missing id \(None or NaN\) at row 2 "
                                         r"\(counting from 0\)"):
        metrics.evaluate_run_per_query(qrels, run, ["map"])
    run_nan = pd.DataFrame({"qid": ["1", "1", np.nan], "docno": ["a", "b", "c"], "score": [2.0, 1.0, 3.0]})
    with pytest.raises(ValueError, match=r"^the qid column of run holds a missing id \(None or NaN\) at row 2"):
        metrics.evaluate_run(qrels.iloc[:2], run_nan, ["map"])
    with pytest.raises(ValueError, match=r"^the docno column of run holds a missing id"):
        metrics.evaluate_run({"1": {"a": 1}}, {"1": {float("nan"): 1.0}}, ["map"])
    assert metrics.evaluate_run(qrels.iloc[:2], run, ["map", "recall@10"]) == {"map": 1.0, "recall@10": 1.0}


def test_whole_float_ids_are_read_as_integers_and_other_floats_refused():
    """Float query ids (1.0, a column that held a NaN upstream) read as '1.0' and matched no '1': the mean was NaN
    with no word, where the command line says 'no query in common'. A whole float is its integer, as the column
    held before the NaN made it float; a float in a column of strings and integers too (review of trial t58)."""
    run = pd.DataFrame({"qid": ["1", "2"], "docno": ["a", "c"], "score": [1.0, 1.0]})
    floats = pd.DataFrame({"qid": [1.0, 2.0], "docno": ["a", "c"], "rel": [1, 1]})
    assert metrics.evaluate_run(floats, run, ["map"]) == {"map": 1.0}
    assert metrics.evaluate_run(floats, run.assign(qid=[1.0, 2.0]), ["map"]) == {"map": 1.0}
    mixed = pd.DataFrame({"qid": ["q1", 7, 8.0], "docno": ["a", "c", "d"], "rel": [1, 1, 1]})
    per = metrics.evaluate_run_per_query(mixed, pd.DataFrame({"qid": ["q1", "7", "8"], "docno": ["a", "c", "d"],
                                                              "score": [1.0, 1.0, 1.0]}), ["map"])
    assert per.index.tolist() == ["7", "8", "q1"]  # query 8.0 was dropped silently
    with pytest.raises(ValueError, match=r"^the qid column of run holds the float 2.5 at row 1 \(counting from 0\): "
                                         r"ids are "
                                         r"compared as text"):
        metrics.evaluate_run(floats, pd.DataFrame({"qid": ["1", 2.5], "docno": ["a", "c"], "score": [1.0, 1.0]}),
                             ["map"])


# ------------------------------------------------------------------------------------------------------------------
# The TREC writers write only what their readers read back (io-metrics)
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("frame, said", [
    # int64 wrapped 1e20 to -9223372036854775808, read back as not relevant
    ({"qid": ["1"], "docno": ["a"], "rel": [1e20]}, r"row 0: 1e\+20 is beyond the 64-bit integers that read_qrels"),
    ({"qid": ["1", "1"], "docno": ["a", None], "rel": [1, 1]}, r"column 'docno', row 1: a missing value"),  # TypeError
    ({"qid": ["1", None], "docno": ["a", "b"], "rel": [1, 1]}, r"column 'qid', row 1: a missing value"),
    ({"qid": ["1", "1", "2", "1"], "docno": ["a", "b", "a", "a"], "rel": [1, 1, 0, 2]},  # read_qrels refused it
     r"rows 0 and 3: document 'a' is judged twice for query '1', which read_qrels refuses"),
    ({"qid": ["1"], "docno": ["a"], "rel": [2.5]}, r"row 0: 2.5 is not an integer"),
    # the rows named were of two pairs; a uint64 2**63 was written, which read_qrels refuses
    ({"qid": ["q1", "q2", "q2", "q1"], "docno": ["a", "b", "b", "a"], "rel": [1, 1, 1, 1]},
     r"rows 1 and 2: document 'b' is judged twice for query 'q2'"),
    ({"qid": ["1"], "docno": ["a"], "rel": np.array([2**63], dtype=np.uint64)},
     r"row 0: 9223372036854775808 is beyond the 64-bit integers"),
])
def test_write_qrels_refuses_what_read_qrels_would_not_read_back(tmp_path, frame, said):
    from ltr.io import write_qrels

    path = tmp_path / "q.qrels"
    path.write_text("1 0 z 1\n")
    with pytest.raises(ValueError, match=said):
        write_qrels(path, pd.DataFrame(frame))
    assert path.read_text() == "1 0 z 1\n"  # nothing written


def test_write_qrels_takes_ir_measures_names_and_write_run_refuses_a_missing_docno(tmp_path):
    from ltr.io import read_qrels, write_qrels, write_run

    path = write_qrels(tmp_path / "q.qrels", pd.DataFrame({"query_id": ["1"], "doc_id": ["a"], "relevance": [2]}))
    assert path.read_text() == "1 0 a 2\n"
    assert read_qrels(path)[["qid", "docno", "rel"]].values.tolist() == [["1", "a", 2]]
    top = pd.Series([2**63 - 1], dtype=object)  # an int64, refused once read through float64 (2**63)
    write_qrels(path, pd.DataFrame({"qid": ["1"], "docno": ["a"], "rel": top}))
    assert read_qrels(path)["rel"].tolist() == [2**63 - 1]
    with pytest.raises(ValueError, match=r"run column 'docno', row 1: a missing value \(None or NaN\)"):
        write_run(tmp_path / "r.run", pd.DataFrame({"qid": ["1", "1"], "docno": ["a", None], "score": [1.0, 2.0]}))
    assert not (tmp_path / "r.run").exists()  # (it was written, the document as 'nan')


# ------------------------------------------------------------------------------------------------------------------
# Readers that refused what the others read (io-metrics)
# ------------------------------------------------------------------------------------------------------------------
def test_jsonl_qrels_read_integral_floats_as_the_trec_reader_reads_2_0(tmp_path):
    from ltr.exceptions import TrecFormatError
    from ltr.io import read_qrels

    path = tmp_path / "q.jsonl"  # pandas' to_json of a float column writes 1.0
    path.write_text('{"query_id": "1", "doc_id": "a", "relevance": 1.0}\n{"query_id": 1, "doc_id": "b", '
                    '"relevance": "2.0"}\n')
    assert read_qrels(path)[["qid", "docno", "rel"]].values.tolist() == [["1", "a", 1], ["1", "b", 2]]
    for value, said in (("1.5", r"q.jsonl:1: relevance must be an integer \(token '1.5'\); a float reads as an "
                                r"integer only with an integral value"),
                        ("1e30", r"q.jsonl:1: relevance value out of the 64-bit range \(token '1e\+30'\)"),
                        (str(10**23), r"q.jsonl:1: relevance value out of the 64-bit range"),  # an OverflowError
                        ):
        path.write_text(f'{{"query_id": "1", "doc_id": "a", "relevance": {value}}}\n')
        with pytest.raises(TrecFormatError, match=said):
            read_qrels(path)
    path.write_text('{"query_id": 1.0, "doc_id": 3.0, "relevance": 1}\n')  # pandas' to_json of float columns:
    assert read_qrels(path)[["qid", "docno"]].values.tolist() == [["1", "3"]]  # was '1.0', which no '1' matches
    path.write_text('{"query_id": 1.5, "doc_id": "a", "relevance": 1}\n')  # refused, as evaluate_run refuses it
    with pytest.raises(TrecFormatError, match=r"q.jsonl:1: the qid must be a string or an integer \(token '1.5'\)"):
        read_qrels(path)
    path.write_text('{"query_id": null, "doc_id": "a", "relevance": 1}\n')  # it was the query 'None'
    with pytest.raises(TrecFormatError, match=r"q.jsonl:1: the qid must be a string or an integer \(token 'null'\)"):
        read_qrels(path)


def test_a_query_id_map_with_a_byte_order_mark_is_read_as_every_other_input(tmp_path):
    from ltr.io.qidmap import read_qid_map

    path = tmp_path / "m.txt.qids.tsv"
    path.write_bytes(b"\xef\xbb\xbf1\tq-a\n2\tq-b\n")
    assert read_qid_map(path) == {"1": "q-a", "2": "q-b"}


def test_an_err_grade_above_max_grade_in_qrels_is_named_by_query_and_document():
    from ltr.exceptions import LabelRangeError

    qrels = pd.DataFrame({"qid": ["1", "1", "2"], "docno": ["a", "b", "c"], "rel": [1, 5, 2]})
    run = pd.DataFrame({"qid": ["1", "1", "2"], "docno": ["a", "b", "c"], "score": [1.0, 2.0, 3.0]})
    with pytest.raises(LabelRangeError, match=r"^ERR needs grades <= max_grade=4, got the grade 5 of document 'b' for "
                                              r"query '1'; pass max_grade="):
        metrics.evaluate_run(qrels, run, ["err@10"])
    # the reference: ERR (Chapelle et al. 2009) of query 1 ranked b (5), a (1) and query 2's c (2), max_grade 5
    r = lambda g: (2**g - 1) / 2**5  # noqa: E731
    want = ((r(5) + (1 - r(5)) * r(1) / 2) + r(2)) / 2
    assert metrics.evaluate_run(qrels, run, ["err@10"], max_grade=5)["err@10"] == pytest.approx(want, rel=1e-15)


# ------------------------------------------------------------------------------------------------------------------
# features.extract: a qrels frame under read_qrels' rules (features)
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("qrels, add_judged, said", [
    # the last grade won (swapping the rows turned a 2 into a 1), silently
    ({"qid": ["1", "1"], "docno": ["a", "a"], "rel": [1, 2]}, False,
     r"^qrels: document 'a' is judged twice for query '1' \(1 such row\(s\)\), which read_qrels refuses"),
    # add_judged added the document twice: two identical rows
    ({"qid": ["1", "1"], "docno": ["c", "c"], "rel": [1, 2]}, True, r"^qrels: document 'c' is judged twice"),
    ({"qid": ["1"], "docno": ["a"], "rel": [1.5]}, False,  # a label 1.5
     r"^qrels: the relevance of document 'a' for query '1' is 1.5, not an integer"),
])
def test_extract_refuses_a_qrels_frame_that_read_qrels_would_refuse_as_a_file(qrels, add_judged, said):
    from features import Analyzer, InvertedIndex, extract
    from features.collections import Collection

    index = InvertedIndex.build(Collection(("a", "b", "c"), {"body": ["wing flow", "flow heat", "wing"]}),
                                Analyzer(stemmer=None))
    spec = [{"scorer": "bm25", "fields": ["body"]}]
    with pytest.raises(ValueError, match=said):
        extract(index, {"1": "wing"}, {"1": ["a", "b"]}, spec, qrels=pd.DataFrame(qrels), add_judged=add_judged)
    fine = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "c"], "rel": [2.0, 1]})  # 2.0 is 2, as in a file
    data = extract(index, {"1": "wing"}, {"1": ["a", "b"]}, spec, qrels=fine, add_judged=True)
    assert list(data.doc_ids) == ["a", "b", "c"] and data.y.tolist() == [2.0, 0.0, 1.0]


def test_a_pool_listed_twice_is_named_as_the_pools_at_load_not_blamed_on_fields():
    """term_stats with pools ["sum", "max", "sum"] was refused after indexing and retrieval (10.6 s on NPL) as a
    repeated column, telling the user to list each field once in its 'fields', which held one field."""
    from features import FeatureSet

    with pytest.raises(ValueError, match=r"scorer 'term_stats': pools must be a non-empty list of distinct names "
                                         r"drawn from \('sum', .*\), got \['sum', 'max', 'sum'\]"):
        FeatureSet.load([{"scorer": "term_stats", "fields": ["body"], "pools": ["sum", "max", "sum"]}])


# ------------------------------------------------------------------------------------------------------------------
# Significance and comparison (experiments)
# ------------------------------------------------------------------------------------------------------------------
def test_equal_means_give_p_1_and_no_effect_as_in_exact_arithmetic():
    """21 queries up by 1/5 and 21 down (P@5 of two MQ2008 runs): 0.6 - 0.4 and 0.4 - 0.6 are not each other's
    negatives in floats, so the tests saw a mean of -2.4e-18: the randomisation p was 0.94, t's 0.9999999999999999
    and d -1.8e-17. The exact mean is 0: every sign assignment reaches it (checked with fractions here)."""
    from fractions import Fraction

    from ltr.evaluation import significance as S

    ups = [(0.6, 0.4), (0.8, 0.6), (1.0, 0.8)] * 7
    downs = [(0.4, 0.6), (0.6, 0.8), (0.2, 0.4)] * 7
    a = np.array([x for x, _ in ups + downs] + [0.4] * 50)
    b = np.array([y for _, y in ups + downs] + [0.4] * 50)
    exact = sum(Fraction(x).limit_denominator(10) - Fraction(y).limit_denominator(10) for x, y in zip(a, b))
    assert exact == 0 and (a - b).mean() != 0  # the float noise the tests saw
    assert S.randomization_test(a, b, n_permutations=2000).pvalue == 1.0
    assert (S.paired_ttest(a, b).statistic, S.paired_ttest(a, b).pvalue) == (0.0, 1.0)
    assert S.effect_size(a, b) == 0.0
    assert S.randomization_test([0.6, 0.7, 0.9], [0.5, 0.5, 0.5]).pvalue == 0.25  # (a non-zero mean as before)


def test_compare_reads_trec_eval_names_a_test_by_name_and_names_bad_values():
    from ltr.evaluation import compare, compare_cv, paired_test, randomization_test

    idx = ["1", "2", "3", "4"]
    base = pd.DataFrame({"ndcg_cut_10": [0.5, 0.5, 0.5, 0.5]}, index=idx)  # trec_eval's spelling, refused before
    new = pd.DataFrame({"ndcg_cut_10": [0.6, 0.7, 0.9, 0.5]}, index=idx)
    c = compare({"bm25": base, "ltr": new}, tests="wilcoxon")  # a string read letter by letter: 'unknown test w'
    assert c.metrics == ["ndcg@10"] and c.row("ltr", "ndcg@10")["tests"]["wilcoxon"]["pvalue"] == 0.25
    with pytest.raises(ValueError, match=r"^system 'ltr' has the value inf for ndcg@10 on query '2'"):
        compare({"bm25": base, "ltr": new.replace(0.7, np.inf)})  # was 'p-values must lie in [0, 1], got [nan]'
    with pytest.raises(ValueError, match=r"the system scores have the value inf at query position 1"):
        paired_test([0.1, np.inf, 0.3], [0.1, 0.2, 0.3])  # p NaN, returned
    with pytest.raises(ValueError, match=r"^seed must be a non-negative integer \(or None, or a numpy Generator\), "
                                         r"got -1"):
        randomization_test([0.6, 0.7, 0.9], [0.5, 0.5, 0.5], seed=-1)
    for seed in (None, np.random.default_rng(3)):  # taken before, as NumPy's default_rng takes them
        assert 0 < randomization_test([0.6, 0.7, 0.9, 0.4], [0.5, 0.5, 0.5, 0.5], seed=seed).pvalue <= 1
    both = new.assign(**{"NDCG@10": [0.9, 0.9, 0.9, 0.9]})  # two columns of ndcg@10: the first was taken
    with pytest.raises(ValueError, match=r"system 'ltr' has two columns of ndcg@10, 'ndcg_cut_10' and 'NDCG@10'"):
        compare({"bm25": base, "ltr": both})
    exact = new.assign(**{"ndcg@10": [0.9, 0.9, 0.9, 0.9]})  # the canonical spelling beside another: the same
    with pytest.raises(ValueError, match=r"system 'ltr' has two columns of ndcg@10, 'ndcg_cut_10' and 'ndcg@10'"):
        compare({"bm25": base, "ltr": exact})
    with pytest.raises(ValueError, match="compare_cv needs at least one"):  # a bare StopIteration
        compare_cv([])
    with pytest.raises(TypeError, match=r"system 'a': per-query values must be a pandas DataFrame .*got Series; "
                                        r"pass series.to_frame\(METRIC\)"):
        compare({"a": base["ndcg_cut_10"], "b": new})


def test_fuse_takes_numpy_integers_as_the_scorers_do():
    from ltr.fusion import fuse

    r1 = pd.DataFrame({"qid": ["1"] * 3, "docno": ["a", "b", "c"], "score": [3.0, 2.0, 1.0]})
    r2 = pd.DataFrame({"qid": ["1"] * 3, "docno": ["c", "b", "a"], "score": [3.0, 2.0, 1.0]})
    want = fuse([r1, r2], method="rrf", k=60, depth=2)
    got = fuse([r1, r2], method="rrf", k=np.int64(60), depth=np.int64(2))
    pd.testing.assert_frame_equal(got, want)


def test_a_cv_result_whose_fold_values_do_not_match_its_qids_is_refused_naming_the_path(tmp_path):
    """One value moved from fold 1's per-query list to fold 2's: compare paired every later query of fold 1 with
    another's value (W/T/L 98/287/85 became 144/203/123), exit 0; a qid missing from a fold: pandas' message."""
    import copy

    from ltr import Ranker
    from ltr.datasets import make_ranking
    from ltr.evaluation import cross_validate
    from ltr.evaluation.results import check_result, cv_result_dict

    data = make_ranking(12, 6, 3, random_state=0)
    result = cross_validate(Ranker(n_estimators=2, n_jobs=1), data, n_splits=2, metrics=["ndcg@5"], validation=False,
                            progress=False)
    good = cv_result_dict(result)
    check_result(good)
    shifted = copy.deepcopy(good)
    f0, f1 = shifted["systems"][0]["folds"][:2]
    f1["per_query"]["ndcg@5"].insert(0, f0["per_query"]["ndcg@5"].pop())  # the totals stay right
    with pytest.raises(ValueError, match=r"^systems\[0\]\.folds\[0\]\.per_query\.ndcg@5 has 5 values for the fold's 6 "
                                         r"qids"):
        check_result(shifted)
    edited = copy.deepcopy(good)
    edited["systems"][0]["folds"][0]["test_sizes"] = 5  # (len() of it failed, naming nothing)
    with pytest.raises(ValueError, match=r"^systems\[0\]\.folds\[0\]\.test_sizes must be a list, got int 5"):
        check_result(edited)
    short = copy.deepcopy(good)
    short["systems"][0]["folds"][1]["qids"].pop()
    with pytest.raises(ValueError, match=r"^systems\[0\]\.folds\[1\]\.per_query\.ndcg@5 has 6 values for the fold's 5"):
        check_result(short)


def test_compare_runs_leaves_out_the_curve_the_exp2_gain_cannot_hold_for_metrics_that_can(tmp_path):
    """A label of 1100 (an order label, as MQ2007/8-list's) refused map and P@5 under --gain exp2 because of the
    report's NDCG@1..20 curve, which nobody asked for; ltr evaluate computes the same metrics."""
    from ltr.evaluation import compare_runs
    from ltr.exceptions import LabelRangeError
    from ltr.metrics import evaluate_run_per_query

    qrels = pd.DataFrame({"qid": ["1"] * 3 + ["2"] * 3 + ["3"] * 3, "docno": list("abcdefghi"),
                          "rel": [1100, 0, 1, 0, 2, 1, 1, 0, 0]})
    runs = {name: pd.DataFrame({"qid": qrels["qid"], "docno": qrels["docno"],
                                "score": np.random.default_rng(seed).random(9)}) for name, seed in (("a", 1), ("b", 2))}
    c = compare_runs(runs, qrels, metrics=["map", "p@2"], gain="exp2", tests=["t"])
    want = evaluate_run_per_query(qrels, runs["b"], ["map", "p@2"])
    assert c.row("b", "map")["mean"] == pytest.approx(want["map"].mean(), rel=1e-15) and c.curves is None
    with pytest.raises(LabelRangeError, match="ndcg@10"):  # asked for: still refused
        compare_runs(runs, qrels, metrics=["ndcg@10"], gain="exp2", tests=["t"])
    assert compare_runs(runs, qrels, metrics=["map"], tests=["t"]).curves is not None  # linear gain: the curve
    from ltr.datasets import RankingDataset
    from ltr.evaluation import compare_models

    class Fixed:  # a model scoring every row by a fixed vector (compare_models asks for predict only)
        def __init__(self, s):
            self.s = s

        def predict(self, data):
            return self.s

    data = RankingDataset(np.zeros((9, 1), np.float32), qrels["rel"].to_numpy(float), np.repeat([1, 2, 3], 3),
                          np.array([0, 3, 6, 9]))
    models = {n: Fixed(r["score"].to_numpy()) for n, r in runs.items()}
    c = compare_models(models, data, metrics=["map"], gain="exp2", tests=["t"])  # refused for the curve before
    assert c.row("b", "map")["mean"] == pytest.approx(want["map"].mean(), rel=1e-15)


# ------------------------------------------------------------------------------------------------------------------
# Training options (training)
# ------------------------------------------------------------------------------------------------------------------
def _letor(path, n_queries=6, per=5, seed=0):
    rng = np.random.default_rng(seed)
    path.write_text("".join(f"{rng.integers(0, 3)} qid:{q} 1:{rng.random():.4f} 2:{rng.random():.4f}\n"
                            for q in range(1, n_queries + 1) for _ in range(per)))
    return path


def test_early_stopping_takes_one_metric_and_says_so_before_any_work(tmp_path, capsys):
    from ltr.cli import main

    data = _letor(tmp_path / "t.txt")
    # the first name was checked, the whole text refused as a data error (exit 1, no option named) after reading
    assert main(["train", str(data), "--early-stopping-metric", "ndcg@10,map", "--out", str(tmp_path / "m.txt")]) == 2
    assert "error: --early-stopping-metric takes one metric (the one early stopping watches), got 'ndcg@10,map'" \
        in capsys.readouterr().err
    assert not (tmp_path / "m.txt").exists()


def test_a_config_file_setting_one_parameter_twice_is_refused(tmp_path, capsys):
    """param = ['max_bin=31'] and [params] max_bin = 15 in one file: 31 was kept, 15 dropped, without a word."""
    from ltr.cli import main

    data = _letor(tmp_path / "t.txt")
    config = tmp_path / "c.toml"
    config.write_text("param = ['max_bin=31']\n[params]\nmax_bin = 15\n")
    out = tmp_path / "m.txt"
    assert main(["train", str(data), "--rounds", "2", "--config", str(config), "--out", str(out)]) == 2
    assert f"--config {config}: param and the table [params] both set max_bin; give each parameter once" \
        in capsys.readouterr().err
    config.write_text("param = ['num_leaves=7']\n[params]\nmax_bin = 15\n")  # two parameters: both kept
    assert main(["train", str(data), "--rounds", "2", "--preset", "none", "--config", str(config), "--out", str(out),
                 "--quiet"]) == 0
    text = out.read_text()
    assert "[max_bin: 15]" in text and "[num_leaves: 7]" in text


@pytest.mark.parametrize("params, said", [
    ({"dataset_cache": 123}, r"^dataset_cache must be a folder's path \(str or PathLike\) or None, got 123"),
    ({"eval_params": {"max_grade": "4"}}, r"^eval_params\['max_grade'\] must be a positive number .*got '4'"),
    ({"eval_params": {"max_grade": True}}, r"^eval_params\['max_grade'\] must be a positive number .*got True"),
    ({"eval_params": {"max_grade": None}}, r"^eval_params\['max_grade'\] must be a positive number .*got None"),
    ({"eval_params": {"max_grade": -1}}, r"^eval_params\['max_grade'\] must be a positive number .*got -1"),
])
def test_ranker_values_are_named_by_their_parameter(params, said):
    from ltr import Ranker
    from ltr.datasets import make_ranking

    data = make_ranking(6, 5, 2, random_state=0)
    with pytest.raises((TypeError, ValueError), match=said):
        Ranker(n_estimators=2, **params).fit(data)


# ------------------------------------------------------------------------------------------------------------------
# cv --save-dir: nothing of the user's replaced, owners kept (cli-robustness)
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout, said", [
    ("file", "Fold1: is a file, where cross-validation writes a fold folder"),
    ("folder", "Fold1/model.txt: is a folder, where cross-validation writes a file"),
])
def test_cv_refuses_a_save_dir_entry_of_the_wrong_kind_before_training(tmp_path, capsys, layout, said):
    """A user's file named Fold1, or folder named Fold1/model.txt, was replaced with what it held, exit 0."""
    from ltr.cli import main

    data = _letor(tmp_path / "t.txt", n_queries=8)
    save = tmp_path / "sd"
    if layout == "file":
        save.mkdir()
        (save / "Fold1").write_text("my notes\n")
    else:
        (save / "Fold1" / "model.txt").mkdir(parents=True)
        (save / "Fold1" / "model.txt" / "log.txt").write_text("my log\n")
    assert main(["cv", str(data), "--folds", "2", "--rounds", "2", "--save-dir", str(save), "--quiet"]) == 1
    assert f"error: {save}/{said}" in capsys.readouterr().err
    kept = save / "Fold1" if layout == "file" else save / "Fold1" / "model.txt" / "log.txt"
    assert kept.read_text() == ("my notes\n" if layout == "file" else "my log\n")
    assert sorted(p.name for p in save.iterdir()) == ["Fold1"]  # no staging folder, no second fold


def test_cv_run_by_root_keeps_the_owner_of_a_users_fold_folders(tmp_path):
    import os

    from ltr.cli import main

    if os.geteuid() != 0:
        pytest.skip("only root can give files to another user (this keeps the owner when root rewrites them)")
    data = _letor(tmp_path / "t.txt", n_queries=8)
    save = tmp_path / "sd"
    args = ["cv", str(data), "--folds", "2", "--rounds", "2", "--save-dir", str(save), "--quiet"]
    assert main(args) == 0
    fold = save / "Fold1"
    (fold / "plots").mkdir()  # the user's own folder, file and link there, carried into the new fold folder
    (fold / "plots" / "p.txt").write_text("x\n")
    os.symlink("plots/p.txt", fold / "link")
    for path in [fold, *fold.iterdir(), fold / "plots" / "p.txt"]:
        os.chown(path, 1234, 2345, follow_symlinks=False)
    assert main(args) == 0
    owners = {p.name: (os.lstat(p).st_uid, os.lstat(p).st_gid)
              for p in [fold, *fold.iterdir(), fold / "plots" / "p.txt"]}
    assert set(owners.values()) == {(1234, 2345)}, owners  # (root's before; the carried folder and link too)
    assert (fold / "link").read_text() == "x\n"


def test_a_stale_file_that_cannot_be_removed_fails_the_set_before_any_output_is_replaced(tmp_path):
    """ltr features removed the stale .qids.tsv after the new LETOR file was in place: a failure there (a folder of
    that name; a file this user may not remove) exited 1 with --out already replaced."""
    import os

    from ltr.io.outputs import outputs_together

    out, stale = tmp_path / "a.letor", tmp_path / "a.letor.qids.tsv"
    out.write_text("old\n")
    stale.mkdir()
    with pytest.raises(IsADirectoryError, match="a.letor.qids.tsv"):
        with outputs_together(out, remove=(stale,)) as (place,):
            open(place, "w").write("new\n")
    assert out.read_text() == "old\n" and stale.is_dir()
    stale.rmdir()
    stale.write_text("1\tq1\n")
    with outputs_together(out, remove=(stale,)) as (place,):
        open(place, "w").write("new\n")
    assert out.read_text() == "new\n" and not stale.exists()
    assert sorted(os.listdir(tmp_path)) == ["a.letor"]  # no temporary left


def test_ltr_features_refuses_a_folder_where_its_query_id_map_goes_before_any_work(tmp_path, capsys):
    from ltr.cli import main

    (tmp_path / "docs.tsv").write_text("d1\twing flow\nd2\tflow heat\n")
    (tmp_path / "q.tsv").write_text("1\twing\n")
    out = tmp_path / "a.letor"
    out.write_text("old\n")
    (tmp_path / "a.letor.qids.tsv").mkdir()
    assert main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                 "--topk", "5", "--out", str(out), "--quiet"]) == 2
    assert "a.letor.qids.tsv, where the query-id map beside it is written (or removed, as a stale map), is a folder" \
        in capsys.readouterr().err
    assert out.read_text() == "old\n"


def test_a_ctrl_c_a_library_turned_into_its_own_error_is_an_interrupt(capsys):
    """NumPy's import turns a KeyboardInterrupt into 'Importing the numpy C-extensions failed ... your install is
    broken': ltr said so as a data error (exit 1), then failed again importing NumPy in its handler (a 91-line
    traceback). The handler had recorded the interrupt."""
    import argparse

    from ltr import _checked_io
    from ltr.cli._guard import guard

    def command(args):
        _checked_io.stop_outputs(KeyboardInterrupt)  # as the SIGINT handler records it
        raise ImportError("Importing the numpy C-extensions failed. This error can happen for many reasons")

    try:
        assert guard("info", command, argparse.Namespace()) == 130
    finally:
        _checked_io.stop_outputs(None)
    err = capsys.readouterr().err
    assert err.startswith("ltr info: interrupted") and "numpy" not in err and len(err.splitlines()) == 1
    assert guard("info", lambda args: (_ for _ in ()).throw(ImportError("no module x")), argparse.Namespace()) == 1


def test_a_ctrl_c_swallowed_while_numba_compiles_stops_training_at_the_round_and_says_nothing_twice():
    """llvmlite's ctypes callback swallows a KeyboardInterrupt raised while Numba compiles ('Exception ignored ...',
    an 8-line traceback): the command went on compiling and training for 77 s. The handler has recorded it: the
    objective and the validation metrics stop at the round, and the unraisable hook stays silent about it."""
    import types

    from ltr import Ranker, _checked_io
    from ltr.cli._guard import _quiet_about_our_interrupts
    from ltr.datasets import make_ranking

    data = make_ranking(20, 8, 3, random_state=0)
    seen = []
    hook = _quiet_about_our_interrupts(seen.append)
    _checked_io.stop_outputs(KeyboardInterrupt)
    try:
        for params in ({"kernel": "numba"}, {"early_stopping_rounds": 5}):  # the objective; the validation metrics
            with pytest.raises(KeyboardInterrupt):
                Ranker(n_estimators=50, n_jobs=1, **params).fit(data, eval_set=[data])
        hook(types.SimpleNamespace(exc_value=KeyboardInterrupt()))
        assert seen == []
    finally:
        _checked_io.stop_outputs(None)
    other = types.SimpleNamespace(exc_value=KeyboardInterrupt())  # not recorded: not ours, shown as Python shows it
    hook(other)
    assert seen == [other]


@pytest.mark.parametrize("damage", ["other bytes", "truncated"])
def test_a_damaged_dataset_cache_entry_is_named_binned_again_and_replaced(tmp_path, damage):
    """A damaged entry failed every later run in LightGBM's words ('the training parameters or data', or a bare codec
    error), naming no file, and was never rebuilt."""
    from ltr import Ranker
    from ltr.datasets import make_ranking

    data = make_ranking(30, 10, 4, random_state=1)
    cache = tmp_path / "cache"
    first = Ranker(n_estimators=5, n_jobs=1, preset=None, dataset_cache=str(cache)).fit(data)
    (entry,) = cache.glob("lightgbm-*.bin")
    good = entry.read_bytes()
    entry.write_bytes(b"\xab\xcd" * 5000 if damage == "other bytes" else good[:1000])
    with pytest.warns(UserWarning, match=rf"the LightGBM Dataset cache entry {entry} is damaged \(.+\): binned again "
                                         r"and replaced"):
        again = Ranker(n_estimators=5, n_jobs=1, preset=None, dataset_cache=str(cache)).fit(data)
    assert entry.read_bytes() == good
    assert np.array_equal(again.predict(data.X), first.predict(data.X))


def test_a_training_file_of_three_segments_is_counted_against_their_sizes(tmp_path, shared_file):
    """MQ2008's Fold2/train.txt holds S2+S3+S4 (471 queries); a copy holding S4 alone was 'ok' (its labels checked)
    and the note said S2 and S3 were present, which no file held (trial t58's newcomer). S2 and S3 are not documented
    one by one: together they are the documented total (784 queries, 15211 rows) less S1, S4 and S5."""
    import gzip
    import shutil

    from ltr.registry import get, verify

    copy = tmp_path / "mq2008"
    for name, source in (("Fold1/vali.txt", "Fold1/vali"), ("Fold1/test.txt", "Fold1/test"),
                         ("Fold2/test.txt", "Fold2/test"), ("Fold2/train.txt", "Fold1/vali")):
        source = f"mq2008/{source}.txt.gz"
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(shared_file(source), "rb") as f, open(copy / name, "wb") as out:
            shutil.copyfileobj(f, out)
    report = verify("mq2008", copy, checksums=False)
    (train,) = [f for f in report.files if f.path == "Fold2/train.txt"]
    assert train.status == "differs" and "157 queries, the registry documents 471" in train.problems
    assert "2707 rows, the registry documents 9404" in train.problems  # 15211 - 2933 - 2707 - 2874 + 2707
    (note,) = [n for n in report.notes if n.startswith("query segments present")]
    assert note.startswith("query segments present: S1, S4, S5; perhaps present")
    assert note.endswith("S2, S3; missing: none")
    entry = get("mq2008")
    assert entry.file_facts("Fold1/train.txt") == {"queries": 471, "rows": 9630, "segment": "S1+S2+S3"}  # as released
    assert "queries" not in entry.file_facts("Fold3/train.txt")  # S3 without S2: not told by the documented sizes


def test_export_feature_names_given_a_file_says_to_read_it_with_an_at(tmp_path, capsys, monkeypatch):
    """--feature-names names.txt was read as one name: '1 names for a model of 46 features' (trial t58's newcomer)."""
    from ltr import Ranker
    from ltr.cli import main
    from ltr.datasets import make_ranking

    model = tmp_path / "m.txt"
    Ranker(n_estimators=2, n_jobs=1).fit(make_ranking(10, 5, 3, random_state=0)).save(model)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "names.txt").write_text("f1\nf2\nf3\n")
    assert main(["export", str(model), "--to", "es-xgboost", "--out", "x.json", "--feature-names", "names.txt"]) == 2
    assert "--feature-names names.txt: a file of that name is here, and a plain value is a list of names; pass " \
           "--feature-names @names.txt" in capsys.readouterr().err
    assert main(["export", str(model), "--to", "es-xgboost", "--out", "x.json", "--feature-names", "@names.txt"]) == 0


def test_demo_checks_every_output_before_it_writes_any(tmp_path, capsys):
    from ltr.cli import main

    folder = tmp_path / "dm"
    folder.mkdir()
    (folder / ".ltr-demo").write_text("written by ltr demo: it replaces its files here when run again\n")
    (folder / "model.txt.meta.json").mkdir()  # (11 MB of data were written before it was found)
    assert main(["demo", "--dir", str(folder)]) == 1
    assert f"{folder}/model.txt.meta.json: is a folder" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == [".ltr-demo", "model.txt.meta.json"]


def test_a_folder_where_the_query_id_map_goes_is_refused_not_passed_over(tmp_path, capsys):
    """predict --run wrote the LETOR qids, exit 0, when DATA.qids.tsv was a folder (a garbage map was refused)."""
    from ltr.cli import main

    data = tmp_path / "d.txt"
    data.write_text("".join(f"{(q + i) % 3} qid:{q} 1:{(q * 7 + i) % 10 / 10} 2:{i / 10} #docid = d{q}-{i}\n"
                            for q in range(1, 9) for i in range(5)))
    assert main(["train", str(data), "--rounds", "2", "--out", str(tmp_path / "m.txt"), "--quiet"]) == 0
    (tmp_path / "d.txt.qids.tsv").mkdir()
    out = tmp_path / "r.run"
    assert main(["predict", str(tmp_path / "m.txt"), str(data), "--run", "--out", str(out), "--quiet"]) == 1
    assert "d.txt.qids.tsv: is a folder, not a file" in capsys.readouterr().err and not out.exists()


def test_an_err_grade_float64_cannot_hold_is_a_usage_error_before_any_work(tmp_path, capsys):
    from ltr.cli import main

    data = _letor(tmp_path / "t.txt")
    out = tmp_path / "m.txt"
    assert main(["train", str(data), "--max-grade", "2000", "--metrics", "ndcg@10,err@10", "--out", str(out)]) == 2
    assert "error: --max-grade 2000: ERR's gain 2^rel / 2^G holds only G below 1024 in float64; leave err@10 out of " \
           "--metrics" in capsys.readouterr().err  # (exit 1 after the data was read, worded 'max_grade=2000')
    assert not out.exists()
    assert main(["train", str(data), "--max-grade", "2000", "--metrics", "ndcg@10", "--rounds", "2", "--out", str(out),
                 "--quiet"]) == 0


def test_evaluate_given_run_and_qrels_as_positionals_says_which_is_which(tmp_path, capsys):
    from ltr.cli import main

    run, qrels = tmp_path / "r.run", tmp_path / "q.qrels"
    run.write_text("1 Q0 a 1 2.0 t\n")
    qrels.write_text("1 0 a 1\n")
    for first, second in ((run, qrels), (qrels, run)):  # RUN QRELS was echoed as --qrels RUN --run QRELS
        assert main(["evaluate", str(first), str(second)]) == 2
        assert f"ltr evaluate --qrels {qrels} --run {run}" in capsys.readouterr().err
