"""``ltr info FILE...``: what LETOR files hold (queries, rows, features, labels, sidecars used)."""

from __future__ import annotations

import argparse

from ltr.cli._common import add_command, add_format, add_reader_options, emit, read_data

__all__ = ["register", "run", "summaries"]


def register(sub) -> None:
    p = add_command(sub, "info", "summarise LETOR files: queries, rows, features, labels, sidecars")
    p.add_argument("files", nargs="+", metavar="FILE", help="LETOR / svmlight files (.gz too)")
    add_reader_options(p)
    add_format(p)
    p.set_defaults(func=run)


def summaries(args: argparse.Namespace, paths: list[str]) -> list[dict]:
    import numpy as np

    from ltr.datasets import dataset_summary

    out = []
    for path in paths:
        s = dataset_summary(read_data(args, path), path)
        sizes = np.asarray(s.pop("rows_per_query"))
        s["rows_per_query"] = {"min": int(sizes.min()), "median": float(np.median(sizes)), "max": int(sizes.max())}
        s["sidecars"] = {k: v for k, v in s.pop("sources").items() if k != "data"}
        out.append(s)
    return out


def run(args: argparse.Namespace) -> int:
    out = summaries(args, args.files)
    header = ["file", "queries", "rows", "features", "rows/query min", "median", "max", "no relevant", "labels",
              "sidecars"]
    rows = [[o["name"], o["n_queries"], o["n_rows"], o["n_features"], o["rows_per_query"]["min"],
             f'{o["rows_per_query"]["median"]:g}', o["rows_per_query"]["max"], o["queries_without_relevant"],
             " ".join(f"{k}:{v}" for k, v in o["label_counts"].items()),
             " ".join(f"{k}={v}" for k, v in o["sidecars"].items()) or "-"] for o in out]
    emit(args, header, rows, out[0] if len(out) == 1 else out)
    return 0
