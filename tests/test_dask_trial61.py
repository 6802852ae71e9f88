"""Trial t61 (dask-gpu): ``ltr train --dask`` reads TRAIN as one process reads it (``--dataset``'s width, checks and
feature names; the labels its metrics cannot take), ``ltr.dask.fit`` checks labels and features as ``Ranker.fit``
does, and an objective the chosen Dask engine lacks is said to be the other engine's, not a Numba kernel."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from ltr._shared import import_reference

import_reference("distributed")  # the dask extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1

from ltr import Ranker, load_model, make_ranking  # noqa: E402
from ltr import dask as ld  # noqa: E402
from ltr.cli import main  # noqa: E402
from ltr.exceptions import FileFormatError, LabelRangeError, OptionError  # noqa: E402
from ltr.io import read_letor, write_letor  # noqa: E402

pytestmark = [pytest.mark.slow]

QUICK = ["--engine", "xgboost", "--rounds", "2", "--preset", "none"]


@pytest.fixture(scope="module")
def mq2008_16(shared_file):
    """MQ2008 Fold1/test's first 16 queries (248 rows, labels 0..2)."""
    d = read_letor(shared_file("mq2008/Fold1/test.txt.gz"), n_features=46)
    return d.subset(np.arange(16))


def _shards(tmp_path, data, relabel=None) -> str:
    """``data`` as two shards of whole queries under ``tmp_path/shards`` (labels mapped by ``relabel``); the glob."""
    folder = tmp_path / "shards"
    folder.mkdir()
    if relabel is not None:
        data = replace(data, y=relabel(np.asarray(data.y, dtype=np.float64).copy()))
    half = data.n_queries // 2
    for i, queries in enumerate((np.arange(half), np.arange(half, data.n_queries))):
        write_letor(folder / f"part{i}.txt", data.subset(queries), header=False)
    return str(folder / "*.txt")


# -- 1. --dataset NAME ----------------------------------------------------------------------------------------------
def test_train_dask_with_dataset_saves_the_sets_feature_names_as_one_process_does(dask_client, mq2008_16,
                                                                                   tmp_path, capsys):
    """The Dask model had no feature names ('feature names: -'), so ltr export asked for --feature-names."""
    from ltr.registry import feature_names

    shards = _shards(tmp_path, mq2008_16)
    out = tmp_path / "m.json"
    assert main(["train", shards, "--dask", dask_client.scheduler.address, "--dataset", "mq2008", "--quiet",
                 "--out", str(out), *QUICK]) == 0
    capsys.readouterr()
    assert list(load_model(out).feature_names_in_) == list(feature_names("mq2008"))


def test_train_dask_refuses_rows_wider_than_the_datasets_width_as_one_process_does(dask_client, tmp_path, capsys):
    """60-feature rows given as --dataset mq2008 (46 features) trained with exit 0 on Dask."""
    shards = _shards(tmp_path, make_ranking(8, 6, 60, random_state=0))
    rc = main(["train", shards, "--dask", dask_client.scheduler.address, "--dataset", "mq2008", "--quiet",
               "--metrics", "ndcg@10,map", *QUICK])
    err = capsys.readouterr().err
    assert rc == 1
    assert "feature id above 46" in err and "mq2008 has 46 features: is " in err and "part" in err


# -- 2. labels ------------------------------------------------------------------------------------------------------
def test_train_dask_takes_grade_6_with_a_note_on_errs_max_grade_as_one_process_does(dask_client, mq2008_16,
                                                                                     tmp_path, capsys):
    """Grade 6 under the default metrics (err@10): one process notes the max grade and trains; Dask failed with
    exit 1 after training ('ERR needs labels <= max_grade=4')."""
    shards = _shards(tmp_path, mq2008_16, relabel=lambda y: np.where(y == 2, 6.0, y))
    rc = main(["train", shards, "--dask", dask_client.scheduler.address, "--format", "json", *QUICK])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "note: err@10 with max grade 6, the largest label (pass --max-grade G)" in out.err
    assert 0.0 <= json.loads(out.out)["train"]["err@10"] <= 1.0


def test_train_dask_refuses_an_order_label_by_its_shard_and_line_before_training(dask_client, mq2008_16,
                                                                                 tmp_path, capsys):
    """A label 2000 got XGBoost's raw check and advice about dead workers, after the cluster had started training."""

    def one_order_label(y):
        y[-1] = 2000.0  # the last row of the second shard
        return y

    shards = _shards(tmp_path, mq2008_16, relabel=one_order_label)
    last_line = len((tmp_path / "shards" / "part1.txt").read_text().splitlines())
    assert main(["train", shards, "--dask", dask_client.scheduler.address, "--quiet", *QUICK]) == 1
    err = capsys.readouterr().err
    assert f"label 2000 at {tmp_path / 'shards' / 'part1.txt'}:{last_line}: labels from 1024 up encode an order" in err
    assert "if a worker died" not in err


def _relabelled(data, value):
    y = np.asarray(data.y, dtype=np.float64).copy()
    y[3] = value
    return replace(data, y=y)


@pytest.mark.parametrize("engine", ["xgboost", "lightgbm"])
@pytest.mark.parametrize("label", [1.5, -1.0, 40.0, np.nan])
def test_dask_fit_refuses_labels_in_the_words_of_a_local_fit(dask_client, engine, label):
    """Fractional, negative, > 30 and NaN labels reached the engines on Dask, refused in their raw words."""
    data = _relabelled(make_ranking(6, 8, 4, random_state=0), label)
    params = dict(engine=engine, n_estimators=2, preset=None, early_stopping_rounds=None)
    with pytest.raises(ValueError) as local:
        Ranker(**params).fit(data)
    with pytest.raises(type(local.value)) as dist:
        ld.fit(Ranker(**params), data, client=dask_client, engine=engine)
    assert str(dist.value) == str(local.value)


def test_dask_fit_refuses_a_shards_fractional_label_by_its_file_and_line_on_the_worker(dask_client, tmp_path):
    shards = _shards(tmp_path, make_ranking(6, 8, 4, random_state=0), relabel=lambda y: np.where(
        np.arange(y.size) == y.size - 2, 1.5, y))
    data = ld.read_letor_shards(shards, client=dask_client)
    last_line = len((tmp_path / "shards" / "part1.txt").read_text().splitlines())
    with pytest.raises(LabelRangeError, match=rf"part1\.txt:{last_line - 1}: .*needs whole-number labels"):
        ld.fit(Ranker(engine="xgboost", n_estimators=2, preset=None), data, client=dask_client, engine="xgboost")


def test_dask_fit_refuses_an_infinite_feature_for_xgboost_in_the_words_of_a_local_fit(dask_client, tmp_path):
    data = make_ranking(6, 8, 4, random_state=0)
    X = np.asarray(data.X, dtype=np.float64).copy()
    X[5, 1] = np.inf
    with pytest.raises(ValueError) as local:
        Ranker(engine="xgboost", n_estimators=2, preset=None).fit(replace(data, X=X))
    with pytest.raises(ValueError) as dist:
        ld.fit(Ranker(engine="xgboost", n_estimators=2, preset=None), replace(data, X=X), client=dask_client,
               engine="xgboost")
    assert str(dist.value) == str(local.value) and "X[5, 1]" in str(dist.value)
    # read from shards: named by the worker's file and line
    path = tmp_path / "inf.txt"
    path.write_text("1 qid:1 1:0.5 2:inf\n0 qid:1 1:0.1 2:0.2\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"inf\.txt:1: an infinite feature value"):
        ld.fit(Ranker(engine="xgboost", n_estimators=2, preset=None),
               ld.read_letor_shards(str(path), client=dask_client, nonfinite="allow"), client=dask_client,
               engine="xgboost")


# -- 3. objectives --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("objective, engine, other", [("map", "lightgbm", "xgboost"),
                                                      ("ranknet", "lightgbm", "xgboost"),
                                                      ("xendcg", "xgboost", "lightgbm")])
def test_an_objective_of_the_other_dask_engine_is_said_to_be_its_not_a_numba_kernel(objective, engine, other):
    with pytest.raises(OptionError) as info:
        ld.check_config(Ranker(objective=objective), engine=engine)
    said = str(info.value)
    assert "Numba kernel" not in said
    assert said.startswith(f"objective={objective!r}: distributed {engine} training has no native {objective!r} "
                           f"objective") and said.endswith(f"pass engine={other!r} (the Ranker's, or fit's)")
    assert info.value.cli_message().endswith(f"pass --dask-engine {other} (and no other --engine)")


def test_a_numba_kernel_objective_is_still_said_to_run_in_one_process():
    with pytest.raises(OptionError, match=r"^objective='listnet' is a Numba kernel, which runs in one process"):
        ld.check_config(Ranker(objective="listnet"), engine="lightgbm")


def test_dask_xgboost_refuses_early_stopping_on_a_set_no_order_changes_as_a_local_fit(dask_client):
    """XGBoost's Dask training stopped early on a validation set without a relevant document and kept round 1 without
    a word, where a local fit refuses it (review of trial t61); before the cluster trains, in the local fit's words."""
    train, valid = make_ranking(8, 6, 3, random_state=0), make_ranking(4, 6, 3, random_state=1)
    flat = replace(valid, y=np.zeros(valid.n_rows))
    params = dict(engine="xgboost", n_estimators=20, early_stopping_rounds=3, preset=None)
    with pytest.raises(OptionError) as local:
        Ranker(**params).fit(train, eval_set=[flat])
    with pytest.raises(OptionError) as distributed:
        ld.fit(Ranker(**params), train, client=dask_client, eval_set=[flat], engine="xgboost")
    assert str(distributed.value) == str(local.value) and "nothing to stop on" in str(local.value)
