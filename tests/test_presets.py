"""``Ranker(preset=...)``: small-data tree defaults that replace the defaults only, what the engines receive, and the
same preset in ``Ranker()``, ``ltr train`` and ``ltr cv``."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
from sklearn.base import clone

from ltr import Ranker, load_model, make_ranking
from ltr.cli import build_parser, main
from ltr.io import write_letor
from ltr.rankers.presets import AUTO_SMALL_BELOW, PRESETS, apply_preset, resolve_preset


@pytest.fixture(scope="module")
def data():
    return make_ranking(60, (4, 10), 5, random_state=0)


def test_lightgbm_receives_the_presets_values(data):
    small = PRESETS["small"]["lightgbm"]
    model = Ranker(preset="small", n_jobs=1).fit(data)
    p = model.booster_.params  # what LightGBM was given
    assert (p["num_leaves"], p["min_data_in_leaf"], p["learning_rate"], p["lambda_l2"]) == (
        small["num_leaves"], small["min_child_samples"], small["learning_rate"], small["reg_lambda"])
    assert (p["bagging_fraction"], p["bagging_freq"], p["feature_fraction"]) == (small["subsample"], 1,
                                                                                 small["colsample_bytree"])
    assert p["bagging_by_query"] is True
    assert model.booster_.current_iteration() == small["n_estimators"]


def test_a_parameter_set_to_another_value_wins_over_the_preset_and_engine_params_win_too(data):
    model = Ranker(preset="small", num_leaves=4, n_estimators=20, n_jobs=1,
                   engine_params={"bagging_by_query": False}).fit(data)
    p = model.booster_.params
    assert p["num_leaves"] == 4 and p["min_data_in_leaf"] == PRESETS["small"]["lightgbm"]["min_child_samples"]
    assert p["bagging_by_query"] is False
    assert "num_leaves" not in model.preset_params_ and "n_estimators" not in model.preset_params_
    assert model.preset_params_["engine_params"] == {}


def test_auto_applies_small_below_the_threshold_only():
    assert resolve_preset("auto", AUTO_SMALL_BELOW - 1) == "small"
    assert resolve_preset("auto", AUTO_SMALL_BELOW) is None
    few, many = make_ranking(20, 3, 2, random_state=0), make_ranking(AUTO_SMALL_BELOW, 2, 2, random_state=0)
    assert Ranker(preset="auto", n_estimators=5, n_jobs=1).fit(few).preset_params_["num_leaves"] == 15
    assert Ranker(preset="auto", n_estimators=5, n_jobs=1).fit(many).preset_params_ == {}


def test_the_estimator_itself_is_never_changed_by_its_preset(data):
    model = Ranker(preset="small", n_jobs=1)
    before = model.get_params()
    effective, applied = apply_preset(model, data.n_queries)
    assert model.get_params() == before and effective.num_leaves == 15 and applied
    assert clone(model).get_params()["preset"] == "small"


def test_xgboost_gets_the_same_tree_shape_without_bagging_by_query(data):
    model = Ranker(engine="xgboost", preset="small", n_estimators=5, n_jobs=1).fit(data)
    config = json.loads(model.booster_.save_config())
    train = config["learner"]["gradient_booster"]["tree_train_param"]
    assert (train["max_leaves"], train["reg_lambda"]) == ("15", "10")
    assert np.float32(train["subsample"]) == np.float32(0.8)  # XGBoost keeps float32 parameters
    assert "engine_params" not in model.preset_params_


def test_an_unknown_preset_and_a_preset_on_the_linear_engine_are_refused(data):
    with pytest.raises(ValueError, match=r"unknown preset 'tiny'; choose one of \['small', 'auto'\]"):
        Ranker(preset="tiny").fit(data)
    with pytest.raises(ValueError, match="engine='linear' takes none"):
        Ranker(engine="linear", preset="small").fit(data)
    assert Ranker(engine="linear", preset="auto", engine_params={"n_restarts": 1}).fit(data).preset_params_ == {}


def test_none_spelt_as_the_command_line_spells_it_is_no_preset(data):
    a = Ranker(preset="none", n_estimators=5, n_jobs=1).fit(data)
    b = Ranker(preset=None, n_estimators=5, n_jobs=1).fit(data)
    assert a.preset_params_ == {} and np.array_equal(a.predict(data), b.predict(data))
    assert Ranker(engine="linear", preset="none", engine_params={"n_restarts": 1}).fit(data).preset_params_ == {}


def test_the_preset_is_the_same_option_in_train_and_cv_and_is_saved_with_the_model(data, tmp_path):
    parser_defaults = {}
    for action in build_parser()._subparsers._group_actions[0].choices["train"]._actions:
        parser_defaults[action.dest] = action.default
    assert parser_defaults["preset"] == inspect.signature(Ranker.__init__).parameters["preset"].default == "auto"
    path = tmp_path / "train.txt"
    write_letor(path, data)
    out = tmp_path / "model.txt"
    assert main(["train", str(path), "--preset", "small", "--rounds", "20", "--out", str(out), "--quiet",
                 "--n-jobs", "1"]) == 0
    loaded = load_model(out)
    assert loaded.get_params()["preset"] == "small"
    assert loaded.booster_.params["num_leaves"] == 15 and loaded.best_iteration_ == 20
    assert main(["cv", str(path), "--preset", "auto", "--folds", "3", "--rounds", "5", "--quiet"]) == 0


def test_the_preset_trains_its_rounds_and_stops_early_only_when_asked():
    """Measured without early stopping, the preset trains all its rounds; the validation set is still recorded."""
    d = make_ranking(300, (5, 15), 5, random_state=1)
    train, vali = d.subset(np.arange(200)), d.subset(np.arange(200, 300))
    model = Ranker(preset="small", n_estimators=120, learning_rate=0.3, n_jobs=1).fit(train, eval_set=[vali])
    assert model.preset_params_["early_stopping_rounds"] is None
    assert model.best_iteration_ == 120 and model.booster_.current_iteration() == 120
    curve = model.evals_result_["valid_0"]["ndcg@10"]
    assert len(curve) == 120
    # Five rounds of patience on the same (seeded) curve stop at the first best that lasts five rounds.
    best, best_round = -np.inf, 0
    for r, v in enumerate(curve, 1):
        if v > best:
            best, best_round = v, r
        elif r - best_round >= 5:
            break
    assert best_round < 120
    stopping = Ranker(preset="small", n_estimators=120, learning_rate=0.3, early_stopping_rounds=5, n_jobs=1)
    stopping.fit(train, eval_set=[vali])
    assert "early_stopping_rounds" not in stopping.preset_params_ and stopping.best_iteration_ == best_round
    # Without a preset, the standard rule (50 rounds of patience) is unchanged.
    standard = Ranker(preset=None, n_estimators=400, learning_rate=0.3, n_jobs=1).fit(train, eval_set=[vali])
    assert standard.preset_params_ == {} and standard.best_iteration_ < 400


def test_preset_keep_keeps_a_parameter_given_at_its_default_value(data):
    kept = Ranker(preset="small", num_leaves=31, early_stopping_rounds=50, n_estimators=5, n_jobs=1,
                  preset_keep=("num_leaves", "early_stopping_rounds"))
    effective, applied = apply_preset(kept, data.n_queries)
    assert (effective.num_leaves, effective.early_stopping_rounds) == (31, 50)
    assert "num_leaves" not in applied and "early_stopping_rounds" not in applied and applied["learning_rate"] == 0.02
    assert kept.fit(data).booster_.params["num_leaves"] == 31
    assert clone(kept).get_params()["preset_keep"] == ("num_leaves", "early_stopping_rounds")
    for bad in ("num_leaves", ("leaves",), (3,)):
        with pytest.raises(ValueError, match="preset_keep must name Ranker parameters"):
            Ranker(preset="small", preset_keep=bad).fit(data)


def test_options_given_on_the_command_line_win_over_the_preset_even_at_their_defaults(data, tmp_path):
    path = tmp_path / "train.txt"
    write_letor(path, data)  # 60 queries: "auto" applies the preset
    (tmp_path / "run.toml").write_text("leaves = 31\n")
    # (an abbreviation, --leave=31, is refused since the parsers take none: tests/test_cli_options.py)
    for argv in (["--leaves", "31"], ["--leaves=31"], ["--config", str(tmp_path / "run.toml")]):
        out = tmp_path / "m.txt"
        assert main(["train", str(path), "--rounds", "3", "--out", str(out), "--quiet", "--n-jobs", "1", *argv]) == 0
        assert load_model(out).booster_.params["num_leaves"] == 31, argv
    assert main(["train", str(path), "--rounds", "3", "--out", str(out), "--quiet", "--n-jobs", "1"]) == 0
    assert load_model(out).booster_.params["num_leaves"] == 15  # not given: the preset's


def test_cv_holds_out_a_validation_part_only_for_a_model_that_stops_early(data, tmp_path, capsys):
    path = tmp_path / "train.txt"
    write_letor(path, data)
    res = tmp_path / "cv.json"
    # The preset (auto, 60 queries) trains its fixed rounds: every fold trains on K-1 parts, none validates.
    assert main(["cv", str(path), "--folds", "3", "--rounds", "4", "--out", str(res), "--n-jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert "note: no validation part held out: the small-data preset trains its fixed rounds" in err
    saved = json.loads(res.read_text())
    assert saved["settings"]["validation"] is False
    # --early-stopping 50 (the default value, given) holds one out and stops on it.
    assert main(["cv", str(path), "--folds", "3", "--rounds", "4", "--early-stopping", "50", "--out", str(res),
                 "--n-jobs", "1"]) == 0
    assert "no validation part" not in capsys.readouterr().err
    assert json.loads(res.read_text())["settings"]["validation"] is True


def test_train_says_the_preset_does_not_stop_on_the_validation_set(data, tmp_path, capsys):
    path, valid = tmp_path / "train.txt", tmp_path / "valid.txt"  # (the same rows in another file: the file itself
    write_letor(path, data)  # as --valid is the training data, never stopped on, since t64)
    write_letor(valid, data)
    assert main(["train", str(path), "--valid", str(valid), "--rounds", "60", "--n-jobs", "1"]) == 0
    out, err = capsys.readouterr()
    assert "it trains all its rounds, recording --valid's metrics (--early-stopping N stops early)" in err
    assert "trained 60 rounds" in out
    assert main(["train", str(path), "--valid", str(valid), "--rounds", "60", "--early-stopping", "5", "--n-jobs",
                 "1", "--learning-rate", "0.5"]) == 0
    out, err = capsys.readouterr()
    assert "trains all its rounds" not in err and "trained 60 rounds" not in out


def test_an_early_stopping_metric_stops_early_under_the_preset_and_the_note_speaks_in_flags(data, tmp_path,
                                                                                           capsys):
    """--early-stopping-metric asks for early stopping: the preset's 'no early stopping' no longer overrode it, and
    the preset's note listed Python keywords (num_leaves=15, engine_params={...}) a user could not type."""
    path, valid = tmp_path / "train.txt", tmp_path / "valid.txt"  # (the same rows in another file: see above)
    write_letor(path, data)
    write_letor(valid, data)
    assert main(["train", str(path), "--valid", str(valid), "--rounds", "400", "--n-jobs", "1",
                 "--early-stopping-metric", "map", "--learning-rate", "0.5"]) == 0
    out, err = capsys.readouterr()
    assert "trained 400 rounds" not in out and "(ran " in out and "kept the best" in out
    assert "trains all its rounds" not in err
    out_model = tmp_path / "m.txt"
    assert main(["train", str(path), "--rounds", "5", "--n-jobs", "1", "--out", str(out_model)]) == 0
    err = capsys.readouterr().err
    note = next(line for line in err.splitlines() if "small-data preset (" in line)
    assert "--leaves 15 --min-child-samples" in note and "--param bagging_by_query=true" in note
    assert "num_leaves=" not in note and "engine_params" not in note and "None" not in note
    shown = note.split("): ", 1)[1].split(";", 1)[0]
    # the flags as written are the options that train the same model by hand, the preset off
    again = tmp_path / "again.txt"
    assert main(["train", str(path), "--rounds", "5", "--n-jobs", "1", "--preset", "none", *shown.split(),
                 "--out", str(again)]) == 0
    assert again.read_text() == out_model.read_text()
    assert main(["info", str(out_model)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("preset params"))
    assert "--leaves 15" in row and "--param bagging_by_query=true" in row


def test_cv_on_fold_folders_says_their_vali_parts_do_not_stop_the_preset(data, tmp_path, capsys):
    from ltr.evaluation import query_kfold

    for f in query_kfold(data, 3):
        (tmp_path / f.name).mkdir()
        for part in ("train", "vali", "test"):
            write_letor(tmp_path / f.name / f"{part}.txt", getattr(f, part))
    assert main(["cv", str(tmp_path), "--rounds", "4", "--n-jobs", "1"]) == 0
    assert "note: the vali parts are recorded, not used to stop: the small-data preset" in capsys.readouterr().err
    assert main(["cv", str(tmp_path), "--rounds", "4", "--n-jobs", "1", "--early-stopping", "2"]) == 0
    assert "not used to stop" not in capsys.readouterr().err
    # Without the preset, early stopping turned off is the reason (the preset was not applied: not named).
    assert main(["cv", str(tmp_path), "--rounds", "4", "--n-jobs", "1", "--early-stopping", "0", "--preset",
                 "none"]) == 0
    err = capsys.readouterr().err
    assert "note: the vali parts are recorded, not used to stop: early stopping is off, the model trains its " \
           "fixed rounds" in err and "preset" not in err


def test_cv_with_two_folds_says_why_nothing_stops_early(data, tmp_path, capsys):
    path = tmp_path / "train.txt"
    write_letor(path, data)
    assert main(["cv", str(path), "--folds", "2", "--rounds", "4", "--preset", "none", "--n-jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert "note: 2 folds leave no part to hold out for validation: nothing stops early" in err
    assert "small-data preset" not in err


@pytest.mark.parametrize("kernel", ["native", "numba"])
def test_below_twice_its_leaf_size_in_rows_the_preset_keeps_the_standard_leaf_size(kernel):
    tiny = make_ranking(20, (4, 4), 3, random_state=1)  # 80 rows: 100 rows per leaf would allow no split at all
    model = Ranker(preset="small", kernel=kernel, n_estimators=5, n_jobs=1).fit(tiny)
    assert "min_child_samples" not in model.preset_params_ and model.preset_params_["num_leaves"] == 15
    assert model.booster_.params["min_data_in_leaf"] == 20
    assert np.unique(model.predict(tiny)).size > 1  # the trees split: not a constant model


@pytest.mark.parametrize("n_queries", [50, 60, 100])
def test_the_preset_leaf_size_leaves_every_bag_room_to_split(n_queries):
    """Bagging by query at subsample 0.8 grows each tree on about 80 % of the rows: 200 rows (Istella-S or Yahoo
    samples) left bags below the 200 rows a split of 100-row leaves needs, and LightGBM stopped at its first tree
    (a constant model) or part-way (240 rows: 129 of 300 rounds)."""
    data = make_ranking(n_queries, (4, 4), 5, random_state=3)  # 200, 240 and 400 rows
    effective, applied = apply_preset(Ranker(preset="small"), n_queries, data.n_rows)
    assert ("min_child_samples" in applied) == (0.8 * data.n_rows >= 300)
    model = Ranker(preset="small", n_estimators=300, n_jobs=1).fit(data)
    assert model.booster_.num_trees() == 300  # every round trained: no bag without a split
    assert np.unique(model.predict(data)).size > 1


def test_a_custom_objective_with_nothing_to_split_says_so_in_one_line(tmp_path, capsys):
    tiny = make_ranking(5, (4, 4), 1, random_state=1)  # 20 rows, leaves of at least 20: no split
    path = tmp_path / "tiny.txt"
    write_letor(path, tiny)
    with pytest.raises(ValueError, match="lightgbm found no feature it can split: each is constant on the training "
                                         "rows, or leaves fewer than min_child_samples=20 rows on a side"):
        Ranker(kernel="numba", n_estimators=2, n_jobs=1).fit(tiny)
    assert main(["train", str(path), "--kernel", "numba", "--rounds", "2"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "fewer than --min-child-samples 20 rows on a side; lower --min-child-samples or train on more rows")


def test_the_default_auto_preset_says_what_it_replaced_in_a_warning_and_only_then(data, capsys, tmp_path):
    from ltr.rankers.presets import PresetWarning

    with pytest.warns(PresetWarning) as caught:  # a grid's 31 for num_leaves is the default: replaced, and said
        model = Ranker(num_leaves=31, n_estimators=5, n_jobs=1).fit(data)
    message = str(caught[0].message)
    assert "num_leaves=31 -> 15" in message and "early_stopping_rounds=50 -> None" in message
    assert "n_estimators" not in message  # given another value: kept, not named
    assert model.preset_params_["num_leaves"] == 15
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", PresetWarning)  # no warning where nothing was replaced behind the caller
        Ranker(preset=None, n_estimators=5, n_jobs=1).fit(data)
        Ranker(preset="small", n_estimators=5, n_jobs=1).fit(data)  # asked for by name
        Ranker(n_estimators=5, n_jobs=1).fit(make_ranking(AUTO_SMALL_BELOW, 2, 3, random_state=0))  # not small
        path = tmp_path / "d.txt"
        write_letor(path, data)
        assert main(["train", str(path), "--rounds", "5", "--quiet", "--out", str(tmp_path / "m.txt")]) == 0
    assert "PresetWarning" not in capsys.readouterr().err  # the command line says it in its own note


def test_preset_keep_protects_what_it_names_and_the_warning_names_the_rest(data):
    from ltr.rankers.presets import PresetWarning

    with pytest.warns(PresetWarning) as caught:
        model = Ranker(n_estimators=5, n_jobs=1, preset_keep=("num_leaves",)).fit(data)
    message = str(caught[0].message)
    assert "num_leaves" not in message and "learning_rate=0.05 -> 0.02" in message
    assert model.preset_params_.get("num_leaves") is None


def test_an_engine_parameter_that_sets_a_presets_parameter_is_the_one_trained_and_recorded(data):
    import warnings

    from ltr.rankers.presets import PresetWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PresetWarning)
        model = Ranker(n_estimators=5, n_jobs=1, engine_params={"min_data_in_leaf": 2}).fit(data)
    assert "min_child_samples" not in model.preset_params_  # the engine parameter's, not the preset's 100
    assert model.booster_.params["min_data_in_leaf"] == 2
    same = Ranker(preset="small", n_estimators=5, n_jobs=1, min_child_samples=2).fit(data)
    np.testing.assert_array_equal(model.predict(data), same.predict(data))


def test_cross_validation_says_the_preset_once_in_the_callers_process_never_from_its_workers(data, tmp_path, capfd):
    from ltr.evaluation import cross_validate
    from ltr.rankers.presets import PresetWarning

    with pytest.warns(PresetWarning) as caught:
        cross_validate(Ranker(n_estimators=3, n_jobs=1), data, n_splits=2, n_jobs=2, progress=False)
    assert len([w for w in caught if w.category is PresetWarning]) == 1
    path = tmp_path / "d.txt"
    write_letor(path, data)
    capfd.readouterr()
    assert main(["cv", str(path), "--folds", "2", "--rounds", "3", "--parallel-folds", "2", "--quiet"]) == 0
    assert "PresetWarning" not in capfd.readouterr().err  # the workers' stderr is the process's descriptor 2
