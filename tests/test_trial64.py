"""Stop 64: what the trials and the previous stop's left-alone list found (each test fails without its fix)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest


def _index():
    from features import Analyzer, InvertedIndex
    from features.collections import Collection

    return InvertedIndex.build(Collection(("a", "b", "c"), {"body": ["wing flutter", "heat", "wing wing"]}),
                               Analyzer(stemmer=None))


@pytest.mark.parametrize("dtype", [np.float16, "float16", np.longdouble])
def test_the_retriever_refuses_a_float_dtype_its_kernel_has_no_version_for(dtype):
    """float16 passed the constructor and failed at search, in Numba's typing of the top-k kernel (stop 63)."""
    from features.retrieval import BM25Retriever

    with pytest.raises(TypeError, match=r"^dtype must be np\.float32 or np\.float64, got float(16|128): the top-k "):
        BM25Retriever(_index(), dtype=dtype)
    for ok in (np.float32, "float64"):
        assert BM25Retriever(_index(), dtype=ok).search({"q": "wing"}, k=3)["docno"].tolist() == ["c", "a"]


@pytest.mark.parametrize("tag", ["my run", "", "a\tb", 5])
def test_a_tag_that_no_run_can_hold_is_refused_where_it_is_given(tag):
    """A tag with a blank was taken by search, fuse and run_from_scores and failed when the run was written."""
    from features.retrieval import BM25Retriever
    from ltr.fusion import fit_weights, fuse
    from ltr.io import run_from_scores

    said = "^" + re.escape(f"tag {tag!r}: a run tag is one word, neither empty nor holding whitespace")
    with pytest.raises(ValueError, match=said):
        BM25Retriever(_index()).search({"q": "wing"}, tag=tag)
    with pytest.raises(ValueError, match=said):
        run_from_scores(["1"], ["a"], [1.0], tag=tag)
    with pytest.raises(ValueError, match=said):
        fuse(["no-such-1.run", "no-such-2.run"], tag=tag)  # before any run is read
    with pytest.raises(ValueError, match=said):
        fit_weights(["no-such-1.run", "no-such-2.run"], "no-such.qrels", tag=tag)
    r = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "score": [2.0, 1.0]})
    assert fuse([r, r], tag="ok")["tag"].tolist() == ["ok", "ok"]


def test_a_cv_results_name_with_blanks_gives_its_run_a_one_word_tag():
    """The out-of-fold run's tag defaults to the result's name, which is free text: its blanks became a run that no
    writer takes; the tag joins its words now, and an explicit tag is checked."""
    from ltr.evaluation.results import CVResult, FoldResult

    fold = FoldResult(name="1", metrics={"ndcg@10": 1.0}, qids=["q1"], per_query={"ndcg@10": [1.0]}, curve=[],
                      seconds=0.0, rounds=1, n_test_queries=1, test_sizes=[2], doc_ids=["d1", "d2"],
                      scores=[0.5, 1.5])
    result = CVResult(name="my  model", metrics=["ndcg@10"], folds=[fold], feature_names=None, params={},
                      settings={})
    run = result.run()
    assert run["tag"].unique().tolist() == ["my_model"] and run["docno"].tolist() == ["d2", "d1"]
    with pytest.raises(ValueError, match="^tag 'a b': a run tag is one word"):
        result.run(tag="a b")


def test_a_collection_folder_with_a_file_and_its_gz_copy_reads_the_plain_file_in_every_layout(tmp_path, caplog):
    """Cranfield's, CACM's, NPL's and the TREC layouts read NAME.gz where NAME was there too, the SMART trio and BEIR
    NAME: after ``gunzip -k`` and an edit, the edit was read or ignored by layout, without a word (trial t64)."""
    import gzip
    import logging

    from features.collections import load_test_collection

    cran = tmp_path / "cran"
    cran.mkdir()
    (cran / "cran.qry").write_text(".I 001\n.W\nwing\n")
    (cran / "cranqrel").write_text("1 2 1\n")
    old = ".I 1\n.T\nold title\n.W\nwing\n.I 2\n.T\nx\n.W\nheat\n"
    with gzip.open(cran / "cran.all.1400.gz", "wt") as f:
        f.write(old)
    assert load_test_collection(cran).docs.fields["title"][0] == "old title"  # the .gz alone: read
    (cran / "cran.all.1400").write_text(old.replace("old title", "edited title"))
    with caplog.at_level(logging.WARNING, logger="features.collections.loaders"):
        got = load_test_collection(cran)
    assert got.docs.fields["title"][0] == "edited title"
    assert f"{cran}: both cran.all.1400 and cran.all.1400.gz are there; reading cran.all.1400 (the plain file)" \
        in caplog.messages
    adi = tmp_path / "adi"
    adi.mkdir()
    (adi / "ADI.ALL").write_text(".I 1\n.W\nwing\n")
    with gzip.open(adi / "ADI.ALL.gz", "wt") as f:
        f.write(".I 1\n.W\nheat\n")
    (adi / "ADI.QRY").write_text(".I 1\n.W\nwing\n")
    (adi / "ADI.REL").write_text("1 1 0 0\n")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="features.collections.loaders"):
        assert load_test_collection(adi).docs.fields["body"][0] == "wing"
    assert f"{adi}: both ADI.ALL and ADI.ALL.gz are there; reading ADI.ALL (the plain file)" in caplog.messages
    beir = tmp_path / "beir"  # (review of t64: the judgments of a BEIR folder read the plain file without a word)
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text('{"_id": "d1", "title": "", "text": "wing"}\n')
    (beir / "queries.jsonl").write_text('{"_id": "q1", "text": "wing"}\n')
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\n")
    with gzip.open(beir / "qrels" / "test.tsv.gz", "wt") as f:
        f.write("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="features.collections.loaders"):
        assert load_test_collection(beir).qrels["rel"].tolist() == [2]
    assert f"{beir / 'qrels'}: both test.tsv and test.tsv.gz are there; reading test.tsv (the plain file)" in \
        caplog.messages


def test_a_field_the_collection_lacks_is_the_fields_options_error(shared_file, tmp_path, capsys):
    """--fields nosuch was the index's error, exit 1, naming no option (trial t64)."""
    from ltr.cli import main

    adi = shared_file("adi")
    out = tmp_path / "x.letor"
    assert main(["features", "--collection", str(adi), "--fields", "nosuch,body", "--out", str(out)]) == 2
    assert capsys.readouterr().err == ("ltr features: error: --fields nosuch,body: 'nosuch' is not a field of the "
                                       "collection, whose fields are title, body\n")
    assert not out.exists()


@pytest.mark.parametrize("name", ["d.txt.zip", "d.txt.ZIP", "d.txt.zst", "d.txt.Z", "d.tgz"])
def test_a_name_ending_in_a_compression_no_writer_makes_is_refused(tmp_path, capsys, name):
    """write_letor("d.txt.zip") wrote plain text under that name (stop 62's left alone), which unzip refuses; every
    writer and the command line's output check refuse it now, naming the ending, and write nothing."""
    from ltr.cli import main
    from ltr.datasets import RankingDataset
    from ltr.exceptions import OutputPathError
    from ltr.io import write_letor, write_run

    data = RankingDataset(np.ones((2, 1)), np.array([1.0, 0.0]), np.array([1, 1]), np.array([0, 2]))
    end = name[name.index(".", 2):] if name.startswith("d.txt") else ".tgz"
    said = f"cannot write {end} files (the outputs that may be compressed are, by a .gz, .bz2 or .xz name; no writer"
    with pytest.raises(OutputPathError, match=re.escape(said)):
        write_letor(tmp_path / name, data)
    run = pd.DataFrame({"qid": ["1"], "docno": ["a"], "rank": [1], "score": [1.0]})
    with pytest.raises(OutputPathError, match=re.escape(said)):
        write_run(tmp_path / name, run)
    assert not list(tmp_path.iterdir())
    write_letor(tmp_path / "d.txt.gz", data)
    assert main(["train", str(tmp_path / "d.txt.gz"), "--rounds", "1", "--out", str(tmp_path / name)]) != 0
    assert f"--out {tmp_path / name}: a model is written as plain text, which the engines read (neither reads a " \
        f"compressed model): give a name without {end}" in capsys.readouterr().err  # (review of t64: .gz advised)
    from ltr import Ranker

    with pytest.raises(OutputPathError, match=f"give a name without {re.escape(end)}$"):
        Ranker(n_estimators=1).fit(data).save(tmp_path / name)  # (it wrote plain text under the name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.txt.gz"]


def test_max_docs_evaluates_each_querys_first_documents_as_trec_eval_M(tmp_path, capsys):
    """trec_eval's -M was not offered (stop 62's left alone). The reference: pytrec_eval on the run cut here to each
    query's first M documents by trec_eval's order (the score as a C float, descending, then docno descending),
    with ties of score across the cut."""
    from ltr._shared import import_reference
    from ltr.cli import main
    from ltr.io import write_qrels, write_run
    from ltr.metrics import evaluate_run

    pytrec_eval = import_reference("pytrec_eval")
    rng = np.random.default_rng(64)
    rows = [(f"q{q}", f"d{d:03d}", float(rng.integers(0, 6)) / 4) for q in range(8) for d in rng.permutation(60)[:40]]
    run = pd.DataFrame(rows, columns=["qid", "docno", "score"])
    qrels = pd.DataFrame([(f"q{q}", f"d{d:03d}", int(rng.integers(0, 3))) for q in range(8) for d in range(0, 60, 2)],
                         columns=["qid", "docno", "rel"])
    judged = {q: dict(zip(g["docno"], g["rel"].tolist())) for q, g in qrels.groupby("qid")}
    measures = {"map", "P_10", "ndcg_cut_10", "recall_20", "num_ret", "num_rel_ret", "ndcg"}
    for m in (1, 7, 15, 40, 100):
        ordered = run.assign(f=run["score"].astype(np.float32)).sort_values(["qid", "f", "docno"],
                                                                           ascending=[True, False, False])
        cut = ordered.groupby("qid").head(m)
        ranked = {q: dict(zip(g["docno"], g["score"].tolist())) for q, g in cut.groupby("qid")}
        ref = pytrec_eval.RelevanceEvaluator(judged, measures).evaluate(ranked)
        got = evaluate_run(qrels, run, ["map", "p@10", "ndcg@10", "recall@20", "num_ret", "num_rel_ret", "ndcg"],
                           max_docs=m)
        for ours, theirs in (("map", "map"), ("p@10", "P_10"), ("ndcg@10", "ndcg_cut_10"), ("recall@20", "recall_20"),
                             ("ndcg", "ndcg")):
            assert got[ours] == pytest.approx(np.mean([v[theirs] for v in ref.values()]), abs=1e-12), (m, ours)
        assert got["num_ret"] == sum(v["num_ret"] for v in ref.values()) == min(m, 40) * 8
        assert got["num_rel_ret"] == sum(v["num_rel_ret"] for v in ref.values())
    write_run(tmp_path / "r.run", run.assign(rank=1))
    write_qrels(tmp_path / "q.qrels", qrels)
    argv = ["evaluate", "--qrels", str(tmp_path / "q.qrels"), "--run", str(tmp_path / "r.run"), "--metrics", "map",
            "--format", "json"]
    assert main([*argv, "-M", "7"]) == 0
    assert '"map": ' + repr(round(evaluate_run(qrels, run, ["map"], max_docs=7)["map"], 4)) in capsys.readouterr().out
    for bad in ("0", "x"):
        assert main([*argv, "-M", bad]) == 2
        assert f"argument -M/--max-docs: {bad!r}: the number of documents per query" in capsys.readouterr().err
    with pytest.raises(ValueError, match="max_docs must be an integer >= 1"):
        evaluate_run(qrels, run, ["map"], max_docs=0)


def test_tune_warns_of_an_estimators_settings_that_the_space_searches(shared_file, tmp_path):
    """tune() drew normalize and n_restarts from the space where the estimator set them, without a word, and the
    result recorded the values given (trial t64; ltr tune said so in a note)."""
    import warnings

    from ltr import Ranker
    from ltr._shared import import_reference
    from ltr.io import read_letor
    from ltr.tuning import SearchedParamWarning, tune

    import_reference("optuna")
    data = read_letor(shared_file("mq2008/Fold1/vali.txt.gz")).subset(np.arange(20))
    kwargs = dict(n_trials=1, outer_folds=2, inner_folds=2, progress=False)
    with pytest.warns(SearchedParamWarning, match=r"^the search space searches normalize='sum', engine_params "
                                                   r"n_restarts=3: the trials draw the value, the one given is not"):
        tune(data, estimator=Ranker(engine="linear", normalize="sum", engine_params={"n_restarts": 3}), **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SearchedParamWarning)
        tune(data, estimator=Ranker(engine="linear"), **kwargs)  # the defaults: nothing to say
        space = tmp_path / "s.toml"
        space.write_text("[engine_params.reg]\nlow = 0.0\nhigh = 0.1\n")  # normalize not searched: kept, silently
        tune(data, estimator=Ranker(engine="linear", normalize="sum"), space=space, **kwargs)


def test_ltr_tune_of_a_linear_objective_takes_any_metric_and_shows_small_chosen_values(shared_file, tmp_path, capsys):
    """--engine linear --objective map --metric bpref was refused as 'cannot optimise bpref', where the metric only
    chooses the parameters (Python's tune() ran it); a reg of 1.25e-05 chosen read 0.0000 (trial t64)."""
    from ltr._shared import import_reference
    from ltr.cli import main
    from ltr.io import read_letor, write_letor

    import_reference("optuna")
    data = tmp_path / "d.txt"
    write_letor(data, read_letor(shared_file("mq2008/Fold1/vali.txt.gz")).subset(np.arange(30)))
    space = tmp_path / "s.toml"
    space.write_text("[engine_params.reg]\nlow = 0.000001\nhigh = 0.0001\nlog = true\n")
    argv = ["tune", str(data), "--engine", "linear", "--trials", "1", "--outer-folds", "2", "--inner-folds", "2",
            "--space", str(space), "--quiet"]
    assert main([*argv, "--objective", "map", "--metric", "bpref"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("Fold")][-2:]
    assert [r[0] for r in rows] == ["Fold1", "Fold2"]
    assert all(1e-6 <= float(r[-1]) <= 1e-4 and "e-0" in r[-1] for r in rows), out
    assert main([*argv, "--metric", "bpref"]) == 2  # the metric is the objective: one it cannot optimise
    assert "--metric bpref: --engine linear cannot optimise 'bpref'" in capsys.readouterr().err


def test_a_linear_models_bad_weight_is_counted_from_1_and_one_query_is_one_query(tmp_path):
    """A NaN 4th weight was "weight 3" (from 0) where the overflow's message and ltr info count from 1; "the data has
    1 queries" (trial t64)."""
    import json

    from ltr import Ranker
    from ltr.datasets import RankingDataset
    from ltr.exceptions import ModelFormatError
    from ltr.rankers.linear import model_from_text
    from ltr.tuning import tune

    X, y = np.random.default_rng(0).random((8, 4)), np.array([0, 1, 0, 1, 2, 0, 1, 0])
    d = Ranker(engine="linear").fit(X, y, group=[4, 4]).booster_.to_dict()
    d["weights"][3] = None
    with pytest.raises(ModelFormatError, match=r'^bad.json: weight 4 of "weights" is nan, not a finite number$'):
        model_from_text(json.dumps(d).replace("null", "NaN"), source="bad.json")
    one = RankingDataset(X[:4], y[:4], np.ones(4, dtype=np.int64), np.array([0, 4]))
    with pytest.raises(ValueError, match=r"^the data has 1 query, fewer than the 2 outer folds"):
        tune(one, estimator=Ranker(engine="linear"), n_trials=1, outer_folds=2, inner_folds=2, progress=False)


@pytest.mark.filterwarnings("ignore")  # (the preset's note; catch_warnings is not thread-safe)
def test_fits_in_threads_give_the_models_they_give_in_turn(shared_file):
    """Ranker.predict ran LightGBM on every core, a setting LightGBM keeps for the whole process: a fit in another
    thread took it up mid-training, and the small-data preset's bagging by query does not repeat across thread
    counts (trial t64: four fits on four threads differed from the same fits in turn by up to 0.116)."""
    from concurrent.futures import ThreadPoolExecutor

    from ltr import Ranker
    from ltr.io import read_letor

    train = read_letor(shared_file("mq2008/Fold1/vali.txt.gz"))
    test = read_letor(shared_file("mq2008/Fold1/test.txt.gz"))

    def fit(seed):
        return Ranker(n_estimators=40, random_state=seed).fit(train).predict(test)

    alone = [fit(s) for s in range(4)]
    for _ in range(3):
        with ThreadPoolExecutor(4) as pool:
            together = list(pool.map(fit, range(4)))
        assert [float(np.abs(a - b).max()) for a, b in zip(alone, together)] == [0.0] * 4


def test_write_letor_refuses_two_queries_sharing_a_query_id(shared_file, tmp_path):
    """subset([0, 0, 1]) draws query 0 twice (a bootstrap) under one id: written with qid: tokens it read back as 2
    queries, without a word (trial t64). Refused, naming both; the .query layout keeps the three."""
    from ltr.io import read_letor, write_letor

    data = read_letor(shared_file("mq2008/Fold1/vali.txt.gz"))
    boot = data.subset([0, 0, 1])
    with pytest.raises(ValueError, match=rf"^queries 0 and 1 \(0-based\) both have query id {int(data.qid[0])}: a "
                                         "LETOR file would read them back as one query"):
        write_letor(tmp_path / "b.txt", boot)
    assert not (tmp_path / "b.txt").exists()
    write_letor(tmp_path / "q.txt", boot, qid=False)
    assert read_letor(tmp_path / "q.txt").group_sizes.tolist() == boot.group_sizes.tolist()
    apart = data.subset([0, 1, 0])  # apart: an error on reading, refused on writing as well
    with pytest.raises(ValueError, match=r"^queries 0 and 2 \(0-based\) both have query id"):
        write_letor(tmp_path / "c.txt", apart)


def test_a_lightgbm_seed_of_2_to_the_31_or_more_is_warned_of(tmp_path, capsys):
    """LightGBM draws for r + 2**31 as for r (its seed is a C int), where random_state and --seed take 0 to
    2**32 - 1: a seed drawn from that range repeated another's model, without a word (trial t64)."""
    import warnings

    from ltr import Ranker
    from ltr.cli import main
    from ltr.datasets import make_ranking
    from ltr.rankers.params import UnusedParameterWarning

    data = make_ranking(30, 10, 4, random_state=0)
    kw = dict(n_estimators=5, subsample=0.5, colsample_bytree=0.5)
    with pytest.warns(UnusedParameterWarning, match=r"^random_state=2147483653: LightGBM keeps its seeds in a C "
                                                    r"int and draws as for 5, the same model"):
        high = Ranker(random_state=2**31 + 5, **kw).fit(data).predict(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnusedParameterWarning)
        low = Ranker(random_state=5, **kw).fit(data).predict(data)
        Ranker(random_state=2**31 - 1, **kw).fit(data)
        Ranker(engine="xgboost", random_state=2**31 + 5, n_estimators=2).fit(data)  # XGBoost's seeds are its own
    assert np.array_equal(high, low)  # (why it is said: LightGBM's own behaviour)
    from ltr.io import write_letor

    write_letor(tmp_path / "d.txt", data)
    assert main(["train", str(tmp_path / "d.txt"), "--rounds", "2", "--seed", "4294967295", "--out",
                 str(tmp_path / "m.txt"), "--quiet"]) == 0
    assert ("ltr train: warning: --seed 4294967295: LightGBM keeps its seeds in a C int and draws as for 2147483647"
            in capsys.readouterr().err)
    with pytest.warns(UnusedParameterWarning, match=r"^engine_params bagging_seed=2147483655: LightGBM keeps its "
                                                    r"seeds in a C int and draws as for 7"):  # (review of t64)
        Ranker(engine_params={"bagging_seed": 2**31 + 7}, **kw).fit(data)


def test_a_bm25_feature_of_the_joined_field_says_which_fields_it_joins():
    """A BM25 feature on ltrkit's 'all' field was exported as a query on a field 'all' with no word that it joins
    title and body: an index without such a field matches nothing, the feature 0 for every document (trial t64)."""
    import json

    from ltr.export.featureset import feature_set_definition

    effective = {"k1": 1.2, "b": 0.75, "idf": "lucene", "k3": None, "epsilon": 0.25, "qtf_norm": "none",
                 "doc_count": "field"}
    description = {"format": "ltrkit-feature-set/1", "fields": ["title", "body", "all"], "aliases": {},
                   "columns": ["bm25:title", "bm25:body", "bm25:all"],
                   "features": [{"scorer": "bm25", "fields": "*", "name": None, "params": {}, "effective": effective}]}
    names = ["bm25:title", "bm25:all"]
    for family, copy in (("es", "copy_to in the mapping"), ("solr", "copyField in the schema")):
        text, notes = feature_set_definition(names, family, description=description)
        json.loads(text)
        said = [n for n in notes if "ltrkit's field joining" in n]
        assert len(said) == 1 and said[0].startswith("'bm25:all': ") and said[0].endswith(
            f"; 'all' is ltrkit's field joining 'title', 'body': index a field of that name holding their text "
            f"({copy})")
    one = dict(description, fields=["body"], columns=["bm25:body"])  # a field of its own: nothing to say
    assert not any("joining" in n for n in feature_set_definition(["bm25:body"], "es", description=one)[1])


def test_ltr_train_with_valid_naming_train_itself_does_not_stop_on_the_training_data(shared_file, tmp_path, capsys):
    """--valid TRAIN (the same file, or a link to it) was read as another set: early stopping watched the training
    data and kept round 29 of 30, without a word, where Python's fit warns and trains every round (trial t64)."""
    from ltr.cli import main

    data = shared_file("mq2008/Fold1/vali.txt.gz")
    (tmp_path / "link.txt.gz").symlink_to(data)
    for valid in (str(data), str(tmp_path / "link.txt.gz")):
        assert main(["train", str(data), "--valid", valid, "--preset", "none", "--rounds", "30",
                     "--early-stopping", "1", "--seed", "1", "--out", str(tmp_path / "m.txt")]) == 0
        said = capsys.readouterr()
        assert "ltr train: warning: --valid is TRAIN itself: early stopping would watch the training data, so it " \
               "is off (all 30 rounds train" in said.err
        assert "trained 30 rounds in" in said.out + said.err


@pytest.mark.parametrize("typed, meant", [("ndgc@10", "ndcg@10"), ("ndcg10", "ndcg@10"), ("ndcg_cut10", "ndcg@10"),
                                          ("mapp", "map"), ("precison@5", "p@5"), ("zzz", None), ("ndcg@x", None),
                                          ("ndgc@0", "ndcg"), ("precison@0", "p@10")])  # (never a cutoff refused)
def test_a_misspelt_metric_is_answered_with_the_nearest_known_one(capsys, typed, meant):
    """A newcomer's ndgc@10 got 620 characters of names and aliases and no guess (trial t64)."""
    from ltr.cli import main
    from ltr.metrics import parse_metric

    with pytest.raises(ValueError) as e:
        parse_metric(typed)
    head = f"unknown metric {typed!r}" + (f" (did you mean {meant!r}?)" if meant else "") + "; known metrics: "
    assert str(e.value).startswith(head)
    assert main(["evaluate", "--qrels", "q", "--run", "r", "--metrics", typed]) == 2
    assert capsys.readouterr().err.startswith(f"ltr evaluate: error: --metrics: {head}")


def test_a_reranker_of_a_plain_model_warns_without_advice_on_reading_data(shared_file, tmp_path):
    """Reranker.load of a LightGBM model without a sidecar passed on load_model's advice to score float64 values
    with read_letor(dtype='float64'), which a reranker computing its own features cannot follow, and pointed at a
    line inside the library (trial t64)."""
    import warnings

    import lightgbm as lgb

    from features.serve import Reranker
    from ltr.cli import main
    from ltr.io import read_letor
    from ltr.rankers.persist import PlainModelWarning

    letor, index = tmp_path / "adi.letor", tmp_path / "adi.npz"
    assert main(["features", "--collection", str(shared_file("adi")), "--topk", "5", "--out", str(letor),
                 "--index", str(index), "--quiet"]) == 0
    data = read_letor(letor)
    lgb.train({"objective": "lambdarank", "verbose": -1, "num_threads": 1, "min_data_in_leaf": 2},
              lgb.Dataset(data.X, data.y, group=data.group_sizes), 3).save_model(str(tmp_path / "plain.txt"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Reranker.load(tmp_path / "plain.txt", index=index, features="default")
    plain = [w for w in caught if issubclass(w.category, PlainModelWarning)]
    assert len(plain) == 1 and "a plain lightgbm model without an ltrkit sidecar" in str(plain[0].message)
    assert "read_letor" not in str(plain[0].message) and plain[0].filename == __file__


def test_building_an_index_of_a_pyterrier_frame_says_how_to_make_a_collection():
    """InvertedIndex.build(DataFrame(docno, text)) said only that a Collection was wanted (trial t64); the message's
    own recipe builds the index."""
    from features import Analyzer, InvertedIndex
    from features.collections import Collection

    df = pd.DataFrame({"docno": ["a", "b"], "text": ["wing flutter", "heat"]})
    with pytest.raises(TypeError, match=re.escape("got DataFrame: make one of document ids and a text list per "
                                                  "field, e.g. of PyTerrier's frame Collection(tuple(df.docno), "
                                                  "{'body': list(df.text)})")):
        InvertedIndex.build(df, Analyzer(stemmer=None))
    index = InvertedIndex.build(Collection(tuple(df.docno), {"body": list(df.text)}), Analyzer(stemmer=None))
    assert index.n_docs == 2 and "flutter" in index.vocab


@pytest.mark.parametrize("argv", [["train", "{f}", "--rounds", "1"], ["cv", "{f}"], ["info", "{f}"],
                                  ["evaluate", "{f}", "--scores", "s"], ["tune", "{f}", "--trials", "1"]])
def test_a_trec_run_given_where_a_letor_file_goes_is_named_as_one(tmp_path, capsys, argv):
    """ltr info said that a TREC run given as a LETOR file reads as a run, and how to evaluate it; train, cv,
    evaluate DATA and tune named the token alone (trial t64)."""
    from ltr.cli import main

    run = tmp_path / "bm25.run"
    run.write_text("1 Q0 d1 1 2.5 bm25\n1 Q0 d2 2 1.5 bm25\n")
    assert main([a.format(f=run) for a in argv]) != 0
    err = capsys.readouterr().err
    assert f"{run}:1: expected a feature token <id>:<value> but the token has no colon (token 'Q0'); it reads as a " \
           "TREC run (qid Q0 docno rank score tag): ltr evaluate --qrels Q --run FILE evaluates it" in err
    assert len(err.strip().splitlines()) == 1


def test_an_object_array_of_numbers_trains_as_its_numbers_and_another_cell_is_named():
    """X.astype(object) holding numbers was refused as not numeric, where LGBMRanker, XGBRanker and scikit-learn
    take it (trial t64); it reads as float64, and a cell that is no number is named by row and column."""
    from ltr import Ranker
    from ltr.datasets import make_ranking

    d = make_ranking(20, 8, 4, random_state=0)
    X = d.X.astype(np.float64)
    X[0, 0] = 1.0
    held = X.astype(object)
    held[0, 0] = 1  # (a Python int among the floats)
    kw = dict(n_estimators=5, preset=None, n_jobs=1)
    want = Ranker(**kw).fit(X, d.y, group=d.group_sizes).predict(X)
    assert np.array_equal(Ranker(**kw).fit(held, d.y, group=d.group_sizes).predict(held), want)
    held[3, 2] = "x"
    with pytest.raises(TypeError, match=r"^X must be numeric: the object array holds 'x' \(a str\) at row 3, "
                                        r"column 2$"):
        Ranker(**kw).fit(held, d.y, group=d.group_sizes)


def test_a_valid_files_other_sidecar_hints_keep_their_semicolon(tmp_path, capsys):
    """The .query layout hint reads 'LightGBM's .query layout: FILE reads ...'; another hint before the sidecar
    sentence keeps '; ' (review of t64: a stale .query read 'give the groups: v.txt reads its group sizes')."""
    from ltr.cli import main

    rows = "1 qid:1 1:1\n0 qid:1 1:2\n1 qid:2 1:1\n0 qid:2 1:3\n"
    (tmp_path / "a.txt").write_text(rows)
    (tmp_path / "v.txt").write_text(rows)
    (tmp_path / "v.txt.query").write_text("5\n")
    assert main(["train", str(tmp_path / "a.txt"), "--valid", str(tmp_path / "v.txt"), "--rounds", "1"]) == 1
    v = tmp_path / "v.txt"
    assert f"pass --no-query-file if the data file's qid tokens give the groups; {v} reads its group sizes and " \
           f"weights from {v}.query or .group" in capsys.readouterr().err


@pytest.mark.parametrize("alias", ["num_iterations", "num_boost_round", "n_iter"])
def test_lightgbms_own_number_of_rounds_is_the_rounds_asked_for(alias):
    """engine_params num_iterations=20 trained 20 rounds (lgb.train takes it over the rounds passed) and warned that
    LightGBM stopped after 20 of 300 rounds, no leaf meeting the split requirements (review of t64)."""
    import warnings

    from ltr import Ranker
    from ltr.datasets import make_ranking

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = Ranker(preset=None, engine_params={alias: 20}).fit(make_ranking(30, 10, 4, random_state=0))
    assert model.n_rounds_ == 20
