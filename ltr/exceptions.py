"""Errors raised by ltrkit.

Every error that a user's input or arguments can cause is a subclass of :class:`ValueError` (or
:class:`TypeError`), so code that already catches those keeps working, and the message names what was expected and
what was received. A missing file is Python's :class:`FileNotFoundError`, and a machine that cannot do what was
asked (``device="gpu"`` without a usable GPU: :class:`ltr.gpu.GPUNotAvailableError`) a :class:`RuntimeError`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ltr.reader_options import READER_OPTIONS, ReaderOption

__all__ = [
    "CommandLineWorded",
    "ExportError",
    "ExportOptionError",
    "FileFormatError",
    "GroupError",
    "LabelRangeError",
    "LetorFormatError",
    "LetorGroupError",
    "ModelFormatError",
    "NoDataLinesError",
    "NotAModelError",
    "NothingToStopOnError",
    "OptionError",
    "OutputPathError",
    "ParameterValueError",
    "ScoreFormatError",
    "TrainingDataError",
    "TrecFormatError",
]


#: Characters of an offending token shown in a message (a whole line of a wrong file can be megabytes).
_TOKEN_SHOWN = 80


class FileFormatError(ValueError):
    """A file could not be parsed; the message starts with ``path:line:`` and names the offending token.

    When a reader option gets past the error, it is given as a structured ``fix`` (option id -> value, ids as in
    :data:`ltr.reader_options.READER_OPTIONS`), worded for Python by ``str(e)`` (``pass unjudged='drop'``) and for
    the command line by :meth:`cli_message` (``pass --unjudged drop``).

    Parameters
    ----------
    message : str
        What is wrong.
    path : str, optional
        The file.
    line : int, optional
        1-based line number.
    token : str, optional
        The offending token, as it appears in the file.
    offset : int, optional
        0-based byte offset (for decoding errors).
    hint : str, optional
        How to get past the error, appended after a semicolon; with a ``fix``, what the fix does
        (``"to drop such rows"``).
    fix : mapping of str -> object, optional
        Reader options that get past the error.

    Examples
    --------
    >>> e = FileFormatError("label -1 marks an unjudged document", "a.txt", 3, "-1", fix={"unjudged": "drop"},
    ...                     hint="to drop such rows")
    >>> str(e)
    "a.txt:3: label -1 marks an unjudged document (token '-1'); pass unjudged='drop' to drop such rows"
    >>> e.cli_message()
    "a.txt:3: label -1 marks an unjudged document (token '-1'); pass --unjudged drop to drop such rows"
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None, token: str | None = None,
                 *, offset: int | None = None, hint: str | None = None, fix: Mapping[str, object] | None = None):
        self.reason = message
        self.path = path
        self.line = line
        self.token = token
        self.offset = offset
        self.hint = hint
        self.fix: dict[str, object] = dict(fix) if fix else {}
        super().__init__(self._render(cli=False))

    def _render(self, *, cli: bool) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        elif self.line is not None:
            where = f"line {self.line}: "
        at = f" at byte offset {self.offset}" if self.offset is not None else ""
        tok = f" (token {shown_token(self.token)!r})" if self.token is not None else ""
        tail = ""
        if self.fix:
            words = [_option(k).cli(v) if cli else _option(k).python(v) for k, v in self.fix.items()]
            tail = "; pass " + (" " if cli else ", ").join(words) + (f" {self.hint}" if self.hint else "")
        elif self.hint:
            tail = f"; {self.hint}"
        return f"{where}{self.reason}{at}{tok}{tail}"

    def cli_message(self) -> str:
        """The message with its fix worded as command-line flags (``pass --unjudged drop``)."""
        return self._render(cli=True)

    def recast(self, cls: type[FileFormatError]) -> FileFormatError:
        """The same error (message, place, fix) as an instance of another :class:`FileFormatError` subclass."""
        return cls(self.reason, self.path, self.line, self.token, offset=self.offset, hint=self.hint, fix=self.fix)


def shown_token(token: str) -> str:
    """``token`` as a message shows it: its first 80 characters and ``...`` when longer (a 5 MB score field was
    echoed whole, trial t63)."""
    return token if len(token) <= _TOKEN_SHOWN else token[:_TOKEN_SHOWN] + "..."


class CommandLineWorded:
    """An error whose message names Python arguments (``missing='zero'``), with the same message worded with the
    command line's flags (``--missing zero``) in ``cli``, which :meth:`cli_message` gives (the command line prints
    it). Mixed into an exception class before its builtin base."""

    def __init__(self, message: str, *, cli: str | None = None):
        self.cli = cli
        super().__init__(message)

    def cli_message(self) -> str:
        """The message worded with the command line's flags."""
        return self.cli if self.cli is not None else str(self)


class OptionError(CommandLineWorded, ValueError):
    """A wrong combination of arguments, worded for Python (``method='wsum'``) and, by :meth:`cli_message`, for the
    command line (``--method wsum``)."""


class NothingToStopOnError(OptionError):
    """Early stopping on a validation set whose metric no order of its documents changes
    (:func:`ltr.rankers.ranker.refuse_nothing_to_stop_on`); ``set_name`` is the set as the message names it
    (``valid_0``), which a caller that knows it better (a fold's validation part) words again."""

    def __init__(self, message: str, *, cli: str, set_name: str):
        super().__init__(message, cli=cli)
        self.set_name = set_name


class ComparisonDataError(CommandLineWorded, ValueError):
    """Systems, runs or judgments that cannot be compared as given (different query sets, labels off the scale),
    worded for Python (``queries='intersection'``) and, by :meth:`cli_message`, for the command line
    (``--intersection``): the data's fault, so not an :class:`OptionError`."""


class TrainingDataError(CommandLineWorded, ValueError):
    """Training data the engine can learn nothing from under the options given (no feature it can split), worded
    for Python (``min_child_samples=20``) and, by :meth:`cli_message`, for the command line
    (``--min-child-samples 20``): the data's fault as much as the options', so not an :class:`OptionError`."""


class ParameterValueError(CommandLineWorded, ValueError):
    """An engine parameter that the engine lacks (:func:`ltr.rankers.params.check_engine_params`) or whose value it
    refuses (:func:`~ltr.rankers.params.check_engine_values`), worded for Python (``engine_params: ...``) and, by
    :meth:`cli_message`, for the command line (``--param min_data_in_leaf=abc: ...``). ``key`` is the parameter
    (None when the engine refuses several together) and ``reason`` the message without the parameter's name, so
    that a caller can name where the parameter came from (the command line names a ``--config`` file); ``cli_reason``
    is the reason in the command line's words, where they are not the Python ones with flags for parameters."""

    def __init__(self, message: str, *, cli: str | None = None, key: str | None = None, reason: str | None = None,
                 cli_reason: str | None = None):
        self.key, self.reason, self.cli_reason = key, reason, cli_reason
        super().__init__(message, cli=cli)


class LabelRangeError(CommandLineWorded, ValueError):
    """Labels beyond what a gain can hold: a label beyond an exponential gain (``2**label`` is beyond float64 from
    label 1024, as in MQ2007/8-list, so a metric would be NaN or 0), above ERR's ``max_grade``, or above an
    objective's gain table (LambdaMART's covers labels 0..30). The message ends with the fix in Python's words;
    :meth:`cli_message` gives it with the fix in the command line's."""

    def __init__(self, message: str, *, python_fix: str, cli_fix: str):
        self.reason, self.python_fix, self.cli_fix = message, python_fix, cli_fix
        super().__init__(f"{message}; {python_fix}", cli=f"{message}; {cli_fix}")

    def __reduce__(self):  # pickled whole: raised in a parallel fold's process, said in the caller's
        return _label_range_error, (self.reason, self.python_fix, self.cli_fix)


def _label_range_error(reason: str, python_fix: str, cli_fix: str) -> LabelRangeError:
    return LabelRangeError(reason, python_fix=python_fix, cli_fix=cli_fix)


def _option(key: str) -> ReaderOption:
    # An id outside the table (a reader's own keyword) is worded by the common rule: keyword=value, --keyword value.
    opt = READER_OPTIONS.get(key)
    return opt if opt is not None else ReaderOption(key, "--" + key.replace("_", "-"), "str", None, "", ())


class OutputPathError(ValueError):
    """An output file cannot be written: its folder is missing or not writable, or the path names a folder.

    A :class:`ValueError` (a user's mistake, as every error here), not an :class:`OSError`. The message is one
    line naming the path the user gave (never a temporary file).

    Attributes
    ----------
    path : str
        The output path, as given.
    """

    def __init__(self, path: str, message: str):
        self.path, self.reason = path, message
        super().__init__(f"{path}: {message}")

    def __reduce__(self):  # pickled whole (a worker process's error): the constructor takes two arguments
        return type(self), (self.path, self.reason)


class LetorFormatError(FileFormatError):
    """A LETOR / svmlight file could not be parsed (fields as :class:`FileFormatError`)."""


class NoDataLinesError(LetorFormatError):
    """A LETOR / svmlight file holds no data line (empty, or only comments and blank lines)."""


class TrecFormatError(LetorFormatError):
    """A TREC run or qrels file could not be parsed (same fields as :class:`LetorFormatError`)."""


class GroupError(ValueError):
    """Query grouping is inconsistent: interleaved qids, sizes that do not add up, a bad ``group_ptr``."""


class ModelFormatError(ValueError):
    """A saved model is missing, truncated, edited or of an unknown version."""


class NotAModelError(ModelFormatError):
    """The file is not a model at all (not text, or neither LightGBM's model text nor XGBoost's JSON, and no ltrkit
    sidecar beside it), as opposed to a model that is damaged: a caller trying other readers (``ltr info``) goes on
    to them."""


class LetorGroupError(LetorFormatError, GroupError):
    """The rows of a query are not contiguous in a LETOR file (both a format and a grouping error)."""


class ScoreFormatError(FileFormatError):
    """A score file (one number per line) could not be parsed, or has the wrong number of lines."""


class ExportError(CommandLineWorded, ValueError):
    """A model cannot be written in the requested format without changing its scores (the message names the
    construct, the tree and node, or the argument and value), or the request itself is wrong
    (:mod:`ltr.export`)."""


class ExportOptionError(ExportError, OptionError):
    """An export's argument that is wrong whatever the model (a name the engine cannot hold, an unknown format),
    refused before the model is read: an :class:`OptionError` too, so the command line's usage error (exit 2), as
    ``--name ''`` was, where ``--name 'a b'`` exited 1 (trial t65)."""
