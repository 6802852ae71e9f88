"""Behaviours mended in stop 53: fusion weights fitted by cross-validation cut their folds over the judged queries,
so that no fold is left without a query to score."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from ltr.fusion import fit_weights


def _two_runs_over(queries):
    def rows(order):
        return pd.DataFrame([(q, d, s) for q in queries for d, s in order], columns=["qid", "docno", "score"])

    return rows((("d1", 2.0), ("d2", 1.0))), rows((("d1", 1.0), ("d2", 2.0)))


@pytest.mark.parametrize("seed", range(5))
def test_fit_weights_scores_every_fold_when_most_queries_are_unjudged(seed):
    """Eight queries, three judged, three folds: a fold of unjudged queries alone was 'test': nan (t52 left alone)."""
    a, b = _two_runs_over([str(q) for q in range(1, 9)])
    qrels = pd.DataFrame({"qid": ["1", "2", "3"], "docno": ["d1", "d2", "d1"], "rel": [1, 1, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the runs' unjudged queries are said; not what this test reads
        fitted = fit_weights([a, b], qrels, n_splits=3, step=0.5, random_state=seed)
    assert all(np.isfinite(f["test"]) for f in fitted.folds)
    assert sorted(q for f in fitted.folds for q in f["test_queries"]) == sorted(str(q) for q in range(1, 9))
    judged_per_fold = [len({"1", "2", "3"} & set(f["test_queries"])) for f in fitted.folds]
    assert judged_per_fold == [1, 1, 1]


def test_fit_weights_with_one_judged_query_says_so():
    a, b = _two_runs_over(["1", "2", "3"])
    qrels = pd.DataFrame({"qid": ["2"], "docno": ["d1"], "rel": [1]})
    with pytest.raises(ValueError, match=r"the runs have 1 query\(ies\) with judgments in the qrels"):
        fit_weights([a, b], qrels, n_splits=2)


def test_fit_weights_folds_are_unchanged_when_every_query_is_judged():
    """The same seed cuts the same folds as before the change when no query is unjudged."""
    a, b = _two_runs_over([str(q) for q in range(1, 7)])
    qrels = pd.DataFrame({"qid": [str(q) for q in range(1, 7)], "docno": ["d1", "d2"] * 3, "rel": [1] * 6})
    fitted = fit_weights([a, b], qrels, n_splits=3, step=0.5, random_state=3)
    queries = np.array([str(q) for q in range(1, 7)], dtype=object)
    expected = np.array_split(queries[np.random.default_rng(3).permutation(6)], 3)
    assert [f["test_queries"] for f in fitted.folds] == [list(p) for p in expected]


def test_evaluate_counts_the_queries_of_each_metric_when_they_differ(tmp_path, capsys):
    """--no-relevant nan left query 1 out of NDCG and MAP but not of DCG (0 for it), and -l 2 leaves more out of MAP
    alone; the footer said '2 queries averaged' for all (t52 left alone)."""
    from ltr.cli import main

    data, scores = tmp_path / "a.txt", tmp_path / "s.txt"
    data.write_text("0 qid:1 1:1\n0 qid:1 1:2\n1 qid:2 1:1\n0 qid:2 1:2\n2 qid:3 1:3\n0 qid:3 1:1\n")
    scores.write_text("1\n2\n3\n1\n1\n2\n")
    args = ["evaluate", str(data), "--scores", str(scores), "--no-relevant", "nan"]
    assert main([*args, "--metrics", "ndcg@2,dcg@2,map"]) == 0
    out = capsys.readouterr().out
    assert "left out of the means (but DCG's, which is 0 for them)" in out
    assert out.rstrip().endswith("; 2 queries averaged (3 in dcg@2)")
    assert main([*args, "--metrics", "ndcg@2,map", "-l", "2"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("; 2 queries averaged (1 in map)")
    assert main([*args, "--metrics", "ndcg@2,map"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("; 2 queries averaged") and "DCG" not in out


def test_train_footer_counts_the_queries_dcg_keeps(tmp_path, capsys):
    """ltr train --no-relevant nan said 'queries averaged: valid 3' for NDCG's mean over 2 queries."""
    from ltr.cli import main

    data = tmp_path / "a.txt"
    data.write_text("0 qid:1 1:1\n0 qid:1 1:2\n1 qid:2 1:1\n0 qid:2 1:2\n2 qid:3 1:3\n0 qid:3 1:1\n")
    args = ["train", str(data), "--valid", str(data), "--rounds", "2", "--preset", "none", "--min-child-samples", "1"]
    assert main([*args, "--no-relevant", "nan", "--metrics", "ndcg@2,dcg@2"]) == 0
    assert "queries averaged: valid 2 (3 in dcg@2)\n" in capsys.readouterr().out
    assert main([*args, "--no-relevant", "nan", "--metrics", "ndcg@2,map"]) == 0
    assert "queries averaged: valid 2\n" in capsys.readouterr().out
    assert main([*args, "--metrics", "ndcg@2,dcg@2"]) == 0
    assert "queries averaged: valid 3\n" in capsys.readouterr().out


# -- ltr features --index: a reused index is checked for what a fresh build would make (trial t53/retrieval) --------
@pytest.fixture
def smart_adi(text_folder):
    """A SMART folder with a title and a body field (so that the index has an 'all' field of two fields)."""
    return text_folder("adi", {"ADI.ALL": ".I 1\n.T\nwing flutter\n.W\nflutter of a wing in heat\n.I 2\n.T\nheat\n"
                                          ".W\nheat transfer of wing slabs\n.I 3\n.T\nslabs\n.W\nwing and flutter\n",
                               "ADI.QRY": ".I 1\n.W\nwing flutter\n.I 2\n.W\nheat slabs\n",
                               "ADI.REL": "1 1 0 0.0\n2 2 0 0.0\n"})


def _features(folder, tmp_path, *extra):
    from ltr.cli import main

    return main(["features", "--collection", str(folder), "--topk", "3", "--out", str(tmp_path / "o.letor"),
                 "--index", str(tmp_path / "ix.npz"), "--quiet", *extra])


def test_an_index_of_the_fields_in_another_order_is_refused(smart_adi, tmp_path, capsys):
    """--fields body,title reused an index of title,body: the index's column order and its 'all' field (title
    first), whose proximity features differ, rc 0 and nothing said."""
    assert _features(smart_adi, tmp_path, "--fields", "title,body") == 0
    assert _features(smart_adi, tmp_path, "--fields", "body,title") == 1
    err = capsys.readouterr().err
    assert "holds the fields in the order ['title', 'body'], not ['body', 'title']" in err
    assert "give the fields in its order (title,body)" in err and "Traceback" not in err
    assert _features(smart_adi, tmp_path, "--fields", "title,body") == 0


def test_an_index_of_another_position_gap_is_refused(smart_adi, tmp_path, capsys):
    from features.analysis import Analyzer
    from features.collections import read_smart_documents
    from features.index import InvertedIndex

    docs = read_smart_documents(smart_adi / "ADI.ALL")
    InvertedIndex.build(docs, Analyzer(), position_gap=0).save(tmp_path / "ix.npz")
    assert _features(smart_adi, tmp_path) == 1
    assert "was built with position_gap=0 between fields, not 8 as this command builds" in capsys.readouterr().err


def test_an_index_with_the_same_stopwords_under_another_name_is_reused(smart_adi, tmp_path, capsys):
    """A file of exactly Terrier's words against --stopwords terrier was refused, in a message of every word."""
    from features.analysis import load_stopwords

    words = tmp_path / "terrier.txt"
    words.write_text("\n".join(sorted(load_stopwords("terrier"))) + "\n")
    assert _features(smart_adi, tmp_path, "--stopwords", str(words)) == 0
    assert _features(smart_adi, tmp_path, "--stopwords", "terrier") == 0
    assert _features(smart_adi, tmp_path, "--stopwords", "lucene", "--stemmer", "english") == 1
    err = capsys.readouterr().err
    assert ("analyzer stopwords: a list of 733 words in the index, the 'lucene' list (33 words) in the options; "
            "analyzer stemmer: 'porter' in the index, 'english' in the options)") in err
    assert len(err) < 400


@pytest.mark.parametrize("stat", ["tf", "tf_norm"])
@pytest.mark.parametrize("param", [{"idf": "okapi"}, {"doc_count": "collection"}])
def test_term_stats_refuses_an_idf_setting_its_stat_does_not_use(stat, param):
    """Accepted and ignored, they were recorded as if the columns had been made with them (t53/retrieval)."""
    from features.featureset import FeatureSet

    with pytest.raises(ValueError, match=rf"does not take '{next(iter(param))}' here: stat='{stat}' uses no idf"):
        FeatureSet([{"scorer": "term_stats", "stat": stat, **param}])
    FeatureSet([{"scorer": "term_stats", "stat": "tfidf", **param}])  # read there


def test_an_empty_device_as_feature_set_is_read_not_said_missing(tmp_path):
    from features.featureset import FeatureSet

    with pytest.raises(ValueError, match=r"^/dev/null: expected a top-level 'features' array \(it holds no key\)$"):
        FeatureSet.load("/dev/null")
    with pytest.raises(ValueError, match="'/nonexistent/f.toml' does not exist$"):
        FeatureSet.load("/nonexistent/f.toml")


# -- data files in the wild (trial t53/datasets) -------------------------------------------------------------------
def test_verify_reads_compression_by_content_as_the_readers_do(tmp_path, shared_file, capsys):
    """ADI's text saved as .gz (a browser that decoded the download) was 'cannot read' (said twice); gzip data under
    the plain name 'differed' in size and sha256 from the release it is."""
    import gzip
    import shutil

    from ltr.cli import main

    plain, packed = tmp_path / "plain", tmp_path / "packed"
    plain.mkdir()
    packed.mkdir()
    for p in sorted(shared_file("adi").glob("ADI.*")):
        shutil.copy(p, plain / f"{p.name}.gz")  # plain text under a .gz name
        (packed / p.name).write_bytes(gzip.compress(p.read_bytes()))  # gzip data under the plain name
    for folder in (plain, packed):
        assert main(["data", "verify", "adi", str(folder)]) == 0
        out = capsys.readouterr().out
        assert "OK; 4 of 4 files present, 0 missing, 0 differ" in out and "cannot read" not in out, out


@pytest.mark.parametrize("magic, said", [(b"Rar!\x1a\x07\x00\xcf\x90s\x00", "a RAR archive: unpack it (unrar x FILE"),
                                         (b"Rar!\x1a\x07\x01\x003\x92", "a RAR archive: unpack it"),
                                         (b"7z\xbc\xaf'\x1c\x00\x04junk", "a 7z archive: unpack it (7z x FILE")])
def test_a_rar_or_7z_archive_given_as_data_is_named(tmp_path, magic, said, capsys):
    """LETOR 4.0 ships as RAR: MQ2008.rar given to ltr info read as 'the label is not a number'."""
    from ltr.cli import main
    from ltr.exceptions import LetorFormatError
    from ltr.io import read_letor

    path = tmp_path / "MQ2008.rar"
    path.write_bytes(magic + bytes(range(256)) * 4)
    with pytest.raises(LetorFormatError, match=re.escape(said)):
        read_letor(path)
    assert main(["info", str(path)]) == 1
    assert capsys.readouterr().err.startswith(f"ltr info: error: {path}:1: {said}")


def test_query_sizes_of_another_file_without_qid_tokens_get_no_no_query_file_hint(tmp_path):
    from ltr.exceptions import LetorFormatError
    from ltr.io import read_letor

    data = tmp_path / "d.txt"
    data.write_text("".join(f"{i % 3} 1:0.{i} 2:{i}\n" for i in range(10)))
    (tmp_path / "d.txt.query").write_text("4\n5\n")
    with pytest.raises(LetorFormatError, match="add up to 9 but the data file .* has 10 rows, and no qid tokens: the "
                                               "sizes file is not this data file's") as caught:
        read_letor(data)
    assert "query-file" not in str(caught.value) and "query_file" not in str(caught.value)
    (tmp_path / "e.txt").write_text("".join(f"{i % 3} qid:{i // 5} 1:0.{i}\n" for i in range(10)))
    (tmp_path / "e.txt.query").write_text("4\n5\n")
    with pytest.raises(LetorFormatError, match="if the data file's qid tokens give the groups"):
        read_letor(tmp_path / "e.txt")


def test_dask_xgboost_stops_on_the_whole_lists_ndcg_when_no_cut_off_is_given():
    """--early-stopping-metric ndcg under --dask stopped on XGBoost's 'ndcg-', which XGBoost 2+ reads as NDCG@32
    (trial t53/dask: 36 rounds kept where the whole list's NDCG and the local fit chose others)."""
    import xgboost as xgb
    from sklearn.metrics import ndcg_score

    import ltr.dask

    rng = np.random.default_rng(0)
    sizes = [80, 50, 120]
    y = np.concatenate([(rng.random(n) < 0.1).astype(float) for n in sizes])
    for s in np.cumsum([0, *sizes[:-1]]):
        y[s + sizes[0] // 2 + 20] = 1.0  # a relevant document past rank 32 in every query
    X = rng.normal(size=(y.size, 3))
    qid = np.repeat(np.arange(len(sizes)), sizes)
    name = ltr.dask._xgboost_ndcg("ndcg")
    dm = xgb.DMatrix(X, y, qid=qid, base_margin=rng.normal(size=y.size))  # distinct scores: no ties to order
    history = {}
    booster = xgb.train({"objective": "rank:ndcg", "eval_metric": name, "nthread": 1, "eta": 1e-3}, dm, 1,
                        evals=[(dm, "v")], evals_result=history, verbose_eval=False)
    scores = booster.predict(dm)
    assert np.unique(scores).size == scores.size
    # binary labels: exp2 and linear gain agree, so scikit-learn's NDCG of each whole list is the reference
    bounds = np.cumsum([0, *sizes])
    want = np.mean([ndcg_score([y[a:b]], [scores[a:b]]) for a, b in zip(bounds[:-1], bounds[1:])])
    assert history["v"][name][0] == pytest.approx(want, abs=1e-6)
    assert ltr.dask._xgboost_ndcg("ndcg@10") == "ndcg@10-"


class _Workers:
    """A stand-in for a distributed.Client whose workers answer ``client.run`` as given."""

    def __init__(self, answers):
        self.answers = answers

    def run(self, function, *args, on_error="raise"):
        assert function is eval and on_error == "return"  # nothing of ltrkit's is sent to be unpickled there
        return self.answers


def test_workers_without_ltrkit_are_named_before_any_work():
    """Workers that could not import ltr died unpickling the first shard read, and the command said the cluster
    'has no worker: start some' (trial t53/dask)."""
    import ltr.dask

    answers = {"tcp://10.0.0.1:4001": "0.1.0", "tcp://10.0.0.2:4001": ModuleNotFoundError("No module named 'ltr'")}
    with pytest.raises(RuntimeError, match=r"^1 of the 2 Dask worker\(s\) of tcp://s:8786 cannot import ltrkit "
                                           r"\(tcp://10.0.0.2:4001\): install ltrkit"):
        ltr.dask._check_workers(_Workers(answers), "tcp://s:8786")
    with pytest.warns(UserWarning, match="Dask workers of tcp://s:8786 run ltrkit 0.0.9, this process"):
        ltr.dask._check_workers(_Workers({"tcp://10.0.0.1:4001": "0.0.9"}), "tcp://s:8786")
    ltr.dask._check_workers(_Workers({"tcp://10.0.0.1:4001": ltr.__version__}), "tcp://s:8786")


def test_a_real_cluster_is_asked_whether_its_workers_import_ltrkit():
    from ltr._shared import import_reference

    import_reference("distributed")  # the dask extra (in dev)
    import ltr.dask

    with ltr.dask.connect("local:1") as client:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with ltr.dask.connect(client.scheduler.address) as remote:  # asked, found, and not warned of
                assert len(remote.scheduler_info()["workers"]) == 1


@pytest.fixture
def two_shards(tmp_path):
    for i in range(2):
        (tmp_path / f"s{i}.txt").write_text("".join(f"{r % 2} qid:{i * 10 + r // 4} 1:{r} 2:{r % 3}\n"
                                                    for r in range(8)))
    return str(tmp_path / "s*.txt")


@pytest.mark.parametrize("extra, said", [
    (["--objective", "listnet"], "--objective listnet is a Numba kernel, which runs in one process: --dask trains "
                                 "xgboost's native objectives (lambdarank, logistic, map, pointwise, ranknet); drop "
                                 "--dask to train it"),
    (["--objective", "listnet", "--engine", "lightgbm"], "--dask trains lightgbm's native objectives (lambdarank, "
                                                         "logistic, pointwise, xendcg)"),
    (["--objective", "distill"], "--objective distill is a Numba kernel, which runs in one process: drop --dask"),
    (["--engine", "lightgbm", "--dask-engine", "xgboost"], "--engine lightgbm contradicts --dask-engine xgboost"),
    (["--engine", "lightgbm", "--param", "tree_learner=feature"], "--param tree_learner=feature: LightGBM's Dask "
                                                                  "ranker trains data- or voting-parallel only"),
])
def test_dask_refusals_point_at_what_works_under_dask(two_shards, extra, said, capsys):
    """Under --dask the hints said 'add --kernel numba' (refused with --dask), an --engine lightgbm beside
    --dask-engine xgboost trained XGBoost, and feature-parallel failed after the cluster started with advice about
    memory (trial t53/dask). Each is refused before any cluster starts."""
    from ltr.cli import main

    assert main(["train", two_shards, "--dask", "local:2", "--rounds", "2", *extra]) == 2
    err = capsys.readouterr().err
    assert said in err and "--kernel numba" not in err.split(said)[0], err


def test_cv_given_a_glob_of_shards_says_what_it_reads(two_shards, capsys):
    from ltr.cli import main

    assert main(["cv", two_shards, "--dask", "local:2"]) == 2
    assert "ltr cv reads one LETOR file (or --root's fold folders), not a glob of shards" in capsys.readouterr().err


def test_a_lightgbm_refusal_under_dask_gets_no_advice_about_dead_workers():
    import ltr.dask

    class LightGBMError(Exception):
        pass

    port = ltr.dask._engine_failure("lightgbm", LightGBMError("Binding port 12411 failed"))
    assert "leave out machines and local_listen_port" in str(port) and "more memory" not in str(port)
    other = ltr.dask._engine_failure("lightgbm", LightGBMError("Do not support something"))
    assert "LightGBM refused its configuration under Dask" in str(other) and "more memory" not in str(other)
    died = ltr.dask._engine_failure("lightgbm", OSError("connection closed"))
    assert "if a worker died" in str(died)


# -- the Python API (trial t53/pyapi) -----------------------------------------------------------------------------
def _mq_like(n_queries=12, seed=0):
    import ltr

    d = ltr.make_ranking(n_queries, 10, 5, random_state=seed)
    return d.X, d.y, np.repeat(np.arange(n_queries), np.diff(d.group_ptr))


def test_wrong_feature_names_are_refused_before_training_and_leave_the_fit_alone():
    """The refit trained every round first, then refused the names, leaving a 7-round booster under the old
    record (trial t53/pyapi)."""
    import ltr

    X, y, qid = _mq_like()
    model = ltr.Ranker(n_estimators=3, preset=None, min_child_samples=2).fit(X, y, qid=qid)
    before = model.predict(X)
    with pytest.raises(ValueError, match="^2 feature names for 5 features$"):
        model.set_params(n_estimators=7).fit(X, y, qid=qid, feature_names=["a", "b"])
    assert model.booster_.current_iteration() == 3
    np.testing.assert_array_equal(model.predict(X), before)


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost", "linear"])
def test_an_empty_eval_set_is_refused_by_name(engine):
    """XGBoost trained on, stopping on a curve of nan at round 1; LightGBM said 'num_data must be > 0'."""
    import ltr

    X, y, qid = _mq_like()
    with pytest.raises(ValueError, match=r"^eval_set\[0\] has no rows: nothing to evaluate"):
        ltr.Ranker(engine=engine, preset=None).fit(X, y, qid=qid, eval_set=[(X[:0], y[:0], qid[:0])])


def test_predict_of_a_dataset_with_other_queries_is_refused():
    import ltr

    d = ltr.make_ranking(12, 10, 5, random_state=0)
    model = ltr.Ranker(n_estimators=3, preset=None, normalize="zscore").fit(d)
    with pytest.raises(ValueError, match="X is a RankingDataset: do not also pass qid or group"):
        model.predict(d, qid=np.arange(d.n_rows) // 3)


@pytest.mark.parametrize("key, said", [
    ("early_stopping_rounds", "is an argument of xgboost.train and XGBRanker, not an xgboost parameter: give the "
                              "Ranker's early_stopping_rounds="),
    ("num_boost_round", "is an argument of xgboost.train, not an xgboost parameter: give the Ranker's n_estimators="),
])
def test_xgboost_call_arguments_among_engine_params_name_the_rankers(key, said):
    import ltr

    with pytest.raises(ValueError, match=re.escape(said)):
        ltr.Ranker(engine="xgboost", engine_params={key: 5})._check_params()


def test_lightgbm_min_delta_is_refused_rather_than_ignored():
    """It reached LightGBM, whose own early stopping the ranker never turns on: best_iteration_ 165 whatever it was
    (LGBMRanker's callback with min_delta 0.05 stopped at 48)."""
    import ltr

    with pytest.raises(ValueError, match="early_stopping_min_delta=0.05: the least improvement of LightGBM's own "
                                         "early stopping, which the ranker does not use"):
        ltr.Ranker(engine_params={"early_stopping_min_delta": 0.05})._check_params()


_WORKQUEUE_SCRIPT = """
import os, sys
from concurrent.futures import ThreadPoolExecutor
import numpy as np
import numba
from ltr import Ranker, make_ranking
from ltr.metrics import evaluate
data = make_ranking(200, 20, 10, random_state=0)
fit = lambda seed: Ranker(kernel="numba", preset=None, n_estimators=10, n_jobs=2, random_state=seed).fit(data)
y = np.random.default_rng(0).integers(0, 3, 60_000).astype(float)
ptr = np.arange(0, 60_001, 20)
metric = lambda seed: evaluate(y, np.random.default_rng(seed).random(y.size), group_ptr=ptr, metrics=["ndcg@10"])
big = make_ranking(3000, 20, 10, random_state=1)
linear = lambda seed: Ranker(engine="linear", n_jobs=2, random_state=seed,
                             engine_params={"n_restarts": 1, "max_passes": 2}).fit(big)
from ltr.io import read_letor, write_letor
write_letor("big.txt", big)
read = lambda seed: read_letor("big.txt", n_jobs=2)
with ThreadPoolExecutor(2) as ex:
    list(ex.map(fit, range(4)))
    list(ex.map(metric, range(8)))
    list(ex.map(linear, range(2)))
    list(ex.map(read, range(4)))
assert numba.threading_layer() == "workqueue", numba.threading_layer()
print("ok")
"""


def test_threads_take_turns_under_numbas_workqueue_layer(tmp_path):
    """Two numba-kernel fits, or two large evaluations, at once from threads aborted Python (SIGABRT, exit 134)
    under the workqueue layer, Numba's own where OpenMP and TBB are missing (trial t53/pyapi)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue", "NUMBA_NUM_THREADS": "2", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", _WORKQUEUE_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=600, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "ok", (done.returncode, done.stderr[-2000:])


# -- the linear ranker and its tuning (trial t53/linear-tune) --------------------------------------------------------
def test_linear_steps_that_overflow_are_refused_by_their_settings():
    """n_steps=1000 with step_scale=3 (each within its bounds) overflowed the line search: a NaN weight and a
    recorded NDCG@10 of 1.54 from Python, a message blaming the weights from the command line."""
    import ltr

    d = ltr.make_ranking(10, 10, 4, random_state=0)
    with pytest.raises(ValueError, match=r"step_scale=3 with n_steps=1000 makes the line search's farthest step inf, "
                                         r"beyond 1e\+100 .*: lower n_steps or step_scale"):
        ltr.Ranker(engine="linear", engine_params={"n_steps": 1000, "step_scale": 3}).fit(d)
    model = ltr.Ranker(engine="linear", engine_params={"n_steps": 1000, "step_scale": 1.2}).fit(d)
    assert np.isfinite(model.booster_.weights).all() and model.booster_.training["objective"] <= 1.0


def test_linear_importance_is_the_features_spread_without_standardize():
    """With standardize=false the 'share of the score's spread' was |weight| alone (a feature of sd 0.26 shown at
    48% against its 20%)."""
    import ltr

    d = ltr.make_ranking(20, 10, 3, random_state=1)
    X = d.X * np.array([0.25, 1.0, 40.0])  # spreads of other sizes
    plain = ltr.Ranker(engine="linear", engine_params={"standardize": False}).fit(X, d.y, group=np.diff(d.group_ptr))
    linear = plain.booster_
    spread = X.std(axis=0)
    np.testing.assert_allclose(linear.importances("gain"), np.abs(linear.weights) * spread, rtol=1e-12)


def test_tune_linear_passes_the_grade_to_an_err_objective_its_space_draws(tmp_path, capsys):
    """A space searching [objective] trained ERR at grade 4 beside --max-grade 2 (mean ERR@10 0.3173 against the
    0.3091 of the fixed --objective err@10, which trains at grade 2)."""
    import csv
    import io

    from ltr.cli import main

    rng = np.random.default_rng(0)
    rows = []
    for q in range(16):
        rows += [f"{int(rng.integers(0, 3))} qid:{q} " + " ".join(f"{j}:{rng.random():.4f}" for j in (1, 2, 3))
                 for _ in range(8)]
    data = tmp_path / "d.txt"
    data.write_text("\n".join(rows) + "\n")
    (tmp_path / "searched.toml").write_text('[objective]\nchoices = ["err@10"]\n[engine_params.n_restarts]\n'
                                            'choices = [1]\n')
    (tmp_path / "fixed.toml").write_text('[engine_params.n_restarts]\nchoices = [1]\n')
    common = [str(data), "--engine", "linear", "--trials", "1", "--outer-folds", "2", "--inner-folds", "2",
              "--metric", "map", "--metrics", "err@10", "--max-grade", "2", "--quiet", "--format", "csv"]
    means = []
    for extra in (["--space", str(tmp_path / "searched.toml")],
                  ["--space", str(tmp_path / "fixed.toml"), "--objective", "err@10"]):
        assert main(["tune", *common, *extra]) == 0
        table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
        means.append([r["err@10"] for r in table if r["fold"] != "mean"])
    assert means[0] == means[1]


# -- the command line under hostile conditions (trial t53/cli-robustness) ------------------------------------------
@pytest.fixture
def small_letor(tmp_path):
    rng = np.random.default_rng(0)
    lines = [f"{int(rng.integers(0, 3))} qid:{q} " + " ".join(f"{j}:{rng.random():.3f}" for j in (1, 2, 3, 4))
             for q in range(12) for _ in range(6)]
    (tmp_path / "small.txt").write_text("\n".join(lines) + "\n")
    return tmp_path


@pytest.mark.parametrize("case", ["cv-features", "cv-drop-features", "train-teacher-model", "cv-teacher-model",
                                  "train-teacher-scores"])
def test_an_output_over_a_teacher_or_feature_list_is_refused(small_letor, case, capsys, monkeypatch):
    """Each exited 0 and replaced its input (the teacher model by the student)."""
    from ltr.cli import main

    monkeypatch.chdir(small_letor)
    (small_letor / "feats.txt").write_text("1\n2\n3\n")
    assert main(["train", "small.txt", "--rounds", "3", "--preset", "none", "--min-child-samples", "2", "--out",
                 "teacher.txt", "--quiet"]) == 0
    assert main(["predict", "teacher.txt", "small.txt", "--out", "scores.txt", "--quiet"]) == 0
    distill = ["--objective", "distill", "--kernel", "numba"]
    argv = {"cv-features": ["cv", "small.txt", "--folds", "2", "--features", "feats.txt", "--out", "feats.txt"],
            "cv-drop-features": ["cv", "small.txt", "--folds", "2", "--drop-features", "feats.txt", "--out",
                                 "feats.txt"],
            "train-teacher-model": ["train", "small.txt", *distill, "--teacher-model", "teacher.txt", "--out",
                                    "teacher.txt"],
            "cv-teacher-model": ["cv", "small.txt", "--folds", "2", *distill, "--teacher-model", "teacher.txt",
                                 "--out", "teacher.txt"],
            "train-teacher-scores": ["train", "small.txt", *distill, "--teacher-scores", "scores.txt", "--out",
                                     "scores.txt"]}[case]
    target = small_letor / argv[-1]
    before = target.read_bytes()
    capsys.readouterr()
    assert main([*argv, "--rounds", "2", "--quiet"]) == 2
    assert "is also an input of this command" in capsys.readouterr().err
    assert target.read_bytes() == before


def test_an_output_over_the_stopword_file_is_refused(tmp_path, capsys):
    from ltr.cli import main

    (tmp_path / "docs.tsv").write_text("d1\tthe wing flutter\nd2\theat and slabs\n")
    (tmp_path / "q.tsv").write_text("1\twing\n")
    (tmp_path / "stop.txt").write_text("the\nand\n")
    assert main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                 "--stopwords", str(tmp_path / "stop.txt"), "--save-run", str(tmp_path / "stop.txt"), "--out",
                 str(tmp_path / "f.letor"), "--quiet"]) == 2
    assert "is also an input of this command" in capsys.readouterr().err
    assert (tmp_path / "stop.txt").read_text() == "the\nand\n"


def test_an_interrupt_is_reported_even_while_the_output_module_cannot_be_imported(monkeypatch, capsys):
    """A Ctrl-C during a command's first imports found numba half-imported: the handler's own import of
    ltr.io.outputs failed, two tracebacks and exit 1 instead of 130."""
    import sys

    from ltr.cli._guard import guard

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "ltr.io.outputs", None)  # importing it now raises ImportError
    assert guard("info", interrupted, None) == 130
    assert capsys.readouterr().err.startswith("ltr info: interrupted; ")


def test_an_interrupt_a_library_swallowed_still_ends_the_command_as_interrupted(capsys):
    """llvmlite's ctypes callbacks print 'Exception ignored' for a KeyboardInterrupt raised in them: ltr info then
    printed its table and exited 0, the Ctrl-C lost."""
    from ltr import _checked_io
    from ltr.cli._guard import guard

    def swallowed(args):
        _checked_io.stop_outputs(KeyboardInterrupt)  # what the SIGINT handler records before raising
        return 0

    assert guard("info", swallowed, None) == 130
    assert _checked_io.stopped is None  # reset: a later command of this process writes again
    assert "interrupted" in capsys.readouterr().err


@pytest.mark.parametrize("argv, said", [
    (["doctor", "--timeout", "2147484"], "argument --timeout: '2147484': must be at most 1000000 seconds"),
    (["data", "fetch", "adi", "--to", "{tmp}", "--timeout", "1e10"],
     "argument --timeout: '1e10': must be at most 1000000 seconds"),  # doctor's words (trial t72)
    (["train", "x.txt", "--dask", "tcp://127.0.0.1:9", "--dask-timeout", "1e10"],
     "--dask-timeout 1e+10: must be at most 1000000 seconds"),
])
def test_huge_timeouts_are_refused_by_name(argv, said, tmp_path, capsys):
    """Python's OverflowError traceback from poll(), a socket's time_t and Dask's connection wait."""
    from ltr.cli import main

    (tmp_path / "x.txt").write_text("1 qid:1 1:1\n0 qid:1 1:0\n")
    argv = [a.replace("{tmp}", str(tmp_path / "d")).replace("x.txt", str(tmp_path / "x.txt")) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


@pytest.mark.parametrize("key, instead", [("input_model", "continued training from a saved model is not offered"),
                                          ("valid", "give eval_set="), ("model_input", "continued training"),
                                          ("snapshot_freq", "models are saved once trained"),
                                          ("header", "the toolkit reads the data files itself")])
def test_lightgbm_program_only_parameters_are_refused_with_what_does_the_job(key, instead):
    """Each was accepted and ignored: input_model trained a fresh model, valid validated on nothing."""
    import ltr

    with pytest.raises(ValueError, match=rf"{key}=.*a parameter of LightGBM's command-line program.*{instead}"):
        ltr.Ranker(engine_params={key: "x"})._check_params()


# -- the losses (trial t53/losses) ----------------------------------------------------------------------------------
def test_xgboost_training_that_diverges_is_said_so():
    """A learning rate of 2.5 on squared error: Ranker.fit returned a model predicting NaN for every row, and
    ltr train failed after training with 'y_score contains NaN at row 0'."""
    import xgboost as xgb

    import ltr

    d = ltr.make_ranking(40, 20, 5, random_state=0)
    qid = np.repeat(np.arange(40), np.diff(d.group_ptr))
    reference = xgb.train({"objective": "reg:squarederror", "eta": 2.5, "nthread": 1}, xgb.DMatrix(d.X, d.y), 300)
    assert np.isnan(reference.predict(xgb.DMatrix(d.X))).all()  # XGBoost itself diverges there
    model = ltr.Ranker(engine="xgboost", objective="pointwise", learning_rate=2.5, preset=None, n_estimators=300)
    with pytest.raises(ValueError, match="scores on the training data became NaN or infinite while it trained: the "
                                         "boosting diverged; lower learning_rate"):
        model.fit(d.X, d.y, qid=qid)
    half = len(qid) // 2
    with pytest.raises(ValueError, match="scores on a validation set became NaN or infinite"):
        model.set_params(early_stopping_rounds=None).fit(d.X[:half], d.y[:half], qid=qid[:half],
                                                         eval_set=[(d.X[half:], d.y[half:], qid[half:])])
    # early stopping that keeps a round before the scores ran away is a model (its best round scores finitely)
    model.set_params(early_stopping_rounds=50).fit(d.X[:half], d.y[:half], qid=qid[:half],
                                                   eval_set=[(d.X[half:], d.y[half:], qid[half:])])
    assert np.isfinite(model.predict(d.X)).all()


def test_a_kernel_objective_run_again_after_set_label_reads_the_new_labels_beside_an_init_score():
    """With an init score (a first-stage score) the first round is not constant: the second run trained on the old
    labels (LightGBM's init_score and XGBoost's base_margin alike)."""
    import lightgbm as lgb
    import xgboost as xgb

    import ltr
    from ltr.objectives import lightgbm_objective, xgboost_objective

    d = ltr.make_ranking(30, 12, 5, random_state=0)
    X, y, ptr = d.X, d.y, d.group_ptr
    sizes = np.diff(ptr)
    rng = np.random.default_rng(0)
    y2, init = rng.permutation(y), rng.normal(size=y.size)
    params = dict(num_leaves=7, learning_rate=0.1, verbose=-1, num_threads=1, deterministic=True, min_data_in_leaf=2)

    def trees(booster):
        text = booster.model_to_string()
        return text[text.index("Tree=0"):text.index("end of trees")]

    objective = lightgbm_objective("lambdarank", ptr, mode="lightgbm")
    ds = lgb.Dataset(X, y, group=sizes, init_score=init, free_raw_data=False)
    lgb.train({**params, "objective": objective}, ds, 5)
    ds.set_label(y2)
    again = lgb.train({**params, "objective": objective}, ds, 5)
    native = lgb.train({**params, "objective": "lambdarank"}, lgb.Dataset(X, y2, group=sizes, init_score=init), 5)
    assert trees(again) == trees(native)  # LightGBM's own lambdarank on the new labels: the reference

    objective = xgboost_objective("lambdarank", ptr, mode="xgboost")
    xp = dict(max_depth=3, eta=0.1, nthread=1, base_score=0.0)
    dm = xgb.DMatrix(X, y, group=sizes, base_margin=init)
    xgb.train(xp, dm, 5, obj=objective)
    dm.set_label(y2)
    again = xgb.train(xp, dm, 5, obj=objective)
    fresh = xgb.train(xp, xgb.DMatrix(X, y2, group=sizes, base_margin=init), 5,
                      obj=xgboost_objective("lambdarank", ptr, mode="xgboost"))
    scored = xgb.DMatrix(X, base_margin=init)
    np.testing.assert_array_equal(again.predict(scored), fresh.predict(scored))


def test_truncation_level_beside_another_xgboost_pair_method_is_refused():
    """Beside lambdarank_pair_method=mean, XGBoost read truncation_level 5 as 5 sampled pairs per document, no
    truncation, and the model's record said truncation_level 5."""
    import ltr

    with pytest.raises(ValueError, match="lambdarank_pair_method='mean': XGBoost reads objective_params "
                                         "truncation_level as its topk pair method's cut-off"):
        ltr.Ranker(engine="xgboost", objective_params={"truncation_level": 5},
                   engine_params={"lambdarank_pair_method": "mean"})._check_params()
    ltr.Ranker(engine="xgboost", objective_params={"truncation_level": 5},
               engine_params={"lambdarank_pair_method": "topk"})._check_params()


# -- the hybrid stage's teachers (trial t53/hybrid) -----------------------------------------------------------------
def _named_letor(path, names, seed=0):
    import ltr
    from ltr.io import write_letor

    rng = np.random.default_rng(seed)
    X = rng.random((240, len(names)))
    y = rng.integers(0, 3, 240).astype(float)
    qid = np.repeat(np.arange(30), 8)
    data = ltr.RankingDataset(X=X.astype(np.float32), y=y, qid=qid, group_ptr=np.arange(0, 241, 8),
                              feature_names=tuple(names))
    write_letor(path, data, header=True)
    return path


def test_a_teacher_model_is_refused_on_columns_other_than_its_own(tmp_path, capsys):
    """ltr predict refused a file naming the teacher's columns in another order; --teacher-model scored it (the
    bi-encoder's column as the cross-encoder's)."""
    from ltr.cli import main

    names = ["bm25:all", "biencoder:all", "crossencoder:all"]
    _named_letor(tmp_path / "hyb.letor", names)
    _named_letor(tmp_path / "perm.letor", [names[0], names[2], names[1]])  # the same shape, columns named otherwise
    base = ["--rounds", "3", "--preset", "none", "--min-child-samples", "2", "--quiet"]
    assert main(["train", str(tmp_path / "hyb.letor"), *base, "--out", str(tmp_path / "t.txt")]) == 0
    assert main(["train", str(tmp_path / "perm.letor"), "--objective", "distill", "--kernel", "numba",
                 "--teacher-model", str(tmp_path / "t.txt"), *base, "--out", str(tmp_path / "s.txt")]) == 2
    err = capsys.readouterr().err
    assert "its features are not the data's: column 2 is 'crossencoder:all' in the data, 'biencoder:all' in the " \
           "teacher model" in err
    assert not (tmp_path / "s.txt").exists()


def test_a_teacher_of_a_feature_subset_scores_its_columns_of_the_file(tmp_path):
    """A teacher trained with --drop-features 1 was refused ('X has 3 features, and the model was trained on a
    subset'), though ltr predict scores it on the file; the student learns exactly its ltr predict scores."""
    from ltr.cli import main

    data = _named_letor(tmp_path / "hyb.letor", ["bm25:all", "biencoder:all", "crossencoder:all"])
    base = ["--rounds", "3", "--preset", "none", "--min-child-samples", "2", "--quiet"]
    assert main(["train", str(data), "--drop-features", "1", *base, "--out", str(tmp_path / "t.txt")]) == 0
    assert main(["predict", str(tmp_path / "t.txt"), str(data), "--out", str(tmp_path / "t.scores"),
                 "--quiet"]) == 0
    distill = ["--objective", "distill", "--kernel", "numba", "--features", "1", *base]
    assert main(["train", str(data), *distill, "--teacher-model", str(tmp_path / "t.txt"), "--out",
                 str(tmp_path / "a.txt")]) == 0
    assert main(["train", str(data), *distill, "--teacher-scores", str(tmp_path / "t.scores"), "--out",
                 str(tmp_path / "b.txt")]) == 0

    def trees(path):
        text = path.read_text()
        return text[text.index("Tree=0"):text.index("end of trees")]

    assert trees(tmp_path / "a.txt") == trees(tmp_path / "b.txt")


def test_cv_warns_that_a_learned_teacher_must_not_have_seen_the_labels(tmp_path, capsys):
    from ltr.cli import main

    data = _named_letor(tmp_path / "hyb.letor", ["bm25:all", "biencoder:all", "crossencoder:all"])
    base = ["--rounds", "2", "--preset", "none", "--min-child-samples", "2", "--quiet"]
    assert main(["train", str(data), *base, "--out", str(tmp_path / "t.txt")]) == 0
    assert main(["cv", str(data), "--folds", "2", "--objective", "distill", "--kernel", "numba", "--teacher-model",
                 str(tmp_path / "t.txt"), *base]) == 0
    assert "warning: --teacher-model is the teacher of every fold: if it was fitted on this data's labels" in \
        capsys.readouterr().err
    assert main(["cv", str(data), "--folds", "2", "--objective", "distill", "--kernel", "numba", "--teacher-column",
                 "2", *base]) == 0
    assert "warning" not in capsys.readouterr().err


def test_python_tune_keeps_a_linear_rankers_own_grade_beside_a_target_that_is_not_err():
    """Passing the grade whatever the target refused engine_params={'max_grade': 2} beside metric='ndcg@10', which
    tuned before (the review of stop 53)."""
    import ltr
    from ltr.tuning import tune

    d = ltr.make_ranking(40, 10, 5, random_state=0)
    est = ltr.Ranker(engine="linear", engine_params={"max_grade": 2, "n_restarts": 1})
    result = tune(d, estimator=est, metric="ndcg@10", n_trials=1, outer_folds=2, inner_folds=2, progress=False)
    assert len(result.best_params) == 2  # one choice per outer fold


def test_native_xendcg_with_objective_options_is_told_it_takes_none():
    """'unknown kernel xendcg' answered a native objective's options, though no kernel was asked for."""
    import ltr

    with pytest.raises(ValueError, match="the native 'xendcg' objective takes no objective options \\(got 'sigma'\\)"):
        ltr.Ranker(objective="xendcg", objective_params={"sigma": 2})._check_params()


def test_a_query_beyond_lightgbms_native_limit_names_what_trains_on_it():
    """LightGBM's own words alone ('Number of rows 10001 exceeds upper limit of 10000 for a query') named neither
    the limit's scope nor --kernel numba, which trains on such a query."""
    import ltr

    rng = np.random.default_rng(0)
    X, y = rng.random((10_001, 3)), rng.integers(0, 3, 10_001).astype(float)
    qid = np.zeros(10_001, dtype=np.int64)
    with pytest.raises(ValueError, match="at most 10000 documents per query; .* kernel='numba' \\(the same "
                                         "objective, no such limit\\)"):
        ltr.Ranker(n_estimators=2, preset=None).fit(X, y, qid=qid)
    ltr.Ranker(n_estimators=2, preset=None, kernel="numba").fit(X, y, qid=qid)


def test_a_dask_address_without_a_port_is_tried_at_dasks_default_port():
    """'tcp://127.0.0.1' (Dask's default port 8786, where nothing listens) said 'no answer' after the timeout,
    not 'connection refused': the check could not read an address without a port."""
    import ltr.dask

    assert ltr.dask._refused("tcp://127.0.0.1:9") is True  # (the discard port: nothing listens)
    assert ltr.dask._refused("tcp://127.0.0.1") is ltr.dask._refused("tcp://127.0.0.1:8786") is True


def test_a_full_dataset_cache_is_said_as_a_write_error_not_as_bad_parameters():
    import ltr
    from ltr.rankers.ranker import _engine_error

    class LightGBMError(Exception):
        pass

    model = ltr.Ranker(dataset_cache="/mnt/full/dc")
    error = _engine_error(model, LightGBMError("Cannot write binary data to /mnt/full/dc/.x.tmp.bin, wrote 200 of "
                                               "408 bytes"))
    assert isinstance(error, OSError)
    assert str(error).startswith("/mnt/full/dc: cannot write LightGBM's binned data (") and "no space left" in \
        str(error)


def test_lightgbm_position_bias_regularization_is_refused_as_a_no_op():
    import ltr

    with pytest.raises(ValueError, match="lambdarank_position_bias_regularization=5: regularises LightGBM's "
                                         "position-bias factors.*it would change nothing"):
        ltr.Ranker(engine_params={"lambdarank_position_bias_regularization": 5})._check_params()


def test_predict_of_a_frame_by_a_model_fitted_without_names_warns_as_scikit_learn_does():
    import pandas as pd

    import ltr

    d = ltr.make_ranking(12, 8, 4, random_state=0)
    model = ltr.Ranker(n_estimators=2, preset=None).fit(d.X, d.y, group=np.diff(d.group_ptr))
    frame = pd.DataFrame(d.X, columns=list("abcd"))
    with pytest.warns(UserWarning, match="^X has feature names, but Ranker was fitted without feature names$"):
        scores = model.predict(frame)
    np.testing.assert_array_equal(scores, model.predict(d.X))


def test_alpha_one_says_the_teacher_and_its_options_change_nothing(tmp_path, capsys):
    from ltr.cli import main

    data = _named_letor(tmp_path / "hyb.letor", ["bm25:all", "biencoder:all", "crossencoder:all"])
    assert main(["train", str(data), "--objective", "distill", "--kernel", "numba", "--teacher-column", "3",
                 "--alpha", "1", "--temperature", "5", "--rounds", "2", "--preset", "none"]) == 0
    assert "note: --alpha 1 trains on the labels alone (lambdarank), so --temperature and the teacher change " \
           "nothing" in capsys.readouterr().err


def test_a_model_trained_with_no_relevant_nan_is_saved_and_read_back(tmp_path):
    """ltr train --no-relevant nan --out M trained, then failed to save: 'Out of range float values are not JSON
    compliant' (found trying the stop's commands as a user)."""
    import json
    import math

    import ltr

    d = ltr.make_ranking(10, 5, 3, random_state=0)
    model = ltr.Ranker(n_estimators=2, preset=None, eval_params={"no_relevant": float("nan")}).fit(d)
    model.save(tmp_path / "m.txt")
    json.loads((tmp_path / "m.txt.meta.json").read_text(), parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    loaded = ltr.load_model(tmp_path / "m.txt")
    assert math.isnan(loaded.eval_params["no_relevant"])
    np.testing.assert_array_equal(loaded.predict(d), model.predict(d))
