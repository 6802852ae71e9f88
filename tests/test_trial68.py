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
