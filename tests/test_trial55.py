"""Behaviours mended in stop 55."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltr import Ranker
from ltr.datasets import make_ranking
from ltr.exceptions import ModelFormatError


def test_the_trees_loader_names_a_linear_model_as_one(tmp_path):
    """``ltr.trees.load`` of an ltrkit linear model said ``$.learner: is missing`` (t52 left alone): it says what the
    file is, and what reads it."""
    import ltr.trees

    path = tmp_path / "lin.json"
    Ranker(engine="linear", engine_params={"n_restarts": 1}).fit(make_ranking(10, 5, 4, random_state=0)).save(path)
    with pytest.raises(ModelFormatError) as e:
        ltr.trees.load(path)
    assert str(e.value) == (f"{path}: an ltrkit linear model (ltrkit-linear/1), not a tree ensemble: "
                            f"ltr.load_model({str(path)!r}) reads and scores it")


@pytest.mark.parametrize("name, said", [("my model", " (it has a space)"), ("a,b", " (it has ',')"),
                                        ("x#1", " (it has '#')"), ("_x", "")])
def test_a_name_export_refuses_says_the_rule_as_applied_and_the_character(name, said, capsys):
    """The rule read 'letters, digits, '.', ':'' where '!', '+' or '(' pass, and did not name the character found."""
    from ltr.export import ExportError
    from ltr.export.registry import _check_name

    assert _check_name("model-v2!(b)+", "name") == "model-v2!(b)+"
    with pytest.raises(ExportError) as e:
        _check_name(name, "name")
    assert str(e.value) == ("name must be a plain name (no space or any of , \" / \\ * ? < > | #, no leading '_' or "
                            f"'-'), got {name!r}{said}")


def test_a_fused_score_past_a_double_is_named_as_the_sum_not_blamed_on_a_run(tmp_path, capsys):
    """CombSUM of two runs' finite scores near 1e308 said 'warning: RuntimeWarning: overflow encountered in add' and
    'fused run: query 1 document d1 has score inf', as if an input held it (t54 left alone)."""
    from ltr.cli import main
    from ltr.exceptions import ComparisonDataError
    from ltr.fusion import fuse

    a, b, out = tmp_path / "a.run", tmp_path / "b.run", tmp_path / "f.run"
    a.write_text("1 Q0 d1 1 1e308 a\n1 Q0 d2 2 5 a\n")
    b.write_text("1 Q0 d1 1 1e308 b\n1 Q0 d2 2 3 b\n")
    out.write_text("kept\n")
    assert main(["fuse", str(a), str(b), "--method", "wsum", "--norm", "none", "--weights", "1,1",
                 "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        "ltr fuse: error: the fused score of query 1 document d1 overflows a double (inf): its runs' weighted scores "
        "add up past 1.8e308 (--norm none); normalise them (--norm minmax, zscore, ...) or give smaller weights\n")
    assert out.read_text() == "kept\n"
    with pytest.raises(ComparisonDataError, match=r"add up past 1\.8e308 \(norm='none'\); normalise them "
                                                  r"\(norm='minmax', 'zscore', \.\.\.\)$"):
        fuse([a, b], method="combsum", norm="none")
    assert fuse([a, b], method="combsum")["score"].tolist() == [2.0, 0.0]  # minmax: no overflow


def test_a_solr_model_names_the_store_of_its_target_features(tmp_path, capsys):
    """``--target-features`` of a Solr feature store (each feature naming ``"store": "myStore"``) exported a model of
    store 'ltrkit' (--name), where Solr finds none of its features (t54 left alone)."""
    import lightgbm as lgb

    from ltr.cli import main

    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    model = tmp_path / "m.txt"
    lgb.train({"objective": "regression", "verbose": -1, "min_data_in_leaf": 5}, lgb.Dataset(X, X[:, 0]),
              2).save_model(model)
    features = [{"store": "myStore", "name": n, "class": "org.apache.solr.ltr.feature.SolrFeature",
                 "params": {"q": "{!func}1"}} for n in ("a", "b", "c")]
    store, out = tmp_path / "store.json", tmp_path / "solr.json"
    store.write_text(json.dumps({"responseHeader": {"status": 0}, "features": features}))  # Solr's GET response
    args = ["export", str(model), "--to", "solr", "--feature-names", "a,b,c", "--target-features", str(store),
            "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert json.loads(out.read_text())["store"] == "myStore"
    assert main([*args, "--store", "other"]) == 2
    assert capsys.readouterr().err.endswith(
        f"--store 'other': the features of --target-features {store} are in Solr's feature store 'myStore', where a "
        "model of store 'other' finds none of them; leave --store out (or give that store's features)\n")
    store.write_text(json.dumps([{**f, "store": "_DEFAULT_"} for f in features]))  # Solr's own default store
    assert main(args) == 0 and json.loads(out.read_text())["store"] == "_DEFAULT_"
    store.write_text(json.dumps([features[0], {**features[1], "store": "s2"}, features[2]]))
    assert main(args) == 1
    assert "its features belong to 2 Solr feature stores ('myStore', 's2'); give one store's features" in \
        capsys.readouterr().err


@pytest.mark.parametrize("qids", [("7", "9"), ("qa", "qb")])
def test_features_refuses_an_out_whose_query_id_map_is_an_input(tmp_path, capsys, monkeypatch, qids):
    """``ltr features --queries w.letor.qids.tsv --out w.letor`` deleted the queries as a stale map (integer ids) or
    wrote the map over them (string ids), exit 0 (t55 retrieval)."""
    from ltr.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "title": "wing flutter"}\n{"_id": "d3", "title": "design"}\n')
    (tmp_path / "fs.toml").write_text('[[features]]\nscorer = "first_stage"\n')
    queries = tmp_path / "w.letor.qids.tsv"
    queries.write_text(f"{qids[0]}\twing\n{qids[1]}\tdesign\n")
    (tmp_path / "q.qrels").write_text(f"{qids[0]} 0 d1 1\n{qids[1]} 0 d3 1\n")
    assert main(["features", "--collection", "corpus.jsonl", "--queries", str(queries), "--qrels", "q.qrels",
                 "--features", "fs.toml", "--out", "w.letor", "--quiet"]) == 2
    assert capsys.readouterr().err == (
        "ltr features: error: --out w.letor: the query-id map written beside it (or removed there, as a stale map, "
        f"where the query ids are integers), w.letor.qids.tsv, is an input of this command ({queries}): give --out "
        "another name\n")
    assert queries.read_text() == f"{qids[0]}\twing\n{qids[1]}\tdesign\n" and not (tmp_path / "w.letor").exists()


@pytest.mark.parametrize("kwargs, error, match", [
    ({"k1": 1e308}, ValueError, r"^BM25Retriever: k1 must be at most 1e\+09 \(larger values overflow"),
    ({"k3": 1e308}, ValueError, r"^BM25Retriever: k3 must be at most 1e\+09"),
    ({"idf": "okapi", "epsilon": float("nan")}, ValueError, r"^BM25Retriever: epsilon must be a number >= 0, got nan"),
    ({"idf": "okapi", "epsilon": -5.0}, ValueError, r"epsilon must be a number >= 0, got -5\.0"),
    ({"epsilon": 0.1}, ValueError, r"^BM25Retriever does not take 'epsilon' here: it is the floor of idf='okapi'"),
    ({"dtype": np.int32}, TypeError, r"dtype must be a float dtype .*integer impacts truncate every score"),
])
def test_the_retriever_refuses_what_the_bm25_feature_refuses(kwargs, error, match):
    """BM25Retriever took k1/k3 = 1e308 (inf scores), epsilon nan or < 0 (nan, negative scores), epsilon without
    okapi (ignored) and an integer dtype (every score 0), which the bm25 feature it equals refuses (t55 retrieval)."""
    from features import Analyzer, InvertedIndex
    from features.collections import Collection
    from features.retrieval import BM25Retriever

    index = InvertedIndex.build(Collection(("a", "b", "c"), {"body": ["wing flutter", "heat", "wing wing"]}),
                                Analyzer(stemmer=None))
    with pytest.raises(error, match=match):
        BM25Retriever(index, **kwargs)
    okapi = BM25Retriever(index, idf="okapi", epsilon=0.5, dtype=np.float64).search({"q": "wing"}, k=3)
    assert okapi["docno"].tolist() == ["c", "a"] and np.isfinite(okapi["score"]).all()
