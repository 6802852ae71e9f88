"""``ltr cv FOLDER`` warns, before training, of a fold folder of the user's own that tests on training query ids or
tests one query id in two folds (trial t48/experiments: Fold1 NDCG@10 0.6789 for a clean 0.5373 with its test
queries in its train file, exit 0, unsaid; a query in two test files renamed every query id FoldK/qid and failed
--run-out after all the training). A warning: files that number their own queries from 1 share ids, not queries.
The registered sets' official folds are refused so already (ltr.registry.fold_leak)."""

from __future__ import annotations

import gzip

import pytest

from ltr import make_ranking
from ltr.cli import main
from ltr.io import write_letor


def _folds(root, parts):
    """``parts``: {(fold, split): dataset}; written as root/FoldK/split.txt (gzip for test, as the LETOR copies)."""
    for (k, split), d in parts.items():
        (root / f"Fold{k}").mkdir(exist_ok=True)
        path = root / f"Fold{k}" / (f"{split}.txt.gz" if split == "test" else f"{split}.txt")
        write_letor(path, d)


def _queries(first_qid: int, n: int, seed: int):
    d = make_ranking(n, (4, 4), 3, random_state=seed)
    import dataclasses

    import numpy as np

    return dataclasses.replace(d, qid=d.qid + first_qid - int(np.min(d.qid)))


@pytest.fixture
def clean(tmp_path):
    a, b, c = _queries(1, 4, 0), _queries(101, 4, 1), _queries(201, 4, 2)
    _folds(tmp_path, {(1, "train"): a, (1, "vali"): b, (1, "test"): c,
                      (2, "train"): c, (2, "vali"): a, (2, "test"): b})
    return tmp_path


def _warnings(caplog) -> list[str]:  # (in-process, the command's log records reach caplog)
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and r.name == "ltr.cli.cv"]


def test_a_clean_fold_folder_trains_without_a_warning(clean, caplog):
    assert main(["cv", str(clean), "--rounds", "2", "--quiet", "--preset", "none", "--min-child-samples", "1"]) == 0
    assert _warnings(caplog) == []


def test_a_fold_that_trains_on_its_test_queries_is_said_before_training(clean, caplog):
    write_letor(clean / "Fold1" / "train.txt", _queries(201, 4, 2))  # Fold1's test queries
    assert main(["cv", str(clean), "--rounds", "2", "--quiet", "--preset", "none", "--min-child-samples", "1"]) == 0
    said = _warnings(caplog)
    train, test = clean / "Fold1" / "train.txt", clean / "Fold1" / "test.txt.gz"
    assert len(said) == 1 and said[0].startswith(
        f"Fold1: {train} (train) and {test} (test) share query ids, the first qid:201; a fold's train, vali and test "
        "hold different queries, so this copy leaks test queries into training; if each file numbers its own "
        "queries")


def test_a_query_tested_by_two_folds_is_said_before_training(clean, caplog):
    with gzip.open(clean / "Fold2" / "test.txt.gz", "rt") as f:
        text = f.read()
    with gzip.open(clean / "Fold1" / "test.txt.gz", "rt") as f:
        extra = [line for line in f.read().splitlines() if " qid:201 " in line]
    with gzip.open(clean / "Fold2" / "test.txt.gz", "wt") as f:  # query 201 in Fold2's test too
        f.write(text + "\n".join(extra) + "\n")
    write_letor(clean / "Fold2" / "train.txt", _queries(301, 4, 3))  # (not in Fold2's train: no leak there)
    assert main(["cv", str(clean), "--rounds", "2", "--quiet", "--preset", "none", "--min-child-samples", "1"]) == 0
    said = _warnings(caplog)
    assert len(said) == 1 and said[0].startswith("query qid:201 is in the test files of Fold1 and Fold2 (")
    assert "cross-validation tests each query once" in said[0]
