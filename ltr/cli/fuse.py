"""``ltr fuse RUN RUN ...``: fuse TREC runs (RRF, CombSUM, CombMNZ, weighted sum), optionally fitting the weights
by cross-validation over queries (:mod:`ltr.fusion`)."""

from __future__ import annotations

import argparse
import math
import os
import sys

from ltr._json import strict_json
from ltr.cli._files import check_outputs, emit
from ltr.cli._guard import UsageError, add_command, note, split_list
from ltr.cli._options import (
    AddedUp,
    add_encoding_errors,
    add_max_grade,
    add_quiet,
    add_relevance_level,
    run_tag,
    seed,
)

__all__ = ["register", "run"]


def register(sub) -> None:
    from ltr.fusion import METHODS, NORMS, SEARCHES
    from ltr.io import QRELS_FORMATS

    p = add_command(sub, "fuse", "fuse TREC runs: reciprocal rank fusion, CombSUM, CombMNZ or a weighted sum")
    p.add_argument("runs", nargs="+", metavar="RUN", help="two or more TREC run files")
    p.add_argument("--out", required=True, help="the fused run (TREC format; '-' for standard output)")
    p.add_argument("--method", default="rrf", choices=METHODS,
                   help="rrf: sum of w/(k + rank) (Cormack et al.); combsum / combmnz: sum of normalised scores, "
                        "times the number of runs that retrieved the document for combmnz (Fox & Shaw); wsum: "
                        "weighted sum of normalised scores (--weights or --fit-weights)")
    p.add_argument("--norm", default=argparse.SUPPRESS, choices=NORMS,
                   help="per-query score normalisation of each run (Montague & Aslam) (default: none for rrf, "
                        "minmax otherwise)")
    p.add_argument("--weights", default=None, metavar="W1,W2,...", action=AddedUp,
                   help="one weight per run, for wsum (or weighted rrf)")
    p.add_argument("--k", type=float, default=None, help="RRF's constant (default: 60, as Cormack et al.)")
    p.add_argument("--depth", type=int, default=None, metavar="N", help="fuse each run's top N documents per query")
    p.add_argument("--tag", default="fused", type=run_tag, help="run tag of the fused run")
    g = p.add_argument_group("weights fitted by cross-validation over queries (--fit-weights)")
    g.add_argument("--fit-weights", action="store_true", dest="fit_weights",
                   help="choose the weights of wsum (or rrf) on each fold's training queries and write the "
                        "out-of-fold fused run")
    g.add_argument("--qrels", default=None, help="relevance judgments the weights are fitted on")
    g.add_argument("--qrels-format", default="auto", choices=("auto", *QRELS_FORMATS), dest="qrels_format",
                   help="layout of --qrels (detected from its first lines)")
    add_encoding_errors(p)
    g.add_argument("--metric", default=None, help="the metric maximised (trec_eval conventions, linear gain; "
                                                  "default: ndcg@10)")
    add_relevance_level(g)
    add_max_grade(g, dataset=False)
    g.add_argument("--folds", type=int, default=None,
                   help="folds of the judged queries; unjudged ones are shared out over them (default: 5)")
    g.add_argument("--search", default=None, choices=SEARCHES,
                   help="grid (default): every weight vector on the simplex; coordinate: coordinate ascent from "
                        "equal weights, each weight set to each --step value in turn and the weights rescaled to sum "
                        "1 (so they are reported as ratios, not multiples of --step)")
    g.add_argument("--step", type=float, default=None, help="spacing of the weight values tried (default: 0.1; it "
                                                            "divides 1)")
    g.add_argument("--split-seed", type=seed, default=None, dest="split_seed",
                   help="seed of the query shuffle (default: 0)")
    g.add_argument("--report", default=None, metavar="FILE.json",
                   help="write the chosen weights per fold and the metrics as JSON")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="format of --fit-weights' table of weights per fold (the fused run goes to --out)")
    add_quiet(p)
    p.set_defaults(func=run)


def _weights(text: str | None, n_runs: int) -> list[float] | None:
    if text is None:
        return None
    try:
        values = [float(v) for v in split_list(text, "--weights")]
    except ValueError:
        raise UsageError(f"--weights takes comma-separated numbers, got {text!r}") from None
    if len(values) != n_runs:
        raise UsageError(f"--weights: {len(values)} weights for {n_runs} runs")
    if not all(math.isfinite(v) and v >= 0 for v in values) or not any(v > 0 for v in values):
        raise UsageError(f"--weights {text}: finite, >= 0 and at least one above 0 (all 0 discards every run)")
    return values


def run(args: argparse.Namespace) -> int:
    from ltr.fusion import check_step, fit_weights, fuse
    from ltr.io import write_run

    if len(args.runs) < 2:
        raise UsageError("fusion needs at least two runs")
    if args.k is not None and args.method != "rrf":  # as --norm with rrf: an option that would change nothing
        raise UsageError(f"--k {args.k:g}: RRF's constant, which --method {args.method} does not use; leave --k out")
    args.k = 60.0 if args.k is None else args.k
    if not (math.isfinite(args.k) and args.k >= 0):
        raise UsageError(f"--k {args.k:g}: RRF's constant is a finite number >= 0 (60 as Cormack et al.)")
    if args.depth is not None and args.depth < 1:
        raise UsageError(f"--depth {args.depth}: the documents fused per query, at least 1")
    if args.depth is not None:  # beyond any run's length it is every document (2**63 overflowed pandas' head)
        args.depth = min(args.depth, sys.maxsize)
    weights = _weights(args.weights, len(args.runs))
    if args.method == "wsum" and weights is None and not args.fit_weights:
        raise UsageError("--method wsum needs --weights W1,W2,... (one per run), or --fit-weights to fit them")
    if args.fit_weights:
        if weights is not None:
            raise UsageError("--fit-weights chooses the weights: drop --weights")
        if not args.qrels:
            raise UsageError("--fit-weights needs --qrels to measure the fused runs")
        if args.method not in ("wsum", "rrf"):
            raise UsageError(f"--fit-weights fits wsum or rrf weights, not --method {args.method}")
        if args.out == "-":
            raise UsageError("--fit-weights prints its weights on standard output: give --out a file")
    elif args.qrels or args.report:
        raise UsageError("--qrels and --report go with --fit-weights")
    elif args.format != "table":
        raise UsageError(f"--format {args.format} formats --fit-weights' table of weights; without it ltr fuse "
                         "prints nothing (the fused run goes to --out)")
    fitting = {"--metric": args.metric, "--folds": args.folds, "--search": args.search, "--step": args.step,
               "--split-seed": args.split_seed}
    given = [flag for flag, value in fitting.items() if value is not None]
    given += [flag for dest, flag in (("relevance_level", "--relevance-level"), ("max_grade", "--max-grade"))
              if dest in getattr(args, "given_", set())]
    if given and not args.fit_weights:  # as --qrels: options that would change nothing
        raise UsageError(f"{', '.join(given)} {'goes' if len(given) == 1 else 'go'} with --fit-weights")
    args.metric = "ndcg@10" if args.metric is None else args.metric
    args.folds = 5 if args.folds is None else args.folds
    args.search = "grid" if args.search is None else args.search
    args.step = 0.1 if args.step is None else args.step
    args.split_seed = 0 if args.split_seed is None else args.split_seed
    try:
        check_step(args.step)
    except ValueError:
        raise UsageError(f"--step {args.step:g}: the spacing of the weights tried divides 1 (0.1, 0.05, 0.25, "
                         "...)") from None
    if args.fit_weights:
        from ltr.exceptions import OptionError
        from ltr.fusion import check_search

        try:
            check_search(args.search, args.step, len(args.runs))
        except OptionError as e:
            raise UsageError(e.cli_message()) from None
    if args.folds < 2:
        raise UsageError(f"--folds {args.folds}: at least 2 (each fold's weights are fitted on the others)")
    if args.fit_weights:
        from ltr.metrics import target_metric

        try:
            target_metric(args.metric)
        except ValueError as e:  # before any run is read (it said "unknown metric" as a data error, exit 1)
            raise UsageError(f"--metric: {e}") from None
    seen: dict[str, str] = {}
    for path in args.runs:  # said, not refused: fusing a run with itself is a weight of 2 (ltr.fusion takes it)
        key = os.path.realpath(path) if os.path.isfile(path) else path
        if key in seen:
            same = f" (as {seen[key]} and {path})" if seen[key] != path else ""
            print(f"ltr fuse: warning: the run {path} is given twice{same}: it is fused with itself"
                  + (", and the weights fitted to its copies tie" if args.fit_weights else ""), file=sys.stderr)
            break
        seen[key] = path
    check_outputs(args.out, args.report, inputs=[*args.runs, args.qrels], flags=("--out", "--report"))
    norm = getattr(args, "norm", None)
    if args.method == "rrf" and norm not in (None, "none"):
        raise UsageError(f"--norm {norm}: rrf fuses ranks, so a normalisation changes nothing; leave --norm out")
    runs = args.runs
    if args.encoding_errors != "strict":  # read here, with U+FFFD for invalid UTF-8
        from ltr.io import read_run

        runs = [read_run(r, errors=args.encoding_errors) for r in args.runs]
    if not args.fit_weights:
        fused = fuse(runs, method=args.method, norm=norm, weights=weights, k=args.k, depth=args.depth,
                     tag=args.tag)
        write_run(args.out, fused)
        note(args, f"fused {len(args.runs)} runs ({args.method}): {fused['qid'].nunique()} queries, {len(fused)} "
                   f"documents; wrote {args.out}")
        return 0
    from ltr.io import read_qrels

    qrels = read_qrels(args.qrels, args.qrels_format, errors=args.encoding_errors)
    result = fit_weights(runs, qrels, method=args.method, norm=norm, metric=args.metric,
                         n_splits=args.folds, search=args.search, step=args.step, random_state=args.split_seed,
                         k=args.k, depth=args.depth, rel_threshold=args.relevance_level, max_grade=args.max_grade,
                         tag=args.tag)
    summary = result.to_dict()
    summary["runs"] = list(args.runs)
    import json

    from ltr.io import atomic_write
    from ltr.io.outputs import outputs_together

    outputs = [args.out, *([args.report] if args.report else [])]
    # one set: a --report that cannot be written left --out replaced by the new run (trial t62)
    with outputs_together(*outputs) as places:
        write_run(places[0], result.run)
        if args.report:
            with atomic_write(places[1]) as f:
                f.write(json.dumps(strict_json(summary), indent=2, allow_nan=False) + "\n")
    header = ["fold", *[f"w{i + 1}" for i in range(len(args.runs))], f"train {result.metric}",
              f"test {result.metric}", "test queries"]
    rows = [[f["fold"], *f["weights"], f["train"], f["test"], len(f["test_queries"])] for f in result.folds]
    footer = (f"out-of-fold {result.metric} {result.mean:.4f} over the judged queries; w1..w{len(args.runs)}: "
              f"{', '.join(args.runs)}; {result.search} search, norm {result.norm}; wrote {args.out}")
    emit(args, header, rows, summary, footer=footer)
    return 0
