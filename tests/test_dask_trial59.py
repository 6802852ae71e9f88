"""Trial t59 (dask-gpu): a distributed fit takes the small-data preset's decisions as a local fit takes them."""

from __future__ import annotations

import numpy as np
import pytest

from ltr._shared import import_reference

import_reference("distributed")  # the dask extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1

from ltr import Ranker, make_ranking  # noqa: E402
from ltr import dask as ld  # noqa: E402
from ltr.rankers.presets import PresetWarning  # noqa: E402

pytestmark = [pytest.mark.slow]


def test_a_distributed_fit_on_few_rows_keeps_the_default_leaf_size_and_says_what_the_preset_replaced(dask_client):
    """Under 3 x 100 / 0.8 rows the preset's 100-row leaves cannot split: a local fit keeps 20, the Dask fit did not
    (its rows were not counted): a LightGBM model cut short at 25 of 30 rounds, ltr cv --dask's folds constant
    (every score 0.0); and it said nothing of the parameters it replaced, where a local fit warns (trial t59)."""
    data = make_ranking(16, 15, 4, random_state=3)  # 240 rows
    params = dict(engine="lightgbm", n_estimators=30, random_state=1)
    with pytest.warns(PresetWarning, match=r"num_leaves=31 -> 15"):
        local = Ranker(**params).fit(data)
    assert "min_child_samples" not in local.preset_params_
    with pytest.warns(PresetWarning, match=r"num_leaves=31 -> 15"):
        dist = ld.fit(Ranker(**params), ld.from_dataset(data, client=dask_client, n_parts=1), client=dask_client,
                      engine="lightgbm")
    assert dist.preset_params_ == local.preset_params_
    assert np.array_equal(dist.predict(data), local.predict(data))


def test_xgboost_on_dask_refuses_labels_above_the_gain_table_as_one_process_does(dask_client):
    """label_gain=[0, 1] on labels 0..2: one process refuses the label by its line, the Dask fit trained it, exit 0
    (review of trial t59): refused naming the shard."""
    from ltr.exceptions import LabelRangeError

    data = make_ranking(10, 8, 5, max_label=2, random_state=0)
    model = Ranker(engine="xgboost", n_estimators=2, preset=None, objective_params={"label_gain": [0, 1]})
    with pytest.raises(LabelRangeError, match=r"XGBoost's rank:ndcg takes labels 0\.\.1 under the label_gain given "
                                              r"\(2 gains\), got label 2"):
        model.fit(data)
    with pytest.raises(LabelRangeError, match=r"^.+: XGBoost's rank:ndcg takes labels 0\.\.1 under the label_gain "
                                              r"given \(2 gains\), got label 2; pass one gain per label"):
        ld.fit(model, ld.from_dataset(data, client=dask_client), client=dask_client, engine="xgboost")
    ld.fit(Ranker(engine="xgboost", n_estimators=2, preset=None, objective_params={"label_gain": [0, 1, 3]}),
           ld.from_dataset(data, client=dask_client), client=dask_client, engine="xgboost")
