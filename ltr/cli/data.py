"""``ltr data list|info|fetch|verify``: the public LTR and IR data sets by name (:mod:`ltr.registry`)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ltr._json import strict_json
from ltr.cli._files import emit
from ltr.cli._guard import UsageError, add_command, note
from ltr.cli._options import add_format, seconds

__all__ = ["register", "run"]


def register(sub) -> None:
    p = add_command(sub, "data", "the public LTR and IR data sets by name: list, info, fetch, verify")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION",
                               help="list, info NAME, fetch NAME --to DIR, verify NAME DIR")

    def action(name: str, text: str):
        q = actions.add_parser(name, help=text, description=text, formatter_class=p.formatter_class)
        q.set_defaults(action_parser_=q)  # the parser that names an option it does not take (ltr data fetch)
        return q

    q = action("list", "the registered data sets")
    q.add_argument("--kind", choices=("letor", "text"), default=None,
                   help="only feature-file sets (letor) or text collections (text)")
    add_format(q)
    q.set_defaults(func=run_list)

    q = action("info", "what the registry says about one set")
    q.add_argument("name", metavar="NAME", help="a registered name (see ltr data list)")
    q.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    q.set_defaults(func=run_info)

    q = action("fetch", "download, check and unpack a set into DIR/NAME")
    q.add_argument("name", metavar="NAME", help="a registered name (see ltr data list)")
    q.add_argument("--to", required=True, metavar="DIR", help="parent folder; the set lands in DIR/NAME once complete")
    q.add_argument("--base-url", default=None, dest="base_url",
                   help="fetch every archive from BASE_URL/FILE instead of the registered addresses (a mirror)")
    q.add_argument("--timeout", type=seconds, default=30.0, metavar="SECONDS",
                   help="seconds to wait for a connection or for data")
    q.add_argument("--retries", type=int, default=2, help="times an interrupted transfer is resumed")
    q.add_argument("--keep-archives", action="store_true", dest="keep_archives",
                   help="keep the downloaded archives after unpacking, and in later fetches (one archive holds "
                        "the three OHSUMED versions, one the two Yahoo sets)")
    q.add_argument("--quiet", action="store_true", help="no progress bar and no notes")
    q.set_defaults(func=run_fetch)

    q = action("verify", "check a local copy: layout, counts, checksums")
    q.add_argument("name", metavar="NAME", help="a registered name (see ltr data list)")
    q.add_argument("dir", metavar="DIR", help="the local copy")
    q.add_argument("--no-counts", action="store_false", dest="counts",
                   help="skip reading every file to count rows and queries (fast)")
    q.add_argument("--no-checksums", action="store_false", dest="checksums", help="skip hashing files")
    q.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    q.set_defaults(func=run_verify)


def run(args: argparse.Namespace) -> int:  # pragma: no cover - every action sets its own func
    raise UsageError("choose an action: list, info, fetch or verify")


def run_list(args: argparse.Namespace) -> int:
    from ltr.registry import info, list_datasets

    names = list_datasets(args.kind)
    entries = [info(n) for n in names]
    rows = [[n, e.get("kind", ""), e.get("title", ""), e.get("license", "")] for n, e in zip(names, entries)]
    emit(args, ["name", "kind", "title", "license"], rows,
         [{"name": n, "kind": e.get("kind"), "title": e.get("title"), "license": e.get("license")}
          for n, e in zip(names, entries)])
    return 0


def _dumps(obj, **kw) -> str:
    """JSON through the toolkit's one conversion (NumPy values as numbers, NaN as null); TOML dates as text."""
    return json.dumps(strict_json(obj), default=str, allow_nan=False, **kw)


def _archive_checksums(d: dict) -> dict[str, list[str]]:
    """Archive file -> the checksum algorithms the registry records for it (``[]``: none, so fetch checks only
    that the file begins as its format does, and counts the unpacked files)."""
    return {a["file"]: [k for k in ("sha256", "md5") if a.get(k)] for a in d.get("archives", [])}


def run_info(args: argparse.Namespace) -> int:
    from ltr.registry import info

    d = info(args.name)
    checksums = _archive_checksums(d)
    if args.format == "json":
        print(_dumps({**d, "archive_checksums": checksums}, indent=2))
        return 0
    for key, value in d.items():
        if isinstance(value, (dict, list)):
            value = _dumps(value)
            if len(value) > 400:
                value = value[:400] + " ... (--format json shows all)"
        print(f"{key}: {value}")
        if key == "archives" and checksums:  # the archives line may be cut short: whether fetch can check each
            print("archive checksums: " + "; ".join(
                f"{f} {', '.join(algos)}" if algos else f"{f} none recorded (fetch checks only its format and the "
                                                        f"unpacked files' counts)" for f, algos in checksums.items()))
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from ltr.registry import fetch, info

    if args.retries < 0:
        raise UsageError(f"--retries must be >= 0, got {args.retries}")
    to = os.path.expanduser(args.to)
    # said before the terms of use, not after them (a path under a file and a base URL that is none: trial t72)
    if os.path.exists(to) and not os.path.isdir(to):
        raise UsageError(f"--to {args.to}: is a file; give a folder")
    above = os.path.dirname(os.path.abspath(to))
    while not os.path.exists(above) and os.path.dirname(above) != above:
        above = os.path.dirname(above)
    if not os.path.isdir(above):
        raise UsageError(f"--to {args.to}: {above} is a file, not a folder")
    if args.base_url is not None:
        from urllib.parse import urlsplit

        if urlsplit(args.base_url).scheme.lower() not in ("http", "https", "ftp", "file"):
            raise UsageError(f"--base-url {args.base_url}: not a URL; give http(s)://HOST/PATH, or file:///FOLDER "
                             "for a folder holding the archives")
    terms = info(args.name).get("license")
    if terms:
        note(args, f"terms of use: {terms}")
    path = fetch(args.name, args.to, progress=not args.quiet, base_url=args.base_url, timeout=args.timeout,
                 retries=args.retries, keep_archives=args.keep_archives)
    print(path)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from ltr.registry import verify

    report = verify(args.name, args.dir, counts=args.counts, checksums=args.checksums)
    if args.format == "json":
        print(_dumps(report.to_dict(), indent=2))
    else:
        print(report)
    if not report.ok:
        if report.missing and len(report.missing) == len(report.files):
            what = f"holds none of {args.name}'s files"
        elif report.missing and not report.differing and not report.problems:
            what = f"is incomplete ({len(report.missing)} file(s) missing)"
        else:
            what = f"differs from the registry's {args.name}"
        sys.stdout.flush()  # the report first, even through a pipe, where standard output is buffered
        print(f"ltr data verify: {args.dir} {what} (see above)", file=sys.stderr)
        return 1
    return 0
