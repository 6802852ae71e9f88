"""The command line's consistency, from this stop's review and user trials."""

from __future__ import annotations

import pytest

from ltr.cli import main


@pytest.mark.parametrize("argv, said", [
    (["compare", "{d}", "{d}"], "{d}: is a folder; give a run file or a result file of ltr cv --out"),
    (["report", "{d}", "--out", "{o}"], "{d}: is a folder; give a result file of ltr cv --out or ltr compare --out"),
    (["tune", "{d}", "--trials", "1"], "{d}: is a folder; ltr tune cuts one LETOR file into folds of queries"),
    (["info", "{d}"], "{d}: is a folder, not a file"),
])
def test_a_folder_given_for_an_input_file_exits_1_in_every_command(tmp_path, capsys, argv, said):
    # ltr compare, report and tune said it as a usage error (exit 2) where every other command exits 1 for it
    folder = tmp_path / "runs"
    folder.mkdir()
    fill = {"d": str(folder), "o": str(tmp_path / "report")}
    command = argv[0]
    assert main([a.format(**fill) for a in argv]) == 1
    assert capsys.readouterr().err == f"ltr {command}: error: {said.format(**fill)}\n"


def test_a_missing_feature_names_file_is_named_with_its_option(tmp_path, capsys):
    # it printed Python's "[Errno 2] No such file or directory: '...'" inside the message
    from ltr import make_ranking
    from ltr.io import write_letor

    data = make_ranking(n_queries=20, docs_per_query=(5, 8), n_features=4, random_state=0)
    write_letor(tmp_path / "train.txt", data)
    assert main(["train", str(tmp_path / "train.txt"), "--rounds", "3", "--out", str(tmp_path / "m.txt"),
                 "--quiet"]) == 0
    missing = tmp_path / "none.txt"
    assert main(["export", str(tmp_path / "m.txt"), "--to", "solr", "--out", str(tmp_path / "x.json"),
                 "--target-features", str(missing)]) == 1
    assert capsys.readouterr().err == f"ltr export: error: {missing} (--target-features): no such file\n"


def test_run_ids_that_are_the_qrels_ids_with_leading_zeros_are_said(tmp_path, capsys):
    # a run numbering its queries 001, 002 against qrels saying 1, 2 evaluated half the queries with no word (trec_eval
    # is as silent); the ids are still compared as text, as trec_eval compares them
    qrels = tmp_path / "q.qrels"
    qrels.write_text("1 0 a 1\n2 0 b 1\n10 0 c 1\n")
    run = tmp_path / "r.run"
    run.write_text("001 Q0 a 1 2.0 t\n002 Q0 x 1 2.0 t\n10 Q0 c 1 1.0 t\n")
    assert main(["evaluate", "--qrels", str(qrels), "--run", str(run), "--metrics", "map"]) == 0
    out, err = capsys.readouterr()
    assert err == (f"ltr evaluate: note: 2 query id(s) of --run {run} are {qrels}'s with leading zeros ('001' -> "
                   "'1', '002' -> '2'); ids are compared as text, as trec_eval does, so those queries are not matched: "
                   "write the ids the same way in both files\n")
    assert out.endswith("; 1 query averaged\n")  # only query 10, as trec_eval
    run.write_text("1 Q0 a 1 2.0 t\n2 Q0 x 1 2.0 t\n10 Q0 c 1 1.0 t\n")
    assert main(["evaluate", "--qrels", str(qrels), "--run", str(run), "--metrics", "map"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "3 queries averaged" in out


def test_a_dataset_whose_qids_change_inside_a_query_of_group_ptr_is_refused():
    # it was taken, and Ranker.fit trained on group_ptr's grouping of two queries' rows
    import numpy as np

    from ltr.datasets import RankingDataset
    from ltr.exceptions import GroupError

    X, y = np.zeros((4, 2), np.float32), np.zeros(4)
    with pytest.raises(GroupError, match=r"^qid changes inside query 1 of group_ptr \(rows 1:4\): row 2 has qid 2 "
                                         r"after 1; group_ptr and qid must describe the same queries$"):
        RankingDataset(X=X, y=y, qid=np.array([1, 1, 2, 2]), group_ptr=np.array([0, 1, 4]))
    same = RankingDataset(X=X, y=y, qid=np.array([1, 1, 1, 1]), group_ptr=np.array([0, 2, 4]))  # a query twice
    assert same.n_queries == 2
    assert RankingDataset(X=X, y=y, qid=np.array([1, 1, 2, 2]), group_ptr=np.array([0, 2, 4])).n_queries == 2


def test_the_preset_warning_names_only_parameters_whose_value_it_changed():
    # it listed "n_estimators=300 -> 300": the preset's rounds are the default's
    from ltr import Ranker, make_ranking
    from ltr.rankers.presets import PRESETS, PresetWarning

    assert PRESETS["small"]["lightgbm"]["n_estimators"] == Ranker().n_estimators == 300
    data = make_ranking(n_queries=12, docs_per_query=6, n_features=3, random_state=0)
    with pytest.warns(PresetWarning) as caught:
        model = Ranker(n_jobs=1).fit(data)
    message = str(caught[0].message)
    assert "num_leaves=31 -> 15" in message and "n_estimators" not in message
    assert model.preset_params_["n_estimators"] == 300  # the preset's settings, all of them, are still recorded


def test_a_pickle_or_an_empty_file_given_as_a_model_is_said_so(tmp_path):
    import pickle

    from ltr import load_model
    from ltr.exceptions import NotAModelError

    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps({"trees": [1, 2]}, protocol=4))
    with pytest.raises(NotAModelError, match=r"model.pkl: a Python pickle, not a model file: ltrkit never unpickles"):
        load_model(pickled)
    empty = tmp_path / "model.txt"
    empty.write_text(" \n")
    with pytest.raises(NotAModelError, match=r"model.txt: an empty file, not a model$"):
        load_model(empty)


def test_text_query_ids_are_refused_with_the_way_to_keep_them(tmp_path, capsys):
    # RankLib keeps qid:Q1 as text; the message said only "qid must be a 64-bit integer", a dead end
    from ltr.exceptions import LetorFormatError
    from ltr.io import read_letor

    lines = ["2 qid:Q-a 1:1 2:0.5 #docid = d1", "0 qid:Q-a 1:0 2:0.1 #docid = d2",
             "1 qid:Q-b 1:0.7 2:0.2 #docid = d3", "0 qid:Q-b 1:0.2 2:0.9 #docid = d4"]
    text = tmp_path / "text.txt"
    text.write_text("\n".join(lines) + "\n")
    with pytest.raises(LetorFormatError, match=r"text.txt:1: qid must be a 64-bit integer .*\(token 'qid:Q-a'\); "
                                               r"LETOR and svmlight query ids are integers; for text ids"):
        read_letor(text)
    # the way it gives: numbered queries, the ids in DATA.qids.tsv, and the run says the ids again
    numbered = tmp_path / "numbered.txt"
    numbered.write_text("\n".join(line.replace("qid:Q-a", "qid:1").replace("qid:Q-b", "qid:2") for line in lines)
                        + "\n")
    (tmp_path / "numbered.txt.qids.tsv").write_text("1\tQ-a\n2\tQ-b\n")
    model, run = tmp_path / "m.txt", tmp_path / "s.run"
    assert main(["train", str(numbered), "--engine", "linear", "--out", str(model), "--quiet"]) == 0
    assert main(["predict", str(model), str(numbered), "--run", "--out", str(run), "--quiet"]) == 0
    assert sorted({line.split()[0] for line in run.read_text().splitlines()}) == ["Q-a", "Q-b"]


def test_ir_measures_relevance_parameters_and_trec_eval_measures_not_offered_are_said_as_such():
    # both were "unknown metric ...; known metrics: [...]", as a misspelling is
    import numpy as np

    from ltr.metrics.registry import parse_metric

    with pytest.raises(ValueError, match=r"^metric 'P\(rel=2\)@10': ir_measures' \(rel=2\) is the lowest relevant "
                                         r"grade, a convention here: write 'P@10' with rel_threshold=2 \(ltr evaluate "
                                         r"--relevance-level 2, trec_eval's -l 2\)$"):
        parse_metric("P(rel=2)@10")
    assert parse_metric("P@10").name == "p@10"  # what the message says to write
    with pytest.raises(ValueError, match=r"gm_map is not offered; it is exp\(mean\(log\(max\(AP, 0.00001\)\)\)\)"):
        parse_metric("gm_map")
    from ltr._shared import import_reference

    pytrec_eval = import_reference("pytrec_eval")
    qrels = {"1": {"a": 1, "b": 0}, "2": {"c": 1}, "3": {"d": 1}}
    run = {"1": {"a": 2.0, "b": 1.0}, "2": {"x": 1.0, "c": 0.5}, "3": {"y": 1.0}}
    per = pytrec_eval.RelevanceEvaluator(qrels, {"map", "gm_map"}).evaluate(run)
    ap = np.array([per[q]["map"] for q in sorted(per)])
    logs = np.array([per[q]["gm_map"] for q in sorted(per)])  # trec_eval's per-query gm_map: the log
    np.testing.assert_allclose(logs, np.log(np.maximum(ap, 0.00001)), rtol=0, atol=1e-12)  # the formula said
