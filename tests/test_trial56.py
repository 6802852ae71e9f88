"""Behaviours mended in stop 56."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ltr import Ranker
from ltr.datasets import make_ranking
from ltr.exceptions import ModelFormatError


@pytest.mark.parametrize("name, said", [("a\tb", " (it has '\\t')"), ("a\nb", " (it has '\\n')"),
                                        ("a\x00b", " (it has '\\x00')"), (".", ""), ("..", "")])
def test_an_export_name_with_whitespace_or_a_dot_path_is_refused(name, said):
    """A tab, a newline and '.'/'..' were taken as a model's or store's name (a space was refused): they break the
    plugin's URL path and Solr's {!ltr model=...} local parameters."""
    from ltr.export import ExportError
    from ltr.export.registry import _check_name

    for what in ("name", "store"):
        with pytest.raises(ExportError, match="must be a plain name") as e:
            _check_name(name, what)
        assert str(e.value).endswith(f"got {name!r}{said}")
    assert _check_name("v1.2", "name") == "v1.2" and _check_name("modèle", "name") == "modèle"


def _early_stopped_xgboost():
    import xgboost as xgb
    train, valid = make_ranking(40, 10, 5, random_state=0), make_ranking(20, 10, 5, random_state=1)
    model = xgb.XGBRanker(n_estimators=300, max_depth=3, learning_rate=0.3, early_stopping_rounds=3, n_jobs=1)
    model.fit(train.X, train.y, qid=train.qid, eval_set=[(valid.X, valid.y)], eval_qid=[valid.qid], verbose=False)
    assert model.best_iteration + 1 < model.get_booster().num_boosted_rounds()  # early-stopped short of the last
    return model, valid


def _best_iteration_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ensemble = fn()
    return ensemble, [str(w.message) for w in caught if "early" in str(w.message)]


def test_an_early_stopped_xgboost_model_is_warned_of_as_ubjson_and_as_a_booster(tmp_path):
    """The .json file warned that its best_iteration is not used; the same model as UBJSON (XGBoost's default
    format), and from_booster of the booster or the estimator, scored every round without a word (every MQ2008 row
    otherwise than XGBRanker.predict)."""
    import ltr.trees

    model, valid = _early_stopped_xgboost()
    best, rounds = model.best_iteration, model.get_booster().num_boosted_rounds()
    model.get_booster().save_model(tmp_path / "m.ubj")
    for fn in (lambda: ltr.trees.load(tmp_path / "m.ubj"), lambda: ltr.trees.from_booster(model.get_booster()),
               lambda: ltr.trees.from_booster(model)):
        ensemble, said = _best_iteration_warnings(fn)
        assert len(said) == 1 and f"n_iter={best + 1}" in said[0] and f"all {rounds} rounds" in said[0]
        np.testing.assert_array_equal(ensemble.predict(valid.X, n_iter=best + 1),
                                      model.predict(valid.X, output_margin=True).astype(np.float64))


def test_a_ranker_given_to_from_booster_warns_of_its_best_iteration_once():
    """(The booster's own warning and the Ranker's would both have said it.)"""
    import ltr.trees

    train, valid = make_ranking(40, 10, 5, random_state=0), make_ranking(20, 10, 5, random_state=1)
    ranker = Ranker(engine="xgboost", preset=None, n_estimators=300, learning_rate=0.3, max_depth=3,
                    early_stopping_rounds=3).fit(train, eval_set=valid)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ltr.trees.from_booster(ranker)
    said = [str(w.message) for w in caught if "best iteration" in str(w.message) or "early" in str(w.message)]
    assert len(said) == 1 and said[0].startswith("the Ranker applies its best iteration")


@pytest.mark.parametrize("sidecar", ["cut", "list", "folder"])
def test_the_trees_loader_refuses_a_sidecar_it_cannot_read(tmp_path, sidecar):
    """A sidecar cut short was read as no sidecar, so a leaf edited in the model text was scored without a word
    (ltr.load_model refuses both)."""
    import ltr.trees

    path = tmp_path / "m.txt"
    Ranker(preset=None, n_estimators=3).fit(make_ranking(10, 5, 4, random_state=0)).save(path)
    meta = tmp_path / "m.txt.meta.json"
    text = meta.read_text()
    if sidecar == "folder":
        meta.unlink()
        meta.mkdir()
    else:
        meta.write_text(text[: len(text) // 2] if sidecar == "cut" else "[1, 2]")
    with pytest.raises(ModelFormatError) as e:
        ltr.trees.load(path)
    assert str(e.value).startswith(f"{meta}: ")
    meta.rmdir() if sidecar == "folder" else meta.unlink()
    assert ltr.trees.load(path).n_trees == 3  # no sidecar: the trees alone
