"""``ltr predict --run`` and ``ltr cv --run-out`` write TREC runs, which name every row's document: a row without a
``#docid = ...`` comment past the first was refused only by the run writer, naming no file or line, and ``ltr cv``
had trained every fold by then and wrote neither its run nor ``--out``. Every row is now checked once the data is
read, before anything is scored or trained, and the first row without an id is named by its file and line."""

import dataclasses
import gzip
import random

import numpy as np
import pytest

import ltr.evaluation
import ltr.rankers
from ltr import make_ranking
from ltr.cli import main
from ltr.io import write_letor

RUN_FIX = "leave --run out for one score per line (ltr evaluate DATA --scores FILE evaluates them)"
CV_HINT = "; give it one, or leave --run-out out"
NO_ID = "needs a document id on every row, and this row has none ('#docid = ...' comments, as LETOR 4.0 and ltr " \
        "features write them)"
EARLIER = "an earlier run's file\n"

TINY = """\
1 qid:1 1:0.5 2:0.1 #docid = A
0 qid:1 1:0.2 2:0.3 #docid = B
0 qid:1 1:0.1 2:0.2
2 qid:2 1:0.9 2:0.1 #docid = C
0 qid:2 1:0.3 2:0.3 #docid = D
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A three-round model of TINY's two features (its rows all carry ids: the model is not what is checked)."""
    folder = tmp_path_factory.mktemp("model")
    (folder / "d.txt").write_text(TINY.replace("0.2\n", "0.2 #docid = E\n"))
    assert main(["train", str(folder / "d.txt"), "--rounds", "3", "--min-child-samples", "1", "--out",
                 str(folder / "m.txt"), "--quiet", "--format", "json"]) == 0
    return folder / "m.txt"


@pytest.fixture
def no_scoring(monkeypatch):
    """The models ltr predict loads, each recording its ``predict`` calls in the returned list."""
    calls: list = []
    load = ltr.rankers.load_model

    def loaded(*args, **kwargs):
        m = load(*args, **kwargs)
        scoring = m.predict
        m.predict = lambda *a, **k: calls.append(a) or scoring(*a, **k)
        return m

    monkeypatch.setattr(ltr.rankers, "load_model", loaded)
    return calls


@pytest.fixture
def no_training(monkeypatch):
    """ltr cv's ``cross_validate`` replaced by one that records its calls in the returned list and trains nothing."""
    calls: list = []

    def cross_validate(*args, **kwargs):
        calls.append(args)
        raise AssertionError("cross_validate ran: folds were trained before the data was refused")

    monkeypatch.setattr(ltr.evaluation, "cross_validate", cross_validate)
    return calls


def letor_lines(n_queries: int, per_query: int, *, missing=(), seed: int = 0, first: int = 1) -> list[str]:
    """Rows of ``n_queries`` queries (qid ``first``, ``first + 1``, ...) with ids ``D{q}-{i}``, but none on the rows
    ``(k, i)`` in ``missing`` (``k``: the query's place, from 1)."""
    r = random.Random(seed)
    return [f"{r.randint(0, 2)} qid:{first + k - 1} 1:{r.random():.3f} 2:{r.random():.3f}"
            + ("" if (k, i) in missing else f" #docid = D{first + k - 1}-{i}")
            for k in range(1, n_queries + 1) for i in range(per_query)]


def test_predict_names_the_line_of_a_row_without_a_doc_id_before_scoring(model, no_scoring, tmp_path, capsys):
    (tmp_path / "d.txt").write_text(TINY)
    out = tmp_path / "d.run"
    out.write_text(EARLIER)
    assert main(["predict", str(model), str(tmp_path / "d.txt"), "--run", "--out", str(out)]) == 1
    assert capsys.readouterr().err == f"ltr predict: error: {tmp_path / 'd.txt'}:3: --run {NO_ID}; give it one, or " \
                                      f"{RUN_FIX}\n"
    assert no_scoring == [] and out.read_text() == EARLIER


def test_predict_names_an_empty_doc_id_comment_as_such(model, tmp_path, capsys):
    (tmp_path / "d.txt").write_text(TINY.replace("0.2\n", "0.2 #docid = \n"))
    assert main(["predict", str(model), str(tmp_path / "d.txt"), "--run", "--out", str(tmp_path / "d.run")]) == 1
    assert capsys.readouterr().err == (
        f"ltr predict: error: {tmp_path / 'd.txt'}:3: --run needs a document id on every row, and this row's "
        f"'#docid =' comment holds none (token '#docid ='); give it one, or {RUN_FIX}\n")
    assert not (tmp_path / "d.run").exists()


def test_predict_names_the_files_first_such_line_when_sort_reorders_the_rows(model, tmp_path, capsys):
    # --sort brings query 1's row of line 6 before query 2's of line 4: line 4 is the file's first without an id
    lines = ["# written by hand", "1 qid:1 1:0.5 2:0.1 #docid = A", "", "0 qid:2 1:0.2 2:0.3",
             "2 qid:2 1:0.9 2:0.1 #docid = C", "0 qid:1 1:0.1 2:0.2"]
    (tmp_path / "d.txt").write_text("\n".join(lines) + "\n")
    assert main(["predict", str(model), str(tmp_path / "d.txt"), "--sort", "--run", "--out",
                 str(tmp_path / "d.run")]) == 1
    assert f"error: {tmp_path / 'd.txt'}:4: --run {NO_ID}" in capsys.readouterr().err


def test_predict_needs_no_doc_id_on_a_row_it_drops(model, tmp_path, capsys):
    """A row --unjudged drop leaves out is in no run."""
    (tmp_path / "d.txt").write_text(TINY.replace("0 qid:1 1:0.1 2:0.2", "-1 qid:1 1:0.1 2:0.2"))
    assert main(["predict", str(model), str(tmp_path / "d.txt"), "--unjudged", "drop", "--run", "--out",
                 str(tmp_path / "d.run"), "--quiet"]) == 0
    assert sorted(line.split()[2] for line in (tmp_path / "d.run").read_text().splitlines()) == ["A", "B", "C", "D"]


def test_cv_of_one_file_names_the_line_before_any_fold_trains(no_training, tmp_path, capsys):
    data = tmp_path / "cvd.txt"
    data.write_text("\n".join(letor_lines(20, 8, missing={(7, 3)})) + "\n")  # row 6 * 8 + 3, line 52
    (tmp_path / "cv.json").write_text(EARLIER)
    assert main(["cv", str(data), "--folds", "4", "--rounds", "5", "--out", str(tmp_path / "cv.json"),
                 "--run-out", str(tmp_path / "cv.run")]) == 1
    assert capsys.readouterr().err == f"ltr cv: error: {data}:52: --run-out {NO_ID}{CV_HINT}\n"
    assert no_training == []
    assert (tmp_path / "cv.json").read_text() == EARLIER and not (tmp_path / "cv.run").exists()


def test_cv_counts_header_comment_and_blank_lines_of_a_gzip_file(no_training, tmp_path, capsys):
    d = make_ranking(12, 5, 2, random_state=0)
    d = dataclasses.replace(d, doc_ids=np.array([f"D{i}" for i in range(d.n_rows)], dtype=object))
    write_letor(tmp_path / "w.txt", d)
    lines = (tmp_path / "w.txt").read_text().splitlines()
    assert lines[0].startswith("# ltrkit-letor:")
    lines[23] = lines[23].split(" #")[0]  # row 23 (0-based, after the header line)
    lines[10:10] = ["", "# a note between the rows", "   "]  # three lines before it that are not rows
    data = tmp_path / "cvd.txt.gz"
    data.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    assert main(["cv", str(data), "--folds", "3", "--run-out", str(tmp_path / "cv.run")]) == 1
    assert capsys.readouterr().err == f"ltr cv: error: {data}:27: --run-out {NO_ID}{CV_HINT}\n"
    assert no_training == []


def test_cv_checks_every_folds_test_file_before_any_fold_trains(no_training, tmp_path, capsys):
    """Fold1's test file starts with an id, and so does Fold3's: its line 5 has none. (Each file's queries its own:
    a query tested in two folds is refused before this, as no out-of-fold run can rank it once.)"""
    root = tmp_path / "data"
    for k in (1, 2, 3):
        (root / f"Fold{k}").mkdir(parents=True)
        for part, seed in (("train", 0), ("vali", 1), ("test", 2)):
            missing = {(2, 0)} if (k, part) == (3, "test") else set()  # row (2 - 1) * 4 + 0, line 5
            rows = letor_lines(4, 4, missing=missing, seed=10 * k + seed, first=100 * k + 10 * seed)
            (root / f"Fold{k}" / f"{part}.txt").write_text("\n".join(rows) + "\n")
    out = tmp_path / "cv.json"
    out.write_text(EARLIER)
    assert main(["cv", str(root), "--rounds", "5", "--out", str(out), "--run-out", str(tmp_path / "cv.run")]) == 1
    assert capsys.readouterr().err == f"ltr cv: error: {root / 'Fold3' / 'test.txt'}:5: --run-out {NO_ID}{CV_HINT}\n"
    assert no_training == []
    assert out.read_text() == EARLIER and not (tmp_path / "cv.run").exists()


def test_cv_checks_every_official_folds_test_file_before_any_fold_trains(no_training, tmp_path, capsys):
    """MQ2008's rotation of five segments (S1..S5, four queries of six rows each) into Fold1..Fold5: S3, Fold4's test
    part, lacks an id on query 302's second row (row 2 * 6 + 1, line 14)."""
    segments = {s: [f"{(q + d) % 3} qid:{q} " + " ".join(f"{j}:{(q * d + j) % 7 / 7:.3f}" for j in range(1, 47))
                    + ("" if (q, d) == (302, 1) else f" #docid = GX{q}-{d}")
                    for q in range(100 * s, 100 * s + 4) for d in range(6)] for s in range(1, 6)}
    root = tmp_path / "MQ2008"
    for k in range(1, 6):
        (root / f"Fold{k}").mkdir(parents=True)
        for part, first, n in (("train", k, 3), ("vali", k + 3, 1), ("test", k + 4, 1)):
            rows = [r for s in range(first, first + n) for r in segments[(s - 1) % 5 + 1]]
            (root / f"Fold{k}" / f"{part}.txt").write_text("\n".join(rows) + "\n")
    assert main(["cv", "--dataset", "mq2008", "--root", str(root), "--rounds", "3", "--run-out",
                 str(tmp_path / "cv.run")]) == 1
    assert capsys.readouterr().err == f"ltr cv: error: {root / 'Fold4' / 'test.txt'}:14: --run-out {NO_ID}{CV_HINT}\n"
    assert no_training == [] and not (tmp_path / "cv.run").exists()


def test_cv_refuses_a_header_that_reads_no_doc_ids_before_any_fold_trains(no_training, tmp_path, capsys):
    """Comments that name ids under a header recording none ("doc_ids": false): the first row looks right, and the
    run found no ids only once every fold had trained."""
    d = make_ranking(6, 4, 2, random_state=0)
    d = dataclasses.replace(d, comments=np.array([f"docid = D{i} inc = 1" for i in range(d.n_rows)], dtype=object))
    write_letor(tmp_path / "d.txt", d)
    assert '"doc_ids": false' in (tmp_path / "d.txt").read_text().splitlines()[0]
    assert main(["cv", str(tmp_path / "d.txt"), "--folds", "3", "--run-out", str(tmp_path / "cv.run")]) == 1
    assert capsys.readouterr().err == (
        f"ltr cv: error: {tmp_path / 'd.txt'}: no document ids ('#docid = ...' comments, which a '# ltrkit-letor' "
        "header's \"doc_ids\": false leaves unread), so no TREC run can be written: leave --run-out out\n")
    assert no_training == [] and not (tmp_path / "cv.run").exists()


def test_a_cv_results_run_in_python_names_the_fold_and_query_of_a_row_without_a_doc_id(tmp_path):
    """The library's path (CVResult.run), which the command line now checks before training: the row is named,
    not left to the run writer's 'run column docno has an empty value'."""
    from ltr import Ranker
    from ltr.evaluation import cross_validate

    (tmp_path / "d.txt").write_text("\n".join(letor_lines(8, 4, missing={(3, 2), (3, 3)})) + "\n")
    result = cross_validate(Ranker(n_estimators=2, min_child_samples=1, preset=None, n_jobs=1), tmp_path / "d.txt",
                            n_splits=2, progress=False)
    with pytest.raises(ValueError) as caught:
        result.run()
    message = str(caught.value)
    assert message.startswith(f"{result.name}: fold Fold") and "(query 3) has no document id ('#docid = ...' " \
        "comment), so no TREC run can be made (2 such rows in the fold)" in message, message


def test_a_docid_comment_holding_only_the_next_pair_is_named_as_empty(model, tmp_path, capsys):
    lines = letor_lines(3, 4)
    lines[5] = lines[5].split(" #")[0] + " #docid = inc = 0.5 prob = 0.1"
    (tmp_path / "d.txt").write_text("\n".join(lines) + "\n")
    assert main(["predict", str(model), str(tmp_path / "d.txt"), "--run", "--out", str(tmp_path / "o.run")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ltr predict: error: {tmp_path / 'd.txt'}:6: --run needs a document id on every row, and "
                          "this row's '#docid =' comment holds none"), err
