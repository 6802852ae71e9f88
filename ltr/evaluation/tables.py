"""Render comparisons and CV results as terminal tables, Markdown, LaTeX, CSV and JSON.

Two layouts for a :class:`~ltr.evaluation.Comparison`:

- ``"long"``: one line per (system, metric) with the mean, the difference from the baseline (absolute and
  relative), win/tie/loss counts, the effect size and the adjusted p-value of every test;
- ``"wide"``: systems x metrics, the best mean of each metric in bold, and ``*`` on a mean that differs
  significantly from the baseline's under the first test, with a footnote saying which test, which correction and
  which alpha.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from ltr._table import format_csv, format_markdown, format_table

if TYPE_CHECKING:  # never at run time: the records module imports this one
    from ltr.evaluation.results import Comparison, CVResult

__all__ = [
    "FORMATS",
    "comparison_footnote",
    "format_comparison",
    "format_cv",
    "latex_escape",
    "long_rows",
    "wide_cells",
    "wide_csv",
]

FORMATS = ("table", "markdown", "latex", "csv", "json")
_TEST_LABEL = {"t": "paired t", "wilcoxon": "Wilcoxon signed-rank", "randomization": "Fisher randomisation"}


def latex_escape(text: str) -> str:
    r"""Escape LaTeX's special characters.

    Examples
    --------
    >>> latex_escape("lambda_mart & 50%")
    'lambda\\_mart \\& 50\\%'
    """
    out = []
    for ch in str(text):
        if ch in "&%$#_{}":
            out.append("\\" + ch)
        elif ch == "~":
            out.append(r"\textasciitilde{}")
        elif ch == "^":
            out.append(r"\textasciicircum{}")
        elif ch == "\\":
            out.append(r"\textbackslash{}")
        else:
            out.append(ch)
    return "".join(out)


def _p(p: float) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _num(v: float, digits: int) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}f}"


def long_rows(c: Comparison, digits: int, raw: bool) -> tuple[list[str], list[list[Any]]]:
    # raw (CSV) cells are numbers: the relative delta as a fraction, so its column says so
    # the p-values shown are the corrected ones (the JSON holds both): the header says which correction
    corrected = {"holm": "Holm ", "bonferroni": "Bonferroni "}.get(c.correction, "")
    header = ["system", "metric", "mean", "delta", "relative delta" if raw else "delta %", "W/T/L", "d",
              *[f"{corrected}p({t})" for t in c.tests], "sig"]
    rows: list[list[Any]] = []
    for m in c.metrics:
        base = c.mean(c.baseline, m)
        rows.append([c.baseline + " (baseline)", m, base if raw else _num(base, digits), "", "", "", "",
                     *[""] * len(c.tests), ""])
        for n in c.systems:
            if n == c.baseline:
                continue
            r = c.row(n, m)
            pvals = [r["tests"][t]["pvalue_adjusted"] for t in c.tests]
            sig = "*" if r["tests"][c.tests[0]]["significant"] else ""
            if raw:
                rows.append([n, m, r["mean"], r["delta"], r["relative"], f'{r["wins"]}/{r["ties"]}/{r["losses"]}',
                             r["effect_size"], *pvals, sig])
            else:
                rel = "" if math.isnan(r["relative"]) else f'{100 * r["relative"]:+.1f}%'
                rows.append([n, m, _num(r["mean"], digits), f'{r["delta"]:+.{digits}f}', rel,
                             f'{r["wins"]}/{r["ties"]}/{r["losses"]}', _num(r["effect_size"], 2),
                             *[_p(p) for p in pvals], sig])
    return header, rows


def _queries_shown(queries: list[str]) -> str:
    shown = ", ".join(queries[:10]) + (f" and {len(queries) - 10} more" if len(queries) > 10 else "")
    return f"quer{'y' if len(queries) == 1 else 'ies'} {shown}"


def comparison_footnote(c: Comparison, layout: str = "wide") -> str:
    """What the table's marks and numbers are: the test, correction and alpha behind ``*``, the queries, the tests'
    settings, caveats and metric conventions; in the ``"long"`` layout, also what its ``d`` column is."""
    m = len(c.systems) - 1
    corr = {"holm": "Holm-adjusted", "bonferroni": "Bonferroni-adjusted", "none": "unadjusted"}[c.correction]
    test = _TEST_LABEL[c.tests[0]]
    extra = f", {c.n_permutations} permutations, seed {c.seed}" if c.tests[0] == "randomization" else ""
    note = (f"* differs from {c.baseline} (two-sided {test} test{extra}; {corr} p < {c.alpha:g} over the {m} "
            f"comparison{'s' if m != 1 else ''} per metric); {len(c.qids)} queries"
            f"{', less those a metric leaves out (below)' if c.left_out else ''}.")
    if layout == "long":  # (read as the pooled-SD Cohen's d, usually smaller: trial t65)
        note += (" d: the paired effect size, the mean of the per-query differences over their standard deviation "
                 "(Cohen's d_z).")
    if c.dropped:  # {system: its queries left out, which another system lacks}
        lacks = "; ".join(f"{name} lacks {_queries_shown(q)}" for name, q in c.lacking().items())
        note += f" Evaluated on the common queries only ({lacks}: left out of every system's tests)."
    if len(c.tests) > 1 or c.tests[0] != "t":  # every test's settings, so that its p-values can be reproduced
        from ltr.evaluation.significance import TIE_TOL

        n = c.n_permutations
        tol = c.extra.get("tie_tol", TIE_TOL)  # None: a result written before the rule was recorded
        said = {"t": "paired t (SciPy's ttest_rel)",
                "wilcoxon": (f"Wilcoxon signed-rank (SciPy's wilcoxon; differences within {tol:g} of 0 dropped, "
                             f"magnitudes within {tol:g} of each other tied)") if tol is not None else
                            ("Wilcoxon signed-rank (SciPy's wilcoxon, as the ltrkit that wrote the result ran it, "
                             "which did not record its rule for zeros and ties; ltr compare of its inputs gives "
                             f"today's: differences within {TIE_TOL:g} of 0 dropped, magnitudes within {TIE_TOL:g} "
                             "tied)"),
                "randomization": f"Fisher randomisation of the absolute mean difference (every sign assignment "
                                 f"when 2^n <= {n}, else {n} drawn with seed {c.seed} and p = (count + 1) / {n + 1}, "
                                 f"never below 1/{n + 1})"}
        note += " Tests: " + "; ".join(said[t] for t in c.tests) + "."
    for caveat in c.notes:
        note += f" Caveat: {caveat}."
    if c.left_out:
        listing = ", ".join(f"{m} {len(q)}" for m, q in c.left_out.items())
        note += (f" Queries without a value in any system (no relevant document) left out of that metric's tests "
                 f"and means: {listing}.")
    conv = c.extra.get("conventions") or {}
    if conv.get("gain") is not None or conv.get("no_relevant") is not None:
        from ltr.metrics import describe_conventions

        source = "trec" if conv.get("source") == "trec runs" else "letor"
        no_relevant = conv.get("no_relevant", 0.0)
        no_relevant = math.nan if no_relevant is None else no_relevant  # a result file's strict JSON null
        note += " Metrics: " + describe_conventions(source=source, gain=conv.get("gain"),
                                                    no_relevant=no_relevant,
                                                    convention=conv.get("convention", "default"),
                                                    max_grade=conv.get("max_grade", 4.0),
                                                    rel_threshold=conv.get("rel_threshold", 1.0),
                                                    complete=bool(conv.get("complete", False))) + "."
    return note


def wide_cells(c: Comparison, digits: int, bold, star) -> tuple[list[str], list[list[str]]]:
    header = ["system", *c.metrics]
    best = {m: max(c.mean(n, m) for n in c.systems) for m in c.metrics}
    rows = []
    for n in c.systems:
        cells = [n + (" (baseline)" if n == c.baseline else "")]
        for m in c.metrics:
            v = c.mean(n, m)
            text = _num(v, digits)
            if v == best[m] and len(c.systems) > 1:
                text = bold(text)
            if n != c.baseline and c.row(n, m)["tests"][c.tests[0]]["significant"]:
                text += star
            cells.append(text)
        rows.append(cells)
    return header, rows


def wide_csv(c: Comparison) -> tuple[list[str], list[list[Any]]]:
    """The wide layout as CSV: a row per system, by its name alone (a program looks rows up by it), and per metric
    its mean, the first test's corrected p-value against the baseline and ``*`` where it is significant (the
    baseline's own left blank)."""
    corrected = {"holm": "Holm ", "bonferroni": "Bonferroni "}.get(c.correction, "")
    test = c.tests[0]
    header = ["system", *[x for m in c.metrics for x in (m, f"{m} {corrected}p({test})", f"{m} sig")]]
    rows: list[list[Any]] = []
    for n in c.systems:
        cells: list[Any] = [n]
        for m in c.metrics:
            if n == c.baseline:
                cells += [c.mean(n, m), "", ""]
            else:
                t = c.row(n, m)["tests"][test]
                cells += [c.mean(n, m), t["pvalue_adjusted"], "*" if t["significant"] else ""]
        rows.append(cells)
    return header, rows


def format_comparison(c: Comparison, fmt: str = "table", *, layout: str | None = None, digits: int = 4) -> str:
    """Render a comparison; see the module docstring for the layouts.

    Parameters
    ----------
    c : Comparison
        What :func:`~ltr.evaluation.compare` (or ``compare_runs``, ``compare_models``, ``compare_cv``) returned.
    fmt : {"table", "markdown", "latex", "csv", "json"}
    layout : {"long", "wide"}, optional
        Default: long for table and csv, wide for Markdown and LaTeX (JSON holds everything).
    digits : int, default=4
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {list(FORMATS)}")
    if fmt == "json":
        return json.dumps(c.to_dict(), indent=2, allow_nan=True)
    layout = layout or ("wide" if fmt in ("markdown", "latex") else "long")
    if layout not in ("long", "wide"):
        raise ValueError(f"layout must be 'long' or 'wide', got {layout!r}")
    if fmt == "csv":
        if layout == "long":
            header, rows = long_rows(c, digits, raw=True)
        else:  # numbers for programs, with the first test's p-value and mark of each metric (the means alone
            header, rows = wide_csv(c)  # said nothing of significance, while the note spoke of a *: trial t65)
        return format_csv(header, rows)
    if fmt == "table":
        if layout == "long":
            header, rows = long_rows(c, digits, raw=False)
        else:
            header, rows = wide_cells(c, digits, lambda s: s, "*")
        return format_table(header, rows) + "\n" + comparison_footnote(c, layout)
    if fmt == "markdown":
        if layout == "long":
            header, rows = long_rows(c, digits, raw=False)
        else:
            header, rows = wide_cells(c, digits, lambda s: f"**{s}**", "\\*")
        return format_markdown(header, rows) + "\n\n" + comparison_footnote(c, layout).replace("*", "\\*", 1)
    # LaTeX (booktabs)
    if layout == "long":
        header, rows = long_rows(c, digits, raw=False)
        rows = [[latex_escape(x) for x in r] for r in rows]
    else:
        header, rows = wide_cells(c, digits, lambda s: f"\\textbf{{{s}}}", "$^{*}$")
        rows = [[latex_escape(r[0]), *r[1:]] for r in rows]
    spec = "l" * (2 if layout == "long" else 1) + "r" * (len(header) - (2 if layout == "long" else 1))
    lines = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule", " & ".join(latex_escape(h) for h in header) + " \\\\",
             "\\midrule"]
    lines += [" & ".join(str(x) for x in r) + " \\\\" for r in rows]
    lines += ["\\bottomrule", "\\end{tabular}", "% " + comparison_footnote(c, layout)]
    return "\n".join(lines)


def format_cv(result: CVResult, fmt: str = "table") -> str:
    """Per-fold metrics with mean and std rows: ``"table"``, ``"markdown"``, ``"latex"``, ``"csv"`` or ``"json"``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {list(FORMATS)}")
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2)
    header, rows = result.summary_rows(blank="" if fmt == "csv" else "-", for_programs=fmt == "csv")
    if fmt == "csv":
        return format_csv(header, rows)
    if fmt == "table":
        return format_table(header, rows)
    cells = [[r[0], *[f"{v:.4f}" if isinstance(v, float) else str(v) for v in r[1:]]] for r in rows]
    if fmt == "markdown":
        return format_markdown(header, cells)
    lines = [f"\\begin{{tabular}}{{l{'r' * (len(header) - 1)}}}", "\\toprule",
             " & ".join(latex_escape(h) for h in header) + " \\\\", "\\midrule"]
    lines += [" & ".join(latex_escape(x) for x in r) + " \\\\" for r in cells]
    return "\n".join(lines + ["\\bottomrule", "\\end{tabular}"])
