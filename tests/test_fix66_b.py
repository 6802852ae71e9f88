"""Trial t66, export and trees-serve: a refused split names the feature by the user's name, XGBoost DART models are
read and exported exactly, an unknown ``--to`` names the nearest format, a multiclass objective with one class is
refused as multiclass.

DART's reference is XGBoost's own ``Booster.predict(DMatrix, output_margin=True)`` on MQ2008 rows; the exported
files are re-scored by evaluators written here from the formats' documentation, not from ``ltr.export``:

* es-xgboost (the LTR plugin's ``XGBoostJsonParser`` / ``NaiveAdditiveDecisionTree``): a node's ``children`` are
  ``[yes, no]``; a NaN feature goes to the child ``missing`` names, else ``x < split_condition`` goes to ``yes``
  (float32); the score is a float32 sum of the leaves, in order, from 0;
* es-ranklib (RankLib's LambdaMART as the plugin loads it): ``#`` lines dropped, XML; ``<feature>`` the 1-based
  position in the feature set, a missing feature is 0, ``x <= threshold`` goes left; ``float s; s += output * weight``
  with the product in double;
* solr (``MultipleAdditiveTreesModel``): the threshold is ``Float.parseFloat(t) + 1e-6f``; ``x <= threshold`` goes
  left; NaN follows ``missing`` when ``isNullSameAsZero`` is false, else reads as 0; ``score += weight * value`` in
  float32.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb

from ltr._shared import sklearn_letor, with_nans
from ltr.cli import main
from ltr.exceptions import ModelFormatError
from ltr.export import ExportError, export
from ltr.trees import from_booster, from_xgboost_json, load

F32 = np.float32
MQ_TRAIN, MQ_TEST = "mq2008/Fold1/vali.txt.gz", "mq2008/Fold1/test.txt.gz"
NAMES46 = [f"f{j + 1}" for j in range(46)]


def f32(text_or_number) -> np.float32:
    """Java's ``Float.parseFloat`` (a correctly rounded float32; 1e39 and beyond: infinity)."""
    with np.errstate(over="ignore"):
        return F32(float(text_or_number))


# ------------------------------------------------------------------------------------------------------------------
# Finding 1: a refused split names the feature by the name the user gave
# ------------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def categorical_lightgbm(tmp_path_factory):
    """A LightGBM model of unnamed columns (``Column_0`` ...) whose column 5 is categorical, saved as text."""
    rng = np.random.default_rng(0)
    X = rng.random((400, 8))
    X[:, 5] = rng.integers(0, 6, 400)
    y = (X[:, 5] % 3 == 0) + X[:, 0]
    booster = lgb.train({"objective": "regression", "verbose": -1, "min_data_per_group": 5, "cat_smooth": 1,
                         "num_threads": 1}, lgb.Dataset(X, y, categorical_feature=[5]), 5)
    path = tmp_path_factory.mktemp("cat") / "cat.txt"
    booster.save_model(str(path))
    assert "feature_names=Column_0 Column_1" in path.read_text()
    return path


def test_export_names_a_categorical_feature_by_feature_names_not_lightgbms_column_placeholder(categorical_lightgbm):
    names = [f"f{j + 1}" for j in range(8)]
    names[5] = "clicks"
    with pytest.raises(ModelFormatError, match=r"cat\.txt:\d+: tree 0: node \d+ \(feature 'clicks'\) is a categorical "
                                               r"split \(num_cat=\d+\), which is not supported$"):
        export(str(categorical_lightgbm), "solr", feature_names=names)


def test_without_feature_names_the_placeholder_is_said_to_be_a_column_counted_from_0(categorical_lightgbm):
    with pytest.raises(ModelFormatError, match=r"\(feature 'Column_5'\) is a categorical split \(num_cat=\d+\), which "
                                               r"is not supported; 'Column_5' is column 5, counting from 0$"):
        export(str(categorical_lightgbm), "solr")
    with pytest.raises(ModelFormatError, match=r"'Column_5' is column 5, counting from 0$"):
        load(categorical_lightgbm)  # ltr.trees alone (ltr predict, ltr info) says it too


def test_ltr_export_names_the_feature_from_feature_names_at_file_and_line(categorical_lightgbm, tmp_path, capsys):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(["a", "b", "c", "d", "e", "clicks", "g", "h"]) + "\n")
    out = tmp_path / "x.json"
    assert main(["export", str(categorical_lightgbm), "--to", "es-xgboost", "--out", str(out), "--feature-names",
                 f"@{names}"]) == 1
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"ltr export: error: \S*cat\.txt:\d+: tree 0: node \d+ \(feature 'clicks'\) is a categorical "
                        r"split \(num_cat=\d+\), which is not supported", err), err
    assert not out.exists()


def test_a_hand_edited_decision_type_names_the_feature_given(categorical_lightgbm, tmp_path):
    """The trial's bad/dectype.txt: decision_type 9 (categorical bit) on a numerical split."""
    text = lgb.train({"objective": "regression", "verbose": -1, "num_threads": 1},
                     lgb.Dataset(np.random.default_rng(1).random((200, 4)), np.arange(200.0)), 2).model_to_string()
    block = text[text.index("Tree=0\n"):]
    line = next(s for s in block.split("\n") if s.startswith("decision_type="))
    first = int(next(s for s in block.split("\n") if s.startswith("split_feature=")).split("=")[1].split(" ")[0])
    path = tmp_path / "dectype.txt"
    path.write_text(text.replace(line, "decision_type=9" + line[len("decision_type=2"):], 1))
    given = ["bm25", "tfidf", "pagerank", "clicks"]
    with pytest.raises(ModelFormatError, match=rf"tree 0: node 0 \(feature '{given[first]}'\) is a categorical split, "
                                               r"which is not supported$"):
        export(str(path), "es-xgboost", feature_names=given)


def test_an_unnamed_xgboost_categorical_split_is_named_by_the_names_given_or_said_to_be_a_column():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.random(400), rng.integers(0, 8, 400)]).astype(np.float32)
    y = (X[:, 1] % 3 == 0) + rng.random(400)
    booster = xgb.train({"tree_method": "hist", "max_cat_to_onehot": 1, "nthread": 1},
                        xgb.DMatrix(X, y, feature_types=["q", "c"], enable_categorical=True), 3)
    assert not json.loads(booster.save_raw("json"))["learner"].get("feature_names")
    with pytest.raises(ModelFormatError, match=r"node \d+ \(feature 'color'\) is a categorical split, which is not "
                                               r"supported$"):
        export(booster, "solr", feature_names=["x", "color"])
    with pytest.raises(ModelFormatError, match=r"node \d+ \(feature 1\) is a categorical split, which is not "
                                               r"supported; the model names no features: 1 is the column, counting "
                                               r"from 0$"):
        export(booster, "solr")


# ------------------------------------------------------------------------------------------------------------------
# Finding 2: XGBoost DART, read and exported as XGBoost predicts it
# ------------------------------------------------------------------------------------------------------------------
DART = {  # name -> (XGBoost parameters, label transform)
    "rank-ndcg": {"objective": "rank:ndcg", "rate_drop": 0.3},
    "squarederror-base": {"objective": "reg:squarederror", "rate_drop": 0.6, "max_depth": 6},  # base margin 0.27
    "logistic-forest": {"objective": "binary:logistic", "rate_drop": 0.5, "base_score": 0.3, "normalize_type":
                        "forest"},
    "pairwise-parallel": {"objective": "rank:pairwise", "rate_drop": 0.2, "num_parallel_tree": 2, "subsample": 0.7,
                          "one_drop": 1},
    "no-drop": {"objective": "rank:ndcg", "rate_drop": 0.0, "skip_drop": 1.0},  # every weight_drop 1.0
}


@pytest.fixture(scope="module")
def mq(shared_file):
    train = sklearn_letor(shared_file(MQ_TRAIN), 46)
    X, _, _ = sklearn_letor(shared_file(MQ_TEST), 46)
    return train, X[:600]


_BOOSTERS: dict = {}


def dart(mq, kind: str):
    if kind not in _BOOSTERS:
        (X, y, group), _ = mq
        label = (y > 0).astype(np.float64) if "logistic" in kind else y
        d = xgb.DMatrix(with_nans(X, 0.05, 1), label)
        d.set_group(group)
        _BOOSTERS[kind] = xgb.train({**DART[kind], "booster": "dart", "max_depth": DART[kind].get("max_depth", 4),
                                     "nthread": 1, "seed": 1}, d, 15)
    return _BOOSTERS[kind]


def weights(booster) -> np.ndarray:
    return np.array(json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["weight_drop"])


def probe_rows(booster, X) -> np.ndarray:
    """Test rows with NaNs, zeros, and values on split thresholds and the float32 just below them."""
    X = with_nans(X, 0.05, 2)
    trees = json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["gbtree"]["model"]["trees"]
    splits = [(f, c) for t in trees for f, c, left in zip(t["split_indices"], t["split_conditions"],
                                                          t["left_children"]) if left != -1]
    rng = np.random.default_rng(3)
    for i in range(X.shape[0]):
        for pick, below in ((rng.integers(len(splits)), False), (rng.integers(len(splits)), True)):
            f, c = splits[pick]
            X[i, f] = np.nextafter(F32(c), F32(-np.inf)) if below else F32(c)
        X[i, rng.integers(X.shape[1])] = (0.0, -0.0, np.nan)[i % 3]
    return X


@pytest.mark.parametrize("kind", sorted(DART))
def test_a_dart_model_scores_as_xgboosts_predict_bit_for_bit(mq, kind):
    booster = dart(mq, kind)
    w = weights(booster)
    assert (w == 1).all() if kind == "no-drop" else (w != 1).any()
    X = probe_rows(booster, mq[1])
    ens = from_booster(booster)
    want = booster.predict(xgb.DMatrix(X), output_margin=True)
    for method in ("fast", "reference"):
        got = ens.predict(X, method=method)
        assert np.array_equal(got, want.astype(np.float64)), (method, np.abs(got - want).max())
    k = 6
    part = booster.predict(xgb.DMatrix(X), output_margin=True, iteration_range=(0, k))
    assert np.array_equal(ens.predict(X, n_iter=k), part.astype(np.float64))
    assert np.array_equal(ens.predict(X[:1]), want[:1].astype(np.float64))  # the one-row walk


def test_a_dart_model_with_base_margin_0_also_equals_inplace_predict(mq):
    """XGBoost's inplace_predict adds ((leaf + base) - base) * w for DART, predict leaf * w: with base 0 they agree
    (the other cases are documented in ltr.trees.xgboost_json)."""
    (X, y, group), Xt = mq
    d = xgb.DMatrix(X, y)
    d.set_group(group)
    booster = xgb.train({"objective": "rank:pairwise", "booster": "dart", "rate_drop": 0.4, "base_score": 0.0,
                         "max_depth": 4, "nthread": 1, "seed": 2}, d, 10)
    X = probe_rows(booster, Xt)
    assert np.array_equal(from_booster(booster).predict(X), booster.inplace_predict(X, predict_type="margin"))


def test_a_saved_dart_model_loads_from_json_and_ubjson_and_ltr_predict_scores_it(mq, tmp_path):
    booster = dart(mq, "squarederror-base")
    X = probe_rows(booster, mq[1])
    want = booster.predict(xgb.DMatrix(X), output_margin=True).astype(np.float64)
    for name in ("dart.json", "dart.ubj"):
        booster.save_model(str(tmp_path / name))
        assert np.array_equal(load(tmp_path / name).predict(X), want)


def test_dart_weight_drop_all_one_reads_as_the_same_trees_under_gbtree(mq):
    doc = json.loads(dart(mq, "no-drop").save_raw("json"))
    plain = json.loads(json.dumps(doc))
    plain["learner"]["gradient_booster"] = doc["learner"]["gradient_booster"]["gbtree"]
    a, b = from_xgboost_json(doc), from_xgboost_json(plain)
    assert np.array_equal(a.leaf_value, b.leaf_value) and np.array_equal(a.threshold, b.threshold)


def big_leaves(dart_booster: dict) -> None:
    tree = dart_booster["gbtree"]["model"]["trees"][0]
    tree["split_conditions"] = [100.0 if left == -1 else c for c, left in zip(tree["split_conditions"],
                                                                            tree["left_children"])]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda g: g.update(weight_drop=g["weight_drop"][:-1]), r"weight_drop: has 14 entries, expected one per tree "
                                                            r"\(15\)"),
    (lambda g: g.update(weight_drop=["x"] * 15), r"weight_drop: must be a list of numbers"),
    (lambda g: g.update(weight_drop=[1e39] * 15), r"tree 0: learner.gradient_booster.weight_drop: entry 0 is 1e\+39, "
                                                  r"not a finite float32"),
    (lambda g: g.update(weight_drop=[3e38] * 15) or big_leaves(g), r"tree 0: .*weight_drop: weight 3\.\d+e\+38 "
                                                                  r"times leaf 0 \(100\.0\) is beyond float32's range"),
    (lambda g: g.pop("weight_drop"), r"learner.gradient_booster.weight_drop: is missing"),
    (lambda g: g.pop("gbtree"), r"learner.gradient_booster.gbtree: is missing: a DART booster holds its trees there"),
    (lambda g: g["gbtree"].update(name="gblinear"), r"gbtree.name: a DART booster must hold a gbtree, got 'gblinear'"),
])
def test_a_malformed_dart_booster_is_refused_by_its_json_path(mq, edit, message):
    doc = json.loads(dart(mq, "rank-ndcg").save_raw("json"))
    edit(doc["learner"]["gradient_booster"])
    with pytest.raises(ModelFormatError, match=message):
        from_xgboost_json(doc, source="m.json")


# -- the formats, re-scored from their documentation ----------------------------------------------------------------
def es_xgboost_score(body: dict, feature_set: list[str], X: np.ndarray) -> np.ndarray:
    definition = body["model"]["model"]["definition"]
    assert body["model"]["model"]["type"] == "model/xgboost+json" and isinstance(definition, list)
    column = {n: i for i, n in enumerate(feature_set)}

    def leaf(node, row):
        while "leaf" not in node:
            yes, no = node["children"]
            assert (yes["nodeid"], no["nodeid"]) == (node["yes"], node["no"])
            x = row[column[node["split"]]]
            go = node["missing"] if np.isnan(x) else node["yes"] if x < f32(node["split_condition"]) else node["no"]
            node = yes if go == node["yes"] else no
        return f32(node["leaf"])

    out = np.zeros(X.shape[0], dtype=F32)
    for i, row in enumerate(X):
        s = F32(0)
        for tree in definition:
            s = F32(s + leaf(tree, row))
        out[i] = s
    return out


def ranklib_score(body: dict, X: np.ndarray) -> np.ndarray:
    text = body["model"]["model"]["definition"]
    assert body["model"]["model"]["type"] == "model/ranklib"
    joined = "".join(s.strip() for s in text.splitlines() if s.strip() and not s.strip().startswith("#"))
    trees = [(list(t)[0], f32(t.get("weight"))) for t in ET.fromstring(joined).iter("tree")]
    out = np.zeros(X.shape[0], dtype=F32)
    for i, row in enumerate(np.where(np.isnan(X), F32(0), X)):  # a feature with no value is 0
        s = F32(0)
        for split, weight in trees:
            while split[0].tag != "output":
                feature, threshold, left, right = list(split)
                split = left if row[int(feature.text) - 1] <= f32(threshold.text) else right
            s = F32(np.float64(s) + np.float64(f32(split[0].text)) * np.float64(weight))
        out[i] = s
    return out


def solr_score(model: dict, X: np.ndarray, names: list[str]) -> np.ndarray:
    assert model["class"] == "org.apache.solr.ltr.model.MultipleAdditiveTreesModel"
    null_is_zero = model["params"].get("isNullSameAsZero", True)
    out = np.zeros(X.shape[0], dtype=F32)
    for i, row in enumerate(X):
        s = F32(0)
        for tree in model["params"]["trees"]:
            node = tree["root"]
            while "feature" in node:
                x = row[names.index(node["feature"])]
                if np.isnan(x) and null_is_zero:
                    x = F32(0)
                if np.isnan(x):
                    node = node["left"] if node["missing"] == "left" else node["right"]
                else:
                    node = node["left"] if x <= F32(f32(node["threshold"]) + F32(1e-6)) else node["right"]
            s = F32(s + F32(f32(tree["weight"]) * f32(node["value"])))
        out[i] = s
    return out


GAP = re.compile(r"feature '([^']+)'\): values in \(([^,]+), ([^\]]+)\] go")


@pytest.mark.parametrize("fmt", ["es-xgboost", "es-ranklib", "solr"])
@pytest.mark.parametrize("kind", ["squarederror-base", "logistic-forest", "pairwise-parallel"])
def test_an_exported_dart_model_scores_as_xgboosts_predict_under_each_formats_rules(mq, kind, fmt):
    booster = dart(mq, kind)
    X = probe_rows(booster, mq[1])[:250]
    missing = "zero" if fmt == "es-ranklib" else "nan"  # RankLib reads a missing value as 0
    out = export(booster, fmt, feature_names=NAMES46, missing=missing, inexact="nearest")
    doc = json.loads(out.text)
    assert list(out.feature_names) == NAMES46
    ref_X = np.where(np.isnan(X), F32(0), X) if missing == "zero" else X
    want = booster.predict(xgb.DMatrix(ref_X), output_margin=True)
    keep = np.ones(X.shape[0], dtype=bool)
    if fmt == "es-xgboost":
        got = es_xgboost_score(doc, list(out.feature_names), X)
    elif fmt == "es-ranklib":
        got = ranklib_score(doc, X)
    else:
        got = solr_score(doc, X, NAMES46)
        for m in GAP.finditer("\n".join(out.notes)):  # values the notes say Solr's slack sends the other way
            x = X[:, NAMES46.index(m.group(1))]
            keep &= ~((x > f32(m.group(2))) & (x <= f32(m.group(3))))
        assert keep.mean() > 0.9
    assert np.array_equal(got[keep], want[keep]), np.abs(got[keep].astype(np.float64) - want[keep]).max()


def test_ltr_export_writes_a_dart_model_file(mq, tmp_path, capsys):
    """The trial's command: ``ltr export dart0_xgb.json --to es-xgboost`` was refused as a DART booster."""
    path = tmp_path / "dart0_xgb.json"
    dart(mq, "no-drop").save_model(str(path))
    names = tmp_path / "names46.txt"
    names.write_text("\n".join(NAMES46) + "\n")
    out = tmp_path / "v.json"
    assert main(["export", str(path), "--to", "es-xgboost", "--out", str(out), "--feature-names", f"@{names}",
                 "--quiet"]) == 0, capsys.readouterr().err
    assert json.loads(out.read_text())["model"]["model"]["type"] == "model/xgboost+json"


# ------------------------------------------------------------------------------------------------------------------
# Finding 3: an unknown format names the nearest one
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("given", "near"), [("xgboost", "'es-xgboost'"), ("es-xgb", "'es-xgboost'"),
                                             ("ES-XGBOOST", "'es-xgboost'"), ("ranklib", "'es-ranklib'"),
                                             ("solar", "'solr' or 'solr-linear'")])
def test_ltr_export_to_an_unknown_format_suggests_the_nearest(given, near, tmp_path, capsys):
    assert main(["export", str(tmp_path / "m.txt"), "--to", given, "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert f"argument --to: invalid choice: {given!r} (did you mean {near}?) (choose from 'es-linear'" in err, err
    assert err.count("\n") == 0
    with pytest.raises(ExportError, match=rf"^unknown export format {given!r} \(did you mean {near}\?\); known "
                                          r"formats: es-linear, es-ranklib, es-xgboost, solr, solr-linear$"):
        export(str(tmp_path / "m.txt"), given)
    # a name near none is refused as before, without a guess
    assert main(["export", str(tmp_path / "m.txt"), "--to", "vespa", "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'vespa' (choose from" in err and "did you mean" not in err


# ------------------------------------------------------------------------------------------------------------------
# trees-serve finding 2: multi:softprob / multi:softmax with num_class=1 is a multiclass model
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("objective", ["multi:softprob", "multi:softmax"])
def test_a_multiclass_objective_with_one_class_is_refused_as_multiclass(objective, tmp_path):
    rng = np.random.default_rng(0)
    booster = xgb.train({"objective": objective, "num_class": 1, "nthread": 1, "max_depth": 2},
                        xgb.DMatrix(rng.random((50, 3)), np.zeros(50)), 2)
    path = tmp_path / "x_sp1.json"
    booster.save_model(str(path))
    with pytest.raises(ModelFormatError, match=rf"x_sp1\.json: learner\.objective\.name: multiclass models "
                                               rf"\({objective}, num_class=1\) are not supported: ltrkit scores one "
                                               r"output$"):
        load(path)
