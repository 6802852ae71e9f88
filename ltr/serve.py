"""``ltr.serve``: the in-process reranker under the name issue #11 gives it, ``ltr.serve.Reranker``.

The reranker computes features from text, so it lives in the feature layer (:mod:`features.serve`); this module is
a facade over it, like the command line the one other place in ``ltr`` that composes both layers. Nothing is
imported until a name is used, so ``import ltr`` never pulls the feature layer in::

    from ltr.serve import Reranker
    reranker = Reranker.load("model.txt", collection="../shared/data/cranfield")
    result = reranker.rerank("flutter of swept wings", ["184", "12", "51"], scores=[14.2, 11.0, 9.8])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and linters; at run time, on first use (below)
    from features.serve import (
        FeatureSetMismatchError,
        MissingFeatureSetError,
        Reranker,
        Reranking,
        RunReport,
        UnknownCandidatesError,
    )

__all__ = ["FeatureSetMismatchError", "MissingFeatureSetError", "Reranker", "Reranking", "RunReport",
           "UnknownCandidatesError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        import features.serve

        return getattr(features.serve, name)
    raise AttributeError(f"module 'ltr.serve' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
