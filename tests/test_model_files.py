"""Saved models are protected end to end: sidecar edits, malformed model texts, plain engine files, kept rounds."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from ltr import ModelFormatError, make_ranking
from ltr.rankers import PlainModelWarning, Ranker, load_model


@pytest.fixture(scope="module")
def data():
    return make_ranking(80, (5, 20), 8, random_state=0), make_ranking(30, (5, 20), 8, random_state=1)


def _saved(tmp_path, data, **kw):
    train, valid = data
    params = dict(n_estimators=60, num_leaves=7, min_child_samples=5, n_jobs=1, random_state=0,
                  early_stopping_rounds=5)
    params.update(kw)
    model = Ranker(**params).fit(train, eval_set=[valid])
    path = tmp_path / "m.txt"
    model.save(path)
    return model, path


@pytest.mark.parametrize("edit", ["best_iteration", "normalizer", "feature_names"])
def test_an_edited_sidecar_is_refused(tmp_path, data, edit):
    model, path = _saved(tmp_path, data)
    meta_path = tmp_path / "m.txt.meta.json"
    meta = json.loads(meta_path.read_text())
    if edit == "best_iteration":
        meta["best_iteration"] = max(1, meta["best_iteration"] - 3)
    elif edit == "normalizer":
        meta["normalizer"] = {"type": "global", "method": "zscore", "offset": [5.0] * 8, "scale": [0.1] * 8,
                              "n_features_in": 8}
    else:
        meta["feature_names"] = [f"x{j}" for j in range(8)]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelFormatError, match="m.txt.meta.json: the sidecar does not match its checksum"):
        load_model(path)


def _recompute(tmp_path, text):
    """Write ``text`` as the model with a sidecar whose checksums are recomputed (a deliberate hand edit)."""
    from ltr.rankers.sidecar import checksum, text_sha256

    meta_path = tmp_path / "m.txt.meta.json"
    meta = json.loads(meta_path.read_text())
    meta["model_sha256"] = text_sha256(text)
    meta["checksum"] = checksum(meta, text)
    (tmp_path / "m.txt").write_text(text)
    meta_path.write_text(json.dumps(meta))


@pytest.mark.parametrize("mutation", [
    lambda t: t.replace("left_child=", "left_child=99 ", 1),
    lambda t: t.replace("threshold=", "threshold=nan ", 1),
    lambda t: t.replace("Tree=1", "Tree=7", 1),
    lambda t: t.replace("split_feature=", "split_feature=500 ", 1),
    lambda t: t[: t.index("Tree=2")] + t[t.index("end of trees"):],
])
def test_a_malformed_lightgbm_text_with_recomputed_checksums_is_an_error_not_a_crash(tmp_path, data, mutation):
    _, path = _saved(tmp_path, data)
    bad = mutation(path.read_text())
    _recompute(tmp_path, bad)
    # In a child process: before the structure check, LightGBM aborted the interpreter on such texts.
    code = ("import sys\nfrom ltr import load_model, ModelFormatError\n"
            f"try:\n    load_model({str(path)!r})\nexcept ModelFormatError as e:\n    print('refused:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"refused: {path}") and "tree" in out.stdout


@pytest.mark.parametrize("engine, name", [("lightgbm", "plain.txt"), ("xgboost", "plain.json")])
def test_a_plain_engine_model_loads_for_prediction_with_a_note(tmp_path, data, engine, name):
    train, valid = data
    model = Ranker(engine=engine, n_estimators=15, num_leaves=7, min_child_samples=5, n_jobs=1,
                   early_stopping_rounds=None).fit(train)
    path = tmp_path / name
    if engine == "lightgbm":
        model.booster_.save_model(str(path))
        expected = model.booster_.predict(valid.X, raw_score=True)
    else:
        import xgboost as xgb

        model.booster_.save_model(str(path))
        expected = model.booster_.predict(xgb.DMatrix(valid.X), output_margin=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_model(path)
    notes = [w for w in caught if issubclass(w.category, PlainModelWarning)]
    assert notes and "feature names and the conventions it was trained with are unknown" in str(notes[0].message)
    assert loaded.n_features_in_ == 8 and loaded.best_iteration_ == 15
    np.testing.assert_array_equal(loaded.predict(valid.X), np.asarray(expected, dtype=np.float64))


def test_a_file_that_is_no_model_is_named(tmp_path):
    (tmp_path / "x.txt").write_text("hello\n")
    with pytest.raises(ModelFormatError, match="neither a LightGBM model text nor an XGBoost JSON model"):
        load_model(tmp_path / "x.txt")
    with pytest.raises(ModelFormatError, match="is a folder"):
        load_model(tmp_path)


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_a_saved_model_keeps_only_the_rounds_it_uses(tmp_path, data, engine):
    model, path = _saved(tmp_path, data, engine=engine, n_estimators=200, early_stopping_rounds=3)
    assert model.best_iteration_ < 200
    text = path.read_text()
    if engine == "lightgbm":
        n_trees = text.count("\nTree=")
    else:
        n_trees = len(json.loads(text)["learner"]["gradient_booster"]["model"]["trees"])
    assert n_trees == model.best_iteration_
    loaded = load_model(path)
    _, valid = data
    np.testing.assert_array_equal(loaded.predict(valid), model.predict(valid))


def test_an_xgboost_ubjson_model_loads_and_a_ubj_output_name_is_refused(tmp_path, capsys):
    """XGBoost's save_model writes binary UBJSON for any name but .json: such a model loads (converted by XGBoost
    to its JSON) and predicts as XGBoost does; ltr train refuses to write its JSON text under a .ubj name, which
    XGBoost itself would then fail to read."""
    import xgboost as xgb

    from ltr.cli import main
    from ltr.rankers import PlainModelWarning, load_model

    rng = np.random.default_rng(0)
    X = rng.random((40, 5)).astype(np.float32)
    d = xgb.DMatrix(X, label=rng.integers(0, 3, 40))
    d.set_group([10] * 4)
    booster = xgb.train({"objective": "rank:ndcg"}, d, 5)
    booster.save_model(tmp_path / "m.ubj")
    with pytest.warns(PlainModelWarning):
        got = load_model(tmp_path / "m.ubj").predict(X)
    assert np.array_equal(got, booster.predict(xgb.DMatrix(X), output_margin=True))
    assert main(["train", str(tmp_path / "nothing.txt"), "--engine", "xgboost", "--out", str(tmp_path / "x.ubj")]) == 2
    assert "name it .json" in capsys.readouterr().err


def test_a_model_saved_through_a_symlink_keeps_its_sidecar_beside_the_model(tmp_path, data):
    # current.txt -> models/v1.txt: the sidecar belongs to the model, wherever the link points later
    model, _ = _saved(tmp_path, data, normalize="zscore")
    (tmp_path / "models").mkdir()
    link = tmp_path / "current.txt"
    link.symlink_to("models/v1.txt")
    model.save(link)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["v1.txt", "v1.txt.meta.json"]
    assert not (tmp_path / "current.txt.meta.json").exists() and link.is_symlink()
    X = np.asarray(data[1].X)
    for path in (link, tmp_path / "models" / "v1.txt"):  # the same model, normaliser included, either way
        with warnings.catch_warnings():
            warnings.simplefilter("error", PlainModelWarning)
            np.testing.assert_array_equal(load_model(path).predict(data[1]), model.predict(data[1]))
    other, _ = _saved(tmp_path / "models", data)  # models/m.txt, with its own sidecar
    link.unlink()
    link.symlink_to("models/m.txt")
    np.testing.assert_array_equal(load_model(link).predict(X), other.predict(X))


def test_a_model_output_that_is_not_a_regular_file_is_refused_before_training(tmp_path, capsys):
    from ltr.cli import main
    from ltr.io import write_letor

    write_letor(tmp_path / "d.txt", make_ranking(20, 5, 3, random_state=0))
    assert main(["train", str(tmp_path / "d.txt"), "--rounds", "2", "--out", "/dev/null"]) == 2
    assert "--out /dev/null: a model is two files" in capsys.readouterr().err
    # standard output by its path, redirected to a file (a trial, t45: it trained, then failed with exit 1)
    with open(tmp_path / "stdout.txt", "w") as out:
        done = subprocess.run([sys.executable, "-m", "ltr.cli", "train", str(tmp_path / "d.txt"), "--rounds", "2",
                               "--out", "/dev/stdout"], stdout=out, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 2 and "--out /dev/stdout: a model is two files" in done.stderr
    assert "trained" not in done.stderr and (tmp_path / "stdout.txt").read_text() == ""
    (tmp_path / "m.txt.meta.json").mkdir()  # the sidecar's place is checked before the work, as the model's
    assert main(["train", str(tmp_path / "d.txt"), "--rounds", "2", "--out", str(tmp_path / "m.txt")]) == 1
    assert "m.txt.meta.json: is a folder" in capsys.readouterr().err and not (tmp_path / "m.txt").exists()


def test_a_model_saved_through_a_symlink_before_sidecars_followed_links_loads_with_its_own_sidecar(tmp_path, data,
                                                                                                   capsys):
    # the old layout: models/v3.txt (the text) and cur/current.txt.meta.json (its sidecar beside the link); the
    # target may also hold a stale sidecar of an earlier model trained to it directly
    import shutil

    from ltr.cli import main
    from ltr.io import write_letor
    from ltr.rankers.sidecar import find_meta_path

    (tmp_path / "models").mkdir()
    (tmp_path / "cur").mkdir()
    earlier, _ = _saved(tmp_path / "models", data, normalize="zscore")  # models/m.txt + its sidecar
    shutil.move(tmp_path / "models" / "m.txt", tmp_path / "models" / "v3.txt")
    shutil.move(tmp_path / "models" / "m.txt.meta.json", tmp_path / "models" / "v3.txt.meta.json")
    later, saved = _saved(tmp_path, data, normalize="minmax", n_estimators=40)  # ./m.txt + sidecar
    shutil.copy(saved, tmp_path / "models" / "v3.txt")  # retrained through the link by the old code:
    shutil.move(tmp_path / "m.txt.meta.json", tmp_path / "cur" / "current.txt.meta.json")  # sidecar beside it
    link = tmp_path / "cur" / "current.txt"
    link.symlink_to("../models/v3.txt")
    assert find_meta_path(link) == tmp_path / "cur" / "current.txt.meta.json"  # the one that matches the text
    test = data[1]
    np.testing.assert_array_equal(load_model(link).predict(test), later.predict(test))  # the later model's
    (tmp_path / "models" / "v3.txt.meta.json").unlink()  # no stale one: the link's is read as well
    np.testing.assert_array_equal(load_model(link).predict(test), later.predict(test))
    # the sidecar a model is read with is an input: ltr predict may not write over it through the link
    write_letor(tmp_path / "test.txt", data[1])
    side = tmp_path / "cur" / "current.txt.meta.json"
    before = side.read_text()
    assert main(["predict", str(link), str(tmp_path / "test.txt"), "--out", str(side)]) == 2
    assert "is also an input" in capsys.readouterr().err and side.read_text() == before
    assert earlier.n_estimators != later.n_estimators or earlier.normalize != later.normalize


@pytest.mark.shared
@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_a_plain_model_the_engine_trained_on_its_own_reading_of_an_svmlight_file_scores_as_the_engine_does(
        shared_file, tmp_path, capsys, engine):
    """LightGBM's and XGBoost's text readers put id j in column j (column 0 empty; XGBoost: absent ids missing): a
    model they trained on LightGBM's own example files is scored as they score the file, not one column off."""
    import gzip
    import shutil

    from ltr.cli import main
    from ltr.io import read_letor

    for split in ("train", "test"):
        with gzip.open(shared_file(f"lightgbm_lambdarank/rank.{split}.gz")) as src, \
                open(tmp_path / f"rank.{split}", "wb") as dst:
            shutil.copyfileobj(src, dst)
        shutil.copy(shared_file(f"lightgbm_lambdarank/rank.{split}.query"), tmp_path / f"rank.{split}.query")
    train, test = str(tmp_path / "rank.train"), str(tmp_path / "rank.test")
    if engine == "lightgbm":
        import lightgbm as lgb

        booster = lgb.train({"objective": "lambdarank", "verbose": -1, "min_data_in_leaf": 50},
                            lgb.Dataset(train, params={"verbose": -1}), 20)
        model = tmp_path / "model.txt"
        booster.save_model(str(model))
        expected = booster.predict(test)
    else:
        import xgboost as xgb

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # XGBoost 3.1 deprecates its text input, still its reader
            dtrain, dtest = xgb.DMatrix(f"{train}?format=libsvm"), xgb.DMatrix(f"{test}?format=libsvm")
        dtrain.set_group(np.loadtxt(f"{train}.query", dtype=int))
        booster = xgb.train({"objective": "rank:ndcg"}, dtrain, 10)
        model = tmp_path / "model.json"
        booster.save_model(str(model))
        expected = booster.predict(dtest)
    # the Python packages record no more than that no split reads column 0 (as a model trained on arrays that never
    # used feature 1 shows too): the reading is asked for, naming both
    reader = ("XGBoost's own svmlight reader (id j as column j, absent ids missing), pass --zero-based --sparse"
              if engine == "xgboost" else "LightGBM's own svmlight reader (id j as column j), pass --zero-based")
    assert main(["predict", str(model), test, "--out", str(tmp_path / "s.txt")]) == 1
    assert (f"has 301 columns, none of its splits reads column 0, and {test} lists feature ids up to 300: read by "
            f"{reader}; trained on arrays with id j as column j - 1 (ltr's, scikit-learn's readers), pass "
            "--n-features 301") in capsys.readouterr().err
    assert main(["predict", str(model), test, "--out", str(tmp_path / "s.txt"), "--zero-based"]) == 0
    capsys.readouterr()
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "s.txt"), expected.astype(np.float64))
    if engine == "lightgbm":  # LightGBM's program names the file its reader read ([data: ...]): read its way, said
        cli = tmp_path / "cli.txt"
        cli.write_text(model.read_text().replace("[data: ]", f"[data: {train}]"))
        assert main(["predict", str(cli), test, "--out", str(tmp_path / "s.txt")]) == 0
        assert f"and names its training file ({train}): LightGBM's program read it" in capsys.readouterr().err
        np.testing.assert_array_equal(np.loadtxt(tmp_path / "s.txt"), expected.astype(np.float64))
        # ltr info says which: read so, or asked (review 2: it said "ltr predict reads such data so" of both)
        assert main(["info", str(cli)]) == 0
        assert f"(ltr predict reads such data so: the model names its training file, {train})" in " ".join(
            "".join(capsys.readouterr()).split())
        assert main(["info", str(model)]) == 0
        assert "(ltr predict asks which reading a file takes where it cannot tell: --zero-based or --n-features)" in \
            " ".join("".join(capsys.readouterr()).split())
    # a file without the highest ids (svmlight leaves absent ids out) is read the engine's way too, as is one read
    # with --zero-based
    import re

    narrow = tmp_path / "narrow.test"
    narrow.write_text(re.sub(r" (299|300):\S+", "", (tmp_path / "rank.test").read_text()))
    shutil.copy(tmp_path / "rank.test.query", tmp_path / "narrow.test.query")
    if engine == "lightgbm":
        narrow_expected = booster.predict(str(narrow), predict_disable_shape_check=True)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            narrow_expected = booster.predict(xgb.DMatrix(f"{narrow}?format=libsvm"))
    for extra in ([], ["--zero-based"]) if engine == "lightgbm" else (["--zero-based"],):
        named = tmp_path / "cli.txt" if engine == "lightgbm" and not extra else model
        assert main(["predict", str(named), str(narrow), "--out", str(tmp_path / "n.txt"), "--quiet", *extra]) == 0
        np.testing.assert_array_equal(np.loadtxt(tmp_path / "n.txt"), narrow_expected.astype(np.float64))
    # Python: the data read as the engine reads it scores the same; read 1-based, the error says how
    with pytest.warns(PlainModelWarning):
        loaded = load_model(model)
    np.testing.assert_array_equal(loaded.predict(read_letor(test, zero_based=True, sparse=engine == "xgboost")),
                                  expected)
    with pytest.raises(ValueError, match="read_letor\\(..., zero_based=True.*; trained on arrays whose feature 1 it "
                                         "never used \\(id j as column j - 1\\), with read_letor\\(..., "
                                         "n_features=301\\)"):
        loaded.predict(read_letor(test))


@pytest.mark.parametrize("engine", ["xgboost", "lightgbm"])
def test_a_plain_model_of_arrays_that_never_used_feature_1_is_not_scored_one_column_off(tmp_path, capsys, engine):
    """A model trained on arrays (id j as column j - 1) whose splits never read column 0 (LightGBM: column 0 held one
    value) looks like one its engine's own svmlight reader trained; a file without its highest id fits both
    readings: asked, not guessed (every score was one column off, exit 0)."""
    import lightgbm as lgb
    import xgboost as xgb

    from ltr.cli import main

    rng = np.random.default_rng(0)
    X = rng.random((60, 5)).astype(np.float32)
    X[:, 0] = 0.0  # constant: no split can read it
    y, qid = rng.integers(0, 3, 60), np.repeat(np.arange(6), 10)
    model = tmp_path / ("m.json" if engine == "xgboost" else "m.txt")
    if engine == "xgboost":
        booster = xgb.train({"objective": "rank:ndcg", "nthread": 1}, xgb.DMatrix(X, y, qid=qid), 5)
    else:
        booster = lgb.train({"objective": "lambdarank", "verbose": -1, "min_data_in_leaf": 3, "num_threads": 1},
                            lgb.Dataset(X, y, group=np.full(6, 10)), 5)
    booster.save_model(str(model))
    batch = X[:10].copy()
    batch[:, 4] = 0.0  # the batch's highest feature is 0: svmlight writers leave id 5 out
    data = tmp_path / "batch.txt"
    data.write_text("".join("0 qid:1 " + " ".join(f"{j + 1}:{v:.9g}" for j, v in enumerate(row[:4])) + "\n"
                            for row in batch))
    assert main(["predict", str(model), str(data), "--out", str(tmp_path / "s.txt")]) == 1
    assert "pass --zero-based" in capsys.readouterr().err
    assert not (tmp_path / "s.txt").exists()
    assert main(["predict", str(model), str(data), "--n-features", "5", "--out", str(tmp_path / "s.txt")]) == 0
    expected = (booster.inplace_predict(batch, predict_type="margin") if engine == "xgboost" else
                booster.predict(batch.astype(np.float64), raw_score=True))
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "s.txt"), expected.astype(np.float64))


def test_a_plain_lightgbm_model_with_a_cut_or_edited_parameters_block_is_an_error_not_a_crash(tmp_path, data):
    """LightGBM's own loader kills the process (SIGSEGV) on these; they are refused before it sees them."""
    import lightgbm as lgb

    train, _ = data
    booster = lgb.train({"objective": "lambdarank", "verbose": -1, "min_data_in_leaf": 5},
                        lgb.Dataset(train.X, train.y, group=train.group_sizes), 3)
    text = booster.model_to_string()
    start, end = text.index("parameters:"), text.index("end of parameters")
    cut, edited = tmp_path / "cut.txt", tmp_path / "edited.txt"
    cut.write_text(text[:(start + end) // 2])
    edited.write_text(text.replace("[objective: lambdarank]", "objective=lambdarank", 1))
    with pytest.raises(ModelFormatError, match=r"edited.txt:\d+: expected a '\[name: value\]' parameter line or "
                                               r"'end of parameters' \(token 'objective=lambdarank'\)"):
        load_model(edited)
    with pytest.raises(ModelFormatError, match=r"cut.txt:\d+: the text ends inside a parameter line, .*: it is "
                                               r"truncated|cut.txt: the text ends inside the parameters block"):
        load_model(cut)
    good = tmp_path / "good.txt"
    good.write_text(text)
    with pytest.warns(PlainModelWarning):
        assert load_model(good).predict(train.X[:5]).shape == (5,)


def test_a_plain_xgboost_model_trained_with_feature_names_scores_by_position(tmp_path, data):
    import xgboost as xgb

    train, valid = data
    names = [f"feat_{i}" for i in range(train.n_features)]
    dtrain = xgb.DMatrix(train.X, train.y, qid=train.qid, feature_names=names)
    booster = xgb.train({"objective": "rank:ndcg"}, dtrain, 5)
    path = tmp_path / "named.json"
    booster.save_model(str(path))
    with pytest.warns(PlainModelWarning) as caught:
        model = load_model(path)
    assert "but the conventions it was trained with are unknown" in str(caught[0].message)  # its names are known
    want = booster.predict(xgb.DMatrix(valid.X, feature_names=names), output_margin=True)
    np.testing.assert_array_equal(model.predict(valid.X), want.astype(np.float64))


@pytest.mark.parametrize("names", [["f2", "f1", "f0", "a", "b", "c", "d", "e"],  # names that look like positions
                                   [f"f{i + 1}" for i in range(8)],  # LETOR's ids counted from 1
                                   None])  # no names: XGBoost's own 'f<position>'
def test_a_plain_xgboost_models_importances_go_to_the_columns_xgboost_names(tmp_path, data, names):
    import xgboost as xgb

    train, _ = data
    booster = xgb.train({"objective": "rank:ndcg", "nthread": 1}, xgb.DMatrix(train.X, train.y, qid=train.qid,
                                                                             feature_names=names), 8)
    booster.save_model(str(tmp_path / "m.json"))
    with pytest.warns(PlainModelWarning):
        model = load_model(tmp_path / "m.json")
    for kind, xgb_kind in (("gain", "total_gain"), ("split", "weight")):
        by_name = booster.get_score(importance_type=xgb_kind)
        keys = names or [f"f{i}" for i in range(train.n_features)]
        want = np.array([by_name.get(k, 0.0) for k in keys])
        assert want.sum() > 0
        np.testing.assert_allclose(model.feature_importance(kind), want, rtol=1e-12)


def test_an_engines_refusal_of_a_model_is_one_line_without_its_stack_trace(tmp_path, data):
    import xgboost as xgb

    train, _ = data
    booster = xgb.train({"objective": "rank:ndcg"}, xgb.DMatrix(train.X, train.y, qid=train.qid), 2)
    model = json.loads(booster.save_raw("json").decode())
    model["learner"]["gradient_booster"]["model"].pop("iteration_indptr")
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
        tree.pop("categories_nodes")  # XGBoost's own loader refuses it: "Invalid cast, from Null to Array"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(model))
    with pytest.raises(ModelFormatError) as info:
        load_model(path)
    message = str(info.value)
    assert message.startswith(f"{path}: the xgboost engine could not load the model (")
    assert "\n" not in message and "Stack trace" not in message and "[bt]" not in message and ".h:" not in message


def test_the_note_on_a_plain_model_says_what_differs_from_the_engines_predict(tmp_path):
    import xgboost as xgb

    rng = np.random.default_rng(0)
    X = rng.random((200, 4))
    y = (X[:, 0] > 0.5).astype(int)
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X[:150], label=y[:150]), 60,
                        evals=[(xgb.DMatrix(X[150:], label=y[150:]), "v")], early_stopping_rounds=2,
                        verbose_eval=False)
    assert booster.best_iteration + 1 < booster.num_boosted_rounds()
    booster.save_model(str(tmp_path / "es.json"))
    with pytest.warns(PlainModelWarning) as caught:
        model = load_model(tmp_path / "es.json")
    note = str(caught[0].message)
    assert f"its best_iteration {booster.best_iteration} (early stopping) is not used" in note
    assert "its scores are margins (raw scores): the engine's predict applies binary:logistic's sigmoid" in note
    np.testing.assert_allclose(model.predict(X[:5]), booster.predict(xgb.DMatrix(X[:5]), output_margin=True),
                               rtol=1e-6)


def test_a_saved_model_keeps_what_the_small_data_preset_set(tmp_path, data):
    train, _ = data
    model = Ranker(preset="small", n_estimators=5, min_child_samples=3).fit(train)
    assert model.preset_params_["learning_rate"] == 0.02 and "min_child_samples" not in model.preset_params_
    model.save(tmp_path / "m.txt")
    loaded = load_model(tmp_path / "m.txt")
    assert loaded.preset_params_ == model.preset_params_
    assert loaded.get_params()["learning_rate"] == model.get_params()["learning_rate"]  # as given, not as trained
    plain = Ranker(preset="none", n_estimators=3, min_child_samples=3).fit(train)
    plain.save(tmp_path / "p.txt")
    assert load_model(tmp_path / "p.txt").preset_params_ == {}


def test_a_narrow_file_padded_to_a_very_wide_model_is_refused_before_memory_runs_out(tmp_path):
    """A hashed-feature model of millions of columns scoring a LETOR file of 46: the padded dense matrix (21 GiB
    in the trial: a MemoryError traceback, or the OOM killer) is refused as the reader refuses such a file, naming
    --sparse; sparse data is padded as before."""
    import argparse

    import scipy.sparse as sp

    from ltr import make_ranking
    from ltr.cli.train import fit_columns

    args = argparse.Namespace(quiet=True)
    data = make_ranking(30, 10, 46, random_state=0)
    with pytest.raises(ValueError, match=r"test.txt lists feature ids up to 46, the model m.json has 2000000: its "
                                         r"rows as 2000000 columns would make a dense matrix of 2.2 GiB that is "
                                         r"mostly empty; pass --sparse \(XGBoost reads absent features of sparse "
                                         r"data as missing values, not 0\), or --n-features 2000000 for the dense "
                                         r"matrix"):
        fit_columns(args, data, 2_000_000, None, "test.txt", "the model m.json", wider="")
    from dataclasses import replace

    wide = fit_columns(args, replace(data, X=sp.csr_matrix(data.X)), 2_000_000, None, "test.txt", "the model m.json",
                       wider="")
    assert wide.X.shape == (300, 2_000_000) and sp.issparse(wide.X)
    assert fit_columns(args, data, 50, None, "test.txt", "the model m.json", wider="").X.shape == (300, 50)


@pytest.mark.parametrize("objective, said", [
    ("binary:logitraw", None),  # its predict is the margin: nothing to say (it said a sigmoid: trial t48/trees)
    ("count:poisson", "the engine's predict applies count:poisson's exp, which keeps the order"),
    ("reg:tweedie", "the engine's predict applies reg:tweedie's exp, which keeps the order"),
    ("survival:cox", "the engine's predict applies survival:cox's exp, which keeps the order"),  # (review of t48)
])
def test_the_note_names_the_transform_the_engines_predict_applies(tmp_path, objective, said):
    import warnings

    import xgboost as xgb

    rng = np.random.default_rng(0)
    X = rng.random((100, 3))
    y = (X[:, 0] > 0.5).astype(float) if objective.startswith("binary") else (X[:, 0] * 3).round() + 1
    booster = xgb.train({"objective": objective, "nthread": 1}, xgb.DMatrix(X, label=y), 3)
    booster.save_model(str(tmp_path / "m.json"))
    margins = booster.predict(xgb.DMatrix(X[:5]), output_margin=True)
    assert np.array_equal(booster.predict(xgb.DMatrix(X[:5])), margins) == (said is None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load_model(tmp_path / "m.json")
    notes = " ".join(str(w.message) for w in caught if issubclass(w.category, PlainModelWarning))
    assert ("its scores are margins" in notes) == (said is not None)
    assert said is None or said in notes
    np.testing.assert_allclose(model.predict(X[:5]), margins, rtol=1e-6)
