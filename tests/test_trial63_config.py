"""Trial t63 (cli-robustness), findings 2 and 3: ``--config`` keys of one file that set one option under two
names (the last won without a word, exit 0), and a TOML date or time in ``[params]`` / ``[objective_params]``
("Object of type date is not JSON serializable", exit 1, naming neither the file nor the key)."""

from __future__ import annotations

import pytest

from ltr.cli import main

ROWS = [(2, 1, 0.9, 0.8), (1, 1, 0.5, 0.4), (0, 1, 0.1, 0.3), (0, 1, 0.2, 0.1),
        (1, 2, 0.6, 0.7), (0, 2, 0.3, 0.2), (2, 2, 0.8, 0.9), (0, 2, 0.1, 0.5),
        (0, 3, 0.2, 0.3), (2, 3, 0.7, 0.9), (1, 3, 0.4, 0.6), (0, 3, 0.3, 0.1),
        (1, 4, 0.5, 0.5), (0, 4, 0.2, 0.4), (2, 4, 0.9, 0.7), (0, 4, 0.1, 0.2)]


@pytest.fixture()
def data(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("".join(f"{y} qid:{q} 1:{a} 2:{b}\n" for y, q, a, b in ROWS))
    return path


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize(("text", "first", "second", "flag"), [
    ("rounds = 5\nn_estimators = 6\n", "rounds", "n_estimators", "--rounds"),
    ("learning-rate = 0.5\nlearning_rate = 0.05\nrounds = 3\n", "learning-rate", "learning_rate", "--learning-rate"),
    ("leaves = 7\nnum_leaves = 9\nrounds = 3\n", "leaves", "num_leaves", "--leaves"),
])
def test_two_keys_of_one_file_that_set_one_option_are_refused(tmp_path, capsys, data, text, first, second, flag):
    cfg, out = tmp_path / "c.toml", tmp_path / "m.txt"
    cfg.write_text(text)
    code, err = _run(capsys, "train", str(data), "--config", str(cfg), "--preset", "none", "--out", str(out))
    assert (code, err) == (2, f"ltr train: error: --config {cfg}: {first} and {second} both set {flag}; give it once\n")
    assert not out.exists()


def test_two_keys_for_one_option_are_refused_even_when_the_command_line_sets_it(tmp_path, capsys, data):
    """The file contradicts itself whatever the command line says, as TOML refuses a key given twice."""
    cfg, out = tmp_path / "c.toml", tmp_path / "m.txt"
    cfg.write_text("rounds = 5\nn_estimators = 6\n")
    code, err = _run(capsys, "train", str(data), "--config", str(cfg), "--rounds", "3", "--out", str(out))
    assert (code, err) == (2, f"ltr train: error: --config {cfg}: rounds and n_estimators both set --rounds; "
                              "give it once\n")
    assert not out.exists()


@pytest.mark.parametrize(("command", "extra"), [("train", ()), ("cv", ("--folds", "2")), ("tune", ("--trials", "2"))])
@pytest.mark.parametrize(("table", "key", "toml", "shown"), [
    ("params", "num_leaves", "1979-05-27", "datetime.date(1979, 5, 27)"),
    ("params", "num_leaves", "07:32:00", "datetime.time(7, 32)"),
    ("params", "label_gain", "[1979-05-27T07:32:00]", "[datetime.datetime(1979, 5, 27, 7, 32)]"),
    ("objective_params", "sigma", "1979-05-27", "datetime.date(1979, 5, 27)"),
])
def test_a_date_or_time_in_a_parameter_table_is_named_by_file_table_and_key(tmp_path, capsys, data, command, extra,
                                                                             table, key, toml, shown):
    cfg, out = tmp_path / "c.toml", tmp_path / "out.json"
    cfg.write_text(f"rounds = 3\n[{table}]\n{key} = {toml}\n")
    code, err = _run(capsys, command, str(data), *extra, "--config", str(cfg), "--out", str(out))
    assert (code, err) == (2, f"ltr {command}: error: --config {cfg}: [{table}] {key} = {shown}: a date or time, "
                              "which no parameter takes; give a number, true or false, or quote it as text\n")
    assert not out.exists()


def test_a_config_that_names_each_option_once_still_trains(tmp_path, capsys, data):
    cfg, out = tmp_path / "c.toml", tmp_path / "m.txt"
    cfg.write_text("learning_rate = 0.05\nrounds = 3\n[params]\nnum_leaves = 4\n")
    code, _ = _run(capsys, "train", str(data), "--config", str(cfg), "--preset", "none", "--out", str(out))
    assert code == 0
    model = out.read_text()
    assert "[learning_rate: 0.05]" in model and "[num_leaves: 4]" in model


def test_the_command_lines_param_wins_over_the_files_table_as_typed(tmp_path, capsys, data):
    """``--param`` items are kept as typed, not rewritten through JSON: a date there is the same error with or
    without a ``[params]`` table (it was "Object of type date is not JSON serializable" with one)."""
    cfg, out = tmp_path / "c.toml", tmp_path / "m.txt"
    cfg.write_text("rounds = 3\n[params]\nnum_leaves = 4\nmin_data_in_leaf = 1\n")
    code, _ = _run(capsys, "train", str(data), "--config", str(cfg), "--param", "num_leaves=5", "--out", str(out))
    assert code == 0 and "[num_leaves: 5]" in out.read_text() and "[min_data_in_leaf: 1]" in out.read_text()
    out.unlink()
    bare = tmp_path / "bare.toml"
    bare.write_text("rounds = 3\n")
    date = ("--param", "num_leaves=1979-05-27", "--out", str(out))
    without = _run(capsys, "train", str(data), "--config", str(bare), *date)
    assert _run(capsys, "train", str(data), "--config", str(cfg), *date) == without
    assert without[0] != 0 and not out.exists()
