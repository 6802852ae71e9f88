"""Findings of a trial at MSLR-WEB10K/30K scale (trial 32): ``ltr cv`` silent off a terminal, ``ltr predict --run``
refusing data without document ids only after reading it whole, and a fold part kept in two copies."""

from __future__ import annotations

import gzip
import io
import json
import shutil

import pytest

from ltr.cli import main
from ltr.datasets import make_ranking
from ltr.evaluation import FoldProgress, cross_validate
from ltr.evaluation.results import FoldResult
from ltr.io import write_letor


def test_cv_off_a_terminal_says_each_fold_as_it_ends(tmp_path, capsys):
    # standard error to a file (nohup, CI): a 40-minute WEB30K cv printed nothing until 'wrote ...'
    write_letor(tmp_path / "d.txt", make_ranking(30, 6, 4, random_state=0))
    assert main(["cv", str(tmp_path / "d.txt"), "--folds", "3", "--rounds", "2", "--preset", "none",
                 "--out", str(tmp_path / "cv.json")]) == 0
    err = capsys.readouterr().err.splitlines()
    result = json.loads((tmp_path / "cv.json").read_text())
    assert err[0] == "cv lambdarank: 3 folds, one at a time"
    for i, fold in enumerate(result["systems"][0]["folds"], 1):
        line = next(e for e in err if e.startswith(f"cv lambdarank: fold {i}/3 "))
        assert line.startswith(f"cv lambdarank: fold {i}/3 (Fold{i}) done: test ndcg@10 "
                               f"{fold['metrics']['ndcg@10']:.4f}, ")
        assert line.endswith(" elapsed")
    assert main(["cv", str(tmp_path / "d.txt"), "--folds", "3", "--rounds", "2", "--quiet",
                 "--out", str(tmp_path / "cv.json")]) == 0
    assert "cv lambdarank" not in capsys.readouterr().err  # --quiet: no progress


def test_fold_progress_draws_a_bar_on_a_terminal_and_lines_elsewhere():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    shown = Terminal()
    p = FoldProgress("x", 2, 2, "map", file=shown, clock=lambda: 0.0)
    p.fold_done(FoldResult("Fold1", {"map": 0.25}, ["1"], {}, [], 1.0, 3))
    p.close()
    assert "cv x" in shown.getvalue() and "done" not in shown.getvalue()  # tqdm's bar, no lines
    plain = io.StringIO()
    p = FoldProgress("x", 2, 2, "map", file=plain, clock=iter([0.0, 75.0]).__next__)
    p.fold_done(FoldResult("Fold2", {"map": 0.25}, ["1"], {}, [], 1.0, 3))
    p.close()
    assert plain.getvalue() == ("cv x: 2 folds, 2 at a time\n"
                                "cv x: fold 1/2 (Fold2) done: test map 0.2500, 1m15s elapsed\n")


def test_predict_run_refuses_data_without_document_ids_before_reading_it(tmp_path, capsys, shared_file):
    model = tmp_path / "m.txt"
    assert main(["train", str(shared_file("mslr_sample/mslr_fold1_valid_sample.txt.gz")), "--rounds", "2",
                 "--quiet", "--out", str(model)]) == 0
    capsys.readouterr()
    data = tmp_path / "test.txt.gz"
    shutil.copy(shared_file("mslr_sample/mslr_fold1_test_sample.txt.gz"), data)
    with gzip.open(data, "ab") as f:  # a broken line at the end: reading it whole would fail there first
        f.write(b"1 qid:x 1:oops\n")
    assert main(["predict", str(model), str(data), "--run", "--out", str(tmp_path / "r.run")]) == 2
    assert capsys.readouterr().err == (
        f"ltr predict: error: --run needs document ids, and {data} has none on its first row ('#docid = ...' "
        "comments, as LETOR 4.0 and ltr features write them): leave --run out for one score per line (ltr evaluate "
        "DATA --scores FILE evaluates them)\n")
    assert not (tmp_path / "r.run").exists()


def test_a_fold_part_in_two_copies_is_named_and_the_result_records_the_files(tmp_path, capsys):
    root = tmp_path / "letor"
    for i in (1, 2):
        fold = root / f"Fold{i}"
        fold.mkdir(parents=True)
        for part, seed in (("train", 0), ("vali", 1), ("test", 2)):
            write_letor(fold / f"{part}.txt", make_ranking(8, 5, 3, random_state=10 * i + seed))
    stale = make_ranking(8, 5, 3, random_state=99)  # another copy beside it, as gunzip -k or a regeneration leaves
    write_letor(root / "Fold2" / "test.txt.gz", stale)
    (root / "Fold1" / "validation.txt").write_text((root / "Fold1" / "vali.txt").read_text())  # another spelling
    with pytest.warns(UserWarning, match=r"letor: parts kept in more than one copy, each read from the first named "
                                         r"\(Fold1/vali\.txt read, beside Fold1/validation\.txt; Fold2/test\.txt "
                                         r"read, beside Fold2/test\.txt\.gz\); the result records each part's file"):
        res = cross_validate(__import__("ltr").Ranker(n_estimators=2, preset=None, min_child_samples=2, n_jobs=1),
                             root, progress=False)
    assert res.settings["files"] == {f"Fold{i}": {p: f"Fold{i}/{p}.txt" for p in ("train", "vali", "test")}
                                     for i in (1, 2)}
    assert main(["cv", str(root), "--rounds", "2", "--quiet", "--out", str(tmp_path / "cv.json")]) == 0
    err = capsys.readouterr().err
    assert err.count("kept in more than one copy") == 1  # said once, though the command line reads the layout twice
    assert json.loads((tmp_path / "cv.json").read_text())["systems"][0]["settings"]["files"]["Fold2"]["test"] == \
        "Fold2/test.txt"


def test_the_first_row_check_leaves_a_row_longer_than_its_window_to_the_reader(tmp_path):
    from ltr.cli._files import check_doc_ids
    from ltr.cli._guard import UsageError

    long_row = tmp_path / "long.txt"  # 20,000 features before the comment: past the 64 KiB looked at
    long_row.write_text("0 qid:1 " + " ".join(f"{i}:0.5" for i in range(1, 20000)) + " #docid = D1\n")
    check_doc_ids(long_row, "--run", "fix")  # not refused on a cut row
    plain = tmp_path / "plain.txt"
    plain.write_text("# a header comment\r\n0 qid:1 1:0.5\r\n")
    with pytest.raises(UsageError, match=r"--run needs document ids, and .*plain\.txt has none on its first row"):
        check_doc_ids(plain, "--run", "fix")
    with_ids = tmp_path / "ids.txt"
    with_ids.write_text("0 qid:1 1:0.5 #docid = GX000-00-0000000\r\n")
    check_doc_ids(with_ids, "--run", "fix")
    with_bom = tmp_path / "bom.txt"  # a byte-order mark before a comment, as the reader takes it
    with_bom.write_bytes(b"\xef\xbb\xbf# written by an editor\n0 qid:1 1:0.5 #docid = GX1\n")
    check_doc_ids(with_bom, "--run", "fix")  # its first line was taken for a row without an id
