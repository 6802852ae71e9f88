"""Plain-text tables for the CLI (a few lines, so no dependency for it)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

__all__ = ["format_csv", "format_markdown", "format_table"]


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def format_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """Columns aligned, numbers right-aligned, 4 decimals for floats.

    Examples
    --------
    >>> print(format_table(["metric", "mean"], [["ndcg@10", 0.5]]))
    metric     mean
    -------  ------
    ndcg@10  0.5000
    """
    cells = [[_cell(v) for v in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    numeric = [all(isinstance(r[i], (int, float)) for r in rows) and bool(rows) for i in range(len(header))]

    def line(vals):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(vals, widths, numeric)).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in cells])


def format_markdown(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A Markdown (GitHub) pipe table: the first column left-aligned, the others right-aligned, 4 decimals for
    floats, ``|`` in a cell escaped.

    Examples
    --------
    >>> print(format_markdown(["metric", "mean"], [["ndcg@10", 0.5]]))
    | metric | mean |
    |---|---:|
    | ndcg@10 | 0.5000 |
    """
    def line(vals) -> str:
        return "| " + " | ".join(_cell(v).replace("|", "\\|") for v in vals) + " |"

    rule = "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"
    return "\n".join([line(header), rule] + [line(r) for r in rows])


def format_csv(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([repr(v) if isinstance(v, float) else v for v in r])
    return buf.getvalue().rstrip("\n")
