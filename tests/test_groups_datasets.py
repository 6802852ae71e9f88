import numpy as np
import pytest
import scipy.sparse as sp

from ltr import GroupError, RankingDataset, make_ranking
from ltr.groups import (
    check_group_ptr,
    group_ptr_from_qid,
    group_ptr_from_sizes,
    qid_from_group_ptr,
    resolve_group_ptr,
)


def test_sizes_become_offsets():
    assert group_ptr_from_sizes([2, 3, 1]).tolist() == [0, 2, 2 + 3, 2 + 3 + 1]


def test_zero_size_group_is_refused():
    with pytest.raises(GroupError, match="group 1 has size 0"):
        group_ptr_from_sizes([2, 0, 1])


def test_contiguous_qids_become_offsets_in_file_order():
    ptr, order = group_ptr_from_qid([9, 9, 2, 2, 2, 5])
    assert ptr.tolist() == [0, 2, 5, 6]
    assert order is None


def test_interleaved_qids_are_an_error_that_names_the_query_and_rows():
    with pytest.raises(GroupError, match=r"query 1 .* row 0 and again at row 3"):
        group_ptr_from_qid([1, 1, 2, 1])


def test_interleaved_qids_sort_stably_on_request():
    ptr, order = group_ptr_from_qid([1, 2, 1, 2], sort=True)
    assert ptr.tolist() == [0, 2, 4]
    assert order.tolist() == [0, 2, 1, 3]


def test_resolve_needs_exactly_one_of_qid_and_group():
    with pytest.raises(ValueError, match="exactly one of qid"):
        resolve_group_ptr(3)
    with pytest.raises(ValueError, match="both"):
        resolve_group_ptr(3, qid=[1, 1, 1], group=[3])
    with pytest.raises(GroupError, match="add up to 4 but X has 3 rows"):
        resolve_group_ptr(3, group=[2, 2])
    assert resolve_group_ptr(3, qid=["a", "b", "b"]).tolist() == [0, 1, 3]


def test_check_group_ptr_rejects_bad_offsets():
    with pytest.raises(GroupError, match="start at 0"):
        check_group_ptr([1, 2])
    with pytest.raises(GroupError, match="strictly increasing"):
        check_group_ptr([0, 2, 2])
    with pytest.raises(GroupError, match="ends at 2 but there are 3 rows"):
        check_group_ptr([0, 2], 3)


def test_qid_from_group_ptr_numbers_queries():
    assert qid_from_group_ptr(np.array([0, 2, 3])).tolist() == [0, 0, 1]


def test_dataset_is_immutable():
    d = make_ranking(3, 4, 5, random_state=0)
    with pytest.raises(ValueError):
        d.X[0, 0] = 1.0
    with pytest.raises(ValueError):
        d.y[0] = 1.0
    with pytest.raises(AttributeError):
        d.y = np.zeros(12)


def test_dataset_checks_lengths():
    with pytest.raises(ValueError, match="y has 2 entries but X has 3 rows"):
        RankingDataset(X=np.zeros((3, 1), np.float32), y=np.zeros(2), qid=np.zeros(3, np.int64),
                       group_ptr=np.array([0, 3]))


def test_subset_takes_queries_in_the_given_order():
    d = make_ranking(4, (2, 5), 3, random_state=1)
    s = d.subset([2, 0])
    assert s.n_queries == 2
    assert s.query_ids.tolist() == [d.query_ids[2], d.query_ids[0]]
    rows2 = slice(d.group_ptr[2], d.group_ptr[3])
    np.testing.assert_array_equal(s.X[: d.group_sizes[2]], d.X[rows2])


def test_equals_compares_bits_and_all_fields():
    d = make_ranking(3, 4, 5, random_state=0)
    same = RankingDataset(X=d.X.copy(), y=d.y.copy(), qid=d.qid.copy(), group_ptr=d.group_ptr.copy(),
                          feature_names=d.feature_names)
    assert d.equals(same)
    X = d.X.copy()
    X[0, 0] = np.nextafter(X[0, 0], np.float32(np.inf))
    changed = RankingDataset(X=X, y=d.y, qid=d.qid, group_ptr=d.group_ptr, feature_names=d.feature_names)
    assert not d.equals(changed)
    sparse = RankingDataset(X=sp.csr_matrix(d.X), y=d.y, qid=d.qid, group_ptr=d.group_ptr,
                            feature_names=d.feature_names)
    assert not d.equals(sparse)
    assert sparse.equals(sparse)


def test_make_ranking_is_reproducible_and_graded():
    a = make_ranking(50, (5, 15), 8, random_state=3)
    b = make_ranking(50, (5, 15), 8, random_state=3)
    assert a.equals(b)
    assert a.X.dtype == np.float32 and a.group_ptr.dtype == np.int64
    assert set(np.unique(a.y)) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    sizes = a.group_sizes
    assert sizes.min() >= 5 and sizes.max() <= 15


def test_make_ranking_labels_depend_on_informative_features_only():
    d = make_ranking(400, 20, 10, n_informative=5, random_state=0)
    # Non-linear signal: a tree model on informative features must beat the same on noise features.
    from sklearn.ensemble import RandomForestRegressor

    half = d.n_rows // 2
    scores = []
    for cols in (slice(0, 5), slice(5, 10)):
        rf = RandomForestRegressor(n_estimators=30, random_state=0, n_jobs=1, min_samples_leaf=5)
        rf.fit(d.X[:half, cols], d.y[:half])
        scores.append(rf.score(d.X[half:, cols], d.y[half:]))
    assert scores[0] > 0.3 > 0.05 > scores[1]
