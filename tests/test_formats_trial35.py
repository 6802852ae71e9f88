"""Findings of a user trial of the LETOR format variants and ``ltr data`` (stop 35): ``verify`` words its reasons
for the set, not with reader options it does not take; a folder in place of a file and an unfolded set are said as
such; a tar archive is named; ``ltr info`` lists the model formats only for a file that may be one; a negative
label other than -1 is not sent to ``--unjudged drop``; more than a dozen distinct labels make one short cell; the
OHSUMED entries describe NULL consistently."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

import ltr.registry as reg
from ltr.cli import main
from ltr.exceptions import LetorFormatError
from ltr.io import read_letor, read_run

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"


def _line(label, qid, n):
    return f"{label} qid:{qid} " + " ".join(f"{j}:0.5" for j in range(1, n + 1)) + "\n"


def _checks(report):
    return {f.path: f for f in report.files}


def test_verify_names_the_set_instead_of_a_reader_option_it_does_not_take(tmp_path):
    fold = tmp_path / "Fold1"
    fold.mkdir()
    (fold / "train.txt").write_text(_line(0, 1, 47))  # an MSLR-like width in an MQ2008 folder
    (fold / "vali.txt").write_text(_line(0, 1, 46) + _line(1, 2, 46) + _line(1, 1, 46))  # qid 1 twice
    report = reg.verify("mq2008", tmp_path, checksums=False)
    wide, split = _checks(report)["Fold1/train.txt"], _checks(report)["Fold1/vali.txt"]
    assert wide.status == split.status == "unreadable"
    assert wide.problems == [f"{fold / 'train.txt'}:1: feature id above 46 (token '47:0.5'); mq2008 has 46 features: "
                             "is this folder a copy of mq2008?"]
    assert "not contiguous" in split.problems[0]
    assert split.problems[0].endswith("; not as mq2008's files are documented ('ltr data info mq2008' describes "
                                      "them)")
    assert not any("pass " in p for f in report.files for p in f.problems)


def test_verify_says_a_folder_stands_where_a_file_is_expected(tmp_path):
    (tmp_path / "Fold1" / "train.txt").mkdir(parents=True)
    check = _checks(reg.verify("mq2008", tmp_path, checksums=False))["Fold1/train.txt"]
    assert check.status == "missing" and check.problems == ["Fold1/train.txt is a folder, not a file"]


def test_verify_of_an_unfolded_set_speaks_of_its_files_not_of_fold_1(tmp_path):
    entry = reg.get("yahoo-set1")
    assert entry.folds <= 1
    for ef in entry.expected_files():
        p = tmp_path / ef.path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(_line(1, 1, 3))
    report = reg.verify(entry, tmp_path, checksums=False)
    totals = [p for p in report.problems if " rows in all" in p]
    assert totals and all(p.startswith("the files hold ") for p in totals)
    assert not any("fold 1" in p for p in report.problems + report.notes)


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2"])
def test_a_tar_archive_is_named_as_one(tmp_path, mode, fmt):
    body = _line(1, 1, 3).encode()
    path = tmp_path / "set.tar"
    with tarfile.open(path, mode, format=fmt) as tar:
        info = tarfile.TarInfo("Fold1/train.txt")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    with pytest.raises(LetorFormatError, match=r"set.tar:1: a tar archive: unpack it \(tar -xf FILE\)"):
        read_letor(path)


def _with_ustar_at_257(lines: list[str]) -> str:
    """The lines, the first padded with a comment so that the text holds "ustar" where a tar header's magic is."""
    first = lines[0].rstrip("\n") + " # "
    return first + "x" * (257 - len(first)) + "ustar and more\n" + "".join(lines[1:])


def test_text_that_holds_ustar_where_a_tar_header_would_is_read_as_text(tmp_path):
    letor = tmp_path / "train.txt"
    letor.write_text(_with_ustar_at_257([_line(1, 1, 3), _line(0, 1, 3)]))
    assert letor.read_bytes()[257:262] == b"ustar"
    assert read_letor(letor).n_rows == 2
    run = tmp_path / "bm25.run"
    run.write_text(_with_ustar_at_257(["1 Q0 d1 1 2.5 bm25\n", "1 Q0 d2 2 1.5 bm25\n"]))
    assert list(read_run(run)["docno"]) == ["d1", "d2"]


def _info_error(capsys, path) -> str:
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    return err


def test_ltr_info_lists_the_model_formats_only_for_a_file_that_may_be_a_model(tmp_path, capsys):
    letor = tmp_path / "qid.txt"
    letor.write_text("2 qid:Q101 1:0.3 2:0.1\n")
    err = _info_error(capsys, letor)
    assert "qid must be a 64-bit integer" in err and "nor is it a model" not in err
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as tar:
        tar.addfile(tarfile.TarInfo("empty.txt"), io.BytesIO(b""))
    assert "nor is it a model" not in _info_error(capsys, archive)
    prose = tmp_path / "notes.txt"
    prose.write_text("hello world\n")
    assert "nor is it a model file" in _info_error(capsys, prose)


def test_a_negative_label_other_than_minus_one_is_not_sent_to_unjudged_drop(tmp_path, capsys):
    path = tmp_path / "neg.txt"
    path.write_text("".join(_line(label, 1 + i // 3, 3) for i, label in enumerate([0, 1, 2, -2, 1, 0])))
    assert main(["train", str(path), "--rounds", "2", "--unjudged", "drop", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "got label '-2'" in err and "map the negative labels to 0" in err
    assert "(--unjudged drop drops only LETOR's -1)" in err
    minus_one = tmp_path / "semi.txt"
    minus_one.write_text("".join(_line(label, 1 + i // 3, 3) for i, label in enumerate([0, 1, 2, -1, 1, 0])))
    assert main(["train", str(minus_one), "--rounds", "2", "--unjudged", "keep", "--quiet"]) == 1
    assert "drop the rows of negative labels (--unjudged drop" in capsys.readouterr().err


def test_ltr_info_summarises_more_than_a_dozen_distinct_labels(tmp_path, capsys):
    path = tmp_path / "list.txt"
    path.write_text("".join(_line(label, 1 + i // 10, 3) for i, label in enumerate(range(2000, 1980, -1))))
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "20 distinct, 1981..2000 (--format json lists them)" in out and "1990:1" not in out
    assert main(["info", str(path), "--format", "json"]) == 0
    assert '"1990": 1' in capsys.readouterr().out


@pytest.mark.parametrize("name", ["ohsumed", "ohsumed-null", "ohsumed-querylevelnorm"])
def test_the_ohsumed_entries_describe_null_alike_and_hold_no_note_to_the_developer(name):
    quirks = tomllib.loads((DATA / f"{name}.toml").read_text())["quirks"]
    text = " ".join(quirks)
    assert "task brief" not in text and "cannot be read as numbers" not in text
    assert "minus infinity" in text and "NaN" in text


def test_a_copy_fetch_installed_with_differences_is_said_when_it_is_used(tmp_path, caplog):
    from ltr.registry._fetch import MARKER

    copy = tmp_path / "mq2008"
    for fold in range(1, 6):
        for split in ("train", "vali", "test"):
            p = copy / f"Fold{fold}" / f"{split}.txt"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(_line(1, fold, 46))
    assert len(reg.fold_paths("mq2008", tmp_path)) == 5
    assert not [r for r in caplog.records if r.levelname == "WARNING"]  # no marker: nothing recorded to say
    problem = "fold 1 holds 3 rows in all, the registry documents 15211 (a test)"
    (copy / MARKER).write_text(json.dumps({"name": "mq2008", "differing": ["Fold2/test.txt"],
                                           "problems": [problem]}))
    reg.fold_paths("mq2008", tmp_path)
    reg.split_path("mq2008", tmp_path, 2, "test")  # the same copy: said once
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert said == [f"the copy of mq2008 in {copy} differs from the registry's counts, as fetch said when it "
                    f"installed it (Fold2/test.txt differs; {problem}); `ltr data verify mq2008 {copy}` shows the "
                    "differences"]
