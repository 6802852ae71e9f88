"""Trial t51 (cli-robustness): closed standard streams, arguments that are not UTF-8, extreme option values, file
names near the file system's limit, --dataset-cache given a file, ltr cv of a pipe, a feature file that is not
there."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import ltr
from ltr.cli import main
from ltr.evaluation.compare import run_name
from ltr.io import write_letor


@pytest.fixture()
def data(tmp_path):
    path = tmp_path / "d.letor"
    write_letor(path, ltr.make_ranking(20, (4, 8), 3, random_state=1))
    return path


def _closed(stream: str, *args: str, cwd) -> subprocess.CompletedProcess:
    """``python -m ltr ARGS`` with standard output (``>&-``) or standard error (``2>&-``) closed; the other one
    captured."""
    command = ["sh", "-c", f'exec "$@" {">&-" if stream == "stdout" else "2>&-"}', "sh", sys.executable, "-m", "ltr",
               *args]
    other = {"stderr": subprocess.PIPE} if stream == "stdout" else {"stdout": subprocess.PIPE}
    return subprocess.run(command, cwd=cwd, text=True, timeout=600, **other)


def test_a_closed_standard_output_is_one_line_and_exit_1(tmp_path, data):
    """Every command ended in an AttributeError traceback ('NoneType' object has no attribute 'flush'), even
    --version; ltr train wrote its model and then failed so."""
    done = _closed("stdout", "--version", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (1, "ltr: error: standard output: cannot write: bad file descriptor\n")
    done = _closed("stdout", "train", str(data), "--rounds", "2", "--quiet", "--out", str(tmp_path / "m.txt"),
                   cwd=tmp_path)
    assert done.returncode == 1 and done.stderr == ("ltr train: error: standard output: cannot write: bad file "
                                                    "descriptor\n")
    assert (tmp_path / "m.txt").is_file()  # the work is done; its table had nowhere to go


def test_a_closed_standard_error_does_not_stop_the_work(tmp_path, data):
    """A note nobody can read (the small-data preset's) ended ltr train before it trained, exit 1, no model."""
    done = _closed("stderr", "train", str(data), "--rounds", "2", "--out", str(tmp_path / "m.txt"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert (tmp_path / "m.txt").is_file() and "saved" in done.stdout


@pytest.mark.parametrize("option", ["--tag", "--name"])
def test_arguments_that_are_not_utf8_are_refused_by_option(tmp_path, data, capsys, option):
    """--tag was blamed on standard output after the scoring; --name was written into JSON as a lone surrogate."""
    bad = os.fsdecode(b"t\xff")
    command = (["predict", str(tmp_path / "m.txt"), str(data), "--run", "--out", str(tmp_path / "p.run")]
               if option == "--tag" else ["cv", str(data), "--rounds", "2", "--out", str(tmp_path / "cv.json")])
    assert main([*command, option, bad]) == 2
    assert capsys.readouterr().err == (f"ltr {command[0]}: error: {option} t\ufffd: not valid UTF-8 (byte 0xff); "
                                       "give the text in UTF-8\n")
    assert not (tmp_path / "p.run").exists() and not (tmp_path / "cv.json").exists()


def test_a_system_named_after_a_file_name_that_is_not_utf8_is_valid_text():
    """ltr compare named the system after such a file; ltr report then failed in matplotlib."""
    assert run_name(os.fsdecode(b"runs/r\xff.run")) == "r\ufffd"


def test_extreme_option_values_are_one_line_each(tmp_path, data, capsys):
    (tmp_path / "a.run").write_text("1 Q0 d1 1 2.0 a\n1 Q0 d2 2 1.0 a\n")
    (tmp_path / "b.run").write_text("1 Q0 d1 1 1.0 b\n1 Q0 d2 2 2.0 b\n")
    # 2**63 overflowed pandas (a traceback): beyond every run's length it is every document
    assert main(["fuse", str(tmp_path / "a.run"), str(tmp_path / "b.run"), "--depth", str(2**63), "--out",
                 str(tmp_path / "f.run"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["features", "--collection", str(tmp_path / "none"), "--bm25-k1", "1e308", "--out",
                 str(tmp_path / "x.letor")]) == 2
    assert capsys.readouterr().err == ("ltr features: error: --bm25-k1 1e+308: BM25's k1 is at most 1e+09 (larger "
                                       "values overflow the arithmetic)\n")
    assert main(["tune", str(data), "--inner-repeats", "99999999999", "--trials", "1"]) == 2
    assert capsys.readouterr().err == ("ltr tune: error: --inner-repeats 99999999999: at most 858993459 with "
                                       "--outer-folds 5 (each repeat of each outer fold shuffles with a seed of its "
                                       "own, below 2**32)\n")


def test_output_names_near_the_file_systems_limit(tmp_path, data, capsys):
    """The temporary name (14 bytes more) made a legal 250-byte name fail as 'file name too long' after the work;
    a model whose sidecar's name is over the limit was trained in full, then lost."""
    assert main(["train", str(data), "--rounds", "2", "--quiet", "--out", str(tmp_path / "m.txt")]) == 0
    capsys.readouterr()
    long = tmp_path / ("a" * 250 + ".txt")
    assert main(["predict", str(tmp_path / "m.txt"), str(data), "--out", str(long), "--quiet"]) == 0
    assert long.is_file() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert main(["train", str(data), "--rounds", "2", "--quiet", "--out", str(long)]) == 1  # before training
    assert capsys.readouterr().err == f"ltr train: error: {long}.meta.json: cannot write: file name too long\n"
    mid = tmp_path / ("b" * 240 + ".txt")  # its sidecar's name, 254 bytes, is legal: its temporary name was not
    assert main(["train", str(data), "--rounds", "2", "--quiet", "--out", str(mid)]) == 0
    assert ltr.load_model(mid).n_features_in_ == 3


def test_dataset_cache_given_a_file_is_said_before_the_read(tmp_path, data, capsys):
    (tmp_path / "cache").write_text("a file")
    assert main(["train", str(data), "--rounds", "2", "--quiet", "--dataset-cache", str(tmp_path / "cache"),
                 "--out", str(tmp_path / "m.txt")]) == 2
    assert capsys.readouterr().err == (f"ltr train: error: --dataset-cache {tmp_path / 'cache'}: is a file, not a "
                                       "folder\n")


def test_cv_of_a_pipe_and_a_feature_file_that_is_not_there_are_said_as_such(tmp_path, data, capsys):
    fifo = tmp_path / "data.fifo"
    os.mkfifo(fifo)
    assert main(["cv", str(fifo), "--rounds", "2"]) == 1
    assert capsys.readouterr().err == (f"ltr cv: error: {fifo}: not a regular file (a pipe?): cross-validation reads "
                                       "its data from a file or a fold folder; write the data to a file first\n")
    assert main(["train", str(data), "--rounds", "2", "--features", "./nosuch.txt", "--out",
                 str(tmp_path / "m.txt")]) == 2
    assert capsys.readouterr().err == ("ltr train: error: --features: unknown feature name './nosuch.txt', and no such "
                                       "feature file; known names include ['f1', 'f2', 'f3']\n")
