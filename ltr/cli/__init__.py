"""``ltr``: the command line, one package over the library.

Each command is a module with ``register(subparsers)`` and a ``run(args) -> int`` of a few lines over library
functions; :mod:`._common` holds what they share (the usage error, the one error guard, option builders, output).
The commands that compose the feature layer (``features``) import it lazily; the rest never do.

Exit codes: 0 success, 1 a data or file error (one line on standard error, no traceback), 2 a usage error, 130
interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
from collections.abc import Sequence

from ltr.cli import compare, cv, data, demo, doctor, evaluate, export, features, fuse, info, report, rerank, train, tune
from ltr.cli._common import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    ArgumentParser,
    HelpFormatter,
    Terminated,
    apply_config,
    guard,
    terminate_on_sigterm,
)

__all__ = ["build_parser", "main", "main_entry"]

#: The command modules, in the order ``ltr --help`` lists them.
COMMANDS = (demo, info, evaluate, train, cv, tune, compare, fuse, report, features, rerank, export, data, doctor)


def build_parser() -> argparse.ArgumentParser:
    from ltr import __version__

    parser = ArgumentParser(prog="ltr", description="Learning to rank with gradient-boosted trees.",
                                     formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"ltrkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 data error, 2 usage error, 130 interrupted)."""
    argv = _negative_lists(list(sys.argv[1:] if argv is None else argv))
    try:
        parser = build_parser()
        try:
            args, extra = parser.parse_known_args(argv)
            if extra:  # named by the sub-command, whose --help lists what it takes
                getattr(args, "parser_", parser).error(f"unrecognized arguments: {' '.join(extra)}")
        except SystemExit as e:  # argparse already printed the usage message
            return int(e.code or 0)
        name = f"{args.command} {args.action}" if getattr(args, "action", None) else args.command  # ltr data info
        code = guard(name, lambda a: apply_config(a.parser_, a, argv), args)
        if code:
            return code
        return guard(name, args.func, args)
    except KeyboardInterrupt as e:  # while importing or parsing
        print("ltr: terminated" if isinstance(e, Terminated) else "ltr: interrupted", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(e, Terminated) else EXIT_INTERRUPTED


#: Options whose value may be a comma-separated list starting with a negative number (``--labels -2,-1,0,1,2``),
#: which argparse would take for an option.
_NEGATIVE_LIST_OPTIONS = ("--labels", "--weights")


def _negative_lists(argv: list[str]) -> list[str]:
    """``--labels -2,0,1`` as ``--labels=-2,0,1`` (what argparse reads as the option's value)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in _NEGATIVE_LIST_OPTIONS and i + 1 < len(argv) and re.fullmatch(r"-\d[\d.,+-]*", argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main_entry() -> None:
    """Console-script entry point."""
    terminate_on_sigterm()
    code = main()
    # The work is done and its outputs are in place: an interrupt while the interpreter shuts down (thread pools,
    # atexit handlers) has nothing left to stop, and would only turn the exit status into a signal's.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(code)
