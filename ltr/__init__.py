"""ltrkit: learning to rank with gradient-boosted trees.

The learning layer: LETOR and TREC I/O (:mod:`ltr.io`), IR metrics (:mod:`ltr.metrics`), Numba ranking losses
(:mod:`ltr.kernels`) and rankers over LightGBM and XGBoost. Importing ``ltr`` imports nothing heavy.
"""

from typing import TYPE_CHECKING

from ltr._numba_home import cache_home
from ltr.exceptions import GroupError, LetorFormatError, LetorGroupError, ModelFormatError, TrecFormatError

cache_home()  # where Numba's own cache places cannot be written (a read-only install and home)

if TYPE_CHECKING:  # what __getattr__ loads on first use, visible to type checkers and editors' completion
    from ltr.datasets import RankingDataset, make_ranking
    from ltr.rankers import Ranker, load_model

__version__ = "0.1.0"

__all__ = [
    "GroupError",
    "LetorFormatError",
    "LetorGroupError",
    "ModelFormatError",
    "Ranker",
    "RankingDataset",
    "TrecFormatError",
    "__version__",
    "load_model",
    "make_ranking",
]


def __getattr__(name: str):
    # Loaded on first use, so that `import ltr` (and the `ltr` command's start, whose Ctrl-C must be caught) stays
    # light: the dataset record pulls in NumPy and SciPy, the estimator scikit-learn.
    if name in ("Ranker", "load_model"):
        from ltr import rankers

        return getattr(rankers, name)
    if name in ("RankingDataset", "make_ranking"):
        from ltr import datasets

        return getattr(datasets, name)
    if name in _SUBMODULES:  # `import ltr; ltr.fusion.fuse(...)` without importing ltr.fusion first (as SciPy)
        import importlib

        return importlib.import_module(f"ltr.{name}")
    raise AttributeError(f"module 'ltr' has no attribute {name!r}")


#: The public submodules, each imported on first use as an attribute of ``ltr``.
_SUBMODULES = frozenset({"dask", "datasets", "evaluation", "exceptions", "export", "frames", "fusion", "gpu", "groups",
                         "io", "kernels", "metrics", "objectives", "rankers", "reader_options", "registry", "serve",
                         "threads", "trees", "tuning"})


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})
