"""Readers and writers for LETOR / svmlight feature files and TREC run / qrels files."""

from ltr.io.letor import read_letor, read_query_file, write_letor, write_query_file
from ltr.io.trec import read_qrels, read_run, run_from_scores, write_qrels, write_run

__all__ = [
    "read_letor",
    "read_qrels",
    "read_query_file",
    "read_run",
    "run_from_scores",
    "write_letor",
    "write_qrels",
    "write_query_file",
    "write_run",
]
