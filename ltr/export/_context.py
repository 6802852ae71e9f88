"""What every format writer is given besides the model: names, the engine's feature set, the options, and a place
for the notes it returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Context"]


@dataclass
class Context:
    """``names``: the model's feature names (column order); ``target``: the engine's feature set, in its order;
    ``missing``: "nan" (a missing value goes where the model sends NaN) or "zero" (where it sends 0);
    ``inexact``: "refuse" or "nearest" (Solr thresholds its slack cannot hold); ``name`` / ``store``: the model's
    and the feature set's names in the engine; ``targeted``: the engine's own feature set was given
    (``target_features``), whose default values the export does not know."""

    fmt: str
    names: tuple[str, ...]
    target: tuple[str, ...]
    missing: str = "nan"
    inexact: str = "refuse"
    name: str = "ltrkit"
    store: str = "ltrkit"
    notes: list[str] = field(default_factory=list)
    targeted: bool = False

    def __post_init__(self):
        self._position = {n: i for i, n in enumerate(self.target)}

    def position(self, column: int) -> int:
        """0-based position of model column ``column``'s feature in the engine's feature set."""
        return self._position[self.names[column]]

    def missing_left(self, plan) -> np.ndarray:
        """Per split node: does a missing value go left (by the ``missing`` option)?"""
        return plan.nan_left if self.missing == "nan" else plan.zero_left
