"""Defects found by the user trials of stop 66 (pyapi, training), each with the behaviour the toolkit promises
elsewhere: the toolkit's own one-line refusal, naming the argument, the option or the file."""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import ltr
from ltr.cli import main
from ltr.datasets import make_ranking
from ltr.io import read_letor, read_qrels, write_letor, write_scores


@pytest.fixture(scope="module")
def data():
    return make_ranking(20, 10, 5, random_state=0)


@pytest.fixture(scope="module")
def letor_file(tmp_path_factory, data):
    return write_letor(tmp_path_factory.mktemp("fix66") / "train.txt", data)


# ------------------------------------------------------------------------------------------------------------------
# pyapi #1: XGBoost's predict on scipy's other sparse formats
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", [sp.dok_matrix, sp.lil_matrix, sp.dok_array])
def test_xgboost_predicts_every_sparse_format_fit_takes_and_names_an_infinite_cell_in_each(data, form):
    """predict on a DOK matrix failed in AttributeError ('dok_matrix' object has no attribute 'data'); a LIL matrix's
    inf reached XGBoost, whose C++ error named no cell; fit converted both to CSR first."""
    X = np.asarray(data.X)
    model = ltr.Ranker(engine="xgboost", n_jobs=1, n_estimators=3, preset=None).fit(form(X), data.y, qid=data.qid)
    np.testing.assert_array_equal(model.predict(form(X)), model.predict(X))
    bad = X.copy()
    bad[5, 3] = np.inf
    with pytest.raises(ValueError, match=re.escape("X[5, 3] (row 5, column 3, both counted from 0) is inf: XGBoost "
                                                   "refuses infinite values")):
        model.predict(form(bad))


# ------------------------------------------------------------------------------------------------------------------
# pyapi #2: read_letor's and write_scores' argument types
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("option, value, said", [
    ("sparse", "no", "sparse must be True or False, got 'no'"),
    ("sort", 1, "sort must be True or False, got 1"),
    ("missing", "abc", "missing must be a number (e.g. 0.0 or float('nan')), got 'abc'"),
    ("missing", None, "missing must be a number (e.g. 0.0 or float('nan')), got None"),
    ("n_jobs", "x", "n_jobs must be an integer (-1 for every core) or None, got 'x'"),
])
def test_read_letor_refuses_an_option_of_the_wrong_type_naming_it(letor_file, option, value, said):
    """sparse='no' read the file sparse (XGBoost then trains another model); missing='abc' and n_jobs='x' failed in
    float()'s and int()'s words, naming no option."""
    with pytest.raises((TypeError, ValueError), match=f"^{re.escape(said)}$"):
        read_letor(letor_file, **{option: value})


def test_read_letor_still_takes_a_missing_value_written_as_text(letor_file):
    assert read_letor(letor_file, missing="nan").equals(read_letor(letor_file, missing=float("nan")))


def test_write_scores_refuses_scores_that_are_no_numbers_naming_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"^scores must be numbers, one per row, got \['1', 'x'\]$"):
        write_scores(tmp_path / "s.txt", ["1", "x"])
    assert not (tmp_path / "s.txt").exists()


# ------------------------------------------------------------------------------------------------------------------
# pyapi #3: read_qrels(gains=) is a mapping
# ------------------------------------------------------------------------------------------------------------------
@pytest.fixture
def qrels_file(tmp_path):
    path = tmp_path / "q.qrels"
    path.write_text("1 0 a -1\n1 0 b 0\n1 0 c 2\n1 0 d 1\n")
    return path


def test_read_qrels_refuses_gains_given_as_a_list(qrels_file):
    """A list was read by position (grade 1 as gains[1], grade -1 as the last item), and a grade beyond it failed in
    dict()'s words while its error was being written."""
    for gains in ([0, 1], [0, 1, 5, 9]):
        with pytest.raises(TypeError, match=r"^gains must be a mapping \{grade: gain\} \(e\.g\. \{0: 0, 1: 1, "
                                            r"2: 3\}\), got list \[0, 1"):
            read_qrels(qrels_file, format="trec", gains=gains)


def test_read_qrels_refuses_a_gain_that_is_not_a_whole_number(qrels_file):
    with pytest.raises(ValueError, match=r"^gains must map each grade to an integer gain .*got gains\[2\] = 2\.5$"):
        read_qrels(qrels_file, format="trec", gains={-1: 0, 0: 0, 1: 1, 2: 2.5})


def test_read_qrels_maps_grades_through_a_mapping_and_names_an_unmapped_one_as_a_number(qrels_file):
    assert read_qrels(qrels_file, format="trec", gains={-1: 0, 0: 0, 1: 1, 2: 3}).rel.tolist() == [0, 0, 3, 1]
    with pytest.raises(ltr.exceptions.TrecFormatError, match=r"relevance value\(s\) \[-1\] have no entry in gains="):
        read_qrels(qrels_file, format="trec", gains={0: 0, 1: 1, 2: 3})


# ------------------------------------------------------------------------------------------------------------------
# pyapi #4 and the docs nits
# ------------------------------------------------------------------------------------------------------------------
def test_the_docstrings_say_what_a_loaded_model_keeps_and_what_score_measures():
    assert "a loaded model's is ``{}``" in ltr.Ranker.__doc__
    assert "no ``n_rounds_`` or ``n_threads_``" in " ".join(ltr.Ranker.save.__doc__.split())
    score = " ".join(ltr.Ranker.score.__doc__.split())
    assert "Always NDCG@10: not ``eval_at[0]``, nor ``early_stopping_metric``" in score
    assert "trial" not in score


# ------------------------------------------------------------------------------------------------------------------
# training #1 and #2: non-finite engine parameters, and a model that cannot be recorded
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine, key, value", [
    ("lightgbm", "max_delta_step", float("nan")),
    ("lightgbm", "min_gain_to_split", float("inf")),
    ("lightgbm", "eta", float("inf")),
    ("xgboost", "gamma", float("nan")),
    ("xgboost", "max_delta_step", "inf"),
])
def test_a_non_finite_engine_parameter_is_refused_before_training(data, engine, key, value):
    """They trained, then failed at save in json's words ('Out of range float values are not JSON compliant'),
    naming nothing; LightGBM's eta=inf ended in 'y_score contains NaN at row 94'."""
    with pytest.raises(ltr.exceptions.ParameterValueError,
                       match=rf"^engine_params: {key}={re.escape(repr(value))}: must be a finite number: "):
        ltr.Ranker(engine=engine, n_estimators=2, preset=None, n_jobs=1, engine_params={key: value}).fit(data)


def test_the_command_line_refuses_a_non_finite_param_naming_it_with_exit_2(letor_file, tmp_path, capsys):
    out = tmp_path / "m.txt"
    assert main(["train", str(letor_file), "--preset", "none", "--rounds", "2", "--param", "max_delta_step=nan",
                 "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ltr train: error: --param max_delta_step=nan: must be a finite number: ")
    assert err.rstrip().endswith("0 sets no limit") and err.count("\n") == 1
    assert not out.exists()


def test_a_lightgbm_boosting_that_diverges_is_said_to_have_diverged(data, monkeypatch):
    """LightGBM stopped short of its NaN scores, blaming the leaf settings, and the metrics then refused them as a row
    of the data ('y_score contains NaN at row 94'); XGBoost's path said the boosting diverged. (The non-finite rate
    that made it is refused now: let it through, as another cause of NaN scores would be.)"""
    import ltr.rankers.params as params

    monkeypatch.setattr(params, "_refuse_nonfinite", lambda *args: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ltr.exceptions.TrainingDataError, match="^the model's scores on the training data became "
                                                                   "NaN or infinite while it trained: the boosting "
                                                                   "diverged; lower learning_rate"):
            ltr.Ranker(n_estimators=5, preset=None, n_jobs=1, engine_params={"eta": float("inf")}).fit(data)


def test_saving_a_value_json_cannot_hold_names_it_and_the_file(tmp_path):
    from ltr.rankers.sidecar import write_model

    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / 'm.txt'}: a model file records its parameters as "
                                                   "JSON, which has no NaN or infinity: cannot record "
                                                   "params.engine_params.label_gain[2]=inf")):
        write_model(tmp_path / "m.txt", "text", {"params": {"engine_params": {"label_gain": [0, 1, math.inf]}}})
    assert not list(tmp_path.iterdir())


def test_a_model_loaded_without_its_sidecar_saves_again(data, tmp_path):
    """Its fit_seconds_ is NaN, which failed the save in json's words."""
    model = ltr.Ranker(n_estimators=3, preset=None, n_jobs=1).fit(data)
    model.booster_.save_model(str(tmp_path / "plain.txt"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = ltr.load_model(tmp_path / "plain.txt")
    plain.save(tmp_path / "again.txt")
    assert json.loads((tmp_path / "again.txt.meta.json").read_text())["fit_seconds"] is None
    np.testing.assert_array_equal(ltr.load_model(tmp_path / "again.txt").predict(data.X), model.predict(data.X))


# ------------------------------------------------------------------------------------------------------------------
# training #3: dataset cache entries checked by content
# ------------------------------------------------------------------------------------------------------------------
def test_a_dataset_cache_entry_changed_in_place_is_binned_again_with_a_warning(tmp_path):
    """400 bytes flipped at an unchanged length trained another model without a word (only the rows, the width and
    the labels were compared)."""
    d = make_ranking(40, 10, 5, random_state=1)
    cache = tmp_path / "cache"
    first = ltr.Ranker(n_estimators=5, n_jobs=1, preset=None, dataset_cache=str(cache)).fit(d)
    (entry,) = cache.glob("lightgbm-*.bin")
    good = entry.read_bytes()
    assert (cache / (entry.name + ".sha256")).read_text().strip() == hashlib.sha256(good).hexdigest()
    bad = bytearray(good)
    for i in range(len(bad) - 600, len(bad) - 200):
        bad[i] ^= 0x5A
    entry.write_bytes(bytes(bad))
    with pytest.warns(UserWarning, match=rf"^the LightGBM Dataset cache entry {re.escape(str(entry))} is damaged "
                                         r"\(its bytes differ from the SHA-256 recorded when it was written\): binned "
                                         r"again and replaced$"):
        again = ltr.Ranker(n_estimators=5, n_jobs=1, preset=None, dataset_cache=str(cache)).fit(d)
    assert entry.read_bytes() == good
    np.testing.assert_array_equal(again.predict(d.X), first.predict(d.X))


def test_a_dataset_cache_entry_without_a_checksum_is_binned_again_quietly(tmp_path):
    """An entry of an earlier ltrkit has no digest: stale, not damaged."""
    d = make_ranking(40, 10, 5, random_state=1)
    cache = tmp_path / "cache"
    first = ltr.Ranker(n_estimators=5, n_jobs=1, preset=None, dataset_cache=str(cache)).fit(d)
    (entry,) = cache.glob("lightgbm-*.bin")
    digest = cache / (entry.name + ".sha256")
    recorded = digest.read_text()
    digest.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = ltr.Ranker(n_estimators=5, n_jobs=1, preset=None, dataset_cache=str(cache)).fit(d)
    assert digest.read_text() == recorded
    np.testing.assert_array_equal(again.predict(d.X), first.predict(d.X))


# ------------------------------------------------------------------------------------------------------------------
# training #4: the engines' continued-training arguments among the parameters
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine, key, said", [
    ("lightgbm", "init_model", "lightgbm.train and LGBMRanker.fit, not a lightgbm parameter"),
    ("xgboost", "xgb_model", "xgboost.train and XGBRanker.fit, not an xgboost parameter"),
])
def test_continued_training_asked_by_the_engines_own_name_is_refused_with_the_reason(engine, key, said, letor_file,
                                                                                   capsys):
    """--param init_model=M was answered "did you mean 'input_model'?", which was then refused as not offered."""
    assert main(["train", str(letor_file), "--engine", engine, "--preset", "none", "--rounds", "2", "--param",
                 f"{key}=m.txt"]) == 2
    err = capsys.readouterr().err
    assert err == (f"ltr train: error: --param: {key!r} is an argument of {said}: continued training from a saved "
                   "model is not offered; train afresh\n")
    assert "did you mean" not in err
