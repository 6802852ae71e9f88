"""Per-query (RankLib -norm) and global normalisation: hand-computed values, references, JSON round trips."""

import json

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ltr.rankers.normalize import GlobalNormalizer, QueryNormalizer, make_normalizer, normalizer_from_dict

X = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0],   # query 0: column 1 constant
              [4.0, -1.0], [0.0, 3.0]])              # query 1
PTR = [0, 3, 5]


def test_zscore_uses_the_sample_sd_per_query_and_zeroes_constant_columns():
    out = QueryNormalizer("zscore").transform(X, group_ptr=PTR)
    # query 0, column 0: mean 2, sd sqrt(((-1)^2 + 0 + 1^2) / 2) = 1; column 1 has no spread -> 0
    # query 1: column 0 mean 2, sd sqrt((4 + 4) / 1) = 2*sqrt(2); column 1 mean 1, sd 2*sqrt(2)
    s = 2 * np.sqrt(2)
    expected = [[-1, 0], [0, 0], [1, 0], [2 / s, -2 / s], [-2 / s, 2 / s]]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.dtype == np.float32


def test_minmax_and_sum_hand_computed():
    mm = QueryNormalizer("minmax").transform(X, group_ptr=PTR)
    np.testing.assert_allclose(mm, [[0, 0], [0.5, 0], [1, 0], [1, 0], [0, 1]])
    sm = QueryNormalizer("sum").transform(X, group_ptr=PTR)
    # sum of |x| per query and column: q0: 6 and 15; q1: 4 and 4
    np.testing.assert_allclose(sm, [[1 / 6, 5 / 15], [2 / 6, 5 / 15], [3 / 6, 5 / 15], [1, -1 / 4], [0, 3 / 4]],
                               rtol=1e-6)


def test_zscore_matches_scipy_zscore_with_ddof_one_on_each_query():
    from scipy import stats

    rng = np.random.default_rng(0)
    sizes = rng.integers(2, 9, 30)
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    Z = rng.normal(3, 2, (ptr[-1], 4))
    out = QueryNormalizer("zscore").transform(Z, group_ptr=ptr)
    for a, b in zip(ptr[:-1], ptr[1:]):
        np.testing.assert_allclose(out[a:b], stats.zscore(Z[a:b], axis=0, ddof=1), rtol=2e-6, atol=1e-6)


def test_one_document_queries_and_all_zero_columns_are_defined():
    out = QueryNormalizer("zscore").transform([[7.0], [3.0], [5.0]], group_ptr=[0, 1, 3])
    assert out[0, 0] == 0.0  # a single document has no spread
    assert QueryNormalizer("minmax").transform([[7.0]], group_ptr=[0, 1])[0, 0] == 0.0
    np.testing.assert_array_equal(QueryNormalizer("sum").transform([[0.0], [0.0]], group_ptr=[0, 2]), [[0], [0]])


def test_nan_is_ignored_by_the_statistics_and_stays_missing():
    Z = np.array([[1.0], [np.nan], [3.0]])
    out = QueryNormalizer("zscore").transform(Z, group_ptr=[0, 3])
    # mean of {1, 3} = 2, sample sd = sqrt(2)
    np.testing.assert_allclose(out[[0, 2], 0], [-1 / np.sqrt(2), 1 / np.sqrt(2)], rtol=1e-6)
    assert np.isnan(out[1, 0])
    assert np.isnan(QueryNormalizer("minmax").transform(Z, group_ptr=[0, 3])[1, 0])


def test_infinite_values_and_missing_offsets_are_refused():
    with pytest.raises(ValueError, match="infinite value at row 1, column 0"):
        QueryNormalizer().transform([[1.0], [np.inf]], group_ptr=[0, 2])
    with pytest.raises(ValueError, match="needs the query offsets"):
        QueryNormalizer("sum").transform(X)
    with pytest.raises(ValueError, match="unknown query normalisation"):
        QueryNormalizer("l2")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=6), st.sampled_from(["zscore", "minmax", "sum"]),
       st.integers(0, 2**31 - 1))
def test_normalising_queries_together_equals_normalising_them_one_by_one(sizes, method, seed):
    rng = np.random.default_rng(seed)
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    Z = rng.normal(0, 10, (ptr[-1], 3)).astype(np.float32)
    together = QueryNormalizer(method).transform(Z, group_ptr=ptr)
    for a, b in zip(ptr[:-1], ptr[1:]):
        alone = QueryNormalizer(method).transform(Z[a:b], group_ptr=[0, b - a])
        np.testing.assert_array_equal(together[a:b], alone)


def test_blocks_of_queries_give_the_same_result_as_one_block(monkeypatch):
    import ltr.rankers.normalize as N

    rng = np.random.default_rng(1)
    ptr = np.concatenate([[0], np.cumsum(rng.integers(1, 30, 200))])
    Z = rng.normal(0, 1, (ptr[-1], 5))
    whole = QueryNormalizer("zscore").transform(Z, group_ptr=ptr)
    monkeypatch.setattr(N, "_BLOCK_ROWS", 37)
    np.testing.assert_array_equal(QueryNormalizer("zscore").transform(Z, group_ptr=ptr), whole)


def test_only_the_selected_columns_change_and_sparse_input_is_accepted():
    out = QueryNormalizer("minmax", features=[1]).transform(sp.csr_matrix(X), group_ptr=PTR)
    np.testing.assert_array_equal(out[:, 0], X[:, 0])
    np.testing.assert_array_equal(out[:, 1], [0, 0, 0, 0, 1])


def test_global_normaliser_matches_sklearn_scalers_and_is_applied_unchanged_to_new_rows():
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    rng = np.random.default_rng(2)
    train, test = rng.normal(2, 3, (50, 4)), rng.normal(2, 3, (20, 4))
    for method, scaler in (("zscore", StandardScaler()), ("minmax", MinMaxScaler())):
        g = GlobalNormalizer(method).fit(train)
        np.testing.assert_allclose(g.transform(test), scaler.fit(train).transform(test), rtol=1e-5, atol=1e-6)


def test_global_constant_feature_gets_unit_scale():
    g = GlobalNormalizer("zscore").fit([[1.0, 4.0], [3.0, 4.0]])
    assert g.scale_.tolist() == [1.0, 1.0] and g.offset_.tolist() == [2.0, 4.0]
    np.testing.assert_array_equal(g.transform([[5.0, 6.0]]), [[3.0, 2.0]])


def test_json_round_trip_is_exact_and_transforms_identically():
    rng = np.random.default_rng(3)
    train = rng.normal(0, 1, (40, 3)) / 3  # offsets and scales with long decimal expansions
    for norm in (QueryNormalizer("sum", features=[0, 2]), GlobalNormalizer("zscore").fit(train)):
        back = normalizer_from_dict(json.loads(json.dumps(norm.to_dict())))
        assert back == norm
        np.testing.assert_array_equal(back.transform(train, group_ptr=[0, 40]),
                                      norm.transform(train, group_ptr=[0, 40]))


def test_make_normalizer_names():
    assert make_normalizer("linear") == QueryNormalizer("minmax")
    assert make_normalizer("global-minmax").method == "minmax"
    assert make_normalizer(None) is None
    with pytest.raises(ValueError, match="unknown normalisation"):
        make_normalizer("rank")
    with pytest.raises(ValueError, match="not fitted"):
        GlobalNormalizer().transform(X)
    with pytest.raises(ValueError, match="not a normaliser"):
        normalizer_from_dict({"type": "pca"})


# -- stored with the model: Ranker(normalize=...) -------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["zscore", "sum", "global-minmax"])
def test_ranker_normalises_in_fit_and_predict_and_keeps_it_through_save_and_load(spec, tmp_path):
    from dataclasses import replace

    from ltr import Ranker, load_model, make_ranking

    train, test = make_ranking(40, (3, 9), 5, random_state=0), make_ranking(15, (3, 9), 5, random_state=1)
    kw = dict(n_estimators=10, num_leaves=7, min_child_samples=3, n_jobs=1, random_state=0, early_stopping_rounds=None)
    model = Ranker(normalize=spec, **kw).fit(train, eval_set=[test])
    # Reference: normalise by hand, train a plain model on the result.
    norm = make_normalizer(spec).fit(train.X, group_ptr=train.group_ptr)
    plain = Ranker(**kw).fit(replace(train, X=norm.transform(train.X, group_ptr=train.group_ptr)))
    expected = plain.predict(norm.transform(test.X, group_ptr=test.group_ptr))
    np.testing.assert_array_equal(model.predict(test), expected)
    np.testing.assert_array_equal(model.predict(np.asarray(test.X), qid=test.qid), expected)
    model.save(tmp_path / "m.txt")
    meta = json.loads((tmp_path / "m.txt.meta.json").read_text())
    assert meta["normalizer"] == model.normalizer_.to_dict()
    np.testing.assert_array_equal(load_model(tmp_path / "m.txt").predict(test), expected)


def test_a_per_query_normalising_ranker_asks_for_the_queries_at_predict_time():
    from ltr import Ranker, make_ranking

    d = make_ranking(20, 5, 3, random_state=0)
    model = Ranker(normalize="minmax", n_estimators=3, min_child_samples=2, n_jobs=1).fit(d)
    with pytest.raises(ValueError, match="normalises features per query"):
        model.predict(np.asarray(d.X))
    g = Ranker(normalize="global-zscore", n_estimators=3, min_child_samples=2, n_jobs=1).fit(d)
    np.testing.assert_array_equal(g.predict(np.asarray(d.X)), g.predict(d))
