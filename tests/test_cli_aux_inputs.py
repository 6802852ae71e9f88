"""An output that names a file the command reads beside its main inputs is refused before anything is written
(trial t45: each of these was replaced by the command's output, exit 0): a ``--features`` file, a LightGBM
``.query`` sidecar, a model's ``.meta.json`` in rerank, ``--feature-names @FILE``, a ``sqlite:///`` trial store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ltr import make_ranking
from ltr.cli import main
from ltr.io import write_letor


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("aux")
    d = make_ranking(12, (4, 6), 3, random_state=0)
    write_letor(root / "train.txt", d)
    # LightGBM's layout: no qid on the lines, group sizes in train.lgb.query
    lines = [" ".join(t for t in line.split() if not t.startswith("qid:"))
             for line in (root / "train.txt").read_text().splitlines() if not line.startswith("#")]
    (root / "train.lgb").write_text("\n".join(lines) + "\n")
    (root / "train.lgb.query").write_text("".join(f"{n}\n" for n in d.group_ptr[1:] - d.group_ptr[:-1]))
    (root / "feats.txt").write_text("1\n2\n")
    (root / "names.txt").write_text("a\nb\nc\n")
    (root / "fs.toml").write_text('[[features]]\nname = "bm25"\nscorer = "bm25"\n')
    (root / "docs.tsv").write_text("d1\thello\n")
    (root / "q.tsv").write_text("1\thello\n")
    (root / "first.run").write_text("1 Q0 d1 1 1.0 bm25\n")
    assert main(["train", str(root / "train.txt"), "--rounds", "2", "--preset", "none", "--min-child-samples", "1",
                 "--quiet", "--out", str(root / "m.txt")]) == 0
    return root


CASES = {
    "features --features": (["features", "--collection", "{r}/docs.tsv", "--queries", "{r}/q.tsv", "--features",
                             "{r}/fs.toml", "--out", "{r}/fs.toml"], "fs.toml"),
    "train --features": (["train", "{r}/train.txt", "--features", "{r}/feats.txt", "--out", "{r}/feats.txt"],
                         "feats.txt"),
    "tune --features": (["tune", "{r}/train.txt", "--trials", "1", "--features", "{r}/feats.txt", "--out",
                         "{r}/feats.txt"], "feats.txt"),
    "predict sidecar": (["predict", "{r}/m.txt", "{r}/train.lgb", "--out", "{r}/train.lgb.query"],
                        "train.lgb.query"),
    "train sidecar": (["train", "{r}/train.lgb", "--out", "{r}/train.lgb.query"], "train.lgb.query"),
    "rerank model sidecar": (["rerank", "--model", "{r}/m.txt", "--run", "{r}/first.run", "--collection",
                              "{r}/docs.tsv", "--queries", "{r}/q.tsv", "--out", "{r}/m.txt.meta.json"],
                             "m.txt.meta.json"),
    "export --feature-names": (["export", "{r}/m.txt", "--to", "es-xgboost", "--feature-names", "@{r}/names.txt",
                                "--out", "{r}/names.txt"], "names.txt"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_output_naming_a_file_the_command_reads_is_refused(made, capsys, case):
    argv, victim = CASES[case]
    before = hashlib.sha256((made / victim).read_bytes()).hexdigest()
    assert main([a.format(r=made) for a in argv]) == 2
    err = capsys.readouterr().err
    assert f"{made / victim}: is also an input of this command" in err and err.count("\n") == 1
    assert hashlib.sha256((made / victim).read_bytes()).hexdigest() == before


def test_a_sqlite_url_storage_is_the_file_it_names(made, capsys, monkeypatch):
    monkeypatch.chdir(made)  # sqlite:///st.db is st.db in the working folder
    assert main(["tune", "train.txt", "--trials", "1", "--storage", "sqlite:///st.db", "--out", "st.db"]) == 2
    assert "st.db: given for two outputs" in capsys.readouterr().err
    assert not (made / "sqlite:").exists() and not (made / "st.db").exists()  # no folder named after the scheme


@pytest.mark.parametrize("name", ["train.txt.weight", "train.txt.query", "train.txt.group"])
def test_an_output_named_as_a_sidecar_that_is_not_there_yet_is_refused(made, capsys, name):
    """(The review of t45: such scores were read as train.txt's weights by every later command.)"""
    out = made / name
    assert main(["predict", str(made / "m.txt"), str(made / "train.txt"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out}: the name of a sidecar the readers find beside this command's data" in err and not out.exists()


def test_a_query_file_of_any_name_is_an_input(made, capsys):
    """(The review of t45: the case above used the sidecar's own name, refused whatever --query-file does.)"""
    groups = made / "groups.q"
    groups.write_bytes((made / "train.lgb.query").read_bytes())
    before = groups.read_bytes()
    assert main(["predict", str(made / "m.txt"), str(made / "train.lgb"), "--query-file", str(groups), "--out",
                 str(groups)]) == 2
    assert f"{groups}: is also an input of this command" in capsys.readouterr().err and groups.read_bytes() == before


# -- options that would change nothing, and wrong values, are usage errors naming the option (trial t45, help audit)
def test_one_file_options_on_a_fold_folder_are_refused(made, tmp_path, capsys):
    for k in (1, 2):
        (tmp_path / f"Fold{k}").mkdir()
        for part in ("train", "test"):
            (tmp_path / f"Fold{k}" / f"{part}.txt").write_bytes((made / "train.txt").read_bytes())
    for option in (["--folds", "3"], ["--split-seed", "4"], ["--no-vali"]):
        assert main(["cv", str(tmp_path), "--rounds", "2", *option]) == 2
        assert (f"{option[0]} applies to one file cut into folds; {tmp_path} has its own folds"
                in capsys.readouterr().err)
    (tmp_path / "empty").mkdir()  # a folder of no folds is said as such, not as one that has its own
    assert main(["cv", str(tmp_path / "empty"), "--folds", "3"]) == 1
    assert "has no Fold1..FoldK sub-directories" in capsys.readouterr().err
    assert main(["cv", str(made / "train.txt"), "--rounds", "2", "--folds", "2", "--split-seed", "4", "--no-vali",
                 "--preset", "none", "--min-child-samples", "1", "--quiet"]) == 0  # one file: they apply


@pytest.mark.parametrize("argv, said", [
    (["evaluate", "{r}/train.txt", "--scores", "{r}/train.txt", "--dataset", "nope"],
     "--dataset nope: unknown data set"),
    (["data", "info", "nope"], "unknown data set 'nope'"),
    (["train", "{r}/train.txt", "--objective-param", "nosuch=1"],
     "--objective-param: unknown option 'nosuch' for objective 'lambdarank'"),
    (["train", "{r}/train.txt", "--early-stopping", "-1"], "--early-stopping must be >= 0, got -1"),
    (["predict", "{r}/m.txt", "{r}/train.txt", "--tag", "mine", "--out", "-"], "--tag mine goes with --run"),
])
def test_a_wrong_option_value_is_a_usage_error_naming_it(made, capsys, argv, said):
    assert main([a.format(r=made) for a in argv]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1
