"""ltr compare's refusals in the command line's words, from an evaluation user's trial (they named Python's
arguments first, and an unknown --baseline exited 1, a data error's code)."""

from __future__ import annotations

import pytest

from ltr.cli import main
from ltr.evaluation.compare import compare_runs
from ltr.exceptions import ComparisonDataError
from ltr.io import read_qrels, read_run


@pytest.fixture
def files(tmp_path):
    qrels = tmp_path / "q.qrels"
    qrels.write_text("1 0 a 1\n1 0 b 0\n2 0 a 0\n2 0 c 1\n3 0 b 1\n")
    runs = {}
    for name, queries in (("one", "123"), ("two", "12")):
        p = tmp_path / f"{name}.run"
        p.write_text("".join(f"{q} Q0 {d} {r} {s} {name}\n" for q in queries
                             for r, (d, s) in enumerate((("a", 2.0), ("b", 1.5), ("c", 1.0)), 1)))
        runs[name] = p
    return qrels, runs


def test_runs_over_different_queries_are_refused_naming_the_options_of_each_interface(files, capsys):
    qrels, runs = files
    code = main(["compare", str(runs["one"]), str(runs["two"]), "--qrels", str(qrels), "--metrics", "map"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("ltr compare: error: the systems were evaluated on different queries")
    assert "Give --intersection to compare" in err and "-c (--complete) to score" in err and "queries=" not in err
    systems = {n: read_run(p) for n, p in runs.items()}
    with pytest.raises(ComparisonDataError,
                       match=r"Pass queries='intersection' .* compare_runs\(\.\.\., complete=True\) to score"):
        compare_runs(systems, read_qrels(qrels), metrics=["map"])


def test_labels_off_the_scale_and_an_unknown_baseline(files, tmp_path, capsys):
    qrels, runs = files
    neg = tmp_path / "neg.qrels"
    neg.write_text(qrels.read_text() + "3 0 c -2\n")
    code = main(["compare", str(runs["one"]), str(runs["two"]), "--qrels", str(neg), "--intersection", "--metrics",
                 "map", "--labels", "0,1"])
    err = capsys.readouterr().err
    assert code == 1 and "add them to --labels, or leave --labels out" in err and "labels=" not in err
    code = main(["compare", str(runs["one"]), str(runs["two"]), "--qrels", str(qrels), "--intersection",
                 "--baseline", "nosuch"])
    assert code == 2  # a usage error, as the README says
    assert "ltr compare: error: --baseline 'nosuch' is not one of the systems" in capsys.readouterr().err


def test_a_json_file_cut_before_its_format_is_not_read_as_a_run(files, tmp_path, capsys):
    qrels, runs = files
    cut = tmp_path / "cv.json"
    cut.write_text('{"format": "ltrkit')  # an ltr cv --out result cut short
    code = main(["compare", str(cut), str(runs["one"]), "--qrels", str(qrels)])
    err = capsys.readouterr().err
    assert code == 1 and "a JSON file, but not a result of ltr cv --out" in err and "run line" not in err
