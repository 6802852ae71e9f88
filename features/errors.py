"""Errors raised by the feature-extraction layer.

Both are :class:`ValueError` subclasses (as every user-caused error in ltrkit), and their messages name the file,
the place in it and what was found, so that a bad collection or a damaged index can be fixed without a debugger.
"""

from __future__ import annotations

from ltr.exceptions import FileFormatError

__all__ = ["CollectionFormatError", "IndexFormatError", "ModelOutputError", "SplitNotApplicableError",
           "UnknownLayoutError"]


class CollectionFormatError(FileFormatError):
    """A collection, query, relevance or run file could not be read.

    Fields as :class:`ltr.exceptions.FileFormatError`: ``path``, ``line``, ``token``, ``offset``, ``hint``.
    """


class SplitNotApplicableError(CollectionFormatError):
    """A split was asked of a collection folder whose layout has none (only NFCorpus and BEIR folders have splits)."""


class UnknownLayoutError(CollectionFormatError):
    """A folder laid out as none of the known collections (its documents may still be read as a folder of document
    files: :func:`features.collections.read_document_folder`)."""


class IndexFormatError(ValueError):
    """A saved index is missing, truncated, edited, or of an unknown version."""


class ModelOutputError(ValueError):
    """A neural model gave a value that is not finite (NaN, an infinity) for a query, a document or a pair: damaged
    or badly trained weights, or arithmetic that overflows (half precision on a GPU). The message names the model's
    folder and the first query or document (by id, with its text) whose value is not finite; the feature set adds
    the feature's column (:meth:`features.featureset.FeatureSet.compute`)."""
