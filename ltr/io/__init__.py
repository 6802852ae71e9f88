"""Readers and writers: LETOR / svmlight feature files and their sidecars, TREC runs, qrels and topics, score
files, the safe output writer every one of them uses, and the conversion of values to JSON's types
(:func:`python_values`, :func:`strict_json`) for the JSON files written.

Inputs are plain, gzip, bzip2 or xz, recognised by their first bytes (:mod:`ltr.io.files`); outputs are written
atomically, through symlinks, or directly to standard output (``-``), devices and pipes (:mod:`ltr.io.outputs`).
Reader options, and the fix each error names, are described once in :data:`READER_OPTIONS`.
"""

from ltr._json import python_values, strict_json
from ltr.io.files import is_gzip, open_binary, read_text
from ltr.io.letor import (
    read_letor,
    read_query_file,
    read_weight_file,
    write_letor,
    write_query_file,
    write_weight_file,
)
from ltr.io.outputs import STDOUT, atomic_write, check_output_path
from ltr.io.qrels import CRANFIELD_GAINS, QRELS_FORMATS, detect_qrels_format, read_qrels, write_qrels
from ltr.io.scores import read_scores, write_scores
from ltr.io.trec import read_run, run_from_scores, run_lines, write_run, write_topics
from ltr.reader_options import READER_OPTIONS, Placeholder, ReaderOption

__all__ = [
    "CRANFIELD_GAINS",
    "QRELS_FORMATS",
    "READER_OPTIONS",
    "STDOUT",
    "Placeholder",
    "ReaderOption",
    "atomic_write",
    "check_output_path",
    "detect_qrels_format",
    "is_gzip",
    "open_binary",
    "python_values",
    "read_letor",
    "read_qrels",
    "read_query_file",
    "read_run",
    "read_scores",
    "read_text",
    "read_weight_file",
    "run_from_scores",
    "run_lines",
    "strict_json",
    "write_letor",
    "write_qrels",
    "write_query_file",
    "write_run",
    "write_scores",
    "write_topics",
    "write_weight_file",
]
