"""The metric registry and the one parser for metric names such as ``"ndcg@10"``, ``"map"`` or ``"P_10"``.

:data:`REGISTRY` is the single source of truth: it maps each canonical family name to its :class:`MetricSpec`
(kernel code, whether a cutoff is allowed, required or refused, the aliases it answers to, trec_eval's name, and
whether it is a count). :func:`parse_metric` lower-cases a name, splits an optional cutoff written ``@k``, ``_k``
or ``.k`` (``ndcg@10``, ``P_10``, ``ndcg_cut.10``), resolves aliases, and returns the canonical spelling used as
the key of every result, with the spelling the user asked for beside it (:func:`metric_labels`).

Other tools' names are aliases only where the definition is the same (checked against ranx and pytrec_eval on
MQ2008: ranx's ``hit_rate@k`` and ``r-precision``, trec_eval's ``set_recall``, ``Rprec``, ``recip_rank``, ``P_k``,
``ndcg_cut_k``, ``map_cut_k``). A name whose number needs another convention here (ranx's ``ndcg_burges@k``: gain
2^rel - 1) or another measure (ranx's ``hits@k``), and trec_eval's cutoff families without a cutoff (``ndcg_cut``,
``map_cut``), are refused with a message saying what to write instead, never computed as something else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ltr.metrics import _kernels as K

__all__ = ["REGISTRY", "MetricSpec", "ParsedMetric", "metric_labels", "parse_metric", "parse_metrics",
           "target_metric"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric family.

    Attributes
    ----------
    name : str
        Canonical family name (``"ndcg"``); results are keyed ``name`` or ``name@k``.
    code : int
        Kernel code (:mod:`ltr.metrics._kernels`).
    cutoff : {"optional", "required", "none"}
        Whether ``@k`` may be omitted (then the whole list counts), must be given, or is refused.
    aliases : tuple of str
        Other spellings (lower case) that resolve to this family.
    description : str
        One line for error messages and docs.
    trec : tuple of (str or None, str or None)
        trec_eval's name without a cutoff and its template with one (``("ndcg", "ndcg_cut_{k}")``); None where
        trec_eval has no such measure.
    count : bool
        A per-query count (``num_rel``...): integer values, summed over queries rather than averaged, as trec_eval
        sums them on its ``all`` line.
    """

    name: str
    code: int
    cutoff: str
    aliases: tuple[str, ...]
    description: str
    trec: tuple[str | None, str | None] = (None, None)
    count: bool = False


_SPECS = (
    MetricSpec("dcg", K.DCG, "optional", ("dcg_cut",), "discounted cumulative gain"),
    MetricSpec("ndcg", K.NDCG, "optional", ("ndcg_cut",), "normalized discounted cumulative gain",
               ("ndcg", "ndcg_cut_{k}")),
    MetricSpec("mean_ndcg", K.MEAN_NDCG, "none", ("meanndcg",),
               "mean of NDCG@1..n over a query's n positions (LETOR's MeanNDCG)"),
    MetricSpec("map", K.AP, "optional", ("ap", "map_cut", "average_precision"), "(mean) average precision",
               ("map", "map_cut_{k}")),
    MetricSpec("mrr", K.RR, "optional", ("rr", "recip_rank", "reciprocal_rank"), "(mean) reciprocal rank",
               ("recip_rank", None)),
    MetricSpec("p", K.PRECISION, "required", ("precision", "prec"), "precision at k", (None, "P_{k}")),
    MetricSpec("recall", K.RECALL, "optional", ("r", "set_recall", "setr"), "recall (at k)",
               ("set_recall", "recall_{k}")),
    MetricSpec("rprec", K.RPREC, "none", ("r_prec", "r_precision", "rprecision"),
               "R-precision: precision at R, the number of relevant documents", ("Rprec", None)),
    MetricSpec("bpref", K.BPREF, "none", (), "binary preference (Buckley and Voorhees 2004)", ("bpref", None)),
    MetricSpec("success", K.SUCCESS, "required", ("hit_rate",), "1 if a relevant document is in the top k, else 0",
               (None, "success_{k}")),
    MetricSpec("err", K.ERR, "optional", ("expected_reciprocal_rank",), "expected reciprocal rank"),
    MetricSpec("num_q", -1, "none", ("numq",), "number of queries (1 per query; summed)", ("num_q", None), True),
    MetricSpec("num_ret", -1, "none", ("numret",), "documents retrieved (ranked) per query; summed",
               ("num_ret", None), True),
    MetricSpec("num_rel", -1, "none", ("numrel",), "relevant documents per query; summed", ("num_rel", None), True),
    MetricSpec("num_rel_ret", -1, "none", ("numrelret",), "relevant documents retrieved per query; summed",
               ("num_rel_ret", None), True),
)

#: Canonical family name -> :class:`MetricSpec`. Read-only.
REGISTRY: Mapping[str, MetricSpec] = MappingProxyType({s.name: s for s in _SPECS})

_ALIASES: Mapping[str, str] = MappingProxyType(
    {alias: s.name for s in _SPECS for alias in (s.name, *s.aliases)}
)

# A family name (letters, underscores and hyphens, shortest match) and an optional cutoff after '@', '_' or '.'. A
# sign is matched so that 'p@-1' is refused for its cutoff, as 'p@0' is, not as an unknown name. A hyphen in the
# name reads as an underscore (ranx's 'r-precision').
_NAME_RE = re.compile(r"^([a-z_-]+?)(?:[@_.](-?\d+))?$")

# trec_eval's cutoff families: without a cutoff, trec_eval prints the family at 5, 10, 15, 20, 30, 100, 200, 500
# and 1000, not the whole-list measure, so these spellings need a cutoff (dcg_cut by analogy).
_CUT_FAMILIES = ("ndcg_cut", "map_cut", "dcg_cut")
_TREC_CUTOFFS = (5, 10, 15, 20, 30, 100, 200, 500, 1000)

# Spellings that take no cutoff although their family does: trec_eval's set_recall is recall over the whole list.
_NO_CUTOFF_ALIASES = {"set_recall": "recall@k is trec_eval's recall_k", "setr": "recall@k is ir_measures' R@k"}

# Other tools' names whose definition is not one of ours as the name alone says: the message names what gives that
# tool's number here. ranx's *_burges measures fix the gain at 2^rel - 1, a convention rather than a name here.
_FOREIGN = {
    "ndcg_burges": "ranx's ndcg_burges@k is nDCG with gain 2^rel - 1: write 'ndcg@k' with gain='exp2' (the default "
                   "of ltr.metrics.evaluate; evaluate_run and 'ltr evaluate --qrels' default to 'linear', as ranx's "
                   "ndcg: pass gain='exp2' / --gain exp2)",
    "dcg_burges": "ranx's dcg_burges@k is DCG with gain 2^rel - 1: write 'dcg@k' with gain='exp2' (the default of "
                  "ltr.metrics.evaluate; evaluate_run and 'ltr evaluate --qrels' default to 'linear': pass "
                  "gain='exp2' / --gain exp2)",
    "hits": "ranx's hits@k counts the relevant documents in the top k, which is k times 'p@k' here (p@k divides by "
            "k, as trec_eval's P_k); ranx's hit_rate@k is 'success@k'",
}


# ir_measures writes the relevance level as a parameter: P(rel=2)@10, RR(rel=2), AP(rel=2)@100.
_IR_MEASURES_REL = re.compile(r"([A-Za-z_]+)\(rel=([0-9]+)\)(@[0-9]+)?")

# trec_eval's measures not offered here (README): said as such, not as a misspelling.
_NOT_OFFERED = {
    "gm_map": "trec_eval's gm_map is not offered; it is exp(mean(log(max(AP, 0.00001)))) over the per-query 'map' "
              "values (ltr evaluate -q, evaluate_run_per_query)",
    "iprec_at_recall": "trec_eval's iprec_at_recall (interpolated precision at recall levels) is not offered",
    # ir_measures' names (they were 'unknown', as a misspelling is; trial t60)
    "judged": "ir_measures' Judged@k (the share of the top k that the qrels judge) is not offered",
    "infap": "ir_measures' infAP (AP inferred from sampled judgments) is not offered",
    "setp": "ir_measures' SetP (the precision of the whole retrieved list) is not offered",
}


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
    requested: str = ""

    @property
    def trec_name(self) -> str | None:
        """trec_eval's name for this measure (``"ndcg_cut_10"``, ``"P_5"``, ``"recip_rank"``), or None."""
        plain, template = self.spec.trec
        if self.k is None:
            return plain
        return template.format(k=self.k) if template is not None else None


def _unknown(name: object) -> ValueError:
    aliases = sorted(a for a in _ALIASES if a not in REGISTRY)
    near = _nearest(name)
    return ValueError(
        f"unknown metric {name!r}{f' (did you mean {near!r}?)' if near else ''}; known metrics: {sorted(REGISTRY)}, "
        f"each optionally followed by @k (e.g. 'ndcg@10', 'map', 'p@5'); aliases: {aliases}"
    )


def _nearest(name: object) -> str | None:
    """The metric a misspelt name most likely meant (``ndgc@10``, ``ndcg10``, ``ndcg_cut10``: ``ndcg@10``), or
    None: the family nearest in spelling among the known names and aliases, with the name's cutoff."""
    import difflib

    if not isinstance(name, str):
        return None
    if name.partition("@")[0].strip().lower() in _ALIASES:  # a known family, a cutoff that is no number: no guess
        return None
    found = re.fullmatch(r"(.*?)[@_.]?(\d+)?", name.strip().lower())
    family, k = (found.group(1), found.group(2)) if found else (name.strip().lower(), None)
    near = difflib.get_close_matches(family.replace("-", "_"), list(_ALIASES), n=1, cutoff=0.7)
    if not near:
        return None
    canonical = _ALIASES[near[0]]
    spec = REGISTRY[canonical]
    if k is not None and spec.cutoff != "none" and 1 <= int(k) < 2**31:  # (a cutoff parse_metric takes)
        return f"{canonical}@{int(k)}"
    return canonical if spec.cutoff != "required" else f"{canonical}@10"


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
        ``requested`` holds ``name`` as given.

    Raises
    ------
    ValueError
        For an unknown family (the message lists ``sorted(REGISTRY)``), a cutoff of 0, a missing cutoff where
        one is required (``p``, ``success``, and trec_eval's families ``ndcg_cut``, ``map_cut``, which trec_eval
        prints at nine cutoffs, never over the whole list), or a cutoff where none is defined (``bpref``,
        ``num_rel``, ``set_recall``...); and for another tool's name whose number another spelling or convention
        gives here (ranx's ``ndcg_burges@k``, ``dcg_burges@k``: gain ``"exp2"``; ``hits@k``: k times ``p@k``),
        with a message saying which.

    Examples
    --------
    >>> parse_metric("NDCG@10").name
    'ndcg@10'
    >>> parse_metric("P_5").name, parse_metric("recip_rank").name, parse_metric("map_cut.100").name
    ('p@5', 'mrr', 'map@100')
    >>> parse_metric("Rprec").name, parse_metric("success_1").name, parse_metric("NumRelRet").name
    ('rprec', 'success@1', 'num_rel_ret')
    >>> parse_metric("hit_rate@10").name, parse_metric("r-precision").name, parse_metric("set_recall").name
    ('success@10', 'rprec', 'recall')
    >>> parse_metric("ndcg").k is None
    True
    """
    if not isinstance(name, str):
        raise TypeError(f"a metric name must be a str, got {type(name).__name__}: {name!r}")
    if not name.strip():  # was "unknown metric ''" and the list of every known one (trial t72)
        raise ValueError(f"a metric name is empty ({name!r}); pass one such as 'ndcg@10'")
    match = _NAME_RE.match(name.strip().lower())
    level = _IR_MEASURES_REL.fullmatch(name.strip())
    if match is None and level is not None:  # ir_measures' P(rel=2)@10: its parameter is a convention here
        plain = f"{level.group(1)}{level.group(3) or ''}"
        raise ValueError(f"metric {name!r}: ir_measures' (rel={level.group(2)}) is the lowest relevant grade, a "
                         f"convention here: write {plain!r} with rel_threshold={level.group(2)} (ltr evaluate "
                         f"--relevance-level {level.group(2)}, trec_eval's -l {level.group(2)})")
    if match is None:
        raise _bad_cutoff(name) or _unknown(name)
    family, k_text = match.groups()
    family = family.replace("-", "_")
    if family in _NOT_OFFERED:
        raise ValueError(f"metric {name!r}: {_NOT_OFFERED[family]}")
    if family in _FOREIGN:
        raise ValueError(f"metric {name!r}: {_FOREIGN[family]}")
    canonical = _ALIASES.get(family)
    if canonical is None:
        raise _bad_cutoff(name) or _unknown(name)
    spec = REGISTRY[canonical]
    if k_text is None:
        if spec.cutoff == "required":
            raise ValueError(f"metric {name!r} needs a cutoff, e.g. '{canonical}@10'")
        if family in _CUT_FAMILIES:
            family_text = ", ".join(f"{family}_{k}" for k in _TREC_CUTOFFS)
            raise ValueError(
                f"metric {name!r} needs a cutoff: trec_eval's {family} is the family {family_text}; name the ones "
                f"wanted ('{family}_10' is '{canonical}@10'), or write '{canonical}' for the whole list"
            )
        return ParsedMetric(canonical, spec, None, name)
    if family in _NO_CUTOFF_ALIASES:
        raise ValueError(f"metric {name!r}: {family} takes no cutoff ({_NO_CUTOFF_ALIASES[family]}); "
                         f"write '{family}' or '{canonical}@{k_text}'")
    if spec.cutoff == "none":
        raise ValueError(f"metric {name!r}: {canonical} takes no cutoff; write '{canonical}'")
    k = int(k_text)
    if k < 1 or k > _MAX_CUTOFF:  # past any list's length it cuts nothing; past C's int the kernels cannot hold it
        raise ValueError(f"metric {name!r}: the cutoff must be a positive integer up to {_MAX_CUTOFF}, got {k}")
    return ParsedMetric(f"{canonical}@{k}", spec, k, name)


#: The largest cutoff (a C int's, as trec_eval reads one): a larger one overflowed the kernels' integers.
_MAX_CUTOFF = 2**31 - 1


def _bad_cutoff(name: str) -> ValueError | None:
    """The error for a known metric whose cutoff after ``@`` is a number but not an integer (``ndcg@2.5``,
    ``ndcg@1e3``), which was called an unknown metric, with the list of every known one (trial t65); None for any
    other name (``ndcg@x`` is a misspelt name as much as a cutoff: the list of names stays). A number after trec_eval's
    ``_`` or ``.`` is a cutoff too (``P_5.5``, ``ndcg_cut.1e3``; stop 65's review)."""
    text = name.strip().lower()
    cut = (re.fullmatch(r"([a-z_-]+?)@(.+)", text)
           or re.fullmatch(r"([a-z_-]+?)[_.]([-+]?[0-9.][0-9.e+-]*)", text))
    canonical = _ALIASES.get(cut.group(1).replace("-", "_")) if cut is not None else None
    if canonical is None:
        return None
    try:
        float(cut.group(2))
    except ValueError:
        return None
    if REGISTRY[canonical].cutoff == "none":
        return ValueError(f"metric {name!r}: {canonical} takes no cutoff; write '{canonical}'")
    return ValueError(f"metric {name!r}: the cutoff must be a positive integer up to {_MAX_CUTOFF}, got "
                      f"{cut.group(2)!r}")


def parse_metrics(metrics: str | tuple[str, ...] | list[str]) -> list[ParsedMetric]:
    """Parse one name, several names in one string separated by commas (the command line's ``--metrics
    ndcg@10,map``), or a sequence of names; duplicates (after resolving aliases) are kept once, in order.

    The first spelling of a duplicate is the one kept in ``requested``.

    Examples
    --------
    >>> [(m.name, m.requested) for m in parse_metrics(["ndcg@10", "NDCG_cut_10", "P@5"])]
    [('ndcg@10', 'ndcg@10'), ('p@5', 'P@5')]
    >>> [m.name for m in parse_metrics("ndcg@10, map")]
    ['ndcg@10', 'map']
    """
    if not isinstance(metrics, str):
        try:
            metrics = tuple(metrics)
        except TypeError:  # metrics=5 was "'int' object is not iterable" (trial t56)
            raise TypeError(f"metrics must be a metric name, a comma-separated string or a list of names, got "
                            f"{metrics!r:.60}") from None
    if isinstance(metrics, str):
        if not metrics.strip():  # '' was "unknown metric ''", where [] says this (trial t72)
            raise ValueError("metrics is empty; pass at least one name such as 'ndcg@10'")
        pieces = [m.strip() for m in metrics.split(",")]
        if len(pieces) > 1 and not all(pieces):
            raise ValueError(f"metrics {metrics!r} has an empty name between commas; write e.g. 'ndcg@10,map'")
        metrics = tuple(pieces)
    out: dict[str, ParsedMetric] = {}
    for name in metrics:
        parsed = parse_metric(name)
        out.setdefault(parsed.name, parsed)
    if not out:
        raise ValueError("metrics is empty; pass at least one name such as 'ndcg@10'")
    return list(out.values())


def metric_labels(metrics: str | tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """``(canonical, requested)`` for each metric, in order, duplicates once: what a table shows side by side.

    Every result of :mod:`ltr.metrics` is keyed by the canonical name; a front end that wants to show the user's
    own spelling next to it (``P@5 (p@5)``) reads the pairs from here.

    Examples
    --------
    >>> metric_labels(["P@5", "ndcg_cut_10", "map", "recip_rank"])
    [('p@5', 'P@5'), ('ndcg@10', 'ndcg_cut_10'), ('map', 'map'), ('mrr', 'recip_rank')]
    """
    return [(p.name, p.requested) for p in parse_metrics(metrics)]


def target_metric(name: str, what: str = "metric") -> ParsedMetric:
    """:func:`parse_metric` for a metric that chooses something (a tuned configuration, the round early stopping
    keeps, fusion weights): a count (``num_q``, ``num_ret``, ``num_rel``, ``num_rel_ret``) is refused, as the scores
    do not change it: every candidate would tie, and the first would be called the best.

    >>> target_metric("ndcg@10").name
    'ndcg@10'
    >>> target_metric("num_rel", "early_stopping_metric")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: early_stopping_metric 'num_rel' is a count the scores do not change: ...
    """
    parsed = parse_metric(name)
    if parsed.spec.count:
        raise ValueError(f"{what} {parsed.name!r} is a count the scores do not change: every candidate would tie, "
                         "and the first be taken; give a ranking metric (ndcg@10, map, ...)")
    return parsed
