"""``ltr compare SYSTEM...``: paired significance tests of runs and cross-validation results against a baseline.

Systems are TREC run files and ``ltr cv --out`` result files, in any mix. With ``--qrels`` every system is
judged by the same qrels as trec_eval would (a cv result by its out-of-fold run); without, the systems must all be
cv results over the same folds, compared on the per-query values they carry.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ltr.cli._guard import UsageError, add_command, note, split_list, visible
from ltr.cli._options import (
    AddedUp,
    add_encoding_errors,
    add_metrics,
    add_relevance_level,
    grade,
    metric_names,
    no_relevant_score,
    seed,
)

__all__ = ["COMPARE_METRICS", "add_significance", "register", "run", "significance_options"]

COMPARE_METRICS = "ndcg@10,map"


def add_significance(p: argparse.ArgumentParser, default_tests: str) -> None:
    from ltr.evaluation.significance import CORRECTIONS

    g = p.add_argument_group("significance")
    g.add_argument("--tests", default=default_tests, action=AddedUp,
                   help="comma-separated paired tests among t, wilcoxon, randomization; the first marks the tables")
    g.add_argument("--correction", choices=tuple(CORRECTIONS), default="holm",
                   help="multiple-comparison correction over the systems compared with the baseline, per metric")
    g.add_argument("--alpha", type=float, default=0.05, help="significance level")
    g.add_argument("--permutations", type=int, default=10_000,
                   help="random sign assignments of the randomisation test (exact when 2^queries is not larger)")
    g.add_argument("--seed", type=seed, default=0, help="seed of the randomisation test")


def significance_options(args) -> dict:
    from ltr.evaluation.significance import TESTS

    tests = split_list(args.tests, "--tests")
    bad = [t for t in tests if t.lower() not in TESTS]
    if not tests or bad:
        raise UsageError(f"--tests: unknown test(s) {bad or tests}; choose among t, wilcoxon, randomization")
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha must lie in (0, 1), got {args.alpha}")
    if args.permutations < 1:
        raise UsageError(f"--permutations must be positive, got {args.permutations}")
    return {"tests": tests, "correction": args.correction, "alpha": args.alpha, "n_permutations": args.permutations,
            "seed": args.seed}


def register(sub) -> None:
    from ltr.io import QRELS_FORMATS

    p = add_command(sub, "compare", "compare runs and cv results with paired significance tests")
    p.add_argument("systems", nargs="+", metavar="SYSTEM",
                   help="TREC run files and/or result files of ltr cv --out (a cv result stands for its out-of-fold "
                        "run when --qrels is given)")
    p.add_argument("--qrels", help="relevance judgments: TREC qrels or any layout ltr features reads (Cranfield, "
                                   "SMART, 3-column, BEIR)")
    p.add_argument("--qrels-format", default="auto", choices=("auto", *QRELS_FORMATS), dest="qrels_format",
                   help="layout of --qrels (detected from its first lines)")
    add_encoding_errors(p)
    add_relevance_level(p)
    p.add_argument("--names", action=AddedUp, help="comma-separated system names (default: file names)")
    p.add_argument("--baseline", help="the system the others are tested against (default: the first)")
    add_metrics(p, COMPARE_METRICS)
    add_significance(p, "t,wilcoxon,randomization")
    p.add_argument("--intersection", action="store_true",
                   help="compare on the queries every system has (default: refuse differing query sets)")
    p.add_argument("--labels", action=AddedUp,
                   help="comma-separated relevance scale of the qrels, e.g. -2,-1,0,1,2: a grade outside it is "
                        "refused (default: every integer grade; a negative one, as the Web track's -2, is "
                        "non-relevant with no gain, as trec_eval and ltr evaluate count it)")
    g = p.add_argument_group("metric conventions for runs (cv results carry the ones they were evaluated with; "
                             "with --qrels they are judged as runs, with these)")
    g.add_argument("--gain", choices=("exp2", "linear"), default=None,
                   help="NDCG gain (default: linear, as trec_eval)")
    g.add_argument("--no-relevant", type=no_relevant_score, default=None, dest="no_relevant", metavar="VALUE",
                   help="score of a query without relevant documents (default: 0, as trec_eval)")
    g.add_argument("-c", "--complete", action="store_true",
                   help="trec_eval -c: a judged query a run lacks scores 0 for it (default: such a run is refused, or "
                        "with --intersection the query is left out for every system)")
    g.add_argument("--max-grade", type=grade, default=None, dest="max_grade", metavar="G",
                   help="ERR's highest grade of the scale: R = (2^rel - 1) / 2^G (default 4)")
    g.add_argument("--convention", default=None, choices=("default", "letor"),
                   help="cv results only: the convention they were evaluated with (ltr cv --convention); checked, "
                        "never silently mixed")
    p.add_argument("--format", choices=("table", "markdown", "latex", "csv", "json"), default="table",
                   help="output format")
    p.add_argument("--layout", choices=("long", "wide"), default=None,
                   help="long: a line per system and metric with every p-value and the paired effect size d "
                        "(Cohen's d_z); wide: systems x metrics with markers (CSV: each metric's mean, p-value and "
                        "mark) (default: long for table/csv, wide for markdown/latex)")
    p.add_argument("--out", help="write the result file (JSON) for ltr report ('-' for standard output, the table "
                                 "then on standard error)")
    p.add_argument("--quiet", action="store_true", help="no notes on standard error")
    p.set_defaults(func=run)


def _names(args, paths: list[str], loaded: list) -> list[str]:
    """``--names``, else each cv result's own name and each run's file name (paths where two would collide)."""
    from ltr.evaluation import run_name
    from ltr.evaluation.results import CVResult

    names = split_list(args.names, "--names")
    if names and len(names) != len(paths):
        raise UsageError(f"--names has {len(names)} names for {len(paths)} systems")
    if names:
        if len(set(names)) != len(names):
            raise UsageError("--names must be distinct")
        return names
    keys = [s.name if isinstance(s, CVResult) else run_name(p) for p, s in zip(paths, loaded)]
    if len(set(keys)) != len(keys):
        keys = [str(Path(p)) for p in paths]
    if len(set(keys)) != len(keys):
        raise UsageError("two systems are the same file; pass each once")
    return keys


def _check_cv_conventions(args, results) -> None:
    """Without qrels the cv results' stored per-query values are compared: refuse options they cannot honour."""
    if args.complete:
        raise UsageError("--complete (trec_eval -c) judges runs against --qrels; cv results carry the per-query values "
                         "of every query of their data (pass --qrels to judge their out-of-fold runs instead)")
    if args.relevance_level != 1:
        raise UsageError("-l (trec_eval's relevance level) judges runs against --qrels; cv results carry the per-query "
                         "values of their data's labels (pass --qrels to judge their out-of-fold runs instead)")
    if args.labels:
        raise UsageError("--labels checks the labels of --qrels; cv results carry per-query values computed from "
                         "their data's labels (pass --qrels to judge their out-of-fold runs instead)")
    unset = {"convention": "default", "max_grade": 4.0}  # left out of the settings at their defaults
    for opt, key in (("gain", "gain"), ("no_relevant", "no_relevant"), ("convention", "convention"),
                     ("max_grade", "max_grade")):
        wanted = getattr(args, opt)
        if wanted is None:
            continue
        for name, r in results.items():
            stored = (r.settings.get("metric_conventions") or {}).get(key, unset.get(key))
            if stored is not None and stored != wanted and not (str(stored) == str(wanted)):
                raise UsageError(f"--{opt.replace('_', '-')} {wanted}: cv result {name!r} was evaluated with "
                                 f"{key}={stored!r}; re-run ltr cv with --{opt.replace('_', '-')} {wanted}, or pass "
                                 "--qrels to judge the out-of-fold runs")


def run(args: argparse.Namespace) -> int:
    from ltr.evaluation import compare_cv, compare_runs, is_result_file
    from ltr.evaluation.results import CVResult, read_result

    metrics = [c for c, _ in metric_names(args.metrics)]
    kw = significance_options(args)
    if len(args.systems) < 2:
        raise UsageError("compare needs at least two systems")
    for p in args.systems:
        if Path(p).is_dir():
            raise IsADirectoryError(f"{p}: is a folder; give a run file or a result file of ltr cv --out")
        if not Path(p).exists():
            raise FileNotFoundError(2, "no such file or folder", p)
    if args.qrels and Path(args.qrels).is_dir():
        raise IsADirectoryError(f"--qrels {args.qrels}: is a folder; give the judgments file")
    piped = False
    if args.out:
        from ltr.cli._files import check_outputs

        piped = check_outputs(args.out, inputs=[*args.systems, args.qrels], flags=("--out",))
    queries = "intersection" if args.intersection else "same"
    loaded: list = []
    for path in args.systems:
        if _is_sqlite(path):  # the --storage of ltr tune (OUT.optuna.db), read as a run it would ask for --qrels
            raise UsageError(f"{path}: an SQLite database (such as ltr tune's trial storage, OUT.optuna.db), not a "
                             "result; give the tune result JSON (the --out of ltr tune), a cv result or a TREC run")
        if is_result_file(path):
            d = read_result(path)
            if d.get("kind") != "cv":
                raise UsageError(f"{path}: a {d.get('kind')} result; compare takes runs and cv results")
            loaded.append(CVResult.from_dict(d))
        elif Path(path).suffix.lower() == ".json" and not _starts_like_json(path) and Path(path).is_file():
            raise ValueError(f"{path}: {_not_an_object(path)}, not a result of ltr cv --out; compare takes TREC runs "
                             "and cv results")  # (it was read as a run: '6 columns in a run line'; trial t67)
        elif _starts_like_json(path):  # a run line never starts with '{': a result cut short, or another JSON
            from ltr.evaluation.results import RESULT_FORMAT, result_version

            declared = result_version(path, any_format=True)  # another tool's format, said as it is (trial t56)
            version = declared if declared is not None and declared.startswith("ltrkit-result/") else None
            if version is not None and version != RESULT_FORMAT:
                raise ValueError(f"{path}: an ltrkit result of format {version!r}, which this version "
                                 f"({RESULT_FORMAT!r}) does not read: use the ltrkit that wrote it, or run the cv "
                                 "again")
            if _tune_summary(path):
                raise UsageError(f"{path}: ltr tune's --format json summary (its folds' choices), not its result: "
                                 "the result file is ltr tune's --out FILE, which compare takes")
            why = (f"its \"format\" is {declared!r}, not {RESULT_FORMAT!r}: another tool's" if declared is not None
                   else "its \"format\" is not in its first bytes: cut short, or another tool's")
            raise ValueError(f"{path}: a JSON file, but not a result of ltr cv --out ({why}); compare takes TREC runs "
                             "and cv results")
        elif args.encoding_errors != "strict":  # read here, with U+FFFD for invalid UTF-8
            from ltr.io import read_run

            loaded.append(read_run(path, errors=args.encoding_errors))
        else:
            loaded.append(path)
    systems = dict(zip(_names(args, args.systems, loaded), loaded))
    cvs = {n: s for n, s in systems.items() if isinstance(s, CVResult)}
    added = [n for n, r in cvs.items() if r.settings.get("add_judged")]
    if added:
        from ltr.cli._model import ADDED_JUDGED

        print(f"ltr compare: warning: {', '.join(map(repr, added))}: {ADDED_JUDGED}", file=sys.stderr)
    if args.complete and args.intersection:
        raise UsageError("-c / --complete scores a query a run lacks 0, --intersection leaves it out: give one")
    if args.qrels:
        from ltr.io import read_qrels

        if args.convention == "letor":
            raise UsageError("--convention letor applies to LETOR data (ltr evaluate DATA --scores, ltr cv); runs "
                             "against qrels are evaluated as trec_eval does")
        labels = None
        if args.labels:
            try:
                labels = [int(v) for v in split_list(args.labels, "--labels")]
            except ValueError:
                raise UsageError(f"--labels must be comma-separated integers, got {args.labels!r}") from None
        qrels = read_qrels(args.qrels, args.qrels_format, errors=args.encoding_errors)
        comp = compare_runs(systems, qrels, metrics=metrics, baseline=args.baseline, labels=labels,
                            gain=args.gain or "linear", no_relevant=0.0 if args.no_relevant is None else
                            args.no_relevant, max_grade=4.0 if args.max_grade is None else args.max_grade,
                            complete=args.complete, rel_threshold=args.relevance_level, queries=queries, **kw)
    elif len(cvs) == len(systems):
        _check_cv_conventions(args, cvs)
        comp = compare_cv(cvs, args.baseline, metrics=metrics, queries=queries, **kw)
        candidates = [n for n, r in cvs.items() if r.settings.get("candidates")]
        if candidates:  # what ltr cv and ltr tune said of these results (trial t68: 0.4560 here, 0.4195 by qrels)
            from ltr.cli._model import CANDIDATES_ONLY

            note(args, f"note: {', '.join(map(repr, candidates))}: cross-validated on ltr features' candidates, so "
                       f"their metrics {CANDIDATES_ONLY}; for those, compare the out-of-fold runs with --qrels Q (ltr "
                       "cv --run-out R)")
    else:
        from ltr.io import read_run

        given = dict(zip(systems, args.systems))
        runs = [n for n in systems if n not in cvs]
        for n in runs:  # a file that is no run (garbage, empty, a model) is said so by the reader, not sent for qrels
            if isinstance(systems[n], str) and read_run(systems[n]).empty:
                raise ValueError(f"run {n!r} ({systems[n]}) has no lines (blank and '#' lines only)")
        raise UsageError(f"{', '.join(given[n] for n in runs)} {'is a run' if len(runs) == 1 else 'are runs'}: "
                         "comparing runs needs --qrels QRELS (cv results are then judged by their out-of-fold runs)")
    if comp.dropped:  # who lacks what: the user reports the run that failed on those topics (trial t56)
        for n, q in comp.lacking().items():
            shown = ", ".join(q[:10]) + (" ..." if len(q) > 10 else "")
            note(args, f"{n} lacks {len(q)} quer{'y' if len(q) == 1 else 'ies'} another system has, left out of "
                       f"every system's tests (--intersection): {shown}")
    for m, q in comp.left_out.items():
        note(args, f"{m}: {len(q)} of {len(comp.qids)} queries have no value in any system (no relevant document) "
                   "and are left out of its tests and means")
    if args.out:
        comp.save(args.out)
    if not (piped and args.quiet):  # on standard error, the table is a note: --quiet leaves it out
        print(comp.format(args.format, layout=args.layout), file=sys.stderr if piped else sys.stdout)
    if args.format == "csv":  # pure CSV on standard output; what the sig column marks, and the conventions, here
        from ltr.evaluation.tables import comparison_footnote

        note(args, comparison_footnote(comp, args.layout or "long"))
    if args.out and args.out != "-" and not args.quiet:
        print(visible(f"wrote {args.out}"), file=sys.stderr)
    return 0


def _is_sqlite(path: str) -> bool:
    """Whether ``path`` is an SQLite database file (its 16-byte header, ``SQLite format 3\\0``)."""
    if not Path(path).is_file():  # a pipe is read once, by the run reader
        return False
    with open(path, "rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def _tune_summary(path: str) -> bool:
    """Whether ``path`` is what ``ltr tune --format json`` prints (a summary, not the result file)."""
    import json

    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(obj, dict) and {"name", "metric", "mean", "folds", "conventions"} <= set(obj)


def _not_an_object(path: str) -> str:
    """What a ``.json`` file that does not start with ``{`` is: JSON of another kind, or not JSON (with json's
    words)."""
    import json

    try:
        value = json.loads(Path(path).read_bytes())
    except (ValueError, UnicodeDecodeError) as e:
        return f"not a JSON file ({e})"
    return f"JSON of a {type(value).__name__}, not an object"


def _starts_like_json(path: str) -> bool:
    if not Path(path).is_file():  # a pipe (<(cat r.run)) is read once, by the run reader
        return False
    with open(path, "rb") as f:
        return f.read(512).lstrip().startswith(b"{")
