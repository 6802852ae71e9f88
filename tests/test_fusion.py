"""Rank fusion: every method and normalisation equal to ranx's fusion on real runs (BM25 and TF-IDF on
Cranfield), the conventions where ranx differs (ties, missing queries) by hand, weights fitted by cross-validation
checked against pytrec_eval, bad input, and ``ltr fuse``."""

from __future__ import annotations

import gzip
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from ltr._shared import import_reference
from ltr.cli import main
from ltr.exceptions import OptionError
from ltr.fusion import fit_weights, fuse, normalize_run, prepare_runs
from ltr.io import read_qrels, read_run, write_run


def frame(rows):
    return pd.DataFrame(rows, columns=["qid", "docno", "score"])


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


def top_k(scores: np.ndarray, ids: list[str], k: int) -> pd.DataFrame:
    rows = []
    for q, s in enumerate(scores):
        top = np.argsort(-s, kind="stable")[:k]
        rows.extend((str(q + 1), ids[j], float(s[j])) for j in top if s[j] > 0)
    return frame(rows)


@pytest.fixture(scope="module")
def cranfield(shared_file):
    """BM25 (bm25s) and TF-IDF cosine (scikit-learn) top-100 runs of the 225 Cranfield queries, and the qrels."""
    bm25s = import_reference("bm25s")
    from sklearn.feature_extraction.text import TfidfVectorizer

    with gzip.open(shared_file("cranfield/cran.all.1400.gz"), "rt") as fh:
        docs = smart_records(fh.read())
    queries = list(smart_records(shared_file("cranfield/cran.qry").read_text()).values())
    ids = list(docs)
    texts = [docs[i] for i in ids]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
    found, scores = retriever.retrieve(bm25s.tokenize(queries, show_progress=False), k=100, show_progress=False,
                                       n_threads=1)
    bm25 = frame([(str(q + 1), ids[j], float(s)) for q in range(len(queries))
                  for j, s in zip(found[q], scores[q]) if s > 0])
    vec = TfidfVectorizer(sublinear_tf=True)
    D = vec.fit_transform(texts)
    tfidf = top_k((vec.transform(queries) @ D.T).toarray(), ids, 100)
    qrels = read_qrels(shared_file("cranfield/cranqrel"), "cranfield")
    return bm25, tfidf, qrels


def ranx_run(run: pd.DataFrame):
    from ranx import Run

    d: dict[str, dict[str, float]] = {}
    for q, doc, s in zip(run["qid"], run["docno"], run["score"]):
        d.setdefault(str(q), {})[str(doc)] = float(s)
    return Run.from_dict(d)


def tied_queries(*runs) -> set[str]:
    out = set()
    for r in runs:
        out |= set(r.loc[r.duplicated(["qid", "score"], keep=False), "qid"])
    return out


# (our method, our norm, ranx method, ranx norm, params); rank-based ones read the order of tied scores
CASES = [
    pytest.param("rrf", None, "rrf", None, {}, id="rrf"),
    pytest.param("rrf", None, "rrf", None, {"k": 10}, id="rrf-k10"),
    pytest.param("combsum", "minmax", "sum", "min-max", {}, id="combsum-minmax"),
    pytest.param("combsum", "zscore", "sum", "zmuv", {}, id="combsum-zscore"),
    pytest.param("combsum", "sum", "sum", "sum", {}, id="combsum-sum"),
    pytest.param("combsum", "rank", "sum", "rank", {}, id="combsum-rank"),
    pytest.param("combsum", "none", "sum", None, {}, id="combsum-none"),
    pytest.param("combmnz", "minmax", "mnz", "min-max", {}, id="combmnz-minmax"),
    pytest.param("combmnz", "zscore", "mnz", "zmuv", {}, id="combmnz-zscore"),
    pytest.param("wsum", "minmax", "wsum", "min-max", {"weights": [0.3, 0.7]}, id="wsum-minmax"),
    pytest.param("wsum", "sum", "wsum", "sum", {"weights": [2.0, 0.5]}, id="wsum-sum"),
]


@pytest.mark.shared
@pytest.mark.slow  # ranx compiles its Numba functions in every process (about 40 s); ours take a second
@pytest.mark.parametrize(("method", "norm", "rmethod", "rnorm", "params"), CASES)
def test_each_method_equals_ranx_on_cranfield_bm25_and_tfidf_runs(cranfield, method, norm, rmethod, rnorm, params):
    ranx = import_reference("ranx")
    bm25, tfidf, _ = cranfield
    ours = fuse([bm25, tfidf], method=method, norm=norm, **params)
    theirs = ranx.fuse([ranx_run(bm25), ranx_run(tfidf)], norm=rnorm, method=rmethod, params=params or None)
    theirs = theirs.to_dict()
    # ties: ranx orders tied documents by an unstable sort, so rank-based fusion is compared where nothing ties
    skip = tied_queries(bm25, tfidf) if method == "rrf" or norm == "rank" else set()
    compared = 0
    for q, group in ours.groupby("qid", sort=False):
        assert set(group["docno"]) == set(theirs[q]), q  # the same documents: the union of the two runs
        if q in skip:
            continue
        ref = np.array([theirs[q][d] for d in group["docno"]])
        # float round-off: sums and means taken in another order (z-scores near 0 lose their relative digits)
        np.testing.assert_allclose(group["score"].to_numpy(), ref, rtol=1e-12, atol=1e-14 * np.abs(ref).max(),
                                   err_msg=q)
        if not group["score"].duplicated().any():  # the fused order is ranx's where no fused score ties
            assert list(group["docno"]) == sorted(theirs[q], key=lambda d: -theirs[q][d]), q
        compared += 1
    assert set(ours["qid"]) == set(theirs)
    assert compared >= 0.75 * len(theirs)


def test_rank_ties_follow_trec_eval_order_docno_descending():
    # run 1 ties a and b: trec_eval's order puts b (the larger docno) first, so b has rank 1 and a rank 2
    r1 = frame([("1", "a", 1.0), ("1", "b", 1.0), ("1", "c", 0.0)])
    r2 = frame([("1", "c", 5.0)])
    f = fuse([r1, r2])
    scores = dict(zip(f["docno"], f["score"]))
    assert scores == {"b": 1 / 61, "a": 1 / 62, "c": 1 / 63 + 1 / 61}
    assert list(f["docno"]) == ["c", "b", "a"] and list(f["rank"]) == [1, 2, 3]
    assert normalize_run(r1, "rank")["docno"].tolist() == ["b", "a", "c"]
    # tied fused scores are written in the same order: docno descending
    f = fuse([frame([("1", "x", 1.0), ("1", "y", 0.0)]), frame([("1", "y", 1.0), ("1", "x", 0.0)])],
             method="combsum")
    assert f["docno"].tolist() == ["y", "x"] and f["score"].tolist() == [1.0, 1.0]


def test_rank_fusion_warns_of_scores_a_c_float_cannot_hold_and_ranks_them_as_evaluate_does(tmp_path):
    # 3e39, 2e39, 1e39 are inf as C floats: tied, ranked by docno (c, b, a) as ltr evaluate and trec_eval 9.0.x
    # rank them; said, naming the file, the count and the first score
    path = tmp_path / "big.run"
    path.write_text("1 Q0 a 1 3e39 x\n1 Q0 b 2 2e39 x\n1 Q0 c 3 1e39 x\n")
    with pytest.warns(UserWarning, match=rf"^3 score\(s\) of {re.escape(str(path))} are beyond float32's range "
                                         r"\(inf as a C float\), the first for query '1', document 'a' \(3e\+39\)"):
        f = fuse([str(path), frame([("1", "a", 1.0)])], method="rrf")
    assert dict(zip(f["docno"], f["score"])) == {"c": 1 / 61, "b": 1 / 62, "a": 1 / 63 + 1 / 61}


def test_a_query_missing_from_a_run_is_fused_from_the_others_where_ranx_refuses(caplog):
    r1 = frame([("1", "a", 3.0), ("1", "b", 1.0), ("2", "c", 2.0), ("2", "d", 0.0)])
    r2 = frame([("1", "b", 4.0), ("1", "e", 2.0)])
    with caplog.at_level("WARNING", logger="ltr.fusion"):
        f = fuse([r1, r2], method="combsum")
    # said, naming the run: a run that failed on most topics would otherwise pass for a fusion
    assert [r.getMessage() for r in caplog.records] == [
        "run 2 lacks 1 of the 2 queries (2): those are fused from the other runs alone"]
    q2 = f[f["qid"] == "2"]
    assert dict(zip(q2["docno"], q2["score"])) == {"c": 1.0, "d": 0.0}  # run 1's min-max scores alone
    q1 = dict(zip(f.loc[f["qid"] == "1", "docno"], f.loc[f["qid"] == "1", "score"]))
    assert q1 == {"a": 1.0, "b": 0.0 + 1.0, "e": 0.0}


@pytest.mark.slow  # ranx compiles its Numba functions
def test_ranx_refuses_runs_whose_query_sets_differ():
    ranx = import_reference("ranx")
    r1 = frame([("1", "a", 3.0), ("2", "c", 2.0)])
    r2 = frame([("1", "b", 4.0)])
    with pytest.raises(AssertionError, match="query ids do not match"):
        ranx.fuse([ranx_run(r1), ranx_run(r2)], method="sum")


def test_combmnz_counts_only_the_runs_that_retrieved_a_document():
    r1 = frame([("1", "a", 3.0), ("1", "b", 2.0), ("1", "c", 1.0)])
    r2 = frame([("1", "a", 1.0), ("1", "d", 0.0)])
    f = fuse([r1, r2], method="combmnz")
    # min-max: run 1 a 1, b 1/2, c 0; run 2 a 1, d 0
    assert dict(zip(f["docno"], f["score"])) == {"a": (1.0 + 1.0) * 2, "b": 0.5 * 1, "c": 0.0, "d": 0.0}


def test_normalisations_by_hand():
    r = frame([("1", "a", 1.0), ("1", "b", 2.0), ("1", "c", 4.0), ("2", "d", 7.0), ("2", "e", 7.0)])
    by = {n: dict(zip(normalize_run(r, n)["docno"], normalize_run(r, n)["score"])) for n in
          ("minmax", "zscore", "sum", "rank", "none")}
    assert by["minmax"] == pytest.approx({"a": 0.0, "b": 1 / 3, "c": 1.0, "d": 0.0, "e": 0.0}, abs=1e-15)
    mu, sd = 7 / 3, np.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 3)  # population std
    assert by["zscore"] == pytest.approx({"a": (1 - mu) / sd, "b": (2 - mu) / sd, "c": (4 - mu) / sd, "d": 0.0,
                                          "e": 0.0}, rel=1e-14)
    assert by["sum"] == pytest.approx({"a": 0.0, "b": 1 / 4, "c": 3 / 4, "d": 0.0, "e": 0.0}, rel=1e-15)
    assert by["rank"] == pytest.approx({"c": 1.0, "b": 2 / 3, "a": 1 / 3, "e": 1.0, "d": 0.5}, rel=1e-15)
    assert by["none"] == {"a": 1.0, "b": 2.0, "c": 4.0, "d": 7.0, "e": 7.0}


@pytest.mark.parametrize("norm", ["minmax", "zscore", "sum"])
def test_scores_near_the_float_limit_normalise_as_the_same_scores_scaled_down(norm):
    # minmax, zscore and sum do not change under a positive scale: 1e308-sized scores overflowed the differences
    # and squares (NaN, or a z-score of 0 for every document, which dropped the run from the fusion silently)
    values = [1.0, -1.0, 0.0, 0.25]
    huge = frame([("1", d, v * 1e308) for d, v in zip("abcd", values)] + [("2", "e", 3.0), ("2", "f", 5.0)])
    small = frame([("1", d, v) for d, v in zip("abcd", values)] + [("2", "e", 3.0), ("2", "f", 5.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = dict(zip(normalize_run(huge, norm)["docno"], normalize_run(huge, norm)["score"]))
    want = dict(zip(normalize_run(small, norm)["docno"], normalize_run(small, norm)["score"]))
    assert got == pytest.approx(want, rel=1e-15, abs=1e-15)
    assert got["a"] > got["d"] > got["c"] > got["b"]


def test_depth_keeps_each_runs_top_documents():
    r1 = frame([("1", "a", 3.0), ("1", "b", 2.0), ("1", "c", 1.0)])
    r2 = frame([("1", "c", 3.0), ("1", "d", 2.0)])
    assert set(fuse([r1, r2], depth=1)["docno"]) == {"a", "c"}


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"method": "borda"}, "method must be one of"),
    ({"norm": "maxx", "method": "combsum"}, "norm must be one of"),
    ({"norm": "minmax"}, "rrf fuses ranks"),
    ({"method": "wsum"}, "needs weights"),
    ({"method": "combsum", "weights": [1, 1]}, "combsum has no weights"),
    ({"method": "wsum", "weights": [1.0]}, "1 given for 2 runs"),
    ({"method": "wsum", "weights": [1.0, -1.0]}, "finite and >= 0"),
    ({"method": "wsum", "weights": [0.0, 0.0]}, "at least one above 0 \\(all 0 discards every run\\)"),
    ({"k": -1}, "k must be a finite number >= 0"),
    ({"depth": 0}, "depth must be a positive integer"),
])
def test_bad_options_are_refused(kwargs, match):
    r = frame([("1", "a", 1.0)])
    with pytest.raises(ValueError, match=match):
        fuse([r, r], **kwargs)


def test_bad_runs_name_the_run_query_and_document(tmp_path):
    from ltr.exceptions import TrecFormatError

    good = frame([("1", "a", 1.0)])
    with pytest.raises(TrecFormatError, match="run 2: query 7 document x has score nan"):
        fuse([good, frame([("7", "x", np.nan)])])
    with pytest.raises(TrecFormatError, match="run 1: query 1 lists document a twice"):
        fuse([frame([("1", "a", 1.0), ("1", "a", 2.0)]), good])
    dup = tmp_path / "dup.run"  # a file: named by its lines, as the readers' errors are
    dup.write_text("# bm25\n1 Q0 a 1 2.0 t\n1 Q0 b 2 1.0 t\n1 Q0 a 3 0.5 t\n")
    with pytest.raises(TrecFormatError, match=r"dup.run:4: query 1 lists document a twice \(first on line 2\)"):
        fuse([str(dup), good])
    with pytest.raises(ValueError, match="at least two runs"):
        fuse([good])
    with pytest.raises(ValueError, match="missing columns"):
        fuse([good, good.drop(columns="score")])


# ------------------------------------------------------------------------------------------------------------------
# Weights by cross-validation
# ------------------------------------------------------------------------------------------------------------------
def pytrec_ndcg10(qrels: pd.DataFrame, run: pd.DataFrame) -> dict[str, float]:
    pytrec_eval = import_reference("pytrec_eval")
    q: dict[str, dict[str, int]] = {}
    for a, d, r in zip(qrels["qid"], qrels["docno"], qrels["rel"]):
        q.setdefault(str(a), {})[str(d)] = int(r)
    r: dict[str, dict[str, float]] = {}
    for a, d, s in zip(run["qid"], run["docno"], run["score"]):
        r.setdefault(str(a), {})[str(d)] = float(s)
    out = pytrec_eval.RelevanceEvaluator(q, {"ndcg_cut_10"}).evaluate(r)
    return {k: v["ndcg_cut_10"] for k, v in out.items()}


@pytest.mark.shared
@pytest.mark.slow
def test_fitted_weights_maximise_the_training_folds_metric_by_pytrec_eval(cranfield):
    bm25, tfidf, qrels = cranfield
    res = fit_weights([bm25, tfidf], qrels, n_splits=3, step=0.25, random_state=7)
    queries = [q for f in res.folds for q in f["test_queries"]]
    assert sorted(queries) == sorted(set(bm25["qid"]) | set(tfidf["qid"]))  # the folds partition the queries
    grid = [(w, 1 - w) for w in (0.0, 0.25, 0.5, 0.75, 1.0)]
    per_candidate = {w: pytrec_ndcg10(qrels, fuse([bm25, tfidf], method="wsum", weights=list(w))) for w in grid}
    for f in res.folds:
        train = [q for g in res.folds if g is not f for q in g["test_queries"]]

        def mean(w, qs):
            vals = [per_candidate[w][q] for q in qs if q in per_candidate[w]]
            return sum(vals) / len(vals)

        best = max(mean(w, train) for w in grid)
        assert mean(tuple(f["weights"]), train) == pytest.approx(best, abs=1e-12)
        assert f["train"] == pytest.approx(best, abs=1e-12)
        assert f["test"] == pytest.approx(mean(tuple(f["weights"]), f["test_queries"]), abs=1e-12)
        # the out-of-fold run holds each query fused with its fold's weights
        fused = fuse([bm25, tfidf], method="wsum", weights=f["weights"])
        for q in f["test_queries"][:5]:
            a = res.run[res.run["qid"] == q][["docno", "score"]].reset_index(drop=True)
            b = fused[fused["qid"] == q][["docno", "score"]].reset_index(drop=True)
            pd.testing.assert_frame_equal(a, b)
    oof = pytrec_ndcg10(qrels, res.run)
    assert res.mean == pytest.approx(np.mean(list(oof.values())), abs=1e-12)
    again = fit_weights([bm25, tfidf], qrels, n_splits=3, step=0.25, random_state=7)
    assert again.folds == res.folds
    assert fit_weights([bm25, tfidf], qrels, n_splits=3, step=0.25, random_state=8).folds != res.folds


def test_coordinate_search_and_weighted_rrf_on_a_small_case():
    qrels = pd.DataFrame({"qid": ["1", "1", "2"], "docno": ["a", "b", "c"], "rel": [1, 0, 1]})
    r1 = frame([("1", "b", 2.0), ("1", "a", 1.0), ("2", "c", 1.0), ("2", "d", 0.0)])
    r2 = frame([("1", "a", 2.0), ("1", "b", 1.0), ("2", "d", 1.0), ("2", "c", 0.0)])
    res = fit_weights([r1, r2], qrels, n_splits=2, search="coordinate", step=0.5, random_state=0)
    assert all(abs(sum(f["weights"]) - 1) < 1e-12 for f in res.folds)
    res = fit_weights([r1, r2], qrels, method="rrf", n_splits=2, random_state=0)
    assert len(res.folds) == 2 and set(res.run["qid"]) == {"1", "2"}
    with pytest.raises(ValueError, match="n_splits must be an integer in \\[2, 2\\]"):
        fit_weights([r1, r2], qrels, n_splits=3)
    with pytest.raises(ValueError, match="step must divide 1"):
        fit_weights([r1, r2], qrels, n_splits=2, step=0.3)
    with pytest.raises(ValueError, match="'wsum' or 'rrf'"):
        fit_weights([r1, r2], qrels, method="combsum", n_splits=2)


def test_prepare_runs_aligns_documents_across_runs():
    p = prepare_runs([frame([("1", "a", 2.0), ("1", "b", 1.0)]), frame([("1", "b", 3.0)])], method="combsum")
    got = {d: (v.tolist(), m.tolist()) for d, v, m in zip(p.docno, p.values, p.present)}
    assert got == {"a": ([1.0, 0.0], [True, False]), "b": ([0.0, 0.0], [True, True])}


# ------------------------------------------------------------------------------------------------------------------
# ltr fuse
# ------------------------------------------------------------------------------------------------------------------
@pytest.fixture()
def run_files(tmp_path):
    r1 = frame([("1", "a", 3.0), ("1", "b", 2.0), ("2", "c", 1.0), ("2", "d", 0.5), ("3", "e", 1.0)])
    r2 = frame([("1", "b", 4.0), ("1", "e", 2.0), ("2", "d", 1.0), ("2", "c", 0.0), ("3", "e", 2.0)])
    paths = []
    for i, r in enumerate((r1, r2)):
        r = r.assign(rank=r.groupby("qid").cumcount() + 1)
        write_run(tmp_path / f"r{i}.run", r)
        paths.append(str(tmp_path / f"r{i}.run"))
    qrels = tmp_path / "qrels"
    qrels.write_text("1 0 a 1\n1 0 b 0\n2 0 c 2\n3 0 e 1\n")
    return paths, str(qrels), (r1, r2)


def test_ltr_fuse_writes_the_fused_run(run_files, tmp_path, capsys):
    paths, _, runs = run_files
    out = tmp_path / "f.run"
    assert main(["fuse", *paths, "--method", "wsum", "--norm", "zscore", "--weights", "0.4,0.6", "--out",
                 str(out)]) == 0
    got = read_run(out)
    ref = fuse(list(runs), method="wsum", norm="zscore", weights=[0.4, 0.6])
    assert got["docno"].tolist() == ref["docno"].tolist()
    np.testing.assert_array_equal(got["score"].to_numpy(), ref["score"].to_numpy())
    assert set(got["tag"]) == {"fused"}


def test_ltr_fuse_fits_weights_and_reports_them(run_files, tmp_path, capsys):
    paths, qrels, _ = run_files
    out, report = tmp_path / "f.run", tmp_path / "w.json"
    code = main(["fuse", *paths, "--method", "wsum", "--fit-weights", "--qrels", qrels, "--folds", "3",
                 "--step", "0.5", "--out", str(out), "--report", str(report), "--format", "json"])
    assert code == 0, capsys.readouterr().err
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads(report.read_text())
    assert printed["folds"] == saved["folds"] and len(saved["folds"]) == 3
    assert set(read_run(out)["qid"]) == {"1", "2", "3"}


@pytest.mark.parametrize(("flags", "message"), [
    (["--method", "wsum"], "--method wsum needs --weights"),
    (["--weights", "1,2,3"], "3 weights for 2 runs"),
    (["--fit-weights"], "needs --qrels"),
    (["--qrels", "q"], "go with --fit-weights"),
    (["--method", "rrf", "--norm", "minmax"], "rrf fuses ranks"),
])
def test_ltr_fuse_errors_are_one_line(run_files, tmp_path, capsys, flags, message):
    paths, _, _ = run_files
    code = main(["fuse", *paths, *flags, "--out", str(tmp_path / "f.run")])
    err = capsys.readouterr().err
    assert code in (1, 2) and message in err and "Traceback" not in err
    assert main(["fuse", paths[0], "--out", str(tmp_path / "f.run")]) == 2


@pytest.mark.parametrize("extra, says", [
    (["--k", "-60"], "--k -60: RRF's constant is a finite number >= 0"),
    (["--depth", "0"], "--depth 0: the documents fused per query, at least 1"),
    (["--method", "wsum"], "--method wsum needs --weights W1,W2,... (one per run), or --fit-weights"),
    (["--method", "wsum", "--weights", "0,0"], "--weights 0,0: finite, >= 0 and at least one above 0"),
    (["--method", "wsum", "--weights", "-1,2"], "--weights -1,2: finite, >= 0"),  # not argparse's "expected one"
    (["--norm", "zscore"], "--norm zscore: rrf fuses ranks, so a normalisation changes nothing"),  # not norm='zscore'
])
def test_ltr_fuse_option_values_are_usage_errors_naming_the_flag(run_files, tmp_path, capsys, extra, says):
    runs, _, _ = run_files
    assert main(["fuse", *runs, "--out", str(tmp_path / "f.run"), *extra]) == 2
    assert says in capsys.readouterr().err and not (tmp_path / "f.run").exists()


def test_weights_fitted_against_smart_judgments_are_the_same_for_a_run_spelling_ids_as_they_do(tmp_path):
    # evaluation reads a run's numeric ids as SMART judgments read theirs ('01' is query 1), and the folds were cut
    # from the run's own ids: every fold's mean was NaN and all weight went to the last run (trial t47, review)
    qrels = tmp_path / "qrels.text"
    rng = np.random.default_rng(0)
    rows, good, bad = [], [], []
    for q in range(1, 7):
        docs = [int(d) for d in rng.choice(np.arange(10, 900), 12, replace=False)]
        rows += [f"{q:02d} {d:04d} 0 0" for d in docs[:3]]  # three relevant documents, zero-padded as CACM writes
        good += [(q, d, 12.0 - i) for i, d in enumerate(docs)]
        bad += [(q, d, float(i)) for i, d in enumerate(docs)]
    qrels.write_text("\n".join(rows) + "\n")

    def run(pairs, padded):
        return frame([(f"{q:02d}" if padded else str(q), f"{d:04d}" if padded else str(d), s) for q, d, s in pairs])

    plain = fit_weights([run(good, False), run(bad, False)], str(qrels), metric="map", n_splits=3, random_state=0)
    padded = fit_weights([run(good, True), run(bad, True)], str(qrels), metric="map", n_splits=3, random_state=0)
    assert [f["weights"] for f in padded.folds] == [f["weights"] for f in plain.folds]
    assert all(f["weights"][0] > f["weights"][1] for f in plain.folds)  # the good run weighs more
    assert [(f["train"], f["test"]) for f in padded.folds] == [(f["train"], f["test"]) for f in plain.folds]
    assert padded.mean == plain.mean == 1.0


def test_fitting_weights_says_once_that_fused_scores_a_c_float_cannot_hold_tie(tmp_path):
    qrels = tmp_path / "q.qrels"
    qrels.write_text("".join(f"{q} 0 d{q}a 1\n" for q in range(1, 5)))
    big = frame([(str(q), f"d{q}{x}", s * 1e300) for q in range(1, 5) for x, s in (("a", 3.0), ("b", 2.0), ("c", 1.0))])
    small = frame([(str(q), f"d{q}{x}", s) for q in range(1, 5) for x, s in (("a", 1.0), ("b", 2.0), ("c", 3.0))])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_weights([big, small], str(qrels), norm="none", metric="map", n_splits=2, random_state=0)
    said = [str(w.message) for w in caught if "score(s) of the fused run" in str(w.message)]
    assert len(said) == 1 and "beyond float32's range" in said[0]  # 11 candidate weightings said it 11 times


def test_a_bad_metric_to_fit_and_a_bad_seed_to_compare_are_usage_errors_naming_the_option(run_files, tmp_path,
                                                                                          capsys):
    # they exited 1 (a data error) without the option's name, after reading the runs (trial t47/options)
    paths, qrels, _ = run_files
    assert main(["fuse", *paths, "--method", "wsum", "--fit-weights", "--qrels", qrels, "--metric", "foo", "--out",
                 str(tmp_path / "f.run")]) == 2
    assert capsys.readouterr().err.startswith("ltr fuse: error: --metric: unknown metric 'foo'; known metrics: [")
    assert not (tmp_path / "f.run").exists()
    assert main(["compare", *paths, "--qrels", qrels, "--seed", "-1"]) == 2
    assert capsys.readouterr().err == ("ltr compare: error: argument --seed: '-1': a seed, an integer from 0 to "
                                       "2**32 - 1 (see ltr compare --help)\n")


def test_fit_weights_folds_beyond_the_queries_name_the_flag(tmp_path, capsys):
    """The command line's error named the Python parameter n_splits (trial t48/experiments)."""
    runs = []
    for name, order in (("a", "d1 d2"), ("b", "d2 d1")):
        p = tmp_path / f"{name}.run"
        p.write_text("".join(f"{q} Q0 {d} {i + 1} {3 - i} {name}\n" for q in (1, 2, 3)
                             for i, d in enumerate(order.split())))
        runs.append(str(p))
    (tmp_path / "qrels").write_text("1 0 d1 1\n2 0 d2 1\n3 0 d1 1\n")
    assert main(["fuse", *runs, "--fit-weights", "--qrels", str(tmp_path / "qrels"), "--folds", "50", "--out",
                 str(tmp_path / "f.run")]) == 2
    assert capsys.readouterr().err == ("ltr fuse: error: --folds 50: must be an integer in [2, 3] (the runs' "
                                       "judged queries)\n")


def test_fit_weights_takes_the_relevance_level_and_errs_highest_grade(tmp_path, capsys):
    """ERR on qrels with a grade above 4, or a metric at relevance level 2, could not be fitted: the errors sent the
    user to --max-grade and --relevance-level, which ltr fuse refused as unrecognized (trial t49)."""
    from ltr.metrics import evaluate_run

    (tmp_path / "g6.qrels").write_text("1 0 a 6\n1 0 b 1\n1 0 c 0\n2 0 a 2\n2 0 d 1\n3 0 e 1\n3 0 f 0\n")
    (tmp_path / "x.run").write_text("1 Q0 a 1 3 x\n1 Q0 b 2 2 x\n1 Q0 c 3 1 x\n2 Q0 a 1 2 x\n2 Q0 d 2 1 x\n"
                                    "3 Q0 e 1 2 x\n3 Q0 f 2 1 x\n")
    (tmp_path / "y.run").write_text("1 Q0 c 1 3 y\n1 Q0 a 2 2 y\n2 Q0 d 1 2 y\n2 Q0 a 2 1 y\n3 Q0 f 1 2 y\n"
                                    "3 Q0 e 2 1 y\n")
    runs, qrels = [str(tmp_path / "x.run"), str(tmp_path / "y.run")], str(tmp_path / "g6.qrels")
    for metric, conventions in (("err@10", {"max_grade": 6.0}), ("p@2", {"rel_threshold": 2.0})):
        fitted = fit_weights(runs, qrels, metric=metric, n_splits=3, **conventions)
        # its out-of-fold mean is the metric of its run at those conventions, by the evaluator alone
        assert fitted.mean == evaluate_run(read_qrels(qrels), fitted.run, [metric], **conventions)[metric]
    base = ["fuse", *runs, "--method", "wsum", "--fit-weights", "--qrels", qrels, "--folds", "3", "--format", "json",
            "--out", str(tmp_path / "f.run")]
    assert main([*base, "--metric", "err@10"]) == 1
    assert "pass --max-grade G" in capsys.readouterr().err
    assert main([*base, "--metric", "err@10", "--max-grade", "6"]) == 0
    assert json.loads(capsys.readouterr().out)["mean"] == fit_weights(runs, qrels, metric="err@10", n_splits=3,
                                                                      max_grade=6.0).mean
    assert main([*base, "--metric", "p@2", "-l", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["mean"] == fit_weights(runs, qrels, metric="p@2", n_splits=3,
                                                                      rel_threshold=2.0).mean
    assert main(["fuse", *runs, "--method", "rrf", "--max-grade", "6", "--out", str(tmp_path / "g.run")]) == 2
    assert "--max-grade goes with --fit-weights" in capsys.readouterr().err


@pytest.mark.parametrize("search, step, says", [
    ("coordinate", "1e-9", "--step 1e-09 gives 1000000001 values a weight, and coordinate search scores every one"),
    ("coordinate", "0.0001", "--step 0.0001 gives 10001 values a weight"),
    ("grid", "0.00001", "--step 1e-05: a grid with step 1e-05 over 2 runs has 100001 points"),
])
def test_a_weight_step_whose_search_is_too_large_is_refused_before_the_runs_are_read(run_files, tmp_path, capsys,
                                                                                    search, step, says):
    """--search coordinate --step 1e-9 built a list of a billion weights before scoring anything (t49's 'left
    alone'); a grid too large was refused only after the runs were read, as a data error (exit 1)."""
    paths, qrels, _ = run_files
    args = ["fuse", *paths, "--method", "wsum", "--fit-weights", "--qrels", qrels, "--folds", "2", "--out",
            str(tmp_path / "f.run"), "--search", search]
    assert main([*args, "--step", step]) == 2
    err = capsys.readouterr().err
    assert says in err and not (tmp_path / "f.run").exists()
    if step != "1e-9":
        with pytest.raises(OptionError, match=re.escape(says.split(": ", 1)[-1].replace("--step ", "step "))):
            fit_weights(paths, qrels, method="wsum", search=search, step=float(step), n_splits=2)
    assert main([*args, "--step", "0.25"]) == 0
