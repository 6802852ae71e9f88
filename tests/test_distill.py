"""Distillation through the estimator and the command line: every form of teacher, the teacher column excluded
from the student (in training, in predict and in a saved model), errors naming query and document, both engines,
cross-validation."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from sklearn.base import clone

import ltr
from ltr import Ranker, make_ranking
from ltr.cli import main
from ltr.io import read_letor, run_from_scores, write_letor, write_run, write_scores
from ltr.io.qidmap import write_qid_map
from ltr.rankers.teacher import TeacherModel

FAST = {"n_estimators": 25, "min_child_samples": 5, "num_leaves": 7, "n_jobs": 1, "learning_rate": 0.2}


def with_teacher(d, seed=0):
    """``d`` plus a 7th column 'teacher': a smooth function of the first features, so a student can learn it."""
    X = np.asarray(d.X, dtype=np.float64)
    t = 2.0 * X[:, 0] - X[:, 1] + 0.5 * X[:, 2] ** 2 + np.random.default_rng(seed).normal(scale=0.05, size=d.n_rows)
    names = (*d.feature_names, "teacher")
    docs = np.array([f"D{q}-{i}" for q, i in zip(d.qid, range(d.n_rows))], dtype=object)
    return replace(d, X=np.column_stack([d.X, t]).astype(np.float32), feature_names=names, doc_ids=docs), t


@pytest.fixture(scope="module")
def data():
    return with_teacher(make_ranking(40, (5, 15), 6, random_state=0))


def mean_kendall(a, b, ptr):
    from scipy.stats import kendalltau

    taus = [kendalltau(a[ptr[q]:ptr[q + 1]], b[ptr[q]:ptr[q + 1]]).statistic for q in range(ptr.size - 1)
            if ptr[q + 1] - ptr[q] > 2]
    return float(np.nanmean(taus))


def distiller(teacher, **kw):
    return Ranker(objective="distill", kernel="numba", objective_params={"teacher": teacher, **kw}, **FAST)


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
@pytest.mark.parametrize("teacher", [7, "teacher", {"column": "teacher"}])
def test_a_teacher_column_is_learnt_from_but_never_used_by_the_student(data, engine, teacher, tmp_path):
    d, t = data
    model = distiller(teacher, temperature=1.0).set_params(engine=engine).fit(d)
    assert model.n_features_in_ == 7
    assert model.feature_importance("split")[6] == 0  # no split on the teacher's column
    scores = model.predict(d)
    assert mean_kendall(scores, t, np.asarray(d.group_ptr)) > 0.6  # it learnt the teacher's order
    shuffled = d.X.copy()
    shuffled[:, 6] = np.random.default_rng(1).normal(size=d.n_rows)
    np.testing.assert_array_equal(model.predict(replace(d, X=shuffled)), scores)
    # the saved model takes the data with the column and ignores it
    model.save(tmp_path / "m.txt")
    loaded = ltr.load_model(tmp_path / "m.txt")
    np.testing.assert_array_equal(loaded.predict(d), scores)
    np.testing.assert_array_equal(loaded.predict(replace(d, X=shuffled)), scores)


@pytest.mark.parametrize("fmt, family", [("es-xgboost", "es"), ("es-ranklib", "es"), ("solr", "solr")])
def test_an_exported_students_feature_set_computes_nothing_for_its_teachers_column(data, fmt, family):
    import json

    from ltr.export import export

    d, _ = data
    model = distiller("teacher").fit(d)
    out = export(model, fmt, inexact="nearest")  # generated features near 0: thresholds Solr cannot hold
    assert "teacher" in out.feature_names and "teacher" not in out.text  # the engine needs it in the set: no split
    text, notes = out.feature_set()
    feats = json.loads(text)["featureset"]["features"] if family == "es" else json.loads(text)
    by = {f["name"]: f for f in feats}
    if family == "es":  # a query that matches nothing: the plugin computes nothing, no template left to fill
        assert by["teacher"]["template"] == {"match_none": {}}
    else:
        assert (by["teacher"]["class"], by["teacher"]["params"]) == ("org.apache.solr.ltr.feature.ValueFeature",
                                                                    {"value": 0})
    assert [f["name"] for f in feats] == list(out.feature_names)  # positions kept (RankLib ids, plugin ordinals)
    assert any("read by no part of the model" in n and "teacher" in n for n in notes)


def test_the_teacher_column_is_excluded_with_a_normaliser_and_validation_sets(data):
    d, t = data
    valid = with_teacher(make_ranking(10, 8, 6, random_state=5))[0]
    model = distiller(7).set_params(normalize="zscore", early_stopping_rounds=5).fit(d, eval_set=[valid])
    assert model.feature_importance("gain")[6] == 0
    assert model.evals_result_["valid_0"]["ndcg@10"]


def test_an_array_a_scores_file_and_a_trec_run_teach_the_same_student(data, tmp_path):
    d, t = data
    base = distiller(t).fit(d).predict(d)
    assert mean_kendall(base, t, np.asarray(d.group_ptr)) > 0.6  # it learnt the teacher's order
    path = write_scores(tmp_path / "t.scores", t)
    np.testing.assert_allclose(distiller({"scores": str(path)}).fit(d).predict(d), base, rtol=0, atol=0)
    run = run_from_scores(d.qid.astype(str), d.doc_ids, t)
    write_run(tmp_path / "t.run", run.iloc[::-1])  # any order: joined on query and document ids
    np.testing.assert_array_equal(distiller({"scores": str(tmp_path / "t.run")}).fit(d).predict(d), base)
    tsv = tmp_path / "t.tsv"  # the neural_file scorer's form: qid<TAB>docid<TAB>score
    tsv.write_text("# teacher\n" + "".join(f"{q}\t{doc}\t{v!r}\n" for q, doc, v in
                                             zip(run["qid"], run["docno"], run["score"])))
    np.testing.assert_array_equal(distiller({"scores": str(tsv)}).fit(d).predict(d), base)
    tsv.write_text(f"{run['qid'].iat[0]}\t{run['docno'].iat[0]}\t1\n{run['qid'].iat[0]}\t{run['docno'].iat[0]}\t2\n")
    with pytest.raises(ValueError, match=r"t.tsv:2: query .* has a score on line 1 already"):
        distiller({"scores": str(tsv)}).fit(d)
    q, doc = run["qid"].iat[0], run["docno"].iat[0]
    (tmp_path / "dup.run").write_text(f"{q} Q0 {doc} 1 2.0 t\n{q} Q0 {doc} 2 1.0 t\n")
    with pytest.raises(ValueError, match=rf"dup.run:2: teacher run: query {q} lists document {doc} twice "
                                         r"\(first on line 1\)"):
        distiller({"scores": str(tmp_path / "dup.run")}).fit(d)


def test_a_trec_run_teacher_follows_the_query_id_map_and_serves_each_fold(data, tmp_path):
    d, t = data
    path = write_letor(tmp_path / "d.txt", d)
    write_qid_map(str(path) + ".qids.tsv", {f"Q-{q}": int(q) for q in np.unique(d.qid)})
    write_run(tmp_path / "t.run", run_from_scores([f"Q-{q}" for q in d.qid], d.doc_ids, t))
    read = read_letor(path)
    part = read.subset(np.arange(5, 20))  # a fold's training part
    model = distiller({"scores": str(tmp_path / "t.run")}).fit(part)
    ref = distiller(t[read.group_ptr[5]:read.group_ptr[20]]).fit(part)
    np.testing.assert_array_equal(model.predict(part), ref.predict(part))


def test_a_fitted_model_teaches_and_survives_clone(data):
    d, t = data
    teacher = Ranker(**FAST).fit(d)
    bare = distiller(teacher).fit(d)  # a bare fitted model works when fitted directly
    assert mean_kendall(bare.predict(d), teacher.predict(d), np.asarray(d.group_ptr)) > 0.6  # it follows its teacher
    wrapped = distiller(TeacherModel(teacher))
    np.testing.assert_array_equal(clone(wrapped).fit(d).predict(d), bare.predict(d))
    with pytest.raises(ValueError, match="teacher model is not fitted.*TeacherModel"):
        clone(distiller(teacher)).fit(d)


@pytest.mark.parametrize(("teacher", "match"), [
    (None, "needs a teacher"),
    (9, "beyond the data's 7 features"),
    ("bm25", "not among the data's feature names"),
    ({"model": "teacher.txt"}, "load the model first"),
    ({"column": 1.5}, "1-based feature id or a feature name"),
    (np.zeros(3), r"3 given for \d+ training rows"),
])
def test_bad_teachers_are_refused_with_the_fix(data, teacher, match):
    with pytest.raises((ValueError, TypeError), match=match):
        distiller(teacher).fit(data[0])


def test_a_nan_teacher_names_the_query_and_the_document(data, tmp_path):
    d, t = data
    bad = t.copy()
    bad[17] = np.nan
    q, doc = d.qid[17], d.doc_ids[17]
    with pytest.raises(ValueError, match=rf"query {q}, document {doc} \(row 17, counting from 0\) nan"):
        distiller(bad).fit(d)
    X = d.X.copy()
    X[17, 6] = np.nan
    with pytest.raises(ValueError, match=rf"column 7 \('teacher'\).*query {q}, document {doc}"):
        distiller("teacher").fit(replace(d, X=X))
    write_run(tmp_path / "short.run", run_from_scores(d.qid[1:].astype(str), d.doc_ids[1:], t[1:]))
    with pytest.raises(ValueError, match=rf"no score for query {d.qid[0]}, document {d.doc_ids[0]} \(row 0"):
        distiller({"scores": str(tmp_path / "short.run")}).fit(d)
    # the teacher's query ids with leading zeros: the cause is named (it said only that the rows were missing)
    padded = np.array([f"00{q}" for q in d.qid.astype(str)])
    write_run(tmp_path / "padded.run", run_from_scores(padded, d.doc_ids, t))
    with pytest.raises(ValueError, match=rf"missing from it\); its query ids are the data's with leading zeros "
                                         rf"\('00{d.qid[0]}' -> '{d.qid[0]}', .*: write them as the data does$"):
        distiller({"scores": str(tmp_path / "padded.run")}).fit(d)
    header = tmp_path / "header.tsv"
    header.write_text("qid\tdocid\tscore\n" + "".join(f"{q}\t{doc}\t{v}\n" for q, doc, v in zip(d.qid, d.doc_ids, t)))
    with pytest.raises(ValueError, match=r"header.tsv:1: the score must be a finite number; a header line\? score "
                                         r"files have none"):
        distiller({"scores": str(header)}).fit(d)
    underscored = tmp_path / "underscored.tsv"  # Python's float() reads 1_000 as 1000: no score file means it so
    underscored.write_text("".join(f"{q}\t{doc}\t{'1_000' if i == 2 else v}\n"
                                   for i, (q, doc, v) in enumerate(zip(d.qid, d.doc_ids, t))))
    with pytest.raises(ValueError, match=r"underscored.tsv:3: the score must be a finite number \(token '1_000'\)"):
        distiller({"scores": str(underscored)}).fit(d)


def test_a_teacher_error_names_the_training_files_line_when_the_data_was_read_from_one(data, tmp_path):
    # "row 17" counted the rows from 0 and skipped the header line: a reader of the file looked at another line
    d, t = data
    write_letor(tmp_path / "train.txt", d)  # a header line first: row r is on line r + 2
    read = read_letor(tmp_path / "train.txt")
    lines = (tmp_path / "train.txt").read_text().splitlines()
    write_run(tmp_path / "short.run", run_from_scores(d.qid[:17].astype(str), d.doc_ids[:17], t[:17]))
    with pytest.raises(ValueError, match=rf"no score for query {d.qid[17]}, document {d.doc_ids[17]} "
                                         rf"\({re.escape(str(tmp_path / 'train.txt'))}:19; "):
        distiller({"scores": str(tmp_path / "short.run")}).fit(read)
    assert lines[18].endswith(f"#docid = {d.doc_ids[17]}") and f"qid:{d.qid[17]} " in lines[18]
    bad = t.copy()
    bad[17] = np.nan
    with pytest.raises(ValueError, match=rf"query {d.qid[17]}, document {d.doc_ids[17]} "
                                         rf"\({re.escape(str(tmp_path / 'train.txt'))}:19\) nan"):
        distiller(bad).fit(read)


def test_alpha_one_trains_the_lambdarank_kernel(data):
    d, t = data
    a = distiller(7, alpha=1.0).fit(d).predict(d)
    b = Ranker(objective="lambdarank", kernel="numba", **FAST).fit(replace(d, X=np.column_stack(
        [d.X[:, :6], np.zeros(d.n_rows)]).astype(np.float32))).predict(d)
    np.testing.assert_array_equal(a, b)


def test_cross_validation_with_a_teacher_column(data):
    from ltr.evaluation import cross_validate

    res = cross_validate(distiller("teacher"), data[0], n_splits=3, metrics=["ndcg@10"], progress=False)
    assert len(res.folds) == 3
    assert all(f.importance["split"][6] == 0 for f in res.folds)


# ------------------------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(data, tmp_path_factory):
    root = tmp_path_factory.mktemp("distill")
    d, t = data
    write_letor(root / "train.txt", d)
    write_letor(root / "test.txt", with_teacher(make_ranking(10, 8, 6, random_state=3))[0])
    write_run(root / "teacher.run", run_from_scores(d.qid.astype(str), d.doc_ids, t))
    return root


CLI_FAST = ["--rounds", "15", "--min-child-samples", "5", "--leaves", "7", "--quiet"]


def test_ltr_train_with_a_teacher_column_saves_a_model_that_predicts_from_data_with_the_column(files, capsys):
    out = files / "m.txt"
    code = main(["train", str(files / "train.txt"), "--objective", "distill", "--kernel", "numba",
                 "--teacher-column", "7", "--temperature", "2", "--alpha", "0.2", "--margin-weight", "0.1",
                 "--out", str(out), *CLI_FAST])
    assert code == 0, capsys.readouterr().err
    model = ltr.load_model(out)
    assert model.objective_params == {"teacher": {"column": 7}, "temperature": 2.0, "alpha": 0.2,
                                      "margin_weight": 0.1}
    assert main(["predict", str(out), str(files / "test.txt"), "--out", str(files / "s.txt")]) == 0
    np.testing.assert_allclose(np.loadtxt(files / "s.txt"), model.predict(read_letor(files / "test.txt")),
                               rtol=1e-15)


def test_ltr_train_with_a_teacher_model_and_ltr_cv_with_a_teacher_run(data, files, capsys):
    from ltr.io import read_run

    d, t = data
    ptr = np.asarray(d.group_ptr)
    teacher, student = files / "teacher.txt", files / "student.txt"
    assert main(["train", str(files / "train.txt"), "--out", str(teacher), *CLI_FAST]) == 0
    assert main(["train", str(files / "train.txt"), "--objective", "distill", "--kernel", "numba",
                 "--teacher-model", str(teacher), "--out", str(student), *CLI_FAST]) == 0
    # the student follows the teacher model's order
    assert mean_kendall(ltr.load_model(student).predict(d), ltr.load_model(teacher).predict(d), ptr) > 0.6
    capsys.readouterr()
    oof = files / "oof.run"
    code = main(["cv", str(files / "train.txt"), "--folds", "3", "--objective", "distill", "--kernel", "numba",
                 "--teacher-scores", str(files / "teacher.run"), "--format", "json", "--run-out", str(oof),
                 *CLI_FAST])
    assert code == 0, capsys.readouterr().err
    # each fold's student, on its test queries (never trained on), follows the teacher run's order there too
    run = read_run(oof)
    by_doc = dict(zip(zip(d.qid.astype(str), d.doc_ids), t))
    assert len(run) == d.n_rows and set(zip(run["qid"], run["docno"])) == set(by_doc)
    run = run.sort_values(["qid", "docno"], kind="stable")
    run_ptr = np.concatenate([[0], np.cumsum(run.groupby("qid", sort=False).size().to_numpy())])
    taught = np.array([by_doc[k] for k in zip(run["qid"], run["docno"])])
    assert mean_kendall(run["score"].to_numpy(), taught, run_ptr) > 0.6


@pytest.mark.parametrize(("flags", "message"), [
    (["--objective", "distill", "--teacher-column", "7"], "add --kernel numba"),
    (["--objective", "distill", "--kernel", "numba"], "needs a teacher"),
    (["--temperature", "2"], "--temperature is an option of --objective distill"),
    (["--objective", "distill", "--kernel", "numba", "--teacher-column", "7", "--teacher-scores", "x"],
     "give one teacher"),
])
def test_cli_distillation_usage_errors(files, capsys, flags, message):
    assert main(["train", str(files / "train.txt"), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_data_errors_are_one_line(files, capsys):
    code = main(["train", str(files / "train.txt"), "--objective", "distill", "--kernel", "numba",
                 "--teacher-column", "bm25", *CLI_FAST])
    err = capsys.readouterr().err
    assert code == 1 and "teacher column 'bm25' is not among the data's feature names" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_teacher_scores_given_a_folder_say_so(tmp_path, capsys):
    from ltr.cli import main
    from ltr.datasets import make_ranking
    from ltr.io import write_letor

    write_letor(tmp_path / "d.txt", make_ranking(6, (3, 3), 3, random_state=0))
    assert main(["train", str(tmp_path / "d.txt"), "--objective", "distill", "--kernel", "numba",
                 "--teacher-scores", str(tmp_path)]) == 1
    assert f"{tmp_path}: is a folder, not a score file" in capsys.readouterr().err


@pytest.mark.parametrize("extra, says", [(["--temperature", "0"], "--temperature 0: a finite number > 0"),
                                         (["--alpha", "1.5"], "--alpha 1.5: a number in [0, 1]"),
                                         (["--margin-weight", "-1"], "--margin-weight -1: a finite number >= 0")])
def test_distillation_options_are_usage_errors_naming_the_flag(tmp_path, capsys, extra, says):
    from ltr.cli import main
    from ltr.datasets import make_ranking
    from ltr.io import write_letor

    write_letor(tmp_path / "d.txt", make_ranking(6, (3, 3), 3, random_state=0))
    assert main(["train", str(tmp_path / "d.txt"), "--objective", "distill", "--kernel", "numba",
                 "--teacher-column", "1", *extra]) == 2
    assert says in capsys.readouterr().err


def test_a_teacher_model_that_cannot_score_the_data_is_worded_for_the_command_line(files, tmp_path, capsys):
    narrow = make_ranking(12, 6, 3, random_state=5)  # 3 features: the training data has more
    write_letor(tmp_path / "narrow.txt", narrow)
    teacher = tmp_path / "teacher.txt"
    assert main(["train", str(tmp_path / "narrow.txt"), "--out", str(teacher), *CLI_FAST]) == 0
    capsys.readouterr()
    assert main(["train", str(files / "train.txt"), "--objective", "distill", "--kernel", "numba",
                 "--teacher-model", str(teacher), *CLI_FAST]) == 2
    err = capsys.readouterr().err
    assert "the teacher model could not score the training data" in err
    # (a run, joined on ids, where a per-row file cannot follow ltr cv's folds)
    assert "(ltr predict TEACHER DATA --run --out T.run) and pass its scores (--teacher-scores T.run" in err
    assert "teacher={" not in err


def test_fusion_weights_given_to_a_method_without_weights_are_worded_for_the_command_line(tmp_path, capsys):
    run = tmp_path / "a.run"
    run.write_text("1 Q0 a 1 2.0 r\n1 Q0 b 2 1.0 r\n")
    assert main(["fuse", str(run), str(run), "--method", "combsum", "--weights", "0.5,0.5", "--out", "-"]) == 2
    assert "--method combsum has no weights; use --method wsum (or rrf for weighted RRF)" in capsys.readouterr().err
    assert main(["fuse", str(run), str(run), "--format", "json", "--out", "-"]) == 2  # it printed nothing silently
    assert "--format json formats --fit-weights' table of weights" in capsys.readouterr().err
    from ltr.fusion import fuse

    with pytest.raises(ValueError, match=r"combsum has no weights; use method='wsum'"):
        fuse([str(run), str(run)], method="combsum", weights=[1, 1])


def test_a_per_row_teacher_file_follows_the_rows_read_letor_moved(tmp_path):
    """{"scores": FILE} took the file's line order on read_letor(sort=True) data whose queries were not contiguous:
    each row trained on another row's teacher score (the student's correlation with the teacher 0.19 for 0.96), where
    ltr train --sort maps the file (trial t49). Rows dropped by unjudged="drop" are mapped likewise, and a file of
    another length is named as such (its message blamed cross-validation)."""
    import ltr
    from ltr.exceptions import ScoreFormatError
    from ltr.io import read_letor

    rng = np.random.default_rng(0)
    lines, teacher = [], []
    for part in range(2):  # each query's rows in two blocks
        for q in range(1, 9):
            for d in range(4):
                x = rng.normal(size=3)
                label = -1 if (q, d, part) == (3, 1, 0) else int(rng.integers(0, 3))
                lines.append(f"{label} qid:{q} 1:{x[0]:.4f} 2:{x[1]:.4f} 3:{x[2]:.4f} #docid = q{q}p{part}d{d}")
                teacher.append(float(x[0] - 2 * x[1]))
    (tmp_path / "d.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "t.txt").write_text("".join(f"{t!r}\n" for t in teacher))
    by_doc = dict(zip((line.rsplit("= ", 1)[1] for line in lines), teacher))
    params = dict(objective="distill", kernel="numba", n_estimators=5, preset=None, random_state=0)
    judged = [line if not line.startswith("-1 ") else "0" + line[2:] for line in lines]
    (tmp_path / "j.txt").write_text("\n".join(judged) + "\n")  # every row judged: sorted only
    for name, options in (("j.txt", {"sort": True}), ("d.txt", {"sort": True, "unjudged": "drop"})):
        data = read_letor(tmp_path / name, **options)
        aligned = np.array([by_doc[str(d)] for d in data.doc_ids])
        by_file = ltr.Ranker(**params, objective_params={"teacher": {"scores": str(tmp_path / "t.txt")}}).fit(data)
        right = ltr.Ranker(**params, objective_params={"teacher": aligned}).fit(data)
        assert np.array_equal(by_file.predict(data), right.predict(data)), options
    (tmp_path / "short.txt").write_text("".join(f"{t!r}\n" for t in teacher[:-3]))
    with pytest.raises(ScoreFormatError, match=r"short\.txt: 61 teacher scores for the 64 rows of the data's file, "
                                               r"of which 63 are kept \(unjudged='drop'\)"):
        ltr.Ranker(**params, objective_params={"teacher": {"scores": str(tmp_path / "short.txt")}}).fit(data)
