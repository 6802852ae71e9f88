"""Trial t49 (cli): outputs that replaced the query-id map or a report's own inputs, huge integers that gave
tracebacks or crashes, a dataset cache at the model's path, a write-protected file replaced, files not in UTF-8
named only in Python's words."""

from __future__ import annotations

import os

import pytest

from ltr import make_ranking
from ltr.cli import main
from ltr.io import write_letor


def run(argv, capsys) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


@pytest.fixture()
def small(tmp_path):
    (tmp_path / "d.tsv").write_text("d1\twing flutter\nd2\theat transfer\nd3\twing heat\n")
    (tmp_path / "q.tsv").write_text("q-a\twing\nq-b\theat\n")  # string ids: a map beside the LETOR file
    (tmp_path / "qrels").write_text("q-a 0 d1 1\nq-b 0 d2 1\n")
    write_letor(tmp_path / "train.txt", make_ranking(12, 6, 4, random_state=0))
    return tmp_path


@pytest.mark.parametrize("flag", ["--qrels-out", "--save-run", "--topics-out"])
def test_an_output_named_as_the_query_id_map_is_refused(small, capsys, flag):
    """--qrels-out OUT.qids.tsv replaced the map ltr features writes there (exit 0, both said written); ltr predict
    --run and ltr cv then refused the file."""
    out = small / "c.letor"
    code, err = run(["features", "--collection", small / "d.tsv", "--queries", small / "q.tsv", "--qrels",
                     small / "qrels", "--out", out, flag, f"{out}.qids.tsv"], capsys)
    assert code == 2 and err == (f"ltr features: error: {flag} {out}.qids.tsv: the name of the query-id map written "
                                 f"beside --out {out} (its LETOR qids' original ids): give the output another name\n")
    assert not out.exists()


def test_a_report_never_replaces_its_result_or_data(small, capsys, tmp_path):
    """ltr report RESULT --out DIR wrote DIR/report.html and DIR/report.md over a RESULT or --data of those names."""
    assert main(["cv", str(small / "train.txt"), "--folds", "2", "--rounds", "3", "--preset", "none", "--quiet",
                 "--out", str(tmp_path / "cv.json")]) == 0
    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / "report.html").write_bytes((tmp_path / "cv.json").read_bytes())
    (rep / "report.md").write_bytes((small / "train.txt").read_bytes())
    before = {p: p.read_bytes() for p in rep.iterdir()}
    code, err = run(["report", rep / "report.html", "--out", rep, "--data", rep / "report.md"], capsys)
    assert code == 2 and f"{rep / 'report.html'}: is also an input of this command" in err
    code, err = run(["report", tmp_path / "cv.json", "--out", rep, "--data", rep / "report.md"], capsys)
    assert code == 2 and f"{rep / 'report.md'}: is also an input of this command" in err
    (rep / "figures").mkdir()
    (rep / "figures" / "cv.json").write_bytes((tmp_path / "cv.json").read_bytes())
    code, err = run(["report", rep / "figures" / "cv.json", "--out", rep, "--formats", "png"], capsys)
    assert code == 2 and "inside " in err and "whose files the report replaces" in err
    assert {p: p.read_bytes() for p in rep.iterdir() if p.is_file()} == before
    # a file of those names that is no input of this report, and that no report made there, is not replaced either
    # (trial t70; this test had it replaced: a user's page, overwritten with exit 0)
    code, err = run(["report", tmp_path / "cv.json", "--out", rep, "--formats", "md"], capsys)
    assert code == 1 and "the folder holds report.md, which no report written there made" in err
    assert (rep / "report.md").read_bytes() == before[rep / "report.md"]


@pytest.mark.parametrize("argv, said", [
    (["evaluate", "{data}", "--scores", "{scores}", "--metrics", "ndcg@9223372036854775808"],
     "the cutoff must be a positive integer up to 2147483647, got 9223372036854775808"),
    (["train", "{data}", "--engine", "linear", "--objective", "ndcg@99999999999999999999"],
     "the cutoff must be a positive integer up to 2147483647"),
    (["train", "{data}", "--kernel", "numba", "--objective-param", "truncation_level=99999999999999999999"],
     "truncation_level must be a positive integer up to 2147483647"),
    (["train", "{data}", "--engine", "linear", "--param", "n_steps=99999999999999999999"],
     "n_steps must be an integer >= 1 and <= 1000"),
    (["train", "{data}", "--n-jobs", "60000"], "a positive count of threads up to 4096"),
])
def test_huge_integers_are_one_line_naming_the_bound(small, capsys, argv, said):
    """2**63 as a cutoff gave an OverflowError traceback in every command that takes metrics, Numba's 'Int value is
    too large' others, --n-jobs 60000 an exit 1 without a word and 100000 a segfault."""
    (small / "s.txt").write_text("".join(f"{i}\n" for i in range(72)))
    code, err = run([a.format(data=small / "train.txt", scores=small / "s.txt") for a in argv] + ["--quiet"], capsys)
    assert code in (1, 2) and said in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_dataset_cache_at_the_models_path_is_refused_before_training(small, capsys, tmp_path):
    """--dataset-cache X --out X trained every round, then failed 'X: is a folder', the model lost."""
    code, err = run(["train", small / "train.txt", "--out", tmp_path / "m1", "--dataset-cache", tmp_path / "m1"],
                    capsys)
    assert code == 2 and err == (f"ltr train: error: --dataset-cache {tmp_path / 'm1'}: the model's own path (--out "
                                 f"{tmp_path / 'm1'}): give the cache a folder of its own\n")
    assert not (tmp_path / "m1").exists()


def test_a_write_protected_output_is_not_replaced(small, capsys, tmp_path, monkeypatch):
    """The atomic rename needs only the folder: a 0444 file was replaced without a word (shell '>' refuses it). The
    answer is the OS's access(W_OK) for this process (root writes anywhere), stood in for here."""
    kept = tmp_path / "kept.txt"
    kept.write_text("reference\n")
    kept.chmod(0o444)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if (os.fspath(p) == str(kept) and mode & os.W_OK)
                        else real(p, mode, **kw))
    code, err = run(["train", small / "train.txt", "--rounds", "2", "--out", kept], capsys)
    assert code == 1 and err == (f"ltr train: error: {kept} (--out): cannot write: the file is write-protected "
                                 "(chmod u+w it to replace it, or give another name)\n")
    assert kept.read_text() == "reference\n"


@pytest.mark.parametrize("argv, what", [
    (["train", "{data}", "--features", "{bad}"], "feature file"),
    (["tune", "{data}", "--trials", "1", "--space", "{bad}"], "search space"),
    (["train", "{data}", "--objective", "distill", "--kernel", "numba", "--teacher-scores", "{bad}"], "score file"),
])
def test_a_file_not_in_utf8_is_named_with_how_to_convert_it(small, capsys, argv, what):
    """Only Python's "'utf-8' codec can't decode byte ..." was said (no file, no line), or a --encoding-errors the
    command does not have or that does not apply to that file."""
    bad = small / "latin.txt"
    bad.write_bytes(b"1\ncaf\xe9\n")
    code, err = run([a.format(data=small / "train.txt", bad=bad) for a in argv] + ["--quiet"], capsys)
    assert code in (1, 2) and err.endswith(f"{bad}:2: {what}: invalid UTF-8 byte b'\\xe9' at byte offset 5; save it "
                                           "as UTF-8 (e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8)\n")


@pytest.mark.parametrize("argv, said", [
    (["train", "{data}", "--max-depth", "-2"], "--max-depth must be a positive integer, or -1/None for no limit, "
                                               "got -2"),
    (["train", "{data}", "--rounds", "2147483648"], "--rounds must be at most 2147483647 (the engines' C int), got "
                                                    "2147483648"),
    (["data", "fetch", "adi", "--to", "{folder}", "--timeout", "nan"],
     "argument --timeout: 'nan': must be a positive, finite number of seconds (see ltr data fetch --help)"),
])
def test_values_the_messages_rule_out_are_refused(small, capsys, argv, said):
    """--max-depth -2 trained although the error for 0 says only -1 means no limit; --rounds 2**31 was refused in
    LightGBM's words after the data was read ('num_iterations must be >= 0'); --timeout nan passed '<= 0'."""
    code, err = run([a.format(data=small / "train.txt", folder=small / "sets") for a in argv], capsys)
    assert code == 2 and err.endswith(f"error: {said}\n") and err.count("\n") == 1


def test_the_dataset_cache_keys_a_binning_alias_as_its_canonical_name(small, capsys, tmp_path):
    """--param max_bins=15 (LightGBM's alias of max_bin) beside a cache filled with the default binning loaded
    that file and failed in LightGBM's words ('cannot be changed to 15 when loading from binary file'; t50)."""
    cache = tmp_path / "dc"
    base = ["train", small / "train.txt", "--dataset-cache", cache, "--rounds", 3, "--quiet"]
    assert run([*base, "--out", tmp_path / "a.txt"], capsys)[0] == 0
    assert run([*base, "--out", tmp_path / "b.txt", "--param", "max_bins=15"], capsys)[0] == 0
    assert run([*base, "--out", tmp_path / "c.txt", "--param", "max_bin=15"], capsys)[0] == 0
    assert len(list(cache.glob("*.bin"))) == 2  # the alias and the canonical name share a file
    b = (tmp_path / "b.txt").read_text()
    assert "[max_bins: 15]" in b or "[max_bin: 15]" in b


def test_cv_names_the_fold_file_whose_labels_the_metrics_cannot_score_before_that_fold_trains(tmp_path, capsys):
    """A label above --max-grade in Fold3's test file failed after Fold3 trained, as 'ERR needs labels <=
    max_grade=4, got a label 6', naming no file (trial t50/training); ltr train names the file's line."""
    for i in (1, 2, 3):
        (tmp_path / f"Fold{i}").mkdir()
        for j, part in enumerate(("train", "vali", "test")):
            write_letor(tmp_path / f"Fold{i}" / f"{part}.txt", make_ranking(12, (4, 8), 3, random_state=3 * i + j))
    bad = tmp_path / "Fold3" / "test.txt"
    lines = bad.read_text().splitlines(keepends=True)
    first = next(k for k, line in enumerate(lines) if not line.startswith("#"))
    lines[first] = "6" + lines[first][lines[first].index(" "):]
    bad.write_text("".join(lines))
    code, err = run(["cv", tmp_path, "--rounds", 2, "--metrics", "err@10", "--out", tmp_path / "r.json"], capsys)
    assert code == 1 and f"error: {bad}: ERR needs labels <= max_grade=4, got a label 6" in err
