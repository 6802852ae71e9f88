"""``ltr cv DATA``: cross-validate a ranker over LETOR fold folders or query-grouped K folds; ``ltr cv --dataset NAME
--root DIR``: over a registered set's official folds (:mod:`ltr.registry`), read with its reader options and named
with its documented features."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from ltr import _checked_io  # the command line's interrupts
from ltr.cli._data import dataset_names, trec_file
from ltr.cli._files import check_doc_ids, check_outputs, data_inputs, option_files, teacher_inputs, unique_run
from ltr.cli._guard import UsageError, add_command, note, visible
from ltr.cli._model import (
    add_dask_options,
    add_model_options,
    candidates_note,
    check_device,
    compile_notice,
    dask_client,
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
    letor_dataset,
    metric_names,
    reader_options,
    refuse_shared_sidecars,
    refuse_sparse_dask_xgboost,
    seed,
    subset_flag,
)
from ltr.exceptions import LetorFormatError, OptionError

__all__ = ["CV_METRICS", "register", "run"]

CV_METRICS = "ndcg@1,ndcg@3,ndcg@5,ndcg@10,map"


def register(sub) -> None:
    from ltr.evaluation.selection import add_feature_options

    p = add_command(sub, "cv", "cross-validate a ranker (LETOR fold folders or query-grouped K folds)")
    p.add_argument("data", metavar="DATA", nargs="?", default=None,
                   help="a LETOR fold directory (Fold1..FoldK/{train,vali,test}.txt[.gz|.bz2|.xz]) or one LETOR "
                        "file to cut into --folds folds of whole queries; not with --root")
    f = p.add_argument_group("folds")
    f.add_argument("--root", default=None, metavar="DIR",
                   help="with --dataset NAME instead of DATA: run on every official fold of the registered set's "
                        "local copy in DIR (as ltr data fetch made it, or its parent folder)")
    f.add_argument("--folds", type=int, default=5, help="folds for a single file")
    f.add_argument("--no-vali", action="store_true", dest="no_vali",
                   help="single file: train on K-1 parts without a validation part (nothing stops early); without "
                        "it a part is held out when the model stops early on it, which under the small-data preset "
                        "it does only with --early-stopping N or --early-stopping-metric M")
    f.add_argument("--split-seed", type=seed, default=0, dest="split_seed", help="seed of the query shuffle")
    f.add_argument("--parallel-folds", type=int, default=1, dest="parallel_folds", metavar="N",
                   help="folds trained at once (-1: one per core, -2 all but one, ...); the cores are shared between "
                        "them")
    add_feature_options(f, saved="; the result records their ids, and so do --save-dir's fold models: ltr "
                                 "predict picks those columns from files as wide as DATA")
    add_model_options(p)
    add_n_jobs(p, "engine threads per fold")
    add_metrics(p, CV_METRICS)
    add_conventions(p, gain_default="exp2", max_grade=True)
    add_reader_options(p)
    o = p.add_argument_group("output")
    o.add_argument("--name", default=None, help="the system's name in results and reports (default: the objective)")
    o.add_argument("--save-dir", default=None, dest="save_dir",
                   help="save each fold's model, test scores and per-query metrics under DIR/FoldK/")
    o.add_argument("--out", default=None, help="write the result file (JSON) for ltr compare / ltr report ('-' for "
                                               "standard output, the table then on standard error)")
    o.add_argument("--run-out", default=None, dest="run_out",
                   help="write the out-of-fold ranking as a TREC run (needs '#docid' comments, as ltr features "
                        "writes; query ids mapped back through DATA.qids.tsv)")
    o.add_argument("--format", choices=("table", "markdown", "latex", "csv", "json"), default="table",
                   help="output format")
    add_quiet(p)
    add_dask_options(p, shards=False)
    p.set_defaults(func=run)


def _official_folds(args) -> list:
    """The registered set's official folds under ``--root`` (a missing file of any fold is an error naming it)."""
    from ltr.evaluation import Fold
    from ltr.registry import fold_paths, split_path

    entry = letor_dataset(args.dataset)
    found = fold_paths(entry, args.root)
    for k in range(1, entry.folds + 1):
        if k not in found:
            for split in entry.splits:
                split_path(entry, args.root, k, split)  # raises DatasetLayoutError naming the missing file
    folds = [Fold(f"Fold{k}", parts["train"], parts.get("vali"), parts["test"]) for k, parts in sorted(found.items())]
    if entry.layout.get("fold_segments") or entry.folds > 1:  # a mis-assembled copy tests on training queries
        from ltr.registry import DatasetLayoutError, fold_leak

        for f in folds:
            name = f.name if entry.folds > 1 else "the one official split"
            leak = fold_leak(name, {"train": f.train, "vali": f.vali, "test": f.test})
            if leak:
                raise DatasetLayoutError(f"{leak}: check the copy (ltr data verify {entry.name} {args.root})")
    return folds


def _refuse_one_file_options(args, folds) -> None:
    """``--folds``, ``--split-seed`` and ``--no-vali`` cut one file into folds; on a fold folder or a registered set's
    official folds they would do nothing, and a run that ignored them looked as if they had been honoured."""
    if folds is None and args.data is not None and not Path(args.data).is_dir():
        return
    given = getattr(args, "given_", set())
    if not given & {"folds", "split_seed", "no_vali"}:
        return
    _fold_layout(args, folds)  # a folder that holds no folds is said as such first
    source = f"--dataset {args.dataset} --root {args.root}" if folds is not None else args.data
    for dest, flag in (("folds", "--folds"), ("split_seed", "--split-seed"), ("no_vali", "--no-vali")):
        if dest in given:
            raise UsageError(f"{flag} applies to one file cut into folds; {source} has its own folds (with their "
                             "train, vali and test files): leave it out")


def _differences_from_the_registry(args, folds):
    """For ``cross_validate(on_fold=)``: warn, as each fold finishes, where its test or training file held other
    counts than the registry documents for it (a copy unpacked by hand and cut short reads without an error, and
    its numbers would be reported as the set's), rather than after every fold has trained."""
    from ltr.registry import warn_on_differences

    dropped = reader_options(args).get("unjudged") == "drop"
    by_name = {f.name: f for f in folds}

    def check(got) -> None:
        fold = by_name.get(got.name)
        if fold is None:
            return
        for path, queries, rows in ((fold.test, got.n_test_queries, None if dropped else sum(got.test_sizes)),
                                    (fold.train, got.n_train_queries, None)):
            warn_on_differences(args.dataset, path, queries=queries, rows=rows)
    return check


def _registered_width(args, e, n_features) -> None:
    """Raise a file's feature id above ``--dataset``'s documented width as a question about the set, not as advice
    to widen ``--n-features`` (as ``ltr train --dataset`` words it); a TREC run or qrels file given as DATA as what
    it reads as (:func:`~ltr.cli._data.trec_file`)."""
    kind = trec_file(e.path) if e.line == 1 and e.path else None
    if kind is not None:
        raise LetorFormatError(e.reason, e.path, e.line, e.token, offset=e.offset, hint=kind) from None
    if not args.dataset or args.n_features is not None or not str(e.reason).startswith("feature id above n_features="):
        return
    raise LetorFormatError(f"feature id above {n_features}", e.path, e.line, e.token,
                           hint=f"{args.dataset} has {n_features} features: is {e.path} that set? (without "
                                "--dataset the width is read from the file)") from None


def _check_data(args) -> None:
    if args.root is not None and args.data is not None:
        raise UsageError(f"give DATA ({args.data}) or --dataset NAME --root DIR, not both")
    if args.root is not None and not args.dataset:
        raise UsageError("--root needs --dataset NAME (the registered set whose official folds are in DIR)")
    if args.data is None and args.root is None:
        raise UsageError("give DATA (a LETOR fold directory or file), or --dataset NAME --root DIR for a registered "
                         "set's official folds")


def _has_vali(args, folds) -> bool:
    if folds is not None:
        return folds[0].vali is not None
    path = Path(args.data)
    if path.is_dir():
        from ltr.evaluation import letor_folds

        return letor_folds(path)[0].vali is not None
    return not args.no_vali


_NO_RUN_FIX = "leave --run-out out"


def _warn_of_leaking_folds(args, folds) -> None:
    """Warn, before anything trains, of a fold folder of the user's own whose fold trains or validates on query
    ids of its test file, or that tests a query id in two folds: the cross-validated score would be measured on
    training queries, or one query counted twice (trial t48: a train file holding its fold's test queries scored
    NDCG@10 0.68 for 0.54, unsaid). A warning, not a refusal as for a registered set's official folds: files that
    each number their own queries from 1 share ids without sharing queries (ltr cv names them FoldK/qid then).
    Only the qid tokens are read (LightGBM-layout files, without them, are not checked). With ``--run-out``, a query
    id in two test files is refused: an out-of-fold run ranks each query once (it was refused after every fold had
    trained, with advice to sort the rows)."""
    import logging

    from ltr.registry import fold_leak, query_in_two_tests

    log = logging.getLogger("ltr.cli.cv")
    if_numbered = ("; if each file numbers its own queries (the same ids, other queries), this is not so")
    twice = query_in_two_tests({f.name: f.test for f in folds if isinstance(f.test, (str, Path))})
    if twice and args.run_out:  # (the run was refused after every fold had trained, as rows not by query)
        raise UsageError(f"--run-out {args.run_out}: {twice}; an out-of-fold run ranks each query once, so it cannot "
                         "be made of these folds (if each file numbers its own queries, leave --run-out out: the "
                         "result names them FoldK/qid)")
    for f in folds:
        parts = {"train": f.train, "vali": f.vali, "test": f.test}
        leak = fold_leak(f.name, {k: v for k, v in parts.items() if isinstance(v, (str, Path))})
        if leak:
            log.warning("%s%s", leak, if_numbered)
            return
    if twice:
        log.warning("%s%s", twice, if_numbered)


def _fold_layout(args, folds):
    """The folds of a registered set (``folds``) or of a fold folder (DATA), or None for one file that cv cuts."""
    if folds is None and Path(args.data).is_dir():
        from ltr.evaluation import letor_folds

        return letor_folds(args.data)
    return folds


def _test_files(args, folds) -> list[Path]:
    """The files whose rows ``--run-out`` ranks: every fold's test part (each row of a single file is one fold's),
    each once."""
    folds = _fold_layout(args, folds)
    files = [Path(f.test) for f in folds] if folds is not None else [Path(args.data)]
    return list(dict.fromkeys(files))


def _fold_inputs(args, folds) -> list[str]:
    """What the folds are read from, for :func:`check_outputs`: every fold file and the sidecars a reader would
    find beside it (``.query``, ``.group``, ``.weight``), or the one data file. A result written beside them
    (``MQ2008/cv.json``, even ``MQ2008/Fold1/notes.json``) is no input, and the same command run again replaces
    it."""
    folds = _fold_layout(args, folds)
    if folds is None:
        parts = [args.data]
    else:
        parts = [part for f in folds for part in (f.train, f.vali, f.test) if isinstance(part, (str, Path))]
    return data_inputs(args, *dict.fromkeys(parts))


def _check_doc_ids(files) -> None:
    """``--run-out`` needs document ids: refuse, before anything is read whole, test files whose first row carries
    none (a usage error: the data set has none)."""
    for path in files:
        check_doc_ids(path, "--run-out", _NO_RUN_FIX)


def _check_every_doc_id(args, files, n_features) -> None:
    """Refuse, before any fold trains, a test file with a row without a document id, naming its line (the run is
    made once every fold has trained, and a missing id lost them all). ``cross_validate`` reads the files itself,
    so each is read here once more, with the options it reads them with (a single file without ``n_features``,
    as :func:`ltr.evaluation.make_folds` cuts it; the rows ``--unjudged drop`` leaves out need no id); each dataset
    is let go before the next is read."""
    from ltr.cli.train import check_every_doc_id
    from ltr.io import read_letor

    width = {"n_features": n_features} if args.data is None or Path(args.data).is_dir() else {}
    for path in files:
        try:
            data = read_letor(path, **width, **reader_options(args))
        except LetorFormatError as e:
            _registered_width(args, e, n_features)
            raise
        check_every_doc_id(data, path, "--run-out", _NO_RUN_FIX)
        del data


def _validation_notes(args, model, result) -> None:
    """Say why no validation part was held out, or why the held-out one did not stop training."""
    from ltr.evaluation import stops_early

    n_train = min(f.n_train_queries for f in result.folds)
    if getattr(model, "engine", None) == "linear":  # no rounds: a vali part only chooses the restart kept
        if any("vali" in f.evals for f in result.folds):
            note(args, "note: the vali files choose the restart coordinate ascent keeps on each fold (it has no "
                       "rounds to stop)")
        return
    if result.settings.get("validation") is False and not args.no_vali:
        if stops_early(model, n_train):  # the model would stop early, but K = 2 leaves no part to hold out
            note(args, f"note: {args.folds} folds leave no part to hold out for validation: nothing stops early "
                       "(--folds 3 or more for early stopping)")
        else:
            note(args, f"note: no validation part held out: {_why_fixed(model)} on K-1 parts (--early-stopping N "
                       "holds one out and stops early)")
    elif any("vali" in f.evals for f in result.folds) and not stops_early(model, n_train):
        note(args, f"note: the vali parts are recorded, not used to stop: {_why_fixed(model)} (--early-stopping N "
                   "stops on them)")


def _why_fixed(model) -> str:
    """Why a model that does not stop early trains fixed rounds: early stopping turned off, or the small-data
    preset (which leaves it off only where the model's own value was the default)."""
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    inner = params.get("ranker")  # a wrapper (ltr.dask.DistributedRanker) answers for its ranker
    if inner is not None and "early_stopping_rounds" not in params:
        params = inner.get_params(deep=False)
    if "early_stopping_rounds" in params and not params["early_stopping_rounds"]:
        return "early stopping is off, the model trains its fixed rounds"
    return "the small-data preset trains its fixed rounds"


def _outputs_beside_the_folds(args: argparse.Namespace) -> None:
    """Refuse ``--out``/``--run-out`` inside a sub-folder of ``--save-dir``: the run replaces its fold folders (their
    cv files: the model, scores, per-query metrics), so an output written there could be replaced by a fold's file of
    the same name, or never be where it was said to be."""
    folder = Path(args.save_dir).resolve()
    for flag, path in (("--out", args.out), ("--run-out", args.run_out)):
        if path is None or str(path) == "-":
            continue
        where = Path(path).resolve()
        if where.parent != folder and folder in where.parents:
            raise UsageError(f"{flag} {path}: inside a fold folder of --save-dir {args.save_dir}, which this run "
                             f"replaces; write it beside the fold folders ({Path(args.save_dir) / Path(path).name}) "
                             "or elsewhere")


def run(args: argparse.Namespace) -> int:
    from ltr.evaluation import cross_validate, staged_folder
    from ltr.evaluation.selection import feature_spec
    from ltr.io import write_run
    from ltr.io.outputs import outputs_together
    from ltr.io.qidmap import find_qid_map
    from ltr.metrics import describe_conventions

    names = [c for c, _ in metric_names(args.metrics)]
    if args.folds < 2:
        raise UsageError(f"--folds must be at least 2, got {args.folds}")
    if args.parallel_folds == 0:
        raise UsageError("--parallel-folds must be a positive count or -1 (one per core; -2 all but one, ...)")
    if args.save_dir == "-":  # a folder named '-' was made, where '-' is standard output elsewhere (trial t56)
        raise UsageError("--save-dir -: the folds' models and scores are files in a folder, not standard output; "
                         "give a folder")
    if args.run_out and args.name is not None:  # the run's tag: refused after every fold had trained (trial t56)
        from ltr.io.trec import is_run_token

        if not is_run_token(args.name):
            raise UsageError(f"--name {args.name!r}: with --run-out it is the run's tag, one word, neither empty nor "
                             "holding whitespace (the TREC run's last column)")
    _check_data(args)
    if args.data is not None and not Path(args.data).exists():
        import glob

        if glob.has_magic(args.data) and glob.glob(args.data):  # shards: ltr train reads them on the workers
            raise UsageError(f"{args.data}: ltr cv reads one LETOR file (or --root's fold folders), not a glob of "
                             "shards (ltr train --dask reads shards on the workers); join the shards into one file")
        raise FileNotFoundError(2, "no such file or folder", args.data)
    folds = _official_folds(args) if args.root is not None else None
    _refuse_one_file_options(args, folds)
    layout = _fold_layout(args, folds)
    if layout is not None:  # every fold's train, vali and test file reads its own sidecars
        refuse_shared_sidecars(args, f"{args.data or args.dataset} is folds of train, vali and test files")
    n_features, feature_names = args.n_features, None
    if args.dataset:
        from ltr.registry import get

        if n_features is None:
            n_features = get(args.dataset).read_options().get("n_features")
        feature_names = dataset_names(args, n_features) if n_features is not None else None
    has_vali = _has_vali(args, folds)
    model = make_ranker(args, has_valid=has_vali)
    check_device(args, model)
    refuse_sparse_dask_xgboost(args, model)
    piped = check_outputs(args.out, args.run_out, inputs=[getattr(args, "config", None), *_fold_inputs(args, folds),
                                                          *option_files(args.features, args.drop_features),
                                                          *teacher_inputs(args)],
                          flags=("--out", "--run-out"))
    shown = sys.stderr if piped else sys.stdout  # an output on standard output: the table goes to standard error
    tested = _test_files(args, folds) if args.run_out else []
    _check_doc_ids(tested)
    if layout is not None and folds is None:  # a fold folder of the user's own (a registered set's: its record)
        _warn_of_leaking_folds(args, layout)
    feature_set = file_feature_set(args.data) if folds is None else None
    # before training: a query-id map the file's header needs and that is missing is an error
    mapping = find_qid_map(args.data, feature_set) if folds is None and Path(args.data).is_file() else None
    if args.save_dir:
        if Path(args.save_dir).exists() and not Path(args.save_dir).is_dir():
            raise UsageError(f"--save-dir {args.save_dir}: is a file, not a folder")
        _outputs_beside_the_folds(args)  # (the folder is made by staged_folder, which names it in its errors)
    refuse_teacher_column_in_subsets(args)
    refuse_per_row_teacher_in_folds(args)
    learned_teacher_warning(args)  # before the folds train: they may take hours
    features = feature_spec(args.features, args.drop_features)
    _check_every_doc_id(args, tested, n_features)  # last, as it reads the test files whole
    if args.dataset:  # a file of another set (46 features read as MSLR's 136): refused before training, as ltr train
        from ltr.cli._data import check_registered_file

        try:
            check_registered_file(args, _test_files(args, folds)[0], n_features)
        except LetorFormatError as e:
            _registered_width(args, e, n_features)
            raise
    one_at_a_time = args.parallel_folds == 1 and not getattr(args, "dask", None)
    compile_notice(args, model, "fold 1's seconds include them" if one_at_a_time else
                   "the first folds' seconds include them")
    # The fold folders are staged and replace --save-dir's together with --out and --run-out, once everything has
    # succeeded: a failed or interrupted run leaves the previous run's outputs as they were. Interrupts are held from
    # the moment the files are written until the folders are in place too: outputs_together raised a Ctrl-C held
    # over its renames, and the staged folders were dropped, --out describing models --save-dir did not hold (t62)
    staged = staged_folder(args.save_dir) if args.save_dir else contextlib.nullcontext(None)
    with contextlib.ExitStack() as committing, staged as staging:
        with dask_client(args, model, validation=has_vali) as client:
            parallel = args.parallel_folds
            if client is not None:  # every fold trains on the cluster, one fold at a time (ltr.dask)
                from ltr.dask import DistributedRanker

                model, parallel = DistributedRanker(model, engine=args.dask_engine), 1
            try:
                result = cross_validate(
                    model, args.data if folds is None else folds, metrics=names, n_splits=args.folds,
                    validation=False if args.no_vali else "auto", random_state=args.split_seed, n_jobs=parallel,
                    features=features, n_features=n_features, save_dir=staging, progress=not args.quiet,
                    name=args.name, gain=args.gain, no_relevant=args.no_relevant, convention=args.convention,
                    read_options=reader_options(args), feature_names=feature_names, max_grade=args.max_grade,
                    on_fold=_differences_from_the_registry(args, folds) if folds is not None else None,
                )
            except LetorFormatError as e:
                _registered_width(args, e, n_features)
                raise
            except OptionError as e:
                if str(e).startswith("features: "):  # by the flag given (and a --config file's key for it)
                    raise UsageError(f"{subset_flag(args)}: {str(e).removeprefix('features: ')}") from None
                raise
        _validation_notes(args, model, result)
        if isinstance(feature_set, dict) and feature_set.get("add_judged"):
            result.settings["add_judged"] = True  # ltr compare says so of this result
        if feature_set:
            result.settings["candidates"] = True  # ltr compare of the results says what candidates_note says
        if folds is not None:
            result.settings.update({"source": "registry", "dataset": args.dataset, "root": str(args.root)})
        elif mapping is not None:
            from ltr.io.qidmap import apply_qid_map, locate_qid_map

            # every test query must be in the map (one for another file left queries under LETOR numbers)
            apply_qid_map(mapping, [q for f in result.folds for q in f.qids], locate_qid_map(args.data), args.data)
            result.settings["qid_map"] = mapping
        outputs = [p for p in (args.run_out, args.out) if p]
        with outputs_together(*outputs) as places:  # written in full first, then renamed in
            place = dict(zip(outputs, places))
            if args.run_out:
                write_run(place[args.run_out], unique_run(args, result.run(tag=args.name), "the cross-validated data"))
            if args.out:
                result.save(place[args.out])
            # released once the fold folders are in place too
            committing.enter_context(_checked_io.interrupts_held())
    one_split = len(result.folds) == 1  # Istella, Yahoo, a Fold layout of one fold: no std over folds
    if not (piped and args.quiet):  # on standard error, the table is a note: --quiet leaves it out
        print(result.format(args.format), file=shown)  # one fold: '-' for the std, null in JSON
    n_queries = sum(f.n_test_queries for f in result.folds)
    described = describe_conventions(convention=args.convention, gain=args.gain, no_relevant=args.no_relevant,
                                     max_grade=args.max_grade, metrics=names)
    if one_split and folds is not None:
        line = (f"{described}; the mean over the {n_queries} test queries of {args.dataset}'s one official split "
                "(Fold1; a standard deviation over one split is undefined: -)")
    elif one_split:
        line = (f"{described}; the mean over the {n_queries} test queries of the one fold "
                f"({result.folds[0].name}; a standard deviation over one fold is undefined: -)")
    else:
        line = (f"{described}; each fold's mean over its test "
                f"queries, {n_queries} in all; mean and std over {len(result.folds)} folds")
    line += result.folds_without_note()
    if args.format in ("table", "markdown"):
        if not (piped and args.quiet):
            print(("\n" if args.format == "markdown" else "") + line, file=shown)
    else:
        note(args, line)
    candidates_note(args, feature_set)
    for path in (args.out, args.run_out):
        if path and path != "-" and not args.quiet:
            print(visible(f"wrote {path}"), file=sys.stderr)
    if args.save_dir:  # fold folders of an earlier run with more folds stay: said, as they no longer match --out
        written = {f.name for f in result.folds}
        stale = sorted(p.name for p in Path(args.save_dir).glob("Fold*") if p.is_dir() and p.name not in written)
        if stale:  # a warning, said under --quiet too: a glob of D/Fold*/ mixes the two runs (trial t64)
            import warnings

            warnings.warn(f"{args.save_dir} also holds {', '.join(stale)} of an earlier run (this one wrote "
                          f"{len(written)} fold{'s' if len(written) != 1 else ''}): remove them, or save elsewhere",
                          UserWarning, stacklevel=2)
    return 0
