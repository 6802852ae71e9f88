"""``ltr evaluate``: IR metrics of scores for a LETOR file, or of a TREC run against qrels (as trec_eval)."""

from __future__ import annotations

import argparse
import os

from ltr.cli._data import default_max_grade, read_data, weighted_ndcg_caveat
from ltr.cli._files import emit
from ltr.cli._guard import UsageError, add_command, note
from ltr.cli._options import (
    add_conventions,
    add_encoding_errors,
    add_metrics,
    add_quiet,
    add_reader_options,
    add_relevance_level,
    metric_label,
    metric_names,
)

__all__ = ["register", "run"]

DEFAULT_METRICS = "ndcg@1,ndcg@3,ndcg@5,ndcg@10,map,err@10"


#: Reader options that only say how feature values are read: the metrics read the labels (accepted, not shown).
FEATURE_VALUE_RULES = ("nonfinite", "overflow", "null", "missing", "sparse")


def register(sub) -> None:
    from ltr.io import QRELS_FORMATS

    p = add_command(sub, "evaluate", "IR metrics of scores for a LETOR file, or of a TREC run against qrels",
                    "IR metrics of scores for a LETOR file (DATA --scores S), or of a TREC run against qrels "
                    "(--qrels Q --run R) with trec_eval's conventions; -q / --format trec prints trec_eval's "
                    "per-query lines.", aliases=("eval",))
    p.add_argument("data", nargs="?", default=None, metavar="DATA", help="LETOR file (with --scores)")
    # trec_eval's 'QRELS RUN' positionals, read only to say how this command takes them
    p.add_argument("second", nargs="?", default=None, help=argparse.SUPPRESS)
    p.add_argument("--scores", help="one score per line, in DATA's row order (as ltr predict writes them, with or "
                                    "without --sort; with --sort or --unjudged drop they are matched to the rows "
                                    "read by DATA's line order)")
    p.add_argument("--qrels", help="relevance judgments (TREC qrels, or any layout ltr features reads)")
    p.add_argument("--qrels-format", default="auto", choices=("auto", *QRELS_FORMATS), dest="qrels_format",
                   help="layout of --qrels (detected from its first lines)")
    p.add_argument("--run", help="TREC run file")
    add_encoding_errors(p)
    add_relevance_level(p, runs_only=False)
    p.add_argument("-q", "--per-query", action="store_true", dest="per_query",
                   help="one row per query, then the mean (trec_eval's -q); a LETOR file's queries by the "
                        "collection's ids where DATA.qids.tsv (ltr features) maps them, as ltr predict --run names "
                        "them")
    p.add_argument("-c", "--complete", action="store_true",
                   help="runs: average over every judged query, a query the run lacks scoring 0 (trec_eval's -c; "
                        "default: the run's judged queries only)")
    p.add_argument("-M", "--max-docs", type=_max_docs, default=None, dest="max_docs", metavar="N",
                   help="runs: evaluate each query's first N documents in trec_eval's order (score, then docno "
                        "descending), as trec_eval's -M (default: all)")
    add_metrics(p, DEFAULT_METRICS)
    add_conventions(p, gain_default=None, max_grade=True)
    add_reader_options(p, unused=FEATURE_VALUE_RULES)
    p.add_argument("--format", choices=("table", "json", "csv", "trec"), default="table",
                   help="output format; trec: trec_eval's 'measure<TAB>qid<TAB>value' lines")
    add_quiet(p)  # (--quiet only: -q is trec_eval's per-query flag here)
    p.set_defaults(func=run)


def _max_docs(value: str) -> int:
    """``-M``'s type: an integer >= 1."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: the number of documents per query to evaluate, an integer >= 1")
    return n


def _per_query_letor(args, names: list[str]):
    import pandas as pd

    from ltr.cli.train import file_row_scores
    from ltr.metrics import evaluate_per_query

    if args.qrels is not None and args.run is None and args.scores is None:  # trec_eval's habit: qrels, then a run
        raise UsageError(f"a TREC run goes with --run: ltr evaluate --qrels {args.qrels} --run {args.data} (DATA is "
                         f"a LETOR file, scored with --scores)")
    if args.qrels is not None or args.run is not None or args.complete or args.max_docs is not None:
        raise UsageError("evaluate DATA --scores S takes no --qrels, --run, --complete or --max-docs (those are for "
                         "runs)")
    if "qrels_format" in getattr(args, "given_", ()):  # accepted without a word, doing nothing (trial t65)
        raise UsageError(f"--qrels-format {args.qrels_format} applies to --qrels; evaluate DATA --scores S reads "
                         "the labels of DATA: leave it out")
    if args.encoding_errors != "strict":  # accepted without a word, doing nothing (trial t65)
        raise UsageError(f"--encoding-errors {args.encoding_errors} applies to a run and qrels (their invalid UTF-8); "
                         "evaluate DATA --scores S reads neither: leave it out")
    if args.scores is None:
        raise UsageError("evaluate DATA needs --scores (one score per line, in DATA's row order)")
    # the metrics read the labels only: rules for feature values (NaN and inf, beyond float32 as in Istella's files,
    # NULL) cannot change them, so a file ltr train would refuse without --overflow clip is evaluated as it stands
    args.read_nonfinite, args.read_overflow, args.read_null = "allow", "clip", "nan"
    args.read_missing, args.read_sparse = 0.0, True  # (sparse: no dense matrix of the unread features)
    d = read_data(args, args.data)
    score = file_row_scores(args.scores, d)  # DATA's line order, mapped to the rows as read (--sort, drop)
    kw = {"gain": args.gain or "exp2", "no_relevant": args.no_relevant, "convention": args.convention,
          "max_grade": args.max_grade}
    if args.relevance_level != 1:  # (a convention's own threshold is its default: another is refused by name)
        kw["rel_threshold"] = float(args.relevance_level)
    per = evaluate_per_query(d.y, score, group_ptr=d.group_ptr, metrics=names, **kw)
    qids = [str(q) for q in d.query_ids]
    if args.per_query:  # the ids shown: the collection's, as ltr predict --run and ltr cv --run-out write them (t56)
        from ltr.io.qidmap import apply_qid_map, find_qid_map, locate_qid_map

        mapping = find_qid_map(args.data, getattr(d, "feature_set", None))
        if mapping is not None:
            qids = apply_qid_map(mapping, qids, locate_qid_map(args.data), args.data)
    frame = pd.DataFrame(per, index=pd.Index(qids, name="qid"))
    if d.weight is not None:
        weights = d.sources.get("weight", "the data's weights")
        if args.convention == "lightgbm":  # LightGBM's mean over a Dataset with weights: by query weight
            import numpy as np

            from ltr.metrics import query_weights

            args.query_weights_ = query_weights(d.weight, d.group_ptr)
            args.no_relevant_ = np.array([not (d.y[a:b] > 0).any() for a, b in zip(d.group_ptr[:-1],
                                                                                     d.group_ptr[1:])])
            note(args, f"note: the means of ndcg and map are weighted by query, each query by its rows' mean "
                       f"weight in {weights}, as LightGBM averages them{weighted_ndcg_caveat(d)}")
        else:
            note(args, f"note: the weights of {weights} are not used: each query counts once (--convention "
                       "lightgbm weights the means by query, as LightGBM does)")
    return frame, "letor"


def _refuse_letor_reading(args) -> None:
    """The options that read a LETOR file (``--query-file``, ``--sort``, ``--unjudged``, ``--n-features``, ...) given
    with ``--qrels Q --run R``, which reads none: refused by name, as ``-M`` is with LETOR scores (they were accepted
    and did nothing, ``--query-file /nonexistent`` included; trial t65)."""
    from ltr.reader_options import READER_OPTIONS

    given = getattr(args, "given_", set())
    flags = [opt.negation if opt.negation and getattr(args, f"read_{key}", "") is None else opt.flag
             for key, opt in READER_OPTIONS.items()
             if f"read_{key}" in given and "letor" in opt.readers and key not in FEATURE_VALUE_RULES]
    flags += ["--n-features"] if "n_features" in given else []
    if flags:
        raise UsageError(f"{', '.join(flags)} read{'s' if len(flags) == 1 else ''} a LETOR file (DATA --scores S); "
                         "evaluate --qrels Q --run R reads none: leave "
                         f"{'it' if len(flags) == 1 else 'them'} out")


def _per_query_run(args, names: list[str]):
    from ltr.io import read_qrels, read_run
    from ltr.metrics import evaluate_run_per_query

    if args.convention != "default":
        raise UsageError(f"--convention {args.convention} applies to LETOR scores (DATA --scores S), not to TREC runs "
                         "(read as trec_eval reads them)")
    if args.qrels is None or args.run is None:
        raise UsageError("evaluate needs either DATA --scores S, or --qrels Q --run R")
    _refuse_letor_reading(args)
    if args.qrels == args.run:  # `... | ltr evaluate --qrels /dev/stdin --run /dev/stdin`: one stream, two files
        raise UsageError(f"--qrels and --run are both {args.run}: the judgments and the run are two files (a pipe "
                         "feeds one of them)")
    qrels = read_qrels(args.qrels, args.qrels_format, errors=args.encoding_errors)
    if args.qrels_format == "auto":  # a layout other than TREC's, found by its width, is said with the figures
        layout = qrels.attrs.get("format")
        args.qrels_read_as_ = None if layout == "trec" else layout
    run = read_run(args.run, errors=args.encoding_errors)
    run = _ids_as_judged(args, qrels, run)
    default_max_grade(args, qrels["rel"])  # the defaults' ERR takes a grade above 4 from the judgments, as for DATA
    judged, ranked = set(qrels["qid"].astype(str)), set(run["qid"].astype(str))
    for what, path, ids in (("run", args.run, ranked), ("judgments", args.qrels, judged)):
        if not ids:
            raise ValueError(f"{path}: the {what} file has no lines (blank and '#' lines only)")
    if not judged & ranked:  # trec_eval: "No queries with both results and relevance info", exit 7
        from ltr.io.qidmap import padded_examples, padded_ids

        shown = ", ".join(sorted(ranked)[:3]) or "none"
        padded = padded_ids(ranked, judged) or padded_ids(judged, ranked)
        why = (f"their ids differ in leading zeros ({padded_examples(padded)}), and ids are compared as text, as "
               "trec_eval does: write them the same way in both files (ltr features reads topic numbers without "
               "leading zeros; its --qrels-out writes the judgments under the ids it wrote)") if padded else \
            "judgments of another collection?"
        raise ValueError(f"{args.run} and {args.qrels} have no query in common (the run's: {shown}"
                         f"{', ...' if len(ranked) > 3 else ''}; the judgments': "
                         f"{', '.join(sorted(judged)[:3]) or 'none'}{', ...' if len(judged) > 3 else ''}): {why}")
    _note_padded_ids(args, ranked, judged)
    try:
        frame = evaluate_run_per_query(qrels, run, names,
                                       gain=args.gain or "linear", no_relevant=args.no_relevant,
                                       complete=args.complete, max_grade=args.max_grade,
                                       rel_threshold=args.relevance_level, max_docs=args.max_docs)
    except ValueError as e:
        if str(e).startswith("run lists document"):  # file, line and token, as ltr fuse names them
            from ltr.exceptions import TrecFormatError
            from ltr.io import run_lines

            i = int(run.duplicated(["qid", "docno"]).to_numpy().argmax())  # the first repeat
            q, d = str(run["qid"].iat[i]), str(run["docno"].iat[i])
            lines = run_lines(args.run, q, d)
            if len(lines) >= 2:
                merged = "\ufffd" in d and getattr(args, "encoding_errors", None) == "replace"
                hint = ("--encoding-errors replace made the bytes that are not UTF-8 one U+FFFD, so two documents "
                        "that differ only there are one id (trec_eval, which compares bytes, keeps both): convert "
                        "the file to UTF-8 (iconv -f LATIN1 -t UTF-8)" if merged else "trec_eval refuses duplicates")
                raise TrecFormatError(f"query {q} lists document {d} twice (first on line {lines[0]})", str(args.run),
                                      lines[1], d, hint=hint) from None
        if str(e).startswith(("run lists document", "qrels lists document")):  # name the file (the frame cannot)
            raise ValueError(f"{args.run if str(e).startswith('run') else args.qrels}: {e}") from None
        raise
    return frame, "trec"


def _ids_as_judged(args, qrels, run):
    """The run with its numeric ids read as SMART or Cranfield judgments read theirs, without leading zeros (as
    :func:`ltr.metrics.evaluate_run_per_query` matches them), said when any id changes: the qrels file's own
    ``0046`` in a run is document 46 there, and the notes below then compare the ids as matched."""
    import numpy as np

    from ltr._ids import UNPADDED, unpad

    if qrels.attrs.get("ids") != UNPADDED:
        return run
    written, changed = run[["qid", "docno"]].astype(str), {}
    for column in ("qid", "docno"):
        before = written[column]
        after = before.map(unpad)
        differ = (before != after).to_numpy()
        if differ.any():
            changed[column] = (before[differ].nunique(), before[differ].iat[0], after[differ].iat[0])
            run = run.assign(**{column: after})
    twice = run.duplicated(["qid", "docno"], keep=False).to_numpy() & ~written.duplicated(keep=False).to_numpy()
    if twice.any():  # two spellings of one document ('0046' and '46'): one document once read as the judgments
        from ltr.exceptions import TrecFormatError
        from ltr.io import run_lines

        q, d = run["qid"].iat[int(np.flatnonzero(twice)[0])], run["docno"].iat[int(np.flatnonzero(twice)[0])]
        same = np.flatnonzero(twice & (run["qid"] == q).to_numpy() & (run["docno"] == d).to_numpy())[:2]
        spelled = [(written["qid"].iat[i], written["docno"].iat[i]) for i in same]
        lines = [min(run_lines(args.run, sq, sd) or [0]) for sq, sd in spelled]
        raise TrecFormatError(f"query {q} lists document {d} twice once its ids are read without leading zeros, as "
                              f"{args.qrels}'s are ({spelled[0][1]!r} on line {lines[0]}, {spelled[1][1]!r})",
                              str(args.run), lines[1], spelled[1][1])
    if changed:
        said = "; ".join(f"{n} {'query' if c == 'qid' else 'document'} id(s), e.g. {old!r} -> {new!r}"
                         for c, (n, old, new) in changed.items())
        note(args, f"note: {args.run}'s numeric ids are read without leading zeros, as {args.qrels}'s (its layout "
                   f"writes them zero-padded: {said})")
    return run


def _note_padded_ids(args, ranked: set[str], judged: set[str]) -> None:
    """Say when query ids of one file are the other's with leading zeros (a run written from TREC-1/2 topics, ``051``
    where the qrels say ``51``): trec_eval compares them as text, and so does this command, so such queries count
    as unjudged (or unranked) without a word from trec_eval."""
    from ltr.io.qidmap import padded_examples, padded_ids

    for what, path, ids, other_path, other in (("--run", args.run, ranked, args.qrels, judged),
                                               ("--qrels", args.qrels, judged, args.run, ranked)):
        padded = padded_ids(ids, other)
        if padded:
            note(args, f"note: {len(padded)} query id(s) of {what} {path} are {other_path}'s with leading zeros "
                       f"({padded_examples(padded)}); ids are compared as text, as trec_eval does, so those "
                       "queries are not matched: write the ids the same way in both files")


def _columns(path: str) -> int | None:
    """The number of fields on the first line of ``path`` that is not blank or a comment (a TREC run has 6, qrels 4);
    None when it cannot be read (or is no regular file: a pipe would be waited on)."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for _, line in zip(range(100), f):
                if line.strip() and not line.startswith("#"):
                    return len(line.split())
    except OSError:
        return None
    return None


#: How each layout other than TREC's reads a judgment, for the conventions line when it was found by its width.
_LAYOUTS = {"smart": "qid docno: every listed document relevant", "qdr": "qid docno rel",
            "cranfield": "Cleverdon's codes as gains 5 - code", "beir": "BEIR's query-id corpus-id score",
            "npl": "NPL's lists: every listed document relevant", "jsonl": "JSON lines"}


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ltr.metrics import describe_conventions, format_trec_eval

    if args.second is not None:
        qrels, run = args.data, args.second
        if _columns(qrels) == 6 and _columns(run) == 4:  # RUN QRELS: the hint followed the order, wrong (t58)
            qrels, run = run, qrels
        raise UsageError(f"ltr evaluate takes one positional file, a LETOR file scored with --scores; for a run "
                         f"against qrels (trec_eval QRELS RUN): ltr evaluate --qrels {qrels} --run {run}")
    pairs = metric_names(args.metrics)
    names = [c for c, _ in pairs]
    if args.data is not None:
        frame, source = _per_query_letor(args, names)
    else:
        if args.scores is not None:
            raise UsageError("--scores needs the LETOR file it scores (DATA)")
        frame, source = _per_query_run(args, names)
    if args.format == "trec":
        # trec_eval's measure names only for trec_eval's measures: NDCG with the exp2 gain (LETOR scores' default)
        # or the LETOR convention is another measure, named as the toolkit names it
        gain = args.gain or ("linear" if source == "trec" else "exp2")
        trec = gain == "linear" and args.convention == "default"
        means = _means(args, frame, names)  # (in the file's order: LightGBM's query weights are)
        if source == "letor":  # trec_eval prints the queries in the order of their ids as strings, as runs are
            frame = frame.iloc[np.argsort(np.asarray(frame.index.astype(str), dtype=str), kind="stable")]
        print(format_trec_eval(frame, queries=args.per_query, names="trec" if trec else "canonical", means=means),
              end="")
        return 0
    means = _means(args, frame, names)
    n_averaged = {m: int((~frame[m].isna()).sum()) if len(frame) else 0 for m in names}
    footer = describe_conventions(source=source, convention=args.convention, gain=args.gain,
                                  no_relevant=args.no_relevant, complete=args.complete, n_queries=n_averaged,
                                  max_grade=args.max_grade, metrics=names, rel_threshold=args.relevance_level,
                                  max_docs=args.max_docs)
    layout = getattr(args, "qrels_read_as_", None)
    if layout is not None:  # a TREC qrels cut to 2 columns read as SMART's, every document relevant (trial t71)
        footer += f"; judgments read as {layout!r} ({_LAYOUTS[layout]}; --qrels-format names another)"
    # CSV's columns are read by name: the canonical one, whatever the spelling asked ("p@5 (P_5)" or "p@5" by the
    # spelling broke a script's read_csv(...)["p@5"]; trial t65), as JSON keys its values
    labels = {c: c if args.format == "csv" else metric_label(c, r) for c, r in pairs}
    if args.per_query:
        header = ["qid", *[labels[m] for m in names]]
        rows = [[str(q), *[_cell(frame[m].iloc[i]) for m in names]] for i, q in enumerate(frame.index)]
        rows.append(["all", *[means[m] for m in names]])
        obj = {"per_query": {str(q): {m: _cell(frame[m].iloc[i]) for m in names} for i, q in enumerate(frame.index)},
               "mean": means, "metrics": {m: r for m, r in pairs}, "conventions": footer}
        emit(args, header, rows, obj, footer=footer)
    else:
        obj = dict(means)
        if args.format == "json":
            obj = {"mean": means, "metrics": {m: r for m, r in pairs}, "conventions": footer}
        emit(args, ["metric", "mean"], [[labels[m], means[m]] for m in names], obj, footer=footer)
    return 0


def _means(args, frame, names: list[str]) -> dict:
    """The summary: LightGBM's weighted means under ``--convention lightgbm`` with a weight file, else plain."""
    from ltr.metrics import aggregate, lightgbm_weighted_means

    columns = {m: frame[m].to_numpy() for m in names}
    if getattr(args, "query_weights_", None) is not None:
        return lightgbm_weighted_means(columns, args.query_weights_, args.no_relevant_)
    return aggregate(columns)


def _cell(v):
    import numpy as np

    if isinstance(v, (np.integer,)):
        return int(v)
    return float(v)
