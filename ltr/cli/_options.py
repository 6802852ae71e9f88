"""Option builders shared by the commands: one name per concept (``--n-jobs``, ``--format``, ``--metrics``,
``--quiet``), the metric conventions, the collection inputs, and the reader options generated from
:data:`ltr.reader_options.READER_OPTIONS`."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ltr.cli._guard import UsageError, split_list

__all__ = [
    "add_collection_input",
    "add_conventions",
    "add_encoding_errors",
    "add_format",
    "add_max_grade",
    "add_metrics",
    "add_n_jobs",
    "add_quiet",
    "add_reader_options",
    "add_relevance_level",
    "add_text_reading",
    "check_feature_set_option",
    "COLLECTION_FORMATS",
    "QUERY_FORMATS",
    "conventions",
    "dense_for_xgboost",
    "feature_count",
    "given_sidecars",
    "grade",
    "input_option_usage",
    "metric_label",
    "metric_names",
    "no_relevant_score",
    "reader_options",
    "refuse_shared_sidecars",
    "relevance_level",
    "run_tag",
    "seconds",
    "seed",
    "subset_flag",
    "text_encoding",
]


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


def subset_flag(args: argparse.Namespace) -> str:
    """The flag that chose the feature subset, ``--features`` or ``--drop-features`` (one error names the one
    given, and a ``--config`` file's key for it)."""
    return "--features" if getattr(args, "features", None) is not None else "--drop-features"


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
    if n == 0 or abs(n) > _MOST_THREADS:  # tens of thousands: the engines' thread pools fail (silently) or crash
        raise argparse.ArgumentTypeError(f"{value!r}: a positive count of threads up to {_MOST_THREADS}, -1 for every "
                                         "core (-2 all but one, ...)")
    return n


#: The most threads ``--n-jobs`` asks for: LightGBM's OpenMP pool exits without a word at 60,000 on Linux and
#: segfaults at 100,000; far more than any machine's cores, so no real use is refused.
_MOST_THREADS = 4096


def add_n_jobs(p: argparse.ArgumentParser, what: str = "engine threads") -> None:
    p.add_argument("--n-jobs", type=_n_jobs, default=None, dest="n_jobs", metavar="N",
                   help=f"{what}: N, or -1 for every core (-2 all but one, ...); none: one thread on small data, the "
                        "idle cores on large (ltr.threads) (default: %(default)s)")


#: The longest wait a timeout may ask for (about 11.6 days): the system calls behind them take milliseconds in a C
#: int (poll: 24.8 days) or a time_t, and overflowed with a traceback beyond (trial t53).
LONGEST_WAIT = 1_000_000


def seconds(value: str) -> float:
    """A time limit's type: a positive, finite number of seconds (``inf`` and ``nan`` parse as floats), at most
    :data:`LONGEST_WAIT`."""
    try:
        out = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: not a number of seconds") from None
    if not (math.isfinite(out) and out > 0):
        raise argparse.ArgumentTypeError(f"{value!r}: must be a positive, finite number of seconds")
    if out > LONGEST_WAIT:
        raise argparse.ArgumentTypeError(f"{value!r}: must be at most {LONGEST_WAIT} seconds (about 11.6 days)")
    return out


def run_tag(value: str) -> str:
    """``--tag``'s type: a TREC run's tag column, one non-empty token (checked before any work, not when the run is
    written at the end)."""
    from ltr.io.trec import is_run_token

    if not is_run_token(value):
        raise argparse.ArgumentTypeError(f"{value!r}: a run tag is one word, neither empty nor holding whitespace "
                                         "(the TREC run's last column)")
    return value


class AddedUp(argparse.Action):
    """A comma list that adds up when the option is given again (``--metrics map --metrics ndcg@10``, as trec_eval's
    ``-m map -m ndcg_cut.10``; ``--tests``, ``--formats``, ``--names``, ``--labels``, ``--weights``): the first value
    replaces the default, the next ones are appended (the last alone was kept, a column or an output lost without a
    word; trial t56 for the others)."""

    def __call__(self, parser, namespace, values, option_string=None):
        before = getattr(namespace, self.dest, None)
        setattr(namespace, self.dest, values if before is self.default or not before else f"{before},{values}")


def add_metrics(p: argparse.ArgumentParser, default: str) -> None:
    from ltr.metrics import REGISTRY

    p.add_argument("--metrics", default=default, action=AddedUp,
                   help=f"comma-separated metric names, each optionally @k (known: {', '.join(sorted(REGISTRY))}; "
                        "trec_eval and ir_measures spellings such as P_5, ndcg_cut_10, recip_rank work too); given "
                        "again, the lists add up")


def metric_names(text: str, flag: str = "--metrics") -> list[tuple[str, str]]:
    """``(canonical, as the user wrote it)`` for each metric of ``--metrics`` (or ``flag``), duplicates dropped."""
    from ltr.metrics import parse_metric

    out: list[tuple[str, str]] = []
    for m in split_list(text, flag):
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
#: ``--seed`` of a test or a shuffle: what NumPy's generators take.
seed = _option_type("seed", int, lambda n: 0 <= n < 2**32, "a seed, an integer from 0 to 2**32 - 1")
#: ``--max-grade``: ERR's highest grade.
grade = _option_type("grade", float, lambda g: math.isfinite(g) and g > 0,
                     "the highest grade of the scale, a positive number (4 for 0-4)")


def add_max_grade(g, dataset: bool = True) -> None:
    """``--max-grade G``: ERR's highest grade (``dataset``: the command takes ``--dataset NAME``, whose labels'
    top it defaults to)."""
    top = "; with --dataset NAME, the top of the set's documented labels" if dataset else ""
    g.add_argument("--max-grade", type=grade, default=4.0, dest="max_grade", metavar="G",
                   help=f"ERR's highest grade of the scale: R = (2^rel - 1) / 2^G (default 4, the 0-4 scale of "
                        f"MSLR and Yahoo{top})")


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
#: Query files: CSV is read for documents only (it was offered, and always refused: trial t67).
QUERY_FORMATS = [f for f in COLLECTION_FORMATS if f != "csv"]


def _topic_fields(value: str) -> tuple[str, ...]:
    fields = tuple(f.strip() for f in value.split(","))
    if not any(fields):
        raise argparse.ArgumentTypeError(f"{value!r}: name one or more of title, desc, narr, comma-separated")
    if not all(fields):
        raise argparse.ArgumentTypeError(f"{value!r}: an empty item between commas; separate the fields by single "
                                         "commas")
    return fields


def add_collection_input(group, *, queries_help: str, query_ids_help: str, serving: bool = False) -> None:
    """``--collection``, ``--doc-format``, ``--split``, ``--queries``, ``--query-format``, ``--query-ids``,
    ``--topic-fields``: the text a command reads (``ltr features``, ``ltr rerank``: ``serving``, a model's), as
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
                            + ("(default: test; NFCorpus: NAME.titles.queries unless --queries names others)"
                               if serving else "(default: test; NFCorpus: NAME.titles.queries and NAME.2-1-0.qrel "
                                               "unless --queries and --qrels name others)"))
    group.add_argument("--queries", help=queries_help)
    group.add_argument("--query-format", default="auto", choices=QUERY_FORMATS, help="query file format")
    group.add_argument("--query-ids", default="auto", choices=["auto", "record", "position"], help=query_ids_help)
    group.add_argument("--topic-fields", default=None, metavar="FIELDS", type=_topic_fields,
                       help="the fields of TREC topics (--queries) a query is made of, comma-separated: title, desc, "
                            "narr (default: " + ("the fields the model's features were extracted with, recorded in "
                                                 "its sidecar; title for a model without them)" if serving else
                                                 "a TREC topic's title; a query file of plain queries, such as "
                                                 "BEIR's queries.jsonl, gives its own text)"))


#: :func:`features.pipeline.load_inputs`' option names -> the flags that set them (add_collection_input and friends).
_INPUT_FLAGS = {"collection": "--collection", "doc_format": "--doc-format", "queries": "--queries",
                "query_format": "--query-format", "qrels_format": "--qrels-format", "query_ids": "--query-ids",
                "split": "--split", "topic_fields": "--topic-fields"}


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
    """argparse type of ``-l``: trec_eval's relevance level, an integer >= 0 (``-l 0`` counts every judged
    document relevant, as trec_eval's ``-l0`` does: it was refused, where the Python API computes it; trial t60)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer grade >= 0 (trec_eval's -l), got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer grade >= 0 (trec_eval's -l; 0 counts every judged "
                                         f"document relevant), got {text!r}")
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


def add_relevance_level(p, runs_only: bool = True) -> None:
    """trec_eval's ``-l`` for the commands that evaluate runs against qrels (``runs_only``), or LETOR scores too."""
    p.add_argument("-l", "--relevance-level", type=relevance_level, default=1, dest="relevance_level",
                   metavar="N", help=f"{'runs: ' if runs_only else ''}the lowest grade that counts as relevant in MAP, "
                                     "P@k, recall, MRR and the other binary metrics (trec_eval's -l; NDCG keeps every "
                                     "grade's gain)")


def add_encoding_errors(p) -> None:
    """``--encoding-errors`` for the commands that read runs and qrels (ltr evaluate, compare, fuse): what their
    readers' error for invalid UTF-8 names as the fix."""
    p.add_argument("--encoding-errors", default="strict", choices=["strict", "replace"], dest="encoding_errors",
                   help="invalid UTF-8 in a run or the qrels: stop, naming the line and byte, or substitute U+FFFD "
                        "(documents whose ids differ only there then share one id: a run listing both is a "
                        "duplicate)")


def add_reader_options(p: argparse.ArgumentParser, readers: Sequence[str] = ("letor",),
                       unused: Sequence[str] = ()) -> None:
    """One flag per reader option of :data:`READER_OPTIONS` (so the CLI offers exactly what the readers take);
    those of ``unused`` are accepted (commands written for earlier versions) but not shown: the command's reading
    does not depend on them."""
    from ltr.reader_options import READER_OPTIONS

    g = p.add_argument_group("reading data files")
    for key, opt in READER_OPTIONS.items():
        if not set(opt.readers) & set(readers):
            continue
        dest = f"read_{key}"
        if key in unused:
            opt = replace(opt, help=argparse.SUPPRESS)
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


def given_sidecars(args: argparse.Namespace) -> list[str]:
    """The ``--query-file PATH`` / ``--weight-file PATH`` flags given with a path (not ``auto``, not ``--no-*``)."""
    from ltr.reader_options import READER_OPTIONS, named_sidecars

    return [READER_OPTIONS[key].flag for key in named_sidecars(reader_options(args))]


def refuse_shared_sidecars(args: argparse.Namespace, files: str | None) -> None:
    """Refuse ``--query-file PATH`` / ``--weight-file PATH`` where a command reads several data files (``files``
    says which, as "FILE is 3 files"; None for one): the path is one file's group sizes or weights, and each of
    several files has its own beside it."""
    flags = given_sidecars(args)
    if flags and files:
        what = " and ".join(w for flag, w in (("--query-file", "group sizes"), ("--weight-file", "weights"))
                            if flag in flags)
        raise UsageError(f"{' and '.join(flags)} {'names' if len(flags) == 1 else 'name'} one file's {what}, and "
                         f"{files}: give one file, or leave {'it' if len(flags) == 1 else 'them'} out (each file "
                         "reads its own FILE.query, FILE.group and FILE.weight beside it)")


def letor_dataset(name: str):
    """``--dataset NAME``'s registry entry, refused as a usage error when it is a text collection (its reader options
    and feature names are none: a LETOR file given with it was read as a plain one, without a word; trial t70)."""
    from ltr.registry import get

    entry = get(name)
    if entry.kind != "letor":
        raise UsageError(f"--dataset {entry.name} is a text collection, not feature files: ltr features --collection "
                         "DIR makes a LETOR file of it")
    return entry


def reader_options(args: argparse.Namespace, reader: str = "letor", own_sidecars: bool = False) -> dict[str, Any]:
    """The Python keyword arguments the reader flags of ``args`` stand for: with ``--dataset``, the registered set's
    own options (Istella's overflow clipping, the -semi sets' unjudged rows, ...) under the flags given.

    ``own_sidecars``: for a file other than the one ``--query-file PATH`` / ``--weight-file PATH`` name the sizes or
    weights of (``--valid`` and ``--test`` beside TRAIN): it reads those beside it instead (``--no-query-file`` and
    ``--no-weight-file`` still hold for every file)."""
    from ltr.reader_options import READER_OPTIONS

    base: dict[str, Any] = {}
    if reader == "letor" and getattr(args, "dataset", None):
        entry = letor_dataset(args.dataset)
        # the set's own files (cv's --root): no stray sidecar beside them is read; FILE --dataset NAME keeps FILE's
        base = entry.read_options(own_files=getattr(args, "root", None) is not None)
        base.pop("n_features", None)  # --n-features, or the set's width through read_data
        if base.get("sparse") and dense_for_xgboost(args):
            base.pop("sparse")
    out = dict(base)
    given = getattr(args, "given_", ())
    for key, opt in READER_OPTIONS.items():
        dest = f"read_{key}"
        if reader in opt.readers and hasattr(args, dest):
            value = getattr(args, dest)
            # a flag given wins at its default value too (--dataset ohsumed-null --null error read NULL as NaN, as
            # the set's own option, without a word: trial t70)
            if opt.keyword not in base or value != opt.default or dest in given:
                out[opt.keyword] = value
    if own_sidecars:
        from ltr.reader_options import named_sidecars

        for key in named_sidecars(out):
            out[key] = "auto"  # the file's own, beside it (--no-query-file, None, still holds for every file)
    return out


def dense_for_xgboost(args: argparse.Namespace) -> bool:
    """Whether ``--dataset``'s sparse read is made dense for XGBoost: its svmlight convention reads an absent entry as
    missing, while Yahoo (the sparse sets) defines an undefined feature's value as 0 ("When a feature is undefined for
    a set, its value is 0", yahoodata.aspx). True for ``--engine xgboost`` (train, cv, tune) and for ``ltr predict``
    of an XGBoost model not trained on a sparse read, unless ``--sparse`` is given."""
    given = getattr(args, "given_", set())
    if "read_sparse" in given:
        return False
    # (--dask without --engine trains XGBoost, --dask-engine's default)
    dask_xgboost = (getattr(args, "dask", None) and "engine" not in given
                    and getattr(args, "dask_engine", None) == "xgboost")
    return getattr(args, "engine", None) == "xgboost" or bool(dask_xgboost) or getattr(args, "recorded_dense_", False)


def refuse_sparse_dask_xgboost(args: argparse.Namespace, model) -> None:
    """``--sparse`` given with ``--dask`` and XGBoost: the workers pass each shard's rows to xgboost.dask dense, where
    an entry absent from a sparse read is XGBoost's missing value (ltr.Ranker's reading of one): refused rather than
    trained as 0."""
    if getattr(args, "dask", None) and getattr(args, "read_sparse", False) and model.engine == "xgboost":
        raise UsageError("--sparse with --dask and XGBoost: the workers give xgboost.dask each shard's rows dense, so "
                         "an absent entry would train as 0, not as the missing value a sparse read makes it; leave "
                         "--sparse out (absent entries are 0), or train with --engine lightgbm (which reads them as 0 "
                         "either way)")
