"""Behaviours mended in stop 55."""

from __future__ import annotations

import pytest

from ltr import Ranker
from ltr.datasets import make_ranking
from ltr.exceptions import ModelFormatError


def test_the_trees_loader_names_a_linear_model_as_one(tmp_path):
    """``ltr.trees.load`` of an ltrkit linear model said ``$.learner: is missing`` (t52 left alone): it says what the
    file is, and what reads it."""
    import ltr.trees

    path = tmp_path / "lin.json"
    Ranker(engine="linear", engine_params={"n_restarts": 1}).fit(make_ranking(10, 5, 4, random_state=0)).save(path)
    with pytest.raises(ModelFormatError) as e:
        ltr.trees.load(path)
    assert str(e.value) == (f"{path}: an ltrkit linear model (ltrkit-linear/1), not a tree ensemble: "
                            f"ltr.load_model({str(path)!r}) reads and scores it")


@pytest.mark.parametrize("name, said", [("my model", " (it has a space)"), ("a,b", " (it has ',')"),
                                        ("x#1", " (it has '#')"), ("_x", "")])
def test_a_name_export_refuses_says_the_rule_as_applied_and_the_character(name, said, capsys):
    """The rule read 'letters, digits, '.', ':'' where '!', '+' or '(' pass, and did not name the character found."""
    from ltr.export import ExportError
    from ltr.export.registry import _check_name

    assert _check_name("model-v2!(b)+", "name") == "model-v2!(b)+"
    with pytest.raises(ExportError) as e:
        _check_name(name, "name")
    assert str(e.value) == ("name must be a plain name (no space or any of , \" / \\ * ? < > | #, no leading '_' or "
                            f"'-'), got {name!r}{said}")
