"""Distributed training: what is refused before a cluster starts (ltr.dask.check_config, ``--dask local:``), and
shards without data lines (skipped with a warning; all of them empty, an error). A LocalCluster of 2 workers as
threads of this process (conftest's dask_client) where a cluster is needed."""

from __future__ import annotations

import numpy as np
import pytest

from ltr._shared import import_reference

distributed = import_reference("distributed")  # the dask extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1
import_reference("pyarrow")

from ltr import Ranker, make_ranking  # noqa: E402
from ltr import dask as ld  # noqa: E402
from ltr.cli import main  # noqa: E402
from ltr.exceptions import NoDataLinesError, OptionError  # noqa: E402
from ltr.io import read_letor, write_letor  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def no_local_cluster(monkeypatch):
    """Make starting a LocalCluster a test failure: what is checked here must be refused before it."""
    def start(*args, **kwargs):
        raise AssertionError("a local Dask cluster was started")

    monkeypatch.setattr(ld, "_start_local", start)


def run(argv, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("command", ["train", "cv"])
def test_an_early_stopping_metric_the_workers_cannot_read_is_refused_before_the_cluster_starts(
        command, tmp_path, capsys, no_local_cluster):
    path = write_letor(tmp_path / "d.txt", make_ranking(30, 8, 5, random_state=0))
    extra = ["--valid", path, "--out", tmp_path / "m.json"] if command == "train" else ["--folds", 3]
    code, out, err = run([command, path, "--dask", "local:2", "--rounds", 5, "--early-stopping", 2,
                          "--early-stopping-metric", "map", *extra], capsys)
    assert code == 2 and "--early-stopping-metric map with --dask" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "m.json").exists()


def test_kernel_and_device_are_refused_before_the_cluster_starts(tmp_path, capsys, no_local_cluster):
    path = write_letor(tmp_path / "d.txt", make_ranking(30, 8, 5, random_state=0))
    code, _, err = run(["train", path, "--dask", "local:2", "--kernel", "numba", "--out", tmp_path / "m.json"],
                       capsys)
    assert code == 2 and "--kernel numba runs in one process" in err and len(err.strip().splitlines()) == 1


def test_check_config_refuses_what_fit_refuses_and_passes_the_rest():
    with pytest.raises(OptionError, match="early_stopping_metric='err@10'"):
        ld.check_config(Ranker(early_stopping_rounds=2, early_stopping_metric="err@10"))
    with pytest.raises(OptionError, match="normalize is not supported"):
        ld.check_config(Ranker(normalize="zscore"))
    with pytest.raises(OptionError, match="'linear'"):
        ld.check_config(Ranker(engine="linear"))
    # LightGBM's Dask ranker has no early stopping: its metric is not XGBoost's to read
    ld.check_config(Ranker(early_stopping_rounds=2, early_stopping_metric="map"), engine="lightgbm")
    ld.check_config(Ranker(early_stopping_rounds=2, early_stopping_metric="ndcg@5"))
    model = Ranker(device="gpu-or-cpu")
    ld.check_config(model)
    assert model.device == "gpu-or-cpu"  # checked on a clone: the caller's estimator is left as it was


@pytest.mark.parametrize("address", ["local:", "local:0", "local:x"])
def test_a_local_address_without_a_worker_count_is_refused(address, tmp_path, capsys, no_local_cluster):
    path = write_letor(tmp_path / "d.txt", make_ranking(30, 8, 5, random_state=0))
    code, _, err = run(["train", path, "--dask", address], capsys)
    assert code == 2 and f"--dask {address}: local:N needs a positive worker count N" in err


def test_local_alone_means_two_workers(monkeypatch):
    started = []

    def start(distributed, n):
        started.append(n)
        raise RuntimeError("stop here")

    monkeypatch.setattr(ld, "_start_local", start)
    with pytest.raises(RuntimeError, match="stop here"):
        with ld.connect("local"):
            pass
    assert started == [2]


def test_shards_without_data_lines_are_skipped_with_a_warning(dask_client, tmp_path):
    d = make_ranking(20, 5, 3, random_state=0)
    write_letor(tmp_path / "part-0.txt", d.subset(np.arange(10)))
    (tmp_path / "part-1.txt").write_text("")
    (tmp_path / "part-2.txt").write_text("# only a comment\n\n")
    write_letor(tmp_path / "part-3.txt", d.subset(np.arange(10, 20)))
    with pytest.warns(UserWarning, match=r"2 shard\(s\) hold no data lines and are skipped: .*part-1\.txt, "
                                         r".*part-2\.txt$"):
        data = ld.read_letor_shards(str(tmp_path / "part-*.txt"), client=dask_client)
    assert [p.rsplit("/", 1)[-1] for p in data.names] == ["part-0.txt", "part-3.txt"]
    whole = data.gather()
    assert np.array_equal(whole.X, d.X) and np.array_equal(whole.y, d.y)
    assert whole.n_queries == d.n_queries == 20


def test_shards_that_are_all_empty_are_an_error_naming_the_first(dask_client, tmp_path, capsys):
    for i in range(2):
        (tmp_path / f"part-{i}.txt").write_text("")
    with pytest.raises(NoDataLinesError, match=r"part-0\.txt: no data lines \(empty file\?\), nor in the other 1 "):
        ld.read_letor_shards(str(tmp_path / "part-*.txt"), client=dask_client)
    code, _, err = run(["train", str(tmp_path / "part-*.txt"), "--dask", dask_client.scheduler.address], capsys)
    assert code != 0 and "part-0.txt: no data lines" in err and len(err.strip().splitlines()) == 1


def test_an_empty_file_is_still_an_error_for_read_letor(tmp_path):
    (tmp_path / "e.txt").write_text("")
    with pytest.raises(NoDataLinesError, match=r"e\.txt: no data lines"):
        read_letor(tmp_path / "e.txt")


def test_conventions_without_a_validation_set_are_not_refused_before_the_cluster_starts(tmp_path, capsys,
                                                                                        monkeypatch):
    """A review's find: the preflight refused --gain linear (XGBoost's ndcg@k- has exp2 gain) even without --valid,
    when nothing stops early; fit checks the stopping metric only with a validation set."""
    started = []

    def start(distributed, n):
        started.append(n)
        raise RuntimeError("stop here")

    monkeypatch.setattr(ld, "_start_local", start)
    path = write_letor(tmp_path / "d.txt", make_ranking(30, 8, 5, random_state=0))
    code = main(["train", str(path), "--dask", "local:2", "--gain", "linear", "--rounds", "2"])
    assert started == [2] and code != 2  # through the preflight, to the cluster's start
    capsys.readouterr()
    ld.check_config(Ranker(early_stopping_rounds=5, eval_params={"gain": "linear"}), validation=False)
    with pytest.raises(OptionError, match="gain"):
        ld.check_config(Ranker(early_stopping_rounds=5, eval_params={"gain": "linear"}))


@pytest.mark.parametrize("key", ["num_threads", "num_thread", "nthreads"])
def test_a_lightgbm_thread_count_is_refused_for_the_dask_ranker_that_ignores_it(key, tmp_path, capsys,
                                                                                 no_local_cluster):
    # num_threads was dropped without a word, its aliases came back as LightGBM's 'will be ignored' warning, twice
    with pytest.raises(OptionError, match=rf"engine_params: {key}=1: LightGBM's Dask ranker trains each worker with "
                                          r"the threads Dask gives it"):
        ld.check_config(Ranker(engine_params={key: 1}), engine="lightgbm")
    ld.check_config(Ranker(engine="xgboost", engine_params={"nthread": 1}))  # XGBoost's Dask training reads it
    path = write_letor(tmp_path / "d.txt", make_ranking(20, 5, 3, random_state=0))
    code, _, err = run(["cv", path, "--folds", 2, "--dask", "local:1", "--dask-engine", "lightgbm", "--param",
                        f"{key}=1"], capsys)
    assert code == 2 and err.startswith(f"ltr cv: error: --param {key}=1: LightGBM's Dask ranker trains each worker")
    assert err.endswith("leave it out (--dask local:N sets the local workers)\n")
