"""``ltr train`` (fit a ranker, report validation/test metrics, save it) and ``ltr predict`` (score with it)."""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys
import time
import warnings

from ltr.cli._data import apply_recorded_read_options, read_data, recorded_read_options, weighted_ndcg_caveat
from ltr.cli._files import check_doc_ids, check_outputs, data_inputs, emit, option_files, teacher_inputs, unique_run
from ltr.cli._guard import UsageError, add_command, error_message, note, visible
from ltr.cli._model import (
    add_dask_options,
    add_model_options,
    candidates_note,
    compile_notice,
    dask_client,
    make_ranker,
    preset_flags,
)
from ltr.cli._options import (
    add_conventions,
    add_format,
    add_metrics,
    add_n_jobs,
    add_quiet,
    add_reader_options,
    conventions,
    metric_label,
    metric_names,
    reader_options,
    refuse_shared_sidecars,
    refuse_sparse_dask_xgboost,
    run_tag,
    subset_flag,
)

__all__ = ["DEFAULT_METRICS", "check_every_doc_id", "file_row_scores", "register", "train_and_report"]

DEFAULT_METRICS = "ndcg@1,ndcg@3,ndcg@5,ndcg@10,map,err@10"


def register(sub) -> None:
    from ltr.evaluation.selection import add_feature_options

    p = add_command(sub, "train", "train a ranker and print validation/test metrics")
    p.add_argument("train", metavar="TRAIN", help="training LETOR file")
    p.add_argument("--valid", help="validation LETOR file: its metric drives early stopping")
    p.add_argument("--test", help="test LETOR file, evaluated once at the end")
    p.add_argument("--out", help="save the model here (engine text + MODEL.meta.json); checked before training")
    p.add_argument("--log-every", type=int, default=0, dest="log_every", metavar="N",
                   help="print the metrics recorded each round (NDCG@10, and --early-stopping-metric's; --metrics "
                        "is measured once, at the end) every N rounds to standard error, in LightGBM's form "
                        "'[10] valid ndcg@10: ...' but under this command's metric conventions (a query without a "
                        "relevant document scores --no-relevant's 0 by default, 1 in LightGBM's log; --convention "
                        "lightgbm gives its numbers; without --valid, the round: '[10] of 300 rounds'); 0: never")
    add_feature_options(p.add_argument_group("feature subset"),
                        saved="; --valid and --test keep the same columns, and the saved model records their ids "
                              "(read_options in MODEL.meta.json), so that ltr predict MODEL DATA picks them from "
                              "files as wide as TRAIN")
    add_model_options(p)
    add_n_jobs(p)
    add_metrics(p, DEFAULT_METRICS)
    add_conventions(p, gain_default="exp2", max_grade=True)
    add_reader_options(p)
    add_format(p)
    add_quiet(p)
    add_dask_options(p)
    p.set_defaults(func=run_train)

    p = add_command(sub, "predict", "score a LETOR file with a saved model (scores or a TREC run)")
    p.add_argument("model", metavar="MODEL", help="a model saved by ltr train (one trained with --features scores "
                                                  "the columns it records), or a plain LightGBM / XGBoost model")
    p.add_argument("data", metavar="DATA", help="LETOR file to score")
    p.add_argument("--out", required=True, help="scores, one per line in DATA's row order (or a TREC run with "
                                                "--run); '-' for standard output. With --unjudged drop the dropped "
                                                "rows have no line, so the file no longer lines up with DATA's "
                                                "lines (paste DATA OUT); the default --unjudged keep scores every "
                                                "row")
    p.add_argument("--run", action="store_true", help="write a TREC run (needs '#docid' comments in DATA; query "
                                                      "ids are mapped back through DATA.qids.tsv when present)")
    p.add_argument("--tag", default="ltrkit", type=run_tag, help="run tag (with --run)")
    add_reader_options(p)
    p.set_defaults(read_unjudged="keep")  # a row to score needs no label: MQ2007/8-semi's unjudged rows are scored
    add_quiet(p)
    p.set_defaults(func=run_predict)


def _evaluate(model, data, names: list[str], conventions: dict, said: bool = False) -> dict[str, float]:
    """``data``'s metrics under ``model``; ``said``: the Ranker has said already that its weights are not used (the
    validation set)."""
    from ltr.metrics import evaluate

    if hasattr(data, "evaluate_model"):  # data held by Dask workers (ltr.dask): evaluated there, per query
        return data.evaluate_model(model, names, **conventions)

    weight = getattr(data, "weight", None)
    if weight is not None and conventions.get("convention") != "lightgbm" and not said:
        import warnings

        warnings.warn(f"the weights of {data.sources.get('weight') or 'the data'} are not used by its metrics: each "
                      "query counts once (--convention lightgbm weighs the means by query, as LightGBM does)",
                      UserWarning, stacklevel=2)
    if conventions.get("convention") != "lightgbm":
        weight = None
    return {k: float(v) for k, v in evaluate(data.y, model.predict(data), group_ptr=data.group_ptr, metrics=names,
                                              weight=weight, **conventions).items()}


def train_and_report(train, valid, test, model, names: list[str], conventions: dict | None = None,
                     log_every: int = 0) -> dict:
    """Fit ``model`` on ``train`` (early stopping on ``valid`` alone) and evaluate on ``valid`` and ``test``
    (on ``train`` when neither is given, labelled as such)."""
    conventions = conventions or {}
    sets = (("valid", valid), ("test", test)) if valid is not None or test is not None else (("train", train),)
    for _, d in sets:  # labels the metrics cannot score (ERR's max_grade, the exp2 gain) fail now, not after training
        if d is not None and not hasattr(d, "evaluate_model"):
            import numpy as np

            from ltr.metrics import evaluate

            evaluate(d.y, np.zeros(d.y.shape[0]), group_ptr=d.group_ptr, metrics=names, **conventions)
    t0 = time.perf_counter()
    kw = {"eval_set": [valid], "eval_names": ["valid"]} if valid is not None else {}
    model.fit(train, log_period=log_every, **kw)
    result = {"seconds": time.perf_counter() - t0, "rounds": model.best_iteration_,
              "rounds_run": getattr(model, "n_rounds_", model.best_iteration_), "threads": model.n_threads_,
              "workers": getattr(model, "n_workers_", None),  # Dask workers (--dask); None in one process
              "device": getattr(getattr(model, "ranker_", model), "device_", "cpu")}  # after a gpu-or-cpu fallback
    result["queries"] = {}
    for name, d in sets:
        if d is not None:
            result[name] = _evaluate(model, d, names, conventions, said=name == "valid")
            result["queries"][name] = d.n_queries
            averaged = _averaged(d, names, conventions)
            if averaged is not None:
                result.setdefault("averaged", {})[name] = averaged
    return result


def _counted(n_queries: int, averaged: dict[str, int] | None) -> str:
    """A set's queries averaged: '156', or '105' with the metrics that average other counts, '105 (156 in dcg@10)'
    (as ltr evaluate says it)."""
    if not averaged:
        return str(n_queries)
    first, *_ = averaged.values()
    others = ", ".join(f"{n} in {m}" for m, n in averaged.items() if n != first)
    return f"{first} ({others})" if others else str(first)


def _averaged(data, names: list[str], conventions: dict) -> dict[str, int] | None:
    """How many of ``data``'s queries each metric's mean is over, when ``no_relevant`` is nan (queries without a
    relevant document left out: of NDCG and MAP, not of DCG; with ``rel_threshold`` 2, more of the binary metrics);
    None otherwise, or for data held by Dask workers."""
    import math

    import numpy as np

    if hasattr(data, "evaluate_model") or not math.isnan(float(conventions.get("no_relevant", 0.0))):
        return None
    from ltr.metrics import evaluate_per_query

    # which queries are left out depends on the labels alone: any scores tell
    values = evaluate_per_query(data.y, np.zeros(data.y.shape[0]), group_ptr=data.group_ptr, metrics=names,
                                **conventions)
    return {m: int(np.count_nonzero(~np.isnan(values[m]))) for m in names}


def _no_pair(data) -> bool:
    """Whether no query of ``data`` has two different labels (a ranking objective has nothing to learn)."""
    from ltr.groups import no_query_has_two_labels

    if getattr(data, "group_ptr", None) is None:  # (shards read on Dask workers)
        return False
    return no_query_has_two_labels(data.y, data.group_ptr)


def _read_shards(args: argparse.Namespace, client):
    """TRAIN's shards, read on the workers as one process reads TRAIN (:func:`_read_shard`); then ERR's max grade
    from their largest label, with read_data's note (the workers' own notes go nowhere)."""
    from functools import partial

    from ltr.cli._data import default_max_grade
    from ltr.dask import read_letor_shards

    told = argparse.Namespace(**{k: v for k, v in vars(args).items() if k != "func"})  # shipped to the workers
    told.quiet = True
    train = read_letor_shards(args.train, client=client, n_features=getattr(args, "n_features", None),
                              reader=partial(_read_shard, told), **reader_options(args))
    default_max_grade(args, [s["label_max"] for s in train.summaries])
    return train


def _read_shard(args: argparse.Namespace, path: str, *, n_features: int | None = None, **options):
    """One shard of TRAIN, read on its worker by :func:`~ltr.cli._data.read_data`, as one process reads TRAIN:
    ``--dataset``'s documented width (a wider shard is a file of another set), its checks and feature names, and the
    labels the metrics cannot take, named by the shard's line (``ltr train --dask`` trained MSLR's 136 features as
    MQ2008's, and failed after training on a grade 6 that one process notes; trial t61). ``options`` are
    ``reader_options(args)``, which read_data applies itself."""
    return read_data(args, path, n_features=n_features)


def _note_nondeterministic_bagging(args: argparse.Namespace, model) -> None:
    """LightGBM's query bagging (``bagging_by_query``, which the small-data preset sets) draws otherwise from run to
    run on more than one thread (LightGBM alone shows it): said where it applies, as the README says it (trial t70:
    --n-jobs 2 trained another model, test NDCG@10 0.4859 then 0.4837, without a word)."""
    if model.engine != "lightgbm" or (getattr(model, "n_threads_", 1) or 1) <= 1:
        return
    params = {**dict(model.fitted_params().get("engine_params") or {}),
              **dict((getattr(model, "preset_params_", None) or {}).get("engine_params") or {})}
    if str(params.get("bagging_by_query", "")).lower() in ("true", "1"):
        note(args, f"note: LightGBM's query bagging (bagging_by_query) draws otherwise on each run with more than one "
                   f"thread: this model, trained on {model.n_threads_} threads, may differ from the next run's "
                   "(--n-jobs 1 repeats exactly)")


def run_train(args: argparse.Namespace) -> int:
    from ltr.evaluation.selection import feature_spec
    from ltr.metrics import describe_conventions

    pairs = metric_names(args.metrics)
    names = [c for c, _ in pairs]
    if args.log_every < 0:
        raise UsageError(f"--log-every must be >= 0, got {args.log_every}")
    from ltr.io.outputs import stream_of

    if args.out == "-" or (args.out and stream_of(args.out)) or (
            args.out and os.path.exists(args.out) and not os.path.isfile(args.out)
            and not os.path.isdir(args.out)):  # a stream, device or pipe (a folder: check_outputs says so)
        raise UsageError(f"--out {args.out}: a model is two files (the model and MODEL.meta.json); give a file path")
    if args.out and str(args.out).lower().endswith(".ubj"):  # before training (the model's writer refuses it too)
        from ltr.rankers.sidecar import ubj_refusal

        raise UsageError(f"--out {args.out}: {ubj_refusal(args.engine)}")
    from ltr.io.outputs import compressed_ending

    suffix = compressed_ending(str(args.out or ""))
    if suffix is not None:  # written plain under that name (trial t55; .zip, .zst: review of t64)
        raise UsageError(f"--out {args.out}: a model is written as plain text, which the engines read (neither reads "
                         f"a compressed model): give a name without {suffix}")
    model = make_ranker(args, has_valid=args.valid is not None)
    refuse_sparse_dask_xgboost(args, model)
    from ltr.rankers.sidecar import meta_path

    inputs = [*data_inputs(args, args.train, args.valid, args.test), getattr(args, "config", None),
              *option_files(args.features, args.drop_features), *teacher_inputs(args)]
    check_outputs(args.out, inputs=inputs, flags=("--out",))  # first: a folder ('.', '/') has no sidecar name
    check_outputs(args.out, args.out and meta_path(args.out), inputs=inputs)  # the sidecar's place too
    cache = getattr(args, "dataset_cache", None)
    if cache and args.out and os.path.abspath(cache) in {os.path.abspath(p) for p in (args.out, meta_path(args.out))}:
        # the cache folder would be made at --out's name, and the model found a folder there only after training
        raise UsageError(f"--dataset-cache {cache}: the model's own path (--out {args.out}): give the cache a folder "
                         "of its own")
    spec = feature_spec(args.features, args.drop_features)
    if getattr(args, "dask", None) and glob.has_magic(args.train):  # shards, each with its own sidecars
        shards = len(glob.glob(args.train))
        refuse_shared_sidecars(args, f"TRAIN is {shards} shards" if shards > 1 else None)
    if getattr(args, "dask", None):  # a missing shard or a folder: said before any cluster starts
        from ltr.dask import shard_paths

        shard_paths(args.train)
    if spec is not None and getattr(args, "dask", None):
        raise UsageError("--features/--drop-features: not with --dask (the shards are read on the workers); select "
                         "the columns on one machine, or train there on files holding only them")
    compile_notice(args, model)
    if not args.quiet:
        model.set_params(verbose=1)
    subset = None
    with dask_client(args, model, validation=args.valid is not None) as client:
        if client is not None:  # shards read on the workers; the model trains there (ltr.dask)
            from ltr.dask import DistributedRanker

            train = _read_shards(args, client)
            workers = len(client.scheduler_info().get("workers", {}))
            if len(train.parts) < workers:  # a shard is one partition: the other workers would hold nothing
                note(args, f"note: {len(train.parts)} shard(s) for {workers} Dask workers: "
                           f"{workers - len(train.parts)} of them hold no data and do not train (cut TRAIN into "
                           f"{workers} or more shards of whole queries to spread the work)")
            model = DistributedRanker(model, engine=args.dask_engine)
        else:
            train = read_data(args, args.train)
        nf, columns = train.n_features, train.feature_names
        valid = test = None
        if args.valid:
            valid = fit_columns(args, read_data(args, args.valid, own_sidecars=True), nf, columns, args.valid,
                                f"TRAIN {args.train}")
        if args.test:
            test = fit_columns(args, read_data(args, args.test, own_sidecars=True), nf, columns, args.test,
                               f"TRAIN {args.train}")
        if client is None:  # before the subset: a teacher column is the file's id, a score file its line order
            _place_teacher(args, model, train, spec)
        if spec is not None:  # the same columns of every set, as ltr cv --features selects them in each fold
            train, valid, test, subset = _select(args, spec, train, valid, test)
        if valid is not None and client is None and _same_file(args.valid, args.train):
            valid = train  # the training data itself: watched, never stopping training, as in Python (it stopped
            # early on training NDCG, without a word: trial t64)
        result = train_and_report(train, valid, test, model, names, conventions(args), args.log_every)
        _warn_test_seen(args, model)
        if args.convention == "lightgbm":
            sets = [d for d in ((valid, test) if valid or test else (train,))
                    if d is not None and d.weight is not None and d.sources.get("weight")]
            if sets:
                caveat = next((c for c in map(weighted_ndcg_caveat, sets) if c), "")
                note(args, f"note: the means of ndcg and map are weighted by query, each query by its rows' mean "
                           f"weight in {' and '.join(d.sources['weight'] for d in sets)}, as LightGBM averages "
                           f"them{caveat}")
    candidates_note(args, getattr(train, "feature_set", None))
    _note_nondeterministic_bagging(args, model)
    applied = getattr(model, "preset_params_", None)
    if applied:
        shown = preset_flags(applied)  # as the options that set them by hand
        stops = ("; it trains all its rounds, recording --valid's metrics (--early-stopping N stops early)"
                 if args.valid and "early_stopping_rounds" in applied else "")
        note(args, f"small-data preset ({train.n_queries} training queries): {shown}; --preset none keeps the "
                   f"standard defaults{stops}")
    if args.out:
        model.read_options_ = recorded_read_options(args) or {}  # ltr predict reads its data the same way ({}: the
        # readers' defaults, known as such, so that predict of a file read otherwise is warned of)
        if subset is not None:  # ... and picks the columns trained on (from files as wide as TRAIN)
            from ltr.evaluation.selection import FEATURES_KEY, subset_description

            model.read_options_ = {**(model.read_options_ or {}), FEATURES_KEY: subset}
            # ltr features output keeps its description (of all TRAIN's columns): export maps its features and
            # ltr rerank computes the whole set, scoring the recorded columns
            model.feature_set_ = subset_description(getattr(train, "feature_set", None), subset["ids"],
                                                    getattr(model, "feature_names_in_", None))
        model.save(args.out)
    sets = [s for s in ("train", "valid", "test") if s in result]
    counts = ", ".join(f"{s} {_counted(result['queries'][s], result.get('averaged', {}).get(s))}" for s in sets)
    described = describe_conventions(convention=args.convention, gain=args.gain, no_relevant=args.no_relevant,
                                     max_grade=args.max_grade, metrics=names)
    footer = f"{described}; queries averaged: {counts}"
    ran = result["rounds_run"]
    kept = f" (ran {ran}, kept the best)" if ran > result["rounds"] else ""
    on = (f"{result['workers']} Dask worker(s)" if result.get("workers") is not None else
          f"{result['threads']} thread(s)")
    # a linear model's rounds are coordinate-ascent passes over the features, of all its restarts together
    unit = "coordinate-ascent passes" if getattr(model, "engine", None) == "linear" else "rounds"
    rounds = result["rounds"]
    if unit != "rounds":  # its rounds are at least 1 (a model's best iteration), its passes may be none: every
        # feature constant within each query ('trained 1 coordinate-ascent passes' was said; trial t72)
        rounds = getattr(getattr(model, "booster_", None), "training", {}).get("passes", rounds)
    done = f"trained {rounds} {unit}{kept} in {result['seconds']:.2f} s on {on}" + (
        f"; saved {args.out}" if args.out else "; not saved (no --out)")  # a newcomer looked for it (trial t62)
    asked = getattr(model, "n_estimators", None)
    if getattr(model, "engine", None) == "lightgbm" and asked is not None and ran < asked and ran == result["rounds"] \
            and not _no_pair(train) and not getattr(model, "_idle_objective", None):  # (nothing to learn: the
        # ranker's warning says why, no leaf size helps: no query of two labels, a teacher alike within queries)
        leaf = (applied or {}).get("min_child_samples", getattr(model, "min_child_samples", None))
        note(args, f"note: LightGBM stopped after {ran} of {asked} rounds: no leaf was left that it could split "
                   f"(each side of a split needs min_child_samples={leaf} rows; lower it with --min-child-samples)")
    if args.format == "json":
        result["conventions"] = footer
        emit(args, [], [], result)
        return 0
    header = ["metric", *sets]
    rows = [[c if args.format == "csv" else metric_label(c, r), *[result[s][c] for s in sets]] for c, r in pairs]
    emit(args, header, rows, result, footer=footer)
    if args.format == "csv":
        note(args, done)
    else:
        print(visible(done))
    return 0


def file_row_scores(path, data, what: str = "--scores"):
    """Scores of ``data``'s rows from a per-row score file: one score per line in the order of the lines of the
    LETOR file ``data`` was read from (as ``ltr predict`` writes them, with or without ``--sort``).

    When the reader reordered the rows (``--sort``: stably by query) or dropped some (``--unjudged drop``), line
    ``i`` is the score of the row read from line ``i`` (:func:`ltr.io.letor.source_rows`), not of the dataset's
    ``i``-th row. A file with one line per kept row (``ltr predict --unjudged drop``: the kept rows, in DATA's
    order) is mapped likewise.
    """
    import numpy as np

    from ltr.exceptions import ScoreFormatError
    from ltr.io import read_scores
    from ltr.io.letor import source_rows

    placed = source_rows(data)
    if placed is None:  # (RankLib's qid/index/score lines: checked against the rows' queries)
        return read_scores(path, data.n_rows, qid=np.repeat(np.asarray(data.query_ids), np.diff(data.group_ptr)))
    rows, n = placed
    values = read_scores(path)
    if values.size == n:  # one per line of DATA
        return values[rows]
    if values.size == rows.size:  # one per kept row, in DATA's order
        return values[np.argsort(np.argsort(rows, kind="stable"), kind="stable")]
    kept = f", of which {rows.size} kept (--unjudged drop)" if rows.size != n else ""
    raise ScoreFormatError(f"{what}: {values.size} scores for the {n} rows of the data{kept}; a score file has one "
                           "score per line of the data, in its line order", str(path))


def _place_teacher(args: argparse.Namespace, model, train, spec) -> None:
    """The distillation teacher as ``model`` must see it on the rows and columns it trains on: a per-row score file
    mapped through the reader's row order (:func:`file_row_scores`), and a teacher column resolved as the file's
    feature id or name before the ``--features`` subset ``spec`` (its position in the subset, where the student
    never uses it, or its values when the subset leaves it out)."""
    import numpy as np

    from ltr.io.letor import source_rows
    from ltr.rankers.teacher import TeacherScores, check_not_filled, parse_teacher, per_row_scores, teacher_column

    params = getattr(model, "objective_params", None) or {}
    teacher = params.get("teacher")
    if getattr(model, "objective", None) != "distill" or teacher is None:
        return
    try:
        parsed = parse_teacher(teacher)
    except (TypeError, ValueError):
        return  # the ranker's own error, at fit
    new = None
    if parsed.kind == "scores" and isinstance(parsed.value, str) and source_rows(train) is not None:
        if per_row_scores(parsed.value):  # (a run, or qid/docid/score lines, is joined on ids, in any order)
            new = TeacherScores(file_row_scores(parsed.value, train, what="--teacher-scores"), source=parsed.value)
    elif parsed.kind == "column" and spec is not None:
        from ltr.evaluation.selection import resolve_features

        shown = parsed.value
        flag = f"--teacher-column {shown}" if hasattr(args, "teacher_column") else "--objective-param teacher"
        try:
            cols = [int(c) for c in resolve_features(spec, train.n_features, train.feature_names)]
        except ValueError as e:
            raise UsageError(f"{subset_flag(args)}: {e}") from None
        try:
            j = teacher_column(teacher, train.n_features, train.feature_names)
        except ValueError as e:
            raise UsageError(f"{flag}: {e}") from None
        check_not_filled(train.X, j, train.feature_names, train.qid, train.doc_ids)  # as fit would, on every column
        if j in cols:
            note(args, f"note: the teacher column {shown} (feature id {j + 1}) is also a selected feature: it is "
                       f"column {cols.index(j) + 1} of the subset, which the student never uses (set to 0, as "
                       "without --features)")
            new = {"column": cols.index(j) + 1}
        else:
            X = train.X[:, j]
            values = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64).reshape(-1)
            new = TeacherScores(values, source=f"<feature {j + 1} of {args.train}>")
    elif parsed.kind == "model" and spec is not None and _reads_the_file(parsed.value.model, train.n_features):
        # a teacher of the file's columns (or of its own subset of them) scores the file; the student learns from
        # its subset
        values = np.asarray(parsed.value.predict(train.X, train.group_ptr, feature_names=train.feature_names),
                            dtype=np.float64).reshape(-1)
        new = TeacherScores(values, source=f"<{parsed.value.source or 'the teacher model'} on every column of "
                                           f"{args.train}>")
    if new is not None:
        model.set_params(objective_params={**params, "teacher": new})


def _reads_the_file(teacher, width: int) -> bool:
    """Whether a teacher model scores rows of ``width`` columns: trained on them, or on a subset of a file that wide
    (``ltr train --features``, recorded in its sidecar)."""
    subset = (getattr(teacher, "read_options_", None) or {}).get("features")
    return getattr(teacher, "n_features_in_", None) == width or (
        isinstance(subset, dict) and subset.get("n_features") == width)


def _select(args: argparse.Namespace, spec, train, valid, test):
    """The sets restricted to the ``--features`` / ``--drop-features`` columns of TRAIN, and the subset's record for
    the model's sidecar: 1-based ids and TRAIN's width."""
    from ltr.evaluation.selection import resolve_features, shown_ids, take_columns

    width = train.n_features
    try:
        cols = resolve_features(spec, width, train.feature_names)
    except ValueError as e:
        raise UsageError(f"{subset_flag(args)}: {e}") from None
    ids = [int(c) + 1 for c in cols]
    note(args, f"features: {len(ids)} of {width} (ids {shown_ids(ids)})")
    sets = [None if d is None else take_columns(d, cols, first_file_id(args)) for d in (train, valid, test)]
    return (*sets, {"ids": ids, "n_features": width})


def first_file_id(args: argparse.Namespace) -> int:
    """The id of a LETOR file's first column as the command reads it: 0 with ``--zero-based``, else 1 (unnamed
    columns of a ``--features`` subset are named by the file's ids)."""
    return 0 if getattr(args, "read_zero_based", False) else 1


def _pick_recorded(args: argparse.Namespace, model, data):
    """DATA's columns that a model trained with ``ltr train --features`` uses (its sidecar's record), from a file as
    wide as its training file (a narrower one padded, as svmlight files leave absent features out)."""
    from ltr.evaluation.selection import recorded_features, subset_words, take_columns

    recorded = recorded_features(model, name=args.model)
    if recorded is None:
        return data
    import numpy as np

    ids, width = recorded
    data = fit_columns(args, data, width, None, args.data, f"the model {args.model}'s training file", wider="")
    note(args, f"note: the model was trained on {len(ids)} of {width} features (ltr train --features or "
               f"--drop-features): DATA's {subset_words(ids, width)}")
    return take_columns(data, np.asarray(ids, dtype=np.intp) - 1, first_file_id(args))


_NO_RUN_FIX = "leave --run out for one score per line (ltr evaluate DATA --scores FILE evaluates them)"
# '#docid =' with nothing after it, or only the next pair ('#docid = inc = 0.5'): the reader's id ""
_EMPTY_DOC_ID = re.compile(r"#.*\bdocid\s*[=:]\s*(?:$|(?=\S+\s*[=:](?:\s|$)))")


def check_every_doc_id(data, path: str | os.PathLike, flag: str, fix: str) -> None:
    """``flag`` writes a TREC run, which names every row's document: refuse ``data`` (as read from the LETOR file
    ``path``) when a row has no document id, naming the line of the first such row in the file. Called once the file
    is read and before anything is scored or trained: :func:`~ltr.cli._files.check_doc_ids` looks at the first row
    alone, and a later row without its ``#docid = ...`` comment (a file edited or assembled by hand) reached
    :func:`ltr.io.write_run` as an empty id, refused there without a file or line, after every fold of ``ltr cv`` had
    trained. The reader gives such a row the id ``""``, as it gives a ``#docid =`` with nothing after it (refused
    too, said so); a row the reader dropped (``--unjudged drop``) is in no run and needs none."""
    import numpy as np

    from ltr.exceptions import LetorFormatError
    from ltr.io.letor import DOCID, row_line, source_rows

    if data.doc_ids is None:  # past check_doc_ids: a header that records none over comments that name them
        raise ValueError(f"{path}: no document ids ('#docid = ...' comments, which a '# ltrkit-letor' header's "
                         f"\"doc_ids\": false leaves unread), so no TREC run can be written: {fix}")
    empty = np.flatnonzero(np.asarray(data.doc_ids, dtype=object) == "")
    if not empty.size:
        return
    placed = source_rows(data)  # rows sorted by query (--sort): the first in the file is the one named
    place = empty if placed is None else placed[0][empty]
    row = int(empty[np.argmin(place)])
    wanted = f"{flag} needs a document id on every row"
    hint = f"give it one, or {fix}"
    found = row_line(data, row)
    # the reader's rule, on the line's comment (row_line's caller checks the line is the row's)
    if found is not None and not DOCID.search(found[1].partition("#")[2]):
        line, text = found
        comment = _EMPTY_DOC_ID.search(text)
        if comment is not None:
            raise LetorFormatError(f"{wanted}, and this row's '#docid =' comment holds none", str(path), line,
                                   comment.group(0), hint=hint)
        raise LetorFormatError(f"{wanted}, and this row has none ('#docid = ...' comments, as LETOR 4.0 and ltr "
                               "features write them)", str(path), line, hint=hint)
    # its line not found again (a pipe's rows are not kept): the row's place among the file's rows
    raise LetorFormatError(f"{wanted}, and the file's row {int(np.min(place)) + 1} (query {data.qid[row]}) has none "
                           "('#docid = ...' comments, as LETOR 4.0 and ltr features write them)", str(path), hint=hint)


def run_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from ltr.io import run_from_scores, write_run, write_scores
    from ltr.io.letor import source_rows
    from ltr.io.qidmap import find_qid_map
    from ltr.rankers import PlainModelWarning, ReadOptionsWarning, load_model
    from ltr.rankers.sidecar import find_meta_path

    if "tag" in getattr(args, "given_", set()) and not args.run:  # as other options that would change nothing
        raise UsageError(f"--tag {args.tag} goes with --run (the run's tag); plain scores have none")
    check_outputs(args.out, inputs=[args.model, find_meta_path(args.model), *data_inputs(args, args.data)],
                  flags=("--out",))
    if args.run and os.path.isfile(args.data):  # before the whole file is read (a folder: read_data says so)
        check_doc_ids(args.data, "--run", _NO_RUN_FIX)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PlainModelWarning)
        model = load_model(args.model)
    for w in caught:
        note(args, f"note: {error_message(w.message)}")
    args.read_float64_ = bool(getattr(model, "plain_model_", False)) and model.engine == "lightgbm"
    args.model_engine_ = model.engine  # (read_data's advice on a NaN value depends on it)
    apply_recorded_read_options(args, model)
    data = read_data(args, args.data)  # its own width (or --n-features / --dataset's), compared with the model's
    engine_read = _engine_columns(args, model, data) or (getattr(args, "read_zero_based", False) and
                                                         getattr(model, "svmlight_columns_", False))
    if engine_read and model.engine == "xgboost" and not getattr(args, "read_sparse", False):
        args.read_sparse = True  # XGBoost's own reading of an svmlight file: an absent id is a missing value
        data = read_data(args, args.data)
        if getattr(args, "read_zero_based", False):
            note(args, f"note: the model {args.model} was trained by XGBoost on an svmlight file: DATA is read as "
                       "XGBoost reads one, absent ids as missing values (as --sparse does)")
    if (not engine_read and model.engine == "xgboost" and getattr(model, "plain_model_", False)
            and getattr(args, "read_zero_based", False) and not getattr(args, "read_sparse", False)):
        note(args, f"note: XGBoost reads an id a line of an svmlight file leaves out as a missing value: if XGBoost "
                   f"trained the model {args.model} on such a file through its own reader, add --sparse to read "
                   "DATA so (here it is 0, as for a model trained on arrays)")
    _check_feature_set(args, model, data)
    _warn_one_based(args, data)
    if args.run:  # every row, before scoring (check_doc_ids saw the first one alone)
        check_every_doc_id(data, args.data, "--run", _NO_RUN_FIX)
    placed = source_rows(data)
    data = _fit_width(args, _pick_recorded(args, model, data), model)
    with warnings.catch_warnings():  # (read as the model's data was unless told otherwise, and noted either way)
        warnings.simplefilter("ignore", ReadOptionsWarning)
        scores = model.predict(data)
    if placed is not None and not args.run:  # rows sorted by query (--sort) or dropped (--unjudged drop)
        rows, n = placed
        if rows.size == n:  # back to DATA's line order, as the help promises
            ordered = np.empty_like(scores)
            ordered[rows] = scores
            scores = ordered
        else:
            note(args, f"note: {n - rows.size} of {n} rows were dropped (--unjudged drop): the scores are those of the "
                       "rows kept, in DATA's order, and a dropped row has no line, so the file does not line up "
                       "with DATA's lines (paste); without --unjudged drop every row is scored")
            scores = scores[np.argsort(rows, kind="stable")]
    if args.run:
        qids = data.qid.astype(str)
        mapping = find_qid_map(args.data, getattr(data, "feature_set", None))
        if mapping is not None:
            from ltr.io.qidmap import apply_qid_map, locate_qid_map

            qids = apply_qid_map(mapping, qids, locate_qid_map(args.data), args.data)
        run = unique_run(args, run_from_scores(qids, data.doc_ids, scores, tag=args.tag), args.data)
        write_run(args.out, run)
        what = f"a TREC run of {len(run)} lines, {run['qid'].nunique()} queries"
    else:
        write_scores(args.out, scores)
        what = f"{len(scores)} scores"
    if args.out != "-" and not args.quiet:  # as every command's "wrote" line
        print(visible(f"wrote {what} to {args.out}"), file=sys.stderr)
    return 0


def _warn_one_based(args: argparse.Namespace, data) -> None:
    """Warn when DATA, read zero-based because the model's training data was, sets id 0 on no row: a 1-based LETOR
    file so read has every feature one column off, and its scores are wrong with only a note said (trial t67)."""
    if not getattr(args, "read_zero_based", False) or "read_zero_based" in getattr(args, "given_", ()):
        return
    import numpy as np

    if data.X.shape[1] == 0:
        return
    col = data.X[:, 0]
    values = col.toarray().ravel() if hasattr(col, "toarray") else np.asarray(col)
    if np.all((values == 0) | np.isnan(values)):
        print(visible(f"ltr predict: warning: {args.data} is read zero-based, as the model's training data was, and "
                      "no row sets feature id 0: if it is a 1-based LETOR file, every feature is read one column off "
                      "and the scores are wrong; write it zero-based, as the model's training data was"),
              file=sys.stderr)


def _check_feature_set(args: argparse.Namespace, model, data) -> None:
    """Refuse DATA when its header's feature set (``ltr features`` output) is not the one the model's sidecar records
    (that of its training file): the same columns computed otherwise (another analyzer, scorer parameters, indexed
    fields) score silently wrong. Compared as ``ltr rerank`` compares them (:func:`features.featureset.differences`:
    runtime parameters such as a neural model's device aside); nothing to compare when either side records none (a
    plain LETOR file, a model not trained on ``ltr features`` output)."""
    described, have = getattr(model, "feature_set_", None), getattr(data, "feature_set", None)
    if not isinstance(described, dict) or not isinstance(have, dict):
        return
    from features.featureset import differences  # the command line alone composes the two layers
    from features.serve import FeatureSetMismatchError

    diff = differences(described, have, ("the model", str(args.data)))
    if "topic_fields" in described and "topic_fields" in have:  # queries of other topic fields are other queries
        fields = [",".join(side["topic_fields"] or ("title",)) for side in (described, have)]
        if fields[0] != fields[1]:
            diff.append(f"the queries were made of the topic fields {fields[0]} for the model, {fields[1]} for "
                        f"{args.data} (ltr features --topic-fields)")
    if diff:
        shown = "; ".join(diff[:5]) + (f"; and {len(diff) - 5} more differences" if len(diff) > 5 else "")
        raise FeatureSetMismatchError(
            f"{args.data}: its features were computed otherwise than those the model {args.model} was trained on: "
            f"{shown} (make DATA with the ltr features options, analyzer included, the training file was made with; "
            "where no option sets what differs, ltr rerank --model computes the features as the model records them)")


def _engine_columns(args: argparse.Namespace, model, data) -> bool:
    """A plain model trained on its engine's own reading of an svmlight file (id j as column j; its
    :attr:`svmlight_columns_`), scoring DATA that has no more than its ids 1..width-1: read the engine's way, whether
    DATA lists the highest ids or not (svmlight files leave absent ids out), where the model names the file its
    engine's reader read (a LightGBM model of the command-line program: ``[data: train.txt]``). Otherwise no split on
    column 0 is all there is, which a model trained on arrays (id j as column j - 1) that never used feature 1 shows
    too: DATA's reading is asked for, naming both, never guessed (a guess would move every column)."""
    if getattr(args, "read_zero_based", False):  # DATA already read the engine's way
        return False
    width = int(model.n_features_in_)
    if not (getattr(model, "svmlight_columns_", False) and data.n_features + 1 <= width):
        return False
    if getattr(model, "training_file_", None):
        return True
    engine_way = "--zero-based --sparse" if model.engine == "xgboost" else "--zero-based"
    missing = ", absent ids missing" if model.engine == "xgboost" else ""
    name = "XGBoost" if model.engine == "xgboost" else "LightGBM"
    raise ValueError(
        f"the model {args.model} has {width} columns, none of its splits reads column 0, and {args.data} lists "
        f"feature ids up to {data.n_features}: read by {name}'s own svmlight reader (id j as column j{missing}), pass "
        f"{engine_way}; trained on arrays with id j as column j - 1 (ltr's, scikit-learn's readers), pass "
        f"--n-features {width}")


def _fit_width(args: argparse.Namespace, data, model):
    """DATA as the model's columns (:func:`fit_columns`); for a plain model trained on an engine's own reading of an
    svmlight file (id j as column j), DATA read so."""
    width = int(model.n_features_in_)
    if _engine_columns(args, model, data):
        from dataclasses import replace

        import numpy as np
        import scipy.sparse as sp

        note(args, f"note: the model {args.model} has {width} columns, of which none of its splits reads column 0, "
                   f"and names its training file ({model.training_file_}): LightGBM's program read it its own way "
                   f"(id j as column j), so DATA (ids up to {data.n_features}) is read so (as --zero-based does; "
                   f"--n-features {width} reads it 1-based)")
        X = data.X
        X = sp.hstack([sp.csr_matrix((X.shape[0], 1), dtype=X.dtype), X], format="csr") if sp.issparse(X) else \
            np.hstack([np.zeros((X.shape[0], 1), dtype=X.dtype), X])
        names = None if data.feature_names is None else ("f0", *data.feature_names)
        data = replace(data, X=X, feature_names=names)
    return fit_columns(args, data, int(model.n_features_in_), getattr(model, "feature_names_in_", None),
                       args.data, f"the model {args.model}", wider="")


def fit_columns(args: argparse.Namespace, data, width: int, names, path, reference: str,
                wider: str = " (svmlight files of one set: pass --n-features, the widest's)"):
    """``data`` (read from ``path`` at its own width) as ``reference``'s ``width`` columns: refused when it is wider
    or names its columns otherwise (both real names); a narrower file (svmlight leaves absent features out) padded
    with zeros, saying so."""
    from dataclasses import replace

    import numpy as np
    import scipy.sparse as sp

    from ltr._dataset import placeholder_names

    ours = data.feature_names
    if names is not None and ours is not None and not placeholder_names(names) and not placeholder_names(ours):
        for j, (a, b) in enumerate(zip(names, ours)):
            if str(a) != str(b):
                raise ValueError(f"{path} names column {j + 1} {b!r}, {reference} {a!r}: its features are not "
                                 f"those of {reference}")
    if data.n_features > width:
        if getattr(args, "n_features", None) == data.n_features:  # the width asked for, not the file's
            raise UsageError(f"--n-features {data.n_features} reads {path} {data.n_features} features wide, and "
                             f"{reference} has {width}: give --n-features {width}, or leave it out")
        if getattr(args, "read_zero_based", False):  # (ids 0..n-1: its largest id is n - 1; trial t67)
            raise ValueError(f"{path}, read zero-based, has feature ids up to {data.n_features - 1} "
                             f"({data.n_features} columns), {reference} {width} columns: not the features it was "
                             f"trained on{wider}")
        raise ValueError(f"{path} has feature ids up to {data.n_features}, {reference} {width}: not the features "
                         f"it was trained on{wider}")
    if data.n_features < width:
        from ltr.io.letor import mostly_empty_dense

        X = data.X
        if not sp.issparse(X) and mostly_empty_dense(X.shape[0], width, np.count_nonzero(X), X.dtype.itemsize):
            size = X.shape[0] * width * X.dtype.itemsize / 2**30
            raise ValueError(f"{path} lists feature ids up to {data.n_features}, {reference} has {width}: its rows "
                             f"as {width} columns would make a dense matrix of {size:.1f} GiB that is mostly empty; "
                             "pass --sparse (XGBoost reads absent features of sparse data as missing values, not 0), "
                             f"or --n-features {width} for the dense matrix")  # as the reader refuses such ids
        read_as = ("absent from the sparse matrix (0 to LightGBM, missing values to XGBoost)" if sp.issparse(X)
                   else "0 (absent, as in svmlight files)")
        note(args, f"note: {path} lists feature ids up to {data.n_features}, {reference} has {width}: "
                   f"features {data.n_features + 1}..{width} read as {read_as}")
        X = sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], width)) if sp.issparse(X) else \
            np.hstack([X, np.zeros((X.shape[0], width - X.shape[1]), dtype=X.dtype)])
        names = None if data.feature_names is None else (*data.feature_names, *(
            f"f{j + 1}" for j in range(data.n_features, width)))
        data = replace(data, X=X, feature_names=names)
    return data


def _warn_test_seen(args: argparse.Namespace, model) -> None:
    """Warn when the test metrics are of data the model was fitted or chosen on: --test is TRAIN, or --valid's
    file, on which early stopping picked the round (both reported without a word: trial t68)."""
    if not args.test:
        return
    if _same_file(args.test, args.train):
        print(f"ltr {args.command}: warning: --test is TRAIN itself ({args.test}): its metrics are the training "
              "data's, higher than on queries the model never met", file=sys.stderr)
    elif args.valid and _same_file(args.test, args.valid) and getattr(model, "stopped_on_", None) is not None:
        print(f"ltr {args.command}: warning: --valid and --test are one file ({args.test}): early stopping chose "
              "the round on the queries the test metrics are taken on, so they read higher than on queries the "
              "model never met; give --valid another file (or --early-stopping 0 to train every round)",
              file=sys.stderr)


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (a link, another spelling); False when either cannot be read so."""
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
