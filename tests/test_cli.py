import json
import re

import numpy as np
import pytest

from ltr import make_ranking
from ltr._shared import import_reference
from ltr.cli import main
from ltr.io import read_letor, read_run, write_letor
from ltr.metrics import evaluate


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    paths = {}
    for i, name in enumerate(("train", "valid", "test")):
        paths[name] = folder / f"{name}.txt"
        write_letor(paths[name], make_ranking(80 if name == "train" else 30, (4, 12), 6, random_state=i))
    return paths


def run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_info_json_reports_counts_and_label_histogram(files, capsys):
    info = run_json(capsys, ["info", str(files["test"]), "--format", "json"])
    d = read_letor(files["test"])
    assert info["n_queries"] == d.n_queries == 30 and info["n_rows"] == d.n_rows and info["n_features"] == 6
    assert sum(info["label_counts"].values()) == d.n_rows
    assert info["feature_names"] == [f"f{j}" for j in range(1, 7)]
    no_rel = sum(int(d.y[a:b].max() < 1) for a, b in zip(d.group_ptr[:-1], d.group_ptr[1:]))
    assert info["queries_without_relevant"] == no_rel


def test_train_json_has_valid_test_and_seconds_and_saves_a_model(files, tmp_path, capsys):
    out = tmp_path / "m.txt"
    res = run_json(capsys, ["train", str(files["train"]), "--valid", str(files["valid"]), "--test",
                            str(files["test"]), "--rounds", "30", "--leaves", "7", "--min-child-samples", "5",
                            "--metrics", "ndcg@10,map", "--out", str(out), "--format", "json", "--quiet"])
    assert set(res) >= {"valid", "test", "seconds"}
    assert set(res["test"]) == {"ndcg@10", "map"} and res["seconds"] > 0
    # predict writes scores that evaluate to the same test metrics.
    scores = tmp_path / "s.txt"
    assert main(["predict", str(out), str(files["test"]), "--out", str(scores)]) == 0
    capsys.readouterr()
    got = run_json(capsys, ["evaluate", str(files["test"]), "--scores", str(scores), "--metrics", "ndcg@10,map",
                            "--format", "json"])
    assert got["mean"] == pytest.approx(res["test"], abs=1e-12)


def test_evaluate_qrels_and_run_json_matches_the_library(tmp_path, capsys):
    (tmp_path / "q").write_text("1 0 a 2\n1 0 b 0\n1 0 c 1\n2 0 x 1\n")
    (tmp_path / "r").write_text("1 Q0 b 1 3 t\n1 Q0 a 2 2 t\n1 Q0 c 3 1 t\n2 Q0 x 1 1 t\n")
    res = run_json(capsys, ["evaluate", "--qrels", str(tmp_path / "q"), "--run", str(tmp_path / "r"),
                            "--metrics", "map,p@1", "--format", "json"])
    # query 1: relevant a (rank 2), c (rank 3): AP = (1/2 + 2/3) / 2; query 2: AP = 1.
    assert res["mean"]["map"] == pytest.approx(((1 / 2 + 2 / 3) / 2 + 1) / 2)
    assert res["mean"]["p@1"] == pytest.approx((0 + 1) / 2)
    assert res["conventions"].endswith("2 queries averaged")


def test_evaluate_with_a_run_given_as_data_says_to_pass_it_as_run(tmp_path, capsys):
    (tmp_path / "q").write_text("1 0 a 2\n")
    (tmp_path / "r").write_text("1 Q0 a 1 3 t\n")
    assert main(["evaluate", str(tmp_path / "r"), "--qrels", str(tmp_path / "q")]) == 2
    err = capsys.readouterr().err
    assert f"a TREC run goes with --run: ltr evaluate --qrels {tmp_path / 'q'} --run {tmp_path / 'r'}" in err
    assert err.count("\n") == 1
    assert main(["evaluate", str(tmp_path / "q"), str(tmp_path / "r")]) == 2  # trec_eval QRELS RUN
    err = capsys.readouterr().err
    assert f"(trec_eval QRELS RUN): ltr evaluate --qrels {tmp_path / 'q'} --run {tmp_path / 'r'}" in err
    assert err.count("\n") == 1


def test_evaluate_and_train_take_errs_highest_grade_for_labels_above_four(tmp_path, capsys):
    data, scores = tmp_path / "g.txt", tmp_path / "s.txt"
    data.write_text("6 qid:1 1:0.3\n0 qid:1 1:0.2\n3 qid:1 1:0.1\n")
    scores.write_text("3\n2\n1\n")
    # ERR named by the user: its max grade stays 4, and a label 6 is refused
    assert main(["evaluate", str(data), "--scores", str(scores), "--metrics", "err@10"]) == 1
    err = capsys.readouterr().err
    assert f"ERR needs labels <= max_grade=4, got a label 6 at {data}:1; pass --max-grade G" in err
    assert err.count("\n") == 1
    # the default metrics (err@10 among them) take the largest label as ERR's max grade, and say so
    assert main(["evaluate", str(data), "--scores", str(scores), "--format", "json"]) == 0
    out = capsys.readouterr()
    assert out.err == "ltr evaluate: note: err@10 with max grade 6, the largest label (pass --max-grade G)\n"
    assert json.loads(out.out)["mean"]["err@10"] == pytest.approx(63 / 64 + (1 - 63 / 64) * (7 / 64) / 3)
    res = run_json(capsys, ["evaluate", str(data), "--scores", str(scores), "--max-grade", "6", "--format", "json"])
    r1, r3 = 63 / 64, 7 / 64  # Chapelle et al. (2009): R = (2^rel - 1) / 2^max_grade
    assert res["mean"]["err@10"] == pytest.approx(r1 + (1 - r1) * r3 / 3)
    assert "ERR's highest grade 6" in res["conventions"]
    assert main(["train", str(data), "--valid", str(data), "--max-grade", "6", "--rounds", "2"]) == 0
    assert main(["evaluate", str(data), "--scores", str(scores), "--max-grade", "-1"]) == 2
    assert "argument --max-grade: '-1': the highest grade of the scale" in capsys.readouterr().err


def _err_by_hand(labels, scores, max_grade, k=10, names=None):
    order = range(len(scores))
    if names is not None:  # trec_eval's order of a run: equal scores by docno, descending
        order = sorted(order, key=lambda i: names[i], reverse=True)
    order = sorted(order, key=lambda i: -scores[i])  # stable: equal scores in input order
    err, stay = 0.0, 1.0
    for r, i in enumerate(order[:k], start=1):
        stop = (2.0 ** labels[i] - 1) / 2.0**max_grade  # Chapelle et al. (2009)
        err, stay = err + stay * stop / r, stay * (1 - stop)
    return err


def test_a_label_above_the_datasets_top_grade_says_which_grade_it_replaced(tmp_path, capsys):
    """--dataset mq2008 on labels 0..4 said "max grade 2, the top of mq2008's documented labels" and then "max grade
    4, the largest label", two notes that contradicted each other (trial t49); the second now says what it
    replaced."""
    data, scores = tmp_path / "d.txt", tmp_path / "s.txt"
    row = " ".join(f"{j}:0.5" for j in range(1, 47))  # mq2008's 46 features
    data.write_text(f"4 qid:1 {row}\n0 qid:1 {row}\n2 qid:1 {row}\n")
    scores.write_text("3\n2\n1\n")
    assert main(["evaluate", str(data), "--scores", str(scores), "--dataset", "mq2008", "--format", "json"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "max grade" in line]
    assert said == ["ltr evaluate: note: err@10 with max grade 2, the top of mq2008's documented labels 0..2 (pass "
                    "--max-grade G)",
                    "ltr evaluate: note: err@10 with max grade 4, the largest label, not 2, the top of mq2008's "
                    "documented labels 0..2 (pass --max-grade G)"]
    # a second file raising it again names the grade it replaced as what it was (not as mq2008's top)
    data.write_text(f"3 qid:1 {row}\n0 qid:1 {row}\n2 qid:1 {row}\n")
    valid = tmp_path / "v.txt"
    valid.write_text(f"4 qid:2 {row}\n0 qid:2 {row}\n")
    assert main(["train", str(data), "--valid", str(valid), "--dataset", "mq2008", "--rounds", "2", "--preset", "none",
                 "--min-child-samples", "1", "--format", "json"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "max grade" in line]
    assert said[-1] == ("ltr train: note: err@10 with max grade 4, the largest label, not 3, the largest label of a "
                        "file read before (pass --max-grade G)")


def test_cv_compare_and_tune_take_errs_highest_grade_as_evaluate_and_train_do(tmp_path, capsys):
    rng = np.random.default_rng(3)
    rows = [f"{rng.integers(0, 7)} qid:{q} 1:{rng.random():.3f} 2:{rng.random():.3f} #docid = d{q}-{d}"
            for q in range(1, 19) for d in range(6)]
    data = tmp_path / "g6.txt"
    data.write_text("\n".join(rows) + "\n")
    base = ["cv", str(data), "--folds", "3", "--rounds", "3", "--metrics", "err@10", "--quiet"]
    assert main([*base, "--out", str(tmp_path / "a.json")]) == 1
    assert "got a label 6; pass --max-grade G" in capsys.readouterr().err
    assert main([*base, "--max-grade", "6", "--out", str(tmp_path / "a.json"), "--save-dir", str(tmp_path / "sd"),
                 "--run-out", str(tmp_path / "a.run")]) == 0
    assert "ERR's highest grade 6" in capsys.readouterr().out
    labels = {}
    for line in rows:
        labels.setdefault(line.split()[1][4:], []).append(int(line[0]))
    checked = 0
    for fold in sorted((tmp_path / "sd").iterdir()):
        per = [line.split("\t") for line in (fold / "per_query.tsv").read_text().splitlines()[1:]]
        scores = [float(v) for v in (fold / "test.scores").read_text().split()]
        for qid, value in per:  # the fold's test rows are its queries' rows in file order
            got, scores = scores[:6], scores[6:]
            assert float(value) == pytest.approx(_err_by_hand(labels[qid], got, 6.0), rel=1e-12)
            checked += 1
    assert checked == 18
    # compare: the cv results carry the grade; runs against qrels take it
    assert main([*base, "--max-grade", "6", "--objective", "xendcg", "--name", "b",
                 "--out", str(tmp_path / "b.json"), "--run-out", str(tmp_path / "b.run")]) == 0
    capsys.readouterr()
    res = run_json(capsys, ["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--metrics", "err@10",
                            "--format", "json"])
    assert res["systems"][0]["mean"]["err@10"] == pytest.approx(np.mean([float(v.split("\t")[1]) for f in
                                                                         (tmp_path / "sd").iterdir() for v in
                                                                         (f / "per_query.tsv").read_text()
                                                                         .splitlines()[1:]]))
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--metrics", "err@10",
                 "--max-grade", "5"]) == 2
    assert "cv result 'lambdarank' was evaluated with max_grade=6.0" in capsys.readouterr().err
    # another grade: refused for ERR, which depends on it, and not for NDCG, which does not
    for grade, name in (("6", "c"), ("7", "d")):
        assert main([*base[:-3], "--metrics", "err@10,ndcg@10", "--quiet", "--max-grade", grade, "--name", name,
                     "--out", str(tmp_path / f"{name}.json")]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "c.json"), str(tmp_path / "d.json"), "--metrics", "err@10"]) == 1
    assert "same convention, gain, no_relevant and max_grade (ltr cv" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "c.json"), str(tmp_path / "d.json"), "--metrics", "ndcg@10",
                 "--format", "json"]) == 0
    assert [s["name"] for s in json.loads(capsys.readouterr().out)["systems"]] == ["c", "d"]
    qrels = tmp_path / "q.txt"
    qrels.write_text("".join(f"{line.split()[1][4:]} 0 {line.split()[-1]} {line[0]}\n" for line in rows))
    res = run_json(capsys, ["compare", str(tmp_path / "a.run"), str(tmp_path / "b.run"), "--qrels", str(qrels),
                            "--metrics", "err@10", "--max-grade", "6", "--format", "json"])
    grade = {line.split()[-1]: int(line[0]) for line in rows}
    run = {}
    for line in (tmp_path / "a.run").read_text().splitlines():
        qid, _, doc, _, score, _ = line.split()
        run.setdefault(qid, []).append((doc, float(score)))
    by_hand = [_err_by_hand([grade[d] for d, _ in docs], [s for _, s in docs], 6.0, names=[d for d, _ in docs])
               for docs in run.values()]
    assert res["systems"][0]["mean"]["err@10"] == pytest.approx(np.mean(by_hand), rel=1e-12)
    assert main(["compare", str(tmp_path / "a.run"), str(tmp_path / "b.run"), "--qrels", str(qrels),
                 "--metrics", "err@10"]) == 1
    assert re.search(r"got the grade 6 of document 'd[0-9]+-[0-9]' for query '[0-9]+'; pass --max-grade G",
                     capsys.readouterr().err)
    import_reference("optuna")  # the tune extra (in dev)
    assert main(["tune", str(data), "--trials", "1", "--outer-folds", "2", "--inner-folds", "2", "--rounds", "3",
                 "--metric", "err@10", "--max-grade", "6", "--quiet", "--out", str(tmp_path / "t.json")]) == 0
    assert "ERR's highest grade 6" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["evaluate", "{d}", "--scores", "{s}", "--metrics", "ndcg@10"],
                                  ["evaluate", "{d}", "--scores", "{s}", "--metrics", "err@10", "--gain", "linear"],
                                  ["train", "{d}", "--metrics", "map,ndcg@5", "--rounds", "2", "--out", "{o}"]])
@pytest.mark.parametrize("sort", [False, True])
def test_a_label_the_metrics_cannot_take_is_named_by_its_file_and_line(tmp_path, capsys, argv, sort):
    """A trial (t45): 'label 1198 at row 10 (query index 0)' named no file, and its row counted from 0."""
    data, scores = tmp_path / "list.txt", tmp_path / "s.txt"
    data.write_text("# MQ2007-list\n3 qid:2 1:0.3\n2 qid:2 1:0.2\n1 qid:1 1:0.1\n\n1198 qid:1 1:0.5\n0 qid:1 1:0.4\n")
    scores.write_text("1\n2\n3\n4\n5\n")
    argv = [a.format(d=data, s=scores, o=tmp_path / "m.txt") for a in argv] + (["--sort"] if sort else [])
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"label 1198 at {data}:6" in err and err.count("\n") == 1 and not (tmp_path / "m.txt").exists()
    if argv[0] == "evaluate" and "err@10" not in argv:  # a convention's own range and words, not --gain linear's
        for convention in ("lightgbm", "ranklib", "letor"):
            assert main([*argv, "--convention", convention]) == 1
            err = capsys.readouterr().err
            assert f"--convention {convention}" in err or f"the {convention} convention" in err
            assert "pass --gain linear" not in err


def test_evaluate_with_order_labels_beyond_the_exp2_gain_says_to_pass_gain_linear(tmp_path, capsys):
    data, scores = tmp_path / "list.txt", tmp_path / "s.txt"
    data.write_text("1800 qid:1 1:0.3\n1200 qid:1 1:0.2\n40 qid:1 1:0.1\n")
    scores.write_text("1\n2\n3\n")
    assert main(["evaluate", str(data), "--scores", str(scores), "--metrics", "ndcg@10"]) == 1
    err = capsys.readouterr().err
    assert f"label 1800 at {data}:1 is beyond the exp2 gain" in err  # its file and line (trial t45)
    assert err.rstrip().endswith("pass --gain linear (gain = rel, as trec_eval's NDCG)")
    res = run_json(capsys, ["evaluate", str(data), "--scores", str(scores), "--metrics", "ndcg@10", "--gain",
                            "linear", "--format", "json"])
    from sklearn.metrics import ndcg_score  # linear gains, log2 discount: an independent reference

    assert res["mean"]["ndcg@10"] == pytest.approx(ndcg_score([[1800, 1200, 40]], [[1, 2, 3]], k=10))


def test_evaluate_per_query_table_lists_each_query_then_the_mean(files, tmp_path, capsys):
    d = read_letor(files["test"])
    scores = tmp_path / "s.txt"
    scores.write_text("".join(f"{v}\n" for v in d.X[:, 0]))
    assert main(["evaluate", str(files["test"]), "--scores", str(scores), "--metrics", "ndcg@5",
                 "--per-query"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 + d.n_queries + 1 + 1 and lines[-2].startswith("all")
    expected = evaluate(d.y, d.X[:, 0].astype(float), group_ptr=d.group_ptr, metrics=["ndcg@5"])["ndcg@5"]
    assert float(lines[-2].split()[-1]) == pytest.approx(expected, abs=5e-5)
    assert lines[-1].endswith(f"{d.n_queries} queries averaged")


def test_predict_writes_a_trec_run_when_doc_ids_are_known(files, tmp_path, capsys):
    d = read_letor(files["train"])
    from ltr.datasets import RankingDataset

    with_ids = RankingDataset(X=d.X, y=d.y, qid=d.qid, group_ptr=d.group_ptr,
                              doc_ids=np.array([f"D{i}" for i in range(d.n_rows)], dtype=object))
    path = tmp_path / "ids.txt"
    write_letor(path, with_ids)
    model = tmp_path / "m.txt"
    assert main(["train", str(path), "--rounds", "5", "--quiet", "--out", str(model)]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(path), "--out", str(tmp_path / "r.run"), "--run"]) == 0
    run = read_run(tmp_path / "r.run")
    assert len(run) == d.n_rows and set(run.docno) == {f"D{i}" for i in range(d.n_rows)}
    assert (f"wrote a TREC run of {d.n_rows} lines, {d.n_queries} queries to {tmp_path / 'r.run'}"
            in capsys.readouterr().err)
    assert (run.groupby("qid")["rank"].min() == 1).all()
    # a document listed twice in a query (D1 twice in the first): the run keeps its higher-scored copy, ranked anew
    twice = RankingDataset(X=d.X, y=d.y, qid=d.qid, group_ptr=d.group_ptr,
                           doc_ids=np.array(["D1" if i == 0 else f"D{i}" for i in range(d.n_rows)], dtype=object))
    write_letor(tmp_path / "twice.txt", twice)
    capsys.readouterr()
    assert main(["predict", str(model), str(tmp_path / "twice.txt"), "--out", str(tmp_path / "t.run"), "--run"]) == 0
    assert "lists 1 document(s) more than once in a query (e.g. 'D1' in query" in capsys.readouterr().err
    deduped = read_run(tmp_path / "t.run")
    assert len(deduped) == d.n_rows - 1 and not deduped.duplicated(["qid", "docno"]).any()
    first = deduped[deduped.qid == deduped.qid.iloc[0]]
    assert first["rank"].tolist() == list(range(1, len(first) + 1))
    assert first.score.is_monotonic_decreasing


def test_data_errors_exit_1_with_the_message_and_no_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 qid:1 1:0.5\n1 qid:1 1:abc\n")
    assert main(["info", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2" in err and "abc" in err and "Traceback" not in err
    assert main(["info", str(tmp_path / "missing.txt")]) == 1


def test_usage_errors_exit_2(capsys, files):
    assert main(["evaluate", "--metrics", "ndcg@10"]) == 2
    assert main(["evaluate", str(files["test"]), "--scores", "x", "--metrics", "nope@3"]) == 2
    assert "ndcg" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2


def test_demo_runs_the_embedded_default_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("ltr._numba_cache.needs_compile", lambda **_: True)  # as on a fresh install
    assert main(["demo", "--dir", str(tmp_path / "demo")]) == 0
    captured = capsys.readouterr()
    out = captured.out
    # the first run compiles for about a minute: the demo says so (its train step runs quietly)
    assert "ltr demo: compiling Numba kernels (first run only; later runs load them from the cache)" in captured.err
    assert "ndcg@10" in out and "test" in out
    for name in ("train.txt", "valid.txt", "test.txt", "model.txt", "model.txt.meta.json"):
        assert (tmp_path / "demo" / name).is_file()
    test_line = next(line for line in out.splitlines() if line.startswith("ndcg@10"))
    assert float(test_line.split()[-1]) > 0.6  # the generated signal is learnable; a random ranking scores ~0.45


def test_demo_keeps_a_users_files_takes_quiet_and_runs_again_in_its_own_folder(tmp_path, capsys, monkeypatch):
    # a trial: --dir '' wrote into the working folder, replacing the user's model.txt; --quiet reached ltr info,
    # which has no such option, and stopped the demo after writing the data
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.txt").write_text("the user's\n")
    for argv, says in ((["--dir", ""], "--dir '': an empty value; leave --dir out for its default"),
                       (["--dir", "."], "--dir .: the folder holds model.txt, not written by ltr demo, which it would "
                                        "replace"),
                       (["--seed", "-1"], "--seed -1: a seed from 0 to 2**32 - 3")):
        assert main(["demo", *argv]) == 2
        assert says in capsys.readouterr().err
    assert (tmp_path / "model.txt").read_text() == "the user's\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.txt"]
    for _ in range(2):  # its own folder, again
        assert main(["demo", "--dir", "d", "--quiet"]) == 0
        assert "ndcg@10" in capsys.readouterr().out
    assert (tmp_path / "d" / "model.txt").stat().st_size > 1000


@pytest.mark.parametrize("argv, says", [
    ([], "{data}:2: LightGBM's lambdarank takes labels 0..30 under its default label_gain (2^l - 1), got label "
         "'250' (40 such label(s) in all); for labels that encode an order (MQ2007/8-list) train a listwise "
         "objective (--objective listnet --kernel numba), or pass --param label_gain=G0,G1,... (one gain per "
         "label) with --gain"),
    (["--engine", "xgboost"], "{data}:2: XGBoost's rank:ndcg with exponential gains takes labels up to 31, got "
                              "label '250' (40 such label(s) in all); for labels that encode an order (MQ2007/8-list) "
                              "train a listwise objective (--objective listnet --kernel numba), or pass --param "
                              "ndcg_exp_gain=false --gain linear"),
    (["--kernel", "numba"], "{data}:2: label '250' is above the gain table of the numba lambdarank kernel, which "
                            "covers labels 0..30 (40 such label(s) in all); pass a longer --objective-param "
                            "'label_gain=[G0,G1,...]' with --gain, or for labels that encode an order (MQ2007/8-list) "
                            "a listwise objective (--objective listnet)"),
])
def test_lambdamart_on_order_labels_names_the_listwise_way_out(tmp_path, capsys, argv, says):
    data = tmp_path / "list.txt"
    rng = np.random.default_rng(0)
    data.write_text("".join(f"{lab} qid:{q} 1:{rng.random():.3f} 2:{rng.random():.3f}\n"
                            for q in range(1, 21) for lab in (0, 250, 25, 100)))
    # --metrics map: err@10 (a default metric) cannot score these labels, and that is refused before training
    assert main(["train", str(data), "--rounds", "2", "--metrics", "map", *argv]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == f"ltr train: error: {says.format(data=data)}"
    if argv[-1:] == ["xgboost"]:  # the engine's way out: linear gains, measured so too
        assert main(["train", str(data), "--rounds", "2", "--metrics", "map", *argv, "--param", "ndcg_exp_gain=false",
                     "--gain", "linear", "--quiet"]) == 0
    # the listwise way out trains, and is evaluated with linear gains
    assert main(["train", str(data), "--valid", str(data), "--rounds", "2", "--objective", "listnet", "--kernel",
                 "numba", "--gain", "linear", "--metrics", "ndcg@10"]) == 0


@pytest.mark.parametrize("flag", ["--param", "--objective-param"])
def test_a_label_gain_other_than_the_metrics_gain_needs_the_metrics_gain_said(files, tmp_path, capsys, flag):
    """LightGBM's label_gain trains for its gains while the metrics that stop early and report measured with
    2^label - 1, silently: round 18 kept where LightGBM keeps 16 on MQ2008 (trial t50), as XGBoost's
    ndcg_exp_gain=false did before it was refused. A linear table is named as --gain linear; 2^l - 1 is the metrics'
    own; any other trains once --gain says which gain the metrics measure with."""
    from ltr import Ranker

    train = ["train", str(files["train"]), "--rounds", "3", "--quiet", "--out", str(tmp_path / "m.txt")]
    assert main([*train, flag, "label_gain=0,5,6"]) == 2
    assert capsys.readouterr().err == (f"ltr train: error: {flag} label_gain=0,5,6 trains for other gains than "
                                       "2^label - 1, with which the metrics that stop early and report measure unless "
                                       "told: add --gain exp2 to keep them (early stopping may then keep another round "
                                       "than the engine's own ndcg would)\n")
    assert main([*train, flag, "label_gain=0,1,2,3,4,5"]) == 2
    assert capsys.readouterr().err.endswith("linear gains: add --gain linear\n")
    assert main([*train, flag, "label_gain=0,1,2,3,4,5", "--gain", "linear"]) == 0
    assert main([*train, flag, "label_gain=0,5,6,7,8,9", "--gain", "exp2"]) == 0
    assert main([*train, flag, "label_gain=0,1,3,7,15,31"]) == 0  # the metrics' own gains
    key = "engine_params" if flag == "--param" else "objective_params"
    with pytest.raises(ValueError, match=re.escape(f"{key}: label_gain=[0, 5, 6] trains for other gains") +
                       ".*add eval_params=\\{'gain': 'exp2'\\}"):
        Ranker(n_estimators=2, **{key: {"label_gain": [0, 5, 6]}}).fit(read_letor(files["train"]))
    config = tmp_path / "c.toml"
    config.write_text("[params]\nlabel_gain = [0, 5, 6]\n")
    if flag == "--param":
        assert main([*train, "--config", str(config)]) == 2
        assert capsys.readouterr().err.startswith(f"ltr train: error: --config {config}: [params] label_gain: trains "
                                                  "for other gains")


def test_an_output_that_is_an_input_is_refused_before_any_work(files, tmp_path, capsys):
    """One slip in --out must not replace the training data, the test data or the model: each command refuses an
    output that is one of its inputs (however spelt: a relative path, a hard link, a file in a fold folder)."""
    import os
    import shutil

    data = tmp_path / "train.txt"
    shutil.copy(files["train"], data)
    model = tmp_path / "m.txt"
    assert main(["train", str(data), "--rounds", "2", "--out", str(model), "--quiet"]) == 0
    capsys.readouterr()
    os.link(data, tmp_path / "same.txt")
    folds = tmp_path / "folds"
    for k in range(1, 6):
        (folds / f"Fold{k}").mkdir(parents=True)
        for part in ("train", "vali", "test"):
            shutil.copy(files["valid"], folds / f"Fold{k}" / f"{part}.txt")
    kept = {p: p.read_bytes() for p in (data, model, folds / "Fold1" / "test.txt")}
    cases = [
        (["train", str(data), "--out", str(data)], f"{data}: is also an input of this command ({data})"),
        (["train", str(data), "--test", str(files["test"]), "--out", str(tmp_path / "same.txt")],
         "same.txt: is also an input of this command"),
        (["predict", str(model), str(data), "--out", str(data)], "is also an input of this command"),
        (["predict", str(model), str(data), "--out", str(tmp_path / "." / "m.txt")], f"({model})"),
        (["cv", str(folds), "--out", str(tmp_path / "cv.json"), "--run-out", str(folds / "Fold1" / "test.txt")],
         f"is also an input of this command ({folds / 'Fold1' / 'test.txt'})"),
        (["cv", str(folds), "--out", str(tmp_path / "cv.json"), "--run-out", str(tmp_path / "cv.json")],
         "given for two outputs"),
    ]
    for argv, says in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert says in err and ("give the output another name" in err or "give each its own name" in err), err
    assert {p: p.read_bytes() for p in kept} == kept
    assert not (tmp_path / "cv.json").exists()
    # a folder where a file is read is named as a folder, even when the output lies in it
    (tmp_path / "e.json").write_text("keep\n")
    assert main(["export", str(tmp_path), "--to", "solr", "--out", str(tmp_path / "e.json")]) == 1
    assert "is a folder" in capsys.readouterr().err and (tmp_path / "e.json").read_text() == "keep\n"


def test_predict_writes_scores_in_the_files_line_order_and_scores_unjudged_rows(files, tmp_path, capsys):
    """--sort groups a query's scattered rows to train, but the score file pairs line i with DATA's line i (as its
    help says and other tools assume); MQ2007/8-semi's label -1 rows are scored, not refused (no label is needed)."""
    from ltr.io import read_scores

    model = tmp_path / "m.txt"
    assert main(["train", str(files["train"]), "--rounds", "3", "--out", str(model), "--quiet"]) == 0
    lines = [line for line in files["test"].read_text().splitlines() if not line.startswith("#")]
    first_two = [i for i, line in enumerate(lines) if line.split()[1] in ("qid:1", "qid:2")]
    interleaved = [lines[i] for i in first_two[::2]] + [lines[i] for i in first_two[1::2]] + lines[len(first_two):]
    (tmp_path / "mixed.txt").write_text("\n".join(interleaved) + "\n")
    (tmp_path / "semi.txt").write_text("\n".join("-1" + line[line.index(" "):] if i % 3 == 0 else line
                                                 for i, line in enumerate(lines)) + "\n")
    assert main(["predict", str(model), str(tmp_path / "mixed.txt"), "--out", str(tmp_path / "s")]) == 1
    assert "are not contiguous" in capsys.readouterr().err  # the rows are scattered: --sort is needed
    want = {}
    for i, line in enumerate(interleaved):  # each line scored alone: its own score, wherever it sits
        (tmp_path / "one.txt").write_text(line + "\n")
        assert main(["predict", str(model), str(tmp_path / "one.txt"), "--out", str(tmp_path / "one.s")]) == 0
        want[i] = read_scores(tmp_path / "one.s", n_rows=1)[0]
        if i == 12:
            break
    assert main(["predict", str(model), str(tmp_path / "mixed.txt"), "--sort", "--out", str(tmp_path / "s")]) == 0
    got = read_scores(tmp_path / "s", n_rows=len(interleaved))
    assert [got[i] for i in want] == list(want.values())
    assert main(["predict", str(model), str(tmp_path / "semi.txt"), "--out", str(tmp_path / "semi.s")]) == 0
    semi = read_scores(tmp_path / "semi.s", n_rows=len(lines))
    assert main(["predict", str(model), str(files["test"]), "--out", str(tmp_path / "all.s")]) == 0
    assert semi.tolist() == read_scores(tmp_path / "all.s", n_rows=len(lines)).tolist()  # labels do not matter
    capsys.readouterr()
    assert main(["predict", str(model), str(tmp_path / "semi.txt"), "--unjudged", "drop", "--out",
                 str(tmp_path / "kept.s")]) == 0
    assert f"{(len(lines) + 2) // 3} of {len(lines)} rows were dropped (--unjudged drop)" in capsys.readouterr().err
    kept = read_scores(tmp_path / "kept.s", n_rows=len(lines) - (len(lines) + 2) // 3)
    assert kept.tolist() == [v for i, v in enumerate(semi.tolist()) if i % 3]


def test_label_and_doc_id_problems_stop_a_command_before_it_trains(files, tmp_path, capsys):
    """Labels beyond ERR's grade (err@10 is a default metric) and --run-out on data without document ids were found
    after training, and the trained model or the whole cross-validation was thrown away."""
    import time

    d = make_ranking(40, (4, 8), 4, random_state=0)
    graded = tmp_path / "graded.txt"
    write_letor(graded, d.__class__(**{**{k: getattr(d, k) for k in ("X", "qid", "group_ptr")}, "y": d.y * 2}))
    t0 = time.perf_counter()
    assert main(["train", str(graded), "--rounds", "2000", "--preset", "none", "--metrics", "ndcg@10,err@10",
                 "--out", str(tmp_path / "m.txt")]) == 1  # ERR named: the default metrics take G from the labels
    assert time.perf_counter() - t0 < 30  # refused before 2,000 rounds
    assert "ERR needs labels <= max_grade=4, got a label 8" in capsys.readouterr().err
    assert not (tmp_path / "m.txt").exists()
    plain = tmp_path / "plain.txt"
    write_letor(plain, d)
    assert "#" not in plain.read_text().splitlines()[-1]
    assert main(["cv", str(plain), "--folds", "3", "--out", str(tmp_path / "cv.json"), "--run-out",
                 str(tmp_path / "cv.run")]) == 2
    assert f"--run-out needs document ids, and {plain} has none on its first row" in capsys.readouterr().err
    assert not (tmp_path / "cv.json").exists()


def test_predict_reads_data_as_the_models_training_data_was_read(tmp_path, capsys):
    """--missing nan (absent features missing, not 0) and --sparse (XGBoost: absent = missing) change the values a
    model sees: ltr train records them with the model and ltr predict applies them unless told otherwise, saying so
    (predict without them scored all 120 rows of a trial differently, by up to 1.24)."""
    import json

    from ltr.io import read_scores

    rng = np.random.default_rng(7)
    for name, n_q, width in (("train", 40, 60), ("test", 8, 70)):
        lines = []
        for q in range(n_q):
            for _ in range(10):
                ids = np.sort(rng.choice(np.arange(1, width + 1), 20, replace=False))
                lines.append(f"{rng.integers(0, 5)} qid:{q + 1} " + " ".join(f"{i}:{rng.random():.4f}" for i in ids))
        (tmp_path / f"{name}.txt").write_text("\n".join(lines) + "\n")
    train, test = tmp_path / "train.txt", tmp_path / "test.txt"
    for engine, flags in (("lightgbm", ["--missing", "nan"]), ("xgboost", ["--sparse"])):
        model = tmp_path / f"{engine}.json"
        assert main(["train", str(train), "--engine", engine, "--n-features", "70", "--preset", "none", "--rounds",
                     "20", "--out", str(model), "--quiet", *flags]) == 0
        recorded = json.loads((tmp_path / f"{engine}.json.meta.json").read_text())["read_options"]
        assert recorded == ({"missing": "nan"} if engine == "lightgbm" else {"sparse": True})
        capsys.readouterr()
        scores = {}
        runs = [("plain", []), ("told", flags)] + ([("other", ["--missing", "0"])] if engine == "lightgbm" else [])
        for label, extra in runs:
            out = tmp_path / f"{engine}-{label}.s"
            assert main(["predict", str(model), str(test), "--out", str(out), *extra]) == 0
            scores[label] = read_scores(out, n_rows=80)
            err = capsys.readouterr().err
            if label == "plain":
                assert f"note: DATA read as the model's training data was: {' '.join(flags)}" in err
            if label == "other":  # told otherwise: read otherwise, and said
                assert "as asked: --missing 0.0 (trained with --missing nan)" in err
        assert scores["plain"].tolist() == scores["told"].tolist()
        if engine == "lightgbm":
            assert scores["other"].tolist() != scores["plain"].tolist()
    # the fold models ltr cv --save-dir writes keep them too
    assert main(["cv", str(train), "--folds", "2", "--n-features", "70", "--preset", "none", "--rounds", "5",
                 "--missing", "nan", "--quiet", "--save-dir", str(tmp_path / "folds")]) == 0
    meta = json.loads((tmp_path / "folds" / "Fold1" / "model.txt.meta.json").read_text())
    assert meta["read_options"] == {"missing": "nan"}


def test_predict_refuses_data_of_other_features_and_pads_a_narrower_file(tmp_path, capsys):
    """A 136-feature model scored a 46-feature file silently (columns 47.. as 0), also when both sides named their
    columns differently: names that differ, or a wider file, are refused; a narrower one is padded, saying so."""
    from dataclasses import replace

    d = make_ranking(30, (4, 8), 5, random_state=0)
    named = replace(d, feature_names=("bm25", "tfidf", "lm", "pagerank", "length"))
    write_letor(tmp_path / "train.txt", named)
    assert main(["train", str(tmp_path / "train.txt"), "--rounds", "3", "--out", str(tmp_path / "m.txt"),
                 "--quiet"]) == 0
    write_letor(tmp_path / "other.txt", replace(d, feature_names=("bm25", "tfidf", "lm", "urllen", "length")))
    assert main(["predict", str(tmp_path / "m.txt"), str(tmp_path / "other.txt"), "--out", str(tmp_path / "s")]) == 1
    assert "names column 4 'urllen', the model" in capsys.readouterr().err and not (tmp_path / "s").exists()
    wide = make_ranking(5, (3, 3), 7, random_state=1)
    write_letor(tmp_path / "wide.txt", wide)
    assert main(["predict", str(tmp_path / "m.txt"), str(tmp_path / "wide.txt"), "--out", str(tmp_path / "s")]) == 1
    assert "has feature ids up to 7, the model" in capsys.readouterr().err
    lines = [" ".join(t for t in line.split() if not t.startswith(("4:", "5:"))) for line in
             (tmp_path / "train.txt").read_text().splitlines() if not line.startswith("#")]
    (tmp_path / "narrow.txt").write_text("\n".join(lines) + "\n")
    assert main(["predict", str(tmp_path / "m.txt"), str(tmp_path / "narrow.txt"), "--out", str(tmp_path / "s")]) == 0
    assert (f"lists feature ids up to 3, the model {tmp_path / 'm.txt'} has 5: features 4..5 read as 0"
            in capsys.readouterr().err)
    # read sparse, they are absent from the matrix: missing values to XGBoost (the note said "read as 0")
    assert main(["predict", str(tmp_path / "m.txt"), str(tmp_path / "narrow.txt"), "--sparse", "--out",
                 str(tmp_path / "s")]) == 0
    assert ("features 4..5 read as absent from the sparse matrix (0 to LightGBM, missing values to XGBoost)"
            in capsys.readouterr().err)
    write_letor(tmp_path / "valid.txt", make_ranking(5, (3, 3), 3, random_state=2))  # --valid narrower than TRAIN
    assert main(["train", str(tmp_path / "train.txt"), "--valid", str(tmp_path / "valid.txt"), "--rounds", "2"]) == 0
    assert "valid.txt lists feature ids up to 3, TRAIN" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "train.txt"), "--test", str(tmp_path / "wide.txt"), "--rounds", "2"]) == 1
    assert "pass --n-features, the widest's" in capsys.readouterr().err


def test_train_says_how_many_rounds_ran_and_which_it_kept(files, tmp_path, capsys):
    """After early stopping the model keeps the best round; the rounds run are those of its validation curve (the
    trial's log showed rounds 1..13 and the summary 'trained 3 rounds')."""
    import re

    assert main(["train", str(files["train"]), "--valid", str(files["valid"]), "--early-stopping", "3",
                 "--preset", "none", "--learning-rate", "0.5", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rounds_run"] > result["rounds"]
    assert main(["train", str(files["train"]), "--valid", str(files["valid"]), "--early-stopping", "3",
                 "--preset", "none", "--learning-rate", "0.5"]) == 0
    shown = capsys.readouterr()
    best, ran = map(int, re.search(r"trained (\d+) rounds \(ran (\d+), kept the best\)",
                                   shown.out + shown.err).groups())
    assert (best, ran) == (result["rounds"], result["rounds_run"]) and ran - best <= 3


def test_trec_format_uses_trec_evals_names_only_for_trec_evals_measures(files, tmp_path, capsys):
    """LETOR scores are evaluated with the exp2 gain by default: that NDCG is not trec_eval's ndcg_cut_10, so
    --format trec names it ndcg@10 (with --gain linear it is trec_eval's, and named so)."""
    from ltr.io import write_scores

    d = read_letor(files["test"])
    write_scores(tmp_path / "s.txt", np.linspace(0, 1, d.n_rows))
    argv = ["evaluate", str(files["test"]), "--scores", str(tmp_path / "s.txt"), "--metrics", "ndcg@10,p@5",
            "--format", "trec"]
    assert main(argv) == 0
    exp2 = capsys.readouterr().out.split()
    assert main([*argv, "--gain", "linear"]) == 0
    linear = capsys.readouterr().out.split()
    assert exp2[0::3] == ["ndcg@10", "p@5"] and linear[0::3] == ["P_5", "ndcg_cut_10"]  # trec_eval's order
    want = evaluate(d.y, np.linspace(0, 1, d.n_rows), group_ptr=d.group_ptr, metrics=["ndcg@10"], gain="exp2")
    assert float(exp2[2]) == pytest.approx(want["ndcg@10"], abs=5e-5)


def test_qrels_and_run_given_as_one_file_are_refused(tmp_path, capsys):
    (tmp_path / "q").write_text("1 0 a 1\n")
    assert main(["evaluate", "--qrels", str(tmp_path / "q"), "--run", str(tmp_path / "q")]) == 2
    assert "--qrels and --run are both" in capsys.readouterr().err


@pytest.mark.parametrize("run_ids, qrels_ids", [(("4", "301"), ("0004", "0301")), (("0051",), ("51",))])
def test_no_query_in_common_because_of_leading_zeros_says_so(tmp_path, capsys, run_ids, qrels_ids):
    """A trial (t45): NTCIR-style topics '<num>0004</num>' read as 4 gave a run no qrels matched, and the error asked
    about another collection."""
    (tmp_path / "q").write_text("".join(f"{q} 0 a 1\n" for q in qrels_ids))
    (tmp_path / "r").write_text("".join(f"{q} Q0 a 1 2.0 t\n" for q in run_ids))
    assert main(["evaluate", "--qrels", str(tmp_path / "q"), "--run", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    pair = repr(qrels_ids[-1]) + " -> " + repr(run_ids[-1]) if len(qrels_ids[0]) > len(run_ids[0]) else \
        repr(run_ids[0]) + " -> " + repr(qrels_ids[0])
    assert "their ids differ in leading zeros (" in err and pair in err and "another collection" not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("fmt", ["table", "json", "trec"])
def test_a_run_and_qrels_without_a_common_query_are_an_error_as_in_trec_eval(tmp_path, capsys, fmt):
    (tmp_path / "q").write_text("1 0 a 1\n2 0 b 1\n")
    (tmp_path / "r").write_text("7 Q0 a 1 2.0 t\n")
    code = main(["evaluate", "--qrels", str(tmp_path / "q"), "--run", str(tmp_path / "r"), "--format", fmt, "-q"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""  # trec_eval: "No queries with both results and relevance info"
    assert (f"{tmp_path / 'r'} and {tmp_path / 'q'} have no query in common (the run's: 7; the judgments': 1, 2)"
            in captured.err)
    (tmp_path / "r").write_text("# a run with no lines\n")
    assert main(["evaluate", "--qrels", str(tmp_path / "q"), "--run", str(tmp_path / "r"), "--format", fmt]) == 1
    assert f"{tmp_path / 'r'}: the run file has no lines" in capsys.readouterr().err


def test_a_run_listing_a_document_twice_is_named_by_its_file(tmp_path, capsys):
    (tmp_path / "dup.run").write_text("1 Q0 a 1 2 t\n1 Q0 a 2 1 t\n")
    (tmp_path / "q").write_text("1 0 a 1\n")
    assert main(["evaluate", "--qrels", str(tmp_path / "q"), "--run", str(tmp_path / "dup.run")]) == 1
    assert (f"{tmp_path / 'dup.run'}:2: query 1 lists document a twice (first on line 1) (token 'a'); trec_eval "
            "refuses duplicates" in capsys.readouterr().err)


def test_dataset_names_a_file_that_does_not_look_like_the_set(tmp_path, capsys):
    """--dataset attaches a set's width and names: a 46-feature file read as MSLR's 136, or order labels up to 1920
    read as Yahoo's 0..4, were accepted without a word."""
    d = make_ranking(10, (4, 4), 46, random_state=0)
    text = write_letor(tmp_path / "mq.txt", d).read_text()
    (tmp_path / "plain.txt").write_text("".join(line + "\n" for line in text.splitlines() if not line.startswith("#")))
    # no value in more than a quarter of the width: an error, as its features would get MSLR's names (trial t45)
    assert main(["info", str(tmp_path / "plain.txt"), "--dataset", "mslr-web10k"]) == 1
    assert ("plain.txt has no value in features 47..136 of mslr-web10k's 136: it is not that set's file (without "
            "--dataset mslr-web10k its width is read from the file)") in capsys.readouterr().err
    assert main(["train", str(tmp_path / "plain.txt"), "--dataset", "mslr-web10k", "--rounds", "2",
                 "--out", str(tmp_path / "m.txt")]) == 1
    assert "it is not that set's file" in capsys.readouterr().err and not (tmp_path / "m.txt").exists()
    (tmp_path / "list.txt").write_text("1920 qid:1 1:0.5\n3 qid:1 1:0.2\n")
    assert main(["info", str(tmp_path / "list.txt"), "--dataset", "yahoo-set1"]) == 0
    assert "has labels 3..1920, outside yahoo-set1's documented 0..4" in capsys.readouterr().err


@pytest.mark.shared
def test_dataset_checks_are_quiet_on_the_real_sets(shared_file, capsys):
    for path, name in (("mq2008/Fold1/vali.txt.gz", "mq2008"), ("mslr_sample/mslr_fold1_test_sample.txt.gz",
                                                                  "mslr-web10k")):
        assert main(["info", str(shared_file(path)), "--dataset", name]) == 0
        assert "is it that set?" not in capsys.readouterr().err


def test_quiet_means_nothing_on_standard_error(files, tmp_path, capsys):
    assert main(["train", str(files["train"]), "--rounds", "2", "--out", str(tmp_path / "m.txt"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "m.txt"), str(files["test"]), "--out", str(tmp_path / "s"),
                 "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_predict_keeps_unjudged_rows_by_default_as_its_help_says_and_honours_unjudged_error(tmp_path, capsys):
    from ltr.cli import build_parser

    data = make_ranking(12, 6, 4, random_state=0)
    train = write_letor(tmp_path / "train.txt", data)
    assert main(["train", str(train), "--rounds", "3", "--min-child-samples", "2", "--quiet",
                 "--out", str(tmp_path / "m.txt")]) == 0
    (tmp_path / "semi.txt").write_text("-1 qid:1 1:0.5\n1 qid:1 1:0.2 2:1\n")
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "m.txt"), str(tmp_path / "semi.txt"), "--out", "-", "--quiet"]) == 0
    assert len(capsys.readouterr().out.split()) == 2
    assert main(["predict", str(tmp_path / "m.txt"), str(tmp_path / "semi.txt"), "--out", "-",
                 "--unjudged", "error"]) == 1
    assert "label -1 marks an unjudged document" in capsys.readouterr().err
    predict = build_parser()._subparsers._group_actions[0].choices["predict"]
    assert "(default: keep)" in predict.format_help().replace("\n", " ").replace("  ", " ")


@pytest.mark.shared
def test_an_output_on_standard_output_is_all_that_goes_there_in_cv_and_compare(shared_file, tmp_path, capsys):
    data = shared_file("mq2008/Fold1/vali.txt.gz")  # with '#docid' comments, for --run-out
    args = ["cv", str(data), "--folds", "3", "--rounds", "3", "--min-child-samples", "2"]
    assert main([*args, "--out", "-", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["kind"] == "cv"  # one document: the result; the table went to stderr
    assert "wrote -" not in captured.err and '"systems"' in captured.err
    assert main([*args, "--run-out", "-", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out and all(len(line.split()) == 6 for line in captured.out.splitlines())  # run lines only
    assert captured.err == ""  # --quiet: the table, a note here, is left out
    assert main([*args, "--out", str(tmp_path / "a.json"), "--quiet"]) == 0
    assert main([*args, "--seed", "1", "--out", str(tmp_path / "b.json"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out", "-", "--tests", "t"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["kind"] == "compare" and "wrote -" not in captured.err
    assert main([*args, "--out", "-", "--run-out", "-"]) == 2
    assert "standard output given twice (--out - and --run-out -)" in capsys.readouterr().err
    # another spelling of standard output is the same stream (trial t45: the two documents came out mixed)
    for alias in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
        assert main([*args, "--out", "-", "--run-out", alias]) == 2
        assert f"standard output given twice (--out - and --run-out {alias})" in capsys.readouterr().err
    assert main([*args, "--out", "/dev/stderr", "--run-out", "/dev/fd/2"]) == 2
    assert "standard error given twice" in capsys.readouterr().err
    assert main([*args, "--out", "/dev/null", "--run-out", "/dev/null", "--quiet"]) == 0  # both discarded, as asked


def test_cv_save_dir_names_folds_of_an_earlier_run_and_refuses_a_file(files, tmp_path, capsys):
    args = ["cv", str(files["train"]), "--rounds", "2", "--min-child-samples", "2", "--format", "csv"]
    assert main([*args, "--folds", "3", "--save-dir", str(tmp_path / "sd")]) == 0
    capsys.readouterr()
    assert main([*args, "--folds", "2", "--save-dir", str(tmp_path / "sd"), "--quiet"]) == 0
    # a warning, under --quiet too (t64: a note, which --quiet dropped; a glob of sd/Fold*/ mixes the runs)
    assert f"ltr cv: warning: {tmp_path / 'sd'} also holds Fold3 of an earlier run (this one wrote 2 folds): " \
        "remove them, or save elsewhere" in capsys.readouterr().err
    (tmp_path / "afile").write_text("x")
    assert main([*args, "--folds", "2", "--save-dir", str(tmp_path / "afile")]) == 2
    assert f"--save-dir {tmp_path / 'afile'}: is a file, not a folder" in capsys.readouterr().err


def test_a_cv_result_written_beside_the_folds_is_replaced_by_the_same_command_run_again(files, tmp_path, capsys):
    """The fold files and their sidecars are the inputs, not every file of the folder that holds them: a result
    kept beside them (MQ2008/cv.json) was refused as an input the second time the same command ran."""
    import shutil

    folds = tmp_path / "folds"
    for k in range(1, 3):
        (folds / f"Fold{k}").mkdir(parents=True)
        for part in ("train", "vali", "test"):
            shutil.copy(files["valid"], folds / f"Fold{k}" / f"{part}.txt")
    for out in (folds / "cv.json", folds / "Fold1" / "notes.json"):
        argv = ["cv", str(folds), "--rounds", "2", "--quiet", "--out", str(out)]
        assert main(argv) == 0 and main(argv) == 0, capsys.readouterr().err
    for out, said in ((folds / "Fold2" / "vali.txt", "is also an input of this command"),  # a part
                      (folds / "Fold2" / "vali.txt.query", "the name of a sidecar the readers find beside this "
                                                           "command's data")):  # a sidecar's name, not there yet
        assert main(["cv", str(folds), "--rounds", "2", "--quiet", "--out", str(out)]) == 2
        assert f"{out}: {said} ({out})" in capsys.readouterr().err
