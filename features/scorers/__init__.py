"""Feature scorers, one family per module, behind a registry (:func:`get_scorer`, :func:`available_scorers`).

Importing this package registers every built-in scorer.
"""

from features.scorers import bm25, bm25f, dfr, lm, neural, prf, proximity, sdm, stats, tfidf  # noqa: F401  (registration)
from features.scorers._registry import Scorer, available_scorers, get_scorer, register

__all__ = ["Scorer", "available_scorers", "get_scorer", "register"]
