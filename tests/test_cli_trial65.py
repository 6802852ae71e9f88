"""Trial t65 (cli-robustness): a cut compressed fold file, an interrupted demo over an earlier one, control
characters in file names, and smaller wordings (each test fails without its fix)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ltr.cli import main
from ltr.datasets import make_ranking
from ltr.io import write_letor

LTR = [sys.executable, "-m", "ltr.cli"]
CUT = "Compressed file ended before the end-of-stream marker was reached"
COMPRESS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}


def _cut(path: Path, suffix: str) -> Path:
    """``path`` compressed as ``suffix`` says and cut at half its bytes (a download cut short), in its place."""
    data = COMPRESS[suffix](path.read_bytes())
    cut = path.with_name(path.name + suffix)
    cut.write_bytes(data[:len(data) // 2])
    path.unlink()
    return cut


def _fold_folder(root: Path) -> Path:
    """Two folds, each part of its own 8 queries (no query id shared: no leak warning)."""
    for k in (1, 2):
        for i, part in enumerate(("train", "vali", "test")):
            path = root / f"Fold{k}" / f"{part}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            first = 100 * (3 * k + i)
            path.write_text("".join(f"{(q + d) % 3} qid:{q} 1:{(q * 7 + d) % 10 / 10:g} 2:{d / 10:g} 3:{q % 5:g}\n"
                                    for q in range(first, first + 8) for d in range(6)))
    return root


# -- 1. a cut .gz/.bz2/.xz fold file ----------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_cv_names_a_cut_compressed_fold_file_in_one_line(tmp_path, capsys, suffix):
    """Its leak check read the file before the reader and let an EOFError out: a 35-line traceback."""
    root = _fold_folder(tmp_path / "ff")
    cut = _cut(root / "Fold2" / "test.txt", suffix)
    assert main(["cv", str(root), "--rounds", "2", "--quiet"]) == 1
    said = "not a valid gzip file" if suffix == ".gz" else "cannot read file: not a valid compressed stream"
    assert capsys.readouterr().err == f"ltr cv: error: {cut}: {said} ({CUT})\n"  # as ltr info says it


def _ohsumed_like(folder: Path) -> None:
    """Five folds in LETOR 3.0 OHSUMED's layout, every query once per fold (as tests/test_trial65.py builds it)."""
    names = {"train": "trainingset.txt", "vali": "validationset.txt", "test": "testset.txt"}
    for fold in range(1, 6):
        test, vali = (fold - 1) % 5 + 1, fold % 5 + 1
        parts = {"train": [q for q in range(1, 6) if q not in (test, vali)], "vali": [vali], "test": [test]}
        for split, qids in parts.items():
            path = folder / f"Fold{fold}" / names[split]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(f"{d % 3} qid:{q} " + " ".join(f"{j}:{(q * 7 + d * 3 + j) % 10 / 10:g}"
                                                                    for j in range(1, 46)) + f" #docid = {q}-{d}\n"
                                    for q in qids for d in range(3)))


def test_cv_of_a_registered_sets_folds_names_a_cut_fold_file(tmp_path, capsys):
    """The same read in the official folds' leak check (``--dataset NAME --root DIR``)."""
    import ltr.registry as reg

    _ohsumed_like(tmp_path / "copy")
    cut = _cut(tmp_path / "copy" / "Fold2" / "testset.txt", ".gz")
    assert main(["cv", "--dataset", "ohsumed", "--root", str(tmp_path / "copy"), "--rounds", "2", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.endswith(f"ltr cv: error: {cut}: not a valid gzip file ({CUT})\n") and "Traceback" not in err
    # verify's leak check passes over the file, which its own check names as unreadable
    report = reg.verify("ohsumed", tmp_path / "copy", checksums=False)
    assert [c.status for c in report.files if c.path.startswith("Fold2/testset")] == ["unreadable"]


def test_query_ids_says_a_cut_stream_in_the_readers_words(tmp_path):
    from ltr.exceptions import LetorFormatError
    from ltr.registry import query_in_two_tests

    write_letor(tmp_path / "t.txt", make_ranking(30, 10, 3, random_state=0))
    cut = _cut(tmp_path / "t.txt", ".xz")
    with pytest.raises(LetorFormatError, match=f"^{cut}: cannot read file: not a valid compressed stream"):
        query_in_two_tests({"Fold1": cut})


# -- 2. the demo's files as one set -----------------------------------------------------------------------------------
DEMO_FILES = ("train.txt", "valid.txt", "test.txt", "model.txt", "model.txt.meta.json")


def _earlier_demo(folder: Path) -> dict[str, str]:
    folder.mkdir()
    (folder / ".ltr-demo").write_text("written by ltr demo: it replaces its files here when run again\n")
    for name in DEMO_FILES:
        (folder / name).write_text(f"the earlier demo's {name}\n")
    return {p.name: p.read_text() for p in folder.iterdir()}


def test_a_demo_whose_training_fails_leaves_the_earlier_demos_files(tmp_path, capsys, monkeypatch):
    """The data were written one by one, then the model trained: a failure (a full disk) left new data beside the
    old model."""
    import ltr.cli.train

    folder = tmp_path / "demo"
    before = _earlier_demo(folder)

    def fails(args):
        raise RuntimeError("the engine failed")

    monkeypatch.setattr(ltr.cli.train, "run_train", fails)
    assert main(["demo", "--dir", str(folder), "--seed", "1", "--quiet"]) == 1
    out, err = capsys.readouterr()
    assert err == "ltr demo: error: the engine failed\n"
    assert {p.name: p.read_text() for p in folder.iterdir()} == before  # no temporary left either
    # ltr info read the staged files and shows them by their own names
    assert f"$ ltr info {folder}/train.txt {folder}/valid.txt {folder}/test.txt\n" in out
    rows = [line for line in out.splitlines() if line.startswith(str(folder))]
    assert [r.split()[0] for r in rows] == [f"{folder}/{n}.txt" for n in ("train", "valid", "test")]
    assert ".ltrkit" not in out


def test_ctrl_c_during_a_demo_leaves_the_earlier_demos_files(tmp_path):
    folder = tmp_path / "demo"
    before = _earlier_demo(folder)
    log = tmp_path / "err.txt"
    with open(log, "wb") as f:
        p = subprocess.Popen([*LTR, "demo", "--dir", str(folder), "--seed", "1", "--quiet"], stdout=subprocess.DEVNULL,
                             stderr=f, start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            end = time.monotonic() + 300
            while time.monotonic() < end and p.poll() is None:  # the new test data written (staged, or in place)
                staged = [s for s in folder.glob(".ltrkit-*test.txt") if s.stat().st_size]
                if staged or (folder / "train.txt").read_text(errors="replace") != before["train.txt"]:
                    break
                time.sleep(0.02)
            os.killpg(p.pid, signal.SIGINT)
            code = p.wait(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
    assert code == 130, log.read_text()
    assert log.read_text().strip().splitlines()[-1] == "ltr demo: interrupted; no output file was left half-written"
    assert {x.name: x.read_text() for x in folder.iterdir()} == before


# -- 3. control characters in file names --------------------------------------------------------------------------
def test_a_file_name_is_shown_with_its_control_characters_escaped(tmp_path, capsys, monkeypatch):
    """A name holding ESC was written raw: 'ESC]0;T BEL' set the terminal's title when the error named the file."""
    monkeypatch.chdir(tmp_path)
    assert main(["info", "nosuch\x1b[31mred.txt"]) == 1
    assert capsys.readouterr().err == "ltr info: error: file not found: nosuch\\x1b[31mred.txt\n"
    Path("f\x1b]0;T\x07.txt").write_text("1 qid:1 1:abc\n")
    assert main(["info", "f\x1b]0;T\x07.txt"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ltr info: error: f\\x1b]0;T\\x07.txt:1: the feature value is not a number (token '1:abc')")
    # a token is escaped once (by its repr), as before; ordinary names are unchanged
    Path("label.txt").write_text("\x1b[2J qid:1 1:0.5\n")
    assert main(["info", "label.txt"]) == 1
    assert capsys.readouterr().err.startswith(
        "ltr info: error: label.txt:1: the label is not a number (token '\\x1b[2J')")
    assert main(["info", "--bogus\x1b[31m", "x"]) == 2  # argparse's own usage errors too
    assert "unrecognized arguments: --bogus\\x1b[31m (see ltr info --help)" in capsys.readouterr().err


def test_escaping_is_done_once_and_keeps_line_ends_as_joins():
    from ltr.cli._guard import _one_line, error_message, visible

    assert visible("a\tb\x7f\x85 \u00e9") == "a\\tb\\x7f\\x85 \u00e9" == visible(visible("a\tb\x7f\x85 \u00e9"))
    assert _one_line("first\nsecond\x0cthird\r\nlast") == "first; second\\x0cthird; last"
    assert error_message(FileNotFoundError(2, "No such file or directory", "a\x1bb")) == \
        "a\\x1bb: no such file or folder"


# -- 4. smaller wordings -------------------------------------------------------------------------------------------
@pytest.fixture
def small(tmp_path):
    data = write_letor(tmp_path / "d.txt", make_ranking(12, 6, 3, random_state=0))
    (tmp_path / "s.txt").write_text("".join(f"{i % 5}\n" for i in range(72)))
    return tmp_path, str(data)


@pytest.mark.parametrize("metric, said", [
    ("ndcg@2.5", "metric 'ndcg@2.5': the cutoff must be a positive integer up to 2147483647, got '2.5'"),
    ("P@1e3", "metric 'P@1e3': the cutoff must be a positive integer up to 2147483647, got '1e3'"),
    ("rprec@1.5", "metric 'rprec@1.5': rprec takes no cutoff; write 'rprec'"),
])
def test_a_cutoff_that_is_not_an_integer_is_called_a_bad_cutoff(small, capsys, metric, said):
    """ndcg@2.5 was 'unknown metric', with the list of every known one."""
    root, data = small
    assert main(["evaluate", data, "--scores", str(root / "s.txt"), "--metrics", metric]) == 2
    assert capsys.readouterr().err == f"ltr evaluate: error: --metrics: {said}\n"


def test_encoding_errors_with_letor_scores_is_refused_as_the_run_options_are(small, capsys):
    """It was taken without a word (exit 0), doing nothing, where -c and -M are refused."""
    root, data = small
    assert main(["evaluate", data, "--scores", str(root / "s.txt"), "--encoding-errors", "replace"]) == 2
    assert capsys.readouterr().err == ("ltr evaluate: error: --encoding-errors replace applies to a run and qrels "
                                       "(their invalid UTF-8); evaluate DATA --scores S reads neither: leave it out\n")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="no /proc")
def test_a_dataset_cache_where_no_folder_can_be_made_names_the_option(small, capsys, monkeypatch):
    """'--dataset-cache /proc/dsc' was '/proc/dsc: no such file or folder', exit 1, after reading the data (root may
    write to /proc by its mode; this process's access() stands in for root's)."""
    root, data = small
    monkeypatch.setattr(os, "access", lambda *a, **k: True)
    assert main(["train", data, "--rounds", "2", "--dataset-cache", "/proc/dsc", "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("ltr train: error: --dataset-cache /proc/dsc: no folder can be made in "
                                              "/proc (")
    cache = root / "new" / "cache"  # a folder that can be made is not made by the check
    assert main(["train", data, "--rounds", "2", "--engine", "xgboost", "--dataset-cache", str(cache)]) == 2
    assert "engine 'xgboost' has none" in capsys.readouterr().err and not (root / "new").exists()


def test_a_folder_where_a_fold_file_goes_is_said_to_be_a_folder(tmp_path, capsys):
    root = _fold_folder(tmp_path / "ff")
    (root / "Fold2" / "test.txt").unlink()
    (root / "Fold2" / "test.txt").mkdir()
    assert main(["cv", str(root), "--rounds", "2", "--quiet"]) == 1
    assert capsys.readouterr().err == (f"ltr cv: error: {root}: incomplete LETOR fold layout, missing "
                                       "Fold2/test.txt[.gz|.bz2|.xz] (Fold2/test.txt is a folder, not a file)\n")


def test_early_stopping_with_no_vali_names_no_vali(small, capsys):
    _, data = small
    assert main(["cv", data, "--no-vali", "--early-stopping", "5", "--quiet"]) == 2
    assert capsys.readouterr().err == ("ltr cv: error: --early-stopping needs a validation set to watch (--no-vali "
                                       "cuts the folds without one: leave out one of the two)\n")


def test_an_export_name_no_engine_can_hold_is_a_usage_error(small, capsys):
    """--name '' exited 2 and --name 'a/b"c' or --store 's 1' 1, all found before the model is read."""
    from ltr.exceptions import OptionError
    from ltr.export import ExportError, export

    root, data = small
    with pytest.raises(OptionError, match="name must be a plain name") as e:
        export(root / "no-model-read.txt", "es-xgboost", name='a/b"c')
    assert isinstance(e.value, ExportError)
    assert main(["train", data, "--rounds", "2", "--out", str(root / "m.txt"), "--quiet"]) == 0
    for flag, value in (("--name", 'a/b"c'), ("--store", "s 1")):
        assert main(["export", str(root / "m.txt"), "--to", "es-xgboost", "--out", str(root / "e.json"), flag,
                     value]) == 2
        assert capsys.readouterr().err.startswith(f"ltr export: error: {flag} {value!r}: must be a plain name")
    assert not (root / "e.json").exists()


def test_the_wrote_and_saved_lines_escape_control_characters_in_names(tmp_path, capsys):
    """The errors escaped a name's ESC, but the lines that say what was written printed it raw (review of t65)."""
    from ltr import make_ranking
    from ltr.io import write_letor

    data = write_letor(tmp_path / "d.txt", make_ranking(20, 6, 3, random_state=0))
    model = tmp_path / "m\x1b]0;T\x07.txt"
    assert main(["train", str(data), "--rounds", "2", "--out", str(model)]) == 0
    out = capsys.readouterr()
    assert "\x1b" not in out.out + out.err and "m\\x1b]0;T\\x07.txt" in out.out
    assert main(["predict", str(model), str(data), "--out", str(tmp_path / "s\x1b.txt")]) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "s\\x1b.txt" in err


def test_ltr_info_shows_a_file_name_with_control_characters_escaped(tmp_path, capsys):
    """ltr info's table and the model's field table printed such a name raw (review of t65)."""
    from ltr import make_ranking
    from ltr.io import write_letor

    data = write_letor(tmp_path / "d\x1b]0;T\x07.txt", make_ranking(20, 6, 3, random_state=0))
    model = tmp_path / "m\x1b.txt"
    assert main(["train", str(data), "--rounds", "2", "--out", str(model), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["info", str(data), str(model)]) == 0
    out = capsys.readouterr()
    assert "\x1b" not in out.out + out.err and "d\\x1b]0;T\\x07.txt" in out.out and "m\\x1b.txt" in out.out
