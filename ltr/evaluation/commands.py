"""``ltr cv``, ``ltr compare`` and ``ltr report``: argparse wiring over :mod:`ltr.evaluation`.

Each ``add_*_arguments(parser)`` fills a sub-command's parser; each ``run_*(args) -> int`` runs it and returns the
exit code: 0 success, 1 a data error (message on stderr), 2 a usage error. They are wired into :mod:`ltr.cli`::

    p = sub.add_parser("cv", help="cross-validate a ranker")
    add_cv_arguments(p)
    p.set_defaults(func=run_cv)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = [
    "add_compare_arguments",
    "add_cv_arguments",
    "add_report_arguments",
    "run_compare",
    "run_cv",
    "run_report",
]

CV_METRICS = "ndcg@1,ndcg@3,ndcg@5,ndcg@10,map"
COMPARE_METRICS = "ndcg@10,map"
NORMALIZE_CHOICES = ("zscore", "minmax", "linear", "sum", "global-zscore", "global-minmax")


class _Usage(Exception):
    """A mistake in the command line (exit 2)."""


def _guard(command: str, func, args) -> int:
    try:
        return int(func(args) or 0)
    except _Usage as e:
        print(f"ltr {command}: {e}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError, IsADirectoryError, PermissionError, ImportError) as e:
        print(f"ltr {command}: error: {e}", file=sys.stderr)
        return 1


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _metric_list(text: str) -> list[str]:
    from ltr.metrics import parse_metric

    names = _split(text)
    if not names:
        raise _Usage("--metrics needs at least one metric name")
    for m in names:
        try:
            parse_metric(m)
        except ValueError as e:
            raise _Usage(str(e)) from None
    return names


def _add_tests(p: argparse.ArgumentParser, default_tests: str) -> None:
    g = p.add_argument_group("significance")
    g.add_argument("--tests", default=default_tests,
                   help=f"comma-separated paired tests among t, wilcoxon, randomization; the first marks the "
                        f"tables (default {default_tests})")
    g.add_argument("--correction", choices=("holm", "bonferroni", "none"), default="holm",
                   help="multiple-comparison correction over the systems per metric (default holm)")
    g.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    g.add_argument("--permutations", type=int, default=10_000,
                   help="random sign assignments of the randomisation test (default 10000; exact when 2^n is "
                        "not larger)")
    g.add_argument("--seed", type=int, default=0, help="seed of the randomisation test (default 0)")


def _test_kwargs(args) -> dict:
    from ltr.evaluation.significance import TESTS

    tests = _split(args.tests)
    bad = [t for t in tests if t.lower() not in TESTS]
    if not tests or bad:
        raise _Usage(f"--tests: unknown test(s) {bad or tests}; choose among t, wilcoxon, randomization")
    if not 0 < args.alpha < 1:
        raise _Usage(f"--alpha must lie in (0, 1), got {args.alpha}")
    if args.permutations < 1:
        raise _Usage(f"--permutations must be positive, got {args.permutations}")
    return {"tests": tests, "correction": args.correction, "alpha": args.alpha, "n_permutations": args.permutations,
            "seed": args.seed}


# -- ltr cv -------------------------------------------------------------------------------------------------------
def add_cv_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``ltr cv DATA``."""
    p.add_argument("data", metavar="DATA",
                   help="a LETOR fold directory (Fold1..FoldK/{train,vali,test}.txt[.gz]) or one LETOR file to cut "
                        "into --folds folds of whole queries")
    p.add_argument("--folds", type=int, default=5, help="folds for a single file (default 5)")
    p.add_argument("--no-vali", action="store_true", dest="no_vali",
                   help="single file: train on K-1 parts without a validation part")
    p.add_argument("--split-seed", type=int, default=0, dest="split_seed", help="query shuffle seed (default 0)")
    m = p.add_argument_group("model")
    m.add_argument("--objective", default="lambdarank")
    m.add_argument("--engine", default="lightgbm", choices=("lightgbm", "xgboost"))
    m.add_argument("--kernel", default="native", choices=("native", "numba"))
    m.add_argument("--rounds", type=int, default=300)
    m.add_argument("--learning-rate", type=float, default=0.05, dest="learning_rate")
    m.add_argument("--leaves", type=int, default=31)
    m.add_argument("--min-child-samples", type=int, default=20, dest="min_child_samples")
    m.add_argument("--early-stopping", type=int, default=50, dest="early_stopping",
                   help="rounds without improvement of validation NDCG@10 before stopping (0: off)")
    m.add_argument("--threads", type=int, default=None, help="engine threads per fold (default: cores / workers)")
    m.add_argument("--model-seed", type=int, default=0, dest="model_seed")
    d = p.add_argument_group("data")
    d.add_argument("--normalize", choices=NORMALIZE_CHOICES, default=None,
                   help="per-query (zscore, minmax = linear, sum; RankLib's -norm) or global (fitted on each "
                        "training part) feature normalisation")
    d.add_argument("--features", default=None,
                   help="feature subset: a RankLib feature file (one id per line) or comma-separated ids/names")
    d.add_argument("--n-features", type=int, default=None, dest="n_features")
    p.add_argument("--metrics", default=CV_METRICS, help=f"comma-separated (default {CV_METRICS})")
    p.add_argument("--gain", choices=("exp2", "linear"), default="exp2", help="NDCG gain (default exp2)")
    p.add_argument("--no-relevant", type=float, default=0.0, dest="no_relevant",
                   help="score of a query without relevant documents (default 0, as trec_eval)")
    p.add_argument("--n-jobs", type=int, default=1, dest="n_jobs",
                   help="folds trained in parallel (-1: one per core; capped by the cores)")
    p.add_argument("--name", default=None, help="the system's name in results and reports")
    p.add_argument("--save-dir", default=None, dest="save_dir",
                   help="save each fold's model, test scores and per-query metrics under DIR/FoldK/")
    p.add_argument("--out", default=None, help="write the result file (JSON) for ltr compare / ltr report")
    p.add_argument("--format", choices=("table", "markdown", "latex", "csv", "json"), default="table")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run_cv(args: argparse.Namespace) -> int:
    """Run ``ltr cv``."""
    return _guard("cv", _cv, args)


def _cv(args) -> int:
    from ltr.evaluation.cv import cross_validate
    from ltr.evaluation.tables import format_cv
    from ltr.rankers import Ranker

    metrics = _metric_list(args.metrics)
    if args.folds < 2:
        raise _Usage(f"--folds must be at least 2, got {args.folds}")
    features = None
    if args.features:
        features = args.features if Path(args.features).is_file() else _split(args.features)
    model = Ranker(objective=args.objective, engine=args.engine, kernel=args.kernel, n_estimators=args.rounds,
                   learning_rate=args.learning_rate, num_leaves=args.leaves, min_child_samples=args.min_child_samples,
                   early_stopping_rounds=args.early_stopping or None, n_jobs=args.threads,
                   random_state=args.model_seed)
    result = cross_validate(
        model, args.data, metrics=metrics, n_splits=args.folds, validation=not args.no_vali,
        random_state=args.split_seed, n_jobs=args.n_jobs, normalize=args.normalize, features=features,
        n_features=args.n_features, save_dir=args.save_dir, progress=not args.quiet, name=args.name,
        gain=args.gain, no_relevant=args.no_relevant,
    )
    if args.out:
        result.save(args.out)
    print(format_cv(result, args.format))
    if args.out and not args.quiet:
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


# -- ltr compare --------------------------------------------------------------------------------------------------
def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``ltr compare SYSTEM SYSTEM... [--qrels QRELS]``."""
    p.add_argument("systems", nargs="+", metavar="SYSTEM",
                   help="TREC run files (with --qrels), or result files of ltr cv --out over the same folds")
    p.add_argument("--qrels", help="TREC qrels file (for runs)")
    p.add_argument("--names", help="comma-separated system names (default: file names)")
    p.add_argument("--baseline", help="the system the others are tested against (default: the first)")
    p.add_argument("--metrics", default=COMPARE_METRICS, help=f"comma-separated (default {COMPARE_METRICS})")
    _add_tests(p, "t,wilcoxon,randomization")
    p.add_argument("--intersection", action="store_true",
                   help="compare on the queries every system has (default: refuse differing query sets)")
    p.add_argument("--labels", help="comma-separated relevance scale of the qrels, e.g. -2,-1,0,1,2 (default: "
                                    "refuse negative labels)")
    p.add_argument("--gain", choices=("exp2", "linear"), default="linear",
                   help="NDCG gain for runs (default linear, as trec_eval)")
    p.add_argument("--no-relevant", type=float, default=0.0, dest="no_relevant")
    p.add_argument("--format", choices=("table", "markdown", "latex", "csv", "json"), default="table")
    p.add_argument("--layout", choices=("long", "wide"), default=None,
                   help="long: a line per system and metric with every p-value; wide: systems x metrics with "
                        "markers (default: long for table/csv, wide for markdown/latex)")
    p.add_argument("--out", help="write the result file (JSON) for ltr report")


def run_compare(args: argparse.Namespace) -> int:
    """Run ``ltr compare``."""
    return _guard("compare", _compare, args)


def _is_result(path: str) -> bool:
    if not path.endswith(".json"):
        return False
    try:
        with open(path, encoding="utf-8") as f:
            head = f.read(200)
    except OSError:
        return False
    return '"format"' in head and "ltrkit-result" in head


def _compare(args) -> int:
    from ltr.evaluation.compare import compare_cv, compare_runs
    from ltr.evaluation.report import cv_result_from_dict, read_result

    metrics = _metric_list(args.metrics)
    kw = _test_kwargs(args)
    if len(args.systems) < 2:
        raise _Usage("compare needs at least two systems")
    names = _split(args.names)
    if names and len(names) != len(args.systems):
        raise _Usage(f"--names has {len(names)} names for {len(args.systems)} systems")
    if len(set(names)) != len(names):
        raise _Usage("--names must be distinct")
    queries = "intersection" if args.intersection else "same"
    results = [_is_result(p) for p in args.systems]
    if all(results):
        if args.qrels:
            raise _Usage("result files carry their own per-query values: drop --qrels")
        cvs = [cv_result_from_dict(read_result(p)) for p in args.systems]
        keys = names or [r.name for r in cvs]
        if len(set(keys)) != len(keys):
            keys = [Path(p).stem for p in args.systems]
        if len(set(keys)) != len(keys):
            raise _Usage("the results have the same names; pass --names")
        comp = compare_cv(dict(zip(keys, cvs)), args.baseline, metrics=metrics, queries=queries, **kw)
    elif any(results):
        raise _Usage("mix of result files and runs: compare either runs (with --qrels) or ltr cv results")
    else:
        if not args.qrels:
            raise _Usage("comparing runs needs --qrels QRELS")
        from ltr.evaluation.compare import _run_name

        keys = names or [_run_name(p) for p in args.systems]
        if len(set(keys)) != len(keys):
            raise _Usage("two runs have the same file name; pass --names")
        labels = None
        if args.labels:
            try:
                labels = [int(v) for v in _split(args.labels)]
            except ValueError:
                raise _Usage(f"--labels must be comma-separated integers, got {args.labels!r}") from None
        comp = compare_runs(dict(zip(keys, args.systems)), args.qrels, metrics=metrics, baseline=args.baseline,
                            labels=labels, gain=args.gain, no_relevant=args.no_relevant, queries=queries, **kw)
    if comp.dropped:
        for n, q in comp.dropped.items():
            shown = ", ".join(q[:10]) + (" ..." if len(q) > 10 else "")
            print(f"ltr compare: {n}: {len(q)} queries not shared by every system left out: {shown}",
                  file=sys.stderr)
    if args.out:
        comp.save(args.out)
    print(comp.format(args.format, layout=args.layout))
    return 0


# -- ltr report ---------------------------------------------------------------------------------------------------
def add_report_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``ltr report RESULT --out DIR``."""
    p.add_argument("result", metavar="RESULT", help="a result file written by ltr cv --out or ltr compare --out")
    p.add_argument("--out", required=True, help="output folder (report.html, report.md, figures/*.png)")
    p.add_argument("--formats", default="html,md", help="comma-separated among html, md, png (default html,md)")
    p.add_argument("--data", action="append", default=[], metavar="FILE",
                   help="a LETOR file whose label distribution and rows per query to plot (repeatable)")
    p.add_argument("--title", default=None)
    p.add_argument("--quiet", action="store_true")


def run_report(args: argparse.Namespace) -> int:
    """Run ``ltr report``."""
    return _guard("report", _report, args)


def _report(args) -> int:
    from ltr.evaluation.cv import dataset_summary
    from ltr.evaluation.report import read_result, render_report
    from ltr.io import read_letor

    formats = _split(args.formats)
    bad = [f for f in formats if f not in ("html", "md", "png")]
    if not formats or bad:
        raise _Usage(f"--formats: choose among html, md, png (got {args.formats!r})")
    result = read_result(args.result)
    datasets = [dataset_summary(read_letor(p), Path(p).name) for p in args.data]
    written = render_report(result, args.out, formats=formats, datasets=datasets, title=args.title)
    if not args.quiet:
        print(json.dumps({k: str(v) for k, v in written.items()}, indent=2))
    return 0
