"""Errors raised by the feature-extraction layer.

Both are :class:`ValueError` subclasses (as every user-caused error in ltrkit), and their messages name the file,
the place in it and what was found, so that a bad collection or a damaged index can be fixed without a debugger.
"""

from __future__ import annotations

__all__ = ["CollectionFormatError", "IndexFormatError"]


class CollectionFormatError(ValueError):
    """A collection, query, relevance or run file could not be read.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str, optional
        The file.
    line : int, optional
        1-based line number.
    offset : int, optional
        0-based byte offset (for decoding errors).
    token : str, optional
        The offending token, as it appears in the file.
    hint : str, optional
        How to get past the error, appended after a semicolon.
    """

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        *,
        offset: int | None = None,
        token: str | None = None,
        hint: str | None = None,
    ):
        self.path = path
        self.line = line
        self.offset = offset
        self.token = token
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        elif line is not None:
            where = f"line {line}: "
        at = f" at byte offset {offset}" if offset is not None else ""
        tok = f" (token {token!r})" if token is not None else ""
        tail = f"; {hint}" if hint else ""
        super().__init__(f"{where}{message}{at}{tok}{tail}")


class IndexFormatError(ValueError):
    """A saved index is missing, truncated, edited, or of an unknown version."""
