"""Behaviours mended in stop 53: fusion weights fitted by cross-validation cut their folds over the judged queries,
so that no fold is left without a query to score."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ltr.fusion import fit_weights


def _two_runs_over(queries):
    def rows(order):
        return pd.DataFrame([(q, d, s) for q in queries for d, s in order], columns=["qid", "docno", "score"])

    return rows((("d1", 2.0), ("d2", 1.0))), rows((("d1", 1.0), ("d2", 2.0)))


@pytest.mark.parametrize("seed", range(5))
def test_fit_weights_scores_every_fold_when_most_queries_are_unjudged(seed):
    """Eight queries, three judged, three folds: a fold of unjudged queries alone was 'test': nan (t52 left alone)."""
    a, b = _two_runs_over([str(q) for q in range(1, 9)])
    qrels = pd.DataFrame({"qid": ["1", "2", "3"], "docno": ["d1", "d2", "d1"], "rel": [1, 1, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the runs' unjudged queries are said; not what this test reads
        fitted = fit_weights([a, b], qrels, n_splits=3, step=0.5, random_state=seed)
    assert all(np.isfinite(f["test"]) for f in fitted.folds)
    assert sorted(q for f in fitted.folds for q in f["test_queries"]) == sorted(str(q) for q in range(1, 9))
    judged_per_fold = [len({"1", "2", "3"} & set(f["test_queries"])) for f in fitted.folds]
    assert judged_per_fold == [1, 1, 1]


def test_fit_weights_with_one_judged_query_says_so():
    a, b = _two_runs_over(["1", "2", "3"])
    qrels = pd.DataFrame({"qid": ["2"], "docno": ["d1"], "rel": [1]})
    with pytest.raises(ValueError, match=r"the runs have 1 query\(ies\) with judgments in the qrels"):
        fit_weights([a, b], qrels, n_splits=2)


def test_fit_weights_folds_are_unchanged_when_every_query_is_judged():
    """The same seed cuts the same folds as before the change when no query is unjudged."""
    a, b = _two_runs_over([str(q) for q in range(1, 7)])
    qrels = pd.DataFrame({"qid": [str(q) for q in range(1, 7)], "docno": ["d1", "d2"] * 3, "rel": [1] * 6})
    fitted = fit_weights([a, b], qrels, n_splits=3, step=0.5, random_state=3)
    queries = np.array([str(q) for q in range(1, 7)], dtype=object)
    expected = np.array_split(queries[np.random.default_rng(3).permutation(6)], 3)
    assert [f["test_queries"] for f in fitted.folds] == [list(p) for p in expected]


def test_evaluate_counts_the_queries_of_each_metric_when_they_differ(tmp_path, capsys):
    """--no-relevant nan left query 1 out of NDCG and MAP but not of DCG (0 for it), and -l 2 leaves more out of MAP
    alone; the footer said '2 queries averaged' for all (t52 left alone)."""
    from ltr.cli import main

    data, scores = tmp_path / "a.txt", tmp_path / "s.txt"
    data.write_text("0 qid:1 1:1\n0 qid:1 1:2\n1 qid:2 1:1\n0 qid:2 1:2\n2 qid:3 1:3\n0 qid:3 1:1\n")
    scores.write_text("1\n2\n3\n1\n1\n2\n")
    args = ["evaluate", str(data), "--scores", str(scores), "--no-relevant", "nan"]
    assert main([*args, "--metrics", "ndcg@2,dcg@2,map"]) == 0
    out = capsys.readouterr().out
    assert "left out of the means (but DCG's, which is 0 for them)" in out
    assert out.rstrip().endswith("queries averaged: 2 in ndcg@2, 3 in dcg@2, 2 in map")
    assert main([*args, "--metrics", "ndcg@2,map", "-l", "2"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("queries averaged: 2 in ndcg@2, 1 in map")
    assert main([*args, "--metrics", "ndcg@2,map"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("; 2 queries averaged") and "DCG" not in out


def test_train_footer_counts_the_queries_dcg_keeps(tmp_path, capsys):
    """ltr train --no-relevant nan said 'queries averaged: valid 3' for NDCG's mean over 2 queries."""
    from ltr.cli import main

    data = tmp_path / "a.txt"
    data.write_text("0 qid:1 1:1\n0 qid:1 1:2\n1 qid:2 1:1\n0 qid:2 1:2\n2 qid:3 1:3\n0 qid:3 1:1\n")
    args = ["train", str(data), "--valid", str(data), "--rounds", "2", "--preset", "none", "--min-child-samples", "1"]
    assert main([*args, "--no-relevant", "nan", "--metrics", "ndcg@2,dcg@2"]) == 0
    assert "queries averaged: valid 2 (dcg@2 3)\n" in capsys.readouterr().out
    assert main([*args, "--no-relevant", "nan", "--metrics", "ndcg@2,map"]) == 0
    assert "queries averaged: valid 2\n" in capsys.readouterr().out
    assert main([*args, "--metrics", "ndcg@2,dcg@2"]) == 0
    assert "queries averaged: valid 3\n" in capsys.readouterr().out
