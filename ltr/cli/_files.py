"""The files a command reads and writes: printing a result (table, JSON, CSV), checking outputs before anything runs
(never an input, never a folder), the inputs a command reads, and a run's duplicate documents."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ltr._json import strict_json
from ltr.cli._guard import UsageError, note

__all__ = [
    "check_doc_ids",
    "check_outputs",
    "collection_reads",
    "data_inputs",
    "emit",
    "index_roles",
    "input_named",
    "option_files",
    "read_collection_files",
    "refuse_outputs_in",
    "refuse_unholdable_scores",
    "teacher_inputs",
    "unique_run",
]


def emit(args, header: Sequence[str], rows: Sequence[Sequence], obj: Any, *, footer: str | None = None,
         to_stderr: bool = False) -> None:
    """Print a result as a table (with ``footer`` below), strict JSON (NaN -> null), or pure CSV (``footer`` on
    standard error, so that the CSV stays machine-readable); on standard error when an output of the command took
    standard output (``to_stderr``, from :func:`check_outputs`)."""
    from ltr._table import format_csv, format_table

    out = sys.stderr if to_stderr else sys.stdout
    fmt = getattr(args, "format", "table")
    if fmt == "json":
        print(json.dumps(strict_json(obj), indent=2, allow_nan=False), file=out)
    elif fmt == "csv":
        print(format_csv(header, rows), file=out)
        if footer:
            note(args, footer)
    else:
        print(format_table(header, rows), file=out)
        if footer:
            print(footer, file=out)


def check_doc_ids(path, flag: str, fix: str) -> None:
    """``flag`` writes a TREC run, which needs document ids: refuse a LETOR file whose first row carries none (a
    ``docid = X`` comment; LETOR files give every row one or none), before anything is read whole or trained
    (MSLR-WEB, Yahoo and Istella have none)."""
    from ltr.io.files import open_binary

    with open_binary(path, "LETOR file") as f:
        head = f.read(1 << 16).decode("utf-8-sig", errors="replace")  # a byte-order mark, as the reader takes it
    lines = re.split(r"(?<=\n)", head)
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), None)
    whole = first is not None and (first.endswith("\n") or len(head) < 1 << 16)  # a longer row: left to the reader
    if whole and not re.search(r"#.*\bdocid\s*[=:]\s*\S", first):
        raise UsageError(f"{flag} needs document ids, and {path} has none on its first row ('#docid = ...' "
                         f"comments, as LETOR 4.0 and ltr features write them): {fix}")


def check_outputs(*paths: str | os.PathLike | None, inputs: Sequence[str | os.PathLike | None] = (),
                  folders: Sequence[str | os.PathLike | None] = (), flags: Sequence[str] = ()) -> bool:
    """Check output paths before the work starts: refuse an output that is one of the command's input files
    (``inputs``) or any file under an input folder (``folders``: the inputs the command reads as folders; ``--out``
    naming the training data would replace it), standard output (``-``) given for two outputs, folders and
    unwritable places; create missing parent folders (so that a long job never ends by failing to write its
    result). A folder given where a file is read is left to the reader, which names it.

    ``flags`` name the options of ``paths``, in order (for the messages that refuse ``-``, a file given twice or a
    path that cannot be written).

    Returns whether an output is standard output: a command then prints its own table on standard error
    (:func:`emit`'s ``to_stderr``), so that what it pipes stays one document."""
    from ltr.exceptions import OutputPathError
    from ltr.io.outputs import check_output_path, stream_of

    for stream, said in (("stdout", "standard output"), ("stderr", "standard error")):
        # '-' and /dev/stdout are one stream: two documents written to it would come out mixed
        piped = [i for i, p in enumerate(paths) if p is not None and stream_of(p) == stream]
        if len(piped) > 1:
            named = " and ".join(f"{flags[i]} {paths[i]}" for i in piped) if len(flags) == len(paths) else \
                " and ".join(str(paths[i]) for i in piped)
            raise UsageError(f"{said} given twice ({named}): it holds one output; give the others file names")
    named = list(flags) if len(flags) == len(paths) else [None] * len(paths)
    outputs = [(p, f) for p, f in zip(paths, named) if p is not None and str(p) != "-"]
    read = _input_files(inputs, folders) if outputs else {}
    written: dict = {}
    for p, flag in outputs:
        key = _file_key(p)
        if key in read and not os.path.lexists(p) and _sidecar_name(read[key]):  # read from then on
            raise UsageError(f"{p}: the name of a sidecar the readers find beside this command's data "
                             f"({read[key]}): its data would be read with it from then on: give the output another "
                             "name")
        if key in read:
            raise UsageError(f"{p}: is also an input of this command ({read[key]}); writing it would replace it: "
                             "give the output another name")
        if key in written and os.fspath(p) != os.devnull:  # /dev/null twice: both outputs discarded, as asked
            seen, seen_flag = written[key]
            both = f"{seen_flag} {seen} and {flag} {p}" if seen_flag and flag else f"{seen} and {p}"
            raise UsageError(f"{p}: given for two outputs ({both}): give each its own name")
        written[key] = (str(p), flag)
        try:
            check_output_path(p)
        except OutputPathError as e:  # named by its option too, as a command has several ('adir: is a folder')
            if flag is None or e.path != str(p):
                raise
            raise OutputPathError(f"{e.path} ({flag})", e.reason) from None
    return any(p is not None and stream_of(p) == "stdout" for p in paths)


def input_named(path: str | os.PathLike, inputs: Sequence[str | os.PathLike | None] = ()) -> str | None:
    """The input (as given) that ``path`` names, or None: for a file a command writes beside an output, under a name
    of its own making (``OUT.qids.tsv``), which :func:`check_outputs` did not see."""
    return _input_files(inputs, ()).get(_file_key(path))


def data_inputs(args: argparse.Namespace, *paths: str | os.PathLike | None) -> list[str]:
    """LETOR files and what a reader reads beside them, for :func:`check_outputs`: the sidecars it would find
    (``.query``, ``.group``, ``.weight``), there or not (an output of such a name would be read as the data's
    weights or groups from then on), and those ``--query-file`` / ``--weight-file`` name."""
    from ltr.io.files import sidecar_stems
    from ltr.io.letor import QUERY_SUFFIXES, WEIGHT_SUFFIXES

    out = []
    for path in paths:
        if path is None:
            continue
        out.append(str(path))
        out += [str(stem) + suffix for stem in sidecar_stems(path) for suffix in QUERY_SUFFIXES + WEIGHT_SUFFIXES]
    for option in ("read_query_file", "read_weight_file"):
        value = getattr(args, option, None)
        if isinstance(value, (str, os.PathLike)) and str(value) != "auto":
            out.append(str(value))
    return out


def teacher_inputs(args: argparse.Namespace) -> list[str]:
    """A distillation's teacher files (``--teacher-scores``, ``--teacher-model`` and its sidecar), for
    :func:`check_outputs`: a student written over its teacher model replaced it, exit 0 (trial t53)."""
    from ltr.rankers.sidecar import meta_path

    out = [str(args.teacher_scores)] if getattr(args, "teacher_scores", None) else []
    model = getattr(args, "teacher_model", None)
    if model:
        out += [str(model), str(meta_path(model))]
    return out


def option_files(*values: str | None) -> list[str]:
    """The files among options that take a file or inline text (``--features FILE|IDS``, ``--feature-names
    @FILE``), for :func:`check_outputs`."""
    out = []
    for value in values:
        if value is None:
            continue
        value = str(value)
        path = value[1:] if value.startswith("@") else value
        if path and os.path.isfile(path):
            out.append(path)
    return out


def _sidecar_name(path: str) -> bool:
    from ltr.io.letor import QUERY_SUFFIXES, WEIGHT_SUFFIXES

    return str(path).endswith(tuple(QUERY_SUFFIXES + WEIGHT_SUFFIXES))


def collection_reads(collection: str | None) -> list[str]:
    """The inputs for :func:`check_outputs` before a collection is read: a collection file; a collection folder is
    left to :func:`read_collection_files`, once it is read (a folder in a known layout reads a few named files, and
    an output beside them is no input: the same command run again would find it there)."""
    if collection is None or Path(collection).is_dir():
        return []
    return [collection]


def read_collection_files(inputs) -> tuple[list[str], list[str]]:
    """``(inputs, folders)`` for :func:`check_outputs`: the files a collection's reading read
    (:class:`features.pipeline.CollectionInputs`: its documents, queries and judgments name their files), and the
    folder of a folder of document files, every file of which is read."""
    files, folders = [], []
    qrels = getattr(inputs, "qrels", None)
    for name in (getattr(inputs.docs, "name", None), getattr(inputs.queries, "name", None),
                 None if qrels is None else qrels.attrs.get("path")):
        if name:
            (folders if Path(name).is_dir() else files).append(str(name))
    return files, folders


def refuse_outputs_in(folders: Sequence[str], outputs: Sequence[str | None], flags: Sequence[str]) -> None:
    """Refuse an output inside a folder of document files (:func:`read_collection_files`), existing or not: every
    file there is read as documents, so the same command run again would read it as part of the collection. An
    index is exempt: the folder's reader knows and skips its own."""
    for folder in folders:
        root = Path(folder).resolve()
        for p, flag in zip(outputs, flags):
            if p is None or str(p) == "-" or flag == "--index":
                continue
            if root in Path(p).resolve().parents:
                raise UsageError(f"{flag} {p}: inside {folder}, a folder of document files, every one of which is "
                                 "read as the collection's documents: write it elsewhere")


def index_roles(index: str | None) -> tuple[str | None, str | None]:
    """``--index`` as ``(output, input)``: an index file that exists is only read (it may sit beside its collection,
    or in a read-only place), one that does not is built and saved there, an output like any other."""
    if index is None:
        return None, None
    if Path(index).is_dir():  # named by its option, a usage error as --features FOLDER is (trial t56)
        raise UsageError(f"--index {index}: is a folder, not an index file (one .npz file, saved there when built)")
    return (None, index) if Path(index).exists() else (index, None)


def _file_key(path: str | os.PathLike) -> tuple[int, int] | str | None:
    """What identifies a file: its device and inode when it exists (hard links and other spellings alike), else the
    resolved path; None for '-'."""
    if str(path) == "-":
        return None
    try:
        st = os.stat(path)
        return (st.st_dev, st.st_ino)
    except OSError:
        return str(Path(path).resolve())


def _input_files(inputs: Sequence[str | os.PathLike | None], folders: Sequence[str | os.PathLike | None]) -> dict:
    """``file key -> the input as given`` for the input files and the files under the input folders."""
    out: dict = {}
    for given in (*inputs, *folders):
        if given is None or str(given) == "-":
            continue
        p = Path(given)
        if p.is_dir() and given not in folders:
            continue  # a folder where a file is read: its reader says so
        files = [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else [p]
        for f in files:
            key = _file_key(f)
            if key is not None:
                out.setdefault(key, str(given) if f == p else f"{given}: {f.relative_to(p)}")
    return out


def unique_run(args: argparse.Namespace, run, source: str):
    """A run with each (query, document) once: a LETOR file listing a document twice in a query gave a run that
    trec_eval refuses; the higher-scored copy is kept (the run is ordered by score), ranks renumbered, a note says
    how many were dropped."""
    dup = run.duplicated(["qid", "docno"]).to_numpy()
    if not dup.any():
        return run
    first = run[dup].iloc[0]
    note(args, f"note: {source} lists {int(dup.sum())} document(s) more than once in a query (e.g. "
               f"{first['docno']!r} in query {first['qid']!r}): the run keeps each one's higher-scored copy")
    run = run[~dup].copy()
    run["rank"] = run.groupby("qid", sort=False).cumcount() + 1
    return run.reset_index(drop=True)


def run_query_ids(args: argparse.Namespace, qids, inputs, *, kept: str = "") -> dict[str, str]:
    """How the query ids of ``--run`` name ``inputs``' queries (:class:`features.pipeline.CollectionInputs`), for
    ``ltr features --run`` and ``ltr rerank`` alike: a run keyed by the ``.I`` ids of queries numbered by position
    is refused (:func:`features.pipeline.record_numbered_run`); ids with leading zeros where the queries have none
    (a TREC-1/2 run's ``051``) are matched, with a note. Returns ``{run id: query id}`` for those; ``kept`` ends
    the note (what the output does with the run's own ids)."""
    from features.pipeline import record_numbered_run
    from ltr.io.qidmap import padded_examples, padded_ids

    ids = set(map(str, qids))
    if (why := record_numbered_run(ids, inputs)) is not None:
        raise UsageError(f"--run {args.run}: {why}")
    padded = padded_ids(ids, set(inputs.queries.qids))
    if padded:
        note(args, f"{len(padded)} query id(s) of --run {args.run} with leading zeros matched to the queries "
                   f"numbered without them ({padded_examples(padded)}){kept}")
    return padded


def refuse_unholdable_scores(run, flag: str, path: str) -> None:
    """Refuse a first-stage run whose score a float32 feature cannot hold (beyond 3.4e38: inf in the LETOR file,
    which ltr train and ltr predict refuse, and in a reranked row), naming the file, query, document and score."""
    import numpy as np

    from ltr.io.scores import beyond_float32

    scores = run["score"].to_numpy(dtype=np.float64)
    over = beyond_float32(scores)
    if over.size:
        i = int(over[0])
        raise ValueError(f"{flag} {path}: query {run['qid'].iloc[i]}, document {run['docno'].iloc[i]}: score "
                         f"{float(scores[i])!r} is beyond float32's range ({over.size} such score(s)), which the "
                         "first_stage_score feature holds as float32: scale the run's scores")

