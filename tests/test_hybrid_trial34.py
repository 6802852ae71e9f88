"""A researcher stacking neural scores on classical features, from a user trial: a ``neural_file`` score beyond
float32, a score file that matches no candidate, a service scoring one query of a file that covers many, ``fields``
on a scorer that has none, and a distillation teacher column whose rows the feature set filled."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from features.analysis import Analyzer
from features.collections import Collection
from features.errors import CollectionFormatError
from features.featureset import FeatureSet
from features.index import InvertedIndex
from features.pairs import PairSet
from features.scorers import get_scorer
from features.scorers.neural import read_score_table
from ltr.cli import main
from ltr.datasets import RankingDataset, make_ranking
from ltr.io import write_letor
from ltr.rankers.teacher import teacher_scores

DOCS = {"d1": "wing flutter", "d2": "heat transfer", "d3": "wing heat"}


def index() -> InvertedIndex:
    return InvertedIndex.build(Collection(tuple(DOCS), {"body": list(DOCS.values())}), Analyzer(stemmer=None))


def pairs(ix, cands: dict[str, list[str]], **kw) -> PairSet:
    sizes = [len(v) for v in cands.values()]
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    return PairSet(ix, [ix.query_terms("wing") for _ in cands], ptr, ix.doc_index([d for v in cands.values()
                                                                                  for d in v]), qids=list(cands), **kw)


def test_a_score_beyond_float32_is_refused_by_file_and_line(tmp_path):
    # 1e39 is finite as a double but float32('1e39') is inf: the LETOR file would hold '1:inf', refused only when read
    p = tmp_path / "s.tsv"
    p.write_text("q1\td1\t3.4e38\nq1\td2\t1e39\n")
    with pytest.raises(CollectionFormatError, match=r"beyond float32's range") as e:
        read_score_table(p)
    assert e.value.line == 2 and "1e39" in str(e.value)
    with pytest.raises(ValueError, match="fill must be a finite number within float32's range"):
        get_scorer("neural_file")(path=str(p), fill=-1e39)


def test_a_score_file_matching_no_candidate_is_an_error_not_a_constant_column(tmp_path):
    p = tmp_path / "s.tsv"
    p.write_text("001\td1\t1\n001\td2\t2\n")  # the topics say '1'
    with pytest.raises(CollectionFormatError, match=r"none of its 2 scores matches one of the 2 candidates: its query "
                                                    r"ids are the topics' with leading zeros \('001' for '1'\)"):
        get_scorer("neural_file")(path=str(p)).score(pairs(index(), {"1": ["d1", "d2"]}), None)
    # a file of other queries (scores for the training split, dev extracted): filled and said, as before
    p.write_text("2\td1\t1\n")
    assert get_scorer("neural_file")(path=str(p)).score(pairs(index(), {"1": ["d1"]}), None).tolist() == [[0.0, 1.0]]
    # an empty file (a scoring job that died) and scores of these queries whose documents are spelled otherwise:
    # a column of fill values would carry nothing (they exited 0 with a constant column)
    p.write_text("# nothing scored\n")
    with pytest.raises(CollectionFormatError, match=r"s.tsv: none of the 2 candidates has a score: the file has no "
                                                    r"scores \(blank and '#' lines only\); a column of fill values"):
        get_scorer("neural_file")(path=str(p)).score(pairs(index(), {"1": ["d1", "d2"]}), None)
    p.write_text("1\tdoc1\t1\n2\td1\t2\n")
    with pytest.raises(CollectionFormatError, match=r"none of the 2 candidates has a score: 2 of its scores match none "
                                                    r"\(1 name a query not extracted, 1 a document not in the "
                                                    r"collection, .*first: line 1, query '1' document 'doc1'\)"):
        get_scorer("neural_file")(path=str(p)).score(pairs(index(), {"1": ["d1", "d2"]}), None)


def test_a_service_scoring_one_query_neither_warns_of_the_files_other_queries_nor_fails(tmp_path, caplog):
    p = tmp_path / "s.tsv"
    p.write_text("q1\td1\t1\nq2\td1\t2\nq2\td3\t3\nq1\td9\t4\n")
    ix = index()
    scorer = get_scorer("neural_file")(path=str(p))
    with caplog.at_level(logging.WARNING):
        out = scorer.score(pairs(ix, {"q1": ["d1", "d2"]}, some_queries=True), None)
    assert out.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert "1 of 4 scores match no candidate (1 a document not in the collection, 0 a document" in caplog.text
    assert "q2" not in caplog.text  # the file's other queries are expected in a service
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # a query the file lacks: filled and flagged, as documented
        assert scorer.score(pairs(ix, {"q7": ["d1"]}, some_queries=True), None).tolist() == [[0.0, 1.0]]
    assert "match no candidate" not in caplog.text
    with caplog.at_level(logging.WARNING):  # the same pairs in a batch extraction still say so
        scorer.score(pairs(ix, {"q1": ["d1", "d2"]}), None)
    assert "3 of 4 scores match no candidate (2 name a query not extracted" in caplog.text


def test_fields_on_a_scorer_computed_once_per_query_are_refused():
    with pytest.raises(ValueError, match=r"feature 2 \(x\): scorer 'neural_file' is not computed per field, so "
                                         r"'fields' \(\['title'\]\) would change nothing: drop it"):
        FeatureSet(["bm25", {"scorer": "neural_file", "path": __file__, "name": "x", "fields": ["title"]}])
    with pytest.raises(ValueError, match="scorer 'query_length' is not computed per field"):
        FeatureSet([{"scorer": "query_length", "fields": "body"}])
    assert FeatureSet([{"scorer": "query_length", "fields": "*"}, {"scorer": "bm25", "fields": ["body"]}])


def _filled_teacher_data():
    d = make_ranking(n_queries=12, docs_per_query=8, n_features=3, random_state=0)
    X = np.column_stack([d.X, np.zeros(d.X.shape[0])])  # columns: a, b, xenc, xenc_missing
    X[5, 2], X[5, 3] = 0.0, 1.0  # row 5: no teacher score, filled with 0 and flagged
    return d, X, ["a", "b", "xenc", "xenc_missing"]


def test_a_teacher_column_with_filled_rows_is_refused():
    d, X, names = _filled_teacher_data()
    with pytest.raises(ValueError, match=r"the teacher column 'xenc' has no teacher score on 1 of 96 training rows "
                                         r"\(its indicator 'xenc_missing' is set there.*row 5, counting from 0\)"):
        teacher_scores("xenc", X, d.group_ptr, column=2, qid=d.qid, feature_names=names)
    X[5, 3] = 0.0  # every row scored: the indicator is constant, the column is the teacher's
    assert teacher_scores("xenc", X, d.group_ptr, column=2, qid=d.qid, feature_names=names).tolist() == \
        X[:, 2].tolist()


@pytest.mark.parametrize("subset", [[], ["--features", "1,2"], ["--features", "1,2,3"]])
def test_ltr_train_refuses_a_teacher_column_with_filled_rows(tmp_path, capsys, subset):
    d, X, names = _filled_teacher_data()
    data = tmp_path / "hybrid.letor"
    write_letor(data, RankingDataset(X.astype(np.float32), d.y, d.qid, d.group_ptr, feature_names=tuple(names)))
    out = tmp_path / "student.txt"
    rc = main(["train", str(data), *subset, "--objective", "distill", "--kernel", "numba", "--teacher-column", "xenc",
               "--rounds", "3", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and "the teacher column 'xenc' has no teacher score on 1 of 96 training rows" in err
    assert not out.exists()


def test_a_stored_feature_set_whose_score_file_is_not_found_here_says_so_and_names_the_option(tmp_path,
                                                                                            monkeypatch):
    from features.serve import MissingFeatureSetError, Reranker
    from ltr.rankers import Ranker

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "ext.tsv").write_text("q1\td1\t1\n")
    monkeypatch.chdir(tmp_path / "run")  # ltr features ran here, with path = "ext.tsv"
    fs = FeatureSet([{"scorer": "bm25", "fields": ["body"]}, {"scorer": "neural_file", "path": "ext.tsv"}])
    described = fs.to_dict(index())
    d = make_ranking(n_queries=4, docs_per_query=5, n_features=len(described["columns"]), random_state=0)
    model = Ranker(n_estimators=2).fit(d)
    model.feature_set_ = described
    monkeypatch.chdir(tmp_path)  # the service runs elsewhere
    expected = (r"the feature set in the model's sidecar cannot be rebuilt here: feature 2 .*'ext.tsv' \(a relative "
                r"path is read from the working folder\); .*Reranker.load\(\.\.\., features='FS.toml'\)")
    with pytest.raises(MissingFeatureSetError, match=expected) as e:
        Reranker.load(model, index=index())
    assert e.value.command_line.endswith("--features FS.toml")


def test_a_teacher_model_of_every_column_scores_them_all_when_the_student_takes_a_subset(tmp_path, capsys):
    d = make_ranking(n_queries=20, docs_per_query=10, n_features=6, random_state=1)
    data = tmp_path / "train.letor"
    write_letor(data, d)
    teacher, scores = tmp_path / "teacher.txt", tmp_path / "teacher.scores"
    assert main(["train", str(data), "--rounds", "5", "--preset", "none", "--out", str(teacher)]) == 0
    assert main(["predict", str(teacher), str(data), "--out", str(scores)]) == 0
    student = ["train", str(data), "--features", "1,2,3", "--objective", "distill", "--kernel", "numba", "--rounds",
               "5", "--preset", "none", "--seed", "3"]
    by_model, by_scores = tmp_path / "by_model.txt", tmp_path / "by_scores.txt"
    assert main([*student, "--teacher-model", str(teacher), "--out", str(by_model)]) == 0, capsys.readouterr().err
    assert main([*student, "--teacher-scores", str(scores), "--out", str(by_scores)]) == 0
    trees = [p.read_text().split("end of trees")[0].split("Tree=0", 1)[1] for p in (by_model, by_scores)]
    assert trees[0] == trees[1]  # the same targets: the teacher scored on all six columns, as ltr predict does


def test_a_shard_of_queries_the_score_file_lacks_is_filled_not_refused(tmp_path):
    # features.distributed extracts query shards: a shard whose queries the file lacks is no id mismatch
    from features.extraction import extract

    p = tmp_path / "s.tsv"
    p.write_text("01\td1\t5\n")  # '01' is '1' with a leading zero: refused in one extraction of every query
    fs = [{"scorer": "neural_file", "path": str(p), "name": "x"}]
    with pytest.raises(CollectionFormatError, match="none of its 1 scores matches one of the 2 candidates"):
        extract(index(), {"1": "wing"}, {"1": ["d1", "d2"]}, fs)
    d = extract(index(), {"1": "wing"}, {"1": ["d1", "d2"]}, fs, some_queries=True)
    assert d.X.tolist() == [[0.0, 1.0], [0.0, 1.0]]


def _said_once_when_served(tmp_path, caplog, scores: str, said: str) -> None:
    """A neural_file scorer of ``scores`` served q1, q2, q1 (two candidates each, d1 and d2) says ``said`` once, at
    warning level, then at debug level; a batch extraction of both queries says it every time."""
    p = tmp_path / "s.tsv"
    p.write_text(scores)
    ix = index()
    scorer = get_scorer("neural_file")(path=str(p))
    with caplog.at_level(logging.DEBUG, logger="features.scorers.neural.file"):
        for q in ("q1", "q2", "q1"):
            scorer.score(pairs(ix, {q: ["d1", "d2"]}, some_queries=True), None)
    warned = [r for r in caplog.records if said in r.getMessage()]
    assert [r.levelno for r in warned] == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    assert "said for the first query served only" in warned[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        scorer.score(pairs(ix, {"q1": ["d1", "d2"], "q2": ["d1"]}), None)
        scorer.score(pairs(ix, {"q1": ["d1", "d2"], "q2": ["d1"]}), None)
    assert len([r for r in caplog.records if said in r.getMessage()]) == 2


def test_a_service_is_told_of_a_deeper_files_unmatched_scores_once_not_at_every_query(tmp_path, caplog):
    """A score file of a deeper run than the rerank depth has scores no candidate matches at every served query:
    each call warned again (t49's 'left alone'); said for the first query, then logged at debug level. A batch
    extraction still says it every time."""
    _said_once_when_served(tmp_path, caplog, "q1\td1\t1\nq1\td3\t4\nq2\td1\t2\nq2\td3\t3\n",  # d3: never a candidate
                           "match no candidate")


def test_a_service_is_told_of_candidates_without_a_score_once_not_at_every_query(tmp_path, caplog):
    """A score file that does not cover every served candidate logged a warning at every rerank() call (225 for 225
    calls, trial t52); said for the first query, then logged at debug level, as unmatched scores are."""
    _said_once_when_served(tmp_path, caplog, "q1\td1\t1\nq2\td1\t2\n", "have no score")  # d2: never scored
