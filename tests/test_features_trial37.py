"""What a trial of the feature layer and fusion found (stop 37): errors that named less than the others do, and an
option that changed nothing without saying so."""

from __future__ import annotations

import pytest

from features.analysis import Analyzer
from features.collections import Collection
from features.collections.interchange import read_tsv_queries
from features.collections.smart import read_smart_queries
from features.errors import CollectionFormatError
from features.featureset import FeatureSet
from features.index import InvertedIndex
from ltr.cli import main


def test_a_field_the_index_lacks_names_the_feature_set_file_and_entry(tmp_path):
    path = tmp_path / "fs.toml"
    path.write_text('[[features]]\nscorer = "query_length"\n\n[[features]]\nscorer = "bm25"\nfields = ["abstract"]\n')
    index = InvertedIndex.build(Collection(("d1",), {"title": ["wing"], "body": ["flutter"]}), Analyzer())
    with pytest.raises(ValueError, match=rf"^{path}: feature 2 \(bm25\): no field 'abstract' in this index; it has "
                                         r"\['title', 'body', 'all'\]$"):
        FeatureSet.load(path).columns(index)
    with pytest.raises(ValueError, match=r"^feature 1 \(bm25\): no field 'abstract'"):  # a set built in Python
        FeatureSet([{"scorer": "bm25", "fields": ["abstract"]}]).columns(index)


def test_a_duplicate_smart_query_id_names_both_lines(tmp_path):
    path = tmp_path / "query.text"
    path.write_text(".I 1\n.W\nwing flutter\n.I 2\n.W\nheat\n.I 1\n.W\nslab\n")
    with pytest.raises(CollectionFormatError) as e:
        read_smart_queries(path)
    assert str(e.value) == f"{path}:7: duplicate query id '1' (first at line 1)"


def test_a_query_line_without_its_tab_is_said_so_not_called_an_id_with_spaces(tmp_path):
    path = tmp_path / "q.tsv"
    path.write_text("1\tsome query about wings\nnotab line here\n3\tanother\n")
    with pytest.raises(CollectionFormatError) as e:
        read_tsv_queries(path)
    assert e.value.line == 2 and "no tab on the line, in a file of 2 tab-separated columns (id, text)" in str(e.value)
    assert "whitespace" not in str(e.value)
    path.write_text("1\tsome query about wings\n2\n3\tanother\n")  # an id alone: an empty query, as before
    assert dict(read_tsv_queries(path).items())["2"] == ""


def test_fuse_refuses_rrfs_constant_for_a_method_that_does_not_use_it(tmp_path, capsys):
    runs = []
    for name, docs in (("a", "d1 d2 d3"), ("b", "d3 d1 d2")):
        p = tmp_path / f"{name}.run"
        p.write_text("".join(f"1 Q0 {d} {r} {3 - r} {name}\n" for r, d in enumerate(docs.split())))
        runs.append(str(p))
    out = tmp_path / "f.run"
    assert main(["fuse", *runs, "--method", "combsum", "--k", "10", "--out", str(out)]) == 2
    assert "--k 10: RRF's constant, which --method combsum does not use; leave --k out" in capsys.readouterr().err
    assert not out.exists()
    assert main(["fuse", *runs, "--k", "10", "--out", str(out), "--quiet"]) == 0  # rrf, as before
    assert main(["fuse", *runs, "--method", "combsum", "--out", str(out), "--quiet"]) == 0


def test_fuse_fit_weights_refuses_a_step_that_does_not_divide_1_instead_of_dividing_by_it(tmp_path, capsys):
    # --step 0 was a ZeroDivisionError traceback, --step nan "cannot convert float NaN to integer"; and every option
    # of the weight fitting was taken without --fit-weights, where --qrels is refused
    from ltr.fusion import fit_weights

    runs = []
    for name, docs in (("a", "d1 d2 d3"), ("b", "d3 d1 d2")):
        p = tmp_path / f"{name}.run"
        p.write_text("".join(f"{q} Q0 {d} {r} {3 - r} {name}\n" for q in (1, 2, 3) for r, d in
                             enumerate(docs.split())))
        runs.append(str(p))
    qrels = tmp_path / "qrels"
    qrels.write_text("".join(f"{q} 0 d{q} 1\n" for q in (1, 2, 3)))
    fit = [*runs, "--method", "wsum", "--fit-weights", "--qrels", str(qrels), "--folds", "2"]
    for step in ("0", "nan", "-1", "0.3"):
        assert main(["fuse", *fit, "--step", step, "--out", str(tmp_path / "f.run")]) == 2
        err = capsys.readouterr().err
        assert err == f"ltr fuse: error: --step {float(step):g}: the spacing of the weights tried divides 1 (0.1, " \
                      "0.05, 0.25, ...)\n"
    assert main(["fuse", *runs, "--step", "0.5", "--split-seed", "3", "--out", str(tmp_path / "f.run")]) == 2
    assert capsys.readouterr().err == "ltr fuse: error: --step, --split-seed go with --fit-weights\n"
    assert not (tmp_path / "f.run").exists()
    assert main(["fuse", *fit, "--step", "0.5", "--out", str(tmp_path / "f.run"), "--quiet"]) == 0
    with pytest.raises(ValueError, match=r"step must divide 1 evenly .* got 0$"):
        fit_weights(runs, str(qrels), n_splits=2, step=0)


def test_an_empty_option_value_is_refused_naming_the_option_not_read_as_not_given(tmp_path, capsys):
    # a trial: --valid '' trained without validation, --save-dir '' saved nothing, --scores '' read the working folder
    from ltr import make_ranking
    from ltr.io import write_letor

    data = write_letor(tmp_path / "train.txt", make_ranking(20, 5, 3, random_state=0))
    for argv, flag in ((["train", str(data), "--valid", "", "--rounds", "3", "--out", str(tmp_path / "m.txt")],
                        "--valid"),
                       (["cv", str(data), "--folds", "2", "--rounds", "3", "--save-dir", " "], "--save-dir"),
                       (["evaluate", "--qrels", "", "--run", str(data)], "--qrels")):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"{flag} {argv[argv.index(flag) + 1]!r}: an empty value; leave {flag} out for its default" in err
    assert not (tmp_path / "m.txt").exists()
    # a required option has no default to leave it out for (trial t47/options)
    assert main(["predict", str(data), str(data), "--out", ""]) == 2
    assert capsys.readouterr().err == "ltr predict: error: --out '': an empty value; give --out a value\n"
    config = tmp_path / "c.toml"
    config.write_text('valid = ""\nrounds = 3\n')
    assert main(["train", str(data), "--config", str(config), "--out", str(tmp_path / "m.txt")]) == 2
    assert capsys.readouterr().err == (f"ltr train: error: --config {config}: valid = '': an empty value; leave "
                                       "--valid out for its default\n")


@pytest.mark.parametrize("k3", ["-1", "nan", "inf"])
def test_bm25_k3_that_is_not_a_finite_number_at_least_0_is_refused_as_the_option(tmp_path, capsys, k3):
    # was a FloatingPointError traceback: "feature 'first_stage_score' is nan for pair 0: this is a bug"
    from features.retrieval import BM25Retriever

    docs = tmp_path / "docs.tsv"
    docs.write_text("d1\twing flutter\nd2\theat transfer\n")
    queries = tmp_path / "q.tsv"
    queries.write_text("1\twing\n")
    argv = ["features", "--collection", str(docs), "--queries", str(queries), "--topk", "2", "--bm25-k3", k3,
            "--out", str(tmp_path / "f.letor")]
    assert main(argv) == 2
    assert f"--bm25-k3 {float(k3):g}: BM25's k3 (query-term saturation) is a finite number >= 0" in \
        capsys.readouterr().err
    index = InvertedIndex.build(Collection(("d1",), {"body": ["wing"]}), Analyzer())
    with pytest.raises(ValueError, match="k3 must be None or a finite number >= 0"):
        BM25Retriever(index, k3=float(k3))


@pytest.mark.parametrize("command", ["train", "cv"])
def test_an_unknown_early_stopping_metric_is_named_as_that_option_before_any_work(tmp_path, capsys, command):
    # train said "--metrics: unknown metric 'bogus'"; cv started its folds, then "unknown metric 'bogus'", exit 1
    from ltr import make_ranking
    from ltr.io import write_letor

    data = write_letor(tmp_path / "train.txt", make_ranking(20, 5, 3, random_state=0))
    extra = ["--valid", str(data), "--out", str(tmp_path / "m.txt")] if command == "train" else ["--folds", "2"]
    assert main([command, str(data), *extra, "--rounds", "3", "--early-stopping-metric", "bogus"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"ltr {command}: error: --early-stopping-metric: unknown metric 'bogus'")
    assert "folds" not in captured.out + captured.err.split("\n", 1)[1]


def test_no_relevant_outside_0_1_and_a_nan_tune_timeout_are_refused(tmp_path, capsys):
    from ltr import make_ranking
    from ltr.io import write_letor

    data = write_letor(tmp_path / "t.txt", make_ranking(10, 5, 3, random_state=0))
    scores = tmp_path / "s.txt"
    scores.write_text("0.5\n" * 50)
    for value in ("-1", "inf", "2"):
        assert main(["evaluate", str(data), "--scores", str(scores), "--no-relevant", value]) == 2
        assert f"--no-relevant: '{value}': the score of a query without a relevant document, from 0 to 1" in \
            capsys.readouterr().err
    for value in ("1", "nan", "0.5"):
        assert main(["evaluate", str(data), "--scores", str(scores), "--no-relevant", value]) == 0
    capsys.readouterr()
    assert main(["tune", str(data), "--timeout", "nan", "--trials", "1"]) == 2
    assert "argument --timeout: 'nan': must be a positive, finite number of seconds" in capsys.readouterr().err


def test_options_of_a_mode_not_asked_for_are_refused_not_ignored(tmp_path, capsys):
    # ltr report took --query-file without --data (while --data with the same value refused it); ltr train took
    # --dask-timeout -1 without --dask
    from ltr import make_ranking
    from ltr.io import write_letor

    data = write_letor(tmp_path / "t.txt", make_ranking(10, 5, 3, random_state=0))
    result = tmp_path / "cv.json"
    assert main(["cv", str(data), "--folds", "2", "--rounds", "2", "--out", str(result), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["report", str(result), "--out", str(tmp_path / "r"), "--query-file", "nonexist/x.txt"]) == 2
    assert "--query-file reads the --data files: give --data FILE, or leave it out" in capsys.readouterr().err
    assert main(["report", str(result), "--out", str(tmp_path / "r"), "--no-query-file", "--sort"]) == 2
    assert "--no-query-file, --sort read the --data files" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
    assert main(["report", str(result), "--out", str(tmp_path / "r"), "--data", str(data), "--sort", "--quiet"]) == 0
    assert main(["train", str(data), "--rounds", "2", "--dask-timeout", "-1", "--out", str(tmp_path / "m.txt")]) == 2
    assert "--dask-timeout goes with --dask SCHEDULER" in capsys.readouterr().err
    assert not (tmp_path / "m.txt").exists()


def test_a_convention_clash_and_a_negative_n_features_are_said_in_the_command_lines_words(tmp_path, capsys):
    # "convention='lightgbm' fixes gain='exp2' ...; got gain='linear'" and "n_features must be in 0..2147483647"
    from ltr import make_ranking
    from ltr.io import write_letor
    from ltr.metrics import evaluate

    d = make_ranking(10, 5, 3, random_state=0)
    data = write_letor(tmp_path / "t.txt", d)
    scores = tmp_path / "s.txt"
    scores.write_text("0.5\n" * d.n_rows)
    assert main(["evaluate", str(data), "--scores", str(scores), "--gain", "linear", "--convention", "lightgbm"]) == 2
    assert capsys.readouterr().err == ("ltr evaluate: error: --convention lightgbm fixes --gain exp2 (LightGBM's "
                                       "default label_gain is 2^i - 1); got --gain linear: drop one of the two\n")
    with pytest.raises(ValueError, match=r"^convention='lightgbm' fixes gain='exp2' .*got gain='linear'"):
        evaluate(d.y, d.X[:, 0], group_ptr=d.group_ptr, metrics=["ndcg@10"], gain="linear", convention="lightgbm")
    assert main(["info", str(data), "--n-features", "-1"]) == 2
    assert "--n-features: '-1': the width of the feature matrix, an integer from 0 to 2147483647" in \
        capsys.readouterr().err
