"""Distributed training and evaluation (ltr.dask) on a real distributed.LocalCluster with 2 workers.

The cluster runs its workers as threads of this process (processes=False: starts in seconds, and both engines'
Dask code works there); ``ltr train --dask`` reaches it through its scheduler address. Real data: MQ2008
segments from ../shared/data, two shards to train on and a third to test.
"""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import pytest

from ltr._shared import import_reference

distributed = import_reference("distributed")  # the dask extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1
import_reference("pyarrow")

from ltr import Ranker, make_ranking  # noqa: E402
from ltr import dask as ld  # noqa: E402
from ltr.cli import main  # noqa: E402
from ltr.exceptions import GroupError  # noqa: E402
from ltr.io import read_letor, write_letor  # noqa: E402
from ltr.metrics import evaluate  # noqa: E402

# ltr.dask.fit's default engine (XGBoost) is warned about when the Ranker says 'lightgbm', Ranker's default; these
# tests train that default on purpose (test_dask.py checks the warning itself)
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:ltr.dask.fit trains XGBoost when engine")]

# preset=None: no row or query sampling, whose random draws differ between one process and the workers; the
# preset's own test below checks that the distributed fit applies it as a local fit does.
PARAMS = dict(n_estimators=60, learning_rate=0.1, num_leaves=15, early_stopping_rounds=None, random_state=0,
              preset=None)


@pytest.fixture(scope="module")
def client(dask_client):
    return dask_client


@pytest.fixture(scope="module")
def mq2008(shared_file):
    shards = [str(shared_file("mq2008/Fold1/vali.txt.gz")), str(shared_file("mq2008/Fold2/test.txt.gz"))]
    test = read_letor(shared_file("mq2008/Fold1/test.txt.gz"), n_features=46)
    return shards, test


def _ndcg10(model, d) -> float:
    return float(evaluate(d.y, model.predict(d), group_ptr=d.group_ptr, metrics=["ndcg@10"])["ndcg@10"])


def test_shards_are_read_on_the_workers_one_whole_query_partition_each(client, mq2008):
    shards, _ = mq2008
    data = ld.read_letor_shards(shards, client=client, n_features=46)
    local = [read_letor(p, n_features=46) for p in shards]
    assert data.n_rows == sum(d.n_rows for d in local) and data.n_queries == sum(d.n_queries for d in local)
    # never a split query: each partition's query ids are its shard's, and no id is in two partitions
    for s, d in zip(data.summaries, local):
        np.testing.assert_array_equal(s["query_ids"], d.query_ids)
    ids = np.concatenate([s["query_ids"] for s in data.summaries])
    assert np.unique(ids).size == ids.size
    whole = data.gather()
    np.testing.assert_array_equal(whole.X, np.concatenate([d.X for d in local]))


@pytest.mark.parametrize("engine", ["xgboost", "lightgbm"])
def test_distributed_training_reaches_single_process_ndcg10_within_001(client, mq2008, engine, capsys):
    shards, test = mq2008
    data = ld.read_letor_shards(shards, client=client, n_features=46)
    local = Ranker(engine=engine, n_jobs=1, **PARAMS).fit(data.gather())
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist = ld.fit(Ranker(**PARAMS), data, client=client, engine=engine)
    assert not [str(w.message) for w in caught if "will be ignored" in str(w.message)]  # no engine noise
    assert capsys.readouterr().out == ""  # LightGBM's "Finding random open ports ..." lines were printed
    assert dist.engine == engine and dist.best_iteration_ == 60
    local_ndcg, dist_ndcg = _ndcg10(local, test), _ndcg10(dist, test)
    assert abs(dist_ndcg - local_ndcg) <= 0.01, (dist_ndcg, local_ndcg)
    assert dist_ndcg > 0.4  # it learned something (MQ2008's published LambdaMART-era NDCG@10 is ~0.5)


def test_distributed_evaluation_equals_the_local_one(client, mq2008):
    shards, _ = mq2008
    data = ld.read_letor_shards(shards, client=client, n_features=46)
    model = Ranker(n_jobs=1, **PARAMS).fit(data.gather())
    whole = data.gather()
    want = evaluate(whole.y, model.predict(whole), group_ptr=whole.group_ptr, metrics=["ndcg@10", "map", "err@10"])
    got = data.evaluate_model(model, ["ndcg@10", "map", "err@10"])
    for m in want:
        assert got[m] == pytest.approx(float(want[m]), abs=1e-12)
    for _ in range(3):  # the same model again: its copy on the workers is its own each call ("lost dependencies")
        assert data.evaluate_model(model, ["ndcg@10", "map", "err@10"]) == got


def test_early_stopping_on_a_validation_set(client):
    train, valid = make_ranking(120, 10, 6, random_state=0), make_ranking(40, 10, 6, random_state=1)
    model = ld.fit(Ranker(n_estimators=200, early_stopping_rounds=5, min_child_samples=2), train, client=client,
                   eval_set=[valid])
    assert model.best_iteration_ < 200 and set(model.evals_result_) == {"valid_0"}


def test_shards_sharing_a_query_are_refused_naming_both_files(client, tmp_path):
    d = make_ranking(4, 5, 3, random_state=0)
    write_letor(tmp_path / "a.txt", d.subset([0, 1]))
    write_letor(tmp_path / "b.txt", d.subset([1, 2]))
    with pytest.raises(GroupError, match=r"query 2 is in .*a\.txt and .*b\.txt.*one shard"):
        ld.read_letor_shards(str(tmp_path / "*.txt"), client=client)
    with pytest.raises(FileNotFoundError, match="no LETOR shard matches"):
        ld.read_letor_shards(str(tmp_path / "none-*.txt"), client=client)


def test_a_split_query_is_refused_by_name_for_lightgbm():
    with pytest.raises(GroupError, match=r"query 7 is in partition 0 and partition 1.*LightGBM issue #5676"):
        ld.check_whole_queries([np.array([3, 7]), np.array([7, 9])])
    ld.check_whole_queries([np.array([3, 7]), np.array([8, 9])])  # whole queries pass


def test_an_unreachable_scheduler_is_an_error_after_the_timeout_not_a_hang():
    t0 = time.perf_counter()
    with pytest.raises(ld.SchedulerUnreachableError, match=r"no Dask scheduler answered at tcp://127\.0\.0\.1:9 "
                                                          r"within 2 s \(connection refused: nothing listens there\)"):
        with ld.connect("tcp://127.0.0.1:9", timeout=2):
            pass
    assert time.perf_counter() - t0 < 30


@pytest.mark.parametrize("address, hint", [("lokal:2", "; for this machine's workers use local:N"),
                                            ("tcp://scheduler.invalid:8786", "")])
def test_a_host_that_does_not_resolve_is_an_error_at_once_not_after_the_timeout(address, hint):
    host = address.removeprefix("tcp://").rpartition(":")[0]
    with pytest.raises(ld.SchedulerUnreachableError) as caught:  # the timeout's message says 'within 600 s'
        with ld.connect(address, timeout=600):
            pass
    message = str(caught.value)
    assert message.startswith(f"no Dask scheduler at {address}: host {host!r} is not known (")
    assert message.endswith(")" + hint)


def test_a_word_that_is_no_address_and_a_timeout_of_zero_are_refused_as_options(capsys):
    # 'bogus' was reported as "no Dask scheduler answered ... within 30 s (ValueError)" at once; --dask-timeout 0 ran
    from ltr.exceptions import OptionError

    with pytest.raises(OptionError, match="'bogus': not a scheduler address"):
        with ld.connect("bogus", timeout=600):
            pass
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(OptionError, match="a finite number of seconds > 0"):
            with ld.connect("tcp://127.0.0.1:9", timeout=bad):
                pass
    assert main(["train", "x.txt", "--dask", "bogus"]) == 2
    assert "--dask bogus: not a scheduler address (tcp://host:port" in capsys.readouterr().err
    assert main(["train", "x.txt", "--dask", "local:2", "--dask-timeout", "0"]) == 2
    assert capsys.readouterr().err.endswith("--dask-timeout 0: must be a finite number of seconds > 0\n")


@pytest.mark.parametrize("address, why", [
    ("http://127.0.0.1:8787", ": http:// is the dashboard's address, not the scheduler's"),
    ("https://example.org:8787", ": http:// is the dashboard's address, not the scheduler's"),
    ("ftp://127.0.0.1:8786", ": Dask's schemes are {schemes}"),
    ("tcp://", ": no host"),
    ("tcp://:8786", ": no host"),
    ("tcp://localhost", ": missing port number in address 'localhost'"),  # (these three were no answer within
    ("tcp:// ", ": missing port number in address ' '"),  # the timeout, trial t63's left alone)
    ("http:/x:1", ": invalid address 'http:/x:1'"),
])
def test_an_address_dask_cannot_use_is_refused_at_once_saying_why(capsys, address, why):
    """The client refused these at once ('unknown address scheme'), and they were reported as no scheduler answering
    within 30 s (trial t63: the dashboard's http:// URL pasted for the scheduler's)."""
    from distributed.comm.registry import backends  # (the installed Dask's: ucx:// comes and goes with versions)

    from ltr.exceptions import OptionError

    why = why.format(schemes=", ".join(s + "://" for s in sorted(backends)))
    said = f"not a scheduler address{why} (tcp://host:port, or local:N for workers on this machine)"
    with pytest.raises(OptionError) as e:
        with ld.connect(address, timeout=600):
            pass
    assert str(e.value) == f"address {address!r}: {said}"
    assert main(["train", "x.txt", "--dask", address]) == 2
    assert capsys.readouterr().err == f"ltr train: error: --dask {address}: {said}\n"


def test_a_server_that_is_no_scheduler_is_an_error_after_the_timeout_not_a_hang():
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # the Dask handshake is a bad HTTP request: not logged on the test's stderr
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.server_address[1]}"
    t0 = time.perf_counter()
    try:
        with pytest.raises(ld.SchedulerUnreachableError, match=rf"no Dask scheduler answered at {address} within 1 s"):
            with ld.connect(address, timeout=1):
                pass
    finally:
        server.shutdown()
    assert time.perf_counter() - t0 < 15  # the timeout and a grace of 5 s: it hung past 11 minutes


def test_early_stopping_with_lightgbms_dask_ranker_is_a_usage_error(tmp_path, capsys):
    train = write_letor(tmp_path / "t.txt", make_ranking(10, 5, 3, random_state=0))
    assert main(["train", str(train), "--dask", "local:1", "--dask-engine", "lightgbm", "--early-stopping", "5",
                 "--valid", str(train), "--out", str(tmp_path / "m.txt")]) == 2
    assert "LightGBM's Dask ranker has no early stopping" in capsys.readouterr().err
    assert main(["train", str(train), "--dask", "local:0", "--out", str(tmp_path / "m.txt")]) == 2
    assert "--dask local:0: local:N needs a positive worker count N" in capsys.readouterr().err


def test_a_dead_worker_surfaces_the_engines_error_with_what_to_do(client, monkeypatch):
    def dies(*a, **k):  # what a client sees when the worker holding a partition dies mid-training
        raise distributed.comm.CommClosedError("in <TCP (closed) ConnectionPool.gather local=tcp://127.0.0.1:41000 "
                                               "remote=tcp://127.0.0.1:40000>: Stream is closed")

    monkeypatch.setattr(ld, "_fit_xgboost", dies)
    with pytest.raises(RuntimeError, match=r"CommClosedError: .*Stream is closed.*if a worker died.*more memory") as e:
        ld.fit(Ranker(n_estimators=2), make_ranking(20, 5, 3, random_state=0), client=client)
    assert isinstance(e.value.__cause__, distributed.comm.CommClosedError)


def test_one_process_settings_are_refused(client):
    d = make_ranking(20, 5, 3, random_state=0)
    with pytest.raises(ValueError, match="kernel='numba' runs in one process"):
        ld.fit(Ranker(kernel="numba"), d, client=client)
    with pytest.raises(ValueError, match="runs on the workers' CPUs") as info:
        ld.fit(Ranker(device="gpu"), d, client=client)
    assert "use --device cpu or gpu-or-cpu" in info.value.cli_message()
    with pytest.raises(ValueError, match="unknown distributed engine"):
        ld.fit(Ranker(), d, client=client, engine="linear")


def test_gpu_or_cpu_falls_back_to_the_workers_cpus_as_documented(client, caplog):
    d = make_ranking(20, 5, 3, random_state=0)
    fitted = ld.fit(Ranker(device="gpu-or-cpu", n_estimators=3, min_child_samples=2), d, client=client)
    assert fitted.predict(d).shape == (d.n_rows,)
    assert any("the workers train on their CPUs" in r.getMessage() for r in caplog.records)


def test_ltr_train_dask_writes_the_same_outputs_as_local_training(client, mq2008, tmp_path, capsys):
    shards, _ = mq2008
    test = mq2008[0][0].replace("Fold1/vali", "Fold1/test")
    common = ["--test", test, "--rounds", "30", "--leaves", "15", "--format", "json", "--quiet",
              "--n-features", "46"]
    glob_ = str(tmp_path / "shards" / "*.txt")
    (tmp_path / "shards").mkdir()
    for i, p in enumerate(shards):
        write_letor(tmp_path / "shards" / f"part-{i}.txt", read_letor(p, n_features=46))
    assert main(["train", glob_, "--dask", client.scheduler.address, "--out", str(tmp_path / "d.txt"), *common]) == 0
    dist = json.loads(capsys.readouterr().out)
    local_train = tmp_path / "all.txt"
    write_letor(local_train, ld.read_letor_shards(glob_, client=client).gather())
    assert main(["train", str(local_train), "--engine", "xgboost", "--out", str(tmp_path / "l.txt"), *common]) == 0
    local = json.loads(capsys.readouterr().out)
    assert set(dist) == set(local) and set(dist["test"]) == set(local["test"])
    assert abs(dist["test"]["ndcg@10"] - local["test"]["ndcg@10"]) <= 0.01
    assert dist["queries"] == local["queries"]
    # the saved model is an ordinary ltrkit model: ltr predict reads it
    assert main(["predict", str(tmp_path / "d.txt"), test, "--out", str(tmp_path / "s.txt"), "--quiet"]) == 0
    assert len((tmp_path / "s.txt").read_text().split()) == read_letor(test, n_features=46).n_rows


def test_one_training_file_on_two_workers_is_said_to_train_on_one(client, tmp_path, capsys):
    # a file is one partition, on one worker: "on 2 Dask worker(s)" counted a worker that held nothing
    path = write_letor(tmp_path / "d.txt", make_ranking(40, 8, 5, random_state=0))
    assert main(["train", str(path), "--dask", client.scheduler.address, "--rounds", "3", "--out",
                 str(tmp_path / "m.txt"), "--min-child-samples", "2"]) == 0
    out = capsys.readouterr()
    assert ("ltr train: note: 1 shard(s) for 2 Dask workers: 1 of them hold no data and do not train (cut TRAIN into "
            "2 or more shards of whole queries to spread the work)") in out.err.splitlines()
    assert "trained 3 rounds" in out.out and "on 1 Dask worker(s)" in out.out
    parts = ld.from_dataset(read_letor(path), client=client)  # one part per worker: both train, nothing said
    assert len(parts.parts) == 2
    assert ld.fit(Ranker(n_estimators=2, min_child_samples=2), parts, client=client, engine="xgboost").n_workers_ == 2


def test_ltr_cv_dask_trains_every_fold_on_the_cluster(client, tmp_path, capsys):
    path = write_letor(tmp_path / "d.txt", make_ranking(60, 8, 5, random_state=0))
    assert main(["cv", str(path), "--folds", "3", "--dask", client.scheduler.address, "--rounds", "10",
                 "--min-child-samples", "2", "--format", "json", "--quiet", "--out", str(tmp_path / "cv.json")]) == 0
    system = json.loads((tmp_path / "cv.json").read_text())["systems"][0]
    assert len(system["folds"]) == 3 and all(1 <= f["rounds"] <= 10 for f in system["folds"])
    assert sum(f["n_test_queries"] for f in system["folds"]) == 60 and 0 < system["mean"]["ndcg@10"] <= 1


def test_ltr_train_dask_unreachable_is_one_line_exit_1(tmp_path, capsys):
    path = write_letor(tmp_path / "d.txt", make_ranking(10, 5, 3, random_state=0))
    assert main(["train", str(path), "--dask", "tcp://127.0.0.1:9", "--dask-timeout", "2", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no Dask scheduler answered at tcp://127.0.0.1:9" in err


def test_feature_extraction_over_query_shards_equals_one_extraction(client, tmp_path):
    from features.analysis import Analyzer
    from features.collections import Collection, Queries
    from features.distributed import extract_distributed
    from features.extraction import extract
    from features.index import InvertedIndex
    from features.retrieval import BM25Retriever

    docs = Collection(tuple(f"d{i}" for i in range(12)), {"body": [
        "wing flutter in a slipstream", "heat transfer in slabs", "flutter of wings", "boundary layer heat",
        "supersonic wing design", "slab heat conduction", "wing tip vortex", "laminar boundary layer",
        "flutter speed of a wing", "heat flux at the wall", "vortex shedding", "transonic flutter"]})
    queries = Queries(("q-b", "q-a", "q-c", "q-d", "q-e"), ("wing flutter", "heat", "boundary layer", "vortex",
                                                            "the of"))  # ids that are not numbers; q-e: no hit
    index = InvertedIndex.build(docs, Analyzer())
    path = tmp_path / "index.npz"
    index.save(path)
    run = BM25Retriever(index).search(queries, k=5)
    qrels = run.assign(rel=(run["rank"] <= 2).astype(int))[["qid", "docno", "rel"]]
    feats = ["first_stage", "bm25:all", "doc_length:all"]
    want = extract(index, queries, run, feats, qrels=qrels)
    got = extract_distributed(path, queries, run, feats, client=client, qrels=qrels, n_shards=3)
    assert got.equals(want)
    assert got.query_ids.tolist() == [1, 2, 3, 4]  # numbered over all queries, in order, as one extract does


def test_the_distributed_fit_applies_the_same_preset_as_a_local_fit(client, mq2008):
    shards, _ = mq2008
    data = ld.read_letor_shards(shards, client=client, n_features=46)
    params = dict(n_estimators=5, early_stopping_rounds=None, random_state=0)  # preset="auto", the default
    local = Ranker(engine="xgboost", n_jobs=1, **params).fit(data.gather())
    dist = ld.fit(Ranker(**params), data, client=client, engine="xgboost")
    assert local.preset_params_ and dist.preset_params_ == local.preset_params_  # 314 queries: "small"


def test_the_same_data_scattered_twice_gets_keys_of_its_own(client):
    """Scattered by content, a second fit of the same data shared the first's keys, and the first's release could
    lose them under the second ("lost dependencies"; a full test run failed so twice)."""
    d = make_ranking(20, 5, 3, random_state=0)
    a, b = ld.from_dataset(d, client=client), ld.from_dataset(d, client=client)
    assert not {f.key for f in a.parts} & {f.key for f in b.parts}
    del a  # the first's futures released while the second's are used
    fitted = ld.fit(Ranker(n_estimators=2, min_child_samples=2), b, client=client)
    assert fitted.predict(d).shape == (d.n_rows,)


@pytest.mark.parametrize("engine", ["xgboost", "lightgbm"])
def test_local_workers_print_nothing_of_their_own_with_quiet(engine, mq2008, tmp_path):
    # The engines print on the workers at any verbosity (LightGBM's "[LightGBM] [Info] Trying to bind port",
    # XGBoost's "Task [xgboost.dask-0] ... got rank 0" and "Worker ... has an empty DMatrix"): a local run is silent
    import subprocess
    import sys

    shards, _ = mq2008
    (tmp_path / "shards").mkdir()
    for i, p in enumerate(shards):
        write_letor(tmp_path / "shards" / f"part-{i}.txt", read_letor(p, n_features=46))
    # (LightGBM's Dask ranker has no early stopping: turned off, as it is, the warning that says so is not due)
    off = ["--early-stopping", "0"] if engine == "lightgbm" else []
    out = subprocess.run([sys.executable, "-m", "ltr.cli", "train", str(tmp_path / "shards" / "*.txt"),
                          "--valid", shards[0], "--rounds", "3", *off,
                          "--preset", "none", "--n-features", "46", "--dask", "local:2", "--dask-engine", engine,
                          "--out", str(tmp_path / "m.json"), "--format", "json", "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert json.loads(out.stdout)["valid"]["ndcg@10"] > 0


class _Part:
    closed = 0

    def close(self):
        type(self).closed += 1


def test_a_signal_while_local_workers_start_is_acted_on_once_they_are_up_and_closed(capfd):
    # A Ctrl-C or SIGTERM in the middle of LocalCluster's start left a half-made cluster whose close at exit printed
    # Dask's tracebacks; and the workers' own output (a Ctrl-C reaches them too) went to the user's terminal.
    import os
    import signal
    import types

    order = []

    def cluster(**kwargs):
        os.write(2, b"Traceback of a worker interrupted while importing\n")
        signal.raise_signal(signal.SIGTERM)
        order.append("started")  # the signal did not cut the start short
        return _Part()

    class Stop(Exception):
        pass

    def stop(signum, frame):
        order.append(("stopped", _Part.closed))
        raise Stop

    fake = types.SimpleNamespace(LocalCluster=cluster, Client=lambda c: _Part())
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        _Part.closed = 0
        with pytest.raises(Stop):
            ld._start_local(fake, 1)
        assert order == ["started", ("stopped", 2)]  # acted on after the start, once client and cluster were closed
        assert signal.getsignal(signal.SIGTERM) is stop  # the caller's handlers are back
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert "Traceback" not in capfd.readouterr().err


def test_workers_that_cannot_start_are_one_error_with_their_last_words():
    import os
    import types

    def cluster(**kwargs):
        os.write(2, b"Traceback (most recent call last):\nImportError: libgomp.so.1: cannot open shared object\n")
        raise RuntimeError("Nanny failed to start.")

    fake = types.SimpleNamespace(LocalCluster=cluster, Client=lambda c: _Part())
    with pytest.raises(RuntimeError, match=r"^the local Dask workers did not start \(Nanny failed to start\.\): "
                                           r"ImportError: libgomp\.so\.1: cannot open shared object$"):
        ld._start_local(fake, 1)


def test_a_distributed_fit_records_the_data_fingerprint_of_a_local_fit_of_the_same_data(client, mq2008):
    # It hashed the shards' digests, a scheme of its own: the same data had two fingerprints
    shards, _ = mq2008
    data = ld.read_letor_shards(shards, client=client, n_features=46)
    whole = data.gather()
    local = Ranker(**{**PARAMS, "n_estimators": 2}).fit(whole).data_fingerprint_
    assert data.fingerprint == local == ld.from_dataset(whole, client=client, n_parts=3).fingerprint
    assert ld.fit(Ranker(**{**PARAMS, "n_estimators": 2}), data).data_fingerprint_ == local


def test_workers_whose_message_runs_over_lines_are_named_by_their_exception_line():
    # the last physical line was the tail of a paragraph the exception's message runs over (multiprocessing's
    # "Safe importing of main module" was one: that one is said in words of its own now, test_trial52.py)
    import os
    import types

    def cluster(**kwargs):
        os.write(2, b"Traceback (most recent call last):\nRuntimeError:\n        A worker could not open its spill "
                    b"folder before the\n        memory limit it was given was reached.\n"
                    b"        section in https://distributed.dask.org/en/stable/worker-memory.html\n")
        raise RuntimeError("Nanny failed to start.")

    fake = types.SimpleNamespace(LocalCluster=cluster, Client=lambda c: _Part())
    with pytest.raises(RuntimeError, match=r"\(Nanny failed to start\.\): RuntimeError: A worker could not open its "
                                           r"spill folder before the memory limit it was given was reached\. section "
                                           r"in https://distributed\.dask\.org/en/stable/worker-memory\.html$"):
        ld._start_local(fake, 1)


def test_engine_given_without_dask_engine_is_the_engine_that_trains(client, tmp_path, capsys):
    # --engine lightgbm with --dask trained XGBoost (--dask-engine's default), silently
    from ltr import load_model

    path = write_letor(tmp_path / "d.txt", make_ranking(30, 8, 5, random_state=0))
    assert main(["train", str(path), "--dask", client.scheduler.address, "--engine", "lightgbm", "--rounds", "3",
                 "--preset", "none", "--quiet", "--out", str(tmp_path / "m.txt")]) == 0
    assert load_model(tmp_path / "m.txt").engine == "lightgbm"


@pytest.mark.parametrize("objective", ["map", "logistic"])
def test_xgboosts_binary_objectives_train_on_dask_as_in_one_process(client, mq2008, objective):
    # rank:map and binary:logistic take 0/1 labels: one process trains MQ2008's 0/1/2 as label >= 1 (README), the
    # Dask path handed XGBoost the grades and failed after the cluster had started ("map can only be used with
    # binary labels"). One partition on one worker is XGBoost's one-process training: the same model.
    shards, test = mq2008
    train = read_letor(shards[0], n_features=46)
    params = {**PARAMS, "n_estimators": 10}
    local = Ranker(engine="xgboost", objective=objective, n_jobs=1, **params).fit(train)
    dist = ld.fit(Ranker(engine="xgboost", objective=objective, **params), ld.from_dataset(train, client=client,
                                                                                            n_parts=1),
                  client=client)
    np.testing.assert_allclose(dist.predict(test), local.predict(test), rtol=1e-6, atol=1e-6)


def test_xgboost_on_dask_trains_with_the_workers_threads_and_the_default_engine_is_said():
    # the backend's nthread=1 reached xgboost.dask, which takes an explicit nthread over the worker's threads: a
    # `dask worker --nthreads 16` trained on one core; xgboost.dask alone uses the worker's (reference: its config)
    from xgboost import dask as dxgb

    d = make_ranking(40, 8, 4, random_state=0)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as c:
        with pytest.warns(UserWarning, match=r"^ltr.dask.fit trains XGBoost when engine= is not given .*whatever "
                                             r"the Ranker's engine='lightgbm', which is Ranker's default"):
            model = ld.fit(Ranker(n_estimators=2, min_child_samples=2), d, client=c)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an engine given (and no preset, which a fit warns of): nothing to say
            # (min_child_samples, which XGBoost has no use for, is warned of as in one process: left out here)
            ld.fit(Ranker(n_estimators=2, preset=None), d, client=c, engine="xgboost")
        parts = ld.from_dataset(d, client=c, n_parts=1)
        X, y, _, qid = parts.to_arrays()
        alone = dxgb.train(c, {"objective": "rank:ndcg"}, dxgb.DaskDMatrix(c, X, y, qid=qid), num_boost_round=1)
    threads = [json.loads(b.save_config())["learner"]["generic_param"]["nthread"]
               for b in (model.booster_, alone["booster"])]
    assert threads == ["2", "2"] and model.engine == "xgboost"

