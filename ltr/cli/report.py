"""``ltr report RESULT --out DIR``: a cv or compare result as HTML, Markdown and PNG figures."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ltr.cli._data import read_data
from ltr.cli._guard import UsageError, add_command, split_list, visible
from ltr.cli._options import AddedUp, add_reader_options, refuse_shared_sidecars

__all__ = ["register", "run"]


def register(sub) -> None:
    p = add_command(sub, "report", "render a cv/compare result as HTML, Markdown and PNG plots")
    p.add_argument("result", metavar="RESULT", help="a result file written by ltr cv --out or ltr compare --out")
    p.add_argument("--out", required=True,
                   help="output folder (report.html, report.md, figures/*.png); created. Reused, the files the "
                        "previous ltr report made there and this one does not make again are removed (as its "
                        ".ltr-report.json records them); other files stay, and one of a name this report writes "
                        "that no report made is refused, never replaced")
    p.add_argument("--formats", default="html,md", action=AddedUp,
                   help="comma-separated among html (figures embedded), md (its figures written as figures/*.png, "
                        "which it links), png (the figures alone)")
    p.add_argument("--data", action="append", default=[], metavar="FILE",
                   help="a LETOR file whose label distribution and rows per query to plot (repeatable)")
    p.add_argument("--title", default=None, help="page title (default: from the systems' names)")
    p.add_argument("--format", default="text", choices=("text", "json"),
                   help="text: a 'wrote ...' line on standard error, as the other commands say what they wrote; json: "
                        "the files written, by name, on standard output")
    p.add_argument("--quiet", action="store_true", help="do not say what was written")
    add_reader_options(p)
    p.set_defaults(func=run)


def _labels(paths: list[str]) -> list[str]:
    """Names for the data files' figures: the file name, with as many parent folders as it takes to tell two
    files of the same name apart (``x/train.txt``, ``y/train.txt``)."""
    parts = [Path(p).resolve().parts for p in paths]
    if len(set(parts)) != len(parts):
        dup = next(p for p, q in zip(paths, parts) if parts.count(q) > 1)
        raise UsageError(f"--data {dup} is given twice")
    depth = 1
    while True:
        out = ["/".join(q[-depth:]) for q in parts]
        if len(set(out)) == len(out):
            return out
        depth += 1


def _refuse_inputs_replaced(args: argparse.Namespace, formats: list[str]) -> None:
    """RESULT or a --data file that is one of the files the report writes into --out (report.html, report.md, a
    figure) would be replaced by it, as no other command lets an output replace an input."""
    import os

    pages = [Path(args.out) / f"report.{ext}" for ext in ("html", "md") if ext in formats]
    for page in pages:  # (compared by file, not name: a link, ./, a hard link; nothing made before the result reads)
        for path in (args.result, *args.data):
            if page.exists() and os.path.exists(path) and os.path.samefile(page, path):
                raise UsageError(f"{page}: is also an input of this command ({path}); writing it would replace it: "
                                 "give --out another folder")
    figures = (Path(args.out) / "figures").resolve()
    if "png" in formats:
        for flag, path in [("RESULT", args.result)] + [("--data", p) for p in args.data]:
            if Path(path).resolve().parent == figures:
                raise UsageError(f"{flag} {path}: inside {Path(args.out) / 'figures'}, whose files the report "
                                 "replaces: move it, or give --out another folder")


def run(args: argparse.Namespace) -> int:
    from ltr.datasets import dataset_summary
    from ltr.evaluation import read_result, render_report

    formats = split_list(args.formats, "--formats")
    bad = [f for f in formats if f not in ("html", "md", "png")]
    if not formats or bad:
        raise UsageError(f"--formats: choose among html, md, png (got {args.formats!r})")
    if Path(args.result).is_dir():
        raise IsADirectoryError(f"{args.result}: is a folder; give a result file of ltr cv --out or ltr compare --out")
    from ltr.io.outputs import stream_of

    if args.out == "-" or stream_of(args.out) is not None:  # elsewhere '-' is standard output: no folder
        raise UsageError(f"--out {args.out}: a report is a folder of files (HTML, Markdown, figures); give a folder")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out}: is a file; give a folder")
    from ltr.cli._guard import parsing

    reading = next(g for g in args.parser_._action_groups if g.title == "reading data files")
    typed = {tok.split("=", 1)[0] for tok in parsing}  # the flags as written (--x v and --x=v), as given_dests reads
    unread = []
    for dest in dict.fromkeys(a.dest for a in reading._group_actions if a.dest in getattr(args, "given_", ())):
        spellings = [o for a in reading._group_actions if a.dest == dest for o in a.option_strings]
        unread += [o for o in spellings if o in typed] or spellings[:1]  # from --config: its first spelling
    if unread and not args.data:  # options of the --data files' reader, with no file to read
        raise UsageError(f"{', '.join(unread)} {'reads' if len(unread) == 1 else 'read'} the --data files: give "
                         "--data FILE, or leave it out")
    refuse_shared_sidecars(args, f"--data is {len(args.data)} files" if len(args.data) > 1 else None)
    _refuse_inputs_replaced(args, formats)
    result = read_result(args.result)
    datasets = [dataset_summary(read_data(args, p), label) for p, label in zip(args.data, _labels(args.data))]
    written = render_report(result, args.out, formats=formats, datasets=datasets, title=args.title)
    if args.format == "json":  # a listing asked for: printed even with --quiet
        print(json.dumps({k: str(v) for k, v in written.items()}, indent=2))
    elif not args.quiet:
        pages = [str(v) for k, v in written.items() if k in ("html", "md")]
        figures = len(written) - len(pages)
        said = pages + ([f"{figures} figure(s) in {Path(args.out) / 'figures'}"] if figures else [])
        listed = ", ".join(said[:-1]) + " and " + said[-1] if len(said) > 1 else said[0] if said else "nothing"
        print(visible(f"wrote {listed}"), file=sys.stderr)
    return 0
