"""``ltr.export``: what it refuses (each by name, one line), why no float32 comparison is ever short of a LightGBM
threshold outside Solr, the feature-set definitions, and ``ltr export`` on the command line.

The threshold property is checked against LightGBM's rule written out here (``x`` read as 0 when ``|x| <= 1e-35``,
then ``x <= threshold`` in float64) and the plugin's rule (``split_condition > x`` in float32), and against
LightGBM itself on a trained model.
"""

from __future__ import annotations

import json
import re

import lightgbm as lgb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ltr import Ranker, make_ranking
from ltr.cli import main
from ltr.exceptions import ModelFormatError
from ltr.export import FORMATS, ExportError, export, feature_set_definition
from ltr.export.featureset import read_feature_names
from ltr.trees import TreeEnsemble, from_booster

F32 = np.float32
K_ZERO = float(F32(1e-35))


def stump(threshold=0.5, *, engine="lightgbm", missing_type=0, default_left=True, leaves=(-1.0, 2.0)):
    return TreeEnsemble(engine=engine, n_features=2, tree_ptr=[0, 1], leaf_ptr=[0, 2], feature=[0],
                        threshold=[threshold], left=[-1], right=[-2], default_left=[default_left],
                        missing_type=[missing_type if engine == "lightgbm" else 2], leaf_value=list(leaves))


NAMES = ["bm25:title", "pagerank"]


@pytest.fixture(scope="module")
def ranking():
    return make_ranking(30, (5, 12), 6, random_state=0)


@pytest.fixture(scope="module")
def named(ranking):
    assert ranking.feature_names is not None
    return list(ranking.feature_names)


# ------------------------------------------------------------------------------------------------------------------
# Refused, by name
# ------------------------------------------------------------------------------------------------------------------
def test_an_unknown_format_lists_the_known_ones():
    with pytest.raises(ExportError, match=r"unknown export format 'vespa'; known formats: es-linear, es-ranklib, "
                                          r"es-xgboost, solr, solr-linear$"):
        export(stump(), "vespa", feature_names=NAMES)
    assert sorted(FORMATS) == ["es-linear", "es-ranklib", "es-xgboost", "solr", "solr-linear"]


def test_categorical_splits_are_refused_by_name():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 8, 400), rng.random(400)]).astype(np.float64)
    y = (X[:, 0] % 3 == 0) + rng.random(400)
    booster = lgb.train({"objective": "regression", "verbose": -1, "min_data_per_group": 5, "cat_smooth": 1,
                         "num_threads": 1}, lgb.Dataset(X, y, categorical_feature=[0], feature_name=["color", "x"]), 5)
    assert "num_cat=0" not in booster.model_to_string().split("Tree=1")[0]  # the model has a categorical split
    with pytest.raises(ModelFormatError, match=r"tree 0: node \d+ \(feature 'color'\) is a categorical split "
                                               r"\(num_cat=\d+\), which is not supported$"):
        export(booster, "es-xgboost", feature_names=NAMES)


def test_xgboost_categorical_splits_are_refused_by_feature_name():
    import pandas as pd
    import xgboost as xgb

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.random(400), "color": pd.Categorical(rng.integers(0, 8, 400))})
    y = (frame["color"].cat.codes % 3 == 0) + rng.random(400)
    booster = xgb.train({"tree_method": "hist", "max_cat_to_onehot": 1, "nthread": 1},
                        xgb.DMatrix(frame, y, enable_categorical=True), 3)
    assert '"categories_nodes":[]' not in booster.save_raw("json").decode()  # the model has categorical splits
    with pytest.raises(ModelFormatError, match=r"tree 0: .*trees\[0\]\.categories_nodes: node \d+ \(feature 'color'\) "
                                               r"is a categorical split, which is not supported$"):
        export(booster, "es-xgboost", feature_names=NAMES)


@pytest.mark.parametrize("fmt", ["es-xgboost", "es-ranklib", "solr"])
def test_a_zero_as_missing_split_no_comparison_expresses_is_refused(fmt):
    # Missing type Zero sends 0 (and |x| <= 1e-35) to the default direction, right, while x <= 0.5 goes left:
    # the values that go left, (-inf, -1e-35) and (1e-35, 0.5], are not {x <= M} for any M.
    bad = stump(0.5, missing_type=1, default_left=False)
    with pytest.raises(ExportError, match=rf"{fmt}: tree 0 node 0 \(feature 'bm25:title', threshold 0.5\) has "
                                          r"LightGBM's missing type Zero \(zero_as_missing=true\).*retrain without"):
        export(bad, fmt, feature_names=NAMES, missing="zero")
    export(stump(0.5, missing_type=1, default_left=True), fmt, feature_names=NAMES, missing="zero")  # expressible


def test_a_feature_the_target_feature_set_lacks_is_named():
    with pytest.raises(ExportError, match=r"es-xgboost: the model uses feature 'bm25:title', which the target "
                                          r"feature set lacks; the set has 2: pagerank, tf"):
        export(stump(), "es-xgboost", feature_names=NAMES, target_features=["pagerank", "tf"])
    out = export(stump(), "es-ranklib", feature_names=NAMES, target_features=["tf", "bm25:title"])
    assert "<feature> 2 </feature>" in json.loads(out.text)["model"]["model"]["definition"]  # its 1-based position


def test_per_query_normalisation_is_refused_for_linear_and_tree_models(ranking):
    for engine, params in (("linear", {"objective": "ndcg@10", "engine_params": {"n_restarts": 1}}),
                           ("lightgbm", {"n_estimators": 3, "min_child_samples": 3})):
        model = Ranker(engine=engine, normalize="zscore", preset=None, n_jobs=1, **params).fit(ranking)
        fmt = "es-linear" if engine == "linear" else "es-xgboost"
        with pytest.raises(ExportError, match=r"normalises its features per query \('zscore'\).*scores each "
                                              r"document on its own.*retrain with a global normaliser"):
            export(model, fmt)


def test_a_tree_model_to_a_linear_format_and_back_is_refused_naming_the_right_format(ranking, named):
    with pytest.raises(ExportError, match=r"es-linear takes linear models, and this is a tree ensemble; use "
                                          r"es-ranklib or es-xgboost"):
        export(stump(), "es-linear", feature_names=NAMES)
    linear = Ranker(engine="linear", objective="ndcg@10", preset=None, engine_params={"n_restarts": 1}).fit(ranking)
    with pytest.raises(ExportError, match=r"solr takes tree ensembles, and this is a linear model; use solr-linear"):
        export(linear, "solr", feature_names=named)


def test_ranklib_refuses_a_model_that_tells_missing_from_zero_unless_missing_is_zero():
    tells = stump(0.5, engine="xgboost", default_left=False)  # NaN goes right, 0 < 0.5 goes left
    with pytest.raises(ExportError, match=r"es-ranklib: RankLib has no missing values .*tree 0 node 0 sends a missing "
                                          r"value right and 0 left \(1 such nodes\); pass missing='zero'"):
        export(tells, "es-ranklib", feature_names=NAMES)
    export(tells, "es-ranklib", feature_names=NAMES, missing="zero")
    export(stump(0.5, missing_type=0), "es-ranklib", feature_names=NAMES)  # LightGBM's type None: NaN is 0 already


def test_feature_names_missing_differing_duplicated_or_miscounted_are_refused(ranking, named):
    with pytest.raises(ExportError, match=r"does not name its features .*pass feature_names= with its 2 names"):
        export(stump(), "es-xgboost")
    model = Ranker(n_estimators=3, min_child_samples=3, preset=None, n_jobs=1).fit(ranking.X, ranking.y,
                                                                                     group=np.diff(ranking.group_ptr),
                                                                                     feature_names=named)
    with pytest.raises(ExportError, match=r"column 0 counting from 0: 'f1' in the model, 'g0' given"):
        export(model, "es-xgboost", feature_names=["g0", *named[1:]])
    with pytest.raises(ExportError, match=r"'a' is given twice"):
        export(stump(), "es-xgboost", feature_names=["a", "a"])
    with pytest.raises(ExportError, match=r"3 names for a model of 2 features"):
        export(stump(), "es-xgboost", feature_names=["a", "b", "c"])


def test_lightgbms_default_column_names_are_not_feature_names():
    booster = lgb.train({"objective": "regression", "verbose": -1, "num_threads": 1},
                        lgb.Dataset(np.random.default_rng(0).random((100, 2)), np.arange(100.0)), 2)
    assert "feature_names=Column_0 Column_1" in booster.model_to_string()
    with pytest.raises(ExportError, match="does not name its features"):
        export(booster, "solr")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"missing": "drop"}, r"missing must be one of \('auto', 'nan', 'zero'\), got 'drop'"),
    ({"inexact": "round"}, r"inexact must be one of \('refuse', 'nearest'\), got 'round'"),
    ({"name": "my model"}, r"name must be a plain name .*got 'my model'"),
    ({"store": "_x"}, r"store must be a plain name .*got '_x'"),
])
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(ExportError, match=message):
        export(stump(), "es-xgboost", feature_names=NAMES, **kwargs)


def test_a_ranker_exports_the_rounds_it_predicts_with(ranking):
    valid = make_ranking(15, (5, 12), 6, random_state=1)  # unrelated labels: early stopping stops early
    model = Ranker(engine="xgboost", n_estimators=60, early_stopping_rounds=3, preset=None, n_jobs=1).fit(
        ranking, eval_set=[valid])
    ensemble = from_booster(model.booster_)
    assert model.best_iteration_ < ensemble.n_trees  # XGBoost keeps the rounds after the best one
    trees = json.loads(export(model, "es-xgboost").text)["model"]["model"]["definition"]
    assert ensemble.base_score != 0 and trees[0] == {"nodeid": 0, "leaf": float(np.float32(ensemble.base_score))}
    assert len(trees) == 1 + model.best_iteration_


# ------------------------------------------------------------------------------------------------------------------
# Thresholds: every LightGBM threshold has an exact float32 comparison, except under Solr's slack
# ------------------------------------------------------------------------------------------------------------------
def lightgbm_left(x: np.ndarray, threshold: float) -> np.ndarray:
    """LightGBM's NumericalDecision for missing type None on float32 input: |x| <= kZeroThreshold reads as 0."""
    v = np.where(np.abs(x.astype(np.float64)) <= K_ZERO, 0.0, x.astype(np.float64))
    return v <= threshold


def near(t: float) -> np.ndarray:
    with np.errstate(over="ignore"):
        c = F32(t) if np.isfinite(F32(t)) else F32(np.sign(t) * np.finfo(np.float32).max)
        around = [np.nextafter(c, F32(np.inf)), c, np.nextafter(c, F32(-np.inf))]
    around += [np.nextafter(around[0], F32(np.inf)), np.nextafter(around[2], F32(-np.inf))]
    band = [0.0, -0.0, 1e-38, -1e-38, K_ZERO, -K_ZERO, 2e-35, -2e-35, 1e-30, -1e-30]
    x = np.array(around + band + [np.inf, -np.inf], dtype=np.float32)  # a derived feature can be infinite
    return np.unique(x)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=True, width=64),
                 st.sampled_from([0.0, K_ZERO, -K_ZERO, 1e-36, -1e-36, 0.5, np.nextafter(0.5, 1.0)])))
def test_the_plugins_float32_less_than_reproduces_any_lightgbm_threshold(threshold):
    out = export(stump(threshold), "es-xgboost", feature_names=NAMES)
    root = json.loads(out.text)["model"]["model"]["definition"][0]
    with np.errstate(over="ignore"):  # Java reads 1e39 as an infinite float
        condition = F32(root["split_condition"])
    # 'yes' is the stump's left leaf (-1.0), or its right one where every value goes left, +inf too (threshold inf:
    # no 'split_condition > x' holds for +inf, so the node is written with its values' child as 'no')
    yes_is_left = root["children"][0]["leaf"] == -1.0
    x = near(threshold)
    assert np.array_equal((condition > x) == yes_is_left, lightgbm_left(x, threshold)), threshold


def test_real_lightgbm_thresholds_all_have_an_exact_plugin_comparison(shared_file):
    from sklearn.datasets import load_svmlight_file

    X, y, qid = load_svmlight_file(str(shared_file("mq2008/Fold1/vali.txt.gz")), query_id=True, n_features=46)
    X = X.toarray().astype(np.float32)
    booster = lgb.train({"objective": "lambdarank", "min_data_in_leaf": 5, "verbose": -1, "num_threads": 1},
                        lgb.Dataset(X, y, group=np.unique(qid, return_counts=True)[1]), 10)
    ens = from_booster(booster)
    out = json.loads(export(ens, "es-xgboost", feature_names=[f"f{j}" for j in range(46)]).text)
    conditions, thresholds = [], []

    def collect(node):
        if "children" in node:
            with np.errstate(over="ignore"):
                conditions.append((int(node["split"][1:]), F32(node["split_condition"])))
            for c in node["children"]:
                collect(c)

    def preorder(t, code):  # LightGBM's nodes in the same order: node, then its left, then its right subtree
        if code >= 0:
            k = int(ens.tree_ptr[t]) + code
            thresholds.append((int(ens.feature[k]), float(ens.threshold[k])))
            preorder(t, int(ens.left[k]))
            preorder(t, int(ens.right[k]))

    for t, tree in enumerate(out["model"]["model"]["definition"]):
        collect(tree)
        preorder(t, 0)
    assert K_ZERO in ens.threshold  # LightGBM's split between 0 and the positive values is among them
    assert [j for j, _ in conditions] == [j for j, _ in thresholds]
    for (_, cond), (_, t) in zip(conditions, thresholds):
        x = near(t)
        assert np.array_equal(cond > x, lightgbm_left(x, t)), t


# ------------------------------------------------------------------------------------------------------------------
# Feature sets
# ------------------------------------------------------------------------------------------------------------------
DESCRIPTION = {
    "format": "ltrkit-feature-set/1",
    "features": [
        {"scorer": "bm25", "fields": "*", "name": None, "params": {},
         "effective": {"k1": 1.2, "b": 0.75, "idf": "lucene", "k3": None, "epsilon": 0.25, "qtf_norm": "none",
                       "doc_count": "field"}},
        {"scorer": "bm25", "fields": ["title"], "name": "bm25r", "params": {"idf": "robertson"},
         "effective": {"k1": 1.2, "b": 0.75, "idf": "robertson", "k3": None, "epsilon": 0.25, "qtf_norm": "none"}},
        {"scorer": "lm_dirichlet", "fields": ["body"], "name": None, "params": {}, "effective": {"mu": 1000.0}},
    ],
    "fields": ["title", "body", "all"], "aliases": {"all": ["title", "body"]},
    "columns": ["bm25:title", "bm25:body", "bm25r:title", "lm_dirichlet:body"],
}


def zero_when_unmatched(match: dict) -> dict:
    """A plugin query that gives a document ``match`` does not match 0 (a match_all of boost 0 beside it), where
    the plugins since o19s PR #482 and OpenSearch LTR 3.2 give no value (NaN), which OpenSearch LTR 3.2 to 3.7 send
    down every node's ``no`` branch (trial t48/export: 7,102 of Cranfield's 11,250 rows scored otherwise)."""
    return {"bool": {"should": [match, {"match_all": {"boost": 0.0}}]}}


def test_bm25_of_a_field_maps_to_a_boosted_match_query_and_the_rest_are_templates():
    names = ["bm25:title", "bm25:body", "bm25r:title", "lm_dirichlet:body", "pagerank"]
    text, notes = feature_set_definition(names, "es", description=DESCRIPTION, name="news")
    fs = json.loads(text)["featureset"]
    assert fs["name"] == "news" and [f["name"] for f in fs["features"]] == names
    by = {f["name"]: f["template"] for f in fs["features"]}
    assert by["bm25:title"] == zero_when_unmatched({"match": {"title": {"query": "{{keywords}}", "boost": 2.2}}})
    assert by["bm25:body"] == zero_when_unmatched({"match": {"body": {"query": "{{keywords}}", "boost": 2.2}}})
    nan, _ = feature_set_definition(names, "es", description=DESCRIPTION, name="news", missing="nan")
    assert json.loads(nan)["featureset"]["features"][0]["template"] == {  # no value where it does not match
        "match": {"title": {"query": "{{keywords}}", "boost": 2.2}}}
    for name in ("bm25r:title", "lm_dirichlet:body", "pagerank"):
        assert list(by[name]) == ["ltrkit_fill_in"] and by[name]["ltrkit_fill_in"]["ltrkit_feature"] == name
    assert "robertson" in by["bm25r:title"]["ltrkit_fill_in"]["reason"]
    assert all(f["params"] == ["keywords"] and f["template_language"] == "mustache" for f in fs["features"])
    assert any('"k1": 1.2, "b": 0.75' in n for n in notes) and any("3 of 5 features are templates" in n
                                                                       for n in notes)
    solr, _ = feature_set_definition(names, "solr", description=DESCRIPTION, name="news")
    store = json.loads(solr)
    assert store[0] == {"store": "news", "name": "bm25:title", "class": "org.apache.solr.ltr.feature.SolrFeature",
                        "params": {"q": "{!edismax qf=title^2.2 q.op=OR}${keywords}"}}
    assert [f["class"] for f in store[2:]] == ["ltrkit_fill_in"] * 3


def test_bm25_parameters_are_written_exactly_and_solrs_query_syntax_is_said():
    """k1 + 1 and the similarity's k1 and b were rounded to 6 significant digits (k1 1.2345678: qf=title^2.23457,
    k1=1.23457); and edismax reads the keywords as query syntax ('-dash' excludes dash), unsaid (trial t50/export)."""
    import copy

    exact = copy.deepcopy(DESCRIPTION)
    exact["features"][0]["effective"].update(k1=1.2345678, b=0.4321)
    exact["features"][0]["params"] = {"k1": 1.2345678, "b": 0.4321}
    text, notes = feature_set_definition(["bm25:title"], "solr", description=exact, name="news")
    assert json.loads(text)[0]["params"]["q"] == "{!edismax qf=title^2.2345678 q.op=OR}${keywords}"
    assert any("k1=1.2345678, b=0.4321" in n for n in notes)
    assert any("escape the user's text before it is passed as efi.keywords (SolrJ's ClientUtils.escapeQueryChars)"
               in n for n in notes)
    text, notes = feature_set_definition(["bm25:title"], "es", description=exact, name="news")
    assert json.loads(text)["featureset"]["features"][0]["template"]["bool"]["should"][0] == {
        "match": {"title": {"query": "{{keywords}}", "boost": 2.2345678}}}
    assert any('"k1": 1.2345678, "b": 0.4321' in n for n in notes) and not any("escapeQueryChars" in n for n in notes)


def test_bm25_described_before_doc_count_was_recorded_is_a_template_naming_why():
    # such a model counted every document of the collection, where Lucene's match query counts those with the field
    import copy

    old = copy.deepcopy(DESCRIPTION)
    del old["features"][0]["effective"]["doc_count"]
    text, _ = feature_set_definition(["bm25:title"], "es", description=old, name="news")
    template = json.loads(text)["featureset"]["features"][0]["template"]
    assert list(template) == ["ltrkit_fill_in"]
    assert "doc_count='collection', as every model trained before ltrkit recorded doc_count" in \
        template["ltrkit_fill_in"]["reason"]


def test_a_field_has_one_bm25_similarity_so_a_second_setting_on_it_is_a_template():
    """Two BM25 features on one field with other k1/b (a k1/b grid): both mapped to a match query on the field would
    compute the first one's BM25 twice, as the field has one similarity in the engine."""
    grid = {"format": "ltrkit-feature-set/1", "fields": ["all"], "columns": ["bm25:all", "bm25_k06:all", "bm25_b:all"],
            "features": [
                {"scorer": "bm25", "fields": ["all"], "name": None, "params": {},
                 "effective": {"k1": 1.2, "b": 0.75, "idf": "lucene", "k3": None, "epsilon": 0.25, "qtf_norm": "none",
                       "doc_count": "field"}},
                {"scorer": "bm25", "fields": ["all"], "name": "bm25_k06", "params": {"k1": 0.6, "b": 0.3},
                 "effective": {"k1": 0.6, "b": 0.3, "idf": "lucene", "k3": None, "epsilon": 0.25, "qtf_norm": "none",
                       "doc_count": "field"}},
                {"scorer": "bm25", "fields": ["all"], "name": "bm25_b", "params": {},
                 "effective": {"k1": 1.2, "b": 0.75, "idf": "lucene", "k3": None, "epsilon": 0.25, "qtf_norm": "none",
                       "doc_count": "field"}},
            ]}
    names = ["bm25:all", "bm25_k06:all", "bm25_b:all"]
    for family in ("es", "solr"):
        text, notes = feature_set_definition(names, family, description=grid)
        feats = json.loads(text)["featureset"]["features"] if family == "es" else json.loads(text)
        filled = [f["name"] for f in feats if "ltrkit_fill_in" in (f.get("template") or {f["class"]: 1})]
        assert filled == ["bm25_k06:all"]  # the same setting again (bm25_b) is the same query, exactly
        assert any("1 of 3 features are templates" in n for n in notes)
        assert not any("k1=0.6" in n or '"k1": 0.6' in n for n in notes)  # no advice to set a second similarity
    reason = json.loads(feature_set_definition(names, "es", description=grid)[0])["featureset"]["features"][1]
    assert "'all' has one BM25 similarity in the engine, set for 'bm25:all' (k1 1.2, b 0.75)" in (
        reason["template"]["ltrkit_fill_in"]["reason"])


def test_without_a_description_every_feature_is_a_template():
    text, notes = feature_set_definition(["bm25:title"], "es")
    assert list(json.loads(text)["featureset"]["features"][0]["template"]) == ["ltrkit_fill_in"]


def test_an_exports_feature_set_follows_the_models_sidecar_description(ranking):
    names = ["bm25:title", "bm25:body", "bm25r:title", "lm_dirichlet:body", "x4", "x5"]
    model = Ranker(n_estimators=3, min_child_samples=3, preset=None, n_jobs=1).fit(
        ranking.X, ranking.y, group=np.diff(ranking.group_ptr), feature_names=names)
    model.feature_set_ = DESCRIPTION  # as ltr.load_model sets it from a sidecar
    text, _ = export(model, "es-xgboost").feature_set()
    assert json.loads(text)["featureset"]["features"][0]["template"] == zero_when_unmatched(
        {"match": {"title": {"query": "{{keywords}}", "boost": 2.2}}})


def test_a_feature_no_tree_splits_on_is_a_constant_in_the_feature_set_not_a_template(ranking):
    names = ["bm25:title", "bm25:body", "bm25r:title", "lm_dirichlet:body", "x4", "x5"]
    X = np.array(ranking.X)
    X[:, 4] = 1.0  # constant: no tree can split on it
    model = Ranker(n_estimators=3, min_child_samples=3, preset=None, n_jobs=1).fit(
        X, ranking.y, group=np.diff(ranking.group_ptr), feature_names=names)
    model.feature_set_ = DESCRIPTION
    out = export(model, "es-xgboost")
    assert out.unused[0] == "x4" and '"x4"' not in out.text
    text, notes = out.feature_set()
    feats = json.loads(text)["featureset"]["features"]
    assert [f["name"] for f in feats] == names and feats[4]["template"] == {"match_none": {}}
    assert feats[0]["template"] == zero_when_unmatched({"match": {"title": {"query": "{{keywords}}", "boost": 2.2}}})
    assert any(n.startswith(f"{len(out.unused)} of 6 features are read by no part of the model") for n in notes)
    # a feature a tree does use stays a template to fill
    used = [n for n in names[2:] if n not in out.unused]
    assert used and all("ltrkit_fill_in" in f["template"] for f in feats if f["name"] in used)


def test_no_feature_set_is_written_for_an_export_against_the_engines_own(ranking, named, tmp_path, capsys):
    # the engine has the target set and its queries: a definition written from the names would replace them with
    # templates (in Solr, for every model of the store)
    model = Ranker(n_estimators=3, min_child_samples=3, preset=None, n_jobs=1).fit(
        ranking.X, ranking.y, group=np.diff(ranking.group_ptr), feature_names=named)
    out = export(model, "es-xgboost", target_features=[*named, "extra"])
    with pytest.raises(ExportError, match="exported against the engine's existing feature set"):
        out.feature_set()
    model.save(tmp_path / "m.txt")
    (tmp_path / "target.txt").write_text("\n".join([*named, "extra"]) + "\n")
    assert main(["export", str(tmp_path / "m.txt"), "--to", "es-xgboost", "--out", str(tmp_path / "x.json"),
                 "--target-features", str(tmp_path / "target.txt"), "--feature-set-out",
                 str(tmp_path / "fs.json")]) == 2
    assert "leave --feature-set-out out" in capsys.readouterr().err and not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(("content", "names"), [
    ('{"featureset": {"name": "x", "features": [{"name": "a"}, {"name": "b"}]}}', ["a", "b"]),
    ('{"_source": {"featureset": {"features": [{"name": "a"}]}}}', ["a"]),
    ('[{"store": "s", "name": "a", "class": "c"}, {"name": "b"}]', ["a", "b"]),
    ("# names\na\n\nb\n", ["a", "b"]),
])
def test_a_target_feature_set_is_read_from_either_engines_json_or_a_list(tmp_path, content, names):
    path = tmp_path / "fs"
    path.write_text(content)
    assert read_feature_names(path) == names


@pytest.mark.parametrize(("content", "message"), [
    ('{"featureset": 3}', r"not a feature set"),
    ('{"featureset": ', r":1: not valid JSON"),
    ("a\nb c\n", r":2: a feature name has no spaces or tabs \(one name per line; token 'b c'\)"),
    ("\n# nothing\n", r"no feature names"),
])
def test_a_bad_target_feature_set_file_is_named_with_its_line(tmp_path, content, message):
    path = tmp_path / "fs.txt"
    path.write_text(content)
    with pytest.raises(ExportError, match=message):
        read_feature_names(path)


# ------------------------------------------------------------------------------------------------------------------
# ltr export
# ------------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved(tmp_path_factory, ranking, named):
    folder = tmp_path_factory.mktemp("export_cli")
    with_names = folder / "named.txt"
    Ranker(n_estimators=4, min_child_samples=3, preset=None, n_jobs=1).fit(
        ranking.X, ranking.y, group=np.diff(ranking.group_ptr), feature_names=named).save(with_names)
    without = folder / "unnamed.json"
    Ranker(engine="xgboost", n_estimators=4, preset=None, n_jobs=1).fit(ranking.X, ranking.y,
                                                                        group=np.diff(ranking.group_ptr)).save(without)
    return with_names, without


def test_cli_writes_the_model_and_its_feature_set(saved, tmp_path, capsys, named):
    out, fs = tmp_path / "m.json", tmp_path / "fs.json"
    code = main(["export", str(saved[0]), "--to", "es-xgboost", "--out", str(out), "--feature-set-out", str(fs),
                 "--name", "news-v1"])
    assert code == 0
    body = json.loads(out.read_text())
    assert body["model"]["name"] == "news-v1" and body["model"]["model"]["type"] == "model/xgboost+json"
    assert [f["name"] for f in json.loads(fs.read_text())["featureset"]["features"]] == named
    err = capsys.readouterr().err
    assert "templates to fill" in err and f"wrote es-xgboost model to {out}" in err


def test_cli_replaces_the_model_and_its_feature_set_together(saved, tmp_path, capsys, monkeypatch):
    """A failure writing the feature set left the new model beside the previous feature set, exit 1 (trial
    t48/export): the two are written as one unit. The disk is full from the second file's write on."""
    import errno

    from ltr.io import outputs as outputs_module

    out, fs = tmp_path / "m.json", tmp_path / "fs.json"
    out.write_text("OLD-MODEL\n")
    fs.write_text("OLD-FEATURESET\n")
    real, calls = outputs_module.os.fsync, []

    def full_after_one(fd):
        calls.append(fd)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(outputs_module.os, "fsync", full_after_one)
    assert main(["export", str(saved[0]), "--to", "es-xgboost", "--out", str(out), "--feature-set-out",
                 str(fs)]) == 1
    assert "no space left on device" in capsys.readouterr().err
    assert out.read_text() == "OLD-MODEL\n" and fs.read_text() == "OLD-FEATURESET\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fs.json", "m.json"]  # no temporary file left


def test_cli_takes_feature_names_for_an_unnamed_model_and_says_when_they_are_needed(saved, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert main(["export", str(saved[1]), "--to", "solr", "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"ltr export: error: {saved[1]}: the model does not name its features") and "\n" not in err
    assert err.endswith("pass --feature-names a,b,... (or @FILE, one per line) with its 6 names, in column order")
    assert "feature_names=" not in err  # the flag only, not the Python argument
    assert main(["export", str(saved[1]), "--to", "solr", "--out", str(out), "--feature-names", "a,b"]) == 1
    assert "error: --feature-names: 2 names for a model of 6 features" in capsys.readouterr().err
    assert main(["export", str(saved[1]), "--to", "es-ranklib", "--out", str(out), "--feature-names",
                 ",".join(f"g{j}" for j in range(6))]) == 1  # XGBoost's missing values differ from its zeros
    err = capsys.readouterr().err
    assert "pass --missing zero if the model's missing values are zeros" in err and "missing='zero'" not in err
    names = tmp_path / "names.txt"
    names.write_text("\n".join(f"g{j}" for j in range(6)) + "\n")
    assert main(["export", str(saved[1]), "--to", "solr", "--out", str(out), "--feature-names", f"@{names}",
                 "--missing", "zero", "--quiet"]) == 0
    model = json.loads(out.read_text())
    assert model["class"] == "org.apache.solr.ltr.model.MultipleAdditiveTreesModel" and model["store"] == "ltrkit"
    assert main(["export", str(saved[1]), "--to", "es-ranklib", "--out", str(out),
                 "--feature-names", ",".join(f"g{j}" for j in range(6)), "--missing", "zero", "--quiet"]) == 0


def test_cli_refuses_an_unknown_format_as_a_usage_error_and_a_missing_target_feature_by_name(saved, tmp_path,
                                                                                              capsys):
    out = tmp_path / "m.json"
    assert main(["export", str(saved[0]), "--to", "vespa", "--out", str(out)]) == 2
    assert "invalid choice: 'vespa'" in capsys.readouterr().err
    target = tmp_path / "target.txt"
    target.write_text("f0\n")
    assert main(["export", str(saved[0]), "--to", "es-xgboost", "--out", str(out), "--target-features",
                 str(target)]) == 1
    err = capsys.readouterr().err
    assert ("the model uses features 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', which the target feature set lacks; the set "
            "has 1: f0\n") in err and not out.exists()  # every one named (trial t70: the first and a count)


@pytest.mark.parametrize(("default_left", "noted"), [(True, False), (False, True)])
def test_es_xgboost_notes_a_node_whose_missing_value_goes_another_way_than_0(default_left, noted):
    # x <= 0.5 goes left, so 0 goes left; a missing value goes left only with default_left
    out = export(stump(missing_type=2, default_left=default_left), "es-xgboost", feature_names=NAMES,
                 missing="nan")
    notes = [n for n in out.notes if "send a missing value and 0 different ways" in n]
    assert bool(notes) == noted
    if noted:
        assert notes[0].startswith("es-xgboost: 1 split nodes send a missing value and 0 different ways (first: "
                                   "tree 0 node 0)")
        assert "older plugins" in notes[0] and "pass --missing zero (missing='zero')" in notes[0]
    assert not any("different ways" in n for n in export(stump(missing_type=2, default_left=default_left),
                                                         "es-xgboost", feature_names=NAMES, missing="zero").notes)


def test_the_notes_name_the_analysis_the_bm25_queries_need():
    """A new user's trial: 'give the field ... the analysis the model was trained with' did not say which."""
    from features import Analyzer

    names = ["bm25:title", "lm_dirichlet:body"]
    _, notes = feature_set_definition(names, "es", description=DESCRIPTION)
    assert not any("the model's analysis was" in n for n in notes)  # a description without one: nothing to say
    described = {**DESCRIPTION, "analyzer": Analyzer().to_dict()}
    for family, engine_words in (("es", "Elasticsearch's default standard analyzer keeps stop words"),
                                 ("solr", "Solr text field type")):
        _, notes = feature_set_definition(names, family, description=described)
        said = [n for n in notes if n.startswith("the model's analysis was")]
        assert len(said) == 1 and engine_words in said[0]
        assert ("no Unicode normalisation, tokens \\w+ with combining marks inside, each Han ideograph and "
                "Hiragana character a token, lowercased, lucene stop words (33), porter stemming of tokens of 3 "
                "characters or more") in said[0]
    _, notes = feature_set_definition(["lm_dirichlet:body"], "es", description=described)
    assert not any("the model's analysis was" in n for n in notes)  # no BM25 query mapped


def _evaluate_es_xgboost(text: str, X: np.ndarray, names: list[str]) -> np.ndarray:
    """The plugin's rule, from its documentation: ``split_condition > x`` (float32) goes to ``yes``, NaN to
    ``missing``; the float32 sum of the trees' leaves."""
    col = {n: j for j, n in enumerate(names)}

    def walk(node, row):
        while "leaf" not in node:
            x = F32(row[col[node["split"]]])
            to = node["missing"] if np.isnan(x) else node["yes"] if F32(node["split_condition"]) > x else node["no"]
            node = next(c for c in node["children"] if c["nodeid"] == to)
        return F32(node["leaf"])

    trees = json.loads(text)["model"]["model"]["definition"]
    out = np.zeros(X.shape[0], dtype=F32)
    for i, row in enumerate(X):
        for tree in trees:
            out[i] = F32(out[i] + walk(tree, row))
    return out


def test_an_early_stopped_engine_booster_exports_the_rounds_its_predict_uses():
    """LightGBM's Booster.predict uses its best iteration, and export() took every tree (max |d| 0.99 on MQ2008,
    trial t48/export); XGBoost's Booster.predict uses every round: exported so, with a note where early stopping
    recorded a best iteration."""
    import xgboost as xgb

    d, v = make_ranking(60, (5, 10), 4, random_state=0), make_ranking(30, (5, 10), 4, random_state=1)
    names = [f"f{j}" for j in range(4)]
    train = lgb.Dataset(d.X, d.y, group=np.diff(d.group_ptr), feature_name=names)
    valid = lgb.Dataset(v.X, v.y, group=np.diff(v.group_ptr), reference=train)
    b = lgb.train({"objective": "lambdarank", "verbose": -1, "num_threads": 1, "learning_rate": 0.3,
                   "num_leaves": 7, "min_data_in_leaf": 2}, train, 200, valid_sets=[valid],
                  callbacks=[lgb.early_stopping(5, verbose=False)], keep_training_booster=True)
    assert 0 < b.best_iteration < b.num_trees()
    out = export(b, "es-xgboost", missing="nan")
    assert np.allclose(_evaluate_es_xgboost(out.text, v.X, names), b.predict(v.X), rtol=0, atol=1e-5)
    assert any(f"best_iteration {b.best_iteration} (early stopping): its first {b.best_iteration} rounds" in n
               for n in out.notes)

    dx = xgb.DMatrix(d.X, d.y, group=np.diff(d.group_ptr), feature_names=names)
    dv = xgb.DMatrix(v.X, v.y, group=np.diff(v.group_ptr), feature_names=names)
    bx = xgb.train({"objective": "rank:ndcg", "eta": 0.3, "max_depth": 3, "nthread": 1}, dx, 200,
                   evals=[(dv, "v")], early_stopping_rounds=5, verbose_eval=False)
    assert bx.best_iteration + 1 < bx.num_boosted_rounds()
    out = export(bx, "es-xgboost", missing="nan")
    margins = bx.predict(xgb.DMatrix(v.X, feature_names=names), output_margin=True)
    assert np.array_equal(_evaluate_es_xgboost(out.text, v.X, names), margins)
    assert any(f"best_iteration {bx.best_iteration} (early stopping) is not used" in n for n in out.notes)


def test_an_engine_estimator_is_told_to_pass_its_booster():
    d = make_ranking(10, 5, 3, random_state=0)
    est = lgb.LGBMRanker(n_estimators=2, verbose=-1).fit(d.X, d.y, group=np.diff(d.group_ptr))
    with pytest.raises(TypeError, match=r"pass its booster, LGBMRanker\.booster_"):
        export(est, "es-xgboost", feature_names=["a", "b", "c"])


def test_es_xgboost_counts_the_nodes_opensearch_3_3_to_3_5_take_the_other_way():
    """Those versions send NaN to 'no' whatever 'missing' says; the docstring said missing='zero' scored the same
    on every version, and no note counted such nodes (trial t48/export)."""
    left = export(stump(0.5), "es-xgboost", feature_names=NAMES, missing="zero")  # 0 <= 0.5: 0 goes 'yes'
    said = [n for n in left.notes if "OpenSearch LTR 3.2 to 3.7 send NaN to 'no'" in n]
    assert len(said) == 1 and said[0].startswith("es-xgboost: 1 of 1 split nodes send a missing value to 'yes'")
    assert "match_all of boost 0" in said[0]
    right = export(stump(-0.5), "es-xgboost", feature_names=NAMES, missing="zero")  # 0 > -0.5: 0 goes 'no'
    assert not any("3.2 to 3.7" in n for n in right.notes)


def test_cli_names_the_flag_of_a_bad_name_and_leaves_out_a_plain_models_note_on_data(saved, tmp_path, capsys):
    """--name/--store errors said 'name must be ...' without the flag; a plain LightGBM model's export repeated
    ltr predict's note on reading DATA as float64, where an export reads no data (trial t48/export)."""
    out = tmp_path / "m.json"
    for flag in ("--name", "--store"):
        # a usage error, as --name '' is (it exited 1; trial t65)
        assert main(["export", str(saved[0]), "--to", "es-xgboost", "--out", str(out), flag, "a b"]) == 2
        assert capsys.readouterr().err.startswith(f"ltr export: error: {flag} 'a b': must be a plain name")
    plain = tmp_path / "plain.txt"
    plain.write_text((saved[0]).read_text())  # the model text without its sidecar: a plain LightGBM model
    assert main(["export", str(plain), "--to", "es-xgboost", "--out", str(out), "--feature-names",
                 ",".join(f"x{j}" for j in range(6))]) == 0
    err = capsys.readouterr().err
    assert "a plain lightgbm model without an ltrkit sidecar" in err and "DATA" not in err and "float64" not in err


def _chain(depth: int, path) -> None:
    """A valid LightGBM model of one tree, a chain ``depth`` splits deep (x <= i + 0.5: leaf i, else on)."""
    x = np.arange(10, dtype=float)[:, None]
    text = lgb.train({"objective": "regression", "verbose": -1, "num_leaves": 2, "min_data_in_leaf": 1,
                      "min_data_in_bin": 1}, lgb.Dataset(x, x[:, 0]), 1).model_to_string()
    head, rest = text.split("Tree=0\n", 1)
    n = depth + 1
    tree = {"num_leaves": n, "num_cat": 0, "split_feature": " ".join(["0"] * depth),
            "split_gain": " ".join(["1"] * depth), "threshold": " ".join(repr(i + 0.5) for i in range(depth)),
            "decision_type": " ".join(["2"] * depth), "left_child": " ".join(str(-(i + 1)) for i in range(depth)),
            "right_child": " ".join(str(i + 1) if i + 1 < depth else str(-n) for i in range(depth)),
            "leaf_value": " ".join(repr(float(i)) for i in range(n)), "leaf_weight": " ".join(["1"] * n),
            "leaf_count": " ".join(["1"] * n), "internal_value": " ".join(["0"] * depth),
            "internal_weight": " ".join(["1"] * depth), "internal_count": " ".join(["1"] * depth),
            "is_linear": 0, "shrinkage": 1}
    body = "Tree=0\n" + "".join(f"{k}={v}\n" for k, v in tree.items()) + "\n\n"
    path.write_text(re.sub(r"tree_sizes=.*\n", "", head) + body + rest[rest.index("end of trees"):])
    assert lgb.Booster(model_file=str(path)).predict(np.array([[depth + 5.0]]))[0] == depth


def test_a_deep_tree_is_exported_or_refused_by_its_depth_never_a_recursion_error(tmp_path, capsys):
    """A valid chain 500 splits deep failed 'maximum recursion depth exceeded' in es-xgboost, and from 1000 in every
    format, naming neither tree nor depth (trial t50/export); ltr predict scores it. es-ranklib (no JSON nesting)
    exports any depth now; the JSON formats refuse, by tree and depth, what their readers would not parse."""
    out = tmp_path / "m.out"
    for depth, fmt, ok in ((450, "es-xgboost", True), (451, "es-xgboost", False), (1200, "es-ranklib", True),
                           (800, "solr", True), (1200, "solr", False)):
        _chain(depth, tmp_path / f"chain{depth}.txt")
        code = main(["export", str(tmp_path / f"chain{depth}.txt"), "--to", fmt, "--out", str(out),
                     "--feature-names", "x", "--quiet"])
        err = capsys.readouterr().err
        if ok:
            assert code == 0, err
            key = {"es-ranklib": "<threshold>", "es-xgboost": '"split_condition"', "solr": '"threshold"'}[fmt]
            assert out.read_text().count(key) == depth
        else:
            assert code == 1 and f"error: {fmt}: tree 0 is {depth} levels deep, over the " in err
            assert "train with a max_depth" in err and "recursion" not in err
