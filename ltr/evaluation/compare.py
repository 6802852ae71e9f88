"""Compare systems query by query against a baseline: metrics, paired tests, corrections, win/tie/loss, effect sizes.

Entry points, all returning a :class:`Comparison`:

- :func:`compare`: per-query metric tables (pandas DataFrames indexed by qid), one per system;
- :func:`compare_runs`: TREC runs (frames or paths) and qrels, evaluated as trec_eval does;
- :func:`compare_models`: fitted rankers scored on one :class:`~ltr.RankingDataset`;
- :func:`compare_cv`: cross-validation results over the same folds (pooled test queries).

For each metric and each system other than the baseline, each requested test is run on the paired per-query
values; the p-values of one (metric, test) family - the ``m`` systems compared with the baseline - are adjusted
with Holm's or Bonferroni's method, and a difference is *significant* when the adjusted p-value is below
``alpha``. The first test named is the one the significance markers in the tables follow.

Query sets must agree: by default a system that lacks queries another has is an error that lists them;
``queries="intersection"`` evaluates on the common queries only and records what was dropped. A query that no
system has a value for in a metric (NaN: no relevant document, evaluated with ``no_relevant=nan``) is left out of
that metric's tests and means, as trec_eval and ranx leave it out, and recorded in :attr:`Comparison.left_out`; a
NaN in some systems only is an error.
"""

from __future__ import annotations

import collections
import functools
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ltr.evaluation import significance as S
from ltr.evaluation._predict import check_dataset, predict_dataset
from ltr.evaluation.results import Comparison, CVResult
from ltr.exceptions import ComparisonDataError, LabelRangeError, OptionError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Comparison", "check_qrels_labels", "compare", "compare_cv", "compare_models", "compare_runs", "run_name"]

DEFAULT_TESTS = ("t", "wilcoxon", "randomization")
CURVE_METRICS = tuple(f"ndcg@{k}" for k in range(1, 21))


def _canonical(metrics) -> list[str]:
    from ltr.metrics import parse_metrics

    return [p.name for p in parse_metrics(metrics)]


def _with_curve(compute, names: list[str]):
    """``compute(metrics)`` of ``names`` and the report's NDCG@1..20 curve, or of ``names`` alone where the curve
    cannot be computed: a grade the exp2 gain cannot hold refused MAP and P@5 for the curve nobody asked for (trial
    t58; the report then leaves the curve out)."""
    try:
        return compute(metrics=list(dict.fromkeys([*names, *CURVE_METRICS])))
    except LabelRangeError:
        return compute(metrics=names)  # (the metrics asked for are refused in their own words)


def _metric_columns(name: str, frame) -> pd.DataFrame:
    """A system's per-query frame indexed by its query ids as text, with its metric columns under their canonical
    names: trec_eval's ``ndcg_cut_10`` is ``ndcg@10``, as the metrics asked for are read (a frame of trec_eval's names
    was refused: 'no per-query values for ndcg@10 (it has ndcg_cut_10)'; trial t58).

    A frame of row numbers (an unnamed integer index: ``reset_index()``, ``pd.read_csv``, ``pd.concat`` of such
    frames, a sort) with a ``qid`` (or ``query_id``, in any case) column is indexed by that column, as
    ``evaluate_run`` and ``fuse`` read it; one of row numbers 0, 1, ... beside another column that is no metric and
    holds one value per row (``topic``) is refused, since its rows would be paired by position (both were: 30 wins
    of 30 came out 16/0/14; trial t61). A whole float id is its integer, ``1.0`` is '1', as
    :func:`ltr.metrics.trec.checked_ids` reads ids."""
    import pandas as pd

    from ltr.metrics import parse_metric
    from ltr.metrics.trec import COLUMN_ALIASES, checked_ids

    if not isinstance(frame, pd.DataFrame):
        how = "; pass series.to_frame(METRIC)" if isinstance(frame, pd.Series) else ""
        raise TypeError(f"system {name!r}: per-query values must be a pandas DataFrame indexed by qid, one column per "
                        f"metric, got {type(frame).__name__}{how}")
    index = frame.index
    numbered = index.nlevels == 1 and index.name is None and index.dtype.kind in "iu"  # row numbers, not ids
    column = next((c for c in frame.columns if isinstance(c, str) and c.strip().lower() in COLUMN_ALIASES["qid"]),
                  None)
    if column is not None and isinstance(index.name, str) and index.name.strip().lower() in COLUMN_ALIASES["qid"]:
        column = None  # indexed by its query ids already: a query_id column beside a qid index is left alone
    if column is not None:
        if not numbered:
            shown = index.name or (f"of {index.nlevels} levels" if index.nlevels > 1 else "unnamed")
            raise ValueError(f"system {name!r} has both an index ({shown}) and a {column!r} "
                             f"column: which are its query ids? drop the column, or set_index({column!r})")
        frame = frame.set_index(column)
    elif isinstance(index, pd.RangeIndex) and index.name is None and index.start == 0 and index.step == 1 and len(
            index) > 1:
        for c in frame.columns:
            if not _names_a_metric(c) and _one_value_per_row(frame[c]):
                raise ValueError(f"system {name!r} is indexed by row numbers 0..{len(index) - 1} beside the column "
                                 f"{c!r}, which is no metric: its rows would be paired by position, not by query; "
                                 f"if {c!r} holds the query ids, give the frame set_index({c!r}), else drop it")
    ids = checked_ids(pd.DataFrame({"qid": frame.index.to_numpy()}), f"system {name!r}'s per-query table", ["qid"],
                      shown={"qid": column or "index"}, need="every row needs a query id")["qid"]
    frame = frame.set_axis(pd.Index(ids.astype(str).to_numpy(), name=frame.index.name), axis=0)
    rename, seen = {}, {}
    for c in frame.columns:
        try:
            canonical = parse_metric(str(c)).name
        except ValueError:
            continue  # (not a metric: left as it is)
        if canonical in seen:  # (the first of the two was taken, silently: review of trial t58)
            raise ValueError(f"system {name!r} has two columns of {canonical}, {seen[canonical]!r} and {c!r}: "
                             "keep one")
        seen[canonical] = c
        if canonical != c:
            rename[c] = canonical
    return frame.rename(columns=rename) if rename else frame


def _one_value_per_row(values) -> bool:
    try:
        return bool(values.is_unique)
    except TypeError:  # (lists: unhashable, so no id)
        return False


def _names_a_metric(column) -> bool:
    from ltr.metrics import parse_metric

    try:
        parse_metric(str(column))
    except ValueError:
        return False
    return True


def _align(frames: Mapping[str, pd.DataFrame], queries: str) -> tuple[list[str], dict[str, list[str]]]:
    names = list(frames)
    index = {n: [str(q) for q in frames[n].index] for n in names}
    for n in names:
        seen: set[str] = set()
        dup = [q for q in index[n] if q in seen or seen.add(q)]
        if dup:
            raise ValueError(f"system {n!r} has query {dup[0]!r} more than once in its per-query table")
    sets = {n: set(index[n]) for n in names}
    common = set.intersection(*sets.values())
    union = set.union(*sets.values())
    if queries not in ("same", "intersection"):
        raise ValueError(f"queries must be 'same' or 'intersection', got {queries!r}")
    dropped = {n: sorted(sets[n] - common, key=_qkey) for n in names}
    if not common and union:  # (--intersection or -c would not help: trial t67 compared MQ2008 with Cranfield)
        sizes = ", ".join(f"{n!r} {len(sets[n])}" for n in names)
        raise ComparisonDataError(f"the systems share no query ({sizes}): they were evaluated on different data, which "
                                  "a paired comparison cannot pair; compare systems evaluated on the same queries")
    if common != union and queries == "same":
        lines = []
        for n in names:
            missing = sorted(union - sets[n], key=_qkey)
            if missing:
                shown = ", ".join(missing[:10]) + (f", ... ({len(missing)} in all)" if len(missing) > 10 else "")
                lines.append(f"{n!r} lacks {len(missing)} of them: {shown}")
        head = (f"the systems were evaluated on different queries ({len(common)} in common, {len(union)} in all): "
                + "; ".join(lines))
        tail = "to compare on the common queries only, or, for runs judged by qrels, {} to score a query a run lacks 0"
        raise ComparisonDataError(
            f"{head}. Pass queries='intersection' {tail.format('compare_runs(..., complete=True)')}, as trec_eval -c "
            "does",
            cli=f"{head}. Give --intersection {tail.format('-c (--complete)')}, as trec_eval -c does")
    order = [q for q in index[names[0]] if q in common]
    return order, {n: d for n, d in dropped.items() if d}


def _qkey(q: str):
    return (0, int(q), q) if q.lstrip("-").isdigit() else (1, 0, q)


def compare(
    per_query: Mapping[str, pd.DataFrame],
    baseline: str | None = None,
    *,
    metrics: str | Sequence[str] | None = None,
    tests: Sequence[str] = DEFAULT_TESTS,
    correction: str = "holm",
    alpha: float = 0.05,
    n_permutations: int = 10_000,
    seed: int = 0,
    queries: str = "same",
) -> Comparison:
    """Compare systems from their per-query metric tables.

    Parameters
    ----------
    per_query : mapping of str to pandas.DataFrame
        System name -> a frame indexed by qid with one column per metric (what
        :func:`ltr.metrics.evaluate_run_per_query` returns). Frames that also hold ``ndcg@1`` .. ``ndcg@20`` give
        NDCG@k curves.
    baseline : str, optional
        The system the others are tested against (default: the first).
    metrics : str or sequence of str, optional
        Default: the first frame's columns that name metrics (others, a run's name, are left out); when it holds a
        whole curve (``ndcg@1`` .. ``ndcg@20``), those
        columns are the curve's and left out (a frame of ``ndcg@10`` and ``map`` compares both).
    tests : sequence of str, default=("t", "wilcoxon", "randomization")
        Paired tests, see :data:`ltr.evaluation.significance.TESTS`; the first drives the markers.
    correction : {"holm", "bonferroni", "none"}, default="holm"
        Applied per (metric, test) over the systems compared with the baseline.
    alpha : float, default=0.05
    n_permutations : int, default=10000
        For the randomisation test (exact enumeration when ``2**n_queries`` is not larger).
    seed : int, default=0
        For the randomisation test.
    queries : {"same", "intersection"}, default="same"
        Refuse systems with different query sets (listing the missing queries), or keep the common ones.

    Examples
    --------
    >>> import pandas as pd
    >>> base = pd.DataFrame({"map": [0.5, 0.5, 0.5, 0.5]}, index=["1", "2", "3", "4"])
    >>> new = pd.DataFrame({"map": [0.6, 0.7, 0.9, 0.5]}, index=["1", "2", "3", "4"])
    >>> c = compare({"bm25": base, "ltr": new}, tests=["wilcoxon"])
    >>> r = c.row("ltr", "map")
    >>> round(r["delta"], 4), (r["wins"], r["ties"], r["losses"]), r["tests"]["wilcoxon"]["pvalue"]
    (0.175, (3, 1, 0), 0.25)
    """
    if not isinstance(per_query, Mapping):
        raise TypeError(f"per_query must be a mapping of system names to per-query frames, got "
                        f"{type(per_query).__name__}")
    if not per_query:
        raise ValueError("compare needs at least one system")
    names = list(per_query)
    if len(set(names)) != len(names):
        raise ValueError(f"system names must be unique, got {names}")
    per_query = {n: _metric_columns(n, frame) for n, frame in per_query.items()}
    baseline = names[0] if baseline is None else baseline
    if baseline not in per_query:
        raise OptionError(f"baseline {baseline!r} is not one of the systems {names}",
                          cli=f"--baseline {baseline!r} is not one of the systems {names}")
    if isinstance(tests, str):  # one test by name (its letters were read as tests: 'unknown test w')
        tests = [tests]
    if not tests:
        raise ValueError("name at least one test, e.g. tests=['t']")
    canon_tests = []
    for t in tests:
        name = S.TESTS.get(str(t).lower())
        if name is None:
            raise ValueError(f"unknown test {t!r}; choose from {sorted(set(S.TESTS.values()))}")
        if name not in canon_tests:
            canon_tests.append(name)
    if correction not in S.CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; choose one of {list(S.CORRECTIONS)}")
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.number)) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    first = per_query[names[0]]
    if metrics is None:
        curve = set(CURVE_METRICS) <= set(first.columns)  # a curve's columns: a frame with ndcg@10 alone keeps it
        named = [c for c in first.columns if _names_a_metric(c)]  # a 'run' or 'n_docs' column is none (trial t61)
        metrics = [c for c in named if not (curve and c in CURVE_METRICS)] or named or list(first.columns)
    metrics = _canonical(metrics)
    for n in names:
        missing = [m for m in metrics if m not in per_query[n].columns]
        if missing:
            columns = [str(c) for c in per_query[n].columns]
            curve = [c for c in columns if c in CURVE_METRICS]
            have = [c for c in columns if c not in CURVE_METRICS][:8] + (
                [", ".join(curve) if len(curve) < 4 else f"{curve[0]} .. {curve[-1]}"] if curve else [])
            said = (f"system {n!r} has no per-query values for {missing} (it has {', '.join(have)}); a "
                    "cross-validation result is judged on any metric by its out-of-fold run against the qrels: ")
            raise OptionError(said + "compare_runs(..., qrels)", cli=said + "ltr compare --qrels QRELS")
    qids, dropped = _align(per_query, queries)
    if len(qids) < 2:
        raise ValueError(
            f"only {len(qids)} query in common between the systems; a paired significance test needs at least two"
            if qids else "no query in common between the systems; a paired significance test needs at least two")
    frames = {n: per_query[n].set_axis(per_query[n].index.astype(str), axis=0) for n in names}  # never mutate
    values = {n: {m: frames[n].loc[qids, m].to_numpy(dtype=np.float64) for m in metrics} for n in names}
    for n in names:  # (an infinite value made every test's p NaN, refused as 'p-values must lie in [0, 1]')
        for m in metrics:
            inf = np.isinf(values[n][m])
            if inf.any():
                raise ValueError(f"system {n!r} has the value {values[n][m][inf][0]} for {m} on query "
                                 f"{qids[int(np.flatnonzero(inf)[0])]!r}: a metric's value is finite")
    left_out = _without_values(values, metrics, qids)
    others = [n for n in names if n != baseline]
    rows: list[dict[str, Any]] = []
    for m in metrics:
        keep = ~np.isnan(values[baseline][m])  # the same queries in every system (checked above)
        if keep.sum() < 2:
            raise ValueError(f"only {int(keep.sum())} query has a {m} value in every system (the others have no "
                             "relevant document, so no value); a paired significance test needs at least two")
        b = values[baseline][m][keep]
        block = []
        for n in others:
            a = values[n][m][keep]
            w, t, l = S.win_tie_loss(a, b)
            mean_a, mean_b = float(a.mean()), float(b.mean())
            row = {
                "system": n, "metric": m, "mean": mean_a, "baseline_mean": mean_b, "delta": mean_a - mean_b,
                "relative": (mean_a - mean_b) / mean_b if mean_b != 0 else math.nan,
                "wins": w, "ties": t, "losses": l, "effect_size": S.effect_size(a, b), "tests": {},
            }
            for test in canon_tests:
                r = S.paired_test(a, b, test, n_permutations=n_permutations, seed=seed)
                row["tests"][test] = {"statistic": r.statistic, "pvalue": r.pvalue}
            block.append(row)
        for test in canon_tests:
            if not block:
                break
            adjusted = S.correct([r["tests"][test]["pvalue"] for r in block], correction)
            for r, p in zip(block, adjusted):
                r["tests"][test]["pvalue_adjusted"] = float(p)
                r["tests"][test]["significant"] = bool(p < alpha)
        rows.extend(block)
    curves = None
    if all(all(c in frames[n].columns for c in CURVE_METRICS) for n in names):
        curves = {n: [float(frames[n].loc[qids, c].mean()) for c in CURVE_METRICS] for n in names}
    return Comparison(names, baseline, metrics, qids, values, rows, canon_tests, correction, float(alpha),
                      int(n_permutations), int(seed), dropped, curves, left_out=left_out)


def _without_values(values: Mapping[str, Mapping[str, np.ndarray]], metrics: Sequence[str],
                    qids: Sequence[str]) -> dict[str, list[str]]:
    """Per metric, the queries that no system has a value for, to leave out of that metric's tests and means.

    A NaN comes from the judgments (a query without a relevant document, evaluated with ``no_relevant=nan``), so it
    falls on the same queries in every system; such queries are left out, as trec_eval and ranx leave them out of
    their means. A NaN in some systems only means they were evaluated differently: an error naming the fix.
    """
    names = list(values)
    left_out: dict[str, list[str]] = {}
    for m in metrics:
        nan = np.array([np.isnan(values[n][m]) for n in names])  # systems x queries
        everywhere = nan.all(axis=0)
        partly = nan.any(axis=0) & ~everywhere
        if partly.any():
            j = int(np.flatnonzero(partly)[0])
            without = [n for i, n in enumerate(names) if nan[i, j]]
            with_value = [n for i, n in enumerate(names) if not nan[i, j]]
            raise ValueError(
                f"system {without[0]!r} has no {m} value (NaN) for query {qids[j]!r} but {with_value[0]!r} has one "
                f"({int(partly.sum())} such queries): the systems scored queries without a relevant document "
                "differently; re-run them with the same no_relevant (ltr cv --no-relevant, ltr compare "
                "--no-relevant), or compare their runs on --qrels"
            )
        if everywhere.any():
            left_out[m] = [qids[j] for j in np.flatnonzero(everywhere)]
    return left_out


# -- runs ---------------------------------------------------------------------------------------------------------
def check_qrels_labels(qrels: pd.DataFrame, labels: Sequence[int] | None = None, *, what: str = "qrels") -> None:
    """Refuse relevance labels outside a declared scale.

    With ``labels=None`` nothing is refused: every integer grade counts as trec_eval counts it, a negative one (the
    TREC Web track's ``-2`` for spam, a ``-1``) as judged non-relevant with no gain (and left out of bpref's judged
    documents), so that a comparison's per-query values are those of :func:`ltr.metrics.evaluate_run` and
    ``ltr evaluate`` on the same files. Declaring the scale (e.g. ``[0, 1, 2]``) catches a grade the judgments
    should not hold: a 3, or a -2 where the scale has none.

    Raises
    ------
    ComparisonDataError
        Naming the grades outside the scale, how many judgments carry each, and the first one: its file and line
        (``qrels.attrs["path"]``, which :func:`ltr.io.read_qrels` sets; the line where the file is in TREC's
        layout), query, document and token.
    """
    if labels is None:
        return
    rel = np.asarray(qrels["rel"])
    allowed = np.asarray(sorted({int(v) for v in labels}))
    bad = ~np.isin(rel, allowed)
    if not bad.any():
        return
    vals, counts = np.unique(rel[bad], return_counts=True)
    i = int(np.flatnonzero(bad)[0])
    qid, docno, token = str(qrels["qid"].iat[i]), str(qrels["docno"].iat[i]), f"{rel[i]:g}"
    path = qrels.attrs.get("path")
    line = _judgment_line(path, qid, docno)
    where = f"{what}: " if path is None else f"{path}:{line}: " if line is not None else f"{path}: "
    listing = ", ".join(f"{v:g} ({c} judgment{'s' if c != 1 else ''})" for v, c in zip(vals.astype(float), counts))
    head = (f"{where}grades outside the declared scale {allowed.tolist()}: {listing}; the first at query {qid!r}, "
            f"document {docno!r} (token {token!r}); add them to")
    tail = "to take every integer grade as trec_eval does (a negative one is non-relevant)"
    raise ComparisonDataError(f"{head} labels=, or pass labels=None {tail}",
                              cli=f"{head} --labels, or leave --labels out {tail}")


def _judgment_line(path: str | None, qid: str, docno: str) -> int | None:
    """The line of the qrels file ``path`` that judges ``docno`` for ``qid``, where the file is in TREC's layout
    (``qid iter docno rel``: a run's first three fields, which :func:`ltr.io.run_lines` matches); None in another
    layout (whose third field is not the document) or for a file that cannot be read again: the message then names
    the file, query and document."""
    if path is None:
        return None
    import logging

    from ltr.io import detect_qrels_format, run_lines

    def said_when_read(record: logging.LogRecord) -> bool:  # the reader's note on a 'cran' name, given on reading
        return False

    reader_log = logging.getLogger("ltr.io.qrels")
    reader_log.addFilter(said_when_read)
    try:
        if detect_qrels_format(path) != "trec":
            return None
        lines = run_lines(path, qid, docno)
    except (OSError, ValueError):
        return None
    finally:
        reader_log.removeFilter(said_when_read)
    return lines[0] if lines else None


def _check_run(run: pd.DataFrame, name: str, path: str | os.PathLike | None = None) -> None:
    """A run that lists a document twice in a query is refused (trec_eval refuses it), named by the file's lines
    when the run was read from ``path``."""
    dup = run.duplicated(["qid", "docno"], keep=False)
    if dup.any():
        d = run[dup]
        counts = d.groupby(["qid", "docno"], sort=False).size()
        i = int(np.flatnonzero(run.duplicated(["qid", "docno"]).to_numpy())[0])  # the first line that repeats one
        q, doc = run["qid"].iat[i], run["docno"].iat[i]
        c = int(counts[(q, doc)])
        fix = "trec_eval refuses duplicates: keep one line per (query, document)"
        if path is not None:  # named by its lines, as the readers' errors are
            from ltr.exceptions import TrecFormatError
            from ltr.io import run_lines

            lines = run_lines(path, str(q), str(doc))
            if len(lines) >= 2:
                more = f"; {len(counts) - 1} more such document(s)" if len(counts) > 1 else ""
                raise TrecFormatError(f"query {q} lists document {doc} {c} times (first on line {lines[0]}){more}",
                                      str(path), lines[1], str(doc), hint=fix)
        raise ValueError(
            f"run {name!r} lists {len(counts)} document(s) more than once in a query, e.g. {doc!r} {c} times for "
            f"query {q!r}; {fix}"
        )


def compare_runs(
    runs: Mapping[str, pd.DataFrame | str | os.PathLike] | Sequence[str | os.PathLike],
    qrels: pd.DataFrame | str | os.PathLike,
    *,
    metrics: str | Sequence[str] = ("ndcg@10", "map"),
    baseline: str | None = None,
    labels: Sequence[int] | None = None,
    gain: str = "linear",
    no_relevant: float = 0.0,
    max_grade: float = 4.0,
    complete: bool = False,
    rel_threshold: float = 1.0,
    **kwargs: Any,
) -> Comparison:
    """Compare TREC runs on qrels (trec_eval's conventions: linear gain, ties by docno, unjudged = 0).

    Parameters
    ----------
    runs : mapping of name to run frame, path or CVResult, or a sequence of paths
        Paths are named by their file name without the ``.run``/``.txt``/``.gz`` suffixes. A
        :class:`~ltr.evaluation.CVResult` stands for its out-of-fold run (:meth:`CVResult.run`), so a
        cross-validated ranker is judged exactly as the runs beside it.
    qrels : DataFrame or path
    metrics : str or sequence of str, default=("ndcg@10", "map")
    baseline : str, optional
        Default: the first run.
    labels : sequence of int, optional
        A declared relevance scale: a grade outside it is refused (:func:`check_qrels_labels`). Default: every
        integer grade, a negative one non-relevant with no gain, as trec_eval and :func:`ltr.metrics.evaluate_run`
        count it.
    gain, no_relevant, max_grade
        Metric conventions (:mod:`ltr.metrics`; ``max_grade``: ERR's highest grade).
    complete : bool, default=False
        trec_eval's ``-c``: every judged query of the qrels counts for every run, a query a run lacks scoring as
        an empty ranking (0), so that a run is not compared only on the queries it answered.
    rel_threshold : float, default=1.0
        trec_eval's ``-l``: the lowest grade that counts as relevant in the binary metrics (MAP, P@k, MRR, ...).
    **kwargs
        Passed to :func:`compare` (tests, correction, alpha, n_permutations, seed, queries).

    Raises
    ------
    ValueError
        Duplicate documents in a run, grades outside a declared ``labels`` scale, query sets that differ (unless
        ``queries="intersection"``), fewer than two common queries.
    """
    from ltr.io import read_qrels, read_run
    from ltr.metrics import evaluate_run_per_query

    if not isinstance(runs, Mapping):
        runs = {run_name(p): p for p in runs}
        if len(runs) != len(set(runs)):
            raise ValueError("two runs have the same file name; pass a mapping of names to paths")
    if isinstance(qrels, (str, os.PathLike)):
        qrels = read_qrels(qrels)
    check_qrels_labels(qrels, labels)
    names = _canonical(metrics)
    cv = {name: run for name, run in runs.items() if isinstance(run, CVResult)}
    caveats = _check_same_data(cv, folds_only=True) if len(cv) > 1 else []  # (cut into other folds: say so)
    frames = {}
    for name, run in runs.items():
        path = None
        if isinstance(run, CVResult):  # its out-of-fold ranking, judged by the same qrels as every other run
            run = run.run()
        elif isinstance(run, (str, os.PathLike)):
            path, run = run, read_run(run)
        _check_run(run, name, path)
        frame = _with_curve(functools.partial(evaluate_run_per_query, qrels, run, gain=gain, no_relevant=no_relevant,
                                              max_grade=max_grade, complete=complete, rel_threshold=rel_threshold),
                            names)
        if frame.empty:
            if not len(run):  # (an empty file: said as fusion says it)
                raise ValueError(f"run {name!r}{f' ({path})' if path else ''} has no lines (blank and '#' lines only)")
            raise ValueError(f"run {name!r} has no query in common with the qrels")
        frames[name] = frame
    result = compare(frames, baseline, metrics=names, **kwargs)
    result.notes.extend(caveats)
    result.extra["conventions"] = {"gain": gain, "no_relevant": no_relevant, "source": "trec runs"}
    if max_grade != 4.0:
        result.extra["conventions"]["max_grade"] = float(max_grade)
    if complete:
        result.extra["conventions"]["complete"] = True
    if rel_threshold != 1.0:
        result.extra["conventions"]["rel_threshold"] = float(rel_threshold)
    return result


def run_name(path: str | os.PathLike) -> str:
    """A system name from a run's path: the file name without ``.gz`` (``.bz2``, ``.xz``), ``.run``, ``.txt``,
    ``.trec``.

    Examples
    --------
    >>> run_name("runs/bm25.run.gz")
    'bm25'
    """
    name = Path(path).name
    for suffix in (".gz", ".bz2", ".xz", ".run", ".txt", ".trec"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    # a file name's bytes that are not UTF-8 (Python's lone surrogates for them) as U+FFFD: a name is written into
    # JSON results and drawn by reports, which take valid text only
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# -- models and CV results ----------------------------------------------------------------------------------------
def compare_models(
    models: Mapping[str, Any],
    data,
    *,
    metrics: str | Sequence[str] = ("ndcg@10", "map"),
    baseline: str | None = None,
    gain: str = "exp2",
    no_relevant: float = 0.0,
    convention: str = "default",
    **kwargs: Any,
) -> Comparison:
    """Compare fitted rankers on one :class:`~ltr.RankingDataset` (each ``predict``-s the whole dataset: ltrkit's
    rankers, :class:`ltr.Ranker` and its subclasses, take the dataset; any other model, LightGBM's, XGBoost's,
    scikit-learn's estimators or a class of one's own, its rows ``data.X``).

    ``models`` is a mapping of system names to fitted models (a list is refused: the names head the table).

    ``gain``, ``no_relevant`` and ``convention`` are the metric conventions (:mod:`ltr.metrics`); ``**kwargs`` go
    to :func:`compare`.

    Examples
    --------
    >>> from ltr import Ranker, make_ranking
    >>> d = make_ranking(20, 8, 4, random_state=0)
    >>> a = Ranker(n_estimators=3, min_child_samples=2, n_jobs=1).fit(d)
    >>> b = Ranker(n_estimators=20, min_child_samples=2, n_jobs=1).fit(d)
    >>> compare_models({"3 rounds": a, "20 rounds": b}, d, tests=["t"]).qids[:3]
    ['1', '2', '3']
    """
    import pandas as pd

    from ltr.metrics import evaluate_per_query

    if not isinstance(models, Mapping):
        raise TypeError(f"models must be a mapping of system names to fitted models, got {type(models).__name__}: "
                        "e.g. {'bm25': model_a, 'lambdamart': model_b}")
    check_dataset(data)
    names = _canonical(metrics)
    qids = pd.Index([str(q) for q in data.query_ids], name="qid")
    frames = {}
    for name, model in models.items():
        scores = predict_dataset(model, data, f"models[{name!r}]")
        per = _with_curve(functools.partial(evaluate_per_query, data.y, scores, group_ptr=data.group_ptr, gain=gain,
                                            no_relevant=no_relevant, convention=convention), names)
        frames[name] = pd.DataFrame(per, index=qids)
    result = compare(frames, baseline, metrics=names, **kwargs)
    result.extra["conventions"] = {"gain": gain, "no_relevant": no_relevant, "convention": convention,
                                   "source": "models"}
    return result


def _check_same_data(results: Mapping[str, CVResult], folds_only: bool = False) -> list[str]:
    """Refuse CV results whose shared queries were tested on other documents or labels (each fold records its test
    queries' row counts and label counts), and warn when they were cut into other folds: pairing by query then
    credits the systems with the difference of their training sets (trial t48: the same model on the same data,
    2 folds against 10, came out 'significant', p 0.009; random labels against the real ones, p 0.005, unsaid).
    Returns the warnings' words, which the comparison keeps (:attr:`Comparison.notes`). ``folds_only``: the folds
    alone, for results judged by one qrels file as runs (:func:`compare_runs`), where their own labels are moot."""
    import warnings

    caveats = []
    names = list(results)
    fold_of, sizes, labels, judged, paired = {}, {}, {}, {}, {}
    for n, r in results.items():
        pooled, k = r.pooled_qids(), 0
        fold_of[n], sizes[n], labels[n], judged[n], paired[n] = {}, {}, [], {}, {}
        for i, f in enumerate(r.folds):
            ids = pooled[k:k + len(f.qids)]
            k += len(f.qids)
            fold_of[n].update(dict.fromkeys(ids, i))
            if len(f.test_sizes) == len(ids):
                sizes[n].update(zip(ids, f.test_sizes))
            if len(f.test_label_digests) == len(ids):  # (results written before they were recorded: none)
                judged[n].update(zip(ids, f.test_label_digests))
            if len(f.test_judgment_digests) == len(ids):  # (data without document ids: none)
                paired[n].update(zip(ids, f.test_judgment_digests))
            labels[n].append((frozenset(ids), {str(g): int(c) for g, c in f.test_labels.items()}))
    first = names[0]
    for other in names[1:]:
        common = [q for q in fold_of[first] if q in fold_of[other]]
        odd = next((q for q in common if q in sizes[first] and q in sizes[other]
                    and sizes[first][q] != sizes[other][q]), None)
        if folds_only:
            odd = None
        if odd is not None:
            said = (f"the CV results were tested on other documents: query {odd} has {sizes[first][odd]} rows in "
                    f"{first!r} and {sizes[other][odd]} in {other!r}; compare systems over the same data (or their "
                    "runs against one judgment file: ")
            raise ComparisonDataError(said + "compare_runs)", cli=said + "ltr compare --qrels)")
        by_queries = {q: c for q, c in labels[other]}
        for queries, counts in labels[first]:
            theirs = by_queries.get(queries)
            if theirs is not None and counts and theirs and theirs != counts and not folds_only:  # (None: unknown)
                shown = ", ".join(sorted(queries)[:3]) + (", ..." if len(queries) > 3 else "")
                said = (f"the CV results were tested on other labels: the fold of queries {shown} has labels "
                        f"{counts} in {first!r} and {theirs} in {other!r}; compare systems over the same data (or "
                        "their runs against one judgment file: ")
                raise ComparisonDataError(said + "compare_runs)", cli=said + "ltr compare --qrels)")
        def differs(q, a=first, b=other) -> bool:  # by (document, label) where both know the documents
            if q in paired[a] and q in paired[b]:
                return paired[a][q] != paired[b][q]
            return q in judged[a] and q in judged[b] and judged[a][q] != judged[b][q]

        odd = None if folds_only else next((q for q in common if differs(q)), None)
        if odd is not None:  # per query, whatever the folds (their label counts are compared fold by fold only)
            said = (f"the CV results were tested on other labels: query {odd}'s documents are judged otherwise in "
                    f"{first!r} and {other!r}; compare systems over the same data (or their runs against one "
                    "judgment file: ")
            raise ComparisonDataError(said + "compare_runs)", cli=said + "ltr compare --qrels)")
        if {frozenset(q) for q, _ in labels[first]} == {frozenset(q) for q, _ in labels[other]}:
            continue
        recorded = all(c for n in (first, other) for _, c in labels[n])
        if recorded and set(fold_of[first]) == set(fold_of[other]) and not folds_only:  # the same totals
            total = [sum((collections.Counter(c) for _, c in labels[n]), collections.Counter()) for n in (first, other)]
            if total[0] != total[1]:
                raise ComparisonDataError(f"the CV results were tested on other labels: {dict(total[0])} in "
                                          f"{first!r}, {dict(total[1])} in {other!r}; compare systems over the same "
                                          "data")
        pairs = {(fold_of[first][q], fold_of[other][q]) for q in common}  # the same folds: one to one
        if len(pairs) != len({a for a, _ in pairs}) or len(pairs) != len({b for _, b in pairs}):
            said = (f"{first!r} and {other!r} were cut into other folds ({len(results[first].folds)} and "
                    f"{len(results[other].folds)} folds, the queries grouped otherwise): a per-query test then "
                    "credits the systems with the difference of their training sets")
            caveats.append(said)
            warnings.warn(f"{said}; cross-validate them over the same folds (ltr cv --split-seed, or one fold folder)",
                          UserWarning, stacklevel=3)
    return caveats


def compare_cv(results, baseline: str | None = None, *, metrics: str | Sequence[str] | None = None,
               **kwargs: Any) -> Comparison:
    """Compare :class:`~ltr.evaluation.CVResult` objects on their pooled per-query test values.

    ``results`` is a sequence (named by each result's ``name``) or a mapping of names to results; the folds must
    test the same queries. The means in the comparison weigh every query once (the pooled mean); a
    :meth:`CVResult.mean` averages the fold means instead (LETOR's convention), which differs when folds hold
    different numbers of queries. ``**kwargs`` go to :func:`compare`.
    """
    if not isinstance(results, Mapping):
        results = list(results)
        if not all(isinstance(r, CVResult) for r in results):
            raise TypeError("compare_cv takes CVResult objects (ltr.evaluation.cross_validate's results)")
        named = {r.name: r for r in results}
        if len(named) != len(results):
            raise ValueError("two CV results share a name; pass a mapping of distinct names")
        results = named
    if not results:
        raise ValueError("compare_cv needs at least one cross-validation result")
    metrics = metrics if metrics is not None else next(iter(results.values())).metrics
    from ltr.metrics import parse_metrics

    parsed = parse_metrics([metrics] if isinstance(metrics, str) else metrics)
    with_err = any(p.spec.name == "err" for p in parsed)
    with_gain = any(p.spec.name in ("ndcg", "dcg", "err") for p in parsed)  # (MAP, P@k, MRR ignore the gain)
    conventions = {name: {k: v for k, v in (r.settings.get("metric_conventions") or {}).items()
                          if (with_err or k != "max_grade") and (with_gain or k != "gain")}  # (ERR's grade: ERR's)
                   for name, r in results.items()}
    if len({repr(sorted(c.items())) for c in conventions.values()}) > 1:
        listing = "; ".join(f"{n}: {({'convention': 'default', **c})}" for n, c in conventions.items())
        raise ValueError(f"the CV results were evaluated with different metric conventions ({listing}); re-run "
                         "them with the same convention, gain, no_relevant and max_grade (ltr cv --convention, "
                         "--gain, --no-relevant, --max-grade)")
    caveats = _check_same_data(results)
    frames = {name: r.per_query() for name, r in results.items()}
    result = compare(frames, baseline, metrics=metrics, **kwargs)
    result.notes.extend(caveats)
    # The CV curve is the mean over folds of each fold's mean, not a per-query mean: take it from the results.
    result.curves = {n: r.curve() for n, r in results.items()}
    result.extra["cv"] = {n: r.to_dict() for n, r in results.items()}
    result.extra["datasets"] = next(iter(results.values())).datasets
    result.extra["conventions"] = {**next(iter(conventions.values())), "source": "cv results"}
    return result
