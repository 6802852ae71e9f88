"""XGBoost users' parameters, from a user trial: what has no XGBoost counterpart, linear gains, one parameter
under two names, the exact method's depth, labels beyond the exponential gain."""

from __future__ import annotations

import numpy as np
import pytest

from ltr import Ranker
from ltr.cli import main
from ltr.datasets import make_ranking
from ltr.exceptions import LabelRangeError, ParameterValueError
from ltr.io import read_letor, write_letor


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return write_letor(tmp_path_factory.mktemp("xgb") / "d.txt", make_ranking(30, 10, 5, random_state=0))


def test_min_child_samples_has_no_xgboost_counterpart_and_says_so(small, capsys):
    """--min-child-samples 500 trained the same XGBoost model as without it (same md5), without a word, and the
    small-data preset listed it among what it set for XGBoost."""
    from ltr.rankers.params import UnusedParameterWarning

    d = make_ranking(20, 5, 4, random_state=0)
    with pytest.warns(UnusedParameterWarning, match=r"min_child_samples=5: XGBoost has no least number of rows per "
                                                    r"leaf, so it is not used.*'min_child_weight'") as caught:
        Ranker(engine="xgboost", preset=None, n_estimators=2, min_child_samples=5).fit(d)
    assert caught[0].filename == __file__
    out = str(small.parent / "x.json")
    assert main(["train", str(small), "--engine", "xgboost", "--min-child-samples", "500", "--out", out,
                 "--quiet"]) == 0
    assert "ltr train: warning: --min-child-samples 500: XGBoost has no least number of rows per leaf, so it is not " \
           "used; its nearest is the least hessian sum per leaf, min_child_weight (--param min_child_weight=...)" in \
           capsys.readouterr().err
    from ltr.rankers.presets import preset_values

    assert "min_child_samples" not in preset_values("small", "xgboost")  # the preset set it, to no effect
    assert preset_values("small", "lightgbm")["min_child_samples"] == 100
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnusedParameterWarning)
        Ranker(engine="xgboost", n_estimators=2).fit(d)  # the default (and the small-data preset): no warning


def test_a_tune_space_of_min_child_samples_for_xgboost_is_refused_before_any_trial(tmp_path):
    from ltr.tuning.space import load_space

    with pytest.raises(ValueError, match="XGBoost has no least number of rows per leaf: search "
                                         r"\[engine_params.min_child_weight\]"):
        load_space({"min_child_samples": {"low": 5, "high": 200}}, Ranker(engine="xgboost"))
    load_space({"min_child_samples": {"low": 5, "high": 200}}, Ranker())  # LightGBM's min_data_in_leaf


@pytest.mark.shared
def test_linear_gains_for_xgboost_stop_early_where_xgboost_does(shared_file, capsys):
    """ndcg_exp_gain=false made XGBoost train (and measure its own ndcg@10) with linear gains while ltrkit stopped
    early on exp2 NDCG@10: 50 rounds kept where xgb.train keeps 53. Refused until the metrics' gain is given."""
    import xgboost as xgb

    train = read_letor(shared_file("mslr_sample/mslr_fold1_valid_sample.txt.gz"), n_features=136)
    valid = read_letor(shared_file("mslr_sample/mslr_fold1_test_sample.txt.gz"), n_features=136)
    assert (np.bincount(valid.qid.astype(np.int64) - valid.qid.min(), weights=valid.y > 0)[
        np.unique(valid.qid - valid.qid.min())] > 0).all()  # every query has a relevant document: the conventions agree
    kw = dict(engine="xgboost", preset=None, n_estimators=300, learning_rate=0.1, random_state=1, n_jobs=1,
              early_stopping_rounds=20, eval_at=(10,), engine_params={"ndcg_exp_gain": False})
    with pytest.raises(ParameterValueError, match=r"ndcg_exp_gain=False trains for linear gains.*eval_params="
                                                  r"\{'gain': 'linear'\}"):
        Ranker(**kw).fit(train, eval_set=[valid])
    model = Ranker(**kw, eval_params={"gain": "linear"}).fit(train, eval_set=[valid])

    def dmatrix(d):
        return xgb.DMatrix(d.X, d.y, group=np.diff(d.group_ptr))

    booster = xgb.train({"objective": "rank:ndcg", "eta": 0.1, "max_leaves": 31, "grow_policy": "lossguide",
                         "max_depth": 0, "reg_lambda": 0.0, "tree_method": "hist", "seed": 1, "nthread": 1,
                         "eval_metric": "ndcg@10", "ndcg_exp_gain": False}, dmatrix(train), 300,
                        evals=[(dmatrix(valid), "v")], early_stopping_rounds=20, verbose_eval=False)
    assert model.best_iteration_ == booster.best_iteration + 1


def test_one_engine_parameter_under_two_names_is_refused(small, capsys):
    """--param eta=0.2 --param learning_rate=0.3 trained with one of them, silently (as XGBoost does), while a flag
    beside its --param was refused."""
    d = make_ranking(20, 5, 4, random_state=0)
    with pytest.raises(ParameterValueError, match="eta and learning_rate are two names of xgboost's eta"):
        Ranker(engine="xgboost", engine_params={"eta": 0.2, "learning_rate": 0.3}).fit(d)
    with pytest.raises(ParameterValueError, match="min_data and min_data_in_leaf are two names of lightgbm's "
                                                  "min_data_in_leaf"):
        Ranker(engine_params={"min_data": 5, "min_data_in_leaf": 6}).fit(d)
    assert main(["train", str(small), "--engine", "xgboost", "--param", "lambda=2", "--param", "reg_lambda=5",
                 "--out", str(small.parent / "x.json")]) == 2
    assert "--param lambda=2 --param reg_lambda=5: lambda and reg_lambda are two names" in capsys.readouterr().err


def test_xgboosts_exact_method_asks_for_a_depth_the_ranker_left_unlimited(small, capsys):
    assert main(["train", str(small), "--engine", "xgboost", "--param", "tree_method=exact", "--out",
                 str(small.parent / "x.json")]) == 2
    assert "--param tree_method=exact: XGBoost's exact method grows trees of a limited depth only: give --max-depth" \
        in capsys.readouterr().err


def test_missing_as_an_xgboost_parameter_says_where_missing_values_come_from(small, capsys):
    assert main(["train", str(small), "--engine", "xgboost", "--param", "missing=0", "--out",
                 str(small.parent / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "xgboost has no parameter 'missing'" in err and "(--nonfinite allow)" in err and "(--sparse)" in err
    assert "read_letor" not in err


def test_labels_beyond_xgboosts_exponential_gain_are_named_by_file_line_and_token(tmp_path):
    data = tmp_path / "big.txt"
    data.write_text("".join(f"{lab} qid:{q} 1:{q * 0.1 + lab * 0.01:.3f} 2:0.5\n" for q in range(1, 6)
                            for lab in (0, 1, 40, 2)))
    with pytest.raises(LabelRangeError, match=r"big.txt:3: XGBoost's rank:ndcg with exponential gains takes labels "
                                              r"up to 31, got label '40' \(5 such label\(s\) in all\)"):
        Ranker(engine="xgboost", preset=None, n_estimators=2, eval_at=(10,),
               eval_params={"max_grade": 40}).fit(read_letor(data))
