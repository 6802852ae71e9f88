"""``ltr features``: text collection -> LETOR file, and its usage and data errors."""

import numpy as np
import pytest

from features.featureset import FeatureSet
from features.index import InvertedIndex
from ltr.cli import main
from ltr.io import read_letor


# -- CLI -------------------------------------------------------------------------------------------------------------
def run(argv):
    return main(["features", *argv])


@pytest.fixture
def files(tmp_path):
    (tmp_path / "docs.tsv").write_text("d1\tflutter of a wing\nd2\theat transfer in slabs\nd3\twing flutter wing\n")
    (tmp_path / "q.tsv").write_text("Q-A\twing flutter\nQ-B\theat\n")
    (tmp_path / "qrels").write_text("Q-A 0 d3 2\nQ-A 0 d2 0\nQ-B 0 d2 1\n")
    return tmp_path


def test_cli_writes_letor_with_names_doc_ids_and_a_qid_map(files, capsys):
    out = files / "train.letor"
    code = run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--qrels", str(files / "qrels"), "--topk", "5", "--out", str(out), "--quiet",
                          "--index", str(files / "ix.npz"), "--save-run", str(files / "bm25.run")])
    assert code == 0, capsys.readouterr().err
    d = read_letor(out)
    assert d.n_queries == 2 and d.feature_names == FeatureSet.default().feature_names(
        InvertedIndex.load(files / "ix.npz"))
    assert d.query_ids.tolist() == [1, 2] and d.y[d.doc_ids == "d3"].tolist() == [2.0]
    assert (files / "train.letor.qids.tsv").read_text() == "1\tQ-A\n2\tQ-B\n"
    # a second run reuses the saved index and the saved run
    code = run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--qrels", str(files / "qrels"), "--run", str(files / "bm25.run"), "--out",
                          str(files / "again.letor"), "--quiet", "--index", str(files / "ix.npz")])
    assert code == 0 and read_letor(files / "again.letor").equals(d)


def test_cli_exit_codes_for_usage_and_data_errors(files, capsys):
    base = ["--out", str(files / "o.letor"), "--quiet"]
    assert run(["--collection", str(files / "docs.tsv")] + base) == 2
    assert "--queries is required" in capsys.readouterr().err
    (files / "bad.tsv").write_bytes(b"d1\twing ok\nd2\tbad \xff\n")
    assert run(["--collection", str(files / "bad.tsv"), "--queries", str(files / "q.tsv")] + base) == 1
    err = capsys.readouterr().err
    assert "bad.tsv:2: invalid UTF-8 byte" in err and "Traceback" not in err
    assert run(["--collection", str(files / "bad.tsv"), "--queries", str(files / "q.tsv"),
                          "--encoding-errors", "replace"] + base) == 0
    (files / "ix.npz").write_bytes(b"garbage")
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--index", str(files / "ix.npz")] + base) == 1
    assert "not a readable index file" in capsys.readouterr().err
    (files / "qrels2").write_text("Q-A 0 d3 2\nQ-Z 0 d1 1\n")
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--qrels", str(files / "qrels2"), "--on-unknown", "error"] + base) == 1
    assert "unknown query id" in capsys.readouterr().err
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--features", str(files / "none.toml")] + base) == 1
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--topk", "0"] + base) == 2


def test_cli_usage_errors_from_argparse_exit_2(capsys):
    assert run(["--collection", "x", "--out", "y", "--run", "r", "--topk", "5"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.shared
def test_cli_on_cranfield_directory(shared_file, tmp_path):
    out = tmp_path / "cran.letor"
    assert run(["--collection", str(shared_file("cranfield")), "--topk", "20", "--out", str(out),
                          "--quiet"]) == 0
    d = read_letor(out)
    assert d.n_queries == 225 and d.n_rows == 225 * 20
    # graded Cranfield gains reach the labels: 4 = complete answer (code 1)
    assert set(np.unique(d.y)) <= {0.0, 1.0, 2.0, 3.0, 4.0} and (d.y == 4).any()



def test_cli_refuses_an_index_built_with_another_analyzer(files, capsys):
    base = ["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"), "--quiet",
            "--out", str(files / "o.letor"), "--index", str(files / "ix.npz")]
    assert run(base) == 0
    assert run(base + ["--analyzer", "terrier"]) == 1
    assert "built with another analyzer" in capsys.readouterr().err
    assert run(base + ["--n-jobs", "1"]) == 0
