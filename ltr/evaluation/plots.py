"""PNG plots of experiment results (matplotlib, imported on first use; the ``plot`` extra).

Every function returns the PNG as bytes, drawn with the Agg renderer on a :class:`matplotlib.figure.Figure` (no
``pyplot``, so no global figure registry and no interactive backend), at exactly ``size`` pixels (default
800 x 450: ``figsize = size / dpi`` and no tight bounding box, so the pixel size is predictable). PNG metadata
holds no timestamp or version, so the same input gives the same bytes. Every text drawn goes through
:func:`valid_text` (a file name's bytes that are not UTF-8 as U+FFFD: matplotlib draws valid text only).

Plots: NDCG@k for k = 1..20 per system (:func:`ndcg_curves`), per-query differences from a baseline sorted by
delta (:func:`query_deltas`), a metric per boosting round on validation and training parts
(:func:`training_curves`), feature importances (:func:`feature_importance`), the label distribution
(:func:`label_distribution`) and rows per query (:func:`rows_per_query`).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping, Sequence

import numpy as np

from ltr.evaluation.significance import TIE_TOL

__all__ = [
    "NEEDS_MATPLOTLIB",
    "PLOT_SIZE",
    "feature_importance",
    "label_distribution",
    "matplotlib_missing",
    "ndcg_curves",
    "query_deltas",
    "rows_per_query",
    "training_curves",
    "valid_text",
]

PLOT_SIZE = (800, 450)
_DPI = 100
#: What a plot says when matplotlib is not installed.
NEEDS_MATPLOTLIB = 'plots need matplotlib: pip install "ltrkit[plot]" (or pip install matplotlib)'


#: A lone surrogate: what Python makes of a byte that is not UTF-8 in a file name (``os.fsdecode``), or what a JSON
#: ``\udcff`` escape reads as. No valid text holds one.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def valid_text(text: object) -> str:
    """``str(text)`` with each lone surrogate as U+FFFD, the replacement character: text every renderer and UTF-8
    can take. A data file name holding a byte that is not UTF-8 (``b\\xffd.txt``, which Python and a result file
    hold as ``'b\\udcffd.txt'``) failed inside matplotlib's font code, naming neither file nor option (trial t63);
    the report's figures, HTML and Markdown all show it as ``b\ufffdd.txt``, one U+FFFD per such byte.

    Examples
    --------
    >>> valid_text("b\\udcffd.txt")
    'b\ufffdd.txt'
    >>> valid_text("café")
    'café'
    """
    return _SURROGATE.sub("\ufffd", str(text))


def matplotlib_missing() -> str | None:
    """None when matplotlib can be imported; otherwise the one-line install hint (:data:`NEEDS_MATPLOTLIB`) that
    every plot raises with, so that a caller can leave the figures out rather than fail (a tables-only report)."""
    try:
        _import_figure()
    except ImportError:
        return NEEDS_MATPLOTLIB
    return None


def _import_figure():
    """matplotlib's ``Figure``; an ``MPLBACKEND`` it does not know, which fails its import in matplotlib's words
    naming no variable (trial t60), said as the variable (the figures here are drawn by Agg whatever it names)."""
    try:
        from matplotlib.figure import Figure
    except ValueError as e:
        backend = os.environ.get("MPLBACKEND")
        if backend is None or "backend" not in str(e):
            raise
        raise ValueError(f"environment variable MPLBACKEND={backend!r}: matplotlib does not know that backend; "
                         "unset it, or name one it knows (the figures are drawn with Agg whatever it names)") from None
    return Figure


def _figure(size: tuple[int, int]):
    try:
        Figure = _import_figure()
    except ImportError as e:
        raise ImportError(NEEDS_MATPLOTLIB) from e
    w, h = size
    if w < 100 or h < 100:
        raise ValueError(f"plot size must be at least 100 x 100 pixels, got {size}")
    fig = Figure(figsize=(w / _DPI, h / _DPI), dpi=_DPI)
    return fig


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    return buf.getvalue()


def ndcg_curves(curves: Mapping[str, Sequence[float]], *, title: str = "NDCG@k",
                size: tuple[int, int] = PLOT_SIZE) -> bytes:
    """One line per system: NDCG@k for k = 1..len(values)."""
    if not curves:
        raise ValueError("no curve to plot")
    fig = _figure(size)
    ax = fig.add_subplot()
    for i, (name, values) in enumerate(curves.items()):
        v = np.asarray(values, dtype=np.float64)
        ax.plot(np.arange(1, v.size + 1), v, marker="o", markersize=3, label=valid_text(name),
                linestyle="-" if i < 10 else "--")
    ax.set_xlabel("cut-off k")
    ax.set_ylabel("mean NDCG@k")
    ax.set_title(valid_text(title))
    ax.set_xticks(np.arange(1, max(len(v) for v in curves.values()) + 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    fig.tight_layout()
    return _png(fig)


def query_deltas(deltas: Sequence[float], *, system: str, baseline: str, metric: str,
                 size: tuple[int, int] = PLOT_SIZE) -> bytes:
    """Per-query ``system - baseline`` of ``metric``, sorted by delta (green above 0, red below)."""
    d = np.sort(np.asarray(deltas, dtype=np.float64))[::-1]
    if d.size == 0:
        raise ValueError("no per-query difference to plot")
    system, baseline, metric = valid_text(system), valid_text(baseline), valid_text(metric)
    fig = _figure(size)
    ax = fig.add_subplot()
    # Two filled step outlines (gains, losses) instead of one bar per query: constant cost for 10^4 queries.
    edges = np.arange(d.size + 1) - 0.5
    ax.stairs(np.where(d > 0, d, 0.0), edges, fill=True, color="#2ca02c", baseline=0.0)
    ax.stairs(np.where(d < 0, d, 0.0), edges, fill=True, color="#d62728", baseline=0.0)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlim(-0.5, d.size - 0.5)
    ax.set_xlabel(f"queries sorted by difference ({d.size})")
    ax.set_ylabel(f"{metric}: {system} - {baseline}")
    wins, losses = int(np.sum(d > TIE_TOL)), int(np.sum(d < -TIE_TOL))  # ties as in win_tie_loss
    ax.set_title(f"{system} vs {baseline}: {wins} better, {d.size - wins - losses} tied, {losses} worse "
                 f"(mean {d.mean():+.4f})")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def training_curves(evals: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]], *, metric: str | None = None,
                    title: str = "metric per boosting round", xlabel: str = "boosting round",
                    size: tuple[int, int] = PLOT_SIZE) -> bytes:
    """``evals[fold][part][metric]`` per round (``xlabel``: a linear model's are coordinate-ascent passes): solid
    lines for ``vali``, dashed for ``train``, a colour per fold."""
    fig = _figure(size)
    ax = fig.add_subplot()
    drawn = 0
    for i, (fold, parts) in enumerate(evals.items()):
        color = f"C{i % 10}"
        for part, per in parts.items():
            name = metric if metric is not None else next(iter(per), None)
            if name is None or name not in per:
                continue
            v = np.asarray(per[name], dtype=np.float64)
            ax.plot(np.arange(1, v.size + 1), v, color=color, linestyle="--" if part == "train" else "-",
                    label=valid_text(f"{fold} {part}"))
            drawn += 1
    if not drawn:
        raise ValueError("no per-round evaluation to plot (fit with an eval_set)")
    ax.set_xlabel(valid_text(xlabel))
    ax.xaxis.get_major_locator().set_params(integer=True)  # rounds are whole: no tick at 2.5
    ax.set_ylabel(valid_text(metric or "metric"))
    ax.set_title(valid_text(title))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", ncol=2, loc="best")
    fig.tight_layout()
    return _png(fig)


def feature_importance(names: Sequence[str], values: Sequence[float], *, kind: str = "gain", top: int = 20,
                       size: tuple[int, int] = PLOT_SIZE, what: str = "feature importance") -> bytes:
    """Horizontal bars of the ``top`` largest importances, largest on top, titled ``what (kind)`` (a linear model's
    are weights: ``what="feature weights"``, ``kind="|weight| x std"``)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or len(names) != v.size:
        raise ValueError(f"need one importance per feature name, got {len(names)} names and {v.size} values")
    order = np.argsort(-v, kind="stable")[:top][::-1]
    fig = _figure(size)
    ax = fig.add_subplot()
    ax.barh(np.arange(order.size), v[order], color="#1f77b4")
    ax.set_yticks(np.arange(order.size))
    ax.set_yticklabels([valid_text(names[i]) for i in order], fontsize="small" if order.size <= 25 else "x-small")
    ax.set_xlabel(valid_text(f"importance ({kind})" if what == "feature importance" else kind))
    ax.set_title(valid_text(f"{what} ({kind}), top {order.size} of {v.size}"))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def label_distribution(label_counts: Mapping[str, int], *, title: str = "labels",
                       size: tuple[int, int] = PLOT_SIZE) -> bytes:
    """Bars of how many rows carry each relevance label."""
    if not label_counts:
        raise ValueError("no labels to plot")
    items = sorted(label_counts.items(), key=lambda kv: float(kv[0]))
    fig = _figure(size)
    ax = fig.add_subplot()
    counts = np.asarray([c for _, c in items], dtype=np.float64)
    ax.bar([k for k, _ in items], counts, color="#9467bd")
    total = counts.sum()
    for x, c in enumerate(counts):
        ax.annotate(f"{100 * c / total:.1f}%", (x, c), ha="center", va="bottom", fontsize="small")
    ax.set_xlabel("relevance label")
    ax.set_ylabel("rows")
    ax.set_title(valid_text(title))
    fig.tight_layout()
    return _png(fig)


def rows_per_query(sizes: Sequence[int], *, title: str = "rows per query", size: tuple[int, int] = PLOT_SIZE) -> bytes:
    """Histogram of the number of documents per query."""
    s = np.asarray(sizes, dtype=np.int64)
    if s.size == 0:
        raise ValueError("no query to plot")
    fig = _figure(size)
    ax = fig.add_subplot()
    bins = np.arange(s.min(), s.max() + 2) - 0.5 if s.max() - s.min() <= 60 else 40
    ax.hist(s, bins=bins, color="#ff7f0e", edgecolor="white", linewidth=0.5)
    ax.set_xlabel("documents in the query")
    ax.set_ylabel("queries")
    ax.set_title(f"{valid_text(title)}: {s.size} queries, median {np.median(s):g}, min {s.min()}, max {s.max()}")
    fig.tight_layout()
    return _png(fig)
