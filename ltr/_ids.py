"""Numeric ids as SMART-layout files write them: zero-padded (``0046``) where the documents' ``.I`` lines and the
topics say ``46``. The qrels reader reads such ids without their leading zeros, and a run evaluated against those
judgments is read the same way (:func:`ltr.metrics.evaluate_run_per_query`), so that neither side's spelling decides
a match the other's does not. Standard library only: ``ltr.io`` and ``ltr.metrics`` both use it.
"""

from __future__ import annotations

__all__ = ["UNPADDED", "unpad"]

#: ``DataFrame.attrs["ids"]`` of judgments whose numeric ids were read without leading zeros (``ltr.io.read_qrels``
#: of the ``smart`` and ``cranfield`` layouts).
UNPADDED = "unpadded"


def unpad(token: str) -> str:
    """``"0046"`` -> ``"46"``; ids that are not all ASCII digits are returned unchanged.

    >>> unpad("0046"), unpad("0"), unpad("MED-10"), unpad("07a")
    ('46', '0', 'MED-10', '07a')
    """
    return str(int(token)) if token.isascii() and token.isdigit() else token
