"""Feature importance, permutation importance, group ablation and feature subsets."""

import numpy as np
import pytest

from ltr import LetorFormatError, Ranker, make_ranking
from ltr._shared import tiny_ranker
from ltr.evaluation import (
    ablation,
    cross_validate,
    groups_by_prefix,
    importance_table,
    permutation_importance,
    query_kfold,
    read_feature_file,
    select_features,
)
from ltr.metrics import evaluate


class Column:
    """A stand-in ranker that scores each row by one feature."""

    def __init__(self, j):
        self.j = j

    def predict(self, X):
        return np.asarray(X.X if hasattr(X, "X") else X)[:, self.j].astype(np.float64)


@pytest.fixture(scope="module")
def data():
    return make_ranking(40, (5, 12), 6, n_informative=2, random_state=0)


def test_importance_table_lists_engine_gain_and_splits_with_ids_and_names(data):
    model = tiny_ranker(n_estimators=10).fit(data)
    t = importance_table(model)
    assert list(t.columns) == ["id", "feature", "gain", "gain_share", "split"]
    gain = model.feature_importance("gain")
    assert t.set_index("id").loc[1, "gain"] == gain[0] and t["gain"].is_monotonic_decreasing
    assert t["gain_share"].sum() == pytest.approx(1.0)
    assert t.set_index("feature").loc["f2", "split"] == model.feature_importance("split")[1]


def test_permutation_importance_of_a_one_feature_ranker_by_hand(data):
    # Shuffling the column the ranker uses, within each query, with the same generator draws as the function.
    t = permutation_importance(Column(0), data, metric="ndcg@5", n_repeats=3, random_state=4)
    base = evaluate(data.y, data.X[:, 0], group_ptr=data.group_ptr, metrics=["ndcg@5"])["ndcg@5"]
    rng = np.random.default_rng(4)
    qidx = np.repeat(np.arange(data.n_queries), data.group_sizes)
    drops = []
    for _ in range(3):
        order = np.lexsort((rng.random(qidx.size), qidx))
        drops.append(base - evaluate(data.y, data.X[order, 0], group_ptr=data.group_ptr, metrics=["ndcg@5"])["ndcg@5"])
    row = t.set_index("id").loc[1]
    assert row["importance"] == pytest.approx(np.mean(drops)) and row["std"] == pytest.approx(np.std(drops, ddof=1))
    assert row["baseline"] == pytest.approx(base)
    assert (t.set_index("id").loc[2:, "importance"] == 0).all()  # unused columns never matter


def test_within_query_shuffles_keep_each_query_s_values(data):
    qidx = np.repeat(np.arange(data.n_queries), data.group_sizes)
    from ltr.evaluation.importance import _within_query_order

    order = _within_query_order(np.random.default_rng(0), qidx)
    assert np.array_equal(qidx[order], qidx)  # rows stay in their query
    assert not np.array_equal(order, np.arange(qidx.size))


def test_a_query_level_feature_has_no_within_query_importance():
    from dataclasses import replace

    d = make_ranking(30, 6, 2, random_state=1)
    X = np.array(d.X)
    X[:, 1] = np.repeat(np.arange(d.n_queries, dtype=np.float32), d.group_sizes)  # constant inside each query

    class Sum:
        def predict(self, X):  # given the rows, as a model other than ltrkit's is
            return np.asarray(X).sum(axis=1).astype(np.float64)

    d = replace(d, X=X)
    t = permutation_importance(Sum(), d, n_repeats=2).set_index("id")
    assert t.loc[2, "importance"] == 0.0 and t.loc[1, "importance"] > 0
    t_all = permutation_importance(Sum(), d, n_repeats=2, within="all").set_index("id")
    assert t_all.loc[2, "importance"] != 0.0


def test_permutation_importance_finds_the_informative_features_of_a_trained_model(data):
    train, test = make_ranking(80, (5, 12), 6, n_informative=2, random_state=2), data
    model = Ranker(n_estimators=30, num_leaves=7, min_child_samples=5, n_jobs=1).fit(train)
    t = permutation_importance(model, test, n_repeats=3)
    assert set(t["id"].iloc[:2]) == {1, 2}  # make_ranking puts the signal in the leading features


def test_ablation_reports_each_group_against_all_features_with_tests(data):
    model = tiny_ranker(n_estimators=10)
    comp = ablation(model, data, {"signal": [1, 2], "noise": ["f5", "f6"]}, metrics=["ndcg@10"], n_splits=3,
                    tests=["randomization"], n_permutations=500, progress=False)
    assert comp.baseline == "all features" and comp.systems == ["all features", "-signal", "-noise"]
    assert comp.extra["ablation"] == {"signal": [1, 2], "noise": [5, 6]}
    # The ablated run equals a CV run on the remaining features over the same folds.
    ref = cross_validate(model, query_kfold(data, 3), metrics=["ndcg@10"], features=[3, 4, 5, 6], progress=False)
    np.testing.assert_array_equal(comp.per_query["-signal"]["ndcg@10"], ref.per_query("ndcg@10").to_numpy())
    assert comp.row("-signal", "ndcg@10")["delta"] < 0  # losing the signal hurts
    assert comp.row("-signal", "ndcg@10")["tests"]["randomization"]["significant"]
    with pytest.raises(ValueError, match="holds every feature"):
        ablation(model, data, {"all": list(range(1, 7))}, progress=False)
    # features= would ablate within a subset while the baseline keeps every feature: refused, naming the way
    with pytest.raises(ValueError, match="select features before"):
        ablation(model, data, {"signal": [1, 2]}, features=[1, 2, 3], progress=False)
    ablation(model, data, {"signal": [1, 2]}, features=None, n_splits=3, progress=False)  # None is the default


def test_groups_by_prefix():
    assert groups_by_prefix(["bm25:title", "bm25:body", "len"]) == {"bm25": ["bm25:title", "bm25:body"],
                                                                    "len": ["len"]}


# -- feature subsets -------------------------------------------------------------------------------------------------
def test_ranklib_feature_file_is_read_with_comments_and_blank_lines(tmp_path):
    p = tmp_path / "f.txt"
    p.write_text("# my subset\n3\n\n 1 \n5 # bm25\n")
    assert read_feature_file(p) == [3, 1, 5]
    d = select_features(make_ranking(3, 4, 6, random_state=0), p)
    assert d.feature_names == ("f3", "f1", "f5")


def test_bad_feature_files_name_the_line_and_token(tmp_path):
    p = tmp_path / "f.txt"
    p.write_text("1\nbm25\n")
    with pytest.raises(LetorFormatError, match=r"f.txt:2: .*one integer feature id per line \(token 'bm25'\)"):
        read_feature_file(p)
    p.write_text("0\n")
    with pytest.raises(LetorFormatError, match="1-based"):
        read_feature_file(p)
    p.write_text("# nothing\n")
    with pytest.raises(LetorFormatError, match="lists no feature id"):
        read_feature_file(p)


def test_select_features_by_id_and_name_keeps_values_and_order():
    d = make_ranking(3, 4, 6, random_state=0)
    s = select_features(d, [6, "f2"])
    np.testing.assert_array_equal(s.X, np.asarray(d.X)[:, [5, 1]])
    assert s.feature_names == ("f6", "f2") and s.n_queries == 3
    with pytest.raises(ValueError, match="unknown feature name 'bm25'; known names include"):
        select_features(d, ["bm25"])
    with pytest.raises(ValueError, match="listed twice"):
        select_features(d, [2, "f2"])
    with pytest.raises(ValueError, match="outside 1..6"):
        select_features(d, [0])
