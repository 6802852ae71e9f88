"""Behaviours mended in stop 54."""

from __future__ import annotations


def test_a_quoted_glob_is_named_as_a_pattern_where_one_file_is_read(tmp_path, capsys):
    """``ltr predict m.txt 'shards/*.txt'`` said 'LETOR file not found' of a pattern matching files (t53 left alone)."""
    from ltr.cli import main

    for i in (1, 2):
        (tmp_path / f"part{i}.txt").write_text("1 qid:1 1:1\n0 qid:1 1:2\n")
    pattern = str(tmp_path / "part*.txt")
    assert main(["evaluate", pattern, "--scores", str(tmp_path / "part1.txt")]) == 1
    err = capsys.readouterr().err
    assert f"LETOR file not found: {pattern} (a pattern matching 2 files: one file is read here; only training " \
           "under Dask, ltr train --dask, reads a glob of shards)" in err
    assert main(["evaluate", str(tmp_path / "none*.txt"), "--scores", str(tmp_path / "part1.txt")]) == 1
    assert capsys.readouterr().err.rstrip().endswith(f"LETOR file not found: {tmp_path / 'none*.txt'}")

