"""Trial t65 (dask-gpu), the lost scheduler and worker: a scheduler lost while the shards are read or during training
is one line naming its address, not Dask's traceback or advice about a dead worker; the advice for data given in
memory names no shards; the first fit after a lost worker trains (Dask's cancel of a partition whose derived tasks no
client wants dropped the client's connection); ``eval_names`` must name every validation set, as ``Ranker.fit``
says. A LocalCluster of 2 workers as threads of this process (as test_dask.py); the scheduler's loss is Dask's own
``FutureCancelledError`` with reason ``scheduler-connection-lost``, raised where the client waits."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from ltr._shared import import_reference

distributed = import_reference("distributed")  # the dask extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1

from ltr import Ranker  # noqa: E402
from ltr import dask as ld  # noqa: E402
from ltr.cli import main  # noqa: E402
from ltr.io import read_letor, write_letor  # noqa: E402

pytestmark = [pytest.mark.slow]

QUICK = ["--engine", "xgboost", "--rounds", "2", "--preset", "none"]
LOST = "scheduler-connection-lost"


def _scheduler_gone(*args, **kwargs):
    """What a client raises for its futures once the scheduler is gone (Dask's own words)."""
    from distributed.client import FutureCancelledError

    raise FutureCancelledError("_summary-0", LOST, "Client lost the connection to the scheduler. Please check your "
                                                   "connection and re-run your work.")


@pytest.fixture(scope="module")
def mq2008_16(shared_file):
    """MQ2008 Fold1/test's first 16 queries (248 rows)."""
    return read_letor(shared_file("mq2008/Fold1/test.txt.gz"), n_features=46).subset(np.arange(16))


@pytest.fixture
def shards(tmp_path, mq2008_16) -> str:
    """The 16 queries as two shards of whole queries; their glob."""
    folder = tmp_path / "shards"
    folder.mkdir()
    for i, part in enumerate((np.arange(8), np.arange(8, 16))):
        write_letor(folder / f"part{i}.txt", mq2008_16.subset(part))
    return str(folder / "*.txt")


def _one_error_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("ltr train: error: "), err
    return err[0]


def test_a_scheduler_lost_while_the_shards_are_read_is_one_line_naming_its_address(dask_client, shards, tmp_path,
                                                                                   monkeypatch, capsys):
    """It was Dask's FuturesCancelledError and Python's 80-line traceback, no ``ltr train: error:`` line."""
    monkeypatch.setattr(distributed, "wait", _scheduler_gone)  # where _summaries_surviving waits for the reads
    address = dask_client.scheduler.address
    assert main(["train", shards, "--dask", address, *QUICK, "--out", str(tmp_path / "m.json")]) == 1
    line = _one_error_line(capsys)
    assert f"lost the connection to the Dask scheduler at {address} while the shards were read" in line
    assert not (tmp_path / "m.json").exists()


def test_a_scheduler_lost_during_training_is_said_so_not_a_dead_worker(dask_client, shards, tmp_path, monkeypatch,
                                                                       capsys):
    monkeypatch.setattr(ld, "_fit_xgboost", _scheduler_gone)
    address = dask_client.scheduler.address
    assert main(["train", shards, "--dask", address, *QUICK, "--out", str(tmp_path / "m.json")]) == 1
    line = _one_error_line(capsys)
    assert f"lost the connection to the Dask scheduler at {address} during training" in line
    assert "worker died" not in line  # (the advice was a dead worker's: more memory, workers reading the shards)


def test_the_advice_for_data_given_in_memory_names_no_shards(dask_client, mq2008_16, monkeypatch):
    """``ld.fit`` of an in-memory dataset whose worker died was told to check that every worker can read the
    shards: there are none."""
    from distributed.client import FutureCancelledError

    def worker_died(*args, **kwargs):
        raise FutureCancelledError("_field-0", "lost dependencies")

    monkeypatch.setattr(ld, "_fit_xgboost", worker_died)
    with pytest.raises(RuntimeError, match="if a worker died") as e:
        ld.fit(Ranker(engine="xgboost", n_estimators=2, preset=None), mq2008_16, client=dask_client)
    assert "shard" not in str(e.value)

    class Lost(ld._LostPartitions):  # the watcher found a partition lost with its worker
        def __enter__(self):
            self.lost = ["part 1"]
            return self

    monkeypatch.setattr(ld, "_LostPartitions", Lost)
    with pytest.raises(RuntimeError, match=r"a Dask worker was lost during training.*\(part 1\): run again") as e:
        ld.fit(Ranker(engine="xgboost", n_estimators=2, preset=None), mq2008_16, client=dask_client)
    assert "shard" not in str(e.value)


def test_fewer_eval_names_than_validation_sets_are_refused_as_ranker_fit_refuses_them(dask_client, mq2008_16):
    """The second set was dropped from evals_result_ without a word."""
    valid = mq2008_16.subset(np.arange(8))
    with pytest.raises(ValueError) as local:
        Ranker(engine="xgboost", n_estimators=2, preset=None).fit(mq2008_16, eval_set=[valid, valid],
                                                                  eval_names=["a"])
    with pytest.raises(ValueError) as dist:
        ld.fit(Ranker(engine="xgboost", n_estimators=2, preset=None), mq2008_16, client=dask_client,
               eval_set=[valid, valid], eval_names=["a"])
    assert str(dist.value) == str(local.value) == \
        "eval_names must name each of the 2 evaluation sets once, got ['a']"


@pytest.fixture
def cluster():
    """A LocalCluster of its own (2 workers as threads), Dask's loggers at their levels again after it."""
    named = ["distributed", *(n for n in logging.Logger.manager.loggerDict if n.startswith("distributed."))]
    levels = {n: logging.getLogger(n).level for n in named}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None,
                                  silence_logs=logging.ERROR) as c:
        yield c
    for n, level in levels.items():
        logging.getLogger(n).setLevel(level)


def _slow(d):
    time.sleep(2)
    return d.n_rows


def test_the_first_fit_after_a_lost_worker_trains(cluster, shards):
    """``recover`` cancelled the lost partition; Dask's cancel of a task with a dependent that no client wants (the
    arrays of the fit before, recomputed after the loss) fails an assertion on the scheduler, which dropped the
    client's connection: the fit failed with "scheduler-connection-lost", and only the one after it trained."""
    import dask

    with distributed.Client(cluster) as client:  # (the default one: read_letor_shards waits with it)
        data = ld.read_letor_shards(shards, client=client)
        held = client.who_has([data.parts[1]])[data.parts[1].key]
        # a task made of partition 1 that no client wants itself (an intermediate one), still to run
        pending = client.compute(dask.delayed(int)(dask.delayed(_slow)(data.parts[1])))
        victim = next(w for w in cluster.workers.values() if w.address in held)
        cluster.sync(victim.close)
        for _ in range(100):
            if len(client.scheduler_info()["workers"]) == 1:
                break
            time.sleep(0.1)
        model = ld.fit(Ranker(engine="xgboost", n_estimators=2, preset=None), data, client=client)
        assert model.n_rounds_ == 2 and client.status == "running"
        del pending


def test_the_client_closes_quietly_after_its_scheduler_is_lost(cluster, caplog):
    """Dask logged the cancelled attempts to reach the scheduler again, a 20-line traceback at ERROR level of
    ``distributed.client`` (whose level is Dask's configuration's, not the package's), before the error line."""
    logging.getLogger("distributed").setLevel(logging.WARNING)
    logging.getLogger("distributed.client").setLevel(logging.WARNING)
    with pytest.raises(RuntimeError, match="the error"):
        with ld.connect(cluster.scheduler_address, timeout=10) as client:
            cluster.close()
            for _ in range(100):
                if client.status != "running":
                    break
                time.sleep(0.05)
            assert client.status == "connecting"
            raise RuntimeError("the error")
    assert not [f"{r.name}: {r.getMessage()}" for r in caplog.records
                if r.name.startswith("distributed") and r.levelno >= logging.ERROR]
