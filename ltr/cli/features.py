"""``ltr features``: text collection + queries + judgments -> LETOR feature file (and TREC run, qrels, topics).

The only command besides ``ltr rerank`` that composes the feature layer with the learning layer; every step is a
library call (:func:`features.pipeline.load_inputs`, :func:`features.pipeline.load_or_build_index`,
:class:`features.retrieval.BM25Retriever`, :func:`features.extraction.extract`, :func:`ltr.io.write_letor`).

Example::

    ltr features --collection ../shared/data/cranfield --topk 100 --out cran.letor \\
        --save-run bm25.run --qrels-out cran.qrels
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from ltr.cli._files import (
    check_outputs,
    collection_reads,
    index_roles,
    input_named,
    option_files,
    read_collection_files,
    refuse_outputs_in,
    refuse_unholdable_scores,
    run_query_ids,
)
from ltr.cli._guard import UsageError, add_command, error_message, note, split_list, visible
from ltr.cli._options import (
    add_collection_input,
    add_n_jobs,
    add_quiet,
    add_text_reading,
    check_feature_set_option,
    input_option_usage,
)
from ltr.io.qidmap import padded_examples

__all__ = ["register", "run"]

_BM25_DEFAULTS = {"bm25_field": "all", "bm25_k1": 1.2, "bm25_b": 0.75, "bm25_idf": "lucene", "bm25_k3": None,
                  "bm25_qtf_norm": "none", "bm25_doc_count": None}
#: First-stage presets: Lucene's BM25 (Anserini's defaults), and Terrier's (its idf, k3 = 8 and query term
#: frequencies divided by the largest, over Terrier's analysis), which reproduces Terrier's published NPL figures.
_BM25_PRESETS = {
    "lucene": {},
    "terrier": {"bm25_idf": "terrier", "bm25_k3": 8.0, "bm25_qtf_norm": "max", "analyzer": "terrier"},
}


def register(sub) -> None:
    from ltr.io import QRELS_FORMATS

    p = add_command(sub, "features", "extract LETOR features from a text collection")
    src = p.add_argument_group("input")
    add_collection_input(src, queries_help="query file (default: the collection directory's; a name not found here "
                                           "is looked up there)",
                         query_ids_help="SMART query ids: the .I id, or the position 1..n (auto: position when the "
                                        "judgments, --qrels or the collection directory's, are in Cranfield's "
                                        "layout)")
    src.add_argument("--qrels", help="relevance judgments (default: the collection directory's; a name not found "
                                      "here is looked up there)")
    src.add_argument("--qrels-format", default="auto", choices=["auto", *QRELS_FORMATS],
                     help="layout of --qrels (detected from its first lines)")
    add_text_reading(src)
    src.add_argument("--on-unknown", default="warn", choices=["warn", "error"],
                     help="judgments or run lines naming unknown queries/documents: drop with a count, or stop")
    src.add_argument("--negative-labels", default="zero", choices=["zero", "keep"], dest="negative_labels",
                     help="judgments below 0 (the Web track's -2 for spam): label 0, not relevant, as trec_eval "
                          "counts them (the engines refuse negative labels), or keep them as they are; --qrels-out "
                          "writes the judgments as given either way")
    src.add_argument("--keep-unjudged", action="store_true",
                     help="keep the queries the judgments do not name (every label 0; by default they are left out "
                          "of every output, as trec_eval leaves them out of its means)")
    cand = p.add_argument_group("candidates")
    one = cand.add_mutually_exclusive_group()
    one.add_argument("--run", help="TREC run whose documents are the candidates (their first-stage rank is by "
                                   "score, as trec_eval ranks them; ties of score in the run's rank column's order "
                                   "where that column agrees with the scores, else docno descending, as trec_eval)")
    one.add_argument("--topk", type=int, default=None, help="retrieve the top K with BM25 (default: 100 when "
                                                            "--run is not given)")
    cand.add_argument("--add-judged", action="store_true",
                      help="also add judged documents the candidates miss (for training data only: a test run "
                           "that contains them is no longer a reranking of the first stage; they are never RM3 or "
                           "Bo1 feedback documents)")
    cand.add_argument("--bm25-field", default=None, help="field searched by the first stage (default: all)")
    cand.add_argument("--bm25-k1", type=float, default=None, help="first-stage BM25 k1 (default: 1.2)")
    cand.add_argument("--bm25-b", type=float, default=None, help="first-stage BM25 b (default: 0.75)")
    cand.add_argument("--bm25-idf", default=None,
                      choices=["lucene", "robertson", "robertson_floor", "okapi", "terrier", "atire"],
                      help="first-stage BM25 idf variant (default: lucene; atire: ln(N/df), as bm25s' atire)")
    cand.add_argument("--bm25-k3", type=float, default=None,
                      help="first-stage BM25 query-term saturation k3 (default: none, as Lucene)")
    cand.add_argument("--bm25-qtf-norm", default=None, choices=["none", "max"],
                      help="divide query term frequencies by the largest before k3, as Terrier (default: none)")
    cand.add_argument("--bm25-doc-count", default=None, choices=["field", "collection"],
                      help="what first-stage BM25's N and avgdl count: the documents with a term in the field "
                           "(Lucene's docCount) or every document (default: field with the lucene idf, else "
                           "collection)")
    cand.add_argument("--bm25-preset", default="lucene", choices=sorted(_BM25_PRESETS),
                      help="first-stage BM25 as Lucene/Anserini or as Terrier computes it (lucene: Lucene's idf, "
                           "N and avgdl over the documents holding the field, as Lucene counts them, scores (k1 + 1) "
                           "times Lucene 8+'s, which leaves that constant out, with exact document lengths: bm25s' "
                           "lucene times (k1 + 1) where every document holds the field (bm25s counts every document, "
                           "as --bm25-doc-count collection does); Lucene itself keeps lengths above 23 tokens in one "
                           "byte, so its ranking differs slightly; "
                           "terrier: Terrier's idf, k3 = 8, qtf normalisation and, unless --analyzer is given, "
                           "Terrier's analysis); the --bm25-* flags override it")
    cand.add_argument("--save-run", "--run-out", dest="save_run", metavar="FILE",
                      help="also write the BM25 first-stage run (TREC format, the collection's query ids) here "
                           "(--run-out, as ltr cv names its run)")
    ana = p.add_argument_group("analysis and index")
    ana.add_argument("--analyzer", default=None, choices=["default", "terrier"],
                     help="default: \\w+ tokens, Lucene stopwords, Porter; terrier: Terrier's pipeline (default: "
                          "the --bm25-preset's, else default)")
    ana.add_argument("--stopwords", help="override: 'lucene', 'terrier', 'none' or a file of words ('#' comment "
                                         "lines; Snowball's '| comment' after a word) (default: the analyzer's)")
    ana.add_argument("--stemmer", help="override: a PyStemmer algorithm (porter, english, ...) or 'none' (default: "
                                       "the analyzer's)")
    ana.add_argument("--unicode", default=None, choices=["NFC", "NFKC", "NFD", "NFKD"],
                     help="Unicode normalisation of documents and queries before tokenising, so that 'café' typed "
                          "composed matches text stored decomposed (default: none, as Lucene's StandardAnalyzer)")
    ana.add_argument("--fields", help="comma-separated document fields to index (default: all non-empty)")
    ana.add_argument("--index", help="index file: loaded when it exists (and checked against the collection, "
                                     "analyzer and fields), else built and saved there as soon as it is built (a "
                                     "cache, whole or absent: a run that fails or is interrupted later keeps it)")
    out = p.add_argument_group("output")
    out.add_argument("--features", default="default",
                     help="the feature set: 'default' (the default: 88 columns over title and body, fewer for a "
                          "collection of one text field), 'small_collections' (for small test "
                          "collections, with --bm25-preset terrier) or a .toml/.json file")
    out.add_argument("--out", required=True, help="LETOR file to write (.gz compresses; '-' for standard output)")
    out.add_argument("--qrels-out", help="also write the judgments as TREC qrels (qid 0 docno rel), for ltr "
                                         "evaluate / ltr compare: every judgment, those left out of the labels "
                                         "too (trec_eval counts relevant documents never ranked)")
    out.add_argument("--topics-out", help="also write the queries as TREC topics")
    add_n_jobs(p, "Numba threads")
    add_quiet(p)
    p.set_defaults(func=run)


def _analyzer(args: argparse.Namespace):
    from dataclasses import replace

    from features.analysis import Analyzer

    name = args.analyzer or _BM25_PRESETS[args.bm25_preset].get("analyzer", "default")
    a = Analyzer.terrier() if name == "terrier" else Analyzer()
    if args.unicode is not None:
        a = replace(a, normalize=args.unicode)
    for key, value in (("stopwords", args.stopwords), ("stemmer", args.stemmer)):
        if value is None:
            continue
        try:
            a = replace(a, **{key: None if value == "none" else value})
        except ValueError as e:
            if key == "stopwords" and os.path.isfile(value):  # a file it could not read as UTF-8 words
                raise UsageError(f"--stopwords {error_message(e)}") from None
            if key == "stopwords":
                raise UsageError(f"--stopwords {value}: neither 'lucene', 'terrier', 'none' nor a file") from None
            import Stemmer

            raise UsageError(f"--stemmer {value}: not a PyStemmer algorithm; 'none' or one of "
                             f"{', '.join(sorted(Stemmer.algorithms()))}") from e
    return a


def _unpadded_judgments(args: argparse.Namespace, inputs):
    """``inputs`` with each judgment query id that is a query number with leading zeros (``051``) renamed to the
    query's id (``51``): TREC topic numbers and SMART query ids are read without leading zeros (as in Anserini), and
    qrels may keep them. A judgment id that is a query id as written, or whose unpadded form the judgments also hold,
    is left as it is. Said in a note: trec_eval matches ids as strings, and the LETOR, ``--save-run`` and
    ``--qrels-out`` then name the queries' ids."""
    from dataclasses import replace

    from features.collections.loaders import unpadded_judgments

    qrels, padded = unpadded_judgments(inputs.qrels, inputs.queries.qids)
    if not padded:
        return inputs
    note(args, f"{len(padded)} judgment query id(s) with leading zeros matched to the queries numbered without them "
               f"({padded_examples(padded)}): "
               "topic numbers are read without leading zeros (as in Anserini), and the LETOR, --save-run and "
               "--qrels-out name the queries so (trec_eval matches ids as written)")
    return replace(inputs, qrels=qrels)


def _numbering_hint(args: argparse.Namespace, queries, judged: set) -> str:
    """Why no query is named by the judgments, as far as the ids tell: numbers that differ only in leading zeros
    (the queries' own: judgments padded where the queries are not were matched before), or, for a SMART query file
    (whose records --query-ids numbers), record ids against positions."""
    def unpadded(ids):
        return {str(int(i)) for i in ids if i.isdigit() and i.isascii()}

    if unpadded(queries.qids) & unpadded(judged):
        return ("their numbers differ in leading zeros, and ids are matched as written (as trec_eval does): write "
                "them the same way in both files")
    if args.queries is not None:
        from features.collections import detect_format

        fmt = args.query_format if args.query_format != "auto" else detect_format(args.queries, "queries")
        if fmt == "smart":
            return "are they numbered differently (--query-ids record|position)?"
    return "are they numbered differently?"


def _judged_queries(args: argparse.Namespace, inputs):
    """The queries the judgments name (all of them with --keep-unjudged or without judgments), saying how many
    are left out; none judged is an error showing ids of both sides (they may be numbered differently)."""
    from features.collections import Queries

    qs = inputs.queries
    if inputs.qrels is None or args.keep_unjudged:
        return qs
    judged = set(inputs.qrels["qid"].astype(str))
    keep = [i for i, q in enumerate(qs.qids) if q in judged]
    if len(keep) == len(qs.qids):
        return qs
    if not keep:
        ours = ", ".join(map(repr, qs.qids[:3]))
        theirs = ", ".join(map(repr, sorted(judged)[:3]))
        raise ValueError(f"none of the {len(qs.qids)} queries is named by the judgments (queries {ours}, ...; "
                         f"judgments {theirs}, ...): {_numbering_hint(args, qs, judged)}")
    note(args, f"{len(qs.qids) - len(keep)} of {len(qs.qids)} queries have no judgments and are left out "
               "(--keep-unjudged keeps them, every label 0)")
    return Queries(tuple(qs.qids[i] for i in keep), tuple(qs.texts[i] for i in keep), name=qs.name)


def _nonempty_run(args: argparse.Namespace, run):
    """The ``--run``; one without any line (almost always a first stage that failed) is an error naming it."""
    if run.empty:
        raise ValueError(f"--run {args.run}: the run holds no lines (blank and '#' lines aside): no candidate for "
                         "any query")
    return run


def _run_candidates(args: argparse.Namespace, run, queries, inputs):
    """The lines of the ``--run`` for the queries kept; a run without a line for any of them is an error naming
    the file and ids of both sides (they may be numbered differently), and so is a run keyed by the ``.I`` ids of
    queries numbered by position (:func:`ltr.cli._files.run_query_ids`)."""
    all_queries = inputs.queries
    named = run["qid"].astype(str)
    padded = run_query_ids(args, named.unique(), inputs)  # as the judgments' (a TREC-1/2 run keeps 051)
    if padded:
        named = named.map(lambda q: padded.get(q, q))
        run = run.assign(qid=named)
    kept = run[named.isin(set(queries.qids))]
    if kept.empty:
        ours = ", ".join(map(repr, queries.qids[:3])) + (", ..." if len(queries.qids) > 3 else "")
        theirs = list(dict.fromkeys(named))
        which = "judged " if len(queries) < len(all_queries) else ""
        raise ValueError(f"--run {args.run}: none of its {len(run)} line(s) names one of the {len(queries)} {which}"
                         f"query id(s) (run: {', '.join(map(repr, theirs[:3]))}{', ...' if len(theirs) > 3 else ''}; "
                         f"queries: {ours}): no candidate for any query")
    if len(queries) == len(all_queries):
        return run  # extract names the lines of unknown query ids (on_unknown)
    # the lines of unjudged queries go quietly (said in the count of queries left out); those of ids no query has
    # (a typo, a run of other topics) stay for extract to name, as with --keep-unjudged
    return run[named.isin(set(queries.qids)) | ~named.isin(set(all_queries.qids))]


def _check(args: argparse.Namespace) -> None:
    from features.scorers.bm25 import BM25_K_MAX, BM25_K_WORDS

    if args.topk is not None and args.topk < 1:
        raise UsageError(f"--topk must be >= 1, got {args.topk}")
    if args.bm25_k1 is not None and not (math.isfinite(args.bm25_k1) and args.bm25_k1 >= 0):
        raise UsageError(f"--bm25-k1 {args.bm25_k1:g}: BM25's k1 is a finite number >= 0")
    if args.bm25_k1 is not None and args.bm25_k1 > BM25_K_MAX:
        raise UsageError(f"--bm25-k1 {args.bm25_k1:g}: BM25's k1 is {BM25_K_WORDS}")
    if args.bm25_b is not None and not 0 <= args.bm25_b <= 1:
        raise UsageError(f"--bm25-b {args.bm25_b:g}: BM25's b is between 0 and 1")
    if args.bm25_k3 is not None and not (math.isfinite(args.bm25_k3) and args.bm25_k3 >= 0):
        raise UsageError(f"--bm25-k3 {args.bm25_k3:g}: BM25's k3 (query-term saturation) is a finite number >= 0")
    if args.bm25_k3 is not None and args.bm25_k3 > BM25_K_MAX:
        raise UsageError(f"--bm25-k3 {args.bm25_k3:g}: BM25's k3 is {BM25_K_WORDS}")
    if args.run:
        given = [f"--{k.replace('_', '-')}" for k in _BM25_DEFAULTS if getattr(args, k) is not None]
        if args.bm25_preset != "lucene":
            given.append("--bm25-preset")
        if args.save_run:
            given.append("--save-run")
        if given:
            one = len(given) == 1
            message = (f"{', '.join(given)} {'configures' if one else 'configure'} the BM25 first stage, which --run "
                       f"replaces: drop {'it' if one else 'them'} or drop --run")
            analyzer = _BM25_PRESETS[args.bm25_preset].get("analyzer")
            if "--bm25-preset" in given and analyzer is not None and args.analyzer is None:
                # the preset also chose the analysis every text feature reads: dropping it silently changes them all
                message += (f"; --bm25-preset {args.bm25_preset} also chose the {analyzer!r} analyzer: pass --analyzer "
                            f"{analyzer} with --run to keep that analysis (the one a model trained on the preset's "
                            "features reads)")
            raise UsageError(message)


def _check_fields(args: argparse.Namespace, fields: list[str] | None, docs) -> None:
    """``--fields``: a field the collection lacks; a field that is empty in every document gives features of 0 and a
    first stage that retrieves nothing over it (said before as 'no query has any candidate', after the whole
    indexing pass)."""
    from features.index import default_fields, repeated_fields

    twice = repeated_fields(fields or [])
    if twice:  # (the 'all' field was the field twice over: lengths and counts doubled, searched by the first stage)
        raise UsageError(f"--fields {args.fields}: {', '.join(map(repr, twice))} given twice; name each field once")
    unknown = [f for f in fields or [] if f not in docs.fields]
    if unknown:  # (the index's own error, exit 1, named no option: trial t64)
        raise UsageError(f"--fields {args.fields}: {', '.join(map(repr, unknown))} "
                         f"{'is' if len(unknown) == 1 else 'are'} not a field of the collection, whose fields are "
                         f"{', '.join(docs.fields)}")
    empty = [f for f in fields or [] if f in docs.fields and not any(t.strip() for t in docs.fields[f])]
    if empty:
        names = ", ".join(map(repr, empty))
        have = [f for f in default_fields(docs) if f not in empty]
        raise UsageError(f"--fields {args.fields}: {names} {'is' if len(empty) == 1 else 'are'} empty in every "
                         f"document of the collection" + (f"; its non-empty fields: {', '.join(have)}" if have else ""))


def _check_bm25_field(args: argparse.Namespace, index) -> None:
    """``--bm25-field``: a field the index lacks is the option's mistake (exit 2, naming it), known once the index
    is built or loaded (its fields are the collection's non-empty ones, or --fields), before the search."""
    if args.bm25_field is None:
        return
    try:
        index.field(args.bm25_field)
    except ValueError:
        raise UsageError(f"--bm25-field {args.bm25_field}: not a field of this index; it has "
                         f"{list(index.field_names)}") from None


def _note_caches(args: argparse.Namespace, fs, index) -> None:
    """One line per neural model scorer: how its embedding cache was used (items found and computed, summed over
    its fields), so that a user sees whether a second run reused the first's vectors."""
    from features.scorers.neural import ModelScorer

    bases: dict[ModelScorer, str] = {}
    for scorer, _, cols in fs.columns(index):
        if isinstance(scorer, ModelScorer):
            bases.setdefault(scorer, cols[0].rsplit(":", 1)[0])
    for scorer, base in bases.items():
        label = scorer.name if base == scorer.name else f"{base} ({scorer.name})"
        used, root = scorer.cache_totals, scorer.cache_root()
        if root is None:
            note(args, f"{label}: cache off (cache = false), {used.computed} computed")
            continue
        discarded = " (the cache on disk was discarded: see the warning)" if used.discarded else ""
        note(args, f"{label} cache '{root}': {used.found} found, {used.computed} computed{discarded}")


def _refuse_the_qid_map_name(args: argparse.Namespace, inputs: list) -> None:
    """An output named ``OUT.qids.tsv``, the query-id map written beside ``--out`` (string query ids): the map and it
    would replace each other, and ltr predict --run and ltr cv would read the other as the map. An input of that name
    (``inputs``) would be replaced by the map, or removed as a stale map (integer ids; trial t55: a --queries file
    deleted, exit 0)."""
    from ltr.io.qidmap import qid_map_path

    if args.out in (None, "-"):
        return
    side = os.path.abspath(qid_map_path(args.out))
    for flag, path in (("--save-run", args.save_run), ("--qrels-out", args.qrels_out),
                       ("--topics-out", args.topics_out)):
        if path not in (None, "-") and os.path.abspath(path) == side:
            raise UsageError(f"{flag} {path}: the name of the query-id map written beside --out {args.out} (its "
                             "LETOR qids' original ids): give the output another name")
    if os.path.isdir(side) and not os.path.islink(side):  # (found once the LETOR file had replaced --out; t58)
        raise UsageError(f"--out {args.out}: {qid_map_path(args.out)}, where the query-id map beside it is written "
                         "(or removed, as a stale map), is a folder: move it, or give --out another name")
    given = input_named(side, inputs)
    if given is not None:
        raise UsageError(f"--out {args.out}: the query-id map written beside it (or removed there, as a stale map, "
                         f"where the query ids are integers), {qid_map_path(args.out)}, is an input of this command "
                         f"({given}): give --out another name")


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    import numpy as np

    from features.extraction import extract, qid_mapping
    from features.featureset import FeatureSet
    from features.pipeline import InputOptionError, check_feature_fields, load_inputs, load_or_build_index
    from features.retrieval import BM25Retriever
    from features.serve import score_spread
    from ltr.io import read_run, write_letor, write_qrels, write_run, write_topics
    from ltr.io.qidmap import qid_map_path, write_qid_map

    _check(args)
    progress = not args.quiet
    built_index, saved_index = index_roles(args.index)
    outputs = (args.out, args.save_run, args.qrels_out, args.topics_out, built_index)
    flags = ("--out", "--save-run", "--qrels-out", "--topics-out", "--index")
    read = collection_reads(args.collection)
    given = [args.queries, args.qrels, args.run, saved_index, *option_files(args.features, args.stopwords)]
    check_outputs(*outputs, inputs=[*given, *read], flags=flags)
    _refuse_the_qid_map_name(args, [*given, *read])
    check_feature_set_option(args.features)
    fs = FeatureSet.load(args.features)  # fail on a bad feature set before the slow steps
    first = _nonempty_run(args, read_run(args.run)) if args.run else None  # and on a malformed or empty run
    if first is not None and any(spec.scorer == "first_stage" for spec in fs.specs):  # the scores are a feature
        refuse_unholdable_scores(first, "--run", args.run)
    try:
        inputs = load_inputs(args.collection, queries=args.queries, qrels=args.qrels, doc_format=args.doc_format,
                             query_format=args.query_format, query_ids=args.query_ids,
                             qrels_format=args.qrels_format, errors=args.encoding_errors,
                             duplicates=args.duplicates, split=args.split, topic_fields=args.topic_fields)
    except InputOptionError as e:
        raise input_option_usage(e) from None
    read, folders = read_collection_files(inputs)  # a collection folder's files, now that it is read
    refuse_outputs_in(folders, outputs, flags)
    check_outputs(*outputs, inputs=[*given, *read], flags=flags)
    _refuse_the_qid_map_name(args, [*given, *read])
    if args.qrels_out and inputs.qrels is None:
        raise UsageError("--qrels-out: the collection has no judgments (pass --qrels)")
    inputs = _unpadded_judgments(args, inputs)
    queries = _judged_queries(args, inputs)
    mapping = qid_mapping(queries.qids)  # LETOR's integer qids: a map beside the file when they are not the ids
    mapped = any(str(v) != k for k, v in mapping.items())
    if args.out == "-" and mapped:
        raise UsageError("--out -: the query ids are not plain integers, so the LETOR file's qids are numbers "
                         "mapped to them by a file beside it (OUT.qids.tsv), which standard output has no place for: "
                         "give --out FILE (and compress it after, e.g. gzip FILE)")
    if args.run:
        candidates = _run_candidates(args, first, queries, inputs)
    fields = split_list(args.fields, "--fields") or None
    _check_fields(args, fields, inputs.docs)
    check_feature_fields(fs, inputs.docs, fields=fields)  # a field the index will lack: said before indexing
    index, built = load_or_build_index(args.index, inputs.docs, _analyzer(args), fields=fields, progress=progress)
    if args.index and not built:
        note(args, f"loaded the index {args.index}")
    recorded = (fs.recorded or {}).get("analyzer")
    if isinstance(recorded, dict):  # a description (a model's, a LETOR header's) records how its columns were made;
        # its analyzer was ignored without a word and the model then refused the file (trial t72)
        import logging

        from features.featureset import analyzer_differences

        try:
            differ = analyzer_differences(recorded, index.analyzer, (str(args.features), "the options"))
        except (TypeError, ValueError):
            differ = ["its analyzer settings cannot be read"]
        if differ:
            logging.getLogger("ltr.cli").warning(
                "%s records the analyzer its columns were computed with, and these options make another one (%s): "
                "the columns are computed with the options' (ltr rerank --model computes a model's features with "
                "the analyzer its sidecar records)", args.features, "; ".join(differ[:3]))
    if not args.run:
        preset = {**_BM25_DEFAULTS, **{k: v for k, v in _BM25_PRESETS[args.bm25_preset].items() if k in
                                       _BM25_DEFAULTS}}
        bm25 = {k: (v if getattr(args, k) is None else getattr(args, k)) for k, v in preset.items()}
        _check_bm25_field(args, index)
        retriever = BM25Retriever(index, field=bm25["bm25_field"], k1=bm25["bm25_k1"], b=bm25["bm25_b"],
                                  idf=bm25["bm25_idf"], k3=bm25["bm25_k3"], qtf_norm=bm25["bm25_qtf_norm"],
                                  doc_count=bm25["bm25_doc_count"])
        candidates = retriever.search(queries, k=args.topk or 100, n_jobs=args.n_jobs)
    data = extract(index, queries, candidates, fs, qrels=inputs.qrels, add_judged=args.add_judged,
                   collection=inputs.docs, on_unknown=args.on_unknown, progress=progress, n_jobs=args.n_jobs,
                   negative_labels=args.negative_labels)
    _note_caches(args, fs, index)
    # How the columns were computed, in the file's header: a model trained on it keeps it (ltr rerank reads it), with
    # the topic fields the queries were made of (None: the query file's own text, a TREC topic's title).
    # ... and the spread of the first stage's top score per query, which ltr rerank compares with the run it is
    # given (a model reading first_stage_score learnt that scale)
    data = replace(data, feature_set={**fs.to_dict(index), "topic_fields": list(args.topic_fields or []) or None,
                                      "first_stage_top_scores": score_spread(candidates),
                                      **({"qid_map": True} if mapped else {}),  # (its qids need OUT.qids.tsv)
                                      # (ltr cv / tune / compare warn: the judgments are in the candidates)
                                      **({"add_judged": True} if args.add_judged and inputs.qrels is not None
                                         else {})})
    side = qid_map_path(args.out)
    # Every output or none: a run interrupted or failing leaves the previous ones as a set (--save-run was written
    # as soon as the first stage ended, beside an --out from the run before). A map belongs to its LETOR file.
    writes = [*([(side, lambda p: write_qid_map(p, mapping))] if mapped else []),
              (args.out, lambda p: write_letor(p, data))]
    if args.save_run and not args.run:
        writes.append((args.save_run, lambda p: write_run(p, candidates)))
    if args.qrels_out:  # every judgment: trec_eval counts the relevant ones never ranked
        writes.append((args.qrels_out, lambda p: write_qrels(p, inputs.qrels)))
    if args.topics_out:
        writes.append((args.topics_out, lambda p: write_topics(p, dict(queries.items()))))
    from ltr.io.outputs import outputs_together

    # a map left by an earlier run on other queries would rename these: removed with the set's renames
    stale = () if mapped or not side.exists() else (side,)
    with outputs_together(*(path for path, _ in writes), remove=stale) as places:
        for (_, write), place in zip(writes, places):
            write(place)
    if mapped:
        note(args, f"query ids are not plain integers: LETOR qid -> collection id written to {side}")
    if not args.quiet:  # as every command's "wrote" line
        print(visible(f"wrote {args.out}: {data.n_queries} queries, {data.n_rows} rows, {data.n_features} "
                      f"feature{'s' if data.n_features != 1 else ''}, "
                      f"{int(np.sum(data.y > 0))} relevant rows"), file=sys.stderr)
    return 0
