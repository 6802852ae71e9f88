"""Distributed training as a trial found it (stop 30): the set that stops XGBoost early, what a Dask model keeps
for ltr predict, the metric early stopping reads, the shards' placement, names and layouts, and the options the
engines' Dask training does not take. A LocalCluster of 2 workers as threads of this process (as test_dask.py)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import numpy as np
import pytest

from ltr._shared import import_reference

distributed = import_reference("distributed")  # the dask extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1
import_reference("pyarrow")

from ltr import Ranker, make_ranking  # noqa: E402
from ltr import dask as ld  # noqa: E402
from ltr.cli import main  # noqa: E402
from ltr.evaluation import cross_validate  # noqa: E402
from ltr.exceptions import GroupError  # noqa: E402
from ltr.io import read_letor, write_letor  # noqa: E402

# ltr.dask.fit's default engine (XGBoost) is warned about when the Ranker says 'lightgbm', Ranker's default; these
# tests train that default on purpose (test_dask.py checks the warning itself)
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:ltr.dask.fit trains XGBoost when engine")]


@pytest.fixture(scope="module")
def client(dask_client):
    return dask_client


@pytest.fixture(scope="module")
def mq2008(shared_file):
    train = read_letor(shared_file("mq2008/Fold1/test.txt.gz"), n_features=46)
    valid = read_letor(shared_file("mq2008/Fold1/vali.txt.gz"), n_features=46)
    test = read_letor(shared_file("mq2008/Fold2/test.txt.gz"), n_features=46)
    return train, valid, test


def run(argv, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_first_validation_set_stops_xgboost_early_as_in_one_process(client, mq2008):
    """XGBoost's early_stopping_rounds watches the last of its evals: with [vali, test] the Dask fit stopped where
    [test] alone stops (ltr cv passes [vali, train] and stopped on the training part)."""
    train, valid, test = mq2008
    params = dict(engine="xgboost", n_estimators=300, random_state=1, early_stopping_rounds=10, preset=None)
    local = Ranker(**params).fit(train, eval_set=[valid])
    data = ld.from_dataset(train, client=client, n_parts=1)  # one partition: the local fit's trees
    got = [ld.fit(Ranker(**params), data, client=client, eval_set=s).best_iteration_
           for s in ([valid], [valid, test], [test])]
    assert got[0] == got[1] == local.best_iteration_ < 300
    assert got[2] != got[0]  # the check can fail: stopping on the test set stops elsewhere


def test_dask_cross_validation_stops_on_each_folds_validation_part(client, mq2008):
    train, _, _ = mq2008
    ranker = Ranker(engine="xgboost", n_estimators=200, random_state=1, early_stopping_rounds=10, preset=None)
    local = cross_validate(ranker, train, n_splits=3)
    dist = cross_validate(ld.DistributedRanker(ranker), train, n_splits=3)
    assert [f.rounds for f in dist.folds] == [f.rounds for f in local.folds]
    assert dist.name == local.name == "lambdarank"  # named after its ranker, not "DistributedRanker"


def test_a_fitted_attribute_set_on_the_wrapper_is_saved(client, tmp_path):
    d = make_ranking(20, 5, 3, random_state=0)
    model = ld.DistributedRanker(Ranker(n_estimators=2, min_child_samples=2)).fit(d)
    model.read_options_ = {"missing": "nan"}
    assert model.ranker_.read_options_ == {"missing": "nan"}
    model.save(tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json.meta.json").read_text())["read_options"] == {"missing": "nan"}


def test_ltr_train_dask_keeps_its_reader_options_and_says_what_it_ran(client, mq2008, tmp_path, capsys):
    train, valid, _ = mq2008
    (tmp_path / "shards").mkdir()
    half = train.n_queries // 2
    write_letor(tmp_path / "shards" / "a.txt", train.subset(np.arange(half)))
    write_letor(tmp_path / "shards" / "b.txt", train.subset(np.arange(half, train.n_queries)))
    write_letor(tmp_path / "v.txt", valid)
    code, out, err = run(["train", tmp_path / "shards" / "*.txt", "--dask", client.scheduler.address, "--valid",
                          tmp_path / "v.txt", "--rounds", 300, "--early-stopping", 10, "--seed", 1, "--preset", "none",
                          "--missing", "nan", "--out", tmp_path / "m.json", "--format", "json", "--quiet"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["rounds_run"] == result["rounds"] + 10 and result["workers"] == 2
    assert json.loads((tmp_path / "m.json.meta.json").read_text())["read_options"] == {"missing": "nan"}
    code, out, err = run(["train", tmp_path / "shards" / "*.txt", "--dask", client.scheduler.address, "--valid",
                          tmp_path / "v.txt", "--rounds", 300, "--early-stopping", 10, "--seed", 1, "--preset",
                          "none"], capsys)
    said = out + err
    assert code == 0 and f"trained {result['rounds']} rounds (ran {result['rounds_run']}, kept the best)" in said
    assert "on 2 Dask worker(s)" in said


@pytest.mark.parametrize("metric", ["map", "err@10"])
def test_an_early_stopping_metric_the_workers_cannot_read_is_refused(client, tmp_path, capsys, metric):
    path = write_letor(tmp_path / "d.txt", make_ranking(30, 8, 5, random_state=0))
    code, _, err = run(["train", path, "--dask", client.scheduler.address, "--valid", path, "--rounds", 5,
                        "--early-stopping", 2, "--early-stopping-metric", metric, "--out", tmp_path / "m.json"],
                       capsys)
    assert code == 2 and f"--early-stopping-metric {metric} with --dask" in err and "ndcg@K" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "m.json").exists()
    with pytest.raises(ValueError, match=f"early_stopping_metric='{metric}': distributed XGBoost"):
        ld.fit(Ranker(n_estimators=3, early_stopping_rounds=2, early_stopping_metric=metric), make_ranking(
            20, 5, 3, random_state=0), client=client, eval_set=[make_ranking(10, 5, 3, random_state=1)])


def test_ndcg_at_another_cutoff_stops_on_that_cutoff(client, mq2008):
    train, valid, _ = mq2008
    params = dict(engine="xgboost", n_estimators=300, random_state=1, early_stopping_rounds=10, preset=None,
                  early_stopping_metric="ndcg@3")
    local = Ranker(**params).fit(train, eval_set=[valid])
    dist = ld.fit(Ranker(**params), ld.from_dataset(train, client=client, n_parts=1), client=client,
                  eval_set=[valid])
    assert dist.best_iteration_ == local.best_iteration_


def _distinct_splits(model) -> int:
    trees = model.booster_.trees_to_dataframe()
    return int(trees[trees["Feature"] != "Leaf"].groupby("Feature")["Split"].nunique().max())


def test_max_bin_reaches_the_data_and_eval_sets_of_another_width_are_refused(client):
    d = make_ranking(60, 10, 5, random_state=0)
    params = dict(n_estimators=10, min_child_samples=2, num_leaves=15, preset=None)
    coarse = ld.fit(Ranker(**params, engine_params={"max_bin": 4}), d, client=client)  # an XGBoost error before
    fine = ld.fit(Ranker(**params), d, client=client)
    assert _distinct_splits(coarse) <= 3 < _distinct_splits(fine)  # 4 bins: at most 3 thresholds per feature
    with pytest.raises(ValueError, match=r"eval_set\[0\] has 3 features but the training data has 5"):
        ld.fit(Ranker(n_estimators=3), d, client=client, eval_set=[make_ranking(10, 5, 3, random_state=1)])


def test_shards_are_placed_on_the_workers_in_turn(client, tmp_path):
    d = make_ranking(30, 5, 3, random_state=0)
    for i in range(3):
        write_letor(tmp_path / f"p{i}.txt", d.subset(np.arange(10 * i, 10 * i + 10)))
    workers = client.scheduler_info()["workers"]
    ordered = sorted(workers, key=lambda a: (str(workers[a]["name"]), a))
    for _ in range(2):
        data = ld.read_letor_shards(str(tmp_path / "p*.txt"), client=client)
        held = client.who_has(data.parts)
        assert [list(held[f.key]) for f in data.parts] == [[ordered[0]], [ordered[1]], [ordered[0]]]
    scattered = ld.from_dataset(d, client=client, n_parts=2)
    held = client.who_has(scattered.parts)
    assert [list(held[f.key]) for f in scattered.parts] == [[ordered[0]], [ordered[1]]]


def test_shards_that_name_their_columns_otherwise_are_refused_naming_both(client, tmp_path):
    d = make_ranking(20, 5, 3, random_state=0)
    names = ("a", "b", "c")
    write_letor(tmp_path / "p0.txt", replace(d.subset(np.arange(10)), feature_names=names))
    write_letor(tmp_path / "p1.txt", replace(d.subset(np.arange(10, 20)), feature_names=("a", "c", "b")))
    with pytest.raises(ValueError, match=r"p1\.txt: its column 2 is named 'c' where .*p0\.txt's is 'b'"):
        ld.read_letor_shards(str(tmp_path / "p*.txt"), client=client)
    write_letor(tmp_path / "p1.txt", replace(d.subset(np.arange(10, 20)), feature_names=names))
    assert tuple(ld.read_letor_shards(str(tmp_path / "p*.txt"), client=client).feature_names) == names


def test_shards_grouped_by_query_files_train_and_a_split_query_is_still_refused(client, tmp_path):
    d = make_ranking(20, 5, 3, random_state=0)
    for i in range(2):  # LightGBM's layout: no qid tokens, the group sizes in PATH.query
        write_letor(tmp_path / f"p{i}.txt", d.subset(np.arange(10 * i, 10 * i + 10)), qid=False)
    data = ld.read_letor_shards(str(tmp_path / "p*.txt"), client=client)
    assert data.n_queries == 20
    model = ld.fit(Ranker(n_estimators=2, min_child_samples=2), data, client=client, engine="lightgbm")
    assert model.predict(d).shape == (d.n_rows,)
    write_letor(tmp_path / "q0.txt", d.subset([0, 1]))
    write_letor(tmp_path / "q1.txt", d.subset([1, 2]))
    with pytest.raises(GroupError, match=r"query 2 is in .*q0\.txt and .*q1\.txt"):
        ld.read_letor_shards(str(tmp_path / "q*.txt"), client=client)


def test_lightgbms_dask_ranker_says_its_default_early_stopping_is_off(client, tmp_path, caplog):
    # with a validation set, early stopping is on by default; LightGBM's Dask ranker has none: said, not dropped
    d = make_ranking(20, 5, 3, random_state=0)
    for i in range(2):
        write_letor(tmp_path / f"p{i}.txt", d.subset(np.arange(10 * i, 10 * i + 10)))
    data = ld.read_letor_shards(str(tmp_path / "p*.txt"), client=client)
    with caplog.at_level("WARNING", logger="ltr.dask"):
        ld.fit(Ranker(n_estimators=4, min_child_samples=2, preset=None), data, client=client, engine="lightgbm",
               eval_set=[d])
    assert "LightGBM's Dask ranker has no early stopping: all 4 rounds are trained" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="ltr.dask"):  # nothing to say without a validation set
        ld.fit(Ranker(n_estimators=4, min_child_samples=2, preset=None), data, client=client, engine="lightgbm")
    assert "early stopping" not in caplog.text


def test_relative_shard_paths_are_read_by_the_workers_from_here(client, tmp_path, monkeypatch):
    d = make_ranking(10, 5, 3, random_state=0)
    (tmp_path / "sub").mkdir()
    write_letor(tmp_path / "sub" / "p.txt", d)
    monkeypatch.chdir(tmp_path)
    sent = []
    real = client.submit

    def spy(fn, *args, **kwargs):
        sent.append(args[0] if args else None)
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(client, "submit", spy)
    data = ld.read_letor_shards("sub/*.txt", client=client)
    assert data.names == ["sub/p.txt"] and sent == [str(tmp_path / "sub" / "p.txt")]


def test_ltr_train_dask_checks_the_objective_against_the_engine_that_trains(client, tmp_path, capsys):
    path = write_letor(tmp_path / "d.txt", make_ranking(30, 8, 5, random_state=0))
    code, _, err = run(["train", path, "--dask", client.scheduler.address, "--objective", "ranknet", "--rounds", 3,
                        "--preset", "none", "--quiet"], capsys)
    assert code == 0, err  # XGBoost, the Dask engine, has rank:pairwise
    code, _, err = run(["train", path, "--dask", client.scheduler.address, "--dataset-cache", tmp_path / "dc",
                        "--rounds", 3, "--preset", "none"], capsys)
    assert code == 0 and "--dataset-cache does not apply with --dask" in err and not (tmp_path / "dc").exists()
    code, _, err = run(["train", path, "--dask", client.scheduler.address, "--n-jobs", 2, "--rounds", 3,
                        "--preset", "none"], capsys)
    # the note gives the reason of each option given, and ltr train has no folds to speak of (trial t69)
    assert code == 0 and ("note: --n-jobs does not apply with --dask: each worker trains with its Dask threads on "
                          "the shards it holds\n") in err and "fold" not in err


def test_extract_distributed_checks_and_says_what_extract_does(client, tmp_path, caplog):
    import pandas as pd

    from features.analysis import Analyzer
    from features.collections import Collection, Queries
    from features.distributed import extract_distributed
    from features.errors import CollectionFormatError
    from features.extraction import extract
    from features.index import InvertedIndex
    from features.retrieval import BM25Retriever

    docs = Collection(tuple(f"d{i}" for i in range(6)), {"body": [
        "wing flutter", "heat transfer", "flutter of wings", "boundary layer heat", "wing design", "slab heat"]})
    queries = Queries(("1", "2", "3"), ("wing flutter", "heat", "layer"))
    index = InvertedIndex.build(docs, Analyzer())
    index.save(tmp_path / "index.npz")
    run_ = BM25Retriever(index).search(queries, k=3)
    odd = pd.concat([run_, pd.DataFrame({"qid": ["9", "1"], "docno": ["d1", "ghost"], "rank": [1, 9],
                                         "score": [1.0, 0.0]})], ignore_index=True)
    with pytest.raises(CollectionFormatError, match=r"candidates: 1 row\(s\) over 1 unknown query id\(s\)"):
        extract_distributed(tmp_path / "index.npz", queries, odd, ["bm25:all"], client=client, on_unknown="error")
    with caplog.at_level(logging.WARNING):
        want = extract(index, queries, odd, ["bm25:all"])
        assert caplog.records  # extract warns of the unknown query and the unknown document
        caplog.clear()
        got = extract_distributed(tmp_path / "index.npz", queries, odd, ["bm25:all"], client=client, n_shards=1)
        said = [r.getMessage() for r in caplog.records]
    assert got.equals(want)
    assert any("1 row(s) over 1 unknown query id(s) (e.g. '9')" in m for m in said), said
    assert any(m.startswith("shard 1 of 1 (queries '1'..'3'): ") and "unknown document id(s) (e.g. 'ghost')" in m
               for m in said), said


def test_a_weighted_shard_is_refused_in_the_command_lines_words(client, tmp_path, capsys):
    d = make_ranking(10, 5, 3, random_state=0)
    write_letor(tmp_path / "p.txt", replace(d, weight=np.ones(d.n_rows)))
    assert (tmp_path / "p.txt.weight").exists()
    code, _, err = run(["train", tmp_path / "p.txt", "--dask", client.scheduler.address, "--rounds", 2], capsys)
    assert code == 2 and "row weights (a .weight file beside a shard) are not supported with --dask" in err
    assert "weight_file=None" not in err


def test_ndcg_conventions_xgboost_does_not_follow_are_refused_and_others_pass(client):
    d, v = make_ranking(20, 5, 3, random_state=0), make_ranking(10, 5, 3, random_state=1)
    with pytest.raises(ValueError, match=r"eval_params \{'gain': 'linear'\} \(XGBoost's ndcg@k- has exp2 gain"):
        ld.fit(Ranker(n_estimators=3, early_stopping_rounds=2, eval_params={"gain": "linear"}), d, client=client,
               eval_set=[v])
    fitted = ld.fit(Ranker(n_estimators=3, early_stopping_rounds=2, min_child_samples=2,
                           eval_params={"gain": "exp2", "max_grade": 3}), d, client=client, eval_set=[v])
    assert 1 <= fitted.best_iteration_ <= 3


def test_extract_distributed_says_an_index_of_format_1_counts_the_terms_as_ltr_features_does(client, tmp_path,
                                                                                               caplog):
    # the workers load it; the driver reads its header (review: said by ltr features, not here)
    from features.analysis import Analyzer
    from features.collections import Collection, Queries
    from features.distributed import extract_distributed
    from features.index import InvertedIndex
    from features.retrieval import BM25Retriever

    docs = Collection(("d0", "d1"), {"body": ["design of compilers", "design compilers"]})
    queries = Queries(("1",), ("design compilers",))
    for positions in ("terms", "tokens"):
        index = InvertedIndex.build(docs, Analyzer(), positions=positions)
        index.save(tmp_path / "index.npz")
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            extract_distributed(tmp_path / "index.npz", queries, BM25Retriever(index).search(queries, k=2),
                                ["sdm:all"], client=client)
        said = "was saved in format 1: its positions count the kept terms only" in caplog.text
        assert said == (positions == "terms")


def test_extract_distributed_refuses_a_score_file_with_the_topics_ids_padded_as_one_process_does(client, tmp_path):
    # Each shard's extract sees some of the queries (some_queries=True), so a file of '001' for topic '1' was taken
    # there as a file of other queries: every candidate filled with 0 and flagged, where one process refuses it.
    from features.analysis import Analyzer
    from features.collections import Collection, Queries
    from features.distributed import extract_distributed
    from features.errors import CollectionFormatError
    from features.extraction import extract
    from features.index import InvertedIndex
    from features.retrieval import BM25Retriever

    docs = Collection(("d1", "d2", "d3"), {"body": ["wing flutter", "heat transfer", "wing heat"]})
    queries = Queries(("1", "2"), ("wing", "heat"))
    index = InvertedIndex.build(docs, Analyzer())
    index.save(tmp_path / "index.npz")
    cands = BM25Retriever(index).search(queries, k=3)
    scores = tmp_path / "s.tsv"
    scores.write_text("".join(f"00{q}\t{d}\t{k}\n" for k, (q, d) in enumerate(zip(cands["qid"], cands["docno"]))))
    spec = [{"scorer": "neural_file", "path": str(scores)}]
    said = r"none of its \d+ scores matches one of the \d+ candidates: its query ids are the topics' with leading zeros"
    with pytest.raises(CollectionFormatError, match=said):
        extract(index, queries, cands, spec)
    with pytest.raises(CollectionFormatError, match=said + r" \('001' for '1'\)"):
        extract_distributed(tmp_path / "index.npz", queries, cands, spec, client=client)
    # the ids as the topics spell them: the same dataset as one process
    scores.write_text(scores.read_text().replace("00", ""))
    assert extract_distributed(tmp_path / "index.npz", queries, cands, spec, client=client).equals(
        extract(index, queries, cands, spec))
