"""Behaviours of ``ltr features`` and the feature sets mended after trial t62 (features)."""

from __future__ import annotations

import logging

import pytest

from features.featureset import FeatureSet
from features.scorers import get_scorer
from ltr.cli import build_parser, main


def test_an_infinite_k1_in_a_feature_set_file_is_said_to_be_not_finite(tmp_path):
    """TOML reads ``1e400`` as inf, which ``is_number`` refuses; the message said "a number >= 0", which inf is
    (t62, finding 2)."""
    p = tmp_path / "fs2.toml"
    p.write_text('[[features]]\nscorer = "bm25"\nk1 = 1e400\n')
    with pytest.raises(ValueError) as e:
        FeatureSet.load(p)
    assert str(e.value) == f"{p}: feature 1 (bm25): scorer 'bm25': k1 must be a finite number >= 0, got inf"


@pytest.mark.parametrize("scorer, params, param, rule", [
    ("bm25", {"idf": "okapi", "epsilon": float("inf")}, "epsilon", "a finite number >= 0"),
    ("bm25l", {"delta": float("inf")}, "delta", "a finite number >= 0"),
    ("bm25f", {"k1": float("inf")}, "k1", "a finite number >= 0"),
    ("bm25f", {"weights": {"body": float("inf")}}, "weights",
     "None or a table {field: finite weight >= 0} with a positive weight"),
    ("lm_dirichlet", {"mu": float("inf")}, "mu", "a finite number > 0"),
    ("sdm", {"mu": float("inf")}, "mu", "a finite number > 0"),
    ("sdm", {"w_ordered": float("inf")}, "w_ordered", "a finite number >= 0"),
    ("min_pair_dist", {"max_distance": float("inf")}, "max_distance", "a finite number > 0"),
])
def test_every_infinite_parameter_is_said_to_be_not_finite(scorer, params, param, rule):
    with pytest.raises(ValueError) as e:
        get_scorer(scorer)(**params)
    assert str(e.value) == f"scorer {scorer!r}: {param} must be {rule}, got {params[param]!r}"


def test_unknown_query_and_document_ids_of_a_run_are_each_named_by_their_own_line(tmp_path, caplog, monkeypatch):
    """The warning gave one line (the unknown document's) for both examples: query 9 is not on it (t62, finding 3)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs.tsv").write_text("d1\twing flutter\nd5\twing heat\n")
    (tmp_path / "q.tsv").write_text("1\twing\n")
    (tmp_path / "qrels").write_text("1 0 d1 1\n")
    (tmp_path / "in.run").write_text("1 Q0 d1 1 5.0 r\n1 Q0 d5 2 4.0 r\n1 Q0 zz 3 3.0 r\n9 Q0 d1 1 1 r\n")
    with caplog.at_level(logging.WARNING, logger="features"):
        assert main(["features", "--collection", "docs.tsv", "--queries", "q.tsv", "--qrels", "qrels", "--run",
                     "in.run", "--out", "r.letor", "--quiet"]) == 0
    said = [r.getMessage() for r in caplog.records if "unknown" in r.getMessage()]
    assert said == ["in.run:3: candidates: 1 row(s) over 1 unknown query id(s) (e.g. '9', line 4), 1 row(s) over 1 "
                    "unknown document id(s) (e.g. 'zz', line 3); left out"]


def test_the_lucene_presets_help_says_how_it_counts_n_and_where_bm25s_differs():
    """It said "as bm25s' lucene", which counts every document where the preset counts those holding the field
    (t62, finding 4)."""
    features = build_parser()._subparsers._group_actions[0].choices["features"]
    preset = next(a for a in features._actions if a.dest == "bm25_preset")
    assert preset.help == (
        "first-stage BM25 as Lucene/Anserini or as Terrier computes it (lucene: Lucene's idf, N and avgdl over the "
        "documents holding the field, as Lucene counts them, scores (k1 + 1) times Lucene 8+'s, which leaves that "
        "constant out, with exact document lengths: bm25s' lucene times (k1 + 1) where every document holds the field "
        "(bm25s counts every document, as --bm25-doc-count collection does); Lucene itself keeps lengths above 23 "
        "tokens in one byte, so its ranking differs slightly; terrier: Terrier's idf, k3 = 8, qtf normalisation and, "
        "unless --analyzer is given, Terrier's analysis); the --bm25-* flags override it")
