"""Feature subsets on the command line (RankLib's -feature): ``--features`` / ``--drop-features`` in ltr train, ltr
cv and ltr tune, one definition and one code path; a model trained on a subset scores full-width files."""

import json
from dataclasses import replace

import numpy as np
import pytest

from ltr.cli import main
from ltr.evaluation import read_feature_file
from ltr.io import read_letor, write_letor

FAST = ["--rounds", "8", "--seed", "1", "--preset", "none", "--min-child-samples", "20", "--leaves", "7",
        "--quiet"]
IDS = [1, 3, 23, 25, 39]


@pytest.fixture(scope="module")
def mq(shared_file, tmp_path_factory):
    """MQ2008 Fold1 vali (train) and test, plain, and the same files holding only the columns IDS."""
    folder = tmp_path_factory.mktemp("subsets")
    paths = {}
    for name, rel in (("train", "mq2008/Fold1/vali.txt.gz"), ("test", "mq2008/Fold1/test.txt.gz")):
        d = read_letor(shared_file(rel))
        paths[name] = folder / f"{name}.txt"
        write_letor(paths[name], d)
        narrow = replace(d, X=np.asarray(d.X)[:, np.asarray(IDS) - 1], feature_names=None)
        paths[f"{name}_narrow"] = folder / f"{name}_narrow.txt"
        write_letor(paths[f"{name}_narrow"], narrow)
    feats = folder / "feats.txt"  # RankLib's FeatureManager format: ID<TAB>description, '#' comments, blank lines
    feats.write_text("# a RankLib feature file\n1\tTF of body\n3\n\n23\tBM25 of whole document\n25 # LMIR\n39\n")
    paths["feats"] = feats
    return paths


def _scores(path):
    return np.loadtxt(path, dtype=np.float64)


def test_ranklib_feature_files_with_tab_descriptions_read_the_first_field(mq):
    assert read_feature_file(mq["feats"]) == IDS


def test_train_on_a_subset_then_predict_on_the_full_file_equals_the_narrow_files(mq, tmp_path, capsys):
    sub, narrow = tmp_path / "sub.txt", tmp_path / "narrow.txt"
    assert main(["train", str(mq["train"]), "--features", str(mq["feats"]), "--out", str(sub), *FAST]) == 0
    assert main(["train", str(mq["train_narrow"]), "--out", str(narrow), *FAST]) == 0
    meta = json.loads((tmp_path / "sub.txt.meta.json").read_text())
    assert meta["n_features"] == 5 and meta["read_options"]["features"] == {"ids": IDS, "n_features": 46}
    for model, data, out in ((sub, mq["test"], "a.scores"), (narrow, mq["test_narrow"], "b.scores")):
        assert main(["predict", str(model), str(data), "--out", str(tmp_path / out), "--quiet"]) == 0
    a, b = _scores(tmp_path / "a.scores"), _scores(tmp_path / "b.scores")
    assert a.shape == (read_letor(mq["test"]).n_rows,)
    np.testing.assert_array_equal(a, b)  # the same trees on the same values: bit for bit
    # and --valid/--test are cut to the same columns: the printed test metrics are those of the narrow model
    capsys.readouterr()
    res_sub = _json(capsys, ["train", str(mq["train"]), "--features", "1,3,23,25,39", "--test", str(mq["test"]),
                             *FAST, "--format", "json"])
    res_nar = _json(capsys, ["train", str(mq["train_narrow"]), "--test", str(mq["test_narrow"]), *FAST,
                             "--format", "json"])
    assert res_sub["test"] == res_nar["test"]


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_drop_features_and_minus_entries_train_on_the_complement(mq, tmp_path, capsys):
    others = ",".join(str(j) for j in range(1, 47) if j not in (23, 25))
    runs = {"drop": ["--drop-features", "23,25"], "minus": ["--features=-23,-25"], "listed": ["--features", others]}
    for name, flags in runs.items():
        assert main(["train", str(mq["train"]), *flags, "--out", str(tmp_path / f"{name}.txt"), *FAST]) == 0
        assert main(["predict", str(tmp_path / f"{name}.txt"), str(mq["test"]), "--out",
                     str(tmp_path / f"{name}.scores"), "--quiet"]) == 0
        meta = json.loads((tmp_path / f"{name}.txt.meta.json").read_text())
        assert meta["read_options"]["features"]["ids"] == [j for j in range(1, 47) if j not in (23, 25)]
    np.testing.assert_array_equal(_scores(tmp_path / "drop.scores"), _scores(tmp_path / "minus.scores"))
    np.testing.assert_array_equal(_scores(tmp_path / "drop.scores"), _scores(tmp_path / "listed.scores"))


def test_subset_errors_are_one_line_naming_the_option(mq, capsys):
    cases = [(["--features", "1,3", "--drop-features", "5"], "feature id 5 is dropped but not among the features kept"),
             (["--features", "1", "--drop-features", "1"], "every feature is dropped"),
             (["--features", "47"], "feature id 47 is outside 1..46")]
    for flags, message in cases:
        assert main(["train", str(mq["train"]), *flags, *FAST]) == 2
        err = capsys.readouterr().err
        assert message in err and "--features" in err and err.count("\n") == 1


def test_cv_and_tune_take_the_same_options_and_record_the_ids(mq, tmp_path, capsys):
    tab = tmp_path / "f.txt"
    tab.write_text("23\tBM25\n39\tLMIR.JM\n")  # refused before: "one integer feature id per line (token '23\tBM25')"
    assert main(["cv", str(mq["train"]), "--folds", "2", "--features", str(tab), "--out", str(tmp_path / "cv.json"),
                 *FAST]) == 0
    assert json.loads((tmp_path / "cv.json").read_text())["settings"]["features"] == [23, 39]
    assert main(["tune", str(mq["train"]), "--drop-features", "23,25", "--trials", "1", "--outer-folds", "2",
                 "--inner-folds", "2", "--out", str(tmp_path / "tune.json"), *FAST]) == 0
    tuned = json.loads((tmp_path / "tune.json").read_text())
    assert tuned["settings"]["features"] == [j for j in range(1, 47) if j not in (23, 25)]
    capsys.readouterr()
    for command in ("train", "cv", "tune"):
        assert main([command, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        assert "--features FILE|IDS" in text and "--drop-features FILE|IDS" in text and "ID<TAB>description" in text


def test_a_cv_fold_model_of_a_subset_records_it_and_predicts_full_width_files(tmp_path, capsys):
    from ltr import load_model, make_ranking
    from ltr.evaluation.selection import take_columns
    from ltr.io import read_scores

    data = make_ranking(30, (4, 8), 8, random_state=0)
    write_letor(tmp_path / "d.txt", data)
    assert main(["cv", str(tmp_path / "d.txt"), "--folds", "2", "--rounds", "3", "--preset", "none", "--quiet",
                 "--features", "7,2", "--save-dir", str(tmp_path / "folds")]) == 0
    model = tmp_path / "folds" / "Fold1" / "model.txt"
    assert main(["predict", str(model), str(tmp_path / "d.txt"), "--out", str(tmp_path / "s")]) == 0
    assert "trained on 2 of 8 features" in capsys.readouterr().err
    narrow = take_columns(read_letor(tmp_path / "d.txt"), np.array([6, 1]))
    expected = load_model(model).predict(narrow)
    np.testing.assert_array_equal(read_scores(tmp_path / "s"), expected)


def test_a_subset_model_given_to_a_reranker_is_named_as_one_not_as_a_model_without_features(tmp_path):
    from features.serve import MissingFeatureSetError, Reranker
    from ltr import make_ranking
    from ltr._shared import tiny_ranker

    model = tiny_ranker().fit(make_ranking(20, 5, 2, random_state=0))
    model.read_options_ = {"features": {"ids": [3, 1], "n_features": 5}}  # as ltr train --features records it
    model.save(tmp_path / "m.txt")
    with pytest.raises(MissingFeatureSetError, match=r"m\.txt was trained on a subset of its data's columns \(ltr "
                                                     r"train --features: ids 3,1\): a reranker computes a whole"):
        Reranker.load(tmp_path / "m.txt", collection={"d1": "text"})
