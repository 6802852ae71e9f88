"""Trial t68's findings: ``ltr train`` reported test metrics of data the model was fitted or chosen on without a
word (``--test TRAIN``, and ``--valid`` and ``--test`` one file under early stopping); ``Ranker.stopped_on_`` says
which set early stopping watched."""

from __future__ import annotations

import pytest

from ltr import Ranker, make_ranking
from ltr.cli import main
from ltr.io import write_letor


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    f = tmp_path_factory.mktemp("trial68")
    for name, seed in (("train", 0), ("valid", 1), ("test", 2)):
        write_letor(f / f"{name}.txt", make_ranking(30, 12, 5, random_state=seed))
    return f


def _train(files, capsys, *extra):
    code = main(["train", str(files / "train.txt"), *[str(a) for a in extra], "--n-jobs", "1", "--rounds", "20",
                 "--quiet"])
    assert code == 0
    return capsys.readouterr().err


def test_valid_and_test_one_file_under_early_stopping_is_warned_of(files, capsys):
    said = (f"ltr train: warning: --valid and --test are one file ({files / 'test.txt'}): early stopping chose the "
            "round on the queries the test metrics are taken on, so they read higher than on queries the model "
            "never met; give --valid another file (or --early-stopping 0 to train every round)\n")
    err = _train(files, capsys, "--valid", files / "test.txt", "--test", files / "test.txt", "--preset", "none",
                 "--early-stopping", "5")
    assert said in err
    # another validation file, or no early stopping (the small-data preset's fixed rounds; --early-stopping 0):
    # the test file's metrics are of queries nothing was chosen on
    for extra in (["--valid", files / "valid.txt", "--preset", "none"],
                  ["--valid", files / "test.txt"],
                  ["--valid", files / "test.txt", "--preset", "none", "--early-stopping", "0"]):
        assert "warning: --valid and --test" not in _train(files, capsys, *extra, "--test", files / "test.txt")


def test_test_being_train_itself_is_warned_of(files, capsys):
    err = _train(files, capsys, "--test", files / "train.txt")
    assert (f"ltr train: warning: --test is TRAIN itself ({files / 'train.txt'}): its metrics are the training "
            "data's, higher than on queries the model never met\n") in err
    assert "--test is TRAIN" not in _train(files, capsys, "--test", files / "test.txt")


def test_stopped_on_names_the_set_early_stopping_watched():
    train, valid = make_ranking(30, 12, 5, random_state=0), make_ranking(20, 12, 5, random_state=1)
    fast = dict(n_estimators=10, preset=None, n_jobs=1, min_child_samples=2)
    assert Ranker(**fast, early_stopping_rounds=3).fit(train, eval_set=[valid]).stopped_on_ == "valid_0"
    assert Ranker(**fast, early_stopping_rounds=3).fit(train, eval_set=[valid],
                                                       eval_names=["dev"]).stopped_on_ == "dev"
    assert Ranker(**fast).fit(train).stopped_on_ is None
    assert Ranker(**fast, early_stopping_rounds=None).fit(train, eval_set=[valid]).stopped_on_ is None
    assert Ranker(engine="linear", n_jobs=1).fit(train, eval_set=[valid]).stopped_on_ is None


DOCS = {f"d{i}": text for i, text in enumerate([
    "flutter of a swept wing at supersonic speed", "heat transfer in slabs and plates", "wing flutter and divergence",
    "boundary layer heat transfer on a flat plate", "supersonic flow over a wing and the shock",
    "slabs of concrete under heat", "divergence of a swept wing in flutter tests",
    "plates and shells under supersonic flow", "shock waves in a boundary layer", "the heat of a swept plate"])}
QUERIES = {"q1": "wing flutter", "q2": "heat transfer plates", "q3": "supersonic wing", "q4": "boundary layer shock"}
QRELS = "q1 0 d2 2\nq1 0 d6 1\nq2 0 d1 1\nq2 0 d3 2\nq3 0 d4 2\nq3 0 d0 1\nq4 0 d8 2\nq4 0 d3 1\n"


def test_compare_of_cv_results_on_ltr_features_candidates_says_what_cv_said(tmp_path, capsys):
    """ltr cv and ltr tune said that metrics on ltr features' candidates read higher than trec_eval's; ltr compare
    of their results printed the same NDCG@10 (0.4560 where the qrels give 0.4195) without that word (trial t68)."""
    (tmp_path / "docs.tsv").write_text("".join(f"{k}\t{v}\n" for k, v in DOCS.items()))
    (tmp_path / "q.tsv").write_text("".join(f"{k}\t{v}\n" for k, v in QUERIES.items()))
    (tmp_path / "qrels").write_text(QRELS)
    assert main([str(a) for a in ["features", "--collection", tmp_path / "docs.tsv", "--queries", tmp_path / "q.tsv",
                                  "--qrels", tmp_path / "qrels", "--topk", 5, "--out", tmp_path / "f.letor",
                                  "--quiet"]]) == 0
    cv = ["cv", tmp_path / "f.letor", "--folds", 2, "--rounds", 3, "--leaves", 3, "--min-child-samples", 1,
          "--preset", "none", "--n-jobs", 1]
    for name in ("a", "b"):
        assert main([str(a) for a in [*cv, "--name", name, "--out", tmp_path / f"{name}.json"]]) == 0
    capsys.readouterr()
    assert main([str(a) for a in ["compare", tmp_path / "a.json", tmp_path / "b.json"]]) == 0
    err = capsys.readouterr().err
    assert ("note: 'a', 'b': cross-validated on ltr features' candidates, so their metrics count only the relevant "
            "documents among them and read higher than trec_eval's over all the judgments; for those, compare the "
            "out-of-fold runs with --qrels Q (ltr cv --run-out R)\n") in err
    (tmp_path / "space.toml").write_text("[num_leaves]\nlow = 2\nhigh = 4\n")
    assert main([str(a) for a in ["tune", tmp_path / "f.letor", "--space", tmp_path / "space.toml", "--trials", 1,
                                  "--outer-folds", 2, "--inner-folds", 2, "--rounds", 3, "--min-child-samples", 1,
                                  "--n-jobs", 1, "--name", "t", "--quiet", "--out", tmp_path / "t.json"]]) == 0
    capsys.readouterr()
    assert main([str(a) for a in ["compare", tmp_path / "t.json", tmp_path / "a.json"]]) == 0
    assert "note: 't', 'a': cross-validated on ltr features' candidates" in capsys.readouterr().err
    write_letor(tmp_path / "plain.txt", make_ranking(8, 6, 3, random_state=0))  # no header: no such note
    for name in ("c", "d"):
        assert main([str(a) for a in [*cv[:1], tmp_path / "plain.txt", *cv[2:], "--name", name, "--out",
                                      tmp_path / f"{name}.json"]]) == 0
    capsys.readouterr()
    assert main([str(a) for a in ["compare", tmp_path / "c.json", tmp_path / "d.json"]]) == 0
    assert "ltr features' candidates" not in capsys.readouterr().err


def test_predict_of_a_drop_features_model_names_the_ids_left_out(files, capsys):
    """The note of ltr predict said '(ltr train --features)' of a --drop-features model and listed the first 20 of
    the 44 kept ids, never the two dropped (trial t68); a short --features subset is still listed as scored."""
    from ltr.evaluation.selection import subset_words

    model = files / "drop.txt"
    _train(files, capsys, "--drop-features", "2,4", "--out", model)
    assert main([str(a) for a in ["predict", model, files / "test.txt", "--out", files / "s.txt"]]) == 0
    assert ("note: the model was trained on 3 of 5 features (ltr train --features or --drop-features): DATA's ids "
            "2,4 are left out\n") in capsys.readouterr().err
    _train(files, capsys, "--features", "5,1", "--out", files / "keep.txt")
    assert main([str(a) for a in ["predict", files / "keep.txt", files / "test.txt", "--out", files / "s.txt"]]) == 0
    assert "DATA's ids 5,1 are scored\n" in capsys.readouterr().err
    assert subset_words(list(range(1, 31)), 136) == f"ids {','.join(map(str, range(1, 21)))},... are scored"
    assert subset_words(list(range(3, 137)), 136) == "ids 1,2 are left out"


def test_an_xgboost_split_at_minus_infinity_is_read_and_scored_as_xgboost_scores_it(tmp_path):
    """XGBoost's exact method writes split_conditions -inf where the midpoint of two values near float32's lowest
    overflows, and scores the model (every present value goes right, -inf too; a missing one its default way);
    ltr.trees refused it as malformed (trial t68)."""
    import json

    import numpy as np
    import xgboost as xgb

    import ltr.trees

    lowest = np.finfo(np.float32).max
    X = np.array([[-lowest], [-0.9 * lowest]] * 4, dtype=np.float32)
    exact = xgb.train({"tree_method": "exact", "max_depth": 1, "nthread": 1, "min_child_weight": 0},
                      xgb.DMatrix(X, np.array([0.0, 1.0] * 4)), 1)
    assert json.loads(exact.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"][0][
        "split_conditions"][0] == -np.inf
    exact.save_model(tmp_path / "exact.json")
    ltr.trees.load(tmp_path / "exact.json")  # refused before

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    y = X[:, 0] * 2 + X[:, 1]
    X[rng.random(X.shape) < 0.2] = np.nan
    booster = xgb.train({"max_depth": 3, "nthread": 1, "base_score": 0.25}, xgb.DMatrix(X, y), 4)
    doc = json.loads(booster.save_raw("json"))
    for t, tree in enumerate(doc["learner"]["gradient_booster"]["model"]["trees"]):
        inner = [k for k, c in enumerate(tree["left_children"]) if c != -1]
        k = inner[t % len(inner)]  # the root in tree 0, inner nodes in the others
        tree["split_conditions"][k] = -np.inf
        tree["default_left"][k] = t % 2  # missing values left in trees 1 and 3, right in 0 and 2
    (tmp_path / "m.json").write_text(json.dumps(doc))  # -Infinity, as XGBoost writes it
    engine = xgb.Booster(model_file=str(tmp_path / "m.json"))
    model = ltr.trees.load(tmp_path / "m.json")
    special = np.array([-np.inf, -lowest, -1.0, 0.0, 1.0, lowest, np.inf, np.nan], dtype=np.float32)
    Z = np.vstack([X[:40], np.array(np.meshgrid(special, special, special)).reshape(3, -1).T]).astype(np.float32)
    want = engine.inplace_predict(Z, predict_type="margin").astype(np.float64)
    assert np.array_equal(model.predict(Z), want)
    assert np.array_equal(model.predict(Z, method="reference"), want)
    for i in range(0, 8):  # one and two rows: walked down the trees
        assert np.array_equal(model.predict(Z[i:i + 1]), want[i:i + 1])
        assert np.array_equal(model.predict(Z[i:i + 2]), want[i:i + 2])
