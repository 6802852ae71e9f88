"""One conversion to JSON's types for every file the toolkit writes (``ltr._json``), and the records that used to
differ by writer: a NumPy parameter recorded as its value by cross-validation (it was left out), an infinite
number written as null by every writer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ltr._json import python_values, strict_json


def test_python_values_turns_numpy_into_python_and_keeps_everything_else():
    got = python_values({"a": np.int64(3), "b": [np.float32(0.5), (np.bool_(True), "x")],
                         "c": np.array([[1, 2]]), "d": math.nan, "e": None})
    assert got["a"] == 3 and type(got["a"]) is int
    assert type(got["b"][0]) is float and got["b"][0] == 0.5
    assert got["b"][1] == (True, "x") and type(got["b"][1][0]) is bool and isinstance(got["b"][1], tuple)
    assert got["c"] == [[1, 2]]
    assert math.isnan(got["d"]) and got["e"] is None
    # what the standard library writes for the same values, once NumPy's are plain
    assert json.dumps(python_values({"k": np.arange(3)})) == json.dumps({"k": [0, 1, 2]})


def test_strict_json_writes_nonfinite_as_null_and_keys_as_strings():
    got = strict_json({1: (np.float64("nan"), np.inf, -math.inf, 2.5), "m": {"x": np.int8(-1)}})
    assert got == {"1": [None, None, None, 2.5], "m": {"x": -1}}
    json.dumps(got, allow_nan=False)  # raises on anything left that strict JSON cannot hold


def test_cv_records_a_numpy_parameter_as_its_value():
    from ltr import Ranker
    from ltr.datasets import make_ranking
    from ltr.evaluation import cross_validate

    data = make_ranking(n_queries=30, docs_per_query=8, n_features=4, random_state=0)
    est = Ranker(n_estimators=np.int64(3), random_state=np.int64(7), preset="none")
    res = cross_validate(est, data, n_splits=3)
    params = res.to_dict()["systems"][0]["params"]
    # before: a NumPy value failed json.dumps and the parameter was left out of the record
    assert params["random_state"] == 7 and params["n_estimators"] == 3


def test_a_json_table_writes_an_infinite_number_as_null():
    from ltr.cli._files import emit

    class Args:
        format = "json"

    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        emit(Args(), ["m"], [[1.0]], {"m": np.float64(np.inf), "n": np.int64(2)})
    assert json.loads(buf.getvalue()) == {"m": None, "n": 2}


def test_a_significance_record_is_plain_json():
    from ltr.evaluation.significance import TestResult

    d = TestResult("t", np.float64(np.inf), np.float32(0.5), np.int64(3)).to_dict()
    assert d == {"test": "t", "statistic": None, "pvalue": 0.5, "n": 3}
    assert type(d["n"]) is int and type(d["pvalue"]) is float


@pytest.mark.parametrize("value", [np.int64(3), np.float32(0.25), np.array([1, 2]), np.bool_(False)])
def test_a_numpy_value_becomes_what_tolist_gives(value):
    assert strict_json({"v": value}) == {"v": value.tolist()}
    assert type(strict_json(value)) is type(value.tolist())


def test_python_values_turns_numpy_mapping_keys_into_python_values():
    """A NumPy key (a label value counted with np.unique, a qid) is a Python value too: json.dumps refuses NumPy
    keys, and writes Python's as the standard library does."""
    got = python_values({np.int64(1): 2, np.float64(0.5): {np.bool_(True): np.int32(3)}, "s": 4})
    assert got == {1: 2, 0.5: {True: 3}, "s": 4}
    assert [type(k) for k in got] == [int, float, str] and type(next(iter(got[0.5]))) is bool
    assert json.dumps(got) == json.dumps({1: 2, 0.5: {True: 3}, "s": 4}) == '{"1": 2, "0.5": {"true": 3}, "s": 4}'
    labels, counts = np.unique(np.array([0, 2, 2, 1]), return_counts=True)
    assert json.loads(json.dumps(python_values(dict(zip(labels, counts))))) == {"0": 1, "1": 1, "2": 2}


def test_a_json_comparison_table_writes_an_undefined_relative_delta_as_null():
    """format_comparison(..., "json") dumps with allow_nan=True, but what it dumps is the result file's content,
    already strict (ltr.evaluation.results.comparison_dict): a relative delta over a zero baseline is null."""
    import pandas as pd

    from ltr.evaluation import compare
    from ltr.evaluation.tables import format_comparison

    qids = ["1", "2", "3"]
    zero = pd.DataFrame({"map": [0.0, 0.0, 0.0]}, index=qids)
    c = compare({"a": zero, "b": zero.copy()}, tests=["t"])
    assert math.isnan(c.row("b", "map")["relative"])

    def refuse(token):
        raise ValueError(f"not strict JSON: {token}")

    d = json.loads(format_comparison(c, "json"), parse_constant=refuse)
    row = next(r for r in d["comparison"]["rows"] if r["system"] == "b" and r["metric"] == "map")
    assert row["relative"] is None and row["delta"] == 0.0
