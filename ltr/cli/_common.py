"""What every command shares: the usage error, the one error guard, help text, option builders, output.

One name per concept across commands: ``--n-jobs`` (engine threads, -1 every core), ``--seed`` (the model's seed;
``--split-seed`` for folds), ``--quiet`` (no progress bar, no notes), ``--format``, ``--metrics``, ``--out``;
reader options are generated from :data:`ltr.reader_options.READER_OPTIONS`; model options from
:class:`ltr.Ranker`'s own defaults, so ``ltr train``, ``ltr cv`` and ``Ranker()`` cannot drift apart.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import json
import logging
import math
import os
import re
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ltr import _checked_io  # the standard library only: the signal handlers need it before anything heavy
from ltr._json import strict_json

__all__ = [
    "ArgumentParser",
    "UsageError",
    "add_collection_input",
    "add_command",
    "add_conventions",
    "add_dask_options",
    "add_format",
    "add_metrics",
    "add_model_options",
    "add_n_jobs",
    "add_quiet",
    "add_reader_options",
    "add_text_reading",
    "check_distill_options",
    "check_doc_ids",
    "check_outputs",
    "conventions",
    "dask_client",
    "dataset_defaults",
    "dataset_max_grade",
    "dataset_names",
    "default_max_grade",
    "emit",
    "guard",
    "make_ranker",
    "metric_names",
    "note",
    "read_data",
    "reader_options",
    "refuse_teacher_column_in_subsets",
    "run_tag",
    "seconds",
    "split_list",
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
    raise Terminated(signum)


def on_int(signum, frame):
    """SIGINT's handler: raise :class:`KeyboardInterrupt` here, and at the next output (as :func:`on_term`)."""
    _checked_io.stop_outputs(KeyboardInterrupt)
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
            said = "; ".join(f"{t.split('=')[0]}: did you mean {m[0]}?" for t, m in near.items() if m)
            message += f" ({said})" if said else ""
        m = re.fullmatch(r"argument (--[\w-]+)(?:/[^:]*)?: expected one argument", message)
        if m and _dash_value_after(m[1]):  # argparse took the value (-s.txt) for an option
            message += f" (a value that starts with '-' is given as {m[1]}=VALUE)"
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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


def split_list(text: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def note(args, message: str) -> None:
    """A line on standard error, unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        action = getattr(args, "action", None)  # ltr data fetch: named as its errors are
        print(f"ltr {args.command}{' ' + action if action else ''}: {message}", file=sys.stderr)


# -- errors -------------------------------------------------------------------------------------------------------
def _one_line(text: str) -> str:
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _os_message(e: OSError) -> str:
    import errno

    name = e.filename
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
        return f"{name}: no such file or folder"
    if isinstance(e, PermissionError):
        return f"{name}: permission denied"
    return f"{name}: {e.strerror or e}"


def error_message(e: BaseException) -> str:
    """The one line a user sees for ``e``, worded for the command line."""
    if isinstance(e, UnicodeEncodeError):  # every file is written as UTF-8: this is a printed table or note
        from ltr.io.outputs import unencodable

        return unencodable(e)
    cli = getattr(e, "cli_message", None)
    if callable(cli):
        return _one_line(cli())
    if isinstance(e, OSError) and not type(e).__module__.startswith("ltr"):
        return _os_message(e)
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
                said = error_message(message) if isinstance(message, Warning) else _one_line(str(message))
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


def guard(command: str, func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """Run a command; every user error becomes one line on standard error and an exit code, never a traceback.

    0 success, 1 a data or file error, 2 a usage error, 130 interrupted (Ctrl-C; outputs are written atomically,
    so nothing is left half-written).
    """
    try:
        with _said_as(command):
            return int(func(args) or 0)
    except UsageError as e:
        print(f"ltr {command}: error: {_one_line(_config_words(str(e), args))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as e:
        from ltr.io.outputs import stop_outputs

        stop_outputs(None)  # reported here: a later command of this process (a test's) writes again
        said, code = stopped_how(e)
        with contextlib.suppress(OSError):  # standard error gone with the terminal (SIGHUP): the code says it
            print(f"ltr {command}: {said}; no output file was left half-written", file=sys.stderr)
        return code
    except BrokenPipeError:  # `ltr ... | head`: quietly, and not a success (the outputs after it were not written)
        discard_stdout()
        return EXIT_BROKEN_PIPE
    except (ValueError, TypeError, OSError, RuntimeError, ImportError, LookupError) as e:
        from ltr.exceptions import OptionError, ParameterValueError

        print(f"ltr {command}: error: {error_message(e)}", file=sys.stderr)
        from ltr.registry import UnknownDatasetError

        usage = (OptionError, ParameterValueError, UnknownDatasetError)  # the options' fault (ltr data info NAME too)
        return EXIT_USAGE if isinstance(e, usage) else EXIT_DATA


# -- output -------------------------------------------------------------------------------------------------------
def emit(args, header: Sequence[str], rows: Sequence[Sequence], obj: Any, *, footer: str | None = None,
         to_stderr: bool = False) -> None:
    """Print a result as a table (with ``footer`` below), strict JSON (NaN -> null), or pure CSV (``footer`` on
    standard error, so that the CSV stays machine-readable); on standard error when an output of the command took
    standard output (``to_stderr``, from :func:`check_outputs`)."""
    from ltr._table import format_csv, format_table

    out = sys.stderr if to_stderr else sys.stdout
    fmt = getattr(args, "format", "table")
    if fmt == "json":
        print(json.dumps(strict_json(obj), indent=2, allow_nan=False), file=out)
    elif fmt == "csv":
        print(format_csv(header, rows), file=out)
        if footer:
            note(args, footer)
    else:
        print(format_table(header, rows), file=out)
        if footer:
            print(footer, file=out)


def check_doc_ids(path, flag: str, fix: str) -> None:
    """``flag`` writes a TREC run, which needs document ids: refuse a LETOR file whose first row carries none (a
    ``docid = X`` comment; LETOR files give every row one or none), before anything is read whole or trained
    (MSLR-WEB, Yahoo and Istella have none)."""
    from ltr.io.files import open_binary

    with open_binary(path, "LETOR file") as f:
        head = f.read(1 << 16).decode("utf-8-sig", errors="replace")  # a byte-order mark, as the reader takes it
    lines = re.split(r"(?<=\n)", head)
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), None)
    whole = first is not None and (first.endswith("\n") or len(head) < 1 << 16)  # a longer row: left to the reader
    if whole and not re.search(r"#.*\bdocid\s*[=:]\s*\S", first):
        raise UsageError(f"{flag} needs document ids, and {path} has none on its first row ('#docid = ...' "
                         f"comments, as LETOR 4.0 and ltr features write them): {fix}")


def check_outputs(*paths: str | os.PathLike | None, inputs: Sequence[str | os.PathLike | None] = (),
                  folders: Sequence[str | os.PathLike | None] = (), flags: Sequence[str] = ()) -> bool:
    """Check output paths before the work starts: refuse an output that is one of the command's input files
    (``inputs``) or any file under an input folder (``folders``: the inputs the command reads as folders; ``--out``
    naming the training data would replace it), standard output (``-``) given for two outputs, folders and
    unwritable places; create missing parent folders (so that a long job never ends by failing to write its
    result). A folder given where a file is read is left to the reader, which names it.

    ``flags`` name the options of ``paths``, in order (for the message that refuses ``-`` twice).

    Returns whether an output is standard output: a command then prints its own table on standard error
    (:func:`emit`'s ``to_stderr``), so that what it pipes stays one document."""
    from ltr.io.outputs import check_output_path, stream_of

    for stream, said in (("stdout", "standard output"), ("stderr", "standard error")):
        # '-' and /dev/stdout are one stream: two documents written to it would come out mixed
        piped = [i for i, p in enumerate(paths) if p is not None and stream_of(p) == stream]
        if len(piped) > 1:
            named = " and ".join(f"{flags[i]} {paths[i]}" for i in piped) if len(flags) == len(paths) else \
                " and ".join(str(paths[i]) for i in piped)
            raise UsageError(f"{said} given twice ({named}): it holds one output; give the others file names")
    outputs = [p for p in paths if p is not None and str(p) != "-"]
    read = _input_files(inputs, folders) if outputs else {}
    written: dict = {}
    for p in outputs:
        key = _file_key(p)
        if key in read and not os.path.lexists(p) and _sidecar_name(read[key]):  # read from then on
            raise UsageError(f"{p}: the name of a sidecar the readers find beside this command's data "
                             f"({read[key]}): its data would be read with it from then on: give the output another "
                             "name")
        if key in read:
            raise UsageError(f"{p}: is also an input of this command ({read[key]}); writing it would replace it: "
                             "give the output another name")
        if key in written and os.fspath(p) != os.devnull:  # /dev/null twice: both outputs discarded, as asked
            raise UsageError(f"{p}: given for two outputs ({written[key]} and {p}): give each its own name")
        written[key] = str(p)
        check_output_path(p)
    return any(p is not None and stream_of(p) == "stdout" for p in paths)


def data_inputs(args: argparse.Namespace, *paths: str | os.PathLike | None) -> list[str]:
    """LETOR files and what a reader reads beside them, for :func:`check_outputs`: the sidecars it would find
    (``.query``, ``.group``, ``.weight``), there or not (an output of such a name would be read as the data's
    weights or groups from then on), and those ``--query-file`` / ``--weight-file`` name."""
    from ltr.io.files import sidecar_stems
    from ltr.io.letor import QUERY_SUFFIXES, WEIGHT_SUFFIXES

    out = []
    for path in paths:
        if path is None:
            continue
        out.append(str(path))
        out += [str(stem) + suffix for stem in sidecar_stems(path) for suffix in QUERY_SUFFIXES + WEIGHT_SUFFIXES]
    for option in ("read_query_file", "read_weight_file"):
        value = getattr(args, option, None)
        if isinstance(value, (str, os.PathLike)) and str(value) != "auto":
            out.append(str(value))
    return out


def option_files(*values: str | None) -> list[str]:
    """The files among options that take a file or inline text (``--features FILE|IDS``, ``--feature-names
    @FILE``), for :func:`check_outputs`."""
    out = []
    for value in values:
        if value is None:
            continue
        value = str(value)
        path = value[1:] if value.startswith("@") else value
        if path and os.path.isfile(path):
            out.append(path)
    return out


def _sidecar_name(path: str) -> bool:
    from ltr.io.letor import QUERY_SUFFIXES, WEIGHT_SUFFIXES

    return str(path).endswith(tuple(QUERY_SUFFIXES + WEIGHT_SUFFIXES))


def collection_reads(collection: str | None) -> list[str]:
    """The inputs for :func:`check_outputs` before a collection is read: a collection file; a collection folder is
    left to :func:`read_collection_files`, once it is read (a folder in a known layout reads a few named files, and
    an output beside them is no input: the same command run again would find it there)."""
    if collection is None or Path(collection).is_dir():
        return []
    return [collection]


def read_collection_files(inputs) -> tuple[list[str], list[str]]:
    """``(inputs, folders)`` for :func:`check_outputs`: the files a collection's reading read
    (:class:`features.pipeline.CollectionInputs`: its documents, queries and judgments name their files), and the
    folder of a folder of document files, every file of which is read."""
    files, folders = [], []
    qrels = getattr(inputs, "qrels", None)
    for name in (getattr(inputs.docs, "name", None), getattr(inputs.queries, "name", None),
                 None if qrels is None else qrels.attrs.get("path")):
        if name:
            (folders if Path(name).is_dir() else files).append(str(name))
    return files, folders


def refuse_outputs_in(folders: Sequence[str], outputs: Sequence[str | None], flags: Sequence[str]) -> None:
    """Refuse an output inside a folder of document files (:func:`read_collection_files`), existing or not: every
    file there is read as documents, so the same command run again would read it as part of the collection. An
    index is exempt: the folder's reader knows and skips its own."""
    for folder in folders:
        root = Path(folder).resolve()
        for p, flag in zip(outputs, flags):
            if p is None or str(p) == "-" or flag == "--index":
                continue
            if root in Path(p).resolve().parents:
                raise UsageError(f"{flag} {p}: inside {folder}, a folder of document files, every one of which is "
                                 "read as the collection's documents: write it elsewhere")


def index_roles(index: str | None) -> tuple[str | None, str | None]:
    """``--index`` as ``(output, input)``: an index file that exists is only read (it may sit beside its collection,
    or in a read-only place), one that does not is built and saved there, an output like any other."""
    if index is None:
        return None, None
    return (None, index) if Path(index).exists() else (index, None)


def _file_key(path: str | os.PathLike) -> tuple[int, int] | str | None:
    """What identifies a file: its device and inode when it exists (hard links and other spellings alike), else the
    resolved path; None for '-'."""
    if str(path) == "-":
        return None
    try:
        st = os.stat(path)
        return (st.st_dev, st.st_ino)
    except OSError:
        return str(Path(path).resolve())


def _input_files(inputs: Sequence[str | os.PathLike | None], folders: Sequence[str | os.PathLike | None]) -> dict:
    """``file key -> the input as given`` for the input files and the files under the input folders."""
    out: dict = {}
    for given in (*inputs, *folders):
        if given is None or str(given) == "-":
            continue
        p = Path(given)
        if p.is_dir() and given not in folders:
            continue  # a folder where a file is read: its reader says so
        files = [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else [p]
        for f in files:
            key = _file_key(f)
            if key is not None:
                out.setdefault(key, str(given) if f == p else f"{given}: {f.relative_to(p)}")
    return out


def unique_run(args: argparse.Namespace, run, source: str):
    """A run with each (query, document) once: a LETOR file listing a document twice in a query gave a run that
    trec_eval refuses; the higher-scored copy is kept (the run is ordered by score), ranks renumbered, a note says
    how many were dropped."""
    dup = run.duplicated(["qid", "docno"]).to_numpy()
    if not dup.any():
        return run
    first = run[dup].iloc[0]
    note(args, f"note: {source} lists {int(dup.sum())} document(s) more than once in a query (e.g. "
               f"{first['docno']!r} in query {first['qid']!r}): the run keeps each one's higher-scored copy")
    run = run[~dup].copy()
    run["rank"] = run.groupby("qid", sort=False).cumcount() + 1
    return run.reset_index(drop=True)


# -- shared options -----------------------------------------------------------------------------------------------
def check_feature_set_option(value: str | None) -> None:
    """``--features``: a value that is neither a shipped set's name nor a file is a usage error naming the option
    and the sets (exit 2), whether it reads as a name (``small``) or a path (``small.toml``, ``sets/small``): the
    option chooses among the shipped sets and files, so both are the same mistake, said alike. A path that exists
    (a file, a pipe) is left to the reader, whose errors name the file.
    """
    from features.featureset import SHIPPED

    if value is None or value in SHIPPED or Path(value).is_file():
        return
    if Path(value).is_dir():
        raise UsageError(f"--features {value}: is a folder, not a feature-set file")
    if Path(value).exists():  # a pipe (<(cat fs.toml)) or a device: the reader says what it makes of it
        return
    if os.sep in value or "/" in value or Path(value).suffix.lower() in (".toml", ".json"):
        raise UsageError(f"--features {value}: no such file; give a shipped feature set ({', '.join(SHIPPED)}) or a "
                         ".toml/.json file")
    raise UsageError(f"--features {value}: neither a shipped feature set ({', '.join(SHIPPED)}) nor a file")


def add_format(p: argparse.ArgumentParser, choices: Sequence[str] = ("table", "json", "csv")) -> None:
    p.add_argument("--format", choices=tuple(choices), default=choices[0], help="output format")


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true",
                   help="no progress bars and no notes on standard error (warnings and errors still show)")


def _n_jobs(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n == 0:
        raise argparse.ArgumentTypeError(f"{value!r}: a positive count of threads, -1 for every core (-2 all but "
                                         "one, ...)")
    return n


def add_n_jobs(p: argparse.ArgumentParser, what: str = "engine threads") -> None:
    p.add_argument("--n-jobs", type=_n_jobs, default=None, dest="n_jobs", metavar="N",
                   help=f"{what}: N, or -1 for every core; none: one thread on small data, the idle cores on "
                        "large (ltr.threads) (default: %(default)s)")


def seconds(value: str) -> float:
    """A time limit's type: a positive, finite number of seconds (``inf`` and ``nan`` parse as floats)."""
    try:
        out = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: not a number of seconds") from None
    if not (math.isfinite(out) and out > 0):
        raise argparse.ArgumentTypeError(f"{value!r}: must be a positive, finite number of seconds")
    return out


def run_tag(value: str) -> str:
    """``--tag``'s type: a TREC run's tag column, one non-empty token (checked before any work, not when the run is
    written at the end)."""
    from ltr.io.trec import is_run_token

    if not is_run_token(value):
        raise argparse.ArgumentTypeError(f"{value!r}: a run tag is one word, neither empty nor holding whitespace "
                                         "(the TREC run's last column)")
    return value


def add_metrics(p: argparse.ArgumentParser, default: str) -> None:
    from ltr.metrics import REGISTRY

    p.add_argument("--metrics", default=default,
                   help=f"comma-separated metric names, each optionally @k (known: {', '.join(sorted(REGISTRY))}; "
                        "trec_eval and ir_measures spellings such as P_5, ndcg_cut_10, recip_rank work too)")


def metric_names(text: str, flag: str = "--metrics") -> list[tuple[str, str]]:
    """``(canonical, as the user wrote it)`` for each metric of ``--metrics`` (or ``flag``), duplicates dropped."""
    from ltr.metrics import parse_metric

    out: list[tuple[str, str]] = []
    for m in split_list(text):
        try:
            canonical = parse_metric(m).name
        except ValueError as e:  # its message lists the known metrics
            raise UsageError(f"{flag}: {e}") from None
        if canonical not in [c for c, _ in out]:
            out.append((canonical, m))
    if not out:
        raise UsageError(f"{flag} needs at least one metric name")
    return out


def metric_label(canonical: str, requested: str) -> str:
    """``p@5`` or ``p@5 (P_5)`` when the user wrote another spelling."""
    return canonical if requested == canonical else f"{canonical} ({requested})"


def add_conventions(p: argparse.ArgumentParser, *, gain_default: str | None, letor: bool = True,
                    max_grade: bool = False) -> None:
    g = p.add_argument_group("metric conventions (see `python -c 'import ltr.metrics; help(ltr.metrics)'`)")
    if max_grade:
        add_max_grade(g)
    g.add_argument("--gain", choices=("exp2", "linear"), default=gain_default,
                   help="NDCG gain: exp2 = 2^rel - 1 (LightGBM, XGBoost), linear = rel (trec_eval)"
                        + ("" if gain_default else "; default exp2 for LETOR scores, linear for TREC runs")
                        + ("" if gain_default is None else "; --engine linear also optimises NDCG with this gain"))
    g.add_argument("--no-relevant", type=no_relevant_score, default=0.0, dest="no_relevant", metavar="VALUE",
                   help="score of a query without any relevant document: 0 as trec_eval and ranx, 1 as LightGBM "
                        "and XGBoost, nan to leave such queries out of the means")
    if letor:
        from ltr.metrics.conventions import CONVENTIONS

        g.add_argument("--convention", default="default", choices=CONVENTIONS,
                       help="another tool's rules, to compare with its numbers: letor = the official LETOR 3.0/4.0 "
                            "evaluation script (published LETOR tables; labels 0-2); lightgbm = LightGBM's ndcg@k and "
                            "map@k (no-relevant score 1, map@k divided by min(k, R)); ranklib = RankLib's scorers "
                            "(P@k divided by min(k, n), MAP ignores k); each fixes the gain and the no-relevant score")


def _option_type(name: str, convert: Callable[[str], Any], ok: Callable[[Any], bool], said: str):
    """An argparse type named ``name``: ``convert(text)`` when it converts and ``ok`` holds, else an error naming
    the value and ``said`` (what the option takes)."""

    def parse(value: str):
        try:
            v = convert(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r}: {said}") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"{value!r}: {said}")
        return v

    parse.__name__ = parse.__qualname__ = name
    return parse


#: ``--n-features``: the width of the feature matrix.
feature_count = _option_type("feature_count", int, lambda n: 0 <= n <= 2**31 - 1,
                             "the width of the feature matrix, an integer from 0 to 2147483647")
#: ``--no-relevant``: a metric's score, from 0 to 1, or nan (leave such queries out).
no_relevant_score = _option_type("no_relevant_score", float, lambda v: math.isnan(v) or 0 <= v <= 1,
                                 "the score of a query without a relevant document, from 0 to 1 (0 as trec_eval, 1 "
                                 "as LightGBM), or nan to leave such queries out")
#: ``--max-grade``: ERR's highest grade.
grade = _option_type("grade", float, lambda g: math.isfinite(g) and g > 0,
                     "the highest grade of the scale, a positive number (4 for 0-4)")


def add_max_grade(g) -> None:
    """``--max-grade G``: ERR's highest grade."""
    g.add_argument("--max-grade", type=grade, default=4.0, dest="max_grade", metavar="G",
                   help="ERR's highest grade of the scale: R = (2^rel - 1) / 2^G (default 4, the 0-4 scale of "
                        "MSLR and Yahoo; with --dataset NAME, the top of the set's documented labels)")


def conventions(args) -> dict:
    """The metric-convention keyword arguments of ``args`` (for :func:`ltr.metrics.evaluate`)."""
    out = {"gain": args.gain or "exp2", "no_relevant": args.no_relevant}
    if getattr(args, "max_grade", None) is not None:
        out["max_grade"] = args.max_grade
    convention = getattr(args, "convention", "default")
    if convention != "default":
        out["convention"] = convention
    return out


#: Document and query file formats the feature layer reads (``auto``: detected from the first line).
COLLECTION_FORMATS = ["auto", "smart", "trec", "beir", "tsv", "csv", "npl"]


def _topic_fields(value: str) -> tuple[str, ...]:
    fields = tuple(f.strip() for f in value.split(",") if f.strip())
    if not fields:
        raise argparse.ArgumentTypeError(f"{value!r}: name one or more of title, desc, narr, comma-separated")
    return fields


def add_collection_input(group, *, queries_help: str, query_ids_help: str) -> None:
    """``--collection``, ``--doc-format``, ``--split``, ``--queries``, ``--query-format``, ``--query-ids``,
    ``--topic-fields``: the text a command reads (``ltr features``, ``ltr rerank``), as
    :func:`features.pipeline.load_inputs` takes it."""
    group.add_argument("--collection", required=True,
                       help="a collection directory (Cranfield, CACM, NPL/Vaswani, NFCorpus, BEIR, or a SMART trio "
                            "NAME.ALL/.QRY/.REL such as ADI, CISI, MED) or a document file (SMART, TREC <DOC>, JSON "
                            "lines with BEIR's, Pyserini's, ir_datasets' or PyTerrier's keys, id<TAB>text TSV, "
                            "NPL's doc-text; gzip ok)")
    group.add_argument("--doc-format", "--format", default="auto", choices=COLLECTION_FORMATS, dest="doc_format",
                       help="document file format (a directory is read by its layout: leave at auto); --format is "
                            "its older name (elsewhere --format is the output's)")
    group.add_argument("--split", default=None, metavar="NAME",
                       help="the split of an NFCorpus or BEIR directory: its NAME.* files or qrels/NAME.tsv "
                            "(default: test; NFCorpus: NAME.titles.queries and NAME.2-1-0.qrel unless --queries "
                            "and --qrels name others)")
    group.add_argument("--queries", help=queries_help)
    group.add_argument("--query-format", default="auto", choices=COLLECTION_FORMATS, help="query file format")
    group.add_argument("--query-ids", default="auto", choices=["auto", "record", "position"], help=query_ids_help)
    group.add_argument("--topic-fields", default=None, metavar="FIELDS", type=_topic_fields,
                       help="the fields of TREC topics (--queries) a query is made of, comma-separated: title, desc, "
                            "narr (default: title)")


#: :func:`features.pipeline.load_inputs`' option names -> the flags that set them (add_collection_input and friends).
_INPUT_FLAGS = {"doc_format": "--doc-format", "queries": "--queries", "query_format": "--query-format",
                "qrels_format": "--qrels-format", "query_ids": "--query-ids", "split": "--split",
                "topic_fields": "--topic-fields"}


def input_option_usage(e) -> UsageError:
    """A :class:`features.pipeline.InputOptionError` worded with the command line's flag."""
    flag = _INPUT_FLAGS[e.option]
    return UsageError(f"{flag} {e.value} {e.reason}" if e.value is not None else f"{flag} {e.reason}")


def add_text_reading(group) -> None:
    """``--encoding-errors`` and ``--duplicates``: how a collection's text files are read."""
    group.add_argument("--encoding-errors", default="strict", choices=["strict", "replace"],
                       help="invalid UTF-8: stop with the byte offset, or replace with U+FFFD")
    group.add_argument("--duplicates", default="error", choices=["error", "first", "last"],
                       help="repeated document ids in the collection: an error, or keep the first / last")


def relevance_level(text: str) -> int:
    """argparse type of ``-l``: trec_eval's relevance level, an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer grade >= 1 (trec_eval's -l), got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer grade >= 1 (trec_eval's -l), got {text!r}")
    return value


def text_encoding(text: str) -> str:
    """argparse type of ``--encoding``: a codec Python knows, checked before any file is read (a file without
    comments would never decode a byte with it, and take the typo silently)."""
    import codecs

    try:
        codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {text!r} (Python's codec names: utf-8, latin-1, cp1252, "
                                         "...)") from None
    return text


def add_relevance_level(p) -> None:
    """trec_eval's ``-l`` for the commands that evaluate runs against qrels."""
    p.add_argument("-l", "--relevance-level", type=relevance_level, default=1, dest="relevance_level",
                   metavar="N", help="runs: the lowest grade that counts as relevant in MAP, P@k, recall, MRR and "
                                     "the other binary metrics (trec_eval's -l; NDCG keeps every grade's gain)")


def add_encoding_errors(p) -> None:
    """``--encoding-errors`` for the commands that read runs and qrels (ltr evaluate, compare, fuse): what their
    readers' error for invalid UTF-8 names as the fix."""
    p.add_argument("--encoding-errors", default="strict", choices=["strict", "replace"], dest="encoding_errors",
                   help="invalid UTF-8 in a run or the qrels: stop, naming the line and byte, or substitute U+FFFD "
                        "(documents whose ids differ only there then share one id)")


def add_reader_options(p: argparse.ArgumentParser, readers: Sequence[str] = ("letor",)) -> None:
    """One flag per reader option of :data:`READER_OPTIONS` (so the CLI offers exactly what the readers take)."""
    from ltr.reader_options import READER_OPTIONS

    g = p.add_argument_group("reading data files")
    for key, opt in READER_OPTIONS.items():
        if not set(opt.readers) & set(readers):
            continue
        dest = f"read_{key}"
        if opt.type == "bool":
            g.add_argument(opt.flag, action="store_true", dest=dest, help=opt.help)
        elif opt.type == "choice":
            g.add_argument(opt.flag, choices=opt.choices, default=opt.default, dest=dest, help=opt.help)
        elif opt.type == "float":
            g.add_argument(opt.flag, type=float, default=opt.default, dest=dest, metavar=opt.metavar, help=opt.help)
        elif opt.type == "path":
            pair = g.add_mutually_exclusive_group() if opt.negation else g  # --query-file X --no-query-file: refused
            pair.add_argument(opt.flag, default=opt.default, dest=dest, metavar=opt.metavar, help=opt.help)
            if opt.negation:
                pair.add_argument(opt.negation, action="store_const", const=None, dest=dest,
                                  help=f"do not look for {opt.flag[2:].replace('-', ' ')} sidecars")
        else:
            g.add_argument(opt.flag, default=opt.default, dest=dest, metavar=opt.metavar, help=opt.help,
                           **({"type": text_encoding} if key == "encoding" else {}))
    if "letor" in readers:
        g.add_argument("--n-features", type=feature_count, default=None, dest="n_features", metavar="N",
                       help="width of the feature matrix, so that train and test files agree (default: the "
                            "file's header, else its largest feature id)")
        g.add_argument("--dataset", default=None, metavar="NAME",
                       help="the files are this registered data set (ltr data list): read them with its reader "
                            "options (flags given here win) and attach its documented feature names")


def reader_options(args: argparse.Namespace, reader: str = "letor") -> dict[str, Any]:
    """The Python keyword arguments the reader flags of ``args`` stand for: with ``--dataset``, the registered set's
    own options (Istella's overflow clipping, the -semi sets' unjudged rows, ...) under the flags given."""
    from ltr.reader_options import READER_OPTIONS

    base: dict[str, Any] = {}
    if reader == "letor" and getattr(args, "dataset", None):
        from ltr.registry import get

        base = get(args.dataset).read_options()
        base.pop("n_features", None)  # --n-features, or the set's width through read_data
        if base.get("sparse") and _dense_for_xgboost(args):
            base.pop("sparse")
    out = dict(base)
    for key, opt in READER_OPTIONS.items():
        dest = f"read_{key}"
        if reader in opt.readers and hasattr(args, dest):
            value = getattr(args, dest)
            if opt.keyword not in base or value != opt.default:
                out[opt.keyword] = value
    return out


def _dense_for_xgboost(args: argparse.Namespace) -> bool:
    """Whether ``--dataset``'s sparse read is made dense for XGBoost: its svmlight convention reads an absent entry as
    missing, while Yahoo (the sparse sets) defines an undefined feature's value as 0 ("When a feature is undefined for
    a set, its value is 0", yahoodata.aspx). True for ``--engine xgboost`` (train, cv, tune) and for ``ltr predict``
    of an XGBoost model not trained on a sparse read, unless ``--sparse`` is given."""
    if "read_sparse" in getattr(args, "given_", set()):
        return False
    return getattr(args, "engine", None) == "xgboost" or getattr(args, "recorded_dense_", False)


def recorded_read_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """The value-changing reader options the training data was read with, where not the default
    (:func:`ltr.reader_options.value_options`); ``sparse: false`` when ``--dataset``'s sparse read was made dense for
    XGBoost, so that ``ltr predict --dataset`` reads its data dense too."""
    from ltr.reader_options import value_options

    out = value_options(reader_options(args))
    if getattr(args, "dataset", None) and _dense_for_xgboost(args):
        from ltr.registry import get

        if get(args.dataset).read_options().get("sparse"):
            out = {**(out or {}), "sparse": False}
    return out


def apply_recorded_read_options(args: argparse.Namespace, model) -> None:
    """Read the data to score as the model's training data was read (``model.read_options_``), unless the command
    line says otherwise, saying which options were applied or differ (the scores would silently differ)."""
    from ltr.reader_options import READER_OPTIONS, VALUE_OPTIONS
    from ltr.reader_options import same_value as _same

    recorded = getattr(model, "read_options_", None) or {}
    if recorded.get("sparse") is not True and getattr(model, "engine", None) == "xgboost":
        args.recorded_dense_ = True  # an XGBoost model trained dense: --dataset's sparse set is scored dense too
    given = reader_options(args)
    applied, differ = [], []
    for key, value in recorded.items():
        opt = READER_OPTIONS.get(key)
        if opt is None or key not in VALUE_OPTIONS:
            continue
        value = float(value) if opt.type == "float" else value
        dest = f"read_{key}"
        current = given.get(opt.keyword, opt.default)
        told = dest in getattr(args, "given_", ()) or (getattr(args, "dataset", None) and opt.keyword in given)
        if not told and not _same(current, value):
            setattr(args, dest, value)
            applied.append(opt.cli(value))
        elif not _same(current, value):
            differ.append(f"{opt.cli(current)} (trained with {opt.cli(value)})")
    if applied:
        note(args, f"note: DATA read as the model's training data was: {' '.join(applied)}")
    if differ:
        note(args, f"note: DATA read otherwise than the model's training data, as asked: {', '.join(differ)}")


def dataset_names(args: argparse.Namespace, n_features: int) -> tuple[str, ...] | None:
    """The ``--dataset``'s documented feature names when they fit ``n_features`` columns (else None)."""
    if not getattr(args, "dataset", None):
        return None
    from ltr.registry import feature_names

    names = feature_names(args.dataset)
    return names if names is not None and len(names) == n_features else None


def read_data(args: argparse.Namespace, path: str, n_features: int | None = None):
    """Read a LETOR file with the command's reader options (a folder or a missing file is a clear error)."""
    from ltr.exceptions import LetorFormatError
    from ltr.io import read_letor

    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(21, "is a folder; give a LETOR file", str(path))
    if n_features is None:
        n_features = getattr(args, "n_features", None)
    registered = None
    if n_features is None and getattr(args, "dataset", None):
        from ltr.registry import get

        n_features = registered = get(args.dataset).read_options().get("n_features")
    try:
        # a plain LightGBM model compares doubles: its DATA read as LightGBM's own reader reads it (ltr predict)
        wide = {"dtype": "float64"} if getattr(args, "read_float64_", False) else {}
        data = read_letor(p, n_features=n_features, **reader_options(args), **wide)
    except LetorFormatError as e:
        if registered is None or not str(e.reason).startswith("feature id above n_features="):
            raise
        # the width is the set's documented one: a wider --n-features would only hide a file of another set
        raise LetorFormatError(f"feature id above {registered}", e.path, e.line, e.token,
                               hint=f"{args.dataset} has {registered} features: is {path} that set? (without "
                                    "--dataset the width is read from the file)") from None
    if getattr(args, "dataset", None):
        _check_against_registry(args, path, data)
    names = dataset_names(args, data.n_features)
    if names is not None:
        from dataclasses import replace

        from ltr.io.letor import with_source_rows

        # the rows stay where --sort and --unjudged drop put them: score files keep following the file's lines
        data = with_source_rows(replace(data, feature_names=names), data)
    default_max_grade(args, data.y)
    _check_label_range(args, path, data)
    return data


def _check_label_range(args: argparse.Namespace, path: str, data) -> None:
    """A label the command's metrics cannot take, named by its file and line before any work (the metrics, which see
    arrays, can name only a row): from 1024 up under the exp2 gain of (N)DCG (MQ2007/8-list's order labels), above
    ``--max-grade`` for ERR."""
    import numpy as np

    from ltr.metrics.api import EXP2_LIMIT, exp2_gain_error

    metrics = getattr(args, "metrics", None)
    if not isinstance(metrics, str) or not data.n_rows:
        return
    if getattr(args, "convention", "default") not in (None, "default"):
        return  # each convention refuses labels outside its own range, in its own words (not with --gain linear)
    codes = [c for c, _ in metric_names(metrics)]
    stopping = getattr(args, "early_stopping_metric", None)
    if stopping:
        codes += [c for c, _ in metric_names(stopping, "--early-stopping-metric")]
    exp2 = [c for c in codes if c.startswith(("ndcg", "dcg", "mean_ndcg"))] if (
        getattr(args, "gain", None) or "exp2") == "exp2" else []
    err = [c for c in codes if c.startswith("err")]
    max_grade = getattr(args, "max_grade", None)
    y = np.nan_to_num(np.asarray(data.y, dtype=np.float64), nan=-np.inf)
    if exp2 and y.max() >= EXP2_LIMIT:
        row = int(np.argmax(y >= EXP2_LIMIT))
    elif err and max_grade is not None and EXP2_LIMIT > max_grade and y.max() > max_grade:
        row = int(np.argmax(y > max_grade))
    else:
        return
    from ltr.io.letor import row_line

    found = row_line(data, row)
    where = f"{path}:{found[0]}" if found is not None else f"row {row + 1} of {path}"
    label = float(data.y[row])
    if exp2 and label >= EXP2_LIMIT:
        raise exp2_gain_error(label, where, ", ".join(dict.fromkeys(exp2)), python_fix="pass gain='linear'",
                              cli_fix="pass --gain linear (gain = rel, as trec_eval's NDCG)")
    from ltr.exceptions import LabelRangeError

    raise LabelRangeError(f"ERR needs labels <= max_grade={max_grade:g}, got a label {label:g} at {where}",
                          python_fix="pass max_grade= the highest grade of the scale",
                          cli_fix="pass --max-grade G, the highest grade of the scale, or leave err@k out of --metrics")


def dataset_max_grade(args: argparse.Namespace) -> None:
    """ERR's max grade from ``--dataset NAME``'s documented label range (``[format] labels``) when ``--max-grade`` is
    not given: ERR's relevance probability R = (2^g - 1) / 2^g_max takes g_max as the top grade of the set's own
    scale (Chapelle et al., CIKM 2009), 2 for the LETOR 0..2 sets rather than the default 4 of MSLR's and Yahoo's
    0..4. A note names the grade when the metrics hold ERR. Sets without a documented range keep the default."""
    if getattr(args, "max_grade", None) is None or not getattr(args, "dataset", None):
        return
    from ltr.registry import get

    entry = get(args.dataset)
    labels = entry.format.get("labels")
    if not labels or not float(labels[1]) > 0:
        return
    metrics = getattr(args, "metrics", None)
    err = [c for c, _ in metric_names(metrics) if c.startswith("err")] if isinstance(metrics, str) else []
    scale = f"{entry.name}'s documented labels {labels[0]}..{labels[1]}"
    if "max_grade" in getattr(args, "given_", set()):
        if err and args.max_grade != float(labels[1]):
            note(args, f"note: {', '.join(err)} with max grade {args.max_grade:g} as given ({scale})")
        return
    args.max_grade = float(labels[1])
    if err:
        note(args, f"note: {', '.join(err)} with max grade {args.max_grade:g}, the top of {scale} (pass --max-grade G)")


def default_max_grade(args: argparse.Namespace, labels) -> None:
    """ERR's max grade from the data when the command's defaults chose ERR: with neither ``--max-grade`` nor
    ``--metrics`` given (nor ``--early-stopping-metric err@k``), a label above the default max grade 4 raises
    ``args.max_grade`` to the largest label read so far, with a note, as LightGBM trains labels up to 30 without an
    option. ERR named by the user keeps the default and its error (ERR's gain 2^rel / 2^G needs labels <= G)."""
    import numpy as np

    given = getattr(args, "given_", set())
    if not isinstance(getattr(args, "metrics", None), str) or getattr(args, "max_grade", None) is None:
        return
    if {"metrics", "max_grade"} & given:
        return
    stopping = getattr(args, "early_stopping_metric", None)
    if stopping and metric_names(stopping, "--early-stopping-metric")[0][0].startswith("err"):  # ERR, to stop on
        return
    err = [c for c, _ in metric_names(args.metrics) if c.startswith("err")]
    y = np.asarray(labels, dtype=np.float64)
    y = y[np.isfinite(y)]
    if not err or not y.size or y.max() <= args.max_grade:
        return
    args.max_grade = float(y.max())
    note(args, f"note: {', '.join(err)} with max grade {args.max_grade:g}, the largest label (pass --max-grade G)")


#: The fewest queries of a file read with ``--dataset`` for which a few empty last columns are worth a note: in
#: the official LETOR 4.0 files a feature can be 0 for whole queries (MQ2008's feature 46), so a short excerpt of
#: the right set can lack its last columns. More than a quarter of the set's width empty is noted in any file (a
#: 46-feature file read as MSLR's 136).
WIDTH_NOTE_QUERIES = 50


def _check_against_registry(args: argparse.Namespace, path: str, data) -> None:
    """What a file read with ``--dataset`` shows of not being the set's. An error: (dense sets) no value in more than
    a quarter of its last columns, as when a 46-feature file is read as MSLR's 136 (its features would get MSLR's
    names). A warning: a file of the set's layout (``Fold1/test.txt``) whose queries or rows differ from the
    registry's counts (a copy unpacked by hand and cut short reads without an error). Notes: labels outside the
    documented range; fewer empty last columns, in files of at least :data:`WIDTH_NOTE_QUERIES` queries."""
    from ltr.registry import DatasetLayoutError, empty_last_columns, get, warn_on_differences

    entry = get(args.dataset)
    fmt = entry.format
    labels = fmt.get("labels")
    y = data.y[data.y != -1] if fmt.get("unjudged") else data.y  # -semi sets: -1 marks the unjudged
    if labels and y.size and (y.min() < labels[0] or y.max() > labels[1]):
        note(args, f"note: {path} has labels {y.min():g}..{y.max():g}, outside {entry.name}'s documented "
                   f"{labels[0]}..{labels[1]}: is it that set?")
    width = entry.n_features
    last = empty_last_columns(entry, data)
    if last is not None and width - last > width // 4:
        raise DatasetLayoutError(f"{path} has no value in features {last + 1}..{width} of {entry.name}'s {width}: "
                                 f"it is not that set's file (without --dataset {args.dataset} its width is read "
                                 "from the file)")
    if last is not None and data.n_queries >= WIDTH_NOTE_QUERIES:  # a few empty columns say something only so
        note(args, f"note: {path} has no value in features {last + 1}..{width} of {entry.name}'s {width}: is it "
                   "that set?")
    dropped = reader_options(args).get("unjudged") == "drop"  # a documented row count counts the unjudged rows
    warn_on_differences(entry, path, queries=data.n_queries, rows=None if dropped else data.n_rows)


# -- the model ----------------------------------------------------------------------------------------------------
_MODEL_FLAGS = (
    # (flag, Ranker parameter, type, help)
    ("--rounds", "n_estimators", int, "boosting rounds (the most; early stopping may use fewer)"),
    ("--learning-rate", "learning_rate", float, "shrinkage of each tree"),
    ("--leaves", "num_leaves", int, "leaves per tree"),
    ("--max-depth", "max_depth", int, "depth limit of each tree (-1: none)"),
    ("--min-child-samples", "min_child_samples", int, "least rows in a leaf (LightGBM's min_data_in_leaf)"),
    ("--subsample", "subsample", float, "fraction of rows sampled per round (bagging)"),
    ("--colsample", "colsample_bytree", float, "fraction of features sampled per tree"),
    ("--reg-lambda", "reg_lambda", float, "L2 regularisation of leaf values"),
    ("--seed", "random_state", int, "the model's random seed"),
)


def file_feature_set(path) -> dict | None:
    """The feature-set description in a LETOR file's header (what ``ltr features`` wrote), or None: for a file
    without one, for a folder (a fold layout), or for ``None``."""
    if path is None or not os.path.isfile(path):
        return None
    from ltr.io.letor import read_header

    return read_header(path).get("feature_set")


def candidates_note(args: argparse.Namespace, feature_set) -> None:
    """Say, for data that ``ltr features`` wrote (``feature_set``: the description in its header), that the metrics
    count only the relevant documents among its candidates."""
    if feature_set:
        note(args, "note: the data holds ltr features' candidates, so these metrics count only the relevant "
                   "documents among them and read higher than trec_eval's over all the judgments; for those, "
                   "evaluate a run of the scores (ltr cv --run-out R, or ltr predict MODEL DATA --run --out R) "
                   "with ltr evaluate --qrels Q --run R")


def preset_flags(applied) -> str:
    """The small-data preset's settings (``preset_params_``) as the options that give them by hand: ``--leaves 15
    --learning-rate 0.02 ... --early-stopping 0 --param bagging_by_query=true``."""
    import json

    flags = {param: flag for flag, param, *_ in _MODEL_FLAGS}
    out = []
    for key, value in dict(applied or {}).items():
        if key == "engine_params":
            out += [f"--param {k}={json.dumps(v)}" for k, v in dict(value or {}).items()]  # TOML reads JSON's
        elif key == "early_stopping_rounds":
            out.append(f"--early-stopping {value or 0}")
        elif key in flags:
            out.append(f"{flags[key]} {value:g}" if isinstance(value, float) else f"{flags[key]} {value}")
        else:  # a parameter without a flag of its own
            out.append(f"--param {key}={json.dumps(value)}")
    return " ".join(out)


def model_flags() -> list[tuple[str, str]]:
    """``(flag, ltr.Ranker parameter)`` of the model options (``--rounds`` sets ``n_estimators``, ...)."""
    return [(flag, param) for flag, param, *_ in _MODEL_FLAGS]


def _check_model(model, args: argparse.Namespace) -> None:
    """The ranker's own parameter checks, their errors worded with the command line's flags (usage errors); an
    engine parameter from ``--config`` is named by the file."""
    from ltr.exceptions import ParameterValueError

    try:
        model._check_params()
    except ParameterValueError as e:
        path = getattr(args, "config_params_", {}).get(e.key)
        if path is None or e.reason is None:
            raise UsageError(_cli_words(e)) from None
        reason = e.cli_reason or _flag_words(e.reason)  # the fix in the command line's words, as its keys are
        raise UsageError(f"--config {path}: [params] {e.key}: {reason}") from None
    except ValueError as e:
        raise UsageError(_config_words(_cli_words(e), args)) from None
    except TypeError as e:  # an unknown option of the objective (objective_params), named by its flag
        said = str(e)
        if not said.startswith("unknown option"):
            raise
        raise UsageError(f"--objective-param: {said}") from None


def _config_words(message: str, args: argparse.Namespace) -> str:
    """An option's error (``--rounds must be ...``, ``--folds must be ...``, ``--valid '': an empty value``) named by
    the ``--config`` file and key that set the option, when the file set it (the user never typed the flag); the
    value, which the key's part shows, is not said twice."""
    from_config = getattr(args, "config_keys_", {})
    if not from_config:
        return message
    parser = getattr(args, "parser_", None)
    own = [] if parser is None else [(flag, a.dest) for a in parser._actions for flag in a.option_strings
                                     if flag.startswith("--")]
    flags = [(flag, dest) for flag, dest in (*model_flags(), ("--early-stopping", "early_stopping"), *own)
             if dest in from_config]
    lead = next(((flag, dest) for flag, dest in flags if message.startswith((flag + " ", flag + ": "))), None)
    opened = re.match(r"--config (.+?): ", message)  # a message that already names the file (an engine parameter's)
    named = from_config[lead[1]][0] if lead else opened.group(1) if opened else None
    for flag, dest in flags:  # named further on, as what another option clashes with: `--engine linear does not ...`
        path, key, value = from_config[dest]
        if (flag, dest) == lead:
            continue
        words = f"{key} = {value!r}" + ("" if path == named else f" (--config {path})")
        for said in _shown(value):
            message = re.sub(rf"(?<=.){re.escape(flag)} {re.escape(said)}(?![\w.@-])", words.replace("\\", r"\\"),
                             message)
    if lead is None:
        return message
    path, key, value = from_config[lead[1]]
    rest = message[len(lead[0]) + 1:].lstrip()
    for said in _shown(value):
        if rest.startswith(said + ": "):
            return f"--config {path}: {key} = {value!r}: {rest[len(said) + 2:]}"
        if rest.startswith(said + " "):
            return f"--config {path}: {key} = {value!r} {rest[len(said) + 1:]}"
    return f"--config {path}: {key} = {value!r}: {rest}"


def _shown(value) -> set[str]:
    """The ways an option's message writes a value a ``--config`` file gave."""
    return {repr(str(value)), str(value)} | ({f"{value:g}"} if isinstance(value, float) else set())


def _cli_words(e: ValueError) -> str:
    """A :class:`ltr.Ranker` error for the command line: its own command-line wording, or its parameter names
    replaced by the flags that set them."""
    cli = getattr(e, "cli_message", None)
    if not callable(cli):
        return _flag_words(str(e))
    if str(getattr(e, "reason", "") or "").startswith("sets what "):  # the ranker's parameter: by its flag
        return _flag_words(cli())
    return cli()


def _flag_words(message: str) -> str:
    """A :class:`ltr.Ranker` message with its parameter names as the flags that set them."""
    for flag, param, *_ in (*_MODEL_FLAGS, ("--early-stopping", "early_stopping_rounds")):
        # (not an engine parameter of the same name given as --param num_leaves=7)
        message = re.sub(rf"(?<!--param )\b{param}=", flag + " ",
                         re.sub(rf"(?<!--param )\b{param}\b(?!=)", flag, message))
    message = re.sub(r"\b(engine|objective|kernel|device)='([^']*)'", r"--\1 \2", message)
    message = re.sub(r"(?<!--param )\bn_jobs=", "--n-jobs ", message)  # not a model option: its own flag
    return re.sub(r"\bengine_params\b", "--param", message)


def _ranker_defaults() -> dict[str, Any]:
    from ltr.rankers.ranker import Ranker

    return {k: v.default for k, v in inspect.signature(Ranker.__init__).parameters.items() if k != "self"}


def add_model_options(p: argparse.ArgumentParser) -> None:
    """The ranker's options, with :class:`ltr.Ranker`'s defaults, choices from the registries, and engine
    parameters by name (``--param``) or from a TOML file (``--config``)."""
    from ltr.rankers.normalize import GLOBAL_METHODS, QUERY_METHODS
    from ltr.rankers.presets import PRESET_NAMES
    from ltr.rankers.ranker import DEVICES, ENGINES, KERNELS, objective_names

    d = _ranker_defaults()
    g = p.add_argument_group("model (defaults are ltr.Ranker's)")
    g.add_argument("--objective", default=d["objective"], metavar="OBJECTIVE",
                   help=f"training objective: {', '.join(objective_names())}; with --engine linear, the metric to "
                        "maximise (ndcg@10, map, err@10, ...; lambdarank stands for ndcg@10)")
    g.add_argument("--engine", default=d["engine"], choices=ENGINES,
                   help="gradient-boosting engine, or linear: coordinate ascent on the metric (RankLib's; settings "
                        "by --param n_restarts=10, reg=0.01, ...)")
    g.add_argument("--preset", default=d["preset"] or "none", choices=(*PRESET_NAMES, "none"),
                   help="tree defaults for small query sets (ltr.rankers.presets): small = 15 leaves of >= 100 "
                        "rows, rate 0.02, L2 10, feature and query bagging; auto = small below 500 training "
                        "queries; none = the standard defaults always; options given here win over the preset")
    g.add_argument("--kernel", default=d["kernel"], choices=KERNELS,
                   help="the engine's native objective, or the toolkit's Numba gradient kernel. The lambdarank "
                        "kernel trains the native model with the engine's pair rule (--objective-param "
                        "mode=lightgbm; mode=xgboost and --param base_score=0 for XGBoost, whose rank:ndcg "
                        "estimates a base score; the default mode=exact weighs every pair and differs slightly) and "
                        "without sampling: the small-data preset's query and feature bagging samples otherwise in "
                        "LightGBM with a kernel, so compare them with --preset none. XGBoost's rank:pairwise picks "
                        "its own pairs and normalises as LambdaMART does, so the ranknet kernel (every pair) differs "
                        "from it; --objective logistic's kernel starts from 0, the native one from the log-odds of "
                        "the labels (boost_from_average)")
    g.add_argument("--device", default=d["device"], choices=DEVICES,
                   help="gpu: LightGBM's OpenCL learner or XGBoost's CUDA (see `ltr doctor`)")
    for flag, param, typ, text in _MODEL_FLAGS:
        g.add_argument(flag, type=typ, default=d[param], dest=param, help=text,
                       metavar=flag.lstrip("-").upper().replace("-", "_"))
    g.add_argument("--early-stopping", type=int, default=None, dest="early_stopping", metavar="ROUNDS",
                   help=f"stop when the validation metric has not improved for ROUNDS rounds; 0: off (default: "
                        f"{d['early_stopping_rounds']} when a validation set is given, but off under the small-data "
                        "preset, which trains its fixed rounds unless this or --early-stopping-metric is given); trees "
                        "only: --engine linear refuses it (it runs "
                        "its passes to --param tolerance)")
    g.add_argument("--early-stopping-metric", default=None, dest="early_stopping_metric", metavar="METRIC",
                   help="the validation metric that drives early stopping (default: ndcg@10); trees only: with "
                        "--engine linear, RankLib's -metric2t (the metric trained) is --objective, and this is "
                        "refused. --engine linear's --param settings (n_restarts = RankLib's -r, n_steps = -i, "
                        "tolerance, reg, standardize, gain) and their RankLib names: README, 'Learners and tuning "
                        "for small query sets'")
    g.add_argument("--normalize", default=None,
                   choices=("zscore", "minmax", "linear", "sum", *(f"global-{m}" for m in GLOBAL_METHODS)),
                   help="feature normalisation stored with the model: per query (zscore, minmax = linear, sum; "
                        "RankLib's -norm: zscore and sum as RankLib's, but RankLib's linear anchors min and max at 0) "
                        "or global (fitted on the training data)")
    assert set(QUERY_METHODS) <= {"zscore", "minmax", "sum"}
    g.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", dest="params",
                   help="an engine parameter by the engine's own name, e.g. --param lambdarank_truncation_level=20 "
                        "(repeatable; unknown names are refused)")
    g.add_argument("--objective-param", action="append", default=[], metavar="KEY=VALUE", dest="objective_params",
                   help="an objective option in the kernels' vocabulary (sigma, truncation_level, norm, "
                        "label_gain, mode; distill's margin_pairs=all|labels; repeatable)")
    g.add_argument("--dataset-cache", default=None, dest="dataset_cache", metavar="DIR",
                   help="keep LightGBM's binned training data in DIR and reuse it while the data and the binning "
                        "parameters are unchanged (Ranker(dataset_cache=DIR))")
    g.add_argument("--config", default=None, metavar="FILE.toml",
                   help="model options from a TOML file: keys are these options' names (rounds, learning-rate, "
                        "...), tables [params] and [objective_params] hold engine and objective parameters; flags "
                        "given on the command line win")
    _add_distill_options(p)


def _add_distill_options(p: argparse.ArgumentParser) -> None:
    # Defaults are SUPPRESS: a flag not given leaves the kernel's default (or --objective-param's value) alone.
    g = p.add_argument_group("distillation (--objective distill --kernel numba; see ltr.kernels.distill)")
    g.add_argument("--teacher-column", default=argparse.SUPPRESS, dest="teacher_column", metavar="ID|NAME",
                   help="the teacher is this column of the data (1-based feature id or feature name, the file's "
                        "also with --features); the student never uses it, and the saved model ignores it in the "
                        "data it scores")
    g.add_argument("--teacher-scores", default=argparse.SUPPRESS, dest="teacher_scores", metavar="FILE",
                   help="the teacher's scores: one per training row (as ltr predict writes), or a TREC run or "
                        "qid<TAB>docid<TAB>score lines joined on query and document ids (the forms ltr cv's folds "
                        "can use)")
    g.add_argument("--teacher-model", default=argparse.SUPPRESS, dest="teacher_model", metavar="MODEL",
                   help="the teacher is this saved model, scored on the training data (it needs the data's "
                        "features)")
    g.add_argument("--temperature", type=float, default=argparse.SUPPRESS, metavar="T",
                   help="softmax temperature of teacher and student scores, T > 0 (default: 1)")
    g.add_argument("--alpha", type=float, default=argparse.SUPPRESS, metavar="A",
                   help="weight of the lambdarank term on the labels, in [0, 1]; 0 learns from the teacher alone, "
                        "so unjudged queries (label 0) can be used (default: 0)")
    g.add_argument("--margin-weight", type=float, default=argparse.SUPPRESS, dest="margin_weight", metavar="W",
                   help="weight of Margin-MSE (Hofstaetter et al.) on score differences next to the softmax "
                        "cross-entropy (default: 0, none); its pairs: --objective-param margin_pairs=all (every "
                        "pair, the default) or labels (pairs whose labels differ)")


def _distill_params(args: argparse.Namespace, objective_params: dict[str, Any]) -> dict[str, Any]:
    """``objective_params`` with the distillation flags applied (flags win); refuses them for other objectives."""
    teachers = [f for f in ("teacher_column", "teacher_scores", "teacher_model") if hasattr(args, f)]
    scalars = [f for f in ("temperature", "alpha", "margin_weight") if hasattr(args, f)]
    if args.objective != "distill":
        if teachers or scalars:
            flag = "--" + (teachers + scalars)[0].replace("_", "-")
            raise UsageError(f"{flag} is an option of --objective distill (the objective is {args.objective})")
        return objective_params
    if args.kernel != "numba":
        raise UsageError("--objective distill is a Numba kernel: add --kernel numba")
    for name, ok, says in (("temperature", lambda v: v > 0, "> 0"), ("alpha", lambda v: 0 <= v <= 1, "in [0, 1]"),
                           ("margin_weight", lambda v: v >= 0, ">= 0")):
        value = getattr(args, name, None)
        if value is not None and not (math.isfinite(value) and ok(value)):
            raise UsageError(f"--{name.replace('_', '-')} {value:g}: a number {says}")
    if len(teachers) > 1:
        raise UsageError(f"give one teacher, not {' and '.join('--' + t.replace('_', '-') for t in teachers)}")
    out = dict(objective_params)
    if teachers:
        if "teacher" in out:
            raise UsageError(f"--{teachers[0].replace('_', '-')} and --objective-param teacher=... both name a "
                             "teacher; give one")
        value = getattr(args, teachers[0])
        if teachers[0] == "teacher_column":
            out["teacher"] = {"column": int(value) if value.isdigit() else value}
        elif teachers[0] == "teacher_scores":
            if Path(value).is_dir():
                raise IsADirectoryError(f"{value}: is a folder, not a score file")
            if not Path(value).is_file():
                raise FileNotFoundError(2, "no such file", value)
            out["teacher"] = {"scores": value}
        else:
            from ltr.rankers import load_model
            from ltr.rankers.teacher import TeacherModel

            out["teacher"] = TeacherModel(load_model(value), source=value)
    elif "teacher" not in out:
        raise UsageError("--objective distill needs a teacher: --teacher-column, --teacher-scores or --teacher-model")
    for f in scalars:
        out[f] = getattr(args, f)
    return out


def given_dests(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The destinations of the options ``argv`` sets (``--leaves 31`` and ``--leaves=31`` set ``num_leaves``; the
    parsers take no abbreviation, so an option is matched by its whole name)."""
    flags = {s: a.dest for a in parser._actions for s in a.option_strings if s.startswith("--")}
    out = set()
    for tok in argv:
        if tok == "--":
            break
        name = tok.split("=", 1)[0]
        if name in flags:
            out.add(flags[name])
    return out


def apply_config(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: Sequence[str]) -> None:
    """Fill ``args`` from ``--config`` for every option the command line did not set; unknown keys are refused.

    Sets ``args.given_``: the destinations set on the command line or by the config file (``make_ranker`` keeps
    them from the small-data preset).
    """
    given = given_dests(parser, argv)
    args.given_ = set(given)
    path = getattr(args, "config", None)
    if path:
        _apply_config_file(parser, args, path, given)
    refuse_empty_values(parser, args)
    alone = [flag for flag, dest in (("--dask-engine", "dask_engine"), ("--dask-timeout", "dask_timeout"))
             if dest in args.given_ and not getattr(args, "dask", None)]
    if alone:  # as --qrels without --fit-weights: options that would change nothing, refused before any work
        raise UsageError(f"{', '.join(alone)} {'goes' if len(alone) == 1 else 'go'} with --dask SCHEDULER")
    if getattr(args, "early_stopping_metric", None):  # named as its option, before any work (ltr cv started first)
        metric_names(args.early_stopping_metric, "--early-stopping-metric")
    if getattr(args, "dataset", None):  # an unknown name is a usage error naming the option (it read as data's)
        from ltr.registry import UnknownDatasetError, get

        try:
            get(args.dataset)
        except UnknownDatasetError as e:
            raise UsageError(f"--dataset {args.dataset}: {e}") from None
    dataset_defaults(parser, args)
    dataset_max_grade(args)


def refuse_empty_values(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse an option given an empty (or blank) text, on the command line or in ``--config``: ``--valid ''`` was
    read as no validation set, ``--save-dir ''`` as no saving and ``--scores ''`` as the working folder, each without
    a word. An option whose value is a list (``--metrics``) is checked where it is read."""
    actions = list(parser._actions) + list(getattr(getattr(args, "action_parser_", None), "_actions", []))
    for action in actions:
        if not action.option_strings or action.nargs not in (None, "?"):
            continue
        value = getattr(args, action.dest, None)
        if isinstance(value, str) and not value.strip() and value != action.default:
            flag = max(action.option_strings, key=len)
            raise UsageError(f"{flag} {value!r}: an empty value; leave {flag} out for its default")


def dataset_defaults(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The ``[cli]`` table of ``--dataset NAME``'s registry entry: option defaults the set needs (the listwise
    LETOR 4.0 sets, whose labels order a query's documents: ``--objective listnet --kernel numba --gain linear`` and
    metrics without ERR), applied to the options of this command that neither the command line nor ``--config``
    set, with a note naming them."""
    if not getattr(args, "dataset", None):
        return
    from ltr.registry import get

    entry = get(args.dataset)
    table = entry.data.get("cli") or {}
    flags = {s: a for a in parser._actions for s in a.option_strings if s.startswith("--")}
    applied = []
    for key, value in table.items():
        action = None if key == "reason" else flags.get("--" + key.replace("_", "-"))
        if action is None or action.dest in args.given_:
            continue
        args.given_.add(action.dest)
        setattr(args, action.dest, _config_value(action, key, value, f"the registry entry {entry.origin} [cli]"))
        applied.append(f"--{key.replace('_', '-')} {value}")
    if entry.read_options().get("sparse") and _dense_for_xgboost(args) and getattr(args, "engine", None):
        note(args, f"note: {entry.name} read dense for XGBoost: an absent feature is 0, as the set defines it "
                   "(--sparse keeps the files sparse, and XGBoost reads absent entries as missing)")
    if applied:
        why = table.get("reason", "")
        note(args, f"note: {entry.name}'s defaults: {' '.join(applied)}" + (f" ({why})" if why else ""))


def _apply_config_file(parser: argparse.ArgumentParser, args: argparse.Namespace, path: str, given: set) -> None:
    """:func:`apply_config`'s reading of ``--config PATH``."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"--config {path}: no such file" if not p.exists() else f"--config {path}: not a file")
    try:
        table = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"--config {path}: not valid TOML ({e})") from None
    actions = {a.dest: a for a in parser._actions if a.option_strings}
    by_flag = {s.lstrip("-").replace("-", "_"): a for a in parser._actions for s in a.option_strings}
    for key, value in table.items():
        if key in ("params", "objective_params"):
            if not isinstance(value, dict):
                raise UsageError(f"--config {path}: [{key}] must be a table")
            from ltr.rankers.params import parse_assignments

            current = parse_assignments(getattr(args, key), what="--param" if key == "params" else "--objective-param")
            setattr(args, key, [f"{k}={json.dumps(v)}" for k, v in {**value, **current}.items()])
            if key == "params":  # the engine parameters the file set, for an error that names it
                args.config_params_ = {k: path for k in value if k not in current}
            continue
        action = by_flag.get(key.replace("-", "_")) or actions.get(key.replace("-", "_"))
        if action is None or action.dest in ("config", "help", "format", "out"):
            known = sorted({s.lstrip("-") for a in parser._actions for s in a.option_strings
                            if a.dest not in ("config", "help", "format", "out")})
            raise UsageError(f"--config {path}: unknown key {key!r}; known keys: {', '.join(known)}, and the "
                             "tables [params] and [objective_params]")
        if action.dest in given:
            continue
        args.given_.add(action.dest)
        setattr(args, action.dest, _config_value(action, key, value, f"--config {path}"))
        args.config_keys_ = {**getattr(args, "config_keys_", {}), action.dest: (path, key, value)}


def _config_value(action: argparse.Action, key: str, value: Any, where: str) -> Any:
    """A config file's value as the command line's flag would give it: a switch takes a TOML boolean; a value
    goes through the flag's own type and choices (an array of a comma-separated option is joined by commas); an
    error names the file and the key, and is a usage error as on the command line."""
    if action.nargs == 0:  # a switch (--quiet, --sort, --no-query-file)
        if not isinstance(value, bool):
            raise UsageError(f"{where}: {key} is a switch: give true or false, got {value!r}")
        return action.const if value else action.default
    many = action.nargs in ("+", "*") or isinstance(action, argparse._AppendAction)
    if isinstance(value, bool) or isinstance(value, dict):
        raise UsageError(f"{where}: {key} takes a value (as {action.option_strings[0]} does), got {value!r}")
    if isinstance(value, list):
        if any(isinstance(v, (bool, dict, list)) for v in value):
            raise UsageError(f"{where}: {key} must list strings or numbers, got {value!r}")
        texts = [str(v) for v in value] if many else [",".join(str(v) for v in value)]
    else:
        texts = [str(value)]
    out = []
    for text in texts:
        try:
            v = action.type(text) if callable(action.type) else text
        except (TypeError, ValueError, argparse.ArgumentTypeError) as e:
            kind = getattr(action.type, "__name__", "")
            reason = f"invalid {kind} value" if kind in ("int", "float") else str(e)
            raise UsageError(f"{where}: {key} = {value!r}: {reason}") from None
        if action.choices is not None and v not in action.choices:
            raise UsageError(f"{where}: {key} = {value!r} is not one of {list(action.choices)}")
        out.append(v)
    return out if many else out[0]


def _eval_params(args: argparse.Namespace) -> dict | None:
    """The command's metric conventions (:func:`conventions`) that differ from :func:`ltr.metrics.evaluate`'s
    defaults: the metrics recorded while training (and early stopping) follow them as the reported ones do."""
    from ltr.metrics import evaluate

    default = {k: p.default for k, p in inspect.signature(evaluate).parameters.items()}
    out = {k: v for k, v in conventions(args).items() if v != default[k]}
    return out or None


def _gradient_only(objective: str) -> bool:
    """A training objective of the boosting engines that is no metric the linear engine could optimise."""
    from ltr.rankers.linear import linear_objective
    from ltr.rankers.ranker import objective_names

    if objective not in objective_names():
        return False
    try:
        linear_objective(objective)
    except ValueError:
        return True
    return False


def check_distill_options(args: argparse.Namespace) -> None:
    """Refusals that ``make_ranker`` would word as two contradicting fixes (``--engine linear`` with a gradient
    objective), or would settle silently (a distillation flag and ``--objective-param`` giving the same option)."""
    from ltr.rankers.params import parse_assignments

    if args.engine == "linear" and _gradient_only(args.objective):
        raise UsageError(f"--objective {args.objective} is a gradient objective: it needs --engine lightgbm or "
                         "xgboost (with --kernel numba where it is a Numba kernel); --engine linear optimises a "
                         "metric directly by coordinate ascent (--objective ndcg@10, map, err@10, ...)")
    if args.objective != "distill":
        return
    try:
        params = parse_assignments(args.objective_params, what="--objective-param")
    except ValueError:
        return  # make_ranker says what is wrong with it
    for name in ("temperature", "alpha", "margin_weight"):
        if hasattr(args, name) and name in params:
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"{flag} {getattr(args, name):g} and --objective-param {name}={params[name]} both set "
                             f"distill's {name}; give one")


def refuse_teacher_column_in_subsets(args: argparse.Namespace) -> None:
    """``--teacher-column`` with ``--features``/``--drop-features`` where the folds are cut from the data (``ltr cv``,
    ``ltr tune``): the column would be counted within the subset (``--features 1,3,5 --teacher-column 3`` took
    feature 5), so it is refused; ``ltr train`` resolves it as the file's feature id."""
    if hasattr(args, "teacher_column") and (getattr(args, "features", None) or getattr(args, "drop_features", None)):
        flag = "--features" if getattr(args, "features", None) else "--drop-features"
        raise UsageError(f"--teacher-column {args.teacher_column} with {flag}: under cross-validation the column "
                         "would be counted within the subset; give the teacher as --teacher-scores (a run) or "
                         "--teacher-model, or leave the subset out")


def make_ranker(args: argparse.Namespace, *, has_valid: bool):
    """A :class:`ltr.Ranker` from the model options (refusing options that would be ignored)."""
    from ltr.rankers.params import parse_assignments
    from ltr.rankers.ranker import Ranker

    check_distill_options(args)
    d = _ranker_defaults()
    stopping = args.early_stopping
    given = getattr(args, "given_", set())
    if args.engine == "linear":  # options a linear model would ignore are refused, as the tree parameters are
        for flag, value in (("--early-stopping", stopping), ("--early-stopping-metric", args.early_stopping_metric)):
            if value is not None:
                raise UsageError(f"{flag} {value}: --engine linear does not use it; the metric coordinate ascent "
                                 "optimises is --objective (RankLib's -metric2t); with --valid it chooses the restart "
                                 "by that metric")
        convention = getattr(args, "convention", "default")
        if convention != "default":
            raise UsageError(f"--convention {convention} with --engine linear: coordinate ascent optimises the "
                             "toolkit's own metric (--gain, no tie or cutoff rules of another tool), so the metric "
                             "reported would not be the one trained; leave --convention default")
    if stopping is not None and stopping < 0:  # the value first: its own error, with or without --valid
        raise UsageError(f"--early-stopping must be >= 0, got {stopping}")
    if not has_valid:
        if stopping:
            raise UsageError("--early-stopping needs a validation set to watch (--valid, or a cv with vali parts)")
        if args.early_stopping_metric:
            raise UsageError("--early-stopping-metric needs a validation set (--valid)")
    rounds = d["early_stopping_rounds"] if stopping is None else (stopping or None)
    if stopping is not None and stopping < 0:
        raise UsageError(f"--early-stopping must be >= 0, got {stopping}")
    try:
        engine_params = parse_assignments(args.params, what="--param")
        objective_params = parse_assignments(args.objective_params, what="--objective-param")
    except ValueError as e:
        raise UsageError(str(e)) from None
    objective_params = _distill_params(args, objective_params)
    if args.engine == "linear" and getattr(args, "gain", None):
        # The learner optimises the metric the command reports: --gain is the linear engine's gain too.
        if "gain" not in engine_params:
            if args.gain != "exp2":  # exp2 is the engine's default: nothing to pass
                engine_params["gain"] = args.gain
        elif "gain" in given and engine_params["gain"] != args.gain:
            raise UsageError(f"--gain {args.gain} and --param gain={engine_params['gain']} disagree: --engine linear "
                             "optimises the metric it reports with --gain; give one of them")
    kw = {param: getattr(args, param) for _, param, _, _ in _MODEL_FLAGS}
    # Options given on the command line (or in --config) win over the small-data preset, even at default values.
    keep = tuple(param for _, param, _, _ in _MODEL_FLAGS if param in given)
    if "early_stopping" in given or "early_stopping_metric" in given:  # a metric to stop on asks for stopping
        keep += ("early_stopping_rounds",)
    engine = args.engine
    if getattr(args, "dask", None) and "engine" not in given and engine != "linear":
        engine = args.dask_engine  # the engine that trains (xgboost by default): its objectives are checked
    model = Ranker(objective=args.objective, engine=engine, kernel=args.kernel, device=args.device,
                   early_stopping_rounds=rounds, early_stopping_metric=args.early_stopping_metric,
                   eval_params=_eval_params(args),
                   engine_params=engine_params or None, objective_params=objective_params or None,
                   n_jobs=getattr(args, "n_jobs", None), normalize=args.normalize,
                   preset=None if getattr(args, "preset", "none") == "none" else args.preset, preset_keep=keep,
                   dataset_cache=None if getattr(args, "dask", None) else getattr(args, "dataset_cache", None),
                   **kw)  # (with --dask a dataset cache does not apply, as dask_client's note says)
    _check_model(model, args)  # bad parameters are refused before any data is read
    return model


# -- distributed training ---------------------------------------------------------------------------------------
def add_dask_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("distributed training (the dask extra)")
    g.add_argument("--dask", default=None, metavar="SCHEDULER",
                   help="train on a Dask cluster: a scheduler address (tcp://host:8786), or local:N for a LocalCluster "
                        "of N worker processes here (local alone: local:2); TRAIN may then be a glob of LETOR "
                        "shards, each read on a worker (see ltr.dask)")
    g.add_argument("--dask-engine", default="xgboost", choices=("xgboost", "lightgbm"), dest="dask_engine",
                   help="engine of distributed training: xgboost.dask, or LightGBM's DaskLGBMRanker (no early "
                        "stopping); default: --engine's when it is given, else xgboost; an --engine that names the "
                        "other engine (or linear, which trains in one process) is refused")
    g.add_argument("--dask-timeout", type=float, default=30.0, dest="dask_timeout", metavar="SECONDS",
                   help="how long to wait for the scheduler before giving up")


@contextlib.contextmanager
def dask_client(args: argparse.Namespace, model=None, *, validation: bool = True):
    """The Dask client of ``--dask`` (None without it); ``model`` (the Ranker to train, on ``validation`` sets or
    not) is checked first (:func:`ltr.dask.check_config`), so that a configuration the cluster cannot train costs no
    cluster start-up."""
    given = getattr(args, "given_", set())
    if not getattr(args, "dask", None):  # its own options without it were refused with the config (apply_config)
        yield None
        return
    if "engine" in given and "dask_engine" not in given and args.engine in ("xgboost", "lightgbm"):
        args.dask_engine = args.engine  # --engine lightgbm trained XGBoost (--dask-engine's default), silently
    if args.dask_engine == "lightgbm" and "early_stopping" in given and args.early_stopping:  # 0: off, as it is
        raise UsageError("--early-stopping with --dask-engine lightgbm: LightGBM's Dask ranker has no early "
                         "stopping (--dask-engine xgboost has)")
    unused = [flag for flag, dest in (("--n-jobs", "n_jobs"), ("--parallel-folds", "parallel_folds"),
                                      ("--dataset-cache", "dataset_cache"), ("--log-every", "log_every"))
              if dest in given]
    if unused:  # each worker trains with the threads Dask gives it; folds train one at a time on the cluster
        note(args, f"note: {', '.join(unused)} do not apply with --dask: each worker trains with its Dask threads "
                   "on the shards it holds (no dataset cache, no per-round log), and folds train one after another "
                   "on the cluster")
    from ltr.dask import check_config, connect

    if model is not None:
        check_config(model, engine=args.dask_engine, validation=validation)
    with connect(args.dask, timeout=args.dask_timeout) as client:
        yield client
