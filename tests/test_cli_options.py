"""The command line's contract: every option has help, every user error is one line with an exit code, every
option is honoured or refused with a reason, results are keyed by canonical metric names, JSON is strict."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from ltr import Ranker, make_ranking
from ltr.cli import build_parser, main
from ltr.datasets import RankingDataset
from ltr.io import read_letor, write_letor
from ltr.metrics import evaluate


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_options")
    paths = {}
    for i, name in enumerate(("train", "valid", "test")):
        paths[name] = folder / f"{name}.txt"
        write_letor(paths[name], make_ranking(40 if name == "train" else 15, (4, 10), 5, random_state=i))
    return paths


FAST = ["--rounds", "5", "--leaves", "4", "--min-child-samples", "3", "--quiet"]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


# -- help -----------------------------------------------------------------------------------------------------------
def test_every_option_of_every_command_has_help_with_its_default_and_choices():
    commands = _subparsers(build_parser())
    assert {"demo", "info", "evaluate", "train", "predict", "cv", "compare", "report", "features"} <= set(commands)
    for name, p in commands.items():
        text = p.format_help()
        for action in p._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            where = f"ltr {name} {'/'.join(action.option_strings) or action.dest}"
            assert action.help and action.help.strip(), f"{where} has no help"
            if action.choices and action.help != argparse.SUPPRESS:  # (hidden: accepted, does nothing here)
                assert all(str(c) in text for c in action.choices), f"{where}: choices missing from --help"
            expanded = p._get_formatter()._expand_help(action)
            assert len(re.findall(r"\(default\b", expanded)) <= 1, f"{where} states its default twice: {expanded!r}"
    train_help = commands["train"].format_help()
    assert "(default: 300)" in train_help and "(default: 0.05)" in train_help  # Ranker's defaults


def test_model_defaults_are_the_same_in_train_cv_and_ranker():
    import inspect

    from ltr import Ranker

    d = {k: v.default for k, v in inspect.signature(Ranker.__init__).parameters.items()}
    commands = _subparsers(build_parser())
    for name in ("train", "cv"):
        defaults = {a.dest: a.default for a in commands[name]._actions}
        for param in ("n_estimators", "learning_rate", "num_leaves", "min_child_samples", "objective", "engine"):
            assert defaults[param] == d[param], (name, param)
    assert (d["n_estimators"], d["learning_rate"], d["early_stopping_rounds"]) == (300, 0.05, 50)


# -- metric names ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_every_documented_metric_spelling_works_in_evaluate(files, tmp_path, capsys, fmt):
    d = read_letor(files["test"])
    scores = tmp_path / "s.txt"
    scores.write_text("".join(f"{v!r}\n" for v in d.X[:, 0].tolist()))
    names = "P@5,NDCG@10,recip_rank,ndcg_cut_10,rr"
    for per_query in ([], ["--per-query"]):
        code = main(["evaluate", str(files["test"]), "--scores", str(scores), "--metrics", names, "--format", fmt,
                     *per_query])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        assert "Traceback" not in captured.err
    expected = evaluate(d.y, d.X[:, 0].astype(float), group_ptr=d.group_ptr, metrics=["p@5", "ndcg@10", "mrr"])
    main(["evaluate", str(files["test"]), "--scores", str(scores), "--metrics", names, "--format", "json"])
    got = json.loads(capsys.readouterr().out)
    assert set(got["mean"]) == {"p@5", "ndcg@10", "mrr"}  # canonical keys, duplicates once
    assert got["mean"] == pytest.approx(expected, abs=1e-12)
    assert got["metrics"]["p@5"] == "P@5"  # the user's spelling beside the canonical name
    main(["evaluate", str(files["test"]), "--scores", str(scores), "--metrics", "P@5"])
    assert "p@5 (P@5)" in capsys.readouterr().out


def test_train_with_an_alias_metric_trains_saves_and_reports(files, tmp_path, capsys):
    model = tmp_path / "m.txt"
    assert main(["train", str(files["train"]), "--valid", str(files["valid"]), *FAST, "--metrics", "P@5,recip_rank",
                 "--out", str(model), "--format", "json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert set(res["valid"]) == {"p@5", "mrr"} and model.is_file()


# -- strict JSON, pure CSV ---------------------------------------------------------------------------------------------
def test_json_output_never_holds_nan(tmp_path, capsys):
    (tmp_path / "q").write_text("1 0 a 0\n2 0 b 1\n")  # query 1 has no relevant document
    (tmp_path / "r").write_text("1 Q0 a 1 1 t\n2 Q0 b 1 1 t\n")
    assert main(["evaluate", "--qrels", str(tmp_path / "q"), "--run", str(tmp_path / "r"), "--metrics", "map",
                 "--no-relevant", "nan", "--per-query", "--format", "json"]) == 0
    text = capsys.readouterr().out
    assert "NaN" not in text
    obj = json.loads(text)
    assert obj["per_query"]["1"]["map"] is None and obj["mean"]["map"] == 1.0


def test_train_csv_is_pure_csv_on_stdout(files, capsys):
    assert main(["train", str(files["train"]), "--valid", str(files["valid"]), *FAST[:-1], "--format", "csv"]) == 0
    out = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(out.out)))
    assert rows[0] == ["metric", "valid"] and len({len(r) for r in rows}) == 1
    assert "trained" in out.err  # the summary line goes to standard error


# -- options honoured or refused ----------------------------------------------------------------------------------
def test_early_stopping_without_a_validation_set_is_refused(files, capsys):
    assert main(["train", str(files["train"]), *FAST, "--early-stopping", "10"]) == 2
    assert "--early-stopping needs a validation set" in capsys.readouterr().err
    assert main(["train", str(files["train"]), *FAST, "--early-stopping-metric", "map"]) == 2


def test_early_stopping_metric_drives_stopping(files, capsys):
    assert main(["train", str(files["train"]), "--valid", str(files["valid"]), "--rounds", "60", "--leaves", "4",
                 "--min-child-samples", "3", "--quiet", "--early-stopping", "5", "--early-stopping-metric", "err@3",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rounds"] < 60
    from ltr import Ranker

    train, valid = read_letor(files["train"]), read_letor(files["valid"])
    m = Ranker(n_estimators=60, num_leaves=4, min_child_samples=3, early_stopping_rounds=5,
               early_stopping_metric="err@3").fit(train, eval_set=[valid])
    curve = m.evals_result_["valid_0"]["err@3"]
    assert list(m.evals_result_["valid_0"])[0] == "err@3"
    assert curve[m.best_iteration_ - 1] == max(curve[: m.best_iteration_ + 5])


def test_engine_parameters_by_name_and_from_a_config_file(files, tmp_path, capsys):
    out = tmp_path / "m.txt"
    assert main(["train", str(files["train"]), *FAST, "--param", "lambda_l1=0.5", "--param",
                 "lambdarank_truncation_level=5", "--out", str(out)]) == 0
    meta = json.loads((tmp_path / "m.txt.meta.json").read_text())
    assert meta["params"]["engine_params"] == {"lambda_l1": 0.5, "lambdarank_truncation_level": 5}
    capsys.readouterr()
    assert main(["train", str(files["train"]), *FAST, "--param", "min_data_in_lef=2"]) == 2  # a usage error
    assert "did you mean 'min_data_in_leaf'" in capsys.readouterr().err
    config = tmp_path / "c.toml"
    config.write_text('rounds = 7\nlearning-rate = 0.2\n[params]\nlambdarank_truncation_level = 4\n')
    assert main(["train", str(files["train"]), "--quiet", "--config", str(config), "--rounds", "6", "--out",
                 str(out)]) == 0
    meta = json.loads((tmp_path / "m.txt.meta.json").read_text())
    assert meta["params"]["n_estimators"] == 6  # the command line wins
    assert meta["params"]["learning_rate"] == 0.2 and meta["params"]["engine_params"] == {
        "lambdarank_truncation_level": 4}
    capsys.readouterr()
    config.write_text("roundz = 7\n")
    assert main(["train", str(files["train"]), "--config", str(config)]) == 2
    assert "unknown key 'roundz'" in capsys.readouterr().err


@pytest.mark.parametrize("engine, flags, param, message", [
    ("lightgbm", ["--min-child-samples", "10"], "min_data_in_leaf=5",
     "--param min_data_in_leaf=5 sets what --min-child-samples 10 sets in lightgbm: give one of the two"),
    ("lightgbm", ["--leaves", "8"], "max_leaves=16",  # an alias of num_leaves
     "--param max_leaves=16 sets what --leaves 8 sets in lightgbm: give one of the two"),
    ("lightgbm", ["--leaves", "31"], "num_leaves=4",  # typed at its default value: given all the same
     "--param num_leaves=4 sets what --leaves 31 sets in lightgbm: give one of the two"),
    ("xgboost", ["--learning-rate", "0.1"], "eta=0.3",
     "--param eta=0.3 sets what --learning-rate 0.1 sets in xgboost: give one of the two"),
    ("lightgbm", [], "objective=rank_xendcg",
     "--param objective=rank_xendcg: the objective is the ranker's own: give --objective xendcg"),
    ("xgboost", [], "objective=rank:pairwise",
     "--param objective=rank:pairwise: the objective is the ranker's own: give --objective ranknet"),
    ("lightgbm", ["--n-jobs", "2"], "num_threads=1",  # not a model option, but the same rule
     "--param num_threads=1 sets what --n-jobs 2 sets in lightgbm: give one of the two"),
    ("lightgbm", [], "metric=map",
     "--param metric=map: lightgbm's own metrics: the ranker records and stops on ltr.metrics', and the engine's "
     "(other conventions under the same names) would be mixed in; give --metrics for what is reported and "
     "--early-stopping-metric for what stops training, and --convention lightgbm for LightGBM's conventions"),
    ("lightgbm", [], "ndcg_eval_at=5",
     "--param ndcg_eval_at=5: lightgbm's own metrics: the ranker records and stops on ltr.metrics', and the "
     "engine's (other conventions under the same names) would be mixed in; give --metrics ndcg@K,... for what is "
     "reported, and --convention lightgbm for LightGBM's conventions"),
    ("xgboost", [], "eval_metric=ndcg@10",
     "--param eval_metric=ndcg@10: xgboost's own metrics: the ranker records and stops on ltr.metrics', and the "
     "engine's (other conventions under the same names) would be mixed in; give --metrics for what is reported "
     "and --early-stopping-metric for what stops training"),
])
def test_an_engine_parameter_that_duplicates_a_model_option_is_refused(files, tmp_path, capsys, engine, flags,
                                                                        param, message):
    out = tmp_path / "m.txt"
    assert main(["train", str(files["train"]), "--engine", engine, "--rounds", "3", *flags, "--param", param,
                 "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"ltr train: error: {message}\n" and not out.exists()


def test_an_engine_parameter_alone_sets_what_the_model_option_at_its_default_would(files, tmp_path):
    out = tmp_path / "m.txt"
    assert main(["train", str(files["train"]), "--rounds", "3", "--preset", "none", "--param", "min_data_in_leaf=2",
                 "--quiet", "--out", str(out)]) == 0
    assert "[min_data_in_leaf: 2]" in out.read_text()  # what LightGBM trained with, as the sidecar records it
    assert json.loads((tmp_path / "m.txt.meta.json").read_text())["params"]["engine_params"] == {
        "min_data_in_leaf": 2}


@pytest.mark.parametrize("command", ["train", "cv", "tune"])
@pytest.mark.parametrize("value, message", [
    ('"abc"', 'min_data_in_leaf: lightgbm refused it: Parameter min_data_in_leaf should be of type int, got "abc"'),
    (None, "min_data_in_lef: lightgbm has no parameter 'min_data_in_lef' (did you mean 'min_data_in_leaf'?)"),
    # a key a model option also sets is named as the file spells it, not as its flag (--leaves: t49's left alone)
    ('"x"', 'num_leaves: lightgbm refused it: Parameter num_leaves should be of type int, got "x"'),
    ("0", "num_leaves: lightgbm refused it: num_leaves must be > 1 (config_auto.cpp)"),
])
def test_an_engine_parameter_from_a_config_file_is_refused_naming_the_file(files, tmp_path, capsys, command,
                                                                             value, message):
    config = tmp_path / "c.toml"
    key = message.split(":")[0] if value else "min_data_in_lef"
    config.write_text("[params]\n" + f"{key} = {value or 5}\n")
    assert main([command, str(files["train"]), "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == f"ltr {command}: error: --config {config}: [params] {message}\n"
    assert not list(tmp_path.glob("o*"))  # refused before any work
    if value is None:
        return
    # the same parameter on the command line wins over the file's and is named as the command line's
    assert main([command, str(files["train"]), "--config", str(config), "--param", f"{key}=x"]) == 2
    assert f"error: --param {key}=x: lightgbm refused it" in capsys.readouterr().err


@pytest.mark.parametrize("command, line, message", [
    ("cv", "folds = 1", "folds = 1: must be at least 2, got 1"),
    ("cv", "split-seed = -1", "split-seed = -1: '-1': a seed, an integer from 0 to 2**32 - 1"),  # --seed's words
    ("tune", "inner_folds = 1", "inner_folds = 1: must be at least 2, got 1"),
    ("cv", 'metrics = "ndcg@x"', "metrics = 'ndcg@x': unknown metric 'ndcg@x'; known metrics: "),
    ("tune", "inner-repeats = 0", "inner-repeats = 0: must be at least 1, got 0"),
    ("tune", "timeout = -3.0", "timeout = -3.0: '-3.0': must be a positive, finite number of seconds"),  # doctor's
])
def test_a_commands_own_option_set_by_a_config_file_is_refused_naming_the_file_and_key(files, tmp_path, capsys,
                                                                                      command, line, message):
    """Not only the model options: a command's own checks (--folds, --inner-repeats, ...) of a value the file set
    name the file and its key, not a flag the user never typed."""
    config = tmp_path / "c.toml"
    config.write_text(line + "\n")
    assert main([command, str(files["train"]), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    if message.endswith(" "):  # the start of a long line (a list of the known metrics follows)
        assert err.startswith(f"ltr {command}: error: --config {config}: {message}") and err.count("\n") == 1
    else:
        assert err == f"ltr {command}: error: --config {config}: {message}\n"
    flag = "--" + line.split(" =")[0].replace("_", "-")
    value = line.split("= ")[1].strip('"')
    assert main([command, str(files["train"]), f"{flag}={value}"]) == 2  # typed: the flag, as before
    assert capsys.readouterr().err.startswith((f"ltr {command}: error: {flag} ", f"ltr {command}: error: {flag}: ",
                                               f"ltr {command}: error: argument {flag}: "))  # (argparse's, by type)


@pytest.mark.parametrize("line, message", [
    ('quiet = "false"', "quiet is a switch: give true or false, got 'false'"),
    ("sort = 1", "sort is a switch: give true or false, got 1"),
    ('rounds = "ten"', "rounds = 'ten': invalid int value"),
    ("rounds = 3.5", "rounds = 3.5: invalid int value"),
    ("n-jobs = 0", "n-jobs = 0: '0': a positive count of threads"),
    ('engine = "xgb"', "engine = 'xgb' is not one of ['lightgbm', 'xgboost', 'linear']"),
    ("metrics = [true]", "metrics must list strings or numbers, got [True]"),
    ("learning-rate = true", "learning-rate takes a value (as --learning-rate does), got True"),
    ("rounds = 0", "rounds = 0: must be an integer > 0, got 0"),  # the model's own check, named by the file
    ("learning-rate = -5", "learning-rate = -5: must be a finite number > 0, got -5.0"),
])
def test_a_config_value_goes_through_its_flags_type_and_an_error_names_the_file_and_key(files, tmp_path, capsys,
                                                                                         line, message):
    config = tmp_path / "c.toml"
    config.write_text(f"rounds = 5\n{line}\n" if not line.startswith("rounds") else line + "\n")
    assert main(["train", str(files["train"]), "--config", str(config)]) == 2  # a usage error, as the flag's
    err = capsys.readouterr().err
    assert f"--config {config}: {message}" in err and err.count("\n") == 1


def test_a_config_array_is_a_comma_separated_option_and_a_true_switch_is_set(files, tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('metrics = ["map", "ndcg@10"]\nquiet = true\n')
    assert main(["train", str(files["train"]), *FAST[:6], "--config", str(config), "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert [line.split(",")[0] for line in captured.out.splitlines()] == ["metric", "map", "ndcg@10"]
    assert captured.err == ""  # quiet: no notes


def test_standard_output_given_for_two_outputs_is_refused_before_any_work(files, tmp_path, capsys):
    from ltr.cli._files import check_outputs
    from ltr.cli._guard import UsageError

    with pytest.raises(UsageError, match=r"standard output given twice \(- and -\)"):
        check_outputs("-", str(tmp_path / "a"), "-")
    assert check_outputs("-", str(tmp_path / "a")) is True and check_outputs(str(tmp_path / "b")) is False
    model = tmp_path / "m.txt"
    assert main(["train", str(files["train"]), *FAST, "--out", str(model)]) == 0
    capsys.readouterr()
    names = tmp_path / "names.txt"
    names.write_text("".join(f"f{i}\n" for i in range(1, 6)))
    assert main(["export", str(model), "--to", "es-xgboost", "--feature-names", f"@{names}", "--out", "-",
                 "--feature-set-out", "-"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "standard output given twice (--out - and --feature-set-out -)" in captured.err
    assert main(["export", str(model), "--to", "es-xgboost", "--feature-names", f"@{names}", "--out", "-",
                 "--feature-set-out", "/dev/stdout"]) == 2  # the same stream by another name (trial t45)
    captured = capsys.readouterr()
    assert captured.out == "" and "(--out - and --feature-set-out /dev/stdout)" in captured.err


def test_n_jobs_minus_one_means_every_core_everywhere():
    from ltr import Ranker
    from ltr.threads import cpu_count, resolve_n_jobs

    assert resolve_n_jobs(-1) == cpu_count()
    d = make_ranking(20, 5, 3, random_state=0)
    assert Ranker(n_estimators=2, n_jobs=-1).fit(d).n_threads_ == cpu_count()
    assert Ranker(n_estimators=2).fit(d).n_threads_ == 1  # small data: one thread (ltr.threads)
    with pytest.raises(ValueError, match="must not be 0"):
        resolve_n_jobs(0)


# -- outputs checked before the work --------------------------------------------------------------------------------
def test_train_creates_a_missing_output_folder_and_refuses_a_folder_before_training(files, tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "m.txt"
    assert main(["train", str(files["train"]), *FAST, "--out", str(out)]) == 0
    assert out.is_file()
    capsys.readouterr()
    (tmp_path / "adir").mkdir()
    assert main(["train", str(files["train"]), *FAST, "--out", str(tmp_path / "adir")]) == 1
    err = capsys.readouterr()
    assert "folder" in err.err and "trained" not in err.out  # refused before any training


def test_cv_refuses_an_output_folder_before_training(files, tmp_path, capsys):
    (tmp_path / "adir").mkdir()
    assert main(["cv", str(files["train"]), "--folds", "3", *FAST, "--out", str(tmp_path / "adir")]) == 1
    captured = capsys.readouterr()
    assert "folder" in captured.err and "Fold1" not in captured.out


# -- one line for every user error ------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, fragment", [
    (["--learning-rate", "0"], "--learning-rate must be a finite number > 0, got 0.0"),
    (["--learning-rate", "inf"], "--learning-rate must be a finite number > 0, got inf"),  # no sidecar could record it
    (["--reg-lambda", "inf"], "--reg-lambda must be a finite number >= 0, got inf"),
    (["--leaves", "1"], "--leaves must be an integer >= 2"),
    (["--subsample", "1.5"], "--subsample must lie in (0, 1], got 1.5"),
    (["--rounds", "-5"], "--rounds must be an integer > 0, got -5"),
    (["--engine", "linear", "--rounds", "5"], "--rounds 5 is a tree parameter: --engine linear does not use it "
                                              "(its settings go in --param: gain,"),
    (["--param", "min_data_in_leaf=abc"], "--param min_data_in_leaf=abc: lightgbm refused it: Parameter "
                                          "min_data_in_leaf should be of type int"),
    (["--param", "bagging_fraction=2.0"], "--param bagging_fraction=2.0: lightgbm refused it: bagging_fraction "
                                          "must be <= 1.0"),
    (["--engine", "xgboost", "--param", "max_depth=abc"], "--param max_depth=abc: xgboost refused it: Invalid "
                                                          "Parameter format for max_depth expect int"),
    (["--engine", "xgboost", "--param", "eta=-1"], "--param eta=-1: xgboost refused it: value -1 for Parameter "
                                                   "learning_rate should be greater equal to 0"),
    (["--engine", "xgboost", "--param", "max_bin=1"], "--param max_bin=1: xgboost refused it: value 1 for "
                                                      "Parameter max_bin should be greater equal to 2"),
])
def test_bad_engine_parameters_are_one_line_before_training_naming_the_flag(files, capsys, argv, fragment):
    """Usage errors (exit 2) in the command line's words, as --rounds abc is (it exited 1 with n_estimators)."""
    assert main(["train", str(files["train"]), "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err and "[LightGBM]" not in err and err.count("\n") == 1
    assert "n_estimators" not in err and "engine_params" not in err


def test_an_engine_parameter_value_is_refused_in_one_line_without_the_engines_fatal_line(files, capfd):
    from ltr import Ranker
    from ltr.exceptions import ParameterValueError
    from ltr.rankers.params import _stderr_without, check_engine_values

    assert main(["cv", str(files["train"]), "--param", "learning_rate=fast", "--quiet"]) == 2
    err = capfd.readouterr().err  # the file descriptor's, where LightGBM's C++ writes its [Fatal] line
    assert err == "ltr cv: error: --param learning_rate=fast: lightgbm refused it: 'fast' is not a number\n"
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ParameterValueError, match=r"^engine_params: lightgbm refused max_bin='x': Parameter max_bin "
                                                  r"should be of type int"):
        Ranker(engine_params={"max_bin": "x"}).fit(X, y, group=[2, 2])
    assert "[LightGBM]" not in capfd.readouterr().err
    # values that only the real data can judge (constraints naming its features) are left to training
    check_engine_values("lightgbm", {"monotone_constraints": [1, -1, 0]})
    check_engine_values("xgboost", {"interaction_constraints": [[0, 5]]})
    with _stderr_without("[X]"):  # the holding back drops the engine's line and the blank one after it only
        os.write(2, b"[X] gone\n\nkept\n")
    assert capfd.readouterr().err == "kept\n"


def test_gpu_without_a_working_gpu_is_one_line(files, capsys, lightgbm_trains_on_a_gpu):
    if lightgbm_trains_on_a_gpu:  # pragma: no cover - a machine with a working OpenCL GPU
        pytest.skip("LightGBM's GPU learner works on this machine")
    code = main(["train", str(files["train"]), *FAST, "--device", "gpu"])
    err = capsys.readouterr().err
    assert code == 1 and "GPU" in err and "Traceback" not in err and err.count("\n") == 1


def test_train_json_says_which_device_trained(files, capsys):
    assert main(["train", str(files["train"]), *FAST, "--device", "gpu-or-cpu", "--format", "json"]) == 0
    device = json.loads(capsys.readouterr().out)["device"]
    from ltr.gpu import opencl_gpu

    assert device in ("cpu", "gpu")
    if opencl_gpu() is None:  # no OpenCL GPU for LightGBM: the fallback, said in the result
        assert device == "cpu"


@pytest.mark.parametrize("argv", [
    ["evaluate", "--qrels", "{d}", "--run", "{f}"],
    ["evaluate", "--qrels", "{f}", "--run", "{d}"],
    ["predict", "{d}", "{f}", "--out", "{o}"],
    ["report", "{d}", "--out", "{o}"],
    ["info", "{d}"],
])
def test_a_folder_where_a_file_is_needed_says_so(tmp_path, capsys, argv):
    (tmp_path / "adir").mkdir()
    (tmp_path / "f").write_text("1 0 a 1\n")
    argv = [a.format(d=tmp_path / "adir", f=tmp_path / "f", o=tmp_path / "o") for a in argv]
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (1, 2) and "folder" in err and "not found" not in err and "Traceback" not in err


def test_missing_collection_is_named_as_such(tmp_path, capsys):
    assert main(["features", "--collection", "/nope/nowhere", "--out", str(tmp_path / "o.letor")]) == 1
    err = capsys.readouterr().err
    assert "collection not found: /nope/nowhere" in err and "--queries" not in err


@pytest.mark.parametrize("name, registered", [("cranfield", "cranfield"), ("Cran", "cranfield"), ("mq2008", None),
                                              ("nosuch", None)])
def test_a_registered_text_sets_name_as_the_collection_says_how_to_get_a_copy(tmp_path, capsys, monkeypatch, name,
                                                                             registered):
    """A trial (t45): `--collection cranfield` said only 'collection not found'; only text sets are collections."""
    monkeypatch.chdir(tmp_path)
    assert main(["features", "--collection", name, "--out", str(tmp_path / "o.letor")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"collection not found: {name}" in err
    if registered:
        assert f"`ltr data fetch {registered} --to DIR`" in err and f"DIR/{registered}" in err
    else:
        assert "ltr data fetch" not in err
    if registered:
        from features.serve import Reranker

        with pytest.raises(FileNotFoundError, match=f"ltr data fetch {registered} --to DIR"):
            Reranker.load(Ranker(n_estimators=2, preset=None, min_child_samples=1).fit(make_ranking(4, 5, 3)),
                          collection=name, features="default")


@pytest.mark.parametrize("how, code, said", [("ctrl-c", 130, "interrupted"), ("sigterm", 143, "terminated")])
def test_an_interrupt_exits_with_one_line_and_leaves_the_previous_output(files, tmp_path, capsys, monkeypatch, how,
                                                                        code, said):
    """Ctrl-C, or SIGTERM (kill, timeout, a batch scheduler's time limit) through the console script's handlers:
    the command stops where it is, cleans up, and keeps the previous outputs."""
    import os
    import signal

    from ltr import Ranker
    from ltr.cli._guard import terminate_on_sigterm

    out = tmp_path / "m.txt"
    assert main(["train", str(files["train"]), *FAST, "--out", str(out)]) == 0
    before = out.read_text()
    capsys.readouterr()

    def stopped(self, *a, **k):
        if how == "ctrl-c":
            raise KeyboardInterrupt
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not stop the command")

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        terminate_on_sigterm()
        monkeypatch.setattr(Ranker, "fit", stopped)
        assert main(["train", str(files["train"]), *FAST, "--out", str(out)]) == code
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    err = capsys.readouterr().err
    assert err.strip().endswith(f"{said}; no output file was left half-written") and err.count("\n") == 1
    assert out.read_text() == before and not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_predict_writes_scores_to_standard_output(files, tmp_path, capsys):
    model = tmp_path / "m.txt"
    assert main(["train", str(files["train"]), *FAST, "--out", str(model)]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(files["test"]), "--out", "-"]) == 0
    lines = capsys.readouterr().out.split()
    assert len(lines) == read_letor(files["test"]).n_rows and all(np.isfinite([float(v) for v in lines]))


def test_lightgbm_style_data_with_a_query_sidecar_works_in_every_command(tmp_path, capsys):
    d = make_ranking(30, (3, 8), 4, random_state=0)
    for name, data in (("rank.train", d.subset(np.arange(20))), ("rank.test", d.subset(np.arange(20, 30)))):
        # svmlight lines without qid plus a .query file of group sizes, as LightGBM's examples ship them
        plain = RankingDataset(X=data.X, y=data.y, qid=data.qid, group_ptr=data.group_ptr)
        write_letor(tmp_path / name, plain, qid=False, header=False)
        (tmp_path / f"{name}.query").write_text("".join(f"{s}\n" for s in data.group_sizes))
    assert main(["info", str(tmp_path / "rank.train"), "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_queries"] == 20 and info["sidecars"]["query"].endswith("rank.train.query")
    assert main(["train", str(tmp_path / "rank.train"), "--valid", str(tmp_path / "rank.test"), *FAST]) == 0
    assert main(["cv", str(tmp_path / "rank.train"), "--folds", "4", *FAST]) == 0


def test_compare_of_cv_results_refuses_conventions_it_cannot_honour(files, tmp_path, capsys):
    for name in ("a", "b"):
        assert main(["cv", str(files["train"]), "--folds", "3", *FAST, "--name", name, "--seed", str(ord(name)),
                     "--out", str(tmp_path / f"{name}.json")]) == 0
    capsys.readouterr()
    systems = [str(tmp_path / "a.json"), str(tmp_path / "b.json")]
    assert main(["compare", *systems, "--tests", "t"]) == 0
    capsys.readouterr()
    for extra, fragment in ((["--gain", "linear"], "was evaluated with gain='exp2'"),
                            (["--no-relevant", "1"], "was evaluated with no_relevant=0.0"),
                            (["--labels", "0,1,2"], "--labels checks the labels of --qrels")):
        assert main(["compare", *systems, "--tests", "t", *extra]) == 2
        assert fragment in capsys.readouterr().err
    assert main(["compare", *systems, "--tests", "t", "--gain", "exp2"]) == 0  # the stored one: honoured


def test_make_ranking_label_shares_are_the_documented_ones():
    d = make_ranking(4000, 25, 5, random_state=0)
    shares = np.bincount(d.y.astype(int), minlength=5) / d.n_rows
    np.testing.assert_allclose(shares, [0.5, 0.25, 0.125, 0.0625, 0.0625], atol=0.002)


def test_the_first_run_says_it_is_compiling(files, capsys, monkeypatch):
    import ltr._numba_cache as cache

    monkeypatch.setattr(cache, "_cached", lambda source: False)  # as on a fresh machine: no cache files yet
    assert main(["train", str(files["train"]), *FAST[:-1]]) == 0
    assert "compiling Numba kernels (first run only" in capsys.readouterr().err
    monkeypatch.setattr(cache, "_cached", lambda source: True)
    assert main(["train", str(files["train"]), *FAST[:-1]]) == 0
    assert "compiling" not in capsys.readouterr().err


def test_large_work_takes_the_idle_cores_one_on_a_busy_machine(monkeypatch):
    import ltr.threads as T

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(T, "cpu_count", lambda: 16)
    monkeypatch.setattr(T.os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert T.auto_threads(1_000_000, 136) == 16  # quiet machine: every core
    monkeypatch.setattr(T.os, "getloadavg", lambda: (10.4, 0.0, 0.0))
    assert T.auto_threads(1_000_000, 136) == 6  # 16 cores, about 10 busy
    monkeypatch.setattr(T.os, "getloadavg", lambda: (40.0, 0.0, 0.0))
    assert T.auto_threads(1_000_000, 136) == 1
    assert T.auto_threads(300, 46) == 1  # small work: one thread whatever the load


def test_omp_num_threads_caps_the_default_as_it_caps_the_engines_own(monkeypatch):
    # Slurm, PBS and containers set OMP_NUM_THREADS; LightGBM's num_threads=0 and XGBoost's nthread obey it, and the
    # toolkit's default (n_jobs=None) passed every idle core explicitly over it
    import ltr.threads as T

    monkeypatch.setattr(T, "cpu_count", lambda: 16)
    monkeypatch.setattr(T.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert T.auto_threads(1_000_000, 136) == 4 and T.resolve_n_jobs(None, n_rows=10**6, n_features=136) == 4
    assert T.resolve_n_jobs(8) == 8 and T.resolve_n_jobs(-1) == 16  # an explicit count is taken as given
    monkeypatch.setattr(T.os, "getloadavg", lambda: (14.0, 0.0, 0.0))
    assert T.auto_threads(1_000_000, 136) == 2  # fewer idle cores than the cap
    monkeypatch.setenv("OMP_NUM_THREADS", "abc")
    monkeypatch.setattr(T.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert T.auto_threads(1_000_000, 136) == 16  # not a count: no cap
    monkeypatch.setenv("OMP_NUM_THREADS", "²")  # a digit to str.isdigit, not to int(): no cap, no traceback
    assert T.auto_threads(1_000_000, 136) == 16


@pytest.mark.parametrize("argv", [["train"], ["train", "x", "--rounds", "abc"], ["export", "m", "--to", "nothing"],
                                  ["data", "list", "--format", "yaml"], ["nosuchcommand"]])
def test_a_usage_error_is_one_line_naming_the_cause_and_where_the_usage_is(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error: " in err and err.rstrip().endswith("--help)"), err


def test_an_unknown_option_is_named_by_its_sub_command(capsys):
    assert main(["cv", "x.letor", "-q"]) == 2
    assert capsys.readouterr().err == "ltr cv: error: unrecognized arguments: -q (see ltr cv --help)\n"


def test_an_engine_message_over_two_lines_is_given_whole_on_one(tmp_path, capsys):
    """LightGBM's 'label should be int type (met 1.500000) for ranking task,' continues on a second line: the
    message was cut after 'task,'."""
    (tmp_path / "fl.txt").write_text("1.5 qid:1 1:0.2\n0 qid:1 1:0.5\n1 qid:2 1:0.1\n0 qid:2 1:0.3\n")
    assert main(["train", str(tmp_path / "fl.txt"), "--rounds", "2", "--preset", "none", "--min-child-samples",
                 "1", "--metrics", "map"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "[LightGBM]" not in err  # the toolkit's message, naming the label and the fix
    assert (f"{tmp_path / 'fl.txt'}:1: lightgbm's lambdarank needs whole-number labels (its gains are indexed by "
            "the label), got label '1.5'") in err
    assert err.rstrip().endswith("--objective pointwise (squared error on the label) or --objective listnet --kernel "
                                 "numba (top-one cross-entropy)")
    from ltr.rankers._backends import engine_words  # an engine's message over two lines, whole on one

    assert engine_words("label should be int type (met 1.500000) for ranking task,\nfor the gain of label, please "
                        "set the label_gain parameter") == ("label should be int type (met 1.500000) for ranking "
                                                            "task, for the gain of label, please set the label_gain "
                                                            "parameter")


def test_a_sidecar_flag_and_its_negation_together_are_refused(tmp_path, capsys):
    (tmp_path / "d.txt").write_text("1 1:0.2\n0 1:0.5\n")
    assert main(["info", str(tmp_path / "d.txt"), "--query-file", "x", "--no-query-file"]) == 2
    assert "argument --no-query-file: not allowed with argument --query-file" in capsys.readouterr().err


_WARNS = """
import logging, sys, warnings
from ltr.cli._guard import guard

def command(args):
    logging.getLogger("ltr.gpu").warning("device='gpu-or-cpu': no GPU here\\n(found: none); training on the CPU")
    logging.getLogger("ltr.gpu").info("not shown: below WARNING")
    warnings.warn("a library's own warning", UserWarning)
    warnings.warn_explicit("X is deprecated", FutureWarning, "/somewhere/ltr/site-packages/sklearn/base.py", 10)
    try:
        1 / 0
    except ZeroDivisionError:
        logging.getLogger("ltr.io").error("could not write the cache", exc_info=True)
    logging.getLogger("somebody.else").warning("another package's log line")
    return 0

sys.exit(guard("train", command, None))
"""


def test_log_and_python_warnings_are_the_commands_own_lines():
    # in a child process: pytest puts its own handlers on the root logger, where the command line would find none
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _WARNS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "ltr train: warning: device='gpu-or-cpu': no GPU here; (found: none); training on the CPU",
        "ltr train: warning: UserWarning: a library's own warning",  # not Python's file:line and source line
        # another package's category is kept, even from a path with a folder named ltr in it
        "ltr train: warning: FutureWarning: X is deprecated",
        "ltr train: error: could not write the cache (ZeroDivisionError: division by zero)",
        "another package's log line",  # another package's logger is left as logging prints it
    ]


_OVERLAP = """
import logging, threading, warnings
from ltr.cli._guard import guard

first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

def first(args):
    first_in.set()
    second_in.wait(30)
    return 0

def second(args):
    second_in.set()
    first_out.wait(30)  # the first command ends while this one runs
    logging.getLogger("ltr.gpu").warning("still the command's line")
    return 0

shown = warnings.showwarning
a = threading.Thread(target=guard, args=("train", first, None))
b = threading.Thread(target=lambda: guard("cv", second, None))
a.start(); first_in.wait(30); b.start(); a.join(30); first_out.set(); b.join(30)
ltr = logging.getLogger("ltr")
print(ltr.propagate, ltr.handlers, warnings.showwarning is shown)
"""


def test_commands_run_at_once_in_threads_leave_the_loggers_as_they_found_them():
    # two overlapping commands (threads calling ltr.cli.main) left the ltr logger with propagate=False for good
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _OVERLAP], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True [] True"
    assert done.stderr.splitlines() == ["ltr train: warning: still the command's line"]  # the first's installation


def test_an_applications_logging_configuration_is_left_to_print_the_toolkits_warnings(caplog):
    import logging

    from ltr.cli._guard import guard

    def command(args):
        logging.getLogger("ltr.gpu").warning("the fallback")
        return 0

    with caplog.at_level(logging.WARNING):
        assert guard("train", command, None) == 0
    assert [r.getMessage() for r in caplog.records if r.name == "ltr.gpu"] == ["the fallback"]


def test_no_help_line_states_a_default_and_then_contradicts_it():
    # `--gain ... default exp2 for LETOR scores, linear for TREC runs (default: none)` said two things
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    bad = []
    for name, p in sub.choices.items():
        formatter = p._get_formatter()
        for action in p._actions:
            if not action.help or action.help is argparse.SUPPRESS:
                continue
            text = formatter._expand_help(action)
            if re.search(r"(^|[;,]\s*)default\b.*\(default: none\)", text):
                bad.append(f"ltr {name} {'/'.join(action.option_strings)}: {text}")
    assert bad == []


def test_an_abbreviated_option_is_refused_and_a_near_miss_named(files, capsys):
    # argparse took `--k 2` for `--kernel 2` (a prefix); an option is spelled out or refused
    capsys.readouterr()
    assert main(["cv", str(files["train"]), "--k", "2"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --k 2" in err and "--kernel" not in err
    assert main(["train", str(files["train"]), "--round", "2"]) == 2
    assert "unrecognized arguments: --round 2 (--round: did you mean --rounds?)" in capsys.readouterr().err
    assert main(["evaluate", str(files["test"]), "--metric=ndcg@10"]) == 2
    assert "(--metric: did you mean --metrics?)" in capsys.readouterr().err


def test_the_signal_handlers_are_installed_before_anything_heavy_is_imported():
    # the console script installed them after importing ltr.io.outputs (pandas, numba: about 3 s), and a Ctrl-C in
    # that time printed a 30-line traceback
    import subprocess
    import sys

    code = """
import os, signal, sys
import ltr.cli
from ltr.cli._guard import terminate_on_sigterm
terminate_on_sigterm()
print(sorted(m for m in ("numpy", "pandas", "numba", "ltr.io.outputs") if m in sys.modules))
try:
    os.kill(os.getpid(), signal.SIGINT)
except KeyboardInterrupt:
    print("one KeyboardInterrupt")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "one KeyboardInterrupt"]


def test_an_interrupt_while_the_command_line_is_imported_is_one_line_and_exit_130():
    # the console script imported ltr.cli (argparse, the options' modules: 0.1-0.3 s on a busy machine) before any
    # handler, and a Ctrl-C then printed the traceback of the module being imported; here the interrupt is raised
    # by an import hook at the import of ltr.cli._guard, as a Ctrl-C in that import would raise it
    import configparser
    import subprocess
    import sys

    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    assert cfg["options.entry_points"]["console_scripts"].split() == ["ltr", "=", "ltr._console:main"]
    code = """
import sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "ltr.cli._guard":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupt())
sys.argv = ["ltr", "info", "x.txt"]
from ltr._console import main
main()
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (130, "")
    assert done.stderr == "ltr: interrupted while starting; nothing was read or written\n"


def test_an_interrupt_while_the_command_loads_is_said_as_the_command_says_it(monkeypatch, capsys):
    import ltr.cli as cli

    def interrupted(commands=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["train", "x.txt"]) == 130
    assert capsys.readouterr().err == "ltr train: interrupted; no output file was left half-written\n"
    assert cli.main(["data", "info", "mq2008"]) == 130
    assert capsys.readouterr().err.startswith("ltr data info: interrupted;")


@pytest.mark.parametrize("value", ["0", "abc", "-2"])
def test_a_numba_thread_count_numba_cannot_take_is_one_line(monkeypatch, capsys, value):
    # NUMBA_NUM_THREADS=0 failed every command (ltr doctor too) with numba's traceback on import
    monkeypatch.setenv("NUMBA_NUM_THREADS", value)
    assert main(["doctor"]) == 2
    assert capsys.readouterr().err == (f"ltr doctor: error: environment variable NUMBA_NUM_THREADS={value!r}: must "
                                       "be a whole number >= 1 (or unset)\n")


def test_train_out_naming_a_folder_says_so(files, tmp_path, monkeypatch, capsys):
    # `--out .` failed with "PosixPath('.') has an empty name" (the sidecar's name was made before the check)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["train", str(files["train"]), "--rounds", "2", "--quiet", "--out", "."]) == 1
    assert capsys.readouterr().err == "ltr train: error: . (--out): is a folder; give a file name\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("module", ["ltr.cli", "ltr"])
def test_python_m_ltr_cli_exits_on_sigterm_as_the_ltr_command_does(wait_until_catching, module):
    # `python -m ltr.cli` called main() without the console script's handlers: SIGTERM killed it silently (rc -15);
    # `python -m ltr` (as `python -m pip`, where the scripts folder is not on PATH) had no __main__ at all
    import signal
    import subprocess
    import sys
    import time

    child = subprocess.Popen([sys.executable, "-m", module, "info", "/dev/stdin"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until_catching(child.pid, signal.SIGTERM)
    time.sleep(2)  # reading standard input, which never ends
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    child.stdin.close()
    assert child.returncode == 143
    assert err.splitlines()[-1].startswith("ltr info: terminated")


def test_a_data_action_names_its_own_options(capsys, tmp_path):
    assert main(["data", "fetch", "mq2008", "--retry", "2", "--to", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ("ltr data fetch: error: unrecognized arguments: --retry 2 (--retry: did you "
                                       "mean --retries?) (see ltr data fetch --help)\n")


def test_the_parser_registers_only_the_command_named_and_none_for_version():
    # every command's options were registered for any command line: `ltr --version` took 4 s importing the engines
    import subprocess
    import sys

    from ltr.cli import _needed

    assert _needed(["train", "x.txt"]) == ["train"] and _needed(["predict", "m", "x"]) == ["train"]
    assert _needed(["--version"]) == [] and _needed(["--help"]) is None and _needed(["trian"]) is None
    code = ("import sys\nfrom ltr.cli import main\nassert main(['--version']) == 0\n"
            "print(sorted(m for m in ('numpy', 'pandas', 'numba', 'sklearn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"ltrkit {__import__('ltr').__version__}", "[]"]


@pytest.mark.parametrize("lines, typed, message", [
    ('engine = "linear"\n', ["--rounds", "10"],
     "--rounds 10 is a tree parameter: engine = 'linear' (--config {config}) does not use it"),
    ('engine = "linear"\nrounds = 10\n', [],
     "--config {config}: rounds = 10 is a tree parameter: engine = 'linear' does not use it"),
    ("rounds = 10\n", ["--engine", "linear"],
     "--config {config}: rounds = 10 is a tree parameter: --engine linear does not use it"),
])
def test_an_option_a_clash_names_is_worded_as_where_it_was_set(files, tmp_path, capsys, lines, typed, message):
    """Two options that clash, one typed and one from the file (or both from the file): each is named where the
    user set it, the file once."""
    config = tmp_path / "c.toml"
    config.write_text(lines)
    assert main(["cv", str(files["train"]), "--config", str(config), *typed]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ltr cv: error: " + message.format(config=config) + " (its settings go in --param: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", ["info", "train", "evaluate"])
def test_an_unknown_encoding_is_a_usage_error_naming_the_option_whatever_the_file(files, capsys, command):
    """Checked before reading: the files here have no comments, so no byte would ever be decoded with it."""
    extra = ["--scores", str(files["train"])] if command == "evaluate" else []
    assert main([command, str(files["train"]), *extra, "--encoding", "latin_2x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ltr {command}: error: argument --encoding: unknown encoding 'latin_2x' (Python's codec "
                          "names: utf-8, latin-1, cp1252, ...)") and err.count("\n") == 1


def test_read_letor_refuses_an_unknown_encoding_before_reading(files):
    with pytest.raises(ValueError, match=r"^encoding: unknown encoding 'nope'$"):
        read_letor(files["train"], encoding="nope")
    assert read_letor(files["train"], encoding="latin-1").equals(read_letor(files["train"]))


@pytest.mark.parametrize("command", ["train", "cv"])
def test_an_unknown_feature_subset_names_the_option_in_train_and_cv_alike(files, capsys, command, tmp_path):
    assert main([command, str(files["train"]), "--features", "nosuch.toml"]) == 2
    assert capsys.readouterr().err == (f"ltr {command}: error: --features: unknown feature name "
                                       "'nosuch.toml'; known names include ['f1', 'f2', 'f3', 'f4', 'f5']\n")
    assert main([command, str(files["train"]), "--drop-features", "nosuch"]) == 2  # the flag given is named
    assert capsys.readouterr().err.startswith(f"ltr {command}: error: --drop-features: unknown feature name 'nosuch'")
    config = tmp_path / "subset.toml"  # a file's key, by the file and the key
    config.write_text("features = [1, 99]\n")
    assert main([command, str(files["train"]), "--config", str(config)]) == 2
    assert capsys.readouterr().err == (f"ltr {command}: error: --config {config}: features = [1, 99]: feature id 99 "
                                       "is outside 1..5 (ids are 1-based, as in LETOR files)\n")


def test_metrics_given_twice_add_up_and_evaluate_and_info_take_quiet(tmp_path, capsys):
    # --metrics map --metrics ndcg@10 printed ndcg@10 alone (trec_eval's -m adds up); ltr evaluate and ltr info
    # refused --quiet, which every other command that writes notes takes (trial t47/options)
    (tmp_path / "q").write_text("1 0 a 1\n1 0 b 0\n")
    (tmp_path / "r").write_text("1 Q0 b 1 2 t\n1 Q0 a 2 1 t\n")
    base = ["evaluate", "--qrels", str(tmp_path / "q"), "--run", str(tmp_path / "r"), "--format", "csv"]
    assert main([*base, "--metrics", "map", "--metrics", "P@1,ndcg@10", "--quiet"]) == 0
    out = capsys.readouterr()
    # (CSV names a metric by its canonical name, whatever the spelling: trial t65)
    assert out.out.splitlines() == ["metric,mean", "map,0.5", "p@1,0.0", f"ndcg@10,{float(1 / np.log2(3))!r}"]
    assert out.err == ""  # the conventions line is a note: --quiet keeps it back
    assert main([*base, "--metrics", "map"]) == 0
    assert capsys.readouterr().out.splitlines() == ["metric,mean", "map,0.5"]  # once: the default replaced
    data = write_letor(tmp_path / "d.txt", make_ranking(3, 4, 2, random_state=0))
    assert main(["info", str(data), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_a_config_files_slips_are_said_as_the_command_lines_are(files, tmp_path, capsys):
    # a misspelt key had no close match (the flag had), a JSON file was "not valid TOML" with no word of JSON, and two
    # keys the command line refuses together were taken, the first silently lost (trial t47/options)
    train = str(files["train"])
    cases = {
        "roundz = 3\n": "unknown key 'roundz' (did you mean 'rounds'?); known keys: ",
        '{"rounds": 3}\n': "not valid TOML (Invalid statement (at line 1, column 1)); it reads as JSON, and --config "
                           "reads TOML (key = value lines, [params] tables)",
        'query-file = "x.query"\nno-query-file = true\n': "'query-file' and 'no-query-file' are not allowed together",
    }
    for i, (text, said) in enumerate(cases.items()):
        path = tmp_path / f"c{i}.toml"
        path.write_text(text)
        assert main(["train", train, "--config", str(path), "--out", str(tmp_path / "m.txt")]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"ltr train: error: --config {path}: {said}"), err
        assert len(err.splitlines()) == 1 and not (tmp_path / "m.txt").exists()


def test_info_as_csv_is_one_table_or_a_usage_error(files, tmp_path, capsys):
    # a LETOR file and a model wrote two CSV tables with two headers to standard output, which pandas read as one
    # under the first header (trial t47/options)
    model = tmp_path / "m.txt"
    assert main(["train", str(files["train"]), "--rounds", "2", "--min-child-samples", "1", "--quiet", "--out",
                 str(model)]) == 0
    capsys.readouterr()
    assert main(["info", str(files["train"]), str(model), "--format", "csv"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err == ("ltr info: error: --format csv writes one table: give LETOR files, or one "
                                         "model file (with several, --format json holds them all)\n")
    assert main(["info", str(files["train"]), str(files["valid"]), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("file,queries,rows,") and len(lines) == 3


@pytest.mark.parametrize("command", ["train", "cv", "tune"])
@pytest.mark.parametrize("value", ["4294967296", "-1"])
def test_a_model_seed_beyond_32_bits_is_refused(files, capsys, command, value):
    """The engines take a seed mod 2**32: --seed 4294967296 trained seed 0's model byte for byte while the sidecar
    said 4294967296, and XGBoost refused a larger one in its own words (trial t48/training)."""
    assert main([command, str(files["train"]), "--seed", value]) == 2
    assert f"--seed: '{value}': a seed, an integer from 0 to 2**32 - 1" in capsys.readouterr().err


@pytest.mark.parametrize("flags, said", [
    (["--kernel", "numba", "--objective-param", "foo=1"], "unknown option(s) ['foo'] for kernel 'lambdarank'"),
    (["--kernel", "numba", "--objective", "ranknet", "--objective-param", "truncation_level=3"],
     "unknown option(s) ['truncation_level'] for kernel 'ranknet'; it takes ['sigma']"),
])
def test_an_unknown_objective_option_is_a_usage_error_before_the_data_is_read(files, capsys, flags, said):
    """It exited 1 once the data was read and training began, where the other bad --objective-param values are
    usage errors, exit 2 (trial t48/training)."""
    assert main(["train", "/no/such/file.txt", *flags]) == 2
    assert capsys.readouterr().err == f"ltr train: error: --objective-param: {said}" + (
        "" if said.endswith("['sigma']") else "; it takes ['label_gain', 'mode', 'norm', 'sigma', 'truncation_level']"
    ) + "\n"


@pytest.mark.parametrize("table, objective, message", [
    ("sigma = \"x\"", "ranknet", "[objective_params] sigma: sigma must be a positive number, got 'x'"),
    ("target = \"x\"", "listnet", "[objective_params] target: target must be one of ['gain', 'softmax'], got 'x'"),
    ("bogus = 1", "lambdarank", "[objective_params] bogus: unknown option 'bogus' for objective 'lambdarank'"),
])
def test_an_objective_option_from_a_config_file_is_refused_naming_the_file_before_any_data_is_read(
        files, tmp_path, capsys, table, objective, message):
    """An [objective_params] value was refused as `sigma must be ...` (no file, exit 1, after reading the data:
    only lambdarank's options were checked first), an unknown key as `--objective-param: ...`, a flag never typed."""
    config = tmp_path / "c.toml"
    config.write_text(f"[objective_params]\n{table}\n")
    kernel = [] if objective == "lambdarank" else ["--kernel", "numba"]
    args = ["train", str(files["train"]), "--objective", objective, *kernel, "--out", str(tmp_path / "o")]
    assert main([*args, "--config", str(config)]) == 2
    assert capsys.readouterr().err.startswith(f"ltr train: error: --config {config}: {message}")
    assert not list(tmp_path.glob("o*"))
    assert main([*args, "--objective-param", table.replace(" ", "").replace('"', "")]) == 2
    assert "--config" not in capsys.readouterr().err


@pytest.mark.parametrize("metric", ["num_q", "num_rel", "num_ret", "num_rel_ret"])
def test_a_count_is_refused_where_a_metric_chooses(files, tmp_path, capsys, metric):
    """Counts do not depend on the scores: as ltr tune's --metric every trial tied and the first was reported as
    the chosen parameters; as --early-stopping-metric the model kept 1 round; as ltr fuse --fit-weights' --metric
    every weighting tied (trial t50/experiments)."""
    from ltr import Ranker
    from ltr.fusion import fit_weights
    from ltr.tuning.nested import select_by_nested_cv

    said = "is a count the scores do not change: every candidate would tie"
    for argv in (["tune", str(files["train"]), "--metric", metric, "--trials", "2"],
                 ["train", str(files["train"]), "--valid", str(files["valid"]), "--early-stopping-metric", metric],
                 ["cv", str(files["train"]), "--early-stopping-metric", metric]):
        assert main([*argv, "--out", str(tmp_path / "o"), "--quiet"]) == 2
        assert said in capsys.readouterr().err and not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match=f"early_stopping_metric '{metric}' {said}"):
        Ranker(early_stopping_metric=metric, n_estimators=2).fit(read_letor(files["train"]),
                                                                 eval_set=[read_letor(files["valid"])])
    with pytest.raises(ValueError, match=said):
        select_by_nested_cv({"a": Ranker(n_estimators=2), "b": Ranker(n_estimators=3)}, read_letor(files["train"]),
                            metric=metric)
    with pytest.raises(ValueError, match=said):
        fit_weights(["a.run", "b.run"], "qrels", metric=metric)  # before any file is read
