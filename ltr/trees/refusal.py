"""How a refusal names a split's feature, and :class:`SplitRefusal`, which a caller that knows the features' names
better words again.

A model trained on unnamed columns names them by placeholders (LightGBM's ``Column_5``, XGBoost's none): ``Column_5``
is column 5 counting from 0, where the user's own name for it is ``f6`` or ``clicks``, and a user who read
``Column_5`` as their ``f5`` looked at the wrong feature (trial t66). A refusal says which column a placeholder is;
``ltr export --feature-names`` gives the names, and the refusal is worded again with them.
"""

from __future__ import annotations

from collections.abc import Sequence

from ltr._dataset import placeholder_names
from ltr.exceptions import ModelFormatError

__all__ = ["SplitRefusal", "feature_label"]


def feature_label(names: Sequence[str] | None, column: int) -> str:
    """A feature as messages name it: its name (``'bm25_title'``), or ``column 5, 0-based`` where none is known.

    Examples
    --------
    >>> feature_label(["bm25_title", "pagerank"], 1), feature_label(None, 1)
    ("'pagerank'", 'column 1, 0-based')
    """
    if names is None or not 0 <= column < len(names):
        return f"column {column}, 0-based"
    return repr(str(names[column]))


class SplitRefusal(ModelFormatError):
    """A model refused for one of its split nodes (a categorical split), whose message names the node's feature:
    :meth:`named` gives the same refusal with the feature named by names the caller knows (the user's, where the model
    has only placeholders or no names).

    Examples
    --------
    >>> e = SplitRefusal.at("m.txt:14: tree 0: node 0", 1, " is a categorical split", ["Column_0", "Column_1"])
    >>> str(e)
    "m.txt:14: tree 0: node 0 (feature 'Column_1') is a categorical split; 'Column_1' is column 1, counting from 0"
    >>> str(e.named(["bm25", "clicks"]))
    "m.txt:14: tree 0: node 0 (feature 'clicks') is a categorical split"
    """

    def __init__(self, message: str, *, parts: tuple[str, int, str] | None = None, n_features: int | None = None,
                 unnamed: bool = False):
        super().__init__(message)
        #: ``(before, column, after)``: the message is ``before``, the feature's words, ``after``.
        self.parts = parts
        self.n_features = n_features
        #: The model names its columns by placeholders or not at all: names given elsewhere are the features' names.
        self.unnamed = unnamed

    @classmethod
    def at(cls, before: str, column: int, after: str, names: Sequence[str] | None,
           n_features: int | None = None) -> SplitRefusal:
        """The refusal ``before (feature NAME) after`` of a model of ``n_features`` columns (default: one per name);
        placeholder names (``Column_5``, ``f0..``, ``f1..``) and a bare column number are said to be the column they
        are, counting from 0."""
        if names is None:
            label, which = str(column), f"; the model names no features: {column} is the column, counting from 0"
        else:
            label = feature_label(names, column)
            which = f"; {label} is column {column}, counting from 0" if placeholder_names(names) else ""
        return cls(f"{before} (feature {label}){after}{which}", parts=(before, column, after),
                   n_features=len(names) if n_features is None and names is not None else n_features,
                   unnamed=names is None or placeholder_names(names))

    def named(self, names: Sequence[str] | None) -> SplitRefusal:
        """This refusal with its feature named by ``names`` (one per column of the model), where the model names its
        columns by placeholders or not at all; else (its own names, or ``names`` not one per column) itself."""
        if self.parts is None or not self.unnamed or names is None or len(names) != self.n_features:
            return self
        before, column, after = self.parts
        return SplitRefusal.at(before, column, after, [str(s) for s in names], self.n_features)
