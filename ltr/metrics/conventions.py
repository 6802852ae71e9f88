"""Named evaluation presets, the discount tables behind them, and a one-line description of any set of conventions.

The conventions themselves (gain, ties, queries without relevant documents, relevance threshold) are documented
once, in :mod:`ltr.metrics`. A preset fixes several of them at once so that another tool's numbers can be
reproduced: ``convention="letor"`` is the official LETOR 3.0/4.0 evaluation script, ``"lightgbm"`` LightGBM's
``ndcg``/``map`` evaluation, ``"ranklib"`` RankLib's metric scorers (their rules and open cases are listed in
:mod:`ltr.metrics`). :data:`PRESETS` holds each preset's rules in one table; :func:`resolve_convention` checks a
caller's arguments against them; :func:`describe_conventions` turns the choices of one table into the line a report
prints under it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from ltr.exceptions import LabelRangeError, OptionError

__all__ = ["CONVENTIONS", "INTEGER_LABEL_LIMIT", "LETOR_LABELS", "PRESETS", "Preset", "Resolved", "check_labels",
           "check_letor_labels", "describe_conventions", "discount_table", "resolve_convention"]

#: Accepted values of ``convention=``: the toolkit's own parameters, or another tool's fixed rules.
CONVENTIONS = ("default", "letor", "lightgbm", "ranklib")

#: The labels the LETOR 3.0/4.0 script has a gain and a relevance for (its two lookup tables).
LETOR_LABELS = (0.0, 1.0, 2.0)

#: LightGBM's and RankLib's gain tables hold integer labels 0 .. 30 (LightGBM's default ``label_gain`` has 31
#: entries, 2^i - 1; RankLib computes ``(1 << rel) - 1`` in a 32-bit int).
INTEGER_LABEL_LIMIT = 30

#: The toolkit's own default of each convention every preset may fix: a value left there is "not given" (it takes
#: the preset's value) because every entry point (``evaluate``, ``cross_validate``, the command line) passes it on.
_DEFAULTS = {"gain": "exp2", "ties": "stable", "no_relevant": 0.0, "rel_threshold": 1.0}


@dataclass(frozen=True)
class Preset:
    """The rules of one ``convention=`` value.

    Attributes
    ----------
    name : str
        The value of ``convention=``.
    tool : str
        Whose rules these are, for messages.
    fixed : mapping of str to (value, reason)
        The ``gain``, ``ties``, ``no_relevant`` and ``rel_threshold`` the tool uses, with the reason quoted when a
        caller asks for another value.
    discount : {"log2", "letor"}
        The discount table (:func:`discount_table`).
    map_at_k : {"relevant", "min_k_relevant", "whole_list"}
        The denominator of ``map@k``: all R relevant documents of the query (trec_eval's ``map_cut_k``),
        min(k, R) (LightGBM's ``map@k``), or ``k`` ignored and AP taken over the whole list (RankLib's APScorer).
    p_at_k : {"k", "min_k_n"}
        The denominator of ``p@k``: k (trec_eval's ``P_k``) or min(k, n) for a query of n documents (RankLib's
        PrecisionScorer).
    short_ndcg_zero : bool
        NDCG@k is 0 for a query with fewer than k documents (the LETOR script).
    rr_single : bool
        Reciprocal rank rounded to single precision (RankLib computes ``1.0f / rank``).
    labels : {None, "letor", "integer"}
        Labels refused: None, anything but 0, 1, 2, or anything but the integers 0..30.
    no_relevant_kernels : tuple of str, optional
        The metric kernels (names of :mod:`ltr.metrics._kernels`' codes) whose queries without relevant documents
        take the preset's ``no_relevant``: the tool's rule holds for its own metrics only (LightGBM's ndcg and map);
        the others score the toolkit's default, 0. None: every metric takes it.
    """

    name: str
    tool: str = "the toolkit"
    fixed: Mapping[str, tuple[object, str]] = field(default_factory=dict)
    discount: str = "log2"
    map_at_k: str = "relevant"
    p_at_k: str = "k"
    short_ndcg_zero: bool = False
    rr_single: bool = False
    labels: str | None = None
    no_relevant_kernels: tuple[str, ...] | None = None


_LETOR = Preset(
    "letor", "the LETOR 3.0/4.0 script",
    {
        "gain": ("exp2", "the script's gain table 2 -> 3, 1 -> 1, 0 -> 0 is 2^rel - 1"),
        "ties": ("stable", "the script sorts by score with a stable sort of the rows in file order"),
        "no_relevant": (0.0, "the script scores a query without relevant documents 0"),
        "rel_threshold": (1.0, "the script counts labels 1 and 2 as relevant"),
    },
    discount="letor", short_ndcg_zero=True, labels="letor",
)
# microsoft/LightGBM src/metric/rank_metric.hpp, map_metric.hpp and dcg_calculator.cpp (read at v4.7 / HEAD 2026).
_LIGHTGBM = Preset(
    "lightgbm", "LightGBM",
    {
        "gain": ("exp2", "LightGBM's default label_gain is 2^i - 1"),
        "ties": ("stable", "LightGBM ranks with std::stable_sort by score, equal scores in input order"),
        "no_relevant": (1.0, "LightGBM's ndcg and map score a query without relevant documents 1"),
        "rel_threshold": (1.0, "LightGBM's map counts labels > 0.5 as relevant"),
    },
    map_at_k="min_k_relevant", labels="integer", no_relevant_kernels=("NDCG", "AP", "AP_MIN_K"),
)
# codelibs/ranklib (RankLib 2.x) ciir.umass.edu.metric.*Scorer and utilities.MergeSorter, HEAD e43f605.
_RANKLIB = Preset(
    "ranklib", "RankLib",
    {
        "gain": ("exp2", "RankLib's DCG gain is 2^rel - 1"),
        "ties": ("stable", "RankLib's MergeSorter keeps equal scores in input order"),
        "no_relevant": (0.0, "RankLib scores a query without relevant documents 0"),
        "rel_threshold": (1.0, "RankLib counts labels > 0 as relevant"),
    },
    map_at_k="whole_list", p_at_k="min_k_n", rr_single=True, labels="integer",
)

#: ``convention=`` value -> its :class:`Preset`. Read-only.
PRESETS: Mapping[str, Preset] = MappingProxyType({
    "default": Preset("default"), "letor": _LETOR, "lightgbm": _LIGHTGBM, "ranklib": _RANKLIB,
})


@dataclass(frozen=True)
class Resolved:
    """A preset with the caller's conventions checked against it: what the metric code applies."""

    preset: Preset
    gain: str
    ties: str
    no_relevant: float
    rel_threshold: float


def _check_name(convention: object) -> Preset:
    if not isinstance(convention, str) or convention not in PRESETS:
        raise ValueError(f"convention must be one of {list(CONVENTIONS)}, got {convention!r}")
    return PRESETS[convention]


def resolve_convention(convention: str, *, asked: Collection[str] = (), **chosen: object) -> Resolved:
    """Check ``convention`` and the parameters it fixes; return the rules and the values to apply.

    ``chosen`` holds the caller's ``gain``, ``ties``, ``no_relevant`` and ``rel_threshold`` (any subset). Under a
    preset each must be the tool's value or the toolkit's default (which then takes the tool's value: every entry
    point passes its default on, so it cannot mean "asked for"); another value is an error rather than a silently
    ignored argument. A caller that can tell names in ``asked`` the values that were asked for (the command line's
    options given): those must be the tool's, the default too (``--convention lightgbm --no-relevant 0``, which was
    replaced by 1 without a word: trial t69). Under ``"default"`` the values are returned as given.

    Examples
    --------
    >>> r = resolve_convention("lightgbm", gain="exp2", no_relevant=0.0)
    >>> r.preset.discount, r.no_relevant, r.preset.map_at_k
    ('log2', 1.0, 'min_k_relevant')
    >>> resolve_convention("letor", gain="exp2").preset.discount
    'letor'
    """
    preset = _check_name(convention)
    for name in ("no_relevant", "rel_threshold"):  # ('x' failed in float() naming nothing, '1' was read as 1; t59)
        v = chosen.get(name, 0.0)
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} must be a number, got {v!r}")
    v = chosen.get("no_relevant", 0.0)
    if v in (np.inf, -np.inf):  # every mean it enters is infinite (trial t67); nan leaves such queries out
        raise ValueError(f"no_relevant must be a finite number (0 as trec_eval, 1 as LightGBM), or nan to leave such "
                         f"queries out, got {v!r}")
    values = {**_DEFAULTS, **chosen}
    for name, value in chosen.items():
        if name not in preset.fixed:
            continue
        fixed, why = preset.fixed[name]
        if _same(value, fixed):
            continue
        if _same(value, _DEFAULTS[name]) and name not in asked:
            values[name] = fixed
            continue
        flag = {"rel_threshold": "--relevance-level"}.get(name, "--" + name.replace("_", "-"))  # no --ties flag

        def typed(v):  # as the flag's value is typed
            return f"{v:g}" if isinstance(v, float) else v

        raise OptionError(
            f"convention={convention!r} fixes {name}={fixed!r} ({why}); got {name}={value!r}: drop one of the two",
            cli=f"--convention {convention} fixes {flag} {typed(fixed)} ({why}); got {flag} {typed(value)}: drop "
                "one of the two")
    for name, (fixed, _) in preset.fixed.items():
        if name not in chosen:
            values[name] = fixed
    return Resolved(preset, values["gain"], values["ties"], float(values["no_relevant"]),  # type: ignore[arg-type]
                    float(values["rel_threshold"]))  # type: ignore[arg-type]


def _same(value: object, fixed: object) -> bool:
    if isinstance(fixed, str):
        return value == fixed
    try:
        return float(value) == fixed  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def check_labels(preset: Preset, labels: NDArray[np.float64], group_ptr: NDArray[np.int64],
                 what: str = "the labels") -> None:
    """Refuse the labels ``preset``'s tool has no gain for (nothing is refused under ``"default"``)."""
    if preset.labels == "letor":
        check_letor_labels(labels, group_ptr, what)
    elif preset.labels == "integer":
        bad = (labels != np.floor(labels)) | (labels < 0) | (labels > INTEGER_LABEL_LIMIT)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            q = int(np.searchsorted(group_ptr, row, side="right") - 1)
            raise LabelRangeError(
                f"the {preset.name} convention takes integer labels 0..{INTEGER_LABEL_LIMIT} ({preset.tool}'s gain "
                f"table 2^rel - 1), got label {labels[row]:g} at row {row} (query index {q}) of {what}",
                python_fix="use the default convention for other labels (convention='default')",
                cli_fix=f"leave --convention {preset.name} out for other labels")


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


_PRESET_TEXT = {
    "letor": "LETOR 3.0/4.0 script: gain 2^rel - 1 (labels 0-2), positions 1-2 undiscounted then 1/log2(r), "
             "NDCG@k = 0 for queries with fewer than k documents",
    "lightgbm": "LightGBM's ndcg/map: gain exp2 (2^rel - 1, integer labels 0-30)",
    "ranklib": "RankLib's scorers: gain exp2 (2^rel - 1, integer labels 0-30)",
}


def _denominators(preset: Preset, cut: set[str] | None) -> list[str]:
    """The clauses on the P@k and MAP@k denominators (and RankLib's single-precision RR).

    ``cut``: the metric families asked for with a cutoff (``{"p", "map"}``), plus ``"mrr"`` when it was asked
    for at all; None when unknown. A preset's own rule is stated unless the metrics are known not to use it;
    trec_eval's (the default) only when the metrics use it, since that is where the numbers differ from another
    tool's.
    """
    parts = []
    if preset.p_at_k == "min_k_n":
        if cut is None or "p" in cut:
            parts.append("p@k divides by min(k, n) for a query of n documents (RankLib; trec_eval divides by k)")
    elif cut is not None and "p" in cut:
        parts.append("p@k divides by k, also for queries shorter than k (trec_eval's P_k; RankLib divides by "
                     "min(k, n))")
    if preset.map_at_k == "min_k_relevant":
        if cut is None or "map" in cut:
            parts.append("map@k divides by min(k, R), R the query's relevant documents (LightGBM; trec_eval "
                         "divides by R)")
    elif preset.map_at_k == "whole_list":
        if cut is None or "map" in cut:
            parts.append("map@k is AP over the whole list, k ignored (RankLib's MAP)")
    elif cut is not None and "map" in cut:
        parts.append("map@k divides by all R relevant documents of the query (trec_eval's map_cut_k; LightGBM "
                     "divides by min(k, R))")
    if preset.rr_single and (cut is None or "mrr" in cut):
        parts.append("RR in single precision (RankLib's 1.0f / rank)")
    return parts


def describe_conventions(
    *,
    source: str = "letor",
    convention: str = "default",
    gain: str | None = None,
    no_relevant: float = 0.0,
    ties: str = "stable",
    rel_threshold: float = 1.0,
    complete: bool = False,
    n_queries: int | Mapping[str, int] | None = None,
    max_grade: float = 4.0,
    metrics: str | Sequence[str] | None = None,
    max_docs: int | None = None,
) -> str:
    """One line saying which conventions a table of metrics used, for printing under the table.

    Parameters
    ----------
    source : {"letor", "trec"}, default="letor"
        ``"letor"``: arrays of labels and scores (:func:`ltr.metrics.evaluate`); ``"trec"``: a run against qrels
        (:func:`ltr.metrics.evaluate_run`, trec_eval's order and judged set).
    convention : {"default", "letor", "lightgbm", "ranklib"}, default="default"
        A preset: its fixed values replace ``gain``, ``ties``, ``no_relevant`` and ``rel_threshold`` where those are
        left at the toolkit's defaults (as :func:`resolve_convention`), and its rules are named.
    gain : {"exp2", "linear"} or None
        None: the default of ``source`` (``"exp2"`` for arrays, ``"linear"`` for runs).
    no_relevant, ties, rel_threshold
        As passed to the metric functions (``ties`` only applies to arrays).
    complete : bool, default=False
        Runs only: trec_eval's ``-c`` (judged queries missing from the run averaged in as 0).
    n_queries : int, mapping of str to int, or None
        How many queries the means are over; omitted when None. A mapping gives each metric's count (they differ
        when ``no_relevant`` is nan: DCG keeps the queries that NDCG leaves out, and the binary metrics leave out
        those without a label >= ``rel_threshold``): the first metric's count, and the others that differ from it
        (``105 queries averaged (156 in dcg@10)``).
    max_grade : float, default=4.0
        ERR's highest grade, named when it is not the default 4, and whenever ``metrics`` has ERR (the default 4
        on data graded 0-2, MQ2008's, gives another ERR than its own grade 2).
    metrics : str or sequence of str, optional
        The metrics of the table. With them, the denominators of ``p@k`` and ``map@k`` are stated when the table
        has such a metric (they are where trec_eval, LightGBM and RankLib differ); without them, only a preset's
        own denominators are stated.
    max_docs : int, optional
        Runs only: trec_eval's ``-M`` (each query's first ``max_docs`` documents evaluated).

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
    >>> print(describe_conventions(convention="lightgbm", metrics=["ndcg@10", "map@10"]))
    LightGBM's ndcg/map: gain exp2 (2^rel - 1, integer labels 0-30); queries without relevant documents score 1
    in ndcg and map, 0 in the other metrics; map@k divides by min(k, R), R the query's relevant documents
    (LightGBM; trec_eval divides by R); equal scores in input order
    """
    if source not in ("letor", "trec"):
        raise ValueError(f"source must be 'letor' or 'trec', got {source!r}")
    preset = _check_name(convention)
    cut = None
    if metrics is not None:
        from ltr.metrics.registry import parse_metrics

        parsed = parse_metrics(metrics)
        cut = {p.spec.name for p in parsed if p.k is not None} | {p.spec.name for p in parsed if p.spec.name == "mrr"}
    chosen = {"no_relevant": no_relevant, "ties": ties, "rel_threshold": rel_threshold}
    if gain is not None:
        chosen["gain"] = gain
    rules = resolve_convention(convention, **chosen)
    parts = []
    if convention in _PRESET_TEXT:
        parts.append(_PRESET_TEXT[convention])
    else:
        gain = gain if gain is not None else ("exp2" if source == "letor" else "linear")
        if gain not in _GAIN_TEXT:
            raise ValueError(f"gain must be one of {sorted(_GAIN_TEXT)}, got {gain!r}")
        parts.append(_GAIN_TEXT[gain])
    if math.isnan(rules.no_relevant):
        dcg = metrics is not None and "dcg" in {p.spec.name for p in parsed}
        parts.append("queries without relevant documents left out of the means" +
                     (" (but DCG's, which is 0 for them)" if dcg else ""))
    elif preset.no_relevant_kernels is not None and rules.no_relevant != 0.0:
        parts.append(f"queries without relevant documents score {rules.no_relevant:g} in ndcg and map, 0 in the "
                     "other metrics")
    else:
        parts.append(f"queries without relevant documents score {rules.no_relevant:g}")
    if rules.rel_threshold != 1.0:
        parts.append(f"relevant: label >= {rules.rel_threshold:g}")
    has_err = metrics is not None and "err" in {p.spec.name for p in parsed}
    if float(max_grade) != 4.0 or has_err:  # a table of ERR says its grade: 4 on 0-2 labels is ERR of other data
        parts.append(f"ERR's highest grade {float(max_grade):g}")
    parts.extend(_denominators(preset, cut))
    if source == "trec":
        parts.append("trec_eval order (score, then docno descending)")
        if max_docs is not None:
            parts.append(f"each query's first {int(max_docs)} documents (trec_eval -M)")
        if complete:
            parts.append("judged queries missing from the run score 0 (trec_eval -c)")
        else:
            parts.append("judged queries missing from the run left out")
    else:
        if rules.ties not in _TIES_TEXT:
            raise ValueError(f"ties must be one of {sorted(_TIES_TEXT)}, got {rules.ties!r}")
        parts.append(_TIES_TEXT[rules.ties])
    if isinstance(n_queries, Mapping) and len(set(n_queries.values())) == 1:
        n_queries = next(iter(n_queries.values()))
    if isinstance(n_queries, Mapping):  # --no-relevant nan, or -l 2: metrics that leave out other queries
        first, *_ = n_queries.values()
        others = ", ".join(f"{int(n)} in {m}" for m, n in n_queries.items() if n != first)
        parts.append(f"{int(first)} {'query' if int(first) == 1 else 'queries'} averaged ({others})")
    elif n_queries is not None:
        parts.append(f"{int(n_queries)} {'query' if int(n_queries) == 1 else 'queries'} averaged")
    return "; ".join(parts)
