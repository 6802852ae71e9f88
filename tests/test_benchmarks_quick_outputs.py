"""One rule for every benchmark script (benchmarks/README.md): a trial run (``--quick``, ``--cpu-only``,
``--simulate``: a smoke run, not a measurement) writes no fragment unless ``--out`` names one; it prints the fragment
on standard output. Checked on each script's own argument parsing (``parse_args``); no benchmark runs here."""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
RESULTS = BENCH / "results"
TRIAL = re.compile(r"""add_argument\(\s*["'](--quick|--cpu-only|--simulate)["']""")


def _trial_modes() -> list[tuple[str, str]]:
    return [(path.stem, flag) for path in sorted(BENCH.glob("bench_*.py"))
            for flag in TRIAL.findall(path.read_text(encoding="utf-8"))]


@functools.cache
def _load(name: str):
    """Import a script without running it (its ``main`` is behind ``if __name__ == "__main__"``)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))  # the scripts import benchmarks/_report.py as _report
    environ = dict(os.environ)
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:  # bench_rerank pins the BLAS threads at import: leave the test process as it was
        os.environ.clear()
        os.environ.update(environ)
    return module


def _recorded_command(stem: str) -> str:
    text = (RESULTS / f"{stem}.md").read_text(encoding="utf-8")
    return re.search(r"^`([^`]*)`", text, re.M).group(1)


def test_the_trial_modes_are_found():
    stems = {stem for stem, _ in _trial_modes()}
    assert {"bench_io", "bench_metrics", "bench_trees", "bench_features", "bench_experiments", "bench_small_data",
            "bench_distill_fusion", "bench_hybrid", "bench_bar", "bench_rerank", "bench_gpu", "bench_gpu_kernels",
            "bench_train", "bench_objective"} <= stems


def test_the_rule_itself():
    report = _load("_report")
    assert report.fragment_out(None, trial=True) == "-"
    assert report.fragment_out(None, trial=False) is None
    assert report.fragment_out("x.md", trial=True) == "x.md"
    assert report.fragment_out("-", trial=False) == "-"
    assert report.fragment_out(None, trial=False, default="y.md") == "y.md"
    assert report.fragment_out(None, trial=True, default="y.md") == "-"
    assert {flag for _, flag in _trial_modes()} == set(report.TRIAL_OPTIONS)


@pytest.mark.parametrize(("stem", "flag"), _trial_modes(), ids=lambda v: v)
def test_a_trial_run_writes_no_fragment_unless_out_names_one(stem, flag, tmp_path):
    script = _load(stem)
    resolved = script.parse_args([flag]).out
    assert resolved == "-", f"{stem} {flag} would write a fragment into benchmarks/results"
    named = tmp_path / "fragment.md"
    assert script.parse_args([flag, "--out", str(named)]).out == str(named)
    assert script.parse_args([flag, "--out", "-"]).out == "-"
    assert script.parse_args([]).out is None  # a full run writes benchmarks/results/<stem>.md


@pytest.mark.parametrize("stem", ["bench_train", "bench_objective"])
def test_a_committed_quick_fragment_records_the_out_that_wrote_it(stem):
    # their committed fragments were --quick runs without --out, an exception to the rule until re-run with it
    command = _recorded_command(stem).split()
    assert "--quick" in command and command[command.index("--out") + 1] == f"benchmarks/results/{stem}.md"


def test_an_outside_bar_run_still_defaults_to_its_own_fragment(tmp_path):
    bar = _load("bench_bar")
    assert bar.parse_args(["--collection", f"X={tmp_path}"]).out == str(BENCH / "results" / "bench_bar_outside.md")
    assert bar.parse_args(["--collection", f"X={tmp_path}", "--quick"]).out == "-"


def test_gpu_kernels_without_a_device_writes_no_fragment_and_says_so(monkeypatch, tmp_path, capsys):
    """Nothing measured, nothing written: the assembler then says "not measured in this run" (as for bench_gpu).
    The script runs from a copy in tmp_path, so that a slip writes there, never into benchmarks/results."""
    import shutil

    import ltr.gpu

    _load("_report")  # benchmarks/ on sys.path
    shutil.copy(BENCH / "bench_gpu_kernels.py", tmp_path / "bench_gpu_kernels.py")
    spec = importlib.util.spec_from_file_location("_bench_gpu_kernels_copy", tmp_path / "bench_gpu_kernels.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    import _report

    monkeypatch.setattr(_report, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(ltr.gpu, "cuda_devices", lambda: [])
    assert script.main([]) == 0
    printed, err = capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench_gpu_kernels.py"]
    assert "nothing was measured" in printed and "no fragment written" in err
    asm = _load("assemble_results")
    assert asm.fragment_problems(printed) == [] and asm.machine_problems(printed) == []
    named = tmp_path / "named.md"
    assert script.main(["--out", str(named)]) == 0
    assert named.read_text(encoding="utf-8") == capsys.readouterr().out


def test_bench_gpu_without_a_gpu_writes_no_fragment(tmp_path, monkeypatch, capsys):
    """A run where no configuration trained on a GPU measured nothing: it wrote a fragment of "failed" rows over
    whatever GPU measurement was there (a trial). Run here with a GPU learner made to fail, whatever the machine."""
    from ltr.rankers.ranker import Ranker

    script = _load("bench_gpu")
    monkeypatch.setattr(_load("_report"), "RESULTS_DIR", tmp_path)
    real = Ranker.fit

    def no_gpu(self, *args, **kwargs):
        if self.device == "gpu":
            raise RuntimeError("no GPU here (this test)")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Ranker, "fit", no_gpu)
    assert script.main(["--queries", "50", "--rounds", "2", "--engines", "lightgbm"]) == 0
    assert "nothing measured on a GPU, no fragment written" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
    assert script.main(["--queries", "50", "--rounds", "2", "--engines", "lightgbm", "--out",
                        str(tmp_path / "f.md")]) == 0  # named: written, failures and all
    assert "| lightgbm | native | gpu | failed |" in (tmp_path / "f.md").read_text()
