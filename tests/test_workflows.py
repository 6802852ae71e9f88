"""The README's workflows, end to end, with CLI commands alone: from files to a significance table and a report.

Three kinds of input, as issue #9 names them: LightGBM's own lambdarank example (svmlight lines plus ``.query``
sidecars), the MQ2008 segments (LETOR 4.0 with qids), and a text collection (Cranfield, through ``ltr features``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ltr.cli import main
from ltr.io import read_letor, read_qrels, read_run
from ltr.metrics import evaluate_run

pytestmark = [pytest.mark.shared, pytest.mark.slow]

FAST = ["--rounds", "40", "--learning-rate", "0.1", "--leaves", "7", "--quiet", "--n-jobs", "1"]


def ok(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, f"ltr {' '.join(map(str, argv))}\n{captured.err}"
    return captured.out


def test_lightgbm_example_data_to_a_significance_table_and_a_report(shared_file, tmp_path, capsys):
    train, test = shared_file("lightgbm_lambdarank/rank.train.gz"), shared_file("lightgbm_lambdarank/rank.test.gz")
    info = json.loads(ok(["info", str(train), "--format", "json"], capsys))
    assert info["n_queries"] == 201 and info["sidecars"]["query"].endswith(".query")  # found by itself
    out = json.loads(ok(["train", str(train), "--valid", str(test), *FAST, "--format", "json",
                         "--out", str(tmp_path / "m.txt")], capsys))
    assert out["queries"]["valid"] == 50
    for name, extra in (("lambdarank", []), ("ranknet", ["--objective", "ranknet", "--kernel", "numba"])):
        ok(["cv", str(train), "--folds", "4", *FAST, *extra, "--name", name, "--out", str(tmp_path / f"{name}.json")],
           capsys)
    table = ok(["compare", str(tmp_path / "lambdarank.json"), str(tmp_path / "ranknet.json"), "--format", "markdown",
                "--out", str(tmp_path / "cmp.json")], capsys)
    assert "ranknet" in table and "Holm" in table and "201 queries" in table
    ok(["report", str(tmp_path / "cmp.json"), "--out", str(tmp_path / "report")], capsys)
    assert (tmp_path / "report" / "report.html").is_file() and (tmp_path / "report" / "report.md").is_file()


def test_mq2008_segments_to_a_significance_table_and_a_report(shared_file, tmp_path, capsys):
    folds = tmp_path / "mq2008"
    segs = [shared_file("mq2008/Fold2/test.txt.gz"), shared_file("mq2008/Fold1/vali.txt.gz"),
            shared_file("mq2008/Fold1/test.txt.gz")]  # S1, S4, S5, rotated as LETOR does
    for i in range(3):
        (folds / f"Fold{i + 1}").mkdir(parents=True)
        for j, part in enumerate(("train", "vali", "test")):
            (folds / f"Fold{i + 1}" / f"{part}.txt.gz").symlink_to(Path(segs[(i + j) % 3]).resolve())
    for name, extra in (("lightgbm", []), ("xgboost", ["--engine", "xgboost"])):
        ok(["cv", str(folds), *FAST, *extra, "--name", name, "--out", str(tmp_path / f"{name}.json"),
            "--convention", "letor", "--metrics", "ndcg@10,map,mean_ndcg"], capsys)
    table = ok(["compare", str(tmp_path / "lightgbm.json"), str(tmp_path / "xgboost.json"), "--metrics",
                "ndcg@10,map", "--out", str(tmp_path / "cmp.json")], capsys)
    assert "470 queries" in table and "LETOR 3.0/4.0 script" in table
    ok(["report", str(tmp_path / "cmp.json"), "--out", str(tmp_path / "report"), "--formats", "md"], capsys)
    assert "xgboost" in (tmp_path / "report" / "report.md").read_text()


def test_a_text_collection_to_a_significance_table_and_a_report(shared_file, tmp_path, capsys):
    coll = shared_file("cranfield")
    letor, bm25, qrels = tmp_path / "cran.letor", tmp_path / "bm25.run", tmp_path / "cran.qrels"
    ok(["features", "--collection", str(coll), "--bm25-preset", "terrier", "--features", "small_collections",
        "--topk", "50", "--out", str(letor), "--save-run", str(bm25), "--qrels-out", str(qrels), "--quiet"], capsys)
    assert read_letor(letor).n_features == 27
    ok(["cv", str(letor), "--folds", "5", *FAST, "--name", "lambdamart", "--out", str(tmp_path / "cv.json"),
        "--run-out", str(tmp_path / "ltr.run")], capsys)
    # The out-of-fold run reranks exactly the BM25 candidates, every query once.
    base, ltr_run = read_run(bm25), read_run(tmp_path / "ltr.run")
    assert sorted(zip(base.qid, base.docno)) == sorted(zip(ltr_run.qid, ltr_run.docno))
    # A run file and a cv result side by side, judged by the same qrels (the cv result by its out-of-fold run).
    table = ok(["compare", str(bm25), str(tmp_path / "cv.json"), "--qrels", str(qrels), "--metrics",
                "ndcg@10,map,p@10", "--format", "json", "--out", str(tmp_path / "cmp.json")], capsys)
    comp = json.loads(table)
    means = {s["name"]: s["mean"] for s in comp["systems"]}
    expected = evaluate_run(read_qrels(qrels), ltr_run, ["ndcg@10", "map"])
    assert means["lambdamart"]["ndcg@10"] == pytest.approx(expected["ndcg@10"], abs=1e-12)
    # The qrels ltr features wrote are the collection's own (Cranfield's 3-column layout read directly).
    direct = ok(["compare", str(bm25), str(tmp_path / "ltr.run"), "--qrels", str(coll / "cranqrel"),
                 "--qrels-format", "cranfield", "--format", "json"], capsys)
    assert json.loads(direct)["systems"][1]["mean"]["ndcg@10"] == pytest.approx(expected["ndcg@10"], abs=1e-12)
    ok(["report", str(tmp_path / "cmp.json"), "--out", str(tmp_path / "report")], capsys)
    assert (tmp_path / "report" / "report.html").is_file()


def test_terrier_preset_reproduces_terriers_published_npl_bm25(shared_file, tmp_path, capsys):
    """Terrier's BM25 on NPL (Vaswani), b = 0.4: MAP 0.2992 in Terrier's documentation (BASELINES.md)."""
    coll = shared_file("vaswani_npl")
    run = tmp_path / "bm25.run"
    features = tmp_path / "fs.toml"
    features.write_text('[[features]]\nscorer = "first_stage"\n')  # the run is what is checked here
    ok(["features", "--collection", str(coll), "--topk", "1000", "--bm25-preset", "terrier", "--bm25-b", "0.4",
        "--out", str(tmp_path / "npl.letor"), "--save-run", str(run), "--features", str(features), "--quiet"],
       capsys)
    value = evaluate_run(read_qrels(coll / "qrels"), read_run(run), ["map"])["map"]
    assert round(value, 4) == 0.2992
