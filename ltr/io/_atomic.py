"""Deprecated location of :func:`ltr.io.atomic_write` (see :mod:`ltr.io.outputs`); kept until call sites move."""

from ltr.io.outputs import atomic_write

__all__ = ["atomic_write"]
