"""``ltr info MODEL``: a model file (ltrkit's with its sidecar, a plain LightGBM text, an XGBoost JSON / UBJSON
model) is summarised with its feature importance, checked against the engines' own feature_importance."""

import json

import numpy as np
import pytest

from ltr._shared import import_reference
from ltr.cli import main
from ltr.io import read_letor, write_letor


@pytest.fixture(scope="module")
def mq(shared_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("info")
    train = folder / "train.txt"
    write_letor(train, read_letor(shared_file("mq2008/Fold1/vali.txt.gz")))
    return folder, train


def _group_sizes(d):
    return np.diff(np.asarray(d.group_ptr))


def _info(capsys, *argv):
    capsys.readouterr()
    assert main(["info", *map(str, argv), "--format", "json", "--top", "0"]) == 0
    return json.loads(capsys.readouterr().out)


def _by_id(info):
    return {r["id"]: r for r in info["importance"]}


def test_plain_lightgbm_model_importance_equals_lightgbm_feature_importance(mq, capsys):
    lgb = import_reference("lightgbm")
    folder, train = mq
    d = read_letor(train)
    booster = lgb.train({"objective": "lambdarank", "num_leaves": 15, "seed": 1, "deterministic": True,
                         "num_threads": 1, "verbose": -1}, lgb.Dataset(np.asarray(d.X), d.y, group=_group_sizes(d)),
                        num_boost_round=20)
    path = folder / "lgb_native.txt"
    booster.save_model(str(path))
    info = _info(capsys, path)
    assert info["kind"] == "model" and info["engine"] == "lightgbm" and info["ltrkit_sidecar"] is False
    assert info["engine_objective"] == "lambdarank" and info["rounds"] == 20 and info["trees"] == booster.num_trees()
    dumped = booster.dump_model()["tree_info"]
    assert info["leaves"] == sum(t["num_leaves"] for t in dumped)
    assert info["n_features"] == booster.num_feature() == 46
    gain, split = booster.feature_importance("gain"), booster.feature_importance("split")
    rows = _by_id(info)
    assert sorted(rows) == list(range(1, 47))  # LETOR ids: column j is id j + 1
    for j in range(46):
        assert rows[j + 1]["gain"] == pytest.approx(gain[j], rel=1e-12, abs=1e-12)
        assert rows[j + 1]["split"] == split[j]
    assert info["importance"][0]["id"] == int(np.argmax(gain)) + 1  # largest gain first
    assert info["features_used"] == int((split > 0).sum())


def test_ltrkit_model_shows_its_sidecar_and_lightgbm_agrees_on_the_rounds_kept(mq, tmp_path, capsys):
    lgb = import_reference("lightgbm")
    _, train = mq
    model = tmp_path / "m1.txt"
    assert main(["train", str(train), "--out", str(model), "--rounds", "15", "--seed", "1", "--normalize", "zscore",
                 "--quiet"]) == 0
    info = _info(capsys, model)
    assert info["ltrkit_sidecar"] is True and info["objective"] == "lambdarank" and info["rounds"] == 15
    assert info["normalizer"]["method"] == "zscore" and info["feature_set"] is False
    assert info["preset_params"]["num_leaves"] == 15  # the small-data preset: 157 training queries
    booster = lgb.Booster(model_file=str(model))
    gain, split = booster.feature_importance("gain"), booster.feature_importance("split")
    rows = _by_id(info)
    for j in range(46):
        assert rows[j + 1]["gain"] == pytest.approx(gain[j], rel=1e-12, abs=1e-12)
        assert rows[j + 1]["split"] == split[j]
    assert sum(r["gain_share"] for r in info["importance"]) == pytest.approx(1.0)
    # the table: a summary a LightGBM user reads, then the top N features
    capsys.readouterr()
    assert main(["info", str(model), "--top", "3"]) == 0
    out = capsys.readouterr().out
    for field in ("engine", "objective", "rounds kept", "trees / leaves", "normaliser", "preset params",
                  "feature importance: top 3 of 46"):
        assert field in out
    top = info["importance"][0]
    assert any(line.split()[:2] == [str(top["id"]), str(top["id"])] for line in out.splitlines())
    # CSV: the importance table alone on standard output
    assert main(["info", str(model), "--top", "4", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "id,feature,gain,gain_share,split" and len(lines) == 5


def test_xgboost_json_and_ubjson_models_give_xgboost_total_gain_and_weight(mq, capsys):
    xgb = import_reference("xgboost")
    folder, train = mq
    d = read_letor(train)
    dm = xgb.DMatrix(np.asarray(d.X), d.y)
    dm.set_group(_group_sizes(d))
    booster = xgb.train({"objective": "rank:ndcg", "max_depth": 3, "seed": 1, "nthread": 1}, dm, 10)
    gain, weight = booster.get_score(importance_type="total_gain"), booster.get_score(importance_type="weight")
    for name in ("x.json", "x.ubj"):  # XGBoost >= 2.1 writes UBJSON for any name but .json
        booster.save_model(str(folder / name))
        info = _info(capsys, folder / name)
        assert info["engine"] == "xgboost" and info["engine_objective"] == "rank:ndcg" and info["rounds"] == 10
        rows = _by_id(info)
        for j in range(46):
            assert rows[j + 1]["gain"] == pytest.approx(gain.get(f"f{j}", 0.0), rel=1e-9)
            assert rows[j + 1]["split"] == weight.get(f"f{j}", 0)
        assert main(["info", str(folder / name)]) == 0  # the table's footer names XGBoost's own (trial t48/trees)
        out = capsys.readouterr().out
        assert "as XGBoost's get_score('total_gain')); split: number of splits (get_score('weight'))" in out
        assert "LightGBM" not in out


def test_a_subset_model_names_its_features_by_the_training_file_ids(mq, tmp_path, capsys):
    _, train = mq
    model = tmp_path / "sub.txt"
    assert main(["train", str(train), "--features", "39,23,5", "--out", str(model), "--rounds", "5",
                 "--quiet"]) == 0
    info = _info(capsys, model)
    assert info["feature_subset"] == {"ids": [39, 23, 5], "of": 46} and info["n_features"] == 3
    assert sorted(_by_id(info)) == [5, 23, 39]


def test_data_files_still_summarise_and_a_file_that_is_neither_is_one_line(mq, tmp_path, capsys):
    _, train = mq
    info = _info(capsys, train)
    assert info["n_queries"] == 157 and info["n_features"] == 46
    for text in ("garbage\n", '{"a": 1}\n'):
        bad = tmp_path / "bad.txt"
        bad.write_text(text)
        capsys.readouterr()
        assert main(["info", str(bad)]) != 0
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "bad.txt:1: the label is not a number" in err and "nor is it a model" in err
        assert "token 'tree'" not in err


def test_a_damaged_model_is_named_as_one_and_a_file_that_is_no_model_is_not(mq, tmp_path, capsys):
    import lightgbm as lgb

    from ltr.exceptions import ModelFormatError, NotAModelError
    from ltr.rankers import load_model

    _, train = mq
    d = read_letor(train)
    booster = lgb.train({"objective": "lambdarank", "verbosity": -1, "num_leaves": 4},
                        lgb.Dataset(np.asarray(d.X), d.y, group=_group_sizes(d)), 3)
    text = booster.model_to_string()
    damaged = tmp_path / "damaged.txt"
    damaged.write_text(text[: text.index("Tree=1")])  # cut in the middle: a model, but not whole
    with pytest.raises(ModelFormatError) as caught:
        load_model(damaged)
    assert not isinstance(caught.value, NotAModelError)
    capsys.readouterr()
    assert main(["info", str(damaged)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "damaged.txt" in err and "nor is it a model" not in err
    other = tmp_path / "other.txt"
    other.write_text("garbage\n")
    with pytest.raises(NotAModelError, match="not a model ltrkit can read"):
        load_model(other)
    binary = tmp_path / "binary.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(NotAModelError, match="not a text model file"):
        load_model(binary)


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_a_model_records_what_trained_it_and_ltr_info_shows_it(mq, tmp_path, capsys, engine):
    # the sidecar recorded ltrkit's version only: an engine's minor versions change defaults and results
    import importlib
    import platform

    import ltr

    _, train = mq
    out = tmp_path / ("m.json" if engine == "xgboost" else "m.txt")
    assert main(["train", str(train), "--engine", engine, "--rounds", "2", "--quiet", "--out", str(out)]) == 0
    meta = json.loads((tmp_path / (out.name + ".meta.json")).read_text())
    want = {"python": platform.python_version(), "numpy": np.__version__,
            engine: importlib.import_module(engine).__version__}
    assert meta["versions"] == want
    info = _info(capsys, out)
    assert info["trained_with"] == {"ltrkit": ltr.__version__, **want}
    assert info["data_fingerprint"] == meta["data_fingerprint"] and len(meta["data_fingerprint"]) >= 16


def test_a_model_records_the_device_that_trained_it(mq, tmp_path, capsys):
    """gpu-or-cpu may run on either: the sidecar kept only the request (a trial). On this machine's CPU unless it
    has a GPU, in which case the record must say so too."""
    from ltr import load_model

    _, train = mq
    out = tmp_path / "m.txt"
    assert main(["train", str(train), "--device", "gpu-or-cpu", "--rounds", "2", "--quiet", "--out", str(out)]) == 0
    capsys.readouterr()
    meta = json.loads((tmp_path / "m.txt.meta.json").read_text())
    assert meta["params"]["device"] == "gpu-or-cpu" and meta["trained_on"] in ("cpu", "gpu")
    assert load_model(out).device_ == meta["trained_on"] == _info(capsys, out)["trained_on"]


@pytest.mark.parametrize("kind, opener, unpack", [("gzip", "gzip", "gunzip -k"), ("bzip2", "bz2", "bunzip2 -k"),
                                                  ("xz", "lzma", "unxz -k")])
def test_a_compressed_model_is_named_as_such_by_every_command_that_loads_one(mq, tmp_path, capsys, kind, opener,
                                                                              unpack):
    import importlib

    import lightgbm as lgb

    from ltr.exceptions import ModelFormatError
    from ltr.rankers import load_model
    from ltr.trees import load

    _, train = mq
    d = read_letor(train)
    booster = lgb.train({"objective": "lambdarank", "verbosity": -1, "num_leaves": 4},
                        lgb.Dataset(np.asarray(d.X), d.y, group=_group_sizes(d)), 3)
    packed = tmp_path / "model.txt.z"
    with importlib.import_module(opener).open(packed, "wb") as f:
        f.write(booster.model_to_string().encode())
    said = f"{packed}: {kind}-compressed: a model file is read as saved; decompress it first ({unpack} FILE)"
    for loader in (load_model, load):
        with pytest.raises(ModelFormatError) as caught:
            loader(packed)
        assert str(caught.value) == said
    for argv in (["info", packed], ["predict", packed, train, "--out", tmp_path / "s.txt"],
                 ["export", packed, "--to", "es-xgboost", "--out", tmp_path / "e.json"]):
        capsys.readouterr()
        assert main(list(map(str, argv))) == 1
        assert capsys.readouterr().err == f"ltr {argv[0]}: error: {said}\n"
    assert not (tmp_path / "s.txt").exists() and not (tmp_path / "e.json").exists()


def test_a_compressed_letor_file_cut_short_is_named_as_one_not_as_a_compressed_model(mq, tmp_path, capsys):
    import gzip

    _, train = mq
    whole = gzip.compress(train.read_bytes())
    cut = tmp_path / "train.txt.gz"
    cut.write_bytes(whole[: len(whole) // 2])  # a download cut short
    capsys.readouterr()
    assert main(["info", str(cut)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ltr info: error: {cut}: not a valid gzip file") and "model" not in err


def test_compressed_json_that_is_no_model_is_not_called_a_compressed_model(tmp_path, capsys):
    import gzip

    packed = tmp_path / "cv.json.gz"
    packed.write_bytes(gzip.compress(b'{"format": "ltrkit-result/1", "kind": "cv"}\n'))  # a cv result, gzipped
    assert main(["info", str(packed)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ltr info: error: {packed}:1: the label is not a number") and "decompress" not in err
