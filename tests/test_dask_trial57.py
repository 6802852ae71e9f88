"""Trial t57 (dask): a dataset built in memory keeps its float64 features on the workers."""

from __future__ import annotations

import numpy as np
import pytest

from ltr._shared import import_reference

import_reference("distributed")  # the dask extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1

from ltr import Ranker  # noqa: E402
from ltr import dask as ld  # noqa: E402
from ltr.datasets import RankingDataset  # noqa: E402

pytestmark = [pytest.mark.slow]


def test_a_float64_dataset_trains_on_dask_as_in_one_process(dask_client):
    """The workers cast the features to float32: a float64 timestamp's 100 values became 2, and the LightGBM Dask
    model reached NDCG@10 0.90 where a local fit and LightGBM's own DaskLGBMRanker reach 1.0 (trial t57)."""
    rng = np.random.default_rng(0)
    k = rng.integers(0, 100, size=800)
    X = np.column_stack([1_600_000_000.0 + k, rng.random(800)])
    assert np.unique(X[:, 0].astype(np.float32)).size < 5 < np.unique(X[:, 0]).size
    d = RankingDataset(X=X, y=(k >= 50).astype(float) + (k >= 90), qid=np.repeat(np.arange(40), 20),
                       group_ptr=np.arange(0, 801, 20))
    params = dict(engine="lightgbm", n_estimators=10, preset=None, random_state=1)
    local = Ranker(**params).fit(d)
    dist = ld.fit(Ranker(**params), ld.from_dataset(d, client=dask_client, n_parts=1), client=dask_client,
                  engine="lightgbm")
    assert np.array_equal(dist.predict(d), local.predict(d))


def test_the_threads_of_a_distributed_fit_are_said_and_recorded(dask_client):
    """Ranker(n_jobs=2) trained one thread per worker without a word (ltr train --dask notes --n-jobs), and a model
    recorded 1 thread whatever trained, an XGBoost nthread=2 included (trial t57)."""
    from ltr import make_ranking

    data = ld.from_dataset(make_ranking(20, 8, 4, random_state=0), client=dask_client)
    params = dict(engine="xgboost", n_estimators=2, preset=None)
    with pytest.warns(UserWarning, match=r"n_jobs=2 does not apply to distributed training: each worker trains with "
                                         r"its Dask threads"):
        model = ld.fit(Ranker(n_jobs=2, **params), data, client=dask_client, engine="xgboost")
    assert model.n_threads_ == 1  # the fixture's workers: one thread each
    model = ld.fit(Ranker(engine_params={"nthread": 2}, **params), data, client=dask_client, engine="xgboost")
    assert model.n_threads_ == 2
    model = ld.fit(Ranker(engine_params={"nthread": 0}, **params), data, client=dask_client, engine="xgboost")
    assert model.n_threads_ == 1  # 0: the workers' own count, as xgboost.dask reads it
