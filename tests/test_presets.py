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
