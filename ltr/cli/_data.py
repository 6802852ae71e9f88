"""Reading a command's LETOR data: the reader options a model recorded, ``--dataset``'s names and conventions,
and the label-range checks made once the labels are known."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ltr.cli._guard import note
from ltr.cli._options import dense_for_xgboost, metric_names, reader_options
from ltr.reader_options import SIDECAR_OPTIONS

__all__ = [
    "apply_recorded_read_options",
    "check_registered_file",
    "dataset_max_grade",
    "dataset_names",
    "default_max_grade",
    "read_data",
    "recorded_read_options",
    "WIDTH_NOTE_QUERIES",
]


def recorded_read_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """The value-changing reader options the training data was read with, where not the default
    (:func:`ltr.reader_options.value_options`); ``sparse: false`` when ``--dataset``'s sparse read was made dense for
    XGBoost, so that ``ltr predict --dataset`` reads its data dense too."""
    from ltr.reader_options import value_options

    out = value_options(reader_options(args))
    if getattr(args, "dataset", None) and dense_for_xgboost(args):
        from ltr.registry import get

        if get(args.dataset).read_options().get("sparse"):
            out = {**(out or {}), "sparse": False}
    return out


def apply_recorded_read_options(args: argparse.Namespace, model) -> None:
    """Read the data to score as the model's training data was read (``model.read_options_``), unless the command
    line says otherwise, saying which options were applied or differ (the scores would silently differ)."""
    from ltr.reader_options import READER_OPTIONS, VALUE_OPTIONS, recorded_value
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
        value = recorded_value(key, recorded)
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


def trec_file(path: str) -> str | None:
    """What to do with a TREC run or qrels file given where a LETOR file goes (ltr info, train, predict, cv, tune,
    evaluate DATA), judged by its first line; None for another."""
    from ltr.io import open_binary

    try:
        with open_binary(path) as f:
            first = f.readline(4096).decode("utf-8", "replace").split()
    except OSError:
        return None
    if len(first) == 6 and first[1].upper() == "Q0":
        return "it reads as a TREC run (qid Q0 docno rank score tag): ltr evaluate --qrels Q --run FILE evaluates it"
    if len(first) == 4 and first[1] == "0" and first[3].lstrip("-").isdigit():
        return "it reads as TREC qrels (qid 0 docno relevance): ltr evaluate --qrels FILE --run R reads it"
    return None


def read_data(args: argparse.Namespace, path: str, n_features: int | None = None, own_sidecars: bool = False):
    """Read a LETOR file with the command's reader options (a folder or a missing file is a clear error);
    ``own_sidecars`` for ``--valid`` and ``--test``, which read the group sizes and weights beside them, not those
    ``--query-file`` / ``--weight-file`` name for TRAIN (:func:`~ltr.cli._options.reader_options`)."""
    from ltr.exceptions import LetorFormatError
    from ltr.io import read_letor
    from ltr.registry import scans_cut_rows, zero_cut_rows

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
        opts = reader_options(args, own_sidecars=own_sidecars)
        # absent features as NaN, that a row cut short is found, as ltr.datasets.load finds it
        every = bool(getattr(args, "dataset", None)) and scans_cut_rows(args.dataset, opts)
        data = read_letor(p, n_features=n_features, **({**opts, "missing": float("nan")} if every else opts), **wide)
    except LetorFormatError as e:
        kind = trec_file(p) if e.line == 1 else None
        if kind is not None:  # (ltr info said so; the other commands named the token alone: trial t64)
            raise LetorFormatError(e.reason, e.path, e.line, e.token, offset=e.offset, hint=kind) from None
        if "linear" in (getattr(args, "engine", None), getattr(args, "model_engine_", None)) and "nonfinite" in e.fix:
            # --nonfinite allow was advised, which the linear ranker then refused (trial t72)
            raise LetorFormatError(e.reason, e.path, e.line, e.token, offset=e.offset,
                                   hint="the linear ranker scores every feature and has no score for a missing or "
                                        "infinite value; train trees, which route such values") from None
        if own_sidecars and set(e.fix) & set(SIDECAR_OPTIONS):  # a fix by --query-file PATH would be TRAIN's
            # (one that turns the sidecars off, --no-query-file, is every file's: kept, with what it does)
            off = {k: v for k, v in e.fix.items() if k in SIDECAR_OPTIONS and v in (None, False)}
            lone = "(LightGBM's .query layout)"  # a hint to read with what follows ('(...);' stood alone: t64)
            layout = "LightGBM's .query layout: " if e.hint == lone else f"{e.hint}; " if e.hint else ""
            raise LetorFormatError(e.reason, e.path, e.line, e.token, offset=e.offset, fix=off or None,
                                   hint=f"{layout}{path} reads its group sizes and weights from {path}.query or "
                                        f".group and {path}.weight beside it (--query-file PATH and --weight-file "
                                        "PATH name TRAIN's; --no-query-file and --no-weight-file turn them off for "
                                        "every file)") from None
        if registered is None or not str(e.reason).startswith("feature id above n_features="):
            raise
        # the width is the set's documented one: a wider --n-features would only hide a file of another set
        raise LetorFormatError(f"feature id above {registered}", e.path, e.line, e.token,
                               hint=f"{args.dataset} has {registered} features: is {path} that set? (without "
                                    "--dataset the width is read from the file)") from None
    if getattr(args, "dataset", None):  # first: another set's file is refused, not said to be a copy cut short (t70)
        _check_against_registry(args, path, data)
    if every:
        data = zero_cut_rows(args.dataset, path, data)
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

    from ltr.io.letor import row_line
    from ltr.metrics import parse_metrics
    from ltr.metrics.api import EXP2_LIMIT, exp2_gain_error, exp2_sum_error, ndcg_sum_overflow

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
    if (exp2 or err) and y.max() >= EXP2_LIMIT:  # an order, not grades: every change it needs, in one message
        _refuse_order_labels(args, path, data, int(np.argmax(y >= EXP2_LIMIT)), exp2, err)
    overflow = ndcg_sum_overflow(y, data.group_ptr, parse_metrics(exp2)) if exp2 and y.max() < EXP2_LIMIT else None
    if overflow is not None:  # each label below the limit, their sum in a query's ideal DCG past it
        row, names = overflow
        found = row_line(data, row)
        raise exp2_sum_error(y, data.group_ptr, row, f"the query at {path}:{found[0]}" if found is not None
                             else f"the query at row {row + 1} of {path}", names, python_fix="pass gain='linear'",
                             cli_fix="pass --gain linear (gain = rel, as trec_eval's NDCG)")
    if exp2 and y.max() >= EXP2_LIMIT:
        row = int(np.argmax(y >= EXP2_LIMIT))
    elif err and max_grade is not None and EXP2_LIMIT > max_grade and y.max() > max_grade:
        row = int(np.argmax(y > max_grade))
    else:
        return
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


def _refuse_order_labels(args: argparse.Namespace, path: str, data, row: int, exp2: list, err: list) -> None:
    """Labels from 1024 up (MQ2007/8-list's, which encode an order): the exp2 gain, ERR and the engines' native
    rankers each refuse them, one message at a time (a newcomer following them took four tries, and a note's
    '--max-grade G' no G could satisfy: trial t54); where it needs more than one change, one error names them all."""
    from ltr.exceptions import LabelRangeError
    from ltr.io.letor import row_line

    found = row_line(data, row)
    where = f"{path}:{found[0]}" if found is not None else f"row {row + 1} of {path}"
    needs = []
    if exp2:
        needs.append(f"--gain linear (for {', '.join(dict.fromkeys(exp2))}: gain = rel, as trec_eval's NDCG)")
    if err:
        needs.append(f"--metrics without {', '.join(dict.fromkeys(err))} (e.g. --metrics ndcg@10,map: ERR's gain "
                     "2^rel / 2^max_grade needs grades below 1024)")
    if hasattr(args, "objective") and getattr(args, "kernel", None) != "numba" and \
            getattr(args, "objective", None) in (None, "lambdarank"):
        needs.append("--objective listnet --kernel numba (a listwise objective: the engines' native rankers take "
                     "integer grades up to 30)")
    if len(needs) < 2:  # one change: the error of that one says it
        return
    raise LabelRangeError(f"label {float(data.y[row]):g} at {where}: labels from 1024 up encode an order (as in "
                          "MQ2007/8-list) rather than grades", cli_fix="pass " + " and ".join(needs),
                          python_fix="pass " + " and ".join(needs))


def dataset_max_grade(args: argparse.Namespace) -> None:
    """ERR's max grade from ``--dataset NAME``'s documented label range (``[format] labels``) when ``--max-grade`` is
    not given: ERR's relevance probability R = (2^g - 1) / 2^g_max takes g_max as the top grade of the set's own
    scale (Chapelle et al., CIKM 2009), 2 for the LETOR 0..2 sets rather than the default 4 of MSLR's and Yahoo's
    0..4. A note names the grade when the metrics hold ERR. Sets without a documented top grade keep the default."""
    if getattr(args, "max_grade", None) is None or not getattr(args, "dataset", None):
        return
    from ltr.registry import get

    entry = get(args.dataset)
    labels = entry.format.get("labels")
    if not labels or not 0 < float(labels[1]) < float("inf"):  # (MQ2008-list: above 0, no top documented)
        return
    metrics = getattr(args, "metrics", None)
    err = [c for c, _ in metric_names(metrics) if c.startswith("err")] if isinstance(metrics, str) else []
    scale = f"{entry.name}'s documented labels {labels[0]}..{labels[1]}"
    if "max_grade" in getattr(args, "given_", set()):
        if err and args.max_grade != float(labels[1]):
            note(args, f"note: {', '.join(err)} with max grade {args.max_grade:g} as given ({scale})")
        return
    args.max_grade = float(labels[1])
    args.max_grade_from_ = f"the top of {scale}"  # default_max_grade's note says what a larger label replaced
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
    from ltr.metrics.api import EXP2_LIMIT

    if y.max() >= EXP2_LIMIT:  # no max grade holds it (ERR's gain): the label check says what to do instead
        return
    before = getattr(args, "max_grade_from_", None)
    instead = f", not {args.max_grade:g}, {before}" if before else ""  # the earlier note named that grade
    args.max_grade_from_ = "the largest label of a file read before"  # (a later file's note names this one)
    args.max_grade = float(y.max())
    note(args, f"note: {', '.join(err)} with max grade {args.max_grade:g}, the largest label{instead} (pass "
               "--max-grade G)")


#: The fewest queries of a file read with ``--dataset`` for which a few empty last columns are worth a note: in
#: the official LETOR 4.0 files a feature can be 0 for whole queries (MQ2008's feature 46), so a short excerpt of
#: the right set can lack its last columns. More than a quarter of the set's width empty is noted in any file (a
#: 46-feature file read as MSLR's 136).
WIDTH_NOTE_QUERIES = 50


def check_registered_file(args: argparse.Namespace, path: str | Path, n_features: int | None) -> None:
    """For a command that reads its data elsewhere (``ltr cv`` through cross_validate, ``ltr tune``): read ``path``
    once, before any training, and apply :func:`_check_against_registry`'s checks of ``--dataset``, which ``ltr
    train`` applies as it reads (MQ2008's 46 features cross-validated as MSLR's 136, recorded under MSLR's names,
    exit 0; trial t55)."""
    from ltr.io import read_letor

    data = read_letor(path, n_features=n_features, **reader_options(args))
    _check_against_registry(args, str(path), data)


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


def weighted_ndcg_caveat(data) -> str:
    """What a note on LightGBM's query-weighted means adds for ``data``: LightGBM's NDCG adds the 1 of a query
    without a relevant document unweighted while it divides by the sum of the query weights, so with weights other
    than 1 the mean is not a weighted mean and can exceed 1 (trial t52: ndcg@10 2.1187 with weights 0.2). Empty
    when no query lacks a relevant document or every query weighs 1 (the mean is then a weighted mean)."""
    import numpy as np

    from ltr.metrics import query_weights

    ptr = np.asarray(data.group_ptr)
    none = np.array([not (data.y[a:b] > 0).any() for a, b in zip(ptr[:-1].tolist(), ptr[1:].tolist())], dtype=bool)
    weights = query_weights(data.weight, ptr)
    if not none.any() or np.all(weights == 1.0):
        return ""
    return (f"; LightGBM's ndcg adds 1 for each query without a relevant document ({int(none.sum())} here) "
            "unweighted, so with weights other than 1 its mean is not a weighted mean and can exceed 1 (as "
            "LightGBM reports it; map is weighted throughout)")
