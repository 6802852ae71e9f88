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
    with pytest.raises(ValueError, match=r"^qrels holds a missing docno \(None or NaN\) at row 2 \(counting from 0\)"):
        metrics.evaluate_run_per_query(qrels, run, ["map"])
    run_nan = pd.DataFrame({"qid": ["1", "1", np.nan], "docno": ["a", "b", "c"], "score": [2.0, 1.0, 3.0]})
    with pytest.raises(ValueError, match=r"^run holds a missing qid \(None or NaN\) at row 2"):
        metrics.evaluate_run(qrels.iloc[:2], run_nan, ["map"])
    with pytest.raises(ValueError, match=r"^run holds a missing docno"):
        metrics.evaluate_run({"1": {"a": 1}}, {"1": {float("nan"): 1.0}}, ["map"])
    assert metrics.evaluate_run(qrels.iloc[:2], run, ["map", "recall@10"]) == {"map": 1.0, "recall@10": 1.0}


def test_float_ids_are_refused_where_they_would_match_nothing():
    """Float query ids (1.0, a column that held a NaN upstream) read as '1.0' and matched no '1': the mean was NaN
    with no word, where the command line says 'no query in common'. Integer ids are read as their text."""
    run = pd.DataFrame({"qid": ["1", "2"], "docno": ["a", "c"], "score": [1.0, 1.0]})
    floats = pd.DataFrame({"qid": [1.0, 2.0], "docno": ["a", "c"], "rel": [1, 1]})
    with pytest.raises(ValueError, match=r"^qrels's qid holds the float 1.0 at row 0 \(counting from 0\): ids are "
                                         r"compared as text, as trec_eval compares them, so '1.0' would not match '1'"):
        metrics.evaluate_run(floats, run, ["map"])
    mixed = pd.DataFrame({"qid": ["1", 2.5], "docno": ["a", "c"], "score": [1.0, 1.0]})
    with pytest.raises(ValueError, match=r"^run's qid holds the float 2.5 at row 1"):
        metrics.evaluate_run(floats.astype({"qid": int}), mixed, ["map"])
    assert metrics.evaluate_run(floats.astype({"qid": int}), run, ["map"]) == {"map": 1.0}
