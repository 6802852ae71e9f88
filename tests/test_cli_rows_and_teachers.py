"""Per-row files follow the data file's line order under ``--sort`` and ``--unjudged drop`` (``ltr evaluate
--scores``, ``ltr train --teacher-scores``), ``--teacher-column`` is the file's feature id before a ``--features``
subset, the distillation options' refusals, ``ltr predict --unjudged drop``'s wording, and the query-id map
(one-to-one, covering the data, errors with file:line:token)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltr._shared import import_reference
from ltr.cli import main
from ltr.exceptions import FileFormatError
from ltr.io.qidmap import qid_map_path, read_qid_map, write_qid_map

LOUD = ["--rounds", "12", "--leaves", "5", "--min-child-samples", "3", "--preset", "none", "--early-stopping", "0",
        "--n-jobs", "1", "--seed", "1"]
FAST = [*LOUD, "--quiet"]
DISTILL = ["--objective", "distill", "--kernel", "numba"]


def interleaved(n_queries=8, n_docs=12, n_features=7, seed=0, unjudged=0.0):
    """LETOR lines whose queries are split into blocks and interleaved (qid 1's first half, qid 2, qid 1's second
    half, ...): ``--sort`` reorders them. Returns the lines' fields: qids, doc ids, labels, features."""
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(1, n_queries + 1):
        labels = rng.integers(0, 3, n_docs)
        labels[0] = 2  # every query has a relevant document (no convention for the others)
        if unjudged:
            labels[1:][rng.random(n_docs - 1) < unjudged] = -1
        X = rng.normal(size=(n_docs, n_features)).round(4)
        X[:, -1] = (X[:, 0] - 0.5 * X[:, 1] + 0.3 * labels).round(4)  # the last column: a teacher's score
        rows.append([(q, f"D{q}-{i}", int(labels[i]), X[i]) for i in range(n_docs)])
    out = []
    for a in range(0, n_queries, 2):
        first, second = rows[a], rows[a + 1]
        half = len(first) // 2
        out += first[:half] + second + first[half:]
    return out


def write_lines(path, rows):
    with open(path, "w") as f:
        for q, doc, label, x in rows:
            feats = " ".join(f"{j + 1}:{v:g}" for j, v in enumerate(x))
            f.write(f"{label} qid:{q} {feats} #docid = {doc}\n")
    return path


def write_column(path, values):
    np.savetxt(path, np.asarray(values, dtype=np.float64), fmt="%.17g")
    return path


def ir_measures_ndcg10(rows, scores):
    """nDCG@10 per query by ir_measures (exp2 gains, as LightGBM's and ltr's default for LETOR scores)."""
    ir_measures = import_reference("ir_measures")
    qrels = [ir_measures.Qrel(str(q), d, int(lab)) for q, d, lab, _ in rows if lab >= 0]
    run = [ir_measures.ScoredDoc(str(q), d, float(s)) for (q, d, lab, _), s in zip(rows, scores) if lab >= 0]
    measure = ir_measures.nDCG(gains={0: 0, 1: 1, 2: 3}) @ 10
    return {m.query_id: m.value for m in ir_measures.iter_calc([measure], qrels, run)}


def per_query(capsys, argv):
    capsys.readouterr()
    assert main(argv) == 0, capsys.readouterr().err
    return {q: v["ndcg@10"] for q, v in json.loads(capsys.readouterr().out)["per_query"].items()}


# -- 1. ltr evaluate --scores with --sort / --unjudged drop ----------------------------------------------------------
def test_evaluate_sort_pairs_file_order_scores_with_their_rows_as_ir_measures(tmp_path, capsys):
    rows = interleaved()
    data = write_lines(tmp_path / "d.txt", rows)
    scores = np.random.default_rng(1).normal(size=len(rows))
    s = write_column(tmp_path / "s.txt", scores)
    expected = ir_measures_ndcg10(rows, scores)
    got = per_query(capsys, ["evaluate", str(data), "--scores", str(s), "--sort", "--metrics", "ndcg@10", "-q",
                             "--format", "json"])
    assert set(got) == set(expected)
    for q in expected:
        assert got[q] == pytest.approx(expected[q], abs=1e-12), q


def test_evaluate_unjudged_drop_takes_a_file_of_every_row_or_of_the_kept_rows(tmp_path, capsys):
    rows = interleaved(seed=2, unjudged=0.3)
    data = write_lines(tmp_path / "d.txt", rows)
    scores = np.random.default_rng(3).normal(size=len(rows))
    kept = np.array([lab >= 0 for _, _, lab, _ in rows])
    expected = ir_measures_ndcg10(rows, scores)
    for name, values in (("all.txt", scores), ("kept.txt", scores[kept])):
        s = write_column(tmp_path / name, values)
        got = per_query(capsys, ["evaluate", str(data), "--scores", str(s), "--sort", "--unjudged", "drop",
                                 "--metrics", "ndcg@10", "-q", "--format", "json"])
        assert got == pytest.approx(expected, abs=1e-12), name
    bad = write_column(tmp_path / "bad.txt", scores[:5])
    capsys.readouterr()
    assert main(["evaluate", str(data), "--scores", str(bad), "--sort", "--unjudged", "drop"]) == 1
    assert f"bad.txt: --scores: 5 scores for the {len(rows)} rows of the data" in capsys.readouterr().err


def test_predict_sort_then_evaluate_sort_is_evaluate_of_the_sorted_file(tmp_path, capsys):
    rows = interleaved(seed=4)
    data = write_lines(tmp_path / "d.txt", rows)
    ordered = write_lines(tmp_path / "sorted.txt", sorted(rows, key=lambda r: r[0]))  # stable, by query
    model = tmp_path / "m.txt"
    assert main(["train", str(ordered), "--out", str(model), *FAST]) == 0
    for src, out, extra in ((data, "a.txt", ["--sort"]), (ordered, "b.txt", [])):
        assert main(["predict", str(model), str(src), "--out", str(tmp_path / out), "--quiet", *extra]) == 0
    a = per_query(capsys, ["evaluate", str(data), "--scores", str(tmp_path / "a.txt"), "--sort", "--metrics",
                           "ndcg@10", "-q", "--format", "json"])
    b = per_query(capsys, ["evaluate", str(ordered), "--scores", str(tmp_path / "b.txt"), "--metrics", "ndcg@10",
                           "-q", "--format", "json"])
    assert a == pytest.approx(b, abs=1e-12)


# -- 2. ltr train --sort --teacher-scores (a per-row file) -----------------------------------------------------------
def test_teacher_scores_in_file_order_teach_the_sorted_rows_as_the_presorted_file_does(tmp_path, capsys):
    rows = interleaved(seed=5)
    teacher = np.array([r[3][-1] for r in rows])
    data = write_lines(tmp_path / "d.txt", [(q, d, lab, x[:-1]) for q, d, lab, x in rows])
    order = sorted(range(len(rows)), key=lambda i: rows[i][0])  # the stable sort by query, by hand
    presorted = write_lines(tmp_path / "p.txt", [(q, d, lab, x[:-1]) for q, d, lab, x in (rows[i] for i in order)])
    write_column(tmp_path / "t.scores", teacher)
    write_column(tmp_path / "tp.scores", teacher[order])
    for src, t, out, extra in ((data, "t.scores", "a.txt", ["--sort"]), (presorted, "tp.scores", "b.txt", [])):
        code = main(["train", str(src), *DISTILL, "--teacher-scores", str(tmp_path / t), "--out", str(tmp_path / out),
                     *FAST, *extra])
        assert code == 0, capsys.readouterr().err
        assert main(["predict", str(tmp_path / out), str(presorted), "--out", str(tmp_path / (out + ".s")),
                     "--quiet"]) == 0
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "a.txt.s"), np.loadtxt(tmp_path / "b.txt.s"))
    meta = json.loads((tmp_path / "a.txt.meta.json").read_text())
    assert meta["params"]["objective_params"]["teacher"] == {"scores": str(tmp_path / "t.scores")}


# -- 3. --teacher-column is the file's feature id, before --features -------------------------------------------------
def _train_predict(tmp_path, capsys, name, data, flags, quiet=True):
    out = tmp_path / name
    code = main(["train", str(data), *DISTILL, "--out", str(out), *(FAST if quiet else LOUD), *flags])
    assert code == 0, capsys.readouterr().err
    assert main(["predict", str(out), str(data), "--out", str(tmp_path / (name + ".s")), "--quiet"]) == 0
    return np.loadtxt(tmp_path / (name + ".s"))


def test_teacher_column_is_the_files_feature_id_inside_or_outside_the_subset(tmp_path, capsys):
    rows = interleaved(seed=6)
    X = np.array([r[3] for r in rows])
    data = write_lines(tmp_path / "d.txt", sorted(rows, key=lambda r: r[0]))
    X = X[sorted(range(len(rows)), key=lambda i: rows[i][0])].astype(np.float32)  # as the reader holds them
    col3, col7 = write_column(tmp_path / "c3", X[:, 2]), write_column(tmp_path / "c7", X[:, 6])
    # inside the subset: feature 3 teaches, and the student never uses it (as features 1,5 with its scores)
    inside = _train_predict(tmp_path, capsys, "in.txt", data, ["--features", "1,3,5", "--teacher-column", "3",
                                                                "--format", "csv"], quiet=False)
    assert "teacher column 3 (feature id 3) is also a selected feature" in capsys.readouterr().err
    reference = _train_predict(tmp_path, capsys, "ref.txt", data, ["--features", "1,5", "--teacher-scores", str(col3)])
    np.testing.assert_array_equal(inside, reference)
    # outside it: feature 7 teaches a student of features 1,2 (it was refused as 'beyond the data's 2 features')
    outside = _train_predict(tmp_path, capsys, "out.txt", data, ["--features", "1,2", "--teacher-column", "7"])
    reference = _train_predict(tmp_path, capsys, "ref2.txt", data, ["--features", "1,2", "--teacher-scores",
                                                                     str(col7)])
    np.testing.assert_array_equal(outside, reference)
    # --drop-features: id 7 of the 7-feature file, not 'beyond the data's 6 features'
    dropped = _train_predict(tmp_path, capsys, "drop.txt", data, ["--drop-features", "1", "--teacher-column", "7"])
    reference = _train_predict(tmp_path, capsys, "ref3.txt", data, ["--features", "2,3,4,5,6", "--teacher-scores",
                                                                     str(col7)])
    np.testing.assert_array_equal(dropped, reference)
    capsys.readouterr()
    assert main(["train", str(data), *DISTILL, "--features", "1,2", "--teacher-column", "8", *FAST]) == 2
    assert "--teacher-column 8: teacher column 8 is beyond the data's 7 features" in capsys.readouterr().err


# -- 4, 5. distillation refusals ----------------------------------------------------------------------------------
@pytest.mark.parametrize("objective", ["distill", "listnet"])
@pytest.mark.parametrize("kernel", ["native", "numba"])
def test_linear_engine_with_a_gradient_objective_is_one_message(tmp_path, capsys, objective, kernel):
    data = write_lines(tmp_path / "d.txt", interleaved(n_queries=2, n_docs=3))
    teacher = ["--teacher-column", "7"] if objective == "distill" else []
    assert main(["train", str(data), "--sort", "--engine", "linear", "--objective", objective, "--kernel", kernel,
                 *teacher]) == 2
    err = capsys.readouterr().err
    assert f"--objective {objective} is a gradient objective: it needs --engine lightgbm or xgboost" in err
    assert "--engine linear optimises a metric" in err
    assert "leave --kernel native" not in err and "add --kernel numba" not in err


@pytest.mark.parametrize(("flag", "param"), [(["--temperature", "2"], "temperature=5"),
                                             (["--alpha", "0.3"], "alpha=0.9"),
                                             (["--margin-weight", "0.1"], "margin_weight=0.2")])
def test_a_distill_flag_and_the_same_objective_param_are_refused(tmp_path, capsys, flag, param):
    data = write_lines(tmp_path / "d.txt", interleaved(n_queries=2, n_docs=3))
    assert main(["train", str(data), "--sort", *DISTILL, "--teacher-column", "7", *flag, "--objective-param",
                 param]) == 2
    err = capsys.readouterr().err
    assert f"{flag[0]} {flag[1]} and --objective-param {param} both set" in err and "give one" in err


# -- 6. ltr predict --unjudged drop ----------------------------------------------------------------------------------
def test_predict_unjudged_drop_says_the_file_has_no_line_for_a_dropped_row(tmp_path, capsys):
    rows = interleaved(n_queries=4, seed=7, unjudged=0.3)
    data = write_lines(tmp_path / "d.txt", rows)
    model = tmp_path / "m.txt"
    assert main(["train", str(data), "--sort", "--unjudged", "drop", "--out", str(model), *FAST]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(data), "--sort", "--unjudged", "drop", "--out",
                 str(tmp_path / "s")]) == 0
    err = capsys.readouterr().err
    assert "a dropped row has no line, so the file does not line up with DATA's lines" in err
    n_kept = sum(lab >= 0 for _, _, lab, _ in rows)
    assert np.loadtxt(tmp_path / "s").size == n_kept < len(rows)  # the behaviour is kept
    assert main(["predict", "--help"]) == 0
    assert "the dropped rows have no line" in " ".join(capsys.readouterr().out.split())


# -- 7. the query-id map --------------------------------------------------------------------------------------------
@pytest.fixture
def scored(tmp_path):
    rows = sorted(interleaved(n_queries=4, n_docs=5, seed=8), key=lambda r: r[0])
    data = write_lines(tmp_path / "d.txt", rows)
    model = tmp_path / "m.txt"
    assert main(["train", str(data), "--out", str(model), *FAST]) == 0
    return data, model


def test_a_map_covering_every_query_names_the_run_by_the_original_ids(scored, capsys):
    data, model = scored
    write_qid_map(qid_map_path(data), {f"Q-{q}": q for q in range(1, 5)})
    out = data.with_name("o.run")
    assert main(["predict", str(model), str(data), "--run", "--out", str(out), "--quiet"]) == 0
    assert sorted({line.split()[0] for line in out.read_text().splitlines()}) == ["Q-1", "Q-2", "Q-3", "Q-4"]


@pytest.mark.parametrize(("text", "says"), [
    (b"1\tQ1\n2\tQ1\n3\tQ3\n4\tQ4\n", ":2: original id 'Q1' is mapped twice (from LETOR qid 1 on line 1 and 2 here)"),
    (b"1\tQ1\n2\tQ2\n", ": the query-id map lacks 2 of the 4 LETOR qids"),
    ("\u00b2\tQ1\n".encode(), ":1: a LETOR qid is an integer (ASCII digits) (token '\u00b2')"),
    (b"1\tQ1\n2\tQ\xff\n", ":2: not UTF-8 (byte ff at column 4)"),
])
def test_a_bad_map_is_refused_naming_the_map_file_line_and_token(scored, capsys, text, says):
    data, model = scored
    qid_map_path(data).write_bytes(text)
    capsys.readouterr()
    assert main(["predict", str(model), str(data), "--run", "--out", str(data.with_name("o.run"))]) == 1
    err = capsys.readouterr().err
    assert f"{qid_map_path(data)}{says}" in err, err
    assert "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("original", ["", "Q1\r", "Q 1", "Q\u00a01", "Q\t1"])
def test_write_qid_map_refuses_what_read_qid_map_cannot_read_back(tmp_path, original):
    with pytest.raises(ValueError, match="is empty or contains a blank"):
        write_qid_map(tmp_path / "m.tsv", {original: 1})
    with pytest.raises(ValueError, match="mapped twice"):
        write_qid_map(tmp_path / "m.tsv", [("Q1", 1), ("Q1", 2)])
    write_qid_map(tmp_path / "m.tsv", {"Q-1": 1, "PLAIN-10": 2})
    assert read_qid_map(tmp_path / "m.tsv") == {"1": "Q-1", "2": "PLAIN-10"}
    (tmp_path / "c.tsv").write_bytes(b"1\tQ-1\r\n2\tQ-2\r\n")
    assert read_qid_map(tmp_path / "c.tsv") == {"1": "Q-1", "2": "Q-2"}
    with pytest.raises(FileFormatError, match=r"c2.tsv:2: LETOR qid 1 is mapped twice"):
        (tmp_path / "c2.tsv").write_bytes(b"1\tQ-1\n1\tQ-2\n")
        read_qid_map(tmp_path / "c2.tsv")


def test_evaluate_names_the_line_of_a_duplicated_document_in_a_run_as_fuse_does(tmp_path, capsys):
    # "dup.run: run lists document 'a' twice for query '1'" named no line, where ltr fuse names both
    (tmp_path / "dup.run").write_text("1 Q0 a 1 3.0 t\n1 Q0 b 2 2.0 t\n1 Q0 a 3 1.0 t\n")
    (tmp_path / "d.qrels").write_text("1 0 a 1\n")
    assert main(["evaluate", "--qrels", str(tmp_path / "d.qrels"), "--run", str(tmp_path / "dup.run")]) == 1
    assert capsys.readouterr().err.strip() == (f"ltr evaluate: error: {tmp_path / 'dup.run'}:3: query 1 lists document "
                                               "a twice (first on line 1) (token 'a'); trec_eval refuses duplicates")


# -- the same rules in ltr cv and ltr tune, and with --dataset --------------------------------------------------------
@pytest.mark.parametrize("command", [["cv", "--folds", "2"], ["tune", "--trials", "1", "--outer-folds", "2",
                                                               "--inner-folds", "2"]])
def test_cv_and_tune_word_a_gradient_objective_with_the_linear_engine_as_train_does(tmp_path, capsys, command):
    data = write_lines(tmp_path / "d.txt", interleaved(n_queries=4, n_docs=3))
    assert main([command[0], str(data), *command[1:], "--sort", "--engine", "linear", "--objective", "listnet",
                 "--kernel", "numba"]) == 2
    err = capsys.readouterr().err
    assert "--objective listnet is a gradient objective: it needs --engine lightgbm or xgboost" in err
    assert "leave --kernel native" not in err


def test_cv_refuses_a_per_row_teacher_file_with_sort_and_a_teacher_column_with_a_subset(tmp_path, capsys):
    rows = interleaved(n_queries=4, n_docs=4)
    data = write_lines(tmp_path / "d.txt", rows)
    teacher = write_column(tmp_path / "t.scores", [x[-1] for *_, x in rows])
    assert main(["cv", str(data), "--folds", "2", "--sort", *DISTILL, "--teacher-scores", str(teacher)]) == 2
    assert "under cross-validation each fold trains on rows of its own, which one score per line cannot follow" \
        in capsys.readouterr().err
    assert main(["cv", str(data), "--folds", "2", "--sort", *DISTILL, "--teacher-column", "7", "--features",
                 "1,3,7"]) == 2
    assert "--teacher-column 7 with --features: under cross-validation the column would be counted within the " \
           "subset" in capsys.readouterr().err


def test_dataset_names_keep_the_rows_place_for_a_score_file_under_sort(tmp_path, capsys):
    # --dataset gave the rows the set's feature names by rebuilding the dataset, which lost where --sort had put
    # each row: ltr evaluate --scores paired the file's lines with the sorted rows again
    rows = interleaved(n_queries=6, n_docs=8, n_features=46, seed=5)
    data = write_lines(tmp_path / "d.txt", rows)
    scores = np.random.default_rng(6).normal(size=len(rows))
    s = write_column(tmp_path / "s.txt", scores)
    expected = ir_measures_ndcg10(rows, scores)
    got = per_query(capsys, ["evaluate", str(data), "--scores", str(s), "--sort", "--dataset", "mq2008",
                             "--metrics", "ndcg@10", "-q", "--format", "json"])
    assert got == pytest.approx(expected, abs=1e-12)


def test_cv_run_out_refuses_a_map_that_misses_queries_of_the_data(tmp_path, capsys):
    # CVResult.run kept unmapped queries under their LETOR numbers, silently
    data = write_lines(tmp_path / "d.txt", sorted(interleaved(n_queries=4, n_docs=4), key=lambda r: r[0]))
    (tmp_path / "d.txt.qids.tsv").write_text("1\tQ-A\n2\tQ-B\n3\tQ-C\n")  # query 4 is not in it
    assert main(["cv", str(data), "--folds", "2", "--rounds", "2", "--min-child-samples", "1", "--quiet",
                 "--run-out", str(tmp_path / "cv.run")]) == 1
    err = capsys.readouterr().err
    assert "the query-id map lacks 1 of the 4 LETOR qids" in err and "(token '4')" in err
    assert not (tmp_path / "cv.run").exists()
    (tmp_path / "d.txt.qids.tsv").write_text("1\tQ-A\n2\tQ-B\n3\tQ-C\n4\tQ-D\n")
    assert main(["cv", str(data), "--folds", "2", "--rounds", "2", "--min-child-samples", "1", "--quiet",
                 "--run-out", str(tmp_path / "cv.run")]) == 0
    assert {line.split()[0] for line in (tmp_path / "cv.run").read_text().splitlines()} == {"Q-A", "Q-B", "Q-C", "Q-D"}


def test_an_infinite_teacher_score_is_named_by_its_file_line_as_a_nan_is(tmp_path, capsys):
    # it was "scores query 1, document D1-3 (row 10) inf": a row counted from 0, not the file's line
    rows = sorted(interleaved(n_queries=2, n_docs=6), key=lambda r: r[0])
    data = write_lines(tmp_path / "d.txt", rows)
    values = [f"{x[-1]:g}" for *_, x in rows]
    values[10] = "-inf"
    (tmp_path / "t.scores").write_text("\n".join(values) + "\n")
    assert main(["train", str(data), *DISTILL, "--teacher-scores", str(tmp_path / "t.scores"), *FAST]) == 1
    assert capsys.readouterr().err.strip() == (f"ltr train: error: {tmp_path / 't.scores'}:11: teacher scores must be "
                                               "finite, got -inf (1 such line(s) in all) (token '-inf')")
