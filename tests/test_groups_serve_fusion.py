"""Review fixes: missing and badly typed query ids and group sizes (ltr.groups), query ids that collide as strings
in the reranker (features.serve), ranx's ``max`` and ``borda`` fusion normalisations (ltr.fusion, checked against
ranx.fuse on runs of ADI) and make_ranking's parameter checks."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from features.serve import Reranker
from ltr._shared import import_reference
from ltr.cli import main
from ltr.datasets import make_ranking
from ltr.exceptions import GroupError
from ltr.fusion import NORMS, fuse, normalize_run
from ltr.groups import check_group_ptr, group_ptr_from_qid, group_ptr_from_sizes, resolve_group_ptr
from ltr.io import read_run, run_from_scores, write_run
from ltr.metrics import evaluate_per_query


# -- ltr.groups: missing query ids ------------------------------------------------------------------------------------
@pytest.mark.parametrize("qid", [
    pytest.param([np.nan, 7, 7, np.nan], id="float-nan"),
    pytest.param(np.array([None, "7", "7", None], dtype=object), id="object-none"),
    pytest.param(np.array([float("nan"), "7", "7", "8"], dtype=object), id="object-nan"),
    pytest.param(pd.array([pd.NA, 7, 7, 8], dtype="Int64").to_numpy(dtype=object), id="pandas-na"),
])
def test_a_missing_query_id_is_refused_naming_its_row(qid):
    for sort in (False, True):
        with pytest.raises(GroupError, match=r"qid holds a missing id .* at row 0"):
            group_ptr_from_qid(qid, sort=sort)
    with pytest.raises(GroupError, match="at row 0"):
        resolve_group_ptr(4, qid=qid)


def test_nan_query_ids_no_longer_merge_rows_of_two_queries_in_metrics_or_runs():
    # the review's repro: rows NaN | 7, 7 | NaN were scored as the queries {row 0, row 1}, {row 2}, {row 3}
    q = np.array([np.nan, 7, 7, np.nan])
    y, s = np.array([0, 2, 0, 1]), np.array([0.9, 0.1, 0.8, 0.5])
    with pytest.raises(GroupError, match="row 0"):
        evaluate_per_query(y, s, qid=q, metrics=["ndcg@10"])
    # run_from_scores refuses the missing id before the ids become text (where NaN would be a query 'nan')
    with pytest.raises(ValueError, match=r"^qid holds a missing id \(nan\) at row 0: "):
        run_from_scores(q, ["a", "b", "c", "d"], s)


def test_without_sort_the_rows_own_layout_is_returned_or_the_contiguity_error_raised():
    # ids of mixed types do not sort (numpy's unique raises): the rows' own layout, never a sorted one
    ptr, order = group_ptr_from_qid(np.array([2, "a", "a", 1], dtype=object))
    assert ptr.tolist() == [0, 1, 3, 4] and order is None
    with pytest.raises(GroupError, match=r"rows of query 1 are not contiguous: it appears at row 0 and again at "
                                         r"row 2"):
        group_ptr_from_qid(np.array([1, "a", 1], dtype=object))
    with pytest.raises(GroupError, match="qid cannot be sorted"):
        group_ptr_from_qid(np.array([1, "a", 1], dtype=object), sort=True)
    # contiguous and repeated ids as before
    assert group_ptr_from_qid([7, 7, 3, 3, 3])[0].tolist() == [0, 2, 5]
    ptr, order = group_ptr_from_qid([3, 1, 3], sort=True)
    assert ptr.tolist() == [0, 1, 3] and order.tolist() == [1, 0, 2]


# -- ltr.groups: sizes and offsets -------------------------------------------------------------------------------------
def test_a_size_beyond_int64_is_refused_by_value_without_a_cast_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "invalid value encountered in cast" came first
        with pytest.raises(GroupError, match=r"group sizes entry 1 is 1e\+19, too large"):
            group_ptr_from_sizes([2, 1e19])
        with pytest.raises(GroupError, match=r"group sizes entry 1 is 10000000000000000000, too large"):
            group_ptr_from_sizes(np.array([2, 10**19], dtype=np.uint64))
        with pytest.raises(GroupError, match="add up to"):
            group_ptr_from_sizes([2**62, 2**62])


@pytest.mark.parametrize(("values", "message"), [
    ([True, True], r"group sizes must be integers, got booleans \[True, True\]"),
    ([2, 1.5], r"group sizes must be integers; entry 1 is 1\.5"),
    ([2, float("nan")], r"group sizes must be integers; entry 1 is nan"),
    (["a", "b"], r"group sizes must be integers, got \['a', 'b'\]"),
])
def test_sizes_that_are_not_whole_numbers_are_refused_by_value(values, message):
    with pytest.raises(GroupError, match=message):
        group_ptr_from_sizes(values)


def test_group_ptr_offsets_must_be_integers_rather_than_truncated():
    with pytest.raises(GroupError, match=r"group_ptr must be integers; entry 1 is 1\.5"):
        check_group_ptr([0, 1.5, 3])
    with pytest.raises(GroupError, match="group_ptr must be integers, got booleans"):
        check_group_ptr(np.array([False, True]))
    assert check_group_ptr([0.0, 1.0, 3.0]).tolist() == [0, 1, 3]  # whole floats are offsets
    assert check_group_ptr(np.array([0, 2], dtype=np.uint32), 2).dtype == np.int64
    assert group_ptr_from_sizes([2.0, 3.0]).tolist() == [0, 2, 5]


# -- features.serve: query ids that read the same as strings ------------------------------------------------------
def bare_reranker() -> Reranker:
    # the id check comes before any model or index is touched, so a bare instance exercises it in milliseconds;
    # test_reranker_on_adi_refuses_colliding_ids_and_keeps_distinct_ones runs a real model
    return object.__new__(Reranker)


def test_rerank_many_refuses_ids_that_collide_as_strings_naming_both():
    with pytest.raises(ValueError, match=r"queries: query ids 1 and '1' are both '1' as text"):
        bare_reranker().rerank_many({1: ("wing", ["1"]), "1": ("heat", ["2"])})


def test_rerank_run_refuses_query_ids_that_collide_as_strings_naming_both():
    run = pd.DataFrame({"qid": ["1"], "docno": ["7"], "rank": [1], "score": [1.0]})
    with pytest.raises(ValueError, match=r"queries: query ids 1 and '1' are both '1' as text"):
        bare_reranker().rerank_run(run, {1: "wing", "1": "heat"})


@pytest.mark.shared
@pytest.mark.slow  # features and a linear model of ADI through the command line (about 10 s)
def test_reranker_on_adi_refuses_colliding_ids_and_keeps_distinct_ones(shared_file, tmp_path):
    from features.pipeline import load_inputs

    coll = shared_file("adi")
    letor, run, index, model = (tmp_path / n for n in ("adi.letor", "bm25.run", "adi.npz", "linear.model"))
    assert main(["features", "--collection", str(coll), "--topk", "5", "--out", str(letor), "--save-run", str(run),
                 "--index", str(index), "--quiet"]) == 0
    assert main(["train", str(letor), "--engine", "linear", "--out", str(model), "--quiet"]) == 0
    reranker = Reranker.load(model, index=index)
    texts = dict(load_inputs(coll).queries.items())
    first = read_run(run)
    a, b = list(texts)[:2]

    def item(q):
        g = first[first["qid"] == q].sort_values("rank")
        return texts[q], list(g["docno"]), g["score"].to_numpy()

    # the review's repro gave one result ('1') for two queries
    with pytest.raises(ValueError, match=rf"query ids {int(a)} and '{a}' are both '{a}'"):
        reranker.rerank_many({int(a): item(a), a: item(b)})
    got = reranker.rerank_many({int(a): item(a), b: item(b)})  # distinct ids of mixed types: one result each
    assert list(got) == [a, b] and all(len(got[q]) == 5 for q in (a, b))
    with pytest.raises(ValueError, match="are both"):
        reranker.rerank_run(first, {int(a): texts[a], a: texts[a]})


# -- ltr.fusion: ranx's max and borda --------------------------------------------------------------------------------
def frame(rows):
    return pd.DataFrame(rows, columns=["qid", "docno", "score"])


def test_max_divides_by_the_querys_largest_score_floored_at_1e_9():
    run = frame([("1", "a", 2.0), ("1", "b", 4.0), ("1", "c", -1.0), ("2", "x", -2.0), ("2", "y", -4.0)])
    got = normalize_run(run, "max")
    assert dict(zip(got["docno"], got["score"])) == {"b": 4 / 4, "a": 2 / 4, "c": -1 / 4,
                                                     "x": -2 / 1e-9, "y": -4 / 1e-9}  # ranx's floor: no shift
    with pytest.raises(ValueError, match=r"norm='max': query 2 document y has score -1e\+300"):
        normalize_run(frame([("2", "x", -1.0), ("2", "y", -1e300)]), "max")


def test_borda_counts_over_every_runs_candidates_by_hand():
    # query 1: candidates a, b, c, d (C = 4); run 1 ranks a, b (n = 2), run 2 ranks c, a, d (n = 3)
    r1 = frame([("1", "a", 9.0), ("1", "b", 5.0)])
    r2 = frame([("1", "c", 3.0), ("1", "a", 2.0), ("1", "d", 1.0)])
    v1 = {"a": 1 - 0 / 4, "b": 1 - 1 / 4, "c": 0.5 - (2 - 1) / (2 * 4), "d": 0.5 - (2 - 1) / (2 * 4)}
    v2 = {"c": 1 - 0 / 4, "a": 1 - 1 / 4, "d": 1 - 2 / 4, "b": 0.5 - (3 - 1) / (2 * 4)}
    got = fuse([r1, r2], method="combsum", norm="borda")
    assert dict(zip(got["docno"], got["score"])) == {d: v1[d] + v2[d] for d in "abcd"}
    # every candidate is scored by both runs, so CombMNZ doubles every sum (ranx's mnz counts them too)
    got = fuse([r1, r2], method="combmnz", norm="borda")
    assert dict(zip(got["docno"], got["score"])) == {d: 2 * (v1[d] + v2[d]) for d in "abcd"}
    # alone, a run's candidates are its own: borda is rank
    assert normalize_run(r2, "borda")["score"].tolist() == normalize_run(r2, "rank")["score"].tolist()
    # a run without the query contributes nothing to it
    got = fuse([pd.concat([r1, frame([("2", "y", 1.0)])]), r2, frame([("2", "z", 1.0)])], method="combmnz",
               norm="borda")
    assert dict(zip(got["docno"], got["score"]))["a"] == 2 * (v1["a"] + v2["a"])


def test_ltr_fuse_offers_max_and_borda(tmp_path, capsys):
    assert {"max", "borda"} <= set(NORMS)
    paths = [tmp_path / "1.run", tmp_path / "2.run"]
    for p, rows in zip(paths, ([("1", "a", 2.0), ("1", "b", 4.0)], [("1", "a", 1.0), ("1", "c", 5.0)])):
        write_run(p, frame(rows).assign(rank=[1, 2], q0="Q0", tag="t"))
    for norm, expected in (("max", {"b": 1.0, "a": 2 / 4 + 1 / 5, "c": 1.0}),
                           ("borda", {"b": 1 + 0.5 - 1 / 6, "a": 2 / 3 + 2 / 3, "c": 1 + 0.5 - 1 / 6})):
        out = tmp_path / f"{norm}.run"
        assert main(["fuse", *map(str, paths), "--method", "combsum", "--norm", norm, "--out", str(out),
                     "--quiet"]) == 0
        got = read_run(out)
        for d, v in expected.items():
            assert math.isclose(float(got.loc[got["docno"] == d, "score"].iat[0]), v, rel_tol=1e-6), (norm, d)


@pytest.fixture(scope="module")
def adi_runs(shared_file):
    """Three top-20 runs of the 35 ADI queries: TF-IDF cosine (sublinear tf) and unnormalised TF-IDF dot products
    (scikit-learn), and the log of the cosine (all scores negative: max's floor), over the queries all three
    retrieve for."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from features.pipeline import load_inputs

    inputs = load_inputs(shared_file("adi"))
    docs = inputs.docs
    texts = [" ".join(docs.fields[f][i] for f in docs.fields) for i in range(len(docs))]
    queries = dict(inputs.queries.items())
    qtexts = list(queries.values())

    def top(scores, transform=lambda s: s):
        rows = []
        for q, row in zip(queries, scores):
            best = np.argsort(-row, kind="stable")[:20]
            rows.extend((q, docs.doc_ids[j], float(transform(row[j]))) for j in best if row[j] > 0)
        return frame(rows)

    tfidf = TfidfVectorizer(sublinear_tf=True).fit(texts)
    cosine = (tfidf.transform(qtexts) @ tfidf.transform(texts).T).toarray()
    raw = TfidfVectorizer(norm=None).fit(texts)
    dot = (raw.transform(qtexts) @ raw.transform(texts).T).toarray()
    runs = [top(cosine), top(dot), top(cosine, np.log)]
    common = set.intersection(*(set(r["qid"]) for r in runs))
    return [r[r["qid"].isin(common)].reset_index(drop=True) for r in runs]


def ranx_run(run: pd.DataFrame):
    from ranx import Run

    d: dict[str, dict[str, float]] = {}
    for q, doc, s in zip(run["qid"], run["docno"], run["score"]):
        d.setdefault(str(q), {})[str(doc)] = float(s)
    return Run.from_dict(d)


@pytest.mark.shared
@pytest.mark.slow  # ranx compiles its Numba functions in every process
@pytest.mark.parametrize(("method", "rmethod", "params"), [("combsum", "sum", {}), ("combmnz", "mnz", {}),
                                                          ("wsum", "wsum", {"weights": [0.2, 0.5, 0.3]})])
@pytest.mark.parametrize("norm", ["max", "borda"])
def test_max_and_borda_equal_ranx_fuse_on_adi_runs(adi_runs, method, rmethod, params, norm):
    ranx = import_reference("ranx")
    ours = fuse(adi_runs, method=method, norm=norm, **params)
    theirs = ranx.fuse([ranx_run(r) for r in adi_runs], norm=norm, method=rmethod, params=params or None).to_dict()
    # borda reads ranks, and ranx orders tied scores by an unstable sort: compare the queries without ties
    tied = set()
    if norm == "borda":
        for r in adi_runs:
            tied |= set(r.loc[r.duplicated(["qid", "score"], keep=False), "qid"])
    assert set(ours["qid"]) == set(theirs)
    compared = 0
    for q, group in ours.groupby("qid", sort=False):
        assert set(group["docno"]) == set(theirs[q]), q
        if q in tied:
            continue
        ref = np.array([theirs[q][d] for d in group["docno"]])
        np.testing.assert_allclose(group["score"].to_numpy(), ref, rtol=1e-12, atol=0, err_msg=q)
        compared += 1
    assert compared >= 0.5 * len(theirs)


# -- make_ranking's parameters ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"noise": float("nan")}, "noise must be a finite number >= 0 (the latent noise's standard deviation), got nan"),
    ({"noise": -1}, "noise must be a finite number >= 0 (the latent noise's standard deviation), got -1"),
    ({"noise": float("inf")}, "noise must be a finite number >= 0 (the latent noise's standard deviation), got inf"),
    ({"n_informative": 0}, "n_informative must be an integer >= 1, got 0"),
    ({"max_label": 0}, "max_label must be an integer >= 1, got 0"),
    ({"max_label": 2.5}, "max_label must be an integer >= 1, got 2.5"),
    ({"n_queries": 0}, "n_queries must be an integer >= 1, got 0"),
    ({"n_features": True}, "n_features must be an integer >= 1, got True"),
    ({"docs_per_query": 2.5}, "docs_per_query must be an integer >= 1, got 2.5"),
    ({"docs_per_query": (0, 3)}, "docs_per_query low must be an integer >= 1, got 0"),
    ({"docs_per_query": (5, 2)}, "docs_per_query range must satisfy 1 <= low <= high, got (5, 2)"),
    ({"docs_per_query": (1, 2, 3)}, "docs_per_query must be an integer or a (low, high) pair, got (1, 2, 3)"),
])
def test_make_ranking_refuses_out_of_range_parameters_by_name_and_value(kwargs, message):
    with pytest.raises(ValueError) as e:
        make_ranking(random_state=0, **kwargs)
    assert str(e.value) == message


def test_make_ranking_accepts_numpy_scalars_and_is_unchanged_by_the_checks():
    d = make_ranking(np.int64(4), (2, 5), np.int64(3), noise=np.float32(0.5), random_state=1)
    e = make_ranking(4, (2, 5), 3, random_state=1)
    assert np.array_equal(d.X, e.X) and np.array_equal(d.y, e.y) and d.group_ptr.tolist() == e.group_ptr.tolist()
    assert make_ranking(3, 4, 2, random_state=0).n_features == 2  # n_informative above n_features: all used
