"""The metric registry and the one parser for metric names such as ``"ndcg@10"``, ``"map"`` or ``"P_10"``.

:data:`REGISTRY` is the single source of truth: it maps each canonical family name to its :class:`MetricSpec`
(kernel code, whether a cutoff is allowed or required, and the aliases it answers to). :func:`parse_metric`
lower-cases a name, splits an optional cutoff written ``@k``, ``_k`` or ``.k`` (``ndcg@10``, ``P_10``,
``ndcg_cut.10``), resolves aliases, and returns the canonical spelling used as the key of every result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ltr.metrics import _kernels as K

__all__ = ["REGISTRY", "MetricSpec", "ParsedMetric", "parse_metric", "parse_metrics"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric family.

    Attributes
    ----------
    name : str
        Canonical family name (``"ndcg"``); results are keyed ``name`` or ``name@k``.
    code : int
        Kernel code (:mod:`ltr.metrics._kernels`).
    cutoff : {"optional", "required"}
        Whether ``@k`` may be omitted (then the whole list counts).
    aliases : tuple of str
        Other spellings (lower case) that resolve to this family.
    description : str
        One line for error messages and docs.
    """

    name: str
    code: int
    cutoff: str
    aliases: tuple[str, ...]
    description: str


_SPECS = (
    MetricSpec("dcg", K.DCG, "optional", ("dcg_cut",), "discounted cumulative gain"),
    MetricSpec("ndcg", K.NDCG, "optional", ("ndcg_cut",), "normalized discounted cumulative gain"),
    MetricSpec("map", K.AP, "optional", ("ap", "map_cut", "average_precision"), "(mean) average precision"),
    MetricSpec("mrr", K.RR, "optional", ("rr", "recip_rank", "reciprocal_rank"), "(mean) reciprocal rank"),
    MetricSpec("p", K.PRECISION, "required", ("precision", "prec"), "precision at k"),
    MetricSpec("recall", K.RECALL, "optional", ("r",), "recall (at k)"),
    MetricSpec("err", K.ERR, "optional", ("expected_reciprocal_rank",), "expected reciprocal rank"),
)

#: Canonical family name -> :class:`MetricSpec`. Read-only.
REGISTRY: Mapping[str, MetricSpec] = MappingProxyType({s.name: s for s in _SPECS})

_ALIASES: Mapping[str, str] = MappingProxyType(
    {alias: s.name for s in _SPECS for alias in (s.name, *s.aliases)}
)

# A family name (letters and underscores, shortest match) and an optional cutoff after '@', '_' or '.'.
_NAME_RE = re.compile(r"^([a-z_]+?)(?:[@_.](\d+))?$")


@dataclass(frozen=True)
class ParsedMetric:
    """A resolved metric name.

    Attributes
    ----------
    name : str
        Canonical spelling, e.g. ``"ndcg@10"`` or ``"map"``.
    spec : MetricSpec
        The family.
    k : int or None
        The cutoff, or None for the whole list.
    """

    name: str
    spec: MetricSpec
    k: int | None


def _unknown(name: object) -> ValueError:
    aliases = sorted(a for a in _ALIASES if a not in REGISTRY)
    return ValueError(
        f"unknown metric {name!r}; known metrics: {sorted(REGISTRY)}, each optionally followed by @k "
        f"(e.g. 'ndcg@10', 'map', 'p@5'); aliases: {aliases}"
    )


def parse_metric(name: str) -> ParsedMetric:
    """Resolve a metric name to its canonical spelling, family and cutoff.

    Matching is case-insensitive; the cutoff may follow ``@``, ``_`` or ``.`` (so the spellings of ranx
    ``precision@10``, ir_measures ``P@10`` and trec_eval ``P_10`` all give ``p@10``).

    Parameters
    ----------
    name : str
        A metric name such as ``"ndcg@10"``, ``"map"``, ``"mrr@10"``, ``"P_5"`` or ``"ndcg_cut_10"``.

    Returns
    -------
    ParsedMetric

    Raises
    ------
    ValueError
        For an unknown family (the message lists ``sorted(REGISTRY)``), a cutoff of 0, or a missing cutoff
        where one is required (``p``).

    Examples
    --------
    >>> parse_metric("NDCG@10").name
    'ndcg@10'
    >>> parse_metric("P_5").name, parse_metric("recip_rank").name, parse_metric("map_cut.100").name
    ('p@5', 'mrr', 'map@100')
    >>> parse_metric("ndcg").k is None
    True
    """
    if not isinstance(name, str):
        raise TypeError(f"a metric name must be a str, got {type(name).__name__}: {name!r}")
    match = _NAME_RE.match(name.strip().lower())
    if match is None:
        raise _unknown(name)
    family, k_text = match.groups()
    canonical = _ALIASES.get(family)
    if canonical is None:
        raise _unknown(name)
    spec = REGISTRY[canonical]
    if k_text is None:
        if spec.cutoff == "required":
            raise ValueError(f"metric {name!r} needs a cutoff, e.g. '{canonical}@10'")
        return ParsedMetric(canonical, spec, None)
    k = int(k_text)
    if k < 1:
        raise ValueError(f"metric {name!r}: the cutoff must be a positive integer, got {k}")
    return ParsedMetric(f"{canonical}@{k}", spec, k)


def parse_metrics(metrics: str | tuple[str, ...] | list[str]) -> list[ParsedMetric]:
    """Parse one name or a sequence of names; duplicates (after resolving aliases) are kept once, in order.

    Examples
    --------
    >>> [m.name for m in parse_metrics(["ndcg@10", "NDCG_cut_10", "map"])]
    ['ndcg@10', 'map']
    """
    if isinstance(metrics, str):
        metrics = (metrics,)
    out: dict[str, ParsedMetric] = {}
    for name in metrics:
        parsed = parse_metric(name)
        out.setdefault(parsed.name, parsed)
    if not out:
        raise ValueError("metrics is empty; pass at least one name such as 'ndcg@10'")
    return list(out.values())
