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
