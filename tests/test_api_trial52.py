"""Python API conventions met in stop 52: a column-vector y is flattened with scikit-learn's DataConversionWarning,
as LightGBM's LGBMRanker does, rather than refused."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import DataConversionWarning

import ltr


def test_a_column_vector_y_trains_as_its_flat_labels_with_a_warning():
    d = ltr.make_ranking(30, 8, 4, random_state=0)
    params = dict(n_estimators=5, preset=None, random_state=0)
    flat = ltr.Ranker(**params).fit(d.X, d.y, group=np.diff(d.group_ptr))
    with pytest.warns(DataConversionWarning, match=r"column vector of shape \(\d+, 1\)"):
        column = ltr.Ranker(**params).fit(d.X, d.y.reshape(-1, 1), group=np.diff(d.group_ptr))
    np.testing.assert_array_equal(column.predict(d.X), flat.predict(d.X))


def test_a_two_column_y_is_still_refused():
    d = ltr.make_ranking(10, 5, 3, random_state=0)
    with pytest.raises(ValueError, match=r"y must have shape \(\d+,\) to match X, got \(\d+, 2\)"):
        ltr.Ranker(n_estimators=2).fit(d.X, np.c_[d.y, d.y], group=np.diff(d.group_ptr))
