"""The error an export raises for a model, a format or an option it cannot honour exactly."""

from __future__ import annotations

__all__ = ["ExportError"]


class ExportError(ValueError):
    """A model cannot be written in the requested format without changing its scores (the message names the
    construct, the tree and node, or the argument and value), or the request itself is wrong."""
