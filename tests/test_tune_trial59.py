"""Trial t59 (linear-tune): the name of tune's studies tells float64 data apart and does not copy a sparse X."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import scipy.sparse as sp

from ltr import make_ranking
from ltr._shared import import_reference

import_reference("optuna")  # the tune extra (in dev): a failure under LTRKIT_REQUIRE_SHARED=1

from ltr.datasets import RankingDataset  # noqa: E402
from ltr.tuning import tune  # noqa: E402


def _with_first_column(data: RankingDataset, values, dtype) -> RankingDataset:
    X = np.array(np.asarray(data.X, dtype=np.float64) * 100, dtype=dtype)
    X[:, 0] = values
    return RankingDataset(X, data.y, data.qid, data.group_ptr)


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_data_equal_in_float32_do_not_share_their_trials(tmp_path, dtype):
    """A feature of 1.6e9 and one of 1.6e9 + 10 * label are equal in float32 (its spacing there is 128): the study
    name hashed float32, so tuning the second resumed the first's trials and chose its parameters from them (inner
    MAP 0.438 reported where its own is 0.85; trial t59), int64 features too (the linear ranker trains on them in
    float64; review of trial t59). The same data again still resumes them."""
    base = make_ranking(24, 10, 4, random_state=0)
    a, b = (_with_first_column(base, v, dtype) for v in (1.6e9, 1.6e9 + 10.0 * base.y))
    assert np.array_equal(a.X.astype(np.float32), b.X.astype(np.float32))
    storage = str(tmp_path / "s.db")
    kw = dict(engine="linear", metric="map", n_trials=2, outer_folds=2, inner_folds=2, random_state=3,
              progress=False, space={"engine_params.n_restarts": {"choices": [1, 2]}})
    first = tune(a, storage=storage, **kw)
    assert first.resumed == 0
    assert tune(b, storage=storage, **kw).resumed == 0
    assert tune(a, storage=storage, **kw).resumed == 4


def test_the_study_name_of_sparse_data_is_that_of_its_dense_values(tmp_path):
    """The study name made a sparse X dense, then copied it again (320 MB to name the study of a 0.4 MB matrix;
    trial t59); read in blocks, its digest is the one of the whole float32 array, as the studies stored before were
    named, so a dense and a sparse read of one file share theirs."""
    from ltr import Ranker
    from ltr.tuning import load_space, nested

    class Counted(sp.csr_matrix):  # the rows each toarray() makes dense
        rows: list[int] = []

        def toarray(self, *args, **kwargs):
            Counted.rows.append(self.shape[0])
            return super().toarray(*args, **kwargs)

    rng = np.random.default_rng(0)
    X = Counted(sp.random(3000, 2500, density=0.001, format="csr", dtype=np.float32, random_state=rng))
    ptr = np.arange(0, 3001, 20)
    y = (np.arange(3000) % 3).astype(float)
    sparse, dense = (RankingDataset(x, y, np.repeat(np.arange(150), 20), ptr) for x in (X, X.toarray()))
    est = Ranker(engine="lightgbm")
    args = (est, load_space(None, est), "ndcg@10", {"gain": "exp2"}, 5, 3, 0)
    whole = hashlib.sha256()
    Counted.rows.clear()  # (the dense copy above made it dense whole)
    nested._hash_features(whole, X)
    assert len(Counted.rows) > 1 and max(Counted.rows) < 3000 and sum(Counted.rows) == 3000  # in blocks
    assert whole.hexdigest() == hashlib.sha256(X.toarray().tobytes()).hexdigest()  # the digest stored studies have
    assert nested._study_key(sparse, *args) == nested._study_key(dense, *args)
