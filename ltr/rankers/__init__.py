"""Scikit-learn-style rankers over LightGBM and XGBoost (the engines are imported only when a model trains).

- :class:`Ranker` (:mod:`.ranker`): the estimator;
- :func:`load_model` / :func:`save_model` (:mod:`.persist`): engine text plus a checksummed JSON sidecar;
- :mod:`.normalize`: per-query and global feature normalisation stored with a model;
- :mod:`.params`: hyper-parameter and engine-parameter checks.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what __getattr__ loads on first use, visible to type checkers and editors' completion
    from ltr.rankers._inputs import ReadOptionsWarning
    from ltr.rankers.persist import EngineWarning, PlainModelWarning, load_model, save_model
    from ltr.rankers.ranker import Ranker

__all__ = ["EngineWarning", "PlainModelWarning", "Ranker", "ReadOptionsWarning", "load_model", "save_model"]


def __getattr__(name: str):
    # The estimator pulls in scikit-learn: load it on first use, so that `ltr.rankers.normalize` stays light.
    if name == "Ranker":
        from ltr.rankers.ranker import Ranker

        return Ranker
    if name in ("EngineWarning", "PlainModelWarning", "load_model", "save_model"):
        from ltr.rankers import persist

        return getattr(persist, name)
    if name == "ReadOptionsWarning":
        from ltr.rankers._inputs import ReadOptionsWarning

        return ReadOptionsWarning
    if name in _SUBMODULES:  # `help(ltr.rankers.linear)` after `import ltr`, as the README says it (as ltr's own)
        import importlib

        return importlib.import_module(f"ltr.rankers.{name}")
    raise AttributeError(f"module 'ltr.rankers' has no attribute {name!r}")


#: The public submodules, each imported on first use as an attribute of ``ltr.rankers``.
_SUBMODULES = ("aliases", "linear", "normalize", "params", "persist", "presets", "ranker", "sidecar", "teacher")
