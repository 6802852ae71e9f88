"""``ltr rerank``: the reranked run is, byte for byte, what ``ltr features --run`` + ``ltr predict --run`` write; run
lines naming unknown documents or queries and queries left without candidates are reported, never dropped silently;
a model is refused with other features than its own, or without a feature set unless one is given."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest

from features.serve import Reranker
from ltr.cli import main
from ltr.io import read_letor, read_run, write_letor

DOCS = {
    "d1": "flutter of a swept wing at supersonic speed",
    "d2": "heat transfer in slabs and plates",
    "d3": "wing flutter and wing divergence",
    "d4": "boundary layer heat transfer on a flat plate",
    "d5": "supersonic flow over a wing and the shock",
    "d6": "slabs of concrete under heat",
    "d7": "divergence of a swept wing in flutter tests",
    "d8": "plates and shells under supersonic flow",
}
QUERIES = {"Q-A": "wing flutter", "Q-B": "heat transfer plates", "Q-C": "supersonic wing"}
QRELS = "Q-A 0 d3 2\nQ-A 0 d7 1\nQ-A 0 d2 0\nQ-B 0 d2 1\nQ-B 0 d4 2\nQ-C 0 d5 2\nQ-C 0 d1 1\n"
TRAIN = ["--rounds", "10", "--leaves", "3", "--min-child-samples", "1", "--preset", "none", "--quiet",
         "--format", "json"]


def ok(argv, capsys=None) -> str:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err if capsys is not None else ""
    assert code == 0, err
    return err


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A TSV collection with string query ids, its features, a model and ``ltr predict``'s run."""
    f = tmp_path_factory.mktemp("cli_rerank")
    (f / "docs.tsv").write_text("".join(f"{k}\t{v}\n" for k, v in DOCS.items()))
    (f / "q.tsv").write_text("".join(f"{k}\t{v}\n" for k, v in QUERIES.items()))
    (f / "qrels").write_text(QRELS)
    ok(["features", "--collection", f / "docs.tsv", "--queries", f / "q.tsv", "--qrels", f / "qrels", "--topk", 6,
        "--out", f / "train.letor", "--save-run", f / "bm25.run", "--index", f / "ix.npz", "--quiet"])
    ok(["train", f / "train.letor", "--out", f / "model.txt", *TRAIN])
    ok(["predict", f / "model.txt", f / "train.letor", "--run", "--out", f / "predict.run", "--quiet"])
    return f


def rerank(made, *extra):
    return ["rerank", "--model", made / "model.txt", "--collection", made / "docs.tsv", "--queries", made / "q.tsv",
            *extra]


def test_the_reranked_run_is_what_features_then_predict_write(made, capsys):
    err = ok(rerank(made, "--run", made / "bm25.run", "--index", made / "ix.npz", "--out", made / "new.run"),
             capsys)
    data = read_letor(made / "train.letor")
    assert f"3 queries, {data.n_rows} documents reranked by {data.n_features} features" in err
    assert (made / "new.run").read_bytes() == (made / "predict.run").read_bytes()
    # without a saved index: built from the collection with the model's analysis, the same run
    ok(rerank(made, "--run", made / "bm25.run", "--out", made / "new2.run"), capsys)
    assert (made / "new2.run").read_bytes() == (made / "predict.run").read_bytes()


def test_depth_reranks_the_first_k_candidates_by_rank(made, capsys, tmp_path):
    ok(rerank(made, "--run", made / "bm25.run", "--depth", 2, "--out", tmp_path / "top2.run"), capsys)
    got = read_run(tmp_path / "top2.run")
    first = read_run(made / "bm25.run")
    reranker = Reranker.load(made / "model.txt", index=made / "ix.npz")
    assert list(dict.fromkeys(got["qid"])) == list(QUERIES)
    for q, g in got.groupby("qid", sort=False):
        top = first[first["qid"] == q].sort_values("rank").head(2)
        want = reranker.rerank(QUERIES[q], top["docno"].tolist(), scores=top["score"].to_numpy())
        assert g["docno"].tolist() == list(want.doc_ids) and np.array_equal(g["score"].to_numpy(), want.scores)
        assert g["rank"].tolist() == [1, 2]


def test_depth_and_first_stage_rank_follow_the_scores_not_the_rank_column(made, capsys, tmp_path):
    """trec_eval ignores a run's rank column: PyTerrier writes 0-based ranks, other tools constant or stale ones.
    The same scores with such ranks rerank as with consistent ones (the same --depth cut, the same first_stage_rank
    feature, so the same new run)."""
    first = read_run(made / "bm25.run")
    # trec_eval's order, from its definition: score descending, then docno descending
    first = first.sort_values(["score", "docno"], ascending=False).sort_values("qid", kind="stable")
    first["rank"] = first.groupby("qid").cumcount() + 1
    n = first.groupby("qid")["rank"].transform("size")
    variants = {"consistent": first["rank"], "pyterrier": first["rank"] - 1, "reversed": n + 1 - first["rank"],
                "constant": 0 * first["rank"]}
    outs = {}
    for name, rank in variants.items():
        run = tmp_path / f"{name}.run"
        shuffled = first.assign(rank=rank).sample(frac=1.0, random_state=3)  # file order does not matter either
        run.write_text("".join(f"{q} Q0 {d} {r} {s!r} x\n" for q, d, r, s in
                               zip(shuffled["qid"], shuffled["docno"], shuffled["rank"], shuffled["score"])))
        outs[name] = tmp_path / f"{name}.out"
        ok(rerank(made, "--run", run, "--depth", 2, "--out", outs[name]), capsys)
    for name in ("pyterrier", "reversed", "constant"):
        assert outs[name].read_bytes() == outs["consistent"].read_bytes(), name
    got = read_run(outs["consistent"])
    reranker = Reranker.load(made / "model.txt", index=made / "ix.npz")
    for q, g in got.groupby("qid", sort=False):
        top = first[first["qid"] == q].head(2)  # the two best scores
        assert set(g["docno"]) == set(top["docno"])
        want = reranker.rerank(QUERIES[q], top["docno"].tolist(), scores=top["score"].to_numpy())
        assert g["docno"].tolist() == list(want.doc_ids) and np.array_equal(g["score"].to_numpy(), want.scores)


def test_unknown_documents_and_queries_are_reported_and_dropped_or_stop(made, capsys, tmp_path):
    run = tmp_path / "bad.run"
    text = (made / "bm25.run").read_text()
    # Q-B's candidates all unknown: it is left with none; a query the query file lacks; an unknown document of Q-A
    lines = [ln for ln in text.splitlines() if not ln.startswith("Q-B ")]
    lines += ["Q-B Q0 ghost1 1 9.0 x", "Q-B Q0 ghost2 2 8.0 x", "Q-Z Q0 d1 1 5.0 x", "Q-A Q0 ghost3 99 0.5 x"]
    run.write_text("\n".join(lines) + "\n")
    err = ok(rerank(made, "--run", run, "--out", tmp_path / "out.run", "--quiet"), capsys)
    assert "1 run line(s) name 1 query id(s) the queries lack (first: Q-Z): dropped" in err
    # named in the order the candidates are taken: by query, then by the run's rank
    assert "3 run line(s) name 3 document(s) the collection lacks (first: ghost3, ghost1, ghost2): dropped" in err
    assert "1 query(ies) have no candidate left (first: Q-B): no rows for them" in err
    got = read_run(tmp_path / "out.run")
    want = read_run(made / "predict.run")
    assert set(got["qid"]) == {"Q-A", "Q-C"}
    kept = want[want["qid"].isin(["Q-A", "Q-C"])].reset_index(drop=True)
    assert got[["qid", "docno", "rank"]].equals(kept[["qid", "docno", "rank"]])
    assert np.array_equal(got["score"].to_numpy(), kept["score"].to_numpy())
    assert main([str(a) for a in rerank(made, "--run", run, "--out", tmp_path / "o2.run", "--on-unknown",
                                        "error")]) == 1
    # named by the run file's line and token, as a bad run line is everywhere (it said "run: ..." and no line)
    n = len(lines) - 1  # Q-Z's line
    assert capsys.readouterr().err == (f"ltr rerank: error: {run}:{n}: 1 line(s) name 1 query id(s) the queries lack "
                                       "(first: Q-Z) (token 'Q-Z')\n")
    assert not (tmp_path / "o2.run").exists()
    run.write_text("\n".join(lines[:n - 1] + lines[n:]) + "\n")  # without Q-Z: the unknown documents stop it
    assert main([str(a) for a in rerank(made, "--run", run, "--out", tmp_path / "o2.run", "--on-unknown",
                                        "error")]) == 1
    assert capsys.readouterr().err == (f"ltr rerank: error: {run}:{n}: 3 line(s) name 3 document(s) the collection "
                                       "lacks (first: ghost3, ghost1, ghost2) (token 'ghost3')\n")


def test_a_run_with_nothing_left_to_rerank_is_an_error_and_the_output_is_kept(made, capsys, tmp_path):
    out = tmp_path / "out.run"
    out.write_text("old\n")
    other = tmp_path / "other.run"
    other.write_text("Q-Z Q0 d1 1 5.0 x\nQ-Y Q0 d2 1 4.0 x\n")  # queries the query file lacks
    empty = tmp_path / "empty.run"
    empty.write_text("")
    for run, cause in [(other, "2 run line(s) name 2 query id(s) the queries lack (first: Q-Z, Q-Y): dropped"),
                       (empty, "it holds no candidate")]:
        assert main([str(a) for a in rerank(made, "--run", run, "--out", out)]) == 1
        err = capsys.readouterr().err
        assert err == f"ltr rerank: error: nothing left to rerank in {run}: {cause}\n"
        assert out.read_text() == "old\n"


def test_a_model_without_a_feature_set_needs_features(made, capsys, tmp_path):
    data = read_letor(made / "train.letor")
    write_letor(tmp_path / "bare.letor", replace(data, feature_set=None))
    ok(["train", tmp_path / "bare.letor", "--out", tmp_path / "bare.txt", *TRAIN])
    argv = ["rerank", "--model", tmp_path / "bare.txt", "--collection", made / "docs.tsv", "--queries",
            made / "q.tsv", "--run", made / "bm25.run", "--out", tmp_path / "o.run"]
    assert main([str(a) for a in argv]) == 1
    err = capsys.readouterr().err
    assert "not trained on `ltr features` output" in err and "--features FS.toml" in err and err.count("\n") == 1
    assert "has no feature set in its sidecar" in err
    assert "Reranker.load" not in err  # worded for the command line
    ok([*argv, "--features", "default"], capsys)
    assert (tmp_path / "o.run").read_bytes() == (made / "predict.run").read_bytes()
    # the model's text alone is a plain LightGBM model: it has no sidecar at all (trial t48/serve)
    (tmp_path / "plain.txt").write_text((tmp_path / "bare.txt").read_text())
    argv[2] = tmp_path / "plain.txt"
    assert main([str(a) for a in argv]) == 1
    assert "plain.txt has no ltrkit sidecar, so no feature set: it was not trained" in capsys.readouterr().err


def test_an_index_with_another_analyzer_is_refused(made, capsys, tmp_path):
    ok(["features", "--collection", made / "docs.tsv", "--queries", made / "q.tsv", "--topk", 3, "--analyzer",
        "terrier", "--out", tmp_path / "t.letor", "--index", tmp_path / "terrier.npz", "--quiet"])
    capsys.readouterr()
    code = main([str(a) for a in rerank(made, "--run", made / "bm25.run", "--index", tmp_path / "terrier.npz",
                                        "--out", tmp_path / "o.run")])
    err = capsys.readouterr().err
    assert code == 1 and "trained on features computed otherwise" in err and "analyzer stopwords" in err
    assert "Traceback" not in err


def test_usage_errors(made, capsys, tmp_path):
    out = ["--run", made / "bm25.run", "--out", tmp_path / "o.run"]
    assert main([str(a) for a in rerank(made, *out, "--depth", 0)]) == 2
    assert "--depth must be >= 1" in capsys.readouterr().err
    argv = ["rerank", "--model", made / "model.txt", "--collection", made / "docs.tsv", *out]
    assert main([str(a) for a in argv]) == 2
    assert "--queries is required" in capsys.readouterr().err


def test_smart_queries_numbered_otherwise_than_the_run_get_a_hint(made, capsys, tmp_path):
    """A SMART file whose .I ids skip numbers (Cranfield's: 1, 2, 4, 8, ...) against a run that numbers its queries by
    position: the dropped queries come with the option that reads them that way, which then reranks them all."""
    (tmp_path / "q.smart").write_text(".I 001\n.W\nwing flutter\n.I 004\n.W\nheat transfer plates\n")
    (tmp_path / "pos.run").write_text("1 Q0 d3 1 2.0 x\n1 Q0 d1 2 1.0 x\n2 Q0 d2 1 2.0 x\n2 Q0 d4 2 1.0 x\n")
    argv = ["rerank", "--model", made / "model.txt", "--collection", made / "docs.tsv", "--queries",
            tmp_path / "q.smart", "--run", tmp_path / "pos.run", "--out", tmp_path / "o.run"]
    err = ok(argv, capsys)
    assert "name 1 query id(s) the queries lack (first: 2)" in err and "pass --query-ids position" in err
    err = ok(argv + ["--query-ids", "position"], capsys)
    assert "lack" not in err and "--query-ids position" not in err
    assert set(read_run(tmp_path / "o.run")["qid"]) == {"1", "2"}


@pytest.mark.parametrize("tag", ["a b", "", "tab\there"])
def test_a_tag_a_trec_run_cannot_hold_is_refused_before_any_work(tag, capsys, tmp_path):
    """Checked when the arguments are read (the inputs named here do not exist), naming --tag and the value."""
    missing = tmp_path / "missing"
    for argv in (["rerank", "--model", missing, "--collection", missing, "--run", missing, "--out", tmp_path / "o"],
                 ["fuse", missing, missing, "--out", tmp_path / "o"],
                 ["predict", missing, missing, "--run", "--out", tmp_path / "o"]):
        assert main([str(a) for a in argv] + ["--tag", tag]) == 2
        err = capsys.readouterr().err
        assert f"argument --tag: {tag!r}: a run tag is one word" in err and "Traceback" not in err
        assert not (tmp_path / "o").exists()


def test_queries_are_made_of_the_topic_fields_the_model_was_trained_on(tmp_path, capsys):
    """A model trained on TREC topics made of title and desc reranks with such queries, without being told again;
    other fields are refused (the same topics made of other fields are other queries)."""
    (tmp_path / "docs.tsv").write_text("".join(f"{k}\t{v}\n" for k, v in DOCS.items()))
    (tmp_path / "topics").write_text("".join(
        f"<top>\n<num> Number: {i}\n<title> {text.split()[0]}\n<desc> Description:\n{text}\n</top>\n"
        for i, text in enumerate(QUERIES.values(), 1)))
    (tmp_path / "qrels").write_text("".join(f"{'ABC'.index(q[-1]) + 1} 0 {d} {r}\n" for q, _, d, r in
                                            (line.split() for line in QRELS.splitlines())))
    src = ["--collection", tmp_path / "docs.tsv", "--queries", tmp_path / "topics"]
    ok(["features", *src, "--qrels", tmp_path / "qrels", "--topk", 6, "--topic-fields", "title,desc", "--out",
        tmp_path / "td.letor", "--save-run", tmp_path / "bm25.run", "--quiet"])
    ok(["train", tmp_path / "td.letor", "--out", tmp_path / "m.txt", *TRAIN])
    ok(["predict", tmp_path / "m.txt", tmp_path / "td.letor", "--run", "--out", tmp_path / "predict.run", "--quiet"])
    err = ok(["rerank", "--model", tmp_path / "m.txt", *src, "--run", tmp_path / "bm25.run", "--out",
              tmp_path / "new.run"], capsys)
    assert "queries made of the topic fields title,desc, as the model's training queries" in err
    assert (tmp_path / "new.run").read_bytes() == (tmp_path / "predict.run").read_bytes()
    ok(["rerank", "--model", tmp_path / "m.txt", *src, "--run", tmp_path / "bm25.run", "--topic-fields",
        "title,desc", "--out", tmp_path / "new2.run"], capsys)
    assert (tmp_path / "new2.run").read_bytes() == (tmp_path / "predict.run").read_bytes()
    assert main([str(a) for a in ["rerank", "--model", tmp_path / "m.txt", *src, "--run", tmp_path / "bm25.run",
                                  "--topic-fields", "title", "--out", tmp_path / "new3.run"]]) == 2
    assert ("--topic-fields title: the model was trained on queries made of the topic fields title,desc; leave "
            "--topic-fields out to use those") in capsys.readouterr().err
    assert not (tmp_path / "new3.run").exists()
    # ltr predict: a file of the same topics made of the titles alone is refused, its header naming the fields
    ok(["features", *src, "--run", tmp_path / "bm25.run", "--out", tmp_path / "t.letor", "--quiet"])
    assert main([str(a) for a in ["predict", tmp_path / "m.txt", tmp_path / "t.letor", "--out",
                                  tmp_path / "t.pred"]]) == 1
    err = capsys.readouterr().err
    assert ("the queries were made of the topic fields title,desc for the model, title for "
            f"{tmp_path / 't.letor'} (ltr features --topic-fields)") in err and "Traceback" not in err
    assert not (tmp_path / "t.pred").exists()


def test_a_distilled_student_does_not_compute_its_teachers_feature(tmp_path, capsys):
    """A student distilled from a feature column (a neural score, usually) blanks that column: reranking must not
    compute it (a bi-encoder ran on every candidate), and the scores stay those of ltr predict on the features."""
    (tmp_path / "docs.tsv").write_text("".join(f"{k}\t{v}\n" for k, v in DOCS.items()))
    (tmp_path / "q.tsv").write_text("".join(f"{k}\t{v}\n" for k, v in QUERIES.items()))
    (tmp_path / "qrels").write_text(QRELS)
    (tmp_path / "fs.toml").write_text('[[features]]\nscorer = "bm25"\nfields = ["all"]\n[[features]]\n'
                                      'scorer = "lm_dirichlet"\nfields = ["body", "all"]\n[[features]]\n'
                                      'scorer = "doc_length"\nfields = ["all"]\n')
    src = ["--collection", tmp_path / "docs.tsv", "--queries", tmp_path / "q.tsv"]
    ok(["features", *src, "--qrels", tmp_path / "qrels", "--features", tmp_path / "fs.toml", "--topk", 6,
        "--out", tmp_path / "f.letor", "--save-run", tmp_path / "bm25.run", "--quiet"])
    ok(["train", tmp_path / "f.letor", "--objective", "distill", "--kernel", "numba", "--teacher-column",
        "lm_dirichlet:all", "--out", tmp_path / "s.txt", *TRAIN])
    ok(["predict", tmp_path / "s.txt", tmp_path / "f.letor", "--run", "--out", tmp_path / "predict.run", "--quiet"])
    reranker = Reranker.load(tmp_path / "s.txt", collection=tmp_path / "docs.tsv", warm=False)
    served = [n for _, _, cols in reranker._served.columns(reranker.index) for n in cols]
    assert served == ["bm25:all", "lm_dirichlet:body", "doc_length:all"]  # the teacher's column is not computed
    err = ok(["rerank", "--model", tmp_path / "s.txt", *src, "--run", tmp_path / "bm25.run", "--out",
              tmp_path / "new.run"], capsys)
    assert (tmp_path / "new.run").read_bytes() == (tmp_path / "predict.run").read_bytes()
    # said so: "reranked by 4 features" counted the teacher's, which was never computed (trial t69)
    assert "documents reranked by 4 features; 1 of them not computed, which the model never reads " \
           "(lm_dirichlet:all)\n" in err


@pytest.mark.parametrize("subset", [["--features", "bm25:body,first_stage_score,tf_max:body,coverage:body"],
                                    ["--drop-features", "first_stage_rank,query_length,bm25tp:body"]])
def test_a_model_of_some_columns_reranks_as_predict_scores_them_from_the_features_file(made, capsys, tmp_path,
                                                                                         subset):
    # ltr train --features keeps the whole file's feature set and the ids of its columns: the reranker computes
    # the whole set, as ltr features does, and scores those columns, as ltr predict picks them from the file
    ok(["train", made / "train.letor", *subset, "--out", tmp_path / "sub.txt", *TRAIN])
    ok(["predict", tmp_path / "sub.txt", made / "train.letor", "--run", "--out", tmp_path / "predict.run",
        "--quiet"])
    capsys.readouterr()
    err = ok(["rerank", "--model", tmp_path / "sub.txt", "--collection", made / "docs.tsv", "--queries",
              made / "q.tsv", "--run", made / "bm25.run", "--out", tmp_path / "new.run"], capsys)
    n = read_letor(made / "train.letor").n_features
    assert f"reranked by {n} features (the model reads" in err
    assert (tmp_path / "new.run").read_bytes() == (tmp_path / "predict.run").read_bytes()


def test_run_query_ids_with_leading_zeros_are_matched_as_ltr_features_matches_them(made, capsys, tmp_path):
    """A TREC-1/2 run writes 051 where the topics read 51: ltr features --run matched them, ltr rerank said every
    line named a query the queries lack."""
    numbered = {str(i + 1): text for i, text in enumerate(QUERIES.values())}
    (tmp_path / "q.tsv").write_text("".join(f"{k}\t{v}\n" for k, v in numbered.items()))
    first = read_run(made / "bm25.run")
    names = {q: str(i + 1) for i, q in enumerate(QUERIES)}
    lines = [f"{int(names[q]):03d} Q0 {d} {r} {s!r} bm25\n" for q, d, r, s in
             zip(first["qid"], first["docno"], first["rank"], first["score"])]
    (tmp_path / "padded.run").write_text("".join(lines))
    (tmp_path / "plain.run").write_text("".join(line.lstrip("0") for line in lines))
    base = ["rerank", "--model", made / "model.txt", "--collection", made / "docs.tsv", "--queries",
            tmp_path / "q.tsv"]
    err = ok([*base, "--run", tmp_path / "padded.run", "--out", tmp_path / "padded.out"], capsys)
    assert "3 query id(s) of --run" in err and "'001' -> '1'" in err and "keeps the run's ids" in err
    ok([*base, "--run", tmp_path / "plain.run", "--out", tmp_path / "plain.out"], capsys)
    padded, plain = read_run(tmp_path / "padded.out"), read_run(tmp_path / "plain.out")
    assert set(padded["qid"]) == {"001", "002", "003"}
    assert sorted(zip(padded["qid"].map(lambda q: str(int(q))), padded["docno"], padded["score"])) == \
        sorted(zip(plain["qid"], plain["docno"], plain["score"]))


def test_a_run_with_padded_query_ids_is_written_in_the_topics_order_every_time(made, capsys, tmp_path):
    """The padded ids' aliases followed a set's order, which Python's string hashing changes from one process to the
    next: the reranked run's queries came out in another order on every call (trial t67)."""
    order = [7, 3, 9, 1, 5, 10, 2, 8, 4, 6]  # the topics' order: neither sorted nor the run's
    texts = ["wing flutter", "heat transfer plates", "supersonic wing", "swept wing", "concrete slabs"]
    (tmp_path / "q.tsv").write_text("".join(f"{q}\t{texts[q % len(texts)]}\n" for q in order))
    lines = [f"{q:03d} Q0 d{d} {r} {9.0 - r} bm25\n" for q in range(1, 11) for r, d in enumerate((1, 3, 5, 2), 1)]
    (tmp_path / "padded.run").write_text("".join(lines))
    ok(["rerank", "--model", made / "model.txt", "--collection", made / "docs.tsv", "--queries", tmp_path / "q.tsv",
        "--run", tmp_path / "padded.run", "--out", tmp_path / "padded.out"], capsys)
    written = read_run(tmp_path / "padded.out")["qid"].tolist()
    assert list(dict.fromkeys(written)) == [f"{q:03d}" for q in order]


def test_the_topics_ltr_features_wrote_rerank_as_the_topics_they_were_built_from(made, capsys, tmp_path):
    """A model trained on queries of the topics' <desc>: the file --topics-out wrote (each query as built, in
    <title>) was refused for its lack of <desc>, and --topic-fields title for contradicting the model (trial t67)."""
    topics = "".join(f"<top>\n<num> Number: {i}\n<title> {q.split()[0]}\n<desc> Description:\n{q}\n</top>\n"
                     for i, q in enumerate(QUERIES.values(), 1))
    (tmp_path / "t.trec").write_text(topics)
    (tmp_path / "qrels").write_text("1 0 d3 2\n1 0 d7 1\n2 0 d4 2\n2 0 d2 1\n3 0 d5 2\n3 0 d1 1\n")
    ok(["features", "--collection", made / "docs.tsv", "--queries", tmp_path / "t.trec", "--topic-fields", "desc",
        "--qrels", tmp_path / "qrels", "--topk", 6, "--out", tmp_path / "d.letor", "--save-run", tmp_path / "d.run",
        "--topics-out", tmp_path / "built.trec", "--quiet"])
    assert "<desc>" not in (tmp_path / "built.trec").read_text()
    ok(["train", tmp_path / "d.letor", "--out", tmp_path / "m.txt", *TRAIN])
    base = ["rerank", "--model", tmp_path / "m.txt", "--collection", made / "docs.tsv", "--run", tmp_path / "d.run"]
    ok([*base, "--queries", tmp_path / "t.trec", "--out", tmp_path / "from-topics.run"], capsys)
    (tmp_path / "built.tsv").write_text("".join(f"{i}\t{q}\n" for i, q in enumerate(QUERIES.values(), 1)))
    for built in ("built.trec", "built.tsv"):
        err = ok([*base, "--queries", tmp_path / built, "--out", tmp_path / "from-built.run", "--quiet"], capsys)
        assert f"{built} has no topic field desc, which the model's training queries were made of" in err
        assert (tmp_path / "from-built.run").read_bytes() == (tmp_path / "from-topics.run").read_bytes()
    (tmp_path / "other.trec").write_text(topics.replace("<desc> Description:\n", "<narr> Narrative:\n", 1))
    main([str(a) for a in [*base, "--queries", tmp_path / "other.trec", "--out", tmp_path / "x.run"]])
    assert "no topic field desc" not in capsys.readouterr().err  # topics with some <desc>: read as asked


def test_a_run_on_another_scale_than_the_models_first_stage_is_said(made, capsys, tmp_path):
    """A new user reranked a run of cosine scores (about 0.6) with a model trained on BM25 scores (20-45) that reads
    first_stage_score: nothing was said. The same first stage at another depth is no alarm (a review found the
    first version, over every candidate's score, said it of BM25's own top 1000 for a model trained on its top 100)."""
    from ltr import load_model

    model = load_model(made / "model.txt")
    spread = model.feature_set_["first_stage_top_scores"]
    first = read_run(made / "bm25.run")
    top = first.groupby("qid")["score"].max()
    assert (spread["min"], spread["median"], spread["max"]) == (top.min(), np.median(top), top.max())
    err = ok(rerank(made, "--run", made / "bm25.run", "--out", tmp_path / "same.run"), capsys)
    assert "first-stage score" not in err
    shallow = first[first["rank"] <= 2]  # the same first stage, cut at another depth
    (tmp_path / "top2.run").write_text("".join(f"{q} Q0 {d} {r} {s!r} bm25\n" for q, d, r, s in zip(
        shallow["qid"], shallow["docno"], shallow["rank"], shallow["score"])))
    err = ok(rerank(made, "--run", tmp_path / "top2.run", "--out", tmp_path / "top2.out"), capsys)
    assert "first-stage score" not in err
    scaled = first.assign(score=first["score"] / 1000.0 + 0.5)  # another system's scale, the same order
    (tmp_path / "cosine.run").write_text("".join(f"{q} Q0 {d} {r} {s!r} dense\n" for q, d, r, s in
                                                 zip(scaled["qid"], scaled["docno"], scaled["rank"], scaled["score"])))
    err = ok(rerank(made, "--run", tmp_path / "cosine.run", "--out", tmp_path / "cosine.out"), capsys)
    assert "the top first-stage score of 100% of the run's queries lies outside the range of the training" in err
    assert "reads first_stage_score" in err


def test_rerank_many_says_a_first_stage_on_another_scale_as_ltr_rerank_does(made, caplog):
    """rerank_many took cosine-scale scores for a model trained on BM25's without a word, where ltr rerank of the
    same run warns (trial t68); rerank() of one query cannot tell a query of its own from another scale."""
    from features.index import InvertedIndex

    reranker = Reranker.load(made / "model.txt", index=InvertedIndex.load(made / "ix.npz"))
    first = read_run(made / "bm25.run")
    lists = {q: (QUERIES[q], g["docno"].tolist(), g["score"].to_numpy()) for q, g in first.groupby("qid", sort=False)}
    with caplog.at_level(logging.WARNING, logger="features.serve"):
        same = reranker.rerank_many(lists)
    assert "first-stage score" not in caplog.text
    scaled = {q: (t, d, s / 1000.0 + 0.5) for q, (t, d, s) in lists.items()}
    with caplog.at_level(logging.WARNING, logger="features.serve"):
        other = reranker.rerank_many(scaled)
        reranker.rerank(*scaled["Q-A"][:2], scores=scaled["Q-A"][2])
    said = [r.getMessage() for r in caplog.records if "first-stage score" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("the top first-stage score of 100% of the queries given lies outside "
                                                 "the range of the training queries' (")
    assert "the given queries' median 0.5" in said[0] and "reads first_stage_score" in said[0]
    assert set(other) == set(same)


def test_a_saved_index_beside_the_collection_is_read_not_refused_as_an_output(made, capsys, tmp_path):
    folder = tmp_path / "coll"
    folder.mkdir()
    (folder / "docs.tsv").write_text((made / "docs.tsv").read_text())
    base = ["rerank", "--model", made / "model.txt", "--collection", folder, "--queries", made / "q.tsv", "--run",
            made / "bm25.run", "--index", folder / "ix.npz"]
    ok([*base, "--out", tmp_path / "a.run"], capsys)  # builds the index there
    ok([*base, "--out", tmp_path / "b.run"], capsys)  # then reads it
    assert (tmp_path / "b.run").read_text() == (tmp_path / "a.run").read_text()
    assert main([str(a) for a in [*base, "--out", folder / "ix.npz"]]) == 2
    assert "ix.npz: is also an input of this command" in capsys.readouterr().err


def test_a_description_given_as_the_feature_set_builds_the_index_its_features_were_computed_on(made, capsys,
                                                                                                tmp_path, caplog):
    """A model without a feature set, given the description `ltr features` wrote (analysis not the default): the
    index is built with that analysis, and the run equals the one the model with its own description gives; a saved
    index made otherwise is refused. A set that records no analysis gets the default one, with a warning."""
    import json

    ok(["features", "--collection", made / "docs.tsv", "--queries", made / "q.tsv", "--qrels", made / "qrels",
        "--topk", 6, "--analyzer", "terrier", "--out", tmp_path / "t.letor", "--quiet"])
    data = read_letor(tmp_path / "t.letor")
    (tmp_path / "fs.json").write_text(json.dumps(data.feature_set))
    write_letor(tmp_path / "bare.letor", replace(data, feature_set=None))
    ok(["train", tmp_path / "t.letor", "--out", tmp_path / "full.txt", *TRAIN])
    ok(["train", tmp_path / "bare.letor", "--out", tmp_path / "bare.txt", *TRAIN])
    base = ["rerank", "--collection", made / "docs.tsv", "--queries", made / "q.tsv", "--run", made / "bm25.run"]
    ok([*base, "--model", tmp_path / "full.txt", "--out", tmp_path / "full.run"], capsys)
    err = ok([*base, "--model", tmp_path / "bare.txt", "--features", tmp_path / "fs.json", "--out",
              tmp_path / "bare.run"], capsys)
    assert "default analysis" not in caplog.text
    assert (tmp_path / "bare.run").read_bytes() == (tmp_path / "full.run").read_bytes()
    # the default analysis's index (made / "ix.npz") is not the one these features were computed on
    code = main([str(a) for a in [*base, "--model", tmp_path / "bare.txt", "--features", tmp_path / "fs.json",
                                  "--index", made / "ix.npz", "--out", tmp_path / "o.run"]])
    err = capsys.readouterr().err
    assert code == 1 and f"(its features as {tmp_path / 'fs.json'}) was trained on features computed otherwise" in err
    assert "analyzer stopwords: the 'terrier' list" in err
    # a feature set without a description: the default analysis, said
    ok([*base, "--model", tmp_path / "bare.txt", "--features", "default", "--out", tmp_path / "d.run"], capsys)
    assert "the index is built with the default analysis: neither the model nor the feature set" in caplog.text


def test_a_first_stage_score_float32_cannot_hold_is_refused_by_features_and_rerank(made, capsys, tmp_path):
    """1e39 became inf in the first_stage_score column: ltr features wrote '1:inf', which ltr train and ltr predict
    then refused, and ltr rerank scored the row with it, a NumPy overflow warning the only word (trial t48/serve)."""
    big = tmp_path / "big.run"
    big.write_text("Q-A Q0 d3 1 1e39 x\nQ-A Q0 d7 2 4.0 x\n")
    out = tmp_path / "out.run"
    out.write_text("old\n")
    said = (f"--run {big}: query Q-A, document d3: score 1e+39 is beyond float32's range (1 such score(s)), which "
            "the first_stage_score feature holds as float32: scale the run's scores\n")
    assert main([str(a) for a in rerank(made, "--run", big, "--out", out)]) == 1
    assert capsys.readouterr().err == f"ltr rerank: error: {said}"
    assert main([str(a) for a in ["features", "--collection", made / "docs.tsv", "--queries", made / "q.tsv",
                                  "--run", big, "--out", tmp_path / "f.letor"]]) == 1
    assert capsys.readouterr().err == f"ltr features: error: {said}"
    assert out.read_text() == "old\n" and not (tmp_path / "f.letor").exists()


def test_a_huge_first_stage_score_is_refused_where_it_is_a_feature_only(made, capsys, tmp_path):
    """The refusal hit runs whose scores no feature reads (a bm25-only set), and the Python API still turned 1e39
    into inf (the review of t48)."""
    from features.index import InvertedIndex
    from features.serve import Reranker

    big = tmp_path / "big.run"
    big.write_text("Q-A Q0 d3 1 1e39 x\nQ-A Q0 d7 2 4.0 x\n")
    (tmp_path / "bm25.toml").write_text('[[features]]\nscorer = "bm25"\n')
    assert main([str(a) for a in ["features", "--collection", made / "docs.tsv", "--queries", made / "q.tsv",
                                  "--run", big, "--features", tmp_path / "bm25.toml", "--out",
                                  tmp_path / "f.letor", "--quiet"]]) == 0
    assert "inf" not in (tmp_path / "f.letor").read_text()
    reranker = Reranker.load(made / "model.txt", index=InvertedIndex.load(made / "ix.npz"))
    assert "first_stage_score" in reranker.feature_names
    # named by its place in scores=, as the API's other score errors: without a qid the features' scorer said
    # 'query 1 (in order)', which reads as the query id '1' (trial t68)
    said = ("scores[1] is 1e+39 (document 'd3'): beyond float32's range, in which the first_stage_score feature "
            "holds it (1 such score(s)): scale the scores")
    for qid in ("Q-A", None):
        with pytest.raises(ValueError) as e:
            reranker.rerank(QUERIES["Q-A"], ["d7", "d3"], scores=[4.0, 1e39], qid=qid)
        assert str(e.value) == said
    with pytest.raises(ValueError) as e:
        reranker.rerank_many({"Q-A": (QUERIES["Q-A"], ["d7", "d3"], [4.0, 1e39])})
    assert str(e.value) == "queries['Q-A'] scores" + said[len("scores"):]
    # float32's largest as numpy prints it rounds to it, not to inf: scored (it was refused, trial t49)
    assert reranker.rerank(QUERIES["Q-A"], ["d3", "d7"], scores=[3.4028235e+38, 4.0]).doc_ids[0] in ("d3", "d7")


def test_a_depth_below_a_feedback_features_fb_docs_is_said(made, capsys, tmp_path, caplog):
    """RM3 from the candidates takes its feedback from the first fb_docs of them: reranking at a smaller --depth
    gives it fewer feedback documents, so other values than ltr features extracted over the whole first stage,
    which was unsaid (trial t48). A depth of fb_docs or more, and a feedback feature from a retrieval, are not
    said."""
    (tmp_path / "prf.toml").write_text('[[features]]\nscorer = "bm25"\n[[features]]\nscorer = "rm3"\nfields = '
                                       '["body"]\nfb_docs = 3\n[[features]]\nscorer = "rm3"\nname = "rm3r"\n'
                                       'fields = ["body"]\nfb_docs = 4\nfb_source = "retrieval"\n')
    ok(["features", "--collection", made / "docs.tsv", "--queries", made / "q.tsv", "--qrels", made / "qrels",
        "--topk", 6, "--features", tmp_path / "prf.toml", "--out", tmp_path / "p.letor", "--quiet"])
    ok(["train", tmp_path / "p.letor", "--engine", "linear", "--out", tmp_path / "p.json", "--quiet"])
    base = ["rerank", "--model", tmp_path / "p.json", "--collection", made / "docs.tsv", "--queries", made / "q.tsv",
            "--run", made / "bm25.run"]
    ok([*base, "--depth", 2, "--out", tmp_path / "d2.run"], capsys)
    said = [r.getMessage() for r in caplog.records if "feedback documents" in r.getMessage()]
    assert said == ["depth 2 is below the feedback documents of rm3:body: their feedback comes from the first 2 "
                    "candidates, where the feature set takes 3 (as ltr features extracted them from the whole first "
                    "stage); rerank at depth 3 or more for the same features"]
    caplog.clear()
    ok([*base, "--depth", 3, "--out", tmp_path / "d3.run"], capsys)
    assert not [r for r in caplog.records if "feedback documents" in r.getMessage()]
    # in process, a service's lists of two candidates: said too (rerank_run alone said it; trial t50/serve), once
    first = read_run(made / "bm25.run")
    q = str(first["qid"].iloc[0])
    text = dict(line.split("\t", 1) for line in (made / "q.tsv").read_text().splitlines())[q]
    two = first[first["qid"] == q]["docno"].tolist()[:2]
    for call in ("rerank", "rerank_many"):
        reranker = Reranker.load(tmp_path / "p.json", collection=made / "docs.tsv")
        caplog.clear()
        for _ in range(3):
            if call == "rerank":
                reranker.rerank(text, two)
            else:
                reranker.rerank_many({q: (text, two)})
        said = [r.getMessage() for r in caplog.records if "feedback documents" in r.getMessage()]
        assert said == ["a list of 2 candidates is below the feedback documents of rm3:body: their feedback comes "
                        "from the first 2 candidates, where the feature set takes 3 (as ltr features extracted them "
                        "from the whole first stage); said once for this reranker"], call


def _neural_scores(made, path) -> None:
    """Scores of every first-stage candidate (by the collection's query ids), as a neural_file reads them:
    ``qid<TAB>docid<TAB>score`` lines, the square root of BM25's."""
    first = read_run(made / "bm25.run")
    rows = zip(first["qid"], first["docno"], first["score"])
    path.write_text("".join(f"{q}\t{d}\t{float(x) ** 0.5:.6f}\n" for q, d, x in rows))


def test_a_student_of_a_neural_file_teacher_is_served_without_computing_its_teacher(made, capsys, tmp_path,
                                                                                    caplog):
    """A neural_file entry gives two columns (the scores and their _missing indicator): the student's teacher column
    could not be left out alone, so the teacher's training file was read at every rerank ("N of M scores match no
    candidate", "filled with 0.0") for columns the student never reads (trial t49). Both are left out now, and the
    run is what ltr features + ltr predict give."""
    _neural_scores(made, tmp_path / "teacher.tsv")
    (tmp_path / "fs.toml").write_text('[[features]]\nscorer = "bm25"\n[[features]]\nscorer = "tfidf"\n'
                                      f'[[features]]\nscorer = "neural_file"\nname = "teach"\npath = '
                                      f'"{tmp_path / "teacher.tsv"}"\n')
    ok(["features", "--collection", made / "docs.tsv", "--queries", made / "q.tsv", "--qrels", made / "qrels",
        "--topk", 6, "--features", tmp_path / "fs.toml", "--out", tmp_path / "t.letor", "--quiet"])
    ok(["train", tmp_path / "t.letor", "--objective", "distill", "--kernel", "numba", "--teacher-column", "teach",
        "--out", tmp_path / "s.txt", *TRAIN])
    ok(["predict", tmp_path / "s.txt", tmp_path / "t.letor", "--run", "--out", tmp_path / "p.run", "--quiet"])
    reranker = Reranker.load(tmp_path / "s.txt", collection=made / "docs.tsv")
    assert [s.scorer for s in reranker._served.specs] == ["bm25", "tfidf"]  # the teacher's entry not computed
    caplog.clear()
    ok(rerank(made, "--model", tmp_path / "s.txt", "--run", made / "bm25.run", "--out", tmp_path / "r.run"), capsys)
    assert "teacher.tsv" not in caplog.text
    assert (tmp_path / "r.run").read_bytes() == (tmp_path / "p.run").read_bytes()


@pytest.mark.parametrize("teacher, other", [("teach", None), ("t", "t_bm25"), ("t_bm25", "t")])
def test_a_student_of_a_neural_file_teacher_is_served_where_its_teachers_file_is_gone(made, capsys, tmp_path, teacher,
                                                                                      other):
    """The student reads no column of its teacher's entry, yet loading it rebuilt every entry of the sidecar's
    feature set first: without the teacher's score file (or, for a bi-encoder teacher, its model folder and
    sentence-transformers) it was refused (t49's 'left alone', t50/serve). The entry is not built now, and the run
    is what ltr features + ltr predict gave."""
    _neural_scores(made, tmp_path / "teacher.tsv")
    named = f'name = "{other}"\n' if other else ""  # (a name of which the teacher's is a prefix, or the reverse)
    (tmp_path / "fs.toml").write_text(f'[[features]]\nscorer = "bm25"\n{named}[[features]]\nscorer = "neural_file"\n'
                                      f'name = "{teacher}"\npath = "{tmp_path / "teacher.tsv"}"\n'
                                      '[[features]]\nscorer = "tfidf"\n')
    ok(["features", "--collection", made / "docs.tsv", "--queries", made / "q.tsv", "--qrels", made / "qrels",
        "--topk", 6, "--features", tmp_path / "fs.toml", "--out", tmp_path / "t.letor", "--quiet"])
    ok(["train", tmp_path / "t.letor", "--objective", "distill", "--kernel", "numba", "--teacher-column", teacher,
        "--out", tmp_path / "s.txt", *TRAIN])
    ok(["predict", tmp_path / "s.txt", tmp_path / "t.letor", "--run", "--out", tmp_path / "p.run", "--quiet"])
    (tmp_path / "teacher.tsv").unlink()
    reranker = Reranker.load(tmp_path / "s.txt", collection=made / "docs.tsv")
    assert [s.scorer for s in reranker._served.specs] == ["bm25", "tfidf"]
    blank = [reranker.feature_names[c] for c in reranker._blank]
    assert blank == [teacher, f"{teacher}_missing"]  # the model's columns all there, the teacher's filled with 0
    ok(rerank(made, "--model", tmp_path / "s.txt", "--run", made / "bm25.run", "--out", tmp_path / "r.run"), capsys)
    assert (tmp_path / "r.run").read_bytes() == (tmp_path / "p.run").read_bytes()
    # the feature-set file given (--features): its teacher entry is left out too (the review of t50)
    ok(rerank(made, "--model", tmp_path / "s.txt", "--run", made / "bm25.run", "--features", tmp_path / "fs.toml",
              "--out", tmp_path / "f.run"), capsys)
    assert (tmp_path / "f.run").read_bytes() == (tmp_path / "p.run").read_bytes()


@pytest.mark.parametrize("subset", [["--drop-features", "nf,nf_missing"], ["--features", "bm25:body,tfidf:body"]])
def test_a_model_of_a_feature_subset_is_served_without_the_neural_entries_it_does_not_read(made, capsys, tmp_path,
                                                                                          subset):
    """A model trained on the classical columns of a hybrid file (ltr train --features / --drop-features) still
    built and computed its neural entries when served: 362 ms against 0.6 ms a query with a toy cross-encoder, and
    no serving at all without their models or score files (trial t51/hybrid). They are left out now; the run is
    ltr predict's, and a feature-set file of the read entries alone is accepted as well as the whole one."""
    _neural_scores(made, tmp_path / "scores.tsv")
    (tmp_path / "fs.toml").write_text('[[features]]\nscorer = "bm25"\n[[features]]\nscorer = "neural_file"\n'
                                      f'name = "nf"\npath = "{tmp_path / "scores.tsv"}"\n'
                                      '[[features]]\nscorer = "tfidf"\n')
    (tmp_path / "read.toml").write_text('[[features]]\nscorer = "bm25"\n[[features]]\nscorer = "tfidf"\n')
    ok(["features", "--collection", made / "docs.tsv", "--queries", made / "q.tsv", "--qrels", made / "qrels",
        "--topk", 6, "--features", tmp_path / "fs.toml", "--out", tmp_path / "t.letor", "--quiet"])
    ok(["train", tmp_path / "t.letor", *subset, "--out", tmp_path / "m.txt", *TRAIN])
    ok(["predict", tmp_path / "m.txt", tmp_path / "t.letor", "--run", "--out", tmp_path / "p.run", "--quiet"])
    (tmp_path / "scores.tsv").unlink()  # the neural scores are not where the model serves
    reranker = Reranker.load(tmp_path / "m.txt", collection=made / "docs.tsv")
    assert [s.scorer for s in reranker._served.specs] == ["bm25", "tfidf"]
    assert [reranker.feature_names[c] for c in reranker._blank] == ["nf", "nf_missing"]
    for features in ([], ["--features", tmp_path / "fs.toml"], ["--features", tmp_path / "read.toml"]):
        ok(rerank(made, "--model", tmp_path / "m.txt", "--run", made / "bm25.run", *features, "--out",
                  tmp_path / "r.run"), capsys)
        assert (tmp_path / "r.run").read_bytes() == (tmp_path / "p.run").read_bytes(), features


def test_a_neural_entry_named_like_another_entrys_columns_is_not_left_out_on_a_guess(made, capsys, tmp_path):
    """The review of t51: a neural_file named 'tf' beside term_stats (tf_sum:body, ...) took those columns for its
    own by their names; left out, the model of a subset was refused ('computes 6 columns where the model's others
    are 2'), where it served before."""
    _neural_scores(made, tmp_path / "scores.tsv")
    (tmp_path / "fs.toml").write_text('[[features]]\nscorer = "bm25"\n[[features]]\nscorer = "neural_file"\n'
                                      f'name = "tf"\npath = "{tmp_path / "scores.tsv"}"\n[[features]]\nscorer = '
                                      '"tfidf"\n[[features]]\nscorer = "term_stats"\nstat = "tf"\n')
    ok(["features", "--collection", made / "docs.tsv", "--queries", made / "q.tsv", "--qrels", made / "qrels",
        "--topk", 6, "--features", tmp_path / "fs.toml", "--out", tmp_path / "t.letor", "--quiet"])
    ok(["train", tmp_path / "t.letor", "--features", "1,4,5", "--out", tmp_path / "m.txt", *TRAIN])
    ok(["predict", tmp_path / "m.txt", tmp_path / "t.letor", "--run", "--out", tmp_path / "p.run", "--quiet"])
    ok(rerank(made, "--model", tmp_path / "m.txt", "--run", made / "bm25.run", "--out", tmp_path / "r.run"), capsys)
    assert (tmp_path / "r.run").read_bytes() == (tmp_path / "p.run").read_bytes()
