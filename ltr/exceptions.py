"""Errors raised by ltrkit.

Every error a user can cause is a subclass of :class:`ValueError` (or :class:`TypeError`), so code that already
catches those keeps working, and the message names what was expected and what was received.
"""

from __future__ import annotations

__all__ = [
    "FileFormatError",
    "GroupError",
    "LetorFormatError",
    "LetorGroupError",
    "ModelFormatError",
    "TrecFormatError",
]


class FileFormatError(ValueError):
    """A file could not be parsed; the message starts with ``path:line:`` and names the offending token.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str, optional
        The file.
    line : int, optional
        1-based line number.
    token : str, optional
        The offending token, as it appears in the file.
    offset : int, optional
        0-based byte offset (for decoding errors).
    hint : str, optional
        How to get past the error, appended after a semicolon.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None, token: str | None = None,
                 *, offset: int | None = None, hint: str | None = None):
        self.path = path
        self.line = line
        self.token = token
        self.offset = offset
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        elif line is not None:
            where = f"line {line}: "
        at = f" at byte offset {offset}" if offset is not None else ""
        tok = f" (token {token!r})" if token is not None else ""
        tail = f"; {hint}" if hint else ""
        super().__init__(f"{where}{message}{at}{tok}{tail}")


class LetorFormatError(FileFormatError):
    """A LETOR / svmlight file could not be parsed (fields as :class:`FileFormatError`)."""


class TrecFormatError(LetorFormatError):
    """A TREC run or qrels file could not be parsed (same fields as :class:`LetorFormatError`)."""


class GroupError(ValueError):
    """Query grouping is inconsistent: interleaved qids, sizes that do not add up, a bad ``group_ptr``."""


class ModelFormatError(ValueError):
    """A saved model is missing, truncated, edited or of an unknown version."""


class LetorGroupError(LetorFormatError, GroupError):
    """The rows of a query are not contiguous in a LETOR file (both a format and a grouping error)."""
