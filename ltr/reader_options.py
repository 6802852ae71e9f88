"""The options of ltrkit's file readers, described once: Python keyword, command-line flag, type, choices, help.

Errors name the option that gets past them as a structured ``fix`` (see :class:`ltr.exceptions.FileFormatError`);
this table is how one fix is worded in each interface: ``pass unjudged='drop'`` in Python, ``pass --unjudged drop``
on the command line. The command line generates one flag per entry from it, so the two cannot drift apart.

This module imports nothing from ltrkit (the exceptions module depends on it). It is re-exported as
``ltr.io.READER_OPTIONS``.

Examples
--------
>>> opt = READER_OPTIONS["unjudged"]
>>> opt.python("drop"), opt.cli("drop")
("unjudged='drop'", '--unjudged drop')
>>> READER_OPTIONS["query_file"].cli(None)
'--no-query-file'
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["READER_OPTIONS", "SIDECAR_OPTIONS", "VALUE_OPTIONS", "Placeholder", "ReaderOption", "named_sidecars",
           "recorded_value", "refuse_one_files_sidecars", "same_value", "scoring_read_options", "value_options"]


class Placeholder(str):
    """A value the user has to supply (a path, one of several formats), shown as ``<text>`` in a fix.

    Examples
    --------
    >>> READER_OPTIONS["query_file"].python(Placeholder("sizes file"))
    'query_file=<sizes file>'
    """

    def __repr__(self) -> str:
        return f"<{str(self)}>"


@dataclass(frozen=True)
class ReaderOption:
    """One reader option.

    Attributes
    ----------
    keyword : str
        The keyword argument of the Python readers (``unjudged``).
    flag : str
        The command-line flag (``--unjudged``).
    type : {"choice", "bool", "path", "float", "str"}
        How the flag's value is parsed: one of ``choices``; a switch (``flag`` sets True); a file name (or the
        off value through ``negation``); a number; free text.
    default : object
        The readers' default.
    help : str
        One line for ``--help``.
    readers : tuple of str
        The readers that take the option: ``"letor"`` (:func:`ltr.io.read_letor`), ``"qrels"``
        (:func:`ltr.io.read_qrels`), ``"text"`` (collection and qrels text decoding).
    choices : tuple of str, optional
        The accepted values of a ``"choice"`` option.
    negation : str, optional
        The flag that turns a ``"path"`` option off (``--no-query-file`` for ``query_file=None``).
    metavar : str, optional
        The value's name in ``--help``.
    """

    keyword: str
    flag: str
    type: str
    default: object
    help: str
    readers: tuple[str, ...]
    choices: tuple[str, ...] | None = None
    negation: str | None = None
    metavar: str | None = None

    def python(self, value: object) -> str:
        """The keyword argument that sets ``value``: ``unjudged='drop'``, ``missing=float('nan')``."""
        if isinstance(value, float) and not math.isfinite(value):
            return f"{self.keyword}=float({str(value)!r})"
        return f"{self.keyword}={value!r}"

    def cli(self, value: object) -> str:
        """The command-line words that set ``value``: ``--unjudged drop``, ``--sort``, ``--no-query-file``."""
        if self.type == "bool":
            if value is True:
                return self.flag
            return self.negation or f"(leave out {self.flag})"
        if value is None or value is False:
            return self.negation or f"(leave out {self.flag})"
        if isinstance(value, Placeholder):
            return f"{self.flag} {value!r}"
        return f"{self.flag} {shlex.quote(str(value))}"


def _options(*opts: tuple[str, ReaderOption]) -> Mapping[str, ReaderOption]:
    return MappingProxyType(dict(opts))


#: Option id -> :class:`ReaderOption`. The id is the Python keyword, except where two readers use one keyword for
#: different things (``qrels_format`` is :func:`ltr.io.read_qrels`'s ``format``, ``doc_format`` and ``query_format``
#: that of the feature layer's document and query readers, flags of ``ltr features`` and ``ltr rerank``;
#: ``encoding_errors`` is the ``errors`` of the text readers).
READER_OPTIONS: Mapping[str, ReaderOption] = _options(
    ("query_file", ReaderOption(
        "query_file", "--query-file", "path", "auto",
        "group sizes of one data file, one per line (LightGBM .query, XGBoost .group; ltr train: TRAIN's, "
        "--valid and --test read theirs beside them); default: DATA.query or DATA.group beside the data file when "
        "one exists", ("letor",), negation="--no-query-file", metavar="PATH")),
    ("weight_file", ReaderOption(
        "weight_file", "--weight-file", "path", "auto",
        "row weights of one data file, one per line (LightGBM .weight; ltr train: TRAIN's, --valid and --test "
        "read theirs beside them); default: DATA.weight beside the data file when it exists",
        ("letor",), negation="--no-weight-file", metavar="PATH")),
    ("sort", ReaderOption(
        "sort", "--sort", "bool", False,
        "sort rows stably by query id when the rows of a query are not contiguous (default: an error)",
        ("letor",))),
    ("nonfinite", ReaderOption(
        "nonfinite", "--nonfinite", "choice", "error",
        "what to do with NaN / inf feature values", ("letor",), choices=("error", "allow"))),
    ("overflow", ReaderOption(
        "overflow", "--overflow", "choice", "error",
        "what to do with values beyond the float32 range (Istella's 1.79769313486e+308): raise, or clip to "
        "+-3.4028235e38", ("letor",), choices=("error", "clip"))),
    ("unjudged", ReaderOption(
        "unjudged", "--unjudged", "choice", "error",
        "what to do with label -1 (unjudged documents, MQ2007/MQ2008-semi): raise, drop those rows, or keep them "
        "(ltr predict keeps them unless told: a row to score needs no label)", ("letor",),
        choices=("error", "drop", "keep"))),
    ("null", ReaderOption(
        "null", "--null", "choice", "error",
        "what to do with NULL feature values (LETOR's NULL versions, e.g. OHSUMED Feature-null): raise, or read "
        "them as missing (NaN)", ("letor",), choices=("error", "nan"))),
    ("missing", ReaderOption(
        "missing", "--missing", "float", 0.0,
        "value of the features a line does not list (e.g. nan)", ("letor",), metavar="VALUE")),
    ("zero_based", ReaderOption(
        "zero_based", "--zero-based", "bool", False,
        "feature ids are column numbers from 0 (scikit-learn's dump_svmlight_file; LightGBM and XGBoost read every "
        "svmlight file so); default: LETOR's 1-based ids", ("letor",))),
    ("sparse", ReaderOption(
        "sparse", "--sparse", "bool", False,
        "keep the feature matrix sparse (only the stored entries: XGBoost reads the absent ones as missing, "
        "LightGBM as 0; a model remembers it for ltr predict)", ("letor",))),
    ("encoding", ReaderOption(
        "encoding", "--encoding", "str", "utf-8",
        "encoding of the '# ...' comments of LETOR lines", ("letor",), metavar="NAME")),
    ("qrels_format", ReaderOption(
        "format", "--qrels-format", "choice", "auto",
        "layout of the relevance judgments (default: detected from the first lines)", ("qrels",),
        choices=("auto", "trec", "smart", "cranfield", "qdr", "beir", "npl", "jsonl"))),
    ("doc_format", ReaderOption(
        "format", "--doc-format", "choice", "auto",
        "format of the document file (default: detected from its first line)", (),
        choices=("auto", "smart", "trec", "beir", "tsv", "npl"))),
    ("query_format", ReaderOption(
        "format", "--query-format", "choice", "auto",
        "format of the query file (default: detected from its first line)", (),
        choices=("auto", "smart", "trec", "beir", "tsv", "npl"))),
    ("encoding_errors", ReaderOption(
        "errors", "--encoding-errors", "choice", "strict",
        "invalid UTF-8 in text files: raise, or substitute U+FFFD", ("qrels", "text"),
        choices=("strict", "replace"))),
)


#: Reader options that change the values a model sees (the others only accept or refuse a file): kept with a model
#: (:attr:`ltr.Ranker.read_options_`) so that the data it scores is read the same way.
VALUE_OPTIONS = ("missing", "null", "overflow", "nonfinite", "sparse", "zero_based")


def same_value(a: object, b: object) -> bool:
    """Whether two option values are the same, NaN equal to NaN (``missing=nan``)."""
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def value_options(options: Mapping[str, object]) -> dict[str, object] | None:
    """The value-changing reader options among ``options`` (option ids as :data:`READER_OPTIONS`' keys) that are
    not the readers' default, JSON-ready (a non-finite ``missing`` as text); None when there are none.

    Examples
    --------
    >>> value_options({"missing": float("nan"), "sort": True, "overflow": "error"})
    {'missing': 'nan'}
    """
    out = {}
    for key in VALUE_OPTIONS:
        if key not in options:
            continue
        value = options[key]
        if not same_value(value, READER_OPTIONS[key].default):
            out[key] = str(value) if isinstance(value, float) and not math.isfinite(value) else value
    return out or None


def recorded_value(key: str, options: Mapping[str, object]) -> object:
    """Reader option ``key`` of recorded ``options`` (:func:`value_options`' record, JSON-ready) as the readers take
    it: the default when absent, a float option's text (``missing``: ``"nan"``) as the float.

    Examples
    --------
    >>> recorded_value("missing", {"missing": "nan"}), recorded_value("sparse", {})
    (nan, False)
    """
    opt = READER_OPTIONS[key]
    value = options.get(key, opt.default)
    return float(value) if opt.type == "float" else value


def scoring_read_options(engine: str | None) -> tuple[str, ...]:
    """The reader options whose values a model's data must be read with to be scored as the model was trained: the
    value read for an absent entry (``missing``), the first feature id (``zero_based``) and, for XGBoost, whether an
    absent entry is missing (``sparse``). The others only accept a file or refuse it (a file read without error
    under ``nonfinite="error"`` holds the values ``"allow"`` gives)."""
    return ("missing", "zero_based", "sparse") if engine == "xgboost" else ("missing", "zero_based")


#: The reader options whose path is one data file's (its group sizes, its weights), not every file's.
SIDECAR_OPTIONS = ("query_file", "weight_file")


def named_sidecars(options: Mapping[str, object]) -> list[str]:
    """The :data:`SIDECAR_OPTIONS` of reader ``options`` given a path (not ``"auto"``, not None).

    Examples
    --------
    >>> named_sidecars({"query_file": "train.sizes", "weight_file": None, "sort": True})
    ['query_file']
    """
    import os

    return [key for key in SIDECAR_OPTIONS
            if isinstance(options.get(key), (str, os.PathLike)) and str(options[key]) != "auto"]


def refuse_one_files_sidecars(options: Mapping[str, object], n_files: int, files: str) -> None:
    """A ValueError where reader ``options`` name a sizes or weights file (:func:`named_sidecars`) for ``n_files``
    > 1 files (``files``: "there are 3 shards", "the folds read 6 files"): one file's would be read as every file's.
    """
    named = named_sidecars(options)
    if named and n_files > 1:
        key = named[0]
        raise ValueError(f"{key}={str(options[key])!r} names one file's "
                         f"{'group sizes' if key == 'query_file' else 'weights'}, and {files}: leave it out (each "
                         "file reads its own FILE.query, FILE.group and FILE.weight beside it)")

