"""Reports rendered from a result file (:mod:`ltr.evaluation.results`): PNG figures, HTML, Markdown.

:func:`render_report` turns a ``ltr cv --out`` or ``ltr compare --out`` result into PNG figures
(:mod:`ltr.evaluation.plots`), one self-contained HTML page (figures embedded as base64 ``data:`` URIs, no external
resource; a small script checks on load that every image decoded and that no script error occurred, and writes the
outcome into ``#ltr-status``) and a Markdown variant that links the PNG files.

The user's text (a title, system, data file and feature names) is text in every format: escaped in HTML and
Markdown (:func:`_md_text`), and a file name's bytes that are not UTF-8 (Python's lone surrogates for them) are shown
as U+FFFD in the figures, the HTML and the Markdown alike (:func:`ltr.evaluation.plots.valid_text`).
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ltr.datasets import RankingDataset, dataset_summary
from ltr.evaluation import plots
from ltr.evaluation.results import Comparison, CVResult, check_result, comparison_from_dict, read_result
from ltr.evaluation.tables import comparison_footnote, long_rows, wide_cells

__all__ = ["render_html", "render_markdown", "render_report", "result_figures"]


# -- figures ------------------------------------------------------------------------------------------------------
def _slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in str(text).lower()).strip("-")
    while "--" in out:
        out = out.replace("--", "-")
    return out or "x"


def _own_test_queries(s: Mapping[str, Any]) -> int | None:
    """How many test queries a system's own folds hold (None without folds)."""
    folds = s.get("folds") or []
    return sum(len(f.get("qids") or ()) for f in folds) if folds else None


def _own_queries_differ(d: Mapping[str, Any]) -> bool:
    """Whether a comparison pairs fewer queries than some system's folds hold (``--intersection``)."""
    n = len(d.get("qids") or ())
    return any(_own_test_queries(s) not in (None, n) for s in d["systems"])


def result_figures(d: Mapping[str, Any], *, datasets: Sequence[Mapping[str, Any]] = (),
                   size: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """The figures a result supports: ``[{"id", "title", "caption", "png"}]`` (PNG bytes). A data set of
    ``datasets`` whose figures the result's own data sets already give (the same rows, queries and labels: the
    result's data file given again) is plotted once, under the name given last."""
    kw = {} if size is None else {"size": size}
    figs: list[dict[str, Any]] = []
    systems = d["systems"]
    metrics = list(d["metrics"])
    curves = {s["name"]: s["curve"] for s in systems if s.get("curve")}
    if curves and not _own_queries_differ(d):  # (each curve is over its system's own queries: not drawn together
        # when a comparison pairs fewer of them, as compare --intersection does, or one would be ranked over another
        # set than the tables beside it)
        figs.append({"id": "ndcg-at-k", "title": "NDCG@k, k = 1..20",
                     "caption": "Mean NDCG@k for each system over its test queries (of cross-validated results: "
                                "the mean over folds of each fold's mean).",
                     "png": plots.ndcg_curves(curves, **kw)})
    base = d.get("baseline")
    if base is not None and metrics:
        m = metrics[0]
        b = np.asarray(next(s for s in systems if s["name"] == base)["per_query"][m], dtype=np.float64)
        for s in systems:
            if s["name"] == base:
                continue
            delta = np.asarray(s["per_query"][m], dtype=np.float64) - b
            delta = delta[~np.isnan(delta)]  # queries without a value in any system (no relevant document)
            figs.append({"id": f"delta-{_slug(s['name'])}", "title": f"Per-query {m}: {s['name']} - {base}",
                         "caption": "Queries sorted by the difference; bars above zero are queries the system wins.",
                         "png": plots.query_deltas(delta, system=s["name"], baseline=base, metric=m, **kw)})
    for s in systems:
        evals = {f["name"]: f["evals"] for f in s.get("folds") or [] if f.get("evals")}
        if evals:
            first = next(iter(next(iter(evals.values())).values()))
            metric = next(iter(first))
            parts = {part for fold in evals.values() for part in fold}
            caption = "; ".join([*(["solid: validation part"] if parts - {"train"} else []),
                                 *(["dashed: training part"] if "train" in parts else []), "one colour per fold."])
            # A linear model records a value per coordinate-ascent pass, its restarts one after another.
            step, xlabel = (("coordinate-ascent pass", "coordinate-ascent pass (restarts one after another)")
                            if _is_linear(s) else ("boosting round", "boosting round"))
            figs.append({"id": f"rounds-{_slug(s['name'])}", "title": f"{s['name']}: {metric} per {step}",
                         "caption": caption[:1].upper() + caption[1:],
                         "png": plots.training_curves(evals, metric=metric, title=f"{s['name']}: {metric} per {step}",
                                                      xlabel=xlabel, **kw)})
    for s in systems:
        imp = s.get("importance")
        if imp and imp.get("gain") and any(v for v in imp["gain"]):
            names = s.get("feature_names") or [str(j + 1) for j in range(len(imp["gain"]))]
            if _is_linear(s):  # its "gain" is |w_j| * scale_j (ltr.rankers.linear.LinearModel.importances): no split
                kind = "|weight| x std"
                figs.append({"id": f"weights-{_slug(s['name'])}", "title": f"{s['name']}: feature weights",
                             "caption": "Absolute weight of each feature (on the features after the ranker's "
                                        "normalize) times the feature's standard deviation on the training part "
                                        "(times 1 with engine_params standardize false): how far the feature moves "
                                        "the score; mean over folds.",
                             "png": plots.feature_importance(names, imp["gain"], kind=kind, what="feature weights",
                                                             **kw)})
                continue
            figs.append({"id": f"importance-{_slug(s['name'])}", "title": f"{s['name']}: feature importance (gain)",
                         "caption": "Total split gain per feature, mean over folds.",
                         "png": plots.feature_importance(names, imp["gain"], kind="gain", **kw)})
    drawn: dict[str, Mapping[str, Any]] = {}  # one entry a data set, named as given last (a --data file's name)
    for ds in [*(d.get("datasets") or []), *datasets]:
        alike = json.dumps([ds.get(k) for k in ("n_rows", "n_queries", "label_counts", "rows_per_query")],
                           sort_keys=True, default=str)  # (label keys: numbers here, strings once saved as JSON)
        drawn[alike] = ds
    for ds in drawn.values():
        name = ds.get("name", "data")
        figs.append({"id": f"labels-{_slug(name)}", "title": f"{name}: label distribution",
                     "caption": f"{ds['n_rows']} rows in {ds['n_queries']} queries.",
                     "png": plots.label_distribution(ds["label_counts"], title=f"{name}: labels", **kw)})
        figs.append({"id": f"sizes-{_slug(name)}", "title": f"{name}: rows per query",
                     "caption": "Number of documents per query.",
                     "png": plots.rows_per_query(ds["rows_per_query"], title=name, **kw)})
    # Two datasets or systems whose names slug alike would overwrite each other's PNG: number the repeats.
    seen: dict[str, int] = {}
    for f in figs:
        n = seen[f["id"]] = seen.get(f["id"], 0) + 1
        if n > 1:
            f["id"] = f"{f['id']}-{n}"
    return figs


# -- tables -------------------------------------------------------------------------------------------------------
# What the p columns of a comparison hold, by its multiple-comparison correction (ltr.evaluation.significance).
# The family adjusted is one (metric, test): the systems compared with the baseline (ltr.evaluation.compare).
_P_SAID = {"holm": "Holm-adjusted p-values (Holm 1979) over the systems compared with the baseline, per metric and "
                   "test",
           "bonferroni": "Bonferroni-adjusted p-values over the systems compared with the baseline, per metric and "
                         "test",
           "none": "unadjusted p-values (no correction for multiple comparisons)"}


#: The marks around a table's best value (bold in HTML and Markdown): characters of Unicode's private use area, which
#: no system name or number holds, so that a name holding "<b>" is not taken for one.
_BOLD = ("\ue000", "\ue001")


def _tables(d: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(title, header, rows, note) for the report, from the result dict."""
    out = []
    metrics = list(d["metrics"])
    if d["kind"] == "compare":
        c = comparison_from_dict(d)
        header, rows = wide_cells(c, 4, lambda s: f"{_BOLD[0]}{s}{_BOLD[1]}", "*")
        # A comparison's mean weighs every query once; a cross-validation table's (ltr cv, ltr tune) averages the
        # folds' means (LETOR's convention): with folds of unequal size the two differ, so each table says which.
        per_fold = any(s.get("folds") for s in d["systems"])
        fewer = _own_queries_differ(d)
        averaged = ("Means over the paired test queries, each query weighing once" + (
            " (the Cross-validation tables below give the mean of the folds' means over each system's own test "
            "queries, of which the comparison pairs fewer: the NDCG@k figure, over those, is left out)." if fewer else
            " (the Cross-validation tables below give the mean of the folds' means, which differs when the folds "
            "hold different numbers of queries)." if per_fold else "."))
        out.append(("Summary", header, rows, f"{comparison_footnote(c)} {averaged}"))
        header, rows = long_rows(c, 4, raw=False)
        # the p columns hold the comparison's corrected p-values (its header names the correction): so does the note
        p_said = _P_SAID[c.correction]
        out.append(("Differences from the baseline", header, rows,
                    "delta: mean difference, over the paired test queries as every mean here (each query "
                    f"weighing once); W/T/L: queries won/tied/lost; d: paired Cohen's d; p: {p_said}."))
    for s in d["systems"]:
        folds = s.get("folds") or []
        if folds:
            header = ["fold", *metrics, "passes" if _is_linear(s) else "rounds", "seconds"]
            rows = [[f["name"], *[_fmt(f["metrics"].get(m)) for m in metrics], str(f.get("rounds", "")),
                     f"{f.get('seconds', 0):.2f}"] for f in folds]
            # Beside the std over folds, the mean of the fold means (as ltr cv prints it), whether the system comes
            # from a cv result or from a comparison, whose own means weigh every query once.
            rows.append(["mean", *[_fmt(_fold_mean(folds, m)) for m in metrics], "", ""])
            if s.get("std"):
                rows.append(["std", *[_fmt(s["std"].get(m)) for m in metrics], "", ""])
            own = _own_test_queries(s)
            paired = (f" (the comparison above pairs {len(d['qids'])} of them)" if own != len(d["qids"]) else "")
            out.append((f"Cross-validation: {s['name']}", header, rows,
                        f"{own} test queries in all{paired}; mean and std over the {len(folds)} folds' means."))
        tuning = _tuning_of(d, s)
        where = "the Tuning table" if d["kind"] == "cv" else f"the table Tuning: {s['name']}"
        if s.get("params") or s.get("preset_params"):
            params, searched = _fixed_and_searched(s.get("params") or {}, tuning, folds)
            if _is_linear(s):
                rows = _linear_rows(params, {r[0] for r in searched})
                note = ("trained with: the settings of coordinate ascent (ltr.rankers.linear), its defaults where "
                        "engine_params gave none; given: the objective as given, where the metric optimised "
                        "differs; the tree parameters, which a linear model does not use, are left out.")
            else:
                rows = _param_rows(params, s.get("preset_params") or {})
                note = ("trained with: the values the folds were fitted with, after the small-data preset "
                        "(ltr.rankers.presets) set those left at their defaults; given: the value before the "
                        "preset, where it differs.")
                settings = s.get("settings") or {}
                if settings.get("validation") is False or "tuning" in settings:  # (ltr cv --no-vali, ltr tune)
                    for r in rows:  # a value no fold could use: not 'trained with' it (trial t60)
                        if r[0] == "early_stopping_rounds" and r[1] not in ("null", ""):
                            r[1], r[2] = "not used: no validation part", r[2] or r[1]
            if searched:
                note += (f" per fold: a searched parameter, set in each outer fold to the value its inner folds "
                         f"chose ({where}); the other parameters are the fixed ones of every trial.")
            rows = sorted([*rows, *searched], key=lambda r: r[0])
            out.append((f"Parameters: {s['name']}", ["parameter", "trained with", "given"], rows, note))
    for s in d["systems"]:
        tuning = _tuning_of(d, s)
        if tuning and tuning.get("best_params"):  # an ltr tune result: what each outer fold's inner folds chose
            title = "Tuning: the parameters chosen in each outer fold" if d["kind"] == "cv" else \
                f"Tuning: {s['name']}: the parameters chosen in each outer fold"
            out.append(_tuning_table(title, tuning, s.get("folds") or []))
    return out


def _tuning_of(d: Mapping[str, Any], s: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``settings.tuning`` of an ``ltr tune`` system: in a cv result the file's settings, in a comparison the
    system's own (copied from its result file); None for any other system."""
    tuning = (s.get("settings") or {}).get("tuning")
    if tuning is None and d["kind"] == "cv":
        tuning = (d.get("settings") or {}).get("tuning")
    return tuning if tuning and tuning.get("best_params") else None


def _fold_names(tuning: Mapping[str, Any], folds: Sequence[Mapping[str, Any]]) -> list[str]:
    return [f["name"] for f in folds] or [f"Fold{i + 1}" for i in range(len(tuning["best_params"]))]


def _tuning_table(title: str, tuning: Mapping[str, Any], folds: Sequence[Mapping[str, Any]]):
    names = _fold_names(tuning, folds)
    keys = sorted({k for p in tuning["best_params"] for k in p})
    runs = tuning.get("trials_run") or [tuning.get("n_trials")] * len(names)
    rows = [[name, _fmt(inner), str(n), *[_value(p.get(k, "")) for k in keys]]
            for name, inner, n, p in zip(names, tuning.get("best_inner") or [], runs, tuning["best_params"])]
    return (title, ["fold", f"inner {tuning['metric']}", "trials", *keys], rows,
            f"chosen by {tuning.get('inner_folds')} inner folds on {tuning['metric']} among the trials of each outer "
            "fold's training part; the fold rows above test each choice once.")


def _fixed_and_searched(params: Mapping[str, Any], tuning: Mapping[str, Any] | None,
                        folds: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], list[list[str]]]:
    """``params`` without the parameters an ``ltr tune`` search set per outer fold, and a row for each of those
    (its name in the space: ``num_leaves``, ``engine_params.bagging_by_query``) with the value every fold chose.
    The base ranker's value of a searched parameter, which no fold was fitted with (result files written before
    the result recorded ``{"per_fold": ...}`` there), is left out too."""
    if tuning is None:
        return dict(params), []
    names = _fold_names(tuning, folds)
    keys = sorted({k for p in tuning["best_params"] for k in p})
    fixed = {k: v for k, v in params.items() if k not in keys}
    engine = fixed.get("engine_params")
    if isinstance(engine, Mapping):
        left = {k: v for k, v in engine.items() if f"engine_params.{k}" not in keys}
        fixed["engine_params"] = left or None
    rows = [[k, _per_fold({n: p.get(k) for n, p in zip(names, tuning["best_params"]) if k in p}), ""]
            for k in keys]
    return fixed, rows


def _per_fold(values: Mapping[str, Any]) -> str:
    return "per fold: " + "; ".join(f"{fold}: {_value(v)}" for fold, v in values.items())


def _param_rows(params: Mapping[str, Any], preset: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for key in sorted({*params, *preset}):
        given = params.get(key)
        if isinstance(given, Mapping) and set(given) == {"per_fold"} and key not in preset:  # set per fold (tuned)
            rows.append([key, _per_fold(given["per_fold"]), ""])
            continue
        if key not in preset:
            rows.append([key, _value(given), ""])
            continue
        applied = preset[key]
        if isinstance(applied, Mapping) and set(applied) == {"per_fold"}:  # the folds got different values
            shown = "; ".join(f"{fold}: {_value(_over(key, v, given))}" for fold, v in applied["per_fold"].items())
            shown += f"; other folds: {_value(given)}" if key in params else ""
        else:
            shown = _value(_over(key, applied, given))
        rows.append([key, shown, _value(given)])
    return rows


def _is_linear(s: Mapping[str, Any]) -> bool:
    """Whether a system is a ``Ranker(engine="linear")`` (coordinate ascent: weights, no trees)."""
    return isinstance(s.get("params"), Mapping) and s["params"].get("engine") == "linear"


# Ranker parameters a linear model never uses: the trees' (refused by engine="linear" unless left at their
# defaults, ltr.rankers.linear.check_ranker), early stopping, the small-data preset (it sets tree parameters only),
# the gradient kernel and objective_params (refused) and LightGBM's dataset cache (refused).
_NOT_LINEAR = frozenset({"n_estimators", "learning_rate", "num_leaves", "max_depth", "min_child_samples",
                         "subsample", "colsample_bytree", "reg_lambda", "early_stopping_rounds",
                         "early_stopping_metric", "preset", "preset_keep", "kernel", "objective_params",
                         "dataset_cache"})


def _linear_rows(params: Mapping[str, Any], searched: set[str]) -> list[list[str]]:
    """A linear ranker's parameter rows: each coordinate-ascent setting as ``engine_params.<name>`` (the value
    given, else its default in :data:`ltr.rankers.linear.DEFAULTS`) but those searched per fold (``searched``),
    the metric it optimises as ``objective`` (``lambdarank`` means NDCG@10), and the Ranker's other parameters that
    it uses."""
    from ltr.rankers.linear import DEFAULTS, linear_objective

    shown = {k: v for k, v in params.items() if k not in _NOT_LINEAR and k != "engine_params"}
    engine = params.get("engine_params")
    if isinstance(engine, Mapping) and set(engine) == {"per_fold"}:  # a value per fold: shown as recorded
        shown["engine_params"] = engine
    else:
        given = dict(engine) if isinstance(engine, Mapping) else {}
        for key, default in {**DEFAULTS, **given}.items():
            if f"engine_params.{key}" not in searched:
                shown[f"engine_params.{key}"] = given.get(key, default)
    objective = shown.get("objective")
    metric = objective
    if isinstance(objective, str):
        with contextlib.suppress(ValueError):
            metric = linear_objective(objective)
        shown["objective"] = metric
    rows = _param_rows(shown, {})
    for r in rows:
        if r[0] == "objective" and metric != objective:
            r[2] = _value(objective)
    return rows


def _over(key: str, applied: Any, given: Any) -> Any:
    """The value trained with: the preset's, or for ``engine_params`` its entries under the given ones."""
    if key == "engine_params" and isinstance(applied, Mapping):
        return {**applied, **dict(given or {})}
    return applied


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def _fold_mean(folds: Sequence[Mapping[str, Any]], metric: str) -> float | None:
    """The mean of the folds' means that are numbers (as :meth:`ltr.evaluation.CVResult.mean`: a fold without a
    query with a relevant document, under ``no_relevant=nan``, has none, written as null); None when none is."""
    values = [f["metrics"].get(metric) for f in folds]
    values = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.mean(values)) if values else None


def _fmt(v) -> str:
    return "" if v is None else f"{v:.4f}"


# -- rendering ----------------------------------------------------------------------------------------------------
_CHECK_SCRIPT = """
<script>
window.__ltrErrors = [];
window.addEventListener("error", function (e) {
  window.__ltrErrors.push(e.message ? String(e.message) : "resource failed: " + (e.target && e.target.src ?
    String(e.target.src).slice(0, 40) : e.type));
}, true);
(function () {
  var original = console.error;
  console.error = function () {
    window.__ltrErrors.push(Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
})();
window.addEventListener("load", function () {
  var images = document.images, broken = [];
  for (var i = 0; i < images.length; i++) {
    if (!images[i].complete || images[i].naturalWidth === 0) { broken.push(images[i].alt || String(i)); }
  }
  var status = document.getElementById("ltr-status");
  status.setAttribute("data-images", String(images.length));
  status.setAttribute("data-broken", String(broken.length));
  status.setAttribute("data-errors", String(window.__ltrErrors.length));
  status.textContent = (broken.length || window.__ltrErrors.length) ?
    "report check failed: broken images [" + broken.join(", ") + "]; errors [" + window.__ltrErrors.join("; ") + "]" :
    "report check ok: " + images.length + " images decoded, no script errors";
});
</script>
"""

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1000px;
padding:0 1em;color:#222}
img{max-width:100%;height:auto}
table{border-collapse:collapse;margin:0.5em 0 0.2em}th,td{padding:0.25em 0.7em;border-bottom:1px solid #ddd}
td{text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f4f4f4}
.note{color:#555;font-size:0.9em}figure{margin:1.5em 0}figcaption{color:#555;font-size:0.9em}
#ltr-status{color:#777;font-size:0.8em;margin-top:3em}
"""


def _title(d: Mapping[str, Any]) -> str:
    names = ", ".join(s["name"] for s in d["systems"])
    return f"ltrkit {'cross-validation' if d['kind'] == 'cv' else 'comparison'}: {names}"


def render_html(d: Mapping[str, Any], figures: list[dict[str, Any]], *, title: str | None = None,
                figures_note: str | None = None) -> str:
    """One self-contained HTML page (figures as base64 data URIs); ``figures_note``, when given, says under
    Figures why there are none (matplotlib missing)."""
    title = title or _title(d)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(title)}</title>", f"<style>{_CSS}</style>", _CHECK_SCRIPT, "</head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f'<p class="note">{html.escape(_meta_line(d))}</p>']
    for name, header, rows, note in _tables(d):
        parts.append(f"<h2>{html.escape(name)}</h2><table><thead><tr>"
                     + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead><tbody>")
        for r in rows:
            # Cells are plain text except the marks the summary table puts around the best value (a system's name
            # holding "<b>" is text like any other)
            cells = [html.escape(str(x)).replace(_BOLD[0], "<b>").replace(_BOLD[1], "</b>") for x in r]
            parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append(f'</tbody></table><p class="note">{html.escape(note)}</p>')
    if figures or figures_note:
        parts.append("<h2>Figures</h2>")
    if figures_note:
        parts.append(f'<p class="note">{html.escape(figures_note)}</p>')
    for f in figures:
        data = base64.b64encode(f["png"]).decode("ascii")
        parts.append(f'<figure id="{f["id"]}"><img alt="{html.escape(f["title"])}" '
                     f'src="data:image/png;base64,{data}"><figcaption>{html.escape(f["title"])}. '
                     f'{html.escape(f["caption"])}</figcaption></figure>')
    parts.append('<p id="ltr-status">report check pending</p></body></html>')
    return plots.valid_text("\n".join(parts) + "\n")  # (a name's bytes that are not UTF-8: U+FFFD, as drawn)


def _meta_line(d: Mapping[str, Any]) -> str:
    return (f"{d.get('kind')} result, {len(d['qids'])} test queries, metrics {', '.join(d['metrics'])}; "
            f"ltrkit {d.get('ltrkit_version', '?')}, created {d.get('created', '?')}.")


def render_markdown(d: Mapping[str, Any], figures: list[dict[str, Any]], figure_dir: str, *,
                    title: str | None = None, figures_note: str | None = None) -> str:
    """Markdown with the tables, linking the figures as ``figure_dir/<id>.png``; ``figures_note``, when given, says
    under Figures why there are none (matplotlib missing)."""
    lines = [f"# {_md_text(title or _title(d))}", "", _md_text(_meta_line(d)), ""]
    for name, header, rows, note in _tables(d):
        lines += [f"## {_md_text(name)}", "", "| " + " | ".join(_md_cell(h) for h in header) + " |",
                  "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
        for r in rows:
            lines.append("| " + " | ".join(_md_cell(x) for x in r) + " |")
        lines += ["", _md_text(note), ""]
    if figures_note:
        lines += ["## Figures", "", _md_text(figures_note), ""]
    for f in figures:
        lines += [f"## {_md_text(f['title'])}", "", f"![{_md_text(f['title'])}]({figure_dir}/{f['id']}.png)", "",
                  _md_text(f["caption"]), ""]
    return plots.valid_text("\n".join(lines))  # (a name's bytes that are not UTF-8: U+FFFD, as drawn)


#: Characters that make inline Markdown of plain text (emphasis, code, links and images, a backslash escape); not
#: ``_``, which parameter and feature names hold and which makes no emphasis inside a word (CommonMark), so the
#: Markdown keeps them readable as written.
_MD_INLINE = re.compile(r"([\\`*\[\]!])")


def _md_text(text: str) -> str:
    """Plain text as Markdown shows it: ``&``, ``<`` and ``>`` as HTML entities, which Markdown renderers show as
    the characters (a backslash before ``<`` is CommonMark's escape, not every renderer's), and the characters of
    inline Markdown backslash-escaped. A ``--title`` or a data file name holding ``<script>`` was written raw, for a
    viewer that renders inline HTML to run (trial t63), and one holding ``[x](http://e)`` became a link (review);
    report.html escapes the same texts."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_INLINE.sub(r"\\\1", text)


def _md_cell(x: Any) -> str:
    """A table cell: text (:func:`_md_text`) with ``*`` and ``|`` escaped, the best value's marks made bold."""
    return _md_text(x).replace(_BOLD[0], "**").replace(_BOLD[1], "**").replace("|", "\\|")


def _make_folder(path: Path, shown: str, what: str = "the folder") -> list[Path]:
    """Create the folder ``path`` and its missing parents; the folders created, deepest first (removed again, where
    still empty, when the report fails). A failure is one line naming the folder the user gave (``shown``) and
    what failed, never the OS's wording of a folder made inside it (``figures``)."""
    from ltr.exceptions import OutputPathError

    missing = [p for p in (path, *path.parents) if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputPathError(shown, f"cannot create {what}: a part of this path is a file, not a folder") from None
    except OSError as e:
        reason = e.strerror[:1].lower() + e.strerror[1:] if e.strerror else type(e).__name__
        raise OutputPathError(shown, f"cannot create {what}: {reason}") from None
    return missing


#: The record, in the report folder, of the files the last report written there made (its pages and figures, as
#: paths in the folder): the next report into the folder removes those it does not make again, and never a file the
#: record does not name (one the user put there).
REPORT_RECORD = ".ltr-report.json"
_RECORD_FORMAT = "ltrkit-report-files/1"


def _is_report_file(name: str) -> bool:
    """A page (``report.html``, ``report.md``) or a figure (``figures/<plain name>.png``): the only names a record
    may hold, so that a record edited by hand cannot remove any other file."""
    if name in ("report.html", "report.md"):
        return True
    head, _, tail = name.partition("/")
    return head == "figures" and tail.endswith(".png") and Path(tail).name == tail and "\\" not in tail


def _recorded_files(out: Path) -> set[str]:
    """The files a previous report recorded in ``out``; none when there is no record or one that cannot be read
    (nothing is then removed)."""
    try:
        d = json.loads((out / REPORT_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(d, dict) or d.get("format") != _RECORD_FORMAT or not isinstance(d.get("files"), list):
        return set()
    return {n for n in d["files"] if isinstance(n, str) and _is_report_file(n)}


def _record_files(out: Path, files: set[str]) -> None:
    from ltr.io import atomic_write

    with atomic_write(out / REPORT_RECORD) as fh:
        fh.write(json.dumps({"format": _RECORD_FORMAT, "written_by": "ltr report", "files": sorted(files)},
                            indent=1) + "\n")


def render_report(
    result: CVResult | Comparison | Mapping[str, Any] | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    formats: Sequence[str] = ("html", "md"),
    datasets: Sequence[RankingDataset | Mapping[str, Any]] = (),
    title: str | None = None,
    size: tuple[int, int] | None = None,
) -> dict[str, Path]:
    """Render a result (a result object, dict or path) into ``out_dir``.

    Parameters
    ----------
    result : CVResult, Comparison, dict or path
        A result (:func:`~ltr.evaluation.cross_validate`'s, a comparison's), a result file's content
        (:meth:`CVResult.to_dict`, :meth:`Comparison.to_dict`) or its path.
    out_dir : path
        Created if needed. Writes ``report.html`` (self-contained), ``report.md`` and ``figures/<id>.png``, and
        ``.ltr-report.json`` (:data:`REPORT_RECORD`) naming them. Once the report is complete, the files the
        previous report into ``out_dir`` recorded and this one does not make again (the figures of another result,
        ``report.md`` when only ``"html"`` is asked for) are removed, so that a reused folder holds one report;
        files the record does not name, such as the user's own, are kept, and one of the names this report writes
        is refused (OutputPathError), never replaced.
    formats : sequence of {"html", "md", "png"}
        ``"md"`` implies the PNG files (the Markdown links them). Without matplotlib (the ``plot`` extra), ``"html"``
        and ``"md"`` are written with their tables only, saying why under Figures, with a warning; ``"png"`` raises
        ImportError.
    datasets : sequence of RankingDataset or summary dicts
        Extra datasets whose label distribution and rows-per-query histogram to add.
    title : str, optional
    size : (width, height), optional
        Pixel size of every figure (default :data:`ltr.evaluation.plots.PLOT_SIZE`).

    Returns
    -------
    dict of str to Path
        ``{"html": ..., "md": ..., "<figure id>": ...}`` for what was written.

    Raises
    ------
    OutputPathError
        ``out_dir`` cannot be created or written (a read-only or full file system): one line naming ``out_dir`` as
        given. The folders this call created are removed again, with what it wrote there, and so are the files it
        added to a folder that was there; a file is replaced only once complete, and the previous report's files
        are removed only after this one is complete.
    """
    from ltr._checked_io import interrupts_held
    from ltr.exceptions import OutputPathError
    from ltr.io import atomic_write
    from ltr.io.outputs import outputs_together

    if isinstance(result, (CVResult, Comparison)):  # the object itself: it failed as 'not iterable' (trial t62)
        result = result.to_dict()
    elif not isinstance(result, (Mapping, str, os.PathLike)):
        raise TypeError(f"result must be a CVResult, a Comparison, a result dict or a result file's path, got "
                        f"{type(result).__name__}")
    d = read_result(result) if isinstance(result, (str, os.PathLike)) else dict(result)
    check_result(d)
    bad = [f for f in formats if f not in ("html", "md", "png")]
    if bad or not formats:
        raise ValueError(f"formats must be among ['html', 'md', 'png'], got {list(formats)}")
    extra = [dataset_summary(x, f"data{i + 1}") if isinstance(x, RankingDataset) else x
             for i, x in enumerate(datasets)]
    missing = plots.matplotlib_missing()
    if missing and "png" in formats:
        raise ImportError(missing)
    note = f"Figures left out: {missing}." if missing else None
    if note:
        warnings.warn(f"figures left out of the report: {missing}", UserWarning, stacklevel=2)
    figures = [] if missing else result_figures(d, datasets=extra, size=size)
    out = Path(out_dir)
    shown = os.fsdecode(os.fspath(out_dir))
    previous = _recorded_files(out)  # what the last report written here made
    pngs = not missing and ("md" in formats or "png" in formats)
    files = {f"figures/{f['id']}.png" for f in figures} if pngs else set()
    files |= {f"report.{k}" for k in ("html", "md") if k in formats}
    links = sorted(n for n in files if os.path.islink(out / n))
    if links:  # a report's own name that is now a link: written through, it replaced a file elsewhere (trial t71)
        raise OutputPathError(shown, f"{links[0]} in the folder is a symbolic link, which a report does not write "
                                     "through (it would replace the file it points to): remove the link")
    clash = sorted(n for n in files - previous if os.path.lexists(out / n))
    if clash:  # the user's own, which a report replaced without a word (trial t70), as ltr demo refuses to
        them = "it" if len(clash) == 1 else "them"
        raise OutputPathError(shown, f"the folder holds {', '.join(clash)}, which no report written there made "
                                     f"({REPORT_RECORD} does not name {them}) and this one would replace; give a new "
                                     f"or empty folder, or move {them} away")
    created = _make_folder(out, shown)
    written: dict[str, Path] = {}
    record = out / REPORT_RECORD
    fresh: list[Path] = []  # files this call adds (none of that name was there): removed again if it fails
    adding: set[str] = set()  # names recorded before they are written (see below)

    def place(name: str) -> Path:
        p = out / name
        if not os.path.lexists(p):
            fresh.append(p)
        return p

    # Interrupts are held from the set's writing to the end of the completion below: one that came while the files
    # were renamed in was raised as they were in place, and the cleanup below removed the new figures from beside
    # the new pages (trial t72); now it is raised once the report is whole, or once a failed one is cleaned up
    hold = contextlib.ExitStack()
    try:
        if not os.access(out, os.W_OK | os.X_OK):  # a read-only file system (root passes permissions otherwise)
            raise OutputPathError(shown, f"cannot write: the folder {shown} is not writable")
        # Rendered whole before the first file is replaced: an interrupt finds the old report or the new one in
        # place, but for the milliseconds of the writes themselves (it found the old report.md beside a new figure,
        # written while the HTML was being rendered)
        texts = {}
        if "html" in formats:
            texts["html"] = render_html(d, figures, title=title, figures_note=note)
        if "md" in formats:
            texts["md"] = render_markdown(d, figures, "figures", title=title, figures_note=note)
        # Recorded first, so that the files of a run killed half-way are the next run's to remove: the names this
        # call adds, never one that is there unrecorded (refused above: the user's report.md stays the user's).
        adding = {n for n in files - previous if not os.path.lexists(out / n)}
        if adding:
            _record_files(out, previous | adding)
        if pngs:
            created = _make_folder(out / "figures", shown, "its folder figures") + created
        # One set, renamed in together once every file is written: a full disk or a Ctrl-C leaves the previous
        # report whole (it left the old pages beside new figures of another result; trial t62)
        parts = [(f["id"], f"figures/{f['id']}.png", f["png"]) for f in figures] if pngs else []
        parts += [(kind, f"report.{kind}", text) for kind, text in texts.items()]
        paths = [place(name) for _, name, _ in parts]
        hold.enter_context(interrupts_held())
        with outputs_together(*paths) as temporaries:
            for (_, _, content), tmp in zip(parts, temporaries):
                with atomic_write(tmp, "wb" if isinstance(content, bytes) else "w", compress=False) as fh:
                    fh.write(content)
        written.update({key: p for (key, _, _), p in zip(parts, paths)})
    except BaseException:
        # a failed report leaves no trace in the folders it created (a full disk): the files it wrote there, then the
        # folders; a folder that was there before keeps its files (each replaced only once complete), less the
        # files this call added; the previous report's files stay, and the record names them and the files this
        # call replaced (now a report's), never one it did not write
        for p in [*written.values(), *fresh, *([record] if not previous else [])]:
            if p.parent in created or p in fresh or p == record:
                with contextlib.suppress(OSError):
                    p.unlink()
        for made in created:
            with contextlib.suppress(OSError):
                made.rmdir()
        replaced = {p.relative_to(out).as_posix() for p in written.values() if os.path.lexists(p)}
        if adding or not replaced <= previous:  # the record names what is there now, written by a report
            with contextlib.suppress(OSError):
                if previous | replaced:
                    _record_files(out, previous | replaced)
                else:
                    record.unlink()
        hold.close()
        raise
    # The report is complete: the files the previous one made here and this one does not make again go, so that the
    # folder holds one report (and whatever else the user put there); then the record says what is there.
    with hold:
        for name in sorted(previous - files):
            with contextlib.suppress(OSError):
                (out / name).unlink()
        if not pngs and any(n.startswith("figures/") for n in previous):
            with contextlib.suppress(OSError):
                (out / "figures").rmdir()  # only when empty: a file the user put there keeps it
        if files and files != previous:
            _record_files(out, files)
        elif not files and previous:
            with contextlib.suppress(OSError):
                record.unlink()
    return written
