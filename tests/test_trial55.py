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
    assert str(e.value) == ("name must be a plain name (no space or other whitespace or control character, none of "
                            ", \" / \\ * ? < > | #, no leading '_' or '-', not '.' or '..'), got "
                            f"{name!r}{said}")


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
    ({"idf": "okapi", "epsilon": float("nan")}, ValueError,
     r"^BM25Retriever: epsilon must be a finite number >= 0, got nan"),
    ({"idf": "okapi", "epsilon": -5.0}, ValueError, r"epsilon must be a finite number >= 0, got -5\.0"),
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


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_the_trees_of_a_ranker_fitted_on_a_frame_check_its_column_names(tmp_path, engine):
    """``ltr.trees.load(p).predict(frame)`` compared a frame with the engine file's names (LightGBM's Column_k,
    XGBoost's none: Ranker.fit gives the engines arrays), so the Ranker's frame with two columns swapped was scored by
    position, off by up to 0.71, where ltr.load_model refuses it; a frame of the user's own columns named Column_1,
    Column_0, ... was refused as reordered (t55 pyapi)."""
    import pandas as pd

    import ltr.trees

    data = make_ranking(30, 8, 4, random_state=0)
    names = ["Column_1", "Column_0", "lm", "pagerank"]
    frame = pd.DataFrame(np.asarray(data.X), columns=names)
    ranker = Ranker(engine=engine, n_estimators=5).fit(frame, data.y, qid=data.qid)
    path = tmp_path / "m.txt"
    ranker.save(path)
    swapped = frame[["Column_0", "Column_1", "lm", "pagerank"]]
    for trees in (ltr.trees.load(path), ltr.trees.from_booster(ranker)):
        assert trees.feature_names == tuple(names)
        np.testing.assert_allclose(trees.predict(frame), ranker.predict(frame), rtol=1e-6, atol=1e-6)
        with pytest.raises(ValueError, match=r"another order \(column 0 counting from 0: 'Column_0', the model's "
                                             r"'Column_1'\)"):
            trees.predict(swapped)


def test_a_plain_lightgbm_models_spaced_names_in_another_order_are_said_so(tmp_path):
    """LightGBM saves a frame's 'my feat 0' as my_feat_0: the frame's columns reversed were called 'not in the
    model' where they are its columns in another order (t55 pyapi)."""
    import lightgbm as lgb
    import pandas as pd

    from ltr import load_model

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((40, 3)), columns=["my feat 0", "my feat 1", "my feat 2"])
    path = tmp_path / "plain.txt"
    lgb.train({"objective": "regression", "verbose": -1, "min_data_in_leaf": 5},
              lgb.Dataset(frame, frame["my feat 0"]), 2).save_model(path)
    with pytest.warns(UserWarning):
        model = load_model(path)
    model.predict(frame)
    with pytest.raises(ValueError, match=r"X's columns are the model's features in another order \(column 0 counting "
                                         r"from 0: 'my feat 2', the model's 'my_feat_0'\)"):
        model.predict(frame[frame.columns[::-1]])


def test_a_hand_built_dataset_with_a_nan_label_is_refused_as_arrays_are():
    """``Ranker().fit(RankingDataset(X, y_with_nan, ...))`` trained the NaN as label 0 (LightGBM) where the same
    arrays are refused; as an eval set the metric's words named no set (t55 pyapi)."""
    from ltr import RankingDataset

    data = make_ranking(6, 5, 3, random_state=0)
    y = np.asarray(data.y, dtype=np.float64).copy()
    y[5] = np.nan
    bad = RankingDataset(np.asarray(data.X), y, np.asarray(data.qid), np.asarray(data.group_ptr))
    for ranker in (Ranker(n_estimators=2), Ranker(engine="xgboost", n_estimators=2), Ranker(engine="linear")):
        with pytest.raises(ValueError, match=r"^X\.y has NaN labels \(first at row 5\); labels must be numbers$"):
            ranker.fit(bad)
    with pytest.raises(ValueError, match=r"^eval_set\[0\]\.y has NaN labels \(first at row 5\)"):
        Ranker(n_estimators=2).fit(data, eval_set=[bad])


def test_subset_takes_a_mask_and_refuses_positions_it_cannot_take():
    """``subset(mask)`` read the mask as positions 0 and 1 (157 queries of 2 ids for 17 wanted), 1.7 as 1, -1 and n
    raised numpy's errors (t55 pyapi). A repeated position stays a bootstrap sample's repeated query (the review)."""
    data = make_ranking(6, 4, 3, random_state=0)
    mask = np.array([False, True, False, True, True, False])
    assert data.subset(mask).equals(data.subset([1, 3, 4]))
    assert data.subset(mask).n_queries == 3 and data.subset([]).n_queries == 0
    assert data.subset([1.0, 3.0]).equals(data.subset([1, 3]))  # whole numbers as floats
    boot = data.subset([3, 3, 0])
    assert boot.n_queries == 3 and boot.n_rows == 12 and (np.asarray(boot.qid[:8]) == data.query_ids[3]).all()
    for given, error, match in [(mask[:5], IndexError, r"needs 6 entries, one per query; got shape \(5,\)"),
                                ([0, 1.7], TypeError, r"query positions must be whole numbers .*got 1\.7"),
                                ([-1], IndexError, r"query position -1 is outside 0\.\.5"),
                                ([6], IndexError, r"query position 6 is outside 0\.\.5 \(the dataset has 6 queries\)")]:
        with pytest.raises(error, match=match):
            data.subset(given)


def test_a_dataset_of_a_list_or_a_1d_x_and_a_verbose_string_are_refused_before_training():
    """A RankingDataset of a list failed in numpy's words (now read as the array it is, as a DataFrame was), a 1-d X
    at fit; ``verbose='x'`` after training, where -1 (LightGBM's silent) stays taken (t55 pyapi and its review)."""
    import pandas as pd

    from ltr import RankingDataset

    data = make_ranking(4, 3, 2, random_state=0)
    X, y, qid, ptr = np.asarray(data.X), np.asarray(data.y), np.asarray(data.qid), np.asarray(data.group_ptr)
    for given in (X.tolist(), pd.DataFrame(X)):
        np.testing.assert_array_equal(RankingDataset(given, y, qid, ptr).X, X)
    with pytest.raises(TypeError, match=r"^X must be a 2-d array or a SciPy sparse matrix .*shape \(12,\)$"):
        RankingDataset(X[:, 0], y, qid, ptr)
    with pytest.raises(ValueError, match=r"^y must be 1-d, one label per row, got shape \(12, 1\)$"):
        RankingDataset(X, y[:, None], qid, ptr)
    with pytest.raises(ValueError, match=r"^verbose must be a number \(0: quiet, 1: a progress bar, 2: each round's "
                                         r"metrics\), got 'x'$"):
        Ranker(verbose="x").fit(data)
    Ranker(verbose=-1, n_estimators=2, preset=None)._check_params()


def test_the_linear_ranker_refuses_an_unjudged_label_as_the_tree_engines_do():
    """``Ranker(engine="linear")`` trained on LETOR's -1 as a grade where the tree engines refuse it (t55 pyapi)."""
    from ltr.exceptions import LabelRangeError

    rng = np.random.default_rng(0)
    with pytest.raises(LabelRangeError, match=r"^the linear ranker needs labels >= 0 \(relevance grades start at 0\), "
                                              r"got label -1 at row 1 \(2 such label\(s\) in all\); drop the rows"):
        Ranker(engine="linear").fit(rng.random((6, 2)), [0, -1, 1, 0, 1, -1], group=[3, 3])
    Ranker(engine="linear", engine_params={"n_restarts": 1}).fit(rng.random((6, 2)), [0, 0.5, 1, 0, 1, 2.5],
                                                                  group=[3, 3])  # real grades: as before


def test_a_space_whose_highest_corner_the_ranker_refuses_is_refused_before_the_search(tmp_path, capsys):
    """n_steps {25, 300} x step_scale {2, 3} passed each value alone; the search ended at the first trial drawing
    300 and 3 (after fits were spent), and every resumed run at the same seeded draw (t55 linear-tune)."""
    from ltr.cli import main
    from ltr.tuning.space import load_space

    space = tmp_path / "combo.toml"
    space.write_text("[engine_params.n_steps]\nchoices = [25, 300]\n\n"
                     "[engine_params.step_scale]\nchoices = [2.0, 3.0]\n")
    assert main(["tune", "--show-space", "--engine", "linear", "--space", str(space)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ltr tune: error: {space}: the ranker refuses the highest value of every range together "
                          "(engine_params.n_steps = 300, engine_params.step_scale = 3.0), which trials draw near: ")
    assert err.rstrip().endswith("lower n_steps or step_scale; narrow the ranges")
    load_space({"engine_params.n_steps": {"choices": [25, 300]}, "engine_params.step_scale": {"choices": [2.0, 1.5]}},
               Ranker(engine="linear"))  # the corner 300 x 1.5 is held
    for engine in ("lightgbm", "xgboost", "linear"):  # the default spaces pass
        load_space(None, Ranker(engine=engine))


@pytest.mark.parametrize("name, said", [
    ("reg", "reg is a setting of the linear ranker, searched as [engine_params.reg]"),
    ("n_restart", "unknown parameter 'n_restart' (did you mean [engine_params.n_restarts]?); the linear ranker's "
                  "parameters: normalize, objective, random_state, and its settings [engine_params.max_passes], "),
])
def test_a_linear_space_names_the_linear_rankers_settings(name, said):
    """``[reg]`` in a linear space listed tree parameters the engine refuses; ``n_restarts`` was offered
    'n_estimators' (t55 linear-tune)."""
    from ltr.tuning.space import load_space

    with pytest.raises(ValueError) as e:
        load_space({name: {"low": 1, "high": 3}}, Ranker(engine="linear"))
    assert str(e.value).startswith(f"search space {name!r}: {said}")
    assert "n_estimators" not in str(e.value) and "num_leaves" not in str(e.value)


def test_tune_refuses_a_metric_the_linear_ranker_cannot_optimise_as_a_usage_error(tmp_path, capsys):
    """``ltr tune --engine linear --metric bpref`` ended at exit 1 in Python's words (engine='linear'), where
    ``ltr train --objective bpref`` is a usage error (t55 linear-tune)."""
    from ltr.cli import main
    from ltr.io import write_letor

    data = tmp_path / "d.txt"
    write_letor(data, make_ranking(6, 4, 3, random_state=0))
    assert main(["tune", str(data), "--engine", "linear", "--metric", "bpref", "--trials", "1"]) == 2
    assert capsys.readouterr().err == (
        "ltr tune: error: --metric bpref: --engine linear cannot optimise 'bpref' by coordinate ascent; choose one of "
        "the families dcg, err, map, mrr, ndcg, p, recall, rprec, success (with @k where the metric takes one)\n")


def _damaged_gzip(src, dst) -> None:
    """``src``'s gzip bytes with one byte flipped inside the deflate stream, where zlib (not the CRC) fails."""
    import gzip
    import zlib

    data = src.read_bytes()
    for pos in range(100, len(data), 97):
        d = bytearray(data)
        d[pos] ^= 0xFF
        try:
            gzip.decompress(bytes(d))
        except zlib.error:
            dst.write_bytes(bytes(d))
            return
        except (OSError, EOFError):
            continue
    raise AssertionError("no byte found whose flip zlib refuses")


def test_data_verify_names_a_damaged_compressed_copy_unreadable(shared_file, tmp_path, capsys):
    """One flipped byte in a deflate or xz stream made ``ltr data verify`` end in a traceback (zlib.error,
    LZMAError: no OSError), where a bad CRC or a cut gzip was said in one line (t55 datasets)."""
    import gzip
    import lzma
    import shutil

    from ltr.cli import main

    src = shared_file("cacm/cacm.all.gz")
    for name in ("query.text", "qrels.text", "common_words"):
        shutil.copy(src.parent / name, tmp_path / name)
    _damaged_gzip(src, tmp_path / "cacm.all.gz")
    assert main(["data", "verify", "cacm", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "cacm.all (as cacm.all.gz): cannot read: Error -3 while decompressing data" in out
    assert err == f"ltr data verify: {tmp_path} differs from the registry's cacm (see above)\n"
    (tmp_path / "cacm.all.gz").unlink()
    xz = bytearray(lzma.compress(gzip.decompress(src.read_bytes())))
    xz[5000] ^= 0xFF
    (tmp_path / "cacm.all.xz").write_bytes(bytes(xz))
    assert main(["data", "verify", "cacm", str(tmp_path)]) == 1
    assert "cacm.all (as cacm.all.xz): cannot read: Corrupt input data" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["cv", "tune"])
def test_cv_and_tune_refuse_a_file_of_another_sets_width_under_dataset(tmp_path, capsys, command):
    """``ltr cv/tune FILE --dataset mslr-web10k`` of a 46-feature file trained, exit 0, and recorded MSLR's 136 names
    on its columns, where ltr train refuses it (t55 datasets)."""
    from ltr.cli import main

    d = make_ranking(12, 6, 46, random_state=0)
    data = tmp_path / "train.txt"  # as LETOR 4.0 ships it: no header
    data.write_text("".join(f"{int(y)} qid:{q} " + " ".join(f"{j + 1}:{v:.6g}" for j, v in enumerate(x)) + "\n"
                            for y, q, x in zip(d.y, d.qid, np.asarray(d.X))))
    out = tmp_path / "r.json"
    args = [command, str(data), "--dataset", "mslr-web10k", "--out", str(out), "--quiet"]
    args += ["--rounds", "2"] if command == "cv" else ["--trials", "1"]
    assert main(args) == 1
    assert capsys.readouterr().err == (
        f"ltr {command}: error: {data} has no value in features 47..136 of mslr-web10k's 136: it is not that set's "
        "file (without --dataset mslr-web10k its width is read from the file)\n")
    assert not out.exists()


def test_lambdarank_exact_gives_a_zero_hessian_where_a_score_gap_overflows():
    """``mode="exact"`` gave NaN hessians for scores 1e308 and -1e308 (inf * 0), where LightGBM's delta / inf and
    ``mode="lightgbm"`` give 0 (t55 losses)."""
    from ltr.kernels import lambdarank

    for scores, labels in (([1e308, -1e308], [0, 1]), ([1.7e308, -1e308, 0.0], [0, 1, 0])):
        for mode in ("exact", "lightgbm"):
            g, h = lambdarank.grad_hess(scores, labels, [0, len(labels)], mode=mode)
            assert np.isfinite(g).all() and np.isfinite(h).all() and (h >= 0).all(), (mode, h)
    g, h = lambdarank.grad_hess([0.3, 0.2, 0.1], [0, 1, 0], [0, 3], norm=False)  # finite gaps: as before
    assert g.round(4).tolist() == [0.1938, -0.2559, 0.0622] and (h > 0).all()


@pytest.mark.parametrize("kernel", ["ranknet", "listnet", "pointwise"])
def test_minus_inf_scores_are_refused_by_the_kernels_that_have_no_rule_for_them(kernel):
    """-inf passed every kernel's check for lambdarank's sake (LightGBM leaves such documents out): RankNet gave NaN
    gradients, pointwise -inf, and an engine started from a margin of -inf trained on them silently (t55 losses;
    XGBoost passes the -inf on, LightGBM clips an init score to -1e300)."""
    import xgboost as xgb

    from ltr.kernels import get_kernel
    from ltr.kernels import lambdarank as lr
    from ltr.objectives import xgboost_objective

    with pytest.raises(ValueError, match=r"^scores must be finite numbers; row 0 is -inf"):
        get_kernel(kernel).grad_hess([-np.inf, -np.inf, 0.0], [1, 0, 2], [0, 3])
    g, _ = lr.grad_hess([-np.inf, -np.inf, 0.0], [1, 0, 2], [0, 3])  # lambdarank's rule: left out of every pair
    assert g[:2].tolist() == [0.0, 0.0]
    rng = np.random.default_rng(0)
    X, y = rng.random((6, 2)), np.array([1, 0, 2, 0, 1, 0])
    train = xgb.DMatrix(X, y, base_margin=[-np.inf, -np.inf, 0, 0, 0, 0])
    train.set_group([3, 3])
    with pytest.raises(ValueError, match=r"row 0 is -inf"):
        xgb.train({"tree_method": "hist"}, train, 2, obj=xgboost_objective(kernel, [0, 3, 6]))


def test_a_negative_label_gain_is_refused():
    """``label_gain=[0, -1, 3]`` was taken: LightGBM keeps a negative ideal DCG as its 'inverse', the kernel 0, so
    the parity of mode="lightgbm" broke (predictions 1241 apart; t55 losses)."""
    from ltr.kernels import lambdarank

    with pytest.raises(ValueError, match=r"label_gain must hold gains >= 0 .*got -1 at grade 1$"):
        lambdarank.grad_hess([0.3, 0.2, 0.1], [0, 1, 2], [0, 3], label_gain=[0, -1, 3])
    lambdarank.grad_hess([0.3, 0.2, 0.1], [0, 1, 2], [0, 3], label_gain=[0, 0, 1])


def test_compare_without_qrels_reads_what_it_would_call_a_run(tmp_path, capsys):
    """Without --qrels, garbage, an empty file and a model were each called 'a run' (by the file's stem) and sent
    for --qrels; their reader's own error names them now (t55 cli-robustness)."""
    from ltr.cli import main

    a = tmp_path / "a.run"
    a.write_text("1 Q0 d1 1 2.0 a\n1 Q0 d2 2 1.0 a\n")
    garbage, empty, model = tmp_path / "garbage.bin", tmp_path / "empty.txt", tmp_path / "m.model"
    garbage.write_bytes(b"\x80\x81\x82\n")
    empty.write_text("")
    model.write_text("tree\nversion=v4\n")
    for path, said in [(garbage, f"{garbage}:1: invalid UTF-8 byte b'\\x80' at byte offset 0"),
                       (empty, f"run 'empty' ({empty}) has no lines (blank and '#' lines only)"),
                       (model, f"{model}:1: expected 6 whitespace-separated columns in a run line")]:
        assert main(["compare", str(a), str(path)]) == 1
        assert capsys.readouterr().err.startswith(f"ltr compare: error: {said}")
    b = tmp_path / "sub" / "b.run"
    b.parent.mkdir()
    b.write_text(a.read_text())
    assert main(["compare", str(a), str(b)]) == 2
    assert capsys.readouterr().err == (f"ltr compare: error: {a}, {b} are runs: comparing runs needs --qrels QRELS (cv "
                                       "results are then judged by their out-of-fold runs)\n")


def test_a_binary_queries_file_is_named_by_its_first_bad_byte_not_echoed(tmp_path, capsys):
    """``ltr features --queries BINARY`` put U+FFFD and raw bytes in its 'cannot detect the format' line, where every
    other reader names the byte offset (t55 cli-robustness)."""
    from features.collections.loaders import detect_format
    from features.errors import CollectionFormatError

    garbage = tmp_path / "g.bin"
    garbage.write_bytes(b"D\xe01\xe1\x06\x19\xff\xfe rest\n")
    with pytest.raises(CollectionFormatError) as e:
        detect_format(garbage, "queries")
    assert str(e.value) == (f"{garbage}: not UTF-8 text (is it a queries file?): invalid UTF-8 byte b'\\xe0' at "
                            "byte offset 1")
    text = tmp_path / "ctl.txt"
    text.write_text("abc\x06def\n")  # text of no known format: as before, its first line quoted
    with pytest.raises(CollectionFormatError, match=r"cannot detect the format from the first line \(token "
                                                    r"'abc\\x06def'\)"):
        detect_format(text, "queries")


def test_small_registry_and_generator_arguments(tmp_path, shared_file, capsys):
    """``split_path(fold=np.int64(1))`` was refused where make_ranking takes NumPy integers; make_ranking's
    random_state=-1 got NumPy's words naming no argument; verify's count showed its pattern's backslash doubled
    (t55 datasets)."""
    import shutil

    from ltr.cli import main
    from ltr.registry import split_path

    mq = shared_file("mq2008/Fold1/test.txt.gz").parents[1]
    assert split_path("mq2008", mq, fold=np.int64(1), split="test") == split_path("mq2008", mq, 1, "test")
    with pytest.raises(ValueError, match=r"^random_state must be a seed np\.random\.default_rng takes .*got -1"):
        make_ranking(3, 4, 2, random_state=-1)
    src = shared_file("cacm/query.text").parent
    for name in ("cacm.all.gz", "qrels.text", "common_words"):
        shutil.copy(src / name, tmp_path / name)
    text = (src / "query.text").read_text(encoding="latin-1")
    (tmp_path / "query.text").write_text(text[:text.index(".I 10\n")], encoding="latin-1")
    assert main(["data", "verify", "cacm", str(tmp_path)]) == 1
    assert " records matching '^\\.I ', the registry documents [64, 65]" in capsys.readouterr().out


def test_verify_says_a_file_of_another_sets_width_differs(tmp_path, capsys):
    """A 46-feature file as MSLR's Fold2/test.txt was 'ok' (labels 0..2, segment S1 present), where load and
    --dataset refuse it as not the set's (t55 datasets)."""
    from ltr.cli import main

    d = make_ranking(8, 5, 46, random_state=0)
    (tmp_path / "Fold2").mkdir()
    (tmp_path / "Fold2" / "test.txt").write_text("".join(
        f"{int(y) % 3} qid:{q} " + " ".join(f"{j + 1}:{v:.6g}" for j, v in enumerate(x)) + "\n"
        for y, q, x in zip(d.y, d.qid, np.asarray(d.X))))
    assert main(["data", "verify", "mslr-web10k", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "  differs    Fold2/test.txt: no value in features 47..136 of the set's 136: not the set's file\n" in out


@pytest.mark.parametrize("suffix", [".gz", ".xz"])
def test_a_model_named_as_compressed_is_refused_before_training(tmp_path, capsys, suffix):
    """``ltr train --out m.txt.gz`` wrote a plain-text model under a gzip name (zcat failed on it), where predict's
    .gz scores are gzip (t55 cli-robustness)."""
    from ltr.cli import main
    from ltr.exceptions import OutputPathError
    from ltr.io import write_letor

    data = tmp_path / "d.txt"
    write_letor(data, make_ranking(6, 4, 3, random_state=0))
    out = tmp_path / f"m.txt{suffix}"
    assert main(["train", str(data), "--out", str(out), "--rounds", "2"]) == 2
    assert capsys.readouterr().err == (f"ltr train: error: --out {out}: a model is written as plain text, which the "
                                       f"engines read (neither reads a compressed model): give a name without "
                                       f"{suffix}\n")
    ranker = Ranker(engine="linear", engine_params={"n_restarts": 1}).fit(make_ranking(6, 4, 3, random_state=0))
    with pytest.raises(OutputPathError, match=rf"a model is written as plain text, .*give a name without \{suffix}$"):
        ranker.save(out)
    assert not out.exists()


def test_topic_fields_on_plain_json_queries_say_what_the_query_is(tmp_path):
    """``--topic-fields title`` (the help's default) made BEIR's queries.jsonl unreadable, 'no topic field key', where
    leaving it out reads the file (t55 retrieval)."""
    from features.collections.interchange import read_beir_queries
    from features.errors import CollectionFormatError

    path = tmp_path / "queries.jsonl"
    path.write_text('{"_id": "1", "text": "wing flutter"}\n')
    assert read_beir_queries(path).texts == ("wing flutter",)
    with pytest.raises(CollectionFormatError, match=r"no topic field key \('title'\) .*; this line's query is its "
                                                    r"'text', read when no topic fields are given"):
        read_beir_queries(path, fields=("title",))


def test_the_pointwise_kernels_logistic_loss_names_a_graded_label_by_its_line(tmp_path, capsys):
    """``--objective pointwise --objective-param loss=logistic`` said "loss='logistic' needs binary labels 0/1; row 18
    has 2.0 (binarise graded labels, e.g. y > 0)": no file or line, a 0-based row, y > 0 where the toolkit's
    logistic binarises at label >= 1 (t55 losses)."""
    from ltr.cli import main

    data = tmp_path / "d.txt"
    data.write_text("0 qid:1 1:0.1\n1 qid:1 1:0.2\n2 qid:1 1:0.3\n0 qid:2 1:0.1\n1 qid:2 1:0.5\n")
    args = ["train", str(data), "--kernel", "numba", "--rounds", "2", "--min-child-samples", "1", "--quiet"]
    assert main([*args, "--objective", "pointwise", "--objective-param", "loss=logistic"]) == 1
    assert capsys.readouterr().err == (
        f"ltr train: error: {data}:3: the pointwise kernel's logistic loss needs labels 0/1, got label '2' (1 such "
        "label(s) in all); use --objective logistic, which binarises graded labels (label >= 1 is relevant)\n")
    assert main([*args, "--objective", "logistic"]) == 0


def test_a_lightgbm_gpu_parameter_on_the_cpu_is_refused(tmp_path, capsys):
    """``--param gpu_platform_id=0`` (gpu_device_id, gpu_use_dp) with --device cpu was taken and did nothing, where
    device=cuda or device_type=gpu are refused (t55 dask-gpu)."""
    from ltr.cli import main
    from ltr.io import write_letor

    data = tmp_path / "d.txt"
    write_letor(data, make_ranking(6, 4, 3, random_state=0))
    assert main(["train", str(data), "--param", "gpu_device_id=1", "--rounds", "2"]) == 2
    assert capsys.readouterr().err == (
        "ltr train: error: --param gpu_device_id=1: it applies to LightGBM's GPU learner, and the ranker trains on "
        "the CPU: give --device gpu (or gpu-or-cpu), or leave it out\n")
    with pytest.raises(ValueError, match=r"gpu_platform_id=0: it applies to LightGBM's GPU learner"):
        Ranker(engine_params={"gpu_platform_id": 0}, n_estimators=2).fit(make_ranking(6, 4, 3, random_state=0))
    Ranker(engine_params={"gpu_platform_id": 0}, device="gpu-or-cpu")._check_params()  # where a GPU may run


def test_dask_partitions_are_as_many_as_asked_where_queries_are_uneven():
    """``from_dataset(n_parts=156)`` on 156 MQ2008-like queries made 103 parts, silently: cuts at the nearest query
    boundary collided (t55 dask-gpu). Each part is non-empty and whole queries; small counts cut as before."""
    from ltr.dask import _query_cuts

    ptr = np.concatenate(([0], np.cumsum(np.random.default_rng(0).choice([7, 8, 15, 31], size=156))))
    for n in (1, 2, 7, 156, 400):
        cuts = _query_cuts(ptr, n)
        assert len(cuts) == min(n, 156) and cuts[0][0] == 0 and cuts[-1][1] == 156
        assert all(b > a for a, b in cuts) and all(x[1] == y[0] for x, y in zip(cuts, cuts[1:]))
    half = int(np.searchsorted(ptr, ptr[-1] / 2))
    assert _query_cuts(ptr, 2) == [(0, half), (half, 156)]


def test_a_teacher_beyond_float32_gradients_is_refused_by_its_scale():
    """Teacher scores near 1e300 passed the finite check; the margin gradient was inf in LightGBM's float32, the
    student constant, and the warning blamed the split settings (t55 hybrid-neural)."""
    from ltr.kernels import distill

    with pytest.raises(ValueError, match=r"^teacher score of row 0 \(counting from 0\) is 1e\+308: teacher scores "
                                         r"beyond \+-1e\+30 give gradients beyond the engines' float32; rescale the "
                                         r"teacher"):
        distill.grad_hess([0.0, 0.0, 0.0], [0, 1, 2], [0, 3], teacher=[1e308, -1e308, 0.0], margin_weight=1.0)
    g, _ = distill.grad_hess([0.0, 0.0, 0.0], [0, 1, 2], [0, 3], teacher=[1e20, -1e20, 0.0], margin_weight=1.0)
    assert np.isfinite(g).all() and np.abs(g).max() < 3.4e38


def test_numpy_numbers_are_numbers_to_the_scorers_and_the_retriever():
    """The retriever's new checks (the bm25 feature's) refused np.float32(0.5) as 'b must be in [0, 1]', which the
    feature itself did too (the review)."""
    import json

    from features import Analyzer, InvertedIndex
    from features.collections import Collection
    from features.retrieval import BM25Retriever
    from features.scorers import get_scorer

    index = InvertedIndex.build(Collection(("a", "b", "c"), {"body": ["wing flutter", "heat", "wing wing"]}),
                                Analyzer(stemmer=None))
    plain = BM25Retriever(index, k1=1.5, b=0.5, k3=8.0).search({"q": "wing"}, k=3)
    numpy = BM25Retriever(index, k1=np.float32(1.5), b=np.float32(0.5), k3=np.int64(8)).search({"q": "wing"}, k=3)
    assert plain.equals(numpy)
    scorer = get_scorer("bm25")(k1=np.float64(1.5), b=np.int64(1))
    assert json.dumps(scorer.params) and type(scorer.params["b"]) is int  # a description is JSON


def test_distill_as_lambdarank_keeps_lambdaranks_rule_for_minus_inf():
    """alpha=1 without a margin term is the lambdarank kernel exactly: it took -inf as lambdarank does before the
    -inf refusal of the other kernels, and does again (the review); with a teacher term it refuses it."""
    from ltr.kernels import distill, lambdarank

    s, y, t = [0.1, -np.inf, 0.3], [1, 0, 2], [0.2, 0.1, 0.3]
    np.testing.assert_array_equal(distill.grad_hess(s, y, [0, 3], teacher=t, alpha=1.0)[0],
                                  lambdarank.grad_hess(s, y, [0, 3])[0])
    for kw in ({"alpha": 0.5}, {"alpha": 1.0, "margin_weight": 1.0}):
        with pytest.raises(ValueError, match="row 1 is -inf"):
            distill.grad_hess(s, y, [0, 3], teacher=t, **kw)
