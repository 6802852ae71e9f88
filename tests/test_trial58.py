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
