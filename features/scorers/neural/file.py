"""Neural scores computed elsewhere, as a feature: a TREC run or a ``qid<TAB>docid<TAB>score`` file joined onto the
candidates.

Any model's scores become a feature this way (a monoT5 or ColBERT run, a hosted re-ranker's output). The file is
read whole; ids are compared as strings, exactly as the collection spells them.

- ``format``: ``"trec"`` (``qid Q0 docno rank score tag``, whitespace-separated), ``"tsv"`` (three tab-separated
  fields) or ``"auto"`` (by the first non-empty line). gzip is recognised by its first bytes.
- A score must be a finite number; NaN or infinity is an error naming the file, line, query and document. A
  (query, document) pair given twice is an error naming both lines.
- A file that scores none of the candidates is an error when it is empty or when its scores are of the extracted
  queries (their documents spelled otherwise): a column of fill values would carry nothing. A file of other queries
  only (the training split's scores while the dev split is extracted) is filled and said, as below.
- A candidate without a score (``missing="fill"``, default) gets ``fill`` and a 1 in the indicator column
  ``<name>_missing`` (0 for scored candidates); how many were filled is logged (a warning) and counted in
  :attr:`NeuralFile.report`. ``missing="error"`` makes it an error (and drops the then constant indicator).
- Scores that match no candidate are never dropped silently: they are counted by cause (a query not among the
  extracted ones, a document not in the collection, a document of the collection that is not a candidate of that
  query), logged (a warning) and kept in :attr:`NeuralFile.report`; ``unmatched="error"`` makes them an error.
  Served a few queries at a time (``ltr rerank``, :class:`features.serve.Reranker`), a file of a deeper run than the
  rerank depth has such scores at every call: the warning is given once per scorer, then logged at debug level;
  so is the count of candidates filled (a file that does not cover every candidate a service is asked about).

In a feature-set file (``ltr features --features FS.toml``; a relative ``path`` is relative to the working
directory)::

    [[features]]
    scorer = "neural_file"
    path = "monot5.run"
    name = "monot5"        # columns monot5 and monot5_missing
    fill = 0.0
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from features.collections._base import split_lines
from features.errors import CollectionFormatError
from features.pairs import PairSet
from features.scorers._registry import Scorer, register
from ltr.io import read_text
from ltr.io.qidmap import padded_ids
from ltr.io.scores import RANKS_HINT, number, ranks_like

__all__ = ["FORMATS", "JoinReport", "NeuralFile", "ScoreTable", "read_score_table"]

log = logging.getLogger(__name__)

FORMATS = ("auto", "trec", "tsv")
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _beyond_float32(value: float) -> bool:
    """Whether ``value`` rounds to inf as float32 (numpy prints float32's largest as 3.4028235e+38, a little above
    its exact float64 value, and that rounds to the largest, not to inf)."""
    with np.errstate(over="ignore"):
        return bool(np.isinf(np.float32(value)))


@dataclass(frozen=True)
class ScoreTable:
    """The entries of a score file, in file order (``line``: 1-based line numbers)."""

    qid: tuple[str, ...]
    docno: tuple[str, ...]
    score: NDArray[np.float64]
    line: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.qid)


def _detect(first: str) -> str | None:
    if first.count("\t") == 2:
        return "tsv"
    if len(first.split()) >= 6:  # trec_eval ignores the fields after the run tag
        return "trec"
    return None


def read_score_table(path: str | os.PathLike, fmt: str = "auto") -> ScoreTable:
    """Read a TREC run or a ``qid<TAB>docid<TAB>score`` file (module docstring).

    Raises
    ------
    CollectionFormatError
        ``path:line:`` and the offending token: a malformed line, a score that is not a finite number (naming the
        query and document), a pair given twice.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "s.tsv")
    >>> _ = open(p, "w").write("1\\td1\\t0.5\\n1\\td2\\t-1.25\\n")
    >>> t = read_score_table(p)
    >>> t.qid, t.docno, t.score.tolist()
    (('1', '1'), ('d1', 'd2'), [0.5, -1.25])
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    text = read_text(path, error=CollectionFormatError)
    qids: list[str] = []
    docs: list[str] = []
    scores: list[float] = []
    lines: list[int] = []
    seen: dict[tuple[str, str], int] = {}
    for lineno, raw in enumerate(split_lines(text), 1):  # LF, CRLF, CR: line numbers as an editor shows them
        if not raw.strip() or raw.lstrip().startswith("#"):  # blank and comment lines, as trec_eval skips them
            continue
        if fmt == "auto":
            fmt = _detect(raw) or ""
            if not fmt:
                raise CollectionFormatError("neither a TREC run line (6 whitespace-separated columns) nor a "
                                            "qid<TAB>docid<TAB>score line", str(path), lineno, raw)
        if fmt == "tsv":
            toks = raw.rstrip("\r").split("\t")
            if len(toks) != 3:
                raise CollectionFormatError(f"expected qid<TAB>docid<TAB>score, got {len(toks)} tab-separated "
                                            "field(s)", str(path), lineno, raw)
            if not all(t.strip() for t in toks):  # (said '3 fields' where it expected 3: trial t67)
                empty = ("query id", "document id", "score")[next(i for i, t in enumerate(toks) if not t.strip())]
                raise CollectionFormatError(f"expected qid<TAB>docid<TAB>score, and the {empty} is empty",
                                            str(path), lineno, raw)
            q, d, s = (t.strip() for t in toks)
        else:
            toks = raw.split()
            if len(toks) < 6:
                raise CollectionFormatError(f"expected 6 whitespace-separated columns in a TREC run line (qid q0 "
                                            f"docno rank score tag), got {len(toks)}", str(path), lineno, raw)
            q, d, s = toks[0], toks[2], toks[4]
        try:
            value = number(s)
        except ValueError:
            from ltr.io.scores import HEADER_HINT, score_header

            raise CollectionFormatError(f"the score of query {q!r} document {d!r} is not a number"
                                        + (f"; {HEADER_HINT}" if not qids and score_header(s) else ""), str(path),
                                        lineno, s) from None
        if not np.isfinite(value):
            raise CollectionFormatError(f"the score of query {q!r} document {d!r} is not finite", str(path),
                                        lineno, s)
        if _beyond_float32(value):  # the feature files hold float32: it would be written as inf
            raise CollectionFormatError(f"the score of query {q!r} document {d!r} is beyond float32's range "
                                        f"(+-{_FLOAT32_MAX:.4g}), which LETOR feature values are written in",
                                        str(path), lineno, s)
        if (q, d) in seen:
            raise CollectionFormatError(f"query {q!r} document {d!r} has a score on line {seen[q, d]} already",
                                        str(path), lineno, d)
        seen[q, d] = lineno
        qids.append(q)
        docs.append(d)
        scores.append(value)
        lines.append(lineno)
    table = ScoreTable(tuple(qids), tuple(docs), np.array(scores, dtype=np.float64), np.array(lines, dtype=np.int64))
    if fmt == "tsv" and ranks_like(table.score, table.qid):  # (a TREC run has its ranks in a column of their own)
        log.warning("%s: %s", path, RANKS_HINT)
    lost = np.flatnonzero((table.score != 0) & (table.score.astype(np.float32) == 0))
    if lost.size:  # 1e-50 and 3e-50 were written as a tie of 0s, without a word (trial t61)
        i = int(lost[0])
        log.warning("%s: %d score(s) nearer 0 than float32's smallest (1.4e-45), which LETOR feature values are "
                    "written in, become 0 and tie with each other (the first: line %d, %r); a monotone transform, "
                    "such as the log of a probability, keeps their order", path, lost.size, int(table.line[i]),
                    float(table.score[i]))
    return table


@dataclass(frozen=True)
class JoinReport:
    """How a score file met the candidates (:attr:`NeuralFile.report`).

    Attributes
    ----------
    path : str
    n_pairs : int
        Candidates.
    n_filled : int
        Candidates without a score in the file (filled with ``fill``).
    n_entries : int
        Scores in the file.
    unknown_queries, unknown_docs, not_candidates : int
        Scores matching no candidate: their query is not among the extracted queries; their document is not in the
        collection; their document is in the collection but not a candidate of their query.
    """

    path: str
    n_pairs: int
    n_filled: int
    n_entries: int
    unknown_queries: int
    unknown_docs: int
    not_candidates: int

    @property
    def n_unmatched(self) -> int:
        """Scores matching no candidate."""
        return self.unknown_queries + self.unknown_docs + self.not_candidates


def _refuse_padded(path: str, table: ScoreTable, n_pairs: int, qids: Sequence[str]) -> None:
    """A file that matched none of ``n_pairs`` candidates because its query ids are ``qids`` with leading zeros, or
    without those ``qids`` have (not a file of other queries: the same queries, spelled apart) is an error, not a
    column of fill values."""
    padded = padded_ids(set(table.qid), set(qids))
    how = "with leading zeros"
    if not padded:  # the topics' 001 written as 1 (pandas' integer column: trial t67) is the same queries too
        padded = {j: q for q, j in padded_ids(set(qids), set(table.qid)).items()}
        how = "without their leading zeros"
    if not padded:  # pandas' float column (1.0) and a CSV writer's quotes ("1") spell them apart too (trial t66)
        padded, how = _respelled(set(table.qid), set(qids))
    if n_pairs and padded:
        spelled = min(padded.items())
        raise CollectionFormatError(
            f"none of its {len(table)} scores matches one of the {n_pairs} candidates: its query ids are the "
            f"topics' {how} ({spelled[0]!r} for {spelled[1]!r})", path,
            hint="ids are compared as strings, exactly as the topics and the collection spell them")


def _respelled(ids: set[str], ours: set[str]) -> tuple[dict[str, str], str]:
    """``({id: query id}, how)`` where every one of ``ids`` that is no query id is one in quotes (``"1"``) or, written
    as a number with a decimal part, one of the integer ids (``1.0``); ``({}, "")`` otherwise."""
    other = ids - ours
    quoted = {j: j[1:-1] for j in other if len(j) > 1 and j[0] == j[-1] and j[0] in "\"'"}
    if other and len(quoted) == len(other) and any(q in ours for q in quoted.values()):
        return {j: q for j, q in quoted.items() if q in ours}, "in quotes (as a CSV writer quotes them)"
    floats = {j: j.split(".")[0] for j in other if re.fullmatch(r"[0-9]+\.0+", j)}
    if other and len(floats) == len(other) and any(q in ours for q in floats.values()):
        return {j: q for j, q in floats.items() if q in ours}, "written as decimals (pandas' float column)"
    return {}, ""


@register
class NeuralFile(Scorer):
    """Scores from a file joined onto the candidates (module docstring); parameters ``path`` (required),
    ``format``, ``fill``, ``missing`` and ``unmatched``. Columns ``<name>`` and, with ``missing="fill"``,
    ``<name>_missing``."""

    name = "neural_file"
    per_field = False
    defaults = {"path": None, "format": "auto", "fill": 0.0, "missing": "fill", "unmatched": "warn"}

    def validate(self) -> None:
        p = self.params
        self._check(isinstance(p["path"], (str, os.PathLike)) and bool(str(p["path"])), "path",
                    "the score file (a TREC run or qid<TAB>docid<TAB>score lines)")
        self._check(Path(p["path"]).is_file(), "path", "an existing file")
        self._check(p["format"] in FORMATS, "format", f"one of {FORMATS}")
        self._check(isinstance(p["fill"], (int, float)) and not isinstance(p["fill"], bool)
                    and bool(np.isfinite(p["fill"])) and not _beyond_float32(p["fill"]), "fill",
                    "a finite number within float32's range")
        self._check(p["missing"] in ("fill", "error"), "missing", "'fill' or 'error'")
        self._refuse_given(p["missing"] == "error", "fill", "missing='error' fills nothing")
        self._check(p["unmatched"] in ("warn", "error"), "unmatched", "'warn' or 'error'")
        self.report: JoinReport | None = None
        self._table: tuple[tuple[int, ...], ScoreTable] | None = None
        self._served_unmatched = False  # the serving warnings given (module docstring)
        self._served_filled = False

    @property
    def outputs(self) -> tuple[str, ...]:
        return ("",) if self.params["missing"] == "error" else ("", "missing")

    def table(self) -> ScoreTable:
        """The file's entries (read once while the file is unchanged)."""
        path = Path(self.params["path"])
        st = path.stat()
        # the inode and change time too: a file replaced with one of the same size and time (cp -p, rsync -a,
        # touch -r) was served from the old table (trial t57), as the embedding cache's stamp knows
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
        if self._table is None or self._table[0] != stamp:
            self._table = (stamp, read_score_table(path, self.params["format"]))
        return self._table[1]

    def check_query_ids(self, candidates: Iterable[tuple[str, str]], qids: Sequence[str]) -> None:
        """Refuse the file, as :meth:`score` does, when none of its scores matches one of ``candidates`` (query id,
        document id) because its query ids are ``qids`` with leading zeros. For an extraction cut into parts
        (:mod:`features.distributed`), whose parts' :meth:`score` calls each see some of the queries only."""
        table = self.table()
        entries = set(zip(table.qid, table.docno))
        n_pairs = 0
        for pair in candidates:
            if pair in entries:
                return
            n_pairs += 1
        _refuse_padded(str(self.params["path"]), table, n_pairs, qids)

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        path = str(p["path"])
        if pairs.qids is None:
            raise ValueError(f"scorer {self.name!r} looks its scores up by query id, and none was given: pass qid= "
                             "to Reranker.rerank() or Reranker.features() (qids= to a PairSet built by hand)")
        table = self.table()
        at = {(q, d): i for i, (q, d) in enumerate(zip(table.qid, table.docno))}
        pair_qid = [pairs.qids[i] for i in pairs.pair_query]
        pair_doc = pairs.index.doc_ids[pairs.docs]
        found = np.fromiter((at.get((q, str(d)), -1) for q, d in zip(pair_qid, pair_doc)), dtype=np.int64,
                            count=pairs.n_pairs)
        missing = found < 0
        used = np.zeros(len(table), dtype=bool)
        used[found[~missing]] = True
        queries = set(pairs.qids)
        unused = np.flatnonzero(~used)
        bad_q = np.array([table.qid[i] not in queries for i in unused], dtype=bool)
        known = pairs.index.doc_index([table.docno[i] for i in unused]) >= 0
        self.report = JoinReport(path, pairs.n_pairs, int(missing.sum()), len(table), int(bad_q.sum()),
                                 int((~bad_q & ~known).sum()), int((~bad_q & known).sum()))
        r = self.report
        if r.n_filled == r.n_pairs and not pairs.some_queries:  # a part of the queries: see check_query_ids
            _refuse_padded(path, table, r.n_pairs, pairs.qids)
        unmatched = r.n_unmatched - (r.unknown_queries if pairs.some_queries else 0)
        if unmatched:
            first = unused[0]
            if pairs.some_queries:  # a service scores a few queries: the file's other queries are expected
                first = unused[~bad_q][0]
            causes = [] if pairs.some_queries else [f"{r.unknown_queries} name a query not extracted"]
            causes += [f"{r.unknown_docs} a document not in the collection",
                       f"{r.not_candidates} a document that is not a candidate of its query"]
            why = (f"({', '.join(causes)}; first: line {table.line[first]}, query {table.qid[first]!r} document "
                   f"{table.docno[first]!r})")
        only_other_queries = r.n_entries and r.unknown_queries == r.n_entries
        if r.n_pairs and r.n_filled == r.n_pairs and not pairs.some_queries and not only_other_queries:
            # a column of fill values carries nothing: an empty file (a scoring job that died), or scores of these
            # queries whose documents are spelled otherwise (a file of other queries only is filled and said)
            what = (f"{unmatched} of its scores match none {why}" if unmatched else
                    "the file has no scores (blank and '#' lines only)")
            raise CollectionFormatError(f"none of the {r.n_pairs} candidates has a score: {what}", path,
                                        hint="a column of fill values would carry nothing: check that the scoring "
                                             "finished and that its ids are the run's and the collection's")
        if unmatched:
            said = f"{unmatched} of {r.n_entries} scores match no candidate {why}"
            if p["unmatched"] == "error":
                raise CollectionFormatError(said, path, hint="set the scorer's parameter unmatched to 'warn' to count "
                                                             "them and go on")
            if not pairs.some_queries:
                log.warning("%s: %s", path, said)
            elif not self._served_unmatched:
                self._served_unmatched = True
                log.warning("%s: %s (said for the first query served only; later ones are logged at debug level)",
                            path, said)
            else:
                log.debug("%s: %s", path, said)
        if r.n_filled:
            j = int(np.flatnonzero(missing)[0])
            where = f"first: query {pair_qid[j]!r} document {str(pair_doc[j])!r}"
            if p["missing"] == "error":
                raise CollectionFormatError(f"{r.n_filled} of {r.n_pairs} candidates have no score ({where})", path,
                                            hint="set the scorer's parameter missing to 'fill' to fill them and flag "
                                                 "them in an indicator column")
            said = (f"{r.n_filled} of {r.n_pairs} candidates have no score ({where}): filled with "
                    f"{float(p['fill'])!r}, flagged in the indicator column")
            if not pairs.some_queries:
                log.warning("%s: %s", path, said)
            elif not self._served_filled:  # a service: at every call whose candidates the file misses
                self._served_filled = True
                log.warning("%s: %s (said for the first query served only; later ones are logged at debug level)",
                            path, said)
            else:
                log.debug("%s: %s", path, said)
        values = np.where(missing, float(p["fill"]), table.score[np.maximum(found, 0)] if len(table) else 0.0)
        if p["missing"] == "error":
            return values[:, None]
        return np.column_stack([values, missing.astype(np.float64)])
