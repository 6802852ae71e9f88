"""The data fingerprint a model's sidecar records names the data: the same queries give the same fingerprint
whether held dense or sparse, in one array or cut into parts at query boundaries (a Dask fit's partitions: the
distributed test is in test_dask.py); a changed label, feature or query boundary gives another."""

from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp

from ltr import Ranker, make_ranking


def _by_definition(X, y, ptr) -> str:
    # the documented scheme, written out here: SHA-256 over the queries' SHA-256 of (row count as int64,
    # rows as float32, labels as float64), 16 hex digits
    outer = hashlib.sha256()
    for a, b in zip(ptr[:-1], ptr[1:]):
        inner = hashlib.sha256(np.int64(b - a).tobytes())
        inner.update(np.asarray(X[a:b], dtype=np.float32).tobytes())
        inner.update(np.asarray(y[a:b], dtype=np.float64).tobytes())
        outer.update(inner.digest())
    return outer.hexdigest()[:16]


def _fit(X, y, ptr) -> str:
    model = Ranker(n_estimators=2, num_leaves=3, min_child_samples=1, preset=None, early_stopping_rounds=None)
    return model.fit(X, y, group=np.diff(ptr)).data_fingerprint_


def test_the_fingerprint_follows_its_definition_and_does_not_depend_on_how_the_data_is_held():
    d = make_ranking(12, 6, 5, random_state=3)
    X, y, ptr = np.array(d.dense()), d.y, d.group_ptr
    expected = _by_definition(X, y, ptr)
    assert _fit(X, y, ptr) == expected
    assert _fit(X.astype(np.float64), y.astype(np.int64), ptr) == expected
    X[X < 0.3] = 0.0
    assert _fit(sp.csr_matrix(X), y, ptr) == _fit(X, y, ptr) == _by_definition(X, y, ptr)


def test_a_changed_label_feature_or_query_boundary_changes_the_fingerprint():
    d = make_ranking(12, 6, 5, random_state=3)
    X, y, ptr = np.array(d.dense()), d.y.copy(), d.group_ptr.copy()
    base = _fit(X, y, ptr)
    y2 = y.copy()
    y2[7] = (y2[7] + 1) % 3
    X2 = X.copy()
    X2[3, 1] = np.nextafter(np.float32(X2[3, 1]), np.float32(2))
    ptr2 = ptr.copy()
    ptr2[1] += 1  # the same rows, one row moved to the previous query
    assert len({base, _fit(X, y2, ptr), _fit(X2, y, ptr), _fit(X, y, ptr2)}) == 4
