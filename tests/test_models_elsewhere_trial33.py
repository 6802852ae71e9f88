"""Models trained outside ltrkit, from a user trial: LightGBM's float64 comparisons, its log lines, files older
LightGBM versions wrote, XGBoost's binary formats and LightGBM's JSON dump."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import warnings

import numpy as np
import pytest

from ltr import ModelFormatError
from ltr.cli import main
from ltr.io import read_letor
from ltr.rankers import EngineWarning, PlainModelWarning, load_model


def _unpacked(shared_file, tmp_path, split: str) -> str:
    with gzip.open(shared_file(f"lightgbm_lambdarank/rank.{split}.gz")) as src, \
            open(tmp_path / f"rank.{split}", "wb") as dst:
        shutil.copyfileobj(src, dst)
    shutil.copy(shared_file(f"lightgbm_lambdarank/rank.{split}.query"), tmp_path / f"rank.{split}.query")
    return str(tmp_path / f"rank.{split}")


@pytest.mark.shared
def test_ltr_predict_scores_a_plain_lightgbm_model_on_float64_values_as_lightgbm_reads_its_file(
        shared_file, tmp_path, capsys):
    """LightGBM trains and predicts on doubles: a threshold one double above a value (0.7300000000000001 over 0.73)
    sends that value left, and the value rounded to float32 (0.73000002) right. ltr predict read float32 values and
    scored a row otherwise than LightGBM's own predict on the file."""
    import lightgbm as lgb
    from sklearn.datasets import load_svmlight_file

    train, test = _unpacked(shared_file, tmp_path, "train"), _unpacked(shared_file, tmp_path, "test")
    booster = lgb.train({"objective": "lambdarank", "learning_rate": 0.1, "num_leaves": 31, "verbose": -1,
                         "num_threads": 1, "deterministic": True}, lgb.Dataset(train, params={"verbose": -1}), 30)
    model = tmp_path / "model.txt"
    booster.save_model(str(model))
    expected = booster.predict(test, raw_score=True)
    X, _ = load_svmlight_file(test, n_features=booster.num_feature(), zero_based=True)
    float32 = booster.predict(X.toarray().astype(np.float32), raw_score=True)
    assert (float32 != expected).sum() >= 1  # the case this test is about is in the data

    # (--zero-based: trained on LightGBM's own reading of the file, which its model does not record)
    assert main(["predict", str(model), test, "--zero-based", "--out", str(tmp_path / "s.txt")]) == 0
    err = capsys.readouterr().err
    assert "ltr predict reads DATA's values as float64, as LightGBM's own reader does" in err
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "s.txt"), expected)
    with pytest.warns(PlainModelWarning, match=re.escape("read_letor(dtype='float64')")):
        loaded = load_model(model)
    np.testing.assert_array_equal(loaded.predict(read_letor(test, zero_based=True, dtype="float64")), expected)


def test_read_letor_float64_keeps_each_values_double_as_scikit_learn_reads_it(tmp_path):
    from sklearn.datasets import load_svmlight_file

    lines = ["2 qid:1 1:0.73 2:1e-5 3:0.1000000000000000055511151231257827 # docid = a",
             "0 qid:1 1:123456789.123456789 3:-7.5E+3 # docid = b",
             "1 qid:2 2:3.4028235677973366e+38 3:1e39 # docid = c",  # past float32's range: no overflow in float64
             "0 qid:2 1:.5 2:2.2250738585072014e-308 3:12345678901234567890123"]
    path = tmp_path / "f.txt"
    path.write_text("\n".join(lines) + "\n")
    expected = load_svmlight_file(str(path), n_features=3, zero_based=False)[0].toarray()
    for sparse in (False, True):
        d = read_letor(path, dtype="float64", sparse=sparse)
        X = d.X.toarray() if sparse else d.X
        assert X.dtype == np.float64
        np.testing.assert_array_equal(X, expected)
        assert list(d.doc_ids) == ["a", "b", "c", ""]
    gz = tmp_path / "f.txt.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    np.testing.assert_array_equal(read_letor(gz, dtype=np.float64).X, expected)
    with pytest.raises(ValueError, match="beyond|range|overflow"):  # float32: the same file overflows
        read_letor(path)


def test_read_letor_float64_refuses_a_value_past_the_double_range_unless_clipped(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("1 qid:1 1:1e400 2:1\n0 qid:1 1:-2e400 2:0\n")
    with pytest.raises(ValueError, match=r"big.txt:1: feature value beyond the float64 range \(token '1:1e400'\); "
                                         r"pass overflow='clip' to clip it to \+-1.7976931348623157e\+308"):
        read_letor(path, dtype="float64")
    X = read_letor(path, dtype="float64", overflow="clip").X
    assert X[0, 0] == np.finfo(np.float64).max and X[1, 0] == -np.finfo(np.float64).max


@pytest.mark.parametrize("bad", ["float16", "int32", "x", None, True, 3])
def test_read_letor_refuses_a_dtype_other_than_float32_or_float64(tmp_path, bad):
    path = tmp_path / "f.txt"
    path.write_text("1 qid:1 1:1\n")
    with pytest.raises(ValueError, match=r"dtype must be 'float32' or 'float64', got "):
        read_letor(path, dtype=bad)


def _older_lightgbms_text(booster, extra: str) -> str:
    """The model text with parameters of an older LightGBM."""
    return booster.model_to_string().replace("end of parameters", extra + "end of parameters")


def _lightgbm_model(tmp_path, **params):
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    X = rng.random((300, 4))
    y = X[:, 0] + 0.1 * rng.standard_normal(300)
    # verbosity 0 (LightGBM's default, warnings shown): LightGBM keeps the last level it was given for the whole
    # process, and -1 would silence what it says loading a model afterwards
    booster = lgb.train({"objective": "regression", "verbosity": 0, "num_threads": 1, **params}, lgb.Dataset(X, y), 5)
    return booster, X


def test_what_lightgbm_says_loading_a_model_is_a_warning_never_a_line_on_standard_output(tmp_path, capfd):
    """An older LightGBM's parameters (max_conflict_rate, ...) made LightGBM print '[LightGBM] [Warning] Ignoring
    unrecognized parameter' on standard output: into ltr predict --out -'s scores, ltr info --format json's JSON."""
    booster, X = _lightgbm_model(tmp_path)
    text = _older_lightgbms_text(booster, "[max_conflict_rate: 0]\n[max_position: 20]\n")
    model = tmp_path / "old.txt"
    model.write_text(text)
    data = tmp_path / "d.txt"
    data.write_text("".join(f"0 qid:1 {' '.join(f'{j + 1}:{float(v)!r}' for j, v in enumerate(row))}\n"
                            for row in X[:7]))
    capfd.readouterr()
    assert main(["predict", str(model), str(data), "--out", "-"]) == 0
    out, err = capfd.readouterr()
    np.testing.assert_array_equal(np.array(out.split(), dtype=float), booster.predict(X[:7], raw_score=True))
    assert "[LightGBM]" not in out and len(out.splitlines()) == 7
    assert "the model names parameters LightGBM" in err and "(max_conflict_rate, max_position: another" in err
    assert main(["info", str(model), "--format", "json"]) == 0
    out, err = capfd.readouterr()
    summary = json.loads(out)  # the notes are the JSON's
    assert summary["engine"] == "lightgbm" and "max_conflict_rate" in summary["notes"][0]
    # Python: a warning at the caller's line, nothing printed
    with pytest.warns(EngineWarning, match="max_conflict_rate, max_position") as caught, \
            pytest.warns(PlainModelWarning):
        load_model(model)
    assert any(w.filename == __file__ for w in caught if issubclass(w.category, EngineWarning))
    assert capfd.readouterr().out == ""


def test_a_logger_the_program_registered_with_lightgbm_keeps_its_lines(tmp_path):
    import lightgbm as lgb

    booster, _ = _lightgbm_model(tmp_path)
    model = tmp_path / "old.txt"
    model.write_text(_older_lightgbms_text(booster, "[max_conflict_rate: 0]\n"))

    class Keep:
        def __init__(self):
            self.lines = []

        def info(self, msg):
            self.lines.append(msg)

        warning = info

    keep = Keep()
    lgb.register_logger(keep)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", EngineWarning)  # none: the program's logger has them
            warnings.simplefilter("ignore", PlainModelWarning)
            load_model(model)
    finally:
        lgb.basic._LOGGER = lgb.basic._DummyLogger()
    assert any("max_conflict_rate" in line for line in keep.lines)


def test_a_one_leaf_tree_that_lightgbm_3_wrote_without_leaf_counts_loads_and_scores_as_lightgbm(tmp_path):
    """LightGBM 2 and 3 write 'leaf_count=' empty for a tree of one leaf (LightGBM 4 writes the count); LightGBM 4
    loads such a file, ltrkit refused it as malformed ('leaf_count has 0 entries, expected 1')."""
    import lightgbm as lgb

    from ltr import trees

    booster, X = _lightgbm_model(tmp_path, min_data_in_leaf=100000)
    # without tree_sizes (the trees' byte lengths, which the edit changes), as LightGBM 2 wrote some files
    text, n = re.subn(r"^leaf_count=\d+$", "leaf_count=", booster.model_to_string(), flags=re.M)
    text = re.sub(r"^tree_sizes=.*\n", "", text, flags=re.M)
    assert n >= 1 and "num_leaves=1\n" in text
    model = tmp_path / "one_leaf.txt"
    model.write_text(text)
    expected = lgb.Booster(model_file=str(model)).predict(X, raw_score=True)
    np.testing.assert_array_equal(trees.load(model).predict(X), expected)
    with pytest.warns(PlainModelWarning):
        np.testing.assert_array_equal(load_model(model).predict(X), expected)
    # a tree of more leaves keeps its check
    bad = tmp_path / "bad.txt"
    booster, _ = _lightgbm_model(tmp_path)
    bad.write_text(re.sub(r"^tree_sizes=.*\n", "", re.sub(r"^leaf_count=[\d ]+$", "leaf_count=",
                                                         booster.model_to_string(), count=1, flags=re.M), flags=re.M))
    with pytest.raises(ModelFormatError, match=r"leaf_count has 0 entries, expected \d+"):
        trees.load(bad)


def _xgboost_ubj(tmp_path) -> tuple[bytes, np.ndarray, object]:
    import xgboost as xgb

    rng = np.random.default_rng(1)
    X = rng.random((200, 5))
    X[::7, 2] = np.nan
    booster = xgb.train({"objective": "rank:ndcg", "max_depth": 4, "nthread": 1},
                        xgb.DMatrix(X, label=rng.integers(0, 3, 200), group=[20] * 10), 8)
    path = tmp_path / "m.ubj"
    booster.save_model(str(path))
    return path.read_bytes(), X, booster


def test_an_xgboost_ubjson_model_is_read_by_ltrkit_as_xgboost_reads_it(tmp_path):
    import xgboost as xgb

    from ltr.trees import ubjson

    raw, X, booster = _xgboost_ubj(tmp_path)
    ours = ubjson.loads(raw)
    theirs = json.loads(bytes(booster.save_raw("json")))

    def same(a, b):  # float32 values exactly; XGBoost's JSON writes them shortest
        if isinstance(a, dict):
            assert a.keys() == b.keys()
            for k in a:
                same(a[k], b[k])
        elif isinstance(a, list):
            assert len(a) == len(b)
            for x, y in zip(a, b):
                same(x, y)
        elif isinstance(a, float):
            assert np.float32(a) == np.float32(b)
        else:
            assert a == b

    same(ours, theirs)
    with pytest.warns(PlainModelWarning):
        model = load_model(tmp_path / "m.ubj")
    np.testing.assert_array_equal(model.predict(X.astype(np.float32)),
                                  booster.predict(xgb.DMatrix(X.astype(np.float32)), output_margin=True))


def test_an_xgboost_ubjson_model_cut_short_anywhere_is_an_error_naming_the_byte_not_a_crash(tmp_path):
    """XGBoost's own reader ended the process (SIGSEGV, exit 139) on the model cut at half its length."""
    from ltr import trees

    raw, _, _ = _xgboost_ubj(tmp_path)
    cut = tmp_path / "cut.ubj"
    for n in sorted({2, 9, 17, len(raw) // 3, len(raw) // 2, len(raw) - 3, len(raw) - 1}):
        cut.write_bytes(raw[:n])
        with pytest.raises(ModelFormatError, match=r"cut.ubj: an XGBoost UBJSON model \(binary JSON\) that is cut "
                                                   r"short or damaged: .* at byte \d+"):
            load_model(cut)
        with pytest.raises(ModelFormatError, match="cut short or damaged"):
            trees.load(cut)
    cut.write_bytes(raw + b"}")
    with pytest.raises(ModelFormatError, match="bytes after the end of the value"):
        load_model(cut)


def test_an_ltr_command_given_a_cut_ubjson_model_exits_1_with_one_line(tmp_path, capsys):
    raw, X, _ = _xgboost_ubj(tmp_path)
    cut = tmp_path / "cut.ubj"
    cut.write_bytes(raw[:len(raw) // 2])
    data = tmp_path / "d.txt"
    data.write_text("".join(f"0 qid:1 {' '.join(f'{j + 1}:{v}' for j, v in enumerate(row) if v == v)}\n"
                            for row in X[:5]))
    for argv in (["predict", str(cut), str(data), "--out", str(tmp_path / "s.txt")], ["info", str(cut)],
                 ["export", str(cut), "--to", "es-xgboost", "--out", str(tmp_path / "e.json")]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "cut short or damaged" in err, argv


def test_xgboosts_old_binary_format_is_named_with_the_way_to_convert_it(tmp_path, capsys):
    """XGBoost before 2.1 wrote 'binf...' for a name other than .json (and save_raw()); XGBoost 3.1 and later no
    longer read it: the messages named neither ('not a text model file (byte 479 is not UTF-8)'), and ltr info printed
    its bytes as a LETOR label."""
    old = tmp_path / "old.model"
    old.write_bytes(b"binf\x00\x00\x00?" + bytes(range(256)) * 4)
    with pytest.raises(ModelFormatError, match=r"old binary format \('binf'.*save_model\('model.json'\)"):
        load_model(old)
    assert main(["info", str(old)]) == 1
    err = capsys.readouterr().err
    assert "old binary format" in err and "label" not in err


def test_a_lightgbm_json_dump_is_named_with_the_way_to_save_a_model(tmp_path, capsys):
    from ltr import trees

    booster, _ = _lightgbm_model(tmp_path)
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps(booster.dump_model()))
    for load in (load_model, trees.load):
        with pytest.raises(ModelFormatError, match=re.escape("dump.json: a LightGBM model dumped as JSON "
                                                             "(Booster.dump_model())")):
            load(dump)
    assert main(["info", str(dump)]) == 1
    assert "Booster.save_model('model.txt')" in capsys.readouterr().err


def test_ltr_info_on_a_missing_path_does_not_call_it_a_letor_file(tmp_path, capsys):
    assert main(["info", str(tmp_path / "nothing.txt")]) == 1
    assert capsys.readouterr().err.strip() == f"ltr info: error: file not found: {tmp_path / 'nothing.txt'}"


def test_a_plain_lightgbm_teacher_is_noted_in_the_command_lines_words(tmp_path, capsys):
    booster, X = _lightgbm_model(tmp_path)
    teacher = tmp_path / "teacher.txt"
    booster.save_model(str(teacher))
    data = tmp_path / "d.txt"
    values = [" ".join(f"{j + 1}:{float(v)!r}" for j, v in enumerate(row)) for row in X[:60]]
    data.write_text("".join(f"{i % 3} qid:{1 + i // 10} {v}\n" for i, v in enumerate(values)))
    assert main(["train", str(data), "--objective", "distill", "--kernel", "numba", "--teacher-model", str(teacher),
                 "--rounds", "3", "--out", str(tmp_path / "student.txt"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "a plain lightgbm model without an ltrkit sidecar" in err and "ltr predict reads DATA's values" in err
    assert "read_letor(" not in err  # the Python call was named on the command line
