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
