"""The error an export raises for a model, a format or an option it cannot honour exactly (defined with the
toolkit's other errors in :mod:`ltr.exceptions`)."""

from __future__ import annotations

from ltr.exceptions import ExportError, ExportOptionError

__all__ = ["ExportError", "ExportOptionError"]
