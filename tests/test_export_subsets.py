"""Models trained on a feature subset (``ltr train --features``, ``ltr cv --features --save-dir``): trained on ``ltr
features`` output they keep its feature set (the whole file's description plus the ids of their columns), so that
``ltr export`` treats them as trained on that output and ``ltr.serve.Reranker`` computes the whole set and scores
the recorded columns; trained on a file without feature names (ltrkit names the columns by their ids) they take the
whole file's names, id ``k`` to name ``k``.

The engines are re-scored by evaluators written here from the plugin's and RankLib's source (as in
``tests/test_export_parity.py``), not from ``ltr.export``:

* ``model/xgboost+json`` (``XGBoostJsonParser``, ``NaiveAdditiveDecisionTree``): children ``[yes, no]``; NaN goes to
  the ``missing`` child, else ``split_condition > x`` goes to ``yes``; float32 values, a float32 sum from 0. A feature
  whose query does not match the document is NaN (the plugin's ``SparseFeatureVector`` for XGBoost models);
* ``model/ranklib`` (RankLib's ``Ensemble`` / ``Split``): ``<feature>`` is the 1-based position in the plugin's
  feature set; a feature that does not match (or NaN) is 0; ``x <= threshold`` goes left; ``s += output * weight``
  with ``s`` a float.

The reference is ``ltr predict`` on the ``ltr features`` file: XGBoost's own ``predict`` (float32 sums, bit for bit).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pytest

from ltr import load_model
from ltr.cli import main
from ltr.exceptions import ExportError, ModelFormatError
from ltr.export import export
from ltr.io import read_letor, read_scores

F32 = np.float32
SUBSET = ["bm25:title", "bm25:body", "bm25:all", "first_stage_score"]  # ids 5, 6, 7, 1 of the ADI features
IDS = [5, 6, 7, 1]


def cli(*argv) -> None:
    assert main([str(a) for a in argv]) == 0


def f32(text) -> np.float32:
    with np.errstate(over="ignore"):
        return F32(float(text))


def plugin_xgboost(body: dict, feature_set: list[str], X: np.ndarray) -> np.ndarray:
    """The float32 score of each row of ``X`` (columns ``feature_set``) under a ``model/xgboost+json`` definition."""
    definition = body["model"]["model"]["definition"]
    ordinal = {n: i for i, n in enumerate(feature_set)}
    total = np.zeros(X.shape[0], dtype=np.float32)

    def walk(node, rows, out):
        if "leaf" in node:
            out[rows] = f32(node["leaf"])
            return
        yes, no = node["children"]
        assert (yes["nodeid"], no["nodeid"]) == (node["yes"], node["no"])
        x = X[rows, ordinal[node["split"]]]
        go_yes = np.where(np.isnan(x), node["missing"] == node["yes"], f32(node["split_condition"]) > x)
        walk(yes, rows[go_yes], out)
        walk(no, rows[~go_yes], out)

    for tree in definition:
        out = np.zeros(X.shape[0], dtype=np.float32)
        walk(tree, np.arange(X.shape[0]), out)
        total = total + out
    return total


def plugin_ranklib(body: dict, X: np.ndarray) -> np.ndarray:
    """The float32 score of each row of ``X`` (columns in the plugin's feature-set order) under a RankLib
    LambdaMART text: ``#`` lines skipped, lines trimmed and joined, read as XML."""
    text = body["model"]["model"]["definition"]
    assert body["model"]["model"]["type"] == "model/ranklib"
    joined = "".join(s.strip() for s in text.splitlines() if s.strip() and not s.strip().startswith("#"))
    X0 = np.where(np.isnan(X), F32(0), X)
    s = np.zeros(X.shape[0], dtype=np.float32)

    def walk(split, rows, out):
        kids = list(split)
        if kids[0].tag == "output":
            out[rows] = np.float64(f32(kids[0].text.strip()))
            return
        x = X0[rows, int(kids[0].text.strip()) - 1]
        left = x <= f32(kids[1].text.strip())
        walk(kids[2], rows[left], out)
        walk(kids[3], rows[~left], out)

    for tree in ET.fromstring(joined).iter("tree"):
        out = np.zeros(X.shape[0], dtype=np.float64)
        (root,) = list(tree)
        walk(root, np.arange(X.shape[0]), out)
        s = (s.astype(np.float64) + out * np.float64(f32(tree.get("weight")))).astype(np.float32)
    return s


@pytest.fixture(scope="module")
def adi(shared_file, tmp_path_factory):
    """ADI's ``ltr features`` output, an XGBoost model of four of its columns, fold models of the same subset from
    ``ltr cv --save-dir``, and ``ltr predict``'s scores of the whole file for each."""
    f = tmp_path_factory.mktemp("subsets")
    coll = shared_file("adi")
    letor, run = f / "adi.letor", f / "bm25.run"
    cli("features", "--collection", coll, "--topk", 15, "--out", letor, "--save-run", run, "--quiet")
    size = ["--engine", "xgboost", "--rounds", 20, "--leaves", 7, "--min-child-samples", 5, "--preset", "none",
            "--quiet"]
    cli("train", letor, "--features", ",".join(SUBSET), *size, "--out", f / "sub.json", "--format", "json")
    cli("cv", letor, "--folds", 2, "--features", ",".join(SUBSET), *size, "--save-dir", f / "folds",
        "--format", "json")
    fold = f / "folds" / "Fold1"
    models = {"train": f / "sub.json", "cv": fold / ("model.json" if (fold / "model.json").exists() else "model.txt")}
    scores = {}
    for k, m in models.items():
        cli("predict", m, letor, "--out", f / f"{k}.scores", "--quiet")
        scores[k] = read_scores(f / f"{k}.scores")
    return SimpleNamespace(folder=f, coll=coll, letor=letor, run=run, data=read_letor(letor), models=models,
                           scores=scores)


def test_an_xgboost_fold_model_is_named_as_xgboost_names_its_json_and_an_older_name_still_reads(adi, tmp_path):
    fold = adi.folder / "folds" / "Fold1"
    assert sorted(p.name for p in fold.iterdir()) == ["model.json", "model.json.meta.json", "per_query.tsv",
                                                      "test.scores"]
    assert json.loads((fold / "model.json").read_text())["learner"]  # XGBoost's JSON model
    for name in ("model.json", "model.json.meta.json"):  # a folder of an earlier run: model.txt, the same content
        (tmp_path / name.replace(".json", ".txt", 1)).write_bytes((fold / name).read_bytes())
    assert np.array_equal(load_model(tmp_path / "model.txt").predict(adi.data.X[:, np.array(IDS) - 1]),
                          adi.scores["cv"])


@pytest.mark.parametrize("kind", ["train", "cv"])
def test_a_subset_model_keeps_the_whole_files_description_and_its_ids(adi, kind):
    meta = json.loads(adi.models[kind].with_name(adi.models[kind].name + ".meta.json").read_text())
    assert meta["read_options"]["features"] == {"ids": IDS, "n_features": adi.data.n_features}
    assert meta["feature_set"]["columns"] == list(adi.data.feature_names)
    assert meta["feature_names"] == SUBSET
    assert load_model(adi.models[kind]).feature_set_["columns"] == list(adi.data.feature_names)


@pytest.mark.parametrize("kind", ["train", "cv"])
def test_a_subset_model_exports_as_a_model_of_ltr_features_output(adi, kind):
    # The plugin has no value (NaN) for a BM25 feature whose match query does not match; the model saw 0 there.
    # Exported as a model without a feature set (missing='nan'), 20% of Cranfield's rows scored otherwise.
    out = export(adi.models[kind], "es-xgboost")
    assert out.missing == "zero" and any("missing values go where 0 goes" in n for n in out.notes)
    fs = {f["name"]: f["template"] for f in json.loads(out.feature_set()[0])["featureset"]["features"]}
    assert fs["bm25:title"] == {"bool": {"should": [{"match": {"title": {"query": "{{keywords}}", "boost": 2.2}}},
                                                    {"match_all": {"boost": 0.0}}]}}
    X = adi.data.X[:, np.array(IDS) - 1].astype(np.float32)
    seen = X.copy()
    seen[:, :3][seen[:, :3] == 0] = np.nan  # the BM25 features that did not match
    assert np.isnan(seen).any()
    got = plugin_xgboost(json.loads(out.text), list(out.feature_names), seen)
    assert np.array_equal(got.astype(np.float64), adi.scores[kind])  # bit for bit, as XGBoost sums in float32
    # RankLib reads an unmatched feature as 0, as the training data had: exported, not refused
    ranklib = export(adi.models[kind], "es-ranklib")
    total = plugin_ranklib(json.loads(ranklib.text), seen)
    assert np.array_equal(total.astype(np.float64), adi.scores[kind])
    solr = json.loads(export(adi.models[kind], "solr", inexact="nearest").feature_set()[0])
    assert not any("defaultValue" in e["params"] for e in solr)  # Solr's own 0 for a feature that does not match


@pytest.mark.parametrize("kind", ["train", "cv"])
def test_a_subset_model_reranks_as_ltr_predict_scores_the_ltr_features_file(adi, kind):
    from features.serve import Reranker

    reranker = Reranker.load(adi.models[kind], collection=adi.coll)
    assert reranker.feature_names == adi.data.feature_names and reranker.subset == tuple(IDS)
    d = adi.data
    for q in range(0, d.n_queries, 5):
        a, b = d.group_ptr[q], d.group_ptr[q + 1]
        X = reranker.features(_query_text(adi, str(d.qid[a])), list(d.doc_ids[a:b]),
                              scores=d.X[a:b, 0].astype(np.float64))
        assert np.array_equal(X, d.X[a:b])  # the whole set, as ltr features wrote it
        assert np.array_equal(reranker.score(X), adi.scores[kind][a:b])


def _query_text(adi, qid: str) -> str:
    from features.pipeline import load_inputs

    if not hasattr(adi, "texts"):
        adi.texts = dict(load_inputs(adi.coll).queries.items())
    return adi.texts[qid]


def test_a_subset_description_that_does_not_fit_the_ids_is_refused_and_an_older_subset_model_loads(adi, tmp_path):
    model = load_model(adi.models["train"])
    model.feature_set_ = {**model.feature_set_, "columns": model.feature_set_["columns"][:10]}  # not 88 wide
    model.save(tmp_path / "bad.json")
    with pytest.raises(ModelFormatError, match=r"feature_set must be a feature-set description naming the model's 4 "
                                               r"columns, or the 88 columns of the file"):
        load_model(tmp_path / "bad.json")
    model.feature_set_ = None  # as subset models were saved before they kept it
    model.save(tmp_path / "old.json")
    old = load_model(tmp_path / "old.json")
    assert old.feature_set_ is None and old.read_options_["features"]["ids"] == IDS
    assert export(old, "es-xgboost").missing == "nan"  # nothing says it was ltr features output


# -- a subset of a file without feature names ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mq(shared_file, tmp_path_factory):
    f = tmp_path_factory.mktemp("mq_subset")
    data = shared_file("mq2008/Fold1/vali.txt.gz")
    cli("train", data, "--features", "1,3,5,12,40", "--engine", "xgboost", "--rounds", 15, "--preset", "none",
        "--quiet", "--format", "json", "--out", f / "sub.json")
    cli("predict", f / "sub.json", data, "--out", f / "sub.scores", "--quiet")
    X = read_letor(data).X[:300].astype(np.float32)
    return SimpleNamespace(model=f / "sub.json", X=X, scores=read_scores(f / "sub.scores")[:300],
                           names=[f"f{j + 1}" for j in range(46)])


def test_the_whole_files_names_name_a_subset_model_by_its_ids(mq):
    ids = [1, 3, 5, 12, 40]
    by_file = export(mq.model, "es-xgboost", feature_names=mq.names)
    assert by_file.feature_names == tuple(f"f{i}" for i in ids)
    assert export(mq.model, "es-xgboost", feature_names=[f"f{i}" for i in ids]).text == by_file.text
    got = plugin_xgboost(json.loads(by_file.text), list(by_file.feature_names), mq.X[:, np.array(ids) - 1])
    assert np.array_equal(got.astype(np.float64), mq.scores)
    # the engine's whole feature set: RankLib's ids are the positions in it, the file's own ids
    ranklib = export(mq.model, "es-ranklib", target_features=mq.names, missing="zero")  # MQ2008 has no NaN
    assert ranklib.feature_names == tuple(mq.names)
    body = json.loads(ranklib.text)
    assert {int(s) for s in re.findall(r"<feature> (\d+) </feature>", body["model"]["model"]["definition"])} <= \
        set(ids)
    assert np.array_equal(plugin_ranklib(body, mq.X).astype(np.float64), mq.scores)


def test_names_of_another_count_are_refused_without_claiming_the_model_names_its_features(mq, tmp_path, capsys):
    with pytest.raises(ExportError, match=r"7 names for a model trained on features 1,3,5,12,40 of a 46-feature "
                                          r"file .*give the file's 46 names \(id k takes name k\) or the 5") as e:
        export(mq.model, "es-xgboost", feature_names=[f"g{j}" for j in range(7)])
    assert "already names" not in str(e.value)
    assert main(["export", str(mq.model), "--to", "es-xgboost", "--feature-names", "a,b", "--out",
                 str(tmp_path / "x.json")]) != 0
    err = capsys.readouterr().err
    assert "--feature-names: 2 names for a model trained on features 1,3,5,12,40" in err
    assert "already names" not in err


def test_es_ranklib_says_its_ids_are_positions_in_the_models_own_set_not_the_files(mq, tmp_path, capsys):
    # a trial scored the export against the file's whole feature set (ids 1, 3, 5, 12, 40 as RankLib's -feature keeps
    # them) and got other scores: the export numbers the model's own 5 features 1-5, which it now says
    own = export(mq.model, "es-ranklib", feature_names=mq.names, missing="zero")
    (note,) = [n for n in own.notes if "RankLib's feature ids" in n]
    assert "here the model's own 5 features (ids 1-5), not the ids of the file it was trained on (1, 3, 5, 12, ...)" \
        in note
    ids = {int(s) for s in re.findall(r"<feature> (\d+) </feature>", json.loads(own.text)["model"]["model"][
        "definition"])}
    assert ids <= {1, 2, 3, 4, 5} and len(ids) > 1  # what the note says
    targeted = export(mq.model, "es-ranklib", target_features=mq.names, missing="zero")
    assert not any("RankLib's feature ids" in n for n in targeted.notes)
    assert main(["export", str(mq.model), "--to", "es-ranklib", "--feature-names", "@" + str(tmp_path / "none.txt"),
                 "--out", str(tmp_path / "x.json")]) == 1
    assert "none.txt (--feature-names @FILE): no such file\n" in capsys.readouterr().err
