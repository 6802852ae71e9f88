"""``--query-file PATH`` and ``--weight-file PATH`` are one data file's sidecars (trial t48/letorio): ``ltr train``
applied TRAIN's group sizes to ``--test`` and ``--valid`` over their own ``.query`` files (test NDCG@5 0.9599 over 5
queries, where the file's own 4 give 0.9499), and a command reading several files applied one path to all of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ltr import make_ranking
from ltr.cli import main
from ltr.io import write_letor


def _sizes(d) -> list[int]:
    return [int(n) for n in d.group_ptr[1:] - d.group_ptr[:-1]]


@pytest.fixture(scope="module")
def lgb_layout(tmp_path_factory) -> Path:
    """TRAIN and TEST with the same 40 rows in LightGBM's layout; TRAIN's sizes under another name (5 queries of 8),
    TEST's own sidecar cuts them into 4 queries of 10."""
    root = tmp_path_factory.mktemp("scope")
    d = make_ranking(5, (8, 8), 4, random_state=3)
    write_letor(root / "full.txt", d)
    lines = [" ".join(t for t in line.split() if not t.startswith("qid:"))
             for line in (root / "full.txt").read_text().splitlines() if not line.startswith("#")]
    for name in ("train.txt", "test.txt"):
        (root / name).write_text("\n".join(lines) + "\n")
    (root / "train.sizes").write_text("".join(f"{n}\n" for n in _sizes(d)))
    (root / "test.txt.query").write_text("10\n10\n10\n10\n")
    return root


def _train_json(root: Path, *extra: str, capsys) -> dict:
    capsys.readouterr()
    assert main(["train", str(root / "train.txt"), "--query-file", str(root / "train.sizes"), "--rounds", "3",
                 "--preset", "none", "--min-child-samples", "1", "--metrics", "ndcg@5", "--format", "json",
                 "--quiet", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_test_and_valid_read_their_own_sidecars_not_trains(lgb_layout, capsys):
    r = lgb_layout
    out = _train_json(r, "--test", str(r / "test.txt"), "--valid", str(r / "test.txt"), "--out", str(r / "m.txt"),
                      capsys=capsys)
    assert out["queries"] == {"valid": 4, "test": 4}
    assert main(["predict", str(r / "m.txt"), str(r / "test.txt"), "--out", str(r / "s.txt"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(r / "test.txt"), "--scores", str(r / "s.txt"), "--metrics", "ndcg@5", "--format",
                 "json", "--quiet"]) == 0
    assert out["test"]["ndcg@5"] == json.loads(capsys.readouterr().out)["mean"]["ndcg@5"]


def test_no_query_file_still_holds_for_every_file(lgb_layout, tmp_path, capsys):
    """``--no-query-file`` names no file: it turns off every file's sizes, as before, so that files with qid tokens
    and a stale sidecar beside --valid still train (the review of t48: it stopped reaching --valid)."""
    r = lgb_layout
    (tmp_path / "vali.txt").write_text((r / "full.txt").read_text())
    (tmp_path / "vali.txt.query").write_text("40\n")  # stale: the file's qids make 5 queries
    assert main(["train", str(r / "full.txt"), "--valid", str(tmp_path / "vali.txt"), "--no-query-file",
                 "--rounds", "3", "--preset", "none", "--min-child-samples", "1", "--metrics", "ndcg@5", "--format",
                 "json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["queries"] == {"valid": 5}


def test_a_test_file_without_groups_is_told_of_its_own_sidecar(lgb_layout, tmp_path, capsys):
    r = lgb_layout
    (tmp_path / "bare.txt").write_text((r / "test.txt").read_text())
    assert main(["train", str(r / "train.txt"), "--query-file", str(r / "train.sizes"), "--test",
                 str(tmp_path / "bare.txt"), "--rounds", "2", "--preset", "none", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert f"{tmp_path / 'bare.txt'}:1: missing qid" in err and "pass --query-file" not in err
    assert err.endswith(f"'); LightGBM's .query layout: {tmp_path / 'bare.txt'} reads its group "  # (t64: it
                        "sizes and weights "  # read "(LightGBM's .query layout);", a parenthesis alone)
                        f"from {tmp_path / 'bare.txt'}.query or .group and {tmp_path / 'bare.txt'}.weight beside it "
                        "(--query-file PATH and --weight-file PATH name TRAIN's; --no-query-file and --no-weight-file "
                        "turn them off for every file)")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("argv, said", [
    (["info", "{r}/train.txt", "{r}/test.txt", "--query-file", "{r}/train.sizes"], "FILE is 2 files"),
    (["report", "{r}/none.json", "--data", "{r}/train.txt", "--data", "{r}/test.txt", "--weight-file",
      "{r}/train.sizes", "--out", "{r}/rep"], "--data is 2 files"),
])
def test_one_path_for_several_files_is_refused(lgb_layout, capsys, argv, said):
    r = lgb_layout
    assert main([a.format(r=r) for a in argv]) == 2
    err = capsys.readouterr().err
    assert said in err and ("--query-file names one file's group sizes" in err
                            or "--weight-file names one file's weights" in err)
    if "--weight-file" in argv:  # both flags: both named
        assert main([a.format(r=r) for a in [*argv, "--query-file", "{r}/train.sizes"]]) == 2
        assert "--query-file and --weight-file name one file's group sizes and weights" in capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture
def two_folds(tmp_path) -> Path:
    """Fold1 and Fold2, each with train, vali and test of the same 6 queries, and one sizes file beside them."""
    d = make_ranking(6, (4, 4), 3, random_state=1)
    for k in (1, 2):
        for part in ("train", "vali", "test"):
            (tmp_path / f"Fold{k}").mkdir(exist_ok=True)
            write_letor(tmp_path / f"Fold{k}" / f"{part}.txt", d)
    (tmp_path / "sizes").write_text("".join(f"{n}\n" for n in _sizes(d)))
    return tmp_path


def test_cv_of_a_fold_folder_refuses_one_sizes_file(two_folds, capsys):
    tmp_path = two_folds
    assert main(["cv", str(tmp_path), "--query-file", str(tmp_path / "sizes"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is folds of train, vali and test files" in err and "Traceback" not in err


def test_dask_shards_refuse_one_sizes_file(tmp_path):
    from ltr.dask import read_letor_shards

    d = make_ranking(4, (4, 4), 3, random_state=2)
    for k in (1, 2):
        write_letor(tmp_path / f"part-{k}.txt", d)
    (tmp_path / "sizes").write_text("4\n4\n4\n4\n")
    with pytest.raises(ValueError, match="names one file's group sizes, and there are 2 shards"):
        read_letor_shards(str(tmp_path / "part-*.txt"), query_file=str(tmp_path / "sizes"))


def test_cross_validate_of_a_fold_folder_refuses_one_sizes_file(two_folds):
    """The command line refused it; cross_validate applied the one file's sizes to every fold file (the review of
    t48)."""
    from ltr import Ranker
    from ltr.evaluation import cross_validate

    tmp_path = two_folds
    with pytest.raises(ValueError, match=r"query_file='.*sizes' names one file's group sizes, and the folds read 6"):
        cross_validate(Ranker(n_estimators=2), tmp_path, read_options={"query_file": str(tmp_path / "sizes")},
                       progress=False)
