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
