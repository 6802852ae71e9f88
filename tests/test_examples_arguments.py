"""The examples are command-line scripts: a bad argument is one line naming it (argparse's exit 2), before any work,
not a traceback from deep inside a fit ("X has no rows" for --folds 1)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_example", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name, argv, said", [
    ("text_to_ranker", ["--folds", "1"], "--folds must be at least 2, got 1"),
    ("text_to_ranker", ["--folds", "0"], "--folds must be at least 2, got 0"),
    ("text_to_ranker", ["--topk", "0"], "--topk must be at least 1, got 0"),
    ("hybrid_ranker", ["--folds", "1"], "--folds must be at least 2, got 1"),
    ("hybrid_ranker", ["--rounds", "0"], "--rounds must be at least 1, got 0"),
    ("hybrid_ranker", ["--collection", "/nonexistent/coll"], "--collection /nonexistent/coll: no such folder"),
    # checked before minutes of features and embeddings (they failed with a traceback after them; trial t57)
    ("hybrid_ranker", ["--alpha", "2"], "--alpha must be a number in [0, 1], got 2.0"),
    ("hybrid_ranker", ["--temperature", "0"], "--temperature must be a finite number > 0, got 0.0"),
    ("hybrid_ranker", ["--max-length", "0"], "--max-length must be at least 1, got 0"),
    ("hybrid_ranker", ["--seed", "-1"], "--seed must be an integer between 0 and 2**32 - 1, got -1"),  # (t59)
])
def test_a_bad_argument_is_one_line_naming_it(name, argv, said, capsys):
    with pytest.raises(SystemExit) as stopped:
        load(name).main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert f": error: {said}" in err[-1], err  # (the program's name is the runner's here)


def test_an_unknown_collection_names_the_folders_there(shared_data, capsys):
    with pytest.raises(SystemExit) as stopped:
        load("text_to_ranker").main(["--collections", "nosuch", "--pipeline", "small"])
    assert stopped.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert f"error: --collections: no folder 'nosuch' under {shared_data} (it holds " in last and "cranfield" in last


def test_a_folder_that_is_no_collection_is_one_line_after_the_checks(tmp_path, capsys):
    # the collection is read inside the run: its error was a traceback (as --max-length beyond the model's limit,
    # known once the model loads; trial t57)
    (tmp_path / "notes.txt").write_text("not a test collection\n")
    assert load("hybrid_ranker").main(["--collection", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and str(tmp_path) in err[0], err
