"""Result files written by ``ltr cv --out`` and ``ltr compare --out``, and the reports rendered from them.

Result file (JSON, strict: NaN and infinities are written as ``null``)::

    {
      "format": "ltrkit-result/1",
      "kind": "cv" | "compare",
      "ltrkit_version": "0.1.0",
      "created": "2025-01-01T12:00:00Z",
      "metrics": ["ndcg@10", "map"],              # canonical names
      "baseline": "lambdarank" | null,
      "qids": ["10002", ...],                     # the (paired) test queries, aligned with every per_query list
      "systems": [{
          "name": "lambdarank",
          "mean": {"ndcg@10": 0.51, ...},          # cv: mean of the fold means; compare: mean over qids
          "std": {"ndcg@10": 0.02, ...} | null,    # cv: sample std over folds
          "per_query": {"ndcg@10": [...], ...},    # aligned with qids
          "curve": [NDCG@1, ..., NDCG@20] | null,
          "feature_names": [...] | null,
          "importance": {"gain": [...], "split": [...]} | null,   # mean over folds
          "params": {...}, "settings": {...},
          "folds": [{"name": "Fold1", "metrics": {...}, "qids": [...], "per_query": {...}, "curve": [...],
                     "seconds": 1.2, "rounds": 80, "n_train_queries": 470, "n_test_queries": 157,
                     "evals": {"vali": {"ndcg@10": [per round]}, "train": {...}},
                     "importance": {"gain": [...], "split": [...]}}]     # cv only
      }],
      "comparison": null | {"tests": ["t", ...], "correction": "holm", "alpha": 0.05, "n_permutations": 10000,
                            "seed": 0, "dropped": {system: [qids]}, "rows": [{"system", "metric", "mean",
                            "baseline_mean", "delta", "relative", "wins", "ties", "losses", "effect_size",
                            "tests": {"t": {"statistic", "pvalue", "pvalue_adjusted", "significant"}}}]},
      "datasets": [{"name", "n_queries", "n_rows", "n_features", "label_counts": {"0": 2140, ...},
                    "rows_per_query": [...]}],
      "settings": {...}
    }

:func:`render_report` turns one into PNG figures (:mod:`ltr.evaluation.plots`), one self-contained HTML page
(figures embedded as base64 ``data:`` URIs, no external resource; a small script checks on load that every
image decoded and that no script error occurred, and writes the outcome into ``#ltr-status``) and a Markdown
variant that links the PNG files.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ltr.datasets import RankingDataset
    from ltr.evaluation.compare import Comparison
    from ltr.evaluation.cv import CVResult

__all__ = [
    "RESULT_FORMAT",
    "comparison_dict",
    "comparison_from_dict",
    "cv_result_dict",
    "cv_result_from_dict",
    "read_result",
    "render_report",
    "write_result",
]

RESULT_FORMAT = "ltrkit-result/1"


def _strict(obj):
    """Replace NaN/inf by None and numpy scalars by Python ones, recursively (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_strict(v) for v in obj.tolist()]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _header(kind: str) -> dict[str, Any]:
    from ltr import __version__

    return {
        "format": RESULT_FORMAT,
        "kind": kind,
        "ltrkit_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _cv_system(r: CVResult) -> dict[str, Any]:
    gain, split = r.importance("gain"), r.importance("split")
    return {
        "name": r.name,
        "mean": r.mean(),
        "std": r.std(),
        "per_query": {m: [v for f in r.folds for v in f.per_query[m]] for m in r.metrics},
        "curve": r.curve(),
        "feature_names": r.feature_names,
        "importance": None if gain is None else {"gain": gain, "split": split},
        "params": r.params,
        "settings": r.settings,
        "folds": [f.to_dict() for f in r.folds],
    }


def cv_result_dict(r: CVResult) -> dict[str, Any]:
    """The result-file content of a cross-validation (``kind == "cv"``)."""
    d = _header("cv")
    d.update({"metrics": list(r.metrics), "baseline": None, "qids": r.pooled_qids(), "systems": [_cv_system(r)],
              "comparison": None, "datasets": r.datasets, "settings": r.settings})
    return _strict(d)


def cv_result_from_dict(d: Mapping[str, Any]):
    """A :class:`~ltr.evaluation.CVResult` from a ``kind == "cv"`` result (or one system of a CV comparison)."""
    from ltr.evaluation.cv import CVResult, FoldResult

    _check(d)
    system = d["systems"][0]
    if not system.get("folds"):
        raise ValueError("this result has no folds: it is not a cross-validation result")
    folds = [FoldResult(**{k: v for k, v in f.items() if k in FoldResult.__dataclass_fields__})
             for f in system["folds"]]
    return CVResult(system["name"], list(d["metrics"]), folds, system.get("feature_names"),
                    system.get("params") or {}, system.get("settings") or {}, list(d.get("datasets") or []))


def comparison_dict(c: Comparison) -> dict[str, Any]:
    """The result-file content of a comparison (``kind == "compare"``)."""
    cv = c.extra.get("cv", {})
    systems = []
    for n in c.systems:
        s = {"name": n, "mean": {m: c.mean(n, m) for m in c.metrics}, "std": None,
             "per_query": {m: c.per_query[n][m] for m in c.metrics},
             "curve": None if c.curves is None else c.curves.get(n)}
        if n in cv:  # a comparison of CV results keeps each system's folds for the report
            sub = cv[n]["systems"][0]
            s.update({k: sub.get(k) for k in ("std", "feature_names", "importance", "params", "settings", "folds")})
        systems.append(s)
    d = _header("compare")
    d.update({
        "metrics": list(c.metrics), "baseline": c.baseline, "qids": list(c.qids), "systems": systems,
        "comparison": {"tests": list(c.tests), "correction": c.correction, "alpha": c.alpha,
                       "n_permutations": c.n_permutations, "seed": c.seed, "dropped": c.dropped, "rows": c.rows},
        "datasets": c.extra.get("datasets", []), "settings": c.extra.get("conventions", {}),
    })
    return _strict(d)


def comparison_from_dict(d: Mapping[str, Any]):
    """A :class:`~ltr.evaluation.Comparison` from a ``kind == "compare"`` result."""
    from ltr.evaluation.compare import Comparison

    _check(d)
    cmp = d.get("comparison")
    if d.get("kind") != "compare" or not cmp:
        raise ValueError("not a comparison result (kind must be 'compare')")
    per_query = {s["name"]: {m: np.asarray(s["per_query"][m], dtype=np.float64) for m in d["metrics"]}
                 for s in d["systems"]}
    curves = {s["name"]: s["curve"] for s in d["systems"]} if all(s.get("curve") for s in d["systems"]) else None
    rows = []
    for r in cmp["rows"]:
        r = dict(r)
        for key in ("relative", "effect_size"):
            r[key] = math.nan if r.get(key) is None else r[key]
        rows.append(r)
    return Comparison([s["name"] for s in d["systems"]], d["baseline"], list(d["metrics"]), list(d["qids"]),
                      per_query, rows, list(cmp["tests"]), cmp["correction"], float(cmp["alpha"]),
                      int(cmp["n_permutations"]), int(cmp["seed"]), dict(cmp.get("dropped") or {}), curves)


def write_result(path: str | os.PathLike, result: Mapping[str, Any]) -> None:
    """Write a result dict as strict JSON, atomically."""
    from ltr.io._atomic import atomic_write

    with atomic_write(path) as f:
        f.write(json.dumps(_strict(dict(result)), indent=1, allow_nan=False) + "\n")


def _check(d: Mapping[str, Any]) -> None:
    if not isinstance(d, Mapping) or d.get("format") != RESULT_FORMAT:
        raise ValueError(f"not an ltrkit result (expected \"format\": \"{RESULT_FORMAT}\")")
    if d.get("kind") not in ("cv", "compare"):
        raise ValueError(f"unknown result kind {d.get('kind')!r}; expected 'cv' or 'compare'")
    for key in ("metrics", "qids", "systems"):
        if key not in d:
            raise ValueError(f"the result lacks {key!r}")
    if not d["systems"]:
        raise ValueError("the result has no system")


def read_result(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a result file written by :func:`write_result`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"result file not found: {path}")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a JSON result file ({e})") from e
    try:
        _check(d)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return d


# -- figures ------------------------------------------------------------------------------------------------------
def _slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in str(text).lower()).strip("-")
    while "--" in out:
        out = out.replace("--", "-")
    return out or "x"


def result_figures(d: Mapping[str, Any], *, datasets: Sequence[Mapping[str, Any]] = (),
                   size: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """The figures a result supports: ``[{"id", "title", "caption", "png"}]`` (PNG bytes)."""
    from ltr.evaluation import plots

    kw = {} if size is None else {"size": size}
    figs: list[dict[str, Any]] = []
    systems = d["systems"]
    metrics = list(d["metrics"])
    curves = {s["name"]: s["curve"] for s in systems if s.get("curve")}
    if curves:
        figs.append({"id": "ndcg-at-k", "title": "NDCG@k, k = 1..20",
                     "caption": "Mean NDCG@k over the test queries for each system.",
                     "png": plots.ndcg_curves(curves, **kw)})
    base = d.get("baseline")
    if base is not None and metrics:
        m = metrics[0]
        b = np.asarray(next(s for s in systems if s["name"] == base)["per_query"][m], dtype=np.float64)
        for s in systems:
            if s["name"] == base:
                continue
            delta = np.asarray(s["per_query"][m], dtype=np.float64) - b
            figs.append({"id": f"delta-{_slug(s['name'])}", "title": f"Per-query {m}: {s['name']} - {base}",
                         "caption": "Queries sorted by the difference; bars above zero are queries the system wins.",
                         "png": plots.query_deltas(delta, system=s["name"], baseline=base, metric=m, **kw)})
    for s in systems:
        evals = {f["name"]: f["evals"] for f in s.get("folds") or [] if f.get("evals")}
        if evals:
            first = next(iter(next(iter(evals.values())).values()))
            metric = next(iter(first))
            figs.append({"id": f"rounds-{_slug(s['name'])}", "title": f"{s['name']}: {metric} per boosting round",
                         "caption": "Solid: validation part; dashed: training part; one colour per fold.",
                         "png": plots.training_curves(evals, metric=metric, title=f"{s['name']}: {metric} per round",
                                                      **kw)})
    for s in systems:
        imp = s.get("importance")
        if imp and imp.get("gain") and any(v for v in imp["gain"]):
            names = s.get("feature_names") or [str(j + 1) for j in range(len(imp["gain"]))]
            figs.append({"id": f"importance-{_slug(s['name'])}", "title": f"{s['name']}: feature importance (gain)",
                         "caption": "Total split gain per feature, mean over folds.",
                         "png": plots.feature_importance(names, imp["gain"], kind="gain", **kw)})
    for ds in [*(d.get("datasets") or []), *datasets]:
        name = ds.get("name", "data")
        figs.append({"id": f"labels-{_slug(name)}", "title": f"{name}: label distribution",
                     "caption": f"{ds['n_rows']} rows in {ds['n_queries']} queries.",
                     "png": plots.label_distribution(ds["label_counts"], title=f"{name}: labels", **kw)})
        figs.append({"id": f"sizes-{_slug(name)}", "title": f"{name}: rows per query",
                     "caption": "Number of documents per query.",
                     "png": plots.rows_per_query(ds["rows_per_query"], title=name, **kw)})
    return figs


# -- tables -------------------------------------------------------------------------------------------------------
def _tables(d: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(title, header, rows, note) for the report, from the result dict."""
    out = []
    metrics = list(d["metrics"])
    if d["kind"] == "compare":
        c = comparison_from_dict(d)
        from ltr.evaluation.tables import _footnote, _long_rows, _wide_cells

        header, rows = _wide_cells(c, 4, lambda s: f"<b>{s}</b>", "*")
        out.append(("Summary", header, rows, _footnote(c)))
        header, rows = _long_rows(c, 4, raw=False)
        out.append(("Differences from the baseline", header, rows,
                    "delta: mean difference; W/T/L: queries won/tied/lost; d: paired Cohen's d; p: adjusted p-values."))
    for s in d["systems"]:
        folds = s.get("folds") or []
        if folds:
            header = ["fold", *metrics, "rounds", "seconds"]
            rows = [[f["name"], *[_fmt(f["metrics"].get(m)) for m in metrics], str(f.get("rounds", "")),
                     f"{f.get('seconds', 0):.2f}"] for f in folds]
            rows.append(["mean", *[_fmt(s["mean"].get(m)) for m in metrics], "", ""])
            if s.get("std"):
                rows.append(["std", *[_fmt(s["std"].get(m)) for m in metrics], "", ""])
            out.append((f"Cross-validation: {s['name']}", header, rows, f"{len(d['qids'])} test queries in all."))
    return out


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


def render_html(d: Mapping[str, Any], figures: list[dict[str, Any]], *, title: str | None = None) -> str:
    """One self-contained HTML page (figures as base64 data URIs)."""
    title = title or _title(d)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(title)}</title>", f"<style>{_CSS}</style>", _CHECK_SCRIPT, "</head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f'<p class="note">{html.escape(_meta_line(d))}</p>']
    for name, header, rows, note in _tables(d):
        parts.append(f"<h2>{html.escape(name)}</h2><table><thead><tr>"
                     + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead><tbody>")
        for r in rows:
            # Cells are plain text except the <b> the summary table adds around the best value.
            cells = [html.escape(str(x)).replace("&lt;b&gt;", "<b>").replace("&lt;/b&gt;", "</b>") for x in r]
            parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append(f'</tbody></table><p class="note">{html.escape(note)}</p>')
    if figures:
        parts.append("<h2>Figures</h2>")
    for f in figures:
        data = base64.b64encode(f["png"]).decode("ascii")
        parts.append(f'<figure id="{f["id"]}"><img alt="{html.escape(f["title"])}" '
                     f'src="data:image/png;base64,{data}"><figcaption>{html.escape(f["title"])}. '
                     f'{html.escape(f["caption"])}</figcaption></figure>')
    parts.append('<p id="ltr-status">report check pending</p></body></html>')
    return "\n".join(parts) + "\n"


def _meta_line(d: Mapping[str, Any]) -> str:
    return (f"{d.get('kind')} result, {len(d['qids'])} test queries, metrics {', '.join(d['metrics'])}; "
            f"ltrkit {d.get('ltrkit_version', '?')}, created {d.get('created', '?')}.")


def render_markdown(d: Mapping[str, Any], figures: list[dict[str, Any]], figure_dir: str, *,
                    title: str | None = None) -> str:
    """Markdown with the tables, linking the figures as ``figure_dir/<id>.png``."""
    lines = [f"# {title or _title(d)}", "", _meta_line(d), ""]
    for name, header, rows, note in _tables(d):
        lines += [f"## {name}", "", "| " + " | ".join(header) + " |",
                  "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
        for r in rows:
            cells = [str(x).replace("*", "\\*").replace("<b>", "**").replace("</b>", "**").replace("|", "\\|")
                     for x in r]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", note.replace("*", "\\*", 1) if note.startswith("*") else note, ""]
    for f in figures:
        lines += [f"## {f['title']}", "", f"![{f['title']}]({figure_dir}/{f['id']}.png)", "", f["caption"], ""]
    return "\n".join(lines)


def render_report(
    result: Mapping[str, Any] | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    formats: Sequence[str] = ("html", "md"),
    datasets: Sequence[RankingDataset | Mapping[str, Any]] = (),
    title: str | None = None,
    size: tuple[int, int] | None = None,
) -> dict[str, Path]:
    """Render a result (dict or path) into ``out_dir``.

    Parameters
    ----------
    result : dict or path
        A result file's content (:meth:`CVResult.to_dict`, :meth:`Comparison.to_dict`) or its path.
    out_dir : path
        Created if needed. Writes ``report.html`` (self-contained), ``report.md`` and ``figures/<id>.png``.
    formats : sequence of {"html", "md", "png"}
        ``"md"`` implies the PNG files (the Markdown links them).
    datasets : sequence of RankingDataset or summary dicts
        Extra datasets whose label distribution and rows-per-query histogram to add.
    title : str, optional
    size : (width, height), optional
        Pixel size of every figure (default :data:`ltr.evaluation.plots.PLOT_SIZE`).

    Returns
    -------
    dict of str to Path
        ``{"html": ..., "md": ..., "<figure id>": ...}`` for what was written.
    """
    from ltr.datasets import RankingDataset
    from ltr.evaluation.cv import dataset_summary
    from ltr.io._atomic import atomic_write

    d = read_result(result) if isinstance(result, (str, os.PathLike)) else dict(result)
    _check(d)
    bad = [f for f in formats if f not in ("html", "md", "png")]
    if bad or not formats:
        raise ValueError(f"formats must be among ['html', 'md', 'png'], got {list(formats)}")
    extra = [dataset_summary(x, f"data{i + 1}") if isinstance(x, RankingDataset) else x
             for i, x in enumerate(datasets)]
    figures = result_figures(d, datasets=extra, size=size)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if "md" in formats or "png" in formats:
        (out / "figures").mkdir(exist_ok=True)
        for f in figures:
            p = out / "figures" / f"{f['id']}.png"
            with atomic_write(p, "wb") as fh:
                fh.write(f["png"])
            written[f["id"]] = p
    if "html" in formats:
        p = out / "report.html"
        with atomic_write(p) as fh:
            fh.write(render_html(d, figures, title=title))
        written["html"] = p
    if "md" in formats:
        p = out / "report.md"
        with atomic_write(p) as fh:
            fh.write(render_markdown(d, figures, "figures", title=title))
        written["md"] = p
    return written
