"""The first stage's rank (``first_stage_rank``, what ``ltr rerank --depth`` cuts) comes from a run's scores in
trec_eval's order (score descending, then docno descending), not from its rank column, which trec_eval ignores and
tools fill in differently (PyTerrier's 0-based ranks, constant or stale ranks); the rank column only breaks ties of
score where it agrees with the scores, so the runs the toolkit writes itself give what they gave before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.extraction import candidates_frame, first_stage_ranks
from ltr.cli import main
from ltr.io import read_letor, read_run

DOCS = "007\tcat sat\n0010\tdog cat\nA-1\tcat cat\nb\tcat sat\na\tcat sat\n"
# One run, its rank column written four ways: consistent (1..n by score), contradicting the scores, PyTerrier's
# 0-based ranks, a constant rank. Scores have no ties, so trec_eval's order is the score order.
LINES = [("0010", 9.0), ("A-1", 7.0), ("007", 5.0), ("b", 3.0), ("a", 1.0)]
RANKS = {"consistent": [1, 2, 3, 4, 5], "contradicting": [5, 1, 4, 2, 3], "pyterrier": [0, 1, 2, 3, 4],
         "constant": [0, 0, 0, 0, 0]}


def trec_eval_order(rows):
    """(docno, score) rows in trec_eval's order, from its definition: score descending, then docno descending
    (strcmp; ASCII here)."""
    return sorted(rows, key=lambda r: (r[1], r[0]), reverse=True)


def ok(argv, capsys):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 0, err
    return err


@pytest.fixture
def files(tmp_path):
    (tmp_path / "docs.tsv").write_text(DOCS)
    (tmp_path / "q.tsv").write_text("01\tcat\n")
    order = [3, 0, 4, 1, 2]  # the lines in another order than the scores': the file order must not matter either
    for name, ranks in RANKS.items():
        (tmp_path / name).write_text("".join(f"01 Q0 {LINES[i][0]} {ranks[i]} {LINES[i][1]} r\n" for i in order))
    return tmp_path


def features(files, run, capsys, *extra):
    out = files / f"{run}.letor"
    ok(["features", "--collection", files / "docs.tsv", "--queries", files / "q.tsv", "--run", files / run,
        "--keep-unjudged", "--out", out, "--quiet", *extra], capsys)
    return out


def test_first_stage_ranks_are_trec_eval_order_whatever_the_rank_column(files, capsys):
    want = [d for d, _ in trec_eval_order(LINES)]
    letor = {name: features(files, name, capsys) for name in RANKS}
    data = read_letor(letor["consistent"])
    assert data.doc_ids.tolist() == want
    assert data.X[:, data.feature_names.index("first_stage_rank")].tolist() == [1, 2, 3, 4, 5]
    assert data.X[:, data.feature_names.index("first_stage_score")].tolist() == [s for _, s in trec_eval_order(LINES)]
    for name in ("contradicting", "pyterrier", "constant"):  # the same features, byte for byte
        assert letor[name].read_bytes() == letor["consistent"].read_bytes(), name


def test_ties_of_score_go_docno_descending_unless_the_rank_column_agrees_with_the_scores():
    rng = np.random.default_rng(7)
    n = 60
    qid = rng.choice(["1", "2", "10"], n)
    docno = np.array([f"d{i:02d}" for i in rng.permutation(n)])
    score = rng.integers(0, 4, n).astype(float)  # many ties
    for rank in (np.zeros(n), rng.permutation(n)):  # constant; random (disagrees with the scores)
        got = first_stage_ranks(qid, docno, score, rank)
        for q in np.unique(qid):
            rows = [(d, s) for d, s, qq in zip(docno, score, qid) if qq == q]
            want = {d: i + 1 for i, (d, _) in enumerate(trec_eval_order(rows))}
            assert [got[i] for i in np.flatnonzero(qid == q)] == [want[d] for d in docno[qid == q]]
    # a rank column that agrees with the scores (as every run the toolkit writes) keeps its order of ties
    frame = pd.DataFrame({"qid": ["1"] * 4, "docno": ["a", "b", "c", "z"], "rank": [1, 2, 3, 4],
                          "score": [2.0, 2.0, 2.0, 1.0]})
    assert candidates_frame(frame)["rank"].tolist() == [1, 2, 3, 4]
    assert candidates_frame(frame.assign(rank=[0, 1, 2, 3]))["rank"].tolist() == [1, 2, 3, 4]  # renumbered 1..n
    assert candidates_frame(frame.assign(rank=[2, 1, 3, 4]))["rank"].tolist() == [2, 1, 3, 4]
    # one that does not (z, the lowest score, ranked first) is not used at all: ties docno descending
    assert candidates_frame(frame.assign(rank=[2, 3, 4, 1]))["rank"].tolist() == [3, 2, 1, 4]


def test_the_toolkits_own_run_read_back_gives_the_same_letor_file(tmp_path, capsys):
    """BM25 ties (the three 'cat sat' documents) are ranked in collection order (007, b, a), not docno descending:
    the saved run, read back, keeps that order and the LETOR file is byte-identical, with the run's own ranks."""
    (tmp_path / "docs.tsv").write_text(DOCS)
    (tmp_path / "q.tsv").write_text("1\tcat sat\n2\tcat\n")
    base = ["features", "--collection", tmp_path / "docs.tsv", "--queries", tmp_path / "q.tsv", "--keep-unjudged",
            "--quiet", "--index", tmp_path / "ix.npz"]
    ok([*base, "--topk", 5, "--out", tmp_path / "topk.letor", "--save-run", tmp_path / "bm25.run"], capsys)
    ok([*base, "--run", tmp_path / "bm25.run", "--out", tmp_path / "run.letor"], capsys)
    assert (tmp_path / "run.letor").read_bytes() == (tmp_path / "topk.letor").read_bytes()
    run = read_run(tmp_path / "bm25.run")
    tied = run[(run["qid"] == "1") & (run["score"] == run["score"].iloc[0])]["docno"].tolist()
    assert tied == ["007", "b", "a"]  # collection order: not trec_eval's (b, a, 007), kept as the run ranks them
    data = read_letor(tmp_path / "topk.letor")
    assert data.doc_ids.tolist() == run["docno"].tolist()
    assert data.X[:, data.feature_names.index("first_stage_rank")].tolist() == run["rank"].tolist()
