"""LETOR sidecars found by default as LightGBM finds them (PATH.query, XGBoost's PATH.group, PATH.weight), the
dataset's record of them, sparse writing, gzip by magic bytes, and the reader options' fixes in both wordings."""

from __future__ import annotations

import gzip
import inspect
import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_svmlight_file

from ltr.datasets import RankingDataset, make_ranking
from ltr.exceptions import FileFormatError, LetorFormatError
from ltr.io import (
    QRELS_FORMATS,
    READER_OPTIONS,
    read_letor,
    read_qrels,
    read_query_file,
    read_weight_file,
    write_letor,
    write_weight_file,
)
from ltr.reader_options import Placeholder


def put(folder, name: str, content: bytes):
    p = folder / name
    p.write_bytes(content)
    return p


LIGHTGBM_ROWS = b"1 1:1\n0 2:1\n2 1:3\n1 1:4\n0 2:2\n"


# ------------------------------------------------------------------------------------------------------------
# Found by default
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize("split, rows, queries", [("train", 3005, 201), ("test", 768, 50)])
def test_the_lightgbm_example_reads_with_no_options(shared_file, split, rows, queries):
    path = shared_file(f"lightgbm_lambdarank/rank.{split}.gz")
    qpath = shared_file(f"lightgbm_lambdarank/rank.{split}.query")
    d = read_letor(path)  # rank.train.gz -> rank.train.query, as LightGBM's CLI finds rank.train.query
    sizes = np.loadtxt(qpath, dtype=np.int64)  # independent reading of the group sizes
    assert (d.n_rows, d.n_queries) == (rows, queries) and sizes.sum() == rows
    np.testing.assert_array_equal(d.group_sizes, sizes)
    assert dict(d.sources) == {"data": str(path), "query": str(qpath)}
    _, y = load_svmlight_file(str(path), zero_based=False)
    np.testing.assert_array_equal(d.y, y)


def test_xgboost_group_files_and_gz_names_are_found_too(tmp_path):
    p = put(tmp_path, "d.txt", LIGHTGBM_ROWS)
    put(tmp_path, "d.txt.group", b"2\n3\n")
    d = read_letor(p)
    assert d.group_ptr.tolist() == [0, 2, 5] and d.sources["query"] == str(tmp_path / "d.txt.group")
    z = put(tmp_path, "e.txt.gz", gzip.compress(LIGHTGBM_ROWS))
    put(tmp_path, "e.txt.query", b"1\n4\n")  # for X.gz the sidecar of X
    assert read_letor(z).group_ptr.tolist() == [0, 1, 5]


def test_sidecars_that_disagree_are_an_error_and_equal_ones_are_fine(tmp_path):
    p = put(tmp_path, "d.txt", LIGHTGBM_ROWS)
    put(tmp_path, "d.txt.query", b"2\n3\n")
    put(tmp_path, "d.txt.group", b"2\n3\n")
    assert read_letor(p).n_queries == 2
    put(tmp_path, "d.txt.group", b"1\n4\n")
    with pytest.raises(LetorFormatError, match="disagree") as e:
        read_letor(p)
    assert e.value.fix == {"query_file": Placeholder("file")}
    assert read_letor(p, query_file=tmp_path / "d.txt.group").group_ptr.tolist() == [0, 1, 5]


def test_weights_are_read_per_row_and_follow_dropped_and_sorted_rows(tmp_path):
    p = put(tmp_path, "d.txt", b"1 qid:2 1:1\n-1 qid:2 1:2\n2 qid:1 1:3\n0 qid:2 1:4\n")
    w = put(tmp_path, "d.txt.weight", b"0.5\n9\n2\n1.25\n")
    d = read_letor(p, unjudged="drop", sort=True)
    # independent: the weights of the kept rows, in the order of the sorted qids (qid 1 first, then 2's rows)
    ref = np.loadtxt(w)[[2, 0, 3]]
    assert d.X[:, 0].tolist() == [3, 1, 4]
    np.testing.assert_array_equal(d.weight, ref)
    assert d.sources["weight"] == str(w)
    assert read_letor(p, unjudged="drop", sort=True, weight_file=None).weight is None


def test_weight_files_of_the_wrong_size_or_content_name_the_file(tmp_path):
    p = put(tmp_path, "d.txt", b"1 qid:1 1:1\n0 qid:1 1:2\n")
    w = put(tmp_path, "d.txt.weight", b"1\n2\n3\n")
    with pytest.raises(LetorFormatError, match="3 weights for the 2 rows") as e:
        read_letor(p)
    assert e.value.path == str(w) and e.value.fix == {"weight_file": None}
    for content, line, token in ((b"1\n-2\n", 2, "-2"), (b"x\n1\n", 1, "x"), (b"1\ninf\n", 2, "inf")):
        w.write_bytes(content)
        with pytest.raises(LetorFormatError) as e:
            read_weight_file(w)
        assert (e.value.line, e.value.token) == (line, token)


def test_explicit_sidecar_names_and_switching_them_off(tmp_path):
    p = put(tmp_path, "data.svm", LIGHTGBM_ROWS)
    q = put(tmp_path, "groups.txt", b"3\n2\n")
    w = put(tmp_path, "weights.txt", b"1\n1\n1\n2\n2\n")
    d = read_letor(p, query_file=q, weight_file=w)
    assert d.group_ptr.tolist() == [0, 3, 5] and d.weight.tolist() == [1, 1, 1, 2, 2]
    assert dict(d.sources) == {"data": str(p), "query": str(q), "weight": str(w)}
    with pytest.raises(FileNotFoundError, match="group sizes file not found"):
        read_letor(p, query_file=tmp_path / "nope")
    with pytest.raises(TypeError, match="query_file"):
        read_letor(p, query_file=3)
    put(tmp_path, "data.svm.query", b"3\n2\n")
    with pytest.raises(LetorFormatError, match="missing qid") as e:
        read_letor(p, query_file=False)
    assert "no group-sizes file is read" in str(e.value)  # the same words for --no-query-file and query_file=None


def test_a_stale_sidecar_beside_a_qid_file_names_the_way_out(tmp_path):
    p = put(tmp_path, "d.txt", b"1 qid:1 1:1\n0 qid:1 1:2\n1 qid:2 1:2\n")
    put(tmp_path, "d.txt.query", b"1\n2\n")
    with pytest.raises(LetorFormatError, match="do not change exactly") as e:
        read_letor(p)
    assert e.value.fix == {"query_file": None}
    assert "pass query_file=None to group by the qid tokens alone" in str(e.value)
    assert "pass --no-query-file to group by the qid tokens alone" in e.value.cli_message()
    assert read_letor(p, query_file=None).group_ptr.tolist() == [0, 2, 3]


def test_sidecars_may_be_gzip_whatever_their_name(tmp_path):
    p = put(tmp_path, "d.txt", LIGHTGBM_ROWS)
    q = put(tmp_path, "d.txt.query", gzip.compress(b"2\n3\n"))
    assert read_query_file(q).tolist() == [2, 3] and read_letor(p).n_queries == 2
    hidden = put(tmp_path, "data", gzip.compress(b"1 qid:1 1:1\n"))  # LETOR gzip without .gz: decompressed
    assert read_letor(hidden).n_rows == 1
    plain = put(tmp_path, "plain.txt.gz", b"1 qid:1 1:1\n")  # a .gz name holding text: read as text
    assert read_letor(plain).n_rows == 1


# ------------------------------------------------------------------------------------------------------------
# The record and the writer
# ------------------------------------------------------------------------------------------------------------


def test_weights_round_trip_through_write_letor_and_subset(tmp_path):
    d0 = make_ranking(4, 3, 2, random_state=0)
    w = np.linspace(0.5, 2.0, d0.n_rows)
    d = RankingDataset(X=d0.X, y=d0.y, qid=d0.qid, group_ptr=d0.group_ptr, feature_names=d0.feature_names,
                       weight=w)
    p = write_letor(tmp_path / "w.txt", d)
    assert (tmp_path / "w.txt.weight").is_file()
    back = read_letor(p)
    assert back.equals(d) and back.sources["weight"] == str(tmp_path / "w.txt.weight")
    assert not back.equals(read_letor(p, weight_file=None))  # weights are part of the data
    np.testing.assert_array_equal(d.subset([2, 0]).weight, np.concatenate([w[6:9], w[0:3]]))
    write_letor(tmp_path / "n.txt", d, weight_file=None)
    assert not (tmp_path / "n.txt.weight").exists()
    with pytest.raises(ValueError, match="weight"):
        RankingDataset(X=d0.X, y=d0.y, qid=d0.qid, group_ptr=d0.group_ptr, weight=-w)
    with pytest.raises(ValueError, match="weight_file"):
        write_letor("-", d)
    assert write_weight_file(tmp_path / "x.weight", [1, 0.25]).read_text() == "1.0\n0.25\n"


def test_write_letor_writes_sparse_input_sparsely(tmp_path):
    # 1000 rows x 100000 columns with 3 stored entries a row (one an explicit zero): a dense writer would list
    # 10^8 values; a sparse one lists exactly the stored entries.
    rng = np.random.default_rng(1)
    n, m = 1000, 100_000
    cols = np.sort(np.stack([rng.choice(m, 3, replace=False) for _ in range(n)]), axis=1)
    vals = rng.standard_normal((n, 3)).astype(np.float32)
    vals[:, 1] = 0.0
    X = sp.csr_matrix((vals.ravel(), cols.ravel(), np.arange(0, 3 * n + 1, 3)), shape=(n, m))
    qid = np.repeat(np.arange(100), 10)
    d = RankingDataset(X=X, y=np.zeros(n), qid=qid, group_ptr=np.arange(0, n + 1, 10))
    p = write_letor(tmp_path / "s.txt", d, header=False)
    lines = p.read_text().splitlines()
    assert len(lines) == n and all(len(line.split()) == 2 + 3 for line in lines)  # label, qid, 3 entries
    assert p.stat().st_size < 60 * n
    Xs, y, q = load_svmlight_file(str(p), n_features=m, query_id=True, zero_based=False, dtype=np.float32)
    np.testing.assert_array_equal(Xs.indices, X.indices)  # explicit zeros kept as stored entries
    np.testing.assert_array_equal(Xs.data.view(np.uint32), X.data.view(np.uint32))
    np.testing.assert_array_equal(q, qid)


# ------------------------------------------------------------------------------------------------------------
# Reader options and their fixes (issue 9, "Reader options")
# ------------------------------------------------------------------------------------------------------------


def test_every_letor_option_in_the_table_matches_read_letors_signature():
    params = inspect.signature(read_letor).parameters
    for key, opt in READER_OPTIONS.items():
        if "letor" in opt.readers:
            assert opt.keyword in params, key
            assert params[opt.keyword].default == opt.default, key
        if opt.choices is not None:
            assert opt.default in opt.choices, key
    assert READER_OPTIONS["qrels_format"].choices == ("auto", *QRELS_FORMATS)
    assert inspect.signature(read_qrels).parameters["format"].default == READER_OPTIONS["qrels_format"].default


@pytest.mark.parametrize("content, options, python, cli", [
    (b"1 qid:1 1:2\n-1 qid:1 1:1\n", {}, "pass unjudged='drop' to drop such rows",
     "pass --unjudged drop to drop such rows"),
    (b"1 qid:2 1:1\n1 qid:1 1:1\n1 qid:2 1:1\n", {}, "pass sort=True", "pass --sort"),
    (b"1 qid:1 1:nan\n", {}, "pass nonfinite='allow' to keep it", "pass --nonfinite allow to keep it"),
    (b"1 qid:1 1:1.79769313486e+308\n", {}, "pass overflow='clip'", "pass --overflow clip"),  # Istella's values
    (b"1 1:1\n", {}, "pass query_file=<group sizes file>", "pass --query-file <group sizes file>"),
])
def test_each_reader_error_words_its_fix_for_python_and_for_the_command_line(tmp_path, content, options, python,
                                                                            cli):
    p = put(tmp_path, "d.txt", content)
    with pytest.raises(LetorFormatError) as e:
        read_letor(p, **options)
    assert python in str(e.value) and cli in e.value.cli_message()
    assert "--" not in str(e.value).split("; pass")[-1] and "=" not in e.value.cli_message().split("; pass")[-1]
    assert e.value.cli_message().split("; pass")[0] == str(e.value).split("; pass")[0]
    # and the fix works
    fixed = {k if k != "qrels_format" else "format": v for k, v in e.value.fix.items()}
    if "query_file" in fixed:
        fixed["query_file"] = put(tmp_path, "sizes", b"1\n")
    read_letor(p, **options, **fixed)


def test_fix_rendering_rules():
    e = FileFormatError("bad", "f", 1, "t", fix={"sort": True, "encoding_errors": "replace", "own_thing": 3})
    assert str(e).endswith("; pass sort=True, errors='replace', own_thing=3")
    assert e.cli_message().endswith("; pass --sort --encoding-errors replace --own-thing 3")
    assert READER_OPTIONS["query_file"].cli("my file.txt") == "--query-file 'my file.txt'"
    assert READER_OPTIONS["weight_file"].cli(None) == "--no-weight-file"
    r = e.recast(LetorFormatError)
    assert isinstance(r, LetorFormatError) and str(r) == str(e) and r.fix == e.fix


def test_bzip2_xz_and_utf16_files_are_recognised_by_their_first_bytes(tmp_path):
    """Python reads bzip2 and xz as well as gzip: every reader takes them, whatever the name; UTF-16 text (as
    Windows tools save it) is named instead of failing on its first byte as a label."""
    import bz2
    import lzma

    from ltr.io import read_qrels, read_run

    d = make_ranking(4, (3, 5), 3, random_state=0)
    plain = write_letor(tmp_path / "d.txt", d).read_bytes()
    for name, pack in (("d.bz2", bz2.compress), ("d.xz", lzma.compress), ("d_noext", bz2.compress)):
        (tmp_path / name).write_bytes(pack(plain))
        assert read_letor(tmp_path / name).equals(read_letor(tmp_path / "d.txt")), name
    (tmp_path / "r.run").write_bytes(lzma.compress(b"1 Q0 a 1 2 t\n"))
    (tmp_path / "q").write_bytes(bz2.compress(b"1 0 a 1\n"))
    assert read_run(tmp_path / "r.run").docno.tolist() == ["a"] and read_qrels(tmp_path / "q").rel.tolist() == [1]
    (tmp_path / "u16.txt").write_bytes(plain.decode().encode("utf-16"))
    with pytest.raises(LetorFormatError, match=r"u16.txt:1: UTF-16 text: convert it to UTF-8"):
        read_letor(tmp_path / "u16.txt")
    (tmp_path / "u16.run").write_bytes("1 Q0 a 1 2 t\n".encode("utf-16"))
    with pytest.raises(FileFormatError, match=r"u16.run:1: UTF-16 text"):
        read_run(tmp_path / "u16.run")
    (tmp_path / "bad.bz2").write_bytes(bz2.compress(plain)[:30])
    with pytest.raises(LetorFormatError, match="not a valid compressed stream"):
        read_letor(tmp_path / "bad.bz2")
    # zstd (frame magic 28 b5 2f fd) and zip are not read: named, with the way to text, not a garbled label
    (tmp_path / "d.zst").write_bytes(b"\x28\xb5\x2f\xfd\x24\x00" + plain[:20])
    with pytest.raises(LetorFormatError, match=r"d.zst:1: zstd-compressed: decompress it \(zstd -d FILE\)"):
        read_letor(tmp_path / "d.zst")
    import zipfile

    with zipfile.ZipFile(tmp_path / "q.zip", "w") as z:
        z.writestr("qrels", "1 0 a 1\n")
    with pytest.raises(FileFormatError, match=r"q.zip:1: a zip archive: unpack it"):
        read_qrels(tmp_path / "q.zip")


def test_sidecars_with_a_byte_order_mark_read_as_the_data_files_do(tmp_path):
    d = make_ranking(3, (2, 2), 2, random_state=0)
    text = write_letor(tmp_path / "x.txt", d).read_text()
    (tmp_path / "plain.txt").write_text("\n".join(" ".join(t for t in line.split() if not t.startswith("qid:"))
                                                   for line in text.splitlines() if not line.startswith("#")) + "\n")
    (tmp_path / "plain.txt.query").write_bytes(b"\xef\xbb\xbf2\n2\n2\n")
    (tmp_path / "plain.txt.weight").write_bytes(b"\xef\xbb\xbf" + b"1.5\n" * 6)
    got = read_letor(tmp_path / "plain.txt")
    assert got.group_ptr.tolist() == [0, 2, 4, 6] and got.weight.tolist() == [1.5] * 6


def test_a_long_offending_token_is_cut_in_the_message(tmp_path):
    """A model file passed as a run: its one line is the token; the message shows 80 characters of it."""
    from ltr.io import read_run

    (tmp_path / "model.json").write_text('{"learner": ' + '"x" ' * 100_000 + "}\n")
    with pytest.raises(FileFormatError) as e:
        read_run(tmp_path / "model.json")
    assert len(str(e.value)) < 300 and e.value.token.startswith('{"learner"') and "...')" in str(e.value)


def test_a_group_size_beyond_int64_is_refused_naming_the_line_not_a_traceback(tmp_path):
    q = put(tmp_path, "d.txt.query", b"2\n1180591620717411303424\n")
    with pytest.raises(LetorFormatError, match=r"d\.txt\.query:2: a group size beyond any data file's row count "
                                               r"\(token '1180591620717411303424'\)"):
        read_query_file(q)


def test_a_write_warns_of_sidecars_every_reader_would_take_as_its_own(tmp_path):
    """``read_letor(write_letor(p, d)).equals(d)`` held only on a fresh name: an earlier write's ``p.weight`` was
    read back as this dataset's weights, silently (trial t48/letorio). Removing it lost another file's weights
    (``X.weight`` is ``X.gz``'s too: the review of t48): said, never removed."""
    import dataclasses

    d = make_ranking(5, 8, 4, random_state=0)
    p = tmp_path / "train.txt"
    write_letor(p, dataclasses.replace(d, weight=np.linspace(0.1, 2.0, d.n_rows)))
    with pytest.warns(UserWarning, match=re.escape(f"{p}.weight is beside {p}, which every reader takes as its "
                                                   "weights (read_letor, LightGBM), and this dataset has none")):
        write_letor(p, d)
    assert (tmp_path / "train.txt.weight").exists()  # the user's to remove
    with pytest.warns(UserWarning, match=re.escape(f"{p}.weight is beside {p}.gz")):
        write_letor(tmp_path / "train.txt.gz", d)  # the name it was made from: read as its weights too
    (tmp_path / "train.txt.weight").unlink()
    write_letor(p, make_ranking(3, 4, 4, random_state=1), qid=False)
    with pytest.warns(UserWarning, match=re.escape(f"{p}.query is beside {p}, which every reader takes as its group "
                                                   "sizes (read_letor, LightGBM), and this dataset has its qid "
                                                   "tokens")):
        write_letor(p, d)


def test_sidecars_that_describe_the_dataset_are_not_warned_of(tmp_path):
    import dataclasses
    import warnings

    d = make_ranking(3, 4, 4, random_state=1)
    p = tmp_path / "train.txt"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_letor(p, dataclasses.replace(d, weight=np.ones(d.n_rows)))  # writes its own .weight
        write_letor(p, dataclasses.replace(d, weight=np.ones(d.n_rows)))  # again: its own
        (tmp_path / "train.txt.query").write_text("4\n4\n4\n")
        write_letor(p, d, qid=False, query_file=None, weight_file=None)  # sizes written apart, by the caller
    assert read_letor(p).weight is not None  # (weight_file=None: the .weight beside it is the caller's)


def test_float64_features_that_are_not_float32_are_named_with_the_fix(tmp_path):
    import dataclasses
    import warnings

    d = make_ranking(2, 3, 3, random_state=0)
    X = d.X.astype(np.float64)
    X[4, 2] = 1.79769313486e308  # Istella's value, clipped, read as float64
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warning ahead of the error
        with pytest.raises(ValueError, match=r"1\.79769313486e\+308 \(row 4, feature id 3\) is not a float32 value.*"
                                             r"dtype='float32'"):
            write_letor(tmp_path / "o.txt", dataclasses.replace(d, X=X))
    assert not (tmp_path / "o.txt").exists()


def test_xgboosts_data_uri_suffix_is_named_with_the_files_own_path(tmp_path, monkeypatch, capsys):
    """'file not found: train.txt?format=libsvm' alone, for users coming from XGBoost (trial t48/letorio)."""
    from ltr.cli import main

    monkeypatch.chdir(tmp_path)
    write_letor(tmp_path / "train.txt", make_ranking(2, 3, 2, random_state=0))
    for given in ("train.txt?format=libsvm", "train.txt?format=libsvm#dtrain.cache"):
        with pytest.raises(FileNotFoundError, match=re.escape(f"LETOR file not found: {given} (XGBoost's data URI "
                                                              "suffix: give the file's path alone, train.txt)")):
            read_letor(given)
        assert main(["info", given]) == 1
        assert "give the file's path alone, train.txt" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match=r"not found: other.txt\?format=libsvm$"):
        read_letor("other.txt?format=libsvm")
