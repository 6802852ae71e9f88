"""Trial 27 of the data registry against the sets' own documentation: ERR's max grade follows ``--dataset``'s
documented labels, official folds that share queries are refused, OHSUMED's two folder spellings, the listwise
sets' defaults, and the wording of the single-split and width notes. Synthetic copies are tiny files in
``tmp_path`` written in each set's documented layout."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np
import pytest

from ltr.cli import main

FAST = ["--rounds", "3", "--leaves", "4", "--min-child-samples", "2", "--quiet"]


def _rows(qids, n_features, labels, seed=0, docid=True, eol="\n"):
    """'label qid:Q 1:v .. n:v #docid = ...' lines, 6 documents per query."""
    rnd = random.Random(seed)
    out = []
    for q in qids:
        for d in range(6):
            feats = " ".join(f"{j}:{rnd.random():.6f}" for j in range(1, n_features + 1))
            comment = f" #docid = GX{q:03d}-{d:02d} inc = 1 prob = 0.5" if docid else ""
            out.append(f"{rnd.choice(labels)} qid:{q} {feats}{comment}{eol}")
    return out


_FOLDS = {1: ("S1+S2+S3", "S4", "S5"), 2: ("S2+S3+S4", "S5", "S1"), 3: ("S3+S4+S5", "S1", "S2"),
          4: ("S4+S5+S1", "S2", "S3"), 5: ("S5+S1+S2", "S3", "S4")}


def _five_folds(folder: Path, n_features: int, labels, names=("train.txt", "vali.txt", "test.txt")) -> Path:
    """The LETOR 4.0 / MSLR rotation of five segments S1..S5 (4 queries each) into Fold1..Fold5."""
    segs = {f"S{i}": _rows(range(100 * i, 100 * i + 4), n_features, labels, seed=i) for i in range(1, 6)}
    for k, parts in _FOLDS.items():
        for name, part in zip(names, parts):
            p = folder / f"Fold{k}" / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("".join(r for s in part.split("+") for r in segs[s]), encoding="utf-8")
    return folder


# -- 1. ERR's max grade follows the registered label range -----------------------------------------------------------

def _letor_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Labels and qids of a LETOR file, parsed here (not by ltr.io)."""
    labels, qids = [], []
    with gzip.open(path, "rt") if path.suffix == ".gz" else open(path) as f:
        for line in f:
            tok = line.split("#", 1)[0].split()
            if tok:
                labels.append(float(tok[0]))
                qids.append(tok[1].removeprefix("qid:"))
    return np.array(labels), np.array(qids)


def _err_by_hand(labels, scores, qids, k: int, max_grade: float) -> float:
    """ERR@k of Chapelle, Metzler, Zhang and Grinspan (CIKM 2009): sum over ranks r <= k of
    R_r / r * prod_{i<r} (1 - R_i), R = (2^g - 1) / 2^max_grade; the mean over queries."""
    per = []
    for q in dict.fromkeys(qids):
        idx = np.flatnonzero(qids == q)
        order = idx[np.argsort(-scores[idx], kind="stable")][:k]
        err, stay = 0.0, 1.0
        for r, i in enumerate(order, start=1):
            rel = (2.0 ** labels[i] - 1.0) / 2.0 ** max_grade
            err += stay * rel / r
            stay *= 1.0 - rel
        per.append(err)
    return float(np.mean(per))


def test_err_with_dataset_mq2008_uses_its_top_grade_2(shared_file, tmp_path, capsys):
    test = shared_file("mq2008/Fold1/test.txt.gz")
    labels, qids = _letor_file(Path(test))
    scores = np.random.default_rng(7).random(labels.size)
    (tmp_path / "s.txt").write_text("".join(f"{float(s)!r}\n" for s in scores), encoding="utf-8")
    base = ["evaluate", str(test), "--scores", str(tmp_path / "s.txt"), "--format", "json"]
    assert main([*base, "--dataset", "mq2008"]) == 0
    row = json.loads(capsys.readouterr().out)["mean"]
    assert row["err@10"] == pytest.approx(_err_by_hand(labels, scores, qids, 10, 2.0), abs=1e-9)
    assert main([*base, "--dataset", "mq2008", "--metrics", "err@5"]) == 0  # ERR named: the set's grade as well
    out = capsys.readouterr()
    row = json.loads(out.out)["mean"]
    assert row["err@5"] == pytest.approx(_err_by_hand(labels, scores, qids, 5, 2.0), abs=1e-9)
    assert "max grade 2" in out.err and "mq2008" in out.err
    assert main([*base, "--dataset", "mq2008", "--max-grade", "4"]) == 0  # given: kept
    row = json.loads(capsys.readouterr().out)["mean"]
    assert row["err@10"] == pytest.approx(_err_by_hand(labels, scores, qids, 10, 4.0), abs=1e-9)
    assert main(base) == 0  # without --dataset: the generic default 4, as before
    row = json.loads(capsys.readouterr().out)["mean"]
    assert row["err@10"] == pytest.approx(_err_by_hand(labels, scores, qids, 10, 4.0), abs=1e-9)


def test_train_and_cv_with_dataset_name_the_grade_in_the_footer(shared_file, tmp_path, capsys):
    vali, test = shared_file("mq2008/Fold1/vali.txt.gz"), shared_file("mq2008/Fold1/test.txt.gz")
    assert main(["train", str(vali), "--test", str(test), "--dataset", "mq2008", *FAST]) == 0
    assert "ERR's highest grade 2" in capsys.readouterr().out
    root = _five_folds(tmp_path / "MQ2008", 46, [0, 0, 1, 2])
    assert main(["cv", "--dataset", "mq2008", "--root", str(root), "--metrics", "ndcg@10,err@10", *FAST]) == 0
    assert "ERR's highest grade 2" in capsys.readouterr().out


# -- 2. a fold whose splits share queries -----------------------------------------------------------------------------

def _leaky_copy(tmp_path: Path) -> Path:
    root = _five_folds(tmp_path / "MQ2008", 46, [0, 0, 1, 2])
    (root / "Fold1" / "test.txt").write_bytes((root / "Fold1" / "train.txt").read_bytes())
    return root


def test_cv_by_name_refuses_a_fold_whose_test_file_is_its_train_file(tmp_path, capsys):
    root = _leaky_copy(tmp_path)
    assert main(["cv", "--dataset", "mq2008", "--root", str(root), *FAST]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    # the fold, both files and the first shared query id (Fold1/train.txt starts with segment S1's qid 100)
    assert "Fold1:" in err and "Fold1/train.txt" in err and "Fold1/test.txt" in err and "qid:100" in err
    _five_folds(root, 46, [0, 0, 1, 2])  # the documented rotation again: no leak, cv runs
    assert main(["cv", "--dataset", "mq2008", "--root", str(root), *FAST]) == 0


def test_verify_reports_the_leaking_fold(tmp_path, capsys):
    root = _leaky_copy(tmp_path)
    assert main(["data", "verify", "mq2008", str(root), "--format", "json"]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    leaks = [p for p in problems if "share query ids" in p]
    assert len(leaks) == 1 and leaks[0].startswith("Fold1: Fold1/train.txt (train) and Fold1/test.txt (test)")
    assert "qid:100" in leaks[0]
    _five_folds(root, 46, [0, 0, 1, 2])
    main(["data", "verify", "mq2008", str(root), "--format", "json"])
    assert not [p for p in json.loads(capsys.readouterr().out)["problems"] if "share query ids" in p]


# -- 3. OHSUMED's folder spellings ------------------------------------------------------------------------------------

_OHSUMED_FILES = ("trainingset.txt", "validationset.txt", "testset.txt")


@pytest.mark.parametrize("sep", ["_", "-"])
def test_ohsumed_folders_are_found_in_both_spellings(sep, tmp_path, capsys):
    for version in ("min", "null"):
        _five_folds(tmp_path / "OHSUMED" / f"Feature{sep}{version}", 45, [0, 1, 2], names=_OHSUMED_FILES)
    for name, version in (("ohsumed", "min"), ("ohsumed-null", "null")):
        assert main(["data", "verify", name, str(tmp_path), "--format", "json"]) in (0, 1)
        report = json.loads(capsys.readouterr().out)
        assert report["missing"] == [] and report["root"].endswith(f"Feature{sep}{version}")
    assert main(["cv", "--dataset", "ohsumed", "--root", str(tmp_path), *FAST]) == 0
    capsys.readouterr()
    import zipfile

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with zipfile.ZipFile(mirror / "OHSUMED.zip", "w") as z:
        for p in sorted((tmp_path / "OHSUMED").rglob("*.txt")):
            z.write(p, p.relative_to(tmp_path).as_posix())
    assert main(["data", "fetch", "ohsumed", "--to", str(tmp_path / "got"), "--base-url", mirror.as_uri()]) == 0
    assert all((tmp_path / "got" / "ohsumed" / f"Fold{k}" / f).is_file() for k in range(1, 6) for f in _OHSUMED_FILES)


def test_fetch_names_what_an_archive_without_the_files_holds(tmp_path, capsys):
    import zipfile

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with zipfile.ZipFile(mirror / "OHSUMED.zip", "w") as z:
        z.writestr("OHSUMED/Feature_max/Fold1/trainingset.txt", "".join(_rows([1], 45, [0, 1, 2])))
        z.writestr("OHSUMED/ReadMe.txt", "x")
    assert main(["data", "fetch", "ohsumed", "--to", str(tmp_path / "got"), "--base-url", mirror.as_uri()]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "lack Fold1/trainingset.txt" in err and "(they hold OHSUMED/Feature_max/" in err
    assert "nothing was installed" in err


# -- 4. the listwise sets' defaults -----------------------------------------------------------------------------------

def _list_file(path: Path, qids, seed: int) -> Path:
    """MQ2008-list's form: every label above 0, a query's labels a full order (here 1001..1030 for 30 documents)."""
    rnd = random.Random(seed)
    lines = []
    for q in qids:
        order = rnd.sample(range(1001, 1031), 30)
        for d, label in enumerate(order):
            feats = " ".join(f"{j}:{rnd.random():.6f}" for j in range(1, 47))
            lines.append(f"{label} qid:{q} {feats} #docid = GX{q:03d}-{d:02d} inc = 1 prob = 0.5\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_train_with_dataset_mq2008_list_runs_with_the_entrys_defaults(tmp_path, capsys):
    train = _list_file(tmp_path / "train.txt", range(1, 7), 1)
    test = _list_file(tmp_path / "test.txt", range(11, 14), 2)
    assert main(["train", str(train), "--test", str(test), "--dataset", "mq2008-list", "--rounds", "3",
                 "--format", "json"]) == 0
    out = capsys.readouterr()
    result = json.loads(out.out)
    assert sorted(result["test"]) == ["ndcg@1", "ndcg@10", "ndcg@3", "ndcg@5"]  # no ERR, no MAP
    assert result["conventions"].startswith("gain linear")
    assert "--objective listnet --kernel numba --gain linear" in out.err
    # given options win over the entry's: lambdarank is refused for these labels, as before
    assert main(["train", str(train), "--test", str(test), "--dataset", "mq2008-list", "--objective", "lambdarank",
                 "--metrics", "ndcg@10", "--rounds", "3", "--quiet"]) == 1
    capsys.readouterr()


def test_evaluate_with_dataset_mq2008_list_scores_linear_ndcg_as_scikit_learn(tmp_path, capsys):
    from ltr._shared import import_reference

    metrics = import_reference("sklearn.metrics")
    test = _list_file(tmp_path / "test.txt", range(11, 15), 3)
    labels, qids = _letor_file(test)
    scores = np.random.default_rng(3).random(labels.size)
    (tmp_path / "s.txt").write_text("".join(f"{float(s)!r}\n" for s in scores), encoding="utf-8")
    assert main(["evaluate", str(test), "--scores", str(tmp_path / "s.txt"), "--dataset", "mq2008-list",
                 "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)["mean"]
    want = np.mean([metrics.ndcg_score([labels[qids == q]], [scores[qids == q]], k=10) for q in dict.fromkeys(qids)])
    assert set(got) == {"ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10"}
    assert got["ndcg@10"] == pytest.approx(want, abs=1e-9)


# -- 5. Istella's citations, one official split, the registered width, the width note ---------------------------------

@pytest.mark.parametrize("name", ["istella", "istella-s"])
def test_istella_cites_both_publications_its_readme_asks_for(name, capsys):
    assert main(["data", "info", name, "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert "Dato" in info["citation"] and "TOIS 35(2), 2016" in info["citation"]
    assert "Post-Learning Optimization of Tree Ensembles for Efficient Ranking" in info["citation"]
    assert "SIGIR 2016" in info["citation"] and "Lucchese et al. 2016" in info["license"]


def test_cv_on_a_single_split_set_shows_no_std_and_says_one_official_split(tmp_path, capsys):
    full = tmp_path / "full"
    full.mkdir()
    (full / "train.txt").write_text("".join(_rows(range(1, 9), 220, [0, 1, 2, 3, 4], seed=1)), encoding="utf-8")
    (full / "test.txt").write_text("".join(_rows(range(20, 24), 220, [0, 1, 2, 3, 4], seed=2)), encoding="utf-8")
    assert main(["cv", "--dataset", "istella", "--root", str(tmp_path), "--metrics", "ndcg@10,map", *FAST]) == 0
    out = capsys.readouterr().out
    std = next(line for line in out.splitlines() if line.startswith("std"))
    assert std.split() == ["std", "-", "-"] and "0.0000" not in std
    assert "one official split" in out and "over 1 folds" not in out


def test_a_feature_id_above_the_registered_width_asks_if_the_file_is_that_set(tmp_path, capsys):
    rows = _rows([1, 2], 136, [0, 1, 2, 3, 4], docid=False, eol="\r\n")
    rows[1] = rows[1].replace("\r\n", " 137:1.0\r\n")
    (tmp_path / "m.txt").write_text("".join(rows), encoding="utf-8", newline="")
    assert main(["info", str(tmp_path / "m.txt"), "--dataset", "mslr-web10k"]) == 1
    err = capsys.readouterr().err.strip()
    want = f"m.txt:2: feature id above 136 (token '137:1.0'); mslr-web10k has 136 features: is {tmp_path / 'm.txt'}"
    assert want in err and "--n-features" not in err
    assert main(["info", str(tmp_path / "m.txt"), "--n-features", "136"]) == 1  # without --dataset: as before
    assert "pass --n-features" in capsys.readouterr().err


def test_the_empty_last_columns_note_waits_for_enough_queries(tmp_path, capsys):
    many = 50  # ltr.cli._data.WIDTH_NOTE_QUERIES, the threshold the docstring states

    def write(n_queries: int) -> Path:
        rows = [r.replace("\n", " 46:0\n") for r in _rows(range(1, n_queries + 1), 45, [0, 1, 2], docid=False)]
        path = tmp_path / f"q{n_queries}.txt"
        path.write_text("".join(rows), encoding="utf-8")
        return path

    assert main(["info", str(write(3)), "--dataset", "mq2008"]) == 0  # an excerpt of 3 queries: no note
    assert "no value in features" not in capsys.readouterr().err
    assert main(["info", str(write(many)), "--dataset", "mq2008"]) == 0
    assert "no value in features 46..46 of mq2008's 46: is it that set?" in capsys.readouterr().err


# -- 6. Yahoo: an undefined feature is 0 -----------------------------------------------------------------------------

def _yahoo_file(path: Path, qids, seed: int) -> Path:
    """Yahoo's form: 'label qid:Q id:value' with the undefined features left out (30 % of ids listed)."""
    rnd = random.Random(seed)
    lines = []
    for q in qids:
        for _ in range(6):
            feats = " ".join(f"{j}:{rnd.random():.6f}" for j in range(1, 41) if rnd.random() < 0.3)
            lines.append(f"{rnd.choice([0, 1, 2, 3, 4])} qid:{q} {feats}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_xgboost_under_the_yahoo_entry_trains_as_on_a_dense_read(tmp_path, capsys):
    train = _yahoo_file(tmp_path / "set1.train.txt", range(1, 11), 1)
    test = _yahoo_file(tmp_path / "set1.test.txt", range(20, 24), 2)
    fit = ["--engine", "xgboost", "--rounds", "5", "--seed", "0", "--quiet"]
    assert main(["train", str(train), "--dataset", "yahoo-set1", "--out", str(tmp_path / "reg.json"), *fit]) == 0
    assert main(["train", str(train), "--n-features", "700", "--out", str(tmp_path / "dense.json"), *fit]) == 0
    capsys.readouterr()

    def scores(model: str, *read: str) -> np.ndarray:
        out = tmp_path / f"{model}{len(read)}.s"
        assert main(["predict", str(tmp_path / model), str(test), "--out", str(out), "--quiet", *read]) == 0
        return np.loadtxt(out)

    dense = scores("dense.json", "--n-features", "700")  # the reference: Yahoo's meaning, absent = 0
    np.testing.assert_array_equal(scores("reg.json", "--n-features", "700"), dense)
    np.testing.assert_array_equal(scores("reg.json", "--dataset", "yahoo-set1"), dense)  # scored dense as well
    # --sparse keeps XGBoost's svmlight convention (absent = missing): another model, as asked
    assert main(["train", str(train), "--dataset", "yahoo-set1", "--sparse", "--out", str(tmp_path / "sp.json"),
                 *fit]) == 0
    assert not np.array_equal(scores("sp.json", "--dataset", "yahoo-set1"), dense)
