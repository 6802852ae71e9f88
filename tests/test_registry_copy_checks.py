"""A copy of a registered set is checked where it is used, not only by ``ltr data verify`` (trial t45): a file of the
set's layout whose queries or rows differ from the registry's counts (unpacked by hand, cut short at a line's end)
is warned about, and a file with no value in a quarter of a dense set's columns is refused as not that set's."""

from __future__ import annotations

import gzip
import logging
import shutil
from pathlib import Path

import pytest

import ltr.registry as reg
from ltr.cli import main

pytestmark = pytest.mark.shared


@pytest.fixture(autouse=True)
def _fresh_warnings():
    said = getattr(reg, "_warn_differences", None)  # said once per file and differences in a process
    if said is not None:
        said.cache_clear()
    yield
    if said is not None:
        said.cache_clear()


def _copy(shared_file, root: Path, cut: int | None = None) -> Path:
    """MQ2008's five folds laid out by hand from the shared segments: S1 (Fold1/test, as documented) everywhere it
    fits, the other files are other segments; Fold1/test.txt cut to ``cut`` lines."""
    src = {s: gzip.decompress(shared_file(f"mq2008/{s}").read_bytes()).decode()
           for s in ("Fold1/vali.txt.gz", "Fold1/test.txt.gz", "Fold2/test.txt.gz")}
    for k in range(1, 6):
        fold = root / "MQ2008" / f"Fold{k}"
        fold.mkdir(parents=True)
        (fold / "train.txt").write_text(src["Fold2/test.txt.gz"])
        (fold / "vali.txt").write_text(src["Fold1/vali.txt.gz"])
        (fold / "test.txt").write_text(src["Fold1/test.txt.gz"])
    if cut is not None:
        test = root / "MQ2008" / "Fold1" / "test.txt"
        test.write_text("".join(test.read_text().splitlines(keepends=True)[:cut]))
    return root


def test_a_whole_file_of_the_layout_loads_without_a_word(shared_file, tmp_path, caplog):
    root = _copy(shared_file, tmp_path)
    with caplog.at_level(logging.WARNING, logger="ltr.registry"):
        d = reg.load("mq2008", root, fold=1, split="test")
    assert (d.n_queries, d.n_rows) == (156, 2874) and not caplog.records


def test_a_file_cut_short_at_a_lines_end_is_warned_about_where_it_is_loaded(shared_file, tmp_path, caplog):
    root = _copy(shared_file, tmp_path, cut=1500)
    with caplog.at_level(logging.WARNING, logger="ltr.registry"):
        d = reg.load("mq2008", root, fold=1, split="test")
    assert (d.n_queries, d.n_rows) == (78, 1500)  # it reads: nothing else would say so
    [said] = [r.getMessage() for r in caplog.records]
    assert said == (f"{root / 'MQ2008' / 'Fold1' / 'test.txt'} is not mq2008's file as the registry documents it (78 "
                    "queries, the registry documents 156; 1500 rows, the registry documents 2874): a partial or "
                    f"damaged copy? `ltr data verify mq2008 {root / 'MQ2008'}` checks the whole copy")


def test_the_verify_command_the_warning_names_finds_the_file(shared_file, tmp_path, caplog, capsys):
    """(The review of t45: the command line named the data file's own folder, where verify finds no file.)"""
    root = _copy(shared_file, tmp_path, cut=1500)
    with caplog.at_level(logging.WARNING, logger="ltr.registry"):
        assert main(["info", str(root / "MQ2008" / "Fold1" / "test.txt"), "--dataset", "mq2008"]) == 0
    [said] = [r.getMessage() for r in caplog.records]
    command = said.split("`")[1].split()
    assert command[:3] == ["ltr", "data", "verify"]
    capsys.readouterr()
    assert main(command[1:] + ["--no-checksums"]) == 1  # NOT OK: it found the copy and the file that differs
    out = capsys.readouterr().out
    assert "Fold1/test.txt" in out and "78 queries, the registry documents 156" in out


def test_ltr_cv_on_a_copy_says_which_files_differ_from_the_registry(shared_file, tmp_path, caplog):
    """(In a process whose logging is configured, as pytest's is, the command leaves its warnings to the handlers;
    on a terminal they read 'ltr cv: warning: ...', as the subprocess test of ltr.cli shows for its warnings.)"""
    root = _copy(shared_file, tmp_path, cut=1500)
    with caplog.at_level(logging.WARNING, logger="ltr.registry"):
        assert main(["cv", "--dataset", "mq2008", "--root", str(root), "--rounds", "3", "--n-jobs", "1",
                     "--preset", "none", "--quiet"]) == 0
    err = caplog.text
    assert (f"{root / 'MQ2008' / 'Fold1' / 'test.txt'} is not mq2008's file as the registry "
            "documents it (78 queries, the registry documents 156; 1500 rows, the registry documents 2874)") in err
    # the training files hold one segment (157 queries) of the three the registry documents for Fold1's
    assert f"{root / 'MQ2008' / 'Fold1' / 'train.txt'} is not mq2008's file as the registry documents it (157 " \
           "queries, the registry documents 471)" in err


def test_ltr_info_dataset_warns_about_a_layout_file_and_not_about_another_file(shared_file, tmp_path, caplog):
    root = _copy(shared_file, tmp_path, cut=1500)
    cut = root / "MQ2008" / "Fold1" / "test.txt"
    with caplog.at_level(logging.WARNING, logger="ltr.registry"):
        assert main(["info", str(cut), "--dataset", "mq2008"]) == 0
    assert "78 queries, the registry documents 156" in caplog.text
    caplog.clear()
    elsewhere = tmp_path / "sample.txt"  # the same rows under a name of the user's: a sample, not the set's file
    shutil.copy(cut, elsewhere)
    with caplog.at_level(logging.WARNING, logger="ltr.registry"):
        assert main(["info", str(elsewhere), "--dataset", "mq2008"]) == 0
    assert "registry documents" not in caplog.text


def test_the_warning_reads_as_the_commands_own_on_a_terminal(shared_file, tmp_path):
    import subprocess
    import sys

    root = _copy(shared_file, tmp_path, cut=1500)
    done = subprocess.run([sys.executable, "-m", "ltr.cli", "info", str(root / "MQ2008" / "Fold1" / "test.txt"),
                           "--dataset", "mq2008"], capture_output=True, text=True, check=True)
    assert done.stderr.startswith(f"ltr info: warning: {root / 'MQ2008' / 'Fold1' / 'test.txt'} is not mq2008's "
                                  "file as the registry documents it (78 queries")


def test_another_sets_file_under_a_dense_sets_name_is_refused_in_python_too(shared_file, tmp_path):
    fold = tmp_path / "Fold1"
    fold.mkdir()
    (fold / "test.txt").write_bytes(gzip.decompress(shared_file("mq2008/Fold1/test.txt.gz").read_bytes()))
    with pytest.raises(reg.DatasetLayoutError, match=r"test.txt has no value in features 47\.\.136 of mslr-web10k's "
                                                     r"136: it is not a copy of mslr-web10k's file"):
        reg.load("mslr-web10k", tmp_path, fold=1, split="test")


@pytest.mark.parametrize("path, want", [("x/Fold1/test.txt", ("Fold1/test.txt", 1, "test")),
                                        ("x/Fold3/vali.txt.gz", ("Fold3/vali.txt", 3, "vali")),
                                        ("Fold1/test.txt.bz2", ("Fold1/test.txt", 1, "test")),
                                        ("x/Fold1/test.txt.zip", None), ("x/test.txt", None),
                                        ("x/Fold1x/test.txt", None)])
def test_a_path_is_a_layout_file_by_its_last_components(path, want):
    ef = reg.layout_file("mq2008", path)
    assert (ef.path, ef.fold, ef.split) == want if want else ef is None


def test_a_text_collection_fetched_with_differences_says_so_where_it_is_read(shared_file, tmp_path, caplog):
    """A trial (t45): a CACM copy fetched with 3,000 of 3,204 records (fetch warned once, and recorded it) was read by
    ltr features without another word."""
    import json

    from features.pipeline import load_inputs
    from ltr.registry._fetch import MARKER

    copy = tmp_path / "adi"
    copy.mkdir()
    for name in ("ADI.ALL", "ADI.QRY", "ADI.REL"):
        shutil.copy(shared_file(f"adi/{name}"), copy / name)
    reg._warn_once.cache_clear()
    with caplog.at_level(logging.WARNING, logger="ltr.registry"):
        load_inputs(copy)
    assert not caplog.records  # no marker: a folder of the user's
    (copy / MARKER).write_text(json.dumps({"name": "adi", "differing": ["ADI.ALL"], "problems": []}))
    with caplog.at_level(logging.WARNING, logger="ltr.registry"):
        load_inputs(copy)
    [said] = [r.getMessage() for r in caplog.records]
    assert said.startswith(f"the copy of adi in {copy} differs from the registry's counts, as fetch said when it "
                           "installed it (ADI.ALL differs)")
    reg._warn_once.cache_clear()
