"""The process side of every command: exit codes, signals, the usage error and its parser, help text, and the one
error guard that turns a user's mistake into one line on standard error and an exit status."""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
import re
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from ltr import _checked_io  # the standard library only: the signal handlers need it before anything heavy
from ltr.cli._words import config_words

__all__ = [
    "add_command",
    "ArgumentParser",
    "discard_stdout",
    "error_message",
    "EXIT_BROKEN_PIPE",
    "EXIT_DATA",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "guard",
    "HelpFormatter",
    "note",
    "on_int",
    "on_term",
    "split_list",
    "stopped_how",
    "terminate_on_sigterm",
    "Terminated",
    "UsageError",
    "visible",
]


EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a GNU tool whose reader went away (`| head`)


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a batch scheduler's time limit, ``docker stop``) or SIGHUP (the terminal or ssh
    session closed), raised where the command is, so that it unwinds as Ctrl-C does: temporary files removed,
    previous outputs intact, exit 128 + the signal's number (143, 129)."""

    def __init__(self, signum: int = 15):
        super().__init__()
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def said(self) -> str:
        return "hung up (SIGHUP)" if self.signum == 1 else "terminated"


def stopped_how(e: KeyboardInterrupt) -> tuple[str, int]:
    """What an interrupted command says it was (``interrupted``, ``terminated``) and its exit code."""
    if isinstance(e, Terminated):
        return e.said, e.exit_code
    return "interrupted", EXIT_INTERRUPTED


def on_term(signum, frame):
    """SIGTERM's and SIGHUP's handler: raise :class:`Terminated` here, and at the next output if a library swallows
    it on its way (with its signal: a SIGHUP swallowed during an import surfaced as SIGTERM's 143)."""
    _checked_io.stop_outputs(functools.partial(Terminated, signum))
    if _checked_io.holding:  # a group of outputs is being renamed in: raised once it is whole
        return
    raise Terminated(signum)


def on_int(signum, frame):
    """SIGINT's handler: raise :class:`KeyboardInterrupt` here, and at the next output (as :func:`on_term`)."""
    _checked_io.stop_outputs(KeyboardInterrupt)
    if _checked_io.holding:  # as on_term
        return
    raise KeyboardInterrupt


def terminate_on_sigterm() -> None:
    """Make SIGTERM raise :class:`Terminated` and SIGINT :class:`KeyboardInterrupt` in the main thread (the console
    script's start), each first stopping every later output from replacing its file
    (:func:`ltr.io.outputs.stop_outputs`): an interrupt that a library swallows on its way (a callback's "Exception
    ignored") still leaves the previous outputs as they were, and surfaces at the next output."""
    import signal

    signal.signal(signal.SIGTERM, on_term)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when started with SIGINT ignored (&)
        signal.signal(signal.SIGINT, on_int)
    hup = getattr(signal, "SIGHUP", None)
    if hup is not None and signal.getsignal(hup) == signal.SIG_DFL:  # not under nohup, which ignores it
        signal.signal(hup, on_term)
    if not getattr(sys.unraisablehook, "ltrkit", False):  # (once, however often a process starts the command line)
        sys.unraisablehook = _quiet_about_our_interrupts(sys.unraisablehook)


def _quiet_about_our_interrupts(previous):
    """``sys.unraisablehook`` silent for the interrupt these handlers raised and recorded, which a library's callback
    swallowed (llvmlite's, while Numba compiles: 'Exception ignored on calling ctypes callback function', an 8-line
    traceback; trial t58): the command stops at its next check and says it was interrupted, once."""
    def hook(unraisable):
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and _checked_io.stopped is not None:
            return
        previous(unraisable)

    hook.ltrkit = True
    return hook


class UsageError(Exception):
    """A mistake in the command line itself (exit 2)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser with usage errors on one line: the cause, and where the usage is, not the whole usage; and
    without argparse's abbreviations (``--k 2`` was taken as ``--kernel 2``; an option is spelled out or refused)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        if message.startswith("unrecognized arguments: "):
            import difflib

            known = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
            near = {t: difflib.get_close_matches(t.split("=")[0], known, n=1, cutoff=0.75)
                    for t in message.split(": ", 1)[1].split() if t.startswith("--") and len(t.split("=")[0]) > 4}
            said = "; ".join(f"{t.split('=')[0]}: did you mean {m[0]}?" if m[0] != t.split("=")[0] else
                             f"{m[0]} goes after the command ({self.prog} {m[0]} ...), not before it"
                             for t, m in near.items() if m)  # ('--quiet: did you mean --quiet?': trial t58)
            message += f" ({said})" if said else ""
        m = re.fullmatch(r"argument (--[\w-]+)(?:/[^:]*)?: expected one argument", message)
        if m and _dash_value_after(m[1]):  # argparse took the value (-s.txt) for an option
            message += f" (a value that starts with '-' is given as {m[1]}=VALUE)"
        self.exit(2, f"{self.prog}: error: {visible(message)} (see {self.prog} --help)\n")


#: The arguments the command line is parsing (set by :func:`ltr.cli.main`), for a usage error's hint.
parsing: list[str] = []


def _dash_value_after(option: str) -> bool:
    """Whether ``option`` is followed, in the arguments parsed, by a word that starts with '-' (other than '-')."""
    words = list(parsing)
    return any(w == option and i + 1 < len(words) and words[i + 1].startswith("-") and words[i + 1] != "-"
               for i, w in enumerate(words))


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help lines that always say the default and, where there are some, the choices."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.help is argparse.SUPPRESS:
            return text
        if action.choices and "%(choices)" not in text and not isinstance(action, argparse._SubParsersAction):
            text += " (choices: %(choices)s)"
        # the help states the default itself: "(default ...", "default: ..." or "...; default ..."
        said = "%(default)" in text or re.search(r"\(default\b|\bdefault:|;\s*default\b", text)
        if action.required and action.option_strings:
            return text + " (required)"
        if not said and action.option_strings and action.default is not argparse.SUPPRESS \
                and action.nargs != 0:  # a flag (store_true, store_const, help) has no value to default
            text += " (default: %(default)s)"
        return text

    def _expand_help(self, action: argparse.Action) -> str:
        params = dict(vars(action), prog=self._prog)
        for name in list(params):
            if params[name] is argparse.SUPPRESS:
                del params[name]
        if params.get("choices") is not None:
            params["choices"] = ", ".join(str(c) for c in params["choices"])
        if params.get("default") is None:
            params["default"] = "none"
        return self._get_help_string(action) % params


def add_command(sub, name: str, help: str, description: str | None = None,
                aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
    """A sub-command parser with the shared help formatter (``args.parser_`` is it, for ``--config``); ``aliases``:
    other names of the command (``ltr eval``, trec_eval users' word for ``ltr evaluate``)."""
    p = sub.add_parser(name, help=help, description=description or help, formatter_class=HelpFormatter,
                       aliases=list(aliases))
    p.set_defaults(parser_=p)
    return p


def split_list(text: str | None, option: str) -> list[str]:
    """``"a, b"`` -> ``["a", "b"]``; ``""`` or None -> ``[]``. An empty item (``"a,,b"``, ``"a,"``) is refused
    naming ``option``: dropping it gave ``--weights 1,,2`` two weights and ``--names x,,y`` two names."""
    items = [t.strip() for t in (text or "").split(",")]
    if len(items) > 1 and not all(items):
        raise UsageError(f"{option} {text!r}: an empty item between commas; separate the items by single commas")
    return [t for t in items if t]


def note(args, message: str) -> None:
    """A line on standard error, unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        action = getattr(args, "action", None)  # ltr data fetch: named as its errors are
        print(f"ltr {args.command}{' ' + action if action else ''}: {visible(message)}", file=sys.stderr)


# -- errors -------------------------------------------------------------------------------------------------------
#: C0 and C1 control characters and DEL: what a terminal acts on rather than shows.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """``text`` with each control character written as Python's ``repr`` writes it (``\\x1b``, ``\\t``), as the
    messages show a file's tokens: a file name holding ESC, from an archive or a listing, set the terminal's title or
    colours when a message named it (trial t65). Ordinary names are unchanged; a token the message shows by its
    ``repr`` holds no control character, so nothing is escaped twice (and escaping again changes nothing).

    Examples
    --------
    >>> visible("file not found: nosuch\\x1b[31mred.txt")
    'file not found: nosuch\\\\x1b[31mred.txt'
    """
    return _CONTROL.sub(lambda m: repr(m[0])[1:-1], text)


def _one_line(text: str) -> str:
    """The message's lines joined by "; " (only a line break ends a line: a name's other control characters are
    escaped, not taken as line ends, as ``str.splitlines`` takes a form feed or ``\\x1c``)."""
    return "; ".join(visible(part.strip()) for part in re.split(r"\r\n|[\r\n\u2028\u2029]", str(text)) if part.strip())


def _os_message(e: OSError) -> str:
    import errno

    name = e.filename
    why = e.strerror[:1].lower() + e.strerror[1:] if e.strerror else type(e).__name__
    if name is None and (cache := _numba_cache_folder(e)) is not None:  # Numba's own write names no file (t60)
        return (f"Numba could not save a compiled kernel in its cache folder {cache}: {why}; free room there, or "
                "point NUMBA_CACHE_DIR at a folder that has some")
    if name is None and e.errno in (errno.ENOSPC, errno.EIO, errno.EFBIG) and e.strerror:
        # the OS names no file; every file the toolkit writes names itself (ltr.io.atomic_write), so this is the
        # output printed (a table, JSON) going to a full disk or a failed device
        return f"standard output: cannot write: {e.strerror[:1].lower() + e.strerror[1:]}"
    if name is None:  # raised by the toolkit with its own message (which names the path)
        return _one_line(str(e))
    if isinstance(e, IsADirectoryError):
        return f"{name}: is a folder, not a file"
    if isinstance(e, NotADirectoryError):
        return f"{name}: a part of this path is a file, not a folder"
    if isinstance(e, FileNotFoundError):
        return f"{name}: no such file or folder{' (standard input is read as /dev/stdin)' if name == '-' else ''}"
    if isinstance(e, PermissionError):
        return f"{name}: permission denied"
    return f"{name}: {e.strerror or e}"


def _numba_cache_folder(e: BaseException) -> str | None:
    """The cache folder Numba was writing when it raised ``e`` (a full disk, a file size limit: its
    ``save_overload`` lets the OS's error through, naming no file), or None when ``e`` did not come from there."""
    tb = e.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename.replace("\\", "/").endswith("numba/core/caching.py"):
            folder = getattr(frame.f_locals.get("self"), "_cache_path", None)
            if folder is not None:
                return str(folder)
        tb = tb.tb_next
    return None


def _without_traceback(warning: Warning) -> Warning:
    """``warning`` without a traceback its text carries (Numba's for an environment variable it cannot parse,
    NUMBA_OPT=abc: its frames were joined into the one line; trial t60): the text before it, and its last line, the
    exception."""
    text = str(warning)
    head, found, tb = text.partition("Traceback (most recent call last):")
    if not found:
        return warning
    lines = [line.strip() for line in tb.splitlines() if line.strip()]
    head = re.sub(r"\s*The parse failed with exception:\s*$", "", head.strip())
    said = f"{head} ({lines[-1]})" if lines else head
    try:
        return type(warning)(said)
    except TypeError:  # a category whose constructor takes other arguments: the text is what is printed
        return Warning(said)


def error_message(e: BaseException) -> str:
    """The one line a user sees for ``e``, worded for the command line (its control characters escaped:
    :func:`visible`)."""
    return visible(_error_message(e))


def _error_message(e: BaseException) -> str:
    if isinstance(e, UnicodeEncodeError):  # every file is written as UTF-8: this is a printed table or note
        from ltr.io.outputs import unencodable

        return unencodable(e)
    cli = getattr(e, "cli_message", None)
    if callable(cli):
        return _one_line(cli())
    from ltr.threads import threading_layer_error

    if layer := threading_layer_error(e):
        return layer
    if isinstance(e, OSError) and not type(e).__module__.startswith("ltr"):
        return _os_message(e)
    loop = re.fullmatch(r"Symlink loop from '(.*)'", str(e)) if isinstance(e, RuntimeError) else None
    if loop:  # pathlib's resolve() of an output path, in Python's words (trial t70)
        return f"{loop[1]}: a loop of symbolic links (the link leads back to itself); give another path"
    return _one_line(str(e) or type(e).__name__)


class _CommandLog(logging.Handler):
    """The toolkit's log records of WARNING and above as the command's own lines (``ltr train: warning: ...``,
    ``ltr train: error: ... (ValueError: ...)`` for one with an exception), on the standard error of the moment (a
    test's captured one too)."""

    def __init__(self, command: str):
        super().__init__(logging.WARNING)
        self.command = command

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = "error" if record.levelno >= logging.ERROR else "warning"
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                e = record.exc_info[1]
                text += f" ({type(e).__name__}: {e})" if str(e) else f" ({type(e).__name__})"
            print(f"ltr {self.command}: {level}: {_one_line(text)}", file=sys.stderr)
        except Exception:  # pragma: no cover - as logging.Handler.handleError, never fail the command over a line
            self.handleError(record)


_OWN_PACKAGES = ("ltr", "features")
_SAID_LOCK = threading.Lock()
_said_depth = 0  # commands running in this process (threads calling main): the first installs, the last restores
_said_installed = None  # (the showwarning, the loggers' propagate flags and the handler) to restore


def _own_file(filename: str) -> bool:
    """Whether ``filename`` is a source file of the toolkit's packages (as installed, not any folder named so)."""
    try:
        where = Path(filename).resolve()
    except (OSError, ValueError):
        return False
    for name in _OWN_PACKAGES:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            if Path(module.__file__).resolve().parent in where.parents:
                return True
    return False


@contextlib.contextmanager
def _said_as(command: str):
    """While a command runs, the toolkit's log warnings and Python warnings are printed as one line prefixed
    ``ltr COMMAND: warning:`` (a warning of another category than the toolkit's own keeps its category:
    ``ltr train: warning: FutureWarning: ...``), not in Python's own words (logging's bare message, ``warnings``'
    file, line and source line). Where the caller's program has configured logging (``ltr.cli.main`` inside an
    application: a handler on the root logger or on the toolkit's), its handlers are left to do it. The preset's
    :class:`~ltr.rankers.presets.PresetWarning` is not shown (the commands say what it set in their own notes).
    Commands run at once in one process (threads) share one installation, removed when the last ends (a
    ``warnings.catch_warnings`` per command would restore each other's state: it is not thread-safe)."""
    global _said_depth, _said_installed
    with _SAID_LOCK:
        if _said_depth == 0:
            configured = logging.getLogger().handlers or any(
                logging.getLogger(name).handlers for name in _OWN_PACKAGES)
            loggers = [] if configured else [logging.getLogger(name) for name in _OWN_PACKAGES]
            handler = _CommandLog(command)
            saved = [(lg, lg.propagate) for lg in loggers]
            for lg in loggers:
                lg.addHandler(handler)
                lg.propagate = False

            def show(message, category, filename, lineno, file=None, line=None):
                own = category.__module__.split(".")[0] in _OWN_PACKAGES or (
                    category is UserWarning and _own_file(filename))
                kind = "" if own else f"{category.__name__}: "
                said = error_message(_without_traceback(message)) if isinstance(message, Warning) else \
                    _one_line(str(message))
                print(f"ltr {command}: warning: {kind}{said}", file=file or sys.stderr)

            from ltr.rankers.presets import PresetWarning

            _said_installed = (warnings.showwarning, list(warnings.filters), saved, handler)
            warnings.showwarning = show
            # the commands say what the preset set in their own notes
            warnings.filterwarnings("ignore", category=PresetWarning)
        _said_depth += 1
    try:
        yield
    finally:
        with _SAID_LOCK:
            _said_depth -= 1
            if _said_depth == 0 and _said_installed is not None:
                shown, filters, saved, handler = _said_installed
                _said_installed = None
                warnings.showwarning = shown
                warnings.filters[:] = filters
                warnings._filters_mutated()  # as warnings.catch_warnings does on leaving
                for lg, propagate in saved:
                    lg.removeHandler(handler)
                    lg.propagate = propagate


def discard_stdout() -> None:
    """Standard output to /dev/null from now on: what is left in its buffer goes nowhere, also at the interpreter's
    own flush on exit (which would print "Exception ignored" for a reader gone or a full disk)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - no descriptor to point elsewhere
        pass


def _nothing_lost(command: str, args: argparse.Namespace) -> str:
    """What an interrupted command left: a fetch keeps what it downloaded (a ``.part`` file is resumed), which the
    general words would invite the user to delete."""
    if command == "data fetch":
        where = os.path.join(os.path.expanduser(str(getattr(args, "to", "DIR"))), ".ltrkit-downloads")
        try:
            with os.scandir(where) as entries:
                kept = any(entries)
        except OSError:  # not made yet: stopped before its first byte (trial t63 was told of a folder not there)
            kept = False
        if not kept:
            return "nothing was downloaded or installed"
        return f"nothing was installed; what was downloaded is kept in {where} and the next fetch goes on from it"
    return "no output file was left half-written"


def _interrupted(command: str, args: argparse.Namespace, e: KeyboardInterrupt) -> int:
    """Say that the command was interrupted, and return its exit code (130 for Ctrl-C, 143 for SIGTERM)."""
    # (not ltr.io.outputs: an interrupt during the command's first imports found numba half-imported there, and
    # this handler failed in turn with a second traceback, exit 1)
    _checked_io.stop_outputs(None)  # reported here: a later command of this process (a test's) writes again
    said, code = stopped_how(e)
    with contextlib.suppress(OSError):  # standard error gone with the terminal (SIGHUP): the code says it
        print(f"ltr {command}: {said}; {_nothing_lost(command, args)}", file=sys.stderr)
    return code


def guard(command: str, func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """Run a command; every user error becomes one line on standard error and an exit code, never a traceback.

    0 success, 1 a data or file error, 2 a usage error, 130 interrupted (Ctrl-C; outputs are written atomically,
    so nothing is left half-written).
    """
    try:
        with _said_as(command):
            code = int(func(args) or 0)
        if _checked_io.stopped is not None:  # an interrupt a library swallowed ("Exception ignored on calling ctypes
            raise _checked_io.stopped()  # callback"): a command with no output to stop at ended as if none came
        return code
    except UsageError as e:
        print(f"ltr {command}: error: {_one_line(config_words(str(e), args))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as e:
        return _interrupted(command, args, e)
    except BrokenPipeError:  # `ltr ... | head`: quietly, and not a success (the outputs after it were not written)
        discard_stdout()
        return EXIT_BROKEN_PIPE
    except MemoryError as e:  # a file larger than the memory a job may have (ulimit -v): not a traceback (t60)
        said = _one_line(str(e))
        print(f"ltr {command}: error: out of memory{f' ({said})' if said else ''}: the data does not fit in the "
              "memory this process may use (its limit, as ulimit -v or a batch job's memory request sets it, or the "
              "machine's)", file=sys.stderr)
        return EXIT_DATA
    except (ValueError, TypeError, OSError, RuntimeError, ImportError, LookupError) as e:
        if _checked_io.stopped is not None:  # a Ctrl-C a library made its own error: NumPy's import turns it into
            return _interrupted(command, args, _checked_io.stopped())  # 'your NumPy install is broken' (t58)
        from ltr.exceptions import OptionError, ParameterValueError

        print(f"ltr {command}: error: {error_message(e)}", file=sys.stderr)
        registry = sys.modules.get("ltr.registry")  # (imported here, it imports NumPy: a second failure if NumPy's
        unknown = (registry.UnknownDatasetError,) if registry is not None else ()  # import is what failed)
        usage = (OptionError, ParameterValueError, *unknown)  # the options' fault (ltr data info NAME too)
        from ltr.threads import threading_layer_error

        return EXIT_USAGE if isinstance(e, usage) or threading_layer_error(e) else EXIT_DATA  # (NUMBA_NUM_THREADS's)
    except Exception as e:  # a damaged file in Numba's cache: pickle's error out of its load (trial t70), else a bug
        cache = _numba_cache_folder(e)
        if cache is None:
            raise
        print(f"ltr {command}: error: Numba's cache folder {visible(cache)} holds a damaged file ({type(e).__name__}: "
              f"{_one_line(str(e))}); delete the folder (Numba compiles and saves the kernels again), or point "
              "NUMBA_CACHE_DIR at another", file=sys.stderr)
        return EXIT_DATA
