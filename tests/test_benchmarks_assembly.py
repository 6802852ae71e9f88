"""benchmarks/RESULTS.md is generated: the committed fragments reproduce it byte for byte, a hand edit is caught,
and every fragment says what ran, when and where (benchmarks/README.md). No benchmark runs here."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
RESULTS = BENCH / "results"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses/NamedTuple look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def asm():
    return _load("assemble_results")


def _fragments() -> list[Path]:
    return sorted(RESULTS.glob("*.md"))


def test_the_committed_results_are_what_the_committed_fragments_give(asm):
    assert (BENCH / "RESULTS.md").read_bytes() == asm.assemble(RESULTS).encode("utf-8"), (
        "benchmarks/RESULTS.md is not what benchmarks/results/*.md give: run python benchmarks/assemble_results.py")


def test_every_fragment_appears_verbatim_in_the_results(asm):
    text = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    for path in _fragments():
        assert path.read_text(encoding="utf-8").rstrip("\n") in text, path.name


@pytest.mark.parametrize("path", _fragments(), ids=lambda p: p.stem)
def test_every_fragment_has_a_title_a_command_line_and_a_date(asm, path):
    assert asm.fragment_problems(path.read_text(encoding="utf-8")) == []


@pytest.fixture
def copy(tmp_path):
    """A copy of the fragments and RESULTS.md to break."""
    shutil.copytree(RESULTS, tmp_path / "results")
    shutil.copy(BENCH / "RESULTS.md", tmp_path / "RESULTS.md")
    return tmp_path


def _check(asm, root: Path) -> int:
    return asm.main(["--results", str(root / "results"), "--out", str(root / "RESULTS.md"), "--check"])


def test_check_passes_on_the_committed_copy_and_catches_a_hand_edited_number(asm, copy, capsys):
    assert _check(asm, copy) == 0
    results = copy / "RESULTS.md"
    text = results.read_text(encoding="utf-8")
    row = next(m for m in re.finditer(r"^\|[^\n]*\d[^\n]*\|$", text, re.M) if "---" not in m.group(0))
    digit = re.search(r"\d", row.group(0))
    at = row.start() + digit.start()
    results.write_text(text[:at] + str((int(text[at]) + 1) % 10) + text[at + 1:], encoding="utf-8")
    assert _check(asm, copy) == 1
    assert "is not what the fragments" in capsys.readouterr().err


def test_check_catches_a_fragment_that_was_not_assembled(asm, copy):
    (copy / "results" / "zz_new_bench.md").write_text("## New\n\n`python benchmarks/zz_new_bench.py` (2026-01-02; "
                                                      "a machine)\n\n| a |\n|---|\n| 1 |\n", encoding="utf-8")
    assert _check(asm, copy) == 1
    assert asm.main(["--results", str(copy / "results"), "--out", str(copy / "RESULTS.md")]) == 0
    assert _check(asm, copy) == 0


def test_unlisted_fragments_follow_the_listed_ones_alphabetically(asm, tmp_path):
    (tmp_path / "zeta.md").write_text("## Zeta\n\n`python z.py` (2026-01-02; m)\n\nz\n", encoding="utf-8")
    (tmp_path / "alpha.md").write_text("## Alpha\n\n`python a.py` (2026-01-02; m)\n\na\n", encoding="utf-8")
    listed = asm.ORDER[0]
    (tmp_path / f"{listed.stem}.md").write_text("## First\n\n`python f.py` (2026-01-02; m)\n\nf\n", encoding="utf-8")
    text = asm.assemble(tmp_path)
    assert text.index("## First") < text.index("## Alpha") < text.index("## Zeta")


def test_a_missing_fragment_is_said_not_measured_with_the_command_that_writes_it(asm, tmp_path):
    text = asm.assemble(tmp_path)  # no fragment at all
    for entry in asm.ORDER:
        section = text.split(f"<!-- benchmarks/results/{entry.stem}.md: missing -->", 1)[1].split("<!--", 1)[0]
        assert f"## {entry.title}\n" in section
        assert "Not measured in this run" in section and f"`{entry.command}`" in section
    assert not re.search(r"\d\.\d", text.split("Sections:", 1)[1])  # no number comes from anywhere but a fragment


def test_fragment_problems_name_what_is_missing(asm):
    good = "## T\n\n`python benchmarks/b.py --quick` (2026-12-01; 2 cores)\n\n| x |\n"
    assert asm.fragment_problems(good) == []
    assert asm.fragment_problems(good.replace("## T\n\n", "")) == ['the first line is not a "## Title" line']
    assert "no command line" in asm.fragment_problems("## T\n\nsome text\n")[0]
    assert "no date" in asm.fragment_problems("## T\n\n`python b.py` (today)\n")[0]


def test_a_script_fragment_is_exactly_what_it_printed(asm, tmp_path, capsys):
    report = _load("_report")
    out = tmp_path / "bench_demo.md"
    rep = report.Fragment(BENCH / "bench_demo.py", "Demo", ["--quick", "a b"], out=out)
    rep.print("Set-up in a sentence.\n")
    rep.table(["system", "seconds"], [["ours", "1.25"], ["theirs", "2.50"]], "lr")
    rep.print("- a note")
    assert rep.write() == out
    printed = capsys.readouterr().out
    written = out.read_text(encoding="utf-8")
    assert printed == written
    assert asm.fragment_problems(written) == []
    lines = written.splitlines()
    assert lines[0] == "## Demo"
    assert re.match(r"`(nice -n \d+ )?python benchmarks/bench_demo\.py --quick 'a b'` \(\d{4}-\d\d-\d\d; ", lines[2])
    assert "| ours | 1.25 |" in lines and "|---|---:|" in lines
    assert re.fullmatch(r"Run time: \d+ s\.", lines[-1])


def test_machine_problems_name_every_part_of_the_environment_line_that_is_missing(asm):
    report = _load("_report")
    assert asm.machine_problems(report.header("T", "python benchmarks/b.py")) == []  # what the scripts write
    full = ("## T\n\n`python b.py` (2026-12-01; AMD EPYC, 2 usable cores of 2, 24 GiB; Python 3.11.7, numpy 2.4.6, "
            "numba 0.68.1, LightGBM 4.7.0, XGBoost 3.2.0)\n")
    assert asm.machine_problems(full) == []
    # bench_memory's own line until 2026-12: no CPU model, cores not as 'N usable cores of M', no XGBoost
    memory = full.replace("AMD EPYC, 2 usable cores of 2", "x86_64, 2 usable cores").replace(", XGBoost 3.2.0", "")
    [problem] = asm.machine_problems(memory)
    assert "CPU model and usable cores" in problem and "XGBoost" in problem
    assert "memory" not in problem and "Python" not in problem and "LightGBM" not in problem
    # bench_gpu_kernels' own line: no memory, no Python, no numpy/LightGBM/XGBoost
    [problem] = asm.machine_problems("## T\n\n`python b.py` (2026-12-01; x86_64, 2 CPU threads; device: none; "
                                     "numba 0.68.1)\n")
    for part in ("CPU model", "memory", "Python", "numpy", "LightGBM", "XGBoost"):
        assert part in problem
    assert "numba" not in problem
    assert asm.machine_problems("## T\n\nno command\n") == []  # fragment_problems reports that one


def test_check_reports_a_fragment_whose_machine_line_is_incomplete(asm, copy, capsys):
    (copy / "results" / "zz_bare.md").write_text("## Bare\n\n`python benchmarks/zz_bare.py` (2026-01-02; x86_64, "
                                                 "2 CPU threads)\n\n| a |\n|---|\n| 1 |\n", encoding="utf-8")
    assert asm.main(["--results", str(copy / "results"), "--out", str(copy / "RESULTS.md")]) == 0
    capsys.readouterr()
    assert _check(asm, copy) == 0  # reported, as the header problems are; the file is still what the fragments give
    err = capsys.readouterr().err
    assert re.search(r"zz_bare\.md: the machine line lacks the CPU model and usable cores .*memory.*Python", err)
