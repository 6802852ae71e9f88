"""``ltr``: the command line, one package over the library.

Each command is a module with ``register(subparsers)`` and a ``run(args) -> int`` of a few lines over library
functions. What they share lives below them, one concern a module: :mod:`._guard` (exit codes, signals, the usage
error, the one error guard), :mod:`._files` (output, the files read and written), :mod:`._options` (option builders),
:mod:`._data` (reading LETOR data), :mod:`._config` (``--config``), :mod:`._model` (the model options, the ranker).
The commands that compose the feature layer (``features``) import it lazily; the rest never do.

Exit codes: 0 success, 1 a data or file error (one line on standard error, no traceback), 2 a usage error, 130
interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP), 141 standard output's reader went away (``|
head``: quietly, as a GNU tool killed by SIGPIPE).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import re
import signal
import sys
from collections.abc import Sequence

from ltr.cli._config import apply_config
from ltr.cli._guard import EXIT_USAGE, ArgumentParser, HelpFormatter, guard, stopped_how, terminate_on_sigterm

__all__ = ["build_parser", "main", "main_entry"]

#: The command modules (``ltr.cli.NAME``), in the order ``ltr --help`` lists them; imported when the parser is built,
#: after the console script has installed its signal handlers (an early Ctrl-C is then one line, not a traceback).
COMMANDS = ("demo", "info", "evaluate", "train", "cv", "tune", "compare", "fuse", "report", "features", "rerank",
            "export", "data", "doctor")


#: Commands registered by another command's module.
_MODULE_OF = {"predict": "train", "eval": "evaluate"}  # (eval: an alias, as trec_eval's users say it)


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``ltr`` parser with every command, or only ``commands`` (registering a command imports what its options
    list, such as the metrics and the engines: ``ltr train ...`` needs train's alone, ``ltr --version`` none)."""
    from ltr import __version__

    parser = ArgumentParser(prog="ltr", description="Learning to rank with gradient-boosted trees.",
                                     formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"ltrkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS if commands is None else commands:
        importlib.import_module(f"ltr.cli.{name}").register(sub)
    return parser


def _needed(argv: Sequence[str]) -> list[str] | None:
    """The commands the parser needs for ``argv``: the one named first, none for ``--version`` alone, else all (the
    top-level help lists them, and a misspelt command is named among them)."""
    module = _MODULE_OF.get(argv[0], argv[0]) if argv else None
    if module in COMMANDS:
        return [module]
    if list(argv) == ["--version"]:
        return []
    return None


def _command_named(argv: Sequence[str]) -> str:
    """``ltr train`` (``ltr data info``) from the arguments, before they are parsed: the name an interruption during
    the imports and the parsing is reported under, as it is once the command runs."""
    words = [a for a in argv[:2] if not a.startswith("-")]
    if not words or (words[0] not in COMMANDS and words[0] not in _MODULE_OF):
        return "ltr"
    return "ltr " + " ".join(words[:2] if words[0] == "data" else words[:1])


def _thread_variables() -> str | None:
    """A message when ``NUMBA_NUM_THREADS`` is set to what Numba cannot take (it fails on import at 0, with a
    traceback, and warns over several lines on a word), or ``OMP_NUM_THREADS`` to what OpenMP cannot (libgomp says
    so in its own lines when an engine loads), else None; set to nothing, it is taken as unset, and so is
    ``NUMBA_THREADING_LAYER`` (a layer Numba cannot start is said where a kernel first runs:
    :func:`ltr.threads.threading_layer_error`)."""
    import os

    if os.environ.get("NUMBA_THREADING_LAYER", "x").strip() == "":  # set to nothing: unset too (Numba knew no '')
        del os.environ["NUMBA_THREADING_LAYER"]
    omp = os.environ.get("OMP_NUM_THREADS")
    if omp is not None and omp.strip() == "":
        del os.environ["OMP_NUM_THREADS"]  # (as NUMBA_NUM_THREADS: libgomp said it in its own lines)
    elif omp is not None and not all(re.fullmatch(r"\s*\+?[0-9]+\s*", x) and 1 <= int(x) < 2**63
                                     for x in omp.split(",")):  # libgomp printed its own two lines, unprefixed (t60)
        return (f"environment variable OMP_NUM_THREADS={omp!r}: must be a whole number >= 1, or a comma-separated "
                "list of them (or unset)")
    value = os.environ.get("NUMBA_NUM_THREADS")
    if value is not None and value.strip() == "":  # `NUMBA_NUM_THREADS= ltr ...`: unset, which Numba warns about
        del os.environ["NUMBA_NUM_THREADS"]
        return None
    if value is None:
        return None
    try:
        if int(value) >= 1:
            return None
    except ValueError:
        pass
    return f"environment variable NUMBA_NUM_THREADS={value!r}: must be a whole number >= 1 (or unset)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 data error, 2 usage error, 130 interrupted)."""
    argv = _negative_lists(list(sys.argv[1:] if argv is None else argv))
    said = _command_named(argv)
    try:
        # before the parser is built: its command modules import Numba, which fails on import at 0 (with a
        # traceback) and warns over several lines on a word, for --help and --version too
        bad = _thread_variables()
        if bad:
            print(f"{said}: error: {bad}", file=sys.stderr)
            return EXIT_USAGE
        parser = build_parser(_needed(argv))
        from ltr.cli import _guard

        _guard.parsing[:] = argv  # a usage error's hint reads them
        try:
            args, extra = parser.parse_known_args(argv)
            if extra:  # named by the sub-command (ltr data's action), whose --help lists what it takes
                named = getattr(args, "action_parser_", None) or getattr(args, "parser_", parser)
                named.error(f"unrecognized arguments: {' '.join(extra)}")
        except SystemExit as e:  # argparse already printed the usage message
            return int(e.code or 0)
        name = f"{args.command} {args.action}" if getattr(args, "action", None) else args.command  # ltr data info
        code = guard(name, lambda a: apply_config(a.parser_, a, argv), args)
        if code:
            return code
        code = guard(name, _text_options, args)
        if code:
            return code
        return guard(name, args.func, args)
    except KeyboardInterrupt as e:  # while importing or parsing: said as the command says it
        said_how, code = stopped_how(e)
        with contextlib.suppress(OSError):  # standard error gone with the terminal (SIGHUP): the code says it
            print(f"{said}: {said_how}; no output file was left half-written", file=sys.stderr)
        return code


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


#: Options whose values are text written into outputs (runs, results, reports, engine models) or handed to an engine
#: that takes UTF-8 only: bytes that are not UTF-8 (a Latin-1 terminal's, Python's lone surrogates for them) are
#: refused by option, where they were written as invalid JSON or blamed on standard output after the work.
_TEXT_OPTIONS = {"tag": "--tag", "name": "--name", "names": "--names", "title": "--title", "params": "--param",
                 "objective_params": "--objective-param", "dataset_cache": "--dataset-cache"}


def _text_options(args) -> None:
    from ltr.cli._guard import UsageError

    for dest, flag in _TEXT_OPTIONS.items():
        value = getattr(args, dest, None)
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and any("\udc80" <= c <= "\udcff" for c in text):
                raw = text.encode("utf-8", "surrogateescape")
                bad = next(b for b in raw if b >= 0x80 and chr(0xDC00 + b) in text)
                shown = raw.decode("utf-8", "replace")
                named = "NAME" if dest == "name" and getattr(args, "command", None) == "data" else flag  # (positional)
                raise UsageError(f"{named} {shown}: not valid UTF-8 (byte 0x{bad:02x}); give the text in UTF-8")


def _flushed(code: int) -> int:
    """``code``, once what is left of standard output is written: a write error there (``ltr --help > /dev/full``)
    is one line and exit 1, the reader gone (``| head``) exit 141, quietly, not Python's "Exception ignored" at exit."""
    from ltr.cli._guard import EXIT_BROKEN_PIPE, EXIT_DATA, discard_stdout, error_message

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        discard_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as e:
        discard_stdout()
        if code:  # the command has said its error (this one, when it was writing)
            return code
        print(f"{_command_named(sys.argv[1:])}: error: {error_message(e)}", file=sys.stderr)
        return EXIT_DATA
    return code


def main_entry() -> None:
    """What the ``ltr`` console script runs once this package has loaded (:func:`ltr._console.main`, which says an
    interrupt during that load in one line)."""
    try:
        terminate_on_sigterm()
        from ltr._checked_io import checked_stdout  # the standard library only: Numba is not imported yet

        checked_stdout()  # a table printed past a full disk is an error, not a file cut short and exit 0
        code = main()
        code = _flushed(code)
    except KeyboardInterrupt as e:  # between the handlers' installation and main's own guard
        said_how, code = stopped_how(e)
        with contextlib.suppress(OSError):
            print(f"{_command_named(sys.argv[1:])}: {said_how}", file=sys.stderr)
    # The work is done and its outputs are in place: an interrupt while the interpreter shuts down (thread pools,
    # atexit handlers) has nothing left to stop, and would only turn the exit status into a signal's.
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    sys.exit(code)
