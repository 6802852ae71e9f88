"""``ltr tune`` after a user's trial (stop 35): the small-data preset is decided once per outer fold, for its trials
and its refit alike; a space that sets one engine parameter twice, or draws floats for an integer parameter, is
refused when it is loaded; a tune result names its data set by the file; an interrupted search says where its trials
are kept; a model option the space searches is said not to be used before the search starts."""

from __future__ import annotations

import json

import pytest

from ltr import Ranker, make_ranking
from ltr._shared import import_reference
from ltr.cli import main
from ltr.exceptions import FileFormatError
from ltr.io import write_letor
from ltr.rankers import ranker as ranker_module
from ltr.rankers.presets import preset_values
from ltr.tuning import load_space, select_by_nested_cv, tune
from ltr.tuning import nested as nested_module

import_reference("optuna")  # the tune extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1

SPACE = {"learning_rate": {"low": 0.05, "high": 0.2}}  # leaves the preset's other parameters unsearched
CUT = ["--trials", "1", "--outer-folds", "2", "--inner-folds", "2", "--rounds", "3", "--n-jobs", "1"]


@pytest.fixture()
def fits(monkeypatch):
    """Every Ranker fit: (training queries, the preset's values it trained with)."""
    seen: list[tuple[int, dict]] = []
    fit = ranker_module.Ranker.fit

    def spy(self, X, *args, **kwargs):
        out = fit(self, X, *args, **kwargs)
        seen.append((X.n_queries, dict(self.preset_params_)))
        return out

    monkeypatch.setattr(ranker_module.Ranker, "fit", spy)
    return seen


# -- F1: the preset of an outer fold holds for its inner fits --------------------------------------------------------
# 2 outer x 2 inner folds: the outer training parts hold half the queries, the inner ones a quarter.
@pytest.mark.parametrize("n_queries, preset", [
    (400, True),     # outer 200, inner 100: the preset everywhere, as before
    (1200, False),   # outer 600 (>= 500: no preset), inner 300 (< 500): scored with the preset before the fix
    (2000, False),   # outer 1000, inner 500: no preset anywhere, as before
])
def test_the_trials_of_an_outer_fold_train_the_model_family_its_refit_trains(fits, n_queries, preset):
    data = make_ranking(n_queries, 4, 3, random_state=0)
    result = tune(data, estimator=Ranker(n_estimators=3, n_jobs=1), space=SPACE, n_trials=1, outer_folds=2,
                  inner_folds=2, progress=False)
    assert len(fits) == 2 * 2 + 2  # 1 trial x 2 outer x 2 inner fits, then 2 refits
    applied = [p for _, p in fits]
    recorded = [f.preset_params for f in result.cv.folds]
    if preset:
        expected = {k: v for k, v in preset_values("small", "lightgbm").items() if k != "n_estimators"}
        expected.pop("learning_rate")  # searched: the trial's value, never the preset's
        assert recorded == [expected, expected] and applied == [expected] * 6
    else:
        assert recorded == [{}, {}] and applied == [{}] * 6
    # per outer fold its two inner fits, then its refit on the outer training part
    assert [n for n, _ in fits] == [n_queries // 4] * 2 + [n_queries // 2] + [n_queries // 4] * 2 + [n_queries // 2]


def test_choosing_among_fixed_configurations_decides_the_preset_by_the_outer_training_part_too(fits):
    data = make_ranking(1200, 4, 3, random_state=0)
    sel = select_by_nested_cv({"a": Ranker(n_estimators=3, n_jobs=1)}, data, outer_folds=2, inner_folds=2)
    assert [p for _, p in fits] == [{}] * 6 and [f.preset_params for f in sel.selected.folds] == [{}, {}]


def test_studies_scored_with_the_preset_by_an_earlier_version_are_not_resumed_for_a_set_up_it_changes():
    data = make_ranking(1200, 4, 3, random_state=0)
    folds = nested_module._outer_folds(data, 2, 0)
    changed = nested_module._preset_per_outer_fold
    assert changed(Ranker(), folds, 2)  # outer 600, inner 300
    assert not changed(Ranker(), folds, 6)  # inner 500: no preset in the inner fits before either
    assert not changed(Ranker(preset=None), folds, 2) and not changed(Ranker(preset="small"), folds, 2)
    assert not changed(Ranker(engine="linear"), folds, 2)  # no preset for the linear engine
    small = nested_module._outer_folds(make_ranking(400, 4, 3, random_state=0), 2, 0)
    assert not changed(Ranker(), small, 2)


# -- F2: one engine parameter set by two entries of a space ----------------------------------------------------------
def test_a_space_setting_one_lightgbm_parameter_twice_is_refused_at_load_naming_the_file_and_both_entries(tmp_path):
    space = tmp_path / "twice.toml"
    space.write_text("[reg_lambda]\nlow = 0.1\nhigh = 10.0\n[engine_params.lambda_l2]\nlow = 0.1\nhigh = 10.0\n")
    with pytest.raises(FileFormatError) as exc:
        load_space(space, Ranker())
    message = str(exc.value)
    assert message.startswith(f"{space}:4: [reg_lambda] and [engine_params.lambda_l2] both set lightgbm's lambda_l2")
    assert "\n" not in message
    with pytest.raises(ValueError, match=r"\[engine_params.lambda_l2\] and \[engine_params.reg_lambda\] both set"):
        load_space({"engine_params.lambda_l2": {"low": 0.1, "high": 1.0},  # reg_lambda: a LightGBM alias of it
                    "engine_params.reg_lambda": {"low": 0.1, "high": 1.0}}, Ranker())
    with pytest.raises(ValueError, match=r"\[learning_rate\] and \[engine_params.eta\] both set xgboost's eta"):
        load_space({"learning_rate": {"low": 0.01, "high": 0.3}, "engine_params.eta": {"low": 0.01, "high": 0.3}},
                   Ranker(engine="xgboost"))


def test_ltr_tune_refuses_a_space_setting_one_parameter_twice_before_any_trial_or_storage(tmp_path, capsys):
    path = tmp_path / "train.txt"
    write_letor(path, make_ranking(20, 4, 3, random_state=0))
    space = tmp_path / "twice.toml"
    space.write_text("[reg_lambda]\nlow = 0.1\nhigh = 10.0\n[engine_params.lambda_l2]\nlow = 0.1\nhigh = 10.0\n")
    out = tmp_path / "r.json"
    assert main(["tune", str(path), *CUT, "--space", str(space), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ltr tune: error: {space}:4: [reg_lambda] and [engine_params.lambda_l2]")
    assert err.count("\n") == 1
    assert not (tmp_path / "r.json.optuna.db").exists() and not out.exists()


def test_a_space_entry_setting_what_a_fixed_engine_parameter_sets_is_refused_at_load():
    # --param lambda_l2=3 on the command line, [reg_lambda] in the space: refused by the ranker's own checks
    with pytest.raises(ValueError, match=r"search space 'reg_lambda'.*lambda_l2=3.0 sets what reg_lambda"):
        load_space({"reg_lambda": {"low": 0.1, "high": 10.0}}, Ranker(engine_params={"lambda_l2": 3.0}))
    with pytest.raises(ValueError, match=r"lambda and lambda_l2 are two names of lightgbm's lambda_l2"):
        load_space({"engine_params.lambda_l2": {"low": 0.1, "high": 10.0}}, Ranker(engine_params={"lambda": 3.0}))


# -- F3: a space that draws floats for an integer parameter ----------------------------------------------------------
@pytest.mark.parametrize("table, said, drawn", [
    ("[num_leaves]\nlow = 4\nhigh = 32\nstep = 0.5\n", "step = 0.5 makes this a float range", "4.5"),
    ("[n_estimators]\nlow = 50\nhigh = 300.0\n", "high = 300.0 makes this a float range", "50.5"),
    ("[max_depth]\nlow = 2\nhigh = 8\nstep = 1.5\n", "step = 1.5 makes this a float range", "3.5"),
])
def test_an_integer_parameter_given_a_float_bound_or_step_is_refused_at_load_naming_file_entry_and_value(
        tmp_path, table, said, drawn):
    space = tmp_path / "space.toml"
    space.write_text("[learning_rate]\nlow = 0.01\nhigh = 0.3\n\n" + table)
    with pytest.raises(FileFormatError) as exc:
        load_space(space, Ranker())
    message = str(exc.value)
    name = table[1:table.index("]")]
    assert message.startswith(f"{space}:5: {said}, whose trials draw floats such as {drawn}, and the ranker "
                              f"refuses {drawn}: {name} must be "
                              f"{'a positive integer' if name == 'max_depth' else 'an integer'}")
    assert message.endswith(f"(token '{name}')")
    if "300.0" in table:
        assert "(high = 300)" in message


def test_float_ranges_the_ranker_takes_are_still_accepted():
    space = load_space({"learning_rate": {"low": 0.01, "high": 0.3, "step": 0.01},
                        "n_estimators": {"low": 50.0, "high": 300.0, "step": 50.0},  # whole numbers: taken
                        "num_leaves": {"low": 4, "high": 32, "step": 2.0},  # refused until every integer took 4.0
                        "max_depth": {"low": 2.0, "high": 8.0, "step": 2.0},
                        "subsample": {"low": 0.5, "high": 1.0}}, Ranker())
    assert [p.kind for p in space.params] == ["float"] * 5


def test_a_whole_number_float_grid_for_min_child_samples_loads_and_trains_as_the_integers_it_names():
    space = load_space({"min_child_samples": {"low": 4.0, "high": 20.0, "step": 4.0}}, Ranker())
    assert space.params[0].kind == "float"  # Optuna draws 12.0: LightGBM alone refuses "12.0" for an int
    data = make_ranking(30, 8, 4, random_state=0)
    fast = dict(n_estimators=3, n_jobs=1, random_state=0, preset=None)
    drawn = Ranker(min_child_samples=12.0, **fast).fit(data).predict(data)
    assert (drawn == Ranker(min_child_samples=12, **fast).fit(data).predict(data)).all()


def test_a_boolean_engine_parameter_given_strings_is_refused_at_load():
    with pytest.raises(ValueError, match=r"bagging_by_query.*should be \"true\""):
        load_space({"engine_params.bagging_by_query": {"choices": ["yes", "no"]}}, Ranker())


# -- F6: the data set named by its file ------------------------------------------------------------------------------
@pytest.mark.parametrize("subset", [[], ["--features", "1,2"]])
def test_a_tune_result_names_its_data_set_by_the_file_as_a_cv_result_does(tmp_path, subset):
    path = tmp_path / "mq_small.txt"
    write_letor(path, make_ranking(20, 4, 3, random_state=0))
    out = tmp_path / "r.json"
    space = tmp_path / "space.toml"
    space.write_text("[learning_rate]\nlow = 0.05\nhigh = 0.2\n")
    assert main(["tune", str(path), *CUT, "--min-child-samples", "2", "--space", str(space), "--out", str(out),
                 "--quiet", *subset]) == 0
    assert json.loads(out.read_text())["datasets"][0]["name"] == "mq_small.txt"
    direct = tune(str(path), estimator=Ranker(n_estimators=3, min_child_samples=2, n_jobs=1), space=SPACE,
                  n_trials=1, outer_folds=2, inner_folds=2, progress=False)
    assert direct.cv.datasets[0]["name"] == "mq_small.txt"


# -- F8: an interrupted search; the note on searched options before the search ---------------------------------------
def test_an_interrupted_search_has_said_the_searched_option_and_says_where_its_trials_are_kept(
        tmp_path, capsys, monkeypatch):
    path = tmp_path / "train.txt"
    write_letor(path, make_ranking(20, 4, 3, random_state=0))
    space = tmp_path / "space.toml"
    space.write_text("[num_leaves]\nlow = 2\nhigh = 6\n")
    out = tmp_path / "r.json"
    args = ["tune", str(path), *CUT[2:], "--trials", "2", "--min-child-samples", "2", "--space", str(space),
            "--leaves", "4", "--param", "lambda_l2=1", "--out", str(out), "--format", "csv"]
    calls = []
    score = nested_module.inner_score

    def interrupted(*a, **kw):  # the first trial ends and is stored; Ctrl-C during the second
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return score(*a, **kw)

    monkeypatch.setattr(nested_module, "inner_score", interrupted)
    assert main(args) == 130
    err = capsys.readouterr().err
    assert "the space searches --leaves (the space's num_leaves): the value given is not used" in err
    db = f"{out}.optuna.db"
    assert f"ltr tune: the finished trials are kept in {db}: the same command resumes there\n" in err
    assert err.endswith("ltr tune: interrupted; no output file was left half-written\n")
    assert not out.exists()
    monkeypatch.setattr(nested_module, "inner_score", score)
    assert main(args) == 0
    assert f"resumed 1 trial kept in {db}" in capsys.readouterr().err


def test_an_interrupted_search_without_a_storage_says_no_trial_was_kept(tmp_path, capsys, monkeypatch):
    path = tmp_path / "train.txt"
    write_letor(path, make_ranking(20, 4, 3, random_state=0))

    def interrupted(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(nested_module, "inner_score", interrupted)
    assert main(["tune", str(path), *CUT, "--quiet"]) == 130
    assert ("ltr tune: no trial was kept (no --storage, and no --out beside which it is kept by default)\n"
            in capsys.readouterr().err)
    assert main(["tune", str(path), *CUT, "--quiet", "--out", "-"]) == 130
    assert "ltr tune: no trial was kept (no --storage, and --out - keeps none)\n" in capsys.readouterr().err


def test_a_searched_engine_parameter_given_with_param_is_said_not_to_be_used(tmp_path, capsys, monkeypatch):
    path = tmp_path / "train.txt"
    write_letor(path, make_ranking(20, 4, 3, random_state=0))
    space = tmp_path / "space.toml"
    space.write_text("[engine_params.lambda_l2]\nlow = 0.1\nhigh = 1.0\n")

    def interrupted(*a, **kw):  # the note comes before any trial
        raise KeyboardInterrupt

    monkeypatch.setattr(nested_module, "inner_score", interrupted)
    assert main(["tune", str(path), *CUT, "--space", str(space), "--param", "lambda_l2=3"]) == 130
    assert ("the space searches --param lambda_l2 (the space's engine_params.lambda_l2): the value given is not "
            "used") in capsys.readouterr().err


# -- the default space, shown without opening the package ------------------------------------------------------------
@pytest.mark.parametrize("engine", ["lightgbm", "xgboost", "linear"])
def test_show_space_prints_the_engines_default_space_which_loads_as_the_search_loads_it(engine, capsys):
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    from ltr.tuning.space import default_space_path

    assert main(["tune", "--show-space", "--engine", engine]) == 0
    out = capsys.readouterr().out
    assert out == default_space_path(engine).read_text(encoding="utf-8")
    assert tomllib.loads(out) and load_space(tomllib.loads(out), Ranker(engine=engine)).params


def test_show_space_checks_a_given_space_and_data_is_needed_without_it(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[num_leaves]\nlow = 4\nhigh = 32\nstep = 0.5\n")
    assert main(["tune", "--show-space", "--space", str(bad)]) == 1
    assert "bad.toml:1: step = 0.5 makes this a float range" in capsys.readouterr().err
    assert main(["tune"]) == 2
    assert "required: DATA (or --show-space" in capsys.readouterr().err
