"""``ltr predict`` and the feature set a LETOR file's header records (``ltr features`` output): a file computed
otherwise than the model's training file (another analyzer, other scorers) is refused, naming the differences, as
``ltr rerank`` / ``Reranker.load`` refuse it; the same feature set, or a side that records none, scores as before."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltr._shared import import_reference
from ltr.cli import main
from ltr.io import read_letor

TRAIN = ["--rounds", "10", "--leaves", "4", "--min-child-samples", "1", "--preset", "none", "--quiet"]


def ok(argv, capsys) -> str:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 0, err
    return err


@pytest.fixture(scope="module")
def adi(shared_data, tmp_path_factory):
    """ADI's features (default analysis, the default feature set, top 10), and a model trained on them."""
    f = tmp_path_factory.mktemp("predict_featureset")
    code = main(["features", "--collection", str(shared_data / "adi"), "--topk", "10", "--out", str(f / "adi.letor"),
                 "--save-run", str(f / "bm25.run"), "--quiet"])
    assert code == 0
    assert main(["train", str(f / "adi.letor"), "--out", str(f / "model.txt"), *TRAIN]) == 0
    return f


def refused(argv, capsys) -> str:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_a_file_made_with_another_analyzer_is_refused_naming_the_difference(adi, shared_data, tmp_path, capsys):
    other = tmp_path / "terrier.letor"
    ok(["features", "--collection", shared_data / "adi", "--analyzer", "terrier", "--run", adi / "bm25.run",
        "--out", other, "--quiet"], capsys)
    assert read_letor(other).n_features == read_letor(adi / "adi.letor").n_features  # same columns: it would score
    out = tmp_path / "o.pred"
    err = refused(["predict", adi / "model.txt", other, "--out", out], capsys)
    assert err.startswith("ltr predict: error: ") and str(other) in err
    assert "analyzer stopwords" in err and "'terrier'" in err
    assert not out.exists()


def test_a_file_with_other_scorer_parameters_is_refused(adi, shared_data, tmp_path, capsys):
    # the same columns, one scorer's parameter changed: every column name is the same, only the header says so
    described = dict(read_letor(adi / "adi.letor").feature_set)
    bm25 = next(i for i, e in enumerate(described["features"]) if e["scorer"] == "bm25")
    entry = dict(described["features"][bm25])
    entry["params"] = {**entry.get("params", {}), "k1": 0.5}
    entry.pop("effective", None)
    described["features"] = [entry if i == bm25 else e for i, e in enumerate(described["features"])]
    fs = tmp_path / "fs.json"
    fs.write_text(json.dumps(described))
    other = tmp_path / "k1.letor"
    ok(["features", "--collection", shared_data / "adi", "--features", fs, "--run", adi / "bm25.run", "--out", other,
        "--quiet"], capsys)
    assert read_letor(other).feature_names == read_letor(adi / "adi.letor").feature_names
    err = refused(["predict", adi / "model.txt", other, "--out", "-"], capsys)
    assert f"feature {bm25 + 1} (bm25): k1 1.2 in the model, 0.5 in {other}" in err, err


def test_the_same_feature_set_scores_as_the_engine_does(adi, shared_data, tmp_path, capsys):
    lightgbm = import_reference("lightgbm")
    same = tmp_path / "same.letor"
    ok(["features", "--collection", shared_data / "adi", "--run", adi / "bm25.run", "--out", same, "--quiet"], capsys)
    ok(["predict", adi / "model.txt", same, "--out", tmp_path / "o.pred", "--quiet"], capsys)
    data = read_letor(same)
    expected = lightgbm.Booster(model_file=str(adi / "model.txt")).predict(np.asarray(data.X, dtype=np.float64))
    got = np.loadtxt(tmp_path / "o.pred")
    assert got.shape == (data.n_rows,)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_a_plain_letor_file_without_a_header_scores_as_before(adi, tmp_path, capsys):
    # the training file without its header lines: no feature set recorded on DATA's side
    plain = tmp_path / "plain.letor"
    plain.write_text("".join(line for line in (adi / "adi.letor").read_text().splitlines(keepends=True)
                             if not line.startswith("#")))
    err = ok(["predict", adi / "model.txt", plain, "--out", tmp_path / "p.pred"], capsys)
    assert "wrote" in err
    ok(["predict", adi / "model.txt", adi / "adi.letor", "--out", tmp_path / "t.pred", "--quiet"], capsys)
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "p.pred"), np.loadtxt(tmp_path / "t.pred"))


def test_the_run_refusal_of_a_bm25_preset_says_it_also_chose_the_analyzer(adi, shared_data, tmp_path, capsys):
    argv = ["features", "--collection", shared_data / "adi", "--features", "default", "--run", adi / "bm25.run",
            "--out", tmp_path / "o.letor", "--quiet"]
    assert main([str(a) for a in [*argv, "--bm25-preset", "terrier"]]) == 2
    err = capsys.readouterr().err
    assert "--bm25-preset configures the BM25 first stage" in err and "drop it or drop --run" in err
    assert "also chose the 'terrier' analyzer: pass --analyzer terrier with --run" in err
    assert not (tmp_path / "o.letor").exists()
    # as told: the preset's analysis kept, the file is what the model trained on the preset's features reads
    ok([*argv, "--analyzer", "terrier"], capsys)
    assert read_letor(tmp_path / "o.letor").feature_set["analyzer"]["stopwords_name"] == "terrier"
    # --analyzer given already: nothing to add; two options: plural
    assert main([str(a) for a in [*argv, "--bm25-preset", "terrier", "--analyzer", "terrier", "--bm25-k1", "1"]]) == 2
    err = capsys.readouterr().err
    assert "--bm25-k1, --bm25-preset configure the BM25 first stage" in err and "also chose" not in err
