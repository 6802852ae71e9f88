"""``--convention letor`` through the command line (issue #15): ``ltr evaluate`` and ``ltr train`` print the LETOR
3.0/4.0 script's values and name the preset, ``ltr compare`` refuses cv results evaluated under different conventions,
and MQ2008 shows the published NDCG@9/@10 collapse.

The expected values come from :func:`letor_reference`, a plain-Python transcription of the rules as issue #15 states
them, over rows read with ``gzip`` and ``str.split``: neither ``ltr.metrics`` nor ``ltr.io`` computes a reference here.
"""

from __future__ import annotations

import gzip
import json
import math
import random

import pytest

from ltr.cli import main

pytestmark = pytest.mark.shared

LETOR_NAMES = [f"p@{k}" for k in range(1, 11)] + ["map"] + [f"ndcg@{k}" for k in range(1, 11)] + ["mean_ndcg"]
PRESET = "LETOR 3.0/4.0 script"  # how every table names the preset
FAST = ["--rounds", "10", "--learning-rate", "0.1", "--leaves", "7", "--quiet", "--n-jobs", "1"]


def letor_reference(labels: list[int], scores: list[float]) -> dict[str, float]:
    """One query under the LETOR preset, written from issue #15's rules and nothing else."""
    n = len(labels)
    order = sorted(range(n), key=lambda i: -scores[i])  # Python's sort is stable: ties stay in file order
    ranked = [labels[i] for i in order]
    ideal = sorted(labels, reverse=True)

    def dcg(ls: list[int], k: int) -> float:
        # gain 2^label - 1; positions 1 and 2 undiscounted, position r >= 3 divided by log2(r)
        return sum((2 ** lab - 1) / (1.0 if r <= 2 else math.log2(r)) for r, lab in enumerate(ls[:k], start=1))

    def ndcg(k: int) -> float:
        best = dcg(ideal, k)
        return 0.0 if n < k or best == 0 else dcg(ranked, k) / best  # fewer than k documents, or none relevant: 0

    hits, ap = 0, 0.0
    for r, lab in enumerate(ranked, start=1):
        if lab >= 1:
            hits += 1
            ap += hits / r
    out = {f"p@{k}": sum(lab >= 1 for lab in ranked[:k]) / k for k in range(1, 11)}  # past the end: not relevant
    out["map"] = ap / hits if hits else 0.0
    out.update({f"ndcg@{k}": ndcg(k) for k in range(1, 11)})
    out["mean_ndcg"] = sum(ndcg(k) for k in range(1, n + 1)) / n
    return out


def read_rows(path) -> list[tuple[int, str, dict[str, float]]]:
    """``(label, qid, {feature id: value})`` per row of a LETOR 4.0 file, in file order."""
    rows = []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            tokens = line.split("#", 1)[0].split()
            rows.append((int(tokens[0]), tokens[1].removeprefix("qid:"),
                         {int(k): float(v) for k, v in (t.split(":") for t in tokens[2:])}))
    return rows


def by_query(rows, scores: list[float]) -> dict[str, tuple[list[int], list[float]]]:
    out: dict[str, tuple[list[int], list[float]]] = {}
    for (label, qid, _), s in zip(rows, scores):
        out.setdefault(qid, ([], []))
        out[qid][0].append(label)
        out[qid][1].append(s)
    return out


def reference_means(queries, names) -> dict[str, float]:
    per_query = [letor_reference(*lists) for lists in queries.values()]
    return {m: sum(r[m] for r in per_query) / len(per_query) for m in names}


def ok(argv, capsys) -> str:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert code == 0, f"ltr {' '.join(map(str, argv))}\n{captured.err}"
    return captured.out


@pytest.fixture(scope="module")
def mq2008_scored(shared_file, tmp_path_factory):
    """MQ2008 S5 (Fold1 test) with model-like scores: feature 25 (BM25 of the whole document in LETOR 4.0's list)
    plus seeded noise, rounded to two decimals so that many documents of a query tie."""
    data = shared_file("mq2008/Fold1/test.txt.gz")
    rows = read_rows(data)
    rng = random.Random(15)
    scores = [round(feats[25] + rng.random() / 10, 2) for _, _, feats in rows]
    path = tmp_path_factory.mktemp("letor") / "scores.txt"
    path.write_text("".join(f"{s}\n" for s in scores))
    queries = by_query(rows, scores)
    assert sum(len(s) - len(set(s)) for _, s in queries.values()) > 100  # the stable order is exercised
    return data, path, queries


# ---------------------------------------------------------------- ltr evaluate


def test_evaluate_json_per_query_equals_the_issues_rules_on_mq2008(mq2008_scored, capsys):
    data, scores, queries = mq2008_scored
    out = json.loads(ok(["evaluate", data, "--scores", scores, "--convention", "letor", "--metrics",
                         ",".join(LETOR_NAMES), "-q", "--format", "json"], capsys))
    assert list(out["per_query"]) == list(queries) and len(queries) == 156
    for qid, (labels, s) in queries.items():
        ref = letor_reference(labels, s)
        for m in LETOR_NAMES:
            # 1/log2(r) here against the kernel's own arithmetic: equal up to the last bits
            assert out["per_query"][qid][m] == pytest.approx(ref[m], rel=0, abs=1e-12), (qid, m)
    expected = reference_means(queries, LETOR_NAMES)
    assert out["mean"] == pytest.approx(expected, rel=0, abs=1e-12)
    assert out["conventions"].startswith(PRESET) and "156 queries averaged" in out["conventions"]


def test_evaluate_table_and_plain_json_print_the_same_means_and_name_the_preset(mq2008_scored, capsys):
    data, scores, queries = mq2008_scored
    names = ["ndcg@1", "ndcg@3", "ndcg@8", "ndcg@10", "p@10", "map", "mean_ndcg"]
    expected = reference_means(queries, names)
    argv = ["evaluate", data, "--scores", scores, "--convention", "letor", "--metrics", ",".join(names)]
    out = json.loads(ok([*argv, "--format", "json"], capsys))
    assert out["mean"] == pytest.approx(expected, rel=0, abs=1e-12) and out["conventions"].startswith(PRESET)
    lines = ok(argv, capsys).splitlines()
    printed = {cells[0]: float(cells[1]) for cells in (line.split() for line in lines[2:2 + len(names)])}
    assert list(printed) == names
    for m in names:
        assert abs(printed[m] - expected[m]) <= 0.5e-4 + 1e-12, m  # the table shows four decimals
    assert lines[2 + len(names)].startswith(PRESET)
    # Without the preset the same scores give other numbers and the table does not claim it.
    plain = ok(argv[:-4] + ["--metrics", ",".join(names)], capsys)
    assert PRESET not in plain


# ---------------------------------------------------------------- ltr train


def test_train_reports_validation_metrics_under_the_preset_and_says_so(shared_file, tmp_path, capsys):
    train, valid = shared_file("mq2008/Fold1/vali.txt.gz"), shared_file("mq2008/Fold1/test.txt.gz")
    names = ["ndcg@1", "ndcg@8", "ndcg@10", "p@10", "map", "mean_ndcg"]
    model, scores = tmp_path / "m.txt", tmp_path / "scores.txt"
    argv = ["train", train, "--valid", valid, *FAST, "--convention", "letor", "--metrics", ",".join(names)]
    out = json.loads(ok([*argv, "--format", "json", "--out", model], capsys))
    assert out["conventions"].startswith(PRESET) and "queries averaged: valid 156" in out["conventions"]
    # The reference: the saved model's scores (ltr predict), evaluated by the issue's rules.
    ok(["predict", model, valid, "--out", scores], capsys)
    queries = by_query(read_rows(valid), [float(v) for v in scores.read_text().split()])
    assert out["valid"] == pytest.approx(reference_means(queries, names), rel=0, abs=1e-12)
    table = ok(argv, capsys)
    assert f"\n{PRESET}: " in table and "queries averaged: valid 156" in table


# ---------------------------------------------------------------- ltr compare


def test_compare_refuses_cv_results_evaluated_under_different_conventions(shared_file, tmp_path, capsys):
    data = shared_file("mq2008/Fold1/test.txt.gz")
    for name, extra in (("plain", []), ("letor", ["--convention", "letor"]),
                        ("letor7", ["--convention", "letor", "--seed", "7"])):
        ok(["cv", data, "--folds", "3", *FAST, *extra, "--metrics", "ndcg@10,map", "--name", name,
            "--out", tmp_path / f"{name}.json"], capsys)
    plain, letor, letor7 = (str(tmp_path / f"{n}.json") for n in ("plain", "letor", "letor7"))

    def refused(argv, code: int) -> str:
        assert main(["compare", *argv, "--tests", "t"]) == code
        captured = capsys.readouterr()
        assert captured.out == "" and "Traceback" not in captured.err
        assert len(captured.err.strip().splitlines()) == 1, captured.err
        return captured.err

    # Without --convention the stored conventions are compared with each other: a data error, never a mixed table.
    err = refused([plain, letor], 1)
    assert "different metric conventions" in err and "'convention': 'letor'" in err
    assert "plain: {" in err and "letor: {" in err
    # With --convention, each cv result is checked against it: a usage error naming both conventions.
    err = refused([plain, letor, "--convention", "letor"], 2)
    assert "--convention letor: cv result 'plain' was evaluated with convention='default'" in err
    err = refused([letor, plain, "--convention", "default"], 2)
    assert "--convention default: cv result 'letor' was evaluated with convention='letor'" in err
    # Results evaluated alike are compared, and the table names the preset.
    for extra in ([], ["--convention", "letor"]):
        table = ok(["compare", letor, letor7, "--tests", "t", *extra], capsys)
        assert PRESET in table and "156 queries" in table


# ---------------------------------------------------------------- the MQ2008 collapse


def test_mq2008_ndcg_at_9_and_10_is_zero_for_every_short_query_and_the_mean_drops_by_their_share(
        mq2008_scored, capsys):
    data, scores, queries = mq2008_scored
    names = ["ndcg@8", "ndcg@9", "ndcg@10"]
    argv = ["evaluate", data, "--scores", scores, "--metrics", ",".join(names), "-q", "--format", "json"]
    letor = json.loads(ok([*argv, "--convention", "letor"], capsys))
    default = json.loads(ok(argv, capsys))
    sizes = {qid: len(labels) for qid, (labels, _) in queries.items()}
    short = [q for q, n in sizes.items() if n < 9]  # MQ2008 S5 has no query of 9 to 11 documents
    long = [q for q, n in sizes.items() if n >= 10]
    assert len(short) + len(long) == 156 and 0.4 < len(short) / 156 < 0.6
    for q in short:
        assert letor["per_query"][q]["ndcg@9"] == 0.0 and letor["per_query"][q]["ndcg@10"] == 0.0
        assert default["per_query"][q]["ndcg@10"] > 0 or max(queries[q][0]) == 0  # the default keeps short lists
    assert sum(sizes[q] >= 8 and letor["per_query"][q]["ndcg@8"] > 0 for q in short) > 0.5 * len(short)
    for k in ("ndcg@9", "ndcg@10"):
        # The mean is the long queries' sum over all 156: the short ones count, as zeros.
        assert letor["mean"][k] == pytest.approx(sum(letor["per_query"][q][k] for q in long) / 156, rel=0, abs=1e-12)
        assert letor["mean"][k] < 0.6 * letor["mean"]["ndcg@8"]  # the published shape: about half of NDCG@8
        assert letor["mean"][k] < 0.6 * default["mean"][k]
    assert abs(default["mean"]["ndcg@10"] - default["mean"]["ndcg@8"]) < 0.05  # no collapse without the preset


@pytest.mark.parametrize("convention", ["letor", "lightgbm", "ranklib"])
def test_a_convention_for_letor_scores_given_with_a_trec_run_is_named_as_given(tmp_path, capsys, convention):
    (tmp_path / "q").write_text("1 0 a 1\n")
    (tmp_path / "r").write_text("1 Q0 a 1 1.0 x\n")
    assert main(["evaluate", "--qrels", str(tmp_path / "q"), "--run", str(tmp_path / "r"),
                 "--convention", convention]) == 2
    assert capsys.readouterr().err == (f"ltr evaluate: error: --convention {convention} applies to LETOR scores "
                                       "(DATA --scores S), not to TREC runs (read as trec_eval reads them)\n")


@pytest.mark.parametrize("metric, lgb_metric", [("ndcg@10", "ndcg@10"), ("map@5", "map@5")])
def test_convention_lightgbm_weights_the_means_by_query_as_lightgbm_does(tmp_path, capsys, metric, lgb_metric):
    """A trial (t45): a file in LightGBM's layout with a .weight sidecar gave NDCG@10 0.6391 where LightGBM's own
    metric on the same file gives 0.6427 (it weights each query by its rows' mean weight)."""
    import lightgbm as lgb
    import numpy as np

    rnd = random.Random(3)
    sizes = [rnd.randint(2, 14) for _ in range(60)]
    rows = sum(sizes)
    data = tmp_path / "w.train"
    data.write_text("".join(f"{rnd.choice([0, 0, 1, 2, 3])} 1:{rnd.random():.4f} 2:{rnd.random():.4f}\n"
                            for _ in range(rows)))
    (tmp_path / "w.train.query").write_text("".join(f"{s}\n" for s in sizes))
    # weights that vary within a query too: LightGBM's query weight is the mean of its rows'
    (tmp_path / "w.train.weight").write_text("".join(f"{rnd.choice([0.1, 0.5, 1, 3.7, 10])}\n" for _ in range(rows)))
    scores = [rnd.random() for _ in range(rows)]
    (tmp_path / "s.txt").write_text("".join(f"{s!r}\n" for s in scores))
    labels = [int(line.split()[0]) for line in data.read_text().splitlines()]
    starts = np.cumsum([0, *sizes])
    # LightGBM's NDCG adds a query without relevant documents unweighted: the data must hold some
    assert sum(max(labels[a:b]) == 0 for a, b in zip(starts[:-1], starts[1:])) >= 2
    record: dict = {}
    k = int(metric.split("@")[1])
    ds = lgb.Dataset(str(data), params={"verbose": -1}, init_score=np.array(scores))
    lgb.train(dict(objective="lambdarank", metric=lgb_metric.split("@")[0], eval_at=[k], verbose=-1,
                   learning_rate=1e-12, min_data_in_leaf=100000, num_threads=1), ds, 1, valid_sets=[ds],
              valid_names=["v"], callbacks=[lgb.record_evaluation(record)])
    want = record["v"][lgb_metric][0]
    argv = ["evaluate", str(data), "--scores", str(tmp_path / "s.txt"), "--metrics", metric, "--format", "json"]
    assert main([*argv, "--convention", "lightgbm"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["mean"][metric] == pytest.approx(want, rel=1e-12, abs=1e-12)
    assert "the means of ndcg and map are weighted by query" in out.err
    assert main(argv) == 0  # other conventions: each query counts once, and the note says the weights are unused
    out = capsys.readouterr()
    plain = json.loads(out.out)["mean"][metric]
    assert plain != pytest.approx(want, abs=1e-4)
    assert "w.train.weight are not used" in out.err
    # trec_eval's layout prints the same weighted 'all' line (the review of t45: it printed the plain mean)
    assert main([*argv[:-2], "--format", "trec", "--convention", "lightgbm"]) == 0
    [all_line] = [line for line in capsys.readouterr().out.splitlines() if "\tall\t" in line]
    assert all_line.split("\t")[2] == f"{want:6.4f}"
    # MRR, which LightGBM lacks, keeps its plain mean
    assert main([*argv[:5], "mrr," + metric, "--format", "json", "--convention", "lightgbm"]) == 0
    means = json.loads(capsys.readouterr().out)["mean"]
    assert means[metric] == pytest.approx(want, rel=1e-12, abs=1e-12)
    assert main([*argv[:5], "mrr", "--format", "json", "--convention", "lightgbm", "--no-weight-file"]) == 0
    assert means["mrr"] == json.loads(capsys.readouterr().out)["mean"]["mrr"]


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_train_stops_early_on_a_weighted_validation_set_as_lightgbm_does(tmp_path, capsys, engine):
    """--valid's .weight was read and its metrics taken unweighted under --convention lightgbm too: early stopping
    kept round 165 where LightGBM, given the weighted validation Dataset, keeps 125 (MQ2008), and the table said
    ndcg@10 0.7764 where ltr evaluate and LightGBM say 0.6210 (trial t50). LightGBM's own weighted ndcg@10 curve is
    the reference here, for either engine's model (a second LightGBM run whose scores are its init_score)."""
    import lightgbm as lgb
    import numpy as np

    rnd = random.Random(5)
    paths = {}
    for name, n_q in (("t", 80), ("v", 60)):
        sizes = [rnd.randint(3, 12) for _ in range(n_q)]
        rows = sum(sizes)
        paths[name] = tmp_path / f"{name}.txt"
        x = [[rnd.random() for _ in range(3)] for _ in range(rows)]  # labels that the features predict, noisily
        paths[name].write_text("".join(f"{min(3, int(3 * f[0] + 2 * f[1] * rnd.random()))} 1:{f[0]:.4f} "
                                       f"2:{f[1]:.4f} 3:{f[2]:.4f}\n" for f in x))
        (tmp_path / f"{name}.txt.query").write_text("".join(f"{s}\n" for s in sizes))
    v_rows = len(paths["v"].read_text().splitlines())
    (tmp_path / "v.txt.weight").write_text("".join(f"{rnd.choice([0.2, 1, 4, 9])}\n" for _ in range(v_rows)))
    argv = ["train", str(paths["t"]), "--valid", str(paths["v"]), "--engine", engine, "--preset", "none",
            "--rounds", "120", "--early-stopping", "10", "--learning-rate", "0.3", "--leaves", "15",
            "--metrics", "ndcg@10", "--n-jobs", "1", "--convention", "lightgbm", "--format", "json"]
    assert main([*argv, "--out", str(tmp_path / "m.txt")]) == 0
    out = capsys.readouterr()
    assert "the means of ndcg and map are weighted by query, each query by its rows' mean weight in" in out.err
    got = json.loads(out.out)
    import xgboost as xgb

    from ltr import Ranker
    from ltr.io import read_letor

    valid = read_letor(paths["v"])
    model = Ranker(engine=engine, preset=None, n_estimators=120, early_stopping_rounds=10, learning_rate=0.3,
                   num_leaves=15, n_jobs=1, eval_params={"convention": "lightgbm"})
    model.fit(read_letor(paths["t"]), eval_set=[valid])
    assert model.best_iteration_ == got["rounds"] and model.n_rounds_ == model.best_iteration_ + 10
    curve = []
    for rounds in range(1, model.best_iteration_ + 1):  # LightGBM's weighted ndcg@10 of each round kept (saved)
        if engine == "lightgbm":
            scores = model.booster_.predict(valid.X, num_iteration=rounds, raw_score=True)
        else:
            scores = model.booster_.predict(xgb.DMatrix(valid.X), iteration_range=(0, rounds), output_margin=True)
        record: dict = {}
        ds = lgb.Dataset(str(paths["v"]), params={"verbose": -1}, init_score=np.asarray(scores, dtype=np.float64))
        lgb.train(dict(objective="lambdarank", metric="ndcg", eval_at=[10], verbose=-1, learning_rate=1e-12,
                       min_data_in_leaf=100000, num_threads=1), ds, 1, valid_sets=[ds], valid_names=["v"],
                  callbacks=[lgb.record_evaluation(record)])
        curve.append(record["v"]["ndcg@10"][0])
    recorded = model.evals_result_["valid_0"]["ndcg@10"]
    assert model.best_iteration_ >= 5
    np.testing.assert_allclose(recorded[:model.best_iteration_], curve, rtol=1e-12)
    assert model.best_iteration_ == int(np.argmax(recorded)) + 1  # (the later rounds: none better)
    assert got["valid"]["ndcg@10"] == pytest.approx(max(curve), rel=1e-12)
    assert main([*argv[:-4], "--out", str(tmp_path / "m2.txt")]) == 0  # another convention: said unused
    assert "v.txt.weight are not used by the validation metrics" in capsys.readouterr().err
    # ltr cv weighs its folds' validation parts so too, but keeps each query once in its test metrics, as ltr
    # compare pairs them: said, under every convention (it was silent; the review of t50)
    fold = tmp_path / "F" / "Fold1"
    fold.mkdir(parents=True)
    for part, src in (("train", "t"), ("vali", "v"), ("test", "v")):
        (fold / f"{part}.txt").write_text(paths[src].read_text())
        (fold / f"{part}.txt.query").write_text((tmp_path / f"{src}.txt.query").read_text())
    (fold / "vali.txt.weight").write_text((tmp_path / "v.txt.weight").read_text())
    (fold / "test.txt.weight").write_text((tmp_path / "v.txt.weight").read_text())
    cv = ["cv", str(tmp_path / "F"), "--engine", engine, "--preset", "none", "--rounds", "120", "--early-stopping",
          "10", "--learning-rate", "0.3", "--leaves", "15", "--metrics", "ndcg@10", "--n-jobs", "1",
          "--convention", "lightgbm", "--out", str(tmp_path / "cv.json")]
    assert main(cv) == 0
    err = capsys.readouterr().err
    assert "the row weights of the test parts (" in err and "are not used by the test metrics" in err
    assert json.loads((tmp_path / "cv.json").read_text())["systems"][0]["folds"][0]["rounds"] == got["rounds"]


def test_a_table_with_err_names_its_highest_grade():
    """ERR's default grade 4 on MQ2008's 0-2 labels gives 0.0915 where the set's own grade gives 0.2854, and the
    conventions line named the grade only when --max-grade was given (trial t48/training)."""
    from ltr.metrics import describe_conventions

    assert "ERR's highest grade 4" in describe_conventions(metrics=["ndcg@10", "err@10"])
    assert "ERR's highest grade 2" in describe_conventions(metrics=["err@10"], max_grade=2)
    assert "ERR's highest grade" not in describe_conventions(metrics=["ndcg@10", "map"])
    assert "ERR's highest grade" not in describe_conventions()


def test_evaluate_takes_row_weights_under_lightgbms_convention_only():
    from ltr.metrics import evaluate

    y, s, qid = [2, 0, 1, 0, 1, 0], [0.9, 0.8, 0.1, 0.3, 0.7, 0.2], [1, 1, 1, 2, 2, 3]
    w = [1.0, 1.0, 1.0, 3.0, 3.0, 5.0]  # query 3 has no relevant document: NDCG adds its 1 unweighted
    got = evaluate(y, s, qid=qid, metrics=["ndcg@10", "map"], convention="lightgbm", weight=w)
    plain = evaluate(y, s, qid=qid, metrics=["ndcg@10", "map"], convention="lightgbm")
    per = [0.0, 0.0, 1.0]  # query 1's NDCG and AP, by hand: ranks 2,0,1 (gains 3,0,1) and 2-relevant AP
    dcg = 3 + 0 + 1 / math.log2(4)
    idcg = 3 + 1 / math.log2(3)
    per[0] = dcg / idcg
    assert got["ndcg@10"] == pytest.approx((per[0] * 1 + 1.0 * 3 + 1.0) / 9)
    assert got["map"] == pytest.approx(((1 + 2 / 3) / 2 * 1 + 1.0 * 3 + 1.0 * 5) / 9)
    assert got != plain
    with pytest.raises(ValueError, match="weight= weighs the means by query as LightGBM does, with "
                                         "convention='lightgbm' only"):
        evaluate(y, s, qid=qid, metrics=["map"], weight=w)
