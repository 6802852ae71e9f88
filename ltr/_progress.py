"""What progress lines share: elapsed time as people read it (:mod:`ltr.tuning.progress` for a search,
:class:`ltr.evaluation.FoldProgress` for cross-validation, which cannot import each other's packages: tuning's
nested cross-validation imports the evaluation package)."""

from __future__ import annotations

__all__ = ["format_elapsed"]


def format_elapsed(seconds: float) -> str:
    """``42s``, ``3m07s``, ``1h02m``.

    Examples
    --------
    >>> format_elapsed(42.4), format_elapsed(187), format_elapsed(3725)
    ('42s', '3m07s', '1h02m')
    """
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"
