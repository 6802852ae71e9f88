"""Named evaluation presets, the discount tables behind them, and a one-line description of any set of conventions.

The conventions themselves (gain, ties, queries without relevant documents, relevance threshold) are documented
once, in :mod:`ltr.metrics`. A preset fixes several of them at once so that published tables can be reproduced:
``convention="letor"`` is the official LETOR 3.0/4.0 evaluation script (its rules and open cases are listed in
:mod:`ltr.metrics`, section "The LETOR preset"). :func:`describe_conventions` turns the choices of one table into
the line a report prints under it.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ltr.exceptions import LabelRangeError

__all__ = ["CONVENTIONS", "LETOR_LABELS", "check_letor_labels", "describe_conventions", "discount_table",
           "resolve_convention"]

#: Accepted values of ``convention=``: the toolkit's own parameters, or the LETOR script's fixed rules.
CONVENTIONS = ("default", "letor")

#: The labels the LETOR 3.0/4.0 script has a gain and a relevance for (its two lookup tables).
LETOR_LABELS = (0.0, 1.0, 2.0)

# What the LETOR preset fixes, with the reason quoted in the error when a caller asks for something else.
_LETOR_FIXED = {
    "gain": ("exp2", "the script's gain table 2 -> 3, 1 -> 1, 0 -> 0 is 2^rel - 1"),
    "ties": ("stable", "the script sorts by score with a stable sort of the rows in file order"),
    "no_relevant": (0.0, "the script scores a query without relevant documents 0"),
    "rel_threshold": (1.0, "the script counts labels 1 and 2 as relevant"),
}


def resolve_convention(convention: str, **chosen: object) -> str:
    """Check ``convention`` and the parameters it fixes; return the discount to use (``"log2"`` or ``"letor"``).

    ``chosen`` holds the caller's ``gain``, ``ties``, ``no_relevant`` and ``rel_threshold``. Under
    ``"letor"`` each must be left at the value the script uses (the toolkit's defaults are those values), so an
    explicit contradiction is an error rather than a silently ignored argument.

    Examples
    --------
    >>> resolve_convention("default", gain="linear"), resolve_convention("letor", gain="exp2")
    ('log2', 'letor')
    """
    if not isinstance(convention, str) or convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {list(CONVENTIONS)}, got {convention!r}")
    if convention == "default":
        return "log2"
    for name, value in chosen.items():
        fixed, why = _LETOR_FIXED[name]
        same = value == fixed if isinstance(fixed, str) else _same_number(value, fixed)
        if not same:
            raise ValueError(
                f"convention='letor' fixes {name}={fixed!r} ({why}); got {name}={value!r}: drop one of the two"
            )
    return "letor"


def _same_number(value: object, fixed: float) -> bool:
    try:
        return float(value) == fixed  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def check_letor_labels(labels: NDArray[np.float64], group_ptr: NDArray[np.int64], what: str = "the labels") -> None:
    """Refuse labels the LETOR script has no table entry for (anything but 0, 1, 2).

    The script looks each label up in two hash tables; any other label (3, 4, 0.5, -1) finds nothing and is
    scored as gain 0 and not relevant, silently. The preset refuses such labels instead: a 0-4 set evaluated
    that way would report wrong numbers, and no published LETOR 3.0/4.0 table has them.
    """
    bad = ~np.isin(labels, LETOR_LABELS)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        q = int(np.searchsorted(group_ptr, row, side="right") - 1)
        raise LabelRangeError(
            f"the LETOR convention takes labels 0, 1 and 2 only (the LETOR 3.0/4.0 script's tables), got label "
            f"{labels[row]:g} at row {row} (query index {q}) of {what}",
            python_fix="use the default convention for other scales (convention='default')",
            cli_fix="leave --convention letor out for other scales")


def discount_table(kind: str, n: int) -> NDArray[np.float64]:
    """The divisor of the gain at each 0-based rank ``0 .. n-1``.

    ``"log2"``: log2(rank + 2), i.e. 1/log2(r + 1) for 1-based position r (Järvelin and Kekäläinen 2002).
    ``"letor"``: 1 at positions 1 and 2, log2(r) at position r >= 3 (the LETOR script's ``log(r)/log(2)``).

    Examples
    --------
    >>> discount_table("log2", 4).tolist()
    [1.0, 1.584962500721156, 2.0, 2.321928094887362]
    >>> discount_table("letor", 4).tolist()
    [1.0, 1.0, 1.584962500721156, 2.0]
    """
    if kind == "letor":
        table = np.ones(n, dtype=np.float64)
        table[2:] = np.log2(np.arange(3, n + 1, dtype=np.float64))
        return table
    return np.log2(np.arange(2, n + 2, dtype=np.float64))


_GAIN_TEXT = {"exp2": "gain exp2 (2^rel - 1)", "linear": "gain linear (rel)"}
_TIES_TEXT = {
    "stable": "equal scores in input order",
    "pessimistic": "equal scores ranked worst first",
    "optimistic": "equal scores ranked best first",
}


def describe_conventions(
    *,
    source: str = "letor",
    convention: str = "default",
    gain: str | None = None,
    no_relevant: float = 0.0,
    ties: str = "stable",
    rel_threshold: float = 1.0,
    complete: bool = False,
    n_queries: int | None = None,
    max_grade: float = 4.0,
) -> str:
    """One line saying which conventions a table of metrics used, for printing under the table.

    Parameters
    ----------
    source : {"letor", "trec"}, default="letor"
        ``"letor"``: arrays of labels and scores (:func:`ltr.metrics.evaluate`); ``"trec"``: a run against qrels
        (:func:`ltr.metrics.evaluate_run`, trec_eval's order and judged set).
    convention : {"default", "letor"}, default="default"
        A preset; ``"letor"`` replaces the gain and discount text by the LETOR script's rules.
    gain : {"exp2", "linear"} or None
        None: the default of ``source`` (``"exp2"`` for arrays, ``"linear"`` for runs).
    no_relevant, ties, rel_threshold
        As passed to the metric functions (``ties`` only applies to arrays).
    complete : bool, default=False
        Runs only: trec_eval's ``-c`` (judged queries missing from the run averaged in as 0).
    n_queries : int or None
        How many queries the means are over; omitted when None.
    max_grade : float, default=4.0
        ERR's highest grade, named when it is not the default 4.

    Returns
    -------
    str
        Clauses separated by ``"; "``, no trailing period.

    Examples
    --------
    >>> print(describe_conventions(n_queries=156))
    gain exp2 (2^rel - 1); queries without relevant documents score 0; equal scores in input order;
    156 queries averaged
    >>> print(describe_conventions(source="trec", complete=True, n_queries=93))
    gain linear (rel); queries without relevant documents score 0; trec_eval order (score, then docno descending);
    judged queries missing from the run score 0 (trec_eval -c); 93 queries averaged
    """
    if source not in ("letor", "trec"):
        raise ValueError(f"source must be 'letor' or 'trec', got {source!r}")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {list(CONVENTIONS)}, got {convention!r}")
    parts = []
    if convention == "letor":
        parts.append("LETOR 3.0/4.0 script: gain 2^rel - 1 (labels 0-2), positions 1-2 undiscounted then "
                     "1/log2(r), NDCG@k = 0 for queries with fewer than k documents")
    else:
        gain = gain if gain is not None else ("exp2" if source == "letor" else "linear")
        if gain not in _GAIN_TEXT:
            raise ValueError(f"gain must be one of {sorted(_GAIN_TEXT)}, got {gain!r}")
        parts.append(_GAIN_TEXT[gain])
    no_relevant = float(no_relevant)
    if math.isnan(no_relevant):
        parts.append("queries without relevant documents left out of the means")
    else:
        parts.append(f"queries without relevant documents score {no_relevant:g}")
    if float(rel_threshold) != 1.0:
        parts.append(f"relevant: label >= {float(rel_threshold):g}")
    if float(max_grade) != 4.0:
        parts.append(f"ERR's highest grade {float(max_grade):g}")
    if source == "trec":
        parts.append("trec_eval order (score, then docno descending)")
        if complete:
            parts.append("judged queries missing from the run score 0 (trec_eval -c)")
        else:
            parts.append("judged queries missing from the run left out")
    else:
        if ties not in _TIES_TEXT:
            raise ValueError(f"ties must be one of {sorted(_TIES_TEXT)}, got {ties!r}")
        parts.append(_TIES_TEXT[ties])
    if n_queries is not None:
        parts.append(f"{int(n_queries)} {'query' if int(n_queries) == 1 else 'queries'} averaged")
    return "; ".join(parts)
