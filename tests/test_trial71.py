"""Fixes from user trial t71 (and the review that followed it), each with the case that showed it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ltr._shared import shared_data_dir, shared_data_missing

ROOT = Path(__file__).resolve().parent.parent


def test_shared_data_named_but_missing_is_not_replaced_by_another_folder(monkeypatch, tmp_path):
    # LTRKIT_SHARED_DATA naming no folder fell back to ../shared/data without a word: a benchmark or a test run then
    # read other data than the user named.
    (tmp_path / "there").mkdir()
    monkeypatch.setenv("LTRKIT_SHARED_DATA", str(tmp_path / "typo"))
    assert shared_data_dir() is None
    assert shared_data_missing() == f"LTRKIT_SHARED_DATA={tmp_path / 'typo'}: no such folder"
    assert shared_data_dir(tmp_path / "there") == tmp_path / "there"  # a script's --data wins over the variable
    assert shared_data_dir(tmp_path / "gone") is None
    assert shared_data_missing(tmp_path / "gone") == f"--data {tmp_path / 'gone'}: no such folder"
    monkeypatch.setenv("LTRKIT_SHARED_DATA", str(tmp_path / "there"))
    assert shared_data_dir() == tmp_path / "there"


def test_a_benchmark_given_a_missing_data_folder_says_so_in_one_line(tmp_path):
    env = {**os.environ, "LTRKIT_SHARED_DATA": str(tmp_path / "typo")}
    for argv in ([], ["--data", str(tmp_path / "gone")]):
        r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_bm25_baselines.py"), *argv],
                           capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 1, r.stderr
        named = f"--data {tmp_path / 'gone'}" if argv else f"LTRKIT_SHARED_DATA={tmp_path / 'typo'}"
        assert r.stderr.strip().splitlines() == [f"{named}: no such folder"], r.stderr
        assert not (tmp_path / "typo").exists()
