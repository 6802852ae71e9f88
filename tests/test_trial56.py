"""Behaviours mended in stop 56."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from ltr import Ranker
from ltr.datasets import make_ranking
from ltr.exceptions import ModelFormatError


@pytest.mark.parametrize("name, said", [("a\tb", " (it has '\\t')"), ("a\nb", " (it has '\\n')"),
                                        ("a\x00b", " (it has '\\x00')"), (".", ""), ("..", "")])
def test_an_export_name_with_whitespace_or_a_dot_path_is_refused(name, said):
    """A tab, a newline and '.'/'..' were taken as a model's or store's name (a space was refused): they break the
    plugin's URL path and Solr's {!ltr model=...} local parameters."""
    from ltr.export import ExportError
    from ltr.export.registry import _check_name

    for what in ("name", "store"):
        with pytest.raises(ExportError, match="must be a plain name") as e:
            _check_name(name, what)
        assert str(e.value).endswith(f"got {name!r}{said}")
    assert _check_name("v1.2", "name") == "v1.2" and _check_name("modèle", "name") == "modèle"


def _early_stopped_xgboost():
    import xgboost as xgb
    train, valid = make_ranking(40, 10, 5, random_state=0), make_ranking(20, 10, 5, random_state=1)
    model = xgb.XGBRanker(n_estimators=300, max_depth=3, learning_rate=0.3, early_stopping_rounds=3, n_jobs=1)
    model.fit(train.X, train.y, qid=train.qid, eval_set=[(valid.X, valid.y)], eval_qid=[valid.qid], verbose=False)
    assert model.best_iteration + 1 < model.get_booster().num_boosted_rounds()  # early-stopped short of the last
    return model, valid


def _best_iteration_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ensemble = fn()
    return ensemble, [str(w.message) for w in caught if "early" in str(w.message)]


def test_an_early_stopped_xgboost_model_is_warned_of_as_ubjson_and_as_a_booster(tmp_path):
    """The .json file warned that its best_iteration is not used; the same model as UBJSON (XGBoost's default
    format), and from_booster of the booster or the estimator, scored every round without a word (every MQ2008 row
    otherwise than XGBRanker.predict)."""
    import ltr.trees

    model, valid = _early_stopped_xgboost()
    best, rounds = model.best_iteration, model.get_booster().num_boosted_rounds()
    model.get_booster().save_model(tmp_path / "m.ubj")
    for fn in (lambda: ltr.trees.load(tmp_path / "m.ubj"), lambda: ltr.trees.from_booster(model.get_booster()),
               lambda: ltr.trees.from_booster(model)):
        ensemble, said = _best_iteration_warnings(fn)
        assert len(said) == 1 and f"n_iter={best + 1}" in said[0] and f"all {rounds} rounds" in said[0]
        np.testing.assert_array_equal(ensemble.predict(valid.X, n_iter=best + 1),
                                      model.predict(valid.X, output_margin=True).astype(np.float64))


def test_a_ranker_given_to_from_booster_warns_of_its_best_iteration_once():
    """(The booster's own warning and the Ranker's would both have said it.)"""
    import ltr.trees

    train, valid = make_ranking(40, 10, 5, random_state=0), make_ranking(20, 10, 5, random_state=1)
    ranker = Ranker(engine="xgboost", preset=None, n_estimators=300, learning_rate=0.3, max_depth=3,
                    early_stopping_rounds=3).fit(train, eval_set=valid)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ltr.trees.from_booster(ranker)
    said = [str(w.message) for w in caught if "best iteration" in str(w.message) or "early" in str(w.message)]
    assert len(said) == 1 and said[0].startswith("the Ranker applies its best iteration")


@pytest.mark.parametrize("sidecar", ["cut", "list", "folder"])
def test_the_trees_loader_refuses_a_sidecar_it_cannot_read(tmp_path, sidecar):
    """A sidecar cut short was read as no sidecar, so a leaf edited in the model text was scored without a word
    (ltr.load_model refuses both)."""
    import ltr.trees

    path = tmp_path / "m.txt"
    Ranker(preset=None, n_estimators=3).fit(make_ranking(10, 5, 4, random_state=0)).save(path)
    meta = tmp_path / "m.txt.meta.json"
    text = meta.read_text()
    if sidecar == "folder":
        meta.unlink()
        meta.mkdir()
    else:
        meta.write_text(text[: len(text) // 2] if sidecar == "cut" else "[1, 2]")
    with pytest.raises(ModelFormatError) as e:
        ltr.trees.load(path)
    assert str(e.value).startswith(f"{meta}: ")
    meta.rmdir() if sidecar == "folder" else meta.unlink()
    assert ltr.trees.load(path).n_trees == 3  # no sidecar: the trees alone


def _three_runs(tmp_path):
    """Qrels of 6 queries and three runs: 'b' lacks queries 2 and 3, 'c' lacks query 5."""
    qrels = tmp_path / "qrels"
    qrels.write_text("".join(f"{q} 0 d{q}a 1\n{q} 0 d{q}b 0\n" for q in range(1, 7)))
    paths = {}
    for name, lacks, first in (("a", (), "a"), ("b", ("2", "3"), "b"), ("c", ("5",), "a")):
        second = "b" if first == "a" else "a"
        lines = [f"{q} Q0 d{q}{d} {r} {2 - r} {name}\n" for q in range(1, 7) if str(q) not in lacks
                 for r, d in ((0, first), (1, second))]
        paths[name] = tmp_path / f"{name}.run"
        paths[name].write_text("".join(lines))
    return qrels, paths


def test_intersection_names_the_system_that_lacks_the_queries(tmp_path, capsys):
    """The note said the queries were 'left out of a' (the baseline, which has them) and never named the run that
    lacks them, which is what a paper reports."""
    from ltr.cli import main
    from ltr.evaluation import compare_runs
    from ltr.evaluation.tables import comparison_footnote

    qrels, runs = _three_runs(tmp_path)
    c = compare_runs({n: p for n, p in runs.items()}, qrels, metrics=["p@1"], queries="intersection")
    assert c.lacking() == {"b": ["2", "3"], "c": ["5"]} and c.qids == ["1", "4", "6"]
    assert ("Evaluated on the common queries only (b lacks queries 2, 3; c lacks query 5: left out of every "
            "system's tests)." in comparison_footnote(c))
    assert main(["compare", *map(str, runs.values()), "--qrels", str(qrels), "--metrics", "p@1",
                 "--intersection"]) == 0
    err = capsys.readouterr().err
    assert "b lacks 2 queries another system has, left out of every system's tests (--intersection): 2, 3" in err
    assert "c lacks 1 query another system has, left out of every system's tests (--intersection): 5" in err
    assert "a lacks" not in err


def test_an_infinite_effect_size_keeps_its_sign_through_the_result_file(tmp_path):
    """Strict JSON stores d = +-inf as null; read back (ltr report) it was NaN, a blank cell, sign lost."""
    from ltr.evaluation import compare_runs
    from ltr.evaluation.results import comparison_from_dict

    qrels, runs = _three_runs(tmp_path)
    (tmp_path / "worse.run").write_text(runs["a"].read_text().replace(" 2 a\n", " 0 x\n").replace(" 1 a\n",
                                                                                               " 2 a\n"))
    c = compare_runs({"a": runs["a"], "worse": tmp_path / "worse.run"}, qrels, metrics=["p@1"])
    assert c.row("worse", "p@1")["effect_size"] == -np.inf and c.row("worse", "p@1")["delta"] == -1.0
    c.save(tmp_path / "cmp.json")
    saved = json.loads((tmp_path / "cmp.json").read_text())
    assert saved["comparison"]["rows"][0]["effect_size"] is None  # strict JSON
    back = comparison_from_dict(saved)
    assert back.row("worse", "p@1")["effect_size"] == -np.inf
    assert "| -inf |" in back.format("markdown", layout="long")


def test_compare_says_another_tools_json_format_as_it_is(tmp_path, capsys):
    """'its "format" is not in its first bytes' was said of {"format": "x"}."""
    from ltr.cli import main

    qrels, runs = _three_runs(tmp_path)
    other = tmp_path / "other.json"
    other.write_text('{"format": "x"}\n')
    assert main(["compare", str(runs["a"]), str(other), "--qrels", str(qrels)]) == 1
    assert (f"{other}: a JSON file, but not a result of ltr cv --out (its \"format\" is 'x', not "
            "'ltrkit-result/1': another tool's)") in capsys.readouterr().err


def test_doctor_says_whether_a_rar_unpacker_is_installed(monkeypatch, capsys):
    """Every LETOR 4.0 set is a RAR archive; a newcomer learnt that fetch needs unrar, 7z or bsdtar only after the
    download."""
    import shutil

    from ltr.cli import main
    from ltr.registry import rar_unpacker

    monkeypatch.setattr(shutil, "which", lambda tool: "/opt/bin/7z" if tool in ("7z", "bsdtar") else None)
    found = rar_unpacker()
    assert found["tool"] == "7z" and found["path"] == "/opt/bin/7z"  # the first fetch tries (after unrar)
    assert {"mq2007", "mq2008", "mq2008-semi"} <= set(found["sets"]) and "mslr-web10k" not in found["sets"]
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    assert main(["doctor", "--no-trials"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("RAR unpacker"))
    assert "no" in row.split() and "none of unrar, 7z, bsdtar: apt-get install unrar" in row


def test_the_dataset_cache_keys_a_forced_bins_file_by_its_content(tmp_path, capsys):
    """The key held forcedbins_filename's name alone: after the file was edited, the next cached run loaded the old
    bins and trained the old model (scores up to 0.70 away on MQ2008), exit 0."""
    from ltr.cli import main
    from ltr.io import write_letor

    data, bins = tmp_path / "train.txt", tmp_path / "fb.json"
    write_letor(data, make_ranking(30, 10, 4, random_state=0))

    def train(out, *cache):
        argv = ["train", data, "--preset", "none", "--rounds", 5, "--param", f"forcedbins_filename={bins}",
                "--min-child-samples", 5, "--out", tmp_path / out, "--quiet", *cache]
        assert main([str(a) for a in argv]) == 0
        text = (tmp_path / out).read_text()
        return text[: text.index("end of trees")]

    bins.write_text('[{"feature": 0, "bin_upper_bound": [0.3, 0.6]}]')
    old = train("old.txt", "--dataset-cache", tmp_path / "c")
    bins.write_text('[{"feature": 0, "bin_upper_bound": [-1.5, -0.2, 0.01, 0.02, 0.05, 1.1]}]')
    cached, fresh = train("cached.txt", "--dataset-cache", tmp_path / "c"), train("fresh.txt")
    assert fresh != old  # the edit changes the model
    assert cached == fresh and len(list((tmp_path / "c").glob("*.bin"))) == 2


def test_exp2_gains_adding_up_past_a_double_are_refused_not_left_out_of_the_mean(tmp_path, capsys):
    """Three labels 1023 (each below the limit of 1024, accepted) gave NDCG inf/inf = NaN, and the query left the
    mean without a word (0.6309 for 0.8155, '1 query averaged', exit 0)."""
    from ltr.cli import main
    from ltr.exceptions import LabelRangeError
    from ltr.metrics import evaluate, evaluate_per_query

    y, s = [1023, 1023, 1023, 1, 0], [0.1, 0.5, 0.3, 0.0, 1.0]
    with pytest.raises(LabelRangeError, match=r"labels 1023, 1023, 1023 of the query at row 0 \(query index 0\): "
                                              r"their exp2 gains .* add up past what float64 holds"):
        evaluate(y, s, group=[3, 2], metrics=["ndcg"])
    assert evaluate(y, s, group=[3, 2], metrics=["ndcg"], gain="linear")["ndcg"] == pytest.approx(
        (1 + 1 / np.log2(3)) / 2)
    # what fits is measured as before: ndcg@1 of the same query (one gain), two labels 1022
    assert evaluate_per_query(y, s, group=[3, 2], metrics=["ndcg@1"])["ndcg@1"].tolist() == [1.0, 0.0]
    got = evaluate_per_query([1022, 1022, 0], [0.0, 1.0, 2.0], group=[3], metrics=["ndcg"])["ndcg"][0]
    assert got == pytest.approx((1 / np.log2(3) + 1 / np.log2(4)) / (1 + 1 / np.log2(3)), rel=1e-15)
    letor, scores = tmp_path / "big.txt", tmp_path / "big.scores"
    letor.write_text("2 qid:7 1:1\n1 qid:7 1:2\n1023 qid:8 1:1\n1023 qid:8 1:2\n1023 qid:8 1:3\n")
    scores.write_text("0\n1\n0.1\n0.5\n0.3\n")
    assert main(["evaluate", str(letor), "--scores", str(scores), "--metrics", "ndcg"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ltr evaluate: error: labels 1023, 1023, 1023 of the query at {letor}:3: their exp2 "
                          "gains") and err.rstrip().endswith("pass --gain linear (gain = rel, as trec_eval's NDCG)")
    qrels, run = tmp_path / "qrels", tmp_path / "run"
    qrels.write_text("1 0 a 1023\n1 0 b 1023\n1 0 c 1023\n2 0 a 1\n")
    run.write_text("1 Q0 a 1 3 t\n1 Q0 b 2 2 t\n1 Q0 c 3 1 t\n2 Q0 a 1 1 t\n")
    assert main(["evaluate", "--qrels", str(qrels), "--run", str(run), "--gain", "exp2", "--metrics", "ndcg"]) == 1
    assert "error: labels 1023, 1023, 1023 of query 1 of the qrels: their exp2 gains" in capsys.readouterr().err
    assert main(["evaluate", "--qrels", str(qrels), "--run", str(run), "--metrics", "ndcg"]) == 0  # linear: fine
    with pytest.raises(LabelRangeError, match="labels 1023, 1023, 1023 of the query at row 0: their exp2 gains"):
        Ranker(engine="linear").fit(np.eye(5), np.array(y, dtype=float), group=[3, 2])


def test_a_qrels_relevance_in_exponent_notation_that_trec_eval_reads_otherwise_is_refused(tmp_path):
    """'1e1' was read as grade 10, where trec_eval's atol reads 1 (NDCG 1.0000 against trec_eval's 0.8597); a
    printf %e grade that atol reads the same ('2.000000e+00') stays 2."""
    from ltr.exceptions import TrecFormatError
    from ltr.io import read_qrels

    path = tmp_path / "qrels"
    path.write_text("1 0 a 2.000000e+00\n1 0 b 0\n")
    assert read_qrels(path)["rel"].tolist() == [2, 0]
    path.write_text("1 0 a 0\n1 0 b 1.000000e+01\n")
    with pytest.raises(TrecFormatError) as e:
        read_qrels(path)
    assert str(e.value) == (f"{path}:2: relevance 1.000000e+01 in exponent notation is 10, which trec_eval reads as "
                            "1 (its atol reads the leading integer): write the grade as an integer (token "
                            "'1.000000e+01')")


def test_evaluate_per_query_names_a_letor_files_queries_by_its_query_id_map(tmp_path, capsys):
    """ltr evaluate DATA --scores S -q printed the LETOR numbers (1, 10, 11, ...) where ltr predict --run and ltr cv
    --run-out write the collection's ids from DATA.qids.tsv: the lines could not be joined with the run's."""
    from ltr.cli import main

    data, scores = tmp_path / "d.txt", tmp_path / "s"
    data.write_text("1 qid:1 1:1\n0 qid:1 1:2\n0 qid:2 1:1\n1 qid:2 1:2\n")
    scores.write_text("1\n0\n1\n0\n")
    (tmp_path / "d.txt.qids.tsv").write_text("1\tTOPIC-b\n2\tTOPIC-a\n")
    assert main(["evaluate", str(data), "--scores", str(scores), "--metrics", "map", "-q", "--format", "trec"]) == 0
    assert capsys.readouterr().out.split("\n")[:3] == ["map                   \tTOPIC-a\t0.5000",
                                                         "map                   \tTOPIC-b\t1.0000",
                                                         "map                   \tall\t0.7500"]


def test_a_list_option_given_twice_adds_up_or_is_refused_never_keeps_the_last_alone(tmp_path, capsys):
    """--metrics added up; --tests, --formats, --names, --labels and --weights kept the last list alone and
    --features the last FILE|IDS, exit 0 (report --formats md --formats html wrote no Markdown)."""
    from ltr.cli import build_parser, main

    parser = build_parser()
    args = parser.parse_args(["compare", "a", "b", "--tests", "t", "--tests", "wilcoxon", "--names", "x",
                              "--names", "y", "--labels", "0,1", "--labels", "2"])
    assert (args.tests, args.names, args.labels) == ("t,wilcoxon", "x,y", "0,1,2")
    report = ["report", "r.json", "--out", "o", "--formats", "md"]
    assert parser.parse_args([*report, "--formats", "html"]).formats == "md,html"
    assert parser.parse_args(report).formats == "md"  # the default replaced
    assert parser.parse_args(["fuse", "a", "b", "--out", "o", "--weights", "1", "--weights", "0"]).weights == "1,0"
    qrels, runs = _three_runs(tmp_path)
    assert main(["compare", str(runs["a"]), str(runs["c"]), "--qrels", str(qrels), "--metrics", "p@1",
                 "--intersection", "--tests", "t", "--tests", "wilcoxon", "--format", "csv"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert "p(t)" in header and "p(wilcoxon)" in header
    for argv in (["train", "d.txt", "--features", "1,2", "--features", "3,4"],
                 ["cv", "d.txt", "--drop-features", "1", "--drop-features", "2"],
                 ["export", "m.txt", "--to", "solr", "--feature-names", "a,b", "--feature-names", "c,d"]):
        with pytest.raises(SystemExit) as e:
            parser.parse_args(argv)
        assert e.value.code == 2
        assert "given twice (" in capsys.readouterr().err


def test_demo_runs_in_a_folder_whose_name_starts_with_a_dash(tmp_path, monkeypatch, capsys):
    """ltr demo --dir ./-y wrote its files, then its own step 'ltr info -y/train.txt ...' read the path as an option
    and failed as 'ltr info: error', exit 2."""
    from ltr.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--dir", "./-y", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "$ ltr info ./-y/train.txt ./-y/valid.txt ./-y/test.txt" in out and (tmp_path / "-y" / "model.txt").is_file()


@pytest.mark.parametrize("argv, said", [
    (["cv", "{data}", "--save-dir", "-"], "--save-dir -: the folds' models and scores are files in a folder"),
    (["tune", "{data}", "--storage", "-"], "--storage -: the trials are kept in an SQLite file, not standard output"),
    (["cv", "{data}", "--name", "a b", "--run-out", "{out}"],
     "--name 'a b': with --run-out it is the run's tag, one word"),
])
def test_options_refused_before_any_work(tmp_path, monkeypatch, capsys, argv, said):
    """cv --save-dir - and tune --storage - made a folder and an SQLite file named '-' (exit 0); cv --name 'a b'
    --run-out was refused after every fold had trained, exit 1, naming a 'run column tag'."""
    from ltr.cli import main
    from ltr.io import write_letor

    monkeypatch.chdir(tmp_path)
    write_letor(tmp_path / "d.txt", make_ranking(12, 6, 3, random_state=0))
    code = main([a.format(data=tmp_path / "d.txt", out=tmp_path / "r.run") for a in argv])
    assert code == 2 and said in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.txt"]  # nothing written


def test_a_model_that_is_a_device_or_a_pipe_is_not_said_missing(tmp_path):
    """ltr predict /dev/null (or a named pipe) said '/dev/null: no such file or folder'."""
    import os

    from ltr import load_model

    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    for path in ("/dev/null", fifo):
        with pytest.raises(ModelFormatError, match=f"{path}: not a regular file"):
            load_model(path)


def test_cv_save_dir_keeps_the_modes_of_the_fold_files_and_folders_it_replaces(tmp_path):
    """A fold's model made private (600, folder 700) came back 644 and 755 after the next ltr cv --save-dir, where
    every other output keeps a replaced file's mode."""
    import stat

    from ltr.cli import main
    from ltr.io import write_letor

    write_letor(tmp_path / "d.txt", make_ranking(12, 6, 3, random_state=0))
    argv = ["cv", str(tmp_path / "d.txt"), "--folds", "2", "--rounds", "2", "--save-dir", str(tmp_path / "sd"),
            "--quiet"]
    assert main(argv) == 0
    fold, model, scores = tmp_path / "sd" / "Fold1", tmp_path / "sd" / "Fold1" / "model.txt", \
        tmp_path / "sd" / "Fold1" / "test.scores"
    for path, mode in ((fold, 0o700), (model, 0o600), (scores, 0o640)):
        path.chmod(mode)
    before = model.stat().st_ino
    assert main(argv) == 0
    assert model.stat().st_ino != before  # a new file (the run replaced it)
    assert [stat.S_IMODE(p.stat().st_mode) for p in (fold, model, scores)] == [0o700, 0o600, 0o640]


def test_features_names_a_missing_file_without_a_folder_as_one(tmp_path, capsys, monkeypatch):
    """train --features nosuch.txt said only "unknown feature name 'nosuch.txt'"; a path with a folder said the file
    was missing too."""
    from ltr.cli import main
    from ltr.io import write_letor

    monkeypatch.chdir(tmp_path)
    write_letor(tmp_path / "d.txt", make_ranking(12, 6, 3, random_state=0))
    assert main(["train", "d.txt", "--features", "nosuch.txt", "--rounds", "2", "--out", "m.txt"]) == 2
    assert ("--features: unknown feature name 'nosuch.txt', and no such feature file" in capsys.readouterr().err)


def test_a_missing_teacher_scores_file_is_named_by_its_option(tmp_path, capsys, monkeypatch):
    """'nosuch.txt: no such file or folder' named no option, where --valid's and --query-file's errors say what the
    file is."""
    from ltr.cli import main
    from ltr.io import write_letor

    monkeypatch.chdir(tmp_path)
    write_letor(tmp_path / "d.txt", make_ranking(12, 6, 3, random_state=0))
    assert main(["train", "d.txt", "--objective", "distill", "--kernel", "numba", "--teacher-scores", "nosuch.txt",
                 "--rounds", "2", "--out", "m.txt"]) == 1
    assert capsys.readouterr().err == "ltr train: error: --teacher-scores nosuch.txt: no such file\n"


@pytest.mark.parametrize("command", ["features", "rerank"])
def test_an_index_that_is_a_folder_is_named_by_its_option(tmp_path, capsys, command):
    """features --index FOLDER said 'dd: is a folder, not a file', exit 1, where --features FOLDER names its option
    and exits 2."""
    from ltr.cli import main

    (tmp_path / "dd").mkdir()
    argv = {"features": ["features", "--collection", str(tmp_path), "--out", str(tmp_path / "x.letor")],
            "rerank": ["rerank", "--model", str(tmp_path / "m.txt"), "--run", str(tmp_path / "r"), "--collection",
                       str(tmp_path), "--out", str(tmp_path / "o.run")]}[command]
    assert main([*argv, "--index", str(tmp_path / "dd")]) == 2
    assert f"--index {tmp_path / 'dd'}: is a folder, not an index file" in capsys.readouterr().err


def test_metrics_calls_name_their_own_arrays_and_refuse_a_number_for_metrics():
    """evaluate(..., group=[2, 2]) with 3 rows said 'but X has 3 rows' (a metrics call has no X); metrics=5 raised
    "'int' object is not iterable"."""
    from ltr.exceptions import GroupError
    from ltr.metrics import evaluate

    with pytest.raises(GroupError, match=r"^group sizes add up to 4 but y_true has 3 rows$"):
        evaluate([1, 0, 1], [1, 2, 3], group=[2, 2], metrics=["ndcg"])
    with pytest.raises(TypeError, match="^metrics must be a metric name, a comma-separated string or a list of "
                                        "names, got 5$"):
        evaluate([1, 0, 1], [1, 2, 3], group=[3], metrics=5)
    assert evaluate([1, 0, 1], [1, 2, 3], group=[3], metrics={"ndcg": 1}.keys()) == evaluate(
        [1, 0, 1], [1, 2, 3], group=[3], metrics="ndcg")


def test_the_trees_say_what_a_non_model_text_is():
    """from_model_text('model.txt') said "it starts with 'model.txt'", an empty text "it starts with ''", binary bytes
    echoed U+FFFD and control bytes."""
    import ltr.trees

    for text, said in (("model.txt", "it starts with 'model.txt': a file name? ltr.trees.load('model.txt') reads a "
                                     "file"), ("  \n", "model text: empty, not a model"),
                       (b"\x00\x01\xff\xfebinary", "model text: binary data, neither LightGBM model text nor "
                                                   "XGBoost JSON or UBJSON (an XGBoost model saved before 1.6 in its "
                                                   "binary format reads so: load it with the XGBoost that wrote it "
                                                   "and save it as JSON, model.save_model('model.json'))")):
        with pytest.raises(ModelFormatError) as e:
            ltr.trees.from_model_text(text)
        assert str(e.value).endswith(said)


def test_review_dcg_alone_is_not_refused_for_an_ideal_it_does_not_divide_by():
    """(Review of this stop's overflow check) dcg@10 of three labels 1023 spread down the ranking is a finite
    1.517e308, which the check of the ideal DCG refused; NDCG beside it is still refused."""
    from ltr.exceptions import LabelRangeError
    from ltr.metrics import evaluate_per_query

    y = np.array([1023.0, 0, 0, 0, 1023, 0, 0, 0, 1023, 0])
    got = evaluate_per_query(y, -np.arange(10.0), group_ptr=[0, 10], metrics=["dcg@10"])["dcg@10"][0]
    want = sum((2.0 ** 1023 - 1) / np.log2(r + 2) for r in (0, 4, 8))
    assert got == pytest.approx(want, rel=1e-12) and np.isfinite(got)
    with pytest.raises(LabelRangeError, match=r"labels 1023, 1023, 1023 of the query .* ideal DCG of ndcg@10 "):
        evaluate_per_query(y, -np.arange(10.0), group_ptr=[0, 10], metrics=["dcg@10", "ndcg@10"])


def test_review_evaluate_reads_the_query_id_map_only_for_the_ids_it_prints(tmp_path, capsys):
    """(Review) the map was read for the means as well: a stale map beside DATA failed a plain ltr evaluate that
    prints no query id."""
    from ltr.cli import main

    data, scores = tmp_path / "d.txt", tmp_path / "s"
    data.write_text("1 qid:1 1:1\n0 qid:1 1:2\n0 qid:2 1:1\n1 qid:2 1:2\n")
    scores.write_text("1\n0\n1\n0\n")
    (tmp_path / "d.txt.qids.tsv").write_text("1\tTOPIC-b\n")  # stale: lacks query 2
    assert main(["evaluate", str(data), "--scores", str(scores), "--metrics", "map", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["mean"]["map"] == 0.75
    assert main(["evaluate", str(data), "--scores", str(scores), "--metrics", "map", "-q"]) == 1
    assert "the query-id map lacks 1 of the 2 LETOR qids" in capsys.readouterr().err


def test_review_doctor_reports_with_an_unreadable_registry_entry(tmp_path, monkeypatch, capsys):
    """(Review) the RAR row read every registry entry: one bad TOML of the user's made ltr doctor exit 1."""
    from ltr.cli import main

    (tmp_path / "mine.toml").write_text('name = "mine"\n[[archives]]\nurl = 5\n')
    monkeypatch.setenv("LTRKIT_DATA_REGISTRY", str(tmp_path))
    assert main(["doctor", "--no-trials"]) == 0
    assert "RAR unpacker" in capsys.readouterr().out


def test_a_lightgbm_text_cut_short_is_said_truncated_wherever_it_is_cut(tmp_path):
    """46 of 400 cut points were blamed on the last line's content ('feature_names must list 46 names ... got 1',
    "expected 'Tree=<n>'") instead of the cut."""
    import ltr.trees

    path = tmp_path / "m.txt"
    Ranker(preset=None, n_estimators=3).fit(make_ranking(10, 5, 4, random_state=0)).save(path)
    text = path.read_text()
    for cut in (text.index("feature_names=") + 20, text.index("Tree=1") + 2, text.index("feature_infos=") + 16):
        with pytest.raises(ModelFormatError, match="truncated"):
            ltr.trees.from_model_text(text[:cut])
