"""``ltr``: the command line. Each command is a few lines over library functions.

Exit codes: 0 success, 1 a data error (the message on stderr, no traceback), 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ltr._table import format_csv, format_table

__all__ = ["main", "main_entry"]

DEFAULT_METRICS = "ndcg@1,ndcg@3,ndcg@5,ndcg@10,map,err@10"


class UsageError(Exception):
    """A mistake in the command line itself (exit 2)."""


def _metrics(text: str) -> list[str]:
    from ltr.metrics import parse_metric

    names = [m.strip() for m in text.split(",") if m.strip()]
    if not names:
        raise UsageError("--metrics needs at least one metric name")
    for m in names:
        try:
            parse_metric(m)
        except ValueError as e:  # its message lists the known metrics
            raise UsageError(str(e)) from None
    return names


def _emit(args, header: list[str], rows: list[list], obj) -> None:
    if args.format == "json":
        print(json.dumps(obj, indent=2))
    elif args.format == "csv":
        print(format_csv(header, rows))
    else:
        print(format_table(header, rows))


def _read(path: str, n_features: int | None = None):
    from ltr.io import read_letor

    return read_letor(path, n_features=n_features)


# -- info -------------------------------------------------------------------------------------------------------
def _cmd_info(args) -> int:
    out = []
    for path in args.files:
        d = _read(path, args.n_features)
        sizes = d.group_sizes
        labels, counts = np.unique(d.y, return_counts=True)
        qmax = np.maximum.reduceat(d.y, d.group_ptr[:-1]) if d.n_rows else np.zeros(0)
        out.append({
            "file": path,
            "queries": d.n_queries,
            "rows": d.n_rows,
            "features": d.n_features,
            "rows_per_query": {"min": int(sizes.min()), "median": float(np.median(sizes)), "max": int(sizes.max())},
            "labels": {f"{lab:g}": int(c) for lab, c in zip(labels, counts)},
            "queries_without_relevant": int(np.sum(qmax < 1)),
            "doc_ids": d.doc_ids is not None,
            "feature_names": list(d.feature_names) if d.feature_names is not None else None,
        })
    if args.format == "json":
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2))
        return 0
    header = ["file", "queries", "rows", "features", "rows/query min", "median", "max", "no relevant", "labels"]
    rows = [[o["file"], o["queries"], o["rows"], o["features"], o["rows_per_query"]["min"],
             f'{o["rows_per_query"]["median"]:g}', o["rows_per_query"]["max"], o["queries_without_relevant"],
             " ".join(f"{k}:{v}" for k, v in o["labels"].items())] for o in out]
    if args.format == "csv":
        print(format_csv(header, rows))
    else:
        print(format_table(header, rows))
    return 0


# -- evaluate ---------------------------------------------------------------------------------------------------
def _read_scores(path: str, n: int) -> np.ndarray:
    from ltr.exceptions import LetorFormatError

    values = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            tok = line.strip()
            if not tok:
                continue
            try:
                values.append(float(tok))
            except ValueError:
                raise LetorFormatError("a score file has one number per line", path, lineno, tok) from None
    if len(values) != n:
        raise LetorFormatError(f"{len(values)} scores for {n} rows of the data file", path)
    return np.asarray(values, dtype=np.float64)


def _metric_kwargs(args) -> dict:
    kw = {"no_relevant": args.no_relevant}
    if args.gain is not None:  # else each path's default: exp2 for LETOR scores, linear (trec_eval) for runs
        kw["gain"] = args.gain
    return kw


def _cmd_evaluate(args) -> int:
    from ltr import metrics as M

    names = _metrics(args.metrics)
    if args.data is not None:
        if args.scores is None or args.qrels is not None or args.run is not None:
            raise UsageError("evaluate DATA needs --scores (and no --qrels/--run)")
        d = _read(args.data)
        score = _read_scores(args.scores, d.n_rows)
        per_query = M.evaluate_per_query(d.y, score, group_ptr=d.group_ptr, metrics=names, **_metric_kwargs(args))
        qids = [str(q) for q in d.query_ids]
    else:
        if args.qrels is None or args.run is None:
            raise UsageError("evaluate needs either DATA --scores S or --qrels Q --run R")
        from ltr.io import read_qrels, read_run

        frame = M.evaluate_run_per_query(read_qrels(args.qrels), read_run(args.run), metrics=names,
                                         **_metric_kwargs(args))
        qids, per_query = [str(q) for q in frame.index], {m: frame[m].to_numpy() for m in names}
    # As the library's means: queries scored NaN (no_relevant=nan) are left out.
    means = {m: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for m, v in per_query.items()}
    if args.per_query:
        header = ["qid", *names]
        rows = [[q, *[float(per_query[m][i]) for m in names]] for i, q in enumerate(qids)]
        rows.append(["all", *[means[m] for m in names]])
        obj = {"per_query": {q: {m: float(per_query[m][i]) for m in names} for i, q in enumerate(qids)},
               "mean": means}
        _emit(args, header, rows, obj)
    else:
        _emit(args, ["metric", "mean"], [[m, means[m]] for m in names], means)
    return 0


# -- train / predict --------------------------------------------------------------------------------------------
def _evaluate_model(model, data, names: list[str]) -> dict[str, float]:
    from ltr.metrics import evaluate

    return {k: float(v) for k, v in evaluate(data.y, model.predict(data), group_ptr=data.group_ptr,
                                              metrics=names).items()}


def train_and_report(train, valid, test, model, names: list[str]) -> dict:
    """Fit ``model`` on ``train`` (early stopping on ``valid``) and evaluate on ``valid`` and ``test``."""
    t0 = time.perf_counter()
    model.fit(train, eval_set=[valid] if valid is not None else None)
    seconds = time.perf_counter() - t0
    result = {"seconds": seconds, "rounds": model.best_iteration_}
    # With neither a validation nor a test set, report the fit on the training data (labelled as such).
    sets = (("valid", valid), ("test", test)) if valid is not None or test is not None else (("train", train),)
    for name, d in sets:
        if d is not None:
            result[name] = _evaluate_model(model, d, names)
    return result


def _print_report(args, result: dict, names: list[str]) -> None:
    if args.format == "json":
        print(json.dumps(result, indent=2))
        return
    sets = [s for s in ("train", "valid", "test") if s in result]
    header = ["metric", *sets]
    rows = [[m, *[result[s][m] for s in sets]] for m in names]
    print(format_csv(header, rows) if args.format == "csv" else format_table(header, rows))
    print(f"trained {result['rounds']} rounds in {result['seconds']:.2f} s")


def _make_ranker(args):
    from ltr.rankers import Ranker

    return Ranker(objective=args.objective, engine=args.engine, kernel=args.kernel, device=args.device,
                  n_estimators=args.rounds, learning_rate=args.learning_rate, num_leaves=args.leaves,
                  min_child_samples=args.min_child_samples, early_stopping_rounds=args.early_stopping,
                  n_jobs=args.threads, random_state=args.seed, normalize=args.normalize,
                  verbose=0 if args.quiet else 1)


def _cmd_train(args) -> int:
    names = _metrics(args.metrics)
    train = _read(args.train, args.n_features)
    nf = train.n_features
    valid = _read(args.valid, nf) if args.valid else None
    test = _read(args.test, nf) if args.test else None
    model = _make_ranker(args)
    result = train_and_report(train, valid, test, model, names)
    if args.out:
        model.save(args.out)
    _print_report(args, result, names)
    return 0


def _cmd_predict(args) -> int:
    from ltr.io import read_letor, run_from_scores, write_run
    from ltr.io._atomic import atomic_write
    from ltr.rankers import load_model

    model = load_model(args.model)
    data = read_letor(args.data, n_features=model.n_features_in_)
    scores = model.predict(data)
    if args.run:
        if data.doc_ids is None:
            raise ValueError(f"{args.data}: no document ids ('#docid = ...' comments), so no TREC run can be written")
        write_run(args.out, run_from_scores(data.qid, data.doc_ids, scores, tag=args.tag))
    else:
        with atomic_write(args.out) as f:
            f.write("".join(f"{s!r}\n" for s in scores.tolist()))
    print(f"wrote {len(scores)} scores to {args.out}", file=sys.stderr)
    return 0


# -- demo: the embedded default ---------------------------------------------------------------------------------
def _cmd_demo(args) -> int:
    from ltr.datasets import make_ranking
    from ltr.io import write_letor

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for i, (name, n_queries) in enumerate((("train", 600), ("valid", 200), ("test", 200))):
        data = make_ranking(n_queries, (10, 40), 30, random_state=args.seed + i)
        files[name] = folder / f"{name}.txt"
        write_letor(files[name], data)
    print(f"wrote synthetic LETOR files to {folder}/ (ltr.datasets.make_ranking, seed {args.seed})\n")
    print(f"$ ltr info {files['train']} {files['valid']} {files['test']}")
    _cmd_info(argparse.Namespace(files=[str(p) for p in files.values()], n_features=None, format="table"))
    print(f"\n$ ltr train {files['train']} --valid {files['valid']} --test {files['test']} "
          f"--objective lambdarank --engine lightgbm --out {folder / 'model.txt'}")
    train_args = build_parser().parse_args(
        ["train", str(files["train"]), "--valid", str(files["valid"]), "--test", str(files["test"]),
         "--out", str(folder / "model.txt"), "--quiet"])
    return _cmd_train(train_args)


# -- parser -----------------------------------------------------------------------------------------------------
def _add_format(p) -> None:
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")


def _add_metric_conventions(p) -> None:
    p.add_argument("--metrics", default=DEFAULT_METRICS, help=f"comma-separated (default {DEFAULT_METRICS})")
    p.add_argument("--gain", choices=("exp2", "linear"), default=None,
                   help="NDCG gain: 2^rel-1 or rel (default exp2 for LETOR scores, linear as trec_eval for runs)")
    p.add_argument("--no-relevant", type=float, default=0.0, dest="no_relevant",
                   help="score of a query without relevant documents (0 as trec_eval; LightGBM uses 1)")


def build_parser() -> argparse.ArgumentParser:
    from ltr import __version__

    parser = argparse.ArgumentParser(prog="ltr", description="Learning to rank with gradient-boosted trees.")
    parser.add_argument("--version", action="version", version=f"ltrkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="generate synthetic data, train LambdaMART on it and print the metrics")
    p.add_argument("--dir", default="ltr-demo", help="folder for the generated files (default ltr-demo)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("info", help="summarise LETOR files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--n-features", type=int, default=None, dest="n_features")
    _add_format(p)
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("evaluate", help="IR metrics of a TREC run, or of scores for a LETOR file")
    p.add_argument("data", nargs="?", default=None, metavar="DATA", help="LETOR file (with --scores)")
    p.add_argument("--scores", help="one score per line, in DATA's row order")
    p.add_argument("--qrels", help="TREC qrels file")
    p.add_argument("--run", help="TREC run file")
    p.add_argument("--per-query", action="store_true", dest="per_query", help="one row per query, then the mean")
    _add_metric_conventions(p)
    _add_format(p)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("train", help="train a ranker and print validation/test metrics")
    p.add_argument("train", metavar="TRAIN")
    p.add_argument("--valid")
    p.add_argument("--test")
    p.add_argument("--objective", default="lambdarank")
    p.add_argument("--engine", default="lightgbm", choices=("lightgbm", "xgboost"))
    p.add_argument("--kernel", default="native", choices=("native", "numba"))
    p.add_argument("--device", default="cpu", choices=("cpu", "gpu"))
    p.add_argument("--rounds", type=int, default=300)
    p.add_argument("--learning-rate", type=float, default=0.05, dest="learning_rate")
    p.add_argument("--leaves", type=int, default=31)
    p.add_argument("--min-child-samples", type=int, default=20, dest="min_child_samples")
    p.add_argument("--early-stopping", type=int, default=50, dest="early_stopping",
                   help="rounds without improvement of validation NDCG@10 before stopping (needs --valid)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-features", type=int, default=None, dest="n_features")
    p.add_argument("--normalize", default=None,
                   help="feature normalisation stored with the model: zscore, minmax, sum (per query, as "
                        "RankLib's -norm) or global-zscore, global-minmax (fitted on TRAIN)")
    p.add_argument("--metrics", default=DEFAULT_METRICS)
    p.add_argument("--out", help="save the model here (engine text + MODEL.meta.json)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_format(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("predict", help="score a LETOR file with a saved model")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("data", metavar="DATA")
    p.add_argument("--out", required=True, help="scores, one per line (or a TREC run with --run)")
    p.add_argument("--run", action="store_true", help="write a TREC run (needs '#docid' comments in DATA)")
    p.add_argument("--tag", default="ltrkit", help="run tag (with --run)")
    p.set_defaults(func=_cmd_predict)

    from ltr.evaluation.commands import (
        add_compare_arguments,
        add_cv_arguments,
        add_report_arguments,
        run_compare,
        run_cv,
        run_report,
    )

    p = sub.add_parser("cv", help="cross-validate a ranker (LETOR fold folders or query-grouped K folds)")
    add_cv_arguments(p)
    p.set_defaults(func=run_cv)

    p = sub.add_parser("compare", help="compare runs or cv results with paired significance tests")
    add_compare_arguments(p)
    p.set_defaults(func=run_compare)

    p = sub.add_parser("report", help="render a cv/compare result as HTML, Markdown and PNG plots")
    add_report_arguments(p)
    p.set_defaults(func=run_report)

    try:
        from features.cli import add_arguments, run
    except ImportError:  # the features layer is optional in a trimmed install
        pass
    else:
        p = sub.add_parser("features", help="extract LETOR features from a text collection")
        add_arguments(p)
        p.set_defaults(func=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 data error, 2 usage error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse already printed the usage message
        return int(e.code or 0)
    try:
        return int(args.func(args) or 0)
    except UsageError as e:
        print(f"ltr {args.command}: {e}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as e:
        print(f"ltr {args.command}: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `ltr ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def main_entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
