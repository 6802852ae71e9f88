"""``ltr tune DATA``: tune a ranker's parameters with Optuna inside nested query-grouped cross-validation."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import textwrap
from pathlib import Path

from ltr.cli._files import check_outputs, data_inputs, emit, option_files, teacher_inputs
from ltr.cli._guard import UsageError, add_command, note, visible
from ltr.cli._model import (
    add_model_options,
    candidates_note,
    check_device,
    compile_notice,
    file_feature_set,
    learned_teacher_warning,
    make_ranker,
    refuse_per_row_teacher_in_folds,
    refuse_teacher_column_in_subsets,
)
from ltr.cli._options import (
    add_conventions,
    add_metrics,
    add_n_jobs,
    add_quiet,
    add_reader_options,
    metric_names,
    seconds,
    seed,
    subset_flag,
)

__all__ = ["register", "run"]

_DESCRIPTION = (
    "Inner folds of each outer training part choose the parameters (an Optuna TPE search over --space); the outer "
    "folds test the choice once, so their per-query results are an unbiased estimate (for ltr compare and ltr "
    "report). Model options not in the space stay fixed.",
    "Cost: TRIALS x OUTER x INNER fits (every trial is scored by the inner folds of every outer fold; times N with "
    "--inner-repeats N), plus one refit per outer fold: the defaults make 30 x 5 x 3 = 450 fits + 5. Time one fit "
    "(ltr cv shows the seconds per fold) to size --trials, or cap the search with --timeout.",
    "Progress goes to standard error: a bar on a terminal; elsewhere (a file, a pipe, CI, nohup) a line with the "
    "cost at the start, a line per finished trial at most every few seconds (outer fold, trial, best inner score, "
    "time elapsed) and one per outer fold. --quiet silences it.",
)


def register(sub) -> None:
    from ltr.evaluation.selection import add_feature_options

    p = add_command(sub, "tune", "tune a ranker's parameters by nested query-grouped cross-validation (Optuna)",
                    "\n\n".join(textwrap.fill(text, 100) for text in _DESCRIPTION))
    p.add_argument("data", metavar="DATA", nargs="?", help="one LETOR file, cut into folds of whole queries")
    s = p.add_argument_group("search")
    s.add_argument("--show-space", action="store_true", dest="show_space",
                   help="print the search space that would be used (--space, else the engine's default) and exit; "
                        "DATA is not needed. Copy it to start a space of your own")
    s.add_argument("--space", default=None, metavar="SPACE.toml",
                   help="search space: one TOML table per parameter, [name] with low/high (log, step) or choices, "
                        "[engine_params.NAME] for engine parameters (default: the engine's space in "
                        "ltr/tuning/spaces/)")
    s.add_argument("--trials", type=int, default=30,
                   help="Optuna trials per outer fold; each fits --inner-folds models (x --inner-repeats), so the "
                        "search makes TRIALS x OUTER x INNER (x REPEATS) fits in all; the first 10 are drawn at "
                        "random, as TPE starts, and TPE models the space from the 11th")
    s.add_argument("--metric", default="ndcg@10", help="the metric the inner folds maximise")
    s.add_argument("--outer-folds", type=int, default=5, dest="outer_folds", help="outer folds (the estimate)")
    s.add_argument("--inner-folds", type=int, default=3, dest="inner_folds", help="inner folds (the choice)")
    s.add_argument("--inner-repeats", type=int, default=1, dest="inner_repeats", metavar="N",
                   help="cut each outer training part into --inner-folds N times, each a new split, and score a "
                        "trial by its mean over them all: a steadier choice on tens of queries, at N times the fits")
    s.add_argument("--split-seed", type=seed, default=0, dest="split_seed",
                   help="seed of the outer folds' query shuffle and of the sampler; the inner folds of outer fold i "
                        "(1-based) shuffle with seed + i (repeat r, 0-based: seed + i + r x OUTER)")
    s.add_argument("--storage", default=None, metavar="FILE",
                   help="SQLite file keeping every trial as it ends; rerunning the same command resumes there "
                        "(default: OUT.optuna.db with --out, else nothing is kept). Its folder must exist. One run "
                        "uses a storage at a time: a run holds FILE.lock beside it, and another run on the same "
                        "FILE is refused")
    s.add_argument("--timeout", type=seconds, default=None, metavar="SECONDS",
                   help="seconds for the whole search, shared by the outer folds (each starts trials until its "
                        "share of the time left ends, and runs at least one)")
    add_feature_options(p.add_argument_group("feature subset"),
                        saved="; the result records their ids (settings.features), as ltr cv's")
    add_model_options(p)
    add_n_jobs(p, "engine threads per fit")
    add_metrics(p, "ndcg@1,ndcg@3,ndcg@5,ndcg@10,map")
    add_conventions(p, gain_default="exp2", max_grade=True)
    add_reader_options(p)
    o = p.add_argument_group("output")
    o.add_argument("--name", default=None, help="the system's name in the result (default: ENGINE tuned)")
    o.add_argument("--out", default=None, help="write the result file (JSON) for ltr compare / ltr report")
    o.add_argument("--format", choices=("table", "markdown", "csv", "json"), default="table", help="output format")
    add_quiet(p)
    p.set_defaults(func=run)


def _no_space(space) -> UsageError:
    """``--space`` that names no file: a folder said as one (it was said to be missing)."""
    if space is not None and Path(space).is_dir():
        return UsageError(f"--space {space}: is a folder, not a search-space file")
    return UsageError(f"--space {space}: no such file{_relative_note(space)}")


def _note_searched(args: argparse.Namespace, model) -> None:
    """Say, before the search starts, which model options given here (a flag, or an engine parameter of
    ``--param``) the space searches: the values given are not used. A space that cannot be read is left to
    :func:`ltr.tuning.tune`, which refuses it in its own words."""
    from ltr.cli._words import model_flags
    from ltr.tuning import load_space

    try:
        space = {p.name for p in load_space(args.space, model).params}
    except (ValueError, TypeError, OSError):
        return
    given = getattr(args, "given_", set())
    searched = [f"{flag} (the space's {param})" for flag, param in model_flags() if param in given and param in space]
    searched += [f"--{param} (the space's {param})" for param in ("normalize", "objective")  # (model options too)
                 if param in given and param in space]
    searched += [f"--param {key} (the space's engine_params.{key})" for key in (model.engine_params or {})
                 if f"engine_params.{key}" in space]
    if searched:
        note(args, f"note: the space searches {', '.join(searched)}: the value given is not used; a space without "
                   "it keeps it fixed")


def _feature_subset(args: argparse.Namespace):
    """DATA read as ltr cv and ltr train read it (``--n-features``, ``--dataset``'s width, names and checks; with
    ``--features`` / ``--drop-features`` the dataset of those columns) and the subset's 1-based ids (None: all)."""
    from ltr.cli._data import read_data
    from ltr.evaluation.selection import feature_spec, resolve_features, take_columns

    refuse_teacher_column_in_subsets(args)
    spec = feature_spec(args.features, args.drop_features)
    data = read_data(args, args.data)  # (the path given to tune read it without --n-features: trial t57)
    if spec is None:
        return data, None
    try:
        cols = resolve_features(spec, data.n_features, data.feature_names)
    except ValueError as e:
        raise UsageError(f"{subset_flag(args)}: {e}") from None
    note(args, f"features: {len(cols)} of {data.n_features}")
    from ltr.cli.train import first_file_id

    return take_columns(data, cols, first_file_id(args)), [int(c) + 1 for c in cols]


def _storage_file(storage: str | None) -> str | None:
    """The file a trial storage is, for :func:`check_outputs`: a path as given, ``sqlite:///st.db``'s ``st.db``
    (SQLAlchemy's form: three slashes then a relative path, four for an absolute one); None for a server's URL."""
    if storage is None or "://" not in storage:
        return storage
    prefix = "sqlite:///"
    return storage[len(prefix):] or None if storage.startswith(prefix) else None


@contextlib.contextmanager
def _storage_named(args: argparse.Namespace, storage: str | None, *, running: bool = True):
    """An error naming the trial storage names the option it came from too (``--storage``, or the default beside
    ``--out``): the file the user did not name is otherwise a mystery. A storage that fails while the search
    ``running`` stays as it is, and the message says so: it is the file the same command resumes from."""
    from ltr.exceptions import FileFormatError, OutputPathError
    from ltr.tuning.nested import StorageInUseError

    try:
        yield
    except (OutputPathError, FileFormatError) as e:
        if storage is None or e.path != storage:
            raise
        shown = f"{storage} ({'--storage' if args.storage else 'the --storage default, beside --out'})"
        if isinstance(e, FileFormatError):
            raise FileFormatError(e.reason, shown, hint="give another --storage, or move this file away to start "
                                                        "afresh") from None
        said = str(e).removeprefix(f"{e.path}: ").replace("or give another storage", "or give another --storage")
        kept = running and os.path.isfile(storage) and not isinstance(e, StorageInUseError)  # the other run's
        resume = "; the trials stored so far stay in it: the same command resumes there" if kept else ""
        raise OutputPathError(shown, said + resume) from None


@contextlib.contextmanager
def _said_on_interrupt(storage: str | None, out: str | None):
    """On Ctrl-C (or SIGTERM) during the search, say where the finished trials are before the command's own
    ``interrupted`` line: the same command resumes from them (the trial under way is drawn again)."""
    try:
        yield
    except KeyboardInterrupt:
        if storage is None:
            why = ("--out - keeps none" if out == "-" else "no --out beside which it is kept by default")
            said = f"no trial was kept (no --storage, and {why})"
        elif "://" in storage or os.path.isfile(storage):
            said = f"the finished trials are kept in {storage}: the same command resumes there"
        else:
            said = None  # interrupted before the storage was made: nothing to resume
        if said is not None:
            with contextlib.suppress(OSError):  # standard error gone with the terminal (SIGHUP)
                print(f"ltr tune: {said}", file=sys.stderr)
        raise


def _show_space(args: argparse.Namespace) -> int:
    """Print the space the search would use: the file given, checked as a search would check it, or the engine's
    default (a pip install keeps it inside the package, where a user would not look)."""
    from ltr.tuning import load_space
    from ltr.tuning.space import default_space_path

    model = make_ranker(args, has_valid=False)
    path = Path(args.space) if args.space is not None else default_space_path(model.get_params()["engine"])
    if not path.exists() or path.is_dir():  # (a pipe, <(...) or /dev/stdin, is a space like a file: trial t60)
        raise _no_space(args.space)
    load_space(path, model)  # a space the search would refuse is refused here, in the same words
    from ltr.io.files import read_utf8_file

    sys.stdout.write(read_utf8_file(path, "search space"))  # (a pipe's bytes, kept when load_space read them)
    return 0


def run(args: argparse.Namespace) -> int:
    import warnings

    from ltr.io.outputs import check_output_path
    from ltr.metrics import describe_conventions, target_metric
    from ltr.tuning import SearchedParamWarning, tune
    from ltr.tuning.nested import STARTUP_TRIALS

    if args.show_space:
        return _show_space(args)
    if args.data is None:
        raise UsageError("the following arguments are required: DATA (or --show-space to print the search space)")

    if args.storage == "-":  # an SQLite file named '-' was made, where '-' is standard output elsewhere (trial t56)
        raise UsageError("--storage -: the trials are kept in an SQLite file, not standard output; give a file name")
    names = [c for c, _ in metric_names(args.metrics)]
    try:
        target = target_metric(args.metric).name
    except ValueError as e:
        raise UsageError(f"--metric: {e}") from None
    # the coordinate ascent optimises the tuned metric when no --objective is given: refused here as ltr train's
    # --objective, not in Python's words at exit 1 (trial t55); with an --objective of its own the metric only
    # chooses the parameters, any metric (--objective map --metric bpref was refused: trial t64)
    if args.engine == "linear" and args.objective == "lambdarank":
        from ltr.rankers.linear import linear_objective

        try:
            linear_objective(target)
        except ValueError as e:
            said = str(e).replace("engine='linear'", "--engine linear")
            raise UsageError(f"--metric {args.metric}: {said}") from None
    for flag, value, low in (("--trials", args.trials, 1), ("--outer-folds", args.outer_folds, 2),
                             ("--inner-folds", args.inner_folds, 2), ("--inner-repeats", args.inner_repeats, 1)):
        if value < low:
            raise UsageError(f"{flag} must be at least {low}, got {value}")
    # outer fold i's inner folds shuffle with the seed + i (+ r x OUTER for repeat r; scikit-learn's KFold)
    if args.outer_folds * args.inner_repeats > 2**32 - 1:
        most = (2**32 - 1) // args.outer_folds
        raise UsageError(f"--inner-repeats {args.inner_repeats}: at most {most} with --outer-folds {args.outer_folds} "
                         "(each repeat of each outer fold shuffles with a seed of its own, below 2**32)")
    top = 2**32 - 1 - args.outer_folds * args.inner_repeats
    if not 0 <= args.split_seed <= top:
        span = "--outer-folds" if args.inner_repeats == 1 else "--outer-folds x --inner-repeats"
        raise UsageError(f"--split-seed must be between 0 and {top} (2**32 - 1 - {span}), got {args.split_seed}")
    if not Path(args.data).exists():
        raise FileNotFoundError(2, "no such file", args.data)
    if Path(args.data).is_dir():
        raise IsADirectoryError(f"{args.data}: is a folder; ltr tune cuts one LETOR file into folds of queries")
    if args.space is not None and (not Path(args.space).exists() or Path(args.space).is_dir()):
        raise _no_space(args.space)
    model = make_ranker(args, has_valid=False)
    check_device(args, model)
    from ltr.io.qidmap import find_qid_map

    # before the search: a query-id map the file's header needs and that is missing is an error (as ltr cv's)
    mapping = find_qid_map(args.data, file_feature_set(args.data)) if Path(args.data).is_file() else None
    storage = args.storage or (f"{args.out}.optuna.db" if args.out and args.out != "-" else None)
    with _storage_named(args, storage, running=False):
        if args.storage and "://" not in args.storage:  # before check_outputs makes --out's folder
            check_output_path(args.storage, create_parents=False)  # a typo in the path would make folders
        piped = check_outputs(args.out, _storage_file(storage),
                              inputs=[*data_inputs(args, args.data), args.space, getattr(args, "config", None),
                                      *option_files(args.features, args.drop_features), *teacher_inputs(args)],
                              flags=("--out", "--storage" if args.storage else "the --storage default, beside --out"))
    refuse_per_row_teacher_in_folds(args)  # before the notes: one line for the mistake
    _note_searched(args, model)  # before the search: it may run for hours
    learned_teacher_warning(args)
    data, ids = _feature_subset(args)  # (read_data checks a --dataset's file before the search)
    compile_notice(args, model, "the first trial's time includes them")
    with _storage_named(args, storage), _said_on_interrupt(storage, args.out), warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchedParamWarning)  # said above in the options' words (_note_searched)
        result = tune(data, estimator=model, space=args.space, n_trials=args.trials, metric=target,
                      metrics=names, outer_folds=args.outer_folds, inner_folds=args.inner_folds,
                      inner_repeats=args.inner_repeats,
                      random_state=args.split_seed, storage=storage, gain=args.gain or "exp2",
                      no_relevant=args.no_relevant, convention=args.convention, max_grade=args.max_grade,
                      name=args.name, progress=not args.quiet, timeout=args.timeout)
    if ids is not None:
        result.cv.settings["features"] = ids  # as ltr cv records its subset
    for summary in result.cv.datasets:  # the file's name, as ltr cv records it, not the dataset's "data"
        summary["name"] = Path(args.data).name
    header_set = file_feature_set(args.data)
    if isinstance(header_set, dict) and header_set.get("add_judged"):
        result.cv.settings["add_judged"] = True  # ltr compare says so of this result, as of ltr cv's
    if header_set:
        result.cv.settings["candidates"] = True  # as ltr cv records it
    if mapping is not None:  # the collection's query ids, so that compare --qrels judges the run (as ltr cv's)
        from ltr.io.qidmap import apply_qid_map, locate_qid_map

        apply_qid_map(mapping, [q for f in result.cv.folds for q in f.qids], locate_qid_map(args.data), args.data)
        result.cv.settings["qid_map"] = mapping
    if args.out:
        result.save(args.out)
    cv = result.cv
    described = describe_conventions(convention=args.convention, gain=args.gain, no_relevant=args.no_relevant,
                                     max_grade=args.max_grade, metrics=names)
    n_queries = sum(f.n_test_queries for f in cv.folds)
    run = result.cv.settings["tuning"]["trials_run"]
    per_fold = f"{_trials(args.trials)} per fold" if min(run) == args.trials else \
        f"{'/'.join(map(str, run))} trials in folds 1-{len(run)} (--timeout; --trials {args.trials})"
    splits = f" (x {args.inner_repeats} splits)" if args.inner_repeats != 1 else ""
    footer = (f"{described}; each fold's mean over its test queries ({n_queries} in all); mean and std over "
              f"{len(cv.folds)} folds (ltr compare and ltr report average the queries); parameters chosen by "
              f"{args.inner_folds} inner folds{splits} on {target}, {per_fold}{cv.folds_without_note()}")
    keys = sorted({k for p in result.best_params for k in p})
    chosen = {f.name: [inner, *[p.get(k, "") for k in keys]]
              for f, inner, p in zip(cv.folds, result.best_inner, result.best_params)}
    if args.format == "json":
        obj = {"name": cv.name, "metric": target, "mean": cv.mean(), "std": cv.std(),
               "folds": [{"name": f.name, "metrics": f.metrics, "inner": inner, "params": params}
                         for f, inner, params in zip(cv.folds, result.best_inner, result.best_params)],
               "conventions": footer}
        emit(args, [], [], obj, to_stderr=piped)
    elif args.format == "csv":  # one table: each fold's results and its choice side by side (pure CSV)
        header, rows = cv.summary_rows(blank="", for_programs=True)
        blank = [""] * (1 + len(keys))
        emit(args, [*header, f"inner {target}", *keys], [[*r, *chosen.get(r[0], blank)] for r in rows], {},
             footer=footer, to_stderr=piped)
    else:
        shown = sys.stderr if piped else sys.stdout
        print(cv.format(args.format), file=shown)
        print(file=shown)
        # the chosen values to 4 significant digits, not decimals: a reg of 1.25e-05 read 0.0000 (trial t64)
        header, rows = ["fold", f"inner {target}", *keys], [
            [name, inner, *(f"{v:.4g}" if isinstance(v, float) else v for v in values)]
            for name, (inner, *values) in chosen.items()]
        if args.format == "markdown":  # both tables in the one format asked for
            from ltr._table import format_markdown

            print(format_markdown(header, rows) + "\n\n" + footer, file=shown)
        else:
            emit(args, header, rows, {}, footer=footer, to_stderr=piped)
    candidates_note(args, file_feature_set(args.data))
    if args.trials <= STARTUP_TRIALS:  # with the results it qualifies, as the candidates note is
        note(args, f"note: --trials {args.trials}: TPE draws its first {STARTUP_TRIALS} trials at random, so this "
                   f"search was a random search (TPE models the space from trial {STARTUP_TRIALS + 1} on)")
    for path in (args.out, storage):
        if path and path != "-" and not args.quiet:
            print(visible(f"wrote {path}"), file=sys.stderr)
    if storage:
        if result.resumed:
            note(args, f"resumed {_trials(result.resumed)} kept in {storage}")
        if result.other_setups:
            note(args, f"{storage} also holds {result.other_setups} studies of another set-up (the data, the fixed "
                       "model options, --n-jobs among them, the space, the metric, the folds, --inner-repeats or the "
                       "seed differ): their trials were not used")
        note(args, f"trials kept in {storage}: the same command resumes there")
    return 0


def _trials(n: int) -> str:
    """``1 trial``, ``2 trials``."""
    return f"{n} trial{'' if n == 1 else 's'}"


def _relative_note(path) -> str:
    """Where a relative path was looked for (a --config file's too: from the working folder, not the file's)."""
    if path is None or Path(path).is_absolute():
        return ""
    import os

    return f" (a relative path is read from the working folder, {os.getcwd()})"
