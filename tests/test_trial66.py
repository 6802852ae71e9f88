"""Stop 66: what the trials and the previous stop's review left (each test fails without its fix)."""

from __future__ import annotations

import re

import lightgbm as lgb
import numpy as np
import pytest

import ltr.trees
from ltr import Ranker, make_ranking
from ltr.cli import main
from ltr.exceptions import ModelFormatError
from ltr.metrics.registry import parse_metric


# -- a cutoff that is a number but not an integer after trec_eval's '_' or '.' (stop 65's review) -----------------
@pytest.mark.parametrize("name, got", [("P_5.5", "'5.5'"), ("ndcg_cut.1e3", "'1e3'"), ("ndcg_cut_10.5", "'10.5'"),
                                       ("P_.5", "'.5'")])
def test_a_fractional_trec_cutoff_is_a_bad_cutoff_not_an_unknown_metric(name, got):
    with pytest.raises(ValueError) as caught:
        parse_metric(name)
    assert str(caught.value) == f"metric {name!r}: the cutoff must be a positive integer up to 2147483647, got {got}"


@pytest.mark.parametrize("name", ["P_x", "p@x", "ndcg_cutx"])
def test_a_misspelt_name_still_lists_the_known_metrics(name):
    with pytest.raises(ValueError) as caught:
        parse_metric(name)
    assert str(caught.value).startswith(f"unknown metric {name!r}")
    assert "; known metrics: ['bpref', " in str(caught.value)


def test_a_fractional_trec_cutoff_on_the_command_line(tmp_path, capsys):
    data = tmp_path / "d.txt"
    data.write_text("1 qid:1 1:0.5 #d1\n0 qid:1 1:0.2 #d2\n")
    (tmp_path / "s.txt").write_text("0.5\n0.2\n")
    assert main(["evaluate", str(data), "--scores", str(tmp_path / "s.txt"), "--metrics", "P_5.5"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "ltr evaluate: error: --metrics: metric 'P_5.5': the cutoff must be a positive integer up to 2147483647, "
        "got '5.5'")


# -- LightGBM 2.0 and 2.1's model text: no 'end of trees' line (trial t66, trees-serve #1) ----------------------------
def _as_lightgbm_2_0(text: str) -> str:
    """A LightGBM 4 model text in the layout LightGBM 2.0.12 and 2.1.2 wrote: version=v2, no 'end of trees' line,
    the trees followed by a blank line and 'feature importances:' (as in those versions' GBDT::SaveModelToString)."""
    text = text.replace("version=v4\n", "version=v2\n", 1)
    assert "end of trees\n\nfeature_importances:" in text
    return text.replace("end of trees\n\nfeature_importances:", "\nfeature importances:", 1)


@pytest.fixture(scope="module")
def old_lightgbm():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = rng.integers(0, 3, 300)
    booster = lgb.train({"objective": "lambdarank", "verbose": -1, "num_leaves": 7, "min_data_in_leaf": 5},
                        lgb.Dataset(X, y, group=[30] * 10), num_boost_round=4)
    return _as_lightgbm_2_0(booster.model_to_string()), X


def test_a_lightgbm_2_0_model_text_scores_as_lightgbm_scores_it(old_lightgbm):
    text, X = old_lightgbm
    expected = lgb.Booster(model_str=text).predict(X, raw_score=True)  # LightGBM 4 reads the old layout
    model = ltr.trees.from_lightgbm_text(text, source="old.txt")
    assert model.n_trees == 4
    np.testing.assert_array_equal(model.predict(X), expected)


def test_a_lightgbm_2_0_model_text_missing_a_tree_is_still_refused(old_lightgbm):
    text, _ = old_lightgbm
    cut = re.sub(r"Tree=3\n.*?\n\n\n", "", text, flags=re.S)  # the last tree's block gone, its size still listed
    assert "Tree=3" not in cut and "Tree=2" in cut
    with pytest.raises(ModelFormatError, match=r"old.txt:\d+: tree_sizes lists 4 trees, the text has 3"):
        ltr.trees.from_lightgbm_text(cut, source="old.txt")


def test_a_text_without_tree_sizes_or_an_end_of_trees_line_is_still_cut_short(old_lightgbm):
    text, _ = old_lightgbm
    bare = re.sub(r"tree_sizes=[^\n]*\n", "", text)
    with pytest.raises(ModelFormatError, match="expected 'Tree=<n>' or 'end of trees'.*cut short"):
        ltr.trees.from_lightgbm_text(bare, source="old.txt")


# -- İ (U+0130) lowercased as Lucene lowercases it (trial t66, features #1) -----------------------------------------
def test_a_dotted_capital_i_is_lowercased_to_a_plain_i_as_lucene_does():
    from features import Analyzer

    plain = Analyzer(stemmer=None, stopwords=None)
    assert plain.analyze("İstanbul DİYARBAKIR") == ["istanbul", "diyarbakir"] == plain.analyze("istanbul Diyarbakir")
    assert Analyzer(stemmer=None, stopwords=None, lowercase_first=False).analyze("İstanbul") == ["istanbul"]
    old = {k: v for k, v in plain.to_dict().items() if k != "fold_dotted_i"}  # settings saved before it existed
    assert Analyzer.from_dict(old).analyze("İstanbul") == ["i\u0307stanbul"]  # as such an index holds the term


def test_a_query_finds_a_document_whose_text_has_a_dotted_capital_i(tmp_path, capsys):
    (tmp_path / "docs.tsv").write_text("d1\tİstanbul bridges\nd2\tAnkara roads\n", encoding="utf-8")
    (tmp_path / "q.tsv").write_text("7\tistanbul\n")
    (tmp_path / "qrels").write_text("7 0 d1 1\n")
    assert main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                 "--qrels", str(tmp_path / "qrels"), "--topk", "5", "--out", str(tmp_path / "x.letor"),
                 "--save-run", str(tmp_path / "x.run"), "--quiet"]) == 0
    assert [line.split()[2] for line in (tmp_path / "x.run").read_text().splitlines()] == ["d1"]


# -- score files: ranks read as scores, and query ids spelled as decimals or in quotes (trial t66, hybrid-neural) ----
def _score_file_run(tmp_path, lines: str):
    (tmp_path / "docs.tsv").write_text("d1\tdense retrieval\nd2\tsparse retrieval\nd3\tretrieval of words\n")
    (tmp_path / "q.tsv").write_text("1\tretrieval\n2\tsparse words\n")
    (tmp_path / "qrels").write_text("1 0 d1 1\n2 0 d2 1\n")
    (tmp_path / "s.tsv").write_text(lines)
    (tmp_path / "fs.toml").write_text(f'[[features]]\nscorer = "neural_file"\npath = "{tmp_path / "s.tsv"}"\n'
                                      'name = "nf"\n')
    return main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                 "--qrels", str(tmp_path / "qrels"), "--topk", "3", "--features", str(tmp_path / "fs.toml"),
                 "--out", str(tmp_path / "x.letor"), "--quiet"])


def test_a_score_file_of_ranks_is_said_to_look_like_ranks(tmp_path, caplog):
    ranks = "1\td1\t1\n1\td2\t2\n1\td3\t3\n2\td2\t1\n2\td3\t2\n2\td1\t3\n"  # MS MARCO's qid<TAB>pid<TAB>rank
    assert _score_file_run(tmp_path, ranks) == 0
    assert ("s.tsv: every query's values are the integers 1..n, one per document: they look like ranks (MS MARCO's "
            "qid<TAB>pid<TAB>rank), where 1 is the best, and are read as scores, where larger is better; write a "
            "score instead (-rank, or 1/rank)") in caplog.text


def test_a_score_file_of_scores_that_happen_to_be_integers_is_not_said_to_hold_ranks(tmp_path, caplog):
    assert _score_file_run(tmp_path, "1\td1\t3\n1\td2\t1\n1\td3\t2\n2\td2\t2\n2\td3\t2\n2\td1\t0\n") == 0
    assert "match no candidate" in caplog.text  # (d1 is no candidate of query 2: the log was captured)
    assert "look like ranks" not in caplog.text


@pytest.mark.parametrize("qid, how", [("1.0", "written as decimals (pandas' float column) ('1.0' for '1')"),
                                      ('"1"', "in quotes (as a CSV writer quotes them) ('\"1\"' for '1')")])
def test_query_ids_spelled_as_decimals_or_in_quotes_are_refused_as_padded_ones_are(tmp_path, capsys, qid, how):
    other = qid.replace("1", "2")
    lines = f"{qid}\td1\t0.5\n{qid}\td2\t0.1\n{qid}\td3\t0.2\n{other}\td1\t0.3\n{other}\td2\t0.9\n{other}\td3\t0.1\n"
    assert _score_file_run(tmp_path, lines) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(f"s.tsv: none of its 6 scores matches one of the 5 candidates: its query ids are the "
                            f"topics' {how}; ids are compared as strings, exactly as the topics and the collection "
                            "spell them")


# -- a distillation teacher whose scores are ranks (trial t66, hybrid-neural #2) ---------------------------------------
def _letor_with_doc_ids(path, n_queries=6, n_docs=5):
    rng = np.random.default_rng(3)
    lines = [f"{int(rng.integers(0, 3))} qid:{q} 1:{rng.normal():.4f} 2:{rng.normal():.4f} #docid = D{q}-{i}"
             for q in range(1, n_queries + 1) for i in range(n_docs)]
    path.write_text("\n".join(lines) + "\n")
    return [(q, f"D{q}-{i}") for q in range(1, n_queries + 1) for i in range(n_docs)]


@pytest.mark.parametrize("ranks, warned", [(True, True), (False, False)])
def test_a_teacher_file_of_ranks_is_said_to_train_the_student_backwards(tmp_path, capsys, ranks, warned):
    rows = _letor_with_doc_ids(tmp_path / "train.letor")
    values = [i % 5 + 1 if ranks else (i * 7) % 5 + 0.5 for i in range(len(rows))]
    (tmp_path / "t.tsv").write_text("".join(f"{q}\t{d}\t{v}\n" for (q, d), v in zip(rows, values)))
    assert main(["train", str(tmp_path / "train.letor"), "--objective", "distill", "--kernel", "numba",
                 "--teacher-scores", str(tmp_path / "t.tsv"), "--rounds", "3", "--preset", "none",
                 "--early-stopping", "0", "--min-child-samples", "3", "--out", str(tmp_path / "m.txt"), "--quiet"]) == 0
    said = ("t.tsv: every query's values are the integers 1..n, one per document: they look like ranks (MS MARCO's "
            "qid<TAB>pid<TAB>rank), where 1 is the best, and are read as scores, where larger is better; write a "
            "score instead (-rank, or 1/rank); a student distilled from them learns the teacher's order reversed")
    assert (said in capsys.readouterr().err) is warned


def test_teacher_scores_given_as_an_array_of_ranks_warn_in_python():
    d = make_ranking(12, (8, 12), 3, random_state=0)
    ranks = np.concatenate([np.arange(1, n + 1) for n in np.diff(d.group_ptr)]).astype(float)
    student = Ranker(objective="distill", kernel="numba", objective_params={"teacher": ranks}, n_estimators=2,
                     preset="none", min_child_samples=3)
    with pytest.warns(UserWarning, match=r"teacher scores \(array\): every query's values are the integers 1\.\.n"):
        student.fit(d)
