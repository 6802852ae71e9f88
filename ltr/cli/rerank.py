"""``ltr rerank``: a saved model + a first-stage TREC run + the collection and queries -> the reranked TREC run.

The candidates' features are the model's own feature set (kept in its sidecar when it was trained on ``ltr
features`` output, also by a model trained on some of its columns with ``ltr train --features``, which then reads
the columns it records; ``--features FS.toml`` for another model), computed as ``ltr features --run`` computes them; the
scores are the model's (its trees through :mod:`ltr.trees`, the linear model's own ``predict``), so the new run is
what ``ltr features --run`` + ``ltr predict --run`` give, without the LETOR file. Every step is a library call:
:func:`features.pipeline.load_inputs`, :meth:`features.serve.Reranker.load`, :meth:`features.serve.Reranker.rerank_run`,
:func:`ltr.io.write_run`. Run lines naming documents the collection lacks or queries the query file lacks are
counted and named on standard error (or, with ``--on-unknown error``, stop the command), never dropped silently.

Example::

    ltr rerank --model model.txt --run bm25.run --collection ../shared/data/cranfield --index cran.index \\
        --depth 100 --out reranked.run
"""

from __future__ import annotations

import argparse
import sys

from ltr.cli._files import (
    check_outputs,
    collection_reads,
    index_roles,
    option_files,
    read_collection_files,
    refuse_outputs_in,
    refuse_unholdable_scores,
    run_query_ids,
)
from ltr.cli._guard import UsageError, add_command, error_message, note, visible
from ltr.cli._options import (
    add_collection_input,
    add_n_jobs,
    add_quiet,
    add_text_reading,
    check_feature_set_option,
    input_option_usage,
    run_tag,
)

__all__ = ["register", "run"]



def register(sub) -> None:
    p = add_command(sub, "rerank", "rerank a first-stage TREC run with a saved model (features computed from text)")
    src = p.add_argument_group("input")
    src.add_argument("--model", required=True,
                     help="a model saved by ltr train; trained on ltr features output it knows its feature set "
                          "(else give --features)")
    src.add_argument("--run", required=True, help="the first-stage TREC run whose documents are the candidates")
    add_collection_input(src, queries_help="query file, any format ltr features reads (default: the collection "
                                           "directory's; a name not found here is looked up there); no judgments "
                                           "are needed",
                         query_ids_help="SMART query ids: the .I id, or the position 1..n (auto: as ltr features "
                                        "numbers them; pass position where ltr features read Cranfield-layout --qrels "
                                        "beside a query file)",
                         serving=True)
    add_text_reading(src)
    src.add_argument("--index", help="index file: loaded when it exists (and checked against the model's analyzer "
                                     "and fields, and the collection), else built with the model's and saved there "
                                     "(a model without them: those of a --features description, else the default "
                                     "analysis, with a warning)")
    src.add_argument("--features", help="the feature set ('default', 'small_collections' or a .toml/.json file) "
                                        "for a model whose sidecar has none; with one, it must describe the same "
                                        "features; the description ltr features writes (.json) also sets the "
                                        "index's analysis")
    out = p.add_argument_group("reranking and output")
    out.add_argument("--depth", type=int, default=None, metavar="K",
                     help="rerank each query's first K candidates, by score: ties of score in the run's rank "
                          "order where its ranks agree with the scores, else by docno descending as trec_eval orders "
                          "them (so where scores tie at the cut, K may hold another document than trec_eval's top "
                          "K); the new run holds those (default: all)")
    out.add_argument("--on-unknown", default="warn", choices=["warn", "error"],
                     help="run lines naming documents the collection lacks or queries the queries lack: drop them "
                          "with a count and the first ids, or stop")
    out.add_argument("--out", required=True, help="the reranked TREC run to write ('-' for standard output)")
    out.add_argument("--tag", default="ltrkit", type=run_tag, help="run tag of the new run")
    add_n_jobs(p, "Numba threads for the features and the trees")
    add_quiet(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import warnings

    from features.collections.loaders import detect_format
    from features.pipeline import InputOptionError, load_inputs
    from features.serve import MissingFeatureSetError, Reranker, UnknownCandidatesError
    from ltr.io import read_run, write_run
    from ltr.rankers import PlainModelWarning

    if args.depth is not None and args.depth < 1:
        raise UsageError(f"--depth must be >= 1, got {args.depth}")
    from ltr.rankers.sidecar import find_meta_path

    built_index, saved_index = index_roles(args.index)
    read = collection_reads(args.collection)
    check_outputs(args.out, built_index, inputs=[args.model, find_meta_path(args.model), args.run, args.queries,
                                                 saved_index, *option_files(args.features), *read],
                  flags=("--out", "--index"))
    check_feature_set_option(args.features)
    first = read_run(args.run)  # a malformed run fails before the slow steps
    args.topic_fields = _topic_fields(args)
    try:
        inputs = load_inputs(args.collection, queries=args.queries, doc_format=args.doc_format,
                             query_format=args.query_format, query_ids=args.query_ids, errors=args.encoding_errors,
                             duplicates=args.duplicates, split=args.split, topic_fields=args.topic_fields,
                             judgments=False)
    except InputOptionError as e:
        raise input_option_usage(e) from None
    # (before the model and the index are loaded) a TREC-1/2 run writes 051 where the topics are read as 51
    padded = run_query_ids(args, first["qid"].astype(str).unique(), inputs, kept="; the reranked run keeps the "
                           "run's ids")
    read, folders = read_collection_files(inputs)  # a collection folder's files, now that it is read
    refuse_outputs_in(folders, (args.out, built_index), ("--out", "--index"))
    check_outputs(args.out, built_index, inputs=[args.model, find_meta_path(args.model), args.run, args.queries,
                                                 saved_index, *option_files(args.features), *read],
                  flags=("--out", "--index"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PlainModelWarning)
        try:
            reranker = Reranker.load(args.model, index=args.index, collection=inputs.docs, features=args.features,
                                     n_jobs=args.n_jobs, warm=False, fill_cache=True)  # a batch: written once
        except MissingFeatureSetError as e:
            raise MissingFeatureSetError(e.command_line) from None  # worded for this interface
    for w in caught:
        note(args, f"note: {error_message(w.message)}")
    if "first_stage_score" in reranker.feature_names:  # the run's scores are a float32 feature
        refuse_unholdable_scores(first, "--run", args.run)
    # dropped lines are said below from the report (rerank_run's own warning would say them twice)
    queries = {}  # the topics' order, a run's padded id beside its query's (a set's order: trial t67)
    for q, text in inputs.queries.items():
        queries[q] = text
        queries.update((j, text) for j in sorted(j for j, n in padded.items() if n == q))
    try:
        new, report = reranker.rerank_run(first, queries, depth=args.depth,
                                          on_unknown="drop" if args.on_unknown == "warn" else args.on_unknown,
                                          tag=args.tag)
    except UnknownCandidatesError as e:  # --on-unknown error: named by the run file's line, as every reader's error
        _refuse_at_line(args.run, e)
        raise
    if report.n_queries == 0:  # nothing matched: an empty run would hide the cause (and replace --out)
        raise ValueError(f"nothing left to rerank in {args.run}: " + "; ".join(report.problems() or
                                                                               ["it holds no candidate"]))
    for line in report.problems():
        print(f"ltr rerank: {line}", file=sys.stderr)  # always shown, even with --quiet: never dropped silently
    if report.n_unknown_queries and args.queries is not None and args.query_ids == "auto" and \
            (args.query_format == "smart" or args.query_format == "auto" and
             detect_format(args.queries, "queries") == "smart"):
        print(f"ltr rerank: {args.queries}'s SMART queries are numbered by their .I ids (--query-ids auto, "
              "without judgments to follow); if the run numbers them 1, 2, ... by position, as Cranfield's judgments "
              "and ltr features on a Cranfield folder do, pass --query-ids position", file=sys.stderr)
    write_run(args.out, new)
    if not args.quiet:  # as every command's "wrote" line
        reads = (f" (the model reads {reranker.model.n_features_in_} of them: ltr train --features or "
                 "--drop-features)"
                 if reranker.subset else "")
        blank = reranker.not_computed
        if blank:  # a distilled student's teacher: its column is 0, its feature never computed (trial t69)
            shown = ", ".join(blank[:5]) + (", ..." if len(blank) > 5 else "")
            reads += f"; {len(blank)} of them not computed, which the model never reads ({shown})"
        print(visible(f"wrote {args.out}: {report.n_queries} queries, {report.n_rows} documents reranked by "
                      f"{len(reranker.feature_names)} features{reads}"), file=sys.stderr)
    return 0


def _topic_fields(args: argparse.Namespace) -> tuple[str, ...] | None:
    """The topic fields of the queries: those the model's training queries were made of (``ltr features
    --topic-fields``, kept in its sidecar), which a different ``--topic-fields`` may not contradict: the same
    topics made of other fields are other queries, and every feature would differ from what the model learnt."""
    import json

    from ltr.rankers.sidecar import find_meta_path

    try:  # the sidecar load_model reads the model with
        described = json.loads(find_meta_path(args.model).read_text(encoding="utf-8")).get("feature_set")
    except (OSError, ValueError, AttributeError):
        return args.topic_fields  # no readable sidecar: loading the model names the problem
    if not isinstance(described, dict) or "topic_fields" not in described:
        return args.topic_fields  # trained before the fields were recorded, or not on ltr features output
    trained = tuple(described["topic_fields"] or ("title",))
    if args.topic_fields is None and trained != ("title",) and _queries_as_built(args, trained):
        # (ltr features --topics-out's file: each query as built, in <title>; or a qid<TAB>text file) said always,
        # as the model's queries were other fields of topics (trial t67: each error sent the user to the other)
        print(f"ltr rerank: {visible(args.queries)} has no topic field {','.join(trained)}, which the model's "
              "training queries were made of (ltr features --topic-fields): its texts are read as the queries, as "
              "ltr features --topics-out writes them (each query as built, in <title>)", file=sys.stderr)
        return None
    if args.topic_fields is None:
        if trained != ("title",):
            note(args, f"note: queries made of the topic fields {','.join(trained)}, as the model's training "
                       "queries (ltr features --topic-fields)")
        return trained if described["topic_fields"] else None
    if tuple(args.topic_fields) != trained:
        raise UsageError(f"--topic-fields {','.join(args.topic_fields)}: the model was trained on queries made of "
                         f"the topic fields {','.join(trained)}; leave --topic-fields out to use those")
    return args.topic_fields


def _queries_as_built(args: argparse.Namespace, trained: tuple[str, ...]) -> bool:
    """Whether ``--queries`` holds the queries as built rather than topics with the fields ``trained``: a TREC topics
    file whose topics all lack those fields but have a title (``ltr features --topics-out``), or a file of another
    format than topics (``qid<TAB>text``)."""
    if args.queries is None:
        return False
    from features.collections.loaders import detect_format
    from features.collections.trec import read_trec_topics
    from features.errors import CollectionFormatError

    try:
        fmt = args.query_format if args.query_format != "auto" else detect_format(args.queries, "queries")
        if fmt == "beir":  # (JSON lines may hold the topics' fields: read as asked, or refused with the reason)
            return False
        if fmt != "trec":
            return True
        read_trec_topics(args.queries, fields=("title",), errors=args.encoding_errors)
    except (CollectionFormatError, OSError, ValueError):
        return False  # (the reading proper says what is wrong)
    try:
        read_trec_topics(args.queries, fields=trained, errors=args.encoding_errors)
    except CollectionFormatError:
        return True
    return False


def _refuse_at_line(path: str, e) -> None:
    """Raise ``e`` (an unknown query or document of the run) as the run file's error at its first offending line,
    naming the id as the token (as ``ltr fuse`` and the readers name a bad run line); nothing if the line is not
    found."""
    from ltr.exceptions import TrecFormatError
    from ltr.io import run_lines

    if e.first_row is None:
        return
    q, d = e.first_row
    lines = run_lines(path, q, d)
    if lines:
        raise TrecFormatError(str(e).removeprefix("run: "), str(path), lines[0], d if e.doc_ids else q) from None

